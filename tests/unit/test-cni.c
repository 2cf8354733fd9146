// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-cni.c - vnet-cni's protocol: the call, versions, errors, results by version */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cni/proto.h"

/* A call with @cmd and the container variables set, reading @conf. */
static int call(const char *cmd, const char *conf, struct cni_call *c, struct cni_error *e)
{
	FILE *in = fmemopen((void *)conf, strlen(conf), "r");
	int r;

	setenv("CNI_COMMAND", cmd, 1);
	setenv("CNI_CONTAINERID", "c0ffee", 1);
	setenv("CNI_NETNS", "/run/netns/x", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_PATH", "/usr/lib/cni", 1);
	memset(e, 0, sizeof(*e));
	r = cni_read_call(c, in, e);
	fclose(in);
	return r;
}

static void test_versions(void **state)
{
	struct cni_call c;
	struct cni_error e;

	(void)state;
	assert_true(cni_version_cmp("0.4.0", "1.0.0") < 0);
	assert_true(cni_version_cmp("1.1.0", "1.0.0") > 0);
	assert_int_equal(cni_version_cmp("0.3.1", "0.3.1"), 0);
	assert_int_equal(call("ADD", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", &c, &e), 0);
	assert_string_equal(c.version, "1.0.0");
	cni_call_clear(&c);
	/* CHECK came in 0.4.0, STATUS and GC in 1.1.0; no version means 0.1.0 */
	assert_int_equal(call("CHECK", "{\"cniVersion\":\"0.3.1\"}", &c, &e), -1);
	assert_int_equal(e.code, CNI_ERR_VERSION);
	cni_call_clear(&c);
	assert_int_equal(call("GC", "{\"cniVersion\":\"1.0.0\"}", &c, &e), -1);
	assert_int_equal(e.code, CNI_ERR_VERSION);
	cni_call_clear(&c);
	assert_int_equal(call("ADD", "{\"name\":\"n\"}", &c, &e), -1);
	assert_int_equal(e.code, CNI_ERR_VERSION);
	cni_call_clear(&c);
	assert_int_equal(call("VERSION", "", &c, &e), 0);
	cni_call_clear(&c);
}

static void test_env_and_decode(void **state)
{
	struct cni_call c;
	struct cni_error e;

	(void)state;
	assert_int_equal(call("ADD", "{\"cniVersion\":", &c, &e), -1);
	assert_int_equal(e.code, CNI_ERR_DECODE);
	cni_call_clear(&c);
	assert_int_equal(call("JUMP", "{}", &c, &e), -1);
	assert_int_equal(e.code, CNI_ERR_ENV);
	unsetenv("CNI_COMMAND");
	setenv("CNI_COMMAND", "ADD", 1);
	setenv("CNI_IFNAME", "eth0:1", 1);
	{
		FILE *in = fmemopen("{\"cniVersion\":\"1.0.0\"}", 22, "r");

		assert_int_equal(cni_read_call(&c, in, &e), -1);
		fclose(in);
	}
	assert_int_equal(e.code, CNI_ERR_ENV);
	assert_non_null(strstr(e.msg, "CNI_IFNAME"));
	cni_call_clear(&c);
	/* DEL needs no namespace (it may be gone) */
	setenv("CNI_IFNAME", "eth0", 1);
	unsetenv("CNI_NETNS");
	setenv("CNI_COMMAND", "DEL", 1);
	{
		FILE *in = fmemopen("{\"cniVersion\":\"1.0.0\"}", 22, "r");

		assert_int_equal(cni_read_call(&c, in, &e), 0);
		fclose(in);
	}
	cni_call_clear(&c);
}

static char *printed(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(o);
	return s;
}

static void test_results(void **state)
{
	struct cni_result r = { .n_ifaces = 1, .n_ips = 1, .n_routes = 1 };
	char *s;

	(void)state;
	snprintf(r.ifaces[0].name, 16, "eth0");
	snprintf(r.ifaces[0].mac, 18, "02:00:00:00:00:05");
	snprintf(r.ifaces[0].sandbox, 256, "/run/netns/x");
	r.ifaces[0].mtu = 1500;
	r.ips[0] = (struct cni_ip){ AF_INET, "10.88.0.5/16", "10.88.0.1", 0 };
	snprintf(r.routes[0].dst, 64, "0.0.0.0/0");
	s = printed(cni_result_json(&r, "0.4.0"));
	assert_string_equal(
		s, "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"mac\":\"02:00:00:00:00:05\","
		   "\"name\":\"eth0\",\"sandbox\":\"/run/netns/x\"}],\"ips\":[{\"address\":"
		   "\"10.88.0.5/16\",\"gateway\":\"10.88.0.1\",\"interface\":0,\"version\":"
		   "\"4\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}");
	free(s);
	s = printed(cni_result_json(&r, "1.0.0"));
	assert_null(strstr(s, "\"version\""));
	assert_null(strstr(s, "\"mtu\""));
	free(s);
	s = printed(cni_result_json(&r, "1.1.0"));
	assert_non_null(strstr(s, "\"mtu\":1500"));
	free(s);
}

static void test_errors_and_keys(void **state)
{
	static const char *const known[] = { "bridge", "isGateway", "ipam", NULL };
	json_t *conf = json_loads("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"vnet-cni\","
				  "\"bridge\":\"cni0\",\"cni.dev/valid-attachments\":[],"
				  "\"vlan\":100}",
				  0, NULL);
	struct cni_error e = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_int_equal(cni_check_keys(conf, known, "", &e), -1);
	assert_int_equal(e.code, CNI_ERR_FIELD);
	assert_string_equal(e.msg, "unsupported field \"vlan\" (100)");
	cni_print_error(f, "0.4.0", &e);
	cni_print_version(f, "0.4.0");
	fclose(f);
	assert_non_null(strstr(out, "{\"cniVersion\":\"0.4.0\",\"code\":2,\"msg\":"
				    "\"unsupported field \\\"vlan\\\" (100)\""));
	assert_non_null(strstr(out, "\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\","
				    "\"1.0.0\",\"1.1.0\"]"));
	free(out);
	json_object_del(conf, "vlan");
	assert_int_equal(cni_check_keys(conf, known, "", &e), 0);
	json_decref(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_env_and_decode),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_errors_and_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
