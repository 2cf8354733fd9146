// SPDX-License-Identifier: LGPL-2.1-or-later
/* vxlan.c - the vxlan kind: an Ethernet segment carried in UDP between hosts, and its VTEPs */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "kernel.h"
#include "kind.h"

/*
 * What the kernel can change in place, it is told; a tunnel's identity (its VNI, its
 * ends, its port) makes the device anew, as iproute2's users do by hand.
 */
static const struct vnet_opt vxlan_opts[] = {
	{ "vni", VNET_OPT_U32, 1, 16777215, 0, IFLA_VXLAN_ID, 4,
	  VNET_OPT_F_REPLACE | VNET_OPT_F_LABEL, NULL },
	{ "local", VNET_OPT_IPV4, 0, 0, 0, IFLA_VXLAN_LOCAL, 4, VNET_OPT_F_REPLACE, NULL },
	{ "remote", VNET_OPT_IPV4, 0, 0, 0, IFLA_VXLAN_GROUP, 4, VNET_OPT_F_REPLACE, NULL },
	{ "port", VNET_OPT_PORT, 1, 65535, VNET_VXLAN_PORT, IFLA_VXLAN_PORT, 2,
	  VNET_OPT_F_REPLACE | VNET_OPT_F_DEFAULT, NULL },
	{ "learning", VNET_OPT_BOOL, 0, 1, 0, IFLA_VXLAN_LEARNING, 1, VNET_OPT_F_REPLACE, NULL },
	{ "ttl", VNET_OPT_U32, 1, 255, 0, IFLA_VXLAN_TTL, 1, VNET_OPT_F_REPLACE, NULL },
};

enum { OPT_VNI, OPT_LOCAL, OPT_REMOTE, OPT_PORT, OPT_LEARNING };

/* The underlay's MTU of a vxlan of @m: the file's link that holds its local address, or the
 * host's, or Ethernet's 1500. @ret_name: who says so. */
static uint32_t underlay_mtu(const struct vnet_model *m, const struct vnet_link *l,
			     const char **ret_name)
{
	const uint8_t *local = (const uint8_t *)&l->opts.v[OPT_LOCAL];

	*ret_name = NULL;
	if (!vnet_opts_has(&l->opts, OPT_LOCAL))
		return VNET_ETH_MTU;
	for (size_t i = 0; i < m->addrs.n; i++) {
		const struct vnet_addr *a = &m->addrs.v[i];
		const struct vnet_link *u;

		if (a->family != AF_INET || memcmp(a->addr, local, 4) || strcmp(a->ns, l->ns))
			continue;
		u = vnet_model_find_link(m, a->ns, a->dev);
		*ret_name = a->dev;
		return u && (u->has & VNET_LINK_HAS_MTU) ? u->mtu : VNET_ETH_MTU;
	}
	for (size_t i = 0; i < m->hosts.n; i++)
		if (!memcmp(m->hosts.v[i].addr, local, 4)) {
			*ret_name = m->hosts.v[i].name;
			return m->hosts.v[i].mtu;
		}
	return VNET_ETH_MTU;
}

/*
 * VXLAN wraps each frame in 50 bytes (outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8): a frame
 * that does not fit the underlay after that is dropped on the way, silently.
 */
static bool vxlan_check(const struct vnet_model *m, const struct vnet_link *l, char *why,
			size_t len)
{
	const char *under;
	uint32_t umtu = underlay_mtu(m, l, &under);
	uint32_t mtu = l->mtu;

	if (!vnet_opts_has(&l->opts, OPT_VNI)) {
		snprintf(why, len, "a vxlan needs a vni (1..16777215), the same at both ends");
		return false;
	}
	if (umtu >= VNET_VXLAN_OVERHEAD && mtu <= umtu - VNET_VXLAN_OVERHEAD)
		return true;
	snprintf(why, len,
		 "mtu %u does not fit the underlay (%s%smtu %u): VXLAN adds %u bytes, the largest "
		 "that fits is %u",
		 mtu, under ? under : "", under ? ", " : "", umtu, VNET_VXLAN_OVERHEAD,
		 umtu > VNET_VXLAN_OVERHEAD ? umtu - VNET_VXLAN_OVERHEAD : 0);
	return false;
}

/* Without an MTU of its own, the kernel gives a vxlan that has no underlay device 1500,
 * which no 1500-byte underlay carries: vnet gives it what fits one, 1450. */
static void vxlan_finish(struct vnet_link *l)
{
	vnet_opts_defaults(&vnet_kind_vxlan.opts, &l->opts);
	if (!(l->has & VNET_LINK_HAS_MTU)) {
		l->mtu = VNET_ETH_MTU - VNET_VXLAN_OVERHEAD;
		l->has |= VNET_LINK_HAS_MTU;
	}
}

const struct vnet_kind vnet_kind_vxlan = {
	.name = "vxlan",
	.section = "vxlans",
	.flags = VNET_KIND_F_L2 | VNET_KIND_F_PORT | VNET_KIND_F_SHOW,
	.opts = VNET_OPTSET(vxlan_opts, IFLA_VXLAN_MAX),
	.finish = vxlan_finish,
	.check = vxlan_check,
};

void vnet_vxlan_set(struct vnet_link *l, uint32_t vni, const uint8_t local[4], bool learning)
{
	l->opts.v[OPT_VNI] = vni;
	memcpy(&l->opts.v[OPT_LOCAL], local, 4);
	l->opts.v[OPT_LEARNING] = learning;
	l->opts.has |= 1U << OPT_VNI | 1U << OPT_LOCAL | 1U << OPT_LEARNING;
	vnet_opts_defaults(&vnet_kind_vxlan.opts, &l->opts);
}

/* ---- its VTEPs: forwarding entries, and the routed overlay's neighbour entries ---- */

static int vtep_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct vnet_vtep));
}

void vnet_vtep_sort(struct vnet_link *l)
{
	qsort(l->vtep, l->n_vtep, sizeof(l->vtep[0]), vtep_cmp);
}

static bool has_vtep(const struct vnet_link *l, const struct vnet_vtep *v)
{
	for (size_t i = 0; i < l->n_vtep; i++)
		if (!vtep_cmp(&l->vtep[i], v))
			return true;
	return false;
}

bool vnet_vteps_differ(const struct vnet_link *w, const struct vnet_link *h)
{
	return w->n_vtep != h->n_vtep ||
	       memcmp(w->vtep, h->vtep, w->n_vtep * sizeof(w->vtep[0])) != 0;
}

/* One RTM_NEWNEIGH or RTM_DELNEIGH: @family AF_BRIDGE (the forwarding entry, NTF_SELF: the
 * vxlan's own table, not a bridge's) or AF_INET (the neighbour). */
static int neigh_msg(struct vnet_batch *b, uint16_t type, uint8_t family, int ifindex,
		     const struct vnet_vtep *v)
{
	/* several remotes share the all-zero MAC: APPEND adds one, as `bridge fdb append` */
	uint16_t flags = type != RTM_NEWNEIGH ? 0 :
			 family == AF_BRIDGE  ? NLM_F_CREATE | NLM_F_APPEND :
						NLM_F_CREATE | NLM_F_REPLACE;
	struct nlmsghdr *nlh = vnet_batch_msg(b, type, flags);
	struct ndmsg *nd;

	if (!nlh)
		return -ENOMEM;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_PERMANENT;
	if (family == AF_BRIDGE) {
		nd->ndm_flags = NTF_SELF;
		mnl_attr_put(nlh, NDA_LLADDR, 6, v->mac);
		mnl_attr_put(nlh, NDA_DST, 4, v->dst);
	} else {
		mnl_attr_put(nlh, NDA_DST, 4, v->inner);
		if (type == RTM_NEWNEIGH)
			mnl_attr_put(nlh, NDA_LLADDR, 6, v->mac);
	}
	return 0;
}

/* The entries of one VTEP, made or removed: a neighbour needs its forwarding entry. */
static int vtep_msgs(struct vnet_batch *b, uint16_t type, int ifindex, const struct vnet_vtep *v)
{
	int r = 0;

	if (type == RTM_DELNEIGH && v->has_inner)
		r = neigh_msg(b, type, AF_INET, ifindex, v);
	if (r >= 0)
		r = neigh_msg(b, type, AF_BRIDGE, ifindex, v);
	if (r >= 0 && type == RTM_NEWNEIGH && v->has_inner)
		r = neigh_msg(b, type, AF_INET, ifindex, v);
	return r;
}

int vnet_vxlan_msg_vteps(struct vnet_batch *b, const struct vnet_link *l,
			 const struct vnet_link *old, int ifindex)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && old && i < old->n_vtep; i++)
		if (!has_vtep(l, &old->vtep[i]))
			r = vtep_msgs(b, RTM_DELNEIGH, ifindex, &old->vtep[i]);
	for (size_t i = 0; r >= 0 && i < l->n_vtep; i++)
		if (!old || !has_vtep(old, &l->vtep[i]))
			r = vtep_msgs(b, RTM_NEWNEIGH, ifindex, &l->vtep[i]);
	return r;
}

/* ---- reading them back ---- */

struct vtep_read {
	struct vnet_link *links;
	size_t n;
};

static struct vnet_link *vxlan_of(const struct vtep_read *rd, int ifindex)
{
	for (size_t i = 0; i < rd->n; i++)
		if (rd->links[i].ifindex == ifindex && rd->links[i].kind == &vnet_kind_vxlan)
			return &rd->links[i];
	return NULL;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, NDA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static bool is_remote(const struct vnet_link *l, const struct vnet_vtep *v)
{
	static const uint8_t zero[6];

	return vnet_opts_has(&l->opts, OPT_REMOTE) && !memcmp(v->mac, zero, 6) &&
	       !memcmp(v->dst, &l->opts.v[OPT_REMOTE], 4);
}

/* A static entry of a vxlan: a forwarding entry with a remote, or a permanent neighbour. */
static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NDA_MAX + 1] = { NULL };
	struct vnet_link *l;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(nlh) < sizeof(*nd) ||
	    !(nd->ndm_state & NUD_PERMANENT))
		return MNL_CB_OK;
	l = vxlan_of(data, nd->ndm_ifindex);
	mnl_attr_parse(nlh, sizeof(*nd), attr_cb, tb);
	if (!l || !tb[NDA_LLADDR] || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6 ||
	    !tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != 4)
		return MNL_CB_OK;
	if (nd->ndm_family == AF_BRIDGE) {
		struct vnet_vtep v = { 0 };

		memcpy(v.mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
		memcpy(v.dst, mnl_attr_get_payload(tb[NDA_DST]), 4);
		/* the kernel's own entry for the device's "remote" is the option's, not a VTEP */
		if (l->n_vtep < VNET_VTEP_MAX && !is_remote(l, &v))
			l->vtep[l->n_vtep++] = v;
		return MNL_CB_OK;
	}
	/* a neighbour: on the forwarding entry of its MAC (read first) */
	for (size_t i = 0; nd->ndm_family == AF_INET && i < l->n_vtep; i++)
		if (!memcmp(l->vtep[i].mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6) &&
		    !l->vtep[i].has_inner) {
			l->vtep[i].has_inner = true;
			memcpy(l->vtep[i].inner, mnl_attr_get_payload(tb[NDA_DST]), 4);
			break;
		}
	return MNL_CB_OK;
}

int vnet_vxlan_observe(struct vnet_nl *nl, struct vnet_link *links, size_t n)
{
	struct vtep_read rd = { links, n };
	bool any = false;
	int r;

	for (size_t i = 0; i < n; i++)
		any |= links[i].kind == &vnet_kind_vxlan;
	if (!any)
		return 0;
	r = vnet_nl_dump(nl, RTM_GETNEIGH, AF_BRIDGE, neigh_cb, &rd);
	if (r >= 0)
		r = vnet_nl_dump(nl, RTM_GETNEIGH, AF_INET, neigh_cb, &rd);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (links[i].kind == &vnet_kind_vxlan)
			vnet_vtep_sort(&links[i]);
	return r;
}
