/*
 * l4proto.h - the protocol trackers behind one ops table, as the kernel's
 * struct nf_conntrack_l4proto: the table (ct.c) owns entries, locking,
 * expiry, accounting and status flags; a tracker owns the per-entry state
 * of its protocol and says, in one verdict vocabulary, what the table must
 * do with each packet.
 *
 * Trackers: TCP (proto_tcp.c), UDP and UDP-Lite (proto_udp.c), ICMP and
 * ICMPv6 (proto_icmp.c), SCTP (proto_sctp.c), generic for every other
 * protocol number (proto_generic.c).  A new protocol (SCTP, DCCP, GRE) is a new file with
 * its ops, one case in nfqct_l4proto_find() and, when it keeps state, a
 * member of union nfqct_l4_state.
 *
 * Contract of every op:
 *  - ops are called by the table only, never concurrently for one entry:
 *    either with the entry's lock held, or on an unconfirmed entry the
 *    calling worker owns alone (its first packet);
 *  - they read and write only the state they are given and the packet;
 *    they never touch the table, the entry's status flags, its expiry or
 *    its counters (the table applies the result), never allocate, never
 *    block, never read a clock (the time is in the context);
 *  - the packet was parsed by nfqct_pkt_parse() (pkt->tuple, pkt->l4...)
 *    and is not a non-first fragment.
 */
#ifndef NFQCT_L4PROTO_H
#define NFQCT_L4PROTO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfqct/pkt.h"
#include "nfqct/proto_sctp.h"
#include "nfqct/proto_tcp.h"
#include "nfqct/settings.h"

/* What the table must do with a packet of a tracked flow. */
enum nfqct_l4_verdict {
	NFQCT_L4_ACCEPT,	/* tracked: refresh the timeout to timeout_s, account */
	NFQCT_L4_INVALID,	/* INVALID: no accounting, no refresh (but see shrink_timeout) */
	NFQCT_L4_KILL,		/* account and refresh, then remove the entry (TCP RST
				 * before any reply); the packet keeps its ctstate */
	NFQCT_L4_REOPEN,	/* remove the entry and track the packet again as a new
				 * one (the kernel's -NF_REPEAT: TCP SYN in TIME_WAIT) */
	NFQCT_L4_IGNORE,	/* accepted with the entry's ctstate, a reply still marks
				 * the entry replied, but neither accounted nor refreshing
				 * (the kernel's NF_ACCEPT before nf_ct_refresh_acct());
				 * on an entry's first packet the table makes it INVALID */
};

struct nfqct_l4_result {
	uint8_t verdict;	/* enum nfqct_l4_verdict */
	bool set_assured;	/* the table must set [ASSURED] (ACCEPT, KILL) */
	bool shrink_timeout;	/* INVALID only: lower the confirmed entry's remaining
				 * lifetime to timeout_s when it is at least 120 s and
				 * longer than timeout_s (the kernel's TCP
				 * nf_tcp_handle_invalid()) */
	uint32_t timeout_s;	/* the new timeout, seconds (ACCEPT, KILL, shrink) */
	const char *reason;	/* INVALID/IGNORE: static string saying why (debug logs) */
};

/* What the table knows about the entry and the packet, for the tracker. */
struct nfqct_l4_ctx {
	const struct nfqct_settings *s;
	uint64_t now_ms;	/* the table's clock */
	bool reply;		/* the packet goes in the reply direction */
	bool seen_reply;	/* the entry's [SEEN_REPLY] before this packet (the
				 * table sets it after the tracker, for a reply that
				 * was not INVALID, as nf_conntrack_in()) */
	bool assured;		/* the entry's [ASSURED] before this packet */
};

/* 8-byte value with 4-byte alignment, so the union stays at 52 bytes. */
typedef uint64_t nfqct_u64_a4 __attribute__((aligned(4)));

/* Per-entry tracker state: the entry's proto union (the kernel's ct->proto). */
union nfqct_l4_state {
	struct nfqct_tcp_state tcp;
	struct {
		nfqct_u64_a4 stream_ms;	/* first packet + 2 s: the UDP stream rule */
	} udp;
	struct nfqct_sctp_state sctp;
};

/* Before any lookup: what is this packet to conntrack? (nf_conntrack_handle_icmp) */
enum nfqct_l4_class {
	NFQCT_L4_TRACK,		/* look its tuple up, or make a new entry */
	NFQCT_L4_RELATED,	/* an error quoting pkt->inner: RELATED to that flow
				 * when the table finds it, else INVALID (icmp_error) */
	NFQCT_L4_UNTRACKED,	/* never tracked (ICMPv6 neighbour discovery, MLD, MRD) */
	NFQCT_L4_ERROR,		/* INVALID, counted as icmp_error, not invalid */
};

struct nfqct_l4proto {
	uint8_t l4proto;	/* IPPROTO_*; 0 for generic (every other number) */
	bool allow_clash;	/* clash resolution on insertion (l4proto->allow_clash) */

	/*
	 * classify - what the packet is before any lookup.  NULL: TRACK.
	 * Reads only @pkt; no entry exists yet.
	 */
	enum nfqct_l4_class (*classify)(const struct nfqct_pkt *pkt);

	/*
	 * new - may @pkt (original direction, no entry found) start an entry?
	 * Initialises @st (zeroed by the table) from it and returns true, or
	 * returns false: the packet is INVALID and the entry is discarded.
	 * Called on the private unconfirmed entry, then packet() runs on the
	 * same packet (ctx->reply, seen_reply and assured false), as the
	 * kernel runs the tracker once the entry is allocated.  NULL: any
	 * packet may.
	 */
	bool (*new)(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
		    const struct nfqct_l4_ctx *ctx);

	/*
	 * packet - one packet of the entry, in direction ctx->reply: update
	 * @st and fill @res (zeroed by the op).  Entry lock held, or the
	 * private unconfirmed entry.  Never NULL.
	 */
	void (*packet)(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
		       const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res);

	/*
	 * state_name - the state `conntrack -L` prints after the timeout
	 * ("ESTABLISHED"), a static string (the kernel's print_conntrack).
	 * Entry lock held.  NULL: the protocol prints no state.
	 */
	const char *(*state_name)(const union nfqct_l4_state *st);
};

extern const struct nfqct_l4proto nfqct_l4proto_tcp;
extern const struct nfqct_l4proto nfqct_l4proto_udp;
extern const struct nfqct_l4proto nfqct_l4proto_udplite;
extern const struct nfqct_l4proto nfqct_l4proto_icmp;
extern const struct nfqct_l4proto nfqct_l4proto_icmpv6;
extern const struct nfqct_l4proto nfqct_l4proto_sctp;
extern const struct nfqct_l4proto nfqct_l4proto_generic;

/*
 * nfqct_l4proto_find - the tracker of protocol number @proto, whatever the
 * family (as the kernel's nf_ct_l4proto_find(): ICMP inside IPv6 goes to
 * the ICMP tracker, which refuses it); generic for numbers without one
 * (DCCP and GRE included, a known gap).  Never NULL.
 */
static inline const struct nfqct_l4proto *nfqct_l4proto_find(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:	return &nfqct_l4proto_tcp;
	case IPPROTO_UDP:	return &nfqct_l4proto_udp;
	case IPPROTO_UDPLITE:	return &nfqct_l4proto_udplite;
	case IPPROTO_ICMP:	return &nfqct_l4proto_icmp;
	case IPPROTO_ICMPV6:	return &nfqct_l4proto_icmpv6;
	case IPPROTO_SCTP:	return &nfqct_l4proto_sctp;
	default:		return &nfqct_l4proto_generic;
	}
}

#endif
