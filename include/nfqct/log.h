/*
 * log.h - logging in the manner of OpenBSD daemons.
 *
 * Messages go to stderr in the foreground and to syslog (daemon facility)
 * otherwise; a daemon that is still starting logs to both, so whoever
 * started it sees why it did not come up (log_detach() ends that).
 * log_warn() and fatal() append strerror(errno); the "x" variants do not.
 * Prefix a message with its subsystem: "queue: ...".  Every function is
 * safe to call from any thread.
 */
#ifndef NFQCT_LOG_H
#define NFQCT_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * log_init - choose the destination and verbosity; call once, before
 * threads start.  @foreground: stderr only.  Otherwise syslog, and stderr
 * as well until log_detach(), except when stderr is already the systemd
 * journal (JOURNAL_STREAM names it), which gets the syslog copy anyway.
 */
void log_init(const char *ident, bool foreground, int verbose);
/* log_detach - stop the stderr copy of a daemon's messages (it is detached now). */
void log_detach(void);
void log_set_verbose(int verbose);

/* log_packet - a LOG target's line, as is, at syslog @level (0..7), to the
 * same places as the other messages (pktlog.h). */
void log_packet(int level, const char *line);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Rate limiting for anything a packet can trigger, like the kernel's
 * net_ratelimit(): at most @burst messages per @interval_ms; messages over
 * the budget are counted and their number is reported with the next one
 * that passes.  One limiter per message site, owned by one thread (no
 * locking); static storage initialised with LOG_RATELIMIT_INIT is fine.
 */
struct log_ratelimit {
	uint64_t window_start_ms;
	uint32_t interval_ms;
	uint32_t burst;
	uint32_t printed;
	uint32_t suppressed;
};
#define LOG_RATELIMIT_INIT(interval_ms, burst) { 0, (interval_ms), (burst), 0, 0 }

/*
 * log_ratelimit_ok - true when a message may be printed now.  @now_ms is a
 * monotonic time in milliseconds (the caller's batch time).  When earlier
 * messages were suppressed, *suppressed receives their number (else 0).
 */
bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ms, uint32_t *suppressed);

/* Monotonic clock in milliseconds; callers read it once per batch. */
uint64_t nfqct_now_ms(void);
/* nfqct_wall_ms - CLOCK_REALTIME in ms: for times shown or stored across boots. */
uint64_t nfqct_wall_ms(void);

#endif
