/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnet.h - public API of libvnet: the network model, the pipeline stages and errors */
#ifndef VNET_VNET_H
#define VNET_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VNET_IFNAMSIZ 16 /* IFNAMSIZ: 15 characters and the NUL */
#define VNET_NAMSIZ 64 /* topology, node and namespace names */
#define VNET_MSGSIZ 512 /* error message text */

/*
 * The tag vnet puts on what it creates: links carry the interface alias
 * "vnet:<topology>", addresses and routes the protocol number below.
 */
#define VNET_TAG_PREFIX "vnet:"
#define VNET_PROTO 0x76 /* 'v'; free in /etc/iproute2/rt_protos */

/**
 * struct vnet_error - what went wrong, for one line of output
 * @file: topology file, or "" when the error is not about a file
 * @line: 1-based line in @file, 0 when unknown
 * @col: 1-based column in @file, 0 when unknown
 * @object: the object concerned ("bridge br0", "node c1"), or ""
 * @op: the operation that failed ("create", "set master"), or ""
 * @msg: the reason, including the kernel's extended-ack text when it gave one
 * @err: the negative errno, or 0 for a topology error
 */
struct vnet_error {
	char file[256];
	unsigned line, col;
	char object[96];
	char op[64];
	char msg[VNET_MSGSIZ];
	int err;
};

/**
 * vnet_error_format() - the one-line form of an error
 * @e: the error
 * @buf: where to write "file:line:col: object: msg" (parts that are empty are left out)
 * @len: size of @buf
 */
void vnet_error_format(const struct vnet_error *e, char *buf, size_t len);

/* vnet_error_set() - fill @e (which may be NULL) with @err and a printf-style message. */
int vnet_error_set(struct vnet_error *e, int err, const char *object, const char *op,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Where a topology object was written, for error messages. */
struct vnet_pos {
	unsigned line, col;
};

/*
 * A kind of link: veth, bridge, tap, tun, dummy, macvlan. Each is described once, in a
 * table of its options in its own file of libvnet; NULL is a kind vnet does not manage
 * (observed only: lo, a stranger's device).
 */
struct vnet_kind;

/* vnet_kind_find() - the kind called @name ("bridge"), or NULL. */
const struct vnet_kind *vnet_kind_find(const char *name);
/* vnet_kind_name() - "veth", "bridge", ...; "link" for NULL, a kind vnet does not manage. */
const char *vnet_kind_name(const struct vnet_kind *kind);

#define VNET_OPT_MAX 8

/*
 * The options of a kind (or of a bridge port), in the order of the kind's table: v[i] is
 * option i, set when bit i of @has is ("has" bits tell an option that is set from one
 * left to the kernel's default). Times are centiseconds, as the kernel's netlink API takes
 * them; read them by name with vnet_link_opt().
 */
struct vnet_opts {
	uint32_t has;
	uint32_t v[VNET_OPT_MAX];
};

/* Observed STP state of a bridge (kernel STP), from IFLA_BR_*. */
struct vnet_stp_bridge {
	bool has;
	uint8_t bridge_id[8]; /* priority (2 bytes, big endian) then MAC */
	uint8_t root_id[8];
	uint16_t root_port; /* port number of the root port; 0 when this bridge is the root */
	uint32_t root_path_cost;
	bool topology_change;
};

/* The kernel's port states (BR_STATE_*). */
enum vnet_stp_state {
	VNET_STP_DISABLED = 0,
	VNET_STP_LISTENING = 1,
	VNET_STP_LEARNING = 2,
	VNET_STP_FORWARDING = 3,
	VNET_STP_BLOCKING = 4,
};

/* Observed STP state of a bridge port, from IFLA_BRPORT_*. */
struct vnet_stp_port {
	bool has;
	uint8_t state; /* enum vnet_stp_state */
	uint16_t port_id, port_no;
	uint8_t designated_root[8], designated_bridge[8];
	uint16_t designated_port;
	uint32_t designated_cost;
};

/*
 * A remote VTEP of a vxlan: a static forwarding entry "@mac dst @dst" on it (all-zero @mac:
 * head-end replication of broadcasts and unknown unicast to @dst), and with @has_inner a
 * permanent neighbour entry "@inner lladdr @mac" too (the routed overlay's next hop).
 */
struct vnet_vtep {
	uint8_t dst[4];
	uint8_t mac[6];
	bool has_inner;
	uint8_t inner[4];
};

#define VNET_VTEP_MAX 32 /* remote VTEPs of one vxlan: a 33-host overlay */

#define VNET_LINK_HAS_MTU (1U << 0)
#define VNET_LINK_HAS_MAC (1U << 1)

/**
 * struct vnet_link - a network interface, desired or observed
 * @name: interface name
 * @ns: namespace name; "" is the namespace vnet runs in
 * @kind: what it is (NULL: a kind vnet does not manage)
 * @peer: veth only: the other end's name
 * @peer_ns: veth only: the other end's namespace
 * @master: bridge this link is a port of (same namespace), "" for none
 * @has: VNET_LINK_HAS_* bits for @mtu and @mac
 * @up: administratively up
 * @parent: the link it lives on (macvlan), "" for none
 * @parent_ns: @parent's namespace; the link is made there and placed in @ns at creation
 * @opts: its kind's options
 * @port: its options as a port of @master, by the table of @master's kind
 * @pos: where the file declared it
 * @ifindex: observed: the kernel's index
 * @peer_ifindex: observed veth: IFLA_LINK, the peer's index in its namespace
 * @alias: observed: the interface alias
 * @owned: observed: tagged by this topology and recorded in the state store
 * @host: the host of a multi-host file the link is on ("" in a file without hosts)
 * @vtep: a vxlan's remote VTEPs, sorted (vnet_vtep_sort()); @n_vtep of them
 */
struct vnet_link {
	char name[VNET_IFNAMSIZ];
	char ns[VNET_NAMSIZ];
	const struct vnet_kind *kind;
	char peer[VNET_IFNAMSIZ];
	char peer_ns[VNET_NAMSIZ];
	char master[VNET_IFNAMSIZ];
	unsigned has;
	uint32_t mtu;
	uint8_t mac[6];
	bool up;
	char parent[VNET_IFNAMSIZ];
	char parent_ns[VNET_NAMSIZ];
	struct vnet_opts opts, port;
	struct vnet_pos pos;
	int ifindex, peer_ifindex;
	char alias[VNET_NAMSIZ + 8];
	bool owned;
	bool lower_up; /* observed: has carrier (IFF_LOWER_UP) */
	struct vnet_stp_bridge stp_br; /* observed bridge */
	struct vnet_stp_port stp_port; /* observed bridge port */
	char host[VNET_NAMSIZ];
	uint8_t n_vtep;
	struct vnet_vtep vtep[VNET_VTEP_MAX];
};

/* An IPv4 or IPv6 address on an interface. */
struct vnet_addr {
	char ns[VNET_NAMSIZ];
	char dev[VNET_IFNAMSIZ];
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefixlen;
	struct vnet_pos pos;
	bool owned; /* observed: carries VNET_PROTO and is recorded */
};

/* A route in a namespace's main table: to a prefix via a gateway and/or a device. */
struct vnet_route {
	char ns[VNET_NAMSIZ];
	int family;
	uint8_t dst[16];
	uint8_t dst_len; /* 0 with an all-zero dst: the default route */
	bool has_gw;
	uint8_t gw[16];
	char dev[VNET_IFNAMSIZ]; /* "" when the kernel is to pick it from the gateway */
	uint32_t metric;
	struct vnet_pos pos;
	bool owned; /* observed: carries VNET_PROTO and is recorded */
};

/**
 * struct vnet_ns - a network namespace: a node of the topology, or the host
 * @name: namespace name under /run/netns; "" is the namespace vnet runs in
 * @node: the topology's name for it ("host" for the host part)
 * @exists: observed: present
 * @owned: observed: created by this topology
 */
struct vnet_ns {
	char name[VNET_NAMSIZ];
	char node[VNET_NAMSIZ];
	struct vnet_pos pos;
	bool exists, owned;
	char host[VNET_NAMSIZ]; /* the host of a multi-host file the node is on */
	/* observed: holds an interface vnet did not make, which removing the namespace
	 * would destroy; then it is kept, and only vnet's own objects in it are removed */
	char foreign[VNET_IFNAMSIZ];
};

/**
 * struct vnet_check - an expectation of connectivity, from the file's "checks"
 * @from: the node that probes
 * @to: the node probed ("" when @has_addr names the target alone)
 * @has_addr: probe @addr; otherwise every address of @to that @from shares a subnet with
 * @family: of @addr
 * @addr: the target address
 * @reach: true: the probe must succeed; false: it must fail
 * @tcp_port: 0 for an ICMP echo, else a TCP connect to this port
 * @pos: where the file says it
 */
struct vnet_check {
	char from[VNET_NAMSIZ];
	char to[VNET_NAMSIZ];
	bool has_addr;
	int family;
	uint8_t addr[16];
	bool reach;
	uint16_t tcp_port;
	struct vnet_pos pos;
};

/**
 * struct vnet_network - a network of containers: a bridge in the host part with a subnet
 * @name: the network's name, which is its bridge's name
 * @subnet: the IPv4 subnet (network byte order), @prefixlen its length
 * @gateway: the bridge's address in it, the containers' default gateway
 * @masquerade: what leaves the subnet through an interface that is not a network's bridge
 *              goes out with the host's address
 * @internal: no way out: nothing is forwarded into or out of it, no default route
 * @pos: where the file declared it
 */
struct vnet_network {
	char name[VNET_IFNAMSIZ];
	uint8_t subnet[4], gateway[4];
	uint8_t prefixlen;
	bool masquerade, internal;
	struct vnet_pos pos;
	/* a routed network of a multi-host file: @subnet is the cluster's range, each host
	 * has a part of it (struct vnet_host_subnet); on one host's model, @subnet is that
	 * host's part and @overlay the vxlan to the others, @cluster/@cluster_len the range */
	char overlay[VNET_IFNAMSIZ];
	uint8_t cluster[4], cluster_len;
};

/**
 * struct vnet_host - a host of a multi-host file
 * @name: its name in the file
 * @addr: its underlay address, the local end of its VXLAN tunnels (its VTEP)
 * @mtu: the underlay's MTU (1500 unless the file says otherwise)
 * @pos: where the file declares it
 */
struct vnet_host {
	char name[VNET_NAMSIZ];
	uint8_t addr[4];
	uint32_t mtu;
	struct vnet_pos pos;
};

#define VNET_HOST_MAX 33 /* hosts of a file: one and VNET_VTEP_MAX others */

/**
 * struct vnet_span - a bridge that spans hosts, joined on each by a vxlan vnet derives
 * @bridge: the bridge (a link in the host part)
 * @hosts: bit i: host i of the model's hosts
 * @vni: the VXLAN network identifier (the file's, or derived from the names)
 * @mtu: what it carries between hosts: its bridge's MTU, or its hosts' smallest less 50
 * @pos: where the file says it spans
 */
struct vnet_span {
	char bridge[VNET_IFNAMSIZ];
	uint64_t hosts;
	uint32_t vni, mtu;
	struct vnet_pos pos;
};

/* A host's part of a routed network's range: its containers' subnet. */
struct vnet_host_subnet {
	char network[VNET_IFNAMSIZ];
	char host[VNET_NAMSIZ];
	uint8_t subnet[4];
	uint8_t prefixlen;
	struct vnet_pos pos;
};

/**
 * struct vnet_member - a container on a network: the veth pair between them, an address
 * @node: the container (a node)
 * @network: the network
 * @host_if: the pair's end in the host part, a port of the network's bridge
 * @ifname: the end in the container ("eth0", "eth1", ... in the file's order)
 * @fixed: the file gives the address; else IPAM does, at vnet up
 * @has_addr: @addr is known (fixed, or leased)
 * @addr: the container's address on the network
 * @pos: where the file puts it on the network
 */
struct vnet_member {
	char node[VNET_NAMSIZ];
	char network[VNET_IFNAMSIZ];
	char host_if[VNET_IFNAMSIZ];
	char ifname[VNET_IFNAMSIZ];
	bool fixed, has_addr;
	uint8_t addr[4];
	struct vnet_pos pos;
};

/**
 * struct vnet_port - a published port: a host port forwarded to a container's port
 * @node: the container ("" when observed and no container has @addr)
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @has_host_addr: bound to @host_addr alone; else to every address of the host part
 * @host_port: the port on the host
 * @addr: the container's address (known once its member's is)
 * @port: the container's port
 * @pos: where the file publishes it
 */
struct vnet_port {
	char node[VNET_NAMSIZ];
	uint8_t proto;
	bool has_host_addr;
	uint8_t host_addr[4];
	uint16_t host_port;
	uint8_t addr[4];
	uint16_t port;
	struct vnet_pos pos;
};

/* Two networks that may exchange traffic (networks are isolated from each other otherwise). */
struct vnet_connect {
	char a[VNET_IFNAMSIZ], b[VNET_IFNAMSIZ];
	struct vnet_pos pos;
};

struct vnet_nat_seen;

/**
 * struct vnet_nat - vnet's nftables table of a topology, and IPv4 forwarding, in the host part
 * @ns: the namespace of the host part
 * @table: the table's name ("vnet-TOPO", family ip)
 * @exists: observed: the table is there
 * @owned: observed: it carries the topology's tag and the store records it
 * @drift: observed: its chains or rules are not as vnet made them (flushed, edited)
 * @forward: IPv4 forwarding is on (desired: needed)
 * @forward_owned: vnet turned forwarding on, and turns it off at down
 */
struct vnet_nat {
	char ns[VNET_NAMSIZ];
	char table[VNET_NAMSIZ + 8];
	bool exists, owned, drift;
	bool forward, forward_owned;
	struct vnet_nat_seen *seen; /* private: libvnet's reading of the table */
};

struct vnet_uplink_saved;

#define VNET_PROBE_MAX 8 /* probe targets of an uplink, besides its gateway */

/**
 * struct vnet_uplink - a NIC vnet does not make, taken over by a bridge of the topology
 * @ns: the namespace of the bridge and the NIC
 * @bridge: the bridge that takes the NIC as a port, and everything the NIC carried
 * @nic: the NIC
 * @probe: IPv4 addresses probed (ICMP) after the take-over, besides the gateway
 * @n_probe: how many
 * @probe_ms: the probe's budget; when it runs out, the NIC is given back
 * @force: take the NIC even when NetworkManager or systemd-networkd manages it
 * @pos: where the file names it
 * @exists: observed: the NIC is there
 * @owned: observed: the store records the take-over, and the NIC as it was before it
 * @taken: observed: the NIC is a port of @bridge, and what it carried is on @bridge
 * @master: observed: the NIC's master now, "" for none
 * @manager: observed: "NetworkManager" or "systemd-networkd" when one manages the NIC
 * @saved: private: the NIC as it was (addresses, routes, MTU, MAC)
 */
struct vnet_uplink {
	char ns[VNET_NAMSIZ];
	char bridge[VNET_IFNAMSIZ];
	char nic[VNET_IFNAMSIZ];
	uint8_t probe[VNET_PROBE_MAX][4];
	unsigned n_probe;
	uint32_t probe_ms;
	bool force;
	struct vnet_pos pos;
	bool exists, owned, taken;
	char master[VNET_IFNAMSIZ];
	char manager[24];
	struct vnet_uplink_saved *saved;
};

/**
 * struct vnet_tunnel_decl - a tun or tap of the file joined to a peer over UDP: vnet up runs
 * `vnet tunnel` on it (vnet-tunnel(7)) and vnet down stops it
 * @ns: the device's namespace
 * @dev: the device
 * @tap: a tap (Ethernet frames), else a tun (IP packets)
 * @peer: the other end's IPv4 address
 * @peer_port: its UDP port
 * @local: the address to receive on; all zero: any
 * @port: the UDP port to receive on
 * @id: the tunnel's id
 * @offload: large packets with their checksum left to finish (the device has vnet_hdr)
 * @queues: the device's queues, each read by a thread (more than 1: it has multi_queue)
 * @mtu: the device's MTU as the file gives it, else 0: the path's less the overhead
 * @pos: where the file declares it
 */
struct vnet_tunnel_decl {
	char ns[VNET_NAMSIZ];
	char dev[VNET_IFNAMSIZ];
	bool tap;
	uint8_t peer[4], local[4];
	uint16_t peer_port, port;
	uint32_t id;
	bool offload;
	unsigned queues;
	uint32_t mtu;
	struct vnet_pos pos;
};

/* A growable array. */
#define VNET_ARRAY(type)       \
	struct {               \
		type *v;       \
		size_t n, cap; \
	}

/**
 * struct vnet_model - a whole network: what a file asks for, or what the kernel has
 * @name: topology name
 * @file: the file it came from ("" for observed models)
 * @sandbox: the host part lives in namespace "<name>-host" instead of vnet's own
 * @ns: namespaces; a desired model lists the host first, with name "" unless sandboxed
 * @members: the containers' places on networks; their veth pairs, addresses and routes are
 *           in @links, @addrs and @routes (leased addresses once vnet up has leased them)
 */
struct vnet_model {
	char name[VNET_NAMSIZ];
	char file[256];
	bool sandbox;
	VNET_ARRAY(struct vnet_ns) ns;
	VNET_ARRAY(struct vnet_link) links;
	VNET_ARRAY(struct vnet_addr) addrs;
	VNET_ARRAY(struct vnet_route) routes;
	VNET_ARRAY(struct vnet_check) checks;
	VNET_ARRAY(struct vnet_network) networks;
	VNET_ARRAY(struct vnet_member) members;
	VNET_ARRAY(struct vnet_port) ports; /* one per port: a published range is expanded */
	VNET_ARRAY(struct vnet_connect) connects;
	VNET_ARRAY(struct vnet_uplink) uplinks;
	VNET_ARRAY(struct vnet_host) hosts; /* a multi-host file's; none on one host's model */
	VNET_ARRAY(struct vnet_span) spans;
	VNET_ARRAY(struct vnet_host_subnet) subnets;
	VNET_ARRAY(struct vnet_tunnel_decl) tunnels; /* desired only: the processes vnet up runs */
	char host[VNET_NAMSIZ]; /* one host's part of a multi-host file: that host */
	struct vnet_nat nat; /* desired: when @networks is not empty; observed: the table */
	bool allow_loops; /* the file allows loops of bridges without STP */
	/* private: libvnet's lookup index of the links (names must not change once looked
	 * up); free the model with vnet_model_free() */
	struct vnet_model_index *index;
};

struct vnet_model *vnet_model_new(void);
void vnet_model_free(struct vnet_model *m);
void vnet_model_freep(struct vnet_model **m);
struct vnet_ns *vnet_model_add_ns(struct vnet_model *m);
struct vnet_link *vnet_model_add_link(struct vnet_model *m);
struct vnet_addr *vnet_model_add_addr(struct vnet_model *m);
struct vnet_route *vnet_model_add_route(struct vnet_model *m);
struct vnet_check *vnet_model_add_check(struct vnet_model *m);
struct vnet_network *vnet_model_add_network(struct vnet_model *m);
struct vnet_member *vnet_model_add_member(struct vnet_model *m);
struct vnet_port *vnet_model_add_port(struct vnet_model *m);
struct vnet_connect *vnet_model_add_connect(struct vnet_model *m);
struct vnet_uplink *vnet_model_add_uplink(struct vnet_model *m);
struct vnet_host *vnet_model_add_host(struct vnet_model *m);
struct vnet_tunnel_decl *vnet_model_add_tunnel(struct vnet_model *m);
struct vnet_span *vnet_model_add_span(struct vnet_model *m);
struct vnet_host_subnet *vnet_model_add_subnet(struct vnet_model *m);
struct vnet_host *vnet_model_find_host(const struct vnet_model *m, const char *name);
struct vnet_network *vnet_model_find_network(const struct vnet_model *m, const char *name);
struct vnet_ns *vnet_model_find_ns(const struct vnet_model *m, const char *name);
struct vnet_ns *vnet_model_find_node(const struct vnet_model *m, const char *node);
struct vnet_link *vnet_model_find_link(const struct vnet_model *m, const char *ns,
				       const char *name);

/* Options that change how a file becomes a model. */
struct vnet_load_opts {
	const char *name; /* overrides the file's topology name, or NULL */
	bool sandbox;
	const char *host; /* a multi-host file: the host whose part to load; else NULL */
};

/**
 * vnet_topo_load() - parse and validate a topology file into a desired model
 * @path: the YAML file
 * @opts: name override and sandbox mode, or NULL
 * @ret_model: the model, on success
 * @reterr: file, line, column, token and reason of the first error, or NULL
 *
 * Return: 0, -EINVAL for a bad file, or another -errno when it cannot be read.
 */
int vnet_topo_load(const char *path, const struct vnet_load_opts *opts,
		   struct vnet_model **ret_model, struct vnet_error *reterr);

/* vnet_topo_parse_string() - the same from @len bytes of @text in memory; @path (or NULL)
 * is the name messages give it, and the default topology name comes from it. */
int vnet_topo_parse_string(const char *text, size_t len, const char *path,
			   const struct vnet_load_opts *opts, struct vnet_model **ret_model,
			   struct vnet_error *reterr);

/**
 * vnet_topo_validate() - check a parsed model for consistency
 * @m: the model; positions in it locate errors
 * @reterr: the first error found, or NULL
 *
 * Return: 0, or -EINVAL with @reterr filled.
 */
int vnet_topo_validate(const struct vnet_model *m, struct vnet_error *reterr);

/* The namespace a node lives in: "<topology>-<node>", the host's "" or "<topology>-host". */
void vnet_node_ns_name(const char *topo, const char *node, bool sandbox, char *buf, size_t len);

/* A topology known to the state store. */
struct vnet_topo_info {
	char name[VNET_NAMSIZ];
	char file[256];
	bool sandbox;
	long long updated; /* seconds since the epoch of the last change */
	unsigned objects; /* namespaces, links, addresses and routes it owns */
	bool interrupted; /* an apply was cut short (crash); the next up or down repairs it */
	char host[VNET_NAMSIZ]; /* built as this host's part of a file that spans hosts; or "" */
};

/* ---- the plan ---- */

enum vnet_op_kind {
	VNET_OP_NS_ADD,
	VNET_OP_NS_DEL,
	VNET_OP_LINK_ADD,
	VNET_OP_LINK_DEL,
	VNET_OP_LINK_SET,
	VNET_OP_ADDR_ADD,
	VNET_OP_ADDR_DEL,
	VNET_OP_ROUTE_ADD,
	VNET_OP_ROUTE_DEL,
	VNET_OP_NAT, /* change vnet's nftables table and IPv4 forwarding (nat.c) */
	VNET_OP_UPLINK, /* take a NIC over into a bridge and probe, or give it back (uplink.c) */
};

/* A take-over of a NIC, or its giving back, private to libvnet. */
struct vnet_uplink_change;

/* A change of vnet's nftables table and of forwarding, private to libvnet. */
struct vnet_nat_change;

/* What a VNET_OP_LINK_SET changes. */
#define VNET_SET_UP (1U << 0)
#define VNET_SET_MTU (1U << 1)
#define VNET_SET_MAC (1U << 2)
#define VNET_SET_MASTER (1U << 3)
#define VNET_SET_ALIAS (1U << 4)
#define VNET_SET_OPTS (1U << 5) /* its kind's options */
#define VNET_SET_PORT (1U << 6) /* its options as a bridge port */
#define VNET_SET_VTEPS (1U << 7) /* a vxlan's remote VTEPs: those of @old go, those of @link come */

/**
 * struct vnet_op - one step of a plan; self-contained, so it can be undone
 * @kind: what to do
 * @set: LINK_SET: VNET_SET_* bits
 * @ns: NS_ADD/NS_DEL: the namespace
 * @link: LINK_*: the link wanted (ADD, SET) or removed (DEL, a full copy)
 * @old: LINK_SET: the link as it was, to undo with
 * @addr: ADDR_*: the address
 * @route: ROUTE_*: the route
 * @nat: NAT: the change (owned by the plan)
 * @uplink: UPLINK: the change (owned by the plan); @set has VNET_UPLINK_GIVE to give back
 */
struct vnet_op {
	enum vnet_op_kind kind;
	unsigned set;
	struct vnet_ns ns;
	struct vnet_link link, old;
	struct vnet_addr addr;
	struct vnet_route route;
	struct vnet_nat_change *nat;
	struct vnet_uplink_change *uplink;
};

struct vnet_plan {
	char topo[VNET_NAMSIZ];
	VNET_ARRAY(struct vnet_op) ops;
};

void vnet_plan_free(struct vnet_plan *p);
void vnet_plan_freep(struct vnet_plan **p);

/**
 * vnet_plan_up() - the steps that turn @observed into @desired
 * @desired: the validated topology
 * @observed: the kernel's state for the namespaces concerned, with ownership marks
 * @ret_plan: the ordered steps; empty when nothing differs
 * @reterr: the conflict found (an object in the way that vnet does not own), or NULL
 *
 * A pure function: it reads its inputs and touches nothing.
 *
 * Return: 0, -EEXIST on a conflict with a foreign object, -ENOMEM.
 */
int vnet_plan_up(const struct vnet_model *desired, const struct vnet_model *observed,
		 struct vnet_plan **ret_plan, struct vnet_error *reterr);

/**
 * vnet_plan_down() - the steps that remove everything @observed marks as owned
 * @observed: the kernel's state, with ownership marks
 * @ret_plan: the ordered steps
 *
 * Return: 0 or -ENOMEM.
 */
int vnet_plan_down(const struct vnet_model *observed, struct vnet_plan **ret_plan);

/**
 * vnet_link_opt() - an option of a link, by its key in the topology file
 * @l: the link
 * @key: an option of its kind ("stp", "forward_delay", "mode"), or of it as a bridge port
 *       ("cost"); the kind's own option wins where both have the key
 * @ret: its value: 0 or 1, a number, centiseconds for times, a word's number
 *
 * Return: 1 when @l has it set, 0 when it is left to the kernel, -ENOENT when no such option.
 */
int vnet_link_opt(const struct vnet_link *l, const char *key, uint32_t *ret);
/* vnet_addr_format() - "ADDR/LEN"; a @prefixlen one past the family's width prints ADDR alone. */
void vnet_addr_format(int family, const uint8_t *addr, unsigned prefixlen, char *buf, size_t len);
/* vnet_route_format() - the route in the file's words: "default via 10.0.0.1 dev eth0". */
void vnet_route_format(const struct vnet_route *r, char *buf, size_t len);

/* vnet_op_describe() - one line for a step: "create veth veth0 (host) <-> eth0 (c1)". */
void vnet_op_describe(const struct vnet_op *op, char *buf, size_t len);

/* Room for @n bytes escaped by vnet_escape(): each byte may become "\xNN". */
#define VNET_ESC_SIZE(n) (4 * (n) + 1)

/**
 * vnet_escape() - text safe to print: every byte that is not printable ASCII as \xNN
 * @s: the text (a name from the kernel, the store or a file)
 * @buf: where to write it; cut at a whole escape when short
 * @len: size of @buf; VNET_ESC_SIZE(strlen(@s)) always suffices
 *
 * Return: @buf.
 */
const char *vnet_escape(const char *s, char *buf, size_t len);

/* ---- sessions: the state store and the kernel, for the commands ---- */

struct vnet_session;

/**
 * vnet_session_open() - open the state store (and, to change things, take its lock)
 * @state_dir: the store's directory
 * @lock: serialize with every other vnet that changes the kernel
 * @ret_s: the session
 * @reterr: why not
 *
 * Return: 0 or -errno.
 */
int vnet_session_open(const char *state_dir, bool lock, struct vnet_session **ret_s,
		      struct vnet_error *reterr);
void vnet_session_close(struct vnet_session *s);

/**
 * vnet_session_lock() - take the store's lock, for a session opened without it
 * @s: the session
 * @wait: wait for it; else fail at once with -EBUSY, @reterr naming the holder
 *        ("in use by pid 123 (vnet up docker.yaml)"), so that the caller can say so
 * @reterr: why not
 *
 * Return: 0, -EBUSY or -errno.
 */
int vnet_session_lock(struct vnet_session *s, bool wait, struct vnet_error *reterr);
/* vnet_session_unlock() - let other commands change the kernel (up, while it waits for STP). */
void vnet_session_unlock(struct vnet_session *s);

#define VNET_UP_DRY_RUN (1U << 0) /* plan only: diff and --dry-run */

/**
 * struct vnet_result - what a command did
 * @plan: the steps planned
 * @done: how many took effect
 * @undo_failed: after a failure, how many of the done steps could not be undone
 * @undo_err: the first of those, in words
 * @recovered: an interrupted apply of this topology was found and repaired
 * @notes: lines the user must read, each ending in "\n" (NULL when none): what an
 *         interrupted run left and vnet removed, what vnet left alone and why
 * @observe_us: time spent reading the kernel, in microseconds
 * @ipam_us: of the rest, time spent leasing containers' addresses (and releasing old ones)
 * @nat_us: of @apply_us, time spent changing vnet's nftables table and forwarding
 * @apply_us: time spent changing it
 * @stp_ms: filled by the command, which waits for STP with vnet_stp_wait()
 */
struct vnet_result {
	struct vnet_plan *plan;
	size_t done;
	size_t undo_failed;
	char undo_err[1024];
	bool recovered;
	char *notes;
	long observe_us, apply_us;
	long ipam_us, nat_us;
	long stp_ms; /* time STP took to converge after up; -1 when not waited for */
	long probe_us; /* the uplinks' probes; 0 when none ran */
	long restore_us; /* from a failed probe to the NIC given back; 0 when none failed */
};

void vnet_result_clear(struct vnet_result *r);

/**
 * vnet_up() - build or reconcile a topology
 * @s: the session (locked unless @flags has VNET_UP_DRY_RUN)
 * @desired: the validated model
 * @flags: VNET_UP_*
 * @ret: the plan and what was done; clear it with vnet_result_clear()
 * @reterr: the first failure; everything done before it has been undone
 *
 * Return: 0, -EEXIST for a conflict with an object vnet does not own, or -errno.
 */
int vnet_up(struct vnet_session *s, const struct vnet_model *desired, unsigned flags,
	    struct vnet_result *ret, struct vnet_error *reterr);

/**
 * vnet_up_hold() - vnet_up(), holding the change open until @hold says whether to keep it
 * @s: the session, locked
 * @desired: the validated model
 * @flags: VNET_UP_*
 * @hold: called once the change is made, probed and recorded, with the lock still held;
 *        NULL for none. Its failure undoes the whole change, as a failed step would.
 * @data: for @hold
 * @ret: the plan and what was done
 * @reterr: the first failure (or @hold's)
 *
 * Return: 0, or -errno (@hold's when it said no).
 */
int vnet_up_hold(struct vnet_session *s, const struct vnet_model *desired, unsigned flags,
		 int (*hold)(void *data, const struct vnet_result *res, struct vnet_error *reterr),
		 void *data, struct vnet_result *ret, struct vnet_error *reterr);

/* A --try of a topology: kept only if vnet_try_confirm() comes before the deadline. */
struct vnet_try {
	pid_t pid; /* the process that holds the deadline */
	long long deadline_ms; /* milliseconds since the epoch */
	char state[16]; /* "pending", "confirmed", "rolling back", "rolled back", "undo failed" */
	long long at_ms; /* when it took that state */
};

/**
 * vnet_try_start() - record that the change of @topo just made is on trial
 * @s: the session that made it (with vnet_up_hold(), from its @hold)
 * @topo: the topology
 * @deadline_ms: when it is undone unless confirmed (milliseconds since the epoch)
 * @reterr: the store's failure
 *
 * Return: 0 or -errno.
 */
int vnet_try_start(struct vnet_session *s, const char *topo, long long deadline_ms,
		   struct vnet_error *reterr);

/**
 * vnet_try_wait() - wait for vnet_try_confirm() until the deadline
 * @s: the session
 * @topo: the topology
 * @reterr: -ETIMEDOUT: "not confirmed by HH:MM:SS"
 *
 * Reads the try's state every 200 ms, and keeps the deadline on the boot clock, which a
 * wall clock set back or forth does not move.
 * At the deadline the try turns "rolling back" in one atomic step, so that a confirm
 * that comes a moment later says it came too late, and is never taken for a success.
 * Return: 0 when confirmed, -ETIMEDOUT when not (undo the change), or -errno.
 */
int vnet_try_wait(struct vnet_session *s, const char *topo, struct vnet_error *reterr);

/* vnet_try_end() - the try is over: forgotten when kept, kept as "rolled back" (or "undo
 * failed", when @undo_failed) for the message of a late confirm when undone. */
void vnet_try_end(struct vnet_session *s, const char *topo, bool rolled_back, bool undo_failed);

/**
 * vnet_try_confirm() - keep the change of a --try
 * @s: the session (its lock is not needed: the process that holds the try holds it)
 * @topo: the topology
 * @ret: the try as it was found
 * @reterr: -ENOENT: no try of @topo is pending; -ETIME: it came too late (rolled back)
 *
 * Return: 0 or -errno.
 */
int vnet_try_confirm(struct vnet_session *s, const char *topo, struct vnet_try *ret,
		     struct vnet_error *reterr);

#define VNET_DOWN_DRY_RUN (1U << 0) /* plan only: down --dry-run */

/**
 * vnet_down() - remove exactly what a topology created
 * @s: the session, locked (unless @flags has VNET_DOWN_DRY_RUN)
 * @topo: the topology's name
 * @flags: VNET_DOWN_*
 * @ret: the plan and what was done
 * @reterr: the first failure (down goes on past failures; run it again)
 *
 * Return: 0, -ENOENT when no such topology is recorded, or -errno.
 */
int vnet_down(struct vnet_session *s, const char *topo, unsigned flags, struct vnet_result *ret,
	      struct vnet_error *reterr);

/**
 * vnet_recover() - rebuild a topology's record from the kernel's tags
 * @s: the session, locked
 * @topo: the topology's name
 * @ret: @ret->done: how many objects were recovered
 * @reterr: -ENOENT when nothing carries the tag "vnet:@topo"
 *
 * For a state store that was lost or replaced: every namespace "@topo-NODE" whose lo
 * carries the topology's tag, every link that carries it (and the far end of a veth
 * pair whose near end does), and the addresses and routes with vnet's protocol on
 * those links or in those namespaces become the topology's record, so that vnet down
 * can remove them. Nothing untagged is ever taken.
 *
 * Return: 0, -ENOENT or -errno.
 */
int vnet_recover(struct vnet_session *s, const char *topo, struct vnet_result *ret,
		 struct vnet_error *reterr);

/* vnet_list() - the topologies in the store; free *@ret with free(). */
int vnet_list(struct vnet_session *s, struct vnet_topo_info **ret, size_t *ret_n);

/**
 * struct vnet_cni_attachment - a container that the CNI plugin vnet-cni attached to a
 *                              network, as the state store records it
 * @net: the CNI network
 * @cid: the container's id
 * @ifname: its interface
 * @netns: its namespace, as the runtime named it ("" when unknown)
 * @bridge: the network's bridge
 * @host: the veth end on the bridge
 * @mac: the container interface's MAC
 * @addrs: its addresses, "ADDR/LEN,..."
 * @ports: its published ports, "tcp 8080->80, udp 127.0.0.1:53->53"
 * @ipam: who gave the addresses ("vnet", or the IPAM plugin's type)
 * @ready: made whole; false while it is being made, or when a crash cut that short (the
 *         runtime's DEL or GC removes it)
 * @present: the host end is in the namespace vnet runs in, on the bridge
 * @at: when it was made, seconds since the epoch
 */
struct vnet_cni_attachment {
	char net[128];
	char cid[256];
	char ifname[VNET_IFNAMSIZ];
	char netns[256];
	char bridge[VNET_IFNAMSIZ];
	char host[VNET_IFNAMSIZ];
	char mac[18];
	char addrs[416];
	char ports[256];
	char ipam[32];
	bool ready, present;
	long long at;
};

/**
 * vnet_cni_list() - the attachments vnet-cni recorded, by network, container, interface
 * @s: the session
 * @net: one network, or NULL for all
 * @ret: the attachments; free with free()
 * @ret_n: how many
 *
 * Return: 0 or -errno.
 */
int vnet_cni_list(struct vnet_session *s, const char *net, struct vnet_cni_attachment **ret,
		  size_t *ret_n);

/**
 * vnet_observe_topology() - what the kernel has of a topology that is up
 * @s: the session
 * @topo: the topology's name
 * @ret_model: the observed model: @ret_model->name is @topo, each namespace it owns (and
 *             the host part, for a topology built outside the sandbox) with its node name,
 *             every link, address and route in them, with ownership marks and STP state
 * @reterr: -ENOENT when no such topology is up
 *
 * Return: 0 or -errno.
 */
int vnet_observe_topology(struct vnet_session *s, const char *topo, struct vnet_model **ret_model,
			  struct vnet_error *reterr);

/**
 * vnet_node_lookup() - the namespace of a node of a topology that is up
 * @s: the session
 * @spec: "NODE" (unique among the topologies that are up) or "TOPOLOGY/NODE"
 * @ret_ns: the namespace name ("" for the host part outside the sandbox)
 * @len: size of @ret_ns
 * @reterr: no such node, or an ambiguous one (the message lists the candidates)
 *
 * Return: 0, -ENOENT or -EINVAL (ambiguous).
 */
int vnet_node_lookup(struct vnet_session *s, const char *spec, char *ret_ns, size_t len,
		     struct vnet_error *reterr);

/**
 * vnet_ipam_alloc() - lease one IPv4 address from a pool in the state store
 * @s: the session (its lock is not needed: leases serialize on the store itself)
 * @pool: the pool's name
 * @subnet: its subnet, "A.B.C.D/LEN" (/8 to /30); its first and last address are never given
 * @owner: who holds the lease; an owner that has one gets the same address again
 * @ret: the address, as text
 * @len: size of @ret (INET_ADDRSTRLEN is enough)
 * @reterr: a full pool, or the store's failure
 *
 * The lowest free address is given; no address is ever given twice, even to processes
 * leasing at the same time.
 * Return: 0, -ENOSPC when the pool is full, -EINVAL for a bad subnet, or -errno.
 */
int vnet_ipam_alloc(struct vnet_session *s, const char *pool, const char *subnet, const char *owner,
		    char *ret, size_t len, struct vnet_error *reterr);

/**
 * vnet_tap_check() - open a tap of a topology that is up as QEMU would, and close it again
 * @l: a link of the desired model; a tap is opened in its namespace
 *     with the flags the file gives it (vnet_hdr, multi_queue), as the tap's owner and
 *     group when it has them, else as the caller
 * @reterr: why QEMU could not open it, in words: flags other than the file's (EINVAL), a
 *          program holding a single-queue tap (EBUSY), a user the tap refuses (EPERM)
 *
 * Return: 0 when QEMU could open it, 1 when @l is not a tap (nothing to check), or the
 * -errno of the open.
 */
int vnet_tap_check(const struct vnet_link *l, struct vnet_error *reterr);

/* ---- STP (stp.c) ---- */

enum vnet_stp_role {
	VNET_ROLE_DISABLED,
	VNET_ROLE_ROOT,
	VNET_ROLE_DESIGNATED,
	VNET_ROLE_ALTERNATE, /* blocked: a better path to the root goes through another bridge */
	VNET_ROLE_BACKUP, /* blocked: another port of the same bridge serves the segment */
};

/* vnet_stp_state_name() - "disabled", "listening", "learning", "forwarding", "blocking". */
const char *vnet_stp_state_name(uint8_t state);
/* vnet_stp_role_name() - "disabled", "root", "designated", "alternate", "backup". */
const char *vnet_stp_role_name(enum vnet_stp_role role);
/* vnet_stp_id_format() - a bridge id as sysfs writes it: "8000.020000000001". */
void vnet_stp_id_format(const uint8_t id[8], char *buf, size_t len);

/**
 * vnet_stp_port_role() - the role of a bridge port, derived as the kernel decides it
 * @br: the observed bridge (stp_br filled)
 * @port: one of its observed ports (stp_port filled)
 *
 * Return: the role (root port, designated port, or which kind of blocked port).
 */
enum vnet_stp_role vnet_stp_port_role(const struct vnet_link *br, const struct vnet_link *port);

/**
 * vnet_stp_find_loop() - refuse loops of bridges without STP (a broadcast storm)
 * @m: a desired model; loops are fine when every bridge in them has STP on, or when
 *     m->allow_loops is set
 * @reterr: the loop, named bridge by bridge, at the position of one of its links
 *
 * Return: 0, or -EINVAL when there is such a loop.
 */
int vnet_stp_find_loop(const struct vnet_model *m, struct vnet_error *reterr);

/**
 * vnet_stp_wait() - wait until every STP bridge of a topology has converged
 * @s: the session
 * @m: the desired model (its STP bridges are the ones waited for)
 * @timeout_ms: give up after this long; 0: long enough for the slowest of those bridges to
 *              listen, learn and see a max age expire, and 10 s more
 * @progress: called at every poll with a one-line status, or NULL
 * @data: for @progress
 * @ret_ms: how long it took
 * @reterr: the ports still in transition at the timeout
 *
 * Converged: no port of those bridges is listening or learning. Polls the kernel's port
 * states every 100 ms; never sleeps a fixed time.
 * Return: 0, -ETIMEDOUT or -errno.
 */
int vnet_stp_wait(struct vnet_session *s, const struct vnet_model *m, long timeout_ms,
		  void (*progress)(void *data, const char *line), void *data, long *ret_ms,
		  struct vnet_error *reterr);

#endif /* VNET_VNET_H */
