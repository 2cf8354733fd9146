/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uplink.h - a NIC taken over by a bridge with all it carried, probed, and given back */
#ifndef VNET_UPLINK_H
#define VNET_UPLINK_H

#include "kernel.h"

/*
 * The NIC as it was before vnet took it: what `down`, a failed probe or an unconfirmed
 * --try give back. The addresses and routes are the kernel's own messages, as a dump
 * gave them (RTM_NEWADDR then RTM_NEWROUTE), so that nothing of them is lost in a
 * translation: flags, lifetimes, labels, metrics, tables, preferences.
 */
struct vnet_uplink_saved {
	int ifindex;
	uint32_t mtu;
	uint8_t mac[6];
	void *msgs;
	size_t len;
};

#define VNET_UPLINK_GIVE 1U /* op->set of a VNET_OP_UPLINK that gives the NIC back */

/**
 * struct vnet_uplink_change - one take-over, or one giving back
 * @u: the uplink (names, probe targets and budget)
 * @saved: the NIC as it was: what is moved, and what is given back
 * @what: the change in words, for the plan
 */
struct vnet_uplink_change {
	struct vnet_uplink u;
	struct vnet_uplink_saved saved;
	char what[256];
};

void vnet_uplink_saved_free(struct vnet_uplink_saved *s);
void vnet_uplink_change_free(struct vnet_uplink_change *c);
/* vnet_uplink_saved_dup() - a copy of @s; Return: 0 or -ENOMEM. */
int vnet_uplink_saved_dup(const struct vnet_uplink_saved *s, struct vnet_uplink_saved **ret);

/* vnet_uplink_saved_encode() - @s as bytes for the state store; free *@ret. */
int vnet_uplink_saved_encode(const struct vnet_uplink_saved *s, void **ret, size_t *ret_len);
/* vnet_uplink_saved_decode() - the reverse; Return: 0, -EBADMSG for bytes that are not one. */
int vnet_uplink_saved_decode(const void *buf, size_t len, struct vnet_uplink_saved **ret);

/**
 * vnet_uplink_observe() - the NIC of @u now, and how far it is taken over
 * @nl: a socket in @u->ns
 * @u: an uplink of the desired model, or one the store records (@u->saved set: the NIC as
 *     it was); fills @u->exists, @u->master, @u->taken, @u->manager, and @u->saved from
 *     the kernel when the store had none
 *
 * Return: 0 (also when the NIC is not there) or -errno.
 */
int vnet_uplink_observe(struct vnet_nl *nl, struct vnet_uplink *u);

/**
 * vnet_uplink_reclaim() - the NIC as it was, read back from its bridge, for a lost store
 * @nl: a socket in @u->ns
 * @u: an uplink whose NIC is a port of its bridge (vnet recover found them so)
 *
 * What a take-over moved is what the bridge carries that is not vnet's own: its addresses
 * and routes without vnet's protocol (but IPv6 link-local addresses, the bridge's own).
 * Fills @u->saved with them and the NIC's index, MTU and MAC, and @u->taken.
 * Return: 0 or -errno.
 */
int vnet_uplink_reclaim(struct vnet_nl *nl, struct vnet_uplink *u);

/**
 * vnet_uplink_apply() - take the NIC over and probe, or give it back
 * @nl: a socket in the NIC's namespace
 * @c: the change
 * @give: give the NIC back instead
 * @res: @res->probe_us and @res->restore_us, or NULL
 * @reterr: what failed: a message the kernel refused, or the probe (then the NIC has been
 *          given back already, and the error says so)
 *
 * Both ways are made of idempotent messages, so that the change can be run again after a
 * crash cut it short, from wherever it stopped.
 * Return: 0, -EHOSTUNREACH when the probe failed, or -errno.
 */
int vnet_uplink_apply(struct vnet_nl *nl, const struct vnet_uplink_change *c, bool give,
		      struct vnet_result *res, struct vnet_error *reterr);

/* vnet_uplink_messages() - the batch that takes the NIC (index @nic) over into the bridge
 * (@br; 0 when gone), or gives it back; for vnet_uplink_apply() and the fuzzer. */
int vnet_uplink_messages(struct vnet_batch *b, const struct vnet_uplink_change *c, int nic, int br,
			 bool give);

/**
 * vnet_uplink_probe() - after a take-over, ask the gateway and the file's targets (probe.c)
 * @nl: a socket in the NIC's namespace
 * @c: the take-over (the gateway comes from the NIC's saved routes)
 * @br: the bridge's index
 * @res: @res->probe_us, or NULL
 * @reterr: who did not answer, and whether the gateway answered ARP
 *
 * Return: 0 when all answered (or there was nobody to ask), -EHOSTUNREACH, or -errno.
 */
int vnet_uplink_probe(struct vnet_nl *nl, const struct vnet_uplink_change *c, int br,
		      struct vnet_result *res, struct vnet_error *reterr);

/* vnet_uplink_plan_change() - the change that takes @have's NIC (its saved state) into
 * @want's bridge; NULL when out of memory. */
struct vnet_uplink_change *vnet_uplink_plan_change(const struct vnet_uplink *want,
						   const struct vnet_uplink *have);

/* vnet_uplink_gateway() - the IPv4 gateway of the NIC's routes (the default route's first);
 * Return: whether there is one. */
bool vnet_uplink_gateway(const struct vnet_uplink_saved *s, uint8_t gw[4]);

/* vnet_uplink_counts() - how many addresses and routes the take-over moves. */
void vnet_uplink_counts(const struct vnet_uplink_saved *s, unsigned *addrs, unsigned *routes);

#endif /* VNET_UPLINK_H */
