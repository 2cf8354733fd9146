// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vnet-cni.c - the CNI plugin: ADD, DEL, CHECK, STATUS, GC and VERSION over libvnet's
 * attachments (lib/attach.c), with the reference bridge plugin's configuration.
 * stdout carries only the result or the error object; words for people go to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "kernel.h"
#include "network.h"

#define DEFAULT_STATE_DIR "/var/lib/vnet"

/* vnet's errno, as the spec's code: the runtime decides from it whether to retry. */
static unsigned code_of(int r)
{
	switch (r) {
	case -ENOENT:
		return CNI_ERR_UNKNOWN; /* no such container namespace */
	case -EBUSY:
	case -EAGAIN:
		return CNI_ERR_AGAIN;
	default:
		return CNI_ERR_INTERNAL;
	}
}

static int fail_vnet(struct cni_error *e, int r, const struct vnet_error *err)
{
	char text[VNET_MSGSIZ + 200];

	vnet_error_format(err, text, sizeof(text));
	return cni_fail(e, code_of(r), "%s", err->msg[0] ? text : strerror(-r));
}

/* The result: the bridge, the host end, the container's interface; its addresses. */
static void print_result(const struct cni_call *c, const struct cni_conf *conf, json_t *dns)
{
	const struct vnet_attach *a = &conf->a;
	struct cni_result res = { .n_ifaces = 3 };
	json_t *o;

	snprintf(res.ifaces[0].name, sizeof(res.ifaces[0].name), "%s", a->bridge);
	vnet_mac_format(a->bridge_mac, res.ifaces[0].mac, sizeof(res.ifaces[0].mac));
	snprintf(res.ifaces[1].name, sizeof(res.ifaces[1].name), "%s", a->host);
	vnet_mac_format(a->host_mac, res.ifaces[1].mac, sizeof(res.ifaces[1].mac));
	snprintf(res.ifaces[2].name, sizeof(res.ifaces[2].name), "%s", a->ifname);
	vnet_mac_format(a->mac, res.ifaces[2].mac, sizeof(res.ifaces[2].mac));
	snprintf(res.ifaces[2].sandbox, sizeof(res.ifaces[2].sandbox), "%s", a->netns);
	res.ifaces[2].mtu = a->mtu;
	for (unsigned i = 0; i < a->n_ips && i < CNI_MAX; i++) {
		struct cni_ip *ip = &res.ips[res.n_ips++];
		char t[INET6_ADDRSTRLEN];

		ip->family = a->ips[i].family;
		ip->iface = 2;
		snprintf(ip->address, sizeof(ip->address), "%s/%u",
			 inet_ntop(ip->family, a->ips[i].addr, t, sizeof(t)), a->ips[i].prefixlen);
		if (a->ips[i].has_gw)
			inet_ntop(ip->family, a->ips[i].gw, ip->gateway, sizeof(ip->gateway));
	}
	for (unsigned i = 0; i < a->n_routes && i < CNI_MAX; i++) {
		struct cni_route *rt = &res.routes[res.n_routes++];
		char t[INET6_ADDRSTRLEN];

		snprintf(rt->dst, sizeof(rt->dst), "%s/%u",
			 inet_ntop(a->routes[i].family, a->routes[i].dst, t, sizeof(t)),
			 a->routes[i].dst_len);
		if (a->routes[i].has_gw)
			inet_ntop(a->routes[i].family, a->routes[i].gw, rt->gw, sizeof(rt->gw));
	}
	o = cni_result_json(&res, c->version);
	if (o && (conf->dns || dns))
		json_object_set(o, "dns", conf->dns ? conf->dns : dns);
	json_dumpf(o, stdout, JSON_INDENT(1));
	fputc('\n', stdout);
	json_decref(o);
}

/* ADD: IPAM first, then the attachment; a failure gives the addresses back. */
static int cmd_add(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		   struct cni_error *e)
{
	struct vnet_error err = { 0 };
	json_t *dns = NULL;
	int r = cni_ipam_add(c, conf, st, &dns, e);

	if (r == 0 && (r = vnet_attach_add(st, &conf->a, &err)) < 0) {
		fail_vnet(e, r, &err);
		cni_ipam_undo(c, conf, st);
	}
	if (r == 0)
		print_result(c, conf, dns);
	json_decref(dns);
	return r < 0 ? -1 : 0;
}

/* DEL: what the record names goes, whatever the container has left; then the addresses. */
static int cmd_del(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		   struct cni_error *e)
{
	struct vnet_error err = { 0 };
	int r = vnet_attach_del(st, conf->a.net, conf->a.cid, conf->a.ifname, &err);

	if (r < 0)
		return fail_vnet(e, r, &err);
	return cni_ipam_del(c, conf, st, e);
}

static int cmd_check(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		     struct cni_error *e)
{
	struct vnet_error err = { 0 };
	int r = cni_prev_result(c, conf, e);

	if (r == 0)
		r = cni_ipam_check(c, conf, st, e);
	if (r == 0 && (r = vnet_attach_check(st, &conf->a, &err)) < 0)
		fail_vnet(e, r, &err);
	return r < 0 ? -1 : 0;
}

static int cmd_status(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		      struct cni_error *e)
{
	struct vnet_error err = { 0 };
	int r = cni_ipam_found(c, conf, e);

	if (r == 0 && vnet_attach_status(st, &err) < 0)
		r = cni_fail(e, CNI_ERR_UNAVAILABLE, "%s", err.msg);
	return r;
}

/* GC: the attachments the runtime still has, and what the removed ones give back. */
struct gc {
	const struct cni_call *c;
	struct cni_conf *conf;
	struct vnet_state *st;
	struct vnet_attach_key *valid;
	size_t n;
	struct cni_error *e;
};

static int gc_valid(struct gc *g, struct cni_error *e)
{
	json_t *list = json_object_get(g->c->conf, "cni.dev/valid-attachments");
	json_t *v;
	size_t i;

	if (!list)
		list = json_object_get(g->c->conf, "cni.dev/attachments");
	if (list && !json_is_array(list))
		return cni_fail(e, CNI_ERR_CONFIG, "cni.dev/valid-attachments is not a list");
	g->valid = calloc(json_array_size(list) + 1, sizeof(*g->valid));
	if (!g->valid)
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	json_array_foreach(list, i, v)
	{
		const char *cid = json_string_value(json_object_get(v, "containerID"));
		const char *ifname = json_string_value(json_object_get(v, "ifname"));

		if (!cid || !ifname)
			return cni_fail(e, CNI_ERR_CONFIG,
					"cni.dev/valid-attachments[%zu] has no containerID or"
					" ifname",
					i);
		g->valid[g->n++] = (struct vnet_attach_key){ cid, ifname };
	}
	return 0;
}

static int gc_removed(void *arg, const char *cid, const char *ifname)
{
	struct gc *g = arg;
	struct cni_call one = *g->c;
	struct cni_error ignored = { 0 };

	one.container = cid;
	one.ifname = ifname;
	fprintf(stderr, "vnet-cni: GC: removed container %s (interface %s) of network %s\n", cid,
		ifname, g->conf->a.net);
	return cni_ipam_del(&one, g->conf, g->st, g->e->code ? &ignored : g->e) < 0 ? -EIO : 0;
}

static bool gc_keep(void *arg, const char *owner)
{
	const struct gc *g = arg;
	size_t cl = strcspn(owner, "/");

	for (size_t i = 0; i < g->n; i++)
		if (strlen(g->valid[i].cid) == cl && !strncmp(owner, g->valid[i].cid, cl) &&
		    !strcmp(owner + cl + (owner[cl] == '/'), g->valid[i].ifname))
			return true;
	return false;
}

static int cmd_gc(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		  struct cni_error *e)
{
	struct gc g = { .c = c, .st = st, .e = e, .conf = conf };
	struct vnet_error err = { 0 };
	int r = gc_valid(&g, e);

	if (r == 0 &&
	    (r = vnet_attach_gc(st, conf->a.net, g.valid, g.n, gc_removed, &g, &err)) < 0 &&
	    !e->code)
		fail_vnet(e, r, &err);
	/* leases no record names: an add that was interrupted before it recorded */
	if (r == 0 && !strcmp(conf->ipam_type, "vnet") &&
	    vnet_ipam_cni_gc(st, conf->a.net, gc_keep, &g) < 0)
		r = cni_fail(e, CNI_ERR_INTERNAL, "cannot free the leases of network %s",
			     conf->a.net);
	free(g.valid);
	return r < 0 || e->code ? -1 : 0;
}

/* The configuration read, the lock taken for the verbs that change things, the verb run. */
static int run(const struct cni_call *c, struct vnet_state *st, struct cni_error *e)
{
	static int (*const verbs[])(const struct cni_call *, struct cni_conf *, struct vnet_state *,
				    struct cni_error *) = {
		[CNI_ADD] = cmd_add,	   [CNI_DEL] = cmd_del, [CNI_CHECK] = cmd_check,
		[CNI_STATUS] = cmd_status, [CNI_GC] = cmd_gc,
	};
	bool changes = c->cmd == CNI_ADD || c->cmd == CNI_DEL || c->cmd == CNI_GC;
	struct cni_conf *conf = calloc(1, sizeof(*conf));
	int lock = -1, r;

	if (!conf)
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	r = cni_conf_read(c, conf, e);
	if (r == 0 && changes && (lock = vnet_attach_lock(st, c->cmd == CNI_GC)) < 0)
		r = cni_fail(e, CNI_ERR_AGAIN, "cannot lock %s/cni.lock: %s", vnet_state_dir(st),
			     strerror(-lock));
	conf->a.lock = lock;
	if (r == 0)
		r = verbs[c->cmd](c, conf, st, e);
	if (lock >= 0)
		close(lock);
	free(conf);
	return r < 0 ? -1 : 0;
}

int main(void)
{
	const char *dir = getenv("VNET_STATE_DIR");
	struct cni_error e = { 0 };
	struct vnet_state *st = NULL;
	struct vnet_error err = { 0 };
	struct cni_call c;
	int r = cni_read_call(&c, stdin, &e);

	if (r == 0 && c.cmd == CNI_VERSION) {
		cni_print_version(stdout, c.version);
		cni_call_clear(&c);
		return 0;
	}
	if (r == 0 && vnet_state_open(dir && dir[0] ? dir : DEFAULT_STATE_DIR, &st, &err) < 0)
		r = cni_fail(&e, c.cmd == CNI_STATUS ? CNI_ERR_UNAVAILABLE : CNI_ERR_INTERNAL,
			     "the state store: %s", err.msg);
	if (r == 0) {
		vnet_state_keep_wal(st);
		r = run(&c, st, &e);
	}
	if (r < 0) {
		cni_print_error(stdout, c.version, &e);
		fprintf(stderr, "vnet-cni: %s\n", e.msg);
	}
	vnet_state_close(st);
	vnet_netns_thread_done();
	cni_call_clear(&c);
	return r < 0 ? 1 : 0;
}
