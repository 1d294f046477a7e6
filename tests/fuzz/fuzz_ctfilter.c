/*
 * fuzz_ctfilter.c - conntrack(8)-style table commands and filters, as
 * `nfqct list|count|delete|update ARGS` takes them (nfqct_ctcmd_parse),
 * with a round trip: a command that parses formats (nfqct_ctcmd_format)
 * to a text that parses and formats the same.  Then the daemon's side runs
 * it (nfqct_ctcmd_run) on a small real table, matching and printing every
 * entry in every output format the command names.
 * Input: the words, separated by NUL bytes or blanks; the first is the
 * command ("list", "count", "delete", "update").
 */
#include <urcu-qsbr.h>

#include "nfqct/ctcmd.h"
#include "nfqct/ctfilter.h"
#include "fuzz.h"
#include "fuzz_table.h"

#define MAXWORDS 64

static int split(char *s, size_t len, char **w)
{
	int n = 0;

	for (size_t i = 0; i < len;) {
		while (i < len && (s[i] == '\0' || s[i] == ' '))
			s[i++] = '\0';
		if (i == len)
			break;
		if (n == MAXWORDS)
			return -1;
		w[n++] = &s[i];
		while (i < len && s[i] != '\0' && s[i] != ' ')
			i++;
	}
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rcu_register_thread();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size), *w[MAXWORDS], *w2[MAXWORDS], err[256];
	char first[2048], second[2048];
	struct nfqct_ctcmd cmd, cmd2;
	int n, n2, l1, l2;

	n = split(s, size, w);
	if (n < 1 || nfqct_ctcmd_parse(n, w, &cmd, err, sizeof(err)) < 0)
		goto out;
	l1 = nfqct_ctcmd_format(&cmd, first, sizeof(first));
	if (l1 < 0)
		fuzz_fail("a parsed command does not format");
	memcpy(second, first, (size_t)l1 + 1);
	n2 = split(second, (size_t)l1, w2);
	if (n2 < 1 || nfqct_ctcmd_parse(n2, w2, &cmd2, err, sizeof(err)) < 0) {
		fprintf(stderr, "formatted: %s\nerror: %s\n", first, err);
		fuzz_fail("the formatted command does not parse");
	}
	l2 = nfqct_ctcmd_format(&cmd2, second, sizeof(second));
	if (l2 != l1 || memcmp(first, second, (size_t)l1)) {
		fprintf(stderr, "first:  %s\nsecond: %s\n", first, second);
		fuzz_fail("the formatted command formats differently");
	}

	/* the daemon's side, on the words as the client sends them */
	struct nfqct_ct *ct = fuzz_table();
	struct nfqct_ct_stats st = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		abort();
	memcpy(second, first, (size_t)l1 + 1);
	n2 = split(second, (size_t)l1, w2);
	if (nfqct_ctcmd_run(ct, &st, m, n2, w2, FUZZ_TABLE_NOW) < 0)
		fuzz_fail("the daemon refuses a command the client accepted");
	if (fclose(m))
		abort();
	free(text);
	rcu_quiescent_state();
out:
	free(s);
	return 0;
}
