/*
 * offload.c - flow offload to the kernel through an nft set (offload.h).
 *
 * Workers push requests into a ring each (single producer, single
 * consumer) and, once per batch that pushed any, kick an eventfd; the
 * offload thread wakes on it (or every OFFLOAD_TICK_MS), turns what it
 * finds into one netlink batch, and every nfqct.offload_interval_ms (or
 * when asked) reads and resets the elements' counters.
 *
 * A batch is one nf_tables transaction: one refused message aborts every
 * message of it.  So a batch that fails is sent again one flow at a time,
 * and only the flows refused then stay on the queue path.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <urcu-qsbr.h>

#include "nfqct/log.h"
#include "nfqct/offload.h"

/* Linux 6.5's NFT_MSG_GETSETELEM_RESET (older headers lack it): a dump that
 * zeroes the counters it reports, so that each read is a delta. */
#ifndef NFT_MSG_GETSETELEM_RESET
#define NFT_MSG_GETSETELEM_RESET 33
#endif

#define OFFLOAD_TICK_MS		10	/* how often the rings are emptied */
#define OFFLOAD_SETTLE_US	1000	/* after a kick, before the rings are read */
#define OFFLOAD_BATCH		64	/* flows per netlink batch */
#define OFFLOAD_RCV_TIMEO_MS	1000	/* a kernel that does not answer */
#define OFFLOAD_WAIT_MS		2000	/* sync/flush callers wait no longer */

/* Counters other threads read: atomic adds, no lock. */
#define STAT_ADD(c, v)	__atomic_add_fetch(&(c), (v), __ATOMIC_RELAXED)

struct offload_req {
	struct nfqct_tuple t;	/* original direction */
	uint8_t add;
};

struct offload_ring {
	struct offload_req req[NFQCT_OFFLOAD_RING];
	uint32_t head;		/* written by the worker (atomic) */
	uint32_t tail;		/* written by the offload thread (atomic) */
} __attribute__((aligned(64)));

struct nfqct_offload {
	struct nfqct_ct *ct;
	struct nfqct_settings *const *settings;
	char *stat_dir;
	unsigned int nworkers;
	struct offload_ring *rings;
	struct mnl_socket *nl;
	int kick_fd;		/* eventfd: workers wake the thread (nfqct_offload_kick) */
	uint32_t portid;
	uint32_t seq;
	pthread_t thread;
	bool started;

	pthread_mutex_t lock;	/* the requests below */
	pthread_cond_t cond;
	uint64_t sync_req, sync_done;
	uint64_t flush_req, flush_done;
	bool stop;

	/* counters: written by the offload thread (failures by workers too) */
	uint64_t offloaded, adds, removes, failures, packets, bytes;
	struct log_ratelimit rl;
	uint64_t last_read_ms;
	char buf[65536];		/* batches, dumps (MNL_SOCKET_BUFFER_SIZE is not a constant) */
};

/* ---- keys ---- */

size_t nfqct_offload_key(const struct nfqct_tuple *t, uint8_t key[44])
{
	size_t a = t->family == AF_INET ? 4 : t->family == AF_INET6 ? 16 : 0;

	if (!a || (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP))
		return 0;
	memset(key, 0, 44);
	memcpy(key, t->src.b, a);
	memcpy(key + a, t->dst.b, a);
	key[2 * a] = t->proto;				/* inet_proto: 1 byte in 4 */
	memcpy(key + 2 * a + 4, &t->sp.port, 2);	/* inet_service: 2 bytes in 4 */
	memcpy(key + 2 * a + 8, &t->dp.port, 2);
	return 2 * a + 12;
}

int nfqct_offload_key_parse(const uint8_t *key, size_t len, struct nfqct_tuple *t)
{
	size_t a = len == 20 ? 4 : len == 44 ? 16 : 0;

	if (!a || (key[2 * a] != IPPROTO_TCP && key[2 * a] != IPPROTO_UDP))
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->family = a == 4 ? AF_INET : AF_INET6;
	memcpy(t->src.b, key, a);
	memcpy(t->dst.b, key + a, a);
	t->proto = key[2 * a];
	memcpy(&t->sp.port, key + 2 * a + 4, 2);
	memcpy(&t->dp.port, key + 2 * a + 8, 2);
	return 0;
}

/* ---- netlink ---- */

/* Bind @nl (the kernel picks the port id) and read the id back. */
static int nl_bind(struct mnl_socket *nl, uint32_t *portid)
{
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	*portid = mnl_socket_get_portid(nl);
	return 0;
}

/* A netfilter netlink socket with our receive timeout; bound when @portid
 * is given. */
static struct mnl_socket *nl_open(uint32_t *portid)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct timeval tv = { .tv_sec = OFFLOAD_RCV_TIMEO_MS / 1000,
			      .tv_usec = (OFFLOAD_RCV_TIMEO_MS % 1000) * 1000 };
	int r;

	if (!nl)
		return NULL;
	if (portid && (r = nl_bind(nl, portid)) < 0) {
		mnl_socket_close(nl);
		errno = -r;
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return nl;
}

static const char *set_name(int family)
{
	return family == AF_INET ? NFQCT_OFFLOAD_SET4 : NFQCT_OFFLOAD_SET6;
}

static struct nftnl_set *set_alloc(int family)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFQCT_OFFLOAD_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_name(family));
	return s;
}

/* Add the elements of @t's two tuples to @s (with the timeout when @add). */
static int set_add_flow(struct nftnl_set *s, const struct nfqct_tuple *t, bool add, uint64_t timeout_ms)
{
	struct nfqct_tuple r;
	const struct nfqct_tuple *dir[2] = { t, &r };
	uint8_t key[44];

	nfqct_tuple_invert(&r, t);
	for (int i = 0; i < 2; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		size_t n = nfqct_offload_key(dir[i], key);

		if (!e)
			return -ENOMEM;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)n);
		if (add) {
			/* timeout and expiration: an element that exists gets its
			 * expiry pushed back (Linux 6.12's element timeout update) */
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, timeout_ms);
		}
		nftnl_set_elem_add(s, e);
	}
	return 0;
}

/*
 * Send one batch of @n flows (@reqs), each one message with NLM_F_ACK, and
 * collect the answers: @res[i] is 0 or -errno.  Returns 0 when every message
 * was taken, -errno when the batch was refused (then nothing took effect:
 * one transaction) or could not be sent.
 */
static int send_batch(struct nfqct_offload *off, const struct offload_req *reqs, unsigned int n,
		      int *res, uint64_t timeout_ms)
{
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(off->buf, sizeof(off->buf));
	uint32_t first, got = 0;
	int ret = 0;

	if (!b)
		return -ENOMEM;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), off->seq++);
	mnl_nlmsg_batch_next(b);
	first = off->seq;
	for (unsigned int i = 0; i < n; i++) {
		struct nftnl_set *s = set_alloc(reqs[i].t.family);
		struct nlmsghdr *nlh;

		res[i] = -EINPROGRESS;
		if (!s || set_add_flow(s, &reqs[i].t, reqs[i].add, timeout_ms) < 0) {
			nftnl_set_free(s);
			mnl_nlmsg_batch_stop(b);
			return -ENOMEM;
		}
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
					    reqs[i].add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
					    NFPROTO_INET, (reqs[i].add ? NLM_F_CREATE : 0) | NLM_F_ACK,
					    off->seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		mnl_nlmsg_batch_next(b);
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b), off->seq++);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(off->nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) {
		ret = -errno;
		mnl_nlmsg_batch_stop(b);
		return ret;
	}
	mnl_nlmsg_batch_stop(b);
	/* One answer per message (an abort answers them all too). */
	while (got < n) {
		ssize_t len = mnl_socket_recvfrom(off->nl, off->buf, sizeof(off->buf));
		const struct nlmsghdr *nlh;
		int left;

		if (len < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)off->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->msg.nlmsg_seq < first || e->msg.nlmsg_seq >= first + n) {
				if (e->error)
					ret = e->error;	/* the batch itself was refused */
				continue;
			}
			res[e->msg.nlmsg_seq - first] = e->error;
			if (e->error)
				ret = e->error;
			got++;
		}
		if (ret && got < n && ret != -ENOENT && ret != -EEXIST)
			break;	/* a refused batch may not answer every message */
	}
	return ret;
}

struct dump_ctx {
	struct nfqct_offload *off;
	const struct nfqct_settings *s;
	uint64_t now_ms;
	struct offload_req stale[OFFLOAD_BATCH];
	unsigned int nstale;
};

static int ctr_cb(struct nftnl_expr *e, void *data)
{
	uint64_t *pb = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name && !strcmp(name, "counter")) {
		pb[0] += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		pb[1] += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

/* One element read (and reset): its counts go to its entry, or it is stale. */
static void dump_elem(struct dump_ctx *dc, struct nftnl_set_elem *e)
{
	uint32_t klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	uint64_t pb[2] = { 0, 0 };
	struct nfqct_tuple t;
	struct nfqct_conn *conn;
	bool reply = false;

	if (!key || nfqct_offload_key_parse(key, klen, &t) < 0)
		return;
	nftnl_set_elem_expr_foreach(e, ctr_cb, pb);
	__atomic_add_fetch(&dc->off->packets, pb[0], __ATOMIC_RELAXED);
	__atomic_add_fetch(&dc->off->bytes, pb[1], __ATOMIC_RELAXED);
	conn = nfqct_ct_lookup(dc->off->ct, &t, 0, dc->now_ms, &reply);
	/* what the kernel forwarded crossed the box: always the entry's */
	if (conn && pb[0])
		nfqct_ct_offload_acct(conn, dc->s, reply, pb[0], pb[1], dc->now_ms);
	if (conn && (nfqct_ct_offloaded(conn) || !nfqct_ct_offload_claim(conn)))
		return;	/* offloaded, or an add is on its way */
	if (conn)
		nfqct_ct_offload_done(conn, false);	/* undo our claim */
	/* The entry is gone, or was taken back: remove the pair once, from
	 * the element whose key sorts first (either one names the pair). */
	if (dc->nstale < OFFLOAD_BATCH) {
		struct nfqct_tuple inv;
		uint8_t k1[44], k2[44];
		size_t n;

		nfqct_tuple_invert(&inv, &t);
		n = nfqct_offload_key(&t, k1);
		nfqct_offload_key(&inv, k2);
		if (memcmp(k1, k2, n) > 0)
			return;
		dc->stale[dc->nstale++] = (struct offload_req){ .t = t, .add = 0 };
	}
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *dc = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	it = nftnl_set_elems_iter_create(s);
	if (it) {
		for (e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it))
			dump_elem(dc, e);
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* Read and reset the counters of set @family's elements.  0 or -errno. */
static int read_set(struct nfqct_offload *off, int family, struct dump_ctx *dc)
{
	struct nftnl_set *s = set_alloc(family);
	struct nlmsghdr *nlh;
	uint32_t seq = off->seq++;
	int ret;

	if (!s)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(off->buf, NFT_MSG_GETSETELEM_RESET, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(off->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(off->nl, off->buf, sizeof(off->buf));

		if (len < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		ret = mnl_cb_run(off->buf, (size_t)len, seq, off->portid, dump_cb, dc);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -errno : 0;
	}
}

/* ---- the thread ---- */

static void say_failure(struct nfqct_offload *off, const char *what, int err, uint64_t now_ms)
{
	uint32_t suppressed;

	if (!log_ratelimit_ok(&off->rl, now_ms, &suppressed))
		return;
	log_warnx("offload: %s: %s%s (the flows stay on the queue path; %" PRIu64 " failures so "
		  "far, %u messages suppressed)", what, strerror(-err),
		  err == -ENOENT ? ": table " NFQCT_OFFLOAD_TABLE " missing? run nfqct-kernel-rules" : "",
		  __atomic_load_n(&off->failures, __ATOMIC_RELAXED), suppressed);
}

/* The outcome of request @r: the entry's flags and the counters. */
static void settle(struct nfqct_offload *off, const struct offload_req *r, int err, uint64_t now_ms)
{
	bool reply;
	struct nfqct_conn *conn = nfqct_ct_lookup(off->ct, &r->t, 0, now_ms, &reply);

	if (r->add) {
		if (err) {
			__atomic_add_fetch(&off->failures, 1, __ATOMIC_RELAXED);
			say_failure(off, "cannot add a flow", err, now_ms);
		} else {
			if (!conn || !nfqct_ct_offloaded(conn))
				STAT_ADD(off->offloaded, 1);
			STAT_ADD(off->adds, 1);
		}
		if (conn)
			nfqct_ct_offload_done(conn, !err);
		return;
	}
	/* a removal of elements that are gone already is no failure */
	if (err && err != -ENOENT) {
		__atomic_add_fetch(&off->failures, 1, __ATOMIC_RELAXED);
		say_failure(off, "cannot remove a flow", err, now_ms);
		return;
	}
	STAT_ADD(off->removes, 1);
	if (off->offloaded)
		STAT_ADD(off->offloaded, (uint64_t)-1);
}

/* Send @n requests; a refused batch is sent again one flow at a time. */
static void run_requests(struct nfqct_offload *off, const struct offload_req *reqs, unsigned int n,
			 uint64_t now_ms)
{
	const struct nfqct_settings *s = rcu_dereference(*off->settings);
	uint64_t timeout_ms = (uint64_t)s->offload_timeout_s * 1000u;
	int res[OFFLOAD_BATCH];
	int ret;

	if (!n)
		return;
	ret = send_batch(off, reqs, n, res, timeout_ms);
	if (ret == 0) {
		for (unsigned int i = 0; i < n; i++)
			settle(off, &reqs[i], 0, now_ms);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		int one = 0;

		ret = n == 1 ? ret : send_batch(off, &reqs[i], 1, &one, timeout_ms);
		settle(off, &reqs[i], ret, now_ms);
	}
}

/* Accept requests for the entries that still want them. */
static bool still_wanted(struct nfqct_offload *off, const struct offload_req *r, uint64_t now_ms)
{
	bool reply;
	struct nfqct_conn *conn = nfqct_ct_lookup(off->ct, &r->t, 0, now_ms, &reply);

	if (!r->add)
		return true;
	if (conn && nfqct_ct_offloadable(conn, NULL))
		return true;
	/* it closed (or went) while the request waited: not offloaded */
	if (conn)
		nfqct_ct_offload_done(conn, false);
	return false;
}

static void read_counters(struct nfqct_offload *off, uint64_t now_ms);

/* Send @n requests; with removals (@dels), the counters are read first, so
 * that what the kernel counted up to now is the entries'.  What it counts
 * between that read and the removal (microseconds) is lost. */
static void run_batch(struct nfqct_offload *off, const struct offload_req *reqs, unsigned int n,
		      bool dels, uint64_t now_ms)
{
	if (dels)
		read_counters(off, now_ms);
	run_requests(off, reqs, n, now_ms);
}

/* Empty the rings into batches. */
static void drain_rings(struct nfqct_offload *off, uint64_t now_ms)
{
	struct offload_req reqs[OFFLOAD_BATCH];
	unsigned int n = 0;
	bool dels = false;

	for (unsigned int w = 0; w < off->nworkers; w++) {
		struct offload_ring *rg = &off->rings[w];
		uint32_t tail = rg->tail, head = __atomic_load_n(&rg->head, __ATOMIC_ACQUIRE);

		for (; tail != head; tail++) {
			const struct offload_req *r = &rg->req[tail & (NFQCT_OFFLOAD_RING - 1)];

			if (still_wanted(off, r, now_ms))
				reqs[n++] = *r;
			dels |= !r->add;
			if (n == OFFLOAD_BATCH) {
				run_batch(off, reqs, n, dels, now_ms);
				n = 0;
				dels = false;
			}
		}
		__atomic_store_n(&rg->tail, tail, __ATOMIC_RELEASE);
	}
	run_batch(off, reqs, n, dels, now_ms);
}

/* Read every element's counters into the entries; remove the stale ones. */
static void read_counters(struct nfqct_offload *off, uint64_t now_ms)
{
	struct dump_ctx dc = { .off = off, .s = rcu_dereference(*off->settings), .now_ms = now_ms };
	static const int fams[2] = { AF_INET, AF_INET6 };

	for (int i = 0; i < 2; i++) {
		int r = read_set(off, fams[i], &dc);

		if (r < 0)
			say_failure(off, "cannot read the counters", r, now_ms);
	}
	off->last_read_ms = now_ms;
	/* their entries are gone or took them back */
	run_requests(off, dc.stale, dc.nstale, now_ms);
}

static bool clear_offload(struct nfqct_conn *conn, const struct nfqct_ct_info *ci, void *arg)
{
	(void)arg;
	if (ci->offload)
		nfqct_ct_offload_unset(conn);
	return true;
}

/* Remove every element (a set flush: DELSETELEM without elements). */
static void flush_sets(struct nfqct_offload *off, uint64_t now_ms)
{
	static const int fams[2] = { AF_INET, AF_INET6 };

	read_counters(off, now_ms);
	for (int i = 0; i < 2; i++) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(off->buf, sizeof(off->buf));
		struct nftnl_set *s = set_alloc(fams[i]);
		struct nlmsghdr *nlh;
		ssize_t len;

		if (!b || !s) {
			nftnl_set_free(s);
			if (b)
				mnl_nlmsg_batch_stop(b);
			continue;
		}
		nftnl_batch_begin(mnl_nlmsg_batch_current(b), off->seq++);
		mnl_nlmsg_batch_next(b);
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_DELSETELEM,
					    NFPROTO_INET, NLM_F_ACK, off->seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		mnl_nlmsg_batch_next(b);
		nftnl_batch_end(mnl_nlmsg_batch_current(b), off->seq++);
		mnl_nlmsg_batch_next(b);
		if (mnl_socket_sendto(off->nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) >= 0) {
			len = mnl_socket_recvfrom(off->nl, off->buf, sizeof(off->buf));
			(void)len;	/* its ack; a missing set was said by the read */
		}
		mnl_nlmsg_batch_stop(b);
	}
	STAT_ADD(off->removes, off->offloaded);
	__atomic_store_n(&off->offloaded, 0, __ATOMIC_RELAXED);
	nfqct_ct_walk(off->ct, now_ms, clear_offload, NULL);
}

static void write_stat(struct nfqct_offload *off)
{
	char path[4096], tmp[4096];
	struct nfqct_offload_stats st;
	FILE *f;

	if (!off->stat_dir)
		return;
	nfqct_offload_stats_read(off, &st);
	snprintf(path, sizeof(path), "%s/net/stat/nfqct_offload", off->stat_dir);
	snprintf(tmp, sizeof(tmp), "%s/net/stat/.nfqct_offload.tmp", off->stat_dir);
	f = fopen(tmp, "w");
	if (!f)
		return;
	/* 32-bit fields as the other stat files: they wrap, as the kernel's */
	fprintf(f, NFQCT_OFFLOAD_HDR "%08x %08x %08x %08x %08x %08x\n", (uint32_t)st.offloaded,
		(uint32_t)st.adds, (uint32_t)st.removes, (uint32_t)st.failures, (uint32_t)st.packets,
		(uint32_t)st.bytes);
	fchmod(fileno(f), 0444);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

static void *offload_main(void *arg)
{
	struct nfqct_offload *off = arg;
	uint64_t last_stat = 0;

	rcu_register_thread();
	/* What a previous daemon left (kill -9, an upgrade): its counts go to
	 * the entries a state file brought back, then a clean slate; the flows
	 * come back at their next packet. */
	if (nfqct_offload_probe() == 0)
		flush_sets(off, nfqct_now_ms());
	for (;;) {
		uint64_t now = nfqct_now_ms(), sync_req, flush_req;
		const struct nfqct_settings *s = rcu_dereference(*off->settings);
		bool stop;

		pthread_mutex_lock(&off->lock);
		sync_req = off->sync_req;
		flush_req = off->flush_req;
		stop = off->stop;
		pthread_mutex_unlock(&off->lock);

		drain_rings(off, now);
		if ((flush_req != off->flush_done || stop) && off->adds) {
			flush_sets(off, now);
		} else if (off->adds &&
			   (sync_req != off->sync_done || now - off->last_read_ms >= s->offload_interval_ms)) {
			/* nothing to read before the first flow went to the kernel */
			read_counters(off, now);
		}
		if (now - last_stat >= s->stat_interval_ms || stop) {
			write_stat(off);
			last_stat = now;
		}
		pthread_mutex_lock(&off->lock);
		off->sync_done = sync_req;
		off->flush_done = flush_req;
		pthread_cond_broadcast(&off->cond);
		pthread_mutex_unlock(&off->lock);
		if (stop)
			break;
		rcu_quiescent_state();
		rcu_thread_offline();
		{
			struct pollfd pfd = { .fd = off->kick_fd, .events = POLLIN };
			uint64_t n;

			/* a kick, or the tick (sync and flush requests, the counters) */
			if (poll(&pfd, 1, OFFLOAD_TICK_MS) > 0) {
				/* let a burst of requests gather, and short flows end
				 * before they cost two netlink round trips */
				struct timespec ts = { 0, OFFLOAD_SETTLE_US * 1000L };

				nanosleep(&ts, NULL);
				if (read(off->kick_fd, &n, sizeof(n)) != sizeof(n))
					n = 0;
			}
		}
		rcu_thread_online();
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- the interface ---- */

int nfqct_offload_probe(void)
{
	uint32_t portid = 0;
	struct mnl_socket *nl = nl_open(&portid);
	struct nfqct_offload tmp;
	int ret = 0;

	if (!nl)
		return -errno;
	memset(&tmp, 0, sizeof(tmp));
	tmp.nl = nl;
	tmp.portid = portid;
	tmp.seq = (uint32_t)time(NULL);
	for (int i = 0; i < 2 && !ret; i++) {
		struct nftnl_set *s = set_alloc(i ? AF_INET6 : AF_INET);
		struct nlmsghdr *nlh;
		ssize_t len;
		int r;
		uint32_t seq = tmp.seq++;

		if (!s) {
			ret = -ENOMEM;
			break;
		}
		nlh = nftnl_nlmsg_build_hdr(tmp.buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_ACK, seq);
		nftnl_set_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
			ret = -errno;
			break;
		}
		/* the set, then the ack: until the ack (or an error) */
		do {
			len = mnl_socket_recvfrom(nl, tmp.buf, sizeof(tmp.buf));
			r = len < 0 ? -1 : mnl_cb_run(tmp.buf, (size_t)len, seq, portid, NULL, NULL);
		} while (r > MNL_CB_STOP);
		if (r < 0)
			ret = errno == EOPNOTSUPP || errno == EPROTONOSUPPORT ? -EPROTONOSUPPORT : -errno;
	}
	mnl_socket_close(nl);
	return ret;
}

struct nfqct_offload *nfqct_offload_create(struct nfqct_ct *ct, unsigned int nworkers,
					   struct nfqct_settings *const *settings,
					   const char *stat_dir, char *err, size_t errlen)
{
	struct nfqct_offload *off = calloc(1, sizeof(*off));

	if (!off) {
		snprintf(err, errlen, "offload: out of memory");
		return NULL;
	}
	off->ct = ct;
	off->settings = settings;
	off->nworkers = nworkers;
	off->seq = (uint32_t)time(NULL);
	off->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5000, 5);
	pthread_mutex_init(&off->lock, NULL);
	pthread_cond_init(&off->cond, NULL);
	off->kick_fd = -1;
	off->rings = aligned_alloc(64, sizeof(*off->rings) * (nworkers ? nworkers : 1));
	off->stat_dir = stat_dir ? strdup(stat_dir) : NULL;
	if (!off->rings || (stat_dir && !off->stat_dir)) {
		snprintf(err, errlen, "offload: out of memory");
		goto err_free;
	}
	memset(off->rings, 0, sizeof(*off->rings) * (nworkers ? nworkers : 1));
	off->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (off->kick_fd < 0) {
		snprintf(err, errlen, "offload: eventfd: %s", strerror(errno));
		goto err_free;
	}
	/* Bound at the start, after the workers' queue sockets: the first
	 * netlink socket a process binds gets its pid as port id, and the
	 * queue's (peer_portid in /proc/net/netfilter/nfnetlink_queue) should
	 * name the daemon. */
	off->nl = nl_open(NULL);
	if (!off->nl) {
		snprintf(err, errlen, "offload: netlink socket: %s", strerror(errno));
		goto err_close;
	}
	return off;

err_close:
	close(off->kick_fd);
err_free:
	free(off->stat_dir);
	free(off->rings);
	free(off);
	return NULL;
}

int nfqct_offload_start(struct nfqct_offload *off)
{
	int r;

	if (!off->portid && (r = nl_bind(off->nl, &off->portid)) < 0)
		return r;
	r = pthread_create(&off->thread, NULL, offload_main, off);
	if (r)
		return -r;
	off->started = true;
	return 0;
}

bool nfqct_offload_request(struct nfqct_offload *off, unsigned int worker,
			   const struct nfqct_conn *conn, bool add)
{
	struct offload_ring *rg = &off->rings[worker];
	uint32_t head = rg->head;
	uint16_t zone;

	if (head - __atomic_load_n(&rg->tail, __ATOMIC_ACQUIRE) >= NFQCT_OFFLOAD_RING) {
		__atomic_add_fetch(&off->failures, 1, __ATOMIC_RELAXED);
		return false;
	}
	rg->req[head & (NFQCT_OFFLOAD_RING - 1)] = (struct offload_req){
		.t = *nfqct_ct_tuple(conn, &zone), .add = add };
	__atomic_store_n(&rg->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

void nfqct_offload_kick(struct nfqct_offload *off)
{
	uint64_t one = 1;

	/* a full counter (never, in practice) already wakes the thread */
	if (write(off->kick_fd, &one, sizeof(one)) != sizeof(one))
		return;
}

/* Ask the thread for a round (*@req incremented) and wait for it. */
static void ask_and_wait(struct nfqct_offload *off, uint64_t *req, const uint64_t *done)
{
	struct timespec until;
	uint64_t want;

	if (!off->started)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += OFFLOAD_WAIT_MS / 1000;
	rcu_thread_offline();	/* the caller is a registered reader: no grace period waits on us */
	pthread_mutex_lock(&off->lock);
	want = ++*req;
	nfqct_offload_kick(off);
	while (*done < want && !off->stop)
		if (pthread_cond_timedwait(&off->cond, &off->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&off->lock);
	rcu_thread_online();
}

void nfqct_offload_sync(struct nfqct_offload *off)
{
	if (off)
		ask_and_wait(off, &off->sync_req, &off->sync_done);
}

void nfqct_offload_flush(struct nfqct_offload *off)
{
	if (off)
		ask_and_wait(off, &off->flush_req, &off->flush_done);
}

void nfqct_offload_stats_read(const struct nfqct_offload *off, struct nfqct_offload_stats *out)
{
	out->offloaded = __atomic_load_n(&off->offloaded, __ATOMIC_RELAXED);
	out->adds = __atomic_load_n(&off->adds, __ATOMIC_RELAXED);
	out->removes = __atomic_load_n(&off->removes, __ATOMIC_RELAXED);
	out->failures = __atomic_load_n(&off->failures, __ATOMIC_RELAXED);
	out->packets = __atomic_load_n(&off->packets, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&off->bytes, __ATOMIC_RELAXED);
}

void nfqct_offload_stop(struct nfqct_offload *off)
{
	if (!off || !off->started)
		return;
	pthread_mutex_lock(&off->lock);
	off->stop = true;
	pthread_mutex_unlock(&off->lock);
	nfqct_offload_kick(off);
	pthread_join(off->thread, NULL);
	off->started = false;
}

void nfqct_offload_destroy(struct nfqct_offload *off)
{
	if (!off)
		return;
	nfqct_offload_stop(off);
	mnl_socket_close(off->nl);
	close(off->kick_fd);
	pthread_cond_destroy(&off->cond);
	pthread_mutex_destroy(&off->lock);
	free(off->stat_dir);
	free(off->rings);
	free(off);
}
