// SPDX-License-Identifier: LGPL-2.1-or-later
/* tunnel.c - the seed's "application B": a tun or tap device joined to a peer over UDP */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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
#include "topo.h"
#include "vnet/tunnel.h"

/*
 * The shape: a thread for each queue of the device reads it and sends, one receives and
 * writes the device, each in batches (sendmmsg, recvmmsg) of up to BATCH messages. With
 * offload, the device hands over TCP packets of up to GSO_MAX bytes with their checksum
 * left to finish (IFF_VNET_HDR, TUNSETOFFLOAD); they go cut into segments and come back
 * together (below). When the underlay refuses UDP_SEGMENT, each goes whole in one datagram
 * that the kernel fragments and the peer's kernel reassembles. The receiving device
 * segments a large packet itself where it has to (forwarding), or hands it to TCP whole
 * (local delivery).
 */
#define BATCH 32
#define VHDR ((size_t)sizeof(struct virtio_net_hdr)) /* 10 bytes */
#define MAX_PKT 65535
#define BUF_SIZE (VNET_TUNNEL_HDR + VHDR + MAX_PKT)
/* the largest packet the device may hand over: cut into segments of a 1500-byte path, each
 * with its own headers, it still goes in one UDP_SEGMENT send (UDP_GSO_BYTES); whole, as IP
 * fragments, it fits IPv4's largest UDP payload (65507 bytes) */
#define GSO_MAX 60000
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

/* ---- large TCP packets cut into segments, and segments put back together ---- */

/*
 * With offload the device hands over TCP packets of up to GSO_MAX bytes. Each is cut into
 * segments of the device's MTU, every segment a datagram with its own copy of the headers
 * (lengths, sequence number, flags and the IPv4 checksum made its own; TCP's checksum left
 * for the far device to finish, "checksum partial"), and the segments go out together: one
 * sendmsg with UDP_SEGMENT, which the kernel and the underlay cut at segment boundaries
 * without fragmenting and without a checksum in software. The receiving end gets them back
 * as one buffer (UDP_GRO), checks each segment, and writes a run of segments of one
 * connection as one large packet again, the payloads gathered in place (writev), with a
 * virtio_net_hdr asking the device to segment it where it has to.
 */
#define SEG_HDR 160 /* room for one segment's headers: ours, virtio_net_hdr, Ethernet, IP, TCP */
#define TX_SEGS 1024 /* segments queued before they are sent */
#define UDP_SEGS 64 /* segments in one UDP_SEGMENT send (the kernel takes up to 128) */
#define UDP_GSO_BYTES 65000 /* the payload of one UDP_SEGMENT send: within IPv4's and IPv6's */
#define RX_SEGS 64 /* segments put back into one packet */
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

/* Where a TCP packet's headers are, in a tun's IP packet or a tap's Ethernet frame. */
struct tcp_at {
	size_t l3, l4, hl; /* the IP header, the TCP header, the payload */
	bool v6;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	return len & 1 ? s + ((uint32_t)p[len - 1] << 8) : s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A TCP packet over IPv4 (not a fragment) or IPv6 (no extension header), headers in SEG_HDR. */
static bool tcp_find(bool tap, const uint8_t *p, size_t plen, struct tcp_at *ret)
{
	size_t l3 = tap ? 14 : 0, l4;
	uint16_t type = tap && plen >= 14 ? get16(p + 12) : 0;

	if (plen < l3 + 40 || (tap && type != 0x0800 && type != 0x86dd))
		return false;
	ret->v6 = p[l3] >> 4 == 6;
	if (tap && ret->v6 != (type == 0x86dd))
		return false;
	if (ret->v6) {
		l4 = l3 + 40;
		if (p[l3 + 6] != IPPROTO_TCP)
			return false;
	} else {
		l4 = l3 + (size_t)(p[l3] & 0xf) * 4;
		if (p[l3] >> 4 != 4 || l4 < l3 + 20 || p[l3 + 9] != IPPROTO_TCP ||
		    (p[l3 + 6] & 0x3f) || p[l3 + 7] || plen < l4 + 20)
			return false;
	}
	ret->l3 = l3;
	ret->l4 = l4;
	ret->hl = l4 + (size_t)(p[l4 + 12] >> 4) * 4;
	return ret->hl >= l4 + 20 && ret->hl <= plen && VNET_TUNNEL_HDR + VHDR + ret->hl <= SEG_HDR;
}

/* A TCP packet with the headers @k at @p and @paylen bytes of payload: its IP length, its
 * IPv4 header checksum, and TCP's checksum field the pseudo-header's sum, left to finish. */
static void set_lengths(uint8_t *p, const struct tcp_at *k, size_t paylen)
{
	uint8_t *ip = p + k->l3;
	uint32_t tcplen = (uint32_t)(k->hl - k->l4 + paylen), s;

	if (k->v6) {
		put16(ip + 4, (uint16_t)tcplen);
		s = sum16(ip + 8, 32, 0);
	} else {
		put16(ip + 2, (uint16_t)(k->l4 - k->l3 + tcplen));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold(sum16(ip, k->l4 - k->l3, 0)));
		s = sum16(ip + 12, 8, 0);
	}
	put16(p + k->l4 + 16, fold(s + IPPROTO_TCP + tcplen));
}

/* The virtio_net_hdr of TCP's checksum left to finish, for one segment or (@gso) many. */
static void csum_hdr(const struct tcp_at *k, uint16_t gso, uint16_t mss, uint8_t *o)
{
	struct virtio_net_hdr v = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = (uint8_t)gso,
		.hdr_len = htole16((uint16_t)k->hl),
		.gso_size = htole16(mss),
		.csum_start = htole16((uint16_t)k->l4),
		.csum_offset = htole16(16),
	};

	memcpy(o, &v, VHDR);
}

/* ---- the running tunnel ---- */

/* What goes out in the next sendmmsg: messages of one datagram or of several segments. */
struct txq {
	struct mmsghdr mm[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[BATCH];
	unsigned segs[BATCH]; /* the datagrams of each message */
	size_t bytes[BATCH]; /* the packet a message ends, or 0 */
	struct iovec iov[2 * TX_SEGS]; /* two a datagram: its headers, the rest of its packet */
	uint8_t hdr[TX_SEGS][SEG_HDR];
	unsigned n_msg, n_seg;
};

/* Segments received that make one packet again, written when the next does not join. */
struct run {
	struct iovec iov[RX_SEGS]; /* the first's virtio_net_hdr and packet, the others' payloads */
	unsigned n;
	struct tcp_at k;
	size_t mss, total; /* the first's payload length, and all of theirs */
	uint32_t next; /* the sequence number that joins */
	bool last, psh; /* one shorter than the first, or pushed, came: none joins after it */
};

/* One queue of the device, read by a thread of its own (IFF_MULTI_QUEUE). */
struct queue {
	struct tunnel *t;
	int fd;
	uint8_t *bufs; /* BATCH buffers of BUF_SIZE */
	struct txq *txq;
	pthread_t th;
	bool started;
};

struct tunnel {
	const struct vnet_tunnel_conf *c;
	volatile sig_atomic_t *stop;
	struct vnet_tunnel_stats *st;
	struct queue q[VNET_TUNNEL_QUEUES_MAX];
	unsigned nq;
	int sock;
	bool vnet_hdr; /* the device reads and writes a virtio_net_hdr before each packet */
	socklen_t peer_len;
	uint8_t *bufs; /* BATCH buffers of BUF_SIZE for what comes from the peer */
	struct run *run;
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

/* ---- device to peer ---- */

/* A message that failed. UDP_SEGMENT refused (an underlay without checksum offload, an
 * MTU too large for the path) is given up: large packets then go whole, as IP fragments. */
static void tx_refused(struct tunnel *t, const struct txq *q, unsigned i, int err)
{
	COUNT(t, tx_errors, 1);
	if (q->segs[i] > 1 && (err == EIO || err == EINVAL))
		__atomic_store_n(&t->st->gso, false, __ATOMIC_RELAXED);
}

static void tx_flush(struct tunnel *t, struct txq *q)
{
	for (unsigned i = 0, sent; i < q->n_msg; i += sent) {
		int r = sendmmsg(t->sock, q->mm + i, q->n_msg - i, 0);

		sent = r > 0 ? (unsigned)r : 1;
		if (r <= 0) { /* this one is lost; the next may go */
			tx_refused(t, q, i, errno);
			continue;
		}
		for (unsigned k = i; k < i + sent; k++) {
			COUNT(t, tx_datagrams, q->segs[k]);
			if (q->bytes[k]) {
				COUNT(t, tx_packets, 1);
				COUNT(t, tx_bytes, q->bytes[k]);
			}
		}
	}
	q->n_msg = q->n_seg = 0;
}

/* Room for @nseg more datagrams in one message: what is queued goes first if there is none. */
static void tx_room(struct tunnel *t, struct txq *q, unsigned nseg)
{
	if (q->n_msg == BATCH || q->n_seg + nseg > TX_SEGS)
		tx_flush(t, q);
}

/* A message of the last @nseg datagrams queued, as segments of @seg bytes when several; it
 * ends a packet of @bytes bytes, or none (0). */
static void tx_message(struct tunnel *t, struct txq *q, unsigned nseg, size_t seg, size_t bytes)
{
	struct msghdr *m = &q->mm[q->n_msg].msg_hdr;

	*m = (struct msghdr){ .msg_name = (void *)&t->c->peer,
			      .msg_namelen = t->peer_len,
			      .msg_iov = q->iov + 2 * (size_t)(q->n_seg - nseg),
			      .msg_iovlen = 2 * (size_t)nseg };
	if (nseg > 1) {
		struct cmsghdr *cm = &q->ctl[q->n_msg].align;
		uint16_t size = (uint16_t)seg;

		m->msg_control = cm;
		m->msg_controllen = sizeof(q->ctl[0].buf);
		*cm = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(size)),
					.cmsg_level = SOL_UDP,
					.cmsg_type = UDP_SEGMENT };
		memcpy(CMSG_DATA(cm), &size, sizeof(size));
	}
	q->segs[q->n_msg] = nseg;
	q->bytes[q->n_msg++] = bytes;
}

/* One more datagram queued: @hl bytes of headers at @h, then @len of its packet at @p. */
static void tx_datagram(struct txq *q, uint8_t *h, size_t hl, const uint8_t *p, size_t len)
{
	size_t i = 2 * (size_t)q->n_seg++;

	q->iov[i] = (struct iovec){ h, hl };
	q->iov[i + 1] = (struct iovec){ (void *)p, len };
}

/* A packet (@b: its virtio_net_hdr first if the device has one) whole in one datagram. */
static void tx_whole(struct tunnel *t, struct txq *q, uint8_t *b, size_t len)
{
	uint8_t *h;

	tx_room(t, q, 1);
	h = q->hdr[q->n_seg];
	encap(t->c, t->vnet_hdr, h);
	tx_datagram(q, h, VNET_TUNNEL_HDR, b, len);
	tx_message(t, q, 1, 0, len - (t->vnet_hdr ? VHDR : 0));
}

/* Segment @i of @nseg of the packet @p (headers @k, payload cut every @mss bytes, this one
 * @paylen) at @o: our header, its virtio_net_hdr, and the packet's headers made its own. */
static void segment_headers(const struct tunnel *t, const uint8_t *p, const struct tcp_at *k,
			    size_t i, size_t nseg, size_t mss, size_t paylen, uint8_t *o)
{
	uint8_t *h = o + VNET_TUNNEL_HDR + VHDR, *th = h + k->l4;
	uint32_t seq;

	encap(t->c, true, o);
	csum_hdr(k, VIRTIO_NET_HDR_GSO_NONE, 0, o + VNET_TUNNEL_HDR);
	memcpy(h, p, k->hl);
	if (!k->v6) /* the IPv4 id: one more each segment, as the kernel's own segmentation */
		put16(h + k->l3 + 4, (uint16_t)(get16(p + k->l3 + 4) + i));
	memcpy(&seq, th + 4, 4);
	seq = htobe32(be32toh(seq) + (uint32_t)(i * mss));
	memcpy(th + 4, &seq, 4);
	if (i + 1 < nseg)
		th[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (i)
		th[13] &= (uint8_t)~TCP_CWR;
	set_lengths(h, k, paylen);
}

/* A large TCP packet the device handed over, of the segmentation and checksum it asks. */
static bool cuttable(const struct virtio_net_hdr *v, bool tap, const uint8_t *p, size_t plen,
		     struct tcp_at *k)
{
	uint8_t gso = v->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	return (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) &&
	       (v->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && v->gso_size &&
	       tcp_find(tap, p, plen, k) && k->v6 == (gso == VIRTIO_NET_HDR_GSO_TCPV6) &&
	       le16toh(v->csum_start) == k->l4 && le16toh(v->csum_offset) == 16 && plen > k->hl;
}

/* A large TCP packet (@b: virtio_net_hdr and packet) as segments of the device's MTU, in
 * UDP_SEGMENT messages. Return: false when it is not one to cut. */
static bool tx_segments(struct tunnel *t, struct txq *q, uint8_t *b, size_t len)
{
	const uint8_t *p = b + VHDR;
	size_t plen = len - VHDR, mss, seg, per, nseg, pay;
	struct virtio_net_hdr v;
	struct tcp_at k;

	memcpy(&v, b, VHDR);
	if (!__atomic_load_n(&t->st->gso, __ATOMIC_RELAXED) ||
	    !cuttable(&v, t->c->tap, p, plen, &k))
		return false;
	mss = le16toh(v.gso_size);
	seg = VNET_TUNNEL_HDR + VHDR + k.hl + mss;
	per = UDP_GSO_BYTES / seg < UDP_SEGS ? UDP_GSO_BYTES / seg : UDP_SEGS;
	pay = plen - k.hl;
	nseg = (pay + mss - 1) / mss;
	if (!per)
		return false;
	for (size_t i = 0; i < nseg; i += per) {
		size_t m = nseg - i < per ? nseg - i : per;

		tx_room(t, q, (unsigned)m);
		for (size_t j = i; j < i + m; j++) {
			size_t n = j + 1 < nseg ? mss : pay - j * mss;
			uint8_t *h = q->hdr[q->n_seg];

			segment_headers(t, p, &k, j, nseg, mss, n, h);
			tx_datagram(q, h, VNET_TUNNEL_HDR + VHDR + k.hl, p + k.hl + j * mss, n);
		}
		tx_message(t, q, (unsigned)m, seg, i + m == nseg ? plen : 0);
	}
	return true;
}

/* Up to BATCH packets read from queue @q (without waiting once the first is in). */
static int read_device(struct tunnel *t, struct queue *q, size_t *lens)
{
	int n = 0;

	while (n < BATCH) {
		ssize_t len = read(q->fd, q->bufs + (size_t)n * BUF_SIZE, BUF_SIZE);

		if (len < 0) {
			/* EBADFD: the device was deleted under the tunnel */
			if (errno != EAGAIN && errno != EINTR)
				fail(t, errno == EBADFD ? -ENODEV : -errno);
			break;
		}
		lens[n++] = (size_t)len;
	}
	return n;
}

static void *device_to_peer(void *arg)
{
	struct queue *q = arg;
	struct tunnel *t = q->t;
	size_t lens[BATCH];

	while (!stopped(t)) {
		int n;

		if (!wait_in(t, q->fd))
			continue;
		n = read_device(t, q, lens);
		for (int i = 0; i < n; i++) {
			uint8_t *b = q->bufs + (size_t)i * BUF_SIZE;

			if (!t->vnet_hdr || lens[i] < VHDR || !tx_segments(t, q->txq, b, lens[i]))
				tx_whole(t, q->txq, b, lens[i]);
		}
		tx_flush(t, q->txq);
	}
	return NULL;
}

/* ---- peer to device ---- */

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

/*
 * The queue a packet (@p, @len bytes, after its virtio_net_hdr) is written to: one per flow,
 * by its addresses and ports. The kernel sends a flow's packets out of the queue its last
 * packet in came from (tun's automatic steering), so each flow keeps one queue, and one
 * reading thread, both ways. With one queue, that one.
 */
static int queue_fd(const struct tunnel *t, const uint8_t *p, size_t len)
{
	size_t l3 = t->c->tap ? 14 : 0, l4 = 0;
	uint32_t h = VNET_HASH_INIT;
	uint8_t proto;

	if (t->nq == 1 || len < l3 + 20)
		return t->q[0].fd;
	if (p[l3] >> 4 == 6 && len >= l3 + 40) {
		h = vnet_hash(h, p + l3 + 8, 32);
		proto = p[l3 + 6];
		l4 = l3 + 40;
	} else {
		h = vnet_hash(h, p + l3 + 12, 8);
		proto = p[l3 + 9];
		if (!(p[l3 + 6] & 0x3f) && !p[l3 + 7]) /* a fragment has no ports */
			l4 = l3 + (size_t)(p[l3] & 0xf) * 4;
	}
	if (l4 && len >= l4 + 4 && (proto == IPPROTO_TCP || proto == IPPROTO_UDP))
		h = vnet_hash(h, p + l4, 4);
	return t->q[h % t->nq].fd;
}

/* @iov (@n of them) written to the device: the packet at @p, @len bytes (counted), behind
 * its virtio_net_hdr when the device has one. */
static void to_device(struct tunnel *t, const struct iovec *iov, int n, const uint8_t *p,
		      size_t len)
{
	if (writev(queue_fd(t, p, len), iov, n) < 0) {
		COUNT(t, rx_errors, 1);
		return;
	}
	COUNT(t, rx_packets, 1);
	COUNT(t, rx_bytes, len);
}

/* The run written: one segment as it came, several as one packet of their segmentation. */
static void rx_flush(struct tunnel *t, struct run *r)
{
	uint8_t *vh = r->iov[0].iov_base, *p = vh + VHDR;

	if (!r->n)
		return;
	if (r->n > 1) {
		csum_hdr(&r->k, r->k.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
			 (uint16_t)r->mss, vh);
		set_lengths(p, &r->k, r->total);
		if (r->psh)
			p[r->k.l4 + 13] |= TCP_PSH;
	}
	to_device(t, r->iov, (int)r->n, p, r->k.hl + r->total);
	r->n = 0;
}

/* A segment one of ours could have cut: TCP's checksum left to finish, only ACK (and PSH). */
static bool joinable(bool tap, const uint8_t *vh, size_t len, struct tcp_at *k)
{
	struct virtio_net_hdr v;
	const uint8_t *p = vh + VHDR;

	memcpy(&v, vh, VHDR);
	return v.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && v.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	       tcp_find(tap, p, len - VHDR, k) && le16toh(v.csum_start) == k->l4 &&
	       le16toh(v.csum_offset) == 16 && len - VHDR > k->hl &&
	       (p[k->l4 + 13] & (uint8_t)~TCP_PSH) == TCP_ACK;
}

/* The segment @p (headers @k) continues the run's packet: the same headers but IPv4's id
 * and checksum and length, TCP's sequence number (the next), flags and checksum. */
static bool joins(const struct run *r, const uint8_t *p, const struct tcp_at *k, size_t pay)
{
	const uint8_t *h = (const uint8_t *)r->iov[0].iov_base + VHDR, *ip = p + k->l3;
	const uint8_t *hip = h + k->l3, *th = p + k->l4, *hth = h + k->l4;
	uint32_t seq;

	memcpy(&seq, th + 4, 4);
	if (r->last || r->n == RX_SEGS || k->l4 != r->k.l4 || k->hl != r->k.hl || pay > r->mss ||
	    be32toh(seq) != r->next || k->hl - k->l3 + r->total + pay > 65535)
		return false;
	if (memcmp(p, h, k->l3) || memcmp(th, hth, 4) || memcmp(th + 8, hth + 8, 5) ||
	    memcmp(th + 14, hth + 14, 2) || memcmp(th + 20, hth + 20, k->hl - k->l4 - 20))
		return false;
	if (k->v6)
		return !memcmp(ip, hip, 4) && !memcmp(ip + 6, hip + 6, 34);
	return !memcmp(ip, hip, 2) && !memcmp(ip + 6, hip + 6, 4) &&
	       !memcmp(ip + 12, hip + 12, 8) && !memcmp(ip + 20, hip + 20, k->l4 - k->l3 - 20);
}

/* A checked datagram's virtio_net_hdr and packet (@vh, @len bytes) into the run. Return:
 * false when it is no segment to put together, for the caller to write alone. */
static bool rx_join(struct tunnel *t, struct run *r, uint8_t *vh, size_t len)
{
	const uint8_t *p = vh + VHDR;
	struct tcp_at k;
	size_t pay;
	uint32_t seq;

	if (!joinable(t->c->tap, vh, len, &k))
		return false;
	pay = len - VHDR - k.hl;
	if (r->n && joins(r, p, &k, pay)) {
		r->iov[r->n++] = (struct iovec){ (void *)(p + k.hl), pay };
		r->total += pay;
		r->psh = p[k.l4 + 13] & TCP_PSH;
	} else {
		rx_flush(t, r);
		*r = (struct run){ .n = 1, .k = k, .mss = pay, .total = pay };
		r->iov[0] = (struct iovec){ vh, len };
		memcpy(&seq, p + k.l4 + 4, 4);
		r->next = be32toh(seq);
	}
	r->next += (uint32_t)pay;
	r->last = pay < r->mss || (p[k.l4 + 13] & TCP_PSH);
	return true;
}

/* Finish the checksum a virtio_net_hdr (@vh) asks for, for a device that takes none.
 * Return: false when it asks for what only a device with offload does (segmentation). */
static bool finish_csum(uint8_t *vh, size_t len)
{
	struct virtio_net_hdr v;
	uint8_t *p = vh + VHDR;
	size_t start;

	memcpy(&v, vh, VHDR);
	if (v.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) { /* decap checked it lies in the packet */
		start = le16toh(v.csum_start);
		put16(p + start + le16toh(v.csum_offset),
		      (uint16_t)~fold(sum16(p + start, len - VHDR - start, 0)));
	}
	return true;
}

/* One datagram from the peer, checked, then put into the run or written alone. */
static void deliver(struct tunnel *t, struct run *r, uint8_t *b, size_t len)
{
	static const struct virtio_net_hdr none;
	size_t off = 0;
	bool vh = false;
	struct iovec iov[2];
	int n = 0;

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
	COUNT(t, rx_datagrams, 1);
	if (vh && t->vnet_hdr && rx_join(t, r, b + off, len - off))
		return;
	rx_flush(t, r);
	if (vh && !t->vnet_hdr) {
		if (!finish_csum(b + off, len - off)) {
			COUNT(t, mismatch, 1);
			return;
		}
		off += VHDR;
		vh = false;
	}
	if (t->vnet_hdr && !vh)
		iov[n++] = (struct iovec){ (void *)&none, VHDR };
	iov[n++] = (struct iovec){ b + off, len - off };
	off += vh ? VHDR : 0;
	to_device(t, iov, n, b + off, len - off);
}

/* The segment size of a message the kernel put together from several datagrams (UDP_GRO). */
static size_t gro_size(const struct msghdr *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR((struct msghdr *)m, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int size;

			memcpy(&size, CMSG_DATA(cm), sizeof(size));
			return size > 0 ? (size_t)size : 0;
		}
	return 0;
}

/* A message received: one datagram, or several of the same size put together. */
static void take(struct tunnel *t, struct run *r, const struct mmsghdr *m, uint8_t *b)
{
	size_t len = m->msg_len, seg = gro_size(&m->msg_hdr);

	if (!seg || seg > len)
		seg = len;
	if (!from_peer(t, m->msg_hdr.msg_name))
		COUNT(t, bad_peer, seg ? (len + seg - 1) / seg : 1);
	else if (m->msg_hdr.msg_flags & MSG_TRUNC)
		COUNT(t, malformed, 1);
	else if (seg == len)
		deliver(t, r, b, len);
	else
		for (size_t o = 0; o < len; o += seg)
			deliver(t, r, b + o, len - o < seg ? len - o : seg);
}

static void *peer_to_device(void *arg)
{
	struct tunnel *t = arg;
	uint8_t *bufs = t->bufs;
	struct sockaddr_storage from[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[BATCH];
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
							       .msg_iovlen = 1,
							       .msg_control = ctl[i].buf,
							       .msg_controllen =
								       sizeof(ctl[i].buf) } };
		}
		n = recvmmsg(t->sock, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			fail(t, -errno);
		for (int i = 0; i < n; i++)
			take(t, t->run, &mm[i], iov[i].iov_base);
		rx_flush(t, t->run);
	}
	return NULL;
}

/* ---- setting it up ---- */

/* One more file of device @c->dev, with @flags; Return: its descriptor or -errno. */
static int attach(const struct vnet_tunnel_conf *c, short flags)
{
	struct ifreq ifr = { .ifr_flags =
				     (short)((c->tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | flags) };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK), r;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->dev);
	if (ioctl(fd, TUNSETIFF, &ifr) == 0)
		return fd;
	r = -errno;
	close(fd);
	return r;
}

/* How many queues: as asked, else one for every two CPUs; at most VNET_TUNNEL_QUEUES_MAX. */
static unsigned queues_wanted(const struct vnet_tunnel_conf *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = c->queues ? c->queues : cpus > 3 ? (unsigned)cpus / 2 : 1;

	return n < VNET_TUNNEL_QUEUES_MAX ? n : VNET_TUNNEL_QUEUES_MAX;
}

/*
 * Attach to the device, or make it (not persistent: it goes with the tunnel), with a file
 * for each queue. A device made before with other features refuses to be attached with
 * ours (EINVAL): its own vnet_hdr and multi-queue settings are taken instead; offload is
 * given up if it has no vnet_hdr, and it has one queue if it was made without multi-queue.
 * Return: 0 or -errno; @t->q[].fd and @t->nq set, *@ret_vh: it has a virtio_net_hdr.
 */
static int open_device(struct tunnel *t, bool *ret_vh, const char **ret_why)
{
	static const short one[] = { IFF_VNET_HDR, 0, IFF_VNET_HDR | IFF_MULTI_QUEUE,
				     IFF_MULTI_QUEUE };
	static const short many[] = { IFF_VNET_HDR | IFF_MULTI_QUEUE, IFF_MULTI_QUEUE, IFF_VNET_HDR,
				      0 };
	const struct vnet_tunnel_conf *c = t->c;
	unsigned want = queues_wanted(c);
	const short *tries = want > 1 ? many : one;
	int fd = -EINVAL;
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!c->offload && (tries[i] & IFF_VNET_HDR))
			continue;
		fd = attach(c, tries[i]);
		if (fd != -EINVAL)
			break;
	}
	if (fd < 0)
		return fd;
	t->q[0].fd = fd;
	t->nq = 1;
	while ((tries[i] & IFF_MULTI_QUEUE) && t->nq < want && (fd = attach(c, tries[i])) >= 0)
		t->q[t->nq++].fd = fd;
	*ret_vh = tries[i] & IFF_VNET_HDR;
	if (c->offload && !*ret_vh)
		*ret_why = "offload off: the device was made without vnet_hdr";
	else if (c->queues > 1 && t->nq < c->queues)
		*ret_why = t->nq > 1 ? "fewer queues than asked: the device took no more" :
				       "one queue: the device was made without multi_queue";
	return 0;
}

/* Large TCP packets with their checksum left to finish, if the device takes them. */
static bool device_offload(int fd, const char **ret_why)
{
	int sz = (int)VHDR;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		*ret_why = "offload off: the kernel refused TUNSETOFFLOAD";
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

/* The socket: bound to @c->local, fragmenting what is larger than the path (a whole large
 * packet in one datagram, when UDP_SEGMENT is refused), with room for bursts. */
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

	r = open_device(t, &t->vnet_hdr, &why);
	if (r < 0)
		return vnet_error_set(reterr, r, c->dev, "open", "cannot attach to the %s: %s",
				      c->tap ? "tap" : "tun", strerror(-r));
	if (t->vnet_hdr && !device_offload(t->q[0].fd, &why))
		t->vnet_hdr = false; /* the header stays: all zero, it asks nothing */
	t->st->offload = t->vnet_hdr;
	t->st->queues = t->nq;
	snprintf(t->st->note, sizeof(t->st->note), "%s", why ? why : "");
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
	t->st->gso = t->vnet_hdr; /* until the underlay refuses it */
	t->st->gro = setsockopt(t->sock, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int)) == 0;
	t->bufs = malloc((size_t)BATCH * BUF_SIZE);
	t->run = calloc(1, sizeof(*t->run));
	r = t->bufs && t->run ? 0 : -ENOMEM;
	for (unsigned i = 0; i < t->nq; i++) {
		t->q[i].t = t;
		t->q[i].bufs = malloc((size_t)BATCH * BUF_SIZE);
		t->q[i].txq = calloc(1, sizeof(*t->q[i].txq));
		r = t->q[i].bufs && t->q[i].txq ? r : -ENOMEM;
	}
	return r < 0 ? vnet_error_set(reterr, r, NULL, NULL, "out of memory") : 0;
}

/* One thread for each queue (device to peer), one for what comes from the peer. */
static int run_threads(struct tunnel *t)
{
	pthread_t rx = 0; /* set by pthread_create(), which the analyzer does not know */
	int r = 0;

	for (unsigned i = 0; !r && i < t->nq; i++) {
		r = -pthread_create(&t->q[i].th, NULL, device_to_peer, &t->q[i]);
		t->q[i].started = !r;
	}
	if (!r)
		r = -pthread_create(&rx, NULL, peer_to_device, t);
	if (r < 0)
		fail(t, r);
	else
		pthread_join(rx, NULL);
	for (unsigned i = 0; i < t->nq; i++)
		if (t->q[i].started)
			pthread_join(t->q[i].th, NULL);
	return t->err;
}

int vnet_tunnel_run(const struct vnet_tunnel_conf *c, volatile sig_atomic_t *stop,
		    struct vnet_tunnel_stats *st, struct vnet_error *reterr)
{
	struct tunnel t = { .c = c, .stop = stop, .st = st, .sock = -1 };
	int r = setup(&t, reterr);

	if (r >= 0) {
		r = run_threads(&t);
		if (r < 0)
			vnet_error_set(reterr, r, c->dev, "run", "stopped: %s",
				       r == -ENODEV ? "the device was deleted" : strerror(-r));
	}
	if (t.sock >= 0)
		close(t.sock);
	for (unsigned i = 0; i < t.nq; i++) {
		close(t.q[i].fd);
		free(t.q[i].bufs);
		free(t.q[i].txq);
	}
	free(t.bufs);
	free(t.run);
	return r;
}
