/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* render.h - public API of libvnet's renderers: a model drawn as text, JSON, DOT or SVG */
#ifndef VNET_RENDER_H
#define VNET_RENDER_H

#include <stdio.h>

#include "vnet/vnet.h"

/* The version of the JSON document vnet_render_json() writes (doc/show-json.md). */
#define VNET_RENDER_JSON_SCHEMA 1

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
