/*
 * proto_generic.c - the generic tracker (Linux 6.x
 * nf_conntrack_proto_generic.c): every protocol without a tracker of its
 * own, by addresses and protocol number (SCTP and DCCP with their ports,
 * GRE with zero keys: the parser's tuple).  No state, one timeout.
 */
#include <stddef.h>

#include "nfqct/l4proto.h"

static void generic_packet(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
			   const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res)
{
	(void)st;
	(void)pkt;
	*res = (struct nfqct_l4_result){ .verdict = NFQCT_L4_ACCEPT };
	res->timeout_s = ctx->s->timeout[NFQCT_TO_GENERIC];
}

const struct nfqct_l4proto nfqct_l4proto_generic = {
	.l4proto	= 0,
	.packet		= generic_packet,
};
