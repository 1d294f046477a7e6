/*
 * syncmsg.h - conntrackd's state-replication messages on the wire
 * (conntrack-tools 1.4.x, protocol version 1), written from its facts
 * (include/network.h, src/build.c, src/parse.c, src/network.c), so that a
 * nfqct box and a box running conntrackd replicate to each other.
 *
 * A datagram holds one or more messages back to back.  Every message
 * starts with the 8-byte nethdr:
 *
 *   u8  version << 4 | type     version 1; type NEW 0, UPDATE 1, DESTROY 2,
 *                               expectations 3-5, control 10
 *   u8  flags                   NFQCT_SYNC_F_*
 *   u16 length                  of the whole message, header included
 *   u32 sequence                one counter per sender, for every message
 *
 * A control message with ACK, NACK or RESYNC carries u32 from, u32 to
 * after the header (16 bytes); ALIVE is the header alone.  A flow message
 * (NEW, UPDATE, DESTROY) is followed by attributes (NTA): u16 length (of
 * the attribute, its 4-byte header included, padding excluded), u16 type,
 * the value, padding to 4 bytes.  All integers big-endian; addresses and
 * ports as on the wire; the ICMP id alone travels with its two bytes
 * swapped, as conntrackd sends it from a little-endian machine.
 *
 * Decoding trusts nothing: a datagram whose framing is wrong (a header
 * cut, a length below the header or beyond the datagram) is refused whole
 * before any message is looked at; then each message is decoded in full
 * into a struct nfqct_sync_msg before the caller sees it, so a bad
 * message (unknown attribute type, a size other than the attribute's,
 * an attribute running past its message, a duplicate, a missing address,
 * protocol or port) is dropped alone and never half-applied.  conntrackd's
 * parser refuses unknown attribute types too: zone and counters go only
 * to nfqct peers (NFQCT_SYNC_ENC_NFQCT).
 *
 * Functions return 0 or -errno and log nothing.
 */
#ifndef NFQCT_SYNCMSG_H
#define NFQCT_SYNCMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqct/ct.h"
#include "nfqct/pkt.h"

#define NFQCT_SYNC_VERSION	1
#define NFQCT_SYNC_HDR_LEN	8	/* struct nethdr */
#define NFQCT_SYNC_CTL_LEN	16	/* struct nethdr_ack: header, from, to */
#define NFQCT_SYNC_NTA_HDR_LEN	4	/* struct netattr */
/* The largest flow message nfqct writes (IPv6, every attribute it sends). */
#define NFQCT_SYNC_FLOW_MAX	160

/* nethdr types */
enum nfqct_sync_type {
	NFQCT_SYNC_T_NEW	= 0,
	NFQCT_SYNC_T_UPDATE	= 1,
	NFQCT_SYNC_T_DESTROY	= 2,
	NFQCT_SYNC_T_EXP_NEW	= 3,	/* expectations: not replicated by nfqct */
	NFQCT_SYNC_T_EXP_UPDATE	= 4,
	NFQCT_SYNC_T_EXP_DESTROY = 5,
	NFQCT_SYNC_T_CTL	= 10,
};

/* nethdr flags */
enum nfqct_sync_flags {
	NFQCT_SYNC_F_RESYNC	= 1 << 1,	/* send me your whole table */
	NFQCT_SYNC_F_NACK	= 1 << 2,	/* resend [from, to] */
	NFQCT_SYNC_F_ACK	= 1 << 3,	/* [from, to] arrived */
	NFQCT_SYNC_F_ALIVE	= 1 << 4,	/* keep-alive, nothing to say */
	NFQCT_SYNC_F_HELLO	= 1 << 5,	/* my sequence numbers restarted */
	NFQCT_SYNC_F_HELLO_BACK	= 1 << 6,	/* your hello arrived */
};

/* Attribute types (enum nta_attr).  The sizes are the value's. */
enum nfqct_sync_nta {
	NFQCT_NTA_IPV4		= 0,	/* 8: src, dst */
	NFQCT_NTA_IPV6		= 1,	/* 32: src, dst */
	NFQCT_NTA_L4PROTO	= 2,	/* 1 */
	NFQCT_NTA_PORT		= 3,	/* 4: sport, dport */
	NFQCT_NTA_TCP_STATE	= 4,	/* 1: enum tcp_conntrack */
	NFQCT_NTA_STATUS	= 5,	/* 4: IPS_* */
	NFQCT_NTA_TIMEOUT	= 6,	/* 4: seconds left */
	NFQCT_NTA_MARK		= 7,	/* 4 */
	NFQCT_NTA_MASTER_IPV4	= 8,	/* 8 */
	NFQCT_NTA_MASTER_IPV6	= 9,	/* 32 */
	NFQCT_NTA_MASTER_L4PROTO = 10,	/* 1 */
	NFQCT_NTA_MASTER_PORT	= 11,	/* 4 */
	NFQCT_NTA_SNAT_IPV4	= 12,	/* 4 */
	NFQCT_NTA_DNAT_IPV4	= 13,	/* 4 */
	NFQCT_NTA_SPAT_PORT	= 14,	/* 2 */
	NFQCT_NTA_DPAT_PORT	= 15,	/* 2 */
	NFQCT_NTA_NAT_SEQ_ADJ	= 16,	/* 24 */
	NFQCT_NTA_SCTP_STATE	= 17,	/* 1 */
	NFQCT_NTA_SCTP_VTAG_ORIG = 18,	/* 4 */
	NFQCT_NTA_SCTP_VTAG_REPL = 19,	/* 4 */
	NFQCT_NTA_DCCP_STATE	= 20,	/* 1 */
	NFQCT_NTA_DCCP_ROLE	= 21,	/* 1 */
	NFQCT_NTA_ICMP_TYPE	= 22,	/* 1 */
	NFQCT_NTA_ICMP_CODE	= 23,	/* 1 */
	NFQCT_NTA_ICMP_ID	= 24,	/* 2, bytes swapped (conntrackd's double htons) */
	NFQCT_NTA_TCP_WSCALE_ORIG = 25,	/* 1 */
	NFQCT_NTA_TCP_WSCALE_REPL = 26,	/* 1 */
	NFQCT_NTA_HELPER_NAME	= 27,	/* string, NUL included, up to 16 */
	NFQCT_NTA_LABELS	= 28,	/* u32 words, up to 1024 */
	NFQCT_NTA_SNAT_IPV6	= 29,	/* 16 */
	NFQCT_NTA_DNAT_IPV6	= 30,	/* 16 */
	NFQCT_NTA_SYNPROXY	= 31,	/* 12 */
	NFQCT_NTA_ZONE		= 32,	/* 2; nfqct peers only (conntrackd 1.4.7 has no zone) */
	NFQCT_NTA_STD_MAX	= 32,	/* conntrackd knows the types below this */
	NFQCT_NTA_COUNTERS	= 0x4e51, /* 32: u64 packets[2], bytes[2]; nfqct peers only */
};

/* ct status bits (IPS_*) the messages carry. */
enum {
	NFQCT_IPS_EXPECTED	= 1 << 0,
	NFQCT_IPS_SEEN_REPLY	= 1 << 1,
	NFQCT_IPS_ASSURED	= 1 << 2,
	NFQCT_IPS_CONFIRMED	= 1 << 3,
};

/* Which optional fields of struct nfqct_sync_flow a message had. */
enum {
	NFQCT_SYNC_HAVE_STATUS	= 1 << 0,
	NFQCT_SYNC_HAVE_TIMEOUT	= 1 << 1,
	NFQCT_SYNC_HAVE_MARK	= 1 << 2,
	NFQCT_SYNC_HAVE_TCP	= 1 << 3,	/* tcp_state */
	NFQCT_SYNC_HAVE_WSCALE	= 1 << 4,	/* both wscale values */
	NFQCT_SYNC_HAVE_SCTP	= 1 << 5,	/* sctp_state and both vtags */
	NFQCT_SYNC_HAVE_ZONE	= 1 << 6,
	NFQCT_SYNC_HAVE_COUNTERS = 1 << 7,
	NFQCT_SYNC_HAVE_MASTER	= 1 << 8,	/* a master tuple (not used by nfqct) */
	NFQCT_SYNC_HAVE_NAT	= 1 << 9,	/* NAT attributes (not used by nfqct) */
	NFQCT_SYNC_HAVE_HELPER	= 1 << 10,	/* helper name, in helper[] */
};

/* One flow as a message carries it. */
struct nfqct_sync_flow {
	struct nfqct_tuple tuple;	/* original direction */
	uint32_t have;			/* NFQCT_SYNC_HAVE_* */
	uint32_t status;		/* IPS_* */
	uint32_t timeout_s;
	uint32_t mark;
	uint32_t sctp_vtag[2];		/* network order, as the entry keeps them */
	uint64_t packets[2];
	uint64_t bytes[2];
	uint16_t zone;
	uint8_t tcp_state;		/* enum nfqct_tcp_ct_state */
	uint8_t tcp_wscale[2];
	uint8_t sctp_state;
	char helper[16];		/* NUL-terminated */
};

/* One decoded message. */
struct nfqct_sync_msg {
	uint8_t type;			/* enum nfqct_sync_type */
	uint8_t flags;			/* NFQCT_SYNC_F_* */
	uint16_t len;			/* bytes on the wire */
	uint32_t seq;
	uint32_t from, to;		/* ACK, NACK, RESYNC */
	struct nfqct_sync_flow flow;	/* NEW, UPDATE, DESTROY */
};

/* ---- decoding ---- */

/*
 * nfqct_sync_frame - check the framing of a datagram of @len bytes at
 * @buf: every message header whole, version 1, each length at least the
 * header's (16 for ACK/NACK/RESYNC) and within the datagram.  Returns the
 * number of messages (at least 1), -EBADMSG (framing broken: drop the
 * datagram whole) or -EPROTONOSUPPORT (a message of another version).
 */
int nfqct_sync_frame(const uint8_t *buf, size_t len);

/*
 * nfqct_sync_decode - decode the message at @buf + *@off of a datagram
 * that nfqct_sync_frame() accepted, into @m, and move *@off past it.
 * Returns 0; -ENODATA at the end of the datagram; -EOPNOTSUPP for an
 * expectation message (well framed, skipped); -EPROTO for a message whose
 * header is right (m->type, m->flags, m->seq filled: FTFW may count its
 * sequence number) but whose body is not: flags not allowed for its type,
 * an ACK/NACK range that runs backwards, an unknown or duplicate
 * attribute, a wrong size, a missing address, protocol, port or ICMP
 * field, a TCP state out of range.  m->flow is then not to be used.
 */
int nfqct_sync_decode(const uint8_t *buf, size_t len, size_t *off, struct nfqct_sync_msg *m);

/* ---- encoding ---- */

enum {
	NFQCT_SYNC_ENC_NFQCT	= 1 << 0,	/* the peer is nfqct: zone, counters */
	NFQCT_SYNC_ENC_NO_TIMEOUT = 1 << 1,	/* leave the timeout out (CommitTimeout) */
};

/*
 * nfqct_sync_put_flow - append a flow message of @type (NEW, UPDATE,
 * DESTROY) with @seq and @flags (HELLO, HELLO_BACK or 0) for @f at
 * @buf + *@len (@cap bytes of room in all), as conntrackd's ct2msg() lays
 * it out: address group, status, protocol, then the protocol's fields
 * (TCP: ports, state; UDP, UDP-Lite, DCCP: ports; SCTP: ports, state, tags;
 * ICMP, ICMPv6: type, code, id), timeout, mark; with
 * NFQCT_SYNC_ENC_NFQCT also zone (when not 0) and counters (when @f has
 * them).  Fields @f->have lacks are left out.  Returns 0 with *@len
 * advanced, -ENOSPC (nothing written), -EINVAL (bad @type or family).
 */
int nfqct_sync_put_flow(uint8_t *buf, size_t cap, size_t *len, uint8_t type, uint32_t seq,
			uint8_t flags, const struct nfqct_sync_flow *f, unsigned int enc);

/*
 * nfqct_sync_put_ctl - append a control message: @flags among RESYNC,
 * NACK, ACK (16 bytes, with @from and @to) or ALIVE (8 bytes), plus
 * HELLO/HELLO_BACK.  Returns 0, -ENOSPC or -EINVAL (no control flag).
 */
int nfqct_sync_put_ctl(uint8_t *buf, size_t cap, size_t *len, uint8_t flags, uint32_t seq,
		       uint32_t from, uint32_t to);

/* ---- between the table and the wire ---- */

/*
 * nfqct_sync_flow_from_entry - the message fields of the exported entry
 * @e: tuple, zone, mark, status (CONFIRMED, SEEN_REPLY, ASSURED), the
 * timeout in seconds (rounded up), the TCP state or the SCTP state and
 * tags, and the counters when the entry has accounting.
 */
void nfqct_sync_flow_from_entry(const struct nfqct_ct_entry *e, struct nfqct_sync_flow *f);

/*
 * nfqct_sync_flow_to_entry - an entry for nfqct_ct_import() from @f:
 * tuple, zone, mark, SEEN_REPLY and ASSURED, counters (ACCT) when given,
 * the timeout (@default_ms when the message had none, conntrackd's
 * CommitTimeout), the tracker's state: TCP picked up mid-stream
 * (nfqct_tcp_pickup(): the window history is the peer's, so no window
 * checks until both sides were seen), SCTP's state and tags.  Returns 0,
 * or -EINVAL (no timeout at all, a TCP message without its state).
 */
int nfqct_sync_flow_to_entry(const struct nfqct_sync_flow *f, uint64_t default_ms,
			     struct nfqct_ct_entry *e);

/* nfqct_sync_type_name - "NEW", "UPDATE", "DESTROY", "CTL", ... for logs. */
const char *nfqct_sync_type_name(uint8_t type);

#endif
