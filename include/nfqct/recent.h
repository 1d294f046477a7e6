/*
 * recent.h - the kernel's xt_recent lists: named tables of addresses, each
 * with the jiffies of its last packets, shared by every rule (and every
 * ruleset) that names them.
 *
 * A table lives while a rule refers to it (nfqct_recent_get / _put): a
 * reload loads the new ruleset before it frees the old one, so a list
 * named by both survives the reload with its contents, as the kernel's
 * survive iptables-restore.  Sizes are the kernel module parameters',
 * read when a table is made (nfqct_recent_configure()).
 *
 * Concurrency: one spinlock per table (the kernel has one global
 * spinlock), held for one lookup and update; the entries are
 * preallocated when the table is made, so the packet path never
 * allocates: a full table reuses its least recently seen entry, as the
 * kernel does before it allocates.  Table creation, printing and the
 * control commands take a mutex that the packet path never takes.
 */
#ifndef NFQCT_RECENT_H
#define NFQCT_RECENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/pkt.h"

#define NFQCT_RECENT_NAME_LEN 200	/* XT_RECENT_NAME_LEN, with the NUL */
#define NFQCT_RECENT_MAX_NSTAMPS 256	/* XT_RECENT_MAX_NSTAMPS: --hitcount below this */

/* The module parameters of xt_recent. */
struct nfqct_recent_conf {
	unsigned int ip_list_tot;	/* addresses per table, default 100 */
	unsigned int ip_pkt_list_tot;	/* stamps per address; 0: from --hitcount (or 32) */
	unsigned int ip_list_hash_size;	/* buckets, a power of two; 0: 2^fls(ip_list_tot) */
};

/*
 * nfqct_recent_configure - the sizes of tables made from now on (existing
 * ones keep theirs, as the kernel's module parameters are read once).
 * Returns 0 or -EINVAL (ip_list_tot 0, ip_pkt_list_tot >= 256, a hash
 * size that is not a power of two).
 */
int nfqct_recent_configure(const struct nfqct_recent_conf *c);

struct nfqct_recent_table;

/*
 * nfqct_recent_get - the table @name (1..199 printable characters, no
 * '/'), made if no rule names it yet with @mask (addresses are and-ed with
 * it before they are stored, as xt_recent v1).  @hit_count is the rule's
 * --hitcount: a table that keeps fewer stamps than a new rule needs is
 * emptied and grown, as the kernel does.  Takes a reference.  Returns 0,
 * -EINVAL (bad name or hit count) or -ENOMEM.
 */
int nfqct_recent_get(const char *name, const union nfqct_addr *mask, unsigned int hit_count,
		     struct nfqct_recent_table **tp);

/* nfqct_recent_put - drop a reference; the last one frees the table and its entries. */
void nfqct_recent_put(struct nfqct_recent_table *t);

/* What a rule asks (xt_recent_mtinfo_v1): one of the four commands, and modifiers. */
enum nfqct_recent_cmd { NFQCT_RECENT_SET, NFQCT_RECENT_CHECK, NFQCT_RECENT_UPDATE, NFQCT_RECENT_REMOVE };

struct nfqct_recent_info {
	uint8_t cmd;		/* enum nfqct_recent_cmd */
	bool invert;
	bool reap;
	bool rttl;
	uint32_t seconds;	/* 0: any age */
	uint32_t hit_count;	/* 0: one stamp is enough */
};

/*
 * nfqct_recent_match - xt_recent's match for a packet of @family whose
 * chosen address (source or destination) is @addr and whose TTL (hop
 * limit) is @ttl, at jiffy @now (tbf.h's jiffies).  Updates the table as
 * the kernel does.  No allocation, no system call; takes the table's lock.
 */
bool nfqct_recent_match(struct nfqct_recent_table *t, const struct nfqct_recent_info *info, int family,
			const union nfqct_addr *addr, uint8_t ttl, uint64_t now);

/*
 * nfqct_recent_print - table @name in /proc/net/xt_recent/NAME's format,
 * one line per address: "src=ADDR ttl: N last_seen: J oldest_pkt: K J1,
 * J2, ..." (IPv6 addresses in full, as the kernel's %pI6).  Returns 0 or
 * -ENOENT (no rule names it).
 */
int nfqct_recent_print(const char *name, FILE *out);

/*
 * nfqct_recent_write - what writing @cmd to /proc/net/xt_recent/NAME does:
 * "+ADDR" adds the address (or stamps it again), "-ADDR" removes it, "/"
 * empties the table; @now is the jiffy stamped.  Returns 0, -ENOENT (no
 * such table) or -EINVAL (another command, a bad address).
 */
int nfqct_recent_write(const char *name, const char *cmd, uint64_t now);

/* One table's figures, for the stat tree. */
struct nfqct_recent_stat {
	char name[NFQCT_RECENT_NAME_LEN];
	unsigned int entries;	/* addresses held now */
	unsigned int max;	/* ip_list_tot when it was made */
	unsigned int nstamps;	/* stamps kept per address */
};

/*
 * nfqct_recent_stats - up to @n tables' figures into @st, in name order.
 * Returns the number of tables (which may exceed @n).
 */
unsigned int nfqct_recent_stats(struct nfqct_recent_stat *st, unsigned int n);

#endif
