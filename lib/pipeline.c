// SPDX-License-Identifier: LGPL-2.1-or-later
/* pipeline.c - up and down: observe, mark what is ours, plan, journal, apply */
#include <dirent.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "array.h"
#include "cleanup.h"
#include "ipam.h"
#include "nat.h"
#include "uplink.h"
#include "topo.h"
#include "session.h"
#include "state.h"
#include "kind.h"

void vnet_result_clear(struct vnet_result *r)
{
	vnet_plan_free(r->plan);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}

int vnet_list(struct vnet_session *s, struct vnet_topo_info **ret, size_t *ret_n)
{
	return vnet_state_list(s->st, ret, ret_n);
}

/* ---- ownership: recorded in the store and tagged in the kernel ---- */

struct owned {
	struct vnet_state_row *rows;
	size_t n;
	char tag[VNET_NAMSIZ + 8];
	bool by_tag; /* recover: the tag alone proves it (the store was lost) */
};

static int row_cmp(const void *key, const void *elem)
{
	const struct vnet_state_row *a = key, *b = elem;
	int c = strcmp(a->kind, b->kind);

	if (!c)
		c = strcmp(a->ns, b->ns);
	return c ? c : strcmp(a->name, b->name);
}

/* A namespace's row, whatever node name it records. */
static int ns_row_cmp(const void *key, const void *elem)
{
	const struct vnet_state_row *b = elem;
	int c = strcmp("ns", b->kind);

	return c ? c : strcmp(key, b->ns);
}

static const struct vnet_state_row *ns_row(const struct owned *o, const char *ns)
{
	if (!o->n)
		return NULL; /* bsearch() wants a base even for no elements */
	return bsearch(ns, o->rows, o->n, sizeof(*o->rows), ns_row_cmp);
}

static const struct vnet_state_row *row_of(const struct owned *o, const char *kind, const char *ns,
					   const char *name)
{
	struct vnet_state_row key;

	if (!o->n)
		return NULL;
	snprintf(key.kind, sizeof(key.kind), "%s", kind);
	snprintf(key.ns, sizeof(key.ns), "%s", ns);
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, o->rows, o->n, sizeof(*o->rows), row_cmp);
}

/*
 * Is an object whose tag says @alias ours? Only when it carries our tag, and the store
 * records it (or, to recover a lost store, on the tag alone). vnet tags everything it
 * makes before a crash can leave it untagged (namespaces before they are mounted,
 * tun/taps before they are persistent, other links in the batch that creates them), so
 * an untagged object is never taken for vnet's, whatever the store says.
 */
static bool ours(const struct owned *o, const struct vnet_state_row *row, const char *alias)
{
	return (row || o->by_tag) && !strcmp(alias, o->tag);
}

/* Is untagged @l, recorded, the far end of a pair of ours, or on a parent of ours? */
static bool far_end_ours(const struct vnet_model *m, const struct vnet_link *l)
{
	const struct vnet_link *p;

	if (vnet_kind_has(l->kind, VNET_KIND_F_PARENT) && l->parent[0]) {
		p = vnet_model_find_link(m, l->parent_ns, l->parent);
		return p && p->owned && strcmp(l->parent_ns, l->ns);
	}
	if (!vnet_kind_has(l->kind, VNET_KIND_F_PAIR) || !l->peer[0])
		return false;
	p = vnet_model_find_link(m, l->peer_ns, l->peer);
	return p && p->owned && vnet_kind_has(p->kind, VNET_KIND_F_PAIR) &&
	       !strcmp(p->peer, l->name) && !strcmp(p->peer_ns, l->ns);
}

/*
 * The far end of a pair whose near end is ours is ours: both were born in one message,
 * the near end tagged in the same batch; the far end's tag goes in a later batch, to
 * its own namespace, and a crash may come between. So is a link made on a parent of
 * ours in another namespace (a macvlan placed in a container), tagged there later.
 */
static void mark_far_ends(struct vnet_model *m, const struct owned *o)
{
	for (size_t i = 0; i < m->links.n; i++) {
		struct vnet_link *l = &m->links.v[i];

		if (l->owned || l->alias[0] || (!o->by_tag && !row_of(o, "link", l->ns, l->name)))
			continue;
		l->owned = far_end_ours(m, l);
	}
}

/* Recovering: an address or route is the topology's when it is on a link or in a
 * namespace that is. */
static bool held_by_ours(const struct vnet_model *m, const char *ns, const char *dev)
{
	const struct vnet_ns *n = vnet_model_find_ns(m, ns);
	const struct vnet_link *l = dev[0] ? vnet_model_find_link(m, ns, dev) : NULL;

	return (n && n->owned) || (l && l->owned);
}

/*
 * Interfaces the kernel itself puts in every new namespace when their module is loaded
 * (fallback tunnel devices, net.core.fb_tunnels_only_for_init_net = 0): not a stranger's.
 */
static bool kernel_made(const char *name)
{
	static const char *const fallback[] = { "lo",	   "sit0",     "tunl0",	    "ip6tnl0",
						"ip6gre0", "gre0",     "gretap0",   "erspan0",
						"ip_vti0", "ip6_vti0", "ip6erspan0" };

	for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++)
		if (!strcmp(name, fallback[i]))
			return true;
	return false;
}

/* A namespace of ours that holds an interface someone else made keeps it alive. */
static void mark_foreign(struct vnet_model *m)
{
	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		struct vnet_ns *ns =
			l->owned || kernel_made(l->name) ? NULL : vnet_model_find_ns(m, l->ns);

		if (ns && ns->owned && !ns->foreign[0])
			snprintf(ns->foreign, sizeof(ns->foreign), "%s", l->name);
	}
}

/* vnet's nftables table is ours by its comment and its row; forwarding by its row alone
 * (the kernel cannot say who turned it on). */
static void mark_nat(struct vnet_nat *nat, const struct owned *o)
{
	nat->owned = nat->exists && nat->seen && nat->seen->tagged &&
		     (o->by_tag || row_of(o, "nft", nat->ns, nat->table));
	nat->forward_owned = row_of(o, "sysctl", nat->ns, VNET_SYSCTL_FORWARD) != NULL;
}

/* Observe marks what carries our tag; keep only what the store also records. */
static void mark_owned(struct vnet_model *m, const struct owned *o)
{
	char key[128];

	for (size_t i = 0; i < m->ns.n; i++) {
		struct vnet_ns *ns = &m->ns.v[i];
		const struct vnet_link *lo = vnet_model_find_link(m, ns->name, "lo");

		ns->owned = ns->exists && ns->name[0] && lo &&
			    ours(o, ns_row(o, ns->name), lo->alias);
	}
	for (size_t i = 0; i < m->links.n; i++) {
		struct vnet_link *l = &m->links.v[i];

		l->owned = l->kind && ours(o, row_of(o, "link", l->ns, l->name), l->alias);
	}
	mark_far_ends(m, o);
	mark_foreign(m);
	for (size_t i = 0; i < m->addrs.n; i++) {
		struct vnet_addr *a = &m->addrs.v[i];

		vnet_state_key_addr(a, key, sizeof(key));
		a->owned = a->owned && (o->by_tag ? held_by_ours(m, a->ns, a->dev) :
						    row_of(o, "addr", a->ns, key) != NULL);
	}
	for (size_t i = 0; i < m->routes.n; i++) {
		struct vnet_route *r = &m->routes.v[i];

		vnet_state_key_route(r, key, sizeof(key));
		r->owned = r->owned && (o->by_tag ? held_by_ours(m, r->ns, r->dev) :
						    row_of(o, "route", r->ns, key) != NULL);
	}
	mark_nat(&m->nat, o);
}

/* ---- notes: what the user must be told beside the plan ---- */

void vnet_result_note(struct vnet_result *res, const char *fmt, ...)
{
	size_t old;
	char line[512];
	char *n;
	va_list ap;

	if (!res)
		return;
	old = res->notes ? strlen(res->notes) : 0;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): clang 14 misses the va_start
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = realloc(res->notes, old + strlen(line) + 2);
	if (!n)
		return; /* a note lost to memory: the plan and the errors still tell the rest */
	snprintf(n + old, strlen(line) + 2, "%s\n", line);
	res->notes = n;
}

/* Recorded objects that exist but are not (or no longer) provably ours are left alone. */
static void note_foreign(const struct vnet_model *m, const struct owned *o, struct vnet_result *res)
{
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct vnet_ns *ns = &m->ns.v[i];

		if (ns->exists && !ns->owned && ns->name[0] && ns_row(o, ns->name))
			vnet_result_note(
				res,
				"left namespace %s alone: it exists but its lo does not carry the"
				" tag %s, so vnet did not make it",
				ns->name, o->tag);
		if (ns->owned && ns->foreign[0])
			vnet_result_note(
				res,
				"kept namespace %s: it holds interface %s, which vnet did not"
				" make; once that is gone, vnet down removes the namespace",
				ns->name, ns->foreign);
	}
	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];

		if (!l->owned && l->kind && row_of(o, "link", l->ns, l->name))
			vnet_result_note(
				res, "left interface %s in %s alone: it does not carry the tag %s",
				l->name, l->ns[0] ? l->ns : "the host namespace", o->tag);
	}
}

/* The namespaces to read: those @desired names and those @o records, each once. */
static int ns_list(const struct vnet_model *desired, const struct owned *o, const char ***ret,
		   size_t *ret_n)
{
	size_t n = 0, u = 0, nd = desired ? desired->ns.n : 0;
	const char **v = calloc(nd + o->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nd; i++)
		v[n++] = desired->ns.v[i].name;
	for (size_t i = 0; i < o->n; i++)
		v[n++] = o->rows[i].ns;
	qsort(v, n, sizeof(*v), vnet_str_cmp);
	for (size_t i = 0; i < n; i++)
		if (!u || strcmp(v[u - 1], v[i]))
			v[u++] = v[i];
	*ret = v;
	*ret_n = u;
	return 0;
}

/* The store knows which node each namespace is; vnet's own namespace is the host. */
static void name_nodes(struct vnet_model *m, const struct owned *o)
{
	size_t plen = strlen(o->tag) - strlen(VNET_TAG_PREFIX);

	for (size_t i = 0; i < m->ns.n; i++) {
		struct vnet_ns *ns = &m->ns.v[i];
		const struct vnet_state_row *row = ns_row(o, ns->name);
		const char *name = ns->name;

		/* recovering: the node is what follows "TOPO-" in the namespace's name */
		if (!row && o->by_tag && strlen(name) > plen + 1 && name[plen] == '-')
			name += plen + 1;
		snprintf(ns->node, sizeof(ns->node), "%.63s",
			 row	 ? row->name :
			 name[0] ? name :
				   "host");
	}
}

#define OBS_CLEAN (1U << 0) /* remove the namespace files a crash left half made (down) */
#define OBS_NOTES (1U << 1) /* note the recorded objects that are not ours */

/* Namespace files an interrupted run left between their making and their mount. */
static void clean_debris(const struct owned *o, const char **ns, size_t n, struct vnet_result *res)
{
	for (size_t i = 0; i < n; i++)
		if (ns[i][0] && vnet_netns_debris(ns[i], o->tag) == 1)
			vnet_result_note(res,
					 "removed /run/netns/%s, the file of a namespace that an"
					 " interrupted run did not finish",
					 ns[i]);
}

/* vnet's nftables table of @topo, where @desired wants it or the store records it. */
static int observe_nat(const char *topo, const struct vnet_model *desired, const struct owned *o,
		       struct vnet_model *m)
{
	const char *ns = NULL;
	char table[VNET_NAMSIZ + 8];

	snprintf(table, sizeof(table), "vnet-%s", topo);
	if (desired && desired->nat.table[0])
		ns = desired->nat.ns;
	for (size_t i = 0; !ns && i < o->n; i++)
		if (!strcmp(o->rows[i].kind, "nft") && !strcmp(o->rows[i].name, table))
			ns = o->rows[i].ns;
	if (!ns && o->by_tag) { /* recovering: the host part, sandboxed or not */
		char host[VNET_NAMSIZ + 8];

		snprintf(host, sizeof(host), "%s-host", topo);
		ns = vnet_model_find_ns(m, host) ? vnet_model_find_ns(m, host)->name : "";
	}
	return ns ? vnet_nat_read(ns, table, o->tag, m) : 0;
}

/* The NICs @topo has taken over (from the store) and those @desired names, as they are. */
static int observe_uplinks(struct vnet_session *s, const char *topo,
			   const struct vnet_model *desired, struct vnet_model *m,
			   struct vnet_result *res, struct vnet_error *reterr)
{
	int r = vnet_state_uplinks(s->st, topo, m, reterr);

	for (size_t i = 0; r >= 0 && desired && i < desired->uplinks.n; i++) {
		const struct vnet_uplink *w = &desired->uplinks.v[i];
		bool known = false;

		for (size_t j = 0; j < m->uplinks.n && !known; j++)
			known = !strcmp(m->uplinks.v[j].ns, w->ns) &&
				!strcmp(m->uplinks.v[j].nic, w->nic);
		if (!known && !vnet_model_add_uplink(m))
			r = -ENOMEM;
		else if (!known)
			m->uplinks.v[m->uplinks.n - 1] = *w;
	}
	for (size_t i = 0; r >= 0 && i < m->uplinks.n; i++) {
		struct vnet_uplink *u = &m->uplinks.v[i];
		struct vnet_nl *nl;

		r = vnet_nlset_get(&s->nls, u->ns, &nl);
		if (r == -ENOENT) { /* its namespace is gone, and the NIC with it */
			r = 0;
			continue;
		}
		if (r >= 0 && u->owned && !u->saved) {
			vnet_result_note(
				res,
				"the state store's record of %s as it was is not readable: "
				"taken back from what %s carries that is not vnet's",
				u->nic, u->bridge);
			r = vnet_uplink_reclaim(nl, u);
		} else if (r >= 0) {
			r = vnet_uplink_observe(nl, u);
		}
		if (r < 0)
			vnet_error_set(reterr, r, u->nic, "read", "%s", strerror(-r));
	}
	return r;
}

/* Read the kernel: the namespaces @desired names (if any), all that @topo owns, and @extra. */
static int observe(struct vnet_session *s, const char *topo, const struct vnet_model *desired,
		   unsigned flags, struct vnet_model **ret, struct vnet_result *res,
		   struct vnet_error *reterr)
{
	struct owned o = { 0 };
	const char **ns = NULL;
	size_t nns = 0;
	long t0 = vnet_now_us();
	int r;

	snprintf(o.tag, sizeof(o.tag), VNET_TAG_PREFIX "%s", topo);
	r = vnet_state_rows(s->st, topo, &o.rows, &o.n);
	if (r < 0)
		return vnet_error_set(reterr, r, "state store", "read", "%s", strerror(-r));
	r = ns_list(desired, &o, &ns, &nns);
	if (r >= 0 && (flags & OBS_CLEAN))
		clean_debris(&o, ns, nns, res);
	if (r >= 0)
		r = vnet_observe(&s->nls, topo, ns, nns, ret);
	if (r >= 0)
		r = observe_nat(topo, desired, &o, *ret);
	if (r >= 0 && (r = observe_uplinks(s, topo, desired, *ret, res, reterr)) < 0) {
		free(ns);
		free(o.rows);
		return r; /* said: a store that cannot give a NIC back is not a kernel's failure */
	}
	if (r >= 0) {
		mark_owned(*ret, &o);
		name_nodes(*ret, &o);
		if (flags & OBS_NOTES)
			note_foreign(*ret, &o, res);
	} else {
		vnet_error_set(reterr, r, "kernel", "read", "%s", strerror(-r));
	}
	free(ns);
	free(o.rows);
	res->observe_us += vnet_now_us() - t0;
	return r;
}

static bool interrupted(struct vnet_session *s, const char *topo)
{
	struct vnet_topo_info info;

	return vnet_state_get_topo(s->st, topo, &info) >= 0 && info.interrupted;
}

/* What of @have is owned, as a model of @topo to record. */
static struct vnet_model *owned_part(const struct vnet_model *have, const char *topo,
				     const char *file, bool sandbox)
{
	struct vnet_model *m = vnet_model_new();
	bool ok = m != NULL;

	for (size_t i = 0; ok && i < have->ns.n; i++)
		if (have->ns.v[i].owned)
			ok = vnet_model_add_ns(m) && (m->ns.v[m->ns.n - 1] = have->ns.v[i], true);
	for (size_t i = 0; ok && i < have->links.n; i++)
		if (have->links.v[i].owned)
			ok = vnet_model_add_link(m) &&
			     (m->links.v[m->links.n - 1] = have->links.v[i], true);
	for (size_t i = 0; ok && i < have->addrs.n; i++)
		if (have->addrs.v[i].owned)
			ok = vnet_model_add_addr(m) &&
			     (m->addrs.v[m->addrs.n - 1] = have->addrs.v[i], true);
	for (size_t i = 0; ok && i < have->routes.n; i++)
		if (have->routes.v[i].owned)
			ok = vnet_model_add_route(m) &&
			     (m->routes.v[m->routes.n - 1] = have->routes.v[i], true);
	if (!ok) {
		vnet_model_free(m);
		return NULL;
	}
	for (size_t i = 0; ok && i < have->uplinks.n; i++) {
		const struct vnet_uplink *u = &have->uplinks.v[i];
		struct vnet_uplink *c;

		/* kept on record while the NIC is still in its bridge, or anything of it */
		if (!u->owned || !u->exists || !(u->taken || !strcmp(u->master, u->bridge)))
			continue;
		c = vnet_model_add_uplink(m);
		ok = c != NULL;
		if (ok) {
			*c = *u;
			c->saved = NULL;
			ok = !u->saved || vnet_uplink_saved_dup(u->saved, &c->saved) >= 0;
		}
	}
	if (!ok) {
		vnet_model_free(m);
		return NULL;
	}
	if (have->nat.owned) {
		snprintf(m->nat.ns, sizeof(m->nat.ns), "%s", have->nat.ns);
		snprintf(m->nat.table, sizeof(m->nat.table), "%s", have->nat.table);
		m->nat.forward_owned = have->nat.forward_owned && have->nat.forward;
	}
	snprintf(m->name, sizeof(m->name), "%s", topo);
	snprintf(m->file, sizeof(m->file), "%s", file);
	m->sandbox = sandbox;
	return m;
}

/* How many objects a model holds (its namespaces but vnet's own). */
static size_t model_objects(const struct vnet_model *m)
{
	size_t n = m->links.n + m->addrs.n + m->routes.n + m->uplinks.n + (m->nat.table[0] != '\0');

	for (size_t i = 0; i < m->ns.n; i++)
		n += m->ns.v[i].name[0] != '\0';
	return n;
}

/*
 * After a failed apply, or a down that had to keep a namespace: record what is vnet's
 * in the kernel now, read back, so that nothing this or an interrupted earlier run made
 * is left without a record (an undo may have failed in part) and nothing removed stays
 * recorded. @desired: the file's model (its namespaces are read too), or NULL.
 */
static void settle(struct vnet_session *s, const struct vnet_topo_info *t,
		   const struct vnet_model *desired, struct vnet_result *res)
{
	struct vnet_error e = { 0 };
	struct vnet_model *have = NULL, *mine = NULL;
	int r = observe(s, t->name, desired, 0, &have, res, &e);

	if (r >= 0) {
		mine = owned_part(have, t->name, t->file, t->sandbox);
		r = mine ? vnet_state_settle(s->st, mine, &e) : -ENOMEM;
	}
	if (r < 0) {
		char why[VNET_MSGSIZ + 200];

		vnet_error_format(&e, why, sizeof(why));
		vnet_result_note(
			res,
			"could not record what is left of the topology: %s; the next vnet up"
			" or vnet down repairs it from the journal",
			e.msg[0] ? why : strerror(-r));
	}
	vnet_model_free(have);
	vnet_model_free(mine);
}

/* The record of @m, for settle(). */
static void info_of(const struct vnet_model *m, struct vnet_topo_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", m->name);
	snprintf(ret->file, sizeof(ret->file), "%s", m->file);
	ret->sandbox = m->sandbox;
}

/* Does the observed model keep a namespace of ours for what someone else put in it? */
static bool keeps_ns(const struct vnet_model *have)
{
	for (size_t i = 0; have && i < have->ns.n; i++)
		if (have->ns.v[i].owned && have->ns.v[i].foreign[0])
			return true;
	return false;
}

static void note_reserve(struct vnet_session *s, struct vnet_result *res)
{
	char dir[300];

	if (!vnet_state_used_reserve(s->st))
		return;
	snprintf(dir, sizeof(dir), "%s", vnet_state_dir(s->st));
	vnet_result_note(res,
			 "the disk of the state store (%s) is full: vnet used the room it keeps for"
			 " this; free some space",
			 dir);
}

struct commit_ctx {
	struct vnet_session *s;
	const struct vnet_model *m;
	int (*hold)(void *data, const struct vnet_result *res, struct vnet_error *reterr);
	void *data;
	const struct vnet_result *res;
};

static int commit_up(void *data, struct vnet_error *reterr)
{
	const struct commit_ctx *c = data;
	int r = vnet_state_commit(c->s->st, c->m, reterr);

	/* on trial (--try): what the holder says decides; its no undoes it all */
	return r < 0 || !c->hold ? r : c->hold(c->data, c->res, reterr);
}

/* Does vnet own IPv4 forwarding once @plan has run? */
static bool forward_owned(const struct vnet_model *have, const struct vnet_plan *plan)
{
	for (size_t i = 0; i < plan->ops.n; i++)
		if (plan->ops.v[i].kind == VNET_OP_NAT && plan->ops.v[i].nat &&
		    plan->ops.v[i].nat->forward >= 0)
			return plan->ops.v[i].nat->forward == 1;
	return have && have->nat.forward_owned && have->nat.forward;
}

/* The ports of @br (those of kind @kind; NULL: all) that have no MTU of their own take its. */
static void ports_take_mtu(struct vnet_model *want, const struct vnet_link *br,
			   const struct vnet_kind *kind)
{
	if (!(br->has & VNET_LINK_HAS_MTU))
		return;
	for (size_t j = 0; j < want->links.n; j++) {
		struct vnet_link *l = &want->links.v[j];

		if (!strcmp(l->ns, br->ns) && !strcmp(l->master, br->name) &&
		    !(l->has & VNET_LINK_HAS_MTU) && (!kind || l->kind == kind)) {
			l->mtu = br->mtu;
			l->has |= VNET_LINK_HAS_MTU;
		}
	}
}

/*
 * A bridge that takes a NIC over wears the NIC's MAC (the gateway's ARP entry stays
 * right, and the bridge's MAC no longer follows its ports) and MTU, and so do its
 * ports, unless the file says otherwise. After an interrupted run, a take-over that
 * looks whole is run again all the same: its probe may not have run.
 */
static void shape_uplinks(struct vnet_model *want, struct vnet_model *have, struct vnet_result *res)
{
	for (size_t i = 0; i < have->uplinks.n; i++) {
		struct vnet_uplink *h = &have->uplinks.v[i];
		struct vnet_link *br = NULL;
		char where[300];

		h->taken = h->taken && !res->recovered;
		for (size_t j = 0; j < want->uplinks.n && !br; j++)
			if (!strcmp(want->uplinks.v[j].ns, h->ns) &&
			    !strcmp(want->uplinks.v[j].nic, h->nic))
				br = vnet_model_find_link(want, h->ns, want->uplinks.v[j].bridge);
		if (!br || !h->saved)
			continue;
		if (!h->taken && vnet_nft_names_link(h->ns, h->nic, where, sizeof(where)) > 0)
			vnet_result_note(
				res,
				"nftables rules name %s (%s): they do not follow it onto %s,"
				" and what they let in through %s will come through %s: check"
				" them, or use vnet up --try",
				h->nic, where, br->name, h->nic, br->name);
		if (vnet_bridge_stp(br) && !h->taken)
			vnet_result_note(
				res,
				"bridge %s has STP on: its uplink %s forwards only after "
				"listening and learning (2 x forward_delay), an outage that"
				" long, which the probe waits out; an uplink bridge is better "
				"without STP",
				br->name, h->nic);
		if (!(br->has & VNET_LINK_HAS_MAC))
			memcpy(br->mac, h->saved->mac, 6);
		if (!(br->has & VNET_LINK_HAS_MTU))
			br->mtu = h->saved->mtu;
		br->has |= VNET_LINK_HAS_MAC | VNET_LINK_HAS_MTU;
		ports_take_mtu(want, br, NULL);
	}
	/* a VM's tap takes its bridge's MTU, whatever makes it: the guest's NIC follows it */
	for (size_t i = 0; i < want->links.n; i++)
		if (vnet_kind_has(want->links.v[i].kind, VNET_KIND_F_MASTER))
			ports_take_mtu(want, &want->links.v[i], vnet_kind_find("tap"));
}

/* Observe, lease @want's addresses, plan. */
static int plan_up(struct vnet_session *s, struct vnet_model *want, bool dry,
		   struct vnet_result *ret, struct vnet_error *reterr)
{
	struct vnet_model *have = NULL;
	/* no cleaning here: a refused up changes nothing; apply removes a half-made
	 * namespace file where it makes the namespace (vnet_netns_add()) */
	int r = observe(s, want->name, want, 0, &have, ret, reterr);
	long t0;

	if (r >= 0)
		r = vnet_hosts_here(want, have, reterr);
	/* addresses before the plan, which compares them with the kernel's */
	t0 = vnet_now_us();
	if (r >= 0)
		r = vnet_ipam_lease(s->st, want, have, dry, reterr);
	ret->ipam_us += vnet_now_us() - t0;
	if (r >= 0 && have)
		shape_uplinks(want, have, ret);
	if (r >= 0)
		r = vnet_plan_up(want, have, &ret->plan, reterr);
	if (r >= 0)
		want->nat.forward_owned = forward_owned(have, ret->plan);
	vnet_model_free(have);
	return r;
}

/* After a failed up: a topology that has nothing built keeps no leases either. */
static void release_if_gone(struct vnet_session *s, const struct vnet_model *want)
{
	struct vnet_topo_info info;
	struct vnet_model *none = vnet_model_new();

	if (none && vnet_state_get_topo(s->st, want->name, &info) == -ENOENT) {
		snprintf(none->name, sizeof(none->name), "%s", want->name);
		(void)vnet_ipam_keep(s->st, none, NULL); /* else the next up or down does it */
	}
	vnet_model_free(none);
}

/* A --try whose holder is gone (killed: it held the lock we hold now) is over. */
static void end_stale_try(struct vnet_session *s, const char *topo, struct vnet_result *res)
{
	struct vnet_try t;

	if (vnet_state_try_get(s->st, topo, &t) < 0)
		return;
	if (!strcmp(t.state, "pending") || !strcmp(t.state, "rolling back"))
		vnet_result_note(res,
				 "the --try of this topology held by pid %d ended before its "
				 "deadline without a decision (the process was killed); what it "
				 "built stays until this command changes it",
				 (int)t.pid);
	(void)vnet_state_try_forget(s->st, topo);
}

int vnet_up(struct vnet_session *s, const struct vnet_model *desired, unsigned flags,
	    struct vnet_result *ret, struct vnet_error *reterr)
{
	return vnet_up_hold(s, desired, flags, NULL, NULL, ret, reterr);
}

int vnet_up_hold(struct vnet_session *s, const struct vnet_model *desired, unsigned flags,
		 int (*hold)(void *data, const struct vnet_result *res, struct vnet_error *reterr),
		 void *data, struct vnet_result *ret, struct vnet_error *reterr)
{
	_cleanup_(vnet_model_freep) struct vnet_model *want = vnet_model_dup(desired);
	struct commit_ctx c = { s, want, hold, data, ret };
	bool dry = flags & VNET_UP_DRY_RUN;
	long t0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!want)
		return vnet_error_set(reterr, -ENOMEM, NULL, NULL, "out of memory");
	ret->recovered = interrupted(s, want->name);
	if (!dry)
		end_stale_try(s, want->name, ret);
	r = plan_up(s, want, dry, ret, reterr);
	if (dry)
		return r;
	if (r >= 0 && !ret->plan->ops.n)
		r = ret->recovered ? vnet_state_commit(s->st, want, reterr) : 0;
	else if (r >= 0)
		r = vnet_state_begin(s->st, want, ret->plan, reterr);
	if (r >= 0 && ret->plan->ops.n) {
		t0 = vnet_now_us();
		r = vnet_apply(&s->nls, ret->plan, VNET_APPLY_UNDO, commit_up, &c, ret, reterr);
		ret->apply_us = vnet_now_us() - t0;
		if (r < 0) {
			struct vnet_topo_info t;

			info_of(want, &t);
			settle(s, &t, want, ret);
		}
	}
	/* leases follow the file: those of containers it no longer has go back to the pool */
	t0 = vnet_now_us();
	if (r >= 0)
		r = vnet_ipam_keep(s->st, want, reterr);
	else
		release_if_gone(s, want);
	ret->ipam_us += vnet_now_us() - t0;
	note_reserve(s, ret);
	return r;
}

/* The topology's record; Return: 0, or -ENOENT ("not up") or the store's error, said. */
static int topo_info(struct vnet_session *s, const char *topo, struct vnet_topo_info *ret,
		     struct vnet_error *reterr)
{
	int r = vnet_state_get_topo(s->st, topo, ret);

	if (r == -ENOENT)
		return vnet_error_set(reterr, r, "", "",
				      "no topology named \"%s\" is up (see vnet list)", topo);
	if (r < 0)
		return vnet_error_set(reterr, r, "state store", "read", "%s (%s)", strerror(-r),
				      vnet_state_dir(s->st));
	return 0;
}

int vnet_down(struct vnet_session *s, const char *topo, unsigned flags, struct vnet_result *ret,
	      struct vnet_error *reterr)
{
	bool dry = flags & VNET_DOWN_DRY_RUN, kept = false;
	struct vnet_topo_info info;
	struct vnet_model *have = NULL;
	long t0;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = topo_info(s, topo, &info, reterr);
	if (r < 0)
		return r;
	ret->recovered = info.interrupted;
	if (!dry)
		end_stale_try(s, topo, ret);
	r = observe(s, topo, NULL, dry ? OBS_NOTES : OBS_CLEAN | OBS_NOTES, &have, ret, reterr);
	if (r >= 0) {
		r = vnet_plan_down(have, &ret->plan);
		kept = keeps_ns(have);
	}
	vnet_model_free(have);
	if (r < 0 || dry)
		return r;
	t0 = vnet_now_us();
	r = vnet_apply(&s->nls, ret->plan, VNET_APPLY_TOLERANT, NULL, NULL, ret, reterr);
	ret->apply_us = vnet_now_us() - t0;
	if (r >= 0 && kept)
		settle(s, &info, NULL, ret); /* the kept namespaces stay on record */
	else if (r >= 0)
		r = vnet_state_forget(s->st, topo, reterr);
	note_reserve(s, ret);
	return r;
}

/* ---- recovery of a lost store, from the kernel's tags ---- */

/* vnet's own namespace, and every namespace under /run/netns named "TOPO-...". */
static int candidates(const char *topo, struct vnet_strv *ret)
{
	DIR *d = opendir("/run/netns");
	size_t len = strlen(topo);
	struct dirent *e;
	struct stat own, st;
	bool known = stat("/proc/thread-self/ns/net", &own) == 0;
	int r = vnet_strv_add(ret, "%s", "");

	/* one that is vnet's own namespace by another name is read once, as "" */
	while (r >= 0 && d && (e = readdir(d)))
		if (!strncmp(e->d_name, topo, len) && e->d_name[len] == '-' &&
		    strlen(e->d_name) < VNET_NAMSIZ &&
		    !(known && fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
		      st.st_dev == own.st_dev && st.st_ino == own.st_ino))
			r = vnet_strv_add(ret, "%s", e->d_name);
	if (d)
		closedir(d);
	return r;
}

/*
 * A lost store lost the NICs as they were, too. A tagged bridge whose port is not vnet's
 * and wears the bridge's MAC (vnet pins a taken NIC's MAC on its bridge) is an uplink: what
 * the bridge carries that is not vnet's own came from that NIC, and goes back to it at down.
 */
static int reclaim_uplinks(struct vnet_session *s, struct vnet_model *m)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < m->links.n; i++) {
		const struct vnet_link *br = &m->links.v[i], *nic = NULL;
		struct vnet_uplink *u;
		struct vnet_nl *nl;

		if (!br->owned || !vnet_kind_has(br->kind, VNET_KIND_F_MASTER))
			continue;
		for (size_t j = 0; j < m->links.n && !nic; j++)
			if (!m->links.v[j].owned && !strcmp(m->links.v[j].ns, br->ns) &&
			    !strcmp(m->links.v[j].master, br->name) &&
			    !memcmp(m->links.v[j].mac, br->mac, 6))
				nic = &m->links.v[j];
		if (!nic || (r = vnet_nlset_get(&s->nls, br->ns, &nl)) < 0)
			continue;
		u = vnet_model_add_uplink(m);
		if (!u)
			return -ENOMEM;
		snprintf(u->ns, sizeof(u->ns), "%s", br->ns);
		snprintf(u->bridge, sizeof(u->bridge), "%s", br->name);
		snprintf(u->nic, sizeof(u->nic), "%s", nic->name);
		u->owned = true;
		r = vnet_uplink_reclaim(nl, u);
	}
	return r;
}

/* The model of what carries @topo's tag; Return: 0 or -errno. */
static int read_tagged(struct vnet_session *s, const char *topo, const char *file,
		       struct vnet_model **ret, struct vnet_result *res)
{
	struct owned o = { .by_tag = true };
	_cleanup_(vnet_model_freep) struct vnet_model *have = NULL;
	_cleanup_(vnet_strv_free) struct vnet_strv l = { 0 };
	char host[VNET_NAMSIZ + 8];
	long t0 = vnet_now_us();
	int r = candidates(topo, &l);

	snprintf(o.tag, sizeof(o.tag), VNET_TAG_PREFIX "%s", topo);
	if (r >= 0)
		r = vnet_observe(&s->nls, topo, (const char *const *)l.v, l.n, &have);
	if (r >= 0)
		r = observe_nat(topo, NULL, &o, have);
	if (r >= 0) {
		mark_owned(have, &o);
		name_nodes(have, &o);
		r = reclaim_uplinks(s, have);
	}
	if (r >= 0) {
		snprintf(host, sizeof(host), "%s-host", topo);
		const struct vnet_ns *h = vnet_model_find_ns(have, host);

		*ret = owned_part(have, topo, file, h && h->owned);
		r = *ret ? 0 : -ENOMEM;
	}
	res->observe_us = vnet_now_us() - t0;
	return r;
}

int vnet_recover(struct vnet_session *s, const char *topo, struct vnet_result *ret,
		 struct vnet_error *reterr)
{
	struct vnet_topo_info info = { 0 };
	struct vnet_model *mine = NULL;
	int r = vnet_state_get_topo(s->st, topo, &info);

	memset(ret, 0, sizeof(*ret));
	if (r < 0 && r != -ENOENT)
		return topo_info(s, topo, &info, reterr);
	r = read_tagged(s, topo, info.file, &mine, ret);
	if (r < 0)
		return vnet_error_set(reterr, r, "kernel", "read", "%s", strerror(-r));
	ret->done = model_objects(mine);
	if (!ret->done)
		r = vnet_error_set(reterr, -ENOENT, "", "",
				   "no namespace or interface carries the tag " VNET_TAG_PREFIX
				   "%s: nothing to recover",
				   topo);
	else
		r = vnet_state_settle(s->st, mine, reterr);
	note_reserve(s, ret);
	vnet_model_free(mine);
	return r;
}

int vnet_observe_topology(struct vnet_session *s, const char *topo, struct vnet_model **ret_model,
			  struct vnet_error *reterr)
{
	struct vnet_result res = { 0 };
	struct vnet_topo_info info;
	int r = topo_info(s, topo, &info, reterr);

	if (r < 0)
		return r;
	r = observe(s, topo, NULL, 0, ret_model, &res, reterr);
	if (r < 0)
		return r;
	snprintf((*ret_model)->name, sizeof((*ret_model)->name), "%s", topo);
	snprintf((*ret_model)->file, sizeof((*ret_model)->file), "%s", info.file);
	(*ret_model)->sandbox = info.sandbox;
	/* the names of the other hosts' VTEPs; without them, vnet show gives their addresses */
	(void)vnet_state_hosts(s->st, topo, *ret_model);
	return 0;
}

/* The namespace of @node in @topo, from the store; Return: true when found. */
static bool node_ns(struct vnet_session *s, const struct vnet_topo_info *t, const char *node,
		    char *ret_ns, size_t len)
{
	struct vnet_state_row *rows = NULL;
	size_t n = 0;
	bool found = false;

	if (!strcmp(node, "host")) {
		vnet_node_ns_name(t->name, "host", t->sandbox, ret_ns, len);
		return true;
	}
	if (vnet_state_rows(s->st, t->name, &rows, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		found = !strcmp(rows[i].kind, "ns") && !strcmp(rows[i].name, node);
		if (found)
			snprintf(ret_ns, len, "%s", rows[i].ns);
	}
	free(rows);
	return found;
}

int vnet_node_lookup(struct vnet_session *s, const char *spec, char *ret_ns, size_t len,
		     struct vnet_error *reterr)
{
	const char *slash = strchr(spec, '/'), *node = slash ? slash + 1 : spec;
	struct vnet_topo_info *v = NULL;
	char seen[256] = "";
	size_t n = 0, hits = 0;

	if (vnet_list(s, &v, &n) < 0)
		return vnet_error_set(reterr, -EIO, "state store", "read",
				      "cannot list topologies");
	for (size_t i = 0; i < n; i++) {
		char ns[VNET_NAMSIZ];

		if (slash && (strlen(v[i].name) != (size_t)(slash - spec) ||
			      strncmp(v[i].name, spec, (size_t)(slash - spec))))
			continue;
		if (!node_ns(s, &v[i], node, ns, sizeof(ns)))
			continue;
		if (!hits++)
			snprintf(ret_ns, len, "%s", ns);
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s/%s",
			 hits > 1 ? ", " : "", v[i].name, node);
	}
	free(v);
	if (!hits)
		return vnet_error_set(reterr, -ENOENT, "", "",
				      "no node \"%s\" in the topologies that are up", spec);
	if (hits > 1)
		return vnet_error_set(reterr, -EINVAL, "", "", "node \"%s\" is ambiguous: %s", spec,
				      seen);
	return 0;
}
