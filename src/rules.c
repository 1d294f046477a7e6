/*
 * rules.c - the ruleset object: runtime areas (counters, interface-name
 * caches), freeing, counters and the iptables-save-like printer.
 * Parsing is in rules_parse.c, evaluation in rules_eval.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nfqct/ct.h"
#include "nfqct/helper.h"
#include "nfqct/reject.h"
#include "nfqct/rules.h"
#include "nfqct/stats.h"
#include "rules_int.h"

int rules_alloc_runtime(struct nfqct_ruleset *rs)
{
	bool iface = false;
	unsigned int slot = 0;
	size_t bytes;

	for (int id = 0; id < RULES_T_MAX; id++) {
		struct rules_table *t = &rs->t[id];

		t->slot0 = slot;
		slot += t->nrules;
		for (unsigned int c = 0; c < t->nchains; c++)
			if (t->chains[c].builtin)
				t->chains[c].pol_slot = slot++;
		for (unsigned int i = 0; i < t->nrules; i++)
			if (t->rules[i].match & (RM_IN | RM_OUT))
				iface = true;
		for (unsigned int i = 0; i < t->nxm; i++) {
			if (t->xm[i].kind == XK_CONNTRACK && id == RULES_T_FILTER)
				rs->ct_entry = true;
			if (t->xm[i].kind == XK_SET)	/* hash:net,iface reads the names */
				iface = true;
		}
	}
	rs->nslots = slot;
	/* Four 16-byte counters per cache line; each worker's block starts on its own line. */
	rs->stride = (slot + 3) & ~3u;
	bytes = (size_t)rs->stride * rs->nworkers * sizeof(struct rules_counter);
	rs->ctr = aligned_alloc(NFQCT_CACHELINE, bytes);
	if (!rs->ctr)
		return -ENOMEM;
	memset(rs->ctr, 0, bytes);
	if (iface) {
		size_t sz = sizeof(*rs->ifc) * rs->nworkers;

		sz = (sz + NFQCT_CACHELINE - 1) & ~(size_t)(NFQCT_CACHELINE - 1);
		rs->ifc = aligned_alloc(NFQCT_CACHELINE, sz);
		if (!rs->ifc)
			return -ENOMEM;
		for (unsigned int w = 0; w < rs->nworkers; w++)
			nfqct_ifname_init(&rs->ifc[w], NFQCT_RULES_IFNAME_REFRESH_MS);
	}
	return 0;
}

void rules_table_free(struct rules_table *t)
{
	if (t->info)
		for (unsigned int i = 0; i < t->nrules; i++) {
			free(t->info[i].comment);
			rules_settarget_free(t->info[i].set);
		}
	free(t->info);
	free(t->rules);
	free(t->chains);
	if (t->xm)
		rules_xmatch_free(t->xm, t->nxm);
	free(t->xm);
}

bool nfqct_ruleset_needs_ct_entry(const struct nfqct_ruleset *rs)
{
	return rs->ct_entry || (rs->v6 && rs->v6->ct_entry);	/* either half of a pair */
}

bool nfqct_ruleset_offloads(const struct nfqct_ruleset *rs)
{
	const struct rules_table *t = &rs->t[RULES_T_FILTER];

	for (unsigned int i = 0; i < t->nrules; i++)
		if (t->rules[i].target == RT_FLOWOFFLOAD)
			return true;
	return rs->v6 && nfqct_ruleset_offloads(rs->v6);
}

void nfqct_ruleset_free(struct nfqct_ruleset *rs)
{
	if (!rs)
		return;
	nfqct_ruleset_free(rs->v6);
	for (int id = 0; id < RULES_T_MAX; id++)
		rules_table_free(&rs->t[id]);
	free(rs->ctr);
	free(rs->ifc);
	free(rs);
}

struct nfqct_ruleset *nfqct_ruleset_pair(struct nfqct_ruleset *v4, struct nfqct_ruleset *v6,
					 unsigned int nworkers)
{
	if (!v4)
		v4 = nfqct_ruleset_accept_all(nworkers);
	if (!v6)
		v6 = nfqct_ruleset_accept_all(nworkers);
	if (!v4 || !v6) {
		nfqct_ruleset_free(v4);
		nfqct_ruleset_free(v6);
		return NULL;
	}
	v4->family = AF_INET;
	v6->family = AF_INET6;
	v4->v6 = v6;
	return v4;
}

const struct nfqct_ruleset *nfqct_ruleset_family(const struct nfqct_ruleset *rs, int family)
{
	return rs->v6 && family == AF_INET6 ? rs->v6 : rs;
}

bool nfqct_ruleset_is_pair(const struct nfqct_ruleset *rs)
{
	return rs->v6 != NULL;
}

unsigned int nfqct_ruleset_nworkers(const struct nfqct_ruleset *rs)
{
	return rs->nworkers;
}

/* Sum of slot @slot over workers, or one worker's figure. */
static void read_slot(const struct nfqct_ruleset *rs, unsigned int slot, unsigned int worker,
		      uint64_t *packets, uint64_t *bytes)
{
	unsigned int w0 = worker == NFQCT_RULES_ALL_WORKERS ? 0 : worker;
	unsigned int w1 = worker == NFQCT_RULES_ALL_WORKERS ? rs->nworkers : worker + 1;

	*packets = 0;
	*bytes = 0;
	for (unsigned int w = w0; w < w1; w++) {
		const struct rules_counter *c = rules_worker_ctr(rs, w) + slot;

		/* Workers write with relaxed stores; read the same way (stats.h). */
		*packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
		*bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	}
}

int nfqct_ruleset_counters(const struct nfqct_ruleset *rs, const char *table, const char *chain,
			   int index, unsigned int worker, uint64_t *packets, uint64_t *bytes)
{
	const struct rules_table *t = NULL;
	const struct rules_chain *c = NULL;

	if (worker != NFQCT_RULES_ALL_WORKERS && worker >= rs->nworkers)
		return -ENOENT;
	for (int id = 0; id < RULES_T_MAX; id++)
		if (!strcmp(table, rules_table_name[id]))
			t = &rs->t[id];
	if (!t)
		return -ENOENT;
	for (unsigned int i = 0; i < t->nchains; i++)
		if (!strcmp(t->chains[i].name, chain))
			c = &t->chains[i];
	if (!c)
		return -ENOENT;
	if (index < 0) {
		if (!c->builtin)
			return -ENOENT;
		read_slot(rs, c->pol_slot, worker, packets, bytes);
		return 0;
	}
	if ((unsigned int)index >= c->count)
		return -ENOENT;
	read_slot(rs, t->slot0 + c->first + (unsigned int)index, worker, packets, bytes);
	return 0;
}

int nfqct_ruleset_ref_name(const struct nfqct_ruleset *rs, const char *table,
			   const struct nfqct_rule_ref *ref, char *buf, size_t len)
{
	const struct rules_table *t = NULL;
	const struct rules_chain *c;

	for (int id = 0; id < RULES_T_MAX; id++)
		if (!strcmp(table, rules_table_name[id]))
			t = &rs->t[id];
	if (!t)
		return -ENOENT;
	if (ref->chain < 0)
		return snprintf(buf, len, "-");
	if ((unsigned int)ref->chain >= t->nchains)
		return -ENOENT;
	c = &t->chains[ref->chain];
	if (ref->rule < 0)
		return c->builtin ? snprintf(buf, len, "%s policy", c->name) : -ENOENT;
	if ((uint32_t)ref->rule >= c->count)
		return -ENOENT;
	return snprintf(buf, len, "%s#%d", c->name, ref->rule + 1);
}

/* ---- printing ---- */

/*
 * A name as one word the reader reads back: bare, or in double quotes with
 * '"' and '\\' escaped when it has a quote (chain and interface names may,
 * as in iptables; white space is refused by the reader).  iptables-save
 * prints such names bare, and iptables-restore cannot read them back.
 */
static void print_word(FILE *out, const char *s, bool always_quote)
{
	if (!always_quote && !strchr(s, '"')) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_addr(FILE *out, bool neg, const char *opt, const uint64_t a[2], uint8_t plen,
		       int family)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family, a, buf, sizeof(buf));
	fprintf(out, " %s%s %s/%u", neg ? "! " : "", opt, buf, plen);
}

static void print_ports(FILE *out, bool neg, const char *opt, const uint16_t r[2])
{
	fprintf(out, " %s%s %u", neg ? "! " : "", opt, r[0]);
	if (r[1] != r[0])
		fprintf(out, ":%u", r[1]);
}

static void print_valmask(FILE *out, uint32_t v, uint32_t m, bool always_mask)
{
	fprintf(out, "0x%" PRIx32, v);
	if (always_mask || m != UINT32_MAX)
		fprintf(out, "/0x%" PRIx32, m);
}

static void print_ctstates(FILE *out, uint8_t mask)
{
	const char *sep = "";

	for (size_t i = 0; i < RULES_ARRAY_SIZE(rules_ctstates); i++)
		if (mask & rules_ctstates[i].value) {
			fprintf(out, "%s%s", sep, rules_ctstates[i].name);
			sep = ",";
		}
}

/* The first extension match of @kind in rule @r, or NULL. */
static const struct rules_xmatch *find_xmatch(const struct rules_table *t, const struct rules_rule *r,
					      unsigned int kind)
{
	for (uint32_t k = 0; (r->match & RM_XMATCH) && k < r->xcount; k++)
		if (t->xm[r->xfirst + k].kind == kind)
			return &t->xm[r->xfirst + k];
	return NULL;
}

/* LOG's options as iptables-save prints them (libxt_LOG's save and
 * xtables_save_string(): bare when only [A-Za-z0-9_-], else quoted with
 * '"', '\\' and '\'' escaped). */
static void print_log(FILE *out, const struct nfqct_log_spec *l)
{
	static const char *const flag_opts[] = {
		" --log-tcp-sequence", " --log-tcp-options", " --log-ip-options", " --log-uid", NULL,
		" --log-macdecode",
	};
	const char *s = l->prefix;

	if (*s) {
		fputs(" --log-prefix ", out);
		if (s[strspn(s, "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")]) {
			fputc('"', out);
			for (; *s; s++) {
				if (*s == '"' || *s == '\\' || *s == '\'')
					fputc('\\', out);
				fputc(*s, out);
			}
			fputc('"', out);
		} else {
			fputs(s, out);
		}
	}
	if (l->level != NFQCT_LOG_LEVEL_DEFAULT)
		fprintf(out, " --log-level %u", l->level);
	for (unsigned int b = 0; b < RULES_ARRAY_SIZE(flag_opts); b++)
		if (flag_opts[b] && (l->flags & 1u << b))
			fputs(flag_opts[b], out);
}

/* An XK_CORE match: the core tests written after a stateful match, where they were
 * written, in the forms print_rule() gives them. */
static void print_core(FILE *out, const struct rules_xmatch *m)
{
	unsigned int b = m->u.core.bits, inv = m->u.core.inv;
	const char *pname = rules_proto_name(m->u.core.proto);

	if (b & (RM_SPORT | RM_DPORT)) {
		fprintf(out, " -m %s", pname ? pname : "tcp");
		if (b & RM_SPORT)
			print_ports(out, inv & RM_SPORT, "--sport", m->u.core.sport);
		if (b & RM_DPORT)
			print_ports(out, inv & RM_DPORT, "--dport", m->u.core.dport);
	}
	if (b & RM_ICMP) {
		bool v6 = m->u.core.proto == IPPROTO_ICMPV6;

		fprintf(out, " -m %s %s%s ", v6 ? "icmp6" : "icmp", inv & RM_ICMP ? "! " : "",
			v6 ? "--icmpv6-type" : "--icmp-type");
		if (m->u.core.icmp_any)
			fputs("any", out);
		else if (m->u.core.icmp_code[0] == m->u.core.icmp_code[1])
			fprintf(out, "%u/%u", m->u.core.icmp_type, m->u.core.icmp_code[0]);
		else
			fprintf(out, "%u", m->u.core.icmp_type);
	}
	if (b & RM_CTSTATE) {
		bool st = m->u.core.ctmod == RULES_CTMOD_STATE;

		fprintf(out, " -m %s %s%s ", st ? "state" : "conntrack", inv & RM_CTSTATE ? "! " : "",
			st ? "--state" : "--ctstate");
		print_ctstates(out, m->u.core.ctstate);
	}
	if (b & RM_MARK) {
		fprintf(out, " -m mark %s--mark ", inv & RM_MARK ? "! " : "");
		print_valmask(out, m->u.core.mark_value, m->u.core.mark_mask, false);
	}
	if (b & RM_HELPER) {
		fprintf(out, " -m helper %s--helper ", inv & RM_HELPER ? "! " : "");
		print_word(out, m->u.core.helper ? nfqct_helper_name(m->u.core.helper) : "", true);
	}
}

static void print_rule(FILE *out, const struct rules_table *t, const struct rules_chain *c,
		       unsigned int i)
{
	const struct rules_rule *r = &t->rules[i];
	const struct rules_info *info = &t->info[i];
	unsigned int inv = r->inv;
	const char *pname = rules_proto_name(r->proto);
	const struct rules_xmatch *tcpx, *ctx = NULL;

	fputs("-A ", out);
	print_word(out, c->name, false);
	if ((r->match & RM_FAMILY) && !(r->match & (RM_SRC | RM_DST)))
		fputs(r->family == AF_INET ? " -4" : " -6", out);
	if (r->match & RM_SRC)
		print_addr(out, inv & RM_SRC, "-s", r->src, info->src_plen, r->family);
	if (r->match & RM_DST)
		print_addr(out, inv & RM_DST, "-d", r->dst, info->dst_plen, r->family);
	if (r->match & RM_IN) {
		fprintf(out, " %s-i ", inv & RM_IN ? "! " : "");
		print_word(out, info->in, false);
	}
	if (r->match & RM_OUT) {
		fprintf(out, " %s-o ", inv & RM_OUT ? "! " : "");
		print_word(out, info->out, false);
	}
	if (r->match & RM_PROTO) {
		fprintf(out, " %s-p ", inv & RM_PROTO ? "! " : "");
		if (pname) {
			fputs(pname, out);
		} else {
			/* other numbers by /etc/protocols, as iptables-save (not on the packet path) */
			struct protoent pe, *res = NULL;
			char buf[1024];

			if (!getprotobynumber_r(r->proto, &pe, buf, sizeof(buf), &res) && res)
				fputs(res->p_name, out);
			else
				fprintf(out, "%u", r->proto);
		}
	}
	if (r->match & RM_FRAG)
		fputs(inv & RM_FRAG ? " ! -f" : " -f", out);
	/* -m tcp: the ports (core) and the flags and option (XK_TCP) are one match */
	tcpx = find_xmatch(t, r, XK_TCP);
	if ((r->match & (RM_SPORT | RM_DPORT)) || tcpx) {
		fprintf(out, " -m %s", pname);
		if (r->match & RM_SPORT)
			print_ports(out, inv & RM_SPORT, "--sport", r->sport);
		if (r->match & RM_DPORT)
			print_ports(out, inv & RM_DPORT, "--dport", r->dport);
		if (tcpx)
			rules_xkinds[XK_TCP].print(out, tcpx);
	}
	if (r->match & RM_ICMP) {
		bool v6 = r->proto == IPPROTO_ICMPV6;

		fprintf(out, " -m %s %s%s ", v6 ? "icmp6" : "icmp", inv & RM_ICMP ? "! " : "",
			v6 ? "--icmpv6-type" : "--icmp-type");
		if (r->icmp_any)
			fputs("any", out);
		else if (r->icmp_code[0] == r->icmp_code[1])
			fprintf(out, "%u/%u", r->icmp_type, r->icmp_code[0]);
		else
			fprintf(out, "%u", r->icmp_type);
	}
	if (r->match & RM_CTSTATE) {
		bool st = info->ctmod == RULES_CTMOD_STATE;

		fprintf(out, " -m %s %s%s ", st ? "state" : "conntrack", inv & RM_CTSTATE ? "! " : "",
			st ? "--state" : "--ctstate");
		print_ctstates(out, r->ctstate);
		if (!st && (ctx = find_xmatch(t, r, XK_CONNTRACK)))
			rules_xkinds[XK_CONNTRACK].print(out, ctx);	/* the same -m conntrack */
	}
	if (r->match & RM_MARK) {
		fprintf(out, " -m mark %s--mark ", inv & RM_MARK ? "! " : "");
		print_valmask(out, r->mark_value, r->mark_mask, false);
	}
	if (r->match & RM_HELPER) {
		fprintf(out, " -m helper %s--helper ", inv & RM_HELPER ? "! " : "");
		print_word(out, r->helper ? nfqct_helper_name(r->helper) : "", true);
	}
	for (uint32_t k = 0; (r->match & RM_XMATCH) && k < r->xcount; k++) {
		const struct rules_xmatch *m = &t->xm[r->xfirst + k];

		if (m->kind == XK_CORE) {
			print_core(out, m);
			continue;
		}
		if (m == tcpx || m == ctx || (!m->given && !rules_xkinds[m->kind].init))
			continue;
		fprintf(out, " -m %s", rules_xkinds[m->kind].name);
		rules_xkinds[m->kind].print(out, m);
	}
	if (info->comment) {
		fputs(" -m comment --comment ", out);
		print_word(out, info->comment, true);
	}
	switch (r->target) {
	case RT_NONE:
		break;
	case RT_ACCEPT:
		fputs(" -j ACCEPT", out);
		break;
	case RT_DROP:
		fputs(" -j DROP", out);
		break;
	case RT_RETURN:
		fputs(" -j RETURN", out);
		break;
	case RT_JUMP:
	case RT_GOTO:
		fputs(r->target == RT_GOTO ? " -g " : " -j ", out);
		print_word(out, t->chains[r->tval].name, false);
		break;
	case RT_MARK:
		fputs(" -j MARK --set-xmark ", out);
		print_valmask(out, r->tval, r->tmask, true);
		break;
	case RT_CONNMARK_SET:
		/* libxt_CONNMARK's save form */
		fprintf(out, " -j CONNMARK --set-xmark 0x%x/0x%x", r->tval, r->tmask);
		break;
	case RT_CONNMARK_SAVE:
	case RT_CONNMARK_RESTORE:
		fprintf(out, " -j CONNMARK --%s-mark --nfmask 0x%x --ctmask 0x%x",
			r->target == RT_CONNMARK_SAVE ? "save" : "restore", r->tval, r->tmask);
		break;
	case RT_NOTRACK:
		fputs(" -j NOTRACK", out);
		break;
	case RT_CT:
		if (r->tmask & 1)
			fputs(" -j CT --notrack", out);
		else if (r->tmask >> 8)
			fprintf(out, " -j CT --helper %s --zone %u", nfqct_helper_name(r->tmask >> 8), r->tval);
		else
			fprintf(out, " -j CT --zone %u", r->tval);
		break;
	case RT_LOG:
		fputs(" -j LOG", out);
		print_log(out, &t->info[i].log);
		break;
	case RT_SET: {
		const struct rules_settarget *st = t->info[i].set;

		/* libxt_SET revision 3's order */
		fputs(" -j SET", out);
		if (st->add) {
			fprintf(out, " --add-set %s", st->add_name);
			rules_set_flags_print(out, st->add_dim, st->add_src);
		}
		if (st->del) {
			fprintf(out, " --del-set %s", st->del_name);
			rules_set_flags_print(out, st->del_dim, st->del_src);
		}
		if (st->exist)
			fputs(" --exist", out);
		if (st->timeout != UINT32_MAX)
			fprintf(out, " --timeout %u", st->timeout);
		break;
	}
	case RT_FLOWOFFLOAD:
		fputs((r->tmask & 1) ? " -j FLOWOFFLOAD --hw" : " -j FLOWOFFLOAD", out);
		break;
	case RT_REJECT:
		/* iptables-save prints the type even when it is the default */
		fprintf(out, " -j REJECT --reject-with %s", nfqct_reject_name((r->tmask >> 8) & 0xff));
		break;
	}
	fputc('\n', out);
}

static int print_tables(const struct nfqct_ruleset *rs, FILE *out, bool counters);

int nfqct_ruleset_print_family(const struct nfqct_ruleset *rs, int family, FILE *out, bool counters)
{
	if (!rs->v6 || !family)
		return nfqct_ruleset_print(rs, out, counters);
	return print_tables(family == AF_INET6 ? rs->v6 : rs, out, counters);
}

int nfqct_ruleset_print(const struct nfqct_ruleset *rs, FILE *out, bool counters)
{
	if (!rs->v6)
		return print_tables(rs, out, counters);
	fputs("# IPv4 (--rules-v4)\n", out);
	if (print_tables(rs, out, counters))
		return -EIO;
	fputs("# IPv6 (--rules-v6)\n", out);
	return print_tables(rs->v6, out, counters);
}

static int print_tables(const struct nfqct_ruleset *rs, FILE *out, bool counters)
{
	for (int id = 0; id < RULES_T_MAX; id++) {
		const struct rules_table *t = &rs->t[id];

		fprintf(out, "*%s\n", rules_table_name[id]);
		for (unsigned int c = 0; c < t->nchains; c++) {
			const struct rules_chain *ch = &t->chains[c];
			uint64_t pk = 0, by = 0;

			if (ch->builtin && counters)
				read_slot(rs, ch->pol_slot, NFQCT_RULES_ALL_WORKERS, &pk, &by);
			fputc(':', out);
			print_word(out, ch->name, false);
			fprintf(out, " %s [%" PRIu64 ":%" PRIu64 "]\n",
				!ch->builtin ? "-" : ch->policy == RT_DROP ? "DROP" : "ACCEPT", pk, by);
		}
		for (unsigned int c = 0; c < t->nchains; c++) {
			const struct rules_chain *ch = &t->chains[c];

			for (unsigned int i = ch->first; i < ch->first + ch->count; i++) {
				if (counters) {
					uint64_t pk, by;

					read_slot(rs, t->slot0 + i, NFQCT_RULES_ALL_WORKERS, &pk, &by);
					fprintf(out, "[%" PRIu64 ":%" PRIu64 "] ", pk, by);
				}
				print_rule(out, t, ch, i);
			}
		}
		fputs("COMMIT\n", out);
	}
	return ferror(out) ? -EIO : 0;
}
