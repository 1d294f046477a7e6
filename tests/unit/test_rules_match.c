/*
 * test_rules_match.c - CUnit suite for the extension matches (rules_match.c)
 * and -f: each match on packets built byte by byte and parsed by
 * nfqct_pkt_parse(), negated and not, both families, later fragments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "nfqct/addrs.h"
#include "nfqct/ct.h"
#include "nfqct/pkt.h"
#include "nfqct/rules.h"
#include "unit.h"

#define IN NFQCT_HOOK_INPUT
#define OUT NFQCT_HOOK_OUTPUT

static struct nfqct_ruleset *load_chain(const char *chain, const char *match)
{
	struct nfqct_ruleset *rs = NULL;
	char text[1024], *errs = NULL;
	size_t elen = 0;
	FILE *e = open_memstream(&errs, &elen);
	int rc;

	snprintf(text, sizeof(text), "*filter\n:%s DROP [0:0]\n-A %s %s -j ACCEPT\nCOMMIT\n", chain, chain,
		 match);
	rc = nfqct_ruleset_parse("t.rules", text, strlen(text), 1, &rs, e);
	fclose(e);
	if (rc)
		fprintf(stderr, "load failed (%d):\n%s", rc, errs);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	free(errs);
	return rs;
}

/* A ruleset whose INPUT policy is DROP with one ACCEPT rule with @match. */
static struct nfqct_ruleset *accept_if(const char *match)
{
	return load_chain("INPUT", match);
}

/* The packet in @b, parsed, queued at @hook. */
static struct nfqct_pkt parsed(const struct pb *b, uint8_t hook)
{
	struct nfqct_pkt p;

	memset(&p, 0, sizeof(p));
	p.data = b->b;
	p.caplen = p.len = b->n;
	p.hook = hook;
	CU_ASSERT_EQUAL_FATAL(nfqct_pkt_parse(&p), 0);
	return p;
}

static bool ok_ct(const struct nfqct_ruleset *rs, const struct nfqct_pkt *p, const struct nfqct_rules_ct *ct)
{
	struct nfqct_rules_verdict v;
	uint32_t mark = 0;

	nfqct_ruleset_filter(rs, 0, p, ct, 1, &mark, &v);
	return v.accept;
}

static bool ok(const struct nfqct_ruleset *rs, const struct nfqct_pkt *p)
{
	struct nfqct_rules_ct ct = { .state = NFQCT_CTSTATE_NEW };

	return ok_ct(rs, p, &ct);
}

/* Does @match accept the packet @p?  (loads, runs, frees) */
static bool matches(const char *match, const struct nfqct_pkt *p)
{
	struct nfqct_ruleset *rs = accept_if(match);
	bool r = ok(rs, p);

	nfqct_ruleset_free(rs);
	return r;
}

static bool matches_in(const char *chain, const char *match, const struct nfqct_pkt *p)
{
	struct nfqct_ruleset *rs = load_chain(chain, match);
	bool r = ok(rs, p);

	nfqct_ruleset_free(rs);
	return r;
}

/* A TCP segment with @flags and, when @opt, an MSS option (kind 2) in a 24-byte header. */
static void tcp_pkt(struct pb *b, const char *src, const char *dst, uint16_t dp, uint8_t flags, bool opt)
{
	uint8_t *h;

	pb_init(b);
	pb_ip(b, IPPROTO_TCP, src, dst);
	h = b->b + b->n;
	pb_tcp(b, 40000, dp, opt ? 6 : 5);
	h[13] = flags;
	if (opt) {
		h[20] = 2;
		h[21] = 4;
		h[22] = 0x05;
		h[23] = 0xb4;
	}
	pb_fix(b);
}

/* A later IPv4 fragment (offset 8 bytes) of protocol @proto with 8 bytes of data. */
static void later_frag4(struct pb *b, uint8_t proto)
{
	pb_init(b);
	pb_ip4(b, proto, "198.18.0.1", "198.18.0.2", 0, 1);
	pb_put(b, 8);
	pb_fix(b);
}

static void test_tcp_flags(void)
{
	static const uint8_t SYN = PB_SYN, ACK = PB_ACK, FIN = PB_FIN, RST = PB_RST;
	struct pb b;
	struct nfqct_pkt p;

	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 22, SYN, false);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-p tcp --syn", &p));
	CU_ASSERT_FALSE(matches("-p tcp ! --syn", &p));
	CU_ASSERT_TRUE(matches("-p tcp --tcp-flags SYN,ACK SYN", &p));
	CU_ASSERT_FALSE(matches("-p tcp --tcp-flags ALL NONE", &p));
	CU_ASSERT_TRUE(matches("-p tcp ! --tcp-flags ALL NONE", &p));
	CU_ASSERT_TRUE(matches("-p tcp --dport 22 --syn", &p));
	CU_ASSERT_FALSE(matches("-p tcp --dport 23 --syn", &p));

	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 22, SYN | ACK, false);
	p = parsed(&b, IN);
	CU_ASSERT_FALSE(matches("-p tcp --syn", &p));
	CU_ASSERT_TRUE(matches("-p tcp ! --syn", &p));
	CU_ASSERT_TRUE(matches("-p tcp --tcp-flags SYN,ACK SYN,ACK", &p));

	tcp_pkt(&b, "2001:db8::1", "2001:db8::2", 22, FIN | RST | 0x40 | 0x80, false);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-p tcp --tcp-flags ECE,CWR ECE,CWR", &p));
	CU_ASSERT_TRUE(matches("-p tcp --tcp-flags FIN,RST FIN,RST", &p));
	/* ALL is the six flags of RFC 793, as in iptables: ECE and CWR are not looked at */
	CU_ASSERT_TRUE(matches("-p tcp --tcp-flags ALL FIN,RST", &p));
	CU_ASSERT_FALSE(matches("-p tcp --tcp-flags ALL FIN,RST,ECE", &p));
	CU_ASSERT_TRUE(matches("-p tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG,ECE,CWR FIN,RST,ECE,CWR", &p));

	/* a UDP packet is never -m tcp, negated or not */
	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 22, 0);
	p = parsed(&b, IN);
	p.tuple.proto = IPPROTO_UDP;
	CU_ASSERT_FALSE(matches("-p tcp ! --syn", &p));
}

static void test_tcp_option(void)
{
	struct pb b;
	struct nfqct_pkt p;

	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 80, PB_SYN, true);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-p tcp --tcp-option 2", &p));
	CU_ASSERT_FALSE(matches("-p tcp ! --tcp-option 2", &p));
	CU_ASSERT_FALSE(matches("-p tcp --tcp-option 8", &p));
	CU_ASSERT_TRUE(matches("-p tcp ! --tcp-option 8", &p));

	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 80, PB_SYN, false);
	p = parsed(&b, IN);
	CU_ASSERT_FALSE(matches("-p tcp --tcp-option 2", &p));
	CU_ASSERT_TRUE(matches("-p tcp ! --tcp-option 2", &p));
}

static void test_later_fragments(void)
{
	struct pb b;
	struct nfqct_pkt p;

	/* no L4 header: tcp, multiport fail whether negated or not (xt_tcpudp, xt_multiport) */
	later_frag4(&b, IPPROTO_TCP);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(p.flags & NFQCT_PKT_F_LATER_FRAG);
	CU_ASSERT_FALSE(matches("-p tcp --syn", &p));
	CU_ASSERT_FALSE(matches("-p tcp ! --syn", &p));
	CU_ASSERT_FALSE(matches("-p tcp ! --tcp-option 2", &p));
	CU_ASSERT_FALSE(matches("-p tcp -m multiport ! --ports 1", &p));
	CU_ASSERT_TRUE(matches("-p tcp", &p));
	/* -f is exactly these */
	CU_ASSERT_TRUE(matches("-f", &p));
	CU_ASSERT_FALSE(matches("! -f", &p));
	CU_ASSERT_TRUE(matches("-p tcp -f", &p));

	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 80, PB_SYN, false);
	p = parsed(&b, IN);
	CU_ASSERT_FALSE(matches("-f", &p));
	CU_ASSERT_TRUE(matches("! -f", &p));

	/* an IPv6 later fragment is never -f (ip6tables has no -f) */
	pb_init(&b);
	pb_ip6(&b, IPPROTO_FRAGMENT, "2001:db8::1", "2001:db8::2");
	pb_frag6(&b, IPPROTO_TCP, 8, 0);
	pb_put(&b, 8);
	pb_fix(&b);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(p.flags & NFQCT_PKT_F_LATER_FRAG);
	CU_ASSERT_FALSE(matches("-f", &p));
	CU_ASSERT_TRUE(matches("! -f", &p));
	CU_ASSERT_FALSE(matches("-p tcp --syn", &p));
}

static void test_multiport(void)
{
	struct pb b;
	struct nfqct_pkt p;

	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 5353, 85, 4);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-p udp -m multiport --dports 53,80:90", &p));
	CU_ASSERT_FALSE(matches("-p udp -m multiport ! --dports 53,80:90", &p));
	CU_ASSERT_FALSE(matches("-p udp -m multiport --dports 53,80:84,86:90", &p));
	CU_ASSERT_TRUE(matches("-p udp -m multiport --sports 5353", &p));
	CU_ASSERT_FALSE(matches("-p udp -m multiport --sports 85", &p));
	CU_ASSERT_TRUE(matches("-p udp -m multiport --ports 85", &p));
	CU_ASSERT_TRUE(matches("-p udp -m multiport --ports 5353", &p));
	CU_ASSERT_FALSE(matches("-p udp -m multiport ! --ports 5353", &p));
	CU_ASSERT_TRUE(matches("-p udp -m multiport ! --ports 1,2", &p));
	CU_ASSERT_FALSE(matches("-p tcp -m multiport --ports 85", &p));
	/* two instances: both must match */
	CU_ASSERT_TRUE(matches("-p udp -m multiport --sports 5353 -m multiport --dports 85", &p));
	CU_ASSERT_FALSE(matches("-p udp -m multiport --sports 5353 -m multiport --dports 86", &p));
	/* names from /etc/services */
	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 53, 4);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-p udp -m multiport --dports domain", &p));
	CU_ASSERT_TRUE(matches("-p udp --dport domain", &p));
	CU_ASSERT_TRUE(matches("-p udp --dport 1:domain", &p));
}

static void test_icmp_names(void)
{
	struct pb b;
	struct nfqct_pkt p;

	pb_init(&b);
	pb_ip(&b, IPPROTO_ICMP, "198.18.0.1", "198.18.0.2");
	pb_icmp(&b, 8, 0, 7);
	pb_fix(&b);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-p icmp --icmp-type echo-request", &p));
	CU_ASSERT_TRUE(matches("-p icmp --icmp-type ping", &p));
	CU_ASSERT_TRUE(matches("-p icmp --icmp-type echo-req", &p));
	CU_ASSERT_FALSE(matches("-p icmp ! --icmp-type ping", &p));
	CU_ASSERT_FALSE(matches("-p icmp --icmp-type timestamp-request", &p));
	CU_ASSERT_TRUE(matches("-p icmp --icmp-type any", &p));

	p.tuple.dp.icmp.type = 3;
	p.tuple.dp.icmp.code = 3;
	CU_ASSERT_TRUE(matches("-p icmp --icmp-type port-unreachable", &p));
	CU_ASSERT_TRUE(matches("-p icmp --icmp-type destination-unreachable", &p));
	CU_ASSERT_FALSE(matches("-p icmp --icmp-type host-unreachable", &p));
	p.tuple.family = AF_INET6;
	p.tuple.proto = IPPROTO_ICMPV6;
	p.tuple.dp.icmp.type = 1;
	p.tuple.dp.icmp.code = 4;
	CU_ASSERT_TRUE(matches("-p icmpv6 --icmpv6-type port-unreachable", &p));
	CU_ASSERT_FALSE(matches("-p icmpv6 --icmpv6-type no-route", &p));
	p.tuple.dp.icmp.type = 135;
	p.tuple.dp.icmp.code = 0;
	CU_ASSERT_TRUE(matches("-p icmpv6 --icmpv6-type neighbor-solicitation", &p));
	CU_ASSERT_TRUE(matches("-p icmpv6 --icmpv6-type neighbour-solicitation", &p));
}

static void test_conntrack(void)
{
	struct nfqct_tuple orig, reply;
	struct nfqct_rules_ct ct = { .state = NFQCT_CTSTATE_ESTABLISHED };
	struct nfqct_ruleset *rs;
	struct pb b;
	struct nfqct_pkt p;
	const struct {
		const char *match;
		bool want;
	} cases[] = {
		{ "-m conntrack --ctproto tcp", true },
		{ "-m conntrack ! --ctproto tcp", false },
		{ "-m conntrack --ctproto udp", false },
		{ "-m conntrack --ctorigsrc 198.18.0.0/24", true },
		{ "-m conntrack ! --ctorigsrc 198.18.0.0/24", false },
		{ "-m conntrack --ctorigdst 198.18.0.2", true },
		{ "-m conntrack --ctorigdst 198.18.0.3", false },
		{ "-m conntrack --ctreplsrc 198.18.0.2 --ctrepldst 198.18.0.1", true },
		{ "-m conntrack --ctreplsrc 198.18.0.1", false },
		{ "-m conntrack --ctorigsrc 2001:db8::1", false },
		{ "-m conntrack ! --ctorigsrc 2001:db8::1", true },
		{ "-m conntrack --ctorigsrcport 40000", true },
		{ "-m conntrack --ctorigdstport 20:25", true },
		{ "-m conntrack ! --ctorigdstport 20:25", false },
		{ "-m conntrack --ctreplsrcport 22 --ctrepldstport 40000", true },
		{ "-m conntrack --ctreplsrcport 40000", false },
		{ "-m conntrack --ctstatus ASSURED", true },
		{ "-m conntrack --ctstatus EXPECTED,CONFIRMED", true },
		{ "-m conntrack --ctstatus EXPECTED", false },
		{ "-m conntrack ! --ctstatus EXPECTED", true },
		{ "-m conntrack --ctstatus NONE", false },
		{ "-m conntrack --ctexpire 100:200", true },
		{ "-m conntrack --ctexpire 119", false },
		{ "-m conntrack --ctexpire 120", true },
		{ "-m conntrack ! --ctexpire 120", false },
		{ "-m conntrack --ctdir ORIGINAL", true },
		{ "-m conntrack --ctdir REPLY", false },
		{ "-m conntrack --ctstate ESTABLISHED --ctproto 6 --ctdir ORIGINAL", true },
		{ "-m conntrack --ctstate NEW --ctproto 6", false },
		{ "-m conntrack --ctstate ESTABLISHED,SNAT", true },
		{ "-m conntrack --ctstate SNAT,DNAT", false },
		{ "-m conntrack ! --ctstate SNAT", true },
	};

	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 22, PB_ACK, false);
	p = parsed(&b, IN);
	orig = p.tuple;
	CU_ASSERT_TRUE(nfqct_tuple_invert(&reply, &orig));
	ct.orig = &orig;
	ct.reply = &reply;
	ct.status = NFQCT_RULES_CTS_SEEN_REPLY | NFQCT_RULES_CTS_ASSURED | NFQCT_RULES_CTS_CONFIRMED;
	ct.expire_s = 120;
	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		rs = accept_if(cases[i].match);
		if (ok_ct(rs, &p, &ct) != cases[i].want)
			fprintf(stderr, "case '%s': expected %d\n", cases[i].match, cases[i].want);
		CU_ASSERT_EQUAL(ok_ct(rs, &p, &ct), cases[i].want);
		nfqct_ruleset_free(rs);
	}
	rs = accept_if("-m conntrack --ctdir REPLY");
	ct.dir_reply = true;
	CU_ASSERT_TRUE(ok_ct(rs, &p, &ct));
	/* no entry (INVALID, UNTRACKED): the other options never match, negated or not */
	ct.orig = ct.reply = NULL;
	CU_ASSERT_FALSE(ok_ct(rs, &p, &ct));
	nfqct_ruleset_free(rs);
	rs = accept_if("-m conntrack ! --ctproto udp");
	CU_ASSERT_FALSE(ok_ct(rs, &p, &ct));
	CU_ASSERT_TRUE(nfqct_ruleset_needs_ct_entry(rs));
	nfqct_ruleset_free(rs);
	rs = accept_if("-m conntrack --ctstate NEW");
	CU_ASSERT_FALSE(nfqct_ruleset_needs_ct_entry(rs));
	nfqct_ruleset_free(rs);
}

static void test_length_ttl_hl(void)
{
	struct pb b;
	struct nfqct_pkt p;

	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 2, 72);	/* 20 + 8 + 72 */
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m length --length 100", &p));
	CU_ASSERT_FALSE(matches("-m length ! --length 100", &p));
	CU_ASSERT_TRUE(matches("-m length --length 50:100", &p));
	CU_ASSERT_FALSE(matches("-m length --length 101:", &p));
	CU_ASSERT_TRUE(matches("-m ttl --ttl-eq 64", &p));
	CU_ASSERT_FALSE(matches("-m ttl ! --ttl-eq 64", &p));
	CU_ASSERT_TRUE(matches("-m ttl --ttl-lt 65", &p));
	CU_ASSERT_FALSE(matches("-m ttl --ttl-lt 64", &p));
	CU_ASSERT_TRUE(matches("-m ttl --ttl-gt 63", &p));
	CU_ASSERT_FALSE(matches("-m ttl --ttl-gt 64", &p));
	CU_ASSERT_FALSE(matches("-m hl --hl-eq 64", &p));	/* IPv6 only */
	CU_ASSERT_FALSE(matches("-m hl ! --hl-eq 1", &p));

	pb_udp_packet(&b, "2001:db8::1", "2001:db8::2", 1, 2, 52);	/* 40 + 8 + 52 */
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m length --length 100", &p));
	CU_ASSERT_TRUE(matches("-m hl --hl-eq 64", &p));
	CU_ASSERT_TRUE(matches("-m hl ! --hl-eq 63", &p));
	CU_ASSERT_TRUE(matches("-m hl --hl-gt 10", &p));
	CU_ASSERT_FALSE(matches("-m hl --hl-lt 10", &p));
	CU_ASSERT_FALSE(matches("-m ttl --ttl-eq 64", &p));	/* IPv4 only */
}

static void test_iprange(void)
{
	struct pb b;
	struct nfqct_pkt p;

	pb_udp_packet(&b, "198.18.0.5", "198.18.1.1", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m iprange --src-range 198.18.0.5-198.18.0.9", &p));
	CU_ASSERT_TRUE(matches("-m iprange --src-range 198.18.0.1-198.18.0.5", &p));
	CU_ASSERT_FALSE(matches("-m iprange --src-range 198.18.0.6-198.18.0.9", &p));
	CU_ASSERT_TRUE(matches("-m iprange ! --src-range 198.18.0.6-198.18.0.9", &p));
	CU_ASSERT_TRUE(matches("-m iprange --src-range 198.18.0.0-198.18.0.255 --dst-range 198.18.1.1-198.18.1.1",
			       &p));
	CU_ASSERT_FALSE(matches("-m iprange --src-range 198.18.0.0-198.18.0.255 ! --dst-range "
				"198.18.1.1-198.18.1.1", &p));
	CU_ASSERT_FALSE(matches("-m iprange ! --src-range 2001:db8::1-2001:db8::9", &p));

	pb_udp_packet(&b, "2001:db8::5", "2001:db8::1:1", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m iprange --src-range 2001:db8::1-2001:db8::9", &p));
	CU_ASSERT_FALSE(matches("-m iprange --dst-range 2001:db8::1-2001:db8::ffff", &p));
	CU_ASSERT_FALSE(matches("-m iprange --dst-range 2001:db8::1-2001:db8::1:0", &p));
	CU_ASSERT_TRUE(matches("-m iprange --dst-range 2001:db8::1-2001:db8::2:0", &p));
}

static void test_mac(void)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	struct pb b;
	struct nfqct_pkt p;

	pb_udp_packet(&b, "198.18.0.5", "198.18.1.1", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_FALSE(matches("-m mac --mac-source 02:00:5e:10:00:01", &p));
	CU_ASSERT_FALSE(matches("-m mac ! --mac-source 02:00:5e:10:00:01", &p));	/* no address */
	memcpy(p.hwaddr, mac, 6);
	p.hwaddr_len = 6;
	CU_ASSERT_TRUE(matches("-m mac --mac-source 02:00:5E:10:00:01", &p));
	CU_ASSERT_FALSE(matches("-m mac ! --mac-source 02:00:5e:10:00:01", &p));
	CU_ASSERT_FALSE(matches("-m mac --mac-source 02:00:5e:10:00:02", &p));
	CU_ASSERT_TRUE(matches("-m mac ! --mac-source 02:00:5e:10:00:02", &p));
}

static void test_owner(void)
{
	struct pb b;
	struct nfqct_pkt p;

	pb_udp_packet(&b, "198.18.0.5", "198.18.1.1", 1, 2, 0);
	p = parsed(&b, OUT);
	/* no uid from the queue: the kernel's own socket (no file): it exists, and
	 * uid / gid match only negated (xt_owner) */
	CU_ASSERT_FALSE(matches_in("OUTPUT", "-m owner --uid-owner 0", &p));
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner ! --uid-owner 0", &p));
	CU_ASSERT_FALSE(matches_in("OUTPUT", "-m owner ! --uid-owner 0 --gid-owner 0", &p));
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner ! --uid-owner 0 ! --gid-owner 0", &p));
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner --socket-exists", &p));
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner --socket-exists ! --uid-owner 1", &p));
	CU_ASSERT_FALSE(matches_in("OUTPUT", "-m owner ! --socket-exists", &p));
	p.flags2 = NFQCT_PKT_F2_UIDGID;
	p.uid = 1000;
	p.gid = 100;
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner --socket-exists", &p));
	CU_ASSERT_FALSE(matches_in("OUTPUT", "-m owner ! --socket-exists", &p));
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner --uid-owner 1000", &p));
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner --uid-owner 500-1000 --gid-owner 100", &p));
	CU_ASSERT_FALSE(matches_in("OUTPUT", "-m owner --uid-owner 1001-2000", &p));
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m owner ! --uid-owner 1001-2000", &p));
	CU_ASSERT_FALSE(matches_in("OUTPUT", "-m owner --uid-owner 1000 ! --gid-owner 100", &p));
	CU_ASSERT_FALSE(matches_in("OUTPUT", "-m owner --uid-owner root", &p));
}

static void test_pkttype(void)
{
	struct pb b;
	struct nfqct_pkt p;

	pb_udp_packet(&b, "198.18.0.5", "224.0.0.251", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m pkttype --pkt-type multicast", &p));
	CU_ASSERT_FALSE(matches("-m pkttype ! --pkt-type multicast", &p));
	CU_ASSERT_FALSE(matches("-m pkttype --pkt-type unicast", &p));
	pb_udp_packet(&b, "198.18.0.5", "255.255.255.255", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m pkttype --pkt-type broadcast", &p));
	pb_udp_packet(&b, "198.18.0.5", "198.18.0.6", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m pkttype --pkt-type unicast", &p));
	CU_ASSERT_TRUE(matches("-m pkttype ! --pkt-type broadcast", &p));
	pb_udp_packet(&b, "2001:db8::1", "ff02::1", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m pkttype --pkt-type multicast", &p));
	/* sent by the box: PACKET_HOST in the kernel's OUTPUT */
	p = parsed(&b, OUT);
	CU_ASSERT_TRUE(matches_in("OUTPUT", "-m pkttype --pkt-type unicast", &p));
}

static void test_ipv6_ext_headers(void)
{
	struct pb b;
	struct nfqct_pkt p;
	uint8_t *rh;

	/* hop-by-hop, routing (type 0, 2 addresses, 1 segment left), UDP */
	pb_init(&b);
	pb_ip6(&b, IPPROTO_HOPOPTS, "2001:db8::1", "2001:db8::2");
	pb_ext(&b, IPPROTO_ROUTING, 8);
	rh = b.b + b.n;
	pb_ext(&b, IPPROTO_UDP, 40);
	rh[2] = 0;	/* type */
	rh[3] = 1;	/* segments left */
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, "2001:db8::a", rh + 8), 1);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, "2001:db8::b", rh + 24), 1);
	pb_udp(&b, 1, 2, 8);
	pb_fix(&b);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m rt --rt-type 0", &p));
	CU_ASSERT_FALSE(matches("-m rt ! --rt-type 0", &p));
	CU_ASSERT_TRUE(matches("-m rt --rt-segsleft 1", &p));
	CU_ASSERT_FALSE(matches("-m rt --rt-segsleft 2:5", &p));
	CU_ASSERT_TRUE(matches("-m rt --rt-len 40", &p));
	CU_ASSERT_TRUE(matches("-m rt ! --rt-len 24", &p));
	CU_ASSERT_TRUE(matches("-m rt --rt-type 0 --rt-0-res", &p));
	CU_ASSERT_TRUE(matches("-m rt --rt-type 0 --rt-0-addrs 2001:db8::a,2001:db8::b", &p));
	CU_ASSERT_FALSE(matches("-m rt --rt-type 0 --rt-0-addrs 2001:db8::b", &p));	/* strict: all */
	CU_ASSERT_TRUE(matches("-m rt --rt-type 0 --rt-0-addrs 2001:db8::b --rt-0-not-strict", &p));
	CU_ASSERT_FALSE(matches("-m rt --rt-type 0 --rt-0-addrs 2001:db8::b,2001:db8::a --rt-0-not-strict",
				&p));
	rh[4] = 1;
	CU_ASSERT_FALSE(matches("-m rt --rt-type 0 --rt-0-res", &p));
	CU_ASSERT_FALSE(matches("-m frag --fragid 0:4294967295", &p));	/* no fragment header */
	CU_ASSERT_TRUE(matches("-m ipv6header --header hop,route,prot", &p));
	CU_ASSERT_FALSE(matches("-m ipv6header --header hop,prot", &p));	/* exactly these */
	CU_ASSERT_TRUE(matches("-m ipv6header --header hop --soft", &p));
	CU_ASSERT_FALSE(matches("-m ipv6header --header frag --soft", &p));
	CU_ASSERT_TRUE(matches("-m ipv6header ! --header frag --soft", &p));
	CU_ASSERT_TRUE(matches("-m ipv6header ! --header hop", &p));

	/* a first fragment: id 0xab000000 (pb_frag6), more fragments */
	pb_init(&b);
	pb_ip6(&b, IPPROTO_FRAGMENT, "2001:db8::1", "2001:db8::2");
	pb_frag6(&b, IPPROTO_UDP, 0, 1);
	pb_udp(&b, 1, 2, 100);
	pb_put(&b, 8);
	pb_fix(&b);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m frag --fragfirst --fragmore", &p));
	CU_ASSERT_FALSE(matches("-m frag --fraglast", &p));
	CU_ASSERT_TRUE(matches("-m frag --fragid 2868903936", &p));
	CU_ASSERT_FALSE(matches("-m frag ! --fragid 2868903936", &p));
	CU_ASSERT_TRUE(matches("-m frag --fragres", &p));
	CU_ASSERT_TRUE(matches("-m frag --fraglen 99", &p));	/* read, never tested: the kernel's */
	CU_ASSERT_TRUE(matches("-m ipv6header --header frag,prot", &p));
	CU_ASSERT_FALSE(matches("-m rt --rt-type 0", &p));
	/* a later fragment, the last */
	pb_init(&b);
	pb_ip6(&b, IPPROTO_FRAGMENT, "2001:db8::1", "2001:db8::2");
	pb_frag6(&b, IPPROTO_UDP, 64, 0);
	pb_put(&b, 8);
	pb_fix(&b);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m frag --fraglast", &p));
	CU_ASSERT_FALSE(matches("-m frag --fragfirst", &p));
	CU_ASSERT_FALSE(matches("-m frag --fragmore", &p));
	/* an IPv4 packet never matches them, negated or not */
	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_FALSE(matches("-m frag ! --fragid 1", &p));
	CU_ASSERT_FALSE(matches("-m rt ! --rt-type 1", &p));
	CU_ASSERT_FALSE(matches("-m ipv6header ! --header hop", &p));
	/* ESP ends the walk */
	pb_init(&b);
	pb_ip6(&b, IPPROTO_DSTOPTS, "2001:db8::1", "2001:db8::2");
	pb_ext(&b, IPPROTO_ESP, 8);
	pb_put(&b, 16);
	pb_fix(&b);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m ipv6header --header dst,esp", &p));
	CU_ASSERT_FALSE(matches("-m ipv6header --header dst,esp,prot", &p));
}

/* A snapshot of the local tables: 198.18.0.1 on dev 2 (broadcast 198.18.0.255), 198.18.1.1
 * on dev 3, 127.0.0.0/8 local on lo, a blackhole in the local table, 2001:db8::1 local and
 * 2001:db8:: anycast on dev 2. */
static void publish_addrs(void)
{
	static const struct { const char *a; uint8_t plen, type; uint32_t dev; } r[] = {
		{ "198.18.0.1", 32, RTN_LOCAL, 2 }, { "198.18.0.255", 32, RTN_BROADCAST, 2 },
		{ "198.18.1.1", 32, RTN_LOCAL, 3 }, { "127.0.0.0", 8, RTN_LOCAL, 1 },
		{ "203.0.113.0", 24, RTN_BLACKHOLE, 0 },
		{ "2001:db8::1", 128, RTN_LOCAL, 2 }, { "2001:db8::", 128, RTN_ANYCAST, 2 },
	};
	struct nfqct_addrs_entry e[UNIT_COUNT(r)];

	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < UNIT_COUNT(r); i++) {
		e[i].family = strchr(r[i].a, ':') ? AF_INET6 : AF_INET;
		CU_ASSERT_EQUAL_FATAL(inet_pton(e[i].family, r[i].a, &e[i].addr), 1);
		e[i].plen = r[i].plen;
		e[i].type = r[i].type;
		e[i].ifindex = r[i].dev;
	}
	CU_ASSERT_EQUAL_FATAL(nfqct_addrs_publish(e, UNIT_COUNT(r), NULL, 0), 0);
}

/* Does -m rpfilter @match (raw PREROUTING) match a UDP packet @src -> @dst that came in on @dev? */
static bool rpf(const char *match, const char *src, const char *dst, uint32_t dev)
{
	struct nfqct_ruleset *rs = NULL;
	struct nfqct_rules_verdict v;
	struct pb b;
	struct nfqct_pkt p;
	char text[512];
	uint32_t mark = 0;

	snprintf(text, sizeof(text), "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m rpfilter %s -j DROP\n"
		 "COMMIT\n", match);
	CU_ASSERT_EQUAL_FATAL(nfqct_ruleset_parse("t.rules", text, strlen(text), 1, &rs, stderr), 0);
	pb_udp_packet(&b, src, dst, 1, 2, 0);
	p = parsed(&b, NFQCT_HOOK_PREROUTING);
	p.indev = dev;
	nfqct_ruleset_raw(rs, 0, &p, 1, &mark, &v);
	nfqct_ruleset_free(rs);
	return !v.accept;
}

/* The reverse path, against a snapshot of local and main tables (ipt_rpfilter, ip6t_rpfilter). */
static void test_rpfilter(void)
{
	static const struct { const char *a; uint8_t plen, type; bool main; uint32_t dev; } r[] = {
		{ "198.18.0.1", 32, RTN_LOCAL, false, 2 }, { "198.18.0.255", 32, RTN_BROADCAST, false, 2 },
		{ "2001:db8:1::1", 128, RTN_LOCAL, false, 2 },
		{ "198.18.0.0", 24, RTN_UNICAST, true, 2 }, { "198.18.0.128", 25, RTN_UNICAST, true, 4 },
		{ "198.18.1.0", 24, RTN_UNICAST, true, 3 },
		{ "198.18.4.0", 24, RTN_UNICAST, true, 2 }, { "198.18.4.0", 24, RTN_UNICAST, true, 3 },
		{ "198.18.5.0", 24, RTN_UNREACHABLE, true, 0 }, { "0.0.0.0", 0, RTN_UNICAST, true, 3 },
		{ "2001:db8:1::", 64, RTN_UNICAST, true, 2 }, { "2001:db8:2::", 64, RTN_UNICAST, true, 3 },
		{ "2001:db8:3::", 64, RTN_BLACKHOLE, true, 0 },
		{ "fe80::", 64, RTN_UNICAST, true, 2 }, { "fe80::", 64, RTN_UNICAST, true, 3 },
	};
	struct nfqct_addrs_entry e[UNIT_COUNT(r)];
	union nfqct_addr a;
	bool via;

	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < UNIT_COUNT(r); i++) {
		e[i].family = strchr(r[i].a, ':') ? AF_INET6 : AF_INET;
		CU_ASSERT_EQUAL_FATAL(inet_pton(e[i].family, r[i].a, &e[i].addr), 1);
		e[i].plen = r[i].plen;
		e[i].type = r[i].type;
		e[i].main = r[i].main;
		e[i].ifindex = r[i].dev;
	}
	CU_ASSERT_EQUAL_FATAL(nfqct_addrs_publish(e, UNIT_COUNT(r), NULL, 0), 0);

	/* the lookup itself: local before main, longest prefix, every nexthop */
	memset(&a, 0, sizeof(a));
	inet_pton(AF_INET, "198.18.0.1", &a);
	CU_ASSERT_EQUAL(nfqct_addrs_route(AF_INET, &a, 2, &via), RTN_LOCAL);
	CU_ASSERT_TRUE(via);
	inet_pton(AF_INET, "198.18.4.9", &a);
	CU_ASSERT_EQUAL(nfqct_addrs_route(AF_INET, &a, 3, &via), RTN_UNICAST);
	CU_ASSERT_TRUE(via);
	CU_ASSERT_EQUAL(nfqct_addrs_route(AF_INET, &a, 4, &via), RTN_UNICAST);
	CU_ASSERT_FALSE(via);
	inet_pton(AF_INET, "198.18.5.1", &a);
	CU_ASSERT_EQUAL(nfqct_addrs_route(AF_INET, &a, 0, &via), RTN_UNREACHABLE);
	/* the main table is not addrtype's: its lookup sees the local table only */
	inet_pton(AF_INET, "198.18.0.7", &a);
	CU_ASSERT_EQUAL(nfqct_addrs_lookup(AF_INET, &a, &(uint32_t){ 0 }), RTN_UNSPEC);

	/* strict: the route back goes out the input interface */
	CU_ASSERT_TRUE(rpf("", "198.18.0.7", "198.18.0.1", 2));
	CU_ASSERT_FALSE(rpf("", "198.18.0.7", "198.18.0.1", 3));
	CU_ASSERT_TRUE(rpf("--loose", "198.18.0.7", "198.18.0.1", 3));
	CU_ASSERT_TRUE(rpf("--invert", "198.18.0.7", "198.18.0.1", 3));
	CU_ASSERT_FALSE(rpf("--invert", "198.18.0.7", "198.18.0.1", 2));
	CU_ASSERT_TRUE(rpf("--validmark", "198.18.0.7", "198.18.0.1", 2));	/* ignored */
	CU_ASSERT_FALSE(rpf("", "198.18.0.200", "198.18.0.1", 2));	/* the /25 via dev 4 wins */
	CU_ASSERT_TRUE(rpf("", "198.18.0.200", "198.18.0.1", 4));
	CU_ASSERT_TRUE(rpf("", "198.19.9.9", "198.18.0.1", 3));	/* the default route */
	CU_ASSERT_FALSE(rpf("", "198.19.9.9", "198.18.0.1", 2));
	CU_ASSERT_TRUE(rpf("", "198.18.4.9", "198.18.0.1", 2));	/* multipath: either nexthop */
	CU_ASSERT_TRUE(rpf("", "198.18.4.9", "198.18.0.1", 3));
	CU_ASSERT_FALSE(rpf("", "198.18.4.9", "198.18.0.1", 4));
	CU_ASSERT_FALSE(rpf("--loose", "198.18.5.1", "198.18.0.1", 3));	/* unreachable */
	CU_ASSERT_FALSE(rpf("--loose", "198.18.0.255", "198.18.0.1", 2));	/* broadcast */
	/* a source that is the box's own: only with --accept-local, and still by device */
	CU_ASSERT_FALSE(rpf("", "198.18.0.1", "198.18.0.1", 2));
	CU_ASSERT_TRUE(rpf("--accept-local", "198.18.0.1", "198.18.0.1", 2));
	CU_ASSERT_FALSE(rpf("--accept-local", "198.18.0.1", "198.18.0.1", 3));
	CU_ASSERT_TRUE(rpf("--accept-local --loose", "198.18.0.1", "198.18.0.1", 3));
	/* loopback, and 0.0.0.0 to the limited broadcast or 224.0.0.0/24, always match */
	CU_ASSERT_TRUE(rpf("", "198.18.5.1", "198.18.0.1", 1));
	CU_ASSERT_FALSE(rpf("--invert", "198.18.5.1", "198.18.0.1", 1));
	CU_ASSERT_TRUE(rpf("", "0.0.0.0", "255.255.255.255", 2));
	CU_ASSERT_TRUE(rpf("", "0.0.0.0", "224.0.0.1", 2));
	CU_ASSERT_FALSE(rpf("", "0.0.0.0", "198.18.0.1", 2));	/* the default route is dev 3 */

	CU_ASSERT_TRUE(rpf("", "2001:db8:1::5", "2001:db8:1::1", 2));
	CU_ASSERT_FALSE(rpf("", "2001:db8:1::5", "2001:db8:1::1", 3));
	CU_ASSERT_TRUE(rpf("--loose", "2001:db8:1::5", "2001:db8:1::1", 3));
	CU_ASSERT_FALSE(rpf("--loose", "2001:db8:3::5", "2001:db8:1::1", 3));	/* blackhole */
	CU_ASSERT_FALSE(rpf("--loose", "2001:db8:9::5", "2001:db8:1::1", 3));	/* no route */
	CU_ASSERT_FALSE(rpf("", "2001:db8:1::1", "2001:db8:1::1", 2));	/* own: --accept-local */
	CU_ASSERT_TRUE(rpf("--accept-local", "2001:db8:1::1", "2001:db8:1::1", 3));	/* any device */
	CU_ASSERT_TRUE(rpf("", "::", "ff02::1", 2));
	CU_ASSERT_TRUE(rpf("", "fe80::1", "ff02::1", 3));	/* one fe80::/64 per interface */
	CU_ASSERT_FALSE(rpf("", "fe80::1", "ff02::1", 4));

	publish_addrs();	/* what the other tests expect */
}

static void test_addrtype(void)
{
	unsigned long gen = nfqct_addrs_generation();
	struct pb b;
	struct nfqct_pkt p;

	publish_addrs();
	CU_ASSERT_EQUAL(nfqct_addrs_generation(), gen + 1);
	pb_udp_packet(&b, "198.18.0.2", "198.18.0.1", 1, 2, 0);
	p = parsed(&b, IN);
	p.indev = 2;
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type LOCAL", &p));
	CU_ASSERT_FALSE(matches("-m addrtype ! --dst-type LOCAL", &p));
	CU_ASSERT_TRUE(matches("-m addrtype --src-type UNICAST --dst-type LOCAL", &p));
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type LOCAL --limit-iface-in", &p));
	p.indev = 3;	/* the address is on another interface: unicast there */
	CU_ASSERT_FALSE(matches("-m addrtype --dst-type LOCAL --limit-iface-in", &p));
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type UNICAST --limit-iface-in", &p));
	pb_udp_packet(&b, "198.18.0.2", "198.18.0.255", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type BROADCAST", &p));
	CU_ASSERT_TRUE(matches("-m pkttype --pkt-type broadcast", &p));	/* a subnet's broadcast */
	pb_udp_packet(&b, "0.0.0.0", "255.255.255.255", 68, 67, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m addrtype --src-type BROADCAST --dst-type BROADCAST", &p));
	pb_udp_packet(&b, "198.18.0.2", "224.0.0.251", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type MULTICAST", &p));
	pb_udp_packet(&b, "127.0.0.1", "127.9.9.9", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m addrtype --src-type LOCAL --dst-type LOCAL", &p));
	pb_udp_packet(&b, "198.18.0.2", "203.0.113.7", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-4 -m addrtype --dst-type BLACKHOLE", &p));
	CU_ASSERT_FALSE(matches("-m addrtype --dst-type UNICAST", &p));

	pb_udp_packet(&b, "2001:db8::2", "2001:db8::1", 1, 2, 0);
	p = parsed(&b, IN);
	p.indev = 2;
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type LOCAL", &p));
	CU_ASSERT_FALSE(matches("-m addrtype --dst-type LOCAL --limit-iface-in", &p));	/* as the kernel */
	CU_ASSERT_TRUE(matches("-m addrtype --src-type UNICAST", &p));
	/* with UNICAST in the set, a unicast address is UNICAST before LOCAL is looked up */
	CU_ASSERT_FALSE(matches("-m addrtype ! --dst-type UNICAST,LOCAL", &p));
	CU_ASSERT_FALSE(matches("-m addrtype --dst-type BROADCAST", &p));
	pb_udp_packet(&b, "::", "2001:db8::", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m addrtype --src-type UNSPEC --dst-type ANYCAST", &p));
	pb_udp_packet(&b, "2001:db8::2", "ff02::1", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type MULTICAST", &p));
	CU_ASSERT_EQUAL(nfqct_addrs_publish(NULL, 0, NULL, 0), 0);	/* no addresses: nothing is local */
	pb_udp_packet(&b, "198.18.0.2", "198.18.0.1", 1, 2, 0);
	p = parsed(&b, IN);
	CU_ASSERT_FALSE(matches("-m addrtype --dst-type LOCAL", &p));
	CU_ASSERT_TRUE(matches("-m addrtype --dst-type UNICAST", &p));
}

static void test_devgroup(void)
{
	static const struct nfqct_addrs_link links[] = { { 7, 5 }, { 2, 0 }, { 3, 0x10 } };
	struct pb b;
	struct nfqct_pkt p;

	CU_ASSERT_EQUAL_FATAL(nfqct_addrs_publish(NULL, 0, links, UNIT_COUNT(links)), 0);
	CU_ASSERT_EQUAL(nfqct_addrs_ifgroup(7), 5);
	CU_ASSERT_EQUAL(nfqct_addrs_ifgroup(3), 0x10);
	CU_ASSERT_EQUAL(nfqct_addrs_ifgroup(99), 0);	/* unknown: the default group */
	pb_udp_packet(&b, "198.18.0.2", "198.18.1.2", 1, 2, 0);
	p = parsed(&b, NFQCT_HOOK_FORWARD);
	p.indev = 7;
	p.outdev = 3;
	CU_ASSERT_TRUE(matches_in("FORWARD", "-m devgroup --src-group 5", &p));
	CU_ASSERT_FALSE(matches_in("FORWARD", "-m devgroup ! --src-group 5", &p));
	CU_ASSERT_TRUE(matches_in("FORWARD", "-m devgroup --src-group 1/1", &p));
	CU_ASSERT_FALSE(matches_in("FORWARD", "-m devgroup --src-group 2/2", &p));
	CU_ASSERT_TRUE(matches_in("FORWARD", "-m devgroup --src-group 5 --dst-group 0x10", &p));
	CU_ASSERT_FALSE(matches_in("FORWARD", "-m devgroup --src-group 5 ! --dst-group 0x10", &p));
	p.outdev = 2;
	CU_ASSERT_TRUE(matches_in("FORWARD", "-m devgroup --dst-group 0", &p));
	CU_ASSERT_EQUAL(nfqct_addrs_publish(NULL, 0, NULL, 0), 0);
}

/* -D RULE finds a rule by its extension matches too (as iptables compares entries);
 * -R, -F and -D free them (the sanitizer builds check the frees). */
static void test_delete_by_spec(void)
{
	struct nfqct_ruleset *rs = NULL;
	char *errs = NULL;
	size_t elen = 0;
	FILE *e;
	const char *ok_text =
		"*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n"
		"-A INPUT -p tcp --syn -m multiport --dports 1,2 -m conntrack --ctproto 6 -j DROP\n"
		"-A INPUT -m rt --rt-type 0 --rt-0-addrs ::1 -j DROP\n"
		"-A X -m owner --uid-owner 0 -j DROP\n"
		"-D INPUT -p tcp --syn -m multiport --dports 1,2 -m conntrack --ctproto 6 -j DROP\n"
		"-R INPUT 1 -m rt --rt-type 0 --rt-0-addrs ::2 -j DROP\n"
		"-D INPUT -m rt --rt-type 0 --rt-0-addrs ::2 -j DROP\n"
		"-F X\nCOMMIT\n";
	const char *bad_text =
		"*filter\n:INPUT ACCEPT [0:0]\n"
		"-A INPUT -p tcp -m multiport --dports 1,2 -j DROP\n"
		"-D INPUT -p tcp -m multiport --dports 1,3 -j DROP\n"
		"COMMIT\n";
	struct pb b;
	struct nfqct_pkt p;
	struct nfqct_rules_ct ct = { .state = NFQCT_CTSTATE_NEW };

	CU_ASSERT_EQUAL_FATAL(nfqct_ruleset_parse("t", ok_text, strlen(ok_text), 1, &rs, stderr), 0);
	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 1, PB_SYN, false);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(ok_ct(rs, &p, &ct));	/* the DROP rule is gone */
	nfqct_ruleset_free(rs);
	rs = NULL;
	e = open_memstream(&errs, &elen);
	CU_ASSERT_EQUAL(nfqct_ruleset_parse("t", bad_text, strlen(bad_text), 1, &rs, e), -EINVAL);
	fclose(e);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs ? errs : "", "t:4:"));
	free(errs);
}

/* Extension matches run after the core tests and in the order written; a
 * rule is a conjunction, and the table keeps each rule's matches apart. */
static void test_several(void)
{
	struct nfqct_ruleset *rs;
	struct pb b;
	struct nfqct_pkt p;
	const char *text =
		"*filter\n:INPUT DROP [0:0]\n"
		"-A INPUT -p udp -m length --length 100 -m multiport --dports 7 -j ACCEPT\n"
		"-A INPUT -p udp -m multiport --dports 9 -m ttl --ttl-eq 64 -j ACCEPT\n"
		"-A INPUT -m iprange --src-range 198.18.0.1-198.18.0.1 -m ttl --ttl-eq 1 -j ACCEPT\n"
		"COMMIT\n";

	CU_ASSERT_EQUAL_FATAL(nfqct_ruleset_parse("t", text, strlen(text), 1, &rs, stderr), 0);
	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 7, 72);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(ok(rs, &p));
	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 7, 71);
	p = parsed(&b, IN);
	CU_ASSERT_FALSE(ok(rs, &p));
	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 9, 3);
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(ok(rs, &p));
	b.b[8] = 1;	/* ttl */
	pb_udp_packet(&b, "198.18.0.1", "198.18.0.2", 1, 8, 3);
	b.b[8] = 1;
	p = parsed(&b, IN);
	CU_ASSERT_TRUE(ok(rs, &p));
	b.b[8] = 2;
	CU_ASSERT_FALSE(ok(rs, &p));
	nfqct_ruleset_free(rs);
}

/* Accepted packets of @n evaluated at @now_ms. */
static unsigned int accepted_at(const struct nfqct_ruleset *rs, const struct nfqct_pkt *p, uint64_t now_ms,
				unsigned int n)
{
	struct nfqct_rules_ct ct = { .state = NFQCT_CTSTATE_NEW };
	unsigned int acc = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct nfqct_rules_verdict v;
		uint32_t mark = 0;

		nfqct_ruleset_filter(rs, 0, p, &ct, now_ms, &mark, &v);
		acc += v.accept;
	}
	return acc;
}

/* -m limit: the burst, the refill at the jiffy (4 ms at HZ 250), the rule's
 * other matches first, a bucket per rule instance, and a fresh one per load. */
static void test_limit(void)
{
	struct nfqct_ruleset *rs;
	struct pb b, b2;
	struct nfqct_pkt p, p2;
	uint64_t t = 1000000;

	tcp_pkt(&b, "198.18.0.1", "198.18.0.2", 22, PB_SYN, false);
	p = parsed(&b, IN);
	tcp_pkt(&b2, "198.18.0.1", "198.18.0.2", 23, PB_SYN, false);
	p2 = parsed(&b2, IN);
	/* 1/min: a packet costs 15000 jiffies = 60000 ms */
	rs = accept_if("-p tcp --dport 22 -m limit --limit 1/min --limit-burst 3");
	CU_ASSERT_EQUAL(accepted_at(rs, &p2, t, 10), 0u);	/* --dport failed: no credit taken */
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 10), 3u);
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t + 59996, 3), 0u);	/* jiffy 14999 */
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t + 60000, 3), 1u);
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t + 120003, 3), 1u);	/* 4 ms rounds down, 3 ms later */
	nfqct_ruleset_free(rs);
	/* a new load starts full (the kernel's limit state is per rule instance);
	 * a rule for both families has a bucket per family (iptables + ip6tables) */
	rs = accept_if("-p tcp --dport 22 -m limit --limit 1/min --limit-burst 3");
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 10), 3u);
	tcp_pkt(&b2, "2001:db8::1", "2001:db8::2", 22, PB_SYN, false);
	p2 = parsed(&b2, IN);
	CU_ASSERT_EQUAL(accepted_at(rs, &p2, t, 10), 3u);
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 10), 0u);
	nfqct_ruleset_free(rs);
	/* defaults 3/hour burst 5; two instances in one rule each have a bucket */
	rs = accept_if("-m limit");
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 10), 5u);
	nfqct_ruleset_free(rs);
	rs = accept_if("-m limit --limit 1/hour --limit-burst 4 -m limit --limit 1/hour --limit-burst 2");
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 10), 2u);
	nfqct_ruleset_free(rs);
	/* the order rule: --dport written after -m limit runs after it, as in the kernel:
	 * port 23's packets take the credit too, so port 22's third finds none; written
	 * before, they do not reach the limit */
	tcp_pkt(&b2, "198.18.0.1", "198.18.0.2", 23, PB_SYN, false);
	p2 = parsed(&b2, IN);
	rs = accept_if("-p tcp -m limit --limit 1/hour --limit-burst 3 --dport 22");
	CU_ASSERT_EQUAL(accepted_at(rs, &p2, t, 2), 0u);
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 5), 1u);
	nfqct_ruleset_free(rs);
	rs = accept_if("-p tcp --dport 22 -m limit --limit 1/hour --limit-burst 3");
	CU_ASSERT_EQUAL(accepted_at(rs, &p2, t, 2), 0u);
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 5), 3u);
	nfqct_ruleset_free(rs);
	/* --state and --mark after it likewise (the mark as MARK left it, the state as
	 * conntrack said) */
	rs = accept_if("-m limit --limit 1/hour --limit-burst 2 -m state --state ESTABLISHED");
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 5), 0u);	/* NEW: the limit still took 2 */
	nfqct_ruleset_free(rs);
	/* the second instance sees only what passed the first: 6 reach it, it lets 4 through */
	rs = accept_if("-m limit --limit 1/hour --limit-burst 6 -m limit --limit 1/hour --limit-burst 4");
	CU_ASSERT_EQUAL(accepted_at(rs, &p, t, 10), 4u);
	nfqct_ruleset_free(rs);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "tcp flags", test_tcp_flags },
		{ "tcp option", test_tcp_option },
		{ "later fragments and -f", test_later_fragments },
		{ "multiport and port names", test_multiport },
		{ "icmp names", test_icmp_names },
		{ "conntrack options", test_conntrack },
		{ "length, ttl, hl", test_length_ttl_hl },
		{ "iprange", test_iprange },
		{ "mac", test_mac },
		{ "owner", test_owner },
		{ "pkttype", test_pkttype },
		{ "IPv6 extension headers", test_ipv6_ext_headers },
		{ "addrtype", test_addrtype },
		{ "devgroup", test_devgroup },
		{ "rpfilter", test_rpfilter },
		{ "several in one rule", test_several },
		{ "-D RULE, -R, -F with extension matches", test_delete_by_spec },
		{ "limit", test_limit },
	};

	return unit_main("rules_match", tests, UNIT_COUNT(tests));
}
