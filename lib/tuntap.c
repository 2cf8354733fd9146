// SPDX-License-Identifier: LGPL-2.1-or-later
/* tuntap.c - the tun and tap kinds: persistent devices, made with the /dev/net/tun ioctls */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>

#include "kernel.h"
#include "kind.h"

enum { TT_OWNER, TT_GROUP, TT_MULTI_QUEUE, TT_VNET_HDR };

/* Open /dev/net/tun from inside @ns: the device is made in the opener's namespace. */
static int tun_open_in(const char *ns)
{
	int nsfd, saved, fd, r, q;

	if (!*ns) {
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	nsfd = vnet_netns_open(ns);
	if (nsfd < 0)
		return nsfd;
	r = vnet_netns_enter(nsfd, &saved);
	close(nsfd);
	if (r < 0)
		return r;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	r = fd < 0 ? -errno : fd;
	q = vnet_netns_leave(saved);
	if (q < 0 && fd >= 0) {
		close(fd);
		return q;
	}
	return r;
}

static int tun_ioctl(int fd, unsigned long req, unsigned long arg, const char *what,
		     const char **ret_op)
{
	if (ioctl(fd, req, arg) == 0)
		return 0;
	*ret_op = what;
	return -errno;
}

/* Attach @fd to a new device @l, then give it owner, group, its tag and persistence. */
static int tun_setup(int fd, const struct vnet_link *l, struct vnet_nl *nl, const char **ret_op)
{
	const struct vnet_opts *o = &l->opts;
	struct ifreq ifr;
	int r;

	memset(&ifr, 0, sizeof(ifr));
	/* IFF_TUN_EXCL: EBUSY instead of attaching to a device of that name that exists. */
	ifr.ifr_flags = (l->kind == &vnet_kind_tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | IFF_TUN_EXCL;
	if (vnet_opts_has(o, TT_MULTI_QUEUE) && o->v[TT_MULTI_QUEUE])
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (vnet_opts_has(o, TT_VNET_HDR) && o->v[TT_VNET_HDR])
		ifr.ifr_flags |= IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", l->name);
	r = tun_ioctl(fd, TUNSETIFF, (unsigned long)&ifr, "create", ret_op);
	if (r == 0 && vnet_opts_has(o, TT_OWNER))
		r = tun_ioctl(fd, TUNSETOWNER, o->v[TT_OWNER], "set owner", ret_op);
	if (r == 0 && vnet_opts_has(o, TT_GROUP))
		r = tun_ioctl(fd, TUNSETGROUP, o->v[TT_GROUP], "set group", ret_op);
	/* tagged while only the open file keeps the device alive */
	if (r == 0) {
		r = vnet_link_set_now(nl, l, VNET_SET_ALIAS, l->alias);
		if (r < 0)
			*ret_op = "tag";
	}
	/* Last: until it is persistent, closing the fd removes the device, so failures undo
	 * (and a crash leaves nothing untagged behind). */
	if (r == 0)
		r = tun_ioctl(fd, TUNSETPERSIST, 1, "set persistent", ret_op);
	return r;
}

/*
 * The kernel has no RTM_NEWLINK for tun devices (tun's newlink refuses), so this uses the
 * ioctls; mtu, mac and up are left to RTM_SETLINK. Opens /dev/net/tun inside @l->ns (the
 * device belongs to the namespace of whoever opens the file), refuses to take over an
 * existing device (IFF_TUN_EXCL), sets owner and group, tags it through @nl, and only then
 * makes it persistent and closes: a crash before that point takes the device away with
 * the file, so no untagged device is ever left.
 */
static int tuntap_create(const struct vnet_link *l, struct vnet_nl *nl, struct vnet_error *reterr)
{
	const char *op = "create";
	char obj[8 + VNET_IFNAMSIZ];
	int fd, r;

	snprintf(obj, sizeof(obj), "%s %s", vnet_kind_name(l->kind), l->name);
	fd = tun_open_in(l->ns);
	if (fd < 0)
		return vnet_error_set(reterr, fd, obj, op,
				      "open /dev/net/tun in namespace \"%s\": %s", l->ns,
				      strerror(-fd));
	r = tun_setup(fd, l, nl, &op);
	close(fd);
	if (r == -EBUSY && !strcmp(op, "create"))
		return vnet_error_set(reterr, r, obj, op, "a device of that name exists");
	if (r < 0)
		return vnet_error_set(reterr, r, obj, op, "%s", strerror(-r));
	return 0;
}

/* tun or tap: the kernel calls both "tun" and tells them by IFLA_TUN_TYPE. */
static void tuntap_read(const struct nlattr *const *tb, struct vnet_link *l)
{
	const struct nlattr *t = tb ? tb[IFLA_TUN_TYPE] : NULL;

	if (t && mnl_attr_get_payload_len(t) >= 1 && mnl_attr_get_u8(t) == IFF_TAP)
		l->kind = &vnet_kind_tap;
}

/* The kernel cannot change these on a device: a change makes it anew. Owner and group
 * are reported as -1 when unset. */
#define F (VNET_OPT_F_REPLACE | VNET_OPT_F_NONE_IS_MAX)
static const struct vnet_opt tuntap_opts[] = {
	[TT_OWNER] = { "owner", VNET_OPT_USER, 0, 4294967294U, 0, IFLA_TUN_OWNER, 4, F, NULL },
	[TT_GROUP] = { "group", VNET_OPT_GROUP, 0, 4294967294U, 0, IFLA_TUN_GROUP, 4, F, NULL },
	[TT_MULTI_QUEUE] = { "multi_queue", VNET_OPT_BOOL, 0, 1, 0, IFLA_TUN_MULTI_QUEUE, 1,
			     VNET_OPT_F_REPLACE, NULL },
	[TT_VNET_HDR] = { "vnet_hdr", VNET_OPT_BOOL, 0, 1, 0, IFLA_TUN_VNET_HDR, 1,
			  VNET_OPT_F_REPLACE, NULL },
};
#undef F

const struct vnet_kind vnet_kind_tun = {
	.name = "tun",
	.section = "tuns",
	.flags = VNET_KIND_F_SHOW,
	.not_port = "a tun is layer 3 and cannot be a bridge port",
	.no_mac = "a tun is layer 3 and has no MAC address",
	.opts = VNET_OPTSET(tuntap_opts, IFLA_TUN_MAX),
	.create = tuntap_create,
	.read = tuntap_read,
};

const struct vnet_kind vnet_kind_tap = {
	.name = "tap",
	.info = "tun",
	.section = "taps",
	.flags = VNET_KIND_F_L2 | VNET_KIND_F_PORT | VNET_KIND_F_SHOW,
	.opts = VNET_OPTSET(tuntap_opts, IFLA_TUN_MAX),
	.create = tuntap_create,
	.read = tuntap_read,
};
