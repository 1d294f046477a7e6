/*
 * connlimit.c - nf_conncount's lists for -m connlimit (connlimit.h).
 *
 * Two arrays made with the instance: address slots (an open-addressing
 * hash, linear probing, deleted slots marked) and connection nodes, each
 * slot's nodes chained by index.  Free nodes chain through the same link.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <urcu/arch.h>

#include "nfqct/connlimit.h"
#include "nfqct/ct.h"
#include "nfqct/tbf.h"

#define SLOTS (2 * NFQCT_CONNLIMIT_MAX)	/* at most half full: every slot has a node */

enum { SLOT_FREE, SLOT_USED, SLOT_DELETED };

struct cl_slot {
	union nfqct_addr key;
	uint8_t family;
	uint8_t state;		/* SLOT_* */
	uint32_t count;
	int32_t head;		/* first node, -1: none */
	uint64_t last_gc;	/* jiffy of the last look at the list */
};

struct cl_node {
	struct nfqct_tuple tuple;
	uint16_t zone;
	int32_t next;
	uint32_t worker;	/* who added it (the kernel's cpu) */
	uint64_t added;		/* jiffy it was added */
};

struct nfqct_connlimit {
	bool lock;
	uint32_t seed;
	int32_t free_head;	/* nodes given back, chained by next */
	uint32_t used;		/* nodes ever handed out: the rest are untouched */
	struct cl_slot *slots;	/* [SLOTS] */
	struct cl_node *nodes;	/* [NFQCT_CONNLIMIT_MAX] */
};

static void cl_lock(struct nfqct_connlimit *cl)
{
	while (__atomic_test_and_set(&cl->lock, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&cl->lock, __ATOMIC_RELAXED))
			caa_cpu_relax();
}

static void cl_unlock(struct nfqct_connlimit *cl)
{
	__atomic_clear(&cl->lock, __ATOMIC_RELEASE);
}

struct nfqct_connlimit *nfqct_connlimit_alloc(void)
{
	struct nfqct_connlimit *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	/* calloc of this size maps zero pages: untouched ones cost nothing */
	cl->slots = calloc(SLOTS, sizeof(*cl->slots));
	cl->nodes = calloc(NFQCT_CONNLIMIT_MAX, sizeof(*cl->nodes));
	if (!cl->slots || !cl->nodes || getrandom(&cl->seed, sizeof(cl->seed), 0) < 0) {
		nfqct_connlimit_free(cl);
		return NULL;
	}
	cl->free_head = -1;
	return cl;
}

void nfqct_connlimit_free(struct nfqct_connlimit *cl)
{
	if (!cl)
		return;
	free(cl->slots);
	free(cl->nodes);
	free(cl);
}

static uint32_t key_hash(const struct nfqct_connlimit *cl, const union nfqct_addr *k, int family)
{
	uint32_t h = cl->seed ^ (uint32_t)family;

	for (int i = 0; i < 4; i++) {
		h ^= k->ip6[i];
		h *= 0x9e3779b1u;
		h ^= h >> 16;
	}
	return h;
}

/* The slot of @k, or NULL; with @make, a new one (NULL only when full). */
static struct cl_slot *slot_find(struct nfqct_connlimit *cl, const union nfqct_addr *k, int family, bool make)
{
	struct cl_slot *reuse = NULL;

	for (uint32_t i = key_hash(cl, k, family), n = 0; n < SLOTS; i++, n++) {
		struct cl_slot *s = &cl->slots[i & (SLOTS - 1)];

		if (s->state == SLOT_FREE) {
			if (!make)
				return NULL;
			if (!reuse)
				reuse = s;
			break;
		}
		if (s->state == SLOT_DELETED) {
			if (!reuse)
				reuse = s;
			continue;
		}
		if (s->family == family && !memcmp(&s->key, k, sizeof(*k)))
			return s;
	}
	if (!make || !reuse)
		return NULL;
	memset(reuse, 0, sizeof(*reuse));
	reuse->key = *k;
	reuse->family = (uint8_t)family;
	reuse->state = SLOT_USED;
	reuse->head = -1;
	reuse->last_gc = UINT64_MAX;
	return reuse;
}

/* A node: one given back, else the next untouched one; -1 when all are in use. */
static int32_t node_get(struct nfqct_connlimit *cl)
{
	int32_t i = cl->free_head;

	if (i >= 0) {
		cl->free_head = cl->nodes[i].next;
		return i;
	}
	if (cl->used >= NFQCT_CONNLIMIT_MAX)
		return -1;
	return (int32_t)cl->used++;
}

static void node_put(struct nfqct_connlimit *cl, int32_t i)
{
	cl->nodes[i].next = cl->free_head;
	cl->free_head = i;
}

static bool tuple_same(const struct nfqct_tuple *a, const struct nfqct_tuple *b)
{
	return !memcmp(a, b, sizeof(*a));
}

int nfqct_connlimit_count(struct nfqct_connlimit *cl, struct nfqct_ct *ct, const union nfqct_addr *key,
			  int family, const struct nfqct_tuple *tuple, uint16_t zone, unsigned int worker,
			  uint64_t now_ms)
{
	uint64_t now = nfqct_tbf_jiffies(now_ms);
	struct cl_slot *s;
	int32_t *pp, i;
	int rc;

	cl_lock(cl);
	s = slot_find(cl, key, family, true);
	if (!s) {
		rc = -ENOSPC;
		goto out;
	}
	if (s->last_gc != now) {
		/* look at the list: drop what the table no longer has (or has closed) */
		for (pp = &s->head; (i = *pp) >= 0;) {
			struct cl_node *n = &cl->nodes[i];
			struct nfqct_conn *c = nfqct_ct_lookup(ct, &n->tuple, n->zone, now_ms, NULL);

			if (!c) {
				/* find_or_evict(): gone, unless another worker added it
				 * less than 2 jiffies ago (not confirmed yet) */
				if (n->worker == worker || now - n->added >= 2)
					goto evict;
				if (tuple_same(&n->tuple, tuple) && n->zone == zone) {
					rc = (int)s->count;	/* listed already */
					goto out;
				}
				pp = &n->next;
				continue;
			}
			if (tuple_same(&n->tuple, tuple) && n->zone == zone) {
				rc = (int)s->count;	/* listed already */
				goto out;
			}
			if (nfqct_ct_closed(c))
				goto evict;
			pp = &n->next;
			continue;
evict:
			*pp = n->next;
			node_put(cl, i);
			s->count--;
		}
	}
	i = node_get(cl);
	if (i < 0) {
		rc = -ENOSPC;
		goto out;
	}
	cl->nodes[i] = (struct cl_node){ .tuple = *tuple, .zone = zone, .next = -1, .worker = worker,
					 .added = now };
	for (pp = &s->head; *pp >= 0; pp = &cl->nodes[*pp].next)
		;
	*pp = i;
	s->count++;
	s->last_gc = now;
	rc = (int)s->count;
out:
	if (s && s->state == SLOT_USED && s->count == 0 && s->head < 0)
		s->state = SLOT_DELETED;
	cl_unlock(cl);
	return rc;
}
