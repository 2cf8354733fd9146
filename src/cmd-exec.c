// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-exec.c - vnet exec: run a command in a node's network namespace, found by node name */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define EXIT_NOT_FOUND 127 /* as a shell says of a command it cannot find */
#define EXIT_CANNOT_RUN 126 /* found, but not executable */

/* The namespace of [TOPOLOGY/]NODE, from the state store. */
static int lookup(const struct cli *cli, const char *spec, char *ns, size_t len)
{
	struct vnet_session *s = NULL;
	struct vnet_error e = { 0 };
	int r, code = cli_session(cli, false, &s);

	if (code)
		return code;
	r = vnet_node_lookup(s, spec, ns, len, &e);
	/* no such node, or one name for several: the operand is wrong (2), as vnet(8) says;
	 * 126 and 127 stay the command's, as with env(1) and ip netns exec */
	if (r == -ENOENT || r == -EINVAL)
		code = cli_error_as(&e, EXIT_USAGE);
	else if (r < 0)
		code = cli_error(&e);
	vnet_session_close(s); /* before exec: the store's files are not the command's */
	return code;
}

/*
 * Only the network namespace changes, as with `nsenter --net`. `ip netns exec` also
 * unshares the mount namespace to remount /sys (and bind /etc/netns/NAME files); the
 * commands one runs in a node (ip, ping, ss, nc, a server) use netlink and sockets, which
 * follow the network namespace alone, so vnet leaves mounts as they are: /sys/class/net
 * still shows the namespace vnet was started in.
 *
 * A node's namespace is a named one, /run/netns/NAME, as iproute2 names them: the command
 * opens it like any program would (the library's own helpers are internal), and needs no
 * way back, since the command replaces vnet.
 */
bool cli_ns_path(const char *ns, char *buf, size_t len)
{
	int n = ns[0] ? snprintf(buf, len, "/run/netns/%s", ns) :
			snprintf(buf, len, "/proc/self/ns/net");

	return !strchr(ns, '/') && n >= 0 && (size_t)n < len;
}

int cli_enter_ns(const char *ns)
{
	char path[sizeof("/run/netns/") + VNET_NAMSIZ];
	int fd, r = 0;

	if (!ns[0])
		return 0; /* the host part outside the sandbox: vnet's own namespace */
	if (!cli_ns_path(ns, path, sizeof(path)))
		return cli_errorf(EXIT_FAILED, "cannot open namespace %s: %s", ns,
				  strerror(EINVAL));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_errorf(EXIT_FAILED, "cannot open namespace %s: %s", ns, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return cli_errorf(cli_exit_code(r), "cannot enter namespace %s: %s", ns,
				  strerror(-r));
	return 0;
}

int cmd_exec(struct cli *cli)
{
	char ns[VNET_NAMSIZ];
	int code;

	/* the option parser took the "--": what is left is NODE CMD [ARGS...] */
	code = cli_need_root();
	if (!code)
		code = lookup(cli, cli->argv[0], ns, sizeof(ns));
	if (!code)
		code = cli_enter_ns(ns);
	if (code)
		return code;
	fflush(NULL);
	/* the user's own command, in the node's namespace: the one program vnet starts (the
	 * kernel it changes through netlink, ioctls and libnftables, never through a tool) */
	execvp(cli->argv[1], cli->argv + 1);
	code = errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
	return cli_errorf(code, "%s: %s", cli->argv[1], strerror(errno));
}
