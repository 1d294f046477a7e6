/*
 * nfqctd.c - the daemon: options, settings, workers, signals.
 *
 * Threads: one worker per queue (worker.c), one housekeeping thread
 * (expiry and the stat tree), and this main thread, which waits on a
 * signalfd (SIGHUP reload, SIGTERM/SIGINT stop) and the control socket.
 * Signals are blocked in every thread so only the signalfd sees them.
 *
 * Start-up without -f: the process forks first and the parent waits on a
 * pipe while the child does the whole start-up, logging to the parent's
 * stderr as well as syslog.  Once every queue is bound and every thread
 * runs, the child writes the pid file and one byte on the pipe, and the
 * parent exits 0; if the pipe closes without that byte the parent exits
 * with the child's status.  So `nfqctd` returns only when the daemon is up,
 * or with its error on stderr and a non-zero status, and the systemd unit
 * is Type=forking with a PIDFile: no libsystemd, and scripts get the same
 * answer as systemctl.  (Type=notify would need sd_notify, and would help
 * only systemd.)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/ctcmd.h"
#include "nfqct/ctl.h"
#include "nfqct/events.h"
#include "nfqct/ipfix.h"
#include "nfqct/addrs.h"
#include "nfqct/housekeeping.h"
#include "nfqct/offload.h"
#include "nfqct/ipset.h"
#include "nfqct/log.h"
#include "nfqct/privdrop.h"
#include "nfqct/recent.h"
#include "nfqct/rules.h"
#include "nfqct/tbf.h"
#include "nfqct/settings.h"
#include "nfqct/state.h"
#include "nfqct/statextra.h"
#include "nfqct/statfile.h"
#include "nfqct/stats.h"
#include "nfqct/sync.h"
#include "nfqct/worker.h"

#define EXIT_CONFIG	1
#define EXIT_RUNTIME	2
#define MAX_QUEUES	64
#define MAX_SET_OPTIONS	256

struct options {
	uint16_t queue_first, queue_last;
	const char *rules_path;
	bool rules_explicit;
	const char *rules_v4, *rules_v6;	/* --rules-v4 / --rules-v6, or NULL */
	const char *sets_path;			/* --sets, or NULL */
	const char *config_path;
	const char *set[MAX_SET_OPTIONS];
	unsigned int nset;
	const char *stat_dir;
	const char *pid_file;
	const char *user;		/* -u: run as this user after the start-up */
	uid_t uid;
	gid_t gid;
	bool foreground;
	bool fail_open;
	bool check;
	bool print_settings;
	bool upgrade_check;	/* --upgrade-check: --check, and say we can take a handover */
	int verbose;
	char *owned[4];		/* paths made absolute, freed at exit */
};

struct daemon {
	struct options opt;
	/* The settings and the ruleset in force: each one immutable object,
	 * RCU-published (workers, housekeeping and the control socket read
	 * them with rcu_dereference()); the main thread replaces both on
	 * reload and frees the old ones after a grace period. */
	struct nfqct_settings *settings;
	struct nfqct_ruleset *ruleset;
	struct nfqct_ct *ct;
	struct nfqct_loopback *lo;		/* what packets had leaving on lo */
	unsigned int nworkers;
	struct nfqct_worker_stats *stats;	/* nworkers blocks */
	struct nfqct_worker **workers;
	struct nfqct_pktlog *pktlog;		/* LOG lines of every worker */
	bool pktlog_running;
	/* Conntrack counters of the threads that are not workers, one block
	 * per writer: [0] housekeeping (expiry), [1] main thread (flush).
	 * They are added into the stat file's first line.  Whole aligned
	 * blocks, so each writer has its own cache lines. */
	struct nfqct_worker_stats *extra_stats;
	struct nfqct_housekeeping *hk;
	struct nfqct_addrs_watch *addrs;	/* the local tables for -m addrtype, -m pkttype */
	struct nfqct_statfile *statfile;
	struct nfqct_events *events;	/* `nfqct events`: its thread and socket */
	struct nfqct_ipfix *ipfix;	/* flow export, when a collector is set */
	struct nfqct_offload *offload;	/* FLOWOFFLOAD: its thread and netlink socket */
	struct nfqct_sync *sync;	/* replication, when nfqct.sync_mode is not off */
	int ctl_fd;
	int stop_fd;
	int signal_fd;
	int ready_fd;		/* the waiting parent's pipe (not -f), else -1 */
	int pid_fd;		/* -u: the pid file, opened while root, written when ready */
	bool pid_written;
	/* The state file: saves by the housekeeping thread (interval), the
	 * main thread (stop, `nfqct save`), one at a time. */
	pthread_mutex_t state_lock;
	uint64_t state_next_ms;	/* next interval save, nfqct_now_ms() */
	/* Stat tree writes that failed (a full or read-only file system): the
	 * first is logged, then at most one line a minute with the count. */
	uint64_t stat_failures;		/* since the last write that worked */
	uint64_t stat_logged_ms;
	bool stopping;		/* no interval save once the stop began */
	/* Upgrade (nfqctd(8) UPGRADES).  The binary to re-execute: the path
	 * /proc/self/exe named at start, so the file now at that path runs. */
	char exe[PATH_MAX];
	struct handover *in;	/* what the previous image handed us, or NULL */
};

/*
 * What an image hands to the next one through execve(): descriptors left
 * open (queue sockets, control socket, the table and the counters in
 * memfds, the `nfqct upgrade` client) and named in the environment
 * variable UPGRADE_ENV, so that a binary without the feature never sees
 * them as anything but open files.
 */
struct handover {
	int queue_fd[MAX_QUEUES];
	uint64_t last_us[MAX_QUEUES];	/* each queue's last verdict in the old image */
	unsigned int nqueues;
	int ctl_fd, state_fd, counters_fd, client_fd;
	uint64_t paused_us;		/* when the old image stopped its workers */
};

static void usage(FILE *out)
{
	fprintf(out,
"usage: nfqctd [options]\n"
"  -q, --queue N | N:M     queue number or range; one worker per queue (default 0)\n"
"  -r, --rules FILE        ruleset for both families (default %s/nfqct/nfqct.rules)\n"
"      --rules-v4 FILE     an iptables-restore file, for IPv4 only (instead of -r)\n"
"      --rules-v6 FILE     an ip6tables-restore file, for IPv6 only (instead of -r)\n"
"      --sets FILE         sets in `ipset save` format, for -m set and -j SET\n"
"  -c, --config FILE       settings file, sysctl.conf syntax\n"
"  -o, --set NAME=VALUE    one setting; repeatable; wins over the config file\n"
"  -s, --stat-dir DIR      stat tree and control socket (default %s/nfqct)\n"
"  -f, --foreground        stay in the foreground, log to stderr\n"
"  -p, --pid-file FILE     write the daemon's pid to FILE once it is ready\n"
"  -u, --user USER         after the start-up, run as USER with CAP_NET_ADMIN only\n"
"      --fail-open         the kernel accepts packets while the queue is full\n"
"      --check             validate rules and settings, report, exit 0 or 1\n"
"      --print-settings    print every setting in force (after -c and -o), exit\n"
"      --upgrade-check     --check, and say whether this binary takes an upgrade\n"
"  -v, --verbose           more log messages (repeat for more)\n"
"  -h, --help              this help\n"
"  -V, --version           print the version\n"
"Without -f, nfqctd returns once every queue is bound (status 0), or prints\n"
"why it could not start and exits 1 (configuration) or 2 (runtime).\n"
"Signals: SIGHUP reloads rules and settings; SIGTERM and SIGINT stop;\n"
"SIGUSR2 re-executes the binary on disk, keeping the queues and the table.\n"
"See nfqctd(8).\n", SYSCONFDIR, RUNSTATEDIR);
}

static int parse_u16(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int parse_queues(const char *arg, struct options *o)
{
	char buf[32], *colon;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (parse_u16(buf, &o->queue_first) < 0)
		return -EINVAL;
	if (!colon)
		o->queue_last = o->queue_first;
	else if (parse_u16(colon + 1, &o->queue_last) < 0 || o->queue_last < o->queue_first)
		return -EINVAL;
	return 0;
}

/*
 * A relative @path made absolute against the current directory: the
 * daemon changes to / and reloads rules and settings by name later.
 * Returns 0 or -ENOMEM; *@path is replaced, the copy kept in o->owned.
 */
static int absolute_path(struct options *o, const char **path)
{
	char cwd[PATH_MAX], *abs;
	size_t i;

	if (!*path || (*path)[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	for (i = 0; i < sizeof(o->owned) / sizeof(o->owned[0]) && o->owned[i]; i++)
		;
	if (i == sizeof(o->owned) / sizeof(o->owned[0]) || asprintf(&abs, "%s/%s", cwd, *path) < 0)
		return -ENOMEM;
	o->owned[i] = abs;
	*path = abs;
	return 0;
}

static void options_free(struct options *o)
{
	for (size_t i = 0; i < sizeof(o->owned) / sizeof(o->owned[0]); i++)
		free(o->owned[i]);
}

/* Returns 0, or the exit code to leave with; errors go to @errs. */
static int parse_options(int argc, char **argv, struct options *o, FILE *errs)
{
	enum { OPT_FAIL_OPEN = 256, OPT_CHECK, OPT_PRINT_SETTINGS, OPT_UPGRADE_CHECK, OPT_RULES_V4,
	       OPT_RULES_V6, OPT_SETS };
	static const struct option longopts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "rules", required_argument, NULL, 'r' },
		{ "rules-v4", required_argument, NULL, OPT_RULES_V4 },
		{ "rules-v6", required_argument, NULL, OPT_RULES_V6 },
		{ "sets", required_argument, NULL, OPT_SETS },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'o' },
		{ "stat-dir", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "fail-open", no_argument, NULL, OPT_FAIL_OPEN },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "print-settings", no_argument, NULL, OPT_PRINT_SETTINGS },
		{ "upgrade-check", no_argument, NULL, OPT_UPGRADE_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->rules_path = SYSCONFDIR "/nfqct/nfqct.rules";
	o->stat_dir = RUNSTATEDIR "/nfqct";
	opterr = 0;	/* getopt's own messages would miss syslog: ours go to @errs */
	while ((c = getopt_long(argc, argv, ":q:r:c:o:s:fp:u:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (parse_queues(optarg, o) < 0 ||
			    o->queue_last - o->queue_first + 1 > MAX_QUEUES) {
				fprintf(errs, "nfqctd: --queue: expected N or N:M with N <= M <= 65535 "
					"and at most %d queues, got '%s'\n", MAX_QUEUES, optarg);
				return EXIT_CONFIG;
			}
			break;
		case 'r':
			o->rules_path = optarg;
			o->rules_explicit = true;
			break;
		case OPT_RULES_V4:
			o->rules_v4 = optarg;
			break;
		case OPT_RULES_V6:
			o->rules_v6 = optarg;
			break;
		case OPT_SETS:
			o->sets_path = optarg;
			break;
		case 'c':
			o->config_path = optarg;
			break;
		case 'o':
			if (o->nset == MAX_SET_OPTIONS) {
				fprintf(errs, "nfqctd: too many --set options (at most %d)\n", MAX_SET_OPTIONS);
				return EXIT_CONFIG;
			}
			o->set[o->nset++] = optarg;
			break;
		case 's':
			o->stat_dir = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'u':
			c = nfqct_privdrop_lookup(optarg, &o->uid, &o->gid);
			if (c < 0) {
				fprintf(errs, "nfqctd: --user: %s '%s'\n", c == -ENOENT ? "no such user" :
					strerror(-c), optarg);
				return EXIT_CONFIG;
			}
			o->user = optarg;
			break;
		case OPT_FAIL_OPEN:
			o->fail_open = true;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case OPT_PRINT_SETTINGS:
			o->print_settings = true;
			break;
		case OPT_UPGRADE_CHECK:
			o->check = true;
			o->upgrade_check = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("nfqctd %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			fprintf(errs, "nfqctd: option '%s' needs an argument (see nfqctd --help)\n",
				argv[optind - 1]);
			return EXIT_CONFIG;
		default:
			if (optopt)
				fprintf(errs, "nfqctd: unknown option '-%c' (see nfqctd --help)\n", optopt);
			else
				fprintf(errs, "nfqctd: unknown option '%s' (see nfqctd --help)\n",
					argv[optind - 1]);
			return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(errs, "nfqctd: unexpected argument '%s' (see nfqctd --help)\n", argv[optind]);
		return EXIT_CONFIG;
	}
	if (o->rules_explicit && (o->rules_v4 || o->rules_v6)) {
		fprintf(errs, "nfqctd: -r (both families) and --rules-v4/--rules-v6 (one family each) "
			"exclude each other\n");
		return EXIT_CONFIG;
	}
	if ((c = absolute_path(o, &o->rules_path)) < 0 || (c = absolute_path(o, &o->config_path)) < 0 ||
	    (c = absolute_path(o, &o->rules_v4)) < 0 || (c = absolute_path(o, &o->rules_v6)) < 0 ||
	    (c = absolute_path(o, &o->sets_path)) < 0 ||
	    (c = absolute_path(o, &o->stat_dir)) < 0 || (c = absolute_path(o, &o->pid_file)) < 0) {
		fprintf(errs, "nfqctd: cannot make the paths absolute: %s\n", strerror(-c));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Log every line of @msgs (a buffer of messages) as a warning. */
static void log_lines(char *msgs)
{
	char *save = NULL;

	for (char *line = msgs ? strtok_r(msgs, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		log_warnx("%s", line);
}

/* Settings: defaults, then the file, then every -o in order.  All errors reported. */
static int load_settings(const struct options *o, struct nfqct_settings *s, FILE *errs)
{
	int ret = 0;

	nfqct_settings_init(s);
	if (o->config_path && nfqct_settings_load_file(s, o->config_path, errs) < 0)
		ret = -EINVAL;
	for (unsigned int i = 0; i < o->nset; i++)
		if (nfqct_settings_set(s, o->set[i], "-o", errs) < 0)
			ret = -EINVAL;
	if (o->fail_open)
		s->fail_open = 1;
	return ret;
}

/*
 * One family's file, for the pair of --rules-v4 / --rules-v6 (or the
 * settings nfqct.rules_v4 / _v6, which the options override).  NULL: none.
 */
static const char *family_rules(const char *opt, const char *setting)
{
	return opt ? opt : setting[0] ? setting : NULL;
}

/*
 * The sets (ipset.h): --sets, else the setting nfqct.sets_file, loaded
 * before the ruleset whose rules name them.  The file is the truth for
 * the sets: those it creates are replaced, the others destroyed (refused
 * while a rule of the running ruleset names one).  Without a file the
 * running sets stay as they are.  A bad file changes nothing.
 */
static int load_sets(const struct options *o, const struct nfqct_settings *s, FILE *errs)
{
	const char *path = o->sets_path ? o->sets_path : s->sets_file[0] ? s->sets_file : NULL;

	if (!path)
		return 0;
	return nfqct_ipset_load_path(path, errs, NFQCT_IPSET_LOAD_FILE, nfqct_now_ms());
}

/*
 * The ruleset: a pair of one-family files (--rules-v4 / --rules-v6, or the
 * settings), or the file named by -r, or, when none was given and the
 * default file does not exist, one that accepts everything (logged).
 */
static int load_ruleset(const struct options *o, const struct nfqct_settings *s,
			unsigned int nworkers, struct nfqct_ruleset **rsp, FILE *errs)
{
	const char *v4 = family_rules(o->rules_v4, s->rules_v4);
	const char *v6 = family_rules(o->rules_v6, s->rules_v6);
	const struct nfqct_recent_conf rc = {
		.ip_list_tot = s->recent_ip_list_tot, .ip_pkt_list_tot = s->recent_ip_pkt_list_tot,
		.ip_list_hash_size = s->recent_ip_list_hash_size,
	};

	/* lists made by this load get these sizes; existing ones keep theirs */
	if (nfqct_recent_configure(&rc) < 0) {
		*rsp = NULL;
		fprintf(errs, "nfqctd: nfqct.recent_ip_list_hash_size %u is not a power of two\n",
			s->recent_ip_list_hash_size);
		return -EINVAL;
	}
	if (v4 || v6) {
		struct nfqct_ruleset *rs4 = NULL, *rs6 = NULL;
		int rc4 = 0, rc6 = 0;

		*rsp = NULL;
		if (o->rules_explicit) {
			fprintf(errs, "nfqctd: -r (both families) and nfqct.rules_v4/nfqct.rules_v6 (one "
				"family each) exclude each other\n");
			return -EINVAL;
		}
		if (v4)
			rc4 = nfqct_ruleset_load_family(v4, AF_INET, nworkers, &rs4, errs);
		else
			fprintf(errs, "nfqctd: no IPv4 ruleset (--rules-v4): IPv4 packets are accepted "
				"(and tracked)\n");
		if (v6)
			rc6 = nfqct_ruleset_load_family(v6, AF_INET6, nworkers, &rs6, errs);
		else
			fprintf(errs, "nfqctd: no IPv6 ruleset (--rules-v6): IPv6 packets are accepted "
				"(and tracked)\n");
		if (rc4 < 0 || rc6 < 0) {
			nfqct_ruleset_free(rs4);
			nfqct_ruleset_free(rs6);
			return rc4 < 0 ? rc4 : rc6;
		}
		*rsp = nfqct_ruleset_pair(rs4, rs6, nworkers);
		return *rsp ? 0 : -ENOMEM;
	}
	if (!o->rules_explicit && access(o->rules_path, F_OK) < 0 && errno == ENOENT) {
		fprintf(errs, "nfqctd: no ruleset at %s: every packet is accepted (and tracked)\n",
			o->rules_path);
		*rsp = nfqct_ruleset_accept_all(nworkers);
		return *rsp ? 0 : -ENOMEM;
	}
	return nfqct_ruleset_load(o->rules_path, nworkers, rsp, errs);
}

static unsigned int queue_count(const struct options *o)
{
	return (unsigned int)(o->queue_last - o->queue_first + 1);
}

static void handover_counters_load(struct daemon *d);

static int start_workers(struct daemon *d)
{
	char err[256];

	d->nworkers = queue_count(&d->opt);
	d->stats = aligned_alloc(NFQCT_CACHELINE, d->nworkers * sizeof(*d->stats));
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->stats || !d->workers) {
		log_warnx("out of memory");
		return -ENOMEM;
	}
	memset(d->stats, 0, d->nworkers * sizeof(*d->stats));
	if (d->in)
		handover_counters_load(d);
	d->pktlog = nfqct_pktlog_create(d->nworkers);
	if (!d->pktlog) {
		log_warnx("out of memory");
		return -ENOMEM;
	}
	/* Open every queue before starting any thread, so a bad queue fails early. */
	for (unsigned int i = 0; i < d->nworkers; i++) {
		struct nfqct_worker_config cfg = {
			.index = i,
			.queue_num = (uint16_t)(d->opt.queue_first + i),
			.settings = &d->settings,
			.ct = d->ct,
			.lo = d->lo,
			.ruleset = &d->ruleset,
			.stats = &d->stats[i],
			.stop_fd = d->stop_fd,
			.adopt_fd = d->in ? d->in->queue_fd[i] : -1,
			.pktlog = d->pktlog,
			.offload = d->offload,
			.prev_last_us = d->in ? d->in->last_us[i] : 0,
		};

		d->workers[i] = nfqct_worker_create(&cfg, err, sizeof(err));
		if (!d->workers[i]) {
			log_warnx("%s", err);
			return -EIO;
		}
		if (d->in)
			d->in->queue_fd[i] = -1;	/* the queue's now */
	}
	return 0;
}

static int run_threads(struct daemon *d)
{
	int r;

	/* LOG lines: the thread that writes them runs before the workers fill its rings */
	if (!d->pktlog_running) {
		r = nfqct_pktlog_start(d->pktlog);
		if (r < 0) {
			errno = -r;
			log_warn("cannot start the LOG thread");
			return r;
		}
		d->pktlog_running = true;
	}
	for (unsigned int i = 0; i < d->nworkers; i++) {
		int ret = nfqct_worker_start(d->workers[i]);

		if (ret < 0) {
			errno = -ret;
			log_warn("queue %u: cannot start worker", d->opt.queue_first + i);
			return ret;
		}
	}
	return 0;
}

/* Ask every worker to stop (the stop eventfd) and wait for it. */
static void stop_workers(struct daemon *d)
{
	uint64_t one = 1;

	if (write(d->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("cannot signal workers to stop");
	for (unsigned int i = 0; i < d->nworkers; i++)
		if (d->workers[i])
			nfqct_worker_join(d->workers[i]);
}

/*
 * Hold the packet path still: every worker returns at its next batch
 * boundary with what it received answered (the upgrade's stop: no intake
 * stop, no drain), so what arrives meanwhile waits in the kernel's queue.
 * resume_workers() starts them again.  Main thread.
 */
static void pause_workers(struct daemon *d)
{
	for (unsigned int i = 0; i < d->nworkers; i++)
		nfqct_worker_handover(d->workers[i]);
	stop_workers(d);
}

static void resume_workers(struct daemon *d)
{
	uint64_t one;

	/* The stop eventfd stays readable once written: empty it first. */
	if (read(d->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("cannot reset the stop event");
	for (unsigned int i = 0; i < d->nworkers; i++) {
		int ret = nfqct_worker_start(d->workers[i]);

		if (ret < 0) {
			/* the queue is left to the kernel's policy: say so loudly */
			errno = -ret;
			log_warn("queue %u: cannot start the worker again", d->opt.queue_first + i);
		}
	}
}

static void stop_threads(struct daemon *d)
{
	stop_workers(d);
	/* then the LOG lines they queued */
	nfqct_pktlog_stop(d->pktlog);
	d->pktlog_running = false;
}

/* ---- the state file (state.h) ---- */

/*
 * Save the table to @path (the state file when NULL).  Encodes online (one
 * table walk), writes offline: the disk never holds up grace periods.
 * Messages go to @msgs when given, else to the log.  Any thread
 * registered with RCU and online.  Returns 0 or -errno.
 */
static int state_save(struct daemon *d, const char *path, FILE *msgs)
{
	const struct nfqct_settings *s = rcu_dereference(d->settings);
	struct nfqct_state_buf buf = { 0 };
	char file[sizeof(s->state_file)];
	uint64_t t0 = nfqct_now_ms(), t1;
	int ret;

	if (!path) {
		if (!s->state_file[0])
			return 0;
		strcpy(file, s->state_file);	/* a reload may free s while we write */
		path = file;
	}
	pthread_mutex_lock(&d->state_lock);
	ret = nfqct_state_encode(d->ct, t0, nfqct_wall_ms(), &buf);
	t1 = nfqct_now_ms();
	if (!ret) {
		rcu_thread_offline();
		ret = nfqct_state_write(path, buf.data, buf.len);
		rcu_thread_online();
	}
	pthread_mutex_unlock(&d->state_lock);
	if (ret < 0) {
		if (msgs)
			fprintf(msgs, "state: cannot save to %s: %s\n", path, strerror(-ret));
		else
			log_warnx("state: cannot save to %s: %s", path, strerror(-ret));
	} else if (msgs) {
		fprintf(msgs, "state: saved %zu bytes to %s (walk %llu ms, write %llu ms)\n", buf.len,
			path, (unsigned long long)(t1 - t0), (unsigned long long)(nfqct_now_ms() - t1));
	} else {
		log_debug("state: saved %zu bytes to %s (walk %llu ms, write %llu ms)", buf.len, path,
			  (unsigned long long)(t1 - t0), (unsigned long long)(nfqct_now_ms() - t1));
	}
	nfqct_state_buf_free(&buf);
	return ret;
}

/* From the housekeeping thread's publish: the interval save when due. */
static void state_tick(struct daemon *d)
{
	const struct nfqct_settings *s = rcu_dereference(d->settings);
	uint64_t now = nfqct_now_ms();

	if (__atomic_load_n(&d->stopping, __ATOMIC_RELAXED) || !s->state_interval_s ||
	    !s->state_file[0])
		return;
	if (!d->state_next_ms) {
		d->state_next_ms = now + s->state_interval_s * 1000ULL;
		return;
	}
	if (now < d->state_next_ms)
		return;
	d->state_next_ms = now + s->state_interval_s * 1000ULL;
	state_save(d, NULL, NULL);	/* a failure is logged; the next interval retries */
}

/*
 * Merge the entries of @path into the table (existing ones win unless
 * @replace).  Messages to @msgs, or the log when NULL.  RCU online.
 * Returns 0 (loaded, perhaps in part: see the message), -ENOENT, or the
 * error of nfqct_state_read()/nfqct_state_check().
 */
static int state_restore(struct daemon *d, const char *path, bool replace, FILE *msgs)
{
	const struct nfqct_settings *s = rcu_dereference(d->settings);
	struct nfqct_state_load_stats ls;
	struct nfqct_state_buf buf;
	const char *why = NULL;
	uint64_t t0 = nfqct_now_ms();
	char line[512];
	int ret;

	ret = nfqct_state_read(path, &buf);
	if (ret == 0)
		ret = nfqct_state_apply(d->ct, &d->extra_stats[1].ct, buf.data, buf.len, nfqct_now_ms(),
					nfqct_wall_ms(), s->ct_max, replace, &ls, &why);
	nfqct_state_buf_free(&buf);
	if (ret == -ENOENT)
		snprintf(line, sizeof(line), "state: no state file at %s", path);
	else if (ret < 0)
		snprintf(line, sizeof(line), "state: %s refused: %s%s%s", path,
			 nfqct_state_strerror(ret), why ? ": " : "", why ? why : "");
	else
		snprintf(line, sizeof(line), "state: loaded %llu of %llu entries from %s in %llu ms "
			 "(saved %llu s ago%s; %llu expired meanwhile, %llu already in the table, "
			 "%llu over nf_conntrack_max, %llu failed)",
			 (unsigned long long)ls.loaded, (unsigned long long)ls.entries, path,
			 (unsigned long long)(nfqct_now_ms() - t0),
			 (unsigned long long)(ls.downtime_ms / 1000),
			 ls.clock_backwards ? ", the clock went backwards" : "",
			 (unsigned long long)ls.expired, (unsigned long long)ls.exists,
			 (unsigned long long)ls.full, (unsigned long long)ls.failed);
	if (msgs)
		fprintf(msgs, "%s\n", line);
	else if (ret < 0 && ret != -ENOENT)
		log_warnx("%s", line);
	else
		log_info("%s", line);
	return ret;
}

/* At start-up, before any worker: the table as the last daemon left it. */
static void state_load_start(struct daemon *d)
{
	char aside[sizeof(d->settings->state_file) + 8];
	int ret;

	if (!d->settings->state_file[0])
		return;
	ret = state_restore(d, d->settings->state_file, false, NULL);
	if (ret == -ENOENT) {
		log_info("state: starting with an empty table");
	} else if (ret < 0) {
		/* kept aside for a post-mortem; the next save writes a good one */
		snprintf(aside, sizeof(aside), "%s.bad", d->settings->state_file);
		if (rename(d->settings->state_file, aside) == 0)
			log_warnx("state: starting with an empty table; the refused file is now %s", aside);
		else
			log_warnx("state: starting with an empty table");
	}
}

/* --check: what the daemon would make of its state file (never fails the check). */
static void state_check_report(const struct nfqct_settings *s)
{
	struct nfqct_state_info info;
	struct nfqct_state_buf buf;
	const char *why = NULL;
	int ret;

	if (!s->state_file[0]) {
		printf("nfqctd: no state file (nfqct.state_file = none): the table starts empty\n");
		return;
	}
	ret = nfqct_state_read(s->state_file, &buf);
	if (ret == 0)
		ret = nfqct_state_check(buf.data, buf.len, &info, &why);
	nfqct_state_buf_free(&buf);
	if (ret == -ENOENT) {
		printf("nfqctd: state file %s: missing: the table starts empty\n", s->state_file);
	} else if (ret < 0) {
		printf("nfqctd: state file %s: refused (%s%s%s): the table would start empty\n",
		       s->state_file, nfqct_state_strerror(ret), why ? ": " : "", why ? why : "");
	} else {
		uint64_t now = nfqct_wall_ms();

		printf("nfqctd: state file %s: OK, version %u, %llu entries, %llu bytes, saved %lld s ago\n",
		       s->state_file, info.version, (unsigned long long)info.entries,
		       (unsigned long long)info.bytes,
		       (long long)((int64_t)(now - info.saved_wall_ms) / 1000));
	}
}

#define STAT_LOG_INTERVAL_MS 60000

/* A stat tree write failed: log the first, then a line a minute at most. */
static void stat_failed(struct daemon *d)
{
	uint64_t now = nfqct_now_ms();

	d->stat_failures++;
	if (d->stat_failures == 1 || now - d->stat_logged_ms >= STAT_LOG_INTERVAL_MS) {
		log_warnx("stat: %s (%llu write%s failed so far; the figures go stale until one works, "
			  "packets are not affected)", nfqct_statfile_strerror(d->statfile),
			  (unsigned long long)d->stat_failures, d->stat_failures == 1 ? "" : "s");
		d->stat_logged_ms = now;
	}
}

static void stat_recovered(struct daemon *d)
{
	log_info("stat: writing again after %llu failed write%s", (unsigned long long)d->stat_failures,
		 d->stat_failures == 1 ? "" : "s");
	d->stat_failures = 0;
}

/* Write the stat tree (housekeeping thread, and the main thread at exit). */
static void publish(void *arg)
{
	struct daemon *d = arg;
	struct nfqct_ct_stats extra = { 0 };
	struct nfqct_stats_view view = {
		.workers = d->stats,
		.nworkers = d->nworkers,
		.housekeeping = &extra,
	};

	nfqct_ct_stats_add(&extra, &d->extra_stats[0].ct);
	nfqct_ct_stats_add(&extra, &d->extra_stats[1].ct);
	/* The next interval retries; packets never wait for the stat tree. */
	if (nfqct_statfile_write(d->statfile, &view, nfqct_ct_count(d->ct),
				 rcu_dereference(d->settings)) < 0)
		stat_failed(d);
	else if (d->stat_failures)
		stat_recovered(d);
	/* -m recent lists (nfqct_limits); a failure leaves the last file, the
	 * next interval retries */
	(void)nfqct_statextra_write_limits(d->opt.stat_dir);
	(void)nfqct_statextra_write_sets(d->opt.stat_dir);
	state_tick(d);
}

/*
 * Reload settings and ruleset, both or neither: everything is built and
 * checked aside first.  Errors go to @errs (the log, or a control client).
 * The new ruleset is published with an RCU pointer swap; the old one is
 * freed after a grace period, so no packet sees a half-built ruleset.
 * Main thread only.  Returns 0 or -EINVAL.
 */
static int reload(struct daemon *d, FILE *errs)
{
	struct nfqct_ruleset *next_rs, *old_rs;
	struct nfqct_settings *next, *old;
	int bad = 0;

	next = malloc(sizeof(*next));
	if (!next) {
		fprintf(errs, "reload: out of memory; the running ruleset and settings stay\n");
		return -ENOMEM;
	}
	if (load_settings(&d->opt, next, errs) < 0)
		bad = 1;
	/* sets first (the rules name them); a bad set file refuses the reload */
	else if (load_sets(&d->opt, next, errs) < 0) {
		free(next);
		fprintf(errs, "reload: refused; the running sets, ruleset and settings stay\n");
		return -EINVAL;
	}
	if (load_ruleset(&d->opt, next, d->nworkers, &next_rs, errs) < 0) {
		next_rs = NULL;
		bad = 1;
	}
	if (bad) {
		nfqct_ruleset_free(next_rs);
		free(next);
		fprintf(errs, "reload: refused; the running ruleset and settings stay\n");
		return -EINVAL;
	}
	nfqct_settings_reload_diff(d->settings, next, errs);
	nfqct_housekeeping_set_intervals(d->hk, next->gc_interval_ms, next->stat_interval_ms);

	old = rcu_xchg_pointer(&d->settings, next);
	old_rs = rcu_xchg_pointer(&d->ruleset, next_rs);
	synchronize_rcu();	/* QSBR: goes offline itself while it waits */
	nfqct_ruleset_free(old_rs);
	free(old);
	/* every offloaded flow back to the queue: the new ruleset decides afresh */
	nfqct_offload_flush(d->offload);
	fprintf(errs, "reload: done\n");
	return 0;
}

/* Reload with its messages in the log, for SIGHUP. */
static void reload_logged(struct daemon *d)
{
	char *msgs = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msgs, &len);
	bool ok;

	if (!f) {
		log_warn("reload: cannot buffer messages");
		return;
	}
	ok = reload(d, f) == 0;
	fclose(f);
	/* the outcome at info; what was refused, or needs a restart, at warning */
	for (char *line = strtok(msgs, "\n"); line; line = strtok(NULL, "\n")) {
		if (ok && !strcmp(line, "reload: done"))
			log_info("%s", line);
		else
			log_warnx("%s", line);
	}
	free(msgs);
}

static struct nfqct_housekeeping *start_housekeeping(struct daemon *d)
{
	return nfqct_housekeeping_start(&(struct nfqct_housekeeping_config){
		.ct = d->ct,
		.stats = &d->extra_stats[0].ct,
		.gc_interval_ms = d->settings->gc_interval_ms,
		.stat_interval_ms = d->settings->stat_interval_ms,
		.publish = publish,
		.arg = d,
		.stop_fd = d->stop_fd,
	});
}

/* ---- upgrade: re-execute the binary on disk, handing everything over ---- */

/*
 * The process re-executes itself in place (execve, same PID) rather than
 * forking a successor: the pid file, systemd's main PID and a supervisor's
 * child all stay right without any help, and the sockets never leave the
 * process.  The price is that there is no old process to fall back to once
 * execve() succeeded, so the new binary is first run aside as
 * `BINARY --upgrade-check ARGS` (settings, ruleset, and that it knows the
 * handover), and only its success stops the workers.  See nfqctd(8).
 */
#define UPGRADE_ENV		"NFQCT_UPGRADE"
#define UPGRADE_PROTO		1
#define UPGRADE_CHECK_MS	30000
#define UPGRADE_CHECK_OUT	4096
#define COUNTERS_MAGIC		"NFQCTCNT"

/* Header of the counters memfd; the blocks follow it raw, the workers'
 * then the extra ones, taken only when the layout is the same. */
struct counters_hdr {
	char magic[8];
	uint32_t block_size;	/* sizeof(struct nfqct_worker_stats) */
	uint32_t nworkers;
	uint32_t nextra;
	uint32_t proto;
};

/* The arguments for the next image: the options in force, paths absolute
 * (the daemon may be in / now).  NULL-terminated; free() the array only. */
static char **upgrade_argv(struct daemon *d, bool check, char *qbuf, size_t qlen)
{
	const struct options *o = &d->opt;
	char **av = calloc(32 + 2 * (size_t)o->nset + (size_t)o->verbose, sizeof(*av));
	size_t n = 0;

	if (!av)
		return NULL;
	snprintf(qbuf, qlen, "%u:%u", o->queue_first, o->queue_last);
	av[n++] = d->exe;
	if (check)
		av[n++] = "--upgrade-check";
	av[n++] = "-q";
	av[n++] = qbuf;
	if (o->rules_explicit) {
		av[n++] = "-r";
		av[n++] = (char *)o->rules_path;
	}
	if (o->rules_v4) {
		av[n++] = "--rules-v4";
		av[n++] = (char *)o->rules_v4;
	}
	if (o->rules_v6) {
		av[n++] = "--rules-v6";
		av[n++] = (char *)o->rules_v6;
	}
	if (o->sets_path) {
		av[n++] = "--sets";
		av[n++] = (char *)o->sets_path;
	}
	if (o->config_path) {
		av[n++] = "-c";
		av[n++] = (char *)o->config_path;
	}
	for (unsigned int i = 0; i < o->nset; i++) {
		av[n++] = "-o";
		av[n++] = (char *)o->set[i];
	}
	av[n++] = "-s";
	av[n++] = (char *)o->stat_dir;
	if (o->pid_file) {
		av[n++] = "-p";
		av[n++] = (char *)o->pid_file;
	}
	if (o->user) {
		av[n++] = "-u";
		av[n++] = (char *)o->user;
	}
	if (o->foreground)
		av[n++] = "-f";
	if (o->fail_open)
		av[n++] = "--fail-open";
	for (int i = 0; i < o->verbose; i++)
		av[n++] = "-v";
	av[n] = NULL;
	return av;
}

/*
 * Run the new binary with --upgrade-check and our arguments, bounded by
 * UPGRADE_CHECK_MS.  Returns 0 when it accepts the configuration and says
 * it takes the handover; else -1 with why (its output included) in @out.
 * Main thread; the workers run meanwhile.
 */
static int upgrade_check(struct daemon *d, FILE *out)
{
	char qbuf[16], buf[UPGRADE_CHECK_OUT + 1], want[64];
	char **av = upgrade_argv(d, true, qbuf, sizeof(qbuf));
	uint64_t deadline = nfqct_now_ms() + UPGRADE_CHECK_MS;
	size_t len = 0;
	int pfd[2], st = 0, ret = -1;
	pid_t pid;

	if (!av || pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(out, "upgrade: cannot check %s: %s\n", d->exe, strerror(errno));
		free(av);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(out, "upgrade: cannot check %s: fork: %s\n", d->exe, strerror(errno));
		goto out_close;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls here: other threads were running. */
		static const char msg[] = "cannot execute the new binary\n";
		sigset_t none;

		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execv(d->exe, av);
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		uint64_t now = nfqct_now_ms();
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			fprintf(out, "upgrade: %s --upgrade-check gave no answer within %d s\n", d->exe,
				UPGRADE_CHECK_MS / 1000);
			break;
		}
		rcu_thread_offline();
		n = poll(&p, 1, (int)(deadline - now));
		rcu_thread_online();
		if (n <= 0)
			continue;
		n = read(pfd[0], buf + len, len < UPGRADE_CHECK_OUT ? UPGRADE_CHECK_OUT - len : 1);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		if (n > 0 && len < UPGRADE_CHECK_OUT)
			len += (size_t)n;
	}
	buf[len] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	snprintf(want, sizeof(want), "nfqctd: upgrade handover protocol %d\n", UPGRADE_PROTO);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(buf, want)) {
		ret = 0;
		goto out_close;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		fprintf(out, "upgrade: %s does not take a handover (no upgrade support)\n", d->exe);
	else if (WIFEXITED(st))
		fprintf(out, "upgrade: %s --upgrade-check exited with status %d\n", d->exe,
			WEXITSTATUS(st));
	else
		fprintf(out, "upgrade: %s --upgrade-check was killed by signal %d\n", d->exe,
			WTERMSIG(st));
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(out, "upgrade: check: %s\n", line);
out_close:
	close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(av);
	return ret;
}

/* A memfd holding @len bytes of @data, inherited across execve().  Returns the fd or -errno. */
static int memfd_with(const char *name, const void *data, size_t len)
{
	const uint8_t *p = data;
	int fd = memfd_create(name, 0);

	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			close(fd);
			return err;
		}
		p += n;
		len -= (size_t)n;
	}
	return fd;
}

/* The counters memfd: the header, then the workers' blocks and the extra ones. */
static int counters_memfd(struct daemon *d)
{
	struct counters_hdr h = { .block_size = sizeof(struct nfqct_worker_stats),
				  .nworkers = d->nworkers, .nextra = 2, .proto = UPGRADE_PROTO };
	size_t bs = sizeof(struct nfqct_worker_stats);
	size_t len = sizeof(h) + (d->nworkers + 2) * bs;
	uint8_t *buf = malloc(len);
	int fd;

	if (!buf)
		return -ENOMEM;
	memcpy(h.magic, COUNTERS_MAGIC, sizeof(h.magic));
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), d->stats, d->nworkers * bs);
	memcpy(buf + sizeof(h) + d->nworkers * bs, d->extra_stats, 2 * bs);
	fd = memfd_with("nfqct-counters", buf, len);
	free(buf);
	return fd;
}

/* The whole content of memfd @fd into a new buffer.  Returns 0 or -errno. */
static int memfd_read(int fd, struct nfqct_state_buf *out)
{
	struct stat sb;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	if (fstat(fd, &sb) < 0)
		return -errno;
	out->data = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!out->data)
		return -ENOMEM;
	while (off < (size_t)sb.st_size) {
		ssize_t n = pread(fd, out->data + off, (size_t)sb.st_size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			nfqct_state_buf_free(out);
			return n < 0 ? -errno : -EIO;
		}
		off += (size_t)n;
	}
	out->len = out->cap = off;
	return 0;
}

/* New image, before the workers: the counters continue where the old image left them. */
static void handover_counters_load(struct daemon *d)
{
	size_t bs = sizeof(struct nfqct_worker_stats);
	struct nfqct_state_buf buf;
	struct counters_hdr h;
	int ret;

	if (d->in->counters_fd < 0)
		return;
	ret = memfd_read(d->in->counters_fd, &buf);
	close(d->in->counters_fd);
	d->in->counters_fd = -1;
	if (ret < 0) {
		log_warnx("upgrade: counters not handed over: %s; they restart from 0", strerror(-ret));
		return;
	}
	if (buf.len >= sizeof(h))
		memcpy(&h, buf.data, sizeof(h));
	/* Raw blocks: only a binary with the same layout can read them. */
	if (buf.len < sizeof(h) || memcmp(h.magic, COUNTERS_MAGIC, sizeof(h.magic)) ||
	    h.block_size != bs || h.nworkers != d->nworkers || h.nextra != 2 ||
	    buf.len != sizeof(h) + (d->nworkers + 2) * bs) {
		log_warnx("upgrade: the counters' layout changed; they restart from 0");
	} else {
		memcpy(d->stats, buf.data + sizeof(h), d->nworkers * bs);
		memcpy(d->extra_stats, buf.data + sizeof(h) + d->nworkers * bs, 2 * bs);
		log_info("upgrade: counters continue from the previous image");
	}
	nfqct_state_buf_free(&buf);
}

/* New image, before the workers: the table the old image encoded. */
static void handover_table_load(struct daemon *d)
{
	struct nfqct_state_load_stats ls;
	struct nfqct_state_buf buf;
	const char *why = NULL;
	int ret;

	ret = memfd_read(d->in->state_fd, &buf);
	close(d->in->state_fd);
	d->in->state_fd = -1;
	if (ret == 0)
		ret = nfqct_state_apply(d->ct, &d->extra_stats[1].ct, buf.data, buf.len, nfqct_now_ms(),
					nfqct_wall_ms(), d->settings->ct_max, false, &ls, &why);
	nfqct_state_buf_free(&buf);
	if (ret < 0)
		log_warnx("upgrade: the table was not handed over (%s%s%s): starting empty",
			  nfqct_state_strerror(ret), why ? ": " : "", why ? why : "");
	else
		log_info("upgrade: table handed over: %llu of %llu entries (%llu over nf_conntrack_max, "
			 "%llu failed)", (unsigned long long)ls.loaded, (unsigned long long)ls.entries,
			 (unsigned long long)ls.full, (unsigned long long)ls.failed);
}

static int set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -errno;
	return fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC) < 0 ? -errno : 0;
}

/*
 * Parse UPGRADE_ENV ("1;paused=US;ctl=FD;state=FD;counters=FD;client=FD;
 * q=FD:US,FD:US...") into a new struct handover, and remove it from the
 * environment.  Returns NULL when it is absent; exits 2 when it is there
 * but malformed (nothing can be trusted then).
 */
static struct handover *handover_parse(unsigned int nqueues)
{
	const char *env = getenv(UPGRADE_ENV);
	struct handover *h;
	char *copy, *save = NULL;
	bool ok;

	if (!env)
		return NULL;
	h = calloc(1, sizeof(*h));
	copy = strdup(env);
	unsetenv(UPGRADE_ENV);	/* not for our children (the next --upgrade-check) */
	if (!h || !copy) {
		log_warnx("upgrade: out of memory");
		exit(EXIT_RUNTIME);
	}
	h->ctl_fd = h->state_fd = h->counters_fd = h->client_fd = -1;
	ok = strncmp(copy, "1;", 2) == 0;
	for (char *f = strtok_r(copy + 2, ";", &save); ok && f; f = strtok_r(NULL, ";", &save)) {
		if (sscanf(f, "paused=%" SCNu64, &h->paused_us) == 1 ||
		    sscanf(f, "ctl=%d", &h->ctl_fd) == 1 || sscanf(f, "state=%d", &h->state_fd) == 1 ||
		    sscanf(f, "counters=%d", &h->counters_fd) == 1 ||
		    sscanf(f, "client=%d", &h->client_fd) == 1)
			continue;
		if (strncmp(f, "q=", 2)) {
			ok = false;
			break;
		}
		for (char *q = f + 2; *q && h->nqueues < MAX_QUEUES;) {
			char *end;

			h->queue_fd[h->nqueues] = (int)strtol(q, &end, 10);
			if (*end != ':') {
				ok = false;
				break;
			}
			h->last_us[h->nqueues++] = strtoull(end + 1, &end, 10);
			if (*end == ',')
				end++;
			else if (*end)
				ok = false;
			if (!ok)
				break;
			q = end;
		}
	}
	free(copy);
	if (!ok || h->nqueues != nqueues || h->ctl_fd < 0 || h->state_fd < 0) {
		log_warnx("upgrade: malformed %s from the previous image (%s); cannot go on", UPGRADE_ENV,
			  env ? "see the arguments" : "");
		exit(EXIT_RUNTIME);
	}
	return h;
}

/*
 * The old image's half: stop the workers at a batch boundary (no drain:
 * the kernel keeps queueing), encode the table and the counters into
 * memfds, and execve() the binary with the descriptors named in the
 * environment.  Returns only when execve() failed: everything is started
 * again and -1 returned with why in @out.  Main thread, RCU online.
 */
static int upgrade_exec(struct daemon *d, FILE *out, int client_fd)
{
	struct nfqct_state_buf buf = { 0 };
	char qbuf[16], *env = NULL, **av = NULL;
	int state_fd = -1, counters_fd = -1, ret, err;
	uint64_t paused_us, one;
	size_t envlen = 0;
	char errbuf[256];
	FILE *e;

	__atomic_store_n(&d->stopping, true, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < d->nworkers; i++)
		nfqct_worker_handover(d->workers[i]);
	stop_threads(d);
	paused_us = nfqct_worker_now_us();
	nfqct_housekeeping_stop(d->hk);
	d->hk = NULL;
	nfqct_sync_stop(d->sync, d->events);	/* its socket is bound again by the next image */
	d->sync = NULL;
	nfqct_events_stop(d->events);	/* its socket is bound again by the next image */
	d->events = NULL;
	nfqct_ipfix_stop(d->ipfix);	/* sends what is queued; the next image starts its own */
	d->ipfix = NULL;

	ret = nfqct_state_encode(d->ct, nfqct_now_ms(), nfqct_wall_ms(), &buf);
	if (ret == 0) {
		state_fd = memfd_with("nfqct-state", buf.data, buf.len);
		ret = state_fd < 0 ? state_fd : 0;
	}
	nfqct_state_buf_free(&buf);
	if (ret == 0) {
		counters_fd = counters_memfd(d);
		ret = counters_fd < 0 ? counters_fd : 0;
	}
	if (ret < 0) {
		fprintf(out, "upgrade: cannot hand the table over: %s\n", strerror(-ret));
		goto err_resume;
	}
	publish(d);	/* the figures as handed over */

	e = open_memstream(&env, &envlen);
	if (!e) {
		fprintf(out, "upgrade: out of memory\n");
		goto err_resume;
	}
	fprintf(e, "%d;paused=%" PRIu64 ";ctl=%d;state=%d;counters=%d;client=%d;q=", UPGRADE_PROTO,
		paused_us, d->ctl_fd, state_fd, counters_fd, client_fd);
	for (unsigned int i = 0; i < d->nworkers; i++)
		fprintf(e, "%s%d:%" PRIu64, i ? "," : "", nfqct_worker_queue_fd(d->workers[i]),
			nfqct_worker_last_verdict_us(d->workers[i]));
	av = upgrade_argv(d, false, qbuf, sizeof(qbuf));
	if (fclose(e) != 0 || !av || setenv(UPGRADE_ENV, env, 1) < 0) {
		fprintf(out, "upgrade: out of memory\n");
		goto err_resume;
	}
	/* What the next image keeps: everything else closes on exec. */
	for (unsigned int i = 0; i < d->nworkers; i++)
		set_cloexec(nfqct_worker_queue_fd(d->workers[i]), false);
	set_cloexec(d->ctl_fd, false);
	if (client_fd >= 0)
		set_cloexec(client_fd, false);
	log_info("upgrade: handing over to %s (workers paused)", d->exe);
	execv(d->exe, av);
	err = errno;

	/* Still us: put everything back as it was. */
	for (unsigned int i = 0; i < d->nworkers; i++)
		set_cloexec(nfqct_worker_queue_fd(d->workers[i]), true);
	set_cloexec(d->ctl_fd, true);
	if (client_fd >= 0)
		set_cloexec(client_fd, true);
	unsetenv(UPGRADE_ENV);
	fprintf(out, "upgrade: cannot execute %s: %s\n", d->exe, strerror(err));
err_resume:
	free(av);
	free(env);
	if (state_fd >= 0)
		close(state_fd);
	if (counters_fd >= 0)
		close(counters_fd);
	/* The stop eventfd stays readable once written: empty it first. */
	if (read(d->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("upgrade: cannot reset the stop event");
	if (nfqct_events_start(d->opt.stat_dir, &d->events, errbuf, sizeof(errbuf)) < 0)
		fprintf(out, "upgrade: %s (events stay off)\n", errbuf);
	else if (d->settings->ipfix_collector.family &&
		 nfqct_ipfix_start(d->opt.stat_dir, d->settings, d->ct, d->events, &d->ipfix, errbuf,
				   sizeof(errbuf)) < 0)
		fprintf(out, "upgrade: %s (IPFIX export stays off)\n", errbuf);
	if (d->events && d->settings->sync_mode != NFQCT_SYNC_MODE_OFF &&
	    nfqct_sync_start(d->opt.stat_dir, d->settings, d->ct, d->events, &d->sync, errbuf,
			     sizeof(errbuf)) < 0)
		fprintf(out, "upgrade: %s (replication stays off)\n", errbuf);
	d->hk = start_housekeeping(d);
	if (!d->hk)
		fprintf(out, "upgrade: cannot start the housekeeping thread again\n");
	__atomic_store_n(&d->stopping, false, __ATOMIC_RELAXED);
	if (run_threads(d) < 0)
		fprintf(out, "upgrade: cannot start the workers again\n");
	fprintf(out, "upgrade: refused; the running daemon goes on (%.3f ms paused)\n",
		(double)(nfqct_worker_now_us() - paused_us) / 1000.0);
	return -1;
}

/*
 * Upgrade: check the new binary aside, then hand over.  Returns -1 with why
 * in @out when the running daemon stays (on success it does not return).
 */
static int upgrade(struct daemon *d, FILE *out, int client_fd)
{
	if (!d->exe[0]) {
		fprintf(out, "upgrade: the daemon's binary was not known at start\n");
		return -1;
	}
	if (upgrade_check(d, out) < 0) {
		fprintf(out, "upgrade: refused; the running daemon goes on\n");
		return -1;
	}
	return upgrade_exec(d, out, client_fd);
}

/* SIGUSR2: the upgrade with its messages in the log. */
static void upgrade_logged(struct daemon *d)
{
	char *msgs = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msgs, &len);

	if (!f) {
		log_warn("upgrade: cannot buffer messages");
		return;
	}
	log_info("upgrade: checking %s", d->exe);
	upgrade(d, f, -1);
	fclose(f);
	log_lines(msgs);
	free(msgs);
}

/* New image, once ready: tell `nfqct upgrade` and the log how it went. */
static void upgrade_done(struct daemon *d)
{
	char msg[256];
	int len;

	len = snprintf(msg, sizeof(msg), "upgrade: nfqctd %s running (pid %ld), %u entries, "
		       "workers paused %.3f ms\n", PACKAGE_VERSION, (long)getpid(), nfqct_ct_count(d->ct),
		       (double)(nfqct_worker_now_us() - d->in->paused_us) / 1000.0);
	log_info("%.*s", len - 1, msg);
	if (d->in->client_fd >= 0) {
		/* A few hundred bytes into an empty socket: no wait; a gone client is its problem. */
		if (send(d->in->client_fd, "ok\n", 3, MSG_NOSIGNAL) == 3)
			(void)!send(d->in->client_fd, msg, (size_t)len, MSG_NOSIGNAL);
		close(d->in->client_fd);
		d->in->client_fd = -1;
	}
}

/* Control socket commands; the main thread serves them, RCU online. */
static int ctl_list(void *arg, FILE *out)
{
	struct daemon *d = arg;

	nfqct_offload_sync(d->offload);	/* the kernel's counts first */
	nfqct_ct_dump(d->ct, out, nfqct_now_ms());
	return 0;
}

/*
 * ha primary|backup|fault|status (sync.h); commits run here, online.  The
 * commit into the table is one step as the packet path sees it: the
 * workers are paused around it, so no packet meets a half-committed cache.
 */
static int ctl_ha(void *arg, FILE *out, const char *word)
{
	struct daemon *d = arg;
	uint64_t t0;
	int ret;

	if (!d->sync) {
		fprintf(out, "ha: replication is off (nfqct.sync_mode = off)\n");
		return -1;
	}
	if (strcmp(word, "primary"))
		return nfqct_sync_ha(d->sync, word, &d->extra_stats[1].ct,
				     rcu_dereference(d->settings)->ct_max, out);
	t0 = nfqct_worker_now_us();
	pause_workers(d);
	ret = nfqct_sync_ha(d->sync, word, &d->extra_stats[1].ct,
			    rcu_dereference(d->settings)->ct_max, out);
	resume_workers(d);
	fprintf(out, "ha: primary: the queues waited %.3f ms\n",
		(double)(nfqct_worker_now_us() - t0) / 1000.0);
	log_info("sync: primary: the queues waited %.3f ms for the commit",
		 (double)(nfqct_worker_now_us() - t0) / 1000.0);
	return ret;
}

static int ctl_list_external(void *arg, FILE *out)
{
	struct daemon *d = arg;

	if (!d->sync) {
		fprintf(out, "list --external: replication is off (nfqct.sync_mode = off)\n");
		return -1;
	}
	return nfqct_sync_list_external(d->sync, out);
}

static int ctl_list_expect(void *arg, FILE *out)
{
	struct daemon *d = arg;

	nfqct_ct_expect_dump(d->ct, out, nfqct_now_ms());
	return 0;
}

static int ctl_flush(void *arg, FILE *out)
{
	struct daemon *d = arg;
	unsigned int n;

	nfqct_offload_sync(d->offload);	/* the kernel's counts, for their last events */
	n = nfqct_ct_flush(d->ct, &d->extra_stats[1].ct);
	nfqct_offload_sync(d->offload);	/* their elements go now */

	fprintf(out, "nfqct: %u connection tracking entries have been deleted.\n", n);
	return 0;
}

static int ctl_reload(void *arg, FILE *out)
{
	return reload(arg, out) < 0 ? -1 : 0;
}

static int ctl_rules(void *arg, FILE *out, bool counters, int family)
{
	struct daemon *d = arg;

	/* -4 / -6: the half that judges that family, as iptables-save / ip6tables-save */
	return nfqct_ruleset_print_family(rcu_dereference(d->ruleset), family, out, counters) < 0 ? -1 : 0;
}

static int ctl_recent(void *arg, FILE *out, const char *name, const char *cmd)
{
	int rc;

	(void)arg;
	if (!cmd)
		rc = nfqct_recent_print(name, out);
	else
		rc = nfqct_recent_write(name, cmd, nfqct_tbf_jiffies(nfqct_now_ms()));
	if (rc == -ENOENT)
		fprintf(out, "recent: no list '%s' (no rule of the running ruleset names it)\n", name);
	else if (rc == -EINVAL)
		fprintf(out, "recent: bad command '%s': expected +ADDR, -ADDR or /\n", cmd);
	return rc < 0 ? -1 : 0;
}

struct kill_walk {
	struct daemon *d;
	const struct nfqct_ipset_elem_spec *e;
	unsigned long n;
};

/* --kill-flows: an entry whose original tuple the element holds, read
 * with any src/dst flags: the address's flows either way. */
static bool kill_one(struct nfqct_conn *conn, const struct nfqct_ct_info *ci, void *arg)
{
	struct kill_walk *w = arg;
	uint16_t zone;
	const struct nfqct_tuple *t = nfqct_ct_tuple(conn, &zone);

	(void)ci;
	if (nfqct_ipset_elem_matches(w->e, t) &&
	    nfqct_ct_kill(w->d->ct, &w->d->extra_stats[1].ct, conn))
		w->n++;
	return true;
}

/* "set CMD ...": ipset's commands on the running sets (ipset.h). */
static int ctl_set(void *arg, FILE *out, int argc, char **argv)
{
	struct daemon *d = arg;
	const char *cmd = argv[0], *name = argc > 1 ? argv[1] : NULL;
	uint64_t now = nfqct_now_ms();
	int rc;

	if (!strcmp(cmd, "list") || !strcmp(cmd, "save") || !strcmp(cmd, "flush")) {
		if (argc > 2) {
			fprintf(out, "set %s: unexpected argument '%s'\n", cmd, argv[2]);
			return -1;
		}
		rc = cmd[0] == 'l' ? nfqct_ipset_cmd_list(name, out, now) :
		     cmd[0] == 's' ? nfqct_ipset_cmd_save(name, out, now) : nfqct_ipset_cmd_flush(name, out);
		return rc < 0 ? -1 : 0;
	}
	if (!strcmp(cmd, "restore")) {
		if (argc != 2 || argv[1][0] != '/') {
			fprintf(out, "set restore: expected one absolute path\n");
			return -1;
		}
		return nfqct_ipset_load_path(argv[1], out, NFQCT_IPSET_LOAD_RESTORE, now) < 0 ? -1 : 0;
	}
	if (!name || argc < 3) {
		fprintf(out, "set %s: expected NAME ELEMENT\n", cmd);
		return -1;
	}
	if (!strcmp(cmd, "add")) {
		bool kill = rcu_dereference(d->settings)->sets_kill_flows;
		struct nfqct_ipset_elem_spec *e = NULL;
		char *rest[64];
		int n = 0;

		for (int i = 2; i < argc && n < 64; i++) {
			if (!strcmp(argv[i], "--kill-flows"))
				kill = true;
			else if (!strcmp(argv[i], "--keep-flows"))
				kill = false;
			else
				rest[n++] = argv[i];
		}
		rc = nfqct_ipset_cmd_add(name, n, rest, out, now, kill ? &e : NULL);
		if (rc == 0 && e) {
			struct kill_walk w = { d, e, 0 };

			nfqct_ct_walk(d->ct, now, kill_one, &w);
			fprintf(out, "nfqct: %lu flow entries have been deleted.\n", w.n);
		}
		nfqct_ipset_elem_spec_free(e);
		return rc < 0 ? -1 : 0;
	}
	if (!strcmp(cmd, "del"))
		return nfqct_ipset_cmd_del(name, argc - 2, argv + 2, out, now) < 0 ? -1 : 0;
	if (!strcmp(cmd, "test"))
		return nfqct_ipset_cmd_test(name, argc - 2, argv + 2, out, now) < 0 ? -1 : 0;
	fprintf(out, "set: unknown command '%s' (expected add, del, test, list, save, flush, restore)\n", cmd);
	return -1;
}

static int ctl_table(void *arg, FILE *out, int argc, char **argv)
{
	struct daemon *d = arg;
	int r;

	nfqct_offload_sync(d->offload);	/* counts for list/save, elements of deleted entries */
	r = nfqct_ctcmd_run(d->ct, &d->extra_stats[1].ct, out, argc, argv, nfqct_now_ms());
	nfqct_offload_sync(d->offload);
	return r;
}

static int ctl_save(void *arg, FILE *out, const char *path)
{
	struct daemon *d = arg;

	if (!path && !d->settings->state_file[0]) {
		fprintf(out, "save: no state file configured (nfqct.state_file = none): name a FILE\n");
		return -1;
	}
	nfqct_offload_sync(d->offload);
	return state_save(d, path, out) < 0 ? -1 : 0;
}

static int ctl_restore(void *arg, FILE *out, const char *path, bool replace)
{
	return state_restore(arg, path, replace, out) < 0 ? -1 : 0;
}

static int ctl_upgrade(void *arg, FILE *out, int client_fd)
{
	struct daemon *d = arg;
	char *msgs = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msgs, &len);
	int ret;

	if (!f)
		return -1;
	log_info("upgrade: checking %s (nfqct upgrade)", d->exe);
	ret = upgrade(d, f, client_fd);
	fclose(f);
	fputs(msgs, out);	/* the client's answer, and the log's */
	log_lines(msgs);
	free(msgs);
	return ret;
}

static const struct nfqct_ctl_ops ctl_ops = {
	.save = ctl_save,
	.restore = ctl_restore,
	.upgrade = ctl_upgrade,
	.list = ctl_list,
	.flush = ctl_flush,
	.reload = ctl_reload,
	.rules = ctl_rules,
	.recent = ctl_recent,
	.set = ctl_set,
	.list_expect = ctl_list_expect,
	.table = ctl_table,
	.ha = ctl_ha,
	.list_external = ctl_list_external,
};

/* The main thread's loop: signals and the control socket.  Returns the exit code. */
static int main_loop(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = d->signal_fd, .events = POLLIN },
			{ .fd = d->ctl_fd, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		char err[256];

		rcu_thread_offline();	/* the main thread reads no RCU data while it waits */
		if (poll(pfd, d->ctl_fd >= 0 ? 2 : 1, -1) < 0) {
			rcu_thread_online();
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return EXIT_RUNTIME;
		}
		rcu_thread_online();
		if ((pfd[1].revents & POLLIN) &&
		    nfqct_ctl_serve_one(d->ctl_fd, &ctl_ops, d, err, sizeof(err)) < 0)
			log_debug("ctl: %s", err);	/* that client's problem */
		if (!(pfd[0].revents & POLLIN) || read(d->signal_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			reload_logged(d);
			break;
		case SIGUSR2:
			upgrade_logged(d);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("stopping on signal %u", si.ssi_signo);
			return 0;
		}
	}
}

static void cleanup(struct daemon *d)
{
	if (d->workers)
		for (unsigned int i = 0; i < d->nworkers; i++)
			nfqct_worker_destroy(d->workers[i]);
	nfqct_pktlog_destroy(d->pktlog);
	nfqct_offload_destroy(d->offload);
	nfqct_sync_stop(d->sync, d->events);	/* a setup that failed after its start */
	nfqct_events_stop(d->events);
	nfqct_ipfix_stop(d->ipfix);
	if (d->ctl_fd >= 0)
		nfqct_ctl_close(d->ctl_fd, d->opt.stat_dir);
	nfqct_statfile_close(d->statfile);
	free(d->workers);
	free(d->stats);
	free(d->extra_stats);
	nfqct_loopback_destroy(d->lo);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	free(d->settings);
}

/* --print-settings: every setting in force, in the settings file's syntax. */
static int print_settings(struct daemon *d)
{
	struct nfqct_settings s;
	char val[300];

	if (load_settings(&d->opt, &s, stderr) < 0) {
		fprintf(stderr, "nfqctd: configuration refused\n");
		return EXIT_CONFIG;
	}
	for (size_t i = 0; i < nfqct_settings_count(); i++) {
		if (nfqct_settings_format(&s, i, val, sizeof(val)) < 0)
			return EXIT_RUNTIME;
		printf("%s = %s\n", nfqct_settings_name(i), val);
	}
	return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
}

/*
 * detach_start - without -f: fork; the parent waits until the child says
 * it is ready (exit 0) or the pipe closes (exit with the child's status,
 * 2 if it died of a signal), and never returns.  The child returns the
 * pipe's write end, in a new session, in /.  Returns -errno when it
 * cannot fork (nothing started).
 */
static int detach_start(void)
{
	int pipefd[2], st;
	char byte;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return -err;
	}
	if (pid == 0) {
		close(pipefd[0]);
		setsid();
		if (chdir("/") < 0)
			log_warn("cannot change to /");	/* harmless: every path is absolute */
		return pipefd[1];
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(0);
	/* No byte: the child failed and said why on our stderr. */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(EXIT_RUNTIME);
	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	fprintf(stderr, "nfqctd: killed by signal %d during start-up\n", WTERMSIG(st));
	_exit(EXIT_RUNTIME);
}

/* The pid file, written once the daemon is ready.  Returns 0 or -errno (logged). */
/* Does the pid file already hold our pid?  (An upgrade's new image, same pid.) */
static bool pid_file_current(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && (buf[n] = '\0', strtol(buf, NULL, 10) == (long)getpid());
}

static int pid_file_write(struct daemon *d)
{
	char buf[32];
	int fd, len, ret = 0;

	if (!d->opt.pid_file)
		return 0;
	if (d->in && pid_file_current(d->opt.pid_file)) {
		d->pid_written = true;	/* the previous image wrote it, and it stays true */
		return 0;
	}
	fd = d->pid_fd >= 0 ? d->pid_fd :
	     open(d->opt.pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	d->pid_fd = -1;
	if (fd < 0) {
		ret = -errno;
		log_warn("cannot write the pid file %s", d->opt.pid_file);
		return ret;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		ret = errno ? -errno : -EIO;
		log_warn("cannot write the pid file %s", d->opt.pid_file);
	}
	if (close(fd) < 0 && !ret) {
		ret = -errno;
		log_warn("cannot write the pid file %s", d->opt.pid_file);
	}
	if (ret)
		unlink(d->opt.pid_file);
	else
		d->pid_written = true;
	return ret;
}

/*
 * The daemon is up: release the waiting parent (its byte), and stop
 * writing to the terminal or pipe that started us.  Returns 0 or -errno.
 */
static int detach_done(struct daemon *d)
{
	int null;

	if (d->ready_fd < 0)
		return 0;
	if (write(d->ready_fd, "R", 1) != 1) {
		log_warn("cannot tell the parent that the daemon is ready");
		return -EIO;
	}
	close(d->ready_fd);
	d->ready_fd = -1;
	log_detach();
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	return 0;
}

/* --check: settings and ruleset, every error reported; exit 0 or 1. */
/* --check: can this namespace's kernel take FLOWOFFLOAD flows? */
static void offload_check_report(void)
{
	int r = nfqct_offload_probe();

	if (r == 0)
		printf("nfqctd: flow offload: supported (table inet %s, sets %s and %s)\n",
		       NFQCT_OFFLOAD_TABLE, NFQCT_OFFLOAD_SET4, NFQCT_OFFLOAD_SET6);
	else if (r == -ENOENT)
		printf("nfqctd: flow offload: not installed (no table inet %s: run nfqct-kernel-rules "
		       "install); FLOWOFFLOAD flows stay on the queue path\n", NFQCT_OFFLOAD_TABLE);
	else
		printf("nfqctd: flow offload: not available (%s); FLOWOFFLOAD flows stay on the "
		       "queue path\n", strerror(-r));
}

static int check_only(struct daemon *d)
{
	struct nfqct_ruleset *rs = NULL;
	struct nfqct_settings s;
	bool offloads, settings_ok = true;
	int bad = 0;

	if (load_settings(&d->opt, &s, stderr) < 0)
		bad = 1, settings_ok = false;
	else if (load_sets(&d->opt, &s, stderr) < 0)
		bad = 2;	/* the rules naming its sets would only repeat it */
	if (bad != 2 && load_ruleset(&d->opt, &s, queue_count(&d->opt), &rs, stderr) < 0)
		bad = 1;
	offloads = rs && nfqct_ruleset_offloads(rs);
	nfqct_ruleset_free(rs);
	if (settings_ok) {
		char serr[256];

		/* replication's settings, together (sync.h) */
		if (nfqct_sync_check(&s, serr, sizeof(serr)) < 0) {
			fprintf(stderr, "nfqctd: %s\n", serr);
			bad = 1;
		}
	}
	if (bad) {
		fprintf(stderr, "nfqctd: configuration refused\n");
		return EXIT_CONFIG;
	}
	printf("nfqctd: configuration OK\n");
	if (offloads)
		offload_check_report();
	if (d->opt.upgrade_check)
		printf("nfqctd: upgrade handover protocol %d\n", UPGRADE_PROTO);
	state_check_report(&s);
	return 0;
}

/* The binary an upgrade runs: the path this one was started from. */
static void exe_path(struct daemon *d)
{
	static const char deleted[] = " (deleted)";
	ssize_t n = readlink("/proc/self/exe", d->exe, sizeof(d->exe) - 1);
	size_t dl = sizeof(deleted) - 1;

	if (n < 0) {
		log_warn("cannot read /proc/self/exe: upgrades are off");
		d->exe[0] = '\0';
		return;
	}
	d->exe[n] = '\0';
	/* Replaced on disk since (a package upgrade before ours): the name stays. */
	if ((size_t)n > dl && !strcmp(d->exe + n - dl, deleted))
		d->exe[n - dl] = '\0';
}

/* What the new image did not take over (it failed before): closed. */
static void handover_free(struct handover *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; i < h->nqueues; i++)
		if (h->queue_fd[i] >= 0)
			close(h->queue_fd[i]);
	if (h->ctl_fd >= 0)
		close(h->ctl_fd);
	if (h->state_fd >= 0)
		close(h->state_fd);
	if (h->counters_fd >= 0)
		close(h->counters_fd);
	if (h->client_fd >= 0)
		close(h->client_fd);
	free(h);
}

/* Everything that can fail for a reason the operator must fix, before any thread. */
/*
 * -u USER: hand the daemon's own files to USER (the stat tree, its
 * directory when nothing else is in it, the state file's directory when
 * we create it), open the pid file, then become USER keeping only
 * CAP_NET_ADMIN.  A new image of an in-place upgrade already runs as USER.
 */
static int drop_privileges(struct daemon *d)
{
	const struct options *o = &d->opt;
	const char *state = d->settings->state_file;
	bool dir_owned;
	int r;

	if (getuid() == o->uid && geteuid() == o->uid && o->uid != 0) {
		if (!nfqct_privdrop_net_admin()) {
			log_warnx("nfqctd: running as %s without CAP_NET_ADMIN: verdicts would fail", o->user);
			return EXIT_RUNTIME;
		}
		return 0;
	}
	if (geteuid() != 0) {
		log_warnx("nfqctd: -u %s: only root can switch users (running as uid %u)", o->user,
			  (unsigned int)geteuid());
		return EXIT_CONFIG;
	}
	r = nfqct_privdrop_chown_stat(o->stat_dir, o->uid, o->gid, &dir_owned);
	if (r < 0) {
		log_warnx("nfqctd: -u %s: cannot give it the stat tree under %s: %s", o->user,
			  o->stat_dir, strerror(-r));
		return EXIT_RUNTIME;
	}
	if (!dir_owned) {
		/* the events socket is made there after the switch, and the sockets go at the stop */
		log_warnx("nfqctd: -u %s: %s holds files that are not nfqctd's: give nfqctd a "
			  "directory of its own (-s)", o->user, o->stat_dir);
		return EXIT_CONFIG;
	}
	if (state[0]) {
		r = nfqct_privdrop_state_dir(state, o->uid, o->gid);
		if (r == -EACCES)
			log_warnx("state: %s: its directory is not writable by %s: the table will not be "
				  "saved (give the directory to %s)", state, o->user, o->user);
		else if (r < 0)
			log_warnx("state: %s: %s", state, strerror(-r));
	}
	if (o->pid_file) {
		d->pid_fd = open(o->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (d->pid_fd < 0) {
			log_warn("cannot write the pid file %s", o->pid_file);
			return EXIT_RUNTIME;
		}
	}
	r = nfqct_privdrop_apply(o->uid, o->gid);
	if (r < 0) {
		log_warnx("nfqctd: -u %s: cannot switch to uid %u keeping CAP_NET_ADMIN", o->user,
			  (unsigned int)o->uid);
		return EXIT_RUNTIME;
	}
	log_info("nfqctd: running as %s (uid %u, gid %u) with CAP_NET_ADMIN only", o->user,
		 (unsigned int)o->uid, (unsigned int)o->gid);
	return 0;
}

static int setup(struct daemon *d)
{
	char err[256];
	int ret;

	d->ct = nfqct_ct_create(d->settings);
	if (!d->ct) {
		log_warn("conntrack: cannot create the table");
		return EXIT_RUNTIME;
	}
	d->extra_stats = aligned_alloc(NFQCT_CACHELINE, 2 * sizeof(*d->extra_stats));
	if (!d->extra_stats)
		return EXIT_RUNTIME;
	memset(d->extra_stats, 0, 2 * sizeof(*d->extra_stats));
	if (d->in)
		handover_table_load(d);
	else
		state_load_start(d);
	d->lo = nfqct_loopback_create(NFQCT_LOOPBACK_SLOTS);
	if (!d->lo) {
		log_warn("loopback memory");
		return EXIT_RUNTIME;
	}
	ret = nfqct_statfile_open(d->opt.stat_dir, &d->statfile, err, sizeof(err));
	if (ret < 0) {
		log_warnx("stat: %s", err);
		return EXIT_RUNTIME;
	}
	if (d->in) {
		/* still listening: clients of the handover wait in its backlog */
		d->ctl_fd = d->in->ctl_fd;
		d->in->ctl_fd = -1;
		set_cloexec(d->ctl_fd, true);
	} else {
		d->ctl_fd = nfqct_ctl_listen(d->opt.stat_dir, err, sizeof(err));
	}
	if (d->ctl_fd < 0) {
		log_warnx("ctl: %s", err);
		return d->ctl_fd == -EADDRINUSE ? EXIT_CONFIG : EXIT_RUNTIME;
	}
	/* -u: the last step as root, before any thread (they inherit what we keep) */
	if (d->opt.user && (ret = drop_privileges(d)) != 0)
		return ret;
	if (nfqct_events_start(d->opt.stat_dir, &d->events, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return EXIT_RUNTIME;
	}
	if (d->settings->ipfix_collector.family &&
	    nfqct_ipfix_start(d->opt.stat_dir, d->settings, d->ct, d->events, &d->ipfix, err,
			      sizeof(err)) < 0) {
		log_warnx("%s", err);
		return EXIT_RUNTIME;
	}
	/* before the workers, which hold it; without it (no netlink) FLOWOFFLOAD
	 * rules match and nothing is offloaded */
	d->offload = nfqct_offload_create(d->ct, queue_count(&d->opt), &d->settings, d->opt.stat_dir,
					  err, sizeof(err));
	if (!d->offload)
		log_warnx("%s: flows stay on the queue path", err);
	if (d->settings->sync_mode != NFQCT_SYNC_MODE_OFF &&
	    nfqct_sync_start(d->opt.stat_dir, d->settings, d->ct, d->events, &d->sync, err,
			     sizeof(err)) < 0) {
		log_warnx("%s", err);
		return EXIT_CONFIG;
	}
	if (start_workers(d) < 0)
		return EXIT_RUNTIME;
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { .stop_fd = -1, .signal_fd = -1, .ctl_fd = -1, .ready_fd = -1, .pid_fd = -1,
			    .state_lock = PTHREAD_MUTEX_INITIALIZER };
	char *msgs = NULL;
	size_t msglen = 0;
	sigset_t sigs;
	FILE *errs;
	int ret;

	/* Option errors are logged once we know where the log goes (-f). */
	errs = open_memstream(&msgs, &msglen);
	if (!errs) {
		fprintf(stderr, "nfqctd: out of memory\n");
		return EXIT_RUNTIME;
	}
	ret = parse_options(argc, argv, &d.opt, errs);
	fclose(errs);
	if (ret || d.opt.check || d.opt.print_settings) {
		/* One-shot modes and option errors: stderr, and syslog for a would-be daemon. */
		log_init("nfqctd", d.opt.foreground || d.opt.check || d.opt.print_settings || !ret,
			 d.opt.verbose);
		log_lines(msgs);
		free(msgs);
		if (!ret)
			ret = d.opt.check ? check_only(&d) : print_settings(&d);
		options_free(&d.opt);
		return ret;
	}
	free(msgs);
	msgs = NULL;
	log_init("nfqctd", d.opt.foreground, d.opt.verbose);
	exe_path(&d);
	d.in = handover_parse(queue_count(&d.opt));
	if (d.in && !d.opt.foreground)
		log_detach();	/* detached already: the previous image's start did it */
	if (!d.opt.foreground && !d.in) {
		/* Before any thread or socket: the child does everything else. */
		d.ready_fd = detach_start();
		if (d.ready_fd < 0) {
			errno = -d.ready_fd;
			log_warn("cannot fork");
			options_free(&d.opt);
			return EXIT_RUNTIME;
		}
	}

	d.settings = malloc(sizeof(*d.settings));
	errs = d.settings ? open_memstream(&msgs, &msglen) : NULL;
	if (!errs) {
		log_warnx("nfqctd: out of memory");
		ret = EXIT_RUNTIME;
		goto out;
	}
	/* Messages of the settings and ruleset loads go to the log (stderr until ready). */
	/* Both, so that every error is reported at once. */
	if (load_settings(&d.opt, d.settings, errs) < 0) {
		fprintf(errs, "nfqctd: bad settings\n");
		ret = EXIT_CONFIG;
	} else if (load_sets(&d.opt, d.settings, errs) < 0) {
		fprintf(errs, "nfqctd: sets refused\n");
		ret = EXIT_CONFIG;
		d.ruleset = NULL;	/* not read: its set names would only repeat the errors */
		goto sets_refused;
	}
	if (load_ruleset(&d.opt, d.settings, queue_count(&d.opt), &d.ruleset, errs) < 0) {
		d.ruleset = NULL;
		fprintf(errs, "nfqctd: ruleset refused\n");
		ret = EXIT_CONFIG;
	}
sets_refused:
	fclose(errs);
	log_lines(msgs);
	free(msgs);
	if (ret) {
		nfqct_ruleset_free(d.ruleset);	/* never published: no grace period */
		goto out;
	}

	/* Block the signals everywhere (threads inherit the mask); the main
	 * thread reads them from a signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.signal_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	d.stop_fd = eventfd(0, EFD_CLOEXEC);
	if (d.signal_fd < 0 || d.stop_fd < 0) {
		log_warn("signalfd/eventfd");
		ret = EXIT_RUNTIME;
		goto out;
	}

	rcu_register_thread();
	ret = setup(&d);
	if (ret)
		goto out_rcu;
	d.hk = start_housekeeping(&d);
	if (!d.hk) {
		log_warn("cannot start the housekeeping thread");
		ret = EXIT_RUNTIME;
		goto out_rcu;
	}
	if (d.offload && nfqct_offload_start(d.offload) < 0) {
		log_warn("cannot start the offload thread");
		ret = EXIT_RUNTIME;
		goto out_stop;
	}
	d.addrs = nfqct_addrs_watch_start();
	if (!d.addrs)
		log_warn("addrs: cannot watch the routing tables: -m addrtype sees no local address");
	if (run_threads(&d) < 0) {
		ret = EXIT_RUNTIME;
		goto out_stop;
	}
	log_info("nfqctd %s ready: queues %u-%u, %u worker%s, stat dir %s", PACKAGE_VERSION,
		 d.opt.queue_first, d.opt.queue_last, d.nworkers, d.nworkers == 1 ? "" : "s",
		 d.opt.stat_dir);
	/* The pid file before the parent returns: systemd reads it then. */
	if (pid_file_write(&d) < 0 || detach_done(&d) < 0) {
		ret = EXIT_RUNTIME;
		goto out_stop;
	}
	if (d.in)
		upgrade_done(&d);
	ret = main_loop(&d);

out_stop:
	__atomic_store_n(&d.stopping, true, __ATOMIC_RELAXED);
	stop_threads(&d);
	/* every packet answered: the kernel's counts into the entries, then
	 * no element is left behind (offload.h) */
	nfqct_offload_stop(d.offload);
	rcu_thread_offline();	/* the sync thread may wait for a grace period */
	nfqct_sync_stop(d.sync, d.events);	/* it reads the table: before it goes */
	rcu_thread_online();
	d.sync = NULL;
	nfqct_housekeeping_stop(d.hk);
	rcu_thread_offline();	/* the watcher may be waiting for a grace period: not on us */
	nfqct_addrs_watch_stop(d.addrs);
	rcu_thread_online();
	publish(&d);		/* the last figures, after every packet was answered */
	/* after the last verdict: nothing changes the table any more */
	if (ret == 0 && d.settings->state_file[0] && state_save(&d, NULL, NULL) == 0)
		log_info("state: table saved to %s (%u entries)", d.settings->state_file,
			 nfqct_ct_count(d.ct));
out_rcu:
	/* Entries and rulesets go through call_rcu: wait for the callbacks
	 * offline, or the grace periods would wait for us. */
	rcu_thread_offline();
	nfqct_sync_stop(d.sync, d.events);	/* a setup that failed after its start */
	d.sync = NULL;
	rcu_barrier();
	rcu_thread_online();
	if (d.ct)
		nfqct_ct_destroy(d.ct);
	nfqct_ruleset_free(d.ruleset);
	rcu_unregister_thread();
out:
	cleanup(&d);
	if (d.pid_fd >= 0)
		close(d.pid_fd);
	/* -u: the pid file's directory may be root's; the file then stays */
	if (d.pid_written && unlink(d.opt.pid_file) < 0 && errno != EACCES)
		log_warn("cannot remove the pid file %s", d.opt.pid_file);
	if (ret)
		log_warnx("nfqctd: exiting with status %d (%s)", ret,
			  ret == EXIT_CONFIG ? "bad configuration" : "runtime failure");
	else
		log_info("stopped");
	/* Closing the pipe without the byte tells the parent we failed. */
	if (d.ready_fd >= 0)
		close(d.ready_fd);
	handover_free(d.in);
	options_free(&d.opt);
	return ret;
}
