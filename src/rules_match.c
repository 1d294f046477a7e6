/*
 * rules_match.c - the extension matches (rules_int.h, struct rules_xkind):
 * for each kind its option parser, evaluation, printing and freeing, in
 * that order; and the port, protocol, user and group names the reader
 * resolves at load time.  -m addrtype and -m pkttype read the local
 * routing tables from addrs.h's RCU-published copy, -m rpfilter the local
 * and main ones.
 *
 * Evaluation is on the packet path: no allocation, no clock, no system
 * call.  Every read of the packet stays within pkt->caplen (pkt->l4caplen
 * for the transport header).  The printed forms are iptables-save's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "nfqct/addrs.h"
#include "nfqct/connlimit.h"
#include "nfqct/ct.h"
#include "nfqct/hashlimit.h"
#include "nfqct/ifname.h"
#include "nfqct/ipset.h"
#include "nfqct/recent.h"
#include "nfqct/tbf.h"
#include "rules_int.h"

/* ---- names resolved at load time ---- */

/*
 * A small memo of names already looked up by this thread's load: real
 * files name the same few services (ssh, http, domain) thousands of times,
 * and getservbyname_r() reads /etc/services on each call.  Cleared at the
 * start of each load so that an edited /etc/services is seen.
 */
#define NAME_MEMO 64

static _Thread_local struct name_memo {
	char name[32];
	char proto[12];		/* "" for protocol names */
	int value;		/* -1: not found */
} memo[NAME_MEMO];
static _Thread_local unsigned int memo_n;

void rules_names_reset(void)
{
	memo_n = 0;
}

static int memo_get(const char *name, const char *proto, int *value)
{
	for (unsigned int i = 0; i < memo_n && i < NAME_MEMO; i++)
		if (!strcmp(memo[i].name, name) && !strcmp(memo[i].proto, proto)) {
			*value = memo[i].value;
			return 0;
		}
	return -ENOENT;
}

static void memo_put(const char *name, const char *proto, int value)
{
	struct name_memo *m;

	if (strlen(name) >= sizeof(m->name) || strlen(proto) >= sizeof(m->proto))
		return;
	m = &memo[memo_n++ % NAME_MEMO];
	strcpy(m->name, name);
	strcpy(m->proto, proto);
	m->value = value;
	if (memo_n > 2 * NAME_MEMO)
		memo_n = NAME_MEMO + memo_n % NAME_MEMO;
}

int rules_service_port(const char *name, const char *proto, uint16_t *port)
{
	struct servent se, *res = NULL;
	char buf[1024];
	int v;

	if (memo_get(name, proto, &v)) {
		v = -1;
		if (!getservbyname_r(name, proto, &se, buf, sizeof(buf), &res) && res)
			v = ntohs((uint16_t)res->s_port);
		memo_put(name, proto, v);
	}
	if (v < 0)
		return -ENOENT;
	*port = (uint16_t)v;
	return 0;
}

int rules_proto_number(const char *name, uint8_t *proto)
{
	struct protoent pe, *res = NULL;
	char buf[1024];
	int v;

	if (memo_get(name, "", &v)) {
		v = -1;
		if (!getprotobyname_r(name, &pe, buf, sizeof(buf), &res) && res && res->p_proto >= 0 &&
		    res->p_proto <= 255)
			v = res->p_proto;
		memo_put(name, "", v);
	}
	if (v < 0)
		return -ENOENT;
	*proto = (uint8_t)v;
	return 0;
}

bool rules_parse_port(const char *s, const char *proto, uint16_t *port)
{
	unsigned long v;

	if (rules_parse_dec(s, 65535, &v)) {
		*port = (uint16_t)v;
		return true;
	}
	return proto && *s && !isdigit((unsigned char)*s) && rules_service_port(s, proto, port) == 0;
}

bool rules_parse_port_range(const char *s, const char *proto, uint16_t r[2])
{
	const char *colon = strchr(s, ':');
	char buf[64];

	if (!colon) {
		if (!rules_parse_port(s, proto, &r[0]))
			return false;
		r[1] = r[0];
		return true;
	}
	if ((size_t)(colon - s) >= sizeof(buf) || strchr(colon + 1, ':') || (s == colon && !colon[1]))
		return false;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	r[0] = 0;
	r[1] = 65535;
	if (buf[0] && !rules_parse_port(buf, proto, &r[0]))
		return false;
	if (colon[1] && !rules_parse_port(colon + 1, proto, &r[1]))
		return false;
	return r[0] <= r[1];
}

/* "name" or "id" or "id-id" of a user (@group false) or group -> inclusive range. */
static bool parse_owner(const char *s, bool group, uint32_t r[2])
{
	unsigned long a, b;
	const char *dash = strchr(s, '-');
	char buf[1024];

	if (dash && isdigit((unsigned char)*s)) {
		char lo[16];

		if ((size_t)(dash - s) >= sizeof(lo))
			return false;
		memcpy(lo, s, (size_t)(dash - s));
		lo[dash - s] = '\0';
		if (!rules_parse_dec(lo, UINT32_MAX - 1, &a) || !rules_parse_dec(dash + 1, UINT32_MAX - 1, &b) || a > b)
			return false;
		r[0] = (uint32_t)a;
		r[1] = (uint32_t)b;
		return true;
	}
	if (rules_parse_dec(s, UINT32_MAX - 1, &a)) {
		r[0] = r[1] = (uint32_t)a;
		return true;
	}
	if (group) {
		struct group gr, *res = NULL;

		if (getgrnam_r(s, &gr, buf, sizeof(buf), &res) || !res)
			return false;
		r[0] = r[1] = res->gr_gid;
	} else {
		struct passwd pw, *res = NULL;

		if (getpwnam_r(s, &pw, buf, sizeof(buf), &res) || !res)
			return false;
		r[0] = r[1] = res->pw_uid;
	}
	return true;
}

static void __attribute__((format(printf, 2, 3))) xerr(struct rules_xarg *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
}

/* The negation bit of option @opt, when a '!' came before it. */
static void set_given(struct rules_xmatch *m, const struct rules_xarg *a)
{
	m->given |= (uint16_t)(1u << a->opt);
	if (a->neg)
		m->inv |= (uint16_t)(1u << a->opt);
}

#define GIVEN(m, o) ((m)->given & (1u << (o)))
#define INV(m, o) (((m)->inv >> (o)) & 1u)

/* Address with an optional prefix length or (IPv4) dotted mask; family or 0. */
static int parse_addr_mask(const char *s, union nfqct_addr *addr, union nfqct_addr *mask, uint8_t *plen)
{
	char buf[INET6_ADDRSTRLEN + 20];
	unsigned long bits;
	char *slash;
	int family, max;

	if (strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	memset(addr, 0, sizeof(*addr));
	memset(mask, 0, sizeof(*mask));
	if (inet_pton(family, buf, addr) != 1)
		return 0;
	max = family == AF_INET ? 32 : 128;
	bits = (unsigned long)max;
	if (slash && !rules_parse_dec(slash, (unsigned long)max, &bits)) {
		uint32_t v, inv;
		uint8_t dm[4];

		if (family != AF_INET || inet_pton(AF_INET, slash, dm) != 1)
			return 0;
		v = (uint32_t)dm[0] << 24 | (uint32_t)dm[1] << 16 | (uint32_t)dm[2] << 8 | dm[3];
		inv = ~v;
		if (inv & (inv + 1))
			return 0;
		for (bits = 0; v; v <<= 1)
			bits++;
	}
	for (int i = 0; i < max / 8; i++) {
		unsigned long left = bits > (unsigned long)i * 8 ? bits - (unsigned long)i * 8 : 0;

		mask->b[i] = left >= 8 ? 0xff : (uint8_t)(0xff << (8 - left));
		addr->b[i] &= mask->b[i];
	}
	*plen = (uint8_t)bits;
	return family;
}

/* A match's family must agree with the rule's and with its other addresses. */
static bool xfamily(struct rules_xmatch *m, struct rules_xarg *a, int family)
{
	if ((m->family && m->family != family) || (a->family && a->family != family)) {
		xerr(a, "'%s' is %s but the rule is already %s", a->arg, family == AF_INET ? "IPv4" : "IPv6",
		     family == AF_INET ? "IPv6" : "IPv4");
		return false;
	}
	m->family = (uint8_t)family;
	return true;
}

static void print_neg(FILE *out, const struct rules_xmatch *m, unsigned int opt, const char *name)
{
	fprintf(out, "%s %s", INV(m, opt) ? " !" : "", name);
}

/* ---- tcp: --tcp-flags, --syn, --tcp-option (--sport/--dport are core tests) ---- */

static const struct { const char *name; uint8_t bits; } tcp_flags[] = {
	{ "FIN", 0x01 }, { "SYN", 0x02 }, { "RST", 0x04 }, { "PSH", 0x08 }, { "ACK", 0x10 },
	{ "URG", 0x20 }, { "ECE", 0x40 }, { "CWR", 0x80 }, { "ALL", 0x3f }, { "NONE", 0 },
};

static bool parse_tcp_flags(const char *s, uint8_t *v, char *bad, size_t badlen)
{
	*v = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		size_t i;

		for (i = 0; i < RULES_ARRAY_SIZE(tcp_flags); i++)
			if (strlen(tcp_flags[i].name) == n && !strncasecmp(s, tcp_flags[i].name, n))
				break;
		if (i == RULES_ARRAY_SIZE(tcp_flags)) {
			snprintf(bad, badlen, "%.*s", (int)n, s);
			return false;
		}
		*v |= tcp_flags[i].bits;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

static int tcp_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	char bad[32];
	unsigned long v;

	if (a->opt != XO_TCP_OPTION && (m->given & (1u << XO_TCP_FLAGS | 1u << XO_TCP_SYN))) {
		xerr(a, "only one of --syn or --tcp-flags per -m tcp");
		a->err_at_opt = true;
		return -EINVAL;
	}
	switch (a->opt) {
	case XO_TCP_FLAGS:
		if (!parse_tcp_flags(a->arg, &m->u.tcp.mask, bad, sizeof(bad))) {
			xerr(a, "unknown TCP flag '%s': expected a comma list of SYN, ACK, FIN, RST, URG, "
			     "PSH, ECE, CWR, ALL or NONE", bad);
			return -EINVAL;
		}
		if (!parse_tcp_flags(a->arg2, &m->u.tcp.cmp, bad, sizeof(bad))) {
			xerr(a, "unknown TCP flag '%s': expected a comma list of SYN, ACK, FIN, RST, URG, "
			     "PSH, ECE, CWR, ALL or NONE", bad);
			a->err_at_arg2 = true;
			return -EINVAL;
		}
		a->opt = XO_TCP_FLAGS;
		break;
	case XO_TCP_SYN:
		/* as iptables: --syn is --tcp-flags FIN,SYN,RST,ACK SYN, and prints so */
		m->u.tcp.mask = 0x17;
		m->u.tcp.cmp = 0x02;
		a->opt = XO_TCP_FLAGS;
		break;
	default:
		if (GIVEN(m, XO_TCP_OPTION)) {
			xerr(a, "--tcp-option given twice");
			a->err_at_opt = true;
			return -EINVAL;
		}
		if (!rules_parse_dec(a->arg, 255, &v)) {
			xerr(a, "expected a TCP option number 0..255, got '%s'", a->arg);
			return -EINVAL;
		}
		m->u.tcp.option = (uint8_t)v;
		break;
	}
	set_given(m, a);
	return 0;
}

/* Is TCP option @kind in the options of the header at @th (@caplen bytes present)? */
static bool tcp_has_option(const uint8_t *th, uint32_t caplen, uint8_t kind)
{
	uint32_t end = (uint32_t)(th[12] >> 4) * 4;

	if (end > caplen)
		return false;	/* the kernel drops a packet whose options it cannot read */
	for (uint32_t i = 20; i < end;) {
		if (th[i] == kind)
			return true;
		if (th[i] < 2 || i + 1 >= end) {	/* EOL and NOP are one byte */
			i++;
			continue;
		}
		i += th[i + 1] ? th[i + 1] : 1;
	}
	return false;
}

static bool tcp_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	const uint8_t *th = pkt->l4;

	/* No header (later fragment, other protocol, cut): no match, negated or not (xt_tcpudp). */
	if (!th || pkt->tuple.proto != IPPROTO_TCP || pkt->l4caplen < 20)
		return false;
	if (GIVEN(m, XO_TCP_OPTION) &&
	    tcp_has_option(th, pkt->l4caplen, m->u.tcp.option) == INV(m, XO_TCP_OPTION))
		return false;
	if (GIVEN(m, XO_TCP_FLAGS) && ((th[13] & m->u.tcp.mask) == m->u.tcp.cmp) == INV(m, XO_TCP_FLAGS))
		return false;
	return true;
}

static void print_tcp_flags(FILE *out, uint8_t v)
{
	const char *sep = "";

	if (!v)
		fputs("NONE", out);
	for (size_t i = 0; i < 8; i++)	/* the single flags, in iptables' order */
		if (v & tcp_flags[i].bits) {
			fprintf(out, "%s%s", sep, tcp_flags[i].name);
			sep = ",";
		}
}

static void tcp_print(FILE *out, const struct rules_xmatch *m)
{
	if (GIVEN(m, XO_TCP_OPTION)) {
		print_neg(out, m, XO_TCP_OPTION, "--tcp-option");
		fprintf(out, " %u", m->u.tcp.option);
	}
	if (GIVEN(m, XO_TCP_FLAGS)) {
		print_neg(out, m, XO_TCP_FLAGS, "--tcp-flags ");
		print_tcp_flags(out, m->u.tcp.mask);
		fputc(' ', out);
		print_tcp_flags(out, m->u.tcp.cmp);
	}
}

/* ---- multiport ---- */

static int multiport_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	const char *proto = rules_proto_name(a->proto);
	const char *s = a->arg;
	unsigned int n = 0;

	if (m->given) {
		xerr(a, "-m multiport takes one of --sports, --dports or --ports (use another -m multiport)");
		a->err_at_opt = true;
		return -EINVAL;
	}
	if (!a->proto || a->proto_inv || !rules_is_port_proto(a->proto)) {
		xerr(a, "-m multiport needs -p tcp, udp, udplite, sctp or dccp before it");
		a->err_at_opt = true;
		return -EINVAL;
	}
	m->u.mp.range = 0;
	for (;;) {
		size_t len = strcspn(s, ",");
		uint16_t r[2];
		char buf[64];

		if (len >= sizeof(buf) || !len)
			goto bad;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (!rules_parse_port_range(buf, proto, r) || (!strchr(buf, ':') ? false : buf[0] == ':' ||
							       buf[len - 1] == ':'))
			goto bad;
		if (n + (r[0] != r[1] || strchr(buf, ':') ? 2 : 1) > RULES_MULTIPORT_MAX) {
			xerr(a, "too many ports in '%s': at most %d, a range counting two", a->arg,
			     RULES_MULTIPORT_MAX);
			return -EINVAL;
		}
		if (strchr(buf, ':')) {
			m->u.mp.range |= (uint16_t)(1u << n);
			m->u.mp.port[n++] = r[0];
			m->u.mp.port[n++] = r[1];
		} else {
			m->u.mp.port[n++] = r[0];
		}
		if (!s[len])
			break;
		s += len + 1;
	}
	m->u.mp.count = (uint8_t)n;
	m->u.mp.dir = a->opt == XO_MP_SPORTS ? 1 : a->opt == XO_MP_DPORTS ? 2 : 3;
	set_given(m, a);
	return 0;
bad:
	xerr(a, "expected a comma list of ports, names or ranges 'first:last' (at most %d), got '%s'",
	     RULES_MULTIPORT_MAX, a->arg);
	return -EINVAL;
}

static bool mp_in(const struct rules_xmatch *m, uint16_t p)
{
	for (unsigned int i = 0; i < m->u.mp.count; i++) {
		if (m->u.mp.range & (1u << i)) {
			if (p >= m->u.mp.port[i] && p <= m->u.mp.port[i + 1])
				return true;
			i++;
		} else if (p == m->u.mp.port[i]) {
			return true;
		}
	}
	return false;
}

static bool multiport_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	uint16_t sp = ntohs(pkt->tuple.sp.port), dp = ntohs(pkt->tuple.dp.port);
	bool hit;

	if (pkt->flags & NFQCT_PKT_F_LATER_FRAG || !pkt->l4)
		return false;
	hit = ((m->u.mp.dir & 1) && mp_in(m, sp)) || ((m->u.mp.dir & 2) && mp_in(m, dp));
	return hit != (m->inv != 0);
}

static void multiport_print(FILE *out, const struct rules_xmatch *m)
{
	static const char *const names[] = { "", "--sports", "--dports", "--ports" };

	fprintf(out, "%s %s ", m->inv ? " !" : "", names[m->u.mp.dir]);
	for (unsigned int i = 0; i < m->u.mp.count; i++) {
		fprintf(out, "%s%u", i ? "," : "", m->u.mp.port[i]);
		if (m->u.mp.range & (1u << i)) {
			fprintf(out, ":%u", m->u.mp.port[i + 1]);
			i++;
		}
	}
}

/* ---- conntrack: everything but --ctstate ---- */

struct rules_xct {
	uint8_t proto;
	uint8_t status;			/* NFQCT_RULES_CTS_* */
	uint8_t dir_reply;
	uint8_t plen[4];
	union nfqct_addr addr[4], mask[4];	/* origsrc, origdst, replsrc, repldst */
	uint16_t port[4][2];		/* same order, inclusive ranges */
	uint32_t expire[2];
};

static const struct rules_name ctstatus_names[] = {
	{ "EXPECTED", NFQCT_RULES_CTS_EXPECTED },
	{ "SEEN_REPLY", NFQCT_RULES_CTS_SEEN_REPLY },
	{ "ASSURED", NFQCT_RULES_CTS_ASSURED },
	{ "CONFIRMED", NFQCT_RULES_CTS_CONFIRMED },
	{ "NONE", 0 },
};

static int conntrack_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	struct rules_xct *c = m->u.ct;
	unsigned long v;

	if (!c) {
		c = m->u.ct = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
	}
	if (GIVEN(m, a->opt)) {
		xerr(a, "%s given twice", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	switch (a->opt) {
	case XO_CT_PROTO:
		if (rules_parse_dec(a->arg, 255, &v) && v) {
			c->proto = (uint8_t)v;
		} else if (rules_proto_number(a->arg, &c->proto) || !c->proto) {
			xerr(a, "expected a protocol name or number 1..255, got '%s'", a->arg);
			return -EINVAL;
		}
		break;
	case XO_CT_ORIGSRC: case XO_CT_ORIGDST: case XO_CT_REPLSRC: case XO_CT_REPLDST: {
		unsigned int k = a->opt - XO_CT_ORIGSRC;
		int fam = parse_addr_mask(a->arg, &c->addr[k], &c->mask[k], &c->plen[k]);

		if (!fam) {
			xerr(a, "expected an address or CIDR, got '%s'", a->arg);
			return -EINVAL;
		}
		if (!xfamily(m, a, fam))
			return -EINVAL;
		break;
	}
	case XO_CT_ORIGSRCPORT: case XO_CT_ORIGDSTPORT: case XO_CT_REPLSRCPORT: case XO_CT_REPLDSTPORT:
		if (!rules_parse_port_range(a->arg, NULL, c->port[a->opt - XO_CT_ORIGSRCPORT])) {
			xerr(a, "expected a port or a range 'first:last' (0..65535), got '%s'", a->arg);
			return -EINVAL;
		}
		break;
	case XO_CT_STATUS: {
		const char *s = a->arg;

		c->status = 0;
		for (;;) {
			size_t n = strcspn(s, ",");
			size_t i;

			for (i = 0; i < RULES_ARRAY_SIZE(ctstatus_names); i++)
				if (strlen(ctstatus_names[i].name) == n &&
				    !strncasecmp(s, ctstatus_names[i].name, n))
					break;
			if (i == RULES_ARRAY_SIZE(ctstatus_names)) {
				xerr(a, "unknown status '%.*s': expected a comma list of NONE, EXPECTED, "
				     "SEEN_REPLY, ASSURED, CONFIRMED", (int)n, s);
				return -EINVAL;
			}
			c->status |= ctstatus_names[i].value;
			if (!s[n])
				break;
			s += n + 1;
		}
		break;
	}
	case XO_CT_EXPIRE: {
		const char *colon = strchr(a->arg, ':');
		unsigned long lo, hi;
		char buf[16];

		if (colon && (size_t)(colon - a->arg) < sizeof(buf)) {
			memcpy(buf, a->arg, (size_t)(colon - a->arg));
			buf[colon - a->arg] = '\0';
		}
		if (colon ? (size_t)(colon - a->arg) >= sizeof(buf) || !rules_parse_dec(buf, UINT32_MAX, &lo) ||
			    !rules_parse_dec(colon + 1, UINT32_MAX, &hi)
			  : !rules_parse_dec(a->arg, UINT32_MAX, &lo)) {
			xerr(a, "expected seconds 'min[:max]', got '%s'", a->arg);
			return -EINVAL;
		}
		if (!colon)
			hi = lo;
		if (lo > hi) {
			xerr(a, "expected seconds 'min[:max]' with min <= max, got '%s'", a->arg);
			return -EINVAL;
		}
		c->expire[0] = (uint32_t)lo;
		c->expire[1] = (uint32_t)hi;
		break;
	}
	default:	/* XO_CT_DIR */
		if (a->neg) {
			xerr(a, "'!' cannot be used with --ctdir: write the other direction");
			a->err_at_opt = true;
			return -EINVAL;
		}
		if (!strcasecmp(a->arg, "ORIGINAL")) {
			c->dir_reply = 0;
		} else if (!strcasecmp(a->arg, "REPLY")) {
			c->dir_reply = 1;
		} else {
			xerr(a, "expected ORIGINAL or REPLY, got '%s'", a->arg);
			return -EINVAL;
		}
		break;
	}
	set_given(m, a);
	return 0;
}

static bool ct_addr(const union nfqct_addr *a, const union nfqct_addr *want, const union nfqct_addr *mask)
{
	for (int i = 0; i < 4; i++)
		if ((a->ip6[i] & mask->ip6[i]) != want->ip6[i])
			return false;
	return true;
}

/* A test of option @o failed when its outcome equals its negation bit. */
#define CT_FAIL(o, ok) (GIVEN(m, o) && (bool)(ok) == (bool)INV(m, o))

static bool conntrack_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_rules_ct *ct = cx->ct;
	const struct rules_xct *c = m->u.ct;
	const struct nfqct_tuple *t[2];

	/* No entry (INVALID, UNTRACKED, the raw table): only --ctstate can match (xt_conntrack). */
	if (!ct->orig || !ct->reply)
		return false;
	t[0] = ct->orig;
	t[1] = ct->reply;
	if (CT_FAIL(XO_CT_PROTO, t[0]->proto == c->proto))
		return false;
	for (unsigned int k = 0; k < 4; k++) {
		const struct nfqct_tuple *tu = t[k >> 1];
		const union nfqct_addr *ad = (k & 1) ? &tu->dst : &tu->src;
		uint16_t port = ntohs((k & 1) ? tu->dp.port : tu->sp.port);

		bool in = tu->family == m->family && ct_addr(ad, &c->addr[k], &c->mask[k]);

		if (GIVEN(m, XO_CT_ORIGSRC + k) && in == INV(m, XO_CT_ORIGSRC + k))
			return false;
		if (CT_FAIL(XO_CT_ORIGSRCPORT + k, port >= c->port[k][0] && port <= c->port[k][1]))
			return false;
	}
	if (CT_FAIL(XO_CT_STATUS, (ct->status & c->status) != 0))
		return false;
	if (CT_FAIL(XO_CT_EXPIRE, ct->expire_s >= c->expire[0] && ct->expire_s <= c->expire[1]))
		return false;
	if (GIVEN(m, XO_CT_DIR) && ct->dir_reply != c->dir_reply)
		return false;
	return true;
}

static void conntrack_print(FILE *out, const struct rules_xmatch *m)
{
	static const char *const names[] = {
		"--ctproto", "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst", "--ctorigsrcport",
		"--ctorigdstport", "--ctreplsrcport", "--ctrepldstport", "--ctstatus", "--ctexpire", "--ctdir",
	};
	const struct rules_xct *c = m->u.ct;

	for (unsigned int o = XO_CT_PROTO; o <= XO_CT_DIR; o++) {
		if (!GIVEN(m, o))
			continue;
		print_neg(out, m, o, names[o]);
		fputc(' ', out);
		if (o == XO_CT_PROTO) {
			fprintf(out, "%u", c->proto);
		} else if (o <= XO_CT_REPLDST) {
			char buf[INET6_ADDRSTRLEN];
			unsigned int k = o - XO_CT_ORIGSRC;

			inet_ntop(m->family, &c->addr[k], buf, sizeof(buf));
			fputs(buf, out);
			if (c->plen[k] != (m->family == AF_INET ? 32 : 128))
				fprintf(out, "/%u", c->plen[k]);
		} else if (o <= XO_CT_REPLDSTPORT) {
			const uint16_t *r = c->port[o - XO_CT_ORIGSRCPORT];

			fprintf(out, "%u", r[0]);
			if (r[1] != r[0])
				fprintf(out, ":%u", r[1]);
		} else if (o == XO_CT_STATUS) {
			const char *sep = "";

			if (!c->status)
				fputs("NONE", out);
			for (size_t i = 0; i + 1 < RULES_ARRAY_SIZE(ctstatus_names); i++)
				if (c->status & ctstatus_names[i].value) {
					fprintf(out, "%s%s", sep, ctstatus_names[i].name);
					sep = ",";
				}
		} else if (o == XO_CT_EXPIRE) {
			fprintf(out, "%u", c->expire[0]);
			if (c->expire[1] != c->expire[0])
				fprintf(out, ":%u", c->expire[1]);
		} else {
			fputs(c->dir_reply ? "REPLY" : "ORIGINAL", out);
		}
	}
}

static void conntrack_free(struct rules_xmatch *m)
{
	free(m->u.ct);
	m->u.ct = NULL;
}

/* ---- length: the IP total length, as xt_length (IPv6: payload length + 40) ---- */

static int length_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	uint16_t r[2];

	if (!rules_parse_port_range(a->arg, NULL, r)) {
		xerr(a, "expected a length or a range 'min:max' (0..65535), got '%s'", a->arg);
		return -EINVAL;
	}
	m->u.len.min = r[0];
	m->u.len.max = r[1];
	set_given(m, a);
	return 0;
}

static bool length_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	unsigned int len;

	if (pkt->caplen < 8)
		return false;
	if (pkt->tuple.family == AF_INET)
		len = (unsigned int)pkt->data[2] << 8 | pkt->data[3];
	else
		len = ((unsigned int)pkt->data[4] << 8 | pkt->data[5]) + 40;
	return (len >= m->u.len.min && len <= m->u.len.max) != (m->inv != 0);
}

static void length_print(FILE *out, const struct rules_xmatch *m)
{
	print_neg(out, m, 0, "--length");
	fprintf(out, " %u", m->u.len.min);
	if (m->u.len.max != m->u.len.min)
		fprintf(out, ":%u", m->u.len.max);
}

/* ---- ttl (IPv4) and hl (IPv6) ---- */

static int ttl_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	bool hl = m->kind == XK_HL;
	unsigned long v;

	if (m->given) {
		xerr(a, "-m %s takes one of --%s-eq, --%s-lt or --%s-gt", hl ? "hl" : "ttl", hl ? "hl" : "ttl",
		     hl ? "hl" : "ttl", hl ? "hl" : "ttl");
		a->err_at_opt = true;
		return -EINVAL;
	}
	if (a->neg && a->opt != XO_TTL_EQ) {
		xerr(a, "'!' cannot be used with %s (write the opposite comparison)", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	if (!rules_parse_dec(a->arg, 255, &v)) {
		xerr(a, "expected a number 0..255, got '%s'", a->arg);
		return -EINVAL;
	}
	if ((a->family && a->family != (hl ? AF_INET6 : AF_INET))) {
		xerr(a, "-m %s is for %s packets but the rule is %s", hl ? "hl" : "ttl", hl ? "IPv6" : "IPv4",
		     hl ? "IPv4" : "IPv6");
		a->err_at_opt = true;
		return -EINVAL;
	}
	m->family = hl ? AF_INET6 : AF_INET;
	m->u.ttl.op = a->neg ? RULES_TTL_NE : a->opt == XO_TTL_EQ ? RULES_TTL_EQ :
		       a->opt == XO_TTL_LT ? RULES_TTL_LT : RULES_TTL_GT;
	m->u.ttl.val = (uint8_t)v;
	m->given = 1;
	return 0;
}

static bool ttl_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	unsigned int v;

	if (pkt->tuple.family != m->family || pkt->caplen < 9)
		return false;
	v = m->family == AF_INET ? pkt->data[8] : pkt->data[7];
	switch (m->u.ttl.op) {
	case RULES_TTL_EQ:
		return v == m->u.ttl.val;
	case RULES_TTL_NE:
		return v != m->u.ttl.val;
	case RULES_TTL_LT:
		return v < m->u.ttl.val;
	default:
		return v > m->u.ttl.val;
	}
}

static void ttl_print(FILE *out, const struct rules_xmatch *m)
{
	static const char *const ops[] = { "eq", "eq", "lt", "gt" };
	const char *name = m->kind == XK_HL ? "hl" : "ttl";

	fprintf(out, "%s --%s-%s %u", m->u.ttl.op == RULES_TTL_NE ? " !" : "", name, ops[m->u.ttl.op],
		m->u.ttl.val);
}

/* ---- iprange ---- */

static int iprange_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	union nfqct_addr *r = a->opt == XO_IPR_SRC ? m->u.ipr.src : m->u.ipr.dst;
	const char *dash = strchr(a->arg, '-');
	char lo[INET6_ADDRSTRLEN];
	int fam;

	if (GIVEN(m, a->opt)) {
		xerr(a, "%s given twice", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	if (!dash || (size_t)(dash - a->arg) >= sizeof(lo))
		goto bad;
	memcpy(lo, a->arg, (size_t)(dash - a->arg));
	lo[dash - a->arg] = '\0';
	fam = strchr(lo, ':') ? AF_INET6 : AF_INET;
	memset(r, 0, 2 * sizeof(*r));
	if (inet_pton(fam, lo, &r[0]) != 1 || inet_pton(fam, dash + 1, &r[1]) != 1)
		goto bad;
	if (memcmp(&r[0], &r[1], fam == AF_INET ? 4 : 16) > 0) {
		xerr(a, "the range '%s' ends before it starts", a->arg);
		return -EINVAL;
	}
	if (!xfamily(m, a, fam))
		return -EINVAL;
	set_given(m, a);
	return 0;
bad:
	xerr(a, "expected an address range 'first-last' of one family, got '%s'", a->arg);
	return -EINVAL;
}

static bool iprange_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	size_t n = m->family == AF_INET ? 4 : 16;

	if (pkt->tuple.family != m->family)
		return false;
	for (unsigned int o = XO_IPR_SRC; o <= XO_IPR_DST; o++) {
		const union nfqct_addr *r = o == XO_IPR_SRC ? m->u.ipr.src : m->u.ipr.dst;
		const union nfqct_addr *x = o == XO_IPR_SRC ? &pkt->tuple.src : &pkt->tuple.dst;

		if (GIVEN(m, o) && (memcmp(x, &r[0], n) >= 0 && memcmp(x, &r[1], n) <= 0) == INV(m, o))
			return false;
	}
	return true;
}

static void iprange_print(FILE *out, const struct rules_xmatch *m)
{
	for (unsigned int o = XO_IPR_SRC; o <= XO_IPR_DST; o++) {
		const union nfqct_addr *r = o == XO_IPR_SRC ? m->u.ipr.src : m->u.ipr.dst;
		char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];

		if (!GIVEN(m, o))
			continue;
		inet_ntop(m->family, &r[0], lo, sizeof(lo));
		inet_ntop(m->family, &r[1], hi, sizeof(hi));
		print_neg(out, m, o, o == XO_IPR_SRC ? "--src-range" : "--dst-range");
		fprintf(out, " %s-%s", lo, hi);
	}
}

/* ---- mac: the source address the queue gives (NFQA_HWADDR) ---- */

static int mac_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	unsigned int b[6];
	int n = 0;

	if (strlen(a->arg) != 17 ||
	    sscanf(a->arg, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) != 6 ||
	    n != 17) {
		xerr(a, "expected a MAC address 'xx:xx:xx:xx:xx:xx', got '%s'", a->arg);
		return -EINVAL;
	}
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)a->arg[3 * i]) || !isxdigit((unsigned char)a->arg[3 * i + 1]))
			goto bad;
		m->u.mac.addr[i] = (uint8_t)b[i];
	}
	set_given(m, a);
	return 0;
bad:
	xerr(a, "expected a MAC address 'xx:xx:xx:xx:xx:xx', got '%s'", a->arg);
	return -EINVAL;
}

static bool mac_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;

	/* No Ethernet source (OUTPUT, tunnels): no match, negated or not (xt_mac). */
	if (pkt->hwaddr_len != 6)
		return false;
	return (memcmp(pkt->hwaddr, m->u.mac.addr, 6) == 0) != (m->inv != 0);
}

static void mac_print(FILE *out, const struct rules_xmatch *m)
{
	const uint8_t *b = m->u.mac.addr;

	print_neg(out, m, 0, "--mac-source");
	fprintf(out, " %02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* ---- owner: the socket's uid and gid the queue gives (NFQA_UID, NFQA_GID) ---- */

static int owner_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	if (GIVEN(m, a->opt)) {
		xerr(a, "%s given twice", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	if (a->opt == XO_OWN_SUPPL) {
		xerr(a, "--suppl-groups is not supported: the queue gives the socket's gid, not its "
		     "supplementary groups");
		a->err_at_opt = true;
		return -EINVAL;
	}
	if (a->opt == XO_OWN_UID && !parse_owner(a->arg, false, m->u.owner.uid)) {
		xerr(a, "expected a user name, a uid or a range 'first-last', got '%s'", a->arg);
		return -EINVAL;
	}
	if (a->opt == XO_OWN_GID && !parse_owner(a->arg, true, m->u.owner.gid)) {
		xerr(a, "expected a group name, a gid or a range 'first-last', got '%s'", a->arg);
		return -EINVAL;
	}
	set_given(m, a);
	return 0;
}

static bool owner_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;

	/* No NFQA_UID: the queue gives it for sockets with a file only.  Locally sent
	 * packets without are the kernel's own (ICMP errors, RSTs), whose socket has
	 * no file: xt_owner says the socket exists and matches uid / gid only negated. */
	if (!(pkt->flags2 & NFQCT_PKT_F2_UIDGID)) {
		if (GIVEN(m, XO_OWN_SOCKET) && INV(m, XO_OWN_SOCKET))
			return false;
		return ((m->given & ~m->inv) & (1u << XO_OWN_UID | 1u << XO_OWN_GID)) == 0;
	}
	if (GIVEN(m, XO_OWN_UID) &&
	    (pkt->uid >= m->u.owner.uid[0] && pkt->uid <= m->u.owner.uid[1]) == INV(m, XO_OWN_UID))
		return false;
	if (GIVEN(m, XO_OWN_GID) &&
	    (pkt->gid >= m->u.owner.gid[0] && pkt->gid <= m->u.owner.gid[1]) == INV(m, XO_OWN_GID))
		return false;
	if (GIVEN(m, XO_OWN_SOCKET) && INV(m, XO_OWN_SOCKET))
		return false;
	return true;
}

static void owner_print_range(FILE *out, const uint32_t r[2])
{
	fprintf(out, " %u", r[0]);
	if (r[1] != r[0])
		fprintf(out, "-%u", r[1]);
}

static void owner_print(FILE *out, const struct rules_xmatch *m)
{
	if (GIVEN(m, XO_OWN_SOCKET))	/* first, as iptables-save */
		print_neg(out, m, XO_OWN_SOCKET, "--socket-exists");
	if (GIVEN(m, XO_OWN_UID)) {
		print_neg(out, m, XO_OWN_UID, "--uid-owner");
		owner_print_range(out, m->u.owner.uid);
	}
	if (GIVEN(m, XO_OWN_GID)) {
		print_neg(out, m, XO_OWN_GID, "--gid-owner");
		owner_print_range(out, m->u.owner.gid);
	}
}

/* ---- pkttype: from the destination address (NFQUEUE does not give skb->pkt_type) ---- */

enum { PKT_UNICAST, PKT_BROADCAST, PKT_MULTICAST };

static const char *const pkttype_names[] = { "unicast", "broadcast", "multicast" };

static int pkttype_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	for (uint8_t i = 0; i < 3; i++)
		if (!strcasecmp(a->arg, pkttype_names[i])) {
			m->u.pkttype.type = i;
			set_given(m, a);
			return 0;
		}
	xerr(a, "expected unicast, broadcast or multicast, got '%s'", a->arg);
	return -EINVAL;
}

static bool pkttype_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	const uint8_t *d = pkt->tuple.dst.b;
	uint8_t type = PKT_UNICAST;
	uint32_t dev;

	/* Locally sent packets are PACKET_HOST (unicast) in the kernel's OUTPUT. */
	if (pkt->hook == NFQCT_HOOK_OUTPUT || pkt->hook == NFQCT_HOOK_POSTROUTING)
		type = PKT_UNICAST;
	else if (pkt->tuple.family == AF_INET ? (d[0] & 0xf0) == 0xe0 : d[0] == 0xff)
		type = PKT_MULTICAST;
	else if (pkt->tuple.family == AF_INET &&
		 (pkt->tuple.dst.ip == 0xffffffffu ||
		  nfqct_addrs_lookup(AF_INET, &pkt->tuple.dst, &dev) == RTN_BROADCAST))
		type = PKT_BROADCAST;	/* the limited broadcast, or a subnet's (local table) */
	return (type == m->u.pkttype.type) != (m->inv != 0);
}

static void pkttype_print(FILE *out, const struct rules_xmatch *m)
{
	print_neg(out, m, 0, "--pkt-type");
	fprintf(out, " %s", pkttype_names[m->u.pkttype.type]);
}

/* ---- IPv6 extension headers: frag, rt, ipv6header ---- */

static bool v6_only(struct rules_xmatch *m, struct rules_xarg *a, const char *name)
{
	if (a->family == AF_INET) {
		xerr(a, "-m %s is for IPv6 packets but the rule is IPv4", name);
		a->err_at_opt = true;
		return false;
	}
	m->family = AF_INET6;
	return true;
}

static bool no_neg(struct rules_xarg *a)
{
	if (a->neg) {
		xerr(a, "'!' cannot be used with %s", a->name);
		a->err_at_opt = true;
		return false;
	}
	return true;
}

/* "n" or "n:m", 32-bit; *r = { n, n } or { n, m }. */
static bool parse_u32_range(const char *s, uint32_t r[2])
{
	const char *colon = strchr(s, ':');
	unsigned long a, b;
	char buf[16];

	if (!colon) {
		if (!rules_parse_dec(s, UINT32_MAX, &a))
			return false;
		r[0] = r[1] = (uint32_t)a;
		return true;
	}
	if ((size_t)(colon - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (!rules_parse_dec(buf, UINT32_MAX, &a) || !rules_parse_dec(colon + 1, UINT32_MAX, &b) || a > b)
		return false;
	r[0] = (uint32_t)a;
	r[1] = (uint32_t)b;
	return true;
}

static void print_u32_range(FILE *out, const uint32_t r[2])
{
	fprintf(out, " %u", r[0]);
	if (r[1] != r[0])
		fprintf(out, ":%u", r[1]);
}

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* Is @nh an IPv6 extension header ipv6_find_hdr() walks through? */
static bool v6_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_AH || nh == IPPROTO_DSTOPTS;
}

/*
 * The offset of extension header @want in the IPv6 packet, or -1, as the
 * kernel's ipv6_find_hdr(): through hop-by-hop, routing, fragment, AH and
 * destination options headers, not past a non-first fragment's header.
 * Reads only within pkt->caplen; at most 32 headers.
 */
static int v6_find_hdr(const struct nfqct_pkt *pkt, uint8_t want)
{
	const uint8_t *d = pkt->data;
	uint32_t off = 40;
	uint8_t nh;

	if (pkt->tuple.family != AF_INET6 || pkt->caplen < 40)
		return -1;
	nh = d[6];
	for (int i = 0; i < 32 && v6_ext(nh); i++) {
		uint32_t len;

		if (off + 8 > pkt->caplen)
			return -1;	/* the kernel drops what it cannot read */
		if (nh == want)
			return (int)off;
		if (nh == IPPROTO_FRAGMENT) {
			if (get16(d + off + 2) & 0xfff8)
				return -1;	/* nothing to see behind a later fragment */
			len = 8;
		} else if (nh == IPPROTO_AH) {
			len = ((uint32_t)d[off + 1] + 2) * 4;
		} else {
			len = ((uint32_t)d[off + 1] + 1) * 8;
		}
		nh = d[off];
		off += len;
	}
	return -1;
}

static int frag_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	unsigned long v;

	if (!m->given)
		m->u.frag.id[1] = UINT32_MAX;
	if (!v6_only(m, a, "frag"))
		return -EINVAL;
	switch (a->opt) {
	case XO_FRAG_ID:
		if (!parse_u32_range(a->arg, m->u.frag.id)) {
			xerr(a, "expected an identification 'id[:id]' (32-bit), got '%s'", a->arg);
			return -EINVAL;
		}
		break;
	case XO_FRAG_LEN:
		if (!rules_parse_dec(a->arg, UINT32_MAX, &v)) {
			xerr(a, "expected a 32-bit number, got '%s'", a->arg);
			return -EINVAL;
		}
		m->u.frag.len = (uint32_t)v;
		break;
	default:
		if (!no_neg(a))
			return -EINVAL;
		if ((a->opt == XO_FRAG_MORE && GIVEN(m, XO_FRAG_LAST)) ||
		    (a->opt == XO_FRAG_LAST && GIVEN(m, XO_FRAG_MORE))) {
			xerr(a, "--fragmore and --fraglast cannot both be given");
			a->err_at_opt = true;
			return -EINVAL;
		}
		break;
	}
	set_given(m, a);
	return 0;
}

static bool frag_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	int off = v6_find_hdr(pkt, IPPROTO_FRAGMENT);
	const uint8_t *fh;
	unsigned int fo;
	uint32_t id;

	if (off < 0)
		return false;	/* no fragment header: no match, negated or not (ip6t_frag) */
	fh = pkt->data + off;
	fo = get16(fh + 2);
	id = (uint32_t)fh[4] << 24 | (uint32_t)fh[5] << 16 | (uint32_t)fh[6] << 8 | fh[7];
	if ((id >= m->u.frag.id[0] && id <= m->u.frag.id[1]) == INV(m, XO_FRAG_ID))
		return false;
	/* --fraglen is read and printed but, as in the kernel, not tested */
	if (GIVEN(m, XO_FRAG_RES) && (fh[1] || (fo & 0x6)))
		return false;
	if (GIVEN(m, XO_FRAG_FIRST) && (fo & 0xfff8))
		return false;
	if (GIVEN(m, XO_FRAG_MORE) && !(fo & 1))
		return false;
	if (GIVEN(m, XO_FRAG_LAST) && (fo & 1))
		return false;
	return true;
}

static void frag_print(FILE *out, const struct rules_xmatch *m)
{
	if (GIVEN(m, XO_FRAG_ID)) {
		print_neg(out, m, XO_FRAG_ID, "--fragid");
		print_u32_range(out, m->u.frag.id);
	}
	if (GIVEN(m, XO_FRAG_LEN)) {
		print_neg(out, m, XO_FRAG_LEN, "--fraglen");
		fprintf(out, " %u", m->u.frag.len);
	}
	if (GIVEN(m, XO_FRAG_RES))
		fputs(" --fragres", out);
	if (GIVEN(m, XO_FRAG_FIRST))
		fputs(" --fragfirst", out);
	if (GIVEN(m, XO_FRAG_MORE))
		fputs(" --fragmore", out);
	if (GIVEN(m, XO_FRAG_LAST))
		fputs(" --fraglast", out);
}

static int rt_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	unsigned long v;

	if (!m->given)
		m->u.rt.segsleft[1] = UINT32_MAX;
	if (!v6_only(m, a, "rt"))
		return -EINVAL;
	if (a->opt >= XO_RT_0_RES &&
	    (!GIVEN(m, XO_RT_TYPE) || m->u.rt.type != 0 || INV(m, XO_RT_TYPE))) {
		xerr(a, "%s needs --rt-type 0 before it", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	switch (a->opt) {
	case XO_RT_TYPE:
		if (!rules_parse_dec(a->arg, 255, &v)) {
			xerr(a, "expected a routing type 0..255, got '%s'", a->arg);
			return -EINVAL;
		}
		m->u.rt.type = (uint8_t)v;
		break;
	case XO_RT_SEGSLEFT:
		if (!parse_u32_range(a->arg, m->u.rt.segsleft)) {
			xerr(a, "expected segments left 'n[:n]' (32-bit), got '%s'", a->arg);
			return -EINVAL;
		}
		break;
	case XO_RT_LEN:
		if (!rules_parse_dec(a->arg, UINT32_MAX, &v)) {
			xerr(a, "expected a length in bytes (32-bit), got '%s'", a->arg);
			return -EINVAL;
		}
		m->u.rt.len = (uint32_t)v;
		break;
	case XO_RT_0_ADDRS: {
		struct in6_addr *ad = calloc(RULES_RT_ADDRS_MAX, sizeof(*ad));
		const char *s = a->arg;
		unsigned int n = 0;

		if (!ad)
			return -ENOMEM;
		free(m->u.rt.addrs);
		m->u.rt.addrs = ad;
		for (;;) {
			size_t len = strcspn(s, ",");
			char buf[INET6_ADDRSTRLEN];

			if (n == RULES_RT_ADDRS_MAX || len >= sizeof(buf)) {
				xerr(a, "expected a comma list of at most %d IPv6 addresses, got '%s'",
				     RULES_RT_ADDRS_MAX, a->arg);
				return -EINVAL;
			}
			memcpy(buf, s, len);
			buf[len] = '\0';
			if (inet_pton(AF_INET6, buf, &ad[n++]) != 1) {
				xerr(a, "expected a comma list of at most %d IPv6 addresses, got '%s'",
				     RULES_RT_ADDRS_MAX, a->arg);
				return -EINVAL;
			}
			if (!s[len])
				break;
			s += len + 1;
		}
		m->u.rt.naddrs = (uint8_t)n;
		if (!no_neg(a))
			return -EINVAL;
		break;
	}
	case XO_RT_0_NOT_STRICT:
		if (!GIVEN(m, XO_RT_0_ADDRS)) {
			xerr(a, "--rt-0-not-strict needs --rt-0-addrs before it");
			a->err_at_opt = true;
			return -EINVAL;
		}
		/* fall through */
	default:	/* XO_RT_0_RES */
		if (!no_neg(a))
			return -EINVAL;
		break;
	}
	set_given(m, a);
	return 0;
}

static bool rt_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	int off = v6_find_hdr(pkt, IPPROTO_ROUTING);
	const uint8_t *rh;
	uint32_t hdrlen, n;

	if (off < 0)
		return false;	/* no routing header: no match, negated or not (ip6t_rt) */
	rh = pkt->data + off;
	hdrlen = ((uint32_t)rh[1] + 1) * 8;
	if (pkt->len - (uint32_t)off < hdrlen)
		return false;
	if ((rh[3] >= m->u.rt.segsleft[0] && rh[3] <= m->u.rt.segsleft[1]) == INV(m, XO_RT_SEGSLEFT))
		return false;
	if (GIVEN(m, XO_RT_LEN) && (m->u.rt.len == hdrlen) == INV(m, XO_RT_LEN))
		return false;
	if (GIVEN(m, XO_RT_TYPE) && (m->u.rt.type == rh[2]) == INV(m, XO_RT_TYPE))
		return false;
	if (GIVEN(m, XO_RT_0_RES) && (rh[4] | rh[5] | rh[6] | rh[7]))
		return false;
	if (!GIVEN(m, XO_RT_0_ADDRS))
		return true;
	n = (hdrlen - 8) / 16;	/* the addresses of a type 0 header */
	if (m->u.rt.naddrs > n || (uint32_t)off + 8 + n * 16 > pkt->caplen)
		return false;
	if (GIVEN(m, XO_RT_0_NOT_STRICT)) {
		/* the listed addresses in this order, others between them allowed */
		unsigned int i = 0;

		for (uint32_t k = 0; k < n && i < m->u.rt.naddrs; k++)
			if (!memcmp(rh + 8 + k * 16, &m->u.rt.addrs[i], 16))
				i++;
		return i == m->u.rt.naddrs;
	}
	/* strict: exactly the listed addresses */
	if (m->u.rt.naddrs != n)
		return false;
	for (uint32_t k = 0; k < n; k++)
		if (memcmp(rh + 8 + k * 16, &m->u.rt.addrs[k], 16))
			return false;
	return true;
}

static void rt_print(FILE *out, const struct rules_xmatch *m)
{
	if (GIVEN(m, XO_RT_TYPE)) {
		print_neg(out, m, XO_RT_TYPE, "--rt-type");
		fprintf(out, " %u", m->u.rt.type);
	}
	if (GIVEN(m, XO_RT_SEGSLEFT)) {
		print_neg(out, m, XO_RT_SEGSLEFT, "--rt-segsleft");
		print_u32_range(out, m->u.rt.segsleft);
	}
	if (GIVEN(m, XO_RT_LEN)) {
		print_neg(out, m, XO_RT_LEN, "--rt-len");
		fprintf(out, " %u", m->u.rt.len);
	}
	if (GIVEN(m, XO_RT_0_RES))
		fputs(" --rt-0-res", out);
	if (GIVEN(m, XO_RT_0_ADDRS)) {
		fputs(" --rt-0-addrs ", out);
		for (unsigned int i = 0; i < m->u.rt.naddrs; i++) {
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &m->u.rt.addrs[i], buf, sizeof(buf));
			fprintf(out, "%s%s", i ? "," : "", buf);
		}
	}
	if (GIVEN(m, XO_RT_0_NOT_STRICT))
		fputs(" --rt-0-not-strict", out);
}

static void rt_free(struct rules_xmatch *m)
{
	free(m->u.rt.addrs);
	m->u.rt.addrs = NULL;
}

/* ipv6header: bits as ip6t_ipv6header, in the order printed */
static const struct { const char *name, *alias; uint8_t proto, bit; } v6h_names[] = {
	{ "hop-by-hop", "hop", IPPROTO_HOPOPTS, 0x80 },
	{ "ipv6-opts", "dst", IPPROTO_DSTOPTS, 0x40 },
	{ "ipv6-route", "route", IPPROTO_ROUTING, 0x20 },
	{ "ipv6-frag", "frag", IPPROTO_FRAGMENT, 0x10 },
	{ "ah", "auth", IPPROTO_AH, 0x08 },
	{ "esp", NULL, IPPROTO_ESP, 0x04 },
	{ "ipv6-nonxt", "none", IPPROTO_NONE, 0x02 },
	{ "protocol", "prot", 255, 0x01 },
};

static int ipv6header_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	const char *s = a->arg;

	if (!v6_only(m, a, "ipv6header"))
		return -EINVAL;
	if (a->opt == XO_V6H_SOFT) {
		if (!no_neg(a))
			return -EINVAL;
		set_given(m, a);
		return 0;
	}
	m->u.v6h.headers = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		unsigned long v = 256;
		char buf[16];
		size_t i;

		if (n < sizeof(buf)) {
			memcpy(buf, s, n);
			buf[n] = '\0';
			if (!rules_parse_dec(buf, 255, &v))
				v = 256;
		}
		for (i = 0; i < RULES_ARRAY_SIZE(v6h_names); i++)
			if ((strlen(v6h_names[i].name) == n && !strncasecmp(s, v6h_names[i].name, n)) ||
			    (v6h_names[i].alias && strlen(v6h_names[i].alias) == n &&
			     !strncasecmp(s, v6h_names[i].alias, n)) || v == v6h_names[i].proto)
				break;
		if (i == RULES_ARRAY_SIZE(v6h_names)) {
			xerr(a, "unknown header '%.*s': expected a comma list of hop-by-hop, ipv6-opts, "
			     "ipv6-route, ipv6-frag, ah, esp, ipv6-nonxt, protocol (or hop, dst, route, frag, "
			     "auth, none, prot, or their numbers)", (int)n, s);
			return -EINVAL;
		}
		m->u.v6h.headers |= v6h_names[i].bit;
		if (!s[n])
			break;
		s += n + 1;
	}
	set_given(m, a);
	return 0;
}

static bool ipv6header_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	const uint8_t *d = pkt->data;
	unsigned int want = m->u.v6h.headers, inv = INV(m, XO_V6H_HEADER) ? 0xff : 0, seen = 0;
	uint32_t ptr = 40;
	int64_t left;
	uint8_t nh;

	if (pkt->tuple.family != AF_INET6 || pkt->caplen < 40)
		return false;
	nh = d[6];
	left = (int64_t)pkt->len - 40;
	/* ip6t_ipv6header's walk: through every extension header, ESP and "no next header" end it */
	for (int i = 0; i < 32 && (v6_ext(nh) || nh == IPPROTO_ESP || nh == IPPROTO_NONE); i++) {
		uint32_t len;

		if (nh == IPPROTO_NONE) {
			seen |= 0x02;
			break;
		}
		if (left < 2)
			return false;
		if (nh == IPPROTO_ESP) {
			seen |= 0x04;
			break;
		}
		if (ptr + 2 > pkt->caplen)
			return false;	/* the kernel drops what it cannot read */
		if (nh == IPPROTO_FRAGMENT)
			len = 8;
		else if (nh == IPPROTO_AH)
			len = ((uint32_t)d[ptr + 1] + 2) * 4;
		else
			len = ((uint32_t)d[ptr + 1] + 1) * 8;
		for (size_t k = 0; k < 5; k++)
			if (v6h_names[k].proto == nh)
				seen |= v6h_names[k].bit;
		nh = d[ptr];
		left -= len;
		ptr += len;
		if (ptr > pkt->len)
			break;
	}
	if (nh != IPPROTO_NONE && nh != IPPROTO_ESP)
		seen |= 0x01;
	if (GIVEN(m, XO_V6H_SOFT))
		return !((seen ^ want ^ inv) & want);
	return inv ? seen != want : seen == want;
}

static void ipv6header_print(FILE *out, const struct rules_xmatch *m)
{
	const char *sep = " ";

	print_neg(out, m, XO_V6H_HEADER, "--header");
	for (size_t i = 0; i < RULES_ARRAY_SIZE(v6h_names); i++)
		if (m->u.v6h.headers & v6h_names[i].bit) {
			fprintf(out, "%s%s", sep, v6h_names[i].name);
			sep = ",";
		}
	if (GIVEN(m, XO_V6H_SOFT))
		fputs(" --soft", out);
}

/* ---- addrtype: the local routing tables, as addrs.c copies them ---- */

static const char *const rtn_names[] = {
	"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
	"UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE",
};

static int addrtype_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	uint16_t *types = a->opt == XO_AT_SRC ? &m->u.at.src : &m->u.at.dst;
	const char *s = a->arg;

	if (a->opt == XO_AT_IN || a->opt == XO_AT_OUT) {
		if (!no_neg(a))
			return -EINVAL;
		if (GIVEN(m, a->opt == XO_AT_IN ? XO_AT_OUT : XO_AT_IN)) {
			xerr(a, "--limit-iface-in and --limit-iface-out cannot both be given");
			a->err_at_opt = true;
			return -EINVAL;
		}
		set_given(m, a);
		return 0;
	}
	*types = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		unsigned int i;

		for (i = 0; i < RULES_ARRAY_SIZE(rtn_names); i++)
			if (strlen(rtn_names[i]) == n && !strncasecmp(s, rtn_names[i], n))
				break;
		if (i == RULES_ARRAY_SIZE(rtn_names)) {
			xerr(a, "unknown address type '%.*s': expected a comma list of UNSPEC, UNICAST, "
			     "LOCAL, BROADCAST, ANYCAST, MULTICAST, BLACKHOLE, UNREACHABLE, PROHIBIT, THROW, "
			     "NAT, XRESOLVE", (int)n, s);
			return -EINVAL;
		}
		/* IPv6 gets these from a lookup of the whole routing table (xt_addrtype's
		 * match_lookup_rt6), which nfqct does not do: IPv4 rules only */
		if ((i == RTN_BLACKHOLE || i == RTN_UNREACHABLE) && a->family != AF_INET) {
			xerr(a, "address type %s needs a route lookup for IPv6 packets, which nfqct does "
			     "not do: write -4 before it (IPv4 reads the local table, as the kernel)",
			     rtn_names[i]);
			return -EINVAL;
		}
		*types |= (uint16_t)(1u << i);
		if (!s[n])
			break;
		s += n + 1;
	}
	set_given(m, a);
	return 0;
}

/* The type of IPv4 address @a as inet_dev_addr_type() gives it, @dev 0 or the interface. */
static unsigned int addr_type4(const union nfqct_addr *a, uint32_t dev)
{
	uint32_t ip = ntohl(a->ip), rdev = 0;
	unsigned int t;

	if ((ip >> 24) == 0 || ip == 0xffffffffu)
		return RTN_BROADCAST;
	if ((ip >> 28) == 0xe)
		return RTN_MULTICAST;
	t = nfqct_addrs_lookup(AF_INET, a, &rdev);
	if (t == RTN_UNSPEC || (dev && rdev != dev))
		return RTN_UNICAST;
	return t;
}

/* The bits of @mask that IPv6 address @a has, as xt_addrtype's match_type6(). */
static unsigned int addr_types6(const union nfqct_addr *a, unsigned int mask, uint32_t dev)
{
	bool mc = a->b[0] == 0xff;
	bool any = !(a->ip6[0] | a->ip6[1] | a->ip6[2] | a->ip6[3]);
	bool mapped = !(a->ip6[0] | a->ip6[1]) && a->ip6[2] == htonl(0xffff);
	uint32_t rdev = 0;
	unsigned int t;

	if ((mask & 1u << RTN_MULTICAST) && mc)
		return 1u << RTN_MULTICAST;
	if ((mask & 1u << RTN_UNICAST) && !mc && !any && !mapped)
		return 1u << RTN_UNICAST;
	if ((mask & 1u << RTN_UNSPEC) && any)
		return 1u << RTN_UNSPEC;
	if (!(mask & (1u << RTN_LOCAL | 1u << RTN_ANYCAST)))
		return 0;
	t = nfqct_addrs_lookup(AF_INET6, a, &rdev);
	if (t == RTN_LOCAL && !dev)	/* the kernel sees LOCAL only without an interface */
		return mask & 1u << RTN_LOCAL;
	if (t == RTN_ANYCAST && (!dev || rdev == dev))
		return mask & 1u << RTN_ANYCAST;
	return 0;
}

static bool addrtype_one(const struct nfqct_pkt *pkt, const union nfqct_addr *a, unsigned int mask,
			 uint32_t dev)
{
	if (pkt->tuple.family == AF_INET)
		return (mask >> addr_type4(a, dev)) & 1;
	return addr_types6(a, mask, dev) != 0;
}

static bool addrtype_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	uint32_t dev = GIVEN(m, XO_AT_IN) ? pkt->indev : GIVEN(m, XO_AT_OUT) ? pkt->outdev : 0;

	if (GIVEN(m, XO_AT_SRC) &&
	    addrtype_one(pkt, &pkt->tuple.src, m->u.at.src, dev) == INV(m, XO_AT_SRC))
		return false;
	if (GIVEN(m, XO_AT_DST) &&
	    addrtype_one(pkt, &pkt->tuple.dst, m->u.at.dst, dev) == INV(m, XO_AT_DST))
		return false;
	return true;
}

static void addrtype_print_types(FILE *out, unsigned int mask)
{
	const char *sep = " ";

	for (unsigned int i = 0; i < RULES_ARRAY_SIZE(rtn_names); i++)
		if (mask & 1u << i) {
			fprintf(out, "%s%s", sep, rtn_names[i]);
			sep = ",";
		}
}

static void addrtype_print(FILE *out, const struct rules_xmatch *m)
{
	if (GIVEN(m, XO_AT_SRC)) {
		print_neg(out, m, XO_AT_SRC, "--src-type");
		addrtype_print_types(out, m->u.at.src);
	}
	if (GIVEN(m, XO_AT_DST)) {
		print_neg(out, m, XO_AT_DST, "--dst-type");
		addrtype_print_types(out, m->u.at.dst);
	}
	if (GIVEN(m, XO_AT_IN))
		fputs(" --limit-iface-in", out);
	if (GIVEN(m, XO_AT_OUT))
		fputs(" --limit-iface-out", out);
}

/* ---- rpfilter: the reverse path, as ipt_rpfilter / ip6t_rpfilter ---- */

/* Every option is a flag (m->given); --validmark is kept and printed but changes
 * nothing: without policy rules (ip rule), which nfqct does not read, the mark
 * selects no other table. */
static int rpfilter_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	if (!no_neg(a))
		return -EINVAL;
	set_given(m, a);
	return 0;
}

static int rpfilter_init(struct rules_xmatch *m)
{
	(void)m;	/* the strict check: no option is a valid match */
	return 0;
}

#define LOOPBACK_IFINDEX 1	/* the kernel's, in every namespace */

/* The kernel's answer before --invert. */
static bool rpfilter_ok(const struct rules_xmatch *m, const struct nfqct_pkt *pkt)
{
	const union nfqct_addr *s = &pkt->tuple.src, *d = &pkt->tuple.dst;
	bool via;
	unsigned int t;

	if (pkt->indev == LOOPBACK_IFINDEX)	/* rpfilter_is_loopback() */
		return true;
	if (pkt->tuple.family == AF_INET) {
		/* DHCP and the like: from 0.0.0.0 to the limited broadcast or 224.0.0.0/24 */
		if (s->ip == 0 && (d->ip == 0xffffffffu || (ntohl(d->ip) & 0xffffff00u) == 0xe0000000u))
			return true;
		t = nfqct_addrs_route(AF_INET, s, pkt->indev, &via);
		if (t != RTN_UNICAST && !(t == RTN_LOCAL && GIVEN(m, XO_RPF_ACCEPT_LOCAL)))
			return false;
		return via || GIVEN(m, XO_RPF_LOOSE);	/* fib_info_nh_uses_dev() */
	}
	if (!(s->ip6[0] | s->ip6[1] | s->ip6[2] | s->ip6[3]))	/* ::, "the forward path drops it" */
		return true;
	t = nfqct_addrs_route(AF_INET6, s, pkt->indev, &via);
	if (t == RTN_LOCAL)	/* IPv6 asks no device of a local source */
		return GIVEN(m, XO_RPF_ACCEPT_LOCAL);
	if (t != RTN_UNICAST)	/* no route, reject types (RTF_REJECT), anycast */
		return false;
	return via || GIVEN(m, XO_RPF_LOOSE);
}

static bool rpfilter_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	return rpfilter_ok(m, cx->pkt) != !!GIVEN(m, XO_RPF_INVERT);
}

static void rpfilter_print(FILE *out, const struct rules_xmatch *m)
{
	static const char *const names[] = { " --loose", " --validmark", " --accept-local", " --invert" };

	for (unsigned int i = 0; i < RULES_ARRAY_SIZE(names); i++)
		if (GIVEN(m, i))
			fputs(names[i], out);
}

/* ---- devgroup: the interfaces' groups, as addrs.c copies them ---- */

/* The group names of iproute2 ("0 default"): the first file that exists. */
static FILE *group_file(void)
{
	FILE *f = fopen("/etc/iproute2/group", "re");

	return f ? f : fopen("/usr/share/iproute2/group", "re");
}

/* Group @name's number, or -1. */
static long group_number(const char *name)
{
	FILE *f = group_file();
	char line[256], n[128];
	unsigned long id;
	long r = -1;

	if (!f)
		return -1;
	while (r < 0 && fgets(line, sizeof(line), f))
		if (line[0] != '#' && sscanf(line, "%lu %127s", &id, n) == 2 && !strcmp(n, name) &&
		    id <= UINT32_MAX)
			r = (long)id;
	fclose(f);
	return r;
}

/* Group @id's name into @buf, or false. */
static bool group_name(uint32_t id, char *buf, size_t len)
{
	FILE *f = group_file();
	char line[256], n[128];
	unsigned long v;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (line[0] != '#' && sscanf(line, "%lu %127s", &v, n) == 2 && v == id) {
			snprintf(buf, len, "%s", n);
			found = true;
		}
	fclose(f);
	return found;
}

static int devgroup_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	uint32_t *val = a->opt == XO_DG_SRC ? &m->u.dg.src : &m->u.dg.dst;
	uint32_t *mask = a->opt == XO_DG_SRC ? &m->u.dg.smask : &m->u.dg.dmask;
	char buf[128], *slash, *end;
	unsigned long long v;
	long id;

	if (strlen(a->arg) >= sizeof(buf))
		goto bad;
	strcpy(buf, a->arg);
	slash = strchr(buf, '/');
	*mask = UINT32_MAX;
	if (slash) {
		*slash++ = '\0';
		errno = 0;
		v = strtoull(slash, &end, 0);
		if (!isdigit((unsigned char)*slash) || errno || *end || v > UINT32_MAX)
			goto bad;
		*mask = (uint32_t)v;
	}
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (isdigit((unsigned char)buf[0]) && !errno && !*end && v <= UINT32_MAX) {
		*val = (uint32_t)v;
	} else if (!isdigit((unsigned char)buf[0]) && (id = group_number(buf)) >= 0) {
		*val = (uint32_t)id;
	} else {
		goto bad;
	}
	set_given(m, a);
	return 0;
bad:
	xerr(a, "expected a group 'value[/mask]' (numbers, or a name of /etc/iproute2/group), got '%s'",
	     a->arg);
	return -EINVAL;
}

static bool devgroup_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;

	if (GIVEN(m, XO_DG_SRC) &&
	    (((nfqct_addrs_ifgroup(pkt->indev) ^ m->u.dg.src) & m->u.dg.smask) == 0) == INV(m, XO_DG_SRC))
		return false;
	if (GIVEN(m, XO_DG_DST) &&
	    (((nfqct_addrs_ifgroup(pkt->outdev) ^ m->u.dg.dst) & m->u.dg.dmask) == 0) == INV(m, XO_DG_DST))
		return false;
	return true;
}

static void devgroup_print_one(FILE *out, uint32_t v, uint32_t mask)
{
	char name[128];

	/* as iptables-save: the name when the mask is whole and the id has one */
	if (mask == UINT32_MAX && group_name(v, name, sizeof(name)))
		fprintf(out, " %s", name);
	else if (mask == UINT32_MAX)
		fprintf(out, " 0x%x", v);
	else
		fprintf(out, " 0x%x/0x%x", v, mask);
}

static void devgroup_print(FILE *out, const struct rules_xmatch *m)
{
	if (GIVEN(m, XO_DG_SRC)) {
		print_neg(out, m, XO_DG_SRC, "--src-group");
		devgroup_print_one(out, m->u.dg.src, m->u.dg.smask);
	}
	if (GIVEN(m, XO_DG_DST)) {
		print_neg(out, m, XO_DG_DST, "--dst-group");
		devgroup_print_one(out, m->u.dg.dst, m->u.dg.dmask);
	}
}

/* ---- limit: one token bucket per rule instance, as xt_limit ---- */

/*
 * A rule for both families stands for an iptables rule and an ip6tables
 * one, each with its own bucket: one per family, each on its own cache
 * line (every worker writes them).
 */
struct rules_limit_state {
	_Alignas(64) struct nfqct_tbf b;
};

static int limit_init(struct rules_xmatch *m)
{
	m->u.lim.avg = RULES_LIMIT_AVG;
	m->u.lim.burst = RULES_LIMIT_BURST;
	return 0;
}

/*
 * "N[/unit]" as libxt_limit: N packets per second, or per any prefix of
 * second, minute, hour or day (case-insensitive); seconds * 10000 per packet.
 */
static bool parse_limit_rate(const char *s, uint32_t *avg)
{
	static const struct { const char *name; uint32_t mult; } units[] = {
		{ "second", 1 }, { "minute", 60 }, { "hour", 3600 }, { "day", 86400 },
	};
	const char *slash = strchr(s, '/');
	uint32_t mult = 1;
	unsigned long n;
	char num[16];
	size_t len = slash ? (size_t)(slash - s) : strlen(s);

	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len);
	num[len] = '\0';
	if (!rules_parse_dec(num, UINT32_MAX, &n) || n == 0)
		return false;
	if (slash) {
		size_t ulen = strlen(slash + 1);
		size_t i;

		for (i = 0; i < RULES_ARRAY_SIZE(units); i++)
			if (ulen && !strncasecmp(slash + 1, units[i].name, ulen))
				break;
		if (i == RULES_ARRAY_SIZE(units))
			return false;
		mult = units[i].mult;
	}
	*avg = (uint32_t)(NFQCT_TBF_SCALE * mult / n);
	return true;
}

static int limit_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	unsigned long v;

	if (a->opt == XO_LIM_LIMIT) {
		if (!parse_limit_rate(a->arg, &m->u.lim.avg)) {
			xerr(a, "expected a rate 'N/second', 'N/minute', 'N/hour' or 'N/day' (N from 1), "
			     "got '%s'", a->arg);
			return -EINVAL;
		}
		if (m->u.lim.avg == 0) {
			xerr(a, "rate too fast '%s': at most 10000/second", a->arg);
			return -EINVAL;
		}
	} else {
		if (!rules_parse_dec(a->arg, 10000, &v) || v == 0) {	/* 0: libxt_limit reads it, xt_limit refuses it */
			xerr(a, "expected a burst 1..10000, got '%s'", a->arg);
			return -EINVAL;
		}
		m->u.lim.burst = (uint32_t)v;
	}
	set_given(m, a);
	return 0;
}

static int limit_finish(struct rules_xmatch *m, char *err, size_t errlen)
{
	if (nfqct_tbf_limit_params(m->u.lim.avg, m->u.lim.burst, &m->u.lim.cost, &m->u.lim.cap)) {
		/* the kernel refuses these too (xt_limit: "Overflow, try lower") */
		snprintf(err, errlen, "-m limit: burst %u at this rate overflows the kernel's 32-bit "
			 "credit: lower the burst or raise the rate", m->u.lim.burst);
		return -EINVAL;
	}
	if (!m->u.lim.st) {
		m->u.lim.st = aligned_alloc(64, 2 * sizeof(*m->u.lim.st));
		if (!m->u.lim.st)
			return -ENOMEM;
	}
	nfqct_tbf_init(&m->u.lim.st[0].b, m->u.lim.cap);
	nfqct_tbf_init(&m->u.lim.st[1].b, m->u.lim.cap);
	return 0;
}

static bool limit_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	struct nfqct_tbf *b = &m->u.lim.st[cx->pkt->tuple.family == AF_INET6].b;

	return nfqct_tbf_take(b, nfqct_tbf_jiffies(cx->now_ms), m->u.lim.cost, m->u.lim.cap);
}

/* A rate as libxt_limit prints it: the largest unit that keeps N whole enough. */
static void limit_print_rate(FILE *out, uint32_t avg)
{
	static const struct { const char *name; uint32_t mult; } rates[] = {
		{ "day", NFQCT_TBF_SCALE * 86400u }, { "hour", NFQCT_TBF_SCALE * 3600u },
		{ "min", NFQCT_TBF_SCALE * 60u }, { "sec", NFQCT_TBF_SCALE },
	};
	size_t i;

	for (i = 1; i < RULES_ARRAY_SIZE(rates); i++)
		if (avg > rates[i].mult || rates[i].mult / avg < rates[i].mult % avg)
			break;
	fprintf(out, " %u/%s", rates[i - 1].mult / avg, rates[i - 1].name);
}

static void limit_print(FILE *out, const struct rules_xmatch *m)
{
	fputs(" --limit", out);
	limit_print_rate(out, m->u.lim.avg);
	if (m->u.lim.burst != RULES_LIMIT_BURST)
		fprintf(out, " --limit-burst %u", m->u.lim.burst);
}

static void limit_free(struct rules_xmatch *m)
{
	free(m->u.lim.st);
	m->u.lim.st = NULL;
}

/* ---- set: an ipset set, as xt_set revision 4 (ipset.h) ---- */

struct rules_xset {
	char name[NFQCT_IPSET_MAXNAMELEN];
	uint8_t dim, src;		/* flags given; bit i: dimension i is src */
	bool inv;			/* ! --match-set */
	bool return_nomatch, skip_ctr, skip_subctr;
	uint8_t pkt_op, byte_op;	/* 0 none, 1 eq, 2 lt, 3 gt, 4 ne (! --packets-eq) */
	uint64_t pkt_val, byte_val;
	struct nfqct_ipset *s;		/* a reference, taken by set_finish() */
};

static int set_init(struct rules_xmatch *m)
{
	m->u.set = calloc(1, sizeof(*m->u.set));
	return m->u.set ? 0 : -ENOMEM;
}

/* "src,dst,...": 1..6 of them.  Returns 0 or -EINVAL. */
int rules_set_flags(const char *s, uint8_t *dim, uint8_t *src)
{
	*dim = 0;
	*src = 0;
	for (;;) {
		if (*dim == NFQCT_IPSET_DIM_MAX)
			return -EINVAL;
		if (!strncmp(s, "src", 3))
			*src |= (uint8_t)(1u << *dim);
		else if (strncmp(s, "dst", 3))
			return -EINVAL;
		(*dim)++;
		s += 3;
		if (!*s)
			return 0;
		if (*s++ != ',')
			return -EINVAL;
	}
}

void rules_set_flags_print(FILE *out, uint8_t dim, uint8_t src)
{
	for (unsigned int i = 0; i < dim; i++)
		fprintf(out, "%s%s", i ? "," : " ", (src >> i) & 1 ? "src" : "dst");
}

static int set_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	struct rules_xset *x = m->u.set;
	unsigned long long v;
	char *end;

	if (GIVEN(m, a->opt)) {
		xerr(a, "%s given twice", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	switch (a->opt) {
	case XO_SET_MATCH:
		if (strlen(a->arg) >= NFQCT_IPSET_MAXNAMELEN) {
			xerr(a, "set name '%s' is longer than %d characters", a->arg, NFQCT_IPSET_MAXNAMELEN - 1);
			return -EINVAL;
		}
		if (!a->arg2 || rules_set_flags(a->arg2, &x->dim, &x->src)) {
			xerr(a, "'%s': expected src or dst, up to %d separated by ','", a->arg2 ? a->arg2 : "",
			     NFQCT_IPSET_DIM_MAX);
			a->err_at_arg2 = true;
			return -EINVAL;
		}
		strcpy(x->name, a->arg);
		x->inv = a->neg;
		break;
	case XO_SET_RETNOMATCH:
		x->return_nomatch = true;
		break;
	case XO_SET_UPDCTR:
	case XO_SET_UPDSUB:
		*(a->opt == XO_SET_UPDCTR ? &x->skip_ctr : &x->skip_subctr) = a->neg;
		break;
	default: {
		bool pkt = a->opt <= XO_SET_PKTGT;
		unsigned int op = (a->opt - (pkt ? XO_SET_PKTEQ : XO_SET_BYTEQ)) + 1;

		if (a->neg && op != 1) {
			xerr(a, "%s cannot be negated (only --packets-eq and --bytes-eq)", a->name);
			a->err_at_opt = true;
			return -EINVAL;
		}
		if ((pkt ? x->pkt_op : x->byte_op) != 0) {
			xerr(a, "-m set takes one of --%s-eq, --%s-lt, --%s-gt", pkt ? "packets" : "bytes",
			     pkt ? "packets" : "bytes", pkt ? "packets" : "bytes");
			a->err_at_opt = true;
			return -EINVAL;
		}
		errno = 0;
		v = strtoull(a->arg, &end, 10);
		if (!isdigit((unsigned char)a->arg[0]) || *end || errno) {
			xerr(a, "'%s': expected a number", a->arg);
			return -EINVAL;
		}
		*(pkt ? &x->pkt_op : &x->byte_op) = (uint8_t)(a->neg ? 4 : op);
		*(pkt ? &x->pkt_val : &x->byte_val) = v;
		break;
	}
	}
	m->given |= (uint16_t)(1u << a->opt);
	return 0;
}

static int set_finish(struct rules_xmatch *m, char *err, size_t errlen)
{
	struct rules_xset *x = m->u.set;
	unsigned int dim;

	if (!GIVEN(m, XO_SET_MATCH)) {
		snprintf(err, errlen, "-m set needs --match-set NAME FLAGS");
		return -EINVAL;
	}
	if (nfqct_ipset_get(x->name, &x->s) < 0) {
		snprintf(err, errlen, "Set %s doesn't exist (no set of that name is loaded: see --sets)", x->name);
		return -EINVAL;
	}
	dim = nfqct_ipset_dim(x->s);
	if (dim && dim != x->dim) {
		snprintf(err, errlen, "set %s is %s: --match-set takes %u flag%s (src or dst), not %u", x->name,
			 nfqct_ipset_type_name(nfqct_ipset_type(x->s)), dim, dim > 1 ? "s" : "", x->dim);
		return -EINVAL;
	}
	return 0;
}

static bool set_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct rules_xset *x = m->u.set;
	struct nfqct_ipset_probe p = {
		.t = &cx->pkt->tuple, .dim = x->dim, .src = x->src, .len = cx->pkt->len,
		.update_counters = !x->skip_ctr, .return_nomatch = x->return_nomatch,
		.pkt_op = x->pkt_op, .byte_op = x->byte_op, .pkt_val = x->pkt_val, .byte_val = x->byte_val,
	};

	/* hash:net,iface: src is the input interface, dst the output one, by name */
	if (cx->ifc && nfqct_ipset_type(x->s) == NFQCT_IPSET_HASH_NET_IFACE) {
		p.in = cx->pkt->indev ? nfqct_ifname_get(cx->ifc, cx->pkt->indev, cx->now_ms) : "";
		p.out = cx->pkt->outdev ? nfqct_ifname_get(cx->ifc, cx->pkt->outdev, cx->now_ms) : "";
	}
	return nfqct_ipset_test_pkt(x->s, &p, cx->now_ms) != x->inv;
}

static void set_print(FILE *out, const struct rules_xmatch *m)
{
	static const char *const ops[] = { "", "eq", "lt", "gt", "eq" };
	const struct rules_xset *x = m->u.set;

	/* libxt_set revision 4's order */
	fprintf(out, "%s --match-set %s", x->inv ? " !" : "", x->name);
	rules_set_flags_print(out, x->dim, x->src);
	if (x->return_nomatch)
		fputs(" --return-nomatch", out);
	if (x->skip_ctr)
		fputs(" ! --update-counters", out);
	if (x->skip_subctr)
		fputs(" ! --update-subcounters", out);
	if (x->pkt_op)
		fprintf(out, "%s --packets-%s %" PRIu64, x->pkt_op == 4 ? " !" : "", ops[x->pkt_op], x->pkt_val);
	if (x->byte_op)
		fprintf(out, "%s --bytes-%s %" PRIu64, x->byte_op == 4 ? " !" : "", ops[x->byte_op], x->byte_val);
}

static void set_free(struct rules_xmatch *m)
{
	if (!m->u.set)
		return;
	nfqct_ipset_put(m->u.set->s);
	free(m->u.set);
	m->u.set = NULL;
}

void rules_settarget_free(struct rules_settarget *t)
{
	if (!t)
		return;
	nfqct_ipset_put(t->add);
	nfqct_ipset_put(t->del);
	free(t);
}

/* ---- recent: a named list of addresses, as xt_recent (recent.h) ---- */

struct rules_xrecent {
	struct nfqct_recent_info info;
	bool dest;			/* --rdest: the destination address */
	bool cmd_given;
	char name[NFQCT_RECENT_NAME_LEN];
	union nfqct_addr mask;
	struct nfqct_recent_table *t;	/* a reference, taken by recent_finish() */
};

static int recent_init(struct rules_xmatch *m)
{
	struct rules_xrecent *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	strcpy(r->name, "DEFAULT");
	memset(&r->mask, 0xff, sizeof(r->mask));
	m->u.rec = r;
	return 0;
}

static const char *const recent_cmds[] = { "--set", "--rcheck", "--update", "--remove" };

static int recent_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	struct rules_xrecent *r = m->u.rec;
	unsigned long v;
	union nfqct_addr mask;
	uint8_t plen;
	int fam;

	if (GIVEN(m, a->opt)) {
		xerr(a, "%s given twice", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	switch (a->opt) {
	case XO_REC_SET: case XO_REC_RCHECK: case XO_REC_UPDATE: case XO_REC_REMOVE:
		if (r->cmd_given) {
			xerr(a, "%s: -m recent takes only one of --set, --rcheck, --update or --remove",
			     a->name);
			a->err_at_opt = true;
			return -EINVAL;
		}
		r->cmd_given = true;
		r->info.cmd = (uint8_t)(a->opt - XO_REC_SET);
		r->info.invert = a->neg;
		break;
	case XO_REC_SECONDS:
		if (!rules_parse_dec(a->arg, UINT32_MAX, &v) || v == 0) {
			xerr(a, "expected a number of seconds 1..4294967295, got '%s'", a->arg);
			return -EINVAL;
		}
		r->info.seconds = (uint32_t)v;
		break;
	case XO_REC_HITCOUNT:
		if (!rules_parse_dec(a->arg, NFQCT_RECENT_MAX_NSTAMPS - 1, &v)) {
			xerr(a, "expected a hit count 0..%u, got '%s'", NFQCT_RECENT_MAX_NSTAMPS - 1, a->arg);
			return -EINVAL;
		}
		r->info.hit_count = (uint32_t)v;
		break;
	case XO_REC_REAP:
		r->info.reap = true;
		break;
	case XO_REC_RTTL:
		r->info.rttl = true;
		break;
	case XO_REC_NAME:
		if (!*a->arg || strlen(a->arg) >= NFQCT_RECENT_NAME_LEN || strchr(a->arg, '/') ||
		    !strcmp(a->arg, ".") || !strcmp(a->arg, "..")) {
			xerr(a, "expected a list name of 1..%u characters without '/', got '%s'",
			     NFQCT_RECENT_NAME_LEN - 1, a->arg);
			return -EINVAL;
		}
		for (const char *c = a->arg; *c; c++)
			if ((unsigned char)*c < 0x21 || (unsigned char)*c == 0x7f) {
				xerr(a, "expected a list name of printable characters, got '%s'", a->arg);
				return -EINVAL;
			}
		strcpy(r->name, a->arg);
		break;
	case XO_REC_RSOURCE: case XO_REC_RDEST:
		if (GIVEN(m, XO_REC_RSOURCE) || GIVEN(m, XO_REC_RDEST)) {
			xerr(a, "only one of --rsource or --rdest");
			a->err_at_opt = true;
			return -EINVAL;
		}
		r->dest = a->opt == XO_REC_RDEST;
		break;
	case XO_REC_MASK:
		/* a netmask written as an address (xt_recent's XTTYPE_HOST) */
		fam = parse_addr_mask(a->arg, &r->mask, &mask, &plen);
		if (!fam || strchr(a->arg, '/')) {
			xerr(a, "expected a netmask written as an address (255.255.255.0, ffff:ffff::), "
			     "got '%s'", a->arg);
			return -EINVAL;
		}
		if (!xfamily(m, a, fam))
			return -EINVAL;
		if (fam == AF_INET)
			memset(r->mask.b + 4, 0xff, 12);	/* unused by IPv4 packets */
		break;
	}
	set_given(m, a);
	return 0;
}

static int recent_finish(struct rules_xmatch *m, char *err, size_t errlen)
{
	struct rules_xrecent *r = m->u.rec;
	const struct nfqct_recent_info *i = &r->info;
	int rc;

	/* libxt_recent's and recent_mt_check()'s refusals */
	if (!r->cmd_given) {
		snprintf(err, errlen, "-m recent needs one of --set, --rcheck, --update or --remove");
		return -EINVAL;
	}
	if ((i->cmd == NFQCT_RECENT_SET || i->cmd == NFQCT_RECENT_REMOVE) &&
	    (i->seconds || i->hit_count || i->reap || i->rttl)) {
		snprintf(err, errlen, "-m recent %s takes none of --seconds, --hitcount, --reap, --rttl "
			 "(they are for --rcheck and --update)", recent_cmds[i->cmd]);
		return -EINVAL;
	}
	if (i->reap && !i->seconds) {
		snprintf(err, errlen, "-m recent --reap needs --seconds");
		return -EINVAL;
	}
	if (r->t)
		return 0;
	rc = nfqct_recent_get(r->name, &r->mask, i->hit_count, &r->t);
	if (rc == -EINVAL)
		snprintf(err, errlen, "-m recent: list '%s' refused", r->name);
	return rc;
}

static bool recent_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct rules_xrecent *r = m->u.rec;
	const struct nfqct_pkt *pkt = cx->pkt;
	bool v4 = pkt->tuple.family == AF_INET;
	uint8_t ttl;

	if (pkt->caplen < (v4 ? 9u : 8u))
		return false;
	ttl = v4 ? pkt->data[8] : pkt->data[7];
	if (pkt->hook == NFQCT_HOOK_FORWARD)	/* xt_recent: the TTL as seen before forwarding */
		ttl++;
	return nfqct_recent_match(r->t, &r->info, pkt->tuple.family, r->dest ? &pkt->tuple.dst : &pkt->tuple.src,
				  ttl, nfqct_tbf_jiffies(cx->now_ms));
}

static void recent_print(FILE *out, const struct rules_xmatch *m)
{
	const struct rules_xrecent *r = m->u.rec;
	char buf[INET6_ADDRSTRLEN];

	/* libxt_recent's order */
	if (r->info.invert)
		fputs(" !", out);
	fprintf(out, " %s", recent_cmds[r->info.cmd]);
	if (r->info.seconds)
		fprintf(out, " --seconds %u", r->info.seconds);
	if (r->info.reap)
		fputs(" --reap", out);
	if (r->info.hit_count)
		fprintf(out, " --hitcount %u", r->info.hit_count);
	if (r->info.rttl)
		fputs(" --rttl", out);
	fprintf(out, " --name %s", r->name);
	if (GIVEN(m, XO_REC_MASK) && inet_ntop(m->family, &r->mask, buf, sizeof(buf)))
		fprintf(out, " --mask %s", buf);
	fputs(r->dest ? " --rdest" : " --rsource", out);
}

static void recent_free(struct rules_xmatch *m)
{
	if (!m->u.rec)
		return;
	nfqct_recent_put(m->u.rec->t);
	free(m->u.rec);
	m->u.rec = NULL;
}

/* ---- connmark: the entry's mark, as xt_connmark ---- */

static int connmark_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	if (GIVEN(m, a->opt)) {
		xerr(a, "%s given twice", a->name);
		a->err_at_opt = true;
		return -EINVAL;
	}
	if (!rules_parse_valmask(a->arg, &m->u.cm.mark, &m->u.cm.mask)) {
		xerr(a, "expected a mark 'value[/mask]' (32-bit numbers), got '%s'", a->arg);
		return -EINVAL;
	}
	set_given(m, a);
	return 0;
}

static bool connmark_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	/* no entry (raw table, untracked, invalid): no match, negated or not */
	if (!cx->ct->conn)
		return false;
	return ((nfqct_ct_mark(cx->ct->conn) & m->u.cm.mask) == m->u.cm.mark) != (m->inv != 0);
}

static void connmark_print(FILE *out, const struct rules_xmatch *m)
{
	print_neg(out, m, XO_CM_MARK, "--mark");
	if (m->u.cm.mask != UINT32_MAX)
		fprintf(out, " 0x%x/0x%x", m->u.cm.mark, m->u.cm.mask);
	else
		fprintf(out, " 0x%x", m->u.cm.mark);
}

/* ---- connlimit: connections per address, as xt_connlimit (connlimit.h) ---- */

static int connlimit_init(struct rules_xmatch *m)
{
	m->u.cl.plen = 0xff;
	return 0;
}

static int connlimit_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	unsigned long v;

	if (GIVEN(m, a->opt) || (a->opt <= XO_CL_ABOVE && (GIVEN(m, XO_CL_UPTO) || GIVEN(m, XO_CL_ABOVE))) ||
	    (a->opt >= XO_CL_SADDR && (GIVEN(m, XO_CL_SADDR) || GIVEN(m, XO_CL_DADDR)))) {
		if (GIVEN(m, a->opt))
			xerr(a, "%s given twice", a->name);
		else if (a->opt <= XO_CL_ABOVE)
			xerr(a, "only one of --connlimit-upto or --connlimit-above");
		else
			xerr(a, "only one of --connlimit-saddr or --connlimit-daddr");
		a->err_at_opt = true;
		return -EINVAL;
	}
	switch (a->opt) {
	case XO_CL_UPTO: case XO_CL_ABOVE:
		if (!rules_parse_dec(a->arg, UINT32_MAX, &v)) {
			xerr(a, "expected a number of connections 0..4294967295, got '%s'", a->arg);
			return -EINVAL;
		}
		m->u.cl.limit = (uint32_t)v;
		/* libxt_connlimit: upto is a negated above, and '!' flips it */
		m->u.cl.upto = (a->opt == XO_CL_UPTO) != a->neg;
		break;
	case XO_CL_MASK:
		if (!rules_parse_dec(a->arg, 128, &v) || (a->family == AF_INET && v > 32)) {
			xerr(a, "expected a prefix length 0..%u, got '%s'", a->family == AF_INET ? 32 : 128,
			     a->arg);
			return -EINVAL;
		}
		if (v > 32 && !xfamily(m, a, AF_INET6))
			return -EINVAL;
		m->u.cl.plen = (uint8_t)v;
		break;
	case XO_CL_SADDR: case XO_CL_DADDR:
		m->u.cl.dest = a->opt == XO_CL_DADDR;
		break;
	}
	m->given |= (uint16_t)(1u << a->opt);	/* '!' went into upto */
	return 0;
}

static int connlimit_finish(struct rules_xmatch *m, char *err, size_t errlen)
{
	if (!GIVEN(m, XO_CL_UPTO) && !GIVEN(m, XO_CL_ABOVE)) {
		snprintf(err, errlen, "-m connlimit needs --connlimit-above or --connlimit-upto");
		return -EINVAL;
	}
	if (!m->u.cl.cl) {
		m->u.cl.cl = nfqct_connlimit_alloc();
		if (!m->u.cl.cl)
			return -ENOMEM;
	}
	return 0;
}

static bool connlimit_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	const struct nfqct_pkt *pkt = cx->pkt;
	const struct nfqct_rules_ct *ct = cx->ct;
	const struct nfqct_tuple *t = &pkt->tuple;
	bool v4 = pkt->tuple.family == AF_INET;
	unsigned int plen = m->u.cl.plen == 0xff ? (v4 ? 32 : 128) : m->u.cl.plen;
	union nfqct_addr key = m->u.cl.dest ? pkt->tuple.dst : pkt->tuple.src;
	uint16_t zone = 0;
	int n;

	if (!ct->table)
		return false;	/* no table: the loader keeps connlimit out of raw */
	/* the packet's header address, masked (xt_connlimit's key) */
	if (v4 && plen > 32)
		plen = 32;
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int left = plen > i * 8 ? plen - i * 8 : 0;

		key.b[i] &= left >= 8 ? 0xff : (uint8_t)(0xff << (8 - left));
	}
	if (ct->conn)
		t = nfqct_ct_tuple(ct->conn, &zone);
	n = nfqct_connlimit_count(m->u.cl.cl, ct->table, &key, pkt->tuple.family, t, zone, cx->worker,
				  cx->now_ms);
	if (n < 0) {	/* full: the kernel's allocation failed: hotdrop */
		*cx->hotdrop = true;
		return false;
	}
	return ((uint32_t)n > m->u.cl.limit) != m->u.cl.upto;
}

static void connlimit_print(FILE *out, const struct rules_xmatch *m)
{
	fprintf(out, " --connlimit-%s %u", m->u.cl.upto ? "upto" : "above", m->u.cl.limit);
	if (m->u.cl.plen != 0xff)
		fprintf(out, " --connlimit-mask %u", m->u.cl.plen);
	fputs(m->u.cl.dest ? " --connlimit-daddr" : " --connlimit-saddr", out);
}

static void connlimit_free(struct rules_xmatch *m)
{
	nfqct_connlimit_free(m->u.cl.cl);
	m->u.cl.cl = NULL;
}

/* ---- hashlimit: named tables of buckets, as xt_hashlimit revision 3 (hashlimit.h) ---- */

#define HL_BURST_DEFAULT 5
#define HL_BURST_MAX 1000000u		/* XT_HASHLIMIT_BURST_MAX */
#define HL_GCINTERVAL 1000
#define HL_BYTE_EXPIRE 15		/* s: byte mode, no burst */
#define HL_BYTE_EXPIRE_BURST 60		/* s: byte mode with a burst */

struct rules_xhashlimit {
	struct nfqct_hashlimit_cfg cfg;	/* masks 0xff: not given (the family's whole address) */
	char name[NFQCT_HL_NAME_LEN + 1];
	uint32_t mult;			/* the rate's unit in seconds (libxt_hashlimit's udata) */
	uint64_t burst_bytes;		/* --hashlimit-burst as written, in byte mode */
	uint8_t family;			/* the rule's family when known, else 0 */
	struct nfqct_hashlimit_table *t[2];	/* IPv4, IPv6 */
};

static int hashlimit_init(struct rules_xmatch *m)
{
	struct rules_xhashlimit *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->cfg.burst = HL_BURST_DEFAULT;
	h->cfg.gc_interval = HL_GCINTERVAL;
	h->cfg.srcmask = h->cfg.dstmask = 0xff;
	h->mult = 1;
	m->u.hl = h;
	return 0;
}

/* A number of decimal digits, whole: 64 bits. */
static bool dec64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

/* "N[/unit]" (packets) or "N[k|m]b/s" (bytes), as libxt_hashlimit's parse_bytes() and
 * parse_rate() at revision 3.  Returns 0, or -EINVAL with the message. */
static int hl_rate(struct rules_xhashlimit *h, struct rules_xarg *a)
{
	const char *s = a->arg, *bs = strstr(s, "b/s");
	char num[24];
	uint64_t r, tmp;
	size_t n;

	if (bs && bs != s && !bs[3]) {
		const char *u = bs - 1;
		uint64_t factor = *u == 'k' ? 1024 : *u == 'm' ? 1024 * 1024 : 1;

		n = (size_t)((factor > 1 ? u : bs) - s);
		if (n == 0 || n >= sizeof(num))
			goto bad;
		memcpy(num, s, n);
		num[n] = '\0';
		if (!dec64(num, &r) || r == 0)
			goto bad;
		tmp = r * factor;
		tmp = nfqct_hashlimit_bytes_to_cost(tmp);
		if (tmp == 0) {
			xerr(a, "rate too high '%s'", s);
			return -EINVAL;
		}
		h->cfg.avg = tmp;
		h->cfg.mode |= NFQCT_HL_BYTES;
		h->mult = HL_BYTE_EXPIRE;
		return 0;
	}
	{
		static const struct { const char *name; uint32_t mult; } units[] = {
			{ "second", 1 }, { "minute", 60 }, { "hour", 3600 }, { "day", 86400 },
		};
		const char *slash = strchr(s, '/');
		size_t i = 0;

		n = slash ? (size_t)(slash - s) : strlen(s);
		if (n == 0 || n >= sizeof(num))
			goto bad;
		memcpy(num, s, n);
		num[n] = '\0';
		if (!dec64(num, &r) || r == 0)
			goto bad;
		h->mult = 1;
		if (slash) {
			size_t ulen = strlen(slash + 1);

			for (i = 0; i < RULES_ARRAY_SIZE(units); i++)
				if (ulen && !strncasecmp(slash + 1, units[i].name, ulen))
					break;
			if (i == RULES_ARRAY_SIZE(units))
				goto bad;
			h->mult = units[i].mult;
		}
		tmp = (uint64_t)NFQCT_HL_SCALE * h->mult / r;
		if (tmp == 0) {
			xerr(a, "rate too fast '%s'", s);
			return -EINVAL;
		}
		h->cfg.avg = tmp;
		h->cfg.mode &= ~(uint32_t)NFQCT_HL_BYTES;
		return 0;
	}
bad:
	xerr(a, "expected a rate 'N/second', 'N/minute', 'N/hour', 'N/day' or 'N[kb|mb]b/s' bytes "
	     "(N from 1), got '%s'", s);
	return -EINVAL;
}

static int hashlimit_parse(struct rules_xmatch *m, struct rules_xarg *a)
{
	struct rules_xhashlimit *h = m->u.hl;
	unsigned int opt = a->opt == XO_HL_OLD ? XO_HL_UPTO : a->opt;
	unsigned long v;
	int rc;

	if (a->family)
		h->family = a->family;
	if (GIVEN(m, opt) || (opt <= XO_HL_ABOVE && (GIVEN(m, XO_HL_UPTO) || GIVEN(m, XO_HL_ABOVE)))) {
		if (GIVEN(m, opt))
			xerr(a, "%s given twice", a->name);
		else
			xerr(a, "only one of --hashlimit-upto or --hashlimit-above");
		a->err_at_opt = true;
		return -EINVAL;
	}
	switch (opt) {
	case XO_HL_UPTO: case XO_HL_ABOVE:
		rc = hl_rate(h, a);
		if (rc)
			return rc;
		/* above is a negated upto, and '!' flips it (libxt_hashlimit) */
		if ((opt == XO_HL_ABOVE) != a->neg)
			h->cfg.mode |= NFQCT_HL_INVERT;
		break;
	case XO_HL_SRCMASK: case XO_HL_DSTMASK:
		if (!rules_parse_dec(a->arg, 128, &v) || (a->family == AF_INET && v > 32)) {
			xerr(a, "expected a prefix length 0..%u, got '%s'", a->family == AF_INET ? 32 : 128, a->arg);
			return -EINVAL;
		}
		if (v > 32 && !xfamily(m, a, AF_INET6))
			return -EINVAL;
		if (opt == XO_HL_SRCMASK)
			h->cfg.srcmask = (uint8_t)v;
		else
			h->cfg.dstmask = (uint8_t)v;
		break;
	case XO_HL_BURST: {
		const char *end = a->arg;
		uint64_t b = 0, factor = 1;

		while (isdigit((unsigned char)*end))
			end++;
		if (end == a->arg || (size_t)(end - a->arg) > 19 || (*end && strcmp(end, "b") &&
		    strcmp(end, "k") && strcmp(end, "kb") && strcmp(end, "m") && strcmp(end, "mb"))) {
			xerr(a, "expected a burst: packets 1..%u, or bytes 'N[kb|mb]', got '%s'", HL_BURST_MAX,
			     a->arg);
			return -EINVAL;
		}
		b = strtoull(a->arg, NULL, 10);
		if (b == 0 || (!*end && b > HL_BURST_MAX)) {
			xerr(a, "expected a burst: packets 1..%u, or bytes 'N[kb|mb]', got '%s'", HL_BURST_MAX,
			     a->arg);
			return -EINVAL;
		}
		factor = *end == 'k' ? 1024 : *end == 'm' ? 1024 * 1024 : 1;
		h->cfg.burst = b * factor;
		break;
	}
	case XO_HL_SIZE: case XO_HL_MAX: case XO_HL_GCINT: case XO_HL_EXPIRE: case XO_HL_INTERVAL:
		if (!rules_parse_dec(a->arg, UINT32_MAX, &v)) {
			xerr(a, "expected a number 0..4294967295, got '%s'", a->arg);
			return -EINVAL;
		}
		if (opt == XO_HL_SIZE)
			h->cfg.size = (uint32_t)v;
		else if (opt == XO_HL_MAX)
			h->cfg.max = (uint32_t)v;
		else if (opt == XO_HL_GCINT)
			h->cfg.gc_interval = (uint32_t)v;
		else if (opt == XO_HL_EXPIRE)
			h->cfg.expire = (uint32_t)v;
		else if (v == 0) {	/* parse_interval(): a positive number */
			xerr(a, "expected a number of seconds 1..4294967295, got '%s'", a->arg);
			return -EINVAL;
		} else
			h->cfg.interval = (uint32_t)v;
		break;
	case XO_HL_MODE: {
		char buf[64], *save = NULL;

		if (strlen(a->arg) >= sizeof(buf))
			goto bad_mode;
		strcpy(buf, a->arg);
		for (char *tok = strtok_r(buf, ",|", &save); tok; tok = strtok_r(NULL, ",|", &save)) {
			if (!strcmp(tok, "dstip"))
				h->cfg.mode |= NFQCT_HL_DIP;
			else if (!strcmp(tok, "srcip"))
				h->cfg.mode |= NFQCT_HL_SIP;
			else if (!strcmp(tok, "srcport"))
				h->cfg.mode |= NFQCT_HL_SPT;
			else if (!strcmp(tok, "dstport"))
				h->cfg.mode |= NFQCT_HL_DPT;
			else
				goto bad_mode;
		}
		break;
bad_mode:
		xerr(a, "expected a comma list of srcip, srcport, dstip, dstport, got '%s'", a->arg);
		return -EINVAL;
	}
	case XO_HL_NAME:
		if (!*a->arg || strlen(a->arg) > NFQCT_HL_NAME_LEN || strchr(a->arg, '/') ||
		    !strcmp(a->arg, ".") || !strcmp(a->arg, "..")) {
			xerr(a, "expected a table name of 1..%u characters without '/', got '%s'",
			     NFQCT_HL_NAME_LEN, a->arg);
			return -EINVAL;
		}
		strcpy(h->name, a->arg);
		break;
	case XO_HL_RATEMATCH:
		h->cfg.mode |= NFQCT_HL_RATE_MATCH;
		break;
	}
	m->given |= (uint16_t)(1u << opt);
	return 0;
}

/* The parameters one family's table gets: the masks resolved. */
static struct nfqct_hashlimit_cfg hl_cfg_for(const struct rules_xhashlimit *h, int family)
{
	struct nfqct_hashlimit_cfg c = h->cfg;
	uint8_t full = family == AF_INET ? 32 : 128;

	if (c.srcmask == 0xff)
		c.srcmask = full;
	if (c.dstmask == 0xff)
		c.dstmask = full;
	return c;
}

static int hashlimit_finish(struct rules_xmatch *m, char *err, size_t errlen)
{
	struct rules_xhashlimit *h = m->u.hl;
	int fam = m->family ? m->family : h->family;

	if (!GIVEN(m, XO_HL_UPTO) && !GIVEN(m, XO_HL_ABOVE)) {
		snprintf(err, errlen, "-m hashlimit needs --hashlimit-upto or --hashlimit-above");
		return -EINVAL;
	}
	if (!GIVEN(m, XO_HL_NAME)) {
		snprintf(err, errlen, "-m hashlimit needs --hashlimit-name");
		return -EINVAL;
	}
	if (h->t[0] || h->t[1])
		return 0;
	/* libxt_hashlimit's final check (revision 3), once */
	if (!GIVEN(m, XO_HL_EXPIRE))
		h->cfg.expire = h->mult * 1000;
	if (h->cfg.mode & NFQCT_HL_BYTES) {
		uint64_t unit = nfqct_hashlimit_cost_to_bytes(h->cfg.avg), burst = 0;

		if (GIVEN(m, XO_HL_BURST)) {
			h->burst_bytes = h->cfg.burst;
			if (h->cfg.burst < unit) {
				snprintf(err, errlen, "-m hashlimit: burst cannot be smaller than %" PRIu64 "b", unit);
				return -EINVAL;
			}
			burst = h->cfg.burst / unit + (h->cfg.burst % unit != 0);
			if (!GIVEN(m, XO_HL_EXPIRE))
				h->cfg.expire = HL_BYTE_EXPIRE_BURST * 1000;
		}
		h->cfg.burst = (uint32_t)burst;	/* 32 bits in libxt_hashlimit */
	} else if (h->cfg.burst > HL_BURST_MAX) {
		snprintf(err, errlen, "-m hashlimit: burst %" PRIu64 " out of range (1-%u packets)",
			 h->cfg.burst, HL_BURST_MAX);
		return -EINVAL;
	}
	if (h->cfg.mode & NFQCT_HL_RATE_MATCH) {
		if (!(h->cfg.mode & NFQCT_HL_BYTES))
			h->cfg.avg /= h->mult;
		if (h->cfg.interval == 0)
			h->cfg.interval = (h->cfg.mode & NFQCT_HL_BYTES) ? 1 : h->mult;
	}	/* without it, --hashlimit-rate-interval is read and ignored, as by iptables */
	for (int i = 0; i < 2; i++) {
		int f = i ? AF_INET6 : AF_INET;
		struct nfqct_hashlimit_cfg c = hl_cfg_for(h, f);
		int rc;

		if (fam && fam != f)
			continue;
		rc = nfqct_hashlimit_check(&c, f);
		if (rc) {
			snprintf(err, errlen, rc == -ERANGE ? "-m hashlimit: rate and burst overflow the "
				 "kernel's credit (burst 0, or a burst too large for that rate)" :
				 "-m hashlimit: parameters the kernel refuses (gcinterval or expire 0, a "
				 "rate too high for byte mode, or a mask too long)");
			return -EINVAL;
		}
		rc = nfqct_hashlimit_get(h->name, f, &c, &h->t[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static bool hashlimit_eval(const struct rules_xmatch *m, const struct rules_xctx *cx)
{
	struct nfqct_hashlimit_table *t = m->u.hl->t[cx->pkt->tuple.family == AF_INET6];
	int r;

	if (!t)
		return false;
	r = nfqct_hashlimit_match(t, cx->pkt, cx->now_ms);
	if (r < 0) {	/* no ports in a later fragment, table full: the kernel's hotdrop */
		*cx->hotdrop = true;
		return false;
	}
	return r;
}

/* libxt_hashlimit's print_rate(): returns the unit's length in ms (the default expire). */
static uint32_t hl_print_rate(FILE *out, uint64_t period)
{
	static const struct { const char *name; uint64_t mult; } rates[] = {
		{ "day", NFQCT_HL_SCALE * 86400ull }, { "hour", NFQCT_HL_SCALE * 3600ull },
		{ "min", NFQCT_HL_SCALE * 60ull }, { "sec", NFQCT_HL_SCALE },
	};
	size_t i;

	if (period == 0) {
		fputs(" inf", out);
		return 0;
	}
	for (i = 1; i < RULES_ARRAY_SIZE(rates); i++)
		if (period > rates[i].mult || rates[i].mult / period < rates[i].mult % period)
			break;
	fprintf(out, " %" PRIu64 "/%s", rates[i - 1].mult / period, rates[i - 1].name);
	return (uint32_t)(rates[i - 1].mult / NFQCT_HL_SCALE * 1000);
}

/* libxt_hashlimit's print_bytes() */
static uint32_t hl_print_bytes(FILE *out, uint64_t avg, uint64_t burst)
{
	static const struct { const char *name; uint64_t thresh; } units[] = {
		{ "m", 1024 * 1024 }, { "k", 1024 }, { "", 1 },
	};
	uint64_t r = nfqct_hashlimit_cost_to_bytes(avg);
	size_t i;

	for (i = 0; i < RULES_ARRAY_SIZE(units) - 1; i++)
		if (r >= units[i].thresh && nfqct_hashlimit_bytes_to_cost(r & ~(units[i].thresh - 1)) == avg)
			break;
	fprintf(out, " %" PRIu64 "%sb/s", r / units[i].thresh, units[i].name);
	if (burst == 0)
		return HL_BYTE_EXPIRE * 1000;
	r *= burst;
	for (i = 0; i < RULES_ARRAY_SIZE(units) - 1; i++)
		if (r >= units[i].thresh)
			break;
	fprintf(out, " --hashlimit-burst %" PRIu64 "%sb", r / units[i].thresh, units[i].name);
	return HL_BYTE_EXPIRE_BURST * 1000;
}

static void hashlimit_print(FILE *out, const struct rules_xmatch *m)
{
	const struct rules_xhashlimit *h = m->u.hl;
	const struct nfqct_hashlimit_cfg *c = &h->cfg;
	uint32_t quantum;

	fputs(c->mode & NFQCT_HL_INVERT ? " --hashlimit-above" : " --hashlimit-upto", out);
	if (c->mode & NFQCT_HL_BYTES) {
		quantum = hl_print_bytes(out, c->avg, c->burst);
	} else {
		quantum = hl_print_rate(out, c->avg);
		fprintf(out, " --hashlimit-burst %" PRIu64, c->burst);
	}
	if (c->mode & (NFQCT_HL_SIP | NFQCT_HL_SPT | NFQCT_HL_DIP | NFQCT_HL_DPT)) {
		const char *sep = " --hashlimit-mode ";

		if (c->mode & NFQCT_HL_SIP) {
			fprintf(out, "%ssrcip", sep);
			sep = ",";
		}
		if (c->mode & NFQCT_HL_SPT) {
			fprintf(out, "%ssrcport", sep);
			sep = ",";
		}
		if (c->mode & NFQCT_HL_DIP) {
			fprintf(out, "%sdstip", sep);
			sep = ",";
		}
		if (c->mode & NFQCT_HL_DPT)
			fprintf(out, "%sdstport", sep);
	}
	fprintf(out, " --hashlimit-name %s", h->name);
	if (c->size)
		fprintf(out, " --hashlimit-htable-size %u", c->size);
	if (c->max)
		fprintf(out, " --hashlimit-htable-max %u", c->max);
	if (c->gc_interval != HL_GCINTERVAL)
		fprintf(out, " --hashlimit-htable-gcinterval %u", c->gc_interval);
	if (c->expire != quantum)
		fprintf(out, " --hashlimit-htable-expire %u", c->expire);
	if (c->srcmask != 0xff)
		fprintf(out, " --hashlimit-srcmask %u", c->srcmask);
	if (c->dstmask != 0xff)
		fprintf(out, " --hashlimit-dstmask %u", c->dstmask);
	if (c->mode & NFQCT_HL_RATE_MATCH) {
		fputs(" --hashlimit-rate-match", out);
		if (c->interval != 1)
			fprintf(out, " --hashlimit-rate-interval %u", c->interval);
	}
}

static void hashlimit_free(struct rules_xmatch *m)
{
	if (!m->u.hl)
		return;
	nfqct_hashlimit_put(m->u.hl->t[0]);
	nfqct_hashlimit_put(m->u.hl->t[1]);
	free(m->u.hl);
	m->u.hl = NULL;
}

/* ---- the kinds ---- */

const struct rules_xkind rules_xkinds[XK_MAX] = {
	[XK_NONE] = { NULL, false, NULL, NULL, NULL, NULL },
	[XK_TCP] = { "tcp", false, tcp_parse, tcp_eval, tcp_print, NULL },
	[XK_MULTIPORT] = { "multiport", false, multiport_parse,  multiport_eval,
			   multiport_print, NULL },
	[XK_CONNTRACK] = { "conntrack", false, conntrack_parse, conntrack_eval, conntrack_print,
			   conntrack_free },
	[XK_LENGTH] = { "length", false, length_parse, length_eval, length_print, NULL },
	[XK_TTL] = { "ttl", false, ttl_parse, ttl_eval, ttl_print, NULL },
	[XK_HL] = { "hl", false, ttl_parse, ttl_eval, ttl_print, NULL },
	[XK_IPRANGE] = { "iprange", false, iprange_parse, iprange_eval, iprange_print, NULL },
	[XK_MAC] = { "mac", false, mac_parse, mac_eval, mac_print, NULL },
	[XK_OWNER] = { "owner", false, owner_parse, owner_eval, owner_print, NULL },
	[XK_PKTTYPE] = { "pkttype", false, pkttype_parse, pkttype_eval, pkttype_print, NULL },
	[XK_FRAG] = { "frag", false, frag_parse, frag_eval, frag_print, NULL },
	[XK_RT] = { "rt", false, rt_parse, rt_eval, rt_print, rt_free },
	[XK_DEVGROUP] = { "devgroup", false, devgroup_parse, devgroup_eval, devgroup_print, NULL },
	[XK_ADDRTYPE] = { "addrtype", false, addrtype_parse, addrtype_eval, addrtype_print, NULL },
	[XK_IPV6HEADER] = { "ipv6header", false, ipv6header_parse, ipv6header_eval, ipv6header_print, NULL },
	[XK_LIMIT] = { "limit", true, limit_parse, limit_eval, limit_print, limit_free, limit_init,
		       limit_finish },
	[XK_CONNLIMIT] = { "connlimit", true, connlimit_parse, connlimit_eval, connlimit_print, connlimit_free,
			   connlimit_init, connlimit_finish },
	[XK_HASHLIMIT] = { "hashlimit", true, hashlimit_parse, hashlimit_eval, hashlimit_print, hashlimit_free,
			   hashlimit_init, hashlimit_finish },
	/* printed by rules.c (its -m tcp, -m state, ... forms) */
	[XK_CORE] = { NULL, false, NULL, rules_core_eval, NULL, NULL },
	[XK_CONNMARK] = { "connmark", false, connmark_parse, connmark_eval, connmark_print, NULL },
	[XK_RECENT] = { "recent", true, recent_parse, recent_eval, recent_print, recent_free, recent_init,
			recent_finish },
	[XK_SET] = { "set", true, set_parse, set_eval, set_print, set_free, set_init, set_finish },
	[XK_RPFILTER] = { "rpfilter", false, rpfilter_parse, rpfilter_eval, rpfilter_print, NULL,
			  rpfilter_init },
};

void rules_xmatch_free(struct rules_xmatch *m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (rules_xkinds[m[i].kind].free)
			rules_xkinds[m[i].kind].free(&m[i]);
}

bool rules_xmatch_same(const struct rules_xmatch *a, const struct rules_xmatch *b)
{
	struct rules_xmatch x = *a, y = *b;

	if (a->kind != b->kind)
		return false;
	/* the kinds that point elsewhere compare what they point at; the rest are
	 * zeroed before they are filled, so they compare bytewise */
	if (a->kind == XK_CONNTRACK) {
		if (memcmp(a->u.ct, b->u.ct, sizeof(*a->u.ct)))
			return false;
		x.u.ct = y.u.ct = NULL;
	} else if (a->kind == XK_RT) {
		if (a->u.rt.naddrs != b->u.rt.naddrs ||
		    (a->u.rt.naddrs && memcmp(a->u.rt.addrs, b->u.rt.addrs, a->u.rt.naddrs * sizeof(*a->u.rt.addrs))))
			return false;
		x.u.rt.addrs = y.u.rt.addrs = NULL;
	} else if (a->kind == XK_RECENT) {
		const struct rules_xrecent *p = a->u.rec, *q = b->u.rec;

		if (memcmp(&p->info, &q->info, sizeof(p->info)) || p->dest != q->dest ||
		    strcmp(p->name, q->name) || memcmp(&p->mask, &q->mask, sizeof(p->mask)))
			return false;
		x.u.rec = y.u.rec = NULL;
	} else if (a->kind == XK_SET) {
		struct rules_xset p = *a->u.set, q = *b->u.set;

		p.s = q.s = NULL;
		if (memcmp(&p, &q, sizeof(p)))
			return false;
		x.u.set = y.u.set = NULL;
	} else if (a->kind == XK_HASHLIMIT) {
		const struct rules_xhashlimit *p = a->u.hl, *q = b->u.hl;

		if (memcmp(&p->cfg, &q->cfg, sizeof(p->cfg)) || strcmp(p->name, q->name))
			return false;
		x.u.hl = y.u.hl = NULL;
	} else if (a->kind == XK_CONNLIMIT) {
		x.u.cl.cl = y.u.cl.cl = NULL;
	} else if (a->kind == XK_LIMIT) {
		x.u.lim.st = y.u.lim.st = NULL;	/* the state is not the rule */
	}
	return !memcmp(&x, &y, sizeof(x));
}
