/*
 * expect.c - the expectation table (expect.h).
 *
 * A few dozen lists by a hash of the expected destination (address and
 * port: both are exact in every expectation), under one mutex.  Lookups
 * come only from the creation of new entries while the table is not
 * empty, and registrations from helpers: neither is on the path of a
 * packet of a known flow.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/expect.h"
#include "nfqct/helper.h"

#define EXP_BUCKETS 64

struct exp_node {
	struct nfqct_expect e;
	uint64_t serial;		/* insertion order: the owner's oldest goes first */
	struct exp_node *next;
};

struct nfqct_expect_table {
	pthread_mutex_t lock;
	uint32_t count;			/* written under lock, read relaxed */
	uint64_t serial;
	struct exp_node *b[EXP_BUCKETS];
};

#define EXP_STAT_INC(st, f)	do { if (st) NFQCT_STAT_INC((st)->f); } while (0)

static unsigned int exp_bucket(const struct nfqct_tuple *t)
{
	uint32_t h = t->dst.ip6[0] ^ t->dst.ip6[1] ^ t->dst.ip6[2] ^ t->dst.ip6[3];

	h ^= (uint32_t)t->dp.port * 0x9e3779b1u;
	h ^= h >> 16;
	return (h ^ (h >> 8)) % EXP_BUCKETS;
}

/* Same flow under the expectation's mask: source port ignored. */
static bool exp_match(const struct nfqct_tuple *e, const struct nfqct_tuple *t)
{
	return e->family == t->family && e->proto == t->proto && e->dp.port == t->dp.port &&
	       !memcmp(&e->src, &t->src, sizeof(e->src)) && !memcmp(&e->dst, &t->dst, sizeof(e->dst));
}

struct nfqct_expect_table *nfqct_expect_create(void)
{
	struct nfqct_expect_table *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	err = pthread_mutex_init(&t->lock, NULL);
	if (err) {
		free(t);
		errno = err;
		return NULL;
	}
	return t;
}

void nfqct_expect_destroy(struct nfqct_expect_table *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < EXP_BUCKETS; i++) {
		while (t->b[i]) {
			struct exp_node *n = t->b[i];

			t->b[i] = n->next;
			free(n);
		}
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

uint32_t nfqct_expect_count(const struct nfqct_expect_table *t)
{
	return __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}

/* Unlink *@pp (lock held), counted as expect_delete. */
static void exp_unlink(struct nfqct_expect_table *t, struct nfqct_ct_stats *st, struct exp_node **pp)
{
	struct exp_node *n = *pp;

	*pp = n->next;
	free(n);
	__atomic_store_n(&t->count, t->count - 1, __ATOMIC_RELAXED);
	EXP_STAT_INC(st, expect_delete);
}

/* Remove the entries @pred selects (lock held); returns how many. */
static unsigned int exp_remove_if(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
				  bool (*pred)(const struct exp_node *, const void *), const void *arg)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < EXP_BUCKETS; i++) {
		struct exp_node **pp = &t->b[i];

		while (*pp) {
			if (pred(*pp, arg)) {
				exp_unlink(t, st, pp);
				n++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	return n;
}

static bool pred_expired(const struct exp_node *n, const void *arg)
{
	return n->e.expires_ms <= *(const uint64_t *)arg;
}

static bool pred_owner(const struct exp_node *n, const void *arg)
{
	return n->e.owner == arg;
}

static bool pred_all(const struct exp_node *n, const void *arg)
{
	(void)n;
	(void)arg;
	return true;
}

int nfqct_expect_add(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
		     const struct nfqct_expect *e, uint32_t max, uint32_t max_per_owner,
		     bool (*alive)(const void *owner), uint64_t now_ms)
{
	struct exp_node *n, **pp, **oldest = NULL;
	unsigned int owned = 0;
	int ret = 0;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->e = *e;
	pthread_mutex_lock(&t->lock);
	if (alive && !alive(e->owner)) {
		ret = -ESHUTDOWN;
		goto out;
	}
	exp_remove_if(t, st, pred_expired, &now_ms);
	/* the same tuple: replaced when it is the owner's, a clash otherwise */
	for (pp = &t->b[exp_bucket(&e->tuple)]; *pp; pp = &(*pp)->next) {
		if (!exp_match(&(*pp)->e.tuple, &e->tuple) || (*pp)->e.zone != e->zone)
			continue;
		if ((*pp)->e.owner != e->owner) {
			ret = -EBUSY;
			goto out;
		}
		exp_unlink(t, st, pp);
		break;
	}
	/* the owner's limit: its oldest one goes (evict_oldest_expect) */
	for (unsigned int i = 0; i < EXP_BUCKETS; i++)
		for (pp = &t->b[i]; *pp; pp = &(*pp)->next)
			if ((*pp)->e.owner == e->owner) {
				owned++;
				if (!oldest || (*pp)->serial < (*oldest)->serial)
					oldest = pp;
			}
	if (max_per_owner && owned >= max_per_owner && oldest) {
		exp_unlink(t, st, oldest);
		owned--;
	}
	if (max_per_owner && owned >= max_per_owner) {
		ret = -EMFILE;
		goto out;
	}
	if (t->count >= max) {
		ret = -EMFILE;
		goto out;
	}
	n->serial = ++t->serial;
	pp = &t->b[exp_bucket(&e->tuple)];
	n->next = *pp;
	*pp = n;
	__atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELAXED);
	EXP_STAT_INC(st, expect_create);
	n = NULL;
out:
	pthread_mutex_unlock(&t->lock);
	free(n);
	return ret;
}

bool nfqct_expect_take(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
		       const struct nfqct_tuple *tuple, uint16_t zone, uint64_t now_ms,
		       struct nfqct_expect *out)
{
	struct exp_node **pp;
	bool found = false;

	pthread_mutex_lock(&t->lock);
	for (pp = &t->b[exp_bucket(tuple)]; *pp;) {
		struct exp_node *n = *pp;

		if (n->e.expires_ms <= now_ms) {
			exp_unlink(t, st, pp);
			continue;
		}
		if (n->e.zone == zone && exp_match(&n->e.tuple, tuple)) {
			*out = n->e;
			exp_unlink(t, st, pp);
			found = true;
			break;
		}
		pp = &n->next;
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

unsigned int nfqct_expect_remove_owner(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
				       const void *owner)
{
	unsigned int n;

	pthread_mutex_lock(&t->lock);
	n = t->count ? exp_remove_if(t, st, pred_owner, owner) : 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}

unsigned int nfqct_expect_gc(struct nfqct_expect_table *t, struct nfqct_ct_stats *st, uint64_t now_ms)
{
	unsigned int n;

	if (!nfqct_expect_count(t))
		return 0;
	pthread_mutex_lock(&t->lock);
	n = exp_remove_if(t, st, pred_expired, &now_ms);
	pthread_mutex_unlock(&t->lock);
	return n;
}

unsigned int nfqct_expect_flush(struct nfqct_expect_table *t, struct nfqct_ct_stats *st)
{
	unsigned int n;

	pthread_mutex_lock(&t->lock);
	n = exp_remove_if(t, st, pred_all, NULL);
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* "PREFIXsrc=A PREFIXdst=B sport=P dport=Q " as __snprintf_address + __snprintf_proto */
static void exp_print_tuple(FILE *out, const char *src, const char *dst, const struct nfqct_tuple *t)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int af = t->family == AF_INET6 ? AF_INET6 : AF_INET;

	inet_ntop(af, &t->src, a, sizeof(a));
	inet_ntop(af, &t->dst, b, sizeof(b));
	fprintf(out, "%s=%s %s=%s sport=%u dport=%u ", src, a, dst, b, ntohs(t->sp.port),
		ntohs(t->dp.port));
}

unsigned int nfqct_expect_dump(struct nfqct_expect_table *t, FILE *out, uint64_t now_ms)
{
	unsigned int lines = 0;

	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < EXP_BUCKETS; i++) {
		for (const struct exp_node *n = t->b[i]; n; n = n->next) {
			const struct nfqct_expect *e = &n->e;
			struct nfqct_tuple mask = { .family = e->tuple.family, .proto = e->tuple.proto };
			const char *name = nfqct_helper_name(e->helper);

			if (e->expires_ms <= now_ms)
				continue;
			/* IPv4 masks fill only the first four bytes */
			memset(&mask.src, 0xff, e->tuple.family == AF_INET6 ? 16 : 4);
			memset(&mask.dst, 0xff, e->tuple.family == AF_INET6 ? 16 : 4);
			mask.dp.port = 0xffff;
			fprintf(out, "%llu proto=%u ", (unsigned long long)((e->expires_ms - now_ms) / 1000u),
				e->tuple.proto);
			exp_print_tuple(out, "src", "dst", &e->tuple);
			exp_print_tuple(out, "mask-src", "mask-dst", &mask);
			exp_print_tuple(out, "master-src", "master-dst", &e->master);
			if (e->zone)
				fprintf(out, "zone=%u ", e->zone);
			fprintf(out, "class=0 helper=%s\n", name ? name : "");
			lines++;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return lines;
}
