/*
 * test_ctfilter.c - conntrack(8)'s filters: parsing and its errors, the
 * canonical text read back, matching, and list/count/delete/update run
 * on a real table.
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/ctcmd.h"
#include "nfqct/ctfilter.h"
#include "unit.h"

static char perr_msg[256];

/* parse a blank-separated command line */
static int parse(const char *line, struct nfqct_ctcmd *cmd)
{
	static char buf[1024];
	char *w[64], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	perr_msg[0] = '\0';
	return nfqct_ctcmd_parse(n, w, cmd, perr_msg, sizeof(perr_msg));
}

/* @line must fail with a message containing @needle */
static void bad(const char *line, const char *needle)
{
	struct nfqct_ctcmd cmd;

	CU_ASSERT_EQUAL(parse(line, &cmd), -EINVAL);
	if (!strstr(perr_msg, needle)) {
		fprintf(stderr, "\n'%s': message '%s' lacks '%s'\n", line, perr_msg, needle);
		CU_FAIL("error message");
	}
}

static void test_parse_errors(void)
{
	bad("list --bogus 1", "unknown option '--bogus'");
	bad("list -s 198.18.0.300", "bad address '198.18.0.300'");
	bad("list -s 198.18.0.1/33", "bad address");
	bad("list -p tcp --sport 65536", "bad port '65536'");
	bad("list -p tcp --dport x", "bad port 'x'");
	bad("list --sport 80", "--sport needs -p");
	bad("list -p icmp --dport 80", "--dport: protocol 1 has no ports");
	bad("list -s 198.18.0.1 -d 2001:db8::1", "contradicts");
	bad("list -f ipv6 -s 198.18.0.1", "contradicts");
	bad("list -s 2001:db8::1 -f ipv4", "contradicts");
	bad("list -f ipv4 -p icmpv6", "contradicts");
	bad("list --state ESTABLISHED", "--state needs -p tcp");
	bad("list -p udp --state ESTABLISHED", "--state needs -p tcp");
	bad("list -p tcp --state BOGUS", "unknown tcp state 'BOGUS'");
	bad("list --mark 0x10/0x1", "bits outside the mask");
	bad("list -u ASSURED,UNSET", "bad status");
	bad("list -p tcp -p udp", "-p given twice");
	bad("list -o yaml", "bad format 'yaml'");
	bad("list -o json,id", "json goes alone");
	bad("list --zone 70000", "bad zone");
	bad("list -s", "needs a value");
	bad("count -o json", "-o makes no sense");
	bad("delete", "give --all");
	bad("delete -o id", "give --all");
	bad("delete --all -p tcp", "--all contradicts a filter");
	bad("update -s 198.18.0.1", "expected --mark");
	bad("update --mark 1", "give --all");
	bad("list --all", "unknown option '--all'");
}

static void test_format_roundtrip(void)
{
	static const char *const lines[] = {
		"list -p tcp -s 198.18.0.0/15 --dport 80 --state ESTABLISHED,TIME_WAIT -o extended,id",
		"list -f ipv6 -r 2001:db8::1 -q 2001:db8:1::/48 -u ASSURED,SEEN_REPLY -w 3",
		"delete -p udp --sport 1 --reply-port-src 2 --reply-port-dst 3 -m 5/0xff",
		"update --all --mark 0x10/0xf0",
		"count -u UNSET",
		"delete --all",
	};

	for (size_t i = 0; i < UNIT_COUNT(lines); i++) {
		struct nfqct_ctcmd a, b;
		char text[1024], text2[1024];

		CU_ASSERT_EQUAL_FATAL(parse(lines[i], &a), 0);
		CU_ASSERT_FATAL(nfqct_ctcmd_format(&a, text, sizeof(text)) > 0);
		CU_ASSERT_EQUAL_FATAL(parse(text, &b), 0);
		CU_ASSERT_FATAL(nfqct_ctcmd_format(&b, text2, sizeof(text2)) > 0);
		CU_ASSERT_STRING_EQUAL(text, text2);
		CU_ASSERT_EQUAL(a.f.set, b.f.set);
		CU_ASSERT_EQUAL(a.output, b.output);
		CU_ASSERT_EQUAL(a.kind, b.kind);
		CU_ASSERT(nfqct_ctfilter_match(&a.f, &(struct nfqct_ct_info){ 0 }) ==
			  nfqct_ctfilter_match(&b.f, &(struct nfqct_ct_info){ 0 }));
	}
	{
		struct nfqct_ctcmd a;
		char small[8];

		CU_ASSERT_EQUAL(parse("list -p tcp", &a), 0);
		CU_ASSERT_EQUAL(nfqct_ctcmd_format(&a, small, sizeof(small)), -ENOSPC);
	}
}

static struct nfqct_ct_info info(const char *src, const char *dst, uint8_t proto, uint16_t sp,
				 uint16_t dp)
{
	struct nfqct_ct_info ci;
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	memset(&ci, 0, sizeof(ci));
	ci.orig.family = (uint8_t)af;
	ci.orig.proto = proto;
	CU_ASSERT_FATAL(inet_pton(af, src, ci.orig.src.b) == 1);
	CU_ASSERT_FATAL(inet_pton(af, dst, ci.orig.dst.b) == 1);
	ci.orig.sp.port = htons(sp);
	ci.orig.dp.port = htons(dp);
	nfqct_tuple_invert(&ci.reply, &ci.orig);
	return ci;
}

static bool match(const char *line, const struct nfqct_ct_info *ci)
{
	struct nfqct_ctcmd cmd;

	CU_ASSERT_EQUAL_FATAL(parse(line, &cmd), 0);
	return nfqct_ctfilter_match(&cmd.f, ci);
}

static void test_match(void)
{
	struct nfqct_ct_info t = info("198.18.0.2", "198.18.1.2", IPPROTO_TCP, 40000, 80);
	struct nfqct_ct_info u6 = info("2001:db8::2", "2001:db8:1::2", IPPROTO_UDP, 5353, 53);

	t.state_name = "ESTABLISHED";
	t.assured = t.seen_reply = true;
	t.mark = 0x12;
	t.zone = 7;

	CU_ASSERT(match("list", &t));
	CU_ASSERT(match("list -f ipv4", &t));
	CU_ASSERT(!match("list -f ipv6", &t));
	CU_ASSERT(match("list -p tcp", &t));
	CU_ASSERT(!match("list -p udp", &t));
	CU_ASSERT(match("list -s 198.18.0.2", &t));
	CU_ASSERT(!match("list -s 198.18.0.3", &t));
	CU_ASSERT(match("list -s 198.18.0.0/24", &t));
	CU_ASSERT(!match("list -s 198.18.1.0/24", &t));
	CU_ASSERT(match("list -s 198.18.0.0/15 -d 198.18.1.2", &t));
	CU_ASSERT(match("list -r 198.18.1.2 -q 198.18.0.2", &t));
	CU_ASSERT(!match("list -r 198.18.0.2", &t));
	CU_ASSERT(match("list -p tcp --sport 40000 --dport 80", &t));
	CU_ASSERT(!match("list -p tcp --dport 81", &t));
	CU_ASSERT(match("list -p tcp --reply-port-src 80 --reply-port-dst 40000", &t));
	CU_ASSERT(!match("list -p tcp --reply-port-src 40000", &t));
	CU_ASSERT(match("list -p tcp --state ESTABLISHED", &t));
	CU_ASSERT(match("list -p tcp --state TIME_WAIT,ESTABLISHED", &t));
	CU_ASSERT(!match("list -p tcp --state TIME_WAIT", &t));
	CU_ASSERT(match("list -u ASSURED", &t));
	CU_ASSERT(match("list -u SEEN_REPLY,ASSURED", &t));
	CU_ASSERT(!match("list -u UNSET", &t));
	CU_ASSERT(match("list --zone 7", &t));
	CU_ASSERT(!match("list --zone 0", &t));
	CU_ASSERT(match("list --mark 0x12", &t));
	CU_ASSERT(match("list --mark 2/0xf", &t));
	CU_ASSERT(!match("list --mark 0x13", &t));

	CU_ASSERT(match("list -f ipv6 -p udp --dport 53", &u6));
	CU_ASSERT(match("list -s 2001:db8::/64", &u6));
	CU_ASSERT(!match("list -s 2001:db8:1::/64", &u6));
	CU_ASSERT(!match("list -s 198.18.0.2", &u6));	/* the other family */
	CU_ASSERT(match("list -u UNSET", &u6));
	CU_ASSERT(!match("list -u SEEN_REPLY", &u6));
}

/* ---- on a table ---- */

static struct nfqct_settings settings;

static void track_udp(struct nfqct_ct *ct, const char *src, const char *dst, uint16_t sp, uint16_t dp)
{
	struct nfqct_pkt p;
	struct nfqct_ct_result r;
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	memset(&p, 0, sizeof(p));
	p.tuple.family = (uint8_t)af;
	p.tuple.proto = IPPROTO_UDP;
	CU_ASSERT_FATAL(inet_pton(af, src, p.tuple.src.b) == 1);
	CU_ASSERT_FATAL(inet_pton(af, dst, p.tuple.dst.b) == 1);
	p.tuple.sp.port = htons(sp);
	p.tuple.dp.port = htons(dp);
	p.len = p.caplen = 100;
	nfqct_ct_in(ct, &settings, NULL, &p, 0, 1000, &r);
	CU_ASSERT_FATAL(r.conn != NULL);
	CU_ASSERT(nfqct_ct_confirm(ct, NULL, &r, true, 1000));
}

/* run a command line on @ct; its output in a static buffer */
static char *run(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const char *line, int *ret)
{
	static char out[8192], buf[1024];
	char *w[64], *save = NULL;
	int n = 0;
	FILE *f;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	memset(out, 0, sizeof(out));
	f = fmemopen(out, sizeof(out) - 1, "w");
	CU_ASSERT_FATAL(f != NULL);
	*ret = nfqct_ctcmd_run(ct, st, f, n, w, 2000);
	fclose(f);
	return out;
}

static unsigned int lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_table(void)
{
	struct nfqct_ct_stats st = { 0 };
	struct nfqct_ct *ct;
	char *o;
	int r;

	unit_settings(&settings);
	settings.ct_acct = 1;
	ct = nfqct_ct_create(&settings);
	CU_ASSERT_FATAL(ct != NULL);
	track_udp(ct, "198.18.0.2", "198.18.1.2", 1000, 53);
	track_udp(ct, "198.18.0.2", "198.18.1.2", 1001, 53);
	track_udp(ct, "198.18.0.3", "198.18.1.2", 1000, 123);
	track_udp(ct, "2001:db8::2", "2001:db8:1::2", 1000, 53);

	o = run(ct, &st, "count", &r);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_STRING_EQUAL(o, "4\n");
	o = run(ct, &st, "count -p udp --dport 53", &r);
	CU_ASSERT_STRING_EQUAL(o, "3\n");
	o = run(ct, &st, "list -s 198.18.0.3", &r);
	CU_ASSERT_EQUAL(lines(o), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "udp      17 29 src=198.18.0.3 dst=198.18.1.2 sport=1000 dport=123 "
					 "packets=1 bytes=100 [UNREPLIED] src=198.18.1.2"));
	o = run(ct, &st, "list -f ipv6 -o extended,id", &r);
	CU_ASSERT_EQUAL(lines(o), 1);
	CU_ASSERT_EQUAL(strncmp(o, "ipv6     10 udp      17 ", 24), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, " use=1 id="));
	o = run(ct, &st, "list -p udp --sport 1001 -o json", &r);
	CU_ASSERT_EQUAL(lines(o), 1);
	CU_ASSERT_EQUAL(strncmp(o, "{\"family\":\"ipv4\",\"proto\":\"udp\",\"protonum\":17,\"timeout\":29,"
			       "\"orig\":{\"src\":\"198.18.0.2\",\"dst\":\"198.18.1.2\",\"sport\":1001,"
			       "\"dport\":53,\"packets\":1,\"bytes\":100}", 150), 0);

	o = run(ct, &st, "update -s 198.18.0.2 --mark 0x5", &r);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(lines(o), 3);	/* two entries and the summary */
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "nfqct: 2 flow entries have been updated."));
	o = run(ct, &st, "count --mark 5", &r);
	CU_ASSERT_STRING_EQUAL(o, "2\n");

	o = run(ct, &st, "delete -s 198.18.0.2 -p udp --sport 1000", &r);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "sport=1000 dport=53"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "nfqct: 1 flow entries have been deleted."));
	CU_ASSERT_EQUAL(st.delete, 1);
	o = run(ct, &st, "count", &r);
	CU_ASSERT_STRING_EQUAL(o, "3\n");

	o = run(ct, &st, "delete", &r);
	CU_ASSERT_EQUAL(r, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "--all"));
	o = run(ct, &st, "delete --all", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "nfqct: 3 flow entries have been deleted."));
	o = run(ct, &st, "count", &r);
	CU_ASSERT_STRING_EQUAL(o, "0\n");

	nfqct_ct_destroy(ct);
	rcu_quiescent_state();
}

static void test_is_table(void)
{
	char *l1[] = { "list" }, *l2[] = { "list", "--expect" }, *l3[] = { "list", "-p", "tcp" };
	char *c[] = { "count" }, *f[] = { "flush" };

	CU_ASSERT(!nfqct_ctcmd_is_table(1, l1));
	CU_ASSERT(!nfqct_ctcmd_is_table(2, l2));
	CU_ASSERT(nfqct_ctcmd_is_table(3, l3));
	CU_ASSERT(nfqct_ctcmd_is_table(1, c));
	CU_ASSERT(!nfqct_ctcmd_is_table(1, f));
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "parse errors name the bad word", test_parse_errors },
		{ "canonical text reads back the same", test_format_roundtrip },
		{ "match each filter", test_match },
		{ "list/count/delete/update on a table", test_table },
		{ "which commands are table commands", test_is_table },
	};
	int r;

	rcu_register_thread();
	r = unit_main("ctfilter", tests, UNIT_COUNT(tests));
	rcu_barrier();
	rcu_unregister_thread();
	return r;
}
