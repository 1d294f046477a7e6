/*
 * test_judge.c - the packet pipeline, nfqct_judge(), without root: real
 * rulesets parsed from text, a real table, packets built byte by byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "nfqct/judge.h"
#include "nfqct/logfmt.h"
#include "nfqct/offload.h"
#include "nfqct/reject.h"
#include "unit.h"

#define T0 1000000ULL	/* an arbitrary start of the injected clock */

enum {
	NEW = NFQCT_CTSTATE_NEW,
	EST = NFQCT_CTSTATE_ESTABLISHED,
	INV = NFQCT_CTSTATE_INVALID,
	UNT = NFQCT_CTSTATE_UNTRACKED,
};

struct bench {
	struct nfqct_ct *ct;
	struct nfqct_loopback *lo;
	struct nfqct_ruleset *rs;
	struct nfqct_ct_stats st;
	struct nfqct_judge_ctx cx;
	struct nfqct_settings s;
};

static void bench_open(struct bench *b, const char *rules, uint32_t ct_max)
{
	memset(b, 0, sizeof(*b));
	unit_settings(&b->s);
	b->s.ct_max = ct_max;
	b->ct = nfqct_ct_create(&b->s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b->ct);
	CU_ASSERT_EQUAL_FATAL(nfqct_ruleset_parse("test.rules", rules, strlen(rules), 2, &b->rs, stderr), 0);
	b->lo = nfqct_loopback_create(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b->lo);
	b->cx = (struct nfqct_judge_ctx){ .ct = b->ct, .rs = b->rs, .s = &b->s, .st = &b->st,
					  .lo = b->lo, .worker = 0 };
}

static void bench_close(struct bench *b)
{
	nfqct_ct_destroy(b->ct);
	nfqct_loopback_destroy(b->lo);
	nfqct_ruleset_free(b->rs);
	rcu_quiescent_state();
}

/* Judge the bytes of @p as queued at @hook from @indev to @outdev with @mark, at @now. */
static struct nfqct_verdict judge_dev(struct bench *b, const struct pb *p, uint8_t hook,
				      uint32_t indev, uint32_t outdev, uint32_t mark, uint64_t now)
{
	struct nfqct_pkt pkt = {
		.data = p->b, .caplen = p->n, .len = p->n, .mark = mark, .hook = hook,
		.indev = indev, .outdev = outdev,
	};
	struct nfqct_verdict v;

	memset(&v, 0xa5, sizeof(v));	/* every field must be written */
	nfqct_judge(&b->cx, &pkt, now, &v);
	return v;
}

/* Judge the bytes of @p as queued at @hook with @mark, at @now. */
static struct nfqct_verdict judge(struct bench *b, const struct pb *p, uint8_t hook, uint32_t mark,
				  uint64_t now)
{
	return judge_dev(b, p, hook, 0, 0, mark, now);
}

static const char *rule_name(const struct bench *b, const struct nfqct_verdict *v)
{
	static char buf[64];
	const char *table = v->by == NFQCT_BY_RAW ? "raw" : "filter";

	if (nfqct_ruleset_ref_name(b->rs, table, &v->rule, buf, sizeof(buf)) < 0)
		return "(bad reference)";
	return buf;
}

static uint64_t rule_packets(const struct bench *b, const char *table, const char *chain, int i)
{
	uint64_t pk = 0, by = 0;

	CU_ASSERT_EQUAL(nfqct_ruleset_counters(b->rs, table, chain, i, NFQCT_RULES_ALL_WORKERS, &pk, &by), 0);
	return pk;
}

/* ---- order ---- */

static const char *forward_rules =
	"*raw\n"
	":PREROUTING ACCEPT\n"
	":OUTPUT ACCEPT\n"
	"-A PREROUTING -p udp --dport 9 -j DROP\n"
	"-A PREROUTING -p udp --dport 7 -j NOTRACK\n"
	"-A PREROUTING -p udp --dport 5 -j MARK --set-mark 0x5\n"
	"-A PREROUTING -p udp --dport 6 -j CT --zone 6\n"
	"-A PREROUTING -s 198.18.0.66 -j NOTRACK\n"
	"COMMIT\n"
	"*filter\n"
	":INPUT ACCEPT\n"
	":FORWARD DROP\n"
	":OUTPUT ACCEPT\n"
	":fw - [0:0]\n"
	"-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
	"-A FORWARD -m conntrack --ctstate ESTABLISHED,UNTRACKED -j ACCEPT\n"
	"-A FORWARD -j fw\n"
	"-A fw -m mark --mark 0x5 -j MARK --set-mark 0x7\n"
	"-A fw -p udp --dport 53 -j ACCEPT\n"
	"-A fw -p udp --dport 5 -j ACCEPT\n"
	"-A fw -p udp --dport 6 -j ACCEPT\n"
	"-A fw -p tcp -j ACCEPT\n"
	"COMMIT\n";

static void test_raw_drop_before_tracking(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, forward_rules, 0);
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 9, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.by, NFQCT_BY_RAW);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "PREROUTING#1");
	CU_ASSERT_EQUAL(v.ctstate, INV);
	CU_ASSERT_PTR_NULL(v.conn);
	CU_ASSERT_FALSE(v.confirmed);
	CU_ASSERT_FALSE(v.set_mark);
	/* conntrack never saw it */
	CU_ASSERT_EQUAL(b.st.new + b.st.found + b.st.invalid + b.st.ignore, 0);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 0);
	/* nor did the filter table */
	CU_ASSERT_EQUAL(rule_packets(&b, "filter", "FORWARD", 0), 0);
	CU_ASSERT_EQUAL(rule_packets(&b, "filter", "FORWARD", -1), 0);
	bench_close(&b);
}

static void test_notrack_untracked(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, forward_rules, 0);
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 7, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.by, NFQCT_BY_FILTER);
	CU_ASSERT_EQUAL(v.ctstate, UNT);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#2");
	CU_ASSERT_PTR_NULL(v.conn);
	CU_ASSERT_FALSE(v.confirmed);
	CU_ASSERT_EQUAL(b.st.ignore, 1);
	CU_ASSERT_EQUAL(b.st.new + b.st.invalid, 0);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 0);

	/* NOTRACK wins over a packet that would not parse: UNTRACKED, not invalid */
	pb_udp_packet(&p, "198.18.0.66", "198.19.0.1", 1000, 7, 10);
	p.n = 20 + 4;	/* the UDP header cut in half */
	put16(p.b + 2, (uint16_t)p.n);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_PTR_NOT_NULL(v.invalid_reason);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, UNT);
	CU_ASSERT_EQUAL(b.st.ignore, 2);
	CU_ASSERT_EQUAL(b.st.invalid, 0);
	bench_close(&b);
}

static void test_unparsable_sees_raw_and_filter(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, "*raw\n:PREROUTING ACCEPT\n:OUTPUT ACCEPT\n"
		   "-A PREROUTING -s 198.18.0.1 -j MARK --set-mark 0x9\n"
		   "COMMIT\n"
		   "*filter\n:INPUT ACCEPT\n:FORWARD DROP\n:OUTPUT ACCEPT\n"
		   "-A FORWARD -m conntrack --ctstate INVALID -m mark --mark 0x9 -j ACCEPT\n"
		   "COMMIT\n", 0);
	/* a TCP header cut short: the IP header is fine, the L4 header is not */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, "198.18.0.1", "198.19.0.1", 0, 0);
	pb_put(&p, 10);
	pb_fix(&p);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_PTR_NOT_NULL(v.invalid_reason);
	/* the raw table saw it (its MARK ran), the filter judged it INVALID */
	CU_ASSERT_EQUAL(rule_packets(&b, "raw", "PREROUTING", 0), 1);
	CU_ASSERT_TRUE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 9);
	CU_ASSERT_EQUAL(v.ctstate, INV);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#1");
	CU_ASSERT_EQUAL(b.st.invalid, 1);
	CU_ASSERT_EQUAL(b.st.new, 0);
	bench_close(&b);
}

static void test_confirm_only_when_accepted(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p, r;

	bench_open(&b, forward_rules, 0);
	/* dropped by the FORWARD policy: counted new, never inserted */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 99, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.by, NFQCT_BY_FILTER);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD policy");
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_FALSE(v.confirmed);
	CU_ASSERT_PTR_NULL(v.conn);
	CU_ASSERT_EQUAL(b.st.new, 1);
	CU_ASSERT_EQUAL(b.st.insert, 0);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 0);

	/* accepted in a user chain: confirmed */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 53, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "fw#2");
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_TRUE(v.confirmed);
	CU_ASSERT_PTR_NOT_NULL(v.conn);
	CU_ASSERT_FALSE(v.reply);
	CU_ASSERT_EQUAL(b.st.new, 2);
	CU_ASSERT_EQUAL(b.st.insert, 1);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 1);

	/* the same direction again: found, still NEW, nothing new confirmed */
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 10);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_FALSE(v.confirmed);
	CU_ASSERT_EQUAL(b.st.found, 1);
	CU_ASSERT_EQUAL(b.st.insert, 1);

	/* the reply: ESTABLISHED, accepted by FORWARD#2 */
	pb_udp_packet(&r, "198.19.0.1", "198.18.0.1", 53, 1000, 30);
	v = judge(&b, &r, NFQCT_HOOK_FORWARD, 0, T0 + 20);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, EST);
	CU_ASSERT_TRUE(v.reply);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#2");
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 1);
	bench_close(&b);
}

static void test_final_mark(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, forward_rules, 0);
	/* raw sets 0x5, the filter's -m mark sees it and sets 0x7: one mark */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 5, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0x100, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_TRUE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 0x7);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "fw#3");

	/* no MARK target: the packet's own mark, not to be sent */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 53, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0x100, T0);
	CU_ASSERT_FALSE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 0x100);
	bench_close(&b);
}

/* REJECT: a refusal with the type for the packet's family, its new entry
 * discarded; LOG rules of both tables in order, raw's marked, each with the
 * mark it saw; LOG does not decide. */
static void test_reject_and_log(void)
{
	static const char *rules =
		"*raw\n"
		"-A PREROUTING -p udp -j LOG --log-prefix raw\n"
		"-A PREROUTING -p udp --dport 5 -j MARK --set-mark 0x5\n"
		"COMMIT\n"
		"*filter\n"
		":FORWARD ACCEPT\n"
		"-A FORWARD -p udp -j LOG --log-prefix filter\n"
		"-A FORWARD -p udp --dport 5 -j REJECT --reject-with icmp-admin-prohibited\n"
		"COMMIT\n";
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, rules, 0);
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 5, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.reject, NFQCT_REJECT_ADMIN_PROHIB);
	CU_ASSERT_EQUAL(v.by, NFQCT_BY_FILTER);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#2");
	CU_ASSERT_FALSE(v.confirmed);
	CU_ASSERT_PTR_NULL(v.conn);
	CU_ASSERT_EQUAL(v.mark, 0x5);
	CU_ASSERT_EQUAL(v.nlog, 2);
	CU_ASSERT_EQUAL(v.log_lost, 0);
	CU_ASSERT_STRING_EQUAL(v.log[0].spec->prefix, "raw");
	CU_ASSERT_TRUE(v.log[0].raw);
	CU_ASSERT_EQUAL(v.log[0].mark, 0);
	CU_ASSERT_STRING_EQUAL(v.log[1].spec->prefix, "filter");
	CU_ASSERT_FALSE(v.log[1].raw);
	CU_ASSERT_EQUAL(v.log[1].mark, 0x5);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 0);
	/* IPv6: the ICMPv6 type of the same meaning */
	pb_udp_packet(&p, "2001:db8::1", "2001:db8:1::1", 1000, 5, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_EQUAL(v.reject, NFQCT_REJECT6_ADM_PROHIB);
	/* accepted: no reject type, the logs all the same */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 53, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.reject, 0);
	CU_ASSERT_EQUAL(v.nlog, 2);
	bench_close(&b);
}

static void test_zone(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct nfqct_ct_info ci;
	struct pb p;

	bench_open(&b, forward_rules, 0);
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 6, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_TRUE(v.confirmed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v.conn);
	nfqct_ct_info(v.conn, &ci);
	CU_ASSERT_EQUAL(ci.zone, 6);
	bench_close(&b);
}

/* PREROUTING and POSTROUTING have no filter chain: accepted, tracked. */
static void test_hook_without_filter_chain(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, forward_rules, 0);
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 99, 10);
	v = judge(&b, &p, NFQCT_HOOK_PREROUTING, 0, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.rule.chain, -1);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "-");
	CU_ASSERT_TRUE(v.confirmed);
	bench_close(&b);
}

/* ---- error paths ---- */

static void test_table_full_drops(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, forward_rules, 1);
	/* one assured TCP entry fills the table; early drop cannot evict it */
	pb_tcp_packet(&p, "198.18.0.1", "198.19.0.1", 40000, 80, PB_SYN, 100, 0, 0);
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0).confirmed);
	pb_tcp_packet(&p, "198.19.0.1", "198.18.0.1", 80, 40000, PB_SYN | PB_ACK, 500, 101, 0);
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 1).accept);
	pb_tcp_packet(&p, "198.18.0.1", "198.19.0.1", 40000, 80, PB_ACK, 101, 501, 0);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 2);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, EST);

	pb_udp_packet(&p, "198.18.0.2", "198.19.0.1", 1000, 53, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 3);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.by, NFQCT_BY_TABLE_FULL);
	CU_ASSERT_PTR_NULL(v.conn);
	CU_ASSERT_FALSE(v.confirmed);
	CU_ASSERT_EQUAL(b.st.drop, 1);
	CU_ASSERT_EQUAL(b.st.early_drop, 0);
	/* the filter table never ran */
	CU_ASSERT_EQUAL(rule_packets(&b, "filter", "FORWARD", 2), 1);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 1);
	bench_close(&b);
}

static void test_invalid_tracker_verdict(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, forward_rules, 0);
	/* an ACK with no flow (nf_conntrack_tcp_loose is on: picked up), then a
	 * SYN/ACK answering nothing, which the tracker calls INVALID */
	pb_tcp_packet(&p, "198.19.0.9", "198.18.0.9", 80, 40000, PB_SYN | PB_ACK | PB_FIN | PB_RST,
		      1, 1, 0);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, INV);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#1");
	CU_ASSERT_PTR_NULL(v.conn);
	CU_ASSERT_EQUAL(b.st.invalid, 1);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), 0);
	bench_close(&b);
}

/* Two workers judge the same TCP SYN at once: TCP has no clash
 * resolution, so when both create an entry one confirmation fails and
 * its packet must be dropped, by INSERT_FAILED. */
enum { RACE_ROUNDS = 4000 };

struct race {
	struct bench *b;
	struct unit_barrier barrier;
	struct nfqct_ct_stats st[2];
	unsigned int failed[2];			/* INSERT_FAILED verdicts */
	unsigned int wrong[2];			/* verdicts breaking the contract */
};

struct race_arg {
	struct race *race;
	int id;
};

static void *race_worker(void *p)
{
	struct race_arg *arg = p;
	struct race *race = arg->race;
	struct nfqct_judge_ctx cx = race->b->cx;

	cx.st = &race->st[arg->id];
	cx.worker = (unsigned int)arg->id;
	rcu_register_thread();
	for (unsigned int round = 0; round < RACE_ROUNDS; round++) {
		char src[32];
		struct nfqct_pkt pkt;
		struct nfqct_verdict v;
		struct pb pb;

		snprintf(src, sizeof(src), "198.18.%u.%u", 100 + (round >> 8), round & 0xff);
		pb_tcp_packet(&pb, src, "198.19.5.5", 40000, 80, PB_SYN, 1, 0, 0);
		pkt = (struct nfqct_pkt){ .data = pb.b, .caplen = pb.n, .len = pb.n,
					  .hook = NFQCT_HOOK_FORWARD };
		unit_barrier_wait(&race->barrier);
		nfqct_judge(&cx, &pkt, T0, &v);
		if (v.by == NFQCT_BY_INSERT_FAILED) {
			race->failed[arg->id]++;
			if (v.accept || v.conn || v.confirmed || v.ctstate != NEW)
				race->wrong[arg->id]++;
		} else if (!v.accept || !v.conn) {
			race->wrong[arg->id]++;
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static void test_failed_confirm_drops(void)
{
	struct bench b;
	struct race race;
	struct race_arg args[2] = { { &race, 0 }, { &race, 1 } };
	pthread_t th[2];

	/* On a loaded machine the two threads may not meet in one attempt:
	 * try again on a fresh table, a few times at most. */
	for (int attempt = 0;; attempt++) {
		race = (struct race){ .b = &b };
		bench_open(&b, forward_rules, 0);
		rcu_thread_offline();
		for (int i = 0; i < 2; i++)
			CU_ASSERT_FATAL(pthread_create(&th[i], NULL, race_worker, &args[i]) == 0);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		rcu_thread_online();
		if (race.failed[0] + race.failed[1] > 0 || attempt == 4)
			break;
		bench_close(&b);
	}
	CU_ASSERT_EQUAL(race.wrong[0] + race.wrong[1], 0);
	/* every failed confirmation was counted, and dropped its packet */
	CU_ASSERT_EQUAL(race.failed[0], race.st[0].insert_failed);
	CU_ASSERT_EQUAL(race.failed[1], race.st[1].insert_failed);
	CU_ASSERT_EQUAL(race.st[0].insert + race.st[1].insert, RACE_ROUNDS);
	CU_ASSERT_EQUAL(nfqct_ct_count(b.ct), RACE_ROUNDS);
	/* two threads meeting at a barrier collide often; none would be a
	 * broken test, not luck */
	CU_ASSERT(race.failed[0] + race.failed[1] > 0);
	printf("(%u of %u rounds raced into insert_failed) ", race.failed[0] + race.failed[1],
	       RACE_ROUNDS);
	bench_close(&b);
}

/* ---- the box's own packets: OUTPUT on lo, then INPUT on lo ---- */

static const char *host_rules =
	"*raw\n:PREROUTING ACCEPT\n:OUTPUT ACCEPT\n"
	"-A OUTPUT -p udp --dport 7 -j NOTRACK\n"
	"COMMIT\n"
	"*filter\n:INPUT DROP\n:FORWARD DROP\n:OUTPUT ACCEPT\n"
	"-A INPUT -m conntrack --ctstate INVALID -j DROP\n"
	"-A INPUT -i lo -j ACCEPT\n"
	"COMMIT\n";

enum { LO = NFQCT_LOOPBACK_IFINDEX, OUT = NFQCT_HOOK_OUTPUT, IN = NFQCT_HOOK_INPUT };

/* connect() to a closed port of the box itself: SYN out and in, RST out and in. */
static void refused_local_connect(struct bench *b, bool with_memory)
{
	struct nfqct_ct_info ci;
	struct nfqct_verdict v;
	struct pb syn, rst;

	pb_tcp_packet(&syn, "198.18.0.1", "198.18.0.1", 40000, 22, PB_SYN, 1000, 0, 0);
	pb_tcp_packet(&rst, "198.18.0.1", "198.18.0.1", 22, 40000, PB_RST | PB_ACK, 0, 1001, 0);
	if (!with_memory)
		b->cx.lo = NULL;

	v = judge_dev(b, &syn, OUT, 0, LO, 0, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_TRUE(v.confirmed);

	v = judge_dev(b, &syn, IN, LO, 0, 0, T0 + 1);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_FALSE(v.confirmed);
	CU_ASSERT_STRING_EQUAL(rule_name(b, &v), "INPUT#2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v.conn);
	nfqct_ct_info(v.conn, &ci);
	/* with the memory not tracked again, as the kernel; without, tracked
	 * again as a SYN retransmission (found; the tracker ignores it) */
	CU_ASSERT_EQUAL(ci.packets[0], 1);
	CU_ASSERT_EQUAL(b->st.found, with_memory ? 0 : 1);

	/* the RST answers before any reply: the entry dies at OUTPUT */
	v = judge_dev(b, &rst, OUT, 0, LO, 0, T0 + 2);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, EST);
	CU_ASSERT_TRUE(v.reply);
	CU_ASSERT_EQUAL(b->st.delete, 1);
	CU_ASSERT_EQUAL(nfqct_ct_count(b->ct), 0);

	v = judge_dev(b, &rst, IN, LO, 0, 0, T0 + 3);
	if (with_memory) {
		/* as at OUTPUT: ESTABLISHED, and connect() fails at once */
		CU_ASSERT_TRUE(v.accept);
		CU_ASSERT_EQUAL(v.ctstate, EST);
		CU_ASSERT_TRUE(v.reply);
		CU_ASSERT_PTR_NULL(v.conn);	/* killed at OUTPUT */
		CU_ASSERT_STRING_EQUAL(rule_name(b, &v), "INPUT#2");
		CU_ASSERT_EQUAL(b->st.invalid, 0);
	} else {
		/* the defect of issue 19 (B): no entry, INVALID, dropped */
		CU_ASSERT_FALSE(v.accept);
		CU_ASSERT_EQUAL(v.ctstate, INV);
		CU_ASSERT_EQUAL(b->st.invalid, 1);
	}
}

static void test_loopback_keeps_output_state(void)
{
	struct bench b;

	bench_open(&b, host_rules, 0);
	refused_local_connect(&b, true);
	bench_close(&b);
	bench_open(&b, host_rules, 0);
	refused_local_connect(&b, false);
	bench_close(&b);
}

static void test_loopback_untracked_and_strangers(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, host_rules, 0);
	/* NOTRACK at OUTPUT: UNTRACKED at INPUT too, counted once */
	pb_udp_packet(&p, "198.18.0.1", "198.18.0.1", 1000, 7, 10);
	CU_ASSERT_EQUAL(judge_dev(&b, &p, OUT, 0, LO, 0, T0).ctstate, UNT);
	v = judge_dev(&b, &p, IN, LO, 0, 0, T0);
	CU_ASSERT_EQUAL(v.ctstate, UNT);
	CU_ASSERT_EQUAL(b.st.ignore, 1);

	/* a packet never seen leaving is tracked as usual */
	pb_udp_packet(&p, "198.18.0.1", "198.18.0.1", 1001, 53, 10);
	v = judge_dev(&b, &p, IN, LO, 0, 0, T0);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_TRUE(v.confirmed);

	/* remembered, but back too late (2 s): tracked as usual, found */
	pb_udp_packet(&p, "198.18.0.1", "198.18.0.1", 1002, 53, 10);
	CU_ASSERT_TRUE(judge_dev(&b, &p, OUT, 0, LO, 0, T0).confirmed);
	v = judge_dev(&b, &p, IN, LO, 0, 0, T0 + NFQCT_LOOPBACK_LIFETIME_MS);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_EQUAL(b.st.found, 1);

	/* recalled once only: the same bytes again are tracked as usual */
	pb_udp_packet(&p, "198.18.0.1", "198.18.0.1", 1003, 53, 10);
	judge_dev(&b, &p, OUT, 0, LO, 0, T0);
	judge_dev(&b, &p, IN, LO, 0, 0, T0);
	CU_ASSERT_EQUAL(b.st.found, 1);
	judge_dev(&b, &p, IN, LO, 0, 0, T0);
	CU_ASSERT_EQUAL(b.st.found, 2);
	bench_close(&b);
}

/* ---- helpers: an FTP data connection is RELATED ---- */

static const char *ftp_rules =
	"*raw\n:PREROUTING ACCEPT\n:OUTPUT ACCEPT\n"
	"-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\n"
	"COMMIT\n"
	"*filter\n:INPUT ACCEPT\n:FORWARD DROP\n:OUTPUT ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT\n"
	"-A FORWARD -p tcp --dport 21 -j ACCEPT\n"
	"COMMIT\n";

/* A TCP segment carrying @text. */
static void ftp_seg(struct pb *p, const char *src, const char *dst, uint16_t sp, uint16_t dp,
		    uint32_t seq, uint32_t ack, const char *text)
{
	uint32_t n = (uint32_t)strlen(text);

	pb_tcp_packet(p, src, dst, sp, dp, n ? PB_PSH | PB_ACK : PB_ACK, seq, ack, n);
	memcpy(p->b + 40, text, n);
}

static void test_ftp_passive_related(void)
{
	static const char *cl = "198.18.0.1", *sv = "198.18.1.1";
	const char *pasv = "227 Entering Passive Mode (198,18,1,1,200,10).\r\n";
	struct nfqct_verdict v;
	struct bench b;
	struct pb p;

	bench_open(&b, ftp_rules, 0);
	pb_tcp_packet(&p, cl, sv, 40000, 21, PB_SYN, 1000, 0, 0);
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0).confirmed);
	pb_tcp_packet(&p, sv, cl, 21, 40000, PB_SYN | PB_ACK, 5000, 1001, 0);
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 1).accept);
	ftp_seg(&p, cl, sv, 40000, 21, 1001, 5001, "");
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 2).accept);
	/* the banner and PASV: lines the helper only learns where they end */
	ftp_seg(&p, sv, cl, 21, 40000, 5001, 1001, "220 hi\r\n");
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 3).accept);
	ftp_seg(&p, cl, sv, 40000, 21, 1001, 5009, "PASV\r\n");
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 4).accept);
	CU_ASSERT_EQUAL(b.st.expect_create, 0);

	/* a data connection before the 227: nothing expected, NEW, refused */
	pb_tcp_packet(&p, cl, sv, 40001, 51210, PB_SYN, 7000, 0, 0);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 5);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_FALSE(v.accept);

	/* the 227 reply: port 200 * 256 + 10 = 51210 expected from the client */
	ftp_seg(&p, sv, cl, 21, 40000, 5009, 1007, pasv);
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 6).accept);
	CU_ASSERT_EQUAL(b.st.expect_create, 1);

	/* now the data connection is RELATED, accepted by the helper rule, and
	 * the expectation is used up */
	pb_tcp_packet(&p, cl, sv, 40002, 51210, PB_SYN, 8000, 0, 0);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 7);
	CU_ASSERT_EQUAL(v.ctstate, NFQCT_CTSTATE_RELATED);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#2");
	CU_ASSERT_TRUE(v.confirmed);
	CU_ASSERT_EQUAL(b.st.expect_new, 1);
	CU_ASSERT_EQUAL(b.st.expect_delete, 1);
	pb_tcp_packet(&p, cl, sv, 40003, 51210, PB_SYN, 9000, 0, 0);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 8);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_FALSE(v.accept);
	bench_close(&b);
}

/* ---- time comes in ---- */

static void test_time_is_the_callers(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p, r;

	bench_open(&b, forward_rules, 0);
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 53, 10);
	pb_udp_packet(&r, "198.19.0.1", "198.18.0.1", 53, 1000, 10);
	CU_ASSERT_TRUE(judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0).confirmed);
	/* 29.999 s later the unreplied UDP entry (30 s) is alive ... */
	v = judge(&b, &r, NFQCT_HOOK_FORWARD, 0, T0 + 29999);
	CU_ASSERT_EQUAL(v.ctstate, EST);
	/* ... refreshed by the reply to 30 s from then; past that it is gone,
	 * and the reply direction's packet starts a flow of its own */
	v = judge(&b, &r, NFQCT_HOOK_FORWARD, 0, T0 + 29999 + 30000);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_FALSE(v.reply);
	CU_ASSERT_EQUAL(b.st.delete, 1);
	bench_close(&b);
}

/* ---- CONNMARK and -m connmark: the entry's mark ---- */

static const char *connmark_rules =
	"*raw\n"
	/* no entry yet in raw: both do nothing (as the kernel's) */
	"-A PREROUTING -j CONNMARK --set-mark 0x99\n"
	"-A PREROUTING -m connmark --mark 0x0 -j MARK --set-mark 0x1\n"
	"COMMIT\n"
	"*filter\n"
	":FORWARD DROP\n"
	/* the classic pair: restore first, mark new connections, save */
	"-A FORWARD -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf\n"
	"-A FORWARD -m connmark --mark 0x30/0xf0 -j ACCEPT\n"
	"-A FORWARD -m mark ! --mark 0x0/0xf -j ACCEPT\n"
	"-A FORWARD -p udp --dport 5 -j MARK --set-mark 0x5\n"
	"-A FORWARD -p udp --dport 6 -j MARK --set-mark 0x6\n"
	"-A FORWARD -j CONNMARK --save-mark --mask 0xf\n"
	"-A FORWARD -p udp --dport 6 -j CONNMARK --or-mark 0x30\n"
	"-A FORWARD -j ACCEPT\n"
	"COMMIT\n";

static uint32_t entry_mark(struct bench *b, const struct pb *p)
{
	struct nfqct_tuple t;
	struct nfqct_conn *c;
	struct nfqct_ct_info ci;
	struct nfqct_pkt pkt = { .data = p->b, .caplen = p->n, .len = p->n };

	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&pkt), 0);
	t = pkt.tuple;
	c = nfqct_ct_lookup(b->ct, &t, 0, T0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	nfqct_ct_info(c, &ci);
	return ci.mark;
}

static void test_connmark(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;

	bench_open(&b, connmark_rules, 0);
	/* new: raw's CONNMARK did nothing, raw's -m connmark did not match (no
	 * MARK 0x1); nothing to restore; MARK 0x5 (all bits), saved to the entry (0xf bits) */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 5, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0x100, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.mark, 0x5);
	CU_ASSERT_TRUE(v.set_mark);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#8");
	CU_ASSERT_EQUAL(entry_mark(&b, &p), 0x5);
	/* the next packet: restored into the low byte's 0xf bits (nfmask 0xff
	 * clears 0x1ff's low byte first), then ! --mark 0x0/0xf accepts it */
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0x1ff, T0 + 1);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.mark, 0x105);
	CU_ASSERT_TRUE(v.set_mark);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#3");
	/* port 6: saved 0x6, then --or-mark 0x30: 0x36; its next packet is
	 * accepted by -m connmark --mark 0x30/0xf0 */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 6, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#8");
	CU_ASSERT_EQUAL(entry_mark(&b, &p), 0x36);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 1);
	CU_ASSERT_STRING_EQUAL(rule_name(&b, &v), "FORWARD#2");
	CU_ASSERT_EQUAL(v.mark, 0x6);	/* restored: 0x36 & 0xf */
	bench_close(&b);
}

/* ---- -m connlimit: counts after opens and closes ---- */

static const char *connlimit_rules =
	"*filter\n"
	":INPUT ACCEPT\n"
	"-A INPUT -p tcp --syn -m connlimit --connlimit-above 2 -j DROP\n"
	"-A INPUT -p tcp --syn -m connlimit --connlimit-above 4 --connlimit-mask 24 -j DROP\n"
	"COMMIT\n";

/* A SYN from @src:@sp to port 22 at @now: accepted? */
static bool syn_ok(struct bench *b, const char *src, uint16_t sp, uint64_t now)
{
	struct pb p;

	pb_tcp_packet(&p, src, "198.19.0.1", sp, 22, PB_SYN, 100, 0, 0);
	return judge(b, &p, NFQCT_HOOK_INPUT, 0, now).accept;
}

/* ---- FLOWOFFLOAD ---- */

static const char *offload_rules =
	"*filter\n"
	":INPUT ACCEPT\n"
	":FORWARD DROP\n"
	":OUTPUT ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j FLOWOFFLOAD\n"
	"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -p udp --dport 9 -j FLOWOFFLOAD\n"
	"-A FORWARD -s 198.18.0.1 -j ACCEPT\n"
	"COMMIT\n";

static struct nfqct_verdict tcp_fw(struct bench *b, bool reply, uint8_t flags, uint32_t seq,
				   uint32_t ack, uint64_t now)
{
	struct pb p;

	if (reply)
		pb_tcp_packet(&p, "198.19.0.1", "198.18.0.1", 80, 40000, flags, seq, ack, 0);
	else
		pb_tcp_packet(&p, "198.18.0.1", "198.19.0.1", 40000, 80, flags, seq, ack, 0);
	return judge(b, &p, NFQCT_HOOK_FORWARD, 0, now);
}

static void test_flowoffload(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct nfqct_ct_info ci;
	struct pb p;

	bench_open(&b, offload_rules, 0);
	/* the handshake: NEW, then ESTABLISHED but the tracker is in SYN_RECV */
	v = tcp_fw(&b, false, PB_SYN, 100, 0, T0);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_FALSE(v.offload);
	v = tcp_fw(&b, true, PB_SYN | PB_ACK, 500, 101, T0 + 1);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, EST);
	CU_ASSERT_FALSE(v.offload);
	/* the third packet makes it ESTABLISHED: offloaded from this one on */
	v = tcp_fw(&b, false, PB_ACK, 101, 501, T0 + 2);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_TRUE(v.offload);
	/* FIN and RST are never offloaded */
	v = tcp_fw(&b, true, PB_ACK | PB_FIN, 501, 101, T0 + 3);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_FALSE(v.offload);
	/* nor anything after it (FIN_WAIT and on) */
	v = tcp_fw(&b, false, PB_ACK, 101, 502, T0 + 4);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_FALSE(v.offload);

	/* UDP: the first packet is NEW (FLOWOFFLOAD matches its port rule, and
	 * still nothing), the reply makes it established */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 9, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 10);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.ctstate, NEW);
	CU_ASSERT_FALSE(v.offload);
	pb_udp_packet(&p, "198.19.0.1", "198.18.0.1", 9, 1000, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 11);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_TRUE(v.offload);
	CU_ASSERT_TRUE(v.reply);
	/* a dropped packet is not offloaded, whatever matched before */
	pb_udp_packet(&p, "198.18.0.7", "198.19.0.1", 1000, 9, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 12);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_FALSE(v.offload);

	/* the kernel's counts: added to the direction, expiry pushed to the
	 * stream timeout; [OFFLOAD] once done, in place of [ASSURED] */
	pb_udp_packet(&p, "198.18.0.1", "198.19.0.1", 1000, 9, 10);
	v = judge(&b, &p, NFQCT_HOOK_FORWARD, 0, T0 + 13);
	CU_ASSERT_TRUE(v.offload);
	CU_ASSERT_TRUE(nfqct_ct_offload_claim(v.conn));
	CU_ASSERT_FALSE(nfqct_ct_offload_claim(v.conn));	/* one request at a time */
	nfqct_ct_offload_done(v.conn, true);
	CU_ASSERT_TRUE(nfqct_ct_offloaded(v.conn));
	nfqct_ct_offload_acct(v.conn, &b.s, true, 7, 700, T0 + 5000);
	nfqct_ct_info(v.conn, &ci);
	CU_ASSERT_TRUE(ci.offload);
	CU_ASSERT_EQUAL(ci.packets[0], 2);
	CU_ASSERT_EQUAL(ci.bytes[0], 2 * 38);
	CU_ASSERT_EQUAL(ci.packets[1], 8);
	CU_ASSERT_EQUAL(ci.bytes[1], 38 + 700);
	CU_ASSERT_EQUAL(ci.expires_ms, T0 + 5000 + 1000ull * b.s.timeout[NFQCT_TO_UDP]);
	CU_ASSERT_TRUE(nfqct_ct_offload_unset(v.conn));
	CU_ASSERT_FALSE(nfqct_ct_offload_unset(v.conn));
	bench_close(&b);
}

static void test_offload_key(void)
{
	struct nfqct_tuple t = { .family = AF_INET, .proto = IPPROTO_UDP }, back;
	uint8_t key[44];
	static const uint8_t want4[20] = { 198, 18, 0, 1, 198, 19, 0, 1, 17, 0, 0, 0,
					   0x03, 0xe8, 0, 0, 0, 53, 0, 0 };

	CU_ASSERT_EQUAL(inet_pton(AF_INET, "198.18.0.1", t.src.b), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET, "198.19.0.1", t.dst.b), 1);
	t.sp.port = htons(1000);
	t.dp.port = htons(53);
	CU_ASSERT_EQUAL(nfqct_offload_key(&t, key), 20);
	CU_ASSERT_EQUAL(memcmp(key, want4, 20), 0);
	CU_ASSERT_EQUAL(nfqct_offload_key_parse(key, 20, &back), 0);
	CU_ASSERT_EQUAL(memcmp(&back, &t, sizeof(t)), 0);
	t.family = AF_INET6;
	t.proto = IPPROTO_TCP;
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "2001:db8::1", t.src.b), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "2001:db8:1::2", t.dst.b), 1);
	CU_ASSERT_EQUAL(nfqct_offload_key(&t, key), 44);
	CU_ASSERT_EQUAL(key[32], IPPROTO_TCP);
	CU_ASSERT_EQUAL(nfqct_offload_key_parse(key, 44, &back), 0);
	CU_ASSERT_EQUAL(memcmp(&back, &t, sizeof(t)), 0);
	/* what the sets cannot hold */
	t.proto = IPPROTO_ICMPV6;
	CU_ASSERT_EQUAL(nfqct_offload_key(&t, key), 0);
	key[32] = IPPROTO_ICMPV6;
	CU_ASSERT_EQUAL(nfqct_offload_key_parse(key, 44, &back), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_offload_key_parse(key, 21, &back), -EINVAL);
}

static void test_connlimit(void)
{
	struct bench b;
	struct nfqct_verdict v;
	struct pb p;
	uint64_t t = T0;

	bench_open(&b, connlimit_rules, 0);
	/* two open, the third refused: it counts itself, as the kernel's (worked
	 * through __nf_conncount_add(): a list is looked at once per jiffy) */
	CU_ASSERT_TRUE(syn_ok(&b, "198.18.0.1", 1001, t));
	CU_ASSERT_TRUE(syn_ok(&b, "198.18.0.1", 1002, t));
	CU_ASSERT_FALSE(syn_ok(&b, "198.18.0.1", 1003, t));
	CU_ASSERT_EQUAL(rule_packets(&b, "filter", "INPUT", 0), 1);
	/* its entry was discarded with it: at the next look its node goes, it is
	 * counted again (3) and refused again; another address is apart */
	CU_ASSERT_FALSE(syn_ok(&b, "198.18.0.1", 1003, t + 8));
	CU_ASSERT_TRUE(syn_ok(&b, "198.18.0.2", 1001, t + 8));
	/* close 1001 (RST: CLOSE): the next look drops it; 1004 is the second */
	pb_tcp_packet(&p, "198.18.0.1", "198.19.0.1", 1001, 22, PB_RST, 101, 0, 0);
	v = judge(&b, &p, NFQCT_HOOK_INPUT, 0, t + 16);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_TRUE(syn_ok(&b, "198.18.0.1", 1004, t + 20));
	CU_ASSERT_FALSE(syn_ok(&b, "198.18.0.1", 1005, t + 24));
	/* the /24 rule saw .1's 1001, 1002, 1004 (1001 closed since) and .2's 1001:
	 * 3; .3 makes 4, .4 makes 5 */
	CU_ASSERT_TRUE(syn_ok(&b, "198.18.0.3", 1001, t + 28));
	CU_ASSERT_FALSE(syn_ok(&b, "198.18.0.4", 1001, t + 28));
	CU_ASSERT_EQUAL(rule_packets(&b, "filter", "INPUT", 1), 1);
	/* an expired entry (the table forgets it) stops counting too: after the
	 * SYN_SENT timeout (120 s) every one of them is gone */
	nfqct_ct_gc(b.ct, &b.st, t + 200000, 1u << 20);
	CU_ASSERT_TRUE(syn_ok(&b, "198.18.0.1", 1006, t + 200000));
	CU_ASSERT_TRUE(syn_ok(&b, "198.18.0.1", 1007, t + 200000));
	CU_ASSERT_FALSE(syn_ok(&b, "198.18.0.1", 1008, t + 200000));
	bench_close(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "raw DROP before tracking", test_raw_drop_before_tracking },
		{ "NOTRACK: UNTRACKED, ignore", test_notrack_untracked },
		{ "unparsable: raw and filter see it", test_unparsable_sees_raw_and_filter },
		{ "confirm only when accepted", test_confirm_only_when_accepted },
		{ "one mark through both tables", test_final_mark },
		{ "CONNMARK and -m connmark", test_connmark },
		{ "-m connlimit after opens and closes", test_connlimit },
		{ "FLOWOFFLOAD: established, accepted, no FIN/RST", test_flowoffload },
		{ "offload: set keys", test_offload_key },
		{ "CT --zone", test_zone },
		{ "REJECT and LOG", test_reject_and_log },
		{ "hook without a filter chain", test_hook_without_filter_chain },
		{ "table full drops", test_table_full_drops },
		{ "tracker INVALID", test_invalid_tracker_verdict },
		{ "failed confirm drops", test_failed_confirm_drops },
		{ "time is the caller's", test_time_is_the_callers },
		{ "loopback: INPUT keeps OUTPUT's state", test_loopback_keeps_output_state },
		{ "loopback: untracked, unknown, late, once", test_loopback_untracked_and_strangers },
		{ "ftp: passive data connection RELATED", test_ftp_passive_related },
	};
	int ret;

	rcu_register_thread();
	ret = unit_main("judge", tests, UNIT_COUNT(tests));
	rcu_barrier();
	rcu_unregister_thread();
	return ret;
}
