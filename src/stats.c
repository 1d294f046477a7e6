/*
 * stats.c - adding up counter blocks.
 */
#include "nfqct/stats.h"

void nfqct_ct_stats_add(struct nfqct_ct_stats *dst, const struct nfqct_ct_stats *src)
{
	dst->clashres += NFQCT_STAT_READ(src->clashres);
	dst->found += NFQCT_STAT_READ(src->found);
	dst->new += NFQCT_STAT_READ(src->new);
	dst->invalid += NFQCT_STAT_READ(src->invalid);
	dst->ignore += NFQCT_STAT_READ(src->ignore);
	dst->delete += NFQCT_STAT_READ(src->delete);
	dst->chainlength += NFQCT_STAT_READ(src->chainlength);
	dst->insert += NFQCT_STAT_READ(src->insert);
	dst->insert_failed += NFQCT_STAT_READ(src->insert_failed);
	dst->drop += NFQCT_STAT_READ(src->drop);
	dst->early_drop += NFQCT_STAT_READ(src->early_drop);
	dst->icmp_error += NFQCT_STAT_READ(src->icmp_error);
	dst->expect_new += NFQCT_STAT_READ(src->expect_new);
	dst->expect_create += NFQCT_STAT_READ(src->expect_create);
	dst->expect_delete += NFQCT_STAT_READ(src->expect_delete);
	dst->search_restart += NFQCT_STAT_READ(src->search_restart);
	dst->searched += NFQCT_STAT_READ(src->searched);
}

void nfqct_queue_stats_add(struct nfqct_queue_stats *dst, const struct nfqct_queue_stats *src)
{
	dst->rx_packets += NFQCT_STAT_READ(src->rx_packets);
	dst->rx_bytes += NFQCT_STAT_READ(src->rx_bytes);
	dst->accepted += NFQCT_STAT_READ(src->accepted);
	dst->dropped += NFQCT_STAT_READ(src->dropped);
	dst->batches += NFQCT_STAT_READ(src->batches);
	dst->verdict_msgs += NFQCT_STAT_READ(src->verdict_msgs);
	dst->rx_errors += NFQCT_STAT_READ(src->rx_errors);
	dst->enobufs += NFQCT_STAT_READ(src->enobufs);
	dst->tx_errors += NFQCT_STAT_READ(src->tx_errors);
}
