/*
 * proto_tcp.h - the TCP tracker: the kernel's TCP state machine
 * (tcp_conntracks[] of nf_conntrack_proto_tcp.c) and window tracking
 * (tcp_in_window()), reimplemented.
 *
 * The table (ct.c) keeps one struct nfqct_tcp_state inside each TCP entry,
 * serialises calls for one entry (the entry's lock), and owns the entry's
 * status flags; the tracker only reads and writes the state it is given
 * and says what the table must do.
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

/* One direction's window-tracking data (the kernel's ip_ct_tcp_state). */
struct nfqct_tcp_peer {
	uint32_t end;		/* max of seq + len */
	uint32_t maxend;	/* max of ack + max(win, 1) */
	uint32_t maxwin;	/* max(win) */
	uint8_t  scale;		/* window scale factor */
	uint8_t  flags;		/* tracker-private: window scale / SACK seen, ... */
};

/* Per-entry TCP state; keep it small, it lives in every TCP entry. */
struct nfqct_tcp_state {
	struct nfqct_tcp_peer peer[2];	/* [0] original direction, [1] reply */
	uint32_t last_seq;		/* last packet seen, for retransmission and */
	uint32_t last_ack;		/* the "ignored" SYN/ACK logic of the kernel */
	uint32_t last_end;
	uint16_t last_win;
	uint8_t  state;			/* enum nfqct_tcp_ct_state */
	uint8_t  last_dir;
	uint8_t  last_index;
	uint8_t  last_flags;
	uint8_t  retrans;
};

enum nfqct_tcp_action {
	NFQCT_TCP_ACCEPT,	/* tracked: refresh the timeout, account the packet */
	NFQCT_TCP_INVALID,	/* the packet is INVALID: no accounting, no refresh */
	NFQCT_TCP_KILL,		/* account the packet, then remove the entry (RST before reply) */
	NFQCT_TCP_REOPEN,	/* SYN reopening a closed/TIME_WAIT flow: remove the entry and
				 * track the packet again as a new one (the kernel's NF_REPEAT) */
};

struct nfqct_tcp_verdict {
	uint8_t action;		/* enum nfqct_tcp_action */
	bool set_assured;	/* the table must set [ASSURED] */
	uint32_t timeout_s;	/* new timeout, seconds, when ACCEPT/KILL */
};

/*
 * nfqct_tcp_new - may @pkt (original direction, first of its flow) create
 * an entry?  Initialises @st (state, window data from this packet).
 * Returns false when the packet cannot start a flow: invalid flag
 * combination, or not a SYN and nf_conntrack_tcp_loose is off; the caller
 * then treats it as INVALID.  A mid-stream pick-up (loose) starts in
 * ESTABLISHED as the kernel does.
 */
bool nfqct_tcp_new(struct nfqct_tcp_state *st, const struct nfqct_pkt *pkt, const struct nfqct_settings *s);

/*
 * nfqct_tcp_packet - one packet of a tracked flow, in direction @reply.
 * @seen_reply / @assured: the entry's status flags before this packet.
 * Fills @v.  Pure function of its inputs and @st: no clock, no I/O.
 */
void nfqct_tcp_packet(struct nfqct_tcp_state *st, const struct nfqct_pkt *pkt, bool reply,
		      bool seen_reply, bool assured, const struct nfqct_settings *s,
		      struct nfqct_tcp_verdict *v);

/* nfqct_tcp_state_name - "SYN_SENT", "ESTABLISHED", ... as conntrack -L prints them. */
const char *nfqct_tcp_state_name(uint8_t state);

#endif
