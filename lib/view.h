/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* view.h - a model indexed for drawing: what the renderers share, out of the public API */
#ifndef VNET_VIEW_H
#define VNET_VIEW_H

#include <stddef.h>
#include <stdio.h>

#include "vnet/vnet.h"

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

/* vnet_view_nat_text() - the "nat:" lines of @m's NAT table (none without one), as the text
 * picture prints them under the boxes; the SVG shows the same lines. */
void vnet_view_nat_text(const struct vnet_model *m, FILE *out);

/* vnet_view_uplink_text() - the "uplinks:" lines: each NIC a bridge took over, and what of
 * it moved; the SVG shows the same lines. */
void vnet_view_uplink_text(const struct vnet_model *m, FILE *out);
/* vnet_view_vxlan_text() - the "vxlans:" lines: each vxlan's VNI, MTU, ends and VTEPs. */
void vnet_view_vxlan_text(const struct vnet_model *m, FILE *out);

#endif /* VNET_VIEW_H */
