/*
 * recent.c - xt_recent's lists (recent.h).
 *
 * A table is arrays made once: ip_list_tot entries, their stamps, and the
 * hash buckets.  Entries are linked by index: a hash chain each, and one
 * LRU list (head: least recently stamped) that decides which address a
 * full table forgets.  What the kernel's recent_mt() does under its
 * spinlock is done here under the table's own.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <urcu/arch.h>

#include "nfqct/recent.h"
#include "nfqct/tbf.h"

struct rentry {
	int32_t hnext;		/* next in its hash chain, -1: last */
	int32_t lprev, lnext;	/* LRU list, -1: end */
	union nfqct_addr addr;
	uint16_t family;
	uint8_t ttl;
	uint8_t index;		/* next stamp to write, 8 bits as the kernel's */
	uint16_t nstamps;	/* stamps written, up to mask + 1 */
};

struct nfqct_recent_table {
	struct nfqct_recent_table *next;	/* the registry, in name order */
	char name[NFQCT_RECENT_NAME_LEN];
	union nfqct_addr mask;
	unsigned int refcnt;
	unsigned int entries, max, hsize;
	unsigned int nstamps_mask;	/* stamps per entry - 1 */
	int32_t lru_head, lru_tail, free_head;	/* free entries chain through hnext */
	int32_t *hash;			/* [hsize] chain heads */
	struct rentry *e;		/* [max] */
	uint64_t *stamps;		/* [max][nstamps_mask + 1] */
	uint32_t seed;
	bool lock;			/* spinlock: test-and-set */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nfqct_recent_table *reg;
static struct nfqct_recent_conf conf = { .ip_list_tot = 100 };

static void tlock(struct nfqct_recent_table *t)
{
	while (__atomic_test_and_set(&t->lock, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&t->lock, __ATOMIC_RELAXED))
			caa_cpu_relax();
}

static void tunlock(struct nfqct_recent_table *t)
{
	__atomic_clear(&t->lock, __ATOMIC_RELEASE);
}

static bool pow2(unsigned int x)
{
	return x && !(x & (x - 1));
}

static unsigned int roundup_pow2(unsigned int x)
{
	unsigned int p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

int nfqct_recent_configure(const struct nfqct_recent_conf *c)
{
	/* recent_mt_init(): the same refusals */
	if (!c->ip_list_tot || c->ip_pkt_list_tot >= NFQCT_RECENT_MAX_NSTAMPS ||
	    (c->ip_list_hash_size && !pow2(c->ip_list_hash_size)))
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	conf = *c;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

/* xt_recent's stamps per entry: from ip_pkt_list_tot, else from --hitcount, else 32. */
static unsigned int nstamps_mask_for(unsigned int hit_count)
{
	if (conf.ip_pkt_list_tot && hit_count < conf.ip_pkt_list_tot)
		return roundup_pow2(conf.ip_pkt_list_tot) - 1;
	if (hit_count)
		return roundup_pow2(hit_count) - 1;
	return 32 - 1;
}

static uint32_t ahash(const struct nfqct_recent_table *t, const union nfqct_addr *a, int family)
{
	uint32_t h = t->seed;
	unsigned int n = family == AF_INET ? 1 : 4;

	for (unsigned int i = 0; i < n; i++) {	/* a multiply-xorshift per word */
		h ^= a->ip6[i];
		h *= 0x9e3779b1u;
		h ^= h >> 15;
	}
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h & (t->hsize - 1);
}

/* Empty @t (its lock held or not yet shared). */
static void flush(struct nfqct_recent_table *t)
{
	for (unsigned int i = 0; i < t->hsize; i++)
		t->hash[i] = -1;
	for (unsigned int i = 0; i < t->max; i++)
		t->e[i].hnext = i + 1 < t->max ? (int32_t)i + 1 : -1;
	t->free_head = 0;
	t->lru_head = t->lru_tail = -1;
	t->entries = 0;
}

static uint64_t *stamps_of(const struct nfqct_recent_table *t, int32_t i)
{
	return t->stamps + (size_t)i * (t->nstamps_mask + 1);
}

static void lru_unlink(struct nfqct_recent_table *t, int32_t i)
{
	struct rentry *e = &t->e[i];

	if (e->lprev >= 0)
		t->e[e->lprev].lnext = e->lnext;
	else
		t->lru_head = e->lnext;
	if (e->lnext >= 0)
		t->e[e->lnext].lprev = e->lprev;
	else
		t->lru_tail = e->lprev;
}

static void lru_append(struct nfqct_recent_table *t, int32_t i)
{
	struct rentry *e = &t->e[i];

	e->lprev = t->lru_tail;
	e->lnext = -1;
	if (t->lru_tail >= 0)
		t->e[t->lru_tail].lnext = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

static int32_t lookup(const struct nfqct_recent_table *t, const union nfqct_addr *a, int family,
		      uint8_t ttl)
{
	for (int32_t i = t->hash[ahash(t, a, family)]; i >= 0; i = t->e[i].hnext) {
		const struct rentry *e = &t->e[i];

		if (e->family == family && !memcmp(&e->addr, a, sizeof(*a)) &&
		    (ttl == e->ttl || ttl == 0 || e->ttl == 0))
			return i;
	}
	return -1;
}

static void entry_remove(struct nfqct_recent_table *t, int32_t i)
{
	struct rentry *e = &t->e[i];
	int32_t *pp = &t->hash[ahash(t, &e->addr, e->family)];

	while (*pp != i)
		pp = &t->e[*pp].hnext;
	*pp = e->hnext;
	lru_unlink(t, i);
	e->hnext = t->free_head;
	t->free_head = i;
	t->entries--;
}

/* recent_entry_init(): a full table first forgets its least recently seen address. */
static int32_t entry_init(struct nfqct_recent_table *t, const union nfqct_addr *a, int family, uint8_t ttl,
			  uint64_t now)
{
	struct rentry *e;
	uint32_t h;
	int32_t i, *pp;

	if (t->entries >= t->max)
		entry_remove(t, t->lru_head);
	i = t->free_head;
	e = &t->e[i];
	t->free_head = e->hnext;
	e->addr = *a;
	e->family = (uint16_t)family;
	e->ttl = ttl;
	stamps_of(t, i)[0] = now;
	e->nstamps = 1;
	e->index = 1;
	/* at the chain's tail, as list_add_tail() */
	h = ahash(t, a, family);
	for (pp = &t->hash[h]; *pp >= 0; pp = &t->e[*pp].hnext)
		;
	*pp = i;
	e->hnext = -1;
	lru_append(t, i);
	t->entries++;
	return i;
}

static void entry_update(struct nfqct_recent_table *t, int32_t i, uint64_t now)
{
	struct rentry *e = &t->e[i];

	e->index &= t->nstamps_mask;
	stamps_of(t, i)[e->index++] = now;
	if (e->index > e->nstamps)
		e->nstamps = e->index;
	lru_unlink(t, i);
	lru_append(t, i);
}

/* time_after(a, b): a is later than b, in wrapping arithmetic as the kernel's. */
static bool time_after(uint64_t a, uint64_t b)
{
	return (int64_t)(b - a) < 0;
}

/* recent_entry_reap(): forget the least recently seen address if older than @time,
 * unless it is the one about to be stamped. */
static void entry_reap(struct nfqct_recent_table *t, uint64_t time, int32_t working, bool update)
{
	int32_t i = t->lru_head;
	const struct rentry *e;

	if (i < 0 || (i == working && update))
		return;
	e = &t->e[i];
	if (time_after(time, stamps_of(t, i)[(uint8_t)(e->index - 1) & t->nstamps_mask]))
		entry_remove(t, i);
}

bool nfqct_recent_match(struct nfqct_recent_table *t, const struct nfqct_recent_info *info, int family,
			const union nfqct_addr *addr, uint8_t ttl, uint64_t now)
{
	union nfqct_addr a;
	bool ret = info->invert;
	int32_t i;

	for (int k = 0; k < 4; k++)
		a.ip6[k] = addr->ip6[k] & t->mask.ip6[k];
	if (family == AF_INET)
		a.ip6[1] = a.ip6[2] = a.ip6[3] = 0;
	tlock(t);
	i = lookup(t, &a, family, info->rttl ? ttl : 0);
	if (i < 0) {
		if (info->cmd == NFQCT_RECENT_SET) {
			entry_init(t, &a, family, ttl, now);
			ret = !ret;
		}
		goto out;
	}
	if (info->cmd == NFQCT_RECENT_SET) {
		ret = !ret;
	} else if (info->cmd == NFQCT_RECENT_REMOVE) {
		entry_remove(t, i);
		ret = !ret;
		goto out;
	} else {
		uint64_t time = now - (uint64_t)info->seconds * NFQCT_TBF_HZ;
		const uint64_t *st = stamps_of(t, i);
		unsigned int hits = 0;

		for (unsigned int k = 0; k < t->e[i].nstamps; k++) {
			if (info->seconds && time_after(time, st[k]))
				continue;
			if (!info->hit_count || ++hits >= info->hit_count) {
				ret = !ret;
				break;
			}
		}
		if (info->reap)	/* --reap needs --seconds */
			entry_reap(t, time, i, info->cmd == NFQCT_RECENT_UPDATE && ret);
	}
	if (info->cmd == NFQCT_RECENT_SET || (info->cmd == NFQCT_RECENT_UPDATE && ret)) {
		entry_update(t, i, now);
		t->e[i].ttl = ttl;
	}
out:
	tunlock(t);
	return ret;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	/* xt_check_proc_name(): a proc file name */
	if (n == 0 || n >= NFQCT_RECENT_NAME_LEN || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x21 || (unsigned char)name[i] == 0x7f)
			return false;
	return true;
}

static struct nfqct_recent_table *find(const char *name)
{
	for (struct nfqct_recent_table *t = reg; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static void table_free(struct nfqct_recent_table *t)
{
	free(t->hash);
	free(t->e);
	free(t->stamps);
	free(t);
}

static unsigned int fls_u(unsigned int x)
{
	unsigned int n = 0;

	while (x) {
		n++;
		x >>= 1;
	}
	return n;
}

int nfqct_recent_get(const char *name, const union nfqct_addr *mask, unsigned int hit_count,
		     struct nfqct_recent_table **tp)
{
	struct nfqct_recent_table *t, **pp;
	unsigned int nmask;
	int rc = 0;

	if (!name_ok(name) || hit_count >= NFQCT_RECENT_MAX_NSTAMPS)
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	nmask = nstamps_mask_for(hit_count);
	t = find(name);
	if (t) {
		if (nmask > t->nstamps_mask) {
			/* recent_mt_check(): more stamps needed: empty it and grow */
			uint64_t *n = calloc((size_t)t->max * (nmask + 1), sizeof(*n)), *old;

			if (!n) {
				rc = -ENOMEM;
				goto out;
			}
			tlock(t);
			old = t->stamps;
			t->stamps = n;
			t->nstamps_mask = nmask;
			flush(t);
			tunlock(t);
			free(old);
		}
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
	t->mask = *mask;
	t->refcnt = 1;
	t->max = conf.ip_list_tot;
	t->hsize = conf.ip_list_hash_size ? conf.ip_list_hash_size : 1u << fls_u(conf.ip_list_tot);
	t->nstamps_mask = nmask;
	t->hash = calloc(t->hsize, sizeof(*t->hash));
	t->e = calloc(t->max, sizeof(*t->e));
	t->stamps = calloc((size_t)t->max * (nmask + 1), sizeof(*t->stamps));
	if (!t->hash || !t->e || !t->stamps || getrandom(&t->seed, sizeof(t->seed), 0) < 0) {
		table_free(t);
		rc = -ENOMEM;
		goto out;
	}
	flush(t);
	for (pp = &reg; *pp && strcmp((*pp)->name, name) < 0; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	*tp = t;
out:
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

void nfqct_recent_put(struct nfqct_recent_table *t)
{
	struct nfqct_recent_table **pp;

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

int nfqct_recent_print(const char *name, FILE *out)
{
	struct nfqct_recent_table *t;
	char buf[INET6_ADDRSTRLEN];

	pthread_mutex_lock(&reg_lock);
	t = find(name);
	if (!t) {
		pthread_mutex_unlock(&reg_lock);
		return -ENOENT;
	}
	/* under the table's lock: at most ip_list_tot lines into a memory stream */
	tlock(t);
	for (unsigned int h = 0; h < t->hsize; h++)
		for (int32_t i = t->hash[h]; i >= 0; i = t->e[i].hnext) {
			const struct rentry *e = &t->e[i];
			const uint64_t *st = stamps_of(t, i);

			if (e->family == AF_INET)	/* %pI4 */
				inet_ntop(AF_INET, &e->addr, buf, sizeof(buf));
			else	/* %pI6: eight groups of four hex digits, nothing left out */
				snprintf(buf, sizeof(buf), "%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
					 "%02x%02x:%02x%02x:%02x%02x:%02x%02x", e->addr.b[0], e->addr.b[1],
					 e->addr.b[2], e->addr.b[3], e->addr.b[4], e->addr.b[5], e->addr.b[6],
					 e->addr.b[7], e->addr.b[8], e->addr.b[9], e->addr.b[10],
					 e->addr.b[11], e->addr.b[12], e->addr.b[13], e->addr.b[14],
					 e->addr.b[15]);
			fprintf(out, "src=%s ttl: %u last_seen: %llu oldest_pkt: %u", buf, e->ttl,
				(unsigned long long)st[(uint8_t)(e->index - 1) & t->nstamps_mask], e->index);
			for (unsigned int k = 0; k < e->nstamps; k++)
				fprintf(out, "%s %llu", k ? "," : "", (unsigned long long)st[k]);
			fputc('\n', out);
		}
	tunlock(t);
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

int nfqct_recent_write(const char *name, const char *cmd, uint64_t now)
{
	struct nfqct_recent_table *t;
	union nfqct_addr a;
	int family = AF_INET, rc = 0;
	int32_t i;

	memset(&a, 0, sizeof(a));
	if (cmd[0] != '/' && cmd[0] != '+' && cmd[0] != '-')
		return -EINVAL;
	if (cmd[0] != '/') {
		family = strchr(cmd + 1, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(family, cmd + 1, &a) != 1)
			return -EINVAL;
	} else if (cmd[1]) {
		return -EINVAL;
	}
	pthread_mutex_lock(&reg_lock);
	t = find(name);
	if (!t) {
		pthread_mutex_unlock(&reg_lock);
		return -ENOENT;
	}
	tlock(t);
	if (cmd[0] == '/') {
		flush(t);
	} else {
		/* as the proc file: the address as written (no mask), any TTL */
		i = lookup(t, &a, family, 0);
		if (i < 0 && cmd[0] == '+')
			entry_init(t, &a, family, 0, now);
		else if (i >= 0 && cmd[0] == '+')
			entry_update(t, i, now);
		else if (i >= 0)
			entry_remove(t, i);
	}
	tunlock(t);
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

unsigned int nfqct_recent_stats(struct nfqct_recent_stat *st, unsigned int n)
{
	unsigned int k = 0;

	pthread_mutex_lock(&reg_lock);
	for (struct nfqct_recent_table *t = reg; t; t = t->next, k++) {
		if (k >= n)
			continue;
		strcpy(st[k].name, t->name);
		tlock(t);
		st[k].entries = t->entries;
		tunlock(t);
		st[k].max = t->max;
		st[k].nstamps = t->nstamps_mask + 1;
	}
	pthread_mutex_unlock(&reg_lock);
	return k;
}
