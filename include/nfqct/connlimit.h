/*
 * connlimit.h - the kernel's nf_conncount for -m connlimit: per rule
 * instance, the connections that passed the rule, grouped by a masked
 * address, counted while they are in the connection table.
 *
 * As the kernel's (__nf_conncount_add()): a packet adds its connection
 * (its original tuple and zone) to its address's list unless it is listed;
 * the list is looked at first, at most once per jiffy, up to the packet's
 * own connection: every connection no longer in the table, and every TCP
 * one in TIME_WAIT or CLOSE, is dropped from it (one the table does not
 * have is kept for 2 jiffies when another worker added it: it may be about
 * to be confirmed).  So the count is exact after opens and
 * closes without walking the table, and a reload (a new instance) starts
 * from nothing, as the kernel's.
 *
 * Memory is allocated with the instance, NFQCT_CONNLIMIT_MAX connections
 * (pages touched as used): the packet path never allocates.  One spinlock
 * per instance.
 */
#ifndef NFQCT_CONNLIMIT_H
#define NFQCT_CONNLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqct/pkt.h"

#define NFQCT_CONNLIMIT_MAX 65536	/* connections one rule instance can count */

struct nfqct_ct;
struct nfqct_connlimit;

/* nfqct_connlimit_alloc - an empty instance.  NULL: no memory. */
struct nfqct_connlimit *nfqct_connlimit_alloc(void);
void nfqct_connlimit_free(struct nfqct_connlimit *cl);

/*
 * nfqct_connlimit_count - the connections of @key (a masked address of
 * @family) that passed this instance and are still open in @ct at @now_ms
 * (lists are looked at once per jiffy of tbf.h), counting the packet's
 * connection (@tuple in @zone) as nf_conncount_count() does; @worker (the
 * kernel's CPU) added it.  RCU reader (looks entries up in @ct).  Returns
 * the count,
 * or -ENOSPC when NFQCT_CONNLIMIT_MAX connections are counted already
 * (the kernel's allocation failure).
 */
int nfqct_connlimit_count(struct nfqct_connlimit *cl, struct nfqct_ct *ct, const union nfqct_addr *key,
			  int family, const struct nfqct_tuple *tuple, uint16_t zone, unsigned int worker,
			  uint64_t now_ms);

#endif
