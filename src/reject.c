/*
 * reject.c - REJECT reply types (reject.h).
 */
#include <stddef.h>
#include <strings.h>
#include <sys/socket.h>

#include "nfqct/reject.h"

struct reject_name {
	const char *name;	/* what iptables-save prints */
	const char *alias;
	uint8_t family;		/* AF_INET, AF_INET6; 0: both */
	uint8_t counterpart;
};

static const struct reject_name names[NFQCT_REJECT_MAX] = {
	[NFQCT_REJECT_NET_UNREACH] = { "icmp-net-unreachable", "net-unreach", AF_INET, NFQCT_REJECT6_NO_ROUTE },
	[NFQCT_REJECT_HOST_UNREACH] = { "icmp-host-unreachable", "host-unreach", AF_INET,
					NFQCT_REJECT6_ADDR_UNREACH },
	[NFQCT_REJECT_PROTO_UNREACH] = { "icmp-proto-unreachable", "proto-unreach", AF_INET, 0 },
	[NFQCT_REJECT_PORT_UNREACH] = { "icmp-port-unreachable", "port-unreach", AF_INET,
					NFQCT_REJECT6_PORT_UNREACH },
	[NFQCT_REJECT_NET_PROHIB] = { "icmp-net-prohibited", "net-prohib", AF_INET, NFQCT_REJECT6_ADM_PROHIB },
	[NFQCT_REJECT_HOST_PROHIB] = { "icmp-host-prohibited", "host-prohib", AF_INET, NFQCT_REJECT6_ADM_PROHIB },
	[NFQCT_REJECT_ADMIN_PROHIB] = { "icmp-admin-prohibited", "admin-prohib", AF_INET,
					NFQCT_REJECT6_ADM_PROHIB },
	[NFQCT_REJECT_TCP_RESET] = { "tcp-reset", "tcp-rst", 0, NFQCT_REJECT_TCP_RESET },
	[NFQCT_REJECT6_NO_ROUTE] = { "icmp6-no-route", "no-route", AF_INET6, NFQCT_REJECT_NET_UNREACH },
	[NFQCT_REJECT6_ADM_PROHIB] = { "icmp6-adm-prohibited", "adm-prohibited", AF_INET6,
				       NFQCT_REJECT_ADMIN_PROHIB },
	[NFQCT_REJECT6_ADDR_UNREACH] = { "icmp6-addr-unreachable", "addr-unreach", AF_INET6,
					 NFQCT_REJECT_HOST_UNREACH },
	[NFQCT_REJECT6_PORT_UNREACH] = { "icmp6-port-unreachable", "port-unreach", AF_INET6,
					 NFQCT_REJECT_PORT_UNREACH },
	[NFQCT_REJECT6_POLICY_FAIL] = { "icmp6-policy-fail", "policy-fail", AF_INET6, 0 },
	[NFQCT_REJECT6_REJECT_ROUTE] = { "icmp6-reject-route", "reject-route", AF_INET6, 0 },
};

enum nfqct_reject nfqct_reject_find(const char *name, int family)
{
	for (unsigned int t = 1; t < NFQCT_REJECT_MAX; t++) {
		const struct reject_name *n = &names[t];

		if (family && n->family && n->family != family)
			continue;
		/* ip6tables spells tcp-reset's alias "tcp-reset": tcp-rst is iptables' only */
		if (!strcasecmp(name, n->name) ||
		    (!strcasecmp(name, n->alias) && !(family == AF_INET6 && t == NFQCT_REJECT_TCP_RESET)))
			return (enum nfqct_reject)t;
	}
	return NFQCT_REJECT_NONE;
}

const char *nfqct_reject_name(unsigned int type)
{
	return type && type < NFQCT_REJECT_MAX ? names[type].name : NULL;
}

int nfqct_reject_family(unsigned int type)
{
	return type < NFQCT_REJECT_MAX ? names[type].family : 0;
}

unsigned int nfqct_reject_counterpart(unsigned int type)
{
	return type < NFQCT_REJECT_MAX ? names[type].counterpart : 0;
}
