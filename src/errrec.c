/*
 * errrec.c - error records "origin:line:column: error: message" (errrec.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "nfqct/errrec.h"

static const char *const severity_name[] = {
	[NFQCT_ERRREC_ERROR] = "error",
	[NFQCT_ERRREC_WARNING] = "warning",
	[NFQCT_ERRREC_NOTE] = "note",
};

void nfqct_errrec_vprint(FILE *out, enum nfqct_errrec_severity sev, const char *origin,
			 unsigned int line, unsigned int col, const char *fmt, va_list ap)
{
	if (!out)
		return;
	/* One stdio lock for the whole line: records from two threads never interleave. */
	flockfile(out);
	fputs(origin, out);
	if (line) {
		fprintf(out, ":%u", line);
		if (col)
			fprintf(out, ":%u", col);
	}
	fprintf(out, ": %s: ", severity_name[sev]);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	funlockfile(out);
}

void nfqct_errrec_print(FILE *out, enum nfqct_errrec_severity sev, const char *origin,
			unsigned int line, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nfqct_errrec_vprint(out, sev, origin, line, col, fmt, ap);
	va_end(ap);
}
