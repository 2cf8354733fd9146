/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel.h - libvnet's internal face of the kernel: netlink sockets, batches, object messages */
#ifndef VNET_KERNEL_H
#define VNET_KERNEL_H

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "cleanup.h"
#include "vnet/vnet.h"

/* ---- nl.c: one rtnetlink socket per namespace, batched requests ---- */

/* An rtnetlink socket created inside one namespace; it stays bound to it. */
struct vnet_nl;

/**
 * vnet_nl_open() - open an rtnetlink socket in a namespace
 * @ns: namespace name under /run/netns, or "" for the namespace vnet runs in
 * @ret_nl: the socket (extended acks and capped acks on, large receive buffer)
 *
 * Return: 0, -ENOENT when the namespace does not exist, or another -errno.
 */
int vnet_nl_open(const char *ns, struct vnet_nl **ret_nl);
/* vnet_nl_open_current() - a socket in the calling thread's namespace; Return: 0 or -errno. */
int vnet_nl_open_current(struct vnet_nl **ret_nl);
void vnet_nl_close(struct vnet_nl *nl);
VNET_DEFINE_CLEANUP(struct vnet_nl *, vnet_nl_close)

/* The result of one message of a batch: its errno and the kernel's extended-ack text. */
struct vnet_nl_result {
	int err; /* 0 or -errno */
	char extack[256];
};

/*
 * A batch: many netlink requests in one buffer, sent with one sendmsg. Every
 * message carries NLM_F_REQUEST | NLM_F_ACK and a sequence number of its own;
 * the kernel answers each in turn and goes on after a failed one.
 */
struct vnet_batch {
	char *buf;
	size_t len, cap; /* len: bytes before the last message, which is open until the next */
	unsigned n; /* messages */
};

void vnet_batch_init(struct vnet_batch *b);
void vnet_batch_reset(struct vnet_batch *b);
void vnet_batch_free(struct vnet_batch *b);

/**
 * vnet_batch_msg() - start a new message at the end of a batch
 * @b: the batch; grown so that at least 4 KiB are free for the message
 * @type: RTM_* type
 * @flags: NLM_F_CREATE, NLM_F_EXCL, ... (REQUEST and ACK are added)
 *
 * Return: the header, to be filled with mnl_nlmsg_put_extra_header() and
 * mnl_attr_put*(); NULL when out of memory. The message must be finished
 * (all attributes added) before the next vnet_batch_msg() call.
 */
struct nlmsghdr *vnet_batch_msg(struct vnet_batch *b, uint16_t type, uint16_t flags);

/**
 * vnet_nl_send() - send a batch in one sendmsg and gather every ack
 * @nl: the socket
 * @b: the batch (unchanged)
 * @res: b->n results, one per message in order
 *
 * Return: 0 when every message was answered (each may still have failed: see
 * @res), or -errno when the exchange itself failed.
 */
int vnet_nl_send(struct vnet_nl *nl, const struct vnet_batch *b, struct vnet_nl_result *res);

/**
 * vnet_nl_dump() - run a dump request, calling @cb for every answer message
 * @nl: the socket
 * @type: RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, ...
 * @family: rtgenmsg family (AF_UNSPEC, AF_INET, AF_BRIDGE, ...)
 * @cb: libmnl callback
 * @data: for @cb
 *
 * Return: 0 or -errno.
 */
int vnet_nl_dump(struct vnet_nl *nl, uint16_t type, uint8_t family, mnl_cb_t cb, void *data);

/**
 * vnet_nl_request() - send one request and pass its answers to @cb
 * @nl: the socket
 * @nlh: the request (REQUEST and ACK flags and a sequence number are set here)
 * @cb: called for every answer but the final ack; NULL to ignore them
 * @data: for @cb
 *
 * Return: 0, or -errno: the kernel's error or @cb's errno.
 */
int vnet_nl_request(struct vnet_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * vnet_nl_whole() - how many bytes of @buf hold whole netlink messages, from its start.
 * Everything read from the kernel is cut to this before libmnl walks it: libmnl's
 * mnl_nlmsg_ok() compares a length over INT_MAX as negative, and so trusts it.
 */
size_t vnet_nl_whole(const void *buf, size_t len);

/* A set of sockets, one per namespace, opened on first use. */
struct vnet_nlset {
	struct vnet_nlset_entry {
		char ns[VNET_NAMSIZ];
		struct vnet_nl *nl;
	} * v;
	size_t n, cap;
	size_t last; /* the entry found last */
};

/* vnet_nlset_get() - the socket for @ns; Return: 0 or -errno (-ENOENT: no such namespace). */
int vnet_nlset_get(struct vnet_nlset *s, const char *ns, struct vnet_nl **ret_nl);
/* vnet_nlset_put() - hand @nl, a socket in @ns, to the set (closed on failure). */
int vnet_nlset_put(struct vnet_nlset *s, const char *ns, struct vnet_nl *nl);
/* vnet_nlset_forget() - close the socket of a namespace that is being removed. */
void vnet_nlset_forget(struct vnet_nlset *s, const char *ns);
void vnet_nlset_free(struct vnet_nlset *s);

/* ---- netns.c: named namespaces under /run/netns ---- */

/**
 * vnet_netns_add() - create a named namespace, tagged before it has a name
 * @name: the name; fails with -EEXIST when taken (never adopts a foreign one)
 * @tag: the alias its loopback gets (brought up too) before the namespace is mounted
 * @ret_nl: a socket in the new namespace, or NULL
 * @ret_debris: set when a file a crash left there, with @tag in it, was removed first
 *
 * Return: 0 or -errno.
 */
int vnet_netns_add(const char *name, const char *tag, struct vnet_nl **ret_nl, bool *ret_debris);
/* vnet_netns_debris() - remove /run/netns/@name if it is a file a crash left half made
 * with @tag in it (never a namespace, never another's file); Return: 1 removed, 0 or -errno. */
int vnet_netns_debris(const char *name, const char *tag);
/* vnet_netns_del() - unmount and remove /run/netns/@name; Return: 0, -ENOENT or -errno. */
int vnet_netns_del(const char *name);
/* vnet_netns_open() - an O_CLOEXEC fd of the namespace ("" is vnet's own); Return: fd or -errno. */
int vnet_netns_open(const char *name);
bool vnet_netns_exists(const char *name);
/* vnet_netns_enter() - setns() into @fd; @ret_saved is the thread's own namespace (kept open). */
int vnet_netns_enter(int fd, int *ret_saved);
/* vnet_netns_leave() - return to @saved. Entering does not nest. */
int vnet_netns_leave(int saved);
/* vnet_netns_run() - @fn(@arg) with the calling thread in namespace @name ("": vnet's own,
 * not entered); Return: @fn's result, -ENOENT when there is no such namespace, or the
 * -errno of entering or leaving it. */
int vnet_netns_run(const char *name, int (*fn)(void *arg), void *arg);
/* vnet_netns_thread_done() - a thread that entered namespaces ends: close what it kept. */
void vnet_netns_thread_done(void);

/* ---- link.c, veth.c, bridge.c, tuntap.c: link messages, by name ---- */

/**
 * vnet_link_msg() - start an RTM_*LINK message addressed by name (ifi_index 0, IFLA_IFNAME)
 * @b: the batch
 * @type: RTM_NEWLINK, RTM_SETLINK or RTM_DELLINK; an RTM_NEWLINK without NLM_F_CREATE
 *        changes an existing link (the only way to change bridge and port options)
 * @flags: NLM_F_CREATE | NLM_F_EXCL to create
 * @name: the link
 * @ret_ifi: the ifinfomsg, to set flags in, or NULL
 *
 * Return: the message, to add attributes to; NULL when out of memory.
 */
struct nlmsghdr *vnet_link_msg(struct vnet_batch *b, uint16_t type, uint16_t flags,
			       const char *name, struct ifinfomsg **ret_ifi);

/**
 * vnet_link_msg_set() - RTM_SETLINK of an existing link, found by name
 * @b: the batch
 * @l: the link; fields chosen by @set are sent
 * @set: VNET_SET_UP | _MTU | _MAC | _MASTER | _ALIAS
 * @master_ifindex: for VNET_SET_MASTER: the bridge's index, 0 to leave the bridge
 * @alias: for VNET_SET_ALIAS
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_link_msg_set(struct vnet_batch *b, const struct vnet_link *l, unsigned set,
		      int master_ifindex, const char *alias);
/* vnet_link_set_now() - RTM_SETLINK of @l (@set, @alias) sent alone; Return: 0 or -errno. */
int vnet_link_set_now(struct vnet_nl *nl, const struct vnet_link *l, unsigned set,
		      const char *alias);
/* vnet_link_msg_del() - RTM_DELLINK by name. */
int vnet_link_msg_del(struct vnet_batch *b, const char *name);
/* vnet_link_get() - RTM_GETLINK of @name, its answer to @cb; Return: 0, -ENODEV or -errno. */
int vnet_link_get(struct vnet_nl *nl, const char *name, mnl_cb_t cb, void *data);
/* vnet_link_get_index() - RTM_GETLINK by name; Return: ifindex, -ENODEV or -errno. */
int vnet_link_get_index(struct vnet_nl *nl, const char *name);

/**
 * vnet_link_msg_add() - RTM_NEWLINK of a link of a kind made by netlink, with its options
 * @b: the batch, to be sent on a socket in @l->ns
 * @l: the link: its name, index (0: the kernel picks; an undo asks for the old one), mtu
 *     and mac when it has them, and its kind's options in IFLA_INFO_DATA
 * @parent_ifindex: the index of @l->parent (IFLA_LINK), 0 for none
 * @peer_ns_fd: a pair's other namespace (see the kind's put_data()), or the namespace a
 *              link on a parent goes to when it is made in its parent's; -1 for none
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_link_msg_add(struct vnet_batch *b, const struct vnet_link *l, int parent_ifindex,
		      int peer_ns_fd);

/**
 * vnet_link_msg_opts() - change the options @l->opts has on an existing link of its kind
 * @b: the batch
 * @l: the link
 *
 * RTM_SETLINK ignores IFLA_LINKINFO; an RTM_NEWLINK without NLM_F_CREATE on an existing
 * link reaches the kind's changelink instead.
 * Return: 0 or -ENOMEM.
 */
int vnet_link_msg_opts(struct vnet_batch *b, const struct vnet_link *l);

/**
 * vnet_link_msg_port() - set the port options @l->port has on a port of a bridge
 * @b: the batch
 * @l: the port, already enslaved
 *
 * IFLA_INFO_SLAVE_KIND (the master's kind) sends IFLA_INFO_SLAVE_DATA to the master's
 * slave_changelink, as `ip link set dev X type bridge_slave ...` does.
 * Return: 0 or -ENOMEM.
 */
int vnet_link_msg_port(struct vnet_batch *b, const struct vnet_link *l);

/* vnet_bridge_msg_flush() - forget the MAC addresses the bridge @name has learned. */
int vnet_bridge_msg_flush(struct vnet_batch *b, const char *name);

/**
 * vnet_vxlan_msg_vteps() - make a vxlan's VTEPs those of @l
 * @b: the batch
 * @l: the vxlan, with the VTEPs wanted
 * @old: the VTEPs it has (those @l lacks are removed), or NULL for none
 * @ifindex: its index
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_vxlan_msg_vteps(struct vnet_batch *b, const struct vnet_link *l,
			 const struct vnet_link *old, int ifindex);
/* vnet_vxlan_observe() - the VTEPs of the vxlans among @links, read on @nl (their namespace). */
int vnet_vxlan_observe(struct vnet_nl *nl, struct vnet_link *links, size_t n);

/* ---- addr.c, route.c ---- */

/* vnet_addr_msg() - RTM_NEWADDR (tagged VNET_PROTO) or RTM_DELADDR of @a on @ifindex. */
int vnet_addr_msg(struct vnet_batch *b, uint16_t type, const struct vnet_addr *a, int ifindex);
int vnet_addr_msg_dad(struct vnet_batch *b, uint16_t type, const struct vnet_addr *a, int ifindex,
		      bool dad);
/* vnet_route_msg() - RTM_NEWROUTE (tagged VNET_PROTO) or RTM_DELROUTE of @r; @oif 0 for none. */
int vnet_route_msg(struct vnet_batch *b, uint16_t type, const struct vnet_route *r, int oif);

/* ---- observe.c ---- */

/**
 * vnet_observe() - read the kernel's state of some namespaces into a model
 * @s: the sockets to use (opened here as needed, kept for the caller)
 * @topo: topology name; links whose alias is "vnet:<topo>" and addresses and
 *        routes with protocol VNET_PROTO are marked owned
 * @ns: namespace names ("" is vnet's own); missing ones get exists = false
 * @n: how many
 * @ret_model: the observed model: every link (with kind, options, master and
 *             veth peer resolved to names where the peer is in one of @ns),
 *             every address but IPv6 link-local ones, every route of the main
 *             table but those the kernel made itself (proto kernel, ra)
 *
 * Return: 0 or -errno.
 */
int vnet_observe(struct vnet_nlset *s, const char *topo, const char *const *ns, size_t n,
		 struct vnet_model **ret_model);

/**
 * vnet_observe_replay() - what vnet_observe() makes of dump answers it is handed
 * @topo: as for vnet_observe()
 * @buf: netlink messages, as the kernel answers RTM_GETLINK, RTM_GETADDR and RTM_GETROUTE
 *       dumps (in any order; other types are ignored)
 * @len: bytes in @buf
 * @ret_model: the model of one namespace, "replay"
 *
 * For the fuzzer: the parsing of the kernel's answers, without a kernel. A malformed
 * message ends the reading, keeping what came before it, as a truncated dump would.
 * Return: 0 or -ENOMEM.
 */
int vnet_observe_replay(const char *topo, const void *buf, size_t len,
			struct vnet_model **ret_model);

/* ---- check.c ---- */

/* vnet_inet_checksum() - the Internet checksum (RFC 1071) of @len bytes, as ICMP wants it. */
uint16_t vnet_inet_checksum(const void *data, size_t len);

#endif /* VNET_KERNEL_H */
