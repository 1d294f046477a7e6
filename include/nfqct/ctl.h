/*
 * ctl.h - the control socket DIR/nfqct.sock (AF_UNIX, SOCK_STREAM, 0600).
 *
 * Protocol, one request per connection:
 *   client -> server   one command line, at most NFQCT_CTL_MAXLINE bytes
 *                      including its '\n': "list", "flush", "reload",
 *                      "rules [-c] [-4|-6]", "upgrade", "recent NAME [+ADDR|-ADDR|/]",
 *                      "set CMD [NAME [ELEMENT [options]]]",
 *                      "ha primary|backup|fault|status", "list --external"
 *                      (words separated by blanks)
 *   server -> client   a status line, "ok\n" or "error\n", then the
 *                      command's output (on "error", its error messages),
 *                      then the server closes the connection.
 * The server runs the command into a memory buffer first, so the status is
 * known before anything is sent.  Unknown commands and bad arguments get
 * "error" and a message naming the command.
 *
 * The daemon's main thread owns the listening socket and polls it; one
 * nfqct_ctl_serve_one() per readable event serves one client.  A client
 * gets NFQCT_CTL_TIMEOUT_MS to send its command and, while receiving the
 * reply, that long between two chunks of progress; after that it is
 * dropped, so a stuck client cannot hang the main thread.
 */
#ifndef NFQCT_CTL_H
#define NFQCT_CTL_H

#include <stdbool.h>
#include <stdio.h>

#define NFQCT_CTL_SOCKET "nfqct.sock"
#define NFQCT_CTL_MAXLINE 1024
#define NFQCT_CTL_TIMEOUT_MS 2000

/*
 * The commands, run by the main thread.  Each writes its output (or its
 * error messages) to @out and returns 0 or -1 (failed).  A NULL member
 * answers "error: command not supported".
 */
struct nfqct_ctl_ops {
	int (*list)(void *arg, FILE *out);
	int (*flush)(void *arg, FILE *out);
	int (*reload)(void *arg, FILE *out);
	/* "rules [-c] [-4|-6]": @family 0 (all), AF_INET or AF_INET6 */
	int (*rules)(void *arg, FILE *out, bool counters, int family);
	int (*list_expect)(void *arg, FILE *out);	/* "list --expect" */
	/* "list FILTER...", "count", "delete", "update" (ctcmd.h): the words */
	int (*table)(void *arg, FILE *out, int argc, char **argv);
	/* "save [FILE]": the table to FILE (absolute), or to the state file
	 * when @path is NULL.  "restore FILE [--replace]": merge FILE's
	 * entries; existing ones win unless @replace (state.h). */
	int (*save)(void *arg, FILE *out, const char *path);
	int (*restore)(void *arg, FILE *out, const char *path, bool replace);
	/* "upgrade": re-execute the daemon's binary (nfqctd(8) UPGRADES).
	 * On success it does not return: the new image answers on @client_fd
	 * (close-on-exec cleared by the callee), with the status line and
	 * body of this protocol.  Returns -1 with the reason in @out when the
	 * running daemon stays. */
	int (*upgrade)(void *arg, FILE *out, int client_fd);
	/* "recent NAME [CMD]": list NAME of -m recent, as /proc/net/xt_recent/NAME
	 * reads, or what writing @cmd (+ADDR, -ADDR, /) there does; @cmd NULL: read */
	int (*recent)(void *arg, FILE *out, const char *name, const char *cmd);
	/* "set add|del|test|list|save|flush|restore ...": the words after "set" (ipset.h) */
	int (*set)(void *arg, FILE *out, int argc, char **argv);
	/* "ha primary|backup|fault|status": replication's role (sync.h) */
	int (*ha)(void *arg, FILE *out, const char *word);
	/* "list --external": the replication peer's flows (sync.h) */
	int (*list_external)(void *arg, FILE *out);
};

/*
 * nfqct_ctl_listen - bind and listen on DIR/nfqct.sock, mode 0600,
 * non-blocking and close-on-exec.  A stale socket (nobody answers) is
 * removed first.  Returns the listening fd, -EADDRINUSE when another
 * process answers on the socket (another daemon with the same stat
 * directory), -ENAMETOOLONG, or another -errno, with a message in @err.
 */
int nfqct_ctl_listen(const char *dir, char *err, size_t errlen);

/*
 * nfqct_ctl_close - close @listen_fd and remove DIR/nfqct.sock, so that a
 * client gets "cannot connect" instead of waiting on a dead socket.
 */
void nfqct_ctl_close(int listen_fd, const char *dir);

/*
 * nfqct_ctl_serve_one - accept one client on @listen_fd (returns 0 at once
 * when none is waiting), read its command, run it through @ops with
 * @arg, send the reply, close.  Never blocks longer than the timeouts
 * above.  Returns 0, or -errno with a message in @err when something
 * went wrong with that client (a slow or vanished client, no memory):
 * nothing the server must act on.
 */
int nfqct_ctl_serve_one(int listen_fd, const struct nfqct_ctl_ops *ops, void *arg, char *err,
			size_t errlen);

/*
 * nfqct_ctl_run - the server's dispatch of one request: split @line (the
 * command without its '\n'; changed in place) into words and run it
 * through @ops with @arg, writing its output or its error messages to
 * @out.  @client_fd goes to ops->upgrade.  Returns 0 ("ok") or -1
 * ("error").  No I/O but @out and what @ops do: the fuzz target calls it.
 */
int nfqct_ctl_run(char *line, const struct nfqct_ctl_ops *ops, void *arg, FILE *out, int client_fd);

/* nfqct_ctl_serve_one_timeout - the same with a chosen timeout (tests). */
int nfqct_ctl_serve_one_timeout(int listen_fd, const struct nfqct_ctl_ops *ops, void *arg,
				int timeout_ms, char *err, size_t errlen);

/*
 * nfqct_ctl_request - the client side: send @cmd to the daemon of stat
 * directory @dir and copy the reply's body to @out ("ok") or @err
 * ("error").  Returns 0 (ok), 1 (the command failed) or 2 (the daemon
 * cannot be reached or the reply is malformed; a message saying so, and
 * how to fix it, goes to @err).  Waits up to NFQCT_CTL_CLIENT_TIMEOUT_MS
 * without progress for the daemon.
 */
#define NFQCT_CTL_CLIENT_TIMEOUT_MS 30000
int nfqct_ctl_request(const char *dir, const char *cmd, FILE *out, FILE *err);

#endif
