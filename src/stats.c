/*
 * stats.c - adding up counter blocks.
 *
 * Both blocks are plain arrays of uint64_t counters (stats.h), so they add
 * up word by word; a counter added to a block needs no change here.
 */
#include <stddef.h>

#include "nfqct/stats.h"

_Static_assert(sizeof(struct nfqct_ct_stats) % sizeof(uint64_t) == 0, "ct stats: u64 words only");
_Static_assert(sizeof(struct nfqct_queue_stats) % sizeof(uint64_t) == 0, "queue stats: u64 words only");

static void add_words(uint64_t *dst, const uint64_t *src, size_t first, size_t n)
{
	for (size_t i = first; i < n; i++)
		dst[i] += NFQCT_STAT_READ(src[i]);
}

void nfqct_ct_stats_add(struct nfqct_ct_stats *dst, const struct nfqct_ct_stats *src)
{
	add_words((uint64_t *)dst, (const uint64_t *)src, 0, sizeof(*dst) / sizeof(uint64_t));
}

void nfqct_queue_stats_add(struct nfqct_queue_stats *dst, const struct nfqct_queue_stats *src)
{
	/* the first word is the queue number: not a counter */
	_Static_assert(offsetof(struct nfqct_queue_stats, queue) == 0, "queue number first");
	add_words((uint64_t *)dst, (const uint64_t *)src, 1, sizeof(*dst) / sizeof(uint64_t));
}
