// SPDX-License-Identifier: LGPL-2.1-or-later
/* check.c - the probe engine of vnet check: which probes, then all of them at once with poll */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "array.h"
#include "cleanup.h"
#include "kernel.h"
#include "vnet/check.h"

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_TRIES 3
#define ECHO_MAGIC 0x766e6574U /* "vnet": our echoes, told from anyone else's */
#define SOCK_BUF (4 << 20) /* a namespace's echoes all leave and come back at once */

/* ---- planning: a pure function of the model ---- */

void vnet_probes_clear(struct vnet_probes *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

static struct vnet_probe *add_probe(struct vnet_probes *p)
{
	return VNET_ARRAY_PUSH(p);
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Whether @a and @b share their first @plen bits. */
static bool same_prefix(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !bits || !((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - bits)));
}

/* Whether address @b is in a subnet of an address of namespace @ns. */
static bool on_subnet_of(const struct vnet_model *m, const char *ns, const struct vnet_addr *b)
{
	for (size_t i = 0; i < m->addrs.n; i++) {
		const struct vnet_addr *a = &m->addrs.v[i];

		if (a->family == b->family && !strcmp(a->ns, ns) &&
		    same_prefix(a->addr, b->addr, a->prefixlen))
			return true;
	}
	return false;
}

/* The node that has address @addr in the model, or "". */
static const char *owner_of(const struct vnet_model *m, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < m->addrs.n; i++) {
		const struct vnet_addr *a = &m->addrs.v[i];
		const struct vnet_ns *n;

		if (a->family != family || memcmp(a->addr, addr, addr_len(family)))
			continue;
		n = vnet_model_find_ns(m, a->ns);
		return n ? n->node : "";
	}
	return "";
}

static int push(struct vnet_probes *ret, const struct vnet_ns *from, const char *to, int family,
		const uint8_t *addr, const struct vnet_check *c, long check)
{
	struct vnet_probe *p = add_probe(ret);

	if (!p)
		return -ENOMEM;
	snprintf(p->from, sizeof(p->from), "%s", from->node);
	snprintf(p->ns, sizeof(p->ns), "%s", from->name);
	snprintf(p->to, sizeof(p->to), "%s", to);
	p->family = family;
	memcpy(p->addr, addr, addr_len(family));
	p->expect = c ? c->reach : true;
	p->tcp_port = c ? c->tcp_port : 0;
	p->check = check;
	return 0;
}

/* The probes of declared check @i: its address, or the addresses of its target node. */
static int plan_check(const struct vnet_model *m, size_t i, struct vnet_probes *ret)
{
	const struct vnet_check *c = &m->checks.v[i];
	const struct vnet_ns *from = vnet_model_find_node(m, c->from);
	const struct vnet_ns *to = c->has_addr ? NULL : vnet_model_find_node(m, c->to);
	bool shared = false;
	int r = 0;

	if (!from || (!c->has_addr && !to))
		return -EINVAL; /* not validated */
	if (c->has_addr)
		return push(ret, from, owner_of(m, c->family, c->addr), c->family, c->addr, c,
			    (long)i);
	for (size_t a = 0; a < m->addrs.n; a++)
		shared |= !strcmp(m->addrs.v[a].ns, to->name) &&
			  on_subnet_of(m, from->name, &m->addrs.v[a]);
	for (size_t a = 0; !r && a < m->addrs.n; a++) {
		const struct vnet_addr *b = &m->addrs.v[a];

		if (!strcmp(b->ns, to->name) && (!shared || on_subnet_of(m, from->name, b)))
			r = push(ret, from, to->node, b->family, b->addr, c, (long)i);
	}
	return r;
}

/* The first address of @to in a subnet of an address of @from, or NULL. */
static const struct vnet_addr *shared_addr(const struct vnet_model *m, const size_t *first,
					   const size_t *next, size_t from, size_t to)
{
	for (size_t a = first[from]; a != SIZE_MAX; a = next[a])
		for (size_t b = first[to]; b != SIZE_MAX; b = next[b]) {
			const struct vnet_addr *x = &m->addrs.v[a], *y = &m->addrs.v[b];

			if (x->family == y->family && same_prefix(x->addr, y->addr, x->prefixlen))
				return y;
		}
	return NULL;
}

/* The default matrix: every ordered pair of nodes with an address each in one subnet. */
static int plan_matrix(const struct vnet_model *m, struct vnet_probes *ret)
{
	/* the addresses of each namespace as linked lists, so that pairs cost O(addresses) */
	_cleanup_free_ size_t *first = malloc((m->ns.n + 1) * sizeof(*first));
	_cleanup_free_ size_t *next = malloc((m->addrs.n + 1) * sizeof(*next));
	int r = first && next ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < m->ns.n; i++)
		first[i] = SIZE_MAX;
	for (size_t a = m->addrs.n; !r && a-- > 0;) {
		const struct vnet_ns *n = vnet_model_find_ns(m, m->addrs.v[a].ns);

		next[a] = n ? first[n - m->ns.v] : SIZE_MAX;
		if (n)
			first[n - m->ns.v] = a;
	}
	for (size_t i = 0; !r && i < m->ns.n; i++)
		for (size_t j = 0; !r && j < m->ns.n; j++) {
			const struct vnet_addr *b = i == j ? NULL :
							     shared_addr(m, first, next, i, j);

			if (b)
				r = push(ret, &m->ns.v[i], m->ns.v[j].node, b->family, b->addr,
					 NULL, -1);
		}
	return r;
}

int vnet_check_plan(const struct vnet_model *m, struct vnet_probes *ret)
{
	int r = 0;

	if (!m->checks.n)
		return plan_matrix(m, ret);
	for (size_t i = 0; !r && i < m->checks.n; i++)
		r = plan_check(m, i, ret);
	return r;
}

size_t vnet_probes_held(const struct vnet_probes *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].held;
	return n;
}

/* ---- running: sockets opened in each namespace, then one poll loop for all ---- */

/* An ICMP echo as we send it; the reply carries it back. */
struct echo {
	uint8_t type, code;
	uint16_t csum, id, seq;
	uint32_t magic;
	uint64_t sent_us;
} __attribute__((packed));

/* A raw ICMP socket of one namespace and family, shared by the echoes sent from there. */
struct rawsock {
	const char *ns;
	int family;
	int fd;
};

/* The state of one probe during the run. */
struct pstate {
	int sock; /* ICMP: index of its raw socket; -1 before it has one */
	int fd; /* TCP: its socket while connecting, else -1 */
	unsigned sent; /* ICMP: echoes sent */
	bool done;
	long start_us;
};

struct run {
	struct vnet_probes *p;
	struct pstate *st;
	struct rawsock *socks;
	size_t nsocks, left;
	uint16_t id_base;
	long start_us, timeout_us;
	unsigned tries;
	bool backlog; /* a send was refused for lack of buffer: try again soon */
};

/* End probe @i: reached or not, with the reason. */
static void finish(struct run *r, size_t i, bool reached, long rtt_us, const char *why)
{
	struct vnet_probe *p = &r->p->v[i];
	struct pstate *s = &r->st[i];

	if (s->done)
		return;
	s->done = true;
	r->left--;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	p->reached = reached;
	p->held = reached == p->expect;
	p->rtt_us = reached ? rtt_us : 0;
	snprintf(p->error, sizeof(p->error), "%s", reached ? "" : why);
}

static void fail_errno(struct run *r, size_t i, const char *what, int err)
{
	char buf[128], eb[64];

	snprintf(buf, sizeof(buf), "%s: %s", what, strerror_r(err, eb, sizeof(eb)));
	finish(r, i, false, 0, buf);
}

/* A raw socket for the echoes of family @family, in the current namespace. */
static int open_raw(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	int buf = SOCK_BUF, r;

	if (fd < 0)
		return -errno;
	/* every raw ICMP socket gets a copy of every ICMP packet: keep the echo replies only */
	if (family == AF_INET) {
		struct icmp_filter f = { ~(1U << ICMP_ECHOREPLY) };

		r = setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		r = setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* best effort: root may pass the sysctl limits; the defaults hold ~300 packets */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	return fd;
}

static socklen_t make_sockaddr(const struct vnet_probe *p, uint16_t port,
			       struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (p->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, p->addr, 4);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, p->addr, 16);
	return sizeof(*s6);
}

/* Start TCP probe @i in the current namespace: a non-blocking connect. */
static void start_tcp(struct run *r, size_t i)
{
	const struct vnet_probe *p = &r->p->v[i];
	struct sockaddr_storage ss;
	socklen_t len = make_sockaddr(p, p->tcp_port, &ss);
	int fd = socket(p->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fail_errno(r, i, "socket", errno);
		return;
	}
	r->st[i].fd = fd;
	r->st[i].start_us = vnet_now_us();
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		finish(r, i, true, vnet_now_us() - r->st[i].start_us, NULL);
	else if (errno != EINPROGRESS)
		fail_errno(r, i, "connect", errno);
}

/* The raw socket of @ns and @family, opened in the current namespace when it is new. */
static int raw_sock(struct run *r, const char *ns, int family)
{
	int fd;

	for (size_t k = r->nsocks; k-- > 0;)
		if (r->socks[k].family == family && !strcmp(r->socks[k].ns, ns))
			return (int)k;
	fd = open_raw(family);
	if (fd < 0)
		return fd;
	r->socks[r->nsocks] = (struct rawsock){ ns, family, fd };
	return (int)r->nsocks++;
}

/* In namespace @ns (entered): the sockets of every probe from it, starting at @i. */
static void open_probes_here(struct run *r, size_t i, const char *ns)
{
	for (size_t j = i; j < r->p->n; j++) {
		struct vnet_probe *p = &r->p->v[j];
		int k;

		if (r->st[j].done || r->st[j].sock >= 0 || strcmp(p->ns, ns))
			continue;
		if (p->tcp_port) {
			r->st[j].sock = 0; /* opened: no raw socket needed */
			start_tcp(r, j);
			continue;
		}
		k = raw_sock(r, ns, p->family);
		if (k < 0)
			fail_errno(r, j, "raw socket", -k);
		else
			r->st[j].sock = k;
	}
}

/* Open every probe's socket inside its namespace, one namespace at a time. */
static void open_all(struct run *r)
{
	char what[VNET_NAMSIZ + 32];

	for (size_t i = 0; i < r->p->n; i++) {
		const char *ns = r->p->v[i].ns;
		int fd, saved, e;

		if (r->st[i].done || r->st[i].sock >= 0)
			continue;
		fd = vnet_netns_open(ns);
		e = fd < 0 ? fd : vnet_netns_enter(fd, &saved);
		if (e < 0) {
			snprintf(what, sizeof(what), "namespace %s", ns[0] ? ns : "(vnet's own)");
			for (size_t j = i; j < r->p->n; j++)
				if (!strcmp(r->p->v[j].ns, ns))
					fail_errno(r, j, what, -e);
		} else {
			open_probes_here(r, i, ns);
			vnet_netns_leave(saved);
		}
		if (fd >= 0)
			close(fd);
	}
}

uint16_t vnet_inet_checksum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Send one echo of ICMP probe @i. Return: 0, -EAGAIN to retry soon, or -errno: it failed. */
static int send_echo(struct run *r, size_t i)
{
	const struct vnet_probe *p = &r->p->v[i];
	struct echo e = { .type = p->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST,
			  .id = htons((uint16_t)(r->id_base + (i >> 16))),
			  .seq = htons((uint16_t)(i & 0xffff)),
			  .magic = htonl(ECHO_MAGIC) };
	struct sockaddr_storage ss;
	socklen_t len = make_sockaddr(p, 0, &ss);

	e.sent_us = (uint64_t)vnet_now_us();
	if (p->family == AF_INET) /* the kernel sums ICMPv6 itself (RFC 3542), not ICMP */
		e.csum = vnet_inet_checksum(&e, sizeof(e));
	if (sendto(r->socks[r->st[i].sock].fd, &e, sizeof(e), 0, (struct sockaddr *)&ss, len) ==
	    (ssize_t)sizeof(e))
		return 0;
	return errno == EAGAIN || errno == ENOBUFS ? -EAGAIN : -errno;
}

/* Send the echoes that are due: @want per probe by now. */
static void send_due(struct run *r, unsigned want)
{
	r->backlog = false;
	for (size_t i = 0; i < r->p->n; i++) {
		struct pstate *s = &r->st[i];
		int e;

		if (s->done || r->p->v[i].tcp_port || s->sent >= want)
			continue;
		e = send_echo(r, i);
		if (e == -EAGAIN) {
			r->backlog = true;
			continue;
		}
		if (!s->sent)
			s->start_us = vnet_now_us();
		s->sent++;
		/* no route, or a firewall: no echo will ever be answered */
		if (e < 0)
			fail_errno(r, i, "send", -e);
	}
}

/* Probe @i is the one an echo reply from @from, with @id and @seq, on raw socket @k answers. */
static long match_reply(const struct run *r, int k, const uint8_t *from, const struct echo *e)
{
	size_t i = (size_t)(uint16_t)(ntohs(e->id) - r->id_base) << 16 | ntohs(e->seq);
	const struct vnet_probe *p;

	if (ntohl(e->magic) != ECHO_MAGIC || i >= r->p->n || r->st[i].done || r->st[i].sock != k)
		return -1;
	p = &r->p->v[i];
	if (p->tcp_port || p->family != r->socks[k].family ||
	    memcmp(p->addr, from, addr_len(p->family)))
		return -1;
	return (long)i;
}

/* Read every packet waiting on raw socket @k. */
static void read_replies(struct run *r, int k)
{
	uint8_t buf[512];
	struct sockaddr_storage ss;
	const struct rawsock *rs = &r->socks[k];

	for (;;) {
		socklen_t slen = sizeof(ss);
		ssize_t n = recvfrom(rs->fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &slen);
		size_t off = rs->family == AF_INET && n > 0 ? (size_t)(buf[0] & 0x0f) * 4 : 0;
		const struct echo *e = (const struct echo *)(buf + off);
		const uint8_t *from =
			rs->family == AF_INET ?
				(const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr :
				(const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		long i;

		if (n < 0)
			return; /* EAGAIN: drained */
		if ((size_t)n < off + sizeof(*e) ||
		    e->type != (rs->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
			continue;
		i = match_reply(r, k, from, e);
		if (i >= 0)
			finish(r, (size_t)i, true, vnet_now_us() - (long)e->sent_us, NULL);
	}
}

/* A connect of TCP probe @i has an outcome. */
static void tcp_done(struct run *r, size_t i)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(r->st[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		fail_errno(r, i, "connect", err);
	else
		finish(r, i, true, vnet_now_us() - r->st[i].start_us, NULL);
}

/* The poll set: raw sockets first, then the TCP sockets still connecting (@idx: their probe). */
static size_t poll_set(const struct run *r, struct pollfd *fds, size_t *idx)
{
	size_t n = 0;

	for (size_t k = 0; k < r->nsocks; k++)
		fds[n++] = (struct pollfd){ .fd = r->socks[k].fd, .events = POLLIN };
	for (size_t i = 0; i < r->p->n; i++)
		if (!r->st[i].done && r->st[i].fd >= 0) {
			idx[n] = i;
			fds[n++] = (struct pollfd){ .fd = r->st[i].fd, .events = POLLOUT };
		}
	return n;
}

/* Wait for answers until @until (monotonic us) and take them in. Return: 0 or -errno. */
static int poll_once(struct run *r, struct pollfd *fds, size_t *idx, long until)
{
	size_t n = poll_set(r, fds, idx);
	long wait_ms = (until - vnet_now_us() + 999) / 1000;
	int ready = poll(fds, n, (int)(wait_ms < 0 ? 0 : wait_ms));

	if (ready < 0)
		return errno == EINTR ? 0 : -errno;
	for (size_t j = 0; ready > 0 && j < n; j++) {
		if (!fds[j].revents)
			continue;
		ready--;
		if (j < r->nsocks)
			read_replies(r, (int)j);
		else
			tcp_done(r, idx[j]);
	}
	return 0;
}

/* The loop: echoes sent in rounds over the first half of the timeout, answers taken in. */
static int drive(struct run *r)
{
	long interval = r->timeout_us / 2 / r->tries, deadline = r->start_us + r->timeout_us;
	_cleanup_free_ struct pollfd *fds = calloc(r->nsocks + r->p->n + 1, sizeof(*fds));
	_cleanup_free_ size_t *idx = calloc(r->nsocks + r->p->n + 1, sizeof(*idx));
	unsigned round = 0;
	int e = fds && idx ? 0 : -ENOMEM;

	while (!e && r->left) {
		long now = vnet_now_us(), next;

		if (now >= deadline)
			break;
		while (round < r->tries && now >= r->start_us + (long)round * interval)
			round++;
		send_due(r, round);
		next = round < r->tries ? r->start_us + (long)round * interval : deadline;
		if (r->backlog && next > now + 5000)
			next = now + 5000; /* the socket buffer drains as replies come */
		e = poll_once(r, fds, idx, next < deadline ? next : deadline);
	}
	return e;
}

/* What is left at the deadline failed: no answer in time. */
static void time_out(struct run *r)
{
	char why[64];

	for (size_t i = 0; i < r->p->n; i++) {
		if (r->st[i].done)
			continue;
		snprintf(why, sizeof(why), "no %s in %.1f s",
			 r->p->v[i].tcp_port ? "answer to the connect" : "reply",
			 (double)r->timeout_us / 1e6);
		finish(r, i, false, 0, why);
	}
}

static void set_opts(struct run *r, const struct vnet_check_opts *opts)
{
	uint16_t rnd = 0;

	r->timeout_us =
		(opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS) * 1000L;
	r->tries = opts && opts->tries ? opts->tries : DEFAULT_TRIES;
	/* a random id base: another vnet check in the same namespace sends other ids */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint16_t)(getpid() ^ vnet_now_us());
	r->id_base = rnd;
}

/* The sockets of a run, and its arrays; the run itself lives on the stack. */
static void run_clear(struct run *r)
{
	for (size_t k = 0; k < r->nsocks; k++)
		close(r->socks[k].fd);
	free(r->socks);
	free(r->st);
}

int vnet_check_run(struct vnet_probes *p, const struct vnet_check_opts *opts,
		   struct vnet_error *reterr)
{
	_cleanup_(run_clear) struct run r = { .p = p, .left = p->n };
	int e = 0;

	set_opts(&r, opts);
	r.st = calloc(p->n + 1, sizeof(*r.st));
	/* at most two raw sockets (IPv4, IPv6) per distinct namespace */
	r.socks = calloc(2 * p->n + 1, sizeof(*r.socks));
	if (!r.st || !r.socks)
		return vnet_error_set(reterr, -ENOMEM, NULL, NULL, "out of memory");
	for (size_t i = 0; i < p->n; i++) {
		p->v[i].reached = p->v[i].held = false;
		p->v[i].error[0] = '\0';
		r.st[i] = (struct pstate){ .sock = -1, .fd = -1 };
	}
	open_all(&r);
	r.start_us = vnet_now_us();
	e = drive(&r);
	if (e < 0)
		vnet_error_set(reterr, e, NULL, "poll", "waiting for answers failed");
	time_out(&r);
	return e;
}
