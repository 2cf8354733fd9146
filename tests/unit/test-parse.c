// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-parse.c - topology files to models: the examples, defaults, units, routes, names */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vnet/vnet.h"

#define EXAMPLE(name) VNET_TEST_DATA "/../../examples/" name ".yaml"

static struct vnet_model *load(const char *path, const struct vnet_load_opts *opts)
{
	struct vnet_model *m = NULL;
	struct vnet_error e;
	char buf[1024];
	int r = vnet_topo_load(path, opts, &m, &e);

	if (r < 0) {
		vnet_error_format(&e, buf, sizeof(buf));
		fail_msg("%s: %s", path, buf);
	}
	assert_non_null(m);
	return m;
}

static struct vnet_model *parse(const char *yaml, const struct vnet_load_opts *opts)
{
	struct vnet_model *m = NULL;
	struct vnet_error e;
	char buf[1024];

	if (vnet_topo_parse_string(yaml, strlen(yaml), "t.yaml", opts, &m, &e) < 0) {
		vnet_error_format(&e, buf, sizeof(buf));
		fail_msg("%s", buf);
	}
	return m;
}

static struct vnet_link *link_of(const struct vnet_model *m, const char *ns, const char *name)
{
	struct vnet_link *l = vnet_model_find_link(m, ns, name);

	if (!l)
		fail_msg("no link %s in namespace \"%s\"", name, ns);
	return l;
}

/* Address @i is @text (ADDR/LEN) on @dev in @ns. */
static void assert_addr(const struct vnet_model *m, size_t i, const char *ns, const char *dev,
			const char *text)
{
	char ip[64];

	assert_true(i < m->addrs.n);
	assert_string_equal(m->addrs.v[i].ns, ns);
	assert_string_equal(m->addrs.v[i].dev, dev);
	inet_ntop(m->addrs.v[i].family, m->addrs.v[i].addr, ip, sizeof(ip));
	snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "/%u", m->addrs.v[i].prefixlen);
	assert_string_equal(ip, text);
}

static void assert_ip(int family, const uint8_t *bytes, const char *text)
{
	char ip[64];

	inet_ntop(family, bytes, ip, sizeof(ip));
	assert_string_equal(ip, text);
}

static void test_examples_parse(void **state)
{
	static const char *const names[] = {
		"tun",	      "tap", "veth",   "bridge",   "bridge-veth",     "bridge-ip",
		"bridge-stp", "vm",  "docker", "stp-loop", "docker-explicit", "tunnel"
	};
	char path[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct vnet_model *m;

		snprintf(path, sizeof(path), VNET_TEST_DATA "/../../examples/%s.yaml", names[i]);
		m = load(path, NULL);
		assert_string_equal(m->name, names[i]);
		assert_string_equal(m->file, path);
		assert_string_equal(m->ns.v[0].node, "host");
		assert_string_equal(m->ns.v[0].name, "");
		assert_int_equal(vnet_topo_validate(m, NULL), 0);
		vnet_model_free(m);
	}
}

/* Option @key of @l, by the kind's table: its value, or -1 when the file left it out. */
static long opt(const struct vnet_link *l, const char *key)
{
	uint32_t v = 0;
	int r = vnet_link_opt(l, key, &v);

	assert_true(r >= 0);
	return r ? (long)v : -1;
}

static void test_tun_tap(void **state)
{
	struct vnet_model *m = load(EXAMPLE("tun"), NULL);

	assert_int_equal(m->links.n, 1);
	assert_ptr_equal(link_of(m, "", "tun0")->kind, vnet_kind_find("tun"));
	assert_true(m->links.v[0].up);
	assert_int_equal(m->links.v[0].opts.has, 0);
	assert_addr(m, 0, "", "tun0", "192.168.3.11/24");
	vnet_model_free(m);
	m = load(EXAMPLE("tap"), NULL);
	assert_ptr_equal(link_of(m, "", "tap0")->kind, vnet_kind_find("tap"));
	vnet_model_free(m);
}

static void test_veth(void **state)
{
	struct vnet_model *m = load(EXAMPLE("veth"), NULL);
	struct vnet_link *a = link_of(m, "", "veth0"), *b = link_of(m, "", "veth1");

	assert_int_equal(m->links.n, 2);
	assert_ptr_equal(a->kind, vnet_kind_find("veth"));
	assert_string_equal(a->peer, "veth1");
	assert_string_equal(a->peer_ns, "");
	assert_string_equal(b->peer, "veth0");
	assert_string_equal(a->master, "");
	assert_int_equal(a->pos.line, 5);
	assert_int_equal(a->pos.col, 5);
	assert_addr(m, 0, "", "veth0", "192.168.2.11/24");
	assert_addr(m, 1, "", "veth1", "192.168.2.1/24");
	vnet_model_free(m);
}

static void test_bridges(void **state)
{
	struct vnet_model *m = load(EXAMPLE("bridge"), NULL);

	assert_int_equal(m->links.n, 1);
	assert_ptr_equal(m->links.v[0].kind, vnet_kind_find("bridge"));
	assert_int_equal(m->links.v[0].opts.has, 0);
	assert_true(m->links.v[0].up);
	vnet_model_free(m);

	m = load(EXAMPLE("bridge-veth"), NULL);
	assert_string_equal(link_of(m, "", "veth0")->master, "br0");
	assert_string_equal(link_of(m, "", "veth1")->master, "");
	assert_addr(m, 0, "", "veth0", "192.168.3.101/24");
	vnet_model_free(m);

	m = load(EXAMPLE("bridge-ip"), NULL);
	assert_int_equal(m->addrs.n, 2);
	assert_addr(m, 0, "", "br0", "192.168.3.101/24");
	assert_addr(m, 1, "", "veth1", "192.168.3.102/24");
	vnet_model_free(m);
}

static void test_stp_defaults(void **state)
{
	struct vnet_model *m = load(EXAMPLE("bridge-stp"), NULL);
	const struct vnet_link *br = link_of(m, "", "br0");

	assert_int_equal(opt(br, "stp"), 1);
	assert_int_equal(opt(br, "forward_delay"), 200);
	assert_int_equal(opt(br, "hello_time"), 100);
	assert_int_equal(opt(br, "max_age"), 600);
	assert_int_equal(opt(br, "priority"), -1);
	assert_int_equal(opt(br, "ageing_time"), -1);
	vnet_model_free(m);

	m = load(EXAMPLE("stp-loop"), NULL);
	assert_int_equal(m->links.n, 13);
	assert_int_equal(opt(link_of(m, "", "sw3"), "stp"), 1);
	assert_string_equal(link_of(m, "", "s3-s1")->master, "sw3");
	assert_string_equal(link_of(m, "stp-loop-pc1", "eth0")->peer, "sw1-pc1");
	assert_string_equal(link_of(m, "", "sw2-pc2")->peer_ns, "stp-loop-pc2");
	vnet_model_free(m);
}

static void test_bridge_times_centiseconds(void **state)
{
	struct vnet_model *m =
		parse("bridges:\n"
		      "  br0: {stp: yes, forward_delay: 2.5, max_age: 6.25}\n"
		      "  br1: {stp: off, hello_time: 1, ageing_time: 300, priority: 4096}\n"
		      "  br2: {ageing_time: 0}\n",
		      NULL);
	const struct vnet_link *b0 = &m->links.v[0], *b1 = &m->links.v[1], *b2 = &m->links.v[2];

	assert_int_equal(opt(b0, "forward_delay"), 250);
	assert_int_equal(opt(b0, "max_age"), 625);
	assert_int_equal(opt(b0, "hello_time"), 100); /* filled: STP on, not given */
	assert_int_equal(opt(b1, "stp"), 0);
	assert_int_equal(opt(b1, "hello_time"), 100);
	assert_int_equal(opt(b1, "forward_delay"), -1); /* STP off: nothing filled */
	assert_int_equal(opt(b1, "max_age"), -1);
	assert_int_equal(opt(b1, "ageing_time"), 30000);
	assert_int_equal(opt(b1, "priority"), 4096);
	assert_int_equal(opt(b2, "ageing_time"), 0);
	assert_int_equal(opt(b2, "stp"), -1);
	vnet_model_free(m);
}

static void test_vm(void **state)
{
	struct vnet_model *m = load(EXAMPLE("vm"), NULL);
	struct vnet_link *t = link_of(m, "", "tap1");

	assert_ptr_equal(t->kind, vnet_kind_find("tap"));
	assert_string_equal(t->master, "br0");
	assert_int_equal(opt(t, "vnet_hdr"), 1);
	assert_int_equal(opt(t, "multi_queue"), -1);
	assert_int_equal(opt(t, "owner"), -1);
	vnet_model_free(m);
}

static void test_dummy_macvlan(void **state)
{
	struct vnet_model *m = load(EXAMPLE("macvlan"), NULL);
	const struct vnet_link *c1 = link_of(m, "macvlan-c1", "mv0");

	assert_ptr_equal(c1->kind, vnet_kind_find("macvlan"));
	assert_string_equal(c1->parent, "uplink");
	assert_string_equal(c1->parent_ns, "");
	assert_int_equal(opt(c1, "mode"), 4); /* MACVLAN_MODE_BRIDGE */
	vnet_model_free(m);
	m = parse("macvlans:\n  mv0: {parent: d0}\n  mv1: {parent: d0, mode: private}\n"
		  "dummies:\n  d0: {mac: \"02:00:00:00:00:01\"}\n",
		  NULL);
	assert_int_equal(opt(&m->links.v[0], "mode"), 4); /* vnet's default: bridge */
	assert_int_equal(opt(&m->links.v[1], "mode"), 1);
	assert_string_equal(m->links.v[0].parent_ns, m->links.v[0].ns);
	assert_ptr_equal(m->links.v[2].kind, vnet_kind_find("dummy"));
	vnet_model_free(m);
	m = load(EXAMPLE("dummy"), NULL);
	assert_ptr_equal(link_of(m, "dummy-srv", "svc0")->kind, vnet_kind_find("dummy"));
	vnet_model_free(m);
}

static void test_docker(void **state)
{
	struct vnet_model *m = load(EXAMPLE("docker-explicit"), NULL);
	struct vnet_link *l;

	assert_int_equal(m->ns.n, 3);
	assert_string_equal(m->ns.v[1].node, "c1");
	assert_string_equal(m->ns.v[1].name, "docker-explicit-c1");
	assert_string_equal(m->ns.v[2].name, "docker-explicit-c2");
	l = link_of(m, "docker-explicit-c1", "eth0");
	assert_string_equal(l->peer, "veth-c1");
	assert_string_equal(l->peer_ns, "");
	assert_string_equal(link_of(m, "", "veth-c2")->peer_ns, "docker-explicit-c2");
	assert_int_equal(m->routes.n, 2);
	assert_string_equal(m->routes.v[0].ns, "docker-explicit-c1");
	assert_int_equal(m->routes.v[0].family, AF_INET);
	assert_int_equal(m->routes.v[0].dst_len, 0);
	assert_true(m->routes.v[0].has_gw);
	assert_ip(AF_INET, m->routes.v[0].gw, "192.168.9.1");
	assert_string_equal(m->routes.v[0].dev, "");
	assert_addr(m, 1, "docker-explicit-c1", "eth0", "192.168.9.2/24");
	vnet_model_free(m);
}

/* networks: and containers: become bridges, veth pairs, addresses, routes and ports */
static void test_networks(void **state)
{
	static const char yaml[] =
		"name: n\n"
		"containers:\n"
		"  web: {networks: {front: 10.1.0.5, back: null},\n"
		"        publish: [\"8080:80\", \"198.51.100.1:53:53/udp\",\n"
		"                  \"9000-9002:7000-7002\"]}\n"
		"  db: {networks: [back]}\n"
		"  a-very-long-name: {networks: [front]}\n"
		"networks:\n"
		"  front: {subnet: 10.1.0.0/24, connect: [back]}\n"
		"  back: {subnet: 10.2.0.0/24, gateway: 10.2.0.254, internal: true}\n";
	struct vnet_model *m = parse(yaml, NULL);
	struct vnet_link *l;

	(void)state;
	assert_int_equal(m->networks.n, 2);
	assert_true(m->networks.v[0].masquerade);
	assert_false(m->networks.v[1].masquerade);
	assert_true(m->networks.v[1].internal);
	assert_ip(AF_INET, m->networks.v[0].gateway, "10.1.0.1");
	assert_string_equal(vnet_kind_name(link_of(m, "", "front")->kind), "bridge");
	/* web: eth0 on front (fixed), eth1 on back (IPAM, no address yet) */
	l = link_of(m, "", "ve-web");
	assert_string_equal(l->master, "front");
	assert_string_equal(l->peer, "eth0");
	assert_string_equal(l->peer_ns, "n-web");
	assert_string_equal(link_of(m, "", "ve-web-1")->master, "back");
	assert_string_equal(link_of(m, "n-web", "eth1")->peer, "ve-web-1");
	assert_string_equal(m->members.v[0].host_if, "ve-web");
	assert_true(m->members.v[0].fixed);
	assert_false(m->members.v[1].has_addr);
	/* too long for "ve-NAME": a hash */
	assert_int_equal(strlen(m->members.v[3].host_if), 11);
	assert_memory_equal(m->members.v[3].host_if, "ve-", 3);
	/* one default route each, through the first network with a way out: db has none */
	assert_int_equal(m->routes.n, 2);
	assert_string_equal(m->routes.v[0].ns, "n-web");
	assert_ip(AF_INET, m->routes.v[0].gw, "10.1.0.1");
	/* 1 + 1 + 3 ports, the range expanded */
	assert_int_equal(m->ports.n, 5);
	assert_int_equal(m->ports.v[1].proto, IPPROTO_UDP);
	assert_true(m->ports.v[1].has_host_addr);
	assert_int_equal(m->ports.v[4].host_port, 9002);
	assert_int_equal(m->ports.v[4].port, 7002);
	assert_string_equal(m->nat.table, "vnet-n");
	assert_true(m->nat.forward);
	assert_int_equal(m->connects.n, 1);
	vnet_model_free(m);
}

/* The seed's whole Docker figure: one network, two containers, a published port, NAT. */
static void test_docker_nat(void **state)
{
	struct vnet_model *m = load(EXAMPLE("docker"), NULL);

	(void)state;
	assert_int_equal(m->networks.n, 1);
	assert_int_equal(m->members.n, 2);
	assert_true(m->members.v[0].fixed);
	assert_false(m->members.v[1].fixed);
	assert_int_equal(m->ports.n, 1);
	assert_int_equal(m->ports.v[0].host_port, 8080);
	assert_string_equal(m->nat.table, "vnet-docker");
	assert_string_equal(link_of(m, "", "ve-c2")->master, "br0");
	vnet_model_free(m);
}

static void test_sandbox_and_name(void **state)
{
	struct vnet_load_opts o = { .name = "lab", .sandbox = true };
	struct vnet_model *m = load(EXAMPLE("docker-explicit"), &o);

	assert_string_equal(m->name, "lab");
	assert_true(m->sandbox);
	assert_string_equal(m->ns.v[0].name, "lab-host");
	assert_string_equal(m->ns.v[1].name, "lab-c1");
	assert_string_equal(link_of(m, "lab-host", "br0")->name, "br0");
	assert_string_equal(link_of(m, "lab-c2", "eth0")->peer_ns, "lab-host");
	assert_string_equal(m->routes.v[1].ns, "lab-c2");
	vnet_model_free(m);

	m = parse("name: mynet\nnodes:\n  c1: {netns: custom}\n  host:\n", NULL);
	assert_string_equal(m->name, "mynet");
	assert_string_equal(m->ns.v[1].name, "custom");
	assert_int_equal(m->ns.v[0].pos.line, 4);
	vnet_model_free(m);
}

static void test_name_from_file(void **state)
{
	struct vnet_model *m = NULL;
	struct vnet_error e;

	assert_int_equal(
		vnet_topo_parse_string("bridges: {br0: }", 16, "dir/lab.yml", NULL, &m, &e), 0);
	assert_string_equal(m->name, "lab");
	vnet_model_free(m);
	assert_int_equal(vnet_topo_parse_string("bridges: {br0: }", 16, NULL, NULL, &m, &e),
			 -EINVAL);
	assert_null(m);
	assert_string_equal(e.msg, "the topology has no name: give it \"name\"");
}

static void test_link_options(void **state)
{
	struct vnet_model *m =
		parse("bridges: {br0: }\n"
		      "veths:\n"
		      "  - veth0: {master: br0, cost: 7, priority: 3, hairpin: on,\n"
		      "            learning: off, flood: no, isolated: yes}\n"
		      "    veth1: {mtu: 9000, mac: \"02:aa:bb:cc:dd:ee\", up: false,\n"
		      "            addresses: [10.0.0.1/8, \"fd00::1/64\"]}\n"
		      "taps:\n"
		      "  tap0: {owner: root, group: 0, multi_queue: true}\n",
		      NULL);
	struct vnet_link *p = link_of(m, "", "veth0"), *q = link_of(m, "", "veth1");
	struct vnet_link *t = link_of(m, "", "tap0");

	assert_int_equal(opt(p, "cost"), 7);
	assert_int_equal(opt(p, "priority"), 3);
	assert_int_equal(opt(p, "hairpin"), 1);
	assert_int_equal(opt(p, "learning"), 0);
	assert_int_equal(opt(p, "flood"), 0);
	assert_int_equal(opt(p, "isolated"), 1);
	assert_int_equal(opt(q, "cost"), -1);
	assert_true(p->up);
	assert_false(q->up);
	assert_int_equal(q->has, VNET_LINK_HAS_MTU | VNET_LINK_HAS_MAC);
	assert_int_equal(q->mtu, 9000);
	assert_int_equal(q->mac[0], 0x02);
	assert_int_equal(q->mac[5], 0xee);
	assert_addr(m, 1, "", "veth1", "fd00::1/64");
	assert_int_equal(m->addrs.v[1].family, AF_INET6);
	assert_int_equal(m->addrs.v[1].pos.line, 6);
	assert_int_equal(opt(t, "owner"), 0);
	assert_int_equal(opt(t, "group"), 0);
	assert_int_equal(opt(t, "multi_queue"), 1);
	assert_int_equal(opt(t, "vnet_hdr"), -1);
	vnet_model_free(m);
}

/* An uplink: short and long form, its defaults, and where it sits. */
static void test_uplink(void **state)
{
	struct vnet_model *m =
		parse("name: u\n"
		      "nodes: {vm: {}}\n"
		      "bridges:\n"
		      "  br-wan: {uplink: eth0}\n"
		      "  vm/br1:\n"
		      "    uplink: {nic: ens3, probe: [10.0.0.1, 10.0.0.2], timeout: 0.5,"
		      " force: yes}\n",
		      NULL);
	const struct vnet_uplink *a = &m->uplinks.v[0], *b = &m->uplinks.v[1];

	(void)state;
	assert_int_equal(m->uplinks.n, 2);
	assert_string_equal(a->ns, "");
	assert_string_equal(a->bridge, "br-wan");
	assert_string_equal(a->nic, "eth0");
	assert_int_equal(a->probe_ms, 3000);
	assert_int_equal(a->n_probe, 0);
	assert_false(a->force);
	assert_int_equal(a->pos.line, 4);
	assert_string_equal(b->ns, "u-vm");
	assert_string_equal(b->nic, "ens3");
	assert_int_equal(b->probe_ms, 500);
	assert_int_equal(b->n_probe, 2);
	assert_int_equal(b->probe[1][3], 2);
	assert_true(b->force);
	/* the bridge is an ordinary bridge: STP off unless the file says */
	assert_int_equal(
		vnet_link_opt(vnet_model_find_link(m, "", "br-wan"), "stp", &(uint32_t){ 0 }), 0);
	vnet_model_free(m);
}

static void test_tunnels(void **state)
{
	struct vnet_model *m =
		parse("name: t\n"
		      "nodes: {a: {}}\n"
		      "tuns:\n"
		      "  tun0: {tunnel: {peer: 192.0.2.2}}\n"
		      "  a/tun1:\n"
		      "    mtu: 1400\n"
		      "    tunnel: {peer: \"192.0.2.3:5000\", local: 192.0.2.1, port: 4800,"
		      " id: 9, queues: 4}\n"
		      "taps:\n"
		      "  tap0: {tunnel: {peer: 192.0.2.4, port: 4801, offload: off}}\n",
		      NULL);
	const struct vnet_tunnel_decl *a = &m->tunnels.v[0], *b = &m->tunnels.v[1];
	const struct vnet_tunnel_decl *c = &m->tunnels.v[2];
	uint32_t hdr = 7;

	(void)state;
	assert_int_equal(m->tunnels.n, 3);
	assert_string_equal(a->ns, "");
	assert_string_equal(a->dev, "tun0");
	assert_false(a->tap);
	assert_ip(AF_INET, a->peer, "192.0.2.2");
	assert_int_equal(a->peer_port, 4790); /* the port, both ends alike */
	assert_int_equal(a->port, 4790);
	assert_int_equal(a->id, 1);
	assert_true(a->offload);
	assert_int_equal(a->mtu, 0);
	assert_int_equal(a->pos.line, 4);
	assert_string_equal(b->ns, "t-a");
	assert_int_equal(b->peer_port, 5000);
	assert_ip(AF_INET, b->local, "192.0.2.1");
	assert_int_equal(b->port, 4800);
	assert_int_equal(b->id, 9);
	assert_int_equal(b->mtu, 1400);
	assert_int_equal(a->queues, 1);
	assert_int_equal(b->queues, 4);
	assert_int_equal(vnet_link_opt(link_of(m, "t-a", "tun1"), "multi_queue", &hdr), 1);
	assert_int_equal(hdr, 1);
	assert_int_equal(vnet_link_opt(link_of(m, "", "tun0"), "multi_queue", &hdr), 0);
	assert_true(c->tap);
	assert_int_equal(c->peer_port, 4801);
	assert_false(c->offload);
	/* the device is made with the vnet_hdr its offload needs */
	assert_int_equal(vnet_link_opt(link_of(m, "", "tun0"), "vnet_hdr", &hdr), 1);
	assert_int_equal(hdr, 1);
	assert_int_equal(vnet_link_opt(link_of(m, "", "tap0"), "vnet_hdr", &hdr), 1);
	assert_int_equal(hdr, 0);
	vnet_model_free(m);
}

static void test_routes(void **state)
{
	struct vnet_model *m = parse("nodes:\n"
				     "  c1:\n"
				     "    routes:\n"
				     "      - 10.1.0.0/16 via 10.0.0.254 dev eth0 metric 100\n"
				     "      - default dev eth0\n"
				     "      - default via fd00::1\n"
				     "      - default6 dev eth0 metric 5\n"
				     "      - \"fd01::/64 via fe80::1 dev eth0\"\n"
				     "veths:\n"
				     "  - v: {}\n"
				     "    c1/eth0: {addresses: [10.0.0.1/24, \"fd00::2/64\"]}\n",
				     NULL);
	const struct vnet_route *r = m->routes.v;

	assert_int_equal(m->routes.n, 5);
	assert_string_equal(r[0].ns, "t-c1");
	assert_ip(AF_INET, r[0].dst, "10.1.0.0");
	assert_int_equal(r[0].dst_len, 16);
	assert_ip(AF_INET, r[0].gw, "10.0.0.254");
	assert_string_equal(r[0].dev, "eth0");
	assert_int_equal(r[0].metric, 100);
	assert_int_equal(r[0].pos.line, 4);
	assert_int_equal(r[0].pos.col, 9);
	assert_int_equal(r[1].family, AF_INET);
	assert_false(r[1].has_gw);
	assert_int_equal(r[2].family, AF_INET6); /* "default" takes the gateway's family */
	assert_int_equal(r[2].dst_len, 0);
	assert_int_equal(r[3].family, AF_INET6);
	assert_int_equal(r[3].metric, 5);
	assert_int_equal(r[4].dst_len, 64);
	assert_ip(AF_INET6, r[4].gw, "fe80::1");
	vnet_model_free(m);
}

/* Errors inside a route string point at the word, quoted or not. */
static void test_route_error_columns(void **state)
{
	static const struct {
		const char *yaml;
		unsigned col;
	} cases[] = {
		{ "nodes: {host: {routes: [default via 1.2.3.999]}}", 37 },
		{ "nodes: {host: {routes: [\"default via 1.2.3.999\"]}}", 38 },
		{ "nodes: {host: {routes: ['default  metric x dev a']}}", 42 },
	};
	struct vnet_model *m = NULL;
	struct vnet_error e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(vnet_topo_parse_string(cases[i].yaml, strlen(cases[i].yaml),
							"t.yaml", NULL, &m, &e),
				 -EINVAL);
		assert_int_equal(e.line, 1);
		assert_int_equal(e.col, cases[i].col);
	}
}

static void test_syntax_errors(void **state)
{
	struct vnet_model *m = NULL;
	struct vnet_error e;
	char buf[1024];

	assert_int_equal(vnet_topo_parse_string("a: [", 4, "x.yaml", NULL, &m, &e), -EINVAL);
	assert_null(m);
	assert_string_equal(e.file, "x.yaml");
	assert_int_equal(e.line, 2);
	assert_int_equal(vnet_topo_parse_string("", 0, "x.yaml", NULL, &m, &e), -EINVAL);
	vnet_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "x.yaml: the file is empty");
	assert_int_equal(vnet_topo_load("/nonexistent/x.yaml", NULL, &m, &e), -ENOENT);
	assert_int_equal(e.err, -ENOENT);
	assert_string_equal(e.file, "/nonexistent/x.yaml");
}

/* Big maps: a key given twice is found by the hash of the keys, at its own line. */
static void test_many_keys(void **state)
{
	size_t cap = 2000 * 16 + 64, n = 0;
	char *yaml = malloc(cap);
	struct vnet_model *m = NULL;
	struct vnet_error e;
	char buf[1024];

	assert_non_null(yaml);
	n += (size_t)snprintf(yaml + n, cap - n, "nodes:\n");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(yaml + n, cap - n, "  n%d:\n", i);
	m = parse(yaml, NULL);
	assert_int_equal(m->ns.n, 2001);
	assert_non_null(vnet_model_find_node(m, "n1999"));
	vnet_model_free(m);
	m = NULL;
	n += (size_t)snprintf(yaml + n, cap - n, "  n1234:\n");
	assert_int_equal(vnet_topo_parse_string(yaml, n, "t.yaml", NULL, &m, &e), -EINVAL);
	vnet_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "t.yaml:2002:3: duplicate key \"n1234\" (first at line 1236)");
	assert_null(m);
	free(yaml);
}

/* The file in any order: name last, links before their nodes; nodes still come first. */
static void test_any_order(void **state)
{
	struct vnet_model *m = parse("veths:\n  - v1: {master: br0}\n    c1/eth0: {addresses: "
				     "10.0.0.2/24}\nbridges: {br0: }\nnodes: {c1: }\nname: late\n",
				     NULL);

	assert_string_equal(m->name, "late");
	assert_string_equal(link_of(m, "late-c1", "eth0")->peer, "v1");
	assert_string_equal(link_of(m, "", "v1")->master, "br0");
	vnet_model_free(m);
}

/* One host's part of a stretched bridge: its node, its veth at the overlay's MTU, and the
 * vxlan vnet derives, with the other two hosts as VTEPs and the same VNI on every host. */
static void test_hosts_stretched(void **state)
{
	struct vnet_load_opts o1 = { .host = "h1" }, o2 = { .host = "h2" };
	struct vnet_model *m1 = load(EXAMPLE("lab3"), &o1), *m2 = load(EXAMPLE("lab3"), &o2);
	const struct vnet_link *vx = link_of(m2, "", "vx-br0");
	uint32_t vni1, vni2, local;

	(void)state;
	assert_string_equal(m2->host, "h2");
	assert_int_equal(m2->ns.n, 2);
	assert_string_equal(m2->ns.v[1].node, "n2");
	assert_null(vnet_model_find_link(m2, "", "v1"));
	assert_int_equal(link_of(m2, "", "v2")->mtu, 1450);
	assert_int_equal(link_of(m2, "lab3-n2", "eth0")->mtu, 1450);
	assert_string_equal(vx->master, "br0");
	assert_int_equal(vx->mtu, 1450);
	assert_int_equal(vx->n_vtep, 2);
	assert_ip(AF_INET, vx->vtep[0].dst, "192.168.50.1");
	assert_ip(AF_INET, vx->vtep[1].dst, "192.168.50.3");
	assert_int_equal(vnet_link_opt(vx, "local", &local), 1);
	assert_ip(AF_INET, (const uint8_t *)&local, "192.168.50.2");
	assert_int_equal(vnet_link_opt(vx, "vni", &vni2), 1);
	assert_int_equal(vnet_link_opt(link_of(m1, "", "vx-br0"), "vni", &vni1), 1);
	assert_int_equal(vni1, vni2);
	/* the check from n1 to n2, which is on h2, goes to n2's address */
	assert_int_equal(m1->checks.n, 2);
	assert_true(m1->checks.v[0].has_addr);
	assert_ip(AF_INET, m1->checks.v[0].addr, "10.0.0.2");
	assert_int_equal(m2->checks.n, 0);
	vnet_model_free(m1);
	vnet_model_free(m2);
}

/* One host's part of a routed network: its /24 on the bridge, the vxlan with the /16, a
 * route, a neighbour and a forwarding entry per other host. */
static void test_hosts_routed(void **state)
{
	struct vnet_load_opts o = { .host = "h1" };
	struct vnet_model *m = load(EXAMPLE("pods"), &o);
	const struct vnet_link *vx = link_of(m, "", "vx-pods");
	const struct vnet_network *n = vnet_model_find_network(m, "pods");
	size_t via = 0;

	(void)state;
	assert_non_null(n);
	assert_ip(AF_INET, n->subnet, "10.244.1.0");
	assert_int_equal(n->prefixlen, 24);
	assert_string_equal(n->overlay, "vx-pods");
	assert_int_equal(n->cluster_len, 16);
	assert_int_equal(vx->n_vtep, 2);
	assert_true(vx->vtep[0].has_inner);
	assert_ip(AF_INET, vx->vtep[0].dst, "192.168.50.2");
	assert_ip(AF_INET, vx->vtep[0].inner, "10.244.2.0");
	assert_true(vx->has & VNET_LINK_HAS_MAC);
	assert_int_equal(vx->mac[0], 0x02);
	for (size_t i = 0; i < m->routes.n; i++)
		via += !strcmp(m->routes.v[i].dev, "vx-pods") && m->routes.v[i].dst_len == 24;
	assert_int_equal(via, 2);
	assert_int_equal(m->checks.n, 1);
	assert_ip(AF_INET, m->checks.v[0].addr, "10.244.2.10");
	vnet_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_parse),
		cmocka_unit_test(test_tunnels),
		cmocka_unit_test(test_tun_tap),
		cmocka_unit_test(test_veth),
		cmocka_unit_test(test_bridges),
		cmocka_unit_test(test_stp_defaults),
		cmocka_unit_test(test_bridge_times_centiseconds),
		cmocka_unit_test(test_vm),
		cmocka_unit_test(test_dummy_macvlan),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_docker_nat),
		cmocka_unit_test(test_sandbox_and_name),
		cmocka_unit_test(test_name_from_file),
		cmocka_unit_test(test_link_options),
		cmocka_unit_test(test_uplink),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_error_columns),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_any_order),
		cmocka_unit_test(test_hosts_stretched),
		cmocka_unit_test(test_hosts_routed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
