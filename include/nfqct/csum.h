/*
 * csum.h - the transport checksums conntrack verifies, where the kernel's
 * conntrack verifies them (net.netfilter.nf_conntrack_checksum=1).
 *
 * Linux 6.x checks a checksum only for packets at NF_INET_PRE_ROUTING
 * (tcp_error(), udp_error(), nf_conntrack_icmpv4_error(),
 * nf_conntrack_icmpv6_error(): nf_checksum() when sysctl_checksum and
 * state->hook == NF_INET_PRE_ROUTING), and nf_ip_checksum() /
 * nf_ip6_checksum() skip packets whose checksum was already verified
 * (CHECKSUM_UNNECESSARY) or is not computed yet (CHECKSUM_PARTIAL).
 * nfqctd sees entering packets at PREROUTING, INPUT or FORWARD, all past
 * PREROUTING; NFQUEUE says in NFQA_SKB_INFO whether nobody verified the
 * checksum (NFQA_SKB_CSUM_NOTVERIFIED, set only for those hooks and
 * POSTROUTING without a socket) or it is not ready (NFQA_SKB_CSUMNOTREADY),
 * which the queue turns into NFQCT_PKT_F_CSUM_NOTVERIFIED / _NOTREADY.
 *
 * Verified: TCP and UDP in both families (a UDP checksum of 0 means none,
 * and is not checked, in IPv6 too, as udp_error()), ICMP in IPv4 and
 * ICMPv6 in IPv6, UDP-Lite over its checksum coverage (udplite_error(),
 * which passes IPPROTO_UDP, not 136, for the pseudo-header: nfqct does the
 * same, so a datagram summed as RFC 3828 says is INVALID in both; seen on
 * Linux 6.18), SCTP's CRC32c (sctp_error()).  Not verified: DCCP (the
 * kernel checks it; nfqct tracks DCCP as generic), fragments (a first
 * fragment's checksum covers the whole datagram; reassembly is the
 * kernel's, see nfqct-kernel-rules), GSO super-packets.
 *
 * What NFQUEUE cannot tell us: the kernel verifies SCTP only for
 * CHECKSUM_NONE, the others also for CHECKSUM_COMPLETE with a sum that
 * does not match; NFQA_SKB_CSUM_NOTVERIFIED stands for both, so an SCTP
 * packet from a NIC that gave CHECKSUM_COMPLETE is verified here and not
 * there (a wrong CRC is then INVALID here only).
 */
#ifndef NFQCT_CSUM_H
#define NFQCT_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "nfqct/pkt.h"

enum nfqct_csum {
	NFQCT_CSUM_SKIP,	/* nothing to verify (see above) */
	NFQCT_CSUM_GOOD,	/* verified, right */
	NFQCT_CSUM_BAD,		/* verified, wrong: the kernel's tracker calls it INVALID */
	NFQCT_CSUM_CUT,		/* to verify, but the copy range cut the packet: not verified */
};

/*
 * nfqct_csum_verify - verify the transport checksum of @pkt (parsed by
 * nfqct_pkt_parse(), which succeeded) when the kernel would: an entering
 * hook (PREROUTING, INPUT, FORWARD), F_CSUM_NOTVERIFIED without
 * F_CSUM_NOTREADY, and one of the protocols above.  Whether the setting
 * nf_conntrack_checksum is on is the caller's business.  Reads only the
 * bytes present (pkt->caplen); no allocation, no system call.
 */
enum nfqct_csum nfqct_csum_verify(const struct nfqct_pkt *pkt);

/*
 * nfqct_csum_fold - the Internet checksum (RFC 1071) of @n bytes at @p:
 * the ones' complement sum of their 16-bit big-endian words (an odd last
 * byte padded with zero), folded to 16 bits, in host order.  A packet
 * whose sum, checksum field and pseudo-header included, folds to 0xffff
 * is right.
 */
uint16_t nfqct_csum_fold(const void *p, size_t n);

#endif
