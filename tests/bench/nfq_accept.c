/*
 * nfq_accept.c - the smallest correct accept-all NFQUEUE consumer: the
 * "minimal" path of `make bench`, a floor for any queue consumer.
 *
 *	nfq_accept [-q QUEUE] [-r COPY_RANGE]
 *
 * One recv per packet, one NF_ACCEPT verdict message per packet, the
 * socket's default receive buffer and the kernel's default queue length.
 * It copies the same bytes nfqctd copies by default (512) and asks for GSO
 * super-packets as nfqctd does, so the two paths differ only in what the
 * consumer does per packet.  Runs until SIGTERM/SIGINT, then prints
 * "queue N: received R packets, enobufs E" on stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

struct consumer {
	struct mnl_socket *nl;
	uint16_t queue;
	unsigned long received;
	unsigned long enobufs;
	unsigned long send_errors;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One packet: answer it at once with its own verdict message. */
static int on_packet(const struct nlmsghdr *nlh, void *arg)
{
	struct consumer *c = arg;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	char buf[256];	/* header, nfgenmsg, one verdict attribute */
	struct nlmsghdr *v;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;	/* not a packet: nothing to answer */
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	c->received++;
	v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, c->queue);
	nfq_nlmsg_verdict_put(v, ntohl(ph->packet_id), NF_ACCEPT);
	if (mnl_socket_sendto(c->nl, v, v->nlmsg_len) < 0)
		c->send_errors++;	/* the packet stays queued; nothing better to do */
	return MNL_CB_OK;
}

/* Bind the queue and set copy mode, range and the GSO flag in one acknowledged
 * message; packets that arrive before the acknowledgement are answered too. */
static int bind_queue(struct consumer *c, uint32_t range)
{
	static char buf[1 << 17];
	struct nlmsghdr *nlh;
	unsigned int portid = mnl_socket_get_portid(c->nl);
	uint32_t seq = 1;
	int n, r;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->queue);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)range);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = (int)mnl_socket_recvfrom(c->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, on_packet, c);
	} while (r == MNL_CB_OK);
	return r == MNL_CB_STOP ? 0 : -errno;
}

int main(int argc, char **argv)
{
	struct consumer c = { .queue = 0 };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: recv returns */
	unsigned int portid;
	uint32_t range = 512;
	static char buf[1 << 17];	/* a whole 64 KiB packet and its headers */
	int opt, r;

	while ((opt = getopt(argc, argv, "q:r:h")) != -1) {
		switch (opt) {
		case 'q': c.queue = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'r': range = (uint32_t)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: nfq_accept [-q QUEUE] [-r COPY_RANGE]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	c.nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c.nl || mnl_socket_bind(c.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_accept: netlink socket");
		return 1;
	}
	portid = mnl_socket_get_portid(c.nl);
	r = bind_queue(&c, range);
	if (r < 0) {
		fprintf(stderr, "nfq_accept: queue %u: bind: %s\n", c.queue, strerror(-r));
		mnl_socket_close(c.nl);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		ssize_t n = mnl_socket_recvfrom(c.nl, buf, sizeof(buf));

		if (n < 0) {
			if (errno == ENOBUFS) {
				c.enobufs++;	/* the kernel dropped packets for us */
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("nfq_accept: recv");
			break;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, portid, on_packet, &c) < 0 && errno != ENOENT)
			fprintf(stderr, "nfq_accept: bad message: %s\n", strerror(errno));
	}
	/* Closing unbinds: the kernel drops what is still queued (there is
	 * nothing when traffic stopped first, as the benchmark does). */
	fprintf(stderr, "queue %u: received %lu packets, enobufs %lu, send errors %lu\n", c.queue,
		c.received, c.enobufs, c.send_errors);
	mnl_socket_close(c.nl);
	return 0;
}
