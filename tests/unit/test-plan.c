// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-plan.c - the planner, with no kernel: desired + observed -> steps */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kind.h"
#include "nat.h"
#include "uplink.h"
#include "unit.h"

static const char docker[] = "name: dk\n" UNIT_DOCKER;

static struct vnet_model *parse(const char *text)
{
	return unit_parse(text, NULL, true);
}

/* What the kernel would show after a successful up of @want: everything there, ours. */
static struct vnet_model *built(const struct vnet_model *want)
{
	struct vnet_model *m = vnet_model_new();
	char tag[VNET_NAMSIZ + 8];

	snprintf(tag, sizeof(tag), "vnet:%s", want->name);
	for (size_t i = 0; i < want->ns.n; i++) {
		struct vnet_ns *ns = vnet_model_add_ns(m);
		struct vnet_link *lo = vnet_model_add_link(m);

		*ns = want->ns.v[i];
		ns->exists = ns->owned = true;
		snprintf(lo->name, sizeof(lo->name), "lo");
		snprintf(lo->ns, sizeof(lo->ns), "%s", ns->name);
		snprintf(lo->alias, sizeof(lo->alias), "%s", tag);
		lo->up = true; /* tagged, but not recorded: the store never lists lo */
	}
	for (size_t i = 0; i < want->links.n; i++) {
		struct vnet_link *l = vnet_model_add_link(m);

		*l = want->links.v[i];
		l->owned = true;
		snprintf(l->alias, sizeof(l->alias), "%s", tag);
	}
	for (size_t i = 0; i < want->addrs.n; i++) {
		*vnet_model_add_addr(m) = want->addrs.v[i];
		m->addrs.v[i].owned = true;
	}
	for (size_t i = 0; i < want->routes.n; i++) {
		*vnet_model_add_route(m) = want->routes.v[i];
		m->routes.v[i].owned = true;
	}
	return m;
}

static size_t count(const struct vnet_plan *p, enum vnet_op_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < p->ops.n; i++)
		n += p->ops.v[i].kind == kind;
	return n;
}

static void test_fresh_build(void **state)
{
	struct vnet_model *want = parse(docker), *have = vnet_model_new();
	struct vnet_plan *p = NULL;

	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	assert_int_equal(count(p, VNET_OP_NS_ADD), 3); /* host (sandbox), c1, c2 */
	assert_int_equal(count(p, VNET_OP_LINK_ADD), 3); /* br0 and two veth pairs, once each */
	assert_int_equal(count(p, VNET_OP_ADDR_ADD), 3);
	assert_int_equal(count(p, VNET_OP_ROUTE_ADD), 2);
	assert_int_equal(count(p, VNET_OP_NS_DEL) + count(p, VNET_OP_LINK_DEL), 0);
	/* phases: every namespace before any link, the bridge before veths, routes last */
	assert_int_equal(p->ops.v[0].kind, VNET_OP_NS_ADD);
	assert_int_equal(p->ops.v[3].kind, VNET_OP_LINK_ADD);
	assert_ptr_equal(p->ops.v[3].link.kind, vnet_kind_find("bridge"));
	assert_int_equal(p->ops.v[p->ops.n - 1].kind, VNET_OP_ROUTE_ADD);
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_unchanged_plans_nothing(void **state)
{
	struct vnet_model *want = parse(docker), *have = built(want);
	struct vnet_plan *p = NULL;

	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	assert_int_equal(p->ops.n, 0);
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_address_changed(void **state)
{
	struct vnet_model *want = parse(docker), *have = built(want);
	struct vnet_plan *p = NULL;

	want->addrs.v[1].addr[3] = 42; /* c1/eth0 192.168.9.2 -> .42 */
	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	/* c1's default route goes with the old address in the kernel: it is made again */
	assert_int_equal(p->ops.n, 4);
	assert_int_equal(p->ops.v[0].kind, VNET_OP_ROUTE_DEL);
	assert_string_equal(p->ops.v[0].route.ns, "dk-c1");
	assert_int_equal(p->ops.v[1].kind, VNET_OP_ADDR_DEL);
	assert_int_equal(p->ops.v[1].addr.addr[3], 2);
	assert_int_equal(p->ops.v[2].kind, VNET_OP_ADDR_ADD);
	assert_int_equal(p->ops.v[2].addr.addr[3], 42);
	assert_int_equal(p->ops.v[3].kind, VNET_OP_ROUTE_ADD);
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_stp_toggled(void **state)
{
	struct vnet_model *want = parse(docker), *have = built(want);
	struct vnet_link *br = vnet_model_find_link(want, want->ns.v[0].name, "br0");
	struct vnet_plan *p = NULL;
	char what[128];
	int stp;

	assert_non_null(br);
	stp = vnet_opt_find(&br->kind->opts, "stp");
	assert_true(stp >= 0);
	br->opts.has |= 1U << stp;
	br->opts.v[stp] = 1;
	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	assert_int_equal(p->ops.n, 1);
	assert_int_equal(p->ops.v[0].kind, VNET_OP_LINK_SET);
	assert_int_equal(p->ops.v[0].set, VNET_SET_OPTS);
	assert_false(vnet_bridge_stp(&p->ops.v[0].old));
	vnet_op_describe(&p->ops.v[0], what, sizeof(what));
	assert_string_equal(what, "set br0 in dk-host: stp true");
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_node_removed(void **state)
{
	static const char one[] = "name: dk\n"
				  "nodes:\n"
				  "  c1: {routes: [default via 192.168.9.1]}\n"
				  "bridges:\n"
				  "  br0: {addresses: 192.168.9.1/24}\n"
				  "veths:\n"
				  "  - veth-c1: {master: br0}\n"
				  "    c1/eth0: {addresses: 192.168.9.2/24}\n";
	struct vnet_model *old = parse(docker), *want = parse(one), *have = built(old);
	struct vnet_plan *p = NULL;

	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	/* c2's route, address, veth pair (once) and namespace; nothing of c1 */
	assert_int_equal(count(p, VNET_OP_ROUTE_DEL), 1);
	assert_int_equal(count(p, VNET_OP_ADDR_DEL), 1);
	assert_int_equal(count(p, VNET_OP_LINK_DEL), 1);
	assert_int_equal(count(p, VNET_OP_NS_DEL), 1);
	assert_int_equal(p->ops.n, 4);
	assert_string_equal(p->ops.v[3].ns.name, "dk-c2");
	vnet_plan_free(p);
	vnet_model_free(old);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_foreign_link_conflict(void **state)
{
	struct vnet_model *want = parse(docker), *have = built(want);
	struct vnet_plan *p = NULL;
	struct vnet_error e = { 0 };
	struct vnet_link *l = vnet_model_find_link(have, "dk-host", "veth-c2");

	l->owned = false; /* someone else's */
	l->alias[0] = '\0';
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -EEXIST);
	assert_null(p);
	assert_non_null(strstr(e.msg, "veth-c2"));
	assert_non_null(strstr(e.msg, "not vnet's"));
	assert_int_not_equal(e.line, 0);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_other_topology_conflict(void **state)
{
	struct vnet_model *want = parse(docker), *have = built(want);
	struct vnet_plan *p = NULL;
	struct vnet_error e = { 0 };
	struct vnet_link *l = vnet_model_find_link(have, "dk-host", "br0");

	l->owned = false;
	snprintf(l->alias, sizeof(l->alias), "vnet:lab");
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -EEXIST);
	assert_string_equal(e.msg,
			    "br0 already exists in dk-host and belongs to vnet topology lab");
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_lost_store_conflict(void **state)
{
	struct vnet_model *want = parse(docker), *have = built(want);
	struct vnet_plan *p = NULL;
	struct vnet_error e = { 0 };

	/* our tags everywhere, but no record: the store was lost */
	for (size_t i = 0; i < have->ns.n; i++)
		have->ns.v[i].owned = false;
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "carries this topology's tag"));
	assert_non_null(strstr(e.msg, "state store has no record"));
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_foreign_namespace_conflict(void **state)
{
	struct vnet_model *want = parse(docker), *have = vnet_model_new();
	struct vnet_ns *ns = vnet_model_add_ns(have);
	struct vnet_plan *p = NULL;
	struct vnet_error e = { 0 };

	snprintf(ns->name, sizeof(ns->name), "dk-c1");
	ns->exists = true;
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "dk-c1"));
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_down_spares_foreign(void **state)
{
	struct vnet_model *want = parse(docker), *have = built(want);
	struct vnet_link *foreign = vnet_model_add_link(have);
	struct vnet_plan *p = NULL;

	snprintf(foreign->name, sizeof(foreign->name), "eth9");
	foreign->kind = vnet_kind_find("veth");
	assert_int_equal(vnet_plan_down(have, &p), 0);
	/* all three namespaces go, with everything in them; nothing else is touched */
	assert_int_equal(count(p, VNET_OP_NS_DEL), 3);
	assert_int_equal(p->ops.n, 3);
	for (size_t i = 0; i < p->ops.n; i++)
		assert_string_not_equal(p->ops.v[i].link.name, "eth9");
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_down_host_links(void **state)
{
	struct vnet_model *want = NULL, *have = NULL;
	struct vnet_plan *p = NULL;
	struct vnet_error e = { 0 };

	/* without the sandbox, host-side links are removed one by one, each veth pair once */
	assert_int_equal(vnet_topo_parse_string(docker, strlen(docker), "t.yaml", NULL, &want, &e),
			 0);
	have = built(want);
	assert_int_equal(vnet_plan_down(have, &p), 0);
	assert_int_equal(count(p, VNET_OP_LINK_DEL), 3); /* br0, veth-c1, veth-c2 */
	assert_int_equal(count(p, VNET_OP_NS_DEL), 2);
	assert_int_equal(p->ops.n, 5);
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

static void test_same_ns_veth_once(void **state)
{
	static const char text[] = "name: v\n"
				   "veths:\n"
				   "  - veth0: {addresses: 192.168.2.11/24}\n"
				   "    veth1: {addresses: 192.168.2.1/24}\n";
	struct vnet_model *want = parse(text), *have = vnet_model_new();
	struct vnet_plan *p = NULL;
	char line[256];

	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	assert_int_equal(count(p, VNET_OP_LINK_ADD), 1);
	assert_int_equal(count(p, VNET_OP_LINK_SET), 2); /* both ends; lo is made up and tagged */
	for (size_t i = 0; i < p->ops.n; i++)
		if (p->ops.v[i].kind == VNET_OP_LINK_ADD) {
			vnet_op_describe(&p->ops.v[i], line, sizeof(line));
			assert_string_equal(line,
					    "create veth veth0 in v-host <-> veth1 in v-host");
		}
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

/* Index of the first op of @kind, or ops.n. */
static size_t first_of(const struct vnet_plan *p, enum vnet_op_kind kind)
{
	size_t i = 0;

	while (i < p->ops.n && p->ops.v[i].kind != kind)
		i++;
	return i;
}

/*
 * A veth end moved from a node that goes to the host: the old pair is removed once,
 * before the new one is made (c1/eth0 keeps its name), with both its addresses, so
 * that an undo can make them again; the namespace of the removed node goes last.
 */
static void test_veth_end_moved(void **state)
{
	static const char a[] = "name: mv\n"
				"nodes: {c1: {}, c2: {}}\n"
				"veths:\n"
				"  - c2/x: {addresses: 10.9.0.2/24}\n"
				"    c1/eth0: {addresses: 10.9.0.1/24}\n";
	static const char b[] = "name: mv\n"
				"nodes: {c1: {}}\n"
				"veths:\n"
				"  - x: {addresses: 10.9.0.2/24}\n"
				"    c1/eth0: {addresses: 10.9.0.1/24}\n";
	struct vnet_model *old = parse(a), *want = parse(b), *have = built(old);
	struct vnet_plan *p = NULL;
	char line[256];

	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	assert_int_equal(count(p, VNET_OP_LINK_DEL), 1);
	assert_int_equal(count(p, VNET_OP_LINK_ADD), 1);
	assert_int_equal(count(p, VNET_OP_ADDR_DEL), 2);
	assert_int_equal(count(p, VNET_OP_ADDR_ADD), 2);
	assert_true(first_of(p, VNET_OP_LINK_DEL) < first_of(p, VNET_OP_LINK_ADD));
	vnet_op_describe(&p->ops.v[first_of(p, VNET_OP_LINK_ADD)], line, sizeof(line));
	assert_string_equal(line, "create veth x in mv-host <-> eth0 in mv-c1");
	assert_int_equal(p->ops.v[p->ops.n - 1].kind, VNET_OP_NS_DEL);
	assert_string_equal(p->ops.v[p->ops.n - 1].ns.name, "mv-c2");
	assert_int_equal(count(p, VNET_OP_NS_DEL), 1);
	vnet_plan_free(p);
	vnet_model_free(old);
	vnet_model_free(want);
	vnet_model_free(have);
}

/*
 * A bridge removed while its ports stay: the ports are taken off it by steps of their own
 * before it goes, so that an undo can put them back on it once it is made again.
 */
static void test_bridge_removed_ports_freed(void **state)
{
	static const char b[] = "name: dk\n"
				"nodes:\n"
				"  c1: {}\n"
				"  c2: {}\n"
				"veths:\n"
				"  - veth-c1: {}\n"
				"    c1/eth0: {addresses: 192.168.9.2/24}\n"
				"  - veth-c2: {}\n"
				"    c2/eth0: {addresses: 192.168.9.3/24}\n";
	struct vnet_model *old = parse(docker), *want = parse(b), *have = built(old);
	struct vnet_plan *p = NULL;
	size_t del = 0, freed = 0;

	assert_int_equal(vnet_plan_up(want, have, &p, NULL), 0);
	for (size_t i = 0; i < p->ops.n; i++) {
		const struct vnet_op *op = &p->ops.v[i];

		if (op->kind == VNET_OP_LINK_DEL && !strcmp(op->link.name, "br0"))
			del = i;
		if (op->kind == VNET_OP_LINK_SET && (op->set & VNET_SET_MASTER) &&
		    !op->link.master[0]) {
			assert_string_equal(op->old.master, "br0");
			assert_true(!del); /* before the bridge goes */
			freed++;
		}
	}
	assert_int_equal(freed, 2);
	assert_true(del > 0);
	vnet_plan_free(p);
	vnet_model_free(old);
	vnet_model_free(want);
	vnet_model_free(have);
}

/* The NAT table: made with its elements on a fresh host; nothing when the kernel has them
 * all; one element added when one is missing; a stranger's table of that name refused. */
static const char nat_topo[] = "name: nt\n"
			       "networks:\n"
			       "  br0: {subnet: 10.7.0.0/24}\n"
			       "containers:\n"
			       "  c1: {networks: {br0: 10.7.0.2}, publish: [\"8080:80\"]}\n";

static struct vnet_nat_change *nat_step(const struct vnet_plan *p)
{
	for (size_t i = 0; i < p->ops.n; i++)
		if (p->ops.v[i].kind == VNET_OP_NAT)
			return p->ops.v[i].nat;
	return NULL;
}

/* @have's table as vnet made it, with the elements @want asks for but those naming @drop. */
static void nat_seen(struct vnet_model *have, const struct vnet_model *want, const char *drop)
{
	static const char *const elems[] = { "allowed \"br0\" . \"br0\"", "bridges \"br0\"",
					     "masq 10.7.0.0/24", "nets 10.7.0.0/24",
					     "tcp_any 8080 : 10.7.0.2 . 80" };
	struct vnet_nat_seen *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->elems = calloc(5, sizeof(*s->elems));
	for (size_t i = 0; i < 5; i++)
		if (!drop || !strstr(elems[i], drop))
			s->elems[s->n++] = strdup(elems[i]);
	s->tagged = true;
	have->nat = want->nat;
	have->nat.exists = have->nat.owned = have->nat.forward = true;
	have->nat.seen = s;
}

static void test_nat(void **state)
{
	struct vnet_model *want = parse(nat_topo), *have = built(want);
	struct vnet_plan *p = NULL;
	struct vnet_nat_change *c;
	struct vnet_error e;

	(void)state;
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	c = nat_step(p);
	assert_non_null(c);
	assert_true(c->create);
	assert_int_equal(c->forward, 1);
	assert_non_null(strstr(c->script, "create table ip vnet-nt { comment \"vnet:nt\"; }"));
	assert_non_null(
		strstr(c->script, "add element ip vnet-nt tcp_any { 8080 : 10.7.0.2 . 80 }"));
	assert_string_equal(c->undo, "delete table ip vnet-nt\n");
	vnet_plan_free(p);

	nat_seen(have, want, NULL);
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	assert_int_equal(p->ops.n, 0);
	vnet_plan_free(p);
	vnet_nat_seen_free(have->nat.seen);

	nat_seen(have, want, "tcp_any");
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	c = nat_step(p);
	assert_non_null(c);
	assert_false(c->create);
	assert_string_equal(c->script, "add element ip vnet-nt tcp_any { 8080 : 10.7.0.2 . 80 }\n");
	assert_string_equal(c->undo,
			    "delete element ip vnet-nt tcp_any { 8080 : 10.7.0.2 . 80 }\n");
	vnet_plan_free(p);

	have->nat.owned = have->nat.seen->tagged = false;
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "does not carry vnet's tag"));
	vnet_model_free(want);
	vnet_model_free(have);
}

static const char uplink_topo[] = "name: ul\n"
				  "bridges:\n"
				  "  br-wan: {uplink: {nic: eth0, probe: [10.0.0.9], timeout: 2}}\n"
				  "taps:\n"
				  "  tap0: {master: br-wan}\n";

/* The NIC as observe() would find it: not taken yet, with a saved state of one message. */
static struct vnet_uplink *seen_nic(struct vnet_model *have, const struct vnet_model *want)
{
	static const uint8_t msg[NLMSG_LENGTH(sizeof(struct ifaddrmsg))] = { 0 };
	struct vnet_uplink *u = vnet_model_add_uplink(have);
	struct nlmsghdr *nlh;

	*u = want->uplinks.v[0];
	u->exists = true;
	u->saved = calloc(1, sizeof(*u->saved));
	u->saved->mtu = 1400;
	u->saved->mac[0] = 0x02;
	u->saved->len = sizeof(msg);
	u->saved->msgs = malloc(sizeof(msg));
	memcpy(u->saved->msgs, msg, sizeof(msg));
	nlh = u->saved->msgs;
	nlh->nlmsg_len = sizeof(msg);
	nlh->nlmsg_type = RTM_NEWADDR;
	return u;
}

static const struct vnet_op *uplink_step(const struct vnet_plan *p)
{
	for (size_t i = 0; i < p->ops.n; i++)
		if (p->ops.v[i].kind == VNET_OP_UPLINK)
			return &p->ops.v[i];
	return NULL;
}

static void test_uplink(void **state)
{
	struct vnet_model *want = parse(uplink_topo), *have = vnet_model_new();
	struct vnet_uplink *u = seen_nic(have, want);
	const struct vnet_op *op;
	struct vnet_plan *p = NULL;
	struct vnet_error e;
	size_t at;

	(void)state;
	/* taken after the bridge and its port are up, with the file's probe */
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	op = uplink_step(p);
	assert_non_null(op);
	at = (size_t)(op - p->ops.v);
	assert_int_equal(op->set, 0);
	assert_string_equal(op->uplink->u.nic, "eth0");
	assert_int_equal(op->uplink->u.probe_ms, 2000);
	assert_int_equal(op->uplink->u.n_probe, 1);
	assert_int_equal(op->uplink->saved.mtu, 1400);
	for (size_t i = 0; i < p->ops.n; i++)
		assert_true(p->ops.v[i].kind != VNET_OP_LINK_ADD || i < at);
	vnet_plan_free(p);
	/* taken whole: nothing to do */
	u->taken = true;
	snprintf(u->master, sizeof(u->master), "br-wan");
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	assert_null(uplink_step(p));
	vnet_plan_free(p);
	/* a port of someone else's bridge, a manager, no NIC: refused, at the file's line */
	u->taken = false;
	snprintf(u->master, sizeof(u->master), "br-other");
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "is a port of br-other"));
	assert_int_equal(e.line, 3);
	u->master[0] = '\0';
	snprintf(u->manager, sizeof(u->manager), "NetworkManager");
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "managed by NetworkManager"));
	want->uplinks.v[0].force = true;
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	vnet_plan_free(p);
	u->exists = false;
	assert_int_equal(vnet_plan_up(want, have, &p, &e), -ENODEV);
	assert_non_null(strstr(e.msg, "no such interface"));
	/* taken whole into the bridge the file used to name: given back, taken into the new */
	u->exists = u->owned = u->taken = true;
	snprintf(u->bridge, sizeof(u->bridge), "br-old");
	snprintf(u->master, sizeof(u->master), "br-old");
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	assert_int_equal(count(p, VNET_OP_UPLINK), 2);
	assert_int_equal(p->ops.v[0].kind, VNET_OP_UPLINK);
	assert_int_equal(p->ops.v[0].set, VNET_UPLINK_GIVE);
	assert_string_equal(p->ops.v[0].uplink->u.bridge, "br-old");
	assert_string_equal(uplink_step(p)->uplink->u.bridge, "br-old");
	assert_string_equal(p->ops.v[p->ops.n - 1].uplink->u.bridge, "br-wan");
	vnet_plan_free(p);
	u->taken = false;
	u->master[0] = '\0';
	snprintf(u->bridge, sizeof(u->bridge), "br-wan");
	/* owned and no longer in the file, and at down: given back first */
	u->exists = u->owned = true;
	want->uplinks.n = 0;
	assert_int_equal(vnet_plan_up(want, have, &p, &e), 0);
	op = uplink_step(p);
	assert_non_null(op);
	assert_int_equal(op->set, VNET_UPLINK_GIVE);
	vnet_plan_free(p);
	assert_int_equal(vnet_plan_down(have, &p), 0);
	assert_true(p->ops.n >= 1);
	assert_int_equal(p->ops.v[0].kind, VNET_OP_UPLINK);
	assert_int_equal(p->ops.v[0].set, VNET_UPLINK_GIVE);
	vnet_plan_free(p);
	vnet_model_free(want);
	vnet_model_free(have);
}

/* The NIC as it was survives the store's bytes, and a store's junk is refused. */
static void test_uplink_saved(void **state)
{
	struct vnet_model *want = parse(uplink_topo), *have = vnet_model_new();
	struct vnet_uplink *u = seen_nic(have, want);
	struct vnet_uplink_saved *back = NULL;
	uint8_t *blob = NULL;
	size_t len = 0;

	(void)state;
	u->saved->ifindex = 7;
	assert_int_equal(vnet_uplink_saved_encode(u->saved, (void **)&blob, &len), 0);
	assert_int_equal(vnet_uplink_saved_decode(blob, len, &back), 0);
	assert_int_equal(back->ifindex, 7);
	assert_int_equal(back->mtu, 1400);
	assert_int_equal(back->len, u->saved->len);
	assert_memory_equal(back->msgs, u->saved->msgs, back->len);
	vnet_uplink_saved_free(back);
	back = NULL;
	assert_int_equal(vnet_uplink_saved_decode(blob, len - 1, &back), -EBADMSG);
	blob[0] ^= 1;
	assert_int_equal(vnet_uplink_saved_decode(blob, len, &back), -EBADMSG);
	assert_null(back);
	free(blob);
	vnet_model_free(want);
	vnet_model_free(have);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_build),
		cmocka_unit_test(test_unchanged_plans_nothing),
		cmocka_unit_test(test_address_changed),
		cmocka_unit_test(test_stp_toggled),
		cmocka_unit_test(test_node_removed),
		cmocka_unit_test(test_foreign_link_conflict),
		cmocka_unit_test(test_other_topology_conflict),
		cmocka_unit_test(test_lost_store_conflict),
		cmocka_unit_test(test_foreign_namespace_conflict),
		cmocka_unit_test(test_down_spares_foreign),
		cmocka_unit_test(test_down_host_links),
		cmocka_unit_test(test_same_ns_veth_once),
		cmocka_unit_test(test_veth_end_moved),
		cmocka_unit_test(test_bridge_removed_ports_freed),
		cmocka_unit_test(test_nat),
		cmocka_unit_test(test_uplink),
		cmocka_unit_test(test_uplink_saved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
