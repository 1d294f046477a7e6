/*
 * tcp_cps.c - short TCP connections per second, and request/response
 * latency, for `make bench`.
 *
 *	tcp_cps -S -l ADDR [-p PORT] [-t MAX_SECONDS]
 *	    server: accept; answer every byte received with one byte; after a
 *	    'c' byte, close (the server closes first, so TIME_WAIT stays on its
 *	    side and the client's ports are free again at once).
 *	tcp_cps -c ADDR [-a SRC[,SRC...]] [-p PORT] [-k CONCURRENT] [-t SECONDS]
 *	    connections: keep K connections in flight; each connects, sends 'c',
 *	    reads the 1-byte reply and closes.  -a: connection i binds to source
 *	    address i modulo the list's length (--queue-balance hashes addresses,
 *	    not ports, so only this spreads connections over queues).  Prints
 *	    "completed=N seconds=T cps=X errors=E".
 *	tcp_cps -R -c ADDR [-p PORT] [-t SECONDS]
 *	    latency: one connection, 1-byte ping-pong ('p') back to back for T
 *	    seconds.  Prints "rtts=N p50_us=X p99_us=Y".
 *
 * Defaults: port 9001, K 16, T 3 s.  Epoll, non-blocking, one thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC	1024
#define MAX_SRC		64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_addr(const char *s, unsigned int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

/* ---- server ---- */

/* Answer what a connection sent, byte for byte; close after a 'c' or at EOF. */
static void serve(int fd)
{
	for (;;) {
		char buf[256];
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r > 0) {
			bool last = memchr(buf, 'c', (size_t)r) != NULL;

			if (write(fd, buf, (size_t)r) != r || last)
				break;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		break;	/* EOF or error */
	}
	close(fd);	/* closing also removes it from the epoll set */
}

static int server(const struct sockaddr_storage *ss, socklen_t len, double max_s)
{
	struct epoll_event ev, events[256];
	int one = 1, lfd, ep;
	double start = now_s();

	lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (const struct sockaddr *)ss, len) < 0 || listen(lfd, 4096) < 0) {
		perror("tcp_cps: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop && now_s() - start < max_s) {
		int n = epoll_wait(ep, events, 256, 100);

		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			serve(fd);
		}
	}
	close(ep);
	close(lfd);
	return 0;
}

/* ---- connections per second ---- */

struct conn {
	int fd;
	int connected;
};

/* Source addresses for -a, used round-robin. */
static struct sockaddr_storage src[MAX_SRC];
static socklen_t srclen[MAX_SRC];
static unsigned int nsrc, next_src;

static int conn_start(int ep, struct conn *c, const struct sockaddr_storage *ss, socklen_t len)
{
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -errno;
	c->connected = 0;
	if (nsrc) {
		unsigned int i = next_src++ % nsrc;

		/* the port is chosen at connect(), per destination, not at bind() */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(c->fd, (const struct sockaddr *)&src[i], srclen[i]) < 0) {
			int e = errno;

			close(c->fd);
			c->fd = -1;
			return -e;
		}
	}
	if (connect(c->fd, (const struct sockaddr *)ss, len) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(c->fd);
		c->fd = -1;
		return -e;
	}
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	return 0;
}

static int client_cps(const struct sockaddr_storage *ss, socklen_t len, unsigned int conc, double secs)
{
	static struct conn conns[MAX_CONC];
	struct epoll_event events[MAX_CONC];
	unsigned long completed = 0, errors = 0;
	double t0, now;
	int ep = epoll_create1(0);

	t0 = now_s();
	for (unsigned int i = 0; i < conc; i++)
		if (conn_start(ep, &conns[i], ss, len) < 0)
			errors++;
	now = t0;
	while (!stop && now - t0 < secs) {
		int n = epoll_wait(ep, events, MAX_CONC, 100);

		now = now_s();
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			bool done = false, failed = false;

			if ((events[i].events & EPOLLERR) ||
			    ((events[i].events & EPOLLHUP) && !(events[i].events & EPOLLIN))) {
				failed = true;
			} else if (!c->connected && (events[i].events & EPOLLOUT)) {
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

				c->connected = 1;
				if (write(c->fd, "c", 1) != 1)
					failed = true;
				else
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			} else if (events[i].events & EPOLLIN) {
				char b;
				ssize_t r = read(c->fd, &b, 1);

				if (r == 1)
					done = true;
				else if (!(r < 0 && errno == EAGAIN))
					failed = true;
			}
			if (!done && !failed)
				continue;
			if (done)
				completed++;
			else
				errors++;
			close(c->fd);
			c->fd = -1;
			if (now - t0 < secs && conn_start(ep, c, ss, len) < 0)
				errors++;
		}
	}
	now = now_s();
	printf("completed=%lu seconds=%.3f cps=%.0f errors=%lu\n", completed, now - t0,
	       (double)completed / (now - t0), errors);
	for (unsigned int i = 0; i < conc; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	close(ep);
	return 0;
}

/* ---- latency ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int client_rr(const struct sockaddr_storage *ss, socklen_t len, double secs)
{
	size_t cap = 1 << 16, n = 0;
	uint64_t *rtt = malloc(cap * sizeof(*rtt)), start, end;
	int one = 1, fd;

	fd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (!rtt || fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		perror("tcp_cps: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	while (!stop) {
		uint64_t t0 = now_ns(), t1;
		char b;

		if (t0 >= end)
			break;
		if (write(fd, "p", 1) != 1 || read(fd, &b, 1) != 1) {
			perror("tcp_cps: ping-pong");
			break;
		}
		t1 = now_ns();
		if (n == cap) {
			uint64_t *more = realloc(rtt, 2 * cap * sizeof(*rtt));

			if (!more)
				break;
			rtt = more;
			cap *= 2;
		}
		rtt[n++] = t1 - t0;
	}
	close(fd);
	if (!n) {
		printf("rtts=0 p50_us=0 p99_us=0\n");
		free(rtt);
		return 1;
	}
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	printf("rtts=%zu p50_us=%.1f p99_us=%.1f\n", n, (double)rtt[(n - 1) / 2] / 1e3,
	       (double)rtt[(n - 1) * 99 / 100] / 1e3);
	free(rtt);
	return 0;
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	char *srcs = NULL, *save = NULL;
	unsigned int port = 9001, conc = 16;
	double secs = 3;
	int mode = 0, opt;	/* 'S' server, 'c' client (-R: latency) */
	bool rr = false;
	struct sockaddr_storage ss;
	socklen_t len;
	struct sigaction sa = { .sa_handler = on_signal };

	while ((opt = getopt(argc, argv, "Sl:c:Ra:p:k:t:h")) != -1) {
		switch (opt) {
		case 'S': mode = 'S'; break;
		case 'l': addr = optarg; break;
		case 'c': addr = optarg; if (!mode) mode = 'c'; break;
		case 'R': rr = true; break;
		case 'a': srcs = optarg; break;
		case 'p': port = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'k': conc = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 't': secs = strtod(optarg, NULL); break;
		default: goto usage;
		}
	}
	if (!mode || !addr || conc < 1 || conc > MAX_CONC || secs <= 0)
		goto usage;
	if (parse_addr(addr, port, &ss, &len) < 0) {
		fprintf(stderr, "tcp_cps: bad address '%s'\n", addr);
		return 2;
	}
	for (char *a = srcs ? strtok_r(srcs, ",", &save) : NULL; a && nsrc < MAX_SRC;
	     a = strtok_r(NULL, ",", &save), nsrc++) {
		if (parse_addr(a, 0, &src[nsrc], &srclen[nsrc]) < 0 ||
		    src[nsrc].ss_family != ss.ss_family) {
			fprintf(stderr, "tcp_cps: bad source address '%s'\n", a);
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mode == 'S')
		return server(&ss, len, secs);
	return rr ? client_rr(&ss, len, secs) : client_cps(&ss, len, conc, secs);

usage:
	fprintf(stderr, "usage: tcp_cps -S -l ADDR [-p PORT] [-t MAX_SECONDS]\n"
		"       tcp_cps -c ADDR [-a SRC[,SRC...]] [-p PORT] [-k CONCURRENT] [-t SECONDS]\n"
		"       tcp_cps -R -c ADDR [-p PORT] [-t SECONDS]\n");
	return 2;
}
