/*
 * proto_tcp.c - the TCP tracker.
 *
 * A reimplementation of the facts of Linux 6.x net/netfilter/
 * nf_conntrack_proto_tcp.c (read in the 6.1 stable tree): the state table,
 * the "ignored packet" bookkeeping that lets conntrack get back in sync
 * with the end points, the window tracking of tcp_in_window() and the
 * choice of timeouts.  Differences from the kernel, on purpose:
 *  - no NAT sequence adjustment, no synproxy, no nf_conntrack_tcp_no_window_check;
 *  - the per-direction flags use our own bit values and live in bit fields;
 *  - the verdict (l4proto.h) says what the kernel does to the entry
 *    (refresh, kill, repeat, leave alone) instead of doing it.
 */
#include <stddef.h>
#include <string.h>

#include "nfqct/l4proto.h"
#include "nfqct/proto_tcp.h"

/* TCP header flag bits (byte 13). */
#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_PSH	0x08
#define TH_ACK	0x10
#define TH_URG	0x20
#define TH_ECE	0x40
#define TH_CWR	0x80

/* It lives in every TCP entry. */
_Static_assert(sizeof(struct nfqct_tcp_state) <= 52, "struct nfqct_tcp_state grew");

#define TCP_HDR_MIN	20
#define TCP_MAX_WSCALE	14	/* RFC 7323 */

/* Option kinds and lengths we look at. */
#define OPT_EOL		0
#define OPT_NOP		1
#define OPT_WS		3
#define OPT_SACK_PERM	4
#define OPT_SACK	5
#define OPT_TS		8
#define OPTLEN_WS	3
#define OPTLEN_SACK_PERM 2
#define OPTLEN_TS	10

/* Packet classes: the second index of the state table. */
enum tcp_class {
	CL_SYN,
	CL_SYNACK,
	CL_FIN,
	CL_ACK,
	CL_RST,
	CL_NONE,
	CL_MAX
};

/* Per-direction flags (pflags0/pflags1). */
#define PF_WSCALE	0x01	/* sent the window scale option */
#define PF_SACK_PERM	0x02	/* sent SACK-permitted */
#define PF_CLOSE_INIT	0x04	/* this side sent the first FIN */
#define PF_LIBERAL	0x08	/* no window checks for this side (loose pick-up) */
#define PF_UNACKED	0x10	/* sent data the other side has not acknowledged */
#define PF_MAXACK	0x20	/* peer.maxack is valid */

/* last_flags: what the last ignored SYN carried, and two markers. */
#define LF_WSCALE	0x1
#define LF_SACK_PERM	0x2
#define LF_CHALLENGE	0x4	/* ignored SYN in LAST_ACK: expect an RFC 5961 challenge ACK */
#define LF_SIMOPEN	0x8	/* simultaneous open seen (SYN_SENT2) */

/* Table outcomes beyond the real states. */
#define S_INVALID	NFQCT_TCP_STATE_MAX
#define S_IGNORE	(NFQCT_TCP_STATE_MAX + 1)

#define sNO NFQCT_TCP_NONE
#define sSS NFQCT_TCP_SYN_SENT
#define sSR NFQCT_TCP_SYN_RECV
#define sES NFQCT_TCP_ESTABLISHED
#define sFW NFQCT_TCP_FIN_WAIT
#define sCW NFQCT_TCP_CLOSE_WAIT
#define sLA NFQCT_TCP_LAST_ACK
#define sTW NFQCT_TCP_TIME_WAIT
#define sCL NFQCT_TCP_CLOSE
#define sS2 NFQCT_TCP_SYN_SENT2
#define sIV S_INVALID
#define sIG S_IGNORE

/*
 * The next state by direction, packet class and current state (the
 * kernel's tcp_conntracks[][][] of 6.x; the kernel's comments explain each
 * cell).  Columns: NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT
 * LAST_ACK TIME_WAIT CLOSE SYN_SENT2.
 */
static const uint8_t tcp_next[2][CL_MAX][NFQCT_TCP_STATE_MAX] = {
	{	/* original direction */
		[CL_SYN]    = { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },
		[CL_SYNACK] = { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },
		[CL_FIN]    = { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
		[CL_ACK]    = { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },
		[CL_RST]    = { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
		[CL_NONE]   = { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	},
	{	/* reply direction */
		[CL_SYN]    = { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },
		[CL_SYNACK] = { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },
		[CL_FIN]    = { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
		[CL_ACK]    = { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },
		[CL_RST]    = { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
		[CL_NONE]   = { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	},
};

/* Timeout of each state (NONE as SYN_SENT, as the kernel's timeouts[0]). */
static const uint8_t tcp_state_timeout[NFQCT_TCP_STATE_MAX] = {
	[NFQCT_TCP_NONE]	= NFQCT_TO_TCP_SYN_SENT,
	[NFQCT_TCP_SYN_SENT]	= NFQCT_TO_TCP_SYN_SENT,
	[NFQCT_TCP_SYN_RECV]	= NFQCT_TO_TCP_SYN_RECV,
	[NFQCT_TCP_ESTABLISHED]	= NFQCT_TO_TCP_ESTABLISHED,
	[NFQCT_TCP_FIN_WAIT]	= NFQCT_TO_TCP_FIN_WAIT,
	[NFQCT_TCP_CLOSE_WAIT]	= NFQCT_TO_TCP_CLOSE_WAIT,
	[NFQCT_TCP_LAST_ACK]	= NFQCT_TO_TCP_LAST_ACK,
	[NFQCT_TCP_TIME_WAIT]	= NFQCT_TO_TCP_TIME_WAIT,
	[NFQCT_TCP_CLOSE]	= NFQCT_TO_TCP_CLOSE,
	[NFQCT_TCP_SYN_SENT2]	= NFQCT_TO_TCP_SYN_SENT2,
};

static const char *const tcp_state_names[NFQCT_TCP_STATE_MAX] = {
	[NFQCT_TCP_NONE]	= "NONE",
	[NFQCT_TCP_SYN_SENT]	= "SYN_SENT",
	[NFQCT_TCP_SYN_RECV]	= "SYN_RECV",
	[NFQCT_TCP_ESTABLISHED]	= "ESTABLISHED",
	[NFQCT_TCP_FIN_WAIT]	= "FIN_WAIT",
	[NFQCT_TCP_CLOSE_WAIT]	= "CLOSE_WAIT",
	[NFQCT_TCP_LAST_ACK]	= "LAST_ACK",
	[NFQCT_TCP_TIME_WAIT]	= "TIME_WAIT",
	[NFQCT_TCP_CLOSE]	= "CLOSE",
	[NFQCT_TCP_SYN_SENT2]	= "SYN_SENT2",
};

/*
 * The flag combinations a segment may carry, once PSH, ECE and CWR are
 * masked off (the kernel's tcp_valid_flags[]): everything else, e.g.
 * SYN+FIN, SYN+RST, a bare FIN or no flag at all, is INVALID.
 */
static bool tcp_flags_valid(uint8_t flags)
{
	switch (flags & (uint8_t)~(TH_PSH | TH_ECE | TH_CWR)) {
	case TH_SYN:
	case TH_SYN | TH_URG:
	case TH_SYN | TH_ACK:
	case TH_RST:
	case TH_RST | TH_ACK:
	case TH_FIN | TH_ACK:
	case TH_FIN | TH_ACK | TH_URG:
	case TH_ACK:
	case TH_ACK | TH_URG:
		return true;
	default:
		return false;
	}
}

/* One segment, as read from pkt->l4 (host order). */
struct tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t end;		/* seq + data length + SYN + FIN */
	uint16_t win;		/* raw, unscaled */
	uint8_t flags;
	uint8_t cls;		/* enum tcp_class */
	const uint8_t *opt;	/* options, optlen bytes */
	uint32_t optlen;
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sequence-space comparisons (the kernel's before()/after()). */
static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return seq_before(b, a);
}

static uint8_t tcp_class_of(uint8_t flags)
{
	if (flags & TH_RST)
		return CL_RST;
	if (flags & TH_SYN)
		return (flags & TH_ACK) ? CL_SYNACK : CL_SYN;
	if (flags & TH_FIN)
		return CL_FIN;
	if (flags & TH_ACK)
		return CL_ACK;
	return CL_NONE;
}

/*
 * tcp_seg_read - fill @sg from @pkt; returns NULL, or why the segment is
 * invalid (the kernel's tcp_error(): truncated header, bad flags).
 */
static const char *tcp_seg_read(struct tcp_seg *sg, const struct nfqct_pkt *pkt)
{
	const uint8_t *th = pkt->l4;
	uint32_t hdrlen, caplen;

	if (!th || pkt->l4caplen < TCP_HDR_MIN)
		return "truncated packet";
	hdrlen = (uint32_t)(th[12] >> 4) * 4;
	if (hdrlen < TCP_HDR_MIN || pkt->l4len < hdrlen)
		return "truncated packet";
	sg->flags = th[13];
	if (!tcp_flags_valid(sg->flags))
		return "invalid tcp flag combination";

	sg->seq = get_be32(th + 4);
	sg->ack = get_be32(th + 8);
	sg->win = (uint16_t)(th[14] << 8 | th[15]);
	sg->cls = tcp_class_of(sg->flags);
	sg->end = sg->seq + (pkt->l4len - hdrlen) + !!(sg->flags & TH_SYN) + !!(sg->flags & TH_FIN);
	/* The parser guarantees the whole header is present; stay inside what is. */
	caplen = pkt->l4caplen < hdrlen ? pkt->l4caplen : hdrlen;
	sg->opt = th + TCP_HDR_MIN;
	sg->optlen = caplen - TCP_HDR_MIN;
	return NULL;
}

/* Per-direction bit-field accessors. */
static unsigned int pf_get(const struct nfqct_tcp_state *st, unsigned int dir)
{
	return dir ? st->pflags1 : st->pflags0;
}

static void pf_set(struct nfqct_tcp_state *st, unsigned int dir, unsigned int v)
{
	if (dir)
		st->pflags1 = v & 0x3f;
	else
		st->pflags0 = v & 0x3f;
}

static unsigned int scale_get(const struct nfqct_tcp_state *st, unsigned int dir)
{
	return dir ? st->scale1 : st->scale0;
}

static void scale_set(struct nfqct_tcp_state *st, unsigned int dir, unsigned int v)
{
	if (dir)
		st->scale1 = v & 0xf;
	else
		st->scale0 = v & 0xf;
}

/*
 * tcp_opt_next - step over one option at *pos; returns its kind and sets
 * *len (0 for EOL/NOP), or -1 at the end or at a malformed option (the
 * kernel stops parsing there).
 */
static int tcp_opt_next(const struct tcp_seg *sg, uint32_t *pos, uint32_t *len, const uint8_t **val)
{
	uint32_t left = sg->optlen - *pos;
	uint8_t kind, size;

	if (*pos >= sg->optlen)
		return -1;
	kind = sg->opt[*pos];
	if (kind == OPT_EOL)
		return -1;
	if (kind == OPT_NOP) {
		(*pos)++;
		*len = 0;
		return kind;
	}
	if (left < 2)
		return -1;
	size = sg->opt[*pos + 1];
	if (size < 2 || size > left)	/* silly or partial option */
		return -1;
	*val = sg->opt + *pos + 2;
	*len = size;
	*pos += size;
	return kind;
}

/*
 * tcp_read_options - window scale and SACK-permitted of a SYN into
 * *scale / *pflags (the kernel's tcp_options()).  A header without options
 * leaves both alone, as in the kernel.
 */
static void tcp_read_options(const struct tcp_seg *sg, unsigned int *scale, unsigned int *pflags)
{
	const uint8_t *val = NULL;
	uint32_t pos = 0, len;
	int kind;

	if (sg->optlen == 0)
		return;
	*scale = 0;
	*pflags &= PF_LIBERAL;
	while ((kind = tcp_opt_next(sg, &pos, &len, &val)) >= 0) {
		if (kind == OPT_SACK_PERM && len == OPTLEN_SACK_PERM) {
			*pflags |= PF_SACK_PERM;
		} else if (kind == OPT_WS && len == OPTLEN_WS) {
			*scale = val[0] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : val[0];
			*pflags |= PF_WSCALE;
		}
	}
}

/* tcp_read_sack - raise *sack to the highest right edge of the first SACK option. */
static void tcp_read_sack(const struct tcp_seg *sg, uint32_t *sack)
{
	static const uint8_t ts_only[4] = { OPT_NOP, OPT_NOP, OPT_TS, OPTLEN_TS };
	const uint8_t *val = NULL;
	uint32_t pos = 0, len, i;
	int kind;

	/* The common timestamp-only layout carries no SACK. */
	if (sg->optlen == 12 && memcmp(sg->opt, ts_only, sizeof(ts_only)) == 0)
		return;
	while ((kind = tcp_opt_next(sg, &pos, &len, &val)) >= 0) {
		if (kind != OPT_SACK || len < 2 + 8 || (len - 2) % 8 != 0)
			continue;
		for (i = 0; i < len - 2; i += 8) {
			uint32_t right = get_be32(val + i + 4);

			if (seq_after(right, *sack))
				*sack = right;
		}
		return;
	}
}

/*
 * tcp_init_sender - (re)start the window data of @dir from a SYN or
 * SYN/ACK.  Window scaling is on only when both sides offered it
 * (RFC 7323), which is known when the reply's SYN/ACK passes.
 */
static void tcp_init_sender(struct nfqct_tcp_state *st, unsigned int dir, const struct tcp_seg *sg)
{
	struct nfqct_tcp_peer *snd = &st->peer[dir];
	unsigned int scale = scale_get(st, dir), pf = pf_get(st, dir);

	snd->end = snd->maxend = sg->end;
	snd->maxwin = sg->win ? sg->win : 1;
	tcp_read_options(sg, &scale, &pf);
	scale_set(st, dir, scale);
	pf_set(st, dir, pf);
	if (dir == 1 && !((pf_get(st, 0) & PF_WSCALE) && (pf & PF_WSCALE))) {
		scale_set(st, 0, 0);
		scale_set(st, 1, 0);
	}
}

enum win_result {
	WIN_ACCEPT,
	WIN_IGNORE,
	WIN_INVALID,
};

/* Out-of-window results give way when either knob says "be liberal". */
static enum win_result win_fail(const struct nfqct_tcp_state *st, unsigned int dir,
				const struct nfqct_settings *s, enum win_result res,
				const char *why, const char **reason)
{
	if ((pf_get(st, dir) & PF_LIBERAL) || s->tcp_be_liberal)
		return WIN_ACCEPT;
	*reason = why;
	return res;
}

/* The ack window a sender's acks may lag behind (the kernel's MAXACKWINDOW). */
static uint32_t max_ack_window(const struct nfqct_tcp_peer *p)
{
	return p->maxwin > 66000 ? p->maxwin : 66000;
}

/*
 * tcp_in_window - check @sg against the windows seen so far and update
 * them (the kernel's tcp_in_window()).  @cur is the entry's state before
 * this packet.
 *
 * The bounds (Guido van Rooij, "Real Stateful TCP Packet Filtering in IP
 * Filter", relaxed per RFC 793):
 *   I.   seq <= sender.maxend
 *   II.  seq + len >= sender.end - receiver.maxwin
 *   III. sack <= receiver.end
 *   IV.  sack >= receiver.end - MAXACKWINDOW(sender)
 */
static enum win_result tcp_in_window(struct nfqct_tcp_state *st, unsigned int dir, uint8_t cur,
				     const struct tcp_seg *sg, const struct nfqct_settings *s,
				     const char **reason)
{
	struct nfqct_tcp_peer *snd = &st->peer[dir], *rcv = &st->peer[!dir];
	uint32_t seq = sg->seq, ack = sg->ack, sack = sg->ack, end = sg->end;
	uint32_t win = sg->win, swin;
	bool has_ack = sg->flags & TH_ACK, is_syn = sg->flags & TH_SYN, is_rst = sg->flags & TH_RST;

	if (pf_get(st, !dir) & PF_SACK_PERM)
		tcp_read_sack(sg, &sack);

	if (snd->maxwin == 0) {
		if (is_syn) {
			/* SYN/ACK answering the SYN, or the reply's SYN of a simultaneous open. */
			tcp_init_sender(st, dir, sg);
			if (!has_ack)
				return WIN_ACCEPT;
		} else {
			/* Picked up mid-stream: all we know comes from this packet. */
			snd->end = end;
			swin = win << scale_get(st, dir);
			snd->maxwin = swin ? swin : 1;
			snd->maxend = end + snd->maxwin;
			if (rcv->maxwin == 0)
				rcv->end = rcv->maxend = sack;	/* pass III and IV until it talks */
			else if (sack == rcv->end + 1)
				rcv->end++;			/* likely a keepalive answer */
		}
	} else if (is_syn && seq_after(end, snd->end) &&
		   (cur == NFQCT_TCP_SYN_SENT || cur == NFQCT_TCP_SYN_RECV)) {
		/* A new SYN (or SYN/ACK) with a later sequence: the end point
		 * restarted (RFC 793), start this direction again from it. */
		tcp_init_sender(st, dir, sg);
		if (dir == 1 && !has_ack)
			return WIN_ACCEPT;
	}

	if (!has_ack) {
		ack = sack = rcv->end;		/* pretend it acks what we saw */
	} else if (is_rst && ack == 0) {
		ack = sack = rcv->end;		/* broken stacks: RST+ACK with ack 0 */
	}

	if (is_rst && seq == 0 && cur == NFQCT_TCP_SYN_SENT)
		seq = end = snd->end;		/* RST answering the SYN */

	if (!seq_before(seq, snd->maxend + 1)) {
		uint32_t overshot = end - snd->maxend + 1;
		bool ack_ok = seq_after(sack, rcv->end - max_ack_window(snd) - 1);
		bool in_rwin = rcv->maxwin && seq_after(end, snd->end - rcv->maxwin - 1);

		if (in_rwin && ack_ok && overshot <= rcv->maxwin && seq_before(sack, rcv->end + 1)) {
			/* More than the receiver allowed, by a stack that overfills
			 * the window: remember the data so its ack stays in bounds. */
			snd->end = end;
			pf_set(st, dir, pf_get(st, dir) | PF_UNACKED);
			return win_fail(st, dir, s, WIN_IGNORE, "more bytes than the window", reason);
		}
		return win_fail(st, dir, s, WIN_INVALID, "SEQ is over the upper bound", reason);
	}
	if (!seq_before(sack, rcv->end + 1))
		return win_fail(st, dir, s, WIN_INVALID, "ACK is over the upper bound", reason);
	if (rcv->maxwin && !seq_after(end, snd->end - rcv->maxwin - 1))
		return win_fail(st, dir, s, WIN_IGNORE, "SEQ is under the lower bound", reason);
	if (!seq_after(sack, rcv->end - max_ack_window(snd) - 1))
		return win_fail(st, dir, s, WIN_IGNORE, "ACK is under the lower bound", reason);

	/* In window: update the sender ... */
	if (!is_syn)
		win <<= scale_get(st, dir);
	swin = win + (sack - ack);
	if (snd->maxwin < swin)
		snd->maxwin = swin;
	if (seq_after(end, snd->end)) {
		snd->end = end;
		pf_set(st, dir, pf_get(st, dir) | PF_UNACKED);
	}
	if (has_ack) {
		if (!(pf_get(st, dir) & PF_MAXACK)) {
			snd->maxack = ack;
			pf_set(st, dir, pf_get(st, dir) | PF_MAXACK);
		} else if (seq_after(ack, snd->maxack)) {
			snd->maxack = ack;
		}
	}

	/* ... and the receiver. */
	if (rcv->maxwin != 0 && seq_after(end, snd->maxend))
		rcv->maxwin += end - snd->maxend;
	if (seq_after(sack + win, rcv->maxend - 1)) {
		rcv->maxend = sack + win;
		if (win == 0)
			rcv->maxend++;
	}
	if (ack == rcv->end)
		pf_set(st, !dir, pf_get(st, !dir) & ~PF_UNACKED);

	/* The same ACK again counts as a retransmission. */
	if (sg->cls == CL_ACK) {
		if (st->last_dir == dir && st->last_seq == seq && st->last_ack == ack &&
		    st->last_end == end && st->last_win == sg->win) {
			st->retrans++;
		} else {
			st->last_dir = dir;
			st->last_seq = seq;
			st->last_ack = ack;
			st->last_end = end;
			st->last_win = sg->win;
			st->retrans = 0;
		}
	}
	return WIN_ACCEPT;
}

/* Forget one direction's window data (its liberal flag stays). */
static void tcp_peer_reset(struct nfqct_tcp_state *st, unsigned int dir)
{
	memset(&st->peer[dir], 0, sizeof(st->peer[dir]));
	scale_set(st, dir, 0);
	pf_set(st, dir, pf_get(st, dir) & PF_LIBERAL);
}

/*
 * tcp_invalid_shrink - an out-of-window FIN/RST of an [ASSURED] flow.  The
 * first one is remembered; one from the other side answering it makes the
 * table cut the entry's lifetime to the unacknowledged-data timeout
 * (the kernel's nf_tcp_handle_invalid()).
 */
static void tcp_invalid_shrink(struct nfqct_tcp_state *st, unsigned int dir, const struct tcp_seg *sg,
			       bool assured, const struct nfqct_settings *s, struct nfqct_l4_result *v)
{
	if (!assured || (sg->cls != CL_RST && sg->cls != CL_FIN))
		return;
	if (st->last_dir != dir && (st->last_index == CL_FIN || st->last_index == CL_RST)) {
		v->shrink_timeout = true;
		v->timeout_s = s->timeout[NFQCT_TO_TCP_UNACK];
	} else {
		st->last_index = sg->cls;
		st->last_dir = dir;
	}
}

/* An ESTABLISHED flow that has seen both sides (the kernel's nf_conntrack_tcp_established()). */
static bool tcp_established(uint8_t cur, bool assured)
{
	return cur == NFQCT_TCP_ESTABLISHED && assured;
}

/* States where the flow is closing anyway (the kernel's tcp_can_early_drop()). */
static bool tcp_closing(uint8_t cur)
{
	switch (cur) {
	case NFQCT_TCP_FIN_WAIT:
	case NFQCT_TCP_LAST_ACK:
	case NFQCT_TCP_TIME_WAIT:
	case NFQCT_TCP_CLOSE:
	case NFQCT_TCP_CLOSE_WAIT:
		return true;
	default:
		return false;
	}
}

/* The timeout of the state reached, shortened as the kernel does. */
static uint32_t tcp_timeout(const struct nfqct_tcp_state *st, uint8_t new_state, uint8_t cls,
			    const struct nfqct_settings *s)
{
	uint32_t t = s->timeout[tcp_state_timeout[new_state]];
	uint32_t retrans = s->timeout[NFQCT_TO_TCP_MAX_RETRANS];
	uint32_t unack = s->timeout[NFQCT_TO_TCP_UNACK];

	if (st->retrans >= s->tcp_max_retrans && t > retrans)
		return retrans;
	if (cls == CL_RST)
		return s->timeout[NFQCT_TO_TCP_CLOSE];
	if (((st->pflags0 | st->pflags1) & PF_UNACKED) && t > unack)
		return unack;
	if (st->last_win == 0 && t > retrans)	/* zero window: the peer may be gone */
		return retrans;
	return t;
}

bool nfqct_tcp_new(struct nfqct_tcp_state *st, const struct nfqct_pkt *pkt, const struct nfqct_settings *s)
{
	struct tcp_seg sg;
	unsigned int scale = 0, pf = 0;
	uint8_t next;

	if (tcp_seg_read(&sg, pkt))
		return false;
	next = tcp_next[0][sg.cls][NFQCT_TCP_NONE];
	if (next == S_INVALID)
		return false;
	if (next != NFQCT_TCP_SYN_SENT && !s->tcp_loose)
		return false;	/* no mid-stream pick-up */

	memset(st, 0, sizeof(*st));
	st->peer[0].end = sg.end;
	st->peer[0].maxwin = sg.win ? sg.win : 1;
	if (next == NFQCT_TCP_SYN_SENT) {
		st->peer[0].maxend = sg.end;
		tcp_read_options(&sg, &scale, &pf);
		st->scale0 = scale;
		st->pflags0 = pf;
	} else {
		/* Mid-stream: the window history is lost; assume SACK and do no
		 * window checks in either direction (scaling is unknown). */
		st->peer[0].maxend = sg.end + st->peer[0].maxwin;
		st->pflags0 = st->pflags1 = PF_SACK_PERM | PF_LIBERAL;
	}
	st->state = NFQCT_TCP_NONE;
	st->last_index = CL_NONE;
	return true;
}

void nfqct_tcp_pickup(struct nfqct_tcp_state *st, uint8_t state)
{
	memset(st, 0, sizeof(*st));
	st->pflags0 = st->pflags1 = PF_SACK_PERM | PF_LIBERAL;
	st->state = state < NFQCT_TCP_STATE_MAX ? state : NFQCT_TCP_ESTABLISHED;
	st->last_index = CL_NONE;
}

/*
 * tcp_ignore - remember a packet the table let through without believing
 * it (sIG): if the end points are in sync and we are not, the answer to
 * it tells (an SYN/ACK acking it, or an RST).
 */
static void tcp_ignore(struct nfqct_tcp_state *st, unsigned int dir, uint8_t old_state, const struct tcp_seg *sg)
{
	st->last_index = sg->cls;
	st->last_dir = dir;
	st->last_seq = sg->seq;
	st->last_end = sg->end;
	st->last_win = sg->win;

	if (sg->cls == CL_SYN && dir == 0) {
		unsigned int scale = 0, pf = 0;

		/* Keep its options, to adopt them if the server accepts it. */
		st->last_flags = 0;
		st->last_wscale = 0;
		tcp_read_options(sg, &scale, &pf);
		if (pf & PF_WSCALE) {
			st->last_flags |= LF_WSCALE;
			st->last_wscale = scale;
		}
		if (pf & PF_SACK_PERM)
			st->last_flags |= LF_SACK_PERM;
		/* In LAST_ACK the answer may be an RFC 5961 challenge ACK, not the last ACK. */
		if (old_state == NFQCT_TCP_LAST_ACK)
			st->last_flags |= LF_CHALLENGE;
	}
	/* A reply ACK to our SYN may be a challenge ACK; an RST may follow it. */
	if (old_state == NFQCT_TCP_SYN_SENT && sg->cls == CL_ACK && dir == 1)
		st->last_ack = sg->ack;
}

/* tcp_resync - an SYN/ACK acking the SYN we ignored: adopt that SYN. */
static void tcp_resync(struct nfqct_tcp_state *st, unsigned int dir)
{
	unsigned int ld = st->last_dir;
	unsigned int pf = 0;

	st->peer[ld].end = st->peer[ld].maxend = st->last_end;
	st->peer[ld].maxwin = st->last_win ? st->last_win : 1;
	scale_set(st, ld, st->last_wscale);
	st->last_flags &= ~LF_CHALLENGE;
	if (st->last_flags & LF_WSCALE)
		pf |= PF_WSCALE;
	if (st->last_flags & LF_SACK_PERM)
		pf |= PF_SACK_PERM;
	pf_set(st, ld, pf);
	tcp_peer_reset(st, dir);
}

static void verdict(struct nfqct_l4_result *v, uint8_t action, const char *reason)
{
	v->verdict = action;
	v->reason = reason;
}

void nfqct_tcp_packet(struct nfqct_tcp_state *st, const struct nfqct_pkt *pkt, bool reply,
		      bool seen_reply, bool assured, const struct nfqct_settings *s,
		      struct nfqct_l4_result *v)
{
	unsigned int dir = reply ? 1 : 0;
	uint8_t cur = st->state, old_state, new_state;
	const char *reason = NULL;
	struct tcp_seg sg;

	memset(v, 0, sizeof(*v));
	reason = tcp_seg_read(&sg, pkt);
	if (reason || cur >= NFQCT_TCP_STATE_MAX) {
		verdict(v, NFQCT_L4_INVALID, reason ? reason : "corrupt tcp state");
		return;
	}

	old_state = cur;
	new_state = tcp_next[dir][sg.cls][old_state];

	switch (new_state) {
	case NFQCT_TCP_SYN_SENT:
		if (old_state < NFQCT_TCP_TIME_WAIT)
			break;
		/*
		 * SYN in TIME_WAIT or CLOSE (RFC 1122 lets a SYN reopen from
		 * TIME_WAIT): when the flow was closed by FIN, or aborted by an
		 * RST from this side, drop the entry and start over with this
		 * packet.  Otherwise it is one more ignored packet.
		 */
		if (((pf_get(st, 0) | pf_get(st, 1)) & PF_CLOSE_INIT) ||
		    (st->last_dir == dir && st->last_index == CL_RST)) {
			verdict(v, NFQCT_L4_REOPEN, NULL);
			return;
		}
		/* fall through */
	case S_IGNORE:
		/*
		 * Packets that may tell that the end points are in a flow we
		 * do not know (SYN in ORIGINAL, SYN/ACK in REPLY, reply ACK
		 * after the SYN).  Let them through untracked; an SYN/ACK that
		 * acks an ignored SYN gets us back in sync.
		 */
		if (sg.cls == CL_SYNACK && st->last_index == CL_SYN && st->last_dir != dir &&
		    sg.ack == st->last_end) {
			old_state = NFQCT_TCP_SYN_SENT;
			new_state = NFQCT_TCP_SYN_RECV;
			tcp_resync(st, dir);
			break;
		}
		tcp_ignore(st, dir, old_state, &sg);
		verdict(v, NFQCT_L4_IGNORE, "packet ignored in this state");
		return;
	case S_INVALID:
		verdict(v, NFQCT_L4_INVALID, "invalid in this state");
		return;
	case NFQCT_TCP_TIME_WAIT:
		/* An RFC 5961 challenge ACK to an ignored SYN does not ack the last FIN. */
		if (old_state == NFQCT_TCP_LAST_ACK && sg.cls == CL_ACK && st->last_dir != dir &&
		    st->last_index == CL_SYN && (st->last_flags & LF_CHALLENGE)) {
			st->last_flags &= ~LF_CHALLENGE;
			verdict(v, NFQCT_L4_IGNORE, "challenge ACK ignored");
			return;
		}
		break;
	case NFQCT_TCP_SYN_SENT2:
		/* The table alone cannot follow a simultaneous open. */
		st->last_flags |= LF_SIMOPEN;
		break;
	case NFQCT_TCP_SYN_RECV:
		if (dir == 1 && sg.cls == CL_ACK && (st->last_flags & LF_SIMOPEN))
			new_state = NFQCT_TCP_ESTABLISHED;
		break;
	case NFQCT_TCP_CLOSE:
		if (sg.cls != CL_RST)
			break;
		/* Closing anyway, and our sequence data may be stale: believe it. */
		if (tcp_closing(cur))
			goto in_window;
		/* With an ack of the other side known (and no SYN let through
		 * since), an RST must carry exactly the sequence it acked. */
		if ((pf_get(st, !dir) & PF_MAXACK) && st->last_index != CL_SYN) {
			uint32_t maxack = st->peer[!dir].maxack;

			/* seq 0 before establishment: answer to a SYN we let through */
			if (sg.seq == 0 && !tcp_established(cur, assured))
				break;
			if (seq_before(sg.seq, maxack) && !s->tcp_ignore_invalid_rst) {
				verdict(v, NFQCT_L4_INVALID, "invalid rst");
				return;
			}
			if (!tcp_established(cur, assured) || sg.seq == maxack)
				break;
			/* RST right after this side's data, ending where it ended */
			if (st->last_index == CL_ACK && st->last_dir == dir && sg.seq == st->last_end)
				break;
			/* In window but not exact: keep the state for a challenge ACK. */
			new_state = old_state;
		}
		/* RST answering a SYN or ACK we let through ignored: the peer
		 * refuses what we did not believe either; skip the window. */
		if (((seen_reply && st->last_index == CL_SYN) ||
		     (!assured && st->last_index == CL_ACK)) &&
		    sg.ack == st->last_end)
			goto in_window;
		/* RST answering a challenge ACK we let through. */
		if (old_state == NFQCT_TCP_SYN_SENT && st->last_index == CL_ACK &&
		    st->last_dir == 1 && sg.seq == st->last_ack)
			goto in_window;
		break;
	default:
		break;
	}

	switch (tcp_in_window(st, dir, cur, &sg, s, &reason)) {
	case WIN_IGNORE:
		verdict(v, NFQCT_L4_IGNORE, reason);
		return;
	case WIN_INVALID:
		verdict(v, NFQCT_L4_INVALID, reason);
		tcp_invalid_shrink(st, dir, &sg, assured, s, v);
		return;
	case WIN_ACCEPT:
		break;
	}

in_window:
	st->last_index = sg.cls;
	st->last_dir = dir;
	st->state = new_state;
	if (old_state != new_state && new_state == NFQCT_TCP_FIN_WAIT)
		pf_set(st, dir, pf_get(st, dir) | PF_CLOSE_INIT);

	v->timeout_s = tcp_timeout(st, new_state, sg.cls, s);
	verdict(v, NFQCT_L4_ACCEPT, NULL);

	if (!seen_reply) {
		/*
		 * Nothing came back yet.  An RST now (from either side: the
		 * server refusing, the client giving up) means no connection:
		 * account it and drop the entry.  [SEEN_REPLY] is set by the
		 * table only after this call, so the refusing RST/ACK of a
		 * server - the first reply - lands here too.
		 */
		if (sg.flags & TH_RST) {
			verdict(v, NFQCT_L4_KILL, NULL);
			return;
		}
		/* A SYN retransmission must not keep the entry alive forever. */
		if (sg.cls == CL_SYN && old_state == NFQCT_TCP_SYN_SENT) {
			verdict(v, NFQCT_L4_IGNORE, "SYN retransmission");
			v->timeout_s = 0;
			return;
		}
		/* A one-sided pick-up must not get the long ESTABLISHED timeout. */
		if (new_state == NFQCT_TCP_ESTABLISHED && v->timeout_s > s->timeout[NFQCT_TO_TCP_UNACK])
			v->timeout_s = s->timeout[NFQCT_TO_TCP_UNACK];
	} else if (!assured && (old_state == NFQCT_TCP_SYN_RECV || old_state == NFQCT_TCP_ESTABLISHED) &&
		   new_state == NFQCT_TCP_ESTABLISHED) {
		/* A valid ACK after SYN_RECV, or an answer to a picked-up flow. */
		v->set_assured = true;
	}
}

const char *nfqct_tcp_state_name(uint8_t state)
{
	if (state >= NFQCT_TCP_STATE_MAX)
		return "UNKNOWN";
	return tcp_state_names[state];
}

/* ---- the ops table (l4proto.h) ---- */

static bool tcp_op_new(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
		       const struct nfqct_l4_ctx *ctx)
{
	return nfqct_tcp_new(&st->tcp, pkt, ctx->s);
}

static void tcp_op_packet(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
			  const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res)
{
	nfqct_tcp_packet(&st->tcp, pkt, ctx->reply, ctx->seen_reply, ctx->assured, ctx->s, res);
}

/* 6.x: TCP has no clash resolution (nf_conntrack_l4proto_tcp sets no allow_clash). */
static const char *tcp_op_state_name(const union nfqct_l4_state *st)
{
	return nfqct_tcp_state_name(st->tcp.state);
}

const struct nfqct_l4proto nfqct_l4proto_tcp = {
	.l4proto	= IPPROTO_TCP,
	.allow_clash	= false,
	.new		= tcp_op_new,
	.packet		= tcp_op_packet,
	.state_name	= tcp_op_state_name,
};

void nfqct_tcp_set_liberal(struct nfqct_tcp_state *st)
{
	st->pflags0 |= PF_LIBERAL;
	st->pflags1 |= PF_LIBERAL;
}
