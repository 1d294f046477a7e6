/*
 * events.c - per-producer rings, the events thread and its readers, and
 * the client of `nfqct events`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nfqct/ctfilter.h"
#include "nfqct/events.h"
#include "nfqct/log.h"
#include "nfqct/helper.h"

#define EV_RING_SIZE	16384u		/* events per producer ring, a power of two */
#define EV_READER_BUF	(1u << 20)	/* bytes buffered per reader */
#define EV_LINE_MAX	768u		/* room kept for one line */
#define EV_POLL_MS	5
#define EV_NICE		19		/* the events thread's nice: workers first */
#define EV_WAKE_UNSENT	(EV_READER_BUF / 2)	/* wake on POLLOUT only above this backlog */
#define EV_STAT_MS	1000
#define EV_MAX_READERS	64
#define NFQCT_EV_LINE	1024	/* the command line */

struct ev_ring {
	_Alignas(64) uint64_t head;	/* producer: next slot to fill (release) */
	uint64_t dropped;		/* producer: events refused, full ring */
	uint64_t tail_seen;		/* producer: tail when last read, so that a push
					 * reads the consumer's line only when the ring
					 * looks full */
	_Alignas(64) uint64_t tail;	/* consumer: next slot to read (release) */
	uint64_t dropped_seen;		/* consumer */
	struct ev_ring *next;		/* the list of every ring, push only */
	struct nfqct_event slot[EV_RING_SIZE];
};

int nfqct_events_readers;
int nfqct_events_sinks;
static struct ev_ring *ev_rings;		/* atomic push-only list */
static uint64_t ev_alloc_failed;		/* events lost for want of a ring */
static __thread struct ev_ring *my_ring;
static __thread uint64_t my_batch_ms;	/* 0: this thread reads the clock per event */

void nfqct_events_batch(uint64_t now_ms)
{
	my_batch_ms = now_ms;
}

void nfqct_event_info(const struct nfqct_event *e, struct nfqct_ct_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->orig = e->orig;
	nfqct_tuple_invert(&ci->reply, &e->orig);
	ci->zone = e->zone;
	ci->tcp_state = e->tcp_state;
	ci->state_name = e->state_name;
	ci->seen_reply = e->flags & NFQCT_EVF_SEEN_REPLY;
	ci->assured = e->flags & NFQCT_EVF_ASSURED;
	ci->acct = e->flags & NFQCT_EVF_ACCT;
	ci->confirmed = true;
	ci->dying = e->type == NFQCT_EV_DESTROY;
	ci->helper = e->helper;
	ci->mark = e->mark;
	ci->expires_ms = e->expires_ms;
	memcpy(ci->packets, e->packets, sizeof(ci->packets));
	memcpy(ci->bytes, e->bytes, sizeof(ci->bytes));
}

void nfqct_events_emit(unsigned int type, const struct nfqct_ct_info *ci, uint32_t id)
{
	struct ev_ring *r = my_ring;
	struct nfqct_event *e;
	uint64_t h, t;

	if (!r) {
		/* once per thread; the ring outlives the thread (freed at stop) */
		r = aligned_alloc(64, sizeof(*r));
		if (!r) {
			__atomic_add_fetch(&ev_alloc_failed, 1, __ATOMIC_RELAXED);
			return;
		}
		memset(r, 0, offsetof(struct ev_ring, slot));
		r->next = __atomic_load_n(&ev_rings, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&ev_rings, &r->next, r, true, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
		my_ring = r;
	}
	h = r->head;
	t = r->tail_seen;
	if (h - t >= EV_RING_SIZE) {
		t = r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (h - t >= EV_RING_SIZE) {
			/* the events thread is behind: drop, never wait */
			__atomic_store_n(&r->dropped, r->dropped + 1, __ATOMIC_RELAXED);
			return;
		}
	}
	/* field by field: only what the reader needs, no clock read on a worker */
	e = &r->slot[h & (EV_RING_SIZE - 1)];
	e->orig = ci->orig;
	memcpy(e->packets, ci->packets, sizeof(e->packets));
	memcpy(e->bytes, ci->bytes, sizeof(e->bytes));
	e->expires_ms = ci->expires_ms;
	e->now_ms = my_batch_ms ? my_batch_ms : nfqct_now_ms();
	e->state_name = ci->state_name;
	e->id = id;
	e->mark = ci->mark;
	e->zone = ci->zone;
	e->type = (uint8_t)type;
	e->flags = (uint8_t)((ci->seen_reply ? NFQCT_EVF_SEEN_REPLY : 0) |
			     (ci->assured ? NFQCT_EVF_ASSURED : 0) | (ci->acct ? NFQCT_EVF_ACCT : 0));
	e->helper = ci->helper;
	e->tcp_state = ci->tcp_state;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
}

/* ---- formatting ---- */

/* ---- text lines without stdio: the events thread formats every event ---- */

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* @v in decimal, at least @width digits, zero-padded (the microseconds of a timestamp) */
static char *put_u64_0(char *p, uint64_t v, size_t width)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_u64(char *p, uint64_t v)
{
	return put_u64_0(p, v, 1);
}

/*
 * ev_text - the text line of nfqct_events_print() (not JSON) at @p, which
 * has room for EV_LINE_MAX bytes; returns its end.
 */
static char *ev_text(char *p, unsigned int type, const struct nfqct_ct_info *ci, uint32_t id,
		     uint64_t seq, uint64_t ts_us, uint64_t now_ms, unsigned int output)
{
	const char *name = nfqct_proto_name(ci->orig.proto);
	bool destroy = type == NFQCT_EV_DESTROY;
	const char *h;
	size_t n;

	if (!name)
		name = "unknown";
	if (output & NFQCT_EVO_TIMESTAMP) {
		*p++ = '[';
		p = put_u64(p, ts_us / 1000000u);
		*p++ = '.';
		p = put_u64_0(p, ts_us % 1000000u, 6);
		p = put_str(p, "]\t");
	}
	/* "%9s %-8s %u " */
	p = put_str(p, type == NFQCT_EV_NEW ? "    [NEW] " : type == NFQCT_EV_UPDATE ? " [UPDATE] " :
		    "[DESTROY] ");
	n = strlen(name);
	memcpy(p, name, n);
	p += n;
	for (; n < 8; n++)
		*p++ = ' ';
	*p++ = ' ';
	p = put_u64(p, ci->orig.proto);
	*p++ = ' ';
	p = put_u64(p, ci->expires_ms > now_ms ? (ci->expires_ms - now_ms) / 1000u : 0);
	*p++ = ' ';
	if (ci->state_name) {
		p = put_str(p, ci->state_name);
		*p++ = ' ';
	}
	p = nfqct_tuple_format(p, &ci->orig);
	*p++ = ' ';
	if (destroy && ci->acct) {
		p = put_u64(put_str(p, "packets="), ci->packets[0]);
		p = put_u64(put_str(p, " bytes="), ci->bytes[0]);
		*p++ = ' ';
	}
	if (!ci->seen_reply)
		p = put_str(p, "[UNREPLIED] ");
	p = nfqct_tuple_format(p, &ci->reply);
	if (destroy && ci->acct) {
		p = put_u64(put_str(p, " packets="), ci->packets[1]);
		p = put_u64(put_str(p, " bytes="), ci->bytes[1]);
	}
	if (ci->assured)
		p = put_str(p, " [ASSURED]");
	if (ci->mark)
		p = put_u64(put_str(p, " mark="), ci->mark);
	if (ci->zone)
		p = put_u64(put_str(p, " zone="), ci->zone);
	if (ci->helper) {
		h = nfqct_helper_name(ci->helper);
		p = put_str(put_str(p, " helper="), h ? h : "(null)");
	}
	if (output & NFQCT_EVO_ID)
		p = put_u64(put_str(p, " id="), id);
	if (output & NFQCT_EVO_SEQ)
		p = put_u64(put_str(p, " seq="), seq);
	*p++ = '\n';
	return p;
}

/* "[LOST] N events, seq A-B\n" */
static char *lost_text(char *p, uint64_t n, uint64_t first, uint64_t last)
{
	p = put_u64(put_str(p, "[LOST] "), n);
	p = put_u64(put_str(p, " events, seq "), first);
	p = put_u64(put_str(p, "-"), last);
	*p++ = '\n';
	return p;
}

void nfqct_events_print(FILE *out, unsigned int type, const struct nfqct_ct_info *ci, uint32_t id,
			uint64_t seq, uint64_t ts_us, uint64_t now_ms, unsigned int output)
{
	bool destroy = type == NFQCT_EV_DESTROY;

	if (output & NFQCT_EVO_JSON) {
		fprintf(out, "{\"event\":\"%s\",\"seq\":%llu,\"timestamp\":%llu.%06llu,\"entry\":",
			destroy ? "DESTROY" : type == NFQCT_EV_NEW ? "NEW" : "UPDATE",
			(unsigned long long)seq, (unsigned long long)(ts_us / 1000000u),
			(unsigned long long)(ts_us % 1000000u));
		/* the entry as list -o json prints it, without its newline */
		{
			char buf[1024];
			FILE *m = fmemopen(buf, sizeof(buf), "w");
			size_t n;

			if (m) {
				nfqct_ctfilter_print(m, ci, id, now_ms, NFQCT_CTF_OUT_JSON);
				n = (size_t)ftell(m);
				fclose(m);
				if (n > 0 && n < sizeof(buf)) {
					if (buf[n - 1] == '\n')
						n--;
					fwrite(buf, 1, n, out);
				}
			}
		}
		fputs("}\n", out);
		return;
	}
	{
		char line[EV_LINE_MAX];

		fwrite(line, 1, (size_t)(ev_text(line, type, ci, id, seq, ts_us, now_ms, output) - line),
		       out);
	}
}

/* ---- the command: "events [-e TYPES] [-o FLAGS] [FILTER...]" ---- */

struct ev_cmd {
	unsigned int types, output;
	struct nfqct_ctfilter f;
};

struct ev_word {
	const char *name;
	unsigned int bits;
};

/*
 * A comma list of @words (or plain numbers, masked with @numeric) into the
 * OR of their bits in *@out.  Returns 0, or -EINVAL for an unknown word.
 */
static int parse_words(const char *s, const struct ev_word *words, size_t n, bool nocase,
		       unsigned int numeric, unsigned int *out)
{
	char buf[64], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*out = 0;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < n; i++)
			if (nocase ? !strcasecmp(w, words[i].name) : !strcmp(w, words[i].name))
				break;
		if (i < n)
			*out |= words[i].bits;
		else if (strspn(w, "0123456789") == strlen(w))
			*out |= (unsigned int)strtoul(w, NULL, 10) & numeric;
		else
			return -EINVAL;
	}
	return 0;
}

static int parse_types(const char *s, unsigned int *types)
{
	static const struct ev_word words[] = {
		{ "NEW", NFQCT_EV_NEW }, { "UPDATE", NFQCT_EV_UPDATE },
		{ "DESTROY", NFQCT_EV_DESTROY }, { "ALL", NFQCT_EV_ALL },
	};

	if (parse_words(s, words, sizeof(words) / sizeof(words[0]), true, NFQCT_EV_ALL, types) < 0)
		return -EINVAL;
	return *types ? 0 : -EINVAL;
}

static int parse_evout(const char *s, unsigned int *out)
{
	static const struct ev_word words[] = {
		{ "timestamp", NFQCT_EVO_TIMESTAMP }, { "json", NFQCT_EVO_JSON },
		{ "seq", NFQCT_EVO_SEQ }, { "id", NFQCT_EVO_ID },
	};

	return parse_words(s, words, sizeof(words) / sizeof(words[0]), false, 15u, out);
}

/* argv[0] is "events".  0 or -EINVAL with the message in @err. */
static int ev_parse(int argc, char **argv, struct ev_cmd *c, char *err, size_t errlen)
{
	char *rest[64];
	int n = 0;
	struct nfqct_ctcmd cmd;

	memset(c, 0, sizeof(*c));
	c->types = NFQCT_EV_ALL;
	rest[n++] = "list";
	for (int i = 1; i < argc; i++) {
		bool is_e = !strcmp(argv[i], "-e") || !strcmp(argv[i], "--event-mask");
		bool is_o = !strcmp(argv[i], "-o") || !strcmp(argv[i], "--output");

		if (is_e || is_o) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "events: %s needs a value", argv[i]);
				return -EINVAL;
			}
			if (is_e && parse_types(argv[i + 1], &c->types) < 0) {
				snprintf(err, errlen, "events: %s: bad event type '%s': expected NEW, "
					 "UPDATE, DESTROY or ALL (comma-separated)", argv[i], argv[i + 1]);
				return -EINVAL;
			}
			if (is_o && parse_evout(argv[i + 1], &c->output) < 0) {
				snprintf(err, errlen, "events: %s: bad format '%s': expected timestamp, "
					 "json, id or seq (comma-separated)", argv[i], argv[i + 1]);
				return -EINVAL;
			}
			i++;
			continue;
		}
		if (n == (int)(sizeof(rest) / sizeof(rest[0]))) {
			snprintf(err, errlen, "events: too many arguments");
			return -EINVAL;
		}
		rest[n++] = argv[i];
	}
	if (nfqct_ctcmd_parse(n, rest, &cmd, err, errlen) < 0) {
		/* the filter parser says "list:"; it is events here */
		if (!strncmp(err, "list:", 5)) {
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "events%s", err + 4);
			snprintf(err, errlen, "%s", tmp);
		}
		return -EINVAL;
	}
	c->f = cmd.f;
	return 0;
}

/* The canonical text of a command, for the socket. */
static int ev_format(const struct ev_cmd *c, char *buf, size_t len)
{
	struct nfqct_ctcmd cmd = { .kind = NFQCT_CTCMD_LIST, .f = c->f };
	char filt[NFQCT_EV_LINE];
	int r = nfqct_ctcmd_format(&cmd, filt, sizeof(filt));

	if (r < 0)
		return r;
	/* "list" and what follows it */
	r = snprintf(buf, len, "events -e %u -o %u%s", c->types, c->output, filt + 4);
	return r < 0 || (size_t)r >= len ? -ENOSPC : r;
}

/* ---- the events thread ---- */

struct reader {
	int fd;
	bool ready;			/* command read, "ok" sent */
	struct ev_cmd cmd;
	char in[NFQCT_EV_LINE];
	size_t inlen;
	int64_t deadline_ms;		/* for its command */
	char *buf;			/* EV_READER_BUF bytes */
	size_t off, len;		/* unsent: buf[off, len) */
	uint64_t lost, lost_first;	/* missed since the last [LOST] line */
};

struct nfqct_events {
	char dir[PATH_MAX];
	int listen_fd;
	pthread_t th;
	bool stop;
	struct reader *rd[EV_MAX_READERS];
	unsigned int nrd;
	uint64_t seq;
	uint64_t events, lost, ring_lost;
	uint64_t alloc_seen;
	int64_t next_stat_ms;
	int64_t wall_offset_us;		/* realtime - monotonic, set at each drain */
	void (*sink_fn)(void *arg, const struct nfqct_event *e, int64_t wall_offset_us);
	void *sink_arg;
	void (*sync_fn)(void *arg, const struct nfqct_event *e);	/* replication */
	void (*sync_lost)(void *arg, uint64_t n);
	void *sync_arg;
};

void nfqct_events_set_sync(struct nfqct_events *ev,
			   void (*fn)(void *arg, const struct nfqct_event *e),
			   void (*lost)(void *arg, uint64_t n), void *arg)
{
	bool had = __atomic_load_n(&ev->sync_fn, __ATOMIC_RELAXED) != NULL;

	__atomic_store_n(&ev->sync_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&ev->sync_lost, lost, __ATOMIC_RELAXED);
	__atomic_store_n(&ev->sync_fn, fn, __ATOMIC_RELEASE);
	/* replication wants UPDATEs: it counts as a reader for the producers */
	if (fn && !had)
		__atomic_add_fetch(&nfqct_events_readers, 1, __ATOMIC_RELAXED);
	else if (!fn && had)
		__atomic_sub_fetch(&nfqct_events_readers, 1, __ATOMIC_RELAXED);
}

void nfqct_events_set_sink(struct nfqct_events *ev,
			   void (*fn)(void *arg, const struct nfqct_event *e, int64_t wall_offset_us),
			   void *arg)
{
	__atomic_store_n(&ev->sink_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&ev->sink_fn, fn, __ATOMIC_RELEASE);
	if (fn)
		__atomic_add_fetch(&nfqct_events_sinks, 1, __ATOMIC_RELAXED);
	else
		__atomic_sub_fetch(&nfqct_events_sinks, 1, __ATOMIC_RELAXED);
}

static void reader_close(struct nfqct_events *ev, unsigned int i)
{
	struct reader *r = ev->rd[i];

	if (r->ready)
		__atomic_sub_fetch(&nfqct_events_readers, 1, __ATOMIC_RELAXED);
	close(r->fd);
	free(r->buf);
	free(r);
	ev->rd[i] = ev->rd[--ev->nrd];
}

static void reader_compact(struct reader *r)
{
	if (r->off && (r->off == r->len || EV_READER_BUF - r->len < EV_LINE_MAX)) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
}

static void reader_put(struct reader *r, const struct nfqct_ct_info *ci, const struct nfqct_event *e,
		       uint64_t seq, uint64_t ts_us)
{
	char *p;

	reader_compact(r);
	if (EV_READER_BUF - r->len < EV_LINE_MAX) {
		/* a full buffer (a stopped reader): count, format nothing */
		if (!r->lost)
			r->lost_first = seq;
		r->lost++;
		return;
	}
	p = r->buf + r->len;
	if (r->lost) {
		/* before the next event it gets: how many it missed */
		p = lost_text(p, r->lost, r->lost_first, seq - 1);
		r->lost = 0;
	}
	if (r->cmd.output & NFQCT_EVO_JSON) {
		/* rare: stdio, as list -o json */
		FILE *m = fmemopen(p, EV_READER_BUF - (size_t)(p - r->buf), "w");
		long n;

		if (!m) {
			r->len = (size_t)(p - r->buf);
			r->lost_first = seq;
			r->lost = 1;
			return;
		}
		nfqct_events_print(m, e->type, ci, e->id, seq, ts_us, e->now_ms, r->cmd.output);
		n = ftell(m);
		fclose(m);
		if (n > 0)
			p += n;
	} else {
		p = ev_text(p, e->type, ci, e->id, seq, ts_us, e->now_ms, r->cmd.output);
	}
	r->len = (size_t)(p - r->buf);
}

static void reader_lose(struct reader *r, uint64_t first, uint64_t n)
{
	if (!r->lost)
		r->lost_first = first;
	r->lost += n;
}

static void deliver(struct nfqct_events *ev, const struct nfqct_event *e)
{
	uint64_t seq = ++ev->seq;
	uint64_t ts_us = (uint64_t)((int64_t)e->now_ms * 1000 + ev->wall_offset_us);
	struct nfqct_ct_info ci;
	bool have_ci = false;

	ev->events++;
	if (ev->sink_fn && e->type != NFQCT_EV_UPDATE)
		ev->sink_fn(ev->sink_arg, e, ev->wall_offset_us);
	if (ev->sync_fn)
		ev->sync_fn(ev->sync_arg, e);
	for (unsigned int i = 0; i < ev->nrd; i++) {
		struct reader *r = ev->rd[i];
		uint64_t before;

		if (!r->ready || !(r->cmd.types & e->type))
			continue;
		if (!have_ci) {
			nfqct_event_info(e, &ci);
			have_ci = true;
		}
		if (!nfqct_ctfilter_match(&r->cmd.f, &ci))
			continue;
		before = r->lost;
		reader_put(r, &ci, e, seq, ts_us);
		if (r->lost > before)
			ev->lost++;
	}
}

static void drain(struct nfqct_events *ev)
{
	uint64_t af = __atomic_load_n(&ev_alloc_failed, __ATOMIC_RELAXED);
	/* events no ring took: new allocation failures and new full-ring drops
	 * (alloc_seen follows the allocation failures only) */
	uint64_t missed = af - ev->alloc_seen;

	/* one pair of clock reads per drain converts every event's table clock */
	ev->wall_offset_us = (int64_t)nfqct_wall_ms() * 1000 - (int64_t)nfqct_now_ms() * 1000;
	for (struct ev_ring *ring = __atomic_load_n(&ev_rings, __ATOMIC_ACQUIRE); ring; ring = ring->next) {
		uint64_t h = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		uint64_t t = ring->tail;
		uint64_t d = __atomic_load_n(&ring->dropped, __ATOMIC_RELAXED);

		for (; t != h; t++) {
			deliver(ev, &ring->slot[t & (EV_RING_SIZE - 1)]);
			/* free slots as we go: producers are not kept waiting */
			if ((t & 255) == 255)
				__atomic_store_n(&ring->tail, t + 1, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&ring->tail, t, __ATOMIC_RELEASE);
		if (d != ring->dropped_seen) {
			missed += d - ring->dropped_seen;
			ring->dropped_seen = d;
		}
	}
	if (missed) {
		/* dropped before anyone could see them: every reader missed them */
		uint64_t n = missed;

		ev->alloc_seen = af;
		ev->ring_lost += n;
		if (ev->sync_lost)
			ev->sync_lost(ev->sync_arg, n);
		for (unsigned int i = 0; i < ev->nrd; i++)
			if (ev->rd[i]->ready) {
				reader_lose(ev->rd[i], ev->seq + 1, n);
				ev->lost += n;
			}
		ev->seq += n;
		ev->events += n;
	}
}

static int send_some(struct reader *r)
{
	while (r->off < r->len) {
		ssize_t n = send(r->fd, r->buf + r->off, r->len - r->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		r->off += (size_t)n;
	}
	return 0;
}

static int reader_command(struct nfqct_events *ev, struct reader *r)
{
	char *w[64], *save = NULL, err[256], msg[300];
	int n = 0;
	ssize_t got = recv(r->fd, r->in + r->inlen, sizeof(r->in) - 1 - r->inlen, MSG_DONTWAIT);
	char *nl;

	if (got == 0)
		return -ECONNRESET;
	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	r->inlen += (size_t)got;
	r->in[r->inlen] = '\0';
	nl = strchr(r->in, '\n');
	if (!nl)
		return r->inlen == sizeof(r->in) - 1 ? -EMSGSIZE : 0;
	*nl = '\0';
	for (char *t = strtok_r(r->in, " \t", &save); t && n < 64; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n < 1 || strcmp(w[0], "events") || ev_parse(n, w, &r->cmd, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "error\n%s\n", n < 1 || strcmp(w[0], "events") ?
			 "expected: events [OPTIONS]" : err);
		(void)!send(r->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
		return -EINVAL;
	}
	memcpy(r->buf, "ok\n", 3);
	r->len = 3;
	r->ready = true;
	__atomic_add_fetch(&nfqct_events_readers, 1, __ATOMIC_RELAXED);
	(void)ev;
	return 0;
}

static void accept_readers(struct nfqct_events *ev)
{
	for (;;) {
		int fd = accept4(ev->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct reader *r;

		if (fd < 0)
			return;
		r = calloc(1, sizeof(*r));
		if (r)
			r->buf = malloc(EV_READER_BUF);
		if (!r || !r->buf || ev->nrd == EV_MAX_READERS) {
			/* no room for one more: it is told, not left hanging */
			(void)!send(fd, "error\ntoo many readers\n", 23, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			if (r)
				free(r->buf);
			free(r);
			continue;
		}
		r->fd = fd;
		r->deadline_ms = (int64_t)nfqct_now_ms() + 2000;
		ev->rd[ev->nrd++] = r;
	}
}

static void write_stat(struct nfqct_events *ev)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/stat/nfqct_events", ev->dir);
	snprintf(tmp, sizeof(tmp), "%s/net/stat/.nfqct_events.tmp", ev->dir);
	f = fopen(tmp, "w");
	if (!f)
		return;
	/* 32-bit fields, as procfs's stat files */
	fprintf(f, NFQCT_EVENTS_HDR "%08x %08x %08x %08x\n", (uint32_t)ev->events, (uint32_t)ev->lost,
		ev->nrd, (uint32_t)ev->ring_lost);
	if (fchmod(fileno(f), 0444) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

static void *events_main(void *arg)
{
	struct nfqct_events *ev = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/*
	 * Below the workers: on a busy machine a reader loses events (counted,
	 * reported) rather than the daemon losing verdicts.  Raising one's own
	 * nice needs no privilege; on Linux it applies to this thread only.
	 * SCHED_IDLE would do too, but nice keeps it an ordinary thread that
	 * still gets its share (the IPFIX exporter lives on these events).
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), EV_NICE);
	while (!__atomic_load_n(&ev->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd[EV_MAX_READERS + 1];
		unsigned int n = 0;
		int64_t now;

		pfd[n++] = (struct pollfd){ .fd = ev->listen_fd, .events = POLLIN };
		for (unsigned int i = 0; i < ev->nrd; i++)
			pfd[n++] = (struct pollfd){
				.fd = ev->rd[i]->fd,
				/* a small backlog waits for the next tick: batches, not a spin */
				.events = (short)(POLLIN | (ev->rd[i]->len - ev->rd[i]->off > EV_WAKE_UNSENT ?
							    POLLOUT : 0)),
			};
		(void)poll(pfd, n, EV_POLL_MS);
		if (pfd[0].revents & POLLIN)
			accept_readers(ev);
		now = (int64_t)nfqct_now_ms();
		for (unsigned int i = 0; i < ev->nrd;) {
			struct reader *r = ev->rd[i];
			int err = 0;

			if (!r->ready) {
				err = reader_command(ev, r);
				if (!err && !r->ready && now > r->deadline_ms)
					err = -ETIMEDOUT;
			} else if (i + 1 < n && (pfd[i + 1].revents & (POLLHUP | POLLERR))) {
				err = -ECONNRESET;
			}
			if (err < 0) {
				reader_close(ev, i);
				continue;
			}
			i++;
		}
		drain(ev);
		for (unsigned int i = 0; i < ev->nrd;) {
			struct reader *r = ev->rd[i];

			if (r->ready && r->lost) {
				/* say it now, not only before the next event */
				reader_compact(r);
				if (EV_READER_BUF - r->len >= EV_LINE_MAX) {
					r->len = (size_t)(lost_text(r->buf + r->len, r->lost, r->lost_first,
								    ev->seq) - r->buf);
					r->lost = 0;
				}
			}
			if (ev->rd[i]->ready && send_some(ev->rd[i]) < 0) {
				reader_close(ev, i);
				continue;
			}
			i++;
		}
		if (now >= ev->next_stat_ms) {
			write_stat(ev);
			ev->next_stat_ms = now + EV_STAT_MS;
		}
	}
	return NULL;
}

int nfqct_events_start(const char *dir, struct nfqct_events **evp, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nfqct_events *ev;
	int r;

	ev = calloc(1, sizeof(*ev));
	if (!ev) {
		snprintf(err, errlen, "events: out of memory");
		return -ENOMEM;
	}
	snprintf(ev->dir, sizeof(ev->dir), "%s", dir);
	r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, NFQCT_EVENTS_SOCKET);
	if (r < 0 || (size_t)r >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "events: socket path too long: %s/%s", dir, NFQCT_EVENTS_SOCKET);
		r = -ENAMETOOLONG;
		goto err_free;
	}
	/* the control socket proved no other daemon owns this directory */
	unlink(sa.sun_path);
	ev->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ev->listen_fd < 0)
		goto err_errno;
	(void)fchmod(ev->listen_fd, 0600);
	if (bind(ev->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(ev->listen_fd, 16) < 0)
		goto err_close;
	r = pthread_create(&ev->th, NULL, events_main, ev);
	if (r) {
		errno = r;
		goto err_close;
	}
	*evp = ev;
	return 0;

err_close:
	r = -errno;
	close(ev->listen_fd);
	unlink(sa.sun_path);
	snprintf(err, errlen, "events: cannot listen on %s: %s", sa.sun_path, strerror(-r));
	goto err_free;
err_errno:
	r = -errno;
	snprintf(err, errlen, "events: socket: %s", strerror(-r));
err_free:
	free(ev);
	return r;
}

void nfqct_events_stop(struct nfqct_events *ev)
{
	if (ev && ev->sink_fn)
		__atomic_sub_fetch(&nfqct_events_sinks, 1, __ATOMIC_RELAXED);
	if (ev && ev->sync_fn)
		__atomic_sub_fetch(&nfqct_events_readers, 1, __ATOMIC_RELAXED);
	char path[PATH_MAX + 64];

	if (!ev)
		return;
	__atomic_store_n(&ev->stop, true, __ATOMIC_RELEASE);
	pthread_join(ev->th, NULL);
	while (ev->nrd)
		reader_close(ev, 0);
	close(ev->listen_fd);
	snprintf(path, sizeof(path), "%s/%s", ev->dir, NFQCT_EVENTS_SOCKET);
	unlink(path);
	write_stat(ev);
	/* the rings stay: producers may still hold theirs until they exit */
	free(ev);
}

/* ---- client ---- */

int nfqct_events_client(const char *dir, int argc, char **argv, FILE *out, FILE *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ev_cmd c;
	char msg[256], line[NFQCT_EV_LINE + 2], buf[65536];
	size_t slen = 0;
	bool ok = false;
	int fd, n;

	if (ev_parse(argc, argv, &c, msg, sizeof(msg)) < 0) {
		fprintf(err, "nfqct: %s\n", msg);
		return 1;
	}
	if (ev_format(&c, line, sizeof(line) - 1) < 0) {
		fprintf(err, "nfqct: events: command too long\n");
		return 1;
	}
	strcat(line, "\n");
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, NFQCT_EVENTS_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		fprintf(err, "nfqct: socket path too long: %s/%s\n", dir, NFQCT_EVENTS_SOCKET);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(err, "nfqct: cannot connect to %s: %s (is nfqctd running with --stat-dir %s?)\n",
			sa.sun_path, strerror(errno), dir);
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		fprintf(err, "nfqct: cannot send to %s: %s\n", sa.sun_path, strerror(errno));
		close(fd);
		return 2;
	}
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		size_t off = 0;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		/* the status line, then the stream */
		while (!ok && off < (size_t)got) {
			char ch = buf[off++];

			if (ch != '\n') {
				if (slen < sizeof(msg) - 1)
					msg[slen++] = ch;
				continue;
			}
			msg[slen] = '\0';
			if (strcmp(msg, "ok")) {
				/* "error" and its message */
				fwrite(buf + off, 1, (size_t)got - off, err);
				while ((got = recv(fd, buf, sizeof(buf), 0)) > 0)
					fwrite(buf, 1, (size_t)got, err);
				close(fd);
				return 1;
			}
			ok = true;
		}
		if (off < (size_t)got) {
			fwrite(buf + off, 1, (size_t)got - off, out);
			fflush(out);
		}
	}
	close(fd);
	return ok ? 0 : 2;
}
