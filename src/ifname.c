/*
 * ifname.c - ifindex -> name cache (see ifname.h).
 */
#include "config.h"

#include <net/if.h>
#include <string.h>

#include "nfqct/ifname.h"

/* Set once before threads start (tests only); read-only afterwards. */
static nfqct_ifname_resolve_fn resolver = if_indextoname;

void nfqct_ifname_set_resolver(nfqct_ifname_resolve_fn fn)
{
	resolver = fn ? fn : if_indextoname;
}

void nfqct_ifname_init(struct nfqct_ifname_cache *c, uint32_t refresh_ms)
{
	memset(c, 0, sizeof(*c));
	c->refresh_ms = refresh_ms;
}

const char *nfqct_ifname_get(struct nfqct_ifname_cache *c, uint32_t ifindex, uint64_t now_ms)
{
	static const char none[IFNAMSIZ];
	struct nfqct_ifname_slot *s;
	char buf[IFNAMSIZ];

	if (ifindex == 0)
		return none;
	s = &c->slot[ifindex % NFQCT_IFNAME_SLOTS];
	if (s->ifindex == ifindex && now_ms - s->checked_ms < c->refresh_ms)
		return s->name;

	/* Miss or stale: ask the kernel.  A vanished device is the empty name. */
	memset(buf, 0, sizeof(buf));
	c->lookups++;
	if (!resolver(ifindex, buf))
		memset(buf, 0, sizeof(buf));
	buf[IFNAMSIZ - 1] = '\0';
	memset(s->name, 0, sizeof(s->name));
	memcpy(s->name, buf, strnlen(buf, IFNAMSIZ - 1));
	s->ifindex = ifindex;
	s->checked_ms = now_ms;
	return s->name;
}
