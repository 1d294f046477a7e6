/*
 * addrs.h - the box's own address types, for -m addrtype and -m pkttype,
 * and its interfaces' groups, for -m devgroup.
 *
 * The kernel's xt_addrtype asks the routing table "local" (IPv4:
 * inet_dev_addr_type(); IPv6: the route's RTF_LOCAL / anycast flags).
 * This module keeps a copy of the local tables of both families, read by
 * rtnetlink (RTM_GETROUTE), and of the main tables (for -m rpfilter's
 * reverse-path lookup), and publishes it RCU-style: packets look up a
 * snapshot, never the kernel.  A watcher thread (nfqct_addrs_watch_start)
 * listens to route notifications and reads the tables again after any
 * change, so the snapshot follows addresses coming and going within a few
 * milliseconds.  The interfaces' groups (IFLA_GROUP, `ip link set DEV
 * group N`) come with it, by RTM_GETLINK and link notifications.  Until the first snapshot every lookup finds nothing
 * (RTN_UNICAST), as a box without addresses would.
 */
#ifndef NFQCT_ADDRS_H
#define NFQCT_ADDRS_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqct/pkt.h"

/* One route of the local or main table: a prefix, its rtnetlink type (RTN_*), its
 * device.  A multipath route is one entry per nexthop. */
struct nfqct_addrs_entry {
	union nfqct_addr addr;	/* the prefix, network order, host bits zero */
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t plen;
	uint8_t type;		/* RTN_LOCAL, RTN_BROADCAST, RTN_ANYCAST, RTN_MULTICAST, ... */
	bool main;		/* of the main table (RT_TABLE_MAIN), false: the local table */
	uint32_t ifindex;	/* the route's device, 0: none */
};

/*
 * nfqct_addrs_lookup - the type of the longest prefix of the snapshot that
 * holds @a (@family's local table), as RTN_*, and its device in *@ifindex;
 * RTN_UNSPEC when none holds it.  RCU reader (QSBR: between quiescent
 * states); no allocation, no system call.
 */
unsigned int nfqct_addrs_lookup(int family, const union nfqct_addr *a, uint32_t *ifindex);

/*
 * nfqct_addrs_route - the route to destination @a as the kernel's default
 * rules find it without policy routing: the longest prefix of the local
 * table that holds @a, else the longest of the main table.  Returns its type
 * (RTN_UNICAST, RTN_LOCAL, RTN_BLACKHOLE, ...), RTN_UNSPEC when neither table
 * holds @a.  *@via_dev: whether interface @dev is the device of a route of
 * that same prefix and table (any nexthop of a multipath route, any metric).
 * For -m rpfilter.  RCU reader, as lookup; no allocation, no system call.
 */
unsigned int nfqct_addrs_route(int family, const union nfqct_addr *a, uint32_t dev, bool *via_dev);

/* One interface and its group. */
struct nfqct_addrs_link {
	uint32_t ifindex;
	uint32_t group;
};

/*
 * nfqct_addrs_ifgroup - the group of interface @ifindex in the snapshot,
 * 0 (the default group) when it is not there.  RCU reader, as lookup.
 */
uint32_t nfqct_addrs_ifgroup(uint32_t ifindex);

/*
 * nfqct_addrs_publish - make @n routes and @nl interfaces the snapshot
 * (copied) and free the previous one after a grace period.  Calls
 * synchronize_rcu(): not from a thread that is an online QSBR reader.
 * Returns 0 or -ENOMEM.
 */
int nfqct_addrs_publish(const struct nfqct_addrs_entry *e, unsigned int n,
			const struct nfqct_addrs_link *l, unsigned int nl);

/* nfqct_addrs_refresh - read both families' local and main tables and the interfaces by rtnetlink and publish
 * them.  0 or -errno. */
int nfqct_addrs_refresh(void);

/* nfqct_addrs_generation - how many snapshots were published (tests, stats). */
unsigned long nfqct_addrs_generation(void);

struct nfqct_addrs_watch;

/*
 * nfqct_addrs_watch_start - a thread that refreshes the snapshot now and
 * after every route notification (it reads the tables again at most every
 * 10 ms, once for a burst), until nfqct_addrs_watch_stop().  Not an RCU
 * reader.  Returns NULL with errno set (no rtnetlink: lookups then find
 * nothing).
 */
struct nfqct_addrs_watch *nfqct_addrs_watch_start(void);

/* nfqct_addrs_watch_stop - stop and join the thread, free it.  NULL is a no-op. */
void nfqct_addrs_watch_stop(struct nfqct_addrs_watch *w);

#endif
