/*
 * ipfix.h - IPFIX flow export (RFC 7011 transport, RFC 7012 elements,
 * RFC 5103 biflow: one record per connection, the reply direction in the
 * reverse elements, PEN 29305), encoded with libfixbuf.
 *
 * A record goes out when an entry ends (its [DESTROY] event) and, for
 * long flows, every nfqct.ipfix_active_timeout_s (a walk of the table).
 * Counters are deltas (octetDeltaCount...): the records of one flow add
 * up to its totals.  Times are wall-clock milliseconds.
 *
 * Off the packet path: the events thread hands NEW and DESTROY events to
 * a queue of ours (events.h sink; a full queue drops, counted); our
 * thread keeps flow start times, encodes, and sends.  A collector that
 * is absent or restarting is counted and retried, never fatal.  Our
 * thread keeps DIR/net/stat/nfqct_ipfix: a header
 *	"records flows dropped send_errors connects templates\n"
 * and one line of %08x fields: records sent, flows ended and exported,
 * records lost (queue full, no connection, send error), failed sends,
 * (re)connections, template sets sent.
 */
#ifndef NFQCT_IPFIX_H
#define NFQCT_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "nfqct/ct.h"
#include "nfqct/events.h"
#include "nfqct/settings.h"

#define NFQCT_IPFIX_HDR "records flows dropped send_errors connects templates\n"

/* RFC 7011 flowEndReason */
enum nfqct_ipfix_end {
	NFQCT_IPFIX_END_IDLE	= 1,	/* the entry timed out */
	NFQCT_IPFIX_END_ACTIVE	= 2,	/* a long flow's periodic record */
	NFQCT_IPFIX_END_DETECTED = 3,	/* TCP closed (TIME_WAIT, CLOSE) */
	NFQCT_IPFIX_END_FORCED	= 4,	/* deleted (nfqct delete, flush, early drop) */
};

/* One biflow record as the internal template lays it out (no padding). */
struct nfqct_ipfix_rec {
	uint64_t start_ms;		/* flowStartMilliseconds */
	uint64_t end_ms;		/* flowEndMilliseconds */
	uint64_t octets;		/* octetDeltaCount */
	uint64_t packets;		/* packetDeltaCount */
	uint64_t rev_octets;		/* reverseOctetDeltaCount */
	uint64_t rev_packets;		/* reversePacketDeltaCount */
	uint8_t src[16];		/* sourceIPv6Address, or sourceIPv4Address: a host-order
				 * uint32 in the first 4 (libfixbuf's convention) */
	uint8_t dst[16];
	uint32_t zone;			/* ingressVRFID: the conntrack zone */
	uint16_t sport;			/* sourceTransportPort */
	uint16_t dport;			/* destinationTransportPort; ICMP: type << 8 | code */
	uint8_t proto;			/* protocolIdentifier */
	uint8_t end_reason;		/* flowEndReason */
	uint8_t family;			/* not exported: which template */
	uint8_t pad[5];
};

/*
 * nfqct_ipfix_rec_fill - the record for the flow @orig in @zone from
 * @start_ms to @end_ms (wall clock), counters @packets/@bytes ([0]
 * original, [1] reply: deltas), ending for @reason.  Pure.
 */
void nfqct_ipfix_rec_fill(struct nfqct_ipfix_rec *r, const struct nfqct_tuple *orig, uint16_t zone,
			  uint64_t start_ms, uint64_t end_ms, const uint64_t packets[2],
			  const uint64_t bytes[2], unsigned int reason);

/*
 * nfqct_ipfix_end_reason - why a DESTROY event's entry ended: the TCP
 * state (closed: DETECTED), else whether it had expired at the event's
 * time (IDLE) or was removed before (FORCED).  Pure.
 */
unsigned int nfqct_ipfix_end_reason(const struct nfqct_event *e);

struct nfqct_ipfix;

/*
 * nfqct_ipfix_start - export to @s->ipfix_collector (set) over
 * @s->ipfix_transport: start the thread, register with @ev as its sink.
 * @ct is walked (RCU reader, the thread registers itself) every active
 * timeout.  The collector need not be up.  Returns 0 or -errno with a
 * message in @err.
 */
int nfqct_ipfix_start(const char *dir, const struct nfqct_settings *s, struct nfqct_ct *ct,
		      struct nfqct_events *ev, struct nfqct_ipfix **ipp, char *err, size_t errlen);

/*
 * nfqct_ipfix_stop - export what is queued (best effort), stop, free.
 * Call after nfqct_events_stop() (no sink call may be running).  NULL is
 * a no-op.
 */
void nfqct_ipfix_stop(struct nfqct_ipfix *ip);

#endif
