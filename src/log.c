/*
 * log.c - stderr or syslog, in the manner of OpenBSD's log.c; a daemon
 * writes to both until it is up, so start-up errors are never invisible.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "nfqct/log.h"

/* Atomic: log_detach() runs while worker threads may be logging. */
static atomic_bool log_to_stderr = true;
static bool log_to_syslog;
static int log_verbose;

/* True when stderr is the journal stream systemd set up for us ("dev:inode"). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(const char *ident, bool foreground, int verbose)
{
	log_verbose = verbose;
	log_to_syslog = !foreground;
	/* Both ends in the journal would print every line twice. */
	atomic_store(&log_to_stderr, foreground || !stderr_is_journal());
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void log_detach(void)
{
	if (log_to_syslog)
		atomic_store(&log_to_stderr, false);
}

void log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

static void vlog(int pri, const char *fmt, va_list ap, const char *err)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (atomic_load(&log_to_stderr)) {
		/* one fprintf per message: stdio locks the stream, so lines do not interleave */
		if (err)
			fprintf(stderr, "%s: %s\n", msg, err);
		else
			fprintf(stderr, "%s\n", msg);
	}
	if (log_to_syslog) {
		if (err)
			syslog(pri, "%s: %s", msg, err);
		else
			syslog(pri, "%s", msg);
	}
}

void log_packet(int level, const char *line)
{
	if (atomic_load(&log_to_stderr))
		fprintf(stderr, "%s\n", line);
	if (log_to_syslog)
		syslog(level & LOG_PRIMASK, "%s", line);
}

void log_warn(const char *fmt, ...)
{
	char errbuf[128];
	const char *err = strerror_r(errno, errbuf, sizeof(errbuf));
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, err);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	char errbuf[128];
	const char *err = strerror_r(errno, errbuf, sizeof(errbuf));
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, err);
	va_end(ap);
	exit(2);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(2);
}

bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ms, uint32_t *suppressed)
{
	*suppressed = 0;
	if (rl->window_start_ms == 0 || now_ms - rl->window_start_ms >= rl->interval_ms) {
		*suppressed = rl->suppressed;
		rl->window_start_ms = now_ms ? now_ms : 1;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}

uint64_t nfqct_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t nfqct_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
