// SPDX-License-Identifier: LGPL-2.1-or-later
/* tuntap.c - the tun and tap kinds: persistent devices, made with the /dev/net/tun ioctls */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <grp.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>

#include "kernel.h"
#include "kind.h"

enum { TT_OWNER, TT_GROUP, TT_MULTI_QUEUE, TT_VNET_HDR };

static int tun_open(void *ret_fd)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	*(int *)ret_fd = fd;
	return fd < 0 ? -errno : 0;
}

/* Open /dev/net/tun from inside @ns: the device is made in the opener's namespace. */
static int tun_open_in(const char *ns)
{
	int fd = -1, r = vnet_netns_run(ns, tun_open, &fd);

	if (r < 0 && fd >= 0)
		close(fd); /* opened, but the thread could not leave the namespace */
	return r < 0 ? r : fd;
}

static int tun_ioctl(int fd, unsigned long req, unsigned long arg, const char *what,
		     const char **ret_op)
{
	if (ioctl(fd, req, arg) == 0)
		return 0;
	*ret_op = what;
	return -errno;
}

/*
 * A tap the file gives no MAC gets a random one that begins with fe (unicast, locally
 * administered), as libvirt gives its taps: a bridge takes the lowest MAC of its ports as
 * its own unless one is set, and one beginning with fe is never the lowest beside a NIC's,
 * so the bridge's address (and its neighbours' ARP entries) does not follow a VM's tap
 * coming and going. Return: whether @t got one.
 */
static bool fe_mac(struct vnet_link *t)
{
	if (t->kind != &vnet_kind_tap || (t->has & VNET_LINK_HAS_MAC) ||
	    getrandom(t->mac + 1, sizeof(t->mac) - 1, 0) != (ssize_t)sizeof(t->mac) - 1)
		return false;
	t->mac[0] = 0xfe;
	return true;
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
	/* tagged while only the open file keeps the device alive; a tap gets its MAC then */
	if (r == 0) {
		struct vnet_link t = *l;
		unsigned set = VNET_SET_ALIAS | (fe_mac(&t) ? VNET_SET_MAC : 0);

		r = vnet_link_set_now(nl, &t, set, l->alias);
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

int vnet_tap_qemu(const struct vnet_link *l, char *buf, size_t len)
{
	const struct vnet_opts *o = &l->opts;
	bool mq = vnet_opts_has(o, TT_MULTI_QUEUE) && o->v[TT_MULTI_QUEUE];
	bool hdr = vnet_opts_has(o, TT_VNET_HDR) && o->v[TT_VNET_HDR];

	if (l->kind != &vnet_kind_tap)
		return -EINVAL;
	/*
	 * What QEMU must ask for to open the device: the same IFF_VNET_HDR and IFF_MULTI_QUEUE
	 * it was made with (else TUNSETIFF says EINVAL), and for a multi-queue tap at least 2
	 * queues (QEMU opens one file per queue, multi-queue only from 2 up).
	 */
	snprintf(buf, len, "-netdev tap,id=%s,ifname=%s,script=no,downscript=no,vnet_hdr=%s%s",
		 l->name, l->name, hdr ? "on" : "off", mq ? ",queues=2" : "");
	return 0;
}

/* ---- vnet check: can QEMU open the tap? ---- */

/* TUNSETIFF on @name as QEMU does (no IFF_TUN_EXCL: it attaches to the device there). */
static int qemu_attach(int fd, const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

/*
 * As the tap's owner and group when it has them (QEMU run by that user), else as vnet.
 * The file is opened in the tap's namespace first (entering one takes privileges QEMU's
 * user has not; QEMU, too, runs where its tap is), then a child drops to that user and
 * attaches, so that vnet keeps its own credentials. Return: 0 or -errno of TUNSETIFF.
 */
static int qemu_open_as(const struct vnet_link *l, short flags)
{
	const struct vnet_opts *o = &l->opts;
	bool owner = vnet_opts_has(o, TT_OWNER), group = vnet_opts_has(o, TT_GROUP);
	int fd = tun_open_in(l->ns), status = 0, r;
	pid_t pid;

	if (fd < 0 || (!owner && !group)) {
		r = fd < 0 ? fd : qemu_attach(fd, l->name, flags);
		if (fd >= 0)
			close(fd);
		return r;
	}
	pid = fork();
	if (pid == 0) {
		if ((group && setgid(o->v[TT_GROUP]) < 0) || setgroups(0, NULL) < 0 ||
		    (owner && setuid(o->v[TT_OWNER]) < 0))
			_exit(200);
		_exit(-qemu_attach(fd, l->name, flags) & 0xff);
	}
	close(fd);
	if (pid < 0)
		return -errno;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 200)
		return -ECHILD;
	return -WEXITSTATUS(status);
}

/* The device's vnet_hdr as the kernel has it: 0, 1, or -errno (-ENODEV: no such tap). */
static int vnet_hdr_now(const struct vnet_link *l)
{
	struct vnet_nlset nls = { 0 };
	struct vnet_model *m = NULL;
	const char *ns = l->ns;
	const struct vnet_link *k;
	int r = vnet_observe(&nls, "", &ns, 1, &m);

	k = r >= 0 ? vnet_model_find_link(m, l->ns, l->name) : NULL;
	if (r >= 0)
		r = k && k->kind == &vnet_kind_tap ?
			    vnet_opts_has(&k->opts, TT_VNET_HDR) && k->opts.v[TT_VNET_HDR] :
			    -ENODEV;
	vnet_model_free(m);
	vnet_nlset_free(&nls);
	return r;
}

int vnet_tap_check(const struct vnet_link *l, struct vnet_error *reterr)
{
	const struct vnet_opts *o = &l->opts;
	bool mq = vnet_opts_has(o, TT_MULTI_QUEUE) && o->v[TT_MULTI_QUEUE];
	bool hdr = vnet_opts_has(o, TT_VNET_HDR) && o->v[TT_VNET_HDR];
	char obj[8 + VNET_IFNAMSIZ];
	int now, r;

	if (l->kind != &vnet_kind_tap)
		return 1;
	snprintf(obj, sizeof(obj), "tap %s", l->name);
	now = vnet_hdr_now(l);
	if (now == -ENODEV || now == -ENOENT)
		return vnet_error_set(reterr, -ENODEV, obj, "open as QEMU",
				      "there is no such tap: is the topology up?");
	if (now < 0)
		return vnet_error_set(reterr, now, obj, "read", "%s", strerror(-now));
	/* Opening with another vnet_hdr would change the device's flag (the kernel takes the
	 * opener's): a check must change nothing, so that mismatch is said, not tried. */
	if (now != hdr)
		return vnet_error_set(reterr, -EINVAL, obj, "open as QEMU",
				      "it was made with vnet_hdr %s, the file says %s: QEMU told "
				      "vnet_hdr=%s would take it over with other offloads; vnet up "
				      "makes it anew as the file says",
				      now ? "on" : "off", hdr ? "on" : "off", hdr ? "on" : "off");
	r = qemu_open_as(l, (short)(IFF_TAP | IFF_NO_PI | (mq ? IFF_MULTI_QUEUE : 0) |
				    (hdr ? IFF_VNET_HDR : 0)));
	switch (r) {
	case 0:
		return 0;
	case -EINVAL:
		return vnet_error_set(
			reterr, r, obj, "open as QEMU",
			"it was made %s multi_queue, the file says %s: QEMU told %s "
			"cannot open it (EINVAL); vnet up makes it anew as the file says",
			mq ? "without" : "with", mq ? "on" : "off", mq ? "queues=2" : "one queue");
	case -EBUSY:
		return vnet_error_set(reterr, r, obj, "open as QEMU",
				      "a program holds it already (EBUSY): a tap without "
				      "multi_queue takes one opener; stop that program (another "
				      "QEMU?) or turn multi_queue on");
	case -EPERM:
		return vnet_error_set(
			reterr, r, obj, "open as QEMU",
			"its owner or group may not open it (EPERM): QEMU must run as "
			"the tap's owner, in its group, or with CAP_NET_ADMIN");
	case -ENOENT:
		return vnet_error_set(reterr, r, obj, "open as QEMU",
				      "its namespace is not there: is the topology up?");
	default:
		return vnet_error_set(reterr, r, obj, "open as QEMU", "%s", strerror(-r));
	}
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

int vnet_tuntap_need(struct vnet_link *l, const char *key, bool on)
{
	int i = vnet_opt_find(&l->kind->opts, key);

	if (i != TT_VNET_HDR && i != TT_MULTI_QUEUE)
		return -EINVAL;
	if (vnet_opts_has(&l->opts, (size_t)i))
		return l->opts.v[i] == on ? 0 : -EINVAL;
	l->opts.v[i] = on;
	l->opts.has |= 1U << i;
	return 0;
}

const struct vnet_kind vnet_kind_tun = {
	.name = "tun",
	.section = "tuns",
	.flags = VNET_KIND_F_SHOW | VNET_KIND_F_TUNNEL,
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
	.flags = VNET_KIND_F_L2 | VNET_KIND_F_PORT | VNET_KIND_F_SHOW | VNET_KIND_F_TUNNEL,
	.opts = VNET_OPTSET(tuntap_opts, IFLA_TUN_MAX),
	.create = tuntap_create,
	.read = tuntap_read,
};
