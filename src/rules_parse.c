/*
 * rules_parse.c - the ruleset reader: a subset of iptables-restore syntax
 * (nfqct.rules(5)) compiled into struct nfqct_ruleset (rules_int.h).
 *
 * The reader keeps going after an error, like relayd's parse.y: every
 * error becomes a record "file:line:column: error: message", all of them
 * are printed (sorted by position) and the file is refused.  Nothing it
 * does not know is skipped silently.  Checks that need the whole table
 * (jump targets, loops, nesting depth, -i/-o in chains reached from hooks
 * without such an interface) run at the table's COMMIT.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/ct.h"
#include "nfqct/errrec.h"
#include "nfqct/helper.h"
#include "nfqct/ipset.h"
#include "nfqct/logfmt.h"
#include "nfqct/reject.h"
#include "nfqct/rules.h"
#include "rules_int.h"

/* A record: an error (the file is refused) or a note (it loads; the reader should know). */
struct perr {
	unsigned int line;
	unsigned int col;
	unsigned int seq;
	enum nfqct_errrec_severity sev;
	char *msg;
};

struct tok {
	char *s;		/* unquoted text, NUL-terminated */
	unsigned int col;	/* 1-based column of its first character */
};

/* A rule while its table is open: chain and jump by name until COMMIT. */
struct prule {
	unsigned int chain;
	struct rules_rule r;
	struct rules_info info;
	char *jump;		/* -j CHAIN, resolved at COMMIT */
	unsigned int jump_col;
	unsigned int in_col;	/* columns of -i / -o, for the hook checks */
	unsigned int out_col;
	struct rules_xmatch *xm;	/* extension matches, in the order written */
	unsigned int nxm;
	unsigned int xhooks;	/* hooks its extension matches allow (1 << NFQCT_HOOK_*), 0: any */
	unsigned int xhooks_col;
	const char *xhooks_what;	/* "-m mac", for the error */
};

struct pchain {
	struct rules_chain c;
	unsigned int line;	/* where declared, 0 for an undeclared built-in */
	unsigned int hooks;	/* iptables hooks it is reached from (1 << NFQCT_HOOK_*) */
	int state;		/* DFS: 0 new, 1 on the stack, 2 done */
	unsigned int pos;	/* its place on the DFS stack while state is 1 */
	unsigned int height;	/* longest run of jumps below it */
};

struct ptable {
	bool seen;
	bool committed;
	unsigned int line;
	struct pchain *chains;
	unsigned int nchains;
	unsigned int chains_cap;
	unsigned int *index;	/* open-addressing hash of chain names: chain + 1, 0 free */
	unsigned int index_cap;	/* a power of two, at least twice nchains */
	struct prule *rules;
	unsigned int nrules;
	unsigned int rules_cap;
};

struct parser {
	const char *name;
	unsigned int line;
	int family;		/* AF_INET / AF_INET6: a one-family file (--rules-v4/-v6), else 0 */
	struct perr *recs;	/* errors and notes, in the order found */
	unsigned int nrecs;
	unsigned int recs_cap;
	unsigned int nerrs;	/* how many of them are errors */
	int cur;		/* open table, or -1 none, or -2 skipping an unknown one */
	struct {
		char name[16];	/* nat, mangle or security: left to the kernel */
		unsigned int line;
		unsigned int rules;
	} kernel_table;
	struct ptable pt[RULES_T_MAX];
	bool oom;
};

#define CUR_NONE (-1)
#define CUR_SKIP (-2)

/* Built-in chains per table, in print order, with their iptables hook. */
struct builtin {
	const char *name;
	uint8_t hook;
};
static const struct builtin raw_builtins[] = {
	{ "PREROUTING", NFQCT_HOOK_PREROUTING },
	{ "OUTPUT", NFQCT_HOOK_OUTPUT },
};
static const struct builtin filter_builtins[] = {
	{ "INPUT", NFQCT_HOOK_INPUT },
	{ "FORWARD", NFQCT_HOOK_FORWARD },
	{ "OUTPUT", NFQCT_HOOK_OUTPUT },
};
static const struct {
	const struct builtin *b;
	unsigned int n;
	const char *expected;
} builtins[RULES_T_MAX] = {
	{ raw_builtins, 2, "PREROUTING or OUTPUT" },
	{ filter_builtins, 3, "INPUT, FORWARD or OUTPUT" },
};
static const char *const hook_names[NFQCT_HOOK_MAX] = {
	"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING",
};

/* ---- error records ---- */

static void __attribute__((format(printf, 4, 0)))
precord(struct parser *p, enum nfqct_errrec_severity sev, unsigned int col, const char *fmt,
	va_list ap)
{
	struct perr *e;
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0) {
		p->oom = true;
		return;
	}
	if (p->nrecs == p->recs_cap) {
		unsigned int cap = p->recs_cap ? 2 * p->recs_cap : 16;
		struct perr *n = realloc(p->recs, cap * sizeof(*n));

		if (!n) {
			free(msg);
			p->oom = true;
			return;
		}
		p->recs = n;
		p->recs_cap = cap;
	}
	e = &p->recs[p->nrecs];
	e->line = p->line;
	e->col = col;
	e->seq = p->nrecs++;
	e->sev = sev;
	e->msg = msg;
	if (sev == NFQCT_ERRREC_ERROR)
		p->nerrs++;
}

static void __attribute__((format(printf, 3, 4)))
perror_at(struct parser *p, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	precord(p, NFQCT_ERRREC_ERROR, col, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
pnote_at(struct parser *p, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	precord(p, NFQCT_ERRREC_NOTE, col, fmt, ap);
	va_end(ap);
}

static int perr_cmp(const void *a, const void *b)
{
	const struct perr *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- tokens ---- */

/*
 * Split @line into tokens.  Double quotes group words ("a b"); inside them
 * \" and \\ stand for " and \.  Returns the number of tokens, or -1 after
 * reporting an unterminated quote.  Token text is written into @buf.
 */
static int tokenize(struct parser *p, const char *line, char *buf, struct tok *toks, int max)
{
	const char *s = line;
	char *o = buf;
	int n = 0;

	for (;;) {
		unsigned int qcol = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (n == max) {
			perror_at(p, (unsigned int)(s - line) + 1, "too many words on one line (at most %d)", max);
			return -1;
		}
		toks[n].s = o;
		toks[n].col = (unsigned int)(s - line) + 1;
		while (*s && (qcol || (*s != ' ' && *s != '\t'))) {
			if (*s == '"') {
				qcol = qcol ? 0 : (unsigned int)(s - line) + 1;
				s++;
			} else if (qcol && *s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '\'')) {
				*o++ = s[1];
				s += 2;
			} else {
				*o++ = *s++;
			}
		}
		if (qcol) {
			perror_at(p, qcol, "unterminated quoted string");
			return -1;
		}
		*o++ = '\0';
		n++;
	}
	return n;
}

/* ---- value parsers ---- */

bool rules_parse_u32(const char *s, uint32_t *v)
{
	unsigned long long x;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

bool rules_parse_dec(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		x = x * 10 + (unsigned long)(*s - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

bool rules_parse_valmask(const char *s, uint32_t *val, uint32_t *mask)
{
	char buf[64];
	char *slash;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	*mask = UINT32_MAX;
	if (slash) {
		*slash = '\0';
		if (!rules_parse_u32(slash + 1, mask))
			return false;
	}
	return rules_parse_u32(buf, val);
}

/* Address or CIDR (IPv4 may also give a dotted contiguous mask).  Returns
 * the family, 0 for a bad string; *plen the prefix; addr/mask masked. */
static int parse_cidr(const char *s, uint64_t addr[2], uint64_t mask[2], uint8_t *plen)
{
	uint8_t a[16] = { 0 }, m[16] = { 0 };
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned long bits;
	char *slash;
	int family, max, i;

	if (strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, buf, a) != 1)
		return 0;
	max = family == AF_INET ? 32 : 128;
	bits = (unsigned long)max;
	if (slash && !rules_parse_dec(slash, (unsigned long)max, &bits)) {
		uint8_t dm[4];
		uint32_t v, inv;

		if (family != AF_INET || inet_pton(AF_INET, slash, dm) != 1)
			return 0;
		v = (uint32_t)dm[0] << 24 | (uint32_t)dm[1] << 16 | (uint32_t)dm[2] << 8 | dm[3];
		inv = ~v;
		if (inv & (inv + 1))	/* not of the form 1...10...0 */
			return 0;
		for (bits = 0; v; v <<= 1)
			bits++;
	}
	for (i = 0; i < max / 8; i++) {
		unsigned long left = bits > (unsigned long)i * 8 ? bits - (unsigned long)i * 8 : 0;

		m[i] = left >= 8 ? 0xff : (uint8_t)(0xff << (8 - left));
		a[i] &= m[i];
	}
	memcpy(addr, a, 16);
	memcpy(mask, m, 16);
	*plen = (uint8_t)bits;
	return family;
}

/* Returns 1 and *proto, 0 for "all" (no test), -1 for a bad name. */
static int parse_proto(const char *s, uint8_t *proto)
{
	unsigned long v;

	if (!strcasecmp(s, "all"))
		return 0;
	for (size_t i = 0; i < RULES_ARRAY_SIZE(rules_protos); i++)
		if (!strcasecmp(s, rules_protos[i].name)) {
			*proto = rules_protos[i].value;
			return 1;
		}
	if (!rules_parse_dec(s, 255, &v))
		return isdigit((unsigned char)*s) || rules_proto_number(s, proto) || !*proto ? -1 : 1;
	if (v == 0)
		return 0;
	*proto = (uint8_t)v;
	return 1;
}

/* Comma list of state names -> mask; on error *bad points at the bad name. */
static bool parse_ctstates(const char *s, uint8_t *mask, char *bad, size_t badlen)
{
	*mask = 0;
	bad[0] = '\0';
	for (;;) {
		size_t n = strcspn(s, ",");
		bool found = false;

		for (size_t i = 0; i < RULES_ARRAY_SIZE(rules_ctstates); i++)
			if (strlen(rules_ctstates[i].name) == n && !strncasecmp(s, rules_ctstates[i].name, n)) {
				*mask |= rules_ctstates[i].value;
				found = true;
			}
		if (!found) {
			snprintf(bad, badlen, "%.*s", (int)n, s);
			return false;
		}
		if (!s[n])
			return true;
		s += n + 1;
	}
}

/* "type[/code]", a number or a name as iptables and ip6tables know them
 * (an unambiguous prefix will do, as there); "any" matches every ICMP type. */
static const struct icmp_name {
	const char *name;
	uint8_t type;
	int code;	/* -1: any code */
} icmp4_names[] = {
	{ "any", 255, -1 },
	{ "echo-reply", 0, -1 }, { "pong", 0, -1 },
	{ "destination-unreachable", 3, -1 },
	{ "network-unreachable", 3, 0 }, { "host-unreachable", 3, 1 },
	{ "protocol-unreachable", 3, 2 }, { "port-unreachable", 3, 3 },
	{ "fragmentation-needed", 3, 4 }, { "source-route-failed", 3, 5 },
	{ "network-unknown", 3, 6 }, { "host-unknown", 3, 7 },
	{ "network-prohibited", 3, 9 }, { "host-prohibited", 3, 10 },
	{ "TOS-network-unreachable", 3, 11 }, { "TOS-host-unreachable", 3, 12 },
	{ "communication-prohibited", 3, 13 }, { "host-precedence-violation", 3, 14 },
	{ "precedence-cutoff", 3, 15 },
	{ "source-quench", 4, -1 },
	{ "redirect", 5, -1 },
	{ "network-redirect", 5, 0 }, { "host-redirect", 5, 1 },
	{ "TOS-network-redirect", 5, 2 }, { "TOS-host-redirect", 5, 3 },
	{ "echo-request", 8, -1 }, { "ping", 8, -1 },
	{ "router-advertisement", 9, -1 }, { "router-solicitation", 10, -1 },
	{ "time-exceeded", 11, -1 }, { "ttl-exceeded", 11, -1 },
	{ "ttl-zero-during-transit", 11, 0 }, { "ttl-zero-during-reassembly", 11, 1 },
	{ "parameter-problem", 12, -1 },
	{ "ip-header-bad", 12, 0 }, { "required-option-missing", 12, 1 },
	{ "timestamp-request", 13, -1 }, { "timestamp-reply", 14, -1 },
	{ "address-mask-request", 17, -1 }, { "address-mask-reply", 18, -1 },
}, icmp6_names[] = {
	{ "destination-unreachable", 1, -1 },
	{ "no-route", 1, 0 }, { "communication-prohibited", 1, 1 }, { "beyond-scope", 1, 2 },
	{ "address-unreachable", 1, 3 }, { "port-unreachable", 1, 4 }, { "failed-policy", 1, 5 },
	{ "reject-route", 1, 6 },
	{ "packet-too-big", 2, -1 },
	{ "time-exceeded", 3, -1 }, { "ttl-exceeded", 3, -1 },
	{ "ttl-zero-during-transit", 3, 0 }, { "ttl-zero-during-reassembly", 3, 1 },
	{ "parameter-problem", 4, -1 },
	{ "bad-header", 4, 0 }, { "unknown-header-type", 4, 1 }, { "unknown-option", 4, 2 },
	{ "echo-request", 128, -1 }, { "ping", 128, -1 },
	{ "echo-reply", 129, -1 }, { "pong", 129, -1 },
	{ "router-solicitation", 133, -1 }, { "router-advertisement", 134, -1 },
	{ "neighbour-solicitation", 135, -1 }, { "neighbor-solicitation", 135, -1 },
	{ "neighbour-advertisement", 136, -1 }, { "neighbor-advertisement", 136, -1 },
	{ "redirect", 137, -1 },
};

/* 1: parsed; 0: not a name nor a number; -1: a prefix of several names. */
static int parse_icmp(const char *s, int family, struct rules_rule *r)
{
	const struct icmp_name *t = family == AF_INET ? icmp4_names : icmp6_names;
	size_t n = family == AF_INET ? RULES_ARRAY_SIZE(icmp4_names) : RULES_ARRAY_SIZE(icmp6_names);
	const struct icmp_name *hit = NULL;
	unsigned long ty, c;
	unsigned int nhit = 0;
	char buf[32];
	char *slash;

	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(s, t[i].name)) {
			hit = &t[i];
			nhit = 1;
			break;
		}
		if (!strncasecmp(s, t[i].name, strlen(s)) && (!hit || hit->type != t[i].type ||
							     hit->code != t[i].code)) {
			hit = &t[i];
			nhit++;
		}
	}
	if (nhit > 1)
		return -1;
	if (hit && *s && !isdigit((unsigned char)*s)) {
		r->icmp_any = hit->type == 255 && hit->code < 0;
		r->icmp_type = r->icmp_any ? 0 : hit->type;
		r->icmp_code[0] = hit->code < 0 ? 0 : (uint8_t)hit->code;
		r->icmp_code[1] = hit->code < 0 ? 255 : (uint8_t)hit->code;
		return 1;
	}
	if (strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (!rules_parse_dec(buf, 255, &ty))
		return 0;
	r->icmp_type = (uint8_t)ty;
	r->icmp_code[0] = 0;
	r->icmp_code[1] = 255;
	if (slash) {
		if (!rules_parse_dec(slash, 255, &c))
			return 0;
		r->icmp_code[0] = r->icmp_code[1] = (uint8_t)c;
	}
	return 1;
}

/* The names of one family's ICMP types, for the error. */
static void icmp_name_list(char *buf, size_t len, int family)
{
	const struct icmp_name *t = family == AF_INET ? icmp4_names : icmp6_names;
	size_t n = family == AF_INET ? RULES_ARRAY_SIZE(icmp4_names) : RULES_ARRAY_SIZE(icmp6_names);
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", t[i].name);
}

/* Interface name: at most IFNAMSIZ-1 bytes; a final '+' matches any suffix. */
static bool parse_iface(const char *s, char out[IFNAMSIZ], uint64_t name[2], uint64_t mask[2])
{
	uint8_t n[16] = { 0 }, m[16] = { 0 };
	size_t len = strlen(s), cmp;

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || isspace((unsigned char)s[i]) || (s[i] == '+' && i != len - 1))
			return false;
	memset(out, 0, IFNAMSIZ);
	memcpy(out, s, len);
	if (s[len - 1] == '+')
		cmp = len - 1;		/* the prefix only */
	else
		cmp = len + 1;		/* the name and its NUL */
	memcpy(n, s, cmp < len ? cmp : len);
	memset(m, 0xff, cmp);
	memcpy(name, n, 16);
	memcpy(mask, m, 16);
	return true;
}

/* ---- extensions: the matches and targets a rule can name ---- */

/* Options a rule may give once each (for "given twice"). */
enum opt_seen {
	OS_PROTO = 1 << 0, OS_SRC = 1 << 1, OS_DST = 1 << 2, OS_SPORT = 1 << 3,
	OS_DPORT = 1 << 4, OS_ICMP = 1 << 5, OS_IN = 1 << 6, OS_OUT = 1 << 7,
	OS_CTSTATE = 1 << 8, OS_MARK = 1 << 9, OS_COMMENT = 1 << 10, OS_FAMILY = 1 << 11,
	OS_JUMP = 1 << 12, OS_TOPT = 1 << 13, OS_ZONE = 1 << 14, OS_NOTRACK = 1 << 15,
};

static bool is_icmp(uint8_t p)
{
	return p == IPPROTO_ICMP;
}

static bool is_icmp6(uint8_t p)
{
	return p == IPPROTO_ICMPV6;
}

/*
 * Matches, as -m names them.  A match's options are known only after its
 * -m or, for protocol matches, after a -p that implies it.  M_PORTS is
 * named by the port protocols themselves (-m tcp, -m udp, ...).
 */
static bool is_tcp(uint8_t p)
{
	return p == IPPROTO_TCP;
}

enum match_id { M_NONE, M_PORTS, M_ICMP, M_ICMP6, M_CONNTRACK, M_STATE, M_MARK, M_COMMENT, M_HELPER,
		M_TCP, M_MULTIPORT, M_LENGTH, M_TTL, M_HL, M_IPRANGE, M_MAC, M_OWNER, M_PKTTYPE,
		M_FRAG, M_RT, M_IPV6HEADER, M_ADDRTYPE, M_DEVGROUP, M_LIMIT, M_RECENT, M_CONNMARK, M_CONNLIMIT, M_HASHLIMIT, M_SET, M_RPFILTER,
		M_MAX };
_Static_assert(M_MAX <= 32, "struct rctx's mods and used are 32-bit masks");

static const struct match_def {
	const char *name;		/* -m NAME */
	const char *alias;		/* another -m NAME, or NULL */
	bool (*implied)(uint8_t proto);	/* a -p that brings it in too, or NULL */
	const char *implied_by;		/* that -p, for error messages */
	const char *needs;		/* the option it cannot do without, or NULL */
	uint8_t xkind;			/* enum rules_xkind_id of its extension options, or XK_NONE */
} matches[M_MAX] = {
	[M_PORTS] = { NULL, NULL, rules_is_port_proto, "-p tcp, udp, udplite, sctp or dccp", NULL },
	[M_ICMP] = { "icmp", NULL, is_icmp, "-p icmp", NULL },
	[M_ICMP6] = { "icmp6", "icmpv6", is_icmp6, "-p icmpv6", NULL },
	[M_CONNTRACK] = { "conntrack", NULL, NULL, NULL, "--ctstate or another --ct option", XK_CONNTRACK },
	[M_STATE] = { "state", NULL, NULL, NULL, "--state" },
	[M_MARK] = { "mark", NULL, NULL, NULL, "--mark" },
	[M_COMMENT] = { "comment", NULL, NULL, NULL, "--comment" },
	[M_HELPER] = { "helper", NULL, NULL, NULL, "--helper" },
	/* -m tcp brings M_PORTS and M_TCP in (opt_match) */
	[M_TCP] = { NULL, NULL, is_tcp, "-p tcp", NULL, XK_TCP },
	[M_MULTIPORT] = { "multiport", NULL, NULL, NULL, "--sports, --dports or --ports", XK_MULTIPORT },
	[M_LENGTH] = { "length", NULL, NULL, NULL, "--length", XK_LENGTH },
	[M_TTL] = { "ttl", NULL, NULL, NULL, "--ttl-eq, --ttl-lt or --ttl-gt", XK_TTL },
	[M_HL] = { "hl", NULL, NULL, NULL, "--hl-eq, --hl-lt or --hl-gt", XK_HL },
	[M_IPRANGE] = { "iprange", NULL, NULL, NULL, "--src-range or --dst-range", XK_IPRANGE },
	[M_MAC] = { "mac", NULL, NULL, NULL, "--mac-source", XK_MAC },
	[M_OWNER] = { "owner", NULL, NULL, NULL, "--uid-owner, --gid-owner or --socket-exists", XK_OWNER },
	[M_PKTTYPE] = { "pkttype", NULL, NULL, NULL, "--pkt-type", XK_PKTTYPE },
	[M_FRAG] = { "frag", NULL, NULL, NULL, "one of its options", XK_FRAG },
	[M_RT] = { "rt", NULL, NULL, NULL, "one of its options", XK_RT },
	[M_IPV6HEADER] = { "ipv6header", NULL, NULL, NULL, "--header", XK_IPV6HEADER },
	[M_ADDRTYPE] = { "addrtype", NULL, NULL, NULL, "--src-type or --dst-type", XK_ADDRTYPE },
	[M_DEVGROUP] = { "devgroup", NULL, NULL, NULL, "--src-group or --dst-group", XK_DEVGROUP },
	[M_LIMIT] = { "limit", NULL, NULL, NULL, NULL, XK_LIMIT },	/* defaults: 3/hour, burst 5 */
	/* its "needs" (a command) is checked by the kind's finish */
	[M_RECENT] = { "recent", NULL, NULL, NULL, NULL, XK_RECENT },
	[M_CONNMARK] = { "connmark", NULL, NULL, NULL, "--mark", XK_CONNMARK },
	/* its "needs" is checked by the kind's finish */
	[M_CONNLIMIT] = { "connlimit", NULL, NULL, NULL, NULL, XK_CONNLIMIT },
	[M_HASHLIMIT] = { "hashlimit", NULL, NULL, NULL, NULL, XK_HASHLIMIT },
	/* its "needs" (--match-set) is checked by the kind's finish */
	[M_SET] = { "set", NULL, NULL, NULL, NULL, XK_SET },
	/* no option needed: a bare -m rpfilter is the strict check */
	[M_RPFILTER] = { "rpfilter", NULL, NULL, NULL, NULL, XK_RPFILTER },
};

/* iptables matches nfqct does not implement, and why: refused by name. */
static const struct { const char *name, *why; } unsupported_matches[] = {
	{ "string", "payload matching is not implemented" },
	{ "physdev", "bridge ports are not in the queued packet" },
	{ "socket", "socket lookups live in the kernel" },
	{ "policy", "IPsec policies live in the kernel" },
};

/* Targets, as -j names them; any other name is a user chain (or unsupported). */
enum target_id { T_NONE, T_ACCEPT, T_DROP, T_RETURN, T_MARK, T_NOTRACK, T_CT, T_REJECT, T_LOG, T_CONNMARK, T_SET,
		 T_FLOWOFFLOAD, T_MAX };

static const struct target_def {
	const char *name;
	uint8_t rt;			/* enum rules_target */
	bool raw_only;
	unsigned int needs;		/* OS_* bit one of its options must set, or 0 */
	bool filter_only;
} targets[T_MAX] = {
	[T_ACCEPT] = { "ACCEPT", RT_ACCEPT, false, 0 },
	[T_DROP] = { "DROP", RT_DROP, false, 0 },
	[T_RETURN] = { "RETURN", RT_RETURN, false, 0 },
	[T_MARK] = { "MARK", RT_MARK, false, OS_TOPT },
	[T_NOTRACK] = { "NOTRACK", RT_NOTRACK, true, 0 },
	[T_CT] = { "CT", RT_CT, true, 0 },
	[T_REJECT] = { "REJECT", RT_REJECT, false, 0, true },
	[T_LOG] = { "LOG", RT_LOG, false, 0 },
	[T_CONNMARK] = { "CONNMARK", RT_CONNMARK_SET, false, OS_TOPT },
	[T_SET] = { "SET", RT_SET, false, OS_TOPT },
	[T_FLOWOFFLOAD] = { "FLOWOFFLOAD", RT_FLOWOFFLOAD, false, 0, true },
};

/* iptables targets nfqct does not implement, and why: refused by name, and not chain names. */
static const struct {
	const char *name;
	const char *why;
} unsupported_targets[] = {
	{ "NFLOG", "nfqct logs with -j LOG to syslog; NFLOG groups are not supported" },
	{ "ULOG", "nfqct logs with -j LOG to syslog; ULOG is gone from the kernel too" },
	{ "QUEUE", "nfqctd reads the queue itself: packets cannot be queued again" },
	{ "NFQUEUE", "nfqctd reads the queue itself: packets cannot be queued again" },
	{ "SNAT", "a nat-table target: NAT is left to the kernel's nat table" },
	{ "DNAT", "a nat-table target: NAT is left to the kernel's nat table" },
	{ "MASQUERADE", "a nat-table target: NAT is left to the kernel's nat table" },
	{ "REDIRECT", "a nat-table target: NAT is left to the kernel's nat table" },
	{ "NETMAP", "a nat-table target: NAT is left to the kernel's nat table" },
	{ "TCPMSS", "it rewrites packets (mangle table): leave it in the kernel's mangle table" },
	{ "DSCP", "it rewrites packets (mangle table): leave it in the kernel's mangle table" },
	{ "TOS", "it rewrites packets (mangle table): leave it in the kernel's mangle table" },
	{ "TTL", "it rewrites packets (mangle table): leave it in the kernel's mangle table" },
	{ "HL", "it rewrites packets (mangle table): leave it in the kernel's mangle table" },
	{ "ECN", "it rewrites packets (mangle table): leave it in the kernel's mangle table" },
	{ "CHECKSUM", "it rewrites packets (mangle table): leave it in the kernel's mangle table" },
	{ "CLASSIFY", "it sets kernel packet metadata (mangle table): leave it in the kernel" },
	{ "SECMARK", "it sets kernel security labels: leave it in the kernel's security table" },
	{ "CONNSECMARK", "it sets kernel security labels: leave it in the kernel's security table" },
	{ "TPROXY", "it diverts packets to a local socket (mangle table): leave it in the kernel" },
	{ "TEE", "it clones packets to another gateway: leave it in the kernel's mangle table" },
	{ "SYNPROXY", "the kernel answers the handshakes itself: leave it in the kernel's tables" },
	{ "TRACE", "a kernel debugging target: `nfqct simulate` shows which rule decides" },
	{ "AUDIT", "nfqct writes no audit records" },
	{ "LED", "it drives kernel objects: leave it in the kernel" },
	{ "IDLETIMER", "it drives kernel objects: leave it in the kernel" },
	{ "RATEEST", "it drives kernel objects: leave it in the kernel" },
};

static int find_target(const char *name)
{
	for (int i = T_NONE + 1; i < T_MAX; i++)
		if (!strcmp(name, targets[i].name))
			return i;
	return T_NONE;
}

/* Why target @name is not supported, or NULL when it is not a known iptables target. */
static const char *unsupported_target(const char *name)
{
	for (size_t i = 0; i < RULES_ARRAY_SIZE(unsupported_targets); i++)
		if (!strcmp(name, unsupported_targets[i].name))
			return unsupported_targets[i].why;
	return NULL;
}

/* Append @s to the list in @buf ("a, b"); the list is cut if @buf is short. */
static void list_add(char *buf, size_t len, const char *s)
{
	size_t off = strlen(buf);

	snprintf(buf + off, len - off, "%s%s", off ? ", " : "", s);
}

/* ---- tables and chains ---- */

_Thread_local unsigned long rules_parse_steps;

/* FNV-1a: chain names are short and chosen by the operator, not by packets. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* The chain named @name, or -1.  Expected O(1): the index is at most half full. */
static int find_chain(const struct ptable *t, const char *name)
{
	if (!t->index_cap)
		return -1;
	for (uint32_t i = name_hash(name);; i++) {
		unsigned int slot = t->index[i & (t->index_cap - 1)];

		if (!slot)
			return -1;
		rules_parse_steps++;
		if (!strcmp(t->chains[slot - 1].c.name, name))
			return (int)slot - 1;
	}
}

static void index_put(struct ptable *t, unsigned int c)
{
	uint32_t i = name_hash(t->chains[c].c.name);

	while (t->index[i & (t->index_cap - 1)])
		i++;
	t->index[i & (t->index_cap - 1)] = c + 1;
}

/* Room for one more chain in the array and the index (both grow by doubling). */
static int chains_reserve(struct ptable *t)
{
	if (t->nchains == t->chains_cap) {
		unsigned int cap = t->chains_cap ? 2 * t->chains_cap : 8;
		struct pchain *n = realloc(t->chains, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->chains = n;
		t->chains_cap = cap;
	}
	if (2 * (t->nchains + 1) > t->index_cap) {
		unsigned int cap = t->index_cap ? 2 * t->index_cap : 16;
		unsigned int *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		free(t->index);
		t->index = n;
		t->index_cap = cap;
		for (unsigned int c = 0; c < t->nchains; c++)
			index_put(t, c);
	}
	return 0;
}

static bool is_hook_name(const char *name)
{
	for (int h = 0; h < NFQCT_HOOK_MAX; h++)
		if (!strcmp(name, hook_names[h]))
			return true;
	return false;
}

static int add_chain(struct parser *p, struct ptable *t, const char *name, bool builtin)
{
	struct pchain *n;

	if (chains_reserve(t)) {
		p->oom = true;
		return -1;
	}
	n = &t->chains[t->nchains];
	memset(n, 0, sizeof(*n));
	snprintf(n->c.name, sizeof(n->c.name), "%s", name);
	n->c.builtin = builtin;
	n->c.policy = RT_ACCEPT;
	index_put(t, t->nchains);
	return (int)t->nchains++;
}

static void table_open(struct parser *p, int id)
{
	struct ptable *t = &p->pt[id];

	t->seen = true;
	t->line = p->line;
	for (unsigned int i = 0; i < builtins[id].n; i++) {
		int c = add_chain(p, t, builtins[id].b[i].name, true);

		if (c >= 0)
			t->chains[c].hooks = 1u << builtins[id].b[i].hook;
	}
}

/*
 * A user chain name as iptables allows it (at most 28 characters, not
 * starting with '-' or '!', not a target, no white space); reports and
 * returns false otherwise.  '"' and '\\' are allowed: the printer quotes.
 */
static bool check_user_chain_name(struct parser *p, int id, const struct tok *tk)
{
	if (!tk->s[0]) {
		perror_at(p, tk->col, "expected a chain name");
		return false;
	}
	if (is_hook_name(tk->s)) {
		perror_at(p, tk->col, "chain '%s' is not a built-in chain of table '%s': expected %s",
			  tk->s, rules_table_name[id], builtins[id].expected);
		return false;
	}
	if (strlen(tk->s) >= RULES_CHAIN_NAMELEN) {
		perror_at(p, tk->col, "chain name '%s' is longer than %d characters", tk->s,
			  RULES_CHAIN_NAMELEN - 1);
		return false;
	}
	if (tk->s[0] == '-' || tk->s[0] == '!' ||
	    find_target(tk->s) != T_NONE || unsupported_target(tk->s)) {
		perror_at(p, tk->col, "'%s' cannot be a chain name", tk->s);
		return false;
	}
	/* iptables refuses white space (isspace) in chain names; a quoted name could carry it. */
	for (const char *c = tk->s; *c; c++)
		if (isspace((unsigned char)*c)) {
			perror_at(p, tk->col, "a chain name cannot contain white space (a blank, tab or "
				  "carriage return), as in iptables");
			return false;
		}
	return true;
}

static bool is_counters(const char *s)
{
	unsigned long long a, b;
	int n = 0;

	return sscanf(s, "[%llu:%llu]%n", &a, &b, &n) == 2 && n > 0 && !s[n] && isdigit((unsigned char)s[1]);
}

/* ":NAME POLICY [packets:bytes]" */
static void parse_chain_line(struct parser *p, struct tok *tk, int n)
{
	struct ptable *t = &p->pt[p->cur];
	struct tok name = { tk[0].s + 1, tk[0].col + 1 };
	int c;

	if (!name.s[0]) {
		perror_at(p, tk[0].col, "expected a chain name after ':'");
		return;
	}
	c = find_chain(t, name.s);
	if (c >= 0 && t->chains[c].line) {
		perror_at(p, name.col, "chain '%s' declared twice (first at line %u)", name.s,
			  t->chains[c].line);
		return;
	}
	if (n < 2) {
		perror_at(p, tk[0].col, "expected a policy after '%s'", tk[0].s);
		return;
	}
	if (n > 3) {
		perror_at(p, tk[3].col, "unexpected '%s' after the chain's counters", tk[3].s);
		return;
	}
	if (n == 3 && !is_counters(tk[2].s)) {
		perror_at(p, tk[2].col, "expected counters '[packets:bytes]', got '%s'", tk[2].s);
		return;
	}
	if (c >= 0) {	/* a built-in of this table */
		if (!strcmp(tk[1].s, "ACCEPT")) {
			t->chains[c].c.policy = RT_ACCEPT;
		} else if (!strcmp(tk[1].s, "DROP")) {
			t->chains[c].c.policy = RT_DROP;
		} else {
			perror_at(p, tk[1].col, "built-in chain '%s' needs policy ACCEPT or DROP, got '%s'",
				  name.s, tk[1].s);
			return;
		}
		t->chains[c].line = p->line;
		return;
	}
	if (!check_user_chain_name(p, p->cur, &name))
		return;
	if (strcmp(tk[1].s, "-")) {
		perror_at(p, tk[1].col, "user chain '%s' takes policy '-', got '%s'", name.s, tk[1].s);
		return;
	}
	c = add_chain(p, t, name.s, false);
	if (c >= 0)
		t->chains[c].line = p->line;
}

/* "-N NAME" */
static void parse_new_chain(struct parser *p, struct tok *tk, int n)
{
	struct ptable *t = &p->pt[p->cur];
	int c;

	if (n < 2) {
		perror_at(p, tk[0].col, "%s needs a chain name", tk[0].s);
		return;
	}
	if (n > 2) {
		perror_at(p, tk[2].col, "unexpected '%s' after the chain name", tk[2].s);
		return;
	}
	c = find_chain(t, tk[1].s);
	if (c >= 0) {
		if (t->chains[c].c.builtin)
			perror_at(p, tk[1].col, "chain '%s' is built in", tk[1].s);
		else
			perror_at(p, tk[1].col, "chain '%s' declared twice (first at line %u)", tk[1].s,
				  t->chains[c].line);
		return;
	}
	if (!check_user_chain_name(p, p->cur, &tk[1]))
		return;
	c = add_chain(p, t, tk[1].s, false);
	if (c >= 0)
		t->chains[c].line = p->line;
}

/* ---- rules ---- */

#define RULES_XM_COLS 32

struct rctx {
	struct prule pr;
	int table;			/* enum rules_table_id */
	unsigned int seen;		/* OS_* */
	unsigned int mods;		/* 1 << M_*: matches brought in by -m */
	unsigned int used;		/* 1 << M_*: matches one of whose options was given */
	const char *port_mod;		/* -m tcp/udp/...: the protocol it names */
	unsigned int port_mod_col;
	unsigned int port_col;		/* first --sport/--dport, for the -p check */
	const char *port_opt;
	unsigned int icmp_col;
	const char *icmp_opt;
	int icmp_family;
	unsigned int helper_col;	/* CT --helper, for the -p check */
	unsigned int mod_col[M_MAX];	/* column of each match's first -m */
	int tgt;			/* T_* of a valid -j, else T_NONE */
	unsigned int target_col;
	bool proto_inv;
	unsigned int other_family;	/* column of a -4/-6 naming the other family of a one-family file */
	bool skip_opts;			/* after an unknown -m: skip its options, reported once */
	bool bad_opt;			/* an unknown option of a match was reported */
	int last_mod;			/* M_* of the last -m, for "unknown option of match" */
	unsigned int last_mod_col;
	int xcur[M_MAX];		/* index in pr.xm of each match's current instance, or -1 */
	unsigned int reject_col;	/* --reject-with: where its argument is, */
	const char *reject_arg;		/* the argument (valid while the line is read) */
	uint8_t reject_type;		/* and its type in either family */
	unsigned int log_seen;		/* LOG options given: 1 << their row in log_opts */
	unsigned int stateful_col;	/* column of the first stateful -m (rules_int.h's order rule) */
	const char *stateful_name;
	unsigned int xm_col[RULES_XM_COLS];	/* column of the -m of pr.xm[i], for whole-match errors */
	uint32_t cm_nfmask, cm_ctmask;	/* CONNMARK --save-mark / --restore-mark masks */
	unsigned int cm_mask_col;	/* the first --nfmask / --ctmask / --mask */
	unsigned int cm_masks;		/* 1 --nfmask, 2 --ctmask, 4 --mask given */
	unsigned int errs0;		/* p->nerrs when the rule began */
};

struct opt_def;

/* One option as written: its row, its word, its argument, and a '!' before it. */
struct optarg {
	const struct opt_def *def;
	const struct tok *o;
	const struct tok *a;		/* NULL for options without one */
	const struct tok *a2;		/* the second argument of ARG_TWO options */
	unsigned int neg;		/* column of the '!', or 0 */
};

/*
 * What an option handler returns: OPT_OK when the option is taken (a '!'
 * before it is then applied, or refused if the option cannot be negated),
 * OPT_BAD after reporting a bad value (the '!' is not looked at; the line
 * goes on), OPT_STOP when the rest of the line cannot be read.
 */
enum { OPT_OK, OPT_BAD, OPT_STOP };

typedef int opt_fn(struct parser *p, struct rctx *x, const struct optarg *oa);

enum opt_arg { ARG_NONE, ARG_NEED, ARG_TWO /* two are needed (--tcp-flags MASK COMP) */ };

struct opt_def {
	const char *name;
	const char *alias;		/* the long (or short) form, or NULL */
	uint8_t match;			/* M_*: the -m or -p that brings it in, or M_NONE */
	uint8_t target;			/* T_*: the -j it belongs to, or T_NONE */
	uint16_t neg;			/* RM_* bit a '!' before it sets; 0: cannot be negated */
	uint16_t once;			/* OS_* bit: "given twice" when it comes again; 0: no check */
	uint8_t arg;			/* enum opt_arg */
	opt_fn *fn;
};

static bool set_family(struct parser *p, struct rctx *x, int family, const struct tok *tk)
{
	if (p->family && p->family != family && !x->other_family) {
		perror_at(p, tk->col, "'%s' is %s but this is an %s ruleset", tk->s,
			  family == AF_INET ? "IPv4" : "IPv6", p->family == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	if (x->pr.r.family && x->pr.r.family != family) {
		perror_at(p, tk->col, "'%s' is %s but the rule is already %s", tk->s,
			  family == AF_INET ? "IPv4" : "IPv6", x->pr.r.family == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	x->pr.r.family = (uint8_t)family;
	x->pr.r.match |= RM_FAMILY;
	return true;
}

static int opt_proto(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	uint8_t proto = 0;
	int rc = parse_proto(oa->a->s, &proto);

	if (rc < 0) {
		perror_at(p, oa->a->col, "expected a protocol name or number, got '%s'", oa->a->s);
		return OPT_BAD;
	}
	if (rc == 0 && oa->neg) {
		perror_at(p, oa->neg, "'! -p all' would never match");
		return OPT_BAD;
	}
	if (rc > 0) {		/* "all" tests nothing */
		x->pr.r.proto = proto;
		x->pr.r.match |= RM_PROTO;
		x->proto_inv = oa->neg != 0;
	}
	return OPT_OK;
}

static int opt_addr(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	struct rules_rule *r = &x->pr.r;
	bool src = oa->def->neg == RM_SRC;
	uint64_t addr[2], mask[2];
	uint8_t plen;
	int fam = parse_cidr(oa->a->s, addr, mask, &plen);

	if (!fam) {
		perror_at(p, oa->a->col, "expected an address or CIDR, got '%s'", oa->a->s);
		return OPT_BAD;
	}
	if (!set_family(p, x, fam, oa->a))
		return OPT_BAD;
	memcpy(src ? r->src : r->dst, addr, 16);
	memcpy(src ? r->smsk : r->dmsk, mask, 16);
	if (src)
		x->pr.info.src_plen = plen;
	else
		x->pr.info.dst_plen = plen;
	r->match |= oa->def->neg;
	return OPT_OK;
}

static int opt_family(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	int fam;

	/* -4 and -6 share one "given twice"; the '!' is still refused after it. */
	if (x->seen & OS_FAMILY) {
		perror_at(p, oa->o->col, "-4 and -6 given twice or together");
		return OPT_OK;
	}
	x->seen |= OS_FAMILY;
	fam = oa->def->name[1] == '4' ? AF_INET : AF_INET6;
	if (p->family && fam != p->family) {
		x->other_family = oa->o->col;	/* the rule is skipped, as iptables-restore does */
		return OPT_OK;
	}
	set_family(p, x, fam, oa->o);
	return OPT_OK;
}

static int opt_ports(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	struct rules_rule *r = &x->pr.r;
	const char *proto = (r->match & RM_PROTO) ? rules_proto_name(r->proto) : x->port_mod;
	uint16_t range[2];

	/* names by /etc/services for the rule's protocol, as iptables */
	if (!rules_parse_port_range(oa->a->s, proto, range)) {
		perror_at(p, oa->a->col, "expected a port, a service name of %s or a range 'first:last' "
			  "(0..65535), got '%s'", proto ? proto : "the protocol", oa->a->s);
		return OPT_BAD;
	}
	if (!x->port_col) {
		x->port_col = oa->o->col;
		x->port_opt = oa->o->s;
	}
	memcpy(oa->def->neg == RM_SPORT ? r->sport : r->dport, range, sizeof(range));
	r->match |= oa->def->neg;
	return OPT_OK;
}

static int opt_icmp(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	int family = oa->def->match == M_ICMP6 ? AF_INET6 : AF_INET;
	int rc = parse_icmp(oa->a->s, family, &x->pr.r);

	if (rc <= 0) {
		char names[1024];

		icmp_name_list(names, sizeof(names), family);
		perror_at(p, oa->a->col, "%s ICMP%s type '%s': expected 'type[/code]' (numbers) or one of %s",
			  rc < 0 ? "ambiguous" : "unknown", family == AF_INET6 ? "v6" : "", oa->a->s, names);
		return OPT_BAD;
	}
	x->icmp_col = oa->o->col;
	x->icmp_opt = oa->o->s;
	x->icmp_family = family;
	x->pr.r.match |= RM_ICMP;
	return OPT_OK;
}

static int opt_iface(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	struct rules_rule *r = &x->pr.r;
	bool in = oa->def->neg == RM_IN;

	if (!parse_iface(oa->a->s, in ? x->pr.info.in : x->pr.info.out, in ? r->in : r->out,
			 in ? r->inmsk : r->outmsk)) {
		perror_at(p, oa->a->col, "expected an interface name (at most %d characters, "
			  "a final '+' matches any suffix), got '%s'", IFNAMSIZ - 1, oa->a->s);
		return OPT_BAD;
	}
	if (in)
		x->pr.in_col = oa->o->col;
	else
		x->pr.out_col = oa->o->col;
	r->match |= oa->def->neg;
	return OPT_OK;
}

/* The -m names, for "unknown match": port protocols, then the table. */
static void match_names(char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < RULES_ARRAY_SIZE(rules_protos); i++)
		if (rules_is_port_proto(rules_protos[i].value))
			list_add(buf, len, rules_protos[i].name);
	for (int m = M_PORTS + 1; m < M_MAX; m++)
		if (matches[m].name)
			list_add(buf, len, matches[m].name);
}

static struct rules_xmatch *xmatch_cur(struct parser *p, struct rctx *x, int id);

static int opt_match(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	const char *m = oa->a->s;
	uint8_t proto;
	int id;

	x->skip_opts = false;
	if (!isdigit((unsigned char)*m) && parse_proto(m, &proto) > 0 && rules_is_port_proto(proto)) {
		id = M_PORTS;
		x->port_mod = m;
		x->port_mod_col = oa->a->col;
		if (proto == IPPROTO_TCP) {	/* -m tcp: its flags and option too */
			x->mods |= 1u << M_TCP;
			x->xcur[M_TCP] = -1;
		}
	} else {
		for (id = M_PORTS + 1; id < M_MAX; id++)
			if (matches[id].name && (!strcmp(m, matches[id].name) ||
						 (matches[id].alias && !strcmp(m, matches[id].alias))))
				break;
	}
	if (id == M_MAX) {
		char names[320];

		/* its options follow: skip them, this is the one error (one per mistake) */
		x->skip_opts = true;
		for (size_t i = 0; i < RULES_ARRAY_SIZE(unsupported_matches); i++)
			if (!strcmp(m, unsupported_matches[i].name)) {
				perror_at(p, oa->a->col, "match '%s' is not supported: %s", m,
					  unsupported_matches[i].why);
				return OPT_OK;
			}
		match_names(names, sizeof(names));
		perror_at(p, oa->a->col, "unknown match '%s' (supported: %s)", m, names);
		return OPT_OK;
	}
	if (!(x->mods & 1u << id))
		x->mod_col[id] = oa->o->col;
	x->mods |= 1u << id;
	x->last_mod = id;
	x->last_mod_col = oa->o->col;
	x->xcur[id] = -1;	/* a new instance: its options start a new extension match */
	if (matches[id].xkind != XK_NONE) {
		const struct rules_xkind *k = &rules_xkinds[matches[id].xkind];

		if (k->stateful && !x->stateful_col) {
			x->stateful_col = oa->o->col;
			x->stateful_name = k->name;
		}
		if (k->init) {	/* it exists with its defaults, options or not */
			struct rules_xmatch *xm = xmatch_cur(p, x, id);

			if (!xm || k->init(xm)) {
				p->oom = true;
				return OPT_BAD;
			}
		}
	}
	return OPT_OK;
}

/* The extension match that option @oa of match @id goes into: the current
 * instance of that -m, or a new one.  NULL when out of memory. */
static struct rules_xmatch *xmatch_cur(struct parser *p, struct rctx *x, int id)
{
	struct prule *pr = &x->pr;
	struct rules_xmatch *n;

	if (x->xcur[id] >= 0)
		return &pr->xm[x->xcur[id]];
	n = realloc(pr->xm, (pr->nxm + 1) * sizeof(*n));
	if (!n) {
		p->oom = true;
		return NULL;
	}
	pr->xm = n;
	memset(&n[pr->nxm], 0, sizeof(*n));
	n[pr->nxm].kind = matches[id].xkind;
	if (pr->nxm < RULES_XM_COLS)
		x->xm_col[pr->nxm] = x->last_mod_col;
	x->xcur[id] = (int)pr->nxm++;
	pr->r.match |= RM_XMATCH;
	return &n[x->xcur[id]];
}

/* An option of an extension match: the kind's parser does the work. */
static int opt_x(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	const struct opt_def *d = oa->def;
	struct rules_xmatch *m = xmatch_cur(p, x, d->match);
	struct rules_xarg a;
	unsigned int col;
	int rc;

	const struct opt_def *first = d;

	/* The kind's option number: the row's place among its match's rows, which
	 * follow one another (opts[] starts with rows of other handlers). */
	while (first[-1].fn == opt_x && first[-1].match == d->match)
		first--;
	if (!m)
		return OPT_BAD;
	if (m->kind != XK_TCP && (m->given & (1u << (d - first)))) {	/* tcp: --syn is --tcp-flags */
		perror_at(p, oa->o->col, "%s given twice", oa->o->s);
		return OPT_BAD;
	}
	memset(&a, 0, sizeof(a));
	a.opt = (unsigned int)(d - first);
	a.name = oa->o->s;
	a.arg = oa->a ? oa->a->s : NULL;
	a.arg2 = oa->a2 ? oa->a2->s : NULL;
	a.neg = oa->neg != 0;
	a.family = (x->pr.r.match & RM_FAMILY) ? x->pr.r.family : 0;
	a.proto = (x->pr.r.match & RM_PROTO) ? x->pr.r.proto : 0;
	a.proto_inv = x->proto_inv;
	rc = rules_xkinds[m->kind].parse(m, &a);
	if (rc == -ENOMEM) {
		p->oom = true;
		return OPT_BAD;
	}
	if (rc) {
		col = a.err_at_opt || !oa->a ? oa->o->col : a.err_at_arg2 && oa->a2 ? oa->a2->col : oa->a->col;
		perror_at(p, col, "%s", a.err);
		return OPT_BAD;
	}
	if (m->kind == XK_MAC || m->kind == XK_OWNER || m->kind == XK_DEVGROUP ||
	    (m->kind == XK_ADDRTYPE && (a.opt == XO_AT_IN || a.opt == XO_AT_OUT))) {
		/* iptables: the source MAC and the input interface exist on the way
		 * in, the socket and the output interface on the way out */
		bool way_in = m->kind == XK_MAC || (m->kind == XK_ADDRTYPE && a.opt == XO_AT_IN) ||
			      (m->kind == XK_DEVGROUP && a.opt == XO_DG_SRC);

		x->pr.xhooks = way_in ?
			1u << NFQCT_HOOK_PREROUTING | 1u << NFQCT_HOOK_INPUT | 1u << NFQCT_HOOK_FORWARD :
			1u << NFQCT_HOOK_FORWARD | 1u << NFQCT_HOOK_OUTPUT | 1u << NFQCT_HOOK_POSTROUTING;
		if (m->kind == XK_OWNER)
			x->pr.xhooks &= ~(1u << NFQCT_HOOK_FORWARD);
		x->pr.xhooks_col = m->kind == XK_ADDRTYPE || m->kind == XK_DEVGROUP ? oa->o->col :
				   x->last_mod_col;
		x->pr.xhooks_what = m->kind == XK_MAC ? "-m mac" : m->kind == XK_OWNER ? "-m owner" :
				    m->kind == XK_DEVGROUP ? (way_in ? "--src-group" : "--dst-group") :
				    way_in ? "--limit-iface-in" : "--limit-iface-out";
	}
	return OPT_OK;
}

/* -f: a non-first IPv4 fragment (IPv6 packets are never -f: ip6tables has no -f). */
static int opt_frag(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	if (x->pr.r.match & RM_FRAG) {
		perror_at(p, oa->o->col, "%s given twice", oa->o->s);
		return OPT_BAD;
	}
	x->pr.r.match |= RM_FRAG;
	return OPT_OK;
}

static int opt_ctstate(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	char bad[64];

	bool st = oa->def->match == M_STATE;

	bool ok = parse_ctstates(oa->a->s, &x->pr.r.ctstate, bad, sizeof(bad));

	if (ok && st && (x->pr.r.ctstate & (RULES_CTSTATE_SNAT | RULES_CTSTATE_DNAT))) {
		/* -m state has no SNAT / DNAT (xt_state) */
		snprintf(bad, sizeof(bad), "%s", x->pr.r.ctstate & RULES_CTSTATE_SNAT ? "SNAT" : "DNAT");
		ok = false;
	}
	if (!ok) {
		perror_at(p, oa->a->col, "unknown state '%s': expected a comma list of NEW, ESTABLISHED, "
			  "RELATED, INVALID, UNTRACKED%s", bad, st ? "" : ", SNAT, DNAT");
		return OPT_BAD;
	}
	x->pr.info.ctmod = oa->def->match == M_CONNTRACK ? RULES_CTMOD_CONNTRACK : RULES_CTMOD_STATE;
	x->pr.r.match |= RM_CTSTATE;
	return OPT_OK;
}

static int opt_mark(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	if (!rules_parse_valmask(oa->a->s, &x->pr.r.mark_value, &x->pr.r.mark_mask)) {
		perror_at(p, oa->a->col, "expected a mark 'value[/mask]' (32-bit numbers), got '%s'", oa->a->s);
		return OPT_BAD;
	}
	x->pr.r.match |= RM_MARK;
	return OPT_OK;
}

static int opt_comment(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	if (strlen(oa->a->s) > 255) {
		perror_at(p, oa->a->col, "comment longer than 255 characters");
		return OPT_BAD;
	}
	free(x->pr.info.comment);
	x->pr.info.comment = strdup(oa->a->s);
	if (!x->pr.info.comment)
		p->oom = true;
	return OPT_OK;
}

/* The names of -j targets, for "unsupported target". */
static void target_names(char *buf, size_t len)
{
	buf[0] = '\0';
	for (int t = T_NONE + 1; t < T_MAX; t++)
		list_add(buf, len, targets[t].name);
	list_add(buf, len, "or a user chain");
}

static int opt_jump(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	const struct tok *a = oa->a;
	int t = find_target(a->s);
	const char *why;

	x->target_col = a->col;
	if (t != T_NONE) {
		x->pr.r.target = targets[t].rt;
		if (t == T_LOG)
			x->pr.info.log.level = NFQCT_LOG_LEVEL_DEFAULT;
		x->pr.info.notrack_alias = t == T_NOTRACK;
		x->tgt = t;
		if ((targets[t].raw_only && x->table != RULES_T_RAW) ||
		    (targets[t].filter_only && x->table != RULES_T_FILTER)) {
			perror_at(p, a->col, "target %s is only valid in table '%s'", a->s,
				  targets[t].raw_only ? "raw" : "filter");
			/* its options would be follow-on errors: the rest of the line is its */
			return OPT_STOP;
		}
	} else if ((why = unsupported_target(a->s)) != NULL) {
		char names[128];

		target_names(names, sizeof(names));
		perror_at(p, a->col, "unsupported target '%s': %s (supported: %s)", a->s, why, names);
		/* its options would be follow-on errors: the rest of the line is its */
		return OPT_STOP;
	} else {
		x->pr.r.target = RT_JUMP;	/* resolved at COMMIT */
		x->pr.jump = strdup(a->s);
		x->pr.jump_col = a->col;
		if (!x->pr.jump)
			p->oom = true;
	}
	return OPT_OK;
}

/* "-g CHAIN": continue in CHAIN; when it ends or returns, go back to where
 * the chain holding this rule was jumped to from (or to its policy). */
static int opt_goto(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	const struct tok *a = oa->a;

	if (find_target(a->s) != T_NONE || unsupported_target(a->s)) {
		perror_at(p, a->col, "%s needs a user chain, got target '%s'", oa->o->s, a->s);
		return OPT_BAD;
	}
	x->target_col = a->col;
	x->pr.r.target = RT_GOTO;	/* resolved at COMMIT */
	x->pr.jump = strdup(a->s);
	x->pr.jump_col = a->col;
	if (!x->pr.jump)
		p->oom = true;
	return OPT_OK;
}

static int opt_ct_notrack(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	if (x->seen & OS_ZONE) {
		perror_at(p, oa->o->col, "--notrack cannot be combined with --zone");
		return OPT_BAD;
	}
	x->pr.r.target = RT_CT;
	x->pr.r.tmask = 1;	/* CT --notrack */
	return OPT_OK;
}

static int opt_ct_zone(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	unsigned long z;

	if (x->seen & OS_NOTRACK) {
		perror_at(p, oa->o->col, "--zone cannot be combined with --notrack");
		return OPT_BAD;
	}
	if (!rules_parse_dec(oa->a->s, 65535, &z)) {
		perror_at(p, oa->a->col, "expected a zone number 0..65535, got '%s'", oa->a->s);
		return OPT_BAD;
	}
	x->pr.r.tval = (uint32_t)z;
	return OPT_OK;
}

/*
 * --helper is two options, told apart by what came before it: after -j CT
 * the helper the raw table assigns (xt_CT), after -m helper the match on
 * an expected connection's master's helper (xt_helper).
 */
static int opt_helper(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	const char *s = oa->a->s;
	int id = -ENOENT;

	if (x->tgt == T_CT) {
		if (oa->neg) {
			perror_at(p, oa->neg, "'!' cannot be used with CT --helper");
			return OPT_BAD;
		}
		if (x->seen & OS_NOTRACK) {
			perror_at(p, oa->o->col, "--helper cannot be combined with --notrack");
			return OPT_BAD;
		}
		if (x->pr.r.tmask >> 8) {
			perror_at(p, oa->o->col, "--helper given twice");
			return OPT_BAD;
		}
		id = nfqct_helper_find(s);
		if (id < 0) {
			perror_at(p, oa->a->col, "unknown helper '%s': expected ftp or tftp", s);
			return OPT_BAD;
		}
		x->pr.r.tmask |= (uint32_t)id << 8;
		x->helper_col = oa->o->col;
		return OPT_OK;
	}
	if (!(x->mods & 1u << M_HELPER)) {
		perror_at(p, oa->o->col, "unknown option '--helper' (it needs -m helper or -j CT before it)");
		return OPT_BAD;
	}
	if (x->pr.r.match & RM_HELPER) {
		perror_at(p, oa->o->col, "--helper given twice");
		return OPT_BAD;
	}
	x->used |= 1u << M_HELPER;
	if (*s) {
		/* xt_helper compares the helper's name as a prefix: "ftp-2121" is ftp */
		for (unsigned int i = NFQCT_HELPER_NONE + 1; i < NFQCT_HELPER_MAX && id < 0; i++) {
			size_t n = strlen(nfqct_helper_name(i));

			if (!strncmp(s, nfqct_helper_name(i), n) && (s[n] == '\0' || s[n] == '-'))
				id = (int)i;
		}
		if (id < 0) {
			perror_at(p, oa->a->col, "unknown helper '%s': expected ftp, tftp or \"\" (any)", s);
			return OPT_BAD;
		}
	}
	x->pr.r.helper = id < 0 ? NFQCT_HELPER_NONE : (uint8_t)id;
	x->pr.r.match |= RM_HELPER;
	return OPT_OK;
}

/* REJECT --reject-with TYPE: the family checks wait for the whole rule (check_rule). */
static int opt_reject_with(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	enum nfqct_reject t = nfqct_reject_find(oa->a->s, 0);

	if (x->reject_col) {
		perror_at(p, oa->o->col, "--reject-with given twice");
		return OPT_BAD;
	}
	if (t == NFQCT_REJECT_NONE) {
		perror_at(p, oa->a->col, "unknown reject type '%s': expected an iptables type "
			  "(icmp-net-unreachable, icmp-host-unreachable, icmp-port-unreachable, "
			  "icmp-proto-unreachable, icmp-net-prohibited, icmp-host-prohibited, "
			  "icmp-admin-prohibited, tcp-reset) or an ip6tables one (icmp6-no-route, "
			  "icmp6-adm-prohibited, icmp6-addr-unreachable, icmp6-port-unreachable, "
			  "icmp6-policy-fail, icmp6-reject-route), or their aliases", oa->a->s);
		return OPT_BAD;
	}
	x->reject_col = oa->a->col;
	x->reject_arg = oa->a->s;
	x->reject_type = (uint8_t)t;
	return OPT_OK;
}

/* LOG's options: each once, as xtables takes them. */
static bool log_once(struct parser *p, struct rctx *x, const struct optarg *oa, unsigned int bit)
{
	if (x->log_seen & bit) {
		perror_at(p, oa->o->col, "%s given twice", oa->o->s);
		return false;
	}
	x->log_seen |= bit;
	return true;
}

static int opt_log_level(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	int level = nfqct_log_level_find(oa->a->s);

	if (!log_once(p, x, oa, 1u << 8))
		return OPT_BAD;
	if (level < 0) {
		perror_at(p, oa->a->col, "expected a syslog level 0..7 or emerg, alert, crit, error, warning, "
			  "notice, info, debug (or panic), got '%s'", oa->a->s);
		return OPT_BAD;
	}
	x->pr.info.log.level = (uint8_t)level;
	return OPT_OK;
}

/* @name's reference and flags check, as xt_SET's checkentry (the dimension, as the rule check) */
static int settarget_set(struct parser *p, const struct optarg *oa, struct nfqct_ipset **sp, char *name,
			 uint8_t *dim, uint8_t *src)
{
	unsigned int d;

	if (*sp) {
		perror_at(p, oa->o->col, "%s given twice", oa->o->s);
		return OPT_BAD;
	}
	if (strlen(oa->a->s) >= NFQCT_IPSET_MAXNAMELEN || nfqct_ipset_get(oa->a->s, sp) < 0) {
		perror_at(p, oa->a->col, "Set %s doesn't exist (no set of that name is loaded: see --sets)",
			  oa->a->s);
		return OPT_BAD;
	}
	strcpy(name, oa->a->s);
	if (rules_set_flags(oa->a2->s, dim, src)) {
		perror_at(p, oa->a2->col, "'%s': expected src or dst, up to %d separated by ','", oa->a2->s,
			  NFQCT_IPSET_DIM_MAX);
		return OPT_BAD;
	}
	d = nfqct_ipset_dim(*sp);
	if (!d || d != *dim) {
		perror_at(p, oa->a2->col, "set %s is %s: %s takes %u flag%s (src or dst), not %u", name,
			  nfqct_ipset_type_name(nfqct_ipset_type(*sp)), oa->o->s, d, d == 1 ? "" : "s", *dim);
		if (!d)
			perror_at(p, oa->a->col, "-j SET cannot add to or delete from a list:set in nfqct");
		return OPT_BAD;
	}
	return OPT_OK;
}

/* -j SET: --add-set NAME FLAGS, --del-set NAME FLAGS, --exist, --timeout N. */
static int opt_settarget(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	struct rules_settarget *st = x->pr.info.set;
	const char *o = oa->o->s;
	unsigned long v;
	char *end;

	if (!st) {
		st = x->pr.info.set = calloc(1, sizeof(*st));
		if (!st) {
			p->oom = true;
			return OPT_BAD;
		}
		st->timeout = UINT32_MAX;
	}
	if (o[2] == 'a' || o[2] == 'd')
		x->seen |= OS_TOPT;
	if (!strcmp(o, "--add-set"))
		return settarget_set(p, oa, &st->add, st->add_name, &st->add_dim, &st->add_src);
	if (!strcmp(o, "--del-set"))
		return settarget_set(p, oa, &st->del, st->del_name, &st->del_dim, &st->del_src);
	if (!strcmp(o, "--exist")) {
		st->exist = true;
		return OPT_OK;
	}
	errno = 0;
	v = strtoul(oa->a->s, &end, 10);
	if (!isdigit((unsigned char)oa->a->s[0]) || *end || errno || v > NFQCT_IPSET_TIMEOUT_MAX) {
		perror_at(p, oa->a->col, "expected a --timeout of 0 to %u seconds", NFQCT_IPSET_TIMEOUT_MAX);
		return OPT_BAD;
	}
	st->timeout = (uint32_t)v;
	return OPT_OK;
}

static int opt_log_prefix(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	size_t n = strlen(oa->a->s);

	if (!log_once(p, x, oa, 1u << 9))
		return OPT_BAD;
	if (n == 0 || n > NFQCT_LOG_PREFIX_MAX || strchr(oa->a->s, '\n')) {
		perror_at(p, oa->a->col, "expected a --log-prefix of 1 to %d characters (the kernel's limit)",
			  NFQCT_LOG_PREFIX_MAX);
		return OPT_BAD;
	}
	memcpy(x->pr.info.log.prefix, oa->a->s, n + 1);
	return OPT_OK;
}

static int opt_log_flag(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	static const struct { const char *name; uint8_t flag; } flags[] = {
		{ "--log-tcp-sequence", NFQCT_LOG_TCPSEQ }, { "--log-tcp-options", NFQCT_LOG_TCPOPT },
		{ "--log-ip-options", NFQCT_LOG_IPOPT }, { "--log-uid", NFQCT_LOG_UID },
		{ "--log-macdecode", NFQCT_LOG_MACDECODE },
	};

	for (size_t i = 0; i < RULES_ARRAY_SIZE(flags); i++)
		if (!strcmp(oa->o->s, flags[i].name)) {
			if (!log_once(p, x, oa, flags[i].flag))
				return OPT_BAD;
			x->pr.info.log.flags |= flags[i].flag;
		}
	return OPT_OK;
}

static void target_opt_names(char *buf, size_t len, int target);

/* FLOWOFFLOAD --hw (OpenWrt's xt_FLOWOFFLOAD): nfqct has no hardware path;
 * taken as the software offload, said in a note, kept for printing. */
static int opt_flowoffload_hw(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	pnote_at(p, oa->o->col, "FLOWOFFLOAD --hw: nfqct offloads to the kernel's software "
		 "path (an nft set, see nfqct.rules(5)); no hardware offload");
	x->pr.r.tmask |= 1;
	return OPT_OK;
}

/*
 * --set-mark, --set-xmark, --and-mark, --or-mark, --xor-mark (MARK and
 * CONNMARK): everything becomes mark = (mark & ~tmask) ^ tval, as the
 * kernel's MARK v2; --set-mark v/m clears m and the bits of v first.
 */
static int mark_op(struct parser *p, const struct optarg *oa, struct rules_rule *r)
{
	const char *s = oa->o->s;
	uint32_t v, m;

	if (!strcmp(s, "--set-mark") || !strcmp(s, "--set-xmark")) {
		if (!rules_parse_valmask(oa->a->s, &v, &m)) {
			perror_at(p, oa->a->col, "expected a mark 'value[/mask]' (32-bit numbers), got '%s'",
				  oa->a->s);
			return OPT_BAD;
		}
		r->tval = v;
		r->tmask = !strcmp(s, "--set-xmark") ? m : (m | v);
		return OPT_OK;
	}
	if (!rules_parse_u32(oa->a->s, &v)) {
		perror_at(p, oa->a->col, "expected a 32-bit number, got '%s'", oa->a->s);
		return OPT_BAD;
	}
	/* and: clear the bits not in v; or: set them; xor: flip them */
	r->tval = s[2] == 'a' ? 0 : v;
	r->tmask = s[2] == 'a' ? ~v : s[2] == 'o' ? v : 0;
	return OPT_OK;
}

static int opt_mark_target(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	struct rules_rule *r = &x->pr.r;

	if (x->seen & OS_TOPT) {
		char names[128];

		target_opt_names(names, sizeof(names), T_MARK);
		perror_at(p, oa->o->col, "MARK takes only one of %s", names);
		return OPT_BAD;
	}
	x->seen |= OS_TOPT;
	return mark_op(p, oa, r);
}

/*
 * CONNMARK, as libxt_CONNMARK: one of --set-xmark, --set-mark, --and-mark,
 * --or-mark, --xor-mark (the entry's mark = (mark & ~ctmask) ^ ctmark),
 * --save-mark or --restore-mark (with --nfmask, --ctmask or --mask, kept in
 * the rctx until check_rule() knows the mode).
 */
static int opt_connmark(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	const char *s = oa->o->s;
	struct rules_rule *r = &x->pr.r;
	uint32_t v;

	if (!strcmp(s, "--nfmask") || !strcmp(s, "--ctmask") || !strcmp(s, "--mask")) {
		unsigned int bit = s[2] == 'n' ? 1 : s[2] == 'c' ? 2 : 4;

		if ((x->cm_masks & bit) || (bit == 4 ? x->cm_masks : (x->cm_masks & 4))) {
			perror_at(p, oa->o->col, (x->cm_masks & bit) ? "%s given twice" :
				  "%s: --mask sets both --nfmask and --ctmask: give one or the others", s);
			return OPT_BAD;
		}
		if (!rules_parse_u32(oa->a->s, &v)) {
			perror_at(p, oa->a->col, "expected a 32-bit number, got '%s'", oa->a->s);
			return OPT_BAD;
		}
		if (!x->cm_masks) {
			x->cm_nfmask = x->cm_ctmask = UINT32_MAX;
			x->cm_mask_col = oa->o->col;
		}
		x->cm_masks |= bit;
		if (bit & 5)
			x->cm_nfmask = v;
		if (bit & 6)
			x->cm_ctmask = v;
		return OPT_OK;
	}
	if (x->seen & OS_TOPT) {
		char names[160];

		target_opt_names(names, sizeof(names), T_CONNMARK);
		perror_at(p, oa->o->col, "CONNMARK takes only one of %s", names);
		return OPT_BAD;
	}
	x->seen |= OS_TOPT;
	if (!strcmp(s, "--save-mark") || !strcmp(s, "--restore-mark")) {
		r->target = s[2] == 's' ? RT_CONNMARK_SAVE : RT_CONNMARK_RESTORE;
		return OPT_OK;
	}
	r->target = RT_CONNMARK_SET;
	return mark_op(p, oa, r);
}

/*
 * Every option of a rule, one row each.  The reader checks, in this order:
 * the argument, that the -j (target options) or the -m / -p (match
 * options) that brings it in came first, "given twice"; then it runs the
 * handler and applies or refuses a '!' before the option.
 *
 * To add a match: a row in matches[] (its -m name, and the option it
 * cannot do without), a row here per option with a short handler that
 * fills struct rules_rule, an RM_* bit in rules_int.h, its test in
 * rules_eval.c and its printing in rules.c.  A target is the same with
 * targets[] and an RT_* value.
 */
static const struct opt_def opts[] = {
	/* name		alias			brought in by	'!'		once		arg		handler */
	{ "-p",		"--protocol",		M_NONE, T_NONE,	RM_PROTO,	OS_PROTO,	ARG_NEED,	opt_proto },
	{ "-s",		"--source",		M_NONE, T_NONE,	RM_SRC,		OS_SRC,		ARG_NEED,	opt_addr },
	{ "-d",		"--destination",	M_NONE, T_NONE,	RM_DST,		OS_DST,		ARG_NEED,	opt_addr },
	{ "-4",		"--ipv4",		M_NONE, T_NONE,	0,		0,		ARG_NONE,	opt_family },
	{ "-6",		"--ipv6",		M_NONE, T_NONE,	0,		0,		ARG_NONE,	opt_family },
	{ "-i",		"--in-interface",	M_NONE, T_NONE,	RM_IN,		OS_IN,		ARG_NEED,	opt_iface },
	{ "-o",		"--out-interface",	M_NONE, T_NONE,	RM_OUT,		OS_OUT,		ARG_NEED,	opt_iface },
	{ "-m",		"--match",		M_NONE, T_NONE,	0,		0,		ARG_NEED,	opt_match },
	{ "--sport",	"--source-port",	M_PORTS, T_NONE, RM_SPORT,	OS_SPORT,	ARG_NEED,	opt_ports },
	{ "--dport",	"--destination-port",	M_PORTS, T_NONE, RM_DPORT,	OS_DPORT,	ARG_NEED,	opt_ports },
	{ "--icmp-type", NULL,			M_ICMP, T_NONE,	RM_ICMP,	OS_ICMP,	ARG_NEED,	opt_icmp },
	{ "--icmpv6-type", NULL,		M_ICMP6, T_NONE, RM_ICMP,	OS_ICMP,	ARG_NEED,	opt_icmp },
	{ "--ctstate",	NULL,			M_CONNTRACK, T_NONE, RM_CTSTATE, OS_CTSTATE,	ARG_NEED,	opt_ctstate },
	{ "--state",	NULL,			M_STATE, T_NONE, RM_CTSTATE,	OS_CTSTATE,	ARG_NEED,	opt_ctstate },
	{ "--mark",	NULL,			M_MARK, T_NONE,	RM_MARK,	OS_MARK,	ARG_NEED,	opt_mark },
	{ "--comment",	NULL,			M_COMMENT, T_NONE, 0,		OS_COMMENT,	ARG_NEED,	opt_comment },
	/* -m helper and CT: opt_helper() tells them apart */
	{ "--helper",	NULL,			M_NONE, T_NONE,	RM_HELPER,	0,		ARG_NEED,	opt_helper },
	{ "-f",		"--fragment",		M_NONE, T_NONE,	RM_FRAG,	0,		ARG_NONE,	opt_frag },
	/* Extension matches (rules_match.c): '!' and "given twice" are the kind's.  A
	 * match's rows are together, in the order of its XO_* numbers (opt_x counts). */
	{ "--tcp-flags", NULL,			M_TCP, T_NONE,	RM_XMATCH,	0,		ARG_TWO,	opt_x },
	{ "--syn",	NULL,			M_TCP, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--tcp-option", NULL,			M_TCP, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--sports",	"--source-ports",	M_MULTIPORT, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--dports",	"--destination-ports",	M_MULTIPORT, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ports",	NULL,			M_MULTIPORT, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctproto",	NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctorigsrc", NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctorigdst", NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctreplsrc", NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctrepldst", NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctorigsrcport", NULL,		M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctorigdstport", NULL,		M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctreplsrcport", NULL,		M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctrepldstport", NULL,		M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctstatus",	NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctexpire",	NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ctdir",	NULL,			M_CONNTRACK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--length",	NULL,			M_LENGTH, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ttl-eq",	NULL,			M_TTL, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ttl-lt",	NULL,			M_TTL, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--ttl-gt",	NULL,			M_TTL, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--hl-eq",	NULL,			M_HL, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--hl-lt",	NULL,			M_HL, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--hl-gt",	NULL,			M_HL, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--src-range", NULL,			M_IPRANGE, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--dst-range", NULL,			M_IPRANGE, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--mac-source", NULL,			M_MAC, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--uid-owner", NULL,			M_OWNER, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--gid-owner", NULL,			M_OWNER, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--socket-exists", NULL,		M_OWNER, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--suppl-groups", NULL,		M_OWNER, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--pkt-type",	NULL,			M_PKTTYPE, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--fragid",	NULL,			M_FRAG, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--fraglen",	NULL,			M_FRAG, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--fragres",	NULL,			M_FRAG, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--fragfirst", NULL,			M_FRAG, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--fragmore",	NULL,			M_FRAG, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--fraglast",	NULL,			M_FRAG, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--rt-type",	NULL,			M_RT, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--rt-segsleft", NULL,		M_RT, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--rt-len",	NULL,			M_RT, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--rt-0-res",	NULL,			M_RT, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--rt-0-addrs", NULL,			M_RT, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--rt-0-not-strict", NULL,		M_RT, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--header",	NULL,			M_IPV6HEADER, T_NONE, RM_XMATCH, 0,		ARG_NEED,	opt_x },
	{ "--soft",	NULL,			M_IPV6HEADER, T_NONE, RM_XMATCH, 0,		ARG_NONE,	opt_x },
	{ "--src-type",	NULL,			M_ADDRTYPE, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--dst-type",	NULL,			M_ADDRTYPE, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--limit-iface-in", NULL,		M_ADDRTYPE, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--limit-iface-out", NULL,		M_ADDRTYPE, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--src-group", NULL,			M_DEVGROUP, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--dst-group", NULL,			M_DEVGROUP, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--loose",	NULL,			M_RPFILTER, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--validmark", NULL,			M_RPFILTER, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--accept-local", NULL,		M_RPFILTER, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--invert",	NULL,			M_RPFILTER, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--limit",	NULL,			M_LIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--limit-burst", NULL,		M_LIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--set",	NULL,			M_RECENT, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--rcheck",	NULL,			M_RECENT, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--update",	NULL,			M_RECENT, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--remove",	NULL,			M_RECENT, T_NONE, RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--seconds",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--reap",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NONE,	opt_x },
	{ "--hitcount",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--rttl",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NONE,	opt_x },
	{ "--name",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--rsource",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NONE,	opt_x },
	{ "--rdest",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NONE,	opt_x },
	{ "--mask",	NULL,			M_RECENT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--connlimit-upto", NULL,		M_CONNLIMIT, T_NONE, RM_XMATCH, 0,		ARG_NEED,	opt_x },
	{ "--connlimit-above", NULL,		M_CONNLIMIT, T_NONE, RM_XMATCH, 0,		ARG_NEED,	opt_x },
	{ "--connlimit-mask", NULL,		M_CONNLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--connlimit-saddr", NULL,		M_CONNLIMIT, T_NONE, 0,		0,		ARG_NONE,	opt_x },
	{ "--connlimit-daddr", NULL,		M_CONNLIMIT, T_NONE, 0,		0,		ARG_NONE,	opt_x },
	{ "--hashlimit-upto", NULL,		M_HASHLIMIT, T_NONE, RM_XMATCH, 0,		ARG_NEED,	opt_x },
	{ "--hashlimit-above", NULL,		M_HASHLIMIT, T_NONE, RM_XMATCH, 0,		ARG_NEED,	opt_x },
	{ "--hashlimit", NULL,			M_HASHLIMIT, T_NONE, RM_XMATCH, 0,		ARG_NEED,	opt_x },
	{ "--hashlimit-srcmask", NULL,		M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-dstmask", NULL,		M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-burst", NULL,		M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-htable-size", NULL,	M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-htable-max", NULL,	M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-htable-gcinterval", NULL, M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-htable-expire", NULL,	M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-mode", NULL,		M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-name", NULL,		M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	{ "--hashlimit-rate-match", NULL,	M_HASHLIMIT, T_NONE, 0,		0,		ARG_NONE,	opt_x },
	{ "--hashlimit-rate-interval", NULL,	M_HASHLIMIT, T_NONE, 0,		0,		ARG_NEED,	opt_x },
	/* -m set (xt_set revision 4); --set is its old name, and -m recent's: find_opt() */
	{ "--match-set", "--set",		M_SET, T_NONE,	RM_XMATCH,	0,		ARG_TWO,	opt_x },
	{ "--return-nomatch", NULL,		M_SET, T_NONE,	0,		0,		ARG_NONE,	opt_x },
	{ "--update-counters", NULL,		M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--update-subcounters", NULL,		M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NONE,	opt_x },
	{ "--packets-eq", NULL,			M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--packets-lt", NULL,			M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--packets-gt", NULL,			M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--bytes-eq",	NULL,			M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--bytes-lt",	NULL,			M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "--bytes-gt",	NULL,			M_SET, T_NONE,	RM_XMATCH,	0,		ARG_NEED,	opt_x },
	/* -m connmark's --mark and -m mark's: find_opt() tells them apart */
	{ "--mark",	NULL,			M_CONNMARK, T_NONE, RM_XMATCH,	0,		ARG_NEED,	opt_x },
	{ "-j",		"--jump",		M_NONE, T_NONE,	0,		OS_JUMP,	ARG_NEED,	opt_jump },
	{ "-g",		"--goto",		M_NONE, T_NONE,	0,		OS_JUMP,	ARG_NEED,	opt_goto },
	{ "--notrack",	NULL,			M_NONE, T_CT,	0,		OS_NOTRACK,	ARG_NONE,	opt_ct_notrack },
	{ "--zone",	NULL,			M_NONE, T_CT,	0,		OS_ZONE,	ARG_NEED,	opt_ct_zone },
	{ "--set-mark",	NULL,			M_NONE, T_MARK,	0,		0,		ARG_NEED,	opt_mark_target },
	{ "--set-xmark", NULL,			M_NONE, T_MARK,	0,		0,		ARG_NEED,	opt_mark_target },
	{ "--and-mark",	NULL,			M_NONE, T_MARK,	0,		0,		ARG_NEED,	opt_mark_target },
	{ "--or-mark",	NULL,			M_NONE, T_MARK,	0,		0,		ARG_NEED,	opt_mark_target },
	{ "--xor-mark",	NULL,			M_NONE, T_MARK,	0,		0,		ARG_NEED,	opt_mark_target },
	{ "--reject-with", NULL,		M_NONE, T_REJECT, 0,		0,		ARG_NEED,	opt_reject_with },
	{ "--log-level", NULL,			M_NONE, T_LOG,	0,		0,		ARG_NEED,	opt_log_level },
	{ "--log-prefix", NULL,			M_NONE, T_LOG,	0,		0,		ARG_NEED,	opt_log_prefix },
	{ "--log-tcp-sequence", NULL,		M_NONE, T_LOG,	0,		0,		ARG_NONE,	opt_log_flag },
	{ "--log-tcp-options", NULL,		M_NONE, T_LOG,	0,		0,		ARG_NONE,	opt_log_flag },
	{ "--log-ip-options", NULL,		M_NONE, T_LOG,	0,		0,		ARG_NONE,	opt_log_flag },
	{ "--log-uid",	NULL,			M_NONE, T_LOG,	0,		0,		ARG_NONE,	opt_log_flag },
	{ "--log-macdecode", NULL,		M_NONE, T_LOG,	0,		0,		ARG_NONE,	opt_log_flag },
	/* -j SET: --add-set and --del-set may come together (both set OS_TOPT, the "needs") */
	{ "--add-set",	NULL,			M_NONE, T_SET,	0,		0,		ARG_TWO,	opt_settarget },
	{ "--del-set",	NULL,			M_NONE, T_SET,	0,		0,		ARG_TWO,	opt_settarget },
	{ "--exist",	NULL,			M_NONE, T_SET,	0,		0,		ARG_NONE,	opt_settarget },
	{ "--timeout",	NULL,			M_NONE, T_SET,	0,		0,		ARG_NEED,	opt_settarget },
	{ "--hw",	NULL,			M_NONE, T_FLOWOFFLOAD, 0,	0,		ARG_NONE,	opt_flowoffload_hw },
	/* CONNMARK's share MARK's names: find_opt() takes the -j's */
	{ "--set-xmark", NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
	{ "--set-mark",	NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
	{ "--and-mark",	NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
	{ "--or-mark",	NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
	{ "--xor-mark",	NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
	{ "--save-mark", NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NONE,	opt_connmark },
	{ "--restore-mark", NULL,		M_NONE, T_CONNMARK, 0,		0,		ARG_NONE,	opt_connmark },
	{ "--nfmask",	NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
	{ "--ctmask",	NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
	{ "--mask",	NULL,			M_NONE, T_CONNMARK, 0,		0,		ARG_NEED,	opt_connmark },
};

/* The options of @target, in table order ("--set-mark, --set-xmark, ..."). */
static void target_opt_names(char *buf, size_t len, int target)
{
	buf[0] = '\0';
	for (size_t i = 0; i < RULES_ARRAY_SIZE(opts); i++)
		if (opts[i].target == target &&
		    strcmp(opts[i].name + strlen(opts[i].name) - 4, "mask") &&
		    strcmp(opts[i].name, "--exist") && strcmp(opts[i].name, "--timeout"))
			list_add(buf, len, opts[i].name);	/* CONNMARK's --nfmask, SET's --exist ... are modifiers */
}

/*
 * The row of option @s.  A few names belong to several matches or targets
 * (--mark, --mask, --set-mark ...): the one brought in last wins, the -j
 * when it came after the last -m, else that -m; otherwise the first row.
 */
static const struct opt_def *find_opt(const struct rctx *x, const char *s)
{
	const struct opt_def *first = NULL;
	bool target_last = x->tgt != T_NONE && x->target_col > x->last_mod_col;

	for (size_t i = 0; i < RULES_ARRAY_SIZE(opts); i++) {
		const struct opt_def *d = &opts[i];

		if (strcmp(s, d->name) && (!d->alias || strcmp(s, d->alias)))
			continue;
		if (!first)
			first = d;
		if (target_last ? d->target != T_NONE && d->target == x->tgt :
				  d->match != M_NONE && d->match == x->last_mod)
			return d;
	}
	return first;
}

/* Did the -j, -m or -p that brings @oa's option in come first?  Reports when not. */
static bool brought_in(struct parser *p, struct rctx *x, const struct optarg *oa)
{
	const struct opt_def *d = oa->def;
	const struct match_def *m = &matches[d->match];
	const struct rules_rule *r = &x->pr.r;

	if (d->target != T_NONE) {
		if (x->tgt == d->target)
			return true;
		perror_at(p, oa->o->col, "unknown option '%s' (an option of target %s)", oa->o->s,
			  targets[d->target].name);
		return false;
	}
	if (d->match == M_NONE)
		return true;
	if ((x->mods & 1u << d->match) ||
	    (m->implied && (r->match & RM_PROTO) && m->implied(r->proto))) {
		x->used |= 1u << d->match;
		return true;
	}
	if (m->implied_by)
		perror_at(p, oa->o->col, "%s needs %s before it", oa->o->s, m->implied_by);
	else
		perror_at(p, oa->o->col, "unknown option '%s' (it needs -m %s before it)", oa->o->s, m->name);
	return false;
}

/* The options of match @m, for "unknown option of match": its rows, in table order. */
static void match_opt_names(char *buf, size_t len, int m)
{
	buf[0] = '\0';
	for (size_t i = 0; i < RULES_ARRAY_SIZE(opts); i++)
		if (opts[i].match == m || (m == M_TCP && opts[i].match == M_PORTS))
			list_add(buf, len, opts[i].name);
	if (m == M_HELPER)
		list_add(buf, len, "--helper");
}

/*
 * An unknown option after a -m (or a -p that brings a match in) and no -j
 * since: name that match and its options.  Returns false when it is not
 * such a case (the caller reports it plainly).
 */
static bool unknown_match_option(struct parser *p, struct rctx *x, const struct tok *o)
{
	const struct rules_rule *r = &x->pr.r;
	char names[512];
	const char *mname;
	int m = M_NONE;

	if (x->last_mod != M_NONE && (!x->target_col || x->target_col < x->last_mod_col))
		m = x->last_mod;
	else if (!x->target_col && (r->match & RM_PROTO) && !x->proto_inv)
		m = r->proto == IPPROTO_TCP ? M_TCP : rules_is_port_proto(r->proto) ? M_PORTS :
		    r->proto == IPPROTO_ICMP ? M_ICMP : r->proto == IPPROTO_ICMPV6 ? M_ICMP6 : M_NONE;
	if (m == M_NONE)
		return false;
	if (m == M_PORTS && x->port_mod && (x->mods & 1u << M_TCP) && x->last_mod == M_PORTS)
		m = M_TCP;
	x->bad_opt = true;	/* its "needs" would be a second error for this one */
	mname = matches[m].name ? matches[m].name : m == M_TCP ? "tcp" :
		x->last_mod == M_PORTS && x->port_mod ? x->port_mod : rules_proto_name(r->proto);
	match_opt_names(names, sizeof(names), m);
	perror_at(p, o->col, "unknown option '%s' of match %s: expected %s", o->s, mname, names);
	return true;
}

/*
 * Is @d a match option compiled as a core test (rules_int.h's order rule)?
 * Written after a stateful match, it becomes an XK_CORE extension match
 * (core_after_stateful()), so that it runs after it, as in the kernel.
 * -s -d -i -o -p -f stay core: the kernel tests them before any match too.
 */
static bool opt_after_stateful(const struct rctx *x, const struct opt_def *d)
{
	if (d->fn == opt_helper)
		return x->tgt != T_CT;
	return d->fn == opt_ports || d->fn == opt_icmp || d->fn == opt_ctstate || d->fn == opt_mark;
}

#define RM_CORE_LATE (RM_SPORT | RM_DPORT | RM_ICMP | RM_CTSTATE | RM_MARK | RM_HELPER)

/*
 * The core test an option written after a stateful match has just set in
 * x->pr.r (with its '!'): moved into an XK_CORE extension match of its own,
 * at this place among the rule's matches, and x->pr.r put back as @before
 * had it.  Out of memory: p->oom.
 */
static void core_after_stateful(struct parser *p, struct rctx *x, const struct rules_rule *before)
{
	struct rules_rule *r = &x->pr.r;
	uint16_t bits = (uint16_t)(r->match & ~before->match & RM_CORE_LATE);
	struct prule *pr = &x->pr;
	struct rules_xmatch *n, *m;

	if (!bits)
		return;	/* the option was refused: nothing was set */
	m = pr->nxm ? &pr->xm[pr->nxm - 1] : NULL;
	if (!m || m->kind != XK_CORE || (m->u.core.bits & bits)) {
		/* a new one; else the options of one -m (--sport, --dport) share the last */
		n = realloc(pr->xm, (pr->nxm + 1) * sizeof(*n));
		if (!n) {
			p->oom = true;
			return;
		}
		pr->xm = n;
		m = &n[pr->nxm];
		memset(m, 0, sizeof(*m));
		m->kind = XK_CORE;
		m->u.core.proto = r->proto;
		if (pr->nxm < RULES_XM_COLS)
			x->xm_col[pr->nxm] = 0;
		pr->nxm++;
	}
	m->u.core.bits |= bits;
	m->u.core.inv |= (uint16_t)(r->inv & bits);
	if (bits & RM_SPORT)
		memcpy(m->u.core.sport, r->sport, sizeof(r->sport));
	if (bits & RM_DPORT)
		memcpy(m->u.core.dport, r->dport, sizeof(r->dport));
	if (bits & RM_ICMP) {
		m->u.core.icmp_type = r->icmp_type;
		memcpy(m->u.core.icmp_code, r->icmp_code, sizeof(r->icmp_code));
		m->u.core.icmp_any = r->icmp_any;
	}
	if (bits & RM_CTSTATE) {
		m->u.core.ctstate = r->ctstate;
		m->u.core.ctmod = x->pr.info.ctmod;
	}
	if (bits & RM_HELPER)
		m->u.core.helper = r->helper;
	if (bits & RM_MARK) {
		m->u.core.mark_value = r->mark_value;
		m->u.core.mark_mask = r->mark_mask;
	}
	/* the rule's own fields as they were; its other bits (-p ...) stay */
	r->match = (uint16_t)((r->match & ~bits) | RM_XMATCH);
	r->inv = (uint16_t)(r->inv & ~bits);
	memcpy(r->sport, before->sport, sizeof(r->sport));
	memcpy(r->dport, before->dport, sizeof(r->dport));
	r->icmp_type = before->icmp_type;
	memcpy(r->icmp_code, before->icmp_code, sizeof(r->icmp_code));
	r->icmp_any = before->icmp_any;
	r->ctstate = before->ctstate;
	r->helper = before->helper;
	r->mark_value = before->mark_value;
	r->mark_mask = before->mark_mask;
}

/*
 * One option at tk[*i] (arguments after it); *i moves past what was used.
 * @neg is the column of a preceding '!', or 0.  Returns false after an
 * error that makes the rest of the line unreadable.
 */
/*
 * "--option=value", as getopt_long() reads it: when @t is such a word, cut
 * it at the '=' (t->s becomes "--option") and make @val the value (its '='
 * is at val->s[-1]).  Only where an option may stand: the word after an
 * option that takes an argument is that argument, '=' or not.
 */
static bool split_long_option(struct tok *t, struct tok *val)
{
	char *eq;

	if (strncmp(t->s, "--", 2) || !(eq = strchr(t->s, '=')) || eq == t->s + 2)
		return false;
	*eq = '\0';
	val->s = eq + 1;
	val->col = t->col + (unsigned int)(eq - t->s) + 1;
	return true;
}

static bool parse_option(struct parser *p, struct rctx *x, struct tok *tk, int n, int *i,
			 unsigned int neg)
{
	struct optarg oa = { .o = &tk[*i], .neg = neg };
	const struct opt_def *d = find_opt(x, oa.o->s);
	struct rules_rule before = { 0 };
	bool late = false;
	struct tok inl = { NULL, 0 };	/* the value of "--option=value" */
	bool has_arg = *i + 1 < n;

	if (!d && split_long_option(&tk[*i], &inl)) {
		d = find_opt(x, oa.o->s);
		if (d && d->arg == ARG_NONE) {
			perror_at(p, inl.col - 1, "%s takes no argument", oa.o->s);
			return false;
		}
		/* iptables reads these (the ones a '!' may precede, and -j) from the
		 * next word whatever getopt says: "--protocol=tcp" is refused there */
		if (d && strchr("psdioj", d->name[1]) && !d->name[2]) {
			perror_at(p, oa.o->col, "write '%s %s': iptables does not read '%s=' (only "
				  "commands, -m, -g and the options of matches and targets take '=')",
				  oa.o->s, inl.s, oa.o->s);
			return false;
		}
		if (!d) {
			inl.s[-1] = '=';	/* not an option: as written */
			d = NULL;
			inl.s = NULL;
		}
	}
	if (x->skip_opts && oa.o->s[0] != '#' && (!d || d->match != M_NONE || d->target != T_NONE))
		return true;	/* an option or argument of an unknown -m: reported there */
	x->skip_opts = false;
	if (!d) {
		if (oa.o->s[0] == '-' && unknown_match_option(p, x, oa.o))
			return false;
		if (oa.o->s[0] == '#')
			perror_at(p, oa.o->col, "unexpected '#': comments must be on a line of their own "
				  "(or use -m comment --comment)");
		else if (oa.o->s[0] == '-')
			perror_at(p, oa.o->col, "unknown option '%s'", oa.o->s);
		else
			perror_at(p, oa.o->col, "unexpected argument '%s'", oa.o->s);
		return false;
	}
	oa.def = d;
	/* A target's option is unknown without its target, argument or not. */
	if (d->target != T_NONE && !brought_in(p, x, &oa)) {
		if (d->arg != ARG_NONE && has_arg && !inl.s)
			(*i)++;
		return true;
	}
	if (inl.s) {
		oa.a = &inl;
	} else if (d->arg != ARG_NONE && has_arg) {
		oa.a = &tk[++*i];
	} else if (d->arg == ARG_NEED || d->arg == ARG_TWO) {
		perror_at(p, oa.o->col, "%s needs an argument", oa.o->s);
		return false;
	}
	if (d->arg == ARG_TWO) {
		if (*i + 1 >= n || tk[*i + 1].s[0] == '-' || !strcmp(tk[*i + 1].s, "!")) {
			perror_at(p, oa.o->col, "%s needs two arguments", oa.o->s);
			return false;
		}
		oa.a2 = &tk[++*i];
	}
	if (d->match != M_NONE && !brought_in(p, x, &oa))
		return true;
	late = x->stateful_col && opt_after_stateful(x, d);
	if (late)
		before = x->pr.r;
	if (d->once) {
		if (x->seen & d->once) {
			if (d->once == OS_JUMP)
				perror_at(p, oa.o->col, "%s: a rule has one target (-j or -g)", oa.o->s);
			else
				perror_at(p, oa.o->col, "%s given twice", oa.o->s);
			return true;
		}
		x->seen |= d->once;
	}
	switch (d->fn(p, x, &oa)) {
	case OPT_STOP:
		return false;
	case OPT_BAD:
		return true;
	}
	if (neg) {
		if (!d->neg)
			perror_at(p, neg, "'!' cannot be used with %s", oa.o->s);
		else if (d->neg != RM_XMATCH)	/* the kind took it */
			x->pr.r.inv |= d->neg;
	}
	if (late)
		core_after_stateful(p, x, &before);
	return true;
}

/*
 * REJECT: the type for each family the rule can see.  A rule of one family
 * (-4, -6, an address, or any rule of a one-family file) takes only that
 * family's types, as iptables or
 * ip6tables would; a rule of both families rejects IPv6 packets with the
 * ICMPv6 type that means the same (nfqct_reject_counterpart()), so that
 * "-j REJECT --reject-with icmp-host-prohibited" at the end of INPUT keeps
 * meaning "refused" for both; a type without a counterpart needs -4 or -6.
 * Without --reject-with: port unreachable, as both programs.
 */
static void check_reject(struct parser *p, struct rctx *x)
{
	struct rules_rule *r = &x->pr.r;
	/* the rule's family, else the file's (--rules-v4 / --rules-v6), else both */
	int fam = (r->match & RM_FAMILY) ? r->family : p->family;
	unsigned int t = x->reject_type, other;
	unsigned int col = x->reject_col ? x->reject_col : x->target_col;

	if (!t) {
		t = fam == AF_INET6 ? NFQCT_REJECT6_PORT_UNREACH : NFQCT_REJECT_PORT_UNREACH;
	} else if (fam) {
		/* the names of the rule's family only ("port-unreach" is in both) */
		t = nfqct_reject_find(x->reject_arg, fam);
		if (!t) {
			perror_at(p, col, "'%s' is not an %s reject type (the rule is %s)", x->reject_arg,
				  fam == AF_INET ? "iptables" : "ip6tables", fam == AF_INET ? "IPv4" : "IPv6");
			return;
		}
	}
	if (t == NFQCT_REJECT_TCP_RESET && (!(r->match & RM_PROTO) || r->proto != IPPROTO_TCP ||
					     x->proto_inv)) {
		perror_at(p, col, "--reject-with tcp-reset needs -p tcp");
		return;
	}
	other = nfqct_reject_counterpart(t);
	if (!fam && !other) {
		perror_at(p, col, "reject type '%s' has no %s counterpart: add %s to the rule",
			  nfqct_reject_name(t), nfqct_reject_family(t) == AF_INET ? "ICMPv6" : "ICMP",
			  nfqct_reject_family(t) == AF_INET ? "-4" : "-6");
		return;
	}
	if (nfqct_reject_family(t) == AF_INET6) {
		r->tval = fam ? 0 : other;
		r->tmask = t;
	} else {
		r->tval = t;
		r->tmask = fam == AF_INET ? 0 : other;
	}
	r->tmask |= (uint32_t)t << 8;
}

/* Whole-rule checks: what one option cannot know alone. */
static void check_rule(struct parser *p, struct rctx *x)
{
	struct rules_rule *r = &x->pr.r;
	const char *pname = rules_proto_name(r->proto);

	if (x->port_mod && (!(r->match & RM_PROTO) || !pname || strcasecmp(x->port_mod, pname)))
		perror_at(p, x->port_mod_col, "-m %s needs -p %s", x->port_mod, x->port_mod);
	else if (x->port_col) {	/* one error for one mistake: a wrong -m says it */
		if (!(r->match & RM_PROTO) || !rules_is_port_proto(r->proto))
			perror_at(p, x->port_col, "%s needs -p tcp, udp, udplite, sctp or dccp", x->port_opt);
		else if (x->proto_inv)
			perror_at(p, x->port_col, "%s cannot be used with '! -p'", x->port_opt);
	}
	if (x->helper_col) {
		/* xt_CT finds the helper by name and protocol: the rule must name it */
		unsigned int id = (r->tmask >> 8) & 0xff;
		uint8_t want = nfqct_helper_proto(id);

		if (!(r->match & RM_PROTO) || x->proto_inv || r->proto != want)
			perror_at(p, x->helper_col, "CT --helper %s needs -p %s", nfqct_helper_name(id),
				  rules_proto_name(want));
	}
	if (x->icmp_col) {
		uint8_t want = x->icmp_family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

		if (!(r->match & RM_PROTO) || r->proto != want || x->proto_inv)
			perror_at(p, x->icmp_col, "%s needs -p %s", x->icmp_opt,
				  want == IPPROTO_ICMP ? "icmp" : "icmpv6");
	}
	for (unsigned int i = 0; i < x->pr.nxm; i++)
		if (x->pr.xm[i].kind == XK_IPV6HEADER && !(x->pr.xm[i].given & 1u << XO_V6H_HEADER)) {
			perror_at(p, x->mod_col[M_IPV6HEADER], "-m ipv6header needs --header");
			break;
		}
	if (x->tgt == T_REJECT)
		check_reject(p, x);
	for (unsigned int i = 0; i < x->pr.nxm; i++)
		if (x->pr.xm[i].kind == XK_RPFILTER) {
			unsigned int col = i < RULES_XM_COLS ? x->xm_col[i] : 1;

			/* ipt_rpfilter: tables raw and mangle (nfqct leaves mangle to the
			 * kernel), hook PREROUTING only (checked with the chains' hooks) */
			if (x->table != RULES_T_RAW) {
				perror_at(p, col, "-m rpfilter is only valid in table 'raw' (and 'mangle', "
					  "which nfqct leaves to the kernel)");
				return;
			}
			if (x->pr.xhooks & ~(1u << NFQCT_HOOK_PREROUTING))	/* -m mac's too: keep */
				continue;	/* -m owner's (no PREROUTING) refuses the chain anyway */
			x->pr.xhooks = 1u << NFQCT_HOOK_PREROUTING;
			x->pr.xhooks_col = col;
			x->pr.xhooks_what = "-m rpfilter";
		}
	for (unsigned int i = 0; i < x->pr.nxm; i++)
		if (x->pr.xm[i].kind == XK_CONNLIMIT && x->table == RULES_T_RAW) {
			/* nfqct runs raw before tracking: no table to count from */
			perror_at(p, i < RULES_XM_COLS ? x->xm_col[i] : 1,
				  "-m connlimit is not supported in table 'raw' (use it in 'filter')");
			return;
		}
	for (unsigned int i = 0; i < x->pr.nxm; i++) {
		const struct rules_xkind *k = &rules_xkinds[x->pr.xm[i].kind];
		char err[256];
		int rc;

		if (!k->finish || p->nerrs != x->errs0)	/* one error per mistake */
			continue;
		rc = k->finish(&x->pr.xm[i], err, sizeof(err));
		if (rc == -ENOMEM)
			p->oom = true;
		else if (rc)
			perror_at(p, i < RULES_XM_COLS ? x->xm_col[i] : 1, "%s", err);
	}
	for (int m = M_NONE + 1; m < M_MAX; m++)
		if (matches[m].needs && (x->mods & 1u << m) && !(x->used & 1u << m) && !x->bad_opt)
			perror_at(p, x->mod_col[m], "-m %s needs %s", matches[m].name, matches[m].needs);
	if (x->tgt == T_CONNMARK && x->cm_masks) {
		if (x->pr.r.target == RT_CONNMARK_SET)
			perror_at(p, x->cm_mask_col, "--nfmask, --ctmask and --mask are for --save-mark and "
				  "--restore-mark");
		else if (x->seen & OS_TOPT) {
			x->pr.r.tval = x->cm_nfmask;
			x->pr.r.tmask = x->cm_ctmask;
		}
	} else if (x->tgt == T_CONNMARK && x->pr.r.target != RT_CONNMARK_SET) {
		x->pr.r.tval = x->pr.r.tmask = UINT32_MAX;
	}
	if (x->tgt != T_NONE && targets[x->tgt].needs && !(x->seen & targets[x->tgt].needs)) {
		char names[128];

		target_opt_names(names, sizeof(names), x->tgt);
		perror_at(p, x->target_col, "%s needs one of %s", targets[x->tgt].name, names);
	}
}

static void prule_free(struct prule *pr)
{
	free(pr->jump);
	free(pr->info.comment);
	rules_settarget_free(pr->info.set);
	rules_xmatch_free(pr->xm, pr->nxm);
	free(pr->xm);
}

/* Append @pr to @t (moved: on failure it is freed and p->oom set). */
static void add_rule(struct parser *p, struct ptable *t, struct prule *pr)
{
	if (t->nrules == t->rules_cap) {
		unsigned int cap = t->rules_cap ? 2 * t->rules_cap : 16;
		struct prule *n = realloc(t->rules, cap * sizeof(*n));

		if (!n) {
			p->oom = true;
			prule_free(pr);
			return;
		}
		t->rules = n;
		t->rules_cap = cap;
	}
	t->rules[t->nrules++] = *pr;
}

/* Commands that take a rule, as iptables-restore reads them. */
enum rule_cmd { CMD_APPEND, CMD_INSERT, CMD_REPLACE, CMD_DELETE };

/* Index in t->rules of rule @pos (1-based) of chain @c, or t->nrules past its last rule. */
static unsigned int rule_at(const struct ptable *t, unsigned int c, unsigned int pos)
{
	unsigned int seen = 0;

	for (unsigned int i = 0; i < t->nrules; i++)
		if (t->rules[i].chain == c && ++seen == pos)
			return i;
	return t->nrules;
}

static unsigned int chain_rules(const struct ptable *t, unsigned int c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < t->nrules; i++)
		n += t->rules[i].chain == c;
	return n;
}

/* Remove t->rules[i] (freed), keeping the order of the others. */
static void rule_remove(struct ptable *t, unsigned int i)
{
	prule_free(&t->rules[i]);
	memmove(&t->rules[i], &t->rules[i + 1], (t->nrules - i - 1) * sizeof(t->rules[0]));
	t->nrules--;
}

static bool settarget_same(const struct rules_settarget *a, const struct rules_settarget *b)
{
	if (!a || !b)
		return a == b;
	return a->add == b->add && a->del == b->del && !strcmp(a->add_name, b->add_name) &&
	       !strcmp(a->del_name, b->del_name) && a->add_dim == b->add_dim && a->add_src == b->add_src &&
	       a->del_dim == b->del_dim && a->del_src == b->del_src && a->exist == b->exist &&
	       a->timeout == b->timeout;
}

/*
 * Two rules are the same rule for -D when everything evaluation and
 * printing read is equal (the line they were written on aside), as
 * iptables compares the compiled entries.  Rules start zeroed, padding
 * included, so the compiled part compares bytewise.
 */
static bool prule_same(const struct prule *a, const struct prule *b)
{
	const struct rules_info *x = &a->info, *y = &b->info;

	if (a->nxm != b->nxm)
		return false;
	for (unsigned int i = 0; i < a->nxm; i++)	/* in the order written, as iptables */
		if (!rules_xmatch_same(&a->xm[i], &b->xm[i]))
			return false;
	return !memcmp(&a->r, &b->r, sizeof(a->r)) &&
	       !strcmp(a->jump ? a->jump : "", b->jump ? b->jump : "") &&
	       !strcmp(x->comment ? x->comment : "", y->comment ? y->comment : "") &&
	       x->src_plen == y->src_plen && x->dst_plen == y->dst_plen && x->ctmod == y->ctmod &&
	       x->notrack_alias == y->notrack_alias && !strcmp(x->in, y->in) && !strcmp(x->out, y->out) &&
	       !memcmp(&x->log, &y->log, sizeof(x->log)) &&	/* zeroed, prefix NUL-padded */
	       settarget_same(x->set, y->set);
}

/* A rule number as iptables reads it: 1 or more, decimal. */
static bool parse_rulenum(const char *s, unsigned int *n)
{
	unsigned long v;

	if (!rules_parse_dec(s, UINT32_MAX, &v) || v == 0)
		return false;
	*n = (unsigned int)v;
	return true;
}

/*
 * "-A CHAIN rule", "-I CHAIN [N] rule", "-R CHAIN N rule", "-D CHAIN rule"
 * and "-D CHAIN N", applied in file order to the table being read.
 */
static void parse_rule_cmd(struct parser *p, struct tok *tk, int n, enum rule_cmd cmd)
{
	struct ptable *t = &p->pt[p->cur];
	unsigned int errs = p->nerrs, neg = 0, pos = 0, count, at;
	int c = -1, i, first = 2;
	struct rctx x;

	memset(&x, 0, sizeof(x));
	for (i = 0; i < M_MAX; i++)
		x.xcur[i] = -1;
	if (n < 2) {
		perror_at(p, tk[0].col, "%s needs a chain name", tk[0].s);
		return;
	}
	c = find_chain(t, tk[1].s);
	if (c < 0) {
		if (is_hook_name(tk[1].s))
			perror_at(p, tk[1].col, "chain '%s' is not a built-in chain of table '%s': expected %s",
				  tk[1].s, rules_table_name[p->cur], builtins[p->cur].expected);
		else
			perror_at(p, tk[1].col, "chain '%s' does not exist (declare it first with "
				  "':%s - [0:0]' or -N %s)", tk[1].s, tk[1].s, tk[1].s);
	}
	/* The rule number: optional for -I (1), needed for -R, alone for -D N. */
	if (cmd != CMD_APPEND && n > 2 && isdigit((unsigned char)tk[2].s[0])) {
		if (!parse_rulenum(tk[2].s, &pos)) {
			perror_at(p, tk[2].col, "expected a rule number (1 or more), got '%s'", tk[2].s);
			return;
		}
		first = 3;
	} else if (cmd == CMD_REPLACE) {
		perror_at(p, n > 2 ? tk[2].col : tk[1].col, "%s needs a rule number after the chain name",
			  tk[0].s);
		return;
	}
	if (cmd == CMD_DELETE && pos) {
		if (n > 3) {
			perror_at(p, tk[3].col, "unexpected '%s': -D takes a rule number or a rule, not both",
				  tk[3].s);
			return;
		}
		if (c < 0)
			return;
		count = chain_rules(t, (unsigned int)c);
		if (pos > count) {
			perror_at(p, tk[2].col, "-D %s %u: chain '%s' has %u rule%s", tk[1].s, pos, tk[1].s,
				  count, count == 1 ? "" : "s");
			return;
		}
		rule_remove(t, rule_at(t, (unsigned int)c, pos));
		return;
	}

	x.pr.info.line = p->line;
	x.table = p->cur;
	x.errs0 = p->nerrs;
	for (i = first; i < n; i++) {
		if (!strcmp(tk[i].s, "!")) {
			if (neg)
				perror_at(p, tk[i].col, "multiple '!' flags not allowed");
			neg = tk[i].col;
			continue;
		}
		if (!parse_option(p, &x, tk, n, &i, neg))
			break;
		neg = 0;
	}
	if (neg && i >= n)
		perror_at(p, neg, "'!' at the end of the rule: it must come before an option");
	check_rule(p, &x);
	if (c < 0 || p->nerrs != errs)
		goto drop;
	if (p->family && x.other_family) {
		/* as ip6tables-restore skips a -4 rule and iptables-restore a -6 one */
		pnote_at(p, x.other_family, "rule skipped: it is for %s and this is an %s ruleset",
			 p->family == AF_INET ? "IPv6" : "IPv4", p->family == AF_INET ? "IPv4" : "IPv6");
		goto drop;
	}
	x.pr.chain = (unsigned int)c;
	count = chain_rules(t, (unsigned int)c);
	switch (cmd) {
	case CMD_APPEND:
		add_rule(p, t, &x.pr);
		return;
	case CMD_INSERT:
		if (!pos)
			pos = 1;
		if (pos > count + 1) {
			perror_at(p, tk[2].col, "-I %s %u: chain '%s' has %u rule%s (at most %u here)", tk[1].s,
				  pos, tk[1].s, count, count == 1 ? "" : "s", count + 1);
			goto drop;
		}
		at = rule_at(t, (unsigned int)c, pos);
		add_rule(p, t, &x.pr);
		if (p->oom)
			return;
		/* add_rule() appended it: move it in front of rule @pos of its chain */
		if (at < t->nrules - 1) {
			struct prule tmp = t->rules[t->nrules - 1];

			memmove(&t->rules[at + 1], &t->rules[at], (t->nrules - 1 - at) * sizeof(tmp));
			t->rules[at] = tmp;
		}
		return;
	case CMD_REPLACE:
		if (pos > count) {
			perror_at(p, tk[2].col, "-R %s %u: chain '%s' has %u rule%s", tk[1].s, pos, tk[1].s,
				  count, count == 1 ? "" : "s");
			goto drop;
		}
		at = rule_at(t, (unsigned int)c, pos);
		prule_free(&t->rules[at]);
		t->rules[at] = x.pr;
		return;
	case CMD_DELETE:
		for (at = 0; at < t->nrules; at++)
			if (t->rules[at].chain == (unsigned int)c && prule_same(&t->rules[at], &x.pr))
				break;
		if (at == t->nrules)
			perror_at(p, tk[0].col, "-D %s: no such rule in chain '%s'", tk[1].s, tk[1].s);
		else
			rule_remove(t, at);
		goto drop;
	}
drop:
	prule_free(&x.pr);
}

/* Rebuild the chain-name index after a chain was removed or renamed. */
static void index_rebuild(struct ptable *t)
{
	memset(t->index, 0, t->index_cap * sizeof(*t->index));
	for (unsigned int c = 0; c < t->nchains; c++)
		index_put(t, c);
}

/* The user chain named by tk (for -X, -E), or -1 after reporting. */
static int find_user_chain(struct parser *p, struct ptable *t, const struct tok *tk, const char *cmd)
{
	int c = find_chain(t, tk->s);

	if (c < 0)
		perror_at(p, tk->col, "%s: chain '%s' does not exist", cmd, tk->s);
	else if (t->chains[c].c.builtin)
		perror_at(p, tk->col, "%s: chain '%s' is built in", cmd, tk->s);
	else
		return c;
	return -1;
}

/* Where is user chain @c jumped to from (a rule outside it)?  The rule's index, or -1. */
static int chain_referenced(const struct ptable *t, unsigned int c)
{
	for (unsigned int i = 0; i < t->nrules; i++)
		if (t->rules[i].jump && t->rules[i].chain != c &&
		    !strcmp(t->rules[i].jump, t->chains[c].c.name))
			return (int)i;
	return -1;
}

/* Remove user chain @c, which has no rules: later chains move down one. */
static void chain_remove(struct ptable *t, unsigned int c)
{
	memmove(&t->chains[c], &t->chains[c + 1], (t->nchains - c - 1) * sizeof(t->chains[0]));
	t->nchains--;
	for (unsigned int i = 0; i < t->nrules; i++)
		if (t->rules[i].chain > c)
			t->rules[i].chain--;
	index_rebuild(t);
}

/* "-X [CHAIN]": delete a user chain (or all), which must be empty and unreferenced. */
static void parse_delete_chain(struct parser *p, struct tok *tk, int n)
{
	struct ptable *t = &p->pt[p->cur];
	unsigned int from, to;
	int c, ref;

	if (n > 2) {
		perror_at(p, tk[2].col, "unexpected '%s' after the chain name", tk[2].s);
		return;
	}
	if (n == 2) {
		if ((c = find_user_chain(p, t, &tk[1], tk[0].s)) < 0)
			return;
		from = (unsigned int)c;
		to = from + 1;
	} else {
		from = builtins[p->cur].n;
		to = t->nchains;
	}
	/* Check them all first: -X deletes all of them or none. */
	for (unsigned int k = from; k < to; k++) {
		const char *name = t->chains[k].c.name;
		unsigned int count = chain_rules(t, k);

		if (count) {
			perror_at(p, n == 2 ? tk[1].col : tk[0].col, "%s: chain '%s' has %u rule%s "
				  "(flush it first with -F %s)", tk[0].s, name, count, count == 1 ? "" : "s",
				  name);
			return;
		}
		if ((ref = chain_referenced(t, k)) >= 0) {
			perror_at(p, n == 2 ? tk[1].col : tk[0].col, "%s: chain '%s' is jumped to by the "
				  "rule of line %u", tk[0].s, name, t->rules[ref].info.line);
			return;
		}
	}
	while (to-- > from)
		chain_remove(t, to);
}

/* "-F [CHAIN]": delete the rules of a chain, or of every chain. */
static void parse_flush(struct parser *p, struct tok *tk, int n)
{
	struct ptable *t = &p->pt[p->cur];
	int c = -1;

	if (n > 2) {
		perror_at(p, tk[2].col, "unexpected '%s' after the chain name", tk[2].s);
		return;
	}
	if (n == 2 && (c = find_chain(t, tk[1].s)) < 0) {
		perror_at(p, tk[1].col, "%s: chain '%s' does not exist", tk[0].s, tk[1].s);
		return;
	}
	for (unsigned int i = t->nrules; i-- > 0;)
		if (c < 0 || t->rules[i].chain == (unsigned int)c)
			rule_remove(t, i);
}

/* "-Z [CHAIN [N]]": counters start at zero when nfqct loads a file; the names are checked. */
static void parse_zero(struct parser *p, struct tok *tk, int n)
{
	struct ptable *t = &p->pt[p->cur];
	unsigned int pos, count;
	int c;

	if (n > 3) {
		perror_at(p, tk[3].col, "unexpected '%s' after the rule number", tk[3].s);
		return;
	}
	if (n < 2)
		return;
	if ((c = find_chain(t, tk[1].s)) < 0) {
		perror_at(p, tk[1].col, "%s: chain '%s' does not exist", tk[0].s, tk[1].s);
		return;
	}
	if (n == 3) {
		if (!parse_rulenum(tk[2].s, &pos)) {
			perror_at(p, tk[2].col, "expected a rule number (1 or more), got '%s'", tk[2].s);
			return;
		}
		count = chain_rules(t, (unsigned int)c);
		if (pos > count)
			perror_at(p, tk[2].col, "%s %s %u: chain '%s' has %u rule%s", tk[0].s, tk[1].s, pos,
				  tk[1].s, count, count == 1 ? "" : "s");
	}
}

/* "-E OLD NEW": rename a user chain; jumps to it follow (iptables keeps them). */
static void parse_rename(struct parser *p, struct tok *tk, int n)
{
	struct ptable *t = &p->pt[p->cur];
	int c;

	if (n != 3) {
		if (n > 3)
			perror_at(p, tk[3].col, "unexpected '%s' after the new name", tk[3].s);
		else
			perror_at(p, tk[0].col, "%s needs the old and the new chain name", tk[0].s);
		return;
	}
	if ((c = find_user_chain(p, t, &tk[1], tk[0].s)) < 0)
		return;
	if (find_chain(t, tk[2].s) >= 0) {
		perror_at(p, tk[2].col, "%s: chain '%s' already exists", tk[0].s, tk[2].s);
		return;
	}
	if (!check_user_chain_name(p, p->cur, &tk[2]))
		return;
	for (unsigned int i = 0; i < t->nrules; i++) {
		struct prule *pr = &t->rules[i];
		char *name;

		if (!pr->jump || strcmp(pr->jump, tk[1].s))
			continue;
		if (!(name = strdup(tk[2].s))) {
			p->oom = true;
			return;
		}
		free(pr->jump);
		pr->jump = name;
	}
	snprintf(t->chains[c].c.name, sizeof(t->chains[c].c.name), "%s", tk[2].s);
	index_rebuild(t);
}

/* "-P CHAIN POLICY": the policy of a built-in chain. */
static void parse_policy(struct parser *p, struct tok *tk, int n)
{
	struct ptable *t = &p->pt[p->cur];
	int c;

	if (n != 3) {
		if (n > 3)
			perror_at(p, tk[3].col, "unexpected '%s' after the policy", tk[3].s);
		else
			perror_at(p, tk[0].col, "%s needs a built-in chain and a policy (ACCEPT or DROP)",
				  tk[0].s);
		return;
	}
	c = find_chain(t, tk[1].s);
	if (c < 0 || !t->chains[c].c.builtin) {
		perror_at(p, tk[1].col, "%s: '%s' is not a built-in chain of table '%s': expected %s",
			  tk[0].s, tk[1].s, rules_table_name[p->cur], builtins[p->cur].expected);
		return;
	}
	if (!strcmp(tk[2].s, "ACCEPT"))
		t->chains[c].c.policy = RT_ACCEPT;
	else if (!strcmp(tk[2].s, "DROP"))
		t->chains[c].c.policy = RT_DROP;
	else
		perror_at(p, tk[2].col, "built-in chain '%s' needs policy ACCEPT or DROP, got '%s'",
			  tk[1].s, tk[2].s);
}

/* ---- COMMIT: whole-table checks ---- */

/*
 * The jump graph of a table, built at COMMIT: the jumps of chain c are
 * rules[jump[first[c]]] .. rules[jump[first[c + 1] - 1]], in file order.
 * Everything below is linear in chains + rules, and nothing recurses: a
 * file of 14,000 nested chains is one error, not a stack overflow.
 */
struct jgraph {
	unsigned int *first;	/* [nchains + 1] */
	unsigned int *jump;	/* [number of resolved jumps] */
	unsigned int *order;	/* chains in DFS post-order (every jump target before its chain) */
	struct frame {
		unsigned int chain;
		unsigned int next;	/* its next jump to follow */
	} *stack;		/* [nchains]: a chain is on it at most once */
};

static int jgraph_build(struct jgraph *g, const struct ptable *t)
{
	unsigned int n = 0;

	memset(g, 0, sizeof(*g));
	g->first = calloc(t->nchains + 1, sizeof(*g->first));
	g->order = calloc(t->nchains ? t->nchains : 1, sizeof(*g->order));
	g->stack = calloc(t->nchains ? t->nchains : 1, sizeof(*g->stack));
	if (!g->first || !g->order || !g->stack)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nrules; i++)
		if (rules_to_chain(t->rules[i].r.target) && t->rules[i].r.tval != UINT32_MAX) {
			g->first[t->rules[i].chain + 1]++;
			n++;
		}
	for (unsigned int c = 0; c < t->nchains; c++)
		g->first[c + 1] += g->first[c];
	g->jump = calloc(n ? n : 1, sizeof(*g->jump));
	if (!g->jump)
		return -ENOMEM;
	/* Counting sort by chain, stable: file order within a chain. */
	{
		unsigned int *fill = g->order;	/* borrowed until the walk */

		memcpy(fill, g->first, t->nchains * sizeof(*fill));
		for (unsigned int i = 0; i < t->nrules; i++)
			if (rules_to_chain(t->rules[i].r.target) && t->rules[i].r.tval != UINT32_MAX)
				g->jump[fill[t->rules[i].chain]++] = i;
	}
	return 0;
}

static void jgraph_free(struct jgraph *g)
{
	free(g->first);
	free(g->jump);
	free(g->order);
	free(g->stack);
}

/* Report the loop closed by rule @pr: its target is on the stack, between its pos and @top. */
static void report_loop(struct parser *p, struct ptable *t, const struct jgraph *g, struct prule *pr,
			unsigned int top)
{
	const struct pchain *to = &t->chains[pr->r.tval];
	char path[512];
	size_t off = 0;

	for (unsigned int k = to->pos; k <= top && off < sizeof(path); k++)
		off += (size_t)snprintf(path + off, sizeof(path) - off, "%s -> ",
					t->chains[g->stack[k].chain].c.name);
	if (off < sizeof(path))
		snprintf(path + off, sizeof(path) - off, "%s", to->c.name);
	p->line = pr->info.line;
	perror_at(p, pr->jump_col, "jump to '%s' makes a loop: %s", to->c.name, path);
}

/*
 * Depth-first walk of every chain, in declaration order, on the explicit
 * stack of @g.  Reports each loop at the jump that closes it and cuts that
 * jump (the graph has no loops after), sets each chain's height (the
 * longest run of jumps below it) and lists the chains in post-order.
 */
static void walk_chains(struct parser *p, struct ptable *t, struct jgraph *g)
{
	unsigned int done = 0;

	for (unsigned int root = 0; root < t->nchains; root++) {
		unsigned int top = 0;

		if (t->chains[root].state)
			continue;
		g->stack[0] = (struct frame){ root, g->first[root] };
		t->chains[root].state = 1;
		t->chains[root].pos = 0;
		for (;;) {
			struct frame *f = &g->stack[top];
			struct pchain *ch = &t->chains[f->chain];
			struct prule *pr;
			struct pchain *to;

			if (f->next == g->first[f->chain + 1]) {	/* all its jumps seen */
				ch->state = 2;
				g->order[done++] = f->chain;
				if (top == 0)
					break;
				top--;
				if (ch->height + 1 > t->chains[g->stack[top].chain].height)
					t->chains[g->stack[top].chain].height = ch->height + 1;
				continue;
			}
			rules_parse_steps++;
			pr = &t->rules[g->jump[f->next++]];
			to = &t->chains[pr->r.tval];
			if (to->state == 1) {
				report_loop(p, t, g, pr, top);
				pr->r.tval = UINT32_MAX;	/* report it once */
			} else if (to->state == 0) {
				to->state = 1;
				to->pos = ++top;
				g->stack[top] = (struct frame){ pr->r.tval, g->first[pr->r.tval] };
			} else if (to->height + 1 > ch->height) {
				ch->height = to->height + 1;
			}
		}
	}
}

/* Spread the hooks a chain is reached from down its jumps: callers before callees. */
static void spread_hooks(struct ptable *t, const struct jgraph *g)
{
	for (unsigned int i = t->nchains; i-- > 0;) {
		unsigned int c = g->order[i];

		for (unsigned int j = g->first[c]; j < g->first[c + 1]; j++) {
			const struct prule *pr = &t->rules[g->jump[j]];

			rules_parse_steps++;
			if (pr->r.tval != UINT32_MAX)
				t->chains[pr->r.tval].hooks |= t->chains[c].hooks;
		}
	}
}

static void table_commit(struct parser *p, int id)
{
	struct ptable *t = &p->pt[id];
	unsigned int saved_line = p->line;
	struct jgraph g;

	t->committed = true;
	for (unsigned int i = 0; i < t->nrules; i++) {
		struct prule *pr = &t->rules[i];
		int c;

		if (!rules_to_chain(pr->r.target))
			continue;
		p->line = pr->info.line;
		c = find_chain(t, pr->jump);
		pr->r.tval = UINT32_MAX;
		if (c < 0)
			perror_at(p, pr->jump_col, "no target or chain named '%s' in table '%s'", pr->jump,
				  rules_table_name[id]);
		else if (t->chains[c].c.builtin)
			perror_at(p, pr->jump_col, "cannot jump to built-in chain '%s'", pr->jump);
		else
			pr->r.tval = (uint32_t)c;
	}

	if (jgraph_build(&g, t)) {
		p->oom = true;
		goto out;
	}
	walk_chains(p, t, &g);
	spread_hooks(t, &g);
	for (unsigned int c = 0; c < t->nchains; c++) {
		struct pchain *ch = &t->chains[c];

		if (ch->c.builtin && ch->height > NFQCT_RULES_MAX_DEPTH) {
			p->line = ch->line ? ch->line : t->line;
			perror_at(p, 1, "chain '%s' nests user chains %u deep (at most %d)", ch->c.name,
				  ch->height, NFQCT_RULES_MAX_DEPTH);
		}
	}

	/*
	 * -i / -o only where packets have such an interface.  As iptables,
	 * only a rule of the built-in chain itself is refused; in a user chain
	 * reached from there the test is legal and sees no interface (so
	 * "-o eth0" never matches and "! -o eth0" always does).
	 */
	for (unsigned int i = 0; i < t->nrules; i++) {
		struct prule *pr = &t->rules[i];
		unsigned int hooks = t->chains[pr->chain].hooks;

		p->line = pr->info.line;
		/* an extension match's hooks are checked in user chains too, as the
		 * kernel checks a match against every hook its rule is reached from */
		if (pr->xhooks && (hooks & ~pr->xhooks))
			perror_at(p, pr->xhooks_col, "%s cannot be used in chain '%s': it is reached from %s "
				  "(%s only in %s)", pr->xhooks_what, t->chains[pr->chain].c.name,
				  hook_names[__builtin_ctz(hooks & ~pr->xhooks)], pr->xhooks_what,
				  pr->xhooks == 1u << NFQCT_HOOK_PREROUTING ? "PREROUTING" :
				  pr->xhooks & 1u << NFQCT_HOOK_INPUT ? "PREROUTING, INPUT and FORWARD" :
				  pr->xhooks & 1u << NFQCT_HOOK_FORWARD ? "FORWARD, OUTPUT and POSTROUTING" :
				  "OUTPUT and POSTROUTING");
		if (!t->chains[pr->chain].c.builtin)
			continue;
		const unsigned int no_in = 1u << NFQCT_HOOK_OUTPUT | 1u << NFQCT_HOOK_POSTROUTING;
		const unsigned int no_out = 1u << NFQCT_HOOK_PREROUTING | 1u << NFQCT_HOOK_INPUT;

		if ((pr->r.match & RM_IN) && (hooks & no_in))
			perror_at(p, pr->in_col, "-i cannot be used in chain '%s': packets from %s have no "
				  "input interface", t->chains[pr->chain].c.name,
				  hook_names[__builtin_ctz(hooks & no_in)]);
		if ((pr->r.match & RM_OUT) && (hooks & no_out))
			perror_at(p, pr->out_col, "-o cannot be used in chain '%s': packets from %s have no "
				  "output interface", t->chains[pr->chain].c.name,
				  hook_names[__builtin_ctz(hooks & no_out)]);
	}
out:
	jgraph_free(&g);
	p->line = saved_line;
}

/* ---- lines ---- */

/* The commands of iptables-restore files. */
static const struct {
	const char *name, *alias;
	enum rule_cmd cmd;		/* for the ones that take a rule (fn NULL) */
	void (*fn)(struct parser *p, struct tok *tk, int n);
} commands[] = {
	{ "-A", "--append", CMD_APPEND, NULL },
	{ "-I", "--insert", CMD_INSERT, NULL },
	{ "-R", "--replace", CMD_REPLACE, NULL },
	{ "-D", "--delete", CMD_DELETE, NULL },
	{ "-N", "--new-chain", 0, parse_new_chain },
	{ "-X", "--delete-chain", 0, parse_delete_chain },
	{ "-F", "--flush", 0, parse_flush },
	{ "-Z", "--zero", 0, parse_zero },
	{ "-E", "--rename-chain", 0, parse_rename },
	{ "-P", "--policy", 0, parse_policy },
};

/* Tables of iptables that nfqct leaves to the kernel: read past, noted. */
static bool is_kernel_table(const char *name)
{
	return !strcmp(name, "nat") || !strcmp(name, "mangle") || !strcmp(name, "security");
}

static void kernel_table_missing_commit(struct parser *p)
{
	unsigned int line = p->line;

	p->line = p->kernel_table.line;
	perror_at(p, 1, "COMMIT missing at end of table '%s'", p->kernel_table.name);
	p->line = line;
}

/* The end (COMMIT, next table or end of file) of a table left to the kernel. */
static void kernel_table_end(struct parser *p)
{
	unsigned int line = p->line;

	if (!p->kernel_table.name[0])
		return;
	p->line = p->kernel_table.line;
	pnote_at(p, 2, "table '%s' (%u rule%s) is left to the kernel: nfqct does not run it "
		 "(nfqct-kernel-rules --tables loads it there)", p->kernel_table.name,
		 p->kernel_table.rules, p->kernel_table.rules == 1 ? "" : "s");
	p->line = line;
	p->kernel_table.name[0] = '\0';
}

static void parse_line(struct parser *p, char *line, char *buf, struct tok *toks, int maxtok)
{
	struct tok val;
	int n, id;

	if (line[strspn(line, " \t")] == '#')
		return;		/* a comment line */
	n = tokenize(p, line, buf, toks, maxtok);
	if (n <= 0)
		return;

	if (p->cur == CUR_SKIP) {
		bool header = toks[0].s[0] == '*' && line[toks[0].col - 1] == '*';

		if (!strcmp(toks[0].s, "COMMIT") || (header && p->kernel_table.name[0])) {
			if (header)
				kernel_table_missing_commit(p);
			kernel_table_end(p);
			p->cur = CUR_NONE;
		} else if (p->kernel_table.name[0]) {
			/* a rule, after the counters iptables-save -c puts before it */
			const char *cmd = is_counters(toks[0].s) && n > 1 ? toks[1].s : toks[0].s;

			p->kernel_table.rules += !strcmp(cmd, "-A") || !strcmp(cmd, "-I") ||
						 !strcmp(cmd, "--append") || !strcmp(cmd, "--insert");
		}
		if (!header || p->cur == CUR_SKIP)
			return;
	}
	if (toks[0].s[0] == '*' && line[toks[0].col - 1] == '*') {
		const char *name = toks[0].s + 1;

		if (p->cur >= 0) {
			unsigned int l = p->line;

			p->line = p->pt[p->cur].line;
			perror_at(p, 1, "COMMIT missing at end of table '%s'", rules_table_name[p->cur]);
			p->line = l;
			table_commit(p, p->cur);
		}
		if (n > 1)
			perror_at(p, toks[1].col, "unexpected '%s' after the table name", toks[1].s);
		for (id = 0; id < RULES_T_MAX; id++)
			if (!strcmp(name, rules_table_name[id]))
				break;
		if (id == RULES_T_MAX) {
			p->cur = CUR_SKIP;
			if (is_kernel_table(name)) {
				snprintf(p->kernel_table.name, sizeof(p->kernel_table.name), "%s", name);
				p->kernel_table.line = p->line;
				p->kernel_table.rules = 0;
			} else {
				perror_at(p, toks[0].col + 1, "unknown table '%s': expected 'raw' or 'filter' "
					  "(or nat, mangle, security: left to the kernel)", name);
			}
			return;
		}
		if (p->pt[id].seen) {
			perror_at(p, toks[0].col + 1, "table '%s' given twice (first at line %u); use -4/-6 "
				  "for rules of one family", name, p->pt[id].line);
			p->cur = CUR_SKIP;
			return;
		}
		table_open(p, id);
		p->cur = id;
		return;
	}
	if (!strcmp(toks[0].s, "COMMIT")) {
		if (p->cur < 0) {
			perror_at(p, toks[0].col, "COMMIT outside a table");
			return;
		}
		if (n > 1)
			perror_at(p, toks[1].col, "unexpected '%s' after COMMIT", toks[1].s);
		table_commit(p, p->cur);
		p->cur = CUR_NONE;
		return;
	}
	if (p->cur < 0) {
		perror_at(p, toks[0].col, "'%s' outside a table: expected '*raw' or '*filter' first",
			  toks[0].s);
		return;
	}
	if (toks[0].s[0] == ':') {
		parse_chain_line(p, toks, n);
		return;
	}
	if (is_counters(toks[0].s)) {	/* iptables-save -c: counters before the command */
		toks++;
		n--;
		maxtok--;
		if (n == 0) {
			perror_at(p, toks[-1].col, "expected a command after the counters");
			return;
		}
	}
	/* "--append=CHAIN": the command and its first argument */
	if (n < maxtok && split_long_option(&toks[0], &val)) {
		memmove(&toks[2], &toks[1], (size_t)(n - 1) * sizeof(*toks));
		toks[1] = val;
		n++;
	}
	for (size_t i = 0; i < RULES_ARRAY_SIZE(commands); i++)
		if (!strcmp(toks[0].s, commands[i].name) || !strcmp(toks[0].s, commands[i].alias)) {
			if (commands[i].fn)
				commands[i].fn(p, toks, n);
			else
				parse_rule_cmd(p, toks, n, commands[i].cmd);
			return;
		}
	if (toks[0].s[0] == '-')
		perror_at(p, toks[0].col, "unknown command '%s': expected -A, -I, -D, -R, -N, -X, -F, -Z, "
			  "-E, -P, ':CHAIN POLICY', COMMIT or '*table'", toks[0].s);
	else
		perror_at(p, toks[0].col, "unexpected '%s': expected a command (-A, -I, ...), "
			  "':CHAIN POLICY', COMMIT or '*table'", toks[0].s);
}

/* ---- building the ruleset ---- */

static int build_table(struct nfqct_ruleset *rs, int id, struct ptable *pt)
{
	struct rules_table *t = &rs->t[id];
	unsigned int *next;

	t->nchains = pt->nchains;
	t->nrules = pt->nrules;
	t->chains = calloc(pt->nchains, sizeof(*t->chains));
	t->rules = calloc(pt->nrules ? pt->nrules : 1, sizeof(*t->rules));
	t->info = calloc(pt->nrules ? pt->nrules : 1, sizeof(*t->info));
	next = calloc(pt->nchains, sizeof(*next));
	for (unsigned int i = 0; i < pt->nrules; i++)
		t->nxm += pt->rules[i].nxm;
	t->xm = calloc(t->nxm ? t->nxm : 1, sizeof(*t->xm));
	if (!t->chains || !t->rules || !t->info || !next || !t->xm) {
		free(next);
		return -ENOMEM;
	}
	/* Chains in declaration order; rules grouped by chain, in file order. */
	for (unsigned int i = 0; i < pt->nrules; i++)
		t->chains[pt->rules[i].chain].count++;
	for (unsigned int c = 0, pos = 0; c < pt->nchains; c++) {
		uint32_t count = t->chains[c].count;

		t->chains[c] = pt->chains[c].c;
		t->chains[c].first = pos;
		t->chains[c].count = count;
		next[c] = pos;
		pos += count;
	}
	for (unsigned int i = 0; i < pt->nrules; i++) {
		struct prule *pr = &pt->rules[i];
		unsigned int at = next[pr->chain]++;

		t->rules[at] = pr->r;
		t->rules[at].xcount = pr->nxm;
		t->info[at] = pr->info;
		pr->info.comment = NULL;	/* moved */
		pr->info.set = NULL;
	}
	free(next);
	/* Extension matches in rule order, so that a chain's walk reads them forwards. */
	for (unsigned int i = 0, xi = 0; i < t->nrules; i++) {
		t->rules[i].xfirst = xi;
		xi += t->rules[i].xcount;
	}
	{
		unsigned int *pos = calloc(pt->nchains, sizeof(*pos));

		if (!pos)
			return -ENOMEM;
		for (unsigned int c = 0; c < pt->nchains; c++)
			pos[c] = t->chains[c].first;
		for (unsigned int i = 0; i < pt->nrules; i++) {
			struct prule *pr = &pt->rules[i];
			struct rules_rule *r = &t->rules[pos[pr->chain]++];

			if (pr->nxm)	/* memcpy() may not be given NULL, even for nothing */
				memcpy(&t->xm[r->xfirst], pr->xm, pr->nxm * sizeof(*pr->xm));
			free(pr->xm);	/* moved: what it points at belongs to t->xm now */
			pr->xm = NULL;
			pr->nxm = 0;
		}
		free(pos);
	}

	for (int h = 0; h < NFQCT_HOOK_MAX; h++)
		t->hook_chain[h] = -1;
	if (id == RULES_T_RAW) {
		/* Entering packets run PREROUTING, local ones OUTPUT (nfqct.rules(5), HOOKS AND CHAINS). */
		t->hook_chain[NFQCT_HOOK_PREROUTING] = 0;
		t->hook_chain[NFQCT_HOOK_INPUT] = 0;
		t->hook_chain[NFQCT_HOOK_FORWARD] = 0;
		t->hook_chain[NFQCT_HOOK_OUTPUT] = 1;
		t->hook_chain[NFQCT_HOOK_POSTROUTING] = 1;
	} else {
		t->hook_chain[NFQCT_HOOK_INPUT] = 0;
		t->hook_chain[NFQCT_HOOK_FORWARD] = 1;
		t->hook_chain[NFQCT_HOOK_OUTPUT] = 2;
	}
	return 0;
}

static void parser_free(struct parser *p)
{
	for (int id = 0; id < RULES_T_MAX; id++) {
		struct ptable *t = &p->pt[id];

		for (unsigned int i = 0; i < t->nrules; i++)
			prule_free(&t->rules[i]);
		free(t->rules);
		free(t->chains);
		free(t->index);
	}
	for (unsigned int i = 0; i < p->nrecs; i++)
		free(p->recs[i].msg);
	free(p->recs);
}

/* The reader: @family 0 (both families, -r) or AF_INET / AF_INET6 (one-family file). */
static int load_fp(const char *name, FILE *in, int family, unsigned int nworkers,
		   struct nfqct_ruleset **rsp, FILE *errs)
{
	struct parser p;
	struct nfqct_ruleset *rs = NULL;
	char *line = NULL, *buf = NULL;
	struct tok *toks = NULL;
	size_t cap = 0, bufcap = 0;
	ssize_t len;
	int rc = 0;

	*rsp = NULL;
	if (nworkers == 0)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.family = family;
	p.cur = CUR_NONE;
	rules_names_reset();

	while ((len = getline(&line, &cap, in)) >= 0) {
		p.line++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((size_t)len + 1 > bufcap) {
			char *nb = realloc(buf, (size_t)len + 1);
			struct tok *nt = realloc(toks, ((size_t)len / 2 + 2) * sizeof(*nt));

			if (nb)
				buf = nb;
			if (nt)
				toks = nt;
			if (!nb || !nt) {
				rc = -ENOMEM;
				goto out;
			}
			bufcap = (size_t)len + 1;
		}
		parse_line(&p, line, buf, toks, (int)(bufcap / 2 + 1));
		if (p.oom) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (ferror(in)) {
		rc = -EIO;
		goto out;
	}
	if (p.cur >= 0) {
		p.line = p.pt[p.cur].line;
		perror_at(&p, 1, "COMMIT missing at end of table '%s'", rules_table_name[p.cur]);
		table_commit(&p, p.cur);
	} else if (p.cur == CUR_SKIP && p.kernel_table.name[0]) {
		kernel_table_missing_commit(&p);
		kernel_table_end(&p);
	}	/* else an unknown or repeated table, reported where it began */
	if (p.oom) {
		rc = -ENOMEM;
		goto out;
	}
	if (p.nrecs)	/* qsort() may not be given NULL, even for nothing */
		qsort(p.recs, p.nrecs, sizeof(*p.recs), perr_cmp);
	for (unsigned int i = 0; i < p.nrecs; i++)
		nfqct_errrec_print(errs, p.recs[i].sev, name, p.recs[i].line, p.recs[i].col, "%s",
				   p.recs[i].msg);
	if (p.nerrs) {
		rc = -EINVAL;
		goto out;
	}

	rs = calloc(1, sizeof(*rs));
	if (!rs) {
		rc = -ENOMEM;
		goto out;
	}
	rs->nworkers = nworkers;
	for (int id = 0; id < RULES_T_MAX; id++) {
		if (!p.pt[id].seen)
			table_open(&p, id);
		if (p.oom) {
			rc = -ENOMEM;
			goto out;
		}
		rc = build_table(rs, id, &p.pt[id]);
		if (rc)
			goto out;
	}
	rc = rules_alloc_runtime(rs);
	if (rc)
		goto out;
	*rsp = rs;
	rs = NULL;
out:
	if (rs)
		nfqct_ruleset_free(rs);
	parser_free(&p);
	free(line);
	free(buf);
	free(toks);
	return rc;
}

int nfqct_ruleset_load_fp(const char *name, FILE *in, unsigned int nworkers,
			  struct nfqct_ruleset **rsp, FILE *errs)
{
	return load_fp(name, in, 0, nworkers, rsp, errs);
}

int nfqct_ruleset_parse(const char *name, const char *text, size_t len, unsigned int nworkers,
			struct nfqct_ruleset **rsp, FILE *errs)
{
	FILE *in;
	int rc;

	*rsp = NULL;
	if (len == 0)
		in = fopen("/dev/null", "r");
	else
		in = fmemopen((void *)text, len, "r");
	if (!in)
		return -errno;
	rc = nfqct_ruleset_load_fp(name, in, nworkers, rsp, errs);
	fclose(in);
	return rc;
}

int nfqct_ruleset_load_family(const char *path, int family, unsigned int nworkers,
			      struct nfqct_ruleset **rsp, FILE *errs)
{
	FILE *in;
	int rc;

	*rsp = NULL;
	if (family != 0 && family != AF_INET && family != AF_INET6)
		return -EINVAL;
	in = fopen(path, "r");
	if (!in) {
		rc = -errno;
		nfqct_errrec_print(errs, NFQCT_ERRREC_ERROR, path, 0, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	rc = load_fp(path, in, family, nworkers, rsp, errs);
	fclose(in);
	return rc;
}

int nfqct_ruleset_load(const char *path, unsigned int nworkers, struct nfqct_ruleset **rsp, FILE *errs)
{
	return nfqct_ruleset_load_family(path, 0, nworkers, rsp, errs);
}

struct nfqct_ruleset *nfqct_ruleset_accept_all(unsigned int nworkers)
{
	struct nfqct_ruleset *rs = NULL;

	if (nfqct_ruleset_parse("(accept-all)", "", 0, nworkers ? nworkers : 1, &rs, NULL))
		return NULL;
	return rs;
}
