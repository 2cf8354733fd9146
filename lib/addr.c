// SPDX-License-Identifier: LGPL-2.1-or-later
/* addr.c - IPv4 and IPv6 addresses on links, tagged with vnet's protocol */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "kernel.h"

/* The scope `ip address add` gives when none is named: host for loopback, link for fe80::/10. */
static uint8_t addr_scope(const struct vnet_addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (a->family == AF_INET && a->addr[0] == 127)
		return RT_SCOPE_HOST;
	if (a->family == AF_INET6 && !memcmp(a->addr, v6_loopback, 16))
		return RT_SCOPE_HOST;
	if (a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80)
		return RT_SCOPE_LINK;
	return RT_SCOPE_UNIVERSE;
}

/**
 * vnet_addr_msg() - RTM_NEWADDR or RTM_DELADDR of an address
 * @b: the batch
 * @type: RTM_NEWADDR (fails with EEXIST when present) or RTM_DELADDR
 * @a: the address
 * @ifindex: the link it is on
 *
 * A new address carries IFA_PROTO = VNET_PROTO, its owner's mark. An IPv6 one
 * gets IFA_F_NODAD: usable at once rather than tentative for a second or more
 * (vnet_addr_msg_dad() with @dad: not, duplicate address detection runs).
 *
 * Return: 0, -EAFNOSUPPORT or -ENOMEM.
 */
int vnet_addr_msg(struct vnet_batch *b, uint16_t type, const struct vnet_addr *a, int ifindex)
{
	return vnet_addr_msg_dad(b, type, a, ifindex, false);
}

int vnet_addr_msg_dad(struct vnet_batch *b, uint16_t type, const struct vnet_addr *a, int ifindex,
		      bool dad)
{
	size_t alen = a->family == AF_INET ? 4 : 16;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh = vnet_batch_msg(b, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!nlh)
		return -ENOMEM;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->prefixlen;
	ifa->ifa_scope = addr_scope(a);
	ifa->ifa_index = (uint32_t)ifindex;
	if (a->family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, alen, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, a->addr);
	if (type != RTM_NEWADDR)
		return 0;
	mnl_attr_put_u8(nlh, IFA_PROTO, VNET_PROTO);
	if (a->family == AF_INET6 && !dad) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return 0;
}
