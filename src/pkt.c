/*
 * pkt.c - the packet parser and tuple helpers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/pkt.h"

/* ICMP and ICMPv6 query types that get a reply, and that reply's type
 * (the kernel's invmap[] in nf_conntrack_proto_icmp{,v6}.c).  0 means none;
 * ICMP type 0 (echo reply) is handled by the +1 offset. */
static const uint8_t icmp_reply_of[256] = {
	[8]  = 0 + 1,	/* echo -> echo reply */
	[0]  = 8 + 1,	/* echo reply -> echo */
	[13] = 14 + 1,	/* timestamp */
	[14] = 13 + 1,
	[15] = 16 + 1,	/* information request */
	[16] = 15 + 1,
	[17] = 18 + 1,	/* address mask */
	[18] = 17 + 1,
};

static const uint8_t icmp6_reply_of[256] = {
	[128] = 129 + 1,	/* echo request -> echo reply */
	[129] = 128 + 1,
	[139] = 140 + 1,	/* node information query */
	[140] = 139 + 1,
};

bool nfqct_tuple_invert(struct nfqct_tuple *reply, const struct nfqct_tuple *orig)
{
	*reply = *orig;
	reply->src = orig->dst;
	reply->dst = orig->src;

	switch (orig->proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		const uint8_t *map = orig->proto == IPPROTO_ICMP ? icmp_reply_of : icmp6_reply_of;
		uint8_t r = map[orig->dp.icmp.type];

		if (r == 0 || orig->family != (orig->proto == IPPROTO_ICMP ? AF_INET : AF_INET6))
			return false;
		reply->dp.icmp.type = (uint8_t)(r - 1);
		/* the id stays, the code stays */
		return true;
	}
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		reply->sp.port = orig->dp.port;
		reply->dp.port = orig->sp.port;
		return true;
	default:
		return true;
	}
}

const char *nfqct_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	case IPPROTO_UDPLITE:	return "udplite";
	case IPPROTO_SCTP:	return "sctp";
	case IPPROTO_DCCP:	return "dccp";
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_ICMPV6:	return "icmpv6";
	case IPPROTO_GRE:	return "gre";
	default:		return NULL;
	}
}

int nfqct_pkt_parse(struct nfqct_pkt *pkt)
{
	/* The parser lands with its own commit; until then nothing is parsed. */
	pkt->invalid_reason = "parser not built";
	return -EINVAL;
}
