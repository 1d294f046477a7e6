/*
 * ct.h - the connection table: nf_conntrack semantics in a liburcu
 * lock-free resizable hash table (cds_lfht).
 *
 * RCU: the table is read by worker threads, the housekeeping thread and
 * the main thread, all registered with liburcu's QSBR flavour.  Functions
 * marked "RCU reader" must be called by a registered thread that is online
 * (QSBR: between rcu_thread_online() and the next rcu_quiescent_state() /
 * rcu_thread_offline()).  A struct nfqct_conn returned to a reader stays
 * valid until that thread's next quiescent state; entries are unlinked and
 * then freed with call_rcu().
 *
 * The worker's per-packet sequence is:
 *	nfqct_ct_in()       lookup or create (unconfirmed), run the protocol
 *	                    tracker, refresh the timeout, account the packet
 *	   (filter table)
 *	nfqct_ct_confirm()  insert a new entry if the packet is accepted,
 *	                    discard it otherwise
 */
#ifndef NFQCT_CT_H
#define NFQCT_CT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/pkt.h"
#include "nfqct/settings.h"
#include "nfqct/stats.h"

struct nfqct_ct;	/* the table */
struct nfqct_conn;	/* one entry */

/* ct states as `-m conntrack --ctstate` sees them: one bit each, so that a
 * rule's set of states is a mask. */
enum nfqct_ctstate {
	NFQCT_CTSTATE_INVALID		= 1 << 0,
	NFQCT_CTSTATE_ESTABLISHED	= 1 << 1,
	NFQCT_CTSTATE_RELATED		= 1 << 2,
	NFQCT_CTSTATE_NEW		= 1 << 3,
	NFQCT_CTSTATE_UNTRACKED		= 1 << 4,
};

struct nfqct_ct_result {
	struct nfqct_conn *conn;	/* NULL for INVALID and UNTRACKED; for NEW
					 * possibly an unconfirmed entry owned by the
					 * caller until nfqct_ct_confirm() */
	unsigned int ctstate;		/* one enum nfqct_ctstate bit */
	bool reply;			/* the packet goes in the reply direction */
	bool drop;			/* conntrack requires a drop (table full) */
};

/*
 * nfqct_ct_create - an empty table sized and tuned by @s.  Call after
 * rcu_register_thread().  Returns NULL with errno set.
 */
struct nfqct_ct *nfqct_ct_create(const struct nfqct_settings *s);

/* nfqct_ct_destroy - free the table and every entry; no reader may remain. */
void nfqct_ct_destroy(struct nfqct_ct *ct);

/* nfqct_ct_apply_settings - take the reloadable settings (timeouts, max,
 * acct, tcp_*) from @s; safe while readers run. */
void nfqct_ct_apply_settings(struct nfqct_ct *ct, const struct nfqct_settings *s);

/*
 * nfqct_ct_in - track one parsed packet in @zone at time @now_ms.  RCU reader.
 * Fills @res; counts into @st (found, new, invalid, icmp_error, drop,
 * early_drop, ...).  A packet whose parse failed must not be passed here.
 */
void nfqct_ct_in(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const struct nfqct_pkt *pkt,
		 uint16_t zone, uint64_t now_ms, struct nfqct_ct_result *res);

/*
 * nfqct_ct_confirm - the filter's verdict for the packet of @res is known.
 * For an unconfirmed entry: @accepted inserts it (insert, or clash
 * resolution: clashres and the packet follows the winner), otherwise it is
 * discarded.  Returns false when the packet must be dropped after all
 * (insert_failed).  A no-op returning true for confirmed entries.  RCU reader.
 */
bool nfqct_ct_confirm(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_ct_result *res,
		      bool accepted, uint64_t now_ms);

/* nfqct_ct_count - entries in the table (confirmed ones). */
uint32_t nfqct_ct_count(const struct nfqct_ct *ct);

/*
 * nfqct_ct_gc - expire timed-out entries, looking at no more than @budget
 * entries, resuming where the previous call stopped.  Counts `delete` in
 * @st.  RCU reader; only one thread calls it.  Returns entries expired.
 */
unsigned int nfqct_ct_gc(struct nfqct_ct *ct, struct nfqct_ct_stats *st, uint64_t now_ms,
			 unsigned int budget);

/*
 * nfqct_ct_dump - print every live entry, one line each, in the format of
 * `conntrack -L` (timeout in seconds left at @now_ms; packets=/bytes= when
 * accounting is on).  RCU reader.  Returns entries printed.
 */
unsigned int nfqct_ct_dump(struct nfqct_ct *ct, FILE *out, uint64_t now_ms);

/* nfqct_ct_flush - delete every entry (counted as `delete`). RCU reader. Returns entries deleted. */
unsigned int nfqct_ct_flush(struct nfqct_ct *ct, struct nfqct_ct_stats *st);

#endif
