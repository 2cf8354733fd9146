// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-json.c - the topology as JSON, schema 1 (doc/show-json.md): nodes, links, wires */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "vnet/render.h"

static json_t *mac_json(const struct vnet_link *l)
{
	char s[18];
	const uint8_t *a = l->mac;

	if (!(l->has & VNET_LINK_HAS_MAC))
		return json_null();
	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
	return json_string(s);
}

static json_t *id_json(const uint8_t id[8])
{
	char s[32];

	vnet_stp_id_format(id, s, sizeof(s));
	return json_string(s);
}

static json_t *bridge_json(const struct vnet_link *l)
{
	const struct vnet_stp_bridge *s = &l->stp_br;

	return json_pack("{s:b, s:o, s:o, s:i, s:I, s:b}", "stp", l->br.stp, "bridge_id",
			 id_json(s->bridge_id), "root_id", id_json(s->root_id), "root_port",
			 (int)s->root_port, "root_path_cost", (json_int_t)s->root_path_cost,
			 "topology_change", s->topology_change);
}

static json_t *port_json(const struct vnet_view *v, const struct vnet_link *l)
{
	const struct vnet_link *br = vnet_view_bridge(v, l);
	const struct vnet_stp_port *s = &l->stp_port;
	bool stp = br && br->br.stp && s->has;

	return json_pack("{s:s, s:s, s:s?, s:I, s:i, s:i, s:o, s:i, s:I}", "bridge", l->master,
			 "state", vnet_stp_state_name(s->state), "role",
			 stp ? vnet_stp_role_name(vnet_stp_port_role(br, l)) : NULL, "cost",
			 (json_int_t)l->port.cost, "priority", (int)l->port.priority, "port_no",
			 (int)s->port_no, "designated_bridge", id_json(s->designated_bridge),
			 "designated_port", (int)s->designated_port, "designated_cost",
			 (json_int_t)s->designated_cost);
}

static json_t *addrs_json(const struct vnet_view *v, size_t i)
{
	json_t *a = json_array();

	for (size_t k = 0; a && k < v->addr_n[i]; k++) {
		const struct vnet_addr *x = &v->m->addrs.v[v->addr[v->addr_first[i] + k]];
		char t[64];

		vnet_addr_format(x->family, x->addr, x->prefixlen, t, sizeof(t));
		json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "address", t, "family",
						   x->family == AF_INET ? "inet" : "inet6", "owned",
						   x->owned));
	}
	return a;
}

static json_t *link_json(const struct vnet_view *v, size_t i)
{
	const struct vnet_model *m = v->m;
	const struct vnet_link *l = &m->links.v[i];
	json_t *peer = json_null(), *o;

	if (v->peer[i] >= 0)
		peer = json_pack("{s:s, s:s}", "node",
				 m->ns.v[v->node[v->link_node[v->peer[i]]]].node, "name",
				 m->links.v[v->peer[i]].name);
	o = json_pack("{s:s, s:s, s:i, s:b, s:I, s:o, s:s?, s:o, s:b, s:o}", "name", l->name,
		      "kind", vnet_kind_name(l->kind), "ifindex", l->ifindex, "up", l->up, "mtu",
		      (json_int_t)l->mtu, "mac", mac_json(l), "master",
		      l->master[0] ? l->master : NULL, "peer", peer, "owned", l->owned, "addresses",
		      addrs_json(v, i));
	if (o && l->kind == VNET_KIND_BRIDGE)
		json_object_set_new(o, "bridge", bridge_json(l));
	if (o && vnet_view_bridge(v, l))
		json_object_set_new(o, "port", port_json(v, l));
	return o;
}

static json_t *route_json(const struct vnet_route *r)
{
	char dst[64] = "default", gw[64];

	if (r->dst_len)
		vnet_addr_format(r->family, r->dst, r->dst_len, dst, sizeof(dst));
	if (r->has_gw)
		vnet_addr_format(r->family, r->gw, r->family == AF_INET ? 33 : 129, gw, sizeof(gw));
	return json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:b}", "dst", dst, "family",
			 r->family == AF_INET ? "inet" : "inet6", "via", r->has_gw ? gw : NULL,
			 "dev", r->dev[0] ? r->dev : NULL, "metric", (json_int_t)r->metric, "owned",
			 r->owned);
}

static json_t *node_json(const struct vnet_view *v, size_t k, const size_t *by_node,
			 const size_t *start, const size_t *route_of)
{
	const struct vnet_model *m = v->m;
	const struct vnet_ns *ns = &m->ns.v[v->node[k]];
	json_t *links = json_array(), *routes = json_array();

	/* every link, lo too, in the kernel's order: the drawing order leaves lo out */
	for (size_t j = start[k]; links && j < start[k + 1]; j++)
		json_array_append_new(links, link_json(v, by_node[j]));
	for (size_t i = 0; routes && i < m->routes.n; i++)
		if (route_of[i] == k)
			json_array_append_new(routes, route_json(&m->routes.v[i]));
	return json_pack("{s:s, s:s, s:b, s:b, s:o, s:o}", "name", ns->node, "netns", ns->name,
			 "exists", ns->exists, "owned", ns->owned, "links", links, "routes",
			 routes);
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
static json_t *wires_json(const struct vnet_view *v)
{
	const struct vnet_model *m = v->m;
	json_t *a = json_array();
	long next = 0;

	for (size_t k = 0; a && k < v->nnodes; k++)
		for (size_t j = 0; j < v->nlinks[k]; j++) {
			size_t i = v->links[k][j], p = (size_t)v->peer[i];

			if (v->wire[i] != next)
				continue;
			next++;
			json_array_append_new(
				a, json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:s}", "a", "node",
					     m->ns.v[v->node[k]].node, "link", m->links.v[i].name,
					     "b", "node", m->ns.v[v->node[v->link_node[p]]].node,
					     "link", m->links.v[p].name, "kind", "veth"));
		}
	return a;
}

/* Links grouped by node, in the kernel's order within each: a counting sort. */
static int links_by_node(const struct vnet_view *v, size_t **ret_by, size_t **ret_start)
{
	size_t n = v->m->links.n, *by = malloc((n + 1) * sizeof(*by));
	size_t *start = calloc(v->nnodes + 2, sizeof(*start));

	if (!by || !start) {
		free(by);
		free(start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		start[v->link_node[i] + 2]++;
	for (size_t k = 1; k < v->nnodes + 2; k++)
		start[k] += start[k - 1];
	for (size_t i = 0; i < n; i++)
		by[start[v->link_node[i] + 1]++] = i;
	*ret_by = by;
	*ret_start = start;
	return 0;
}

void *vnet_render_json_value(const struct vnet_model *m)
{
	struct vnet_view v;
	size_t *route_of, *by = NULL, *start = NULL;
	json_t *nodes, *o = NULL;

	if (vnet_view_build(m, &v) < 0)
		return NULL;
	route_of = calloc(m->routes.n + 1, sizeof(*route_of));
	nodes = json_array();
	if (links_by_node(&v, &by, &start) < 0)
		free(route_of), route_of = NULL;
	for (size_t i = 0; route_of && i < m->routes.n; i++)
		route_of[i] = route_node(&v, &m->routes.v[i]);
	for (size_t k = 0; route_of && nodes && k < v.nnodes; k++)
		json_array_append_new(nodes, node_json(&v, k, by, start, route_of));
	if (route_of && nodes)
		o = json_pack("{s:i, s:s, s:b, s:o, s:o}", "schema", VNET_RENDER_JSON_SCHEMA,
			      "topology", m->name, "sandbox", m->sandbox, "nodes",
			      json_incref(nodes), "wires", wires_json(&v));
	json_decref(nodes);
	free(route_of);
	free(by);
	free(start);
	vnet_view_clear(&v);
	return o;
}

int vnet_render_json(const struct vnet_model *m, FILE *out)
{
	json_t *o = vnet_render_json_value(m);
	char *s;
	int r = 0;

	if (!o)
		return -ENOMEM;
	/* one string, one write: json_dumpf() calls fwrite() for every token */
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	if (fputs(s, out) == EOF || fputc('\n', out) == EOF)
		r = -EIO;
	free(s);
	return r;
}
