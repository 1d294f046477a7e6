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
 *
 * Semantics are Linux 6.x nf_conntrack's (nf_conntrack_core.c; the
 * protocol trackers are behind l4proto.h, one file each).  Where nfqct
 * differs, the function comment says so.  Known gaps: no IP reassembly
 * (non-first fragments are INVALID; the deployment has the kernel
 * reassemble, see nfqct-kernel-rules), no NAT, helpers FTP and TFTP only
 * (helper.h, expect.h; not run on the second, looped pass of lo);
 * DCCP and GRE use the generic tracker (generic timeout, no state machine)
 * with their ports (DCCP) or zero keys (GRE) in the tuple, where the
 * kernel has trackers of their own.  SCTP has its tracker (proto_sctp.c).
 *
 * ICMP inside IPv6 (and ICMPv6 inside IPv4) is INVALID and counted
 * `invalid`, never an entry, as in the kernel: nf_ct_l4proto_find() hands
 * protocol 1 to the ICMP tracker whatever the family, and
 * nf_conntrack_icmp_packet() refuses any family but IPv4 (ICMPv6's
 * likewise refuses any but IPv6).  ICMPv6 types 151 and 152 (multicast
 * router discovery) are UNTRACKED as in Linux 6.10 and later; older
 * kernels call them INVALID.
 *
 * What the counters of struct nfqct_ct_stats mean here:
 *  found          lookups (packet tuples, and the quoted tuple of ICMP
 *                 errors) that found a live entry
 *  new            entries created by nfqct_ct_in (unconfirmed, first packet
 *                 accepted by the tracker)
 *  invalid        packets the trackers judged INVALID (no entry, no
 *                 accounting), a wrong TCP/UDP checksum included (csum.h);
 *                 ICMP errors quoting no flow, and ICMP/ICMPv6 packets with a
 *                 wrong checksum, count icmp_error only, as in the kernel
 *  delete         entries removed: expiry (lookup or gc), TCP KILL/REOPEN,
 *                 early drop, flush
 *  insert         entries confirmed into the table
 *  insert_failed  confirmations refused: clash on a protocol without clash
 *                 resolution (TCP, ICMP, generic: 6.x allows it for UDP and
 *                 UDP-Lite only), clash with a dying entry, or an entry
 *                 killed before its confirmation
 *  clashres       clashes resolved by merging into the winner
 *  drop           packets that must be dropped: table full, allocation
 *                 failure, or an unresolvable clash
 *  early_drop     non-assured entries evicted to make room
 *  icmp_error     ICMP/ICMPv6 errors that quote no tracked flow (or whose
 *                 outer destination is not the flow's endpoint), ICMP types
 *                 above 18
 *  chainlength    the kernel counts insertions refused for a too long hash
 *                 chain.  cds_lfht resizes itself and only calls our match
 *                 function for nodes with an equal 64-bit keyed hash, so a
 *                 long chain cannot be observed; we count lookups whose match
 *                 function ran more than once (full keyed-hash collisions).
 *                 Expected to stay 0; anything else means the hash is weak.
 *  search_restart lookups redone because the entry found was killed by
 *                 another thread between lookup and use, and insertions
 *                 retried because the clashing entry was expiring
 *  searched       (older layout) hash-table lookups done
 *  csum_unchecked checksums that nf_conntrack_checksum asked for but the
 *                 copy range cut (nfqct's own: shown in nfqct_queue)
 *  ignore, expect_*  not counted here (NOTRACK is the worker's business)
 */
#ifndef NFQCT_CT_H
#define NFQCT_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/l4proto.h"
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
	bool unconfirmed;		/* conn is a new entry, not yet in the table */
	bool drop;			/* conntrack requires a drop (table full) */
	uint8_t helper;			/* the entry's helper (helper.h): run
					 * nfqct_ct_help() once the packet is accepted */
	uint8_t master_helper;		/* an expected entry: its master's helper
					 * (-m helper), else 0 */
};

/*
 * nfqct_ct_create - an empty table sized by @s (ct_buckets, rounded up to a
 * power of two, is the initial size; the table grows by itself).  The table
 * keeps no settings: every nfqct_ct_in() call brings the ones in force.
 * Draws the hash key from getrandom().  Call after rcu_register_thread().
 * Returns NULL with errno set.
 */
struct nfqct_ct *nfqct_ct_create(const struct nfqct_settings *s);

/*
 * nfqct_ct_destroy - free the table and every entry; no other reader may
 * remain.  Call from a registered thread, online: entries go through
 * call_rcu() (call rcu_barrier() before exit to see them freed), and the
 * function steps offline while it waits for the table's resize worker.
 */
void nfqct_ct_destroy(struct nfqct_ct *ct);

/*
 * nfqct_ct_in - track one parsed packet in @zone at time @now_ms, with the
 * settings @s (timeouts, nf_conntrack_max, acct, tcp_*: the daemon's
 * RCU-published settings, read once per batch).  RCU reader.
 * Fills @res; counts into @st (found, new, invalid, icmp_error, drop,
 * early_drop, ...).  A packet whose parse failed must not be passed here.
 * Timeouts apply at an entry's next refresh; acct applies to entries
 * created from then on (the kernel adds the accounting extension at
 * creation).  Logs nothing: a full table is res->drop, the caller says it.
 *
 * ctstate: NEW for a new entry and for original-direction packets before
 * any reply; ESTABLISHED for replies and once a reply was seen; RELATED
 * for ICMP/ICMPv6 errors quoting a tracked flow (res->conn is that flow,
 * res->reply the direction of the error; not accounted, no refresh);
 * INVALID when the tracker refuses the packet (res->conn NULL, nothing
 * accounted), or, with s->ct_checksum, when nfqct_csum_verify() (csum.h)
 * finds its checksum wrong, before any lookup; UNTRACKED for ICMPv6 neighbour discovery, MLD and
 * multicast router discovery (types 130-136, 143, 151, 152).
 * res->drop: the table is full (no early drop possible) or out of memory.
 * A tuple that is its own inverse (same address and port both ways: a
 * self-connect, a generic protocol from a host to itself) is one entry
 * like any other; once confirmed, its packets are found in the reply
 * direction (ESTABLISHED), as the kernel's lookup finds the reply
 * tuplehash first; nfqct_ct_lookup() says reply too.
 *
 * A NEW result with res->conn set is an unconfirmed entry the caller owns:
 * it must go to nfqct_ct_confirm() (accepted or not) before the caller's
 * next quiescent state, or it leaks and stays counted.  The protocol
 * tracker is nfqct_l4proto_find(proto) (l4proto.h): the first packet goes
 * through its new() and then packet() ops, as the kernel runs tcp_new()
 * inside nf_conntrack_tcp_packet(); KILL accounts, then removes the entry
 * (res->conn stays valid until the quiescent state); REOPEN removes the
 * entry and tracks the packet as new.
 */
void nfqct_ct_in(struct nfqct_ct *ct, const struct nfqct_settings *s, struct nfqct_ct_stats *st,
		 const struct nfqct_pkt *pkt, uint16_t zone, uint64_t now_ms,
		 struct nfqct_ct_result *res);

/*
 * nfqct_ct_in_help - nfqct_ct_in() with the raw table's `CT --helper`
 * (@helper, enum nfqct_helper_id, 0 for none): a new entry that no
 * expectation claims gets it (__nf_ct_try_assign_helper).  A new entry
 * whose first packet matches an expectation (expect.h; looked up only
 * while there is one) takes it out of the table (expect_delete), counts
 * expect_new, is RELATED to its master, and stays RELATED in the original
 * direction until a reply, as the kernel's IPS_EXPECTED; its
 * res->master_helper is the master's helper.  nfqct_ct_in() passes 0.
 */
void nfqct_ct_in_help(struct nfqct_ct *ct, const struct nfqct_settings *s, struct nfqct_ct_stats *st,
		      const struct nfqct_pkt *pkt, uint16_t zone, uint8_t helper, uint64_t now_ms,
		      struct nfqct_ct_result *res);

/*
 * nfqct_ct_help - run the helper of res->conn (res->helper not 0) on an
 * accepted packet, after nfqct_ct_confirm(), as the kernel runs helpers at
 * its confirm hook: FTP reads ESTABLISHED packets only, TFTP any.  A
 * helper's per-entry state lives beside the table (the entry has no room
 * for it) and goes with the entry; expectations it asks for are added
 * with s->expect_max (expect_create; an expectation of the entry replaced
 * or evicted counts expect_delete).  Returns false when the packet must be
 * dropped: a partial FTP command, or an expectation refused (table full,
 * clash), as the kernel's helper returns NF_DROP.  RCU reader.
 */
bool nfqct_ct_help(struct nfqct_ct *ct, const struct nfqct_settings *s, struct nfqct_ct_stats *st,
		   const struct nfqct_ct_result *res, const struct nfqct_pkt *pkt, uint64_t now_ms);

/*
 * nfqct_ct_expect_dump - the expectations, in the format of `conntrack -L
 * expect` (expect.h: nfqct_expect_dump).  Returns lines printed.
 */
unsigned int nfqct_ct_expect_dump(struct nfqct_ct *ct, FILE *out, uint64_t now_ms);

/*
 * nfqct_ct_confirm - the filter's verdict for the packet of @res is known.
 * For an unconfirmed entry: @accepted inserts it (insert, or clash
 * resolution: clashres, the loser's counters merge into the winner and
 * res->conn/res->reply follow the winner), otherwise it is discarded.  The
 * expiry starts at @now_ms, as the kernel's timeout starts at confirmation.
 * Returns false when the packet must be dropped after all (insert_failed,
 * and drop when the clash could not be resolved); res->conn is then NULL.
 * A no-op returning true for confirmed entries and NULL.  RCU reader.
 */
bool nfqct_ct_confirm(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_ct_result *res,
		      bool accepted, uint64_t now_ms);

/*
 * nfqct_ct_count - entries counted against nf_conntrack_max: the confirmed
 * ones plus the few unconfirmed ones workers hold between nfqct_ct_in() and
 * nfqct_ct_confirm(), as the kernel's nf_conntrack_count.  Exact (atomic).
 */
uint32_t nfqct_ct_count(const struct nfqct_ct *ct);

/*
 * nfqct_ct_gc - expire timed-out entries, looking at no more than @budget
 * entries (and 4 * @budget table nodes: each entry has two), resuming
 * where the previous call stopped; a call that finds the sweep finished
 * returns and the next one starts over.  Counts `delete` in @st.  RCU
 * reader; only one thread calls it.  Returns entries expired.
 *
 * To resume across quiescent states the table pins the entry it stopped
 * at: if that entry dies meanwhile it stays linked (invisible to lookups)
 * until the next call.  Cost: about 0.4 us per entry on a 1M-entry table
 * (list walk, cache misses), so a budget of 10000 every 10 ms sweeps a
 * million entries within a second for about 40 % of one core; lookups
 * remove expired entries they meet regardless.
 */
unsigned int nfqct_ct_gc(struct nfqct_ct *ct, struct nfqct_ct_stats *st, uint64_t now_ms,
			 unsigned int budget);

/* nfqct_ct_gc_sweeping - true while a sweep is under way (the last
 * nfqct_ct_gc() stopped on its budget); false once it reached the end.
 * The gc thread only. */
bool nfqct_ct_gc_sweeping(const struct nfqct_ct *ct);

/*
 * nfqct_ct_dump - print every live entry, one line each, in the format of
 * `conntrack -L` (libnetfilter_conntrack's default output): protocol name
 * padded "%-8s", its number, seconds left at @now_ms (truncated, as
 * ctnetlink), the tracker's state (TCP, SCTP), "src= dst=" and "sport= dport=" (ICMP:
 * "type= code= id="; GRE: "srckey=0x.. dstkey=0x.."), "packets= bytes="
 * when the entry has accounting, [UNREPLIED] after the original tuple,
 * the reply tuple and its counters, [ASSURED], "mark=", "zone=" only when
 * not 0, "use=1".  Names: tcp udp udplite icmp icmpv6 sctp gre dccp, else
 * "unknown".  RCU reader.  Returns entries printed.
 */
unsigned int nfqct_ct_dump(struct nfqct_ct *ct, FILE *out, uint64_t now_ms);

/*
 * nfqct_tuple_print - "src=A dst=B sport=P dport=Q" (ICMP: "type= code=
 * id="; GRE: "srckey= dstkey="), as conntrack -L prints a tuple; no
 * trailing blank.
 */
void nfqct_tuple_print(FILE *out, const struct nfqct_tuple *t);

/* Room nfqct_tuple_format() needs: two IPv6 addresses and the longest ports part, NUL included. */
#define NFQCT_TUPLE_TEXT_MAX (2 * 46 + 64)

/* nfqct_tuple_format - the same text at @p (NFQCT_TUPLE_TEXT_MAX bytes of room), NUL-ended;
 * returns the position of the NUL.  No stdio. */
char *nfqct_tuple_format(char *p, const struct nfqct_tuple *t);

/* nfqct_ct_flush - delete every entry (counted as `delete`). RCU reader. Returns entries deleted. */
unsigned int nfqct_ct_flush(struct nfqct_ct *ct, struct nfqct_ct_stats *st);

/*
 * nfqct_ct_lookup - the live entry that @tuple belongs to in @zone at
 * @now_ms, or NULL; *@reply tells the direction.  No side effect: no
 * counters, no expiry.  RCU reader.
 */
struct nfqct_conn *nfqct_ct_lookup(struct nfqct_ct *ct, const struct nfqct_tuple *tuple,
				   uint16_t zone, uint64_t now_ms, bool *reply);

/* A snapshot of one entry, taken under its lock. */
struct nfqct_ct_info {
	struct nfqct_tuple orig;	/* original direction */
	struct nfqct_tuple reply;	/* reply direction */
	uint16_t zone;
	uint8_t tcp_state;		/* enum nfqct_tcp_ct_state, TCP only */
	const char *state_name;		/* the tracker's state as conntrack -L prints
					 * it (l4proto.h state_name), or NULL */
	bool seen_reply;		/* ![UNREPLIED] */
	bool assured;			/* [ASSURED] */
	bool confirmed;
	bool dying;			/* removed, or about to be */
	bool acct;			/* accounting was on when it was created */
	bool offload;			/* [OFFLOAD]: its packets go by the kernel (offload.h) */
	uint8_t helper;			/* enum nfqct_helper_id: conntrack -L prints helper= */
	uint32_t mark;
	uint64_t expires_ms;		/* absolute, in the clock of now_ms; for an
					 * unconfirmed entry: its timeout, relative */
	uint64_t packets[2];		/* [0] original direction, [1] reply */
	uint64_t bytes[2];
};

/* nfqct_ct_info - snapshot @conn into @out.  RCU reader (@conn from this section). */
void nfqct_ct_info(const struct nfqct_conn *conn, struct nfqct_ct_info *out);

/* nfqct_ct_entry_size - sizeof one entry (both hash nodes, tuple, state, counters). */
size_t nfqct_ct_entry_size(void);

/*
 * nfqct_ct_walk - call @fn for every live confirmed entry with its
 * snapshot, as nfqct_ct_dump() sees them; @fn may nfqct_ct_kill() the
 * entry it is given.  @fn returns false to stop.  RCU reader.  Returns
 * entries passed to @fn.
 */
unsigned int nfqct_ct_walk(struct nfqct_ct *ct, uint64_t now_ms,
			   bool (*fn)(struct nfqct_conn *conn, const struct nfqct_ct_info *ci, void *arg),
			   void *arg);

/* nfqct_ct_kill - remove @conn (counted `delete`).  False: someone else did.  RCU reader. */
bool nfqct_ct_kill(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_conn *conn);

/* nfqct_ct_set_mark - ct mark = (mark & ~@mask) | (@value & @mask), atomically. */
void nfqct_ct_set_mark(struct nfqct_conn *conn, uint32_t value, uint32_t mask);

/* nfqct_ct_tuple - @conn's original-direction tuple, and its zone in *@zone
 * (both fixed when the entry is made: no lock). */
const struct nfqct_tuple *nfqct_ct_tuple(const struct nfqct_conn *conn, uint16_t *zone);

/* nfqct_ct_closed - a TCP entry in TIME_WAIT or CLOSE (nf_conncount's
 * already_closed()); a racy read, as the kernel's. */
bool nfqct_ct_closed(const struct nfqct_conn *conn);

/* nfqct_ct_mark - the entry's mark (an atomic read: workers may be writing it). */
uint32_t nfqct_ct_mark(const struct nfqct_conn *conn);

/*
 * nfqct_ct_mark_xset - ct mark = (mark & ~@mask) ^ @value (xt_CONNMARK's
 * arithmetic), atomically (compare-and-swap: no lock, so the packet path
 * may call it).  Returns the new mark.
 */
uint32_t nfqct_ct_mark_xset(struct nfqct_conn *conn, uint32_t value, uint32_t mask);

/* nfqct_ct_id - the entry's id for `-o id`: stable for its life, keyed by the
 * table's secret so that it does not reveal an address. */
uint32_t nfqct_ct_id(const struct nfqct_ct *ct, const struct nfqct_conn *conn);

/* nfqct_ct_info_print - one nfqct_ct_dump() line, without its newline. */
void nfqct_ct_info_print(FILE *out, const struct nfqct_ct_info *ci, uint64_t now_ms);

/* ---- flow offload (offload.h) ---- */

/*
 * nfqct_ct_offloadable - may @conn go to the kernel's fast path now?  A
 * confirmed, replied entry in zone 0: TCP in ESTABLISHED and @pkt (when not
 * NULL) without SYN, FIN or RST; UDP.  Nothing else.  Racy reads, no lock.
 */
bool nfqct_ct_offloadable(const struct nfqct_conn *conn, const struct nfqct_pkt *pkt);

/* nfqct_ct_offload_claim - mark an offload request under way; false when one
 * already is (the caller must not send another). */
bool nfqct_ct_offload_claim(struct nfqct_conn *conn);

/* nfqct_ct_offload_done - the request is over: [OFFLOAD] set when @offloaded
 * (a TCP entry's tracker then stops checking windows, for good, as the
 * kernel's flow offload sets BE_LIBERAL), cleared otherwise. */
void nfqct_ct_offload_done(struct nfqct_conn *conn, bool offloaded);

/* nfqct_ct_offloaded - [OFFLOAD] is set. */
bool nfqct_ct_offloaded(const struct nfqct_conn *conn);

/* nfqct_ct_offload_unset - clear [OFFLOAD]; true when it was set (the caller
 * then removes the kernel's elements). */
bool nfqct_ct_offload_unset(struct nfqct_conn *conn);

/*
 * nfqct_ct_offload_acct - @packets / @bytes the kernel forwarded for @conn in
 * direction @reply: added to its counters (with accounting), and the expiry
 * pushed to @now_ms + the established (TCP) or stream (UDP, assured) timeout
 * of @s, as the kernel's refresh would.  A dying entry is left alone.
 */
void nfqct_ct_offload_acct(struct nfqct_conn *conn, const struct nfqct_settings *s, bool reply,
			   uint64_t packets, uint64_t bytes, uint64_t now_ms);

/* ---- export and import, for the state file (state.h) ---- */

/* Status of an exported entry. */
enum nfqct_ct_entry_flags {
	NFQCT_CT_F_SEEN_REPLY	= 1 << 0,
	NFQCT_CT_F_ASSURED	= 1 << 1,
	NFQCT_CT_F_ACCT		= 1 << 2,
	NFQCT_CT_F_EXPECTED	= 1 << 3,
	NFQCT_CT_F_ALL		= (1 << 4) - 1,
};

/* One confirmed entry, whole: what a restart must carry over. */
struct nfqct_ct_entry {
	struct nfqct_tuple tuple;	/* original direction */
	uint16_t zone;
	uint16_t flags;			/* enum nfqct_ct_entry_flags */
	uint32_t mark;
	uint8_t helper;			/* enum nfqct_helper_id */
	uint8_t master_helper;		/* NFQCT_CT_F_EXPECTED: the master's helper */
	uint64_t timeout_ms;		/* lifetime left at the export's now_ms */
	uint64_t packets[2];		/* [0] original direction, [1] reply */
	uint64_t bytes[2];
	union nfqct_l4_state proto;	/* the tracker's, as is: times in it (UDP's
					 * stream_ms) are in the clock of now_ms */
};

/*
 * nfqct_ct_export - call @fn once for every live confirmed entry, with a
 * snapshot taken under the entry's lock at @now_ms.  Stops at the first
 * non-zero return of @fn and returns it; 0 when every entry was seen.
 * RCU reader: the walk holds the read side for its whole length (about
 * 0.1 us an entry), so keep @fn short (no I/O that can block).
 */
int nfqct_ct_export(struct nfqct_ct *ct, uint64_t now_ms,
		    int (*fn)(void *arg, const struct nfqct_ct_entry *e), void *arg);

/*
 * nfqct_ct_import - insert @e as a confirmed entry expiring at @now_ms +
 * e->timeout_ms.  When a live entry holds its tuple (either direction, in
 * its zone): with @replace that entry is removed first (counted `delete`
 * in @st), else the call returns -EEXIST and the table is unchanged.
 * Returns 0, -EEXIST, -ENOSPC (@ct_max entries already; 0: no limit),
 * -EINVAL (a tuple without an inverse, flags outside NFQCT_CT_F_ALL, a
 * zero timeout), -ENOMEM, or -EAGAIN (the tuple is being inserted by a
 * worker right now).  Counts `insert` in @st (may be NULL).  RCU reader.
 */
int nfqct_ct_import(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const struct nfqct_ct_entry *e,
		    uint64_t now_ms, uint32_t ct_max, bool replace);

#endif
