/*
 * test_syncmsg.c - conntrackd's replication messages: every message kind
 * and attribute against byte strings laid out from conntrack-tools' facts
 * (include/network.h: nethdr, nethdr_ack, netattr, NTA_*; src/build.c:
 * ct2msg's order, 4-byte padding; src/parse.c: sizes), and every way a
 * datagram can be bad: refused, counted by the caller, never half-decoded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "nfqct/proto_tcp.h"
#include "nfqct/syncmsg.h"

#include "unit.h"

/*
 * TCP over IPv4, NEW, sequence 0x01020304: 198.18.0.1:40000 ->
 * 198.18.1.2:80, status SEEN_REPLY|ASSURED|CONFIRMED, ESTABLISHED, 431999 s,
 * mark 0x2a, in ct2msg()'s order: IPV4, STATUS, L4PROTO, PORT, TCP_STATE,
 * TIMEOUT, MARK.
 */
static const uint8_t tcp4_new[] = {
	0x10, 0x00, 0x00, 0x44, 0x01, 0x02, 0x03, 0x04,		/* v1 NEW, len 68, seq */
	0x00, 0x0c, 0x00, 0x00, 198, 18, 0, 1, 198, 18, 1, 2,	/* NTA_IPV4 */
	0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0e,		/* NTA_STATUS */
	0x00, 0x05, 0x00, 0x02, 0x06, 0x00, 0x00, 0x00,		/* NTA_L4PROTO 6, padded */
	0x00, 0x08, 0x00, 0x03, 0x9c, 0x40, 0x00, 0x50,		/* NTA_PORT 40000, 80 */
	0x00, 0x05, 0x00, 0x04, 0x03, 0x00, 0x00, 0x00,		/* NTA_TCP_STATE 3 */
	0x00, 0x08, 0x00, 0x06, 0x00, 0x06, 0x97, 0x7f,		/* NTA_TIMEOUT 431999 */
	0x00, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x2a,		/* NTA_MARK 42 */
};

/* UDP over IPv6, UPDATE, seq 7: 2001:db8::1:5353 -> 2001:db8::2:53, SEEN_REPLY|CONFIRMED, 30 s. */
static const uint8_t udp6_upd[] = {
	0x11, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x00, 0x07,
	0x00, 0x24, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0a,
	0x00, 0x05, 0x00, 0x02, 0x11, 0x00, 0x00, 0x00,
	0x00, 0x08, 0x00, 0x03, 0x14, 0xe9, 0x00, 0x35,
	0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x1e,
};

/* ICMP echo over IPv4, DESTROY, seq 9: type 8 code 0 id 0x1234, CONFIRMED, 29 s. */
static const uint8_t icmp4_del[] = {
	0x12, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x09,
	0x00, 0x0c, 0x00, 0x00, 198, 18, 0, 1, 198, 18, 1, 2,
	0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x05, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x05, 0x00, 0x16, 0x08, 0x00, 0x00, 0x00,		/* NTA_ICMP_TYPE 8 */
	0x00, 0x05, 0x00, 0x17, 0x00, 0x00, 0x00, 0x00,		/* NTA_ICMP_CODE 0 */
	0x00, 0x06, 0x00, 0x18, 0x34, 0x12, 0x00, 0x00,		/* NTA_ICMP_ID 0x1234, swapped (conntrackd's
								 * double htons on x86), padded */
	0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x1d,
};

/* SCTP over IPv4, NEW, seq 1: ports 5000 -> 6000, ESTABLISHED (3), tags 0xa1a2a3a4 / 0xb1b2b3b4. */
static const uint8_t sctp4_new[] = {
	0x10, 0x00, 0x00, 0x54, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x0c, 0x00, 0x00, 198, 18, 0, 1, 198, 18, 1, 2,
	0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0e,
	0x00, 0x05, 0x00, 0x02, 0x84, 0x00, 0x00, 0x00,
	0x00, 0x08, 0x00, 0x03, 0x13, 0x88, 0x17, 0x70,
	0x00, 0x05, 0x00, 0x11, 0x03, 0x00, 0x00, 0x00,		/* NTA_SCTP_STATE */
	0x00, 0x08, 0x00, 0x12, 0xa1, 0xa2, 0xa3, 0xa4,		/* NTA_SCTP_VTAG_ORIG */
	0x00, 0x08, 0x00, 0x13, 0xb1, 0xb2, 0xb3, 0xb4,		/* NTA_SCTP_VTAG_REPL */
	0x00, 0x08, 0x00, 0x06, 0x00, 0x06, 0x97, 0x80,
	0x00, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
};

/* Control messages: nethdr_ack (16 bytes) and the bare header for ALIVE. */
static const uint8_t ctl_ack[] = {
	0x1a, 0x08, 0x00, 0x10, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x14,
};
static const uint8_t ctl_nack[] = {
	0x1a, 0x04, 0x00, 0x10, 0x00, 0x00, 0x00, 0x65, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x0c,
};
static const uint8_t ctl_resync[] = {
	0x1a, 0x02, 0x00, 0x10, 0x00, 0x00, 0x00, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t ctl_alive_hello[] = {
	0x1a, 0x30, 0x00, 0x08, 0xff, 0xff, 0xff, 0xff,	/* ALIVE|HELLO, seq 2^32-1 */
};

static uint32_t a4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct nfqct_sync_flow tcp4_flow(void)
{
	struct nfqct_sync_flow f;

	memset(&f, 0, sizeof(f));
	f.tuple.family = AF_INET;
	f.tuple.proto = IPPROTO_TCP;
	f.tuple.src.ip = a4("198.18.0.1");
	f.tuple.dst.ip = a4("198.18.1.2");
	f.tuple.sp.port = htons(40000);
	f.tuple.dp.port = htons(80);
	f.have = NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT | NFQCT_SYNC_HAVE_MARK |
		 NFQCT_SYNC_HAVE_TCP;
	f.status = NFQCT_IPS_SEEN_REPLY | NFQCT_IPS_ASSURED | NFQCT_IPS_CONFIRMED;
	f.tcp_state = NFQCT_TCP_ESTABLISHED;
	f.timeout_s = 431999;
	f.mark = 42;
	return f;
}

/* Decode the single message of @b; returns nfqct_sync_decode()'s result. */
static int decode1(const uint8_t *b, size_t n, struct nfqct_sync_msg *m)
{
	size_t off = 0;
	int r;

	if (nfqct_sync_frame(b, n) != 1)
		return -1000;
	r = nfqct_sync_decode(b, n, &off, m);
	CU_ASSERT_EQUAL(off, n);
	return r;
}

static void test_tcp4_bytes(void)
{
	struct nfqct_sync_flow f = tcp4_flow();
	struct nfqct_sync_msg m;
	uint8_t buf[256];
	size_t len = 0;

	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_NEW, 0x01020304, 0, &f, 0), 0);
	CU_ASSERT_EQUAL(len, sizeof(tcp4_new));
	CU_ASSERT_EQUAL(memcmp(buf, tcp4_new, sizeof(tcp4_new)), 0);

	CU_ASSERT_EQUAL(decode1(tcp4_new, sizeof(tcp4_new), &m), 0);
	CU_ASSERT_EQUAL(m.type, NFQCT_SYNC_T_NEW);
	CU_ASSERT_EQUAL(m.seq, 0x01020304);
	CU_ASSERT_EQUAL(m.len, 68);
	CU_ASSERT_EQUAL(memcmp(&m.flow.tuple, &f.tuple, sizeof(f.tuple)), 0);
	CU_ASSERT_EQUAL(m.flow.status, 0x0e);
	CU_ASSERT_EQUAL(m.flow.tcp_state, NFQCT_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(m.flow.timeout_s, 431999);
	CU_ASSERT_EQUAL(m.flow.mark, 42);
	CU_ASSERT_EQUAL(m.flow.have, f.have);

	/* no room: nothing written */
	len = 0;
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, 67, &len, NFQCT_SYNC_T_NEW, 1, 0, &f, 0), -ENOSPC);
	CU_ASSERT_EQUAL(len, 0);
	/* CommitTimeout: no timeout attribute */
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_NEW, 1, 0, &f,
					    NFQCT_SYNC_ENC_NO_TIMEOUT), 0);
	CU_ASSERT_EQUAL(len, sizeof(tcp4_new) - 8);
}

static void test_udp6_bytes(void)
{
	struct nfqct_sync_flow f;
	struct nfqct_sync_msg m;
	uint8_t buf[256];
	size_t len = 0;

	memset(&f, 0, sizeof(f));
	f.tuple.family = AF_INET6;
	f.tuple.proto = IPPROTO_UDP;
	inet_pton(AF_INET6, "2001:db8::1", f.tuple.src.b);
	inet_pton(AF_INET6, "2001:db8::2", f.tuple.dst.b);
	f.tuple.sp.port = htons(5353);
	f.tuple.dp.port = htons(53);
	f.have = NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT;
	f.status = NFQCT_IPS_SEEN_REPLY | NFQCT_IPS_CONFIRMED;
	f.timeout_s = 30;
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_UPDATE, 7, 0, &f, 0), 0);
	CU_ASSERT_EQUAL(len, sizeof(udp6_upd));
	CU_ASSERT_EQUAL(memcmp(buf, udp6_upd, sizeof(udp6_upd)), 0);
	CU_ASSERT_EQUAL(decode1(udp6_upd, sizeof(udp6_upd), &m), 0);
	CU_ASSERT_EQUAL(m.type, NFQCT_SYNC_T_UPDATE);
	CU_ASSERT_EQUAL(memcmp(&m.flow.tuple, &f.tuple, sizeof(f.tuple)), 0);
	CU_ASSERT_EQUAL(m.flow.have, f.have);
	CU_ASSERT_EQUAL(m.flow.timeout_s, 30);
}

static void test_icmp4_bytes(void)
{
	struct nfqct_sync_flow f;
	struct nfqct_sync_msg m;
	uint8_t buf[256];
	size_t len = 0;

	memset(&f, 0, sizeof(f));
	f.tuple.family = AF_INET;
	f.tuple.proto = IPPROTO_ICMP;
	f.tuple.src.ip = a4("198.18.0.1");
	f.tuple.dst.ip = a4("198.18.1.2");
	f.tuple.dp.icmp.type = 8;
	f.tuple.sp.icmp_id = htons(0x1234);
	f.have = NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT;
	f.status = NFQCT_IPS_CONFIRMED;
	f.timeout_s = 29;
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_DESTROY, 9, 0, &f, 0), 0);
	CU_ASSERT_EQUAL(len, sizeof(icmp4_del));
	CU_ASSERT_EQUAL(memcmp(buf, icmp4_del, sizeof(icmp4_del)), 0);
	CU_ASSERT_EQUAL(decode1(icmp4_del, sizeof(icmp4_del), &m), 0);
	CU_ASSERT_EQUAL(m.type, NFQCT_SYNC_T_DESTROY);
	CU_ASSERT_EQUAL(memcmp(&m.flow.tuple, &f.tuple, sizeof(f.tuple)), 0);
}

static void test_sctp4_bytes(void)
{
	struct nfqct_sync_msg m;
	struct nfqct_sync_flow f;
	uint8_t buf[256];
	size_t len = 0;

	CU_ASSERT_EQUAL(decode1(sctp4_new, sizeof(sctp4_new), &m), 0);
	CU_ASSERT_EQUAL(m.flow.tuple.proto, IPPROTO_SCTP);
	CU_ASSERT_EQUAL(ntohs(m.flow.tuple.sp.port), 5000);
	CU_ASSERT_EQUAL(ntohs(m.flow.tuple.dp.port), 6000);
	CU_ASSERT_EQUAL(m.flow.sctp_state, 3);
	CU_ASSERT_EQUAL(m.flow.sctp_vtag[0], htonl(0xa1a2a3a4));
	CU_ASSERT_EQUAL(m.flow.sctp_vtag[1], htonl(0xb1b2b3b4));
	CU_ASSERT(m.flow.have & NFQCT_SYNC_HAVE_SCTP);
	f = m.flow;
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_NEW, 1, 0, &f, 0), 0);
	CU_ASSERT_EQUAL(len, sizeof(sctp4_new));
	CU_ASSERT_EQUAL(memcmp(buf, sctp4_new, sizeof(sctp4_new)), 0);
}

static void test_ctl_bytes(void)
{
	struct nfqct_sync_msg m;
	uint8_t buf[64];
	size_t len = 0;

	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(buf, sizeof(buf), &len, NFQCT_SYNC_F_ACK, 100, 10, 20), 0);
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(buf, sizeof(buf), &len, NFQCT_SYNC_F_NACK, 101, 11, 12), 0);
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(buf, sizeof(buf), &len, NFQCT_SYNC_F_RESYNC, 102, 0, 0), 0);
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(buf, sizeof(buf), &len,
					   NFQCT_SYNC_F_ALIVE | NFQCT_SYNC_F_HELLO, 0xffffffffu, 0, 0), 0);
	CU_ASSERT_EQUAL(len, 56);
	CU_ASSERT_EQUAL(memcmp(buf, ctl_ack, 16), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 16, ctl_nack, 16), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 32, ctl_resync, 16), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 48, ctl_alive_hello, 8), 0);
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(buf, 60, &len, NFQCT_SYNC_F_ALIVE, 1, 0, 0), -ENOSPC);
	CU_ASSERT_EQUAL(nfqct_sync_put_ctl(buf, sizeof(buf), &len, NFQCT_SYNC_F_HELLO, 1, 0, 0), -EINVAL);

	CU_ASSERT_EQUAL(decode1(ctl_ack, 16, &m), 0);
	CU_ASSERT_EQUAL(m.type, NFQCT_SYNC_T_CTL);
	CU_ASSERT_EQUAL(m.flags, NFQCT_SYNC_F_ACK);
	CU_ASSERT_EQUAL(m.seq, 100);
	CU_ASSERT_EQUAL(m.from, 10);
	CU_ASSERT_EQUAL(m.to, 20);
	CU_ASSERT_EQUAL(decode1(ctl_nack, 16, &m), 0);
	CU_ASSERT_EQUAL(m.flags, NFQCT_SYNC_F_NACK);
	CU_ASSERT_EQUAL(m.from, 11);
	CU_ASSERT_EQUAL(m.to, 12);
	CU_ASSERT_EQUAL(decode1(ctl_resync, 16, &m), 0);
	CU_ASSERT_EQUAL(m.flags, NFQCT_SYNC_F_RESYNC);
	CU_ASSERT_EQUAL(decode1(ctl_alive_hello, 8, &m), 0);
	CU_ASSERT_EQUAL(m.flags, NFQCT_SYNC_F_ALIVE | NFQCT_SYNC_F_HELLO);
	CU_ASSERT_EQUAL(m.seq, 0xffffffffu);
}

/* Several messages in one datagram, as conntrackd's buffered channel sends them. */
static void test_datagram(void)
{
	uint8_t d[512];
	size_t n = 0, off = 0;
	struct nfqct_sync_msg m;

	memcpy(d + n, tcp4_new, sizeof(tcp4_new)), n += sizeof(tcp4_new);
	memcpy(d + n, ctl_ack, sizeof(ctl_ack)), n += sizeof(ctl_ack);
	memcpy(d + n, udp6_upd, sizeof(udp6_upd)), n += sizeof(udp6_upd);
	memcpy(d + n, ctl_alive_hello, sizeof(ctl_alive_hello)), n += sizeof(ctl_alive_hello);
	memcpy(d + n, icmp4_del, sizeof(icmp4_del)), n += sizeof(icmp4_del);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, n), 5);
	CU_ASSERT_EQUAL(nfqct_sync_decode(d, n, &off, &m), 0);
	CU_ASSERT_EQUAL(m.type, NFQCT_SYNC_T_NEW);
	CU_ASSERT_EQUAL(nfqct_sync_decode(d, n, &off, &m), 0);
	CU_ASSERT_EQUAL(m.flags, NFQCT_SYNC_F_ACK);
	CU_ASSERT_EQUAL(nfqct_sync_decode(d, n, &off, &m), 0);
	CU_ASSERT_EQUAL(m.type, NFQCT_SYNC_T_UPDATE);
	CU_ASSERT_EQUAL(nfqct_sync_decode(d, n, &off, &m), 0);
	CU_ASSERT_EQUAL(m.flags, NFQCT_SYNC_F_ALIVE | NFQCT_SYNC_F_HELLO);
	CU_ASSERT_EQUAL(nfqct_sync_decode(d, n, &off, &m), 0);
	CU_ASSERT_EQUAL(m.type, NFQCT_SYNC_T_DESTROY);
	CU_ASSERT_EQUAL(nfqct_sync_decode(d, n, &off, &m), -ENODATA);
	CU_ASSERT_EQUAL(off, n);
}

/* Zone and counters travel only to nfqct peers. */
static void test_nfqct_only(void)
{
	struct nfqct_sync_flow f = tcp4_flow();
	struct nfqct_sync_msg m;
	uint8_t buf[256];
	size_t len = 0;
	static const uint8_t tail[] = {
		0x00, 0x06, 0x00, 0x20, 0x00, 0x07, 0x00, 0x00,	/* NTA_ZONE 7 */
		0x00, 0x24, 0x4e, 0x51,					/* counters */
		0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x80,
	};

	f.have |= NFQCT_SYNC_HAVE_ZONE | NFQCT_SYNC_HAVE_COUNTERS;
	f.zone = 7;
	f.packets[0] = 3, f.packets[1] = 2, f.bytes[0] = 256, f.bytes[1] = 128;
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_NEW, 0x01020304, 0, &f, 0), 0);
	CU_ASSERT_EQUAL(len, sizeof(tcp4_new));		/* conntrackd peer: neither */
	CU_ASSERT_EQUAL(memcmp(buf, tcp4_new, len), 0);
	len = 0;
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_NEW, 0x01020304, 0, &f,
					    NFQCT_SYNC_ENC_NFQCT), 0);
	CU_ASSERT_EQUAL(len, sizeof(tcp4_new) + sizeof(tail));
	CU_ASSERT_EQUAL(buf[3], sizeof(tcp4_new) + sizeof(tail));
	CU_ASSERT_EQUAL(memcmp(buf + 4, tcp4_new + 4, sizeof(tcp4_new) - 4), 0);
	CU_ASSERT_EQUAL(memcmp(buf + sizeof(tcp4_new), tail, sizeof(tail)), 0);
	CU_ASSERT_EQUAL(decode1(buf, len, &m), 0);
	CU_ASSERT_EQUAL(m.flow.zone, 7);
	CU_ASSERT_EQUAL(m.flow.packets[0], 3);
	CU_ASSERT_EQUAL(m.flow.packets[1], 2);
	CU_ASSERT_EQUAL(m.flow.bytes[0], 256);
	CU_ASSERT_EQUAL(m.flow.bytes[1], 128);
	CU_ASSERT_EQUAL(m.flow.have, f.have);
	/* zone 0 is not sent */
	f.zone = 0;
	f.have &= ~(uint32_t)NFQCT_SYNC_HAVE_COUNTERS;
	len = 0;
	CU_ASSERT_EQUAL(nfqct_sync_put_flow(buf, sizeof(buf), &len, NFQCT_SYNC_T_NEW, 0x01020304, 0, &f,
					    NFQCT_SYNC_ENC_NFQCT), 0);
	CU_ASSERT_EQUAL(len, sizeof(tcp4_new));
}

/* What conntrackd may send that nfqct does not use: checked, accepted, ignored. */
static void test_conntrackd_extras(void)
{
	uint8_t d[256];
	size_t n = sizeof(tcp4_new);
	struct nfqct_sync_msg m;
	static const uint8_t extras[] = {
		0x00, 0x05, 0x00, 0x19, 0x07, 0, 0, 0,			/* WSCALE_ORIG 7 */
		0x00, 0x05, 0x00, 0x1a, 0x08, 0, 0, 0,			/* WSCALE_REPL 8 */
		0x00, 0x08, 0x00, 0x0c, 198, 18, 9, 9,			/* SNAT_IPV4 */
		0x00, 0x08, 0x00, 0x1b, 'f', 't', 'p', 0,		/* HELPER_NAME "ftp" */
		0x00, 0x0c, 0x00, 0x1c, 0, 0, 0, 1, 0, 0, 0, 0,		/* LABELS, 2 words */
		0x00, 0x10, 0x00, 0x1f, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,	/* SYNPROXY */
	};

	memcpy(d, tcp4_new, n);
	memcpy(d + n, extras, sizeof(extras));
	n += sizeof(extras);
	d[2] = (uint8_t)(n >> 8), d[3] = (uint8_t)n;
	CU_ASSERT_EQUAL(decode1(d, n, &m), 0);
	CU_ASSERT(m.flow.have & NFQCT_SYNC_HAVE_WSCALE);
	CU_ASSERT_EQUAL(m.flow.tcp_wscale[0], 7);
	CU_ASSERT_EQUAL(m.flow.tcp_wscale[1], 8);
	CU_ASSERT(m.flow.have & NFQCT_SYNC_HAVE_NAT);
	CU_ASSERT(m.flow.have & NFQCT_SYNC_HAVE_HELPER);
	CU_ASSERT_STRING_EQUAL(m.flow.helper, "ftp");
}

/* Patch the message at @d (@n bytes) with its new length. */
static void set_len(uint8_t *d, size_t n)
{
	d[2] = (uint8_t)(n >> 8);
	d[3] = (uint8_t)n;
}

static void test_bad_framing(void)
{
	uint8_t d[512] = { 0 };

	/* empty, short, wrong version, length below the header or beyond the datagram */
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, 0), -EBADMSG);
	memcpy(d, tcp4_new, sizeof(tcp4_new));
	for (size_t cut = 1; cut < sizeof(tcp4_new); cut++)
		CU_ASSERT_EQUAL(nfqct_sync_frame(d, cut), -EBADMSG);
	d[0] = 0x20;
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, sizeof(tcp4_new)), -EPROTONOSUPPORT);
	d[0] = 0x00;
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, sizeof(tcp4_new)), -EPROTONOSUPPORT);
	memcpy(d, tcp4_new, sizeof(tcp4_new));
	set_len(d, 7);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, sizeof(tcp4_new)), -EBADMSG);
	set_len(d, 0);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, sizeof(tcp4_new)), -EBADMSG);
	set_len(d, sizeof(tcp4_new) + 1);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, sizeof(tcp4_new)), -EBADMSG);
	/* an ACK of 8 bytes: nethdr_ack is 16 */
	memcpy(d, ctl_ack, 16);
	set_len(d, 8);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, 16), -EBADMSG);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, 8), -EBADMSG);
	/* a good message then a cut one: the whole datagram goes */
	memcpy(d, tcp4_new, sizeof(tcp4_new));
	memcpy(d + sizeof(tcp4_new), ctl_ack, 16);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, sizeof(tcp4_new) + 16), 2);
	CU_ASSERT_EQUAL(nfqct_sync_frame(d, sizeof(tcp4_new) + 15), -EBADMSG);
}

/* Body errors: the header is known, the message is refused whole. */
#define expect_proto(d, n, sq) do {					\
		struct nfqct_sync_msg m_;					\
									\
		CU_ASSERT_EQUAL(decode1((d), (n), &m_), -EPROTO);		\
		CU_ASSERT_EQUAL(m_.seq, (sq));					\
	} while (0)

static void test_bad_body(void)
{
	uint8_t d[512];
	size_t n = sizeof(tcp4_new);

	/* an unknown attribute type (33, and one between the standard and nfqct's) */
	memcpy(d, tcp4_new, n);
	d[n - 8 + 3] = 33;
	expect_proto(d, n, 0x01020304);
	d[n - 8 + 2] = 0x4e, d[n - 8 + 3] = 0x50;
	expect_proto(d, n, 0x01020304);
	/* a wrong size: MARK of 3 bytes, TIMEOUT of 5 */
	memcpy(d, tcp4_new, n);
	d[n - 8 + 1] = 7;
	expect_proto(d, n, 0x01020304);
	memcpy(d, tcp4_new, n);
	d[n - 16 + 1] = 9;
	expect_proto(d, n, 0x01020304);
	/* an attribute running past its message, one below its own header */
	memcpy(d, tcp4_new, n);
	d[n - 8 + 1] = 12;
	expect_proto(d, n, 0x01020304);
	memcpy(d, tcp4_new, n);
	d[n - 8 + 1] = 3;
	expect_proto(d, n, 0x01020304);
	/* a duplicate (MARK twice) */
	memcpy(d, tcp4_new, n);
	memcpy(d + n, tcp4_new + n - 8, 8);
	set_len(d, n + 8);
	expect_proto(d, n + 8, 0x01020304);
	/* trailing bytes shorter than an attribute header */
	memcpy(d, tcp4_new, n);
	memset(d + n, 0, 2);
	set_len(d, n + 2);
	expect_proto(d, n + 2, 0x01020304);
	/* missing: the port (drop NTA_PORT by turning it into a second STATUS) */
	memcpy(d, tcp4_new, n);
	d[36 + 3] = 0x05;
	expect_proto(d, n, 0x01020304);
	/* a TCP state out of range */
	memcpy(d, tcp4_new, n);
	d[44 + 4] = NFQCT_TCP_STATE_MAX;
	expect_proto(d, n, 0x01020304);
	/* TCP without its state: every message cut at an attribute boundary lacks something */
	memcpy(d, tcp4_new, n);
	for (size_t cut = 8; cut < 52; cut += 4) {
		struct nfqct_sync_msg m;
		int r;

		set_len(d, cut);
		r = decode1(d, cut, &m);
		CU_ASSERT_EQUAL(r, -EPROTO);
	}
	/* data messages carry no ACK flag; a backwards ACK range; control without a flag */
	memcpy(d, tcp4_new, n);
	d[1] = NFQCT_SYNC_F_ACK;
	expect_proto(d, n, 0x01020304);
	memcpy(d, ctl_ack, 16);
	d[11] = 0x15;		/* from 21 > to 20 */
	expect_proto(d, 16, 100);
	memcpy(d, ctl_alive_hello, 8);
	d[1] = NFQCT_SYNC_F_HELLO;
	expect_proto(d, 8, 0xffffffffu);
	/* unknown types: 6 to 9, 11 to 15 */
	for (uint8_t t = 6; t < 16; t++) {
		if (t == NFQCT_SYNC_T_CTL)
			continue;
		memcpy(d, tcp4_new, n);
		d[0] = (uint8_t)(0x10 | t);
		expect_proto(d, n, 0x01020304);
	}
	/* an expectation: framed, skipped */
	{
		struct nfqct_sync_msg m;

		memcpy(d, tcp4_new, n);
		d[0] = 0x13;
		CU_ASSERT_EQUAL(decode1(d, n, &m), -EOPNOTSUPP);
	}
	/* ICMP without its id; ports on ICMP */
	memcpy(d, icmp4_del, sizeof(icmp4_del));
	d[44 + 3] = 0x07;	/* ICMP_ID -> a 2-byte MARK: wrong size */
	expect_proto(d, sizeof(icmp4_del), 9);
	memcpy(d, icmp4_del, sizeof(icmp4_del));
	memcpy(d + sizeof(icmp4_del), tcp4_new + 36, 8);	/* NTA_PORT */
	set_len(d, sizeof(icmp4_del) + 8);
	expect_proto(d, sizeof(icmp4_del) + 8, 9);
	/* both address families; a helper name without its NUL */
	memcpy(d, tcp4_new, n);
	memcpy(d + n, udp6_upd + 8, 36);
	set_len(d, n + 36);
	expect_proto(d, n + 36, 0x01020304);
	memcpy(d, tcp4_new, n);
	memcpy(d + n, "\x00\x08\x00\x1b" "ftpx", 8);
	set_len(d, n + 8);
	expect_proto(d, n + 8, 0x01020304);
}

/* Every single-byte corruption of a valid datagram: decoded or refused, never beyond it. */
static void test_bitflips(void)
{
	uint8_t d[256];
	size_t n = 0;

	memcpy(d + n, tcp4_new, sizeof(tcp4_new)), n += sizeof(tcp4_new);
	memcpy(d + n, ctl_nack, sizeof(ctl_nack)), n += sizeof(ctl_nack);
	memcpy(d + n, sctp4_new, sizeof(sctp4_new)), n += sizeof(sctp4_new);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t c[256];
			size_t off = 0;
			struct nfqct_sync_msg m;
			int msgs, k = 0;

			memcpy(c, d, n);
			c[i] ^= (uint8_t)(1 << bit);
			msgs = nfqct_sync_frame(c, n);
			if (msgs < 0)
				continue;
			while (nfqct_sync_decode(c, n, &off, &m) != -ENODATA)
				k++;
			CU_ASSERT_EQUAL(k, msgs);
			CU_ASSERT_EQUAL(off, n);
		}
	}
}

static void test_entry_round_trip(void)
{
	struct nfqct_ct_entry e, back;
	struct nfqct_sync_flow f;

	memset(&e, 0, sizeof(e));
	e.tuple = tcp4_flow().tuple;
	e.zone = 3;
	e.mark = 0x10;
	e.flags = NFQCT_CT_F_SEEN_REPLY | NFQCT_CT_F_ASSURED | NFQCT_CT_F_ACCT;
	e.timeout_ms = 431998500;
	e.packets[0] = 10, e.packets[1] = 9, e.bytes[0] = 1000, e.bytes[1] = 900;
	e.proto.tcp.state = NFQCT_TCP_FIN_WAIT;
	nfqct_sync_flow_from_entry(&e, &f);
	CU_ASSERT_EQUAL(f.timeout_s, 431999);		/* rounded up */
	CU_ASSERT_EQUAL(f.status, 0x0e);
	CU_ASSERT_EQUAL(f.tcp_state, NFQCT_TCP_FIN_WAIT);
	CU_ASSERT(f.have & NFQCT_SYNC_HAVE_COUNTERS);

	CU_ASSERT_EQUAL(nfqct_sync_flow_to_entry(&f, 0, &back), 0);
	CU_ASSERT_EQUAL(memcmp(&back.tuple, &e.tuple, sizeof(e.tuple)), 0);
	CU_ASSERT_EQUAL(back.zone, 3);
	CU_ASSERT_EQUAL(back.mark, 0x10);
	CU_ASSERT_EQUAL(back.flags, e.flags);
	CU_ASSERT_EQUAL(back.timeout_ms, 431999000);
	CU_ASSERT_EQUAL(back.packets[1], 9);
	CU_ASSERT_EQUAL(back.bytes[0], 1000);
	CU_ASSERT_EQUAL(back.proto.tcp.state, NFQCT_TCP_FIN_WAIT);
	CU_ASSERT_EQUAL(back.proto.tcp.peer[0].maxwin, 0);	/* window picked up from traffic */

	/* no timeout on the wire: the caller's default; none at all: refused */
	f.have &= ~(uint32_t)NFQCT_SYNC_HAVE_TIMEOUT;
	CU_ASSERT_EQUAL(nfqct_sync_flow_to_entry(&f, 5000, &back), 0);
	CU_ASSERT_EQUAL(back.timeout_ms, 5000);
	CU_ASSERT_EQUAL(nfqct_sync_flow_to_entry(&f, 0, &back), -EINVAL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "TCP/IPv4 NEW, bytes", test_tcp4_bytes },
		{ "UDP/IPv6 UPDATE, bytes", test_udp6_bytes },
		{ "ICMP DESTROY, bytes", test_icmp4_bytes },
		{ "SCTP NEW, bytes", test_sctp4_bytes },
		{ "ACK, NACK, RESYNC, ALIVE, bytes", test_ctl_bytes },
		{ "several messages per datagram", test_datagram },
		{ "zone and counters to nfqct peers only", test_nfqct_only },
		{ "conntrackd's extra attributes", test_conntrackd_extras },
		{ "bad framing refuses the datagram", test_bad_framing },
		{ "bad bodies refuse the message", test_bad_body },
		{ "every bit flipped", test_bitflips },
		{ "entry round trip", test_entry_round_trip },
	};

	return unit_main("syncmsg", tests, UNIT_COUNT(tests));
}
