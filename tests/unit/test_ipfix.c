/*
 * test_ipfix.c - what is pure in IPFIX export: the collector setting
 * (ADDR:PORT for both families) and the records built from a flow.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nfqct/ipfix.h"
#include "nfqct/proto_tcp.h"
#include "nfqct/settings.h"
#include "unit.h"

static void test_hostport(void)
{
	struct nfqct_hostport hp;
	char buf[64];

	CU_ASSERT_EQUAL(nfqct_hostport_parse("198.18.1.2:4739", &hp), 0);
	CU_ASSERT_EQUAL(hp.family, AF_INET);
	CU_ASSERT_EQUAL(hp.port, 4739);
	CU_ASSERT_EQUAL(memcmp(hp.addr, "\xc6\x12\x01\x02", 4), 0);
	CU_ASSERT_EQUAL(nfqct_hostport_format(&hp, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "198.18.1.2:4739");

	CU_ASSERT_EQUAL(nfqct_hostport_parse("[2001:db8:1::2]:2055", &hp), 0);
	CU_ASSERT_EQUAL(hp.family, AF_INET6);
	CU_ASSERT_EQUAL(hp.port, 2055);
	CU_ASSERT_EQUAL(hp.addr[0], 0x20);
	CU_ASSERT_EQUAL(hp.addr[15], 0x02);
	CU_ASSERT_EQUAL(nfqct_hostport_format(&hp, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "[2001:db8:1::2]:2055");

	CU_ASSERT_EQUAL(nfqct_hostport_parse("none", &hp), 0);
	CU_ASSERT_EQUAL(hp.family, 0);
	CU_ASSERT_EQUAL(nfqct_hostport_format(&hp, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "none");

	/* refused: no port, port 0 or too big, IPv6 without brackets, names, junk */
	static const char *const bad[] = {
		"198.18.1.2", "198.18.1.2:", "198.18.1.2:0", "198.18.1.2:65536", "198.18.1.2:47x",
		"2001:db8::2:4739", "[2001:db8::2]", "[2001:db8::2]4739", "[198.18.1.2]:4739",
		"collector:4739", ":4739", "[]:4739", "198.18.1.2:-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(nfqct_hostport_parse(bad[i], &hp), -EINVAL);
		CU_ASSERT_EQUAL(hp.family, 0);
	}
}

static void test_settings(void)
{
	struct nfqct_settings s, next;
	char buf[64];
	size_t i, n = nfqct_settings_count();
	FILE *errs = fopen("/dev/null", "w");

	nfqct_settings_init(&s);
	CU_ASSERT_EQUAL(s.ipfix_collector.family, 0);
	CU_ASSERT_EQUAL(s.ipfix_transport, NFQCT_IPFIX_UDP);
	CU_ASSERT_EQUAL(s.ipfix_active_timeout_s, 1800);
	CU_ASSERT_EQUAL(s.ipfix_template_refresh_s, 600);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.ipfix_collector=[2001:db8::9]:4739", "-o", errs), 0);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.ipfix_transport=tcp", "-o", errs), 0);
	CU_ASSERT_EQUAL(s.ipfix_transport, NFQCT_IPFIX_TCP);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.ipfix_transport=sctp", "-o", errs), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.ipfix_collector=nowhere", "-o", errs), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_settings_set(&s, "nfqct.ipfix_active_timeout_s=0", "-o", errs), -EINVAL);
	/* listed and formatted like the others */
	for (i = 0; i < n; i++)
		if (!strcmp(nfqct_settings_name(i), "nfqct.ipfix_collector"))
			break;
	CU_ASSERT_FATAL(i < n);
	CU_ASSERT_EQUAL(nfqct_settings_format(&s, i, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "[2001:db8::9]:4739");
	/* restart only: a reload keeps the running collector */
	next = s;
	CU_ASSERT_EQUAL(nfqct_settings_set(&next, "nfqct.ipfix_collector=198.18.0.9:2055", "-o", errs), 0);
	CU_ASSERT(nfqct_settings_reload_diff(&s, &next, errs) >= 1);
	CU_ASSERT_EQUAL(memcmp(&next.ipfix_collector, &s.ipfix_collector, sizeof(s.ipfix_collector)), 0);
	fclose(errs);
}

static void tuple4(struct nfqct_tuple *t, uint8_t proto)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->proto = proto;
	inet_pton(AF_INET, "198.18.0.2", &t->src);
	inet_pton(AF_INET, "198.18.1.2", &t->dst);
	t->sp.port = htons(40000);
	t->dp.port = htons(80);
}

static void test_record(void)
{
	const uint64_t pk[2] = { 5, 3 }, by[2] = { 294, 164 };
	struct nfqct_ipfix_rec r;
	struct nfqct_tuple t;
	uint32_t a;

	tuple4(&t, IPPROTO_TCP);
	nfqct_ipfix_rec_fill(&r, &t, 7, 1000, 2500, pk, by, NFQCT_IPFIX_END_DETECTED);
	CU_ASSERT_EQUAL(r.start_ms, 1000);
	CU_ASSERT_EQUAL(r.end_ms, 2500);
	CU_ASSERT_EQUAL(r.packets, 5);
	CU_ASSERT_EQUAL(r.octets, 294);
	CU_ASSERT_EQUAL(r.rev_packets, 3);
	CU_ASSERT_EQUAL(r.rev_octets, 164);
	memcpy(&a, r.src, 4);
	CU_ASSERT_EQUAL(a, 0xc6120002u);	/* host order, as libfixbuf wants */
	memcpy(&a, r.dst, 4);
	CU_ASSERT_EQUAL(a, 0xc6120102u);
	CU_ASSERT_EQUAL(r.sport, 40000);
	CU_ASSERT_EQUAL(r.dport, 80);
	CU_ASSERT_EQUAL(r.proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL(r.zone, 7);
	CU_ASSERT_EQUAL(r.end_reason, 3);
	CU_ASSERT_EQUAL(r.family, AF_INET);

	/* an end before the start (clock stepped) never makes a negative duration */
	nfqct_ipfix_rec_fill(&r, &t, 0, 3000, 2000, pk, by, NFQCT_IPFIX_END_IDLE);
	CU_ASSERT_EQUAL(r.end_ms, 3000);

	/* ICMP: type and code in the destination port, no source port */
	memset(&t, 0, sizeof(t));
	t.family = AF_INET6;
	t.proto = IPPROTO_ICMPV6;
	inet_pton(AF_INET6, "2001:db8::2", &t.src);
	inet_pton(AF_INET6, "2001:db8:1::2", &t.dst);
	t.sp.icmp_id = htons(99);
	t.dp.icmp.type = 128;
	t.dp.icmp.code = 0;
	nfqct_ipfix_rec_fill(&r, &t, 0, 1, 2, pk, by, NFQCT_IPFIX_END_IDLE);
	CU_ASSERT_EQUAL(r.sport, 0);
	CU_ASSERT_EQUAL(r.dport, 128 << 8);
	CU_ASSERT_EQUAL(r.src[0], 0x20);
	CU_ASSERT_EQUAL(r.dst[5], 0x01);
	CU_ASSERT_EQUAL(r.family, AF_INET6);
}

static void test_end_reason(void)
{
	struct nfqct_event e;

	memset(&e, 0, sizeof(e));
	tuple4(&e.orig, IPPROTO_TCP);
	e.type = NFQCT_EV_DESTROY;
	e.now_ms = 5000;
	e.tcp_state = NFQCT_TCP_TIME_WAIT;
	e.expires_ms = 9000;
	CU_ASSERT_EQUAL(nfqct_ipfix_end_reason(&e), NFQCT_IPFIX_END_DETECTED);
	e.tcp_state = NFQCT_TCP_ESTABLISHED;
	CU_ASSERT_EQUAL(nfqct_ipfix_end_reason(&e), NFQCT_IPFIX_END_FORCED);
	e.expires_ms = 5000;
	CU_ASSERT_EQUAL(nfqct_ipfix_end_reason(&e), NFQCT_IPFIX_END_IDLE);
	tuple4(&e.orig, IPPROTO_UDP);
	e.tcp_state = NFQCT_TCP_TIME_WAIT;	/* not TCP: the state means nothing */
	CU_ASSERT_EQUAL(nfqct_ipfix_end_reason(&e), NFQCT_IPFIX_END_IDLE);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "ADDR:PORT and [ADDR6]:PORT", test_hostport },
		{ "nfqct.ipfix_* settings", test_settings },
		{ "a biflow record", test_record },
		{ "flowEndReason", test_end_reason },
	};

	return unit_main("ipfix", tests, UNIT_COUNT(tests));
}
