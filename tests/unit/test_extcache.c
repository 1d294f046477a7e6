/*
 * test_extcache.c - the external cache: NEW/UPDATE replace a flow whole,
 * DESTROY removes it, keys are tuple and zone, the limit holds, and a
 * commit puts every flow into a table with the peer's state (TCP state,
 * ASSURED, mark, zone, counters, lifetime or the default), replacing a
 * local entry of the same flow, refusing what cannot be an entry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/extcache.h"
#include "nfqct/proto_tcp.h"

#include "unit.h"

#define NOW 1000000ull

static struct nfqct_settings settings;

static struct nfqct_sync_flow tcp(uint16_t sport, uint16_t zone, uint8_t state)
{
	struct nfqct_sync_flow f;

	memset(&f, 0, sizeof(f));
	f.tuple.family = AF_INET;
	f.tuple.proto = IPPROTO_TCP;
	f.tuple.src.ip = htonl(0xc6120001);
	f.tuple.dst.ip = htonl(0xc6120102);
	f.tuple.sp.port = htons(sport);
	f.tuple.dp.port = htons(80);
	f.have = NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT | NFQCT_SYNC_HAVE_TCP |
		 NFQCT_SYNC_HAVE_MARK | (zone ? NFQCT_SYNC_HAVE_ZONE : 0);
	f.status = NFQCT_IPS_CONFIRMED | NFQCT_IPS_SEEN_REPLY | NFQCT_IPS_ASSURED;
	f.timeout_s = 300;
	f.tcp_state = state;
	f.zone = zone;
	f.mark = 7;
	return f;
}

/* The dump, as text. */
static const char *dump(struct nfqct_extcache *x)
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	CU_ASSERT_FATAL(f != NULL);
	buf[0] = '\0';
	nfqct_extcache_dump(x, f, NOW, 180000);
	fclose(f);
	return buf;
}

static void test_apply(void)
{
	struct nfqct_extcache *x;
	struct nfqct_sync_flow a = tcp(1000, 0, NFQCT_TCP_SYN_SENT), b;

	CU_ASSERT_FATAL(nfqct_extcache_create(2, &x) == 0);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_NEW, &a, NOW), 0);
	a.tcp_state = NFQCT_TCP_ESTABLISHED;
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_UPDATE, &a, NOW), 0);
	CU_ASSERT_EQUAL(nfqct_extcache_count(x), 1);
	CU_ASSERT_STRING_EQUAL(dump(x),
		"tcp      6 300 ESTABLISHED src=198.18.0.1 dst=198.18.1.2 sport=1000 dport=80 "
		"src=198.18.1.2 dst=198.18.0.1 sport=80 dport=1000 [ASSURED] mark=7 use=1\n");
	/* the same tuple in another zone is another flow; the limit holds */
	b = tcp(1000, 5, NFQCT_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_NEW, &b, NOW), 0);
	CU_ASSERT_EQUAL(nfqct_extcache_count(x), 2);
	b = tcp(1001, 0, NFQCT_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_NEW, &b, NOW), -ENOSPC);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_DESTROY, &b, NOW), -ENOENT);
	/* DESTROY of zone 0's leaves zone 5's */
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_DESTROY, &a, NOW), 0);
	CU_ASSERT_EQUAL(nfqct_extcache_count(x), 1);
	CU_ASSERT(strstr(dump(x), "zone=5") != NULL);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, 9, &a, NOW), -EINVAL);
	nfqct_extcache_flush(x);
	CU_ASSERT_EQUAL(nfqct_extcache_count(x), 0);
	CU_ASSERT_STRING_EQUAL(dump(x), "");
	nfqct_extcache_destroy(x);
}

static void test_commit(void)
{
	struct nfqct_ct *ct = nfqct_ct_create(&settings);
	struct nfqct_extcache *x;
	struct nfqct_extcache_commit c;
	struct nfqct_sync_flow a = tcp(2000, 0, NFQCT_TCP_ESTABLISHED), b = tcp(2001, 3, NFQCT_TCP_FIN_WAIT);
	struct nfqct_sync_flow u, bad;
	struct nfqct_ct_entry local;
	struct nfqct_conn *conn;
	struct nfqct_ct_info ci;
	bool reply;

	CU_ASSERT_FATAL(ct != NULL);
	CU_ASSERT_FATAL(nfqct_extcache_create(100, &x) == 0);
	b.have |= NFQCT_SYNC_HAVE_COUNTERS;
	b.packets[0] = 10, b.packets[1] = 9, b.bytes[0] = 1000, b.bytes[1] = 900;
	/* a UDP flow without a lifetime: the default */
	memset(&u, 0, sizeof(u));
	u.tuple = a.tuple;
	u.tuple.proto = IPPROTO_UDP;
	u.have = NFQCT_SYNC_HAVE_STATUS;
	u.status = NFQCT_IPS_CONFIRMED;
	/* an ICMP flow of a type without an inverse (an error) cannot be an entry */
	memset(&bad, 0, sizeof(bad));
	bad.tuple.family = AF_INET;
	bad.tuple.proto = IPPROTO_ICMP;
	bad.tuple.src.ip = a.tuple.src.ip;
	bad.tuple.dst.ip = a.tuple.dst.ip;
	bad.tuple.dp.icmp.type = 3;
	bad.have = NFQCT_SYNC_HAVE_TIMEOUT;
	bad.timeout_s = 30;
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_NEW, &a, NOW), 0);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_NEW, &b, NOW), 0);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_NEW, &u, NOW), 0);
	CU_ASSERT_EQUAL(nfqct_extcache_apply(x, NFQCT_SYNC_T_NEW, &bad, NOW), 0);

	/* a local pick-up of flow a, SYN_SENT: the peer's view replaces it */
	CU_ASSERT_EQUAL(nfqct_sync_flow_to_entry(&a, 1000, &local), 0);
	local.proto.tcp.state = NFQCT_TCP_SYN_SENT;
	local.flags = 0;
	CU_ASSERT_EQUAL(nfqct_ct_import(ct, NULL, &local, NOW, 0, false), 0);

	nfqct_extcache_commit(x, ct, NULL, NOW, 1000, 180000, &c);
	CU_ASSERT_EQUAL(c.flows, 4);
	CU_ASSERT_EQUAL(c.committed, 3);
	CU_ASSERT_EQUAL(c.invalid, 1);
	CU_ASSERT_EQUAL(c.full, 0);
	CU_ASSERT_EQUAL(c.failed, 0);
	CU_ASSERT_EQUAL(nfqct_ct_count(ct), 3);
	CU_ASSERT_EQUAL(nfqct_extcache_count(x), 4);	/* the caller flushes */

	conn = nfqct_ct_lookup(ct, &a.tuple, 0, NOW, &reply);
	CU_ASSERT_FATAL(conn != NULL);
	nfqct_ct_info(conn, &ci);
	CU_ASSERT_EQUAL(ci.tcp_state, NFQCT_TCP_ESTABLISHED);
	CU_ASSERT(ci.assured);
	CU_ASSERT(ci.seen_reply);
	CU_ASSERT_EQUAL(ci.mark, 7);
	CU_ASSERT_EQUAL(ci.expires_ms, NOW + 300000);
	conn = nfqct_ct_lookup(ct, &b.tuple, 3, NOW, &reply);
	CU_ASSERT_FATAL(conn != NULL);
	nfqct_ct_info(conn, &ci);
	CU_ASSERT_EQUAL(ci.zone, 3);
	CU_ASSERT_EQUAL(ci.tcp_state, NFQCT_TCP_FIN_WAIT);
	CU_ASSERT_EQUAL(ci.packets[0], 10);
	CU_ASSERT_EQUAL(ci.bytes[1], 900);
	CU_ASSERT(nfqct_ct_lookup(ct, &b.tuple, 0, NOW, &reply) == NULL);
	conn = nfqct_ct_lookup(ct, &u.tuple, 0, NOW, &reply);
	CU_ASSERT_FATAL(conn != NULL);
	nfqct_ct_info(conn, &ci);
	CU_ASSERT_EQUAL(ci.expires_ms, NOW + 180000);
	CU_ASSERT_FALSE(ci.seen_reply);

	/* a full table: refused, counted */
	nfqct_ct_flush(ct, NULL);
	nfqct_extcache_commit(x, ct, NULL, NOW, 2, 180000, &c);
	CU_ASSERT_EQUAL(c.committed, 2);
	CU_ASSERT_EQUAL(c.full, 1);
	nfqct_extcache_destroy(x);
	nfqct_ct_destroy(ct);
	rcu_quiescent_state();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "NEW, UPDATE, DESTROY, zones, limit", test_apply },
		{ "commit into a table", test_commit },
	};
	int ret;

	unit_settings(&settings);
	rcu_register_thread();
	ret = unit_main("extcache", tests, UNIT_COUNT(tests));
	rcu_unregister_thread();
	return ret;
}
