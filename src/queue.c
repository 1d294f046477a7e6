/*
 * queue.c - one NFQUEUE queue over libmnl: configure, receive in batches,
 * answer in order and in batches.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfqct/queue.h"

/* Room for a packet message's attributes besides the payload. */
#define NFQCT_MSG_OVERHEAD 1024

/* Config and single verdict messages are a few dozen bytes. */
#define NFQCT_CFG_MSG_SIZE 512

struct verdict_run {
	bool open;
	uint8_t verdict;	/* NF_ACCEPT, NF_DROP, NF_REPEAT */
	bool set_mark;
	uint32_t mark;
	uint32_t last_id;
	uint32_t packets;
};

struct nfqct_queue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	struct nfqct_queue_stats *st;

	/* receive: one buffer per message of a recvmmsg() batch */
	unsigned int max_batch;
	size_t msg_size;
	char *rx_bufs;
	struct mmsghdr *mmsg;
	struct iovec *iov;

	/* send: verdict messages of the current batch */
	char *tx_buf;
	size_t tx_limit;
	struct mnl_nlmsg_batch *tx;
	unsigned int tx_msgs;
	struct verdict_run run;

	/* The first problem since nfqct_queue_take_error(), and how many since:
	 * the worker says them, at its own rate. */
	char err[160];
	unsigned int nerr;
};

/* Note a problem for nfqct_queue_take_error(); the first one is kept. */
static void __attribute__((format(printf, 2, 3))) note_error(struct nfqct_queue *q, const char *fmt, ...)
{
	va_list ap;

	if (q->nerr++ == 0) {
		va_start(ap, fmt);
		vsnprintf(q->err, sizeof(q->err), fmt, ap);
		va_end(ap);
	}
}

static void put_flags(struct nlmsghdr *nlh, const struct nfqct_settings *s)
{
	uint32_t flags = 0;
	/* Both flags in one attribute with their mask: the kernel takes the last
	 * NFQA_CFG_FLAGS it sees, so two attributes would leave one in force. */
	uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_UID_GID;

	/* NFQA_UID / NFQA_GID of the sending socket, for -m owner (Linux 3.16) */
	flags |= NFQA_CFG_F_UID_GID;
	if (s->gso)
		flags |= NFQA_CFG_F_GSO;
	if (s->fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
}

/* A packet that arrived before the configuration was acknowledged: ask the
 * kernel to run its hook again (NF_REPEAT), which queues it anew, so it gets
 * the ruleset like every other packet instead of a blind verdict. */
static void repeat_early_packet(struct nfqct_queue *q, const struct nlmsghdr *pkt_nlh)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	char buf[NFQCT_CFG_MSG_SIZE] = { 0 };	/* libmnl leaves attribute padding unset */
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *nlh;

	if (nfq_nlmsg_parse(pkt_nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)ntohl(ph->packet_id), NF_REPEAT);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		NFQCT_STAT_INC(q->st->tx_errors);
}

/* Send one config message with NLM_F_ACK and wait for its acknowledgement. */
static int config_and_ack(struct nfqct_queue *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE + NFQCT_MSG_OVERHEAD + 65536];
	uint32_t seq = (uint32_t)time(NULL);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (int tries = 0; tries < 1024; tries++) {
		ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return -errno;
		}
		for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == seq) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

				return e->error;	/* 0 is the acknowledgement */
			}
			if (NFNL_MSG_TYPE(m->nlmsg_type) == NFQNL_MSG_PACKET)
				repeat_early_packet(q, m);
		}
	}
	return -ETIMEDOUT;
}

/* queue_free - release whatever @q holds, however far its opening got. */
static void queue_free(struct nfqct_queue *q)
{
	if (q->nl)
		mnl_socket_close(q->nl);
	if (q->tx)
		mnl_nlmsg_batch_stop(q->tx);
	free(q->tx_buf);
	free(q->iov);
	free(q->mmsg);
	free(q->rx_bufs);
	free(q);
}

/* queue_alloc - @q and its buffers, no socket yet.  NULL with errno and @err set. */
static struct nfqct_queue *queue_alloc(uint16_t num, const struct nfqct_settings *s,
				       struct nfqct_queue_stats *st, char *err, size_t errlen)
{
	struct nfqct_queue *q;

	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "queue %u: out of memory", num);
		return NULL;
	}
	q->num = num;
	q->st = st;
	__atomic_store_n(&st->queue, num, __ATOMIC_RELAXED);	/* constant; kept across an upgrade */

	q->max_batch = s->batch;
	q->msg_size = s->copy_range + NFQCT_MSG_OVERHEAD;
	q->rx_bufs = malloc(q->max_batch * q->msg_size);
	q->mmsg = calloc(q->max_batch, sizeof(*q->mmsg));
	q->iov = calloc(q->max_batch, sizeof(*q->iov));
	/* Each verdict message is under 64 bytes; libmnl wants twice the limit. */
	q->tx_limit = (size_t)q->max_batch * 64 + MNL_SOCKET_BUFFER_SIZE;
	q->tx_buf = malloc(q->tx_limit * 2);
	if (!q->rx_bufs || !q->mmsg || !q->iov || !q->tx_buf) {
		snprintf(err, errlen, "queue %u: out of memory", num);
		queue_free(q);
		errno = ENOMEM;
		return NULL;
	}
	/* One buffer per message; the kernel only writes msg_len and msg_flags,
	 * so the headers are set once here, not per receive. */
	for (unsigned int i = 0; i < q->max_batch; i++) {
		q->iov[i].iov_base = q->rx_bufs + (size_t)i * q->msg_size;
		q->iov[i].iov_len = q->msg_size;
		q->mmsg[i].msg_hdr.msg_iov = &q->iov[i];
		q->mmsg[i].msg_hdr.msg_iovlen = 1;
	}
	q->tx = mnl_nlmsg_batch_start(q->tx_buf, q->tx_limit);
	if (!q->tx) {
		snprintf(err, errlen, "queue %u: out of memory", num);
		queue_free(q);
		errno = ENOMEM;
		return NULL;
	}
	return q;
}

struct nfqct_queue *nfqct_queue_open(uint16_t num, const struct nfqct_settings *s,
				     struct nfqct_queue_stats *st, char *err, size_t errlen)
{
	char buf[NFQCT_CFG_MSG_SIZE] = { 0 };	/* libmnl leaves attribute padding unset */
	struct nfqct_queue *q;
	struct nlmsghdr *nlh;
	int rcvbuf = (int)s->rcvbuf;
	int ret;

	q = queue_alloc(num, s, st, err, errlen);
	if (!q)
		return NULL;
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl) {
		snprintf(err, errlen, "queue %u: netlink socket: %s", num, strerror(errno));
		goto err_free;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "queue %u: netlink bind: %s", num, strerror(errno));
		goto err_free;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	/* SO_RCVBUFFORCE passes rmem_max when we are privileged; fall back otherwise. */
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		note_error(q, "cannot set the receive buffer to %d bytes: %s", rcvbuf, strerror(errno));

	/* One config message: bind, copy mode and range, queue length, flags. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)s->copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, s->queue_maxlen);
	put_flags(nlh, s);
	ret = config_and_ack(q, nlh);
	if (ret < 0) {
		snprintf(err, errlen, "queue %u: configure: %s%s", num, strerror(-ret),
			 ret == -EBUSY ? " (another program has bound this queue)" :
			 ret == -EPERM ? " (need CAP_NET_ADMIN; or another process has bound this queue)" : "");
		errno = -ret;
		goto err_free;
	}
	return q;

err_free:
	ret = errno;
	queue_free(q);
	errno = ret;
	return NULL;
}

struct nfqct_queue *nfqct_queue_adopt(int fd, uint16_t num, const struct nfqct_settings *s,
				      struct nfqct_queue_stats *st, char *err, size_t errlen)
{
	struct nfqct_queue *q;
	int ret;

	q = queue_alloc(num, s, st, err, errlen);
	if (!q)
		return NULL;
	/* Bound and configured by the image we replace: the kernel keeps the
	 * queue with its packets as long as this socket lives, so nothing is
	 * sent here (a config message would reset nothing we want reset). */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "queue %u: handed-over socket %d: %s", num, fd, strerror(errno));
		goto err_free;
	}
	q->nl = mnl_socket_fdopen(fd);
	if (!q->nl) {
		snprintf(err, errlen, "queue %u: handed-over socket %d: %s", num, fd, strerror(errno));
		goto err_free;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	return q;

err_free:
	ret = errno;
	queue_free(q);
	errno = ret;
	return NULL;
}

int nfqct_queue_close(struct nfqct_queue *q)
{
	char buf[NFQCT_CFG_MSG_SIZE] = { 0 };	/* libmnl leaves attribute padding unset */
	struct nlmsghdr *nlh;
	int ret = 0;

	if (!q)
		return 0;
	/* Unbinding explicitly makes the kernel forget the queue now rather than
	 * when the socket is released. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		ret = -errno;
	queue_free(q);
	return ret;
}

int nfqct_queue_stop_intake(struct nfqct_queue *q)
{
	char buf[NFQCT_CFG_MSG_SIZE] = { 0 };	/* libmnl leaves attribute padding unset */
	struct nlmsghdr *nlh;

	/* No ack requested: packets may be arriving on this socket, and the
	 * receive loop reports an error message if the kernel refuses. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 0);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

int nfqct_queue_fd(const struct nfqct_queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

static void rx_error(struct nfqct_queue *q, const char *what)
{
	NFQCT_STAT_INC(q->st->rx_errors);
	note_error(q, "%s", what);
}

const char *nfqct_queue_take_error(struct nfqct_queue *q, unsigned int *count)
{
	*count = q->nerr;
	q->nerr = 0;
	return *count ? q->err : NULL;
}

/* Fill @pkt from one packet message; false when it has no usable header. */
static bool packet_from_msg(const struct nlmsghdr *nlh, struct nfqct_pkt *pkt)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return false;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);

	memset(pkt, 0, sizeof(*pkt));
	pkt->id = ntohl(ph->packet_id);
	pkt->hw_protocol = ntohs(ph->hw_protocol);
	pkt->hook = ph->hook;
	if (attr[NFQA_PAYLOAD]) {
		pkt->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		pkt->caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	pkt->len = attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : pkt->caplen;
	if (attr[NFQA_MARK])
		pkt->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_IFINDEX_INDEV])
		pkt->indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_IFINDEX_OUTDEV])
		pkt->outdev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
	if (attr[NFQA_HWADDR] &&
	    mnl_attr_get_payload_len(attr[NFQA_HWADDR]) >= sizeof(struct nfqnl_msg_packet_hw)) {
		/* the link-layer source, for -m mac */
		const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
		unsigned int n = ntohs(hw->hw_addrlen);

		if (n <= sizeof(pkt->hwaddr)) {
			memcpy(pkt->hwaddr, hw->hw_addr, n);
			pkt->hwaddr_len = (uint8_t)n;
		}
	}
	if (attr[NFQA_UID] && attr[NFQA_GID]) {
		pkt->uid = ntohl(mnl_attr_get_u32(attr[NFQA_UID]));
		pkt->gid = ntohl(mnl_attr_get_u32(attr[NFQA_GID]));
		pkt->flags2 |= NFQCT_PKT_F2_UIDGID;
	}
	if (attr[NFQA_SKB_INFO]) {
		uint32_t info = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));

		if (info & NFQA_SKB_GSO)
			pkt->flags |= NFQCT_PKT_F_GSO;
		/* Without the attribute the kernel (or the NIC) verified the checksum:
		 * only an explicit "not verified" asks for our check (csum.h). */
		if (info & NFQA_SKB_CSUMNOTREADY)
			pkt->flags |= NFQCT_PKT_F_CSUM_NOTREADY;
		if (info & NFQA_SKB_CSUM_NOTVERIFIED)
			pkt->flags |= NFQCT_PKT_F_CSUM_NOTVERIFIED;
	}
	return true;
}

int nfqct_queue_recv(struct nfqct_queue *q, struct nfqct_pkt *pkts, unsigned int max, bool wait)
{
	unsigned int n = 0;
	int got;

	if (max > q->max_batch)
		max = q->max_batch;
	got = recvmmsg(nfqct_queue_fd(q), q->mmsg, max, wait ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
	if (got < 0) {
		int e = errno;

		if (e == ENOBUFS) {
			/* The kernel could not deliver some messages: those packets were
			 * dropped by it (user_dropped).  Count, and carry on. */
			NFQCT_STAT_INC(q->st->enobufs);
		} else if (e != EAGAIN && e != EINTR) {
			rx_error(q, strerror(e));
		}
		return -e;
	}
	NFQCT_STAT_INC(q->st->batches);

	for (int i = 0; i < got; i++) {
		const struct nlmsghdr *nlh = q->iov[i].iov_base;
		int len = (int)q->mmsg[i].msg_len;

		if (q->mmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
			rx_error(q, "message truncated: raise nfqct.copy_range overhead");
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				/* An error about one of our verdicts (e.g. ENOENT: unknown id). */
				if (e->error) {
					NFQCT_STAT_INC(q->st->tx_errors);
					note_error(q, "the kernel refused a verdict: %s",
						   strerror(-e->error));
				}
				continue;
			}
			if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET ||
			    !packet_from_msg(nlh, &pkts[n])) {
				rx_error(q, "unusable message from the kernel");
				continue;
			}
			NFQCT_STAT_INC(q->st->rx_packets);
			NFQCT_STAT_ADD(q->st->rx_bytes, pkts[n].len);
			if (++n == max)
				return (int)n;
		}
	}
	return (int)n;
}

static int send_batch(struct nfqct_queue *q)
{
	size_t size = mnl_nlmsg_batch_size(q->tx);
	int ret = 0;

	if (size == 0)
		return 0;
	while (mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(q->tx), size) < 0) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		NFQCT_STAT_INC(q->st->tx_errors);
		note_error(q, "sending %u verdict messages: %s", q->tx_msgs, strerror(-ret));
		break;
	}
	if (ret == 0)
		NFQCT_STAT_ADD(q->st->verdict_msgs, q->tx_msgs);
	q->tx_msgs = 0;
	return ret;
}

/* Close the current run: one batch verdict message for its last id. */
static int close_run(struct nfqct_queue *q)
{
	struct nlmsghdr *nlh;
	int ret = 0;

	if (!q->run.open)
		return 0;
	nlh = nfq_nlmsg_put(mnl_nlmsg_batch_current(q->tx), NFQNL_MSG_VERDICT_BATCH, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)q->run.last_id, q->run.verdict);
	if (q->run.set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, q->run.mark);
	q->tx_msgs++;
	if (!mnl_nlmsg_batch_next(q->tx)) {
		/* Full: send what came before this message, then keep it. */
		q->tx_msgs--;
		ret = send_batch(q);
		mnl_nlmsg_batch_reset(q->tx);
		q->tx_msgs = 1;
	}
	q->run.open = false;
	return ret;
}

void nfqct_queue_verdict_nf(struct nfqct_queue *q, const struct nfqct_pkt *pkt, unsigned int verdict,
			    bool set_mark, uint32_t mark)
{
	struct verdict_run *r = &q->run;

	if (verdict == NF_ACCEPT)
		NFQCT_STAT_INC(q->st->accepted);
	else if (verdict == NF_DROP)
		NFQCT_STAT_INC(q->st->dropped);
	else
		NFQCT_STAT_INC(q->st->rejected);
	if (r->open && r->verdict == verdict && r->set_mark == set_mark && (!set_mark || r->mark == mark)) {
		r->last_id = pkt->id;
		r->packets++;
		return;
	}
	close_run(q);
	r->open = true;
	r->verdict = (uint8_t)verdict;
	r->set_mark = set_mark;
	r->mark = mark;
	r->last_id = pkt->id;
	r->packets = 1;
}

void nfqct_queue_verdict(struct nfqct_queue *q, const struct nfqct_pkt *pkt, bool accept,
			 bool set_mark, uint32_t mark)
{
	nfqct_queue_verdict_nf(q, pkt, accept ? NF_ACCEPT : NF_DROP, set_mark, mark);
}

int nfqct_queue_flush(struct nfqct_queue *q)
{
	int ret = close_run(q);
	int ret2 = send_batch(q);

	mnl_nlmsg_batch_reset(q->tx);
	return ret ? ret : ret2;
}
