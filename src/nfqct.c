/*
 * nfqct.c - the command-line client (nfqct(8)).
 *
 * `stat` reads the stat tree (DIR/net/stat/...) and works whether or not
 * the daemon runs; list/flush/reload/rules go through the control socket;
 * `check` validates a ruleset file locally.
 *
 * Exit codes: 0 success, 1 failure (bad usage, the command failed, a
 * malformed stat file, a bad ruleset), 2 the daemon or its stat tree
 * cannot be reached.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <net/if.h>
#include <strings.h>

#include <urcu-qsbr.h>

#include "nfqct/ctcmd.h"
#include "nfqct/ctl.h"
#include "nfqct/events.h"
#include "nfqct/statextra.h"
#include "nfqct/rules.h"
#include "nfqct/settings.h"
#include "nfqct/simulate.h"
#include "nfqct/statfile.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define DEFAULT_DIR RUNSTATEDIR "/nfqct"

static volatile sig_atomic_t stop_requested;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfqct [-s DIR] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  stat [-i SECONDS] [-c COUNT] [--per-worker] [--json]\n"
		"                   counters from DIR/net/stat; with -i, rates per second\n"
		"  list             the connection table, in the format of conntrack -L\n"
		"  list --expect    the expectations, in the format of conntrack -L expect\n"
		"  list --external  the replication peer's flows (the external cache)\n"
		"  ha primary|backup|fault|status\n"
		"                   replication's role, for keepalived's notify scripts: primary\n"
		"                   commits the external cache and sends the table\n"
		"  list [FILTER] [-o extended|id|json]\n"
		"                   the entries FILTER matches (conntrack -L's filters, nfqct(8))\n"
		"  count [FILTER]   how many entries match (conntrack -C)\n"
		"  delete FILTER|--all [-o FMT]   delete them, print them (conntrack -D)\n"
		"  update FILTER|--all --mark VALUE[/MASK]   set their mark (conntrack -U)\n"
		"  events [-e NEW,UPDATE,DESTROY] [FILTER] [-o timestamp|json|id|seq]\n"
		"                   the event stream, as conntrack -E\n"
		"  flush            empty the connection table\n"
		"  reload           reload the rules and settings (as SIGHUP)\n"
		"  upgrade          re-execute nfqctd from its binary on disk, keeping the queues\n"
		"                   and the table (as SIGUSR2); says how it went\n"
		"  rules [-c] [-4|-6]\n"
		"                   the running ruleset; -c with counters; -4/-6 the half that\n"
		"                   judges that family (all of it unless --rules-v4/-v6)\n"
		"  recent NAME [+ADDR|-ADDR|/]\n"
		"                   -m recent's list NAME, as /proc/net/xt_recent/NAME; add or\n"
		"                   stamp ADDR, remove it, or empty the list\n"
		"  set add|del|test SET ELEMENT [options] [--kill-flows|--keep-flows]\n"
		"  set list|save|flush [SET]\n"
		"  set restore [FILE]\n"
		"                   the daemon's sets, as ipset(8); --kill-flows: delete the\n"
		"                   entries the added element matches; restore reads stdin\n"
		"  save [FILE]      save the table to FILE (default: the daemon's state file)\n"
		"  restore [--replace] FILE\n"
		"                   merge FILE's entries into the table; existing ones win\n"
		"                   unless --replace\n"
		"  check [-4|-6] FILE\n"
		"                   validate a ruleset file (-4/-6: one family's, as --rules-v4/-v6)\n"
		"  simulate [-r RULES | --rules-v4 FILE --rules-v6 FILE] [-c CONFIG] [-o NAME=VALUE]... [--hook HOOK]\n"
		"           [--in IFNAME] [--out IFNAME] [--ifname INDEX=NAME]... [--checksums]\n"
		"           [--list] [--json] FILE...\n"
		"                   run the ruleset and the table on pcap/pcapng captures, a line per packet\n"
		"\n"
		"options:\n"
		"  -s, --stat-dir DIR   the daemon's stat directory (default %s)\n"
		"  -h, --help           this help\n"
		"  -V, --version        the version\n",
		DEFAULT_DIR);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("nfqct: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	/* the message, then where to look: the whole usage would bury it */
	fputs("Try 'nfqct --help', or see nfqct(8).\n", stderr);
	return 1;
}

/* ---- stat ---- */

struct stat_opts {
	double interval;	/* seconds; 0: one summary */
	long count;		/* -1: until SIGINT */
	bool per_worker;
	bool json;
	const char *extra_dir;	/* the summary: also the events and IPFIX files (statextra.h) */
};

struct snapshot {
	struct nfqct_stattab ct;
	struct nfqct_stattab q;		/* nfields == 0: no nfqct_queue file */
};

static void snapshot_free(struct snapshot *s)
{
	nfqct_stattab_free(&s->ct);
	nfqct_stattab_free(&s->q);
}

/* Read both files; returns 0, 1 (malformed) or 2 (missing). */
static int snapshot_read(const char *dir, struct snapshot *s)
{
	char path[4096];
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/net/stat/nf_conntrack", dir);
	r = nfqct_statfile_read(path, &s->ct);
	if (r < 0) {
		if (r == -EINVAL) {
			fprintf(stderr, "nfqct: %s: not a stat file\n", path);
			return 1;
		}
		fprintf(stderr, "nfqct: cannot read %s: %s (is nfqctd running with --stat-dir %s?)\n",
			path, strerror(-r), dir);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/net/stat/nfqct_queue", dir);
	r = nfqct_statfile_read(path, &s->q);
	if (r == -ENOENT)
		return 0;	/* an older daemon, or another writer: counters only */
	if (r < 0) {
		fprintf(stderr, "nfqct: cannot read %s: %s\n", path, strerror(-r));
		nfqct_stattab_free(&s->ct);
		return r == -EINVAL ? 1 : 2;
	}
	return 0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Print fields [1, nfields) of @vals: "name=v" (text) or "\"name\":v" (json). */
static void print_fields(const struct nfqct_stattab *t, const uint64_t *vals, bool json,
			 const char *suffix, bool first)
{
	for (unsigned int j = 1; j < t->nfields; j++) {
		if (json) {
			if (!first)
				putchar(',');
			json_str(t->names[j]);
			printf(":%" PRIu64, vals[j]);
		} else {
			printf("%s%s%s=%" PRIu64, first ? "" : " ", t->names[j], suffix, vals[j]);
		}
		first = false;
	}
}

/* The text or JSON form of one table: totals, or per line. @key names the
 * per-line first field in text ("cpu", "queue"). */
static void print_table(const struct nfqct_stattab *t, const char *name, bool per_worker,
			bool json, bool rates)
{
	uint64_t sum[NFQCT_STATTAB_MAXFIELDS];
	bool is_ct = !strcmp(name, "nf_conntrack");
	const char *suffix = rates ? "/s" : "";

	nfqct_stattab_sum(t, sum);
	if (json) {
		json_str(name);
		putchar(':');
		putchar('{');
		if (!rates) {
			if (is_ct)
				printf("\"entries\":%" PRIu64, sum[0]);
			else
				printf("\"queues\":%u", t->nlines);
		}
		print_fields(t, sum, true, "", rates);
		if (per_worker) {
			printf("%s\"workers\":[", t->nfields > 1 || !rates ? "," : "");
			for (unsigned int i = 0; i < t->nlines; i++) {
				const uint64_t *row = t->values + (size_t)i * t->nfields;

				printf("%s{", i ? "," : "");
				if (is_ct)
					printf("\"cpu\":%u", i);
				else
					printf("\"queue\":%" PRIu64, row[0]);
				print_fields(t, row, true, "", false);
				putchar('}');
			}
			putchar(']');
		}
		putchar('}');
		return;
	}
	if (!per_worker) {
		if (is_ct)
			printf("entries=%" PRIu64, sum[0]);
		else
			printf("queues=%u", t->nlines);
		print_fields(t, sum, false, suffix, false);
		putchar('\n');
		return;
	}
	if (is_ct)
		printf("entries=%" PRIu64 "\n", sum[0]);
	for (unsigned int i = 0; i < t->nlines; i++) {
		const uint64_t *row = t->values + (size_t)i * t->nfields;

		/* conntrack -S style: "cpu=0   \tfound=..." */
		if (is_ct)
			printf("cpu=%-4u\t", i);
		else
			printf("queue=%-4" PRIu64 "\t", row[0]);
		print_fields(t, row, false, suffix, true);
		putchar('\n');
	}
}

static void print_counts(const struct snapshot *s, const struct stat_opts *o)
{
	if (o->json)
		putchar('{');
	print_table(&s->ct, "nf_conntrack", o->per_worker, o->json, false);
	if (s->q.nfields) {
		if (o->json)
			putchar(',');
		print_table(&s->q, "nfqct_queue", o->per_worker, o->json, false);
	}
	if (o->extra_dir) {
		fflush(stdout);
		nfqct_statextra_print(o->extra_dir, o->json, stdout);
	}
	if (o->json)
		putchar('}');
}

/* Turn per-line deltas into per-second rates, in place (the first field is left alone). */
static void to_rates(struct nfqct_stattab *d, uint64_t elapsed_ms)
{
	if (elapsed_ms == 0)
		elapsed_ms = 1;
	for (size_t k = 0; k < (size_t)d->nlines * d->nfields; k++)
		if (k % d->nfields)
			d->values[k] = (d->values[k] * 1000 + elapsed_ms / 2) / elapsed_ms;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_sigint(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Sleep @seconds unless SIGINT/SIGTERM arrives; false when asked to stop. */
static bool sleep_interval(double seconds)
{
	struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };

	while (!stop_requested && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return !stop_requested;
}

static int stat_rates(const char *dir, const struct stat_opts *o)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	struct snapshot prev, cur;
	uint64_t t_prev, t_cur;
	int r;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = snapshot_read(dir, &prev);
	if (r)
		return r;
	t_prev = now_ms();
	for (long n = 0; o->count < 0 || n < o->count; ) {
		struct nfqct_stattab dct, dq = { 0 };

		if (!sleep_interval(o->interval))
			break;
		r = snapshot_read(dir, &cur);
		if (r)
			goto out;
		t_cur = now_ms();
		r = nfqct_stattab_delta(&prev.ct, &cur.ct, &dct);
		if (r == 0 && cur.q.nfields) {
			r = nfqct_stattab_delta(&prev.q, &cur.q, &dq);
			if (r < 0)
				nfqct_stattab_free(&dct);
		}
		if (r == -EINVAL) {
			/* Workers or layout changed (daemon restarted): start again from here. */
			fprintf(stderr, "nfqct: the stat files changed shape; restarting the rates\n");
		} else if (r < 0) {
			fprintf(stderr, "nfqct: %s\n", strerror(-r));
			snapshot_free(&cur);
			r = 1;
			goto out;
		} else {
			to_rates(&dct, t_cur - t_prev);
			to_rates(&dq, t_cur - t_prev);
			if (o->json) {
				printf("{\"interval_ms\":%" PRIu64 ",\"counts\":", t_cur - t_prev);
				print_counts(&cur, o);
				printf(",\"rates\":{");
				print_table(&dct, "nf_conntrack", o->per_worker, true, true);
				if (dq.nfields) {
					putchar(',');
					print_table(&dq, "nfqct_queue", o->per_worker, true, true);
				}
				printf("}}\n");
			} else {
				uint64_t sum[NFQCT_STATTAB_MAXFIELDS];

				nfqct_stattab_sum(&dct, sum);
				if (o->per_worker) {
					print_table(&dct, "nf_conntrack", true, false, true);
					if (dq.nfields)
						print_table(&dq, "nfqct_queue", true, false, true);
				} else {
					/* One line per interval, as lnstat. */
					printf("entries=%" PRIu64, sum[0]);
					print_fields(&dct, sum, false, "/s", false);
					if (dq.nfields) {
						nfqct_stattab_sum(&dq, sum);
						print_fields(&dq, sum, false, "/s", false);
					}
					putchar('\n');
				}
			}
			fflush(stdout);
			nfqct_stattab_free(&dct);
			nfqct_stattab_free(&dq);
			n++;
		}
		snapshot_free(&prev);
		prev = cur;
		t_prev = t_cur;
	}
	r = 0;
out:
	snapshot_free(&prev);
	return r;
}

static int cmd_stat(const char *dir, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "per-worker", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat_opts o = { 0, -1, false, false, NULL };
	bool have_count = false;
	struct snapshot s;
	char *end;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+i:c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			errno = 0;
			o.interval = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o.interval >= 0.01 && o.interval <= 86400))
				return usage_error("stat: bad interval '%s' (seconds, 0.01 to 86400)", optarg);
			break;
		case 'c':
			errno = 0;
			o.count = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o.count < 1)
				return usage_error("stat: bad count '%s' (a positive number)", optarg);
			have_count = true;
			break;
		case 'w':
			o.per_worker = true;
			break;
		case 'j':
			o.json = true;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc)
		return usage_error("stat: unexpected argument '%s'", argv[optind]);
	if (have_count && o.interval == 0)
		return usage_error("stat: -c needs -i");
	if (o.interval > 0)
		return stat_rates(dir, &o);

	r = snapshot_read(dir, &s);
	if (r)
		return r;
	o.extra_dir = dir;
	print_counts(&s, &o);
	if (o.json)
		putchar('\n');
	snapshot_free(&s);
	return 0;
}

/* ---- control socket commands ---- */

static int cmd_ctl(const char *dir, const char *name, int argc, char **argv)
{
	char cmd[64];
	bool counters = false, expect = false;
	const char *family = "";

	if (!strcmp(name, "rules")) {
		static const struct option longopts[] = {
			{ "counters", no_argument, NULL, 'c' },
			{ "ipv4", no_argument, NULL, '4' },
			{ "ipv6", no_argument, NULL, '6' },
			{ NULL, 0, NULL, 0 },
		};
		int c;

		optind = 0;
		while ((c = getopt_long(argc, argv, "+c46", longopts, NULL)) != -1) {
			if (c == '4' || c == '6') {
				family = c == '4' ? " -4" : " -6";
				continue;
			}
			if (c != 'c') {
				usage(stderr);
				return 1;
			}
			counters = true;
		}
	} else {
		optind = 1;
	}
	/* list --expect: the expectations, as conntrack -L expect */
	if (!strcmp(name, "list") && optind < argc && !strcmp(argv[optind], "--expect")) {
		optind++;
		expect = true;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	snprintf(cmd, sizeof(cmd), "%s%s%s%s", name, counters ? " -c" : "", family,
		 expect ? " --expect" : "");
	return nfqct_ctl_request(dir, cmd, stdout, stderr);
}

/* ha primary|backup|fault|status: replication's role (sync.h) */
static int cmd_ha(const char *dir, int argc, char **argv)
{
	static const char *const words[] = { "primary", "backup", "fault", "status" };
	char cmd[64];

	if (argc != 2)
		return usage_error("ha: %s", argc < 2 ? "missing the role (primary, backup, fault or status)" :
				   "too many arguments");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(argv[1], words[i])) {
			snprintf(cmd, sizeof(cmd), "ha %s", words[i]);
			return nfqct_ctl_request(dir, cmd, stdout, stderr);
		}
	return usage_error("ha: unknown role '%s' (expected primary, backup, fault or status)", argv[1]);
}

/* save [FILE], restore [--replace] FILE: the daemon reads and writes the
 * file itself, so the path goes over made absolute. */
static int cmd_state(const char *dir, const char *name, int argc, char **argv)
{
	bool save = !strcmp(name, "save"), replace = false;
	char cmd[NFQCT_CTL_MAXLINE], cwd[NFQCT_CTL_MAXLINE];	/* longer cannot go over */
	const char *file = NULL;

	for (int i = 1; i < argc; i++) {
		if (!save && !strcmp(argv[i], "--replace"))
			replace = true;
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return usage_error("%s: unexpected argument '%s'", name, argv[i]);
	}
	if (!save && !file)
		return usage_error("restore: missing FILE");
	if (file && file[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return usage_error("%s: cannot make '%s' absolute: %s", name, file, strerror(errno));
	if (file && strpbrk(file, " \t\r\n"))
		return usage_error("%s: FILE may not contain blanks", name);
	if ((size_t)snprintf(cmd, sizeof(cmd), "%s%s%s%s%s%s", name, replace ? " --replace" : "",
			     file ? " " : "", file && file[0] != '/' ? cwd : "",
			     file && file[0] != '/' ? "/" : "", file ? file : "") >= sizeof(cmd) - 1)
		return usage_error("%s: path too long", name);
	return nfqct_ctl_request(dir, cmd, stdout, stderr);
}

/* recent NAME [+ADDR|-ADDR|/] */
static int cmd_recent(const char *dir, int argc, char **argv)
{
	char cmd[NFQCT_CTL_MAXLINE];

	if (argc < 2 || argc > 3)
		return usage_error("recent: %s", argc < 2 ? "missing list NAME" : "too many arguments");
	for (int i = 1; i < argc; i++)
		if (!argv[i][0] || strpbrk(argv[i], " \t\r\n"))
			return usage_error("recent: bad argument '%s'", argv[i]);
	if (argc == 3 && argv[2][0] != '+' && argv[2][0] != '-' && strcmp(argv[2], "/"))
		return usage_error("recent: bad command '%s': expected +ADDR, -ADDR or /", argv[2]);
	if ((size_t)snprintf(cmd, sizeof(cmd), "recent %s%s%s", argv[1], argc == 3 ? " " : "",
			     argc == 3 ? argv[2] : "") >= sizeof(cmd) - 1)
		return usage_error("recent: name too long");
	return nfqct_ctl_request(dir, cmd, stdout, stderr);
}

/*
 * set CMD [NAME [ELEMENT [options]]], set restore [FILE]: ipset's commands
 * on the daemon's sets.  restore without FILE reads the text on stdin
 * into a temporary file the daemon reads (0644: it may run as -u USER).
 */
static int cmd_set(const char *dir, int argc, char **argv)
{
	char cmd[NFQCT_CTL_MAXLINE], cwd[PATH_MAX], tmp[] = "/tmp/nfqct-set.XXXXXX";
	size_t off;
	int r, fd = -1;

	if (argc < 2)
		return usage_error("set: missing the command (add, del, test, list, save, flush, restore)");
	if (!strcmp(argv[1], "restore")) {
		const char *file = argc > 2 ? argv[2] : NULL;

		if (argc > 3)
			return usage_error("set restore: too many arguments");
		if (!file || !strcmp(file, "-")) {
			char buf[65536];
			ssize_t n;

			fd = mkstemp(tmp);
			if (fd < 0 || fchmod(fd, 0644) < 0)
				return usage_error("set restore: cannot make a temporary file: %s", strerror(errno));
			while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
				if (write(fd, buf, (size_t)n) != n) {
					n = -1;
					break;
				}
			close(fd);
			if (n < 0) {
				unlink(tmp);
				return usage_error("set restore: cannot copy stdin: %s", strerror(errno));
			}
			file = tmp;
		}
		if (file[0] != '/' && !getcwd(cwd, sizeof(cwd)))
			return usage_error("set restore: cannot make '%s' absolute: %s", file, strerror(errno));
		if (strpbrk(file, " \t\r\n"))
			return usage_error("set restore: FILE may not contain blanks");
		if ((size_t)snprintf(cmd, sizeof(cmd), "set restore %s%s%s", file[0] != '/' ? cwd : "",
				     file[0] != '/' ? "/" : "", file) >= sizeof(cmd) - 1)
			return usage_error("set restore: path too long");
		r = nfqct_ctl_request(dir, cmd, stdout, stderr);
		if (file == tmp)
			unlink(tmp);
		return r;
	}
	off = (size_t)snprintf(cmd, sizeof(cmd), "set");
	for (int i = 1; i < argc; i++) {
		if (!argv[i][0] || strpbrk(argv[i], " \t\r\n"))
			return usage_error("set: bad argument '%s' (no blanks: a comment is one word here)",
					   argv[i]);
		off += (size_t)snprintf(cmd + off, off < sizeof(cmd) ? sizeof(cmd) - off : 0, " %s", argv[i]);
		if (off >= sizeof(cmd) - 1)
			return usage_error("set: command too long");
	}
	return nfqct_ctl_request(dir, cmd, stdout, stderr);
}

static int cmd_check(int argc, char **argv)
{
	struct nfqct_ruleset *rs = NULL;
	int r, family = 0;

	if (argc > 1 && (!strcmp(argv[1], "-4") || !strcmp(argv[1], "-6"))) {
		family = argv[1][1] == '4' ? AF_INET : AF_INET6;
		argc--;
		argv++;
	}
	if (argc != 2)
		return usage_error("check: %s", argc < 2 ? "missing FILE" : "too many arguments");
	/* The loader reports every error itself, an unreadable file included. */
	r = nfqct_ruleset_load_family(argv[1], family, 1, &rs, stderr);
	if (r < 0)
		return 1;
	nfqct_ruleset_free(rs);
	printf("%s: ok\n", argv[1]);
	return 0;
}

/* ---- simulate ---- */

static const char *const hook_names[NFQCT_HOOK_MAX] = {
	"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING",
};

/* The table and the counters at the end, as `nfqct list` and `nfqct stat` print them. */
static int simulate_list(struct nfqct_sim *sim, const struct nfqct_settings *s, bool json)
{
	struct nfqct_worker_stats block = { .ct = *nfqct_sim_stats(sim) };
	struct nfqct_stats_view view = { .workers = &block, .nworkers = 1 };
	struct nfqct_stattab tab;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!json) {
		nfqct_sim_list(sim, stdout);
	} else {
		f = open_memstream(&text, &len);
		if (!f)
			return -ENOMEM;
		nfqct_sim_list(sim, f);
		fclose(f);
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			fputs("{\"entry\":", stdout);
			json_str(line);
			fputs("}\n", stdout);
		}
		free(text);
		text = NULL;
	}
	/* the counters go through the stat file's own format and reader */
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	nfqct_statfile_format_ct(f, &view, nfqct_sim_entries(sim), s->stat_layout);
	rewind(f);
	r = nfqct_statfile_parse(f, &tab);
	fclose(f);
	free(text);
	if (r < 0)
		return r;
	if (json)
		putchar('{');
	print_table(&tab, "nf_conntrack", false, json, false);
	if (json)
		fputs("}\n", stdout);
	nfqct_stattab_free(&tab);
	return 0;
}

static int cmd_simulate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "rules-v4", required_argument, NULL, '4' },
		{ "rules-v6", required_argument, NULL, '6' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'o' },
		{ "hook", required_argument, NULL, 'H' },
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'O' },
		{ "ifname", required_argument, NULL, 'n' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "checksums", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules_path = SYSCONFDIR "/nfqct/nfqct.rules", *rules_fam[2] = { NULL, NULL };
	struct nfqct_sim_config cfg = { .hook = -1 };
	struct nfqct_ruleset *rs = NULL;
	struct nfqct_settings s;
	struct nfqct_sim *sim = NULL;
	bool rules_explicit = false, list = false, bad = false;
	int c, r, ret = 1;

	nfqct_settings_init(&s);
	optind = 0;
	while ((c = getopt_long(argc, argv, "r:c:o:", longopts, NULL)) != -1) {
		char *eq, *end;
		unsigned long idx;
		int h;

		switch (c) {
		case 'r':
			rules_path = optarg;
			rules_explicit = true;
			break;
		case '4':
		case '6':
			rules_fam[c == '6'] = optarg;
			break;
		case 'c':
			if (nfqct_settings_load_file(&s, optarg, stderr) < 0)
				bad = true;
			break;
		case 'o':
			if (nfqct_settings_set(&s, optarg, "-o", stderr) < 0)
				bad = true;
			break;
		case 'H':
			for (h = 0; h < NFQCT_HOOK_MAX && strcasecmp(optarg, hook_names[h]); h++)
				;
			if (h == NFQCT_HOOK_MAX)
				return usage_error("simulate: bad hook '%s': expected PREROUTING, INPUT, "
						   "FORWARD, OUTPUT or POSTROUTING", optarg);
			cfg.hook = h;
			break;
		case 'i':
		case 'O':
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				return usage_error("simulate: bad interface name '%s'", optarg);
			*(c == 'i' ? &cfg.in : &cfg.out) = optarg;
			break;
		case 'n':
			eq = strchr(optarg, '=');
			errno = 0;
			idx = strtoul(optarg, &end, 10);
			if (!eq || end != eq || errno || idx == 0 || idx > INT32_MAX || !eq[1] ||
			    strlen(eq + 1) >= IF_NAMESIZE)
				return usage_error("simulate: bad --ifname '%s': expected INDEX=NAME", optarg);
			if (nfqct_sim_ifname((uint32_t)idx, eq + 1) < 0)
				return usage_error("simulate: too many --ifname");
			break;
		case 'l':
			list = true;
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'k':
			cfg.checksums = true;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (bad)
		return 1;
	if (optind >= argc)
		return usage_error("simulate: missing FILE (a pcap or pcapng capture)");
	if (rules_fam[0] || rules_fam[1]) {
		struct nfqct_ruleset *half[2] = { NULL, NULL };

		if (rules_explicit)
			return usage_error("simulate: -r (both families) and --rules-v4/--rules-v6 "
					   "exclude each other");
		for (int f = 0; f < 2; f++)
			if (rules_fam[f] && nfqct_ruleset_load_family(rules_fam[f], f ? AF_INET6 : AF_INET, 1,
								      &half[f], stderr) < 0) {
				nfqct_ruleset_free(half[0]);
				return 1;
			}
		rs = nfqct_ruleset_pair(half[0], half[1], 1);
	} else if (!rules_explicit && access(rules_path, F_OK) < 0 && errno == ENOENT) {
		fprintf(stderr, "nfqct: simulate: no ruleset at %s: accepting everything\n", rules_path);
		rs = nfqct_ruleset_accept_all(1);
	} else if (nfqct_ruleset_load(rules_path, 1, &rs, stderr) < 0) {
		return 1;
	}
	if (!rs) {
		fprintf(stderr, "nfqct: simulate: out of memory\n");
		return 1;
	}
	cfg.settings = &s;
	cfg.rs = rs;
	rcu_register_thread();
	r = nfqct_sim_create(&cfg, &sim);
	if (r < 0) {
		fprintf(stderr, "nfqct: simulate: %s\n", strerror(-r));
		goto out;
	}
	ret = 0;
	for (int i = optind; i < argc; i++)
		if (nfqct_sim_file(sim, argv[i], stdout, stderr) < 0)
			ret = 1;
	if (list && simulate_list(sim, &s, cfg.json) < 0)
		ret = 1;
out:
	nfqct_sim_destroy(sim);
	nfqct_ruleset_free(rs);
	rcu_barrier();
	rcu_unregister_thread();
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stat-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = DEFAULT_DIR;
	const char *cmd;
	int c, r;

	while ((c = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("nfqct %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc)
		return usage_error("missing command");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	if (!strcmp(cmd, "stat"))
		r = cmd_stat(dir, argc, argv);
	else if (!strcmp(cmd, "ha"))
		r = cmd_ha(dir, argc, argv);
	else if (!strcmp(cmd, "list") && argc == 2 && !strcmp(argv[1], "--external"))
		r = nfqct_ctl_request(dir, "list --external", stdout, stderr);
	else if (!strcmp(cmd, "events"))
		r = nfqct_events_client(dir, argc, argv, stdout, stderr);
	else if (nfqct_ctcmd_is_table(argc, argv))
		r = nfqct_ctcmd_client(dir, argc, argv, stdout, stderr);
	else if (!strcmp(cmd, "list") || !strcmp(cmd, "flush") || !strcmp(cmd, "reload") ||
		 !strcmp(cmd, "upgrade") ||
		 !strcmp(cmd, "rules"))
		r = cmd_ctl(dir, cmd, argc, argv);
	else if (!strcmp(cmd, "recent"))
		r = cmd_recent(dir, argc, argv);
	else if (!strcmp(cmd, "set"))
		r = cmd_set(dir, argc, argv);
	else if (!strcmp(cmd, "save") || !strcmp(cmd, "restore"))
		r = cmd_state(dir, cmd, argc, argv);
	else if (!strcmp(cmd, "check"))
		r = cmd_check(argc, argv);
	else if (!strcmp(cmd, "simulate"))
		r = cmd_simulate(argc, argv);
	else if (!strcmp(cmd, "help"))
		r = (usage(stdout), 0);
	else
		r = usage_error("unknown command '%s'", cmd);
	if (fflush(stdout) != 0 && r == 0) {
		fprintf(stderr, "nfqct: write error: %s\n", strerror(errno));
		r = 1;
	}
	return r;
}
