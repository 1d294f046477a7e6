/*
 * test_proto_tcp.c - the TCP tracker against hand-built segments.
 *
 * Each test plays a flow packet by packet through a small stand-in for
 * the table (struct flow): it calls nfqct_tcp_new() then
 * nfqct_tcp_packet() for the first packet, keeps [SEEN_REPLY] and
 * [ASSURED] as the kernel's nf_conntrack_in() does (SEEN_REPLY set after
 * the tracker, for a reply it did not find INVALID) and checks the exact
 * verdict, state, set_assured and timeout of every packet.
 *
 * Client 10.0.0.1:40000 (ISN 1000) talks to server 10.0.0.2:80 (ISN 5000).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "nfqct/l4proto.h"
#include "nfqct/proto_tcp.h"

#include "unit.h"

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10
#define URG 0x20
#define ECE 0x40
#define CWR 0x80

#define ORIG false
#define REPLY true

enum { ACCEPT = NFQCT_L4_ACCEPT, INVALID = NFQCT_L4_INVALID, KILL = NFQCT_L4_KILL,
       REOPEN = NFQCT_L4_REOPEN, IGNORE = NFQCT_L4_IGNORE };

/* The kernel's defaults (nf_conntrack_proto_tcp.c), seconds. */
static void settings_kernel_defaults(struct nfqct_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->timeout[NFQCT_TO_TCP_SYN_SENT] = 120;
	s->timeout[NFQCT_TO_TCP_SYN_RECV] = 60;
	s->timeout[NFQCT_TO_TCP_ESTABLISHED] = 432000;
	s->timeout[NFQCT_TO_TCP_FIN_WAIT] = 120;
	s->timeout[NFQCT_TO_TCP_CLOSE_WAIT] = 60;
	s->timeout[NFQCT_TO_TCP_LAST_ACK] = 30;
	s->timeout[NFQCT_TO_TCP_TIME_WAIT] = 120;
	s->timeout[NFQCT_TO_TCP_CLOSE] = 10;
	s->timeout[NFQCT_TO_TCP_SYN_SENT2] = 120;
	s->timeout[NFQCT_TO_TCP_MAX_RETRANS] = 300;
	s->timeout[NFQCT_TO_TCP_UNACK] = 300;
	s->tcp_loose = 1;
	s->tcp_be_liberal = 0;
	s->tcp_max_retrans = 3;
	s->tcp_ignore_invalid_rst = 0;
}

/* ---- segment builder ---- */

struct seg {
	bool reply;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	const uint8_t *opt;	/* options, a multiple of 4 bytes */
	uint8_t optlen;
	uint32_t len;		/* payload bytes (counted by l4len, not present) */
	int caplen;		/* bytes present when > 0, else the whole header */
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* seg_build - a packet holding exactly the TCP header (malloc'd, so ASan sees over-reads). */
static uint8_t *seg_build(struct nfqct_pkt *pkt, const struct seg *g)
{
	uint32_t hdrlen = 20 + g->optlen;
	uint32_t cap = g->caplen > 0 ? (uint32_t)g->caplen : hdrlen;
	uint8_t *h = calloc(1, hdrlen);
	uint8_t *buf;
	uint16_t sport = g->reply ? 80 : 40000, dport = g->reply ? 40000 : 80;

	CU_ASSERT_FATAL(h != NULL);
	h[0] = (uint8_t)(sport >> 8);
	h[1] = (uint8_t)sport;
	h[2] = (uint8_t)(dport >> 8);
	h[3] = (uint8_t)dport;
	put_be32(h + 4, g->seq);
	put_be32(h + 8, g->ack);
	h[12] = (uint8_t)((hdrlen / 4) << 4);
	h[13] = g->flags;
	h[14] = (uint8_t)(g->win >> 8);
	h[15] = (uint8_t)g->win;
	if (g->optlen)
		memcpy(h + 20, g->opt, g->optlen);

	buf = malloc(cap);
	CU_ASSERT_FATAL(buf != NULL);
	memcpy(buf, h, cap);
	free(h);

	memset(pkt, 0, sizeof(*pkt));
	pkt->tuple.family = AF_INET;
	pkt->tuple.proto = IPPROTO_TCP;
	pkt->tuple.src.ip = htonl(g->reply ? 0x0a000002 : 0x0a000001);
	pkt->tuple.dst.ip = htonl(g->reply ? 0x0a000001 : 0x0a000002);
	pkt->tuple.sp.port = htons(sport);
	pkt->tuple.dp.port = htons(dport);
	pkt->l4 = buf;
	pkt->l4caplen = cap;
	pkt->l4len = hdrlen + g->len;
	pkt->l3hdrlen = 20;
	pkt->len = 20 + pkt->l4len;
	pkt->caplen = 20 + cap;
	return buf;
}

/* ---- a stand-in for the table ---- */

struct flow {
	struct nfqct_settings s;
	struct nfqct_tcp_state st;
	bool seen_reply, assured, gone;
};

static struct flow F;
static struct nfqct_l4_result V;

static void flow_init(void)
{
	memset(&F, 0, sizeof(F));
	settings_kernel_defaults(&F.s);
	memset(&V, 0, sizeof(V));
}

static void step_seg(const struct seg *g)
{
	struct nfqct_pkt pkt;
	uint8_t *buf = seg_build(&pkt, g);

	memset(&V, 0xa5, sizeof(V));	/* the tracker must fill all of it */
	nfqct_tcp_packet(&F.st, &pkt, g->reply, F.seen_reply, F.assured, &F.s, &V);
	free(buf);
	if (V.verdict == KILL || V.verdict == REOPEN)
		F.gone = true;
	if (V.verdict != INVALID && g->reply)
		F.seen_reply = true;
	if (V.set_assured)
		F.assured = true;
}

/* new_seg - the first packet of a flow: nfqct_tcp_new(), then the packet itself. */
static bool new_seg(const struct seg *g)
{
	struct nfqct_pkt pkt;
	uint8_t *buf = seg_build(&pkt, g);
	bool ok;

	memset(&F.st, 0x5a, sizeof(F.st));	/* new() must initialise all of it */
	ok = nfqct_tcp_new(&F.st, &pkt, &F.s);
	free(buf);
	if (ok) {
		CU_ASSERT_EQUAL(F.st.state, NFQCT_TCP_NONE);
		step_seg(g);
	}
	return ok;
}

static void step(bool reply, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t len)
{
	struct seg g = { .reply = reply, .flags = flags, .seq = seq, .ack = ack, .win = win, .len = len };

	step_seg(&g);
}

static bool new_flow(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t len)
{
	struct seg g = { .flags = flags, .seq = seq, .ack = ack, .win = win, .len = len };

	return new_seg(&g);
}

#define EXPECT(act, state_, assured_, timeout_) do {			\
	CU_ASSERT_EQUAL(V.verdict, (act));				\
	CU_ASSERT_EQUAL(F.st.state, (state_));				\
	CU_ASSERT_EQUAL(V.set_assured, (assured_));			\
	CU_ASSERT_EQUAL(V.timeout_s, (timeout_));			\
} while (0)

/* The reason string, NULL-safe (a wrong verdict must fail, not crash). */
#define EXPECT_REASON(str) do {						\
	CU_ASSERT_PTR_NOT_NULL(V.reason);				\
	if (V.reason)							\
		CU_ASSERT_STRING_EQUAL(V.reason, (str));		\
} while (0)

/* Anything but ACCEPT/KILL carries no timeout. */
#define EXPECT_NT(act, state_) EXPECT(act, state_, false, 0)

#define CWIN 64240
#define SWIN 65160

/* The plain three-way handshake, checked packet by packet. */
static void handshake(void)
{
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT, false, 120);
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	step(ORIG, ACK, 1001, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, true, 432000);
	CU_ASSERT_TRUE(F.assured);
	CU_ASSERT_TRUE(F.seen_reply);
}

/* ---- tests ---- */

static void test_state_size(void)
{
	CU_ASSERT_TRUE(sizeof(struct nfqct_tcp_state) <= 52);
}

static void test_state_names(void)
{
	static const char *const want[] = {
		"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
		"LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
	};

	CU_ASSERT_EQUAL(sizeof(want) / sizeof(want[0]), NFQCT_TCP_STATE_MAX);
	for (unsigned int i = 0; i < NFQCT_TCP_STATE_MAX; i++)
		CU_ASSERT_STRING_EQUAL(nfqct_tcp_state_name((uint8_t)i), want[i]);
	CU_ASSERT_STRING_EQUAL(nfqct_tcp_state_name(NFQCT_TCP_STATE_MAX), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(nfqct_tcp_state_name(255), "UNKNOWN");
}

static void test_open_and_data(void)
{
	flow_init();
	handshake();
	/* Unacknowledged data: the timeout drops to the unack one ... */
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	/* ... until the server acks all of it. */
	step(REPLY, ACK, 5001, 1101, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	step(REPLY, PSH | ACK, 5001, 1101, SWIN, 50);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	step(ORIG, ACK, 1101, 5051, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	CU_ASSERT_FALSE(F.gone);
}

/* The unack timeout is min(state, unack): a short state timeout wins. */
static void test_unack_is_a_cap(void)
{
	flow_init();
	F.s.timeout[NFQCT_TO_TCP_UNACK] = 200;
	F.s.timeout[NFQCT_TO_TCP_MAX_RETRANS] = 250;
	handshake();
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 200);
	step(ORIG, FIN | ACK, 1101, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_FIN_WAIT, false, 120);
}

static void test_syn_retransmission(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT, false, 120);
	/* The same SYN again: tracked, but it neither refreshes nor counts. */
	step(ORIG, SYN, 1000, 0, CWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_SENT);
	step(ORIG, SYN, 1000, 0, CWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_SENT);
	/* The server answers: normal from here. */
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	/* A late SYN/ACK retransmission is ignored in SYN_RECV. */
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_RECV);
	/* A late SYN from the client in SYN_RECV: ignored too. */
	step(ORIG, SYN, 1000, 0, CWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_RECV);
	step(ORIG, ACK, 1001, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, true, 432000);
}

/* A client restarting with a later ISN while in SYN_SENT: the new SYN re-initialises. */
static void test_syn_new_isn_in_syn_sent(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	step(ORIG, SYN, 900000, 0, CWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(F.st.peer[0].end, 900001);
	step(REPLY, SYN | ACK, 5000, 900001, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	step(ORIG, ACK, 900001, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, true, 432000);
}

static void test_simultaneous_open(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT, false, 120);
	/* The other side's SYN crosses ours: SYN_SENT2.  No reply was seen
	 * before it and the last state was SYN_SENT, so like a SYN
	 * retransmission it does not refresh (the kernel checks the SYN
	 * class and the old state, not the direction). */
	step(REPLY, SYN, 5000, 0, SWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_SENT2);
	CU_ASSERT_TRUE(F.seen_reply);
	/* A late retransmission of our SYN keeps SYN_SENT2. */
	step(ORIG, SYN, 1000, 0, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT2, false, 120);
	/* Each side answers the other's SYN with a SYN/ACK. */
	step(ORIG, SYN | ACK, 1000, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_RECV);
	/* A reply ACK in SYN_RECV establishes only after a simultaneous open. */
	step(REPLY, ACK, 5001, 1001, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, true, 432000);
	step(ORIG, ACK, 1001, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
}

/* Without a simultaneous open a reply ACK in SYN_RECV stays there. */
static void test_reply_ack_in_syn_recv(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	step(REPLY, ACK, 5001, 1001, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	/* A SYN/ACK from the client in SYN_RECV (6.x: a late one of a
	 * simultaneous open) keeps SYN_RECV. */
	step(ORIG, SYN | ACK, 1000, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
}

static void test_close_client_first(void)
{
	flow_init();
	handshake();
	step(ORIG, FIN | ACK, 1001, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_FIN_WAIT, false, 120);
	step(REPLY, ACK, 5001, 1002, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE_WAIT, false, 60);
	/* The server may still send data in CLOSE_WAIT (its unack state
	 * does not lower 60 s). */
	step(REPLY, PSH | ACK, 5001, 1002, SWIN, 10);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE_WAIT, false, 60);
	step(ORIG, ACK, 1002, 5011, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE_WAIT, false, 60);
	step(REPLY, FIN | ACK, 5011, 1002, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_LAST_ACK, false, 30);
	/* A retransmitted FIN stays in LAST_ACK. */
	step(REPLY, FIN | ACK, 5011, 1002, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_LAST_ACK, false, 30);
	step(ORIG, ACK, 1002, 5012, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_TIME_WAIT, false, 120);
	/* Retransmitted last ACK. */
	step(ORIG, ACK, 1002, 5012, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_TIME_WAIT, false, 120);
	CU_ASSERT_FALSE(F.gone);
}

static void test_close_server_first(void)
{
	flow_init();
	handshake();
	step(REPLY, FIN | ACK, 5001, 1001, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_FIN_WAIT, false, 120);
	step(ORIG, ACK, 1001, 5002, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE_WAIT, false, 60);
	step(ORIG, FIN | ACK, 1001, 5002, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_LAST_ACK, false, 30);
	step(REPLY, ACK, 5002, 1002, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_TIME_WAIT, false, 120);
}

/* Both FINs before any ACK: FIN_WAIT -> LAST_ACK -> TIME_WAIT. */
static void test_close_both(void)
{
	flow_init();
	handshake();
	step(ORIG, FIN | ACK, 1001, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_FIN_WAIT, false, 120);
	step(REPLY, FIN | ACK, 5001, 1002, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_LAST_ACK, false, 30);
	step(ORIG, ACK, 1002, 5002, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_TIME_WAIT, false, 120);
}

static void test_reopen_from_time_wait(void)
{
	flow_init();
	handshake();
	step(ORIG, FIN | ACK, 1001, 5001, CWIN, 0);
	step(REPLY, FIN | ACK, 5001, 1002, SWIN, 0);
	step(ORIG, ACK, 1002, 5002, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_TIME_WAIT, false, 120);
	step(ORIG, SYN, 777777, 0, CWIN, 0);
	EXPECT_NT(REOPEN, NFQCT_TCP_TIME_WAIT);
	CU_ASSERT_TRUE(F.gone);

	/* The 6.x table also lets the server reopen from TIME_WAIT (role switch). */
	flow_init();
	handshake();
	step(ORIG, FIN | ACK, 1001, 5001, CWIN, 0);
	step(REPLY, FIN | ACK, 5001, 1002, SWIN, 0);
	step(ORIG, ACK, 1002, 5002, CWIN, 0);
	step(REPLY, SYN, 888888, 0, SWIN, 0);
	EXPECT_NT(REOPEN, NFQCT_TCP_TIME_WAIT);
}

static void test_syn_in_close(void)
{
	/* Closed by an RST from the client: its new SYN reopens. */
	flow_init();
	handshake();
	step(ORIG, RST, 1001, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);
	step(ORIG, SYN, 1500000, 0, CWIN, 0);
	EXPECT_NT(REOPEN, NFQCT_TCP_CLOSE);

	/* Closed by an RST from the server: a client SYN is only ignored. */
	flow_init();
	handshake();
	step(REPLY, RST, 5001, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);
	step(ORIG, SYN, 1500000, 0, CWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_CLOSE);
	CU_ASSERT_FALSE(F.gone);
}

static void test_rst_before_reply(void)
{
	/* The client gives up before any answer. */
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	step(ORIG, RST, 1001, 0, 0, 0);
	EXPECT(KILL, NFQCT_TCP_CLOSE, false, 10);
	CU_ASSERT_TRUE(F.gone);
}

/* An RST with sequence 0 in SYN_SENT is taken as sitting at the SYN's end. */
static void test_rst_seq0_in_syn_sent(void)
{
	/* With an ISN half the sequence space away, 0 would be out of window. */
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 0xc0000000u, 0, CWIN, 0));
	step(ORIG, RST, 0, 0, 0, 0);
	EXPECT(KILL, NFQCT_TCP_CLOSE, false, 10);
	/* Any other sequence that far away is INVALID. */
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 0xc0000000u, 0, CWIN, 0));
	step(ORIG, RST, 1, 0, 0, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_SYN_SENT);
	EXPECT_REASON("SEQ is over the upper bound");
}

/*
 * A refused connection: SYN, then RST/ACK from the server.  In the kernel
 * nf_conntrack_in() sets [SEEN_REPLY] only after the tracker returns, so
 * when the tracker sees this RST - the first reply - the flag is still
 * clear, and "RST and no reply seen" kills the entry (after accounting
 * the RST).  The table's order matches: seen_reply is the status before
 * the packet.
 */
static void test_refused_connection(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	step(REPLY, RST | ACK, 0, 1001, 0, 0);
	EXPECT(KILL, NFQCT_TCP_CLOSE, false, 10);
	CU_ASSERT_TRUE(F.gone);
}

static void test_rst_in_established(void)
{
	/* Exactly at what the server acked: CLOSE with the close timeout. */
	flow_init();
	handshake();
	step(ORIG, RST, 1001, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);
	CU_ASSERT_FALSE(F.gone);
	/* Further RSTs in CLOSE skip the checks. */
	step(ORIG, RST, 1, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);

	/* RST|ACK from the server, at the end of its data. */
	flow_init();
	handshake();
	step(REPLY, RST | ACK, 5001, 1001, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);
}

static void test_rst_sequence_checks(void)
{
	/* Before what the peer acked: INVALID, the state stays. */
	flow_init();
	handshake();
	step(ORIG, RST, 900, 0, 0, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	EXPECT_REASON("invalid rst");

	/* In the window but not exact: ESTABLISHED kept for a challenge
	 * ACK, the timeout is still the close one. */
	step(ORIG, RST, 3001, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 10);
	/* The exact one then closes. */
	step(ORIG, RST, 1001, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);

	/* nf_conntrack_tcp_ignore_invalid_rst: the old RST is taken, but
	 * as an inexact one it does not close. */
	flow_init();
	F.s.tcp_ignore_invalid_rst = 1;
	handshake();
	step(ORIG, RST, 900, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 10);

	/* An RST right after this side's data, at its end, closes. */
	flow_init();
	handshake();
	step(REPLY, PSH | ACK, 5001, 1001, SWIN, 19);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	step(REPLY, RST, 5020, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);

	/* Out of the window altogether: INVALID even if past maxack. */
	flow_init();
	handshake();
	step(ORIG, RST, 1001 + 1000000, 0, 0, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	/* ... unless be_liberal. */
	F.s.tcp_be_liberal = 1;
	step(ORIG, RST, 1001 + 1000000, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 10);
}

static void test_invalid_flags(void)
{
	static const uint8_t bad[] = {
		SYN | FIN, SYN | RST, SYN | FIN | ACK, 0, FIN, PSH, URG, RST | FIN,
		SYN | ACK | URG, RST | ACK | URG, FIN | URG | PSH, SYN | RST | ACK | FIN,
	};
	static const uint8_t good_extra[] = { PSH | ACK, ECE | CWR | SYN, ACK | URG, ECE | ACK, FIN | ACK | PSH | URG };

	for (size_t i = 0; i < sizeof(bad); i++) {
		flow_init();
		CU_ASSERT_FALSE(new_flow(bad[i], 1000, 0, CWIN, 0));
		handshake();
		step(ORIG, bad[i], 1001, 5001, CWIN, 0);
		EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
		EXPECT_REASON("invalid tcp flag combination");
		step(REPLY, bad[i], 5001, 1001, SWIN, 0);
		EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	}
	/* PSH, ECE, CWR never matter; URG is allowed with ACK. */
	for (size_t i = 0; i < sizeof(good_extra); i++) {
		flow_init();
		handshake();
		step(ORIG, good_extra[i], 1001, 5001, CWIN, 0);
		CU_ASSERT_NOT_EQUAL(V.verdict, INVALID);
	}
	/* A SYN with ECE|CWR (ECN setup) starts a flow. */
	flow_init();
	CU_ASSERT_TRUE(new_flow(SYN | ECE | CWR, 1000, 0, CWIN, 0));
	EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT, false, 120);
}

/* Cells of the table real traffic reaches that say INVALID. */
static void test_invalid_in_state(void)
{
	/* ACK from the client before the SYN/ACK. */
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	step(ORIG, ACK, 1001, 5001, CWIN, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_SYN_SENT);
	/* FIN in SYN_SENT. */
	step(ORIG, FIN | ACK, 1001, 5001, CWIN, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_SYN_SENT);
	step(REPLY, FIN | ACK, 5001, 1001, SWIN, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_SYN_SENT);
	CU_ASSERT_FALSE(F.seen_reply);
	/* SYN from the server after the handshake. */
	flow_init();
	handshake();
	step(REPLY, SYN, 5000, 0, SWIN, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	/* SYN/ACK from the client in ESTABLISHED. */
	step(ORIG, SYN | ACK, 1000, 5001, CWIN, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
}

/* A reply ACK in SYN_SENT (half-open: a challenge ACK) is ignored; the RST answering it passes. */
static void test_half_open_challenge(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	step(REPLY, ACK, 7777, 4242, SWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_SYN_SENT);
	CU_ASSERT_TRUE(F.seen_reply);
	CU_ASSERT_EQUAL(F.st.last_ack, 4242);
	step(ORIG, RST, 4242, 0, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_CLOSE, false, 10);
}

/* A SYN for a new flow on the tuple of one we hold: ignored, then adopted from the SYN/ACK. */
static void test_ignored_syn_resync(void)
{
	static const uint8_t ws5[] = { 1, 3, 3, 5 };
	struct seg syn = { .flags = SYN, .seq = 3000000, .win = 1000, .opt = ws5, .optlen = sizeof(ws5) };
	struct seg synack = { .reply = true, .flags = SYN | ACK, .seq = 9000000, .ack = 3000001,
			      .win = 2000, .opt = ws5, .optlen = sizeof(ws5) };

	flow_init();
	handshake();
	step_seg(&syn);
	EXPECT_NT(IGNORE, NFQCT_TCP_ESTABLISHED);
	step_seg(&synack);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	CU_ASSERT_EQUAL(F.st.peer[0].end, 3000001);
	CU_ASSERT_EQUAL(F.st.peer[1].end, 9000001);
	CU_ASSERT_EQUAL(F.st.scale0, 5);
	CU_ASSERT_EQUAL(F.st.scale1, 5);
	/* Already [ASSURED]: not set again. */
	step(ORIG, ACK, 3000001, 9000001, 1000, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	/* The window is now scaled: 1000 << 5 bytes may go to the client. */
	step(REPLY, PSH | ACK, 9000001 + 30000, 3000001, 2000, 10);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);

	/* A SYN/ACK not acking the ignored SYN stays ignored. */
	flow_init();
	handshake();
	step_seg(&syn);
	synack.ack = 3000002;
	step_seg(&synack);
	EXPECT_NT(IGNORE, NFQCT_TCP_ESTABLISHED);
}

/* RFC 5961: a SYN in LAST_ACK draws a challenge ACK that must not end the flow. */
static void test_challenge_ack_in_last_ack(void)
{
	flow_init();
	handshake();
	step(REPLY, FIN | ACK, 5001, 1001, SWIN, 0);
	step(ORIG, FIN | ACK, 1001, 5002, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_LAST_ACK, false, 30);
	step(ORIG, SYN, 2000000, 0, CWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_LAST_ACK);
	step(REPLY, ACK, 5002, 1001, SWIN, 0);
	EXPECT_NT(IGNORE, NFQCT_TCP_LAST_ACK);
	/* The real last ACK then moves on. */
	step(REPLY, ACK, 5002, 1002, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_TIME_WAIT, false, 120);
}

static void test_out_of_window(void)
{
	flow_init();
	handshake();
	/* Far beyond what the server allowed (ack 1001 + win 65160). */
	step(ORIG, PSH | ACK, 1001 + 200000, 5001, CWIN, 100);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	EXPECT_REASON("SEQ is over the upper bound");
	/* Acking data the server never sent. */
	step(ORIG, ACK, 1001, 5001 + 100000, CWIN, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	EXPECT_REASON("ACK is over the upper bound");
	/* Old data far below the window: let through, not tracked. */
	step(ORIG, PSH | ACK, 1001 - 100000, 5001, CWIN, 10);
	EXPECT_NT(IGNORE, NFQCT_TCP_ESTABLISHED);
	/* Starting just past the window (ack 1001 + win 65160): let through,
	 * remembered, not refreshed. */
	step(ORIG, PSH | ACK, 1001 + 65200, 5001, CWIN, 1000);
	EXPECT_NT(IGNORE, NFQCT_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(F.st.peer[0].end, 1001 + 65200 + 1000);
	/* That moved the lower bound to 67201 - 65160: data ending at
	 * 1101 is now "already acked", data ending after 2040 in window. */
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 100);
	EXPECT_NT(IGNORE, NFQCT_TCP_ESTABLISHED);
	EXPECT_REASON("SEQ is under the lower bound");
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 1041);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);

	/* be_liberal: out of window is accepted. */
	flow_init();
	F.s.tcp_be_liberal = 1;
	handshake();
	step(ORIG, PSH | ACK, 1001 + 200000, 5001, CWIN, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	step(ORIG, ACK, 1001, 5001 + 100000, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	step(ORIG, PSH | ACK, 1001 - 100000, 5001, CWIN, 10);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
}

/* Out-of-window FIN answered by an out-of-window FIN: the table is told to shrink the timeout. */
static void test_invalid_fin_shrinks(void)
{
	flow_init();
	handshake();
	step(ORIG, FIN | ACK, 1001 + 500000, 5001, CWIN, 0);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	CU_ASSERT_FALSE(V.shrink_timeout);
	step(REPLY, FIN | ACK, 5001 + 500000, 1001, SWIN, 0);
	CU_ASSERT_EQUAL(V.verdict, INVALID);
	CU_ASSERT_TRUE(V.shrink_timeout);
	CU_ASSERT_EQUAL(V.timeout_s, 300);
	CU_ASSERT_EQUAL(F.st.state, NFQCT_TCP_ESTABLISHED);

	/* Not before [ASSURED]. */
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	step(ORIG, FIN | ACK, 1001 + 500000, 5001, CWIN, 0);
	step(REPLY, FIN | ACK, 5001 + 500000, 1001, SWIN, 0);
	CU_ASSERT_EQUAL(V.verdict, INVALID);
	CU_ASSERT_FALSE(V.shrink_timeout);
}

static void test_loose_pickup(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(ACK, 7000, 9000, 500, 0));
	/* One-sided: ESTABLISHED but with the short timeout. */
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	step(ORIG, PSH | ACK, 7000, 9000, 500, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	/* The first answer: still no reply seen when the tracker runs. */
	step(REPLY, ACK, 9000, 7100, 800, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	/* Then [ASSURED] on the next valid packet, either way.  The
	 * server's ack of 7100 above was out of what we had seen (liberal
	 * pass, no update), so the client's data still counts as unacked. */
	step(ORIG, ACK, 7100, 9000, 500, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, true, 300);
	step(REPLY, ACK, 9000, 7100, 800, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	/* Picked-up flows are checked liberally (window scale unknown). */
	step(ORIG, PSH | ACK, 7100 + 5000000, 9000, 500, 10);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);

	/* The cap on a one-sided pick-up is the unack timeout, whatever the retrans one. */
	flow_init();
	F.s.timeout[NFQCT_TO_TCP_UNACK] = 200;
	F.s.timeout[NFQCT_TO_TCP_MAX_RETRANS] = 250;
	CU_ASSERT_TRUE_FATAL(new_flow(ACK | PSH, 7000, 9000, 500, 10));
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 200);

	/* Only a plain ACK is picked up. */
	flow_init();
	CU_ASSERT_FALSE(new_flow(FIN | ACK, 7000, 9000, 500, 0));
	CU_ASSERT_FALSE(new_flow(RST, 7000, 0, 0, 0));
	CU_ASSERT_FALSE(new_flow(RST | ACK, 7000, 9000, 0, 0));
	CU_ASSERT_FALSE(new_flow(SYN | ACK, 7000, 9000, 500, 0));

	/* nf_conntrack_tcp_loose = 0: no pick-up, SYNs still start flows. */
	flow_init();
	F.s.tcp_loose = 0;
	CU_ASSERT_FALSE(new_flow(ACK, 7000, 9000, 500, 0));
	CU_ASSERT_TRUE(new_flow(SYN, 1000, 0, CWIN, 0));
	EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT, false, 120);
}

/* MSS, SACK-permitted, window scale 7, padded: 12 bytes. */
static const uint8_t opt_ws7[] = { 2, 4, 0x05, 0xb4, 4, 2, 1, 1, 1, 3, 3, 7 };
/* MSS and SACK-permitted only. */
static const uint8_t opt_nows[] = { 2, 4, 0x05, 0xb4, 4, 2, 1, 1 };

static void open_with(const uint8_t *copt, uint8_t clen, const uint8_t *sopt, uint8_t slen)
{
	struct seg syn = { .flags = SYN, .seq = 1000, .win = CWIN, .opt = copt, .optlen = clen };
	struct seg synack = { .reply = true, .flags = SYN | ACK, .seq = 5000, .ack = 1001,
			      .win = SWIN, .opt = sopt, .optlen = slen };

	CU_ASSERT_TRUE_FATAL(new_seg(&syn));
	EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT, false, 120);
	step_seg(&synack);
	EXPECT(ACCEPT, NFQCT_TCP_SYN_RECV, false, 60);
	step(ORIG, ACK, 1001, 5001, 500, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, true, 432000);
	/* The server opens its window: 1000, scaled or not. */
	step(REPLY, ACK, 5001, 1001, 1000, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
}

static void test_window_scaling(void)
{
	/* Both offer scale 7: the server's 1000 means 128000 bytes. */
	flow_init();
	open_with(opt_ws7, sizeof(opt_ws7), opt_ws7, sizeof(opt_ws7));
	CU_ASSERT_EQUAL(F.st.scale0, 7);
	CU_ASSERT_EQUAL(F.st.scale1, 7);
	CU_ASSERT_EQUAL(F.st.peer[0].maxend, 1001 + (1000 << 7));
	step(ORIG, PSH | ACK, 1001 + 100000, 5001, 500, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	step(ORIG, PSH | ACK, 1001 + 400000, 5001, 500, 100);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);

	/* The server does not offer it: no scaling either way, the same
	 * segment is past the window (a bit: let through untracked). */
	flow_init();
	open_with(opt_ws7, sizeof(opt_ws7), opt_nows, sizeof(opt_nows));
	CU_ASSERT_EQUAL(F.st.scale0, 0);
	CU_ASSERT_EQUAL(F.st.scale1, 0);
	CU_ASSERT_EQUAL(F.st.peer[0].maxend, 1001 + SWIN);
	step(ORIG, PSH | ACK, 1001 + 100000, 5001, 500, 100);
	EXPECT_NT(IGNORE, NFQCT_TCP_ESTABLISHED);
	step(ORIG, PSH | ACK, 1001 + 400000, 5001, 500, 100);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);

	/* A scale above 14 counts as 14. */
	{
		static const uint8_t ws20[] = { 3, 3, 20, 0 };

		flow_init();
		open_with(ws20, sizeof(ws20), ws20, sizeof(ws20));
		CU_ASSERT_EQUAL(F.st.scale0, 14);
		CU_ASSERT_EQUAL(F.st.scale1, 14);
	}
}

static void test_sack(void)
{
	/* SACK block from the server: right edge 1001 + 2000, within what the client sent. */
	static const uint8_t sack_ok[] = { 1, 1, 5, 10, 0, 0, 0x07, 0xd1, 0, 0, 0x0b, 0xb9 };
	/* Right edge 1001 + 5000: beyond it. */
	static const uint8_t sack_bad[] = { 1, 1, 5, 10, 0, 0, 0x0b, 0xb9, 0, 0, 0x17, 0x71 };
	struct seg g = { .reply = true, .flags = ACK, .seq = 5001, .ack = 1001, .win = 1000,
			 .opt = sack_ok, .optlen = sizeof(sack_ok) };

	flow_init();
	open_with(opt_nows, sizeof(opt_nows), opt_nows, sizeof(opt_nows));
	step(ORIG, PSH | ACK, 1001, 5001, 500, 3000);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	step_seg(&g);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	g.opt = sack_bad;
	step_seg(&g);
	EXPECT_NT(INVALID, NFQCT_TCP_ESTABLISHED);
	EXPECT_REASON("ACK is over the upper bound");

	/* Without SACK-permitted from the client the blocks are not read. */
	flow_init();
	open_with(NULL, 0, opt_nows, sizeof(opt_nows));
	step(ORIG, PSH | ACK, 1001, 5001, 500, 3000);
	step_seg(&g);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
}

/* Broken options never make the parser read past the header. */
static void test_malformed_options(void)
{
	static const uint8_t zero_len[] = { 3, 0, 7, 1 };		/* silly length */
	static const uint8_t too_long[] = { 1, 1, 3, 9 };		/* longer than what is left */
	static const uint8_t eol_first[] = { 0, 3, 3, 7 };		/* EOL ends the list */
	static const uint8_t last_byte[] = { 1, 1, 1, 3 };		/* kind without length */
	static const uint8_t wrong_size[] = { 3, 4, 7, 0, 4, 3, 0, 1 };	/* WS and SACK-perm of wrong sizes */
	const struct { const uint8_t *o; uint8_t n; } cases[] = {
		{ zero_len, sizeof(zero_len) }, { too_long, sizeof(too_long) },
		{ eol_first, sizeof(eol_first) }, { last_byte, sizeof(last_byte) },
		{ wrong_size, sizeof(wrong_size) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seg syn = { .flags = SYN, .seq = 1000, .win = CWIN, .opt = cases[i].o, .optlen = cases[i].n };

		flow_init();
		CU_ASSERT_TRUE(new_seg(&syn));
		EXPECT(ACCEPT, NFQCT_TCP_SYN_SENT, false, 120);
		CU_ASSERT_EQUAL(F.st.scale0, 0);
		CU_ASSERT_EQUAL(F.st.pflags0, 0);
	}

	/* A header cut short of its options: the options are not read. */
	{
		struct seg syn = { .flags = SYN, .seq = 1000, .win = CWIN, .opt = opt_ws7,
				   .optlen = sizeof(opt_ws7), .caplen = 24 };

		flow_init();
		CU_ASSERT_TRUE(new_seg(&syn));
		CU_ASSERT_EQUAL(F.st.scale0, 0);
	}
	/* A data offset under 5 words, or past the segment: invalid. */
	{
		struct nfqct_pkt pkt;
		struct seg g = { .flags = SYN, .seq = 1000, .win = CWIN };
		uint8_t *buf = seg_build(&pkt, &g);

		flow_init();
		buf[12] = 4 << 4;
		CU_ASSERT_FALSE(nfqct_tcp_new(&F.st, &pkt, &F.s));
		buf[12] = 5 << 4;
		pkt.l4len = 19;
		CU_ASSERT_FALSE(nfqct_tcp_new(&F.st, &pkt, &F.s));
		pkt.l4len = 20;
		CU_ASSERT_TRUE(nfqct_tcp_new(&F.st, &pkt, &F.s));
		pkt.l4 = NULL;
		nfqct_tcp_packet(&F.st, &pkt, false, false, false, &F.s, &V);
		CU_ASSERT_EQUAL(V.verdict, INVALID);
		free(buf);
	}
}

static void test_retransmissions(void)
{
	flow_init();
	F.s.timeout[NFQCT_TO_TCP_MAX_RETRANS] = 250;
	handshake();
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 100);
	step(REPLY, ACK, 5001, 1101, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	/* The same ACK three more times: the third repeat reaches max_retrans (3). */
	step(REPLY, ACK, 5001, 1101, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	CU_ASSERT_EQUAL(F.st.retrans, 1);
	step(REPLY, ACK, 5001, 1101, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	step(REPLY, ACK, 5001, 1101, SWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 250);
	CU_ASSERT_EQUAL(F.st.retrans, 3);
	/* Any other ACK starts over. */
	step(ORIG, ACK, 1101, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
	CU_ASSERT_EQUAL(F.st.retrans, 0);

	/* Data retransmitted: counted the same way; the retrans cap comes first. */
	flow_init();
	F.s.timeout[NFQCT_TO_TCP_MAX_RETRANS] = 250;
	F.s.tcp_max_retrans = 2;
	handshake();
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 300);
	step(ORIG, PSH | ACK, 1001, 5001, CWIN, 100);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 250);
	/* A FIN has its own class: it leaves the count alone, which still applies. */
	step(ORIG, FIN | ACK, 1101, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_FIN_WAIT, false, 120);
}

/* A zero window: the peer may be gone, use the retransmission timeout. */
static void test_zero_window(void)
{
	flow_init();
	F.s.timeout[NFQCT_TO_TCP_MAX_RETRANS] = 250;
	handshake();
	step(REPLY, ACK, 5001, 1001, 0, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 250);
	step(REPLY, ACK, 5001, 1001, 100, 0);
	EXPECT(ACCEPT, NFQCT_TCP_ESTABLISHED, false, 432000);
}

/* ASSURED comes with the handshake's last ACK and never earlier, nor twice. */
static void test_assured_exactly_once(void)
{
	flow_init();
	CU_ASSERT_TRUE_FATAL(new_flow(SYN, 1000, 0, CWIN, 0));
	CU_ASSERT_FALSE(V.set_assured);
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	CU_ASSERT_FALSE(V.set_assured);
	/* A retransmitted SYN/ACK is ignored: still no ASSURED. */
	step(REPLY, SYN | ACK, 5000, 1001, SWIN, 0);
	CU_ASSERT_FALSE(V.set_assured);
	step(ORIG, ACK, 1001, 5001, CWIN, 0);
	CU_ASSERT_TRUE(V.set_assured);
	step(REPLY, ACK, 5001, 1001, SWIN, 0);
	CU_ASSERT_FALSE(V.set_assured);
	/* If the table had not stored it, the next ESTABLISHED packet would say it again. */
	F.assured = false;
	step(ORIG, ACK, 1001, 5001, CWIN, 0);
	CU_ASSERT_TRUE(V.set_assured);
	/* Not on the way out of ESTABLISHED. */
	F.assured = false;
	step(ORIG, FIN | ACK, 1001, 5001, CWIN, 0);
	EXPECT(ACCEPT, NFQCT_TCP_FIN_WAIT, false, 120);
}

static const struct unit_test tests[] = {
	{ "state size", test_state_size },
	{ "state names", test_state_names },
	{ "open and data", test_open_and_data },
	{ "unack is a cap", test_unack_is_a_cap },
	{ "SYN retransmission", test_syn_retransmission },
	{ "SYN with a new ISN in SYN_SENT", test_syn_new_isn_in_syn_sent },
	{ "simultaneous open", test_simultaneous_open },
	{ "reply ACK in SYN_RECV", test_reply_ack_in_syn_recv },
	{ "close, client first", test_close_client_first },
	{ "close, server first", test_close_server_first },
	{ "close, both FINs", test_close_both },
	{ "reopen from TIME_WAIT", test_reopen_from_time_wait },
	{ "SYN in CLOSE", test_syn_in_close },
	{ "RST before reply", test_rst_before_reply },
	{ "RST seq 0 in SYN_SENT", test_rst_seq0_in_syn_sent },
	{ "refused connection", test_refused_connection },
	{ "RST in ESTABLISHED", test_rst_in_established },
	{ "RST sequence checks", test_rst_sequence_checks },
	{ "invalid flags", test_invalid_flags },
	{ "invalid in state", test_invalid_in_state },
	{ "half-open challenge", test_half_open_challenge },
	{ "ignored SYN resync", test_ignored_syn_resync },
	{ "challenge ACK in LAST_ACK", test_challenge_ack_in_last_ack },
	{ "out of window", test_out_of_window },
	{ "invalid FIN shrinks", test_invalid_fin_shrinks },
	{ "loose pick-up", test_loose_pickup },
	{ "window scaling", test_window_scaling },
	{ "SACK", test_sack },
	{ "malformed options", test_malformed_options },
	{ "retransmissions", test_retransmissions },
	{ "zero window", test_zero_window },
	{ "ASSURED exactly once", test_assured_exactly_once },
};

int main(void)
{
	return unit_main("proto_tcp", tests, UNIT_COUNT(tests));
}
