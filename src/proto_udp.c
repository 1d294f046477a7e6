/*
 * proto_udp.c - the UDP and UDP-Lite trackers (Linux 6.x
 * nf_conntrack_proto_udp.c: nf_conntrack_udp_packet(),
 * nf_conntrack_udplite_packet()).
 *
 * No state machine: the timeout and [ASSURED] follow [SEEN_REPLY].  Both
 * allow clash resolution (allow_clash), as the kernel does, so that two
 * workers racing to insert the first packets of one flow (DNS over one
 * socket to two servers' worth of queries) both pass.
 */
#include <stddef.h>

#include "nfqct/l4proto.h"

/* "still active after two seconds? extend timeout" (udp_is_stream()) */
#define UDP_STREAM_MS	2000

/* The first packet starts the two-second clock of the stream rule. */
static bool udp_new(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
		    const struct nfqct_l4_ctx *ctx)
{
	(void)pkt;
	st->udp.stream_ms = ctx->now_ms + UDP_STREAM_MS;
	return true;
}

/*
 * 6.x: replied traffic gets the stream timeout and ASSURED only once the
 * flow is older than two seconds; before that, replied or not, the
 * unreplied timeout.
 */
static void udp_packet(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
		       const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res)
{
	(void)pkt;
	*res = (struct nfqct_l4_result){ .verdict = NFQCT_L4_ACCEPT };
	res->timeout_s = ctx->s->timeout[NFQCT_TO_UDP];
	if (ctx->seen_reply && ctx->now_ms > st->udp.stream_ms) {
		res->timeout_s = ctx->s->timeout[NFQCT_TO_UDP_STREAM];
		res->set_assured = true;
	}
}

/*
 * The UDP-Lite tracker has no two-second rule: replied is a stream.
 * udplite_error(): a zero checksum is INVALID (UDP-Lite mandates one); a
 * coverage below 8 or past the datagram was refused by the parser.
 */
static void udplite_packet(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
			   const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res)
{
	(void)st;
	if (pkt->l4caplen >= 8 && pkt->l4[6] == 0 && pkt->l4[7] == 0) {
		*res = (struct nfqct_l4_result){ .verdict = NFQCT_L4_INVALID,
						 .reason = "UDP-Lite: checksum missing" };
		return;
	}
	*res = (struct nfqct_l4_result){ .verdict = NFQCT_L4_ACCEPT };
	res->timeout_s = ctx->s->timeout[ctx->seen_reply ? NFQCT_TO_UDP_STREAM : NFQCT_TO_UDP];
	res->set_assured = ctx->seen_reply;
}

const struct nfqct_l4proto nfqct_l4proto_udp = {
	.l4proto	= IPPROTO_UDP,
	.allow_clash	= true,
	.new		= udp_new,
	.packet		= udp_packet,
};

const struct nfqct_l4proto nfqct_l4proto_udplite = {
	.l4proto	= IPPROTO_UDPLITE,
	.allow_clash	= true,
	.packet		= udplite_packet,
};
