// SPDX-License-Identifier: LGPL-2.1-or-later
/* bridge.c - the bridge kind: its STP options, the options of its ports, and their STP state */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "kernel.h"
#include "kind.h"

/*
 * Times are clock_t (USER_HZ, centiseconds), as the model holds them. The order of the
 * attributes does not matter: br_changelink() applies the timers before STP_STATE
 * whatever it is, and checks the STP ranges (forward delay 2-30 s, hello 1-10 s, max
 * age 6-40 s) only while STP is already on. STP_STATE is a u32, sent as one.
 */
enum {
	VNET_BR_STP,
	VNET_BR_PRIORITY,
	VNET_BR_FORWARD_DELAY,
	VNET_BR_HELLO_TIME,
	VNET_BR_MAX_AGE,
	VNET_BR_AGEING_TIME,
};

#define T VNET_OPT_SECONDS
#define D VNET_OPT_F_DEFAULT
static const struct vnet_opt bridge_opts[] = {
	/* key, type, min, max, default, attribute, its size in bytes, flags, words */
	[VNET_BR_STP] = { "stp", VNET_OPT_BOOL, 0, 1, 0, IFLA_BR_STP_STATE, 4, 0, NULL },
	[VNET_BR_PRIORITY] = { "priority", VNET_OPT_U16, 0, 65535, 0, IFLA_BR_PRIORITY, 2, 0,
			       NULL },
	[VNET_BR_FORWARD_DELAY] = { "forward_delay", T, 200, 3000, 200, IFLA_BR_FORWARD_DELAY, 4, D,
				    NULL },
	[VNET_BR_HELLO_TIME] = { "hello_time", T, 100, 1000, 100, IFLA_BR_HELLO_TIME, 4, D, NULL },
	[VNET_BR_MAX_AGE] = { "max_age", T, 600, 4000, 600, IFLA_BR_MAX_AGE, 4, D, NULL },
	[VNET_BR_AGEING_TIME] = { "ageing_time", T, 1000, 100000000, 0, IFLA_BR_AGEING_TIME, 4,
				  VNET_OPT_F_ZERO, NULL },
};
#undef T
#undef D

static const struct vnet_opt port_opts[] = {
	{ "cost", VNET_OPT_U32, 1, 65535, 0, IFLA_BRPORT_COST, 4, 0, NULL },
	{ "priority", VNET_OPT_U16, 0, 63, 0, IFLA_BRPORT_PRIORITY, 2, 0, NULL },
	{ "hairpin", VNET_OPT_BOOL, 0, 1, 0, IFLA_BRPORT_MODE, 1, 0, NULL },
	{ "learning", VNET_OPT_BOOL, 0, 1, 0, IFLA_BRPORT_LEARNING, 1, 0, NULL },
	{ "flood", VNET_OPT_BOOL, 0, 1, 0, IFLA_BRPORT_UNICAST_FLOOD, 1, 0, NULL },
	{ "isolated", VNET_OPT_BOOL, 0, 1, 0, IFLA_BRPORT_ISOLATED, 1, 0, NULL },
};

/*
 * STP on and a timer left out: the kernel's minimums (the table's defaults), so that a
 * loop converges fast. With STP off the kernel's own values stay.
 */
static void bridge_finish(struct vnet_link *l)
{
	if (vnet_bridge_stp(l))
		vnet_opts_defaults(&vnet_kind_bridge.opts, &l->opts);
}

/* A struct ifla_bridge_id: priority then MAC, 8 bytes. */
static void get_bridge_id(const struct nlattr *a, uint8_t id[8])
{
	if (a && mnl_attr_get_payload_len(a) >= sizeof(struct ifla_bridge_id))
		memcpy(id, mnl_attr_get_payload(a), 8);
}

static uint32_t get_num(const struct nlattr *a, size_t size)
{
	if (!a || mnl_attr_get_payload_len(a) < size)
		return 0;
	return size == 1 ? mnl_attr_get_u8(a) :
	       size == 2 ? mnl_attr_get_u16(a) :
			   mnl_attr_get_u32(a);
}

/* What STP made of the bridge: its id, the root's, and the way there. */
static void bridge_read(const struct nlattr *const *tb, struct vnet_link *l)
{
	struct vnet_stp_bridge *s = &l->stp_br;

	if (!tb)
		return;
	s->has = tb[IFLA_BR_BRIDGE_ID] && tb[IFLA_BR_ROOT_ID];
	get_bridge_id(tb[IFLA_BR_BRIDGE_ID], s->bridge_id);
	get_bridge_id(tb[IFLA_BR_ROOT_ID], s->root_id);
	s->root_port = (uint16_t)get_num(tb[IFLA_BR_ROOT_PORT], 2);
	s->root_path_cost = get_num(tb[IFLA_BR_ROOT_PATH_COST], 4);
	s->topology_change = get_num(tb[IFLA_BR_TOPOLOGY_CHANGE], 1);
}

/* The port's place in the spanning tree: its state and what it knows of the root. */
static void port_read(const struct nlattr *const *tb, struct vnet_link *l)
{
	struct vnet_stp_port *s = &l->stp_port;

	if (!tb)
		return;
	s->has = tb[IFLA_BRPORT_STATE] && mnl_attr_get_payload_len(tb[IFLA_BRPORT_STATE]) >= 1;
	s->state = (uint8_t)get_num(tb[IFLA_BRPORT_STATE], 1);
	s->port_id = (uint16_t)get_num(tb[IFLA_BRPORT_ID], 2);
	s->port_no = (uint16_t)get_num(tb[IFLA_BRPORT_NO], 2);
	get_bridge_id(tb[IFLA_BRPORT_ROOT_ID], s->designated_root);
	get_bridge_id(tb[IFLA_BRPORT_BRIDGE_ID], s->designated_bridge);
	s->designated_port = (uint16_t)get_num(tb[IFLA_BRPORT_DESIGNATED_PORT], 2);
	/* IFLA_BRPORT_DESIGNATED_COST is a u16 on the wire, though the kernel keeps a u32 */
	s->designated_cost = get_num(tb[IFLA_BRPORT_DESIGNATED_COST], 2);
}

/*
 * During a topology change the kernel ages learned MACs out after 2 x forward_delay
 * and reports that as the ageing time (net/bridge/br_stp.c); it is not drift.
 */
static bool bridge_drift(const struct vnet_link *h, size_t i)
{
	return i == VNET_BR_AGEING_TIME && h->stp_br.topology_change &&
	       h->opts.v[i] == 2 * h->opts.v[VNET_BR_FORWARD_DELAY];
}

const struct vnet_kind vnet_kind_bridge = {
	.name = "bridge",
	.section = "bridges",
	.flags = VNET_KIND_F_L2 | VNET_KIND_F_MASTER,
	.not_port = "a bridge cannot be a bridge port (no nested bridges)",
	.opts = VNET_OPTSET(bridge_opts, IFLA_BR_MAX),
	.port_opts = VNET_OPTSET(port_opts, IFLA_BRPORT_MAX),
	.finish = bridge_finish,
	.read = bridge_read,
	.read_port = port_read,
	.drift = bridge_drift,
};

bool vnet_bridge_stp(const struct vnet_link *l)
{
	return l && l->kind == &vnet_kind_bridge && vnet_opts_has(&l->opts, VNET_BR_STP) &&
	       l->opts.v[VNET_BR_STP];
}

long vnet_bridge_converge_ms(const struct vnet_link *l)
{
	if (!vnet_bridge_stp(l))
		return 0;
	return (2L * l->opts.v[VNET_BR_FORWARD_DELAY] + l->opts.v[VNET_BR_MAX_AGE]) * 10;
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
