/*
 * udp_blast.c - send small UDP datagrams as fast as possible for a fixed
 * time, over N flows (one connected socket each, N distinct source ports).
 *
 *	udp_blast -d ADDR [-a SRC[,SRC...]] [-p PORT] [-n FLOWS] [-t SECONDS]
 *		  [-s BYTES] [-b BATCH] [-r PPS] [-e]
 *
 * -e counts the datagrams that come back on the flows' sockets (udp_sink
 * -e echoes them), read between sends and for 200 ms after the last.
 *
 * -a binds flow i to source address i modulo the list's length.  The
 * kernel's --queue-balance hashes addresses and protocol only, not ports:
 * flows reach different queues only from different addresses.
 *
 * Defaults: port 9000, 8 flows, 3 s, 18-byte payloads (a 64-byte Ethernet
 * frame over IPv4), batches of 32 datagrams per sendmmsg(), no rate limit
 * (-r paces to about PPS datagrams per second, in bursts of one batch per
 * flow).  Prints one line: "sent=N seconds=T pps=X errors=E" (with -e, then
 * " echoed=N echo_pps=Y": datagrams back over the sending time).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS	256
#define MAX_BATCH	256
#define MAX_SRC		64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A sockaddr for ADDR:PORT, IPv4 or IPv6 by its spelling. */
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

int main(int argc, char **argv)
{
	const char *dst = NULL;
	char *srcs = NULL, *save = NULL;
	struct sockaddr_storage src[MAX_SRC];
	socklen_t srclen[MAX_SRC];
	unsigned int nsrc = 0;
	unsigned int port = 9000, flows = 8, batch = 32, size = 18;
	double seconds = 3, rate = 0, t0, t1, now;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fds[MAX_FLOWS];
	static char payload[65536];
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov;
	unsigned long sent = 0, errors = 0, echoed = 0;
	int echo = 0;
	static char rbufs[MAX_BATCH][64];
	struct mmsghdr rmsgs[MAX_BATCH];
	struct iovec riov[MAX_BATCH];
	unsigned int i, f;
	int opt;

	while ((opt = getopt(argc, argv, "d:a:p:n:t:s:b:r:eh")) != -1) {
		switch (opt) {
		case 'd': dst = optarg; break;
		case 'a': srcs = optarg; break;
		case 'p': port = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'n': flows = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 's': size = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'b': batch = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'e': echo = 1; break;
		default: goto usage;
		}
	}
	if (!dst || flows < 1 || flows > MAX_FLOWS || batch < 1 || batch > MAX_BATCH ||
	    size > sizeof(payload) || seconds <= 0)
		goto usage;
	if (parse_addr(dst, port, &ss, &sslen) < 0) {
		fprintf(stderr, "udp_blast: bad address '%s'\n", dst);
		return 2;
	}
	for (char *a = srcs ? strtok_r(srcs, ",", &save) : NULL; a && nsrc < MAX_SRC;
	     a = strtok_r(NULL, ",", &save), nsrc++) {
		if (parse_addr(a, 0, &src[nsrc], &srclen[nsrc]) < 0 ||
		    src[nsrc].ss_family != ss.ss_family) {
			fprintf(stderr, "udp_blast: bad source address '%s'\n", a);
			return 2;
		}
	}
	for (f = 0; f < flows; f++) {
		fds[f] = socket(ss.ss_family, SOCK_DGRAM, 0);
		if (fds[f] >= 0 && nsrc &&
		    bind(fds[f], (struct sockaddr *)&src[f % nsrc], srclen[f % nsrc]) < 0) {
			perror("udp_blast: bind");
			return 1;
		}
		if (fds[f] < 0 || connect(fds[f], (struct sockaddr *)&ss, sslen) < 0) {
			perror("udp_blast: socket");
			return 1;
		}
	}
	memset(payload, 'x', size);
	iov.iov_base = payload;
	iov.iov_len = size;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	memset(rmsgs, 0, sizeof(rmsgs));
	for (i = 0; i < MAX_BATCH; i++) {
		riov[i].iov_base = rbufs[i];
		riov[i].iov_len = sizeof(rbufs[i]);
		rmsgs[i].msg_hdr.msg_iov = &riov[i];
		rmsgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = now_s();
	now = t0;
	while (now - t0 < seconds) {
		for (f = 0; f < flows; f++) {
			int n = sendmmsg(fds[f], msgs, batch, 0);

			if (n < 0)
				errors++;	/* ENOBUFS and the like: the sender's own limit */
			else
				sent += (unsigned long)n;
			while (echo && (n = recvmmsg(fds[f], rmsgs, MAX_BATCH, MSG_DONTWAIT, NULL)) > 0)
				echoed += (unsigned long)n;
		}
		now = now_s();
		if (rate > 0 && (double)sent / rate > now - t0) {
			/* ahead of the pace: sleep until the datagrams sent are due */
			double ahead = (double)sent / rate - (now - t0);
			struct timespec ts = { .tv_sec = (time_t)ahead,
					       .tv_nsec = (long)((ahead - (double)(time_t)ahead) * 1e9) };

			nanosleep(&ts, NULL);
			now = now_s();
		}
	}
	t1 = now;
	/* the echoes still on their way */
	while (echo && now_s() - t1 < 0.2) {
		for (f = 0; f < flows; f++) {
			int n;

			while ((n = recvmmsg(fds[f], rmsgs, MAX_BATCH, MSG_DONTWAIT, NULL)) > 0)
				echoed += (unsigned long)n;
		}
		usleep(1000);
	}
	printf("sent=%lu seconds=%.3f pps=%.0f errors=%lu", sent, t1 - t0, (double)sent / (t1 - t0),
	       errors);
	if (echo)
		printf(" echoed=%lu echo_pps=%.0f", echoed, (double)echoed / (t1 - t0));
	putchar('\n');
	for (f = 0; f < flows; f++)
		close(fds[f]);
	return 0;

usage:
	fprintf(stderr, "usage: udp_blast -d ADDR [-a SRC[,SRC...]] [-p PORT] [-n FLOWS] "
		"[-t SECONDS] [-s BYTES] [-b BATCH] [-r PPS] [-e]\n");
	return 2;
}
