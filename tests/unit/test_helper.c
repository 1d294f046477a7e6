/*
 * test_helper.c - the FTP and TFTP parsers (helper.h) and the expectation
 * table (expect.h): every command and reply form, lines split across
 * segments, malformed lines, the kernel's limits.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "unit.h"
#include "nfqct/expect.h"
#include "nfqct/helper.h"

static union nfqct_addr a4(const char *s)
{
	union nfqct_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a;
}

static union nfqct_addr a6(const char *s)
{
	union nfqct_addr a = { 0 };

	inet_pton(AF_INET6, s, &a);
	return a;
}

static int parse4(const char *line, bool reply, struct nfqct_ftp_cmd *cmd)
{
	union nfqct_addr me = a4("198.18.0.1");

	return nfqct_ftp_parse(line, strlen(line), reply, AF_INET, &me, cmd);
}

static void test_port(void)
{
	struct nfqct_ftp_cmd c;
	union nfqct_addr want = a4("198.18.0.1");

	CU_ASSERT_EQUAL(parse4("PORT 198,18,0,1,19,137\r\n", false, &c), 1);
	CU_ASSERT_EQUAL(c.type, NFQCT_FTP_PORT);
	CU_ASSERT_EQUAL(memcmp(&c.addr, &want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(ntohs(c.port), 19 * 256 + 137);
	CU_ASSERT_EQUAL(c.off, 5);
	CU_ASSERT_EQUAL(c.len, strlen("198,18,0,1,19,137"));
	/* case-insensitive, as strncasecmp */
	CU_ASSERT_EQUAL(parse4("port 198,18,0,1,0,21\r\n", false, &c), 1);
	CU_ASSERT_EQUAL(ntohs(c.port), 21);
	/* a reply pattern is not looked for in the client's direction */
	CU_ASSERT_EQUAL(parse4("227 Entering Passive Mode (198,18,0,1,4,1).\r\n", false, &c), 0);
	CU_ASSERT_EQUAL(parse4("USER anonymous\r\n", false, &c), 0);
	/* malformed: numbers missing, no '\r' terminator, bad character */
	CU_ASSERT_EQUAL(parse4("PORT 198,18,0,1,19\r\n", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("PORT 198,18,0,1,19,137\n", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("PORT 198,18,x,1,19,137\r\n", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("PORTX\r\n", false, &c), -1);	/* no ' ' to skip to */
}

static void test_split(void)
{
	struct nfqct_ftp_cmd c;

	/* a segment shorter than the pattern that starts like it: partial */
	CU_ASSERT_EQUAL(parse4("POR", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("ep", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("22", true, &c), -1);
	/* the command cut inside its numbers: partial (the kernel drops it) */
	CU_ASSERT_EQUAL(parse4("PORT 198,18,0,1,1", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("227 Entering Passive Mode (198,18,0,", true, &c), -1);
	/* the rest of a split line is not a command */
	CU_ASSERT_EQUAL(parse4(",19,137\r\n", false, &c), 0);
	CU_ASSERT_EQUAL(parse4("", false, &c), 0);
}

static void test_eprt(void)
{
	struct nfqct_ftp_cmd c;
	union nfqct_addr me6 = a6("2001:db8::1"), want6 = a6("2001:db8::1");
	const char *l6 = "EPRT |2|2001:db8::1|5001|\r\n";

	CU_ASSERT_EQUAL(parse4("EPRT |1|198.18.0.1|5001|\r\n", false, &c), 1);
	CU_ASSERT_EQUAL(c.type, NFQCT_FTP_EPRT);
	CU_ASSERT_EQUAL(ntohs(c.port), 5001);
	CU_ASSERT_EQUAL(c.addr.ip, a4("198.18.0.1").ip);
	/* any printable non-digit delimiter */
	CU_ASSERT_EQUAL(parse4("EPRT !1!198.18.0.1!5001!\r\n", false, &c), 1);
	/* IPv6 */
	CU_ASSERT_EQUAL(nfqct_ftp_parse(l6, strlen(l6), false, AF_INET6, &me6, &c), 1);
	CU_ASSERT_EQUAL(memcmp(&c.addr, &want6, 16), 0);
	CU_ASSERT_EQUAL(ntohs(c.port), 5001);
	/* the other family's form is refused on each */
	CU_ASSERT_EQUAL(nfqct_ftp_parse("EPRT |1|198.18.0.1|5001|\r\n", 26, false, AF_INET6, &me6, &c), -1);
	CU_ASSERT_EQUAL(parse4("EPRT |2|2001:db8::1|5001|\r\n", false, &c), -1);
	/* malformed: digit delimiter, port 0, no final delimiter, bad address */
	CU_ASSERT_EQUAL(parse4("EPRT 111198.18.0.1150011\r\n", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("EPRT |1|198.18.0.1|0|\r\n", false, &c), -1);
	CU_ASSERT_EQUAL(parse4("EPRT |1|198.18.0.1|5001\r\n", false, &c), -1);
	CU_ASSERT_EQUAL(nfqct_ftp_parse("EPRT |2|2001:zz8::1|5001|\r\n", 27, false, AF_INET6, &me6, &c), -1);
}

static void test_pasv(void)
{
	struct nfqct_ftp_cmd c;

	CU_ASSERT_EQUAL(parse4("227 Entering Passive Mode (198,18,0,1,200,10).\r\n", true, &c), 1);
	CU_ASSERT_EQUAL(c.type, NFQCT_FTP_PASV);
	CU_ASSERT_EQUAL(ntohs(c.port), 200 * 256 + 10);
	CU_ASSERT_EQUAL(c.addr.ip, a4("198.18.0.1").ip);
	CU_ASSERT_EQUAL(c.off, strlen("227 Entering Passive Mode ("));
	/* RFC 1123: no parentheses, numbers from the first digit */
	CU_ASSERT_EQUAL(parse4("227 =198,18,0,1,200,10\r\n", true, &c), 1);
	CU_ASSERT_EQUAL(ntohs(c.port), 200 * 256 + 10);
	/* no digit at all, or too few numbers: partial */
	CU_ASSERT_EQUAL(parse4("227 Entering Passive Mode\r\n", true, &c), -1);
	CU_ASSERT_EQUAL(parse4("227 (198,18,0,1)\r\n", true, &c), -1);
	/* other replies */
	CU_ASSERT_EQUAL(parse4("226 Transfer complete.\r\n", true, &c), 0);
	CU_ASSERT_EQUAL(parse4("2270 x\r\n", true, &c), 0);
}

static void test_epsv(void)
{
	struct nfqct_ftp_cmd c;
	union nfqct_addr me6 = a6("2001:db8::2");
	const char *l = "229 Entering Extended Passive Mode (|||6446|)\r\n";

	CU_ASSERT_EQUAL(parse4(l, true, &c), 1);
	CU_ASSERT_EQUAL(c.type, NFQCT_FTP_EPSV);
	CU_ASSERT_EQUAL(ntohs(c.port), 6446);
	CU_ASSERT_EQUAL(c.addr.ip, a4("198.18.0.1").ip);	/* the sender's */
	CU_ASSERT_EQUAL(nfqct_ftp_parse(l, strlen(l), true, AF_INET6, &me6, &c), 1);
	CU_ASSERT_EQUAL(memcmp(&c.addr, &me6, 16), 0);
	CU_ASSERT_EQUAL(parse4("229 Entering Extended Passive Mode (|||0|)\r\n", true, &c), -1);
	CU_ASSERT_EQUAL(parse4("229 Entering Extended Passive Mode (||6446|)\r\n", true, &c), -1);
	CU_ASSERT_EQUAL(parse4("229 Entering Extended Passive Mode\r\n", true, &c), -1);
}

/* A TCP packet of @payload from @src:@sp to @dst:@dp at @seq, parsed. */
static void tcp_pkt(struct pb *b, struct nfqct_pkt *pkt, const char *src, const char *dst,
		    uint16_t sp, uint16_t dp, uint32_t seq, const char *payload)
{
	pb_init(b);
	pb_ip(b, IPPROTO_TCP, src, dst);
	pb_tcp_seg(b, sp, dp, 0x18, seq, 1, 0);
	pb_bytes(b, payload, (uint32_t)strlen(payload));
	pb_fix(b);
	memset(pkt, 0, sizeof(*pkt));
	pkt->data = b->b;
	pkt->caplen = pkt->len = b->n;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(pkt), 0);
}

static void test_help_seq(void)
{
	struct nfqct_ftp_state st = { 0 };
	struct nfqct_help_expect e;
	struct nfqct_pkt pkt;
	struct pb b;

	/* the first line of a direction is never parsed, only remembered */
	tcp_pkt(&b, &pkt, "198.18.0.1", "198.18.1.1", 40000, 21, 1000, "PORT 198,18,0,1,19,137\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, false, &e), NFQCT_HELP_ACCEPT);
	/* the next line starts where that one ended: parsed */
	tcp_pkt(&b, &pkt, "198.18.0.1", "198.18.1.1", 40000, 21, 1024, "PORT 198,18,0,1,19,137\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, false, &e), NFQCT_HELP_EXPECT);
	CU_ASSERT_EQUAL(e.tuple.src.ip, a4("198.18.1.1").ip);
	CU_ASSERT_EQUAL(e.tuple.dst.ip, a4("198.18.0.1").ip);
	CU_ASSERT_EQUAL(e.tuple.sp.port, 0);
	CU_ASSERT_EQUAL(ntohs(e.tuple.dp.port), 19 * 256 + 137);
	CU_ASSERT_EQUAL(e.tuple.proto, IPPROTO_TCP);
	/* a line split over two segments: the first half is partial and
	 * dropped; the rest does not start a line, so is never parsed */
	tcp_pkt(&b, &pkt, "198.18.0.1", "198.18.1.1", 40000, 21, 1048, "PORT 198,18,0");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, false, &e), NFQCT_HELP_DROP);
	tcp_pkt(&b, &pkt, "198.18.0.1", "198.18.1.1", 40000, 21, 1061, ",1,19,138\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, false, &e), NFQCT_HELP_ACCEPT);
	/* the line after it is at a remembered start again */
	tcp_pkt(&b, &pkt, "198.18.0.1", "198.18.1.1", 40000, 21, 1072, "EPRT |1|198.18.0.1|5002|\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, false, &e), NFQCT_HELP_EXPECT);
	CU_ASSERT_EQUAL(ntohs(e.tuple.dp.port), 5002);
	/* an address other than the sender's: not expected (loose=0) */
	tcp_pkt(&b, &pkt, "198.18.0.1", "198.18.1.1", 40000, 21, 1098, "PORT 198,18,0,9,19,137\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, false, &e), NFQCT_HELP_ACCEPT);
	/* a retransmission of a remembered line start is parsed again */
	tcp_pkt(&b, &pkt, "198.18.0.1", "198.18.1.1", 40000, 21, 1098, "PORT 198,18,0,1,19,139\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, false, &e), NFQCT_HELP_EXPECT);
	/* the server's direction keeps its own line starts */
	tcp_pkt(&b, &pkt, "198.18.1.1", "198.18.0.1", 21, 40000, 5000, "220 hello\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, true, &e), NFQCT_HELP_ACCEPT);
	tcp_pkt(&b, &pkt, "198.18.1.1", "198.18.0.1", 21, 40000, 5011,
		"227 Entering Passive Mode (198,18,1,1,39,17).\r\n");
	CU_ASSERT_EQUAL(nfqct_ftp_help(&st, &pkt, true, &e), NFQCT_HELP_EXPECT);
	CU_ASSERT_EQUAL(e.tuple.src.ip, a4("198.18.0.1").ip);
	CU_ASSERT_EQUAL(e.tuple.dst.ip, a4("198.18.1.1").ip);
	CU_ASSERT_EQUAL(ntohs(e.tuple.dp.port), 39 * 256 + 17);
}

static void test_tftp(void)
{
	struct nfqct_help_expect e;
	struct nfqct_pkt pkt;
	struct pb b;
	static const uint8_t rrq[] = { 0, 1, 'f', 0, 'o', 'c', 't', 'e', 't', 0 };
	static const uint8_t data[] = { 0, 3, 0, 1, 'x' };

	pb_init(&b);
	pb_ip(&b, IPPROTO_UDP, "198.18.0.1", "198.18.1.1");
	pb_udp(&b, 40000, 69, 8 + sizeof(rrq));
	pb_bytes(&b, rrq, sizeof(rrq));
	pb_fix(&b);
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = b.b;
	pkt.caplen = pkt.len = b.n;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&pkt), 0);
	CU_ASSERT_EQUAL(nfqct_tftp_help(&pkt, &pkt.tuple, &e), NFQCT_HELP_EXPECT);
	CU_ASSERT_EQUAL(e.tuple.src.ip, a4("198.18.1.1").ip);
	CU_ASSERT_EQUAL(e.tuple.dst.ip, a4("198.18.0.1").ip);
	CU_ASSERT_EQUAL(e.tuple.sp.port, 0);
	CU_ASSERT_EQUAL(ntohs(e.tuple.dp.port), 40000);
	CU_ASSERT_EQUAL(e.tuple.proto, IPPROTO_UDP);

	pb_init(&b);
	pb_ip(&b, IPPROTO_UDP, "198.18.0.1", "198.18.1.1");
	pb_udp(&b, 40000, 69, 8 + sizeof(data));
	pb_bytes(&b, data, sizeof(data));
	pb_fix(&b);
	pkt.data = b.b;
	pkt.caplen = pkt.len = b.n;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&pkt), 0);
	CU_ASSERT_EQUAL(nfqct_tftp_help(&pkt, &pkt.tuple, &e), NFQCT_HELP_ACCEPT);
}

static bool alive(const void *owner)
{
	return owner != (const void *)0xdead;
}

static struct nfqct_expect exp_of(const char *src, const char *dst, uint16_t dport, const void *owner)
{
	struct nfqct_expect e = { .owner = owner, .helper = NFQCT_HELPER_FTP, .expires_ms = 300000 };

	e.tuple.family = AF_INET;
	e.tuple.proto = IPPROTO_TCP;
	e.tuple.src = a4(src);
	e.tuple.dst = a4(dst);
	e.tuple.dp.port = htons(dport);
	e.master = e.tuple;
	return e;
}

static void test_expect_table(void)
{
	struct nfqct_expect_table *t = nfqct_expect_create();
	struct nfqct_ct_stats st = { 0 };
	struct nfqct_expect e, got;
	struct nfqct_tuple flow;
	const void *m1 = (const void *)0x1000, *m2 = (const void *)0x2000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	e = exp_of("198.18.1.1", "198.18.0.1", 5001, m1);
	CU_ASSERT_EQUAL(nfqct_expect_add(t, &st, &e, 1024, 1, alive, 0), 0);
	CU_ASSERT_EQUAL(nfqct_expect_count(t), 1);
	CU_ASSERT_EQUAL(st.expect_create, 1);
	/* another master, same flow: a clash */
	e.owner = m2;
	CU_ASSERT_EQUAL(nfqct_expect_add(t, &st, &e, 1024, 1, alive, 0), -EBUSY);
	/* the same master again (max_expected 1): the old one is replaced */
	e = exp_of("198.18.1.1", "198.18.0.1", 5002, m1);
	CU_ASSERT_EQUAL(nfqct_expect_add(t, &st, &e, 1024, 1, alive, 0), 0);
	CU_ASSERT_EQUAL(nfqct_expect_count(t), 1);
	CU_ASSERT_EQUAL(st.expect_create, 2);
	CU_ASSERT_EQUAL(st.expect_delete, 1);
	/* the table limit */
	e = exp_of("198.18.1.1", "198.18.0.1", 5003, m2);
	CU_ASSERT_EQUAL(nfqct_expect_add(t, &st, &e, 1, 1, alive, 0), -EMFILE);
	/* a dying master adds nothing */
	e.owner = (const void *)0xdead;
	CU_ASSERT_EQUAL(nfqct_expect_add(t, &st, &e, 1024, 1, alive, 0), -ESHUTDOWN);

	/* a flow from any source port takes it, once */
	flow = exp_of("198.18.1.1", "198.18.0.1", 5002, NULL).tuple;
	flow.sp.port = htons(20);
	CU_ASSERT_FALSE(nfqct_expect_take(t, &st, &flow, 1, 0, &got));	/* other zone */
	CU_ASSERT_TRUE(nfqct_expect_take(t, &st, &flow, 0, 0, &got));
	CU_ASSERT_PTR_EQUAL(got.owner, m1);
	CU_ASSERT_FALSE(nfqct_expect_take(t, &st, &flow, 0, 0, &got));
	CU_ASSERT_EQUAL(st.expect_delete, 2);

	/* expiry, and removal with the master */
	e = exp_of("198.18.1.1", "198.18.0.1", 5004, m1);
	CU_ASSERT_EQUAL(nfqct_expect_add(t, &st, &e, 1024, 1, alive, 0), 0);
	CU_ASSERT_EQUAL(nfqct_expect_gc(t, &st, 299999), 0);
	CU_ASSERT_EQUAL(nfqct_expect_gc(t, &st, 300000), 1);
	e = exp_of("198.18.1.1", "198.18.0.1", 5005, m2);
	CU_ASSERT_EQUAL(nfqct_expect_add(t, &st, &e, 1024, 1, alive, 0), 0);
	CU_ASSERT_EQUAL(nfqct_expect_remove_owner(t, &st, m1), 0);
	CU_ASSERT_EQUAL(nfqct_expect_remove_owner(t, &st, m2), 1);
	CU_ASSERT_EQUAL(nfqct_expect_count(t), 0);
	CU_ASSERT_EQUAL(st.expect_create, 4);
	CU_ASSERT_EQUAL(st.expect_delete, 4);
	nfqct_expect_destroy(t);
}

static void test_expect_dump(void)
{
	struct nfqct_expect_table *t = nfqct_expect_create();
	struct nfqct_expect e = exp_of("198.18.1.1", "198.18.0.1", 5001, (const void *)1);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	e.master = exp_of("198.18.0.1", "198.18.1.1", 21, NULL).tuple;
	e.master.sp.port = htons(40000);
	e.expires_ms = 300000;
	CU_ASSERT_EQUAL(nfqct_expect_add(t, NULL, &e, 1024, 1, NULL, 0), 0);
	CU_ASSERT_EQUAL(nfqct_expect_dump(t, f, 1500), 1);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf,
		"298 proto=6 src=198.18.1.1 dst=198.18.0.1 sport=0 dport=5001 "
		"mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 "
		"master-src=198.18.0.1 master-dst=198.18.1.1 sport=40000 dport=21 class=0 helper=ftp\n");
	free(buf);
	nfqct_expect_destroy(t);
}

static void test_names(void)
{
	CU_ASSERT_EQUAL(nfqct_helper_find("ftp"), NFQCT_HELPER_FTP);
	CU_ASSERT_EQUAL(nfqct_helper_find("tftp"), NFQCT_HELPER_TFTP);
	CU_ASSERT_EQUAL(nfqct_helper_find("sip"), -ENOENT);
	CU_ASSERT_EQUAL(nfqct_helper_proto(NFQCT_HELPER_FTP), IPPROTO_TCP);
	CU_ASSERT_EQUAL(nfqct_helper_proto(NFQCT_HELPER_TFTP), IPPROTO_UDP);
	CU_ASSERT_PTR_NULL(nfqct_helper_name(NFQCT_HELPER_NONE));
}

static const struct unit_test tests[] = {
	{ "PORT", test_port },
	{ "split and short segments", test_split },
	{ "EPRT, both families", test_eprt },
	{ "227 (PASV)", test_pasv },
	{ "229 (EPSV)", test_epsv },
	{ "line starts by sequence number", test_help_seq },
	{ "TFTP requests", test_tftp },
	{ "expectation table", test_expect_table },
	{ "conntrack -L expect format", test_expect_dump },
	{ "helper names", test_names },
};

int main(void)
{
	return unit_main("helper", tests, UNIT_COUNT(tests));
}
