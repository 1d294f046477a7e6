/*
 * statextra.h - the one-line stat files that sit beside the counters
 * (DIR/net/stat/nfqct_events, DIR/net/stat/nfqct_ipfix, DIR/net/stat/nfqct_sync),
 * for `nfqct stat`.
 */
#ifndef NFQCT_STATEXTRA_H
#define NFQCT_STATEXTRA_H

#include <stdbool.h>
#include <stdio.h>

/*
 * nfqct_statextra_print - each of those files that exists, as a line
 * "NAME: field=value ..." (every field, the first included), or with
 * @json as members ',"NAME":{"field":value,...}' to put inside the
 * summary's object.  Missing or malformed files are skipped (an older
 * daemon, export not configured).  Returns files printed.
 */
unsigned int nfqct_statextra_print(const char *dir, bool json, FILE *out);

/*
 * DIR/net/stat/nfqct_limits: one line per named state table of the
 * running ruleset (-m recent lists, -m hashlimit tables), header
 * NFQCT_LIMITS_HDR, 32-bit hex fields as the other stat files: its kind
 * (NFQCT_LIMITS_RECENT, NFQCT_LIMITS_HASHLIMIT), the
 * entries it holds, the most it may hold, the stamps kept per entry.  The
 * names, one a line in the same order, are in DIR/net/nfqct_limits.names
 * (not in net/stat, where lnstat reads every file).  Neither file exists
 * while there is no table.
 */
#define NFQCT_LIMITS_HDR "kind entries max stamps\n"
#define NFQCT_LIMITS_RECENT 1
#define NFQCT_LIMITS_HASHLIMIT 2	/* named ipt_hashlimit/NAME or ip6t_hashlimit/NAME */

/*
 * nfqct_statextra_write_limits - write both files from the recent lists
 * of this process (recent.h), each replaced atomically (the names first).
 * Returns 0 or -errno.
 */
int nfqct_statextra_write_limits(const char *dir);

/*
 * DIR/net/stat/nfqct_sets: one line per set (ipset.h), header
 * NFQCT_SETS_HDR, hex fields: its type (enum nfqct_ipset_type: 0 hash:ip,
 * 1 hash:net, ...), the elements it holds, its maxelem (list:set: size),
 * the bytes its elements, comments and buckets take, the rules referring
 * to it.  The names, one a line in the same order, are in
 * DIR/net/nfqct_sets.names.  Neither file exists while there is no set.
 */
#define NFQCT_SETS_HDR "type entries maxelem memsize references\n"

/* nfqct_statextra_write_sets - write both files from this process's sets.  0 or -errno. */
int nfqct_statextra_write_sets(const char *dir);

#endif
