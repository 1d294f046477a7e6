/*
 * rules.h - the ruleset: raw and filter tables read from a subset of
 * iptables-restore syntax (see nfqct.rules(5)).
 *
 * A ruleset is immutable once loaded (its counters excepted); the daemon
 * publishes it with an RCU pointer swap and frees the old one after a
 * grace period.  Evaluation functions are RCU readers of nothing: they
 * only read the ruleset they are given.
 */
#ifndef NFQCT_RULES_H
#define NFQCT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/pkt.h"

struct nfqct_conn;
struct nfqct_ct;
struct nfqct_ruleset;

/*
 * nfqct_ruleset_load - parse @path for @nworkers workers (per-worker rule
 * counters).  Every error goes to @errs as "path:line:column: error: ...".
 * Returns 0 and *rsp, or -EINVAL (bad content) / -errno (cannot read).
 */
int nfqct_ruleset_load(const char *path, unsigned int nworkers, struct nfqct_ruleset **rsp, FILE *errs);

/*
 * nfqct_ruleset_load_family - as nfqct_ruleset_load() for a file of one
 * family, as iptables-persistent keeps them (rules.v4 for iptables-restore,
 * rules.v6 for ip6tables-restore): @family AF_INET or AF_INET6.  An address
 * of the other family is an error; a rule with -6 in an IPv4 file (-4 in an
 * IPv6 one) is skipped with a note, as iptables-restore skips it.
 */
int nfqct_ruleset_load_family(const char *path, int family, unsigned int nworkers,
			      struct nfqct_ruleset **rsp, FILE *errs);

/*
 * nfqct_ruleset_pair - one ruleset from an IPv4 file's and an IPv6 file's
 * (nfqct_ruleset_load_family()): each judges its own family's packets only.
 * Either may be NULL: that family then gets an accept-all ruleset.  Takes
 * ownership of both (freed on failure).  Returns the pair, or NULL (ENOMEM).
 */
struct nfqct_ruleset *nfqct_ruleset_pair(struct nfqct_ruleset *v4, struct nfqct_ruleset *v6,
					 unsigned int nworkers);

/*
 * nfqct_ruleset_family - the ruleset that judges @family's packets: @rs
 * itself, or for a pair its IPv4 or IPv6 half.  Counters, names and
 * printing of one half go through it.
 */
const struct nfqct_ruleset *nfqct_ruleset_family(const struct nfqct_ruleset *rs, int family);

/* nfqct_ruleset_is_pair - was @rs made by nfqct_ruleset_pair()? */
bool nfqct_ruleset_is_pair(const struct nfqct_ruleset *rs);

/* nfqct_ruleset_accept_all - the ruleset used when none is configured: no rules, ACCEPT policies. */
struct nfqct_ruleset *nfqct_ruleset_accept_all(unsigned int nworkers);

void nfqct_ruleset_free(struct nfqct_ruleset *rs);

/* Where a traversal ended: a rule (0-based within its chain) or a chain's policy. */
struct nfqct_rule_ref {
	int32_t chain;		/* chain index in its table; -1: the hook runs no chain */
	int32_t rule;		/* rule index within that chain; -1: the chain's policy */
};

struct nfqct_log_spec;

/* LOG rules one traversal ran, at most this many are remembered. */
#define NFQCT_RULES_MAX_LOG 4

/* A LOG rule that matched: its options (valid as long as the ruleset) and
 * the packet's mark when it ran (MARK= in the line). */
struct nfqct_rules_log {
	const struct nfqct_log_spec *spec;
	uint32_t mark;
	bool raw;		/* set by the caller that merges tables (judge.h) */
};

/* The outcome of one table traversal. */
struct nfqct_rules_verdict {
	bool accept;		/* false: a DROP rule or a DROP policy decided */
	bool notrack;		/* raw: NOTRACK / CT --notrack ran: do not track */
	uint16_t zone;		/* raw: CT --zone N, else 0 */
	uint8_t helper;		/* raw: CT --helper NAME (helper.h), else 0 */
	bool set_mark;		/* a MARK target changed *mark: send it with the verdict */
	bool offload;		/* filter: a FLOWOFFLOAD rule matched (it does not end
				 * the traversal; the judge decides whether it holds) */
	uint8_t reject;		/* filter: a REJECT rule decided (accept is false): the
				 * reply type for this packet's family (reject.h), else 0 */
	struct nfqct_rule_ref by;	/* what decided accept */
	uint8_t nlog;		/* LOG rules that matched, in order: log[0..nlog) */
	uint8_t log_lost;	/* and those beyond NFQCT_RULES_MAX_LOG */
	struct nfqct_rules_log log[NFQCT_RULES_MAX_LOG];
};

/*
 * nfqct_ruleset_raw - run the raw chain for pkt->hook (PREROUTING for
 * packets queued at PREROUTING, INPUT or FORWARD; OUTPUT for OUTPUT and
 * POSTROUTING).  @worker < the load's nworkers; it indexes the counters and
 * the interface-name cache, so one thread per worker index.  @now_ms is the
 * caller's clock (the interface-name cache ages by it).  *@mark is the
 * packet's mark: -m mark tests it and MARK targets change it in place.
 * Fills every field of @out.  The first NOTRACK / CT target that matches
 * decides notrack and zone; later ones are counted but change nothing (the
 * kernel's "already has a ct" rule).  When !out->accept, the caller drops
 * the packet without tracking it.  Allocation-free, no clock reads.
 */
void nfqct_ruleset_raw(const struct nfqct_ruleset *rs, unsigned int worker,
		       const struct nfqct_pkt *pkt, uint64_t now_ms, uint32_t *mark,
		       struct nfqct_rules_verdict *out);

/* -m conntrack --ctstatus bits, as the kernel's IPS_* bits. */
enum nfqct_rules_ctstatus {
	NFQCT_RULES_CTS_EXPECTED	= 1 << 0,
	NFQCT_RULES_CTS_SEEN_REPLY	= 1 << 1,
	NFQCT_RULES_CTS_ASSURED		= 1 << 2,
	NFQCT_RULES_CTS_CONFIRMED	= 1 << 3,
};

/* What conntrack says of the packet, for the filter table's matches. */
struct nfqct_rules_ct {
	unsigned int state;	/* one NFQCT_CTSTATE_* bit (-m conntrack, -m state) */
	uint8_t master_helper;	/* an expected entry's master's helper id (-m helper), 0: none */
	/* The entry, for -m conntrack's other options; filled only when
	 * nfqct_ruleset_needs_ct_entry() says so.  NULL orig: no entry (the
	 * options then never match, as the kernel's without a ct). */
	const struct nfqct_tuple *orig;	/* original direction */
	const struct nfqct_tuple *reply;	/* reply direction */
	uint8_t status;		/* NFQCT_RULES_CTS_* */
	bool dir_reply;		/* the packet goes in the reply direction */
	uint32_t expire_s;	/* seconds of life left, rounded down */
	/* The packet's entry (confirmed or not), for -m connmark and CONNMARK,
	 * which read and write its mark atomically (ct.h); NULL: none (no
	 * ct, as an untracked or invalid packet's in the kernel). */
	struct nfqct_conn *conn;
	bool unconfirmed;		/* conn is new, not yet in the table */
	struct nfqct_ct *table;		/* the table, for -m connlimit's lookups; NULL: none */
};

/* nfqct_ruleset_offloads - whether a filter rule is -j FLOWOFFLOAD (offload.h). */
bool nfqct_ruleset_offloads(const struct nfqct_ruleset *rs);

/* nfqct_ruleset_needs_ct_entry - whether a filter rule reads nfqct_rules_ct's entry part. */
bool nfqct_ruleset_needs_ct_entry(const struct nfqct_ruleset *rs);

/* nfqct_ruleset_filter - run the filter chain for pkt->hook with what conntrack
 * said of the packet (@ct).  INPUT, FORWARD and OUTPUT run their chain;
 * PREROUTING and POSTROUTING have none and are accepted (out->by.chain -1).
 * *@mark as for nfqct_ruleset_raw(): pass the mark the raw table left, so
 * -m mark sees earlier MARK targets.  notrack and zone are false and 0.
 * Same worker, clock and allocation rules as nfqct_ruleset_raw(). */
void nfqct_ruleset_filter(const struct nfqct_ruleset *rs, unsigned int worker,
			  const struct nfqct_pkt *pkt, const struct nfqct_rules_ct *ct,
			  uint64_t now_ms, uint32_t *mark, struct nfqct_rules_verdict *out);

/*
 * nfqct_ruleset_ref_name - name what @ref points at in table @table ("raw"
 * or "filter") as the operator reads it: "FORWARD#3" (rules count from 1,
 * as `iptables -L --line-numbers`), "FORWARD policy", or "-" when no chain
 * ran.  Returns the length snprintf() would write, or -ENOENT for a
 * reference the ruleset does not have.
 */
int nfqct_ruleset_ref_name(const struct nfqct_ruleset *rs, const char *table,
			   const struct nfqct_rule_ref *ref, char *buf, size_t len);

/* nfqct_ruleset_print - iptables-save form; with @counters, "[packets:bytes]" as iptables-save -c.
 * Both tables are printed, every built-in chain, options in a fixed order;
 * the output loads back to the same ruleset.  A pair prints its IPv4 half,
 * then its IPv6 half, each after a comment line naming it.  Counters are the sum over
 * workers (read while workers run: each figure may lag by a packet).
 * Returns 0 or -EIO. */
int nfqct_ruleset_print(const struct nfqct_ruleset *rs, FILE *out, bool counters);

/*
 * nfqct_ruleset_print_family - as nfqct_ruleset_print(), only the half of a
 * pair that judges @family (AF_INET: what iptables-save -c would show,
 * AF_INET6: ip6tables-save's), without the comment line.  @family 0, or a
 * ruleset that is not a pair: all of it.
 */
int nfqct_ruleset_print_family(const struct nfqct_ruleset *rs, int family, FILE *out, bool counters);

/*
 * nfqct_ruleset_parse - as nfqct_ruleset_load(), from @len bytes at @text;
 * @name is the file name used in error records.
 */
int nfqct_ruleset_parse(const char *name, const char *text, size_t len, unsigned int nworkers,
			struct nfqct_ruleset **rsp, FILE *errs);

/*
 * nfqct_ruleset_load_fp - as nfqct_ruleset_load(), from an open stream
 * (read to its end, not closed); @name is used in error records.
 */
int nfqct_ruleset_load_fp(const char *name, FILE *in, unsigned int nworkers,
			  struct nfqct_ruleset **rsp, FILE *errs);

/* nfqct_ruleset_nworkers - the number of counter slots per rule. */
unsigned int nfqct_ruleset_nworkers(const struct nfqct_ruleset *rs);

/*
 * nfqct_ruleset_counters - the counters of rule @index (0-based, in chain
 * order) of @chain in @table ("raw" or "filter"), or of the chain's policy
 * when @index is -1 (built-in chains only), for @worker, or summed over
 * all workers when @worker is NFQCT_RULES_ALL_WORKERS.
 * Returns 0, or -ENOENT when there is no such table, chain, rule or worker.
 */
#define NFQCT_RULES_ALL_WORKERS (~0u)
int nfqct_ruleset_counters(const struct nfqct_ruleset *rs, const char *table, const char *chain,
			   int index, unsigned int worker, uint64_t *packets, uint64_t *bytes);

/* How deep user chains may nest (jumps from a built-in chain); deeper is a load error. */
#define NFQCT_RULES_MAX_DEPTH 32

/* Default interval (ms) after which a cached interface name is looked up again (ifname.h). */
#define NFQCT_RULES_IFNAME_REFRESH_MS 1000

#endif
