// SPDX-License-Identifier: LGPL-2.1-or-later
/* tapio.c - a tiny host behind a tun or tap device, opened the way QEMU opens it (kernel tests) */
/*
 * Usage: tapio DEV [--tun] [--vnet-hdr] [--multi-queue] --ip A [--mac M]
 *              [--ping B] [--timeout S] [--serve S]
 *
 * Attaches to the existing device DEV (TUNSETIFF with IFF_TAP|IFF_NO_PI, plus
 * IFF_VNET_HDR as QEMU's vhost-less virtio-net does, or IFF_TUN|IFF_NO_PI) in
 * the namespace it runs in, then behaves as a host with address A: it answers
 * ARP requests for A (tap) and ICMP echo requests to A. With --ping it sends
 * echo requests to B (after resolving B by ARP on a tap) until one is answered
 * (exit 0) or --timeout seconds pass (exit 1). With --serve it keeps answering
 * for that many seconds (after the ping, if both are given). Always bounded.
 * Exit: 0 done, 1 ping unanswered, 2 bad usage or device error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#define ETH_HLEN_ 14
#define ET_IP 0x0800
#define ET_ARP 0x0806
#define FRAME_MAX 65536

struct opts {
	const char *dev;
	bool tun, vnet_hdr, multi_queue;
	struct in_addr ip, peer;
	bool has_ip, has_peer;
	uint8_t mac[6];
	double timeout, serve;
};

struct host {
	const struct opts *o;
	int fd;
	size_t hdrlen; /* bytes of struct virtio_net_hdr before each frame, or 0 */
	uint8_t peer_mac[6];
	bool peer_resolved, pinged;
	uint16_t seq;
	double start;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const struct host *h, const char *fmt, const char *a, const char *b)
{
	printf("tapio %s +%.3fs: ", h->o->dev, now() - h->start);
	printf(fmt, a, b);
	putchar('\n');
	fflush(stdout);
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Write one packet (an Ethernet frame on a tap, an IP packet on a tun). */
static void emit(struct host *h, const uint8_t *pkt, size_t len)
{
	uint8_t buf[FRAME_MAX];

	/* All-zero virtio_net_hdr: no checksum offload, no GSO (what QEMU sends for plain frames). */
	memset(buf, 0, h->hdrlen);
	memcpy(buf + h->hdrlen, pkt, len);
	if (write(h->fd, buf, h->hdrlen + len) < 0)
		perror("tapio: write");
}

/* Put an Ethernet header in front of the L3 packet @l3 and send it (tap), or send it bare (tun). */
static void emit_l3(struct host *h, const uint8_t *dst_mac, uint16_t type, const uint8_t *l3,
		    size_t len)
{
	uint8_t f[FRAME_MAX];

	if (h->o->tun) {
		emit(h, l3, len);
		return;
	}
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, h->o->mac, 6);
	f[12] = type >> 8;
	f[13] = type & 0xff;
	memcpy(f + ETH_HLEN_, l3, len);
	emit(h, f, ETH_HLEN_ + len);
}

static void arp_send(struct host *h, uint16_t op, const uint8_t *tha, struct in_addr tpa,
		     const uint8_t *eth_dst)
{
	uint8_t a[28] = { 0, 1, 8, 0, 6, 4, 0, 0 };

	a[7] = (uint8_t)op;
	memcpy(a + 8, h->o->mac, 6);
	memcpy(a + 14, &h->o->ip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, &tpa, 4);
	emit_l3(h, eth_dst, ET_ARP, a, sizeof(a));
}

static void on_arp(struct host *h, const uint8_t *a, size_t len)
{
	static const uint8_t zero[6];
	struct in_addr spa, tpa;
	char s[INET_ADDRSTRLEN];

	if (len < 28 || a[0] != 0 || a[1] != 1 || a[2] != 8 || a[3] != 0)
		return;
	memcpy(&spa, a + 14, 4);
	memcpy(&tpa, a + 24, 4);
	inet_ntop(AF_INET, &spa, s, sizeof(s));
	if (a[7] == 1 && tpa.s_addr == h->o->ip.s_addr) {
		arp_send(h, 2, a + 8, spa, a + 8);
		say(h, "answered ARP who-has %s from %s", inet_ntoa(h->o->ip), s);
	} else if (a[7] == 2 && h->o->has_peer && spa.s_addr == h->o->peer.s_addr &&
		   memcmp(a + 8, zero, 6)) {
		char m[18];

		snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", a[8], a[9], a[10], a[11],
			 a[12], a[13]);
		if (!h->peer_resolved)
			say(h, "ARP: %s is at %s", s, m);
		memcpy(h->peer_mac, a + 8, 6);
		h->peer_resolved = true;
	}
}

/* Build a 20-byte IPv4 header + ICMP echo of type @type in @p; Return: its length. */
static size_t icmp_build(uint8_t *p, struct in_addr src, struct in_addr dst, uint8_t type,
			 const uint8_t *icmp_rest, size_t rest_len)
{
	size_t ilen = 4 + rest_len, tot = 20 + ilen;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = tot >> 8;
	p[3] = tot & 0xff;
	p[8] = 64;
	p[9] = 1; /* ICMP */
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	memcpy(p + 10, (uint16_t[]){ csum(p, 20) }, 2);
	p[20] = type;
	p[21] = 0;
	p[22] = p[23] = 0;
	memcpy(p + 24, icmp_rest, rest_len);
	memcpy(p + 22, (uint16_t[]){ csum(p + 20, ilen) }, 2);
	return tot;
}

static void on_ip(struct host *h, const uint8_t *src_mac, const uint8_t *p, size_t len)
{
	struct in_addr src, dst;
	uint8_t out[FRAME_MAX];
	size_t ihl, n;

	if (len < 20 || (p[0] >> 4) != 4 || p[9] != 1)
		return;
	ihl = (size_t)(p[0] & 0xf) * 4;
	n = (size_t)p[2] << 8 | p[3];
	if (n > len || n < ihl + 8)
		return;
	memcpy(&src, p + 12, 4);
	memcpy(&dst, p + 16, 4);
	if (dst.s_addr != h->o->ip.s_addr)
		return;
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &src, s, sizeof(s));
	if (p[ihl] == 8) { /* echo request: answer with the same id, sequence and data */
		size_t m = icmp_build(out, h->o->ip, src, 0, p + ihl + 4, n - ihl - 4);

		emit_l3(h, src_mac, ET_IP, out, m);
		say(h, "answered ICMP echo request from %s%s", s, "");
	} else if (p[ihl] == 0 && h->o->has_peer && src.s_addr == h->o->peer.s_addr &&
		   p[ihl + 4] == 0x7a && p[ihl + 5] == 0x70) {
		if (!h->pinged)
			say(h, "got ICMP echo reply from %s%s", s, "");
		h->pinged = true;
	}
}

static void on_packet(struct host *h, const uint8_t *buf, size_t len)
{
	if (len < h->hdrlen)
		return;
	buf += h->hdrlen;
	len -= h->hdrlen;
	if (h->o->tun) {
		on_ip(h, NULL, buf, len);
		return;
	}
	if (len < ETH_HLEN_)
		return;
	uint16_t type = (uint16_t)(buf[12] << 8 | buf[13]);

	if (type == ET_ARP)
		on_arp(h, buf + ETH_HLEN_, len - ETH_HLEN_);
	else if (type == ET_IP)
		on_ip(h, buf + 6, buf + ETH_HLEN_, len - ETH_HLEN_);
}

/* One probe towards the peer: an ARP request until it is resolved, then an echo request. */
static void probe(struct host *h)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
	uint8_t rest[4 + 32], out[128];
	size_t m;

	if (!h->o->tun && !h->peer_resolved) {
		arp_send(h, 1, zero, h->o->peer, bcast);
		return;
	}
	h->seq++;
	rest[0] = 0x7a; /* id "zp": echo replies carrying it are ours */
	rest[1] = 0x70;
	rest[2] = h->seq >> 8;
	rest[3] = h->seq & 0xff;
	memset(rest + 4, 0xa5, sizeof(rest) - 4);
	m = icmp_build(out, h->o->ip, h->o->peer, 8, rest, sizeof(rest));
	emit_l3(h, h->peer_mac, ET_IP, out, m);
}

/* Read and answer until @deadline, probing every 200 ms while @probing and unanswered. */
static void run_until(struct host *h, double deadline, bool probing)
{
	uint8_t buf[FRAME_MAX];
	double next = 0;

	while (now() < deadline && !(probing && h->pinged)) {
		if (probing && now() >= next) {
			probe(h);
			next = now() + 0.2;
		}
		struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
		double until = probing && next < deadline ? next : deadline;
		int ms = (int)((until - now()) * 1000) + 1;

		if (poll(&pfd, 1, ms > 0 ? ms : 0) <= 0)
			continue;
		ssize_t n = read(h->fd, buf, sizeof(buf));

		if (n > 0)
			on_packet(h, buf, (size_t)n);
	}
}

static int attach(const struct opts *o)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		perror("tapio: open /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (o->tun ? IFF_TUN : IFF_TAP) | IFF_NO_PI;
	if (o->vnet_hdr)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (o->multi_queue)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tapio: TUNSETIFF %s: %s\n", o->dev, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int parse_opt(struct opts *o, const char *k, const char *v)
{
	if (!strcmp(k, "--ip"))
		return (o->has_ip = inet_pton(AF_INET, v, &o->ip) == 1) ? 0 : -1;
	if (!strcmp(k, "--ping"))
		return (o->has_peer = inet_pton(AF_INET, v, &o->peer) == 1) ? 0 : -1;
	if (!strcmp(k, "--mac"))
		return parse_mac(v, o->mac);
	if (!strcmp(k, "--timeout"))
		return (o->timeout = atof(v)) > 0 ? 0 : -1;
	if (!strcmp(k, "--serve"))
		return (o->serve = atof(v)) > 0 ? 0 : -1;
	return -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tun"))
			o->tun = true;
		else if (!strcmp(argv[i], "--vnet-hdr"))
			o->vnet_hdr = true;
		else if (!strcmp(argv[i], "--multi-queue"))
			o->multi_queue = true;
		else if (argv[i][0] != '-' && !o->dev)
			o->dev = argv[i];
		else if (i + 1 >= argc || parse_opt(o, argv[i], argv[i + 1]) < 0)
			return -1;
		else
			i++;
	}
	return o->dev && o->has_ip && (o->has_peer || o->serve > 0) ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .mac = { 0x02, 0x74, 0x61, 0x70, 0x69, 0x6f }, .timeout = 10 };
	struct host h = { .o = &o };

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: tapio DEV [--tun] [--vnet-hdr] [--multi-queue] --ip A "
				"[--mac M] [--ping B] [--timeout S] [--serve S]\n");
		return 2;
	}
	h.start = now();
	h.fd = attach(&o);
	if (h.fd < 0)
		return 2;
	h.hdrlen = o.vnet_hdr ? sizeof(struct virtio_net_hdr) : 0;
	say(&h, "attached as %s%s", o.tun ? "tun" : "tap", o.vnet_hdr ? " with vnet_hdr" : "");
	if (o.has_peer) {
		run_until(&h, h.start + o.timeout, true);
		if (!h.pinged)
			say(&h, "no echo reply from %s%s", inet_ntoa(o.peer),
			    " before the timeout");
	}
	if (o.serve > 0)
		run_until(&h, now() + o.serve, false);
	close(h.fd);
	return o.has_peer && !h.pinged ? 1 : 0;
}
