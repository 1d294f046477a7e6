/*
 * tbf.c - the kernel's token bucket arithmetic (tbf.h).
 */
#include "config.h"

#include <errno.h>

#include "nfqct/tbf.h"

uint32_t nfqct_tbf_credits(uint32_t user)
{
	/* the precision saver of xt_limit: divide first only when needed */
	if (user > 0xFFFFFFFFu / (NFQCT_TBF_HZ * NFQCT_TBF_CPJ))
		return (user / NFQCT_TBF_SCALE) * NFQCT_TBF_HZ * NFQCT_TBF_CPJ;
	return (user * NFQCT_TBF_HZ * NFQCT_TBF_CPJ) / NFQCT_TBF_SCALE;
}

int nfqct_tbf_limit_params(uint32_t avg, uint32_t burst, uint32_t *cost, uint32_t *cap)
{
	uint32_t full = nfqct_tbf_credits(avg * burst);	/* 32-bit product, as the kernel */

	if (burst == 0 || full < nfqct_tbf_credits(avg))
		return -ERANGE;
	*cost = nfqct_tbf_credits(avg);
	*cap = full;
	return 0;
}

void nfqct_tbf_init(struct nfqct_tbf *b, uint32_t cap)
{
	__atomic_store_n(&b->prev, NFQCT_TBF_UNSET, __ATOMIC_RELAXED);
	__atomic_store_n(&b->credit, cap, __ATOMIC_RELAXED);
}

bool nfqct_tbf_take(struct nfqct_tbf *b, uint64_t now, uint32_t cost, uint32_t cap)
{
	uint32_t old, credit, increase = 0;
	uint64_t prev;
	bool ok;

	/* nothing to gain this jiffy and not enough left: no write at all */
	if (__atomic_load_n(&b->credit, __ATOMIC_RELAXED) < cost &&
	    __atomic_load_n(&b->prev, __ATOMIC_RELAXED) == now)
		return false;
	/* Claim the time since the last update by moving prev forward (CAS),
	 * so two threads never both count the same jiffies; a worker whose
	 * batch clock is behind another's claims nothing.  The bucket starts
	 * full: the first update earns nothing (what the kernel earns from its
	 * load time on would be capped away). */
	prev = __atomic_load_n(&b->prev, __ATOMIC_RELAXED);
	while (prev == NFQCT_TBF_UNSET || prev < now) {
		if (__atomic_compare_exchange_n(&b->prev, &prev, now, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			if (prev != NFQCT_TBF_UNSET)	/* 32 bits, as the kernel's credit_increase */
				increase = (uint32_t)((now - prev) * NFQCT_TBF_CPJ);
			break;
		}
	}
	old = __atomic_load_n(&b->credit, __ATOMIC_RELAXED);
	do {
		credit = old + increase;
		if (credit > cap)
			credit = cap;
		ok = credit >= cost;
		if (ok)
			credit -= cost;
	} while (!__atomic_compare_exchange_n(&b->credit, &old, credit, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return ok;
}
