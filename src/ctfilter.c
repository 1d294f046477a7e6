/*
 * ctfilter.c - conntrack(8)'s filters: parse, format back, match, print.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "nfqct/ctfilter.h"
#include "nfqct/helper.h"

/* The state names the trackers print (proto_tcp.c, proto_sctp.c). */
static const char *const tcp_states[] = {
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
	"LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
};
static const char *const sctp_states[] = {
	"NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED", "SHUTDOWN_SENT",
	"SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT",
};

static const char *const port_opt[4] = { "--sport", "--dport", "--reply-port-src", "--reply-port-dst" };
static const char *const addr_opt[4] = { "-s", "-d", "-r", "-q" };

static int perr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_DCCP;
}

/* A number within [0, max], decimal or 0x hex. */
static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static int parse_proto(const char *s, uint8_t *proto)
{
	static const char *const names[] = { "tcp", "udp", "udplite", "sctp", "dccp", "icmp",
					     "icmpv6", "gre" };
	static const uint8_t nums[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_SCTP,
					IPPROTO_DCCP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_GRE };
	unsigned long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i])) {
			*proto = nums[i];
			return 0;
		}
	}
	if (!strcasecmp(s, "ipv6-icmp")) {
		*proto = IPPROTO_ICMPV6;
		return 0;
	}
	if (parse_num(s, 255, &n) < 0)
		return -EINVAL;
	*proto = (uint8_t)n;
	return 0;
}

/* ADDR[/PLEN]: the family it has, the address masked to PLEN. */
static int parse_addr(const char *s, struct nfqct_ctf_addr *a, uint8_t *family)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned long plen;
	int af;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, &a->a.ip) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->a.b) == 1)
		af = AF_INET6;
	else
		return -EINVAL;
	plen = af == AF_INET ? 32 : 128;
	if (slash && parse_num(slash, plen, &plen) < 0)
		return -EINVAL;
	a->plen = (uint8_t)plen;
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = plen > i * 8 ? (unsigned int)plen - i * 8 : 0;

		if (bits < 8)
			a->a.b[i] &= (uint8_t)(0xff00u >> bits);
	}
	*family = (uint8_t)af;
	return 0;
}

static int parse_states(const char *s, struct nfqct_ctfilter *f, char *err, size_t errlen)
{
	char buf[256], *save = NULL;
	const char *const *names = f->proto == IPPROTO_TCP ? tcp_states : sctp_states;
	size_t n = f->proto == IPPROTO_TCP ? sizeof(tcp_states) / sizeof(tcp_states[0])
					   : sizeof(sctp_states) / sizeof(sctp_states[0]);

	if (strlen(s) >= sizeof(buf))
		return perr(err, errlen, "--state: too long");
	strcpy(buf, s);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < n && strcasecmp(w, names[i]); i++)
			;
		if (i == n)
			return perr(err, errlen, "--state: unknown %s state '%s'",
				    nfqct_proto_name(f->proto), w);
		if (f->nstates == NFQCT_CTF_MAX_STATES)
			return perr(err, errlen, "--state: too many states");
		f->states[f->nstates++] = names[i];
	}
	if (!f->nstates)
		return perr(err, errlen, "--state: expected a state");
	return 0;
}

static int parse_status(const char *s, unsigned int *status)
{
	char buf[128], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*status = 0;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(w, "ASSURED"))
			*status |= NFQCT_CTF_ST_ASSURED;
		else if (!strcasecmp(w, "SEEN_REPLY"))
			*status |= NFQCT_CTF_ST_SEEN_REPLY;
		else if (!strcasecmp(w, "UNSET"))
			*status |= NFQCT_CTF_ST_UNSET;
		else
			return -EINVAL;
	}
	if (!*status || ((*status & NFQCT_CTF_ST_UNSET) && *status != NFQCT_CTF_ST_UNSET))
		return -EINVAL;
	return 0;
}

static int parse_output(const char *s, unsigned int *out)
{
	char buf[64], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*out = 0;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "extended"))
			*out |= NFQCT_CTF_OUT_EXTENDED;
		else if (!strcmp(w, "id"))
			*out |= NFQCT_CTF_OUT_ID;
		else if (!strcmp(w, "json"))
			*out |= NFQCT_CTF_OUT_JSON;
		else
			return -EINVAL;
	}
	return *out ? 0 : -EINVAL;
}

/* VALUE[/MASK], 32 bits each; a value with bits outside its mask can never match. */
static int parse_mark(const char *s, uint32_t *value, uint32_t *mask, const char *opt, char *err,
		      size_t errlen)
{
	char buf[64], *slash;
	unsigned long v, m = 0xffffffffUL;

	if (strlen(s) >= sizeof(buf))
		return perr(err, errlen, "%s: bad mark '%s'", opt, s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (parse_num(buf, 0xffffffffUL, &v) < 0 || (slash && parse_num(slash, 0xffffffffUL, &m) < 0))
		return perr(err, errlen, "%s: bad mark '%s': expected VALUE[/MASK], 32-bit numbers", opt, s);
	if (v & ~m)
		return perr(err, errlen, "%s %s: the value has bits outside the mask", opt, s);
	*value = (uint32_t)v;
	*mask = (uint32_t)m;
	return 0;
}

enum opt_id {
	O_FAMILY, O_PROTO, O_SRC, O_DST, O_RSRC, O_RDST, O_SPORT, O_DPORT, O_RSPORT, O_RDPORT,
	O_STATE, O_STATUS, O_ZONE, O_MARK, O_OUTPUT, O_ALL,
};

static const struct {
	const char *names[3];
	enum opt_id id;
} opts[] = {
	{ { "-f", "--family", NULL }, O_FAMILY },
	{ { "-p", "--proto", "--protonum" }, O_PROTO },
	{ { "-s", "--src", "--orig-src" }, O_SRC },
	{ { "-d", "--dst", "--orig-dst" }, O_DST },
	{ { "-r", "--reply-src", NULL }, O_RSRC },
	{ { "-q", "--reply-dst", NULL }, O_RDST },
	{ { "--sport", "--orig-port-src", NULL }, O_SPORT },
	{ { "--dport", "--orig-port-dst", NULL }, O_DPORT },
	{ { "--reply-port-src", NULL, NULL }, O_RSPORT },
	{ { "--reply-port-dst", NULL, NULL }, O_RDPORT },
	{ { "--state", NULL, NULL }, O_STATE },
	{ { "-u", "--status", NULL }, O_STATUS },
	{ { "-w", "--zone", NULL }, O_ZONE },
	{ { "-m", "--mark", NULL }, O_MARK },
	{ { "-o", "--output", NULL }, O_OUTPUT },
	{ { "--all", NULL, NULL }, O_ALL },
};

static int find_opt(const char *w)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		for (size_t j = 0; j < 3 && opts[i].names[j]; j++)
			if (!strcmp(w, opts[i].names[j]))
				return (int)opts[i].id;
	return -1;
}

/* Contradictions that need the whole command line. */
static int check_filter(const struct nfqct_ctfilter *f, char *err, size_t errlen)
{
	if ((f->set & (NFQCT_CTF_SPORT | NFQCT_CTF_DPORT | NFQCT_CTF_RSPORT | NFQCT_CTF_RDPORT))) {
		for (int i = 0; i < 4; i++) {
			if (!(f->set & (NFQCT_CTF_SPORT << i)))
				continue;
			if (!(f->set & NFQCT_CTF_PROTO))
				return perr(err, errlen, "%s needs -p tcp|udp|udplite|sctp|dccp",
					    port_opt[i]);
			if (!has_ports(f->proto))
				return perr(err, errlen, "%s: protocol %u has no ports", port_opt[i],
					    f->proto);
		}
	}
	if (f->set & NFQCT_CTF_FAMILY) {
		if (f->proto == IPPROTO_ICMP && (f->set & NFQCT_CTF_PROTO) && f->family == AF_INET6)
			return perr(err, errlen, "-p icmp contradicts -f ipv6 (use -p icmpv6)");
		if (f->proto == IPPROTO_ICMPV6 && (f->set & NFQCT_CTF_PROTO) && f->family == AF_INET)
			return perr(err, errlen, "-p icmpv6 contradicts -f ipv4 (use -p icmp)");
	}
	return 0;
}

int nfqct_ctcmd_parse(int argc, char **argv, struct nfqct_ctcmd *cmd, char *err, size_t errlen)
{
	struct nfqct_ctfilter *f = &cmd->f;
	bool have_output = false;
	int r;

	memset(cmd, 0, sizeof(*cmd));
	if (argc < 1)
		return perr(err, errlen, "missing command");
	if (!strcmp(argv[0], "list"))
		cmd->kind = NFQCT_CTCMD_LIST;
	else if (!strcmp(argv[0], "count"))
		cmd->kind = NFQCT_CTCMD_COUNT;
	else if (!strcmp(argv[0], "delete"))
		cmd->kind = NFQCT_CTCMD_DELETE;
	else if (!strcmp(argv[0], "update"))
		cmd->kind = NFQCT_CTCMD_UPDATE;
	else
		return perr(err, errlen, "unknown command '%s'", argv[0]);

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int id = find_opt(o);
		unsigned int bit = 0;
		unsigned long n;
		uint8_t fam;

		if (id < 0)
			return perr(err, errlen, "%s: unknown option '%s'", argv[0], o);
		if (id != O_ALL && !v)
			return perr(err, errlen, "%s: %s needs a value", argv[0], o);
		switch ((enum opt_id)id) {
		case O_FAMILY:
			bit = NFQCT_CTF_FAMILY;
			if (!strcmp(v, "ipv4"))
				fam = AF_INET;
			else if (!strcmp(v, "ipv6"))
				fam = AF_INET6;
			else
				return perr(err, errlen, "%s: bad family '%s': expected ipv4 or ipv6", o, v);
			if ((f->set & NFQCT_CTF_FAMILY) && f->family != fam)
				return perr(err, errlen, "%s %s contradicts an address of the other family",
					    o, v);
			f->family = fam;
			break;
		case O_PROTO:
			bit = NFQCT_CTF_PROTO;
			if (parse_proto(v, &f->proto) < 0)
				return perr(err, errlen, "%s: bad protocol '%s'", o, v);
			break;
		case O_SRC:
		case O_DST:
		case O_RSRC:
		case O_RDST:
			bit = NFQCT_CTF_SRC << (id - O_SRC);
			if (parse_addr(v, &f->addr[id - O_SRC], &fam) < 0)
				return perr(err, errlen, "%s: bad address '%s'", o, v);
			if ((f->set & NFQCT_CTF_FAMILY) && f->family != fam)
				return perr(err, errlen, "%s %s: an IPv%c address contradicts %s", o, v,
					    fam == AF_INET ? '4' : '6',
					    f->family == AF_INET ? "an IPv4 filter" : "an IPv6 filter");
			f->family = fam;
			f->set |= NFQCT_CTF_FAMILY;
			break;
		case O_SPORT:
		case O_DPORT:
		case O_RSPORT:
		case O_RDPORT:
			bit = NFQCT_CTF_SPORT << (id - O_SPORT);
			if (parse_num(v, 65535, &n) < 0)
				return perr(err, errlen, "%s: bad port '%s': expected 0-65535", o, v);
			f->port[id - O_SPORT] = (uint16_t)n;
			break;
		case O_STATE:
			bit = NFQCT_CTF_STATE;
			if (!(f->set & NFQCT_CTF_PROTO) ||
			    (f->proto != IPPROTO_TCP && f->proto != IPPROTO_SCTP))
				return perr(err, errlen, "--state needs -p tcp or -p sctp before it");
			if (f->set & bit)
				break;
			r = parse_states(v, f, err, errlen);
			if (r < 0)
				return r;
			break;
		case O_STATUS:
			bit = NFQCT_CTF_STATUS;
			if (parse_status(v, &f->status) < 0)
				return perr(err, errlen, "%s: bad status '%s': expected ASSURED, SEEN_REPLY "
					    "(comma-separated) or UNSET", o, v);
			break;
		case O_ZONE:
			bit = NFQCT_CTF_ZONE;
			if (parse_num(v, 65535, &n) < 0)
				return perr(err, errlen, "%s: bad zone '%s': expected 0-65535", o, v);
			f->zone = (uint16_t)n;
			break;
		case O_MARK:
			if (cmd->kind == NFQCT_CTCMD_UPDATE) {
				if (cmd->set_mark)
					return perr(err, errlen, "%s given twice", o);
				r = parse_mark(v, &cmd->new_mark, &cmd->new_mask, o, err, errlen);
				if (r < 0)
					return r;
				cmd->set_mark = true;
				i++;
				continue;
			}
			bit = NFQCT_CTF_MARK;
			r = parse_mark(v, &f->mark, &f->mark_mask, o, err, errlen);
			if (r < 0)
				return r;
			break;
		case O_OUTPUT:
			if (cmd->kind == NFQCT_CTCMD_COUNT)
				return perr(err, errlen, "count: -o makes no sense here");
			if (have_output)
				return perr(err, errlen, "%s given twice", o);
			if (parse_output(v, &cmd->output) < 0)
				return perr(err, errlen, "%s: bad format '%s': expected extended, id or json "
					    "(comma-separated)", o, v);
			if ((cmd->output & NFQCT_CTF_OUT_JSON) && cmd->output != NFQCT_CTF_OUT_JSON)
				return perr(err, errlen, "%s %s: json goes alone", o, v);
			have_output = true;
			i++;
			continue;
		case O_ALL:
			if (cmd->kind != NFQCT_CTCMD_DELETE && cmd->kind != NFQCT_CTCMD_UPDATE)
				return perr(err, errlen, "%s: unknown option '%s'", argv[0], o);
			cmd->all = true;
			continue;
		}
		/* an option given twice contradicts itself, or is a typo */
		if ((f->set & bit) && bit != NFQCT_CTF_FAMILY)
			return perr(err, errlen, "%s given twice", o);
		f->set |= bit;
		i++;
	}
	r = check_filter(f, err, errlen);
	if (r < 0)
		return r;
	if (cmd->kind == NFQCT_CTCMD_UPDATE && !cmd->set_mark)
		return perr(err, errlen, "update: nothing to change: expected --mark VALUE[/MASK]");
	if ((cmd->kind == NFQCT_CTCMD_DELETE || cmd->kind == NFQCT_CTCMD_UPDATE) && !f->set &&
	    !cmd->all)
		return perr(err, errlen, "%s: refusing to %s every entry without a filter: give --all",
			    argv[0], argv[0]);
	if (cmd->all && f->set)
		return perr(err, errlen, "%s: --all contradicts a filter", argv[0]);
	return 0;
}

/* ---- format ---- */

struct wbuf {
	char *p;
	size_t len, used;
	bool full;
};

static void wput(struct wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wput(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->used, w->len - w->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->len - w->used) {
		w->full = true;
		return;
	}
	w->used += (size_t)n;
}

int nfqct_ctcmd_format(const struct nfqct_ctcmd *cmd, char *buf, size_t len)
{
	static const char *const kinds[] = { "list", "count", "delete", "update" };
	const struct nfqct_ctfilter *f = &cmd->f;
	struct wbuf w = { buf, len, 0, false };
	char a[INET6_ADDRSTRLEN];

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	wput(&w, "%s", kinds[cmd->kind]);
	if (f->set & NFQCT_CTF_FAMILY)
		wput(&w, " -f %s", f->family == AF_INET6 ? "ipv6" : "ipv4");
	if (f->set & NFQCT_CTF_PROTO)
		wput(&w, " -p %u", f->proto);
	for (int i = 0; i < 4; i++) {
		if (!(f->set & (NFQCT_CTF_SRC << i)))
			continue;
		inet_ntop(f->family, f->addr[i].a.b, a, sizeof(a));
		wput(&w, " %s %s/%u", addr_opt[i], a, f->addr[i].plen);
	}
	for (int i = 0; i < 4; i++)
		if (f->set & (NFQCT_CTF_SPORT << i))
			wput(&w, " %s %u", port_opt[i], f->port[i]);
	if (f->set & NFQCT_CTF_STATE) {
		wput(&w, " --state ");
		for (unsigned int i = 0; i < f->nstates; i++)
			wput(&w, "%s%s", i ? "," : "", f->states[i]);
	}
	if (f->set & NFQCT_CTF_STATUS) {
		if (f->status & NFQCT_CTF_ST_UNSET)
			wput(&w, " -u UNSET");
		else
			wput(&w, " -u %s%s%s", f->status & NFQCT_CTF_ST_ASSURED ? "ASSURED" : "",
			     f->status == (NFQCT_CTF_ST_ASSURED | NFQCT_CTF_ST_SEEN_REPLY) ? "," : "",
			     f->status & NFQCT_CTF_ST_SEEN_REPLY ? "SEEN_REPLY" : "");
	}
	if (f->set & NFQCT_CTF_ZONE)
		wput(&w, " -w %u", f->zone);
	if (f->set & NFQCT_CTF_MARK)
		wput(&w, " -m 0x%x/0x%x", f->mark, f->mark_mask);
	if (cmd->set_mark)
		wput(&w, " -m 0x%x/0x%x", cmd->new_mark, cmd->new_mask);
	if (cmd->output)
		wput(&w, " -o %s%s%s%s%s", cmd->output & NFQCT_CTF_OUT_EXTENDED ? "extended" : "",
		     (cmd->output & NFQCT_CTF_OUT_EXTENDED) && (cmd->output & NFQCT_CTF_OUT_ID) ? "," : "",
		     cmd->output & NFQCT_CTF_OUT_ID ? "id" : "",
		     "", cmd->output & NFQCT_CTF_OUT_JSON ? "json" : "");
	if (cmd->all)
		wput(&w, " --all");
	return w.full ? -ENOSPC : (int)w.used;
}

/* ---- match ---- */

static bool addr_match(const struct nfqct_ctf_addr *fa, const union nfqct_addr *a)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = fa->plen > i * 8 ? fa->plen - i * 8 : 0;
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits);

		if (!m)
			break;
		if ((a->b[i] & m) != fa->a.b[i])
			return false;
	}
	return true;
}

bool nfqct_ctfilter_match(const struct nfqct_ctfilter *f, const struct nfqct_ct_info *ci)
{
	const struct nfqct_tuple *t[4] = { &ci->orig, &ci->orig, &ci->reply, &ci->reply };
	unsigned int set = f->set;

	if (!set)
		return true;
	if ((set & NFQCT_CTF_FAMILY) && ci->orig.family != f->family)
		return false;
	if ((set & NFQCT_CTF_PROTO) && ci->orig.proto != f->proto)
		return false;
	for (int i = 0; i < 4; i++) {
		if (set & (NFQCT_CTF_SRC << i) &&
		    !addr_match(&f->addr[i], i % 2 ? &t[i]->dst : &t[i]->src))
			return false;
		if (set & (NFQCT_CTF_SPORT << i) &&
		    ntohs(i % 2 ? t[i]->dp.port : t[i]->sp.port) != f->port[i])
			return false;
	}
	if (set & NFQCT_CTF_STATE) {
		unsigned int i;

		for (i = 0; i < f->nstates; i++)
			if (ci->state_name && !strcmp(ci->state_name, f->states[i]))
				break;
		if (i == f->nstates)
			return false;
	}
	if (set & NFQCT_CTF_STATUS) {
		if (f->status & NFQCT_CTF_ST_UNSET) {
			if (ci->assured || ci->seen_reply)
				return false;
		} else if (((f->status & NFQCT_CTF_ST_ASSURED) && !ci->assured) ||
			   ((f->status & NFQCT_CTF_ST_SEEN_REPLY) && !ci->seen_reply)) {
			return false;
		}
	}
	if ((set & NFQCT_CTF_ZONE) && ci->zone != f->zone)
		return false;
	if ((set & NFQCT_CTF_MARK) && (ci->mark & f->mark_mask) != f->mark)
		return false;
	return true;
}

/* ---- print ---- */

static void json_tuple(FILE *out, const char *name, const struct nfqct_tuple *t, bool acct,
		       uint64_t packets, uint64_t bytes)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	inet_ntop(t->family, &t->src, src, sizeof(src));
	inet_ntop(t->family, &t->dst, dst, sizeof(dst));
	fprintf(out, "\"%s\":{\"src\":\"%s\",\"dst\":\"%s\"", name, src, dst);
	if (has_ports(t->proto))
		fprintf(out, ",\"sport\":%u,\"dport\":%u", ntohs(t->sp.port), ntohs(t->dp.port));
	else if (t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6)
		fprintf(out, ",\"type\":%u,\"code\":%u,\"id\":%u", t->dp.icmp.type, t->dp.icmp.code,
			ntohs(t->sp.icmp_id));
	if (acct)
		fprintf(out, ",\"packets\":%llu,\"bytes\":%llu", (unsigned long long)packets,
			(unsigned long long)bytes);
	fputc('}', out);
}

void nfqct_ctfilter_print(FILE *out, const struct nfqct_ct_info *ci, uint32_t id, uint64_t now_ms,
			  unsigned int output)
{
	if (output & NFQCT_CTF_OUT_JSON) {
		const char *name = nfqct_proto_name(ci->orig.proto);
		uint64_t left = ci->expires_ms > now_ms ? (ci->expires_ms - now_ms) / 1000u : 0;

		fprintf(out, "{\"family\":\"%s\",\"proto\":\"%s\",\"protonum\":%u,\"timeout\":%llu",
			ci->orig.family == AF_INET6 ? "ipv6" : "ipv4", name ? name : "unknown",
			ci->orig.proto, (unsigned long long)left);
		if (ci->state_name)
			fprintf(out, ",\"state\":\"%s\"", ci->state_name);
		fputc(',', out);
		json_tuple(out, "orig", &ci->orig, ci->acct, ci->packets[0], ci->bytes[0]);
		fputc(',', out);
		json_tuple(out, "reply", &ci->reply, ci->acct, ci->packets[1], ci->bytes[1]);
		fprintf(out, ",\"unreplied\":%s,\"assured\":%s,\"mark\":%u,\"zone\":%u",
			ci->seen_reply ? "false" : "true", ci->assured ? "true" : "false", ci->mark,
			ci->zone);
		if (ci->helper)
			fprintf(out, ",\"helper\":\"%s\"", nfqct_helper_name(ci->helper));
		fprintf(out, ",\"id\":%u}\n", id);
		return;
	}
	/* conntrack -o extended: the layer 3 name padded "%-8s", its number */
	if (output & NFQCT_CTF_OUT_EXTENDED)
		fprintf(out, "%-8s %u ", ci->orig.family == AF_INET6 ? "ipv6" : "ipv4",
			ci->orig.family == AF_INET6 ? AF_INET6 : AF_INET);
	nfqct_ct_info_print(out, ci, now_ms);
	if (output & NFQCT_CTF_OUT_ID)
		fprintf(out, " id=%u", id);
	fputc('\n', out);
}
