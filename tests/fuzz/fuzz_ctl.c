/*
 * fuzz_ctl.c - the control socket's request dispatch (nfqct_ctl_run) on
 * one request line, as the server reads it (up to NFQCT_CTL_MAXLINE - 1
 * bytes, ending at the first '\n'), with ops that do what the daemon's do
 * without a daemon: the table commands run nfqct_ctcmd_run() on a small
 * real table (so "list FILTER", "count", "delete", "update" parse and
 * walk), the others write a line.
 * Input: the bytes the client sends.
 */
#include <urcu-qsbr.h>

#include "nfqct/ctcmd.h"
#include "nfqct/ctl.h"
#include "nfqct/ct.h"
#include "fuzz.h"
#include "fuzz_table.h"

static int op_list(void *arg, FILE *out) { fputs("list\n", out); return 0; }
static int op_flush(void *arg, FILE *out) { return 0; }
static int op_reload(void *arg, FILE *out) { fputs("reload failed\n", out); return -1; }
static int op_rules(void *arg, FILE *out, bool counters, int family)
{
	fprintf(out, "rules %d %d\n", counters, family);
	return 0;
}
static int op_list_expect(void *arg, FILE *out) { return 0; }
static int op_table(void *arg, FILE *out, int argc, char **argv)
{
	struct nfqct_ct_stats st = { 0 };

	return nfqct_ctcmd_run(arg, &st, out, argc, argv, FUZZ_TABLE_NOW) < 0 ? -1 : 0;
}
static int op_save(void *arg, FILE *out, const char *path)
{
	if (path && path[0] != '/')
		fuzz_fail("save got a relative path");
	return 0;
}
static int op_restore(void *arg, FILE *out, const char *path, bool replace)
{
	if (!path || path[0] != '/')
		fuzz_fail("restore got no absolute path");
	return 0;
}
static int op_upgrade(void *arg, FILE *out, int client_fd) { fputs("upgrade refused\n", out); return -1; }

static int op_ha(void *arg, FILE *out, const char *word) { fprintf(out, "ha %s\n", word); return 0; }
static int op_list_external(void *arg, FILE *out) { return 0; }

static const struct nfqct_ctl_ops ops = { op_list, op_flush, op_reload, op_rules, op_list_expect,
					  op_table, op_save, op_restore, op_upgrade, NULL, NULL,
					  op_ha, op_list_external };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rcu_register_thread();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[NFQCT_CTL_MAXLINE];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;
	char *text = NULL;
	size_t len = 0;
	struct nfqct_ct *ct;
	FILE *m;
	int r;

	if (n > sizeof(line) - 1)
		return 0;	/* the server refuses it before any parsing */
	memcpy(line, data, n);
	line[n] = '\0';
	ct = fuzz_table();
	m = open_memstream(&text, &len);
	if (!m)
		abort();
	r = nfqct_ctl_run(line, &ops, ct, m, -1);
	if (fclose(m))
		abort();
	if (r != 0 && r != -1)
		fuzz_fail("nfqct_ctl_run returned neither 0 nor -1");
	if (r == -1 && len == 0)
		fuzz_fail("a failed command said nothing");
	free(text);
	rcu_quiescent_state();
	return 0;
}
