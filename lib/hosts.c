// SPDX-License-Identifier: LGPL-2.1-or-later
/* hosts.c - one file over several hosts: who is on which, and what joins them (VXLAN) */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kind.h"
#include "network.h"
#include "topo.h"

/*
 * A file with "hosts" puts each node, container and link on one of them; a bridge with
 * "hosts" is on each of those, and a network with "hosts" has a part of its range on each.
 * `vnet up --host H` builds H's part: what is on H, and what vnet derives to join H to the
 * others: per spanning bridge a vxlan with a forwarding entry per other host (head-end
 * replication: no multicast in the underlay), per routed network a vxlan with a route, a
 * neighbour and a forwarding entry per other host (flannel's VXLAN backend).
 */

struct hctx {
	struct vnet_model *m;
	const char *file;
	struct vnet_error *err;
};

static int herr(struct hctx *c, struct vnet_pos pos, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int herr(struct hctx *c, struct vnet_pos pos, const char *object, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vnet_topo_verror(c->err, c->file, pos, object, fmt, ap);
	va_end(ap);
	return r;
}

/* "h1, h2, h3": the file's hosts, for messages. */
static const char *host_names(const struct vnet_model *m, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->hosts.n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					m->hosts.v[i].name);
	return buf;
}

static long host_index(const struct vnet_model *m, const char *name)
{
	const struct vnet_host *h = vnet_model_find_host(m, name);

	return h ? h - m->hosts.v : -1;
}

/* Host @name's bit in a span's set; 0 for no such host. */
static uint64_t host_bit(const struct vnet_model *m, const char *name)
{
	long i = host_index(m, name);

	return i < 0 ? 0 : 1ULL << i;
}

/* The span of bridge @br of namespace @ns: spanning bridges are in the host part. */
static const struct vnet_span *span_of(const struct vnet_model *m, const char *ns, const char *br)
{
	for (size_t i = 0; i < m->spans.n && !strcmp(ns, m->ns.v[0].name); i++)
		if (!strcmp(m->spans.v[i].bridge, br))
			return &m->spans.v[i];
	return NULL;
}

static bool in_host_part(const struct vnet_model *m, const char *ns)
{
	return !strcmp(ns, m->ns.v[0].name);
}

/* The name of the vxlan vnet derives for bridge or network @name: "vx-NAME", cut to fit. */
void vnet_hosts_vxlan_name(const char *name, char buf[VNET_IFNAMSIZ])
{
	snprintf(buf, VNET_IFNAMSIZ, "vx-%.12s", name);
}

/* FNV-1a of "TOPO/NAME", as a VNI: the same on every host that reads the same file. */
static uint32_t derived_vni(const char *topo, const char *name)
{
	char key[2 * VNET_NAMSIZ + 2];
	uint32_t v;

	snprintf(key, sizeof(key), "%s/%s", topo, name);
	v = vnet_hash(VNET_HASH_INIT, key, strlen(key)) & 0xffffff;
	return v ? v : 1;
}

/* The MAC of host @h's vxlan of a routed network: locally administered, from the names. */
static void derived_mac(const char *topo, const char *net, const char *host, uint8_t mac[6])
{
	char key[3 * VNET_NAMSIZ + 3];
	uint32_t a, b;

	snprintf(key, sizeof(key), "%s/%s/%s", topo, net, host);
	a = vnet_hash(VNET_HASH_INIT, key, strlen(key));
	b = vnet_hash(VNET_HASH_INIT ^ 0x5bd1e995U, key, strlen(key)); /* for the last byte */
	mac[0] = 0x02;
	mac[1] = 0x76;
	memcpy(mac + 2, &a, 3);
	mac[5] = (uint8_t)b;
}

/* "veth v1", "bridge br0": a link as messages name it. */
static const char *link_obj(const struct vnet_link *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", vnet_topo_kind_word(l->kind), l->name);
	return buf;
}

const struct vnet_host *vnet_host_by_addr(const struct vnet_model *m, const uint8_t addr[4])
{
	for (size_t i = 0; i < m->hosts.n; i++)
		if (!memcmp(m->hosts.v[i].addr, addr, 4))
			return &m->hosts.v[i];
	return NULL;
}

/* ---- who is where ---- */

/* Without hosts, nothing may name one. */
static int no_hosts(struct hctx *c)
{
	const struct vnet_model *m = c->m;

	for (size_t i = 0; i < m->ns.n; i++)
		if (m->ns.v[i].host[0])
			return herr(c, m->ns.v[i].pos, NULL,
				    "node %s is on host %s, but the file has no \"hosts\"",
				    m->ns.v[i].node, m->ns.v[i].host);
	for (size_t i = 0; i < m->links.n; i++)
		if (m->links.v[i].host[0])
			return herr(c, m->links.v[i].pos, NULL,
				    "%s is on host %s, but the file has no \"hosts\"",
				    m->links.v[i].name, m->links.v[i].host);
	if (m->spans.n)
		return herr(c, m->spans.v[0].pos, NULL,
			    "bridge %s spans hosts, but the file has no \"hosts\"",
			    m->spans.v[0].bridge);
	if (m->subnets.n)
		return herr(c, m->subnets.v[0].pos, NULL,
			    "network %s has parts on hosts, but the file has no \"hosts\"",
			    m->subnets.v[0].network);
	return 0;
}

static int check_node_hosts(struct hctx *c)
{
	char names[512];

	for (size_t i = 0; i < c->m->hosts.n; i++)
		for (size_t j = 0; j < i; j++)
			if (!memcmp(c->m->hosts.v[i].addr, c->m->hosts.v[j].addr, 4)) {
				char obj[VNET_NAMSIZ + 8];

				snprintf(obj, sizeof(obj), "host %s", c->m->hosts.v[i].name);
				return herr(c, c->m->hosts.v[i].pos, obj,
					    "it has host %s's address (line %u): each host is one "
					    "VTEP",
					    c->m->hosts.v[j].name, c->m->hosts.v[j].pos.line);
			}

	for (size_t i = 1; i < c->m->ns.n; i++) {
		const struct vnet_ns *n = &c->m->ns.v[i];
		char obj[VNET_NAMSIZ + 8];

		snprintf(obj, sizeof(obj), "node %s", n->node);
		if (!n->host[0])
			return herr(c, n->pos, obj, "say which host it is on (host: one of %s)",
				    host_names(c->m, names, sizeof(names)));
		if (host_index(c->m, n->host) < 0)
			return herr(c, n->pos, obj,
				    "host \"%s\" is not one of the file's hosts (%s)", n->host,
				    host_names(c->m, names, sizeof(names)));
	}
	return 0;
}

/* A link's host as the others decide it: its node's, its veth peer's, its master's, its
 * parent's; "" while unknown. */
static const char *implied_host(const struct vnet_model *m, const struct vnet_link *l,
				const char **ret_by)
{
	const struct vnet_link *o;

	*ret_by = "its node";
	if (!in_host_part(m, l->ns))
		return vnet_model_find_ns(m, l->ns)->host;
	*ret_by = "its veth peer";
	if (l->peer[0] && (o = vnet_model_find_link(m, l->peer_ns, l->peer)) && o->host[0])
		return o->host;
	*ret_by = "its master";
	if (l->master[0] && !span_of(m, l->ns, l->master) &&
	    (o = vnet_model_find_link(m, l->ns, l->master)) && o->host[0])
		return o->host;
	*ret_by = "its parent";
	if (l->parent[0] && (o = vnet_model_find_link(m, l->parent_ns, l->parent)) && o->host[0])
		return o->host;
	return "";
}

/* Give each link its host, from those it is tied to, until nothing more is learned. */
static int infer_link_hosts(struct hctx *c)
{
	struct vnet_model *m = c->m;
	bool more = true;
	char names[512];

	while (more) {
		more = false;
		for (size_t i = 0; i < m->links.n; i++) {
			struct vnet_link *l = &m->links.v[i];
			const char *by, *h = l->host[0] ? l->host : implied_host(m, l, &by);

			if (!l->host[0] && h[0] && !span_of(m, l->ns, l->name)) {
				snprintf(l->host, sizeof(l->host), "%s", h);
				more = true;
			}
		}
	}
	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];

		char obj[VNET_IFNAMSIZ + 16];

		link_obj(l, obj, sizeof(obj));
		if (!l->host[0] && !span_of(m, l->ns, l->name))
			return herr(c, l->pos, obj, "say which host it is on (host: one of %s)",
				    host_names(m, names, sizeof(names)));
		if (l->host[0] && host_index(m, l->host) < 0)
			return herr(c, l->pos, obj,
				    "host \"%s\" is not one of the file's hosts (%s)", l->host,
				    host_names(m, names, sizeof(names)));
	}
	return 0;
}

/* What ties two links together ties them to one host: a veth pair does not span hosts. */
static int check_ties(struct hctx *c)
{
	const struct vnet_model *m = c->m;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		const struct vnet_span *sp = l->master[0] ? span_of(m, l->ns, l->master) : NULL;
		const char *by, *h = implied_host(m, l, &by);
		char obj[VNET_IFNAMSIZ + 16];

		link_obj(l, obj, sizeof(obj));
		if (span_of(m, l->ns, l->name)) {
			if (l->host[0])
				return herr(c, l->pos, obj,
					    "a bridge that spans hosts is on each of them: drop "
					    "\"host\"");
			continue;
		}
		if (h[0] && strcmp(h, l->host))
			return herr(c, l->pos, obj,
				    "it is on host %s but %s is on %s: a %s does not span hosts; "
				    "join hosts with a bridge that spans them",
				    l->host, by, h, vnet_kind_name(l->kind));
		if (sp && !(sp->hosts & host_bit(m, l->host)))
			return herr(c, l->pos, obj,
				    "it is on host %s, which bridge %s does not span", l->host,
				    l->master);
	}
	return 0;
}

/* ---- the overlay's MTU ---- */

/* What fits through span @sp: its bridge's MTU, or its smallest underlay's less VXLAN's 50. */
static int span_mtu(struct hctx *c, const struct vnet_span *sp, uint32_t *ret)
{
	const struct vnet_link *br = vnet_model_find_link(c->m, c->m->ns.v[0].name, sp->bridge);
	uint32_t under = UINT32_MAX;
	const char *by = "";
	char obj[VNET_IFNAMSIZ + 8];

	for (size_t i = 0; i < c->m->hosts.n; i++)
		if ((sp->hosts & (1ULL << i)) && c->m->hosts.v[i].mtu < under) {
			under = c->m->hosts.v[i].mtu;
			by = c->m->hosts.v[i].name;
		}
	*ret = under - VNET_VXLAN_OVERHEAD;
	snprintf(obj, sizeof(obj), "bridge %s", sp->bridge);
	if (br && (br->has & VNET_LINK_HAS_MTU) && br->mtu > *ret)
		return herr(
			c, br->pos, obj,
			"mtu %u does not fit through the overlay: host %s's underlay has mtu %u "
			"and VXLAN adds %u bytes, the largest that fits is %u",
			br->mtu, by, under, VNET_VXLAN_OVERHEAD, *ret);
	if (br && (br->has & VNET_LINK_HAS_MTU))
		*ret = br->mtu;
	return 0;
}

/* The ports of a spanning bridge (and their veth peers) take the overlay's MTU: larger
 * frames would be dropped in silence on the way; smaller ones are refused where sent. */
static int span_ports_mtu(struct hctx *c, const struct vnet_span *sp, uint32_t mtu)
{
	struct vnet_model *m = c->m;

	for (size_t i = 0; i < m->links.n; i++) {
		struct vnet_link *l = &m->links.v[i], *peer;

		if (strcmp(l->master, sp->bridge) || !in_host_part(m, l->ns))
			continue;
		peer = l->peer[0] ? vnet_model_find_link(m, l->peer_ns, l->peer) : NULL;
		for (struct vnet_link *x = l; x; x = x == l ? peer : NULL) {
			char obj[VNET_IFNAMSIZ + 16];

			if ((x->has & VNET_LINK_HAS_MTU) && x->mtu > mtu)
				return herr(c, x->pos, link_obj(x, obj, sizeof(obj)),
					    "mtu %u is larger than what bridge %s carries between "
					    "hosts (%u)",
					    x->mtu, sp->bridge, mtu);
			if (!(x->has & VNET_LINK_HAS_MTU)) {
				x->mtu = mtu;
				x->has |= VNET_LINK_HAS_MTU;
			}
		}
	}
	return 0;
}

static int check_spans(struct hctx *c)
{
	for (size_t i = 0; i < c->m->spans.n; i++) {
		struct vnet_span *sp = &c->m->spans.v[i];
		char obj[VNET_IFNAMSIZ + 8];
		uint32_t mtu;
		int r;

		snprintf(obj, sizeof(obj), "bridge %s", sp->bridge);
		if (!sp->hosts)
			return herr(c, sp->pos, obj, "a bridge with a vni needs \"hosts\" to span");
		if (!sp->vni)
			sp->vni = derived_vni(c->m->name, sp->bridge);
		for (size_t j = 0; j < c->m->addrs.n; j++)
			if (!strcmp(c->m->addrs.v[j].dev, sp->bridge) &&
			    in_host_part(c->m, c->m->addrs.v[j].ns))
				return herr(c, c->m->addrs.v[j].pos, obj,
					    "it spans hosts: an address on it would be on each of "
					    "them");
		r = span_mtu(c, sp, &mtu);
		sp->mtu = mtu;
		if (!r)
			r = span_ports_mtu(c, sp, mtu);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- routed networks ---- */

static const struct vnet_host_subnet *subnet_of(const struct vnet_model *m, const char *net,
						const char *host)
{
	for (size_t i = 0; i < m->subnets.n; i++)
		if (!strcmp(m->subnets.v[i].network, net) && !strcmp(m->subnets.v[i].host, host))
			return &m->subnets.v[i];
	return NULL;
}

static bool prefix_in(const uint8_t a[4], unsigned alen, const uint8_t b[4], unsigned blen)
{
	return alen >= blen && !((vnet_ip4(a) ^ vnet_ip4(b)) & vnet_ip4_mask(blen));
}

static int check_subnet(struct hctx *c, const struct vnet_host_subnet *hs)
{
	const struct vnet_network *n = vnet_model_find_network(c->m, hs->network);
	char obj[VNET_IFNAMSIZ + 16], names[512], net[INET_ADDRSTRLEN];

	snprintf(obj, sizeof(obj), "network %s", hs->network);
	if (host_index(c->m, hs->host) < 0)
		return herr(c, hs->pos, obj, "host \"%s\" is not one of the file's hosts (%s)",
			    hs->host, host_names(c->m, names, sizeof(names)));
	inet_ntop(AF_INET, n->subnet, net, sizeof(net));
	if (!prefix_in(hs->subnet, hs->prefixlen, n->subnet, n->prefixlen) ||
	    hs->prefixlen == n->prefixlen || hs->prefixlen > 29)
		return herr(c, hs->pos, obj,
			    "host %s's part is not a smaller subnet (up to /29) inside the "
			    "network's %s/%u",
			    hs->host, net, n->prefixlen);
	for (const struct vnet_host_subnet *o = c->m->subnets.v; o < hs; o++) {
		if (strcmp(o->network, hs->network))
			continue;
		if (!strcmp(o->host, hs->host))
			return herr(c, hs->pos, obj, "host %s is given twice", hs->host);
		if (prefix_in(hs->subnet, hs->prefixlen, o->subnet, o->prefixlen) ||
		    prefix_in(o->subnet, o->prefixlen, hs->subnet, hs->prefixlen))
			return herr(c, hs->pos, obj, "host %s's part overlaps host %s's (line %u)",
				    hs->host, o->host, o->pos.line);
	}
	return 0;
}

static int check_networks(struct hctx *c)
{
	const struct vnet_model *m = c->m;

	for (size_t i = 0; i < m->subnets.n; i++) {
		int r = check_subnet(c, &m->subnets.v[i]);

		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < m->networks.n; i++) {
		const struct vnet_network *n = &m->networks.v[i];
		char obj[VNET_IFNAMSIZ + 16];
		bool routed = false;

		for (size_t j = 0; j < m->subnets.n && !routed; j++)
			routed = !strcmp(m->subnets.v[j].network, n->name);
		snprintf(obj, sizeof(obj), "network %s", n->name);
		if (!routed)
			return herr(c, n->pos, obj,
				    "in a file with hosts, a network has a part on each host it is "
				    "on: hosts: {HOST: SUBNET, ...}");
	}
	for (size_t i = 0; i < m->members.n; i++) {
		const struct vnet_member *mb = &m->members.v[i];
		const struct vnet_ns *n = vnet_model_find_node(m, mb->node);

		char obj[VNET_NAMSIZ + 16];

		snprintf(obj, sizeof(obj), "container %s", mb->node);
		if (n && !subnet_of(m, mb->network, n->host))
			return herr(c, mb->pos, obj,
				    "it is on host %s, where network %s has no part", n->host,
				    mb->network);
	}
	return 0;
}

int vnet_hosts_resolve(struct vnet_model *m, const char *file, struct vnet_error *reterr)
{
	struct hctx c = { m, file, reterr };
	int r;

	if (!m->hosts.n)
		return no_hosts(&c);
	r = check_node_hosts(&c);
	if (!r)
		r = infer_link_hosts(&c);
	if (!r)
		r = check_ties(&c);
	if (!r)
		r = check_spans(&c);
	if (!r)
		r = check_networks(&c);
	return r;
}

/* ---- one host's part ---- */

bool vnet_hosts_keeps_ns(const struct vnet_model *m, const struct vnet_ns *n, const char *host)
{
	return n == m->ns.v || !strcmp(n->host, host);
}

bool vnet_hosts_keeps_link(const struct vnet_model *m, const struct vnet_link *l, const char *host)
{
	const struct vnet_span *sp = span_of(m, l->ns, l->name);

	if (sp)
		return sp->hosts & host_bit(m, host);
	return !strcmp(l->host, host);
}

/* An address or a route in namespace @ns on link @dev ("" for none) stays with them. */
bool vnet_hosts_keeps_on(const struct vnet_model *m, const char *ns, const char *dev,
			 const char *host)
{
	const struct vnet_link *l;

	if (!in_host_part(m, ns)) {
		const struct vnet_ns *n = vnet_model_find_ns(m, ns);

		return n && !strcmp(n->host, host);
	}
	l = dev[0] ? vnet_model_find_link(m, ns, dev) : NULL;
	return !dev[0] || (l && vnet_hosts_keeps_link(m, l, host));
}

bool vnet_hosts_keeps_node(const struct vnet_model *m, const char *node, const char *host)
{
	const struct vnet_ns *n = vnet_model_find_node(m, node);

	return n && vnet_hosts_keeps_ns(m, n, host);
}

/* A vxlan of host @h's part, in the host part, on the VNI and the bridge given. */
static struct vnet_link *add_vxlan(struct vnet_model *m, const char *name,
				   const struct vnet_host *h, uint32_t vni, bool learning,
				   struct vnet_pos pos)
{
	struct vnet_link *l = vnet_model_add_link(m);

	if (!l)
		return NULL;
	snprintf(l->ns, sizeof(l->ns), "%s", m->ns.v[0].name);
	vnet_hosts_vxlan_name(name, l->name);
	snprintf(l->host, sizeof(l->host), "%s", h->name);
	l->kind = &vnet_kind_vxlan;
	l->up = true;
	l->pos = pos;
	vnet_vxlan_set(l, vni, h->addr, learning);
	return l;
}

static int derive_span(struct vnet_model *m, const struct vnet_span *sp, const struct vnet_host *h)
{
	struct vnet_link *l = add_vxlan(m, sp->bridge, h, sp->vni, true, sp->pos);

	if (!l)
		return -ENOMEM;
	snprintf(l->master, sizeof(l->master), "%s", sp->bridge);
	l->mtu = sp->mtu; /* settled by check_spans() */
	l->has |= VNET_LINK_HAS_MTU;
	for (size_t i = 0; i < m->hosts.n && l->n_vtep < VNET_VTEP_MAX; i++)
		if ((sp->hosts & (1ULL << i)) && &m->hosts.v[i] != h)
			memcpy(l->vtep[l->n_vtep++].dst, m->hosts.v[i].addr, 4);
	vnet_vtep_sort(l);
	return 0;
}

static int add_route_via(struct vnet_model *m, const struct vnet_host_subnet *to, const char *dev)
{
	struct vnet_route *r = vnet_model_add_route(m);

	if (!r)
		return -ENOMEM;
	snprintf(r->ns, sizeof(r->ns), "%s", m->ns.v[0].name);
	r->family = AF_INET;
	memcpy(r->dst, to->subnet, 4);
	r->dst_len = to->prefixlen;
	r->has_gw = true;
	memcpy(r->gw, to->subnet, 4); /* the other host's vxlan wears its subnet's first address */
	snprintf(r->dev, sizeof(r->dev), "%s", dev);
	r->pos = to->pos;
	return 0;
}

/* The routed overlay of network @n on host @h: the vxlan, its address, a route, a
 * neighbour and a forwarding entry per other host; @n becomes @h's part of it. */
static int derive_routed(struct vnet_model *m, size_t ni, const struct vnet_host *h,
			 const struct vnet_host_subnet *mine)
{
	struct vnet_network *n = &m->networks.v[ni];
	struct vnet_link *l =
		add_vxlan(m, n->name, h, derived_vni(m->name, n->name), false, n->pos);
	struct vnet_addr *a;

	if (!l)
		return -ENOMEM;
	l->mtu = h->mtu - VNET_VXLAN_OVERHEAD;
	l->has |= VNET_LINK_HAS_MTU | VNET_LINK_HAS_MAC;
	derived_mac(m->name, n->name, h->name, l->mac);
	for (size_t i = 0; i < m->subnets.n && l->n_vtep < VNET_VTEP_MAX; i++) {
		const struct vnet_host_subnet *o = &m->subnets.v[i];
		struct vnet_vtep *v;

		if (strcmp(o->network, n->name) || o == mine)
			continue;
		v = &l->vtep[l->n_vtep++];
		memcpy(v->dst, vnet_model_find_host(m, o->host)->addr, 4);
		derived_mac(m->name, n->name, o->host, v->mac);
		v->has_inner = true;
		memcpy(v->inner, o->subnet, 4);
	}
	vnet_vtep_sort(l);
	snprintf(n->overlay, sizeof(n->overlay), "%s", l->name);
	memcpy(n->cluster, n->subnet, 4);
	n->cluster_len = n->prefixlen;
	memcpy(n->subnet, mine->subnet, 4);
	n->prefixlen = mine->prefixlen;
	/* the whole range is on the vxlan: the next hops are reached on it without "onlink" */
	a = vnet_model_add_addr(m);
	if (!a)
		return -ENOMEM;
	*a = (struct vnet_addr){ .family = AF_INET, .prefixlen = n->cluster_len, .pos = n->pos };
	snprintf(a->ns, sizeof(a->ns), "%s", m->ns.v[0].name);
	snprintf(a->dev, sizeof(a->dev), "%s", l->name);
	memcpy(a->addr, mine->subnet, 4);
	for (size_t i = 0; i < m->subnets.n; i++) {
		const struct vnet_host_subnet *o = &m->subnets.v[i];
		char dev[VNET_IFNAMSIZ];
		int r;

		if (strcmp(o->network, m->networks.v[ni].name) || o == mine)
			continue;
		vnet_hosts_vxlan_name(m->networks.v[ni].name, dev);
		r = add_route_via(m, o, dev);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A check from a node of this host to a node of another: to the other's address (its
 * first that the file gives; a leased one is known only on its own host).
 * Return: 1 to keep @ck, 0 to drop it (it is from another host), or -EINVAL.
 */
/* The address of node @to that the file gives (a container's fixed one first), or NULL. */
static const uint8_t *given_addr(const struct vnet_model *m, const struct vnet_ns *to)
{
	for (size_t i = 0; i < m->members.n; i++)
		if (!strcmp(m->members.v[i].node, to->node) && m->members.v[i].fixed)
			return m->members.v[i].addr;
	for (size_t i = 0; i < m->addrs.n; i++)
		if (!strcmp(m->addrs.v[i].ns, to->name) && m->addrs.v[i].family == AF_INET)
			return m->addrs.v[i].addr;
	return NULL;
}

int vnet_hosts_check(const struct vnet_model *m, struct vnet_check *ck, const char *host,
		     const char *file, struct vnet_error *reterr)
{
	const struct vnet_ns *to;
	const uint8_t *a;

	if (!vnet_hosts_keeps_node(m, ck->from, host))
		return 0;
	if (ck->has_addr || vnet_hosts_keeps_node(m, ck->to, host))
		return 1;
	to = vnet_model_find_node(m, ck->to);
	a = to ? given_addr(m, to) : NULL;
	if (a) {
		ck->has_addr = true;
		ck->family = AF_INET;
		memcpy(ck->addr, a, 4);
		return 1;
	}
	return vnet_topo_error(reterr, file, ck->pos, ck->from,
			       "the check to %s, which is on host %s, needs its address (to: "
			       "ADDRESS): a leased one is known only there",
			       ck->to, to ? to->host : "?");
}

int vnet_hosts_here(const struct vnet_model *want, const struct vnet_model *have,
		    struct vnet_error *reterr)
{
	const struct vnet_host *h = want->host[0] ? vnet_model_find_host(want, want->host) : NULL;
	char a[INET_ADDRSTRLEN], obj[VNET_NAMSIZ + 8];

	/* a sandbox's host part is a fresh namespace: no underlay, nothing to find */
	if (!h || want->sandbox)
		return 0;
	for (size_t i = 0; i < have->addrs.n; i++)
		if (have->addrs.v[i].family == AF_INET &&
		    !memcmp(have->addrs.v[i].addr, h->addr, 4) &&
		    !strcmp(have->addrs.v[i].ns, want->ns.v[0].name))
			return 0;
	snprintf(obj, sizeof(obj), "host %s", h->name);
	inet_ntop(AF_INET, h->addr, a, sizeof(a));
	return vnet_error_set(reterr, -EADDRNOTAVAIL, obj, "find",
			      "its address %s is on no interface of this machine: --host names "
			      "the machine vnet runs on, whose tunnels start at that address",
			      a);
}

int vnet_hosts_derive(struct vnet_model *m, const char *host)
{
	const struct vnet_host *h = vnet_model_find_host(m, host);
	uint64_t bit = host_bit(m, host);
	int r = 0;

	snprintf(m->host, sizeof(m->host), "%s", host);
	for (size_t i = 0; r >= 0 && i < m->spans.n; i++)
		if (m->spans.v[i].hosts & bit)
			r = derive_span(m, &m->spans.v[i], h);
	for (size_t i = 0; r >= 0 && i < m->networks.n; i++) {
		const struct vnet_host_subnet *mine = subnet_of(m, m->networks.v[i].name, host);

		if (mine)
			r = derive_routed(m, i, h, mine);
	}
	return r;
}
