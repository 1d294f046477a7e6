/*
 * events.h - the event stream of `nfqct events`: what conntrack -E shows
 * ([NEW] at confirmation, [UPDATE] when the tracker's state, SEEN_REPLY,
 * ASSURED or the mark change, [DESTROY] with the final counters), for any
 * number of readers, never blocking the packet path.
 *
 * Producers (workers, the housekeeping thread's expiry, the main thread's
 * flush, delete and update) each write into a ring of their own, single
 * producer / single consumer, made on a thread's first event.  While
 * nobody listens, a producer pays one load and one branch
 * (nfqct_events_on()).  A full ring drops the event, counted.
 *
 * The events thread drains the rings every few milliseconds, numbers
 * events in the order it drains them (seq, from 1), and copies each
 * reader's matching events, formatted, into that reader's buffer.  A
 * reader that does not read fast enough loses events once its buffer is
 * full: counted, and when it has room again its stream gets one line
 *	[LOST] N events, seq A-B
 * before the next event, N being the number of events it missed (ring
 * drops included).  Readers connect to DIR/nfqct-events.sock, a socket of
 * its own (the control socket's one-request replies stay as they are):
 *	client -> server   "events [-e TYPES] [-o FLAGS] [FILTER...]\n"
 *	server -> client   "ok\n" then the stream, or "error\n" and a message
 * The thread keeps DIR/net/stat/nfqct_events: a header
 *	"events lost readers ring_lost\n"
 * and one line of %08x fields: events drained, events lost by readers
 * (per reader, summed), current readers, events dropped by full rings.
 */
#ifndef NFQCT_EVENTS_H
#define NFQCT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/ct.h"

#define NFQCT_EVENTS_SOCKET "nfqct-events.sock"
#define NFQCT_EVENTS_HDR "events lost readers ring_lost\n"

enum nfqct_event_type {
	NFQCT_EV_NEW		= 1 << 0,
	NFQCT_EV_UPDATE		= 1 << 1,
	NFQCT_EV_DESTROY	= 1 << 2,
	NFQCT_EV_ALL		= 7,
};

/* -o flags of events */
enum nfqct_event_output {
	NFQCT_EVO_TIMESTAMP	= 1 << 0,	/* "[sec.usec]\t" before each line */
	NFQCT_EVO_JSON		= 1 << 1,	/* one object a line */
	NFQCT_EVO_SEQ		= 1 << 2,	/* " seq=N" after each line */
	NFQCT_EVO_ID		= 1 << 3,	/* " id=N" after each line */
};

/* readers attached (atomic); producers test it with nfqct_events_on() */
extern int nfqct_events_readers;
/* a sink (the IPFIX exporter) wants NEW and DESTROY (atomic, 0 or 1) */
extern int nfqct_events_sinks;

static inline bool nfqct_events_on(void)
{
	return __builtin_expect(__atomic_load_n(&nfqct_events_readers, __ATOMIC_RELAXED) > 0, 0);
}

/* nfqct_events_want - is an event of @type wanted: readers want every
 * type, a sink NEW and DESTROY only (no [UPDATE] cost for flow export). */
static inline bool nfqct_events_want(unsigned int type)
{
	return __builtin_expect(__atomic_load_n(&nfqct_events_readers, __ATOMIC_RELAXED) > 0 ||
				(!(type & 2u) &&
				 __atomic_load_n(&nfqct_events_sinks, __ATOMIC_RELAXED) > 0), 0);
}

/*
 * nfqct_events_batch - the calling thread's clock for its next events
 * (the table's clock, ms): a worker calls it once per batch so that an
 * event costs no clock read.  Threads that never call it read the clock
 * per event.
 */
void nfqct_events_batch(uint64_t now_ms);

/*
 * One event as it sits in a ring: what the worker copies, kept small (two
 * cache lines); the reply tuple is the inverse of @orig (no NAT) and the
 * wall-clock time is the events thread's business.
 */
struct nfqct_event {
	struct nfqct_tuple orig;
	uint64_t packets[2];		/* [0] original direction, [1] reply */
	uint64_t bytes[2];
	uint64_t expires_ms;		/* absolute, table clock */
	uint64_t now_ms;		/* when: the producer's batch clock */
	const char *state_name;		/* static string of the tracker, or NULL */
	uint32_t id;
	uint32_t mark;
	uint16_t zone;
	uint8_t type;			/* enum nfqct_event_type */
	uint8_t flags;			/* NFQCT_EVF_* */
	uint8_t helper;
	uint8_t tcp_state;
};

enum {
	NFQCT_EVF_SEEN_REPLY	= 1 << 0,
	NFQCT_EVF_ASSURED	= 1 << 1,
	NFQCT_EVF_ACCT		= 1 << 2,
};

/* nfqct_event_info - the snapshot an event stands for (reply tuple rebuilt). */
void nfqct_event_info(const struct nfqct_event *e, struct nfqct_ct_info *ci);

/*
 * nfqct_events_emit - queue one event of @type for the snapshot @ci of the
 * entry with id @id, in the calling thread's ring (made on its first
 * event).  Never blocks; a full ring, or no memory for one, drops the
 * event and counts it.  Any thread.
 */
void nfqct_events_emit(unsigned int type, const struct nfqct_ct_info *ci, uint32_t id);

struct nfqct_events;

/*
 * nfqct_events_start - listen on DIR/nfqct-events.sock (0600) and start
 * the events thread, which writes DIR/net/stat/nfqct_events.  Returns 0
 * with the handle in *@evp, or -errno with a message in @err.
 */
int nfqct_events_start(const char *dir, struct nfqct_events **evp, char *err, size_t errlen);

/* nfqct_events_stop - stop the thread, close the readers and the socket, free. */
void nfqct_events_stop(struct nfqct_events *ev);

/*
 * nfqct_events_set_sink - call @fn(@arg, event, wall_offset_us) on the
 * events thread for every NEW and DESTROY drained, whether or not a reader
 * listens (wall clock of the event = now_ms * 1000 + wall_offset_us).
 * @fn must not block.  Set once, after nfqct_events_start(); NULL @fn
 * removes it (the caller then waits for one drain, EV_POLL_MS, before
 * freeing @arg: nfqct_events_stop() first is simpler).
 */
void nfqct_events_set_sink(struct nfqct_events *ev,
			   void (*fn)(void *arg, const struct nfqct_event *e, int64_t wall_offset_us),
			   void *arg);

/*
 * nfqct_events_set_sync - a second sink, for replication (sync.h): @fn
 * gets every event drained, UPDATE included, on the events thread; while
 * it is set producers emit UPDATEs (it counts in nfqct_events_readers).
 * @lost(@arg, n) hears of events dropped before anyone saw them (full
 * rings), so that replication can repair with a bulk send.  Neither may
 * block.  Set once after nfqct_events_start(); NULL @fn removes it (then
 * wait for one drain before freeing @arg, or stop the events first).
 */
void nfqct_events_set_sync(struct nfqct_events *ev,
			   void (*fn)(void *arg, const struct nfqct_event *e),
			   void (*lost)(void *arg, uint64_t n), void *arg);

/*
 * nfqct_events_print - one event line as conntrack -E prints it
 * ("%9s " [NEW]/[UPDATE]/[DESTROY], protocol, the timeout (on DESTROY
 * too, as Linux 6.x sends it), the state, tuples, counters on DESTROY, [UNREPLIED],
 * [ASSURED], mark= when not 0, zone= when not 0, helper=), with @output's
 * additions; @ts_us the event's wall-clock time in microseconds.
 */
void nfqct_events_print(FILE *out, unsigned int type, const struct nfqct_ct_info *ci, uint32_t id,
			uint64_t seq, uint64_t ts_us, uint64_t now_ms, unsigned int output);

/*
 * nfqct_events_client - `nfqct events ARGS`: validate, connect, print the
 * stream on @out until the daemon closes it or the process is stopped.
 * Errors on @err.  Returns the exit code (0, 1 bad usage or refused, 2
 * no daemon).
 */
int nfqct_events_client(const char *dir, int argc, char **argv, FILE *out, FILE *err);

#endif
