/*
 * test_state.c - the state file: round trips of every entry kind and
 * state, the time the daemon was down, and every way a file can be bad
 * (truncated at each byte, each bit flipped, another version, values out
 * of range under a valid checksum): refused whole, the table untouched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/helper.h"
#include "nfqct/pkt.h"
#include "nfqct/state.h"

#include "unit.h"

#define T0 5000000ULL		/* the saving process's monotonic clock */
#define T1 90000ULL		/* the loading one's (another boot: smaller) */
#define W0 1700000000000ULL	/* wall clock of the save */

static struct nfqct_settings settings;

static struct nfqct_ct *table(void)
{
	struct nfqct_ct *ct = nfqct_ct_create(&settings);

	CU_ASSERT_FATAL(ct != NULL);
	return ct;
}

static void done(struct nfqct_ct *ct)
{
	nfqct_ct_destroy(ct);
	rcu_quiescent_state();
}

/* An independent CRC-32 (bit by bit), to forge files with a valid checksum. */
static uint32_t crc32_slow(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return ~c;
}

static void refresh_crc(struct nfqct_state_buf *b)
{
	uint32_t c = crc32_slow(b->data, b->len - 4);

	b->data[b->len - 4] = (uint8_t)(c >> 24);
	b->data[b->len - 3] = (uint8_t)(c >> 16);
	b->data[b->len - 2] = (uint8_t)(c >> 8);
	b->data[b->len - 1] = (uint8_t)c;
}

static void tuple_of(struct nfqct_tuple *t, const char *src, const char *dst, uint8_t proto,
		     uint16_t sp, uint16_t dp)
{
	memset(t, 0, sizeof(*t));
	t->family = strchr(src, ':') ? AF_INET6 : AF_INET;
	CU_ASSERT_FATAL(inet_pton(t->family, src, &t->src) == 1);
	CU_ASSERT_FATAL(inet_pton(t->family, dst, &t->dst) == 1);
	t->proto = proto;
	t->sp.port = htons(sp);
	t->dp.port = htons(dp);
}

/* ---- collecting a table's entries ---- */

#define MAXE 64

struct coll {
	struct nfqct_ct_entry e[MAXE];
	unsigned int n;
};

static int collect(void *arg, const struct nfqct_ct_entry *e)
{
	struct coll *c = arg;

	CU_ASSERT_FATAL(c->n < MAXE);
	c->e[c->n++] = *e;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct nfqct_ct_entry *x = a, *y = b;
	int r = memcmp(&x->tuple, &y->tuple, sizeof(x->tuple));

	return r ? r : (int)x->zone - (int)y->zone;
}

static void entries(struct nfqct_ct *ct, uint64_t now, struct coll *c)
{
	memset(c, 0, sizeof(*c));
	CU_ASSERT_EQUAL(nfqct_ct_export(ct, now, collect, c), 0);
	qsort(c->e, c->n, sizeof(c->e[0]), cmp_entry);
}

/* ---- building tables ---- */

static void feed(struct nfqct_ct *ct, const struct pb *b, uint64_t now, unsigned int want_state)
{
	struct nfqct_ct_result r;
	struct nfqct_pkt p;

	memset(&p, 0, sizeof(p));
	p.data = b->b;
	p.caplen = p.len = b->n;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&p), 0);
	nfqct_ct_in(ct, &settings, NULL, &p, 0, now, &r);
	CU_ASSERT_EQUAL(r.ctstate, want_state);
	CU_ASSERT(nfqct_ct_confirm(ct, NULL, &r, true, now));
}

#define SYN 0x02
#define ACK 0x10
#define C4 "198.18.0.2"
#define S4 "198.18.1.2"
#define C6 "2001:db8::2"
#define S6 "2001:db8:1::2"

/* Real flows, through the parser and the trackers. */
static void real_flows(struct nfqct_ct *ct)
{
	struct pb b;

	/* TCP IPv4 handshake and data: ESTABLISHED, ASSURED, windows known */
	pb_tcp_packet(&b, C4, S4, 40000, 80, SYN, 1000, 0, 0);
	feed(ct, &b, T0, NFQCT_CTSTATE_NEW);
	pb_tcp_packet(&b, S4, C4, 80, 40000, SYN | ACK, 5000, 1001, 0);
	feed(ct, &b, T0 + 1, NFQCT_CTSTATE_ESTABLISHED);
	pb_tcp_packet(&b, C4, S4, 40000, 80, ACK, 1001, 5001, 0);
	feed(ct, &b, T0 + 2, NFQCT_CTSTATE_ESTABLISHED);
	pb_tcp_packet(&b, C4, S4, 40000, 80, ACK, 1001, 5001, 100);
	feed(ct, &b, T0 + 3, NFQCT_CTSTATE_ESTABLISHED);
	/* TCP IPv6, SYN only: SYN_SENT, unreplied */
	pb_tcp_packet(&b, C6, S6, 40001, 443, SYN, 7, 0, 0);
	feed(ct, &b, T0 + 4, NFQCT_CTSTATE_NEW);
	/* UDP one way, UDP both ways (within the stream window) */
	pb_udp_packet(&b, C4, S4, 5353, 53, 20);
	feed(ct, &b, T0 + 5, NFQCT_CTSTATE_NEW);
	pb_udp_packet(&b, C6, S6, 6000, 6001, 10);
	feed(ct, &b, T0 + 6, NFQCT_CTSTATE_NEW);
	pb_udp_packet(&b, S6, C6, 6001, 6000, 30);
	feed(ct, &b, T0 + 7, NFQCT_CTSTATE_ESTABLISHED);
	/* ICMP echo and reply */
	pb_init(&b);
	pb_ip(&b, IPPROTO_ICMP, C4, S4);
	pb_icmp(&b, 8, 0, 77);
	pb_fix(&b);
	feed(ct, &b, T0 + 8, NFQCT_CTSTATE_NEW);
}

/* Entries no packet sequence above reaches: every field set. */
static void synthetic_flows(struct nfqct_ct *ct)
{
	struct nfqct_ct_entry e;

	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C4, S4, IPPROTO_SCTP, 2905, 2905);
	e.zone = 7;
	e.flags = NFQCT_CT_F_SEEN_REPLY | NFQCT_CT_F_ASSURED | NFQCT_CT_F_ACCT;
	e.mark = 0xdeadbeef;
	e.timeout_ms = 210000;
	e.packets[0] = 1ULL << 40;
	e.packets[1] = 3;
	e.bytes[0] = 1ULL << 50;
	e.bytes[1] = 300;
	e.proto.sctp.vtag[0] = htonl(0x11223344);
	e.proto.sctp.vtag[1] = htonl(0x55667788);
	e.proto.sctp.state = NFQCT_SCTP_HEARTBEAT_SENT;
	e.proto.sctp.init[1] = 1;
	e.proto.sctp.hb_vtag_failed = 1;
	e.proto.sctp.last_dir = 1;
	CU_ASSERT_EQUAL(nfqct_ct_import(ct, NULL, &e, T0, 0, false), 0);

	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C6, S6, IPPROTO_TCP, 21, 2121);
	e.flags = NFQCT_CT_F_SEEN_REPLY | NFQCT_CT_F_ASSURED | NFQCT_CT_F_ACCT;
	e.helper = NFQCT_HELPER_FTP;
	e.timeout_ms = 3000;
	e.proto.tcp.peer[0] = (struct nfqct_tcp_peer){ 1, 2, 3, 4 };
	e.proto.tcp.peer[1] = (struct nfqct_tcp_peer){ 0xfffffff0, 6, 7, 8 };
	e.proto.tcp.last_seq = 9;
	e.proto.tcp.last_ack = 10;
	e.proto.tcp.last_end = 11;
	e.proto.tcp.pflags0 = 63;
	e.proto.tcp.pflags1 = 5;
	e.proto.tcp.scale0 = 14;
	e.proto.tcp.scale1 = 7;
	e.proto.tcp.last_index = 7;
	e.proto.tcp.last_dir = 1;
	e.proto.tcp.last_wscale = 15;
	e.proto.tcp.last_flags = 15;
	e.proto.tcp.last_win = 65535;
	e.proto.tcp.state = NFQCT_TCP_TIME_WAIT;
	e.proto.tcp.retrans = 3;
	CU_ASSERT_EQUAL(nfqct_ct_import(ct, NULL, &e, T0, 0, false), 0);

	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C4, S4, IPPROTO_TCP, 30000, 20);
	e.flags = NFQCT_CT_F_EXPECTED | NFQCT_CT_F_ACCT;
	e.master_helper = NFQCT_HELPER_FTP;
	e.timeout_ms = 120000;
	e.proto.tcp.state = NFQCT_TCP_SYN_SENT;
	CU_ASSERT_EQUAL(nfqct_ct_import(ct, NULL, &e, T0, 0, false), 0);

	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C6, S6, IPPROTO_UDPLITE, 1, 2);
	e.timeout_ms = 30000;
	e.proto.udp.stream_ms = T0 + 1500;
	CU_ASSERT_EQUAL(nfqct_ct_import(ct, NULL, &e, T0, 0, false), 0);

	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C6, S6, IPPROTO_ICMPV6, 0, 0);
	e.tuple.sp.icmp_id = htons(99);
	e.tuple.dp.icmp.type = 128;
	e.flags = NFQCT_CT_F_SEEN_REPLY;
	e.timeout_ms = 29999;
	CU_ASSERT_EQUAL(nfqct_ct_import(ct, NULL, &e, T0, 0, false), 0);

	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C4, S4, IPPROTO_GRE, 0, 0);
	e.zone = 65535;
	e.timeout_ms = 600000;
	CU_ASSERT_EQUAL(nfqct_ct_import(ct, NULL, &e, T0, 0, false), 0);
}

static void encode(struct nfqct_ct *ct, uint64_t now, uint64_t wall, struct nfqct_state_buf *b)
{
	memset(b, 0, sizeof(*b));
	CU_ASSERT_EQUAL_FATAL(nfqct_state_encode(ct, now, wall, b), 0);
}

/*
 * Save at T0, load at T1 @down_ms of wall clock later; every entry must
 * come back equal, its lifetime (and UDP's stream time) less @down_ms.
 */
static void round_trip(void (*fill)(struct nfqct_ct *), unsigned int want_n, uint64_t down_ms)
{
	struct nfqct_ct *a = table(), *b = table();
	struct nfqct_state_load_stats ls;
	struct nfqct_state_buf buf;
	struct coll *ca = calloc(1, sizeof(*ca)), *cb = calloc(1, sizeof(*cb));
	const char *why = "unset";

	CU_ASSERT_FATAL(ca && cb);
	fill(a);
	entries(a, T0 + 10, ca);
	CU_ASSERT_EQUAL(ca->n, want_n);
	encode(a, T0 + 10, W0, &buf);
	CU_ASSERT_EQUAL(nfqct_state_apply(b, NULL, buf.data, buf.len, T1, W0 + down_ms, 0, false,
					  &ls, &why), 0);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_EQUAL(ls.entries, want_n);
	CU_ASSERT_EQUAL(ls.loaded, want_n);
	CU_ASSERT_EQUAL(ls.expired + ls.exists + ls.full + ls.failed, 0);
	CU_ASSERT_EQUAL(ls.downtime_ms, down_ms);
	CU_ASSERT_EQUAL(nfqct_ct_count(b), want_n);
	entries(b, T1, cb);
	CU_ASSERT_EQUAL_FATAL(cb->n, want_n);
	for (unsigned int i = 0; i < want_n; i++) {
		struct nfqct_ct_entry *x = &ca->e[i], *y = &cb->e[i];

		CU_ASSERT_EQUAL(y->timeout_ms + down_ms, x->timeout_ms);
		if (x->tuple.proto == IPPROTO_UDP || x->tuple.proto == IPPROTO_UDPLITE) {
			uint64_t left = x->proto.udp.stream_ms > T0 + 10 ? x->proto.udp.stream_ms - T0 - 10 : 0;

			left = left > down_ms ? left - down_ms : 0;
			CU_ASSERT_EQUAL(y->proto.udp.stream_ms, T1 + left);
			y->proto.udp.stream_ms = x->proto.udp.stream_ms;
		}
		y->timeout_ms = x->timeout_ms;
		CU_ASSERT(memcmp(x, y, sizeof(*x)) == 0);
	}
	nfqct_state_buf_free(&buf);
	free(ca);
	free(cb);
	done(a);
	done(b);
}

static void test_round_trip_real(void)
{
	round_trip(real_flows, 5, 0);
	round_trip(real_flows, 5, 1000);
}

static void test_round_trip_synthetic(void)
{
	round_trip(synthetic_flows, 6, 0);
	round_trip(synthetic_flows, 6, 2980);
}

/* After a reload the trackers go on from the saved state: windows included. */
static void test_tracking_continues(void)
{
	struct nfqct_ct *a = table(), *b = table();
	struct nfqct_state_load_stats ls;
	struct nfqct_state_buf buf;
	struct nfqct_ct_result r;
	struct nfqct_ct_info ci;
	struct nfqct_pkt p;
	const char *why;
	struct pb pk;
	bool reply;

	real_flows(a);
	encode(a, T0 + 10, W0, &buf);
	CU_ASSERT_EQUAL(nfqct_state_apply(b, NULL, buf.data, buf.len, T1, W0 + 5000, 0, false,
					  &ls, &why), 0);
	/* the server's in-window data: ESTABLISHED, counted on the saved counters */
	pb_tcp_packet(&pk, S4, C4, 80, 40000, ACK, 5001, 1101, 50);
	memset(&p, 0, sizeof(p));
	p.data = pk.b;
	p.caplen = p.len = pk.n;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&p), 0);
	nfqct_ct_in(b, &settings, NULL, &p, 0, T1 + 1, &r);
	CU_ASSERT_EQUAL(r.ctstate, NFQCT_CTSTATE_ESTABLISHED);
	CU_ASSERT(r.reply);
	CU_ASSERT_FALSE(r.unconfirmed);
	CU_ASSERT(nfqct_ct_confirm(b, NULL, &r, true, T1 + 1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.conn);
	nfqct_ct_info(r.conn, &ci);
	CU_ASSERT_EQUAL(ci.tcp_state, NFQCT_TCP_ESTABLISHED);
	CU_ASSERT(ci.assured);
	CU_ASSERT_EQUAL(ci.packets[0], 3);
	CU_ASSERT_EQUAL(ci.packets[1], 2);
	CU_ASSERT_EQUAL(ci.bytes[0], 40 + 40 + 140);
	CU_ASSERT_EQUAL(ci.bytes[1], 40 + 90);
	/* far outside the saved window: INVALID, as before the restart */
	pb_tcp_packet(&pk, S4, C4, 80, 40000, ACK, 5001 + 0x40000000u, 1101, 50);
	memset(&p, 0, sizeof(p));
	p.data = pk.b;
	p.caplen = p.len = pk.n;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&p), 0);
	nfqct_ct_in(b, &settings, NULL, &p, 0, T1 + 2, &r);
	CU_ASSERT_EQUAL(r.ctstate, NFQCT_CTSTATE_INVALID);
	/* the lookup sees the entry in the new clock */
	CU_ASSERT_PTR_NOT_NULL(nfqct_ct_lookup(b, &p.tuple, 0, T1 + 2, &reply));
	nfqct_state_buf_free(&buf);
	done(a);
	done(b);
}

/* Downtime: what outlived it stays with less time, what did not is dropped. */
static void test_downtime(void)
{
	struct nfqct_ct *a = table(), *b = table(), *c = table();
	struct nfqct_state_load_stats ls;
	struct nfqct_state_buf buf;
	struct nfqct_ct_entry e;
	struct coll *cl = calloc(1, sizeof(*cl));
	const char *why;

	CU_ASSERT_FATAL(cl != NULL);
	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C4, S4, IPPROTO_UDP, 1, 2);
	e.timeout_ms = 10000;
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	tuple_of(&e.tuple, C4, S4, IPPROTO_UDP, 3, 4);
	e.timeout_ms = 60000;
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	tuple_of(&e.tuple, C4, S4, IPPROTO_UDP, 5, 6);
	e.timeout_ms = 30000;	/* exactly used up: gone, as at expiry */
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	encode(a, T0, W0, &buf);

	CU_ASSERT_EQUAL(nfqct_state_apply(b, NULL, buf.data, buf.len, T1, W0 + 30000, 0, false,
					  &ls, &why), 0);
	CU_ASSERT_EQUAL(ls.entries, 3);
	CU_ASSERT_EQUAL(ls.loaded, 1);
	CU_ASSERT_EQUAL(ls.expired, 2);
	CU_ASSERT_FALSE(ls.clock_backwards);
	entries(b, T1, cl);
	CU_ASSERT_EQUAL_FATAL(cl->n, 1);
	CU_ASSERT_EQUAL(ntohs(cl->e[0].tuple.sp.port), 3);
	CU_ASSERT_EQUAL(cl->e[0].timeout_ms, 30000);

	/* the wall clock went backwards: no downtime taken, said so */
	CU_ASSERT_EQUAL(nfqct_state_apply(c, NULL, buf.data, buf.len, T1, W0 - 3600000, 0, false,
					  &ls, &why), 0);
	CU_ASSERT(ls.clock_backwards);
	CU_ASSERT_EQUAL(ls.downtime_ms, 0);
	CU_ASSERT_EQUAL(ls.loaded, 3);
	entries(c, T1, cl);
	CU_ASSERT_EQUAL_FATAL(cl->n, 3);
	CU_ASSERT_EQUAL(cl->e[0].timeout_ms, 10000);
	nfqct_state_buf_free(&buf);
	free(cl);
	done(a);
	done(b);
	done(c);
}

/* A small valid file of three entries. */
static void small_file(struct nfqct_state_buf *buf)
{
	struct nfqct_ct *a = table();
	struct nfqct_ct_entry e;

	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C4, S4, IPPROTO_TCP, 1000, 80);
	e.flags = NFQCT_CT_F_SEEN_REPLY | NFQCT_CT_F_ASSURED;
	e.timeout_ms = 432000000;
	e.proto.tcp.state = NFQCT_TCP_ESTABLISHED;
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C6, S6, IPPROTO_UDP, 53, 53);
	e.timeout_ms = 30000;
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	tuple_of(&e.tuple, C4, S4, IPPROTO_GRE, 0, 0);
	e.timeout_ms = 600000;
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	encode(a, T0, W0, buf);
	done(a);
}

/* @len bytes of @data are refused with @want, and the table stays empty. */
static void refused(const uint8_t *data, size_t len, int want)
{
	static struct nfqct_ct *t;
	struct nfqct_state_load_stats ls;
	const char *why = NULL;
	int ret;

	if (!t)
		t = table();	/* one table for the thousands of cases; never freed */
	ret = nfqct_state_apply(t, NULL, data, len, T1, W0, 0, false, &ls, &why);
	if (want)
		CU_ASSERT_EQUAL(ret, want);
	CU_ASSERT(ret < 0);
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT_EQUAL(ls.loaded, 0);
	CU_ASSERT_EQUAL(nfqct_ct_count(t), 0);
}

static void test_truncated_every_byte(void)
{
	struct nfqct_state_buf buf;
	struct nfqct_state_info info;
	const char *why;

	small_file(&buf);
	CU_ASSERT_EQUAL(nfqct_state_check(buf.data, buf.len, &info, &why), 0);
	CU_ASSERT_EQUAL(info.entries, 3);
	CU_ASSERT_EQUAL(info.saved_wall_ms, W0);
	CU_ASSERT_EQUAL(info.bytes, buf.len);
	for (size_t n = 0; n < buf.len; n++)
		refused(buf.data, n, 0);
	nfqct_state_buf_free(&buf);
}

static void test_flipped_bits(void)
{
	struct nfqct_state_buf buf;

	small_file(&buf);
	for (size_t i = 0; i < buf.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			buf.data[i] ^= (uint8_t)(1u << bit);
			refused(buf.data, buf.len, 0);
			buf.data[i] ^= (uint8_t)(1u << bit);
		}
	nfqct_state_buf_free(&buf);
}

static void test_version_and_magic(void)
{
	struct nfqct_state_buf buf;
	const char *why;

	small_file(&buf);
	buf.data[11] = 2;	/* version 2, checksum made valid: still refused */
	refresh_crc(&buf);
	refused(buf.data, buf.len, -EPROTONOSUPPORT);
	CU_ASSERT_EQUAL(nfqct_state_check(buf.data, buf.len, NULL, &why), -EPROTONOSUPPORT);
	buf.data[11] = 1;
	buf.data[0] = 'X';
	refresh_crc(&buf);
	refused(buf.data, buf.len, -EBADMSG);
	refused((const uint8_t *)"# not a state file\n", 19, -EBADMSG);
	nfqct_state_buf_free(&buf);
}

/* Values out of range under a valid checksum: a buggy or hostile writer. */
static void test_bad_values_valid_crc(void)
{
	struct nfqct_state_buf buf;
	uint8_t *first, *a;
	size_t off;

	small_file(&buf);
	first = buf.data + NFQCT_STATE_HDR_LEN;	/* entry order is the table's: find the TCP one */
	for (off = NFQCT_STATE_HDR_LEN; off < buf.len - NFQCT_STATE_TRAILER_LEN;
	     off += 4 + (buf.data[off + 2] << 8 | buf.data[off + 3])) {
		first = buf.data + off;
		if (first[4 + 4 + 1] == IPPROTO_TCP)
			break;
	}
	CU_ASSERT_FATAL(first[4 + 4 + 1] == IPPROTO_TCP);
	/* attributes: find TCP (8) */
	for (a = first + 4; (a[0] << 8 | a[1]) != NFQCT_STATE_A_TCP; a += 4 + (a[2] << 8 | a[3]))
		;
	a[4 + 54] = NFQCT_TCP_STATE_MAX;	/* state out of range */
	refresh_crc(&buf);
	refused(buf.data, buf.len, -EBADMSG);
	a[4 + 54] = NFQCT_TCP_ESTABLISHED;
	a[4 + 46] = 15;				/* window scale above 14 */
	refresh_crc(&buf);
	refused(buf.data, buf.len, -EBADMSG);
	a[4 + 46] = 0;
	first[4 + 4] = 99;			/* address family */
	refresh_crc(&buf);
	refused(buf.data, buf.len, -EBADMSG);
	first[4 + 4] = AF_INET;
	first[4 + 4 + 2 + 8] = 1;		/* IPv4 source with a non-zero tail */
	refresh_crc(&buf);
	refused(buf.data, buf.len, -EBADMSG);
	first[4 + 4 + 2 + 8] = 0;
	refresh_crc(&buf);
	{
		struct nfqct_ct *t = table();
		struct nfqct_state_load_stats ls;
		const char *why;

		CU_ASSERT_EQUAL(nfqct_state_apply(t, NULL, buf.data, buf.len, T1, W0, 0, false, &ls,
						  &why), 0);
		CU_ASSERT_EQUAL(ls.loaded, 3);
		done(t);
	}
	/* the trailer's count must match */
	buf.data[buf.len - 5] = 4;
	refresh_crc(&buf);
	refused(buf.data, buf.len, -EBADMSG);
	nfqct_state_buf_free(&buf);
}

/* Restore merges: what the table holds wins, unless replace. */
static void test_merge_and_replace(void)
{
	struct nfqct_ct *a = table(), *b = table();
	struct nfqct_state_load_stats ls;
	struct nfqct_state_buf buf;
	struct nfqct_ct_entry e;
	struct coll *cl = calloc(1, sizeof(*cl));
	const char *why;

	CU_ASSERT_FATAL(cl != NULL);
	memset(&e, 0, sizeof(e));
	tuple_of(&e.tuple, C4, S4, IPPROTO_UDP, 1, 2);
	e.flags = NFQCT_CT_F_ACCT;
	e.timeout_ms = 30000;
	e.packets[0] = 5;
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	tuple_of(&e.tuple, C4, S4, IPPROTO_UDP, 3, 4);
	CU_ASSERT_EQUAL(nfqct_ct_import(a, NULL, &e, T0, 0, false), 0);
	encode(a, T0, W0, &buf);

	/* b holds the reply direction of the first flow, with 9 packets */
	tuple_of(&e.tuple, S4, C4, IPPROTO_UDP, 2, 1);
	e.packets[0] = 9;
	CU_ASSERT_EQUAL(nfqct_ct_import(b, NULL, &e, T1, 0, false), 0);
	CU_ASSERT_EQUAL(nfqct_ct_import(b, NULL, &e, T1, 0, false), -EEXIST);
	CU_ASSERT_EQUAL(nfqct_state_apply(b, NULL, buf.data, buf.len, T1, W0, 0, false, &ls, &why), 0);
	CU_ASSERT_EQUAL(ls.loaded, 1);
	CU_ASSERT_EQUAL(ls.exists, 1);
	entries(b, T1, cl);
	CU_ASSERT_EQUAL_FATAL(cl->n, 2);
	CU_ASSERT_EQUAL(cl->e[0].packets[0] + cl->e[1].packets[0], 9 + 5);

	CU_ASSERT_EQUAL(nfqct_state_apply(b, NULL, buf.data, buf.len, T1, W0, 0, true, &ls, &why), 0);
	CU_ASSERT_EQUAL(ls.loaded, 2);
	CU_ASSERT_EQUAL(ls.exists, 0);
	CU_ASSERT_EQUAL(nfqct_ct_count(b), 2);
	entries(b, T1, cl);
	CU_ASSERT_EQUAL_FATAL(cl->n, 2);
	CU_ASSERT_EQUAL(cl->e[0].packets[0] + cl->e[1].packets[0], 5 + 5);

	/* the limit: one more than the table may hold is refused, counted */
	{
		struct nfqct_ct *c = table();

		CU_ASSERT_EQUAL(nfqct_state_apply(c, NULL, buf.data, buf.len, T1, W0, 1, false, &ls,
						  &why), 0);
		CU_ASSERT_EQUAL(ls.loaded, 1);
		CU_ASSERT_EQUAL(ls.full, 1);
		CU_ASSERT_EQUAL(nfqct_ct_count(c), 1);
		done(c);
	}
	nfqct_state_buf_free(&buf);
	free(cl);
	done(a);
	done(b);
}

static void test_files(void)
{
	char dir[] = "/tmp/nfqct-test-state.XXXXXX", path[256], tmp[300];
	struct nfqct_state_buf buf, back;
	struct stat sb;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sub/nfqct.state", dir);
	CU_ASSERT_EQUAL(nfqct_state_read(path, &back), -ENOENT);
	small_file(&buf);
	/* the directory is made when missing */
	CU_ASSERT_EQUAL(nfqct_state_write(path, buf.data, buf.len), 0);
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CU_ASSERT_EQUAL(access(tmp, F_OK), -1);
	CU_ASSERT_EQUAL(nfqct_state_read(path, &back), 0);
	CU_ASSERT_EQUAL_FATAL(back.len, buf.len);
	CU_ASSERT(memcmp(back.data, buf.data, buf.len) == 0);
	nfqct_state_buf_free(&back);
	/* a directory where the file should be: refused, not read */
	snprintf(tmp, sizeof(tmp), "%s/sub", dir);
	CU_ASSERT_EQUAL(nfqct_state_read(tmp, &back), -EINVAL);
	unlink(path);
	rmdir(tmp);
	rmdir(dir);
	nfqct_state_buf_free(&buf);
}

static const struct unit_test tests[] = {
	{ "round trip, real flows", test_round_trip_real },
	{ "round trip, every field", test_round_trip_synthetic },
	{ "tracking continues after a load", test_tracking_continues },
	{ "downtime taken off, expired dropped", test_downtime },
	{ "truncated at every byte", test_truncated_every_byte },
	{ "every bit flipped", test_flipped_bits },
	{ "version and magic", test_version_and_magic },
	{ "values out of range under a valid CRC", test_bad_values_valid_crc },
	{ "merge and replace, limit", test_merge_and_replace },
	{ "files", test_files },
};

int main(void)
{
	int ret;

	unit_settings(&settings);
	rcu_register_thread();
	ret = unit_main("state", tests, UNIT_COUNT(tests));
	rcu_unregister_thread();
	return ret;
}
