/*
 * ipfix.c - IPFIX flow export: the queue from the events thread, flow
 * start times, the active-timeout walk, libfixbuf encoding into a buffer
 * of ours, and a transport of ours (non-blocking, retried, counted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fixbuf/public.h>
#include <urcu-qsbr.h>

#include "nfqct/ipfix.h"
#include "nfqct/log.h"
#include "nfqct/proto_tcp.h"

#define IP_QUEUE	32768u		/* events queued for us, a power of two */
#define IP_TICK_MS	100
#define IP_RETRY_MS	1000		/* TCP: reconnect no faster */
#define IP_MSG_UDP	1400		/* below the path MTU: no fragments */
#define IP_MSG_TCP	8192
#define IP_STARTS	4096u		/* start-time buckets */

struct ip_qent {
	struct nfqct_event e;
	int64_t off_us;			/* wall clock = now_ms * 1000 + off_us */
};

/* A live flow: when it started (wall ms), what was exported of it. */
struct ip_flow {
	struct ip_flow *next;
	uint32_t id;
	struct nfqct_tuple orig;
	uint16_t zone;
	uint64_t start_ms, last_ms;	/* last_ms: its last record, or its start */
	uint64_t sent_pk[2], sent_by[2];
	uint32_t walk;			/* the last walk that saw it */
};

struct nfqct_ipfix {
	char dir[PATH_MAX];
	struct nfqct_ct *ct;
	struct nfqct_hostport coll;
	unsigned int transport;
	uint64_t active_ms, refresh_ms;
	pthread_t th;
	bool stop;

	/* the queue: the events thread produces, we consume */
	_Alignas(64) uint64_t qhead;
	_Alignas(64) uint64_t qtail;
	uint64_t qdropped;		/* atomic: the events thread's */
	struct ip_qent *q;

	struct ip_flow *flows[IP_STARTS];
	uint32_t walk;

	/* libfixbuf */
	fbInfoModel_t *model;
	fbSession_t *session;
	fBuf_t *fbuf;
	fbExporter_t *exporter;		/* into msg[] */
	uint16_t tid4, tid6;
	uint8_t msg[IP_MSG_TCP];
	bool pending;			/* records appended, not yet emitted */

	/* transport */
	int fd;
	bool connected;
	uint64_t next_connect_ms, next_tmpl_ms, next_walk_ms;

	/* stat */
	uint64_t records, flows_n, dropped, send_errors, connects, templates;
	uint64_t dropped_seen;
};

/* ---- pure ---- */

void nfqct_ipfix_rec_fill(struct nfqct_ipfix_rec *r, const struct nfqct_tuple *orig, uint16_t zone,
			  uint64_t start_ms, uint64_t end_ms, const uint64_t packets[2],
			  const uint64_t bytes[2], unsigned int reason)
{
	bool icmp = orig->proto == IPPROTO_ICMP || orig->proto == IPPROTO_ICMPV6;

	memset(r, 0, sizeof(*r));
	r->start_ms = start_ms;
	r->end_ms = end_ms < start_ms ? start_ms : end_ms;
	r->packets = packets[0];
	r->octets = bytes[0];
	r->rev_packets = packets[1];
	r->rev_octets = bytes[1];
	r->family = orig->family;
	if (orig->family == AF_INET6) {
		memcpy(r->src, &orig->src, 16);
		memcpy(r->dst, &orig->dst, 16);
	} else {
		/* libfixbuf takes an IPv4 address as a host-order uint32 */
		uint32_t a;

		memcpy(&a, &orig->src, 4);
		a = ntohl(a);
		memcpy(r->src, &a, 4);
		memcpy(&a, &orig->dst, 4);
		a = ntohl(a);
		memcpy(r->dst, &a, 4);
	}
	r->zone = zone;
	r->proto = orig->proto;
	if (icmp) {
		/* as nfdump and most exporters: type and code in the destination port */
		r->dport = (uint16_t)(orig->dp.icmp.type << 8 | orig->dp.icmp.code);
	} else if (orig->proto != IPPROTO_GRE) {
		r->sport = ntohs(orig->sp.port);
		r->dport = ntohs(orig->dp.port);
	}
	r->end_reason = (uint8_t)reason;
}

unsigned int nfqct_ipfix_end_reason(const struct nfqct_event *e)
{
	if (e->orig.proto == IPPROTO_TCP &&
	    (e->tcp_state == NFQCT_TCP_TIME_WAIT || e->tcp_state == NFQCT_TCP_CLOSE))
		return NFQCT_IPFIX_END_DETECTED;
	return e->expires_ms <= e->now_ms ? NFQCT_IPFIX_END_IDLE : NFQCT_IPFIX_END_FORCED;
}

/* ---- the queue (events thread side) ---- */

static void ip_sink(void *arg, const struct nfqct_event *e, int64_t off_us)
{
	struct nfqct_ipfix *ip = arg;
	uint64_t h = ip->qhead, t = __atomic_load_n(&ip->qtail, __ATOMIC_ACQUIRE);

	if (h - t >= IP_QUEUE) {
		/* we are behind: the events thread never waits for us */
		__atomic_add_fetch(&ip->qdropped, 1, __ATOMIC_RELAXED);
		return;
	}
	ip->q[h & (IP_QUEUE - 1)].e = *e;
	ip->q[h & (IP_QUEUE - 1)].off_us = off_us;
	__atomic_store_n(&ip->qhead, h + 1, __ATOMIC_RELEASE);
}

/* ---- flows ---- */

static struct ip_flow **flow_slot(struct nfqct_ipfix *ip, uint32_t id, const struct nfqct_tuple *t,
				  uint16_t zone)
{
	struct ip_flow **pp = &ip->flows[id % IP_STARTS];

	/* the id is a keyed hash: the tuple tells two entries apart */
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id && (*pp)->zone == zone && !memcmp(&(*pp)->orig, t, sizeof(*t)))
			break;
	return pp;
}

static struct ip_flow *flow_add(struct nfqct_ipfix *ip, uint32_t id, const struct nfqct_tuple *t,
				uint16_t zone, uint64_t start_ms)
{
	struct ip_flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->id = id;
	f->orig = *t;
	f->zone = zone;
	f->start_ms = f->last_ms = start_ms;
	f->walk = ip->walk;
	f->next = ip->flows[id % IP_STARTS];
	ip->flows[id % IP_STARTS] = f;
	return f;
}

/* ---- transport ---- */

static void conn_close(struct nfqct_ipfix *ip)
{
	if (ip->fd >= 0)
		close(ip->fd);
	ip->fd = -1;
	ip->connected = false;
}

static int conn_open(struct nfqct_ipfix *ip, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (ip->coll.family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ip->coll.port);
		memcpy(&s6->sin6_addr, ip->coll.addr, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(ip->coll.port);
		memcpy(&s4->sin_addr, ip->coll.addr, 4);
		sl = sizeof(*s4);
	}
	ip->next_connect_ms = now + IP_RETRY_MS;
	fd = socket(ip->coll.family, (ip->transport == NFQCT_IPFIX_TCP ? SOCK_STREAM : SOCK_DGRAM) |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		int r = -errno;

		close(fd);
		return r;
	}
	ip->fd = fd;
	if (ip->transport == NFQCT_IPFIX_TCP) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int so = 0;
		socklen_t len = sizeof(so);

		/* a short wait here costs only the export, never a packet */
		if (poll(&pfd, 1, 200) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) < 0 || so) {
			conn_close(ip);
			return -ECONNREFUSED;
		}
	}
	ip->connected = true;
	ip->connects++;
	ip->next_tmpl_ms = 0;		/* templates first on a new connection */
	return 0;
}

/* Send one message whole: TCP must not cut a message (the stream would be lost). */
static int conn_send(struct nfqct_ipfix *ip, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(ip->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && ip->transport == NFQCT_IPFIX_TCP && off) {
			struct pollfd pfd = { .fd = ip->fd, .events = POLLOUT };

			if (poll(&pfd, 1, 200) == 1)
				continue;
		}
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* ---- encoding ---- */

static fbInfoElementSpec_t spec4[] = {
	{ "flowStartMilliseconds", 8, 0 },
	{ "flowEndMilliseconds", 8, 0 },
	{ "octetDeltaCount", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "reverseOctetDeltaCount", 8, 0 },
	{ "reversePacketDeltaCount", 8, 0 },
	{ "sourceIPv4Address", 4, 0 },
	{ "paddingOctets", 12, 0 },
	{ "destinationIPv4Address", 4, 0 },
	{ "paddingOctets", 12, 0 },
	{ "ingressVRFID", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "flowEndReason", 1, 0 },
	{ "paddingOctets", 6, 0 },
	FB_IESPEC_NULL
};

static fbInfoElementSpec_t spec6[] = {
	{ "flowStartMilliseconds", 8, 0 },
	{ "flowEndMilliseconds", 8, 0 },
	{ "octetDeltaCount", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "reverseOctetDeltaCount", 8, 0 },
	{ "reversePacketDeltaCount", 8, 0 },
	{ "sourceIPv6Address", 16, 0 },
	{ "destinationIPv6Address", 16, 0 },
	{ "ingressVRFID", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "flowEndReason", 1, 0 },
	{ "paddingOctets", 6, 0 },
	FB_IESPEC_NULL
};

_Static_assert(sizeof(struct nfqct_ipfix_rec) == 96, "record layout is the internal template's");

/* The external template: the internal one without the padding. */
static uint16_t add_template(struct nfqct_ipfix *ip, fbInfoElementSpec_t *spec, GError **gerr)
{
	fbTemplate_t *in = fbTemplateAlloc(ip->model), *ex = fbTemplateAlloc(ip->model);
	uint16_t tid;

	if (!fbTemplateAppendSpecArray(in, spec, 0, gerr))
		goto err;
	for (fbInfoElementSpec_t *p = spec; p->name; p++)
		if (strcmp(p->name, "paddingOctets") && !fbTemplateAppendSpec(ex, p, 0, gerr))
			goto err;
	tid = fbSessionAddTemplate(ip->session, TRUE, FB_TID_AUTO, in, gerr);
	if (!tid)
		goto err_ex;
	if (!fbSessionAddTemplate(ip->session, FALSE, tid, ex, gerr))
		return 0;
	return tid;

err:
	fbTemplateFreeUnused(in);
err_ex:
	fbTemplateFreeUnused(ex);
	return 0;
}

static int enc_init(struct nfqct_ipfix *ip)
{
	GError *gerr = NULL;
	uint16_t size = ip->transport == NFQCT_IPFIX_TCP ? IP_MSG_TCP : IP_MSG_UDP;

	ip->model = fbInfoModelAlloc();
	ip->session = fbSessionAlloc(ip->model);
	ip->exporter = fbExporterAllocBuffer(ip->msg, size);
	if (!ip->model || !ip->session || !ip->exporter)
		return -ENOMEM;
	ip->tid4 = add_template(ip, spec4, &gerr);
	if (ip->tid4)
		ip->tid6 = add_template(ip, spec6, &gerr);
	if (!ip->tid4 || !ip->tid6) {
		g_clear_error(&gerr);
		return -EINVAL;
	}
	ip->fbuf = fBufAllocForExport(ip->session, ip->exporter);
	if (!ip->fbuf)
		return -ENOMEM;
	fBufSetAutomaticMode(ip->fbuf, FALSE);
	return 0;
}

/* Emit the message in progress and send it; lost (counted) without a connection. */
static void enc_flush(struct nfqct_ipfix *ip, uint64_t nrec)
{
	GError *gerr = NULL;
	size_t len;

	if (!fBufEmit(ip->fbuf, &gerr)) {
		g_clear_error(&gerr);
		return;
	}
	len = fbExporterGetMsgLen(ip->exporter);
	ip->pending = false;
	if (!len)
		return;
	if (!ip->connected || conn_send(ip, ip->msg, len) < 0) {
		if (ip->connected) {
			ip->send_errors++;
			/* UDP: an ICMP refusal says nothing of the next datagram; TCP starts over */
			if (ip->transport == NFQCT_IPFIX_TCP)
				conn_close(ip);
		}
		ip->dropped += nrec;
		ip->records -= nrec;
	}
}

static uint64_t msg_records;		/* records in the message in progress (our thread) */

static void enc_templates(struct nfqct_ipfix *ip, uint64_t now)
{
	GError *gerr = NULL;

	if (ip->pending)
		enc_flush(ip, msg_records);
	msg_records = 0;
	if (fbSessionExportTemplates(ip->session, &gerr)) {
		ip->templates++;
		enc_flush(ip, 0);
	}
	g_clear_error(&gerr);
	ip->next_tmpl_ms = now + ip->refresh_ms;
}

static void enc_record(struct nfqct_ipfix *ip, struct nfqct_ipfix_rec *r)
{
	uint16_t tid = r->family == AF_INET6 ? ip->tid6 : ip->tid4;
	GError *gerr = NULL;

	for (int tries = 0; tries < 2; tries++) {
		if (fBufSetInternalTemplate(ip->fbuf, tid, &gerr) &&
		    fBufSetExportTemplate(ip->fbuf, tid, &gerr) &&
		    fBufAppend(ip->fbuf, (uint8_t *)r, sizeof(*r), &gerr)) {
			ip->pending = true;
			ip->records++;
			msg_records++;
			return;
		}
		/* the message is full: send it, start another */
		g_clear_error(&gerr);
		enc_flush(ip, msg_records);
		msg_records = 0;
	}
	ip->dropped++;
}

/* ---- the thread ---- */

static void flow_end(struct nfqct_ipfix *ip, const struct ip_qent *q)
{
	const struct nfqct_event *e = &q->e;
	uint64_t end = (uint64_t)((int64_t)e->now_ms * 1000 + q->off_us) / 1000u;
	struct ip_flow **pp = flow_slot(ip, e->id, &e->orig, e->zone), *f = *pp;
	uint64_t pk[2], by[2];
	struct nfqct_ipfix_rec r;

	for (int d = 0; d < 2; d++) {
		pk[d] = e->packets[d] - (f ? f->sent_pk[d] : 0);
		by[d] = e->bytes[d] - (f ? f->sent_by[d] : 0);
	}
	/* no NEW seen (queued behind, or before we started): a flow of unknown start */
	nfqct_ipfix_rec_fill(&r, &e->orig, e->zone, f ? f->last_ms : end, end, pk, by,
			     nfqct_ipfix_end_reason(e));
	if (f) {
		r.start_ms = f->start_ms;
		*pp = f->next;
		free(f);
	}
	enc_record(ip, &r);
	ip->flows_n++;
}

static void drain(struct nfqct_ipfix *ip)
{
	uint64_t h = __atomic_load_n(&ip->qhead, __ATOMIC_ACQUIRE), t = ip->qtail;
	uint64_t d = __atomic_load_n(&ip->qdropped, __ATOMIC_RELAXED);

	for (; t != h; t++) {
		const struct ip_qent *q = &ip->q[t & (IP_QUEUE - 1)];

		if (q->e.type == NFQCT_EV_NEW) {
			uint64_t start = (uint64_t)((int64_t)q->e.now_ms * 1000 + q->off_us) / 1000u;

			if (!*flow_slot(ip, q->e.id, &q->e.orig, q->e.zone))
				(void)flow_add(ip, q->e.id, &q->e.orig, q->e.zone, start);
		} else if (q->e.type == NFQCT_EV_DESTROY) {
			flow_end(ip, q);
		}
		__atomic_store_n(&ip->qtail, t + 1, __ATOMIC_RELEASE);
	}
	ip->dropped += d - ip->dropped_seen;
	ip->dropped_seen = d;
}

struct walk_arg {
	struct nfqct_ipfix *ip;
	uint64_t now_wall;
};

static bool walk_one(struct nfqct_conn *conn, const struct nfqct_ct_info *ci, void *arg)
{
	struct walk_arg *w = arg;
	struct nfqct_ipfix *ip = w->ip;
	uint32_t id = nfqct_ct_id(ip->ct, conn);
	struct ip_flow *f = *flow_slot(ip, id, &ci->orig, ci->zone);
	struct nfqct_ipfix_rec r;
	uint64_t pk[2], by[2];

	if (!f) {
		/* older than our start, or its NEW is still queued: from now on */
		(void)flow_add(ip, id, &ci->orig, ci->zone, w->now_wall);
		return true;
	}
	f->walk = ip->walk;
	if (w->now_wall - f->last_ms < ip->active_ms)
		return true;
	for (int d = 0; d < 2; d++) {
		pk[d] = ci->packets[d] - f->sent_pk[d];
		by[d] = ci->bytes[d] - f->sent_by[d];
		f->sent_pk[d] = ci->packets[d];
		f->sent_by[d] = ci->bytes[d];
	}
	nfqct_ipfix_rec_fill(&r, &ci->orig, ci->zone, f->start_ms, w->now_wall, pk, by,
			     NFQCT_IPFIX_END_ACTIVE);
	f->last_ms = w->now_wall;
	enc_record(ip, &r);
	return true;
}

/* Long flows get their records; flows whose DESTROY we lost (queue full) are forgotten. */
static void walk(struct nfqct_ipfix *ip, uint64_t now)
{
	struct walk_arg w = { ip, nfqct_wall_ms() };

	ip->walk++;
	rcu_thread_online();
	nfqct_ct_walk(ip->ct, now, walk_one, &w);
	rcu_thread_offline();
	for (unsigned int b = 0; b < IP_STARTS; b++)
		for (struct ip_flow **pp = &ip->flows[b]; *pp;) {
			struct ip_flow *f = *pp;

			/* seen by neither this walk nor the last, and not new since */
			if (ip->walk - f->walk > 1 && w.now_wall - f->start_ms > 2 * ip->active_ms) {
				*pp = f->next;
				free(f);
			} else {
				pp = &f->next;
			}
		}
	ip->next_walk_ms = now + (ip->active_ms < 1000 ? ip->active_ms : 1000);
}

static void write_stat(struct nfqct_ipfix *ip)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/stat/nfqct_ipfix", ip->dir);
	snprintf(tmp, sizeof(tmp), "%s/net/stat/.nfqct_ipfix.tmp", ip->dir);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, NFQCT_IPFIX_HDR "%08x %08x %08x %08x %08x %08x\n", (uint32_t)ip->records,
		(uint32_t)ip->flows_n, (uint32_t)ip->dropped, (uint32_t)ip->send_errors,
		(uint32_t)ip->connects, (uint32_t)ip->templates);
	if (fchmod(fileno(f), 0444) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

static void *ipfix_main(void *arg)
{
	struct nfqct_ipfix *ip = arg;
	uint64_t next_stat = 0;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	rcu_register_thread();
	rcu_thread_offline();
	for (;;) {
		bool stopping = __atomic_load_n(&ip->stop, __ATOMIC_ACQUIRE);
		uint64_t now = nfqct_now_ms();

		if (!ip->connected && now >= ip->next_connect_ms)
			(void)conn_open(ip, now);
		if (ip->connected && now >= ip->next_tmpl_ms)
			enc_templates(ip, now);
		drain(ip);
		if (now >= ip->next_walk_ms && !stopping)
			walk(ip, now);
		if (ip->pending) {
			enc_flush(ip, msg_records);
			msg_records = 0;
		}
		if (now >= next_stat || stopping) {
			write_stat(ip);
			next_stat = now + 1000;
		}
		if (stopping)
			break;
		poll(NULL, 0, IP_TICK_MS);
	}
	rcu_thread_online();
	rcu_unregister_thread();
	return NULL;
}

static void ip_free(struct nfqct_ipfix *ip)
{
	if (ip->fbuf)
		fBufFree(ip->fbuf);	/* and its session and exporter */
	else if (ip->session)
		fbSessionFree(ip->session);	/* (a lone exporter cannot be freed: libfixbuf has no call) */
	if (ip->model)
		fbInfoModelFree(ip->model);
	for (unsigned int b = 0; b < IP_STARTS; b++)
		while (ip->flows[b]) {
			struct ip_flow *f = ip->flows[b];

			ip->flows[b] = f->next;
			free(f);
		}
	conn_close(ip);
	free(ip->q);
	free(ip);
}

int nfqct_ipfix_start(const char *dir, const struct nfqct_settings *s, struct nfqct_ct *ct,
		      struct nfqct_events *ev, struct nfqct_ipfix **ipp, char *err, size_t errlen)
{
	struct nfqct_ipfix *ip = aligned_alloc(64, sizeof(*ip));
	int r;

	if (!ip) {
		snprintf(err, errlen, "ipfix: out of memory");
		return -ENOMEM;
	}
	memset(ip, 0, sizeof(*ip));
	ip->fd = -1;
	snprintf(ip->dir, sizeof(ip->dir), "%s", dir);
	ip->ct = ct;
	ip->coll = s->ipfix_collector;
	ip->transport = s->ipfix_transport;
	ip->active_ms = (uint64_t)s->ipfix_active_timeout_s * 1000u;
	ip->refresh_ms = (uint64_t)s->ipfix_template_refresh_s * 1000u;
	ip->next_walk_ms = nfqct_now_ms() + (ip->active_ms < 1000 ? ip->active_ms : 1000);
	ip->q = calloc(IP_QUEUE, sizeof(*ip->q));
	if (!ip->q) {
		r = -ENOMEM;
		snprintf(err, errlen, "ipfix: out of memory");
		goto err_free;
	}
	r = enc_init(ip);
	if (r < 0) {
		snprintf(err, errlen, "ipfix: libfixbuf: cannot build the templates: %s", strerror(-r));
		goto err_free;
	}
	r = -pthread_create(&ip->th, NULL, ipfix_main, ip);
	if (r < 0) {
		snprintf(err, errlen, "ipfix: cannot start the thread: %s", strerror(-r));
		goto err_free;
	}
	nfqct_events_set_sink(ev, ip_sink, ip);
	*ipp = ip;
	return 0;

err_free:
	ip_free(ip);
	return r;
}

void nfqct_ipfix_stop(struct nfqct_ipfix *ip)
{
	if (!ip)
		return;
	__atomic_store_n(&ip->stop, true, __ATOMIC_RELEASE);
	pthread_join(ip->th, NULL);
	ip_free(ip);
}
