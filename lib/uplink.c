// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * uplink.c - a NIC vnet does not make, taken over by a bridge: the seed's "right way to
 * add a bridge". Everything the NIC carried moves onto the bridge in two checked netlink
 * batches, the gateway is probed, and the NIC is given back exactly as it was when the
 * kernel refuses any of it, when the probe fails, at `down`, or when a --try is not
 * confirmed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "apply.h"
#include "array.h"
#include "uplink.h"

/* ---- the saved state, and its bytes in the store ---- */

#define SAVED_MAGIC "vnet-uplink-1\n" /* then ifindex, mtu (u32 each), mac[6], messages */
#define SAVED_HEAD (sizeof(SAVED_MAGIC) - 1 + 4 + 4 + 6)

void vnet_uplink_saved_free(struct vnet_uplink_saved *s)
{
	if (!s)
		return;
	free(s->msgs);
	free(s);
}

void vnet_uplink_change_free(struct vnet_uplink_change *c)
{
	if (!c)
		return;
	free(c->saved.msgs);
	free(c);
}

int vnet_uplink_saved_encode(const struct vnet_uplink_saved *s, void **ret, size_t *ret_len)
{
	uint8_t *b = malloc(SAVED_HEAD + s->len + 1);
	uint32_t ix = (uint32_t)s->ifindex;
	size_t off = sizeof(SAVED_MAGIC) - 1;

	if (!b)
		return -ENOMEM;
	memcpy(b, SAVED_MAGIC, off);
	memcpy(b + off, &ix, 4);
	memcpy(b + off + 4, &s->mtu, 4);
	memcpy(b + off + 8, s->mac, 6);
	if (s->len)
		memcpy(b + SAVED_HEAD, s->msgs, s->len);
	*ret = b;
	*ret_len = SAVED_HEAD + s->len;
	return 0;
}

/* An address's or a route's message is a few hundred bytes; a batch gives each new one
 * 4 KiB, and a copy of a saved one must fit there with what vnet adds to it. */
#define SAVED_MSG_MAX 2048

/* Every message whole, each an address or a route, none too big: what a store must give. */
static bool msgs_sane(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	if (len > (16U << 20))
		return false;
	while (left > 0) {
		if (!mnl_nlmsg_ok(nlh, left) || nlh->nlmsg_len > SAVED_MSG_MAX)
			return false;
		if (nlh->nlmsg_type == RTM_NEWADDR &&
		    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
			return false;
		if (nlh->nlmsg_type == RTM_NEWROUTE &&
		    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
			return false;
		if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_NEWROUTE)
			return false;
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	return left == 0;
}

int vnet_uplink_saved_decode(const void *buf, size_t len, struct vnet_uplink_saved **ret)
{
	const uint8_t *b = buf;
	size_t off = sizeof(SAVED_MAGIC) - 1;
	struct vnet_uplink_saved *s;
	uint32_t ix;

	if (len < SAVED_HEAD || memcmp(b, SAVED_MAGIC, off) ||
	    !msgs_sane(b + SAVED_HEAD, len - SAVED_HEAD))
		return -EBADMSG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(&ix, b + off, 4);
	memcpy(&s->mtu, b + off + 4, 4);
	memcpy(s->mac, b + off + 8, 6);
	s->ifindex = (int)ix;
	s->len = len - SAVED_HEAD;
	s->msgs = malloc(s->len + 1);
	if (!s->msgs) {
		free(s);
		return -ENOMEM;
	}
	memcpy(s->msgs, b + SAVED_HEAD, s->len);
	*ret = s;
	return 0;
}

/* Walk the saved messages: for (nlh = first(s, &left); nlh; nlh = next(nlh, &left)). */
static const struct nlmsghdr *msg_first(const struct vnet_uplink_saved *s, int *left)
{
	*left = (int)s->len;
	return s->len ? s->msgs : NULL;
}

static const struct nlmsghdr *msg_next(const struct nlmsghdr *nlh, int *left)
{
	nlh = mnl_nlmsg_next(nlh, left);
	return mnl_nlmsg_ok(nlh, *left) ? nlh : NULL;
}

static int save_msg(struct vnet_uplink_saved *s, size_t *cap, const struct nlmsghdr *nlh)
{
	size_t n = MNL_ALIGN(nlh->nlmsg_len);

	if (nlh->nlmsg_len > SAVED_MSG_MAX)
		return -EMSGSIZE; /* no address or route is this big: not one to move */
	if (vnet_grow(&s->msgs, cap, s->len + n, 1) < 0)
		return -ENOMEM;
	memset((uint8_t *)s->msgs + s->len, 0, n);
	memcpy((uint8_t *)s->msgs + s->len, nlh, nlh->nlmsg_len);
	((struct nlmsghdr *)((uint8_t *)s->msgs + s->len))->nlmsg_len = (uint32_t)n;
	s->len += n;
	return 0;
}

/* ---- what identifies an address or a route ---- */

struct key {
	uint8_t family, len;
	uint8_t a[16];
	uint32_t table, prio;
};

static const struct nlattr *attr_of(const struct nlmsghdr *nlh, size_t hdr, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, hdr)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static void put_addr(struct key *k, const struct nlattr *a)
{
	size_t n = a ? mnl_attr_get_payload_len(a) : 0;

	if (n == 4 || n == 16)
		memcpy(k->a, mnl_attr_get_payload(a), n);
}

/* An address: its family, prefix and local address (IFA_LOCAL for IPv4: IFA_ADDRESS may
 * be a peer's). */
static struct key addr_key(const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *local = attr_of(nlh, sizeof(*ifa), IFA_LOCAL);
	struct key k = { .family = ifa->ifa_family, .len = ifa->ifa_prefixlen };

	put_addr(&k, local ? local : attr_of(nlh, sizeof(*ifa), IFA_ADDRESS));
	return k;
}

static bool link_local6(const struct key *k)
{
	return k->family == AF_INET6 && k->a[0] == 0xfe && (k->a[1] & 0xc0) == 0x80;
}

static uint32_t attr_u32(const struct nlmsghdr *nlh, size_t hdr, uint16_t type, uint32_t def)
{
	const struct nlattr *a = attr_of(nlh, hdr, type);

	return a && mnl_attr_get_payload_len(a) == 4 ? mnl_attr_get_u32(a) : def;
}

/* A route: its family, table, destination and metric, as the kernel keys it. */
static struct key route_key(const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct key k = { .family = rtm->rtm_family, .len = rtm->rtm_dst_len };

	put_addr(&k, attr_of(nlh, sizeof(*rtm), RTA_DST));
	k.table = attr_u32(nlh, sizeof(*rtm), RTA_TABLE, rtm->rtm_table);
	k.prio = attr_u32(nlh, sizeof(*rtm), RTA_PRIORITY, 0);
	return k;
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->a, b->a, sizeof(a->a)) &&
	       a->table == b->table && a->prio == b->prio;
}

/* An address the take-over moves: all but IPv6 link-local ones, which stay on the NIC
 * (the bridge makes its own from the same MAC). */
static bool moved_addr(const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct key k;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return false;
	k = addr_key(nlh);
	/* one whose DAD failed is a neighbour's: made usable on the bridge, it would be taken */
	return !link_local6(&k) &&
	       !(attr_u32(nlh, sizeof(*ifa), IFA_FLAGS, ifa->ifa_flags) & IFA_F_DADFAILED);
}

/* A route through the NIC that the take-over moves: one of a table of routes, not one the
 * kernel makes for an address, nor a multipath route or one through a nexthop object. */
static bool movable_route(const struct nlmsghdr *nlh, int ifindex)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	size_t hdr = sizeof(*rtm);

	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return false;
	if (rtm->rtm_type != RTN_UNICAST || rtm->rtm_protocol == RTPROT_KERNEL ||
	    rtm->rtm_table == RT_TABLE_LOCAL || (rtm->rtm_flags & RTM_F_CLONED))
		return false;
	return attr_u32(nlh, hdr, RTA_OIF, 0) == (uint32_t)ifindex &&
	       !attr_of(nlh, hdr, RTA_MULTIPATH) && !attr_of(nlh, hdr, RTA_NH_ID);
}

/* ---- observing ---- */

struct keys {
	struct key *v;
	size_t n, cap;
};

struct observer {
	int nic, br;
	bool reclaim; /* capture from the bridge what is not vnet's own (a lost store) */
	struct vnet_uplink_saved *save; /* capture the NIC's state here, or NULL */
	size_t save_cap;
	struct keys nic_addrs, br_addrs, br_routes;
};

static int push_key(struct keys *ks, const struct key *k)
{
	struct key *slot = VNET_ARRAY_PUSH(ks);

	if (!slot)
		return -ENOMEM;
	*slot = *k;
	return 0;
}

static bool has_key(const struct keys *ks, const struct key *k)
{
	for (size_t i = 0; i < ks->n; i++)
		if (key_eq(&ks->v[i], k))
			return true;
	return false;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct observer *o = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct key k;
	int r = 0;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return MNL_CB_OK;
	k = addr_key(nlh);
	if ((int)ifa->ifa_index == o->nic) {
		r = push_key(&o->nic_addrs, &k);
		if (!r && o->save && !o->reclaim)
			r = save_msg(o->save, &o->save_cap, nlh);
	} else if ((int)ifa->ifa_index == o->br) {
		const struct nlattr *proto = attr_of(nlh, sizeof(*ifa), IFA_PROTO);

		r = push_key(&o->br_addrs, &k);
		if (!r && o->reclaim && o->save && !link_local6(&k) &&
		    !(proto && mnl_attr_get_u8(proto) == VNET_PROTO))
			r = save_msg(o->save, &o->save_cap, nlh);
	}
	errno = -r;
	return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct observer *o = data;
	struct key k;
	int r = 0;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return MNL_CB_OK;
	k = route_key(nlh);
	if (o->save && !o->reclaim && movable_route(nlh, o->nic))
		r = save_msg(o->save, &o->save_cap, nlh);
	else if (o->br > 0 && movable_route(nlh, o->br))
		r = push_key(&o->br_routes, &k);
	if (!r && o->reclaim && o->save && movable_route(nlh, o->br) &&
	    ((const struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_protocol != VNET_PROTO)
		r = save_msg(o->save, &o->save_cap, nlh);
	errno = -r;
	return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

struct link_info {
	int ifindex, master;
	uint32_t mtu;
	uint8_t mac[6];
	char name[VNET_IFNAMSIZ];
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_info *li = data;
	const struct nlattr *a;

	li->ifindex = ifi->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_MTU:
			li->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_MASTER:
			li->master = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6)
				memcpy(li->mac, mnl_attr_get_payload(a), 6);
			break;
		case IFLA_IFNAME:
			snprintf(li->name, sizeof(li->name), "%s", mnl_attr_get_str(a));
			break;
		}
	}
	return MNL_CB_OK;
}

/* RTM_GETLINK of @name, or of @ifindex when @name is NULL; Return: 0, -ENODEV or -errno. */
static int link_get(struct vnet_nl *nl, const char *name, int ifindex, struct link_info *ret)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	memset(ret, 0, sizeof(*ret));
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = name ? 0 : ifindex;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return vnet_nl_request(nl, nlh, link_cb, ret);
}

/* Is everything the NIC carried on the bridge, and none of it left on the NIC? */
static bool all_moved(const struct observer *o, const struct vnet_uplink_saved *s)
{
	const struct nlmsghdr *nlh;
	int left;

	for (nlh = msg_first(s, &left); nlh; nlh = msg_next(nlh, &left)) {
		struct key k;

		if (nlh->nlmsg_type == RTM_NEWADDR) {
			if (!moved_addr(nlh))
				continue;
			k = addr_key(nlh);
			if (!has_key(&o->br_addrs, &k) || has_key(&o->nic_addrs, &k))
				return false;
		} else {
			k = route_key(nlh);
			if (!has_key(&o->br_routes, &k))
				return false;
		}
	}
	return true;
}

static void detect_manager(struct vnet_uplink *u, int ifindex);

/* Does the NIC carry an address of its own now (not only its IPv6 link-local one)? */
static bool has_own_addrs(const struct observer *o)
{
	for (size_t i = 0; i < o->nic_addrs.n; i++)
		if (!link_local6(&o->nic_addrs.v[i]))
			return true;
	return false;
}
static int observe_uplink(struct vnet_nl *nl, struct vnet_uplink *u, bool reclaim);

static int observe_state(struct vnet_nl *nl, struct vnet_uplink *u, struct observer *o)
{
	struct link_info nic, br, master;
	int r = link_get(nl, u->nic, 0, &nic);

	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	u->exists = true;
	r = link_get(nl, u->bridge, 0, &br);
	if (r < 0 && r != -ENODEV)
		return r;
	o->nic = nic.ifindex;
	o->br = r < 0 ? 0 : br.ifindex;
	if (nic.master && link_get(nl, NULL, nic.master, &master) >= 0)
		snprintf(u->master, sizeof(u->master), "%s", master.name);
	/* the NIC as it is now (or, reclaiming, what its bridge carries) */
	o->save = calloc(1, sizeof(*o->save));
	if (!o->save)
		return -ENOMEM;
	o->save->ifindex = nic.ifindex;
	o->save->mtu = nic.mtu;
	memcpy(o->save->mac, nic.mac, 6);
	r = vnet_nl_dump(nl, RTM_GETADDR, AF_UNSPEC, addr_cb, o);
	if (r >= 0)
		r = vnet_nl_dump(nl, RTM_GETROUTE, AF_UNSPEC, route_cb, o);
	if (r < 0)
		return r;
	/*
	 * A record of the NIC whose NIC is no port of the bridge and has addresses of its own
	 * is of another life of it (a reboot, a DHCP lease since, the bridge deleted and the
	 * NIC set up again by hand): what it has now is what to give back, not the record.
	 */
	if (u->saved && !(o->br && nic.master == o->br) && has_own_addrs(o)) {
		vnet_uplink_saved_free(u->saved);
		u->saved = NULL;
	}
	if (!u->saved)
		u->saved = TAKE_PTR(o->save);
	u->taken = o->br && nic.master == o->br && u->saved && all_moved(o, u->saved);
	detect_manager(u, nic.ifindex);
	return 0;
}

int vnet_uplink_observe(struct vnet_nl *nl, struct vnet_uplink *u)
{
	return observe_uplink(nl, u, false);
}

int vnet_uplink_reclaim(struct vnet_nl *nl, struct vnet_uplink *u)
{
	vnet_uplink_saved_free(u->saved);
	u->saved = NULL;
	return observe_uplink(nl, u, true);
}

static int observe_uplink(struct vnet_nl *nl, struct vnet_uplink *u, bool reclaim)
{
	struct observer o = { .reclaim = reclaim };
	int r;

	u->exists = u->taken = false;
	u->master[0] = u->manager[0] = '\0';
	r = observe_state(nl, u, &o);
	vnet_uplink_saved_free(o.save);
	free(o.nic_addrs.v);
	free(o.br_addrs.v);
	free(o.br_routes.v);
	return r;
}

/* ---- other managers of the NIC ---- */

/* The value of "KEY=value" in a file of such lines, or "" when not there. */
static void file_value(const char *path, const char *key, char *ret, size_t len)
{
	char line[256];
	size_t kl = strlen(key);
	FILE *f = fopen(path, "re");

	ret[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(ret, len, "%s", line + kl + 1);
			break;
		}
	fclose(f);
}

/* Is @ns the machine's first namespace, the only one NetworkManager and networkd manage? */
static bool initial_ns(const char *ns)
{
	struct stat a, b;
	int fd = vnet_netns_open(ns);
	bool same;

	if (fd < 0)
		return false;
	same = !fstat(fd, &a) && !stat("/proc/1/ns/net", &b) && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
	close(fd);
	return same;
}

/*
 * Detected from what the managers write about each link, by its index: NetworkManager's
 * /run/NetworkManager/devices/IFINDEX ("managed=true" in its [device] group) and
 * systemd-networkd's /run/systemd/netif/links/IFINDEX (an ADMIN_STATE other than
 * "unmanaged" or "linger"). They manage the machine's first namespace only. For tests,
 * VNET_MANAGER_RUN names another directory than /run, and then any namespace is checked.
 */
static void detect_manager(struct vnet_uplink *u, int ifindex)
{
	const char *run = getenv("VNET_MANAGER_RUN");
	char path[512], v[64];

	if (!run && !initial_ns(u->ns))
		return;
	run = run ?: "/run";
	snprintf(path, sizeof(path), "%s/NetworkManager/devices/%d", run, ifindex);
	file_value(path, "managed", v, sizeof(v));
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) {
		snprintf(u->manager, sizeof(u->manager), "NetworkManager");
		return;
	}
	snprintf(path, sizeof(path), "%s/systemd/netif/links/%d", run, ifindex);
	file_value(path, "ADMIN_STATE", v, sizeof(v));
	if (v[0] && strcmp(v, "unmanaged") && strcmp(v, "linger"))
		snprintf(u->manager, sizeof(u->manager), "systemd-networkd");
}

/* ---- the messages of a take-over and of a giving back ---- */

/* The label "eth0:1" of an address of eth0 becomes "br-wan:1" on br-wan, and back; one of
 * another link's stays (the kernel has each start with its link's name). */
static void relabel(const char *label, const char *from, const char *to, char *buf, size_t len)
{
	size_t fl = strlen(from);

	if (!strncmp(label, from, fl) && (label[fl] == ':' || !label[fl]) &&
	    strlen(to) + strlen(label + fl) < VNET_IFNAMSIZ)
		snprintf(buf, len, "%s%s", to, label + fl);
	else if (!strncmp(label, from, fl) && (label[fl] == ':' || !label[fl]))
		snprintf(buf, len, "%s", to); /* too long for the new name: the name alone */
	else
		snprintf(buf, len, "%s", label);
}

/* Copy the attributes of @src the kernel takes in a request, but for @skip. */
static void copy_attrs(struct nlmsghdr *dst, const struct nlmsghdr *src, size_t hdr,
		       const uint16_t *keep, size_t n_keep)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, src, hdr)
		for (size_t i = 0; i < n_keep; i++)
			if (mnl_attr_get_type(a) == keep[i])
				mnl_attr_put(dst, keep[i], mnl_attr_get_payload_len(a),
					     mnl_attr_get_payload(a));
}

/* A saved address on @ifindex (RTM_NEWADDR, made or updated), or off it (RTM_DELADDR). */
static int msg_addr(struct vnet_batch *b, const struct nlmsghdr *src, uint16_t type, int ifindex,
		    const char *label, bool nodad)
{
	static const uint16_t keep[] = { IFA_ADDRESS,	IFA_LOCAL,	 IFA_BROADCAST,
					 IFA_CACHEINFO, IFA_RT_PRIORITY, IFA_PROTO };
	const struct ifaddrmsg *s = mnl_nlmsg_get_payload(src);
	uint32_t flags = attr_u32(src, sizeof(*s), IFA_FLAGS, s->ifa_flags);
	struct nlmsghdr *nlh =
		vnet_batch_msg(b, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct ifaddrmsg *ifa;

	if (!nlh)
		return -ENOMEM;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	*ifa = *s;
	ifa->ifa_index = (uint32_t)ifindex;
	if (type == RTM_DELADDR) {
		copy_attrs(nlh, src, sizeof(*s), keep, 2);
		return 0;
	}
	/* an address that is moved was unique on this LAN a moment ago: no second of DAD */
	if (nodad && s->ifa_family == AF_INET6)
		flags |= IFA_F_NODAD;
	ifa->ifa_flags = (uint8_t)flags;
	copy_attrs(nlh, src, sizeof(*s), keep, sizeof(keep) / sizeof(keep[0]));
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	if (s->ifa_family == AF_INET)
		mnl_attr_put_strz(nlh, IFA_LABEL, label);
	return 0;
}

/* A saved route through @oif, made or put in place of the one of the same key. */
static int msg_route(struct vnet_batch *b, const struct nlmsghdr *src, int oif)
{
	static const uint16_t keep[] = { RTA_DST,     RTA_SRC,	   RTA_GATEWAY,	   RTA_PRIORITY,
					 RTA_PREFSRC, RTA_METRICS, RTA_TABLE,	   RTA_PREF,
					 RTA_FLOW,    RTA_VIA,	   RTA_ENCAP_TYPE, RTA_ENCAP,
					 RTA_EXPIRES };
	const struct rtmsg *s = mnl_nlmsg_get_payload(src);
	struct nlmsghdr *nlh = vnet_batch_msg(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	const struct rta_cacheinfo *info;
	const struct nlattr *ci;
	struct rtmsg *rtm;

	if (!nlh)
		return -ENOMEM;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	*rtm = *s;
	rtm->rtm_flags &= RTNH_F_ONLINK; /* the rest are the kernel's to set */
	copy_attrs(nlh, src, sizeof(*s), keep, sizeof(keep) / sizeof(keep[0]));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	/* a dump gives a route's lifetime (an RA's) in its cache info, in clock ticks; a
	 * request takes it in seconds (IPv6 only) */
	ci = attr_of(src, sizeof(*s), RTA_CACHEINFO);
	if (s->rtm_family == AF_INET6 && ci && mnl_attr_get_payload_len(ci) >= sizeof(*info)) {
		info = mnl_attr_get_payload(ci);
		if (info->rta_expires)
			mnl_attr_put_u32(nlh, RTA_EXPIRES, info->rta_expires / 100 ?: 1);
	}
	return 0;
}

static int msg_link(struct vnet_batch *b, int ifindex, int master, uint32_t mtu)
{
	struct nlmsghdr *nlh = vnet_batch_msg(b, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi;

	if (!nlh)
		return -ENOMEM;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	if (master >= 0) /* < 0: not the bridge's port (any more): its master is not ours */
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return 0;
}

/*
 * The saved addresses in the order that makes the kernel list them as before: IPv4 in
 * the dump's order (primaries, then secondaries, each appended), IPv6 in reverse (the
 * kernel puts a new one first among those of its scope). @rev walks the other way.
 */
static int addrs_in_order(const struct vnet_uplink_saved *s, bool rev, const struct nlmsghdr ***ret,
			  size_t *ret_n)
{
	const struct nlmsghdr *nlh, **v = NULL;
	size_t n = 0, cap = 0, v4 = 0;
	int left;

	for (nlh = msg_first(s, &left); nlh; nlh = msg_next(nlh, &left)) {
		if (!moved_addr(nlh))
			continue;
		if (vnet_grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0) {
			free(v);
			return -ENOMEM;
		}
		if (((const struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_family == AF_INET) {
			memmove(v + v4 + 1, v + v4, (n - v4) * sizeof(*v));
			v[v4++] = nlh;
		} else {
			v[n] = nlh;
		}
		n++;
	}
	/* IPv6 ones reversed: v[v4..n) */
	for (size_t i = v4, j = n; i + 1 < j; i++, j--) {
		const struct nlmsghdr *t = v[i];

		v[i] = v[j - 1];
		v[j - 1] = t;
	}
	for (size_t i = 0, j = n; rev && i + 1 < j; i++, j--) {
		const struct nlmsghdr *t = v[i];

		v[i] = v[j - 1];
		v[j - 1] = t;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Where things go: from the NIC to the bridge when taking it, back when giving. */
/*
 * Where things go, in two batches: first everything but the removal of what is left
 * behind (checked: when one message fails, the NIC still has all it had), then that.
 * @leave: giving back: the NIC is the bridge's port, and leaves it (else its master stays)
 */
struct move {
	const struct vnet_uplink_change *c;
	int nic, br;
	bool give, leave;
	int phase; /* 1, 2; 0: both (the fuzzer) */
};

/* The saved addresses onto @to, labelled for it. */
static int put_addrs(struct vnet_batch *b, const struct move *mv, const struct nlmsghdr **addrs,
		     size_t n, int to)
{
	const char *nic = mv->c->u.nic, *br = mv->c->u.bridge;
	char label[VNET_IFNAMSIZ + 16];
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct nlattr *a = attr_of(addrs[i], sizeof(struct ifaddrmsg), IFA_LABEL);
		char was[VNET_IFNAMSIZ];

		/* bounded by the attribute: a store's bytes need not end in a NUL */
		if (a)
			snprintf(was, sizeof(was), "%.*s", (int)mnl_attr_get_payload_len(a),
				 (const char *)mnl_attr_get_payload(a));
		else
			snprintf(was, sizeof(was), "%s", nic);

		/* a store recovered from the bridge (vnet recover) saved the bridge's labels */
		if (mv->give)
			relabel(was, br, nic, label, sizeof(label));
		else
			relabel(was, nic, br, label, sizeof(label));
		r = msg_addr(b, addrs[i], RTM_NEWADDR, to, label, !mv->give);
	}
	return r;
}

/* Routes without a gateway first: a gateway may be reachable only through one of them
 * (a /32 address and a host route to its gateway, as in many clouds). */
static int put_routes(struct vnet_batch *b, const struct vnet_uplink_saved *s, int to)
{
	const struct nlmsghdr *nlh;
	int left, r = 0;

	for (int via = 0; via <= 1; via++)
		for (nlh = msg_first(s, &left); r >= 0 && nlh; nlh = msg_next(nlh, &left))
			if (nlh->nlmsg_type == RTM_NEWROUTE &&
			    !!attr_of(nlh, sizeof(struct rtmsg), RTA_GATEWAY) == via)
				r = msg_route(b, nlh, to);
	return r;
}

/*
 * Taking: the addresses are put on the bridge too (an address may be on two links at
 * once; the NIC still answers), the NIC joins the bridge (now the bridge answers), each
 * route is put in place of its twin on the NIC (NLM_F_REPLACE: it never goes missing; the
 * bridge's own address makes the gateway reachable), and last the addresses leave the
 * NIC, secondaries first. Giving back is the mirror: addresses and routes back on the NIC
 * while it is still a port (a port sends as itself), then it leaves the bridge, then the
 * bridge's copies go. One batch each way: no moment without an address and a route.
 */
static int build(struct vnet_batch *b, const struct move *mv);

int vnet_uplink_messages(struct vnet_batch *b, const struct vnet_uplink_change *c, int nic, int br,
			 bool give)
{
	struct move mv = { .c = c, .nic = nic, .br = br, .give = give, .leave = true };

	return build(b, &mv);
}

static int build(struct vnet_batch *b, const struct move *mv)
{
	const struct vnet_uplink_saved *s = &mv->c->saved;
	int to = mv->give ? mv->nic : mv->br, from = mv->give ? mv->br : mv->nic;
	const struct nlmsghdr **addrs = NULL;
	size_t n = 0;
	int r = addrs_in_order(s, false, &addrs, &n);

	if (mv->phase != 2) {
		r = r ?: put_addrs(b, mv, addrs, n, to);
		if (!mv->give) {
			r = r ?: msg_link(b, mv->nic, mv->br, 0);
			r = r ?: put_routes(b, s, to);
		} else {
			r = r ?: put_routes(b, s, to);
			r = r ?: msg_link(b, mv->nic, mv->leave ? 0 : -1, s->mtu);
		}
	}
	for (size_t i = n; mv->phase != 1 && r >= 0 && from > 0 && i-- > 0;)
		r = msg_addr(b, addrs[i], RTM_DELADDR, from, "",
			     false); /* the bridge may be gone */
	free(addrs);
	return r;
}

/* A failure that running the change again makes right: what is to go is gone already. */
static bool gone(const struct nlmsghdr *nlh, int err)
{
	return nlh->nlmsg_type == RTM_DELADDR && (err == -EADDRNOTAVAIL || err == -ENOENT);
}

static int run_batch(struct vnet_nl *nl, const struct move *mv, struct vnet_error *reterr)
{
	struct vnet_batch b;
	struct vnet_nl_result *res = NULL;
	const char *obj = mv->c->u.nic;
	int r;

	vnet_batch_init(&b);
	r = build(&b, mv);
	if (r >= 0)
		res = calloc(b.n ? b.n : 1, sizeof(*res));
	if (r >= 0 && !res)
		r = -ENOMEM;
	if (r >= 0)
		r = vnet_nl_send(nl, &b, res);
	vnet_crash_point();
	for (size_t i = 0, off = 0; r >= 0 && i < b.n; i++) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b.buf + off);

		off += MNL_ALIGN(nlh->nlmsg_len);
		if (!res[i].err || gone(nlh, res[i].err))
			continue;
		r = vnet_error_set(reterr, res[i].err, obj, mv->give ? "give back" : "take over",
				   "%s%s%s", strerror(-res[i].err), res[i].extack[0] ? ": " : "",
				   res[i].extack);
	}
	if (r < 0 && !reterr->msg[0])
		vnet_error_set(reterr, r, obj, mv->give ? "give back" : "take over", "%s",
			       strerror(-r));
	free(res);
	vnet_batch_free(&b);
	return r;
}

/* ---- what the probe asks ---- */

bool vnet_uplink_gateway(const struct vnet_uplink_saved *s, uint8_t gw[4])
{
	const struct nlmsghdr *nlh;
	bool found = false;
	int left;

	for (nlh = msg_first(s, &left); nlh; nlh = msg_next(nlh, &left)) {
		const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
		const struct nlattr *a;

		if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET)
			continue;
		a = attr_of(nlh, sizeof(*rtm), RTA_GATEWAY);
		if (!a || mnl_attr_get_payload_len(a) != 4 || (found && rtm->rtm_dst_len))
			continue;
		memcpy(gw, mnl_attr_get_payload(a), 4);
		found = true;
		if (!rtm->rtm_dst_len && route_key(nlh).table == RT_TABLE_MAIN)
			return true;
	}
	return found;
}

/* ---- taking and giving ---- */

/* The NIC now: by its name, else by the index it had, if that link still wears its MAC
 * (renamed while it was taken); Return: 0, -ENODEV or -errno. */
static int find_nic(struct vnet_nl *nl, const struct vnet_uplink_change *c, struct link_info *li)
{
	int r = link_get(nl, c->u.nic, 0, li);

	if (r != -ENODEV || c->saved.ifindex <= 0)
		return r;
	r = link_get(nl, NULL, c->saved.ifindex, li);
	return r < 0 ? r : memcmp(li->mac, c->saved.mac, 6) ? -ENODEV : 0;
}

/* Both batches of a giving back; the second's failures are what is gone already. */
static int give_back(struct vnet_nl *nl, struct move *mv, struct vnet_error *reterr)
{
	int r;

	mv->give = true;
	mv->phase = 1;
	r = run_batch(nl, mv, reterr);
	mv->phase = 2;
	return r < 0 ? r : run_batch(nl, mv, reterr);
}

/* Take the NIC over, and probe; Return: 0, or the first failure (the NIC still has all). */
static int take(struct vnet_nl *nl, struct move *mv, struct vnet_result *res,
		struct vnet_error *reterr)
{
	int r;

	mv->phase = 1;
	r = run_batch(nl, mv, reterr);
	mv->phase = 2;
	r = r < 0 ? r : run_batch(nl, mv, reterr);
	return r < 0 ? r : vnet_uplink_probe(nl, mv->c, mv->br, res, reterr);
}

int vnet_uplink_apply(struct vnet_nl *nl, const struct vnet_uplink_change *c, bool give,
		      struct vnet_result *res, struct vnet_error *reterr)
{
	struct move mv = { .c = c, .give = give };
	struct link_info nic, br;
	struct vnet_error e = { 0 };
	size_t at;
	long t0;
	int r = find_nic(nl, c, &nic);

	if (r == -ENODEV && give) {
		vnet_result_note(res, "%s is gone: nothing to give back to it", c->u.nic);
		return 0;
	}
	if (r < 0)
		return vnet_error_set(reterr, r, c->u.nic, give ? "give back" : "take over", "%s",
				      strerror(-r));
	mv.nic = nic.ifindex;
	r = link_get(nl, c->u.bridge, 0, &br);
	mv.br = r < 0 ? 0 : br.ifindex; /* gone: the NIC left it, and the copies went with it */
	if (!mv.br && !give)
		return vnet_error_set(reterr, r, c->u.bridge, "take over", "%s", strerror(-r));
	mv.leave = mv.br && nic.master == mv.br;
	if (give)
		return give_back(nl, &mv, reterr);
	r = take(nl, &mv, res, reterr);
	if (r >= 0)
		return 0;
	/* a message refused, or the probe failed: the NIC goes back at once, before anything
	 * else is undone (its join may have failed: leaving a bridge it is not in is nothing) */
	t0 = vnet_now_us();
	mv.leave = true;
	at = strlen(reterr->msg);
	if (give_back(nl, &mv, &e) < 0) {
		char what[VNET_MSGSIZ];

		vnet_error_format(&e, what, sizeof(what));
		snprintf(reterr->msg + at, sizeof(reterr->msg) - at,
			 "; giving %s back failed too: %s", c->u.nic, what);
	} else {
		snprintf(reterr->msg + at, sizeof(reterr->msg) - at,
			 "; %s was given back as it was", c->u.nic);
	}
	if (res)
		res->restore_us = vnet_now_us() - t0;
	return r;
}

/* ---- the plan's side ---- */

void vnet_uplink_counts(const struct vnet_uplink_saved *s, unsigned *addrs, unsigned *routes)
{
	const struct nlmsghdr *nlh;
	int left;

	*addrs = *routes = 0;
	for (nlh = msg_first(s, &left); nlh; nlh = msg_next(nlh, &left)) {
		if (nlh->nlmsg_type == RTM_NEWROUTE)
			(*routes)++;
		else if (moved_addr(nlh))
			(*addrs)++;
	}
}

/* A copy of @s into @d, whose messages are its own. */
static int saved_copy(const struct vnet_uplink_saved *s, struct vnet_uplink_saved *d)
{
	*d = *s;
	d->msgs = malloc(s->len + 1);
	if (!d->msgs)
		return -ENOMEM;
	memcpy(d->msgs, s->msgs, s->len);
	return 0;
}

int vnet_uplink_saved_dup(const struct vnet_uplink_saved *s, struct vnet_uplink_saved **ret)
{
	struct vnet_uplink_saved *d = malloc(sizeof(*d));

	if (!d || saved_copy(s, d) < 0) {
		free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

struct vnet_uplink_change *vnet_uplink_plan_change(const struct vnet_uplink *want,
						   const struct vnet_uplink *have)
{
	struct vnet_uplink_change *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->u = *want;
	c->u.saved = NULL;
	if (have->saved && saved_copy(have->saved, &c->saved) < 0) {
		free(c);
		return NULL;
	}
	return c;
}
