/*
 * capture.c - pcap/pcapng records down to the IP header (capture.h).
 *
 * libpcap reads both file formats and gives one link type per file; the
 * decoders below peel that link layer.  NFLOG records carry netlink-style
 * TLVs whose length and type are in the byte order of the reading host
 * (libpcap swaps them when the file came from the other order); their
 * values are in network order, as the kernel sends them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <pcap/pcap.h>

#include "nfqct/capture.h"

struct nfqct_capture {
	pcap_t *pcap;
	int dlt;
	uint64_t record;
};

/* What a decoder returns: 0 (data/skip set), or a static error string. */
typedef const char *(*decode_fn)(struct nfqct_capture_pkt *p, const uint8_t *b, uint32_t n);

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * The network layer of @proto, @n bytes at @b: IP goes on, anything else
 * is skipped.  The IP header's length decides what the packet is, as the
 * kernel sees it: link padding (short Ethernet frames) is cut off, and a
 * packet the snap length cut keeps its full length in len.
 */
static const char *network(struct nfqct_capture_pkt *p, uint16_t proto, const uint8_t *b, uint32_t n)
{
	uint32_t iplen = 0;

	if (proto != ETH_P_IP && proto != ETH_P_IPV6) {
		p->skip = "not IP";
		return NULL;
	}
	p->hw_protocol = proto;
	p->data = b;
	p->caplen = p->len = n;
	if (proto == ETH_P_IP && n >= 4 && (b[0] >> 4) == 4)
		iplen = get16(b + 2);
	else if (proto == ETH_P_IPV6 && n >= 6 && (b[0] >> 4) == 6 && get16(b + 4))
		iplen = 40u + get16(b + 4);
	if (iplen && iplen < n)
		p->caplen = p->len = iplen;
	else if (iplen > n)
		p->len = iplen;
	return NULL;
}

static const char *decode_ether(struct nfqct_capture_pkt *p, const uint8_t *b, uint32_t n)
{
	uint32_t off = 12;
	uint16_t type;

	if (n < 14)
		return "shorter than an Ethernet header";
	type = get16(b + off);
	/* 802.1Q / 802.1ad tags: skip them (the kernel strips them before netfilter) */
	while (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		off += 4;
		if (n < off + 2)
			return "VLAN tag cut short";
		type = get16(b + off);
	}
	off += 2;
	return network(p, type, b + off, n - off);
}

static const char *decode_raw(struct nfqct_capture_pkt *p, const uint8_t *b, uint32_t n)
{
	if (n < 1)
		return "empty record";
	return network(p, (b[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP, b, n);
}

/* PACKET_OUTGOING: the packet type of what the host sent. */
#define SLL_OUTGOING 4

/* Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
static const char *decode_sll(struct nfqct_capture_pkt *p, const uint8_t *b, uint32_t n)
{
	if (n < 16)
		return "shorter than a Linux cooked (SLL) header";
	p->direction = get16(b) == SLL_OUTGOING ? NFQCT_CAPTURE_DIR_OUT : NFQCT_CAPTURE_DIR_IN;
	return network(p, get16(b + 14), b + 16, n - 16);
}

/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address. */
static const char *decode_sll2(struct nfqct_capture_pkt *p, const uint8_t *b, uint32_t n)
{
	uint32_t ifindex;

	if (n < 20)
		return "shorter than a Linux cooked (SLL2) header";
	ifindex = get32(b + 4);
	/* the interface it leaves by when outgoing, else the one it came in on */
	if (b[10] == SLL_OUTGOING) {
		p->direction = NFQCT_CAPTURE_DIR_OUT;
		p->outdev = ifindex;
		p->has_outdev = true;
	} else {
		p->direction = NFQCT_CAPTURE_DIR_IN;
		p->indev = ifindex;
		p->has_indev = true;
	}
	return network(p, get16(b), b + 20, n - 20);
}

/* NFLOG: family, version, resource id, then TLVs (length includes the 4-byte header). */
static const char *decode_nflog(struct nfqct_capture_pkt *p, const uint8_t *b, uint32_t n)
{
	const uint8_t *payload = NULL;
	uint32_t off = 4, plen = 0;
	uint16_t proto = 0;

	if (n < 4)
		return "shorter than an NFLOG header";
	p->ifaces_exact = true;
	proto = b[0] == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP;
	while (off + 4 <= n) {
		uint16_t tlen, type;
		const uint8_t *v = b + off + 4;

		memcpy(&tlen, b + off, 2);
		memcpy(&type, b + off + 2, 2);
		if (tlen < 4 || off + tlen > n)
			return "NFLOG TLV runs past the record";
		tlen -= 4;
		switch (type) {
		case NFULA_PACKET_HDR:
			if (tlen >= 3) {
				proto = get16(v);
				p->hook = v[2];
			}
			break;
		case NFULA_MARK:
			if (tlen >= 4) {
				p->mark = get32(v);
				p->has_mark = true;
			}
			break;
		case NFULA_IFINDEX_INDEV:
			if (tlen >= 4) {
				p->indev = get32(v);
				p->has_indev = true;
			}
			break;
		case NFULA_IFINDEX_OUTDEV:
			if (tlen >= 4) {
				p->outdev = get32(v);
				p->has_outdev = true;
			}
			break;
		case NFULA_PAYLOAD:
			payload = v;
			plen = tlen;
			break;
		default:
			break;
		}
		off += (tlen + 4 + 3u) & ~3u;	/* values are padded to 4 bytes */
	}
	if (!payload) {
		p->skip = "NFLOG record without a payload";
		return NULL;
	}
	return network(p, proto, payload, plen);
}

static const struct {
	int dlt;
	decode_fn decode;
} decoders[] = {
	{ DLT_EN10MB, decode_ether },
	{ DLT_RAW, decode_raw },
	{ DLT_IPV4, decode_raw },
	{ DLT_IPV6, decode_raw },
	{ DLT_LINUX_SLL, decode_sll },
	{ DLT_LINUX_SLL2, decode_sll2 },
	{ DLT_NFLOG, decode_nflog },
};

static decode_fn find_decoder(int dlt)
{
	for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (decoders[i].dlt == dlt)
			return decoders[i].decode;
	return NULL;
}

int nfqct_capture_open(const char *path, struct nfqct_capture **cp, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct nfqct_capture *c;
	const char *name;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!c->pcap) {
		snprintf(err, errlen, "cannot read: %s", perr);
		free(c);
		return -EINVAL;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!find_decoder(c->dlt)) {
		name = pcap_datalink_val_to_name(c->dlt);
		snprintf(err, errlen,
			 "link type %s (%d) not supported: expected Ethernet, raw IP, Linux cooked (SLL, SLL2) or NFLOG",
			 name ? name : "unknown", c->dlt);
		nfqct_capture_close(c);
		return -EINVAL;
	}
	*cp = c;
	return 0;
}

int nfqct_capture_next(struct nfqct_capture *c, struct nfqct_capture_pkt *p, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *bytes;
	const char *why;
	int r;

	r = pcap_next_ex(c->pcap, &h, &bytes);
	if (r == PCAP_ERROR_BREAK)
		return 0;
	if (r != 1) {
		snprintf(err, errlen, "record %llu: %s", (unsigned long long)c->record + 1,
			 pcap_geterr(c->pcap));
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	p->record = ++c->record;
	p->hook = -1;
	/* with PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds */
	p->time_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
	why = find_decoder(c->dlt)(p, bytes, h->caplen);
	if (why) {
		/* one bad record: reported, the file goes on */
		p->data = NULL;
		p->skip = why;
		p->malformed = true;
	}
	return 1;
}

const char *nfqct_capture_linktype(const struct nfqct_capture *c)
{
	const char *name = pcap_datalink_val_to_name(c->dlt);

	return name ? name : "unknown";
}

void nfqct_capture_close(struct nfqct_capture *c)
{
	if (!c)
		return;
	if (c->pcap)
		pcap_close(c->pcap);
	free(c);
}
