/*
 * simulate.h - a ruleset and the table run on recorded traffic
 * (`nfqct simulate`): every packet of pcap/pcapng files goes through
 * nfqct_judge() with the capture's timestamps as the clock, and one line
 * per packet says what nfqctd would have done with it.
 *
 * No root, no netlink: the table, the ruleset and the counters are the
 * daemon's own code, driven by a single thread.  That thread must be
 * registered with liburcu (QSBR) before nfqct_sim_create() and stay
 * online; the simulation announces its own quiescent states.
 */
#ifndef NFQCT_SIMULATE_H
#define NFQCT_SIMULATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/rules.h"
#include "nfqct/settings.h"
#include "nfqct/stats.h"

struct nfqct_sim;

struct nfqct_sim_config {
	const struct nfqct_settings *settings;
	const struct nfqct_ruleset *rs;	/* borrowed; one worker slot is used */
	int hook;			/* NFQCT_HOOK_* for every packet, or -1: the
					 * capture's (NFLOG), else FORWARD */
	const char *in, *out;		/* interface names for captures without them */
	bool json;			/* JSON lines instead of text */
	bool checksums;			/* verify the captured checksums where the kernel
					 * would (else they count as verified) */
};

/* nfqct_sim_create - an empty table.  Returns 0 or -errno. */
int nfqct_sim_create(const struct nfqct_sim_config *cfg, struct nfqct_sim **simp);

/*
 * nfqct_sim_file - judge every packet of @path, printing one line each to
 * @out.  Errors go to @errs as "path: record N: ..." (or "path: ..." when
 * the file cannot be read); the records before a fatal error count, a
 * record with a broken link layer is reported and the file goes on.
 * Timestamps run on from the previous file; an earlier one than the last
 * seen is taken as the last (the clock never goes back).  Returns 0, or
 * -EINVAL when anything was reported.
 */
int nfqct_sim_file(struct nfqct_sim *sim, const char *path, FILE *out, FILE *errs);

/* nfqct_sim_list - the table at the last packet's time, as `nfqct list` prints it. */
void nfqct_sim_list(struct nfqct_sim *sim, FILE *out);

/* nfqct_sim_stats - the counters so far (one block: workers and housekeeping in one). */
const struct nfqct_ct_stats *nfqct_sim_stats(const struct nfqct_sim *sim);

/* nfqct_sim_entries - entries in the table now (nf_conntrack_count). */
uint32_t nfqct_sim_entries(const struct nfqct_sim *sim);

/* nfqct_sim_ifname - name interface index @ifindex @name for the rest of
 * the process (captures from another box).  Returns 0 or -ENOSPC. */
int nfqct_sim_ifname(uint32_t ifindex, const char *name);

void nfqct_sim_destroy(struct nfqct_sim *sim);

#endif
