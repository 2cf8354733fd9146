// SPDX-License-Identifier: LGPL-2.1-or-later
/* network.c - networks of containers: bridges, veth pairs, addresses and routes they make */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "kind.h"
#include "network.h"
#include "topo.h"

uint32_t vnet_ip4(const uint8_t a[4])
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

void vnet_ip4_put(uint32_t x, uint8_t a[4])
{
	a[0] = (uint8_t)(x >> 24);
	a[1] = (uint8_t)(x >> 16);
	a[2] = (uint8_t)(x >> 8);
	a[3] = (uint8_t)x;
}

uint32_t vnet_ip4_mask(unsigned plen)
{
	return plen ? ~0U << (32 - plen) : 0;
}

int vnet_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		return -errno;
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	return 0;
}

char *vnet_mac_format(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

int vnet_ip4_prefix(const char *s, uint8_t ret[4], unsigned *ret_plen)
{
	const char *slash = strchr(s, '/');
	char ip[INET_ADDRSTRLEN], *end = NULL;
	unsigned long plen;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !isdigit((unsigned char)slash[1]))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	plen = strtoul(slash + 1, &end, 10);
	if (*end || plen > 32 || inet_pton(AF_INET, ip, ret) != 1)
		return -EINVAL;
	*ret_plen = (unsigned)plen;
	return 0;
}

void vnet_member_host_if(const char *node, unsigned k, char buf[VNET_IFNAMSIZ])
{
	char name[64];
	int n = k ? snprintf(name, sizeof(name), "ve-%s-%u", node, k) :
		    snprintf(name, sizeof(name), "ve-%s", node);

	if (n > 0 && n < VNET_IFNAMSIZ) {
		memcpy(buf, name, (size_t)n + 1);
		return;
	}
	/* too long for an interface name: a hash of both, which a file may not write */
	snprintf(buf, VNET_IFNAMSIZ, "ve-%08x",
		 vnet_hash(vnet_hash_str(VNET_HASH_INIT, node), &k, sizeof(k)));
}

struct member_key {
	const struct vnet_model *m;
	const char *node;
};

static bool member_same(const void *ctx, size_t pos)
{
	const struct member_key *k = ctx;

	return !strcmp(k->m->members.v[pos].node, k->node);
}

int vnet_members_index(const struct vnet_model *m, struct vnet_index *ret)
{
	for (size_t i = 0; i < m->members.n; i++)
		if ((!i || strcmp(m->members.v[i - 1].node, m->members.v[i].node)) &&
		    vnet_index_add(ret, vnet_hash_str(VNET_HASH_INIT, m->members.v[i].node), i) < 0)
			return -ENOMEM;
	return 0;
}

size_t vnet_members_first(const struct vnet_model *m, const struct vnet_index *ix, const char *node)
{
	struct member_key k = { m, node };
	long i = vnet_index_find(ix, vnet_hash_str(VNET_HASH_INIT, node), member_same, &k);

	return i < 0 ? m->members.n : (size_t)i;
}

/*
 * The model by name, for expanding and placing: containers' namespaces, where their
 * members start, which namespaces have routes of the file's. Linear scans of these, once
 * per container, made 20k containers take 2.6 s to validate.
 */
struct lookup {
	const struct vnet_model *m;
	struct vnet_index node, ns, member;
	bool *routed; /* per namespace: the file gives it routes */
};

struct ns_key {
	const struct vnet_model *m;
	const char *s;
	bool node;
};

static bool ns_same(const void *ctx, size_t pos)
{
	const struct ns_key *k = ctx;

	return !strcmp(k->node ? k->m->ns.v[pos].node : k->m->ns.v[pos].name, k->s);
}

static long ns_find(const struct lookup *lk, const char *s, bool node)
{
	struct ns_key k = { lk->m, s, node };

	return vnet_index_find(node ? &lk->node : &lk->ns, vnet_hash_str(VNET_HASH_INIT, s),
			       ns_same, &k);
}

static void lookup_free(struct lookup *lk)
{
	vnet_index_free(&lk->node);
	vnet_index_free(&lk->ns);
	vnet_index_free(&lk->member);
	free(lk->routed);
}

static int lookup_build(const struct vnet_model *m, struct lookup *lk)
{
	*lk = (struct lookup){ .m = m, .routed = calloc(m->ns.n + 1, sizeof(bool)) };
	if (!lk->routed)
		return -ENOMEM;
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct vnet_ns *n = &m->ns.v[i];

		if ((ns_find(lk, n->node, true) < 0 &&
		     vnet_index_add(&lk->node, vnet_hash_str(VNET_HASH_INIT, n->node), i) < 0) ||
		    (ns_find(lk, n->name, false) < 0 &&
		     vnet_index_add(&lk->ns, vnet_hash_str(VNET_HASH_INIT, n->name), i) < 0))
			return -ENOMEM;
	}
	for (size_t i = 0; i < m->routes.n; i++) {
		long k = ns_find(lk, m->routes.v[i].ns, false);

		if (k >= 0)
			lk->routed[k] = true;
	}
	return vnet_members_index(m, &lk->member);
}

const struct vnet_network *vnet_network_of(const struct vnet_model *m, const struct vnet_member *mb)
{
	return vnet_model_find_network(m, mb->network);
}

/* ---- expansion: checks, then the objects ---- */

static bool in_subnet(const struct vnet_network *n, const uint8_t a[4])
{
	uint32_t mask = vnet_ip4_mask(n->prefixlen);

	return (vnet_ip4(a) & mask) == vnet_ip4(n->subnet);
}

/* An address a host of @n may have: in the subnet, neither its first nor its last. */
static bool host_addr(const struct vnet_network *n, const uint8_t a[4])
{
	uint32_t x = vnet_ip4(a), mask = vnet_ip4_mask(n->prefixlen);

	return in_subnet(n, a) && (x & ~mask) && (x & ~mask) != ~mask;
}

static int bad_addr(const struct vnet_network *n, const uint8_t a[4], const char *file,
		    struct vnet_pos pos, const char *object, const char *what,
		    struct vnet_error *reterr)
{
	char txt[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, a, txt, sizeof(txt));
	inet_ntop(AF_INET, n->subnet, net, sizeof(net));
	return vnet_topo_error(reterr, file, pos, object,
			       "%s %s is not a host address of network %s (%s/%u)", what, txt,
			       n->name, net, n->prefixlen);
}

static struct vnet_link *add_link(struct vnet_model *m, const char *ns, const char *name,
				  struct vnet_pos pos)
{
	struct vnet_link *l = vnet_model_add_link(m);

	if (!l)
		return NULL;
	snprintf(l->ns, sizeof(l->ns), "%s", ns);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->up = true;
	l->pos = pos;
	return l;
}

static int add_addr(struct vnet_model *m, const char *ns, const char *dev, const uint8_t a[4],
		    unsigned plen, struct vnet_pos pos)
{
	struct vnet_addr *ad = vnet_model_add_addr(m);

	if (!ad)
		return -ENOMEM;
	snprintf(ad->ns, sizeof(ad->ns), "%s", ns);
	snprintf(ad->dev, sizeof(ad->dev), "%s", dev);
	ad->family = AF_INET;
	memcpy(ad->addr, a, 4);
	ad->prefixlen = (uint8_t)plen;
	ad->pos = pos;
	return 0;
}

/* A network: its gateway (the subnet's first address unless given), its bridge. */
static int expand_network(struct vnet_model *m, size_t i, const char *file,
			  struct vnet_error *reterr)
{
	struct vnet_network *n = &m->networks.v[i];
	const struct vnet_kind *br = vnet_kind_find("bridge");
	struct vnet_link *l;
	static const uint8_t zero[4];
	char obj[64];

	snprintf(obj, sizeof(obj), "network %s", n->name);
	if (vnet_model_find_network(m, n->name) != n)
		return vnet_topo_error(reterr, file, n->pos, obj, "network %s is declared twice",
				       n->name);
	if (!memcmp(n->gateway, zero, 4))
		vnet_ip4_put(vnet_ip4(n->subnet) + 1, n->gateway);
	else if (!host_addr(n, n->gateway))
		return bad_addr(n, n->gateway, file, n->pos, obj, "gateway", reterr);
	l = add_link(m, m->ns.v[0].name, n->name, n->pos);
	if (!l)
		return -ENOMEM;
	l->kind = br;
	if (br->finish)
		br->finish(l);
	else
		vnet_opts_defaults(&br->opts, &l->opts);
	n = &m->networks.v[i];
	return add_addr(m, m->ns.v[0].name, n->name, n->gateway, n->prefixlen, n->pos);
}

static int check_connects(const struct vnet_model *m, const char *file, struct vnet_error *reterr)
{
	for (size_t i = 0; i < m->connects.n; i++) {
		const struct vnet_connect *c = &m->connects.v[i];
		char obj[64];

		snprintf(obj, sizeof(obj), "network %s", c->a);
		if (!vnet_model_find_network(m, c->b))
			return vnet_topo_error(reterr, file, c->pos, obj,
					       "network \"%s\" is not declared under networks",
					       c->b);
		if (!strcmp(c->a, c->b))
			return vnet_topo_error(reterr, file, c->pos, obj,
					       "a network reaches itself without \"connect\"");
	}
	return 0;
}

/* A member's network exists, and its fixed address is a free host address of it. */
static int check_member(const struct vnet_model *m, size_t i, const char *file,
			struct vnet_error *reterr)
{
	const struct vnet_member *mb = &m->members.v[i];
	const struct vnet_network *n = vnet_network_of(m, mb);
	char obj[96], txt[INET_ADDRSTRLEN];

	snprintf(obj, sizeof(obj), "container %s", mb->node);
	if (!n)
		return vnet_topo_error(reterr, file, mb->pos, obj,
				       "network \"%s\" is not declared under networks",
				       mb->network);
	if (!mb->fixed)
		return 0;
	if (!host_addr(n, mb->addr))
		return bad_addr(n, mb->addr, file, mb->pos, obj, "address", reterr);
	if (!memcmp(mb->addr, n->gateway, 4))
		return vnet_topo_error(reterr, file, mb->pos, obj,
				       "address %s is the gateway of network %s, on its bridge",
				       inet_ntop(AF_INET, mb->addr, txt, sizeof(txt)), n->name);
	return 0;
}

/* Two containers with one fixed address on one network; sorted, so a large file is quick. */
static int addr_cmp(const void *a, const void *b)
{
	const struct vnet_member *x = *(const struct vnet_member *const *)a;
	const struct vnet_member *y = *(const struct vnet_member *const *)b;
	int c = strcmp(x->network, y->network);

	if (!c)
		c = memcmp(x->addr, y->addr, 4);
	return c ? c : (x > y) - (x < y);
}

static int check_fixed_twice(const struct vnet_model *m, const char *file,
			     struct vnet_error *reterr)
{
	const struct vnet_member **v = calloc(m->members.n + 1, sizeof(*v));
	size_t n = 0;
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->members.n; i++)
		if (m->members.v[i].fixed)
			v[n++] = &m->members.v[i];
	qsort(v, n, sizeof(*v), addr_cmp);
	for (size_t i = 1; i < n && !r; i++) {
		char txt[INET_ADDRSTRLEN], obj[96];

		if (strcmp(v[i]->network, v[i - 1]->network) ||
		    memcmp(v[i]->addr, v[i - 1]->addr, 4))
			continue;
		inet_ntop(AF_INET, v[i]->addr, txt, sizeof(txt));
		snprintf(obj, sizeof(obj), "container %s", v[i]->node);
		r = vnet_topo_error(reterr, file, v[i]->pos, obj,
				    "address %s on network %s is container %s's already (line %u)",
				    txt, v[i]->network, v[i - 1]->node, v[i - 1]->pos.line);
	}
	free(v);
	return r;
}

/* The first member of @node on a network with a way out, or NULL. */
static const struct vnet_member *way_out(const struct vnet_model *m, const char *node, size_t from)
{
	for (size_t i = from; i < m->members.n && !strcmp(m->members.v[i].node, node); i++) {
		const struct vnet_network *n = vnet_network_of(m, &m->members.v[i]);

		if (n && !n->internal)
			return &m->members.v[i];
	}
	return NULL;
}

static int add_default_route(struct vnet_model *m, const char *ns, const struct vnet_member *mb)
{
	const struct vnet_network *n = vnet_network_of(m, mb);
	struct vnet_route *r = vnet_model_add_route(m);

	if (!r)
		return -ENOMEM;
	snprintf(r->ns, sizeof(r->ns), "%s", ns);
	r->family = AF_INET;
	r->has_gw = true;
	memcpy(r->gw, n->gateway, 4);
	r->pos = mb->pos;
	return 0;
}

/* The veth pair of a member; its fixed address; after a container's last member, its route. */
static int expand_member(struct vnet_model *m, size_t i, const char *ns, bool route)
{
	const struct vnet_kind *veth = vnet_kind_find("veth");
	struct vnet_member mb = m->members.v[i];
	const struct vnet_network *n = vnet_network_of(m, &mb);
	struct vnet_link *h = add_link(m, m->ns.v[0].name, mb.host_if, mb.pos);
	struct vnet_link *c = h ? add_link(m, ns, mb.ifname, mb.pos) : NULL;
	const struct vnet_member *out;

	if (!c)
		return -ENOMEM;
	h = c - 1;
	h->kind = c->kind = veth;
	snprintf(h->master, sizeof(h->master), "%s", mb.network);
	snprintf(h->peer, sizeof(h->peer), "%s", c->name);
	snprintf(h->peer_ns, sizeof(h->peer_ns), "%s", c->ns);
	snprintf(c->peer, sizeof(c->peer), "%s", h->name);
	snprintf(c->peer_ns, sizeof(c->peer_ns), "%s", h->ns);
	if (mb.fixed && add_addr(m, ns, mb.ifname, mb.addr, n->prefixlen, mb.pos) < 0)
		return -ENOMEM;
	if (!route)
		return 0;
	out = way_out(m, mb.node, i);
	return out ? add_default_route(m, ns, out) : 0;
}

/* Each container's members follow each other (the parser adds them so); its default route
 * comes with its first, unless the file gives it routes. */
static int expand_members(struct vnet_model *m, const struct lookup *lk, const char *file,
			  struct vnet_error *reterr)
{
	int r = check_fixed_twice(m, file, reterr);

	for (size_t i = 0; r >= 0 && i < m->members.n; i++) {
		long k = ns_find(lk, m->members.v[i].node, true);
		bool first = !i || strcmp(m->members.v[i - 1].node, m->members.v[i].node);
		char ns[VNET_NAMSIZ];

		r = check_member(m, i, file, reterr);
		if (r < 0)
			break;
		/* copied: adding links and routes may move the arrays */
		snprintf(ns, sizeof(ns), "%s", m->ns.v[k].name);
		r = expand_member(m, i, ns, first && !lk->routed[k]);
	}
	return r;
}

/* Ports in order of protocol and host port: two on one port clash unless both are bound to
 * different addresses. */
static int port_cmp(const void *a, const void *b)
{
	const struct vnet_port *x = *(const struct vnet_port *const *)a;
	const struct vnet_port *y = *(const struct vnet_port *const *)b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->host_port != y->host_port)
		return x->host_port - y->host_port;
	return (x > y) - (x < y);
}

static bool clash(const struct vnet_port *a, const struct vnet_port *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (!a->has_host_addr || !b->has_host_addr || !memcmp(a->host_addr, b->host_addr, 4));
}

static int port_clash(const struct vnet_port *a, const struct vnet_port *b, const char *file,
		      struct vnet_error *reterr)
{
	char obj[96];

	snprintf(obj, sizeof(obj), "container %s", b->node);
	return vnet_topo_error(reterr, file, b->pos, obj,
			       "host port %u/%s is published already, by container %s (line %u)",
			       b->host_port, b->proto == IPPROTO_TCP ? "tcp" : "udp", a->node,
			       a->pos.line);
}

static int check_ports(const struct vnet_model *m, const char *file, struct vnet_error *reterr)
{
	const struct vnet_port **v = calloc(m->ports.n + 1, sizeof(*v));
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->ports.n; i++)
		v[i] = &m->ports.v[i];
	qsort(v, m->ports.n, sizeof(*v), port_cmp);
	for (size_t i = 1; i < m->ports.n && !r; i++)
		for (size_t j = i; j-- > 0 && !r && v[j]->host_port == v[i]->host_port &&
				   v[j]->proto == v[i]->proto;)
			if (clash(v[j], v[i]))
				r = port_clash(v[j]->pos.line < v[i]->pos.line ? v[j] : v[i],
					       v[j]->pos.line < v[i]->pos.line ? v[i] : v[j], file,
					       reterr);
	free(v);
	return r;
}

/* A container publishes through its first network with a way out. */
static int check_port_ways(const struct vnet_model *m, const struct lookup *lk, const char *file,
			   struct vnet_error *reterr)
{
	for (size_t i = 0; i < m->ports.n; i++) {
		const struct vnet_port *p = &m->ports.v[i];
		char obj[96];

		if (i && !strcmp(p->node, m->ports.v[i - 1].node))
			continue;
		if (way_out(m, p->node, vnet_members_first(m, &lk->member, p->node)))
			continue;
		snprintf(obj, sizeof(obj), "container %s", p->node);
		return vnet_topo_error(reterr, file, p->pos, obj,
				       "it publishes ports but is on no network with a way out"
				       " (every one of its networks is internal)");
	}
	return 0;
}

static int place(struct vnet_model *m, const struct lookup *lk)
{
	for (size_t i = 0; i < m->members.n; i++) {
		const struct vnet_member *mb = &m->members.v[i];
		long k;

		if (mb->fixed || !mb->has_addr)
			continue;
		k = ns_find(lk, mb->node, true);
		if (k >= 0 && add_addr(m, m->ns.v[k].name, mb->ifname, mb->addr,
				       vnet_network_of(m, mb)->prefixlen, mb->pos) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < m->ports.n; i++) {
		struct vnet_port *p = &m->ports.v[i];
		const struct vnet_member *out = NULL;

		if (!i || strcmp(p->node, m->ports.v[i - 1].node))
			out = way_out(m, p->node, vnet_members_first(m, &lk->member, p->node));
		else
			memcpy(p->addr, m->ports.v[i - 1].addr, 4);
		if (out && out->has_addr)
			memcpy(p->addr, out->addr, 4);
	}
	return 0;
}

int vnet_networks_expand(struct vnet_model *m, const char *file, struct vnet_error *reterr)
{
	struct lookup lk = { 0 };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < m->networks.n; i++)
		r = expand_network(m, i, file, reterr);
	if (r >= 0)
		r = check_connects(m, file, reterr);
	if (r >= 0)
		r = lookup_build(m, &lk);
	if (r >= 0)
		r = expand_members(m, &lk, file, reterr);
	if (r >= 0)
		r = check_port_ways(m, &lk, file, reterr);
	if (r >= 0)
		r = check_ports(m, file, reterr);
	if (r >= 0) /* the ports of containers with fixed addresses know their target now */
		r = place(m, &lk);
	lookup_free(&lk);
	if (r == -ENOMEM)
		vnet_error_set(reterr, r, NULL, NULL, "out of memory");
	if (r < 0 || !m->networks.n)
		return r;
	snprintf(m->nat.ns, sizeof(m->nat.ns), "%s", m->ns.v[0].name);
	snprintf(m->nat.table, sizeof(m->nat.table), "vnet-%s", m->name);
	for (size_t i = 0; i < m->networks.n; i++)
		m->nat.forward |= !m->networks.v[i].internal;
	m->nat.forward |= m->connects.n > 0;
	return 0;
}

int vnet_networks_place(struct vnet_model *m)
{
	struct lookup lk = { 0 };
	int r = lookup_build(m, &lk);

	if (r >= 0)
		r = place(m, &lk);
	lookup_free(&lk);
	return r;
}
