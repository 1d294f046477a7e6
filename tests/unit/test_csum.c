/*
 * test_csum.c - transport checksum verification (csum.h) and what conntrack
 * makes of it (ct.h): per protocol and family, right and wrong, the cases
 * that are not verified, and the counters a wrong one bumps.
 *
 * The expected checksums come from ref_sum() below, a byte-by-byte RFC 1071
 * sum written apart from src/csum.c, so that the two can disagree.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <urcu-qsbr.h>

#include "nfqct/csum.h"
#include "nfqct/ct.h"
#include "nfqct/pkt.h"

#include "unit.h"

#define A4 "198.18.0.1"
#define B4 "198.18.1.2"
#define A6 "2001:db8::1"
#define B6 "2001:db8:1::2"
#define T0 1000000ULL

/* ---- reference sum and packet helpers ---- */

/* Ones' complement sum of big-endian 16-bit words, a byte at a time. */
static uint32_t ref_add(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += (i % 2) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static uint16_t ref_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* Where the checksum field is, by protocol. */
static uint32_t csum_at(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

/*
 * Fill the transport checksum of the packet built in @p (one IP header at
 * offset 0, no extension headers), right; then add @delta to it (0: right).
 */
static void fix_sum(struct pb *p, uint8_t proto, uint16_t delta)
{
	uint32_t hl = p->ipv == 4 ? (uint32_t)(p->b[0] & 0x0f) * 4 : 40;
	uint32_t l4len = p->n - hl, acc = 0;
	uint8_t *l4 = p->b + hl, *field = l4 + csum_at(proto);
	uint8_t tail[8] = { 0 };
	uint16_t sum;

	memset(field, 0, 2);
	if (p->ipv == 4 && proto != IPPROTO_ICMP) {
		acc = ref_add(acc, p->b + 12, 8);
		tail[1] = proto;
		tail[2] = (uint8_t)(l4len >> 8);
		tail[3] = (uint8_t)l4len;
		acc = ref_add(acc, tail, 4);
	} else if (p->ipv == 6) {
		acc = ref_add(acc, p->b + 8, 32);
		tail[2] = (uint8_t)(l4len >> 8);
		tail[3] = (uint8_t)l4len;
		tail[7] = proto;
		acc = ref_add(acc, tail, 8);
	}
	acc = ref_add(acc, l4, l4len);
	sum = (uint16_t)~ref_fold(acc);
	if (proto == IPPROTO_UDP && sum == 0)
		sum = 0xffff;
	put16(field, (uint16_t)(sum + delta));
}

/* A packet of @proto between @src and @dst with @payload bytes (a pattern). */
static void build(struct pb *p, uint8_t proto, const char *src, const char *dst, uint16_t payload)
{
	pb_init(p);
	pb_ip(p, proto, src, dst);
	switch (proto) {
	case IPPROTO_TCP:
		pb_tcp_seg(p, 40000, 80, PB_SYN, 1000, 0, payload);
		break;
	case IPPROTO_UDP:
		pb_udp(p, 50000, 53, (uint16_t)(8 + payload));
		pb_put(p, payload);
		break;
	default:
		pb_icmp(p, proto == IPPROTO_ICMP ? 8 : 128, 0, 7);
		pb_put(p, payload);
		break;
	}
	for (uint32_t i = p->n - payload; i < p->n; i++)
		p->b[i] = (uint8_t)(i * 7 + 3);
	pb_fix(p);
}

/* Parse @p as queued at @hook with @flags, copy cut at @caplen. */
static void parse(struct nfqct_pkt *pkt, const struct pb *p, uint8_t hook, uint8_t flags,
		  uint32_t caplen)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->data = p->b;
	pkt->caplen = caplen;
	pkt->len = p->n;
	pkt->hook = hook;
	pkt->flags = flags;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(pkt), 0);
}

static enum nfqct_csum verify(const struct pb *p, uint8_t hook, uint8_t flags)
{
	struct nfqct_pkt pkt;

	parse(&pkt, p, hook, flags, p->n);
	return nfqct_csum_verify(&pkt);
}

#define NV NFQCT_PKT_F_CSUM_NOTVERIFIED

/* ---- the sum ---- */

static void test_fold(void)
{
	/* RFC 1071 section 3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t buf[77];

	CU_ASSERT_EQUAL(nfqct_csum_fold(rfc, sizeof(rfc)), 0xddf2);
	/* every length 0..77 (odd ones pad a zero), every alignment of the 8-byte loop */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xff - i * 13);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof(buf); n++)
			CU_ASSERT_EQUAL(nfqct_csum_fold(buf + off, n), ref_fold(ref_add(0, buf + off, n)));
	/* carries: all-ones words */
	memset(buf, 0xff, sizeof(buf));
	CU_ASSERT_EQUAL(nfqct_csum_fold(buf, 64), 0xffff);
}

/* ---- per protocol and family ---- */

static void test_right_and_wrong(void)
{
	static const struct {
		uint8_t proto;
		const char *src, *dst;
	} cases[] = {
		{ IPPROTO_TCP, A4, B4 }, { IPPROTO_TCP, A6, B6 },
		{ IPPROTO_UDP, A4, B4 }, { IPPROTO_UDP, A6, B6 },
		{ IPPROTO_ICMP, A4, B4 }, { IPPROTO_ICMPV6, A6, B6 },
	};
	static const uint16_t payloads[] = { 0, 1, 7, 8, 33, 1000 };
	struct pb p;

	for (size_t c = 0; c < UNIT_COUNT(cases); c++)
		for (size_t l = 0; l < UNIT_COUNT(payloads); l++) {
			build(&p, cases[c].proto, cases[c].src, cases[c].dst, payloads[l]);
			fix_sum(&p, cases[c].proto, 0);
			CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_GOOD);
			CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_PREROUTING, NV), NFQCT_CSUM_GOOD);
			CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_INPUT, NV), NFQCT_CSUM_GOOD);
			fix_sum(&p, cases[c].proto, 1);
			CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_BAD);
			/* a payload byte changed, the checksum right for the old one */
			if (payloads[l]) {
				fix_sum(&p, cases[c].proto, 0);
				p.b[p.n - 1] ^= 0x10;
				CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_BAD);
			}
		}
}

/* IPv4 options and IPv6 extension headers are not part of the sum. */
static void test_options_and_exthdrs(void)
{
	struct pb p;
	struct nfqct_pkt pkt;

	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDP, A4, B4, 8, 0);
	pb_udp(&p, 1, 2, 12);
	pb_put(&p, 4)[0] = 0x42;
	pb_fix(&p);
	fix_sum(&p, IPPROTO_UDP, 0);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_GOOD);

	/* IPv6 + destination options: the pseudo-header's length is the UDP length */
	pb_init(&p);
	pb_ip6(&p, 60, A6, B6);
	pb_ext(&p, IPPROTO_UDP, 8);
	pb_udp(&p, 1, 2, 13);
	pb_put(&p, 5)[4] = 0x99;
	pb_fix(&p);
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, p.n);
	{
		/* sum by hand: pseudo-header with length 13, then the 13 UDP bytes */
		uint8_t tail[8] = { 0, 0, 0, 13, 0, 0, 0, IPPROTO_UDP };
		uint32_t acc = ref_add(ref_add(0, p.b + 8, 32), tail, 8);
		uint16_t sum;

		acc = ref_add(acc, p.b + 48, 13);
		sum = (uint16_t)~ref_fold(acc);
		put16(p.b + 48 + 6, sum ? sum : 0xffff);
	}
	CU_ASSERT_EQUAL(nfqct_csum_verify(&pkt), NFQCT_CSUM_GOOD);
	p.b[48 + 12] ^= 1;
	CU_ASSERT_EQUAL(nfqct_csum_verify(&pkt), NFQCT_CSUM_BAD);
}

/* ---- what is not verified ---- */

static void test_not_verified(void)
{
	struct nfqct_pkt pkt;
	struct pb p;

	build(&p, IPPROTO_TCP, A4, B4, 10);
	fix_sum(&p, IPPROTO_TCP, 1);	/* wrong, but nobody asks */
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, 0), NFQCT_CSUM_SKIP);	/* verified by the kernel */
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV | NFQCT_PKT_F_CSUM_NOTREADY),
			NFQCT_CSUM_SKIP);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NFQCT_PKT_F_CSUM_NOTREADY), NFQCT_CSUM_SKIP);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_OUTPUT, NV), NFQCT_CSUM_SKIP);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_POSTROUTING, NV), NFQCT_CSUM_SKIP);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV | NFQCT_PKT_F_GSO), NFQCT_CSUM_SKIP);

	/* the copy range cut it: cannot tell */
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, p.n - 1);
	CU_ASSERT_EQUAL(nfqct_csum_verify(&pkt), NFQCT_CSUM_CUT);

	/* UDP without a checksum, in both families (udp_error() skips it) */
	build(&p, IPPROTO_UDP, A4, B4, 10);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_SKIP);
	build(&p, IPPROTO_UDP, A6, B6, 10);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_SKIP);

	/* a first fragment: its checksum covers the datagram */
	pb_init(&p);
	pb_ip4(&p, IPPROTO_UDP, A4, B4, 0, 0x2000);
	pb_udp(&p, 1, 2, 1000);
	pb_put(&p, 100);
	pb_fix(&p);
	put16(p.b + 26, 0x1234);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_SKIP);

	/* ICMP inside IPv6, ICMPv6 inside IPv4: not ours to verify */
	build(&p, IPPROTO_ICMP, A6, B6, 4);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_SKIP);
	build(&p, IPPROTO_ICMPV6, A4, B4, 4);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_SKIP);
}

/*
 * A UDP-Lite datagram, @payload bytes, coverage field @cov, its checksum
 * summed over the coverage with @ph_proto in the pseudo-header.
 */
static void build_udplite(struct pb *p, const char *src, const char *dst, uint16_t payload,
			  uint16_t cov, uint8_t ph_proto)
{
	uint32_t hl, l4len, n, acc = 0;
	uint8_t tail[8] = { 0 }, *l4;
	uint16_t sum;

	build(p, IPPROTO_UDP, src, dst, payload);
	hl = p->ipv == 4 ? 20 : 40;
	p->b[p->ipv == 4 ? 9 : 6] = IPPROTO_UDPLITE;
	pb_fix(p);
	l4 = p->b + hl;
	l4len = p->n - hl;
	put16(l4 + 4, cov);
	put16(l4 + 6, 0);
	n = cov ? cov : l4len;
	if (p->ipv == 4) {
		acc = ref_add(acc, p->b + 12, 8);
		tail[1] = ph_proto;
		tail[2] = (uint8_t)(l4len >> 8);
		tail[3] = (uint8_t)l4len;
		acc = ref_add(acc, tail, 4);
	} else {
		acc = ref_add(acc, p->b + 8, 32);
		tail[2] = (uint8_t)(l4len >> 8);
		tail[3] = (uint8_t)l4len;
		tail[7] = ph_proto;
		acc = ref_add(acc, tail, 8);
	}
	acc = ref_add(acc, l4, n);
	sum = (uint16_t)~ref_fold(acc);
	put16(l4 + 6, sum ? sum : 0xffff);
}

/* udplite_error(): over the coverage, IPPROTO_UDP in the pseudo-header (the kernel's). */
static void test_udplite(void)
{
	const char *fam[2][2] = { { A4, B4 }, { A6, B6 } };
	struct pb p;

	for (int f = 0; f < 2; f++) {
		build_udplite(&p, fam[f][0], fam[f][1], 30, 0, IPPROTO_UDP);
		CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_GOOD);
		/* summed as RFC 3828 says (136): wrong for the kernel, so for us */
		build_udplite(&p, fam[f][0], fam[f][1], 30, 0, IPPROTO_UDPLITE);
		CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_BAD);
		/* partial coverage: bytes past it do not count */
		build_udplite(&p, fam[f][0], fam[f][1], 30, 12, IPPROTO_UDP);
		CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_GOOD);
		p.b[p.n - 1] ^= 0x55;
		CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_GOOD);
		p.b[(f ? 40 : 20) + 10] ^= 0x55;	/* inside the coverage */
		CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_BAD);
		/* no checksum: the tracker's business (INVALID), not a sum to check */
		build_udplite(&p, fam[f][0], fam[f][1], 30, 0, IPPROTO_UDP);
		put16(p.b + (f ? 40 : 20) + 6, 0);
		CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_SKIP);
		/* verified by someone else */
		build_udplite(&p, fam[f][0], fam[f][1], 30, 0, IPPROTO_UDPLITE);
		CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, 0), NFQCT_CSUM_SKIP);
	}
}

/* CRC32c, bit by bit (apart from src/csum.c's table). */
static uint32_t ref_crc32c(const uint8_t *b, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

/* An SCTP packet with one INIT chunk, its CRC32c right, plus @delta. */
static void build_sctp(struct pb *p, const char *src, const char *dst, uint32_t delta)
{
	uint8_t *l4;
	uint32_t crc, hl;

	pb_init(p);
	pb_ip(p, IPPROTO_SCTP, src, dst);
	hl = p->n;
	l4 = pb_put(p, 12 + 20);
	put16(l4, 5000);
	put16(l4 + 2, 6000);
	l4[12] = 1;		/* INIT */
	put16(l4 + 14, 20);
	l4[16] = 0xaa;		/* init tag */
	l4[21] = 0xff;		/* a_rwnd */
	pb_fix(p);
	l4 = p->b + hl;
	crc = ref_crc32c(l4, p->n - hl) + delta;
	l4[8] = (uint8_t)crc;
	l4[9] = (uint8_t)(crc >> 8);
	l4[10] = (uint8_t)(crc >> 16);
	l4[11] = (uint8_t)(crc >> 24);
}

static void test_sctp_crc(void)
{
	static const uint8_t v[] = "123456789";
	struct nfqct_pkt pkt;
	struct pb p;

	/* the CRC-32C check value (RFC 3720 B.4 family): the reference is right */
	CU_ASSERT_EQUAL(ref_crc32c(v, 9), 0xe3069283u);
	build_sctp(&p, A4, B4, 0);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_GOOD);
	build_sctp(&p, A6, B6, 0);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_PREROUTING, NV), NFQCT_CSUM_GOOD);
	build_sctp(&p, A4, B4, 1);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, NV), NFQCT_CSUM_BAD);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_OUTPUT, NV), NFQCT_CSUM_SKIP);
	CU_ASSERT_EQUAL(verify(&p, NFQCT_HOOK_FORWARD, 0), NFQCT_CSUM_SKIP);
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, p.n - 4);
	CU_ASSERT_EQUAL(nfqct_csum_verify(&pkt), NFQCT_CSUM_CUT);
}

/* ---- conntrack: INVALID, the counters, the setting ---- */

static struct nfqct_settings settings;

static struct nfqct_ct_result track(struct nfqct_ct *ct, struct nfqct_ct_stats *st,
				    const struct nfqct_pkt *pkt)
{
	struct nfqct_ct_result r;

	nfqct_ct_in(ct, &settings, st, pkt, 0, T0, &r);
	CU_ASSERT(nfqct_ct_confirm(ct, st, &r, true, T0));
	return r;
}

static void test_conntrack(void)
{
	struct nfqct_ct_stats st = { 0 };
	struct nfqct_ct_result r;
	struct nfqct_pkt pkt;
	struct nfqct_ct *ct;
	struct pb p;

	unit_settings(&settings);
	ct = nfqct_ct_create(&settings);
	CU_ASSERT_FATAL(ct != NULL);

	/* a wrong TCP or UDP checksum: INVALID, counted invalid, no entry */
	build(&p, IPPROTO_TCP, A4, B4, 0);
	fix_sum(&p, IPPROTO_TCP, 1);
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, p.n);
	r = track(ct, &st, &pkt);
	CU_ASSERT_EQUAL(r.ctstate, NFQCT_CTSTATE_INVALID);
	CU_ASSERT_PTR_NULL(r.conn);
	build(&p, IPPROTO_UDP, A6, B6, 3);
	fix_sum(&p, IPPROTO_UDP, 1);
	parse(&pkt, &p, NFQCT_HOOK_INPUT, NV, p.n);
	CU_ASSERT_EQUAL(track(ct, &st, &pkt).ctstate, NFQCT_CTSTATE_INVALID);
	CU_ASSERT_EQUAL(st.invalid, 2);
	CU_ASSERT_EQUAL(st.icmp_error, 0);
	CU_ASSERT_EQUAL(nfqct_ct_count(ct), 0);

	/* a wrong ICMP / ICMPv6 checksum: INVALID, counted icmp_error (the ICMP trackers' error()) */
	build(&p, IPPROTO_ICMP, A4, B4, 8);
	fix_sum(&p, IPPROTO_ICMP, 1);
	parse(&pkt, &p, NFQCT_HOOK_PREROUTING, NV, p.n);
	CU_ASSERT_EQUAL(track(ct, &st, &pkt).ctstate, NFQCT_CTSTATE_INVALID);
	build(&p, IPPROTO_ICMPV6, A6, B6, 8);
	fix_sum(&p, IPPROTO_ICMPV6, 1);
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, p.n);
	CU_ASSERT_EQUAL(track(ct, &st, &pkt).ctstate, NFQCT_CTSTATE_INVALID);
	CU_ASSERT_EQUAL(st.invalid, 2);
	CU_ASSERT_EQUAL(st.icmp_error, 2);
	CU_ASSERT_EQUAL(st.new, 0);

	/* the same wrong ICMPv6 from the box itself, or already verified: NEW */
	parse(&pkt, &p, NFQCT_HOOK_OUTPUT, NV, p.n);
	CU_ASSERT_EQUAL(track(ct, &st, &pkt).ctstate, NFQCT_CTSTATE_NEW);
	CU_ASSERT_EQUAL(st.new, 1);

	/* right: NEW */
	build(&p, IPPROTO_TCP, A4, B4, 0);
	fix_sum(&p, IPPROTO_TCP, 0);
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, p.n);
	CU_ASSERT_EQUAL(track(ct, &st, &pkt).ctstate, NFQCT_CTSTATE_NEW);
	CU_ASSERT_EQUAL(st.new, 2);

	/* cut by the copy range: tracked as the kernel would if it were right, counted */
	build(&p, IPPROTO_UDP, A4, B4, 600);
	fix_sum(&p, IPPROTO_UDP, 1);
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, 100);
	CU_ASSERT_EQUAL(track(ct, &st, &pkt).ctstate, NFQCT_CTSTATE_NEW);
	CU_ASSERT_EQUAL(st.csum_unchecked, 1);
	CU_ASSERT_EQUAL(st.invalid, 2);

	/* nf_conntrack_checksum=0: nothing verified */
	settings.ct_checksum = 0;
	build(&p, IPPROTO_UDP, A6, B6, 3);
	fix_sum(&p, IPPROTO_UDP, 1);
	parse(&pkt, &p, NFQCT_HOOK_FORWARD, NV, p.n);
	CU_ASSERT_EQUAL(track(ct, &st, &pkt).ctstate, NFQCT_CTSTATE_NEW);
	CU_ASSERT_EQUAL(st.invalid, 2);
	CU_ASSERT_EQUAL(st.new, 4);

	nfqct_ct_destroy(ct);
	rcu_quiescent_state();
}

static void test_setting(void)
{
	struct nfqct_settings s;

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(s.ct_checksum, 1);	/* the kernel's default */
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "net.netfilter.nf_conntrack_checksum=0", "-o", stderr), 0);
	CU_ASSERT_EQUAL(s.ct_checksum, 0);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "fold", test_fold },
		{ "right and wrong, per protocol and family", test_right_and_wrong },
		{ "options and extension headers", test_options_and_exthdrs },
		{ "not verified", test_not_verified },
		{ "udp-lite: coverage, pseudo-header as the kernel", test_udplite },
		{ "sctp crc32c", test_sctp_crc },
		{ "conntrack: invalid, icmp_error, csum_unchecked, setting 0", test_conntrack },
		{ "setting", test_setting },
	};
	int rc;

	rcu_register_thread();
	rc = unit_main("csum", tests, UNIT_COUNT(tests));
	rcu_thread_offline();
	rcu_barrier();
	rcu_thread_online();
	rcu_unregister_thread();
	return rc;
}
