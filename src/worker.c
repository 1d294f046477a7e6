/*
 * worker.c - the per-queue packet loop: I/O only.  Receive a batch, judge
 * each packet with nfqct_judge(), send the verdicts in order.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu-qsbr.h>
#include <netinet/in.h>
#include <linux/netfilter.h>	/* NF_REPEAT; after netinet/in.h */

#include "nfqct/events.h"
#include "nfqct/judge.h"
#include "nfqct/log.h"
#include "nfqct/offload.h"
#include "nfqct/queue.h"
#include "nfqct/reject.h"
#include "nfqct/worker.h"

/* After a stop request (and nfqct_queue_stop_intake), how long we keep
 * answering what the kernel had already queued. */
#define DRAIN_IDLE_MS	20	/* stop once the queue has been quiet this long */
#define DRAIN_MAX_MS	1000	/* and in any case after this long */

/* nfqct_worker_join() repeats the wake signal this often until the thread
 * ends: one that lands just before the worker enters its blocking receive
 * is lost, the next one is not. */
#define JOIN_WAKE_MS	10

struct nfqct_worker {
	struct nfqct_worker_config cfg;
	struct nfqct_queue *q;
	struct nfqct_pkt *pkts;
	unsigned int batch;
	pthread_t thread;
	bool started;
	struct log_ratelimit rl_invalid;
	struct log_ratelimit rl_full;	/* "table full": at the settings' rate */
	struct log_ratelimit rl_frag;	/* "received IP fragments": likewise */
	struct log_ratelimit rl_queue;	/* the queue's receive and send problems */
	struct log_ratelimit rl_reject;	/* "REJECT rules missing": at the settings' rate */
	struct log_ratelimit rl_loglost;	/* LOG lines lost: likewise */
	bool handover;			/* stop for an upgrade: no intake stop, no drain */
	uint64_t last_verdict_us;	/* written by the worker, read after the join */
	uint64_t prev_last_us;		/* the previous image's last verdict; 0 once logged */
	bool offload_kick;		/* this batch made offload requests */
};

uint64_t nfqct_worker_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Say what went wrong on the queue since the last time, rate-limited. */
static void report_queue_errors(struct nfqct_worker *w)
{
	unsigned int count;
	uint32_t suppressed;
	const char *what = nfqct_queue_take_error(w->q, &count);

	if (!what || !log_ratelimit_ok(&w->rl_queue, nfqct_now_ms(), &suppressed))
		return;
	log_warnx("queue %u: %s (%u such problems since the last message, %u messages suppressed)",
		  w->cfg.queue_num, what, count, suppressed);
}

struct nfqct_worker *nfqct_worker_create(const struct nfqct_worker_config *cfg, char *err, size_t errlen)
{
	struct nfqct_worker *w = calloc(1, sizeof(*w));
	const struct nfqct_settings *s = rcu_dereference(*cfg->settings);

	if (!w) {
		snprintf(err, errlen, "queue %u: out of memory", cfg->queue_num);
		return NULL;
	}
	w->cfg = *cfg;
	w->batch = s->batch;
	w->rl_invalid = (struct log_ratelimit)LOG_RATELIMIT_INIT(5000, 1);
	w->rl_full = (struct log_ratelimit)LOG_RATELIMIT_INIT(s->log_ratelimit_ms, s->log_ratelimit_burst);
	w->rl_frag = (struct log_ratelimit)LOG_RATELIMIT_INIT(s->log_ratelimit_ms, s->log_ratelimit_burst);
	w->rl_reject = (struct log_ratelimit)LOG_RATELIMIT_INIT(s->log_ratelimit_ms, s->log_ratelimit_burst);
	w->rl_loglost = (struct log_ratelimit)LOG_RATELIMIT_INIT(s->log_ratelimit_ms, s->log_ratelimit_burst);
	w->pkts = calloc(w->batch, sizeof(*w->pkts));
	if (!w->pkts) {
		snprintf(err, errlen, "queue %u: out of memory", cfg->queue_num);
		goto err_free;
	}
	w->rl_queue = (struct log_ratelimit)LOG_RATELIMIT_INIT(5000, 5);
	if (cfg->adopt_fd >= 0)
		w->q = nfqct_queue_adopt(cfg->adopt_fd, cfg->queue_num, s, &cfg->stats->q, err, errlen);
	else
		w->q = nfqct_queue_open(cfg->queue_num, s, &cfg->stats->q, err, errlen);
	w->prev_last_us = cfg->adopt_fd >= 0 ? cfg->prev_last_us : 0;
	if (!w->q)
		goto err_free;
	report_queue_errors(w);	/* a receive buffer it could not grow */
	return w;

err_free:
	free(w->pkts);
	free(w);
	return NULL;
}

/* The kernel's "nf_conntrack: table full, dropping packet", rate-limited by
 * nfqct.log_ratelimit_ms / _burst (per worker; the settings may change on reload). */
static void log_table_full(struct nfqct_worker *w, const struct nfqct_settings *s, uint64_t now_ms)
{
	uint32_t suppressed;

	w->rl_full.interval_ms = s->log_ratelimit_ms;
	w->rl_full.burst = s->log_ratelimit_burst;
	if (!log_ratelimit_ok(&w->rl_full, now_ms, &suppressed))
		return;
	if (suppressed)
		log_warnx("nfqct: table full, dropping packet (%u messages suppressed)", suppressed);
	else
		log_warnx("nfqct: table full, dropping packet");
}

/*
 * A fragment reached us: the kernel is not reassembling in this namespace
 * (xt_CT's --notrack does not turn nf_defrag on; nfqct-kernel-rules adds a
 * rule that does).  Every non-first fragment is then INVALID here, where
 * the kernel, reassembling first, would judge the whole datagram.  Counted
 * per packet (fragments); said at the settings' rate.
 */
static void note_fragment(struct nfqct_worker *w, const struct nfqct_settings *s, uint64_t now_ms)
{
	uint32_t suppressed;	/* the running count says more */

	NFQCT_STAT_INC(w->cfg.stats->q.fragments);
	w->rl_frag.interval_ms = s->log_ratelimit_ms;
	w->rl_frag.burst = s->log_ratelimit_burst;
	if (!log_ratelimit_ok(&w->rl_frag, now_ms, &suppressed))
		return;
	log_warnx("queue %u: received IP fragments: the kernel does not reassemble them in this "
		  "namespace, so non-first fragments are INVALID; install the queue rules with "
		  "nfqct-kernel-rules, without --no-defrag (%" PRIu64 " fragments so far)",
		  w->cfg.queue_num, NFQCT_STAT_READ(w->cfg.stats->q.fragments));
}

/*
 * A packet came back with REJECT's mark bits set: the kernel ran its hook
 * again after our NF_REPEAT but no rule of nfqct-kernel-rules rejected it
 * (or the operator's own rules use those bits).  Dropped: judging it again
 * would count it twice and could loop for ever.  Said at the settings' rate.
 */
static void note_reject_loop(struct nfqct_worker *w, const struct nfqct_settings *s, uint64_t now_ms,
			     uint32_t mark)
{
	uint32_t suppressed;

	NFQCT_STAT_INC(w->cfg.stats->q.reject_loops);
	w->rl_reject.interval_ms = s->log_ratelimit_ms;
	w->rl_reject.burst = s->log_ratelimit_burst;
	if (!log_ratelimit_ok(&w->rl_reject, now_ms, &suppressed))
		return;
	log_warnx("queue %u: REJECT rules missing: run nfqct-kernel-rules (a packet came back with "
		  "mark 0x%08" PRIx32 ", reject bits 0x%08" PRIx32 "; dropped; %" PRIu64 " so far)",
		  w->cfg.queue_num, mark, nfqct_reject_mark_mask(s->reject_mark_shift),
		  NFQCT_STAT_READ(w->cfg.stats->q.reject_loops));
}

/*
 * The LOG rules that matched @pkt: a copy each to the logging thread's
 * ring (pktlog.h), never a wait.  A full ring, or LOG rules past
 * NFQCT_RULES_MAX_LOG, lose their line: counted, said at the settings' rate.
 */
static void queue_logs(struct nfqct_worker *w, const struct nfqct_settings *s, uint64_t now_ms,
		       const struct nfqct_pkt *pkt, const struct nfqct_verdict *v)
{
	unsigned int lost = v->log_lost;
	uint32_t suppressed;

	for (unsigned int i = 0; i < v->nlog; i++) {
		if (w->cfg.pktlog && nfqct_pktlog_put(w->cfg.pktlog, w->cfg.index, pkt, v->log[i].spec,
						      v->log[i].mark, v->log[i].raw))
			NFQCT_STAT_INC(w->cfg.stats->q.logged);
		else
			lost++;
	}
	if (!lost)
		return;
	NFQCT_STAT_ADD(w->cfg.stats->q.log_lost, lost);
	w->rl_loglost.interval_ms = s->log_ratelimit_ms;
	w->rl_loglost.burst = s->log_ratelimit_burst;
	if (!log_ratelimit_ok(&w->rl_loglost, now_ms, &suppressed))
		return;
	log_warnx("queue %u: LOG lines lost: the logging thread is behind (%d lines queued) or more "
		  "than %d LOG rules matched a packet (%" PRIu64 " lost so far)", w->cfg.queue_num,
		  NFQCT_PKTLOG_RING, NFQCT_RULES_MAX_LOG, NFQCT_STAT_READ(w->cfg.stats->q.log_lost));
}

/*
 * FLOWOFFLOAD (offload.h): a flow the verdict offloads goes to the offload
 * thread's ring once (the entry's claim); an offloaded flow whose packet
 * reaches us without that verdict (FIN, RST, a ruleset that no longer
 * offloads it) is taken back.  No system call here (the batch kicks the
 * offload thread once, after its verdicts): a full ring is counted, and
 * the flow simply stays on the queue path.
 */
static void note_offload(struct nfqct_worker *w, const struct nfqct_verdict *v)
{
	if (v->offload) {
		if (!nfqct_ct_offload_claim(v->conn))
			return;
		if (nfqct_offload_request(w->cfg.offload, w->cfg.index, v->conn, true))
			w->offload_kick = true;
		else
			nfqct_ct_offload_done(v->conn, nfqct_ct_offloaded(v->conn));
	} else if (nfqct_ct_offloaded(v->conn) && nfqct_ct_offload_unset(v->conn)) {
		/* a full ring: the next counter read finds the pair stale */
		w->offload_kick |= nfqct_offload_request(w->cfg.offload, w->cfg.index, v->conn, false);
	}
}

/*
 * An idle worker sleeps in the queue's receive itself (recvmmsg() with
 * MSG_WAITFORONE on the blocking socket), not in poll(): a packet that
 * finds it asleep costs one system call to fetch instead of a poll() return
 * and a receive, which is most of what separated an idle queue's verdict
 * from a minimal consumer's (README "Benchmarks": RR).  The stop request
 * reaches a sleeping worker as a signal, NFQCT_WORKER_WAKE_SIG, sent by
 * nfqct_worker_join(); every thread of the daemon blocks all signals except
 * the workers, which unblock this one alone.  Its handler does nothing: the
 * receive returns EINTR and the loop looks at the stop eventfd.
 */
#define NFQCT_WORKER_WAKE_SIG (SIGRTMIN + 2)

static void wake_handler(int sig)
{
	(void)sig;
}

static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static int wake_err;

static void wake_install(void)
{
	struct sigaction sa = { .sa_handler = wake_handler };	/* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	if (sigaction(NFQCT_WORKER_WAKE_SIG, &sa, NULL) < 0)
		wake_err = errno;
}

/* Receive and answer one batch; with @wait, sleep (offline for RCU) until
 * the first packet.  Returns packets handled, or -errno. */
static int run_batch(struct nfqct_worker *w, bool wait)
{
	struct nfqct_judge_ctx cx = {
		.ct = w->cfg.ct,
		.st = &w->cfg.stats->ct,
		.lo = w->cfg.lo,
		.worker = w->cfg.index,
	};
	uint64_t now_ms;
	int n;

	if (wait) {
		rcu_thread_offline();
		n = nfqct_queue_recv(w->q, w->pkts, w->batch, true);
		rcu_thread_online();
	} else {
		n = nfqct_queue_recv(w->q, w->pkts, w->batch, false);
	}
	if (n <= 0) {
		report_queue_errors(w);
		return n;
	}
	now_ms = nfqct_now_ms();	/* once per batch */
	nfqct_events_batch(now_ms);	/* events of this batch read no clock */
	/* RCU: one ruleset and one settings object for the whole batch; they
	 * and the entries the verdicts point at stay valid until the
	 * quiescent state after it. */
	cx.rs = rcu_dereference(*w->cfg.ruleset);
	cx.s = rcu_dereference(*w->cfg.settings);
	for (int i = 0; i < n; i++) {
		struct nfqct_pkt *pkt = &w->pkts[i];
		struct nfqct_verdict v;
		uint32_t suppressed;

		if (pkt->mark & nfqct_reject_mark_mask(cx.s->reject_mark_shift)) {
			/* Dropped: see note_reject_loop(). */
			note_reject_loop(w, cx.s, now_ms, pkt->mark);
			nfqct_queue_verdict(w->q, pkt, false, false, 0);
			continue;
		}
		nfqct_judge(&cx, pkt, now_ms, &v);
		if (v.invalid_reason && log_ratelimit_ok(&w->rl_invalid, now_ms, &suppressed))
			log_debug("queue %u: invalid packet: %s (%u more suppressed)",
				  w->cfg.queue_num, v.invalid_reason, suppressed);
		if (v.nlog | v.log_lost)
			queue_logs(w, cx.s, now_ms, pkt, &v);
		if (v.by == NFQCT_BY_TABLE_FULL)
			log_table_full(w, cx.s, now_ms);
		if (pkt->flags & NFQCT_PKT_F_FRAGMENT)
			note_fragment(w, cx.s, now_ms);
		if (v.conn && w->cfg.offload)
			note_offload(w, &v);
		if (v.reject)
			/* The kernel's own REJECT sends the reply (reject.h): run the
			 * hook again with the type in the mark; its rule drops the packet. */
			nfqct_queue_verdict_nf(w->q, pkt, NF_REPEAT, true,
					       nfqct_reject_mark(v.mark, v.reject, cx.s->reject_mark_shift));
		else
			nfqct_queue_verdict(w->q, pkt, v.accept, v.set_mark, v.mark);
	}
	/* A failed send is counted in tx_errors; the kernel keeps those packets
	 * queued, and the next batch verdict (ids up to its last) answers them. */
	nfqct_queue_flush(w->q);
	if (w->offload_kick) {
		/* once per batch, beside the verdicts' send: not per packet */
		nfqct_offload_kick(w->cfg.offload);
		w->offload_kick = false;
	}
	w->last_verdict_us = nfqct_worker_now_us();
	if (w->prev_last_us) {
		/* The first verdicts after an upgrade: how long the queue waited. */
		log_info("upgrade: queue %u: first verdicts %.3f ms after the previous image's last "
			 "(%d packets in the first batch)", w->cfg.queue_num,
			 (double)(w->last_verdict_us - w->prev_last_us) / 1000.0, n);
		w->prev_last_us = 0;
	}
	report_queue_errors(w);
	return n;
}

/* Wait for packets (and, unless already stopping, the stop signal), offline
 * for RCU while blocked.  The stop eventfd stays readable once written, so a
 * draining worker must not watch it. */
static bool wait_for_work(struct nfqct_worker *w, int timeout_ms, bool *stopping)
{
	struct pollfd pfd[2] = {
		{ .fd = nfqct_queue_fd(w->q), .events = POLLIN },
		{ .fd = w->cfg.stop_fd, .events = POLLIN },
	};
	int ret;

	rcu_thread_offline();
	ret = poll(pfd, *stopping ? 1 : 2, timeout_ms);
	rcu_thread_online();
	if (ret < 0 && errno != EINTR)
		log_warn("queue %u: poll", w->cfg.queue_num);
	if (ret > 0 && !*stopping && (pfd[1].revents & POLLIN))
		*stopping = true;
	return ret > 0 && (pfd[0].revents & (POLLIN | POLLERR));
}

/* After a stop request: answer whatever is delivered until the queue is quiet. */
static void drain(struct nfqct_worker *w)
{
	uint64_t start = nfqct_now_ms(), idle_since = start;
	bool stopping = true;

	for (;;) {
		uint64_t now = nfqct_now_ms();
		int n = run_batch(w, false);

		if (n > 0) {
			idle_since = now;
		} else if (n == 0 || n == -EAGAIN) {
			if (now - idle_since >= DRAIN_IDLE_MS)
				break;
			wait_for_work(w, DRAIN_IDLE_MS, &stopping);
		}
		if (now - start >= DRAIN_MAX_MS) {
			log_warnx("queue %u: still receiving after %d ms of draining; stopping",
				  w->cfg.queue_num, DRAIN_MAX_MS);
			break;
		}
		rcu_quiescent_state();
	}
}

static void *worker_main(void *arg)
{
	struct nfqct_worker *w = arg;
	bool stopping = false;
	int r;

	sigset_t wake;
	bool full = false;	/* the last batch was full: more is likely waiting */

	sigemptyset(&wake);
	sigaddset(&wake, NFQCT_WORKER_WAKE_SIG);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	rcu_register_thread();
	while (!stopping) {
		/* A busy queue is read without going offline; an idle one is
		 * slept on in the receive. */
		int n = run_batch(w, !full);

		full = n == (int)w->batch;
		if (n == -EINTR)
			/* the wake signal, or another: is it the stop? */
			wait_for_work(w, 0, &stopping);
		rcu_quiescent_state();
		/* A busy queue may never be empty: look at every batch boundary. */
		if (__atomic_load_n(&w->handover, __ATOMIC_ACQUIRE))
			break;
	}
	if (__atomic_load_n(&w->handover, __ATOMIC_ACQUIRE)) {
		/* Upgrade: what arrives now waits in the kernel's queue for the
		 * next image; every packet we received has its verdict. */
		rcu_unregister_thread();
		return NULL;
	}
	r = nfqct_queue_stop_intake(w->q);
	if (r < 0)
		log_warnx("queue %u: cannot stop intake: %s", w->cfg.queue_num, strerror(-r));
	drain(w);
	rcu_unregister_thread();
	return NULL;
}

int nfqct_worker_start(struct nfqct_worker *w)
{
	int ret;

	pthread_once(&wake_once, wake_install);
	if (wake_err)
		return -wake_err;
	__atomic_store_n(&w->handover, false, __ATOMIC_RELEASE);
	ret = pthread_create(&w->thread, NULL, worker_main, w);

	if (ret)
		return -ret;
	w->started = true;
	return 0;
}

void nfqct_worker_join(struct nfqct_worker *w)
{
	if (!w->started)
		return;
	for (;;) {
		struct timespec until;

		pthread_kill(w->thread, NFQCT_WORKER_WAKE_SIG);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += JOIN_WAKE_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(w->thread, NULL, &until) != ETIMEDOUT)
			break;
	}
	w->started = false;
}

void nfqct_worker_handover(struct nfqct_worker *w)
{
	__atomic_store_n(&w->handover, true, __ATOMIC_RELEASE);
}

int nfqct_worker_queue_fd(const struct nfqct_worker *w)
{
	return nfqct_queue_fd(w->q);
}

uint64_t nfqct_worker_last_verdict_us(const struct nfqct_worker *w)
{
	return w->last_verdict_us;
}

void nfqct_worker_destroy(struct nfqct_worker *w)
{
	const struct nfqct_queue_stats *q;
	int r;

	if (!w)
		return;
	q = &w->cfg.stats->q;
	r = nfqct_queue_close(w->q);
	if (r < 0)
		log_warnx("queue %u: unbind: %s", w->cfg.queue_num, strerror(-r));
	log_info("queue %u: received %" PRIu64 " packets, %" PRIu64 " bytes, accepted %" PRIu64
		 ", dropped %" PRIu64 ", enobufs %" PRIu64 ", rx errors %" PRIu64 ", tx errors %" PRIu64
		 ", %" PRIu64 " batches, %" PRIu64 " verdict messages, %" PRIu64 " fragments",
		 w->cfg.queue_num, q->rx_packets, q->rx_bytes, q->accepted, q->dropped, q->enobufs,
		 q->rx_errors, q->tx_errors, q->batches, q->verdict_msgs, q->fragments);
	free(w->pkts);
	free(w);
}
