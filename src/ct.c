/*
 * ct.c - the connection table: nf_conntrack semantics (Linux 6.x) on
 * liburcu's lock-free resizable hash table, QSBR flavour.
 *
 * Layout.  Every entry carries two cds_lfht nodes, one per direction, as
 * the kernel's tuplehash[2].  Only the original tuple is stored; the reply
 * tuple is computed (nfqct_tuple_invert) when needed, which keeps an entry
 * within 200 bytes.  A byte right after each node says which node it is, so
 * the match function finds the entry and the direction from a bare node.
 *
 * Keys are (tuple, zone), hashed with SipHash-2-4 under a random key drawn
 * at create: flows chosen by a remote sender cannot be steered into one
 * hash chain.
 *
 * Life of an entry.  nfqct_ct_in() allocates it unconfirmed (private to the
 * worker, counted against nf_conntrack_max as the kernel does at
 * allocation), runs the tracker on the first packet, and the worker calls
 * nfqct_ct_confirm() with the filter's verdict.  Confirmation adds node 0
 * then node 1 with cds_lfht_add_unique(); a clash on either resolves as the
 * kernel's __nf_ct_resolve_clash (merge the loser's counters into the
 * winner) for protocols that allow it.  Removal: whoever sets CT_DYING owns
 * the removal, unlinks both nodes and frees the entry with call_rcu().
 *
 * Expiry.  Entries keep an absolute expiry in milliseconds of the caller's
 * clock.  Lookups treat expired entries as absent and remove them; the
 * housekeeping thread's nfqct_ct_gc() sweeps the table in bounded steps.
 * To resume a sweep after a quiescent state, gc pins the entry it stopped
 * at (CT_PINNED): a pinned entry that dies stays linked until gc moves past
 * it, so gc can find its place again with a lookup of that very node.
 */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <urcu-qsbr.h>		/* the flavour, before rculfhash.h */
#include <urcu/rculfhash.h>

#include "nfqct/csum.h"
#include "nfqct/ct.h"
#include "nfqct/events.h"
#include "nfqct/expect.h"
#include "nfqct/helper.h"
#include "nfqct/l4proto.h"
#include "nfqct/tsan.h"

/* Entry status bits (the kernel's IPS_* that matter here, plus ours). */
enum {
	CT_SEEN_REPLY	= 1 << 0,
	CT_ASSURED	= 1 << 1,
	CT_CONFIRMED	= 1 << 2,
	CT_DYING	= 1 << 3,	/* removal claimed; lookups skip it */
	CT_PINNED	= 1 << 4,	/* gc's resume point: stays linked */
	CT_ACCT		= 1 << 5,	/* accounting on at creation */
	CT_EXPECTED	= 1 << 6,	/* made by an expectation (IPS_EXPECTED) */
	CT_OFFLOAD	= 1 << 7,	/* its elements are in the kernel's set (offload.h) */
	CT_OFFLOAD_REQ	= 1 << 8,	/* an offload request is on its way */
};

/* How many table nodes an early-drop scan looks at (two per entry). */
#define CT_EARLY_DROP_SCAN	64
/* Lookups redone when the entry found dies under us. */
#define CT_INSERT_RETRIES	4
/* Waits for a dying entry to leave the table before an insertion gives up. */
#define CT_DYING_SPINS		128

#define CT_HELP_BUCKETS	64

/* One helper-assigned entry's helper state. */
struct ct_help {
	const struct nfqct_conn *conn;
	struct nfqct_ftp_state ftp;
	struct ct_help *next;
};

/* What gc reads (node 0, status, expiry) shares the first cache line. */
struct nfqct_conn {
	struct cds_lfht_node node0;	/* original direction */
	uint8_t dir0;			/* 0: must follow node0 directly */
	uint8_t lock;			/* per-entry spinlock, see ct_lock() */
	uint16_t status;		/* CT_*, atomic bit operations */
	uint32_t mark;			/* ct mark: atomic accesses (CONNMARK writes it per packet) */
	uint64_t expires;		/* ms; relative while unconfirmed */
	struct cds_lfht_node node1;	/* reply direction */
	uint8_t dir1;			/* 1: must follow node1 directly */
	uint8_t self_inverse;		/* tuple == its inverse: see ct_match() */
	uint16_t zone;
	uint8_t helper;			/* enum nfqct_helper_id: set before confirmation */
	uint8_t master_helper;		/* CT_EXPECTED: the master's helper */
	uint16_t pad1;
	struct nfqct_tuple tuple;	/* original direction */
	uint64_t packets[2];
	uint64_t bytes[2];
	union nfqct_l4_state proto;	/* the tracker's (l4proto.h) */
	struct rcu_head rcu;
};

_Static_assert(offsetof(struct nfqct_conn, dir0) ==
	       offsetof(struct nfqct_conn, node0) + sizeof(struct cds_lfht_node), "dir0 placement");
_Static_assert(offsetof(struct nfqct_conn, dir1) ==
	       offsetof(struct nfqct_conn, node1) + sizeof(struct cds_lfht_node), "dir1 placement");
_Static_assert(sizeof(union nfqct_l4_state) <= 52, "tracker state grew");
_Static_assert(sizeof(struct nfqct_conn) <= 200, "entry larger than 200 bytes");

struct nfqct_ct {
	struct cds_lfht *ht;
	uint64_t k0, k1;		/* SipHash key */
	unsigned long count;		/* atomic: allocated entries */
	struct nfqct_conn *scan_hint;	/* RCU: gc's pinned entry, where early drop starts */

	/* housekeeping thread only */
	struct nfqct_conn *gc_cursor;	/* pinned, or NULL: next sweep starts at the head */
	uint8_t gc_dir;

	/* Helpers: their per-entry state beside the table (an entry has no
	 * room for it), keyed by entry, under one lock that also serialises
	 * the helpers' runs, as the kernel's nf_ftp_lock. */
	struct nfqct_expect_table *exp;
	pthread_mutex_t help_lock;
	struct ct_help *help[CT_HELP_BUCKETS];
};

/* The lookup key: a tuple, its inverse (NULL when it has none), a zone. */
struct ct_key {
	const struct nfqct_tuple *t;
	const struct nfqct_tuple *inv;
	uint16_t zone;
	unsigned int *matches;		/* match() calls, for chainlength */
};

#define CT_STAT_INC(st, f)	do { if (st) NFQCT_STAT_INC((st)->f); } while (0)

/* ---- hashing: SipHash-2-4 over the 40-byte key ---- */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);	\
	v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);	\
} while (0)

/* Bytes of a tuple that carry meaning (the tail is padding). */
#define CT_TUPLE_LEN	(offsetof(struct nfqct_tuple, proto) + 1)

static unsigned long ct_hash(const struct nfqct_ct *ct, const struct nfqct_tuple *t, uint16_t zone)
{
	uint64_t w[5] = { 0 };
	uint64_t v0 = ct->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = ct->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = ct->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = ct->k1 ^ 0x7465646279746573ULL;
	unsigned int i;

	_Static_assert(CT_TUPLE_LEN + sizeof(zone) <= sizeof(w), "key fits");
	memcpy(w, t, CT_TUPLE_LEN);
	memcpy((uint8_t *)w + CT_TUPLE_LEN, &zone, sizeof(zone));
	/* the last word also carries the message length, as SipHash does */
	w[4] |= (uint64_t)sizeof(w) << 56;

	for (i = 0; i < 5; i++) {
		v3 ^= w[i];
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= w[i];
	}
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return (unsigned long)(v0 ^ v1 ^ v2 ^ v3);
}

static inline bool tuple_eq(const struct nfqct_tuple *a, const struct nfqct_tuple *b)
{
	return memcmp(a, b, CT_TUPLE_LEN) == 0;
}

/* ---- entries and nodes ---- */

static inline unsigned int node_dir(const struct cds_lfht_node *node)
{
	return *((const uint8_t *)node + sizeof(*node));
}

static inline struct nfqct_conn *node_conn(struct cds_lfht_node *node)
{
	if (node_dir(node))
		return caa_container_of(node, struct nfqct_conn, node1);
	return caa_container_of(node, struct nfqct_conn, node0);
}

static inline struct cds_lfht_node *conn_node(struct nfqct_conn *e, unsigned int dir)
{
	return dir ? &e->node1 : &e->node0;
}

static inline uint16_t conn_status(const struct nfqct_conn *e)
{
	return __atomic_load_n(&e->status, __ATOMIC_ACQUIRE);
}

static inline uint16_t conn_set(struct nfqct_conn *e, uint16_t bits)
{
	return __atomic_fetch_or(&e->status, bits, __ATOMIC_ACQ_REL);
}

static inline uint16_t conn_clear(struct nfqct_conn *e, uint16_t bits)
{
	return __atomic_fetch_and(&e->status, (uint16_t)~bits, __ATOMIC_ACQ_REL);
}

static inline uint64_t conn_expires(const struct nfqct_conn *e)
{
	return __atomic_load_n(&e->expires, __ATOMIC_RELAXED);
}

/*
 * One spinlock byte per entry.  Two workers can see packets of one flow
 * (its directions may land on different queues), and the tracker's state
 * (TCP windows, status bits, expiry, counters) must change as one unit, as
 * under the kernel's ct->lock.  The critical sections are a few dozen
 * instructions, so a byte spinning on test-and-set costs less memory and
 * time than a mutex in every entry.
 */
static inline void ct_lock(struct nfqct_conn *e)
{
	while (__atomic_test_and_set(&e->lock, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&e->lock, __ATOMIC_RELAXED))
			caa_cpu_relax();
	}
}

static inline void ct_unlock(struct nfqct_conn *e)
{
	__atomic_clear(&e->lock, __ATOMIC_RELEASE);
}

/*
 * An entry whose tuple is its own inverse (same address and port both
 * ways: a self-connect) has two nodes with one key.  Only node 1 matches:
 * confirmation then cannot meet the entry's own node 0 as a clash, and
 * lookups find it in the reply direction, as the kernel's, which puts the
 * reply tuplehash at the head of the shared bucket after the original one
 * (__nf_conntrack_hash_insert).  Node 0 stays linked for gc, dump, flush.
 */
static int ct_match(struct cds_lfht_node *node, const void *arg)
{
	const struct ct_key *k = arg;
	struct nfqct_conn *e;

	nfqct_tsan_lfht_match(node);
	e = node_conn(node);
	if (k->matches)
		(*k->matches)++;
	if (e->zone != k->zone)
		return 0;
	if (node_dir(node) == 0)
		return !e->self_inverse && tuple_eq(&e->tuple, k->t);
	/* node1 holds invert(e->tuple): compare the inverse of the key */
	return k->inv && tuple_eq(&e->tuple, k->inv);
}

static int ct_match_node(struct cds_lfht_node *node, const void *arg)
{
	return node == arg;
}

static unsigned long conn_hash(const struct nfqct_ct *ct, const struct nfqct_conn *e, unsigned int dir)
{
	struct nfqct_tuple r;

	if (dir == 0)
		return ct_hash(ct, &e->tuple, e->zone);
	nfqct_tuple_invert(&r, &e->tuple);
	return ct_hash(ct, &r, e->zone);
}

static void ct_free_rcu(struct rcu_head *head)
{
	nfqct_tsan_rcu_callback();
	free(caa_container_of(head, struct nfqct_conn, rcu));
}

/* Unlink both nodes of a dying entry and free it after a grace period. */
static void ct_unlink_free(struct nfqct_ct *ct, struct nfqct_conn *e)
{
	cds_lfht_del(ct->ht, &e->node0);
	cds_lfht_del(ct->ht, &e->node1);
	call_rcu(&e->rcu, ct_free_rcu);
}

static unsigned int help_bucket(const struct nfqct_conn *e)
{
	return (unsigned int)(((uintptr_t)e >> 6) % CT_HELP_BUCKETS);
}

/*
 * A helper-assigned entry dies: its helper state and its expectations go
 * (nf_ct_remove_expectations).  CT_DYING is set before: nfqct_ct_help()
 * checks it under help_lock, so nothing is added after this.
 */
static void ct_help_gone(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const struct nfqct_conn *e)
{
	struct ct_help **pp, *h = NULL;

	pthread_mutex_lock(&ct->help_lock);
	for (pp = &ct->help[help_bucket(e)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->conn == e) {
			h = *pp;
			*pp = h->next;
			break;
		}
	}
	pthread_mutex_unlock(&ct->help_lock);
	free(h);
	nfqct_expect_remove_owner(ct->exp, st, e);
}

/* ct_event - an event for `nfqct events` (events.h); only while someone listens. */
static void ct_event(const struct nfqct_ct *ct, const struct nfqct_conn *e, unsigned int type)
{
	struct nfqct_ct_info ci;

	nfqct_ct_info(e, &ci);
	nfqct_events_emit(type, &ci, nfqct_ct_id(ct, e));
}

/*
 * The end of a removal claimed by setting CT_DYING (under the entry lock,
 * so that readers holding the lock see either a live entry or DYING).
 * @old is the status before.  A pinned entry stays linked: gc unlinks it
 * when it moves on.
 */
static void ct_kill_finish(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_conn *e,
			   uint16_t old)
{
	__atomic_sub_fetch(&ct->count, 1, __ATOMIC_RELAXED);
	CT_STAT_INC(st, delete);
	if (nfqct_events_want(NFQCT_EV_DESTROY))
		ct_event(ct, e, NFQCT_EV_DESTROY);
	if (e->helper)
		ct_help_gone(ct, st, e);
	if (!(old & CT_PINNED))
		ct_unlink_free(ct, e);
}

/* ct_kill - remove a confirmed entry.  Returns false when someone else did. */
static bool ct_kill(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_conn *e)
{
	uint16_t old;

	ct_lock(e);
	old = conn_set(e, CT_DYING);
	ct_unlock(e);
	if (old & CT_DYING)
		return false;
	ct_kill_finish(ct, st, e, old);
	return true;
}

/* ct_expire - remove @e if it is still expired at @now (a refresh may have raced). */
static bool ct_expire(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_conn *e, uint64_t now)
{
	uint16_t old = CT_DYING;

	ct_lock(e);
	if (conn_expires(e) <= now)
		old = conn_set(e, CT_DYING);
	ct_unlock(e);
	if (old & CT_DYING)
		return false;
	ct_kill_finish(ct, st, e, old);
	return true;
}

/* Free an entry that never became visible, or only through a node since unlinked. */
static void ct_discard(struct nfqct_ct *ct, struct nfqct_conn *e, bool published)
{
	__atomic_sub_fetch(&ct->count, 1, __ATOMIC_RELAXED);
	if (published)
		call_rcu(&e->rcu, ct_free_rcu);
	else
		free(e);
}

/* ---- lookup ---- */

/*
 * Find the node of (@t, @zone).  Returns the entry (live or not: callers
 * check) and its direction, or NULL.
 */
static struct nfqct_conn *ct_find(struct nfqct_ct *ct, struct nfqct_ct_stats *st,
				  const struct nfqct_tuple *t, uint16_t zone, unsigned int *dir)
{
	struct nfqct_tuple inv;
	unsigned int matches = 0;
	struct ct_key k = { t, NULL, zone, &matches };
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	if (nfqct_tuple_invert(&inv, t))
		k.inv = &inv;
	cds_lfht_lookup(ct->ht, ct_hash(ct, t, zone), ct_match, &k, &it);
	CT_STAT_INC(st, searched);
	if (matches > 1)
		CT_STAT_INC(st, chainlength);
	node = cds_lfht_iter_get_node(&it);
	if (!node)
		return NULL;
	*dir = node_dir(node);
	return node_conn(node);
}

/* A confirmed entry that is not dying and not expired at @now. */
static inline bool conn_live(const struct nfqct_conn *e, uint64_t now)
{
	uint16_t s = conn_status(e);

	return (s & (CT_CONFIRMED | CT_DYING)) == CT_CONFIRMED && conn_expires(e) > now;
}

struct nfqct_conn *nfqct_ct_lookup(struct nfqct_ct *ct, const struct nfqct_tuple *tuple,
				   uint16_t zone, uint64_t now_ms, bool *reply)
{
	unsigned int dir = 0;
	struct nfqct_conn *e = ct_find(ct, NULL, tuple, zone, &dir);

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	if (!e || !conn_live(e, now_ms))
		return NULL;
	if (reply)
		*reply = dir == 1;
	return e;
}

/* ---- trackers ---- */

enum ct_verdict { CT_ACCEPT, CT_INVALID, CT_KILL, CT_REOPEN };

/*
 * ct_track - one packet of @e in direction @reply: the protocol tracker
 * @l4, then the refresh and the accounting (__nf_ct_refresh_acct), then
 * SEEN_REPLY as nf_conntrack_in sets it after the tracker.  Call with the
 * entry lock held, or on a private unconfirmed entry (@first).
 */
static enum ct_verdict ct_track(struct nfqct_conn *e, const struct nfqct_l4proto *l4,
				const struct nfqct_settings *s, const struct nfqct_pkt *pkt,
				bool reply, uint64_t now, bool first)
{
	uint16_t status = conn_status(e);
	bool seen_reply = status & CT_SEEN_REPLY;
	const struct nfqct_l4_ctx ctx = {
		.s = s, .now_ms = now, .reply = reply, .seen_reply = seen_reply,
		.assured = status & CT_ASSURED,
	};
	struct nfqct_l4_result v;
	enum ct_verdict ret = CT_ACCEPT;
	uint64_t t;

	l4->packet(&e->proto, pkt, &ctx, &v);
	switch (v.verdict) {
	case NFQCT_L4_INVALID:
		/* nf_tcp_handle_invalid(): an out-of-window FIN/RST answering
		 * one from the other side cuts a long remaining lifetime. */
		if (v.shrink_timeout && (status & CT_CONFIRMED)) {
			uint64_t left = conn_expires(e) > now ? conn_expires(e) - now : 0;
			uint64_t to = (uint64_t)v.timeout_s * 1000u;

			if (left >= 120000u && left > to)
				__atomic_store_n(&e->expires, now + to, __ATOMIC_RELAXED);
		}
		return CT_INVALID;
	case NFQCT_L4_IGNORE:
		/* Accepted with the entry's state, but neither refreshed nor
		 * accounted; a reply still marks the entry replied.  A first
		 * packet cannot be ignored (no state to keep): invalid. */
		if (first)
			return CT_INVALID;
		if (reply && !seen_reply)
			conn_set(e, CT_SEEN_REPLY);
		return CT_ACCEPT;
	case NFQCT_L4_REOPEN:
		return CT_REOPEN;
	case NFQCT_L4_KILL:
		ret = CT_KILL;
		break;
	default:
		break;
	}

	/* unconfirmed: relative, made absolute at confirmation (as the kernel) */
	t = (uint64_t)v.timeout_s * 1000u;
	__atomic_store_n(&e->expires, (status & CT_CONFIRMED) ? now + t : t, __ATOMIC_RELAXED);
	if (status & CT_ACCT) {
		e->packets[reply]++;
		e->bytes[reply] += pkt->len;
	}
	if (v.set_assured && !(status & CT_ASSURED))
		conn_set(e, CT_ASSURED);
	if (reply && !seen_reply)
		conn_set(e, CT_SEEN_REPLY);
	return ret;
}

/* ---- table full ---- */

/*
 * ct_early_drop - evict one non-assured entry (kernel: early_drop() looks
 * at 8 buckets near the new tuple's hash).  cds_lfht has no "seek to
 * hash", so the scan starts at gc's resume point, which sweeps through the
 * whole table, or at the head.  Expired entries met on the way are removed
 * too, and one of those makes room as well.  Returns true when room was made.
 */
static bool ct_early_drop(struct nfqct_ct *ct, struct nfqct_ct_stats *st, uint64_t now)
{
	struct nfqct_conn *hint = rcu_dereference(ct->scan_hint);
	struct cds_lfht_iter it;
	struct cds_lfht_node *node = NULL;
	unsigned int n = 0;
	bool wrapped = false;

	if (hint) {
		cds_lfht_lookup(ct->ht, conn_hash(ct, hint, 0), ct_match_node, &hint->node0, &it);
		node = cds_lfht_iter_get_node(&it);
	}
	if (!node) {
		cds_lfht_first(ct->ht, &it);
		node = cds_lfht_iter_get_node(&it);
		wrapped = true;
	}
	while (n < CT_EARLY_DROP_SCAN) {
		struct nfqct_conn *e;
		uint16_t s;

		if (!node) {
			if (wrapped)
				break;
			wrapped = true;
			cds_lfht_first(ct->ht, &it);
			node = cds_lfht_iter_get_node(&it);
			continue;
		}
		n++;
		e = node_conn(node);
		s = conn_status(e);
		if (node_dir(node) == 0 && (s & (CT_CONFIRMED | CT_DYING)) == CT_CONFIRMED) {
			if (conn_expires(e) <= now) {
				if (ct_expire(ct, st, e, now))
					return true;
			} else if (!(s & CT_ASSURED) && ct_kill(ct, st, e)) {
				CT_STAT_INC(st, early_drop);
				return true;
			}
		}
		cds_lfht_next(ct->ht, &it);
		node = cds_lfht_iter_get_node(&it);
	}
	return false;
}

/* ---- the packet path ---- */

static void ct_set_invalid(struct nfqct_ct_result *res)
{
	res->conn = NULL;
	res->ctstate = NFQCT_CTSTATE_INVALID;
	res->reply = false;
}

/*
 * ct_related - an ICMP/ICMPv6 error (nf_conntrack_inet_error): invert the
 * quoted tuple, as the reply to the quoted packet would look, and find its
 * entry.  The outer destination must be that direction's destination.
 * RELATED packets are neither accounted nor refresh the entry.
 */
static void ct_related(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const struct nfqct_pkt *pkt,
		       uint16_t zone, uint64_t now, struct nfqct_ct_result *res)
{
	struct nfqct_tuple inv, r;
	const struct nfqct_tuple *d;
	struct nfqct_conn *e;
	unsigned int dir = 0;

	if (!nfqct_tuple_invert(&inv, &pkt->inner))
		goto err;
	e = ct_find(ct, st, &inv, zone, &dir);
	if (!e)
		goto err;
	if (!conn_live(e, now)) {
		if ((conn_status(e) & (CT_CONFIRMED | CT_DYING)) == CT_CONFIRMED)
			ct_expire(ct, st, e, now);
		goto err;
	}
	d = &e->tuple;
	if (dir) {
		nfqct_tuple_invert(&r, &e->tuple);
		d = &r;
	}
	if (memcmp(&d->dst, &pkt->tuple.dst, sizeof(d->dst)) != 0)
		goto err;
	CT_STAT_INC(st, found);
	res->conn = e;
	res->ctstate = NFQCT_CTSTATE_RELATED;
	res->reply = dir == 1;
	return;
err:
	/* nf_conntrack_handle_icmp: counted as error, not invalid */
	CT_STAT_INC(st, icmp_error);
	ct_set_invalid(res);
}

/* ct_new - the first packet of a flow: an unconfirmed entry for the caller. */
static void ct_new(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const struct nfqct_settings *s,
		   const struct nfqct_l4proto *l4, const struct nfqct_pkt *pkt, uint16_t zone,
		   uint8_t helper, uint64_t now, struct nfqct_ct_result *res)
{
	struct nfqct_expect x;
	struct nfqct_tuple reply;
	struct nfqct_conn *e;
	unsigned long n;
	enum ct_verdict v;

	/* init_conntrack: no inverse (ICMP types without a reply), no entry */
	if (!nfqct_tuple_invert(&reply, &pkt->tuple))
		goto invalid;

	/* the limit is checked at allocation, before the tracker, as the kernel does */
	n = __atomic_add_fetch(&ct->count, 1, __ATOMIC_RELAXED);
	if (s->ct_max && n > s->ct_max && !ct_early_drop(ct, st, now)) {
		__atomic_sub_fetch(&ct->count, 1, __ATOMIC_RELAXED);
		goto drop;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		/* no memory: drop, as the kernel's allocation failure */
		__atomic_sub_fetch(&ct->count, 1, __ATOMIC_RELAXED);
		goto drop;
	}
	e->dir1 = 1;
	e->zone = zone;
	e->tuple = pkt->tuple;
	/* padding stays zero in the stored tuple: keys compare by bytes */
	memset((uint8_t *)&e->tuple + CT_TUPLE_LEN, 0, sizeof(e->tuple) - CT_TUPLE_LEN);
	e->self_inverse = tuple_eq(&e->tuple, &reply);
	if (s->ct_acct)
		e->status = CT_ACCT;
	/* init_conntrack: an expectation claims the flow before the tracker
	 * looks at it, and the helper of CT --helper applies only otherwise */
	if (nfqct_expect_count(ct->exp) &&
	    nfqct_expect_take(ct->exp, st, &e->tuple, zone, now, &x)) {
		e->status |= CT_EXPECTED;
		e->master_helper = x.helper;
		CT_STAT_INC(st, expect_new);
	} else {
		e->helper = helper;
	}

	if (l4->new) {
		const struct nfqct_l4_ctx ctx = { .s = s, .now_ms = now };

		if (!l4->new(&e->proto, pkt, &ctx))
			goto invalid_free;
	}
	v = ct_track(e, l4, s, pkt, false, now, true);
	if (v == CT_INVALID || v == CT_REOPEN)
		goto invalid_free;
	if (v == CT_KILL)
		e->status |= CT_DYING;	/* killed before confirmation: confirm refuses it */

	CT_STAT_INC(st, new);
	res->conn = e;
	res->ctstate = (e->status & CT_EXPECTED) ? NFQCT_CTSTATE_RELATED : NFQCT_CTSTATE_NEW;
	res->helper = e->helper;
	res->master_helper = e->master_helper;
	res->reply = false;
	res->unconfirmed = true;
	return;

invalid_free:
	ct_discard(ct, e, false);
invalid:
	CT_STAT_INC(st, invalid);
	ct_set_invalid(res);
	return;
drop:
	CT_STAT_INC(st, drop);
	res->conn = NULL;
	res->ctstate = NFQCT_CTSTATE_INVALID;
	res->drop = true;
}

void nfqct_ct_in(struct nfqct_ct *ct, const struct nfqct_settings *s, struct nfqct_ct_stats *st,
		 const struct nfqct_pkt *pkt, uint16_t zone, uint64_t now_ms,
		 struct nfqct_ct_result *res)
{
	nfqct_ct_in_help(ct, s, st, pkt, zone, NFQCT_HELPER_NONE, now_ms, res);
}

void nfqct_ct_in_help(struct nfqct_ct *ct, const struct nfqct_settings *s, struct nfqct_ct_stats *st,
		      const struct nfqct_pkt *pkt, uint16_t zone, uint8_t helper, uint64_t now_ms,
		      struct nfqct_ct_result *res)
{
	const struct nfqct_tuple *t = &pkt->tuple;
	const struct nfqct_l4proto *l4 = nfqct_l4proto_find(t->proto);
	unsigned int tries;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	memset(res, 0, sizeof(*res));

	if (pkt->flags & NFQCT_PKT_F_LATER_FRAG) {
		/* no reassembly: a non-first fragment has no ports to track (gap) */
		CT_STAT_INC(st, invalid);
		ct_set_invalid(res);
		return;
	}
	if (s->ct_checksum) {
		switch (nfqct_csum_verify(pkt)) {
		case NFQCT_CSUM_BAD:
			/* tcp_error()/udp_error() "bad checksum": INVALID, counted
			 * invalid; the ICMP trackers' error(): counted as error */
			if (t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6)
				CT_STAT_INC(st, icmp_error);
			else
				CT_STAT_INC(st, invalid);
			ct_set_invalid(res);
			return;
		case NFQCT_CSUM_CUT:
			/* the kernel had the whole packet: we cannot tell, so track it */
			CT_STAT_INC(st, csum_unchecked);
			break;
		case NFQCT_CSUM_SKIP:
		case NFQCT_CSUM_GOOD:
			break;
		}
	}
	switch (l4->classify ? l4->classify(pkt) : NFQCT_L4_TRACK) {
	case NFQCT_L4_TRACK:
		break;
	case NFQCT_L4_RELATED:
		ct_related(ct, st, pkt, zone, now_ms, res);
		return;
	case NFQCT_L4_UNTRACKED:
		res->ctstate = NFQCT_CTSTATE_UNTRACKED;
		return;
	case NFQCT_L4_ERROR:
		/* e.g. nf_conntrack_icmpv4_error: "invalid icmp type" */
		CT_STAT_INC(st, icmp_error);
		ct_set_invalid(res);
		return;
	}

	for (tries = 0; tries < CT_INSERT_RETRIES; tries++) {
		struct nfqct_conn *e;
		unsigned int dir = 0;
		enum ct_verdict v;
		uint16_t status;

		e = ct_find(ct, st, t, zone, &dir);
		/* unconfirmed: another worker is inserting it; this packet
		 * makes its own entry and merges on clash */
		if (!e || (conn_status(e) & (CT_CONFIRMED | CT_DYING)) != CT_CONFIRMED)
			break;

		ct_lock(e);
		status = conn_status(e);
		if (status & CT_DYING) {
			/* killed between lookup and lock: look again */
			ct_unlock(e);
			CT_STAT_INC(st, search_restart);
			continue;
		}
		if (conn_expires(e) <= now_ms) {
			uint16_t old = conn_set(e, CT_DYING);

			ct_unlock(e);
			ct_kill_finish(ct, st, e, old);
			break;
		}
		/* resolve_normal_ct: replies are ESTABLISHED; the original
		 * direction once a reply was seen */
		if (dir == 1 || (status & CT_SEEN_REPLY))
			res->ctstate = NFQCT_CTSTATE_ESTABLISHED;
		else if (status & CT_EXPECTED)
			res->ctstate = NFQCT_CTSTATE_RELATED;
		else
			res->ctstate = NFQCT_CTSTATE_NEW;
		if (nfqct_events_on()) {
			/* [UPDATE] as ctnetlink: the tracker's state, SEEN_REPLY or ASSURED changed */
			const char *sn = l4->state_name ? l4->state_name(&e->proto) : NULL;

			v = ct_track(e, l4, s, pkt, dir == 1, now_ms, false);
			if (((conn_status(e) ^ status) & (CT_SEEN_REPLY | CT_ASSURED)) ||
			    (sn && sn != l4->state_name(&e->proto))) {
				ct_unlock(e);
				ct_event(ct, e, NFQCT_EV_UPDATE);
			} else {
				ct_unlock(e);
			}
		} else {
			v = ct_track(e, l4, s, pkt, dir == 1, now_ms, false);
			ct_unlock(e);
		}
		CT_STAT_INC(st, found);

		switch (v) {
		case CT_ACCEPT:
			break;
		case CT_INVALID:
			CT_STAT_INC(st, invalid);
			ct_set_invalid(res);
			return;
		case CT_KILL:
			/* accounted above; the packet keeps its state */
			ct_kill(ct, st, e);
			break;
		case CT_REOPEN:
			/* the kernel's NF_REPEAT: delete, then track as new */
			ct_kill(ct, st, e);
			res->ctstate = 0;
			continue;
		}
		res->conn = e;
		res->reply = dir == 1;
		res->helper = e->helper;
		res->master_helper = e->master_helper;
		return;
	}
	ct_new(ct, st, s, l4, pkt, zone, helper, now_ms, res);
}

/* ---- confirmation ---- */

/* Waiting for another worker's insertion: spin briefly, then yield. */
static void ct_relax(unsigned int spins)
{
	if (spins < 64)
		caa_cpu_relax();
	else
		sched_yield();
}

enum ct_clash { CT_CLASH_RETRY, CT_CLASH_RESOLVE, CT_CLASH_FAIL };

/*
 * ct_clash_first - node 0 met @w.  An insertion in progress (neither
 * confirmed nor dying) finishes or backs off soon: retry.  A dying entry
 * leaves the table soon (unless gc holds it): retry a few times.  An
 * expired one is removed here.  A live one is the winner.
 */
static enum ct_clash ct_clash_first(struct nfqct_ct *ct, struct nfqct_ct_stats *st,
				    struct nfqct_conn *w, uint64_t now, unsigned int spins)
{
	uint16_t ws = conn_status(w);

	if (ws & CT_DYING) {
		if (spins >= CT_DYING_SPINS)
			return CT_CLASH_FAIL;
		ct_relax(spins);
		CT_STAT_INC(st, search_restart);
		return CT_CLASH_RETRY;
	}
	if (!(ws & CT_CONFIRMED)) {
		ct_relax(spins);
		return CT_CLASH_RETRY;
	}
	if (conn_expires(w) <= now) {
		ct_expire(ct, st, w, now);
		CT_STAT_INC(st, search_restart);
		return CT_CLASH_RETRY;
	}
	return CT_CLASH_RESOLVE;
}

/*
 * nfqct_ct_confirm.  Both nodes go in with add_unique, node 0 first.  The
 * kernel checks both tuples under two bucket locks; without locks, two
 * workers inserting the two directions of one flow can each get node 0 in
 * and then meet the other's node 0 with their node 1.  The tie is broken
 * by address: the higher entry backs off (removes its node 0, marks itself
 * dying), the lower one waits for that and goes on.  Waits only ever go
 * from higher to lower entries, so they cannot form a cycle.  An entry is
 * never merged into while its own insertion is still in progress.
 */
bool nfqct_ct_confirm(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_ct_result *res,
		      bool accepted, uint64_t now_ms)
{
	struct nfqct_conn *e = res->conn, *w;
	struct nfqct_tuple reply;
	struct ct_key k0, k1;
	struct cds_lfht_node *node;
	unsigned long h0, h1;
	unsigned int spins, dir;
	bool published = false;
	uint16_t status, ws;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	if (!e)
		return true;
	status = conn_status(e);
	/* only the nfqct_ct_in() result that made the entry may confirm it, once */
	assert(res->unconfirmed == !(status & CT_CONFIRMED));
	if (status & CT_CONFIRMED)
		return true;
	if (!accepted) {
		ct_discard(ct, e, false);
		res->conn = NULL;
		return true;
	}
	if (status & CT_DYING) {
		/* killed by its own first packet (__nf_conntrack_confirm: dying) */
		CT_STAT_INC(st, insert_failed);
		goto fail;
	}

	nfqct_tuple_invert(&reply, &e->tuple);
	k0 = (struct ct_key){ &e->tuple, &reply, e->zone, NULL };
	k1 = (struct ct_key){ &reply, &e->tuple, e->zone, NULL };
	h0 = ct_hash(ct, &e->tuple, e->zone);
	h1 = ct_hash(ct, &reply, e->zone);
	e->expires += now_ms;

	for (spins = 0;; spins++) {
		node = cds_lfht_add_unique(ct->ht, h0, ct_match, &k0, &e->node0);
		if (node == &e->node0)
			break;
		w = node_conn(node);
		switch (ct_clash_first(ct, st, w, now_ms, spins)) {
		case CT_CLASH_RETRY:
			continue;
		case CT_CLASH_FAIL:
			CT_STAT_INC(st, insert_failed);
			CT_STAT_INC(st, drop);
			goto fail;
		case CT_CLASH_RESOLVE:
			break;
		}
		dir = node_dir(node);
		goto resolve;
	}

	for (spins = 0;; spins++) {
		node = cds_lfht_add_unique(ct->ht, h1, ct_match, &k1, &e->node1);
		if (node == &e->node1)
			goto confirmed;
		w = node_conn(node);
		ws = conn_status(w);
		if ((ws & CT_DYING) ||
		    (!(ws & CT_CONFIRMED) && (uintptr_t)w > (uintptr_t)e)) {
			/* leaving, or about to back off for us */
			ct_relax(spins);
			continue;
		}
		if ((ws & CT_CONFIRMED) && conn_expires(w) <= now_ms) {
			ct_expire(ct, st, w, now_ms);
			CT_STAT_INC(st, search_restart);
			continue;
		}
		/* back off: the node was visible, so free after a grace period */
		cds_lfht_del(ct->ht, &e->node0);
		conn_set(e, CT_DYING);
		published = true;
		/* our original packet is the reverse of the winner's node */
		dir = !node_dir(node);
		for (spins = 0; !(conn_status(w) & (CT_CONFIRMED | CT_DYING)); spins++)
			ct_relax(spins);
		if (conn_status(w) & CT_DYING) {
			/* the winner backed off too (a third worker): give up */
			CT_STAT_INC(st, insert_failed);
			CT_STAT_INC(st, drop);
			goto fail;
		}
		goto resolve;
	}

resolve:
	if (!nfqct_l4proto_find(e->tuple.proto)->allow_clash) {
		/* nf_ct_resolve_clash: drop */
		CT_STAT_INC(st, insert_failed);
		CT_STAT_INC(st, drop);
		goto fail;
	}
	/* __nf_ct_resolve_clash + nf_ct_acct_merge: the packet follows the
	 * winner, which gets the loser's (one packet's) counters */
	ct_lock(w);
	if ((conn_status(w) & CT_ACCT) && (e->status & CT_ACCT)) {
		w->packets[dir] += e->packets[0];
		w->bytes[dir] += e->bytes[0];
	}
	ct_unlock(w);
	CT_STAT_INC(st, clashres);
	ct_discard(ct, e, published);
	res->conn = w;
	res->reply = dir == 1;
	return true;

confirmed:
	conn_set(e, CT_CONFIRMED);
	CT_STAT_INC(st, insert);
	if (nfqct_events_want(NFQCT_EV_NEW))
		ct_event(ct, e, NFQCT_EV_NEW);
	return true;

fail:
	ct_discard(ct, e, published);
	res->conn = NULL;
	return false;
}

/* ---- table ---- */

static unsigned long pow2_ceil(unsigned long v)
{
	unsigned long p = 1;

	while (p < v && p < (1UL << 30))
		p <<= 1;
	return p;
}

struct nfqct_ct *nfqct_ct_create(const struct nfqct_settings *s)
{
	struct nfqct_ct *ct;
	uint64_t key[2];
	unsigned long size;
	int err;

	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return NULL;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		err = errno ? errno : EIO;
		goto err_free_ct;
	}
	ct->k0 = key[0];
	ct->k1 = key[1];

	size = pow2_ceil(s->ct_buckets ? s->ct_buckets : 16384);
	ct->exp = nfqct_expect_create();
	if (!ct->exp) {
		err = errno;
		goto err_free_ct;
	}
	err = pthread_mutex_init(&ct->help_lock, NULL);
	if (err)
		goto err_free_exp;
	ct->ht = cds_lfht_new(size, size, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	if (!ct->ht) {
		err = ENOMEM;
		goto err_free_lock;
	}
	return ct;

err_free_lock:
	pthread_mutex_destroy(&ct->help_lock);
err_free_exp:
	nfqct_expect_destroy(ct->exp);
err_free_ct:
	free(ct);
	errno = err;
	return NULL;
}

void nfqct_ct_destroy(struct nfqct_ct *ct)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	bool online;

	if (!ct)
		return;
	/* no reader remains: unpin gc's entry and remove everything */
	if (ct->gc_cursor)
		conn_clear(ct->gc_cursor, CT_PINNED);
	cds_lfht_for_each(ct->ht, &it, node) {
		struct nfqct_conn *e = node_conn(node);

		if (node_dir(node) != 0)
			continue;
		cds_lfht_del(ct->ht, &e->node0);
		cds_lfht_del(ct->ht, &e->node1);
		call_rcu(&e->rcu, ct_free_rcu);
	}
	/* the wait for the resize worker needs grace periods to end: an
	 * online QSBR caller would block them, so step offline for it */
	online = rcu_read_ongoing();
	if (online)
		rcu_thread_offline();
	cds_lfht_destroy(ct->ht, NULL);
	if (online)
		rcu_thread_online();
	for (unsigned int i = 0; i < CT_HELP_BUCKETS; i++) {
		while (ct->help[i]) {
			struct ct_help *h = ct->help[i];

			ct->help[i] = h->next;
			free(h);
		}
	}
	pthread_mutex_destroy(&ct->help_lock);
	nfqct_expect_destroy(ct->exp);
	free(ct);
}

uint32_t nfqct_ct_count(const struct nfqct_ct *ct)
{
	return (uint32_t)__atomic_load_n(&ct->count, __ATOMIC_RELAXED);
}

size_t nfqct_ct_entry_size(void)
{
	return sizeof(struct nfqct_conn);
}

/* ---- gc ---- */

/* gc_release - let go of the pinned entry; unlink it if it died meanwhile. */
static void gc_release(struct nfqct_ct *ct, struct nfqct_conn *e)
{
	uint16_t old;

	rcu_assign_pointer(ct->scan_hint, NULL);
	old = conn_clear(e, CT_PINNED);
	if (old & CT_DYING)
		ct_unlink_free(ct, e);
}

unsigned int nfqct_ct_gc(struct nfqct_ct *ct, struct nfqct_ct_stats *st, uint64_t now_ms,
			 unsigned int budget)
{
	struct nfqct_conn *cur = ct->gc_cursor;
	/* @budget counts entries (node 0 visits); node 1 visits are steps
	 * over the table too, bounded so that one call stays short */
	unsigned long visits = 0, steps = 0, max_steps = 4UL * budget;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node = NULL;
	unsigned int expired = 0;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	nfqct_expect_gc(ct->exp, st, now_ms);
	if (cur) {
		/* a pinned node is still linked: find it again, step past it */
		cds_lfht_lookup(ct->ht, conn_hash(ct, cur, ct->gc_dir), ct_match_node,
				conn_node(cur, ct->gc_dir), &it);
		node = cds_lfht_iter_get_node(&it);
		if (node) {
			cds_lfht_next(ct->ht, &it);
			node = cds_lfht_iter_get_node(&it);
		}
		ct->gc_cursor = NULL;
		gc_release(ct, cur);
		if (!node)
			return 0;	/* sweep done; the next call starts over */
	} else {
		cds_lfht_first(ct->ht, &it);
		node = cds_lfht_iter_get_node(&it);
	}

	for (; node; cds_lfht_next(ct->ht, &it), node = cds_lfht_iter_get_node(&it)) {
		struct nfqct_conn *e = node_conn(node);
		uint16_t s = conn_status(e);

		if (visits >= budget || steps >= max_steps) {
			/* stop here if this entry can be pinned (confirmed, alive) */
			if ((s & (CT_CONFIRMED | CT_DYING)) != CT_CONFIRMED)
				continue;
			if (conn_set(e, CT_PINNED) & CT_DYING) {
				/* died meanwhile: its killer saw no pin, let it go */
				conn_clear(e, CT_PINNED);
				continue;
			}
			ct->gc_cursor = e;
			ct->gc_dir = node_dir(node);
			rcu_assign_pointer(ct->scan_hint, e);
			break;
		}
		steps++;
		if (node_dir(node) != 0)
			continue;
		visits++;
		if ((s & (CT_CONFIRMED | CT_DYING)) == CT_CONFIRMED && conn_expires(e) <= now_ms &&
		    ct_expire(ct, st, e, now_ms))
			expired++;
	}
	return expired;
}

bool nfqct_ct_gc_sweeping(const struct nfqct_ct *ct)
{
	return ct->gc_cursor != NULL;
}

unsigned int nfqct_ct_flush(struct nfqct_ct *ct, struct nfqct_ct_stats *st)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	unsigned int n = 0;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	cds_lfht_for_each(ct->ht, &it, node) {
		struct nfqct_conn *e = node_conn(node);

		if ((conn_status(e) & (CT_CONFIRMED | CT_DYING)) == CT_CONFIRMED && ct_kill(ct, st, e))
			n++;
	}
	return n;
}

/* ---- inspection and dump ---- */

void nfqct_ct_info(const struct nfqct_conn *conn, struct nfqct_ct_info *out)
{
	struct nfqct_conn *e = (struct nfqct_conn *)conn;
	uint16_t s;

	memset(out, 0, sizeof(*out));
	ct_lock(e);
	s = conn_status(e);
	out->orig = e->tuple;
	out->zone = e->zone;
	out->mark = __atomic_load_n(&e->mark, __ATOMIC_RELAXED);
	out->expires_ms = conn_expires(e);
	memcpy(out->packets, e->packets, sizeof(out->packets));
	memcpy(out->bytes, e->bytes, sizeof(out->bytes));
	if (e->tuple.proto == IPPROTO_TCP)
		out->tcp_state = e->proto.tcp.state;
	if (nfqct_l4proto_find(e->tuple.proto)->state_name)
		out->state_name = nfqct_l4proto_find(e->tuple.proto)->state_name(&e->proto);
	out->helper = e->helper;
	ct_unlock(e);
	nfqct_tuple_invert(&out->reply, &out->orig);
	out->seen_reply = s & CT_SEEN_REPLY;
	out->assured = s & CT_ASSURED;
	out->confirmed = s & CT_CONFIRMED;
	out->dying = s & CT_DYING;
	out->acct = s & CT_ACCT;
	out->offload = s & CT_OFFLOAD;
}

/* Decimal and hex digits of @v at @p; returns the end (no NUL). */
static char *put_uint(char *p, unsigned int v, unsigned int base)
{
	char tmp[12];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_text(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* libnetfilter_conntrack's __snprintf_address and __snprintf_proto; no
 * printf: the events thread formats a line per event with it */
char *nfqct_tuple_format(char *p, const struct nfqct_tuple *t)
{
	int af = t->family == AF_INET6 ? AF_INET6 : AF_INET;

	p = put_text(p, "src=");
	inet_ntop(af, &t->src, p, INET6_ADDRSTRLEN);
	p += strlen(p);
	p = put_text(p, " dst=");
	inet_ntop(af, &t->dst, p, INET6_ADDRSTRLEN);
	p += strlen(p);
	switch (t->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		p = put_uint(put_text(p, " sport="), ntohs(t->sp.port), 10);
		p = put_uint(put_text(p, " dport="), ntohs(t->dp.port), 10);
		break;
	case IPPROTO_GRE:
		p = put_uint(put_text(p, " srckey=0x"), ntohs(t->sp.port), 16);
		p = put_uint(put_text(p, " dstkey=0x"), ntohs(t->dp.port), 16);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p = put_uint(put_text(p, " type="), t->dp.icmp.type, 10);
		p = put_uint(put_text(p, " code="), t->dp.icmp.code, 10);
		p = put_uint(put_text(p, " id="), ntohs(t->sp.icmp_id), 10);
		break;
	default:
		break;
	}
	*p = '\0';
	return p;
}

void nfqct_tuple_print(FILE *out, const struct nfqct_tuple *t)
{
	char buf[NFQCT_TUPLE_TEXT_MAX];

	nfqct_tuple_format(buf, t);
	fputs(buf, out);
}

/*
 * One `conntrack -L` line, field for field as libnetfilter_conntrack's
 * __snprintf_conntrack_default(): "%-8s %u " protocol name and number,
 * timeout, the tracker's state (TCP, SCTP), original tuple, its counters, [UNREPLIED], reply
 * tuple, its counters, [ASSURED], mark=, zone= (only when not 0, as
 * ctnetlink sends CTA_ZONE only then), use=; no trailing blank.
 */
void nfqct_ct_info_print(FILE *out, const struct nfqct_ct_info *ci, uint64_t now)
{
	const char *name = nfqct_proto_name(ci->orig.proto);
	uint64_t left = ci->expires_ms > now ? (ci->expires_ms - now) / 1000u : 0;

	fprintf(out, "%-8s %u %llu ", name ? name : "unknown", ci->orig.proto, (unsigned long long)left);
	if (ci->state_name)
		fprintf(out, "%s ", ci->state_name);
	nfqct_tuple_print(out, &ci->orig);
	fputc(' ', out);
	if (ci->acct)
		fprintf(out, "packets=%llu bytes=%llu ", (unsigned long long)ci->packets[0],
			(unsigned long long)ci->bytes[0]);
	if (!ci->seen_reply)
		fputs("[UNREPLIED] ", out);
	nfqct_tuple_print(out, &ci->reply);
	fputc(' ', out);
	if (ci->acct)
		fprintf(out, "packets=%llu bytes=%llu ", (unsigned long long)ci->packets[1],
			(unsigned long long)ci->bytes[1]);
	/* the kernel's ct_seq_show: [OFFLOAD] in place of [ASSURED] */
	if (ci->offload)
		fputs("[OFFLOAD] ", out);
	else if (ci->assured)
		fputs("[ASSURED] ", out);
	fprintf(out, "mark=%u ", ci->mark);
	if (ci->zone)
		fprintf(out, "zone=%u ", ci->zone);
	if (ci->helper)
		fprintf(out, "helper=%s ", nfqct_helper_name(ci->helper));
	fputs("use=1", out);
}

unsigned int nfqct_ct_walk(struct nfqct_ct *ct, uint64_t now_ms,
			   bool (*fn)(struct nfqct_conn *conn, const struct nfqct_ct_info *ci, void *arg),
			   void *arg)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	unsigned int n = 0;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	cds_lfht_for_each(ct->ht, &it, node) {
		struct nfqct_ct_info ci;

		if (node_dir(node) != 0 || !conn_live(node_conn(node), now_ms))
			continue;
		nfqct_ct_info(node_conn(node), &ci);
		if (ci.dying)
			continue;
		n++;
		if (!fn(node_conn(node), &ci, arg))
			break;
	}
	return n;
}

struct dump_arg {
	FILE *out;
	uint64_t now_ms;
};

static bool dump_one(struct nfqct_conn *conn, const struct nfqct_ct_info *ci, void *arg)
{
	const struct dump_arg *d = arg;

	nfqct_ct_info_print(d->out, ci, d->now_ms);
	fputc('\n', d->out);
	return true;
}

unsigned int nfqct_ct_dump(struct nfqct_ct *ct, FILE *out, uint64_t now_ms)
{
	struct dump_arg d = { out, now_ms };

	return nfqct_ct_walk(ct, now_ms, dump_one, &d);
}

bool nfqct_ct_kill(struct nfqct_ct *ct, struct nfqct_ct_stats *st, struct nfqct_conn *conn)
{
	return ct_kill(ct, st, conn);
}

void nfqct_ct_set_mark(struct nfqct_conn *conn, uint32_t value, uint32_t mask)
{
	nfqct_ct_mark_xset(conn, value & mask, mask);
}

const struct nfqct_tuple *nfqct_ct_tuple(const struct nfqct_conn *conn, uint16_t *zone)
{
	*zone = conn->zone;
	return &conn->tuple;
}

bool nfqct_ct_closed(const struct nfqct_conn *conn)
{
	uint8_t st;

	if (conn->tuple.proto != IPPROTO_TCP)
		return false;
	st = __atomic_load_n(&conn->proto.tcp.state, __ATOMIC_RELAXED);
	return st == NFQCT_TCP_TIME_WAIT || st == NFQCT_TCP_CLOSE;
}

uint32_t nfqct_ct_mark(const struct nfqct_conn *conn)
{
	return __atomic_load_n(&conn->mark, __ATOMIC_RELAXED);
}

uint32_t nfqct_ct_mark_xset(struct nfqct_conn *conn, uint32_t value, uint32_t mask)
{
	uint32_t old = __atomic_load_n(&conn->mark, __ATOMIC_RELAXED), mark;

	/* a CAS loop: workers and `nfqct update --mark` never lose each other's bits */
	do {
		mark = (old & ~mask) ^ value;
		if (mark == old)
			break;
	} while (!__atomic_compare_exchange_n(&conn->mark, &old, mark, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return mark;
}

uint32_t nfqct_ct_id(const struct nfqct_ct *ct, const struct nfqct_conn *conn)
{
	/* the kernel's nf_ct_get_id hashes the pointer with a secret too */
	uint64_t h = ct_hash(ct, &conn->tuple, conn->zone) ^ ((uint64_t)(uintptr_t)conn * (ct->k1 | 1));

	return (uint32_t)(h ^ (h >> 32));
}

/* ---- helpers ---- */

static bool conn_alive(const void *owner)
{
	return !(conn_status(owner) & CT_DYING);
}

/* The helper state of @e, made on first use (help_lock held); NULL without memory. */
static struct ct_help *help_state(struct nfqct_ct *ct, const struct nfqct_conn *e)
{
	struct ct_help **head = &ct->help[help_bucket(e)], *h;

	for (h = *head; h; h = h->next)
		if (h->conn == e)
			return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->conn = e;
	h->next = *head;
	*head = h;
	return h;
}

bool nfqct_ct_help(struct nfqct_ct *ct, const struct nfqct_settings *s, struct nfqct_ct_stats *st,
		   const struct nfqct_ct_result *res, const struct nfqct_pkt *pkt, uint64_t now_ms)
{
	struct nfqct_conn *e = res->conn;
	struct nfqct_help_expect he;
	struct ct_help *h;
	int v = NFQCT_HELP_ACCEPT;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	if (!e || !e->helper)
		return true;
	pthread_mutex_lock(&ct->help_lock);
	if (conn_status(e) & CT_DYING)
		goto out;	/* its state is gone or going: nothing to help */
	switch (e->helper) {
	case NFQCT_HELPER_FTP:
		/* "Until there's been traffic both ways, don't look in packets." */
		if (res->ctstate != NFQCT_CTSTATE_ESTABLISHED)
			break;
		h = help_state(ct, e);
		if (!h)
			break;	/* no memory: accept unhelped, the flow is not ours to break */
		v = nfqct_ftp_help(&h->ftp, pkt, res->reply, &he);
		break;
	case NFQCT_HELPER_TFTP:
		v = nfqct_tftp_help(pkt, &e->tuple, &he);
		break;
	default:
		break;
	}
	if (v == NFQCT_HELP_EXPECT) {
		struct nfqct_expect x = {
			.tuple = he.tuple, .master = e->tuple, .owner = e, .zone = e->zone,
			.helper = e->helper,
			.expires_ms = now_ms + NFQCT_HELPER_EXPECT_TIMEOUT_S * 1000u,
		};
		int r = nfqct_expect_add(ct->exp, st, &x, s->expect_max, NFQCT_HELPER_MAX_EXPECTED,
					 conn_alive, now_ms);

		/* "Can't expect this?  Best to drop packet now." (the kernel's
		 * FTP and TFTP helpers); a dying master is no reason to drop */
		v = (r == 0 || r == -ESHUTDOWN) ? NFQCT_HELP_ACCEPT : NFQCT_HELP_DROP;
	}
out:
	pthread_mutex_unlock(&ct->help_lock);
	return v != NFQCT_HELP_DROP;
}

unsigned int nfqct_ct_expect_dump(struct nfqct_ct *ct, FILE *out, uint64_t now_ms)
{
	return nfqct_expect_dump(ct->exp, out, now_ms);
}

/* ---- export and import (state.h) ---- */

int nfqct_ct_export(struct nfqct_ct *ct, uint64_t now_ms,
		    int (*fn)(void *arg, const struct nfqct_ct_entry *e), void *arg)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	cds_lfht_for_each(ct->ht, &it, node) {
		struct nfqct_conn *e = node_conn(node);
		struct nfqct_ct_entry x;
		uint64_t exp;
		uint16_t s;
		int ret;

		if (node_dir(node) != 0 || !conn_live(e, now_ms))
			continue;
		memset(&x, 0, sizeof(x));
		ct_lock(e);
		s = conn_status(e);
		exp = conn_expires(e);
		x.tuple = e->tuple;
		x.zone = e->zone;
		x.mark = __atomic_load_n(&e->mark, __ATOMIC_RELAXED);
		x.helper = e->helper;
		x.master_helper = e->master_helper;
		memcpy(x.packets, e->packets, sizeof(x.packets));
		memcpy(x.bytes, e->bytes, sizeof(x.bytes));
		x.proto = e->proto;
		ct_unlock(e);
		/* killed or expired between the check and the lock */
		if ((s & CT_DYING) || exp <= now_ms)
			continue;
		x.timeout_ms = exp - now_ms;
		x.flags = (uint16_t)(((s & CT_SEEN_REPLY) ? NFQCT_CT_F_SEEN_REPLY : 0) |
				     ((s & CT_ASSURED) ? NFQCT_CT_F_ASSURED : 0) |
				     ((s & CT_ACCT) ? NFQCT_CT_F_ACCT : 0) |
				     ((s & CT_EXPECTED) ? NFQCT_CT_F_EXPECTED : 0));
		ret = fn(arg, &x);
		if (ret)
			return ret;
	}
	return 0;
}

/* The live entry holding (@t, @zone) in either direction, or NULL. */
static struct nfqct_conn *ct_import_find(struct nfqct_ct *ct, const struct nfqct_tuple *t,
					 uint16_t zone, uint64_t now)
{
	unsigned int dir;
	struct nfqct_conn *e = ct_find(ct, NULL, t, zone, &dir);

	return e && conn_live(e, now) ? e : NULL;
}

int nfqct_ct_import(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const struct nfqct_ct_entry *in,
		    uint64_t now_ms, uint32_t ct_max, bool replace)
{
	struct nfqct_tuple reply;
	struct ct_key k0, k1;
	struct cds_lfht_node *node;
	struct nfqct_conn *e, *old;
	unsigned long n;

	assert(rcu_read_ongoing());	/* RCU reader: registered and online */

	if ((in->flags & ~NFQCT_CT_F_ALL) || !in->timeout_ms || !nfqct_tuple_invert(&reply, &in->tuple))
		return -EINVAL;
	old = ct_import_find(ct, &in->tuple, in->zone, now_ms);
	if (!old)
		old = ct_import_find(ct, &reply, in->zone, now_ms);
	if (old) {
		if (!replace)
			return -EEXIST;
		ct_kill(ct, st, old);
	}
	n = __atomic_add_fetch(&ct->count, 1, __ATOMIC_RELAXED);
	if (ct_max && n > ct_max) {
		__atomic_sub_fetch(&ct->count, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		__atomic_sub_fetch(&ct->count, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	e->dir1 = 1;
	e->zone = in->zone;
	e->tuple = in->tuple;
	memset((uint8_t *)&e->tuple + CT_TUPLE_LEN, 0, sizeof(e->tuple) - CT_TUPLE_LEN);
	nfqct_tuple_invert(&reply, &e->tuple);
	e->self_inverse = tuple_eq(&e->tuple, &reply);
	e->mark = in->mark;
	e->helper = in->helper;
	e->master_helper = in->master_helper;
	memcpy(e->packets, in->packets, sizeof(e->packets));
	memcpy(e->bytes, in->bytes, sizeof(e->bytes));
	e->proto = in->proto;
	e->expires = now_ms + in->timeout_ms;
	e->status = (uint16_t)(((in->flags & NFQCT_CT_F_SEEN_REPLY) ? CT_SEEN_REPLY : 0) |
			       ((in->flags & NFQCT_CT_F_ASSURED) ? CT_ASSURED : 0) |
			       ((in->flags & NFQCT_CT_F_ACCT) ? CT_ACCT : 0) |
			       ((in->flags & NFQCT_CT_F_EXPECTED) ? CT_EXPECTED : 0));

	/* as nfqct_ct_confirm(), without clash resolution: whatever holds
	 * the tuple now (a worker's insertion, a dying entry) wins */
	k0 = (struct ct_key){ &e->tuple, &reply, e->zone, NULL };
	k1 = (struct ct_key){ &reply, &e->tuple, e->zone, NULL };
	node = cds_lfht_add_unique(ct->ht, ct_hash(ct, &e->tuple, e->zone), ct_match, &k0, &e->node0);
	if (node != &e->node0) {
		ct_discard(ct, e, false);
		return -EAGAIN;
	}
	node = cds_lfht_add_unique(ct->ht, ct_hash(ct, &reply, e->zone), ct_match, &k1, &e->node1);
	if (node != &e->node1) {
		cds_lfht_del(ct->ht, &e->node0);
		conn_set(e, CT_DYING);
		ct_discard(ct, e, true);
		return -EAGAIN;
	}
	conn_set(e, CT_CONFIRMED);
	CT_STAT_INC(st, insert);
	return 0;
}

/* ---- flow offload (offload.h) ---- */

bool nfqct_ct_offloadable(const struct nfqct_conn *conn, const struct nfqct_pkt *pkt)
{
	uint16_t s = conn_status(conn);

	if (conn->zone || !(s & CT_CONFIRMED) || (s & CT_DYING) || !(s & CT_SEEN_REPLY))
		return false;
	switch (conn->tuple.proto) {
	case IPPROTO_TCP:
		/* a racy read of the state, as any reader outside the lock */
		if (__atomic_load_n(&conn->proto.tcp.state, __ATOMIC_RELAXED) != NFQCT_TCP_ESTABLISHED)
			return false;
		/* SYN, FIN, RST: the handshake and the teardown stay on the queue */
		return !pkt || (pkt->l4 && pkt->l4caplen >= 14 && !(pkt->l4[13] & 0x07));
	case IPPROTO_UDP:
		return true;
	default:
		return false;
	}
}

bool nfqct_ct_offload_claim(struct nfqct_conn *conn)
{
	return !(conn_set(conn, CT_OFFLOAD_REQ) & CT_OFFLOAD_REQ);
}

void nfqct_ct_offload_done(struct nfqct_conn *conn, bool offloaded)
{
	if (offloaded && conn->tuple.proto == IPPROTO_TCP) {
		/* the tracker will not see the windows move (nft_flow_offload) */
		ct_lock(conn);
		nfqct_tcp_set_liberal(&conn->proto.tcp);
		ct_unlock(conn);
	}
	if (offloaded)
		conn_set(conn, CT_OFFLOAD);
	else
		conn_clear(conn, CT_OFFLOAD);
	conn_clear(conn, CT_OFFLOAD_REQ);
}

bool nfqct_ct_offloaded(const struct nfqct_conn *conn)
{
	return conn_status(conn) & CT_OFFLOAD;
}

bool nfqct_ct_offload_unset(struct nfqct_conn *conn)
{
	return conn_clear(conn, CT_OFFLOAD) & CT_OFFLOAD;
}

void nfqct_ct_offload_acct(struct nfqct_conn *conn, const struct nfqct_settings *s, bool reply,
			   uint64_t packets, uint64_t bytes, uint64_t now_ms)
{
	struct nfqct_conn *e = conn;
	uint16_t st = conn_status(e);
	unsigned int to;

	if (!packets)
		return;
	if (e->tuple.proto == IPPROTO_TCP)
		to = s->timeout[NFQCT_TO_TCP_ESTABLISHED];
	else
		to = s->timeout[(st & CT_ASSURED) ? NFQCT_TO_UDP_STREAM : NFQCT_TO_UDP];
	ct_lock(e);
	if (!(conn_status(e) & CT_DYING)) {
		if (st & CT_ACCT) {
			e->packets[reply] += packets;
			e->bytes[reply] += bytes;
		}
		/* the kernel forwarded them: the flow is alive (__nf_ct_refresh_acct) */
		if (conn_expires(e) < now_ms + (uint64_t)to * 1000u)
			__atomic_store_n(&e->expires, now_ms + (uint64_t)to * 1000u, __ATOMIC_RELAXED);
	}
	ct_unlock(e);
}
