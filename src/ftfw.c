/*
 * ftfw.c - FTFW and NOTRACK replication engines (ftfw.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nfqct/ftfw.h"

/* Sequence arithmetic that survives the wrap (RFC 1982, as TCP's). */
static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return seq_before(b, a);
}

enum { RS_FREE, RS_FLOW, RS_CTL };

/* One message kept until acknowledged. */
struct rs_ent {
	uint32_t seq;
	uint8_t kind;			/* RS_*; RS_FREE: acknowledged, a hole */
	uint8_t type;			/* flows: NEW, UPDATE, DESTROY */
	uint8_t flags;			/* control: ACK, NACK, RESYNC */
	uint32_t from, to;
	struct nfqct_sync_flow flow;
};

enum { HELLO_SAY, HELLO_DONE };

struct nfqct_ftfw {
	struct nfqct_ftfw_cfg cfg;
	struct nfqct_ftfw_ops ops;
	void *arg;
	struct nfqct_ftfw_stats st;

	/* sending */
	uint32_t seq;			/* the next message's number */
	uint8_t hello;			/* HELLO_* */
	bool say_hello_back;
	uint8_t *tx;
	size_t txlen;
	uint64_t last_tx_ms;
	bool tx_ever;

	/* resend queue: a ring in sequence order */
	struct rs_ent *rs;
	uint32_t rs_head, rs_count;
	bool in_nack;			/* rs_nack() walks the ring: no trimming */
	uint32_t rs_popped;		/* head entries dropped by rs_add(), for that walk */

	/* receiving */
	bool seq_set;
	uint32_t last_seq;		/* last number received in order */
	bool ack_from_set;
	uint32_t ack_from;
	int32_t window;
};

static bool ftfw(const struct nfqct_ftfw *e)
{
	return e->cfg.mode == NFQCT_SYNC_MODE_FTFW;
}

int nfqct_ftfw_create(const struct nfqct_ftfw_cfg *cfg, const struct nfqct_ftfw_ops *ops,
		      void *arg, struct nfqct_ftfw **out)
{
	struct nfqct_ftfw *e;

	if (!cfg || !ops || !ops->xmit || !ops->apply || cfg->window == 0 || cfg->window > 1u << 20 ||
	    cfg->resend_max == 0 || cfg->resend_max > 1u << 24 || cfg->mtu < 64 || cfg->mtu > 65507 ||
	    (cfg->mode != NFQCT_SYNC_MODE_FTFW && cfg->mode != NFQCT_SYNC_MODE_NOTRACK &&
	     cfg->mode != NFQCT_SYNC_MODE_ALARM))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->ops = *ops;
	e->arg = arg;
	e->tx = malloc(cfg->mtu);
	if (!e->tx)
		goto err_free;
	if (cfg->mode == NFQCT_SYNC_MODE_FTFW) {
		e->rs = calloc(cfg->resend_max, sizeof(*e->rs));
		if (!e->rs)
			goto err_free_tx;
	}
	e->seq = cfg->first_seq;
	e->window = (int32_t)cfg->window;
	e->hello = HELLO_SAY;
	*out = e;
	return 0;

err_free_tx:
	free(e->tx);
err_free:
	free(e);
	return -ENOMEM;
}

void nfqct_ftfw_destroy(struct nfqct_ftfw *e)
{
	if (!e)
		return;
	free(e->rs);
	free(e->tx);
	free(e);
}

void nfqct_ftfw_reset(struct nfqct_ftfw *e)
{
	e->seq_set = false;
	e->ack_from_set = false;
	e->window = (int32_t)e->cfg.window;
	e->hello = HELLO_SAY;
	e->say_hello_back = false;
	e->st.hello_done = false;
	e->rs_head = e->rs_count = 0;
	e->st.rs_len = 0;
}

void nfqct_ftfw_stats(const struct nfqct_ftfw *e, struct nfqct_ftfw_stats *out)
{
	*out = e->st;
}

int nfqct_ftfw_flush(struct nfqct_ftfw *e, uint64_t now_ms)
{
	int r;

	if (e->txlen == 0)
		return 0;
	r = e->ops.xmit(e->arg, e->tx, e->txlen);
	e->txlen = 0;
	e->last_tx_ms = now_ms;
	e->tx_ever = true;
	if (r < 0) {
		e->st.xmit_errors++;
		return r;
	}
	e->st.dgram_sent++;
	return 0;
}

/* The hello flags of the next message (conntrackd's nethdr_set_hello). */
static uint8_t hello_flags(struct nfqct_ftfw *e)
{
	uint8_t fl = 0;

	if (e->hello == HELLO_SAY && ftfw(e))
		fl |= NFQCT_SYNC_F_HELLO;
	if (e->say_hello_back) {
		fl |= NFQCT_SYNC_F_HELLO_BACK;
		e->say_hello_back = false;
	}
	return fl;
}

/* ---- the resend queue ---- */

static struct rs_ent *rs_at(struct nfqct_ftfw *e, uint32_t i)
{
	return &e->rs[(e->rs_head + i) % e->cfg.resend_max];
}

/* Drop acknowledged entries from the head. */
static void rs_trim(struct nfqct_ftfw *e)
{
	while (e->rs_count && rs_at(e, 0)->kind == RS_FREE) {
		e->rs_head = (e->rs_head + 1) % e->cfg.resend_max;
		e->rs_count--;
	}
}

/* Append @ent; a full queue forgets its oldest entry.  Returns entries dropped from the head. */
static uint32_t rs_add(struct nfqct_ftfw *e, const struct rs_ent *ent)
{
	uint32_t popped = 0;

	if (e->rs_count == e->cfg.resend_max) {
		/* full: forget the oldest, as conntrackd's rs_queue_purge_full() */
		if (rs_at(e, 0)->kind != RS_FREE) {
			e->st.rs_overflow++;
			e->st.rs_len--;
		}
		e->rs_head = (e->rs_head + 1) % e->cfg.resend_max;
		e->rs_count--;
		popped = 1;
	}
	*rs_at(e, e->rs_count) = *ent;
	e->rs_count++;
	e->st.rs_len++;		/* entries awaiting an ACK; acknowledged holes are not */
	if (!e->in_nack)
		rs_trim(e);
	e->rs_popped += popped;
	return popped;
}

/* ---- sending ---- */

/* Append a control message and keep ACK/NACK/RESYNC for resending. */
static int send_ctl(struct nfqct_ftfw *e, uint8_t flags, uint32_t from, uint32_t to, uint64_t now_ms)
{
	uint8_t fl = flags;
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		size_t len = e->txlen;
		uint8_t hf = hello_flags(e);

		r = nfqct_sync_put_ctl(e->tx, e->cfg.mtu, &len, fl | hf, e->seq, from, to);
		if (r == -ENOSPC && attempt == 0) {
			if (hf & NFQCT_SYNC_F_HELLO_BACK)
				e->say_hello_back = true;
			r = nfqct_ftfw_flush(e, now_ms);
			if (r < 0)
				return r;
			continue;
		}
		if (r < 0)
			return r;
		e->txlen = len;
		break;
	}
	if (ftfw(e) && (flags & (NFQCT_SYNC_F_ACK | NFQCT_SYNC_F_NACK | NFQCT_SYNC_F_RESYNC))) {
		struct rs_ent ent = { .seq = e->seq, .kind = RS_CTL, .flags = flags, .from = from, .to = to };

		rs_add(e, &ent);
	}
	e->seq++;
	e->st.msg_sent++;
	if (flags & NFQCT_SYNC_F_ACK)
		e->st.ack_sent++;
	if (flags & NFQCT_SYNC_F_NACK)
		e->st.nack_sent++;
	if (flags & NFQCT_SYNC_F_RESYNC)
		e->st.resync_sent++;
	if (flags & NFQCT_SYNC_F_ALIVE)
		e->st.alive_sent++;
	return 0;
}

int nfqct_ftfw_send(struct nfqct_ftfw *e, uint8_t type, const struct nfqct_sync_flow *f,
		    uint64_t now_ms)
{
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		size_t len = e->txlen;
		uint8_t hf = hello_flags(e);

		r = nfqct_sync_put_flow(e->tx, e->cfg.mtu, &len, type, e->seq, hf, f, e->cfg.enc);
		if (r == -ENOSPC && attempt == 0 && e->txlen > 0) {
			if (hf & NFQCT_SYNC_F_HELLO_BACK)
				e->say_hello_back = true;
			r = nfqct_ftfw_flush(e, now_ms);
			if (r < 0)
				return r;
			continue;
		}
		if (r < 0) {
			if (hf & NFQCT_SYNC_F_HELLO_BACK)
				e->say_hello_back = true;
			return r == -ENOSPC ? -EINVAL : r;
		}
		e->txlen = len;
		break;
	}
	if (ftfw(e)) {
		struct rs_ent ent = { .seq = e->seq, .kind = RS_FLOW, .type = type, .flow = *f };

		rs_add(e, &ent);
	}
	e->seq++;
	e->st.msg_sent++;
	e->st.flow_sent++;
	return 0;
}

int nfqct_ftfw_request_resync(struct nfqct_ftfw *e, uint64_t now_ms)
{
	int r = send_ctl(e, NFQCT_SYNC_F_RESYNC, 0, 0, now_ms);

	if (r < 0)
		return r;
	return nfqct_ftfw_flush(e, now_ms);
}

/* ---- acknowledgements ---- */

/*
 * The first entry at or after @from: the ring holds increasing numbers
 * (we only append, each message takes the next), so a binary search; a
 * peer's ACK or NACK costs the range it names, not the queue's length.
 */
static uint32_t rs_lower_bound(struct nfqct_ftfw *e, uint32_t from)
{
	uint32_t lo = 0, hi = e->rs_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (seq_before(rs_at(e, mid)->seq, from))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void rs_ack(struct nfqct_ftfw *e, uint32_t from, uint32_t to)
{
	for (uint32_t i = rs_lower_bound(e, from); i < e->rs_count; i++) {
		struct rs_ent *r = rs_at(e, i);

		if (seq_after(r->seq, to))
			break;
		if (r->kind != RS_FREE)
			e->st.rs_len--;
		r->kind = RS_FREE;
	}
	rs_trim(e);
}

/*
 * Send [from, to] again, with new numbers: each entry is appended anew
 * and its old place freed.  The walk stops at the first number this NACK
 * created (@boundary), whatever @to says.
 */
static void rs_nack(struct nfqct_ftfw *e, uint32_t from, uint32_t to, uint64_t now_ms)
{
	uint32_t boundary = e->seq;

	e->in_nack = true;
	for (int64_t i = rs_lower_bound(e, from); i < (int64_t)e->rs_count; i++) {
		struct rs_ent *r = rs_at(e, (uint32_t)i);
		struct rs_ent copy;

		if (!seq_before(r->seq, boundary) || seq_after(r->seq, to))
			break;
		if (seq_before(r->seq, from) || r->kind == RS_FREE)
			continue;
		copy = *r;
		r->kind = RS_FREE;
		e->st.rs_len--;
		e->rs_popped = 0;
		if (copy.kind == RS_FLOW) {
			if (!e->ops.current || e->ops.current(e->arg, &copy.flow, &copy.type)) {
				if (nfqct_ftfw_send(e, copy.type, &copy.flow, now_ms) == 0)
					e->st.resent++;
			}
		} else if (send_ctl(e, copy.flags, copy.from, copy.to, now_ms) == 0) {
			e->st.resent++;
		}
		i -= e->rs_popped;	/* the ring lost its head: indices moved down */
	}
	e->in_nack = false;
	rs_trim(e);
}

/* ---- receiving ---- */

static void digest(struct nfqct_ftfw *e, const struct nfqct_sync_msg *m, int r, uint64_t now_ms)
{
	if (r == -EOPNOTSUPP) {
		e->st.exp_skipped++;
		return;
	}
	if (r < 0) {
		e->st.bad++;
		return;
	}
	if (m->type <= NFQCT_SYNC_T_DESTROY) {
		e->st.flow_recv++;
		e->ops.apply(e->arg, m->type, &m->flow);
		return;
	}
	/* control: the first flag that counts, in conntrackd's order */
	if (m->flags & NFQCT_SYNC_F_ACK) {
		e->st.ack_recv++;
		if (ftfw(e))
			rs_ack(e, m->from, m->to);
	} else if (m->flags & NFQCT_SYNC_F_NACK) {
		e->st.nack_recv++;
		if (ftfw(e))
			rs_nack(e, m->from, m->to, now_ms);
	} else if (m->flags & NFQCT_SYNC_F_RESYNC) {
		e->st.resync_recv++;
		if (e->ops.resync)
			e->ops.resync(e->arg);
	} else {
		e->st.alive_recv++;
	}
}

/* One message through the sequence tracking (conntrackd's ftfw_recv). */
static void recv_one(struct nfqct_ftfw *e, const struct nfqct_sync_msg *m, int r, uint64_t now_ms)
{
	uint32_t exp = e->last_seq + 1;
	bool hello = false;

	e->st.msg_recv++;
	if (m->flags & NFQCT_SYNC_F_HELLO) {
		/* the peer restarted its numbering: answer, forget what it cannot know */
		e->say_hello_back = true;
		hello = true;
	}
	if ((m->flags & NFQCT_SYNC_F_HELLO_BACK) && e->hello == HELLO_SAY) {
		e->hello = HELLO_DONE;
		e->st.hello_done = true;
	}

	if (!ftfw(e)) {
		if (e->seq_set && seq_after(m->seq, exp))
			e->st.lost += m->seq - exp;
		digest(e, m, r, now_ms);
		e->seq_set = true;
		e->last_seq = m->seq;
		return;
	}

	if (hello) {
		/* a range to acknowledge that this number does not continue belongs to
		 * the peer's old numbering: start again here (conntrackd restarts it
		 * only for a number before the range, which lets a hello half the
		 * number space away make an ACK that runs backwards: fuzz_sync) */
		if (e->ack_from_set && m->seq != e->last_seq + 1) {
			e->window = (int32_t)e->cfg.window - 1;
			e->ack_from = m->seq;
		}
		e->rs_head = e->rs_count = 0;
		e->st.rs_len = 0;
	} else if (e->seq_set && m->seq != exp) {
		if (seq_before(m->seq, exp)) {
			e->st.before++;		/* delayed or replayed: not applied */
			return;
		}
		/* a jump: some messages got lost */
		e->st.lost += m->seq - exp;
		digest(e, m, r, now_ms);
		if (e->ack_from_set)
			send_ctl(e, NFQCT_SYNC_F_ACK, e->ack_from, exp - 1, now_ms);
		send_ctl(e, NFQCT_SYNC_F_NACK, exp, m->seq - 1, now_ms);
		e->window = (int32_t)e->cfg.window - 1;
		e->ack_from = m->seq;
		e->ack_from_set = true;
		e->last_seq = m->seq;
		return;
	}

	/* in order (or the first, or a hello) */
	digest(e, m, r, now_ms);
	if (!e->ack_from_set) {
		e->ack_from = m->seq;
		e->ack_from_set = true;
	}
	if (--e->window <= 0) {
		send_ctl(e, NFQCT_SYNC_F_ACK, e->ack_from, m->seq, now_ms);
		e->window = (int32_t)e->cfg.window;
		e->ack_from_set = false;
	}
	e->seq_set = true;
	e->last_seq = m->seq;
}

void nfqct_ftfw_input(struct nfqct_ftfw *e, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct nfqct_sync_msg m;
	size_t off = 0;
	int r;

	e->st.dgram_recv++;
	if (nfqct_sync_frame(buf, len) < 0) {
		e->st.malformed++;
		return;
	}
	while ((r = nfqct_sync_decode(buf, len, &off, &m)) != -ENODATA)
		recv_one(e, &m, r, now_ms);
	nfqct_ftfw_flush(e, now_ms);
}

uint64_t nfqct_ftfw_tick(struct nfqct_ftfw *e, uint64_t now_ms)
{
	if (!e->tx_ever || now_ms - e->last_tx_ms >= e->cfg.alive_ms) {
		if (ftfw(e) && e->ack_from_set && e->seq_set) {
			send_ctl(e, NFQCT_SYNC_F_ACK, e->ack_from, e->last_seq, now_ms);
			e->ack_from_set = false;
			e->window = (int32_t)e->cfg.window;
		} else {
			send_ctl(e, NFQCT_SYNC_F_ALIVE, 0, 0, now_ms);
		}
	}
	nfqct_ftfw_flush(e, now_ms);
	return e->last_tx_ms + e->cfg.alive_ms;
}
