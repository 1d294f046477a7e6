/*
 * proto_sctp.c - the SCTP tracker (Linux 6.x nf_conntrack_proto_sctp.c:
 * sctp_conntracks[], do_basic_checks(), sctp_new(),
 * nf_conntrack_sctp_packet()).
 *
 * An association is tracked chunk by chunk: each chunk of a packet moves
 * the state through the kernel's transition table, in order.  A packet is
 * INVALID when its chunks are malformed (a zero length, COOKIE_ECHO or
 * COOKIE_ACK not first, INIT, INIT_ACK or SHUTDOWN_COMPLETE not alone),
 * when its verification tag is not the one its direction must carry
 * (RFC 9260 8.5, with the exceptions of 8.5.1), or when the table says so.
 * Reaching ESTABLISHED sets [ASSURED]; the timeout is the new state's.
 *
 * Multi-homing: an association seen first on another path starts with a
 * HEARTBEAT (HEARTBEAT_SENT) and learns its tags from the HEARTBEAT and its
 * HEARTBEAT_ACK; a HEARTBEAT whose tag differs on a known entry is let
 * through without refresh (IGNORE), and the HEARTBEAT_ACK answering it from
 * the other direction adopts the new tags, as the kernel does after a
 * peer restart.
 *
 * Where nfqct differs: the kernel walks every chunk of the packet; the
 * tracker sees only the bytes the copy range gave it, so chunks past it
 * are not seen (nfqct.copy_range, default 512: state-changing chunks are
 * small and come first or alone, but a SHUTDOWN bundled after a large
 * DATA chunk would be missed).  The SCTP
 * CRC32c is verified before the tracker, with the other checksums (csum.h).
 */
#include <stddef.h>
#include <string.h>

#include "nfqct/l4proto.h"

#define CHUNK_HDR	4	/* type, flags, length */
#define INIT_HDR	16	/* init tag, a_rwnd, streams, initial TSN */
#define CHUNK_FLAG_T	0x01	/* ABORT, SHUTDOWN_COMPLETE: the sender's own tag reflected */

#define sNO NFQCT_SCTP_NONE
#define sCL NFQCT_SCTP_CLOSED
#define sCW NFQCT_SCTP_COOKIE_WAIT
#define sCE NFQCT_SCTP_COOKIE_ECHOED
#define sES NFQCT_SCTP_ESTABLISHED
#define sSS NFQCT_SCTP_SHUTDOWN_SENT
#define sSR NFQCT_SCTP_SHUTDOWN_RECD
#define sSA NFQCT_SCTP_SHUTDOWN_ACK_SENT
#define sHS NFQCT_SCTP_HEARTBEAT_SENT
#define sIV NFQCT_SCTP_STATE_MAX

/* The kernel's table, the facts of it: [direction][chunk row][current state]. */
static const uint8_t sctp_table[2][11][NFQCT_SCTP_STATE_MAX] = {
	{	/* original direction:  sNO, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS */
		/* init          */ { sCL, sCL, sCW, sCE, sES, sCL, sCL, sSA, sCW },
		/* init_ack      */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sCL },
		/* abort         */ { sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
		/* shutdown      */ { sCL, sCL, sCW, sCE, sSS, sSS, sSR, sSA, sCL },
		/* shutdown_ack  */ { sSA, sCL, sCW, sCE, sES, sSA, sSA, sSA, sSA },
		/* error         */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sCL },
		/* cookie_echo   */ { sCL, sCL, sCE, sCE, sES, sSS, sSR, sSA, sCL },
		/* cookie_ack    */ { sCL, sCL, sCW, sES, sES, sSS, sSR, sSA, sCL },
		/* shutdown_comp */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sCL, sCL },
		/* heartbeat     */ { sHS, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS },
		/* heartbeat_ack */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS },
	},
	{	/* reply direction:     sNO, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS */
		/* init          */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sIV },
		/* init_ack      */ { sIV, sCW, sCW, sCE, sES, sSS, sSR, sSA, sIV },
		/* abort         */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sIV },
		/* shutdown      */ { sIV, sCL, sCW, sCE, sSR, sSS, sSR, sSA, sIV },
		/* shutdown_ack  */ { sIV, sCL, sCW, sCE, sES, sSA, sSA, sSA, sIV },
		/* error         */ { sIV, sCL, sCW, sCL, sES, sSS, sSR, sSA, sIV },
		/* cookie_echo   */ { sIV, sCL, sCE, sCE, sES, sSS, sSR, sSA, sIV },
		/* cookie_ack    */ { sIV, sCL, sCW, sES, sES, sSS, sSR, sSA, sIV },
		/* shutdown_comp */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sCL, sIV },
		/* heartbeat     */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS },
		/* heartbeat_ack */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sES },
	},
};

static const char *const sctp_state_names[NFQCT_SCTP_STATE_MAX] = {
	[sNO] = "NONE",
	[sCL] = "CLOSED",
	[sCW] = "COOKIE_WAIT",
	[sCE] = "COOKIE_ECHOED",
	[sES] = "ESTABLISHED",
	[sSS] = "SHUTDOWN_SENT",
	[sSR] = "SHUTDOWN_RECD",
	[sSA] = "SHUTDOWN_ACK_SENT",
	[sHS] = "HEARTBEAT_SENT",
};

/* The timeout setting of each state; NONE uses CLOSED's (nf_conntrack_sctp_init_net). */
static const uint8_t sctp_timeout_of[NFQCT_SCTP_STATE_MAX] = {
	[sNO] = NFQCT_TO_SCTP_CLOSED,
	[sCL] = NFQCT_TO_SCTP_CLOSED,
	[sCW] = NFQCT_TO_SCTP_COOKIE_WAIT,
	[sCE] = NFQCT_TO_SCTP_COOKIE_ECHOED,
	[sES] = NFQCT_TO_SCTP_ESTABLISHED,
	[sSS] = NFQCT_TO_SCTP_SHUTDOWN_SENT,
	[sSR] = NFQCT_TO_SCTP_SHUTDOWN_RECD,
	[sSA] = NFQCT_TO_SCTP_SHUTDOWN_ACK_SENT,
	[sHS] = NFQCT_TO_SCTP_HEARTBEAT_SENT,
};

const char *nfqct_sctp_state_name(uint8_t state)
{
	if (state >= NFQCT_SCTP_STATE_MAX)
		return "UNKNOWN";
	return sctp_state_names[state];
}

uint8_t nfqct_sctp_next_state(bool reply, uint8_t cur, uint8_t type)
{
	int row;

	if (cur >= NFQCT_SCTP_STATE_MAX)
		return sIV;
	switch (type) {
	case NFQCT_SCTP_CID_INIT:		row = 0; break;
	case NFQCT_SCTP_CID_INIT_ACK:		row = 1; break;
	case NFQCT_SCTP_CID_ABORT:		row = 2; break;
	case NFQCT_SCTP_CID_SHUTDOWN:		row = 3; break;
	case NFQCT_SCTP_CID_SHUTDOWN_ACK:	row = 4; break;
	case NFQCT_SCTP_CID_ERROR:		row = 5; break;
	case NFQCT_SCTP_CID_COOKIE_ECHO:	row = 6; break;
	case NFQCT_SCTP_CID_COOKIE_ACK:		row = 7; break;
	case NFQCT_SCTP_CID_SHUTDOWN_COMPLETE:	row = 8; break;
	case NFQCT_SCTP_CID_HEARTBEAT:		row = 9; break;
	case NFQCT_SCTP_CID_HEARTBEAT_ACK:	row = 10; break;
	default:
		return cur;	/* DATA, SACK, ...: no state change */
	}
	return sctp_table[reply][row][cur];
}

/* ---- walking the chunks ---- */

struct chunk_iter {
	const uint8_t *l4;
	uint32_t end;		/* bytes we may read: the packet's, within the copy */
	uint32_t off;		/* current chunk */
};

static void chunks_start(struct chunk_iter *it, const struct nfqct_pkt *pkt)
{
	it->l4 = pkt->l4;
	it->end = pkt->l4caplen < pkt->l4len ? pkt->l4caplen : pkt->l4len;
	it->off = 12;	/* after the common header */
}

/* The chunk at it->off, or NULL once no whole chunk header is left
 * (for_each_sctp_chunk stops where skb_header_pointer fails). */
static const uint8_t *chunks_get(const struct chunk_iter *it)
{
	if (it->off >= it->end || it->end - it->off < CHUNK_HDR)
		return NULL;
	return it->l4 + it->off;
}

static uint16_t chunk_len(const uint8_t *c)
{
	return (uint16_t)(c[2] << 8 | c[3]);
}

static void chunks_next(struct chunk_iter *it, const uint8_t *c)
{
	it->off += ((uint32_t)chunk_len(c) + 3) & ~3u;
}

/* The init tag of an INIT/INIT_ACK chunk at @c, if its header is present. */
static bool chunk_init_tag(const struct chunk_iter *it, const uint8_t *c, uint32_t *tag)
{
	uint32_t at = (uint32_t)(c - it->l4) + CHUNK_HDR;

	if (at > it->end || it->end - at < INIT_HDR)
		return false;
	memcpy(tag, it->l4 + at, 4);
	return true;
}

struct chunk_map {
	uint32_t bits[8];	/* one bit per chunk type */
};

static inline void map_set(struct chunk_map *m, uint8_t t) { m->bits[t >> 5] |= 1u << (t & 31); }
static inline bool map_has(const struct chunk_map *m, uint8_t t) { return m->bits[t >> 5] >> (t & 31) & 1; }

/*
 * do_basic_checks(): false when a chunk has length 0, COOKIE_ECHO or
 * COOKIE_ACK is not the first chunk, or INIT, INIT_ACK or
 * SHUTDOWN_COMPLETE is not the only one, or there is no chunk at all.
 */
static bool basic_checks(const struct nfqct_pkt *pkt, struct chunk_map *map)
{
	struct chunk_iter it;
	const uint8_t *c;
	unsigned int count = 0;
	bool alone = false;

	memset(map, 0, sizeof(*map));
	chunks_start(&it, pkt);
	for (; (c = chunks_get(&it)) != NULL; chunks_next(&it, c), count++) {
		if (c[0] == NFQCT_SCTP_CID_INIT || c[0] == NFQCT_SCTP_CID_INIT_ACK ||
		    c[0] == NFQCT_SCTP_CID_SHUTDOWN_COMPLETE)
			alone = true;
		if (((c[0] == NFQCT_SCTP_CID_COOKIE_ACK || c[0] == NFQCT_SCTP_CID_COOKIE_ECHO ||
		      alone) && count != 0) || chunk_len(c) == 0)
			return false;
		map_set(map, c[0]);
	}
	return count != 0;
}

static uint32_t pkt_vtag(const struct nfqct_pkt *pkt)
{
	uint32_t v;

	memcpy(&v, pkt->l4 + 4, 4);
	return v;
}

/* ---- the ops ---- */

/*
 * sctp_new(), with the checks nf_conntrack_sctp_packet() makes before it
 * on an unconfirmed entry: every chunk must be a valid first chunk from
 * NONE; the tag the reply must carry comes from the INIT (whose own tag
 * must be 0), or is the packet's (out of the blue: SHUTDOWN_ACK, ...); a
 * HEARTBEAT gives the original direction's tag (another path).
 */
static bool sctp_op_new(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
			const struct nfqct_l4_ctx *ctx)
{
	struct nfqct_sctp_state *s = &st->sctp;
	uint32_t vtag = pkt_vtag(pkt);
	struct chunk_map map;
	struct chunk_iter it;
	const uint8_t *c;

	(void)ctx;
	if (!basic_checks(pkt, &map))
		return false;
	/* out of the blue with these chunks: discard (RFC 9260 8.4) */
	if (map_has(&map, NFQCT_SCTP_CID_ABORT) || map_has(&map, NFQCT_SCTP_CID_SHUTDOWN_COMPLETE) ||
	    map_has(&map, NFQCT_SCTP_CID_COOKIE_ACK))
		return false;

	memset(s, 0, sizeof(*s));
	chunks_start(&it, pkt);
	for (; (c = chunks_get(&it)) != NULL; chunks_next(&it, c)) {
		uint8_t ns = nfqct_sctp_next_state(false, sNO, c[0]);

		if (ns == sNO || ns == sIV)
			return false;
		if (c[0] == NFQCT_SCTP_CID_INIT) {
			uint32_t tag;

			if (vtag != 0 || !chunk_init_tag(&it, c, &tag))
				return false;
			s->vtag[1] = tag;
		} else if (c[0] == NFQCT_SCTP_CID_HEARTBEAT) {
			s->vtag[0] = vtag;
		} else {
			s->vtag[1] = vtag;
		}
	}
	s->state = sNO;
	s->unconfirmed = 1;
	return true;
}

/* The T flag says the tag is the peer's own (reflected), not ours. */
static bool tag_ok_t(const struct nfqct_sctp_state *s, const uint8_t *c, uint32_t vtag, int dir)
{
	return (c[1] & CHUNK_FLAG_T) ? vtag == s->vtag[!dir] : vtag == s->vtag[dir];
}

/*
 * Per-chunk tag rules of 8.5.1 and the heartbeat rules for multi-homing.
 * Returns 1 to go on with the state machine, 0 to skip this chunk
 * (heartbeat on a new path, *ignore set), -1 for INVALID.
 */
static int chunk_tags(struct nfqct_sctp_state *s, const uint8_t *c, uint32_t vtag, int dir,
		      const struct chunk_map *map, bool *ignore)
{
	switch (c[0]) {
	case NFQCT_SCTP_CID_INIT:
		return vtag == 0 ? 1 : -1;			/* (A) */
	case NFQCT_SCTP_CID_ABORT:				/* (B) */
	case NFQCT_SCTP_CID_SHUTDOWN_COMPLETE:			/* (C) */
		return tag_ok_t(s, c, vtag, dir) ? 1 : -1;
	case NFQCT_SCTP_CID_COOKIE_ECHO:			/* (D) */
		return vtag == s->vtag[dir] ? 1 : -1;
	case NFQCT_SCTP_CID_COOKIE_ACK:
		s->init[0] = s->init[1] = 0;
		return 1;
	case NFQCT_SCTP_CID_HEARTBEAT:
		if (s->vtag[dir] == 0) {
			s->vtag[dir] = vtag;
		} else if (vtag != s->vtag[dir]) {
			if (map_has(map, NFQCT_SCTP_CID_DATA) || *ignore)
				return -1;
			/* maybe a restarted peer: remember, let it through */
			s->hb_vtag_failed = 1;
			s->last_dir = (uint8_t)dir;
			*ignore = true;
			return 0;
		} else {
			s->hb_vtag_failed = 0;
		}
		return 1;
	case NFQCT_SCTP_CID_HEARTBEAT_ACK:
		if (s->vtag[dir] == 0) {
			s->vtag[dir] = vtag;
		} else if (vtag != s->vtag[dir]) {
			if (map_has(map, NFQCT_SCTP_CID_DATA) || *ignore)
				return -1;
			/* only as the answer to a failed HEARTBEAT from the other side */
			if (!s->hb_vtag_failed || s->last_dir == dir)
				return -1;
			s->hb_vtag_failed = 0;
			s->vtag[dir] = vtag;
			s->vtag[!dir] = 0;
		} else {
			s->hb_vtag_failed = 0;
		}
		return 1;
	default:
		return 1;
	}
}

static void sctp_op_packet(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
			   const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res)
{
	struct nfqct_sctp_state *s = &st->sctp;
	int dir = ctx->reply ? 1 : 0;
	uint32_t vtag = pkt_vtag(pkt);
	bool confirmed = !s->unconfirmed;
	uint8_t old = sNO, ns = sNO;
	bool ignore = false;
	struct chunk_map map;
	struct chunk_iter it;
	const uint8_t *c;

	*res = (struct nfqct_l4_result){ .verdict = NFQCT_L4_INVALID };
	s->unconfirmed = 0;
	if (!basic_checks(pkt, &map)) {
		res->reason = "SCTP: bad chunks";
		return;
	}
	/* 8.5: the tag must be this direction's, except for the chunks of 8.5.1 */
	if (!map_has(&map, NFQCT_SCTP_CID_INIT) && !map_has(&map, NFQCT_SCTP_CID_SHUTDOWN_COMPLETE) &&
	    !map_has(&map, NFQCT_SCTP_CID_COOKIE_ECHO) && !map_has(&map, NFQCT_SCTP_CID_ABORT) &&
	    !map_has(&map, NFQCT_SCTP_CID_SHUTDOWN_ACK) && !map_has(&map, NFQCT_SCTP_CID_HEARTBEAT) &&
	    !map_has(&map, NFQCT_SCTP_CID_HEARTBEAT_ACK) && vtag != s->vtag[dir]) {
		res->reason = "SCTP: verification tag";
		return;
	}

	chunks_start(&it, pkt);
	for (; (c = chunks_get(&it)) != NULL; chunks_next(&it, c)) {
		int r = chunk_tags(s, c, vtag, dir, &map, &ignore);

		if (r < 0) {
			res->reason = "SCTP: verification tag";
			return;
		}
		if (r == 0)
			continue;
		old = s->state;
		ns = nfqct_sctp_next_state(dir, old, c[0]);
		if (ns == sIV) {
			res->reason = "SCTP: invalid chunk for the state";
			return;
		}
		if (c[0] == NFQCT_SCTP_CID_INIT) {
			uint32_t tag;

			if (!chunk_init_tag(&it, c, &tag)) {
				res->reason = "SCTP: truncated INIT";
				return;
			}
			if (s->init[dir] && s->init[!dir])
				s->init[!dir] = 0;
			s->init[dir] = 1;
			s->vtag[!dir] = tag;
			/* a retransmitted INIT must not keep a closed entry alive */
			if (ns == sCL && old == sCL && confirmed)
				ignore = true;
		} else if (c[0] == NFQCT_SCTP_CID_INIT_ACK) {
			uint32_t tag, known = s->vtag[!dir];

			if (!chunk_init_tag(&it, c, &tag)) {
				res->reason = "SCTP: truncated INIT_ACK";
				return;
			}
			if ((!s->init[!dir] && known && known != tag) ||
			    (s->init[dir] && s->init[!dir] && known != tag)) {	/* collision */
				res->reason = "SCTP: INIT_ACK tag";
				return;
			}
			s->vtag[!dir] = tag;
		}
		s->state = ns;
		if (old != ns && ns == sES)
			res->set_assured = true;
	}

	/* accepted: the state changes stand; an ignored packet refreshes nothing */
	res->verdict = ignore ? NFQCT_L4_IGNORE : NFQCT_L4_ACCEPT;
	if (ignore)
		res->reason = "SCTP: heartbeat on a new path or INIT retransmission";
	/* the last chunk's new state, as the kernel's timeouts[new_state] */
	res->timeout_s = ctx->s->timeout[sctp_timeout_of[ns]];
}

static const char *sctp_op_state_name(const union nfqct_l4_state *st)
{
	return nfqct_sctp_state_name(st->sctp.state);
}

const struct nfqct_l4proto nfqct_l4proto_sctp = {
	.l4proto	= IPPROTO_SCTP,
	.allow_clash	= false,
	.new		= sctp_op_new,
	.packet		= sctp_op_packet,
	.state_name	= sctp_op_state_name,
};
