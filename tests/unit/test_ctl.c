/*
 * test_ctl.c - the control socket: every command through a server thread,
 * statuses, errors, timeouts of silent clients, stale and busy sockets.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nfqct/ctfilter.h"
#include "nfqct/ctl.h"
#include "nfqct/log.h"

static char tmpdir[64];
static __thread char ctl_err[256];	/* the last error message of a ctl call */

struct calls {
	atomic_int list, flush, reload, rules, rules_counters;
};

static int op_list(void *arg, FILE *out)
{
	struct calls *c = arg;

	atomic_fetch_add(&c->list, 1);
	fputs("tcp      6 431999 ESTABLISHED src=198.18.0.1 dst=198.18.1.1 sport=1 dport=2\n", out);
	fputs("udp      17 29 src=198.18.0.1 dst=198.18.1.1 sport=3 dport=4 [UNREPLIED]\n", out);
	return 0;
}

static int op_flush(void *arg, FILE *out)
{
	struct calls *c = arg;

	atomic_fetch_add(&c->flush, 1);
	return 0;	/* no output */
}

static int op_reload(void *arg, FILE *out)
{
	struct calls *c = arg;

	atomic_fetch_add(&c->reload, 1);
	fputs("bad.rules:3:1: error: unknown chain FOO\n", out);
	return -1;
}

static int op_rules(void *arg, FILE *out, bool counters, int family)
{
	struct calls *c = arg;

	atomic_fetch_add(counters ? &c->rules_counters : &c->rules, 1);
	fprintf(out, "%s*filter\n:INPUT ACCEPT%s\nCOMMIT\n",
		family == AF_INET ? "# 4\n" : family == AF_INET6 ? "# 6\n" : "", counters ? " [1:2]" : "");
	return 0;
}

static int op_list_expect(void *arg, FILE *out)
{
	(void)arg;
	fputs("299 proto=6 src=198.18.1.1 dst=198.18.0.1 sport=0 dport=5001\n", out);
	return 0;
}

/* the table commands: the words as they came, after the daemon's parser */
static int op_table(void *arg, FILE *out, int argc, char **argv)
{
	struct nfqct_ctcmd cmd;
	char err[256];

	(void)arg;
	if (nfqct_ctcmd_parse(argc, argv, &cmd, err, sizeof(err)) < 0) {
		fprintf(out, "%s\n", err);
		return -1;
	}
	for (int i = 0; i < argc; i++)
		fprintf(out, "%s%s", i ? "|" : "", argv[i]);
	fputc('\n', out);
	return 0;
}

/* save/restore: echo what the server parsed */
static int op_save(void *arg, FILE *out, const char *path)
{
	(void)arg;
	fprintf(out, "save %s\n", path ? path : "(state file)");
	return 0;
}

static int op_restore(void *arg, FILE *out, const char *path, bool replace)
{
	(void)arg;
	fprintf(out, "restore %s%s\n", path, replace ? " replace" : "");
	return 0;
}

/* upgrade: refused, saying whether it got the client's connection to hand over */
static int op_upgrade(void *arg, FILE *out, int client_fd)
{
	(void)arg;
	fprintf(out, "upgrade: refused (client fd %s)\n", client_fd >= 0 ? "given" : "missing");
	return -1;
}

/* recent NAME [CMD]: echoes what it got */
static int op_recent(void *arg, FILE *out, const char *name, const char *cmd)
{
	(void)arg;
	fprintf(out, "recent %s %s\n", name, cmd ? cmd : "(read)");
	return 0;
}

/* set CMD ...: echoes its words */
static int op_set(void *arg, FILE *out, int argc, char **argv)
{
	(void)arg;
	fputs("set", out);
	for (int i = 0; i < argc; i++)
		fprintf(out, " [%s]", argv[i]);
	fputc('\n', out);
	return 0;
}

/* ha WORD: echoes it; "bogus" fails as the daemon's would */
static int op_ha(void *arg, FILE *out, const char *word)
{
	(void)arg;
	fprintf(out, "ha %s\n", word);
	return strcmp(word, "bogus") ? 0 : -1;
}

/* list --external */
static int op_list_external(void *arg, FILE *out)
{
	(void)arg;
	fputs("external\n", out);
	return 0;
}

static const struct nfqct_ctl_ops all_ops = { op_list, op_flush, op_reload, op_rules, op_list_expect,
					      op_table, op_save, op_restore, op_upgrade, op_recent, op_set,
					      op_ha, op_list_external };

struct server {
	int fd;
	const struct nfqct_ctl_ops *ops;
	struct calls calls;
	atomic_bool stop;
	pthread_t th;
};

/* The daemon's main loop, reduced: poll the listening fd, serve one client per event. */
static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

		if (poll(&pfd, 1, 20) > 0)
			nfqct_ctl_serve_one_timeout(s->fd, s->ops, &s->calls, 300, ctl_err, sizeof(ctl_err));
	}
	return NULL;
}

static void server_start(struct server *s, const struct nfqct_ctl_ops *ops)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->fd = nfqct_ctl_listen(tmpdir, ctl_err, sizeof(ctl_err));
	CU_ASSERT_FATAL(s->fd >= 0);
	CU_ASSERT_FATAL(pthread_create(&s->th, NULL, server_main, s) == 0);
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	nfqct_ctl_close(s->fd, tmpdir);
}

struct reply {
	int status;
	char *out, *err;
};

static void request(const char *cmd, struct reply *r)
{
	size_t lo = 0, le = 0;
	FILE *out = open_memstream(&r->out, &lo);
	FILE *err = open_memstream(&r->err, &le);

	r->status = nfqct_ctl_request(tmpdir, cmd, out, err);
	fclose(out);
	fclose(err);
}

static void reply_free(struct reply *r)
{
	free(r->out);
	free(r->err);
}

static char *sock_path(void)
{
	static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, NFQCT_CTL_SOCKET);
	return path;
}

static void test_commands(void)
{
	struct server s;
	struct reply r;
	struct stat st;

	server_start(&s, &all_ops);
	CU_ASSERT_EQUAL(stat(sock_path(), &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);

	request("list", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
		"tcp      6 431999 ESTABLISHED src=198.18.0.1 dst=198.18.1.1 sport=1 dport=2\n"
		"udp      17 29 src=198.18.0.1 dst=198.18.1.1 sport=3 dport=4 [UNREPLIED]\n");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	reply_free(&r);
	request("list --expect", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "299 proto=6 src=198.18.1.1 dst=198.18.0.1 sport=0 dport=5001\n");
	reply_free(&r);
	request("list --bogus", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "list: unknown option '--bogus'\n");
	reply_free(&r);
	/* replication: ha WORD, list --external */
	request("list --external", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "external\n");
	reply_free(&r);
	request("ha primary", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "ha primary\n");
	reply_free(&r);
	request("ha bogus", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "ha bogus\n");
	reply_free(&r);
	request("ha", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "ha: missing the role (primary, backup, fault or status)\n");
	reply_free(&r);
	request("ha primary now", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "ha: too many arguments\n");
	reply_free(&r);
	/* filters: every word reaches the table command */
	request("list -p 6 -s 198.18.0.1/32 --dport 80 -o extended,id", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "list|-p|6|-s|198.18.0.1/32|--dport|80|-o|extended,id\n");
	reply_free(&r);
	request("count", &r);
	CU_ASSERT_STRING_EQUAL(r.out, "count\n");
	reply_free(&r);
	request("delete", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "delete: refusing to delete every entry without a filter: give --all\n");
	reply_free(&r);

	request("flush", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	reply_free(&r);

	request("reload", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_STRING_EQUAL(r.err, "bad.rules:3:1: error: unknown chain FOO\n");
	reply_free(&r);

	request("rules", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "*filter\n:INPUT ACCEPT\nCOMMIT\n");
	reply_free(&r);

	request("rules -c", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "*filter\n:INPUT ACCEPT [1:2]\nCOMMIT\n");
	reply_free(&r);

	request("rules -6", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "# 6\n*filter\n:INPUT ACCEPT\nCOMMIT\n");
	reply_free(&r);

	request("rules -4", &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "# 4\n*filter\n:INPUT ACCEPT\nCOMMIT\n");
	reply_free(&r);

	request("frobnicate", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_STRING_EQUAL(r.err, "unknown command 'frobnicate'\n");
	reply_free(&r);

	request("list now", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "list: unknown option 'now'\n");
	reply_free(&r);

	request("rules -x", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "rules: unknown option '-x'\n");
	reply_free(&r);

	request("", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "empty command\n");
	reply_free(&r);

	/* save [FILE], restore FILE [--replace]: absolute paths only */
	static const struct { const char *cmd; int status; const char *out, *err; } st_cases[] = {
		{ "save", 0, "save (state file)\n", "" },
		{ "save /tmp/x.state", 0, "save /tmp/x.state\n", "" },
		{ "save x.state", 1, "", "save: unexpected argument 'x.state' (an absolute path)\n" },
		{ "save /a /b", 1, "", "save: unexpected argument '/b' (an absolute path)\n" },
		{ "save --replace", 1, "", "save: unexpected argument '--replace' (an absolute path)\n" },
		{ "restore /tmp/x.state", 0, "restore /tmp/x.state\n", "" },
		{ "restore --replace /tmp/x.state", 0, "restore /tmp/x.state replace\n", "" },
		{ "restore /tmp/x.state --replace", 0, "restore /tmp/x.state replace\n", "" },
		{ "restore", 1, "", "restore: missing FILE\n" },
		{ "restore --replace", 1, "", "restore: missing FILE\n" },
		{ "upgrade", 1, "", "upgrade: refused (client fd given)\n" },
		{ "upgrade now", 1, "", "upgrade: unexpected argument 'now'\n" },
		{ "recent SSH", 0, "recent SSH (read)\n", "" },
		{ "recent SSH +198.18.0.1", 0, "recent SSH +198.18.0.1\n", "" },
		{ "recent SSH /", 0, "recent SSH /\n", "" },
		{ "recent", 1, "", "recent: missing list NAME\n" },
		{ "recent SSH / x", 1, "", "recent: too many arguments\n" },
		{ "set add bl 198.18.0.1 --kill-flows", 0, "set [add] [bl] [198.18.0.1] [--kill-flows]\n", "" },
		{ "set list", 0, "set [list]\n", "" },
		{ "set", 1, "", "set: missing the command (add, del, test, list, save, flush, restore)\n" },
	};
	for (size_t i = 0; i < sizeof(st_cases) / sizeof(st_cases[0]); i++) {
		request(st_cases[i].cmd, &r);
		CU_ASSERT_EQUAL(r.status, st_cases[i].status);
		CU_ASSERT_STRING_EQUAL(r.out, st_cases[i].out);
		CU_ASSERT_STRING_EQUAL(r.err, st_cases[i].err);
		reply_free(&r);
	}

	server_stop(&s);
	CU_ASSERT_EQUAL(atomic_load(&s.calls.list), 1);
	CU_ASSERT_EQUAL(atomic_load(&s.calls.flush), 1);
	CU_ASSERT_EQUAL(atomic_load(&s.calls.reload), 1);
	CU_ASSERT_EQUAL(atomic_load(&s.calls.rules), 3);
	CU_ASSERT_EQUAL(atomic_load(&s.calls.rules_counters), 1);
	/* nfqct_ctl_close removed the socket. */
	CU_ASSERT_EQUAL(access(sock_path(), F_OK), -1);
}

static void test_unsupported(void)
{
	static const struct nfqct_ctl_ops only_list = { op_list, NULL, NULL, NULL, NULL, NULL, NULL,
							NULL, NULL, NULL, NULL, NULL, NULL };
	struct server s;
	struct reply r;

	server_start(&s, &only_list);
	request("flush", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "flush: command not supported\n");
	reply_free(&r);
	request("rules -c", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "rules: command not supported\n");
	reply_free(&r);
	request("list --expect", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "list: command not supported\n");
	reply_free(&r);
	request("list --external", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "list: command not supported\n");
	reply_free(&r);
	request("ha status", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "ha: command not supported\n");
	reply_free(&r);

	request("upgrade", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.err, "upgrade: command not supported\n");
	reply_free(&r);
	server_stop(&s);
}

/* nfqct_ctl_run: the dispatch alone, no socket (what the fuzz target calls) */
static void run_line(const char *cmd, int status, const char *output)
{
	struct calls calls = { 0 };
	char line[NFQCT_CTL_MAXLINE], *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	snprintf(line, sizeof(line), "%s", cmd);
	CU_ASSERT_EQUAL(nfqct_ctl_run(line, &all_ops, &calls, m, -1), status);
	fclose(m);
	CU_ASSERT_STRING_EQUAL(text, output);
	free(text);
}

static void test_run_direct(void)
{
	run_line("rules -6 --counters", 0, "# 6\n*filter\n:INPUT ACCEPT [1:2]\nCOMMIT\n");
	run_line(" \t\r", -1, "empty command\n");
	run_line("frobnicate", -1, "unknown command 'frobnicate'\n");
	run_line("flush now", -1, "flush: unexpected argument 'now'\n");
	run_line("upgrade", -1, "upgrade: refused (client fd missing)\n");
	run_line("count -p udp", 0, "count|-p|udp\n");
	run_line("restore --replace /s", 0, "restore /s replace\n");
	/* 64 words are accepted, 65 are not */
	char many[NFQCT_CTL_MAXLINE] = "flush";

	for (int i = 1; i < 65; i++)
		strcat(many, " x");
	run_line(many, -1, "too many arguments\n");
	many[strlen(many) - 2] = '\0';
	run_line(many, -1, "flush: unexpected argument 'x'\n");
}

static void test_no_daemon(void)
{
	struct reply r;
	char want[PATH_MAX * 3];

	unlink(sock_path());
	request("list", &r);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	snprintf(want, sizeof(want),
		 "nfqct: cannot connect to %s: No such file or directory (is nfqctd running with --stat-dir %s?)\n",
		 sock_path(), tmpdir);
	CU_ASSERT_STRING_EQUAL(r.err, want);
	reply_free(&r);
}

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path());
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_silent_client(void)
{
	struct calls calls = { 0 };
	int lfd, c1, c2;
	char buf[64];
	ssize_t n;
	double t0, dt;

	lfd = nfqct_ctl_listen(tmpdir, ctl_err, sizeof(ctl_err));
	CU_ASSERT_FATAL(lfd >= 0);

	/* Nobody waiting: returns at once (non-blocking accept). */
	t0 = now_s();
	CU_ASSERT_EQUAL(nfqct_ctl_serve_one_timeout(lfd, &all_ops, &calls, 5000, ctl_err, sizeof(ctl_err)), 0);
	CU_ASSERT(now_s() - t0 < 0.5);

	/* A client that sends nothing, another that sends half a line: each
	 * is dropped after the timeout, without an answer. */
	c1 = raw_connect();
	c2 = raw_connect();
	CU_ASSERT_EQUAL(send(c2, "li", 2, 0), 2);
	t0 = now_s();
	CU_ASSERT_EQUAL(nfqct_ctl_serve_one_timeout(lfd, &all_ops, &calls, 300, ctl_err, sizeof(ctl_err)),
			-ETIMEDOUT);
	CU_ASSERT_STRING_EQUAL(ctl_err, "dropping client: Connection timed out");
	CU_ASSERT_EQUAL(nfqct_ctl_serve_one_timeout(lfd, &all_ops, &calls, 300, ctl_err, sizeof(ctl_err)),
			-ETIMEDOUT);
	dt = now_s() - t0;
	CU_ASSERT(dt >= 0.55 && dt < 2.0);
	CU_ASSERT_EQUAL(recv(c1, buf, sizeof(buf), 0), 0);	/* closed, no reply */
	CU_ASSERT_EQUAL(recv(c2, buf, sizeof(buf), 0), 0);
	CU_ASSERT_EQUAL(atomic_load(&calls.list), 0);
	close(c1);
	close(c2);

	/* A command ended by EOF instead of '\n' is fine. */
	c1 = raw_connect();
	CU_ASSERT_EQUAL(send(c1, "flush", 5, 0), 5);
	shutdown(c1, SHUT_WR);
	nfqct_ctl_serve_one_timeout(lfd, &all_ops, &calls, 300, ctl_err, sizeof(ctl_err));
	n = recv(c1, buf, sizeof(buf) - 1, 0);
	CU_ASSERT_EQUAL(n, 3);
	buf[n > 0 ? n : 0] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, "ok\n");
	CU_ASSERT_EQUAL(atomic_load(&calls.flush), 1);
	close(c1);

	/* A line longer than NFQCT_CTL_MAXLINE is refused. */
	char longline[NFQCT_CTL_MAXLINE + 10];
	memset(longline, 'x', sizeof(longline));
	c1 = raw_connect();
	CU_ASSERT_EQUAL(send(c1, longline, sizeof(longline), 0), (ssize_t)sizeof(longline));
	nfqct_ctl_serve_one_timeout(lfd, &all_ops, &calls, 300, ctl_err, sizeof(ctl_err));
	n = recv(c1, buf, sizeof(buf) - 1, MSG_WAITALL);
	buf[n > 0 ? n : 0] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, "error\ncommand too long\n");
	close(c1);

	nfqct_ctl_close(lfd, tmpdir);
}

static void test_stale_and_busy(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, lfd;

	/* A socket file left by a dead daemon: bound, then closed. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path());
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CU_ASSERT_EQUAL(access(sock_path(), F_OK), 0);

	lfd = nfqct_ctl_listen(tmpdir, ctl_err, sizeof(ctl_err));
	CU_ASSERT(lfd >= 0);

	/* A live daemon on it: a second one is refused and the socket stays. */
	CU_ASSERT_EQUAL(nfqct_ctl_listen(tmpdir, ctl_err, sizeof(ctl_err)), -EADDRINUSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctl_err, "another process answers on "));
	CU_ASSERT_EQUAL(access(sock_path(), F_OK), 0);
	fd = raw_connect();	/* the first one still answers */
	close(fd);
	nfqct_ctl_close(lfd, tmpdir);
}

static void test_long_path(void)
{
	char dir[200];
	struct reply r;
	size_t lo = 0, le = 0;
	FILE *out, *err;

	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	CU_ASSERT_EQUAL(nfqct_ctl_listen(dir, ctl_err, sizeof(ctl_err)), -ENAMETOOLONG);
	CU_ASSERT_EQUAL(strncmp(ctl_err, "socket path too long: /ddd", 26), 0);
	out = open_memstream(&r.out, &lo);
	err = open_memstream(&r.err, &le);
	CU_ASSERT_EQUAL(nfqct_ctl_request(dir, "list", out, err), 2);
	fclose(out);
	fclose(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "socket path too long"));
	reply_free(&r);
}

int main(void)
{
	CU_pSuite s;
	unsigned int failures;
	char cmd[PATH_MAX + 16];

	log_init("test_ctl", true, 0);
	snprintf(tmpdir, sizeof(tmpdir), "%s/nfqct-ctl-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("ctl", NULL, NULL);
	CU_add_test(s, "every command, statuses", test_commands);
	CU_add_test(s, "unsupported commands", test_unsupported);
	CU_add_test(s, "nfqct_ctl_run without a socket", test_run_direct);
	CU_add_test(s, "no daemon: exit 2 and a hint", test_no_daemon);
	CU_add_test(s, "silent clients time out", test_silent_client);
	CU_add_test(s, "stale socket removed, live one kept", test_stale_and_busy);
	CU_add_test(s, "socket path too long", test_long_path);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return failures ? 1 : 0;
}
