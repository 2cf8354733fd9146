// SPDX-License-Identifier: LGPL-2.1-or-later
/* link.c - any link, by name: create it with its kind's options; set, delete, find its index */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "kernel.h"
#include "kind.h"

struct nlmsghdr *vnet_link_msg(struct vnet_batch *b, uint16_t type, uint16_t flags,
			       const char *name, struct ifinfomsg **ret_ifi)
{
	struct nlmsghdr *nlh = vnet_batch_msg(b, type, flags);
	struct ifinfomsg *ifi;

	if (!nlh)
		return NULL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (ret_ifi)
		*ret_ifi = ifi;
	return nlh;
}

int vnet_link_msg_add(struct vnet_batch *b, const struct vnet_link *l, int parent_ifindex,
		      int peer_ns_fd)
{
	const struct vnet_kind *k = l->kind;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh =
		vnet_link_msg(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, l->name, &ifi);
	struct nlattr *info, *data;

	if (!nlh)
		return -ENOMEM;
	ifi->ifi_index = l->ifindex;
	if (l->has & VNET_LINK_HAS_MTU)
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	if (l->has & VNET_LINK_HAS_MAC)
		mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(l->mac), l->mac);
	if (parent_ifindex > 0)
		mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent_ifindex);
	/* a link on a parent made in the parent's namespace goes to its own at creation */
	if (vnet_kind_has(k, VNET_KIND_F_PARENT) && peer_ns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, vnet_kind_info(k));
	if (k->put_data || k->opts.n) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		if (k->put_data)
			k->put_data(nlh, l, peer_ns_fd);
		vnet_opts_put(nlh, &k->opts, &l->opts);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
	return 0;
}

/* An RTM_NEWLINK that changes @l: IFLA_LINKINFO { @kind_attr @kind, @data_attr { @o } }. */
static int msg_info(struct vnet_batch *b, const struct vnet_link *l, uint16_t kind_attr,
		    const struct vnet_kind *k, uint16_t data_attr, const struct vnet_optset *s,
		    const struct vnet_opts *o)
{
	struct nlmsghdr *nlh = vnet_link_msg(b, RTM_NEWLINK, 0, l->name, NULL);
	struct nlattr *info, *data;

	if (!nlh)
		return -ENOMEM;
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, kind_attr, vnet_kind_info(k));
	data = mnl_attr_nest_start(nlh, data_attr);
	vnet_opts_put(nlh, s, o);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return 0;
}

int vnet_link_msg_opts(struct vnet_batch *b, const struct vnet_link *l)
{
	return msg_info(b, l, IFLA_INFO_KIND, l->kind, IFLA_INFO_DATA, &l->kind->opts, &l->opts);
}

int vnet_link_msg_port(struct vnet_batch *b, const struct vnet_link *l)
{
	const struct vnet_kind *m = vnet_kind_master();

	return msg_info(b, l, IFLA_INFO_SLAVE_KIND, m, IFLA_INFO_SLAVE_DATA, &m->port_opts,
			&l->port);
}

/**
 * vnet_link_msg_set() - RTM_SETLINK of an existing link, found by name
 * @b: the batch
 * @l: the link; fields chosen by @set are sent
 * @set: VNET_SET_UP | _MTU | _MAC | _MASTER | _ALIAS (other bits are ignored)
 * @master_ifindex: for VNET_SET_MASTER: the bridge's index, 0 to leave it
 * @alias: for VNET_SET_ALIAS; "" or NULL removes the alias
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_link_msg_set(struct vnet_batch *b, const struct vnet_link *l, unsigned set,
		      int master_ifindex, const char *alias)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = vnet_link_msg(b, RTM_SETLINK, 0, l->name, &ifi);

	if (!nlh)
		return -ENOMEM;
	if (set & VNET_SET_UP) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = l->up ? IFF_UP : 0;
	}
	if (set & VNET_SET_MTU)
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	if (set & VNET_SET_MAC)
		mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(l->mac), l->mac);
	if (set & VNET_SET_MASTER)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_ifindex);
	/* Without the NUL, as iproute2 sends it: an empty attribute removes the alias. */
	if (set & VNET_SET_ALIAS)
		mnl_attr_put(nlh, IFLA_IFALIAS, alias ? strlen(alias) : 0, alias ? alias : "");
	return 0;
}

/**
 * vnet_link_msg_del() - RTM_DELLINK by name
 * @b: the batch
 * @name: the link; deleting one end of a veth pair deletes both
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_link_msg_del(struct vnet_batch *b, const char *name)
{
	return vnet_link_msg(b, RTM_DELLINK, 0, name, NULL) ? 0 : -ENOMEM;
}

/**
 * vnet_link_set_now() - one RTM_SETLINK of @l by name, sent at once, its ack waited for
 * @nl: a socket in the link's namespace
 * @l: the link
 * @set: as for vnet_link_msg_set()
 * @alias: as for vnet_link_msg_set()
 *
 * For the few changes that cannot wait for a batch: the tag of a namespace's lo before
 * the namespace is mounted, and of a tun/tap before it is made persistent.
 * Return: 0 or -errno (the kernel's).
 */
int vnet_link_set_now(struct vnet_nl *nl, const struct vnet_link *l, unsigned set,
		      const char *alias)
{
	struct vnet_nl_result res = { 0 };
	struct vnet_batch b;
	int r;

	vnet_batch_init(&b);
	r = vnet_link_msg_set(&b, l, set, 0, alias);
	if (r >= 0)
		r = vnet_nl_send(nl, &b, &res);
	vnet_batch_free(&b);
	return r < 0 ? r : res.err;
}

static int index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*ifi))
		*(int *)data = ifi->ifi_index;
	return MNL_CB_OK;
}

int vnet_link_get(struct vnet_nl *nl, const char *name, mnl_cb_t cb, void *data)
{
	char buf[512] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	if (!name[0] || strlen(name) >= VNET_IFNAMSIZ)
		return -ENODEV;
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return vnet_nl_request(nl, nlh, cb, data);
}

/**
 * vnet_link_get_index() - the index of a link, asked of the kernel by name
 * @nl: a socket in the link's namespace
 * @name: the link
 *
 * Return: the ifindex, -ENODEV when there is no such link, or -errno.
 */
int vnet_link_get_index(struct vnet_nl *nl, const char *name)
{
	int index = 0, r = vnet_link_get(nl, name, index_cb, &index);

	if (r < 0)
		return r;
	return index > 0 ? index : -ENODEV;
}
