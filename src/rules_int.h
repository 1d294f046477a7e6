/*
 * rules_int.h - the compiled ruleset, shared by rules_parse.c (build),
 * rules_eval.c (run) and rules.c (print, counters, free).  Private.
 *
 * Each table keeps its rules in one array, chain by chain, so a chain is
 * a range [first, first + count).  The array holds only what evaluation
 * reads (struct rules_rule, hot fields first); what printing needs lives
 * in a parallel array of struct rules_info.  Counters are one block per
 * worker, cache-line aligned, indexed by a slot number per rule and per
 * built-in chain policy: a worker writes only its own block.
 *
 * Names the reader and the printer must agree on (tables, protocols, ct
 * states) live here, so that rules_parse.c depends on rules.c and never
 * the reverse.
 */
#ifndef NFQCT_RULES_INT_H
#define NFQCT_RULES_INT_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/ct.h"
#include "nfqct/ifname.h"
#include "nfqct/logfmt.h"
#include "nfqct/pkt.h"
#include "nfqct/rules.h"

enum rules_table_id {
	RULES_T_RAW,
	RULES_T_FILTER,
	RULES_T_MAX,
};

/* Match bits: which tests a rule has (match) and which are negated (inv). */
enum rules_match {
	RM_FAMILY	= 1 << 0,
	RM_PROTO	= 1 << 1,
	RM_SRC		= 1 << 2,
	RM_DST		= 1 << 3,
	RM_SPORT	= 1 << 4,
	RM_DPORT	= 1 << 5,
	RM_ICMP		= 1 << 6,
	RM_IN		= 1 << 7,
	RM_OUT		= 1 << 8,
	RM_CTSTATE	= 1 << 9,
	RM_MARK		= 1 << 10,
	RM_HELPER	= 1 << 11,	/* -m helper: tval2 is the helper id (0: any) */
	RM_FRAG		= 1 << 12,	/* -f: a non-first IPv4 fragment */
	RM_XMATCH	= 1 << 13,	/* xcount extension matches from xfirst (below) */
};

enum rules_target {
	RT_NONE,	/* no -j: count only */
	RT_ACCEPT,
	RT_DROP,
	RT_RETURN,
	RT_JUMP,	/* tval: chain index */
	RT_GOTO,	/* -g: tval: chain index; no return frame (rules_to_chain()) */
	RT_MARK,	/* mark = (mark & ~tmask) ^ tval */
	RT_NOTRACK,
	RT_CT,		/* tval: zone; tmask: 1 --notrack, bits 8..15 --helper id */
	RT_REJECT,	/* tval: type for IPv4, tmask bits 0..7: for IPv6 (reject.h;
			 * 0: none, the rule cannot see that family), bits 8..15: as written */
	RT_LOG,		/* the options in rules_info.log; does not end the traversal */
	/* CONNMARK on the packet's entry (none: nothing, as the kernel's without a ct) */
	RT_CONNMARK_SET,	/* ct mark = (ct mark & ~tmask) ^ tval */
	RT_CONNMARK_SAVE,	/* ct mark = (ct mark & ~tmask) ^ (mark & tval): tval nfmask, tmask ctmask */
	RT_CONNMARK_RESTORE,	/* mark = (mark & ~tval) ^ (ct mark & tmask) */
	RT_SET,		/* -j SET: rules_info.set; does not end the traversal */
	RT_FLOWOFFLOAD,	/* tmask 1: written with --hw; does not end the traversal */
};

/* -j CHAIN and -g CHAIN: the targets that name a user chain. */
static inline bool rules_to_chain(uint8_t target)
{
	return target == RT_JUMP || target == RT_GOTO;
}

/* What the evaluator reads, hottest first: one cache line covers the
 * family, protocol, port and state tests of a rule. */
struct rules_rule {
	uint16_t match;
	uint16_t inv;
	uint8_t family;
	uint8_t proto;
	uint8_t ctstate;		/* NFQCT_CTSTATE_* mask */
	uint8_t target;
	uint16_t sport[2];		/* host order, inclusive range */
	uint16_t dport[2];
	uint8_t icmp_type;
	uint8_t icmp_code[2];
	uint8_t icmp_any;		/* --icmp-type any */
	uint8_t helper;			/* -m helper --helper: enum nfqct_helper_id, 0: "" (any) */
	uint32_t mark_value;
	uint32_t mark_mask;
	uint32_t tval;
	uint32_t tmask;
	uint32_t xfirst;		/* RM_XMATCH: index of its first extension match */
	uint32_t xcount;		/* in the table's xm[] */
	uint64_t src[2], smsk[2];	/* address & mask; IPv4 in the first 4 bytes */
	uint64_t dst[2], dmsk[2];
	uint64_t in[2], inmsk[2];	/* interface name bytes and the bytes that count */
	uint64_t out[2], outmsk[2];
};

/*
 * Extension matches: what a fixed struct rules_rule has no room for.  A
 * rule with RM_XMATCH has xcount of them at xm[xfirst..] of its table, in
 * the order written.  The evaluator runs them after every core test of
 * the rule passed (rules_eval.c), first to last, and stops at the first
 * that fails.
 *
 * Order rule: the core tests are the kernel's ip_packet_match() part
 * (-s -d -i -o -p -f) and stateless matches, so testing them first changes
 * no outcome.  A stateful kind must only see packets that passed every
 * match written before it, and no match written after it may run before
 * it: the reader therefore compiles every match option written after a
 * stateful one as an extension match too (never as a core bit), so that
 * it runs after it.  -s -d -i -o -p -f stay core wherever they are
 * written: the kernel tests them before any match too.  The stateful
 * kinds are limit, hashlimit, recent and connlimit; rules_xkind.stateful
 * marks them.  A core-bit option written after one becomes an XK_CORE
 * extension match of its own (rules_parse.c, opt_after_stateful()), run
 * and printed where it was written.
 *
 * A kind is one place: its option parser, eval, print and free, in a
 * struct rules_xkind (rules_match.c).
 */
enum rules_xkind_id {
	XK_NONE,
	XK_TCP,		/* --tcp-flags, --syn, --tcp-option (ports stay core) */
	XK_MULTIPORT,
	XK_CONNTRACK,	/* every -m conntrack option but --ctstate (core) */
	XK_LENGTH,
	XK_TTL,
	XK_HL,
	XK_IPRANGE,
	XK_MAC,
	XK_OWNER,
	XK_PKTTYPE,
	XK_FRAG,	/* IPv6 fragment header */
	XK_RT,		/* IPv6 routing header */
	XK_IPV6HEADER,
	XK_ADDRTYPE,
	XK_DEVGROUP,
	XK_LIMIT,	/* stateful: a token bucket per rule instance (tbf.h) */
	XK_RECENT,	/* stateful: a named list (recent.h) */
	XK_CONNMARK,	/* the entry's mark */
	XK_CONNLIMIT,	/* stateful: connections per address (connlimit.h) */
	XK_HASHLIMIT,	/* stateful: named tables of buckets (hashlimit.h) */
	XK_CORE,	/* core-bit tests written after a stateful match (the order rule) */
	XK_SET,		/* stateful (element counters): an ipset set by name (ipset.h) */
	XK_RPFILTER,	/* reverse-path route lookup (addrs.h), raw PREROUTING only */
	XK_MAX,
};

/* Each kind's options, numbered as its opts[] rows (rules_parse.c) give them. */
enum { XO_TCP_FLAGS, XO_TCP_SYN, XO_TCP_OPTION };
enum { XO_MP_SPORTS, XO_MP_DPORTS, XO_MP_PORTS };
enum {
	XO_CT_PROTO, XO_CT_ORIGSRC, XO_CT_ORIGDST, XO_CT_REPLSRC, XO_CT_REPLDST, XO_CT_ORIGSRCPORT,
	XO_CT_ORIGDSTPORT, XO_CT_REPLSRCPORT, XO_CT_REPLDSTPORT, XO_CT_STATUS, XO_CT_EXPIRE, XO_CT_DIR,
};
enum { XO_TTL_EQ, XO_TTL_LT, XO_TTL_GT };
enum { XO_IPR_SRC, XO_IPR_DST };
enum { XO_OWN_UID, XO_OWN_GID, XO_OWN_SOCKET, XO_OWN_SUPPL };
enum { XO_FRAG_ID, XO_FRAG_LEN, XO_FRAG_RES, XO_FRAG_FIRST, XO_FRAG_MORE, XO_FRAG_LAST };
enum { XO_RT_TYPE, XO_RT_SEGSLEFT, XO_RT_LEN, XO_RT_0_RES, XO_RT_0_ADDRS, XO_RT_0_NOT_STRICT };
enum { XO_V6H_HEADER, XO_V6H_SOFT };
enum { XO_AT_SRC, XO_AT_DST, XO_AT_IN, XO_AT_OUT };
enum { XO_DG_SRC, XO_DG_DST };
enum { XO_RPF_LOOSE, XO_RPF_VALIDMARK, XO_RPF_ACCEPT_LOCAL, XO_RPF_INVERT };	/* its flags: m->given */
enum { XO_LIM_LIMIT, XO_LIM_BURST };
enum { XO_CM_MARK };
enum { XO_CL_UPTO, XO_CL_ABOVE, XO_CL_MASK, XO_CL_SADDR, XO_CL_DADDR };
enum {
	XO_HL_UPTO, XO_HL_ABOVE, XO_HL_OLD, XO_HL_SRCMASK, XO_HL_DSTMASK, XO_HL_BURST, XO_HL_SIZE,
	XO_HL_MAX, XO_HL_GCINT, XO_HL_EXPIRE, XO_HL_MODE, XO_HL_NAME, XO_HL_RATEMATCH, XO_HL_INTERVAL,
};

struct rules_xhashlimit;	/* -m hashlimit's parameters and tables (rules_match.c) */

enum {
	XO_SET_MATCH, XO_SET_RETNOMATCH, XO_SET_UPDCTR, XO_SET_UPDSUB, XO_SET_PKTEQ, XO_SET_PKTLT,
	XO_SET_PKTGT, XO_SET_BYTEQ, XO_SET_BYTLT, XO_SET_BYTGT,
};

struct rules_xset;	/* -m set's set reference and options (rules_match.c) */

struct nfqct_connlimit;
enum {
	XO_REC_SET, XO_REC_RCHECK, XO_REC_UPDATE, XO_REC_REMOVE, XO_REC_SECONDS, XO_REC_REAP,
	XO_REC_HITCOUNT, XO_REC_RTTL, XO_REC_NAME, XO_REC_RSOURCE, XO_REC_RDEST, XO_REC_MASK,
};

#define RULES_RT_ADDRS_MAX 16	/* --rt-0-addrs, as ip6t_rt */

#define RULES_MULTIPORT_MAX 15

struct rules_limit_state;	/* -m limit's buckets: [0] IPv4, [1] IPv6 (rules_match.c) */

#define RULES_LIMIT_AVG (3600u * 10000u / 3u)	/* -m limit's default: 3/hour */
#define RULES_LIMIT_BURST 5u

struct rules_xrecent;	/* -m recent's list name, options and table (rules_match.c) */

struct rules_xct;	/* -m conntrack's addresses, ports, status, expiry (rules_match.c) */

struct rules_xmatch {
	uint8_t kind;		/* enum rules_xkind_id */
	uint8_t family;		/* AF_INET / AF_INET6 when its addresses fix one, else 0 */
	uint16_t inv;		/* the kind's negation bits (1 << option) */
	uint16_t given;		/* the kind's options written (1 << option) */
	union {
		struct {
			uint8_t mask, cmp;	/* flags & mask == cmp */
			uint8_t option;		/* --tcp-option kind */
		} tcp;
		struct {
			uint8_t dir;		/* 1 source, 2 destination, 3 either */
			uint8_t count;		/* entries of port[] used */
			uint16_t port[RULES_MULTIPORT_MAX];	/* host order */
			uint16_t range;		/* bit i: port[i]..port[i + 1] is a range */
		} mp;
		struct { uint16_t min, max; } len;		/* -m length */
		struct { uint8_t op, val; } ttl;		/* -m ttl / -m hl: enum rules_ttl_op */
		struct { union nfqct_addr src[2], dst[2]; } ipr;	/* -m iprange lo, hi */
		struct { uint8_t addr[6]; } mac;
		struct { uint32_t uid[2], gid[2]; } owner;
		struct { uint8_t type; } pkttype;
		struct { uint32_t id[2], len; } frag;
		struct {
			uint8_t type, naddrs;
			uint32_t segsleft[2], len;	/* len: the header's length in bytes */
			struct in6_addr *addrs;		/* --rt-0-addrs, [naddrs] */
		} rt;
		struct { uint8_t headers; } v6h;	/* ip6t_ipv6header's bits */
		struct { uint16_t src, dst; } at;	/* 1 << RTN_* */
		struct { uint32_t src, smask, dst, dmask; } dg;	/* -m devgroup */
		struct rules_xct *ct;
		struct rules_xrecent *rec;
		struct rules_xhashlimit *hl;
		struct rules_xset *set;
		struct {			/* XK_CORE: struct rules_rule's fields of those tests */
			uint16_t bits, inv;	/* RM_SPORT, RM_DPORT, RM_ICMP, RM_CTSTATE, RM_MARK, RM_HELPER */
			uint16_t sport[2], dport[2];
			uint8_t proto;		/* the rule's -p, for printing -m tcp / -m icmp */
			uint8_t icmp_type, icmp_code[2], icmp_any;
			uint8_t ctstate, ctmod, helper;
			uint32_t mark_value, mark_mask;
		} core;
		struct { uint32_t mark, mask; } cm;	/* -m connmark */
		struct {
			uint32_t limit;
			uint8_t plen;		/* --connlimit-mask; 0xff: not given (32 / 128) */
			bool upto;		/* matches when count <= limit (else count > limit) */
			bool dest;		/* --connlimit-daddr */
			struct nfqct_connlimit *cl;	/* this instance's lists */
		} cl;
		struct {
			uint32_t avg, burst;	/* as xt_rateinfo: seconds * 10000 per packet */
			uint32_t cost, cap;	/* credits (tbf.h), set by the kind's finish */
			struct rules_limit_state *st;	/* this rule instance's buckets, shared by workers */
		} lim;
	} u;
};

enum rules_ttl_op { RULES_TTL_EQ, RULES_TTL_NE, RULES_TTL_LT, RULES_TTL_GT };

/* What an extension match may read besides the packet. */
struct rules_xctx {
	const struct nfqct_pkt *pkt;
	const struct nfqct_rules_ct *ct;
	uint64_t now_ms;	/* the batch clock given to nfqct_ruleset_filter() / raw() */
	unsigned int worker;	/* the caller's worker index */
	struct nfqct_ifname_cache *ifc;	/* this worker's interface names, NULL: none */
	bool *hotdrop;		/* set it (and fail) to drop the packet at once, as the
				 * kernel's par->hotdrop: no counter, no other rule */
	const uint32_t *mark;	/* the packet's mark as the walk has it now (XK_CORE) */
	const unsigned int *ctstate;	/* its ct state, likewise */
	uint8_t master_helper;	/* an expected entry's master's helper, 0: none */
};

/* rules_core_eval - XK_CORE's tests, as rules_eval.c's core tests (rules_eval.c). */
bool rules_core_eval(const struct rules_xmatch *m, const struct rules_xctx *cx);

/* One option as the reader hands it to a kind's parser. */
struct rules_xarg {
	unsigned int opt;	/* the kind's option number (its opts[] row's xopt) */
	const char *name;	/* as written */
	const char *arg;	/* its argument, NULL when it takes none */
	const char *arg2;	/* the second one (--tcp-flags), else NULL */
	bool neg;		/* a '!' came before it */
	uint8_t family;		/* the rule's family so far, 0: both */
	uint8_t proto;		/* the rule's -p so far, 0: none */
	bool proto_inv;
	/* out: a message on failure, and whether it is about the option (else the argument) */
	char err[256];
	bool err_at_opt;
	bool err_at_arg2;
};

struct rules_xkind {
	const char *name;	/* -m NAME as printed */
	bool stateful;		/* see the order rule above */
	/* Parse one option into @m (zeroed, kind set, before its first option).
	 * Returns 0 or -EINVAL with a->err set. */
	int (*parse)(struct rules_xmatch *m, struct rules_xarg *a);
	bool (*eval)(const struct rules_xmatch *m, const struct rules_xctx *cx);
	void (*print)(FILE *out, const struct rules_xmatch *m);	/* " --opt val ...", no -m */
	void (*free)(struct rules_xmatch *m);	/* may be NULL */
	/* May be NULL.  Fill the defaults when -m NAME is written: the match
	 * then exists (and is printed) even without any of its options.
	 * Returns 0 or -ENOMEM. */
	int (*init)(struct rules_xmatch *m);
	/* May be NULL.  Check the whole match once the rule is read and
	 * allocate its state.  Returns 0, -ENOMEM, or -EINVAL with @err set. */
	int (*finish)(struct rules_xmatch *m, char *err, size_t errlen);
};

extern const struct rules_xkind rules_xkinds[XK_MAX];

/* ---- rules_match.c: names resolved at load time ---- */

/* rules_names_reset - forget this thread's memo of names (each load starts afresh). */
void rules_names_reset(void);
/* rules_service_port - /etc/services (getservbyname_r) for @proto ("tcp", ...): 0 or -ENOENT. */
int rules_service_port(const char *name, const char *proto, uint16_t *port);
/* rules_proto_number - /etc/protocols (getprotobyname_r): 0 or -ENOENT. */
int rules_proto_number(const char *name, uint8_t *proto);
/* ---- rules_parse.c: value readers the match kinds share ---- */

/* rules_parse_dec - decimal digits only, at most @max. */
bool rules_parse_dec(const char *s, unsigned long max, unsigned long *v);
/* rules_parse_u32 - a 32-bit number in C notation (0x.., 0.., decimal). */
bool rules_parse_u32(const char *s, uint32_t *v);
/* rules_parse_valmask - "v" or "v/m" as rules_parse_u32(); without a mask, all ones. */
bool rules_parse_valmask(const char *s, uint32_t *val, uint32_t *mask);

/* The protocols with ports (-p tcp, udp, udplite, sctp, dccp). */
static inline bool rules_is_port_proto(uint8_t p)
{
	return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_UDPLITE ||
	       p == IPPROTO_SCTP || p == IPPROTO_DCCP;
}

/* rules_parse_port - a number 0..65535, or a service name of @proto (NULL: numbers only). */
bool rules_parse_port(const char *s, const char *proto, uint16_t *port);
/* rules_parse_port_range - "p", "a:b", "a:" or ":b" as rules_parse_port(); lo <= hi. */
bool rules_parse_port_range(const char *s, const char *proto, uint16_t r[2]);

/* rules_xmatch_same - do @a and @b match the same packets and print the same (-D RULE)? */
bool rules_xmatch_same(const struct rules_xmatch *a, const struct rules_xmatch *b);

/* rules_set_flags - -m set / -j SET's "src,dst,..." (1..6): @dim flags, bit i of @src: src. 0 or -EINVAL. */
int rules_set_flags(const char *s, uint8_t *dim, uint8_t *src);
/* rules_set_flags_print - " src,dst,..." */
void rules_set_flags_print(FILE *out, uint8_t dim, uint8_t src);

/* rules_xmatch_free - free what the kinds of @n matches at @m own (not @m). */
void rules_xmatch_free(struct rules_xmatch *m, unsigned int n);

enum rules_ctmod { RULES_CTMOD_CONNTRACK, RULES_CTMOD_STATE };

/* -j SET's options (xt_SET revision 3, without --map-set). */
struct rules_settarget {
	struct nfqct_ipset *add, *del;	/* references, or NULL */
	char add_name[32], del_name[32];
	uint8_t add_dim, add_src, del_dim, del_src;	/* flags, as rules_set_flags() */
	bool exist;
	uint32_t timeout;		/* seconds, UINT32_MAX: not given */
};

/* rules_settarget_free - drop @t's references and free it (NULL: no-op). */
void rules_settarget_free(struct rules_settarget *t);

/* What printing needs besides struct rules_rule. */
struct rules_info {
	unsigned int line;
	char *comment;			/* -m comment, or NULL */
	uint8_t src_plen, dst_plen;
	uint8_t ctmod;			/* enum rules_ctmod */
	bool notrack_alias;		/* written as -j NOTRACK (else CT --notrack) */
	char in[IFNAMSIZ];		/* as written, with any '+' */
	char out[IFNAMSIZ];
	struct nfqct_log_spec log;	/* -j LOG's options (read by the evaluator too) */
	struct rules_settarget *set;	/* -j SET's (read by the evaluator too), else NULL */
};

#define RULES_CHAIN_NAMELEN 29		/* as xtables: 28 characters and the NUL */

struct rules_chain {
	char name[RULES_CHAIN_NAMELEN];
	bool builtin;
	uint8_t policy;			/* RT_ACCEPT or RT_DROP for built-ins */
	uint32_t first;			/* index of its first rule */
	uint32_t count;
	uint32_t pol_slot;		/* counter slot of the policy (built-ins) */
};

struct rules_table {
	struct rules_chain *chains;	/* built-ins first, in hook order */
	unsigned int nchains;
	struct rules_rule *rules;
	struct rules_info *info;
	unsigned int nrules;
	struct rules_xmatch *xm;	/* extension matches, rule by rule, in rule order */
	unsigned int nxm;
	uint32_t slot0;			/* counter slot of rules[0] */
	int hook_chain[NFQCT_HOOK_MAX];	/* chain run for each hook, -1: none */
};

struct rules_counter {
	uint64_t packets;
	uint64_t bytes;
};

struct nfqct_ruleset {
	unsigned int nworkers;
	int family;			/* AF_INET / AF_INET6: half of a pair, else 0 (both) */
	struct nfqct_ruleset *v6;	/* a pair: this is the IPv4 half, v6 the IPv6 one */
	struct rules_table t[RULES_T_MAX];
	unsigned int nslots;
	unsigned int stride;		/* counters per worker block, a multiple of 4 */
	struct rules_counter *ctr;	/* [nworkers][stride], 64-byte aligned */
	struct nfqct_ifname_cache *ifc;	/* [nworkers] when a rule names an interface */
	bool ct_entry;			/* a filter rule reads the ct entry (-m conntrack --ctproto ...) */
};

static inline struct rules_counter *rules_worker_ctr(const struct nfqct_ruleset *rs,
						     unsigned int worker)
{
	return rs->ctr + (size_t)worker * rs->stride;
}

/* ---- names shared by the reader (rules_parse.c) and the printer (rules.c) ---- */

#define RULES_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct rules_name {
	const char *name;
	uint8_t value;
};

static const char *const rules_table_name[RULES_T_MAX] = { "raw", "filter" };

/* Protocol names for -p and -m; the first name of a number is the one printed. */
static const struct rules_name rules_protos[] = {
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "udplite", IPPROTO_UDPLITE },
	{ "icmp", IPPROTO_ICMP },
	{ "ipv6-icmp", IPPROTO_ICMPV6 },	/* the name ip6tables-save prints: first */
	{ "icmpv6", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP },
	{ "dccp", IPPROTO_DCCP },
	{ "gre", IPPROTO_GRE },
	{ "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },
};

/* --ctstate SNAT and DNAT: bits no packet's state has (nfqct does no NAT). */
#define RULES_CTSTATE_SNAT (1u << 5)
#define RULES_CTSTATE_DNAT (1u << 6)

/* ct state names (NFQCT_CTSTATE_* bits), in the order iptables-save prints them. */
static const struct rules_name rules_ctstates[] = {
	{ "INVALID", NFQCT_CTSTATE_INVALID },
	{ "NEW", NFQCT_CTSTATE_NEW },
	{ "RELATED", NFQCT_CTSTATE_RELATED },
	{ "ESTABLISHED", NFQCT_CTSTATE_ESTABLISHED },
	{ "UNTRACKED", NFQCT_CTSTATE_UNTRACKED },
	{ "SNAT", RULES_CTSTATE_SNAT },		/* -m conntrack only; nfqct does no NAT: */
	{ "DNAT", RULES_CTSTATE_DNAT },		/* no packet ever has these */
};

/* rules_proto_name - the printed name of @proto, or NULL (printed as a number). */
static inline const char *rules_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < RULES_ARRAY_SIZE(rules_protos); i++)
		if (rules_protos[i].value == proto)
			return rules_protos[i].name;
	return NULL;
}

/* ---- rules_parse.c, for tests ---- */

/*
 * rules_parse_steps - chain-name comparisons and jumps followed by this
 * thread's loads, so far.  Tests read it to check that loading is linear
 * in the number of chains and rules without timing anything.
 */
extern _Thread_local unsigned long rules_parse_steps;

/* ---- rules.c, for the reader ---- */

/* rules_alloc_runtime - allocate the counter and cache areas once tables are final. */
int rules_alloc_runtime(struct nfqct_ruleset *rs);
void rules_table_free(struct rules_table *t);

#endif
