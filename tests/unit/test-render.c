// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-render.c - the renderers, with no kernel: text, compact, JSON, DOT and SVG of models */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"
#include "vnet/render.h"

static const char docker[] = "name: dk\n" UNIT_DOCKER;

/* A parsed model, made to look observed: every namespace has lo, every link is up. */
static struct vnet_model *model(const char *text)
{
	struct vnet_model *m = unit_parse(text, NULL, true);

	for (size_t i = 0; i < m->links.n; i++) {
		m->links.v[i].up = m->links.v[i].owned = true;
		m->links.v[i].ifindex = (int)i + 2;
	}
	for (size_t i = 0; i < m->ns.n; i++) {
		struct vnet_link *lo = vnet_model_add_link(m);

		snprintf(lo->name, sizeof(lo->name), "lo");
		snprintf(lo->ns, sizeof(lo->ns), "%s", m->ns.v[i].name);
		m->ns.v[i].exists = m->ns.v[i].owned = true;
	}
	for (size_t i = 0; i < m->addrs.n; i++)
		m->addrs.v[i].owned = true;
	return m;
}

/* Run a renderer into memory. */
static char *render(int (*fn)(const struct vnet_model *, FILE *), const struct vnet_model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fn(m, f), 0);
	fclose(f);
	return buf;
}

static int text80(const struct vnet_model *m, FILE *f)
{
	return vnet_render_text(m, 80, f);
}

/* Columns of the widest line; the arrow is one column in three bytes. */
static size_t widest(const char *s)
{
	size_t w = 0, c = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			w = c > w ? c : w;
			c = 0;
		} else if (((unsigned char)*s & 0xc0) != 0x80) {
			c++;
		}
	}
	return c > w ? c : w;
}

static void test_text_docker(void **state)
{
	struct vnet_model *m = model(docker);
	char *s = render(text80, m);
	const char *want[] = { "host (dk-host)",
			       "c1 (dk-c1)",
			       "c2 (dk-c2)",
			       "br0",
			       "veth-c1",
			       "veth-c2",
			       "eth0",
			       "192.168.9.1/24",
			       "192.168.9.2/24",
			       "192.168.9.3/24",
			       "Stack",
			       "<-+->",
			       "==a",
			       "==b",
			       "host/veth-c1 <-> c1/eth0",
			       "legend:",
			       "\u2191" };

	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
		if (!strstr(s, want[i]))
			fail_msg("\"%s\" missing from:\n%s", want[i], s);
	assert_true(widest(s) <= 80);
	assert_null(strstr(s, "| lo")); /* lo is not drawn */
	free(s);
	vnet_model_free(m);
}

static void test_text_marks(void **state)
{
	struct vnet_model *m = model(docker);
	char *s;

	vnet_model_find_link(m, "dk-c2", "eth0")->up = false;
	vnet_model_find_link(m, "dk-host", "veth-c1")->owned = false;
	s = render(text80, m);
	assert_non_null(strstr(s, "eth0 DOWN"));
	assert_non_null(strstr(s, "*veth-c1"));
	free(s);
	vnet_model_free(m);
}

/* A star of @n nodes, as bench/gen-star makes it. */
static struct vnet_model *star(unsigned n)
{
	size_t cap = 128 + (size_t)n * 96, len = 0;
	char *t = malloc(cap);
	struct vnet_model *m;

	assert_non_null(t);
	len += snprintf(t + len, cap - len, "name: st\nnodes:\n");
	for (unsigned k = 1; k <= n; k++)
		len += snprintf(t + len, cap - len, "  n%u:\n", k);
	len += snprintf(t + len, cap - len, "bridges:\n  br0: {addresses: 10.0.0.1/16}\nveths:\n");
	for (unsigned k = 1; k <= n; k++)
		len += snprintf(
			t + len, cap - len,
			"  - v%u: {master: br0}\n    n%u/eth0: {addresses: 10.0.%u.%u/16}\n", k, k,
			(k + 1) / 256, (k + 1) % 256);
	m = model(t);
	free(t);
	return m;
}

static void test_compact_1000(void **state)
{
	struct vnet_model *m = star(1000);
	char *s = render(text80, m), *line;
	size_t ports = 0;

	assert_non_null(strstr(s, "topology st (sandbox): 1001 nodes"));
	assert_null(strstr(s, "Network Protocol Stack")); /* no boxes */
	assert_non_null(strstr(s, "host/br0 port host/v1000 <-> n1000/eth0 10.0.3.233/16\n"));
	for (line = s; (line = strstr(line, "host/br0 port ")); line++)
		ports++;
	assert_int_equal(ports, 1000);
	assert_true(widest(s) <= 80);
	free(s);
	vnet_model_free(m);
}

static void test_json(void **state)
{
	struct vnet_model *m = model(docker);
	char *s = render(vnet_render_json, m);
	json_error_t err;
	json_t *o = json_loads(s, 0, &err), *n, *l;
	size_t i, links = 0;

	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "schema")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "topology")), "dk");
	n = json_object_get(o, "nodes");
	assert_int_equal(json_array_size(n), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(n, 0), "name")),
			    "host");
	json_array_foreach(n, i, l) links += json_array_size(json_object_get(l, "links"));
	assert_int_equal(links, m->links.n); /* lo included */
	assert_int_equal(json_array_size(json_object_get(o, "wires")), 2);
	assert_non_null(strstr(s, "\"address\": \"192.168.9.3/24\""));
	assert_non_null(strstr(s, "\"bridge\": \"br0\"")); /* port objects */
	assert_non_null(strstr(s, "\"via\": \"192.168.9.1\""));
	json_decref(o);
	free(s);
	vnet_model_free(m);
}

/*
 * Interface names are the kernel's bytes: any but NUL, '/', ':' and white space. Quotes,
 * backslashes and control characters are escaped; a byte that is not UTF-8 becomes U+FFFD,
 * so the document stays valid JSON (jansson refuses to load anything else).
 */
static void test_json_names(void **state)
{
	struct vnet_model *m = model(docker);
	struct vnet_link *l = &m->links.v[0];
	json_t *o, *links;
	char *s;

	snprintf(l->name, sizeof(l->name), "a\"b\\c\001\xff\xc3\xa9");
	s = render(vnet_render_json, m);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	links = json_object_get(json_array_get(json_object_get(o, "nodes"), 0), "links");
	assert_string_equal(json_string_value(json_object_get(json_array_get(links, 0), "name")),
			    "a\"b\\c\001\xef\xbf\xbd\xc3\xa9");
	assert_non_null(strstr(s, "\"a\\\"b\\\\c\\u0001\\ufffd\xc3\xa9\""));
	json_decref(o);
	free(s);
	vnet_model_free(m);
}

static void test_dot(void **state)
{
	struct vnet_model *m = model(docker);
	char *s;

	snprintf(m->ns.v[1].node, sizeof(m->ns.v[1].node), "c\"1");
	s = render(vnet_render_dot, m);
	assert_non_null(strstr(s, "graph \"dk\" {"));
	assert_non_null(strstr(s, "label=\"c\\\"1 (dk-c1)\""));
	assert_non_null(strstr(s, "[label=\"veth\"]"));
	assert_non_null(strstr(s, "[style=bold, label=\"port\"]"));
	free(s);
	vnet_model_free(m);
}

static void test_svg(void **state)
{
	struct vnet_model *m = model(docker);
	char *s;

	snprintf(m->name, sizeof(m->name), "a<b&c");
	s = render(vnet_render_svg, m);
	assert_non_null(strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(s, "a&lt;b&amp;c"));
	assert_null(strstr(s, "a<b"));
	assert_non_null(strstr(s, ">veth-c1</text>"));
	assert_non_null(strstr(s, ">192.168.9.2/24</text>"));
	assert_non_null(strstr(s, "class=\"wire\""));
	assert_non_null(strstr(s, "</svg>\n"));
	free(s);
	/* a name the kernel allows but XML does not: a control character, a byte not UTF-8 */
	snprintf(m->links.v[0].name, sizeof(m->links.v[0].name), "x\001y\xffz\xc3\xa9");
	s = render(vnet_render_svg, m);
	assert_non_null(strstr(s, ">x\xef\xbf\xbdy\xef\xbf\xbdz\xc3\xa9</text>"));
	free(s);
	vnet_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_docker),  cmocka_unit_test(test_text_marks),
		cmocka_unit_test(test_compact_1000), cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_names),   cmocka_unit_test(test_dot),
		cmocka_unit_test(test_svg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
