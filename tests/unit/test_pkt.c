/*
 * test_pkt.c - the packet parser and tuple helpers.
 *
 * Packets are built byte by byte with the small builders below, then
 * parsed from an exactly sized heap copy, so that under ASan any read
 * past caplen is caught.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "nfqct/pkt.h"
#include "unit.h"

/* ---- parsing from an exactly sized copy ---- */

struct parsed {
	struct nfqct_pkt pkt;
	uint8_t *copy;
	int ret;
};

static void parse_cut(struct parsed *r, const struct pb *p, uint32_t caplen, uint32_t len,
		      uint8_t flags)
{
	r->copy = malloc(caplen ? caplen : 1);
	CU_ASSERT_FATAL(r->copy != NULL);
	memcpy(r->copy, p->b, caplen);
	memset(&r->pkt, 0xa5, sizeof(r->pkt));	/* the parser must fill every output */
	r->pkt.data = r->copy;
	r->pkt.caplen = caplen;
	r->pkt.len = len;
	r->pkt.hw_protocol = 0;
	r->pkt.flags = flags;
	r->ret = nfqct_pkt_parse(&r->pkt);
}

static void parse_all(struct parsed *r, const struct pb *p)
{
	parse_cut(r, p, p->n, p->n, 0);
}

static void parsed_free(struct parsed *r)
{
	free(r->copy);
	r->copy = NULL;
}

static const char *reason(const struct parsed *r)
{
	return r->pkt.invalid_reason ? r->pkt.invalid_reason : "(null)";
}

static void tuple4(struct nfqct_tuple *t, const char *src, const char *dst, uint8_t proto)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->proto = proto;
	CU_ASSERT_FATAL(inet_pton(AF_INET, src, &t->src.ip) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET, dst, &t->dst.ip) == 1);
}

static void tuple6(struct nfqct_tuple *t, const char *src, const char *dst, uint8_t proto)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET6;
	t->proto = proto;
	CU_ASSERT_FATAL(inet_pton(AF_INET6, src, t->src.b) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET6, dst, t->dst.b) == 1);
}

static void ports(struct nfqct_tuple *t, uint16_t sp, uint16_t dp)
{
	t->sp.port = htons(sp);
	t->dp.port = htons(dp);
}

static void icmp_of(struct nfqct_tuple *t, uint8_t type, uint8_t code, uint16_t id)
{
	t->sp.icmp_id = htons(id);
	t->dp.icmp.type = type;
	t->dp.icmp.code = code;
}

#define CHECK_TUPLE(got, want) CU_ASSERT(memcmp(&(got), &(want), sizeof(want)) == 0)

/* Expect success with the given tuple and layout. */
static void expect_ok(const struct parsed *r, const struct nfqct_tuple *want, uint16_t l3hdrlen,
		      uint8_t flags)
{
	CU_ASSERT_EQUAL(r->ret, 0);
	if (r->ret != 0)
		fprintf(stderr, "\n  unexpected failure: %s\n", reason(r));
	CU_ASSERT_PTR_NULL(r->pkt.invalid_reason);
	CHECK_TUPLE(r->pkt.tuple, *want);
	CU_ASSERT_EQUAL(r->pkt.l3hdrlen, l3hdrlen);
	CU_ASSERT_EQUAL(r->pkt.flags, flags);
	if (flags & NFQCT_PKT_F_LATER_FRAG) {
		CU_ASSERT_PTR_NULL(r->pkt.l4);
		CU_ASSERT_EQUAL(r->pkt.l4caplen, 0);
		CU_ASSERT_EQUAL(r->pkt.l4len, 0);
	} else {
		CU_ASSERT_PTR_EQUAL(r->pkt.l4, r->copy + l3hdrlen);
		CU_ASSERT_EQUAL(r->pkt.l4caplen, r->pkt.caplen - l3hdrlen);
		CU_ASSERT_EQUAL(r->pkt.l4len, r->pkt.len - l3hdrlen);
	}
}

static void expect_invalid(const struct parsed *r, const char *why)
{
	CU_ASSERT_EQUAL(r->ret, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(r->pkt.invalid_reason);
	if (r->pkt.invalid_reason == NULL || strcmp(r->pkt.invalid_reason, why) != 0) {
		CU_FAIL("wrong invalid reason");
		fprintf(stderr, "\n  caplen %u len %u: want \"%s\", got \"%s\"\n",
			r->pkt.caplen, r->pkt.len, why, reason(r));
	}
}

/* Build, parse whole, expect invalid with why. */
static void check_invalid(const struct pb *p, const char *why)
{
	struct parsed r;

	parse_all(&r, p);
	expect_invalid(&r, why);
	parsed_free(&r);
}

#define A4 "198.18.0.1"
#define B4 "198.18.1.2"
#define A6 "2001:db8::1"
#define B6 "2001:db8:1::2"

/* ---- IPv4 ---- */

static void test_tcp4(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0x4000 /* DF */);
	pb_tcp(&p, 40000, 80, 8);	/* 12 bytes of options */
	pb_put(&p, 100);
	pb_fix(&p);
	parse_all(&r, &p);

	tuple4(&want, A4, B4, IPPROTO_TCP);
	ports(&want, 40000, 80);
	expect_ok(&r, &want, 20, 0);
	CU_ASSERT_EQUAL(r.pkt.l4caplen, 132);
	CU_ASSERT_EQUAL(r.pkt.l4len, 132);
	CU_ASSERT_EQUAL(r.pkt.tuple.family, AF_INET);
	CU_ASSERT_EQUAL(r.pkt.tuple.sp.port, htons(40000));
	parsed_free(&r);
}

static void test_ip4_options_udp(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDP, A4, B4, 40, 0);	/* IHL 15, the maximum */
	pb_udp(&p, 5353, 53, 8 + 10);
	pb_put(&p, 10);
	pb_fix(&p);
	parse_all(&r, &p);

	tuple4(&want, A4, B4, IPPROTO_UDP);
	ports(&want, 5353, 53);
	expect_ok(&r, &want, 60, 0);
	CU_ASSERT_EQUAL(r.pkt.l4len, 18);
	parsed_free(&r);
}

/* The copy range cut the payload: caplen < len, headers present: fine. */
static void test_copy_range(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDP, A4, B4, 0, 0);
	pb_udp(&p, 1000, 2000, 8 + 1000);
	pb_put(&p, 1000);
	pb_fix(&p);
	parse_cut(&r, &p, 64, p.n, 0);

	tuple4(&want, A4, B4, IPPROTO_UDP);
	ports(&want, 1000, 2000);
	expect_ok(&r, &want, 20, 0);
	CU_ASSERT_EQUAL(r.pkt.l4caplen, 44);
	CU_ASSERT_EQUAL(r.pkt.l4len, 1008);
	parsed_free(&r);
}

static void test_gso(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	/* BIG TCP: tot_len 0, the queue's length is the truth. */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0);
	pb_tcp(&p, 1, 2, 5);
	pb_put(&p, 200);
	parse_cut(&r, &p, 100, 70000, NFQCT_PKT_F_GSO);
	tuple4(&want, A4, B4, IPPROTO_TCP);
	ports(&want, 1, 2);
	expect_ok(&r, &want, 20, NFQCT_PKT_F_GSO);
	CU_ASSERT_EQUAL(r.pkt.l4len, 70000 - 20);
	parsed_free(&r);

	/* Without the flag a zero tot_len is wrong. */
	parse_cut(&r, &p, 100, 70000, 0);
	expect_invalid(&r, "IPv4 total length mismatch");
	parsed_free(&r);

	/* IPv6 likewise with payload length 0. */
	pb_init(&p);
	pb_ip6(&p, IPPROTO_TCP, A6, B6);
	pb_tcp(&p, 1, 2, 5);
	parse_cut(&r, &p, p.n, 80000, NFQCT_PKT_F_GSO);
	tuple6(&want, A6, B6, IPPROTO_TCP);
	ports(&want, 1, 2);
	expect_ok(&r, &want, 40, NFQCT_PKT_F_GSO);
	parsed_free(&r);
	parse_cut(&r, &p, p.n, 80000, 0);
	expect_invalid(&r, "IPv6 payload length mismatch");
	parsed_free(&r);

	/* Jumbogram: payload length 0 behind a hop-by-hop header. */
	pb_init(&p);
	pb_ip6(&p, 0, A6, B6);
	pb_ext(&p, IPPROTO_UDP, 8);
	pb_udp(&p, 7, 9, 8);
	parse_cut(&r, &p, p.n, p.n, 0);
	tuple6(&want, A6, B6, IPPROTO_UDP);
	ports(&want, 7, 9);
	expect_ok(&r, &want, 48, 0);
	parsed_free(&r);
}

static void test_stale_flags(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	/* Old result flags are cleared, the caller's (F_GSO, F_CSUM_*) are kept. */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0);
	pb_tcp(&p, 1, 2, 5);
	pb_fix(&p);
	parse_cut(&r, &p, p.n, p.n, 0xff);
	tuple4(&want, A4, B4, IPPROTO_TCP);
	ports(&want, 1, 2);
	expect_ok(&r, &want, 20, NFQCT_PKT_F_FROM_QUEUE);
	parsed_free(&r);
}

/* ---- other upper layers ---- */

static void test_l4_protocols(void)
{
	static const uint8_t protos[] = { IPPROTO_UDPLITE, IPPROTO_SCTP, IPPROTO_DCCP };
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;
	size_t i;

	for (i = 0; i < sizeof(protos); i++) {
		uint8_t *h;

		/* IPv4 */
		pb_init(&p);
		pb_ip4(&p, protos[i], A4, B4, 0, 0);
		h = pb_put(&p, 16);
		put16(h, (uint16_t)(100 + i));
		put16(h + 2, 200);
		if (protos[i] == IPPROTO_DCCP)
			h[4] = 4;		/* data offset, words */
		if (protos[i] == IPPROTO_UDPLITE)
			put16(h + 4, 12);	/* checksum coverage */
		pb_fix(&p);
		parse_all(&r, &p);
		tuple4(&want, A4, B4, protos[i]);
		ports(&want, (uint16_t)(100 + i), 200);
		expect_ok(&r, &want, 20, 0);
		parsed_free(&r);

		/* IPv6, same L4 bytes */
		pb_init(&p);
		pb_ip6(&p, protos[i], A6, B6);
		h = pb_put(&p, 16);
		put16(h, (uint16_t)(100 + i));
		put16(h + 2, 200);
		if (protos[i] == IPPROTO_DCCP)
			h[4] = 3;
		pb_fix(&p);
		parse_all(&r, &p);
		tuple6(&want, A6, B6, protos[i]);
		ports(&want, (uint16_t)(100 + i), 200);
		expect_ok(&r, &want, 40, 0);
		parsed_free(&r);
	}

	/* Anything else: protocol number only (GRE). */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_GRE, A4, B4, 0, 0);
	pb_put(&p, 4)[0] = 0xff;
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_GRE);
	expect_ok(&r, &want, 20, 0);
	parsed_free(&r);

	/* Zero-length L4 of a generic protocol is fine. */
	pb_init(&p);
	pb_ip4(&p, 253, A4, B4, 0, 0);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, 253);
	expect_ok(&r, &want, 20, 0);
	CU_ASSERT_EQUAL(r.pkt.l4caplen, 0);
	parsed_free(&r);
}

static void test_l4_invalid(void)
{
	struct pb p;
	uint8_t *h;

	/* TCP data offset below 5 words */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0);
	pb_tcp(&p, 1, 2, 4);
	pb_fix(&p);
	check_invalid(&p, "bad TCP data offset");

	/* TCP data offset beyond the packet */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0);
	pb_tcp(&p, 1, 2, 5);
	p.b[20 + 12] = 0xf0;
	pb_fix(&p);
	check_invalid(&p, "bad TCP data offset");

	/* TCP header shorter than 20 bytes in a complete packet */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0);
	pb_put(&p, 19);
	pb_fix(&p);
	check_invalid(&p, "truncated TCP header");

	/* UDP length below 8 and beyond the packet */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDP, A4, B4, 0, 0);
	pb_udp(&p, 1, 2, 7);
	pb_fix(&p);
	check_invalid(&p, "bad UDP length");
	put16(p.b + 24, 9);
	check_invalid(&p, "bad UDP length");
	put16(p.b + 24, 8);
	{
		struct parsed r;

		parse_all(&r, &p);
		CU_ASSERT_EQUAL(r.ret, 0);
		parsed_free(&r);
	}

	/* UDP with 7 bytes of header */
	pb_init(&p);
	pb_ip6(&p, IPPROTO_UDP, A6, B6);
	pb_put(&p, 7);
	pb_fix(&p);
	check_invalid(&p, "truncated UDP header");

	/* UDP-Lite coverage 1..7 */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDPLITE, A4, B4, 0, 0);
	pb_udp(&p, 1, 2, 5);
	pb_fix(&p);
	check_invalid(&p, "bad UDP-Lite checksum coverage");
	put16(p.b + 24, 9);		/* beyond the 8-byte datagram */
	check_invalid(&p, "bad UDP-Lite checksum coverage");

	/* SCTP shorter than its common header */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_SCTP, A4, B4, 0, 0);
	pb_put(&p, 11);
	pb_fix(&p);
	check_invalid(&p, "truncated SCTP header");

	/* DCCP data offset below 3 words, and beyond the packet */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_DCCP, A4, B4, 0, 0);
	h = pb_put(&p, 12);
	h[4] = 2;
	pb_fix(&p);
	check_invalid(&p, "bad DCCP data offset");
	p.b[24] = 4;
	check_invalid(&p, "bad DCCP data offset");
	pb_init(&p);
	pb_ip4(&p, IPPROTO_DCCP, A4, B4, 0, 0);
	pb_put(&p, 11);
	pb_fix(&p);
	check_invalid(&p, "truncated DCCP header");

	/* ICMP shorter than 8 bytes */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_ICMP, A4, B4, 0, 0);
	pb_put(&p, 7)[0] = 8;
	pb_fix(&p);
	check_invalid(&p, "truncated ICMP header");
	pb_init(&p);
	pb_ip6(&p, IPPROTO_ICMPV6, A6, B6);
	pb_put(&p, 4)[0] = 128;
	pb_fix(&p);
	check_invalid(&p, "truncated ICMPv6 header");
}

/* ---- IPv4 header errors ---- */

static void test_ip4_invalid(void)
{
	struct parsed r;
	struct pb p;

	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0);
	pb_tcp(&p, 1, 2, 5);
	pb_fix(&p);

	/* IHL 4 and 0 */
	p.b[0] = 0x44;
	check_invalid(&p, "bad IHL");
	p.b[0] = 0x40;
	check_invalid(&p, "bad IHL");

	/* IHL 15 (60 bytes) but tot_len 40: header longer than the packet */
	p.b[0] = 0x4f;
	check_invalid(&p, "bad IPv4 total length");
	p.b[0] = 0x45;

	/* tot_len above and below the real length, and below the header */
	put16(p.b + 2, 41);
	check_invalid(&p, "IPv4 total length mismatch");
	put16(p.b + 2, 39);
	check_invalid(&p, "IPv4 total length mismatch");
	put16(p.b + 2, 40);

	/* Wrong version nibbles */
	p.b[0] = 0x55;
	check_invalid(&p, "bad IP version");
	p.b[0] = 0x05;
	check_invalid(&p, "bad IP version");
	p.b[0] = 0x45;

	/* Hardware protocol disagreeing with the version */
	parse_cut(&r, &p, p.n, p.n, 0);
	CU_ASSERT_EQUAL(r.ret, 0);
	parsed_free(&r);
	r.copy = malloc(p.n);
	CU_ASSERT_FATAL(r.copy != NULL);
	memcpy(r.copy, p.b, p.n);
	memset(&r.pkt, 0, sizeof(r.pkt));
	r.pkt.data = r.copy;
	r.pkt.caplen = r.pkt.len = p.n;
	r.pkt.hw_protocol = ETHERTYPE_IPV6;
	r.ret = nfqct_pkt_parse(&r.pkt);
	expect_invalid(&r, "IP version does not match hardware protocol");
	CU_ASSERT_EQUAL(r.pkt.tuple.family, AF_INET);
	r.pkt.hw_protocol = ETHERTYPE_IP;
	CU_ASSERT_EQUAL(nfqct_pkt_parse(&r.pkt), 0);
	r.pkt.hw_protocol = 0x0806;	/* ARP */
	CU_ASSERT_EQUAL(nfqct_pkt_parse(&r.pkt), -EINVAL);
	parsed_free(&r);

	/* caplen beyond len */
	parse_cut(&r, &p, p.n, p.n - 1, 0);
	expect_invalid(&r, "captured length exceeds packet length");
	parsed_free(&r);
}

/* Every cut of a TCP/IPv4 packet with IP and TCP options. */
static void test_ip4_truncations(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;
	uint32_t cap;

	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 8, 0);	/* 28-byte IP header */
	pb_tcp(&p, 33000, 443, 10);		/* 40-byte TCP header */
	pb_put(&p, 12);
	pb_fix(&p);
	CU_ASSERT_EQUAL_FATAL(p.n, 80);
	tuple4(&want, A4, B4, IPPROTO_TCP);
	ports(&want, 33000, 443);

	for (cap = 0; cap < p.n; cap++) {
		/* The copy range cut it: len is the full length. */
		parse_cut(&r, &p, cap, p.n, 0);
		if (cap == 0)
			expect_invalid(&r, "empty packet");
		else if (cap < 28)
			expect_invalid(&r, "truncated IPv4 header");
		else if (cap < 68)
			expect_invalid(&r, "truncated TCP header");
		else
			expect_ok(&r, &want, 28, 0);
		parsed_free(&r);

		/* The packet itself is that short: tot_len disagrees. */
		parse_cut(&r, &p, cap, cap, 0);
		if (cap == 0)
			expect_invalid(&r, "empty packet");
		else if (cap < 20)
			expect_invalid(&r, "truncated IPv4 header");
		else
			expect_invalid(&r, "IPv4 total length mismatch");
		parsed_free(&r);
	}
}

/* ---- fragments ---- */

static void test_fragments4(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	/* First fragment: MF, offset 0, UDP length covering the whole datagram. */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDP, A4, B4, 0, 0x2000);
	pb_udp(&p, 4000, 4001, 3000);
	pb_put(&p, 1472);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_UDP);
	ports(&want, 4000, 4001);
	expect_ok(&r, &want, 20, NFQCT_PKT_F_FRAGMENT);
	parsed_free(&r);

	/* Middle fragment: MF and offset: addresses and protocol only. */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDP, A4, B4, 0, 0x2000 | 185);
	pb_udp(&p, 9999, 9999, 9999);	/* payload that looks like a header */
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_UDP);
	expect_ok(&r, &want, 20, NFQCT_PKT_F_FRAGMENT | NFQCT_PKT_F_LATER_FRAG);
	parsed_free(&r);

	/* Last fragment: offset, no MF; even one byte of payload is fine. */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 370);
	pb_put(&p, 1);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_TCP);
	expect_ok(&r, &want, 20, NFQCT_PKT_F_FRAGMENT | NFQCT_PKT_F_LATER_FRAG);
	parsed_free(&r);

	/* DF alone is not a fragment. */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_TCP, A4, B4, 0, 0x4000);
	pb_tcp(&p, 5, 6, 5);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_TCP);
	ports(&want, 5, 6);
	expect_ok(&r, &want, 20, 0);
	parsed_free(&r);
}

/* ---- IPv6 and its extension headers ---- */

static void test_ip6_exthdrs(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	/* Plain TCP */
	pb_init(&p);
	pb_ip6(&p, IPPROTO_TCP, A6, B6);
	pb_tcp(&p, 50000, 22, 5);
	pb_put(&p, 5);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_TCP);
	ports(&want, 50000, 22);
	expect_ok(&r, &want, 40, 0);
	CU_ASSERT_EQUAL(r.pkt.l4len, 25);
	parsed_free(&r);

	/* Hop-by-hop (16 bytes) */
	pb_init(&p);
	pb_ip6(&p, 0, A6, B6);
	pb_ext(&p, IPPROTO_UDP, 16);
	pb_udp(&p, 1, 2, 8);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_UDP);
	ports(&want, 1, 2);
	expect_ok(&r, &want, 56, 0);
	parsed_free(&r);

	/* Routing (24 bytes) */
	pb_init(&p);
	pb_ip6(&p, 43, A6, B6);
	pb_ext(&p, IPPROTO_TCP, 24);
	pb_tcp(&p, 3, 4, 5);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_TCP);
	ports(&want, 3, 4);
	expect_ok(&r, &want, 64, 0);
	parsed_free(&r);

	/* Destination options (8 bytes) */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	pb_ext(&p, IPPROTO_SCTP, 8);
	pb_put(&p, 12);
	put16(p.b + 48, 5);
	put16(p.b + 50, 6);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_SCTP);
	ports(&want, 5, 6);
	expect_ok(&r, &want, 48, 0);
	parsed_free(&r);

	/* AH (24 bytes: length field 4) */
	pb_init(&p);
	pb_ip6(&p, 51, A6, B6);
	pb_ah(&p, IPPROTO_UDP, 24);
	CU_ASSERT_EQUAL(p.b[41], 4);
	pb_udp(&p, 7, 8, 8);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_UDP);
	ports(&want, 7, 8);
	expect_ok(&r, &want, 64, 0);
	parsed_free(&r);

	/* First fragment, then destination options, then UDP */
	pb_init(&p);
	pb_ip6(&p, 44, A6, B6);
	pb_frag6(&p, 60, 0, 1);
	pb_ext(&p, IPPROTO_UDP, 8);
	pb_udp(&p, 9, 10, 2000);	/* covers the whole datagram */
	pb_put(&p, 100);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_UDP);
	ports(&want, 9, 10);
	expect_ok(&r, &want, 56, NFQCT_PKT_F_FRAGMENT);
	parsed_free(&r);

	/* Atomic fragment (offset 0, no M) is not a fragment. */
	pb_init(&p);
	pb_ip6(&p, 44, A6, B6);
	pb_frag6(&p, IPPROTO_TCP, 0, 0);
	pb_tcp(&p, 11, 12, 5);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_TCP);
	ports(&want, 11, 12);
	expect_ok(&r, &want, 48, 0);
	parsed_free(&r);

	/* Later fragment: the chain stops, protocol from the fragment header. */
	pb_init(&p);
	pb_ip6(&p, 0, A6, B6);
	pb_ext(&p, 44, 8);
	pb_frag6(&p, IPPROTO_TCP, 1448, 1);
	pb_put(&p, 3)[0] = 60;		/* data that looks like a next header */
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_TCP);
	expect_ok(&r, &want, 56, NFQCT_PKT_F_FRAGMENT | NFQCT_PKT_F_LATER_FRAG);
	parsed_free(&r);

	/* ESP ends the chain: protocol 50, no ports. */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	pb_ext(&p, 50, 8);
	pb_put(&p, 16)[0] = 0x11;	/* SPI */
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, 50);
	expect_ok(&r, &want, 48, 0);
	CU_ASSERT_EQUAL(r.pkt.l4caplen, 16);
	parsed_free(&r);

	/* No next header after routing */
	pb_init(&p);
	pb_ip6(&p, 43, A6, B6);
	pb_ext(&p, 59, 8);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, 59);
	expect_ok(&r, &want, 48, 0);
	CU_ASSERT_EQUAL(r.pkt.l4caplen, 0);
	parsed_free(&r);

	/* ICMPv6 inside IPv4 is generic too. */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_ICMPV6, A4, B4, 0, 0);
	pb_icmp(&p, 1, 0, 0);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_ICMPV6);
	expect_ok(&r, &want, 20, 0);
	parsed_free(&r);

	/* ICMP (v4) inside IPv6 is generic. */
	pb_init(&p);
	pb_ip6(&p, IPPROTO_ICMP, A6, B6);
	pb_icmp(&p, 8, 0, 77);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_ICMP);
	expect_ok(&r, &want, 40, 0);
	parsed_free(&r);
}

static void test_ip6_invalid(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;
	int i;

	/* Payload length disagreeing */
	pb_init(&p);
	pb_ip6(&p, IPPROTO_UDP, A6, B6);
	pb_udp(&p, 1, 2, 8);
	pb_fix(&p);
	put16(p.b + 4, 9);
	check_invalid(&p, "IPv6 payload length mismatch");
	put16(p.b + 4, 7);
	check_invalid(&p, "IPv6 payload length mismatch");
	put16(p.b + 4, 0);	/* zero without GSO or hop-by-hop */
	check_invalid(&p, "IPv6 payload length mismatch");

	/* Hop-by-hop length running past the packet */
	pb_init(&p);
	pb_ip6(&p, 0, A6, B6);
	pb_ext(&p, IPPROTO_UDP, 8);
	pb_udp(&p, 1, 2, 8);
	pb_fix(&p);
	p.b[41] = 2;		/* 24 bytes, but only 16 follow */
	check_invalid(&p, "bad extension header length");
	p.b[41] = 255;
	check_invalid(&p, "bad extension header length");

	/* AH length past the packet */
	pb_init(&p);
	pb_ip6(&p, 51, A6, B6);
	pb_ah(&p, IPPROTO_TCP, 12);
	pb_fix(&p);
	p.b[41] = 2;		/* 16 bytes, only 12 present */
	check_invalid(&p, "bad extension header length");

	/* Fragment header cut: 7 of its 8 bytes */
	pb_init(&p);
	pb_ip6(&p, 44, A6, B6);
	pb_put(&p, 7)[0] = IPPROTO_TCP;
	pb_fix(&p);
	check_invalid(&p, "bad extension header length");

	/* Extension header whose length byte is missing */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	pb_put(&p, 1)[0] = IPPROTO_TCP;
	pb_fix(&p);
	check_invalid(&p, "bad extension header length");

	/* Same with the copy range cutting it (len says it is there) */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	pb_ext(&p, IPPROTO_UDP, 16);
	pb_udp(&p, 1, 2, 8);
	pb_fix(&p);
	parse_cut(&r, &p, 50, p.n, 0);
	expect_invalid(&r, "truncated extension header");
	parsed_free(&r);

	/* Hop-by-hop anywhere but first */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	pb_ext(&p, 0, 8);
	pb_ext(&p, IPPROTO_UDP, 8);
	pb_udp(&p, 1, 2, 8);
	pb_fix(&p);
	check_invalid(&p, "misplaced hop-by-hop header");

	/* 16 extension headers are accepted, 17 are not (endless chain). */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	for (i = 0; i < 15; i++)
		pb_ext(&p, 60, 8);
	pb_ext(&p, IPPROTO_UDP, 8);
	pb_udp(&p, 1, 2, 8);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_UDP);
	ports(&want, 1, 2);
	expect_ok(&r, &want, 40 + 16 * 8, 0);
	parsed_free(&r);

	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	for (i = 0; i < 16; i++)
		pb_ext(&p, 60, 8);
	pb_ext(&p, IPPROTO_UDP, 8);
	pb_udp(&p, 1, 2, 8);
	pb_fix(&p);
	check_invalid(&p, "too many extension headers");

	/* A chain of 400 destination options headers pointing at each other. */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	for (i = 0; i < 400; i++)
		pb_ext(&p, 60, 8);
	pb_fix(&p);
	check_invalid(&p, "too many extension headers");

	/* Hardware protocol saying IPv4 */
	pb_init(&p);
	pb_ip6(&p, 59, A6, B6);
	pb_fix(&p);
	r.copy = malloc(p.n);
	CU_ASSERT_FATAL(r.copy != NULL);
	memcpy(r.copy, p.b, p.n);
	memset(&r.pkt, 0, sizeof(r.pkt));
	r.pkt.data = r.copy;
	r.pkt.caplen = r.pkt.len = p.n;
	r.pkt.hw_protocol = ETHERTYPE_IP;
	r.ret = nfqct_pkt_parse(&r.pkt);
	expect_invalid(&r, "IP version does not match hardware protocol");
	CU_ASSERT_EQUAL(r.pkt.tuple.family, AF_INET6);
	r.pkt.hw_protocol = ETHERTYPE_IPV6;
	CU_ASSERT_EQUAL(nfqct_pkt_parse(&r.pkt), 0);
	parsed_free(&r);
}

/* Every cut of IPv6 + hop-by-hop + routing + fragment + UDP. */
static void test_ip6_truncations(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;
	uint32_t cap;

	pb_init(&p);
	pb_ip6(&p, 0, A6, B6);
	pb_ext(&p, 43, 16);		/* 40..55 */
	pb_ext(&p, 44, 24);		/* 56..79 */
	pb_frag6(&p, IPPROTO_UDP, 0, 1);	/* 80..87 */
	pb_udp(&p, 6000, 53, 500);	/* 88..95 */
	pb_put(&p, 20);
	pb_fix(&p);
	CU_ASSERT_EQUAL_FATAL(p.n, 116);
	tuple6(&want, A6, B6, IPPROTO_UDP);
	ports(&want, 6000, 53);

	for (cap = 0; cap < p.n; cap++) {
		parse_cut(&r, &p, cap, p.n, 0);
		if (cap == 0)
			expect_invalid(&r, "empty packet");
		else if (cap < 40)
			expect_invalid(&r, "truncated IPv6 header");
		else if (cap < 88)
			expect_invalid(&r, "truncated extension header");
		else if (cap < 96)
			expect_invalid(&r, "truncated UDP header");
		else
			expect_ok(&r, &want, 88, NFQCT_PKT_F_FRAGMENT);
		parsed_free(&r);

		parse_cut(&r, &p, cap, cap, 0);
		if (cap == 0)
			expect_invalid(&r, "empty packet");
		else if (cap < 40)
			expect_invalid(&r, "truncated IPv6 header");
		else
			expect_invalid(&r, "IPv6 payload length mismatch");
		parsed_free(&r);
	}
}

/* ---- ICMP and ICMPv6 ---- */

static void test_icmp_queries(void)
{
	struct nfqct_tuple want;
	struct parsed r;
	struct pb p;

	/* Echo request */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_ICMP, A4, B4, 0, 0);
	pb_icmp(&p, 8, 0, 0x1234);
	pb_put(&p, 56);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_ICMP);
	icmp_of(&want, 8, 0, 0x1234);
	expect_ok(&r, &want, 20, 0);
	parsed_free(&r);

	/* Timestamp request */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_ICMP, A4, B4, 0, 0);
	pb_icmp(&p, 13, 0, 42);
	pb_put(&p, 12);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple4(&want, A4, B4, IPPROTO_ICMP);
	icmp_of(&want, 13, 0, 42);
	expect_ok(&r, &want, 20, 0);
	parsed_free(&r);

	/* ICMPv6 echo reply, with a code */
	pb_init(&p);
	pb_ip6(&p, IPPROTO_ICMPV6, A6, B6);
	pb_icmp(&p, 129, 3, 0xbeef);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_ICMPV6);
	icmp_of(&want, 129, 3, 0xbeef);
	expect_ok(&r, &want, 40, 0);
	parsed_free(&r);

	/* ICMPv6 behind a destination options header */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	pb_ext(&p, IPPROTO_ICMPV6, 8);
	pb_icmp(&p, 128, 0, 7);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, B6, IPPROTO_ICMPV6);
	icmp_of(&want, 128, 0, 7);
	expect_ok(&r, &want, 48, 0);
	parsed_free(&r);
}

/* Append the first qlen bytes of the inner packet q to p. */
static void pb_quote(struct pb *p, const struct pb *q, uint32_t qlen)
{
	pb_bytes(p, q->b, qlen);
}

static void build_icmp4_error(struct pb *p, uint8_t type, uint8_t code, const struct pb *q,
			      uint32_t qlen)
{
	pb_init(p);
	pb_ip4(p, IPPROTO_ICMP, "198.18.9.9", A4, 0, 0);
	pb_icmp(p, type, code, 0);
	pb_quote(p, q, qlen);
	pb_fix(p);
}

static void build_icmp6_error(struct pb *p, uint8_t type, uint8_t code, const struct pb *q,
			      uint32_t qlen)
{
	pb_init(p);
	pb_ip6(p, IPPROTO_ICMPV6, "2001:db8:9::9", A6);
	pb_icmp(p, type, code, 0);
	pb_quote(p, q, qlen);
	pb_fix(p);
}

static void expect_icmp_error(const struct parsed *r, const struct nfqct_tuple *want,
			      const struct nfqct_tuple *want_inner, uint16_t l3hdrlen)
{
	expect_ok(r, want, l3hdrlen, NFQCT_PKT_F_ICMP_ERROR);
	CHECK_TUPLE(r->pkt.inner, *want_inner);
}

static void test_icmp4_errors(void)
{
	struct nfqct_tuple want, inner;
	static const uint8_t types[] = { 3, 4, 5, 11, 12 };
	struct parsed r;
	struct pb q, p;
	size_t i;

	/* Port unreachable quoting a UDP datagram, quote cut after 8 bytes. */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_UDP, A4, B4, 0, 0);
	pb_udp(&q, 5000, 53, 108);
	pb_put(&q, 100);
	pb_fix(&q);
	tuple4(&inner, A4, B4, IPPROTO_UDP);
	ports(&inner, 5000, 53);
	for (i = 0; i < sizeof(types); i++) {
		build_icmp4_error(&p, types[i], 3, &q, 28);
		parse_all(&r, &p);
		tuple4(&want, "198.18.9.9", A4, IPPROTO_ICMP);
		icmp_of(&want, types[i], 3, 0);
		expect_icmp_error(&r, &want, &inner, 20);
		parsed_free(&r);
	}

	/* Whole quote of a TCP segment with IP options (fragmentation needed). */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_TCP, A4, B4, 4, 0x4000);
	pb_tcp(&q, 44444, 443, 5);
	pb_put(&q, 1400);
	pb_fix(&q);
	build_icmp4_error(&p, 3, 4, &q, 24 + 20 + 100);
	put16(p.b + 20 + 6, 1400);	/* next-hop MTU, not an id */
	parse_all(&r, &p);
	tuple4(&want, "198.18.9.9", A4, IPPROTO_ICMP);
	icmp_of(&want, 3, 4, 0);
	tuple4(&inner, A4, B4, IPPROTO_TCP);
	ports(&inner, 44444, 443);
	expect_icmp_error(&r, &want, &inner, 20);
	parsed_free(&r);

	/* Time exceeded quoting an echo request: inner id/type/code. */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_ICMP, A4, B4, 0, 0);
	pb_icmp(&q, 8, 0, 0x4321);
	pb_put(&q, 56);
	pb_fix(&q);
	build_icmp4_error(&p, 11, 0, &q, 28);
	parse_all(&r, &p);
	tuple4(&want, "198.18.9.9", A4, IPPROTO_ICMP);
	icmp_of(&want, 11, 0, 0);
	tuple4(&inner, A4, B4, IPPROTO_ICMP);
	icmp_of(&inner, 8, 0, 0x4321);
	expect_icmp_error(&r, &want, &inner, 20);
	parsed_free(&r);

	/* A quote of a first fragment is fine (it has the ports). */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_UDP, A4, B4, 0, 0x2000);
	pb_udp(&q, 1, 2, 5000);
	pb_fix(&q);
	build_icmp4_error(&p, 3, 1, &q, 28);
	parse_all(&r, &p);
	tuple4(&want, "198.18.9.9", A4, IPPROTO_ICMP);
	icmp_of(&want, 3, 1, 0);
	tuple4(&inner, A4, B4, IPPROTO_UDP);
	ports(&inner, 1, 2);
	expect_icmp_error(&r, &want, &inner, 20);
	parsed_free(&r);

	/* Quote of a generic protocol: 8 bytes present, protocol only. */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_GRE, A4, B4, 0, 0);
	pb_put(&q, 8);
	pb_fix(&q);
	build_icmp4_error(&p, 3, 2, &q, 28);
	parse_all(&r, &p);
	tuple4(&inner, A4, B4, IPPROTO_GRE);
	tuple4(&want, "198.18.9.9", A4, IPPROTO_ICMP);
	icmp_of(&want, 3, 2, 0);
	expect_icmp_error(&r, &want, &inner, 20);
	parsed_free(&r);
}

static void test_icmp6_errors(void)
{
	struct nfqct_tuple want, inner;
	struct parsed r;
	struct pb q, p;
	uint8_t type;

	/* Each of the four error types quoting UDP */
	pb_init(&q);
	pb_ip6(&q, IPPROTO_UDP, A6, B6);
	pb_udp(&q, 7000, 7001, 1200);
	pb_put(&q, 1192);
	pb_fix(&q);
	tuple6(&inner, A6, B6, IPPROTO_UDP);
	ports(&inner, 7000, 7001);
	for (type = 1; type <= 4; type++) {
		build_icmp6_error(&p, type, 0, &q, 48);
		parse_all(&r, &p);
		tuple6(&want, "2001:db8:9::9", A6, IPPROTO_ICMPV6);
		icmp_of(&want, type, 0, 0);
		expect_icmp_error(&r, &want, &inner, 40);
		parsed_free(&r);
	}

	/* The kernel takes every type below 128 as an error, assigned or not. */
	build_icmp6_error(&p, 100, 0, &q, 48);
	parse_all(&r, &p);
	tuple6(&want, "2001:db8:9::9", A6, IPPROTO_ICMPV6);
	icmp_of(&want, 100, 0, 0);
	expect_icmp_error(&r, &want, &inner, 40);
	parsed_free(&r);

	/* Packet too big quoting TCP behind a routing and a fragment header */
	pb_init(&q);
	pb_ip6(&q, 43, A6, B6);
	pb_ext(&q, 44, 16);
	pb_frag6(&q, IPPROTO_TCP, 0, 1);
	pb_tcp(&q, 1234, 80, 8);
	pb_fix(&q);
	build_icmp6_error(&p, 2, 0, &q, 40 + 16 + 8 + 8);
	parse_all(&r, &p);
	tuple6(&want, "2001:db8:9::9", A6, IPPROTO_ICMPV6);
	icmp_of(&want, 2, 0, 0);
	tuple6(&inner, A6, B6, IPPROTO_TCP);
	ports(&inner, 1234, 80);
	expect_icmp_error(&r, &want, &inner, 40);
	parsed_free(&r);

	/* Destination unreachable quoting an echo request */
	pb_init(&q);
	pb_ip6(&q, IPPROTO_ICMPV6, A6, B6);
	pb_icmp(&q, 128, 0, 0x0505);
	pb_put(&q, 32);
	pb_fix(&q);
	build_icmp6_error(&p, 1, 4, &q, q.n);
	parse_all(&r, &p);
	tuple6(&want, "2001:db8:9::9", A6, IPPROTO_ICMPV6);
	icmp_of(&want, 1, 4, 0);
	tuple6(&inner, A6, B6, IPPROTO_ICMPV6);
	icmp_of(&inner, 128, 0, 0x0505);
	expect_icmp_error(&r, &want, &inner, 40);
	parsed_free(&r);

	/* The ICMPv6 error itself behind a destination options header */
	pb_init(&p);
	pb_ip6(&p, 60, "2001:db8:9::9", A6);
	pb_ext(&p, IPPROTO_ICMPV6, 8);
	pb_icmp(&p, 3, 1, 0);
	pb_quote(&p, &q, 48);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, "2001:db8:9::9", A6, IPPROTO_ICMPV6);
	icmp_of(&want, 3, 1, 0);
	expect_icmp_error(&r, &want, &inner, 48);
	parsed_free(&r);

	/* Neighbour solicitation is not an error: kernel-style tuple. */
	pb_init(&p);
	pb_ip6(&p, IPPROTO_ICMPV6, A6, "ff02::1:ff00:2");
	pb_icmp(&p, 135, 0, 0);
	pb_put(&p, 16);
	pb_fix(&p);
	parse_all(&r, &p);
	tuple6(&want, A6, "ff02::1:ff00:2", IPPROTO_ICMPV6);
	icmp_of(&want, 135, 0, 0);
	expect_ok(&r, &want, 40, 0);
	parsed_free(&r);
}

static void test_icmp_errors_invalid(void)
{
	struct parsed r;
	struct pb q, q6, p;
	uint32_t qlen, cap;

	pb_init(&q);
	pb_ip4(&q, IPPROTO_TCP, A4, B4, 0, 0);
	pb_tcp(&q, 1, 2, 5);
	pb_fix(&q);

	/* Every quote shorter than IP header + 8 bytes (complete packets). */
	for (qlen = 0; qlen < 28; qlen++) {
		build_icmp4_error(&p, 3, 3, &q, qlen);
		parse_all(&r, &p);
		expect_invalid(&r, "ICMP error quote truncated");
		CU_ASSERT_EQUAL(r.pkt.flags, NFQCT_PKT_F_ICMP_ERROR);
		CU_ASSERT_EQUAL(r.pkt.tuple.dp.icmp.type, 3);
		parsed_free(&r);
	}

	/* The copy range cutting a full quote: same verdict for every cut
	 * before IP header + 8 bytes of it, fine after. */
	build_icmp4_error(&p, 3, 3, &q, q.n);
	for (cap = 1; cap < p.n; cap++) {
		parse_cut(&r, &p, cap, p.n, 0);
		if (cap < 20)
			expect_invalid(&r, "truncated IPv4 header");
		else if (cap < 28)
			expect_invalid(&r, "truncated ICMP header");
		else if (cap < 56)
			expect_invalid(&r, "ICMP error quote truncated");
		else
			CU_ASSERT_EQUAL(r.ret, 0);
		parsed_free(&r);
	}

	/* Quote with IP options cut inside the options */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_UDP, A4, B4, 20, 0);
	pb_udp(&q, 1, 2, 8);
	pb_fix(&q);
	build_icmp4_error(&p, 3, 3, &q, 30);
	check_invalid(&p, "ICMP error quote truncated");
	build_icmp4_error(&p, 3, 3, &q, 45);
	check_invalid(&p, "ICMP error quote truncated");

	/* Quote with a bad IHL */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_UDP, A4, B4, 0, 0);
	pb_udp(&q, 1, 2, 8);
	pb_fix(&q);
	q.b[0] = 0x43;
	build_icmp4_error(&p, 3, 3, &q, 28);
	check_invalid(&p, "bad IHL");

	/* Nested: an error quoting an error (v4 and v6) */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_ICMP, B4, A4, 0, 0);
	pb_icmp(&q, 3, 1, 0);
	pb_put(&q, 28);
	pb_fix(&q);
	build_icmp4_error(&p, 11, 0, &q, 28);
	check_invalid(&p, "nested ICMP error");

	pb_init(&q6);
	pb_ip6(&q6, IPPROTO_ICMPV6, B6, A6);
	pb_icmp(&q6, 1, 0, 0);
	pb_fix(&q6);
	build_icmp6_error(&p, 3, 0, &q6, 48);
	check_invalid(&p, "nested ICMP error");

	/* Family mismatch: IPv4 error quoting IPv6 and the other way round */
	pb_init(&q6);
	pb_ip6(&q6, IPPROTO_UDP, A6, B6);
	pb_udp(&q6, 1, 2, 8);
	pb_fix(&q6);
	build_icmp4_error(&p, 3, 3, &q6, 48);
	check_invalid(&p, "ICMP error quote family mismatch");
	pb_init(&q);
	pb_ip4(&q, IPPROTO_UDP, A4, B4, 0, 0);
	pb_udp(&q, 1, 2, 8);
	pb_fix(&q);
	build_icmp6_error(&p, 1, 3, &q, 28);
	check_invalid(&p, "ICMP error quote family mismatch");

	/* IPv6 quote too short: every length below 40 + 8 */
	for (qlen = 0; qlen < 48; qlen++) {
		build_icmp6_error(&p, 1, 3, &q6, qlen);
		parse_all(&r, &p);
		expect_invalid(&r, "ICMP error quote truncated");
		parsed_free(&r);
	}

	/* IPv6 quote cut inside an extension header */
	pb_init(&q6);
	pb_ip6(&q6, 60, A6, B6);
	pb_ext(&q6, IPPROTO_UDP, 32);
	pb_udp(&q6, 1, 2, 8);
	pb_fix(&q6);
	build_icmp6_error(&p, 1, 3, &q6, 60);
	check_invalid(&p, "ICMP error quote truncated");
	build_icmp6_error(&p, 1, 3, &q6, 75);	/* ext header there, 3 bytes of UDP */
	check_invalid(&p, "ICMP error quote truncated");

	/* Quote of a later fragment has no ports */
	pb_init(&q);
	pb_ip4(&q, IPPROTO_UDP, A4, B4, 0, 100);
	pb_put(&q, 8);
	pb_fix(&q);
	build_icmp4_error(&p, 11, 1, &q, 28);
	check_invalid(&p, "ICMP error quotes a later fragment");
	pb_init(&q6);
	pb_ip6(&q6, 44, A6, B6);
	pb_frag6(&q6, IPPROTO_UDP, 800, 0);
	pb_put(&q6, 8);
	pb_fix(&q6);
	build_icmp6_error(&p, 3, 1, &q6, 56);
	check_invalid(&p, "ICMP error quotes a later fragment");
}

/* ---- tuple helpers ---- */

static void test_invert(void)
{
	struct nfqct_tuple o, rep, want;

	/* TCP: addresses and ports swap */
	tuple4(&o, A4, B4, IPPROTO_TCP);
	ports(&o, 40000, 80);
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	tuple4(&want, B4, A4, IPPROTO_TCP);
	ports(&want, 80, 40000);
	CHECK_TUPLE(rep, want);

	tuple6(&o, A6, B6, IPPROTO_UDP);
	ports(&o, 1, 2);
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	tuple6(&want, B6, A6, IPPROTO_UDP);
	ports(&want, 2, 1);
	CHECK_TUPLE(rep, want);

	/* ICMP echo request <-> reply, id and code kept */
	tuple4(&o, A4, B4, IPPROTO_ICMP);
	icmp_of(&o, 8, 0, 0x1234);
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	tuple4(&want, B4, A4, IPPROTO_ICMP);
	icmp_of(&want, 0, 0, 0x1234);
	CHECK_TUPLE(rep, want);
	o = rep;
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	tuple4(&want, A4, B4, IPPROTO_ICMP);
	icmp_of(&want, 8, 0, 0x1234);
	CHECK_TUPLE(rep, want);

	/* Timestamp 13 -> 14 */
	tuple4(&o, A4, B4, IPPROTO_ICMP);
	icmp_of(&o, 13, 0, 9);
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	CU_ASSERT_EQUAL(rep.dp.icmp.type, 14);

	/* ICMP errors and other types have no reply */
	tuple4(&o, A4, B4, IPPROTO_ICMP);
	icmp_of(&o, 3, 3, 0);
	CU_ASSERT_FALSE(nfqct_tuple_invert(&rep, &o));
	icmp_of(&o, 9, 0, 0);	/* router advertisement */
	CU_ASSERT_FALSE(nfqct_tuple_invert(&rep, &o));

	/* ICMPv6 128 <-> 129 */
	tuple6(&o, A6, B6, IPPROTO_ICMPV6);
	icmp_of(&o, 128, 0, 77);
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	tuple6(&want, B6, A6, IPPROTO_ICMPV6);
	icmp_of(&want, 129, 0, 77);
	CHECK_TUPLE(rep, want);
	o = rep;
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	CU_ASSERT_EQUAL(rep.dp.icmp.type, 128);
	icmp_of(&o, 1, 0, 0);
	CU_ASSERT_FALSE(nfqct_tuple_invert(&rep, &o));
	icmp_of(&o, 135, 0, 0);
	CU_ASSERT_FALSE(nfqct_tuple_invert(&rep, &o));

	/* ICMPv6 types read as ICMP (wrong family) do not invert */
	tuple6(&o, A6, B6, IPPROTO_ICMP);
	icmp_of(&o, 8, 0, 1);
	CU_ASSERT_FALSE(nfqct_tuple_invert(&rep, &o));

	/* Generic: addresses only */
	tuple4(&o, A4, B4, IPPROTO_GRE);
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &o));
	tuple4(&want, B4, A4, IPPROTO_GRE);
	CHECK_TUPLE(rep, want);
}

/* A parsed packet and its reply direction invert into each other. */
static void test_parse_invert(void)
{
	struct nfqct_tuple rep, want;
	struct parsed r;
	struct pb p;

	pb_init(&p);
	pb_ip4(&p, IPPROTO_ICMP, A4, B4, 0, 0);
	pb_icmp(&p, 8, 0, 99);
	pb_fix(&p);
	parse_all(&r, &p);
	CU_ASSERT_EQUAL(r.ret, 0);
	CU_ASSERT_TRUE(nfqct_tuple_invert(&rep, &r.pkt.tuple));
	parsed_free(&r);

	pb_init(&p);
	pb_ip4(&p, IPPROTO_ICMP, B4, A4, 0, 0);
	pb_icmp(&p, 0, 0, 99);
	pb_fix(&p);
	parse_all(&r, &p);
	CU_ASSERT_EQUAL(r.ret, 0);
	want = r.pkt.tuple;
	CHECK_TUPLE(rep, want);
	parsed_free(&r);
}

static void test_proto_name(void)
{
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_TCP), "tcp");
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_UDP), "udp");
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_UDPLITE), "udplite");
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_SCTP), "sctp");
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_DCCP), "dccp");
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_ICMP), "icmp");
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_ICMPV6), "icmpv6");
	CU_ASSERT_STRING_EQUAL(nfqct_proto_name(IPPROTO_GRE), "gre");
	CU_ASSERT_PTR_NULL(nfqct_proto_name(50));
	CU_ASSERT_PTR_NULL(nfqct_proto_name(0));
	CU_ASSERT_PTR_NULL(nfqct_proto_name(255));
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "tcp over ipv4", test_tcp4 },
		{ "ipv4 options, udp", test_ip4_options_udp },
		{ "copy range cuts payload", test_copy_range },
		{ "gso and jumbo lengths", test_gso },
		{ "result flags reset", test_stale_flags },
		{ "udplite sctp dccp generic", test_l4_protocols },
		{ "invalid upper layers", test_l4_invalid },
		{ "invalid ipv4 headers", test_ip4_invalid },
		{ "every ipv4 truncation", test_ip4_truncations },
		{ "ipv4 fragments", test_fragments4 },
		{ "ipv6 extension headers", test_ip6_exthdrs },
		{ "invalid ipv6 headers", test_ip6_invalid },
		{ "every ipv6 truncation", test_ip6_truncations },
		{ "icmp queries", test_icmp_queries },
		{ "icmp errors", test_icmp4_errors },
		{ "icmpv6 errors", test_icmp6_errors },
		{ "invalid icmp errors", test_icmp_errors_invalid },
		{ "tuple invert", test_invert },
		{ "parse then invert", test_parse_invert },
		{ "protocol names", test_proto_name },
	};

	return unit_main("pkt", tests, UNIT_COUNT(tests));
}
