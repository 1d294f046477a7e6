/*
 * bench_state.c - time to save and to load the state file, and its size.
 *
 *	bench_state [ENTRIES [FILE]]	(default 1000000, /tmp/nfqct-bench.state)
 *
 * Fills a table with ENTRIES entries (half TCP ESTABLISHED with window
 * data, a quarter UDP, a quarter ICMP; IPv4 and IPv6 alternating), then
 * times what the daemon does: the table walk into memory (encode), the
 * atomic write (temporary file, fsync, rename), the read, and the check
 * plus insertion into an empty table (apply).  Not part of `make check`;
 * `make tests/bench/bench_state`.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/log.h"
#include "nfqct/state.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(struct nfqct_ct *ct, unsigned long n, uint64_t now)
{
	struct nfqct_ct_entry e;

	for (unsigned long i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.tuple.family = (i & 1) ? AF_INET6 : AF_INET;
		if (e.tuple.family == AF_INET) {
			e.tuple.src.ip = htonl(0xc6120000u | (uint32_t)(i >> 16));
			e.tuple.dst.ip = htonl(0xc6130000u | (uint32_t)(i & 0xffff));
		} else {
			e.tuple.src.ip6[0] = htonl(0x20010db8);
			e.tuple.src.ip6[3] = htonl((uint32_t)i);
			e.tuple.dst.ip6[0] = htonl(0x20010db8);
			e.tuple.dst.ip6[3] = htonl(1);
		}
		e.flags = NFQCT_CT_F_SEEN_REPLY | NFQCT_CT_F_ASSURED | NFQCT_CT_F_ACCT;
		e.packets[0] = i;
		e.packets[1] = i / 2;
		e.bytes[0] = i * 100;
		e.bytes[1] = i * 50;
		switch (i % 4) {
		case 0:
		case 1:
			e.tuple.proto = IPPROTO_TCP;
			e.tuple.sp.port = htons((uint16_t)(1024 + i % 60000));
			e.tuple.dp.port = htons(443);
			e.timeout_ms = 432000000;
			e.proto.tcp.state = NFQCT_TCP_ESTABLISHED;
			e.proto.tcp.peer[0] = (struct nfqct_tcp_peer){ 1000 + (uint32_t)i, 70000, 65535, 5000 };
			e.proto.tcp.peer[1] = (struct nfqct_tcp_peer){ 5000, 80000, 65535, 1000 };
			e.proto.tcp.scale0 = e.proto.tcp.scale1 = 7;
			break;
		case 2:
			e.tuple.proto = IPPROTO_UDP;
			e.tuple.sp.port = htons((uint16_t)(1024 + i % 60000));
			e.tuple.dp.port = htons(53);
			e.timeout_ms = 120000;
			e.proto.udp.stream_ms = now;
			break;
		default:
			e.tuple.proto = e.tuple.family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
			e.tuple.sp.icmp_id = htons((uint16_t)i);
			e.tuple.dp.icmp.type = e.tuple.family == AF_INET ? 8 : 128;
			e.timeout_ms = 30000;
			break;
		}
		if (nfqct_ct_import(ct, NULL, &e, now, 0, false) < 0) {
			fprintf(stderr, "bench_state: import of entry %lu failed\n", i);
			exit(1);
		}
		if ((i & 0xffff) == 0)
			rcu_quiescent_state();
	}
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	const char *path = argc > 2 ? argv[2] : "/tmp/nfqct-bench.state";
	struct nfqct_settings s;
	struct nfqct_state_buf buf = { 0 }, back;
	struct nfqct_state_load_stats ls;
	struct nfqct_ct *a, *b;
	const char *why;
	double t0, t1, t2, t3, t4;
	uint64_t now = 1000000;
	int ret;

	nfqct_settings_init(&s);
	s.ct_buckets = 1u << 20;
	rcu_register_thread();
	a = nfqct_ct_create(&s);
	b = nfqct_ct_create(&s);
	if (!a || !b)
		return 1;
	fill(a, n, now);
	t0 = now_s();
	ret = nfqct_state_encode(a, now, nfqct_wall_ms(), &buf);
	t1 = now_s();
	if (!ret)
		ret = nfqct_state_write(path, buf.data, buf.len);
	t2 = now_s();
	if (!ret)
		ret = nfqct_state_read(path, &back);
	t3 = now_s();
	if (!ret)
		ret = nfqct_state_apply(b, NULL, back.data, back.len, now, nfqct_wall_ms(), 0, false,
					&ls, &why);
	t4 = now_s();
	if (ret) {
		fprintf(stderr, "bench_state: %s\n", nfqct_state_strerror(ret));
		return 1;
	}
	printf("entries            %lu (loaded %llu)\n", n, (unsigned long long)ls.loaded);
	printf("file               %zu bytes, %.1f bytes/entry\n", buf.len, (double)buf.len / (double)n);
	printf("save: encode       %.3f s (table walk, RCU online)\n", t1 - t0);
	printf("save: write        %.3f s (tmp file, fsync, rename)\n", t2 - t1);
	printf("load: read         %.3f s\n", t3 - t2);
	printf("load: check+insert %.3f s\n", t4 - t3);
	unlink(path);
	nfqct_state_buf_free(&buf);
	nfqct_state_buf_free(&back);
	nfqct_ct_destroy(a);
	nfqct_ct_destroy(b);
	rcu_unregister_thread();
	return 0;
}
