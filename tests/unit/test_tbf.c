/*
 * test_tbf.c - CUnit suite for the token bucket (tbf.h) against the
 * kernel's xt_limit arithmetic, worked by hand at HZ 250: CREDITS_PER_JIFFY
 * 128, user2credits() with and without dividing first, the burst, refill
 * jiffy by jiffy, the cap, the 32-bit credit_increase, and threads sharing
 * one bucket.
 */
#include <errno.h>
#include <pthread.h>

#include "nfqct/tbf.h"
#include "unit.h"

static void test_constants(void)
{
	CU_ASSERT_EQUAL(NFQCT_TBF_CPJ_MAX, 198u);	/* 0xFFFFFFFF / (250 * 86400) */
	CU_ASSERT_EQUAL(NFQCT_TBF_CPJ, 128u);
	/* jiffies: 4 ms each, rounded down */
	CU_ASSERT_EQUAL(nfqct_tbf_jiffies(0), 0u);
	CU_ASSERT_EQUAL(nfqct_tbf_jiffies(3), 0u);
	CU_ASSERT_EQUAL(nfqct_tbf_jiffies(4), 1u);
	CU_ASSERT_EQUAL(nfqct_tbf_jiffies(999), 249u);
	CU_ASSERT_EQUAL(nfqct_tbf_jiffies(1000), 250u);
}

static void test_credits(void)
{
	uint32_t cost, cap;

	/* multiply first: 10000 (1/s) * 250 * 128 / 10000 */
	CU_ASSERT_EQUAL(nfqct_tbf_credits(10000), 32000u);
	CU_ASSERT_EQUAL(nfqct_tbf_credits(134217), 429494u);	/* the last before dividing */
	/* divide first above 0xFFFFFFFF / 32000 = 134217: 3/hour is 12000000 */
	CU_ASSERT_EQUAL(nfqct_tbf_credits(134218), 13u * 32000u);
	CU_ASSERT_EQUAL(nfqct_tbf_credits(12000000), 38400000u);
	CU_ASSERT_EQUAL(nfqct_tbf_credits(864000000), 2764800000u);	/* 1/day */
	/* 5/min burst 10: cost 120000 * 32000 / 10000, cap (1200000 / 10000) * 32000 */
	CU_ASSERT_EQUAL(nfqct_tbf_limit_params(120000, 10, &cost, &cap), 0);
	CU_ASSERT_EQUAL(cost, 384000u);
	CU_ASSERT_EQUAL(cap, 3840000u);
	/* the kernel's refusals: burst 0, and 1/day with a burst of 2 (the cap wraps) */
	CU_ASSERT_EQUAL(nfqct_tbf_limit_params(120000, 0, &cost, &cap), -ERANGE);
	CU_ASSERT_EQUAL(nfqct_tbf_limit_params(864000000, 2, &cost, &cap), -ERANGE);
	CU_ASSERT_EQUAL(nfqct_tbf_limit_params(864000000, 1, &cost, &cap), 0);
	CU_ASSERT_EQUAL(cap, 2764800000u);
}

static unsigned int take_n(struct nfqct_tbf *b, uint64_t now, unsigned int n, uint32_t cost, uint32_t cap)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++)
		ok += nfqct_tbf_take(b, now, cost, cap);
	return ok;
}

static void test_burst_refill(void)
{
	struct nfqct_tbf b;
	uint32_t cost, cap;
	uint64_t t = 1000000;

	/* 5/min, burst 10: a packet costs 3000 jiffies of credit (12 s) */
	CU_ASSERT_EQUAL_FATAL(nfqct_tbf_limit_params(120000, 10, &cost, &cap), 0);
	CU_ASSERT_EQUAL(cost / NFQCT_TBF_CPJ, 3000u);
	nfqct_tbf_init(&b, cap);
	CU_ASSERT_EQUAL(take_n(&b, t, 20, cost, cap), 10u);	/* exactly the burst */
	CU_ASSERT_EQUAL(take_n(&b, t + 2999, 5, cost, cap), 0u);	/* one jiffy short */
	CU_ASSERT_EQUAL(take_n(&b, t + 3000, 5, cost, cap), 1u);
	/* credit left over counts: 1500 + 1500 jiffies make one packet */
	CU_ASSERT_EQUAL(take_n(&b, t + 4500, 1, cost, cap), 0u);
	CU_ASSERT_EQUAL(take_n(&b, t + 6000, 2, cost, cap), 1u);
	/* a long pause refills up to the cap, not beyond */
	CU_ASSERT_EQUAL(take_n(&b, t + 1000000, 20, cost, cap), 10u);
	/* a clock behind the last update earns nothing and takes nothing back */
	CU_ASSERT_EQUAL(take_n(&b, t + 900000, 2, cost, cap), 0u);
	CU_ASSERT_EQUAL(take_n(&b, t + 1003000, 2, cost, cap), 1u);
}

static void test_increase_wraps(void)
{
	struct nfqct_tbf b;
	uint32_t cost, cap;
	uint64_t t = 5;

	/* 1/s, burst 1; the kernel sums (now - prev) * 128 in 32 bits: a pause of
	 * exactly 2^25 jiffies (37 hours at HZ 250) earns nothing */
	CU_ASSERT_EQUAL_FATAL(nfqct_tbf_limit_params(10000, 1, &cost, &cap), 0);
	nfqct_tbf_init(&b, cap);
	CU_ASSERT_EQUAL(take_n(&b, t, 2, cost, cap), 1u);
	CU_ASSERT_EQUAL(take_n(&b, t + (1ull << 25), 1, cost, cap), 0u);
	CU_ASSERT_EQUAL(take_n(&b, t + (1ull << 25) + 250, 1, cost, cap), 1u);
}

#define THREADS 4
#define TRIES 10000u

struct shared {
	struct nfqct_tbf *b;
	uint32_t cost, cap;
	unsigned int ok;
};

static void *taker(void *arg)
{
	struct shared *s = arg;

	s->ok = take_n(s->b, 77, TRIES, s->cost, s->cap);
	return NULL;
}

/* Threads at the same jiffy share the burst exactly: no credit lost or made. */
static void test_threads(void)
{
	struct nfqct_tbf b;
	struct shared s[THREADS];
	pthread_t th[THREADS];
	uint32_t cost, cap;
	unsigned int total = 0;

	CU_ASSERT_EQUAL_FATAL(nfqct_tbf_limit_params(10000, 10000, &cost, &cap), 0);	/* 1/s, burst 10000 */
	nfqct_tbf_init(&b, cap);
	for (int i = 0; i < THREADS; i++) {
		s[i] = (struct shared){ .b = &b, .cost = cost, .cap = cap };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, taker, &s[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		total += s[i].ok;
	}
	CU_ASSERT_EQUAL(total, 10000u);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "constants", test_constants },
		{ "credits", test_credits },
		{ "burst and refill", test_burst_refill },
		{ "32-bit increase", test_increase_wraps },
		{ "threads", test_threads },
	};

	return unit_main("tbf", tests, UNIT_COUNT(tests));
}
