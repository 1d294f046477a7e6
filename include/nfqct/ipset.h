/*
 * ipset.h - sets as the kernel's ipset has them: named sets of addresses,
 * networks, ports and interfaces, loaded from files in `ipset save`
 * format, read by -m set and written by -j SET and `nfqct set`.
 *
 * Ownership.  Sets live in a registry of this process, by name; rules
 * hold references (nfqct_ipset_get / _put) resolved when a ruleset is
 * read, so a ruleset reload keeps the sets and their contents.  A set
 * file (re)load replaces the sets it creates and destroys the others,
 * unless a rule still refers to one (then the load is refused, as
 * `ipset destroy` refuses a set in use).
 *
 * Lookups.  One liburcu lock-free hash table (cds_lfht) per set; the
 * packet path reads it as an RCU reader (QSBR: registered, online) and
 * takes no lock: the cost of a lookup does not grow with the set.  Net
 * types probe once per prefix length present, longest first, as the
 * kernel's hash:net does.  Writers (control commands, -j SET,
 * housekeeping expiry) serialise on a mutex per set and free removed
 * elements with call_rcu().  An element past its timeout matches nothing
 * even before housekeeping removes it.
 *
 * Clock: every @now_ms is CLOCK_MONOTONIC milliseconds (nfqct_now_ms()),
 * as the rules' batch clock.
 */
#ifndef NFQCT_IPSET_H
#define NFQCT_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/pkt.h"

#define NFQCT_IPSET_MAXNAMELEN 32	/* IPSET_MAXNAMELEN, with the NUL */
#define NFQCT_IPSET_DIM_MAX 6		/* IPSET_DIM_MAX: flags of -m set */
#define NFQCT_IPSET_TIMEOUT_MAX 2147483u	/* seconds, as ipset's */

enum nfqct_ipset_type {
	NFQCT_IPSET_HASH_IP,
	NFQCT_IPSET_HASH_NET,
	NFQCT_IPSET_HASH_IP_PORT,
	NFQCT_IPSET_HASH_NET_PORT,
	NFQCT_IPSET_HASH_IP_PORT_IP,
	NFQCT_IPSET_HASH_IP_PORT_NET,
	NFQCT_IPSET_HASH_NET_IFACE,
	NFQCT_IPSET_BITMAP_PORT,
	NFQCT_IPSET_LIST_SET,
	NFQCT_IPSET_TYPE_MAX,
};

struct nfqct_ipset;

/* ---- loading: `ipset save` text ---- */

enum nfqct_ipset_load_mode {
	/* a set file: the file is the truth; sets it does not create go
	 * (refused while a rule refers to one) */
	NFQCT_IPSET_LOAD_FILE,
	/* `nfqct set restore`: as `ipset restore -exist`: sets it creates are
	 * replaced, `add` lines may also name running sets, others stay */
	NFQCT_IPSET_LOAD_RESTORE,
};

/*
 * nfqct_ipset_load - read `ipset save` text from @in (lines "create NAME
 * TYPE [options]" and "add NAME ELEMENT [options]"; blank lines and '#'
 * comments are skipped) and, when all of it is good, put it in place in
 * one step.  On any error nothing changes: the errors go to @errs as
 * "@origin:LINE:COL: error: ...", one per mistake (reading stops at the
 * first).  Calls synchronize_rcu() (the caller, if an RCU reader, is a
 * registered QSBR thread).  Returns 0, -EINVAL (errors printed), -EBUSY
 * (a set in use would go or change type: printed) or -ENOMEM.
 */
int nfqct_ipset_load(FILE *in, const char *origin, FILE *errs, enum nfqct_ipset_load_mode mode,
		     uint64_t now_ms);

/*
 * nfqct_ipset_load_path - nfqct_ipset_load() of file @path (origin: the path).
 * Returns as nfqct_ipset_load(), or -errno when it cannot be opened (printed).
 */
int nfqct_ipset_load_path(const char *path, FILE *errs, enum nfqct_ipset_load_mode mode, uint64_t now_ms);

/* nfqct_ipset_destroy_all - drop every set no rule refers to (tests, shutdown). */
void nfqct_ipset_destroy_all(void);

/* ---- references, for the rules ---- */

/*
 * nfqct_ipset_get - the set @name, with a reference taken.  Returns 0 or
 * -ENOENT.  nfqct_ipset_put() drops it (safe from a call_rcu callback).
 */
int nfqct_ipset_get(const char *name, struct nfqct_ipset **sp);
void nfqct_ipset_put(struct nfqct_ipset *s);

const char *nfqct_ipset_name(const struct nfqct_ipset *s);
/* nfqct_ipset_dim - the number of src/dst flags a rule gives the set (list:set: 0, any). */
unsigned int nfqct_ipset_dim(const struct nfqct_ipset *s);
/* nfqct_ipset_type - enum nfqct_ipset_type. */
unsigned int nfqct_ipset_type(const struct nfqct_ipset *s);
/* nfqct_ipset_family - AF_INET or AF_INET6 (bitmap:port, list:set: 0). */
int nfqct_ipset_family(const struct nfqct_ipset *s);

/* ---- the packet path ---- */

/* What a rule takes from the packet (xt_set's flags and options). */
struct nfqct_ipset_probe {
	const struct nfqct_tuple *t;	/* the packet's tuple (ports in network order) */
	uint8_t dim;			/* flags given */
	uint8_t src;			/* bit i: dimension i is src (else dst) */
	const char *in, *out;		/* interface names, for hash:net,iface ("" none) */
	uint32_t len;			/* the packet's bytes, for counters */
	bool update_counters;		/* the element's counters (else left alone) */
	bool return_nomatch;		/* a nomatch element matches */
	/* --packets-* / --bytes-*: 0 none, 1 eq, 2 lt, 3 gt, 4 ne (! --*-eq), compared
	 * with the counters this packet updated, as the kernel does */
	uint8_t pkt_op, byte_op;
	uint64_t pkt_val, byte_val;
};

/*
 * nfqct_ipset_test_pkt - does set @s hold the packet's element (xt_set's
 * match: an expired element holds nothing; a nomatch element of a net
 * type holds nothing unless @p->return_nomatch)?  Updates the counters of
 * the element found (nomatch ones too) when the set has them and
 * @p->update_counters, then compares them (an element that fails the
 * comparison is passed over, as the kernel's).  No lock, no
 * allocation, no system call: an RCU reader.
 */
bool nfqct_ipset_test_pkt(struct nfqct_ipset *s, const struct nfqct_ipset_probe *p, uint64_t now_ms);

/*
 * nfqct_ipset_pkt_add / _del - -j SET: add the packet's element (with
 * @timeout_s, or the set's default when @timeout_s is UINT32_MAX; @exist:
 * an existing one gets the new timeout) or delete it.  Takes the set's
 * mutex and allocates: the packet path of a -j SET rule only.  Returns 0,
 * -EEXIST, -ENOENT, -ENOSPC (full), -EINVAL (family) or -ENOMEM.
 */
int nfqct_ipset_pkt_add(struct nfqct_ipset *s, const struct nfqct_ipset_probe *p, uint32_t timeout_s,
			bool exist, uint64_t now_ms);
int nfqct_ipset_pkt_del(struct nfqct_ipset *s, const struct nfqct_ipset_probe *p, uint64_t now_ms);

/* ---- commands (nfqct set ...) ---- */

/*
 * nfqct_ipset_cmd_add / _del / _test - `ipset add|del|test NAME ELEM
 * [options]` on the set named @name: @argv[0] is the element, the rest
 * its options (timeout N, packets N, bytes N, comment TEXT, nomatch,
 * -exist).  Messages go to @out (ipset's wording where it has one).
 * Returns 0, -ENOENT (no set, or test: not in it), -EEXIST, -ENOSPC,
 * -EINVAL.  _add stores the element it added in @added (for
 * nfqct_ipset_elem_matches()) when @added is not NULL.
 */
struct nfqct_ipset_elem_spec;
int nfqct_ipset_cmd_add(const char *name, int argc, char **argv, FILE *out, uint64_t now_ms,
			struct nfqct_ipset_elem_spec **added);
int nfqct_ipset_cmd_del(const char *name, int argc, char **argv, FILE *out, uint64_t now_ms);
int nfqct_ipset_cmd_test(const char *name, int argc, char **argv, FILE *out, uint64_t now_ms);

/*
 * nfqct_ipset_elem_matches - does the element @e (from _cmd_add) hold the
 * connection of tuple @t read with some src/dst flags (a -m set rule with
 * any flags would match it)?  For --kill-flows.
 */
bool nfqct_ipset_elem_matches(const struct nfqct_ipset_elem_spec *e, const struct nfqct_tuple *t);
void nfqct_ipset_elem_spec_free(struct nfqct_ipset_elem_spec *e);

/* nfqct_ipset_cmd_flush - empty set @name, or every set (@name NULL).  0 or -ENOENT (printed). */
int nfqct_ipset_cmd_flush(const char *name, FILE *out);

/*
 * nfqct_ipset_cmd_list / _save - set @name (NULL: every set, in name
 * order) as `ipset list` / `ipset save` print it.  0 or -ENOENT (printed).
 */
int nfqct_ipset_cmd_list(const char *name, FILE *out, uint64_t now_ms);
int nfqct_ipset_cmd_save(const char *name, FILE *out, uint64_t now_ms);

/* ---- housekeeping, observability ---- */

/*
 * nfqct_ipset_gc - remove elements past their timeout from every set, and
 * free sets dropped from the registry once no rule refers to them.
 * Returns elements removed.  An RCU reader thread (QSBR, online).
 */
unsigned int nfqct_ipset_gc(uint64_t now_ms);

struct nfqct_ipset_stat {
	char name[NFQCT_IPSET_MAXNAMELEN];
	uint8_t type;		/* enum nfqct_ipset_type */
	unsigned int entries;	/* elements held (expired ones until housekeeping) */
	unsigned int maxelem;
	size_t memsize;		/* bytes: elements, comments and buckets */
	unsigned int references;	/* rules referring to it */
};

/* nfqct_ipset_stats - up to @n sets' figures into @st, in name order; returns the number of sets. */
unsigned int nfqct_ipset_stats(struct nfqct_ipset_stat *st, unsigned int n);

/* nfqct_ipset_type_name - "hash:ip", ... */
const char *nfqct_ipset_type_name(unsigned int type);

#endif
