/*
 * judge.h - the packet pipeline as one function: parse, raw table,
 * conntrack, filter table, confirm, verdict.
 *
 * nfqct_judge() does no I/O and reads no clock: the daemon's workers call
 * it between receiving a batch and sending its verdicts, `nfqct simulate`
 * calls it on recorded packets with the capture's timestamps, and the unit
 * tests call it directly.  Whatever happens, it fills one struct
 * nfqct_verdict; the caller sends exactly that.
 *
 * Order, as the kernel's hooks run it:
 *  1. parse (a packet that does not parse is still judged: the raw table
 *     sees it, and unless it is NOTRACKed it is ct state INVALID, counted
 *     `invalid`);
 *  2. raw table for pkt->hook: DROP ends here, untracked; NOTRACK / CT
 *     --notrack makes it UNTRACKED (counted `ignore`); CT --zone picks the zone;
 *  3. conntrack (nfqct_ct_in): the ct state; a full table drops (`drop`);
 *  4. filter table for pkt->hook with that ct state;
 *  5. confirm (nfqct_ct_confirm): a new entry enters the table only when
 *     the filter accepted its packet; a failed insertion drops it;
 *  6. the entry's helper (CT --helper in the raw table; nfqct_ct_help) on
 *     the accepted packet, as the kernel's confirm hook runs it.
 * A packet the box sends to itself is judged twice by NFQUEUE (OUTPUT on
 * lo, then INPUT on lo); with cx->lo, the second pass takes the ct state
 * of the first and is not tracked again, as the kernel's conntrack
 * ("previously seen (loopback)", loopback.h).
 * One mark flows through: the packet's, changed in place by MARK targets of
 * either table; it is sent with the verdict when a MARK target ran.
 */
#ifndef NFQCT_JUDGE_H
#define NFQCT_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqct/ct.h"
#include "nfqct/loopback.h"
#include "nfqct/pkt.h"
#include "nfqct/rules.h"
#include "nfqct/settings.h"
#include "nfqct/stats.h"

/* What one worker judges with.  All pointers must outlive the call. */
struct nfqct_judge_ctx {
	struct nfqct_ct *ct;			/* the table (shared) */
	const struct nfqct_ruleset *rs;		/* the ruleset in force */
	const struct nfqct_settings *s;		/* the settings in force */
	struct nfqct_ct_stats *st;		/* counters, written by this caller only */
	struct nfqct_loopback *lo;		/* shared OUTPUT -> lo -> INPUT memory, or NULL */
	unsigned int worker;			/* the ruleset's counter slot and cache */
};

/* Who decided the verdict. */
enum nfqct_judge_by {
	NFQCT_BY_FILTER,	/* the filter table: verdict.rule names the rule or policy */
	NFQCT_BY_RAW,		/* a DROP in the raw table (verdict.rule) */
	NFQCT_BY_TABLE_FULL,	/* conntrack: table full, nothing to evict, or out of memory
				 * (the daemon logs "nfqct: table full, dropping packet") */
	NFQCT_BY_INSERT_FAILED,	/* conntrack: accepted, but the new entry could not be confirmed */
	NFQCT_BY_HELPER,	/* accepted, then dropped by the entry's helper (a partial
				 * FTP command, an expectation refused), as the kernel's */
};

struct nfqct_verdict {
	bool accept;
	bool set_mark;		/* a MARK target ran: send mark with the verdict */
	uint8_t reject;		/* a REJECT rule decided (accept false): the reply type
				 * (reject.h) the kernel must send, else 0 */
	uint32_t mark;		/* the packet's mark after both tables */
	uint8_t by;		/* enum nfqct_judge_by */
	unsigned int ctstate;	/* one NFQCT_CTSTATE_* bit, as the filter table saw it */
	bool reply;		/* the packet goes in the entry's reply direction */
	bool confirmed;		/* this packet's new entry entered the table */
	bool offload;		/* a FLOWOFFLOAD rule matched, the packet is accepted and
				 * its entry may go to the kernel's fast path now
				 * (nfqct_ct_offloadable): the caller asks offload.h */
	struct nfqct_conn *conn;	/* its entry, or NULL (INVALID, UNTRACKED, a new
				 * entry discarded): valid until the caller's next
				 * quiescent state */
	struct nfqct_rule_ref rule;	/* NFQCT_BY_FILTER / NFQCT_BY_RAW: what decided */
	const char *invalid_reason;	/* static string when the packet did not parse */
	uint8_t nlog;		/* LOG rules of both tables that matched, raw's first: */
	uint8_t log_lost;	/* log[0..nlog), and how many more did (not kept) */
	struct nfqct_rules_log log[NFQCT_RULES_MAX_LOG];	/* valid while cx->rs is */
};

/*
 * nfqct_judge - run @pkt (NFQUEUE fields set: data, caplen, len, mark,
 * indev, outdev, hook, hw_protocol; parse fields are filled here) through
 * the pipeline at time @now_ms (milliseconds of a monotonic clock: entry
 * expiry and the interface-name cache age by it) and fill @v.  Counts into
 * cx->st and the ruleset's counters of cx->worker.  RCU reader (QSBR:
 * online); no allocation beyond a new entry, no system call, no clock read.
 */
void nfqct_judge(const struct nfqct_judge_ctx *cx, struct nfqct_pkt *pkt, uint64_t now_ms,
		 struct nfqct_verdict *v);

#endif
