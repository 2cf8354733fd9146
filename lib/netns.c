// SPDX-License-Identifier: LGPL-2.1-or-later
/* netns.c - named network namespaces under /run/netns, made as `ip netns add` makes them */
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

#include "kernel.h"

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

/* Make a new namespace for this thread and pin it on @path; the thread goes back after. */
static int netns_create_on(const char *path)
{
	int saved = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	int r = 0, q;

	if (saved < 0)
		return -errno;
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		close(saved);
		return r;
	}
	if (mount(THREAD_NETNS, path, "none", MS_BIND, NULL) < 0)
		r = -errno;
	q = vnet_netns_leave(saved);
	close(saved); /* its own, not the thread's kept one: it may run before any enter */
	if (q < 0 && r == 0) {
		umount2(path, MNT_DETACH);
		r = q;
	}
	return r;
}

/**
 * vnet_netns_add() - create a named namespace, as `ip netns add` does
 * @name: the name; fails with -EEXIST when taken (never adopts a foreign one)
 *
 * The loopback device of the new namespace is left down; callers bring it up.
 * Only the calling thread changes namespace, and only for the time it takes.
 *
 * Return: 0 or -errno.
 */
int vnet_netns_add(const char *name)
{
	char path[PATH_MAX];
	int fd, r;

	r = netns_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	r = netns_prepare_dir();
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	r = netns_create_on(path);
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
	/* EINVAL: not a mount point, a file left by a crash between open and mount */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
		return -errno;
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
