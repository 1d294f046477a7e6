/*
 * nfqctd.c - the daemon: options, settings, workers, signals.
 *
 * Threads: one worker per queue (worker.c), one housekeeping thread
 * (expiry and the stat tree), and this main thread, which waits on a
 * signalfd (SIGHUP reload, SIGTERM/SIGINT stop) and the control socket.
 * Signals are blocked in every thread so only the signalfd sees them.
 */
#include <errno.h>
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
#include <sys/signalfd.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "nfqct/log.h"
#include "nfqct/settings.h"
#include "nfqct/stats.h"
#include "nfqct/worker.h"

#define EXIT_CONFIG	1
#define EXIT_RUNTIME	2
#define MAX_QUEUES	64
#define MAX_SET_OPTIONS	256

struct options {
	uint16_t queue_first, queue_last;
	const char *rules_path;
	bool rules_explicit;
	const char *config_path;
	const char *set[MAX_SET_OPTIONS];
	unsigned int nset;
	const char *stat_dir;
	bool foreground;
	bool fail_open;
	bool check;
	int verbose;
};

struct daemon {
	struct options opt;
	struct nfqct_settings settings;
	unsigned int nworkers;
	struct nfqct_worker_stats *stats;	/* nworkers blocks */
	struct nfqct_worker **workers;
	int stop_fd;
	int signal_fd;
};

static void usage(FILE *out)
{
	fprintf(out,
"usage: nfqctd [options]\n"
"  -q, --queue N | N:M     queue number or range; one worker per queue (default 0)\n"
"  -r, --rules FILE        ruleset (default %s/nfqct/nfqct.rules)\n"
"  -c, --config FILE       settings file, sysctl.conf syntax\n"
"  -o, --set NAME=VALUE    one setting; repeatable; wins over the config file\n"
"  -s, --stat-dir DIR      stat tree and control socket (default %s/nfqct)\n"
"  -f, --foreground        stay in the foreground, log to stderr\n"
"      --fail-open         the kernel accepts packets while the queue is full\n"
"      --check             validate rules and settings, report, exit 0 or 1\n"
"  -v, --verbose           more log messages (repeat for more)\n"
"  -h, --help              this help\n"
"  -V, --version           print the version\n"
"Signals: SIGHUP reloads rules and settings; SIGTERM and SIGINT stop.\n"
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

/* Returns 0, or the exit code to leave with. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_FAIL_OPEN = 256, OPT_CHECK };
	static const struct option longopts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "rules", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'o' },
		{ "stat-dir", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "fail-open", no_argument, NULL, OPT_FAIL_OPEN },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->rules_path = SYSCONFDIR "/nfqct/nfqct.rules";
	o->stat_dir = RUNSTATEDIR "/nfqct";
	while ((c = getopt_long(argc, argv, "q:r:c:o:s:fvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (parse_queues(optarg, o) < 0 ||
			    o->queue_last - o->queue_first + 1 > MAX_QUEUES) {
				fprintf(stderr, "nfqctd: --queue: expected N or N:M with N <= M <= 65535 "
					"and at most %d queues, got '%s'\n", MAX_QUEUES, optarg);
				return EXIT_CONFIG;
			}
			break;
		case 'r':
			o->rules_path = optarg;
			o->rules_explicit = true;
			break;
		case 'c':
			o->config_path = optarg;
			break;
		case 'o':
			if (o->nset == MAX_SET_OPTIONS) {
				fprintf(stderr, "nfqctd: too many --set options (at most %d)\n", MAX_SET_OPTIONS);
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
		case OPT_FAIL_OPEN:
			o->fail_open = true;
			break;
		case OPT_CHECK:
			o->check = true;
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
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nfqctd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_CONFIG;
	}
	return 0;
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

static int start_workers(struct daemon *d)
{
	char err[256];

	d->nworkers = (unsigned int)(d->opt.queue_last - d->opt.queue_first + 1);
	d->stats = aligned_alloc(NFQCT_CACHELINE, d->nworkers * sizeof(*d->stats));
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->stats || !d->workers) {
		log_warnx("out of memory");
		return -ENOMEM;
	}
	memset(d->stats, 0, d->nworkers * sizeof(*d->stats));
	/* Open every queue before starting any thread, so a bad queue fails early. */
	for (unsigned int i = 0; i < d->nworkers; i++) {
		struct nfqct_worker_config cfg = {
			.index = i,
			.queue_num = (uint16_t)(d->opt.queue_first + i),
			.settings = &d->settings,
			.stats = &d->stats[i],
			.stop_fd = d->stop_fd,
		};

		d->workers[i] = nfqct_worker_create(&cfg, err, sizeof(err));
		if (!d->workers[i]) {
			log_warnx("%s", err);
			return -EIO;
		}
	}
	return 0;
}

static int run_threads(struct daemon *d)
{
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

static void stop_threads(struct daemon *d)
{
	uint64_t one = 1;

	if (write(d->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("cannot signal workers to stop");
	for (unsigned int i = 0; i < d->nworkers; i++)
		if (d->workers[i])
			nfqct_worker_join(d->workers[i]);
}

static void reload(struct daemon *d)
{
	struct nfqct_settings next;

	log_info("reload: rereading settings");
	if (load_settings(&d->opt, &next, stderr) < 0) {
		log_warnx("reload: settings refused, keeping the running ones");
		return;
	}
	nfqct_settings_reload_diff(&d->settings, &next, stderr);
	/* Workers read only start-up settings so far; later modules take theirs here. */
	d->settings = next;
	log_info("reload: done");
}

/* The main thread's loop: signals.  Returns the exit code. */
static int main_loop(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[1] = { { .fd = d->signal_fd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return EXIT_RUNTIME;
		}
		if (read(d->signal_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(d);
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
	free(d->workers);
	free(d->stats);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
}

int main(int argc, char **argv)
{
	struct daemon d = { .stop_fd = -1, .signal_fd = -1 };
	sigset_t sigs;
	int ret;

	ret = parse_options(argc, argv, &d.opt);
	if (ret)
		return ret;
	if (load_settings(&d.opt, &d.settings, stderr) < 0) {
		fprintf(stderr, "nfqctd: bad settings\n");
		return EXIT_CONFIG;
	}
	if (d.opt.check) {
		printf("nfqctd: settings OK\n");
		return 0;
	}
	log_init("nfqctd", d.opt.foreground, d.opt.verbose);

	/* Block the signals everywhere (threads inherit the mask); the main
	 * thread reads them from a signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
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
	if (start_workers(&d) < 0) {
		ret = EXIT_RUNTIME;
		goto out_rcu;
	}
	if (!d.opt.foreground && daemon(0, 0) < 0) {
		log_warn("cannot go to the background");
		ret = EXIT_RUNTIME;
		goto out_rcu;
	}
	if (run_threads(&d) < 0) {
		ret = EXIT_RUNTIME;
		goto out_stop;
	}
	log_info("nfqctd %s ready: queues %u-%u, %u worker%s", PACKAGE_VERSION, d.opt.queue_first,
		 d.opt.queue_last, d.nworkers, d.nworkers == 1 ? "" : "s");
	rcu_thread_offline();	/* the main thread reads no RCU data while it waits */
	ret = main_loop(&d);
	rcu_thread_online();

out_stop:
	stop_threads(&d);
out_rcu:
	rcu_unregister_thread();
out:
	cleanup(&d);
	log_info("stopped");
	return ret;
}
