/*
 * pktlog.c - per-worker rings of LOG entries and the thread that writes
 * them (pktlog.h).
 *
 * A ring is single-producer (its worker) single-consumer (the thread):
 * head is written by the worker only, tail by the thread only, each on its
 * own cache line; the entry is written before head is published (release)
 * and read after head is seen (acquire).
 *
 * The link-layer header of MAC=: NFQUEUE gives the source address
 * (NFQA_HWADDR) and the ethertype; the destination is rebuilt as the
 * input interface's own address (read from sysfs here, cached), or the
 * multicast / broadcast address the IP destination maps to.  A unicast
 * frame sent to another address (promiscuous, a subnet broadcast) or a
 * VLAN tag cannot be told apart: see nfqct.rules(5), LOG.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nfqct/log.h"
#include "nfqct/pktlog.h"

struct entry {
	struct nfqct_log_spec spec;
	uint8_t family;
	uint8_t hook;
	uint8_t raw;
	uint8_t hwaddr_len;
	uint8_t hwaddr[8];
	uint8_t has_owner;
	uint16_t hw_protocol;
	uint16_t caplen;
	uint32_t len;
	uint32_t indev, outdev;
	uint32_t mark, uid, gid;
	uint8_t data[NFQCT_PKTLOG_COPY];
};

struct ring {
	_Alignas(64) _Atomic uint32_t head;	/* next entry the worker fills */
	_Alignas(64) _Atomic uint32_t tail;	/* next entry the thread writes */
	struct entry e[NFQCT_PKTLOG_RING];
};

/* An interface as the thread last read it. */
struct iface {
	uint32_t ifindex;
	uint64_t read_ms;
	char name[IF_NAMESIZE];
	uint8_t addr[6];
	bool has_addr;
	bool ether;
};

#define IFACE_CACHE 16
#define IFACE_REFRESH_MS 1000

struct nfqct_pktlog {
	unsigned int nworkers;
	struct ring *rings;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	_Atomic uint64_t lines;
	struct iface ifc[IFACE_CACHE];
	unsigned int ifc_next;
};

_Static_assert((NFQCT_PKTLOG_RING & (NFQCT_PKTLOG_RING - 1)) == 0, "ring size a power of two");

struct nfqct_pktlog *nfqct_pktlog_create(unsigned int nworkers)
{
	struct nfqct_pktlog *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->nworkers = nworkers;
	pl->rings = aligned_alloc(64, nworkers * sizeof(*pl->rings));
	if (!pl->rings) {
		free(pl);
		return NULL;
	}
	memset(pl->rings, 0, nworkers * sizeof(*pl->rings));
	return pl;
}

bool nfqct_pktlog_put(struct nfqct_pktlog *pl, unsigned int worker, const struct nfqct_pkt *pkt,
		      const struct nfqct_log_spec *spec, uint32_t mark, bool raw)
{
	struct ring *r = &pl->rings[worker];
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	struct entry *e;
	uint32_t n;

	if (h - t >= NFQCT_PKTLOG_RING)
		return false;
	e = &r->e[h & (NFQCT_PKTLOG_RING - 1)];
	n = pkt->caplen < NFQCT_PKTLOG_COPY ? pkt->caplen : NFQCT_PKTLOG_COPY;
	e->spec = *spec;
	e->family = pkt->data && n && (pkt->data[0] >> 4) == 6 ? AF_INET6 : AF_INET;
	e->hook = pkt->hook;
	e->raw = raw;
	e->hwaddr_len = pkt->hwaddr_len;
	memcpy(e->hwaddr, pkt->hwaddr, sizeof(e->hwaddr));
	e->has_owner = (pkt->flags2 & NFQCT_PKT_F2_UIDGID) != 0;
	e->uid = pkt->uid;
	e->gid = pkt->gid;
	e->hw_protocol = pkt->hw_protocol;
	e->caplen = (uint16_t)n;
	e->len = pkt->len;
	e->indev = pkt->indev;
	e->outdev = pkt->outdev;
	e->mark = mark;
	if (n)
		memcpy(e->data, pkt->data, n);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return true;
}

/* A line of /sys/class/net/NAME/FILE. */
static bool sysfs_read(const char *name, const char *file, char *buf, size_t len)
{
	char path[96];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, file);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok;
}

/* Interface @ifindex: its name, address and type, read at most every IFACE_REFRESH_MS. */
static const struct iface *iface_get(struct nfqct_pktlog *pl, uint32_t ifindex, uint64_t now)
{
	struct iface *c = NULL;
	char buf[64];
	unsigned int a[6], type;

	for (unsigned int i = 0; i < IFACE_CACHE; i++)
		if (pl->ifc[i].ifindex == ifindex) {
			c = &pl->ifc[i];
			break;
		}
	if (c && now - c->read_ms < IFACE_REFRESH_MS)
		return c;
	if (!c) {
		c = &pl->ifc[pl->ifc_next];
		pl->ifc_next = (pl->ifc_next + 1) % IFACE_CACHE;
	}
	memset(c, 0, sizeof(*c));
	c->ifindex = ifindex;
	c->read_ms = now;
	if (!if_indextoname(ifindex, c->name)) {
		/* gone: the kernel would have printed the name it had */
		snprintf(c->name, sizeof(c->name), "if%" PRIu32, ifindex);
		return c;
	}
	if (sysfs_read(c->name, "address", buf, sizeof(buf)) &&
	    sscanf(buf, "%x:%x:%x:%x:%x:%x", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) == 6) {
		for (int i = 0; i < 6; i++)
			c->addr[i] = (uint8_t)a[i];
		c->has_addr = true;
	}
	c->ether = sysfs_read(c->name, "type", buf, sizeof(buf)) && sscanf(buf, "%u", &type) == 1 &&
		   type == 1;	/* ARPHRD_ETHER */
	return c;
}

/* The destination of the frame the packet came in: the IP destination's
 * multicast or broadcast address, else the interface's own. */
static void frame_dst(const struct entry *e, const struct iface *in, uint8_t dst[6])
{
	const uint8_t *d = e->data;

	if (e->family == AF_INET && e->caplen >= 20 && (d[16] & 0xf0) == 0xe0) {
		uint8_t m[6] = { 0x01, 0x00, 0x5e, d[17] & 0x7f, d[18], d[19] };

		memcpy(dst, m, 6);
	} else if (e->family == AF_INET && e->caplen >= 20 && !memcmp(d + 16, "\xff\xff\xff\xff", 4)) {
		memset(dst, 0xff, 6);
	} else if (e->family == AF_INET6 && e->caplen >= 40 && d[24] == 0xff) {
		uint8_t m[6] = { 0x33, 0x33, d[36], d[37], d[38], d[39] };

		memcpy(dst, m, 6);
	} else {
		memcpy(dst, in->addr, 6);
	}
}

static void write_entry(struct nfqct_pktlog *pl, const struct entry *e, uint64_t now)
{
	struct nfqct_logfmt_pkt p = {
		.prefix = e->spec.prefix,
		.flags = e->spec.flags,
		.family = e->family,
		.data = e->data,
		.caplen = e->caplen,
		.len = e->len,
		.mark = e->mark,
		.has_owner = e->has_owner,
		.uid = e->uid,
		.gid = e->gid,
	};
	char in[IF_NAMESIZE] = "", out[IF_NAMESIZE] = "", line[1024];
	bool entering = e->hook != NFQCT_HOOK_OUTPUT && e->hook != NFQCT_HOOK_POSTROUTING;

	if (e->indev) {
		const struct iface *i = iface_get(pl, e->indev, now);

		memcpy(in, i->name, sizeof(in));
		p.in = in;
		p.mac_ether = i->ether;
		if (e->hwaddr_len == 6 && i->has_addr) {
			frame_dst(e, i, p.mac);
			memcpy(p.mac + 6, e->hwaddr, 6);
			p.mac[12] = (uint8_t)(e->hw_protocol >> 8);
			p.mac[13] = (uint8_t)e->hw_protocol;
			p.mac_len = 14;
		}
	}
	/* The kernel's raw PREROUTING runs before routing: no output interface. */
	if (e->outdev && !(e->raw && entering)) {
		memcpy(out, iface_get(pl, e->outdev, now)->name, sizeof(out));
		p.out = out;
	}
	nfqct_logfmt(line, sizeof(line), &p);
	log_packet(e->spec.level, line);
	atomic_fetch_add_explicit(&pl->lines, 1, memory_order_relaxed);
}

/* Write what every ring holds now; returns the entries written. */
static unsigned int drain(struct nfqct_pktlog *pl)
{
	uint64_t now = nfqct_now_ms();
	unsigned int n = 0;

	for (unsigned int w = 0; w < pl->nworkers; w++) {
		struct ring *r = &pl->rings[w];
		uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
		uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);

		for (; t != h; t++, n++) {
			write_entry(pl, &r->e[t & (NFQCT_PKTLOG_RING - 1)], now);
			atomic_store_explicit(&r->tail, t + 1, memory_order_release);
		}
	}
	return n;
}

static void *pktlog_main(void *arg)
{
	struct nfqct_pktlog *pl = arg;
	const struct timespec idle = { 0, NFQCT_PKTLOG_IDLE_MS * 1000000L };

	while (!atomic_load(&pl->stop))
		if (drain(pl) == 0)
			nanosleep(&idle, NULL);
	drain(pl);	/* the workers have stopped: what is left */
	return NULL;
}

int nfqct_pktlog_start(struct nfqct_pktlog *pl)
{
	int ret;

	atomic_store(&pl->stop, false);
	ret = pthread_create(&pl->thread, NULL, pktlog_main, pl);
	if (ret)
		return -ret;
	pl->started = true;
	return 0;
}

void nfqct_pktlog_stop(struct nfqct_pktlog *pl)
{
	if (!pl || !pl->started)
		return;
	atomic_store(&pl->stop, true);
	pthread_join(pl->thread, NULL);
	pl->started = false;
}

void nfqct_pktlog_destroy(struct nfqct_pktlog *pl)
{
	if (!pl)
		return;
	nfqct_pktlog_stop(pl);
	free(pl->rings);
	free(pl);
}

uint64_t nfqct_pktlog_lines(const struct nfqct_pktlog *pl)
{
	return atomic_load_explicit(&pl->lines, memory_order_relaxed);
}
