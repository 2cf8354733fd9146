// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-tunnel.c - libFuzzer target: a UDP datagram as vnet tunnel checks it (vnet_tunnel_decap) */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "vnet/tunnel.h"

/*
 * The input is a datagram from the network, as the tunnel's receiving thread hands it to
 * vnet_tunnel_decap(): checked by a tun and a tap tunnel, each with id 1 and with the id the
 * datagram itself carries (bytes 4..7), so that the checks past the id are reached too.
 * vnet_tunnel_decap() is pure: nothing here reaches the kernel. What it lets through is
 * written to the device as it is, so each verdict is checked against the wire format
 * (vnet-tunnel(7)) here, independently: a datagram it passes is one the device may be given.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VHDR sizeof(struct virtio_net_hdr)

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "fuzz-tunnel: %s (tap %d, id %u, len %zu, verdict %d)\n", \
				#cond, c->tap, c->id, len, v);                                    \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* The packet @p of @plen bytes that a passed datagram carries, as the device will read it. */
static bool packet_ok(bool tap, const uint8_t *p, size_t plen)
{
	size_t ihl, tot;

	if (tap)
		return plen >= 14;
	if (plen >= 40 && p[0] >> 4 == 6)
		return 40 + ((size_t)p[4] << 8 | p[5]) <= plen;
	if (plen < 20 || p[0] >> 4 != 4)
		return false;
	ihl = (size_t)(p[0] & 0xf) * 4;
	tot = (size_t)p[2] << 8 | p[3];
	return ihl >= 20 && tot >= ihl && tot <= plen;
}

/* A virtio_net_hdr the device can take for a packet of @plen bytes. */
static bool vnet_hdr_ok(const struct virtio_net_hdr *h, size_t plen)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    gso != VIRTIO_NET_HDR_GSO_TCPV6)
		return false;
	if (gso != VIRTIO_NET_HDR_GSO_NONE && !le16toh(h->gso_size))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 > plen)
		return false;
	return le16toh(h->hdr_len) <= plen;
}

/* One tunnel's verdict on @buf, checked. Return: the verdict. */
static enum vnet_tunnel_verdict one(const struct vnet_tunnel_conf *c, const uint8_t *buf,
				    size_t len)
{
	size_t off = (size_t)-1, off2 = (size_t)-1;
	bool vh = false, vh2 = false;
	enum vnet_tunnel_verdict v = vnet_tunnel_decap(c, buf, len, &off, &vh), v2;
	bool hdr_sound = len >= VNET_TUNNEL_HDR && buf[0] == VNET_TUNNEL_VERSION &&
			 !(buf[1] & ~VNET_TUNNEL_F_ALL) && !buf[2] && !buf[3];
	uint32_t id = 0;

	if (len >= VNET_TUNNEL_HDR)
		id = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 |
		     buf[7];
	CHECK(v == VNET_TUNNEL_OK || v == VNET_TUNNEL_MALFORMED || v == VNET_TUNNEL_BAD_ID ||
	      v == VNET_TUNNEL_MISMATCH);
	/* pure: the same answer again */
	v2 = vnet_tunnel_decap(c, buf, len, &off2, &vh2);
	CHECK(v2 == v);
	/* the header is checked first: a bad one is malformed whatever follows */
	if (!hdr_sound) {
		CHECK(v == VNET_TUNNEL_MALFORMED);
		return v;
	}
	CHECK((v == VNET_TUNNEL_BAD_ID) == (id != c->id));
	if (v == VNET_TUNNEL_BAD_ID)
		return v;
	CHECK((v == VNET_TUNNEL_MISMATCH) == (!(buf[1] & VNET_TUNNEL_F_L2) != !c->tap));
	if (v != VNET_TUNNEL_OK)
		return v;
	CHECK(off2 == off && vh2 == vh);
	/* where the device's input starts, within the datagram, after the header */
	CHECK(off == VNET_TUNNEL_HDR);
	CHECK(off <= len);
	CHECK(vh == !!(buf[1] & VNET_TUNNEL_F_VNET_HDR));
	if (vh) {
		struct virtio_net_hdr h;

		CHECK(off + VHDR <= len);
		memcpy(&h, buf + off, VHDR);
		CHECK(vnet_hdr_ok(&h, len - off - VHDR));
		off += VHDR;
	}
	/* the packet after it is whole, within the datagram */
	CHECK(off <= len);
	CHECK(packet_ok(c->tap, buf + off, len - off));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/*
	 * A copy of exactly @size bytes in a buffer of its own: ASan catches any read past the
	 * datagram's end (libFuzzer's own buffer may be larger).
	 */
	uint8_t *buf = malloc(size ? size : 1);
	struct vnet_tunnel_conf c = { .offload = true };
	uint32_t ids[2] = { 1, 1 };
	enum vnet_tunnel_verdict v[2][2];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= VNET_TUNNEL_HDR)
		ids[1] = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 |
			 buf[7];
	for (int tap = 0; tap < 2; tap++) {
		c.tap = tap;
		snprintf(c.dev, sizeof(c.dev), "%s", tap ? "tap0" : "tun0");
		for (int i = 0; i < 2; i++) {
			c.id = ids[i];
			v[tap][i] = one(&c, buf, size);
		}
	}
	/* a sound header of one mode is a mismatch to the other (same id): never both OK */
	for (int i = 0; i < 2; i++)
		if (v[0][i] == VNET_TUNNEL_OK && v[1][i] == VNET_TUNNEL_OK)
			abort();
	free(buf);
	return 0;
}
