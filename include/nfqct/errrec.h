/*
 * errrec.h - error records: the one format in which the ruleset reader,
 * the settings reader and the command line report what is wrong.
 *
 *	origin:line:column: error: message
 *
 * as compilers print them, so that operators, editors (next-error) and
 * tests read every configuration error the same way.  @origin is a file
 * name, or the option a value came from ("-o").  A record without a line
 * drops ":line:column", one without a column drops ":column".
 *
 * Modules format records with these functions into the stream their caller
 * gives them and return 0 / -errno; the caller (the daemon, the client)
 * decides where the stream goes.
 */
#ifndef NFQCT_ERRREC_H
#define NFQCT_ERRREC_H

#include <stdarg.h>
#include <stdio.h>

enum nfqct_errrec_severity {
	NFQCT_ERRREC_ERROR,	/* "error": the input is refused */
	NFQCT_ERRREC_WARNING,	/* "warning": the input is taken, with a change the reader says */
	NFQCT_ERRREC_NOTE,	/* "note": the input is taken as it is; something the reader should know */
};

/*
 * nfqct_errrec_print - write one record, a single line ending in '\n', to
 * @out.  @line 0: no line or column; @col 0: no column.  @out NULL: no-op.
 */
void nfqct_errrec_print(FILE *out, enum nfqct_errrec_severity sev, const char *origin,
			unsigned int line, unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* nfqct_errrec_vprint - as nfqct_errrec_print(), with a va_list. */
void nfqct_errrec_vprint(FILE *out, enum nfqct_errrec_severity sev, const char *origin,
			 unsigned int line, unsigned int col, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

#endif
