/*
 * test_rules.c - CUnit suite for the ruleset: every match, negation, both
 * families, chains, raw targets, counters, printing and reloading.
 * Packets are built by hand (tuple, hook, devices, mark, length).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/ct.h"
#include "nfqct/ifname.h"
#include "nfqct/helper.h"
#include "nfqct/logfmt.h"
#include "nfqct/reject.h"
#include "nfqct/rules.h"
#include "../../src/rules_int.h"	/* rules_parse_steps */
#include "unit.h"

/* ---- helpers ---- */

static struct nfqct_ruleset *load_n(const char *text, unsigned int nworkers)
{
	struct nfqct_ruleset *rs = NULL;
	char *errs = NULL;
	size_t elen = 0;
	FILE *e = open_memstream(&errs, &elen);
	int rc = nfqct_ruleset_parse("t.rules", text, strlen(text), nworkers, &rs, e);

	fclose(e);
	if (rc)
		fprintf(stderr, "load failed (%d):\n%s", rc, errs);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(elen, 0);
	free(errs);
	return rs;
}

static struct nfqct_ruleset *load(const char *text)
{
	return load_n(text, 2);
}

/* The error text a file produces, or NULL when it loads. */
static char *load_err(const char *text)
{
	struct nfqct_ruleset *rs = NULL;
	char *errs = NULL;
	size_t elen = 0;
	FILE *e = open_memstream(&errs, &elen);
	int rc = nfqct_ruleset_parse("t.rules", text, strlen(text), 1, &rs, e);

	fclose(e);
	if (rc == 0) {
		nfqct_ruleset_free(rs);
		free(errs);
		return NULL;
	}
	CU_ASSERT_EQUAL(rc, -EINVAL);
	return errs;
}

static struct nfqct_pkt mkpkt(const char *src, const char *dst, uint8_t proto, uint16_t sport,
			      uint16_t dport, uint8_t hook)
{
	struct nfqct_pkt p;
	int fam = strchr(src, ':') ? AF_INET6 : AF_INET;

	memset(&p, 0, sizeof(p));
	p.tuple.family = (uint8_t)fam;
	p.tuple.proto = proto;
	CU_ASSERT_EQUAL(inet_pton(fam, src, &p.tuple.src), 1);
	CU_ASSERT_EQUAL(inet_pton(fam, dst, &p.tuple.dst), 1);
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		p.tuple.dp.icmp.type = (uint8_t)sport;
		p.tuple.dp.icmp.code = (uint8_t)dport;
	} else {
		p.tuple.sp.port = htons(sport);
		p.tuple.dp.port = htons(dport);
	}
	p.hook = hook;
	p.len = 100;
	return p;
}

/* A traversal's verdict with the mark it leaves, as the tests read it. */
struct tv {
	bool accept, drop, notrack, set_mark;
	uint16_t zone;
	uint32_t mark;
	struct nfqct_rule_ref by;
};

static void tv_fill(struct tv *v, const struct nfqct_rules_verdict *r, uint32_t mark)
{
	v->accept = r->accept;
	v->drop = !r->accept;
	v->notrack = r->notrack;
	v->set_mark = r->set_mark;
	v->zone = r->zone;
	v->mark = mark;
	v->by = r->by;
}

static void run_filter_ct(const struct nfqct_ruleset *rs, unsigned int worker,
			  const struct nfqct_pkt *p, const struct nfqct_rules_ct *ct, struct tv *v)
{
	struct nfqct_rules_verdict r;
	uint32_t mark = p->mark;

	memset(&r, 0xaa, sizeof(r));
	nfqct_ruleset_filter(rs, worker, p, ct, 1, &mark, &r);
	tv_fill(v, &r, mark);
}

static void run_filter(const struct nfqct_ruleset *rs, unsigned int worker, const struct nfqct_pkt *p,
		       unsigned int ctstate, struct tv *v)
{
	struct nfqct_rules_ct ct = { .state = ctstate };

	run_filter_ct(rs, worker, p, &ct, v);
}

static void run_raw(const struct nfqct_ruleset *rs, unsigned int worker, const struct nfqct_pkt *p,
		    struct tv *v)
{
	struct nfqct_rules_verdict r;
	uint32_t mark = p->mark;

	memset(&r, 0xaa, sizeof(r));
	nfqct_ruleset_raw(rs, worker, p, 1, &mark, &r);
	tv_fill(v, &r, mark);
}

static bool filt(const struct nfqct_ruleset *rs, const struct nfqct_pkt *p, unsigned int ctstate)
{
	struct tv v;

	memset(&v, 0xaa, sizeof(v));
	run_filter(rs, 0, p, ctstate, &v);
	return v.accept;
}

/* A ruleset whose INPUT policy is DROP and has one ACCEPT rule with @match. */
static struct nfqct_ruleset *accept_if(const char *match)
{
	char text[1024];

	snprintf(text, sizeof(text), "*filter\n:INPUT DROP [0:0]\n-A INPUT %s -j ACCEPT\nCOMMIT\n", match);
	return load(text);
}

#define NEW NFQCT_CTSTATE_NEW
#define EST NFQCT_CTSTATE_ESTABLISHED
#define IN NFQCT_HOOK_INPUT

/* ---- matches ---- */

static void test_proto(void)
{
	struct nfqct_ruleset *rs = accept_if("-p udp");
	struct nfqct_pkt u = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1, 2, IN);
	struct nfqct_pkt t = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2, IN);
	struct nfqct_pkt g = mkpkt("10.0.0.1", "10.0.0.2", 47, 0, 0, IN);

	CU_ASSERT_TRUE(filt(rs, &u, NEW));
	CU_ASSERT_FALSE(filt(rs, &t, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("! -p udp");
	CU_ASSERT_FALSE(filt(rs, &u, NEW));
	CU_ASSERT_TRUE(filt(rs, &t, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-p 47");
	CU_ASSERT_TRUE(filt(rs, &g, NEW));
	CU_ASSERT_FALSE(filt(rs, &u, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-p all");
	CU_ASSERT_TRUE(filt(rs, &g, NEW));
	CU_ASSERT_TRUE(filt(rs, &u, NEW));
	nfqct_ruleset_free(rs);
}

static void test_addresses_and_families(void)
{
	struct nfqct_ruleset *rs = accept_if("-s 10.1.0.0/16 -d 192.0.2.1");
	struct nfqct_pkt a = mkpkt("10.1.2.3", "192.0.2.1", IPPROTO_TCP, 1, 2, IN);
	struct nfqct_pkt b = mkpkt("10.2.2.3", "192.0.2.1", IPPROTO_TCP, 1, 2, IN);
	struct nfqct_pkt c = mkpkt("10.1.2.3", "192.0.2.2", IPPROTO_TCP, 1, 2, IN);
	struct nfqct_pkt v6 = mkpkt("2001:db8::1", "2001:db8::2", IPPROTO_TCP, 1, 2, IN);
	struct nfqct_pkt v6b = mkpkt("2001:db9::1", "2001:db8::2", IPPROTO_TCP, 1, 2, IN);

	CU_ASSERT_TRUE(filt(rs, &a, NEW));
	CU_ASSERT_FALSE(filt(rs, &b, NEW));
	CU_ASSERT_FALSE(filt(rs, &c, NEW));
	CU_ASSERT_FALSE(filt(rs, &v6, NEW));
	nfqct_ruleset_free(rs);

	/* A negated IPv4 address still restricts the rule to IPv4. */
	rs = accept_if("! -s 10.0.0.0/8");
	CU_ASSERT_FALSE(filt(rs, &a, NEW));
	CU_ASSERT_FALSE(filt(rs, &v6, NEW));
	CU_ASSERT_TRUE(filt(rs, &(struct nfqct_pkt){ .tuple = { .family = AF_INET, .src.b = { 11 } },
						     .hook = IN }, NEW));
	nfqct_ruleset_free(rs);

	/* 0.0.0.0/0 matches every IPv4 packet and no IPv6 one. */
	rs = accept_if("-s 0.0.0.0/0");
	CU_ASSERT_TRUE(filt(rs, &a, NEW));
	CU_ASSERT_FALSE(filt(rs, &v6, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-s 2001:db8::/32");
	CU_ASSERT_TRUE(filt(rs, &v6, NEW));
	CU_ASSERT_FALSE(filt(rs, &v6b, NEW));
	CU_ASSERT_FALSE(filt(rs, &a, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-d 2001:db8::2/128");
	CU_ASSERT_TRUE(filt(rs, &v6, NEW));
	CU_ASSERT_TRUE(filt(rs, &v6b, NEW));
	nfqct_ruleset_free(rs);

	/* IPv4 dotted mask; the address is masked. */
	rs = accept_if("-s 10.1.99.99/255.255.0.0");
	CU_ASSERT_TRUE(filt(rs, &a, NEW));
	CU_ASSERT_FALSE(filt(rs, &b, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-4");
	CU_ASSERT_TRUE(filt(rs, &a, NEW));
	CU_ASSERT_FALSE(filt(rs, &v6, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-6 -p tcp");
	CU_ASSERT_FALSE(filt(rs, &a, NEW));
	CU_ASSERT_TRUE(filt(rs, &v6, NEW));
	nfqct_ruleset_free(rs);
}

static void test_ports(void)
{
	struct nfqct_ruleset *rs = accept_if("-p tcp --dport 1000:2000 --sport 53");
	struct nfqct_pkt p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 53, 1000, IN);

	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(2000);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(2001);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(999);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(1500);
	p.tuple.sp.port = htons(54);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.tuple.sp.port = htons(53);
	p.tuple.proto = IPPROTO_UDP;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-p udp ! --dport 53");
	p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 5, 53, IN);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(54);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	/* A later fragment has no ports: no match, negated or not. */
	p.flags = NFQCT_PKT_F_FRAGMENT | NFQCT_PKT_F_LATER_FRAG;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-p sctp -m sctp --dport 9:");
	p = mkpkt("2001:db8::1", "2001:db8::2", IPPROTO_SCTP, 5, 65535, IN);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(8);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);
}

static void test_icmp(void)
{
	struct nfqct_ruleset *rs = accept_if("-p icmp --icmp-type 3/4");
	struct nfqct_pkt p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 3, 4, IN);

	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.tuple.dp.icmp.code = 1;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-p icmp ! --icmp-type echo-request");
	p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 8, 0, IN);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.tuple.dp.icmp.type = 0;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-p ipv6-icmp -m icmp6 --icmpv6-type 135");
	p = mkpkt("fe80::1", "ff02::1", IPPROTO_ICMPV6, 135, 0, IN);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.tuple.dp.icmp.type = 136;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);
}

/* Fake interfaces for the cache: 2 eth0, 3 eth1, 7 wlan0 (renameable). */
static const char *if7_name = "wlan0";
static unsigned int fake_lookups;

static char *fake_indextoname(unsigned int ifindex, char *name)
{
	const char *n = ifindex == 2 ? "eth0" : ifindex == 3 ? "eth1" : ifindex == 7 ? if7_name : NULL;

	fake_lookups++;
	if (!n)
		return NULL;
	snprintf(name, IFNAMSIZ, "%s", n);
	return name;
}

static void test_interfaces(void)
{
	struct nfqct_ruleset *rs = accept_if("-i eth0");
	struct nfqct_pkt p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2, IN);

	p.indev = 2;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.indev = 3;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.indev = 0;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.indev = 99;	/* unknown to the kernel */
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-i eth+");
	p.indev = 3;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.indev = 7;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("! -i eth+");
	p.indev = 3;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.indev = 7;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	/* "eth" does not match eth0 (exact), "eth0" does not match "eth00". */
	rs = load("*filter\n:FORWARD DROP\n-A FORWARD -i eth -j ACCEPT\n-A FORWARD -i eth1 -o wlan0 "
		  "-j ACCEPT\nCOMMIT\n");
	p.hook = NFQCT_HOOK_FORWARD;
	p.indev = 2;
	p.outdev = 7;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.indev = 3;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.outdev = 2;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);
}

static void test_ifname_cache(void)
{
	struct nfqct_ifname_cache *c = malloc(sizeof(*c));
	const char *n;

	nfqct_ifname_init(c, 1000);
	fake_lookups = 0;
	n = nfqct_ifname_get(c, 7, 5000);
	CU_ASSERT_STRING_EQUAL(n, "wlan0");
	CU_ASSERT_EQUAL(fake_lookups, 1);
	n = nfqct_ifname_get(c, 7, 5999);
	CU_ASSERT_STRING_EQUAL(n, "wlan0");
	CU_ASSERT_EQUAL(fake_lookups, 1);	/* cached */
	if7_name = "wan";
	n = nfqct_ifname_get(c, 7, 5999);
	CU_ASSERT_STRING_EQUAL(n, "wlan0");	/* stale until the interval passes */
	n = nfqct_ifname_get(c, 7, 6000);
	CU_ASSERT_STRING_EQUAL(n, "wan");
	CU_ASSERT_EQUAL(fake_lookups, 2);
	/* Same slot, other index: a miss. */
	n = nfqct_ifname_get(c, 7 + NFQCT_IFNAME_SLOTS, 6001);
	CU_ASSERT_STRING_EQUAL(n, "");
	CU_ASSERT_EQUAL(fake_lookups, 3);
	CU_ASSERT_STRING_EQUAL(nfqct_ifname_get(c, 0, 6001), "");
	CU_ASSERT_EQUAL(fake_lookups, 3);
	CU_ASSERT_EQUAL(c->lookups, 3);
	if7_name = "wlan0";
	free(c);
}

static void test_ctstate(void)
{
	struct nfqct_ruleset *rs = accept_if("-m conntrack --ctstate ESTABLISHED,RELATED");
	struct nfqct_pkt p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2, IN);

	CU_ASSERT_TRUE(filt(rs, &p, NFQCT_CTSTATE_ESTABLISHED));
	CU_ASSERT_TRUE(filt(rs, &p, NFQCT_CTSTATE_RELATED));
	CU_ASSERT_FALSE(filt(rs, &p, NFQCT_CTSTATE_NEW));
	CU_ASSERT_FALSE(filt(rs, &p, NFQCT_CTSTATE_INVALID));
	CU_ASSERT_FALSE(filt(rs, &p, NFQCT_CTSTATE_UNTRACKED));
	nfqct_ruleset_free(rs);

	rs = accept_if("-m state ! --state INVALID,UNTRACKED");
	CU_ASSERT_TRUE(filt(rs, &p, NFQCT_CTSTATE_NEW));
	CU_ASSERT_FALSE(filt(rs, &p, NFQCT_CTSTATE_INVALID));
	CU_ASSERT_FALSE(filt(rs, &p, NFQCT_CTSTATE_UNTRACKED));
	nfqct_ruleset_free(rs);

	rs = accept_if("-m conntrack --ctstate untracked");
	CU_ASSERT_TRUE(filt(rs, &p, NFQCT_CTSTATE_UNTRACKED));
	CU_ASSERT_FALSE(filt(rs, &p, NFQCT_CTSTATE_ESTABLISHED));
	nfqct_ruleset_free(rs);
}

/* -m helper tests the expected entry's master's helper (xt_helper). */
static void test_helper_match(void)
{
	struct nfqct_ruleset *ftp = accept_if("-m helper --helper ftp");
	struct nfqct_ruleset *any = accept_if("-m helper --helper \"\"");
	struct nfqct_ruleset *not_ftp = accept_if("-m helper ! --helper ftp");
	struct nfqct_pkt p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 20, 40000, IN);
	struct nfqct_rules_ct via_ftp = { .state = NFQCT_CTSTATE_RELATED, .master_helper = NFQCT_HELPER_FTP };
	struct nfqct_rules_ct via_tftp = { .state = NFQCT_CTSTATE_RELATED, .master_helper = NFQCT_HELPER_TFTP };
	struct nfqct_rules_ct none = { .state = NFQCT_CTSTATE_NEW, .master_helper = 0 };
	struct tv v;

	run_filter_ct(ftp, 0, &p, &via_ftp, &v);
	CU_ASSERT_TRUE(v.accept);
	run_filter_ct(ftp, 0, &p, &via_tftp, &v);
	CU_ASSERT_FALSE(v.accept);
	run_filter_ct(ftp, 0, &p, &none, &v);
	CU_ASSERT_FALSE(v.accept);
	run_filter_ct(any, 0, &p, &via_tftp, &v);
	CU_ASSERT_TRUE(v.accept);
	run_filter_ct(any, 0, &p, &none, &v);
	CU_ASSERT_FALSE(v.accept);
	/* negated: anything but ftp, no helper at all included (xt_helper returns
	 * its invert flag when there is no master helper) */
	run_filter_ct(not_ftp, 0, &p, &via_tftp, &v);
	CU_ASSERT_TRUE(v.accept);
	run_filter_ct(not_ftp, 0, &p, &none, &v);
	CU_ASSERT_TRUE(v.accept);
	run_filter_ct(not_ftp, 0, &p, &via_ftp, &v);
	CU_ASSERT_FALSE(v.accept);
	nfqct_ruleset_free(ftp);
	nfqct_ruleset_free(any);
	nfqct_ruleset_free(not_ftp);
}

static void test_mark(void)
{
	struct nfqct_ruleset *rs = accept_if("-m mark --mark 0x10/0xf0");
	struct nfqct_pkt p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2, IN);
	struct tv v;

	p.mark = 0x1f;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.mark = 0x2f;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	rs = accept_if("-m mark ! --mark 5");
	p.mark = 5;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.mark = 0x105;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	/* MARK is not terminal; a later -m mark sees the new mark. */
	rs = load("*filter\n:INPUT DROP\n"
		  "-A INPUT -j MARK --set-mark 0x3/0xf\n"		/* (m & ~0xf) | 3 */
		  "-A INPUT -m mark --mark 0x103 -j ACCEPT\n"
		  "COMMIT\n");
	p.mark = 0x10c;
	run_filter(rs, 0, &p, NEW, &v);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_TRUE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 0x103);
	p.mark = 0x20c;
	run_filter(rs, 0, &p, NEW, &v);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_TRUE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 0x203);
	nfqct_ruleset_free(rs);

	rs = load("*filter\n:OUTPUT ACCEPT\n"
		  "-A OUTPUT -p udp -j MARK --set-xmark 0x5/0xff\n"	/* (m & ~0xff) ^ 5 */
		  "-A OUTPUT -p tcp -j MARK --and-mark 0xf0\n"
		  "-A OUTPUT -p tcp -j MARK --or-mark 0x1\n"
		  "-A OUTPUT -p tcp -j MARK --xor-mark 0x3\n"
		  "-A OUTPUT -p tcp -j MARK --set-mark 0x400\n"		/* no mask: all bits */
		  "-A OUTPUT -p tcp -j MARK --set-mark 0x7/0x0\n"		/* clears only 7's bits */
		  "COMMIT\n");
	p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1, 2, NFQCT_HOOK_OUTPUT);
	p.mark = 0x1234;
	run_filter(rs, 1, &p, NEW, &v);
	CU_ASSERT_EQUAL(v.mark, 0x1205);
	p.tuple.proto = 47;
	run_filter(rs, 1, &p, NEW, &v);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_FALSE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 0x1234);
	nfqct_ruleset_free(rs);

	rs = load("*filter\n:OUTPUT ACCEPT\n"
		  "-A OUTPUT -j MARK --and-mark 0xf0\n"
		  "-A OUTPUT -j MARK --or-mark 0x1\n"
		  "-A OUTPUT -j MARK --xor-mark 0x3\n"
		  "COMMIT\n");
	p.mark = 0x1234;
	run_filter(rs, 1, &p, NEW, &v);
	CU_ASSERT_EQUAL(v.mark, ((0x1234u & 0xf0) | 1) ^ 3);
	nfqct_ruleset_free(rs);

	/* --set-xmark clears only the mask, then xors (5's bits are not cleared). */
	rs = load("*filter\n:OUTPUT ACCEPT\n-A OUTPUT -j MARK --set-xmark 0x5/0x1\nCOMMIT\n");
	p.mark = 0x1234;
	run_filter(rs, 1, &p, NEW, &v);
	CU_ASSERT_EQUAL(v.mark, 0x1231);
	nfqct_ruleset_free(rs);

	rs = load("*filter\n:OUTPUT ACCEPT\n"
		  "-A OUTPUT -j MARK --set-mark 0x400\n"
		  "-A OUTPUT -m mark --mark 0x400 -j MARK --set-mark 0x7/0x0\n"
		  "COMMIT\n");
	p.mark = 0xffff;
	run_filter(rs, 1, &p, NEW, &v);
	CU_ASSERT_EQUAL(v.mark, 0x407);
	nfqct_ruleset_free(rs);
}

/* ---- chains, policies, hooks ---- */

/* REJECT ends the traversal as a refusal and names the type for the packet's family. */
static void test_reject(void)
{
	struct nfqct_ruleset *rs = load("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n"
		"-A INPUT -p tcp --dport 1 -j REJECT --reject-with tcp-reset\n"
		"-A INPUT -p udp --dport 2 -j REJECT --reject-with icmp-host-prohibited\n"
		"-A INPUT -6 -p udp --dport 3 -j REJECT\n"
		"-A INPUT -p udp --dport 4 -j DROP\n"
		"-A INPUT -s 198.18.0.9 -j REJECT --reject-with icmp-proto-unreachable\n"
		"-A FORWARD -j REJECT\n"
		"COMMIT\n");
	static const struct {
		const char *src, *dst;
		uint8_t proto;
		uint16_t dport;
		uint8_t hook;
		bool accept;
		uint8_t reject;
		int32_t rule;
	} c[] = {
		{ "198.18.0.1", "198.18.0.2", IPPROTO_TCP, 1, IN, false, NFQCT_REJECT_TCP_RESET, 0 },
		{ "2001:db8::1", "2001:db8::2", IPPROTO_TCP, 1, IN, false, NFQCT_REJECT_TCP_RESET, 0 },
		{ "198.18.0.1", "198.18.0.2", IPPROTO_UDP, 2, IN, false, NFQCT_REJECT_HOST_PROHIB, 1 },
		/* both families: IPv6 gets the ICMPv6 type of the same meaning */
		{ "2001:db8::1", "2001:db8::2", IPPROTO_UDP, 2, IN, false, NFQCT_REJECT6_ADM_PROHIB, 1 },
		{ "2001:db8::1", "2001:db8::2", IPPROTO_UDP, 3, IN, false, NFQCT_REJECT6_PORT_UNREACH, 2 },
		{ "198.18.0.1", "198.18.0.2", IPPROTO_UDP, 3, IN, true, 0, -1 },
		{ "198.18.0.1", "198.18.0.2", IPPROTO_UDP, 4, IN, false, 0, 3 },
		{ "198.18.0.9", "198.18.0.2", IPPROTO_UDP, 5, IN, false, NFQCT_REJECT_PROTO_UNREACH, 4 },
		{ "198.18.0.1", "198.18.0.2", IPPROTO_UDP, 5, NFQCT_HOOK_FORWARD, false, NFQCT_REJECT_PORT_UNREACH, 0 },
		{ "2001:db8::1", "2001:db8::2", IPPROTO_SCTP, 5, NFQCT_HOOK_FORWARD, false,
		  NFQCT_REJECT6_PORT_UNREACH, 0 },
	};

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct nfqct_pkt p = mkpkt(c[i].src, c[i].dst, c[i].proto, 1000, c[i].dport, c[i].hook);
		struct nfqct_rules_ct ct = { .state = NEW };
		struct nfqct_rules_verdict r;
		uint32_t mark = 0;

		memset(&r, 0xaa, sizeof(r));
		nfqct_ruleset_filter(rs, 0, &p, &ct, 1, &mark, &r);
		CU_ASSERT_EQUAL(r.accept, c[i].accept);
		CU_ASSERT_EQUAL(r.reject, c[i].reject);
		CU_ASSERT_EQUAL(r.by.rule, c[i].rule);
		CU_ASSERT_FALSE(r.set_mark);
		CU_ASSERT_EQUAL(mark, 0);
	}
	nfqct_ruleset_free(rs);
}

/* LOG does not end the traversal; each one that matches is remembered with
 * the mark it saw, up to NFQCT_RULES_MAX_LOG, the rest counted. */
static void test_log(void)
{
	struct nfqct_ruleset *rs = load("*filter\n:INPUT ACCEPT [0:0]\n"
		"-A INPUT -j LOG --log-prefix one --log-level 2 --log-uid\n"
		"-A INPUT -j MARK --set-mark 0x5\n"
		"-A INPUT -p udp -j LOG --log-prefix two\n"
		"-A INPUT -p tcp -j LOG --log-prefix tcp\n"
		"-A INPUT -p udp --dport 9 -j LOG --log-prefix 3\n"
		"-A INPUT -p udp --dport 9 -j LOG --log-prefix 4\n"
		"-A INPUT -p udp --dport 9 -j LOG --log-prefix 5\n"
		"-A INPUT -p udp --dport 9 -j LOG --log-prefix 6\n"
		"-A INPUT -j DROP\n"
		"COMMIT\n");
	struct nfqct_pkt p = mkpkt("198.18.0.1", "198.18.0.2", IPPROTO_UDP, 1000, 53, IN);
	struct nfqct_rules_ct ct = { .state = NEW };
	struct nfqct_rules_verdict r;
	uint32_t mark = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	memset(&r, 0xaa, sizeof(r));
	nfqct_ruleset_filter(rs, 0, &p, &ct, 1, &mark, &r);
	CU_ASSERT_FALSE(r.accept);
	CU_ASSERT_EQUAL(r.by.rule, 8);	/* the DROP after them */
	CU_ASSERT_EQUAL(r.nlog, 2);
	CU_ASSERT_EQUAL(r.log_lost, 0);
	CU_ASSERT_STRING_EQUAL(r.log[0].spec->prefix, "one");
	CU_ASSERT_EQUAL(r.log[0].spec->level, 2);
	CU_ASSERT_EQUAL(r.log[0].spec->flags, NFQCT_LOG_UID);
	CU_ASSERT_EQUAL(r.log[0].mark, 0);
	CU_ASSERT_STRING_EQUAL(r.log[1].spec->prefix, "two");
	CU_ASSERT_EQUAL(r.log[1].spec->level, NFQCT_LOG_LEVEL_DEFAULT);
	CU_ASSERT_EQUAL(r.log[1].mark, 5);	/* after the MARK rule */
	p = mkpkt("198.18.0.1", "198.18.0.2", IPPROTO_UDP, 1000, 9, IN);
	mark = 0;
	nfqct_ruleset_filter(rs, 0, &p, &ct, 1, &mark, &r);
	CU_ASSERT_EQUAL(r.nlog, NFQCT_RULES_MAX_LOG);
	CU_ASSERT_EQUAL(r.log_lost, 6 - NFQCT_RULES_MAX_LOG);
	CU_ASSERT_STRING_EQUAL(r.log[3].spec->prefix, "4");
	nfqct_ruleset_free(rs);
}

/* The reject types' names, families and counterparts (reject.h). */
static void test_reject_names(void)
{
	CU_ASSERT_EQUAL(nfqct_reject_find("icmp-host-prohibited", 0), NFQCT_REJECT_HOST_PROHIB);
	CU_ASSERT_EQUAL(nfqct_reject_find("HOST-PROHIB", AF_INET), NFQCT_REJECT_HOST_PROHIB);
	CU_ASSERT_EQUAL(nfqct_reject_find("host-prohib", AF_INET6), NFQCT_REJECT_NONE);
	CU_ASSERT_EQUAL(nfqct_reject_find("port-unreach", 0), NFQCT_REJECT_PORT_UNREACH);
	CU_ASSERT_EQUAL(nfqct_reject_find("port-unreach", AF_INET6), NFQCT_REJECT6_PORT_UNREACH);
	CU_ASSERT_EQUAL(nfqct_reject_find("tcp-rst", AF_INET), NFQCT_REJECT_TCP_RESET);
	CU_ASSERT_EQUAL(nfqct_reject_find("tcp-rst", AF_INET6), NFQCT_REJECT_NONE);
	CU_ASSERT_EQUAL(nfqct_reject_find("tcp-reset", AF_INET6), NFQCT_REJECT_TCP_RESET);
	CU_ASSERT_EQUAL(nfqct_reject_find("icmp-port", 0), NFQCT_REJECT_NONE);
	CU_ASSERT_STRING_EQUAL(nfqct_reject_name(NFQCT_REJECT6_REJECT_ROUTE), "icmp6-reject-route");
	CU_ASSERT_PTR_NULL(nfqct_reject_name(0));
	CU_ASSERT_PTR_NULL(nfqct_reject_name(NFQCT_REJECT_MAX));
	CU_ASSERT_EQUAL(nfqct_reject_counterpart(NFQCT_REJECT6_ADM_PROHIB), NFQCT_REJECT_ADMIN_PROHIB);
	CU_ASSERT_EQUAL(nfqct_reject_counterpart(NFQCT_REJECT_PROTO_UNREACH), 0);
	CU_ASSERT_EQUAL(nfqct_reject_family(NFQCT_REJECT_TCP_RESET), 0);
	/* every type fits the four mark bits, and the mark keeps the other bits */
	CU_ASSERT(NFQCT_REJECT_MAX <= 16);
	CU_ASSERT_EQUAL(nfqct_reject_mark(0x0fffffff, NFQCT_REJECT6_ADM_PROHIB, 28), 0xafffffffu);
	CU_ASSERT_EQUAL(nfqct_reject_mark(0xffffffff, NFQCT_REJECT_NET_UNREACH, 0), 0xfffffff1u);
}

static void test_chains(void)
{
	struct nfqct_ruleset *rs;
	char *e = load_err("*filter\n:tcp_in - [0:0]\n-A tcp_in --dport 22 -p tcp -j ACCEPT\nCOMMIT\n");

	/* --dport needs -p before it, as in iptables. */
	CU_ASSERT_STRING_EQUAL(e, "t.rules:3:11: error: --dport needs -p tcp, udp, udplite, sctp or "
			       "dccp before it\n");
	free(e);

	rs = load("*filter\n"
		  ":INPUT DROP [0:0]\n"
		  ":FORWARD ACCEPT [0:0]\n"
		  ":OUTPUT ACCEPT [0:0]\n"
		  ":tcp_in - [0:0]\n"
		  "-N ssh\n"
		  "-A INPUT -p tcp -j tcp_in\n"
		  "-A INPUT -p tcp --dport 81 -j ACCEPT\n"
		  "-A tcp_in -p tcp --dport 22 -j ssh\n"
		  "-A tcp_in -p tcp --dport 22 -j ACCEPT\n"
		  "-A tcp_in -p tcp --dport 80 -j ACCEPT\n"
		  "-A tcp_in -p tcp --dport 81 -j RETURN\n"
		  "-A tcp_in -p tcp --dport 82 -j DROP\n"
		  "-A ssh -s 10.0.0.0/8 -j RETURN\n"
		  "-A ssh -s 198.51.100.0/24 -j DROP\n"
		  "COMMIT\n");
	struct nfqct_pkt p = mkpkt("10.1.1.1", "10.0.0.2", IPPROTO_TCP, 1, 22, IN);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));		/* ssh RETURN, then tcp_in ACCEPT */
	p = mkpkt("198.51.100.7", "10.0.0.2", IPPROTO_TCP, 1, 22, IN);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));		/* DROP in ssh */
	p = mkpkt("192.0.2.9", "10.0.0.2", IPPROTO_TCP, 1, 22, IN);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));		/* end of ssh returns */
	p.tuple.dp.port = htons(80);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(81);
	CU_ASSERT_TRUE(filt(rs, &p, NEW));		/* RETURN to INPUT, then ACCEPT */
	p.tuple.dp.port = htons(82);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.tuple.dp.port = htons(83);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));		/* INPUT policy DROP */
	p.hook = NFQCT_HOOK_FORWARD;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));		/* FORWARD policy ACCEPT */
	nfqct_ruleset_free(rs);

	/* RETURN in a built-in chain applies the policy; a rule without -j counts only. */
	rs = load("*filter\n:INPUT DROP\n:FORWARD DROP\n-A INPUT -p tcp\n-A INPUT -p tcp -j RETURN\n"
		  "-A INPUT -j ACCEPT\n-A FORWARD -j ACCEPT\nCOMMIT\n");
	p = mkpkt("10.1.1.1", "10.0.0.2", IPPROTO_TCP, 1, 22, IN);
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.tuple.proto = IPPROTO_UDP;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);
}

static void test_hooks(void)
{
	struct nfqct_ruleset *rs = load("*filter\n:INPUT DROP\n:FORWARD DROP\n:OUTPUT DROP\n"
					"-A OUTPUT -p udp -j ACCEPT\nCOMMIT\n");
	struct nfqct_pkt p = mkpkt("10.1.1.1", "10.0.0.2", IPPROTO_UDP, 1, 2, IN);

	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.hook = NFQCT_HOOK_FORWARD;
	CU_ASSERT_FALSE(filt(rs, &p, NEW));
	p.hook = NFQCT_HOOK_OUTPUT;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.hook = NFQCT_HOOK_PREROUTING;		/* no filter chain: accepted */
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	p.hook = NFQCT_HOOK_POSTROUTING;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);

	/* An absent table accepts everything. */
	rs = nfqct_ruleset_accept_all(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	p.hook = IN;
	CU_ASSERT_TRUE(filt(rs, &p, NEW));
	nfqct_ruleset_free(rs);
}

static void test_raw(void)
{
	struct nfqct_ruleset *rs = load(
		"*raw\n:PREROUTING ACCEPT\n:OUTPUT ACCEPT\n"
		"-A PREROUTING -p tcp --dport 80 -j NOTRACK\n"
		"-A PREROUTING -p tcp -j CT --zone 7\n"		/* not after a NOTRACK */
		"-A PREROUTING -m conntrack --ctstate UNTRACKED -j MARK --set-mark 9\n"
		"-A PREROUTING -s 2001:db8::/32 -j CT --zone 2\n"
		"-A PREROUTING -s 2001:db8::/32 -j CT --zone 3\n"	/* the first CT wins */
		"-A PREROUTING -p udp -j CT --notrack\n"
		"-A PREROUTING -p 47 -j DROP\n"
		"-A OUTPUT -p tcp --sport 80 -j NOTRACK\n"
		"COMMIT\n");
	struct nfqct_pkt p = mkpkt("10.1.1.1", "10.0.0.2", IPPROTO_TCP, 1, 80, NFQCT_HOOK_PREROUTING);
	struct tv v;

	memset(&v, 0xaa, sizeof(v));
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_TRUE(v.notrack);
	CU_ASSERT_EQUAL(v.zone, 0);
	CU_ASSERT_FALSE(v.drop);
	CU_ASSERT_TRUE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 9);

	/* INPUT and FORWARD packets run raw PREROUTING too. */
	p.hook = NFQCT_HOOK_FORWARD;
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_TRUE(v.notrack);
	p.hook = NFQCT_HOOK_INPUT;
	p.tuple.dp.port = htons(81);
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_FALSE(v.notrack);
	CU_ASSERT_EQUAL(v.zone, 7);
	CU_ASSERT_FALSE(v.set_mark);
	CU_ASSERT_EQUAL(v.mark, 0);

	p = mkpkt("2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6, 128, 0, NFQCT_HOOK_PREROUTING);
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_FALSE(v.notrack);
	CU_ASSERT_EQUAL(v.zone, 2);
	p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1, 2, NFQCT_HOOK_PREROUTING);
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_TRUE(v.notrack);
	CU_ASSERT_FALSE(v.drop);
	p.tuple.proto = 47;
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_FALSE(v.notrack);
	CU_ASSERT_TRUE(v.drop);

	/* OUTPUT and POSTROUTING packets run raw OUTPUT. */
	p = mkpkt("10.0.0.2", "10.1.1.1", IPPROTO_TCP, 80, 1, NFQCT_HOOK_OUTPUT);
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_TRUE(v.notrack);
	p.hook = NFQCT_HOOK_POSTROUTING;
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_TRUE(v.notrack);
	p.tuple.sp.port = htons(81);
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_FALSE(v.notrack);
	CU_ASSERT_FALSE(v.drop);
	nfqct_ruleset_free(rs);

	rs = load("*raw\n:PREROUTING DROP\n-A PREROUTING -p tcp -j ACCEPT\nCOMMIT\n");
	p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2, NFQCT_HOOK_PREROUTING);
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_FALSE(v.drop);
	p.tuple.proto = IPPROTO_UDP;
	run_raw(rs, 0, &p, &v);
	CU_ASSERT_TRUE(v.drop);
	nfqct_ruleset_free(rs);
}

/* ---- counters ---- */

static void test_counters(void)
{
	struct nfqct_ruleset *rs = load_n("*filter\n:INPUT DROP\n:c - [0:0]\n"
					  "-A INPUT -p tcp -j c\n"
					  "-A INPUT -p udp -j ACCEPT\n"
					  "-A c -s 10.0.0.1 -j ACCEPT\n"
					  "COMMIT\n", 3);
	struct nfqct_pkt t = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2, IN);
	struct nfqct_pkt u = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1, 2, IN);
	struct nfqct_pkt g = mkpkt("10.0.0.1", "10.0.0.2", 47, 1, 2, IN);
	struct tv v;
	uint64_t pk, by;
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_EQUAL(nfqct_ruleset_nworkers(rs), 3);
	t.len = 60;
	u.len = 1000;
	g.len = 7;
	run_filter(rs, 0, &t, NEW, &v);
	run_filter(rs, 2, &t, NEW, &v);
	run_filter(rs, 2, &t, NEW, &v);
	run_filter(rs, 1, &u, NEW, &v);
	run_filter(rs, 1, &g, NEW, &v);
	run_filter(rs, 1, &g, NEW, &v);

	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", 0, 0, &pk, &by), 0);
	CU_ASSERT_EQUAL(pk, 1);
	CU_ASSERT_EQUAL(by, 60);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", 0, 1, &pk, &by), 0);
	CU_ASSERT_EQUAL(pk, 0);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", 0, 2, &pk, &by), 0);
	CU_ASSERT_EQUAL(pk, 2);
	CU_ASSERT_EQUAL(by, 120);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", 0, NFQCT_RULES_ALL_WORKERS,
					       &pk, &by), 0);
	CU_ASSERT_EQUAL(pk, 3);
	CU_ASSERT_EQUAL(by, 180);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "c", 0, NFQCT_RULES_ALL_WORKERS,
					       &pk, &by), 0);
	CU_ASSERT_EQUAL(pk, 3);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", 1, 1, &pk, &by), 0);
	CU_ASSERT_EQUAL(pk, 1);
	CU_ASSERT_EQUAL(by, 1000);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", -1, 1, &pk, &by), 0);
	CU_ASSERT_EQUAL(pk, 2);			/* the policy */
	CU_ASSERT_EQUAL(by, 14);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", 2, 1, &pk, &by), -ENOENT);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "c", -1, 1, &pk, &by), -ENOENT);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "INPUT", 0, 3, &pk, &by), -ENOENT);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "nat", "INPUT", 0, 0, &pk, &by), -ENOENT);

	m = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(nfqct_ruleset_print(rs, m, true), 0);
	fclose(m);
	CU_ASSERT_STRING_EQUAL(text,
		"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
		"*filter\n"
		":INPUT DROP [2:14]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:c - [0:0]\n"
		"[3:180] -A INPUT -p tcp -j c\n"
		"[1:1000] -A INPUT -p udp -j ACCEPT\n"
		"[3:180] -A c -s 10.0.0.1/32 -j ACCEPT\n"
		"COMMIT\n");
	/* The -c form loads too (counters ignored). */
	{
		struct nfqct_ruleset *rs2 = load(text);

		CU_ASSERT_PTR_NOT_NULL(rs2);
		nfqct_ruleset_free(rs2);
	}
	free(text);
	nfqct_ruleset_free(rs);
}

/* ---- print and reload ---- */

static char *print(const struct nfqct_ruleset *rs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	CU_ASSERT_EQUAL(nfqct_ruleset_print(rs, m, false), 0);
	fclose(m);
	return text;
}

static void test_roundtrip(void)
{
	const char *src =
		"# every option once\n"
		"*raw\n"
		":PREROUTING ACCEPT [5:6]\n"
		"-A PREROUTING -p tcp -m tcp --dport 80 -j NOTRACK\n"
		"-A PREROUTING -6 -p tcp --dport 80 -j CT --notrack\n"
		"-A PREROUTING -s 2001:db8::1/32 -j CT --zone 2\n"
		"-A PREROUTING -i eth+ -j MARK --or-mark 0x10\n"
		"COMMIT\n"
		"*filter\n"
		":INPUT DROP\n"
		":user - [0:0]\n"
		"-A INPUT ! -s 10.9.8.7/8 ! -d 10.1.1.1 ! -i lo ! -p udp -j user\n"
		"-A INPUT -p udp ! --sport 1:1023 --dport 53 -m comment --comment \"dns \\\"x\\\" \\\\ y\"\n"
		"-A INPUT -p icmp --icmp-type 8 -m state --state NEW,ESTABLISHED -j ACCEPT\n"
		"-A INPUT -p icmpv6 ! --icmpv6-type 1/3 -m conntrack ! --ctstate INVALID -j ACCEPT\n"
		"-A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT\n"
		"-A FORWARD -o wlan0 -i eth1 -m mark ! --mark 1/0x3 -j DROP\n"
		"-A user -4 -j RETURN\n"
		"-A user -m mark --mark 0xffffffff -j MARK --set-mark 1\n"
		"COMMIT\n";
	struct nfqct_ruleset *rs = load(src), *rs2;
	char *a, *b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	a = print(rs);
	CU_ASSERT_STRING_EQUAL(a,
		"*raw\n"
		":PREROUTING ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		"-A PREROUTING -p tcp -m tcp --dport 80 -j NOTRACK\n"
		"-A PREROUTING -6 -p tcp -m tcp --dport 80 -j CT --notrack\n"
		"-A PREROUTING -s 2001:db8::/32 -j CT --zone 2\n"
		"-A PREROUTING -i eth+ -j MARK --set-xmark 0x10/0x10\n"
		"COMMIT\n"
		"*filter\n"
		":INPUT DROP [0:0]\n"
		":FORWARD ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		":user - [0:0]\n"
		"-A INPUT ! -s 10.0.0.0/8 ! -d 10.1.1.1/32 ! -i lo ! -p udp -j user\n"
		"-A INPUT -p udp -m udp ! --sport 1:1023 --dport 53 -m comment --comment "
		"\"dns \\\"x\\\" \\\\ y\"\n"
		"-A INPUT -p icmp -m icmp --icmp-type 8 -m state --state NEW,ESTABLISHED -j ACCEPT\n"
		"-A INPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type 1/3 -m conntrack ! --ctstate INVALID "
		"-j ACCEPT\n"
		"-A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT\n"
		"-A FORWARD -i eth1 -o wlan0 -m mark ! --mark 0x1/0x3 -j DROP\n"
		"-A user -4 -j RETURN\n"
		"-A user -m mark --mark 0xffffffff -j MARK --set-xmark 0x1/0xffffffff\n"
		"COMMIT\n");
	rs2 = load(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs2);
	b = print(rs2);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	nfqct_ruleset_free(rs);
	nfqct_ruleset_free(rs2);
}

/* Defect G: names with a quote, a backslash, a blank or a CR; the printed form loads back. */
static void test_names(void)
{
	const char *src =
		"*filter\n"
		":\"\\\"\" - [0:0]\n"			/* the chain named " */
		":\"a\\\"b\\\\\" - [0:0]\n"		/* a"b\ */
		":c\\d - [0:0]\n"				/* c\d, bare */
		"-A INPUT -i \"x\\\"y\" -j \"\\\"\"\n"
		"-A FORWARD ! -o \"q\\\"+\" -j \"a\\\"b\\\\\"\n"
		"-A \"\\\"\" -j c\\d\n"
		"COMMIT\n";
	const char *printed =
		"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
		"*filter\n"
		":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":\"\\\"\" - [0:0]\n"
		":\"a\\\"b\\\\\" - [0:0]\n"
		":c\\d - [0:0]\n"
		"-A INPUT -i \"x\\\"y\" -j \"\\\"\"\n"
		"-A FORWARD ! -o \"q\\\"+\" -j \"a\\\"b\\\\\"\n"
		"-A \"\\\"\" -j c\\d\n"
		"COMMIT\n";
	struct nfqct_ruleset *rs = load(src), *rs2;
	uint64_t pk, by;
	char *a, *b, *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "\"", 0, 0, &pk, &by), 0);
	CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "a\"b\\", -1, 0, &pk, &by), -ENOENT);
	a = print(rs);
	CU_ASSERT_STRING_EQUAL(a, printed);
	rs2 = load(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs2);
	b = print(rs2);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	nfqct_ruleset_free(rs);
	nfqct_ruleset_free(rs2);

	/* White space in a chain name is refused, as iptables does; CR and tab too. */
	e = load_err("*filter\n:\"a b\" - [0:0]\n-N \"ab\r\"\n:\"a\tb\" - [0:0]\n-A INPUT -j \"a b\"\nCOMMIT\n");
	CU_ASSERT_STRING_EQUAL(e,
		"t.rules:2:2: error: a chain name cannot contain white space (a blank, tab or carriage "
		"return), as in iptables\n"
		"t.rules:3:4: error: a chain name cannot contain white space (a blank, tab or carriage "
		"return), as in iptables\n"
		"t.rules:4:2: error: a chain name cannot contain white space (a blank, tab or carriage "
		"return), as in iptables\n"
		"t.rules:5:13: error: no target or chain named 'a b' in table 'filter'\n");
	free(e);
}

/* A few exact error records; the golden files (tests/rules) cover every class. */
static void test_errors(void)
{
	char *e;

	e = load_err("*filter\n-A INPUT -p tcp --dport 80 -j ACCEPT\n");
	CU_ASSERT_STRING_EQUAL(e, "t.rules:1:1: error: COMMIT missing at end of table 'filter'\n");
	free(e);

	e = load_err("*filter\n-A INPUT -s 10.0.0.300 --bogus -j ACCEPT\n-A INPUT -j nowhere\nCOMMIT\n");
	CU_ASSERT_STRING_EQUAL(e,
		"t.rules:2:13: error: expected an address or CIDR, got '10.0.0.300'\n"
		"t.rules:2:24: error: unknown option '--bogus'\n"
		"t.rules:3:13: error: no target or chain named 'nowhere' in table 'filter'\n");
	free(e);

	e = load_err("*filter\n:a - [0:0]\n-A a -j a\nCOMMIT\n");
	CU_ASSERT_STRING_EQUAL(e, "t.rules:3:9: error: jump to 'a' makes a loop: a -> a\n");
	free(e);

	e = load_err("*raw\n-A PREROUTING -j CT --zone 65536\nCOMMIT\n");
	CU_ASSERT_STRING_EQUAL(e, "t.rules:2:28: error: expected a zone number 0..65535, got '65536'\n");
	free(e);

	/* A target's option without that target is unknown, argument or not. */
	e = load_err("*raw\n-A PREROUTING -j ACCEPT --zone\n-A PREROUTING -j DROP --set-mark\nCOMMIT\n");
	CU_ASSERT_STRING_EQUAL(e,
		"t.rules:2:25: error: unknown option '--zone' (an option of target CT)\n"
		"t.rules:3:23: error: unknown option '--set-mark' (an option of target MARK)\n");
	free(e);

	CU_ASSERT_PTR_NULL(load_err(""));
	CU_ASSERT_PTR_NULL(load_err("# only a comment\n\n   \n"));
}

static void test_nesting_limit(void)
{
	char text[8192];
	size_t off = 0;
	char *e;
	int n = NFQCT_RULES_MAX_DEPTH + 1;

	off += (size_t)snprintf(text + off, sizeof(text) - off, "*filter\n");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "-N c%d\n", i);
	off += (size_t)snprintf(text + off, sizeof(text) - off, "-A INPUT -j c0\n");
	for (int i = 0; i + 1 < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "-A c%d -j c%d\n", i, i + 1);
	off += (size_t)snprintf(text + off, sizeof(text) - off, "-A c%d -j ACCEPT\nCOMMIT\n", n - 1);
	e = load_err(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "nests user chains 33 deep (at most 32)"));
	free(e);

	/* Exactly the limit loads and runs to the innermost ACCEPT. */
	off = 0;
	n = NFQCT_RULES_MAX_DEPTH;
	off += (size_t)snprintf(text + off, sizeof(text) - off, "*filter\n:INPUT DROP\n");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "-N c%d\n", i);
	off += (size_t)snprintf(text + off, sizeof(text) - off, "-A INPUT -j c0\n");
	for (int i = 0; i + 1 < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "-A c%d -j c%d\n", i, i + 1);
	off += (size_t)snprintf(text + off, sizeof(text) - off, "-A c%d -j ACCEPT\nCOMMIT\n", n - 1);
	{
		struct nfqct_ruleset *rs = load(text);
		struct nfqct_pkt p = mkpkt("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2, IN);
		uint64_t pk, by;

		CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
		CU_ASSERT_TRUE(filt(rs, &p, NEW));
		CU_ASSERT_EQUAL(nfqct_ruleset_counters(rs, "filter", "c31", 0, 0, &pk, &by), 0);
		CU_ASSERT_EQUAL(pk, 1);
		nfqct_ruleset_free(rs);
	}
}

/* A growing text buffer for generated rulesets. */
struct gen {
	char *s;
	size_t len;
	FILE *f;
};

static void gen_open(struct gen *g)
{
	g->s = NULL;
	g->len = 0;
	g->f = open_memstream(&g->s, &g->len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->f);
}

static void gen_close(struct gen *g)
{
	CU_ASSERT_EQUAL_FATAL(fclose(g->f), 0);
}

/* INPUT -> c0 -> c1 -> ... -> c(n-1), one jump per level; @back: c(n-1) jumps to c0 too. */
static char *deep_chain(int n, bool back)
{
	struct gen g;

	gen_open(&g);
	fputs("*filter\n", g.f);
	for (int i = 0; i < n; i++)
		fprintf(g.f, "-N c%d\n", i);
	fputs("-A INPUT -j c0\n", g.f);
	for (int i = 0; i + 1 < n; i++)
		fprintf(g.f, "-A c%d -j c%d\n", i, i + 1);
	if (back)
		fprintf(g.f, "-A c%d -j c0\n", n - 1);
	fputs("COMMIT\n", g.f);
	gen_close(&g);
	return g.s;
}

/* Defect F: 14,000 nested chains used to overflow the stack of the loader. */
static void test_deep_nesting(void)
{
	char *text = deep_chain(14000, false), *e;
	char expect[256];

	CU_ASSERT(strlen(text) > 360000);
	e = load_err(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(e, "t.rules:1:1: error: chain 'INPUT' nests user chains 14000 deep (at most 32)\n");
	free(e);
	free(text);

	/* The same with a loop back from the innermost chain: the depth, and the loop at its jump. */
	text = deep_chain(14000, true);
	e = load_err(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	snprintf(expect, sizeof(expect), "t.rules:1:1: error: chain 'INPUT' nests user chains 14000 deep "
		 "(at most 32)\nt.rules:28002:14: error: jump to 'c0' makes a loop: c0 -> c1 -> c2 -> ");
	CU_ASSERT_NSTRING_EQUAL(e, expect, strlen(expect));
	{
		int lines = 0;

		for (const char *c = e; *c; c++)
			lines += *c == '\n';
		CU_ASSERT_EQUAL(lines, 2);	/* nothing else */
	}
	free(e);
	free(text);
}

/*
 * @n chains in runs of 16 (c0 -> c1 -> ... -> c15, c16 -> ...), INPUT
 * jumping to the head of each run: the work of a load, in chain-name
 * comparisons and jumps followed (rules_parse_steps).
 */
static unsigned long load_steps(int n)
{
	struct nfqct_ruleset *rs;
	unsigned long before;
	struct gen g;

	gen_open(&g);
	fputs("*filter\n", g.f);
	for (int i = 0; i < n; i++)
		fprintf(g.f, ":c%d - [0:0]\n", i);
	for (int i = 0; i < n; i += 16)
		fprintf(g.f, "-A INPUT -j c%d\n", i);
	for (int i = 0; i < n; i++)
		if ((i + 1) % 16 && i + 1 < n)
			fprintf(g.f, "-A c%d -j c%d\n", i, i + 1);
		else
			fprintf(g.f, "-A c%d -j ACCEPT\n", i);
	fputs("COMMIT\n", g.f);
	gen_close(&g);
	before = rules_parse_steps;
	rs = load_n(g.s, 1);
	CU_ASSERT_PTR_NOT_NULL(rs);
	nfqct_ruleset_free(rs);
	free(g.s);
	return rules_parse_steps - before;
}

/* Defect F: loading was quadratic in the number of chains (12,000 took 1.2 s). */
static void test_linear_load(void)
{
	unsigned long s6 = load_steps(6000), s12 = load_steps(12000);

	/* Linear: twice the chains, about twice the work (quadratic was 4x, and 10^8 steps). */
	CU_ASSERT(s12 <= s6 * 9 / 4);
	CU_ASSERT(s12 <= 8ul * 12000);
	CU_ASSERT(s6 >= 3ul * 6000);	/* the counter counts: every rule is looked at */
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "protocol", test_proto },
		{ "addresses and families", test_addresses_and_families },
		{ "ports", test_ports },
		{ "icmp types", test_icmp },
		{ "interfaces", test_interfaces },
		{ "ifname cache", test_ifname_cache },
		{ "ct states", test_ctstate },
		{ "marks", test_mark },
		{ "REJECT", test_reject },
		{ "REJECT types", test_reject_names },
		{ "LOG", test_log },
		{ "helper match", test_helper_match },
		{ "chains and policies", test_chains },
		{ "hooks", test_hooks },
		{ "raw table", test_raw },
		{ "counters", test_counters },
		{ "print and reload", test_roundtrip },
		{ "names that need quotes", test_names },
		{ "errors", test_errors },
		{ "nesting limit", test_nesting_limit },
		{ "14,000 nested chains", test_deep_nesting },
		{ "loading is linear", test_linear_load },
	};

	nfqct_ifname_set_resolver(fake_indextoname);
	return unit_main("rules", tests, UNIT_COUNT(tests));
}
