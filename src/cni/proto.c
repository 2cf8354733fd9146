// SPDX-License-Identifier: LGPL-2.1-or-later
/* proto.c - the CNI protocol: the call, versions, error objects and results by version */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"

/* The versions vnet-cni speaks, oldest first. 0.1.0 and 0.2.0 had another result (ip4,
 * ip6) that no runtime of today sends. */
static const char *const versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
#define N_VERSIONS (sizeof(versions) / sizeof(versions[0]))
#define CNI_NEWEST "1.1.0"
#define CONF_MAX (1 << 20) /* a configuration bigger than this is not one */

int cni_fail(struct cni_error *e, unsigned code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap); /* NOLINT: va_list (clang-analyzer) */
	va_end(ap);
	return -1;
}

/* "1.0.0" into three numbers; Return: whether it is one. */
static bool parse_version(const char *v, unsigned n[3])
{
	for (int i = 0; v && i < 3; i++) {
		char *end;

		if (!isdigit((unsigned char)*v))
			return false;
		n[i] = (unsigned)strtoul(v, &end, 10);
		if (*end != (i < 2 ? '.' : '\0'))
			return false;
		v = end + 1;
	}
	return v != NULL;
}

int cni_version_cmp(const char *a, const char *b)
{
	unsigned x[3] = { 0 }, y[3] = { 0 };

	parse_version(a, x);
	parse_version(b, y);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; i < N_VERSIONS; i++)
		if (!strcmp(v, versions[i]))
			return true;
	return false;
}

static const struct {
	const char *name;
	enum cni_cmd cmd;
	const char *since; /* the first version that has it */
} verbs[] = {
	{ "ADD", CNI_ADD, "0.3.0" },	 { "DEL", CNI_DEL, "0.3.0" },
	{ "CHECK", CNI_CHECK, "0.4.0" }, { "STATUS", CNI_STATUS, "1.1.0" },
	{ "GC", CNI_GC, "1.1.0" },	 { "VERSION", CNI_VERSION, "0.3.0" },
};
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

/* CNI_CONTAINERID: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ */
static bool container_ok(const char *s)
{
	if (!isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* CNI_IFNAME: an interface name the kernel takes: 1 to 15 bytes, not . or .., no / : or space */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "";
}

/* The variables the verb needs are there, and well formed. */
static int check_env(const struct cni_call *c, struct cni_error *e)
{
	char missing[128] = "";
	bool container = c->cmd == CNI_ADD || c->cmd == CNI_DEL || c->cmd == CNI_CHECK;
	size_t n = 0;

	if (container && !c->container[0])
		n += (size_t)snprintf(missing + n, sizeof(missing) - n, ",CNI_CONTAINERID");
	if ((c->cmd == CNI_ADD || c->cmd == CNI_CHECK) && !c->netns[0])
		n += (size_t)snprintf(missing + n, sizeof(missing) - n, ",CNI_NETNS");
	if (container && !c->ifname[0])
		snprintf(missing + n, sizeof(missing) - n, ",CNI_IFNAME");
	if (missing[0])
		return cni_fail(e, CNI_ERR_ENV, "required environment variables missing: %s",
				missing + 1);
	if (container && !container_ok(c->container))
		return cni_fail(e, CNI_ERR_ENV,
				"CNI_CONTAINERID \"%.64s\" is not [a-zA-Z0-9][a-zA-Z0-9_.-]*",
				c->container);
	if (container && !ifname_ok(c->ifname))
		return cni_fail(e, CNI_ERR_ENV,
				"CNI_IFNAME \"%.64s\" is not an interface name (1 to 15 bytes, "
				"no / : or space)",
				c->ifname);
	return 0;
}

/* All of @in, up to CONF_MAX; Return: the bytes (NUL-ended) or NULL, said in @e. */
static char *read_all(FILE *in, size_t *ret_len, struct cni_error *e)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);

	while (buf) {
		size_t got = fread(buf + len, 1, cap - len, in);

		len += got;
		if (got == 0)
			break;
		if (len == cap) {
			char *b = cap >= CONF_MAX ? NULL : realloc(buf, cap * 2 + 1);

			if (!b) {
				free(buf);
				cni_fail(e, CNI_ERR_DECODE, "the configuration is over %d bytes",
					 CONF_MAX);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	if (!buf) {
		cni_fail(e, CNI_ERR_IO, "out of memory");
		return NULL;
	}
	if (ferror(in)) {
		free(buf);
		cni_fail(e, CNI_ERR_IO, "reading the configuration from stdin failed");
		return NULL;
	}
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/* The configuration and its version; VERSION may come with none. */
static int read_conf(struct cni_call *c, FILE *in, struct cni_error *e)
{
	json_error_t je;
	json_t *v;
	size_t len = 0;
	char *text = read_all(in, &len, e);

	if (!text)
		return -1;
	snprintf(c->version, sizeof(c->version), "0.1.0"); /* what no cniVersion means */
	if (c->cmd == CNI_VERSION && !len) {
		free(text);
		return 0;
	}
	c->conf = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!c->conf || !json_is_object(c->conf))
		return cni_fail(e, CNI_ERR_DECODE, "the configuration is not a JSON object: %s",
				c->conf ? "another JSON value" : je.text);
	v = json_object_get(c->conf, "cniVersion");
	if (v && !json_is_string(v))
		return cni_fail(e, CNI_ERR_DECODE, "cniVersion is not a string");
	if (v)
		snprintf(c->version, sizeof(c->version), "%s", json_string_value(v));
	return 0;
}

/* Does the configuration's version speak the verb? */
static int check_version(const struct cni_call *c, struct cni_error *e)
{
	if (c->cmd == CNI_VERSION)
		return 0;
	if (!cni_version_supported(c->version)) {
		cni_fail(e, CNI_ERR_VERSION, "incompatible CNI version %s", c->version);
		snprintf(e->details, sizeof(e->details),
			 "vnet-cni speaks 0.3.0, 0.3.1, 0.4.0, 1.0.0 and 1.1.0");
		return -1;
	}
	for (size_t i = 0; i < N_VERBS; i++)
		if (verbs[i].cmd == c->cmd && cni_version_cmp(c->version, verbs[i].since) < 0)
			return cni_fail(e, CNI_ERR_VERSION,
					"CNI version %s has no %s (it came in %s)", c->version,
					verbs[i].name, verbs[i].since);
	return 0;
}

int cni_read_call(struct cni_call *c, FILE *in, struct cni_error *e)
{
	const char *cmd = env("CNI_COMMAND");
	size_t i;

	memset(c, 0, sizeof(*c));
	snprintf(c->version, sizeof(c->version), "0.1.0");
	for (i = 0; i < N_VERBS && strcmp(cmd, verbs[i].name); i++)
		;
	if (i == N_VERBS)
		return cni_fail(e, CNI_ERR_ENV, "unknown CNI_COMMAND \"%.32s\"", cmd);
	c->cmd = verbs[i].cmd;
	c->container = env("CNI_CONTAINERID");
	c->netns = env("CNI_NETNS");
	c->ifname = env("CNI_IFNAME");
	c->args = env("CNI_ARGS");
	c->path = env("CNI_PATH");
	if (read_conf(c, in, e) < 0 || check_version(c, e) < 0)
		return -1;
	return c->cmd == CNI_VERSION ? 0 : check_env(c, e);
}

void cni_call_clear(struct cni_call *c)
{
	json_decref(c->conf);
	c->conf = NULL;
}

static void print_json(FILE *out, json_t *o)
{
	if (o)
		json_dumpf(o, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(o);
}

void cni_print_version(FILE *out, const char *version)
{
	json_t *list = json_array();

	for (size_t i = 0; i < N_VERSIONS; i++)
		json_array_append_new(list, json_string(versions[i]));
	print_json(out, json_pack("{s:s, s:o}", "cniVersion",
				  version && cni_version_supported(version) ? version : CNI_NEWEST,
				  "supportedVersions", list));
}

void cni_print_error(FILE *out, const char *version, const struct cni_error *e)
{
	json_t *o = json_pack("{s:s, s:I, s:s}", "cniVersion",
			      cni_version_supported(version) ? version : CNI_NEWEST, "code",
			      (json_int_t)e->code, "msg", e->msg);

	if (o && e->details[0])
		json_object_set_new(o, "details", json_string(e->details));
	print_json(out, o);
}

static json_t *iface_json(const struct cni_iface *f, bool v11)
{
	json_t *o = json_pack("{s:s, s:s}", "name", f->name, "mac", f->mac);

	if (o && f->sandbox[0])
		json_object_set_new(o, "sandbox", json_string(f->sandbox));
	if (o && v11 && f->mtu)
		json_object_set_new(o, "mtu", json_integer(f->mtu));
	return o;
}

static json_t *ip_json(const struct cni_ip *ip, bool with_version)
{
	json_t *o = json_pack("{s:s}", "address", ip->address);

	if (o && with_version)
		json_object_set_new(o, "version", json_string(ip->family == AF_INET6 ? "6" : "4"));
	if (o && ip->gateway[0])
		json_object_set_new(o, "gateway", json_string(ip->gateway));
	if (o && ip->iface >= 0)
		json_object_set_new(o, "interface", json_integer(ip->iface));
	return o;
}

json_t *cni_result_json(const struct cni_result *r, const char *version)
{
	bool v11 = cni_version_cmp(version, "1.1.0") >= 0;
	bool with_version = cni_version_cmp(version, "1.0.0") < 0; /* 0.3.x, 0.4.0 */
	json_t *o = json_pack("{s:s}", "cniVersion", version), *a;

	if (!o)
		return NULL;
	if (r->n_ifaces) {
		a = json_array();
		for (unsigned i = 0; i < r->n_ifaces; i++)
			json_array_append_new(a, iface_json(&r->ifaces[i], v11));
		json_object_set_new(o, "interfaces", a);
	}
	if (r->n_ips) {
		a = json_array();
		for (unsigned i = 0; i < r->n_ips; i++)
			json_array_append_new(a, ip_json(&r->ips[i], with_version));
		json_object_set_new(o, "ips", a);
	}
	if (r->n_routes) {
		a = json_array();
		for (unsigned i = 0; i < r->n_routes; i++) {
			json_t *rt = json_pack("{s:s}", "dst", r->routes[i].dst);

			if (rt && r->routes[i].gw[0])
				json_object_set_new(rt, "gw", json_string(r->routes[i].gw));
			json_array_append_new(a, rt);
		}
		json_object_set_new(o, "routes", a);
	}
	return o;
}

/* Keys every plugin takes, whatever it is (SPEC.md, "Network configuration"). */
static const char *const reserved[] = { "cniVersion",	 "name",       "type", "capabilities",
					"runtimeConfig", "prevResult", "args", NULL };

static bool listed(const char *key, const char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

int cni_check_keys(json_t *obj, const char *const *known, const char *where, struct cni_error *e)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		char *text;

		if (listed(key, known) || (!where[0] && listed(key, reserved)) ||
		    !strncmp(key, "cni.dev/", 8))
			continue;
		text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		cni_fail(e, CNI_ERR_FIELD, "unsupported field \"%s%s%s\" (%.80s)", where,
			 where[0] ? "." : "", key, text ? text : "?");
		snprintf(e->details, sizeof(e->details),
			 "vnet-cni does not know it; it refuses what it would otherwise ignore");
		free(text);
		return -1;
	}
	return 0;
}
