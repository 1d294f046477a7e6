/*
 * fuzz_sync.c - one replication datagram as it arrives from the network
 * (syncmsg.h): framing, then every message decoded; each flow message
 * that decodes must survive a round trip (encoded for a nfqct peer and
 * decoded again: the same flow), and its entry goes into a small table
 * the way `nfqct ha primary` commits the external cache.  The same
 * datagram then goes to an FTFW engine (ftfw.h) with flows of its own in
 * its resend queue, as the sync thread hands it over: whatever ACKs,
 * NACKs and jumps it holds, every datagram the engine sends must frame
 * and decode whole.
 * Input: the datagram, as is.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/ftfw.h"
#include "nfqct/syncmsg.h"
#include "fuzz.h"

#define NOW 5000000ull

static struct nfqct_settings settings;
static struct nfqct_ct *table;
static struct nfqct_ftfw *engine;

/* What the engine sends must be a datagram we would accept. */
static int fz_xmit(void *arg, const uint8_t *buf, size_t len)
{
	struct nfqct_sync_msg m;
	size_t off = 0;
	int n = nfqct_sync_frame(buf, len), k = 0;

	if (n < 1)
		fuzz_fail("the engine sent a datagram that does not frame");
	while (nfqct_sync_decode(buf, len, &off, &m) == 0)
		k++;
	if (k != n || off != len)
		fuzz_fail("the engine sent a message that does not decode");
	return 0;
}

static void fz_apply(void *arg, uint8_t type, const struct nfqct_sync_flow *f)
{
	if (type > NFQCT_SYNC_T_DESTROY)
		fuzz_fail("the engine applied a message that is not a flow");
}

static const struct nfqct_ftfw_ops fz_ops = { .xmit = fz_xmit, .apply = fz_apply };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nfqct_ftfw_cfg cfg = {
		.mode = NFQCT_SYNC_MODE_FTFW, .enc = NFQCT_SYNC_ENC_NFQCT, .window = 3,
		.resend_max = 16, .alive_ms = 1000, .mtu = 512, .first_seq = 0xfffffff0u,
	};

	nfqct_settings_init(&settings);
	settings.ct_buckets = 64;
	rcu_register_thread();
	table = nfqct_ct_create(&settings);
	if (!table || nfqct_ftfw_create(&cfg, &fz_ops, NULL, &engine) < 0)
		abort();
	return 0;
}

/* A fresh peer with 12 flows of ours awaiting ACKs (numbers across the wrap), then @data. */
static void engine_input(const uint8_t *data, size_t size)
{
	struct nfqct_sync_flow f;

	nfqct_ftfw_reset(engine);
	memset(&f, 0, sizeof(f));
	f.tuple.family = AF_INET;
	f.tuple.proto = IPPROTO_UDP;
	f.tuple.src.ip = htonl(0xc6120001);
	f.tuple.dst.ip = htonl(0xc6120102);
	f.have = NFQCT_SYNC_HAVE_TIMEOUT;
	f.timeout_s = 30;
	for (uint16_t i = 0; i < 12; i++) {
		f.tuple.sp.port = htons(i);
		(void)nfqct_ftfw_send(engine, NFQCT_SYNC_T_NEW, &f, NOW);
	}
	nfqct_ftfw_flush(engine, NOW);
	nfqct_ftfw_input(engine, data, size, NOW);
	(void)nfqct_ftfw_tick(engine, NOW + 1000);
}

/* The fields an encoding carries back, for the round trip's comparison. */
static void normalise(struct nfqct_sync_flow *f)
{
	f->have &= NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT | NFQCT_SYNC_HAVE_MARK |
		   NFQCT_SYNC_HAVE_TCP | NFQCT_SYNC_HAVE_WSCALE | NFQCT_SYNC_HAVE_SCTP |
		   NFQCT_SYNC_HAVE_ZONE | NFQCT_SYNC_HAVE_COUNTERS;
	if (!f->zone)
		f->have &= ~(uint32_t)NFQCT_SYNC_HAVE_ZONE;
	if (!(f->have & NFQCT_SYNC_HAVE_WSCALE))
		f->tcp_wscale[0] = f->tcp_wscale[1] = 0;
	memset(f->helper, 0, sizeof(f->helper));
}

static void round_trip(const struct nfqct_sync_msg *m)
{
	uint8_t buf[NFQCT_SYNC_FLOW_MAX];
	struct nfqct_sync_flow a = m->flow;
	struct nfqct_sync_msg back;
	size_t len = 0, off = 0;

	normalise(&a);
	if (nfqct_sync_put_flow(buf, sizeof(buf), &len, m->type, m->seq,
				m->flags & (NFQCT_SYNC_F_HELLO | NFQCT_SYNC_F_HELLO_BACK), &a,
				NFQCT_SYNC_ENC_NFQCT) != 0)
		fuzz_fail("a decoded flow does not encode");
	if (nfqct_sync_frame(buf, len) != 1)
		fuzz_fail("an encoded flow does not frame");
	if (nfqct_sync_decode(buf, len, &off, &back) != 0 || off != len)
		fuzz_fail("an encoded flow does not decode");
	normalise(&back.flow);
	if (back.type != m->type || back.seq != m->seq || memcmp(&a, &back.flow, sizeof(a)) != 0)
		fuzz_fail("the round trip changed the flow");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfqct_sync_msg m;
	size_t off = 0;
	int msgs, seen = 0, r;

	engine_input(data, size);
	msgs = nfqct_sync_frame(data, size);
	if (msgs < 0)
		return 0;
	nfqct_ct_flush(table, NULL);
	while ((r = nfqct_sync_decode(data, size, &off, &m)) != -ENODATA) {
		struct nfqct_ct_entry e;

		if (off > size)
			fuzz_fail("decoding ran past the datagram");
		seen++;
		if (r != 0 || m.type > NFQCT_SYNC_T_DESTROY)
			continue;
		round_trip(&m);
		if (nfqct_sync_flow_to_entry(&m.flow, 30000, &e) == 0)
			(void)nfqct_ct_import(table, NULL, &e, NOW, 64, true);
	}
	if (seen != msgs || off != size)
		fuzz_fail("the messages decoded are not the ones framed");
	rcu_quiescent_state();
	return 0;
}
