/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipam.h - containers' addresses, leased from the state store */
#ifndef VNET_IPAM_H
#define VNET_IPAM_H

#include "state.h"

/* vnet_ipam_pool_key() - the pool of a topology's network: "TOPO/NET/SUBNET/LEN". */
void vnet_ipam_pool_key(const char *topo, const struct vnet_network *n, char *buf, size_t len);

/**
 * vnet_ipam_lease() - an address for every member of @m that the file gives none
 * @st: the store
 * @m: the desired model: each member gets the address it already leased, else the lowest
 *     free one of its network (never the gateway); fixed addresses are leased (reserved)
 *     first; the addresses are then placed in @m (vnet_networks_place())
 * @have: the kernel's state, or NULL: a container without a lease that has a free address
 *        of its network from vnet keeps it (after a lost store was recovered)
 * @dry: lease nothing: fill @m with what a real run would lease
 * @reterr: a full network, named, or the store's failure
 *
 * Return: 0, -ENOSPC or -errno.
 */
int vnet_ipam_lease(struct vnet_state *st, struct vnet_model *m, const struct vnet_model *have,
		    bool dry, struct vnet_error *reterr);

/* vnet_ipam_keep() - release every lease of topology @m->name that @m does not hold. */
int vnet_ipam_keep(struct vnet_state *st, const struct vnet_model *m, struct vnet_error *reterr);

#endif /* VNET_IPAM_H */
