/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tunnel.h - public API of libvnet's tunnel: a tun or tap device joined to a peer over UDP */
#ifndef VNET_TUNNEL_H
#define VNET_TUNNEL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vnet/vnet.h"

/*
 * The wire format (vnet-tunnel(7)): every UDP datagram is one packet (tun) or frame (tap)
 * behind an 8-byte header, all fields in network byte order:
 *
 *   byte 0     version, VNET_TUNNEL_VERSION
 *   byte 1     flags: VNET_TUNNEL_F_*
 *   bytes 2-3  reserved, zero
 *   bytes 4-7  the tunnel's id
 *
 * With VNET_TUNNEL_F_VNET_HDR a virtio_net_hdr (10 bytes, as the tun device's IFF_VNET_HDR
 * reads it) follows the header: the checksum left to finish ("checksum partial") and, for a
 * large TCP packet, its segment size, which the receiving device segments as it needs.
 */
#define VNET_TUNNEL_VERSION 1
#define VNET_TUNNEL_HDR 8
#define VNET_TUNNEL_F_VNET_HDR 0x01 /* a virtio_net_hdr follows the header */
#define VNET_TUNNEL_F_L2 0x02 /* an Ethernet frame (tap), not an IP packet (tun) */
#define VNET_TUNNEL_F_ALL (VNET_TUNNEL_F_VNET_HDR | VNET_TUNNEL_F_L2)
#define VNET_TUNNEL_PORT 4790 /* the UDP port when none is given */
#define VNET_TUNNEL_QUEUES_MAX 8 /* queues of the device, each read by a thread */

/**
 * struct vnet_tunnel_conf - a tunnel's end
 * @dev: the tun or tap device, made by the tunnel when it does not exist
 * @tap: a tap (Ethernet frames), else a tun (IP packets)
 * @local: the UDP address and port to receive on (any address, VNET_TUNNEL_PORT when unset)
 * @peer: the other end's address and port: datagrams go there, and only its are taken
 * @id: the tunnel's id; a datagram with another is dropped
 * @mtu: the device's MTU; 0: the path's MTU to @peer less the overhead
 * @offload: let the device hand over large TCP packets with their checksum left to finish
 *           (IFF_VNET_HDR, TUNSETOFFLOAD), cut into segments the other end puts together
 * @queues: the device's queues (IFF_MULTI_QUEUE), each read by a thread of its own; 0: one
 *          for every two CPUs; at most VNET_TUNNEL_QUEUES_MAX
 */
struct vnet_tunnel_conf {
	char dev[VNET_IFNAMSIZ];
	bool tap;
	struct sockaddr_storage local, peer;
	uint32_t id;
	uint32_t mtu;
	bool offload;
	unsigned queues;
};

/* What a tunnel counted, in each direction. */
struct vnet_tunnel_stats {
	uint64_t tx_packets, tx_bytes; /* device -> peer: packets read from the device */
	uint64_t rx_packets, rx_bytes; /* peer -> device: packets written to the device */
	uint64_t tx_datagrams, rx_datagrams; /* on the wire (a large packet goes as several) */
	uint64_t tx_errors; /* not sent (the socket refused) */
	uint64_t rx_errors; /* not written (the device refused) */
	uint64_t bad_peer; /* datagrams from anyone else */
	uint64_t bad_id; /* datagrams with another tunnel's id */
	uint64_t malformed; /* short, another version, unknown flags, a bad packet inside */
	uint64_t mismatch; /* the other end's offload or mode differs from ours */
	bool offload; /* the device hands over large packets */
	bool gso; /* they go cut into datagrams of the MTU (UDP_SEGMENT), else as IP fragments */
	bool gro; /* datagrams come put together (UDP_GRO) */
	uint32_t mtu; /* the device's MTU */
	unsigned queues; /* the device's queues it reads */
	char note[160]; /* why an offload or queues were given up, or "" */
};

/* Why vnet_tunnel_decap() refused a datagram; each is counted by its own counter. */
enum vnet_tunnel_verdict {
	VNET_TUNNEL_OK = 0,
	VNET_TUNNEL_MALFORMED,
	VNET_TUNNEL_BAD_ID,
	VNET_TUNNEL_MISMATCH,
};

/**
 * vnet_tunnel_decap() - check one datagram from the peer
 * @c: the tunnel
 * @buf: the datagram
 * @len: its length
 * @ret_off: on VNET_TUNNEL_OK, where its packet (or its virtio_net_hdr) starts
 * @ret_vnet_hdr: on VNET_TUNNEL_OK, whether a virtio_net_hdr comes first
 *
 * Pure: it reads @buf and nothing else. A datagram passes only with the right version,
 * flags, reserved bytes and id, a sound virtio_net_hdr when it has one, and a packet that
 * is one: an IPv4 or IPv6 header whose length fits (tun), or an Ethernet header (tap).
 * Return: the verdict.
 */
enum vnet_tunnel_verdict vnet_tunnel_decap(const struct vnet_tunnel_conf *c, const uint8_t *buf,
					   size_t len, size_t *ret_off, bool *ret_vnet_hdr);

/**
 * vnet_tunnel_run() - carry packets between the device and the peer until told to stop
 * @c: the tunnel
 * @stop: set (by a signal handler) to stop; checked at least every 100 ms
 * @st: the counters, updated as it runs (read them from another thread as a snapshot)
 * @reterr: why it could not start, or stopped
 *
 * One thread for each queue of the device, one for the socket; they are opened in the caller's
 * network namespace. A device the tunnel made goes when it stops.
 * Return: 0 when stopped, or -errno.
 */
int vnet_tunnel_run(const struct vnet_tunnel_conf *c, volatile sig_atomic_t *stop,
		    struct vnet_tunnel_stats *st, struct vnet_error *reterr);

#endif /* VNET_TUNNEL_H */
