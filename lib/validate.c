// SPDX-License-Identifier: LGPL-2.1-or-later
/* validate.c - cross-object rules of a topology: names, masters, addresses, routes */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kind.h"
#include "network.h"
#include "topo.h"

/* Whether the bytes at @s start a C1 control (U+0080..U+009F, as UTF-8). */
static bool is_c1(const unsigned char *s)
{
	return s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f;
}

size_t vnet_topo_control(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; u[i] && u[i] >= 0x20 && u[i] != 0x7f && !is_c1(&u[i]); i++)
		;
	return i;
}

int vnet_topo_verror(struct vnet_error *e, const char *file, struct vnet_pos pos,
		     const char *object, const char *fmt, va_list ap)
{
	char msg[VNET_MSGSIZ], safe[VNET_MSGSIZ], obj[sizeof(e->object)];

	if (!e)
		return -EINVAL;
	/* @ap comes from the caller's va_start; clang 14's analyzer cannot see it */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/*
	 * Messages quote the file's tokens, which YAML escapes ("\e", "\x9b") can fill
	 * with terminal controls: the error line must be safe to print, whatever it quotes,
	 * by the one rule of vnet_escape() (the command's own output follows it too).
	 */
	vnet_escape(msg, safe, sizeof(safe));
	if (object)
		vnet_escape(object, obj, sizeof(obj));
	/* A topology error is not an errno: err stays 0, the return value says -EINVAL. */
	vnet_error_set(e, 0, object ? obj : NULL, NULL, "%s", safe);
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

const char *vnet_topo_kind_word(const struct vnet_kind *kind)
{
	/* a file declares veth ends, one at a time */
	return kind && kind->word ? kind->word : vnet_kind_name(kind);
}

/*
 * What the checks share: the model, the parser's marks, the error to fill, and
 * indexes of the model, so that every reference and every duplicate costs one
 * lookup: scans of the arrays made 100k nodes take minutes (issue 7).
 */
struct vctx {
	const struct vnet_model *m;
	const struct vnet_topo_marks *mk;
	struct vnet_error *err;
	struct vnet_index ns, node; /* namespace and node names -> namespace position */
	struct vnet_index addr; /* (namespace, address) -> address position */
	struct vnet_index subnet; /* see subnet_key() -> 2 * address position (+ 1: on its dev) */
	struct vnet_index route; /* (namespace, destination, metric) -> route position */
	struct vnet_index member; /* container -> where its members start */
	uint8_t plens[2][129 / 8 + 1]; /* the prefix lengths of addresses, IPv4 and IPv6 */
	bool *ns_has_addr; /* per namespace: some address is in it */
};

/* A name looked up in the ns or node index. */
struct name_key {
	const struct vnet_model *m;
	const char *s;
	bool node;
};

static bool name_same(const void *ctx, size_t pos)
{
	const struct name_key *k = ctx;
	const struct vnet_ns *n = &k->m->ns.v[pos];

	return !strcmp(k->node ? n->node : n->name, k->s);
}

/* The position of the namespace named @name (@node: of the node), or -1. */
static long find_name(const struct vctx *c, const char *s, bool node)
{
	struct name_key k = { c->m, s, node };

	return vnet_index_find(node ? &c->node : &c->ns, vnet_hash_str(VNET_HASH_INIT, s),
			       name_same, &k);
}

static int enomem(const struct vctx *c)
{
	return vnet_error_set(c->err, -ENOMEM, NULL, NULL, "out of memory");
}

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
static const char *node_of(const struct vctx *c, const char *ns)
{
	long i = find_name(c, ns, false);

	return i >= 0 ? c->m->ns.v[i].node : ns;
}

/* "c1/eth0", or "eth0" for the host, or the name as the file wrote it. */
static void link_path(const struct vctx *c, const char *ns, const char *name, char *buf, size_t len)
{
	const char *node = node_of(c, ns);

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

/* Namespaces: the host first, every name used once; indexed on the way. */
static int check_ns(struct vctx *c)
{
	const struct vnet_model *m = c->m;
	char obj[VNET_NAMSIZ + 8];

	for (size_t i = 0; i < m->ns.n; i++) {
		const struct vnet_ns *n = &m->ns.v[i];
		struct vnet_pos at = n->pos;
		long jn = find_name(c, n->node, true), jm = find_name(c, n->name, false);

		if (c->mk && c->mk->ns)
			at = pick(c->mk->ns[i].netns, n->pos);
		snprintf(obj, sizeof(obj), "node %s", n->node);
		/* the earlier of the two clashes, as a scan in file order would find it */
		if (jn >= 0 && (jm < 0 || jn <= jm))
			return verr(c, n->pos, obj, "node \"%s\" is declared twice", n->node);
		if (jm >= 0)
			return verr(c, at, obj, "namespace \"%s\" is already used by node %s",
				    n->name, m->ns.v[jm].node);
		if (vnet_index_add(&c->node, vnet_hash_str(VNET_HASH_INIT, n->node), i) < 0 ||
		    vnet_index_add(&c->ns, vnet_hash_str(VNET_HASH_INIT, n->name), i) < 0)
			return enomem(c);
	}
	return 0;
}

/* The first port option @l has, by name; NULL when none. */
static const char *port_option(const struct vnet_link *l)
{
	const struct vnet_kind *m = vnet_kind_master();

	for (size_t i = 0; m && i < m->port_opts.n; i++)
		if (vnet_opts_has(&l->port, i))
			return m->port_opts.v[i].key;
	return NULL;
}

/* Rules of one link on its own: what its kind allows. */
static int check_link_kind(const struct vctx *c, const struct vnet_link *l, const char *obj)
{
	const char *opt = port_option(l);
	const struct vnet_kind *k = l->kind;

	if (!vnet_kind_has(k, VNET_KIND_F_PORT) && (l->master[0] || opt))
		return verr(c, l->pos, obj, "%s",
			    k && k->not_port ? k->not_port : "it cannot be a bridge port");
	if (!vnet_kind_has(k, VNET_KIND_F_L2) && (l->has & VNET_LINK_HAS_MAC))
		return verr(c, l->pos, obj, "%s",
			    k && k->no_mac ? k->no_mac : "it has no MAC address");
	if (!l->master[0] && opt)
		return verr(c, l->pos, obj, "%s needs master: port options apply to bridge ports",
			    opt);
	if (vnet_kind_has(k, VNET_KIND_F_PARENT) && !l->parent[0])
		return verr(c, l->pos, obj, "a %s needs a parent: the link it lives on", k->name);
	return 0;
}

/* The kind's own rule against the others (a passthru macvlan is alone on its parent). */
static int check_kind_rule(const struct vctx *c, const struct vnet_link *l, const char *obj)
{
	char why[256];

	if (l->kind && l->kind->check && !l->kind->check(c->m, l, why, sizeof(why)))
		return verr(c, l->pos, obj, "%s", why);
	return 0;
}

/*
 * The link a macvlan lives on: an Ethernet link, of its node or another, that is no
 * bridge port (a bridge port's frames belong to the bridge: the kernel refuses, EBUSY).
 */
static int check_parent(const struct vctx *c, const struct vnet_link *l, const char *obj)
{
	const struct vnet_link *p = vnet_model_find_link(c->m, l->parent_ns, l->parent);

	if (!p)
		return verr(c, l->pos, obj, "parent \"%s\" is not an interface of node %s",
			    l->parent, node_of(c, l->parent_ns));
	if (p == l)
		return verr(c, l->pos, obj, "a link cannot be its own parent");
	if (!vnet_kind_has(p->kind, VNET_KIND_F_L2))
		return verr(c, l->pos, obj, "parent %s is a %s, which has no MAC address",
			    l->parent, vnet_kind_name(p->kind));
	if (p->master[0])
		return verr(c, l->pos, obj,
			    "parent %s is a port of bridge %s, which takes its frames", l->parent,
			    p->master);
	return 0;
}

/* Rules of one link against the others: its node, its name, its master, its peer. */
static int check_link_refs(const struct vctx *c, size_t i, const char *obj)
{
	const struct vnet_model *m = c->m;
	const struct vnet_link *l = &m->links.v[i];
	const struct vnet_link *br, *first;

	if (find_name(c, l->ns, false) < 0)
		return verr(c, l->pos, obj, "namespace \"%s\" is not a node of the topology",
			    l->ns);
	/* the lookup finds the first of equal names, in file order */
	first = vnet_model_find_link(m, l->ns, l->name);
	if (first && first != l)
		return verr(c, l->pos, obj,
			    "duplicate interface \"%s\" in node %s (first at line %u)", l->name,
			    node_of(c, l->ns), first->pos.line);
	if (l->master[0]) {
		br = vnet_model_find_link(m, l->ns, l->master);
		if (!br || !vnet_kind_has(br->kind, VNET_KIND_F_MASTER))
			return verr(c,
				    pick(c->mk && c->mk->links ? c->mk->links[i].master : l->pos,
					 l->pos),
				    obj, "\"%s\" is not a bridge in node %s", l->master,
				    node_of(c, l->ns));
	}
	if (l->parent[0])
		return check_parent(c, l, obj);
	if (vnet_kind_has(l->kind, VNET_KIND_F_PAIR)) {
		const struct vnet_link *p = vnet_model_find_link(m, l->peer_ns, l->peer);

		if (!p || p->kind != l->kind)
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
		r = check_kind_rule(c, &c->m->links.v[i], obj);
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

/* An address looked up in the addr index: same namespace, family and bytes. */
struct addr_key {
	const struct vnet_addr *a, *v; /* the address, and the array of positions */
};

static bool addr_same(const void *ctx, size_t pos)
{
	const struct addr_key *k = ctx;
	const struct vnet_addr *b = &k->v[pos];

	return b->family == k->a->family && !strcmp(b->ns, k->a->ns) &&
	       !memcmp(b->addr, k->a->addr, addr_len(k->a->family));
}

static uint32_t addr_hash(const struct vnet_addr *a)
{
	return vnet_hash(vnet_hash_str(VNET_HASH_INIT, a->ns), a->addr, addr_len(a->family));
}

/*
 * A subnet as the gateway check looks it up: namespace, device ("" for any),
 * family, prefix length and the address masked to it. A gateway is reachable
 * when, for one of the prefix lengths in use, its masked self is such a key:
 * one lookup per length instead of a scan of every address per route.
 */
struct subnet_key {
	const char *ns, *dev;
	int family;
	unsigned plen;
	uint8_t net[16];
	const struct vnet_addr *addrs;
};

static void mask(const uint8_t *a, unsigned plen, uint8_t net[16])
{
	memset(net, 0, 16);
	memcpy(net, a, plen / 8);
	if (plen % 8)
		net[plen / 8] = a[plen / 8] & (uint8_t)(0xff << (8 - plen % 8));
}

static uint32_t subnet_hash(const struct subnet_key *k)
{
	uint8_t head[2] = { (uint8_t)k->family, (uint8_t)k->plen };
	uint32_t h = vnet_hash_str(vnet_hash_str(VNET_HASH_INIT, k->ns), k->dev);

	return vnet_hash(vnet_hash(h, head, 2), k->net, 16);
}

static bool subnet_same(const void *ctx, size_t pos)
{
	const struct subnet_key *k = ctx;
	const struct vnet_addr *a = &k->addrs[pos / 2];
	uint8_t net[16];

	if (a->family != k->family || a->prefixlen != k->plen || strcmp(a->ns, k->ns) ||
	    strcmp(pos % 2 ? a->dev : "", k->dev))
		return false;
	mask(a->addr, a->prefixlen, net);
	return !memcmp(net, k->net, 16);
}

/* Index address @i by its subnet, for any device and for its own. */
static int index_subnet(struct vctx *c, size_t i)
{
	const struct vnet_addr *a = &c->m->addrs.v[i];
	struct subnet_key k = { a->ns, "", a->family, a->prefixlen, { 0 }, c->m->addrs.v };

	mask(a->addr, a->prefixlen, k.net);
	c->plens[a->family == AF_INET6][a->prefixlen / 8] |= (uint8_t)(1U << (a->prefixlen % 8));
	for (int dev = 0; dev < 2; dev++) {
		k.dev = dev ? a->dev : "";
		if (vnet_index_find(&c->subnet, subnet_hash(&k), subnet_same, &k) < 0 &&
		    vnet_index_add(&c->subnet, subnet_hash(&k), 2 * i + (size_t)dev) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Kinds of address that no interface keeps and no route goes via. */
static const struct unusable {
	const char *what, *why_addr, *why_gw;
} unusable_kinds[] = {
	{ "the unspecified address", "the kernel cannot keep it on an interface",
	  "it names no host to route via" },
	{ "a multicast address", "an interface joins a group, it cannot be given one",
	  "a route goes via one host" },
	{ "a loopback address", "only lo can have it", "it never leaves the node" },
	{ "the broadcast address", "the kernel cannot keep it on an interface",
	  "a route goes via one host" },
};

/*
 * Whether @a is of a kind the kernel cannot use as an interface's address or a
 * gateway: 0.0.0.0 and :: (the kernel refuses ::, and takes 0.0.0.0/0 anew at every
 * up, so diff never settles), 224/4 and ff00::/8, 127/8 off lo and ::1,
 * 255.255.255.255. Return: the kind, or NULL.
 */
static const struct unusable *unusable(int family, const uint8_t *a)
{
	static const uint8_t zero[16], loop6[16] = { [15] = 1 };

	if (!memcmp(a, zero, addr_len(family)))
		return &unusable_kinds[0];
	if (family == AF_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff)
		return &unusable_kinds[1];
	if (family == AF_INET ? a[0] == 127 : !memcmp(a, loop6, 16))
		return &unusable_kinds[2];
	if (family == AF_INET && (a[0] & a[1] & a[2] & a[3]) == 0xff)
		return &unusable_kinds[3];
	return NULL;
}

/* Address @i: usable, on an interface of its node, not twice in the node; then indexed. */
static int check_addr(struct vctx *c, size_t i)
{
	const struct vnet_model *m = c->m;
	const struct vnet_addr *a = &m->addrs.v[i];
	const struct addr_key key = { a, m->addrs.v };
	char obj[128], ip[INET6_ADDRSTRLEN], path[VNET_NAMSIZ + VNET_IFNAMSIZ + 2];
	long li = link_index(m, a->ns, a->dev), j;

	addr_text(a->family, a->addr, ip, sizeof(ip));
	if (li < 0) {
		snprintf(obj, sizeof(obj), "address %s/%u", ip, a->prefixlen);
		return verr(c, a->pos, obj, "\"%s\" is not an interface of node %s", a->dev,
			    node_of(c, a->ns));
	}
	link_object(c, (size_t)li, obj, sizeof(obj));
	if (unusable(a->family, a->addr))
		return verr(c, a->pos, obj, "address %s/%u is %s: %s", ip, a->prefixlen,
			    unusable(a->family, a->addr)->what,
			    unusable(a->family, a->addr)->why_addr);
	j = vnet_index_find(&c->addr, addr_hash(a), addr_same, &key);
	if (j >= 0) {
		link_path(c, m->addrs.v[j].ns, m->addrs.v[j].dev, path, sizeof(path));
		return verr(c, a->pos, obj, "address %s/%u is already on %s (line %u)", ip,
			    a->prefixlen, path, m->addrs.v[j].pos.line);
	}
	if (vnet_index_add(&c->addr, addr_hash(a), i) < 0 || index_subnet(c, i) < 0)
		return enomem(c);
	j = find_name(c, a->ns, false);
	if (j >= 0)
		c->ns_has_addr[j] = true;
	return 0;
}

static int check_addrs(struct vctx *c)
{
	int r = 0;

	c->ns_has_addr = calloc(c->m->ns.n + 1, sizeof(*c->ns_has_addr));
	if (!c->ns_has_addr)
		return enomem(c);
	for (size_t i = 0; !r && i < c->m->addrs.n; i++)
		r = check_addr(c, i);
	return r;
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

/* Whether some address of the route's namespace (on its dev, when it has one) has the
 * gateway in its subnet: one lookup per prefix length in use. */
static bool gw_reachable(const struct vctx *c, const struct vnet_route *r)
{
	struct subnet_key k = { r->ns, r->dev, r->family, 0, { 0 }, c->m->addrs.v };
	const uint8_t *in_use = c->plens[r->family == AF_INET6];

	for (k.plen = 0; k.plen <= (r->family == AF_INET ? 32U : 128U); k.plen++) {
		if (!(in_use[k.plen / 8] & (1U << (k.plen % 8))))
			continue;
		mask(r->gw, k.plen, k.net);
		if (vnet_index_find(&c->subnet, subnet_hash(&k), subnet_same, &k) >= 0)
			return true;
	}
	return false;
}

/* A container's gateway on one of its networks: its address there comes at vnet up (IPAM). */
static bool on_network(const struct vctx *c, const struct vnet_route *r)
{
	const char *node = node_of(c, r->ns);

	if (r->family != AF_INET)
		return false;
	for (size_t i = vnet_members_first(c->m, &c->member, node);
	     i < c->m->members.n && !strcmp(c->m->members.v[i].node, node); i++) {
		const struct vnet_member *mb = &c->m->members.v[i];
		const struct vnet_network *n = vnet_network_of(c->m, mb);

		if (n && (vnet_ip4(r->gw) & vnet_ip4_mask(n->prefixlen)) == vnet_ip4(n->subnet) &&
		    (!r->dev[0] || !strcmp(r->dev, mb->ifname)))
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
	if (unusable(r->family, r->gw))
		return verr(c, at, obj, "gateway %s is %s: %s", gw,
			    unusable(r->family, r->gw)->what, unusable(r->family, r->gw)->why_gw);
	/* An IPv6 link-local gateway is on every link: the kernel needs only the device. */
	if (is_link_local6(r)) {
		if (!r->dev[0])
			return verr(c, at, obj, "link-local gateway %s needs \"dev\"", gw);
		return 0;
	}
	if (gw_reachable(c, r) || on_network(c, r))
		return 0;
	if (!r->dev[0])
		return verr(c, at, obj, "gateway %s is outside every subnet of node %s", gw,
			    node_of(c, r->ns));
	link_path(c, r->ns, r->dev, path, sizeof(path));
	return verr(c, at, obj, "gateway %s is outside every subnet of %s", gw, path);
}

/* A route looked up in the route index: same namespace, destination and metric. */
struct route_key {
	const struct vnet_route *r, *v; /* the route, and the array of positions */
};

static bool route_same(const void *ctx, size_t pos)
{
	const struct route_key *k = ctx;
	const struct vnet_route *o = &k->v[pos], *r = k->r;

	return !strcmp(o->ns, r->ns) && o->family == r->family && o->dst_len == r->dst_len &&
	       o->metric == r->metric && !memcmp(o->dst, r->dst, addr_len(r->family));
}

static uint32_t route_hash(const struct vnet_route *r)
{
	uint8_t head[2] = { (uint8_t)r->family, r->dst_len };
	uint32_t h = vnet_hash(vnet_hash_str(VNET_HASH_INIT, r->ns), head, 2);

	return vnet_hash(vnet_hash(h, &r->metric, sizeof(r->metric)), r->dst, addr_len(r->family));
}

static int check_route_dup(struct vctx *c, size_t i, const char *obj)
{
	const struct vnet_route *r = &c->m->routes.v[i];
	const struct route_key key = { r, c->m->routes.v };
	long j = vnet_index_find(&c->route, route_hash(r), route_same, &key);
	char dst[INET6_ADDRSTRLEN + 4];

	if (j < 0)
		return vnet_index_add(&c->route, route_hash(r), i) < 0 ? enomem(c) : 0;
	dest_text(r, dst, sizeof(dst));
	return verr(c, r->pos, obj,
		    "duplicate route to %s with metric %u in node %s (first at line %u)", dst,
		    r->metric, node_of(c, r->ns), c->m->routes.v[j].pos.line);
}

static int check_routes(struct vctx *c)
{
	char obj[128];
	int ret;

	for (size_t i = 0; i < c->m->routes.n; i++) {
		const struct vnet_route *r = &c->m->routes.v[i];

		route_object(c, i, obj, sizeof(obj));
		if (find_name(c, r->ns, false) < 0)
			return verr(c, r->pos, obj,
				    "namespace \"%s\" is not a node of the topology", r->ns);
		if (r->dev[0] && !vnet_model_find_link(c->m, r->ns, r->dev))
			return verr(c,
				    pick(c->mk && c->mk->routes ? c->mk->routes[i].dev : r->pos,
					 r->pos),
				    obj, "\"%s\" is not an interface of node %s", r->dev,
				    node_of(c, r->ns));
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

	if (find_name(c, node, true) >= 0)
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
		long to;

		check_object(k, obj, sizeof(obj));
		r = check_node(c, pick(mk ? mk->from : k->pos, k->pos), obj, k->from);
		if (!r && !k->has_addr)
			r = check_node(c, pick(mk ? mk->to : k->pos, k->pos), obj, k->to);
		if (r < 0 || k->has_addr)
			return r;
		to = find_name(c, k->to, true);
		if (to < 0 || !c->ns_has_addr[to])
			return verr(c, pick(mk ? mk->to : k->pos, k->pos), obj,
				    "node %s has no address to probe", k->to);
	}
	return 0;
}

/* An uplink is a NIC vnet does not make, taken by one bridge. */
static int check_uplinks(const struct vctx *c)
{
	const struct vnet_model *m = c->m;

	for (size_t i = 0; i < m->uplinks.n; i++) {
		const struct vnet_uplink *u = &m->uplinks.v[i];
		const struct vnet_link *l = vnet_model_find_link(m, u->ns, u->nic);
		char obj[48];

		snprintf(obj, sizeof(obj), "bridge %s", u->bridge);
		if (l)
			return verr(
				c, u->pos, obj,
				"uplink %s is a link of this file (line %u); an uplink is a NIC "
				"vnet does not make, such as the machine's eth0",
				u->nic, l->pos.line);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->uplinks.v[j].ns, u->ns) &&
			    !strcmp(m->uplinks.v[j].nic, u->nic))
				return verr(c, u->pos, obj,
					    "uplink %s is taken by bridge %s already (line %u)",
					    u->nic, m->uplinks.v[j].bridge,
					    m->uplinks.v[j].pos.line);
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
	r = vnet_members_index(m, &c.member);
	if (r < 0)
		return vnet_error_set(reterr, r, NULL, NULL, "out of memory");
	r = check_ns(&c);
	if (!r)
		r = check_links(&c);
	if (!r)
		r = check_addrs(&c);
	if (!r)
		r = check_routes(&c);
	if (!r)
		r = check_checks(&c);
	if (!r)
		r = check_uplinks(&c);
	vnet_index_free(&c.ns);
	vnet_index_free(&c.node);
	vnet_index_free(&c.addr);
	vnet_index_free(&c.subnet);
	vnet_index_free(&c.route);
	vnet_index_free(&c.member);
	free(c.ns_has_addr);
	/* last: a loop is only worth looking for in a model that is otherwise sound */
	if (!r)
		r = vnet_stp_find_loop(m, reterr);
	return r;
}

int vnet_topo_validate(const struct vnet_model *m, struct vnet_error *reterr)
{
	return vnet_topo_validate_marks(m, NULL, reterr);
}
