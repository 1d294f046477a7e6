/*
 * ftfw.h - the reliable side of replication: conntrackd's FTFW ("fault
 * tolerant, fire and forget with acknowledgements") and NOTRACK modes over
 * the messages of syncmsg.h, as a pure state machine: no socket, no clock,
 * no thread.  The caller brings the time (now_ms, any monotonic clock) and
 * the datagrams; the engine hands datagrams to send, flows to apply and
 * resync requests back through struct nfqct_ftfw_ops.
 *
 * FTFW, as conntrackd 1.4.x (src/sync-ftfw.c, src/network.c) does it:
 *  - every message sent takes the next sequence number (one counter per
 *    sender, flows and control messages alike);
 *  - flows and ACK/NACK/RESYNC go to the resend queue until the peer
 *    acknowledges them; a full queue forgets its oldest entry (counted
 *    rs_overflow; the peer's resync repairs it);
 *  - the receiver acknowledges every @window in-order messages with
 *    ACK [from, to]; a sequence jump sends ACK for what came in order and
 *    NACK [expected, received - 1], and the sender sends those again
 *    (with new numbers; the flow as the table has it now when ops->current
 *    is set); a message from before the expected one is dropped (before);
 *  - after @alive_ms without sending, an ACK of what is pending or ALIVE,
 *    so that a lost last message shows as a jump on the next one;
 *  - the hello handshake: a sender marks its messages HELLO until a
 *    HELLO_BACK arrives; a HELLO restarts the receiver's numbering.
 * NOTRACK: numbers are counted (lost) but nothing is acknowledged or sent
 * again; RESYNC and ALIVE as in FTFW.
 *
 * Not thread-safe: one thread (the sync thread) owns an engine.
 */
#ifndef NFQCT_FTFW_H
#define NFQCT_FTFW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqct/syncmsg.h"

enum nfqct_sync_mode {
	NFQCT_SYNC_MODE_OFF,
	NFQCT_SYNC_MODE_FTFW,
	NFQCT_SYNC_MODE_NOTRACK,
	NFQCT_SYNC_MODE_ALARM,		/* NOTRACK's engine; the daemon re-sends on a timer */
};

struct nfqct_ftfw_cfg {
	unsigned int mode;		/* enum nfqct_sync_mode: FTFW, NOTRACK or ALARM */
	unsigned int enc;		/* NFQCT_SYNC_ENC_* for flow messages */
	uint32_t window;		/* ACK every this many messages (conntrackd: 300) */
	uint32_t resend_max;		/* resend queue entries, at least 1 */
	uint32_t alive_ms;		/* ALIVE (or ACK) after this long without sending */
	uint32_t mtu;			/* largest datagram, bytes (64 .. 65507) */
	uint32_t first_seq;		/* first sequence number (conntrackd: time(NULL)) */
};

struct nfqct_ftfw_ops {
	/* send one datagram; returns 0 or -errno (counted xmit_errors) */
	int (*xmit)(void *arg, const uint8_t *buf, size_t len);
	/* a flow message arrived in order or after a jump: apply it (type NEW, UPDATE, DESTROY) */
	void (*apply)(void *arg, uint8_t type, const struct nfqct_sync_flow *f);
	/* the peer asks for the whole table: call nfqct_ftfw_send() for every flow */
	void (*resync)(void *arg);
	/* optional: before a flow is sent again, make @f and @type what the table
	 * holds now (DESTROY when it is gone); false: do not send it again */
	bool (*current)(void *arg, struct nfqct_sync_flow *f, uint8_t *type);
};

struct nfqct_ftfw_stats {
	uint64_t dgram_sent, dgram_recv;
	uint64_t msg_sent, msg_recv;	/* every message, control included */
	uint64_t flow_sent, flow_recv;	/* flow messages (flow_recv: passed to apply) */
	uint64_t resent;		/* messages sent again on a NACK */
	uint64_t lost;			/* sequence numbers skipped by the peer's messages */
	uint64_t before;		/* messages older than expected, dropped */
	uint64_t malformed;		/* datagrams refused whole (framing, version) */
	uint64_t bad;			/* messages refused (body) */
	uint64_t exp_skipped;		/* expectation messages (not replicated) */
	uint64_t ack_sent, ack_recv, nack_sent, nack_recv;
	uint64_t resync_sent, resync_recv, alive_sent, alive_recv;
	uint64_t rs_overflow;		/* resend-queue entries forgotten (queue full) */
	uint64_t xmit_errors;
	uint32_t rs_len;		/* resend queue entries now */
	bool hello_done;		/* the peer answered our hello */
};

struct nfqct_ftfw;

/*
 * nfqct_ftfw_create - an engine for one peer.  @ops->xmit and ->apply are
 * required.  Returns 0 with *@out, -EINVAL (bad @cfg), -ENOMEM.
 */
int nfqct_ftfw_create(const struct nfqct_ftfw_cfg *cfg, const struct nfqct_ftfw_ops *ops,
		      void *arg, struct nfqct_ftfw **out);

/* nfqct_ftfw_destroy - free @e (NULL is fine); nothing is flushed. */
void nfqct_ftfw_destroy(struct nfqct_ftfw *e);

/*
 * nfqct_ftfw_send - queue a flow message (@type NEW, UPDATE or DESTROY)
 * into the datagram being built; a full datagram goes out first.  FTFW
 * keeps it for resending.  Returns 0, -EINVAL (a flow the encoder
 * refuses), or the xmit error of a datagram that had to go.
 */
int nfqct_ftfw_send(struct nfqct_ftfw *e, uint8_t type, const struct nfqct_sync_flow *f,
		    uint64_t now_ms);

/* nfqct_ftfw_request_resync - ask the peer for its whole table (RESYNC), sent now. */
int nfqct_ftfw_request_resync(struct nfqct_ftfw *e, uint64_t now_ms);

/*
 * nfqct_ftfw_input - one datagram from the peer (its source already
 * checked): framing, each message, sequence tracking, apply/resync
 * callbacks, then the ACK/NACKs it calls for are sent.
 */
void nfqct_ftfw_input(struct nfqct_ftfw *e, const uint8_t *buf, size_t len, uint64_t now_ms);

/*
 * nfqct_ftfw_tick - the timers: after alive_ms without sending, an ACK of
 * what is pending (FTFW) or ALIVE; then whatever is buffered goes out.
 * Returns the time of the next deadline.
 */
uint64_t nfqct_ftfw_tick(struct nfqct_ftfw *e, uint64_t now_ms);

/* nfqct_ftfw_flush - send the datagram being built, if any.  0 or the xmit error. */
int nfqct_ftfw_flush(struct nfqct_ftfw *e, uint64_t now_ms);

/* nfqct_ftfw_stats - a copy of the counters. */
void nfqct_ftfw_stats(const struct nfqct_ftfw *e, struct nfqct_ftfw_stats *out);

/* nfqct_ftfw_reset - forget the peer (sequence tracking, hello, resend queue): a new peer. */
void nfqct_ftfw_reset(struct nfqct_ftfw *e);

#endif
