// SPDX-License-Identifier: LGPL-2.1-or-later
/* model.c - the network model: growable arrays of namespaces, links, addresses, routes */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/vnet.h"

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
	free(m->link_order);
	free(m);
}

void vnet_model_freep(struct vnet_model **m)
{
	vnet_model_free(*m);
	*m = NULL;
}

/* Append one zeroed element to an array of @size-byte elements; NULL when out of memory. */
static void *array_push(void **v, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *nv = realloc(*v, ncap * size);

		if (!nv)
			return NULL;
		*v = nv;
		*cap = ncap;
	}
	void *e = (char *)*v + *n * size;

	memset(e, 0, size);
	(*n)++;
	return e;
}

#define PUSH(arr) array_push((void **)&(arr).v, &(arr).n, &(arr).cap, sizeof(*(arr).v))

struct vnet_ns *vnet_model_add_ns(struct vnet_model *m)
{
	return PUSH(m->ns);
}

struct vnet_link *vnet_model_add_link(struct vnet_model *m)
{
	return PUSH(m->links);
}

struct vnet_addr *vnet_model_add_addr(struct vnet_model *m)
{
	return PUSH(m->addrs);
}

struct vnet_route *vnet_model_add_route(struct vnet_model *m)
{
	return PUSH(m->routes);
}

struct vnet_check *vnet_model_add_check(struct vnet_model *m)
{
	return PUSH(m->checks);
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
 * a sorted index; it is a cache, hence built through a const model.
 */
static bool index_links(const struct vnet_model *cm)
{
	struct vnet_model *m = (struct vnet_model *)cm;
	uint32_t *o;

	if (m->link_order && m->link_order_n == m->links.n)
		return true;
	o = realloc(m->link_order, (m->links.n ? m->links.n : 1) * sizeof(*o));
	if (!o)
		return false;
	for (size_t i = 0; i < m->links.n; i++)
		o[i] = (uint32_t)i;
	qsort_r(o, m->links.n, sizeof(*o), order_cmp, m->links.v);
	m->link_order = o;
	m->link_order_n = m->links.n;
	return true;
}

struct vnet_link *vnet_model_find_link(const struct vnet_model *m, const char *ns, const char *name)
{
	size_t lo = 0, hi = m->links.n;

	if (!m->links.n)
		return NULL; /* also keeps static empty models read-only */
	if (!index_links(m)) {
		for (size_t i = 0; i < m->links.n; i++)
			if (!link_key_cmp(ns, name, &m->links.v[i]))
				return &m->links.v[i];
		return NULL;
	}
	while (lo < hi) { /* the first match, in case of duplicates */
		size_t mid = lo + (hi - lo) / 2;

		if (link_key_cmp(ns, name, &m->links.v[m->link_order[mid]]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->links.n && !link_key_cmp(ns, name, &m->links.v[m->link_order[lo]]))
		return &m->links.v[m->link_order[lo]];
	return NULL;
}

void vnet_node_ns_name(const char *topo, const char *node, bool sandbox, char *buf, size_t len)
{
	if (!strcmp(node, "host") && !sandbox)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%s-%s", topo, node);
}
