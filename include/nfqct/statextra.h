/*
 * statextra.h - the one-line stat files that sit beside the counters
 * (DIR/net/stat/nfqct_events, DIR/net/stat/nfqct_ipfix), for `nfqct stat`.
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

#endif
