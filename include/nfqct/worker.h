/*
 * worker.h - one thread per queue: receive a batch, judge each packet
 * (parse, raw table, conntrack, filter table, confirm), answer in order.
 *
 * Threads: the worker registers itself with liburcu QSBR, announces a
 * quiescent state after every batch and goes offline while it sleeps in
 * the queue's receive, so grace periods never wait for an idle queue.  It
 * unblocks one signal (worker.c: NFQCT_WORKER_WAKE_SIG), which
 * nfqct_worker_join() sends to interrupt that sleep.
 *
 * Lifecycle: nfqct_worker_create() opens and configures the queue (so
 * that errors are reported before anything starts), nfqct_worker_start()
 * runs the thread, writing to the shared stop eventfd asks every worker to
 * stop: each one then drains what the kernel has already delivered,
 * answers it, and returns; nfqct_worker_join() waits for that, and
 * nfqct_worker_destroy() unbinds the queue and frees.
 *
 * Upgrade (nfqctd(8) UPGRADES): nfqct_worker_handover() before the stop
 * makes the worker return at the next batch boundary instead, with every
 * packet it received answered, the kernel's queue length untouched and no
 * drain, so what arrives next waits in the kernel's queue for the next
 * image; cfg.adopt_fd makes a worker take over such a queue's socket.
 */
#ifndef NFQCT_WORKER_H
#define NFQCT_WORKER_H

#include <stdint.h>

#include "nfqct/ct.h"
#include "nfqct/loopback.h"
#include "nfqct/pktlog.h"
#include "nfqct/rules.h"
#include "nfqct/settings.h"
#include "nfqct/stats.h"

struct nfqct_worker;

struct nfqct_worker_config {
	unsigned int index;			/* 0..n-1: counters and rule counter slot */
	uint16_t queue_num;
	struct nfqct_settings **settings;	/* RCU-published; read with rcu_dereference()
						 * once per batch (queue parameters: at create) */
	struct nfqct_ct *ct;			/* the table, shared by all workers */
	struct nfqct_loopback *lo;		/* loopback memory, shared by all workers */
	struct nfqct_ruleset **ruleset;		/* RCU-published; read with rcu_dereference() */
	struct nfqct_worker_stats *stats;	/* this worker's block (written only by it) */
	int stop_fd;				/* eventfd: readable once the daemon stops */
	int adopt_fd;				/* >= 0: the queue's bound socket, handed
						 * over by the previous image (no bind) */
	struct nfqct_pktlog *pktlog;		/* LOG lines go to its ring @index, or NULL */
	struct nfqct_offload *offload;		/* FLOWOFFLOAD requests go to its ring @index,
						 * or NULL (offload.h) */
	uint64_t prev_last_us;			/* with adopt_fd: the previous image's last
						 * verdict (nfqct_worker_now_us()), 0 unknown;
						 * the first verdict logs the gap */
};

/* nfqct_worker_create - open queue cfg->queue_num with the settings in force.
 * RCU reader (reads *cfg->settings).  Returns NULL with a message in @err. */
struct nfqct_worker *nfqct_worker_create(const struct nfqct_worker_config *cfg, char *err, size_t errlen);

/* nfqct_worker_start - start the thread (again after a join: a handover
 * that did not happen).  Returns 0 or -errno. */
int nfqct_worker_start(struct nfqct_worker *w);

/* nfqct_worker_join - wait for the thread to finish (after the stop eventfd
 * fired), waking it with its signal every few milliseconds until it does. */
void nfqct_worker_join(struct nfqct_worker *w);

/* nfqct_worker_handover - the next stop is an upgrade's: no intake stop, no
 * drain (see above).  Call before writing the stop eventfd; a later
 * nfqct_worker_start() clears it. */
void nfqct_worker_handover(struct nfqct_worker *w);

/* nfqct_worker_queue_fd - the queue's socket (to hand over). */
int nfqct_worker_queue_fd(const struct nfqct_worker *w);

/* nfqct_worker_last_verdict_us - when the worker last sent verdicts
 * (nfqct_worker_now_us()), 0 never.  After the join, or racy. */
uint64_t nfqct_worker_last_verdict_us(const struct nfqct_worker *w);

/* nfqct_worker_now_us - CLOCK_MONOTONIC in microseconds (survives execve). */
uint64_t nfqct_worker_now_us(void);

/* nfqct_worker_destroy - close the queue and free; logs the worker's totals. */
void nfqct_worker_destroy(struct nfqct_worker *w);

#endif
