// SPDX-License-Identifier: LGPL-2.1-or-later
/* model.c - the network model: growable arrays of namespaces, links, addresses, routes */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "nat.h"
#include "uplink.h"
#include "topo.h"
#include "vnet/vnet.h"

/* The links sorted by (ns, name), rebuilt when links were added since. */
struct vnet_model_index {
	uint32_t *order;
	size_t n;
};

struct vnet_model *vnet_model_new(void)
{
	return calloc(1, sizeof(struct vnet_model));
}

void vnet_model_free(struct vnet_model *m)
{
	if (!m)
		return;
	free(m->ns.v);
	free(m->links.v);
	free(m->addrs.v);
	free(m->routes.v);
	free(m->checks.v);
	free(m->networks.v);
	free(m->members.v);
	free(m->ports.v);
	free(m->connects.v);
	for (size_t i = 0; i < m->uplinks.n; i++)
		vnet_uplink_saved_free(m->uplinks.v[i].saved);
	free(m->uplinks.v);
	free(m->hosts.v);
	free(m->spans.v);
	free(m->subnets.v);
	free(m->tunnels.v);
	vnet_nat_seen_free(m->nat.seen);
	if (m->index)
		free(m->index->order);
	free(m->index);
	free(m);
}

/* A copy of array @src into @dst, which is zeroed; Return: 0 or -ENOMEM. */
static int copy_array(void **dst, size_t *dn, size_t *dcap, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	*dn = *dcap = 0;
	if (!n)
		return 0;
	*dst = malloc(n * size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * size);
	*dn = *dcap = n;
	return 0;
}

#define COPY(d, s, f)                                                              \
	copy_array((void **)&(d)->f.v, &(d)->f.n, &(d)->f.cap, (s)->f.v, (s)->f.n, \
		   sizeof(*(s)->f.v))

struct vnet_model *vnet_model_dup(const struct vnet_model *m)
{
	struct vnet_model *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return NULL;
	memcpy(d->name, m->name, sizeof(d->name));
	memcpy(d->file, m->file, sizeof(d->file));
	d->sandbox = m->sandbox;
	d->allow_loops = m->allow_loops;
	memcpy(d->host, m->host, sizeof(d->host));
	d->nat = m->nat;
	d->nat.seen = NULL;
	r = COPY(d, m, ns);
	r = r ?: COPY(d, m, links);
	r = r ?: COPY(d, m, addrs);
	r = r ?: COPY(d, m, routes);
	r = r ?: COPY(d, m, checks);
	r = r ?: COPY(d, m, networks);
	r = r ?: COPY(d, m, members);
	r = r ?: COPY(d, m, ports);
	r = r ?: COPY(d, m, connects);
	r = r ?: COPY(d, m, uplinks);
	r = r ?: COPY(d, m, hosts);
	r = r ?: COPY(d, m, spans);
	r = r ?: COPY(d, m, subnets);
	r = r ?: COPY(d, m, tunnels);
	for (size_t i = 0; i < d->uplinks.n; i++)
		d->uplinks.v[i].saved = NULL; /* observed only; a copy is of a desired model */
	if (r < 0) {
		vnet_model_free(d);
		return NULL;
	}
	return d;
}

void vnet_model_freep(struct vnet_model **m)
{
	vnet_model_free(*m);
	*m = NULL;
}

struct vnet_ns *vnet_model_add_ns(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->ns);
}

struct vnet_link *vnet_model_add_link(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->links);
}

struct vnet_addr *vnet_model_add_addr(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->addrs);
}

struct vnet_route *vnet_model_add_route(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->routes);
}

struct vnet_check *vnet_model_add_check(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->checks);
}

struct vnet_network *vnet_model_add_network(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->networks);
}

struct vnet_member *vnet_model_add_member(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->members);
}

struct vnet_port *vnet_model_add_port(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->ports);
}

struct vnet_connect *vnet_model_add_connect(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->connects);
}

struct vnet_uplink *vnet_model_add_uplink(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->uplinks);
}

struct vnet_tunnel_decl *vnet_model_add_tunnel(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->tunnels);
}

struct vnet_host *vnet_model_add_host(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->hosts);
}

struct vnet_span *vnet_model_add_span(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->spans);
}

struct vnet_host_subnet *vnet_model_add_subnet(struct vnet_model *m)
{
	return VNET_ARRAY_PUSH(&m->subnets);
}

struct vnet_host *vnet_model_find_host(const struct vnet_model *m, const char *name)
{
	for (size_t i = 0; i < m->hosts.n; i++)
		if (!strcmp(m->hosts.v[i].name, name))
			return &m->hosts.v[i];
	return NULL;
}

struct vnet_network *vnet_model_find_network(const struct vnet_model *m, const char *name)
{
	for (size_t i = 0; i < m->networks.n; i++)
		if (!strcmp(m->networks.v[i].name, name))
			return &m->networks.v[i];
	return NULL;
}

struct vnet_ns *vnet_model_find_ns(const struct vnet_model *m, const char *name)
{
	for (size_t i = 0; i < m->ns.n; i++)
		if (!strcmp(m->ns.v[i].name, name))
			return &m->ns.v[i];
	return NULL;
}

struct vnet_ns *vnet_model_find_node(const struct vnet_model *m, const char *node)
{
	for (size_t i = 0; i < m->ns.n; i++)
		if (!strcmp(m->ns.v[i].node, node))
			return &m->ns.v[i];
	return NULL;
}

/* qsort_r and bsearch compare (ns, name) of two links, or of a key and a link */
static int link_key_cmp(const char *ns, const char *name, const struct vnet_link *l)
{
	int c = strcmp(ns, l->ns);

	return c ? c : strcmp(name, l->name);
}

static int order_cmp(const void *a, const void *b, void *arg)
{
	const struct vnet_link *v = arg;
	const struct vnet_link *x = &v[*(const uint32_t *)a], *y = &v[*(const uint32_t *)b];
	int c = link_key_cmp(x->ns, x->name, y);

	/* equal keys (a bad model) keep file order, so the first one is found */
	return c ? c : (x > y) - (x < y);
}

/*
 * Lookups by name happen for every link of every model on every command, so a
 * 1000-node topology would spend most of a no-op `up` in strcmp. The model keeps
 * a sorted index; it is a cache, hence built through a const model. Return: the
 * index, or NULL when out of memory.
 */
static const struct vnet_model_index *index_links(const struct vnet_model *cm)
{
	struct vnet_model *m = (struct vnet_model *)cm;
	struct vnet_model_index *ix = m->index;
	uint32_t *o;

	if (!ix) {
		ix = m->index = calloc(1, sizeof(*ix));
		if (!ix)
			return NULL;
	}
	if (ix->order && ix->n == m->links.n)
		return ix;
	/* a one-shot resize to the exact count, not a growth loop */
	o = realloc(ix->order, (m->links.n ? m->links.n : 1) * sizeof(*o));
	if (!o)
		return NULL;
	for (size_t i = 0; i < m->links.n; i++)
		o[i] = (uint32_t)i;
	qsort_r(o, m->links.n, sizeof(*o), order_cmp, m->links.v);
	ix->order = o;
	ix->n = m->links.n;
	return ix;
}

void vnet_model_reindex(struct vnet_model *m)
{
	if (m->index)
		m->index->n = SIZE_MAX;
}

struct vnet_link *vnet_model_find_link(const struct vnet_model *m, const char *ns, const char *name)
{
	const struct vnet_model_index *ix;
	size_t lo = 0, hi = m->links.n;

	if (!m->links.n)
		return NULL; /* also keeps static empty models read-only */
	ix = index_links(m);
	if (!ix) {
		for (size_t i = 0; i < m->links.n; i++)
			if (!link_key_cmp(ns, name, &m->links.v[i]))
				return &m->links.v[i];
		return NULL;
	}
	while (lo < hi) { /* the first match, in case of duplicates */
		size_t mid = lo + (hi - lo) / 2;

		if (link_key_cmp(ns, name, &m->links.v[ix->order[mid]]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->links.n && !link_key_cmp(ns, name, &m->links.v[ix->order[lo]]))
		return &m->links.v[ix->order[lo]];
	return NULL;
}

void vnet_node_ns_name(const char *topo, const char *node, bool sandbox, char *buf, size_t len)
{
	if (!strcmp(node, "host") && !sandbox)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%s-%s", topo, node);
}

/* ---- the index of positions by hash, for the parser's and the validator's lookups ---- */

uint32_t vnet_hash(uint32_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619U;
	return h;
}

uint32_t vnet_hash_str(uint32_t h, const char *s)
{
	return vnet_hash(h, s, strlen(s) + 1);
}

/* The home slot of @hash: FNV's low bits alone cluster names that differ in their last
 * characters ("n1".."n99999"), so mix the high bits in (murmur3's finalizer). */
static size_t home(uint32_t hash, size_t cap)
{
	hash ^= hash >> 16;
	hash *= 0x85ebca6bU;
	hash ^= hash >> 13;
	hash *= 0xc2b2ae35U;
	hash ^= hash >> 16;
	return hash & (cap - 1);
}

long vnet_index_find(const struct vnet_index *ix, uint32_t hash,
		     bool (*same)(const void *ctx, size_t pos), const void *ctx)
{
	if (!ix->cap)
		return -1;
	for (size_t i = home(hash, ix->cap);; i = (i + 1) & (ix->cap - 1)) {
		const struct vnet_index_slot *s = &ix->slot[i];

		if (!s->pos1)
			return -1;
		if (s->hash == hash && same(ctx, s->pos1 - 1))
			return (long)s->pos1 - 1;
	}
}

static void index_put(struct vnet_index_slot *slot, size_t cap, struct vnet_index_slot e)
{
	size_t i = home(e.hash, cap);

	while (slot[i].pos1)
		i = (i + 1) & (cap - 1);
	slot[i] = e;
}

int vnet_index_add(struct vnet_index *ix, uint32_t hash, size_t pos)
{
	if (pos >= UINT32_MAX)
		return -ENOMEM;
	/* at most half full: probe chains stay short, and a free slot always ends them */
	if (2 * (ix->n + 1) > ix->cap) {
		size_t cap = ix->cap ? 2 * ix->cap : 16;
		struct vnet_index_slot *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < ix->cap; i++)
			if (ix->slot[i].pos1)
				index_put(v, cap, ix->slot[i]);
		free(ix->slot);
		ix->slot = v;
		ix->cap = cap;
	}
	index_put(ix->slot, ix->cap, (struct vnet_index_slot){ hash, (uint32_t)pos + 1 });
	ix->n++;
	return 0;
}

void vnet_index_free(struct vnet_index *ix)
{
	free(ix->slot);
	*ix = (struct vnet_index){ 0 };
}
