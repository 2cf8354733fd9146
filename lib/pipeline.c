// SPDX-License-Identifier: LGPL-2.1-or-later
/* pipeline.c - up and down: observe, mark what is ours, plan, journal, apply */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "state.h"

struct vnet_session {
	struct vnet_state *st;
	struct vnet_nlset nls;
};

int vnet_session_open(const char *state_dir, bool lock, struct vnet_session **ret_s,
		      struct vnet_error *reterr)
{
	struct vnet_session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = vnet_state_open(state_dir, &s->st, reterr);
	if (r >= 0 && lock)
		r = vnet_state_lock(s->st, reterr);
	if (r < 0) {
		vnet_session_close(s);
		return r;
	}
	*ret_s = s;
	return 0;
}

void vnet_session_close(struct vnet_session *s)
{
	if (!s)
		return;
	vnet_nlset_free(&s->nls);
	vnet_state_close(s->st);
	free(s);
}

struct vnet_nlset *vnet_session_nls(struct vnet_session *s)
{
	return &s->nls;
}

void vnet_result_clear(struct vnet_result *r)
{
	vnet_plan_free(r->plan);
	memset(r, 0, sizeof(*r));
}

int vnet_list(struct vnet_session *s, struct vnet_topo_info **ret, size_t *ret_n)
{
	return vnet_state_list(s->st, ret, ret_n);
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* ---- ownership: recorded in the store and tagged in the kernel ---- */

struct owned {
	struct vnet_state_row *rows;
	size_t n;
	char tag[VNET_NAMSIZ + 8];
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
 * Is an object whose tag says @alias ours? Ours when the store records it and it
 * carries our tag. One more case: an apply that was cut short (a crash) between
 * creating an object and tagging it left a pending row and no tag at all. The
 * plan had seen the name free just before, under the store's lock, so the object
 * is taken as ours; one with another tag never is.
 */
static bool ours(const struct owned *o, const struct vnet_state_row *row, const char *alias)
{
	return row && (!strcmp(alias, o->tag) || (row->pending && !alias[0]));
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

		l->owned = l->kind != VNET_KIND_OTHER &&
			   ours(o, row_of(o, "link", l->ns, l->name), l->alias);
	}
	for (size_t i = 0; i < m->addrs.n; i++) {
		vnet_state_key_addr(&m->addrs.v[i], key, sizeof(key));
		m->addrs.v[i].owned = m->addrs.v[i].owned &&
				      row_of(o, "addr", m->addrs.v[i].ns, key);
	}
	for (size_t i = 0; i < m->routes.n; i++) {
		vnet_state_key_route(&m->routes.v[i], key, sizeof(key));
		m->routes.v[i].owned = m->routes.v[i].owned &&
				       row_of(o, "route", m->routes.v[i].ns, key);
	}
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
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
	qsort(v, n, sizeof(*v), str_cmp);
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
	for (size_t i = 0; i < m->ns.n; i++) {
		struct vnet_ns *ns = &m->ns.v[i];
		const struct vnet_state_row *row = ns_row(o, ns->name);

		snprintf(ns->node, sizeof(ns->node), "%.63s",
			 row	     ? row->name :
			 ns->name[0] ? ns->name :
				       "host");
	}
}

/* Read the kernel: the namespaces @desired names (if any) and all that @topo owns. */
static int observe(struct vnet_session *s, const char *topo, const struct vnet_model *desired,
		   struct vnet_model **ret, struct vnet_result *res, struct vnet_error *reterr)
{
	struct owned o = { 0 };
	const char **ns = NULL;
	size_t nns = 0;
	long t0 = now_us();
	int r;

	snprintf(o.tag, sizeof(o.tag), VNET_TAG_PREFIX "%s", topo);
	r = vnet_state_rows(s->st, topo, &o.rows, &o.n);
	if (r >= 0)
		r = ns_list(desired, &o, &ns, &nns);
	if (r >= 0)
		r = vnet_observe(&s->nls, topo, ns, nns, ret);
	if (r >= 0) {
		mark_owned(*ret, &o);
		name_nodes(*ret, &o);
	} else {
		vnet_error_set(reterr, r, "kernel", "read", "%s", strerror(-r));
	}
	free(ns);
	free(o.rows);
	res->observe_us = now_us() - t0;
	return r;
}

static bool interrupted(struct vnet_session *s, const char *topo)
{
	struct vnet_topo_info info;

	return vnet_state_get_topo(s->st, topo, &info) >= 0 && info.interrupted;
}

int vnet_up(struct vnet_session *s, const struct vnet_model *desired, unsigned flags,
	    struct vnet_result *ret, struct vnet_error *reterr)
{
	struct vnet_model *have = NULL;
	long t0;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->recovered = interrupted(s, desired->name);
	r = observe(s, desired->name, desired, &have, ret, reterr);
	if (r >= 0)
		r = vnet_plan_up(desired, have, &ret->plan, reterr);
	vnet_model_free(have);
	if (r < 0 || (flags & VNET_UP_DRY_RUN))
		return r;
	if (!ret->plan->ops.n)
		return ret->recovered ? vnet_state_commit(s->st, desired) : 0;
	r = vnet_state_begin(s->st, desired, ret->plan, reterr);
	if (r < 0)
		return r;
	t0 = now_us();
	r = vnet_apply(&s->nls, ret->plan, VNET_APPLY_UNDO, &ret->done, reterr);
	ret->apply_us = now_us() - t0;
	if (r < 0) {
		vnet_state_abort(s->st, desired->name);
		return r;
	}
	r = vnet_state_commit(s->st, desired);
	if (r < 0)
		vnet_error_set(reterr, r, "state store", "commit", "%s", strerror(-r));
	return r;
}

int vnet_down(struct vnet_session *s, const char *topo, struct vnet_result *ret,
	      struct vnet_error *reterr)
{
	struct vnet_topo_info info;
	struct vnet_model *have = NULL;
	long t0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (vnet_state_get_topo(s->st, topo, &info) < 0)
		return vnet_error_set(reterr, -ENOENT, "", "",
				      "no topology named \"%s\" is up (see vnet list)", topo);
	ret->recovered = info.interrupted;
	r = observe(s, topo, NULL, &have, ret, reterr);
	if (r >= 0)
		r = vnet_plan_down(have, &ret->plan);
	vnet_model_free(have);
	if (r < 0)
		return r;
	t0 = now_us();
	r = vnet_apply(&s->nls, ret->plan, VNET_APPLY_TOLERANT, &ret->done, reterr);
	ret->apply_us = now_us() - t0;
	if (r < 0)
		return r;
	r = vnet_state_forget(s->st, topo);
	if (r < 0)
		vnet_error_set(reterr, r, "state store", "forget", "%s", strerror(-r));
	return r;
}

int vnet_observe_topology(struct vnet_session *s, const char *topo, struct vnet_model **ret_model,
			  struct vnet_error *reterr)
{
	struct vnet_result res = { 0 };
	struct vnet_topo_info info;
	int r;

	if (vnet_state_get_topo(s->st, topo, &info) < 0)
		return vnet_error_set(reterr, -ENOENT, "", "",
				      "no topology named \"%s\" is up (see vnet list)", topo);
	r = observe(s, topo, NULL, ret_model, &res, reterr);
	if (r < 0)
		return r;
	snprintf((*ret_model)->name, sizeof((*ret_model)->name), "%s", topo);
	snprintf((*ret_model)->file, sizeof((*ret_model)->file), "%s", info.file);
	(*ret_model)->sandbox = info.sandbox;
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
