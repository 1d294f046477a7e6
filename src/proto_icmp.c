/*
 * proto_icmp.c - the ICMP and ICMPv6 trackers (Linux 6.x
 * nf_conntrack_proto_icmp.c and nf_conntrack_proto_icmpv6.c).
 *
 * Query/reply pairs (echo, timestamp, ...) are tracked by id, type and
 * code; the reply type comes from nfqct_tuple_invert().  What happens
 * before any lookup is decided here too (classify): errors that quote a
 * packet are RELATED to its flow (the table looks it up), unknown ICMP
 * types are errors, ICMPv6 neighbour discovery and MLD are never tracked.
 */
#include <stddef.h>
#include <sys/socket.h>

#include "nfqct/l4proto.h"

/* The highest ICMP type the kernel knows (NR_ICMP_TYPES). */
#define ICMP_TYPE_MAX	18

/* nf_conntrack_icmpv4_error(), for IPv4 only as nf_conntrack_handle_icmp() */
static enum nfqct_l4_class icmp_classify(const struct nfqct_pkt *pkt)
{
	if (pkt->tuple.family != AF_INET)
		return NFQCT_L4_TRACK;
	if (pkt->flags & NFQCT_PKT_F_ICMP_ERROR)
		return NFQCT_L4_RELATED;
	if (pkt->tuple.dp.icmp.type > ICMP_TYPE_MAX)
		return NFQCT_L4_ERROR;	/* "invalid icmp type" */
	return NFQCT_L4_TRACK;
}

/* nf_conntrack_icmp_packet(): valid_new[] */
static bool icmp_new(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
		     const struct nfqct_l4_ctx *ctx)
{
	(void)st;
	(void)ctx;
	if (pkt->tuple.family != AF_INET)
		return false;
	switch (pkt->tuple.dp.icmp.type) {
	case 8:		/* echo */
	case 13:	/* timestamp */
	case 15:	/* information request */
	case 17:	/* address mask request */
		return true;
	default:
		return false;
	}
}

static void icmp_packet(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
			const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res)
{
	(void)st;
	(void)pkt;
	*res = (struct nfqct_l4_result){ .verdict = NFQCT_L4_ACCEPT };
	res->timeout_s = ctx->s->timeout[NFQCT_TO_ICMP];
}

/*
 * Never tracked (noct_valid_new[] of nf_conntrack_icmpv6_error()): MLD
 * 130-132 and 143, neighbour discovery 133-136, and since Linux 6.10
 * multicast router discovery advertisement 151 and solicitation 152
 * (RFC 4286; termination, 153, stays INVALID there too).  They go to
 * fixed multicast groups and get no reply to track.
 */
static bool icmp6_untracked(uint8_t type)
{
	return (type >= 130 && type <= 136) || type == 143 || type == 151 || type == 152;
}

/* nf_conntrack_icmpv6_error(), for IPv6 only */
static enum nfqct_l4_class icmp6_classify(const struct nfqct_pkt *pkt)
{
	if (pkt->tuple.family != AF_INET6)
		return NFQCT_L4_TRACK;
	if (icmp6_untracked(pkt->tuple.dp.icmp.type))
		return NFQCT_L4_UNTRACKED;
	if (pkt->flags & NFQCT_PKT_F_ICMP_ERROR)
		return NFQCT_L4_RELATED;
	return NFQCT_L4_TRACK;
}

/* nf_conntrack_icmpv6_packet(): valid_new[] */
static bool icmp6_new(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
		      const struct nfqct_l4_ctx *ctx)
{
	(void)st;
	(void)ctx;
	if (pkt->tuple.family != AF_INET6)
		return false;
	return pkt->tuple.dp.icmp.type == 128 ||	/* echo request */
	       pkt->tuple.dp.icmp.type == 139;		/* node information query */
}

static void icmp6_packet(union nfqct_l4_state *st, const struct nfqct_pkt *pkt,
			 const struct nfqct_l4_ctx *ctx, struct nfqct_l4_result *res)
{
	(void)st;
	(void)pkt;
	*res = (struct nfqct_l4_result){ .verdict = NFQCT_L4_ACCEPT };
	res->timeout_s = ctx->s->timeout[NFQCT_TO_ICMPV6];
}

const struct nfqct_l4proto nfqct_l4proto_icmp = {
	.l4proto	= IPPROTO_ICMP,
	.classify	= icmp_classify,
	.new		= icmp_new,
	.packet		= icmp_packet,
};

const struct nfqct_l4proto nfqct_l4proto_icmpv6 = {
	.l4proto	= IPPROTO_ICMPV6,
	.classify	= icmp6_classify,
	.new		= icmp6_new,
	.packet		= icmp6_packet,
};
