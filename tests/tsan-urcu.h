/*
 * tests/tsan-urcu.h - liburcu's ordering, told to ThreadSanitizer.
 *
 * Only the TSan build includes this (configure --enable-sanitizers=thread
 * passes -include tests/tsan-urcu.h after config.h); the normal build never
 * sees it.  liburcu is not instrumented: TSan sees neither its atomics nor
 * its barriers, so every hand-off through it would be reported as a race.
 * Each definition below states one edge liburcu guarantees, as a C11 atomic
 * or a __tsan_release/__tsan_acquire pair that TSan understands.  What can
 * only be stated where liburcu calls back into nfqct (call_rcu callbacks,
 * cds_lfht match callbacks) is in include/nfqct/tsan.h; liburcu's own
 * memory is in tests/tsan.supp.
 */
#ifndef NFQCT_TSAN_URCU_H
#define NFQCT_TSAN_URCU_H

#include <urcu-qsbr.h>		/* the flavour nfqct uses, before rculfhash.h */
#include <urcu/rculfhash.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

/* One object for the grace period, shared by every translation unit. */
__attribute__((weak)) char nfqct_tsan_gp;

static inline void *nfqct_tsan_rel(void *p)
{
	if (p)
		__tsan_release(p);
	return p;
}

static inline void *nfqct_tsan_acq(void *p)
{
	if (p)
		__tsan_acquire(p);
	return p;
}

/*
 * Publication: rcu_assign_pointer/rcu_xchg_pointer store after a write
 * barrier, rcu_dereference loads with a dependency.  On x86 that is what a
 * release store and an acquire load compile to; say it with atomics.
 */
#undef rcu_dereference
#define rcu_dereference(p)	__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#undef rcu_set_pointer
#define rcu_set_pointer(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#undef rcu_xchg_pointer
#define rcu_xchg_pointer(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)

/*
 * QSBR grace periods: what a reader did before it announced a quiescent
 * state (or went offline) happens before the end of a synchronize_rcu() or
 * rcu_barrier() that waited for it.  (Coarser than liburcu: the acquire also
 * takes quiescent states announced after the grace period began.  That can
 * only hide a report, never invent one.)
 */
#undef rcu_quiescent_state
#define rcu_quiescent_state()	(__tsan_release(&nfqct_tsan_gp), urcu_qsbr_quiescent_state())
#undef rcu_thread_offline
#define rcu_thread_offline()	(__tsan_release(&nfqct_tsan_gp), urcu_qsbr_thread_offline())
#undef synchronize_rcu
#define synchronize_rcu()	(urcu_qsbr_synchronize_rcu(), __tsan_acquire(&nfqct_tsan_gp))
#undef rcu_barrier
#define rcu_barrier()		(urcu_qsbr_barrier(), __tsan_acquire(&nfqct_tsan_gp))

/*
 * call_rcu: what the caller did to the object before call_rcu() happens
 * before the callback, which acquires the grace period first thing
 * (nfqct_tsan_rcu_callback(), include/nfqct/tsan.h); the readers' accesses
 * are ordered by their quiescent states, above.
 */
#undef call_rcu
#define call_rcu(head, func)	(__tsan_release(&nfqct_tsan_gp), urcu_qsbr_call_rcu((head), (func)))

/*
 * cds_lfht: adding a node publishes it (its keys and the entry around it)
 * to every thread that later finds it by iterating.  Release on the node's
 * address when it is added, acquire when an iterator hands it out (and in
 * the match callbacks: nfqct_tsan_lfht_match()).
 */
#define cds_lfht_add(ht, hash, node) \
	cds_lfht_add((ht), (hash), nfqct_tsan_rel(node))
#define cds_lfht_add_unique(ht, hash, match, key, node) \
	cds_lfht_add_unique((ht), (hash), (match), (key), nfqct_tsan_rel(node))
#define cds_lfht_iter_get_node(iter) \
	((struct cds_lfht_node *)nfqct_tsan_acq(cds_lfht_iter_get_node(iter)))

#endif
