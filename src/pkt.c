/*
 * pkt.c - the packet parser and tuple helpers.
 *
 * The parser is the per-packet hot path: it reads through bounds-checked
 * offsets only (every read is preceded by a check against the bytes
 * present), never allocates and makes no system call.  Two lengths are
 * carried through each layer: "cap", the bytes present, and "len", the
 * length the headers above say the layer has.  A header that the real
 * packet does not hold is malformed; one that only the copy range cut
 * is truncated.  Both make the packet invalid.
 *
 * An ICMP error's quote is parsed with the same code in "quote" mode:
 * its stated lengths are not compared with what is present (the sender
 * cuts the quote), but the headers up to 8 bytes of the transport
 * header must be there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
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

/* ---- parser ---- */

#define IP6_HDRLEN	40
#define IP6_MAX_EXTHDRS	16	/* a longer chain is refused: bounds the walk */
#define QUOTE_MIN_L4	8	/* an ICMP error quotes at least this much of L4 */

/* IPv6 extension headers the walk understands (IPPROTO_* names vary by libc). */
enum {
	NH_HOPOPTS	= 0,
	NH_ROUTING	= 43,
	NH_FRAGMENT	= 44,
	NH_ESP		= 50,
	NH_AH		= 51,
	NH_NONE		= 59,
	NH_DSTOPTS	= 60,
};

/* Where one IP header (+ extension headers) ends and what follows. */
struct l3_info {
	uint32_t hdrlen;	/* IPv4 header with options, or IPv6 + extension headers */
	uint32_t l4len;		/* L4 length by the IP header */
	uint8_t flags;		/* F_FRAGMENT, F_LATER_FRAG */
};

/* In a quote every shortage is the quote's fault: one reason says so. */
#define TRUNC(quote, why)	((quote) ? "ICMP error quote truncated" : (why))

static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

/*
 * ICMP types the kernel treats as errors (icmp_is_err(): they quote the
 * packet that caused them) and ICMPv6's rule: every type below 128 is an
 * error message (nf_conntrack_icmpv6_error()).
 */
static bool icmp_is_error(uint8_t type)
{
	switch (type) {
	case 3:		/* destination unreachable */
	case 4:		/* source quench */
	case 5:		/* redirect */
	case 11:	/* time exceeded */
	case 12:	/* parameter problem */
		return true;
	default:
		return false;
	}
}

static bool icmp6_is_error(uint8_t type)
{
	return type < 128;
}

/*
 * parse_ip4 - the IPv4 header at p.  cap bytes are present; len is the
 * packet's real length (outer) or ignored (quote).  Fills addresses and
 * protocol of t and *l3.
 */
static int parse_ip4(const uint8_t *p, uint32_t cap, uint32_t len, bool gso, bool quote,
		     struct nfqct_tuple *t, struct l3_info *l3, const char **why)
{
	uint32_t ihl, tot_len;
	uint16_t frag;

	t->family = AF_INET;
	if (cap < 20) {
		*why = TRUNC(quote, "truncated IPv4 header");
		return -EINVAL;
	}
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	if (ihl < 20) {
		*why = "bad IHL";
		return -EINVAL;
	}
	tot_len = get16(p + 2);
	if (quote) {
		/* The sender cut the quote: only the stated length's sanity counts. */
		if (tot_len < ihl) {
			*why = "bad IPv4 total length";
			return -EINVAL;
		}
		len = cap;
	} else if (tot_len == 0 && gso) {
		/* A BIG TCP super-packet leaves tot_len 0: the skb length rules. */
	} else if (tot_len != len) {
		*why = "IPv4 total length mismatch";
		return -EINVAL;
	}
	if (!quote && ihl > len) {
		*why = "bad IPv4 total length";
		return -EINVAL;
	}
	if (ihl > cap) {
		*why = TRUNC(quote, "truncated IPv4 header");
		return -EINVAL;
	}

	memcpy(&t->src.ip, p + 12, 4);
	memcpy(&t->dst.ip, p + 16, 4);
	t->proto = p[9];

	frag = get16(p + 6);
	l3->flags = 0;
	if (frag & 0x3fff)			/* MF or an offset */
		l3->flags |= NFQCT_PKT_F_FRAGMENT;
	if (frag & 0x1fff)
		l3->flags |= NFQCT_PKT_F_LATER_FRAG;
	l3->hdrlen = ihl;
	l3->l4len = len - ihl;
	return 0;
}

/*
 * ip6_need - whether n bytes at off are inside the packet (len) and
 * present (cap).  Sets *why when not.
 */
static bool ip6_need(uint32_t off, uint32_t n, uint32_t cap, uint32_t len, bool quote,
		     const char **why)
{
	if (off + n > len) {
		*why = quote ? "ICMP error quote truncated" : "bad extension header length";
		return false;
	}
	if (off + n > cap) {
		*why = TRUNC(quote, "truncated extension header");
		return false;
	}
	return true;
}

/*
 * parse_ip6 - the IPv6 header at p and its extension-header chain, as
 * parse_ip4().  The chain ends at the first upper-layer protocol, at ESP
 * or "no next header" (their number is the tuple's protocol), or at a
 * non-first fragment (the fragment header's next header).
 */
static int parse_ip6(const uint8_t *p, uint32_t cap, uint32_t len, bool gso, bool quote,
		     struct nfqct_tuple *t, struct l3_info *l3, const char **why)
{
	uint32_t off = IP6_HDRLEN, plen, hlen;
	unsigned int count;
	uint8_t nh;

	t->family = AF_INET6;
	if (cap < IP6_HDRLEN) {
		*why = TRUNC(quote, "truncated IPv6 header");
		return -EINVAL;
	}
	plen = get16(p + 4);
	nh = p[6];
	if (quote) {
		len = cap;
	} else if (plen == 0 && (gso || nh == NH_HOPOPTS)) {
		/* GSO/BIG TCP super-packet or RFC 2675 jumbogram: the skb length rules. */
	} else if (plen + IP6_HDRLEN != len) {
		*why = "IPv6 payload length mismatch";
		return -EINVAL;
	}
	memcpy(t->src.b, p + 8, 16);
	memcpy(t->dst.b, p + 24, 16);
	l3->flags = 0;

	for (count = 0;; count++) {
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_FRAGMENT &&
		    nh != NH_DSTOPTS && nh != NH_AH)
			break;			/* upper layer, ESP or no next header */
		if (count == IP6_MAX_EXTHDRS) {
			*why = "too many extension headers";
			return -EINVAL;
		}
		if (nh == NH_HOPOPTS && count != 0) {
			*why = "misplaced hop-by-hop header";
			return -EINVAL;
		}
		if (!ip6_need(off, nh == NH_FRAGMENT ? 8 : 2, cap, len, quote, why))
			return -EINVAL;

		if (nh == NH_FRAGMENT) {
			uint16_t frag = get16(p + off + 2);

			if (frag & 0xfff9)	/* offset or M */
				l3->flags |= NFQCT_PKT_F_FRAGMENT;
			nh = p[off];
			off += 8;
			if (frag & 0xfff8) {
				/* Not the first fragment: what follows is data, not a header. */
				l3->flags |= NFQCT_PKT_F_LATER_FRAG;
				break;
			}
			continue;
		}
		if (nh == NH_AH)
			hlen = ((uint32_t)p[off + 1] + 2) * 4;
		else
			hlen = ((uint32_t)p[off + 1] + 1) * 8;
		if (!ip6_need(off, hlen, cap, len, quote, why))
			return -EINVAL;
		nh = p[off];
		off += hlen;
	}

	t->proto = nh;
	l3->hdrlen = off;
	l3->l4len = len - off;
	return 0;
}

/* How parse_l4() checks: a whole packet, a first fragment, or a quote. */
enum l4_mode {
	L4_FULL,
	L4_FRAGMENT,	/* the L4 length fields cover more than this fragment */
	L4_QUOTE,	/* only the first 8 bytes count: ports, or ICMP id/type/code */
};

/*
 * parse_l4 - the upper-layer header at l (cap bytes present, len by the
 * IP header) of a packet whose tuple already holds family and protocol.
 * Sets *icmp_error for ICMP/ICMPv6 errors (not allowed in a quote).
 */
static int parse_l4(const uint8_t *l, uint32_t cap, uint32_t len, enum l4_mode mode,
		    struct nfqct_tuple *t, bool *icmp_error, const char **why)
{
	bool quote = mode == L4_QUOTE;
	uint32_t n;

	*icmp_error = false;
	switch (t->proto) {
	case IPPROTO_TCP:
		if (cap < (quote ? QUOTE_MIN_L4 : 20)) {
			*why = TRUNC(quote, "truncated TCP header");
			return -EINVAL;
		}
		if (!quote) {
			n = (uint32_t)(l[12] >> 4) * 4;
			if (n < 20 || n > len) {
				*why = "bad TCP data offset";
				return -EINVAL;
			}
			if (n > cap) {
				*why = "truncated TCP header";
				return -EINVAL;
			}
		}
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		if (cap < 8) {
			*why = TRUNC(quote, t->proto == IPPROTO_UDP ? "truncated UDP header" :
							"truncated UDP-Lite header");
			return -EINVAL;
		}
		if (quote)
			break;
		n = get16(l + 4);
		if (t->proto == IPPROTO_UDP) {
			/* A fragment holds only part of the datagram the length covers. */
			if (n < 8 || (mode == L4_FULL && n > len)) {
				*why = "bad UDP length";
				return -EINVAL;
			}
		} else if (n != 0 && (n < 8 || (mode == L4_FULL && n > len))) {
			/* UDP-Lite: checksum coverage, 0 meaning the whole datagram. */
			*why = "bad UDP-Lite checksum coverage";
			return -EINVAL;
		}
		break;
	case IPPROTO_SCTP:
		if (cap < (quote ? QUOTE_MIN_L4 : 12)) {
			*why = TRUNC(quote, "truncated SCTP header");
			return -EINVAL;
		}
		break;
	case IPPROTO_DCCP:
		if (cap < (quote ? QUOTE_MIN_L4 : 12)) {
			*why = TRUNC(quote, "truncated DCCP header");
			return -EINVAL;
		}
		if (!quote) {
			n = (uint32_t)l[4] * 4;
			if (n < 12 || n > len) {
				*why = "bad DCCP data offset";
				return -EINVAL;
			}
			if (n > cap) {
				*why = "truncated DCCP header";
				return -EINVAL;
			}
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* ICMP inside IPv6 (or ICMPv6 inside IPv4) is nobody's control
		 * protocol: the kernel does not treat it as such either. */
		if ((t->proto == IPPROTO_ICMP) != (t->family == AF_INET))
			goto generic;
		if (cap < 8) {
			*why = TRUNC(quote, t->proto == IPPROTO_ICMP ? "truncated ICMP header" :
								"truncated ICMPv6 header");
			return -EINVAL;
		}
		t->dp.icmp.type = l[0];
		t->dp.icmp.code = l[1];
		if (t->proto == IPPROTO_ICMP ? icmp_is_error(l[0]) : icmp6_is_error(l[0])) {
			if (quote) {
				/* Nobody answers an error with an error. */
				*why = "nested ICMP error";
				return -EINVAL;
			}
			*icmp_error = true;
			return 0;
		}
		memcpy(&t->sp.icmp_id, l + 4, 2);
		return 0;
	default:
	generic:
		if (quote && cap < QUOTE_MIN_L4) {
			*why = "ICMP error quote truncated";
			return -EINVAL;
		}
		return 0;
	}

	memcpy(&t->sp.port, l, 2);
	memcpy(&t->dp.port, l + 2, 2);
	return 0;
}

/*
 * parse_quote - the packet an ICMP error quotes (after its 8-byte
 * header): cap bytes at q, same family as the error itself.
 */
static int parse_quote(const uint8_t *q, uint32_t cap, uint8_t family,
		       struct nfqct_tuple *inner, const char **why)
{
	struct l3_info l3;
	bool nested;
	int ret;

	if (cap < 1) {
		*why = "ICMP error quote truncated";
		return -EINVAL;
	}
	if ((q[0] >> 4) != (family == AF_INET ? 4 : 6)) {
		*why = "ICMP error quote family mismatch";
		return -EINVAL;
	}
	if (family == AF_INET)
		ret = parse_ip4(q, cap, cap, false, true, inner, &l3, why);
	else
		ret = parse_ip6(q, cap, cap, false, true, inner, &l3, why);
	if (ret < 0)
		return ret;
	if (l3.flags & NFQCT_PKT_F_LATER_FRAG) {
		/* No ports to match a flow with (the kernel gives up on these too). */
		*why = "ICMP error quotes a later fragment";
		return -EINVAL;
	}
	return parse_l4(q + l3.hdrlen, cap - l3.hdrlen, cap - l3.hdrlen, L4_QUOTE, inner,
			&nested, why);
}

int nfqct_pkt_parse(struct nfqct_pkt *pkt)
{
	struct l3_info l3;
	bool gso = pkt->flags & NFQCT_PKT_F_GSO;
	bool icmp_error;
	const char *why = NULL;
	uint8_t version;
	int ret;

	memset(&pkt->tuple, 0, sizeof(pkt->tuple));
	memset(&pkt->inner, 0, sizeof(pkt->inner));
	pkt->l4 = NULL;
	pkt->l4caplen = 0;
	pkt->l4len = 0;
	pkt->l3hdrlen = 0;
	pkt->invalid_reason = NULL;
	pkt->flags &= NFQCT_PKT_F_FROM_QUEUE;

	if (pkt->caplen == 0) {
		why = "empty packet";
		goto err_invalid;
	}
	if (pkt->caplen > pkt->len) {
		why = "captured length exceeds packet length";
		goto err_invalid;
	}

	version = pkt->data[0] >> 4;
	if (version == 4) {
		pkt->tuple.family = AF_INET;
		if (pkt->hw_protocol != 0 && pkt->hw_protocol != ETHERTYPE_IP) {
			why = "IP version does not match hardware protocol";
			goto err_invalid;
		}
		ret = parse_ip4(pkt->data, pkt->caplen, pkt->len, gso, false, &pkt->tuple, &l3, &why);
	} else if (version == 6) {
		pkt->tuple.family = AF_INET6;
		if (pkt->hw_protocol != 0 && pkt->hw_protocol != ETHERTYPE_IPV6) {
			why = "IP version does not match hardware protocol";
			goto err_invalid;
		}
		ret = parse_ip6(pkt->data, pkt->caplen, pkt->len, gso, false, &pkt->tuple, &l3, &why);
	} else {
		why = "bad IP version";
		goto err_invalid;
	}
	if (ret < 0)
		goto err_invalid;

	pkt->flags |= l3.flags;
	pkt->l3hdrlen = (uint16_t)l3.hdrlen;	/* at most 40 + 16 * 2048 */
	if (l3.flags & NFQCT_PKT_F_LATER_FRAG)
		return 0;	/* addresses and protocol only; no L4 to look at */

	pkt->l4 = pkt->data + l3.hdrlen;
	pkt->l4caplen = pkt->caplen - l3.hdrlen;
	pkt->l4len = l3.l4len;
	ret = parse_l4(pkt->l4, pkt->l4caplen, pkt->l4len,
		       (l3.flags & NFQCT_PKT_F_FRAGMENT) ? L4_FRAGMENT : L4_FULL,
		       &pkt->tuple, &icmp_error, &why);
	if (ret < 0)
		goto err_invalid;
	if (icmp_error) {
		pkt->flags |= NFQCT_PKT_F_ICMP_ERROR;
		ret = parse_quote(pkt->l4 + 8, pkt->l4caplen - 8, pkt->tuple.family,
				  &pkt->inner, &why);
		if (ret < 0)
			goto err_invalid;
	}
	return 0;

err_invalid:
	/* The caller decides the verdict (an INVALID packet meets the ruleset). */
	pkt->invalid_reason = why;
	return -EINVAL;
}

int nfqct_pkt_family(const struct nfqct_pkt *pkt)
{
	if (pkt->tuple.family)
		return pkt->tuple.family;
	if (pkt->caplen && pkt->data[0] >> 4 == 6)
		return AF_INET6;
	return AF_INET;
}
