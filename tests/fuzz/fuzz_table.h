/*
 * fuzz_table.h - a small table of known entries for the targets that walk
 * one (ctl, ctfilter): TCP, UDP, ICMP and GRE flows, IPv4 and IPv6, in three
 * zones with marks, imported as the state file would (nfqct_ct_import).
 * One table per process, emptied and filled again for every input: a table's
 * creation and destruction wait for RCU grace periods, far slower than a run.
 * The caller is a registered, online RCU thread.
 */
#ifndef NFQCT_FUZZ_TABLE_H
#define NFQCT_FUZZ_TABLE_H

#include <arpa/inet.h>
#include <netinet/in.h>

#include "nfqct/ct.h"
#include "nfqct/l4proto.h"
#include "nfqct/proto_tcp.h"

#define FUZZ_TABLE_NOW 7000000ull

static inline struct nfqct_ct *fuzz_table(void)
{
	static const struct {
		int family;
		const char *src, *dst;
		uint8_t proto;
		uint16_t sp, dp;
		uint16_t zone, flags;
		uint32_t mark;
	} flows[] = {
		{ AF_INET, "198.18.0.1", "198.19.0.1", IPPROTO_TCP, 40000, 80, 0,
		  NFQCT_CT_F_SEEN_REPLY | NFQCT_CT_F_ASSURED, 0 },
		{ AF_INET, "198.18.0.2", "198.19.0.53", IPPROTO_UDP, 5353, 53, 0, 0, 0x5 },
		{ AF_INET, "198.18.0.3", "198.19.0.3", IPPROTO_ICMP, 77, 0x0800, 10, NFQCT_CT_F_SEEN_REPLY, 7 },
		{ AF_INET6, "2001:db8::1", "2001:db8:1::2", IPPROTO_TCP, 1234, 21, 0,
		  NFQCT_CT_F_SEEN_REPLY | NFQCT_CT_F_ACCT, 0xff00 },
		{ AF_INET6, "2001:db8::3", "2001:db8:1::4", IPPROTO_UDP, 69, 1069, 3, NFQCT_CT_F_EXPECTED, 0 },
		{ AF_INET, "198.18.5.5", "198.19.5.5", IPPROTO_GRE, 0, 0, 0, 0, 1 },
	};
	static struct nfqct_settings s;
	static struct nfqct_ct *ct;

	if (!ct) {
		nfqct_settings_init(&s);
		s.ct_buckets = 16;
		ct = nfqct_ct_create(&s);
		if (!ct)
			abort();
	}
	nfqct_ct_flush(ct, NULL);
	if (nfqct_ct_count(ct) != 0)
		fuzz_fail("a flushed table holds entries");
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		struct nfqct_ct_entry e;

		memset(&e, 0, sizeof(e));
		e.tuple.family = (uint8_t)flows[i].family;
		e.tuple.proto = flows[i].proto;
		inet_pton(flows[i].family, flows[i].src, &e.tuple.src);
		inet_pton(flows[i].family, flows[i].dst, &e.tuple.dst);
		if (flows[i].proto == IPPROTO_ICMP) {
			e.tuple.sp.icmp_id = htons(flows[i].sp);
			e.tuple.dp.icmp.type = 8;
		} else {
			e.tuple.sp.port = htons(flows[i].sp);
			e.tuple.dp.port = htons(flows[i].dp);
		}
		e.zone = flows[i].zone;
		e.flags = flows[i].flags;
		e.mark = flows[i].mark;
		e.timeout_ms = 30000 + i * 1000;
		e.packets[0] = 3 + i;
		e.bytes[0] = 300 + i;
		if (flows[i].proto == IPPROTO_TCP)
			e.proto.tcp.state = NFQCT_TCP_ESTABLISHED;
		if (nfqct_ct_import(ct, NULL, &e, FUZZ_TABLE_NOW, 0, false) < 0)
			abort();
	}
	return ct;
}

#endif
