/*
 * test_hashlimit.c - CUnit suite for the hashlimit tables (hashlimit.h)
 * against xt_hashlimit's revision-3 arithmetic, worked by hand at HZ 250:
 * 64-bit credits (2^39 per jiffy), a bucket per key with the masks and
 * modes, refill, byte mode, rate-match windows, a full table (hotdrop),
 * expiry by gc, and tables kept by name and parameters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "nfqct/hashlimit.h"
#include "nfqct/pkt.h"
#include "unit.h"

static struct pb pbuf[4];

/* A parsed UDP packet from @src:@sp to @dst:@dp with @payload bytes, in slot @slot. */
static struct nfqct_pkt udp(int slot, const char *src, uint16_t sp, const char *dst, uint16_t dp,
			    uint16_t payload)
{
	struct nfqct_pkt p;

	pb_udp_packet(&pbuf[slot], src, dst, sp, dp, payload);
	memset(&p, 0, sizeof(p));
	p.data = pbuf[slot].b;
	p.caplen = p.len = pbuf[slot].n;
	p.hook = NFQCT_HOOK_INPUT;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&p), 0);
	return p;
}

/* A packet-mode configuration: @n per second, @burst, mode @mode, masks full. */
static struct nfqct_hashlimit_cfg cfg_pps(uint64_t per_s, uint64_t burst, uint32_t mode)
{
	return (struct nfqct_hashlimit_cfg){
		.mode = mode, .avg = NFQCT_HL_SCALE / per_s, .burst = burst, .size = 16, .max = 16,
		.gc_interval = 1000, .expire = 1000, .srcmask = 32, .dstmask = 32,
	};
}

static unsigned int hits(struct nfqct_hashlimit_table *t, const struct nfqct_pkt *p, uint64_t now, unsigned int n)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++)
		k += nfqct_hashlimit_match(t, p, now) == 1;
	return k;
}

static void test_arithmetic(void)
{
	struct nfqct_hashlimit_cfg c = cfg_pps(1, 5, 0);

	/* user2credits(): 250 * 2^39 / 1e6 = 137438953 credits per unit */
	CU_ASSERT_EQUAL(nfqct_hashlimit_credits(1), 137438953ull);
	CU_ASSERT_EQUAL(nfqct_hashlimit_credits(1000000), 137438953000000ull);
	/* byte mode: 250 * 2^24 = 4194304000, >> 32 */
	CU_ASSERT_EQUAL(nfqct_hashlimit_credits_byte(UINT32_MAX), 4194303999u);
	CU_ASSERT_EQUAL(nfqct_hashlimit_credits_byte(1), 0u);
	/* libxt_hashlimit's byte costs: 512kb/s */
	CU_ASSERT_EQUAL(nfqct_hashlimit_bytes_to_cost(524288), UINT32_MAX / (32768 + 1));
	CU_ASSERT_EQUAL(nfqct_hashlimit_cost_to_bytes(nfqct_hashlimit_bytes_to_cost(524288)), 524288u);
	/* the kernel's refusals */
	CU_ASSERT_EQUAL(nfqct_hashlimit_check(&c, AF_INET), 0);
	c.burst = 0;
	CU_ASSERT_EQUAL(nfqct_hashlimit_check(&c, AF_INET), -ERANGE);
	c = cfg_pps(1, 5, 0);
	c.expire = 0;
	CU_ASSERT_EQUAL(nfqct_hashlimit_check(&c, AF_INET), -EINVAL);
	c = cfg_pps(1, 5, 0);
	c.srcmask = 33;
	CU_ASSERT_EQUAL(nfqct_hashlimit_check(&c, AF_INET), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_hashlimit_check(&c, AF_INET6), 0);
}

static void test_buckets(void)
{
	struct nfqct_hashlimit_cfg c = cfg_pps(1, 3, NFQCT_HL_SIP);
	struct nfqct_hashlimit_table *t;
	struct nfqct_pkt a = udp(0, "198.18.0.1", 1000, "198.18.1.1", 53, 10);
	struct nfqct_pkt a2 = udp(1, "198.18.0.1", 2000, "198.18.1.2", 54, 10);
	struct nfqct_pkt b = udp(2, "198.18.0.2", 1000, "198.18.1.1", 53, 10);
	uint64_t t0 = 1000000;

	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("B", AF_INET, &c, &t), 0);
	/* per source: the burst, whatever the ports and destination */
	CU_ASSERT_EQUAL(hits(t, &a, t0, 2), 2u);
	CU_ASSERT_EQUAL(hits(t, &a2, t0, 5), 1u);
	CU_ASSERT_EQUAL(hits(t, &b, t0, 5), 3u);
	/* 1/s: a packet's credit comes back after 1 s = 250 jiffies, less the rounding
	 * of the cost (137438953000000 < 250 * 2^39): at jiffy 250 exactly */
	CU_ASSERT_EQUAL(hits(t, &a, t0 + 996, 2), 0u);	/* jiffy 249 */
	CU_ASSERT_EQUAL(hits(t, &a, t0 + 1000, 2), 1u);
	nfqct_hashlimit_put(t);
	/* masks: /24 sources share a bucket */
	c = cfg_pps(1, 3, NFQCT_HL_SIP);
	c.srcmask = 24;
	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("M", AF_INET, &c, &t), 0);
	CU_ASSERT_EQUAL(hits(t, &a, t0, 2), 2u);
	CU_ASSERT_EQUAL(hits(t, &b, t0, 2), 1u);
	nfqct_hashlimit_put(t);
	/* srcip,dstport: two destination ports, two buckets; above inverts */
	c = cfg_pps(1, 1, NFQCT_HL_SIP | NFQCT_HL_DPT | NFQCT_HL_INVERT);
	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("P", AF_INET, &c, &t), 0);
	CU_ASSERT_EQUAL(nfqct_hashlimit_match(t, &a, t0), 0);	/* within: above does not match */
	CU_ASSERT_EQUAL(nfqct_hashlimit_match(t, &a, t0), 1);
	CU_ASSERT_EQUAL(nfqct_hashlimit_match(t, &a2, t0), 0);
	nfqct_hashlimit_put(t);
}

static void test_full_and_gc(void)
{
	struct nfqct_hashlimit_cfg c = cfg_pps(1, 1, NFQCT_HL_SIP);
	struct nfqct_hashlimit_table *t, *t2;
	struct nfqct_hashlimit_stat st[4];
	struct nfqct_pkt p;
	char src[32];
	uint64_t t0 = 5000000;

	c.max = 16;
	c.size = 16;
	c.expire = 2000;
	c.gc_interval = 500;
	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("F", AF_INET, &c, &t), 0);
	for (int i = 1; i <= 16; i++) {
		snprintf(src, sizeof(src), "198.18.0.%d", i);
		p = udp(0, src, 1, "198.18.1.1", 2, 0);
		CU_ASSERT_EQUAL(nfqct_hashlimit_match(t, &p, t0), 1);
	}
	/* htable-max 16: a 17th key is refused: the kernel's hotdrop */
	p = udp(0, "198.18.0.17", 1, "198.18.1.1", 2, 0);
	CU_ASSERT_EQUAL(nfqct_hashlimit_match(t, &p, t0), -1);
	CU_ASSERT_EQUAL(nfqct_hashlimit_stats(st, 4), 1u);
	CU_ASSERT_EQUAL(st[0].entries, 16u);
	CU_ASSERT_EQUAL(st[0].max, 16u);
	/* expire 2000 ms = 500 jiffies: gc at +1999 ms keeps them, at +2000 drops them */
	nfqct_hashlimit_gc(t0 + 1999);
	CU_ASSERT_EQUAL(nfqct_hashlimit_stats(st, 4), 1u);
	CU_ASSERT_EQUAL(st[0].entries, 16u);
	nfqct_hashlimit_gc(t0 + 2100);	/* its next gc is due 500 ms after the last */
	CU_ASSERT_EQUAL(nfqct_hashlimit_stats(st, 4), 1u);
	CU_ASSERT_EQUAL(st[0].entries, 16u);
	nfqct_hashlimit_gc(t0 + 2600);
	CU_ASSERT_EQUAL(nfqct_hashlimit_stats(st, 4), 1u);
	CU_ASSERT_EQUAL(st[0].entries, 0u);
	/* a gone key starts a full bucket again */
	CU_ASSERT_EQUAL(nfqct_hashlimit_match(t, &p, t0 + 2600), 1);
	/* same name and parameters: the same table (kept across a reload); others: a new one */
	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("F", AF_INET, &c, &t2), 0);
	CU_ASSERT_PTR_EQUAL(t, t2);
	nfqct_hashlimit_put(t2);
	c.expire = 3000;
	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("F", AF_INET, &c, &t2), 0);
	CU_ASSERT_PTR_NOT_EQUAL(t, t2);
	CU_ASSERT_EQUAL(nfqct_hashlimit_stats(st, 4), 2u);
	nfqct_hashlimit_put(t2);
	nfqct_hashlimit_put(t);
	CU_ASSERT_EQUAL(nfqct_hashlimit_stats(st, 4), 0u);
}

static void test_bytes_and_rate_match(void)
{
	struct nfqct_hashlimit_cfg c = cfg_pps(1, 5, 0);
	struct nfqct_hashlimit_table *t;
	struct nfqct_pkt small = udp(0, "198.18.0.1", 1, "198.18.1.1", 2, 0);	/* 28 bytes: 2 chunks */
	uint64_t t0 = 9000000;
	unsigned int n;

	/* byte mode, 1kb/s, no burst: a full second of credit (250 * 2^24) to start;
	 * a 28-byte packet costs 2 chunks of cost credits */
	c.mode = NFQCT_HL_BYTES;
	c.avg = nfqct_hashlimit_bytes_to_cost(1024);
	c.burst = 0;
	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("Y", AF_INET, &c, &t), 0);
	n = hits(t, &small, t0, 1000);
	/* cost per chunk: user2credits_byte(UINT32_MAX / 65) = 64527753; two chunks each */
	CU_ASSERT_EQUAL(n, (unsigned int)((250ull << 24) / (2ull * nfqct_hashlimit_credits_byte(UINT32_MAX / 65))));
	CU_ASSERT_EQUAL(n, 32u);
	nfqct_hashlimit_put(t);
	/* rate-match, 2/s over 1 s windows, burst 1: 3 per window match (burst + rate) */
	c = cfg_pps(2, 1, NFQCT_HL_RATE_MATCH);
	c.interval = 1;
	CU_ASSERT_EQUAL_FATAL(nfqct_hashlimit_get("R", AF_INET, &c, &t), 0);
	CU_ASSERT_EQUAL(hits(t, &small, t0, 5), 3u);
	/* the next window: the last one was over its rate (5 > 2): nothing matches */
	CU_ASSERT_EQUAL(hits(t, &small, t0 + 1000, 1), 0u);
	/* then a quiet window: 1 packet in 1 s is within the rate, so the next matches */
	CU_ASSERT_EQUAL(hits(t, &small, t0 + 2000, 1), 1u);
	CU_ASSERT_EQUAL(hits(t, &small, t0 + 3000, 3), 3u);
	nfqct_hashlimit_put(t);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "arithmetic", test_arithmetic },
		{ "buckets, masks, modes", test_buckets },
		{ "full table, gc, reuse", test_full_and_gc },
		{ "bytes and rate-match", test_bytes_and_rate_match },
	};

	return unit_main("hashlimit", tests, UNIT_COUNT(tests));
}
