// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-check.c - checks in files, and which probes vnet check plans (no kernel) */
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
#include "vnet/check.h"
#include "vnet/vnet.h"

/* The file's model, named "t". */
static struct vnet_model *parse(const char *yaml, bool sandbox)
{
	return unit_parse(yaml, "t", sandbox);
}

/* The probes of @m, one "from>to ADDR kind expect" string each, joined by ", ". */
static void plan_text(const struct vnet_model *m, char *buf, size_t len)
{
	struct vnet_probes p = { 0 };
	size_t off = 0;

	assert_int_equal(vnet_check_plan(m, &p), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < p.n; i++) {
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(p.v[i].family, p.v[i].addr, ip, sizeof(ip));
		off += (size_t)snprintf(buf + off, len - off, "%s%s>%s %s", i ? ", " : "",
					p.v[i].from, p.v[i].to, ip);
		if (p.v[i].tcp_port)
			off += (size_t)snprintf(buf + off, len - off, " tcp%u", p.v[i].tcp_port);
		if (!p.v[i].expect)
			off += (size_t)snprintf(buf + off, len - off, " !");
	}
	vnet_probes_clear(&p);
}

static void test_parse_checks(void **state)
{
	struct vnet_model *m = parse(UNIT_DOCKER "checks:\n"
						 "  - {from: c1, to: c2}\n"
						 "  - {from: host, to: 192.168.9.3, reach: no}\n"
						 "  - {from: c2, to: 'fd00::1', tcp: 443}\n"
						 "allow_loops: yes\n",
				     true);

	assert_int_equal(m->checks.n, 3);
	assert_true(m->allow_loops);
	assert_string_equal(m->checks.v[0].from, "c1");
	assert_string_equal(m->checks.v[0].to, "c2");
	assert_false(m->checks.v[0].has_addr);
	assert_true(m->checks.v[0].reach);
	assert_int_equal(m->checks.v[0].tcp_port, 0);
	assert_int_equal(m->checks.v[0].pos.line, 12);
	assert_true(m->checks.v[1].has_addr);
	assert_int_equal(m->checks.v[1].family, AF_INET);
	assert_false(m->checks.v[1].reach);
	assert_int_equal(m->checks.v[2].family, AF_INET6);
	assert_int_equal(m->checks.v[2].tcp_port, 443);
	vnet_model_free(m);
	m = parse(UNIT_DOCKER, false);
	assert_false(m->allow_loops);
	assert_int_equal(m->checks.n, 0);
	vnet_model_free(m);
}

static void test_bad_checks(void **state)
{
	unit_bad(UNIT_DOCKER "checks:\n  - {from: c1, to: c3}\n",
		 "t.yaml:12:20: check c1 -> c3: node \"c3\" is not declared under nodes "
		 "(did you mean \"c1\"?)");
	unit_bad(UNIT_DOCKER "checks:\n  - {from: cx, to: c2}\n",
		 "t.yaml:12:12: check cx -> c2: node \"cx\" is not declared under nodes "
		 "(did you mean \"c1\"?)");
	unit_bad(UNIT_DOCKER "checks:\n  - {from: c1, to: c2, tcp: 0}\n",
		 "t.yaml:12:29: check c1 -> c2: tcp 0 is out of range 1..65535");
	unit_bad(UNIT_DOCKER "checks:\n  - {from: c1, to: c2, tcp: http}\n",
		 "t.yaml:12:29: check c1 -> c2: tcp \"http\" is not an integer");
	unit_bad(UNIT_DOCKER "checks:\n  - {from: c1, to: 192.168.9.300}\n",
		 "t.yaml:12:20: check c1 -> 192.168.9.300: \"192.168.9.300\" is not an IP address "
		 "(a check takes one without a prefix length)");
	unit_bad(
		UNIT_DOCKER "checks:\n  - {from: c1, to: 192.168.9.3/24}\n",
		"t.yaml:12:20: check c1 -> 192.168.9.3/24: \"192.168.9.3/24\" is not an IP address "
		"(a check takes one without a prefix length)");
	unit_bad(UNIT_DOCKER "checks:\n  - {from: c1, to: c2, rech: false}\n",
		 "t.yaml:12:24: check c1 -> c2: unknown key \"rech\" (did you mean \"reach\"?)");
	unit_bad(UNIT_DOCKER "checks:\n  - {from: c1}\n",
		 "t.yaml:12:5: check c1 -> ?: a check needs \"to\"");
	unit_bad(
		UNIT_DOCKER "checks:\n  - {from: c1, to: c2, reach: maybe}\n",
		"t.yaml:12:31: check c1 -> c2: \"maybe\" is not a boolean (true/false, yes/no, on/off)");
	unit_bad(UNIT_DOCKER "checks: {from: c1}\n",
		 "t.yaml:11:9: expected a list for \"checks\", got a map");
	unit_bad(UNIT_DOCKER "checks:\n  - c1\n",
		 "t.yaml:12:5: expected a map (from, to, reach, tcp) for \"checks\", got \"c1\"");
	unit_bad("nodes: {c1: , c2: }\nchecks:\n  - {from: c1, to: c2}\n",
		 "t.yaml:3:20: check c1 -> c2: node c2 has no address to probe");
	unit_bad(UNIT_DOCKER "allow_loops: sometimes\n",
		 "t.yaml:11:14: \"sometimes\" is not a boolean (true/false, yes/no, on/off)");
}

/* No checks: every ordered pair of nodes with addresses in one subnet, host included. */
static void test_default_matrix(void **state)
{
	struct vnet_model *m = parse(UNIT_DOCKER, true);
	char buf[2048];

	plan_text(m, buf, sizeof(buf));
	assert_string_equal(buf, "host>c1 192.168.9.2, host>c2 192.168.9.3, c1>host 192.168.9.1, "
				 "c1>c2 192.168.9.3, c2>host 192.168.9.1, c2>c1 192.168.9.2");
	assert_string_equal(m->ns.v[1].name, "t-c1");
	vnet_model_free(m);
}

/* Two separate subnets: pairs only within each; a host without addresses probes nothing. */
static void test_two_subnets(void **state)
{
	struct vnet_model *m = parse("nodes: {a1: , a2: , b1: , b2: , lone: }\n"
				     "veths:\n"
				     "  - a1/e: {addresses: 10.1.0.1/24}\n"
				     "    a2/e: {addresses: 10.1.0.2/24}\n"
				     "  - b1/e: {addresses: [10.2.0.1/24, 'fd00::1/64']}\n"
				     "    b2/e: {addresses: [10.2.0.2/24, 'fd00::2/64']}\n"
				     "  - lone/e: {addresses: 10.3.0.1/24}\n"
				     "    lone/f: {addresses: 10.1.0.9/32}\n",
				     false);
	char buf[2048];

	plan_text(m, buf, sizeof(buf));
	/* one probe per pair (the first shared subnet); lone's /32 shares no subnet with a1
	 * from lone's side, but a1's /24 holds it */
	assert_string_equal(buf, "a1>a2 10.1.0.2, a1>lone 10.1.0.9, a2>a1 10.1.0.1, "
				 "a2>lone 10.1.0.9, b1>b2 10.2.0.2, b2>b1 10.2.0.1");
	vnet_model_free(m);
}

/* Declared checks: an address, every shared address of a node, tcp and "reach: false". */
static void test_plan_checks(void **state)
{
	struct vnet_model *m =
		parse("nodes: {a: , b: , r: }\n"
		      "veths:\n"
		      "  - a/e: {addresses: [10.1.0.1/24, 'fd00::1/64']}\n"
		      "    b/e: {addresses: [10.1.0.2/24, 'fd00::2/64', 10.9.0.2/24]}\n"
		      "  - b/r: {addresses: 10.5.0.1/24}\n"
		      "    r/e: {addresses: 10.5.0.2/24}\n"
		      "checks:\n"
		      "  - {from: a, to: b}\n"
		      "  - {from: a, to: 10.5.0.2, tcp: 22}\n"
		      "  - {from: a, to: r, reach: false}\n"
		      "  - {from: b, to: 192.0.2.1}\n",
		      true);
	char buf[2048];

	plan_text(m, buf, sizeof(buf));
	assert_string_equal(buf, "a>b 10.1.0.2, a>b fd00::2, a>r 10.5.0.2 tcp22, "
				 "a>r 10.5.0.2 !, b> 192.0.2.1");
	vnet_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_checks),   cmocka_unit_test(test_bad_checks),
		cmocka_unit_test(test_default_matrix), cmocka_unit_test(test_two_subnets),
		cmocka_unit_test(test_plan_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
