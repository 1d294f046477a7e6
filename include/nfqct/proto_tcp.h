/*
 * proto_tcp.h - the TCP tracker: the kernel's TCP state machine
 * (tcp_conntracks[] of nf_conntrack_proto_tcp.c) and window tracking
 * (tcp_in_window()), reimplemented.
 *
 * The table (ct.c) keeps one struct nfqct_tcp_state inside each TCP entry,
 * serialises calls for one entry (the entry's lock), and owns the entry's
 * status flags; the tracker only reads and writes the state it is given
 * and says what the table must do (l4proto.h: nfqct_l4proto_tcp).
 */
#ifndef NFQCT_PROTO_TCP_H
#define NFQCT_PROTO_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqct/pkt.h"
#include "nfqct/settings.h"

/* The kernel's enum tcp_conntrack, same order (conntrack -L prints these names). */
enum nfqct_tcp_ct_state {
	NFQCT_TCP_NONE,
	NFQCT_TCP_SYN_SENT,
	NFQCT_TCP_SYN_RECV,
	NFQCT_TCP_ESTABLISHED,
	NFQCT_TCP_FIN_WAIT,
	NFQCT_TCP_CLOSE_WAIT,
	NFQCT_TCP_LAST_ACK,
	NFQCT_TCP_TIME_WAIT,
	NFQCT_TCP_CLOSE,
	NFQCT_TCP_SYN_SENT2,
	NFQCT_TCP_STATE_MAX
};

/*
 * One direction's window-tracking data (the kernel's ip_ct_tcp_state,
 * td_*).  Its window scale and flags live in the bit fields of
 * struct nfqct_tcp_state so that the whole state stays at 52 bytes.
 */
struct nfqct_tcp_peer {
	uint32_t end;		/* max of seq + len */
	uint32_t maxend;	/* max of ack + max(win, 1) */
	uint32_t maxwin;	/* max(win) */
	uint32_t maxack;	/* max ack sent by this side (valid once seen) */
};

/*
 * Per-entry TCP state; keep it small, it lives in every TCP entry
 * (52 bytes on the usual ABIs).  Only the tracker interprets it, apart
 * from @state, which conntrack -L prints (nfqct_tcp_state_name()).
 */
struct nfqct_tcp_state {
	struct nfqct_tcp_peer peer[2];	/* [0] original direction, [1] reply */
	uint32_t last_seq;		/* last packet seen, for retransmission and */
	uint32_t last_ack;		/* the "ignored" SYN/ACK logic of the kernel */
	uint32_t last_end;
	unsigned int pflags0 : 6;	/* tracker-private per-direction flags */
	unsigned int pflags1 : 6;	/* (window scale / SACK seen, ...) */
	unsigned int scale0 : 4;	/* window scale factor, original direction */
	unsigned int scale1 : 4;	/* window scale factor, reply direction */
	unsigned int last_index : 3;	/* packet class of the last packet */
	unsigned int last_dir : 1;
	unsigned int last_wscale : 4;	/* window scale of the last ignored SYN */
	unsigned int last_flags : 4;	/* tracker-private */
	uint16_t last_win;
	uint8_t  state;			/* enum nfqct_tcp_ct_state */
	uint8_t  retrans;		/* repeats of the last ACK */
};

/* The verdict is the shared one of l4proto.h (struct nfqct_l4_result); the
 * TCP tracker uses every value of it.  Forward-declared here because
 * l4proto.h embeds struct nfqct_tcp_state in the entry's proto union. */
struct nfqct_l4_result;

/*
 * nfqct_tcp_new - may @pkt (original direction, first of its flow) create
 * an entry?  Initialises @st (state, window data from this packet).
 * Returns false when the packet cannot start a flow: invalid flag
 * combination, or not a SYN and nf_conntrack_tcp_loose is off; the caller
 * then treats it as INVALID.  A mid-stream pick-up (loose) starts in
 * ESTABLISHED as the kernel does.
 *
 * As the kernel's tcp_new(), this leaves @st->state at NONE: the caller
 * then passes the same packet to nfqct_tcp_packet() (reply false,
 * seen_reply false, assured false), which moves the state to SYN_SENT or
 * ESTABLISHED and gives the first timeout.
 */
bool nfqct_tcp_new(struct nfqct_tcp_state *st, const struct nfqct_pkt *pkt, const struct nfqct_settings *s);

/*
 * nfqct_tcp_packet - one packet of a tracked flow, in direction @reply.
 * @seen_reply / @assured: the entry's status flags before this packet
 * (the table sets [SEEN_REPLY] after this call, for a reply that was not
 * INVALID, as the kernel's nf_conntrack_in() does after the tracker).
 * Fills @v: ACCEPT, INVALID (with shrink_timeout for an out-of-window
 * FIN/RST answering one of the other side of an [ASSURED] flow), KILL
 * (RST before any reply), REOPEN (SYN reopening a closed or TIME_WAIT
 * flow) or IGNORE (ignored SYN/ACKs, SYN retransmissions, segments under
 * the window).  Pure function of its inputs and @st: no clock, no I/O.
 * @st may change whatever the verdict (the kernel records ignored and
 * some invalid packets too).  nfqct_l4proto_tcp wraps both functions.
 */
void nfqct_tcp_packet(struct nfqct_tcp_state *st, const struct nfqct_pkt *pkt, bool reply,
		      bool seen_reply, bool assured, const struct nfqct_settings *s,
		      struct nfqct_l4_result *v);

/*
 * nfqct_tcp_set_liberal - no window checks in either direction from now
 * on: the flow went to the kernel's fast path (offload.h), whose packets
 * this tracker no longer sees, as nft_flow_offload sets
 * IP_CT_TCP_FLAG_BE_LIBERAL on both sides.  Call with the entry's lock.
 */
void nfqct_tcp_set_liberal(struct nfqct_tcp_state *st);

/*
 * nfqct_tcp_pickup - @st for a flow that another box tracked (state
 * replication, syncmsg.h): state @state, no window history, and no
 * window checks in either direction, as conntrackd commits replicated
 * flows with the kernel's BE_LIBERAL on both sides.
 */
void nfqct_tcp_pickup(struct nfqct_tcp_state *st, uint8_t state);

/* nfqct_tcp_state_name - "SYN_SENT", "ESTABLISHED", ... as conntrack -L prints them. */
const char *nfqct_tcp_state_name(uint8_t state);

#endif
