/*
 * settings.c - a table of named settings, parsed from sysctl.conf syntax.
 *
 * Each setting is a row: name, where it lives in struct nfqct_settings,
 * its range, and whether it can change on reload.  Values are unsigned
 * 32-bit integers, or words from a small list (stat_layout).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nfqct/errrec.h"
#include "nfqct/reject.h"
#include "nfqct/settings.h"

#define NF "net.netfilter."

struct setting {
	const char *name;
	size_t offset;		/* of the uint32_t in struct nfqct_settings */
	uint32_t def;
	uint32_t min, max;
	bool reloadable;
	const char *const *words;	/* values by name (index = value), or NULL */
};

#define FIELD(f) offsetof(struct nfqct_settings, f)
#define TIMEOUT(i) (FIELD(timeout) + (i) * sizeof(uint32_t))
#define DAY 86400u

static const char *const stat_layout_words[] = { "kernel6", "legacy", NULL };
static const char *const stat_update_words[] = { "rename", "inplace", NULL };
static const char *const ipfix_transport_words[] = { "udp", "tcp", NULL };
static const char *const sync_mode_words[] = { "off", "ftfw", "notrack", "alarm", NULL };
static const char *const sync_transport_words[] = { "udp", "multicast", NULL };
static const char *const sync_peer_kind_words[] = { "conntrackd", "nfqct", NULL };

/* The one setting that is not a number, after the table's rows (index NSETTINGS). */
#define COLLECTOR_NAME "nfqct.ipfix_collector"

/* Defaults are the Linux 6.x kernel's (checked against /proc/sys/net/netfilter). */
static const struct setting settings[] = {
	{ NF "nf_conntrack_max", FIELD(ct_max), 262144, 1, 1u << 30, true, NULL },
	{ NF "nf_conntrack_buckets", FIELD(ct_buckets), 65536, 16, 1u << 26, false, NULL },
	/* The kernel's is max(1, buckets / 256) * 4 (nf_conntrack_expect_init):
	 * 1024 for the default 65536 buckets. */
	{ NF "nf_conntrack_expect_max", FIELD(expect_max), 1024, 1, 1u << 24, true, NULL },
	/* The kernel's default is 0; nfqct exists to show the table, so it counts. */
	{ NF "nf_conntrack_acct", FIELD(ct_acct), 1, 0, 1, true, NULL },
	{ NF "nf_conntrack_tcp_loose", FIELD(tcp_loose), 1, 0, 1, true, NULL },
	{ NF "nf_conntrack_tcp_be_liberal", FIELD(tcp_be_liberal), 0, 0, 1, true, NULL },
	{ NF "nf_conntrack_tcp_ignore_invalid_rst", FIELD(tcp_ignore_invalid_rst), 0, 0, 1, true, NULL },
	{ NF "nf_conntrack_tcp_max_retrans", FIELD(tcp_max_retrans), 3, 0, 255, true, NULL },
	{ NF "nf_conntrack_checksum", FIELD(ct_checksum), 1, 0, 1, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_syn_sent", TIMEOUT(NFQCT_TO_TCP_SYN_SENT), 120, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_syn_recv", TIMEOUT(NFQCT_TO_TCP_SYN_RECV), 60, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_established", TIMEOUT(NFQCT_TO_TCP_ESTABLISHED), 5 * DAY, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_fin_wait", TIMEOUT(NFQCT_TO_TCP_FIN_WAIT), 120, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_close_wait", TIMEOUT(NFQCT_TO_TCP_CLOSE_WAIT), 60, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_last_ack", TIMEOUT(NFQCT_TO_TCP_LAST_ACK), 30, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_time_wait", TIMEOUT(NFQCT_TO_TCP_TIME_WAIT), 120, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_close", TIMEOUT(NFQCT_TO_TCP_CLOSE), 10, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_max_retrans", TIMEOUT(NFQCT_TO_TCP_MAX_RETRANS), 300, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_tcp_timeout_unacknowledged", TIMEOUT(NFQCT_TO_TCP_UNACK), 300, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_udp_timeout", TIMEOUT(NFQCT_TO_UDP), 30, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_udp_timeout_stream", TIMEOUT(NFQCT_TO_UDP_STREAM), 120, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_icmp_timeout", TIMEOUT(NFQCT_TO_ICMP), 30, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_icmpv6_timeout", TIMEOUT(NFQCT_TO_ICMPV6), 30, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_generic_timeout", TIMEOUT(NFQCT_TO_GENERIC), 600, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_closed", TIMEOUT(NFQCT_TO_SCTP_CLOSED), 10, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_cookie_wait", TIMEOUT(NFQCT_TO_SCTP_COOKIE_WAIT), 3, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_cookie_echoed", TIMEOUT(NFQCT_TO_SCTP_COOKIE_ECHOED), 3, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_established", TIMEOUT(NFQCT_TO_SCTP_ESTABLISHED), 210, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_shutdown_sent", TIMEOUT(NFQCT_TO_SCTP_SHUTDOWN_SENT), 3, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_shutdown_recd", TIMEOUT(NFQCT_TO_SCTP_SHUTDOWN_RECD), 3, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_shutdown_ack_sent", TIMEOUT(NFQCT_TO_SCTP_SHUTDOWN_ACK_SENT), 3, 1, 100 * DAY, true, NULL },
	{ NF "nf_conntrack_sctp_timeout_heartbeat_sent", TIMEOUT(NFQCT_TO_SCTP_HEARTBEAT_SENT), 30, 1, 100 * DAY, true, NULL },
	/* The kernel keeps SYN_SENT2 at two minutes without a sysctl. */
	{ "nfqct.tcp_timeout_syn_sent2", TIMEOUT(NFQCT_TO_TCP_SYN_SENT2), 120, 1, 100 * DAY, true, NULL },
	{ "nfqct.stat_interval_ms", FIELD(stat_interval_ms), 1000, 10, 3600 * 1000, true, NULL },
	{ "nfqct.stat_layout", FIELD(stat_layout), NFQCT_STAT_LAYOUT_KERNEL6, 0, 1, true, stat_layout_words },
	{ "nfqct.stat_update", FIELD(stat_update), NFQCT_STAT_UPDATE_RENAME, 0, 1, true, stat_update_words },
	{ "nfqct.queue_maxlen", FIELD(queue_maxlen), 8192, 1, 1u << 20, false, NULL },
	{ "nfqct.copy_range", FIELD(copy_range), 512, 64, 65535, false, NULL },
	{ "nfqct.rcvbuf", FIELD(rcvbuf), 16u << 20, 64u << 10, 1u << 30, false, NULL },
	{ "nfqct.batch", FIELD(batch), 64, 1, 1024, false, NULL },
	{ "nfqct.gso", FIELD(gso), 1, 0, 1, false, NULL },
	{ "nfqct.fail_open", FIELD(fail_open), 0, 0, 1, false, NULL },
	{ "nfqct.gc_interval_ms", FIELD(gc_interval_ms), 100, 1, 10000, true, NULL },
	{ "nfqct.log_ratelimit_ms", FIELD(log_ratelimit_ms), 5000, 0, 3600 * 1000, true, NULL },
	{ "nfqct.log_ratelimit_burst", FIELD(log_ratelimit_burst), 10, 1, 1000, true, NULL },
	{ "nfqct.state_interval_s", FIELD(state_interval_s), 60, 0, 86400, true, NULL },
	/* REJECT's four mark bits, 0xf << shift (reject.h); nfqct-kernel-rules --reject-mark-shift */
	{ "nfqct.reject_mark_shift", FIELD(reject_mark_shift), NFQCT_REJECT_MARK_SHIFT_DEFAULT, 0,
	  NFQCT_REJECT_MARK_SHIFT_MAX, true, NULL },
	/* FLOWOFFLOAD (offload.h): an element lives this long without a
	 * refresh; the counters are read this often (below the lifetime) */
	{ "nfqct.offload_timeout_s", FIELD(offload_timeout_s), 30, 2, 86400, true, NULL },
	{ "nfqct.offload_interval_ms", FIELD(offload_interval_ms), 1000, 10, 60000, true, NULL },
	/* `nfqct set add` cuts the flows an added element matches by default */
	{ "nfqct.sets_kill_flows", FIELD(sets_kill_flows), 0, 0, 1, true, NULL },
	/* xt_recent's module parameters (recent.h); read when a list is made */
	{ "nfqct.recent_ip_list_tot", FIELD(recent_ip_list_tot), 100, 1, 1u << 20, true, NULL },
	{ "nfqct.recent_ip_pkt_list_tot", FIELD(recent_ip_pkt_list_tot), 0, 0, 255, true, NULL },
	{ "nfqct.recent_ip_list_hash_size", FIELD(recent_ip_list_hash_size), 0, 0, 1u << 24, true, NULL },
	{ "nfqct.ipfix_transport", FIELD(ipfix_transport), NFQCT_IPFIX_UDP, 0, 1, false, ipfix_transport_words },
	{ "nfqct.ipfix_active_timeout_s", FIELD(ipfix_active_timeout_s), 1800, 1, 100 * DAY, false, NULL },
	{ "nfqct.ipfix_template_refresh_s", FIELD(ipfix_template_refresh_s), 600, 1, DAY, false, NULL },
	/* replication (sync.h); conntrackd's defaults where it has one */
	{ "nfqct.sync_mode", FIELD(sync_mode), 0, 0, 3, false, sync_mode_words },
	{ "nfqct.sync_transport", FIELD(sync_transport), NFQCT_SYNC_UDP, 0, 1, false, sync_transport_words },
	{ "nfqct.sync_peer_kind", FIELD(sync_peer_kind), NFQCT_SYNC_PEER_CONNTRACKD, 0, 1, false,
	  sync_peer_kind_words },
	{ "nfqct.sync_window", FIELD(sync_window), 300, 1, 1u << 20, false, NULL },
	{ "nfqct.sync_resend_queue", FIELD(sync_resend_queue), 131072, 16, 1u << 24, false, NULL },
	{ "nfqct.sync_alive_ms", FIELD(sync_alive_ms), 1000, 10, 60000, false, NULL },
	{ "nfqct.sync_mtu", FIELD(sync_mtu), 1472, 256, 65507, false, NULL },
	{ "nfqct.sync_commit_timeout_s", FIELD(sync_commit_timeout_s), 180, 1, 100 * DAY, false, NULL },
	{ "nfqct.sync_refresh_s", FIELD(sync_refresh_s), 15, 1, DAY, false, NULL },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

int nfqct_hostport_parse(const char *s, struct nfqct_hostport *hp)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *p;
	unsigned long port;
	char *end;
	size_t n;

	memset(hp, 0, sizeof(*hp));
	if (*s == '\0' || !strcmp(s, "none"))
		return 0;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		n = (size_t)(rb - s - 1);
		p = s + 1;
		colon = rb + 1;
		hp->family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;	/* an IPv6 address needs its brackets */
		n = (size_t)(colon - s);
		p = s;
		hp->family = AF_INET;
	}
	if (n == 0 || n >= sizeof(host) || !isdigit((unsigned char)colon[1]))
		goto err_inval;
	memcpy(host, p, n);
	host[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		goto err_inval;
	if (inet_pton(hp->family, host, hp->addr) != 1)
		goto err_inval;
	hp->port = (uint16_t)port;
	return 0;

err_inval:
	memset(hp, 0, sizeof(*hp));
	return -EINVAL;
}

int nfqct_hostport_format(const struct nfqct_hostport *hp, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int r;

	if (!hp->family)
		r = snprintf(buf, len, "none");
	else if (!inet_ntop(hp->family, hp->addr, a, sizeof(a)))
		return -EINVAL;
	else
		r = snprintf(buf, len, hp->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, hp->port);
	return r >= 0 && (size_t)r < len ? 0 : -ENOSPC;
}

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* Settings whose value is a path; they follow the numeric ones in the
 * index order.  The word "none" is the empty string: the feature is off. */
static const struct str_setting {
	const char *name;
	size_t offset;		/* of the char array in struct nfqct_settings */
	size_t size;
	const char *def;
} str_settings[] = {
	{ "nfqct.state_file", FIELD(state_file), sizeof(((struct nfqct_settings *)0)->state_file),
	  LOCALSTATEDIR "/lib/nfqct/nfqct.state" },
	/* sets in `ipset save` format, loaded before the ruleset; --sets wins */
	{ "nfqct.sets_file", FIELD(sets_file), sizeof(((struct nfqct_settings *)0)->sets_file), "none" },
	/* the iptables-persistent layout (rules.v4 / rules.v6); --rules-v4/-v6 win */
	{ "nfqct.rules_v4", FIELD(rules_v4), sizeof(((struct nfqct_settings *)0)->rules_v4), "none" },
	{ "nfqct.rules_v6", FIELD(rules_v6), sizeof(((struct nfqct_settings *)0)->rules_v6), "none" },
};

#define NSTR (sizeof(str_settings) / sizeof(str_settings[0]))
#define COLLECTOR (NSETTINGS + NSTR)

/* Replication's addresses and link, after the collector in the index order;
 * none can change without a restart. */
static const struct sync_setting {
	const char *name;
	size_t offset;		/* of the struct nfqct_hostport, or of the char array */
	bool ifname;
} sync_settings[] = {
	{ "nfqct.sync_local", FIELD(sync_local), false },
	{ "nfqct.sync_peer", FIELD(sync_peer), false },
	{ "nfqct.sync_interface", FIELD(sync_interface), true },
};

#define NSYNC (sizeof(sync_settings) / sizeof(sync_settings[0]))
#define SYNC0 (COLLECTOR + 1)

static int sync_format(const struct nfqct_settings *s, size_t k, char *buf, size_t len)
{
	const char *p = (const char *)s + sync_settings[k].offset;

	if (!sync_settings[k].ifname)
		return nfqct_hostport_format((const struct nfqct_hostport *)p, buf, len);
	return snprintf(buf, len, "%s", *p ? p : "none") < (int)len ? 0 : -ENOSPC;
}

/* Set sync setting @k from @value; 0, or -EINVAL with *why. */
static int sync_set(struct nfqct_settings *s, size_t k, const char *value, const char **why)
{
	char *p = (char *)s + sync_settings[k].offset;

	if (!sync_settings[k].ifname) {
		struct nfqct_hostport hp;

		if (nfqct_hostport_parse(value, &hp) < 0) {
			*why = "expected ADDR:PORT, [ADDR6]:PORT or none";
			return -EINVAL;
		}
		memcpy(p, &hp, sizeof(hp));
		return 0;
	}
	if (!strcmp(value, "none"))
		value = "";
	if (strlen(value) >= sizeof(s->sync_interface) || strchr(value, '/') || strchr(value, ' ')) {
		*why = "expected an interface name (at most 15 characters), or none";
		return -EINVAL;
	}
	strcpy(p, value);
	return 0;
}

static char *str_field(struct nfqct_settings *s, size_t i)
{
	return (char *)s + str_settings[i].offset;
}

/* Set string setting @i from @value; 0, or -EINVAL with *why. */
static int set_str(struct nfqct_settings *s, size_t i, const char *value, const char **why)
{
	if (strcmp(value, "none") == 0)
		value = "";
	else if (value[0] != '/') {
		*why = "expected an absolute path, or none";
		return -EINVAL;
	}
	if (strlen(value) >= str_settings[i].size) {
		*why = "path too long";
		return -EINVAL;
	}
	strcpy(str_field(s, i), value);
	return 0;
}

/* Kernel names we know but do not implement: an operator's sysctl.d line
 * gets a precise refusal instead of "unknown". */
static const struct {
	const char *name;
	const char *why;
} unsupported[] = {
	{ NF "nf_conntrack_count", "read-only (the number of entries)" },
	{ NF "nf_conntrack_events", "not supported: nfqct sends no conntrack events" },
	{ NF "nf_conntrack_helper", "not supported: helpers are assigned explicitly (-j CT --helper), as the kernel's default 0" },
	{ NF "nf_conntrack_timestamp", "not supported" },
	{ NF "nf_conntrack_log_invalid", "not supported" },
};

static uint32_t *field(struct nfqct_settings *s, size_t i)
{
	return (uint32_t *)((char *)s + settings[i].offset);
}

static const uint32_t *cfield(const struct nfqct_settings *s, size_t i)
{
	return (const uint32_t *)((const char *)s + settings[i].offset);
}

void nfqct_settings_init(struct nfqct_settings *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < NSETTINGS; i++)
		*field(s, i) = settings[i].def;
	for (size_t i = 0; i < NSTR; i++)
		set_str(s, i, str_settings[i].def, &(const char *){ NULL });
}

size_t nfqct_settings_count(void)
{
	return NSETTINGS + NSTR + 1 + NSYNC;	/* the collector, then replication's */
}

const char *nfqct_settings_name(size_t i)
{
	if (i >= SYNC0)
		return i - SYNC0 < NSYNC ? sync_settings[i - SYNC0].name : NULL;
	if (i >= NSETTINGS)
		return i - NSETTINGS < NSTR ? str_settings[i - NSETTINGS].name :
		       i == COLLECTOR ? COLLECTOR_NAME : NULL;
	return settings[i].name;
}

bool nfqct_settings_reloadable(size_t i)
{
	return i < NSETTINGS ? settings[i].reloadable : i - NSETTINGS < NSTR;
}

int nfqct_settings_format(const struct nfqct_settings *s, size_t i, char *buf, size_t len)
{
	uint32_t v;

	if (i == COLLECTOR)
		return nfqct_hostport_format(&s->ipfix_collector, buf, len);
	if (i >= SYNC0)
		return i - SYNC0 < NSYNC ? sync_format(s, i - SYNC0, buf, len) : -EINVAL;
	if (i >= NSETTINGS && i - NSETTINGS < NSTR) {
		const char *str = (const char *)s + str_settings[i - NSETTINGS].offset;

		return snprintf(buf, len, "%s", *str ? str : "none") < (int)len ? 0 : -ENOSPC;
	}
	if (i >= NSETTINGS)
		return -EINVAL;
	v = *cfield(s, i);
	if (settings[i].words)
		return snprintf(buf, len, "%s", settings[i].words[v]) < (int)len ? 0 : -ENOSPC;
	return snprintf(buf, len, "%" PRIu32, v) < (int)len ? 0 : -ENOSPC;
}

static int lookup(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* sysctl.conf also accepts '/' as the separator ("net/netfilter/..."). */
static void normalise_name(char *name)
{
	if (strchr(name, '.') == NULL)
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '.';
}

static int parse_value(const struct setting *st, const char *value, uint32_t *out, const char **why)
{
	char *end;
	unsigned long long v;

	if (st->words) {
		for (uint32_t w = 0; st->words[w]; w++)
			if (strcmp(st->words[w], value) == 0) {
				*out = w;
				return 0;
			}
		*why = "expected one of the words listed in nfqctd(8)";
		return -EINVAL;
	}
	if (!isdigit((unsigned char)value[0])) {
		*why = "expected an unsigned number";
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end != '\0') {
		*why = "expected an unsigned number";
		return -EINVAL;
	}
	if (v < st->min || v > st->max) {
		*why = "out of range";
		return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

#define ERR(errs, origin, line, ...) \
	nfqct_errrec_print((errs), NFQCT_ERRREC_ERROR, (origin), (line), 0, __VA_ARGS__)

/* Apply "name" = "value" (both trimmed); errors go to @errs as records of origin:line. */
static int set_one(struct nfqct_settings *s, char *name, const char *value, const char *origin,
		   unsigned int line, FILE *errs)
{
	const struct setting *st;
	const char *why = NULL;
	uint32_t v;
	int i;

	normalise_name(name);
	if (!strcmp(name, COLLECTOR_NAME)) {
		struct nfqct_hostport hp;

		/* a refused value leaves the setting as it was */
		if (nfqct_hostport_parse(value, &hp) < 0) {
			ERR(errs, origin, line, "%s: bad value '%s': expected ADDR:PORT, [ADDR6]:PORT "
			    "or none", name, value);
			return -EINVAL;
		}
		s->ipfix_collector = hp;
		return 0;
	}
	for (size_t k = 0; k < NSYNC; k++) {
		if (strcmp(sync_settings[k].name, name))
			continue;
		if (sync_set(s, k, value, &why) < 0) {
			ERR(errs, origin, line, "%s: bad value '%s': %s", name, value, why);
			return -EINVAL;
		}
		return 0;
	}
	for (size_t k = 0; k < NSTR; k++) {
		if (strcmp(str_settings[k].name, name))
			continue;
		if (*value == '\0') {
			ERR(errs, origin, line, "%s: missing value", name);
			return -EINVAL;
		}
		if (set_str(s, k, value, &why) < 0) {
			ERR(errs, origin, line, "%s: bad value '%s': %s", name, value, why);
			return -EINVAL;
		}
		return 0;
	}
	i = lookup(name);
	if (i < 0) {
		for (size_t u = 0; u < sizeof(unsupported) / sizeof(unsupported[0]); u++)
			if (strcmp(unsupported[u].name, name) == 0) {
				ERR(errs, origin, line, "%s: %s", name, unsupported[u].why);
				return -EINVAL;
			}
		ERR(errs, origin, line, "unknown setting '%s'", name);
		return -EINVAL;
	}
	st = &settings[i];
	if (*value == '\0') {
		ERR(errs, origin, line, "%s: missing value", name);
		return -EINVAL;
	}
	if (parse_value(st, value, &v, &why) < 0) {
		if (st->words) {
			char list[128] = "";

			/* every word: sync_mode has four */
			for (size_t w = 0; st->words[w]; w++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 w ? "|" : "", st->words[w]);
			ERR(errs, origin, line, "%s: bad value '%s': %s (%s)", name, value, why, list);
		} else
			ERR(errs, origin, line, "%s: bad value '%s': %s (%" PRIu32 "..%" PRIu32 ")", name,
			    value, why, st->min, st->max);
		return -EINVAL;
	}
	*field(s, (size_t)i) = v;
	return 0;
}

static char *trim(char *p)
{
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return p;
}

/* Split "name = value" in place; NULL value when there is no '='. */
static int split_assignment(char *line, char **name, char **value)
{
	char *eq = strchr(line, '=');

	if (!eq)
		return -EINVAL;
	*eq = '\0';
	*name = trim(line);
	*value = trim(eq + 1);
	return 0;
}

int nfqct_settings_set(struct nfqct_settings *s, const char *assignment, const char *origin, FILE *errs)
{
	char *copy = strdup(assignment);
	char *name, *value;
	int ret;

	if (!copy) {
		ERR(errs, origin, 0, "out of memory");
		return -ENOMEM;
	}
	if (split_assignment(copy, &name, &value) < 0 || *name == '\0') {
		ERR(errs, origin, 0, "expected NAME=VALUE, got '%s'", assignment);
		ret = -EINVAL;
	} else {
		ret = set_one(s, name, value, origin, 0, errs);
	}
	free(copy);
	return ret;
}

int nfqct_settings_load_file(struct nfqct_settings *s, const char *path, FILE *errs)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		ERR(errs, path, 0, "cannot open: %s", strerror(-ret));
		return ret;
	}
	while (getline(&line, &cap, f) != -1) {
		char *p = trim(line), *name, *value;

		lineno++;
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		/* sysctl.conf: a leading '-' means "ignore errors on this line"; we still refuse bad names */
		if (*p == '-')
			p = trim(p + 1);
		if (split_assignment(p, &name, &value) < 0) {
			ERR(errs, path, lineno, "expected 'name = value'");
			ret = -EINVAL;
			continue;
		}
		if (set_one(s, name, value, path, lineno, errs) < 0)
			ret = -EINVAL;
	}
	if (ferror(f)) {
		ERR(errs, path, 0, "read error");
		ret = -EIO;
	}
	free(line);
	fclose(f);
	return ret;
}

int nfqct_settings_reload_diff(const struct nfqct_settings *cur, struct nfqct_settings *next, FILE *errs)
{
	int n = 0;

	for (size_t i = 0; i < NSETTINGS; i++) {
		if (settings[i].reloadable || *cfield(cur, i) == *cfield(next, i))
			continue;
		nfqct_errrec_print(errs, NFQCT_ERRREC_WARNING, "settings", 0, 0,
				   "%s cannot change without a restart; keeping %" PRIu32,
				   settings[i].name, *cfield(cur, i));
		*field(next, i) = *cfield(cur, i);
		n++;
	}
	if (memcmp(&cur->ipfix_collector, &next->ipfix_collector, sizeof(cur->ipfix_collector))) {
		nfqct_errrec_print(errs, NFQCT_ERRREC_WARNING, "settings", 0, 0,
				   "%s cannot change without a restart; keeping the old one",
				   COLLECTOR_NAME);
		next->ipfix_collector = cur->ipfix_collector;
		n++;
	}
	for (size_t k = 0; k < NSYNC; k++) {
		size_t off = sync_settings[k].offset;
		size_t sz = sync_settings[k].ifname ? sizeof(cur->sync_interface) : sizeof(cur->sync_peer);

		if (!memcmp((const char *)cur + off, (const char *)next + off, sz))
			continue;
		nfqct_errrec_print(errs, NFQCT_ERRREC_WARNING, "settings", 0, 0,
				   "%s cannot change without a restart; keeping the old one",
				   sync_settings[k].name);
		memcpy((char *)next + off, (const char *)cur + off, sz);
		n++;
	}
	return n;
}
