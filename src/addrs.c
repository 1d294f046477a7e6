/*
 * addrs.c - the local routing tables and the interfaces' groups, copied
 * and published (addrs.h).
 *
 * The snapshot is one array, replaced whole: the watcher builds a new one
 * off the packet path and swaps the pointer (rcu_xchg_pointer), then waits
 * a grace period before freeing the old one.  Readers walk it linearly
 * (a box has tens of local routes, not thousands; the main table of a
 * router with a full table would want a trie, which this is not).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <urcu-qsbr.h>

#include "nfqct/addrs.h"

/* One route as the lookup reads it: address and mask as two words, longest prefixes first. */
struct route {
	uint64_t addr[2], mask[2];
	uint8_t family;
	uint8_t type;
	bool main;
	uint32_t ifindex;
};

struct snap {
	unsigned int n, nlocal, nlinks;	/* r[]: the local table's nlocal routes, then the main table's */
	struct nfqct_addrs_link *links;	/* after r[], by ifindex */
	struct route r[];
};

static struct snap *current;
static unsigned long generation;
static pthread_mutex_t publish_lock = PTHREAD_MUTEX_INITIALIZER;

unsigned int nfqct_addrs_lookup(int family, const union nfqct_addr *a, uint32_t *ifindex)
{
	const struct snap *s = rcu_dereference(current);
	uint64_t x[2];

	if (!s)
		return RTN_UNSPEC;
	memcpy(x, a, 16);
	/* longest prefix first: the first hit is the kernel's answer */
	for (unsigned int i = 0; i < s->nlocal; i++) {
		const struct route *r = &s->r[i];

		if (r->family == family && (((x[0] & r->mask[0]) ^ r->addr[0]) |
					    ((x[1] & r->mask[1]) ^ r->addr[1])) == 0) {
			*ifindex = r->ifindex;
			return r->type;
		}
	}
	return RTN_UNSPEC;
}

static bool holds(const struct route *r, int family, const uint64_t x[2])
{
	return r->family == family &&
	       (((x[0] & r->mask[0]) ^ r->addr[0]) | ((x[1] & r->mask[1]) ^ r->addr[1])) == 0;
}

unsigned int nfqct_addrs_route(int family, const union nfqct_addr *a, uint32_t dev, bool *via_dev)
{
	const struct snap *s = rcu_dereference(current);
	uint64_t x[2];

	*via_dev = false;
	if (!s)
		return RTN_UNSPEC;
	memcpy(x, a, 16);
	/* local before main (the kernel's rules 0 and 32766), each longest prefix first */
	for (unsigned int i = 0; i < s->n; i++) {
		const struct route *r = &s->r[i];
		unsigned int type;

		if (!holds(r, family, x))
			continue;
		/* the routes of that prefix (multipath nexthops, other metrics) follow it */
		type = r->type;
		for (unsigned int j = i; j < s->n && s->r[j].main == r->main && s->r[j].family == r->family &&
		     !memcmp(s->r[j].mask, r->mask, sizeof(r->mask)) &&
		     !memcmp(s->r[j].addr, r->addr, sizeof(r->addr)); j++)
			if (s->r[j].ifindex == dev)
				*via_dev = true;
		return type;
	}
	return RTN_UNSPEC;
}

uint32_t nfqct_addrs_ifgroup(uint32_t ifindex)
{
	const struct snap *s = rcu_dereference(current);
	unsigned int lo = 0, hi;

	if (!s)
		return 0;
	hi = s->nlinks;
	while (lo < hi) {	/* binary search: a box may have thousands of interfaces */
		unsigned int mid = lo + (hi - lo) / 2;

		if (s->links[mid].ifindex == ifindex)
			return s->links[mid].group;
		if (s->links[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int by_ifindex(const void *a, const void *b)
{
	const struct nfqct_addrs_link *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static int by_plen_desc(const void *a, const void *b)
{
	const struct nfqct_addrs_entry *x = a, *y = b;

	if (x->main != y->main)
		return x->main ? 1 : -1;
	if (x->plen != y->plen)
		return (int)y->plen - (int)x->plen;
	/* the routes of one prefix (nexthops, metrics) next to each other, for nfqct_addrs_route() */
	if (x->family != y->family)
		return (int)x->family - (int)y->family;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

int nfqct_addrs_publish(const struct nfqct_addrs_entry *e, unsigned int n,
			const struct nfqct_addrs_link *l, unsigned int nl)
{
	struct snap *s = malloc(sizeof(*s) + (size_t)n * sizeof(s->r[0]) + (size_t)nl * sizeof(*l)), *old;
	struct nfqct_addrs_entry *sorted = calloc(n ? n : 1, sizeof(*sorted));

	if (!s || !sorted) {
		free(s);
		free(sorted);
		return -ENOMEM;
	}
	if (n)
		memcpy(sorted, e, (size_t)n * sizeof(*e));
	qsort(sorted, n, sizeof(*sorted), by_plen_desc);
	s->n = n;
	s->nlocal = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct route *r = &s->r[i];
		uint8_t m[16] = { 0 };
		unsigned int plen = sorted[i].plen > 128 ? 128 : sorted[i].plen;

		for (unsigned int b = 0; b < plen; b++)
			m[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		memcpy(r->mask, m, 16);
		memcpy(r->addr, &sorted[i].addr, 16);
		r->addr[0] &= r->mask[0];
		r->addr[1] &= r->mask[1];
		r->family = sorted[i].family;
		r->type = sorted[i].type;
		r->ifindex = sorted[i].ifindex;
		r->main = sorted[i].main;
		if (!r->main)
			s->nlocal = i + 1;
	}
	free(sorted);
	s->nlinks = nl;
	s->links = (struct nfqct_addrs_link *)&s->r[n];
	if (nl) {
		memcpy(s->links, l, (size_t)nl * sizeof(*l));
		qsort(s->links, nl, sizeof(*l), by_ifindex);
	}
	pthread_mutex_lock(&publish_lock);
	old = rcu_xchg_pointer(&current, s);
	__atomic_add_fetch(&generation, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&publish_lock);
	if (old) {
		synchronize_rcu();
		free(old);
	}
	return 0;
}

unsigned long nfqct_addrs_generation(void)
{
	return __atomic_load_n(&generation, __ATOMIC_RELAXED);
}

/* ---- reading the local and main tables ---- */

struct dump {
	struct nfqct_addrs_entry *e;
	unsigned int n, cap;
	struct nfqct_addrs_link *l;
	unsigned int nl, lcap;
	int err;
};

static int route_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* A new entry of @d, zeroed; NULL when out of memory (d->err set). */
static struct nfqct_addrs_entry *dump_add(struct dump *d)
{
	if (d->n == d->cap) {
		unsigned int cap = d->cap ? 2 * d->cap : 64;
		struct nfqct_addrs_entry *n = realloc(d->e, cap * sizeof(*n));

		if (!n) {
			d->err = -ENOMEM;
			return NULL;
		}
		d->e = n;
		d->cap = cap;
	}
	memset(&d->e[d->n], 0, sizeof(d->e[0]));
	return &d->e[d->n++];
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	struct dump *d = data;
	struct nfqct_addrs_entry *e, t;
	uint32_t table = rtm->rtm_table;
	size_t alen = rtm->rtm_family == AF_INET ? 4 : 16;

	if (nlh->nlmsg_type != RTM_NEWROUTE || (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb);
	if (tb[RTA_TABLE])
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if ((table != RT_TABLE_LOCAL && table != RT_TABLE_MAIN) || rtm->rtm_dst_len > alen * 8 ||
	    (rtm->rtm_flags & RTM_F_CLONED))	/* IPv6's cache is not the table */
		return MNL_CB_OK;
	memset(&t, 0, sizeof(t));
	t.family = rtm->rtm_family;
	t.plen = rtm->rtm_dst_len;
	t.type = rtm->rtm_type;
	t.main = table == RT_TABLE_MAIN;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == alen)
		memcpy(t.addr.b, mnl_attr_get_payload(tb[RTA_DST]), alen);
	if (tb[RTA_OIF])
		t.ifindex = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_MULTIPATH]) {
		/* one entry per nexthop: the same prefix with each nexthop's device */
		const struct rtnexthop *nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		size_t left = mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);

		while (left >= sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
			if (!(e = dump_add(d)))
				return MNL_CB_ERROR;
			*e = t;
			e->ifindex = (uint32_t)nh->rtnh_ifindex;
			if ((size_t)RTNH_ALIGN(nh->rtnh_len) >= left)
				break;
			left -= (size_t)RTNH_ALIGN(nh->rtnh_len);
			nh = RTNH_NEXT(nh);
		}
		return MNL_CB_OK;
	}
	if (!(e = dump_add(d)))
		return MNL_CB_ERROR;
	*e = t;
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	struct dump *d = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, tb);
	if (d->nl == d->lcap) {
		unsigned int cap = d->lcap ? 2 * d->lcap : 32;
		struct nfqct_addrs_link *n = realloc(d->l, cap * sizeof(*n));

		if (!n) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->l = n;
		d->lcap = cap;
	}
	d->l[d->nl].ifindex = (uint32_t)ifi->ifi_index;
	d->l[d->nl].group = tb[IFLA_GROUP] ? mnl_attr_get_u32(tb[IFLA_GROUP]) : 0;
	d->nl++;
	return MNL_CB_OK;
}

/* Dump the routes of @family (RTM_GETROUTE), or the links (RTM_GETLINK), into @d. */
static int dump_family(struct mnl_socket *nl, int family, uint32_t seq, struct dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int rc;

	nlh->nlmsg_type = family == AF_UNSPEC ? RTM_GETLINK : RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (family == AF_UNSPEC) {
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		ifi->ifi_family = AF_UNSPEC;
	} else {
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (uint8_t)family;	/* every table: route_cb keeps local and main */
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		rc = mnl_cb_run(buf, (size_t)len, seq, portid, family == AF_UNSPEC ? link_cb : route_cb, d);
		if (rc == MNL_CB_STOP)
			return 0;
		if (rc < 0)
			return d->err ? d->err : -errno;
	}
	return len < 0 ? -errno : -EIO;
}

int nfqct_addrs_refresh(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct dump d = { 0 };
	int rc;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	rc = dump_family(nl, AF_INET, 1, &d);
	if (!rc)
		rc = dump_family(nl, AF_INET6, 2, &d);
	if (!rc)
		rc = dump_family(nl, AF_UNSPEC, 3, &d);
	if (!rc)
		rc = nfqct_addrs_publish(d.e, d.n, d.l, d.nl);
out:
	free(d.e);
	free(d.l);
	mnl_socket_close(nl);
	return rc;
}

/* ---- the watcher ---- */

struct nfqct_addrs_watch {
	pthread_t thread;
	struct mnl_socket *nl;	/* subscribed to route changes */
	int stop_fd;
};

static void *watch_main(void *arg)
{
	struct nfqct_addrs_watch *w = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct pollfd pf[2] = {
		{ .fd = mnl_socket_get_fd(w->nl), .events = POLLIN },
		{ .fd = w->stop_fd, .events = POLLIN },
	};

	(void)nfqct_addrs_refresh();	/* a failure leaves the last snapshot: nothing to log here */
	for (;;) {
		bool changed = false;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & (POLLIN | POLLERR)))
			continue;
		/* a burst of notifications (an address brings several routes): drain, wait a
		 * little for the rest, read the tables once; an overrun (ENOBUFS) too */
		do {
			changed = true;
			while (recv(pf[0].fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
				;
		} while (poll(&pf[0], 1, 10) > 0 && !(pf[0].revents & POLLNVAL));
		if (changed)
			(void)nfqct_addrs_refresh();
	}
	return NULL;
}

struct nfqct_addrs_watch *nfqct_addrs_watch_start(void)
{
	struct nfqct_addrs_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (w->stop_fd < 0 || !w->nl ||
	    mnl_socket_bind(w->nl, RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	err = pthread_create(&w->thread, NULL, watch_main, w);
	if (err) {
		errno = err;
		goto err;
	}
	return w;
err:
	err = errno;
	if (w->nl)
		mnl_socket_close(w->nl);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w);
	errno = err;
	return NULL;
}

void nfqct_addrs_watch_stop(struct nfqct_addrs_watch *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) != sizeof(one))
		pthread_cancel(w->thread);	/* cannot happen with an eventfd; never hang */
	pthread_join(w->thread, NULL);
	mnl_socket_close(w->nl);
	close(w->stop_fd);
	free(w);
}
