// SPDX-License-Identifier: LGPL-2.1-or-later
/* describe.c - the words for plan steps and model objects, shared by every printer */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "kind.h"
#include "nat.h"
#include "network.h"
#include "uplink.h"

void vnet_addr_format(int family, const uint8_t *addr, unsigned prefixlen, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, ip, sizeof(ip));
	if (prefixlen == (family == AF_INET ? 32U : 128U) + 1)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, "%s/%u", ip, prefixlen);
}

void vnet_route_format(const struct vnet_route *r, char *buf, size_t len)
{
	char dst[64] = "default", gw[64] = "";
	int n;

	if (r->dst_len || r->family == AF_INET6)
		vnet_addr_format(r->family, r->dst, r->dst_len, dst, sizeof(dst));
	if (!r->dst_len && r->family == AF_INET6)
		snprintf(dst, sizeof(dst), "default6");
	if (r->has_gw)
		vnet_addr_format(r->family, r->gw, r->family == AF_INET ? 33 : 129, gw, sizeof(gw));
	n = snprintf(buf, len, "%s", dst);
	if (r->has_gw && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " via %s", gw);
	if (r->dev[0] && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " dev %s", r->dev);
	/* 1024 is what the kernel makes of an IPv6 route without a metric */
	if (r->metric && !(r->family == AF_INET6 && r->metric == 1024) && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " metric %u", r->metric);
}

static const char *where(const char *ns, char *buf, size_t len)
{
	if (ns[0])
		snprintf(buf, len, " in %s", ns);
	else
		buf[0] = '\0';
	return buf;
}

/* The options a step sets, by the words of their kind's table: "stp true, cost 10". */
static size_t set_options(const struct vnet_op *op, unsigned bit, char *buf, size_t len, bool comma)
{
	const struct vnet_kind *k = bit == VNET_SET_OPTS ? op->link.kind : vnet_kind_master();
	const struct vnet_opts *o = bit == VNET_SET_OPTS ? &op->link.opts : &op->link.port;
	const struct vnet_opts *old = bit == VNET_SET_OPTS ? &op->old.opts : &op->old.port;
	char what[128];

	if (!k || !vnet_opts_describe(k, bit == VNET_SET_OPTS ? &k->opts : &k->port_opts, o,
				      op->old.name[0] ? &op->old : NULL, old, what, sizeof(what)))
		return 0;
	return (size_t)snprintf(buf, len, "%s%s", comma ? ", " : "", what);
}

/* One side of a change of VTEPs: "+192.0.2.2" for each of @a's that @b lacks. */
static size_t vtep_words(const struct vnet_link *a, const struct vnet_link *b, char sign, char *buf,
			 size_t len)
{
	size_t off = 0;

	for (size_t i = 0; i < a->n_vtep && off < len; i++) {
		char dst[INET_ADDRSTRLEN];
		bool in_b = false;

		for (size_t j = 0; j < b->n_vtep && !in_b; j++)
			in_b = !memcmp(&a->vtep[i], &b->vtep[j], sizeof(a->vtep[i]));
		if (in_b)
			continue;
		inet_ntop(AF_INET, a->vtep[i].dst, dst, sizeof(dst));
		off += (size_t)snprintf(buf + off, len - off, " %c%s", sign, dst);
	}
	return off < len ? off : len;
}

/* "VTEPs +192.0.2.2 -192.0.2.3": the remote VTEPs a step adds and removes. */
static size_t set_vteps(const struct vnet_op *op, char *buf, size_t len, bool comma)
{
	size_t off = (size_t)snprintf(buf, len, "%sVTEPs", comma ? ", " : "");

	if (off < len)
		off += vtep_words(&op->link, &op->old, '+', buf + off, len - off);
	if (off < len)
		off += vtep_words(&op->old, &op->link, '-', buf + off, len - off);
	return off < len ? off : len - 1;
}

static void describe_settings(const struct vnet_op *op, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *word;
	} words[] = {
		{ VNET_SET_UP, "up" },
		{ VNET_SET_MTU, "mtu" },
		{ VNET_SET_MAC, "mac" },
		{ VNET_SET_MASTER, "master" },
		{ VNET_SET_ALIAS, "tag" },
		{ VNET_SET_OPTS, "options" },
		{ VNET_SET_PORT, "port options" },
		{ VNET_SET_VTEPS, "VTEPs" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(op->set & words[i].bit) || off >= len)
			continue;
		const char *w = words[i].word;

		if (words[i].bit == VNET_SET_UP && !op->link.up)
			w = "down";
		if (words[i].bit == VNET_SET_MASTER && !op->link.master[0])
			w = "no master";
		if (words[i].bit == VNET_SET_VTEPS) {
			off += set_vteps(op, buf + off, len - off, off > 0);
			continue;
		}
		if (words[i].bit == VNET_SET_OPTS || words[i].bit == VNET_SET_PORT) {
			off += set_options(op, words[i].bit, buf + off, len - off, off > 0);
			continue;
		}
		off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "", w);
		if (words[i].bit == VNET_SET_MASTER && op->link.master[0] && off < len)
			off += snprintf(buf + off, len - off, " %s", op->link.master);
	}
}

/* "take eth0 over into br-wan: 2 addresses, 3 routes, mtu 1500, mac ...; probe ..." */
static void describe_uplink(const struct vnet_op *op, char *buf, size_t len)
{
	const struct vnet_uplink_change *c = op->uplink;
	char in[VNET_NAMSIZ + 4], mac[24], gw[INET_ADDRSTRLEN] = "";
	unsigned addrs, routes;
	uint8_t g[4];
	int n;

	vnet_uplink_counts(&c->saved, &addrs, &routes);
	vnet_mac_format(c->saved.mac, mac, sizeof(mac));
	if (op->set & VNET_UPLINK_GIVE) {
		snprintf(buf, len, "give %s%s back from %s: %u address%s, %u route%s, mtu %u",
			 c->u.nic, where(c->u.ns, in, sizeof(in)), c->u.bridge, addrs,
			 addrs == 1 ? "" : "es", routes, routes == 1 ? "" : "s", c->saved.mtu);
		return;
	}
	n = snprintf(buf, len, "take %s%s over into %s: %u address%s, %u route%s, mtu %u, mac %s",
		     c->u.nic, where(c->u.ns, in, sizeof(in)), c->u.bridge, addrs,
		     addrs == 1 ? "" : "es", routes, routes == 1 ? "" : "s", c->saved.mtu, mac);
	if (vnet_uplink_gateway(&c->saved, g))
		inet_ntop(AF_INET, g, gw, sizeof(gw));
	if (n <= 0 || (size_t)n >= len)
		return;
	if (!gw[0] && !c->u.n_probe)
		snprintf(buf + n, len - (size_t)n, "; no gateway and no target: no probe");
	else if (!c->u.n_probe)
		snprintf(buf + n, len - (size_t)n, "; probe gateway %s within %.1f s", gw,
			 c->u.probe_ms / 1000.0);
	else
		snprintf(buf + n, len - (size_t)n, "; probe %s%s%s%u target%s within %.1f s",
			 gw[0] ? "gateway " : "", gw, gw[0] ? " and " : "", c->u.n_probe,
			 c->u.n_probe == 1 ? "" : "s", c->u.probe_ms / 1000.0);
}

void vnet_op_describe(const struct vnet_op *op, char *buf, size_t len)
{
	char in[VNET_NAMSIZ + 4], in2[VNET_NAMSIZ + 4], what[160], a[80];
	const struct vnet_link *l = &op->link;

	switch (op->kind) {
	case VNET_OP_NS_ADD:
	case VNET_OP_NS_DEL:
		snprintf(buf, len, "%s namespace %s%s%s%s",
			 op->kind == VNET_OP_NS_ADD ? "create" : "delete", op->ns.name,
			 op->ns.node[0] ? " (node " : "", op->ns.node, op->ns.node[0] ? ")" : "");
		break;
	case VNET_OP_LINK_ADD:
		if (vnet_kind_has(l->kind, VNET_KIND_F_PAIR))
			snprintf(buf, len, "create veth %s%s <-> %s%s", l->name,
				 where(l->ns, in, sizeof(in)), l->peer,
				 where(l->peer_ns, in2, sizeof(in2)));
		else if (l->parent[0])
			snprintf(buf, len, "create %s %s%s on %s%s", vnet_kind_name(l->kind),
				 l->name, where(l->ns, in, sizeof(in)), l->parent,
				 where(l->parent_ns, in2, sizeof(in2)));
		else
			snprintf(buf, len, "create %s %s%s", vnet_kind_name(l->kind), l->name,
				 where(l->ns, in, sizeof(in)));
		break;
	case VNET_OP_LINK_DEL:
		snprintf(buf, len, "delete %s %s%s", vnet_kind_name(l->kind), l->name,
			 where(l->ns, in, sizeof(in)));
		break;
	case VNET_OP_LINK_SET:
		describe_settings(op, what, sizeof(what));
		snprintf(buf, len, "set %s%s: %s", l->name, where(l->ns, in, sizeof(in)), what);
		break;
	case VNET_OP_ADDR_ADD:
	case VNET_OP_ADDR_DEL:
		vnet_addr_format(op->addr.family, op->addr.addr, op->addr.prefixlen, a, sizeof(a));
		snprintf(buf, len, "%s address %s %s %s%s",
			 op->kind == VNET_OP_ADDR_ADD ? "add" : "delete", a,
			 op->kind == VNET_OP_ADDR_ADD ? "to" : "from", op->addr.dev,
			 where(op->addr.ns, in, sizeof(in)));
		break;
	case VNET_OP_ROUTE_ADD:
	case VNET_OP_ROUTE_DEL:
		vnet_route_format(&op->route, what, sizeof(what));
		snprintf(buf, len, "%s route %s%s",
			 op->kind == VNET_OP_ROUTE_ADD ? "add" : "delete", what,
			 where(op->route.ns, in, sizeof(in)));
		break;
	case VNET_OP_NAT:
		snprintf(buf, len, "%s%s", op->set & VNET_NAT_UNDO ? "undo: " : "", op->nat->what);
		break;
	case VNET_OP_UPLINK:
		describe_uplink(op, buf, len);
		break;
	}
}

/*
 * Names come from the kernel (which takes "a\x1bb"), the store and files: printed raw they
 * could drive the terminal. Non-ASCII bytes are escaped too, as systemd's cescape() does:
 * one byte is then one column (show's picture counts on it), the same in any locale.
 */
const char *vnet_escape(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = c >= 0x20 && c < 0x7f;

		if (n + (plain ? 1 : 4) >= len)
			break; /* cut at a whole escape */
		if (plain)
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
	}
	if (len)
		buf[n < len ? n : len - 1] = '\0';
	return buf;
}
