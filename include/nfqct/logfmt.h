/*
 * logfmt.h - the LOG target's line, as the kernel's nf_log_syslog.c writes
 * it (nf_log_dump_packet_common(), dump_mac_header(), dump_ipv4_packet(),
 * dump_ipv6_packet() and their TCP / UDP helpers), so that tools that read
 * kernel LOG lines (fail2ban, psad, logwatch) read nfqctd's unchanged.
 *
 * A pure function of what the caller gives it: the packet's bytes from the
 * network header on, the interface names, the link-layer header as well as
 * NFQUEUE lets us rebuild it (see struct nfqct_logfmt_pkt), the mark and the
 * socket's owner.  No allocation, no system call.
 */
#ifndef NFQCT_LOGFMT_H
#define NFQCT_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --log-* flags, with xt_LOG's bit values (XT_LOG_*) */
enum nfqct_log_flags {
	NFQCT_LOG_TCPSEQ	= 0x01,	/* --log-tcp-sequence */
	NFQCT_LOG_TCPOPT	= 0x02,	/* --log-tcp-options */
	NFQCT_LOG_IPOPT		= 0x04,	/* --log-ip-options */
	NFQCT_LOG_UID		= 0x08,	/* --log-uid */
	NFQCT_LOG_MACDECODE	= 0x20,	/* --log-macdecode */
};

#define NFQCT_LOG_PREFIX_MAX	29	/* characters, as xt_log_info's prefix[30] */
#define NFQCT_LOG_LEVEL_DEFAULT	4	/* LOG_WARNING, as iptables' LOG */

/* One LOG rule's options. */
struct nfqct_log_spec {
	char prefix[NFQCT_LOG_PREFIX_MAX + 1];
	uint8_t level;			/* syslog level 0..7 */
	uint8_t flags;			/* enum nfqct_log_flags */
};

/* What one line is made of. */
struct nfqct_logfmt_pkt {
	const char *prefix;		/* printed first, as is ("" for none) */
	uint8_t flags;			/* enum nfqct_log_flags */
	uint8_t family;			/* AF_INET or AF_INET6 */
	const char *in;			/* input interface name, NULL: none (OUTPUT) */
	const char *out;		/* output interface name, NULL: none */
	/* The link-layer header, printed for packets with an input interface:
	 * mac_len bytes of mac[] (14 for Ethernet: destination, source,
	 * ethertype), 0 for none ("MAC= "); mac_ether: the input device is
	 * Ethernet (--log-macdecode decodes only those). */
	uint8_t mac_len;
	bool mac_ether;
	uint8_t mac[14];
	const uint8_t *data;		/* the packet from its network header */
	uint32_t caplen;		/* bytes at data */
	uint32_t len;			/* the packet's full length (INCOMPLETE [n bytes]) */
	uint32_t mark;			/* MARK=0x.. when not 0 */
	bool has_owner;			/* the sending socket's owner is known: */
	uint32_t uid, gid;		/* UID= GID= with NFQCT_LOG_UID */
};

/*
 * nfqct_logfmt - write the line for @p into @buf (@size bytes, NUL
 * terminated), without the syslog level and without a newline; like the
 * kernel's, it ends with a space after the last field.  Returns its
 * length, or the length it would have had (as snprintf) when @size is too
 * small (the text is then cut).
 */
size_t nfqct_logfmt(char *buf, size_t size, const struct nfqct_logfmt_pkt *p);

/* nfqct_log_level_find - a --log-level argument: 0..7 or a name iptables
 * takes (emerg, panic, alert, crit, error, warning, notice, info, debug).
 * Returns the level, or -1. */
int nfqct_log_level_find(const char *s);

#endif
