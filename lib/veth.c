// SPDX-License-Identifier: LGPL-2.1-or-later
/* veth.c - the veth kind: pairs, both ends placed in their namespaces at creation */
#include <errno.h>
#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "kernel.h"
#include "kind.h"

/*
 * The peer is described by VETH_INFO_PEER: an ifinfomsg of its own followed by its
 * attributes, IFLA_NET_NS_FD among them. Creating it in place avoids the moment where it
 * exists in the wrong namespace, and a name clash there. Its index is asked for when @l
 * has one (l->peer_ifindex: an undo makes a pair again as it was).
 */
static void veth_put_data(struct nlmsghdr *nlh, const struct vnet_link *l, int peer_ns_fd)
{
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = l->peer_ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->peer);
	if (peer_ns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	mnl_attr_nest_end(nlh, peer);
}

const struct vnet_kind vnet_kind_veth = {
	.name = "veth",
	.section = "veths",
	.word = "veth end",
	.flags = VNET_KIND_F_L2 | VNET_KIND_F_PORT | VNET_KIND_F_PAIR,
	.put_data = veth_put_data,
};
