/*
 * udp_sink.c - count UDP datagrams received (recvmmsg), for udp_blast.
 *
 *	udp_sink -l ADDR [-p PORT] [-t MAX_SECONDS] [-i IDLE_MS] [-e]
 *
 * -e echoes every datagram back to its sender (sendmmsg), for a two-way
 * stream: the replies make each flow ESTABLISHED on the router.
 *
 * Counts from the first datagram to the last one; stops when nothing came
 * for IDLE_MS (default 500) after the first, after MAX_SECONDS (default
 * 30) or on SIGTERM.  The rate is the count over the time from the first
 * to the last datagram, so start-up and the idle tail do not dilute it.
 * Its own socket overruns (SO_RXQ_OVFL) are reported apart: they are the
 * sink's losses, not the router's.  Prints one line:
 * "received=N seconds=T pps=X sink_drops=D" (with -e, then " echoed=E").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64
#define DGRAM	2048

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

int main(int argc, char **argv)
{
	const char *addr = NULL;
	unsigned int port = 9000, idle_ms = 500;
	double max_s = 30, start, first = 0, last = 0, now;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	static char bufs[BATCH][DGRAM];
	static char cbufs[BATCH][CMSG_SPACE(sizeof(uint32_t))];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
	struct sigaction sa = { .sa_handler = on_signal };
	static struct sockaddr_storage names[BATCH];
	unsigned long received = 0, echoed = 0;
	bool echo = false;
	uint32_t ovfl = 0;
	int one = 1, rcvbuf = 32 << 20, fd, opt, i;

	while ((opt = getopt(argc, argv, "l:p:t:i:eh")) != -1) {
		switch (opt) {
		case 'l': addr = optarg; break;
		case 'p': port = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 't': max_s = strtod(optarg, NULL); break;
		case 'i': idle_ms = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'e': echo = true; break;
		default: goto usage;
		}
	}
	if (!addr)
		goto usage;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sslen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*a6);
	} else {
		fprintf(stderr, "udp_sink: bad address '%s'\n", addr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		perror("udp_sink: socket");
		return 1;
	}
	/* A large buffer (FORCE: we run as root) so the sink is rarely the limit. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = DGRAM;
	}

	start = now_s();
	while (!stop) {
		int n;

		for (i = 0; i < BATCH; i++) {
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = cbufs[i];
			msgs[i].msg_hdr.msg_controllen = sizeof(cbufs[i]);
			msgs[i].msg_hdr.msg_name = &names[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		now = now_s();
		if (n > 0) {
			if (!received)
				first = now;
			received += (unsigned long)n;
			last = now;
			if (echo) {
				/* back to each sender, as received (a full socket: lost, not waited for) */
				for (i = 0; i < n; i++) {
					iov[i].iov_len = msgs[i].msg_len;
					msgs[i].msg_hdr.msg_control = NULL;
					msgs[i].msg_hdr.msg_controllen = 0;
				}
				int m = sendmmsg(fd, msgs, (unsigned int)n, MSG_DONTWAIT);

				if (m > 0)
					echoed += (unsigned long)m;
				for (i = 0; i < n; i++)
					iov[i].iov_len = DGRAM;
			}
			/* The drop counter rides on each datagram; the last one is the newest. */
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[n - 1].msg_hdr); cm;
			     cm = CMSG_NXTHDR(&msgs[n - 1].msg_hdr, cm))
				if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
					memcpy(&ovfl, CMSG_DATA(cm), sizeof(ovfl));
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			perror("udp_sink: recvmmsg");
			return 1;
		}
		if (received && (now - last) * 1000 >= idle_ms)
			break;
		if (now - start >= max_s)
			break;
	}
	printf("received=%lu seconds=%.3f pps=%.0f sink_drops=%u", received, last - first,
	       last > first ? (double)received / (last - first) : 0.0, ovfl);
	if (echo)
		printf(" echoed=%lu", echoed);
	putchar('\n');
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: udp_sink -l ADDR [-p PORT] [-t MAX_SECONDS] [-i IDLE_MS]\n");
	return 2;
}
