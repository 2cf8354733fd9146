/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check.h - public API of the probe engine: expectations of connectivity, probed all at once */
#ifndef VNET_CHECK_H
#define VNET_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/vnet.h"

/**
 * struct vnet_probe - one probe: an ICMP echo or a TCP connect from a node to an address
 * @from: the node that probes
 * @ns: its namespace ("" is the namespace vnet runs in)
 * @to: the node that has the target address, or "" when no node of the model has it
 * @family: AF_INET or AF_INET6
 * @addr: the target address
 * @tcp_port: 0 for an ICMP echo, else a TCP connect to this port
 * @expect: true: the probe must get an answer; false: it must not
 * @check: index in the model's checks of the check it comes from; -1 for the default matrix
 * @reached: result: the echo was answered, or the connection accepted
 * @held: result: @reached is what @expect asks for
 * @rtt_us: result: round-trip time of the answer in microseconds, when @reached
 * @error: result: why there was no answer ("no reply in 2.0 s", "Connection refused"), or ""
 */
struct vnet_probe {
	char from[VNET_NAMSIZ];
	char ns[VNET_NAMSIZ];
	char to[VNET_NAMSIZ];
	int family;
	uint8_t addr[16];
	uint16_t tcp_port;
	bool expect;
	long check;
	bool reached, held;
	long rtt_us;
	char error[128];
};

/* A list of probes, as vnet_check_plan() makes it and vnet_check_run() fills it in. */
struct vnet_probes {
	struct vnet_probe *v;
	size_t n, cap;
};

/* vnet_probes_clear() - free the probes of @p and empty it. */
void vnet_probes_clear(struct vnet_probes *p);

/**
 * vnet_check_plan() - the probes that test a model's expectations
 * @m: a validated desired model
 * @ret: the probes, appended; clear with vnet_probes_clear()
 *
 * With checks declared: for each, one probe per target address: the address itself, or
 * every address of the target node in a subnet the source node has (every address of the
 * target when they share none: the path is routed). With none: the default matrix: every
 * ordered pair of nodes (the host too, when it has addresses) that have an address each in
 * one subnet (the source's prefix), one ICMP echo from the first to that address of the
 * second, which must be answered. A pure function of @m.
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_check_plan(const struct vnet_model *m, struct vnet_probes *ret);

/* How probes run; zero fields take the defaults. */
struct vnet_check_opts {
	long timeout_ms; /* per probe; default 2000 */
	unsigned tries; /* ICMP echoes sent per probe, spread over the first half; default 3 */
};

/**
 * vnet_check_run() - run every probe at once and fill in its result
 * @p: the probes
 * @opts: timeouts, or NULL for the defaults
 * @reterr: what kept the run from starting
 *
 * Each probe's socket is opened inside its node's namespace (a raw ICMP or ICMPv6 socket
 * per namespace and family, shared by its echoes; a TCP socket per connect), then all are
 * driven together with poll(): the whole run takes about one timeout, whatever the
 * number of probes. Replies are told apart by ICMP id and sequence and by the peer
 * address. A probe that cannot start (no such namespace, no route) fails with the reason.
 * Needs CAP_SYS_ADMIN (setns) and CAP_NET_RAW.
 *
 * Return: 0 when every probe ran (see each one's @held), or -errno (-ENOMEM).
 */
int vnet_check_run(struct vnet_probes *p, const struct vnet_check_opts *opts,
		   struct vnet_error *reterr);

/* vnet_probes_held() - Return: how many probes of @p held. */
size_t vnet_probes_held(const struct vnet_probes *p);

#endif /* VNET_CHECK_H */
