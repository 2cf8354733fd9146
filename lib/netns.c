// SPDX-License-Identifier: LGPL-2.1-or-later
/* netns.c - named network namespaces under /run/netns, tagged before they are named */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "apply.h"

#define NETNS_RUN_DIR "/run/netns"
#define THREAD_NETNS "/proc/thread-self/ns/net"

/* Set once /run/netns is known to be a shared mount point, to skip the work next time. */
static int run_dir_ready;

static int netns_path(const char *name, char *buf, size_t len)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * /run/netns must be a shared mount so that the namespace mounts made in it
 * reach other mount namespaces (`ip netns exec` runs in one of its own). The
 * first mount() fails with EINVAL when it is not a mount point yet; iproute2
 * then bind-mounts the directory onto itself, and so do we.
 */
static int netns_prepare_dir(void)
{
	if (__atomic_load_n(&run_dir_ready, __ATOMIC_RELAXED))
		return 0;
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL)
			return -errno;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
			return -errno;
	}
	__atomic_store_n(&run_dir_ready, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Bring lo up and tag it, through a socket made in the thread's new namespace. */
static int netns_tag_lo(const char *tag, struct vnet_nl **ret_nl)
{
	struct vnet_link lo = { .name = "lo", .up = true };
	struct vnet_nl *nl = NULL;
	int r = vnet_nl_open_current(&nl);

	if (r >= 0)
		r = vnet_link_set_now(nl, &lo, VNET_SET_UP | VNET_SET_ALIAS, tag);
	if (r < 0 || !ret_nl)
		vnet_nl_close(nl);
	else
		*ret_nl = nl;
	return r;
}

/*
 * Make a new namespace for this thread, tag it, and only then pin it on @path; the
 * thread goes back after. Until the mount, the namespace lives only as long as this
 * thread: a crash before it leaves no namespace, and none is ever visible untagged.
 */
static int netns_create_on(const char *path, const char *tag, struct vnet_nl **ret_nl)
{
	/* its own, not the thread's kept one: this may run before any enter */
	_cleanup_close_ int saved = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	_cleanup_(vnet_nl_closep) struct vnet_nl *nl = NULL;
	int r = 0, q;

	if (saved < 0)
		return -errno;
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	r = netns_tag_lo(tag, ret_nl ? &nl : NULL);
	if (r >= 0 && mount(THREAD_NETNS, path, "none", MS_BIND, NULL) < 0)
		r = -errno;
	q = vnet_netns_leave(saved);
	if (q < 0 && r == 0) {
		umount2(path, MNT_DETACH);
		r = q;
	}
	if (r >= 0 && ret_nl)
		*ret_nl = TAKE_PTR(nl);
	return r;
}

/*
 * The file a namespace is mounted on appears whole, holding "@tag\n", or not at all
 * (O_TMPFILE, then linkat): a crash between it and the mount leaves a file that says
 * whose it is, which vnet_netns_debris() can remove without guessing.
 */
static int netns_marker(const char *path, const char *tag)
{
	char proc[64], line[VNET_NAMSIZ + 16];
	int fd = open(NETNS_RUN_DIR, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0);
	int n = snprintf(line, sizeof(line), "%s\n", tag), r = 0;
	bool tmpfile = fd >= 0;

	/* a file system without O_TMPFILE: made in place, with a window for an empty file */
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n)
		r = errno ? -errno : -EIO;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (r == 0 && tmpfile && linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
		r = -errno;
	if (r < 0 && !tmpfile)
		unlink(path);
	close(fd);
	return r;
}

int vnet_netns_debris(const char *name, const char *tag)
{
	char path[PATH_MAX], buf[VNET_NAMSIZ + 16], want[VNET_NAMSIZ + 16];
	struct statfs sf;
	ssize_t n;
	int fd, r = netns_path(name, path, sizeof(path));

	if (r < 0)
		return r;
	if (statfs(path, &sf) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (sf.f_type == NSFS_MAGIC)
		return 0; /* a namespace: never debris */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	snprintf(want, sizeof(want), "%s\n", tag);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n))
		return 0; /* not ours: an empty file may be `ip netns add` at work */
	return unlink(path) < 0 ? -errno : 1;
}

/**
 * vnet_netns_add() - create a named namespace, tagged before it has a name
 * @name: the name; fails with -EEXIST when taken (never adopts a foreign one)
 * @tag: the alias the loopback gets, brought up, before the namespace is mounted
 * @ret_nl: a socket in the new namespace, or NULL
 * @ret_debris: set when a file a crash left there, with @tag in it, was removed first
 *
 * Only the calling thread changes namespace, and only for the time it takes.
 *
 * Return: 0 or -errno.
 */
int vnet_netns_add(const char *name, const char *tag, struct vnet_nl **ret_nl, bool *ret_debris)
{
	char path[PATH_MAX];
	int r;

	r = netns_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	r = netns_prepare_dir();
	if (r < 0)
		return r;
	r = netns_marker(path, tag);
	if (r == -EEXIST && vnet_netns_debris(name, tag) == 1) {
		*ret_debris = true;
		r = netns_marker(path, tag);
	}
	if (r < 0)
		return r;
	vnet_crash_point(); /* a marker and no namespace: the next run removes it */
	r = netns_create_on(path, tag, ret_nl);
	if (r < 0)
		unlink(path);
	return r;
}

/**
 * vnet_netns_del() - remove a named namespace
 * @name: the name
 *
 * Detaches the mount, so the namespace goes away once nothing else (a socket,
 * a process) holds it, and removes the file.
 *
 * Return: 0, -ENOENT or -errno.
 */
int vnet_netns_del(const char *name)
{
	char path[PATH_MAX];
	int r = netns_path(name, path, sizeof(path));

	if (r < 0)
		return r;
	/* EINVAL: not a mount point, a marker left by a crash between link and mount */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
		return -errno;
	vnet_crash_point(); /* the namespace gone, its marker left: the next run removes it */
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

/**
 * vnet_netns_open() - a file descriptor of a namespace
 * @name: the name, "" for the namespace vnet runs in
 *
 * Return: an O_CLOEXEC fd, or -errno (-ENOENT when there is no such namespace).
 */
int vnet_netns_open(const char *name)
{
	char path[PATH_MAX];
	int fd, r;

	if (!*name) {
		fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	r = netns_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* vnet_netns_exists() - Return: whether @name is a mounted namespace ("" always is). */
bool vnet_netns_exists(const char *name)
{
	char path[PATH_MAX];
	struct statfs sf;

	if (!*name)
		return true;
	if (netns_path(name, path, sizeof(path)) < 0)
		return false;
	return statfs(path, &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

/*
 * The namespace each thread goes back to: opened at its first vnet_netns_enter()
 * and kept, since reading 1000 namespaces would otherwise open and close it 1000
 * times. Entering does not nest: leaving always returns here.
 */
static __thread int home_fd = -1;

/* vnet_netns_thread_done() - close the calling thread's kept fd; for a thread that ends. */
void vnet_netns_thread_done(void)
{
	if (home_fd >= 0)
		close(home_fd);
	home_fd = -1;
}

/**
 * vnet_netns_enter() - move the calling thread into a namespace
 * @fd: the namespace
 * @ret_saved: an fd of the thread's own namespace, for vnet_netns_leave()
 *
 * Return: 0 or -errno.
 */
int vnet_netns_enter(int fd, int *ret_saved)
{
	if (home_fd < 0) {
		home_fd = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
		if (home_fd < 0)
			return -errno;
	}
	if (setns(fd, CLONE_NEWNET) < 0)
		return -errno;
	*ret_saved = home_fd;
	return 0;
}

/**
 * vnet_netns_leave() - return to the namespace vnet_netns_enter() saved
 * @saved: the fd it gave (the thread's own namespace, kept open)
 *
 * Return: 0 or -errno (the thread is then still in the other namespace).
 */
int vnet_netns_leave(int saved)
{
	return setns(saved, CLONE_NEWNET) < 0 ? -errno : 0;
}

int vnet_netns_run(const char *name, int (*fn)(void *arg), void *arg)
{
	int fd, saved = -1, r, q;

	if (!*name)
		return fn(arg);
	fd = vnet_netns_open(name);
	if (fd < 0)
		return fd;
	r = vnet_netns_enter(fd, &saved);
	close(fd);
	if (r < 0)
		return r == -EINVAL ? -ENOENT : r; /* a plain file, not a namespace */
	r = fn(arg);
	q = vnet_netns_leave(saved);
	return q < 0 ? q : r;
}
