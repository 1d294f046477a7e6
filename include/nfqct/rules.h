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
#include <stdint.h>
#include <stdio.h>

#include "nfqct/pkt.h"

struct nfqct_ruleset;

/*
 * nfqct_ruleset_load - parse @path for @nworkers workers (per-worker rule
 * counters).  Every error goes to @errs as "path:line:column: error: ...".
 * Returns 0 and *rsp, or -EINVAL (bad content) / -errno (cannot read).
 */
int nfqct_ruleset_load(const char *path, unsigned int nworkers, struct nfqct_ruleset **rsp, FILE *errs);

/* nfqct_ruleset_accept_all - the ruleset used when none is configured: no rules, ACCEPT policies. */
struct nfqct_ruleset *nfqct_ruleset_accept_all(unsigned int nworkers);

void nfqct_ruleset_free(struct nfqct_ruleset *rs);

struct nfqct_raw_verdict {
	bool notrack;		/* NOTRACK / CT --notrack: do not track */
	uint16_t zone;		/* CT --zone N, else 0 */
};

/* nfqct_ruleset_raw - run the raw chain for pkt->hook.  @worker indexes the counters. */
void nfqct_ruleset_raw(const struct nfqct_ruleset *rs, unsigned int worker,
		       const struct nfqct_pkt *pkt, struct nfqct_raw_verdict *out);

struct nfqct_filter_verdict {
	bool accept;
	bool set_mark;		/* a MARK target ran: send mark with the verdict */
	uint32_t mark;
};

/* nfqct_ruleset_filter - run the filter chain for pkt->hook with the packet's ct state
 * (one NFQCT_CTSTATE_* bit). */
void nfqct_ruleset_filter(const struct nfqct_ruleset *rs, unsigned int worker,
			  const struct nfqct_pkt *pkt, unsigned int ctstate,
			  struct nfqct_filter_verdict *out);

/* nfqct_ruleset_print - iptables-save form; with @counters, "[packets:bytes]" as iptables-save -c. */
int nfqct_ruleset_print(const struct nfqct_ruleset *rs, FILE *out, bool counters);

#endif
