/*
 * ctcmd.h - the table commands `list` (with filters), `count`, `delete`
 * and `update`: the daemon's side, run on the control socket's main
 * thread while it walks the table, and the client's side (ctfilter.h
 * parses both).
 */
#ifndef NFQCT_CTCMD_H
#define NFQCT_CTCMD_H

#include <stdint.h>
#include <stdio.h>

#include "nfqct/ct.h"
#include "nfqct/stats.h"

/*
 * nfqct_ctcmd_is_table - true when the control command of @argc words
 * @argv is one of these (list with options other than --expect or --external, count,
 * delete, update).
 */
bool nfqct_ctcmd_is_table(int argc, char **argv);

/*
 * nfqct_ctcmd_run - the daemon's side: parse @argv (nfqct_ctcmd_parse),
 * walk @ct at @now_ms and write to @out: list and delete and update the
 * entries they matched, one a line (delete: as they were; update: with
 * the new mark), then for delete and update one last line
 * "nfqct: N flow entries have been deleted." ("updated."); count a number.
 * Deletions count `delete` in @st.  RCU reader (the main thread).
 * Returns 0, or -EINVAL with the parse error written to @out.
 */
int nfqct_ctcmd_run(struct nfqct_ct *ct, struct nfqct_ct_stats *st, FILE *out, int argc,
		    char **argv, uint64_t now_ms);

/*
 * nfqct_ctcmd_client - the client's side for `nfqct list|count|delete|
 * update ARGS`: validate (errors on @err, exit 1), send the canonical text
 * through the control socket of @dir, print the reply: entries on @out,
 * the "nfqct: ..." summary of delete/update on @err, as conntrack(8)
 * prints its summary on stderr.  Returns the exit code (0, 1, 2).
 */
int nfqct_ctcmd_client(const char *dir, int argc, char **argv, FILE *out, FILE *err);

#endif
