// SPDX-License-Identifier: LGPL-2.1-or-later
/* route.c - routes of a namespace's main table, tagged with vnet's protocol */
#include <errno.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "kernel.h"

/**
 * vnet_route_msg() - RTM_NEWROUTE or RTM_DELROUTE of a route in the main table
 * @b: the batch
 * @type: RTM_NEWROUTE (fails with EEXIST when present) or RTM_DELROUTE
 * @r: the route
 * @oif: the output link's index, 0 to let the kernel pick it from the gateway
 *
 * Both carry protocol VNET_PROTO: a delete then only matches vnet's own route.
 * A new route without a gateway is scope link (directly connected); a delete
 * says RT_SCOPE_NOWHERE, which matches any scope, as `ip route del` does.
 *
 * Return: 0, -EAFNOSUPPORT or -ENOMEM.
 */
int vnet_route_msg(struct vnet_batch *b, uint16_t type, const struct vnet_route *r, int oif)
{
	size_t alen = r->family == AF_INET ? 4 : 16;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (r->family != AF_INET && r->family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh = vnet_batch_msg(b, type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!nlh)
		return -ENOMEM;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)r->family;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = VNET_PROTO;
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE)
		rtm->rtm_scope = r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	else
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	if (r->dst_len)
		mnl_attr_put(nlh, RTA_DST, alen, r->dst);
	if (r->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, r->gw);
	if (oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return 0;
}
