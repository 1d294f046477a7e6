/*
 * ctl.c - the control socket: a one-command-per-connection server for the
 * daemon's main thread, and the client nfqct uses.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nfqct/ctcmd.h"
#include "nfqct/ctl.h"

static int ctl_addr(const char *dir, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, NFQCT_CTL_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* ---- server ---- */

int nfqct_ctl_listen(const char *dir, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd, r;

	r = ctl_addr(dir, &sa);
	if (r < 0) {
		snprintf(err, errlen, "socket path too long: %s/%s", dir, NFQCT_CTL_SOCKET);
		return r;
	}

	/* Is somebody answering?  Then it is not ours to remove. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, errlen, "another process answers on %s (another nfqctd with this stat directory?)",
			 sa.sun_path);
		return -EADDRINUSE;
	}
	r = errno;
	close(fd);
	if (r == ECONNREFUSED) {
		/* A socket file nobody listens on: left by a daemon that died. */
		if (unlink(sa.sun_path) < 0 && errno != ENOENT)
			goto err;
	} else if (r != ENOENT) {
		errno = r;
		goto err;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto err;
	/* Linux creates the socket file with the socket inode's mode (minus
	 * umask): set it before bind so there is no window with a wider mode. */
	(void)fchmod(fd, 0600);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err_close;
	if (chmod(sa.sun_path, 0600) < 0 || listen(fd, 16) < 0) {
		r = errno;
		unlink(sa.sun_path);
		errno = r;
		goto err_close;
	}
	return fd;

err_close:
	r = errno;
	close(fd);
	errno = r;
err:
	r = errno;
	snprintf(err, errlen, "cannot listen on %s: %s", sa.sun_path, strerror(r));
	return -r;
}

void nfqct_ctl_close(int listen_fd, const char *dir)
{
	struct sockaddr_un sa;

	if (listen_fd >= 0)
		close(listen_fd);
	if (ctl_addr(dir, &sa) == 0)
		unlink(sa.sun_path);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read one line (without its '\n') into @buf before @deadline.  EOF
 * ends the line too.  Returns 0, -ETIMEDOUT, -EMSGSIZE or -errno.
 */
static int read_line(int fd, char *buf, size_t len, int64_t deadline)
{
	size_t used = 0;

	for (;;) {
		int64_t left = deadline - mono_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf + used, len - 1 - used, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		buf[used + (size_t)n] = '\0';
		nl = memchr(buf + used, '\n', (size_t)n);
		used += (size_t)n;
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (n == 0)
			return 0;
		if (used == len - 1)
			return -EMSGSIZE;
	}
}

/* Send all of @data; give up after @timeout_ms without progress. */
static int send_all(int fd, const char *data, size_t len, int timeout_ms)
{
	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n >= 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		n = poll(&pfd, 1, timeout_ms);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Split @line into at most @max words; returns their number, or -1 if there are more. */
static int split_words(char *line, char **words, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (n == max)
			return -1;
		words[n++] = w;
	}
	return n;
}

/* "save [FILE]", "restore FILE [--replace]": FILE must be absolute (the
 * daemon's working directory is not the client's). */
static int run_state(char **w, int n, const struct nfqct_ctl_ops *ops, void *arg, FILE *out)
{
	bool save = !strcmp(w[0], "save"), replace = false;
	const char *path = NULL;

	for (int i = 1; i < n; i++) {
		if (!save && !strcmp(w[i], "--replace")) {
			replace = true;
		} else if (w[i][0] == '/' && !path) {
			path = w[i];
		} else {
			fprintf(out, "%s: unexpected argument '%s' (an absolute path%s)\n", w[0], w[i],
				save ? "" : " and --replace");
			return -1;
		}
	}
	if (!save && !path) {
		fprintf(out, "restore: missing FILE\n");
		return -1;
	}
	if (save ? !ops->save : !ops->restore) {
		fprintf(out, "%s: command not supported\n", w[0]);
		return -1;
	}
	return (save ? ops->save(arg, out, path) : ops->restore(arg, out, path, replace)) == 0 ? 0 : -1;
}

int nfqct_ctl_run(char *line, const struct nfqct_ctl_ops *ops, void *arg, FILE *out, int client_fd)
{
	char *w[64];
	int n = split_words(line, w, 64);

	if (n == 0) {
		fprintf(out, "empty command\n");
		return -1;
	}
	if (n < 0) {
		fprintf(out, "too many arguments\n");
		return -1;
	}
	if (nfqct_ctcmd_is_table(n, w)) {
		if (!ops->table)
			goto unsupported;
		return ops->table(arg, out, n, w) == 0 ? 0 : -1;
	}
	if (!strcmp(w[0], "rules")) {
		bool counters = false;
		int family = 0;

		for (int i = 1; i < n; i++) {
			if (!strcmp(w[i], "-c") || !strcmp(w[i], "--counters")) {
				counters = true;
			} else if (!strcmp(w[i], "-4") || !strcmp(w[i], "-6")) {
				family = w[i][1] == '4' ? AF_INET : AF_INET6;
			} else {
				fprintf(out, "rules: unknown option '%s'\n", w[i]);
				return -1;
			}
		}
		if (!ops->rules)
			goto unsupported;
		return ops->rules(arg, out, counters, family) == 0 ? 0 : -1;
	}

	int (*fn)(void *, FILE *) = NULL;

	if (!strcmp(w[0], "recent")) {
		if (n < 2 || n > 3) {
			fprintf(out, "recent: %s\n", n < 2 ? "missing list NAME" : "too many arguments");
			return -1;
		}
		if (!ops->recent)
			goto unsupported;
		return ops->recent(arg, out, w[1], n == 3 ? w[2] : NULL) == 0 ? 0 : -1;
	}
	if (!strcmp(w[0], "set")) {
		if (n < 2) {
			fprintf(out, "set: missing the command (add, del, test, list, save, flush, restore)\n");
			return -1;
		}
		if (!ops->set)
			goto unsupported;
		return ops->set(arg, out, n - 1, w + 1) == 0 ? 0 : -1;
	}
	if (!strcmp(w[0], "save") || !strcmp(w[0], "restore"))
		return run_state(w, n, ops, arg, out);
	if (!strcmp(w[0], "upgrade")) {
		if (n > 1) {
			fprintf(out, "upgrade: unexpected argument '%s'\n", w[1]);
			return -1;
		}
		if (!ops->upgrade)
			goto unsupported;
		return ops->upgrade(arg, out, client_fd) == 0 ? 0 : -1;
	}
	if (!strcmp(w[0], "ha")) {
		if (n != 2) {
			fprintf(out, "ha: %s\n", n < 2 ? "missing the role (primary, backup, fault or status)" :
				"too many arguments");
			return -1;
		}
		if (!ops->ha)
			goto unsupported;
		return ops->ha(arg, out, w[1]) == 0 ? 0 : -1;
	}
	if (!strcmp(w[0], "list") && n == 2 && !strcmp(w[1], "--external")) {
		if (!ops->list_external)
			goto unsupported;
		return ops->list_external(arg, out) == 0 ? 0 : -1;
	}
	if (!strcmp(w[0], "list") && n == 2 && !strcmp(w[1], "--expect")) {
		if (!ops->list_expect)
			goto unsupported;
		return ops->list_expect(arg, out) == 0 ? 0 : -1;
	}
	if (!strcmp(w[0], "list"))
		fn = ops->list;
	else if (!strcmp(w[0], "flush"))
		fn = ops->flush;
	else if (!strcmp(w[0], "reload"))
		fn = ops->reload;
	else {
		fprintf(out, "unknown command '%s'\n", w[0]);
		return -1;
	}
	if (n > 1) {
		fprintf(out, "%s: unexpected argument '%s'\n", w[0], w[1]);
		return -1;
	}
	if (!fn)
		goto unsupported;
	return fn(arg, out) == 0 ? 0 : -1;

unsupported:
	fprintf(out, "%s: command not supported\n", w[0]);
	return -1;
}

int nfqct_ctl_serve_one_timeout(int listen_fd, const struct nfqct_ctl_ops *ops, void *arg,
				int timeout_ms, char *err, size_t errlen)
{
	char line[NFQCT_CTL_MAXLINE];
	char *body = NULL;
	size_t len = 0;
	FILE *m;
	int fd, r, status;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return 0;	/* nobody waiting after all */
		r = -errno;
		snprintf(err, errlen, "accept: %s", strerror(-r));
		return r;
	}
	r = read_line(fd, line, sizeof(line), mono_ms() + timeout_ms);
	if (r < 0) {
		snprintf(err, errlen, "dropping client: %s", strerror(-r));
		if (r == -EMSGSIZE)
			send_all(fd, "error\ncommand too long\n", 23, timeout_ms);
		goto out_close;
	}
	m = open_memstream(&body, &len);
	if (!m) {
		r = -errno;
		snprintf(err, errlen, "open_memstream: %s", strerror(-r));
		send_all(fd, "error\nout of memory\n", 20, timeout_ms);
		goto out_close;
	}
	status = nfqct_ctl_run(line, ops, arg, m, fd);
	if (fclose(m) != 0) {
		r = -ENOMEM;
		snprintf(err, errlen, "output of the command: %s", strerror(-r));
		free(body);
		send_all(fd, "error\nout of memory\n", 20, timeout_ms);
		goto out_close;
	}
	r = send_all(fd, status == 0 ? "ok\n" : "error\n", status == 0 ? 3 : 6, timeout_ms);
	if (r == 0)
		r = send_all(fd, body, len, timeout_ms);
	if (r < 0)
		snprintf(err, errlen, "reply not sent: %s", strerror(-r));
	free(body);
out_close:
	close(fd);
	return r < 0 ? r : 0;
}

int nfqct_ctl_serve_one(int listen_fd, const struct nfqct_ctl_ops *ops, void *arg, char *err,
			size_t errlen)
{
	return nfqct_ctl_serve_one_timeout(listen_fd, ops, arg, NFQCT_CTL_TIMEOUT_MS, err, errlen);
}

/* ---- client ---- */

int nfqct_ctl_request(const char *dir, const char *cmd, FILE *out, FILE *err)
{
	struct timeval tv = { NFQCT_CTL_CLIENT_TIMEOUT_MS / 1000, 0 };
	struct sockaddr_un sa;
	char buf[4096];
	char status[8];
	size_t slen = 0;
	FILE *dst = NULL;
	int fd, ret = 2;

	if (ctl_addr(dir, &sa) < 0) {
		fprintf(err, "nfqct: socket path too long: %s/%s\n", dir, NFQCT_CTL_SOCKET);
		return 2;
	}
	if (strchr(cmd, '\n') || strlen(cmd) + 1 > NFQCT_CTL_MAXLINE - 1) {
		fprintf(err, "nfqct: invalid command\n");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(err, "nfqct: socket: %s\n", strerror(errno));
		return 2;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(err, "nfqct: cannot connect to %s: %s (is nfqctd running with --stat-dir %s?)\n",
			sa.sun_path, strerror(errno), dir);
		goto out_close;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(buf, sizeof(buf), "%s\n", cmd);
	if (send_all(fd, buf, strlen(buf), NFQCT_CTL_CLIENT_TIMEOUT_MS) < 0) {
		fprintf(err, "nfqct: cannot send to %s: %s\n", sa.sun_path, strerror(errno));
		goto out_close;
	}
	shutdown(fd, SHUT_WR);

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		size_t off = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				fprintf(err, "nfqct: no answer from the daemon on %s within %d s\n",
					sa.sun_path, NFQCT_CTL_CLIENT_TIMEOUT_MS / 1000);
			else
				fprintf(err, "nfqct: reading from %s: %s\n", sa.sun_path, strerror(errno));
			ret = 2;
			goto out_close;
		}
		if (n == 0)
			break;
		/* The status line first, then the body to out or err. */
		while (!dst && off < (size_t)n) {
			char c = buf[off++];

			if (c != '\n') {
				if (slen == sizeof(status) - 1)
					goto malformed;
				status[slen++] = c;
				continue;
			}
			status[slen] = '\0';
			if (!strcmp(status, "ok")) {
				dst = out;
				ret = 0;
			} else if (!strcmp(status, "error")) {
				dst = err;
				ret = 1;
			} else {
				goto malformed;
			}
		}
		if (dst && off < (size_t)n)
			fwrite(buf + off, 1, (size_t)n - off, dst);
	}
	if (!dst) {
		fprintf(err, "nfqct: the daemon closed %s without answering\n", sa.sun_path);
		ret = 2;
	}
	goto out_close;

malformed:
	fprintf(err, "nfqct: malformed reply on %s\n", sa.sun_path);
	ret = 2;
out_close:
	close(fd);
	return ret;
}
