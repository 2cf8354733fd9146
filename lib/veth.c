// SPDX-License-Identifier: LGPL-2.1-or-later
/* veth.c - veth pairs, both ends placed in their namespaces at creation */
#include <errno.h>
#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "kernel.h"

/**
 * vnet_veth_msg_add() - RTM_NEWLINK of a veth pair, both ends in place at creation
 * @b: the batch, to be sent on a socket in @l->ns
 * @l: the first end; @l->peer names the other
 * @peer_ns_fd: fd of @l->peer_ns, or -1 when the peer stays in @l->ns
 *
 * The peer is described by VETH_INFO_PEER: an ifinfomsg of its own followed by
 * its attributes, IFLA_NET_NS_FD among them. Creating it in place avoids the
 * moment where it exists in the wrong namespace, and a name clash there.
 * Sets mtu and mac of the first end when @l has them, and the indexes of both ends
 * when @l has them (l->ifindex, l->peer_ifindex: an undo makes a pair again as it was);
 * nothing else.
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_veth_msg_add(struct vnet_batch *b, const struct vnet_link *l, int peer_ns_fd)
{
	struct nlmsghdr *nlh = vnet_batch_msg(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info, *data, *peer;
	struct ifinfomsg *ifi;

	if (!nlh)
		return -ENOMEM;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = l->ifindex; /* 0: the kernel picks; an undo asks for the old one */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
	if (l->has & VNET_LINK_HAS_MTU)
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	if (l->has & VNET_LINK_HAS_MAC)
		mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(l->mac), l->mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = l->peer_ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->peer);
	if (peer_ns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return 0;
}
