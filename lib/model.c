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

struct vnet_link *vnet_model_find_link(const struct vnet_model *m, const char *ns,
				       const char *name)
{
	for (size_t i = 0; i < m->links.n; i++)
		if (!strcmp(m->links.v[i].name, name) && !strcmp(m->links.v[i].ns, ns))
			return &m->links.v[i];
	return NULL;
}

void vnet_node_ns_name(const char *topo, const char *node, bool sandbox, char *buf, size_t len)
{
	if (!strcmp(node, "host") && !sandbox)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%s-%s", topo, node);
}
