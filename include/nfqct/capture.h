/*
 * capture.h - packets from pcap and pcapng files (libpcap), with what the
 * link layer tells about them, for `nfqct simulate`.
 *
 * Link types: Ethernet (with 802.1Q/802.1ad tags), raw IP (DLT_RAW,
 * DLT_IPV4, DLT_IPV6), Linux cooked captures SLL and SLL2 (`tcpdump -i
 * any`), and NFLOG (`tcpdump -i nflog:N`: the hook, mark and interface
 * indexes the kernel logged with the packet).  Anything else is refused
 * at open.
 */
#ifndef NFQCT_CAPTURE_H
#define NFQCT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfqct_capture;

/* Which way a Linux cooked capture (`tcpdump -i any`) saw a packet go. */
enum nfqct_capture_dir {
	NFQCT_CAPTURE_DIR_UNKNOWN,
	NFQCT_CAPTURE_DIR_IN,		/* received */
	NFQCT_CAPTURE_DIR_OUT,		/* sent (PACKET_OUTGOING) */
};

/* One record, decoded down to its network header. */
struct nfqct_capture_pkt {
	uint64_t record;	/* 1-based record number in the file */
	uint64_t time_ns;	/* the record's timestamp, ns since the epoch */
	const uint8_t *data;	/* the IPv4/IPv6 header, valid until the next call;
				 * NULL when the record is skipped (see skip) */
	uint32_t caplen;	/* bytes present at data */
	uint32_t len;		/* the packet's length on the wire from data on
				 * (more than caplen when the snap length cut it) */
	uint16_t hw_protocol;	/* ETH_P_IP / ETH_P_IPV6 as the link layer says */
	uint32_t indev;		/* ifindex, when has_indev */
	uint32_t outdev;	/* ifindex, when has_outdev */
	bool has_indev;		/* the capture names the interfaces (SLL2, NFLOG) */
	bool has_outdev;
	bool ifaces_exact;	/* NFLOG: a missing interface is one the hook has none of */
	uint8_t direction;	/* enum nfqct_capture_dir: Linux cooked captures say */
	int hook;		/* NFLOG: the netfilter hook; -1: not known */
	bool has_mark;		/* NFLOG: mark holds the packet's mark */
	uint32_t mark;
	const char *skip;	/* static: why the record holds no IP packet (ARP, ...) */
	bool malformed;		/* ... because its link layer is broken (skip says how) */
};

/*
 * nfqct_capture_open - open @path (pcap or pcapng, by its magic).  Returns
 * 0, or -EINVAL / -ENOENT / ... with a message in @err ("cannot open: ...",
 * "link type X not supported").
 */
int nfqct_capture_open(const char *path, struct nfqct_capture **cp, char *err, size_t errlen);

/*
 * nfqct_capture_next - the next record into @p.  Returns 1, 0 at the end
 * of the file, or -EINVAL with a message in @err naming the record
 * ("record 12: truncated dump file; ..."); the file cannot be read further
 * after an error.  A record whose link layer is broken is returned (1)
 * with malformed set, data NULL and skip saying what is wrong.
 */
int nfqct_capture_next(struct nfqct_capture *c, struct nfqct_capture_pkt *p, char *err, size_t errlen);

/* nfqct_capture_linktype - the file's link type name ("EN10MB", "NFLOG", ...). */
const char *nfqct_capture_linktype(const struct nfqct_capture *c);

void nfqct_capture_close(struct nfqct_capture *c);

#endif
