/*
 * settings.h - the daemon's settings, by the kernel's sysctl names.
 *
 * A settings file uses sysctl.conf syntax ("name = value", '#' and ';'
 * comments, blank lines) so an operator's /etc/sysctl.d lines can be
 * reused.  Names are the kernel's (net.netfilter.nf_conntrack_*) plus
 * nfqct's own under "nfqct.".  Unknown names, bad values and read-only
 * names are errors reported as "file:line: error: message" (errrec.h);
 * every error in a file is reported before the file is refused.
 *
 * A struct nfqct_settings is a plain value: build a new one aside, check
 * it, then apply it (see nfqct_settings_reloadable()).
 */
#ifndef NFQCT_SETTINGS_H
#define NFQCT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Timeouts, in seconds, indexed by enum nfqct_timeout. */
enum nfqct_timeout {
	NFQCT_TO_TCP_SYN_SENT,
	NFQCT_TO_TCP_SYN_RECV,
	NFQCT_TO_TCP_ESTABLISHED,
	NFQCT_TO_TCP_FIN_WAIT,
	NFQCT_TO_TCP_CLOSE_WAIT,
	NFQCT_TO_TCP_LAST_ACK,
	NFQCT_TO_TCP_TIME_WAIT,
	NFQCT_TO_TCP_CLOSE,
	NFQCT_TO_TCP_SYN_SENT2,		/* no kernel sysctl: nfqct.tcp_timeout_syn_sent2 */
	NFQCT_TO_TCP_MAX_RETRANS,
	NFQCT_TO_TCP_UNACK,
	NFQCT_TO_UDP,
	NFQCT_TO_UDP_STREAM,
	NFQCT_TO_ICMP,
	NFQCT_TO_ICMPV6,
	NFQCT_TO_GENERIC,
	NFQCT_TO_SCTP_CLOSED,
	NFQCT_TO_SCTP_COOKIE_WAIT,
	NFQCT_TO_SCTP_COOKIE_ECHOED,
	NFQCT_TO_SCTP_ESTABLISHED,
	NFQCT_TO_SCTP_SHUTDOWN_SENT,
	NFQCT_TO_SCTP_SHUTDOWN_RECD,
	NFQCT_TO_SCTP_SHUTDOWN_ACK_SENT,
	NFQCT_TO_SCTP_HEARTBEAT_SENT,
	NFQCT_TO_MAX
};

enum nfqct_stat_layout {
	NFQCT_STAT_LAYOUT_KERNEL6 = 0,	/* "entries  clashres found ..." (Linux 6.x) */
	NFQCT_STAT_LAYOUT_LEGACY = 1,	/* "entries searched found ... delete_list ..." */
};

enum nfqct_stat_update {
	NFQCT_STAT_UPDATE_RENAME = 0,	/* new file + rename: never torn */
	NFQCT_STAT_UPDATE_INPLACE = 1,	/* counter files rewritten in place when the size is
					 * unchanged, for readers that keep them open (lnstat -i) */
};

enum nfqct_ipfix_transport {
	NFQCT_IPFIX_UDP = 0,
	NFQCT_IPFIX_TCP = 1,
};

/* nfqct.sync_* (sync.h, ftfw.h): replication on conntrackd's protocol */
enum nfqct_sync_transport {
	NFQCT_SYNC_UDP = 0,		/* unicast, sync_local to sync_peer */
	NFQCT_SYNC_MULTICAST = 1,	/* sync_peer is the group, on sync_interface */
};

enum nfqct_sync_peer_kind {
	NFQCT_SYNC_PEER_CONNTRACKD = 0,	/* conntrackd's attributes only */
	NFQCT_SYNC_PEER_NFQCT = 1,	/* zone and counters too */
};

/* An address and port: "198.18.0.1:4739" or "[2001:db8::1]:4739". */
struct nfqct_hostport {
	uint8_t family;			/* AF_INET, AF_INET6; 0: not set */
	uint16_t port;			/* host order */
	uint8_t addr[16];		/* network order; IPv4 in the first 4 */
};

/*
 * nfqct_hostport_parse - @s as ADDR:PORT (IPv4) or [ADDR]:PORT (IPv6),
 * port 1..65535, numeric only; "" or "none" clears it.  0 or -EINVAL.
 */
int nfqct_hostport_parse(const char *s, struct nfqct_hostport *hp);
/* nfqct_hostport_format - the form nfqct_hostport_parse() reads ("none" when not set). */
int nfqct_hostport_format(const struct nfqct_hostport *hp, char *buf, size_t len);

struct nfqct_settings {
	/* net.netfilter.* */
	uint32_t ct_max;		/* nf_conntrack_max */
	uint32_t ct_buckets;		/* nf_conntrack_buckets: initial hash size */
	uint32_t expect_max;		/* nf_conntrack_expect_max: expectations at most */
	uint32_t ct_acct;		/* nf_conntrack_acct */
	uint32_t tcp_loose;		/* nf_conntrack_tcp_loose */
	uint32_t tcp_be_liberal;	/* nf_conntrack_tcp_be_liberal */
	uint32_t tcp_ignore_invalid_rst;/* nf_conntrack_tcp_ignore_invalid_rst */
	uint32_t tcp_max_retrans;	/* nf_conntrack_tcp_max_retrans */
	uint32_t ct_checksum;		/* nf_conntrack_checksum: verify checksums (csum.h) */
	uint32_t timeout[NFQCT_TO_MAX];	/* seconds */

	/* nfqct.* */
	uint32_t stat_interval_ms;	/* how often the stat tree is rewritten */
	uint32_t stat_layout;		/* enum nfqct_stat_layout */
	uint32_t stat_update;		/* enum nfqct_stat_update */
	uint32_t queue_maxlen;		/* NFQA_CFG_QUEUE_MAXLEN */
	uint32_t copy_range;		/* bytes of each packet copied to us */
	uint32_t rcvbuf;		/* netlink socket receive buffer, bytes */
	uint32_t batch;			/* most packets handled per receive batch */
	uint32_t gso;			/* ask for GSO super-packets (NFQA_CFG_F_GSO) */
	uint32_t fail_open;		/* NFQA_CFG_F_FAIL_OPEN */
	uint32_t gc_interval_ms;	/* housekeeping tick */
	uint32_t log_ratelimit_ms;	/* packet-triggered messages: window ... */
	uint32_t log_ratelimit_burst;	/* ... and messages per window */
	uint32_t state_interval_s;	/* save the table every N s (0: only at a stop) */
	uint32_t sets_kill_flows;	/* nfqct set add: --kill-flows unless --keep-flows (0/1) */
	uint32_t recent_ip_list_tot;	/* -m recent: addresses per list */
	uint32_t recent_ip_pkt_list_tot;	/* stamps per address, 0: from --hitcount */
	uint32_t recent_ip_list_hash_size;	/* buckets (a power of two), 0: from ip_list_tot */
	char state_file[256];		/* the table on disk (state.h); "" (none): not kept */
	char sets_file[256];		/* an `ipset save` file (ipset.h), "" (none): --sets or no sets */
	char rules_v4[256];		/* an iptables-restore file for IPv4 only, "" (none) */
	char rules_v6[256];		/* an ip6tables-restore file for IPv6 only, "" (none) */
	uint32_t reject_mark_shift;	/* REJECT's mark bits: 0xf << this (reject.h) */
	uint32_t offload_timeout_s;	/* FLOWOFFLOAD: an element's idle lifetime (offload.h) */
	uint32_t offload_interval_ms;	/* how often the kernel's counters are read */

	/* nfqct.ipfix_*: flow export (ipfix.h); no collector, no export */
	struct nfqct_hostport ipfix_collector;
	uint32_t ipfix_transport;	/* enum nfqct_ipfix_transport */
	uint32_t ipfix_active_timeout_s;/* long flows: a record every so often */
	uint32_t ipfix_template_refresh_s; /* UDP: templates resent every so often */

	/* nfqct.sync_*: replication (sync.h); sync_mode off: none */
	uint32_t sync_mode;		/* enum nfqct_sync_mode (ftfw.h) */
	uint32_t sync_transport;	/* enum nfqct_sync_transport */
	uint32_t sync_peer_kind;	/* enum nfqct_sync_peer_kind */
	uint32_t sync_window;		/* FTFW: ACK every N messages */
	uint32_t sync_resend_queue;	/* FTFW: messages kept until acknowledged */
	uint32_t sync_alive_ms;		/* ALIVE after this long without sending */
	uint32_t sync_mtu;		/* largest datagram */
	uint32_t sync_commit_timeout_s;	/* lifetime of a committed flow whose message had none */
	uint32_t sync_refresh_s;	/* ALARM: the whole table again every N s */
	struct nfqct_hostport sync_local;	/* bind here (udp); source (multicast) */
	struct nfqct_hostport sync_peer;	/* the peer, or the multicast group */
	char sync_interface[16];	/* multicast: the link (IFNAMSIZ); "" none */
};

/* nfqct_settings_init - the defaults (the kernel's, where it has one). */
void nfqct_settings_init(struct nfqct_settings *s);

/*
 * nfqct_settings_load_file - read a sysctl.conf-style file into @s.
 * Errors go to @errs as "path:line: error: message", all of them.  On error @s
 * may be partly updated: load into a copy.  Returns 0, -EINVAL (bad
 * content) or -errno (cannot read the file; reported to @errs too).
 */
int nfqct_settings_load_file(struct nfqct_settings *s, const char *path, FILE *errs);

/*
 * nfqct_settings_set - apply one "name=value" (as -o gives it).  @origin
 * names where it came from, for the error record ("-o" gives
 * "-o: error: message").  Returns 0, -EINVAL or -ENOMEM (reported to @errs).
 */
int nfqct_settings_set(struct nfqct_settings *s, const char *assignment, const char *origin, FILE *errs);

/* Iteration over the known settings, in a stable order. */
size_t nfqct_settings_count(void);
const char *nfqct_settings_name(size_t i);	/* full name, e.g. "net.netfilter.nf_conntrack_max" */
/* nfqct_settings_format - the current value as sysctl prints it (no newline). */
int nfqct_settings_format(const struct nfqct_settings *s, size_t i, char *buf, size_t len);
/* nfqct_settings_reloadable - false for settings that need a restart (buckets, queue sizes, ...). */
bool nfqct_settings_reloadable(size_t i);

/*
 * nfqct_settings_reload_diff - report to @errs, as records
 * "settings: warning: NAME cannot change without a restart; keeping V", every setting
 * that differs between @cur and @next but cannot change without a
 * restart, and copy those fields from @cur into @next so that @next is
 * what will really be in force.  Returns the number of such settings.
 */
int nfqct_settings_reload_diff(const struct nfqct_settings *cur, struct nfqct_settings *next, FILE *errs);

#endif
