/*
 * proto_sctp.h - the SCTP tracker: the kernel's association state machine
 * (sctp_conntracks[] of nf_conntrack_proto_sctp.c), verification tags and
 * chunk checks, reimplemented.
 *
 * The table (ct.c) keeps one struct nfqct_sctp_state inside each SCTP
 * entry (l4proto.h: union nfqct_l4_state) and serialises calls for one
 * entry; the tracker says what the table must do (nfqct_l4proto_sctp).
 */
#ifndef NFQCT_PROTO_SCTP_H
#define NFQCT_PROTO_SCTP_H

#include <stdbool.h>
#include <stdint.h>

/* The kernel's enum sctp_conntrack, same order (conntrack -L prints these names). */
enum nfqct_sctp_ct_state {
	NFQCT_SCTP_NONE,
	NFQCT_SCTP_CLOSED,
	NFQCT_SCTP_COOKIE_WAIT,
	NFQCT_SCTP_COOKIE_ECHOED,
	NFQCT_SCTP_ESTABLISHED,
	NFQCT_SCTP_SHUTDOWN_SENT,
	NFQCT_SCTP_SHUTDOWN_RECD,
	NFQCT_SCTP_SHUTDOWN_ACK_SENT,
	NFQCT_SCTP_HEARTBEAT_SENT,
	NFQCT_SCTP_STATE_MAX		/* also "invalid" in the transition table (sIV) */
};

/* Chunk types the state machine knows (RFC 9260). */
enum nfqct_sctp_chunk {
	NFQCT_SCTP_CID_DATA		= 0,
	NFQCT_SCTP_CID_INIT		= 1,
	NFQCT_SCTP_CID_INIT_ACK		= 2,
	NFQCT_SCTP_CID_SACK		= 3,
	NFQCT_SCTP_CID_HEARTBEAT	= 4,
	NFQCT_SCTP_CID_HEARTBEAT_ACK	= 5,
	NFQCT_SCTP_CID_ABORT		= 6,
	NFQCT_SCTP_CID_SHUTDOWN		= 7,
	NFQCT_SCTP_CID_SHUTDOWN_ACK	= 8,
	NFQCT_SCTP_CID_ERROR		= 9,
	NFQCT_SCTP_CID_COOKIE_ECHO	= 10,
	NFQCT_SCTP_CID_COOKIE_ACK	= 11,
	NFQCT_SCTP_CID_SHUTDOWN_COMPLETE = 14,
};

/*
 * Per-entry state, the kernel's struct ip_ct_sctp: the verification tag
 * each direction must carry (as on the wire; 0 = not known yet), whether
 * each direction sent an INIT since the last COOKIE_ACK (collisions), and
 * the multi-homing heartbeat flag with the direction that raised it.
 */
struct nfqct_sctp_state {
	uint32_t vtag[2];	/* [0] original direction, [1] reply; network order */
	uint8_t state;		/* enum nfqct_sctp_ct_state */
	uint8_t init[2];
	uint8_t hb_vtag_failed;	/* SCTP_FLAG_HEARTBEAT_VTAG_FAILED */
	uint8_t last_dir;	/* direction of the heartbeat that failed the tag check */
	uint8_t unconfirmed;	/* set by new(), cleared by the first packet() */
};

/*
 * nfqct_sctp_next_state - one row lookup of the kernel's table: the state
 * after chunk @type in direction @reply from @cur.  Chunks the machine
 * does not know (DATA, SACK, ...) keep @cur.  NFQCT_SCTP_STATE_MAX means
 * invalid.
 */
uint8_t nfqct_sctp_next_state(bool reply, uint8_t cur, uint8_t type);

/* nfqct_sctp_state_name - the name conntrack -L prints for @state ("ESTABLISHED", ...). */
const char *nfqct_sctp_state_name(uint8_t state);

#endif
