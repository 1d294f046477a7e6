/*
 * sync.c - the replication thread (sync.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "nfqct/extcache.h"
#include "nfqct/ftfw.h"
#include "nfqct/log.h"
#include "nfqct/proto_tcp.h"
#include "nfqct/sync.h"

#define SY_QUEUE	65536u		/* events between the events thread and us, a power of two */
#define SY_TICK_MS	10
#define SY_RECV_BURST	256		/* datagrams read per round */
#define SY_REPAIR_MS	5000		/* at most one repairing bulk send this often */

struct nfqct_sync {
	char dir[PATH_MAX];
	struct nfqct_ct *ct;
	unsigned int mode, transport;
	uint64_t default_ms, refresh_ms;
	int fd, wake_fd;
	struct sockaddr_storage peer, local;
	socklen_t peerlen;
	bool have_local;
	char peer_text[64];
	pthread_t th;
	bool stop;

	/* the queue: the events thread produces, we consume */
	_Alignas(64) uint64_t qhead;
	_Alignas(64) uint64_t qtail;
	uint64_t qdropped;		/* atomic: queue full (events thread) */
	uint64_t ring_lost;		/* atomic: rings full (events thread) */
	struct nfqct_event *q;

	struct nfqct_ftfw *fe;		/* our thread's */

	/* shared with the main thread (ha, list --external) */
	pthread_mutex_t lock;
	struct nfqct_extcache *xc;
	struct nfqct_ftfw_stats fst;	/* a copy, refreshed every round */
	int role;			/* atomic: enum nfqct_sync_role */
	int want_bulk, want_resync;	/* atomic requests to our thread */
	uint64_t commits, committed;
	uint64_t ext_refused;		/* flows the cache could not take (full) */

	/* our thread's */
	uint64_t foreign, skipped, lost_seen, last_repair_ms;
	uint8_t rx[65536];
};

/* ---- the queue (events thread side) ---- */

static void sy_sink(void *arg, const struct nfqct_event *e)
{
	struct nfqct_sync *sy = arg;
	uint64_t h = sy->qhead, t = __atomic_load_n(&sy->qtail, __ATOMIC_ACQUIRE);

	if (h - t >= SY_QUEUE) {
		/* we are behind: the events thread never waits for us */
		__atomic_add_fetch(&sy->qdropped, 1, __ATOMIC_RELAXED);
		return;
	}
	sy->q[h & (SY_QUEUE - 1)] = *e;
	__atomic_store_n(&sy->qhead, h + 1, __ATOMIC_RELEASE);
}

static void sy_lost(void *arg, uint64_t n)
{
	struct nfqct_sync *sy = arg;

	__atomic_add_fetch(&sy->ring_lost, n, __ATOMIC_RELAXED);
}

/* ---- flows from the table ---- */

/* A message for the snapshot @ci at @now (false: SCTP, whose tags a snapshot lacks). */
static bool flow_from_info(const struct nfqct_ct_info *ci, uint64_t now, struct nfqct_sync_flow *f)
{
	uint64_t left = ci->expires_ms > now ? ci->expires_ms - now : 1000;

	if (ci->orig.proto == IPPROTO_SCTP)
		return false;
	memset(f, 0, sizeof(*f));
	f->tuple = ci->orig;
	f->have = NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT | NFQCT_SYNC_HAVE_MARK |
		  NFQCT_SYNC_HAVE_ZONE;
	f->status = NFQCT_IPS_CONFIRMED | (ci->seen_reply ? NFQCT_IPS_SEEN_REPLY : 0) |
		    (ci->assured ? NFQCT_IPS_ASSURED : 0);
	f->timeout_s = (uint32_t)((left + 999) / 1000);
	f->mark = ci->mark;
	f->zone = ci->zone;
	if (ci->orig.proto == IPPROTO_TCP) {
		f->tcp_state = ci->tcp_state;
		f->have |= NFQCT_SYNC_HAVE_TCP;
	}
	if (ci->acct) {
		memcpy(f->packets, ci->packets, sizeof(f->packets));
		memcpy(f->bytes, ci->bytes, sizeof(f->bytes));
		f->have |= NFQCT_SYNC_HAVE_COUNTERS;
	}
	return true;
}

/* ---- the engine's callbacks (our thread) ---- */

static int sy_xmit(void *arg, const uint8_t *buf, size_t len)
{
	struct nfqct_sync *sy = arg;

	if (sendto(sy->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&sy->peer, sy->peerlen) < 0)
		return -errno;
	return 0;
}

static void sy_apply(void *arg, uint8_t type, const struct nfqct_sync_flow *f)
{
	struct nfqct_sync *sy = arg;
	int r;

	pthread_mutex_lock(&sy->lock);
	r = nfqct_extcache_apply(sy->xc, type, f, nfqct_now_ms());
	if (r == -ENOSPC || r == -ENOMEM)
		sy->ext_refused++;
	pthread_mutex_unlock(&sy->lock);
}

static void sy_resync(void *arg)
{
	struct nfqct_sync *sy = arg;

	__atomic_store_n(&sy->want_bulk, 1, __ATOMIC_RELAXED);
}

/* A flow sent again goes as the table holds it now (RCU online: our thread's rounds). */
static bool sy_current(void *arg, struct nfqct_sync_flow *f, uint8_t *type)
{
	struct nfqct_sync *sy = arg;
	uint64_t now = nfqct_now_ms();
	struct nfqct_conn *conn;
	struct nfqct_ct_info ci;
	bool reply;

	conn = nfqct_ct_lookup(sy->ct, &f->tuple, (f->have & NFQCT_SYNC_HAVE_ZONE) ? f->zone : 0, now,
			       &reply);
	if (!conn) {
		*type = NFQCT_SYNC_T_DESTROY;
		return true;
	}
	nfqct_ct_info(conn, &ci);
	if (ci.dying) {
		*type = NFQCT_SYNC_T_DESTROY;
		return true;
	}
	if (flow_from_info(&ci, now, f))
		*type = NFQCT_SYNC_T_UPDATE;
	return true;
}

static const struct nfqct_ftfw_ops sy_ops = {
	.xmit = sy_xmit, .apply = sy_apply, .resync = sy_resync, .current = sy_current,
};

/* ---- our thread ---- */

struct bulk {
	struct nfqct_sync_flow *f;
	size_t n, cap;
};

static int bulk_one(void *arg, const struct nfqct_ct_entry *e)
{
	struct bulk *b = arg;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 4096;
		struct nfqct_sync_flow *f = realloc(b->f, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		b->f = f;
		b->cap = cap;
	}
	nfqct_sync_flow_from_entry(e, &b->f[b->n++]);
	return 0;
}

/* The whole table to the peer: copied first, so that the walk holds the read side briefly. */
static void bulk_send(struct nfqct_sync *sy, uint64_t now)
{
	struct bulk b = { 0 };

	if (nfqct_ct_export(sy->ct, now, bulk_one, &b) < 0)
		log_warnx("sync: bulk send: out of memory, %zu flows sent", b.n);
	for (size_t i = 0; i < b.n; i++)
		(void)nfqct_ftfw_send(sy->fe, NFQCT_SYNC_T_NEW, &b.f[i], now);
	nfqct_ftfw_flush(sy->fe, now);
	free(b.f);
}

static void drain(struct nfqct_sync *sy, uint64_t now, bool sending)
{
	uint64_t h = __atomic_load_n(&sy->qhead, __ATOMIC_ACQUIRE), t = sy->qtail;

	for (; t != h; t++) {
		const struct nfqct_event *e = &sy->q[t & (SY_QUEUE - 1)];
		struct nfqct_ct_info ci;
		struct nfqct_sync_flow f;
		uint8_t type = e->type == NFQCT_EV_NEW ? NFQCT_SYNC_T_NEW :
			       e->type == NFQCT_EV_UPDATE ? NFQCT_SYNC_T_UPDATE : NFQCT_SYNC_T_DESTROY;

		if (!sending)
			continue;
		nfqct_event_info(e, &ci);
		if (!flow_from_info(&ci, e->now_ms, &f)) {
			sy->skipped++;	/* SCTP: the bulk sends carry it */
			continue;
		}
		(void)nfqct_ftfw_send(sy->fe, type, &f, now);
	}
	__atomic_store_n(&sy->qtail, t, __ATOMIC_RELEASE);
}

/* Is @from the peer (unicast) or anyone on the group but us (multicast)? */
static bool from_peer(const struct nfqct_sync *sy, const struct sockaddr_storage *from)
{
	const struct sockaddr_storage *want = sy->transport == NFQCT_SYNC_UDP ? &sy->peer : &sy->local;
	bool same;

	if (from->ss_family != sy->peer.ss_family)
		return false;
	if (sy->transport != NFQCT_SYNC_UDP && !sy->have_local)
		return true;
	if (from->ss_family == AF_INET)
		same = ((const struct sockaddr_in *)from)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)want)->sin_addr.s_addr;
	else
		same = !memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
			       &((const struct sockaddr_in6 *)want)->sin6_addr, 16);
	return sy->transport == NFQCT_SYNC_UDP ? same : !same;
}

static void receive(struct nfqct_sync *sy, uint64_t now)
{
	for (int i = 0; i < SY_RECV_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(sy->fd, sy->rx, sizeof(sy->rx), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fl);

		if (n < 0)
			break;
		if (!from_peer(sy, &from)) {
			sy->foreign++;
			continue;
		}
		nfqct_ftfw_input(sy->fe, sy->rx, (size_t)n, now);
	}
}

static void write_stat(struct nfqct_sync *sy)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	const struct nfqct_ftfw_stats *s = &sy->fst;
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/stat/nfqct_sync", sy->dir);
	snprintf(tmp, sizeof(tmp), "%s/net/stat/.nfqct_sync.tmp", sy->dir);
	f = fopen(tmp, "w");
	if (!f)
		return;
	pthread_mutex_lock(&sy->lock);
	fprintf(f, NFQCT_SYNC_HDR
		"%08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x "
		"%08x %08x %08x %08x\n",
		(uint32_t)s->msg_sent, (uint32_t)s->msg_recv, (uint32_t)s->flow_sent,
		(uint32_t)s->flow_recv, (uint32_t)s->resent, (uint32_t)s->lost, (uint32_t)s->ack_sent,
		(uint32_t)s->ack_recv, (uint32_t)s->nack_sent, (uint32_t)s->nack_recv,
		(uint32_t)s->resync_sent, (uint32_t)s->resync_recv, nfqct_extcache_count(sy->xc),
		(uint32_t)(__atomic_load_n(&sy->qdropped, __ATOMIC_RELAXED) +
			   __atomic_load_n(&sy->ring_lost, __ATOMIC_RELAXED)),
		(uint32_t)(s->malformed + s->bad), (uint32_t)sy->foreign, s->rs_len,
		(uint32_t)s->rs_overflow, (uint32_t)sy->commits, (uint32_t)sy->committed);
	pthread_mutex_unlock(&sy->lock);
	if (fchmod(fileno(f), 0444) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

static void *sync_main(void *arg)
{
	struct nfqct_sync *sy = arg;
	uint64_t next_stat = 0, next_refresh = nfqct_now_ms() + sy->refresh_ms;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	rcu_register_thread();
	for (;;) {
		bool stopping = __atomic_load_n(&sy->stop, __ATOMIC_ACQUIRE);
		uint64_t now = nfqct_now_ms();
		int role = __atomic_load_n(&sy->role, __ATOMIC_RELAXED);
		bool sending = role != NFQCT_SYNC_FAULT;
		uint64_t lost = __atomic_load_n(&sy->qdropped, __ATOMIC_RELAXED) +
				__atomic_load_n(&sy->ring_lost, __ATOMIC_RELAXED);
		struct pollfd pfd[2] = {
			{ .fd = sy->fd, .events = POLLIN },
			{ .fd = sy->wake_fd, .events = POLLIN },
		};
		uint64_t one;

		/* online while we touch the table (lookups, exports) */
		drain(sy, now, sending);
		if (lost != sy->lost_seen && now - sy->last_repair_ms >= SY_REPAIR_MS) {
			/* events we never saw: the peer's copy is stale, send it all again */
			sy->lost_seen = lost;
			sy->last_repair_ms = now;
			__atomic_store_n(&sy->want_bulk, 1, __ATOMIC_RELAXED);
		}
		if (__atomic_exchange_n(&sy->want_resync, 0, __ATOMIC_RELAXED))
			(void)nfqct_ftfw_request_resync(sy->fe, now);
		if (sy->mode == NFQCT_SYNC_MODE_ALARM && now >= next_refresh) {
			__atomic_store_n(&sy->want_bulk, 1, __ATOMIC_RELAXED);
			next_refresh = now + sy->refresh_ms;
		}
		if (__atomic_exchange_n(&sy->want_bulk, 0, __ATOMIC_RELAXED) && sending)
			bulk_send(sy, now);
		receive(sy, now);
		nfqct_ftfw_flush(sy->fe, now);
		nfqct_ftfw_tick(sy->fe, now);
		pthread_mutex_lock(&sy->lock);
		nfqct_ftfw_stats(sy->fe, &sy->fst);
		pthread_mutex_unlock(&sy->lock);
		rcu_quiescent_state();
		if (now >= next_stat || stopping) {
			write_stat(sy);
			next_stat = now + 1000;
		}
		if (stopping)
			break;
		rcu_thread_offline();
		if (poll(pfd, 2, SY_TICK_MS) > 0 && (pfd[1].revents & POLLIN))
			(void)!read(sy->wake_fd, &one, sizeof(one));
		rcu_thread_online();
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- start, stop ---- */

static void to_sockaddr(const struct nfqct_hostport *hp, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (hp->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(hp->port);
		memcpy(&a->sin_addr, hp->addr, 4);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(hp->port);
		memcpy(&a->sin6_addr, hp->addr, 16);
		*len = sizeof(*a);
	}
}

int nfqct_sync_check(const struct nfqct_settings *s, char *err, size_t errlen)
{
	const struct nfqct_hostport *peer = &s->sync_peer, *local = &s->sync_local;

	if (s->sync_mode == NFQCT_SYNC_MODE_OFF)
		return 0;
	if (!peer->family) {
		snprintf(err, errlen, "sync: nfqct.sync_peer is not set");
		return -EINVAL;
	}
	if (local->family && local->family != peer->family) {
		snprintf(err, errlen, "sync: nfqct.sync_local and nfqct.sync_peer are of different families");
		return -EINVAL;
	}
	if (s->sync_transport == NFQCT_SYNC_UDP) {
		if (!local->family) {
			snprintf(err, errlen, "sync: udp needs nfqct.sync_local (ADDR:PORT to bind)");
			return -EINVAL;
		}
		return 0;
	}
	if (peer->family == AF_INET ? (peer->addr[0] & 0xf0) != 0xe0 : peer->addr[0] != 0xff) {
		snprintf(err, errlen, "sync: multicast: nfqct.sync_peer is not a multicast group");
		return -EINVAL;
	}
	if (peer->family == AF_INET6 && !s->sync_interface[0]) {
		snprintf(err, errlen, "sync: IPv6 multicast needs nfqct.sync_interface");
		return -EINVAL;
	}
	return 0;
}

/* The socket of @s's transport (settings checked); -errno with @err. */
static int open_socket(struct nfqct_sync *sy, const struct nfqct_settings *s, char *err, size_t errlen)
{
	const struct nfqct_hostport *peer = &s->sync_peer, *local = &s->sync_local;
	unsigned int ifindex = 0;
	int fd, one = 1, zero = 0, rcvbuf = 4 << 20;
	struct sockaddr_storage bind_to;
	socklen_t blen;
	int r = nfqct_sync_check(s, err, errlen);

	if (r < 0)
		return r;
	if (s->sync_interface[0]) {
		ifindex = if_nametoindex(s->sync_interface);
		if (!ifindex) {
			snprintf(err, errlen, "sync: nfqct.sync_interface: no interface '%s'",
				 s->sync_interface);
			return -ENODEV;
		}
	}
	to_sockaddr(peer, &sy->peer, &sy->peerlen);
	if (local->family) {
		to_sockaddr(local, &sy->local, &blen);
		sy->have_local = true;
	}
	if (s->sync_transport == NFQCT_SYNC_UDP) {
		bind_to = sy->local;
	} else {
		bool v4 = peer->family == AF_INET;

		/* the group's port on every address: the group arrives there */
		memset(&bind_to, 0, sizeof(bind_to));
		bind_to.ss_family = peer->family;
		if (v4)
			((struct sockaddr_in *)&bind_to)->sin_port = htons(peer->port);
		else
			((struct sockaddr_in6 *)&bind_to)->sin6_port = htons(peer->port);
	}
	blen = peer->family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

	fd = socket(peer->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err_errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (s->sync_transport == NFQCT_SYNC_MULTICAST &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto err_close;
	if (ifindex && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->sync_interface,
				  (socklen_t)strlen(s->sync_interface)) < 0 && errno != EPERM)
		goto err_close;
	if (bind(fd, (struct sockaddr *)&bind_to, blen) < 0)
		goto err_close;
	if (s->sync_transport == NFQCT_SYNC_MULTICAST) {
		if (peer->family == AF_INET) {
			struct ip_mreqn mr = { .imr_ifindex = (int)ifindex };
			unsigned char ttl = 1, loop = 0;

			memcpy(&mr.imr_multiaddr, peer->addr, 4);
			if (local->family)
				memcpy(&mr.imr_address, local->addr, 4);
			if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0 ||
			    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0 ||
			    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
			    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0)
				goto err_close;
		} else {
			struct ipv6_mreq mr = { .ipv6mr_interface = ifindex };
			int hops = 1;

			memcpy(&mr.ipv6mr_multiaddr, peer->addr, 16);
			if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0 ||
			    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0 ||
			    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
			    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0)
				goto err_close;
		}
	}
	sy->fd = fd;
	return 0;

err_close:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
err_errno:
	{
		int e = errno;

		snprintf(err, errlen, "sync: cannot open the %s socket: %s",
			 s->sync_transport == NFQCT_SYNC_UDP ? "udp" : "multicast", strerror(e));
		return -e;
	}
}

static void sy_free(struct nfqct_sync *sy)
{
	nfqct_ftfw_destroy(sy->fe);
	nfqct_extcache_destroy(sy->xc);
	if (sy->fd >= 0)
		close(sy->fd);
	if (sy->wake_fd >= 0)
		close(sy->wake_fd);
	pthread_mutex_destroy(&sy->lock);
	free(sy->q);
	free(sy);
}

static const char *const mode_names[] = { "off", "ftfw", "notrack", "alarm" };

int nfqct_sync_start(const char *dir, const struct nfqct_settings *s, struct nfqct_ct *ct,
		     struct nfqct_events *ev, struct nfqct_sync **syp, char *err, size_t errlen)
{
	struct nfqct_sync *sy = aligned_alloc(64, sizeof(*sy));
	struct nfqct_ftfw_cfg cfg;
	int r;

	if (!sy) {
		snprintf(err, errlen, "sync: out of memory");
		return -ENOMEM;
	}
	memset(sy, 0, offsetof(struct nfqct_sync, rx));
	sy->fd = sy->wake_fd = -1;
	pthread_mutex_init(&sy->lock, NULL);
	snprintf(sy->dir, sizeof(sy->dir), "%s", dir);
	sy->ct = ct;
	sy->mode = s->sync_mode;
	sy->transport = s->sync_transport;
	sy->default_ms = (uint64_t)s->sync_commit_timeout_s * 1000;
	sy->refresh_ms = (uint64_t)s->sync_refresh_s * 1000;
	sy->role = NFQCT_SYNC_BACKUP;
	sy->want_resync = sy->mode != NFQCT_SYNC_MODE_ALARM;
	nfqct_hostport_format(&s->sync_peer, sy->peer_text, sizeof(sy->peer_text));
	r = open_socket(sy, s, err, errlen);
	if (r < 0)
		goto err_free;
	sy->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sy->q = calloc(SY_QUEUE, sizeof(*sy->q));
	r = -ENOMEM;
	if (sy->wake_fd < 0 || !sy->q || nfqct_extcache_create(s->ct_max, &sy->xc) < 0) {
		snprintf(err, errlen, "sync: out of memory");
		goto err_free;
	}
	cfg = (struct nfqct_ftfw_cfg){
		.mode = s->sync_mode,
		.enc = s->sync_peer_kind == NFQCT_SYNC_PEER_NFQCT ? NFQCT_SYNC_ENC_NFQCT : 0,
		.window = s->sync_window,
		.resend_max = s->sync_resend_queue,
		.alive_ms = s->sync_alive_ms,
		.mtu = s->sync_mtu,
		.first_seq = (uint32_t)nfqct_wall_ms(),
	};
	r = nfqct_ftfw_create(&cfg, &sy_ops, sy, &sy->fe);
	if (r < 0) {
		snprintf(err, errlen, "sync: %s", strerror(-r));
		goto err_free;
	}
	r = -pthread_create(&sy->th, NULL, sync_main, sy);
	if (r < 0) {
		snprintf(err, errlen, "sync: cannot start the thread: %s", strerror(-r));
		goto err_free;
	}
	nfqct_events_set_sync(ev, sy_sink, sy_lost, sy);
	log_info("sync: %s over %s to %s%s", mode_names[sy->mode],
		 sy->transport == NFQCT_SYNC_UDP ? "udp" : "multicast", sy->peer_text,
		 s->sync_peer_kind == NFQCT_SYNC_PEER_NFQCT ? " (a nfqct peer: zones and counters)" : "");
	*syp = sy;
	return 0;

err_free:
	sy_free(sy);
	return r;
}

void nfqct_sync_stop(struct nfqct_sync *sy, struct nfqct_events *ev)
{
	if (!sy)
		return;
	if (ev) {
		nfqct_events_set_sync(ev, NULL, NULL, NULL);
		/* the events thread may be inside sy_sink: let it finish its drain */
		poll(NULL, 0, 50);
	}
	__atomic_store_n(&sy->stop, true, __ATOMIC_RELEASE);
	(void)!write(sy->wake_fd, &(uint64_t){ 1 }, sizeof(uint64_t));
	pthread_join(sy->th, NULL);
	sy_free(sy);
}

/* ---- the main thread's commands ---- */

static const char *const role_names[] = { "backup", "primary", "fault" };

static void wake(struct nfqct_sync *sy)
{
	(void)!write(sy->wake_fd, &(uint64_t){ 1 }, sizeof(uint64_t));
}

int nfqct_sync_ha(struct nfqct_sync *sy, const char *word, struct nfqct_ct_stats *st, uint32_t ct_max,
		  FILE *out)
{
	if (!strcmp(word, "primary")) {
		struct nfqct_extcache_commit c;
		uint64_t t0 = nfqct_now_ms();

		pthread_mutex_lock(&sy->lock);
		nfqct_extcache_commit(sy->xc, sy->ct, st, t0, ct_max, sy->default_ms, &c);
		nfqct_extcache_flush(sy->xc);
		sy->commits++;
		sy->committed += c.committed;
		pthread_mutex_unlock(&sy->lock);
		__atomic_store_n(&sy->role, NFQCT_SYNC_PRIMARY, __ATOMIC_RELAXED);
		__atomic_store_n(&sy->want_bulk, 1, __ATOMIC_RELAXED);
		wake(sy);
		fprintf(out, "ha: primary: committed %llu of %llu flows from the external cache in %llu ms "
			"(%llu over the table's limit, %llu invalid, %llu failed); sending the table\n",
			(unsigned long long)c.committed, (unsigned long long)c.flows,
			(unsigned long long)(nfqct_now_ms() - t0), (unsigned long long)c.full,
			(unsigned long long)c.invalid, (unsigned long long)c.failed);
		log_info("sync: primary: %llu of %llu flows committed from the external cache",
			 (unsigned long long)c.committed, (unsigned long long)c.flows);
		return 0;
	}
	if (!strcmp(word, "backup")) {
		__atomic_store_n(&sy->role, NFQCT_SYNC_BACKUP, __ATOMIC_RELAXED);
		if (sy->mode != NFQCT_SYNC_MODE_ALARM)
			__atomic_store_n(&sy->want_resync, 1, __ATOMIC_RELAXED);
		wake(sy);
		fprintf(out, "ha: backup: keeping the peer's flows in the external cache%s\n",
			sy->mode != NFQCT_SYNC_MODE_ALARM ? "; resync requested" : "");
		log_info("sync: backup");
		return 0;
	}
	if (!strcmp(word, "fault")) {
		__atomic_store_n(&sy->role, NFQCT_SYNC_FAULT, __ATOMIC_RELAXED);
		wake(sy);
		fprintf(out, "ha: fault: sending stopped\n");
		log_info("sync: fault");
		return 0;
	}
	if (!strcmp(word, "status")) {
		struct nfqct_ftfw_stats s;
		uint32_t ext;

		pthread_mutex_lock(&sy->lock);
		s = sy->fst;
		ext = nfqct_extcache_count(sy->xc);
		pthread_mutex_unlock(&sy->lock);
		fprintf(out, "role: %s\nmode: %s\ntransport: %s\npeer: %s\nhello: %s\n"
			"external: %u flows\nsent: %llu messages, %llu flows, %llu resent\n"
			"received: %llu messages, %llu flows, %llu lost, %llu malformed, %llu foreign\n"
			"resend queue: %u (%llu overflowed)\n",
			role_names[__atomic_load_n(&sy->role, __ATOMIC_RELAXED)], mode_names[sy->mode],
			sy->transport == NFQCT_SYNC_UDP ? "udp" : "multicast", sy->peer_text,
			s.hello_done ? "answered" : "waiting", ext, (unsigned long long)s.msg_sent,
			(unsigned long long)s.flow_sent, (unsigned long long)s.resent,
			(unsigned long long)s.msg_recv, (unsigned long long)s.flow_recv,
			(unsigned long long)s.lost, (unsigned long long)(s.malformed + s.bad),
			(unsigned long long)sy->foreign, s.rs_len, (unsigned long long)s.rs_overflow);
		return 0;
	}
	fprintf(out, "ha: unknown role '%s' (expected primary, backup, fault or status)\n", word);
	return -1;
}

int nfqct_sync_list_external(struct nfqct_sync *sy, FILE *out)
{
	pthread_mutex_lock(&sy->lock);
	nfqct_extcache_dump(sy->xc, out, nfqct_now_ms(), sy->default_ms);
	pthread_mutex_unlock(&sy->lock);
	return 0;
}
