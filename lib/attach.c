// SPDX-License-Identifier: LGPL-2.1-or-later
/* attach.c - a container's attachment to a bridge, made, checked and removed for vnet-cni */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/ip.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "attach.h"
#include "kernel.h"
#include "kind.h"
#include "nat.h"
#include "network.h"
#include "session.h"

/*
 * An attachment is recorded (table cni_attachment, ready 0, with the name its host end
 * will have, and its published ports in cni_port) before anything is made; the kernel
 * work follows; the record is marked ready last. Its removal works from the record alone:
 * the host end, which takes the container's end with it, and the ports' elements, whatever
 * the container's namespace still holds or whether it still exists. A host end is removed
 * only while it wears the network's alias, so a name reused by a stranger is left alone.
 * The network's own elements (its bridge and subnet, masquerade) and its bridge stay while
 * the network is in use; GC removes them with its last attachment.
 */

/* ---- links, read by name ---- */

struct link_info {
	int index, master;
	unsigned flags;
	uint8_t mac[6];
	char kind[16];
	char alias[256];
};

static int info_attr(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == 6)
			memcpy(li->mac, mnl_attr_get_payload(attr), 6);
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			li->master = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_IFALIAS:
		snprintf(li->alias, sizeof(li->alias), "%.*s", (int)mnl_attr_get_payload_len(attr),
			 (const char *)mnl_attr_get_payload(attr));
		break;
	case IFLA_LINKINFO: {
		const struct nlattr *in;

		mnl_attr_for_each_nested(in, attr)
			if (mnl_attr_get_type(in) == IFLA_INFO_KIND)
				snprintf(li->kind, sizeof(li->kind), "%.*s",
					 (int)mnl_attr_get_payload_len(in),
					 (const char *)mnl_attr_get_payload(in));
		break;
	}
	default:
		break;
	}
	return MNL_CB_OK;
}

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_info *li = data;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	li->index = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifi), info_attr, li);
	return MNL_CB_OK;
}

/* The link @name of @nl's namespace; Return: 0, -ENODEV or -errno. */
static int link_info(struct vnet_nl *nl, const char *name, struct link_info *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = vnet_link_get(nl, name, info_cb, ret);
	return r < 0 ? r : ret->index > 0 ? 0 : -ENODEV;
}

/* ---- addresses and routes of one link, read back ---- */

struct addr_list {
	int index, family;
	struct vnet_attach_ip v[32];
	unsigned n;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_list *l = data;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != l->index || l->n >= 32)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
		if (mnl_attr_get_type(attr) == IFA_ADDRESS &&
		    mnl_attr_get_payload_len(attr) == (ifa->ifa_family == AF_INET ? 4U : 16U)) {
			l->v[l->n].family = ifa->ifa_family;
			l->v[l->n].prefixlen = ifa->ifa_prefixlen;
			memcpy(l->v[l->n++].addr, mnl_attr_get_payload(attr),
			       mnl_attr_get_payload_len(attr));
		}
	return MNL_CB_OK;
}

static bool same_ip(const struct vnet_attach_ip *x, const struct vnet_attach_ip *y)
{
	return x->family == y->family && x->prefixlen == y->prefixlen &&
	       !memcmp(x->addr, y->addr, x->family == AF_INET ? 4 : 16);
}

static bool has_ip(const struct addr_list *l, const struct vnet_attach_ip *ip)
{
	for (unsigned i = 0; i < l->n; i++)
		if (same_ip(&l->v[i], ip))
			return true;
	return false;
}

/* Do @a/@alen and @b/@blen share an address? (@len: 4 or 16 bytes) */
static bool prefix_overlap(const uint8_t *a, unsigned alen, const uint8_t *b, unsigned blen,
			   unsigned len)
{
	unsigned plen = alen < blen ? alen : blen;

	for (unsigned i = 0; i < len && plen; i++) {
		unsigned bits = plen >= 8 ? 8 : plen;
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((a[i] ^ b[i]) & mask)
			return false;
		plen -= bits;
	}
	return true;
}

/* ---- small things: sysctls, names, the lock ---- */

/* Write @val to /proc/sys/@key in the namespace the thread is in. */
static int sysctl_set(const char *key, const char *val)
{
	char path[160];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Turn on forwarding for @family in the thread's namespace when it is off. */
static int forward_on(int family)
{
	const char *key = family == AF_INET ? "net/ipv4/ip_forward" :
					      "net/ipv6/conf/all/forwarding";
	char path[96], c = '0';
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read(fd, &c, 1) < 0)
		c = '0';
	close(fd);
	return c == '1' ? 0 : sysctl_set(key, "1");
}

static void alias_of(const char *net, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s", VNET_ATTACH_TAG, net);
}

/* flock(2) @fd with @op, again when a signal came. */
static int lock_as(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int vnet_attach_lock(struct vnet_state *st, bool exclusive)
{
	char path[512];
	int fd, r;

	snprintf(path, sizeof(path), "%s/cni.lock", vnet_state_dir(st));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = lock_as(fd, exclusive ? LOCK_EX : LOCK_SH);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* ---- the record ---- */

static int step_done(sqlite3_stmt *s)
{
	int rc = s ? sqlite3_step(s) : SQLITE_NOMEM;

	if (s)
		sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : vnet_state_errno(rc);
}

static void bind_key(sqlite3_stmt *s, const char *net, const char *cid, const char *ifname)
{
	sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, ifname, -1, SQLITE_STATIC);
}

/* The attachment's addresses, as "ADDR/LEN,ADDR/LEN". */
static void addrs_text(const struct vnet_attach *a, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < a->n_ips && n < len; i++) {
		char t[INET6_ADDRSTRLEN];

		inet_ntop(a->ips[i].family, a->ips[i].addr, t, sizeof(t));
		n += (size_t)snprintf(buf + n, len - n, "%s%s/%u", i ? "," : "", t,
				      a->ips[i].prefixlen);
	}
}

static const char SQL_PUT[] =
	"INSERT INTO cni_attachment (net, cid, ifname, netns, bridge, host, mac, addrs, ipam,"
	" spoof, ready, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?10, ?7, ?8, ?11, 0, ?9)";
static const char SQL_PORT[] =
	"INSERT INTO cni_port (proto, host_addr, host_port, elem, net, cid, ifname)"
	" VALUES (?4, ?5, ?6, ?7, ?1, ?2, ?3)";
static const char SQL_PORT_OWNER[] =
	"SELECT net, cid, ifname FROM cni_port WHERE proto = ?1 AND host_port = ?3"
	" AND (host_addr = ?2 OR host_addr = '' OR ?2 = '')";

/* A published port of @a that another attachment has; Return: 0, -EADDRINUSE or -errno. */
static int port_free(struct vnet_state *st, const struct vnet_port *p, const char *host_addr,
		     struct vnet_error *reterr)
{
	sqlite3_stmt *s = vnet_state_cached(st, SQL_PORT_OWNER);
	int rc, r = 0;

	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(s, 1, p->proto == IPPROTO_UDP ? "udp" : "tcp", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, host_addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, p->host_port);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = vnet_error_set(reterr, -EADDRINUSE, "portMappings", "publish",
				   "host port %s/%u is published already, by container %s"
				   " (interface %s) of network %s",
				   p->proto == IPPROTO_UDP ? "udp" : "tcp", p->host_port,
				   (const char *)sqlite3_column_text(s, 1),
				   (const char *)sqlite3_column_text(s, 2),
				   (const char *)sqlite3_column_text(s, 0));
	else if (rc != SQLITE_DONE)
		r = vnet_state_errno(rc);
	sqlite3_reset(s);
	return r;
}

/* The record of @a's ports, their host ports checked free first. */
static int put_ports(struct vnet_state *st, const struct vnet_attach *a, struct vnet_error *reterr)
{
	int r = 0;

	for (unsigned i = 0; r >= 0 && i < a->n_ports; i++) {
		const struct vnet_port *p = &a->ports[i];
		struct vnet_strv e = { 0 };
		char h[INET_ADDRSTRLEN] = "";
		sqlite3_stmt *s;

		if (p->has_host_addr)
			inet_ntop(AF_INET, p->host_addr, h, sizeof(h));
		r = port_free(st, p, h, reterr);
		if (r >= 0)
			r = vnet_nat_port_elem(p, &e);
		s = r >= 0 ? vnet_state_cached(st, SQL_PORT) : NULL;
		if (s) {
			bind_key(s, a->net, a->cid, a->ifname);
			sqlite3_bind_text(s, 4, p->proto == IPPROTO_UDP ? "udp" : "tcp", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(s, 5, h, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 6, p->host_port);
			sqlite3_bind_text(s, 7, e.v[0], -1, SQLITE_STATIC);
			r = step_done(s);
		} else if (r >= 0) {
			r = -ENOMEM;
		}
		vnet_strv_free(&e);
	}
	return r;
}

/* The record of @a before it is made (one transaction). */
static int record_put(struct vnet_state *st, const struct vnet_attach *a, struct vnet_error *reterr)
{
	sqlite3_stmt *s;
	char addrs[VNET_ATTACH_MAX * 52], mac[18] = "";
	int r = vnet_state_exec(st, "BEGIN IMMEDIATE", reterr);

	if (r < 0)
		return r;
	addrs_text(a, addrs, sizeof(addrs));
	if (a->has_mac)
		vnet_mac_format(a->mac, mac, sizeof(mac));
	s = vnet_state_cached(st, SQL_PUT);
	if (s) {
		bind_key(s, a->net, a->cid, a->ifname);
		sqlite3_bind_text(s, 4, a->netns, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, a->bridge, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, a->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, addrs, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, a->ipam, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(s, 10, mac, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 11, a->spoof);
	}
	r = step_done(s);
	if (r >= 0)
		r = put_ports(st, a, reterr);
	if (r >= 0)
		r = vnet_state_exec(st, "COMMIT", reterr);
	if (r < 0) {
		if (!reterr || !reterr->msg[0])
			vnet_error_set(reterr, r, "state store", "record", "%s", strerror(-r));
		vnet_state_exec(st, "ROLLBACK", NULL);
	}
	return r;
}

static int record_drop(struct vnet_state *st, const char *net, const char *cid, const char *ifname)
{
	static const char *const sql[] = {
		"DELETE FROM cni_port WHERE net = ?1 AND cid = ?2 AND ifname = ?3",
		"DELETE FROM cni_attachment WHERE net = ?1 AND cid = ?2 AND ifname = ?3",
	};
	int r = vnet_state_exec(st, "BEGIN IMMEDIATE", NULL);

	for (size_t i = 0; r >= 0 && i < 2; i++) {
		sqlite3_stmt *s = vnet_state_cached(st, sql[i]);

		if (s)
			bind_key(s, net, cid, ifname);
		r = step_done(s);
	}
	if (r >= 0)
		return vnet_state_exec(st, "COMMIT", NULL);
	vnet_state_exec(st, "ROLLBACK", NULL);
	return r;
}

/* The network's elements, recorded once each, with its bridge and whether vnet made it. */
static int record_network(struct vnet_state *st, const struct vnet_attach *a,
			  const struct vnet_strv *elems)
{
	static const char sql[] =
		"INSERT INTO cni_network (net, bridge, made, elems) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (net) DO UPDATE SET bridge = ?2, made = made OR ?3,"
		" elems = CASE WHEN instr(elems, ?4) THEN elems ELSE elems || ?4 END";
	sqlite3_stmt *s = vnet_state_cached(st, sql);
	char text[1024] = "";
	size_t n = 0;

	for (size_t i = 0; i < elems->n && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", elems->v[i]);
	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(s, 1, a->net, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->bridge, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, a->bridge_made);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_TRANSIENT);
	return step_done(s);
}

/* After the kernel's work: ready, with the container's MAC, and the network's record. */
static int record_ready(struct vnet_state *st, const struct vnet_attach *a,
			const struct vnet_strv *net_elems, struct vnet_error *reterr)
{
	static const char sql[] = "UPDATE cni_attachment SET ready = 1, mac = ?4"
				  " WHERE net = ?1 AND cid = ?2 AND ifname = ?3";
	char mac[18];
	sqlite3_stmt *s;
	int r = vnet_state_exec(st, "BEGIN IMMEDIATE", reterr);

	if (r < 0)
		return r;
	vnet_mac_format(a->mac, mac, sizeof(mac));
	s = vnet_state_cached(st, sql);
	if (s) {
		bind_key(s, a->net, a->cid, a->ifname);
		sqlite3_bind_text(s, 4, mac, -1, SQLITE_STATIC);
	}
	r = step_done(s);
	if (r >= 0)
		r = record_network(st, a, net_elems);
	if (r >= 0)
		return vnet_state_exec(st, "COMMIT", reterr);
	vnet_state_exec(st, "ROLLBACK", NULL);
	return vnet_error_set(reterr, r, "state store", "record", "%s", strerror(-r));
}

/* ---- making it ---- */

/* What an add holds while it works: the sockets of both sides and what it made. */
struct work {
	struct vnet_attach *a;
	struct vnet_nl *host, *cont; /* sockets in the caller's and the container's namespace */
	int cont_fd; /* the container's namespace */
	int bridge_index, cont_index;
	int lock; /* the plugin's lock, held shared; exclusive while a bridge is made or removed */
	bool made_pair, made_bridge;
	struct vnet_error *err;
};

/* Send @b on @nl; the first refusal becomes @what's error. */
static int send_checked(struct vnet_nl *nl, struct vnet_batch *b, const char *object,
			const char *what, struct vnet_error *reterr)
{
	struct vnet_nl_result res[24] = { 0 };
	int r = b->n > 24 ? -E2BIG : vnet_nl_send(nl, b, res);

	for (unsigned i = 0; r >= 0 && i < b->n; i++)
		if (res[i].err < 0)
			return vnet_error_set(reterr, res[i].err, object, what, "%s%s%s",
					      strerror(-res[i].err), res[i].extack[0] ? ": " : "",
					      res[i].extack);
	if (r < 0)
		return vnet_error_set(reterr, r, object, what, "%s", strerror(-r));
	return 0;
}

/* A new bridge: MAC pinned, MTU; tagged and up only when it is the one this made (a
 * stranger's of the same name, made meanwhile, is left alone). Under the exclusive lock. */
static int bridge_new(struct work *w, const char *alias)
{
	struct vnet_link l = { .kind = &vnet_kind_bridge, .up = true, .mtu = w->a->mtu };
	struct vnet_batch b;
	int r;

	snprintf(l.name, sizeof(l.name), "%s", w->a->bridge);
	l.has = (l.mtu ? VNET_LINK_HAS_MTU : 0) | VNET_LINK_HAS_MAC;
	vnet_random_mac(l.mac);
	vnet_batch_init(&b);
	r = vnet_link_msg_add(&b, &l, 0, -1);
	r = r < 0 ? r : send_checked(w->host, &b, l.name, "make the bridge", w->err);
	w->made_bridge = w->a->bridge_made = r >= 0;
	vnet_batch_reset(&b);
	if (r >= 0)
		r = vnet_link_msg_set(&b, &l, VNET_SET_ALIAS | VNET_SET_UP, 0, alias) ?:
			    send_checked(w->host, &b, l.name, "tag the bridge", w->err);
	vnet_batch_free(&b);
	return r;
}

/* The bridge's flags as the configuration wants them: up, promiscuous or not. */
static int bridge_flags(struct work *w, const struct link_info *li)
{
	struct ifinfomsg *ifi;
	struct vnet_batch b;
	int r = 0;

	if ((li->flags & IFF_UP) && !w->a->promisc == !(li->flags & IFF_PROMISC))
		return 0;
	vnet_batch_init(&b);
	if (vnet_link_msg(&b, RTM_SETLINK, 0, w->a->bridge, &ifi)) {
		ifi->ifi_change = IFF_UP | IFF_PROMISC;
		ifi->ifi_flags = IFF_UP | (w->a->promisc ? IFF_PROMISC : 0);
	} else {
		r = -ENOMEM;
	}
	r = r < 0 ? r : send_checked(w->host, &b, w->a->bridge, "set up the bridge", w->err);
	vnet_batch_free(&b);
	return r;
}

/* The bridge, made when missing (the lock exclusive meanwhile), else checked to be one. */
static int bridge_ready(struct work *w)
{
	struct vnet_attach *a = w->a;
	struct link_info li;
	char alias[300];
	int r = link_info(w->host, a->bridge, &li);

	alias_of(a->net, alias, sizeof(alias));
	if (r == -ENODEV && w->lock >= 0 && (r = lock_as(w->lock, LOCK_EX)) == 0) {
		r = link_info(w->host, a->bridge, &li); /* another ADD may have made it */
		if (r == -ENODEV && (r = bridge_new(w, alias)) >= 0)
			r = link_info(w->host, a->bridge, &li);
		lock_as(w->lock, LOCK_SH);
	}
	if (r == 0 && strcmp(li.kind, "bridge"))
		return vnet_error_set(w->err, -ENOTBLK, a->bridge, "use as the bridge",
				      "%s exists and is not a bridge (it is a %s link)", a->bridge,
				      li.kind[0] ? li.kind : "plain");
	if (r < 0)
		return w->err->msg[0] ?
			       r :
			       vnet_error_set(w->err, r, a->bridge, "read", "%s", strerror(-r));
	a->bridge_made = !strcmp(li.alias, alias);
	w->bridge_index = li.index;
	memcpy(a->bridge_mac, li.mac, 6);
	return bridge_flags(w, &li);
}

/* The container's namespace, entered to open a socket there. */
static int container_open(struct work *w)
{
	struct vnet_attach *a = w->a;
	int saved, r;

	w->cont_fd = open(a->netns, O_RDONLY | O_CLOEXEC);
	if (w->cont_fd < 0)
		return vnet_error_set(w->err, -errno, a->netns, "open the container's namespace",
				      "%s", strerror(errno));
	r = vnet_netns_enter(w->cont_fd, &saved);
	if (r < 0)
		return vnet_error_set(w->err, r, a->netns, "enter the container's namespace", "%s",
				      strerror(-r));
	r = vnet_nl_open_current(&w->cont);
	vnet_netns_leave(saved);
	if (r < 0)
		return vnet_error_set(w->err, r, a->netns, "open netlink", "%s", strerror(-r));
	r = vnet_link_get_index(w->cont, a->ifname);
	if (r >= 0)
		return vnet_error_set(w->err, -EEXIST, a->ifname, "make",
				      "the container has an interface %s already", a->ifname);
	return r == -ENODEV ? 0 : vnet_error_set(w->err, r, a->ifname, "read", "%s", strerror(-r));
}

/* net.ipv4.conf.IF.KEY = 1 (an IPV4_DEVCONF_*), said through netlink: no sysctl file,
 * no entering the link's namespace. */
static int devconf_msg(struct vnet_batch *b, const char *ifname, uint16_t key)
{
	struct nlmsghdr *nlh = vnet_link_msg(b, RTM_SETLINK, 0, ifname, NULL);
	struct nlattr *spec, *inet, *conf;

	if (!nlh)
		return -ENOMEM;
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet = mnl_attr_nest_start(nlh, AF_INET);
	conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, key, 1);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, inet);
	mnl_attr_nest_end(nlh, spec);
	return 0;
}

/*
 * No IPv6 link-local address on @ifname (a bridge port needs none): set before the link
 * comes up, so that it sends no DAD and no MLD report, which a bridge floods to every port
 * (1000 of them on a busy network).
 */
static int no_ipv6_ll(struct vnet_batch *b, const char *ifname)
{
	struct nlmsghdr *nlh = vnet_link_msg(b, RTM_SETLINK, 0, ifname, NULL);
	struct nlattr *spec, *inet6;

	if (!nlh)
		return -ENOMEM;
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, inet6);
	mnl_attr_nest_end(nlh, spec);
	return 0;
}

/* The host end's messages after the pair's: tagged, on the bridge, its port options, up. */
static int host_msgs(struct vnet_batch *b, const struct work *w)
{
	const struct vnet_attach *a = w->a;
	const struct vnet_optset *po = &vnet_kind_master()->port_opts;
	struct vnet_link l = { .up = true, .mtu = a->mtu };
	char alias[300];
	int r;

	snprintf(l.name, sizeof(l.name), "%s", a->host);
	alias_of(a->net, alias, sizeof(alias));
	r = vnet_link_msg_set(b, &l, VNET_SET_ALIAS | VNET_SET_MASTER, w->bridge_index, alias) ?:
		    no_ipv6_ll(b, a->host)						       ?:
		    vnet_link_msg_set(b, &l, VNET_SET_UP, 0, NULL);
	if (r >= 0 && (a->hairpin || a->isolated)) {
		int h = vnet_opt_find(po, "hairpin"), iso = vnet_opt_find(po, "isolated");

		l.port.has = (a->hairpin ? 1U << h : 0) | (a->isolated ? 1U << iso : 0);
		l.port.v[h] = l.port.v[iso] = 1;
		r = vnet_link_msg_port(b, &l);
	}
	/* localhost:PORT reaches a published port: 127.0.0.1 may be routed to the bridge */
	if (r >= 0 && a->n_ports)
		r = devconf_msg(b, a->bridge, IPV4_DEVCONF_ROUTE_LOCALNET);
	return r;
}

/*
 * The pair and its host end, in one batch on the host's socket: a process killed at any
 * moment leaves either nothing or a host end that wears the network's tag (a signal is not
 * taken inside one sendmsg), so DEL can tell it from a stranger's link of the same name.
 */
static int pair_make(struct work *w)
{
	struct vnet_attach *a = w->a;
	struct vnet_link l = { .kind = &vnet_kind_veth };
	struct vnet_nl_result res[8] = { 0 };
	struct vnet_batch b;
	int r;

	snprintf(l.name, sizeof(l.name), "%s", a->host);
	snprintf(l.peer, sizeof(l.peer), "%s", a->ifname);
	l.mtu = a->mtu;
	l.has = a->mtu ? VNET_LINK_HAS_MTU : 0;
	vnet_batch_init(&b);
	/* the container's end goes to its namespace at creation (the veth kind's peer data) */
	r = vnet_link_msg_add(&b, &l, 0, w->cont_fd) ?: host_msgs(&b, w);
	if (r >= 0)
		r = vnet_nl_send(w->host, &b, res);
	w->made_pair = r >= 0 && res[0].err == 0;
	for (unsigned k = 0; r >= 0 && k < b.n; k++)
		if (res[k].err < 0) {
			r = res[k].err;
			vnet_error_set(w->err, r, k ? a->host : a->ifname,
				       k ? "put on the bridge" : "make the veth pair", "%s%s%s",
				       r == -EEXIST ? "a link of that name exists already" :
						      strerror(-r),
				       res[k].extack[0] ? ": " : "", res[k].extack);
		}
	vnet_batch_free(&b);
	if (r >= 0) {
		r = vnet_link_get_index(w->cont, a->ifname);
		w->cont_index = r;
	}
	return r < 0 && !w->err->msg[0] ?
		       vnet_error_set(w->err, r, a->ifname, "make", "%s", strerror(-r)) :
	       r < 0 ? r :
		       0;
}

/* The container's end: its MTU and MAC, up, its addresses and routes; the MACs read back. */
static int container_l3(struct work *w)
{
	struct vnet_attach *a = w->a;
	struct vnet_link l = { .up = true };
	struct link_info li;
	struct vnet_batch b;
	int r;

	snprintf(l.name, sizeof(l.name), "%s", a->ifname);
	l.mtu = a->mtu;
	memcpy(l.mac, a->mac, 6);
	vnet_batch_init(&b);
	/* its MTU and MAC while it is down; as the reference: a gratuitous ARP when it is up */
	r = (a->mtu || a->has_mac) ?
		    vnet_link_msg_set(&b, &l,
				      (a->mtu ? VNET_SET_MTU : 0) | (a->has_mac ? VNET_SET_MAC : 0),
				      0, NULL) :
		    0;
	r = r								?:
		    devconf_msg(&b, a->ifname, IPV4_DEVCONF_ARP_NOTIFY) ?:
		    vnet_link_msg_set(&b, &l, VNET_SET_UP, 0, NULL);
	for (unsigned i = 0; r >= 0 && i < a->n_ips; i++) {
		struct vnet_addr ad = { .family = a->ips[i].family,
					.prefixlen = a->ips[i].prefixlen };

		memcpy(ad.addr, a->ips[i].addr, 16);
		r = vnet_addr_msg_dad(&b, RTM_NEWADDR, &ad, w->cont_index, a->dad);
	}
	for (unsigned i = 0; r >= 0 && i < a->n_routes; i++)
		r = vnet_route_msg(&b, RTM_NEWROUTE, &a->routes[i], w->cont_index);
	r = r < 0 ? r : send_checked(w->cont, &b, a->ifname, "configure", w->err);
	vnet_batch_free(&b);
	if (r >= 0 && (r = link_info(w->host, a->host, &li)) >= 0)
		memcpy(a->host_mac, li.mac, 6);
	if (r >= 0 && (r = link_info(w->cont, a->ifname, &li)) >= 0)
		memcpy(a->mac, li.mac, 6);
	return r < 0 && !w->err->msg[0] ?
		       vnet_error_set(w->err, r, a->ifname, "read", "%s", strerror(-r)) :
		       r;
}

/* Send one address message of @a on the bridge; Return: the kernel's answer. */
static int bridge_addr(struct work *w, uint16_t type, int family, const uint8_t *addr,
		       uint8_t prefixlen)
{
	struct vnet_addr ad = { .family = family, .prefixlen = prefixlen };
	struct vnet_nl_result res = { 0 };
	struct vnet_batch b;
	int r;

	memcpy(ad.addr, addr, family == AF_INET ? 4 : 16);
	vnet_batch_init(&b);
	r = vnet_addr_msg(&b, type, &ad, w->bridge_index);
	if (r >= 0)
		r = vnet_nl_send(w->host, &b, &res);
	vnet_batch_free(&b);
	return r < 0 ? r : res.err;
}

/*
 * @ip's gateway on the bridge. Present already (the common case) costs one message; put
 * there now, the bridge's other addresses are read: another IPv4 one (an overlapping IPv6
 * one) stays only without forceAddress, and the gateway is taken back then, with an error.
 */
static int gateway_addr(struct work *w, const struct vnet_attach_ip *ip)
{
	struct addr_list have = { .index = w->bridge_index };
	struct vnet_attach_ip gw = *ip;
	int r = bridge_addr(w, RTM_NEWADDR, ip->family, ip->gw, ip->prefixlen);

	memcpy(gw.addr, ip->gw, 16);
	if (r < 0) /* -EEXIST: there already */
		return r == -EEXIST ? 0 : r;
	r = vnet_nl_dump(w->host, RTM_GETADDR, (uint8_t)ip->family, addr_cb, &have);
	for (unsigned i = 0; r >= 0 && i < have.n; i++) {
		const struct vnet_attach_ip *o = &have.v[i];
		char t[INET6_ADDRSTRLEN];

		if (same_ip(o, &gw) ||
		    (gw.family == AF_INET6 &&
		     !prefix_overlap(o->addr, o->prefixlen, gw.addr, gw.prefixlen, 16)))
			continue;
		if (w->a->force_addr) {
			r = bridge_addr(w, RTM_DELADDR, o->family, o->addr, o->prefixlen);
			continue;
		}
		bridge_addr(w, RTM_DELADDR, gw.family, gw.addr, gw.prefixlen);
		return vnet_error_set(w->err, -EEXIST, w->a->bridge, "put the gateway on",
				      "%s has the address %s/%u already, not the gateway's;"
				      " forceAddress replaces it",
				      w->a->bridge, inet_ntop(o->family, o->addr, t, sizeof(t)),
				      o->prefixlen);
	}
	return r;
}

/* With isGateway: every gateway on the bridge, forwarding on for its family. */
static int gateways(struct work *w)
{
	int r = 0;

	if (!w->a->gateway)
		return 0;
	for (unsigned i = 0; r >= 0 && i < w->a->n_ips; i++)
		if (w->a->ips[i].has_gw && (r = gateway_addr(w, &w->a->ips[i])) < 0 &&
		    !w->err->msg[0])
			vnet_error_set(w->err, r, w->a->bridge, "put the gateway on", "%s",
				       strerror(-r));
	for (unsigned i = 0; r >= 0 && i < w->a->n_ips; i++)
		if (w->a->ips[i].has_gw && (r = forward_on(w->a->ips[i].family)) < 0)
			vnet_error_set(w->err, r, "forwarding", "turn on", "%s", strerror(-r));
	return r < 0 && !w->err->msg[0] ?
		       vnet_error_set(w->err, r, w->a->bridge, "read", "%s", strerror(-r)) :
		       r;
}

/* The first IPv4 address of @a, or NULL. */
static const struct vnet_attach_ip *first_v4(const struct vnet_attach *a)
{
	for (unsigned i = 0; i < a->n_ips; i++)
		if (a->ips[i].family == AF_INET)
			return &a->ips[i];
	return NULL;
}

/* The network's elements (bridge, subnet, masquerade), from @a's first IPv4 address. */
static int network_elems(const struct vnet_attach *a, struct vnet_strv *ret)
{
	const struct vnet_attach_ip *ip = first_v4(a);
	struct vnet_network n = { .masquerade = a->masq };

	if (!ip)
		return 0;
	snprintf(n.name, sizeof(n.name), "%s", a->bridge);
	n.prefixlen = ip->prefixlen;
	vnet_ip4_put(vnet_ip4(ip->addr) & vnet_ip4_mask(ip->prefixlen), n.subnet);
	/* connections from localhost to a published port are masqueraded like a network's */
	return vnet_nat_network_elems(&n, ret) ?: vnet_strv_add(ret, "nets 127.0.0.0/8");
}

/* Are all of @elems in the network's record? Then they were added before. */
static bool network_has(struct vnet_state *st, const char *net, const struct vnet_strv *elems)
{
	sqlite3_stmt *s = vnet_state_cached(st, "SELECT elems FROM cni_network WHERE net = ?1");
	bool all = s != NULL;

	if (!s)
		return false;
	sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
	all = sqlite3_step(s) == SQLITE_ROW;
	for (size_t i = 0; all && i < elems->n; i++) {
		const char *have = (const char *)sqlite3_column_text(s, 0), *at;
		size_t n = strlen(elems->v[i]);

		for (at = have ? strstr(have, elems->v[i]) : NULL; at && at[n] != '\n';
		     at = strstr(at + 1, elems->v[i]))
			;
		all = at && (at == have || at[-1] == '\n');
	}
	sqlite3_reset(s);
	return all;
}

/*
 * The ports' elements in the table, and the network's unless the network's record has them
 * (an interval set's element costs nft a read of the whole set); one transaction. A table
 * that is gone is made anew with both.
 */
static int elements_add(struct work *w, struct vnet_state *st, struct vnet_strv *net_elems)
{
	struct vnet_attach *a = w->a;
	const struct vnet_attach_ip *ip = first_v4(a);
	struct vnet_strv add = { 0 };
	int r = network_elems(a, net_elems);
	bool known = r >= 0 && network_has(st, a->net, net_elems);

	for (size_t i = 0; r >= 0 && !known && i < net_elems->n; i++)
		r = vnet_strv_add(&add, "%s", net_elems->v[i]);
	for (unsigned i = 0; r >= 0 && ip && i < a->n_ports; i++)
		r = vnet_nat_port_elem(&a->ports[i], &add);
	if (r >= 0 && a->n_ports && !ip)
		r = vnet_error_set(w->err, -EINVAL, "portMappings", "publish",
				   "the container has no IPv4 address to publish ports to");
	/* the network's elements known: the ports alone, said to the kernel directly; a table
	 * that is gone is made anew through nft */
	if (r >= 0 && known && a->n_ports &&
	    vnet_nat_ports_raw(true, VNET_ATTACH_TABLE, a->ports, a->n_ports) == 0)
		vnet_strv_free(&add);
	if (r >= 0 && add.n) {
		struct vnet_strv none = { 0 };

		r = vnet_nat_elements(VNET_ATTACH_TABLE, VNET_ATTACH_TAG, &add, &none, net_elems,
				      w->err);
	}
	vnet_strv_free(&add);
	return r;
}

/* ---- macspoofchk: table bridge vnet-cni, an element pair per attachment ---- */

static const char spoof_skeleton[] =
	"create table bridge " VNET_ATTACH_TABLE " { comment \"" VNET_ATTACH_TAG "\"; }\n"
	"table bridge " VNET_ATTACH_TABLE " {\n"
	"\tset guarded {\n\t\ttype ifname\n\t}\n\n"
	"\tset macs {\n\t\ttype ifname . ether_addr\n\t}\n\n"
	"\tchain prerouting {\n"
	"\t\ttype filter hook prerouting priority -300; policy accept;\n"
	"\t\tiifname @guarded iifname . ether saddr != @macs drop\n"
	"\t}\n"
	"}\n";

/* "VERB element ..." for the host end @host whose container end has @mac; @which: 1 the
 * guarded port, 2 its MAC, 3 both. */
static void spoof_script(char *buf, size_t len, const char *verb, const char *host, const char *mac,
			 int which)
{
	int n = 0;

	if (which & 1)
		n = snprintf(buf, len, "%s element bridge %s guarded { \"%s\" }\n", verb,
			     VNET_ATTACH_TABLE, host);
	if (which & 2)
		snprintf(buf + n, len - (size_t)n, "%s element bridge %s macs { \"%s\" . %s }\n",
			 verb, VNET_ATTACH_TABLE, host, mac);
}

static int spoof_add(struct work *w)
{
	char mac[18], cmd[sizeof(spoof_skeleton) + 256], err[256];
	size_t n = sizeof(spoof_skeleton) - 1;
	int r;

	if (!w->a->spoof)
		return 0;
	vnet_mac_format(w->a->mac, mac, sizeof(mac));
	memcpy(cmd, spoof_skeleton, n + 1);
	spoof_script(cmd + n, sizeof(cmd) - n, "add", w->a->host, mac, 3);
	r = vnet_nft_script(cmd + n, NULL, err, sizeof(err));
	if (r < 0) /* no table yet; or another process made it meanwhile: once more */
		r = vnet_nft_script(cmd, NULL, err, sizeof(err)) < 0 ?
			    vnet_nft_script(cmd + n, NULL, err, sizeof(err)) :
			    0;
	return r < 0 ? vnet_error_set(w->err, r, "macspoofchk", "guard", "table bridge %s: %s",
				      VNET_ATTACH_TABLE, err) :
		       0;
}

/* The pair of elements, each alone when both fail (one is gone already). */
static void spoof_del(const char *host, const char *mac)
{
	char cmd[512], err[256];

	spoof_script(cmd, sizeof(cmd), "delete", host, mac, 3);
	if (vnet_nft_script(cmd, NULL, err, sizeof(err)) == 0)
		return;
	for (int which = 1; which <= 2; which++) {
		spoof_script(cmd, sizeof(cmd), "delete", host, mac, which);
		vnet_nft_script(cmd, NULL, err, sizeof(err));
	}
}

/* Remove link @name when it wears network @net's tag; Return: 1 removed, 0 not there or
 * not the network's (a stranger's of that name is left alone), or -errno. With
 * @only_empty, a link that is a master of ports stays too (0). */
static int tagged_del(struct vnet_nl *nl, const char *net, const char *name, bool only_empty,
		      struct vnet_error *reterr);

/* Is any link a port of the bridge @index? */
struct ports_seen {
	int index;
	bool any;
};

static int port_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ports_seen *ps = data;
	struct link_info li = { 0 };

	info_cb(nlh, &li);
	ps->any |= li.master == ps->index;
	return MNL_CB_OK;
}

/* The bridge of network @net, when it wears the network's tag (vnet-cni made it) and
 * nothing is on it; Return: 1 removed, 0 left, or -errno. */
static int bridge_del(struct vnet_nl *nl, const char *net, const char *bridge,
		      struct vnet_error *reterr)
{
	return tagged_del(nl, net, bridge, true, reterr);
}

/* Undo what an add made: the pair (the ports' elements are added last, all or none), the
 * bridge when this add made it. */
static void add_undo(struct work *w)
{
	struct vnet_batch b;
	char mac[18];

	if (w->made_pair && w->a->spoof)
		spoof_del(w->a->host, vnet_mac_format(w->a->mac, mac, sizeof(mac)));

	vnet_batch_init(&b);
	if (w->made_pair)
		vnet_link_msg_del(&b, w->a->host);
	if (b.n)
		send_checked(w->host, &b, w->a->host, "undo", NULL);
	vnet_batch_free(&b);
	/* the bridge this made, unless another ADD has put a port on it meanwhile */
	if (w->made_bridge && w->lock >= 0 && lock_as(w->lock, LOCK_EX) == 0) {
		bridge_del(w->host, w->a->net, w->a->bridge, NULL);
		lock_as(w->lock, LOCK_SH);
	}
}

/* A name for the host end: "veth" and 8 random hex digits, as the reference plugin's. */
static int host_name(struct vnet_attach *a)
{
	uint32_t x;

	if (getrandom(&x, sizeof(x), 0) != sizeof(x))
		return -errno;
	snprintf(a->host, sizeof(a->host), "veth%08x", x);
	return 0;
}

static int add_kernel(struct work *w, struct vnet_state *st, struct vnet_strv *net_elems)
{
	int r = vnet_nl_open_current(&w->host);

	if (r < 0)
		return vnet_error_set(w->err, r, "netlink", "open", "%s", strerror(-r));
	r = bridge_ready(w);
	if (r >= 0)
		r = pair_make(w);
	if (r >= 0)
		r = container_l3(w);
	if (r >= 0)
		r = spoof_add(w);
	if (r >= 0)
		r = gateways(w);
	if (r >= 0)
		r = elements_add(w, st, net_elems);
	if (r < 0)
		add_undo(w);
	return r;
}

int vnet_attach_add(struct vnet_state *st, struct vnet_attach *a, struct vnet_error *reterr)
{
	struct vnet_error e = { 0 };
	struct work w = { .a = a, .cont_fd = -1, .lock = a->lock, .err = reterr ? reterr : &e };
	const struct vnet_attach_ip *ip = first_v4(a);
	struct vnet_strv net_elems = { 0 };
	int r = container_open(&w);

	for (unsigned i = 0; ip && i < a->n_ports; i++)
		memcpy(a->ports[i].addr, ip->addr, 4);
	/* a guarded container's MAC is chosen here, so that its record names it from the start */
	if (a->spoof && !a->has_mac)
		a->has_mac = vnet_random_mac(a->mac) == 0;

	/* a record of this key is one an interrupted add or a lost del left: removed first */
	if (r >= 0)
		r = vnet_attach_del(st, a->net, a->cid, a->ifname, w.err);
	if (r >= 0)
		r = host_name(a);
	if (r >= 0)
		r = record_put(st, a, w.err);
	if (r >= 0) {
		r = add_kernel(&w, st, &net_elems);
		if (r < 0)
			record_drop(st, a->net, a->cid, a->ifname);
		else if ((r = record_ready(st, a, &net_elems, w.err)) < 0)
			vnet_attach_del(st, a->net, a->cid, a->ifname, NULL);
	}
	vnet_strv_free(&net_elems);
	vnet_nl_close(w.host);
	vnet_nl_close(w.cont);
	if (w.cont_fd >= 0)
		close(w.cont_fd);
	return r;
}

/* ---- removing it ---- */

/* A record, as del and check read it. */
struct record {
	char netns[256], bridge[VNET_IFNAMSIZ], host[VNET_IFNAMSIZ], mac[18];
	bool ready, spoof;
	struct vnet_strv ports; /* their elements */
	struct vnet_port keys[VNET_ATTACH_PORTS]; /* the same ports: protocol, host address, port */
	unsigned n_keys;
};

/* A port's key, from its row (elem, proto, host_addr, host_port). */
static int key_of(sqlite3_stmt *s, struct record *rec)
{
	struct vnet_port *p = &rec->keys[rec->n_keys];
	const char *h = (const char *)sqlite3_column_text(s, 2);

	if (rec->n_keys == VNET_ATTACH_PORTS)
		return 0;
	memset(p, 0, sizeof(*p));
	p->proto = strcmp((const char *)sqlite3_column_text(s, 1) ?: "", "udp") ? IPPROTO_TCP :
										  IPPROTO_UDP;
	p->has_host_addr = h && h[0] && inet_pton(AF_INET, h, p->host_addr) == 1;
	p->host_port = (uint16_t)sqlite3_column_int(s, 3);
	rec->n_keys++;
	return 0;
}

static int record_get(struct vnet_state *st, const char *net, const char *cid, const char *ifname,
		      struct record *ret)
{
	static const char sql[] =
		"SELECT netns, bridge, host, mac, ready, spoof FROM cni_attachment"
		" WHERE net = ?1 AND cid = ?2 AND ifname = ?3";
	static const char sql_ports[] = "SELECT elem, proto, host_addr, host_port FROM cni_port"
					" WHERE net = ?1 AND cid = ?2 AND ifname = ?3";
	sqlite3_stmt *s = vnet_state_cached(st, sql);
	int rc, r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!s)
		return -ENOMEM;
	bind_key(s, net, cid, ifname);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(ret->netns, sizeof(ret->netns), "%s", sqlite3_column_text(s, 0));
		snprintf(ret->bridge, sizeof(ret->bridge), "%s", sqlite3_column_text(s, 1));
		snprintf(ret->host, sizeof(ret->host), "%s", sqlite3_column_text(s, 2));
		snprintf(ret->mac, sizeof(ret->mac), "%s", sqlite3_column_text(s, 3));
		ret->ready = sqlite3_column_int(s, 4);
		ret->spoof = sqlite3_column_int(s, 5);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : vnet_state_errno(rc);
	s = vnet_state_cached(st, sql_ports);
	if (!s)
		return -ENOMEM;
	bind_key(s, net, cid, ifname);
	while (r >= 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		r = vnet_strv_add(&ret->ports, "%s", sqlite3_column_text(s, 0)) ?: key_of(s, ret);
	sqlite3_reset(s);
	if (r >= 0 && rc != SQLITE_DONE)
		r = vnet_state_errno(rc);
	if (r < 0)
		vnet_strv_free(&ret->ports);
	return r;
}

static int tagged_del(struct vnet_nl *nl, const char *net, const char *name, bool only_empty,
		      struct vnet_error *reterr)
{
	struct ports_seen ps = { 0 };
	struct link_info li;
	struct vnet_batch b;
	char alias[300];
	int r = link_info(nl, name, &li);

	alias_of(net, alias, sizeof(alias));
	if (r == -ENODEV || (r == 0 && strcmp(li.alias, alias)))
		return 0;
	ps.index = li.index;
	if (r >= 0 && only_empty)
		r = vnet_nl_dump(nl, RTM_GETLINK, AF_UNSPEC, port_cb, &ps);
	if (r < 0 || ps.any)
		return r < 0 ? vnet_error_set(reterr, r, name, "read", "%s", strerror(-r)) : 0;
	vnet_batch_init(&b);
	r = vnet_link_msg_del(&b, name) ?: send_checked(nl, &b, name, "remove", reterr);
	vnet_batch_free(&b);
	return r == -ENODEV ? 0 : r < 0 ? r : 1;
}

/* The host end, when it is still the network's (its alias says so). */
static int host_del(struct vnet_nl *nl, const char *net, const char *host,
		    struct vnet_error *reterr)
{
	int r = tagged_del(nl, net, host, false, reterr);

	return r < 0 ? r : 0;
}

int vnet_attach_del(struct vnet_state *st, const char *net, const char *cid, const char *ifname,
		    struct vnet_error *reterr)
{
	struct vnet_nl *nl = NULL;
	struct vnet_strv none = { 0 };
	struct record rec;
	int r = record_get(st, net, cid, ifname, &rec);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return vnet_error_set(reterr, r, "state store", "read", "%s", strerror(-r));
	/* the elements first: the kernel destroys them while the pair goes */
	vnet_nft_defer(true);
	/* each element alone, through nft, when one of them is gone already */
	if (rec.n_keys && vnet_nat_ports_raw(false, VNET_ATTACH_TABLE, rec.keys, rec.n_keys) < 0)
		r = vnet_nat_elements(VNET_ATTACH_TABLE, VNET_ATTACH_TAG, &none, &rec.ports, NULL,
				      reterr);
	if (r >= 0 && (r = vnet_nl_open_current(&nl)) < 0)
		vnet_error_set(reterr, r, "netlink", "open", "%s", strerror(-r));
	if (r >= 0 && rec.spoof)
		spoof_del(rec.host, rec.mac);
	if (r >= 0)
		r = host_del(nl, net, rec.host, reterr);
	vnet_nft_defer(false);
	if (r >= 0 && (r = record_drop(st, net, cid, ifname)) < 0)
		vnet_error_set(reterr, r, "state store", "forget the attachment", "%s",
			       strerror(-r));
	vnet_strv_free(&rec.ports);
	vnet_nl_close(nl);
	return r;
}

/* ---- checking it ---- */

struct route_list {
	int index;
	const struct vnet_route *want;
	bool found;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_list *l = data;
	const struct vnet_route *w = l->want;
	size_t len = w->family == AF_INET ? 4 : 16;
	const struct nlattr *attr;
	bool dst = !w->dst_len, gw = !w->has_gw, oif = false;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != w->family ||
	    rtm->rtm_dst_len != w->dst_len || rtm->rtm_table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		const void *p = mnl_attr_get_payload(attr);
		uint16_t t = mnl_attr_get_type(attr), n = mnl_attr_get_payload_len(attr);

		if (t == RTA_DST && n == len)
			dst = !memcmp(p, w->dst, len);
		else if (t == RTA_GATEWAY && n == len)
			gw = w->has_gw && !memcmp(p, w->gw, len);
		else if (t == RTA_OIF && n == 4)
			oif = *(const uint32_t *)p == (uint32_t)l->index;
	}
	l->found |= dst && gw && oif;
	return MNL_CB_OK;
}

/* The container's side: its interface, MAC, addresses and routes. */
static int check_container(struct work *w, const struct record *rec)
{
	const struct vnet_attach *a = w->a;
	struct addr_list have = { 0 };
	struct link_info li;
	char mac[18];
	int r = link_info(w->cont, a->ifname, &li);

	if (r < 0)
		return vnet_error_set(w->err, -EBADF, a->ifname, "check",
				      "the container has no interface %s", a->ifname);
	if (strcmp(vnet_mac_format(li.mac, mac, sizeof(mac)), rec->mac))
		return vnet_error_set(w->err, -EBADF, a->ifname, "check", "its MAC is %s, not %s",
				      mac, rec->mac);
	have.index = li.index;
	r = vnet_nl_dump(w->cont, RTM_GETADDR, AF_UNSPEC, addr_cb, &have);
	for (unsigned i = 0; r >= 0 && i < a->n_ips; i++) {
		char t[INET6_ADDRSTRLEN];

		if (!has_ip(&have, &a->ips[i]))
			return vnet_error_set(
				w->err, -EBADF, a->ifname, "check", "the address %s/%u is missing",
				inet_ntop(a->ips[i].family, a->ips[i].addr, t, sizeof(t)),
				a->ips[i].prefixlen);
	}
	for (unsigned i = 0; r >= 0 && i < a->n_routes; i++) {
		struct route_list rl = { .index = li.index, .want = &a->routes[i] };
		char t[INET6_ADDRSTRLEN];

		r = vnet_nl_dump(w->cont, RTM_GETROUTE, (uint8_t)a->routes[i].family, route_cb,
				 &rl);
		if (r >= 0 && !rl.found)
			return vnet_error_set(
				w->err, -EBADF, a->ifname, "check", "the route to %s/%u is missing",
				inet_ntop(a->routes[i].family, a->routes[i].dst, t, sizeof(t)),
				a->routes[i].dst_len);
	}
	return r < 0 ? vnet_error_set(w->err, r, a->ifname, "read", "%s", strerror(-r)) : 0;
}

/* The host's side: the host end on the bridge, the ports' elements in the table. */
static int check_host(struct work *w, const struct record *rec)
{
	const struct vnet_attach *a = w->a;
	struct link_info li, br;
	char *out = NULL, err[256];
	int r = link_info(w->host, rec->host, &li);

	if (r < 0 || link_info(w->host, rec->bridge, &br) < 0 || li.master != br.index)
		return vnet_error_set(w->err, -EBADF, rec->host, "check", "the host end %s is %s",
				      rec->host, r < 0 ? "missing" : "not a port of the bridge");
	for (size_t i = 0; i < rec->ports.n; i++) {
		const char *e = rec->ports.v[i];
		size_t sl = strcspn(e, " "), kl = strcspn(e, ":");
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "get element ip %s %.*s { %.*s }", VNET_ATTACH_TABLE,
			 (int)sl, e, (int)(kl - sl - 1), e + sl + 1);
		r = vnet_nft_script(cmd, &out, err, sizeof(err));
		if (r < 0 || !strstr(out, e + sl + 1)) {
			free(out);
			return vnet_error_set(w->err, -EBADF, a->net, "check",
					      "the published port %s is missing from table ip %s",
					      e + sl + 1, VNET_ATTACH_TABLE);
		}
		free(out);
		out = NULL;
	}
	return 0;
}

int vnet_attach_check(struct vnet_state *st, const struct vnet_attach *a, struct vnet_error *reterr)
{
	struct vnet_error e = { 0 };
	struct work w = { .a = (struct vnet_attach *)a,
			  .cont_fd = -1,
			  .err = reterr ? reterr : &e };
	struct record rec;
	int r = record_get(st, a->net, a->cid, a->ifname, &rec), saved = -1;

	if (r < 0 || !rec.ready) {
		vnet_strv_free(&rec.ports);
		return vnet_error_set(w.err, r < 0 ? r : -ENOENT, a->net, "check",
				      "vnet has no record of container %s (interface %s)", a->cid,
				      a->ifname);
	}
	w.cont_fd = open(a->netns, O_RDONLY | O_CLOEXEC);
	r = w.cont_fd < 0 ? -errno : vnet_netns_enter(w.cont_fd, &saved);
	if (r >= 0) {
		r = vnet_nl_open_current(&w.cont);
		vnet_netns_leave(saved);
	}
	if (r < 0)
		vnet_error_set(w.err, r, a->netns, "open", "%s", strerror(-r));
	if (r >= 0 && (r = vnet_nl_open_current(&w.host)) < 0)
		vnet_error_set(w.err, r, "netlink", "open", "%s", strerror(-r));
	if (r >= 0)
		r = check_container(&w, &rec);
	if (r >= 0)
		r = check_host(&w, &rec);
	vnet_strv_free(&rec.ports);
	vnet_nl_close(w.host);
	vnet_nl_close(w.cont);
	if (w.cont_fd >= 0)
		close(w.cont_fd);
	return r;
}

/* ---- garbage collection, status ---- */

static bool key_valid(const struct vnet_attach_key *valid, size_t n, const char *cid,
		      const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(valid[i].cid, cid) && !strcmp(valid[i].ifname, ifname))
			return true;
	return false;
}

/* Every attachment of @net, as "CID\nIFNAME" strings. */
static int net_keys(struct vnet_state *st, const char *net, struct vnet_strv *ret)
{
	sqlite3_stmt *s = vnet_state_cached(st, "SELECT cid, ifname FROM cni_attachment"
						" WHERE net = ?1");
	int rc, r = 0;

	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
	while (r >= 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		r = vnet_strv_add(ret, "%s\n%s", sqlite3_column_text(s, 0),
				  sqlite3_column_text(s, 1));
	sqlite3_reset(s);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : vnet_state_errno(rc);
}

/* Does another network's record have element @elem too (localhost's "nets 127.0.0.0/8")? */
static bool elem_shared(struct vnet_state *st, const char *net, const char *elem)
{
	sqlite3_stmt *s = vnet_state_cached(st, "SELECT 1 FROM cni_network WHERE net != ?1"
						" AND instr(elems, ?2 || char(10))");
	bool shared;

	if (!s)
		return true;
	sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, elem, -1, SQLITE_STATIC);
	shared = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return shared;
}

/* The network without attachments: its elements, its bridge if vnet made it and nothing
 * else is on it, its record; the table when no network is left. */
static int network_drop(struct vnet_state *st, const char *net, struct vnet_error *reterr)
{
	sqlite3_stmt *s = vnet_state_cached(st, "SELECT bridge, made, elems FROM cni_network"
						" WHERE net = ?1");
	struct vnet_strv del = { 0 }, none = { 0 };
	char bridge[VNET_IFNAMSIZ] = "";
	struct vnet_nl *nl = NULL;
	bool made = false;
	int rc, r = 0;

	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		char *e = strdup((const char *)sqlite3_column_text(s, 2) ?: ""), *save = NULL;

		snprintf(bridge, sizeof(bridge), "%s", sqlite3_column_text(s, 0));
		made = sqlite3_column_int(s, 1);
		for (char *t = strtok_r(e, "\n", &save); t && r >= 0;
		     t = strtok_r(NULL, "\n", &save))
			if (!elem_shared(st, net, t))
				r = vnet_strv_add(&del, "%s", t);
		r = e ? r : -ENOMEM;
		free(e);
	}
	sqlite3_reset(s);
	if (r >= 0 && del.n)
		r = vnet_nat_elements(VNET_ATTACH_TABLE, VNET_ATTACH_TAG, &none, &del, NULL,
				      reterr);
	vnet_strv_free(&del);
	if (r >= 0 && made && (r = vnet_nl_open_current(&nl)) >= 0)
		r = bridge_del(nl, net, bridge, reterr);
	vnet_nl_close(nl);
	s = vnet_state_cached(st, "DELETE FROM cni_network WHERE net = ?1");
	if (r >= 0 && s) {
		sqlite3_bind_text(s, 1, net, -1, SQLITE_STATIC);
		r = step_done(s);
	}
	return r;
}

/* No network left: the table goes too. */
static int table_drop(struct vnet_state *st)
{
	sqlite3_stmt *s = vnet_state_cached(st, "SELECT count(*) FROM cni_network");
	char err[256];
	int n = 1;

	if (s && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	if (s)
		sqlite3_reset(s);
	if (n)
		return 0;
	vnet_nft_script("delete table ip " VNET_ATTACH_TABLE, NULL, err, sizeof(err));
	vnet_nft_script("delete table bridge " VNET_ATTACH_TABLE, NULL, err, sizeof(err));
	return 0;
}

int vnet_attach_gc(struct vnet_state *st, const char *net, const struct vnet_attach_key *valid,
		   size_t n, int (*removed)(void *arg, const char *cid, const char *ifname),
		   void *arg, struct vnet_error *reterr)
{
	struct vnet_strv keys = { 0 };
	int r = net_keys(st, net, &keys), first = 0;
	size_t left = 0;

	for (size_t i = 0; r >= 0 && i < keys.n; i++) {
		char *cid = keys.v[i], *ifname = strchr(cid, '\n');
		int q;

		*ifname++ = '\0';
		if (key_valid(valid, n, cid, ifname)) {
			left++;
			continue;
		}
		q = vnet_attach_del(st, net, cid, ifname, first ? NULL : reterr);
		if (q >= 0)
			q = removed(arg, cid, ifname);
		first = first ?: q;
		left += q < 0;
	}
	if (r >= 0 && !left)
		r = network_drop(st, net, first ? NULL : reterr);
	if (r >= 0 && !left)
		r = table_drop(st);
	vnet_strv_free(&keys);
	return first ?: r;
}

int vnet_attach_status(struct vnet_state *st, struct vnet_error *reterr)
{
	sqlite3_stmt *s = vnet_state_cached(st, "SELECT count(*) FROM cni_attachment");
	int rc = s ? sqlite3_step(s) : SQLITE_NOMEM;
	char err[256];
	int r;

	if (s)
		sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return vnet_error_set(reterr, vnet_state_errno(rc), "state store", "read", "%s",
				      sqlite3_errstr(rc));
	r = vnet_nft_script("list tables", NULL, err, sizeof(err));
	return r < 0 ? vnet_error_set(reterr, r, "nftables", "list tables", "%s", err) : 0;
}

/* ---- the view: vnet list and vnet show ---- */

/* "tcp_any 8080 : 10.0.0.2 . 80" as "tcp 8080->80"; "tcp_at 1.2.3.4 . 8080 : ..." as
 * "tcp 1.2.3.4:8080->80". */
static void port_words(const char *elem, char *buf, size_t len)
{
	const char *to = strstr(elem, " : "), *cport = to ? strrchr(to, ' ') : NULL;
	const char *key = strchr(elem, ' ');
	size_t kl = key && to ? (size_t)(to - key - 1) : 0;
	char k[64];

	snprintf(k, sizeof(k), "%.*s", (int)kl, key ? key + 1 : "");
	for (char *dot = strstr(k, " . "); dot; dot = strstr(k, " . ")) {
		*dot = ':';
		memmove(dot + 1, dot + 3, strlen(dot + 3) + 1);
	}
	snprintf(buf, len, "%.3s %s->%s", elem, k, cport ? cport + 1 : "?");
}

static void ports_of(struct vnet_state *st, struct vnet_cni_attachment *c)
{
	struct record rec;
	size_t n = 0;

	if (record_get(st, c->net, c->cid, c->ifname, &rec) < 0)
		return;
	for (size_t i = 0; i < rec.ports.n && n < sizeof(c->ports); i++) {
		char w[96];

		port_words(rec.ports.v[i], w, sizeof(w));
		n += (size_t)snprintf(c->ports + n, sizeof(c->ports) - n, "%s%s", i ? ", " : "", w);
	}
	vnet_strv_free(&rec.ports);
}

static void row_of(sqlite3_stmt *s, struct vnet_cni_attachment *c)
{
	char *const f[] = { c->net,  c->cid, c->ifname, c->netns, c->bridge,
			    c->host, c->mac, c->addrs,	c->ipam };
	const size_t size[] = { sizeof(c->net),	  sizeof(c->cid),    sizeof(c->ifname),
				sizeof(c->netns), sizeof(c->bridge), sizeof(c->host),
				sizeof(c->mac),	  sizeof(c->addrs),  sizeof(c->ipam) };

	for (int i = 0; i < 9; i++)
		snprintf(f[i], size[i], "%s", (const char *)sqlite3_column_text(s, i) ?: "");
	c->ready = sqlite3_column_int(s, 9);
	c->at = sqlite3_column_int64(s, 10);
}

/* Is the host end there, on the bridge? */
static void presence(struct vnet_nl *nl, struct vnet_cni_attachment *c)
{
	struct link_info li, br;

	c->present = nl && link_info(nl, c->host, &li) == 0 && link_info(nl, c->bridge, &br) == 0 &&
		     li.master == br.index;
}

int vnet_cni_list(struct vnet_session *s, const char *net, struct vnet_cni_attachment **ret,
		  size_t *ret_n)
{
	sqlite3_stmt *q = vnet_state_prepare(
		s->st,
		"SELECT net, cid, ifname, netns, bridge, host, mac, addrs, ipam, ready, at"
		" FROM cni_attachment WHERE ?1 IS NULL OR net = ?1 ORDER BY net, cid, ifname");
	VNET_ARRAY(struct vnet_cni_attachment) v = { 0 };
	struct vnet_nl *nl = NULL;
	int rc, r = 0;

	if (!q)
		return -ENOMEM;
	vnet_nl_open_current(&nl);
	sqlite3_bind_text(q, 1, net, -1, SQLITE_STATIC);
	while (r >= 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct vnet_cni_attachment *c = VNET_ARRAY_PUSH(&v);

		if (!c) {
			r = -ENOMEM;
			break;
		}
		memset(c, 0, sizeof(*c));
		row_of(q, c);
		presence(nl, c);
	}
	sqlite3_finalize(q);
	for (size_t i = 0; r >= 0 && i < v.n; i++)
		ports_of(s->st, &v.v[i]);
	vnet_nl_close(nl);
	if (r >= 0 && rc != SQLITE_DONE)
		r = vnet_state_errno(rc);
	if (r < 0) {
		free(v.v);
		return r;
	}
	*ret = v.v;
	*ret_n = v.n;
	return 0;
}
