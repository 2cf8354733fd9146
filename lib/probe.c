// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * probe.c - after an uplink's take-over: does the gateway still answer, and the file's
 * targets? ICMP echo to each, every 100 ms, until all answered or the budget is spent.
 * An echo reply proves ARP too (nothing goes out before the gateway's MAC is known); when
 * the gateway does not answer, its neighbour entry on the bridge tells whether ARP did.
 * (A packet socket to ask ARP itself would cost a grace period of the kernel's, about
 * 10 ms, when it is closed.)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <netinet/ip_icmp.h>

#include "apply.h"
#include "uplink.h"

struct target {
	uint8_t ip[4];
	bool gateway, ok;
};

struct prober {
	int fd;
	struct target t[VNET_PROBE_MAX + 1];
	size_t n;
	uint16_t id, seq;
};

/* The raw ICMP socket, made in the NIC's namespace (it stays there). */
static int open_socket(void *arg)
{
	struct prober *p = arg;

	p->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
	return p->fd < 0 ? -errno : 0;
}

static void send_echo(struct prober *p, const struct target *t)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t pkt[16] = { ICMP_ECHO, 0 };
	uint16_t id = htons(p->id), seq = htons(++p->seq), sum;

	memcpy(&to.sin_addr, t->ip, 4);
	memcpy(pkt + 4, &id, 2);
	memcpy(pkt + 6, &seq, 2);
	memcpy(pkt + 8, "vnet-up", 8);
	sum = vnet_inet_checksum(pkt, sizeof(pkt));
	memcpy(pkt + 2, &sum, 2);
	(void)sendto(p->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
}

/* Mark the targets whose echo reply (with our id) is waiting on the socket. */
static void read_replies(struct prober *p)
{
	uint8_t pkt[256];
	ssize_t n;

	while ((n = recv(p->fd, pkt, sizeof(pkt), 0)) > 0) {
		size_t hl = (size_t)(pkt[0] & 0xf) * 4;
		uint16_t id;

		if ((size_t)n < hl + 8 || pkt[hl] != ICMP_ECHOREPLY)
			continue;
		memcpy(&id, pkt + hl + 4, 2);
		for (size_t i = 0; ntohs(id) == p->id && i < p->n; i++)
			if (!memcmp(p->t[i].ip, pkt + 12, 4))
				p->t[i].ok = true;
	}
}

static bool all_answered(const struct prober *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->t[i].ok)
			return false;
	return true;
}

/* Ask every target that has not answered yet, every 100 ms, until all have or the budget
 * is spent; Return: whether all answered. */
static bool ask(struct prober *p, long budget_us)
{
	long end = vnet_now_us() + budget_us, next = 0;
	struct pollfd pf = { p->fd, POLLIN, 0 };

	while (!all_answered(p)) {
		long now = vnet_now_us();

		if (now >= end)
			return false;
		if (now >= next) {
			for (size_t i = 0; i < p->n; i++)
				if (!p->t[i].ok)
					send_echo(p, &p->t[i]);
			next = now + 100000;
		}
		if (poll(&pf, 1, (int)(((next < end ? next : end) - now + 999) / 1000)) > 0)
			read_replies(p);
	}
	return true;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);

	*(uint16_t *)data = nd->ndm_state;
	return MNL_CB_OK;
}

/* Did @gw answer ARP on the bridge @br: does its neighbour entry there have a MAC? */
static bool arp_answered(struct vnet_nl *nl, int br, const uint8_t gw[4])
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;
	uint16_t state = 0;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = br;
	mnl_attr_put(nlh, NDA_DST, 4, gw);
	if (vnet_nl_request(nl, nlh, neigh_cb, &state) < 0)
		return false;
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT);
}

/* "no answer within 3.0 s from gateway 192.168.12.1 (ARP not answered), 10.0.0.9" */
static void say_who(struct vnet_nl *nl, int br, const struct prober *p, long budget_us, char *buf,
		    size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "no answer within %.1f s from", budget_us / 1e6);
	char ip[INET_ADDRSTRLEN];
	bool first = true;

	for (size_t i = 0; i < p->n && off < len; i++) {
		const struct target *t = &p->t[i];
		const char *arp = "";

		if (t->ok)
			continue;
		if (t->gateway)
			arp = arp_answered(nl, br, t->ip) ? " (ARP answered, ICMP echo not)" :
							    " (ARP not answered)";
		inet_ntop(AF_INET, t->ip, ip, sizeof(ip));
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s%s", first ? "" : ",",
					t->gateway ? " gateway" : "", ip, arp);
		first = false;
	}
}

int vnet_uplink_probe(struct vnet_nl *nl, const struct vnet_uplink_change *c, int br,
		      struct vnet_result *res, struct vnet_error *reterr)
{
	struct prober p = { .fd = -1, .id = (uint16_t)(getpid() ^ 0x7601) };
	long t0 = vnet_now_us(), budget = (long)c->u.probe_ms * 1000;
	char why[VNET_MSGSIZ];
	bool ok;
	int r;

	if (vnet_uplink_gateway(&c->saved, p.t[0].ip))
		p.t[p.n++].gateway = true;
	for (unsigned i = 0; i < c->u.n_probe; i++)
		memcpy(p.t[p.n++].ip, c->u.probe[i], 4);
	if (!p.n)
		return 0; /* no gateway, no target: nothing to ask */
	r = vnet_netns_run(c->u.ns, open_socket, &p);
	ok = r >= 0 && ask(&p, budget);
	if (p.fd >= 0)
		close(p.fd);
	if (res)
		res->probe_us += vnet_now_us() - t0;
	if (r < 0)
		return vnet_error_set(reterr, r, c->u.bridge, "probe", "%s", strerror(-r));
	if (ok)
		return 0;
	say_who(nl, br, &p, budget, why, sizeof(why));
	return vnet_error_set(reterr, -EHOSTUNREACH, c->u.bridge, "probe", "%s", why);
}
