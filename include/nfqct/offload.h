/*
 * offload.h - flow offload: established flows that a FLOWOFFLOAD rule
 * marked are forwarded by the kernel, still counted and torn down by
 * nfqctd.
 *
 * The kernel side (nfqct-kernel-rules installs it): table
 * NFQCT_OFFLOAD_TABLE of family inet, with sets NFQCT_OFFLOAD_SET4 (keys
 * `ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service`:
 * source, destination, protocol, source port, destination port) and
 * NFQCT_OFFLOAD_SET6 (the same with ipv6_addr), `flags timeout`, a
 * `counter` on every element; base chains at priority raw - 1 on
 * prerouting (host role: and output) look a packet without SYN, FIN or
 * RST up in them and, when found (which counts it on its element), set the
 * mark value 0xf << nfqct.reject_mark_shift, the one value of REJECT's four
 * reserved bits that no reject type uses, and NOTRACK it; a raw rule in
 * front accepts that value (the addrtype lookups of NOTRACK's rules are
 * skipped), and so does a rule in front of the queue rule.  An nft accept
 * in a table of its own would not skip iptables' queue rule: every base
 * chain of a hook runs.
 *
 * One flow is two elements, its original and its reply tuple, so that the
 * kernel counts each direction apart, as conntrack does.  Flows of zones
 * other than 0 are never offloaded: the tuple is the only key.
 *
 * Threads: workers call nfqct_offload_request() (no system call, no
 * allocation, no lock: a ring per worker) and nfqct_offload_kick() once
 * after a batch that made requests; one offload thread empties the
 * rings into netlink batches (NEWSETELEM / DELSETELEM over libnftnl),
 * reads and resets the elements' counters (a GETSETELEM_RESET dump) every
 * nfqct.offload_interval_ms, adds them to the entries (ct.h
 * nfqct_ct_offload_acct) and removes elements whose entry is gone
 * (expired, deleted, flushed, early-dropped).  The main thread calls
 * nfqct_offload_sync() before `list` and `save`, nfqct_offload_flush() on
 * reload and stop.
 *
 * Faults: any netlink error (no nf_tables, the table or set missing, the
 * set full) leaves the flow on the queue path: the request is counted in
 * `failures` and logged (rate-limited) by the offload thread; nothing is
 * lost.  When nfqctd dies without a stop, offloaded flows keep flowing
 * until their elements time out (nfqct.offload_timeout_s after their last
 * refresh): established flows fail open, new flows follow the queue rule.
 */
#ifndef NFQCT_OFFLOAD_H
#define NFQCT_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqct/ct.h"
#include "nfqct/settings.h"

#define NFQCT_OFFLOAD_TABLE	"nfqct_offload"
#define NFQCT_OFFLOAD_SET4	"flows4"
#define NFQCT_OFFLOAD_SET6	"flows6"

/* Requests one worker can have waiting (a power of two). */
#define NFQCT_OFFLOAD_RING	1024

/*
 * DIR/net/stat/nfqct_offload: one line, hex fields as the other stat
 * files: flows offloaded now, elements-pair adds and removes sent and
 * taken, requests that failed (the flow stayed on the queue path), and the
 * packets and bytes the kernel forwarded for offloaded flows.
 */
#define NFQCT_OFFLOAD_HDR "offloaded adds removes failures packets bytes\n"

struct nfqct_offload;

struct nfqct_offload_stats {
	uint64_t offloaded;	/* flows whose elements are in the kernel now */
	uint64_t adds;		/* flows offloaded (elements added) */
	uint64_t removes;	/* flows taken back (elements removed) */
	uint64_t failures;	/* requests refused: ring full, netlink error */
	uint64_t packets;	/* what the kernel counted on the elements */
	uint64_t bytes;
};

/*
 * nfqct_offload_probe - can this namespace's kernel offload: does table
 * NFQCT_OFFLOAD_TABLE exist with both sets?  Returns 0, -ENOENT (no table
 * or set: run nfqct-kernel-rules), -EPROTONOSUPPORT (no nf_tables) or
 * another -errno.  Opens and closes a netlink socket.
 */
int nfqct_offload_probe(void);

/*
 * nfqct_offload_create - the offload state for @nworkers workers, reading
 * the settings through *@settings (RCU-published, re-read every round) and
 * writing its stat file under @stat_dir (NULL: none).  Opens the netlink
 * socket (nfqct_offload_start() binds it, so that the queues' sockets,
 * bound before, get the pid as port id).  Returns NULL with a message in
 * @err.
 */
struct nfqct_offload *nfqct_offload_create(struct nfqct_ct *ct, unsigned int nworkers,
					   struct nfqct_settings *const *settings,
					   const char *stat_dir, char *err, size_t errlen);

/* nfqct_offload_start - bind the socket (once) and start the offload
 * thread.  0 or -errno. */
int nfqct_offload_start(struct nfqct_offload *off);

/*
 * nfqct_offload_request - worker @worker asks to offload @conn (@add) or
 * take it back.  Worker thread, RCU reader; no system call, no lock, no
 * allocation.  Returns false when that worker's ring is full (counted in
 * failures; the caller undoes its claim).
 */
bool nfqct_offload_request(struct nfqct_offload *off, unsigned int worker,
			   const struct nfqct_conn *conn, bool add);

/*
 * nfqct_offload_kick - wake the offload thread (one eventfd write): a
 * worker calls it once after a batch that made requests, with its
 * verdicts' system call, so that a flow is offloaded within about a
 * millisecond instead of a tick: the thread waits that long after a kick
 * so that requests gather and flows that end at once (a short request and
 * its answer) never cost a netlink round trip.
 */
void nfqct_offload_kick(struct nfqct_offload *off);

/*
 * nfqct_offload_sync - have the offload thread read the kernel's counters
 * into the entries now, and wait for it (at most about a second).  Main
 * thread (or any thread but the offload thread); not an RCU reader call.
 */
void nfqct_offload_sync(struct nfqct_offload *off);

/*
 * nfqct_offload_flush - read the counters, then remove every element and
 * clear [OFFLOAD] on every entry: the ruleset decides afresh at each flow's
 * next packet (reload), or nothing is left in the kernel (stop).  Waits
 * like nfqct_offload_sync().
 */
void nfqct_offload_flush(struct nfqct_offload *off);

/* nfqct_offload_stats_read - the counters, summed. */
void nfqct_offload_stats_read(const struct nfqct_offload *off, struct nfqct_offload_stats *out);

/*
 * nfqct_offload_stop - flush (as nfqct_offload_flush), stop and join the
 * thread, write the stat file a last time.  Safe on a thread never started.
 */
void nfqct_offload_stop(struct nfqct_offload *off);

/* nfqct_offload_destroy - free @off (stopped first); NULL: no-op. */
void nfqct_offload_destroy(struct nfqct_offload *off);

/*
 * nfqct_offload_key - the set key of @t (family AF_INET or AF_INET6, TCP or
 * UDP) at @key: the concatenation's fields, each padded to 4 bytes, in the
 * order of the set type.  Returns its length (20 or 44), 0 for a tuple the
 * sets cannot hold.  nfqct_offload_key_parse() is the inverse (@len 20 or
 * 44), -EINVAL for anything else.
 */
size_t nfqct_offload_key(const struct nfqct_tuple *t, uint8_t key[44]);
int nfqct_offload_key_parse(const uint8_t *key, size_t len, struct nfqct_tuple *t);

#endif
