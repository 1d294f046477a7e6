/*
 * pktlog.h - LOG lines: the workers hand copies of the logged packets to
 * one logging thread, which writes the kernel's line (logfmt.h).
 *
 * Each worker has its own bounded single-producer ring: putting an entry
 * is a copy of the packet's first bytes and the rule's options, no lock,
 * no allocation, no system call, and never a wait: when the ring is full
 * the line is lost and the caller counts it.  The thread sleeps a short
 * while when every ring is empty (no wake-up is sent from the packet
 * path), resolves interface names and addresses (off the packet path,
 * cached briefly), formats and writes: to stderr in the foreground, else
 * syslog at the rule's level with the daemon's facility (log.h).
 */
#ifndef NFQCT_PKTLOG_H
#define NFQCT_PKTLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqct/logfmt.h"
#include "nfqct/pkt.h"

/* Bytes of each packet kept for its line: enough for any header chain the
 * kernel prints (IP options, TCP options, an ICMP error's quoted header). */
#define NFQCT_PKTLOG_COPY	320
/* Entries per worker ring (a power of two). */
#define NFQCT_PKTLOG_RING	256
/* How long the thread sleeps when every ring is empty. */
#define NFQCT_PKTLOG_IDLE_MS	20

struct nfqct_pktlog;

/* nfqct_pktlog_create - rings for @nworkers workers.  NULL with errno on failure. */
struct nfqct_pktlog *nfqct_pktlog_create(unsigned int nworkers);

/* nfqct_pktlog_start - start the logging thread.  Returns 0 or -errno. */
int nfqct_pktlog_start(struct nfqct_pktlog *pl);

/* nfqct_pktlog_stop - write what the rings hold, then end the thread and
 * join it.  Call after the workers have stopped. */
void nfqct_pktlog_stop(struct nfqct_pktlog *pl);

void nfqct_pktlog_destroy(struct nfqct_pktlog *pl);

/*
 * nfqct_pktlog_put - queue one line: @pkt as LOG rule @spec saw it, with
 * the mark @mark it had then; @raw: the raw table's rule (the kernel's raw
 * PREROUTING has no output interface).  Only worker @worker calls this for
 * its ring.  Copies everything it needs (the ruleset may go afterwards).
 * Returns false when the ring is full: the line is lost.
 */
bool nfqct_pktlog_put(struct nfqct_pktlog *pl, unsigned int worker, const struct nfqct_pkt *pkt,
		      const struct nfqct_log_spec *spec, uint32_t mark, bool raw);

/* nfqct_pktlog_lines - lines written so far (the thread's count; any thread may read). */
uint64_t nfqct_pktlog_lines(const struct nfqct_pktlog *pl);

#endif
