// SPDX-License-Identifier: LGPL-2.1-or-later
/* validate.c - cross-object rules of a topology: names, masters, addresses, routes */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "topo.h"

int vnet_topo_verror(struct vnet_error *e, const char *file, struct vnet_pos pos,
		     const char *object, const char *fmt, va_list ap)
{
	char msg[VNET_MSGSIZ];

	if (!e)
		return -EINVAL;
	/* @ap comes from the caller's va_start; clang 14's analyzer cannot see it */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* A topology error is not an errno: err stays 0, the return value says -EINVAL. */
	vnet_error_set(e, 0, object, NULL, "%s", msg);
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = pos.line;
	e->col = pos.line ? pos.col : 0;
	return -EINVAL;
}

int vnet_topo_error(struct vnet_error *e, const char *file, struct vnet_pos pos, const char *object,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnet_topo_verror(e, file, pos, object, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Levenshtein distance with one row of memory; words here are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (lb >= 64 || la >= 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *vnet_topo_suggest(const char *word, const char *const *valid)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, len = strlen(word);

	for (size_t i = 0; valid && valid[i]; i++) {
		size_t d = edit_distance(word, valid[i]);

		if (d < bestd) {
			bestd = d;
			best = valid[i];
		}
	}
	/* Close enough to be a typo: two edits, or a third of the word for long words. */
	if (best && bestd > 0 && (bestd <= 2 || bestd * 3 <= len) && bestd < len)
		return best;
	return NULL;
}

const char *vnet_topo_kind_word(enum vnet_link_kind kind)
{
	/* a file declares veth ends, one at a time */
	return kind == VNET_KIND_VETH ? "veth end" : vnet_kind_name(kind);
}

/* What the checks share: the model, the parser's marks and the error to fill. */
struct vctx {
	const struct vnet_model *m;
	const struct vnet_topo_marks *mk;
	struct vnet_error *err;
};

static int verr(const struct vctx *c, struct vnet_pos pos, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int verr(const struct vctx *c, struct vnet_pos pos, const char *object, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnet_topo_verror(c->err, c->m->file, pos, object, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The node name of namespace @ns, or @ns itself when no node has it. */
static const char *node_of(const struct vnet_model *m, const char *ns)
{
	const struct vnet_ns *n = vnet_model_find_ns(m, ns);

	return n ? n->node : ns;
}

/* "c1/eth0", or "eth0" for the host, or the name as the file wrote it. */
static void link_path(const struct vctx *c, const char *ns, const char *name, char *buf, size_t len)
{
	const char *node = node_of(c->m, ns);

	if (!strcmp(node, "host"))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s/%s", node, name);
}

/* "bridge br0", "veth end c1/eth0": the object of a link in messages. */
static void link_object(const struct vctx *c, size_t i, char *buf, size_t len)
{
	const struct vnet_link *l = &c->m->links.v[i];
	char path[VNET_NAMSIZ + VNET_IFNAMSIZ + 2];

	if (c->mk && c->mk->links && c->mk->links[i].written)
		snprintf(path, sizeof(path), "%s", c->mk->links[i].written);
	else
		link_path(c, l->ns, l->name, path, sizeof(path));
	snprintf(buf, len, "%s %s", vnet_topo_kind_word(l->kind), path);
}

static struct vnet_pos pick(struct vnet_pos mark, struct vnet_pos fallback)
{
	return mark.line ? mark : fallback;
}

/* Namespaces: the host first, every name used once. */
static int check_ns(const struct vctx *c)
{
	const struct vnet_model *m = c->m;
	char obj[VNET_NAMSIZ + 8];

	for (size_t i = 0; i < m->ns.n; i++) {
		const struct vnet_ns *n = &m->ns.v[i];
		struct vnet_pos at = n->pos;

		if (c->mk && c->mk->ns)
			at = pick(c->mk->ns[i].netns, n->pos);
		snprintf(obj, sizeof(obj), "node %s", n->node);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(m->ns.v[j].node, n->node))
				return verr(c, n->pos, obj, "node \"%s\" is declared twice",
					    n->node);
			if (!strcmp(m->ns.v[j].name, n->name))
				return verr(c, at, obj,
					    "namespace \"%s\" is already used by node %s", n->name,
					    m->ns.v[j].node);
		}
	}
	return 0;
}

/* The first port option @p has, by name; NULL when none. */
static const char *port_option(const struct vnet_port_opts *p)
{
	static const struct {
		unsigned bit;
		const char *name;
	} opts[] = {
		{ VNET_PORT_HAS_COST, "cost" },	      { VNET_PORT_HAS_PRIORITY, "priority" },
		{ VNET_PORT_HAS_HAIRPIN, "hairpin" }, { VNET_PORT_HAS_LEARNING, "learning" },
		{ VNET_PORT_HAS_FLOOD, "flood" },     { VNET_PORT_HAS_ISOLATED, "isolated" },
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (p->has & opts[i].bit)
			return opts[i].name;
	return NULL;
}

/* Rules of one link on its own: what its kind allows. */
static int check_link_kind(const struct vctx *c, const struct vnet_link *l, const char *obj)
{
	const char *opt = port_option(&l->port);

	if (l->kind == VNET_KIND_BRIDGE && l->master[0])
		return verr(c, l->pos, obj, "a bridge cannot be a bridge port (no nested bridges)");
	if (l->kind == VNET_KIND_TUN && (l->master[0] || opt))
		return verr(c, l->pos, obj, "a tun is layer 3 and cannot be a bridge port");
	if (l->kind == VNET_KIND_TUN && (l->has & VNET_LINK_HAS_MAC))
		return verr(c, l->pos, obj, "a tun is layer 3 and has no MAC address");
	if (!l->master[0] && opt && l->kind != VNET_KIND_BRIDGE)
		return verr(c, l->pos, obj, "%s needs master: port options apply to bridge ports",
			    opt);
	return 0;
}

/* Rules of one link against the others: its node, its name, its master, its peer. */
static int check_link_refs(const struct vctx *c, size_t i, const char *obj)
{
	const struct vnet_model *m = c->m;
	const struct vnet_link *l = &m->links.v[i];
	const struct vnet_link *br, *first;

	if (!vnet_model_find_ns(m, l->ns))
		return verr(c, l->pos, obj, "namespace \"%s\" is not a node of the topology",
			    l->ns);
	/* the lookup finds the first of equal names, in file order */
	first = vnet_model_find_link(m, l->ns, l->name);
	if (first && first != l)
		return verr(c, l->pos, obj,
			    "duplicate interface \"%s\" in node %s (first at line %u)", l->name,
			    node_of(m, l->ns), first->pos.line);
	if (l->master[0]) {
		br = vnet_model_find_link(m, l->ns, l->master);
		if (!br || br->kind != VNET_KIND_BRIDGE)
			return verr(c,
				    pick(c->mk && c->mk->links ? c->mk->links[i].master : l->pos,
					 l->pos),
				    obj, "\"%s\" is not a bridge in node %s", l->master,
				    node_of(m, l->ns));
	}
	if (l->kind == VNET_KIND_VETH) {
		const struct vnet_link *p = vnet_model_find_link(m, l->peer_ns, l->peer);

		if (!p || p->kind != VNET_KIND_VETH)
			return verr(c, l->pos, obj, "veth peer \"%s\" is missing", l->peer);
		if (strcmp(p->peer, l->name) || strcmp(p->peer_ns, l->ns))
			return verr(c, l->pos, obj, "veth peer \"%s\" has another peer, \"%s\"",
				    l->peer, p->peer);
	}
	return 0;
}

static int check_links(const struct vctx *c)
{
	char obj[128];
	int r;

	for (size_t i = 0; i < c->m->links.n; i++) {
		link_object(c, i, obj, sizeof(obj));
		r = check_link_kind(c, &c->m->links.v[i], obj);
		if (r < 0)
			return r;
		r = check_link_refs(c, i, obj);
		if (r < 0)
			return r;
	}
	return 0;
}

static void addr_text(int family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* Whether @a and @b share their first @plen bits. */
static bool same_prefix(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!bits)
		return true;
	return !((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - bits)));
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* The link an address or route names, with its index for messages; -1 when none. */
static long link_index(const struct vnet_model *m, const char *ns, const char *dev)
{
	const struct vnet_link *l = vnet_model_find_link(m, ns, dev);

	return l ? l - m->links.v : -1;
}

static int check_addrs(const struct vctx *c)
{
	const struct vnet_model *m = c->m;
	char obj[128], ip[INET6_ADDRSTRLEN], path[VNET_NAMSIZ + VNET_IFNAMSIZ + 2];

	for (size_t i = 0; i < m->addrs.n; i++) {
		const struct vnet_addr *a = &m->addrs.v[i];
		long li = link_index(m, a->ns, a->dev);

		addr_text(a->family, a->addr, ip, sizeof(ip));
		if (li < 0) {
			snprintf(obj, sizeof(obj), "address %s/%u", ip, a->prefixlen);
			return verr(c, a->pos, obj, "\"%s\" is not an interface of node %s", a->dev,
				    node_of(m, a->ns));
		}
		link_object(c, (size_t)li, obj, sizeof(obj));
		for (size_t j = 0; j < i; j++) {
			const struct vnet_addr *b = &m->addrs.v[j];

			if (b->family != a->family || strcmp(b->ns, a->ns) ||
			    memcmp(b->addr, a->addr, addr_len(a->family)))
				continue;
			link_path(c, b->ns, b->dev, path, sizeof(path));
			return verr(c, a->pos, obj, "address %s/%u is already on %s (line %u)", ip,
				    a->prefixlen, path, b->pos.line);
		}
	}
	return 0;
}

/* The destination of a route as a route string writes it: "default", "10.1.0.0/16". */
static void dest_text(const struct vnet_route *r, char *buf, size_t len)
{
	char dst[INET6_ADDRSTRLEN];

	if (!r->dst_len) {
		snprintf(buf, len, "%s", r->family == AF_INET ? "default" : "default6");
		return;
	}
	addr_text(r->family, r->dst, dst, sizeof(dst));
	snprintf(buf, len, "%s/%u", dst, r->dst_len);
}

/* "route \"default via 10.0.0.1\"": the route as written, or rebuilt from the model. */
static void route_object(const struct vctx *c, size_t i, char *buf, size_t len)
{
	const struct vnet_route *r = &c->m->routes.v[i];
	char dst[INET6_ADDRSTRLEN + 4], gw[INET6_ADDRSTRLEN + 5] = "";

	if (c->mk && c->mk->routes && c->mk->routes[i].text) {
		snprintf(buf, len, "route \"%s\"", c->mk->routes[i].text);
		return;
	}
	dest_text(r, dst, sizeof(dst));
	if (r->has_gw) {
		memcpy(gw, " via ", 6);
		addr_text(r->family, r->gw, gw + 5, sizeof(gw) - 5);
	}
	snprintf(buf, len, "route \"%s%s%s%s\"", dst, gw, r->dev[0] ? " dev " : "", r->dev);
}

/* Whether some address of namespace @ns (on @dev, when not "") has @gw in its subnet. */
static bool gw_reachable(const struct vnet_model *m, const struct vnet_route *r)
{
	for (size_t i = 0; i < m->addrs.n; i++) {
		const struct vnet_addr *a = &m->addrs.v[i];

		if (a->family != r->family || strcmp(a->ns, r->ns))
			continue;
		if (r->dev[0] && strcmp(a->dev, r->dev))
			continue;
		if (same_prefix(a->addr, r->gw, a->prefixlen))
			return true;
	}
	return false;
}

static bool is_link_local6(const struct vnet_route *r)
{
	return r->family == AF_INET6 && r->gw[0] == 0xfe && (r->gw[1] & 0xc0) == 0x80;
}

/* The gateway of route @i: of its family, on a subnet of the node (or of its dev). */
static int check_gateway(const struct vctx *c, size_t i, const char *obj)
{
	const struct vnet_route *r = &c->m->routes.v[i];
	struct vnet_pos at = r->pos;
	char gw[INET6_ADDRSTRLEN], path[VNET_NAMSIZ + VNET_IFNAMSIZ + 2];

	if (c->mk && c->mk->routes)
		at = pick(c->mk->routes[i].gw, r->pos);
	addr_text(r->family, r->gw, gw, sizeof(gw));
	/* An IPv6 link-local gateway is on every link: the kernel needs only the device. */
	if (is_link_local6(r)) {
		if (!r->dev[0])
			return verr(c, at, obj, "link-local gateway %s needs \"dev\"", gw);
		return 0;
	}
	if (gw_reachable(c->m, r))
		return 0;
	if (!r->dev[0])
		return verr(c, at, obj, "gateway %s is outside every subnet of node %s", gw,
			    node_of(c->m, r->ns));
	link_path(c, r->ns, r->dev, path, sizeof(path));
	return verr(c, at, obj, "gateway %s is outside every subnet of %s", gw, path);
}

static int check_route_dup(const struct vctx *c, size_t i, const char *obj)
{
	const struct vnet_route *r = &c->m->routes.v[i];
	char dst[INET6_ADDRSTRLEN + 4];

	for (size_t j = 0; j < i; j++) {
		const struct vnet_route *o = &c->m->routes.v[j];

		if (strcmp(o->ns, r->ns) || o->family != r->family || o->dst_len != r->dst_len ||
		    o->metric != r->metric || memcmp(o->dst, r->dst, addr_len(r->family)))
			continue;
		dest_text(r, dst, sizeof(dst));
		return verr(c, r->pos, obj,
			    "duplicate route to %s with metric %u in node %s (first at line %u)",
			    dst, r->metric, node_of(c->m, r->ns), o->pos.line);
	}
	return 0;
}

static int check_routes(const struct vctx *c)
{
	char obj[128];
	int ret;

	for (size_t i = 0; i < c->m->routes.n; i++) {
		const struct vnet_route *r = &c->m->routes.v[i];

		route_object(c, i, obj, sizeof(obj));
		if (!vnet_model_find_ns(c->m, r->ns))
			return verr(c, r->pos, obj,
				    "namespace \"%s\" is not a node of the topology", r->ns);
		if (r->dev[0] && !vnet_model_find_link(c->m, r->ns, r->dev))
			return verr(c,
				    pick(c->mk && c->mk->routes ? c->mk->routes[i].dev : r->pos,
					 r->pos),
				    obj, "\"%s\" is not an interface of node %s", r->dev,
				    node_of(c->m, r->ns));
		if (!r->has_gw && !r->dev[0])
			return verr(c, r->pos, obj, "a route needs \"via\" or \"dev\"");
		ret = r->has_gw ? check_gateway(c, i, obj) : 0;
		if (ret < 0)
			return ret;
		ret = check_route_dup(c, i, obj);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* "check c1 -> c2", "check c1 -> 192.168.9.1": the object of a check in messages. */
static void check_object(const struct vnet_check *k, char *buf, size_t len)
{
	char to[VNET_NAMSIZ > INET6_ADDRSTRLEN ? VNET_NAMSIZ : INET6_ADDRSTRLEN];

	if (k->has_addr)
		addr_text(k->family, k->addr, to, sizeof(to));
	else
		snprintf(to, sizeof(to), "%s", k->to);
	snprintf(buf, len, "check %s -> %s", k->from, to);
}

/* Node @node of a check exists; else an error at @at with the nearest node name. */
static int check_node(const struct vctx *c, struct vnet_pos at, const char *obj, const char *node)
{
	const char **names;
	const char *hint;
	int r;

	if (vnet_model_find_node(c->m, node))
		return 0;
	names = calloc(c->m->ns.n + 1, sizeof(*names));
	if (!names)
		return vnet_error_set(c->err, -ENOMEM, NULL, NULL, "out of memory");
	for (size_t i = 0; i < c->m->ns.n; i++)
		names[i] = c->m->ns.v[i].node;
	hint = vnet_topo_suggest(node, names);
	if (hint)
		r = verr(c, at, obj,
			 "node \"%s\" is not declared under nodes (did you mean \"%s\"?)", node,
			 hint);
	else
		r = verr(c, at, obj, "node \"%s\" is not declared under nodes", node);
	free(names);
	return r;
}

/* Checks: both ends are nodes, and a node probed has an address to probe. */
static int check_checks(const struct vctx *c)
{
	char obj[160];
	int r;

	for (size_t i = 0; i < c->m->checks.n; i++) {
		const struct vnet_check *k = &c->m->checks.v[i];
		const struct vnet_check_mark *mk = c->mk && c->mk->checks ? &c->mk->checks[i] :
									    NULL;
		const struct vnet_ns *to;
		size_t a;

		check_object(k, obj, sizeof(obj));
		r = check_node(c, pick(mk ? mk->from : k->pos, k->pos), obj, k->from);
		if (!r && !k->has_addr)
			r = check_node(c, pick(mk ? mk->to : k->pos, k->pos), obj, k->to);
		if (r < 0 || k->has_addr)
			return r;
		to = vnet_model_find_node(c->m, k->to);
		for (a = 0; a < c->m->addrs.n && strcmp(c->m->addrs.v[a].ns, to->name); a++)
			;
		if (a == c->m->addrs.n)
			return verr(c, pick(mk ? mk->to : k->pos, k->pos), obj,
				    "node %s has no address to probe", k->to);
	}
	return 0;
}

int vnet_topo_validate_marks(const struct vnet_model *m, const struct vnet_topo_marks *mk,
			     struct vnet_error *reterr)
{
	struct vctx c = { .m = m, .mk = mk, .err = reterr };
	char host[VNET_NAMSIZ];
	int r;

	vnet_node_ns_name(m->name, "host", m->sandbox, host, sizeof(host));
	if (!m->ns.n || strcmp(m->ns.v[0].name, host) || strcmp(m->ns.v[0].node, "host"))
		return verr(&c, (struct vnet_pos){ 0, 0 }, NULL,
			    "the model does not start with the host namespace");
	r = check_ns(&c);
	if (!r)
		r = check_links(&c);
	if (!r)
		r = check_addrs(&c);
	if (!r)
		r = check_routes(&c);
	if (!r)
		r = check_checks(&c);
	/* last: a loop is only worth looking for in a model that is otherwise sound */
	if (!r)
		r = vnet_stp_find_loop(m, reterr);
	return r;
}

/**
 * vnet_topo_validate() - check a parsed model for consistency
 * @m: the model; positions in it locate errors
 * @reterr: the first error found, or NULL
 *
 * Checks what needs more than one object: namespaces used once, interface
 * names unique per node, masters that are bridges of the same node, veth ends
 * that point at each other, port options only on ports, addresses not given
 * twice in a node, route devices that exist, gateways on a subnet of the node,
 * routes not given twice, checks between declared nodes (a node probed has an
 * address), and, last, no loop of bridges without STP unless the file allows it.
 *
 * Return: 0, or -EINVAL with @reterr filled.
 */
int vnet_topo_validate(const struct vnet_model *m, struct vnet_error *reterr)
{
	return vnet_topo_validate_marks(m, NULL, reterr);
}
