/*
 * ipset.c - ipset's sets (ipset.h).
 *
 * Every type but list:set is one cds_lfht of elements keyed by a fixed
 * struct ikey (addresses masked to the element's prefix, protocol and
 * port): equal elements have equal bytes, so lookup is one hash and one
 * memcmp.  Net types keep a count per prefix length of their net
 * dimension and a bitmap of the lengths present; a packet probes those
 * lengths longest first.  bitmap:port is a hash too (its range bounds it).
 *
 * A set (struct nfqct_ipset) is a stable object by name; its contents
 * (struct idata: parameters and table) are swapped whole under RCU by a
 * load, so a reader sees the old or the new set, never half of either.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "nfqct/errrec.h"
#include "nfqct/ipset.h"
#include "nfqct/tsan.h"

/* ---- types ---- */

enum dimkind { D_NONE, D_IP, D_NET, D_PORT, D_IFACE, D_BPORT };

static const struct itype {
	const char *name;
	uint8_t revision;		/* what `ipset list` says of the kernel's newest */
	uint8_t dim;
	uint8_t kind[3];
	bool hash;
} itypes[NFQCT_IPSET_TYPE_MAX] = {
	[NFQCT_IPSET_HASH_IP] = { "hash:ip", 6, 1, { D_IP }, true },
	[NFQCT_IPSET_HASH_NET] = { "hash:net", 7, 1, { D_NET }, true },
	[NFQCT_IPSET_HASH_IP_PORT] = { "hash:ip,port", 7, 2, { D_IP, D_PORT }, true },
	[NFQCT_IPSET_HASH_NET_PORT] = { "hash:net,port", 8, 2, { D_NET, D_PORT }, true },
	[NFQCT_IPSET_HASH_IP_PORT_IP] = { "hash:ip,port,ip", 6, 3, { D_IP, D_PORT, D_IP }, true },
	[NFQCT_IPSET_HASH_IP_PORT_NET] = { "hash:ip,port,net", 8, 3, { D_IP, D_PORT, D_NET }, true },
	[NFQCT_IPSET_HASH_NET_IFACE] = { "hash:net,iface", 8, 2, { D_NET, D_IFACE }, true },
	[NFQCT_IPSET_BITMAP_PORT] = { "bitmap:port", 4, 1, { D_BPORT }, false },
	[NFQCT_IPSET_LIST_SET] = { "list:set", 3, 0, { D_NONE }, false },
};

const char *nfqct_ipset_type_name(unsigned int type)
{
	return type < NFQCT_IPSET_TYPE_MAX ? itypes[type].name : "?";
}

static bool has_net(unsigned int type)
{
	const struct itype *t = &itypes[type];

	for (unsigned int i = 0; i < t->dim; i++)
		if (t->kind[i] == D_NET)
			return true;
	return false;
}

/* An element's identity: compared with memcmp (padding zeroed). */
struct ikey {
	union nfqct_addr a[2];		/* the first and second address dimensions */
	uint16_t port;			/* host order; ICMP: type << 8 | code */
	uint8_t proto;
	uint8_t cidr;			/* prefix length of the net dimension, else 0 */
	char iface[IFNAMSIZ];
};

struct ielem {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	struct ikey key;
	uint64_t expires;		/* ms, 0: never; atomic (-exist refreshes it) */
	uint64_t packets, bytes;	/* atomic */
	char *comment;
	bool nomatch;
};

/* Create parameters. */
struct iparams {
	uint8_t type;
	uint8_t family;			/* AF_INET / AF_INET6; 0 for bitmap:port, list:set */
	bool counters, comment;
	bool has_timeout;
	uint32_t timeout;		/* default, seconds (has_timeout) */
	uint32_t hashsize, maxelem;
	uint8_t netmask;		/* hash:ip: 0 none */
	uint16_t range[2];		/* bitmap:port */
	uint32_t size;			/* list:set */
};

/* One generation of a set's contents. */
struct idata {
	struct iparams p;
	struct cds_lfht *ht;		/* every type but list:set */
	uint32_t seed;
	unsigned int nelem;		/* atomic */
	size_t memsize;			/* elements and comments (writers, under the set's mutex;
					 * atomic: the stat tree reads it without) */
	uint32_t ncidr[129];		/* elements per prefix length of the net dimension */
	uint64_t present[3];		/* bit c: ncidr[c] > 0 (atomic) */
	struct nfqct_ipset **members;	/* list:set: [size], references taken */
	unsigned int nmembers;
};

struct nfqct_ipset {
	struct nfqct_ipset *next;	/* the registry, in name order (reg_lock) */
	char name[NFQCT_IPSET_MAXNAMELEN];
	struct idata *data;		/* RCU */
	pthread_mutex_t lock;		/* writers of data and its elements */
	unsigned int refcnt;		/* rules (and list:set) referring to it; atomic */
	bool dead;			/* out of the registry, freed at refcnt 0 (nfqct_ipset_gc) */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nfqct_ipset *reg;
static struct nfqct_ipset *graveyard;	/* dropped sets still referenced */

/* ---- keys ---- */

static uint32_t key_hash(const struct ikey *k, uint32_t seed)
{
	uint64_t w[(sizeof(*k) + 7) / 8] = { 0 };
	uint64_t h = 0x9e3779b97f4a7c15ull ^ seed;

	/* eight bytes a step, each mixed in (a multiply-xorshift) */
	memcpy(w, k, sizeof(*k));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)(h ^ (h >> 29));
}

static int key_match(struct cds_lfht_node *node, const void *arg)
{
	const struct ielem *e = caa_container_of(node, struct ielem, node);

	nfqct_tsan_lfht_match(node);
	return !memcmp(&e->key, arg, sizeof(e->key));
}

static void mask_addr(union nfqct_addr *a, unsigned int plen, int family)
{
	unsigned int bits = family == AF_INET ? 32 : 128;

	for (unsigned int i = 0; i < 16; i++) {
		unsigned int lo = i * 8;

		if (lo >= bits || plen <= lo)
			a->b[i] = 0;
		else if (plen < lo + 8)
			a->b[i] &= (uint8_t)(0xff00u >> (plen - lo));
	}
}

static unsigned int addr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static struct ielem *lookup(const struct idata *d, const struct ikey *k)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(d->ht, key_hash(k, d->seed), key_match, k, &it);
	n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct ielem, node) : NULL;
}

static bool expired(const struct ielem *e, uint64_t now_ms)
{
	uint64_t x = __atomic_load_n(&e->expires, __ATOMIC_RELAXED);

	return x && now_ms >= x;
}

/* The index of the net dimension's address in ikey.a (0 or 1), or -1. */
static int net_slot(unsigned int type)
{
	const struct itype *t = &itypes[type];
	int slot = 0;

	for (unsigned int i = 0; i < t->dim; i++) {
		if (t->kind[i] == D_NET)
			return slot;
		if (t->kind[i] == D_IP)
			slot++;
	}
	return -1;
}

/* ---- registry ---- */

static struct nfqct_ipset *reg_find(const char *name)
{
	for (struct nfqct_ipset *s = reg; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static void elem_free(struct ielem *e)
{
	free(e->comment);
	free(e);
}

static void elem_free_rcu(struct rcu_head *h)
{
	nfqct_tsan_rcu_callback();
	elem_free(caa_container_of(h, struct ielem, rcu));
}

static size_t elem_mem(const struct ielem *e)
{
	return sizeof(*e) + (e->comment ? strlen(e->comment) + 1 : 0);
}

/* Free @d and its elements: no reader may see it any more (after a grace period, or never published). */
static void data_free(struct idata *d)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	if (!d)
		return;
	if (d->ht) {
		cds_lfht_first(d->ht, &it);
		while ((n = cds_lfht_iter_get_node(&it))) {
			struct ielem *e = caa_container_of(n, struct ielem, node);

			cds_lfht_next(d->ht, &it);
			cds_lfht_del(d->ht, n);
			elem_free(e);
		}
		/* it waits for resize work, which waits for a grace period: not on us */
		bool online = rcu_read_ongoing();

		if (online)
			rcu_thread_offline();
		cds_lfht_destroy(d->ht, NULL);
		if (online)
			rcu_thread_online();
	}
	for (unsigned int i = 0; i < d->nmembers; i++)
		nfqct_ipset_put(d->members[i]);
	free(d->members);
	free(d);
}

static struct idata *data_new(const struct iparams *p)
{
	struct idata *d = calloc(1, sizeof(*d));
	unsigned long buckets = 64;

	if (!d)
		return NULL;
	d->p = *p;
	d->seed = (uint32_t)random();
	if (p->type == NFQCT_IPSET_LIST_SET) {
		d->members = calloc(p->size ? p->size : 1, sizeof(*d->members));
		if (!d->members) {
			free(d);
			return NULL;
		}
		return d;
	}
	while (buckets < p->hashsize && buckets < (1ul << 20))
		buckets <<= 1;
	d->ht = cds_lfht_new(buckets, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	if (!d->ht) {
		free(d);
		return NULL;
	}
	return d;
}

static void cidr_inc(struct idata *d, uint8_t c)
{
	if (d->ncidr[c]++ == 0)
		__atomic_or_fetch(&d->present[c / 64], 1ull << (c % 64), __ATOMIC_RELEASE);
}

static void cidr_dec(struct idata *d, uint8_t c)
{
	if (--d->ncidr[c] == 0)
		__atomic_and_fetch(&d->present[c / 64], ~(1ull << (c % 64)), __ATOMIC_RELEASE);
}

/* Unlink @e from @d (the set's mutex held); freed after a grace period. */
static void elem_remove(struct idata *d, struct ielem *e)
{
	if (cds_lfht_del(d->ht, &e->node))
		return;
	if (has_net(d->p.type))
		cidr_dec(d, e->key.cidr);
	__atomic_sub_fetch(&d->nelem, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&d->memsize, elem_mem(e), __ATOMIC_RELAXED);
	call_rcu(&e->rcu, elem_free_rcu);
}

/* ---- element text ---- */

struct eopts {
	bool has_timeout;
	uint32_t timeout;
	bool has_counters;
	uint64_t packets, bytes;
	char *comment;
	bool nomatch;
	bool exist;
};

struct nfqct_ipset_elem_spec {
	struct ikey key;
	uint8_t type, family;
	struct nfqct_ipset *member;	/* list:set */
};

static const struct { const char *name; uint8_t proto; } port_protos[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "sctp", IPPROTO_SCTP },
	{ "udplite", IPPROTO_UDPLITE }, { "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
};

static bool parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > max)
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* An address of @family; the other family gets a message of its own. */
static int parse_addr(const char *s, int family, union nfqct_addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(family, s, a) == 1)
		return 0;
	if (inet_pton(family == AF_INET ? AF_INET6 : AF_INET, s, a) == 1)
		snprintf(err, errlen, "'%s' is an %s address; the set is family %s", s,
			 family == AF_INET ? "IPv6" : "IPv4", family == AF_INET ? "inet" : "inet6");
	else
		snprintf(err, errlen, "'%s': expected an %s address", s, family == AF_INET ? "IPv4" : "IPv6");
	return -EINVAL;
}

/* ADDR or ADDR/PLEN (net: PLEN 1..bits, default bits). */
static int parse_net(const char *s, int family, union nfqct_addr *a, uint8_t *cidr, bool net,
		     char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint32_t plen = addr_bits(family);

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "'%s': expected an address", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!net) {
			snprintf(err, errlen, "'%s': this dimension takes one address, not a network "
				 "(nfqct does not expand networks into hash:ip elements)", s);
			return -EINVAL;
		}
		if (!parse_u32(slash, addr_bits(family), &plen) || plen == 0) {
			snprintf(err, errlen, "'%s': expected a prefix length 1..%u", slash, addr_bits(family));
			return -EINVAL;
		}
	}
	if (strchr(buf, '-')) {
		snprintf(err, errlen, "'%s': address ranges are not supported (write networks)", s);
		return -EINVAL;
	}
	if (parse_addr(buf, family, a, err, errlen) < 0)
		return -EINVAL;
	mask_addr(a, plen, family);
	*cidr = net ? (uint8_t)plen : 0;
	return 0;
}

/* [PROTO:]PORT, PROTO:0 for other protocols, icmp:TYPE/CODE. */
static int parse_port(const char *s, int family, struct ikey *k, char *err, size_t errlen)
{
	const char *colon = strchr(s, ':');
	const char *ps = s;
	uint32_t v;

	k->proto = IPPROTO_TCP;
	if (colon) {
		size_t n = (size_t)(colon - s);
		bool found = false;

		for (size_t i = 0; i < sizeof(port_protos) / sizeof(port_protos[0]); i++)
			if (strlen(port_protos[i].name) == n && !strncmp(s, port_protos[i].name, n)) {
				k->proto = port_protos[i].proto;
				found = true;
			}
		if (!found) {
			snprintf(err, errlen, "'%.*s': expected tcp, udp, sctp, udplite, icmp or icmpv6", (int)n, s);
			return -EINVAL;
		}
		ps = colon + 1;
	}
	if (k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6) {
		uint32_t type, code;
		const char *sl = strchr(ps, '/');
		char tb[8];

		if ((k->proto == IPPROTO_ICMP) != (family == AF_INET)) {
			snprintf(err, errlen, "'%s': %s in a family %s set", s,
				 k->proto == IPPROTO_ICMP ? "icmp" : "icmpv6", family == AF_INET ? "inet" : "inet6");
			return -EINVAL;
		}
		if (!sl || (size_t)(sl - ps) >= sizeof(tb)) {
			snprintf(err, errlen, "'%s': expected TYPE/CODE (numbers)", ps);
			return -EINVAL;
		}
		memcpy(tb, ps, (size_t)(sl - ps));
		tb[sl - ps] = '\0';
		if (!parse_u32(tb, 255, &type) || !parse_u32(sl + 1, 255, &code)) {
			snprintf(err, errlen, "'%s': expected TYPE/CODE (numbers)", ps);
			return -EINVAL;
		}
		k->port = (uint16_t)(type << 8 | code);
		return 0;
	}
	if (strchr(ps, '-')) {
		snprintf(err, errlen, "'%s': port ranges are not supported in hash types (one port an element)", s);
		return -EINVAL;
	}
	if (!parse_u32(ps, 65535, &v)) {
		snprintf(err, errlen, "'%s': expected a port number 0..65535", ps);
		return -EINVAL;
	}
	k->port = (uint16_t)v;
	return 0;
}

/* The element text @s of a set with @p into @e. */
static int parse_elem(const struct iparams *p, const char *s, struct nfqct_ipset_elem_spec *e,
		      char *err, size_t errlen)
{
	const struct itype *t = &itypes[p->type];
	char buf[256];
	char *part[3], *save = NULL;
	unsigned int n = 0, slot = 0;

	memset(e, 0, sizeof(*e));
	e->type = p->type;
	e->family = p->family;
	if (strlen(s) >= sizeof(buf) || !*s) {
		snprintf(err, errlen, "'%s': expected an element of %s", s, t->name);
		return -EINVAL;
	}
	strcpy(buf, s);
	if (p->type == NFQCT_IPSET_BITMAP_PORT) {
		uint32_t v;

		if (!parse_u32(buf, 65535, &v)) {
			snprintf(err, errlen, "'%s': expected a port number", s);
			return -EINVAL;
		}
		if (v < p->range[0] || v > p->range[1]) {
			snprintf(err, errlen, "'%s': outside the set's range %u-%u", s, p->range[0], p->range[1]);
			return -ERANGE;
		}
		e->key.port = (uint16_t)v;
		return 0;
	}
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == t->dim) {
			snprintf(err, errlen, "'%s': %s takes %u part%s separated by ','", s, t->name, t->dim,
				 t->dim > 1 ? "s" : "");
			return -EINVAL;
		}
		part[n++] = tok;
	}
	if (n != t->dim) {
		snprintf(err, errlen, "'%s': %s takes %u parts separated by ','", s, t->name, t->dim);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint8_t cidr = 0;

		switch (t->kind[i]) {
		case D_IP:
		case D_NET:
			if (parse_net(part[i], p->family, &e->key.a[slot], &cidr, t->kind[i] == D_NET, err, errlen))
				return -EINVAL;
			if (t->kind[i] == D_NET)
				e->key.cidr = cidr;
			else if (p->netmask)
				mask_addr(&e->key.a[slot], p->netmask, p->family);
			slot++;
			break;
		case D_PORT:
			if (parse_port(part[i], p->family, &e->key, err, errlen))
				return -EINVAL;
			break;
		case D_IFACE:
			if (strlen(part[i]) >= IFNAMSIZ || !part[i][0] || !strncmp(part[i], "physdev:", 8)) {
				snprintf(err, errlen, "'%s': expected an interface name (at most %d characters)",
					 part[i], IFNAMSIZ - 1);
				return -EINVAL;
			}
			strcpy(e->key.iface, part[i]);
			break;
		}
	}
	return 0;
}

static void print_addr(FILE *out, const union nfqct_addr *a, int family)
{
	char buf[INET6_ADDRSTRLEN];

	fputs(inet_ntop(family, a, buf, sizeof(buf)) ? buf : "?", out);
}

static void print_port(FILE *out, const struct ikey *k)
{
	const char *name = NULL;

	for (size_t i = 0; i < sizeof(port_protos) / sizeof(port_protos[0]); i++)
		if (port_protos[i].proto == k->proto)
			name = port_protos[i].name;
	if (k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6)
		fprintf(out, "%s:%u/%u", name, k->port >> 8, k->port & 0xff);
	else
		fprintf(out, "%s:%u", name ? name : "?", k->port);
}

static void print_elem(FILE *out, const struct idata *d, const struct ielem *e, uint64_t now_ms)
{
	const struct itype *t = &itypes[d->p.type];
	unsigned int slot = 0;

	if (d->p.type == NFQCT_IPSET_BITMAP_PORT) {
		fprintf(out, "%u", e->key.port);
	} else {
		for (unsigned int i = 0; i < t->dim; i++) {
			if (i)
				fputc(',', out);
			switch (t->kind[i]) {
			case D_IP:
				print_addr(out, &e->key.a[slot++], d->p.family);
				break;
			case D_NET:
				print_addr(out, &e->key.a[slot++], d->p.family);
				if (e->key.cidr != addr_bits(d->p.family))
					fprintf(out, "/%u", e->key.cidr);
				break;
			case D_PORT:
				print_port(out, &e->key);
				break;
			case D_IFACE:
				fputs(e->key.iface, out);
				break;
			}
		}
	}
	if (d->p.has_timeout) {
		uint64_t x = __atomic_load_n(&e->expires, __ATOMIC_RELAXED);

		fprintf(out, " timeout %" PRIu64, !x ? 0 : x > now_ms ? (x - now_ms + 999) / 1000 : 0);
	}
	if (e->nomatch)
		fputs(" nomatch", out);
	if (d->p.counters)
		fprintf(out, " packets %" PRIu64 " bytes %" PRIu64, __atomic_load_n(&e->packets, __ATOMIC_RELAXED),
			__atomic_load_n(&e->bytes, __ATOMIC_RELAXED));
	if (e->comment)
		fprintf(out, " comment \"%s\"", e->comment);
}

/* Element options: [timeout N] [packets N] [bytes N] [comment TEXT] [nomatch] [-exist]. */
static int parse_eopts(const struct iparams *p, int argc, char **argv, struct eopts *o, int *bad,
		       char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		bool arg = !strcmp(w, "timeout") || !strcmp(w, "packets") || !strcmp(w, "bytes") ||
			   !strcmp(w, "comment");

		*bad = i;
		if (arg && i + 1 >= argc) {
			snprintf(err, errlen, "%s: missing its value", w);
			return -EINVAL;
		}
		if (!strcmp(w, "timeout")) {
			if (!p->has_timeout) {
				snprintf(err, errlen, "timeout: the set was created without timeout support");
				return -EINVAL;
			}
			*bad = ++i;
			if (!parse_u32(argv[i], NFQCT_IPSET_TIMEOUT_MAX, &o->timeout)) {
				snprintf(err, errlen, "'%s': expected seconds 0..%u", argv[i], NFQCT_IPSET_TIMEOUT_MAX);
				return -EINVAL;
			}
			o->has_timeout = true;
		} else if (!strcmp(w, "packets") || !strcmp(w, "bytes")) {
			if (!p->counters) {
				snprintf(err, errlen, "%s: the set was created without counters", w);
				return -EINVAL;
			}
			*bad = ++i;
			if (!parse_u64(argv[i], w[0] == 'p' ? &o->packets : &o->bytes)) {
				snprintf(err, errlen, "'%s': expected a number", argv[i]);
				return -EINVAL;
			}
			o->has_counters = true;
		} else if (!strcmp(w, "comment")) {
			if (!p->comment) {
				snprintf(err, errlen, "comment: the set was created without comment support");
				return -EINVAL;
			}
			*bad = ++i;
			if (strlen(argv[i]) > 255 || strchr(argv[i], '"')) {
				snprintf(err, errlen, "comment: at most 255 characters, no '\"'");
				return -EINVAL;
			}
			free(o->comment);
			o->comment = strdup(argv[i]);
			if (!o->comment)
				return -ENOMEM;
		} else if (!strcmp(w, "nomatch")) {
			if (!has_net(p->type)) {
				snprintf(err, errlen, "nomatch: only hash types with a net dimension take it");
				return -EINVAL;
			}
			o->nomatch = true;
		} else if (!strcmp(w, "-exist") || !strcmp(w, "--exist")) {
			o->exist = true;
		} else {
			snprintf(err, errlen, "'%s': expected timeout, packets, bytes, comment or nomatch", w);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Add @k with @o to @d (the set's mutex held, or @d not published).
 * -EEXIST unless @o->exist (then the element's options are renewed),
 * -ENOSPC when full.
 */
static int data_add(struct idata *d, const struct ikey *k, const struct eopts *o, uint64_t now_ms)
{
	struct ielem *e, *old;
	uint32_t timeout = o->has_timeout ? o->timeout : d->p.has_timeout ? d->p.timeout : 0;
	uint64_t expires = timeout ? now_ms + (uint64_t)timeout * 1000u : 0;
	struct cds_lfht_node *n;

	old = lookup(d, k);
	if (old && !expired(old, now_ms)) {
		if (!o->exist)
			return -EEXIST;
		/* ipset -exist: the new timeout (and counters, comment) */
		__atomic_store_n(&old->expires, expires, __ATOMIC_RELAXED);
		if (o->has_counters) {
			__atomic_store_n(&old->packets, o->packets, __ATOMIC_RELAXED);
			__atomic_store_n(&old->bytes, o->bytes, __ATOMIC_RELAXED);
		}
		old->nomatch = o->nomatch;
		return 0;
	}
	if (old)
		elem_remove(d, old);	/* expired: as the kernel, a new one takes its place */
	if (d->nelem >= d->p.maxelem)
		return -ENOSPC;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = *k;
	e->expires = expires;
	e->packets = o->packets;
	e->bytes = o->bytes;
	e->nomatch = o->nomatch;
	if (o->comment && !(e->comment = strdup(o->comment))) {
		free(e);
		return -ENOMEM;
	}
	cds_lfht_node_init(&e->node);
	n = cds_lfht_add_unique(d->ht, key_hash(k, d->seed), key_match, k, &e->node);
	if (n != &e->node) {	/* writers hold the mutex: cannot happen */
		elem_free(e);
		return -EEXIST;
	}
	if (has_net(d->p.type))
		cidr_inc(d, k->cidr);
	__atomic_add_fetch(&d->nelem, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&d->memsize, elem_mem(e), __ATOMIC_RELAXED);
	return 0;
}

/* ---- loading ---- */

#define LINE_MAX_WORDS 64

struct staged {
	struct staged *next;
	char name[NFQCT_IPSET_MAXNAMELEN];
	struct idata *data;
	bool created;			/* by this text (else a copy of a running set's) */
	struct nfqct_ipset *running;	/* the set of that name now, or NULL */
	/* list:set members named by this text, resolved by commit() once every
	 * set it creates exists (a member may be created further down) */
	char (*pending)[NFQCT_IPSET_MAXNAMELEN];
	unsigned int npending;
	struct idata *grow;		/* published by commit(), its table to size */
};

struct loader {
	FILE *errs;
	const char *origin;
	unsigned int line;
	struct staged *st;
	enum nfqct_ipset_load_mode mode;
	uint64_t now_ms;
};

/* Split @s into words; "..." quotes (comment "a b").  Columns in @col (1-based). */
static int split(char *s, char **w, unsigned int *col, int max, char *err, size_t errlen)
{
	char *base = s;
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s)
			return n;
		if (n == max) {
			snprintf(err, errlen, "too many words");
			return -1;
		}
		col[n] = (unsigned int)(s - base) + 1;
		if (*s == '"') {
			char *end = strchr(s + 1, '"');

			if (!end) {
				snprintf(err, errlen, "unterminated '\"'");
				return -1;
			}
			w[n++] = s + 1;
			*end = '\0';
			s = end + 1;
			continue;
		}
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static void lerr(struct loader *l, unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lerr(struct loader *l, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nfqct_errrec_vprint(l->errs, NFQCT_ERRREC_ERROR, l->origin, l->line, col, fmt, ap);
	va_end(ap);
}

static struct staged *staged_find(struct loader *l, const char *name)
{
	for (struct staged *s = l->st; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= NFQCT_IPSET_MAXNAMELEN)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

static int find_type(const char *s)
{
	for (int i = 0; i < NFQCT_IPSET_TYPE_MAX; i++)
		if (!strcmp(s, itypes[i].name))
			return i;
	return -1;
}

/* create NAME TYPE [options] */
static int load_create(struct loader *l, int n, char **w, unsigned int *col)
{
	struct iparams p;
	struct staged *st;
	int type;
	char names[256] = "";

	if (n < 3) {
		lerr(l, n < 2 ? 0 : col[1], "create: expected NAME TYPE [options]");
		return -EINVAL;
	}
	if (!valid_name(w[1])) {
		lerr(l, col[1], "'%s': expected a set name of 1..%d printable characters", w[1],
		     NFQCT_IPSET_MAXNAMELEN - 1);
		return -EINVAL;
	}
	if (staged_find(l, w[1])) {
		lerr(l, col[1], "set '%s' is created twice", w[1]);
		return -EINVAL;
	}
	type = find_type(w[2]);
	if (type < 0) {
		for (int i = 0; i < NFQCT_IPSET_TYPE_MAX; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
				 itypes[i].name);
		lerr(l, col[2], "'%s': unknown or unsupported set type (expected one of %s)", w[2], names);
		return -EINVAL;
	}
	memset(&p, 0, sizeof(p));
	p.type = (uint8_t)type;
	p.family = itypes[type].hash ? AF_INET : 0;
	p.hashsize = 1024;
	p.maxelem = 65536;
	p.size = 8;
	for (int i = 3; i < n; i++) {
		const char *o = w[i];
		bool arg = strcmp(o, "counters") && strcmp(o, "comment") && strcmp(o, "-exist") &&
			   strcmp(o, "forceadd") && strcmp(o, "skbinfo");
		uint32_t v;

		if (arg && i + 1 >= n) {
			lerr(l, col[i], "%s: missing its value", o);
			return -EINVAL;
		}
		if (!strcmp(o, "family") && itypes[type].hash) {
			i++;
			if (!strcmp(w[i], "inet")) {
				p.family = AF_INET;
			} else if (!strcmp(w[i], "inet6")) {
				p.family = AF_INET6;
			} else {
				lerr(l, col[i], "'%s': expected inet or inet6", w[i]);
				return -EINVAL;
			}
		} else if (!strcmp(o, "timeout")) {
			i++;
			if (!parse_u32(w[i], NFQCT_IPSET_TIMEOUT_MAX, &p.timeout)) {
				lerr(l, col[i], "'%s': expected seconds 0..%u", w[i], NFQCT_IPSET_TIMEOUT_MAX);
				return -EINVAL;
			}
			p.has_timeout = true;
		} else if (!strcmp(o, "counters")) {
			p.counters = true;
		} else if (!strcmp(o, "comment")) {
			p.comment = true;
		} else if (!strcmp(o, "-exist")) {
			continue;
		} else if ((!strcmp(o, "hashsize") || !strcmp(o, "maxelem")) && itypes[type].hash) {
			i++;
			if (!parse_u32(w[i], UINT32_MAX, &v) || !v) {
				lerr(l, col[i], "'%s': expected a positive number", w[i]);
				return -EINVAL;
			}
			*(o[0] == 'h' ? &p.hashsize : &p.maxelem) = v;
		} else if ((!strcmp(o, "bucketsize") || !strcmp(o, "initval")) && itypes[type].hash) {
			i++;	/* the kernel's bucket layout and hash seed: nfqct has its own */
			if (!parse_u32(w[i], UINT32_MAX, &v)) {
				lerr(l, col[i], "'%s': expected a number", w[i]);
				return -EINVAL;
			}
		} else if (!strcmp(o, "netmask") && type == NFQCT_IPSET_HASH_IP) {
			i++;
			if (!parse_u32(w[i], 128, &v) || !v) {
				lerr(l, col[i], "'%s': expected a prefix length", w[i]);
				return -EINVAL;
			}
			p.netmask = (uint8_t)v;
		} else if (!strcmp(o, "range") && type == NFQCT_IPSET_BITMAP_PORT) {
			uint32_t lo, hi;
			char buf[16], *dash;

			i++;
			if (strlen(w[i]) >= sizeof(buf) || !(dash = strchr(strcpy(buf, w[i]), '-'))) {
				lerr(l, col[i], "'%s': expected FROM-TO ports", w[i]);
				return -EINVAL;
			}
			*dash = '\0';
			if (!parse_u32(buf, 65535, &lo) || !parse_u32(dash + 1, 65535, &hi) || lo > hi) {
				lerr(l, col[i], "'%s': expected FROM-TO ports, FROM <= TO", w[i]);
				return -EINVAL;
			}
			p.range[0] = (uint16_t)lo;
			p.range[1] = (uint16_t)hi;
			p.hashsize = 1024;
			p.maxelem = hi - lo + 1;
		} else if (!strcmp(o, "size") && type == NFQCT_IPSET_LIST_SET) {
			i++;
			if (!parse_u32(w[i], 65536, &v) || !v) {
				lerr(l, col[i], "'%s': expected a number of member sets", w[i]);
				return -EINVAL;
			}
			p.size = v;
		} else {
			lerr(l, col[i], "'%s': not an option of %s (expected %s)", o, itypes[type].name,
			     type == NFQCT_IPSET_BITMAP_PORT ? "range, timeout, counters, comment" :
			     type == NFQCT_IPSET_LIST_SET ? "size, timeout, counters, comment" :
			     "family, hashsize, maxelem, timeout, counters, comment");
			return -EINVAL;
		}
	}
	if (type == NFQCT_IPSET_HASH_IP && p.netmask > addr_bits(p.family)) {
		lerr(l, 0, "netmask %u is longer than a family %s address", p.netmask,
		     p.family == AF_INET ? "inet" : "inet6");
		return -EINVAL;
	}
	if (type == NFQCT_IPSET_BITMAP_PORT && !p.range[1] && !p.range[0]) {
		lerr(l, col[2], "bitmap:port needs range FROM-TO");
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	strcpy(st->name, w[1]);
	st->created = true;
	st->data = data_new(&p);
	if (!st->data) {
		free(st);
		return -ENOMEM;
	}
	st->next = l->st;
	l->st = st;
	return 0;
}

static struct idata *data_clone(const struct idata *src)
{
	struct idata *d = data_new(&src->p);
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	if (!d)
		return NULL;
	if (src->members) {
		for (unsigned int i = 0; i < src->nmembers; i++) {
			d->members[i] = src->members[i];
			__atomic_add_fetch(&d->members[i]->refcnt, 1, __ATOMIC_RELAXED);
		}
		d->nmembers = src->nmembers;
		return d;
	}
	cds_lfht_first(src->ht, &it);
	while ((n = cds_lfht_iter_get_node(&it))) {
		const struct ielem *e = caa_container_of(n, struct ielem, node);
		struct ielem *c = malloc(sizeof(*c));

		if (c) {
			*c = *e;
			c->comment = NULL;
		}
		if (!c || (e->comment && !(c->comment = strdup(e->comment)))) {
			free(c);
			data_free(d);
			return NULL;
		}
		c->packets = __atomic_load_n(&e->packets, __ATOMIC_RELAXED);
		c->bytes = __atomic_load_n(&e->bytes, __ATOMIC_RELAXED);
		cds_lfht_node_init(&c->node);
		cds_lfht_add(d->ht, key_hash(&c->key, d->seed), &c->node);
		if (has_net(d->p.type))
			cidr_inc(d, c->key.cidr);
		d->nelem++;
		d->memsize += elem_mem(c);
		cds_lfht_next(src->ht, &it);
	}
	return d;
}

/* list:set: member @name for @st, resolved at commit (pending). */
static int list_add(struct loader *l, struct staged *st, const char *name, unsigned int col)
{
	struct staged *ms = staged_find(l, name);
	struct nfqct_ipset *m = reg_find(name);
	struct idata *d = st->data;
	char (*np)[NFQCT_IPSET_MAXNAMELEN];
	unsigned int type;

	if (!ms && !m) {
		lerr(l, col, "'%s': no such set (create it in this file, above or below)", name);
		return -EINVAL;
	}
	/* the file's own definition wins: it is what the member will be */
	type = ms ? ms->data->p.type : m->data->p.type;
	if (type == NFQCT_IPSET_LIST_SET) {
		lerr(l, col, "'%s': a list:set cannot be a member of a list:set", name);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < d->nmembers; i++)
		if (!strcmp(d->members[i]->name, name)) {
			lerr(l, col, "Element cannot be added to the set: it's already added");
			return -EEXIST;
		}
	for (unsigned int i = 0; i < st->npending; i++)
		if (!strcmp(st->pending[i], name)) {
			lerr(l, col, "Element cannot be added to the set: it's already added");
			return -EEXIST;
		}
	if (d->nmembers + st->npending >= d->p.size) {
		lerr(l, col, "List is full, cannot add more elements (set '%s', size %u)", st->name, d->p.size);
		return -ENOSPC;
	}
	np = realloc(st->pending, (st->npending + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	st->pending = np;
	strcpy(np[st->npending++], name);
	return 0;
}

/* add NAME ELEM [options] */
static int load_add(struct loader *l, int n, char **w, unsigned int *col)
{
	struct staged *st;
	struct nfqct_ipset_elem_spec e;
	struct eopts o;
	char err[256];
	int bad, rc;

	if (n < 3) {
		lerr(l, n < 2 ? 0 : col[1], "add: expected NAME ELEMENT [options]");
		return -EINVAL;
	}
	st = staged_find(l, w[1]);
	if (!st) {
		struct nfqct_ipset *s = l->mode == NFQCT_IPSET_LOAD_RESTORE ? reg_find(w[1]) : NULL;

		if (!s) {
			lerr(l, col[1], "The set with the given name does not exist: '%s'%s", w[1],
			     l->mode == NFQCT_IPSET_LOAD_FILE ? " (no create line for it above)" : "");
			return -ENOENT;
		}
		st = calloc(1, sizeof(*st));
		if (!st)
			return -ENOMEM;
		strcpy(st->name, w[1]);
		st->data = data_clone(s->data);
		if (!st->data) {
			free(st);
			return -ENOMEM;
		}
		st->next = l->st;
		l->st = st;
	}
	if (st->data->p.type == NFQCT_IPSET_LIST_SET) {
		if (n > 3) {
			lerr(l, col[3], "'%s': list:set members take no options in nfqct", w[3]);
			return -EINVAL;
		}
		return list_add(l, st, w[2], col[2]);
	}
	rc = parse_elem(&st->data->p, w[2], &e, err, sizeof(err));
	if (rc) {
		lerr(l, col[2], "%s", err);
		return rc;
	}
	rc = parse_eopts(&st->data->p, n - 3, w + 3, &o, &bad, err, sizeof(err));
	if (rc) {
		if (rc == -EINVAL)
			lerr(l, col[3 + bad], "%s", err);
		free(o.comment);
		return rc;
	}
	if (l->mode == NFQCT_IPSET_LOAD_RESTORE)
		o.exist = true;	/* as ipset restore -exist */
	rc = data_add(st->data, &e.key, &o, l->now_ms);
	free(o.comment);
	if (rc == -EEXIST)
		lerr(l, col[2], "Element cannot be added to the set: it's already added");
	else if (rc == -ENOSPC)
		lerr(l, col[2], "Hash is full, cannot add more elements (set '%s', maxelem %u)", st->name,
		     st->data->p.maxelem);
	return rc;
}

static void staged_free(struct staged *st)
{
	while (st) {
		struct staged *next = st->next;

		data_free(st->data);
		free(st->pending);
		free(st);
		st = next;
	}
}

static void set_free(struct nfqct_ipset *s)
{
	data_free(s->data);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/*
 * Lock order and grace periods: nothing waits for a grace period (nor
 * destroys a cds_lfht, which waits for one) while holding reg_lock or a
 * set's mutex: housekeeping, an RCU reader, may be waiting for them.  What
 * is to be freed is collected under the lock and freed after it.
 */

/* Move sets at refcnt 0 out of the graveyard onto *@out (reg_lock held). */
static void graveyard_sweep(struct nfqct_ipset **out)
{
	struct nfqct_ipset **pp = &graveyard;

	while (*pp) {
		struct nfqct_ipset *s = *pp;

		if (__atomic_load_n(&s->refcnt, __ATOMIC_ACQUIRE) == 0) {
			*pp = s->next;
			s->next = *out;
			*out = s;
		} else {
			pp = &s->next;
		}
	}
}

/* Free the sets on @list after a grace period (no lock held). */
static void free_sets(struct nfqct_ipset *list)
{
	if (!list)
		return;
	synchronize_rcu();
	while (list) {
		struct nfqct_ipset *next = list->next;

		set_free(list);
		list = next;
	}
}

/* Put the staged sets in place (reg_lock held); -EBUSY when a set in use would go or change. */
static int commit(struct loader *l, struct idata ***oldp, unsigned int *noldp, struct nfqct_ipset **dead)
{
	struct idata **old;
	unsigned int nold = 0, i = 0;
	int rc = 0;

	/* checks first: nothing changes on a refusal */
	for (struct staged *st = l->st; st; st = st->next) {
		struct nfqct_ipset *s = reg_find(st->name);

		st->running = s;
		if (s && __atomic_load_n(&s->refcnt, __ATOMIC_RELAXED) &&
		    (s->data->p.type != st->data->p.type || s->data->p.family != st->data->p.family)) {
			nfqct_errrec_print(l->errs, NFQCT_ERRREC_ERROR, l->origin, 0, 0,
					   "set '%s' is in use by the running ruleset: it cannot become %s "
					   "family %s", st->name, itypes[st->data->p.type].name,
					   st->data->p.family == AF_INET6 ? "inet6" : "inet");
			rc = -EBUSY;
		}
		nold++;
	}
	if (l->mode == NFQCT_IPSET_LOAD_FILE)
		for (struct nfqct_ipset *s = reg; s; s = s->next) {
			if (!staged_find(l, s->name) && __atomic_load_n(&s->refcnt, __ATOMIC_RELAXED)) {
				nfqct_errrec_print(l->errs, NFQCT_ERRREC_ERROR, l->origin, 0, 0,
						   "set '%s' is in use by the running ruleset: the file must "
						   "create it", s->name);
				rc = -EBUSY;
			}
			nold++;
		}
	if (rc)
		return rc;
	old = calloc(nold + 1, sizeof(*old));
	if (!old)
		return -ENOMEM;
	for (struct staged *st = l->st; st; st = st->next) {
		struct nfqct_ipset *s = st->running;

		if (!s) {
			struct nfqct_ipset **pp = &reg;

			s = calloc(1, sizeof(*s));
			if (!s) {
				rc = -ENOMEM;	/* the sets swapped so far stay: each is whole */
				break;
			}
			strcpy(s->name, st->name);
			pthread_mutex_init(&s->lock, NULL);
			s->data = st->data;
			while (*pp && strcmp((*pp)->name, s->name) < 0)
				pp = &(*pp)->next;
			s->next = *pp;
			*pp = s;
		} else {
			pthread_mutex_lock(&s->lock);
			old[i++] = s->data;
			rcu_assign_pointer(s->data, st->data);
			pthread_mutex_unlock(&s->lock);
		}
		if (st->data->ht && st->data->nelem > 64)
			st->grow = st->data;	/* sized by nfqct_ipset_load() after the lock */
		st->data = NULL;
	}
	/* list:set members, now that every set the text creates exists */
	for (struct staged *st = l->st; st && !rc; st = st->next) {
		struct nfqct_ipset *s = reg_find(st->name);

		for (unsigned int k = 0; s && k < st->npending; k++) {
			struct nfqct_ipset *m = reg_find(st->pending[k]);
			struct idata *d = s->data;

			if (!m)
				continue;	/* checked by list_add() */
			__atomic_add_fetch(&m->refcnt, 1, __ATOMIC_RELAXED);
			d->members[d->nmembers] = m;
			__atomic_store_n(&d->nmembers, d->nmembers + 1, __ATOMIC_RELEASE);
		}
	}
	if (l->mode == NFQCT_IPSET_LOAD_FILE && !rc) {
		struct nfqct_ipset **pp = &reg;

		while (*pp) {
			struct nfqct_ipset *s = *pp;

			if (!staged_find(l, s->name)) {
				*pp = s->next;
				s->dead = true;
				s->next = graveyard;
				graveyard = s;
			} else {
				pp = &s->next;
			}
		}
	}
	*oldp = old;
	*noldp = i;
	graveyard_sweep(dead);
	return rc;
}

int nfqct_ipset_load(FILE *in, const char *origin, FILE *errs, enum nfqct_ipset_load_mode mode,
		     uint64_t now_ms)
{
	struct loader l = { .errs = errs, .origin = origin, .mode = mode, .now_ms = now_ms };
	struct idata **old = NULL;
	unsigned int nold = 0;
	struct nfqct_ipset *dead = NULL;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	while ((len = getline(&buf, &cap, in)) >= 0) {
		char *w[LINE_MAX_WORDS];
		unsigned int col[LINE_MAX_WORDS];
		char err[128];
		int n;

		l.line++;
		n = split(buf, w, col, LINE_MAX_WORDS, err, sizeof(err));
		if (n < 0) {
			lerr(&l, 0, "%s", err);
			rc = -EINVAL;
			break;
		}
		if (n == 0 || w[0][0] == '#')
			continue;
		if (!strcmp(w[0], "create") || !strcmp(w[0], "-N") || !strcmp(w[0], "n")) {
			rc = load_create(&l, n, w, col);
		} else if (!strcmp(w[0], "add") || !strcmp(w[0], "-A") || !strcmp(w[0], "a")) {
			rc = load_add(&l, n, w, col);
		} else if (!strcmp(w[0], "COMMIT")) {
			continue;
		} else {
			lerr(&l, col[0], "'%s': expected create or add (ipset save format)", w[0]);
			rc = -EINVAL;
		}
		if (rc)
			break;
	}
	free(buf);
	if (!rc && ferror(in)) {
		nfqct_errrec_print(errs, NFQCT_ERRREC_ERROR, origin, 0, 0, "read error");
		rc = -EIO;
	}
	if (!rc)
		rc = commit(&l, &old, &nold, &dead);
	if (rc == -EEXIST || rc == -ENOSPC || rc == -ENOENT || rc == -ERANGE)
		rc = -EINVAL;
	pthread_mutex_unlock(&reg_lock);
	/* Size the new tables for what they hold now, rather than leave it to
	 * the background resizes (which wait for grace periods): lookups cost
	 * the same at 100,000 elements as at 10 from the start.  Only this
	 * thread replaces or frees set contents, so they are still there. */
	for (struct staged *st = l.st; st; st = st->next)
		if (st->grow) {
			unsigned long b = 64;
			bool online = rcu_read_ongoing();

			while (b < st->grow->nelem && b < (1ul << 24))
				b <<= 1;
			if (online)
				rcu_thread_offline();
			cds_lfht_resize(st->grow->ht, b);
			if (online)
				rcu_thread_online();
		}
	/* unpublished and replaced contents, after the lock (see above) */
	staged_free(l.st);
	if (nold)
		synchronize_rcu();
	for (unsigned int j = 0; j < nold; j++)
		data_free(old[j]);
	free(old);
	free_sets(dead);
	return rc;
}

int nfqct_ipset_load_path(const char *path, FILE *errs, enum nfqct_ipset_load_mode mode, uint64_t now_ms)
{
	FILE *f = fopen(path, "re");
	int rc;

	if (!f) {
		rc = -errno;
		nfqct_errrec_print(errs, NFQCT_ERRREC_ERROR, path, 0, 0, "%s", strerror(-rc));
		return rc;
	}
	rc = nfqct_ipset_load(f, path, errs, mode, now_ms);
	fclose(f);
	return rc;
}

void nfqct_ipset_destroy_all(void)
{
	struct nfqct_ipset **pp, *dead = NULL;

	pthread_mutex_lock(&reg_lock);
	/* list:set first: they hold references to the others */
	for (int pass = 0; pass < 2; pass++) {
		pp = &reg;
		while (*pp) {
			struct nfqct_ipset *s = *pp;

			if ((pass == 0) == (s->data->p.type == NFQCT_IPSET_LIST_SET) &&
			    !__atomic_load_n(&s->refcnt, __ATOMIC_RELAXED)) {
				*pp = s->next;
				if (pass == 0) {
					/* its members' references go now, for pass 1 */
					for (unsigned int k = 0; k < s->data->nmembers; k++)
						nfqct_ipset_put(s->data->members[k]);
					s->data->nmembers = 0;
				}
				s->next = dead;
				dead = s;
			} else {
				pp = &s->next;
			}
		}
	}
	graveyard_sweep(&dead);
	pthread_mutex_unlock(&reg_lock);
	free_sets(dead);
}

/* ---- references ---- */

int nfqct_ipset_get(const char *name, struct nfqct_ipset **sp)
{
	struct nfqct_ipset *s;

	pthread_mutex_lock(&reg_lock);
	s = reg_find(name);
	if (s)
		__atomic_add_fetch(&s->refcnt, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&reg_lock);
	*sp = s;
	return s ? 0 : -ENOENT;
}

void nfqct_ipset_put(struct nfqct_ipset *s)
{
	/* never frees: a dropped set is freed by nfqct_ipset_gc() (cds_lfht_destroy
	 * must not run in a call_rcu callback, where rulesets are freed) */
	if (s)
		__atomic_sub_fetch(&s->refcnt, 1, __ATOMIC_RELEASE);
}

const char *nfqct_ipset_name(const struct nfqct_ipset *s)
{
	return s->name;
}

unsigned int nfqct_ipset_dim(const struct nfqct_ipset *s)
{
	return itypes[rcu_dereference(s->data)->p.type].dim;
}

unsigned int nfqct_ipset_type(const struct nfqct_ipset *s)
{
	return rcu_dereference(s->data)->p.type;
}

int nfqct_ipset_family(const struct nfqct_ipset *s)
{
	return rcu_dereference(s->data)->p.family;
}

/* ---- the packet path ---- */

/* The packet's key for @d with the net dimension unmasked; false: nothing to look up. */
static bool pkt_key(const struct idata *d, const struct nfqct_ipset_probe *p, struct ikey *k)
{
	const struct itype *ty = &itypes[d->p.type];
	const struct nfqct_tuple *t = p->t;
	unsigned int slot = 0;

	memset(k, 0, sizeof(*k));
	for (unsigned int i = 0; i < ty->dim; i++) {
		bool src = i < p->dim ? (p->src >> i) & 1 : false;

		switch (ty->kind[i]) {
		case D_IP:
			k->a[slot] = src ? t->src : t->dst;
			if (d->p.netmask)
				mask_addr(&k->a[slot], d->p.netmask, d->p.family);
			slot++;
			break;
		case D_NET:
			k->a[slot++] = src ? t->src : t->dst;
			break;
		case D_PORT:
			k->proto = t->proto;
			switch (t->proto) {
			case IPPROTO_TCP:
			case IPPROTO_UDP:
			case IPPROTO_UDPLITE:
			case IPPROTO_SCTP:
				k->port = ntohs(src ? t->sp.port : t->dp.port);
				break;
			case IPPROTO_ICMP:
			case IPPROTO_ICMPV6:
				k->port = (uint16_t)(t->dp.icmp.type << 8 | t->dp.icmp.code);
				break;
			default:
				k->port = 0;
			}
			break;
		case D_BPORT:
			if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP && t->proto != IPPROTO_UDPLITE &&
			    t->proto != IPPROTO_SCTP)
				return false;	/* as bitmap:port: ports of those only */
			k->port = ntohs(src ? t->sp.port : t->dp.port);
			break;
		case D_IFACE: {
			const char *name = src ? p->in : p->out;

			if (!name || !*name)
				return false;
			strncpy(k->iface, name, IFNAMSIZ - 1);
			break;
		}
		}
	}
	return true;
}

/*
 * The kernel's ip_set_match_extensions(): the counters are updated first
 * (unless ! --update-counters), nomatch elements included, then
 * --packets-* / --bytes-* compare the updated values; a failed comparison
 * makes the element as good as absent (a net type then tries shorter
 * prefixes).  @p NULL: a command's test, no counters.
 */
static bool ext_match(struct ielem *e, const struct idata *d, const struct nfqct_ipset_probe *p)
{
	static const uint8_t ne = 4;
	uint64_t pk, by;

	if (!p || !d->p.counters)
		return true;
	if (p->update_counters) {
		pk = __atomic_add_fetch(&e->packets, 1, __ATOMIC_RELAXED);
		by = __atomic_add_fetch(&e->bytes, p->len, __ATOMIC_RELAXED);
	} else {
		pk = __atomic_load_n(&e->packets, __ATOMIC_RELAXED);
		by = __atomic_load_n(&e->bytes, __ATOMIC_RELAXED);
	}
	if (p->pkt_op && !(p->pkt_op == 1 ? pk == p->pkt_val : p->pkt_op == 2 ? pk < p->pkt_val :
			   p->pkt_op == 3 ? pk > p->pkt_val : (p->pkt_op == ne && pk != p->pkt_val)))
		return false;
	if (p->byte_op && !(p->byte_op == 1 ? by == p->byte_val : p->byte_op == 2 ? by < p->byte_val :
			    p->byte_op == 3 ? by > p->byte_val : (p->byte_op == ne && by != p->byte_val)))
		return false;
	return true;
}

/* Find the packet's element in @d (expired ones hold nothing), as ext_match() allows. */
static struct ielem *pkt_find(const struct idata *d, struct ikey *k, uint64_t now_ms,
			      const struct nfqct_ipset_probe *p)
{
	int ns = net_slot(d->p.type);
	union nfqct_addr full;
	struct ielem *e;

	if (ns < 0) {
		e = lookup(d, k);
		return e && !expired(e, now_ms) && ext_match(e, d, p) ? e : NULL;
	}
	full = k->a[ns];
	/* prefix lengths present, longest first (the kernel's nets[] order) */
	for (int w = 2; w >= 0; w--) {
		uint64_t bits = __atomic_load_n(&d->present[w], __ATOMIC_ACQUIRE);

		while (bits) {
			int b = 63 - __builtin_clzll(bits);
			unsigned int c = (unsigned int)(w * 64 + b);

			bits &= ~(1ull << b);
			if (c > addr_bits(d->p.family))
				continue;
			k->a[ns] = full;
			mask_addr(&k->a[ns], c, d->p.family);
			k->cidr = (uint8_t)c;
			e = lookup(d, k);
			if (e && !expired(e, now_ms) && ext_match(e, d, p))
				return e;
		}
	}
	return NULL;
}

bool nfqct_ipset_test_pkt(struct nfqct_ipset *s, const struct nfqct_ipset_probe *p, uint64_t now_ms)
{
	const struct idata *d = rcu_dereference(s->data);
	struct ikey k;
	struct ielem *e;

	if (d->p.type == NFQCT_IPSET_LIST_SET) {
		for (unsigned int i = 0; i < d->nmembers; i++)
			if (nfqct_ipset_test_pkt(d->members[i], p, now_ms))
				return true;
		return false;
	}
	if (d->p.family && d->p.family != p->t->family)
		return false;
	if (!pkt_key(d, p, &k))
		return false;
	e = pkt_find(d, &k, now_ms, p);
	if (!e)
		return false;
	/* a nomatch element: no match, unless --return-nomatch */
	return !e->nomatch || p->return_nomatch;
}

int nfqct_ipset_pkt_add(struct nfqct_ipset *s, const struct nfqct_ipset_probe *p, uint32_t timeout_s,
			bool exist, uint64_t now_ms)
{
	struct eopts o = { .exist = exist };
	struct idata *d;
	struct ikey k;
	int rc;

	pthread_mutex_lock(&s->lock);
	d = s->data;
	if (d->p.type == NFQCT_IPSET_LIST_SET) {
		rc = -EINVAL;	/* nfqct adds to list:set members only by name */
		goto out;
	}
	if ((d->p.family && d->p.family != p->t->family) || !pkt_key(d, p, &k)) {
		rc = -EINVAL;
		goto out;
	}
	if (has_net(d->p.type))
		k.cidr = (uint8_t)addr_bits(d->p.family);	/* a host, as xt_SET adds */
	if (d->p.type == NFQCT_IPSET_BITMAP_PORT && (k.port < d->p.range[0] || k.port > d->p.range[1])) {
		rc = -ERANGE;
		goto out;
	}
	if (timeout_s != UINT32_MAX && d->p.has_timeout) {
		o.has_timeout = true;
		o.timeout = timeout_s;
	}
	rc = data_add(d, &k, &o, now_ms);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int nfqct_ipset_pkt_del(struct nfqct_ipset *s, const struct nfqct_ipset_probe *p, uint64_t now_ms)
{
	struct idata *d;
	struct ikey k;
	struct ielem *e;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	d = s->data;
	if (d->p.type != NFQCT_IPSET_LIST_SET && (!d->p.family || d->p.family == p->t->family) &&
	    pkt_key(d, p, &k)) {
		if (has_net(d->p.type))
			k.cidr = (uint8_t)addr_bits(d->p.family);
		e = lookup(d, &k);
		if (e && !expired(e, now_ms)) {
			elem_remove(d, e);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- commands ---- */

/* The set @name with a reference, or NULL (printed). */
static struct nfqct_ipset *cmd_set(const char *name, FILE *out)
{
	struct nfqct_ipset *s;

	if (nfqct_ipset_get(name, &s) < 0) {
		fprintf(out, "The set with the given name does not exist: '%s'\n", name);
		return NULL;
	}
	return s;
}

int nfqct_ipset_cmd_add(const char *name, int argc, char **argv, FILE *out, uint64_t now_ms,
			struct nfqct_ipset_elem_spec **added)
{
	struct nfqct_ipset *s = cmd_set(name, out);
	struct nfqct_ipset_elem_spec e;
	struct eopts o;
	struct idata *d;
	char err[256];
	int rc, bad;

	if (added)
		*added = NULL;
	if (!s)
		return -ENOENT;
	if (argc < 1) {
		fprintf(out, "add: missing the element\n");
		nfqct_ipset_put(s);
		return -EINVAL;
	}
	pthread_mutex_lock(&s->lock);
	d = s->data;
	if (d->p.type == NFQCT_IPSET_LIST_SET) {
		struct nfqct_ipset *m = NULL;

		rc = -EINVAL;
		if (argc > 1)
			fprintf(out, "'%s': list:set members take no options in nfqct\n", argv[1]);
		else if (nfqct_ipset_get(argv[0], &m) < 0)
			fprintf(out, "The set with the given name does not exist: '%s'\n", argv[0]);
		else if (m->data->p.type == NFQCT_IPSET_LIST_SET || m == s)
			fprintf(out, "'%s': a list:set cannot be a member of a list:set\n", argv[0]);
		else if (d->nmembers >= d->p.size)
			fprintf(out, "List is full, cannot add more elements\n"), rc = -ENOSPC;
		else
			rc = 0;
		for (unsigned int i = 0; !rc && i < d->nmembers; i++)
			if (d->members[i] == m) {
				fprintf(out, "Element cannot be added to the set: it's already added\n");
				rc = -EEXIST;
			}
		if (rc) {
			nfqct_ipset_put(m);
		} else {
			/* readers see nmembers grow after the slot is written */
			d->members[d->nmembers] = m;
			__atomic_store_n(&d->nmembers, d->nmembers + 1, __ATOMIC_RELEASE);
		}
		goto out;
	}
	rc = parse_elem(&d->p, argv[0], &e, err, sizeof(err));
	if (rc) {
		fprintf(out, "%s\n", err);
		goto out;
	}
	rc = parse_eopts(&d->p, argc - 1, argv + 1, &o, &bad, err, sizeof(err));
	if (rc) {
		fprintf(out, "%s\n", err);
		free(o.comment);
		goto out;
	}
	rc = data_add(d, &e.key, &o, now_ms);
	free(o.comment);
	if (rc == -EEXIST)
		fprintf(out, "Element cannot be added to the set: it's already added\n");
	else if (rc == -ENOSPC)
		fprintf(out, "Hash is full, cannot add more elements\n");
	else if (rc == -ENOMEM)
		fprintf(out, "out of memory\n");
	if (!rc && added) {
		*added = malloc(sizeof(**added));
		if (*added)
			**added = e;
	}
out:
	pthread_mutex_unlock(&s->lock);
	nfqct_ipset_put(s);
	return rc;
}

int nfqct_ipset_cmd_del(const char *name, int argc, char **argv, FILE *out, uint64_t now_ms)
{
	struct nfqct_ipset *s = cmd_set(name, out);
	struct nfqct_ipset_elem_spec e;
	struct idata *d;
	struct ielem *el;
	char err[256];
	int rc = 0;

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	d = s->data;
	if (argc < 1 || (argc > 1 && strcmp(argv[1], "-exist"))) {
		fprintf(out, argc < 1 ? "del: missing the element\n" : "del: '%s': unexpected\n",
			argc > 1 ? argv[1] : "");
		rc = -EINVAL;
	} else if (d->p.type == NFQCT_IPSET_LIST_SET) {
		unsigned int i;

		for (i = 0; i < d->nmembers; i++)
			if (!strcmp(d->members[i]->name, argv[0]))
				break;
		if (i == d->nmembers) {
			fprintf(out, "Element cannot be deleted from the set: it's not added\n");
			rc = -ENOENT;
		} else {
			struct nfqct_ipset *m = d->members[i];

			/* in place: a reader walking the array meanwhile may test a
			 * member twice or miss the one after it, for that packet only */
			for (unsigned int j = i; j + 1 < d->nmembers; j++)
				d->members[j] = d->members[j + 1];
			__atomic_store_n(&d->nmembers, d->nmembers - 1, __ATOMIC_RELEASE);
			nfqct_ipset_put(m);	/* never frees: no grace period needed */
		}
	} else if ((rc = parse_elem(&d->p, argv[0], &e, err, sizeof(err)))) {
		fprintf(out, "%s\n", err);
	} else {
		el = lookup(d, &e.key);
		if (!el || expired(el, now_ms)) {
			if (argc < 2) {
				fprintf(out, "Element cannot be deleted from the set: it's not added\n");
				rc = -ENOENT;
			}
		} else {
			elem_remove(d, el);
		}
	}
	pthread_mutex_unlock(&s->lock);
	nfqct_ipset_put(s);
	return rc;
}

int nfqct_ipset_cmd_test(const char *name, int argc, char **argv, FILE *out, uint64_t now_ms)
{
	struct nfqct_ipset *s = cmd_set(name, out);
	struct nfqct_ipset_elem_spec e;
	struct idata *d;
	struct ielem *el = NULL;
	char err[256];
	int rc;

	if (!s)
		return -ENOENT;
	if (argc != 1) {
		fprintf(out, "test: expected one element\n");
		nfqct_ipset_put(s);
		return -EINVAL;
	}
	d = rcu_dereference(s->data);
	if (d->p.type == NFQCT_IPSET_LIST_SET) {
		rc = -ENOENT;
		for (unsigned int i = 0; i < d->nmembers; i++)
			if (!strcmp(d->members[i]->name, argv[0]))
				rc = 0;
	} else if ((rc = parse_elem(&d->p, argv[0], &e, err, sizeof(err)))) {
		fprintf(out, "%s\n", err);
		nfqct_ipset_put(s);
		return rc;
	} else {
		int ns = net_slot(d->p.type);

		/* as ipset test: a host address of a net type is looked up as the
		 * packet would be (longest prefix first) */
		if (ns >= 0 && e.key.cidr == addr_bits(d->p.family))
			el = pkt_find(d, &e.key, now_ms, NULL);
		else if ((el = lookup(d, &e.key)) && expired(el, now_ms))
			el = NULL;
		rc = el && !el->nomatch ? 0 : -ENOENT;
	}
	if (rc)
		fprintf(out, "%s is NOT in set %s.\n", argv[0], s->name);
	else
		fprintf(out, "%s is in set %s.\n", argv[0], s->name);
	nfqct_ipset_put(s);
	return rc;
}

bool nfqct_ipset_elem_matches(const struct nfqct_ipset_elem_spec *e, const struct nfqct_tuple *t)
{
	struct idata d;
	int ns = net_slot(e->type);

	if (e->type == NFQCT_IPSET_LIST_SET || (e->family && e->family != t->family))
		return false;
	memset(&d, 0, sizeof(d));
	d.p.type = e->type;
	d.p.family = e->family;
	/* every src/dst combination: the element's address may be either end */
	for (unsigned int src = 0; src < 1u << itypes[e->type].dim; src++) {
		struct nfqct_ipset_probe pr = { .t = t, .dim = itypes[e->type].dim, .src = (uint8_t)src };
		struct ikey k;

		if (!pkt_key(&d, &pr, &k))
			continue;
		if (ns >= 0) {
			mask_addr(&k.a[ns], e->key.cidr, e->family);
			k.cidr = e->key.cidr;
		}
		if (!memcmp(&k, &e->key, sizeof(k)))
			return true;
	}
	return false;
}

void nfqct_ipset_elem_spec_free(struct nfqct_ipset_elem_spec *e)
{
	free(e);
}

int nfqct_ipset_cmd_flush(const char *name, FILE *out)
{
	struct nfqct_ipset *one = NULL;

	if (name && !(one = cmd_set(name, out)))
		return -ENOENT;
	pthread_mutex_lock(&reg_lock);
	for (struct nfqct_ipset *s = reg; s; s = s->next) {
		struct idata *d;
		struct cds_lfht_iter it;
		struct cds_lfht_node *n;

		if (one && s != one)
			continue;
		pthread_mutex_lock(&s->lock);
		d = s->data;
		if (d->ht) {
			cds_lfht_first(d->ht, &it);
			while ((n = cds_lfht_iter_get_node(&it))) {
				cds_lfht_next(d->ht, &it);
				elem_remove(d, caa_container_of(n, struct ielem, node));
			}
		} else {
			unsigned int nm = d->nmembers;

			/* the array stays: a put never frees a set */
			__atomic_store_n(&d->nmembers, 0, __ATOMIC_RELEASE);
			for (unsigned int i = 0; i < nm; i++)
				nfqct_ipset_put(d->members[i]);
		}
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&reg_lock);
	nfqct_ipset_put(one);
	return 0;
}

static void print_header(FILE *out, const struct idata *d)
{
	if (d->p.family)
		fprintf(out, "family %s ", d->p.family == AF_INET ? "inet" : "inet6");
	if (itypes[d->p.type].hash)
		fprintf(out, "hashsize %u maxelem %u", d->p.hashsize, d->p.maxelem);
	else if (d->p.type == NFQCT_IPSET_BITMAP_PORT)
		fprintf(out, "range %u-%u", d->p.range[0], d->p.range[1]);
	else
		fprintf(out, "size %u", d->p.size);
	if (d->p.netmask)
		fprintf(out, " netmask %u", d->p.netmask);
	if (d->p.has_timeout)
		fprintf(out, " timeout %u", d->p.timeout);
	if (d->p.counters)
		fputs(" counters", out);
	if (d->p.comment)
		fputs(" comment", out);
}

static size_t data_memsize(const struct idata *d)
{
	size_t n = __atomic_load_n(&d->nelem, __ATOMIC_RELAXED);

	/* elements and comments, and about a bucket pointer for each (the
	 * table keeps about one bucket per element): no walk, the stat tree
	 * reads it every interval */
	return sizeof(*d) + __atomic_load_n(&d->memsize, __ATOMIC_RELAXED) + (d->ht ? n * sizeof(void *) : 0) +
	       (d->members ? d->p.size * sizeof(void *) : 0);
}

/* Elements in a stable order: sorted by key bytes. */
static int elem_cmp(const void *a, const void *b)
{
	const struct ielem *x = *(const struct ielem *const *)a, *y = *(const struct ielem *const *)b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int print_members(FILE *out, const struct nfqct_ipset *s, const struct idata *d, uint64_t now_ms,
			 bool save)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	struct ielem **v;
	unsigned int cnt = 0, cap = __atomic_load_n(&d->nelem, __ATOMIC_RELAXED) + 16;

	v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cds_lfht_first(d->ht, &it);
	while ((n = cds_lfht_iter_get_node(&it)) && cnt < cap) {
		struct ielem *e = caa_container_of(n, struct ielem, node);

		if (!expired(e, now_ms))
			v[cnt++] = e;
		cds_lfht_next(d->ht, &it);
	}
	qsort(v, cnt, sizeof(*v), elem_cmp);
	for (unsigned int i = 0; i < cnt; i++) {
		if (save)
			fprintf(out, "add %s ", s->name);
		print_elem(out, d, v[i], now_ms);
		fputc('\n', out);
	}
	free(v);
	return 0;
}

static int list_one(FILE *out, const struct nfqct_ipset *s, uint64_t now_ms, bool save)
{
	const struct idata *d = rcu_dereference(s->data);

	if (save) {
		fprintf(out, "create %s %s ", s->name, itypes[d->p.type].name);
		print_header(out, d);
		fputc('\n', out);
		if (d->members) {
			for (unsigned int i = 0; i < d->nmembers; i++)
				fprintf(out, "add %s %s\n", s->name, d->members[i]->name);
			return 0;
		}
		return print_members(out, s, d, now_ms, true);
	}
	fprintf(out, "Name: %s\nType: %s\nRevision: %u\nHeader: ", s->name, itypes[d->p.type].name,
		itypes[d->p.type].revision);
	print_header(out, d);
	fprintf(out, "\nSize in memory: %zu\nReferences: %u\nNumber of entries: %u\nMembers:\n",
		data_memsize(d), __atomic_load_n(&s->refcnt, __ATOMIC_RELAXED),
		d->members ? d->nmembers : __atomic_load_n(&d->nelem, __ATOMIC_RELAXED));
	if (d->members) {
		for (unsigned int i = 0; i < d->nmembers; i++)
			fprintf(out, "%s\n", d->members[i]->name);
		return 0;
	}
	return print_members(out, s, d, now_ms, false);
}

static int list_or_save(const char *name, FILE *out, uint64_t now_ms, bool save)
{
	int rc = 0;
	bool first = true;

	pthread_mutex_lock(&reg_lock);
	if (name && !reg_find(name)) {
		fprintf(out, "The set with the given name does not exist: '%s'\n", name);
		rc = -ENOENT;
	}
	for (struct nfqct_ipset *s = reg; s && !rc; s = s->next) {
		if (name && strcmp(s->name, name))
			continue;
		if (!save && !first)
			fputc('\n', out);
		first = false;
		rc = list_one(out, s, now_ms, save);
	}
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int nfqct_ipset_cmd_list(const char *name, FILE *out, uint64_t now_ms)
{
	return list_or_save(name, out, now_ms, false);
}

int nfqct_ipset_cmd_save(const char *name, FILE *out, uint64_t now_ms)
{
	return list_or_save(name, out, now_ms, true);
}

/* ---- housekeeping ---- */

unsigned int nfqct_ipset_gc(uint64_t now_ms)
{
	unsigned int removed = 0;
	struct nfqct_ipset *dead = NULL;

	pthread_mutex_lock(&reg_lock);
	for (struct nfqct_ipset *s = reg; s; s = s->next) {
		struct idata *d;
		struct cds_lfht_iter it;
		struct cds_lfht_node *n;

		if (!s->data->p.has_timeout || !s->data->ht)
			continue;
		pthread_mutex_lock(&s->lock);
		d = s->data;
		cds_lfht_first(d->ht, &it);
		while ((n = cds_lfht_iter_get_node(&it))) {
			struct ielem *e = caa_container_of(n, struct ielem, node);

			cds_lfht_next(d->ht, &it);
			if (expired(e, now_ms)) {
				elem_remove(d, e);
				removed++;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	graveyard_sweep(&dead);
	pthread_mutex_unlock(&reg_lock);
	free_sets(dead);
	return removed;
}

unsigned int nfqct_ipset_stats(struct nfqct_ipset_stat *st, unsigned int n)
{
	unsigned int i = 0;

	pthread_mutex_lock(&reg_lock);
	for (struct nfqct_ipset *s = reg; s; s = s->next, i++) {
		const struct idata *d = rcu_dereference(s->data);

		if (i >= n)
			continue;
		memset(&st[i], 0, sizeof(st[i]));
		strcpy(st[i].name, s->name);
		st[i].type = d->p.type;
		st[i].entries = d->members ? __atomic_load_n(&d->nmembers, __ATOMIC_RELAXED) :
					     __atomic_load_n(&d->nelem, __ATOMIC_RELAXED);
		st[i].maxelem = d->members ? d->p.size : d->p.maxelem;
		st[i].memsize = data_memsize(d);
		st[i].references = __atomic_load_n(&s->refcnt, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&reg_lock);
	return i;
}
