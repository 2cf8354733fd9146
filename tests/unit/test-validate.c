// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-validate.c - the rules of a topology, one by one, on inline files and built models */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"

#include "topo.h"
#include "vnet/vnet.h"

/* @yaml is a valid topology. */
static void ok(const char *yaml)
{
	struct vnet_model *m = NULL;
	struct vnet_error e;
	char buf[1024];

	if (vnet_topo_parse_string(yaml, strlen(yaml), "t.yaml", NULL, &m, &e) < 0) {
		vnet_error_format(&e, buf, sizeof(buf));
		fail_msg("unexpected error: %s", buf);
	}
	assert_non_null(m);
	vnet_model_free(m);
}

static void test_unique_names(void **state)
{
	unit_bad("bridges: {br0: }\ntaps: {br0: }\n",
		 "t.yaml:2:8: tap br0: duplicate interface \"br0\" in node host (first at line 1)");
	unit_bad("nodes: {c1: }\nbridges: {c1/x: }\ntuns: {c1/x: }\n",
		 "t.yaml:3:8: tun c1/x: duplicate interface \"x\" in node c1 (first at line 2)");
	/* the same name in two nodes is fine */
	ok("nodes: {c1: , c2: }\nveths:\n  - c1/eth0:\n    c2/eth0:\n");
	unit_bad("nodes: {c1: {netns: n}, c2: {netns: n}}\n",
		 "t.yaml:1:37: node c2: namespace \"n\" is already used by node c1");
}

static void test_undeclared_node(void **state)
{
	unit_bad("veths:\n  - veth0:\n    c3/eth0:\n",
		 "t.yaml:3:5: veth end c3/eth0: node \"c3\" is not declared under nodes");
	unit_bad("taps: {x/tap0: }\n",
		 "t.yaml:1:8: tap x/tap0: node \"x\" is not declared under nodes");
	/* host/ is the host, declared or not */
	ok("taps: {host/tap0: }\n");
}

static void test_master(void **state)
{
	ok("bridges: {br0: }\ntaps: {tap0: {master: br0}}\n");
	unit_bad("taps: {tap0: {master: br0}}\n",
		 "t.yaml:1:23: tap tap0: \"br0\" is not a bridge in node host");
	unit_bad("nodes: {c1: }\nbridges: {br0: }\ntaps: {c1/tap0: {master: br0}}\n",
		 "t.yaml:3:26: tap c1/tap0: \"br0\" is not a bridge in node c1");
	unit_bad("taps: {tap0: , tap1: {master: tap0}}\n",
		 "t.yaml:1:31: tap tap1: \"tap0\" is not a bridge in node host");
	unit_bad("bridges: {br0: , br1: {master: br0}}\n",
		 "t.yaml:1:24: bridge br1: a bridge cannot be a bridge port (no nested bridges)");
}

static void test_port_options(void **state)
{
	unit_bad("taps: {tap0: {hairpin: on}}\n",
		 "t.yaml:1:15: tap tap0: hairpin needs master: port options apply to bridge ports");
	unit_bad("tuns: {tun0: {cost: 3}}\n",
		 "t.yaml:1:15: tun tun0: a tun is layer 3 and cannot be a bridge port");
	unit_bad("tuns: {tun0: {mac: \"02:00:00:00:00:01\"}}\n",
		 "t.yaml:1:15: tun tun0: a tun is layer 3 and has no MAC address");
	/* priority means the bridge priority on a bridge, the port priority on a port */
	ok("bridges: {br0: {priority: 1000}}\n");
	unit_bad("bridges: {br0: }\ntaps: {tap0: {master: br0, priority: 1000}}\n",
		 "t.yaml:2:38: tap tap0: priority 1000 is out of range 0..63");
}

static void test_addresses(void **state)
{
	unit_bad("taps: {a: {addresses: 10.0.0.1/24}, b: {addresses: 10.0.0.1/16}}\n",
		 "t.yaml:1:52: tap b: address 10.0.0.1/16 is already on a (line 1)");
	unit_bad("taps: {a: {addresses: [\"fd00::1/64\", \"fd00::1/64\"]}}\n",
		 "t.yaml:1:38: tap a: address fd00::1/64 is already on a (line 1)");
	/* the same address in two namespaces is two hosts' business */
	ok("nodes: {c1: , c2: }\ntaps: {c1/a: {addresses: 10.0.0.1/24}, c2/a: {addresses: "
	   "10.0.0.1/24}}\n");
	ok("taps: {a: {addresses: [10.0.0.1/24, 10.0.0.2/24]}}\n");
}

static void test_gateways(void **state)
{
	ok("taps: {a: {addresses: 10.0.0.1/24}}\nnodes: {host: {routes: [default via 10.0.0.9]}}\n");
	unit_bad(
		"taps: {a: {addresses: 10.0.0.1/24}}\nnodes: {host: {routes: [default via 10.0.1.9]}}\n",
		"t.yaml:2:37: route \"default via 10.0.1.9\": gateway 10.0.1.9 is outside every subnet "
		"of node host");
	/* with dev, only that device's subnets count */
	unit_bad(
		"taps: {a: {addresses: 10.0.0.1/24}, b: }\n"
		"nodes: {host: {routes: [default via 10.0.0.9 dev b]}}\n",
		"t.yaml:2:37: route \"default via 10.0.0.9 dev b\": gateway 10.0.0.9 is outside every "
		"subnet of b");
	/* an IPv6 link-local gateway is reachable on any link, given the link */
	ok("taps: {a: }\nnodes: {host: {routes: [\"default via fe80::1 dev a\"]}}\n");
	unit_bad("taps: {a: {addresses: 10.0.0.1/24}}\n"
		 "nodes: {host: {routes: [\"10.2.0.0/16 via fd00::1\"]}}\n",
		 "t.yaml:2:42: route \"10.2.0.0/16 via fd00::1\": gateway fd00::1 is IPv6 but the "
		 "destination is IPv4");
	unit_bad(
		"taps: {a: }\nnodes: {host: {routes: [10.2.0.0/16 dev b]}}\n",
		"t.yaml:2:41: route \"10.2.0.0/16 dev b\": \"b\" is not an interface of node host");
}

static void test_duplicate_routes(void **state)
{
	const char *base = "taps: {a: {addresses: 10.0.0.1/24}}\nnodes: {host: {routes: [";
	char yaml[512];

	snprintf(yaml, sizeof(yaml), "%s%s]}}\n", base,
		 "default via 10.0.0.9, default via 10.0.0.8 metric 10");
	ok(yaml);
	snprintf(yaml, sizeof(yaml), "%s%s]}}\n", base,
		 "default via 10.0.0.9, default dev a metric 0");
	unit_bad(yaml,
		 "t.yaml:2:47: route \"default dev a metric 0\": duplicate route to default with "
		 "metric 0 in node host (first at line 2)");
	/* default and default6 are different destinations */
	snprintf(yaml, sizeof(yaml), "%s%s]}}\n", base, "default dev a, default6 dev a");
	ok(yaml);
}

static void test_suggest(void **state)
{
	static const char *const keys[] = { "addresses", "mtu", "mac", "up", "master", NULL };

	assert_string_equal(vnet_topo_suggest("adresses", keys), "addresses");
	assert_string_equal(vnet_topo_suggest("mastr", keys), "master");
	assert_string_equal(vnet_topo_suggest("mtuu", keys), "mtu");
	assert_null(vnet_topo_suggest("bandwidth", keys));
	assert_null(vnet_topo_suggest("mtu", keys)); /* exact: nothing to suggest */
	unit_bad("bridges: {br0: {stpp: on}}\n",
		 "t.yaml:1:17: bridge br0: unknown key \"stpp\" (did you mean \"stp\"?)");
	/* a tun refuses master: it is not offered as a suggestion */
	unit_bad("tuns: {tun0: {mastr: x}}\n", "t.yaml:1:15: tun tun0: unknown key \"mastr\"");
}

/* A model built by hand, as a program using the library might. */
static struct vnet_model *built(void)
{
	struct vnet_model *m = vnet_model_new();
	struct vnet_ns *h = vnet_model_add_ns(m);
	struct vnet_link *l;

	snprintf(m->name, sizeof(m->name), "hand");
	snprintf(h->node, sizeof(h->node), "host");
	l = vnet_model_add_link(m);
	snprintf(l->name, sizeof(l->name), "veth0");
	l->kind = vnet_kind_find("veth");
	snprintf(l->peer, sizeof(l->peer), "veth1");
	l = vnet_model_add_link(m);
	snprintf(l->name, sizeof(l->name), "veth1");
	l->kind = vnet_kind_find("veth");
	snprintf(l->peer, sizeof(l->peer), "veth0");
	return m;
}

static void test_built_models(void **state)
{
	struct vnet_model *m = built();
	struct vnet_error e;
	struct vnet_route *r;

	assert_int_equal(vnet_topo_validate(m, &e), 0);
	snprintf(m->links.v[1].peer, sizeof(m->links.v[1].peer), "vethX");
	assert_int_equal(vnet_topo_validate(m, &e), -EINVAL);
	assert_string_equal(e.object, "veth end veth0");
	assert_string_equal(e.msg, "veth peer \"veth1\" has another peer, \"vethX\"");
	snprintf(m->links.v[0].peer, sizeof(m->links.v[0].peer), "veth7");
	assert_int_equal(vnet_topo_validate(m, &e), -EINVAL);
	assert_string_equal(e.msg, "veth peer \"veth7\" is missing");
	snprintf(m->links.v[0].peer, sizeof(m->links.v[0].peer), "veth1");
	snprintf(m->links.v[1].peer, sizeof(m->links.v[1].peer), "veth0");
	r = vnet_model_add_route(m);
	r->family = AF_INET;
	inet_pton(AF_INET, "10.9.0.0", r->dst);
	r->dst_len = 16;
	assert_int_equal(vnet_topo_validate(m, &e), -EINVAL);
	assert_string_equal(e.object, "route \"10.9.0.0/16\"");
	assert_string_equal(e.msg, "a route needs \"via\" or \"dev\"");
	snprintf(r->dev, sizeof(r->dev), "veth0");
	assert_int_equal(vnet_topo_validate(m, NULL), 0);
	m->sandbox = true; /* the host must then be "hand-host" */
	assert_int_equal(vnet_topo_validate(m, &e), -EINVAL);
	vnet_model_free(m);
}

/* A growing buffer of YAML text, for topologies too big to write out. */
struct text {
	char *s;
	size_t n;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char line[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->s = realloc(t->s, t->n + (size_t)n + 1);
	assert_non_null(t->s);
	memcpy(t->s + t->n, line, (size_t)n + 1);
	t->n += (size_t)n;
}

/* Duplicates found by the indexes, past their first growth: the same error a scan gave. */
static void test_duplicates_in_many(void **state)
{
	struct text t = { 0 };

	text_add(&t, "nodes:\n");
	for (int i = 0; i < 300; i++)
		text_add(&t, "  n%d: {routes: [\"10.%d.0.0/16 via 10.0.%d.1\"]}\n", i, i % 256,
			 i % 200);
	text_add(&t, "veths:\n");
	for (int i = 0; i < 300; i++)
		text_add(&t, "  - v%d: {addresses: 10.0.%d.1/24}\n    n%d/eth0:\n", i, i % 200, i);
	/* v200 has 10.0.0.1 again (line 303 is v0's) */
	unit_bad(t.s, "t.yaml:703:23: veth end v200: address 10.0.0.1/24 is already on v0 (line "
		      "303)");
	free(t.s);
}

/* Addresses no interface keeps, gateways no route goes via: refused with the reason. */
static void test_unusable_addresses(void **state)
{
	unit_bad("bridges: {br0: {addresses: 0.0.0.0/0}}\n",
		 "t.yaml:1:28: bridge br0: address 0.0.0.0/0 is the unspecified address: the "
		 "kernel cannot keep it on an interface");
	unit_bad("bridges: {br0: {addresses: \"ff02::1/64\"}}\n",
		 "t.yaml:1:28: bridge br0: address ff02::1/64 is a multicast address: an interface "
		 "joins a group, it cannot be given one");
	unit_bad("bridges: {br0: {addresses: 127.0.0.1/8}}\n",
		 "t.yaml:1:28: bridge br0: address 127.0.0.1/8 is a loopback address: only lo can "
		 "have it");
	unit_bad("nodes: {c1: {routes: [\"default6 via ::1\"]}}\n",
		 "t.yaml:1:37: route \"default6 via ::1\": gateway ::1 is a loopback address: it "
		 "never leaves the node");
	/* as a destination, 0.0.0.0/0 is the default route, and stays allowed */
	ok("nodes: {c1: {routes: [\"0.0.0.0/0 via 10.0.0.1\"]}}\nveths:\n  - v1:\n"
	   "    c1/eth0: {addresses: 10.0.0.2/24}\n");
	ok("bridges: {br0: {addresses: [223.255.255.254/8, \"fe80::1/64\", 128.0.0.1/16]}}\n");
}

/* Control characters never reach the error line raw, whatever token carries them. */
static void test_control_characters(void **state)
{
	char buf[64];

	unit_bad("bridges: {\"br\\e0\": }\n",
		 "t.yaml:1:11: bridge br\\x1b0: interface name \"br\\x1b0\" contains a control "
		 "character");
	unit_bad("taps: {tap0: {owner: \"\\e]0;x\\a\"}}\n",
		 "t.yaml:1:22: tap tap0: user \"\\x1b]0;x\\x07\" does not exist");
	/* the kernel's own rule: 0xa0 is whitespace to it */
	unit_bad("taps: {\"t\\xa0\": }\n",
		 "t.yaml:1:8: tap t\\xc2\\xa0: interface name \"t\\xc2\\xa0\" contains byte 0xa0, "
		 "which the kernel takes for whitespace");
	vnet_escape("a\x1b[1m\xc2\x9b"
		    "b\x7f",
		    buf, sizeof(buf));
	assert_string_equal(buf, "a\\x1b[1m\\xc2\\x9bb\\x7f");
	assert_int_equal(vnet_topo_control("abc\xc2\xa0"
					   "d"),
			 6);
	assert_int_equal(vnet_topo_control("ab\tc"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_names),
		cmocka_unit_test(test_undeclared_node),
		cmocka_unit_test(test_master),
		cmocka_unit_test(test_port_options),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_duplicate_routes),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_built_models),
		cmocka_unit_test(test_duplicates_in_many),
		cmocka_unit_test(test_unusable_addresses),
		cmocka_unit_test(test_control_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
