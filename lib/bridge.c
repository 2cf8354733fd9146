// SPDX-License-Identifier: LGPL-2.1-or-later
/* bridge.c - bridges with their STP options, and the options of their ports */
#include <errno.h>
#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "kernel.h"

/*
 * IFLA_LINKINFO { kind "bridge", IFLA_INFO_DATA { options @o has } }. Times
 * are clock_t (USER_HZ, centiseconds), as the model holds them. The order of
 * the attributes does not matter: br_changelink() applies the timers before
 * STP_STATE whatever it is, and checks the STP ranges (forward delay 2-30 s,
 * hello 1-10 s, max age 6-40 s) only while STP is already on.
 */
static void put_bridge_info(struct nlmsghdr *nlh, const struct vnet_bridge_opts *o)
{
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	struct nlattr *data;

	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (o->has & VNET_BR_HAS_FORWARD_DELAY)
		mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, o->forward_delay);
	if (o->has & VNET_BR_HAS_HELLO_TIME)
		mnl_attr_put_u32(nlh, IFLA_BR_HELLO_TIME, o->hello_time);
	if (o->has & VNET_BR_HAS_MAX_AGE)
		mnl_attr_put_u32(nlh, IFLA_BR_MAX_AGE, o->max_age);
	if (o->has & VNET_BR_HAS_AGEING_TIME)
		mnl_attr_put_u32(nlh, IFLA_BR_AGEING_TIME, o->ageing_time);
	if (o->has & VNET_BR_HAS_PRIORITY)
		mnl_attr_put_u16(nlh, IFLA_BR_PRIORITY, o->priority);
	if (o->has & VNET_BR_HAS_STP)
		mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, o->stp ? 1 : 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
}

/**
 * vnet_bridge_msg_add() - RTM_NEWLINK of a bridge with the options @l->br has
 * @b: the batch, to be sent on a socket in @l->ns
 * @l: the bridge; its mtu and mac too when @l->has says
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_bridge_msg_add(struct vnet_batch *b, const struct vnet_link *l)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh =
		vnet_link_msg(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, l->name, &ifi);

	if (!nlh)
		return -ENOMEM;
	ifi->ifi_index = l->ifindex; /* 0: the kernel picks; an undo asks for the old one */
	if (l->has & VNET_LINK_HAS_MTU)
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	if (l->has & VNET_LINK_HAS_MAC)
		mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(l->mac), l->mac);
	put_bridge_info(nlh, &l->br);
	return 0;
}

/**
 * vnet_bridge_msg_set() - change the options @l->br has on an existing bridge
 * @b: the batch
 * @l: the bridge
 *
 * RTM_SETLINK ignores IFLA_LINKINFO; an RTM_NEWLINK without NLM_F_CREATE on an
 * existing link reaches the bridge's changelink instead.
 * Return: 0 or -ENOMEM.
 */
int vnet_bridge_msg_set(struct vnet_batch *b, const struct vnet_link *l)
{
	struct nlmsghdr *nlh = vnet_link_msg(b, RTM_NEWLINK, 0, l->name, NULL);

	if (!nlh)
		return -ENOMEM;
	put_bridge_info(nlh, &l->br);
	return 0;
}

/**
 * vnet_bridge_msg_port() - set the port options @l->port has on a port of a bridge
 * @b: the batch
 * @l: the port, already enslaved
 *
 * IFLA_INFO_SLAVE_KIND "bridge" sends IFLA_INFO_SLAVE_DATA to the master's
 * slave_changelink, as `ip link set dev X type bridge_slave ...` does.
 * Return: 0 or -ENOMEM.
 */
int vnet_bridge_msg_port(struct vnet_batch *b, const struct vnet_link *l)
{
	const struct vnet_port_opts *o = &l->port;
	struct nlmsghdr *nlh = vnet_link_msg(b, RTM_NEWLINK, 0, l->name, NULL);
	struct nlattr *info, *data;

	if (!nlh)
		return -ENOMEM;
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	if (o->has & VNET_PORT_HAS_COST)
		mnl_attr_put_u32(nlh, IFLA_BRPORT_COST, o->cost);
	if (o->has & VNET_PORT_HAS_PRIORITY)
		mnl_attr_put_u16(nlh, IFLA_BRPORT_PRIORITY, o->priority);
	if (o->has & VNET_PORT_HAS_HAIRPIN)
		mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, o->hairpin);
	if (o->has & VNET_PORT_HAS_LEARNING)
		mnl_attr_put_u8(nlh, IFLA_BRPORT_LEARNING, o->learning);
	if (o->has & VNET_PORT_HAS_FLOOD)
		mnl_attr_put_u8(nlh, IFLA_BRPORT_UNICAST_FLOOD, o->flood);
	if (o->has & VNET_PORT_HAS_ISOLATED)
		mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, o->isolated);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return 0;
}

/**
 * vnet_bridge_msg_flush() - forget the MAC addresses a bridge has learned
 * @b: the batch
 * @name: the bridge
 *
 * The kernel's STP keeps learned entries for the whole ageing time (300 s by
 * default) across a topology change, so a path that STP has just moved can stay
 * a black hole for minutes; `ip link set BR type bridge fdb_flush` does this.
 * Return: 0 or -ENOMEM.
 */
int vnet_bridge_msg_flush(struct vnet_batch *b, const char *name)
{
	struct nlmsghdr *nlh = vnet_link_msg(b, RTM_NEWLINK, 0, name, NULL);
	struct nlattr *info, *data;

	if (!nlh)
		return -ENOMEM;
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put(nlh, IFLA_BR_FDB_FLUSH, 0, NULL);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return 0;
}
