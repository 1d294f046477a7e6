/*
 * test_ipset.c - CUnit suite for the sets (ipset.h): each type's elements
 * added, tested and deleted, by command and by packet; timeouts on a fake
 * clock (expired elements hold nothing, housekeeping removes them);
 * nomatch and --return-nomatch; maxelem; family errors; the loader's
 * file:line:column errors leaving the running sets as they were; list and
 * save output; references keeping a set through a reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <urcu-qsbr.h>

#include "nfqct/ipset.h"
#include "unit.h"

/* Load @text; its errors in *@errs (caller frees) when @errs. */
static int load(const char *text, enum nfqct_ipset_load_mode mode, uint64_t now, char **errs)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *e = open_memstream(&buf, &len);
	int rc;

	rc = nfqct_ipset_load(in, "sets", e, mode, now);
	fclose(in);
	fclose(e);
	if (errs)
		*errs = buf;
	else
		free(buf);
	return rc;
}

/* Run a command that prints, its output in a buffer the caller frees. */
#define CAPTURE(buf, call) do { \
		size_t _len = 0; \
		FILE *_f = open_memstream(&(buf), &_len); \
		(void)(call); \
		fclose(_f); \
	} while (0)

static struct nfqct_tuple tup(int family, const char *src, const char *dst, uint8_t proto, uint16_t sp,
			      uint16_t dp)
{
	struct nfqct_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = (uint8_t)family;
	CU_ASSERT_EQUAL_FATAL(inet_pton(family, src, &t.src), 1);
	CU_ASSERT_EQUAL_FATAL(inet_pton(family, dst, &t.dst), 1);
	t.proto = proto;
	t.sp.port = htons(sp);
	t.dp.port = htons(dp);
	return t;
}

/* Does set @name hold the packet @t with flags @src (bit i: dimension i src)? */
static bool ptest(const char *name, const struct nfqct_tuple *t, unsigned int dim, unsigned int src,
		  uint64_t now)
{
	struct nfqct_ipset *s;
	struct nfqct_ipset_probe p = { .t = t, .dim = (uint8_t)dim, .src = (uint8_t)src, .len = 100,
				       .update_counters = true };
	bool r;

	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_get(name, &s), 0);
	r = nfqct_ipset_test_pkt(s, &p, now);
	nfqct_ipset_put(s);
	return r;
}

static int cmd(int (*fn)(const char *, int, char **, FILE *, uint64_t), const char *name, const char *a0,
	       const char *a1, const char *a2, uint64_t now, char **out)
{
	char *argv[3] = { (char *)a0, (char *)a1, (char *)a2 };
	int argc = a2 ? 3 : a1 ? 2 : 1;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = fn(name, argc, argv, f, now);

	fclose(f);
	if (out)
		*out = buf;
	else
		free(buf);
	return rc;
}

static int add_fn(const char *name, int argc, char **argv, FILE *out, uint64_t now)
{
	return nfqct_ipset_cmd_add(name, argc, argv, out, now, NULL);
}

#define ADD(n, a, now) cmd(add_fn, n, a, NULL, NULL, now, NULL)
#define DEL(n, a, now) cmd(nfqct_ipset_cmd_del, n, a, NULL, NULL, now, NULL)
#define TEST(n, a, now) cmd(nfqct_ipset_cmd_test, n, a, NULL, NULL, now, NULL)

static void test_hash_ip(void)
{
	struct nfqct_tuple t = tup(AF_INET, "198.18.0.1", "198.19.0.9", IPPROTO_UDP, 1000, 53);
	char *out;

	CU_ASSERT_EQUAL_FATAL(load("create ips hash:ip family inet hashsize 64 maxelem 3\n"
				   "add ips 198.18.0.1\n", NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	CU_ASSERT_TRUE(ptest("ips", &t, 1, 1, 0));
	CU_ASSERT_FALSE(ptest("ips", &t, 1, 0, 0));
	CU_ASSERT_EQUAL(TEST("ips", "198.18.0.1", 0), 0);
	CU_ASSERT_EQUAL(TEST("ips", "198.18.0.2", 0), -ENOENT);
	CU_ASSERT_EQUAL(ADD("ips", "198.19.0.9", 0), 0);
	CU_ASSERT_TRUE(ptest("ips", &t, 1, 0, 0));
	CU_ASSERT_EQUAL(ADD("ips", "198.19.0.9", 0), -EEXIST);
	CU_ASSERT_EQUAL(ADD("ips", "198.19.0.10", 0), 0);
	/* maxelem 3: a full set refuses, with ipset's message */
	CU_ASSERT_EQUAL(cmd(add_fn, "ips", "198.19.0.11", NULL, NULL, 0, &out), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(out, "Hash is full, cannot add more elements\n");
	free(out);
	/* the wrong family, a network, a bad word */
	CU_ASSERT_EQUAL(cmd(add_fn, "ips", "2001:db8::1", NULL, NULL, 0, &out), -EINVAL);
	CU_ASSERT_STRING_EQUAL(out, "'2001:db8::1' is an IPv6 address; the set is family inet\n");
	free(out);
	CU_ASSERT_EQUAL(cmd(add_fn, "ips", "198.18.0.0/24", NULL, NULL, 0, &out), -EINVAL);
	free(out);
	CU_ASSERT_EQUAL(cmd(add_fn, "nosuch", "198.18.0.1", NULL, NULL, 0, &out), -ENOENT);
	CU_ASSERT_STRING_EQUAL(out, "The set with the given name does not exist: 'nosuch'\n");
	free(out);
	CU_ASSERT_EQUAL(DEL("ips", "198.18.0.1", 0), 0);
	CU_ASSERT_FALSE(ptest("ips", &t, 1, 1, 0));
	CU_ASSERT_EQUAL(DEL("ips", "198.18.0.1", 0), -ENOENT);
	/* an IPv6 packet never matches an inet set */
	{
		struct nfqct_tuple t6 = tup(AF_INET6, "2001:db8::1", "2001:db8::2", IPPROTO_UDP, 1, 2);

		CU_ASSERT_FALSE(ptest("ips", &t6, 1, 1, 0));
	}
	nfqct_ipset_destroy_all();
}

static void test_hash_net(void)
{
	struct nfqct_tuple in = tup(AF_INET, "198.18.5.7", "198.19.0.1", IPPROTO_TCP, 1000, 80);
	struct nfqct_tuple hole = tup(AF_INET, "198.18.1.7", "198.19.0.1", IPPROTO_TCP, 1000, 80);
	struct nfqct_tuple out = tup(AF_INET, "198.20.0.1", "198.19.0.1", IPPROTO_TCP, 1000, 80);
	struct nfqct_ipset *s;
	struct nfqct_ipset_probe p = { .t = &hole, .dim = 1, .src = 1, .return_nomatch = true };

	CU_ASSERT_EQUAL_FATAL(load("create nets hash:net family inet hashsize 1024 maxelem 65536\n"
				   "add nets 198.18.0.0/16\n"
				   "add nets 198.18.1.0/24 nomatch\n"
				   "add nets 198.19.0.1\n", NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	CU_ASSERT_TRUE(ptest("nets", &in, 1, 1, 0));
	/* longest prefix first: the /24 nomatch hides the /16 */
	CU_ASSERT_FALSE(ptest("nets", &hole, 1, 1, 0));
	CU_ASSERT_FALSE(ptest("nets", &out, 1, 1, 0));
	CU_ASSERT_TRUE(ptest("nets", &out, 1, 0, 0));	/* dst 198.19.0.1/32 */
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_get("nets", &s), 0);
	CU_ASSERT_TRUE(nfqct_ipset_test_pkt(s, &p, 0));	/* --return-nomatch */
	nfqct_ipset_put(s);
	CU_ASSERT_EQUAL(TEST("nets", "198.18.9.9", 0), 0);
	CU_ASSERT_EQUAL(TEST("nets", "198.18.1.9", 0), -ENOENT);
	CU_ASSERT_EQUAL(TEST("nets", "198.18.0.0/16", 0), 0);
	/* nomatch is a net types' option only; prefix lengths are checked */
	CU_ASSERT_EQUAL(ADD("nets", "198.18.0.0/33", 0), -EINVAL);
	CU_ASSERT_EQUAL(DEL("nets", "198.18.1.0/24", 0), 0);
	CU_ASSERT_TRUE(ptest("nets", &hole, 1, 1, 0));
	nfqct_ipset_destroy_all();
}

static void test_ports_and_more(void)
{
	struct nfqct_tuple t = tup(AF_INET, "198.18.0.1", "198.19.0.2", IPPROTO_TCP, 40000, 22);
	struct nfqct_tuple u = tup(AF_INET, "198.18.0.1", "198.19.0.2", IPPROTO_UDP, 40000, 22);
	struct nfqct_tuple t6 = tup(AF_INET6, "2001:db8::1", "2001:db8:1::5", IPPROTO_TCP, 40000, 443);
	char *errs;

	CU_ASSERT_EQUAL_FATAL(load("create ipp hash:ip,port family inet\n"
				   "add ipp 198.18.0.1,tcp:22\n"
				   "create netp hash:net,port family inet6\n"
				   "add netp 2001:db8::/32,tcp:443\n"
				   "create ipip hash:ip,port,ip\n"
				   "add ipip 198.19.0.2,22,198.18.0.1\n"
				   "create ipnet hash:ip,port,net\n"
				   "add ipnet 198.19.0.2,tcp:22,198.18.0.0/15\n"
				   "create bp bitmap:port range 1-1024\n"
				   "add bp 22\n"
				   "create ls list:set size 4\n", NFQCT_IPSET_LOAD_FILE, 0, &errs), 0);
	CU_ASSERT_STRING_EQUAL(errs, "");
	free(errs);
	CU_ASSERT_TRUE(ptest("ipp", &t, 2, 0x1, 0));	/* src,dst: 198.18.0.1 and port 22 */
	CU_ASSERT_FALSE(ptest("ipp", &u, 2, 0x1, 0));	/* udp:22 is another element */
	CU_ASSERT_FALSE(ptest("ipp", &t, 2, 0x3, 0));	/* src,src: port 40000 */
	CU_ASSERT_TRUE(ptest("netp", &t6, 2, 0x1, 0));
	CU_ASSERT_TRUE(ptest("ipip", &t, 3, 0x4, 0));	/* dst,dst,src */
	CU_ASSERT_FALSE(ptest("ipip", &t, 3, 0x1, 0));
	CU_ASSERT_TRUE(ptest("ipnet", &t, 3, 0x4, 0));
	CU_ASSERT_TRUE(ptest("bp", &t, 1, 0, 0));
	CU_ASSERT_FALSE(ptest("bp", &t, 1, 1, 0));
	CU_ASSERT_EQUAL(ADD("bp", "2000", 0), -ERANGE);
	/* list:set: any member */
	CU_ASSERT_FALSE(ptest("ls", &t, 2, 0x1, 0));
	CU_ASSERT_EQUAL(ADD("ls", "ipp", 0), 0);
	CU_ASSERT_EQUAL(ADD("ls", "ls", 0), -EINVAL);
	CU_ASSERT_TRUE(ptest("ls", &t, 2, 0x1, 0));
	CU_ASSERT_EQUAL(DEL("ls", "ipp", 0), 0);
	CU_ASSERT_FALSE(ptest("ls", &t, 2, 0x1, 0));
	/* icmp type/code, family checked */
	CU_ASSERT_EQUAL(ADD("ipp", "198.18.0.1,icmp:8/0", 0), 0);
	CU_ASSERT_EQUAL(ADD("netp", "2001:db8::/32,icmp:8/0", 0), -EINVAL);
	nfqct_ipset_destroy_all();
}

static void test_timeouts_counters(void)
{
	struct nfqct_tuple t = tup(AF_INET, "198.18.0.1", "198.19.0.2", IPPROTO_TCP, 40000, 22);
	struct nfqct_ipset *s;
	struct nfqct_ipset_probe p = { .t = &t, .dim = 1, .src = 1, .len = 60, .update_counters = true,
				       .pkt_op = 3, .pkt_val = 1 };
	char *out;

	CU_ASSERT_EQUAL_FATAL(load("create tm hash:ip timeout 10 counters comment\n"
				   "add tm 198.18.0.1 timeout 0 packets 0 bytes 0 comment \"for ever\"\n"
				   "add tm 198.18.0.2\n"
				   "add tm 198.18.0.3 timeout 100\n", NFQCT_IPSET_LOAD_FILE, 1000, NULL), 0);
	/* 198.18.0.2 expires at 11000 ms: a lookup after that ignores it */
	CU_ASSERT_EQUAL(TEST("tm", "198.18.0.2", 10999), 0);
	CU_ASSERT_EQUAL(TEST("tm", "198.18.0.2", 11000), -ENOENT);
	CU_ASSERT_EQUAL(TEST("tm", "198.18.0.3", 11000), 0);
	CU_ASSERT_EQUAL(TEST("tm", "198.18.0.1", 1000000), 0);
	/* housekeeping removes it */
	CU_ASSERT_EQUAL(nfqct_ipset_gc(11000), 1u);
	rcu_quiescent_state();
	CU_ASSERT_EQUAL(nfqct_ipset_gc(11000), 0u);
	/* counters: --packets-gt 1 compares the counters this packet updated */
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_get("tm", &s), 0);
	CU_ASSERT_FALSE(nfqct_ipset_test_pkt(s, &p, 12000));	/* 1 > 1: no */
	CU_ASSERT_TRUE(nfqct_ipset_test_pkt(s, &p, 12000));	/* 2 > 1 */
	p.update_counters = false;
	p.pkt_op = 1;
	p.pkt_val = 2;
	CU_ASSERT_TRUE(nfqct_ipset_test_pkt(s, &p, 12000));	/* ! --update-counters: 2 == 2 */
	p.update_counters = true;
	nfqct_ipset_put(s);
	CAPTURE(out, nfqct_ipset_cmd_save("tm", _f, 12000));
	CU_ASSERT_STRING_EQUAL(out, "create tm hash:ip family inet hashsize 1024 maxelem 65536 timeout 10 "
				    "counters comment\n"
				    "add tm 198.18.0.1 timeout 0 packets 2 bytes 120 comment \"for ever\"\n"
				    "add tm 198.18.0.3 timeout 89 packets 0 bytes 0\n");
	free(out);
	/* timeouts need a timeout set */
	CU_ASSERT_EQUAL(load("create nt hash:ip\nadd nt 198.18.0.1 timeout 5\n", NFQCT_IPSET_LOAD_FILE, 0, &out),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(out, "sets:2:19: error: timeout: the set was created without timeout support\n");
	free(out);
	nfqct_ipset_destroy_all();
}

static void test_load_errors(void)
{
	static const struct { const char *text, *err; } bad[] = {
		{ "create a hash:foo\n",
		  "sets:1:10: error: 'hash:foo': unknown or unsupported set type (expected one of hash:ip, "
		  "hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip, hash:ip,port,net, hash:net,iface, "
		  "bitmap:port, list:set)\n" },
		{ "create a hash:ip family inet6\nadd a 198.18.0.1\n",
		  "sets:2:7: error: '198.18.0.1' is an IPv4 address; the set is family inet6\n" },
		{ "add b 198.18.0.1\n",
		  "sets:1:5: error: The set with the given name does not exist: 'b' (no create line for it above)\n" },
		{ "create a hash:ip maxelem 1\nadd a 198.18.0.1\nadd a 198.18.0.2\n",
		  "sets:3:7: error: Hash is full, cannot add more elements (set 'a', maxelem 1)\n" },
		{ "create a hash:ip\ncreate a hash:net\n", "sets:2:8: error: set 'a' is created twice\n" },
		{ "create a hash:ip hashsize\n", "sets:1:18: error: hashsize: missing its value\n" },
		{ "create a hash:ip\nadd a 198.18.0.1 nomatch\n",
		  "sets:2:18: error: nomatch: only hash types with a net dimension take it\n" },
		{ "destroy a\n", "sets:1:1: error: 'destroy': expected create or add (ipset save format)\n" },
		{ "create a hash:ip,port\nadd a 198.18.0.1\n",
		  "sets:2:7: error: '198.18.0.1': hash:ip,port takes 2 parts separated by ','\n" },
	};
	char *errs, *out;

	CU_ASSERT_EQUAL_FATAL(load("create keep hash:ip\nadd keep 198.18.0.9\n", NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		CU_ASSERT_EQUAL(load(bad[i].text, NFQCT_IPSET_LOAD_FILE, 0, &errs), -EINVAL);
		CU_ASSERT_STRING_EQUAL(errs, bad[i].err);
		if (strcmp(errs, bad[i].err))
			fprintf(stderr, "case %zu: %s", i, errs);
		free(errs);
		/* nothing already loaded is lost */
		CU_ASSERT_EQUAL(TEST("keep", "198.18.0.9", 0), 0);
	}
	CAPTURE(out, nfqct_ipset_cmd_list("keep", _f, 0));
	CU_ASSERT_NSTRING_EQUAL(out, "Name: keep\nType: hash:ip\nRevision: 6\n"
				"Header: family inet hashsize 1024 maxelem 65536\nSize in memory: ", 90);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "References: 0\nNumber of entries: 1\nMembers:\n198.18.0.9\n"));
	free(out);
	nfqct_ipset_destroy_all();
}

static void test_references_reload(void)
{
	struct nfqct_ipset *s;
	struct nfqct_tuple t = tup(AF_INET, "198.18.0.1", "198.19.0.2", IPPROTO_TCP, 40000, 22);
	char *errs;

	CU_ASSERT_EQUAL_FATAL(load("create r hash:ip\nadd r 198.18.0.1\ncreate gone hash:ip\n",
				   NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_get("r", &s), 0);
	CU_ASSERT_EQUAL(nfqct_ipset_dim(s), 1u);
	/* a set in use cannot change type nor go */
	CU_ASSERT_EQUAL(load("create r hash:net\n", NFQCT_IPSET_LOAD_FILE, 0, &errs), -EBUSY);
	CU_ASSERT_STRING_EQUAL(errs, "sets: error: set 'r' is in use by the running ruleset: it cannot become "
				     "hash:net family inet\n");
	free(errs);
	CU_ASSERT_EQUAL(load("create x hash:ip\n", NFQCT_IPSET_LOAD_FILE, 0, &errs), -EBUSY);
	free(errs);
	CU_ASSERT_EQUAL(TEST("gone", "198.18.0.1", 0), -ENOENT);	/* still there, empty */
	/* the file is the truth: r's contents replaced under the reference, gone destroyed */
	CU_ASSERT_EQUAL(load("create r hash:ip\nadd r 198.18.0.7\n", NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	CU_ASSERT_FALSE(nfqct_ipset_test_pkt(s, &(struct nfqct_ipset_probe){ .t = &t, .dim = 1, .src = 1 }, 0));
	CU_ASSERT_EQUAL(nfqct_ipset_get("gone", &(struct nfqct_ipset *){ NULL }), -ENOENT);
	/* restore: adds to running sets, -exist */
	CU_ASSERT_EQUAL(load("add r 198.18.0.1\nadd r 198.18.0.7\n", NFQCT_IPSET_LOAD_RESTORE, 0, NULL), 0);
	CU_ASSERT_TRUE(nfqct_ipset_test_pkt(s, &(struct nfqct_ipset_probe){ .t = &t, .dim = 1, .src = 1 }, 0));
	nfqct_ipset_put(s);
	nfqct_ipset_destroy_all();
	CU_ASSERT_EQUAL(nfqct_ipset_stats(NULL, 0), 0u);
}

static void test_kill_match(void)
{
	struct nfqct_ipset_elem_spec *e;
	struct nfqct_tuple t = tup(AF_INET, "198.18.3.4", "198.19.0.2", IPPROTO_TCP, 40000, 22);
	char *argv[1] = { (char *)"198.18.0.0/16" };
	FILE *f = fopen("/dev/null", "w");

	CU_ASSERT_EQUAL_FATAL(load("create k hash:net\n", NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_cmd_add("k", 1, argv, f, 0, &e), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_TRUE(nfqct_ipset_elem_matches(e, &t));	/* its source */
	nfqct_ipset_elem_spec_free(e);
	t.dst = t.src;
	t.src.b[0] = 10;
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_cmd_add("k", 1, argv, f, 0, &e), -EEXIST);
	CU_ASSERT_PTR_NULL(e);
	argv[0] = (char *)"198.18.3.0/24";
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_cmd_add("k", 1, argv, f, 0, &e), 0);
	CU_ASSERT_TRUE(nfqct_ipset_elem_matches(e, &t));	/* its destination */
	t.dst.b[2] = 4;
	CU_ASSERT_FALSE(nfqct_ipset_elem_matches(e, &t));	/* neither end */
	nfqct_ipset_elem_spec_free(e);
	/* ip,port: the address at one end, the port at the other */
	CU_ASSERT_EQUAL_FATAL(load("create kp hash:ip,port\n", NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	argv[0] = (char *)"198.18.3.4,tcp:22";
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_cmd_add("kp", 1, argv, f, 0, &e), 0);
	t = tup(AF_INET, "198.18.3.4", "198.19.0.2", IPPROTO_TCP, 40000, 22);
	CU_ASSERT_TRUE(nfqct_ipset_elem_matches(e, &t));
	t.dp.port = htons(23);
	CU_ASSERT_FALSE(nfqct_ipset_elem_matches(e, &t));
	nfqct_ipset_elem_spec_free(e);
	fclose(f);
	nfqct_ipset_destroy_all();
}

/* -j SET's side: the packet's element added (a host in a net set) and deleted. */
static void test_pkt_add_del(void)
{
	struct nfqct_tuple t = tup(AF_INET, "198.18.3.4", "198.19.0.2", IPPROTO_TCP, 40000, 22);
	struct nfqct_tuple t6 = tup(AF_INET6, "2001:db8::1", "2001:db8::2", IPPROTO_TCP, 40000, 22);
	struct nfqct_ipset_probe p = { .t = &t, .dim = 2, .src = 0x1 };
	struct nfqct_ipset *s, *n;
	char *out;

	CU_ASSERT_EQUAL_FATAL(load("create seen hash:ip,port timeout 60\n"
				   "create nets hash:net maxelem 1\n", NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_get("seen", &s), 0);
	CU_ASSERT_EQUAL_FATAL(nfqct_ipset_get("nets", &n), 0);
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_add(s, &p, UINT32_MAX, false, 1000), 0);
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_add(s, &p, UINT32_MAX, false, 1000), -EEXIST);
	CU_ASSERT_EQUAL(TEST("seen", "198.18.3.4,tcp:22", 1000), 0);
	CU_ASSERT_EQUAL(TEST("seen", "198.18.3.4,tcp:22", 61000), -ENOENT);	/* the set's default */
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_add(s, &p, 5, true, 2000), 0);	/* --exist --timeout 5 */
	CU_ASSERT_EQUAL(TEST("seen", "198.18.3.4,tcp:22", 6999), 0);
	CU_ASSERT_EQUAL(TEST("seen", "198.18.3.4,tcp:22", 7000), -ENOENT);
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_add(s, &(struct nfqct_ipset_probe){ .t = &t6, .dim = 2, .src = 1 },
					    UINT32_MAX, false, 0), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_del(s, &p, 3000), 0);
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_del(s, &p, 3000), -ENOENT);
	p.dim = 1;
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_add(n, &p, UINT32_MAX, false, 0), 0);
	CU_ASSERT_EQUAL(nfqct_ipset_pkt_add(n, &(struct nfqct_ipset_probe){ .t = &t, .dim = 1 }, UINT32_MAX,
					    false, 0), -ENOSPC);
	CAPTURE(out, nfqct_ipset_cmd_save("nets", _f, 0));
	CU_ASSERT_STRING_EQUAL(out, "create nets hash:net family inet hashsize 1024 maxelem 1\n"
				    "add nets 198.18.3.4\n");
	free(out);
	nfqct_ipset_put(s);
	nfqct_ipset_put(n);
	nfqct_ipset_destroy_all();
}

/* A lookup probes once per prefix length present, whatever the element count. */
static void test_many(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	/* 198.18.0.0 + 2 * 50000 = 198.19.134.160: the first address after them */
	struct nfqct_tuple t = tup(AF_INET, "198.19.134.161", "198.19.0.2", IPPROTO_TCP, 40000, 22);
	struct nfqct_ipset_stat st[2];

	fprintf(f, "create big hash:net maxelem 100000\n");
	for (unsigned int i = 0; i < 50000; i++)
		fprintf(f, "add big 198.%u.%u.%u/31\n", 18 + (i >> 15), (i >> 7) & 0xff, (i & 0x7f) << 1);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(load(text, NFQCT_IPSET_LOAD_FILE, 0, NULL), 0);
	free(text);
	CU_ASSERT_EQUAL(nfqct_ipset_stats(st, 2), 1u);
	CU_ASSERT_EQUAL(st[0].entries, 50000u);
	CU_ASSERT_TRUE(st[0].memsize > 50000u * 64u);
	CU_ASSERT_TRUE(ptest("big", &t, 1, 1, 0) == false);
	t.src.b[3] = 159;
	CU_ASSERT_TRUE(ptest("big", &t, 1, 1, 0));
	nfqct_ipset_destroy_all();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "hash:ip add, del, test, maxelem, family", test_hash_ip },
		{ "hash:net prefixes, nomatch", test_hash_net },
		{ "port types, bitmap:port, list:set", test_ports_and_more },
		{ "timeouts on a fake clock, counters, save", test_timeouts_counters },
		{ "file errors keep the running sets", test_load_errors },
		{ "references, reloads, restore", test_references_reload },
		{ "--kill-flows element test", test_kill_match },
		{ "-j SET: the packet's element", test_pkt_add_del },
		{ "50000 networks", test_many },
	};
	int rc;

	rcu_register_thread();
	rc = unit_main("ipset", tests, UNIT_COUNT(tests));
	rcu_unregister_thread();
	return rc;
}
