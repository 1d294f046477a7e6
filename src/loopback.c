/*
 * loopback.c - the OUTPUT -> lo -> INPUT memory (loopback.h).
 *
 * A slot holds a 64-bit digest of the packet (its length and its first
 * LB_DIGEST_BYTES bytes: the IP header with its ID and the L4 header with
 * its sequence numbers tell packets apart), the tuple, and what the
 * packet had.  A recall checks the digest, the length and the tuple, so a
 * digest collision at worst mixes up two identical-looking packets of the
 * same flow in the same second.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/arch.h>

#include "nfqct/loopback.h"

#define LB_DIGEST_BYTES 96

struct lb_slot {
	uint8_t lock;			/* test-and-set spinlock */
	bool used;
	uint32_t len;
	uint64_t digest;
	uint64_t expires_ms;
	struct nfqct_tuple tuple;	/* the packet's own tuple */
	struct nfqct_loopback_seen seen;
};

struct nfqct_loopback {
	unsigned int mask;
	struct lb_slot *slots;
};

/* FNV-1a: the bytes are the box's own packets, not chosen to collide. */
static uint64_t digest(const struct nfqct_pkt *pkt)
{
	uint32_t n = pkt->caplen < LB_DIGEST_BYTES ? pkt->caplen : LB_DIGEST_BYTES;
	uint64_t h = 0xcbf29ce484222325ULL ^ pkt->len;

	for (uint32_t i = 0; i < n; i++) {
		h ^= pkt->data[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void slot_lock(struct lb_slot *s)
{
	while (__atomic_test_and_set(&s->lock, __ATOMIC_ACQUIRE))
		caa_cpu_relax();
}

static void slot_unlock(struct lb_slot *s)
{
	__atomic_clear(&s->lock, __ATOMIC_RELEASE);
}

struct nfqct_loopback *nfqct_loopback_create(unsigned int slots)
{
	struct nfqct_loopback *lb = calloc(1, sizeof(*lb));
	unsigned int n = 1;

	if (!lb)
		return NULL;
	while (n < slots && n < (1u << 20))
		n <<= 1;
	lb->slots = calloc(n, sizeof(*lb->slots));
	if (!lb->slots) {
		free(lb);
		errno = ENOMEM;
		return NULL;
	}
	lb->mask = n - 1;
	return lb;
}

void nfqct_loopback_destroy(struct nfqct_loopback *lb)
{
	if (!lb)
		return;
	free(lb->slots);
	free(lb);
}

void nfqct_loopback_remember(struct nfqct_loopback *lb, const struct nfqct_pkt *pkt,
			     const struct nfqct_loopback_seen *seen, uint64_t now_ms)
{
	uint64_t d = digest(pkt);
	struct lb_slot *s = &lb->slots[d & lb->mask];

	slot_lock(s);
	s->used = true;
	s->digest = d;
	s->len = pkt->len;
	s->expires_ms = now_ms + NFQCT_LOOPBACK_LIFETIME_MS;
	s->tuple = pkt->tuple;
	s->seen = *seen;
	slot_unlock(s);
}

bool nfqct_loopback_recall(struct nfqct_loopback *lb, const struct nfqct_pkt *pkt, uint64_t now_ms,
			   struct nfqct_loopback_seen *seen)
{
	uint64_t d = digest(pkt);
	struct lb_slot *s = &lb->slots[d & lb->mask];
	bool hit;

	slot_lock(s);
	hit = s->used && s->digest == d && s->len == pkt->len && s->expires_ms > now_ms &&
	      memcmp(&s->tuple, &pkt->tuple, sizeof(s->tuple)) == 0;
	if (hit) {
		*seen = s->seen;
		s->used = false;
	}
	slot_unlock(s);
	return hit;
}
