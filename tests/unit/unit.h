/*
 * unit.h - what the CUnit suites share: their main() and packet builders.
 *
 * Everything here is static inline so that a suite pays only for what it
 * uses (-Wunused-function stays quiet).  A suite lists its tests in a
 * struct unit_test array and ends with
 *
 *	int main(void) { return unit_main("name", tests, UNIT_COUNT(tests)); }
 *
 * unit_main() exits 0 when every assertion held, 1 on failures, 2 when
 * CUnit itself could not be set up.
 */
#ifndef NFQCT_TESTS_UNIT_H
#define NFQCT_TESTS_UNIT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <urcu/arch.h>

#include "nfqct/settings.h"

struct unit_test {
	const char *name;
	CU_TestFunc fn;
};

#define UNIT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* unit_main - run @n tests as suite @suite, verbosely. */
static inline int unit_main(const char *suite, const struct unit_test *tests, size_t n)
{
	unsigned int failures;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite(suite, NULL, NULL);
	if (!s)
		goto err_registry;
	for (size_t i = 0; i < n; i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			goto err_registry;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;

err_registry:
	CU_cleanup_registry();
	return 2;
}

/* ---- packet builder: IPv4/IPv6 packets byte by byte ---- */

struct pb {
	uint8_t b[4096];
	uint32_t n;
	int ip;		/* offset of the (outermost unfixed) IP header, -1 none */
	int ipv;	/* its version */
};

static inline void pb_init(struct pb *p)
{
	memset(p, 0, sizeof(*p));
	p->ip = -1;
}

static inline uint8_t *pb_put(struct pb *p, uint32_t n)
{
	uint8_t *r = p->b + p->n;

	CU_ASSERT_FATAL(p->n + n <= sizeof(p->b));
	memset(r, 0, n);
	p->n += n;
	return r;
}

static inline void put16(uint8_t *at, uint16_t v)
{
	v = htons(v);
	memcpy(at, &v, 2);
}

static inline void put32(uint8_t *at, uint32_t v)
{
	v = htonl(v);
	memcpy(at, &v, 4);
}

static inline void pb_bytes(struct pb *p, const void *src, uint32_t n)
{
	memcpy(pb_put(p, n), src, n);
}

/* IPv4 header with optlen bytes of options (NOPs), fragment field as given. */
static inline void pb_ip4(struct pb *p, uint8_t proto, const char *src, const char *dst,
			  uint32_t optlen, uint16_t frag)
{
	int off = (int)p->n;
	uint8_t *h = pb_put(p, 20 + optlen);

	h[0] = (uint8_t)(0x40 | ((20 + optlen) / 4));
	put16(h + 6, frag);
	h[8] = 64;
	h[9] = proto;
	CU_ASSERT_FATAL(inet_pton(AF_INET, src, h + 12) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET, dst, h + 16) == 1);
	memset(h + 20, 1, optlen);	/* NOP options */
	p->ip = off;
	p->ipv = 4;
}

static inline void pb_ip6(struct pb *p, uint8_t nh, const char *src, const char *dst)
{
	int off = (int)p->n;
	uint8_t *h = pb_put(p, 40);

	h[0] = 0x60;
	h[6] = nh;
	h[7] = 64;
	CU_ASSERT_FATAL(inet_pton(AF_INET6, src, h + 8) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET6, dst, h + 24) == 1);
	p->ip = off;
	p->ipv = 6;
}

/* The IP header for @proto between @src and @dst, IPv4 or IPv6 by the address. */
static inline void pb_ip(struct pb *p, uint8_t proto, const char *src, const char *dst)
{
	if (strchr(src, ':'))
		pb_ip6(p, proto, src, dst);
	else
		pb_ip4(p, proto, src, dst, 0, 0);
}

/* Hop-by-hop, routing or destination options header of len bytes (multiple of 8). */
static inline void pb_ext(struct pb *p, uint8_t nh, uint32_t len)
{
	uint8_t *h = pb_put(p, len);

	h[0] = nh;
	h[1] = (uint8_t)(len / 8 - 1);
}

static inline void pb_ah(struct pb *p, uint8_t nh, uint32_t len)
{
	uint8_t *h = pb_put(p, len);

	h[0] = nh;
	h[1] = (uint8_t)(len / 4 - 2);
}

static inline void pb_frag6(struct pb *p, uint8_t nh, uint16_t offset_bytes, int more)
{
	uint8_t *h = pb_put(p, 8);

	h[0] = nh;
	put16(h + 2, (uint16_t)(offset_bytes | (more ? 1 : 0)));
	h[4] = 0xab;	/* identification */
}

/* TCP flag bits, byte 13 of the header. */
enum { PB_FIN = 0x01, PB_SYN = 0x02, PB_RST = 0x04, PB_PSH = 0x08, PB_ACK = 0x10 };

/* A TCP header of doff_words 32-bit words, flags SYN. */
static inline void pb_tcp(struct pb *p, uint16_t sp, uint16_t dp, uint8_t doff_words)
{
	uint8_t *h = pb_put(p, doff_words >= 5 ? doff_words * 4u : 20);

	put16(h, sp);
	put16(h + 2, dp);
	h[12] = (uint8_t)(doff_words << 4);
	h[13] = PB_SYN;
}

/* A 20-byte TCP header with @flags, @seq, @ack and window 65535, then @payload zero bytes. */
static inline void pb_tcp_seg(struct pb *p, uint16_t sp, uint16_t dp, uint8_t flags, uint32_t seq,
			      uint32_t ack, uint32_t payload)
{
	uint8_t *h = pb_put(p, 20);

	put16(h, sp);
	put16(h + 2, dp);
	put32(h + 4, seq);
	put32(h + 8, ack);
	h[12] = 5 << 4;
	h[13] = flags;
	put16(h + 14, 65535);
	pb_put(p, payload);
}

static inline void pb_udp(struct pb *p, uint16_t sp, uint16_t dp, uint16_t ulen)
{
	uint8_t *h = pb_put(p, 8);

	put16(h, sp);
	put16(h + 2, dp);
	put16(h + 4, ulen);
}

static inline void pb_icmp(struct pb *p, uint8_t type, uint8_t code, uint16_t id)
{
	uint8_t *h = pb_put(p, 8);

	h[0] = type;
	h[1] = code;
	put16(h + 4, id);
	put16(h + 6, 1);	/* sequence */
}

/* Set the length field of the IP header at p->ip to cover everything. */
static inline void pb_fix(struct pb *p)
{
	uint8_t *h = p->b + p->ip;
	uint32_t n = p->n - (uint32_t)p->ip;

	if (p->ipv == 4)
		put16(h + 2, (uint16_t)n);
	else
		put16(h + 4, (uint16_t)(n - 40));
}

/* A whole UDP datagram with @payload zero bytes, lengths fixed. */
static inline void pb_udp_packet(struct pb *p, const char *src, const char *dst, uint16_t sp,
				 uint16_t dp, uint16_t payload)
{
	pb_init(p);
	pb_ip(p, IPPROTO_UDP, src, dst);
	pb_udp(p, sp, dp, (uint16_t)(8 + payload));
	pb_put(p, payload);
	pb_fix(p);
}

/* A whole TCP segment, lengths fixed. */
static inline void pb_tcp_packet(struct pb *p, const char *src, const char *dst, uint16_t sp,
				 uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack,
				 uint32_t payload)
{
	pb_init(p);
	pb_ip(p, IPPROTO_TCP, src, dst);
	pb_tcp_seg(p, sp, dp, flags, seq, ack, payload);
	pb_fix(p);
}

/* ---- two threads meeting at once ---- */

/*
 * A spin barrier for two threads: both leave within a few instructions of
 * each other (a pthread barrier wakes them too far apart to race).
 * Zero-initialise it.
 */
struct unit_barrier {
	unsigned int arrived;
	unsigned int generation;
};

static inline void unit_barrier_wait(struct unit_barrier *b)
{
	unsigned int gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == 2) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen)
		caa_cpu_relax();
}

/* ---- settings ---- */

/* unit_settings - the daemon's defaults with a small table (1024 buckets). */
static inline void unit_settings(struct nfqct_settings *s)
{
	nfqct_settings_init(s);
	s->ct_buckets = 1024;
}

#endif
