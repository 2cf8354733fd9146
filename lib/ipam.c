// SPDX-License-Identifier: LGPL-2.1-or-later
/* ipam.c - addresses for containers: leases in the state store, lowest free address first */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "attach.h"
#include "ipam.h"
#include "network.h"
#include "session.h"

/*
 * A lease is (pool, address, owner, topology); a pool is "TOPOLOGY/NETWORK/SUBNET" for a
 * topology's network, or what a caller of vnet_ipam_alloc() names. The primary key
 * (pool, addr) is what makes an address impossible to hand out twice, and UNIQUE (pool,
 * owner) gives an owner one address per pool. Every allocation runs in one write
 * transaction (BEGIN IMMEDIATE), so concurrent processes queue on SQLite's lock, not on
 * vnet's command lock: the CNI plugin leases without it.
 */

/* What a pool holds while a transaction leases from it: which addresses are taken. */
struct pool {
	char key[VNET_NAMSIZ * 2 + 48];
	uint32_t base, size; /* the subnet's first address and its number of addresses */
	uint8_t *used; /* one byte per address: a /8 is 16 MB, so bytes, not worth bits */
	uint32_t next; /* no free address below this one */
};

static void pool_free(struct pool *p)
{
	free(p->used);
	memset(p, 0, sizeof(*p));
}

/* Load @p's leases; the subnet's first and last address and @gw (if any) are never free. */
static int pool_load(struct vnet_state *st, struct pool *p, const char *key, const uint8_t net[4],
		     unsigned plen, const uint8_t *gw)
{
	sqlite3_stmt *s = vnet_state_prepare(st, "SELECT addr FROM lease WHERE pool = ?");
	int rc;

	snprintf(p->key, sizeof(p->key), "%s", key);
	p->base = vnet_ip4(net);
	p->size = plen ? 1U << (32 - plen) : 0;
	p->used = calloc(p->size ? p->size : 1, 1);
	p->next = 1;
	if (!s || !p->used) {
		sqlite3_finalize(s);
		return -ENOMEM;
	}
	p->used[0] = p->used[p->size - 1] = 1;
	if (gw && vnet_ip4(gw) - p->base < p->size)
		p->used[vnet_ip4(gw) - p->base] = 1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint32_t a = (uint32_t)sqlite3_column_int64(s, 0);

		if (a - p->base < p->size)
			p->used[a - p->base] = 1;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : vnet_state_errno(rc);
}

/* Run @sql with parameters ?1 text @a, ?2 number @x, ?3 text @b, ?4 text @c (when not NULL);
 * those @sql does not use are left out (SQLite refuses their binding, harmlessly). The
 * first column of a row goes to *@ret. Return: 1 for a row, 0 for none, or -errno. */
static int exec3(struct vnet_state *st, const char *sql, const char *a, sqlite3_int64 x,
		 const char *b, const char *c, sqlite3_int64 *ret)
{
	sqlite3_stmt *s = vnet_state_cached(st, sql);
	int rc;

	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, x);
	sqlite3_bind_text(s, 3, b, -1, SQLITE_STATIC);
	if (c)
		sqlite3_bind_text(s, 4, c, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && ret)
		*ret = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : vnet_state_errno(rc);
}

#define SQL_OWNED "SELECT addr FROM lease WHERE pool = ?1 AND owner = ?3"
#define SQL_TAKE "INSERT INTO lease (pool, addr, owner, topo) VALUES (?1, ?2, ?3, ?4)"
#define SQL_FREE_ADDR "DELETE FROM lease WHERE pool = ?1 AND (addr = ?2 OR owner = ?3)"

/*
 * @owner's address in pool @p: @had, the one it has (0: none), while it is a host address
 * of the pool; else @hint when free, else the lowest free one. Return: 0, 1 for a new
 * lease, -ENOSPC when the pool is full, or -errno.
 */
static int lease_one(struct vnet_state *st, struct pool *p, const char *owner, const char *topo,
		     uint32_t had, uint32_t hint, uint32_t *ret)
{
	int r;

	if (had - p->base > 0 && had - p->base < p->size - 1) {
		*ret = had;
		return 0;
	}
	if (hint - p->base > 0 && hint - p->base < p->size - 1 && !p->used[hint - p->base]) {
		*ret = hint;
	} else {
		while (p->next < p->size - 1 && p->used[p->next])
			p->next++;
		if (p->next >= p->size - 1)
			return -ENOSPC;
		*ret = p->base + p->next;
	}
	p->used[*ret - p->base] = 1;
	/* a lease outside the subnet (the file changed it) gives way to the new one */
	r = had ? exec3(st, SQL_FREE_ADDR, p->key, -1, owner, NULL, NULL) : 0;
	if (r >= 0)
		r = exec3(st, SQL_TAKE, p->key, *ret, owner, topo, NULL);
	return r < 0 ? r : 1;
}

/* A fixed address is the owner's lease: whoever else of the topology had it leases anew. */
static int lease_fixed(struct vnet_state *st, struct pool *p, const char *owner, const char *topo,
		       const uint8_t a[4])
{
	int r = exec3(st, SQL_FREE_ADDR, p->key, vnet_ip4(a), owner, NULL, NULL);

	if (r >= 0)
		r = exec3(st, SQL_TAKE, p->key, vnet_ip4(a), owner, topo, NULL);
	return r;
}

/* A fixed address in the pool's view: taken, by a fixed address (2), which a container that
 * leased it before must give up. */
#define FIXED 2

static void mark_fixed(struct pool *p, const uint8_t a[4])
{
	if (vnet_ip4(a) - p->base < p->size)
		p->used[vnet_ip4(a) - p->base] = FIXED;
}

void vnet_ipam_pool_key(const char *topo, const struct vnet_network *n, char *buf, size_t len)
{
	char net[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, n->subnet, net, sizeof(net));
	snprintf(buf, len, "%s/%s/%s/%u", topo, n->name, net, n->prefixlen);
}

static int full(const struct vnet_model *m, const struct vnet_member *mb, struct vnet_error *reterr)
{
	const struct vnet_network *n = vnet_network_of(m, mb);
	char net[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, n->subnet, net, sizeof(net));
	return vnet_error_set(reterr, -ENOSPC, "network", "lease",
			      "network %s (%s/%u) has no free address left for container %s",
			      n->name, net, n->prefixlen, mb->node);
}

/* A topology's leases, read once, sorted by "POOL\x1fOWNER": one query, not one per container. */
struct held {
	char *key;
	uint32_t addr;
};

struct held_set {
	struct held *v;
	size_t n, cap;
};

static void held_free(struct held_set *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].key);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int held_cmp(const void *a, const void *b)
{
	return strcmp(((const struct held *)a)->key, ((const struct held *)b)->key);
}

static int held_load(struct vnet_state *st, const char *topo, struct held_set *h)
{
	sqlite3_stmt *s =
		vnet_state_cached(st, "SELECT pool, owner, addr FROM lease WHERE topo = ?");
	int rc = SQLITE_NOMEM;

	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(s, 1, topo, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct held *e = VNET_ARRAY_PUSH(h);

		if (!e || asprintf(&e->key, "%s\x1f%s", (const char *)sqlite3_column_text(s, 0),
				   (const char *)sqlite3_column_text(s, 1)) < 0) {
			if (e)
				h->n--;
			rc = SQLITE_NOMEM;
			break;
		}
		e->addr = (uint32_t)sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), held_cmp);
	return rc == SQLITE_DONE ? 0 : vnet_state_errno(rc);
}

/* @mb's lease in @h: its address, or 0. */
static uint32_t held_addr(const struct held_set *h, const char *pool, const char *owner)
{
	char key[VNET_NAMSIZ * 3 + 64];
	struct held k = { key, 0 }, *e;

	snprintf(key, sizeof(key), "%s\x1f%s", pool, owner);
	e = h->n ? bsearch(&k, h->v, h->n, sizeof(*h->v), held_cmp) : NULL;
	return e ? e->addr : 0;
}

/* The pools of @m's networks, loaded; one per network, in the networks' order. */
static int load_pools(struct vnet_state *st, const struct vnet_model *m, struct pool *pools)
{
	int r = 0;

	for (size_t i = 0; i < m->networks.n && r >= 0; i++) {
		const struct vnet_network *n = &m->networks.v[i];
		char key[sizeof(pools->key)];

		vnet_ipam_pool_key(m->name, n, key, sizeof(key));
		r = pool_load(st, &pools[i], key, n->subnet, n->prefixlen, n->gateway);
	}
	return r;
}

/*
 * The address @mb's container has now on its interface, if it is vnet's: a container
 * that lost its lease (a store lost and recovered) keeps its address when it is free.
 * Return: the address as a number, or 0.
 */
static uint32_t address_now(const struct vnet_model *m, const struct vnet_model *have,
			    const struct vnet_member *mb, const struct pool *p)
{
	const struct vnet_ns *ns = have ? vnet_model_find_node(m, mb->node) : NULL;

	for (size_t i = 0; ns && i < have->addrs.n; i++) {
		const struct vnet_addr *a = &have->addrs.v[i];

		if (a->owned && a->family == AF_INET && !strcmp(a->ns, ns->name) &&
		    !strcmp(a->dev, mb->ifname) && vnet_ip4(a->addr) - p->base < p->size)
			return vnet_ip4(a->addr);
	}
	return 0;
}

static int lease_all(struct vnet_state *st, struct vnet_model *m, const struct vnet_model *have,
		     struct pool *pools, const struct held_set *h, struct vnet_error *reterr)
{
	int r = 0;

	/* fixed addresses first: they are never handed to a container without one */
	for (size_t i = 0; i < m->members.n && r >= 0; i++) {
		struct vnet_member *mb = &m->members.v[i];
		size_t ni = (size_t)(vnet_network_of(m, mb) - m->networks.v);

		if (!mb->fixed)
			continue;
		if (held_addr(h, pools[ni].key, mb->node) != vnet_ip4(mb->addr))
			r = lease_fixed(st, &pools[ni], mb->node, m->name, mb->addr);
		mark_fixed(&pools[ni], mb->addr);
	}
	for (size_t i = 0; i < m->members.n && r >= 0; i++) {
		struct vnet_member *mb = &m->members.v[i];
		size_t ni = (size_t)(vnet_network_of(m, mb) - m->networks.v);
		uint32_t a, had = held_addr(h, pools[ni].key, mb->node);

		if (mb->fixed)
			continue;
		/* a lease that a fixed address took over was removed with it: lease anew */
		if (had - pools[ni].base < pools[ni].size &&
		    pools[ni].used[had - pools[ni].base] == FIXED)
			had = 0;
		r = lease_one(st, &pools[ni], mb->node, m->name, had,
			      had ? 0 : address_now(m, have, mb, &pools[ni]), &a);
		if (r == -ENOSPC)
			return full(m, mb, reterr);
		vnet_ip4_put(a, mb->addr);
		mb->has_addr = r >= 0;
	}
	return r < 0 ? vnet_error_set(reterr, r, "state store", "lease", "%s", strerror(-r)) : 0;
}

int vnet_ipam_lease(struct vnet_state *st, struct vnet_model *m, const struct vnet_model *have,
		    bool dry, struct vnet_error *reterr)
{
	struct held_set h = { 0 };
	struct pool *pools;
	int r;

	if (!m->members.n)
		return 0;
	pools = calloc(m->networks.n, sizeof(*pools));
	if (!pools)
		return -ENOMEM;
	r = vnet_state_exec(st, "BEGIN IMMEDIATE", reterr);
	if (r >= 0) {
		r = load_pools(st, m, pools);
		if (r >= 0)
			r = held_load(st, m->name, &h);
		if (r < 0)
			vnet_error_set(reterr, r, "state store", "lease", "%s", strerror(-r));
		else
			r = lease_all(st, m, have, pools, &h, reterr);
		/* a dry run leases nothing: it shows what a real one would lease */
		if (r >= 0 && !dry)
			r = vnet_state_exec(st, "COMMIT", reterr);
		if (r < 0 || dry)
			vnet_state_exec(st, "ROLLBACK", NULL);
	}
	for (size_t i = 0; i < m->networks.n; i++)
		pool_free(&pools[i]);
	free(pools);
	held_free(&h);
	return r < 0 ? r : vnet_networks_place(m);
}

/* The leases @m holds, as held keys ("POOL\x1fOWNER"), sorted. */
static int wanted(const struct vnet_model *m, struct held_set *ret)
{
	for (size_t i = 0; i < m->members.n; i++) {
		char key[VNET_NAMSIZ * 2 + 48];
		struct held *e = VNET_ARRAY_PUSH(ret);

		vnet_ipam_pool_key(m->name, vnet_network_of(m, &m->members.v[i]), key, sizeof(key));
		if (!e || asprintf(&e->key, "%s\x1f%s", key, m->members.v[i].node) < 0) {
			if (e)
				ret->n--;
			return -ENOMEM;
		}
	}
	if (ret->n)
		qsort(ret->v, ret->n, sizeof(*ret->v), held_cmp);
	return 0;
}

/* Release the leases of @h that @keep does not have; Return: 0 or -errno. */
static int release_others(struct vnet_state *st, const struct held_set *h,
			  const struct held_set *keep)
{
	int r = 0;

	for (size_t i = 0; i < h->n && r >= 0; i++) {
		char *sep = strchr(h->v[i].key, '\x1f');

		if (keep->n && bsearch(&h->v[i], keep->v, keep->n, sizeof(*keep->v), held_cmp))
			continue;
		*sep = '\0';
		r = exec3(st, "DELETE FROM lease WHERE pool = ?1 AND owner = ?3", h->v[i].key, 0,
			  sep + 1, NULL, NULL);
		*sep = '\x1f';
	}
	return r;
}

/* Keep only the leases of @m: those of containers (or networks) the file no longer has go.
 * Read first: an up that changes no container writes nothing. */
int vnet_ipam_keep(struct vnet_state *st, const struct vnet_model *m, struct vnet_error *reterr)
{
	struct held_set h = { 0 }, keep = { 0 };
	int r = vnet_state_exec(st, "BEGIN IMMEDIATE", reterr);

	if (r < 0)
		return r;
	r = held_load(st, m->name, &h);
	if (r >= 0)
		r = wanted(m, &keep);
	if (r >= 0)
		r = release_others(st, &h, &keep);
	if (r >= 0)
		r = vnet_state_exec(st, "COMMIT", reterr);
	else
		vnet_error_set(reterr, r, "state store", "release", "%s", strerror(-r));
	if (r < 0)
		vnet_state_exec(st, "ROLLBACK", NULL);
	held_free(&h);
	held_free(&keep);
	return r;
}

int vnet_ipam_alloc(struct vnet_session *s, const char *pool, const char *subnet, const char *owner,
		    char *ret, size_t len, struct vnet_error *reterr)
{
	struct vnet_state *st = s->st;
	struct pool p = { 0 };
	uint8_t net[4];
	unsigned plen = 0;
	uint32_t a = 0;
	sqlite3_int64 had = 0;
	int r;

	if (vnet_ip4_prefix(subnet, net, &plen) < 0 || plen < 8 || plen > 30 ||
	    (vnet_ip4(net) & ~vnet_ip4_mask(plen)))
		return vnet_error_set(reterr, -EINVAL, "pool", "lease",
				      "\"%s\" is not an IPv4 subnet of /8 to /30", subnet);
	r = vnet_state_exec(st, "BEGIN IMMEDIATE", reterr);
	if (r < 0)
		return r;
	r = pool_load(st, &p, pool, net, plen, NULL);
	if (r >= 0)
		r = exec3(st, SQL_OWNED, pool, 0, owner, NULL, &had);
	if (r >= 0)
		r = lease_one(st, &p, owner, "", r == 1 ? (uint32_t)had : 0, 0, &a);
	if (r >= 0)
		r = vnet_state_exec(st, "COMMIT", reterr);
	else
		vnet_error_set(reterr, r, "pool", "lease",
			       r == -ENOSPC ? "pool %s (%s) is full" : "pool %s (%s): %s", pool,
			       subnet, strerror(-r));
	if (r < 0)
		vnet_state_exec(st, "ROLLBACK", NULL);
	pool_free(&p);
	if (r >= 0) {
		vnet_ip4_put(a, net);
		inet_ntop(AF_INET, net, ret, (socklen_t)len);
	}
	return r < 0 ? r : 0;
}

/* ---- the CNI plugin's leases: pool "cni/NET/SUBNET/LEN", topology "cni/NET" ---- */

#define SQL_HOLDER "SELECT owner FROM lease WHERE pool = ?1 AND addr = ?2"

/* Who holds @a in @p; Return: 1 someone other than @owner, 0 nobody or @owner, -errno. */
static int held_by_other(struct vnet_state *st, const struct pool *p, uint32_t a, const char *owner,
			 char *ret, size_t len)
{
	sqlite3_stmt *s = vnet_state_cached(st, SQL_HOLDER);
	int rc, r = 0;

	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(s, 1, p->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, a);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(ret, len, "%s", (const char *)sqlite3_column_text(s, 0));
		r = strcmp(ret, owner) != 0;
	} else if (rc != SQLITE_DONE) {
		r = vnet_state_errno(rc);
	}
	sqlite3_reset(s);
	return r;
}

/* @want for @owner in @p (loaded, in a transaction): it must be a free host address. */
static int lease_wanted(struct vnet_state *st, struct pool *p, const char *owner, const char *topo,
			uint32_t want, struct vnet_error *reterr)
{
	char who[300] = "";
	int r;

	if (want - p->base == 0 || want - p->base >= p->size - 1)
		return vnet_error_set(reterr, -EINVAL, "address", "lease",
				      "the address asked for is not a host address of %s", p->key);
	r = held_by_other(st, p, want, owner, who, sizeof(who));
	if (r == 0 && !who[0] && p->used[want - p->base])
		return vnet_error_set(reterr, -EINVAL, "address", "lease",
				      "the address asked for is the gateway of %s", p->key);
	if (r > 0)
		return vnet_error_set(reterr, -EADDRINUSE, "address", "lease",
				      "the address asked for is %s's, in %s", who, p->key);
	if (r < 0 || who[0]) /* a failure, or the owner's own already */
		return r;
	r = exec3(st, SQL_FREE_ADDR, p->key, want, owner, NULL, NULL);
	if (r >= 0)
		r = exec3(st, SQL_TAKE, p->key, want, owner, topo, NULL);
	return r < 0 ? r : 1;
}

int vnet_ipam_cni_lease(struct vnet_state *st, const char *net, const uint8_t subnet[4],
			unsigned plen, const uint8_t gw[4], const char *owner, const uint8_t *want,
			uint8_t ret[4], bool *ret_new, struct vnet_error *reterr)
{
	char key[VNET_NAMSIZ * 2 + 48], topo[160], a4[INET_ADDRSTRLEN];
	struct pool p = { 0 };
	sqlite3_int64 had = 0;
	uint32_t a = 0;
	int r;

	if (plen < 8 || plen > 30)
		return vnet_error_set(reterr, -EINVAL, "ipam", "lease",
				      "subnet /%u: vnet's IPAM leases from /8 to /30", plen);
	snprintf(key, sizeof(key), "cni/%s/%s/%u", net, inet_ntop(AF_INET, subnet, a4, sizeof(a4)),
		 plen);
	snprintf(topo, sizeof(topo), "cni/%s", net);
	r = vnet_state_exec(st, "BEGIN IMMEDIATE", reterr);
	if (r < 0)
		return r;
	r = pool_load(st, &p, key, subnet, plen, gw);
	if (r >= 0 && want) {
		a = vnet_ip4(want);
		r = lease_wanted(st, &p, owner, topo, a, reterr);
	} else if (r >= 0) {
		r = exec3(st, SQL_OWNED, key, 0, owner, NULL, &had);
		if (r >= 0)
			r = lease_one(st, &p, owner, topo, r == 1 ? (uint32_t)had : 0, 0, &a);
		if (r == -ENOSPC)
			vnet_error_set(reterr, r, "ipam", "lease", "subnet %s is full", key + 4);
	}
	*ret_new = r > 0;
	if (r >= 0)
		r = vnet_state_exec(st, "COMMIT", reterr);
	if (r < 0) {
		if (!reterr || !reterr->msg[0])
			vnet_error_set(reterr, r, "ipam", "lease", "%s: %s", key, strerror(-r));
		vnet_state_exec(st, "ROLLBACK", NULL);
	}
	pool_free(&p);
	if (r >= 0)
		vnet_ip4_put(a, ret);
	return r < 0 ? r : 0;
}

int vnet_ipam_cni_held(struct vnet_state *st, const char *net, const char *owner, uint8_t ret[4])
{
	char topo[160];
	sqlite3_int64 a = 0;
	int r;

	snprintf(topo, sizeof(topo), "cni/%s", net);
	r = exec3(st, "SELECT addr FROM lease WHERE topo = ?1 AND owner = ?3", topo, 0, owner, NULL,
		  &a);
	if (r == 1)
		vnet_ip4_put((uint32_t)a, ret);
	return r;
}

int vnet_ipam_cni_release(struct vnet_state *st, const char *net, const char *owner)
{
	char topo[160];

	snprintf(topo, sizeof(topo), "cni/%s", net);
	return exec3(st, "DELETE FROM lease WHERE topo = ?1 AND owner = ?3", topo, 0, owner, NULL,
		     NULL);
}

int vnet_ipam_cni_gc(struct vnet_state *st, const char *net,
		     bool (*keep)(void *arg, const char *owner), void *arg)
{
	sqlite3_stmt *s = vnet_state_prepare(st, "SELECT owner FROM lease WHERE topo = ?1");
	struct vnet_strv drop = { 0 };
	char topo[160];
	int rc, r = 0;

	if (!s)
		return -ENOMEM;
	snprintf(topo, sizeof(topo), "cni/%s", net);
	sqlite3_bind_text(s, 1, topo, -1, SQLITE_STATIC);
	while (r >= 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		if (!keep(arg, (const char *)sqlite3_column_text(s, 0)))
			r = vnet_strv_add(&drop, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (r >= 0 && rc != SQLITE_DONE)
		r = vnet_state_errno(rc);
	for (size_t i = 0; r >= 0 && i < drop.n; i++)
		r = vnet_ipam_cni_release(st, net, drop.v[i]);
	r = r < 0 ? r : (int)drop.n;
	vnet_strv_free(&drop);
	return r;
}
