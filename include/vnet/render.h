/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* render.h - public API of libvnet's renderers: a model drawn as text, JSON, DOT or SVG */
#ifndef VNET_RENDER_H
#define VNET_RENDER_H

#include <stdio.h>

#include "vnet/vnet.h"

/* The version of the JSON document vnet_render_json() writes (doc/show-json.md). */
#define VNET_RENDER_JSON_SCHEMA 1

/**
 * struct vnet_view - a model indexed for drawing, shared by the renderers
 * @m: the model (observed: vnet_observe_topology())
 * @node: namespaces in drawing order: the host part first, then by node name
 * @nnodes: how many
 * @nlinks: per node: how many links it shows (lo is left out)
 * @links: per node: its link indexes, bridges first, each followed by its ports
 * @link_node: per link of @m: the index into @node of its namespace
 * @peer: per link of @m: the index of its veth peer in @m, or -1
 * @addr: address indexes of @m sorted by (namespace, device)
 * @addr_first: per link of @m: where its addresses start in @addr
 * @addr_n: per link of @m: how many it has
 * @wire: per link of @m: the number of its veth wire, from 0, or -1
 * @nwires: how many veth wires (pairs) there are
 */
struct vnet_view {
	const struct vnet_model *m;
	size_t *node, nnodes;
	size_t *nlinks;
	size_t **links;
	size_t *link_node;
	long *peer;
	size_t *addr, *addr_first, *addr_n;
	long *wire;
	size_t nwires;
};

/**
 * vnet_view_build() - index a model for drawing
 * @m: the model; it must outlive the view
 * @ret_view: the view, filled; release it with vnet_view_clear()
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_view_build(const struct vnet_model *m, struct vnet_view *ret_view);
void vnet_view_clear(struct vnet_view *v);

/* vnet_view_bridge() - the bridge link @l is a port of, or NULL. */
const struct vnet_link *vnet_view_bridge(const struct vnet_view *v, const struct vnet_link *l);

/**
 * vnet_render_text() - the topology as the seed draws it: a box per namespace
 * @m: the model
 * @width: columns to fit in (80 when 0); topologies too big to draw in them get the
 *         compact form instead (vnet_render_compact())
 * @out: where to write
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int vnet_render_text(const struct vnet_model *m, unsigned width, FILE *out);

/**
 * vnet_render_compact() - the topology as grep-able lines: bridges with their ports, then
 *                         every node with what the bridge lines did not say
 * @m: the model
 * @out: where to write
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int vnet_render_compact(const struct vnet_model *m, FILE *out);

/**
 * vnet_render_json() - the topology as a JSON document of schema VNET_RENDER_JSON_SCHEMA
 * @m: the model
 * @out: where to write (one document, then a newline)
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int vnet_render_json(const struct vnet_model *m, FILE *out);

/**
 * vnet_render_json_nested() - the same document, as an element of an enclosing one
 * @m: the model
 * @depth: how deep it sits: its inner lines are indented as for that nesting
 * @out: where to write (neither a new line before its "{" nor one after its "}")
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int vnet_render_json_nested(const struct vnet_model *m, unsigned depth, FILE *out);

/**
 * vnet_render_dot() - the topology as a Graphviz graph: a cluster per namespace
 * @m: the model
 * @out: where to write
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int vnet_render_dot(const struct vnet_model *m, FILE *out);

/**
 * vnet_render_svg() - the topology as a self-contained SVG picture, laid out by vnet
 * @m: the model
 * @out: where to write
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int vnet_render_svg(const struct vnet_model *m, FILE *out);

#endif /* VNET_RENDER_H */
