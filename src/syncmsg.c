/*
 * syncmsg.c - conntrackd's replication messages (syncmsg.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/proto_sctp.h"
#include "nfqct/proto_tcp.h"
#include "nfqct/syncmsg.h"

#ifndef IPPROTO_DCCP
#define IPPROTO_DCCP 33
#endif
#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

#define ALIGN4(n) (((n) + 3u) & ~3u)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* ACK, NACK and RESYNC carry from/to (conntrackd's IS_ACK/IS_NACK/IS_RESYNC). */
static bool has_range(uint8_t type, uint8_t flags)
{
	return type == NFQCT_SYNC_T_CTL &&
	       (flags & (NFQCT_SYNC_F_ACK | NFQCT_SYNC_F_NACK | NFQCT_SYNC_F_RESYNC));
}

int nfqct_sync_frame(const uint8_t *buf, size_t len)
{
	size_t off = 0;
	int n = 0;

	if (len == 0)
		return -EBADMSG;
	while (off < len) {
		const uint8_t *h = buf + off;
		size_t mlen;

		if (len - off < NFQCT_SYNC_HDR_LEN)
			return -EBADMSG;
		if ((h[0] >> 4) != NFQCT_SYNC_VERSION)
			return -EPROTONOSUPPORT;
		mlen = get16(h + 2);
		if (mlen < (has_range(h[0] & 0x0f, h[1]) ? NFQCT_SYNC_CTL_LEN : NFQCT_SYNC_HDR_LEN) ||
		    mlen > len - off)
			return -EBADMSG;
		off += mlen;
		n++;
	}
	return n;
}

/* Value sizes of the attributes conntrackd knows: 0 variable, -1 none. */
static const int8_t nta_size[NFQCT_NTA_STD_MAX + 1] = {
	[NFQCT_NTA_IPV4] = 8,		[NFQCT_NTA_IPV6] = 32,
	[NFQCT_NTA_L4PROTO] = 1,	[NFQCT_NTA_PORT] = 4,
	[NFQCT_NTA_TCP_STATE] = 1,	[NFQCT_NTA_STATUS] = 4,
	[NFQCT_NTA_TIMEOUT] = 4,	[NFQCT_NTA_MARK] = 4,
	[NFQCT_NTA_MASTER_IPV4] = 8,	[NFQCT_NTA_MASTER_IPV6] = 32,
	[NFQCT_NTA_MASTER_L4PROTO] = 1,	[NFQCT_NTA_MASTER_PORT] = 4,
	[NFQCT_NTA_SNAT_IPV4] = 4,	[NFQCT_NTA_DNAT_IPV4] = 4,
	[NFQCT_NTA_SPAT_PORT] = 2,	[NFQCT_NTA_DPAT_PORT] = 2,
	[NFQCT_NTA_NAT_SEQ_ADJ] = 24,	[NFQCT_NTA_SCTP_STATE] = 1,
	[NFQCT_NTA_SCTP_VTAG_ORIG] = 4,	[NFQCT_NTA_SCTP_VTAG_REPL] = 4,
	[NFQCT_NTA_DCCP_STATE] = 1,	[NFQCT_NTA_DCCP_ROLE] = 1,
	[NFQCT_NTA_ICMP_TYPE] = 1,	[NFQCT_NTA_ICMP_CODE] = 1,
	[NFQCT_NTA_ICMP_ID] = 2,	[NFQCT_NTA_TCP_WSCALE_ORIG] = 1,
	[NFQCT_NTA_TCP_WSCALE_REPL] = 1, [NFQCT_NTA_HELPER_NAME] = 0,
	[NFQCT_NTA_LABELS] = 0,		[NFQCT_NTA_SNAT_IPV6] = 16,
	[NFQCT_NTA_DNAT_IPV6] = 16,	[NFQCT_NTA_SYNPROXY] = 12,
	[NFQCT_NTA_ZONE] = 2,
};

#define COUNTERS_BIT 63		/* the seen-bit of NFQCT_NTA_COUNTERS */

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_DCCP;
}

static bool is_icmp(uint8_t family, uint8_t proto)
{
	return (family == AF_INET && proto == IPPROTO_ICMP) ||
	       (family == AF_INET6 && proto == IPPROTO_ICMPV6);
}

/* One attribute @t with @n value bytes at @v into @f; @seen has its bit. */
static void take_attr(struct nfqct_sync_flow *f, unsigned int t, const uint8_t *v, size_t n)
{
	struct nfqct_tuple *tu = &f->tuple;

	switch (t) {
	case NFQCT_NTA_IPV4:
		tu->family = AF_INET;
		memcpy(&tu->src.ip, v, 4);
		memcpy(&tu->dst.ip, v + 4, 4);
		break;
	case NFQCT_NTA_IPV6:
		tu->family = AF_INET6;
		memcpy(&tu->src.b, v, 16);
		memcpy(&tu->dst.b, v + 16, 16);
		break;
	case NFQCT_NTA_L4PROTO:
		tu->proto = v[0];
		break;
	case NFQCT_NTA_PORT:
		memcpy(&tu->sp.port, v, 2);
		memcpy(&tu->dp.port, v + 2, 2);
		break;
	case NFQCT_NTA_TCP_STATE:
		f->tcp_state = v[0];
		f->have |= NFQCT_SYNC_HAVE_TCP;
		break;
	case NFQCT_NTA_STATUS:
		f->status = get32(v);
		f->have |= NFQCT_SYNC_HAVE_STATUS;
		break;
	case NFQCT_NTA_TIMEOUT:
		f->timeout_s = get32(v);
		f->have |= NFQCT_SYNC_HAVE_TIMEOUT;
		break;
	case NFQCT_NTA_MARK:
		f->mark = get32(v);
		f->have |= NFQCT_SYNC_HAVE_MARK;
		break;
	case NFQCT_NTA_MASTER_IPV4:
	case NFQCT_NTA_MASTER_IPV6:
	case NFQCT_NTA_MASTER_L4PROTO:
	case NFQCT_NTA_MASTER_PORT:
		f->have |= NFQCT_SYNC_HAVE_MASTER;
		break;
	case NFQCT_NTA_SNAT_IPV4:
	case NFQCT_NTA_DNAT_IPV4:
	case NFQCT_NTA_SPAT_PORT:
	case NFQCT_NTA_DPAT_PORT:
	case NFQCT_NTA_NAT_SEQ_ADJ:
	case NFQCT_NTA_SNAT_IPV6:
	case NFQCT_NTA_DNAT_IPV6:
		f->have |= NFQCT_SYNC_HAVE_NAT;
		break;
	case NFQCT_NTA_SCTP_STATE:
		f->sctp_state = v[0];
		break;
	case NFQCT_NTA_SCTP_VTAG_ORIG:
		memcpy(&f->sctp_vtag[0], v, 4);
		break;
	case NFQCT_NTA_SCTP_VTAG_REPL:
		memcpy(&f->sctp_vtag[1], v, 4);
		break;
	case NFQCT_NTA_ICMP_TYPE:
		tu->dp.icmp.type = v[0];
		break;
	case NFQCT_NTA_ICMP_CODE:
		tu->dp.icmp.code = v[0];
		break;
	case NFQCT_NTA_ICMP_ID:
		/* swapped on the wire: see nfqct_sync_put_flow() */
		((uint8_t *)&tu->sp.icmp_id)[0] = v[1];
		((uint8_t *)&tu->sp.icmp_id)[1] = v[0];
		break;
	case NFQCT_NTA_TCP_WSCALE_ORIG:
		f->tcp_wscale[0] = v[0];
		break;
	case NFQCT_NTA_TCP_WSCALE_REPL:
		f->tcp_wscale[1] = v[0];
		break;
	case NFQCT_NTA_HELPER_NAME:
		memcpy(f->helper, v, n);	/* n <= 16, NUL checked */
		f->have |= NFQCT_SYNC_HAVE_HELPER;
		break;
	case NFQCT_NTA_ZONE:
		f->zone = get16(v);
		f->have |= NFQCT_SYNC_HAVE_ZONE;
		break;
	case NFQCT_NTA_COUNTERS:
		f->packets[0] = get64(v);
		f->packets[1] = get64(v + 8);
		f->bytes[0] = get64(v + 16);
		f->bytes[1] = get64(v + 24);
		f->have |= NFQCT_SYNC_HAVE_COUNTERS;
		break;
	default:		/* DCCP state/role, labels, synproxy: checked, not kept */
		break;
	}
}

#define SEEN(t) (1ull << (t))

/* The attributes of one flow message (@p, @n bytes after the header) into @f. */
static int decode_flow(const uint8_t *p, size_t n, struct nfqct_sync_flow *f)
{
	uint64_t seen = 0;
	size_t off = 0;

	memset(f, 0, sizeof(*f));
	while (off < n) {
		unsigned int alen, t, bit;
		size_t vlen;
		const uint8_t *v;

		if (n - off < NFQCT_SYNC_NTA_HDR_LEN)
			return -EPROTO;		/* a cut attribute header */
		alen = get16(p + off);
		t = get16(p + off + 2);
		if (alen < NFQCT_SYNC_NTA_HDR_LEN || ALIGN4(alen) > n - off)
			return -EPROTO;		/* runs past its message */
		vlen = alen - NFQCT_SYNC_NTA_HDR_LEN;
		v = p + off + NFQCT_SYNC_NTA_HDR_LEN;
		if (t <= NFQCT_NTA_STD_MAX) {
			int want = nta_size[t];

			if (want > 0 && vlen != (size_t)want)
				return -EPROTO;
			if (t == NFQCT_NTA_HELPER_NAME &&
			    (vlen == 0 || vlen > sizeof(f->helper) || v[vlen - 1] != '\0'))
				return -EPROTO;
			if (t == NFQCT_NTA_LABELS && (vlen == 0 || vlen % 4 || vlen > 4096))
				return -EPROTO;
			bit = t;
		} else if (t == NFQCT_NTA_COUNTERS) {
			if (vlen != 32)
				return -EPROTO;
			bit = COUNTERS_BIT;
		} else {
			return -EPROTO;		/* unknown type: conntrackd refuses it too */
		}
		if (seen & SEEN(bit))
			return -EPROTO;		/* a duplicate */
		seen |= SEEN(bit);
		take_attr(f, t, v, vlen);
		off += ALIGN4(alen);
	}

	/* What a tuple needs. */
	if (!!(seen & SEEN(NFQCT_NTA_IPV4)) + !!(seen & SEEN(NFQCT_NTA_IPV6)) != 1 ||
	    !(seen & SEEN(NFQCT_NTA_L4PROTO)))
		return -EPROTO;
	if (has_ports(f->tuple.proto) && !(seen & SEEN(NFQCT_NTA_PORT)))
		return -EPROTO;
	if (!has_ports(f->tuple.proto) && (seen & SEEN(NFQCT_NTA_PORT)))
		return -EPROTO;
	if (is_icmp(f->tuple.family, f->tuple.proto) &&
	    (seen & (SEEN(NFQCT_NTA_ICMP_TYPE) | SEEN(NFQCT_NTA_ICMP_CODE) | SEEN(NFQCT_NTA_ICMP_ID))) !=
		    (SEEN(NFQCT_NTA_ICMP_TYPE) | SEEN(NFQCT_NTA_ICMP_CODE) | SEEN(NFQCT_NTA_ICMP_ID)))
		return -EPROTO;
	if (!is_icmp(f->tuple.family, f->tuple.proto) &&
	    (seen & (SEEN(NFQCT_NTA_ICMP_TYPE) | SEEN(NFQCT_NTA_ICMP_CODE) | SEEN(NFQCT_NTA_ICMP_ID))))
		return -EPROTO;
	if ((seen & SEEN(NFQCT_NTA_TCP_STATE)) &&
	    (f->tuple.proto != IPPROTO_TCP || f->tcp_state >= NFQCT_TCP_STATE_MAX))
		return -EPROTO;
	if (f->tuple.proto == IPPROTO_TCP && !(seen & SEEN(NFQCT_NTA_TCP_STATE)))
		return -EPROTO;		/* conntrackd sends ports and state together */
	if ((seen & (SEEN(NFQCT_NTA_TCP_WSCALE_ORIG) | SEEN(NFQCT_NTA_TCP_WSCALE_REPL))) &&
	    f->tuple.proto != IPPROTO_TCP)
		return -EPROTO;		/* TCP's alone */
	if ((seen & SEEN(NFQCT_NTA_TCP_WSCALE_ORIG)) && (seen & SEEN(NFQCT_NTA_TCP_WSCALE_REPL)))
		f->have |= NFQCT_SYNC_HAVE_WSCALE;
	if (seen & (SEEN(NFQCT_NTA_SCTP_STATE) | SEEN(NFQCT_NTA_SCTP_VTAG_ORIG) |
		    SEEN(NFQCT_NTA_SCTP_VTAG_REPL))) {
		if (f->tuple.proto != IPPROTO_SCTP || !(seen & SEEN(NFQCT_NTA_SCTP_STATE)) ||
		    !(seen & SEEN(NFQCT_NTA_SCTP_VTAG_ORIG)) || !(seen & SEEN(NFQCT_NTA_SCTP_VTAG_REPL)) ||
		    f->sctp_state >= NFQCT_SCTP_STATE_MAX)
			return -EPROTO;
		f->have |= NFQCT_SYNC_HAVE_SCTP;
	}
	if (f->tuple.proto == IPPROTO_SCTP && !(f->have & NFQCT_SYNC_HAVE_SCTP))
		return -EPROTO;		/* ports and state together, as TCP */
	return 0;
}

int nfqct_sync_decode(const uint8_t *buf, size_t len, size_t *off, struct nfqct_sync_msg *m)
{
	const uint8_t *h;
	size_t mlen;

	if (*off >= len)
		return -ENODATA;
	h = buf + *off;
	/* nfqct_sync_frame() vouched for the header and the length. */
	m->type = h[0] & 0x0f;
	m->flags = h[1];
	m->len = get16(h + 2);
	m->seq = get32(h + 4);
	m->from = m->to = 0;
	mlen = m->len;
	*off += mlen;

	switch (m->type) {
	case NFQCT_SYNC_T_NEW:
	case NFQCT_SYNC_T_UPDATE:
	case NFQCT_SYNC_T_DESTROY:
		/* data carries no flag but the hello handshake's (IS_DATA) */
		if (m->flags & ~(NFQCT_SYNC_F_HELLO | NFQCT_SYNC_F_HELLO_BACK))
			return -EPROTO;
		return decode_flow(h + NFQCT_SYNC_HDR_LEN, mlen - NFQCT_SYNC_HDR_LEN, &m->flow);
	case NFQCT_SYNC_T_EXP_NEW:
	case NFQCT_SYNC_T_EXP_UPDATE:
	case NFQCT_SYNC_T_EXP_DESTROY:
		if (m->flags & ~(NFQCT_SYNC_F_HELLO | NFQCT_SYNC_F_HELLO_BACK))
			return -EPROTO;
		return -EOPNOTSUPP;
	case NFQCT_SYNC_T_CTL:
		if (m->flags & (NFQCT_SYNC_F_ACK | NFQCT_SYNC_F_NACK | NFQCT_SYNC_F_RESYNC)) {
			m->from = get32(h + 8);
			m->to = get32(h + 12);
			if ((m->flags & (NFQCT_SYNC_F_ACK | NFQCT_SYNC_F_NACK)) &&
			    (int32_t)(m->to - m->from) < 0)
				return -EPROTO;		/* a range that runs backwards */
			return 0;
		}
		if (m->flags & NFQCT_SYNC_F_ALIVE)
			return 0;
		return -EPROTO;
	default:
		return -EPROTO;
	}
}

/* ---- encoding ---- */

static void put_hdr(uint8_t *p, uint8_t type, uint8_t flags, uint16_t len, uint32_t seq)
{
	p[0] = (uint8_t)(NFQCT_SYNC_VERSION << 4 | (type & 0x0f));
	p[1] = flags;
	put16(p + 2, len);
	put32(p + 4, seq);
}

/* Append one attribute at @p + *@n; its value is @v, @vlen bytes, zero-padded. */
static void put_attr(uint8_t *p, size_t *n, uint16_t type, const void *v, size_t vlen)
{
	uint8_t *a = p + *n;
	size_t total = ALIGN4(NFQCT_SYNC_NTA_HDR_LEN + vlen);

	put16(a, (uint16_t)(NFQCT_SYNC_NTA_HDR_LEN + vlen));
	put16(a + 2, type);
	memcpy(a + NFQCT_SYNC_NTA_HDR_LEN, v, vlen);
	memset(a + NFQCT_SYNC_NTA_HDR_LEN + vlen, 0, total - NFQCT_SYNC_NTA_HDR_LEN - vlen);
	*n += total;
}

static void put_attr32(uint8_t *p, size_t *n, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	put_attr(p, n, type, b, 4);
}

int nfqct_sync_put_flow(uint8_t *buf, size_t cap, size_t *len, uint8_t type, uint32_t seq,
			uint8_t flags, const struct nfqct_sync_flow *f, unsigned int enc)
{
	uint8_t m[NFQCT_SYNC_FLOW_MAX];
	const struct nfqct_tuple *t = &f->tuple;
	size_t n = NFQCT_SYNC_HDR_LEN;
	uint8_t addr[32];

	if (type > NFQCT_SYNC_T_DESTROY || (flags & ~(NFQCT_SYNC_F_HELLO | NFQCT_SYNC_F_HELLO_BACK)))
		return -EINVAL;
	if (t->family == AF_INET) {
		memcpy(addr, &t->src.ip, 4);
		memcpy(addr + 4, &t->dst.ip, 4);
		put_attr(m, &n, NFQCT_NTA_IPV4, addr, 8);
	} else if (t->family == AF_INET6) {
		memcpy(addr, &t->src.b, 16);
		memcpy(addr + 16, &t->dst.b, 16);
		put_attr(m, &n, NFQCT_NTA_IPV6, addr, 32);
	} else {
		return -EINVAL;
	}
	if (f->have & NFQCT_SYNC_HAVE_STATUS)
		put_attr32(m, &n, NFQCT_NTA_STATUS, f->status);
	put_attr(m, &n, NFQCT_NTA_L4PROTO, &t->proto, 1);
	if (has_ports(t->proto)) {
		uint8_t ports[4];

		if (t->proto == IPPROTO_TCP && !(f->have & NFQCT_SYNC_HAVE_TCP))
			return -EINVAL;		/* conntrackd needs the state with the ports */
		if (t->proto == IPPROTO_SCTP && !(f->have & NFQCT_SYNC_HAVE_SCTP))
			return -EINVAL;
		memcpy(ports, &t->sp.port, 2);
		memcpy(ports + 2, &t->dp.port, 2);
		put_attr(m, &n, NFQCT_NTA_PORT, ports, 4);
		if (t->proto == IPPROTO_TCP) {
			put_attr(m, &n, NFQCT_NTA_TCP_STATE, &f->tcp_state, 1);
			if (f->have & NFQCT_SYNC_HAVE_WSCALE) {
				put_attr(m, &n, NFQCT_NTA_TCP_WSCALE_ORIG, &f->tcp_wscale[0], 1);
				put_attr(m, &n, NFQCT_NTA_TCP_WSCALE_REPL, &f->tcp_wscale[1], 1);
			}
		} else if (t->proto == IPPROTO_SCTP) {
			put_attr(m, &n, NFQCT_NTA_SCTP_STATE, &f->sctp_state, 1);
			put_attr(m, &n, NFQCT_NTA_SCTP_VTAG_ORIG, &f->sctp_vtag[0], 4);
			put_attr(m, &n, NFQCT_NTA_SCTP_VTAG_REPL, &f->sctp_vtag[1], 4);
		}
	} else if (is_icmp(t->family, t->proto)) {
		put_attr(m, &n, NFQCT_NTA_ICMP_TYPE, &t->dp.icmp.type, 1);
		put_attr(m, &n, NFQCT_NTA_ICMP_CODE, &t->dp.icmp.code, 1);
		/* conntrackd puts libnetfilter_conntrack's id, already in network
		 * order, through htons() once more (build.c, ct_build_u16): on the
		 * little-endian machines it runs on, the two bytes travel swapped.
		 * We swap them too, whatever our own byte order (interop checked:
		 * tests/netns/sync-conntrackd.sh). */
		uint8_t id[2] = { ((const uint8_t *)&t->sp.icmp_id)[1], ((const uint8_t *)&t->sp.icmp_id)[0] };

		put_attr(m, &n, NFQCT_NTA_ICMP_ID, id, 2);
	}
	if ((f->have & NFQCT_SYNC_HAVE_TIMEOUT) && !(enc & NFQCT_SYNC_ENC_NO_TIMEOUT))
		put_attr32(m, &n, NFQCT_NTA_TIMEOUT, f->timeout_s);
	if (f->have & NFQCT_SYNC_HAVE_MARK)
		put_attr32(m, &n, NFQCT_NTA_MARK, f->mark);
	if (enc & NFQCT_SYNC_ENC_NFQCT) {
		if ((f->have & NFQCT_SYNC_HAVE_ZONE) && f->zone) {
			uint8_t z[2];

			put16(z, f->zone);
			put_attr(m, &n, NFQCT_NTA_ZONE, z, 2);
		}
		if (f->have & NFQCT_SYNC_HAVE_COUNTERS) {
			uint8_t c[32];

			put64(c, f->packets[0]);
			put64(c + 8, f->packets[1]);
			put64(c + 16, f->bytes[0]);
			put64(c + 24, f->bytes[1]);
			put_attr(m, &n, NFQCT_NTA_COUNTERS, c, 32);
		}
	}
	if (cap < *len || cap - *len < n)
		return -ENOSPC;
	put_hdr(m, type, flags, (uint16_t)n, seq);
	memcpy(buf + *len, m, n);
	*len += n;
	return 0;
}

int nfqct_sync_put_ctl(uint8_t *buf, size_t cap, size_t *len, uint8_t flags, uint32_t seq,
		       uint32_t from, uint32_t to)
{
	bool range = has_range(NFQCT_SYNC_T_CTL, flags);
	size_t n = range ? NFQCT_SYNC_CTL_LEN : NFQCT_SYNC_HDR_LEN;

	if (!range && !(flags & NFQCT_SYNC_F_ALIVE))
		return -EINVAL;
	if (cap < *len || cap - *len < n)
		return -ENOSPC;
	put_hdr(buf + *len, NFQCT_SYNC_T_CTL, flags, (uint16_t)n, seq);
	if (range) {
		put32(buf + *len + 8, from);
		put32(buf + *len + 12, to);
	}
	*len += n;
	return 0;
}

/* ---- between the table and the wire ---- */

void nfqct_sync_flow_from_entry(const struct nfqct_ct_entry *e, struct nfqct_sync_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->tuple = e->tuple;
	f->have = NFQCT_SYNC_HAVE_STATUS | NFQCT_SYNC_HAVE_TIMEOUT | NFQCT_SYNC_HAVE_MARK |
		  NFQCT_SYNC_HAVE_ZONE;
	f->status = NFQCT_IPS_CONFIRMED;
	if (e->flags & NFQCT_CT_F_SEEN_REPLY)
		f->status |= NFQCT_IPS_SEEN_REPLY;
	if (e->flags & NFQCT_CT_F_ASSURED)
		f->status |= NFQCT_IPS_ASSURED;
	/* seconds, rounded up: a live entry never travels with 0 */
	f->timeout_s = e->timeout_ms / 1000 + (e->timeout_ms % 1000 != 0);
	if (e->timeout_ms > 1000ull * UINT32_MAX)
		f->timeout_s = UINT32_MAX;
	f->mark = e->mark;
	f->zone = e->zone;
	if (e->tuple.proto == IPPROTO_TCP) {
		f->tcp_state = e->proto.tcp.state;
		f->have |= NFQCT_SYNC_HAVE_TCP;
	} else if (e->tuple.proto == IPPROTO_SCTP) {
		f->sctp_state = e->proto.sctp.state;
		f->sctp_vtag[0] = e->proto.sctp.vtag[0];
		f->sctp_vtag[1] = e->proto.sctp.vtag[1];
		f->have |= NFQCT_SYNC_HAVE_SCTP;
	}
	if (e->flags & NFQCT_CT_F_ACCT) {
		memcpy(f->packets, e->packets, sizeof(f->packets));
		memcpy(f->bytes, e->bytes, sizeof(f->bytes));
		f->have |= NFQCT_SYNC_HAVE_COUNTERS;
	}
}

int nfqct_sync_flow_to_entry(const struct nfqct_sync_flow *f, uint64_t default_ms,
			     struct nfqct_ct_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->tuple = f->tuple;
	e->zone = (f->have & NFQCT_SYNC_HAVE_ZONE) ? f->zone : 0;
	e->mark = (f->have & NFQCT_SYNC_HAVE_MARK) ? f->mark : 0;
	if (f->status & NFQCT_IPS_SEEN_REPLY)
		e->flags |= NFQCT_CT_F_SEEN_REPLY;
	if (f->status & NFQCT_IPS_ASSURED)
		e->flags |= NFQCT_CT_F_ASSURED;
	e->timeout_ms = (f->have & NFQCT_SYNC_HAVE_TIMEOUT) ? (uint64_t)f->timeout_s * 1000 : default_ms;
	if (e->timeout_ms == 0)
		return -EINVAL;
	if (f->have & NFQCT_SYNC_HAVE_COUNTERS) {
		memcpy(e->packets, f->packets, sizeof(e->packets));
		memcpy(e->bytes, f->bytes, sizeof(e->bytes));
		e->flags |= NFQCT_CT_F_ACCT;
	}
	if (f->tuple.proto == IPPROTO_TCP) {
		if (!(f->have & NFQCT_SYNC_HAVE_TCP))
			return -EINVAL;
		nfqct_tcp_pickup(&e->proto.tcp, f->tcp_state);
	} else if (f->tuple.proto == IPPROTO_SCTP && (f->have & NFQCT_SYNC_HAVE_SCTP)) {
		e->proto.sctp.state = f->sctp_state;
		e->proto.sctp.vtag[0] = f->sctp_vtag[0];
		e->proto.sctp.vtag[1] = f->sctp_vtag[1];
	}
	return 0;
}

const char *nfqct_sync_type_name(uint8_t type)
{
	static const char *const names[] = {
		[NFQCT_SYNC_T_NEW] = "NEW", [NFQCT_SYNC_T_UPDATE] = "UPDATE",
		[NFQCT_SYNC_T_DESTROY] = "DESTROY", [NFQCT_SYNC_T_EXP_NEW] = "EXP_NEW",
		[NFQCT_SYNC_T_EXP_UPDATE] = "EXP_UPDATE", [NFQCT_SYNC_T_EXP_DESTROY] = "EXP_DESTROY",
		[NFQCT_SYNC_T_CTL] = "CTL",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}
