/*
 * judge.c - the packet pipeline (judge.h).
 *
 * Every return below leaves a complete verdict in @v; the comment at each
 * early exit says why it drops.
 */
#include "nfqct/judge.h"
#include "nfqct/loopback.h"

/* Coming back in on lo, as the box's own packet (PREROUTING, INPUT). */
static bool looped_in(const struct nfqct_pkt *pkt)
{
	return pkt->indev == NFQCT_LOOPBACK_IFINDEX &&
	       (pkt->hook == NFQCT_HOOK_PREROUTING || pkt->hook == NFQCT_HOOK_INPUT);
}

/* Leaving on lo: it will come back in (OUTPUT). */
static bool looping_out(const struct nfqct_pkt *pkt)
{
	return pkt->outdev == NFQCT_LOOPBACK_IFINDEX && pkt->hook == NFQCT_HOOK_OUTPUT;
}

/* What an accepted packet leaving on lo had, for its return (loopback.h). */
static void remember_looped(const struct nfqct_judge_ctx *cx, const struct nfqct_pkt *pkt,
			    uint16_t zone, const struct nfqct_verdict *v, uint64_t now_ms)
{
	struct nfqct_loopback_seen seen = {
		.ctstate = v->ctstate,
		.has_entry = v->conn != NULL,
		.reply = v->reply,
		.zone = zone,
	};

	if (v->conn) {
		struct nfqct_ct_info ci;

		nfqct_ct_info(v->conn, &ci);
		seen.orig = ci.orig;
	}
	nfqct_loopback_remember(cx->lo, pkt, &seen, now_ms);
}

/* LOG rules of a traversal after those already in @v (LOG does not end it). */
static void add_logs(struct nfqct_verdict *v, const struct nfqct_rules_verdict *rv, bool raw)
{
	unsigned int lost = rv->log_lost;

	for (unsigned int i = 0; i < rv->nlog; i++) {
		if (v->nlog < NFQCT_RULES_MAX_LOG) {
			v->log[v->nlog] = rv->log[i];
			v->log[v->nlog++].raw = raw;
		} else
			lost++;
	}
	lost += v->log_lost;
	v->log_lost = (uint8_t)(lost > UINT8_MAX ? UINT8_MAX : lost);
}

void nfqct_judge(const struct nfqct_judge_ctx *cx, struct nfqct_pkt *pkt, uint64_t now_ms,
		 struct nfqct_verdict *v)
{
	struct nfqct_ct_result res = { .ctstate = NFQCT_CTSTATE_INVALID };
	struct nfqct_loopback_seen seen;
	struct nfqct_rules_verdict rv;
	struct nfqct_rules_ct ctv;
	struct nfqct_ct_info ci;
	struct nfqct_conn *fresh;
	uint64_t left;
	uint16_t zone;
	bool parsed;

	*v = (struct nfqct_verdict){ .mark = pkt->mark, .ctstate = NFQCT_CTSTATE_INVALID };
	parsed = nfqct_pkt_parse(pkt) == 0;
	v->invalid_reason = pkt->invalid_reason;

	nfqct_ruleset_raw(cx->rs, cx->worker, pkt, now_ms, &v->mark, &rv);
	v->set_mark = rv.set_mark;
	if (rv.nlog | rv.log_lost)
		add_logs(v, &rv, true);
	if (!rv.accept) {
		/* A raw DROP: dropped before conntrack sees it, as in the kernel. */
		v->by = NFQCT_BY_RAW;
		v->rule = rv.by;
		return;
	}

	zone = rv.zone;
	if (parsed && cx->lo && looped_in(pkt) && nfqct_loopback_recall(cx->lo, pkt, now_ms, &seen)) {
		/* "Previously seen (loopback)": the kernel's skb kept its ct from
		 * OUTPUT, so nf_conntrack_in() returns at once: the ct state it
		 * had there, nothing tracked or counted again, NOTRACK and CT
		 * ignored.  The entry may be gone since (a RST killed it). */
		res.ctstate = seen.ctstate;
		res.reply = seen.reply;
		if (seen.has_entry)
			res.conn = nfqct_ct_lookup(cx->ct, &seen.orig, seen.zone, now_ms, NULL);
	} else if (rv.notrack) {
		/* The kernel's nf_conntrack_in() returns before parsing an
		 * untracked packet: UNTRACKED even when it would not parse. */
		NFQCT_STAT_INC(cx->st->ignore);
		res.ctstate = NFQCT_CTSTATE_UNTRACKED;
	} else if (!parsed) {
		/* Not trackable: INVALID, and the filter table's INVALID rule decides. */
		NFQCT_STAT_INC(cx->st->invalid);
	} else {
		nfqct_ct_in_help(cx->ct, cx->s, cx->st, pkt, zone, rv.helper, now_ms, &res);
		if (res.drop) {
			/* Table full and nothing to evict (counted `drop` by the
			 * table): dropped, as the kernel does. */
			v->by = NFQCT_BY_TABLE_FULL;
			return;
		}
	}

	ctv = (struct nfqct_rules_ct){ .state = res.ctstate, .master_helper = res.master_helper,
					.conn = res.conn, .unconfirmed = res.unconfirmed, .table = cx->ct };
	if (res.conn && nfqct_ruleset_needs_ct_entry(cx->rs)) {
		/* -m conntrack --ctproto, --ctorig*, --ctstatus, --ctexpire, --ctdir:
		 * a snapshot of the entry, only for rulesets that ask */
		nfqct_ct_info(res.conn, &ci);
		ctv.orig = &ci.orig;
		ctv.reply = &ci.reply;
		ctv.dir_reply = res.reply;
		ctv.status = (uint8_t)((res.master_helper ? NFQCT_RULES_CTS_EXPECTED : 0) |
				       (ci.seen_reply ? NFQCT_RULES_CTS_SEEN_REPLY : 0) |
				       (ci.assured ? NFQCT_RULES_CTS_ASSURED : 0) |
				       (ci.confirmed ? NFQCT_RULES_CTS_CONFIRMED : 0));
		/* an unconfirmed entry's expires_ms is its timeout, relative (ct.h) */
		left = res.unconfirmed ? ci.expires_ms : ci.expires_ms > now_ms ? ci.expires_ms - now_ms : 0;
		ctv.expire_s = left / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(left / 1000);
	}
	nfqct_ruleset_filter(cx->rs, cx->worker, pkt, &ctv, now_ms, &v->mark, &rv);
	v->set_mark |= rv.set_mark;
	if (rv.nlog | rv.log_lost)
		add_logs(v, &rv, false);
	v->accept = rv.accept;
	v->reject = rv.reject;
	v->by = NFQCT_BY_FILTER;
	v->rule = rv.by;
	v->ctstate = res.ctstate;

	/* A new entry enters the table only when its packet is accepted; a
	 * failed insertion drops the packet (insert_failed), as the kernel's
	 * confirm does.  A refused packet's new entry is discarded. */
	fresh = res.unconfirmed ? res.conn : NULL;
	if (!nfqct_ct_confirm(cx->ct, cx->st, &res, v->accept, now_ms)) {
		v->accept = false;
		v->by = NFQCT_BY_INSERT_FAILED;
	}
	/* The helper sees accepted packets only; one branch for entries without. */
	if (v->accept && res.helper && !nfqct_ct_help(cx->ct, cx->s, cx->st, &res, pkt, now_ms)) {
		v->accept = false;
		v->by = NFQCT_BY_HELPER;
	}
	/* A clash merged into another worker's entry confirms none of ours. */
	v->confirmed = fresh && res.conn == fresh;
	v->conn = res.conn;
	v->reply = res.reply;
	/* FLOWOFFLOAD holds for accepted ESTABLISHED packets of a flow that is
	 * established for its tracker; NEW and RELATED are never offloaded. */
	v->offload = rv.offload && v->accept && res.conn && !fresh &&
		     v->ctstate == NFQCT_CTSTATE_ESTABLISHED && nfqct_ct_offloadable(res.conn, pkt);
	if (cx->lo && v->accept && parsed && v->ctstate != NFQCT_CTSTATE_INVALID && looping_out(pkt))
		remember_looped(cx, pkt, zone, v, now_ms);
}
