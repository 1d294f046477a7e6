/*
 * worker.c - the per-queue packet loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "nfqct/log.h"
#include "nfqct/pkt.h"
#include "nfqct/queue.h"
#include "nfqct/worker.h"

/* After a stop request (and nfqct_queue_stop_intake), how long we keep
 * answering what the kernel had already queued. */
#define DRAIN_IDLE_MS	20	/* stop once the queue has been quiet this long */
#define DRAIN_MAX_MS	1000	/* and in any case after this long */

struct nfqct_worker {
	struct nfqct_worker_config cfg;
	struct nfqct_queue *q;
	struct nfqct_pkt *pkts;
	unsigned int batch;
	pthread_t thread;
	bool started;
	struct log_ratelimit rl_invalid;
};

struct nfqct_worker *nfqct_worker_create(const struct nfqct_worker_config *cfg, char *err, size_t errlen)
{
	struct nfqct_worker *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "queue %u: out of memory", cfg->queue_num);
		return NULL;
	}
	w->cfg = *cfg;
	w->batch = cfg->settings->batch;
	w->rl_invalid = (struct log_ratelimit)LOG_RATELIMIT_INIT(5000, 1);
	w->pkts = calloc(w->batch, sizeof(*w->pkts));
	if (!w->pkts) {
		snprintf(err, errlen, "queue %u: out of memory", cfg->queue_num);
		goto err_free;
	}
	w->q = nfqct_queue_open(cfg->queue_num, cfg->settings, &cfg->stats->q, err, errlen);
	if (!w->q)
		goto err_free;
	return w;

err_free:
	free(w->pkts);
	free(w);
	return NULL;
}

/*
 * Judge one packet and queue its verdict: the pipeline of DESIGN.md 1.
 * RCU: called online; @rs (read once per batch, so a batch sees one
 * ruleset) and any entry stay valid until the quiescent state after the batch.
 */
static void judge(struct nfqct_worker *w, const struct nfqct_ruleset *rs, struct nfqct_pkt *pkt,
		  uint64_t now_ms)
{
	struct nfqct_ct_stats *st = &w->cfg.stats->ct;
	struct nfqct_ct_result res = { .ctstate = NFQCT_CTSTATE_INVALID };
	struct nfqct_raw_verdict raw = { .notrack = false };
	struct nfqct_filter_verdict fv;
	bool mark_changed;
	uint32_t suppressed;

	if (nfqct_pkt_parse(pkt) < 0) {
		/* Not trackable: counted invalid, and judged by the filter table as
		 * ct state INVALID (the operator's INVALID rule decides). */
		NFQCT_STAT_INC(st->invalid);
		if (log_ratelimit_ok(&w->rl_invalid, now_ms, &suppressed))
			log_debug("queue %u: invalid packet: %s (%u more suppressed)",
				  w->cfg.queue_num, pkt->invalid_reason, suppressed);
	} else {
		nfqct_ruleset_raw(rs, w->cfg.index, pkt, &raw);
		if (raw.drop) {
			/* A raw DROP: dropped before conntrack sees it, as in the kernel. */
			nfqct_queue_verdict(w->q, pkt, false, false, 0);
			return;
		}
		if (raw.set_mark)
			pkt->mark = raw.mark;
		if (raw.notrack) {
			NFQCT_STAT_INC(st->ignore);
			res.ctstate = NFQCT_CTSTATE_UNTRACKED;
		} else {
			nfqct_ct_in(w->cfg.ct, st, pkt, raw.zone, now_ms, &res);
		}
	}
	if (res.drop) {
		/* The table is full and nothing could be evicted: drop, as the kernel
		 * does (counted `drop` and logged by the table). */
		nfqct_queue_verdict(w->q, pkt, false, false, 0);
		return;
	}
	nfqct_ruleset_filter(rs, w->cfg.index, pkt, res.ctstate, &fv);
	/* A new entry enters the table only when its packet is accepted; a
	 * failed insert drops the packet (insert_failed), as the kernel's confirm. */
	if (!nfqct_ct_confirm(w->cfg.ct, st, &res, fv.accept, now_ms))
		fv.accept = false;
	mark_changed = raw.set_mark || fv.set_mark;
	nfqct_queue_verdict(w->q, pkt, fv.accept, mark_changed, fv.set_mark ? fv.mark : pkt->mark);
}

/* Receive and answer one batch.  Returns packets handled, or -errno. */
static int run_batch(struct nfqct_worker *w)
{
	const struct nfqct_ruleset *rs;
	uint64_t now_ms;
	int n;

	n = nfqct_queue_recv(w->q, w->pkts, w->batch, false);
	if (n <= 0)
		return n;
	now_ms = nfqct_now_ms();	/* once per batch */
	rs = rcu_dereference(*w->cfg.ruleset);
	for (int i = 0; i < n; i++)
		judge(w, rs, &w->pkts[i], now_ms);
	/* A failed send is counted in tx_errors; the kernel keeps those packets
	 * queued, and the next batch verdict (ids up to its last) answers them. */
	nfqct_queue_flush(w->q);
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
		int n = run_batch(w);

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

	rcu_register_thread();
	while (!stopping) {
		int n = run_batch(w);

		if (n == 0 || n == -EAGAIN)
			wait_for_work(w, -1, &stopping);
		rcu_quiescent_state();
	}
	nfqct_queue_stop_intake(w->q);
	drain(w);
	rcu_unregister_thread();
	return NULL;
}

int nfqct_worker_start(struct nfqct_worker *w)
{
	int ret = pthread_create(&w->thread, NULL, worker_main, w);

	if (ret)
		return -ret;
	w->started = true;
	return 0;
}

void nfqct_worker_join(struct nfqct_worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
}

void nfqct_worker_destroy(struct nfqct_worker *w)
{
	const struct nfqct_queue_stats *q;

	if (!w)
		return;
	q = &w->cfg.stats->q;
	nfqct_queue_close(w->q);
	log_info("queue %u: received %" PRIu64 " packets, %" PRIu64 " bytes, accepted %" PRIu64
		 ", dropped %" PRIu64 ", enobufs %" PRIu64 ", rx errors %" PRIu64 ", tx errors %" PRIu64
		 ", %" PRIu64 " batches, %" PRIu64 " verdict messages",
		 w->cfg.queue_num, q->rx_packets, q->rx_bytes, q->accepted, q->dropped, q->enobufs,
		 q->rx_errors, q->tx_errors, q->batches, q->verdict_msgs);
	free(w->pkts);
	free(w);
}
