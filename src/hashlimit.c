/*
 * hashlimit.c - xt_hashlimit's tables (hashlimit.h).
 *
 * A table: its buckets (heads of chains of entry indexes), and an arena of
 * max entries made with it; free entries chain through the same link.
 * Every access is under the table's spinlock: the packet path's lookup,
 * update and insertion, and the housekeeping thread's expiry.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <urcu/arch.h>

#include "nfqct/hashlimit.h"
#include "nfqct/tbf.h"

/* Credits per jiffy, 64-bit (revisions 2 and 3): the power of two below
 * 2^64 / (HZ * one day); and the byte mode's, below 2^32 / HZ. */
#define HL_CPJ_MAX (0xFFFFFFFFFFFFFFFFull / (NFQCT_TBF_HZ * 86400ull))
#define HL_CPJ (1ull << 39)
_Static_assert(HL_CPJ <= HL_CPJ_MAX && 2 * HL_CPJ > HL_CPJ_MAX, "HL_CPJ: the power of two below HL_CPJ_MAX");
#define HL_CPJ_BYTES_MAX (0xFFFFFFFFu / NFQCT_TBF_HZ)
#define HL_CPJ_BYTES (1u << 24)
_Static_assert(HL_CPJ_BYTES <= HL_CPJ_BYTES_MAX && 2ull * HL_CPJ_BYTES > HL_CPJ_BYTES_MAX,
	       "HL_CPJ_BYTES: the power of two below HL_CPJ_BYTES_MAX");

uint64_t nfqct_hashlimit_credits(uint64_t user)
{
	/* user2credits(): the constants divided first (HZ * CPJ > scale here) */
	return user * ((NFQCT_TBF_HZ * HL_CPJ) / NFQCT_HL_SCALE);
}

uint32_t nfqct_hashlimit_credits_byte(uint32_t user)
{
	return (uint32_t)(((uint64_t)user * (NFQCT_TBF_HZ * HL_CPJ_BYTES)) >> 32);
}

uint64_t nfqct_hashlimit_bytes_to_cost(uint64_t bytes)
{
	uint32_t r = (uint32_t)(bytes >> NFQCT_HL_BYTE_SHIFT);	/* 32 bits, as libxt_hashlimit */

	return UINT32_MAX / ((uint64_t)r + 1);
}

uint64_t nfqct_hashlimit_cost_to_bytes(uint64_t cost)
{
	uint64_t r = cost ? UINT32_MAX / cost : UINT32_MAX;

	return (r - 1) << NFQCT_HL_BYTE_SHIFT;
}

static uint64_t user2rate_bytes(uint32_t user)
{
	uint64_t r = user ? UINT32_MAX / user : UINT32_MAX;

	return (r - 1) << NFQCT_HL_BYTE_SHIFT;
}

/* msecs_to_jiffies() at HZ 250: rounded up */
static uint64_t ms_to_jiffies(uint64_t ms)
{
	return (ms + 1000 / NFQCT_TBF_HZ - 1) / (1000 / NFQCT_TBF_HZ);
}

int nfqct_hashlimit_check(const struct nfqct_hashlimit_cfg *cfg, int family)
{
	if (cfg->gc_interval == 0 || cfg->expire == 0)
		return -EINVAL;
	if ((family == AF_INET && (cfg->srcmask > 32 || cfg->dstmask > 32)) || cfg->srcmask > 128 ||
	    cfg->dstmask > 128)
		return -EINVAL;
	if (cfg->mode & NFQCT_HL_RATE_MATCH) {
		if (cfg->avg == 0 || cfg->avg > UINT32_MAX)
			return -ERANGE;
		if (cfg->interval == 0)
			return -EINVAL;
	} else if (cfg->mode & NFQCT_HL_BYTES) {
		if (nfqct_hashlimit_credits_byte((uint32_t)cfg->avg) == 0)
			return -EINVAL;
	} else if (cfg->burst == 0 ||
		   nfqct_hashlimit_credits(cfg->avg * cfg->burst) < nfqct_hashlimit_credits(cfg->avg)) {
		return -ERANGE;
	}
	return 0;
}

/* The key: masked addresses and ports, as struct dsthash_dst. */
struct hl_key {
	uint32_t src[4], dst[4];
	uint16_t sport, dport;
};

struct hl_ent {
	struct hl_key key;
	int32_t next;		/* chain, or free list */
	uint64_t expires;	/* jiffies */
	uint64_t prev;		/* rateinfo */
	uint64_t credit, credit_cap, cost;
	uint64_t current_rate, rate, burst;
	uint32_t interval;
	bool prev_window;
};

struct nfqct_hashlimit_table {
	struct nfqct_hashlimit_table *next;	/* the registry, in name order */
	char name[NFQCT_HL_NAME_LEN + 1];
	int family;
	struct nfqct_hashlimit_cfg cfg;	/* as the rule gave it (compared by nfqct_hashlimit_get) */
	uint32_t hash_size, ent_max;	/* htable_create()'s resolved size and max */
	unsigned int refcnt;
	unsigned int count, used;
	int32_t free_head;
	uint32_t seed;
	uint64_t next_gc_ms;
	bool lock;
	int32_t *hash;			/* [cfg.size] */
	struct hl_ent *ents;		/* [cfg.max] */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nfqct_hashlimit_table *reg;

static void tlock(struct nfqct_hashlimit_table *t)
{
	while (__atomic_test_and_set(&t->lock, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&t->lock, __ATOMIC_RELAXED))
			caa_cpu_relax();
}

static void tunlock(struct nfqct_hashlimit_table *t)
{
	__atomic_clear(&t->lock, __ATOMIC_RELEASE);
}

static void table_free(struct nfqct_hashlimit_table *t)
{
	free(t->hash);
	free(t->ents);
	free(t);
}

/* htable_create()'s default size: by the machine's memory */
static uint32_t default_size(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t ram = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
	uint64_t size = ram / 16384 / 8;

	if (ram > 1024ull * 1024 * 1024)
		size = 8192;
	if (size < 16)
		size = 16;
	return (uint32_t)size;
}

int nfqct_hashlimit_get(const char *name, int family, const struct nfqct_hashlimit_cfg *cfg,
			struct nfqct_hashlimit_table **tp)
{
	struct nfqct_hashlimit_table *t, **pp;
	struct nfqct_hashlimit_cfg c = *cfg;
	int rc = 0;

	if (strlen(name) > NFQCT_HL_NAME_LEN)
		return -EINVAL;
	if (c.size > NFQCT_HL_MAX_SIZE)	/* truncated, as the kernel */
		c.size = NFQCT_HL_MAX_SIZE;
	if (c.max > NFQCT_HL_MAX_SIZE)
		c.max = NFQCT_HL_MAX_SIZE;
	pthread_mutex_lock(&reg_lock);
	for (t = reg; t; t = t->next)
		if (!strcmp(t->name, name) && t->family == family && !memcmp(&t->cfg, &c, sizeof(c))) {
			t->refcnt++;
			*tp = t;
			goto out;
		}
	t = calloc(1, sizeof(*t));
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	strcpy(t->name, name);
	t->family = family;
	t->cfg = c;	/* compared as given; the resolved sizes below */
	t->refcnt = 1;
	{
		uint32_t size = c.size ? c.size : default_size();
		uint32_t max = c.max == 0 ? 8 * size : c.max < size ? size : c.max;

		t->hash = malloc(size * sizeof(*t->hash));
		/* calloc of this size maps zero pages: untouched entries cost nothing */
		t->ents = calloc(max, sizeof(*t->ents));
		if (!t->hash || !t->ents || getrandom(&t->seed, sizeof(t->seed), 0) < 0) {
			table_free(t);
			rc = -ENOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < size; i++)
			t->hash[i] = -1;
		t->free_head = -1;
		t->hash_size = size;
		t->ent_max = max;
	}
	for (pp = &reg; *pp && strcmp((*pp)->name, name) < 0; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	*tp = t;
out:
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

void nfqct_hashlimit_put(struct nfqct_hashlimit_table *t)
{
	struct nfqct_hashlimit_table **pp;

	if (!t)
		return;
	pthread_mutex_lock(&reg_lock);
	if (--t->refcnt == 0) {
		for (pp = &reg; *pp != t; pp = &(*pp)->next)
			;
		*pp = t->next;
		table_free(t);
	}
	pthread_mutex_unlock(&reg_lock);
}

static uint32_t maskl(uint32_t a, unsigned int l)
{
	return l ? htonl(ntohl(a) & ~0u << (32 - l)) : 0;
}

static void mask6(uint32_t *a, unsigned int p)
{
	for (unsigned int w = 0; w < 4; w++) {
		unsigned int left = p > w * 32 ? p - w * 32 : 0;

		if (left < 32)
			a[w] = maskl(a[w], left);
	}
}

/* hashlimit_init_dst(): -1 when the ports cannot be read (a later fragment) */
static int make_key(const struct nfqct_hashlimit_table *t, const struct nfqct_pkt *pkt, struct hl_key *k)
{
	const struct nfqct_hashlimit_cfg *c = &t->cfg;
	int off;

	memset(k, 0, sizeof(*k));
	if (c->mode & NFQCT_HL_DIP) {
		memcpy(k->dst, &pkt->tuple.dst, t->family == AF_INET ? 4 : 16);
		if (t->family == AF_INET)
			k->dst[0] = maskl(k->dst[0], c->dstmask);
		else
			mask6(k->dst, c->dstmask);
	}
	if (c->mode & NFQCT_HL_SIP) {
		memcpy(k->src, &pkt->tuple.src, t->family == AF_INET ? 4 : 16);
		if (t->family == AF_INET)
			k->src[0] = maskl(k->src[0], c->srcmask);
		else
			mask6(k->src, c->srcmask);
	}
	if (!(c->mode & (NFQCT_HL_DPT | NFQCT_HL_SPT)))
		return 0;
	if (pkt->flags & NFQCT_PKT_F_LATER_FRAG)
		return -1;
	switch (pkt->tuple.proto) {	/* proto_ports_offset() */
	case IPPROTO_TCP: case IPPROTO_UDP: case IPPROTO_DCCP: case IPPROTO_ESP: case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
		off = 0;
		break;
	case IPPROTO_AH:
		off = 4;
		break;
	default:
		return 0;	/* ports 0 */
	}
	if (!pkt->l4 || pkt->l4caplen < (uint32_t)off + 4)
		return -1;
	if (c->mode & NFQCT_HL_SPT)
		memcpy(&k->sport, pkt->l4 + off, 2);
	if (c->mode & NFQCT_HL_DPT)
		memcpy(&k->dport, pkt->l4 + off + 2, 2);
	return 0;
}

static uint32_t key_hash(const struct nfqct_hashlimit_table *t, const struct hl_key *k)
{
	const uint32_t *w = (const uint32_t *)k;
	uint32_t h = t->seed;

	for (size_t i = 0; i < sizeof(*k) / 4; i++) {
		h ^= w[i];
		h *= 0x9e3779b1u;
		h ^= h >> 15;
	}
	return (uint32_t)(((uint64_t)h * t->hash_size) >> 32);	/* reciprocal_scale() */
}

static void rate_init(const struct nfqct_hashlimit_table *t, struct hl_ent *e, uint64_t now)
{
	const struct nfqct_hashlimit_cfg *c = &t->cfg;

	e->prev = now;
	if (c->mode & NFQCT_HL_RATE_MATCH) {
		e->prev_window = false;
		e->current_rate = 0;
		if (c->mode & NFQCT_HL_BYTES) {
			e->rate = user2rate_bytes((uint32_t)c->avg);
			e->burst = c->burst ? c->burst * e->rate : e->rate;
		} else {
			e->rate = NFQCT_HL_SCALE / c->avg;	/* user2rate() */
			e->burst = c->burst + e->rate;
		}
		e->interval = c->interval;
	} else if (c->mode & NFQCT_HL_BYTES) {
		e->credit = (uint64_t)HL_CPJ_BYTES * NFQCT_TBF_HZ;
		e->cost = nfqct_hashlimit_credits_byte((uint32_t)c->avg);
		e->credit_cap = c->burst;
	} else {
		e->credit = nfqct_hashlimit_credits(c->avg * c->burst);
		e->cost = nfqct_hashlimit_credits(c->avg);
		e->credit_cap = e->credit;
	}
}

static void rate_recalc(const struct nfqct_hashlimit_table *t, struct hl_ent *e, uint64_t now)
{
	uint32_t mode = t->cfg.mode;
	uint64_t delta = now - e->prev, cap;

	if (delta == 0 || now < e->prev)	/* a worker's clock behind another's: nothing earned */
		return;
	if (mode & NFQCT_HL_RATE_MATCH) {
		uint64_t interval = (uint64_t)e->interval * NFQCT_TBF_HZ;

		if (delta < interval)
			return;
		e->prev = now;
		e->prev_window = e->current_rate * interval > delta * e->rate;
		e->current_rate = 0;
		return;
	}
	e->prev = now;
	if (mode & NFQCT_HL_BYTES) {
		uint64_t tmp = e->credit;

		e->credit += (uint64_t)HL_CPJ_BYTES * delta;
		cap = (uint64_t)HL_CPJ_BYTES * NFQCT_TBF_HZ;
		if (tmp >= e->credit) {	/* overflow */
			e->credit = cap;
			return;
		}
	} else {
		e->credit += delta * HL_CPJ;
		cap = e->credit_cap;
	}
	if (e->credit > cap)
		e->credit = cap;
}

/* hashlimit_byte_cost() */
static uint64_t byte_cost(uint32_t len, struct hl_ent *e)
{
	uint64_t tmp = (uint64_t)((len >> NFQCT_HL_BYTE_SHIFT) + 1) * e->cost;
	uint64_t top = (uint64_t)HL_CPJ_BYTES * NFQCT_TBF_HZ;

	if (tmp > top)
		tmp = top;
	if (e->credit < tmp && e->credit_cap) {
		e->credit_cap--;
		e->credit = top;
	}
	return (uint32_t)tmp;
}

int nfqct_hashlimit_match(struct nfqct_hashlimit_table *t, const struct nfqct_pkt *pkt, uint64_t now_ms)
{
	const struct nfqct_hashlimit_cfg *c = &t->cfg;
	uint64_t now = nfqct_tbf_jiffies(now_ms), cost;
	bool inv = c->mode & NFQCT_HL_INVERT;
	struct hl_key k;
	struct hl_ent *e = NULL;
	uint32_t h;
	int32_t i;
	int ret;

	if (make_key(t, pkt, &k) < 0)
		return -1;
	h = key_hash(t, &k);
	tlock(t);
	for (i = t->hash[h]; i >= 0; i = t->ents[i].next)
		if (!memcmp(&t->ents[i].key, &k, sizeof(k))) {
			e = &t->ents[i];
			break;
		}
	if (!e) {
		/* dsthash_alloc_init(): a full table takes no new key: hotdrop */
		if (t->free_head >= 0) {
			i = t->free_head;
			t->free_head = t->ents[i].next;
		} else if (t->used < t->ent_max) {
			i = (int32_t)t->used++;
		} else {
			tunlock(t);
			return -1;
		}
		e = &t->ents[i];
		memset(e, 0, sizeof(*e));
		e->key = k;
		e->next = t->hash[h];	/* at the head, as hlist_add_head_rcu() */
		t->hash[h] = i;
		t->count++;
		e->expires = now + ms_to_jiffies(c->expire);
		rate_init(t, e, now);
	} else {
		e->expires = now + ms_to_jiffies(c->expire);
		rate_recalc(t, e, now);
	}
	if (c->mode & NFQCT_HL_RATE_MATCH) {
		e->current_rate += (c->mode & NFQCT_HL_BYTES) ? pkt->len : 1;
		ret = !e->prev_window && e->current_rate <= e->burst ? !inv : inv;
		goto out;
	}
	cost = (c->mode & NFQCT_HL_BYTES) ? byte_cost(pkt->len, e) : e->cost;
	if (e->credit >= cost) {
		e->credit -= cost;
		ret = !inv;
	} else {
		ret = inv;
	}
out:
	tunlock(t);
	return ret;
}

void nfqct_hashlimit_gc(uint64_t now_ms)
{
	uint64_t now = nfqct_tbf_jiffies(now_ms);

	pthread_mutex_lock(&reg_lock);
	for (struct nfqct_hashlimit_table *t = reg; t; t = t->next) {
		if (now_ms < t->next_gc_ms)
			continue;
		t->next_gc_ms = now_ms + t->cfg.gc_interval;
		/* htable_selective_cleanup(): bucket by bucket, the lock per bucket */
		for (uint32_t b = 0; b < t->hash_size; b++) {
			int32_t *pp;

			if (t->hash[b] < 0)
				continue;
			tlock(t);
			for (pp = &t->hash[b]; *pp >= 0;) {
				struct hl_ent *e = &t->ents[*pp];
				int32_t i = *pp;

				if ((int64_t)(now - e->expires) >= 0) {	/* time_after_eq */
					*pp = e->next;
					e->next = t->free_head;
					t->free_head = i;
					t->count--;
				} else {
					pp = &e->next;
				}
			}
			tunlock(t);
		}
	}
	pthread_mutex_unlock(&reg_lock);
}

unsigned int nfqct_hashlimit_stats(struct nfqct_hashlimit_stat *st, unsigned int n)
{
	unsigned int k = 0;

	pthread_mutex_lock(&reg_lock);
	for (struct nfqct_hashlimit_table *t = reg; t; t = t->next, k++) {
		if (k >= n)
			continue;
		strcpy(st[k].name, t->name);
		st[k].family = (uint8_t)t->family;
		tlock(t);
		st[k].entries = t->count;
		tunlock(t);
		st[k].max = t->ent_max;
	}
	pthread_mutex_unlock(&reg_lock);
	return k;
}
