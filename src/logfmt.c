/*
 * logfmt.c - the kernel LOG target's line (logfmt.h).
 *
 * Field by field the order, spelling and conditions of net/netfilter/
 * nf_log_syslog.c (Linux 6.x, with the TCP AE flag): where the kernel
 * stops early (a header that is not all there), so does this; where it
 * reads the skb's length, this reads p->len.  What we copy of a packet is
 * its first bytes (p->caplen); a header beyond them reads as missing,
 * where the kernel would have had it (nfqctd copies enough for any header
 * chain the kernel prints).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "nfqct/logfmt.h"

struct lbuf {
	char *s;
	size_t size;
	size_t len;		/* what was written or would have been */
};

static void __attribute__((format(printf, 2, 3))) add(struct lbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->len < b->size ? b->size - b->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

/* The packet as the kernel's skb_header_pointer() sees it. */
struct view {
	const uint8_t *d;
	uint32_t caplen;
	uint32_t len;
};

static const uint8_t *at(const struct view *v, uint32_t off, uint32_t n)
{
	if (off > v->caplen || n > v->caplen - off || off > v->len || n > v->len - off)
		return NULL;
	return v->d + off;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* "%pI4" */
static void add_ip4(struct lbuf *b, const uint8_t *a)
{
	add(b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* "%pI6": eight groups of four hex digits, never compressed */
static void add_ip6(struct lbuf *b, const uint8_t *a)
{
	for (int i = 0; i < 16; i += 2)
		add(b, "%s%02x%02x", i ? ":" : "", a[i], a[i + 1]);
}

/* "%pM" */
static void add_mac(struct lbuf *b, const uint8_t *m)
{
	add(b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void add_hex(struct lbuf *b, const uint8_t *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		add(b, "%02X", p[i]);
}

static unsigned int remaining(const struct view *v, uint32_t off)
{
	return v->len - off;	/* the kernel's skb->len - offset, unsigned */
}

/* nf_log_dump_tcp_header(): true when the line ends here. */
static bool dump_tcp(struct lbuf *b, const struct view *v, bool fragment, uint32_t off, uint8_t flags)
{
	const uint8_t *th, *op;
	unsigned int doff, optsize;

	add(b, "PROTO=TCP ");
	if (fragment)
		return false;
	th = at(v, off, 20);
	if (!th) {
		add(b, "INCOMPLETE [%u bytes] ", remaining(v, off));
		return true;
	}
	add(b, "SPT=%u DPT=%u ", get16(th), get16(th + 2));
	if (flags & NFQCT_LOG_TCPSEQ)
		add(b, "SEQ=%u ACK=%u ", get32(th + 4), get32(th + 8));
	add(b, "WINDOW=%u ", get16(th + 14));
	/* the reserved bits left of AE (TCP_RESERVED_BITS), >> 22 */
	add(b, "RES=0x%02x ", (unsigned int)((get32(th + 12) & 0x0E000000u) >> 22));
	if (th[12] & 0x01)
		add(b, "AE ");
	if (th[13] & 0x80)
		add(b, "CWR ");
	if (th[13] & 0x40)
		add(b, "ECE ");
	if (th[13] & 0x20)
		add(b, "URG ");
	if (th[13] & 0x10)
		add(b, "ACK ");
	if (th[13] & 0x08)
		add(b, "PSH ");
	if (th[13] & 0x04)
		add(b, "RST ");
	if (th[13] & 0x02)
		add(b, "SYN ");
	if (th[13] & 0x01)
		add(b, "FIN ");
	add(b, "URGP=%u ", get16(th + 18));
	doff = (unsigned int)(th[12] >> 4) * 4;
	if ((flags & NFQCT_LOG_TCPOPT) && doff > 20) {
		optsize = doff - 20;
		op = at(v, off + 20, optsize);
		if (!op) {
			add(b, "OPT (TRUNCATED)");
			return true;
		}
		add(b, "OPT (");
		add_hex(b, op, optsize);
		add(b, ") ");
	}
	return false;
}

/* nf_log_dump_udp_header() */
static bool dump_udp(struct lbuf *b, const struct view *v, uint8_t proto, bool fragment, uint32_t off)
{
	const uint8_t *uh;

	add(b, proto == IPPROTO_UDP ? "PROTO=UDP " : "PROTO=UDPLITE ");
	if (fragment)
		return false;
	uh = at(v, off, 8);
	if (!uh) {
		add(b, "INCOMPLETE [%u bytes] ", remaining(v, off));
		return true;
	}
	add(b, "SPT=%u DPT=%u LEN=%u ", get16(uh), get16(uh + 2), get16(uh + 4));
	return false;
}

/* The socket owner and the mark, for the outer header only. */
static void dump_tail(struct lbuf *b, const struct nfqct_logfmt_pkt *p)
{
	if ((p->flags & NFQCT_LOG_UID) && p->has_owner)
		add(b, "UID=%u GID=%u ", p->uid, p->gid);
	if (p->mark)
		add(b, "MARK=0x%x ", p->mark);
}

/* Bytes an ICMP message of each type must have (the kernel's required_len[]). */
static unsigned int icmp_required(uint8_t type)
{
	switch (type) {
	case 0: case 8:			return 4;	/* echo reply, echo */
	case 3: case 4: case 5: case 11: case 12:
		return 8 + 20;				/* errors: header + an IP header */
	case 13: case 14:		return 20;	/* timestamp */
	case 17: case 18:		return 12;	/* address mask */
	default:			return 0;
	}
}

/* dump_ipv4_packet(): @off is 0 for the packet, else the quoted header. */
static void dump_ipv4(struct lbuf *b, const struct view *v, const struct nfqct_logfmt_pkt *p, uint32_t off)
{
	const uint8_t *ih = at(v, off, 20), *ich, *x;
	unsigned int ihl, frag, l4;

	if (!ih) {
		add(b, "TRUNCATED");
		return;
	}
	ihl = (unsigned int)(ih[0] & 0x0f) * 4;
	frag = get16(ih + 6);
	l4 = off + ihl;
	add(b, "SRC=");
	add_ip4(b, ih + 12);
	add(b, " DST=");
	add_ip4(b, ih + 16);
	add(b, " LEN=%u TOS=0x%02X PREC=0x%02X TTL=%u ID=%u ", get16(ih + 2), ih[1] & 0x1E, ih[1] & 0xE0,
	    ih[8], get16(ih + 4));
	if (frag & 0x8000)
		add(b, "CE ");
	if (frag & 0x4000)
		add(b, "DF ");
	if (frag & 0x2000)
		add(b, "MF ");
	if (frag & 0x1FFF)
		add(b, "FRAG:%u ", frag & 0x1FFF);
	if ((p->flags & NFQCT_LOG_IPOPT) && ihl > 20) {
		x = at(v, off + 20, ihl - 20);
		if (!x) {
			add(b, "TRUNCATED");
			return;
		}
		add(b, "OPT (");
		add_hex(b, x, ihl - 20);
		add(b, ") ");
	}
	switch (ih[9]) {
	case IPPROTO_TCP:
		if (dump_tcp(b, v, frag & 0x1FFF, l4, p->flags))
			return;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		if (dump_udp(b, v, ih[9], frag & 0x1FFF, l4))
			return;
		break;
	case IPPROTO_ICMP:
		add(b, "PROTO=ICMP ");
		if (frag & 0x1FFF)
			break;
		ich = at(v, l4, 8);
		if (!ich) {
			add(b, "INCOMPLETE [%u bytes] ", remaining(v, l4));
			break;
		}
		add(b, "TYPE=%u CODE=%u ", ich[0], ich[1]);
		if (icmp_required(ich[0]) && remaining(v, l4) < icmp_required(ich[0])) {
			add(b, "INCOMPLETE [%u bytes] ", remaining(v, l4));
			break;
		}
		switch (ich[0]) {
		case 0:
		case 8:
			add(b, "ID=%u SEQ=%u ", get16(ich + 4), get16(ich + 6));
			break;
		case 12:
			add(b, "PARAMETER=%u ", ich[4]);
			break;
		case 5:
			add(b, "GATEWAY=");
			add_ip4(b, ich + 4);
			add(b, " ");
			/* fall through */
		case 3:
		case 4:
		case 11:
			if (!off) {	/* one level only */
				add(b, "[");
				dump_ipv4(b, v, p, l4 + 8);
				add(b, "] ");
			}
			if (ich[0] == 3 && ich[1] == 4)
				add(b, "MTU=%u ", get16(ich + 6));
			break;
		}
		break;
	case IPPROTO_AH:
		if (frag & 0x1FFF)
			break;
		add(b, "PROTO=AH ");
		x = at(v, l4, 12);
		if (!x) {
			add(b, "INCOMPLETE [%u bytes] ", remaining(v, l4));
			break;
		}
		add(b, "SPI=0x%x ", get32(x + 4));
		break;
	case IPPROTO_ESP:
		add(b, "PROTO=ESP ");
		if (frag & 0x1FFF)
			break;
		x = at(v, l4, 8);
		if (!x) {
			add(b, "INCOMPLETE [%u bytes] ", remaining(v, l4));
			break;
		}
		add(b, "SPI=0x%x ", get32(x));
		break;
	default:
		add(b, "PROTO=%u ", ih[9]);
	}
	if (!off)
		dump_tail(b, p);
}

/* nf_ip6_ext_hdr() */
static bool ip6_ext(uint8_t h)
{
	return h == 0 || h == 43 || h == 44 || h == 50 || h == 51 || h == 59 || h == 60;
}

/* dump_ipv6_packet(): @recurse is true for the packet, false for a quoted one. */
static void dump_ipv6(struct lbuf *b, const struct view *v, const struct nfqct_logfmt_pkt *p, uint32_t off,
		      bool recurse)
{
	const uint8_t *ih = at(v, off, 40), *hp, *x;
	bool ipopt = p->flags & NFQCT_LOG_IPOPT, fragment = false;
	uint32_t ptr = off + 40, w;
	unsigned int hdrlen = 0;
	uint8_t cur;

	if (!ih) {
		add(b, "TRUNCATED");
		return;
	}
	w = get32(ih);
	add(b, "SRC=");
	add_ip6(b, ih + 8);
	add(b, " DST=");
	add_ip6(b, ih + 24);
	add(b, " LEN=%u TC=%u HOPLIMIT=%u FLOWLBL=%u ", get16(ih + 4) + 40u, (w & 0x0ff00000u) >> 20, ih[7],
	    w & 0x000fffffu);
	cur = ih[6];
	while (cur != 59 && ip6_ext(cur)) {
		hp = at(v, ptr, 2);
		if (!hp) {
			add(b, "TRUNCATED");
			return;
		}
		if (ipopt)
			add(b, "OPT ( ");
		switch (cur) {
		case 44:
			add(b, "FRAG:");
			x = at(v, ptr, 8);
			if (!x) {
				add(b, "TRUNCATED ");
				return;
			}
			add(b, "%u ", get16(x + 2) & 0xFFF8);
			if (x[3] & 0x01)
				add(b, "INCOMPLETE ");
			add(b, "ID:%08x ", get32(x + 4));
			if (get16(x + 2) & 0xFFF8)
				fragment = true;
			hdrlen = 8;
			break;
		case 60:
		case 43:
		case 0:
			if (fragment) {
				if (ipopt)
					add(b, ")");
				return;
			}
			hdrlen = ((unsigned int)hp[1] + 1) * 8;
			break;
		case 51:
			if (ipopt) {
				add(b, "AH ");
				if (fragment) {
					add(b, ")");
					return;
				}
				x = at(v, ptr, 12);
				if (!x) {
					add(b, "INCOMPLETE [%u bytes] )", remaining(v, ptr));
					return;
				}
				add(b, "SPI=0x%x ", get32(x + 4));
			}
			hdrlen = ((unsigned int)hp[1] + 2) * 4;
			break;
		case 50:
			if (ipopt) {
				add(b, "ESP ");
				if (fragment) {
					add(b, ")");
					return;
				}
				x = at(v, ptr, 8);
				if (!x) {
					add(b, "INCOMPLETE [%u bytes] )", remaining(v, ptr));
					return;
				}
				add(b, "SPI=0x%x )", get32(x));
			}
			return;
		default:
			add(b, "Unknown Ext Hdr %u", cur);
			return;
		}
		if (ipopt)
			add(b, ") ");
		cur = hp[0];
		ptr += hdrlen;
	}
	switch (cur) {
	case IPPROTO_TCP:
		if (dump_tcp(b, v, fragment, ptr, p->flags))
			return;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		if (dump_udp(b, v, cur, fragment, ptr))
			return;
		break;
	case IPPROTO_ICMPV6:
		add(b, "PROTO=ICMPv6 ");
		if (fragment)
			break;
		x = at(v, ptr, 8);
		if (!x) {
			add(b, "INCOMPLETE [%u bytes] ", remaining(v, ptr));
			return;
		}
		add(b, "TYPE=%u CODE=%u ", x[0], x[1]);
		switch (x[0]) {
		case 128:
		case 129:
			add(b, "ID=%u SEQ=%u ", get16(x + 4), get16(x + 6));
			break;
		case 130:
		case 131:
		case 132:
			break;
		case 4:
			add(b, "POINTER=%08x ", get32(x + 4));
			/* fall through */
		case 1:
		case 2:
		case 3:
			if (recurse) {
				add(b, "[");
				dump_ipv6(b, v, p, ptr + 8, false);
				add(b, "] ");
			}
			if (x[0] == 2)
				add(b, "MTU=%u ", get32(x + 4));
			break;
		}
		break;
	default:
		add(b, "PROTO=%u ", cur);
	}
	if (recurse)
		dump_tail(b, p);
}

size_t nfqct_logfmt(char *buf, size_t size, const struct nfqct_logfmt_pkt *p)
{
	struct lbuf b = { .s = buf, .size = size };
	struct view v = { .d = p->data, .caplen = p->caplen, .len = p->len };

	if (size)
		buf[0] = '\0';
	add(&b, "%sIN=%s OUT=%s ", p->prefix, p->in ? p->in : "", p->out ? p->out : "");
	if (p->in) {
		/* dump_mac_header() */
		if ((p->flags & NFQCT_LOG_MACDECODE) && p->mac_ether) {
			if (p->mac_len >= 14) {
				add(&b, "MACSRC=");
				add_mac(&b, p->mac + 6);
				add(&b, " MACDST=");
				add_mac(&b, p->mac);
				add(&b, " MACPROTO=%04x ", get16(p->mac + 12));
			}
		} else {
			add(&b, "MAC=");
			for (unsigned int i = 0; i < p->mac_len; i++)
				add(&b, i ? ":%02x" : "%02x", p->mac[i]);
			add(&b, " ");
		}
	}
	if (p->family == AF_INET6)
		dump_ipv6(&b, &v, p, 0, true);
	else
		dump_ipv4(&b, &v, p, 0);
	return b.len;
}

int nfqct_log_level_find(const char *s)
{
	/* xtables' syslog level names (XTTYPE_SYSLOGLEVEL) */
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "alert", 1 }, { "crit", 2 }, { "debug", 7 }, { "emerg", 0 }, { "error", 3 },
		{ "info", 6 }, { "notice", 5 }, { "panic", 0 }, { "warning", 4 },
	};

	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].level;
	return -1;
}
