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

static inline bool nfqct_events_on(void)
{
	return __builtin_expect(__atomic_load_n(&nfqct_events_readers, __ATOMIC_RELAXED) > 0, 0);
}

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
