// SPDX-License-Identifier: LGPL-2.1-or-later
/* tuntap.c - persistent tun and tap devices, made with the /dev/net/tun ioctls */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>

#include "kernel.h"

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
	const struct vnet_tuntap_opts *o = &l->tt;
	struct ifreq ifr;
	int r;

	memset(&ifr, 0, sizeof(ifr));
	/* IFF_TUN_EXCL: EBUSY instead of attaching to a device of that name that exists. */
	ifr.ifr_flags = (l->kind == VNET_KIND_TAP ? IFF_TAP : IFF_TUN) | IFF_NO_PI | IFF_TUN_EXCL;
	if ((o->has & VNET_TT_HAS_MULTI_QUEUE) && o->multi_queue)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if ((o->has & VNET_TT_HAS_VNET_HDR) && o->vnet_hdr)
		ifr.ifr_flags |= IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", l->name);
	r = tun_ioctl(fd, TUNSETIFF, (unsigned long)&ifr, "create", ret_op);
	if (r == 0 && (o->has & VNET_TT_HAS_OWNER))
		r = tun_ioctl(fd, TUNSETOWNER, o->owner, "set owner", ret_op);
	if (r == 0 && (o->has & VNET_TT_HAS_GROUP))
		r = tun_ioctl(fd, TUNSETGROUP, o->group, "set group", ret_op);
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

/**
 * vnet_tuntap_create() - create a persistent tun or tap device in its namespace
 * @l: kind VNET_KIND_TUN or VNET_KIND_TAP, with its options and tag; @l->ns says where
 * @nl: a socket in @l->ns, to tag the device before it is made persistent
 * @reterr: filled on failure, with object "tun NAME" or "tap NAME"
 *
 * The kernel has no RTM_NEWLINK for tun devices (tun's newlink refuses), so
 * this uses the ioctls; mtu, mac and up are left to RTM_SETLINK.
 *
 * Return: 0 or -errno.
 */
int vnet_tuntap_create(const struct vnet_link *l, struct vnet_nl *nl, struct vnet_error *reterr)
{
	const char *op = "create";
	char obj[8 + VNET_IFNAMSIZ];
	int fd, r;

	snprintf(obj, sizeof(obj), "%s %s", l->kind == VNET_KIND_TAP ? "tap" : "tun", l->name);
	if (l->kind != VNET_KIND_TAP && l->kind != VNET_KIND_TUN)
		return vnet_error_set(reterr, -EINVAL, obj, op, "not a tun or tap device");
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
