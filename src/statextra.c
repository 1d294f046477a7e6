/*
 * statextra.c - the one-line stat files of the events and IPFIX threads.
 */
#include <inttypes.h>
#include <stdio.h>

#include "nfqct/statextra.h"
#include "nfqct/statfile.h"

static const char *const extra_files[] = { "nfqct_events", "nfqct_ipfix" };

unsigned int nfqct_statextra_print(const char *dir, bool json, FILE *out)
{
	unsigned int n = 0;

	for (size_t i = 0; i < sizeof(extra_files) / sizeof(extra_files[0]); i++) {
		struct nfqct_stattab t;
		char path[4096];

		snprintf(path, sizeof(path), "%s/net/stat/%s", dir, extra_files[i]);
		if (nfqct_statfile_read(path, &t) < 0)
			continue;
		if (t.nlines != 1) {
			nfqct_stattab_free(&t);
			continue;
		}
		fprintf(out, json ? ",\"%s\":{" : "%s:", extra_files[i]);
		for (unsigned int j = 0; j < t.nfields; j++)
			fprintf(out, json ? "%s\"%s\":%" PRIu64 : "%s%s=%" PRIu64,
				json ? (j ? "," : "") : " ",
				t.names[j], t.values[j]);
		fputs(json ? "}" : "\n", out);
		nfqct_stattab_free(&t);
		n++;
	}
	return n;
}
