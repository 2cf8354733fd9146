/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * attach.h - a container's attachment to a bridge, as the CNI plugin makes it: a veth pair
 * between the container's namespace and the bridge, its addresses and routes, the network's
 * and its published ports' elements in vnet's nftables table, all recorded in the state store
 * before the kernel is touched, so that a removal never depends on what the container still
 * has.
 */
#ifndef VNET_ATTACH_H
#define VNET_ATTACH_H

#include "state.h"
#include "vnet/vnet.h"

#define VNET_ATTACH_TABLE "vnet-cni" /* the nftables table (ip family) of every CNI network */
#define VNET_ATTACH_TAG "vnet-cni" /* its comment, and the alias prefix of what it makes */
#define VNET_ATTACH_MAX 8 /* addresses, routes of an attachment */
#define VNET_ATTACH_PORTS 64 /* published ports of an attachment */

/* An address of the container, with the gateway it uses. */
struct vnet_attach_ip {
	int family;
	uint8_t addr[16];
	uint8_t prefixlen;
	bool has_gw;
	uint8_t gw[16];
};

/**
 * struct vnet_attach - one attachment, keyed by (net, cid, ifname)
 * @net: the CNI network's name
 * @cid: the container's id
 * @ifname: the interface in the container
 * @netns: the container's namespace (a path), "" when unknown (a DEL may not know it)
 * @bridge: the bridge in the namespace of the caller
 * @mtu: of the pair, and of the bridge vnet makes; 0: the kernel's default
 * @gateway: the gateways of @ips go on the bridge; IPv4 forwarding is turned on
 * @force_addr: a bridge with another IPv4 address loses it to the gateway
 * @masq: the network's subnet is masqueraded (element of set masq)
 * @hairpin: @promisc: @isolated: @dad: @spoof: the bridge plugin's hairpinMode, promiscMode,
 *            portIsolation, enabledad and macspoofchk (frames from the container with
 *            another source MAC are dropped: elements of table bridge vnet-cni)
 * @has_mac: @mac is the container interface's MAC (else the kernel's; filled by add)
 * @ips: the addresses, from IPAM
 * @routes: routes in the container (dev ""; a route without gateway is through @ifname)
 * @ports: published ports (addr: filled with the first IPv4 address of @ips)
 * @ipam: the IPAM that gave @ips ("vnet" or a plugin's type), recorded for the view
 * @host: the pair's end on the bridge (filled by add)
 * @host_mac: @bridge_mac: filled by add
 * @bridge_made: filled by add: vnet made the bridge (now or earlier)
 * @lock: the fd of vnet_attach_lock(), held shared (add takes it alone to make the bridge),
 *        or -1
 */
struct vnet_attach {
	char net[128];
	char cid[256];
	char ifname[VNET_IFNAMSIZ];
	char netns[256];
	char bridge[VNET_IFNAMSIZ];
	uint32_t mtu;
	bool gateway, force_addr, masq, hairpin, promisc, isolated, dad, spoof;
	bool has_mac;
	uint8_t mac[6];
	struct vnet_attach_ip ips[VNET_ATTACH_MAX];
	unsigned n_ips;
	struct vnet_route routes[VNET_ATTACH_MAX];
	unsigned n_routes;
	struct vnet_port ports[VNET_ATTACH_PORTS];
	unsigned n_ports;
	char ipam[32];
	char host[VNET_IFNAMSIZ];
	uint8_t host_mac[6], bridge_mac[6];
	bool bridge_made;
	int lock;
};

/**
 * vnet_attach_lock() - the plugin's lock: a flock(2) on cni.lock in the store's directory
 *                      (not vnet's command lock: `vnet up --try` holds that for minutes)
 * @st: the store
 * @exclusive: for GC, which no ADD or DEL may run beside; ADD and DEL share it, and take it
 *             alone only while they make or remove a bridge
 *
 * Return: the lock's fd, to close, or -errno.
 */
int vnet_attach_lock(struct vnet_state *st, bool exclusive);

/**
 * vnet_attach_add() - make an attachment, recorded before anything is made
 * @st: the store (the caller holds vnet_attach_lock(), its fd in @a->lock)
 * @a: the attachment; @a->host, @a->mac, @a->host_mac, @a->bridge_mac filled
 * @reterr: what failed, in words; everything made is undone then
 *
 * Return: 0; -EEXIST: @a->ifname is in the container already, or the attachment is;
 * -EADDRINUSE: a published port is another attachment's; -ENOENT: no such namespace;
 * -ENOTBLK: @a->bridge is not a bridge; or another -errno.
 */
int vnet_attach_add(struct vnet_state *st, struct vnet_attach *a, struct vnet_error *reterr);

/**
 * vnet_attach_del() - remove an attachment: what its record names, whatever the container
 *                     still has; no record is no error (a second DEL)
 * @st: the store (lock held)
 * @net: @cid: @ifname: the key
 * @reterr: what could not be removed (the record stays then, for the next try)
 *
 * Return: 0 or -errno.
 */
int vnet_attach_del(struct vnet_state *st, const char *net, const char *cid, const char *ifname,
		    struct vnet_error *reterr);

/**
 * vnet_attach_check() - is the attachment as made: its record, the host end on the bridge,
 *                       the container's interface with its addresses and routes, the
 *                       elements of its published ports
 * @st: the store
 * @a: the attachment as the runtime knows it (the key, @a->netns, @a->ips, @a->routes)
 * @reterr: the first difference, in words
 *
 * Return: 0, -ENOENT (no record), or -EBADF for a difference.
 */
int vnet_attach_check(struct vnet_state *st, const struct vnet_attach *a,
		      struct vnet_error *reterr);

/* A key of an attachment, for vnet_attach_gc(). */
struct vnet_attach_key {
	const char *cid, *ifname;
};

/**
 * vnet_attach_gc() - remove every attachment of network @net that @valid does not name; when
 *                    none is left, the network's elements too, and its bridge if vnet made it
 * @st: the store (lock held)
 * @net: the network
 * @valid: @n: the attachments to keep
 * @removed: called for each one removed (to give its addresses back), with @arg
 * @reterr: the first failure; the others are still tried
 *
 * Return: 0 or the first -errno.
 */
int vnet_attach_gc(struct vnet_state *st, const char *net, const struct vnet_attach_key *valid,
		   size_t n, int (*removed)(void *arg, const char *cid, const char *ifname),
		   void *arg, struct vnet_error *reterr);

/**
 * vnet_attach_status() - can attachments be made: the store answers and nftables takes a
 *                        transaction in the calling namespace
 * @st: the store
 * @reterr: why not
 *
 * Return: 0 or -errno.
 */
int vnet_attach_status(struct vnet_state *st, struct vnet_error *reterr);

/* ---- the plugin's own IPAM (ipam.c): leases of the store, pool "cni/NET/SUBNET/LEN" ---- */

/**
 * vnet_ipam_cni_lease() - an IPv4 address for an attachment
 * @st: the store
 * @net: the network; @subnet/@plen its subnet, @gw its gateway (never given)
 * @owner: "CID/IFNAME": the same owner gets its lease again
 * @want: the address asked for (CNI_ARGS IP=...), or NULL for the lowest free one
 * @ret: the address
 * @ret_new: the lease is new (else @owner held it already: a failure must not free it)
 * @reterr: a full pool, another's address, the gateway or an address outside the subnet
 *
 * Return: 0, -ENOSPC, -EADDRINUSE, -EINVAL or -errno.
 */
int vnet_ipam_cni_lease(struct vnet_state *st, const char *net, const uint8_t subnet[4],
			unsigned plen, const uint8_t gw[4], const char *owner, const uint8_t *want,
			uint8_t ret[4], bool *ret_new, struct vnet_error *reterr);
/* vnet_ipam_cni_held() - @owner's address in network @net; Return: 1, 0 for none, -errno. */
int vnet_ipam_cni_held(struct vnet_state *st, const char *net, const char *owner, uint8_t ret[4]);
/* vnet_ipam_cni_gc() - free every lease of network @net whose owner @keep(@arg, owner) is
 * false ("CID/IFNAME"); Return: how many, or -errno. */
int vnet_ipam_cni_gc(struct vnet_state *st, const char *net,
		     bool (*keep)(void *arg, const char *owner), void *arg);
/* vnet_ipam_cni_release() - free @owner's leases in network @net; Return: 0 or -errno. */
int vnet_ipam_cni_release(struct vnet_state *st, const char *net, const char *owner);

#endif /* VNET_ATTACH_H */
