/*
 * hashlimit.h - the kernel's xt_hashlimit (revision 3, as iptables 1.8
 * writes it): named tables of token buckets, one per key (masked source
 * and destination addresses and ports, as --hashlimit-mode chooses), with
 * the kernel's 64-bit credit arithmetic at HZ 250 (tbf.h), its byte mode
 * and its rate-match mode.
 *
 * A table is found by name, family and parameters: a reload whose rule
 * names a table with the same parameters keeps it (its buckets go on), as
 * the kernel keeps a table across iptables-restore; other parameters make
 * a new table (the kernel would keep the old table and its old parameters).
 * Entries are allocated with the table, --hashlimit-htable-max of them
 * (pages touched as used): the packet path never allocates; a full table
 * refuses new keys, as the kernel's (the packet is dropped: hotdrop).
 * Idle entries leave the table when nfqct_hashlimit_gc() finds them
 * expired (--hashlimit-htable-expire), every --hashlimit-htable-gcinterval.
 * One spinlock per table.
 */
#ifndef NFQCT_HASHLIMIT_H
#define NFQCT_HASHLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqct/pkt.h"

/* xt_hashlimit's mode bits */
enum {
	NFQCT_HL_DIP		= 1 << 0,
	NFQCT_HL_DPT		= 1 << 1,
	NFQCT_HL_SIP		= 1 << 2,
	NFQCT_HL_SPT		= 1 << 3,
	NFQCT_HL_INVERT		= 1 << 4,	/* --hashlimit-above */
	NFQCT_HL_BYTES		= 1 << 5,
	NFQCT_HL_RATE_MATCH	= 1 << 6,
};

#define NFQCT_HL_SCALE 1000000u		/* XT_HASHLIMIT_SCALE_v2 */
#define NFQCT_HL_BYTE_SHIFT 4		/* XT_HASHLIMIT_BYTE_SHIFT */
#define NFQCT_HL_MAX_SIZE 1048576u	/* HASHLIMIT_MAX_SIZE */
#define NFQCT_HL_NAME_LEN 255		/* XT_HASHLIMIT_NAME_LEN - 1 */

/* hashlimit_cfg3, as the rule gives it (iptables' user-space values). */
struct nfqct_hashlimit_cfg {
	uint32_t mode;
	uint64_t avg;		/* seconds * 1e6 per packet; byte mode: a cost (bytes_to_cost) */
	uint64_t burst;
	uint32_t size, max;	/* 0: the kernel's defaults */
	uint32_t gc_interval;	/* ms */
	uint32_t expire;	/* ms */
	uint8_t srcmask, dstmask;
	uint32_t interval;	/* rate-match window, seconds */
};

/* Kernel arithmetic, for the parser and tests. */
uint64_t nfqct_hashlimit_credits(uint64_t user);		/* user2credits(, 3) */
uint32_t nfqct_hashlimit_credits_byte(uint32_t user);		/* user2credits_byte() */
uint64_t nfqct_hashlimit_bytes_to_cost(uint64_t bytes);		/* libxt_hashlimit's */
uint64_t nfqct_hashlimit_cost_to_bytes(uint64_t cost);

/*
 * nfqct_hashlimit_check - hashlimit_mt_check_common()'s refusals of @cfg
 * for @family (0: both): -EINVAL or -ERANGE, else 0.
 */
int nfqct_hashlimit_check(const struct nfqct_hashlimit_cfg *cfg, int family);

struct nfqct_hashlimit_table;

/* nfqct_hashlimit_get - the table @name of @family with @cfg, made if needed; a reference. */
int nfqct_hashlimit_get(const char *name, int family, const struct nfqct_hashlimit_cfg *cfg,
			struct nfqct_hashlimit_table **tp);
void nfqct_hashlimit_put(struct nfqct_hashlimit_table *t);

/*
 * nfqct_hashlimit_match - hashlimit_mt_common() for @pkt at @now_ms:
 * 1 match, 0 no match, -1 the kernel's hotdrop (no ports in a later
 * fragment, the table full).  No allocation; takes the table's lock.
 */
int nfqct_hashlimit_match(struct nfqct_hashlimit_table *t, const struct nfqct_pkt *pkt, uint64_t now_ms);

/* nfqct_hashlimit_gc - drop the expired entries of every table due for gc (housekeeping). */
void nfqct_hashlimit_gc(uint64_t now_ms);

struct nfqct_hashlimit_stat {
	char name[NFQCT_HL_NAME_LEN + 1];
	uint8_t family;
	unsigned int entries, max;
};

/* nfqct_hashlimit_stats - up to @n tables into @st, in name order; returns how many there are. */
unsigned int nfqct_hashlimit_stats(struct nfqct_hashlimit_stat *st, unsigned int n);

#endif
