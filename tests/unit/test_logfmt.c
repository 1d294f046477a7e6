/*
 * test_logfmt.c - the LOG line on crafted packets, against the text the
 * kernel's nf_log_syslog.c writes for them (its format strings and
 * conditions, field by field; the namespace test rules-log.sh compares
 * with the running kernel's own lines).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfqct/logfmt.h"
#include "unit.h"

static uint8_t pkt[512];

/* @hex (blanks ignored) into pkt; returns the number of bytes. */
static uint32_t unhex(const char *hex)
{
	uint32_t n = 0;

	for (const char *s = hex; *s; ) {
		unsigned int v;

		if (*s == ' ') {
			s++;
			continue;
		}
		CU_ASSERT_FATAL(sscanf(s, "%2x", &v) == 1);
		pkt[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static const uint8_t mac_fw[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 };

static struct nfqct_logfmt_pkt base(const char *hex, int family)
{
	uint32_t n = unhex(hex);

	return (struct nfqct_logfmt_pkt){ .prefix = "", .family = (uint8_t)family, .in = "r0",
					  .out = "r1", .data = pkt, .caplen = n, .len = n };
}

static void check(const struct nfqct_logfmt_pkt *p, const char *want)
{
	char buf[1024];
	size_t n = nfqct_logfmt(buf, sizeof(buf), p);

	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_EQUAL(n, strlen(want));
	if (strcmp(buf, want))
		fprintf(stderr, "\n got: '%s'\nwant: '%s'\n", buf, want);
}

#define IP4_TCP_SYN \
	"45 00 00 3c 1c 46 40 00 40 06 00 00 c6 12 00 02 c6 12 01 02" \
	"9c 40 00 50 00 00 00 01 00 00 00 00 a0 02 fa f0 00 00 00 00" \
	"02 04 05 b4 04 02 08 0a 00 00 00 01 00 00 00 00 01 03 03 07"

static void test_ipv4_tcp(void)
{
	struct nfqct_logfmt_pkt p = base(IP4_TCP_SYN, AF_INET);

	p.prefix = "FW ";
	p.mac_len = 14;
	p.mac_ether = true;
	memcpy(p.mac, mac_fw, 14);
	check(&p, "FW IN=r0 OUT=r1 MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=198.18.0.2 "
	      "DST=198.18.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7238 DF PROTO=TCP SPT=40000 DPT=80 "
	      "WINDOW=64240 RES=0x00 SYN URGP=0 ");
	p.flags = NFQCT_LOG_TCPSEQ | NFQCT_LOG_TCPOPT;
	p.mark = 0x7;
	check(&p, "FW IN=r0 OUT=r1 MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=198.18.0.2 "
	      "DST=198.18.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7238 DF PROTO=TCP SPT=40000 DPT=80 "
	      "SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B40402080A000000010000000001030307) "
	      "MARK=0x7 ");
	/* --log-macdecode on an Ethernet device */
	p.flags = NFQCT_LOG_MACDECODE;
	p.mark = 0;
	check(&p, "FW IN=r0 OUT=r1 MACSRC=02:00:00:00:00:02 MACDST=02:00:00:00:00:01 MACPROTO=0800 "
	      "SRC=198.18.0.2 DST=198.18.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7238 DF PROTO=TCP "
	      "SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ");
	/* ... and on one that is not: the plain MAC= */
	p.mac_ether = false;
	check(&p, "FW IN=r0 OUT=r1 MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=198.18.0.2 "
	      "DST=198.18.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7238 DF PROTO=TCP "
	      "SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ");
	/* the header cut short: INCOMPLETE, and the line ends there (no MARK) */
	p = base(IP4_TCP_SYN, AF_INET);
	p.in = NULL;
	p.mark = 1;
	p.caplen = p.len = 30;
	check(&p, "IN= OUT=r1 SRC=198.18.0.2 DST=198.18.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7238 DF "
	      "PROTO=TCP INCOMPLETE [10 bytes] ");
	/* options asked for but not all there */
	p.caplen = p.len = 50;
	p.flags = NFQCT_LOG_TCPOPT;
	check(&p, "IN= OUT=r1 SRC=198.18.0.2 DST=198.18.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7238 DF "
	      "PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (TRUNCATED)");
	/* no IP header at all */
	p.caplen = p.len = 12;
	check(&p, "IN= OUT=r1 TRUNCATED");
}

static void test_ipv4_udp_options_owner(void)
{
	/* DSCP EF (TOS byte 0xb8), TTL 1, a router-alert option, from a local socket */
	struct nfqct_logfmt_pkt p = base("46 b8 00 25 00 00 00 00 01 11 00 00 c6 12 00 02 c6 12 01 02"
					 "94 04 00 00 14 e9 00 35 00 0d 00 00 70 72 6f 62 65", AF_INET);

	p.in = NULL;
	check(&p, "IN= OUT=r1 SRC=198.18.0.2 DST=198.18.1.2 LEN=37 TOS=0x18 PREC=0xA0 TTL=1 ID=0 "
	      "PROTO=UDP SPT=5353 DPT=53 LEN=13 ");
	p.flags = NFQCT_LOG_IPOPT | NFQCT_LOG_UID;
	p.has_owner = true;
	p.uid = 1000;
	p.gid = 100;
	p.mark = 0xf0000001;
	check(&p, "IN= OUT=r1 SRC=198.18.0.2 DST=198.18.1.2 LEN=37 TOS=0x18 PREC=0xA0 TTL=1 ID=0 "
	      "OPT (94040000) PROTO=UDP SPT=5353 DPT=53 LEN=13 UID=1000 GID=100 MARK=0xf0000001 ");
	/* --log-uid without a socket owner (a forwarded packet): nothing */
	p.has_owner = false;
	p.flags = NFQCT_LOG_UID;
	p.mark = 0;
	check(&p, "IN= OUT=r1 SRC=198.18.0.2 DST=198.18.1.2 LEN=37 TOS=0x18 PREC=0xA0 TTL=1 ID=0 "
	      "PROTO=UDP SPT=5353 DPT=53 LEN=13 ");
}

static void test_ipv4_fragments(void)
{
	/* a later fragment (offset 185 * 8) with more to come, CE set: no ports */
	struct nfqct_logfmt_pkt p = base("45 00 00 1c 00 2a a0 b9 40 11 00 00 c6 12 00 02 c6 12 01 02"
					 "00 01 02 03 04 05 06 07", AF_INET);

	p.in = "r0";
	p.out = NULL;
	check(&p, "IN=r0 OUT= MAC= SRC=198.18.0.2 DST=198.18.1.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=42 "
	      "CE MF FRAG:185 PROTO=UDP ");
	pkt[9] = IPPROTO_ICMP;
	check(&p, "IN=r0 OUT= MAC= SRC=198.18.0.2 DST=198.18.1.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=42 "
	      "CE MF FRAG:185 PROTO=ICMP ");
	pkt[9] = IPPROTO_AH;	/* the kernel prints nothing for a later AH fragment */
	check(&p, "IN=r0 OUT= MAC= SRC=198.18.0.2 DST=198.18.1.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=42 "
	      "CE MF FRAG:185 ");
	pkt[9] = 47;
	p.mark = 0x10;
	check(&p, "IN=r0 OUT= MAC= SRC=198.18.0.2 DST=198.18.1.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=42 "
	      "CE MF FRAG:185 PROTO=47 MARK=0x10 ");
}

static void test_ipv4_icmp(void)
{
	struct nfqct_logfmt_pkt p = base("45 00 00 24 00 07 40 00 40 01 00 00 c6 12 00 02 c6 12 01 02"
					 "08 00 00 00 12 34 00 01 00 01 02 03 04 05 06 07", AF_INET);

	p.in = NULL;
	check(&p, "IN= OUT=r1 SRC=198.18.0.2 DST=198.18.1.2 LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF "
	      "PROTO=ICMP TYPE=8 CODE=0 ID=4660 SEQ=1 ");
	/* port unreachable from the router (TOS 0xc0), quoting the UDP datagram */
	p = base("45 c0 00 38 ab cd 00 00 40 01 00 00 c6 12 00 01 c6 12 00 02"
		 "03 03 00 00 00 00 00 00"
		 "45 00 00 21 12 34 00 00 3f 11 00 00 c6 12 00 02 c6 12 01 02"
		 "14 e9 00 35 00 0d 00 00", AF_INET);
	p.in = NULL;
	p.mark = 0x5;
	check(&p, "IN= OUT=r1 SRC=198.18.0.1 DST=198.18.0.2 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=43981 "
	      "PROTO=ICMP TYPE=3 CODE=3 [SRC=198.18.0.2 DST=198.18.1.2 LEN=33 TOS=0x00 PREC=0x00 TTL=63 "
	      "ID=4660 PROTO=UDP SPT=5353 DPT=53 LEN=13 ] MARK=0x5 ");
	/* fragmentation needed: MTU after the quote */
	pkt[21] = 4;
	pkt[26] = 0x05;
	pkt[27] = 0x78;
	p.mark = 0;
	check(&p, "IN= OUT=r1 SRC=198.18.0.1 DST=198.18.0.2 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=43981 "
	      "PROTO=ICMP TYPE=3 CODE=4 [SRC=198.18.0.2 DST=198.18.1.2 LEN=33 TOS=0x00 PREC=0x00 TTL=63 "
	      "ID=4660 PROTO=UDP SPT=5353 DPT=53 LEN=13 ] MTU=1400 ");
	/* an error too short for its quote: INCOMPLETE */
	p.caplen = p.len = 40;
	check(&p, "IN= OUT=r1 SRC=198.18.0.1 DST=198.18.0.2 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=43981 "
	      "PROTO=ICMP TYPE=3 CODE=4 INCOMPLETE [20 bytes] ");
	/* a redirect: GATEWAY= and then the quote */
	p.caplen = p.len = 56;
	pkt[20] = 5;
	pkt[21] = 1;
	memcpy(pkt + 24, "\xc6\x12\x00\x09", 4);
	check(&p, "IN= OUT=r1 SRC=198.18.0.1 DST=198.18.0.2 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=43981 "
	      "PROTO=ICMP TYPE=5 CODE=1 GATEWAY=198.18.0.9 [SRC=198.18.0.2 DST=198.18.1.2 LEN=33 "
	      "TOS=0x00 PREC=0x00 TTL=63 ID=4660 PROTO=UDP SPT=5353 DPT=53 LEN=13 ] ");
	/* parameter problem: its pointer, no quote */
	pkt[20] = 12;
	pkt[21] = 0;
	check(&p, "IN= OUT=r1 SRC=198.18.0.1 DST=198.18.0.2 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=43981 "
	      "PROTO=ICMP TYPE=12 CODE=0 PARAMETER=198 ");
}

#define IP6_TCP \
	"6b 81 23 45 00 14 06 3f" \
	"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02" \
	"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 02" \
	"9c 40 01 bb 00 00 00 01 00 00 00 02 5b d9 02 00 00 00 00 07"

static void test_ipv6_tcp(void)
{
	struct nfqct_logfmt_pkt p = base(IP6_TCP, AF_INET6);

	/* every flag, AE and reserved bits; no link-layer header (MAC= ) */
	check(&p, "IN=r0 OUT=r1 MAC= SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=60 TC=184 HOPLIMIT=63 FLOWLBL=74565 "
	      "PROTO=TCP SPT=40000 DPT=443 WINDOW=512 RES=0x28 AE CWR ECE ACK PSH FIN URGP=7 ");
	p.flags = NFQCT_LOG_TCPSEQ | NFQCT_LOG_UID;
	p.has_owner = true;
	p.uid = 0;
	p.gid = 0;
	p.mark = 0xabc;
	p.in = NULL;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=60 TC=184 HOPLIMIT=63 FLOWLBL=74565 "
	      "PROTO=TCP SPT=40000 DPT=443 SEQ=1 ACK=2 WINDOW=512 RES=0x28 AE CWR ECE ACK PSH FIN URGP=7 "
	      "UID=0 GID=0 MARK=0xabc ");
}

#define IP6_HDR(plen, nh) \
	"60 00 00 00 00 " plen " " nh " 40" \
	"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02" \
	"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 02"

static void test_ipv6_ext_fragments(void)
{
	/* hop-by-hop (8 bytes), then the first fragment (more to come) of a UDP datagram */
	struct nfqct_logfmt_pkt p = base(IP6_HDR("20", "00")
		"2c 00 05 02 00 00 00 00"
		"11 00 00 01 de ad be ef"
		"14 e9 00 35 00 0d 00 00 70 72 6f 62 65", AF_INET6);

	p.in = NULL;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "FRAG:0 INCOMPLETE ID:deadbeef PROTO=UDP SPT=5353 DPT=53 LEN=13 ");
	p.flags = NFQCT_LOG_IPOPT;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "OPT ( ) OPT ( FRAG:0 INCOMPLETE ID:deadbeef ) PROTO=UDP SPT=5353 DPT=53 LEN=13 ");
	/* a later fragment (offset 1232), the last: no ports */
	p = base(IP6_HDR("10", "2c")
		"11 00 04 d0 de ad be ef"
		"00 01 02 03 04 05 06 07", AF_INET6);
	p.in = NULL;
	p.mark = 3;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "FRAG:1232 ID:deadbeef PROTO=UDP MARK=0x3 ");
	/* after a later fragment, a destination-options header ends the line */
	pkt[40] = 60;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "FRAG:1232 ID:deadbeef ");
	/* no next header */
	p = base(IP6_HDR("00", "3b"), AF_INET6);
	p.in = NULL;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=40 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=59 ");
}

static void test_ipv6_icmp(void)
{
	struct nfqct_logfmt_pkt p = base(IP6_HDR("10", "3a")
		"80 00 00 00 42 42 00 01 00 01 02 03 04 05 06 07", AF_INET6);

	p.in = NULL;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "PROTO=ICMPv6 TYPE=128 CODE=0 ID=16962 SEQ=1 ");
	/* port unreachable quoting a UDP datagram */
	p = base(IP6_HDR("38", "3a")
		"01 04 00 00 00 00 00 00"
		"60 00 00 00 00 0d 11 3f"
		"20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 02"
		"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
		"00 35 14 e9 00 0d 00 00", AF_INET6);
	p.in = NULL;
	p.mark = 0xc0000000;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=96 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "PROTO=ICMPv6 TYPE=1 CODE=4 [SRC=2001:0db8:0001:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0000:0000:0000:0000:0000:0002 LEN=53 TC=0 HOPLIMIT=63 FLOWLBL=0 "
	      "PROTO=UDP SPT=53 DPT=5353 LEN=13 ] MARK=0xc0000000 ");
	/* packet too big: the quote, then MTU */
	pkt[40] = 2;
	pkt[41] = 0;
	pkt[46] = 0x05;
	pkt[47] = 0x00;
	p.mark = 0;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=96 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "PROTO=ICMPv6 TYPE=2 CODE=0 [SRC=2001:0db8:0001:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0000:0000:0000:0000:0000:0002 LEN=53 TC=0 HOPLIMIT=63 FLOWLBL=0 "
	      "PROTO=UDP SPT=53 DPT=5353 LEN=13 ] MTU=1280 ");
	/* an MLD report: type and code only */
	pkt[40] = 131;
	check(&p, "IN= OUT=r1 SRC=2001:0db8:0000:0000:0000:0000:0000:0002 "
	      "DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=96 TC=0 HOPLIMIT=64 FLOWLBL=0 "
	      "PROTO=ICMPv6 TYPE=131 CODE=0 ");
}

static void test_small_buffer(void)
{
	struct nfqct_logfmt_pkt p = base(IP4_TCP_SYN, AF_INET);
	char buf[16];
	size_t n;

	n = nfqct_logfmt(buf, sizeof(buf), &p);
	CU_ASSERT_STRING_EQUAL(buf, "IN=r0 OUT=r1 MA");
	CU_ASSERT_EQUAL(n, strlen("IN=r0 OUT=r1 MAC= SRC=198.18.0.2 DST=198.18.1.2 LEN=60 TOS=0x00 "
				  "PREC=0x00 TTL=64 ID=7238 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 "
				  "RES=0x00 SYN URGP=0 "));
}

static void test_levels(void)
{
	static const struct { const char *s; int level; } c[] = {
		{ "0", 0 }, { "7", 7 }, { "8", -1 }, { "emerg", 0 }, { "panic", 0 }, { "alert", 1 },
		{ "crit", 2 }, { "error", 3 }, { "err", -1 }, { "warning", 4 }, { "warn", -1 },
		{ "notice", 5 }, { "info", 6 }, { "debug", 7 }, { "", -1 }, { "44", -1 },
	};

	for (size_t i = 0; i < UNIT_COUNT(c); i++)
		CU_ASSERT_EQUAL(nfqct_log_level_find(c[i].s), c[i].level);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "IPv4 TCP: MAC, sequence, options, macdecode, INCOMPLETE", test_ipv4_tcp },
		{ "IPv4 UDP: TOS/PREC, IP options, owner, mark", test_ipv4_udp_options_owner },
		{ "IPv4 fragments", test_ipv4_fragments },
		{ "IPv4 ICMP: echo, errors with their quote, MTU, redirect", test_ipv4_icmp },
		{ "IPv6 TCP: flags, sequence, owner", test_ipv6_tcp },
		{ "IPv6 extension headers and fragments", test_ipv6_ext_fragments },
		{ "ICMPv6: echo, errors with their quote, MTU, MLD", test_ipv6_icmp },
		{ "a buffer too small", test_small_buffer },
		{ "--log-level names", test_levels },
	};

	return unit_main("logfmt", tests, UNIT_COUNT(tests));
}
