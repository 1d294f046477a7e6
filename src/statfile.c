/*
 * statfile.c - the procfs-shaped stat tree (writer) and its parser (reader).
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfqct/statfile.h"

#define NETFILTER_PREFIX "net.netfilter."
#define NFQCT_PREFIX "nfqct."

struct nfqct_statfile {
	char dir[PATH_MAX];
	size_t nsettings;
	char **cache;		/* last content written per setting; NULL: not written yet */
	bool inplace;		/* nfqct.stat_update=inplace, from the last write's settings */
	char err[PATH_MAX + 64];	/* the first failure of the last write, or "" */
};

/* Keep the first failure of a write, for nfqct_statfile_strerror(). */
static int sf_fail(struct nfqct_statfile *sf, int r, const char *what, const char *path)
{
	if (!sf->err[0])
		snprintf(sf->err, sizeof(sf->err), "%s %s: %s", what, path, strerror(-r));
	return r;
}

/* ---- writer side ---- */

static int mkdir_p(char *path, mode_t mode)
{
	char *p;

	/* Create each parent in turn; an existing directory is fine. */
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		int r = mkdir(path, mode);
		int err = errno;
		*p = saved;
		if (r < 0 && err != EEXIST)
			return -err;
		if (saved == '\0')
			break;
	}
	return 0;
}

int nfqct_statfile_prepare(const char *dir, char *err, size_t errlen)
{
	static const char *const subdirs[] = { "net/stat", "sys/net/netfilter", "sys/net/nfqct" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			snprintf(err, errlen, "path too long: %s/%s", dir, subdirs[i]);
			return -ENAMETOOLONG;
		}
		int r = mkdir_p(path, 0755);
		if (r < 0) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(-r));
			return r;
		}
	}
	return 0;
}

int nfqct_statfile_open(const char *dir, struct nfqct_statfile **sfp, char *err, size_t errlen)
{
	struct nfqct_statfile *sf;
	int r;

	if (strlen(dir) >= sizeof(sf->dir)) {
		snprintf(err, errlen, "path too long: %s", dir);
		return -ENAMETOOLONG;
	}
	r = nfqct_statfile_prepare(dir, err, errlen);
	if (r < 0)
		return r;
	sf = calloc(1, sizeof(*sf));
	if (!sf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	strcpy(sf->dir, dir);
	sf->nsettings = nfqct_settings_count();
	sf->cache = calloc(sf->nsettings ? sf->nsettings : 1, sizeof(*sf->cache));
	if (!sf->cache)
		goto err_free_sf;
	*sfp = sf;
	return 0;

err_free_sf:
	free(sf);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

const char *nfqct_statfile_strerror(const struct nfqct_statfile *sf)
{
	return sf->err;
}

void nfqct_statfile_close(struct nfqct_statfile *sf)
{
	if (!sf)
		return;
	for (size_t i = 0; i < sf->nsettings; i++)
		free(sf->cache[i]);
	free(sf->cache);
	free(sf);
}

/*
 * Replace @path with @len bytes of @data: temporary file in the same
 * directory (so rename is atomic), then rename over.  Returns -errno on
 * failure, leaving no temporary file.
 */
static int write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	int fd, err, n;

	n = snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* mkostemp makes 0600; readers (node exporter, users) need to read. */
	if (fchmod(fd, mode) < 0)
		goto err_close;
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto err_close;
		}
		data += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0) {
		err = errno;
		goto err_unlink;
	}
	if (rename(tmp, path) < 0) {
		err = errno;
		goto err_unlink;
	}
	return 0;

err_close:
	err = errno;
	close(fd);
err_unlink:
	unlink(tmp);
	return -err;
}

/* Build DIR/SUB/NAME into @buf (PATH_MAX); a failure is kept in sf->err. */
static int tree_path(struct nfqct_statfile *sf, char *buf, const char *sub, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s/%s", sf->dir, sub, name);

	if (n < 0 || n >= PATH_MAX)
		return sf_fail(sf, -ENAMETOOLONG, "path too long:", sf->dir);
	return 0;
}

/*
 * nfqct.stat_update=inplace: overwrite @path with one pwrite() when it
 * already has exactly @len bytes (the counter files keep their size: every
 * field is %08x), so a reader that keeps the file open and rewinds, as
 * lnstat -i does, sees the new figures; a rename would leave it reading the
 * old inode forever.  The price: a reader racing the write may see a mix
 * of old and new digits.  Returns 1 when done, 0 when the caller must fall
 * back to write_atomic().
 */
static int write_inplace(const char *path, const char *data, size_t len)
{
	struct stat st;
	ssize_t w;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len) {
		close(fd);
		return 0;
	}
	w = pwrite(fd, data, len, 0);
	close(fd);
	return w == (ssize_t)len;
}

/* Format with @fmt into a memory stream and replace DIR/SUB/NAME with it. */
static int write_stream(struct nfqct_statfile *sf, const char *sub, const char *name,
			int (*fmt)(FILE *, const void *), const void *ctx)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int r;

	r = tree_path(sf, path, sub, name);
	if (r < 0)
		return r;
	m = open_memstream(&buf, &len);
	if (!m)
		return sf_fail(sf, -errno, "cannot write", path);
	r = fmt(m, ctx);
	if (fclose(m) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0)
		sf_fail(sf, r, "cannot write", path);
	else if (sf->inplace && write_inplace(path, buf, len))
		r = 0;
	else if ((r = write_atomic(path, buf, len, 0444)) < 0)
		sf_fail(sf, r, "cannot write", path);
	free(buf);
	return r;
}

struct ct_ctx {
	const struct nfqct_stats_view *v;
	uint32_t entries;
	unsigned int layout;
};

static int fmt_ct(FILE *out, const void *p)
{
	const struct ct_ctx *c = p;

	return nfqct_statfile_format_ct(out, c->v, c->entries, c->layout);
}

static int fmt_queue(FILE *out, const void *p)
{
	return nfqct_statfile_format_queue(out, p);
}

static int write_settings(struct nfqct_statfile *sf, const struct nfqct_settings *s)
{
	char path[PATH_MAX];
	char value[128];
	int ret = 0;

	for (size_t i = 0; i < sf->nsettings; i++) {
		const char *name = nfqct_settings_name(i);
		const char *sub, *base;
		int r;

		if (!strncmp(name, NETFILTER_PREFIX, strlen(NETFILTER_PREFIX))) {
			sub = "sys/net/netfilter";
			base = name + strlen(NETFILTER_PREFIX);
		} else if (!strncmp(name, NFQCT_PREFIX, strlen(NFQCT_PREFIX))) {
			sub = "sys/net/nfqct";
			base = name + strlen(NFQCT_PREFIX);
		} else {
			continue;	/* no place in the tree */
		}
		r = nfqct_settings_format(s, i, value, sizeof(value) - 1);
		if (r < 0) {
			ret = ret ? ret : sf_fail(sf, r, "cannot format setting", name);
			continue;
		}
		strcat(value, "\n");
		/* Settings rarely change: rewrite only what did. */
		if (sf->cache[i] && !strcmp(sf->cache[i], value))
			continue;
		r = tree_path(sf, path, sub, base);
		if (r == 0 && (r = write_atomic(path, value, strlen(value), 0644)) < 0)
			sf_fail(sf, r, "cannot write", path);
		if (r < 0) {
			if (!ret)
				ret = r;
			continue;
		}
		free(sf->cache[i]);
		sf->cache[i] = strdup(value);	/* on ENOMEM we only lose the cache */
	}
	return ret;
}

int nfqct_statfile_write(struct nfqct_statfile *sf, const struct nfqct_stats_view *v,
			 uint32_t entries, const struct nfqct_settings *s)
{
	struct ct_ctx c = { v, entries, s->stat_layout };
	char path[PATH_MAX];
	char count[16];
	int ret = 0, r;

	sf->inplace = s->stat_update == NFQCT_STAT_UPDATE_INPLACE;
	sf->err[0] = '\0';
	r = write_stream(sf, "net/stat", "nf_conntrack", fmt_ct, &c);
	if (r < 0 && !ret)
		ret = r;
	r = write_stream(sf, "net/stat", "nfqct_queue", fmt_queue, v);
	if (r < 0 && !ret)
		ret = r;
	r = tree_path(sf, path, "sys/net/netfilter", "nf_conntrack_count");
	if (r == 0) {
		int n = snprintf(count, sizeof(count), "%u\n", entries);

		if ((r = write_atomic(path, count, (size_t)n, 0444)) < 0)
			sf_fail(sf, r, "cannot write", path);
	}
	if (r < 0 && !ret)
		ret = r;
	r = write_settings(sf, s);
	if (r < 0 && !ret)
		ret = r;
	return ret;
}

/* ---- formatting ---- */

/* Print @n values as %08x (truncated to 32 bits), with two spaces after the indices in @wide. */
/*
 * The columns of each file, in header order: a counter's offset in its
 * block, or ST_ENTRIES (the table's size, the same on every line), or
 * ST_ZERO (a kernel field we have nothing for).  The headers themselves
 * are the NFQCT_STATFILE_HDR_* strings, byte for byte the kernel's.
 */
#define ST_ENTRIES	((size_t)-1)
#define ST_ZERO		((size_t)-2)
#define ST_FROM_CT	((size_t)1 << 24)	/* nfqct_queue: a counter of the ct block */
#define CT_FIELD(f)	offsetof(struct nfqct_ct_stats, f)
#define Q_FIELD(f)	offsetof(struct nfqct_queue_stats, f)
#define Q_CT_FIELD(f)	(ST_FROM_CT | CT_FIELD(f))

struct stat_column {
	const char *name;
	size_t off;
};

static const struct stat_column ct_kernel6[] = {
	{ "entries", ST_ENTRIES }, { "clashres", CT_FIELD(clashres) },
	{ "found", CT_FIELD(found) }, { "new", CT_FIELD(new) },
	{ "invalid", CT_FIELD(invalid) }, { "ignore", CT_FIELD(ignore) },
	{ "delete", CT_FIELD(delete) }, { "chainlength", CT_FIELD(chainlength) },
	{ "insert", CT_FIELD(insert) }, { "insert_failed", CT_FIELD(insert_failed) },
	{ "drop", CT_FIELD(drop) }, { "early_drop", CT_FIELD(early_drop) },
	{ "icmp_error", CT_FIELD(icmp_error) }, { "expect_new", CT_FIELD(expect_new) },
	{ "expect_create", CT_FIELD(expect_create) }, { "expect_delete", CT_FIELD(expect_delete) },
	{ "search_restart", CT_FIELD(search_restart) },
};

static const struct stat_column ct_legacy[] = {
	{ "entries", ST_ENTRIES }, { "searched", CT_FIELD(searched) },
	{ "found", CT_FIELD(found) }, { "new", CT_FIELD(new) },
	{ "invalid", CT_FIELD(invalid) }, { "ignore", CT_FIELD(ignore) },
	{ "delete", CT_FIELD(delete) },
	{ "delete_list", ST_ZERO },	/* no dying list in our table */
	{ "insert", CT_FIELD(insert) }, { "insert_failed", CT_FIELD(insert_failed) },
	{ "drop", CT_FIELD(drop) }, { "early_drop", CT_FIELD(early_drop) },
	{ "icmp_error", CT_FIELD(icmp_error) }, { "expect_new", CT_FIELD(expect_new) },
	{ "expect_create", CT_FIELD(expect_create) }, { "expect_delete", CT_FIELD(expect_delete) },
	{ "search_restart", CT_FIELD(search_restart) },
};

static const struct stat_column queue_columns[] = {
	{ "queue", Q_FIELD(queue) }, { "rx_packets", Q_FIELD(rx_packets) },
	{ "rx_bytes", Q_FIELD(rx_bytes) }, { "accepted", Q_FIELD(accepted) },
	{ "dropped", Q_FIELD(dropped) }, { "batches", Q_FIELD(batches) },
	{ "verdict_msgs", Q_FIELD(verdict_msgs) }, { "rx_errors", Q_FIELD(rx_errors) },
	{ "enobufs", Q_FIELD(enobufs) }, { "tx_errors", Q_FIELD(tx_errors) },
	{ "fragments", Q_FIELD(fragments) }, { "csum_unchecked", Q_CT_FIELD(csum_unchecked) },
	{ "rejected", Q_FIELD(rejected) }, { "reject_loops", Q_FIELD(reject_loops) },
	{ "logged", Q_FIELD(logged) }, { "log_lost", Q_FIELD(log_lost) },
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * One line of @n columns: the names (the header) when @block is NULL,
 * else the values read from @block (from @ct_block for ST_FROM_CT
 * columns).  Columns @wide1 and @wide2 are followed by two spaces, as in
 * the kernel's header and lines.
 */
static void print_row(FILE *out, const struct stat_column *cols, size_t n, const void *block,
		      const void *ct_block, uint32_t entries, int wide1, int wide2)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;

		if (cols[i].off == ST_ENTRIES)
			v = entries;
		else if (block && cols[i].off != ST_ZERO && (cols[i].off & ST_FROM_CT))
			memcpy(&v, (const char *)ct_block + (cols[i].off & ~ST_FROM_CT), sizeof(v));
		else if (block && cols[i].off != ST_ZERO)
			memcpy(&v, (const char *)block + cols[i].off, sizeof(v));
		if (block)
			fprintf(out, "%08x", (unsigned int)(uint32_t)v);
		else
			fputs(cols[i].name, out);
		if (i + 1 == n)
			fputc('\n', out);
		else if ((int)i == wide1 || (int)i == wide2)
			fputs("  ", out);
		else
			fputc(' ', out);
	}
}

int nfqct_statfile_format_ct(FILE *out, const struct nfqct_stats_view *v, uint32_t entries,
			     unsigned int layout)
{
	bool legacy = layout == NFQCT_STAT_LAYOUT_LEGACY;
	const struct stat_column *cols = legacy ? ct_legacy : ct_kernel6;
	size_t n = legacy ? NCOLS(ct_legacy) : NCOLS(ct_kernel6);
	/* two spaces after entries and icmp_error in the 6.x layout */
	int wide1 = legacy ? -1 : 0, wide2 = legacy ? -1 : 12;
	unsigned int lines = v->nworkers ? v->nworkers : 1;

	print_row(out, cols, n, NULL, NULL, 0, wide1, wide2);	/* NFQCT_STATFILE_HDR_* */
	for (unsigned int w = 0; w < lines; w++) {
		struct nfqct_ct_stats st = { 0 };

		if (w < v->nworkers)
			nfqct_ct_stats_add(&st, &v->workers[w].ct);
		if (w == 0 && v->housekeeping)
			nfqct_ct_stats_add(&st, v->housekeeping);
		print_row(out, cols, n, &st, NULL, entries, wide1, wide2);
	}
	return ferror(out) ? -EIO : 0;
}

int nfqct_statfile_format_queue(FILE *out, const struct nfqct_stats_view *v)
{
	print_row(out, queue_columns, NCOLS(queue_columns), NULL, NULL, 0, -1, -1);
	for (unsigned int w = 0; w < v->nworkers; w++) {
		const struct nfqct_queue_stats *q = &v->workers[w].q;
		struct nfqct_queue_stats st = { 0 };
		struct nfqct_ct_stats ct = { 0 };

		nfqct_queue_stats_add(&st, q);
		st.queue = NFQCT_STAT_READ(q->queue);	/* not added by _add */
		nfqct_ct_stats_add(&ct, &v->workers[w].ct);
		print_row(out, queue_columns, NCOLS(queue_columns), &st, &ct, 0, -1, -1);
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- reader side ---- */

void nfqct_stattab_free(struct nfqct_stattab *t)
{
	free(t->values);
	t->values = NULL;
	t->nlines = 0;
}

static int parse_header(char *line, struct nfqct_stattab *t)
{
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (t->nfields == NFQCT_STATTAB_MAXFIELDS || strlen(tok) >= NFQCT_STATTAB_NAMELEN)
			return -EINVAL;
		strcpy(t->names[t->nfields++], tok);
	}
	return t->nfields ? 0 : -EINVAL;
}

static int parse_row(const char *line, unsigned int nfields, uint64_t *row)
{
	const char *p = line;

	for (unsigned int j = 0; j < nfields; j++) {
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '-' || *p == '+')
			return -EINVAL;
		errno = 0;
		row[j] = strtoull(p, &end, 16);
		if (end == p || errno)
			return -EINVAL;
		p = end;
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\0')
			return -EINVAL;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return *p == '\0' ? 0 : -EINVAL;
}

int nfqct_statfile_parse(FILE *in, struct nfqct_stattab *t)
{
	char *line = NULL;
	size_t cap = 0, rows_cap = 0;
	int r = -EINVAL;

	memset(t, 0, sizeof(*t));
	if (getline(&line, &cap, in) < 0)
		goto err;
	r = parse_header(line, t);
	if (r < 0)
		goto err;
	while (getline(&line, &cap, in) >= 0) {
		if (line[0] == '\n')
			continue;
		if (t->nlines == rows_cap) {
			size_t ncap = rows_cap ? rows_cap * 2 : 8;
			uint64_t *nv = realloc(t->values, ncap * t->nfields * sizeof(*nv));
			if (!nv) {
				r = -ENOMEM;
				goto err;
			}
			t->values = nv;
			rows_cap = ncap;
		}
		r = parse_row(line, t->nfields, t->values + (size_t)t->nlines * t->nfields);
		if (r < 0)
			goto err;
		t->nlines++;
	}
	if (ferror(in)) {
		r = -EIO;
		goto err;
	}
	free(line);
	return 0;

err:
	free(line);
	nfqct_stattab_free(t);
	t->nfields = 0;
	return r;
}

int nfqct_statfile_read(const char *path, struct nfqct_stattab *t)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return -errno;
	r = nfqct_statfile_parse(f, t);
	fclose(f);
	return r;
}

int nfqct_stattab_field(const struct nfqct_stattab *t, const char *name)
{
	for (unsigned int j = 0; j < t->nfields; j++)
		if (!strcmp(t->names[j], name))
			return (int)j;
	return -1;
}

void nfqct_stattab_sum(const struct nfqct_stattab *t, uint64_t *out)
{
	memset(out, 0, t->nfields * sizeof(*out));
	for (unsigned int i = 0; i < t->nlines; i++) {
		const uint64_t *row = t->values + (size_t)i * t->nfields;

		if (i == 0)
			out[0] = row[0];
		for (unsigned int j = 1; j < t->nfields; j++)
			out[j] += row[j];
	}
}

int nfqct_stattab_delta(const struct nfqct_stattab *prev, const struct nfqct_stattab *cur,
			struct nfqct_stattab *out)
{
	size_t n = (size_t)cur->nlines * cur->nfields;

	memset(out, 0, sizeof(*out));
	if (prev->nfields != cur->nfields || prev->nlines != cur->nlines)
		return -EINVAL;
	for (unsigned int j = 0; j < cur->nfields; j++)
		if (strcmp(prev->names[j], cur->names[j]))
			return -EINVAL;
	out->values = malloc(n ? n * sizeof(*out->values) : 1);
	if (!out->values)
		return -ENOMEM;
	out->nfields = cur->nfields;
	out->nlines = cur->nlines;
	memcpy(out->names, cur->names, sizeof(out->names));
	for (size_t k = 0; k < n; k++) {
		if (k % cur->nfields == 0)
			out->values[k] = cur->values[k];
		else
			out->values[k] = (cur->values[k] - prev->values[k]) & 0xffffffffu;
	}
	return 0;
}
