/*
 * test_settings.c - defaults, names, sysctl.conf parsing and its errors.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nfqct/errrec.h"
#include "nfqct/settings.h"
#include "nfqct/sync.h"
#include "unit.h"

static char *write_tmp(const char *content)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/nfqct-settings-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	close(fd);
	return path;
}

/* Run fn with errors captured into buf. */
static char errbuf[4096];

static FILE *errs_open(void)
{
	FILE *f = fmemopen(errbuf, sizeof(errbuf), "w");

	CU_ASSERT_FATAL(f != NULL);
	setvbuf(f, NULL, _IONBF, 0);
	memset(errbuf, 0, sizeof(errbuf));
	return f;
}

static void test_defaults(void)
{
	struct nfqct_settings s;

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(s.ct_max, 262144);
	CU_ASSERT_EQUAL(s.ct_acct, 1);
	CU_ASSERT_EQUAL(s.tcp_loose, 1);
	CU_ASSERT_EQUAL(s.tcp_max_retrans, 3);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_SYN_SENT], 120);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_SYN_RECV], 60);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_ESTABLISHED], 432000);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_FIN_WAIT], 120);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_CLOSE_WAIT], 60);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_LAST_ACK], 30);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_TIME_WAIT], 120);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_CLOSE], 10);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_SYN_SENT2], 120);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_MAX_RETRANS], 300);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_TCP_UNACK], 300);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_UDP], 30);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_UDP_STREAM], 120);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_ICMP], 30);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_ICMPV6], 30);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_GENERIC], 600);
	CU_ASSERT_EQUAL(s.stat_layout, NFQCT_STAT_LAYOUT_KERNEL6);
}

/* Every timeout slot has exactly one name, and names are unique. */
static void test_names_cover_fields(void)
{
	struct nfqct_settings s;
	size_t n = nfqct_settings_count();
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			CU_ASSERT(strcmp(nfqct_settings_name(i), nfqct_settings_name(j)) != 0);
	}
	nfqct_settings_init(&s);
	for (int t = 0; t < NFQCT_TO_MAX; t++) {
		int hits = 0;

		s.timeout[t] = 777777;
		for (size_t i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(nfqct_settings_format(&s, i, buf, sizeof(buf)), 0);
			if (strcmp(buf, "777777") == 0)
				hits++;
		}
		CU_ASSERT_EQUAL(hits, 1);
		nfqct_settings_init(&s);
	}
	CU_ASSERT_PTR_NULL(nfqct_settings_name(n));
}

static void test_file_ok(void)
{
	struct nfqct_settings s;
	FILE *errs = errs_open();
	char *path = write_tmp(
		"# comment\n"
		"; also a comment\n"
		"\n"
		"net.netfilter.nf_conntrack_max = 1000\n"
		"  net/netfilter/nf_conntrack_udp_timeout=45  \n"
		"-net.netfilter.nf_conntrack_acct = 0\n"
		"nfqct.stat_layout = legacy\n");

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(nfqct_settings_load_file(&s, path, errs), 0);
	CU_ASSERT_STRING_EQUAL(errbuf, "");
	CU_ASSERT_EQUAL(s.ct_max, 1000);
	CU_ASSERT_EQUAL(s.timeout[NFQCT_TO_UDP], 45);
	CU_ASSERT_EQUAL(s.ct_acct, 0);
	CU_ASSERT_EQUAL(s.stat_layout, NFQCT_STAT_LAYOUT_LEGACY);
	fclose(errs);
	unlink(path);
}

static void test_file_errors_all_reported(void)
{
	struct nfqct_settings s;
	FILE *errs = errs_open();
	char *path = write_tmp(
		"net.netfilter.nf_conntrack_max = 10\n"
		"net.netfilter.nf_conntrack_nosuch = 1\n"
		"net.netfilter.nf_conntrack_acct = 2\n"
		"just words\n"
		"net.netfilter.nf_conntrack_events = 0\n"
		"nfqct.stat_layout = fancy\n"
		"net.netfilter.nf_conntrack_udp_timeout = 12x\n"
		"net.netfilter.nf_conntrack_generic_timeout =\n");
	char expect[2048];

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(nfqct_settings_load_file(&s, path, errs), -EINVAL);
	snprintf(expect, sizeof(expect),
		 "%1$s:2: error: unknown setting 'net.netfilter.nf_conntrack_nosuch'\n"
		 "%1$s:3: error: net.netfilter.nf_conntrack_acct: bad value '2': out of range (0..1)\n"
		 "%1$s:4: error: expected 'name = value'\n"
		 "%1$s:5: error: net.netfilter.nf_conntrack_events: not supported: nfqct sends no conntrack events\n"
		 "%1$s:6: error: nfqct.stat_layout: bad value 'fancy': expected one of the words listed in nfqctd(8) (kernel6|legacy)\n"
		 "%1$s:7: error: net.netfilter.nf_conntrack_udp_timeout: bad value '12x': expected an unsigned number (1..8640000)\n"
		 "%1$s:8: error: net.netfilter.nf_conntrack_generic_timeout: missing value\n",
		 path);
	CU_ASSERT_STRING_EQUAL(errbuf, expect);
	fclose(errs);
	unlink(path);
}

static void test_missing_file(void)
{
	struct nfqct_settings s;
	FILE *errs = errs_open();

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(nfqct_settings_load_file(&s, "/nonexistent/nfqct.conf", errs), -ENOENT);
	CU_ASSERT_STRING_EQUAL(errbuf, "/nonexistent/nfqct.conf: error: cannot open: No such file or directory\n");
	fclose(errs);
}

static void test_set_option(void)
{
	struct nfqct_settings s;
	FILE *errs = errs_open();

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.batch=128", "-o", errs), 0);
	CU_ASSERT_EQUAL(s.batch, 128);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.batch", "-o", errs), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "net.netfilter.nf_conntrack_count=5", "-o", errs), -EINVAL);
	CU_ASSERT_STRING_EQUAL(errbuf,
		"-o: error: expected NAME=VALUE, got 'nfqct.batch'\n"
		"-o: error: net.netfilter.nf_conntrack_count: read-only (the number of entries)\n");
	fclose(errs);
}

/* The record format shared with the ruleset reader. */
static void test_errrec(void)
{
	FILE *errs = errs_open();

	nfqct_errrec_print(errs, NFQCT_ERRREC_ERROR, "f.rules", 3, 7, "bad '%s'", "x");
	nfqct_errrec_print(errs, NFQCT_ERRREC_ERROR, "f.conf", 12, 0, "bad");
	nfqct_errrec_print(errs, NFQCT_ERRREC_WARNING, "-o", 0, 5, "odd %d", 1);
	nfqct_errrec_print(NULL, NFQCT_ERRREC_ERROR, "none", 1, 1, "not written");
	CU_ASSERT_STRING_EQUAL(errbuf,
		"f.rules:3:7: error: bad 'x'\n"
		"f.conf:12: error: bad\n"
		"-o: warning: odd 1\n");
	fclose(errs);
}

static void test_reload_diff(void)
{
	struct nfqct_settings cur, next;
	FILE *errs = errs_open();

	nfqct_settings_init(&cur);
	next = cur;
	next.queue_maxlen = 5;			/* needs a restart */
	next.timeout[NFQCT_TO_UDP] = 99;	/* reloadable */
	CU_ASSERT_EQUAL(nfqct_settings_reload_diff(&cur, &next, errs), 1);
	CU_ASSERT_EQUAL(next.queue_maxlen, cur.queue_maxlen);
	CU_ASSERT_EQUAL(next.timeout[NFQCT_TO_UDP], 99);
	CU_ASSERT_STRING_EQUAL(errbuf,
		"settings: warning: nfqct.queue_maxlen cannot change without a restart; keeping 8192\n");
	fclose(errs);
}

/* Replication's settings: words, addresses, the link, their errors, restart only. */
static void test_sync(void)
{
	struct nfqct_settings s, next;
	FILE *errs = errs_open();
	char buf[64];
	size_t i, n = nfqct_settings_count(), found = 0;

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(s.sync_mode, 0);
	CU_ASSERT_EQUAL(s.sync_window, 300);
	CU_ASSERT_EQUAL(s.sync_resend_queue, 131072);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_mode=ftfw", "-o", errs), 0);
	CU_ASSERT_EQUAL(s.sync_mode, 1);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_mode=alarm", "-o", errs), 0);
	CU_ASSERT_EQUAL(s.sync_mode, 3);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_transport=multicast", "-o", errs), 0);
	CU_ASSERT_EQUAL(s.sync_transport, NFQCT_SYNC_MULTICAST);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_peer_kind=nfqct", "-o", errs), 0);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_local=198.18.2.1:3780", "-o", errs), 0);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_peer=[ff12::3780]:3780", "-o", errs), 0);
	CU_ASSERT_EQUAL(s.sync_peer.family, AF_INET6);
	CU_ASSERT_EQUAL(s.sync_peer.port, 3780);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_interface=eth2", "-o", errs), 0);
	CU_ASSERT_STRING_EQUAL(s.sync_interface, "eth2");
	CU_ASSERT_STRING_EQUAL(errbuf, "");
	for (i = 0; i < n; i++) {
		const char *name = nfqct_settings_name(i);

		if (strncmp(name, "nfqct.sync_", 11))
			continue;
		found++;
		CU_ASSERT_FALSE(nfqct_settings_reloadable(i));
		CU_ASSERT_EQUAL(nfqct_settings_format(&s, i, buf, sizeof(buf)), 0);
		if (!strcmp(name, "nfqct.sync_peer"))
			CU_ASSERT_STRING_EQUAL(buf, "[ff12::3780]:3780");
		if (!strcmp(name, "nfqct.sync_local"))
			CU_ASSERT_STRING_EQUAL(buf, "198.18.2.1:3780");
		if (!strcmp(name, "nfqct.sync_interface"))
			CU_ASSERT_STRING_EQUAL(buf, "eth2");
		if (!strcmp(name, "nfqct.sync_mode"))
			CU_ASSERT_STRING_EQUAL(buf, "alarm");
	}
	CU_ASSERT_EQUAL(found, 12);
	/* one error each, the words listed whole */
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_mode=tcp", "-o", errs), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_peer=198.18.2.2", "-o", errs), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.sync_interface=a/b", "-o", errs), -EINVAL);
	CU_ASSERT_STRING_EQUAL(errbuf,
		"-o: error: nfqct.sync_mode: bad value 'tcp': expected one of the words listed in "
		"nfqctd(8) (off|ftfw|notrack|alarm)\n"
		"-o: error: nfqct.sync_peer: bad value '198.18.2.2': expected ADDR:PORT, [ADDR6]:PORT or none\n"
		"-o: error: nfqct.sync_interface: bad value 'a/b': expected an interface name (at most 15 "
		"characters), or none\n");
	CU_ASSERT_EQUAL(s.sync_peer.family, AF_INET6);	/* refused values change nothing */
	/* a reload keeps them */
	next = s;
	CU_ASSERT_EQUAL(nfqct_settings_set(&next, "nfqct.sync_peer=198.18.2.9:1", "-o", errs), 0);
	CU_ASSERT_EQUAL(nfqct_settings_set(&next, "nfqct.sync_window=5", "-o", errs), 0);
	fclose(errs);
	errs = errs_open();
	CU_ASSERT_EQUAL(nfqct_settings_reload_diff(&s, &next, errs), 2);
	CU_ASSERT_EQUAL(memcmp(&next.sync_peer, &s.sync_peer, sizeof(s.sync_peer)), 0);
	CU_ASSERT_EQUAL(next.sync_window, 300);
	fclose(errs);
}

/* The nfqct.sync_* settings together (nfqct_sync_check, nfqctd --check). */
static void test_sync_check(void)
{
	static const struct {
		const char *set[4];
		const char *err;	/* NULL: accepted */
	} cases[] = {
		{ { NULL }, NULL },					/* off */
		{ { "nfqct.sync_mode=ftfw" }, "sync: nfqct.sync_peer is not set" },
		{ { "nfqct.sync_mode=ftfw", "nfqct.sync_peer=198.18.2.2:3780" },
		  "sync: udp needs nfqct.sync_local (ADDR:PORT to bind)" },
		{ { "nfqct.sync_mode=ftfw", "nfqct.sync_peer=198.18.2.2:3780",
		    "nfqct.sync_local=[2001:db8::1]:3780" },
		  "sync: nfqct.sync_local and nfqct.sync_peer are of different families" },
		{ { "nfqct.sync_mode=notrack", "nfqct.sync_peer=198.18.2.2:3780",
		    "nfqct.sync_local=198.18.2.1:3780" }, NULL },
		{ { "nfqct.sync_mode=ftfw", "nfqct.sync_transport=multicast",
		    "nfqct.sync_peer=198.18.2.2:3780" },
		  "sync: multicast: nfqct.sync_peer is not a multicast group" },
		{ { "nfqct.sync_mode=ftfw", "nfqct.sync_transport=multicast",
		    "nfqct.sync_peer=225.0.0.50:3780" }, NULL },
		{ { "nfqct.sync_mode=ftfw", "nfqct.sync_transport=multicast",
		    "nfqct.sync_peer=[ff12::50]:3780" }, "sync: IPv6 multicast needs nfqct.sync_interface" },
		{ { "nfqct.sync_mode=alarm", "nfqct.sync_transport=multicast",
		    "nfqct.sync_peer=[ff12::50]:3780", "nfqct.sync_interface=eth2" }, NULL },
	};

	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		struct nfqct_settings s;
		char err[256] = "";

		nfqct_settings_init(&s);
		for (size_t k = 0; k < 4 && cases[i].set[k]; k++)
			CU_ASSERT_EQUAL(nfqct_settings_set(&s, cases[i].set[k], "-o", stderr), 0);
		if (!cases[i].err) {
			CU_ASSERT_EQUAL(nfqct_sync_check(&s, err, sizeof(err)), 0);
		} else {
			CU_ASSERT_EQUAL(nfqct_sync_check(&s, err, sizeof(err)), -EINVAL);
			CU_ASSERT_STRING_EQUAL(err, cases[i].err);
		}
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "replication settings", test_sync },
		{ "replication settings together", test_sync_check },
		{ "defaults are the kernel's", test_defaults },
		{ "every timeout has one name", test_names_cover_fields },
		{ "sysctl.conf file", test_file_ok },
		{ "every error reported with file:line", test_file_errors_all_reported },
		{ "missing file", test_missing_file },
		{ "-o NAME=VALUE", test_set_option },
		{ "error records", test_errrec },
		{ "reload keeps restart-only settings", test_reload_diff },
	};

	return unit_main("settings", tests, UNIT_COUNT(tests));
}
