// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-json.c - the topology as JSON, schema 1 (doc/show-json.md): nodes, links, wires */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "array.h"
#include "network.h"
#include "utf8.h"
#include "vnet/render.h"
#include "uplink.h"
#include "view.h"
#include "kind.h"
#include "nat.h"
#include "topo.h"

/*
 * The document is written straight into one buffer, then out in one write: at 1000 nodes it
 * is 2 MB, and building it as a tree of jansson values first, then dumping and freeing the
 * tree, took 40 ms of the 150 of a `vnet show --json`. The layout is jansson's with an
 * indent of 2, which consumers of the earlier versions saw.
 */
struct jw {
	char *buf;
	size_t len, cap;
	bool nomem;
	unsigned depth, base; /* nesting now, and of the document itself */
	bool first; /* nothing written yet in the array or object open now */
	bool keyed; /* a key was just written: its value follows on the same line */
};

static void put(struct jw *w, const char *s, size_t n)
{
	/* once out of memory, nothing more is written: the document is lost whole */
	if (w->nomem || vnet_grow((void **)&w->buf, &w->cap, w->len + n, 1) < 0) {
		w->nomem = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void puts_(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/*
 * @s as a JSON string. Names come from the kernel, which allows any byte but NUL, '/', ':'
 * and white space in an interface name: a byte that is not UTF-8 becomes U+FFFD.
 */
static void put_string(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	put(w, "\"", 1);
	while (*p) {
		const unsigned char *run = p;
		char esc[8];
		size_t n;

		while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		put(w, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		if (*p >= 0x80) {
			n = vnet_utf8_seq(p);
			put(w, n ? (const char *)p : "\\ufffd", n ? n : 6);
			p += n ? n : 1;
			continue;
		}
		switch (*p) {
		case '"':
			puts_(w, "\\\"");
			break;
		case '\\':
			puts_(w, "\\\\");
			break;
		case '\b':
			puts_(w, "\\b");
			break;
		case '\f':
			puts_(w, "\\f");
			break;
		case '\n':
			puts_(w, "\\n");
			break;
		case '\r':
			puts_(w, "\\r");
			break;
		case '\t':
			puts_(w, "\\t");
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", *p);
			puts_(w, esc);
		}
		p++;
	}
	put(w, "\"", 1);
}

/* A new line, indented for the nesting now. */
static void newline(struct jw *w)
{
	static const char spaces[] = "                                ";
	size_t n = (size_t)w->depth * 2;

	put(w, "\n", 1);
	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		put(w, spaces, k);
		n -= k;
	}
}

/* Before a key or a value: the comma, the new line and the indent its place calls for. */
static void sep(struct jw *w)
{
	if (w->keyed) {
		w->keyed = false;
		return;
	}
	if (w->depth == w->base) /* the document itself: its caller placed it */
		return;
	if (!w->first)
		put(w, ",", 1);
	w->first = false;
	newline(w);
}

static void open_(struct jw *w, const char *c)
{
	sep(w);
	puts_(w, c);
	w->depth++;
	w->first = true;
}

static void close_(struct jw *w, const char *c)
{
	w->depth--;
	if (!w->first)
		newline(w);
	puts_(w, c);
	w->first = false;
}

static void key(struct jw *w, const char *k)
{
	sep(w);
	put_string(w, k);
	put(w, ": ", 2);
	w->keyed = true;
}

/* "k": "s", or "k": null when @s is NULL */
static void str(struct jw *w, const char *k, const char *s)
{
	key(w, k);
	sep(w);
	if (s)
		put_string(w, s);
	else
		puts_(w, "null");
}

static void num(struct jw *w, const char *k, long long v)
{
	char b[24];

	key(w, k);
	sep(w);
	snprintf(b, sizeof(b), "%lld", v);
	puts_(w, b);
}

static void boolean(struct jw *w, const char *k, bool v)
{
	key(w, k);
	sep(w);
	puts_(w, v ? "true" : "false");
}

/*
 * The options @o has, by the keys and words of the kind's table: words as strings, the
 * rest as JSON takes them from vnet_opt_format() (true, 7, 1.5 seconds).
 */
static void options(struct jw *w, const struct vnet_optset *s, const struct vnet_opts *o)
{
	for (size_t i = 0; i < s->n; i++) {
		char v[32];

		if (!vnet_opts_has(o, i))
			continue;
		vnet_opt_format(&s->v[i], o->v[i], v, sizeof(v));
		if (s->v[i].type == VNET_OPT_WORD || s->v[i].type == VNET_OPT_IPV4) {
			str(w, s->v[i].key, v);
		} else {
			key(w, s->v[i].key);
			sep(w);
			puts_(w, v);
		}
	}
}

/* ---- the document ---- */

static void id(struct jw *w, const char *k, const uint8_t v[8])
{
	char s[32];

	vnet_stp_id_format(v, s, sizeof(s));
	str(w, k, s);
}

static void bridge(struct jw *w, const struct vnet_link *l)
{
	const struct vnet_stp_bridge *s = &l->stp_br;

	key(w, "bridge");
	open_(w, "{");
	boolean(w, "stp", vnet_bridge_stp(l));
	id(w, "bridge_id", s->bridge_id);
	id(w, "root_id", s->root_id);
	num(w, "root_port", s->root_port);
	num(w, "root_path_cost", s->root_path_cost);
	boolean(w, "topology_change", s->topology_change);
	close_(w, "}");
}

static void port(struct jw *w, const struct vnet_view *v, const struct vnet_link *l)
{
	const struct vnet_link *br = vnet_view_bridge(v, l);
	const struct vnet_stp_port *s = &l->stp_port;
	bool stp = br && vnet_bridge_stp(br) && s->has;

	key(w, "port");
	open_(w, "{");
	str(w, "bridge", l->master);
	str(w, "state", vnet_stp_state_name(s->state));
	str(w, "role", stp ? vnet_stp_role_name(vnet_stp_port_role(br, l)) : NULL);
	options(w, &vnet_kind_master()->port_opts, &l->port);
	num(w, "port_no", s->port_no);
	id(w, "designated_bridge", s->designated_bridge);
	num(w, "designated_port", s->designated_port);
	num(w, "designated_cost", s->designated_cost);
	close_(w, "}");
}

static void addresses(struct jw *w, const struct vnet_view *v, size_t i)
{
	key(w, "addresses");
	open_(w, "[");
	for (size_t k = 0; k < v->addr_n[i]; k++) {
		const struct vnet_addr *x = &v->m->addrs.v[v->addr[v->addr_first[i] + k]];
		char t[64];

		vnet_addr_format(x->family, x->addr, x->prefixlen, t, sizeof(t));
		open_(w, "{");
		str(w, "address", t);
		str(w, "family", x->family == AF_INET ? "inet" : "inet6");
		boolean(w, "owned", x->owned);
		close_(w, "}");
	}
	close_(w, "]");
}

/* {"node": ..., NAME: ...}: a veth's other end, or a wire's */
static void end(struct jw *w, const char *k, const struct vnet_view *v, size_t i,
		const char *name_key)
{
	key(w, k);
	open_(w, "{");
	str(w, "node", v->m->ns.v[v->node[v->link_node[i]]].node);
	str(w, name_key, v->m->links.v[i].name);
	close_(w, "}");
}

/* "vteps": [{"dst": "192.0.2.2", "mac": "00:00:00:00:00:00", "via": "10.244.2.0"}, ...] */
static void vteps(struct jw *w, const struct vnet_model *m, const struct vnet_link *l)
{
	key(w, "vteps");
	open_(w, "[");
	for (size_t i = 0; i < l->n_vtep; i++) {
		const struct vnet_vtep *t = &l->vtep[i];
		char dst[INET_ADDRSTRLEN], inner[INET_ADDRSTRLEN], mac[18];

		inet_ntop(AF_INET, t->dst, dst, sizeof(dst));
		inet_ntop(AF_INET, t->inner, inner, sizeof(inner));
		vnet_mac_format(t->mac, mac, sizeof(mac));
		open_(w, "{");
		const struct vnet_host *h = vnet_host_by_addr(m, t->dst);

		str(w, "host", h ? h->name : NULL);
		str(w, "dst", dst);
		str(w, "mac", mac);
		str(w, "via", t->has_inner ? inner : NULL);
		close_(w, "}");
	}
	close_(w, "]");
}

static void link_(struct jw *w, const struct vnet_view *v, size_t i)
{
	const struct vnet_link *l = &v->m->links.v[i];
	char mac[18], qemu[160];
	const uint8_t *a = l->mac;

	vnet_mac_format(a, mac, sizeof(mac));
	open_(w, "{");
	str(w, "name", l->name);
	str(w, "kind", vnet_kind_name(l->kind));
	num(w, "ifindex", l->ifindex);
	boolean(w, "up", l->up);
	num(w, "mtu", l->mtu);
	str(w, "mac", l->has & VNET_LINK_HAS_MAC ? mac : NULL);
	str(w, "master", l->master[0] ? l->master : NULL);
	str(w, "parent", l->parent[0] ? l->parent : NULL);
	if (v->peer[i] >= 0)
		end(w, "peer", v, (size_t)v->peer[i], "name");
	else
		str(w, "peer", NULL);
	boolean(w, "owned", l->owned);
	key(w, "options");
	open_(w, "{");
	if (l->kind)
		options(w, &l->kind->opts, &l->opts);
	close_(w, "}");
	addresses(w, v, i);
	if (vnet_tap_qemu(l, qemu, sizeof(qemu)) == 0)
		str(w, "qemu", qemu);
	if (vnet_kind_has(l->kind, VNET_KIND_F_MASTER))
		bridge(w, l);
	if (l->kind == &vnet_kind_vxlan)
		vteps(w, v->m, l);
	if (vnet_view_bridge(v, l))
		port(w, v, l);
	close_(w, "}");
}

static void route(struct jw *w, const struct vnet_route *r)
{
	char dst[64] = "default", gw[64];

	if (r->dst_len)
		vnet_addr_format(r->family, r->dst, r->dst_len, dst, sizeof(dst));
	if (r->has_gw)
		vnet_addr_format(r->family, r->gw, r->family == AF_INET ? 33 : 129, gw, sizeof(gw));
	open_(w, "{");
	str(w, "dst", dst);
	str(w, "family", r->family == AF_INET ? "inet" : "inet6");
	str(w, "via", r->has_gw ? gw : NULL);
	str(w, "dev", r->dev[0] ? r->dev : NULL);
	num(w, "metric", r->metric);
	boolean(w, "owned", r->owned);
	close_(w, "}");
}

/* Indexes 0..@n grouped by @group_of (a node, or (size_t)-1 for none), first by first. */
struct groups {
	size_t *by, *start; /* group k holds by[start[k] .. start[k + 1]) */
};

static int group(size_t n, const size_t *group_of, size_t ngroups, struct groups *g)
{
	g->by = malloc((n + 1) * sizeof(*g->by));
	g->start = calloc(ngroups + 2, sizeof(*g->start));
	if (!g->by || !g->start)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (group_of[i] < ngroups)
			g->start[group_of[i] + 2]++;
	for (size_t k = 1; k < ngroups + 2; k++)
		g->start[k] += g->start[k - 1];
	for (size_t i = 0; i < n; i++)
		if (group_of[i] < ngroups)
			g->by[g->start[group_of[i] + 1]++] = i;
	return 0;
}

static void node(struct jw *w, const struct vnet_view *v, size_t k, const struct groups *links,
		 const struct groups *routes)
{
	const struct vnet_ns *ns = &v->m->ns.v[v->node[k]];

	open_(w, "{");
	str(w, "name", ns->node);
	str(w, "netns", ns->name);
	boolean(w, "exists", ns->exists);
	boolean(w, "owned", ns->owned);
	/* every link, lo too, in the kernel's order: the drawing order leaves lo out */
	key(w, "links");
	open_(w, "[");
	for (size_t j = links->start[k]; j < links->start[k + 1]; j++)
		link_(w, v, links->by[j]);
	close_(w, "]");
	key(w, "routes");
	open_(w, "[");
	for (size_t j = routes->start[k]; j < routes->start[k + 1]; j++)
		route(w, &v->m->routes.v[routes->by[j]]);
	close_(w, "]");
	close_(w, "}");
}

/* The node of each route; through the namespace's lo, which every namespace has. */
static size_t route_node(const struct vnet_view *v, const struct vnet_route *r)
{
	const struct vnet_link *lo = vnet_model_find_link(v->m, r->ns, "lo");

	if (lo)
		return v->link_node[lo - v->m->links.v];
	for (size_t k = 0; k < v->nnodes; k++)
		if (!strcmp(v->m->ns.v[v->node[k]].name, r->ns))
			return k;
	return (size_t)-1;
}

/* The veth pairs in drawing order (the text's letters): "a" is the end drawn first. */
static void wires(struct jw *w, const struct vnet_view *v)
{
	long next = 0;

	key(w, "wires");
	open_(w, "[");
	for (size_t k = 0; k < v->nnodes; k++)
		for (size_t j = 0; j < v->nlinks[k]; j++) {
			size_t i = v->links[k][j];

			if (v->wire[i] != next)
				continue;
			next++;
			open_(w, "{");
			end(w, "a", v, i, "link");
			end(w, "b", v, (size_t)v->peer[i], "link");
			str(w, "kind", "veth");
			close_(w, "}");
		}
	close_(w, "]");
}

static void ip4_str(struct jw *w, const char *k, const uint8_t a[4])
{
	char t[INET_ADDRSTRLEN];

	str(w, k, inet_ntop(AF_INET, a, t, sizeof(t)));
}

static void publish(struct jw *w, const struct vnet_nat_publish *pb)
{
	const struct vnet_port *p = &pb->p;

	open_(w, "{");
	str(w, "protocol", p->proto == IPPROTO_UDP ? "udp" : "tcp");
	if (p->has_host_addr)
		ip4_str(w, "host_address", p->host_addr);
	num(w, "host_port", p->host_port);
	num(w, "count", pb->count);
	str(w, "node", p->node);
	ip4_str(w, "address", p->addr);
	num(w, "port", p->port);
	close_(w, "}");
}

static void nets(struct jw *w, const char *k, const struct vnet_nat_net *v, size_t n)
{
	key(w, k);
	open_(w, "[");
	for (size_t i = 0; i < n; i++) {
		open_(w, "{");
		str(w, "subnet", v[i].subnet);
		str(w, "bridge", v[i].bridge);
		close_(w, "}");
	}
	close_(w, "]");
}

/* "nat": vnet's nftables table, when the topology has one. */
static int nat(struct jw *w, const struct vnet_model *m)
{
	struct vnet_nat_facts f;

	if (!m->nat.table[0] || (!m->nat.exists && !m->nat.owned))
		return 0;
	if (vnet_nat_facts(m, &f) < 0)
		return -ENOMEM;
	key(w, "nat");
	open_(w, "{");
	str(w, "table", m->nat.table);
	str(w, "family", "ip");
	str(w, "namespace", m->nat.ns);
	boolean(w, "owned", m->nat.owned);
	boolean(w, "edited", m->nat.drift);
	boolean(w, "forwarding", m->nat.forward);
	nets(w, "masquerade", f.masq.v, f.masq.n);
	nets(w, "internal", f.internal.v, f.internal.n);
	key(w, "connected");
	open_(w, "[");
	for (size_t i = 0; i < f.connected.n; i++) {
		open_(w, "[");
		sep(w);
		put_string(w, f.connected.v[i].a);
		sep(w);
		put_string(w, f.connected.v[i].b);
		close_(w, "]");
	}
	close_(w, "]");
	key(w, "published");
	open_(w, "[");
	for (size_t i = 0; i < f.published.n; i++)
		publish(w, &f.published.v[i]);
	close_(w, "]");
	close_(w, "}");
	vnet_nat_facts_clear(&f);
	return 0;
}

/* "uplinks": the NICs bridges took over, when the topology has any. */
static void uplinks(struct jw *w, const struct vnet_model *m)
{
	char mac[18];

	if (!m->uplinks.n)
		return;
	key(w, "uplinks");
	open_(w, "[");
	for (size_t i = 0; i < m->uplinks.n; i++) {
		const struct vnet_uplink *u = &m->uplinks.v[i];
		unsigned addrs = 0, routes = 0;

		open_(w, "{");
		str(w, "namespace", u->ns);
		str(w, "bridge", u->bridge);
		str(w, "nic", u->nic);
		boolean(w, "taken", u->taken);
		if (u->saved) {
			vnet_uplink_counts(u->saved, &addrs, &routes);
			vnet_mac_format(u->saved->mac, mac, sizeof(mac));
			num(w, "addresses", addrs);
			num(w, "routes", routes);
			num(w, "mtu", u->saved->mtu);
			str(w, "mac", mac);
		}
		close_(w, "}");
	}
	close_(w, "]");
}

static int document(const struct vnet_model *m, struct jw *w)
{
	struct vnet_view v;
	struct groups links = { 0 }, routes = { 0 };
	size_t *route_of = NULL;
	int r = vnet_view_build(m, &v);

	if (r < 0)
		return r;
	route_of = malloc((m->routes.n + 1) * sizeof(*route_of));
	for (size_t i = 0; route_of && i < m->routes.n; i++)
		route_of[i] = route_node(&v, &m->routes.v[i]);
	if (!route_of || group(m->links.n, v.link_node, v.nnodes, &links) < 0 ||
	    group(m->routes.n, route_of, v.nnodes, &routes) < 0) {
		r = -ENOMEM;
		goto out;
	}
	open_(w, "{");
	num(w, "schema", VNET_RENDER_JSON_SCHEMA);
	str(w, "topology", m->name);
	boolean(w, "sandbox", m->sandbox);
	str(w, "host", m->host[0] ? m->host : NULL);
	key(w, "nodes");
	open_(w, "[");
	for (size_t k = 0; k < v.nnodes; k++)
		node(w, &v, k, &links, &routes);
	close_(w, "]");
	wires(w, &v);
	r = nat(w, m);
	uplinks(w, m);
	close_(w, "}");
	r = r < 0 || w->nomem ? -ENOMEM : 0;
out:
	free(route_of);
	free(links.by);
	free(links.start);
	free(routes.by);
	free(routes.start);
	vnet_view_clear(&v);
	return r;
}

int vnet_render_json_nested(const struct vnet_model *m, unsigned depth, FILE *out)
{
	struct jw w = { .depth = depth, .base = depth };
	int r = document(m, &w);

	if (r == 0 && fwrite(w.buf, 1, w.len, out) != w.len)
		r = -EIO;
	free(w.buf);
	return r;
}

int vnet_render_json(const struct vnet_model *m, FILE *out)
{
	int r = vnet_render_json_nested(m, 0, out);

	if (r == 0 && fputc('\n', out) == EOF)
		r = -EIO;
	return r;
}
