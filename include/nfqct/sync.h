/*
 * sync.h - the replication thread: the table's events out to the peer,
 * the peer's flows into the external cache, on conntrackd's protocol
 * (syncmsg.h) with its FTFW, NOTRACK or ALARM mode (ftfw.h), over UDP
 * unicast or IPv4/IPv6 multicast (nfqct.sync_* settings, nfqctd(8)).
 *
 * Off the packet path: workers (and every other producer) put NEW,
 * UPDATE and DESTROY into their event rings as for `nfqct events`
 * (events.h); the events thread hands each to our queue (a full queue or
 * a full ring drops, counted, and a bulk send of the table repairs it);
 * our thread turns them into messages.  Datagrams come only from the
 * configured peer (unicast: its address; multicast: the group, never our
 * own address), anything else is counted `foreign` and dropped.
 *
 * Roles, for keepalived's notify scripts (contrib/keepalived), as
 * conntrackd's primary-backup.sh:
 *   primary  commit the external cache into the live table (each flow
 *            whole, replacing a local pick-up of it), empty the cache,
 *            send the whole table to the peer
 *   backup   keep the peer's flows in the external cache, ask the peer
 *            for its whole table (RESYNC)
 *   fault    stop sending; keep receiving
 * The daemon starts as backup (and asks for a resync).
 *
 * The thread keeps DIR/net/stat/nfqct_sync: the header NFQCT_SYNC_HDR
 * and one line of %08x fields in its order.
 */
#ifndef NFQCT_SYNC_H
#define NFQCT_SYNC_H

#include <stdint.h>
#include <stdio.h>

#include "nfqct/ct.h"
#include "nfqct/events.h"
#include "nfqct/ftfw.h"
#include "nfqct/settings.h"

#define NFQCT_SYNC_HDR "msg_sent msg_recv flow_sent flow_recv resent lost acks_sent acks_recv " \
	"nacks_sent nacks_recv resyncs_sent resyncs_recv external queue_lost malformed foreign " \
	"rs_len rs_overflow commits committed\n"

enum nfqct_sync_role {
	NFQCT_SYNC_BACKUP,
	NFQCT_SYNC_PRIMARY,
	NFQCT_SYNC_FAULT,
};

struct nfqct_sync;

/*
 * nfqct_sync_check - do the nfqct.sync_* settings of @s make sense
 * together (a peer; udp: a local address; the same family on both
 * sides; multicast: a group, and for IPv6 an interface)?  0 when they do
 * or sync_mode is off, else -EINVAL with the reason in @err.  Pure: the
 * interface's existence and the bind are nfqct_sync_start()'s.
 */
int nfqct_sync_check(const struct nfqct_settings *s, char *err, size_t errlen);

/*
 * nfqct_sync_start - open the socket of @s's transport, subscribe to
 * @ev's events and start the thread.  Returns 0 with *@syp, or -errno
 * with a message in @err (bad or missing addresses, no such interface,
 * bind refused).  @ct must outlive nfqct_sync_stop().
 */
int nfqct_sync_start(const char *dir, const struct nfqct_settings *s, struct nfqct_ct *ct,
		     struct nfqct_events *ev, struct nfqct_sync **syp, char *err, size_t errlen);

/*
 * nfqct_sync_stop - unsubscribe from @ev (still running), stop the
 * thread, write the stat file a last time, free (NULL is fine).
 */
void nfqct_sync_stop(struct nfqct_sync *sy, struct nfqct_events *ev);

/*
 * nfqct_sync_ha - `nfqct ha primary|backup|fault|status`: change role
 * (primary commits with @st and the table's limit @ct_max, in the
 * caller's thread, which must be an online RCU reader) or print the
 * state; output to @out.  Returns 0, or -1 with a message (an unknown
 * word).
 */
int nfqct_sync_ha(struct nfqct_sync *sy, const char *word, struct nfqct_ct_stats *st, uint32_t ct_max,
		  FILE *out);

/* nfqct_sync_list_external - `nfqct list --external`: the external cache, as conntrack -L. */
int nfqct_sync_list_external(struct nfqct_sync *sy, FILE *out);

#endif
