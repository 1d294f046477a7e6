/*
 * csum.c - transport checksum verification (csum.h).
 *
 * The sum runs over the bytes as they lie in memory, 8 at a time, with the
 * carry out of each 64-bit addition added back in (a ones' complement sum
 * in 64 bits); folding it to 16 bits gives the RFC 1071 sum in the
 * machine's byte order.  All-ones, the only value that says "right", reads
 * the same in both orders, so the check needs no byte swapping; the
 * pseudo-header's numbers are added in network order for the same reason.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/csum.h"

static inline uint64_t add_carry(uint64_t acc, uint64_t v)
{
	acc += v;
	return acc + (acc < v);
}

static uint64_t sum_bytes(uint64_t acc, const uint8_t *p, size_t n)
{
	uint64_t w8;
	uint32_t w4;
	uint16_t w2;

	while (n >= 8) {
		memcpy(&w8, p, 8);
		acc = add_carry(acc, w8);
		p += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&w4, p, 4);
		acc = add_carry(acc, w4);
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w2, p, 2);
		acc = add_carry(acc, w2);
		p += 2;
		n -= 2;
	}
	if (n) {
		/* the odd last byte is the high half of a zero-padded word: in memory order */
		w2 = 0;
		memcpy(&w2, p, 1);
		acc = add_carry(acc, w2);
	}
	return acc;
}

static uint16_t fold(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

uint16_t nfqct_csum_fold(const void *p, size_t n)
{
	return ntohs(fold(sum_bytes(0, p, n)));
}

/* The kernel's nf_checksum() runs at PRE_ROUTING; we see those packets here. */
static inline bool entering(uint8_t hook)
{
	return hook == NFQCT_HOOK_PREROUTING || hook == NFQCT_HOOK_INPUT ||
	       hook == NFQCT_HOOK_FORWARD;
}

/* CRC32c (Castagnoli, reflected), table built on first use: the SCTP checksum. */
static uint32_t crc32c_table[256];

static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82f63b78u : 0);
		crc32c_table[i] = c;
	}
}

/* sctp_compute_cksum(): CRC32c of the packet with its checksum field read as 0. */
static enum nfqct_csum sctp_verify(const struct nfqct_pkt *pkt)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint32_t crc = 0xffffffffu, want;
	const uint8_t *p = pkt->l4;

	pthread_once(&once, crc32c_init);
	for (uint32_t i = 0; i < pkt->l4len; i++) {
		uint8_t b = (i >= 8 && i < 12) ? 0 : p[i];

		crc = (crc >> 8) ^ crc32c_table[(crc ^ b) & 0xff];
	}
	crc = ~crc;
	/* the wire holds the CRC least significant byte first */
	want = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
	return crc == want ? NFQCT_CSUM_GOOD : NFQCT_CSUM_BAD;
}

enum nfqct_csum nfqct_csum_verify(const struct nfqct_pkt *pkt)
{
	const struct nfqct_tuple *t = &pkt->tuple;
	uint64_t acc = 0;
	bool pseudo = true;
	uint8_t ph_proto = t->proto;
	uint32_t covered = pkt->l4len;

	if ((pkt->flags & (NFQCT_PKT_F_CSUM_NOTVERIFIED | NFQCT_PKT_F_CSUM_NOTREADY)) !=
	    NFQCT_PKT_F_CSUM_NOTVERIFIED || !entering(pkt->hook))
		return NFQCT_CSUM_SKIP;
	/* the checksum of a fragment covers the datagram; of a GSO super-packet, no segment */
	if (pkt->flags & (NFQCT_PKT_F_FRAGMENT | NFQCT_PKT_F_GSO) || !pkt->l4)
		return NFQCT_CSUM_SKIP;

	switch (t->proto) {
	case IPPROTO_TCP:
		break;
	case IPPROTO_UDP:
		/* no checksum (udp_error(): "Packet with no checksum", either family) */
		if (pkt->l4caplen < 8 || (pkt->l4[6] == 0 && pkt->l4[7] == 0))
			return NFQCT_CSUM_SKIP;
		break;
	case IPPROTO_UDPLITE:
		/* udplite_error(): over the coverage (0: all), and with
		 * IPPROTO_UDP in the pseudo-header, as the kernel passes it to
		 * nf_checksum_partial() (RFC 3828 says 136: a datagram summed
		 * as the RFC says fails this, in the kernel as here).  A zero
		 * checksum is the tracker's INVALID. */
		if (pkt->l4caplen < 8 || (pkt->l4[6] == 0 && pkt->l4[7] == 0))
			return NFQCT_CSUM_SKIP;
		covered = (uint32_t)pkt->l4[4] << 8 | pkt->l4[5];
		if (covered == 0)
			covered = pkt->l4len;
		ph_proto = IPPROTO_UDP;
		break;
	case IPPROTO_SCTP:
		if (pkt->l4caplen < pkt->l4len)
			return NFQCT_CSUM_CUT;
		return sctp_verify(pkt);
	case IPPROTO_ICMP:
		if (t->family != AF_INET)
			return NFQCT_CSUM_SKIP;	/* ICMP in IPv6: the tracker refuses it anyway */
		pseudo = false;
		break;
	case IPPROTO_ICMPV6:
		if (t->family != AF_INET6)
			return NFQCT_CSUM_SKIP;
		break;
	default:
		return NFQCT_CSUM_SKIP;
	}
	if (pkt->l4caplen < covered)
		return NFQCT_CSUM_CUT;

	if (pseudo && t->family == AF_INET) {
		/* source, destination, zero, protocol, transport length */
		acc = sum_bytes(acc, pkt->data + 12, 8);
		acc = add_carry(acc, htonl(((uint32_t)ph_proto << 16) | pkt->l4len));
	} else if (pseudo) {
		/* source, destination (the header's, as nf_ip6_checksum()), length, next header */
		acc = sum_bytes(acc, pkt->data + 8, 32);
		acc = add_carry(acc, htonl(pkt->l4len));
		acc = add_carry(acc, htonl(ph_proto));
	}
	acc = sum_bytes(acc, pkt->l4, covered);
	return fold(acc) == 0xffff ? NFQCT_CSUM_GOOD : NFQCT_CSUM_BAD;
}
