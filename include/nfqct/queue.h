/*
 * queue.h - one NFQUEUE queue: its netlink socket, batched receive, and
 * in-order batched verdicts, over libmnl and libnetfilter_queue's
 * libmnl-based API.
 *
 * A struct nfqct_queue belongs to one thread (its worker) once opened.
 * Receiving fills an array of struct nfqct_pkt in arrival order; the
 * caller gives each a verdict with nfqct_queue_verdict() in that same
 * order and calls nfqct_queue_flush() at the end of the batch: runs of
 * consecutive packets with the same verdict and mark go out as one
 * NFQNL_MSG_VERDICT_BATCH message (the kernel applies it to every queued
 * id up to the run's last), and all messages of a batch in one sendmsg.
 */
#ifndef NFQCT_QUEUE_H
#define NFQCT_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/pkt.h"
#include "nfqct/settings.h"
#include "nfqct/stats.h"

struct nfqct_queue;

/*
 * nfqct_queue_open - open a socket, bind queue @num and configure it from
 * @s (copy mode packet with s->copy_range, s->queue_maxlen, GSO and
 * fail-open in one NFQA_CFG_FLAGS attribute with its mask, s->rcvbuf),
 * checking the kernel's acknowledgement of each step.  Counters go to
 * @st (owned by the worker).  Returns NULL with errno set and a message
 * in @err (e.g. "queue 3: bind: Device or resource busy (another program
 * has the queue)").
 */
struct nfqct_queue *nfqct_queue_open(uint16_t num, const struct nfqct_settings *s,
				     struct nfqct_queue_stats *st, char *err, size_t errlen);

/*
 * nfqct_queue_adopt - take over @fd, a netlink socket already bound to
 * queue @num and configured (by the image this process replaced with
 * execve(), see nfqctd(8) UPGRADES): buffers from @s (batch, copy_range),
 * no message to the kernel, so the queue and the packets waiting in it
 * stay as they are; the queue parameters of @s are not applied.  Sets
 * close-on-exec on @fd, which belongs to the queue from then on (closed
 * by nfqct_queue_close()).  Returns NULL with errno set and a message in
 * @err; @fd then stays open, the caller's.
 */
struct nfqct_queue *nfqct_queue_adopt(int fd, uint16_t num, const struct nfqct_settings *s,
				      struct nfqct_queue_stats *st, char *err, size_t errlen);

/* nfqct_queue_close - unbind and free.  Packets still queued in the kernel are
 * dropped by it, so drain first (see nfqct_queue_recv with wait false).
 * Returns 0, or -errno when the unbind could not be sent (freed anyway). */
int nfqct_queue_close(struct nfqct_queue *q);

/*
 * nfqct_queue_take_error - the first problem noted since the last call
 * (a receive buffer the kernel would not grow, an unusable or truncated
 * message, a verdict the kernel refused, a failed send: each also counted
 * in the queue's counters), or NULL; *@count says how many there were.
 * The module logs nothing: its owner says these at its own rate.  The
 * string is valid until the next call on @q.
 */
const char *nfqct_queue_take_error(struct nfqct_queue *q, unsigned int *count);

/*
 * nfqct_queue_stop_intake - the first step of stopping: set the kernel's
 * queue length to 0, so that no new packet enters the queue; from then on
 * the kernel applies its queue-full policy (drop, counted in its
 * queue_dropped, or accept with fail-open) instead of queueing packets that
 * closing the socket would drop silently.  Then drain, then close.
 * Returns 0 or -errno.
 */
int nfqct_queue_stop_intake(struct nfqct_queue *q);

/* nfqct_queue_fd - the socket, for poll(). */
int nfqct_queue_fd(const struct nfqct_queue *q);

/*
 * nfqct_queue_recv - receive up to @max packets with one recvmmsg() call
 * (waiting for the first one when @wait; never when not), and fill
 * pkts[0..n) in arrival order: NFQUEUE fields set, data pointing into the
 * queue's buffers (valid until the next call), parse fields untouched.
 * Returns n >= 0 (0: nothing there), or -errno for a receive error: ENOBUFS
 * (the kernel dropped messages for us; counted), EINTR / EAGAIN, others
 * counted as rx_errors.  Messages that are not packets, or packets without
 * a usable header, are counted in rx_errors and skipped: without an id they
 * cannot be answered singly; the next batch verdict covers them (see above).
 */
int nfqct_queue_recv(struct nfqct_queue *q, struct nfqct_pkt *pkts, unsigned int max, bool wait);

/* nfqct_queue_verdict - the verdict for the next packet, in arrival order.
 * @accept true gives NF_ACCEPT, false NF_DROP; @set_mark sends @mark with it. */
void nfqct_queue_verdict(struct nfqct_queue *q, const struct nfqct_pkt *pkt, bool accept,
			 bool set_mark, uint32_t mark);

/* nfqct_queue_verdict_nf - the same with any netfilter verdict: NF_ACCEPT,
 * NF_DROP or NF_REPEAT (the hook function runs the packet again: counted
 * in `rejected`, see reject.h). */
void nfqct_queue_verdict_nf(struct nfqct_queue *q, const struct nfqct_pkt *pkt, unsigned int verdict,
			    bool set_mark, uint32_t mark);

/* nfqct_queue_flush - send the verdicts collected since the last flush.
 * Returns 0 or -errno (counted as tx_errors; the kernel keeps the packets queued). */
int nfqct_queue_flush(struct nfqct_queue *q);

#endif
