/*
 * test_rules_cmds.c - what iptables-restore files bring beyond -A: one-family
 * files (--rules-v4 / --rules-v6) and the pair they make (each half judges
 * its own family's packets only), -g, and -I/-D/-R in evaluation order.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nfqct/ct.h"
#include "nfqct/rules.h"
#include "unit.h"

/* @text in a fresh temporary file; returns its path (static, one per slot). */
static const char *tmpfile_with(int slot, const char *text)
{
	static char path[2][64];
	int fd;

	snprintf(path[slot], sizeof(path[slot]), "/tmp/nfqct-pair-XXXXXX");
	fd = mkstemp(path[slot]);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL((size_t)write(fd, text, strlen(text)), strlen(text));
	close(fd);
	return path[slot];
}

static struct nfqct_ruleset *load_fam(int family, const char *text, char *errs, size_t len)
{
	struct nfqct_ruleset *rs = NULL;
	const char *path = tmpfile_with(family == AF_INET6, text);
	FILE *e = fmemopen(errs, len, "w");
	int rc;

	CU_ASSERT_FATAL(e != NULL);
	rc = nfqct_ruleset_load_family(path, family, 1, &rs, e);
	fclose(e);
	unlink(path);
	CU_ASSERT_EQUAL(rc, rs ? 0 : -EINVAL);
	return rs;
}

static struct nfqct_pkt tcp_pkt(const char *src, const char *dst, uint16_t dport)
{
	struct nfqct_pkt p;
	int fam = strchr(src, ':') ? AF_INET6 : AF_INET;

	memset(&p, 0, sizeof(p));
	p.tuple.family = (uint8_t)fam;
	p.tuple.proto = IPPROTO_TCP;
	inet_pton(fam, src, &p.tuple.src);
	inet_pton(fam, dst, &p.tuple.dst);
	p.tuple.sp.port = htons(40000);
	p.tuple.dp.port = htons(dport);
	p.hook = NFQCT_HOOK_INPUT;
	p.len = 60;
	return p;
}

static struct nfqct_rules_verdict filter(const struct nfqct_ruleset *rs, const struct nfqct_pkt *p)
{
	struct nfqct_rules_ct ct = { .state = NFQCT_CTSTATE_NEW };
	struct nfqct_rules_verdict v;
	uint32_t mark = 0;

	nfqct_ruleset_filter(rs, 0, p, &ct, 1, &mark, &v);
	return v;
}

static uint64_t packets(const struct nfqct_ruleset *rs, int family, const char *chain, int index)
{
	uint64_t pk = ~0ull, by;

	CU_ASSERT_EQUAL(nfqct_ruleset_counters(nfqct_ruleset_family(rs, family), "filter", chain, index,
					       NFQCT_RULES_ALL_WORKERS, &pk, &by), 0);
	return pk;
}

static const char v4_text[] =
	"*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -6 -j ACCEPT\nCOMMIT\n";
static const char v6_text[] =
	"*raw\n-A PREROUTING -j NOTRACK\nCOMMIT\n"
	"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 23 -j DROP\nCOMMIT\n";

static void test_pair_judges_by_family(void)
{
	char e4[512] = "", e6[512] = "";
	struct nfqct_ruleset *rs4 = load_fam(AF_INET, v4_text, e4, sizeof(e4));
	struct nfqct_ruleset *rs6 = load_fam(AF_INET6, v6_text, e6, sizeof(e6));
	struct nfqct_ruleset *rs = nfqct_ruleset_pair(rs4, rs6, 1);
	struct nfqct_pkt a = tcp_pkt("198.18.0.1", "198.18.1.1", 22);
	struct nfqct_pkt b = tcp_pkt("198.18.0.1", "198.18.1.1", 23);
	struct nfqct_pkt c = tcp_pkt("2001:db8::1", "2001:db8:1::1", 22);
	struct nfqct_pkt d = tcp_pkt("2001:db8::1", "2001:db8:1::1", 23);
	struct nfqct_rules_verdict v;

	/* the -6 rule of the IPv4 file is skipped, with a note */
	CU_ASSERT_PTR_NOT_NULL(strstr(e4, ":4:10: note: rule skipped: it is for IPv6"));
	CU_ASSERT_STRING_EQUAL(e6, "");
	CU_ASSERT_FATAL(rs != NULL);
	CU_ASSERT_TRUE(nfqct_ruleset_is_pair(rs));
	CU_ASSERT_PTR_EQUAL(nfqct_ruleset_family(rs, AF_INET), rs);
	CU_ASSERT_PTR_NOT_EQUAL(nfqct_ruleset_family(rs, AF_INET6), rs);

	v = filter(rs, &a);	/* IPv4: its file's rule */
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, 0);
	v = filter(rs, &b);	/* IPv4: its file's DROP policy; the v6 file's port 23 rule is not seen */
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, -1);
	v = filter(rs, &c);	/* IPv6: its file's ACCEPT policy, not the v4 DROP */
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, -1);
	v = filter(rs, &d);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, 0);

	CU_ASSERT_EQUAL(packets(rs, AF_INET, "INPUT", 0), 1);
	CU_ASSERT_EQUAL(packets(rs, AF_INET, "INPUT", -1), 1);
	CU_ASSERT_EQUAL(packets(rs, AF_INET6, "INPUT", 0), 1);
	CU_ASSERT_EQUAL(packets(rs, AF_INET6, "INPUT", -1), 1);
	nfqct_ruleset_free(rs);
}

/* The raw table sees packets that did not parse: the version nibble picks the half. */
static void test_pair_raw_unparsed(void)
{
	char e[512];
	struct nfqct_ruleset *rs = nfqct_ruleset_pair(load_fam(AF_INET, v4_text, e, sizeof(e)),
						      load_fam(AF_INET6, v6_text, e, sizeof(e)), 1);
	uint8_t six[8] = { 0x60 }, four[8] = { 0x45 };
	struct nfqct_pkt p = { .data = six, .caplen = 8, .len = 8, .hook = NFQCT_HOOK_PREROUTING };
	struct nfqct_rules_verdict v;
	uint32_t mark = 0;

	CU_ASSERT_FATAL(rs != NULL);
	nfqct_ruleset_raw(rs, 0, &p, 1, &mark, &v);
	CU_ASSERT_TRUE(v.notrack);
	p.data = four;
	nfqct_ruleset_raw(rs, 0, &p, 1, &mark, &v);
	CU_ASSERT_FALSE(v.notrack);
	nfqct_ruleset_free(rs);
}

/* A missing half accepts its family; the pair prints both halves, each named. */
static void test_pair_missing_half_and_print(void)
{
	char e[512], *out = NULL;
	size_t len = 0;
	struct nfqct_ruleset *rs = nfqct_ruleset_pair(load_fam(AF_INET, v4_text, e, sizeof(e)), NULL, 1);
	struct nfqct_pkt c = tcp_pkt("2001:db8::1", "2001:db8:1::1", 80);
	struct nfqct_pkt b = tcp_pkt("198.18.0.1", "198.18.1.1", 80);
	FILE *m;

	CU_ASSERT_FATAL(rs != NULL);
	CU_ASSERT_TRUE(filter(rs, &c).accept);
	CU_ASSERT_FALSE(filter(rs, &b).accept);
	m = open_memstream(&out, &len);
	CU_ASSERT_EQUAL(nfqct_ruleset_print(rs, m, false), 0);
	fclose(m);
	CU_ASSERT_EQUAL(strncmp(out, "# IPv4 (--rules-v4)\n*raw\n", 25), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"
					   "# IPv6 (--rules-v6)\n*raw\n"));
	free(out);

	/* one half alone, as iptables-save / ip6tables-save print it */
	m = open_memstream(&out, &len);
	CU_ASSERT_EQUAL(nfqct_ruleset_print_family(rs, AF_INET6, m, false), 0);
	fclose(m);
	CU_ASSERT_STRING_EQUAL(out, "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
			       "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
			       "COMMIT\n");
	free(out);
	m = open_memstream(&out, &len);
	CU_ASSERT_EQUAL(nfqct_ruleset_print_family(rs, AF_INET, m, false), 0);
	fclose(m);
	CU_ASSERT_EQUAL(strncmp(out, "*raw\n", 5), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "IPv6"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "--dport 22 -j ACCEPT\nCOMMIT\n"));
	free(out);
	nfqct_ruleset_free(rs);
}

/* A one-family file refuses the other family's addresses. */
static void test_family_errors(void)
{
	char e[512] = "";
	struct nfqct_ruleset *rs = load_fam(AF_INET6, "*filter\n-A INPUT -s 198.18.0.1 -j DROP\nCOMMIT\n",
					    e, sizeof(e));

	CU_ASSERT_PTR_NULL(rs);
	CU_ASSERT_PTR_NOT_NULL(strstr(e, ":2:13: error: '198.18.0.1' is IPv4 but this is an IPv6 ruleset"));
	CU_ASSERT_EQUAL(nfqct_ruleset_load_family("/nonexistent", AF_UNIX, 1, &rs, NULL), -EINVAL);
}

static struct nfqct_ruleset *parse(const char *text)
{
	struct nfqct_ruleset *rs = NULL;

	CU_ASSERT_EQUAL(nfqct_ruleset_parse("t.rules", text, strlen(text), 1, &rs, stderr), 0);
	CU_ASSERT_FATAL(rs != NULL);
	return rs;
}

/*
 * -g: the end of the goto'd chain, or a RETURN in it, goes back to the
 * caller of the chain that did the goto (iptables-extensions: "return will
 * not continue processing in this chain but rather in the chain that called
 * us via --jump"), or to the built-in chain's policy.
 */
static void test_goto(void)
{
	struct nfqct_ruleset *rs = parse(
		"*filter\n:INPUT DROP\n:mid - [0:0]\n:tail - [0:0]\n"
		"-A INPUT -p tcp --dport 1 -g tail\n"	/* INPUT#1: to tail, then the policy */
		"-A INPUT -p tcp -j mid\n"		/* INPUT#2 */
		"-A INPUT -p tcp --dport 3 -j ACCEPT\n"	/* INPUT#3: reached after mid */
		"-A mid -p tcp --dport 2 -g tail\n"	/* mid#1 */
		"-A mid -p tcp --dport 3 -j DROP\n"	/* mid#2: skipped by the goto */
		"-A tail -p tcp --sport 9 -j RETURN\n"	/* tail#1 */
		"-A tail -p tcp --sport 8 -j ACCEPT\n"	/* tail#2 */
		"COMMIT\n");
	struct nfqct_pkt p = tcp_pkt("198.18.0.1", "198.18.1.1", 1);
	struct nfqct_rules_verdict v;

	v = filter(rs, &p);	/* INPUT#1 -g tail: falls off tail: INPUT's policy, not INPUT#2 */
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, -1);
	p.tuple.sp.port = htons(8);	/* tail#2 decides */
	v = filter(rs, &p);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, 1);
	CU_ASSERT_EQUAL(v.by.chain, 4);

	/* dport 3 via mid without goto: mid#2 drops */
	p = tcp_pkt("198.18.0.1", "198.18.1.1", 3);
	v = filter(rs, &p);
	CU_ASSERT_FALSE(v.accept);
	CU_ASSERT_EQUAL(v.by.chain, 3);
	CU_ASSERT_EQUAL(v.by.rule, 1);
	nfqct_ruleset_free(rs);

	/* mid -g tail, tail RETURNs: back in INPUT after INPUT#2 (mid's caller), so INPUT#3 */
	rs = parse("*filter\n:INPUT DROP\n:mid - [0:0]\n:tail - [0:0]\n"
		   "-A INPUT -p tcp -j mid\n-A INPUT -p tcp -j ACCEPT\n"
		   "-A mid -g tail\n-A mid -j DROP\n"
		   "-A tail -p tcp --sport 9 -j RETURN\nCOMMIT\n");
	p.tuple.sp.port = htons(9);
	v = filter(rs, &p);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.by.chain, 0);
	CU_ASSERT_EQUAL(v.by.rule, 1);
	p.tuple.sp.port = htons(7);	/* falls off tail: the same */
	v = filter(rs, &p);
	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, 1);
	nfqct_ruleset_free(rs);
}

/* -I, -R and -D change which rule decides, not just the printed order. */
static void test_insert_replace_delete(void)
{
	struct nfqct_ruleset *rs = parse(
		"*filter\n:INPUT ACCEPT\n"
		"-A INPUT -p tcp --dport 1 -j ACCEPT\n"
		"-I INPUT -p tcp -j DROP\n"		/* first: drops every TCP packet */
		"-R INPUT 2 -p tcp --dport 2 -j ACCEPT\n"	/* the dport 1 rule becomes dport 2 */
		"-D INPUT -p tcp -j DROP\n"		/* and the DROP goes again */
		"-I INPUT 2 -p tcp --dport 2 -j DROP\n"	/* after the accept: never decides */
		"COMMIT\n");
	struct nfqct_pkt p = tcp_pkt("198.18.0.1", "198.18.1.1", 2);
	struct nfqct_rules_verdict v = filter(rs, &p);

	CU_ASSERT_TRUE(v.accept);
	CU_ASSERT_EQUAL(v.by.rule, 0);
	nfqct_ruleset_free(rs);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "a pair judges by family", test_pair_judges_by_family },
		{ "raw: unparsed packets", test_pair_raw_unparsed },
		{ "missing half, printing", test_pair_missing_half_and_print },
		{ "family errors", test_family_errors },
		{ "-g goto", test_goto },
		{ "-I, -R, -D", test_insert_replace_delete },
	};

	return unit_main("rules commands", tests, UNIT_COUNT(tests));
}
