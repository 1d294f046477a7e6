/*
 * extcache.c - the replication peer's flows, kept aside (extcache.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "nfqct/extcache.h"
#include "nfqct/proto_sctp.h"
#include "nfqct/proto_tcp.h"

#define XC_BUCKETS 65536u		/* a power of two */

struct xc_node {
	struct xc_node *next;
	uint64_t rx_ms;			/* when its last message came */
	struct nfqct_sync_flow f;
};

struct nfqct_extcache {
	struct xc_node **b;
	uint32_t n, max;
	uint64_t k0, k1;		/* hash key */
};

int nfqct_extcache_create(uint32_t max, struct nfqct_extcache **out)
{
	struct nfqct_extcache *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->b = calloc(XC_BUCKETS, sizeof(*x->b));
	if (!x->b) {
		free(x);
		return -ENOMEM;
	}
	x->max = max;
	if (getrandom(&x->k0, sizeof(x->k0), 0) != sizeof(x->k0) ||
	    getrandom(&x->k1, sizeof(x->k1), 0) != sizeof(x->k1))
		x->k0 = (uint64_t)(uintptr_t)x, x->k1 = 0x9e3779b97f4a7c15ull;
	*out = x;
	return 0;
}

void nfqct_extcache_flush(struct nfqct_extcache *x)
{
	for (uint32_t i = 0; i < XC_BUCKETS; i++)
		while (x->b[i]) {
			struct xc_node *n = x->b[i];

			x->b[i] = n->next;
			free(n);
		}
	x->n = 0;
}

void nfqct_extcache_destroy(struct nfqct_extcache *x)
{
	if (!x)
		return;
	nfqct_extcache_flush(x);
	free(x->b);
	free(x);
}

uint32_t nfqct_extcache_count(const struct nfqct_extcache *x)
{
	return x->n;
}

static uint16_t zone_of(const struct nfqct_sync_flow *f)
{
	return (f->have & NFQCT_SYNC_HAVE_ZONE) ? f->zone : 0;
}

/* A keyed mix of the tuple's fields and the zone (the tuple's unused parts are zero). */
static uint32_t xc_hash(const struct nfqct_extcache *x, const struct nfqct_sync_flow *f)
{
	const struct nfqct_tuple *t = &f->tuple;
	uint64_t w[6], h = x->k0;

	memcpy(w, t->src.b, 16);
	memcpy(w + 2, t->dst.b, 16);
	w[4] = (uint64_t)t->sp.port << 48 | (uint64_t)t->dp.port << 32 | (uint64_t)t->family << 24 |
	       (uint64_t)t->proto << 16 | zone_of(f);
	w[5] = x->k1;
	for (int i = 0; i < 6; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
		h += x->k1;
	}
	return (uint32_t)(h ^ (h >> 29)) & (XC_BUCKETS - 1);
}

static bool same(const struct nfqct_sync_flow *a, const struct nfqct_sync_flow *b)
{
	const struct nfqct_tuple *x = &a->tuple, *y = &b->tuple;

	return x->family == y->family && x->proto == y->proto && x->sp.port == y->sp.port &&
	       x->dp.port == y->dp.port && !memcmp(x->src.b, y->src.b, 16) &&
	       !memcmp(x->dst.b, y->dst.b, 16) && zone_of(a) == zone_of(b);
}

int nfqct_extcache_apply(struct nfqct_extcache *x, uint8_t type, const struct nfqct_sync_flow *f,
			 uint64_t now_ms)
{
	struct xc_node **pp = &x->b[xc_hash(x, f)], *n;

	for (; *pp; pp = &(*pp)->next)
		if (same(&(*pp)->f, f))
			break;
	switch (type) {
	case NFQCT_SYNC_T_NEW:
	case NFQCT_SYNC_T_UPDATE:
		if (*pp) {
			(*pp)->f = *f;
			(*pp)->rx_ms = now_ms;
			return 0;
		}
		if (x->n >= x->max)
			return -ENOSPC;
		n = malloc(sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->f = *f;
		n->rx_ms = now_ms;
		n->next = NULL;
		*pp = n;
		x->n++;
		return 0;
	case NFQCT_SYNC_T_DESTROY:
		if (!*pp)
			return -ENOENT;
		n = *pp;
		*pp = n->next;
		free(n);
		x->n--;
		return 0;
	default:
		return -EINVAL;
	}
}

void nfqct_extcache_commit(struct nfqct_extcache *x, struct nfqct_ct *ct, struct nfqct_ct_stats *st,
			   uint64_t now_ms, uint32_t ct_max, uint64_t default_ms,
			   struct nfqct_extcache_commit *res)
{
	memset(res, 0, sizeof(*res));
	for (uint32_t i = 0; i < XC_BUCKETS; i++)
		for (const struct xc_node *n = x->b[i]; n; n = n->next) {
			struct nfqct_ct_entry e;

			res->flows++;
			if (nfqct_sync_flow_to_entry(&n->f, default_ms, &e) < 0) {
				res->invalid++;
				continue;
			}
			switch (nfqct_ct_import(ct, st, &e, now_ms, ct_max, true)) {
			case 0:
				res->committed++;
				break;
			case -ENOSPC:
				res->full++;
				break;
			case -EINVAL:
				res->invalid++;
				break;
			default:
				res->failed++;
				break;
			}
		}
}

unsigned int nfqct_extcache_dump(const struct nfqct_extcache *x, FILE *out, uint64_t now_ms,
				 uint64_t default_ms)
{
	unsigned int lines = 0;

	for (uint32_t i = 0; i < XC_BUCKETS; i++)
		for (const struct xc_node *n = x->b[i]; n; n = n->next) {
			const struct nfqct_sync_flow *f = &n->f;
			struct nfqct_ct_info ci;

			memset(&ci, 0, sizeof(ci));
			ci.orig = f->tuple;
			if (!nfqct_tuple_invert(&ci.reply, &f->tuple))
				ci.reply = f->tuple;
			ci.zone = zone_of(f);
			if (f->tuple.proto == IPPROTO_TCP) {
				ci.tcp_state = f->tcp_state;
				ci.state_name = nfqct_tcp_state_name(f->tcp_state);
			} else if (f->have & NFQCT_SYNC_HAVE_SCTP) {
				ci.state_name = nfqct_sctp_state_name(f->sctp_state);
			}
			ci.seen_reply = f->status & NFQCT_IPS_SEEN_REPLY;
			ci.assured = f->status & NFQCT_IPS_ASSURED;
			ci.confirmed = true;
			ci.acct = f->have & NFQCT_SYNC_HAVE_COUNTERS;
			memcpy(ci.packets, f->packets, sizeof(ci.packets));
			memcpy(ci.bytes, f->bytes, sizeof(ci.bytes));
			ci.mark = f->mark;
			ci.expires_ms = now_ms + ((f->have & NFQCT_SYNC_HAVE_TIMEOUT) ?
						  (uint64_t)f->timeout_s * 1000 : default_ms);
			nfqct_ct_info_print(out, &ci, now_ms);
			fputc('\n', out);
			lines++;
		}
	return lines;
}
