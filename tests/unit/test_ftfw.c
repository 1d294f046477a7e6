/*
 * test_ftfw.c - the FTFW and NOTRACK engines between two ends, A (the
 * primary, sending) and B (the backup), over a channel that loses the
 * datagrams a test tells it to, with a fake clock: acknowledgement
 * windows, NACK and resend after a jump, a lost last message found by the
 * next ALIVE, replays dropped, the hello handshake, RESYNC, the resend
 * queue's overflow, NOTRACK's fire and forget, the sequence wrap, and a
 * long lossy run that must converge to every flow delivered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "nfqct/ftfw.h"
#include "nfqct/proto_tcp.h"

#include "unit.h"

#define MAXQ 4096
#define NFLOWS 2000

struct dgram {
	uint8_t b[1500];
	size_t len;
};

/* One direction of the channel: datagrams in flight, and which to lose. */
struct pipe {
	struct dgram q[MAXQ];
	unsigned int n;
	uint64_t sent;			/* datagrams offered so far */
	const uint64_t *drop;		/* numbers (from 1) of the datagrams to lose */
	unsigned int ndrop;
	unsigned int loss_pct;		/* random loss, deterministic */
	uint32_t rng;
	uint64_t lost;
	uint8_t last_flags;		/* flags of the first message of the last datagram */
};

/* One end: its engine and what it was given. */
struct end {
	struct nfqct_ftfw *e;
	struct pipe *out;
	unsigned int applied[NFLOWS];	/* per flow id (source port): times applied */
	uint8_t last_type[NFLOWS];
	unsigned int resyncs;
	unsigned int applies;
	bool gone[NFLOWS];		/* current(): the table no longer holds it */
};

static uint32_t rnd(struct pipe *p)
{
	p->rng = p->rng * 1103515245u + 12345u;
	return p->rng >> 16;
}

static int xmit(void *arg, const uint8_t *buf, size_t len)
{
	struct end *me = arg;
	struct pipe *p = me->out;

	p->sent++;
	p->last_flags = buf[1];
	for (unsigned int i = 0; i < p->ndrop; i++)
		if (p->drop[i] == p->sent) {
			p->lost++;
			return 0;
		}
	if (p->loss_pct && rnd(p) % 100 < p->loss_pct) {
		p->lost++;
		return 0;
	}
	CU_ASSERT_FATAL(p->n < MAXQ && len <= sizeof(p->q[0].b));
	memcpy(p->q[p->n].b, buf, len);
	p->q[p->n].len = len;
	p->n++;
	return 0;
}

static void apply(void *arg, uint8_t type, const struct nfqct_sync_flow *f)
{
	struct end *me = arg;
	unsigned int id = ntohs(f->tuple.sp.port);

	CU_ASSERT_FATAL(id < NFLOWS);
	me->applied[id]++;
	me->last_type[id] = type;
	me->applies++;
}

static void resync(void *arg)
{
	((struct end *)arg)->resyncs++;
}

static bool current(void *arg, struct nfqct_sync_flow *f, uint8_t *type)
{
	struct end *me = arg;

	if (me->gone[ntohs(f->tuple.sp.port)])
		*type = NFQCT_SYNC_T_DESTROY;
	return true;
}

static const struct nfqct_ftfw_ops ops = {
	.xmit = xmit, .apply = apply, .resync = resync, .current = current,
};

static struct pipe ab, ba;
static struct end A, B;

static void setup(unsigned int mode, uint32_t window, uint32_t rs_max, uint32_t mtu, uint32_t seq_a)
{
	struct nfqct_ftfw_cfg c = {
		.mode = mode, .window = window, .resend_max = rs_max, .alive_ms = 1000, .mtu = mtu,
		.first_seq = seq_a,
	};

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	ab.rng = 1, ba.rng = 2;
	A.out = &ab, B.out = &ba;
	CU_ASSERT_FATAL(nfqct_ftfw_create(&c, &ops, &A, &A.e) == 0);
	c.first_seq = 500000;
	CU_ASSERT_FATAL(nfqct_ftfw_create(&c, &ops, &B, &B.e) == 0);
}

static void teardown(void)
{
	nfqct_ftfw_destroy(A.e);
	nfqct_ftfw_destroy(B.e);
}

/* Deliver what is in flight on @p to @to. */
static void deliver(struct pipe *p, struct end *to, uint64_t now)
{
	static struct dgram q[MAXQ];
	unsigned int n = p->n;

	memcpy(q, p->q, n * sizeof(q[0]));
	p->n = 0;
	for (unsigned int i = 0; i < n; i++)
		nfqct_ftfw_input(to->e, q[i].b, q[i].len, now);
}

static struct nfqct_sync_flow flow(unsigned int id)
{
	struct nfqct_sync_flow f;

	memset(&f, 0, sizeof(f));
	f.tuple.family = AF_INET;
	f.tuple.proto = IPPROTO_TCP;
	f.tuple.src.ip = htonl(0xc6120001);
	f.tuple.dst.ip = htonl(0xc6120102);
	f.tuple.sp.port = htons((uint16_t)id);
	f.tuple.dp.port = htons(80);
	f.have = NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT | NFQCT_SYNC_HAVE_TCP;
	f.status = NFQCT_IPS_CONFIRMED | NFQCT_IPS_SEEN_REPLY;
	f.tcp_state = NFQCT_TCP_ESTABLISHED;
	f.timeout_s = 120;
	return f;
}

/* A sends flows [first, last], one datagram each. */
static void send_each(unsigned int first, unsigned int last, uint64_t now)
{
	for (unsigned int id = first; id <= last; id++) {
		struct nfqct_sync_flow f = flow(id);

		CU_ASSERT_EQUAL(nfqct_ftfw_send(A.e, NFQCT_SYNC_T_NEW, &f, now), 0);
		CU_ASSERT_EQUAL(nfqct_ftfw_flush(A.e, now), 0);
	}
}

static struct nfqct_ftfw_stats stats(const struct end *x)
{
	struct nfqct_ftfw_stats s;

	nfqct_ftfw_stats(x->e, &s);
	return s;
}

/* The hello exchange conntrackd starts with: A's HELLO, B's HELLO_BACK and
 * HELLO; A's HELLO_BACK rides on A's next message. */
static void handshake(void)
{
	nfqct_ftfw_tick(A.e, 0);
	deliver(&ab, &B, 0);
	nfqct_ftfw_tick(B.e, 0);
	deliver(&ba, &A, 0);
	CU_ASSERT(stats(&A).hello_done);
}

static void test_in_order_window(void)
{
	setup(NFQCT_SYNC_MODE_FTFW, 2, 64, 1400, 100);
	handshake();			/* B answered A's ALIVE 100 with ACK [100, 100] */
	CU_ASSERT_EQUAL(stats(&B).ack_sent, 1);
	CU_ASSERT_EQUAL(stats(&B).alive_sent, 0);
	send_each(1, 3, 0);		/* 101 .. 103 */
	CU_ASSERT_EQUAL(stats(&A).rs_len, 3);
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applies, 3);
	CU_ASSERT_EQUAL(stats(&B).ack_sent, 2);		/* [101, 102] */
	deliver(&ba, &A, 0);
	CU_ASSERT_EQUAL(stats(&A).ack_recv, 2);
	/* 103 awaits its ACK, and so does A's own ACK of B's two messages */
	CU_ASSERT_EQUAL(stats(&A).ack_sent, 1);
	CU_ASSERT_EQUAL(stats(&A).rs_len, 2);
	/* B idle for alive_ms: the pending ACK goes instead of ALIVE */
	nfqct_ftfw_tick(B.e, 999);
	CU_ASSERT_EQUAL(stats(&B).ack_sent, 2);
	nfqct_ftfw_tick(B.e, 1000);
	CU_ASSERT_EQUAL(stats(&B).ack_sent, 3);
	CU_ASSERT_EQUAL(stats(&B).alive_sent, 0);
	deliver(&ba, &A, 1000);
	CU_ASSERT_EQUAL(stats(&A).rs_len, 1);		/* A's ACK: B has not seen it */
	CU_ASSERT_EQUAL(stats(&A).lost, 0);
	CU_ASSERT_EQUAL(stats(&B).lost, 0);
	/* B's ACKs wait in B's resend queue for A's acknowledgement */
	CU_ASSERT_EQUAL(stats(&B).rs_len, 3);
	teardown();
}

static void test_nack_resend(void)
{
	static const uint64_t drop[] = { 4, 5 };	/* datagram 1 is the handshake's */

	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	handshake();
	ab.drop = drop, ab.ndrop = 2;
	send_each(1, 10, 0);
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applies, 8);
	CU_ASSERT_EQUAL(B.applied[3], 0);
	CU_ASSERT_EQUAL(B.applied[4], 0);
	CU_ASSERT_EQUAL(stats(&B).lost, 2);
	CU_ASSERT_EQUAL(stats(&B).ack_sent, 2);		/* the handshake's, [101, 102] */
	CU_ASSERT_EQUAL(stats(&B).nack_sent, 1);	/* [103, 104] */
	deliver(&ba, &A, 0);
	CU_ASSERT_EQUAL(stats(&A).nack_recv, 1);
	CU_ASSERT_EQUAL(stats(&A).resent, 2);
	nfqct_ftfw_flush(A.e, 0);
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applied[3], 1);
	CU_ASSERT_EQUAL(B.applied[4], 1);
	CU_ASSERT_EQUAL(B.applies, 10);
	CU_ASSERT_EQUAL(stats(&B).lost, 2);		/* the resent come in order */
	teardown();
}

/* The last message lost: nothing follows it until A's ALIVE shows the jump. */
static void test_lost_last(void)
{
	static const uint64_t drop[] = { 6 };

	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	handshake();
	ab.drop = drop, ab.ndrop = 1;
	send_each(1, 5, 0);
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applies, 4);
	nfqct_ftfw_tick(A.e, 500);
	CU_ASSERT_EQUAL(stats(&A).msg_sent, 6);		/* the handshake's ALIVE, 5 flows */
	nfqct_ftfw_tick(A.e, 1000);			/* idle: ACK of B's handshake ACK */
	CU_ASSERT_EQUAL(stats(&A).msg_sent, 7);
	CU_ASSERT_EQUAL(stats(&A).ack_sent, 1);
	deliver(&ab, &B, 1000);
	CU_ASSERT_EQUAL(stats(&B).lost, 1);
	CU_ASSERT_EQUAL(stats(&B).ack_recv, 1);
	CU_ASSERT_EQUAL(stats(&B).nack_sent, 1);
	deliver(&ba, &A, 1000);
	nfqct_ftfw_flush(A.e, 1000);
	deliver(&ab, &B, 1000);
	CU_ASSERT_EQUAL(B.applied[5], 1);
	CU_ASSERT_EQUAL(B.applies, 5);
	teardown();
}

static void test_replay_dropped(void)
{
	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	handshake();
	send_each(1, 2, 0);
	CU_ASSERT_EQUAL(ab.n, 2);
	ab.q[2] = ab.q[0];		/* the first datagram again, after the second */
	ab.n = 3;
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applied[1], 1);
	CU_ASSERT_EQUAL(stats(&B).before, 1);
	CU_ASSERT_EQUAL(stats(&B).lost, 0);
	teardown();
}

static void test_hello(void)
{
	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	send_each(1, 1, 0);
	CU_ASSERT(ab.last_flags & NFQCT_SYNC_F_HELLO);
	deliver(&ab, &B, 0);
	nfqct_ftfw_tick(B.e, 1000);		/* B's next message answers */
	CU_ASSERT(ba.last_flags & NFQCT_SYNC_F_HELLO_BACK);
	deliver(&ba, &A, 1000);
	CU_ASSERT(stats(&A).hello_done);
	send_each(2, 2, 1000);
	CU_ASSERT_EQUAL(ab.last_flags & NFQCT_SYNC_F_HELLO, 0);
	/* B restarts: its numbering starts over, A takes its HELLO as in order */
	nfqct_ftfw_destroy(B.e);
	{
		struct nfqct_ftfw_cfg c = { .mode = NFQCT_SYNC_MODE_FTFW, .window = 100, .resend_max = 64,
					    .alive_ms = 1000, .mtu = 1400, .first_seq = 7 };

		CU_ASSERT_FATAL(nfqct_ftfw_create(&c, &ops, &B, &B.e) == 0);
	}
	nfqct_ftfw_request_resync(B.e, 2000);
	deliver(&ba, &A, 2000);
	CU_ASSERT_EQUAL(A.resyncs, 1);
	CU_ASSERT_EQUAL(stats(&A).before, 0);
	CU_ASSERT_EQUAL(stats(&A).lost, 0);
	teardown();
}

static void test_resync_request(void)
{
	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	handshake();
	CU_ASSERT_EQUAL(nfqct_ftfw_request_resync(B.e, 0), 0);
	CU_ASSERT_EQUAL(stats(&B).resync_sent, 1);
	deliver(&ba, &A, 0);
	CU_ASSERT_EQUAL(A.resyncs, 1);
	CU_ASSERT_EQUAL(stats(&A).resync_recv, 1);
	teardown();
}

static void test_rs_overflow(void)
{
	setup(NFQCT_SYNC_MODE_FTFW, 100, 4, 1400, 100);
	handshake();
	send_each(1, 6, 0);
	CU_ASSERT_EQUAL(stats(&A).rs_len, 4);
	CU_ASSERT_EQUAL(stats(&A).rs_overflow, 2);
	teardown();
}

/* An ACK of the middle of the queue frees that range only; a NACK of a freed range sends nothing. */
static void test_ack_middle(void)
{
	uint8_t d[64];
	size_t len = 0;

	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	handshake();
	send_each(1, 10, 0);			/* 101 .. 110 */
	ab.n = 0;
	CU_ASSERT_EQUAL(stats(&A).rs_len, 10);
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(d, sizeof(d), &len, NFQCT_SYNC_F_ACK, 500001, 104, 106), 0);
	nfqct_ftfw_input(A.e, d, len, 0);
	CU_ASSERT_EQUAL(stats(&A).ack_recv, 2);	/* the handshake's, this one */
	CU_ASSERT_EQUAL(stats(&A).rs_len, 7);
	len = 0;
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(d, sizeof(d), &len, NFQCT_SYNC_F_NACK, 500002, 104, 106), 0);
	nfqct_ftfw_input(A.e, d, len, 0);
	CU_ASSERT_EQUAL(stats(&A).resent, 0);
	len = 0;
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(d, sizeof(d), &len, NFQCT_SYNC_F_NACK, 500003, 103, 107), 0);
	nfqct_ftfw_input(A.e, d, len, 0);
	CU_ASSERT_EQUAL(stats(&A).resent, 2);	/* 103 and 107 */
	CU_ASSERT_EQUAL(stats(&A).rs_len, 7);	/* moved, with new numbers */
	len = 0;
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(d, sizeof(d), &len, NFQCT_SYNC_F_ACK, 500004, 101, 200), 0);
	nfqct_ftfw_input(A.e, d, len, 0);
	CU_ASSERT_EQUAL(stats(&A).rs_len, 0);
	teardown();
}

/* A hello half the number space away starts the range to acknowledge afresh (fuzz_sync's find). */
static void test_hello_far(void)
{
	uint8_t d[64];
	size_t len = 0, off = 0;
	struct nfqct_sync_msg m;

	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	handshake();
	send_each(1, 1, 0);			/* 101: B's range starts there */
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(d, sizeof(d), &len, NFQCT_SYNC_F_ALIVE | NFQCT_SYNC_F_HELLO,
					   101 + 0x80000000u - 1, 0, 0), 0);
	nfqct_ftfw_input(B.e, d, len, 0);
	ba.n = 0;
	nfqct_ftfw_tick(B.e, 1000);
	CU_ASSERT_EQUAL_FATAL(ba.n, 1);
	CU_ASSERT_EQUAL(nfqct_sync_frame(ba.q[0].b, ba.q[0].len), 1);
	CU_ASSERT_EQUAL(nfqct_sync_decode(ba.q[0].b, ba.q[0].len, &off, &m), 0);
	CU_ASSERT(m.flags & NFQCT_SYNC_F_ACK);
	CU_ASSERT_EQUAL(m.from, 101 + 0x80000000u - 1);
	CU_ASSERT_EQUAL(m.to, 101 + 0x80000000u - 1);
	teardown();
}

/* Several flows share a datagram up to the MTU. */
static void test_batching(void)
{
	setup(NFQCT_SYNC_MODE_FTFW, 1000, 256, 200, 100);
	handshake();
	for (unsigned int id = 1; id <= 10; id++) {
		struct nfqct_sync_flow f = flow(id);

		CU_ASSERT_EQUAL(nfqct_ftfw_send(A.e, NFQCT_SYNC_T_NEW, &f, 0), 0);
	}
	nfqct_ftfw_flush(A.e, 0);
	/* 60 bytes a flow: three per 200-byte datagram */
	CU_ASSERT_EQUAL(ab.n, 4);
	CU_ASSERT_EQUAL(stats(&A).dgram_sent, 5);	/* the handshake's, 4 */
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applies, 10);
	teardown();
}

static void test_notrack(void)
{
	static const uint64_t drop[] = { 2 };

	setup(NFQCT_SYNC_MODE_NOTRACK, 2, 64, 1400, 100);
	ab.drop = drop, ab.ndrop = 1;
	send_each(1, 4, 0);
	CU_ASSERT_EQUAL(stats(&A).rs_len, 0);
	CU_ASSERT_EQUAL(ab.last_flags & NFQCT_SYNC_F_HELLO, 0);
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applies, 3);
	CU_ASSERT_EQUAL(stats(&B).lost, 1);
	CU_ASSERT_EQUAL(stats(&B).ack_sent, 0);
	CU_ASSERT_EQUAL(stats(&B).nack_sent, 0);
	CU_ASSERT_EQUAL(ba.n, 0);
	nfqct_ftfw_tick(B.e, 1000);
	CU_ASSERT_EQUAL(stats(&B).alive_sent, 1);
	teardown();
}

static void test_malformed(void)
{
	static const uint8_t junk[] = { 0x20, 0, 0, 8, 0, 0, 0, 1 };

	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	nfqct_ftfw_input(B.e, junk, sizeof(junk), 0);
	nfqct_ftfw_input(B.e, junk, 5, 0);
	CU_ASSERT_EQUAL(stats(&B).malformed, 2);
	CU_ASSERT_EQUAL(stats(&B).msg_recv, 0);
	CU_ASSERT_EQUAL(B.applies, 0);
	teardown();
}

/* A flow resent after it died goes as DESTROY (ops->current). */
static void test_resend_current(void)
{
	setup(NFQCT_SYNC_MODE_FTFW, 100, 64, 1400, 100);
	handshake();
	{
		static const uint64_t drop2[] = { 3 };

		ab.drop = drop2, ab.ndrop = 1;
	}
	send_each(1, 3, 0);
	A.gone[2] = true;
	deliver(&ab, &B, 0);
	deliver(&ba, &A, 0);
	nfqct_ftfw_flush(A.e, 0);
	deliver(&ab, &B, 0);
	CU_ASSERT_EQUAL(B.applied[2], 1);
	CU_ASSERT_EQUAL(B.last_type[2], NFQCT_SYNC_T_DESTROY);
	teardown();
}

/* Round ticks of the fake clock over a lossy channel both ways, until quiet. */
static void run_lossy(unsigned int mode, unsigned int pct, uint32_t seq_a)
{
	uint64_t now = 0;
	unsigned int missing = 0;

	setup(mode, 50, 8192, 1400, seq_a);
	if (mode == NFQCT_SYNC_MODE_FTFW)
		handshake();
	ab.loss_pct = pct, ba.loss_pct = pct;
	for (unsigned int id = 0; id < NFLOWS; id++) {
		struct nfqct_sync_flow f = flow(id);

		CU_ASSERT_EQUAL(nfqct_ftfw_send(A.e, NFQCT_SYNC_T_NEW, &f, now), 0);
		if (id % 20 == 19) {
			nfqct_ftfw_flush(A.e, now);
			deliver(&ab, &B, now);
			deliver(&ba, &A, now);
		}
	}
	nfqct_ftfw_flush(A.e, now);
	for (int round = 0; round < 400; round++) {
		now += 1000;
		nfqct_ftfw_tick(A.e, now);
		deliver(&ab, &B, now);
		nfqct_ftfw_tick(B.e, now);
		deliver(&ba, &A, now);
		nfqct_ftfw_flush(A.e, now);
		deliver(&ab, &B, now);
	}
	for (unsigned int id = 0; id < NFLOWS; id++)
		missing += B.applied[id] == 0;
	if (mode == NFQCT_SYNC_MODE_FTFW) {
		/* after the handshake every flow arrives, whatever was lost */
		CU_ASSERT_EQUAL(missing, 0);
		CU_ASSERT(stats(&B).lost > 0);
		CU_ASSERT(stats(&A).resent > 0);
		CU_ASSERT_EQUAL(stats(&B).bad, 0);
		CU_ASSERT_EQUAL(stats(&B).malformed, 0);
	} else {
		CU_ASSERT(missing > 0);
		CU_ASSERT_EQUAL(stats(&A).resent, 0);
	}
	teardown();
}

static void test_lossy_ftfw(void)
{
	run_lossy(NFQCT_SYNC_MODE_FTFW, 20, 100);
}

static void test_lossy_wrap(void)
{
	run_lossy(NFQCT_SYNC_MODE_FTFW, 10, 0xffffff00u);
}

static void test_lossy_notrack(void)
{
	run_lossy(NFQCT_SYNC_MODE_NOTRACK, 20, 100);
}

static void test_bad_cfg(void)
{
	struct nfqct_ftfw_cfg c = { .mode = NFQCT_SYNC_MODE_FTFW, .window = 0, .resend_max = 1,
				    .alive_ms = 1, .mtu = 1400 };
	struct nfqct_ftfw *e;

	CU_ASSERT_EQUAL(nfqct_ftfw_create(&c, &ops, NULL, &e), -EINVAL);
	c.window = 1, c.mtu = 10;
	CU_ASSERT_EQUAL(nfqct_ftfw_create(&c, &ops, NULL, &e), -EINVAL);
	c.mtu = 1400, c.mode = NFQCT_SYNC_MODE_OFF;
	CU_ASSERT_EQUAL(nfqct_ftfw_create(&c, &ops, NULL, &e), -EINVAL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "in order, ACK window, ACK on idle", test_in_order_window },
		{ "jump: ACK, NACK, resend", test_nack_resend },
		{ "lost last message found by ALIVE", test_lost_last },
		{ "replay dropped", test_replay_dropped },
		{ "hello handshake, peer restart", test_hello },
		{ "RESYNC request", test_resync_request },
		{ "resend queue overflow", test_rs_overflow },
		{ "several flows per datagram", test_batching },
		{ "ACK and NACK of the queue's middle", test_ack_middle },
		{ "a hello half the number space away", test_hello_far },
		{ "NOTRACK", test_notrack },
		{ "malformed datagrams", test_malformed },
		{ "resend sends the current state", test_resend_current },
		{ "lossy channel, FTFW converges", test_lossy_ftfw },
		{ "lossy channel across the sequence wrap", test_lossy_wrap },
		{ "lossy channel, NOTRACK loses", test_lossy_notrack },
		{ "bad configuration", test_bad_cfg },
	};

	return unit_main("ftfw", tests, UNIT_COUNT(tests));
}
