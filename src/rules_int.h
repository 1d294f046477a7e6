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

#include "nfqct/ct.h"
#include "nfqct/ifname.h"
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
	uint64_t src[2], smsk[2];	/* address & mask; IPv4 in the first 4 bytes */
	uint64_t dst[2], dmsk[2];
	uint64_t in[2], inmsk[2];	/* interface name bytes and the bytes that count */
	uint64_t out[2], outmsk[2];
};

enum rules_ctmod { RULES_CTMOD_CONNTRACK, RULES_CTMOD_STATE };

/* What printing needs besides struct rules_rule. */
struct rules_info {
	unsigned int line;
	char *comment;			/* -m comment, or NULL */
	uint8_t src_plen, dst_plen;
	uint8_t ctmod;			/* enum rules_ctmod */
	bool notrack_alias;		/* written as -j NOTRACK (else CT --notrack) */
	char in[IFNAMSIZ];		/* as written, with any '+' */
	char out[IFNAMSIZ];
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

/* ct state names (NFQCT_CTSTATE_* bits), in the order iptables-save prints them. */
static const struct rules_name rules_ctstates[] = {
	{ "INVALID", NFQCT_CTSTATE_INVALID },
	{ "NEW", NFQCT_CTSTATE_NEW },
	{ "RELATED", NFQCT_CTSTATE_RELATED },
	{ "ESTABLISHED", NFQCT_CTSTATE_ESTABLISHED },
	{ "UNTRACKED", NFQCT_CTSTATE_UNTRACKED },
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
