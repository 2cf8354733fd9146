// SPDX-License-Identifier: LGPL-2.1-or-later
/* plan.c - desired model + observed model -> ordered steps; a pure function, no kernel */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "array.h"
#include "kind.h"
#include "nat.h"
#include "uplink.h"

/*
 * Steps run in phases so that each phase only needs what earlier phases made:
 * removals first (routes before the addresses that carry them, addresses
 * before their links), then creation in the opposite order, and last the
 * removal of namespaces. Within a phase steps are grouped by namespace, so
 * apply can send each group as one netlink batch. Undoing runs the inverses
 * backwards, which recreates a link before its addresses. A namespace goes
 * last because removing it cannot be undone as it was (everything in it is
 * removed by steps of its own before, so that those can be): a step that
 * fails before it leaves a plan that can be undone whole.
 */
enum phase {
	PH_UPLINK_GIVE, /* a NIC goes back before anything of its bridge is touched */
	PH_NAT_DEL, /* vnet's nftables table goes first, the rest of the host part after */
	PH_ROUTE_DEL,
	PH_ADDR_DEL,
	PH_CHILD_DEL, /* links on a parent: removing the parent would take them along */
	PH_LINK_DEL, /* and ports taken off a bridge that goes */
	PH_BRIDGE_DEL, /* after their ports, so that an undo makes them again first */
	PH_NS_ADD,
	PH_BRIDGE_ADD, /* bridges and tun/taps: what veth ends may be enslaved to */
	PH_LINK_ADD,
	PH_CHILD_ADD, /* links on a parent (vnet_link_rank() 2) */
	PH_LINK_SET,
	PH_BRIDGE_UP, /* a new bridge comes up with its ports in place */
	PH_UPLINK_TAKE, /* then it takes its NIC over, and the probe runs */
	PH_ADDR_ADD,
	PH_ROUTE_ADD,
	PH_NAT, /* once the bridges it names are there */
	PH_NS_DEL,
};

struct planner {
	const struct vnet_model *want, *have;
	struct vnet_plan *plan;
	int *phase; /* per op, parallel to plan->ops */
	size_t phase_cap;
	struct vnet_error *err;
};

static struct vnet_op *push(struct planner *p, enum vnet_op_kind kind, enum phase ph)
{
	struct vnet_plan *plan = p->plan;

	if (vnet_array_grow(&plan->ops, plan->ops.n + 1) < 0 ||
	    vnet_grow((void **)&p->phase, &p->phase_cap, plan->ops.n + 1, sizeof(*p->phase)) < 0)
		return NULL;
	p->phase[plan->ops.n] = ph;
	struct vnet_op *op = &plan->ops.v[plan->ops.n++];

	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

static int conflict(struct planner *p, const struct vnet_pos *pos, const char *object,
		    const char *fmt, const char *a, const char *b)
{
	if (p->err) {
		vnet_error_set(p->err, -EEXIST, object, "", fmt, a, b);
		snprintf(p->err->file, sizeof(p->err->file), "%s", p->want->file);
		p->err->line = pos->line;
		p->err->col = pos->col;
	}
	return -EEXIST;
}

static const char *ns_label(const char *ns)
{
	return ns[0] ? ns : "the host namespace";
}

/*
 * Why an object in the way is not ours, from its tag (a link's alias, or the alias
 * of a namespace's lo): untagged, another topology's, or this topology's without a
 * record in the state store, which happens when the store was lost or another is used.
 */
static const char *foreign_words(const struct planner *p, const struct vnet_link *tagged, char *buf,
				 size_t len)
{
	const char *tag = tagged ? tagged->alias : "";
	size_t plen = strlen(VNET_TAG_PREFIX);

	if (strncmp(tag, VNET_TAG_PREFIX, plen))
		return "is not vnet's";
	if (strcmp(tag + plen, p->want->name)) {
		snprintf(buf, len, "belongs to vnet topology %s", tag + plen);
		return buf;
	}
	snprintf(buf, len,
		 "carries this topology's tag, but the state store has no record of it (was the "
		 "store lost, or is this another --state-dir? `vnet recover %s` takes back what "
		 "carries the tag)",
		 p->want->name);
	return buf;
}

/* ---- namespaces ---- */

static const struct vnet_link *have_link(const struct planner *p, const char *ns, const char *name)
{
	return vnet_model_find_link(p->have, ns, name);
}

/* Loopback must be up in every namespace vnet makes; its alias marks the namespace as ours. */
static int plan_loopback(struct planner *p, const struct vnet_ns *ns, bool fresh)
{
	const struct vnet_link *lo = have_link(p, ns->name, "lo");
	char tag[VNET_NAMSIZ + 8];

	snprintf(tag, sizeof(tag), VNET_TAG_PREFIX "%s", p->want->name);
	/* a fresh namespace is made with lo up and tagged (vnet_netns_add) */
	if (fresh || (lo && lo->up && !strcmp(lo->alias, tag)))
		return 0;
	struct vnet_op *op = push(p, VNET_OP_LINK_SET, PH_LINK_SET);

	if (!op)
		return -ENOMEM;
	op->set = VNET_SET_UP | VNET_SET_ALIAS;
	snprintf(op->link.name, sizeof(op->link.name), "lo");
	snprintf(op->link.ns, sizeof(op->link.ns), "%s", ns->name);
	snprintf(op->link.alias, sizeof(op->link.alias), "%s", tag);
	op->link.kind = NULL;
	op->link.up = true;
	if (lo)
		op->old = *lo;
	else
		snprintf(op->old.name, sizeof(op->old.name), "lo");
	snprintf(op->old.ns, sizeof(op->old.ns), "%s", ns->name);
	return 0;
}

static int plan_namespaces(struct planner *p)
{
	for (size_t i = 0; i < p->want->ns.n; i++) {
		const struct vnet_ns *w = &p->want->ns.v[i];
		const struct vnet_ns *h = vnet_model_find_ns(p->have, w->name);
		char obj[VNET_NAMSIZ + 8], why[256];
		int r;

		if (!w->name[0])
			continue; /* vnet's own namespace: always there, never ours */
		snprintf(obj, sizeof(obj), "node %s", w->node);
		if (h && h->exists && !h->owned)
			return conflict(p, &w->pos, obj, "namespace %s exists and %s", w->name,
					foreign_words(p, have_link(p, w->name, "lo"), why,
						      sizeof(why)));
		if (!h || !h->exists) {
			struct vnet_op *op = push(p, VNET_OP_NS_ADD, PH_NS_ADD);

			if (!op)
				return -ENOMEM;
			op->ns = *w;
		}
		r = plan_loopback(p, w, !h || !h->exists);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- links ---- */

static bool mac_differs(const struct vnet_link *w, const struct vnet_link *h)
{
	return (w->has & VNET_LINK_HAS_MAC) && memcmp(w->mac, h->mac, 6);
}

/* Do the options of its kind (or as a bridge port) that the kernel can change differ? */
static bool opts_differ(const struct vnet_link *w, const struct vnet_link *h)
{
	return vnet_opts_differ(w->kind, &w->kind->opts, &w->opts, h, &h->opts, false);
}

static bool port_differs(const struct vnet_link *w, const struct vnet_link *h)
{
	const struct vnet_kind *m = vnet_kind_master();

	return m && vnet_opts_differ(m, &m->port_opts, &w->port, h, &h->port, false);
}

/* What must change on an existing link @h to match @w; 0 for nothing. */
static unsigned link_changes(const struct vnet_link *w, const struct vnet_link *h, const char *tag)
{
	unsigned set = 0;

	if (w->up != h->up)
		set |= VNET_SET_UP;
	if ((w->has & VNET_LINK_HAS_MTU) && w->mtu != h->mtu)
		set |= VNET_SET_MTU;
	if (mac_differs(w, h))
		set |= VNET_SET_MAC;
	if (strcmp(w->master, h->master))
		set |= VNET_SET_MASTER;
	if (strcmp(tag, h->alias))
		set |= VNET_SET_ALIAS;
	if (w->kind && opts_differ(w, h))
		set |= VNET_SET_OPTS;
	if (w->master[0] && port_differs(w, h))
		set |= VNET_SET_PORT;
	if (vnet_vteps_differ(w, h))
		set |= VNET_SET_VTEPS;
	return set;
}

/* An existing link must be replaced when it is not what the file says it is. */
static bool link_replaced(const struct vnet_link *w, const struct vnet_link *h)
{
	if (w->kind != h->kind || strcmp(w->parent, h->parent) ||
	    (w->parent[0] && strcmp(w->parent_ns, h->parent_ns)))
		return true;
	if (vnet_kind_has(w->kind, VNET_KIND_F_PAIR) &&
	    (strcmp(w->peer, h->peer) || strcmp(w->peer_ns, h->peer_ns)))
		return true;
	return vnet_opts_differ(w->kind, &w->kind->opts, &w->opts, h, &h->opts, true);
}

/* The settings a fresh link needs after creation: everything creation does not set. */
unsigned vnet_link_settings(const struct vnet_link *w, bool created_as_peer)
{
	/* the tag goes with the creation itself (apply's tag_created(), a kind's create()),
	 * but for a veth's far end, which lives in another namespace */
	unsigned set = created_as_peer ? VNET_SET_ALIAS : 0;

	if (w->up)
		set |= VNET_SET_UP;
	if (w->master[0])
		set |= VNET_SET_MASTER;
	if (w->master[0] && w->port.has)
		set |= VNET_SET_PORT;
	if (w->n_vtep)
		set |= VNET_SET_VTEPS;
	/* veth peers and links not made by netlink (tun/tap) get mtu and mac by setlink; the
	 * others at creation */
	if (created_as_peer || (w->kind && w->kind->create)) {
		if (w->has & VNET_LINK_HAS_MTU)
			set |= VNET_SET_MTU;
		if (w->has & VNET_LINK_HAS_MAC)
			set |= VNET_SET_MAC;
	}
	return set;
}

static int push_set(struct planner *p, const struct vnet_link *w, const struct vnet_link *h,
		    unsigned set, const char *tag)
{
	/*
	 * While a bridge is down, enslaving a port does not run the STP port state
	 * selection over every port, as it does on a running bridge: bringing a new
	 * bridge up once its ports are in saves work that grows with the square of them.
	 */
	enum phase ph = vnet_kind_has(w->kind, VNET_KIND_F_MASTER) && !h ? PH_BRIDGE_UP :
									   PH_LINK_SET;
	struct vnet_op *op = push(p, VNET_OP_LINK_SET, ph);

	if (!op)
		return -ENOMEM;
	op->set = set;
	op->link = *w;
	snprintf(op->link.alias, sizeof(op->link.alias), "%s", tag);
	if (h) {
		op->old = *h;
	} else {
		/* undoing the settings of a fresh link: it is removed anyway */
		op->old = *w;
		op->old.up = false;
		op->old.master[0] = '\0';
		op->old.alias[0] = '\0';
		op->old.n_vtep = 0;
	}
	return 0;
}

/*
 * A veth pair is created once, from the end that comes first in the file, unless
 * its peer is in vnet's own namespace: creating from there places both ends with
 * one message on the socket vnet already has.
 */
static bool veth_creator(const struct planner *p, const struct vnet_link *w, size_t idx)
{
	const struct vnet_link *peer = vnet_model_find_link(p->want, w->peer_ns, w->peer);

	if (!peer || peer == w)
		return true;
	if (!w->ns[0] != !peer->ns[0])
		return !w->ns[0];
	return &p->want->links.v[idx] < peer;
}

static int plan_link_add(struct planner *p, const struct vnet_link *w, size_t idx, const char *tag)
{
	bool first = !vnet_kind_has(w->kind, VNET_KIND_F_PAIR) || veth_creator(p, w, idx);
	unsigned set;

	if (first) {
		static const enum phase by_rank[] = { PH_BRIDGE_ADD, PH_LINK_ADD, PH_CHILD_ADD };
		/* links made by other means (tun, tap: ioctls) go early too: each one ends the
		 * batch before it, so among the veths they would cut their batches */
		int rank = w->kind->create ? 0 : vnet_link_rank(w);
		struct vnet_op *op = push(p, VNET_OP_LINK_ADD, by_rank[rank]);

		if (!op)
			return -ENOMEM;
		op->link = *w;
		snprintf(op->link.alias, sizeof(op->link.alias), "%s", tag);
	}
	set = vnet_link_settings(w, !first || strcmp(vnet_link_maker_ns(w), w->ns));
	return set ? push_set(p, w, NULL, set, tag) : 0;
}

/* A removed veth takes its peer along: keep a copy of the peer, to undo with. */
static int plan_link_del(struct planner *p, const struct vnet_link *h)
{
	struct vnet_op *op = push(p, VNET_OP_LINK_DEL,
				  vnet_kind_has(h->kind, VNET_KIND_F_MASTER) ? PH_BRIDGE_DEL :
				  vnet_kind_has(h->kind, VNET_KIND_F_PARENT) ? PH_CHILD_DEL :
									       PH_LINK_DEL);
	const struct vnet_link *peer;

	if (!op)
		return -ENOMEM;
	op->link = *h;
	peer = vnet_kind_has(h->kind, VNET_KIND_F_PAIR) && h->peer[0] ?
		       have_link(p, h->peer_ns, h->peer) :
		       NULL;
	if (peer)
		op->old = *peer;
	return 0;
}

/* Is @h, an owned link, also wanted (under the same kind and peer)? */
static bool link_goes(const struct planner *p, const char *ns, const char *dev);

/* A link on a parent that goes goes too: the kernel removes it with its parent. */
static bool link_wanted(const struct planner *p, const struct vnet_link *h)
{
	const struct vnet_link *w = vnet_model_find_link(p->want, h->ns, h->name);

	return w && !link_replaced(w, h) &&
	       !(h->parent[0] && link_goes(p, h->parent_ns, h->parent));
}

/* The other end of an owned veth, when it is ours too. */
static const struct vnet_link *owned_peer(const struct planner *p, const struct vnet_link *h)
{
	const struct vnet_link *o;

	if (!vnet_kind_has(h->kind, VNET_KIND_F_PAIR) || !h->peer[0])
		return NULL;
	o = have_link(p, h->peer_ns, h->peer);
	return o && o->owned ? o : NULL;
}

/*
 * Does the owned link @h go: removed, or replaced by another of its name? A veth pair
 * goes as one: when either end is not wanted as it is (removed, moved, or paired
 * anew), both are removed, since removing one end removes the other.
 */
static bool pair_goes(const struct planner *p, const struct vnet_link *h)
{
	const struct vnet_link *o = owned_peer(p, h);

	return !link_wanted(p, h) || (o && !link_wanted(p, o));
}

/* Will the link that carries something be removed or replaced by this plan? */
static bool link_goes(const struct planner *p, const char *ns, const char *dev)
{
	const struct vnet_link *h = have_link(p, ns, dev);

	return h && h->owned && h->kind && pair_goes(p, h);
}

static int plan_one_link(struct planner *p, size_t idx, const char *tag)
{
	const struct vnet_link *w = &p->want->links.v[idx];
	const struct vnet_link *h = have_link(p, w->ns, w->name);
	char obj[VNET_IFNAMSIZ + 16], why[256], what[VNET_IFNAMSIZ + VNET_NAMSIZ + 32];
	unsigned set;

	if (!h)
		return plan_link_add(p, w, idx, tag);
	snprintf(obj, sizeof(obj), "interface %s", w->name);
	if (!h->owned) {
		snprintf(what, sizeof(what), "%s already exists in %s", w->name, ns_label(w->ns));
		return conflict(p, &w->pos, obj, "%s and %s", what,
				foreign_words(p, h, why, sizeof(why)));
	}
	if (link_goes(p, h->ns, h->name))
		return plan_link_add(p, w, idx, tag); /* removed first, by plan_links() */
	set = link_changes(w, h, tag);
	if (!w->master[0] && h->master[0] && link_goes(p, h->ns, h->master))
		set &= ~VNET_SET_MASTER; /* free_ports() takes it off its bridge */
	if (w->master[0] && link_goes(p, w->ns, w->master))
		set |= VNET_SET_MASTER; /* its bridge is made anew */
	return set ? push_set(p, w, h, set, tag) : 0;
}

/*
 * Ports of a bridge that goes, that stay themselves, are taken off it by a step of their
 * own first: removing the bridge does it too, but then an undo that makes the bridge
 * again could not put them back on it.
 */
static int free_ports(struct planner *p, const struct vnet_link *br)
{
	for (size_t i = 0; i < p->have->links.n; i++) {
		const struct vnet_link *q = &p->have->links.v[i];
		struct vnet_op *op;

		if (!q->owned || strcmp(q->master, br->name) || strcmp(q->ns, br->ns) ||
		    pair_goes(p, q))
			continue;
		op = push(p, VNET_OP_LINK_SET, PH_LINK_DEL);
		if (!op)
			return -ENOMEM;
		op->set = VNET_SET_MASTER;
		op->link = *q;
		op->link.master[0] = '\0';
		op->old = *q;
	}
	return 0;
}

static int plan_links(struct planner *p)
{
	char tag[VNET_NAMSIZ + 8];
	int r;

	snprintf(tag, sizeof(tag), VNET_TAG_PREFIX "%s", p->want->name);
	for (size_t i = 0; i < p->want->links.n; i++) {
		r = plan_one_link(p, i, tag);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->have->links.n; i++) {
		const struct vnet_link *h = &p->have->links.v[i];
		const struct vnet_link *o = owned_peer(p, h);

		/* lo and other kinds vnet does not make are never removed, even when tagged */
		if (!h->owned || !h->kind || !pair_goes(p, h))
			continue;
		if (o && o < h)
			continue; /* a pair is removed once, by its first end */
		r = vnet_kind_has(h->kind, VNET_KIND_F_MASTER) ? free_ports(p, h) : 0;
		if (r >= 0)
			r = plan_link_del(p, h);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- addresses and routes ---- */

static bool addr_eq(const struct vnet_addr *a, const struct vnet_addr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       !memcmp(a->addr, b->addr, 16) && !strcmp(a->dev, b->dev) && !strcmp(a->ns, b->ns);
}

static bool route_key_eq(const struct vnet_route *a, const struct vnet_route *b)
{
	return a->family == b->family && a->dst_len == b->dst_len && !memcmp(a->dst, b->dst, 16) &&
	       a->metric == b->metric && !strcmp(a->ns, b->ns);
}

static bool route_eq(const struct vnet_route *a, const struct vnet_route *b)
{
	return route_key_eq(a, b) && a->has_gw == b->has_gw &&
	       (!a->has_gw || !memcmp(a->gw, b->gw, 16)) && (!a->dev[0] || !strcmp(a->dev, b->dev));
}

static int plan_addrs(struct planner *p)
{
	for (size_t i = 0; i < p->want->addrs.n; i++) {
		const struct vnet_addr *w = &p->want->addrs.v[i];
		bool found = false;

		for (size_t j = 0; j < p->have->addrs.n && !found; j++)
			found = addr_eq(w, &p->have->addrs.v[j]) && !link_goes(p, w->ns, w->dev);
		if (found)
			continue;
		struct vnet_op *op = push(p, VNET_OP_ADDR_ADD, PH_ADDR_ADD);

		if (!op)
			return -ENOMEM;
		op->addr = *w;
	}
	for (size_t j = 0; j < p->have->addrs.n; j++) {
		const struct vnet_addr *h = &p->have->addrs.v[j];
		bool wanted = false;

		for (size_t i = 0; i < p->want->addrs.n && !wanted; i++)
			wanted = addr_eq(&p->want->addrs.v[i], h);
		if (!h->owned || (wanted && !link_goes(p, h->ns, h->dev)))
			continue;
		struct vnet_op *op = push(p, VNET_OP_ADDR_DEL, PH_ADDR_DEL);

		if (!op)
			return -ENOMEM;
		op->addr = *h;
	}
	return 0;
}

static int plan_route_del(struct planner *p, const struct vnet_route *h)
{
	struct vnet_op *op = push(p, VNET_OP_ROUTE_DEL, PH_ROUTE_DEL);

	if (!op)
		return -ENOMEM;
	op->route = *h;
	return 0;
}

/*
 * Does the plan take an address off a link that stays, in namespace @ns? The
 * kernel then drops routes whose gateway it can no longer reach (all routes of
 * the link, when it was its last address), so vnet makes them again after the
 * new addresses are in place, rather than leave that to chance.
 */
static bool addrs_shrink(const struct planner *p, const char *ns)
{
	for (size_t i = 0; i < p->plan->ops.n; i++) {
		const struct vnet_op *op = &p->plan->ops.v[i];

		if (op->kind == VNET_OP_ADDR_DEL && !strcmp(op->addr.ns, ns) &&
		    !link_goes(p, ns, op->addr.dev))
			return true;
	}
	return false;
}

static int plan_one_route(struct planner *p, const struct vnet_route *w)
{
	for (size_t j = 0; j < p->have->routes.n; j++) {
		const struct vnet_route *h = &p->have->routes.v[j];
		char obj[48];

		if (!route_key_eq(w, h))
			continue;
		if (route_eq(w, h) && !link_goes(p, h->ns, h->dev) &&
		    (!h->owned || !addrs_shrink(p, h->ns)))
			return 0;
		if (!h->owned) {
			snprintf(obj, sizeof(obj), "route");
			return conflict(p, &w->pos, obj,
					"%s already has this route and it is not vnet's%s",
					ns_label(w->ns), "");
		}
		int r = plan_route_del(p, h);

		if (r < 0)
			return r;
		break;
	}
	struct vnet_op *op = push(p, VNET_OP_ROUTE_ADD, PH_ROUTE_ADD);

	if (!op)
		return -ENOMEM;
	op->route = *w;
	return 0;
}

static int plan_routes(struct planner *p)
{
	int r;

	for (size_t i = 0; i < p->want->routes.n; i++) {
		r = plan_one_route(p, &p->want->routes.v[i]);
		if (r < 0)
			return r;
	}
	for (size_t j = 0; j < p->have->routes.n; j++) {
		const struct vnet_route *h = &p->have->routes.v[j];
		bool keyed = false;

		for (size_t i = 0; i < p->want->routes.n && !keyed; i++)
			keyed = route_key_eq(&p->want->routes.v[i], h);
		if (h->owned && !keyed) {
			r = plan_route_del(p, h);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Namespaces owned but no longer wanted: their links die with them, but are removed
 * first, so that undoing can rebuild them in order. */
static int plan_ns_removal(struct planner *p)
{
	for (size_t i = 0; i < p->have->ns.n; i++) {
		const struct vnet_ns *h = &p->have->ns.v[i];

		/* vnet's own namespace ("") is never removed, whatever the marks say, nor one
		 * that holds what someone else made */
		if (!h->name[0] || !h->exists || !h->owned || h->foreign[0] ||
		    vnet_model_find_ns(p->want, h->name))
			continue;
		struct vnet_op *op = push(p, VNET_OP_NS_DEL, PH_NS_DEL);

		if (!op)
			return -ENOMEM;
		op->ns = *h;
	}
	return 0;
}

/* Stable sort of the ops by (phase, namespace), keeping file order within a group. */
int vnet_link_rank(const struct vnet_link *l)
{
	return vnet_kind_has(l->kind, VNET_KIND_F_MASTER) ? 0 :
	       vnet_kind_has(l->kind, VNET_KIND_F_PARENT) ? 2 :
							    1;
}

const char *vnet_link_maker_ns(const struct vnet_link *l)
{
	return vnet_kind_has(l->kind, VNET_KIND_F_PARENT) && l->parent[0] ? l->parent_ns : l->ns;
}

const char *vnet_op_ns(const struct vnet_op *op)
{
	switch (op->kind) {
	case VNET_OP_NS_ADD:
	case VNET_OP_NS_DEL:
		return op->ns.name;
	case VNET_OP_ADDR_ADD:
	case VNET_OP_ADDR_DEL:
		return op->addr.ns;
	case VNET_OP_ROUTE_ADD:
	case VNET_OP_ROUTE_DEL:
		return op->route.ns;
	case VNET_OP_NAT:
		return op->nat->ns;
	case VNET_OP_UPLINK:
		return op->uplink->u.ns;
	default:
		return op->link.ns;
	}
}

struct keyed {
	int phase;
	size_t idx;
	const struct vnet_op *op;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c;

	if (x->phase != y->phase)
		return x->phase - y->phase;
	c = strcmp(vnet_op_ns(x->op), vnet_op_ns(y->op));
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int sort_plan(struct planner *p)
{
	size_t n = p->plan->ops.n;
	struct keyed *k = calloc(n ? n : 1, sizeof(*k));
	struct vnet_op *sorted = calloc(n ? n : 1, sizeof(*sorted));

	if (!k || !sorted) {
		free(k);
		free(sorted);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		k[i] = (struct keyed){ p->phase[i], i, &p->plan->ops.v[i] };
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 0; i < n; i++)
		sorted[i] = *k[i].op;
	free(k);
	free(p->plan->ops.v);
	p->plan->ops.v = sorted;
	p->plan->ops.cap = n ? n : 1;
	return 0;
}

/* vnet's nftables table and forwarding: one step, made in nat.c. */
static int plan_nat(struct planner *p, const struct vnet_model *want, const char *topo)
{
	struct vnet_nat_change *c = NULL;
	struct vnet_op *op;
	char tag[VNET_NAMSIZ + 8];
	int r;

	snprintf(tag, sizeof(tag), VNET_TAG_PREFIX "%s", topo);
	r = vnet_nat_plan(want, p->have, tag, &c, p->err);
	if (r < 0 || !c)
		return r;
	op = push(p, VNET_OP_NAT, want && want->nat.table[0] ? PH_NAT : PH_NAT_DEL);
	if (!op) {
		vnet_nat_change_free(c);
		return -ENOMEM;
	}
	op->nat = c;
	return 0;
}

static const struct vnet_uplink *find_uplink(const struct vnet_model *m, const char *ns,
					     const char *nic)
{
	for (size_t i = 0; i < m->uplinks.n; i++)
		if (!strcmp(m->uplinks.v[i].ns, ns) && !strcmp(m->uplinks.v[i].nic, nic))
			return &m->uplinks.v[i];
	return NULL;
}

static int push_uplink(struct planner *p, const struct vnet_uplink *w, const struct vnet_uplink *h,
		       bool give)
{
	struct vnet_op *op = push(p, VNET_OP_UPLINK, give ? PH_UPLINK_GIVE : PH_UPLINK_TAKE);

	if (!op)
		return -ENOMEM;
	op->set = give ? VNET_UPLINK_GIVE : 0;
	op->uplink = vnet_uplink_plan_change(w, h);
	if (!op->uplink) {
		p->plan->ops.n--;
		return -ENOMEM;
	}
	return 0;
}

/* Why @w's NIC cannot be taken, at its place in the file; Return: @err. */
static int uplink_refused(struct planner *p, const struct vnet_uplink *w, int err, const char *fmt,
			  const char *a, const char *b)
{
	char obj[64];

	snprintf(obj, sizeof(obj), "bridge %s", w->bridge);
	conflict(p, &w->pos, obj, fmt, a, b);
	if (p->err)
		p->err->err = err;
	return err;
}

static int plan_take(struct planner *p, const struct vnet_uplink *w)
{
	const struct vnet_uplink *h = find_uplink(p->have, w->ns, w->nic);
	const struct vnet_link *br;
	uint32_t fd = 0;
	int r;

	if (!h || !h->exists)
		return uplink_refused(p, w, -ENODEV, "uplink %s: no such interface%s", w->nic,
				      w->ns[0] ? " in its node" : "");
	/* in another bridge: refused, unless that is vnet's, which gives it back first */
	if (h->master[0] && strcmp(h->master, w->bridge) &&
	    !(h->owned && !strcmp(h->master, h->bridge)))
		return uplink_refused(p, w, -EEXIST, "uplink %s is a port of %s already", w->nic,
				      h->master);
	if (!h->owned && h->manager[0] && !w->force)
		return uplink_refused(p, w, -EEXIST,
				      "uplink %s is managed by %s, which would fight vnet for it; "
				      "release it there, or set force: true in the uplink",
				      w->nic, h->manager);
	if (h->taken && !strcmp(h->bridge, w->bridge))
		return 0;
	r = push_uplink(p, w, h, false);
	br = vnet_model_find_link(p->want, w->ns, w->bridge);
	/* with STP the NIC's port listens, then learns, before it forwards: the probe waits */
	if (r >= 0 && br && vnet_bridge_stp(br) && vnet_link_opt(br, "forward_delay", &fd) > 0)
		p->plan->ops.v[p->plan->ops.n - 1].uplink->u.probe_ms += 2 * fd * 10;
	return r;
}

/* NICs to take over, and those the file no longer names, to give back. */
static int plan_uplinks(struct planner *p)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < p->have->uplinks.n; i++) {
		const struct vnet_uplink *h = &p->have->uplinks.v[i];
		const struct vnet_uplink *w = find_uplink(p->want, h->ns, h->nic);

		if (h->owned && (!w || strcmp(w->bridge, h->bridge)))
			r = push_uplink(p, h, h, true);
	}
	for (size_t i = 0; r >= 0 && i < p->want->uplinks.n; i++)
		r = plan_take(p, &p->want->uplinks.v[i]);
	return r;
}

/* Both plans end alike: namespaces no longer wanted go last, then the steps are sorted. */
static int finish(struct planner *p, int r, struct vnet_plan **ret_plan)
{
	if (r >= 0)
		r = plan_ns_removal(p);
	if (r >= 0)
		r = sort_plan(p);
	free(p->phase);
	if (r < 0) {
		vnet_plan_free(p->plan);
		return r;
	}
	*ret_plan = p->plan;
	return 0;
}

int vnet_plan_up(const struct vnet_model *desired, const struct vnet_model *observed,
		 struct vnet_plan **ret_plan, struct vnet_error *reterr)
{
	struct planner p = { .want = desired, .have = observed, .err = reterr };
	int r;

	p.plan = calloc(1, sizeof(*p.plan));
	if (!p.plan)
		return -ENOMEM;
	snprintf(p.plan->topo, sizeof(p.plan->topo), "%s", desired->name);
	r = plan_namespaces(&p);
	if (r >= 0)
		r = plan_links(&p);
	if (r >= 0)
		r = plan_addrs(&p);
	if (r >= 0)
		r = plan_routes(&p);
	if (r >= 0)
		r = plan_nat(&p, desired, desired->name);
	if (r >= 0)
		r = plan_uplinks(&p);
	return finish(&p, r, ret_plan);
}

/* Down: owned links outside owned namespaces, then the namespaces (with all inside). */
static bool in_dying_ns(const struct vnet_model *m, const char *ns)
{
	const struct vnet_ns *n = vnet_model_find_ns(m, ns);

	return n && n->owned && n->exists && ns[0] && !n->foreign[0];
}

/*
 * A veth pair with both ends outside dying namespaces is removed once, by its
 * first end. An end whose peer dies with a namespace is still removed here:
 * the kernel frees a namespace's devices later, in a work queue, and down
 * should leave nothing behind when it returns.
 */
static bool down_by_peer(const struct vnet_model *m, const struct vnet_link *h)
{
	const struct vnet_link *o;

	if (!vnet_kind_has(h->kind, VNET_KIND_F_PAIR) || !h->peer[0] || in_dying_ns(m, h->peer_ns))
		return false;
	o = vnet_model_find_link(m, h->peer_ns, h->peer);
	return o && o < h && o->owned;
}

int vnet_plan_down(const struct vnet_model *observed, struct vnet_plan **ret_plan)
{
	static const struct vnet_model none;
	struct planner p = { .want = &none, .have = observed };
	int r = 0;

	p.plan = calloc(1, sizeof(*p.plan));
	if (!p.plan)
		return -ENOMEM;
	for (size_t i = 0; i < observed->links.n && r >= 0; i++) {
		const struct vnet_link *h = &observed->links.v[i];

		if (h->owned && h->kind && !in_dying_ns(observed, h->ns) &&
		    !down_by_peer(observed, h))
			r = plan_link_del(&p, h);
	}
	for (size_t i = 0; i < observed->addrs.n && r >= 0; i++) {
		const struct vnet_addr *h = &observed->addrs.v[i];

		if (h->owned && !in_dying_ns(observed, h->ns) && !link_goes(&p, h->ns, h->dev)) {
			struct vnet_op *op = push(&p, VNET_OP_ADDR_DEL, PH_ADDR_DEL);

			r = op ? (op->addr = *h, 0) : -ENOMEM;
		}
	}
	for (size_t i = 0; i < observed->routes.n && r >= 0; i++) {
		const struct vnet_route *h = &observed->routes.v[i];

		if (h->owned && !in_dying_ns(observed, h->ns) && !link_goes(&p, h->ns, h->dev))
			r = plan_route_del(&p, h);
	}
	snprintf(p.plan->topo, sizeof(p.plan->topo), "%s", observed->name);
	if (r >= 0)
		r = plan_nat(&p, NULL, observed->name);
	if (r >= 0)
		r = plan_uplinks(&p);
	return finish(&p, r, ret_plan);
}

void vnet_plan_free(struct vnet_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ops.n; i++) {
		if (p->ops.v[i].kind == VNET_OP_NAT)
			vnet_nat_change_free(p->ops.v[i].nat);
		if (p->ops.v[i].kind == VNET_OP_UPLINK)
			vnet_uplink_change_free(p->ops.v[i].uplink);
	}
	free(p->ops.v);
	free(p);
}

void vnet_plan_freep(struct vnet_plan **p)
{
	vnet_plan_free(*p);
	*p = NULL;
}
