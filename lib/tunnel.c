// SPDX-License-Identifier: LGPL-2.1-or-later
/* tunnel.c - the seed's "application B": a tun or tap device joined to a peer over UDP */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>

#include "cleanup.h"
#include "kernel.h"
#include "vnet/tunnel.h"

/*
 * The shape: one thread reads the device and sends, one receives and writes the device,
 * each in batches (sendmmsg, recvmmsg) of up to BATCH packets. With offload, the device
 * hands over TCP packets of up to 64 KB with their checksum left to finish (IFF_VNET_HDR,
 * TUNSETOFFLOAD), and each goes whole in one datagram, which the kernel fragments for the
 * underlay and the peer's kernel reassembles: one system call and one header per 40-odd
 * segments instead of per segment, and no checksum computed in user space at either end.
 * The receiving device segments such a packet itself where it has to (forwarding), or
 * hands it to TCP whole (local delivery).
 */
#define BATCH 32
#define VHDR ((size_t)sizeof(struct virtio_net_hdr)) /* 10 bytes */
#define MAX_PKT 65535
#define BUF_SIZE (VNET_TUNNEL_HDR + VHDR + MAX_PKT)
/* the largest packet the device may hand over: a datagram of it, header and virtio_net_hdr
 * included, must fit in IPv4's largest UDP payload (65507 bytes) */
#define GSO_MAX (65507 - VNET_TUNNEL_HDR - (unsigned)VHDR - 60)
#define POLL_MS 100

/* ---- the wire ---- */

static bool vnet_hdr_sound(const struct virtio_net_hdr *h, size_t plen)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint16_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    gso != VIRTIO_NET_HDR_GSO_TCPV6)
		return false;
	if (gso != VIRTIO_NET_HDR_GSO_NONE && !h->gso_size)
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (size_t)start + off + 2 > plen)
		return false;
	/* the kernel segments only what it finishes the checksum of */
	if (gso != VIRTIO_NET_HDR_GSO_NONE && !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return false;
	return le16toh(h->hdr_len) <= plen;
}

/* A large packet of a tun is TCP over the IP version its segmentation says. */
static bool gso_fits(const struct virtio_net_hdr *h, const uint8_t *p, size_t plen)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
		return plen >= 20 && p[0] >> 4 == 4 && p[9] == IPPROTO_TCP;
	return plen >= 40 && p[0] >> 4 == 6 && p[6] == IPPROTO_TCP;
}

/* An IP packet (tun) or an Ethernet frame (tap) of @plen bytes at @p. */
static bool packet_sound(bool tap, const uint8_t *p, size_t plen)
{
	size_t ihl, tot;

	if (tap)
		return plen >= 14;
	if (plen < 1)
		return false;
	if (p[0] >> 4 == 6)
		return plen >= 40 && 40 + ((size_t)p[4] << 8 | p[5]) <= plen;
	if (p[0] >> 4 != 4 || plen < 20)
		return false;
	ihl = (size_t)(p[0] & 0xf) * 4;
	tot = (size_t)p[2] << 8 | p[3];
	return ihl >= 20 && ihl <= plen && tot >= ihl && tot <= plen;
}

enum vnet_tunnel_verdict vnet_tunnel_decap(const struct vnet_tunnel_conf *c, const uint8_t *buf,
					   size_t len, size_t *ret_off, bool *ret_vnet_hdr)
{
	size_t off = VNET_TUNNEL_HDR;
	uint32_t id;
	bool vh;

	if (len < VNET_TUNNEL_HDR || buf[0] != VNET_TUNNEL_VERSION ||
	    (buf[1] & ~VNET_TUNNEL_F_ALL) || buf[2] || buf[3])
		return VNET_TUNNEL_MALFORMED;
	memcpy(&id, buf + 4, 4);
	if (be32toh(id) != c->id)
		return VNET_TUNNEL_BAD_ID;
	if (!(buf[1] & VNET_TUNNEL_F_L2) != !c->tap)
		return VNET_TUNNEL_MISMATCH;
	vh = buf[1] & VNET_TUNNEL_F_VNET_HDR;
	if (vh) {
		struct virtio_net_hdr h;

		if (len < off + VHDR)
			return VNET_TUNNEL_MALFORMED;
		memcpy(&h, buf + off, VHDR);
		off += VHDR;
		if (!vnet_hdr_sound(&h, len - off))
			return VNET_TUNNEL_MALFORMED;
	}
	if (!packet_sound(c->tap, buf + off, len - off))
		return VNET_TUNNEL_MALFORMED;
	if (vh && !c->tap) {
		struct virtio_net_hdr h;

		memcpy(&h, buf + off - VHDR, VHDR);
		if (!gso_fits(&h, buf + off, len - off))
			return VNET_TUNNEL_MALFORMED;
	}
	*ret_off = vh ? off - VHDR : off;
	*ret_vnet_hdr = vh;
	return VNET_TUNNEL_OK;
}

static void encap(const struct vnet_tunnel_conf *c, bool vnet_hdr, uint8_t hdr[VNET_TUNNEL_HDR])
{
	uint32_t id = htobe32(c->id);

	hdr[0] = VNET_TUNNEL_VERSION;
	hdr[1] = (uint8_t)((vnet_hdr ? VNET_TUNNEL_F_VNET_HDR : 0) |
			   (c->tap ? VNET_TUNNEL_F_L2 : 0));
	hdr[2] = hdr[3] = 0;
	memcpy(hdr + 4, &id, 4);
}

/* ---- the running tunnel ---- */

struct tunnel {
	const struct vnet_tunnel_conf *c;
	volatile sig_atomic_t *stop;
	struct vnet_tunnel_stats *st;
	int dev, sock;
	bool vnet_hdr; /* the device reads and writes a virtio_net_hdr before each packet */
	socklen_t peer_len;
	uint8_t *bufs; /* BATCH buffers of BUF_SIZE for each direction */
	int err; /* the first error that stopped a thread */
};

#define COUNT(t, field, n) __atomic_add_fetch(&(t)->st->field, (uint64_t)(n), __ATOMIC_RELAXED)

static bool stopped(const struct tunnel *t)
{
	return *t->stop || __atomic_load_n(&t->err, __ATOMIC_RELAXED);
}

static void fail(struct tunnel *t, int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&t->err, &zero, err, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Wait until @fd is readable; Return: true when it is, false on the stop or a timeout. */
static bool wait_in(struct tunnel *t, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, POLL_MS);

	if (r < 0 && errno != EINTR)
		fail(t, -errno);
	return r > 0 && !stopped(t);
}

/* Up to BATCH packets read from the device (without waiting once the first is in). */
static int read_device(struct tunnel *t, uint8_t *bufs, struct iovec (*iov)[2],
		       uint8_t (*hdr)[VNET_TUNNEL_HDR])
{
	int n = 0;

	while (n < BATCH) {
		uint8_t *b = bufs + (size_t)n * BUF_SIZE;
		ssize_t len = read(t->dev, b, BUF_SIZE);

		if (len < 0) {
			if (errno != EAGAIN && errno != EINTR)
				fail(t, -errno);
			break;
		}
		encap(t->c, t->vnet_hdr, hdr[n]);
		iov[n][0] = (struct iovec){ hdr[n], VNET_TUNNEL_HDR };
		iov[n][1] = (struct iovec){ b, (size_t)len };
		n++;
	}
	return n;
}

static void *device_to_peer(void *arg)
{
	struct tunnel *t = arg;
	uint8_t *bufs = t->bufs;
	static __thread uint8_t hdr[BATCH][VNET_TUNNEL_HDR];
	struct iovec iov[BATCH][2];
	struct mmsghdr mm[BATCH];

	while (!stopped(t)) {
		int n, sent;

		if (!wait_in(t, t->dev))
			continue;
		n = read_device(t, bufs, iov, hdr);
		for (int i = 0; i < n; i++)
			mm[i] = (struct mmsghdr){ .msg_hdr = {
							  .msg_name = (void *)&t->c->peer,
							  .msg_namelen = t->peer_len,
							  .msg_iov = iov[i],
							  .msg_iovlen = 2,
						  } };
		for (int i = 0; i<n; i += sent> 0 ? sent : 1) {
			sent = sendmmsg(t->sock, mm + i, (unsigned)(n - i), 0);
			if (sent <= 0) { /* this one is lost; the next may go */
				COUNT(t, tx_errors, 1);
				continue;
			}
			for (int k = i; k < i + sent; k++)
				COUNT(t, tx_bytes, iov[k][1].iov_len - (t->vnet_hdr ? VHDR : 0));
			COUNT(t, tx_packets, sent);
		}
	}
	return NULL;
}

static bool from_peer(const struct tunnel *t, const struct sockaddr_storage *a)
{
	const struct sockaddr_storage *p = &t->c->peer;

	if (a->ss_family != p->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)p;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)p;

	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

/* One datagram, checked, onto the device; its counters. */
static void deliver(struct tunnel *t, const struct mmsghdr *m, uint8_t *b)
{
	static const struct virtio_net_hdr none;
	size_t len = m->msg_len, off = 0;
	bool vh = false;
	struct iovec iov[2];
	int n = 0;

	if (!from_peer(t, m->msg_hdr.msg_name)) {
		COUNT(t, bad_peer, 1);
		return;
	}
	switch (vnet_tunnel_decap(t->c, b, len, &off, &vh)) {
	case VNET_TUNNEL_OK:
		break;
	case VNET_TUNNEL_BAD_ID:
		COUNT(t, bad_id, 1);
		return;
	case VNET_TUNNEL_MISMATCH:
		COUNT(t, mismatch, 1);
		return;
	default:
		COUNT(t, malformed, 1);
		return;
	}
	/* a virtio_net_hdr that asks nothing is dropped for a device without one; one that
	 * asks for a checksum or a segmentation it cannot do is the other end's mismatch */
	if (vh && !t->vnet_hdr) {
		if (memcmp(b + off, &none, VHDR)) {
			COUNT(t, mismatch, 1);
			return;
		}
		off += VHDR;
		vh = false;
	}
	if (t->vnet_hdr && !vh)
		iov[n++] = (struct iovec){ (void *)&none, VHDR };
	iov[n++] = (struct iovec){ b + off, len - off };
	if (writev(t->dev, iov, n) < 0) {
		COUNT(t, rx_errors, 1);
		return;
	}
	COUNT(t, rx_packets, 1);
	COUNT(t, rx_bytes, len - off - (vh ? VHDR : 0));
}

static void *peer_to_device(void *arg)
{
	struct tunnel *t = arg;
	uint8_t *bufs = t->bufs + (size_t)BATCH * BUF_SIZE;
	struct sockaddr_storage from[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];

	while (!stopped(t)) {
		int n;

		if (!wait_in(t, t->sock))
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs + (size_t)i * BUF_SIZE, BUF_SIZE };
			mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
							       .msg_namelen = sizeof(from[i]),
							       .msg_iov = &iov[i],
							       .msg_iovlen = 1 } };
		}
		n = recvmmsg(t->sock, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			fail(t, -errno);
		for (int i = 0; i < n; i++)
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				COUNT(t, malformed, 1);
			else
				deliver(t, &mm[i], iov[i].iov_base);
	}
	return NULL;
}

/* ---- setting it up ---- */

/*
 * Attach to the device, or make it (not persistent: it goes with the tunnel). A device
 * made before with other features refuses to be attached with ours (EINVAL): its own
 * vnet_hdr and multi-queue settings are taken instead, and offload is given up if it
 * has no vnet_hdr. Return: the descriptor or -errno; *@ret_vh: it has a virtio_net_hdr.
 */
static int open_device(const struct vnet_tunnel_conf *c, bool *ret_vh, const char **ret_why)
{
	static const short tries[] = { IFF_VNET_HDR, 0, IFF_VNET_HDR | IFF_MULTI_QUEUE,
				       IFF_MULTI_QUEUE };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), r = -EINVAL;

	if (fd < 0)
		return -errno;
	for (size_t i = c->offload ? 0 : 1; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct ifreq ifr = { .ifr_flags = (short)((c->tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
							  tries[i]) };

		if (!c->offload && (tries[i] & IFF_VNET_HDR))
			continue;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->dev);
		if (ioctl(fd, TUNSETIFF, &ifr) == 0) {
			*ret_vh = tries[i] & IFF_VNET_HDR;
			if (c->offload && !*ret_vh)
				*ret_why = "the device was made without vnet_hdr";
			return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : fd;
		}
		r = -errno;
		if (errno != EINVAL)
			break;
	}
	close(fd);
	return r;
}

/* Large TCP packets with their checksum left to finish, if the device takes them. */
static bool device_offload(int fd, const char **ret_why)
{
	int sz = (int)VHDR;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		*ret_why = "the kernel refused TUNSETOFFLOAD";
		ioctl(fd, TUNSETOFFLOAD, 0);
		return false;
	}
	return true;
}

/* The overhead of a packet in a datagram: outer IP, UDP, ours, the virtio_net_hdr (always
 * counted, so that both ends agree whatever their offloads), a tap frame's Ethernet header. */
static uint32_t overhead(const struct vnet_tunnel_conf *c)
{
	return (c->peer.ss_family == AF_INET6 ? 40 : 20) + 8 + VNET_TUNNEL_HDR + (uint32_t)VHDR +
	       (c->tap ? 14 : 0);
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* The path's MTU to the peer, as the kernel's routes say it. */
static int path_mtu(const struct vnet_tunnel_conf *c, uint32_t *ret)
{
	bool v6 = c->peer.ss_family == AF_INET6;
	int fd = socket(c->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = 0, r = 0;
	socklen_t len = sizeof(mtu);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&c->peer, addr_len(&c->peer)) < 0 ||
	    getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) < 0)
		r = -errno;
	close(fd);
	*ret = (uint32_t)mtu;
	return r;
}

/* The socket: bound to @c->local, fragmenting what is larger than the path (a whole 64 KB
 * packet in one datagram), with room for bursts. */
static int open_socket(const struct vnet_tunnel_conf *c)
{
	bool v6 = c->peer.ss_family == AF_INET6;
	int fd = socket(c->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int dont = IP_PMTUDISC_DONT, buf = 8 << 20; /* IPV6_PMTUDISC_DONT is the same 0 */

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER,
		       &dont, sizeof(dont)) < 0 ||
	    bind(fd, (const struct sockaddr *)&c->local, addr_len(&c->local)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	/* as root, past rmem_max: a burst of 64 KB datagrams must not overflow it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return fd;
}

/* The device up, its MTU, and the largest packet it hands over fitting one datagram. */
static int device_settings(const struct vnet_tunnel_conf *c, uint32_t mtu)
{
	_cleanup_(vnet_nl_closep) struct vnet_nl *nl = NULL;
	struct vnet_nl_result res = { 0 };
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct vnet_batch b;
	int r = vnet_nl_open_current(&nl);

	if (r < 0)
		return r;
	vnet_batch_init(&b);
	nlh = vnet_link_msg(&b, RTM_NEWLINK, 0, c->dev, &ifi);
	if (!nlh) {
		vnet_batch_free(&b);
		return -ENOMEM;
	}
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SIZE, GSO_MAX);
	r = vnet_nl_send(nl, &b, &res);
	vnet_batch_free(&b);
	return r < 0 ? r : res.err;
}

/* Open what the tunnel needs; Return: 0, or -errno with @reterr saying which. */
static int setup(struct tunnel *t, struct vnet_error *reterr)
{
	const struct vnet_tunnel_conf *c = t->c;
	const char *why = NULL;
	uint32_t mtu = c->mtu;
	int r;

	t->dev = open_device(c, &t->vnet_hdr, &why);
	if (t->dev < 0)
		return vnet_error_set(reterr, t->dev, c->dev, "open", "cannot attach to the %s: %s",
				      c->tap ? "tap" : "tun", strerror(-t->dev));
	if (t->vnet_hdr && !device_offload(t->dev, &why))
		t->vnet_hdr = false; /* the header stays: all zero, it asks nothing */
	t->st->offload = t->vnet_hdr;
	snprintf(t->st->note, sizeof(t->st->note), "%s", why && c->offload ? why : "");
	r = mtu ? 0 : path_mtu(c, &mtu);
	if (r < 0 || (!c->mtu && mtu <= overhead(c) + 68))
		return vnet_error_set(reterr, r < 0 ? r : -EMSGSIZE, c->dev, "mtu",
				      "no MTU to give the device: the path to the peer %s",
				      r < 0 ? strerror(-r) : "is too narrow");
	if (!c->mtu)
		mtu -= overhead(c);
	t->st->mtu = mtu;
	r = device_settings(c, mtu);
	if (r < 0)
		return vnet_error_set(reterr, r, c->dev, "set", "cannot set MTU %u and up: %s", mtu,
				      strerror(-r));
	t->sock = open_socket(c);
	if (t->sock < 0)
		return vnet_error_set(reterr, t->sock, c->dev, "bind",
				      "cannot open the UDP socket: %s", strerror(-t->sock));
	t->peer_len = addr_len(&c->peer);
	t->bufs = malloc(2 * (size_t)BATCH * BUF_SIZE);
	return t->bufs ? 0 : vnet_error_set(reterr, -ENOMEM, NULL, NULL, "out of memory");
}

int vnet_tunnel_run(const struct vnet_tunnel_conf *c, volatile sig_atomic_t *stop,
		    struct vnet_tunnel_stats *st, struct vnet_error *reterr)
{
	struct tunnel t = { .c = c, .stop = stop, .st = st, .dev = -1, .sock = -1 };
	pthread_t tx, rx;
	int r = setup(&t, reterr);

	if (r >= 0 && (r = -pthread_create(&tx, NULL, device_to_peer, &t)) == 0) {
		r = -pthread_create(&rx, NULL, peer_to_device, &t);
		if (r < 0)
			fail(&t, r);
		else
			pthread_join(rx, NULL);
		pthread_join(tx, NULL);
		r = t.err;
		if (r < 0)
			vnet_error_set(reterr, r, c->dev, "run", "stopped: %s", strerror(-r));
	}
	if (t.sock >= 0)
		close(t.sock);
	if (t.dev >= 0)
		close(t.dev);
	free(t.bufs);
	return r;
}
