/*
 * loopback.h - what a looped-back packet had at OUTPUT.
 *
 * A packet the box sends to itself leaves by OUTPUT on lo and comes back
 * in by PREROUTING/INPUT on lo as the same skb, with its conntrack still
 * attached: the kernel's nf_conntrack_in() finds it "previously seen
 * (loopback)" and returns at once, so the filter table at INPUT sees the
 * ct state the packet had at OUTPUT and nothing is tracked or counted
 * twice.  NFQUEUE hands nfqctd the two passes as two unrelated packets;
 * this memory joins them: the pipeline remembers what it gave a packet
 * leaving on lo and recalls it when the same bytes come back in on lo.
 *
 * One memory is shared by every worker (the two passes may be queued to
 * different queues): a fixed array of slots indexed by a digest of the
 * packet's bytes, one spinlock byte per slot, no allocation after create.
 * A slot is forgotten when it is recalled, when its lifetime ends, or
 * when a newer packet takes it (then the returning packet is tracked anew,
 * as it would be without this memory).
 */
#ifndef NFQCT_LOOPBACK_H
#define NFQCT_LOOPBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqct/pkt.h"

/* The loopback device's interface index: 1 in every network namespace
 * (LOOPBACK_IFINDEX in the kernel). */
#define NFQCT_LOOPBACK_IFINDEX 1

/* Slots of the daemon's memory: packets in flight on lo at once (64 bytes each). */
#define NFQCT_LOOPBACK_SLOTS 4096

/* How long a remembered packet waits for its return, ms. */
#define NFQCT_LOOPBACK_LIFETIME_MS 2000

struct nfqct_loopback;

/* What the packet had at OUTPUT. */
struct nfqct_loopback_seen {
	unsigned int ctstate;		/* one NFQCT_CTSTATE_* bit */
	bool has_entry;			/* orig/zone name its entry */
	bool reply;			/* the packet went in the entry's reply direction */
	uint16_t zone;
	struct nfqct_tuple orig;	/* the entry's original tuple */
};

/* nfqct_loopback_create - a memory of @slots packets (rounded up to a power
 * of two).  Returns NULL with errno set. */
struct nfqct_loopback *nfqct_loopback_create(unsigned int slots);

void nfqct_loopback_destroy(struct nfqct_loopback *lb);

/*
 * nfqct_loopback_remember - @pkt (parsed, leaving on lo, accepted) had
 * @seen at @now_ms.  Any thread.
 */
void nfqct_loopback_remember(struct nfqct_loopback *lb, const struct nfqct_pkt *pkt,
			     const struct nfqct_loopback_seen *seen, uint64_t now_ms);

/*
 * nfqct_loopback_recall - @pkt (coming in on lo) is one remembered
 * before, byte for byte: fill @seen, forget it and return true.  False
 * when it is not (or no longer) known.  Any thread.
 */
bool nfqct_loopback_recall(struct nfqct_loopback *lb, const struct nfqct_pkt *pkt, uint64_t now_ms,
			   struct nfqct_loopback_seen *seen);

#endif
