/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network.h - networks of containers: what the file's networks and containers become */
#ifndef VNET_NETWORK_H
#define VNET_NETWORK_H

#include <stdint.h>

#include "topo.h"
#include "vnet/vnet.h"

/* An IPv4 address (network byte order, as in the model) as a number, and back. */
uint32_t vnet_ip4(const uint8_t a[4]);
void vnet_ip4_put(uint32_t x, uint8_t a[4]);
/* vnet_ip4_mask() - the mask of a prefix length, as a number. */
uint32_t vnet_ip4_mask(unsigned plen);
/* vnet_mac_format() - "aa:bb:cc:dd:ee:ff" (@len: 18 or more); Return: @buf. */
char *vnet_mac_format(const uint8_t mac[6], char *buf, size_t len);
/* vnet_random_mac() - a random locally administered unicast MAC; Return: 0 or -errno. */
int vnet_random_mac(uint8_t mac[6]);

/* vnet_ip4_prefix() - "A.B.C.D/LEN" into an address and a length; Return: 0 or -EINVAL. */
int vnet_ip4_prefix(const char *s, uint8_t ret[4], unsigned *ret_plen);

/* vnet_member_host_if() - the name of the host end of a container's k-th veth pair:
 * "ve-NODE", "ve-NODE-K", or "ve-" and a hash of both when that is too long. */
void vnet_member_host_if(const char *node, unsigned k, char buf[VNET_IFNAMSIZ]);

/**
 * vnet_networks_expand() - what the file's networks and containers are made of
 * @m: the parsed model: each network becomes a bridge in the host part with its gateway
 *     address; each member a veth pair (the host end a port of the bridge) and, for a
 *     fixed address, that address; each container a default route through its first
 *     network with a way out, unless the file gives it routes
 * @file: the file, for messages
 * @reterr: what is wrong (an unknown network, an address outside its subnet, a port
 *          published twice), at its position
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
int vnet_networks_expand(struct vnet_model *m, const char *file, struct vnet_error *reterr);

/**
 * vnet_networks_place() - put the members' leased addresses into @m
 * @m: a model whose members all have has_addr set (fixed, or leased by ipam.c): each
 *     leased address is added to its container's end, and each published port gets the
 *     address of its container on its first network with a way out
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_networks_place(struct vnet_model *m);

/*
 * vnet_members_index() - an index of the model's members by container: each container's
 * members follow each other (the parser adds them so); the index finds where they start,
 * so that expanding and validating 100k containers stays linear. Return: 0 or -ENOMEM.
 */
int vnet_members_index(const struct vnet_model *m, struct vnet_index *ret);
/* vnet_members_first() - where @node's members start in @m->members, or m->members.n. */
size_t vnet_members_first(const struct vnet_model *m, const struct vnet_index *ix,
			  const char *node);

/* vnet_network_of() - the network of member @mb (validated: it exists). */
const struct vnet_network *vnet_network_of(const struct vnet_model *m,
					   const struct vnet_member *mb);

#endif /* VNET_NETWORK_H */
