/*
 * statextra.c - the one-line stat files of the events, IPFIX and sync threads,
 * and the per-table file of the stateful matches (nfqct_limits).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfqct/hashlimit.h"
#include "nfqct/ipset.h"
#include "nfqct/recent.h"
#include "nfqct/statextra.h"
#include "nfqct/statfile.h"

static const char *const extra_files[] = { "nfqct_events", "nfqct_ipfix", "nfqct_offload", "nfqct_sync" };

static const char *limits_kind_name(uint64_t v);
static const char *sets_type_name(uint64_t v);
static void print_named(const char *dir, const char *file, const char *word,
			const char *(*word_name)(uint64_t), bool json, FILE *out);

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
	print_named(dir, "nfqct_limits", "kind", limits_kind_name, json, out);
	print_named(dir, "nfqct_sets", "type", sets_type_name, json, out);
	return n;
}

/* Replace DIR/@sub/@name with @len bytes of @data (temporary file, rename);
 * @data NULL: remove it. */
static int put_file(const char *dir, const char *sub, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/%s/.%s.tmp", dir, sub, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (!data)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fwrite(data, 1, len, f) != len || fchmod(fileno(f), 0444) < 0) {
		fclose(f);
		unlink(tmp);
		return -EIO;
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

int nfqct_statextra_write_limits(const char *dir)
{
	struct nfqct_recent_stat *st = NULL;
	struct nfqct_hashlimit_stat *hs = NULL;
	char *vals = NULL, *names = NULL;
	size_t vlen = 0, nlen = 0;
	FILE *v, *n;
	unsigned int cnt, got, hcnt, hgot;
	int rc;

	/* a table may come or go between the two calls: take what fits */
	cnt = nfqct_recent_stats(NULL, 0);
	if (cnt) {
		st = calloc(cnt, sizeof(*st));
		if (!st)
			return -ENOMEM;
	}
	got = nfqct_recent_stats(st, cnt);
	if (got > cnt)
		got = cnt;
	hcnt = nfqct_hashlimit_stats(NULL, 0);
	if (hcnt) {
		hs = calloc(hcnt, sizeof(*hs));
		if (!hs) {
			free(st);
			return -ENOMEM;
		}
	}
	hgot = nfqct_hashlimit_stats(hs, hcnt);
	if (hgot > hcnt)
		hgot = hcnt;
	v = open_memstream(&vals, &vlen);
	n = open_memstream(&names, &nlen);
	if (!v || !n) {
		if (v)
			fclose(v);
		if (n)
			fclose(n);
		free(vals);
		free(names);
		free(st);
		free(hs);
		return -ENOMEM;
	}
	fputs(NFQCT_LIMITS_HDR, v);
	for (unsigned int i = 0; i < got; i++) {
		fprintf(v, "%08x %08x %08x %08x\n", NFQCT_LIMITS_RECENT, st[i].entries, st[i].max,
			st[i].nstamps);
		fprintf(n, "%s\n", st[i].name);
	}
	for (unsigned int i = 0; i < hgot; i++) {
		/* stamps: 0 (buckets have none); the name says the family, as
		 * /proc/net/ipt_hashlimit/ and ip6t_hashlimit/ do */
		fprintf(v, "%08x %08x %08x %08x\n", NFQCT_LIMITS_HASHLIMIT, hs[i].entries, hs[i].max, 0u);
		fprintf(n, "%s/%s\n", hs[i].family == AF_INET6 ? "ip6t_hashlimit" : "ipt_hashlimit", hs[i].name);
	}
	fclose(v);
	fclose(n);
	/* no table: no file (lnstat reads every file of net/stat: none without lines) */
	rc = put_file(dir, "net", "nfqct_limits.names", got + hgot ? names : NULL, nlen);
	if (!rc)
		rc = put_file(dir, "net/stat", "nfqct_limits", got + hgot ? vals : NULL, vlen);
	free(vals);
	free(names);
	free(st);
	free(hs);
	return rc;
}

static const char *limits_kind_name(uint64_t v)
{
	return v == NFQCT_LIMITS_RECENT ? "recent" : v == NFQCT_LIMITS_HASHLIMIT ? "hashlimit" : "other";
}

static const char *sets_type_name(uint64_t v)
{
	return nfqct_ipset_type_name((unsigned int)v);
}

/*
 * `nfqct stat`'s lines (or JSON member) for a stat file with one named row
 * per line: DIR/net/stat/@file, its names a line each in DIR/net/@file.names.
 * Column @word is a number printed as a word by @word_name (a kind, a type).
 */
static void print_named(const char *dir, const char *file, const char *word,
			const char *(*word_name)(uint64_t), bool json, FILE *out)
{
	char path[PATH_MAX], name[NFQCT_RECENT_NAME_LEN + 2];	/* the longest names: recent lists' */
	struct nfqct_stattab t;
	FILE *nf;

	snprintf(path, sizeof(path), "%s/net/stat/%s", dir, file);
	if (nfqct_statfile_read(path, &t) < 0)
		return;
	snprintf(path, sizeof(path), "%s/net/%s.names", dir, file);
	nf = fopen(path, "r");
	if (json)
		fprintf(out, ",\"%s\":[", file);
	for (unsigned int l = 0; l < t.nlines; l++) {
		const uint64_t *row = t.values + (size_t)l * t.nfields;

		if (!nf || !fgets(name, sizeof(name), nf))
			snprintf(name, sizeof(name), "?");
		name[strcspn(name, "\n")] = '\0';
		if (json) {	/* list and set names are printable ASCII without blanks */
			fprintf(out, "%s{\"name\":\"", l ? "," : "");
			for (const char *c = name; *c; c++)
				fprintf(out, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
			fputc('"', out);
		} else {
			fprintf(out, "%s: %s", file, name);
		}
		for (unsigned int j = 0; j < t.nfields; j++) {
			if (!strcmp(t.names[j], word))
				fprintf(out, json ? ",\"%s\":\"%s\"" : " %s=%s", word, word_name(row[j]));
			else
				fprintf(out, json ? ",\"%s\":%" PRIu64 : " %s=%" PRIu64, t.names[j], row[j]);
		}
		fputs(json ? "}" : "\n", out);
	}
	if (json)
		fputc(']', out);
	if (nf)
		fclose(nf);
	nfqct_stattab_free(&t);
}

int nfqct_statextra_write_sets(const char *dir)
{
	struct nfqct_ipset_stat *st = NULL;
	char *vals = NULL, *names = NULL;
	size_t vlen = 0, nlen = 0;
	unsigned int cnt, got;
	FILE *v, *n;
	int rc;

	cnt = nfqct_ipset_stats(NULL, 0);
	if (cnt && !(st = calloc(cnt, sizeof(*st))))
		return -ENOMEM;
	got = nfqct_ipset_stats(st, cnt);	/* a set may come between the calls: what fits */
	if (got > cnt)
		got = cnt;
	v = open_memstream(&vals, &vlen);
	n = open_memstream(&names, &nlen);
	if (!v || !n) {
		if (v)
			fclose(v);
		if (n)
			fclose(n);
		free(vals);
		free(names);
		free(st);
		return -ENOMEM;
	}
	fputs(NFQCT_SETS_HDR, v);
	for (unsigned int i = 0; i < got; i++) {
		fprintf(v, "%08x %08x %08x %08zx %08x\n", st[i].type, st[i].entries, st[i].maxelem, st[i].memsize,
			st[i].references);
		fprintf(n, "%s\n", st[i].name);
	}
	fclose(v);
	fclose(n);
	rc = put_file(dir, "net", "nfqct_sets.names", got ? names : NULL, nlen);
	if (!rc)
		rc = put_file(dir, "net/stat", "nfqct_sets", got ? vals : NULL, vlen);
	free(vals);
	free(names);
	free(st);
	return rc;
}

