// SPDX-License-Identifier: LGPL-2.1-or-later
/* conf.c - vnet-cni's configuration, and IPAM: vnet's own leases or a delegated plugin */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "network.h"

/* The reference bridge plugin's keys that vnet-cni serves (doc/cni-reference.md §3.1). */
static const char *const known[] = { "bridge",	     "isGateway",   "isDefaultGateway",
				     "forceAddress", "ipMasq",	    "mtu",
				     "hairpinMode",  "promiscMode", "portIsolation",
				     "enabledad",    "macspoofchk", "ipam",
				     "dns",	     "cniVersions", NULL };
static const char *const vnet_ipam_keys[] = { "type", "subnet", "gateway", "routes", NULL };
static const char *const capabilities[] = { "portMappings", "ips", "mac", NULL };

static bool in_list(const char *key, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

/* A boolean key, false when absent; Return: 0 or -1 (code 7: not a boolean). */
static int get_bool(json_t *o, const char *key, bool *ret, struct cni_error *e)
{
	json_t *v = json_object_get(o, key);

	if (v && json_typeof(v) != JSON_TRUE && json_typeof(v) != JSON_FALSE)
		return cni_fail(e, CNI_ERR_CONFIG, "\"%s\" is not true or false", key);
	*ret = json_is_true(v);
	return 0;
}

/* A string key, @def when absent. */
static int get_str(json_t *o, const char *key, const char *def, const char **ret,
		   struct cni_error *e)
{
	json_t *v = json_object_get(o, key);

	if (v && !json_is_string(v))
		return cni_fail(e, CNI_ERR_CONFIG, "\"%s\" is not a string", key);
	*ret = v ? json_string_value(v) : def;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6], const char *where, struct cni_error *e)
{
	const char *p = s;

	for (int i = 0; i < 6; i++) {
		char *end;
		unsigned long b = strtoul(p, &end, 16);

		if (end == p || end - p > 2 || !isxdigit((unsigned char)*p) ||
		    *end != (i < 5 ? ':' : '\0'))
			break;
		mac[i] = (uint8_t)b;
		p = end + 1;
		if (i == 5)
			return mac[0] & 1 ? cni_fail(e, CNI_ERR_CONFIG,
						     "%s \"%.40s\" is a multicast MAC address",
						     where, s) :
					    0;
	}
	return cni_fail(e, CNI_ERR_CONFIG, "%s \"%.40s\" is not a MAC address", where, s);
}

/* An IPv4 address, with an optional /LEN (as runtimeConfig.ips may give it). */
static int parse_ip4(const char *s, uint8_t ret[4], const char *where, struct cni_error *e)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(s, "/"), s);
	if (inet_pton(AF_INET, buf, ret) != 1)
		return cni_fail(e, CNI_ERR_CONFIG, "%s \"%.64s\" is not an IPv4 address%s", where,
				s, strchr(s, ':') ? " (vnet's IPAM is IPv4 only)" : "");
	return 0;
}

/* CNI_ARGS: "K=V;K=V": IP= and MAC= taken, others refused unless IgnoreUnknown=1|true. */
static int parse_args(const struct cni_call *c, struct cni_conf *conf, struct cni_error *e)
{
	char *copy = strdup(c->args), *save = NULL, *unknown = NULL;
	bool ignore = false;
	int r = copy ? 0 : cni_fail(e, CNI_ERR_IO, "out of memory");

	for (char *kv = copy ? strtok_r(copy, ";", &save) : NULL; kv && !r;
	     kv = strtok_r(NULL, ";", &save)) {
		char *v = strchr(kv, '=');

		if (!v || strchr(v + 1, '=')) {
			r = cni_fail(e, CNI_ERR_CONFIG, "CNI_ARGS \"%.64s\" is not KEY=VALUE", kv);
			break;
		}
		*v++ = '\0';
		if (!strcmp(kv, "IgnoreUnknown"))
			ignore = !strcmp(v, "1") || !strcasecmp(v, "true");
		else if (!strcmp(kv, "IP"))
			r = parse_ip4(v, conf->want, "CNI_ARGS IP", e) ?:
									 (conf->has_want = true, 0);
		else if (!strcmp(kv, "MAC"))
			r = parse_mac(v, conf->a.mac, "CNI_ARGS MAC", e) ?:
				    (conf->a.has_mac = true, 0);
		else if (!unknown)
			unknown = kv;
	}
	if (!r && unknown && !ignore)
		r = cni_fail(e, CNI_ERR_FIELD, "unsupported field \"CNI_ARGS %.64s\"", unknown);
	free(copy);
	return r;
}

/* One of runtimeConfig.portMappings. */
static int parse_port(json_t *pm, size_t i, struct vnet_port *p, struct cni_error *e)
{
	json_int_t hp = json_integer_value(json_object_get(pm, "hostPort")),
		   cp = json_integer_value(json_object_get(pm, "containerPort"));
	const char *proto = "tcp", *hip = "";

	if (!json_is_object(pm) || get_str(pm, "protocol", "tcp", &proto, e) < 0 ||
	    get_str(pm, "hostIP", "", &hip, e) < 0)
		return e->code ? -1 :
				 cni_fail(e, CNI_ERR_CONFIG,
					  "runtimeConfig.portMappings[%zu] is not an object", i);
	if (hp < 1 || hp > 65535 || cp < 1 || cp > 65535)
		return cni_fail(e, CNI_ERR_CONFIG,
				"runtimeConfig.portMappings[%zu]: hostPort and containerPort"
				" must be 1 to 65535",
				i);
	if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp"))
		return cni_fail(e, CNI_ERR_FIELD,
				"unsupported field \"runtimeConfig.portMappings[%zu].protocol\""
				" (\"%.16s\"): vnet-cni publishes tcp and udp",
				i, proto);
	p->proto = strcasecmp(proto, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
	p->host_port = (uint16_t)hp;
	p->port = (uint16_t)cp;
	if (hip[0] && strcmp(hip, "0.0.0.0")) {
		if (parse_ip4(hip, p->host_addr, "hostIP", e) < 0)
			return -1;
		p->has_host_addr = true;
	}
	return 0;
}

/* runtimeConfig (the capabilities the configuration declares), and args.cni. */
static int parse_runtime(json_t *conf, struct cni_conf *c, struct cni_error *e)
{
	json_t *caps = json_object_get(conf, "capabilities"),
	       *rc = json_object_get(conf, "runtimeConfig");
	json_t *cargs = json_object_get(json_object_get(conf, "args"), "cni"), *v, *pm;
	const char *key, *mac = NULL;
	size_t i;

	json_object_foreach(caps, key, v) if (json_is_true(v) && !in_list(key, capabilities)) return cni_fail(
		e, CNI_ERR_FIELD,
		"unsupported field \"capabilities.%.64s\" (true): vnet-cni"
		" serves portMappings, ips and mac",
		key);
	pm = json_is_true(json_object_get(caps, "portMappings")) ?
		     json_object_get(rc, "portMappings") :
		     NULL;
	json_array_foreach(pm, i, v)
	{
		if (c->a.n_ports == VNET_ATTACH_PORTS)
			return cni_fail(e, CNI_ERR_CONFIG, "more than %d port mappings",
					VNET_ATTACH_PORTS);
		if (parse_port(v, i, &c->a.ports[c->a.n_ports++], e) < 0)
			return -1;
	}
	/* the runtime's word first, then args, then CNI_ARGS (read before) */
	v = json_array_get(json_object_get(rc, "ips"), 0) ?:
		    json_array_get(json_object_get(cargs, "ips"), 0);
	if (json_is_string(v)) {
		if (parse_ip4(json_string_value(v), c->want, "runtimeConfig.ips", e) < 0)
			return -1;
		c->has_want = true;
	}
	v = json_object_get(rc, "mac") ?: json_object_get(cargs, "mac");
	if (json_is_string(v))
		mac = json_string_value(v);
	if (mac && parse_mac(mac, c->a.mac, "mac", e) < 0)
		return -1;
	c->a.has_mac |= mac != NULL;
	return 0;
}

/* vnet's IPAM: {"type": "vnet", "subnet": "A.B.C.D/LEN", "gateway": ..., "routes": [...]} */
static int parse_vnet_ipam(struct cni_conf *c, struct cni_error *e)
{
	const char *subnet = NULL, *gw = NULL;

	if (cni_check_keys(c->ipam, vnet_ipam_keys, "ipam", e) < 0 ||
	    get_str(c->ipam, "subnet", NULL, &subnet, e) < 0 ||
	    get_str(c->ipam, "gateway", NULL, &gw, e) < 0)
		return -1;
	if (!subnet || vnet_ip4_prefix(subnet, c->subnet, &c->plen) < 0 || c->plen < 8 ||
	    c->plen > 30 || (vnet_ip4(c->subnet) & ~vnet_ip4_mask(c->plen)))
		return cni_fail(e, CNI_ERR_CONFIG,
				"ipam.subnet \"%.64s\" is not an IPv4 subnet of /8 to /30 (its"
				" first address, /LEN)",
				subnet ? subnet : "");
	vnet_ip4_put(vnet_ip4(c->subnet) + 1, c->gw);
	if (gw && parse_ip4(gw, c->gw, "ipam.gateway", e) < 0)
		return -1;
	if ((vnet_ip4(c->gw) & vnet_ip4_mask(c->plen)) != vnet_ip4(c->subnet))
		return cni_fail(e, CNI_ERR_CONFIG, "ipam.gateway %s is outside ipam.subnet %s", gw,
				subnet);
	return 0;
}

static int parse_ipam(json_t *conf, struct cni_conf *c, struct cni_error *e)
{
	c->ipam = json_object_get(conf, "ipam");
	if (c->ipam && !json_is_object(c->ipam))
		return cni_fail(e, CNI_ERR_CONFIG, "\"ipam\" is not an object");
	if (get_str(c->ipam, "type", "", &c->ipam_type, e) < 0)
		return -1;
	if (c->ipam_type[0] && (strchr(c->ipam_type, '/') || !strcmp(c->ipam_type, "..")))
		return cni_fail(e, CNI_ERR_CONFIG, "ipam.type \"%.64s\" is not a plugin name",
				c->ipam_type);
	snprintf(c->a.ipam, sizeof(c->a.ipam), "%s", c->ipam_type);
	return strcmp(c->ipam_type, "vnet") ? 0 : parse_vnet_ipam(c, e);
}

/* The bridge plugin's keys. */
static int parse_bridge(json_t *conf, struct cni_conf *c, struct cni_error *e)
{
	struct vnet_attach *a = &c->a;
	const char *bridge = "cni0";
	json_t *mtu = json_object_get(conf, "mtu");

	if (get_str(conf, "bridge", "cni0", &bridge, e) < 0 ||
	    get_bool(conf, "isGateway", &a->gateway, e) < 0 ||
	    get_bool(conf, "isDefaultGateway", &c->default_gw, e) < 0 ||
	    get_bool(conf, "forceAddress", &a->force_addr, e) < 0 ||
	    get_bool(conf, "ipMasq", &a->masq, e) < 0 ||
	    get_bool(conf, "hairpinMode", &a->hairpin, e) < 0 ||
	    get_bool(conf, "promiscMode", &a->promisc, e) < 0 ||
	    get_bool(conf, "portIsolation", &a->isolated, e) < 0 ||
	    get_bool(conf, "enabledad", &a->dad, e) < 0 ||
	    get_bool(conf, "macspoofchk", &a->spoof, e) < 0)
		return -1;
	if (!bridge[0] || strlen(bridge) >= VNET_IFNAMSIZ || strpbrk(bridge, "/: \t\n"))
		return cni_fail(e, CNI_ERR_CONFIG, "bridge \"%.64s\" is not an interface name",
				bridge);
	snprintf(a->bridge, sizeof(a->bridge), "%s", bridge);
	if (a->hairpin && a->promisc)
		return cni_fail(e, CNI_ERR_CONFIG,
				"hairpinMode and promiscMode cannot both be"
				" true");
	if (mtu && (!json_is_integer(mtu) || json_integer_value(mtu) < 68 ||
		    json_integer_value(mtu) > 65535))
		return cni_fail(e, CNI_ERR_CONFIG, "mtu must be a number from 68 to 65535");
	a->mtu = (uint32_t)json_integer_value(mtu);
	a->gateway |= c->default_gw;
	return 0;
}

int cni_conf_read(const struct cni_call *c, struct cni_conf *ret, struct cni_error *e)
{
	json_t *conf = c->conf, *dns;
	const char *name = NULL;

	memset(ret, 0, sizeof(*ret));
	if (cni_check_keys(conf, known, "", e) < 0 || get_str(conf, "name", NULL, &name, e) < 0)
		return -1;
	if (!name || !name[0] || strlen(name) >= sizeof(ret->a.net) || strpbrk(name, "/\n"))
		return cni_fail(e, CNI_ERR_CONFIG,
				"the network's \"name\" is missing or not a"
				" name (1 to 127 bytes, no / or newline)");
	snprintf(ret->a.net, sizeof(ret->a.net), "%s", name);
	snprintf(ret->a.cid, sizeof(ret->a.cid), "%s", c->container);
	snprintf(ret->a.ifname, sizeof(ret->a.ifname), "%s", c->ifname);
	snprintf(ret->a.netns, sizeof(ret->a.netns), "%s", c->netns);
	dns = json_object_get(conf, "dns");
	if (json_is_object(dns) && json_object_size(dns))
		ret->dns = dns;
	if (parse_bridge(conf, ret, e) < 0 || parse_ipam(conf, ret, e) < 0 ||
	    parse_args(c, ret, e) < 0)
		return -1;
	return parse_runtime(conf, ret, e);
}

/* ---- IPAM ---- */

/* The owner of a lease of vnet's IPAM. */
static void owner_of(const struct cni_call *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", c->container, c->ifname);
}

/* The delegate: the first "DIR/TYPE" of CNI_PATH that can be run. */
static int delegate_path(const struct cni_call *c, const char *type, char *buf, size_t len)
{
	const char *p = c->path;

	while (*p) {
		size_t n = strcspn(p, ":");

		snprintf(buf, len, "%.*s/%s", (int)n, p, type);
		if (n && access(buf, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return -1;
}

/*
 * Start @path with CNI_COMMAND=@cmd and @c's attachment, pipes on its stdin and stdout.
 * The one program vnet-cni starts: the IPAM plugin the configuration names (ipam.type, in
 * CNI_PATH), which is how CNI delegates (SPEC "Plugin Delegation"); the user's own, as
 * vnet exec's command is. Return: pid or -1.
 */
static pid_t spawn(const struct cni_call *c, const char *path, const char *cmd, int *ret_in,
		   int *ret_out)
{
	int pin[2], pout[2];
	pid_t pid;

	if (pipe2(pin, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(pout, O_CLOEXEC) < 0) {
		close(pin[0]);
		close(pin[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		/* the attachment's, which GC names itself */
		setenv("CNI_COMMAND", cmd, 1);
		setenv("CNI_CONTAINERID", c->container, 1);
		setenv("CNI_IFNAME", c->ifname, 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	if (pid < 0) {
		close(pin[1]);
		close(pout[0]);
		return -1;
	}
	*ret_in = pin[1];
	*ret_out = pout[0];
	return pid;
}

/* All of @fd, NUL-ended (closed then); NULL when out of memory. */
static char *read_fd(int fd)
{
	size_t len = 0, cap = 8192;
	char *out = malloc(cap);
	ssize_t n = 1;

	while (out && n > 0) {
		if (len + 1 == cap) {
			char *o = realloc(out, cap *= 2);

			if (!o)
				free(out);
			out = o;
			continue;
		}
		n = read(fd, out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			len += (size_t)n;
	}
	if (out)
		out[len] = '\0';
	close(fd);
	return out;
}

/*
 * Run the delegate with @cmd, the configuration on its stdin (its cniVersion replaced by
 * @version when not NULL) and the call's environment; its stdout in *@ret_out.
 * Return: its exit status, or -1 with @e said.
 */
static int delegate_run(const struct cni_call *c, const char *path, const char *cmd,
			const char *version, char **ret_out, struct cni_error *e)
{
	json_t *conf = json_deep_copy(c->conf);
	char *in = NULL, *out = NULL;
	int fin = -1, fout = -1, st = 0;
	pid_t pid = -1;

	if (conf && version)
		json_object_set_new(conf, "cniVersion", json_string(version));
	in = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
	json_decref(conf);
	if (in)
		pid = spawn(c, path, cmd, &fin, &fout);
	if (pid > 0) {
		/* a configuration is small: the pipe takes it whole before the child reads */
		if (write(fin, in, strlen(in)) < 0)
			st = -1;
		close(fin);
		out = read_fd(fout);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	free(in);
	if (pid < 0 || !out) {
		free(out);
		return cni_fail(e, CNI_ERR_INTERNAL, "cannot run IPAM plugin %s: %s", path,
				strerror(errno));
	}
	*ret_out = out;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* "ADDR/LEN" (either family) into @ip; Return: 0 or -1. */
static int parse_cidr(const char *s, struct vnet_attach_ip *ip)
{
	char buf[64], *slash;
	unsigned long len;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	ip->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	len = strtoul(slash + 1, NULL, 10);
	if (inet_pton(ip->family, buf, ip->addr) != 1 || len > (ip->family == AF_INET ? 32U : 128U))
		return -1;
	ip->prefixlen = (uint8_t)len;
	return 0;
}

static int parse_addr(const char *s, int *family, uint8_t addr[16])
{
	*family = s && strchr(s, ':') ? AF_INET6 : AF_INET;
	return s && inet_pton(*family, s, addr) == 1 ? 0 : -1;
}

/* The ips and routes of a result (an IPAM plugin's, or a prevResult) into @a. */
static int take_result(json_t *res, struct vnet_attach *a, struct cni_error *e)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(res, "ips"), i, v)
	{
		struct vnet_attach_ip *ip = &a->ips[a->n_ips];
		const char *gw = json_string_value(json_object_get(v, "gateway"));
		int fam;

		if (a->n_ips == VNET_ATTACH_MAX ||
		    parse_cidr(json_string_value(json_object_get(v, "address")) ?: "", ip) < 0)
			return cni_fail(e, CNI_ERR_INTERNAL, "IPAM gave a bad or %zuth address",
					i + 1);
		ip->has_gw = gw && parse_addr(gw, &fam, ip->gw) == 0 && fam == ip->family;
		a->n_ips++;
	}
	json_array_foreach(json_object_get(res, "routes"), i, v)
	{
		struct vnet_attach_ip dst;
		struct vnet_route *r = &a->routes[a->n_routes];
		const char *gw = json_string_value(json_object_get(v, "gw"));
		int fam;

		if (a->n_routes == VNET_ATTACH_MAX ||
		    parse_cidr(json_string_value(json_object_get(v, "dst")) ?: "", &dst) < 0)
			return cni_fail(e, CNI_ERR_INTERNAL, "IPAM gave a bad or %zuth route",
					i + 1);
		memset(r, 0, sizeof(*r));
		r->family = dst.family;
		r->dst_len = dst.prefixlen;
		memcpy(r->dst, dst.addr, 16);
		r->has_gw = gw && parse_addr(gw, &fam, r->gw) == 0 && fam == r->family;
		a->n_routes++;
	}
	return 0;
}

/* Routes without a gateway take their family's first (SPEC's ConfigureIface); with
 * isDefaultGateway, a default route through it unless IPAM gave one with a gateway. */
static void routes_resolve(struct cni_conf *c)
{
	struct vnet_attach *a = &c->a;

	for (unsigned i = 0; i < a->n_ips; i++) {
		const struct vnet_attach_ip *ip = &a->ips[i];
		bool has_default = false;

		if (!ip->has_gw)
			continue;
		for (unsigned k = 0; k < a->n_routes; k++) {
			struct vnet_route *r = &a->routes[k];

			if (r->family == ip->family && !r->has_gw) {
				r->has_gw = true;
				memcpy(r->gw, ip->gw, 16);
			}
			has_default |= r->family == ip->family && !r->dst_len;
		}
		if (c->default_gw && !has_default && a->n_routes < VNET_ATTACH_MAX) {
			struct vnet_route *r = &a->routes[a->n_routes++];

			memset(r, 0, sizeof(*r));
			r->family = ip->family;
			r->has_gw = true;
			memcpy(r->gw, ip->gw, 16);
		}
	}
}

/* The delegate's ADD; a plugin that does not speak 1.1.0 (Debian's) is asked in 1.0.0. */
static int delegate_add(const struct cni_call *c, struct cni_conf *conf, json_t **ret_dns,
			struct cni_error *e)
{
	char path[4096], *out = NULL;
	json_t *res;
	int st;

	if (delegate_path(c, conf->ipam_type, path, sizeof(path)) < 0)
		return cni_fail(e, CNI_ERR_CONFIG, "IPAM plugin \"%s\" is not in CNI_PATH (%.200s)",
				conf->ipam_type, c->path);
	st = delegate_run(c, path, "ADD", NULL, &out, e);
	res = st >= 0 ? json_loads(out ?: "", 0, NULL) : NULL;
	if (st > 0 && json_integer_value(json_object_get(res, "code")) == CNI_ERR_VERSION &&
	    cni_version_cmp(c->version, "1.0.0") > 0) {
		free(out);
		json_decref(res);
		st = delegate_run(c, path, "ADD", "1.0.0", &out, e);
		res = st >= 0 ? json_loads(out ?: "", 0, NULL) : NULL;
	}
	free(out);
	if (st != 0) {
		if (st > 0)
			cni_fail(e,
				 (unsigned)json_integer_value(json_object_get(res, "code")) ?:
					 CNI_ERR_INTERNAL,
				 "IPAM plugin %s: %s", conf->ipam_type,
				 json_string_value(json_object_get(res, "msg")) ?: "failed");
		json_decref(res);
		return -1;
	}
	st = take_result(res, &conf->a, e);
	if (!st && !conf->a.n_ips)
		st = cni_fail(e, CNI_ERR_INTERNAL, "IPAM plugin %s gave no address",
			      conf->ipam_type);
	*ret_dns = st ? NULL : json_incref(json_object_get(res, "dns"));
	json_decref(res);
	return st;
}

/* vnet's IPAM: a lease, the gateway, the configuration's routes. */
static int vnet_add(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		    struct cni_error *e)
{
	struct vnet_attach *a = &conf->a;
	struct vnet_attach_ip *ip = &a->ips[0];
	struct vnet_error err = { 0 };
	char owner[300];
	json_t *routes = json_pack("{s:O?}", "routes", json_object_get(conf->ipam, "routes"));
	int r;

	owner_of(c, owner, sizeof(owner));
	r = vnet_ipam_cni_lease(st, a->net, conf->subnet, conf->plen, conf->gw, owner,
				conf->has_want ? conf->want : NULL, ip->addr, &conf->lease_new,
				&err);
	if (r < 0) {
		json_decref(routes);
		return cni_fail(e,
				r == -ENOSPC || r == -EADDRINUSE ? CNI_ERR_AGAIN : CNI_ERR_CONFIG,
				"%s", err.msg);
	}
	ip->family = AF_INET;
	ip->prefixlen = (uint8_t)conf->plen;
	ip->has_gw = true;
	memcpy(ip->gw, conf->gw, 4);
	a->n_ips = 1;
	r = take_result(routes, a, e);
	json_decref(routes);
	return r;
}

int cni_ipam_add(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		 json_t **ret_dns, struct cni_error *e)
{
	int r = 0;

	*ret_dns = NULL;
	if (!strcmp(conf->ipam_type, "vnet"))
		r = vnet_add(c, conf, st, e);
	else if (conf->ipam_type[0])
		r = delegate_add(c, conf, ret_dns, e);
	if (r == 0)
		routes_resolve(conf);
	return r;
}

int cni_ipam_del(const struct cni_call *c, const struct cni_conf *conf, struct vnet_state *st,
		 struct cni_error *e)
{
	char path[4096], owner[300], *out = NULL;
	json_t *res;
	int r;

	if (!strcmp(conf->ipam_type, "vnet")) {
		owner_of(c, owner, sizeof(owner));
		r = vnet_ipam_cni_release(st, conf->a.net, owner);
		return r < 0 ? cni_fail(e, CNI_ERR_INTERNAL, "releasing the lease: %s",
					strerror(-r)) :
			       0;
	}
	if (!conf->ipam_type[0] || delegate_path(c, conf->ipam_type, path, sizeof(path)) < 0)
		return 0; /* nothing to give back, or no plugin left to ask */
	r = delegate_run(c, path, "DEL", NULL, &out, e);
	res = r > 0 ? json_loads(out ?: "", 0, NULL) : NULL;
	if (r > 0 && json_integer_value(json_object_get(res, "code")) == CNI_ERR_VERSION) {
		free(out);
		r = delegate_run(c, path, "DEL", "1.0.0", &out, e);
	}
	if (r > 0)
		cni_fail(e, CNI_ERR_INTERNAL, "IPAM plugin %s: DEL failed: %.300s", conf->ipam_type,
			 out ?: "");
	json_decref(res);
	free(out);
	return r ? -1 : 0;
}

void cni_ipam_undo(const struct cni_call *c, const struct cni_conf *conf, struct vnet_state *st)
{
	struct cni_error ignored = { 0 };

	if (strcmp(conf->ipam_type, "vnet") || conf->lease_new)
		cni_ipam_del(c, conf, st, &ignored);
}

int cni_ipam_check(const struct cni_call *c, const struct cni_conf *conf, struct vnet_state *st,
		   struct cni_error *e)
{
	char path[4096], owner[300], *out = NULL;
	uint8_t a[4];
	json_t *res;
	int r;

	if (!strcmp(conf->ipam_type, "vnet")) {
		owner_of(c, owner, sizeof(owner));
		r = vnet_ipam_cni_held(st, conf->a.net, owner, a);
		if (r == 1 && (!conf->a.n_ips || conf->a.ips[0].family != AF_INET ||
			       memcmp(conf->a.ips[0].addr, a, 4)))
			r = 0;
		return r == 1 ? 0 :
				cni_fail(e, CNI_ERR_INTERNAL,
					 "vnet's IPAM has no lease of prevResult's address for"
					 " container %s (interface %s)",
					 c->container, c->ifname);
	}
	if (!conf->ipam_type[0])
		return 0;
	if (delegate_path(c, conf->ipam_type, path, sizeof(path)) < 0)
		return cni_fail(e, CNI_ERR_CONFIG, "IPAM plugin \"%s\" is not in CNI_PATH (%.200s)",
				conf->ipam_type, c->path);
	r = delegate_run(c, path, "CHECK", NULL, &out, e);
	res = r > 0 ? json_loads(out ?: "", 0, NULL) : NULL;
	if (r > 0 && json_integer_value(json_object_get(res, "code")) == CNI_ERR_VERSION) {
		free(out);
		json_decref(res);
		r = delegate_run(c, path, "CHECK", "1.0.0", &out, e);
		res = r > 0 ? json_loads(out ?: "", 0, NULL) : NULL;
	}
	if (r > 0)
		cni_fail(e, CNI_ERR_INTERNAL, "IPAM plugin %s: CHECK failed: %.300s",
			 conf->ipam_type,
			 json_string_value(json_object_get(res, "msg")) ?:
				 out					?:
									  "");
	json_decref(res);
	free(out);
	return r ? -1 : 0;
}

int cni_ipam_found(const struct cni_call *c, const struct cni_conf *conf, struct cni_error *e)
{
	char path[4096];

	if (!conf->ipam_type[0] || !strcmp(conf->ipam_type, "vnet") ||
	    delegate_path(c, conf->ipam_type, path, sizeof(path)) == 0)
		return 0;
	return cni_fail(e, CNI_ERR_UNAVAILABLE, "IPAM plugin \"%s\" is not in CNI_PATH (%.200s)",
			conf->ipam_type, c->path);
}

int cni_prev_result(const struct cni_call *c, struct cni_conf *conf, struct cni_error *e)
{
	json_t *prev = json_object_get(c->conf, "prevResult");

	if (!json_is_object(prev))
		return cni_fail(e, CNI_ERR_CONFIG, "CHECK needs prevResult");
	conf->a.n_ips = conf->a.n_routes = 0;
	return take_result(prev, &conf->a, e);
}
