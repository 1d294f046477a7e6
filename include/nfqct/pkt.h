/*
 * pkt.h - the packet parser: from the bytes NFQUEUE hands us to a tuple.
 *
 * The worker fills the "from the queue" part of struct nfqct_pkt from the
 * NFQUEUE message and calls nfqct_pkt_parse(), which reads the network
 * header at pkt->data and fills the rest.  The parser never reads past
 * pkt->caplen bytes and never allocates; a truncated or inconsistent packet
 * is reported as invalid with a static reason string.
 *
 * All multi-byte fields of the tuple are in network byte order, as on the
 * wire, so that hashing and comparing need no conversion.
 */
#ifndef NFQCT_PKT_H
#define NFQCT_PKT_H

#include <stdbool.h>
#include <stdint.h>

/* The hook a packet was queued from: the kernel's NF_INET_* numbers. */
enum nfqct_hook {
	NFQCT_HOOK_PREROUTING	= 0,
	NFQCT_HOOK_INPUT	= 1,
	NFQCT_HOOK_FORWARD	= 2,
	NFQCT_HOOK_OUTPUT	= 3,
	NFQCT_HOOK_POSTROUTING	= 4,
	NFQCT_HOOK_MAX		= 5,
};

/* An IPv4 address is in ip (the rest zero); an IPv6 one fills all 16 bytes. */
union nfqct_addr {
	uint32_t ip;
	uint32_t ip6[4];
	uint8_t  b[16];
};

/*
 * A conntrack tuple, as the kernel's nf_conntrack_tuple: addresses, the
 * protocol and its identifying numbers.  Unused parts are zero, so two
 * tuples compare with memcmp().
 *  - TCP, UDP, UDP-Lite, SCTP, DCCP: sp.port and dp.port;
 *  - ICMP/ICMPv6 echo and other query/reply types: sp.icmp_id, dp.icmp.type
 *    and dp.icmp.code;
 *  - ICMP/ICMPv6 errors: dp.icmp.type/code, sp.icmp_id zero (the error's
 *    own tuple; the flow it quotes is pkt->inner);
 *  - anything else (and non-first fragments): addresses and protocol only.
 */
struct nfqct_tuple {
	union nfqct_addr src;
	union nfqct_addr dst;
	union {
		uint16_t port;
		uint16_t icmp_id;
	} sp;
	union {
		uint16_t port;
		struct {
			uint8_t type;
			uint8_t code;
		} icmp;
	} dp;
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t proto;		/* IPPROTO_*: the upper-layer protocol */
};

enum nfqct_pkt_flags {
	NFQCT_PKT_F_FRAGMENT	= 1 << 0,	/* a fragment (first or not) */
	NFQCT_PKT_F_LATER_FRAG	= 1 << 1,	/* a non-first fragment: no L4 header */
	NFQCT_PKT_F_ICMP_ERROR	= 1 << 2,	/* ICMP/ICMPv6 error: pkt->inner is valid */
	NFQCT_PKT_F_GSO		= 1 << 3,	/* the kernel passed a GSO super-packet */
	NFQCT_PKT_F_CSUM_NOTVERIFIED = 1 << 4,	/* NFQA_SKB_CSUM_NOTVERIFIED: nobody checked
						 * the transport checksum yet (csum.h) */
	NFQCT_PKT_F_CSUM_NOTREADY = 1 << 5,	/* NFQA_SKB_CSUMNOTREADY: not computed yet
						 * (locally generated): never to be checked */
};

/* More of what the queue message says, set by the caller. */
enum nfqct_pkt_flags2 {
	NFQCT_PKT_F2_UIDGID	= 1 << 0,	/* NFQA_UID and NFQA_GID came: uid, gid valid */
};

/* The flags the caller sets from the NFQUEUE message; the parser keeps them. */
#define NFQCT_PKT_F_FROM_QUEUE \
	(NFQCT_PKT_F_GSO | NFQCT_PKT_F_CSUM_NOTVERIFIED | NFQCT_PKT_F_CSUM_NOTREADY)

struct nfqct_pkt {
	/* Filled by the caller, from the NFQUEUE message. */
	const uint8_t *data;	/* network header (first byte of IPv4/IPv6) */
	uint32_t caplen;	/* bytes present at data (the copy range may cut) */
	uint32_t len;		/* the packet's full length (skb->len): NFQA_CAP_LEN when
				 * the copy was cut, else caplen; what accounting counts */
	uint32_t id;		/* NFQUEUE packet id, host order */
	uint32_t mark;		/* skb mark, host order */
	uint32_t indev;		/* ifindex, 0 when none */
	uint32_t outdev;	/* ifindex, 0 when none */
	uint16_t hw_protocol;	/* from the packet header, host order (ETH_P_IP, ...) */
	uint8_t hook;		/* enum nfqct_hook */
	uint8_t flags;		/* enum nfqct_pkt_flags; the caller may set those of
				 * NFQCT_PKT_F_FROM_QUEUE */
	uint8_t flags2;		/* enum nfqct_pkt_flags2, the caller's; the parser keeps them */
	uint8_t hwaddr_len;	/* NFQA_HWADDR: bytes of hwaddr (6 for Ethernet), 0: none */
	uint8_t hwaddr[8];	/* the link-layer source address (-m mac) */
	uint32_t uid;		/* NFQA_UID / NFQA_GID of the sending socket (-m owner), */
	uint32_t gid;		/* valid with NFQCT_PKT_F2_UIDGID */

	/* Filled by nfqct_pkt_parse(). */
	struct nfqct_tuple tuple;
	struct nfqct_tuple inner;	/* ICMP errors: tuple of the quoted packet, as quoted
					 * (its src is the host that sent the quoted packet) */
	const uint8_t *l4;		/* upper-layer header, NULL for later fragments */
	uint32_t l4caplen;		/* bytes of it present at l4 */
	uint32_t l4len;			/* its length by the IP header (header + payload) */
	uint16_t l3hdrlen;		/* IPv4 header, or IPv6 header + extension headers */
	const char *invalid_reason;	/* static string when nfqct_pkt_parse() failed */
};

/*
 * nfqct_pkt_parse - parse pkt->data and fill the tuple and the offsets.
 *
 * Validates IPv4 (version, IHL, total length within caplen-or-len,
 * options skipped), IPv6 with its extension-header chain (hop-by-hop,
 * routing, fragment, destination options, AH; ESP and "no next header"
 * end the chain), then the upper layer: TCP (data offset), UDP, UDP-Lite,
 * SCTP and DCCP (ports), ICMP and ICMPv6 (with the quoted header of error
 * messages parsed into pkt->inner, at least addresses and ports, checked
 * like the outer one but allowed to be cut after the ports), anything else
 * by protocol number.
 *
 * Details the tracker relies on:
 *  - pkt->caplen must not exceed pkt->len; a non-zero hw_protocol must
 *    agree with the IP version (ETH_P_IP / ETH_P_IPV6);
 *  - IPv4 tot_len must equal len, IPv6 payload length + 40 likewise,
 *    except a zero field with F_GSO (or, for IPv6, a hop-by-hop header:
 *    jumbogram), where len is trusted;
 *  - fragments set F_FRAGMENT; a non-first one also F_LATER_FRAG and then
 *    l4 is NULL and l4caplen and l4len are 0; a first fragment's UDP
 *    length is only checked to be >= 8 (it covers the whole datagram);
 *  - at most 16 IPv6 extension headers, hop-by-hop only first;
 *  - ICMP errors are the kernel's: ICMP types 3, 4, 5, 11, 12 and every
 *    ICMPv6 type below 128.  Other ICMP/ICMPv6 types (queries, NDP, ...)
 *    get id/type/code as the kernel's tuple does.  ICMP inside IPv6 and
 *    ICMPv6 inside IPv4 get a tuple of addresses and protocol number only
 *    and are never ICMP errors: the kernel's trackers refuse them
 *    (INVALID, see ct.h), so their id/type/code, which the kernel's
 *    tuple would hold, are never compared;
 *  - an error's quote must have the error's family, hold its IP header(s)
 *    and 8 bytes of L4, not be a later fragment nor an ICMP error itself;
 *    only ports / id/type/code are read from the quoted L4 header.
 *
 * Never allocates, never makes a system call, never reads past caplen.
 * The caller's flags (NFQCT_PKT_F_FROM_QUEUE) are kept; the others are recomputed.
 *
 * Returns 0, or -EINVAL with pkt->invalid_reason set (the tuple then holds
 * whatever could be parsed: at least family when the IP version was read).
 */
int nfqct_pkt_parse(struct nfqct_pkt *pkt);

/*
 * nfqct_pkt_family - AF_INET or AF_INET6: the parsed tuple's family, else
 * (a packet that did not parse) the IP version nibble, else AF_INET.
 */
int nfqct_pkt_family(const struct nfqct_pkt *pkt);

/* nfqct_tuple_invert - the tuple of the reply direction (ICMP types mapped as the kernel does).
 * Returns false when the tuple has no inverse (ICMP types that get no reply). */
bool nfqct_tuple_invert(struct nfqct_tuple *reply, const struct nfqct_tuple *orig);

/* nfqct_proto_name - the name conntrack -L prints ("tcp", "udp", "icmp", "icmpv6", ...),
 * or NULL for other protocols (print the number). */
const char *nfqct_proto_name(uint8_t proto);

#endif
