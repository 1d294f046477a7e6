/*
 * test_statfile.c - the stat tree: exact bytes of both layouts, the kernel's
 * header, atomic replacement, the settings files, the parser and summing.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfqct/log.h"
#include "nfqct/settings.h"
#include "nfqct/statfile.h"

#ifndef NFQCT_TEST_DATADIR
#define NFQCT_TEST_DATADIR "tests/unit/data"
#endif

static char errbuf[4200];	/* error messages of the calls under test */
static char tmpdir[256];

/* Two workers and a housekeeping block with values that test every column and truncation. */
static struct nfqct_worker_stats workers[3];
static struct nfqct_ct_stats hk;

static void fill_view(struct nfqct_stats_view *v)
{
	memset(workers, 0, sizeof(workers));
	memset(&hk, 0, sizeof(hk));
	struct nfqct_ct_stats *a = &workers[0].ct, *b = &workers[1].ct;

	a->clashres = 1; a->found = 0x100000005ULL; a->new = 3; a->invalid = 4; a->ignore = 0xabcdef;
	a->delete = 6; a->chainlength = 7; a->insert = 8; a->insert_failed = 9; a->drop = 10;
	a->early_drop = 11; a->icmp_error = 12; a->expect_new = 13; a->expect_create = 14;
	a->expect_delete = 15; a->search_restart = 16; a->searched = 0x1ffffffffULL;
	a->csum_unchecked = 0x11;
	b->clashres = 0x21; b->found = 0x22; b->new = 0x23; b->invalid = 0x24; b->ignore = 0x25;
	b->delete = 0x26; b->chainlength = 0x27; b->insert = 0x28; b->insert_failed = 0x29;
	b->drop = 0x2a; b->early_drop = 0x2b; b->icmp_error = 0x2c; b->expect_new = 0x2d;
	b->expect_create = 0x2e; b->expect_delete = 0x2f; b->search_restart = 0x30; b->searched = 0x31;
	b->csum_unchecked = 0x22;
	hk.delete = 0x100; hk.early_drop = 0xfffffffffULL;	/* line 0: 0x10b + ... truncation */

	workers[0].q = (struct nfqct_queue_stats){ 5, 100, 0x100000000ULL + 7, 90, 10, 20, 19, 1, 2, 3, 4, 0x31, 0x32, 0x33, 0x34 };
	workers[1].q = (struct nfqct_queue_stats){ 6, 0xfff, 0xffff, 0xff0, 0xf, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	v->workers = workers;
	v->nworkers = 2;
	v->housekeeping = &hk;
}

static char *format_ct(const struct nfqct_stats_view *v, uint32_t entries, unsigned int layout)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(nfqct_statfile_format_ct(m, v, entries, layout), 0);
	fclose(m);
	return buf;
}

static void test_kernel6_bytes(void)
{
	struct nfqct_stats_view v;
	char *got;

	fill_view(&v);
	got = format_ct(&v, 0x12345, NFQCT_STAT_LAYOUT_KERNEL6);
	/* early_drop of line 0: 11 + 0xfffffffff -> 0x100000000a -> 0000000a */
	CU_ASSERT_STRING_EQUAL(got,
		"entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
		"00012345  00000001 00000005 00000003 00000004 00abcdef 00000106 00000007 00000008 00000009 0000000a 0000000a 0000000c  0000000d 0000000e 0000000f 00000010\n"
		"00012345  00000021 00000022 00000023 00000024 00000025 00000026 00000027 00000028 00000029 0000002a 0000002b 0000002c  0000002d 0000002e 0000002f 00000030\n");
	free(got);
}

static void test_legacy_bytes(void)
{
	struct nfqct_stats_view v;
	char *got;

	fill_view(&v);
	got = format_ct(&v, 7, NFQCT_STAT_LAYOUT_LEGACY);
	CU_ASSERT_STRING_EQUAL(got,
		"entries searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error expect_new expect_create expect_delete search_restart\n"
		"00000007 ffffffff 00000005 00000003 00000004 00abcdef 00000106 00000000 00000008 00000009 0000000a 0000000a 0000000c 0000000d 0000000e 0000000f 00000010\n"
		"00000007 00000031 00000022 00000023 00000024 00000025 00000026 00000000 00000028 00000029 0000002a 0000002b 0000002c 0000002d 0000002e 0000002f 00000030\n");
	free(got);
}

static void test_no_workers(void)
{
	struct nfqct_stats_view v = { NULL, 0, NULL };
	char *got = format_ct(&v, 3, NFQCT_STAT_LAYOUT_KERNEL6);

	/* The kernel always prints at least one CPU line: so do we. */
	CU_ASSERT_STRING_EQUAL(got, NFQCT_STATFILE_HDR_KERNEL6
		"00000003  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n");
	free(got);
}

static void test_queue_bytes(void)
{
	struct nfqct_stats_view v;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	fill_view(&v);
	CU_ASSERT_EQUAL(nfqct_statfile_format_queue(m, &v), 0);
	fclose(m);
	CU_ASSERT_STRING_EQUAL(buf,
		"queue rx_packets rx_bytes accepted dropped batches verdict_msgs rx_errors enobufs tx_errors "
		"fragments csum_unchecked rejected reject_loops logged log_lost\n"
		"00000005 00000064 00000007 0000005a 0000000a 00000014 00000013 00000001 00000002 00000003 "
		"00000004 00000011 00000031 00000032 00000033 00000034\n"
		"00000006 00000fff 0000ffff 00000ff0 0000000f 00000001 00000001 00000000 00000000 00000000 "
		"00000000 00000022 00000000 00000000 00000000 00000000\n");
	free(buf);
}

static char *first_line(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getline(&line, &cap, f) < 0) {
		free(line);
		line = NULL;
	}
	fclose(f);
	return line;
}

static void test_header_matches_kernel(void)
{
	char *copy = first_line(NFQCT_TEST_DATADIR "/nf_conntrack.kernel6");
	char *live;

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	CU_ASSERT_STRING_EQUAL(copy, NFQCT_STATFILE_HDR_KERNEL6);
	free(copy);

	live = first_line("/proc/net/stat/nf_conntrack");
	if (!live) {
		fprintf(stderr, "\n  (no /proc/net/stat/nf_conntrack: live header not compared)\n");
		return;
	}
	/* Only a 6.x kernel prints this layout; older ones print the legacy one. */
	if (strstr(live, "clashres")) {
		CU_ASSERT_STRING_EQUAL(live, NFQCT_STATFILE_HDR_KERNEL6);
	} else {
		CU_ASSERT_STRING_EQUAL(live, NFQCT_STATFILE_HDR_LEGACY);
	}
	free(live);
}

static void test_parse_kernel_copy(void)
{
	struct nfqct_stattab t;

	CU_ASSERT_EQUAL_FATAL(nfqct_statfile_read(NFQCT_TEST_DATADIR "/nf_conntrack.kernel6", &t), 0);
	CU_ASSERT_EQUAL(t.nfields, 17);
	CU_ASSERT(t.nlines >= 1);
	CU_ASSERT_STRING_EQUAL(t.names[0], "entries");
	CU_ASSERT_STRING_EQUAL(t.names[1], "clashres");
	CU_ASSERT_STRING_EQUAL(t.names[12], "icmp_error");
	CU_ASSERT_STRING_EQUAL(t.names[13], "expect_new");
	CU_ASSERT_EQUAL(nfqct_stattab_field(&t, "search_restart"), 16);
	CU_ASSERT_EQUAL(nfqct_stattab_field(&t, "searched"), -1);
	nfqct_stattab_free(&t);
}

static int parse_string(const char *s, struct nfqct_stattab *t)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");
	int r;

	CU_ASSERT_FATAL(f != NULL);
	r = nfqct_statfile_parse(f, t);
	fclose(f);
	return r;
}

static void test_parse_and_sum(void)
{
	struct nfqct_stats_view v;
	struct nfqct_stattab t;
	uint64_t sum[NFQCT_STATTAB_MAXFIELDS];
	char *text;

	fill_view(&v);
	for (unsigned int layout = 0; layout < 2; layout++) {
		text = format_ct(&v, 0x12345, layout);
		CU_ASSERT_EQUAL_FATAL(parse_string(text, &t), 0);
		CU_ASSERT_EQUAL(t.nfields, 17);
		CU_ASSERT_EQUAL(t.nlines, 2);
		nfqct_stattab_sum(&t, sum);
		CU_ASSERT_EQUAL(sum[0], 0x12345);	/* entries: not summed */
		CU_ASSERT_EQUAL(sum[nfqct_stattab_field(&t, "found")], 5 + 0x22);
		CU_ASSERT_EQUAL(sum[nfqct_stattab_field(&t, "delete")], 0x106 + 0x26);
		CU_ASSERT_EQUAL(sum[nfqct_stattab_field(&t, "early_drop")], 0xa + 0x2b);
		CU_ASSERT_EQUAL(sum[nfqct_stattab_field(&t, "search_restart")], 0x10 + 0x30);
		if (layout == NFQCT_STAT_LAYOUT_LEGACY) {
			CU_ASSERT_EQUAL(sum[nfqct_stattab_field(&t, "searched")], 0xffffffffULL + 0x31);
			CU_ASSERT_EQUAL(sum[nfqct_stattab_field(&t, "delete_list")], 0);
		} else {
			CU_ASSERT_EQUAL(sum[nfqct_stattab_field(&t, "chainlength")], 7 + 0x27);
		}
		nfqct_stattab_free(&t);
		free(text);
	}

	/* An empty table sums to zero. */
	CU_ASSERT_EQUAL_FATAL(parse_string("entries found\n", &t), 0);
	CU_ASSERT_EQUAL(t.nlines, 0);
	sum[0] = sum[1] = 99;
	nfqct_stattab_sum(&t, sum);
	CU_ASSERT_EQUAL(sum[0], 0);
	CU_ASSERT_EQUAL(sum[1], 0);
	nfqct_stattab_free(&t);
}

static void test_parse_malformed(void)
{
	struct nfqct_stattab t;

	CU_ASSERT_EQUAL(parse_string("", &t), -EINVAL);
	CU_ASSERT_EQUAL(parse_string("\n", &t), -EINVAL);
	CU_ASSERT_EQUAL(parse_string("a b c\n00000001 00000002\n", &t), -EINVAL);
	CU_ASSERT_EQUAL(parse_string("a b\n00000001 00000002 00000003\n", &t), -EINVAL);
	CU_ASSERT_EQUAL(parse_string("a b\n00000001 0000000g\n", &t), -EINVAL);
	CU_ASSERT_EQUAL(parse_string("a b\n00000001 -1\n", &t), -EINVAL);
	CU_ASSERT_EQUAL(parse_string("a thisnameismuchtoolongforthetableofnames\n1 2\n", &t), -EINVAL);
	CU_ASSERT_EQUAL(parse_string("a b\n1 2\n3 4\n", &t), 0);
	CU_ASSERT_EQUAL(t.nlines, 2);
	CU_ASSERT_EQUAL(t.values[3], 4);
	nfqct_stattab_free(&t);
}

static void test_delta_wraps(void)
{
	struct nfqct_stattab a, b, d;

	CU_ASSERT_EQUAL_FATAL(parse_string("entries x y\n00000005 fffffff0 00000001\n00000005 00000010 00000002\n", &a), 0);
	CU_ASSERT_EQUAL_FATAL(parse_string("entries x y\n00000007 00000010 00000001\n00000007 00000030 00000012\n", &b), 0);
	CU_ASSERT_EQUAL_FATAL(nfqct_stattab_delta(&a, &b, &d), 0);
	CU_ASSERT_EQUAL(d.nlines, 2);
	CU_ASSERT_EQUAL(d.values[0], 7);	/* first field: current value */
	CU_ASSERT_EQUAL(d.values[1], 0x20);	/* wrapped: 0xfffffff0 -> 0x10 */
	CU_ASSERT_EQUAL(d.values[2], 0);
	CU_ASSERT_EQUAL(d.values[4], 0x20);
	CU_ASSERT_EQUAL(d.values[5], 0x10);
	nfqct_stattab_free(&d);
	nfqct_stattab_free(&b);

	/* Another shape: the daemon restarted with more workers. */
	CU_ASSERT_EQUAL_FATAL(parse_string("entries x y\n00000007 00000010 00000001\n", &b), 0);
	CU_ASSERT_EQUAL(nfqct_stattab_delta(&a, &b, &d), -EINVAL);
	nfqct_stattab_free(&b);
	CU_ASSERT_EQUAL_FATAL(parse_string("entries x z\n1 2 3\n1 2 3\n", &b), 0);
	CU_ASSERT_EQUAL(nfqct_stattab_delta(&a, &b, &d), -EINVAL);
	nfqct_stattab_free(&b);
	nfqct_stattab_free(&a);
}

/* ---- the tree on disk ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static char *tree(const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	return path;
}

/* Number of leftover temporary files (".name.XXXXXX") in DIR/rel. */
static int temp_files(const char *rel)
{
	DIR *d = opendir(tree(rel));
	struct dirent *de;
	int n = 0;

	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void test_write_tree(void)
{
	struct nfqct_statfile *sf = NULL;
	struct nfqct_settings s;
	struct nfqct_stats_view v;
	char path[PATH_MAX], value[128], expect[130];
	char *got, *want;
	struct stat st;
	ino_t ino_max, ino_acct;

	fill_view(&v);
	nfqct_settings_init(&s);
	s.ct_max = 12345;
	s.stat_layout = NFQCT_STAT_LAYOUT_KERNEL6;
	CU_ASSERT_EQUAL_FATAL(nfqct_statfile_open(tmpdir, &sf, errbuf, sizeof(errbuf)), 0);
	CU_ASSERT_EQUAL(nfqct_statfile_write(sf, &v, 0x12345, &s), 0);

	got = slurp(tree("net/stat/nf_conntrack"));
	want = format_ct(&v, 0x12345, NFQCT_STAT_LAYOUT_KERNEL6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	free(want);
	CU_ASSERT_EQUAL(stat(tree("net/stat/nf_conntrack"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0444);

	got = slurp(tree("net/stat/nfqct_queue"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT(strncmp(got, NFQCT_STATFILE_HDR_QUEUE, strlen(NFQCT_STATFILE_HDR_QUEUE)) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "\n00000006 00000fff 0000ffff "));
	free(got);

	got = slurp(tree("sys/net/netfilter/nf_conntrack_count"));
	CU_ASSERT_STRING_EQUAL(got, "74565\n");
	free(got);
	got = slurp(tree("sys/net/netfilter/nf_conntrack_max"));
	CU_ASSERT_STRING_EQUAL(got, "12345\n");
	free(got);
	CU_ASSERT_EQUAL(stat(tree("sys/net/netfilter/nf_conntrack_max"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);

	/* Every setting, where sysctl would put it, as sysctl shows it. */
	size_t checked = 0;
	for (size_t i = 0; i < nfqct_settings_count(); i++) {
		const char *name = nfqct_settings_name(i);

		CU_ASSERT_EQUAL(nfqct_settings_format(&s, i, value, sizeof(value)), 0);
		snprintf(expect, sizeof(expect), "%s\n", value);
		if (!strncmp(name, "net.netfilter.", 14))
			snprintf(path, sizeof(path), "%s/sys/net/netfilter/%s", tmpdir, name + 14);
		else if (!strncmp(name, "nfqct.", 6))
			snprintf(path, sizeof(path), "%s/sys/net/nfqct/%s", tmpdir, name + 6);
		else
			continue;
		got = slurp(path);
		CU_ASSERT_PTR_NOT_NULL(got);
		if (got) {
			CU_ASSERT_STRING_EQUAL(got, expect);
		}
		free(got);
		checked++;
	}
	CU_ASSERT(checked >= 2);

	/* Unchanged settings are not rewritten; changed ones are. */
	ino_max = inode_of(tree("sys/net/netfilter/nf_conntrack_max"));
	ino_acct = inode_of(tree("sys/net/netfilter/nf_conntrack_acct"));
	ino_t ino_count = inode_of(tree("sys/net/netfilter/nf_conntrack_count"));
	s.ct_max = 777;
	CU_ASSERT_EQUAL(nfqct_statfile_write(sf, &v, 1, &s), 0);
	CU_ASSERT_NOT_EQUAL(inode_of(tree("sys/net/netfilter/nf_conntrack_max")), ino_max);
	CU_ASSERT_EQUAL(inode_of(tree("sys/net/netfilter/nf_conntrack_acct")), ino_acct);
	CU_ASSERT_NOT_EQUAL(inode_of(tree("sys/net/netfilter/nf_conntrack_count")), ino_count);
	got = slurp(tree("sys/net/netfilter/nf_conntrack_max"));
	CU_ASSERT_STRING_EQUAL(got, "777\n");
	free(got);
	got = slurp(tree("sys/net/netfilter/nf_conntrack_count"));
	CU_ASSERT_STRING_EQUAL(got, "1\n");
	free(got);

	/* The layout setting switches the file. */
	s.stat_layout = NFQCT_STAT_LAYOUT_LEGACY;
	CU_ASSERT_EQUAL(nfqct_statfile_write(sf, &v, 7, &s), 0);
	got = slurp(tree("net/stat/nf_conntrack"));
	want = format_ct(&v, 7, NFQCT_STAT_LAYOUT_LEGACY);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	free(want);

	CU_ASSERT_EQUAL(temp_files("net/stat"), 0);
	CU_ASSERT_EQUAL(temp_files("sys/net/netfilter"), 0);
	CU_ASSERT_EQUAL(temp_files("sys/net/nfqct"), 0);
	nfqct_statfile_close(sf);
}

static void test_write_error(void)
{
	struct nfqct_statfile *sf = NULL;
	struct nfqct_settings s;
	struct nfqct_stats_view v;
	char *got;

	fill_view(&v);
	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL_FATAL(nfqct_statfile_open(tmpdir, &sf, errbuf, sizeof(errbuf)), 0);
	/* A directory where the file should be: rename fails, even for root. */
	unlink(tree("net/stat/nf_conntrack"));
	CU_ASSERT_EQUAL_FATAL(mkdir(tree("net/stat/nf_conntrack"), 0755), 0);
	CU_ASSERT_EQUAL(nfqct_statfile_write(sf, &v, 9, &s), -EISDIR);
	snprintf(errbuf, sizeof(errbuf), "cannot write %s: %s", tree("net/stat/nf_conntrack"),
		 strerror(EISDIR));
	CU_ASSERT_STRING_EQUAL(nfqct_statfile_strerror(sf), errbuf);
	CU_ASSERT_EQUAL(temp_files("net/stat"), 0);
	/* The other files were still written. */
	got = slurp(tree("sys/net/netfilter/nf_conntrack_count"));
	CU_ASSERT_STRING_EQUAL(got, "9\n");
	free(got);
	rmdir(tree("net/stat/nf_conntrack"));
	CU_ASSERT_EQUAL(nfqct_statfile_write(sf, &v, 9, &s), 0);
	CU_ASSERT_STRING_EQUAL(nfqct_statfile_strerror(sf), "");
	nfqct_statfile_close(sf);
}

/* ---- atomic replacement under a concurrent reader ---- */

#define REWRITES 2000

static atomic_bool writer_done;
static atomic_uint reads_ok, reads_bad;

/* Every line written at round n has every field == n (entries too), and
 * rounds alternate between 1 and 3 workers, so the file's size changes. */
static void *reader(void *arg)
{
	const char *path = arg;

	while (!atomic_load(&writer_done)) {
		struct nfqct_stattab t;
		FILE *f = fopen(path, "re");
		bool ok;

		if (!f) {
			atomic_fetch_add(&reads_bad, 1);	/* the file must always exist */
			continue;
		}
		ok = nfqct_statfile_parse(f, &t) == 0;
		fclose(f);
		if (ok) {
			uint64_t n = t.nlines ? t.values[0] : 0;

			ok = t.nfields == 17 && (t.nlines == 1 || t.nlines == 3) &&
			     t.nlines == (n % 2 ? 3u : 1u);
			for (size_t k = 0; ok && k < (size_t)t.nlines * t.nfields; k++)
				ok = t.values[k] == n;
			nfqct_stattab_free(&t);
		}
		atomic_fetch_add(ok ? &reads_ok : &reads_bad, 1);
	}
	return NULL;
}

static void set_all(struct nfqct_ct_stats *c, uint64_t n)
{
	c->clashres = c->found = c->new = c->invalid = c->ignore = c->delete = n;
	c->chainlength = c->insert = c->insert_failed = c->drop = c->early_drop = n;
	c->icmp_error = c->expect_new = c->expect_create = c->expect_delete = n;
	c->search_restart = c->searched = n;
}

static void test_atomic_replace(void)
{
	struct nfqct_statfile *sf = NULL;
	struct nfqct_settings s;
	struct nfqct_stats_view v = { workers, 0, NULL };
	char path[PATH_MAX];
	pthread_t th;

	nfqct_settings_init(&s);
	s.stat_layout = NFQCT_STAT_LAYOUT_KERNEL6;
	memset(workers, 0, sizeof(workers));
	v.nworkers = 1;
	CU_ASSERT_EQUAL_FATAL(nfqct_statfile_open(tmpdir, &sf, errbuf, sizeof(errbuf)), 0);
	CU_ASSERT_EQUAL_FATAL(nfqct_statfile_write(sf, &v, 0, &s), 0);
	snprintf(path, sizeof(path), "%s", tree("net/stat/nf_conntrack"));
	atomic_store(&writer_done, false);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, reader, path), 0);
	for (uint64_t n = 1; n <= REWRITES; n++) {
		v.nworkers = n % 2 ? 3 : 1;
		for (unsigned int w = 0; w < 3; w++)
			set_all(&workers[w].ct, n);
		CU_ASSERT_EQUAL(nfqct_statfile_write(sf, &v, (uint32_t)n, &s), 0);
	}
	atomic_store(&writer_done, true);
	pthread_join(th, NULL);
	fprintf(stderr, "\n  (%u whole reads during %d rewrites)\n", atomic_load(&reads_ok), REWRITES);
	CU_ASSERT_EQUAL(atomic_load(&reads_bad), 0);
	CU_ASSERT(atomic_load(&reads_ok) > 0);
	CU_ASSERT_EQUAL(temp_files("net/stat"), 0);
	nfqct_statfile_close(sf);
}

/* The first line after the header, read through an fd opened before the
 * rewrite (pread: no stdio buffer in the way). */
static void first_line_via(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	char *nl;

	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	memmove(buf, nl + 1, strlen(nl + 1) + 1);
	nl = strchr(buf, '\n');
	if (nl)
		nl[1] = '\0';
}

/* rename: a reader that keeps the file open sees the old inode; inplace:
 * it sees the new figures (what lnstat -i needs). */
static void test_update_modes(void)
{
	struct nfqct_statfile *sf = NULL;
	struct nfqct_settings s;
	struct nfqct_stats_view v = { workers, 1, NULL };
	char line[1024];
	int fd;

	nfqct_settings_init(&s);
	memset(workers, 0, sizeof(workers));
	CU_ASSERT_EQUAL_FATAL(nfqct_statfile_open(tmpdir, &sf, errbuf, sizeof(errbuf)), 0);
	for (int mode = NFQCT_STAT_UPDATE_RENAME; mode <= NFQCT_STAT_UPDATE_INPLACE; mode++) {
		s.stat_update = (uint32_t)mode;
		workers[0].ct.found = 1;
		CU_ASSERT_EQUAL_FATAL(nfqct_statfile_write(sf, &v, 7, &s), 0);
		fd = open(tree("net/stat/nf_conntrack"), O_RDONLY);
		CU_ASSERT_FATAL(fd >= 0);
		first_line_via(fd, line, sizeof(line));
		CU_ASSERT_STRING_EQUAL(line, "00000007  00000000 00000001 00000000 00000000 00000000 "
			"00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 "
			"00000000 00000000 00000000\n");
		workers[0].ct.found = 2;
		CU_ASSERT_EQUAL(nfqct_statfile_write(sf, &v, 7, &s), 0);
		first_line_via(fd, line, sizeof(line));
		CU_ASSERT_STRING_EQUAL(line + 19, mode == NFQCT_STAT_UPDATE_INPLACE ?
			"00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
			"00000000 00000000 00000000  00000000 00000000 00000000 00000000\n" :
			"00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
			"00000000 00000000 00000000  00000000 00000000 00000000 00000000\n");
		close(fd);
	}
	CU_ASSERT_EQUAL(temp_files("net/stat"), 0);
	nfqct_statfile_close(sf);
}

static void test_prepare(void)
{
	char dir[PATH_MAX + 64];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/deep/er", tmpdir);
	CU_ASSERT_EQUAL(nfqct_statfile_prepare(dir, errbuf, sizeof(errbuf)), 0);
	snprintf(dir, sizeof(dir), "%s/deep/er/sys/net/nfqct", tmpdir);
	CU_ASSERT_EQUAL(stat(dir, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	snprintf(dir, sizeof(dir), "%s/deep/er", tmpdir);
	CU_ASSERT_EQUAL(nfqct_statfile_prepare(dir, errbuf, sizeof(errbuf)), 0);	/* again: fine */

	/* under a plain file: refused, saying where */
	snprintf(dir, sizeof(dir), "%s/plain", tmpdir);
	fclose(fopen(dir, "w"));
	snprintf(dir, sizeof(dir), "%s/plain/x", tmpdir);
	CU_ASSERT_EQUAL(nfqct_statfile_prepare(dir, errbuf, sizeof(errbuf)), -ENOTDIR);
	CU_ASSERT_EQUAL(strncmp(errbuf, "cannot create ", 14), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, "/plain/x/net/stat: Not a directory"));
}

int main(void)
{
	CU_pSuite s;
	unsigned int failures;
	char cmd[PATH_MAX + 16];

	log_init("test_statfile", true, 0);
	snprintf(tmpdir, sizeof(tmpdir), "%s/nfqct-statfile-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("statfile", NULL, NULL);
	CU_add_test(s, "kernel 6.x layout, exact bytes", test_kernel6_bytes);
	CU_add_test(s, "legacy layout, exact bytes", test_legacy_bytes);
	CU_add_test(s, "no workers: one line", test_no_workers);
	CU_add_test(s, "nfqct_queue, exact bytes", test_queue_bytes);
	CU_add_test(s, "header equals the kernel's", test_header_matches_kernel);
	CU_add_test(s, "parse the kernel's file", test_parse_kernel_copy);
	CU_add_test(s, "parse and sum both layouts", test_parse_and_sum);
	CU_add_test(s, "malformed files", test_parse_malformed);
	CU_add_test(s, "deltas wrap at 2^32", test_delta_wraps);
	CU_add_test(s, "prepare: mkdir -p", test_prepare);
	CU_add_test(s, "write the tree", test_write_tree);
	CU_add_test(s, "write error", test_write_error);
	CU_add_test(s, "rename vs inplace for open readers", test_update_modes);
	CU_add_test(s, "atomic replacement", test_atomic_replace);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return failures ? 1 : 0;
}
