/*
 * rules_eval.c - running the raw and filter chains for one packet.
 *
 * A linear walk over the chain's compact rules (rules_int.h), jumps kept
 * on a fixed stack (the loader bounds the nesting), no allocation.  A rule
 * only tests what it has (its match bits), cheapest and most selective
 * first.  Counters go to the worker's own block with relaxed stores: one
 * writer per slot, readers sum the blocks (stats.h has the reasoning).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/ct.h"
#include "nfqct/ifname.h"
#include "nfqct/ipset.h"
#include "nfqct/rules.h"
#include "rules_int.h"

struct evctx {
	const struct nfqct_ruleset *rs;
	const struct rules_xmatch *xm;	/* the table's extension matches */
	struct rules_xctx x;		/* what they read */
	const struct nfqct_pkt *pkt;
	unsigned int worker;
	uint64_t now_ms;	/* the caller's clock, for the interface-name cache */
	uint8_t master_helper;	/* the expected entry's master's helper (-m helper), 0: none */
	bool have_in, have_out;
	bool hotdrop;		/* an extension match asked to drop the packet */
	uint64_t in[2], out[2];	/* interface names, NUL-padded */
};

static void ifname_load(struct evctx *cx, uint32_t ifindex, uint64_t name[2])
{
	const char *s;

	if (ifindex == 0) {
		name[0] = name[1] = 0;
		return;
	}
	s = nfqct_ifname_get(&cx->rs->ifc[cx->worker], ifindex, cx->now_ms);
	memcpy(name, s, 16);
}

static inline bool addr_match(const union nfqct_addr *a, const uint64_t want[2], const uint64_t msk[2])
{
	uint64_t x[2];

	memcpy(x, a, 16);
	return (((x[0] & msk[0]) ^ want[0]) | ((x[1] & msk[1]) ^ want[1])) == 0;
}

static inline bool name_match(const uint64_t n[2], const uint64_t want[2], const uint64_t msk[2])
{
	return (((n[0] ^ want[0]) & msk[0]) | ((n[1] ^ want[1]) & msk[1])) == 0;
}

/* A test failed when its outcome equals its negation bit. */
#define FAIL_IF(bit, ok) do { if ((bool)(ok) == ((inv & (bit)) != 0)) return false; } while (0)

static inline bool rule_match(const struct rules_rule *r, struct evctx *cx, uint32_t mark,
			      unsigned int ctstate)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	unsigned int m = r->match, inv = r->inv;

	if (!m)
		return true;
	if ((m & RM_FAMILY) && r->family != pkt->tuple.family)
		return false;
	if (m & RM_PROTO)
		FAIL_IF(RM_PROTO, r->proto == pkt->tuple.proto);
	if (m & RM_FRAG)	/* ip_packet_match(): a non-first IPv4 fragment */
		FAIL_IF(RM_FRAG, pkt->tuple.family == AF_INET && (pkt->flags & NFQCT_PKT_F_LATER_FRAG));
	if (m & (RM_SPORT | RM_DPORT | RM_ICMP)) {
		/* No L4 header in a later fragment: the match fails, negated or not (as xt_tcpudp). */
		if (pkt->flags & NFQCT_PKT_F_LATER_FRAG)
			return false;
		if (m & RM_DPORT) {
			uint16_t p = ntohs(pkt->tuple.dp.port);

			FAIL_IF(RM_DPORT, p >= r->dport[0] && p <= r->dport[1]);
		}
		if (m & RM_SPORT) {
			uint16_t p = ntohs(pkt->tuple.sp.port);

			FAIL_IF(RM_SPORT, p >= r->sport[0] && p <= r->sport[1]);
		}
		if (m & RM_ICMP) {
			uint8_t c = pkt->tuple.dp.icmp.code;

			FAIL_IF(RM_ICMP, r->icmp_any || (pkt->tuple.dp.icmp.type == r->icmp_type &&
							 c >= r->icmp_code[0] && c <= r->icmp_code[1]));
		}
	}
	if (m & RM_CTSTATE)
		FAIL_IF(RM_CTSTATE, (r->ctstate & ctstate) != 0);
	if (m & RM_MARK)
		FAIL_IF(RM_MARK, (mark & r->mark_mask) == r->mark_value);
	if (m & RM_HELPER) {
		/* xt_helper: the master's helper; "" matches any helper */
		unsigned int h = cx->master_helper;

		FAIL_IF(RM_HELPER, h && (!r->helper || r->helper == h));
	}
	if (m & RM_SRC)
		FAIL_IF(RM_SRC, addr_match(&pkt->tuple.src, r->src, r->smsk));
	if (m & RM_DST)
		FAIL_IF(RM_DST, addr_match(&pkt->tuple.dst, r->dst, r->dmsk));
	if (m & RM_IN) {
		if (!cx->have_in) {
			ifname_load(cx, pkt->indev, cx->in);
			cx->have_in = true;
		}
		FAIL_IF(RM_IN, name_match(cx->in, r->in, r->inmsk));
	}
	if (m & RM_OUT) {
		if (!cx->have_out) {
			ifname_load(cx, pkt->outdev, cx->out);
			cx->have_out = true;
		}
		FAIL_IF(RM_OUT, name_match(cx->out, r->out, r->outmsk));
	}
	if (m & RM_XMATCH) {
		/* after every core test, in the order written (rules_int.h) */
		const struct rules_xmatch *x = cx->xm + r->xfirst, *end = x + r->xcount;

		for (; x < end; x++)
			if (!rules_xkinds[x->kind].eval(x, &cx->x))
				return false;
	}
	return true;
}

bool rules_core_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	unsigned int b = m->u.core.bits, inv = m->u.core.inv;

	/* the same tests as rule_match()'s, on the values the walk has now */
	if (b & (RM_SPORT | RM_DPORT | RM_ICMP)) {
		if (pkt->flags & NFQCT_PKT_F_LATER_FRAG)
			return false;
		if (b & RM_DPORT) {
			uint16_t p = ntohs(pkt->tuple.dp.port);

			FAIL_IF(RM_DPORT, p >= m->u.core.dport[0] && p <= m->u.core.dport[1]);
		}
		if (b & RM_SPORT) {
			uint16_t p = ntohs(pkt->tuple.sp.port);

			FAIL_IF(RM_SPORT, p >= m->u.core.sport[0] && p <= m->u.core.sport[1]);
		}
		if (b & RM_ICMP) {
			uint8_t c = pkt->tuple.dp.icmp.code;

			FAIL_IF(RM_ICMP, m->u.core.icmp_any || (pkt->tuple.dp.icmp.type == m->u.core.icmp_type &&
								 c >= m->u.core.icmp_code[0] &&
								 c <= m->u.core.icmp_code[1]));
		}
	}
	if (b & RM_CTSTATE)
		FAIL_IF(RM_CTSTATE, (m->u.core.ctstate & *cx->ctstate) != 0);
	if (b & RM_MARK)
		FAIL_IF(RM_MARK, (*cx->mark & m->u.core.mark_mask) == m->u.core.mark_value);
	if (b & RM_HELPER) {
		unsigned int h = cx->master_helper;

		FAIL_IF(RM_HELPER, h && (!m->u.core.helper || m->u.core.helper == h));
	}
	return true;
}

static inline void count(struct rules_counter *c, uint32_t len)
{
	__atomic_store_n(&c->packets, __atomic_load_n(&c->packets, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes, __atomic_load_n(&c->bytes, __ATOMIC_RELAXED) + len,
			 __ATOMIC_RELAXED);
}

/* Run chain @chain of @t with the mark at @mark; fills @out (accept, notrack, zone,
 * set_mark, by). */
static void walk(struct evctx *cx, const struct rules_table *t, int chain, unsigned int ctstate,
		 uint32_t *mark, struct nfqct_rules_verdict *out)
{
	struct {
		uint32_t ret;	/* index of the jump rule */
		uint32_t end;	/* end of the caller's chain */
		int32_t chain;	/* the caller's chain */
	} stack[NFQCT_RULES_MAX_DEPTH];
	const struct rules_chain *bc = &t->chains[chain];
	struct rules_counter *ctr = rules_worker_ctr(cx->rs, cx->worker);
	struct rules_counter *rctr = ctr + t->slot0;
	const struct rules_rule *rules = t->rules;
	uint32_t len = cx->pkt->len;
	unsigned int depth = 0;
	uint32_t i = bc->first, end = bc->first + bc->count;
	int32_t cur = chain;	/* the chain rule i belongs to */
	bool ct_done = false;	/* a NOTRACK / CT target has run */

	cx->x.mark = mark;	/* XK_CORE reads them as they are at its rule */
	cx->x.ctstate = &ctstate;

	for (;;) {
		for (; i < end; i++) {
			const struct rules_rule *r = &rules[i];
			const struct rules_chain *to;

			if (!rule_match(r, cx, *mark, ctstate)) {
				if (!cx->hotdrop)
					continue;
				/* hotdrop: dropped here, this rule not counted (ipt_do_table) */
				out->accept = false;
				out->by.chain = cur;
				out->by.rule = (int32_t)(i - t->chains[cur].first);
				return;
			}
			count(&rctr[i], len);
			switch (r->target) {
			case RT_NONE:
				break;
			case RT_REJECT:
				/* The loader gave each family the rule can see a type. */
				out->reject = (uint8_t)(cx->pkt->tuple.family == AF_INET6 ? r->tmask : r->tval);
				/* fall through */
			case RT_ACCEPT:
			case RT_DROP:
				out->accept = r->target == RT_ACCEPT;
				out->by.chain = cur;
				out->by.rule = (int32_t)(i - t->chains[cur].first);
				return;
			case RT_RETURN:
				if (depth == 0)
					goto policy;
				depth--;
				i = stack[depth].ret;
				end = stack[depth].end;
				cur = stack[depth].chain;
				break;
			case RT_JUMP:
				/* The loader keeps nesting within the stack. */
				stack[depth].ret = i;
				stack[depth].end = end;
				stack[depth].chain = cur;
				depth++;
				cur = (int32_t)r->tval;
				to = &t->chains[cur];
				i = to->first - 1;	/* wraps to UINT32_MAX for 0; i++ follows */
				end = to->first + to->count;
				break;
			case RT_GOTO:
				/* No return frame: when the chain ends or returns, the walk
				 * goes back to whoever jumped to the chain holding this rule
				 * (or to the built-in chain's policy), as iptables -g. */
				cur = (int32_t)r->tval;
				to = &t->chains[cur];
				i = to->first - 1;
				end = to->first + to->count;
				break;
			case RT_LOG:
				/* Remembered for the caller, who copies what it logs
				 * before the ruleset may go (see rules.h). */
				if (out->nlog < NFQCT_RULES_MAX_LOG)
					out->log[out->nlog++] = (struct nfqct_rules_log){
						.spec = &t->info[i].log, .mark = *mark };
				else if (out->log_lost < UINT8_MAX)
					out->log_lost++;
				break;
			case RT_SET: {
				/* xt_SET: add or delete the packet's element, then go on.
				 * It takes the set's mutex and may allocate: see ipset.h. */
				const struct rules_settarget *st = t->info[i].set;
				struct nfqct_ipset_probe pr = { .t = &cx->x.pkt->tuple };

				if (st->add) {
					pr.dim = st->add_dim;
					pr.src = st->add_src;
					(void)nfqct_ipset_pkt_add(st->add, &pr, st->timeout, st->exist, cx->x.now_ms);
				}
				if (st->del) {
					pr.dim = st->del_dim;
					pr.src = st->del_src;
					(void)nfqct_ipset_pkt_del(st->del, &pr, cx->x.now_ms);
				}
				break;
			}
			case RT_FLOWOFFLOAD:
				/* OpenWrt's target and nft's `flow add`: the flow is
				 * marked; the judge offloads it only if this packet
				 * ends up accepted and the flow is established. */
				out->offload = true;
				break;
			case RT_MARK:
				*mark = (*mark & ~r->tmask) ^ r->tval;
				out->set_mark = true;
				break;
			case RT_CONNMARK_SET:
			case RT_CONNMARK_SAVE:
				/* xt_CONNMARK; the entry's mark is shared: atomic (ct.h) */
				if (cx->x.ct->conn)
					nfqct_ct_mark_xset(cx->x.ct->conn, r->target == RT_CONNMARK_SET ?
							   r->tval : (*mark & r->tval), r->tmask);
				break;
			case RT_CONNMARK_RESTORE:
				if (cx->x.ct->conn) {
					*mark = (*mark & ~r->tval) ^ (nfqct_ct_mark(cx->x.ct->conn) & r->tmask);
					out->set_mark = true;
				}
				break;
			case RT_NOTRACK:
			case RT_CT:
				/* The first one decides, later ones are no-ops (the kernel
				 * ignores CT on a packet that already has a ct). */
				if (!ct_done) {
					ct_done = true;
					out->notrack = r->target == RT_NOTRACK || (r->tmask & 1);
					out->zone = out->notrack ? 0 : (uint16_t)r->tval;
					out->helper = out->notrack ? 0 : (uint8_t)(r->tmask >> 8);
					if (out->notrack)
						ctstate = NFQCT_CTSTATE_UNTRACKED;
				}
				break;
			}
		}
		if (depth == 0)
			break;
		depth--;
		i = stack[depth].ret + 1;
		end = stack[depth].end;
		cur = stack[depth].chain;
	}
policy:
	count(&ctr[bc->pol_slot], len);
	out->accept = bc->policy == RT_ACCEPT;
	out->by.chain = chain;
	out->by.rule = -1;
}

/* Run table @id's chain for pkt->hook; a hook without a chain accepts.  A
 * pair's half for the packet's family runs. */
static void run_table(const struct nfqct_ruleset *rs, int id,
		      unsigned int worker, const struct nfqct_pkt *pkt,
		      const struct nfqct_rules_ct *ct, uint64_t now_ms, uint32_t *mark,
		      struct nfqct_rules_verdict *out)
{
	struct evctx cx = {
		.rs = rs->v6 && nfqct_pkt_family(pkt) == AF_INET6 ? rs->v6 : rs,
		.x = { .pkt = pkt, .ct = ct, .now_ms = now_ms, .worker = worker },
		.pkt = pkt, .worker = worker, .now_ms = now_ms,
		.master_helper = ct->master_helper,
	};
	const struct rules_table *t = &cx.rs->t[id];

	cx.x.ifc = cx.rs->ifc ? &cx.rs->ifc[worker] : NULL;

	cx.xm = t->xm;
	cx.x.hotdrop = &cx.hotdrop;
	cx.x.master_helper = ct->master_helper;
	*out = (struct nfqct_rules_verdict){ .accept = true, .by = { -1, -1 } };
	if (pkt->hook < NFQCT_HOOK_MAX && t->hook_chain[pkt->hook] >= 0)
		walk(&cx, t, t->hook_chain[pkt->hook], ct->state, mark, out);
}

void nfqct_ruleset_raw(const struct nfqct_ruleset *rs, unsigned int worker,
		       const struct nfqct_pkt *pkt, uint64_t now_ms, uint32_t *mark,
		       struct nfqct_rules_verdict *out)
{
	/* The raw table runs before conntrack: no ct state yet (-m conntrack
	 * there sees INVALID, as the kernel's raw table sees no ct). */
	static const struct nfqct_rules_ct no_ct = { .state = NFQCT_CTSTATE_INVALID };

	run_table(rs, RULES_T_RAW, worker, pkt, &no_ct, now_ms, mark, out);
}

void nfqct_ruleset_filter(const struct nfqct_ruleset *rs, unsigned int worker,
			  const struct nfqct_pkt *pkt, const struct nfqct_rules_ct *ct,
			  uint64_t now_ms, uint32_t *mark, struct nfqct_rules_verdict *out)
{
	/* NOTRACK and CT are raw-table targets (the loader refuses them here),
	 * so notrack and zone stay false and 0. */
	run_table(rs, RULES_T_FILTER, worker, pkt, ct, now_ms, mark, out);
}
