// SPDX-License-Identifier: LGPL-2.1-or-later
/* observe.c - the kernel's links, addresses and routes of some namespaces, read into a model */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "array.h"
#include "kernel.h"
#include "kind.h"

/* What a link message says that the model has no field for; parallel to m->links. */
struct link_extra {
	size_t ns; /* index in m->ns */
	uint32_t master; /* IFLA_MASTER, 0 for none */
	uint32_t parent; /* IFLA_LINK of a kind that lives on a parent, 0 for none */
	int32_t netnsid; /* IFLA_LINK_NETNSID: the veth peer is in another namespace */
	bool has_netnsid;
};

struct obs {
	struct vnet_model *m;
	struct vnet_nlset *s;
	char tag[VNET_NAMSIZ + 8]; /* "vnet:<topology>", the alias of owned links */
	size_t ns; /* the namespace being read */
	size_t first; /* its first link in m->links */
	struct link_extra *x;
	size_t xcap;
};

/* ---- attributes ---- */

struct attr_tbl {
	const struct nlattr **tb;
	unsigned max;
};

static int attr_tbl_cb(const struct nlattr *a, void *data)
{
	const struct attr_tbl *t = data;
	unsigned type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

static void parse_nested(const struct nlattr *a, const struct nlattr **tb, unsigned max)
{
	struct attr_tbl t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (a)
		mnl_attr_parse_nested(a, attr_tbl_cb, &t);
}

static void parse_msg(const struct nlmsghdr *nlh, size_t hdr, const struct nlattr **tb,
		      unsigned max)
{
	struct attr_tbl t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse(nlh, (unsigned)hdr, attr_tbl_cb, &t);
}

static bool get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_get_payload_len(a) < sizeof(*v))
		return false;
	*v = mnl_attr_get_u32(a);
	return true;
}

static void get_str(const struct nlattr *a, char *buf, size_t len)
{
	const char *p = mnl_attr_get_payload(a);
	size_t n = strnlen(p, mnl_attr_get_payload_len(a));

	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

static bool str_is(const struct nlattr *a, const char *s)
{
	size_t len = strlen(s);

	return a && mnl_attr_get_payload_len(a) >= len &&
	       !memcmp(mnl_attr_get_payload(a), s, len) &&
	       (mnl_attr_get_payload_len(a) == len || !((char *)mnl_attr_get_payload(a))[len]);
}

/* ---- links ---- */

/* Room for the attributes of any kind's info data (IFLA_BR_MAX is the largest, about 50). */
#define DATA_MAX 127

/* A kind's info data or a port's slave data: its options, then what else its kind reads. */
static void read_data(const struct nlattr *data, const struct vnet_optset *s,
		      void (*read)(const struct nlattr *const *tb, struct vnet_link *l),
		      struct vnet_opts *ret, struct vnet_link *l)
{
	const struct nlattr *tb[DATA_MAX + 1];
	unsigned max = s->max < DATA_MAX ? s->max : DATA_MAX;

	if (!data) {
		if (read)
			read(NULL, l);
		return;
	}
	parse_nested(data, tb, max);
	vnet_opts_read(s, tb, ret);
	if (read)
		read(tb, l);
}

/* The kind, by the kernel's name of it; a kind vnet does not know stays NULL. */
static void parse_linkinfo(const struct nlattr *li, struct vnet_link *l)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1];
	const struct vnet_kind *k = NULL, *m = vnet_kind_master();

	parse_nested(li, tb, IFLA_INFO_MAX);
	if (tb[IFLA_INFO_KIND])
		k = vnet_kind_by_info(mnl_attr_get_payload(tb[IFLA_INFO_KIND]),
				      strnlen(mnl_attr_get_payload(tb[IFLA_INFO_KIND]),
					      mnl_attr_get_payload_len(tb[IFLA_INFO_KIND])));
	if (k) {
		l->kind = k;
		read_data(tb[IFLA_INFO_DATA], &k->opts, k->read, &l->opts, l);
	}
	if (m && str_is(tb[IFLA_INFO_SLAVE_KIND], m->name))
		read_data(tb[IFLA_INFO_SLAVE_DATA], &m->port_opts, m->read_port, &l->port, l);
}

static void fill_link(const struct obs *o, const struct ifinfomsg *ifi, const struct nlattr **tb,
		      struct vnet_link *l, struct link_extra *x)
{
	uint32_t v;

	get_str(tb[IFLA_IFNAME], l->name, sizeof(l->name));
	snprintf(l->ns, sizeof(l->ns), "%s", o->m->ns.v[o->ns].name);
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	l->lower_up = ifi->ifi_flags & IFF_LOWER_UP;
	if (get_u32(tb[IFLA_MTU], &l->mtu))
		l->has |= VNET_LINK_HAS_MTU;
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == sizeof(l->mac)) {
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), sizeof(l->mac));
		l->has |= VNET_LINK_HAS_MAC;
	}
	if (tb[IFLA_IFALIAS])
		get_str(tb[IFLA_IFALIAS], l->alias, sizeof(l->alias));
	l->owned = !strcmp(l->alias, o->tag);
	if (get_u32(tb[IFLA_MASTER], &v))
		x->master = v;
	if (tb[IFLA_LINKINFO])
		parse_linkinfo(tb[IFLA_LINKINFO], l);
	if (get_u32(tb[IFLA_LINK_NETNSID], &v)) {
		x->netnsid = (int32_t)v;
		x->has_netnsid = true;
	}
	/* IFLA_LINK: a veth's peer, or the parent a macvlan lives on */
	if (!get_u32(tb[IFLA_LINK], &v))
		return;
	if (vnet_kind_has(l->kind, VNET_KIND_F_PAIR))
		l->peer_ifindex = (int)v;
	else if (vnet_kind_has(l->kind, VNET_KIND_F_PARENT))
		x->parent = v;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct obs *o = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1];
	struct vnet_link *l;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	parse_msg(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (!tb[IFLA_IFNAME])
		return MNL_CB_OK;
	if (vnet_grow((void **)&o->x, &o->xcap, o->m->links.n + 1, sizeof(*o->x)) < 0)
		goto nomem;
	l = vnet_model_add_link(o->m);
	if (!l)
		goto nomem;
	o->x[o->m->links.n - 1] = (struct link_extra){ .ns = o->ns };
	fill_link(o, ifi, tb, l, &o->x[o->m->links.n - 1]);
	return MNL_CB_OK;
nomem:
	errno = ENOMEM;
	return MNL_CB_ERROR;
}

/* The link of index @ifindex in the namespace being read, or NULL. */
static const struct vnet_link *find_index(const struct obs *o, int ifindex)
{
	for (size_t i = o->first; i < o->m->links.n; i++)
		if (o->m->links.v[i].ifindex == ifindex)
			return &o->m->links.v[i];
	return NULL;
}

static void resolve_masters(struct obs *o)
{
	for (size_t i = o->first; i < o->m->links.n; i++) {
		struct vnet_link *l = &o->m->links.v[i];
		const struct vnet_link *br = NULL, *parent = NULL;

		if (o->x[i].master)
			br = find_index(o, (int)o->x[i].master);
		if (br)
			snprintf(l->master, sizeof(l->master), "%s", br->name);
		/* a parent in another namespace (IFLA_LINK_NETNSID) is not one vnet makes */
		if (o->x[i].parent && !o->x[i].has_netnsid)
			parent = find_index(o, (int)o->x[i].parent);
		if (parent) {
			snprintf(l->parent, sizeof(l->parent), "%s", parent->name);
			snprintf(l->parent_ns, sizeof(l->parent_ns), "%s", l->ns);
		}
	}
}

static void set_dev(const struct obs *o, int ifindex, char *buf, size_t len)
{
	const struct vnet_link *l = find_index(o, ifindex);

	snprintf(buf, len, "%s", l ? l->name : "");
}

/* ---- addresses and routes ---- */

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct obs *o = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1], *at;
	size_t alen;
	const uint8_t *p;
	struct vnet_addr *a;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MNL_CB_OK;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	parse_msg(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on a point-to-point link. */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!at || mnl_attr_get_payload_len(at) != alen)
		return MNL_CB_OK;
	p = mnl_attr_get_payload(at);
	if (alen == 16 && p[0] == 0xfe && (p[1] & 0xc0) == 0x80)
		return MNL_CB_OK; /* link-local: the kernel's own */
	a = vnet_model_add_addr(o->m);
	if (!a) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	snprintf(a->ns, sizeof(a->ns), "%s", o->m->ns.v[o->ns].name);
	set_dev(o, (int)ifa->ifa_index, a->dev, sizeof(a->dev));
	a->family = ifa->ifa_family;
	memcpy(a->addr, p, alen);
	a->prefixlen = ifa->ifa_prefixlen;
	a->owned = tb[IFA_PROTO] && mnl_attr_get_payload_len(tb[IFA_PROTO]) >= 1 &&
		   mnl_attr_get_u8(tb[IFA_PROTO]) == VNET_PROTO;
	return MNL_CB_OK;
}

/* Routes vnet shows: unicast, main table, not made by the kernel itself. */
static bool route_wanted(const struct rtmsg *rtm, const struct nlattr **tb)
{
	uint32_t table = rtm->rtm_table;

	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return false;
	if (rtm->rtm_protocol == RTPROT_KERNEL || rtm->rtm_protocol == RTPROT_RA)
		return false;
	if (rtm->rtm_type != RTN_UNICAST)
		return false;
	get_u32(tb[RTA_TABLE], &table);
	if (table != RT_TABLE_MAIN)
		return false;
	if (rtm->rtm_family == AF_INET6 && tb[RTA_DST] &&
	    mnl_attr_get_payload_len(tb[RTA_DST]) == 16 &&
	    *(const uint8_t *)mnl_attr_get_payload(tb[RTA_DST]) == 0xff)
		return false; /* multicast */
	return true;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct obs *o = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1];
	struct vnet_route *r;
	size_t alen;
	uint32_t oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	parse_msg(nlh, sizeof(*rtm), tb, RTA_MAX);
	if (!route_wanted(rtm, tb))
		return MNL_CB_OK;
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	r = vnet_model_add_route(o->m);
	if (!r) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	snprintf(r->ns, sizeof(r->ns), "%s", o->m->ns.v[o->ns].name);
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == alen)
		memcpy(r->dst, mnl_attr_get_payload(tb[RTA_DST]), alen);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == alen) {
		memcpy(r->gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		r->has_gw = true;
	}
	if (get_u32(tb[RTA_OIF], &oif))
		set_dev(o, (int)oif, r->dev, sizeof(r->dev));
	get_u32(tb[RTA_PRIORITY], &r->metric);
	r->owned = rtm->rtm_protocol == VNET_PROTO;
	return MNL_CB_OK;
}

/* ---- veth peers across namespaces ---- */

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NETNSA_MAX + 1];
	uint32_t v;

	if (nlh->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_OK;
	parse_msg(nlh, sizeof(struct rtgenmsg), tb, NETNSA_MAX);
	if (get_u32(tb[NETNSA_NSID], &v))
		*(int32_t *)data = (int32_t)v;
	return MNL_CB_OK;
}

/* The id namespace @from gives namespace @of (RTM_GETNSID); Return: 0 or -errno. */
static int ns_nsid(struct obs *o, size_t from, size_t of, int32_t *ret_id)
{
	char buf[128] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct vnet_nl *nl;
	int fd, r;

	r = vnet_nlset_get(o->s, o->m->ns.v[from].name, &nl);
	if (r < 0)
		return r;
	fd = vnet_netns_open(o->m->ns.v[of].name);
	if (fd < 0)
		return fd;
	nlh->nlmsg_type = RTM_GETNSID;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtgenmsg));
	mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)fd);
	*ret_id = NETNSA_NSID_NOT_ASSIGNED;
	r = vnet_nl_request(nl, nlh, nsid_cb, ret_id);
	close(fd);
	return r;
}

static int cmp_ifindex(const void *a, const void *b, void *data)
{
	const struct vnet_link *v = data;
	int x = v[*(const size_t *)a].ifindex, y = v[*(const size_t *)b].ifindex;

	return (x > y) - (x < y);
}

/*
 * Is veth @j the other end of veth @i? Without IFLA_LINK_NETNSID the peer is
 * in the same namespace; with it, in another one, which only the ids tell
 * apart when several namespaces have a veth of the right index pointing back
 * (ifindexes are per namespace, so that is common): then ask the kernel.
 */
static int is_peer(struct obs *o, size_t i, size_t j, bool ambiguous)
{
	const struct vnet_link *a = &o->m->links.v[i], *b = &o->m->links.v[j];
	const struct link_extra *xa = &o->x[i], *xb = &o->x[j];
	int32_t id;
	int r;

	if (b->ifindex != a->peer_ifindex || b->peer_ifindex != a->ifindex || b->peer[0])
		return 0;
	if (!xa->has_netnsid)
		return !xb->has_netnsid && xa->ns == xb->ns;
	if (!xb->has_netnsid || xa->ns == xb->ns)
		return 0;
	if (!ambiguous)
		return 1;
	r = ns_nsid(o, xa->ns, xb->ns, &id);
	return r < 0 ? r : id == xa->netnsid;
}

static void pair(struct vnet_link *a, struct vnet_link *b)
{
	snprintf(a->peer, sizeof(a->peer), "%s", b->name);
	snprintf(a->peer_ns, sizeof(a->peer_ns), "%s", b->ns);
	snprintf(b->peer, sizeof(b->peer), "%s", a->name);
	snprintf(b->peer_ns, sizeof(b->peer_ns), "%s", a->ns);
}

/* Pair veth @i with the one end among @idx[lo, hi) (veths of its peer's index) that fits. */
static int find_peer(struct obs *o, size_t i, const size_t *idx, size_t lo, size_t hi)
{
	size_t found = SIZE_MAX, count = 0;
	int r;

	for (size_t k = lo; k < hi; k++) {
		r = is_peer(o, i, idx[k], false);
		if (r > 0) {
			found = idx[k];
			count++;
		}
	}
	for (size_t k = lo; count > 1 && k < hi; k++) {
		r = is_peer(o, i, idx[k], true);
		if (r < 0)
			return r;
		if (r > 0) {
			found = idx[k];
			count = 1;
		}
	}
	if (count == 1)
		pair(&o->m->links.v[i], &o->m->links.v[found]);
	return 0;
}

static int resolve_peers(struct obs *o)
{
	struct vnet_link *v = o->m->links.v;
	size_t n = 0, *idx = malloc((o->m->links.n + 1) * sizeof(*idx));
	int r = 0;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < o->m->links.n; i++)
		if (vnet_kind_has(v[i].kind, VNET_KIND_F_PAIR))
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_ifindex, v);
	for (size_t k = 0; k < n && r == 0; k++) {
		size_t i = idx[k], lo = 0, hi = n;

		if (v[i].peer[0] || v[i].peer_ifindex <= 0)
			continue;
		while (lo < hi) { /* the first veth of index >= peer_ifindex */
			size_t mid = lo + (hi - lo) / 2;

			if (v[idx[mid]].ifindex < v[i].peer_ifindex)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (hi = lo; hi < n && v[idx[hi]].ifindex == v[i].peer_ifindex; hi++)
			;
		r = find_peer(o, i, idx, lo, hi);
	}
	free(idx);
	return r;
}

/* ---- namespaces ---- */

static int observe_ns(struct obs *o, const char *name)
{
	struct vnet_ns *e = vnet_model_add_ns(o->m);
	struct vnet_nl *nl;
	int r;

	if (!e)
		return -ENOMEM;
	snprintf(e->name, sizeof(e->name), "%s", name);
	r = vnet_nlset_get(o->s, name, &nl);
	if (r == -ENOENT)
		return 0; /* exists = false */
	if (r < 0)
		return r;
	e->exists = true;
	o->ns = o->m->ns.n - 1;
	o->first = o->m->links.n;
	r = vnet_nl_dump(nl, RTM_GETLINK, AF_UNSPEC, link_cb, o);
	if (r < 0)
		return r;
	resolve_masters(o);
	r = vnet_nl_dump(nl, RTM_GETADDR, AF_UNSPEC, addr_cb, o);
	if (r < 0)
		return r;
	/* One dump for both families; it also holds IPMR ones, which route_cb skips. */
	r = vnet_nl_dump(nl, RTM_GETROUTE, AF_UNSPEC, route_cb, o);
	if (r < 0)
		return r;
	return vnet_vxlan_observe(nl, o->m->links.v + o->first, o->m->links.n - o->first);
}

/* One reader: namespaces ns[0..n) into a model of its own, on the sockets of @s. */
struct reader {
	struct obs o;
	const char *const *ns;
	size_t n;
	int r;
};

static void *read_namespaces(void *arg)
{
	struct reader *rd = arg;

	for (size_t i = 0; i < rd->n && rd->r == 0; i++)
		rd->r = observe_ns(&rd->o, rd->ns[i]);
	return NULL;
}

/* The helper thread's body: it closes the namespace fd it keeps to come home with. */
static void *read_half(void *arg)
{
	read_namespaces(arg);
	vnet_netns_thread_done();
	return NULL;
}

static int reader_init(struct reader *rd, struct vnet_nlset *s, const char *topo,
		       const char *const *ns, size_t n)
{
	*rd = (struct reader){ .o = { .s = s }, .ns = ns, .n = n };
	rd->o.m = vnet_model_new();
	if (!rd->o.m)
		return -ENOMEM;
	snprintf(rd->o.m->name, sizeof(rd->o.m->name), "%s", topo);
	snprintf(rd->o.tag, sizeof(rd->o.tag), "%s%s", VNET_TAG_PREFIX, topo);
	return 0;
}

/* Append everything @b read to @a (links keep their namespace by index, shifted). */
static int merge(struct obs *a, struct obs *b)
{
	size_t shift = a->m->ns.n, first = a->m->links.n;
	int r = vnet_grow((void **)&a->x, &a->xcap, first + b->m->links.n, sizeof(*a->x));
	struct link_extra *x = a->x;

	if (r < 0)
		return r;
	for (size_t i = 0; i < b->m->ns.n && !r; i++)
		r = vnet_model_add_ns(a->m) ? (a->m->ns.v[a->m->ns.n - 1] = b->m->ns.v[i], 0) :
					      -ENOMEM;
	for (size_t i = 0; i < b->m->links.n && !r; i++) {
		r = vnet_model_add_link(a->m) ?
			    (a->m->links.v[a->m->links.n - 1] = b->m->links.v[i], 0) :
			    -ENOMEM;
		x[first + i] = b->x[i];
		x[first + i].ns += shift;
	}
	for (size_t i = 0; i < b->m->addrs.n && !r; i++)
		r = vnet_model_add_addr(a->m) ?
			    (a->m->addrs.v[a->m->addrs.n - 1] = b->m->addrs.v[i], 0) :
			    -ENOMEM;
	for (size_t i = 0; i < b->m->routes.n && !r; i++)
		r = vnet_model_add_route(a->m) ?
			    (a->m->routes.v[a->m->routes.n - 1] = b->m->routes.v[i], 0) :
			    -ENOMEM;
	return r;
}

/* Sockets the helper thread opened join the caller's set, for the apply that follows. */
static void adopt_sockets(struct vnet_nlset *s, struct vnet_nlset *t)
{
	if (vnet_array_grow(s, s->n + t->n) < 0) {
		vnet_nlset_free(t); /* they are only a cache */
		return;
	}
	if (t->n) /* none, when every namespace read was made (and its socket kept) by apply */
		memcpy(s->v + s->n, t->v, t->n * sizeof(*s->v));
	s->n += t->n;
	free(t->v);
	*t = (struct vnet_nlset){ 0 };
}

/*
 * With many namespaces, a second thread reads half of them: the kernel answers
 * dumps of different namespaces in parallel (they take no common lock), and the
 * reading is most of a no-op `up` or of `show` at 1000 nodes. setns() moves only
 * the calling thread, so each thread enters namespaces on its own.
 */
#define PARALLEL_MIN 64

static int read_all(struct reader *rd, struct vnet_nlset *s, const char *topo,
		    const char *const *ns, size_t n)
{
	struct vnet_nlset theirs = { 0 };
	struct reader half;
	pthread_t t;
	int r = reader_init(rd, s, topo, ns, n);

	if (r < 0 || n < PARALLEL_MIN)
		return r < 0 ? r : (read_namespaces(rd), rd->r);
	r = reader_init(&half, &theirs, topo, ns + n / 2, n - n / 2);
	if (r < 0 || pthread_create(&t, NULL, read_half, &half)) {
		vnet_model_free(half.o.m);
		return (read_namespaces(rd), rd->r); /* no thread: read all here */
	}
	rd->n = n / 2;
	read_namespaces(rd);
	pthread_join(t, NULL);
	r = rd->r ? rd->r : half.r;
	if (!r)
		r = merge(&rd->o, &half.o);
	adopt_sockets(s, &theirs);
	vnet_model_free(half.o.m);
	free(half.o.x);
	return r;
}

/*
 * A link on a parent in another namespace (it has IFLA_LINK_NETNSID): the parent is the
 * link of that index in the namespace the id stands for, among those read.
 */
static int resolve_parents(struct obs *o)
{
	for (size_t i = 0; i < o->m->links.n; i++) {
		struct vnet_link *l = &o->m->links.v[i];
		const struct link_extra *x = &o->x[i];

		for (size_t j = 0; x->parent && x->has_netnsid && j < o->m->links.n; j++) {
			const struct vnet_link *p = &o->m->links.v[j];
			int32_t id;
			int r;

			if (p->ifindex != (int)x->parent || o->x[j].ns == x->ns)
				continue;
			r = ns_nsid(o, x->ns, o->x[j].ns, &id);
			if (r < 0)
				return r;
			if (id != x->netnsid)
				continue;
			snprintf(l->parent, sizeof(l->parent), "%s", p->name);
			snprintf(l->parent_ns, sizeof(l->parent_ns), "%s", p->ns);
			break;
		}
	}
	return 0;
}

/* After reading, whether @r says it went well or not: veth peers and parents, then the
 * model out. */
static int finish(struct reader *rd, int r, struct vnet_model **ret_model)
{
	if (r == 0)
		r = resolve_peers(&rd->o);
	if (r == 0)
		r = resolve_parents(&rd->o);
	free(rd->o.x);
	if (r < 0) {
		vnet_model_free(rd->o.m);
		return r;
	}
	*ret_model = rd->o.m;
	return 0;
}

/* Three dumps per namespace (links, addresses, routes), on cached sockets. */
int vnet_observe(struct vnet_nlset *s, const char *topo, const char *const *ns, size_t n,
		 struct vnet_model **ret_model)
{
	struct reader rd;

	return finish(&rd, read_all(&rd, s, topo, ns, n), ret_model);
}

int vnet_observe_replay(const char *topo, const void *buf, size_t len,
			struct vnet_model **ret_model)
{
	struct reader rd;
	struct vnet_ns *e;
	int r = reader_init(&rd, NULL, topo, NULL, 0);
	mnl_cb_t pass[] = { link_cb, addr_cb, route_cb };

	len = vnet_nl_whole(buf, len); /* as vnet_nl_dump() reads a datagram */
	e = r < 0 ? NULL : vnet_model_add_ns(rd.o.m);
	if (!e)
		r = -ENOMEM;
	else
		*e = (struct vnet_ns){ .name = "replay", .exists = true };
	/* as observe_ns does it: the links, their masters, then what refers to them */
	for (size_t i = 0; r == 0 && i < sizeof(pass) / sizeof(*pass); i++) {
		errno = 0;
		if (mnl_cb_run(buf, len, 0, 0, pass[i], &rd.o) == MNL_CB_ERROR && errno == ENOMEM)
			r = -ENOMEM; /* other errors are the input's: read what came before them */
		if (i == 0)
			resolve_masters(&rd.o);
	}
	return finish(&rd, r, ret_model);
}
