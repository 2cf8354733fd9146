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

/* @owner's address in pool @p: the one it has, or the lowest free one (1 when new). Return:
 * 0, 1 for a new lease, -ENOSPC when the pool is full, or -errno. */
static int lease_one(struct vnet_state *st, struct pool *p, const char *owner, const char *topo,
		     uint32_t hint, uint32_t *ret)
{
	sqlite3_int64 have = 0;
	int r = exec3(st, SQL_OWNED, p->key, 0, owner, NULL, &have);

	if (r < 0)
		return r;
	if (r == 1 && (uint32_t)have - p->base < p->size && (uint32_t)have - p->base > 0 &&
	    (uint32_t)have - p->base < p->size - 1) {
		*ret = (uint32_t)have;
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
	r = exec3(st, SQL_FREE_ADDR, p->key, -1, owner, NULL, NULL);
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
	if (r >= 0 && vnet_ip4(a) - p->base < p->size)
		p->used[vnet_ip4(a) - p->base] = 1;
	return r;
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
		     struct pool *pools, struct vnet_error *reterr)
{
	int r = 0;

	/* fixed addresses first: they are never handed to a container without one */
	for (size_t i = 0; i < m->members.n && r >= 0; i++) {
		struct vnet_member *mb = &m->members.v[i];
		size_t ni = (size_t)(vnet_network_of(m, mb) - m->networks.v);

		if (mb->fixed)
			r = lease_fixed(st, &pools[ni], mb->node, m->name, mb->addr);
	}
	for (size_t i = 0; i < m->members.n && r >= 0; i++) {
		struct vnet_member *mb = &m->members.v[i];
		size_t ni = (size_t)(vnet_network_of(m, mb) - m->networks.v);
		uint32_t a;

		if (mb->fixed)
			continue;
		r = lease_one(st, &pools[ni], mb->node, m->name,
			      address_now(m, have, mb, &pools[ni]), &a);
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
		if (r < 0)
			vnet_error_set(reterr, r, "state store", "lease", "%s", strerror(-r));
		else
			r = lease_all(st, m, have, pools, reterr);
		/* a dry run leases nothing: it shows what a real one would lease */
		if (r >= 0 && !dry)
			r = vnet_state_exec(st, "COMMIT", reterr);
		if (r < 0 || dry)
			vnet_state_exec(st, "ROLLBACK", NULL);
	}
	for (size_t i = 0; i < m->networks.n; i++)
		pool_free(&pools[i]);
	free(pools);
	return r < 0 ? r : vnet_networks_place(m);
}

/* Keep only the leases of @m: those of containers (or networks) the file no longer has go. */
int vnet_ipam_keep(struct vnet_state *st, const struct vnet_model *m, struct vnet_error *reterr)
{
	int r = vnet_state_exec(st, "BEGIN IMMEDIATE", reterr);

	if (r < 0)
		return r;
	/* the leases to keep, in a table of this connection, for one DELETE */
	r = exec3(st, "CREATE TEMP TABLE IF NOT EXISTS keep (pool TEXT, owner TEXT)", "", 0, "",
		  NULL, NULL);
	if (r >= 0)
		r = exec3(st, "DELETE FROM keep", "", 0, "", NULL, NULL);
	for (size_t i = 0; r >= 0 && i < m->members.n; i++) {
		char key[VNET_NAMSIZ * 2 + 48];

		vnet_ipam_pool_key(m->name, vnet_network_of(m, &m->members.v[i]), key, sizeof(key));
		r = exec3(st, "INSERT INTO keep VALUES (?1, ?3)", key, 0, m->members.v[i].node,
			  NULL, NULL);
	}
	if (r >= 0)
		r = exec3(
			st,
			"DELETE FROM lease WHERE topo = ?1 AND NOT EXISTS"
			" (SELECT 1 FROM keep k WHERE k.pool = lease.pool AND k.owner = lease.owner)",
			m->name, 0, "", NULL, NULL);
	if (r >= 0)
		r = vnet_state_exec(st, "COMMIT", reterr);
	else
		vnet_error_set(reterr, r, "state store", "release", "%s", strerror(-r));
	if (r < 0)
		vnet_state_exec(st, "ROLLBACK", NULL);
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
		r = lease_one(st, &p, owner, "", 0, &a);
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
