/*
 * ctcmd.c - list/count/delete/update with conntrack(8)'s filters, both sides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nfqct/ctcmd.h"
#include "nfqct/ctfilter.h"
#include "nfqct/ctl.h"
#include "nfqct/events.h"

bool nfqct_ctcmd_is_table(int argc, char **argv)
{
	if (argc < 1)
		return false;
	if (!strcmp(argv[0], "list"))
		return argc > 1 && !(argc == 2 && (!strcmp(argv[1], "--expect") ||
						   !strcmp(argv[1], "--external")));
	return !strcmp(argv[0], "count") || !strcmp(argv[0], "delete") || !strcmp(argv[0], "update");
}

struct walk {
	struct nfqct_ct *ct;
	struct nfqct_ct_stats *st;
	const struct nfqct_ctcmd *cmd;
	FILE *out;
	uint64_t now;
	unsigned long n;
};

static bool walk_one(struct nfqct_conn *conn, const struct nfqct_ct_info *ci, void *arg)
{
	struct walk *w = arg;
	const struct nfqct_ctcmd *cmd = w->cmd;
	struct nfqct_ct_info upd;

	if (!nfqct_ctfilter_match(&cmd->f, ci))
		return true;
	switch (cmd->kind) {
	case NFQCT_CTCMD_COUNT:
		w->n++;
		break;
	case NFQCT_CTCMD_LIST:
		nfqct_ctfilter_print(w->out, ci, nfqct_ct_id(w->ct, conn), w->now, cmd->output);
		w->n++;
		break;
	case NFQCT_CTCMD_DELETE:
		/* print it as it was, as conntrack -D does; only if we removed it */
		if (nfqct_ct_kill(w->ct, w->st, conn)) {
			nfqct_ctfilter_print(w->out, ci, nfqct_ct_id(w->ct, conn), w->now, cmd->output);
			w->n++;
		}
		break;
	case NFQCT_CTCMD_UPDATE:
		nfqct_ct_set_mark(conn, cmd->new_mark, cmd->new_mask);
		nfqct_ct_info(conn, &upd);
		if (nfqct_events_on())
			nfqct_events_emit(NFQCT_EV_UPDATE, &upd, nfqct_ct_id(w->ct, conn));
		nfqct_ctfilter_print(w->out, &upd, nfqct_ct_id(w->ct, conn), w->now, cmd->output);
		w->n++;
		break;
	}
	return true;
}

int nfqct_ctcmd_run(struct nfqct_ct *ct, struct nfqct_ct_stats *st, FILE *out, int argc,
		    char **argv, uint64_t now_ms)
{
	struct nfqct_ctcmd cmd;
	struct walk w = { ct, st, &cmd, out, now_ms, 0 };
	char err[256];

	if (nfqct_ctcmd_parse(argc, argv, &cmd, err, sizeof(err)) < 0) {
		fprintf(out, "%s\n", err);
		return -EINVAL;
	}
	nfqct_ct_walk(ct, now_ms, walk_one, &w);
	switch (cmd.kind) {
	case NFQCT_CTCMD_COUNT:
		fprintf(out, "%lu\n", w.n);
		break;
	case NFQCT_CTCMD_DELETE:
		fprintf(out, "nfqct: %lu flow entries have been deleted.\n", w.n);
		break;
	case NFQCT_CTCMD_UPDATE:
		fprintf(out, "nfqct: %lu flow entries have been updated.\n", w.n);
		break;
	case NFQCT_CTCMD_LIST:
		break;
	}
	return 0;
}

int nfqct_ctcmd_client(const char *dir, int argc, char **argv, FILE *out, FILE *err)
{
	struct nfqct_ctcmd cmd;
	char msg[256], line[NFQCT_CTL_MAXLINE];
	char *body = NULL;
	size_t len = 0;
	FILE *m;
	int r;

	if (nfqct_ctcmd_parse(argc, argv, &cmd, msg, sizeof(msg)) < 0) {
		fprintf(err, "nfqct: %s\n", msg);
		return 1;
	}
	if (nfqct_ctcmd_format(&cmd, line, sizeof(line)) < 0) {
		fprintf(err, "nfqct: %s: command too long\n", argv[0]);
		return 1;
	}
	m = open_memstream(&body, &len);
	if (!m) {
		fprintf(err, "nfqct: %s\n", strerror(errno));
		return 1;
	}
	r = nfqct_ctl_request(dir, line, m, err);
	if (fclose(m) != 0) {
		fprintf(err, "nfqct: out of memory\n");
		free(body);
		return 1;
	}
	/* the summary of delete/update goes to stderr, as conntrack's */
	for (char *p = body, *nl; p && p < body + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(body + len - p));
		if (!nl)
			nl = body + len;
		fwrite(p, 1, (size_t)(nl - p), strncmp(p, "nfqct: ", 7) ? out : err);
		fputc('\n', strncmp(p, "nfqct: ", 7) ? out : err);
	}
	free(body);
	return r;
}
