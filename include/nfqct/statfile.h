/*
 * statfile.h - the stat tree: procfs-shaped files under --stat-dir DIR.
 *
 *   DIR/net/stat/nf_conntrack                 per-worker conntrack counters,
 *                                             the layout of /proc/net/stat/nf_conntrack
 *   DIR/net/stat/nfqct_queue                  per-worker queue counters (same shape)
 *   DIR/sys/net/netfilter/nf_conntrack_count  current number of entries, "%u\n"
 *   DIR/sys/net/netfilter/<name>              every net.netfilter.* setting, "value\n"
 *   DIR/sys/net/nfqct/<name>                  every nfqct.* setting, "value\n"
 *
 * Writer side (the daemon's housekeeping thread): nfqct_statfile_open(),
 * nfqct_statfile_write() every stat_interval_ms and at exit,
 * nfqct_statfile_close().  Every file is replaced atomically: its content
 * goes to a temporary file in the same directory (mode 0444 like procfs for
 * the counters, 0644 for the settings), which is then renamed over the
 * old one, so a reader that opens the file sees a whole old or a whole new
 * file, never a torn one.  A consequence worth knowing: a reader that keeps
 * the file open and rewinds it (lnstat does) keeps seeing the inode it
 * opened; it must reopen the file to see new values.
 *
 * Reader side (the nfqct client, tests): nfqct_statfile_parse() reads any
 * file of this shape (a header line of names, then lines of hex fields),
 * whatever the layout; the header decides.
 *
 * One struct nfqct_statfile is used by one thread at a time.
 */
#ifndef NFQCT_STATFILE_H
#define NFQCT_STATFILE_H

#include <stdint.h>
#include <stdio.h>

#include "nfqct/settings.h"
#include "nfqct/stats.h"

/* The exact header lines (with their newline) of the two layouts and of nfqct_queue. */
#define NFQCT_STATFILE_HDR_KERNEL6 \
	"entries  clashres found new invalid ignore delete chainlength insert insert_failed " \
	"drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
#define NFQCT_STATFILE_HDR_LEGACY \
	"entries searched found new invalid ignore delete delete_list insert insert_failed " \
	"drop early_drop icmp_error expect_new expect_create expect_delete search_restart\n"
#define NFQCT_STATFILE_HDR_QUEUE \
	"queue rx_packets rx_bytes accepted dropped batches verdict_msgs rx_errors enobufs tx_errors " \
	"fragments csum_unchecked rejected reject_loops logged log_lost\n"

/* ---- writer side ---- */

struct nfqct_statfile;

/*
 * nfqct_statfile_prepare - create DIR/net/stat, DIR/sys/net/netfilter and
 * DIR/sys/net/nfqct (and their parents), mode 0755, like mkdir -p.
 * Returns 0 or -errno with a message in @err ("cannot create PATH: ...").
 */
int nfqct_statfile_prepare(const char *dir, char *err, size_t errlen);

/*
 * nfqct_statfile_open - prepare the tree under @dir and return a writer in
 * *sfp.  The writer caches the settings files' contents so that a write
 * rewrites only the settings that changed.  Returns 0, -ENOMEM,
 * -ENAMETOOLONG or the -errno of nfqct_statfile_prepare(), with a message
 * in @err.
 */
int nfqct_statfile_open(const char *dir, struct nfqct_statfile **sfp, char *err, size_t errlen);

/*
 * nfqct_statfile_write - replace every file of the tree: nf_conntrack in
 * the layout s->stat_layout selects (housekeeping folded into the first
 * line; @entries on every line), nfqct_queue, nf_conntrack_count (@entries)
 * and the settings files whose value changed since the last successful
 * write.  Counters are printed as the kernel's 32-bit unsigned ints:
 * values of 2^32 and more are truncated (readers compute deltas modulo
 * 2^32).  Keeps going after a failed file and returns the first error
 * (-errno), 0 when all were written; a failure leaves no temporary file
 * behind, and the first one's message ("cannot write PATH: strerror") is
 * nfqct_statfile_strerror() until the next write.
 */
int nfqct_statfile_write(struct nfqct_statfile *sf, const struct nfqct_stats_view *v,
			 uint32_t entries, const struct nfqct_settings *s);

/* nfqct_statfile_strerror - the first failure of the last write, or "". */
const char *nfqct_statfile_strerror(const struct nfqct_statfile *sf);

/* nfqct_statfile_close - free the writer; the files stay (the stat tree outlives the daemon). */
void nfqct_statfile_close(struct nfqct_statfile *sf);

/*
 * nfqct_statfile_format_ct - print the nf_conntrack file to @out: the
 * header of @layout (enum nfqct_stat_layout), then max(1, v->nworkers)
 * lines.  KERNEL6 fields: entries clashres found new invalid ignore delete
 * chainlength insert insert_failed drop early_drop icmp_error expect_new
 * expect_create expect_delete search_restart, two spaces after the 1st and
 * the 13th.  LEGACY: entries searched found new invalid ignore delete
 * delete_list(always 0: our table has no dying list) insert ... the rest as
 * KERNEL6, single spaces.  Returns 0 or -EIO if @out failed.
 */
int nfqct_statfile_format_ct(FILE *out, const struct nfqct_stats_view *v, uint32_t entries,
			     unsigned int layout);

/* nfqct_statfile_format_queue - print the nfqct_queue file (header, one line per worker).
 * Returns 0 or -EIO. */
int nfqct_statfile_format_queue(FILE *out, const struct nfqct_stats_view *v);

/* ---- reader side ---- */

#define NFQCT_STATTAB_MAXFIELDS 32
#define NFQCT_STATTAB_NAMELEN 32

/*
 * A parsed stat file: field names from the header, then one row of
 * values per line (row-major, nlines * nfields).
 */
struct nfqct_stattab {
	unsigned int nfields;
	unsigned int nlines;
	char names[NFQCT_STATTAB_MAXFIELDS][NFQCT_STATTAB_NAMELEN];
	uint64_t *values;
};

/*
 * nfqct_statfile_parse - read a header line and lines of hexadecimal
 * fields from @in into @t (which it initialises).  Every line must have
 * exactly as many fields as the header.  Returns 0, -EINVAL (malformed:
 * no header, too many or too long names, bad or missing field), -ENOMEM.
 * On error @t holds nothing to free.
 */
int nfqct_statfile_parse(FILE *in, struct nfqct_stattab *t);

/* nfqct_statfile_read - nfqct_statfile_parse() of the file at @path; -errno if it cannot be opened. */
int nfqct_statfile_read(const char *path, struct nfqct_stattab *t);

void nfqct_stattab_free(struct nfqct_stattab *t);

/* nfqct_stattab_field - index of field @name, or -1. */
int nfqct_stattab_field(const struct nfqct_stattab *t, const char *name);

/*
 * nfqct_stattab_sum - add up the lines into @out (t->nfields values).
 * The first field is a gauge or a key (entries, queue), not a counter: it
 * is taken from the first line, not summed.  With no lines, all zero.
 */
void nfqct_stattab_sum(const struct nfqct_stattab *t, uint64_t *out);

/*
 * nfqct_stattab_delta - @out (initialised here, free with
 * nfqct_stattab_free) gets, line by line, @cur minus @prev for every
 * counter, modulo 2^32 (the file's fields are 32 bits and may wrap
 * between two reads), and @cur's value of the first field.  Returns 0,
 * -EINVAL when the two tables differ in fields or lines (the daemon
 * restarted with other settings: start over), -ENOMEM.
 */
int nfqct_stattab_delta(const struct nfqct_stattab *prev, const struct nfqct_stattab *cur,
			struct nfqct_stattab *out);

#endif
