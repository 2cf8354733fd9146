// SPDX-License-Identifier: LGPL-2.1-or-later
/* nl.c - rtnetlink sockets bound to a namespace: batches with one ack per message, dumps */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "array.h"
#include "kernel.h"

#define NL_RCVBUF (4 << 20) /* room for the acks of a large batch, and for dumps */
#define NL_DGRAM 65536 /* > the 32 KiB the kernel puts in one dump datagram */
#define NL_CHUNK (128 << 10) /* below the default SO_SNDBUF: netlink_sendmsg checks it */
#define NL_DUMP_RETRIES 8 /* NLM_F_DUMP_INTR: the table changed under the dump */
#define NL_BATCH_ROOM 4096 /* free bytes guaranteed for each new message */

struct vnet_nl {
	struct mnl_socket *sock;
	bool acks; /* extended acks and a large receive buffer are set up */
	dev_t ns_dev; /* the namespace the socket lives in, to notice a name reused */
	ino_t ns_ino;
	char *buf; /* receive buffer; a dump accumulates here before its callbacks run */
	size_t cap;
};

/* One counter for every socket: sequence numbers only grow, on each socket too. */
static uint32_t nl_seq;

static uint32_t nl_next_seq(void)
{
	return __atomic_add_fetch(&nl_seq, 1, __ATOMIC_RELAXED);
}

/*
 * Extended and capped acks, and room for the acks of a large batch: set before the
 * first batch goes out on the socket, not at open. Reading a namespace (observe,
 * show, diff, a no-op up) needs none of it, and at 1000 namespaces the three
 * setsockopt calls were a fifth of the system calls of a `vnet show`.
 */
static int nl_setup_acks(struct vnet_nl *nl)
{
	int one = 1, size = NL_RCVBUF, fd = mnl_socket_get_fd(nl->sock);

	if (nl->acks)
		return 0;
	if (mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one)) < 0)
		return -errno;
	/* SO_RCVBUFFORCE passes rmem_max but needs CAP_NET_ADMIN; the other is capped. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		return -errno;
	nl->acks = true;
	return 0;
}

/* Open a socket in the namespace the calling thread is in now, whose nsfs inode is @ns. */
static int nl_open_here(const struct stat *ns, struct vnet_nl **ret_nl)
{
	struct vnet_nl *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		r = -errno;
		free(nl);
		return r;
	}
	/* no bind(): the kernel binds a netlink socket at its first send (autobind), and
	 * replies come only from the kernel, to this socket: no port id to check */
	nl->ns_dev = ns->st_dev;
	nl->ns_ino = ns->st_ino;
	*ret_nl = nl;
	return 0;
}

/* nl_open_here() of the namespace @nsfd refers to, which the thread is in now. */
static int nl_open_fd(int nsfd, struct vnet_nl **ret_nl)
{
	struct stat st;

	return fstat(nsfd, &st) < 0 ? -errno : nl_open_here(&st, ret_nl);
}

/**
 * vnet_nl_open_current() - an rtnetlink socket in the namespace the calling thread is in
 * @ret_nl: the socket
 *
 * For a namespace that has no name yet: vnet_netns_add() tags a new namespace's
 * loopback through it before the namespace appears under /run/netns.
 *
 * Return: 0 or -errno.
 */
int vnet_nl_open_current(struct vnet_nl **ret_nl)
{
	struct stat st;

	/* stat, not open: one system call per namespace vnet makes */
	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	return nl_open_here(&st, ret_nl);
}

/**
 * vnet_nl_open() - open an rtnetlink socket in a namespace
 * @ns: namespace name under /run/netns, or "" for the namespace vnet runs in
 * @ret_nl: the socket (extended and capped acks are set up at its first batch)
 *
 * A netlink socket belongs to the namespace it was created in for its whole
 * life, so the thread enters @ns only for the socket() call.
 *
 * Return: 0, -ENOENT when the namespace does not exist, or another -errno.
 */
int vnet_nl_open(const char *ns, struct vnet_nl **ret_nl)
{
	_cleanup_(vnet_nl_closep) struct vnet_nl *nl = NULL;
	_cleanup_close_ int fd = vnet_netns_open(ns ? ns : "");
	int saved, r, q;

	if (fd < 0)
		return fd;
	if (!ns || !*ns)
		return nl_open_fd(fd, ret_nl);
	r = vnet_netns_enter(fd, &saved);
	if (r < 0)
		return r == -EINVAL ? -ENOENT : r; /* a plain file, not a namespace */
	r = nl_open_fd(fd, &nl);
	q = vnet_netns_leave(saved);
	if (q < 0)
		return q;
	if (r == 0)
		*ret_nl = TAKE_PTR(nl);
	return r;
}

void vnet_nl_close(struct vnet_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl);
}

/* Make room for one more datagram at @off of the receive buffer. */
static int nl_reserve(struct vnet_nl *nl, size_t off)
{
	return vnet_grow((void **)&nl->buf, &nl->cap, off + NL_DGRAM, 1);
}

size_t vnet_nl_whole(const void *buf, size_t len)
{
	size_t off = 0;

	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)buf + off);

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			break;
		off += MNL_ALIGN(nlh->nlmsg_len);
		if (off >= len)
			return len; /* the last one, perhaps unpadded */
	}
	return off;
}

/* One datagram at @off of the buffer, cut to its whole messages; Return: its length or -errno. */
static ssize_t nl_recv(struct vnet_nl *nl, size_t off)
{
	ssize_t n;
	int r = nl_reserve(nl, off);

	if (r < 0)
		return r;
	do
		n = recv(mnl_socket_get_fd(nl->sock), nl->buf + off, NL_DGRAM, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n > NL_DGRAM)
		return -EMSGSIZE;
	return (ssize_t)vnet_nl_whole(nl->buf + off, (size_t)n);
}

static int nl_sendbuf(struct vnet_nl *nl, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = mnl_socket_sendto(nl->sock, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int extack_cb(const struct nlattr *a, void *data)
{
	struct vnet_nl_result *res = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(res->extack, sizeof(res->extack), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* Read the errno and the extended-ack text of an NLMSG_ERROR message. */
static void nl_parse_error(const struct nlmsghdr *nlh, struct vnet_nl_result *res)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off = sizeof(*e);

	res->extack[0] = '\0';
	if (plen < sizeof(*e)) {
		res->err = -EBADMSG;
		return;
	}
	res->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NETLINK_CAP_ACK (or for a success) the request follows the error. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->error)
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	off = MNL_ALIGN(off);
	if (off < plen)
		mnl_attr_parse_payload((const char *)e + off, plen - off, extack_cb, res);
}

/* ---- batches ---- */

void vnet_batch_init(struct vnet_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void vnet_batch_reset(struct vnet_batch *b)
{
	b->len = 0;
	b->n = 0;
}

void vnet_batch_free(struct vnet_batch *b)
{
	free(b->buf);
	vnet_batch_init(b);
}

/*
 * The last message stays open for attributes until the next one starts, so
 * b->len counts the messages before it; this is the length of them all.
 */
static size_t batch_size(const struct vnet_batch *b)
{
	const struct nlmsghdr *last;

	if (!b->n)
		return 0;
	last = (const struct nlmsghdr *)(b->buf + b->len);
	return b->len + MNL_ALIGN(last->nlmsg_len);
}

/**
 * vnet_batch_msg() - start a new message at the end of a batch
 * @b: the batch; grown so that at least 4 KiB are free for the message
 * @type: RTM_* type
 * @flags: NLM_F_CREATE, NLM_F_EXCL, ... (REQUEST and ACK are added)
 *
 * Return: the header, with a sequence number of its own; NULL when out of memory.
 */
struct nlmsghdr *vnet_batch_msg(struct vnet_batch *b, uint16_t type, uint16_t flags)
{
	size_t start = batch_size(b);
	struct nlmsghdr *nlh;

	if (vnet_grow((void **)&b->buf, &b->cap, start + NL_BATCH_ROOM, 1) < 0)
		return NULL;
	memset(b->buf + start, 0, NL_BATCH_ROOM);
	nlh = mnl_nlmsg_put_header(b->buf + start);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = nl_next_seq();
	b->len = start;
	b->n++;
	return nlh;
}

/* The acks of messages [first, first + n) of a batch: which of them are still due. */
struct ack_wait {
	const uint32_t *seq;
	struct vnet_nl_result *res;
	unsigned n, due, next;
};

/* Record one NLMSG_ERROR; acks come in order, so the next one due is tried first. */
static void ack_record(struct ack_wait *w, const struct nlmsghdr *nlh, char *got)
{
	for (unsigned k = 0; k < w->n; k++) {
		unsigned i = (w->next + k) % w->n;

		if (w->seq[i] != nlh->nlmsg_seq || got[i])
			continue;
		nl_parse_error(nlh, &w->res[i]);
		got[i] = 1;
		w->due--;
		w->next = i + 1;
		return;
	}
}

static int ack_collect(struct vnet_nl *nl, struct ack_wait *w, char *got)
{
	while (w->due) {
		ssize_t len = nl_recv(nl, 0);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->buf;
		int left = (int)len;

		if (len < 0)
			return (int)len;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			if (nlh->nlmsg_type == NLMSG_ERROR)
				ack_record(w, nlh, got);
	}
	return 0;
}

/* Send whole messages from @off of @b, up to NL_CHUNK bytes, and gather their acks. */
static int nl_send_chunk(struct vnet_nl *nl, const struct vnet_batch *b, size_t *off,
			 struct vnet_nl_result *res, uint32_t *seq, char *got)
{
	size_t end = *off, total = batch_size(b);
	struct ack_wait w = { .seq = seq, .res = res };
	int r;

	const struct nlmsghdr *prev = NULL;

	while (end < total) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b->buf + end);
		size_t len = MNL_ALIGN(nlh->nlmsg_len);

		/*
		 * Never cut after a link's creation: the message after it tags the link, and
		 * the kernel runs one sendmsg's messages in one go, so a kill -9 cannot fall
		 * between them (a chunk may then pass NL_CHUNK by one message, far below
		 * SO_SNDBUF).
		 */
		if (end > *off && end + len - *off > NL_CHUNK &&
		    !(prev && prev->nlmsg_type == RTM_NEWLINK &&
		      (prev->nlmsg_flags & NLM_F_CREATE)))
			break;
		seq[w.n++] = nlh->nlmsg_seq;
		end += len;
		prev = nlh;
	}
	w.due = w.n;
	memset(got, 0, w.n);
	r = nl_sendbuf(nl, b->buf + *off, end - *off);
	if (r == 0)
		r = ack_collect(nl, &w, got);
	*off = end;
	return r < 0 ? r : (int)w.n;
}

/**
 * vnet_nl_send() - send a batch in one sendmsg and gather every ack
 * @nl: the socket
 * @b: the batch (unchanged)
 * @res: b->n results, one per message in order
 *
 * A batch larger than NL_CHUNK goes out in several sendmsg calls, cut between
 * messages, because netlink_sendmsg() refuses a datagram larger than SO_SNDBUF.
 *
 * Return: 0 when every message was answered (each may still have failed: see
 * @res), or -errno when the exchange itself failed.
 */
int vnet_nl_send(struct vnet_nl *nl, const struct vnet_batch *b, struct vnet_nl_result *res)
{
	size_t off = 0, total = batch_size(b);
	unsigned done = 0;
	_cleanup_free_ uint32_t *seq = NULL;
	_cleanup_free_ char *got = NULL;
	int r = 0;

	if (!b->n)
		return 0;
	r = nl_setup_acks(nl);
	if (r < 0)
		return r;
	seq = calloc(b->n, sizeof(*seq));
	got = calloc(b->n, 1);
	if (!seq || !got)
		return -ENOMEM;
	for (unsigned i = 0; i < b->n; i++)
		res[i] = (struct vnet_nl_result){ .err = -EIO };
	while (off < total) {
		r = nl_send_chunk(nl, b, &off, res + done, seq, got);
		if (r < 0)
			return r;
		done += (unsigned)r;
	}
	return 0;
}

/* What a datagram of a dump says: how much of it is data, and whether the dump ended. */
struct dump_state {
	uint32_t seq;
	bool done, intr;
	int err;
};

/* Scan one datagram; Return: the length of its data messages (0 when it is stale). */
static size_t dump_scan(struct dump_state *st, const char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;

	if (!mnl_nlmsg_ok(nlh, left) || nlh->nlmsg_seq != st->seq)
		return 0; /* left over from an exchange that was given up */
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			st->intr = true;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct vnet_nl_result res;

			nl_parse_error(nlh, &res);
			st->err = res.err;
			st->done = true;
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			const int *err = mnl_nlmsg_get_payload(nlh);

			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err))
				st->err = *err;
			st->done = true;
		}
		if (st->done)
			return (size_t)((const char *)nlh - buf);
	}
	return len;
}

/* The request's fixed header: the one the kernel expects for @type, family first. */
static size_t dump_hdr_size(uint16_t type)
{
	switch (type) {
	case RTM_GETLINK:
		return sizeof(struct ifinfomsg);
	case RTM_GETADDR:
		return sizeof(struct ifaddrmsg);
	case RTM_GETROUTE:
		return sizeof(struct rtmsg);
	case RTM_GETNEIGH:
		return sizeof(struct ndmsg);
	default:
		return sizeof(struct rtgenmsg);
	}
}

/* Run one dump to its end, its data left in nl->buf; Return: data length or -errno. */
static ssize_t dump_once(struct vnet_nl *nl, uint16_t type, uint8_t family)
{
	char req[256] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct dump_state st = { .seq = nl_next_seq() };
	uint8_t *hdr;
	size_t len = 0;
	int r;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = st.seq;
	hdr = mnl_nlmsg_put_extra_header(nlh, dump_hdr_size(type));
	/* ifi_family, ifa_family, rtm_family and rtgen_family all come first */
	hdr[0] = family;
	if (type == RTM_GETLINK) /* counters are most of a link message, and unused */
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = nl_sendbuf(nl, req, nlh->nlmsg_len);
	while (r == 0 && !st.done) {
		ssize_t n = nl_recv(nl, len);

		if (n < 0)
			return n;
		len += dump_scan(&st, nl->buf + len, (size_t)n);
	}
	if (r < 0)
		return r;
	if (st.err)
		return st.err;
	return st.intr ? -EINTR : (ssize_t)len;
}

/**
 * vnet_nl_dump() - run a dump request, calling @cb for every answer message
 * @nl: the socket
 * @type: RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, ...
 * @family: rtgenmsg family (AF_UNSPEC, AF_INET, AF_BRIDGE, ...)
 * @cb: libmnl callback; it sets errno when it returns MNL_CB_ERROR
 * @data: for @cb
 *
 * The whole dump is read before @cb sees any of it: a dump the kernel marks
 * inconsistent (NLM_F_DUMP_INTR, the table changed meanwhile) is run again,
 * and @cb must not see the first attempt. Link dumps leave out statistics.
 *
 * Return: 0 or -errno.
 */
int vnet_nl_dump(struct vnet_nl *nl, uint16_t type, uint8_t family, mnl_cb_t cb, void *data)
{
	for (int i = 0; i < NL_DUMP_RETRIES; i++) {
		ssize_t len = dump_once(nl, type, family);

		if (len == -EINTR)
			continue;
		if (len < 0)
			return (int)len;
		errno = 0;
		if (mnl_cb_run(nl->buf, (size_t)len, 0, 0, cb, data) < 0)
			return errno ? -errno : -EIO;
		return 0;
	}
	return -EINTR;
}

/**
 * vnet_nl_request() - send one request and pass its answers to @cb
 * @nl: the socket
 * @nlh: the request (REQUEST and ACK flags and a sequence number are set here)
 * @cb: called for every answer but the final ack; NULL to ignore them
 * @data: for @cb
 *
 * Return: 0, or -errno: the kernel's error or @cb's errno.
 */
int vnet_nl_request(struct vnet_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nl_next_seq();
	int r;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	r = nl_sendbuf(nl, nlh, nlh->nlmsg_len);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = nl_recv(nl, 0);
		const struct nlmsghdr *first = (const struct nlmsghdr *)nl->buf;

		if (n < 0)
			return (int)n;
		if (!mnl_nlmsg_ok(first, (int)n) || first->nlmsg_seq != seq)
			continue; /* stale */
		errno = 0;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, 0, cb, data);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP) /* the ack */
			return 0;
	}
}

/* ---- one socket per namespace ---- */

/* Is @nl still a socket of the namespace /run/netns/@ns names now? */
static int nlset_check(const char *ns, const struct vnet_nl *nl)
{
	char path[sizeof("/run/netns/") + VNET_NAMSIZ];
	struct stat st;

	if (!*ns)
		return 0;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &st) < 0)
		return -errno;
	return st.st_dev == nl->ns_dev && st.st_ino == nl->ns_ino ? 0 : -ESTALE;
}

/**
 * vnet_nlset_get() - the socket for @ns, opened on first use
 * @s: the set
 * @ns: namespace name, "" for vnet's own
 * @ret_nl: the socket, owned by @s
 *
 * A cached socket whose namespace was removed, or replaced by another of the
 * same name, is closed and opened again (a stat() per call).
 *
 * Return: 0 or -errno (-ENOENT: no such namespace).
 */
int vnet_nlset_get(struct vnet_nlset *s, const char *ns, struct vnet_nl **ret_nl)
{
	struct vnet_nl *nl = NULL;
	int r;

	if (strlen(ns) >= VNET_NAMSIZ)
		return -ENAMETOOLONG;
	for (size_t k = 0; k < s->n; k++) {
		/* steps come in runs per namespace: try the last one used first */
		size_t i = (k + s->last) % s->n;

		if (strcmp(s->v[i].ns, ns))
			continue;
		s->last = i;
		r = nlset_check(ns, s->v[i].nl);
		if (r == -ESTALE) /* another namespace of that name now: a socket there */
			r = vnet_nl_open(ns, &nl);
		if (r < 0) {
			vnet_nlset_forget(s, ns);
			return r;
		}
		if (nl) {
			vnet_nl_close(s->v[i].nl);
			s->v[i].nl = nl;
		}
		*ret_nl = s->v[i].nl;
		return 0;
	}
	r = vnet_nl_open(ns, &nl);
	if (r >= 0)
		r = vnet_nlset_put(s, ns, nl);
	if (r >= 0)
		*ret_nl = nl;
	return r;
}

int vnet_nlset_put(struct vnet_nlset *s, const char *ns, struct vnet_nl *nl)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].ns, ns))
			continue;
		if (s->v[i].nl != nl) /* a socket of a namespace of that name that is gone */
			vnet_nl_close(s->v[i].nl);
		s->v[i].nl = nl;
		return 0;
	}
	if (vnet_array_grow(s, s->n + 1) < 0) {
		vnet_nl_close(nl);
		return -ENOMEM;
	}
	snprintf(s->v[s->n].ns, sizeof(s->v[s->n].ns), "%s", ns);
	s->v[s->n++].nl = nl;
	return 0;
}

void vnet_nlset_forget(struct vnet_nlset *s, const char *ns)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].ns, ns))
			continue;
		vnet_nl_close(s->v[i].nl);
		s->v[i] = s->v[--s->n];
		return;
	}
}

void vnet_nlset_free(struct vnet_nlset *s)
{
	for (size_t i = 0; i < s->n; i++)
		vnet_nl_close(s->v[i].nl);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
