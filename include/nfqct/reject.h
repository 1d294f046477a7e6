/*
 * reject.h - the REJECT target's reply types and how a REJECT verdict is
 * handed to the kernel.
 *
 * nfqctd does not build reject packets itself: the kernel's REJECT does
 * (nf_reject_ipv4.c / nf_reject_ipv6.c), so what leaves the box is byte
 * for byte what iptables' REJECT sends.  A rejected packet gets the verdict
 * NF_REPEAT with a reply type encoded in four reserved mark bits
 * (nfqct.reject_mark_shift: the bits 0xf << shift; nfnetlink_queue sets
 * NFQA_MARK on the skb before it reinjects); NF_REPEAT runs the same hook
 * function again (nf_reinject(): "if (verdict == NF_REPEAT) verdict =
 * nf_hook_entry_hookfn(...)"), that is the same iptables table or nft base
 * chain from its top, where nfqct-kernel-rules(8) put one rule
 * per type in front of the NFQUEUE rule:
 *     -m mark --mark V/M -j REJECT --reject-with TYPE
 * A packet that comes back to the queue with those bits set was not
 * rejected by the kernel (the rules are missing, or the operator uses the
 * bits): the daemon drops it and counts it (nfqct_queue reject_loops).
 *
 * Codes are shared by both families where the kernel rule is the same
 * (tcp-reset); the IPv4 ICMP types are 1..7, the IPv6 ones 9..14.
 */
#ifndef NFQCT_REJECT_H
#define NFQCT_REJECT_H

#include <stdbool.h>
#include <stdint.h>

enum nfqct_reject {
	NFQCT_REJECT_NONE = 0,
	/* iptables (IPv4), in libipt_REJECT's order */
	NFQCT_REJECT_NET_UNREACH = 1,	/* icmp-net-unreachable: type 3 code 0 */
	NFQCT_REJECT_HOST_UNREACH,	/* icmp-host-unreachable: 3/1 */
	NFQCT_REJECT_PROTO_UNREACH,	/* icmp-proto-unreachable: 3/2 */
	NFQCT_REJECT_PORT_UNREACH,	/* icmp-port-unreachable: 3/3 (the default) */
	NFQCT_REJECT_NET_PROHIB,	/* icmp-net-prohibited: 3/9 */
	NFQCT_REJECT_HOST_PROHIB,	/* icmp-host-prohibited: 3/10 */
	NFQCT_REJECT_ADMIN_PROHIB,	/* icmp-admin-prohibited: 3/13 */
	NFQCT_REJECT_TCP_RESET = 8,	/* tcp-reset: both families */
	/* ip6tables (IPv6), in libip6t_REJECT's order */
	NFQCT_REJECT6_NO_ROUTE = 9,	/* icmp6-no-route: type 1 code 0 */
	NFQCT_REJECT6_ADM_PROHIB,	/* icmp6-adm-prohibited: 1/1 */
	NFQCT_REJECT6_ADDR_UNREACH,	/* icmp6-addr-unreachable: 1/3 */
	NFQCT_REJECT6_PORT_UNREACH,	/* icmp6-port-unreachable: 1/4 (the default) */
	NFQCT_REJECT6_POLICY_FAIL,	/* icmp6-policy-fail: 1/5 */
	NFQCT_REJECT6_REJECT_ROUTE,	/* icmp6-reject-route: 1/6 */
	NFQCT_REJECT_MAX
};

/* The four reserved mark bits start at this bit unless nfqct.reject_mark_shift says otherwise. */
#define NFQCT_REJECT_MARK_SHIFT_DEFAULT 28
#define NFQCT_REJECT_MARK_SHIFT_MAX 28

/*
 * nfqct_reject_find - the type named @name (case-insensitive, as iptables:
 * the full name or its alias) for @family (AF_INET: iptables' names,
 * AF_INET6: ip6tables' names; 0: either, IPv4 first).  Returns the type,
 * or NFQCT_REJECT_NONE when no such name exists in that family.
 */
enum nfqct_reject nfqct_reject_find(const char *name, int family);

/* nfqct_reject_name - the name iptables-save / ip6tables-save print, or NULL. */
const char *nfqct_reject_name(unsigned int type);

/* nfqct_reject_family - AF_INET or AF_INET6 for an ICMP type, 0 for tcp-reset (both) and NONE. */
int nfqct_reject_family(unsigned int type);

/*
 * nfqct_reject_counterpart - the type of the other family that means the
 * same (icmp-host-prohibited <-> icmp6-adm-prohibited, ...: nft's icmpx
 * pairs), so that one rule of a both-families file rejects both families
 * alike; @type itself for tcp-reset; NONE when there is none
 * (icmp-proto-unreachable, icmp6-policy-fail, icmp6-reject-route).
 */
unsigned int nfqct_reject_counterpart(unsigned int type);

/* nfqct_reject_mark_mask - the reserved bits for @shift (0..NFQCT_REJECT_MARK_SHIFT_MAX). */
static inline uint32_t nfqct_reject_mark_mask(unsigned int shift)
{
	return UINT32_C(0xf) << shift;
}

/* nfqct_reject_mark - @mark with the reserved bits set to @type. */
static inline uint32_t nfqct_reject_mark(uint32_t mark, unsigned int type, unsigned int shift)
{
	return (mark & ~nfqct_reject_mark_mask(shift)) | ((uint32_t)type << shift);
}

#endif
