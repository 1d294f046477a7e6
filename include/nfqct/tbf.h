/*
 * tbf.h - the kernel's token bucket (xt_limit, xt_hashlimit packet mode),
 * with its arithmetic: credits in 32 bits, refilled per jiffy, so that a
 * burst lets through exactly the packets the kernel lets through.
 *
 * Time is counted in jiffies at NFQCT_TBF_HZ from the caller's clock in
 * milliseconds (nfqct_tbf_jiffies()): nothing here reads a clock.  The
 * kernel's tick count depends on CONFIG_HZ; 250 is that of the kernels
 * nfqct is tested on (Debian, Fedora and Ubuntu ship CONFIG_HZ=250).  With
 * another HZ the rate is the same, only the refill granularity and the
 * rounding of the cost differ.
 *
 * A bucket's state (struct nfqct_tbf) is shared by every worker without a
 * lock: its fields are read and written with atomics, the credit by a CAS
 * loop, as the kernel's xt_limit does since 5.x.
 */
#ifndef NFQCT_TBF_H
#define NFQCT_TBF_H

#include <stdbool.h>
#include <stdint.h>

#define NFQCT_TBF_HZ 250u
#define NFQCT_TBF_SCALE 10000u		/* XT_LIMIT_SCALE: a rate is seconds * SCALE per packet */

/* Credits per jiffy: the largest power of two with CPJ * HZ * one day < 2^32
 * (xt_limit's CREDITS_PER_JIFFY), so that 1/day stays representable. */
#define NFQCT_TBF_CPJ_MAX (0xFFFFFFFFu / (NFQCT_TBF_HZ * 24u * 60u * 60u))
#define NFQCT_TBF_CPJ 128u
_Static_assert(NFQCT_TBF_CPJ <= NFQCT_TBF_CPJ_MAX && 2 * NFQCT_TBF_CPJ > NFQCT_TBF_CPJ_MAX,
	       "NFQCT_TBF_CPJ must be the power of two below NFQCT_TBF_CPJ_MAX");

/* A bucket's changing state; the parameters (cost, cap) live with the caller. */
struct nfqct_tbf {
	uint64_t prev;		/* jiffies of the last update; NFQCT_TBF_UNSET before the first */
	uint32_t credit;
};

#define NFQCT_TBF_UNSET UINT64_MAX

/* nfqct_tbf_jiffies - @now_ms (the caller's clock) in jiffies at NFQCT_TBF_HZ. */
static inline uint64_t nfqct_tbf_jiffies(uint64_t now_ms)
{
	return now_ms * NFQCT_TBF_HZ / 1000u;
}

/*
 * nfqct_tbf_credits - xt_limit's user2credits(): @user (seconds *
 * NFQCT_TBF_SCALE) in credits, dividing first when multiplying would
 * overflow 32 bits, as the kernel does.
 */
uint32_t nfqct_tbf_credits(uint32_t user);

/*
 * nfqct_tbf_limit_params - xt_limit's check: for an average @avg (seconds *
 * SCALE per packet) and @burst, the cost of a packet and the bucket's cap
 * (its initial credit).  The product avg * burst is computed in 32 bits as
 * the kernel's.  Returns 0, or -ERANGE where the kernel refuses the rule
 * (burst 0, or avg * burst overflows).
 */
int nfqct_tbf_limit_params(uint32_t avg, uint32_t burst, uint32_t *cost, uint32_t *cap);

/* nfqct_tbf_init - a full bucket (@cap credits), not yet updated. */
void nfqct_tbf_init(struct nfqct_tbf *b, uint32_t cap);

/*
 * nfqct_tbf_take - one packet at jiffy @now: add the credit earned since
 * the last update (CPJ per jiffy, summed in 32 bits as the kernel), cap it
 * at @cap, and take @cost if there is that much.  Returns true when the
 * packet conforms (the credit was taken).  Safe from any number of threads
 * at once; no lock, no allocation.
 */
bool nfqct_tbf_take(struct nfqct_tbf *b, uint64_t now, uint32_t cost, uint32_t cap);

#endif
