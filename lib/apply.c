// SPDX-License-Identifier: LGPL-2.1-or-later
/* apply.c - run a plan: one netlink batch per run of steps in a namespace; undo on failure */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "nat.h"
#include "uplink.h"
#include "array.h"
#include "kind.h"

/* name -> ifindex, per namespace; a namespace is re-read after links were made in it */
struct ifentry {
	char ns[VNET_NAMSIZ];
	char name[VNET_IFNAMSIZ];
	int ifindex;
};

struct applier {
	struct vnet_nlset *nls;
	const char *topo;
	struct vnet_batch b;
	char batch_ns[VNET_NAMSIZ];
	size_t *msg_op; /* per message of the batch: the op it belongs to */
	size_t msg_cap;
	int fds[64]; /* namespace fds that the batch's messages refer to */
	size_t nfds;
	VNET_ARRAY(struct ifentry) cache;
	VNET_ARRAY(char *) dirty; /* namespaces whose links changed since they were read */
	const struct vnet_op *ops;
	bool *done;
	bool tolerant; /* down: go on past failures */
	struct vnet_result *res; /* the counts of done and undone steps */
	long fault_step; /* VNET_FAULT_STEP, in a build with test hooks; else 0 */
	struct vnet_error *err;
	int first_err;
};

static int flush(struct applier *a);

/*
 * ---- test hooks: crash and fault injection, compiled in with -Dtest-hooks=true ----
 *
 * The kernel tests walk a crash or a failure over every step (tests/kernel/crash.sh,
 * rollback.sh); a vnet built for installing (the default) has neither, and reads no
 * VNET_CRASH_AT or VNET_FAULT_STEP from its environment.
 */
#if VNET_TEST_HOOKS
void vnet_crash_point(void)
{
	/* a test-only switch: a process-wide count is what it is meant to be */
	static long left = -1;

	if (left < 0) {
		const char *at = getenv("VNET_CRASH_AT");

		left = at ? strtol(at, NULL, 10) : 0;
		if (left <= 0)
			left = 0;
	}
	if (left && !--left)
		_exit(99);
}

/* VNET_FAULT_STEP=N: the step to fail, from 1; 0 for none. */
static long fault_step(void)
{
	const char *fault = getenv("VNET_FAULT_STEP");

	return fault ? strtol(fault, NULL, 10) : 0;
}

/* Fail step @idx (from 0) if it is the chosen one, once everything before it took effect. */
static int inject_fault(struct applier *a, size_t idx)
{
	int r;

	if (a->fault_step != (long)idx + 1)
		return 0;
	r = flush(a);
	if (r < 0)
		return r;
	vnet_error_set(a->err, -EIO, "", "", "injected fault at step %zu (VNET_FAULT_STEP)",
		       idx + 1);
	a->first_err = -EIO;
	return -EIO;
}
#else
static long fault_step(void)
{
	return 0;
}

static int inject_fault(struct applier *a, size_t idx)
{
	(void)a;
	(void)idx;
	return 0;
}
#endif

/* ---- the name cache ---- */

static bool is_dirty(struct applier *a, const char *ns)
{
	for (size_t i = 0; i < a->dirty.n; i++)
		if (!strcmp(a->dirty.v[i], ns))
			return true;
	return false;
}

static void mark_dirty(struct applier *a, const char *ns)
{
	if (is_dirty(a, ns))
		return;
	if (vnet_array_grow(&a->dirty, a->dirty.n + 1) < 0)
		return; /* then the namespace is just read again: correct, slower */
	a->dirty.v[a->dirty.n] = strdup(ns);
	if (a->dirty.v[a->dirty.n])
		a->dirty.n++;
}

static void clear_dirty(struct applier *a, const char *ns)
{
	for (size_t i = 0; i < a->dirty.n; i++) {
		if (strcmp(a->dirty.v[i], ns))
			continue;
		free(a->dirty.v[i]);
		a->dirty.v[i] = a->dirty.v[--a->dirty.n];
		return;
	}
}

static void cache_drop_ns(struct applier *a, const char *ns)
{
	size_t j = 0;

	for (size_t i = 0; i < a->cache.n; i++)
		if (strcmp(a->cache.v[i].ns, ns))
			a->cache.v[j++] = a->cache.v[i];
	a->cache.n = j;
}

struct dump_ctx {
	struct applier *a;
	const char *ns;
};

static int cache_link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct applier *a = c->a;

	mnl_attr_for_each(attr, nlh, sizeof(*ifm)) {
		if (mnl_attr_get_type(attr) != IFLA_IFNAME)
			continue;
		if (vnet_array_grow(&a->cache, a->cache.n + 1) < 0)
			return MNL_CB_ERROR;
		struct ifentry *e = &a->cache.v[a->cache.n++];

		snprintf(e->ns, sizeof(e->ns), "%s", c->ns);
		snprintf(e->name, sizeof(e->name), "%s", mnl_attr_get_str(attr));
		e->ifindex = ifm->ifi_index;
	}
	return MNL_CB_OK;
}

/* The ifindex of @name in @ns, reading the namespace's links once after they changed. */
static int resolve(struct applier *a, const char *ns, const char *name)
{
	struct dump_ctx c = { a, ns };
	struct vnet_nl *nl;
	int r;

	if (!is_dirty(a, ns))
		for (size_t i = 0; i < a->cache.n; i++)
			if (!strcmp(a->cache.v[i].ns, ns) && !strcmp(a->cache.v[i].name, name))
				return a->cache.v[i].ifindex;
	r = flush(a); /* what is pending may create the link */
	if (r < 0)
		return r;
	r = vnet_nlset_get(a->nls, ns, &nl);
	if (r < 0)
		return r;
	cache_drop_ns(a, ns);
	r = vnet_nl_dump(nl, RTM_GETLINK, AF_UNSPEC, cache_link_cb, &c);
	if (r < 0)
		return r;
	clear_dirty(a, ns);
	for (size_t i = 0; i < a->cache.n; i++)
		if (!strcmp(a->cache.v[i].ns, ns) && !strcmp(a->cache.v[i].name, name))
			return a->cache.v[i].ifindex;
	return -ENODEV;
}

/* ---- errors ---- */

static void op_object(const struct vnet_op *op, char *buf, size_t len)
{
	char txt[80];

	switch (op->kind) {
	case VNET_OP_NS_ADD:
	case VNET_OP_NS_DEL:
		snprintf(buf, len, "namespace %s", op->ns.name);
		break;
	case VNET_OP_ADDR_ADD:
	case VNET_OP_ADDR_DEL:
		vnet_addr_format(op->addr.family, op->addr.addr, op->addr.prefixlen, txt,
				 sizeof(txt));
		snprintf(buf, len, "address %s on %s", txt, op->addr.dev);
		break;
	case VNET_OP_ROUTE_ADD:
	case VNET_OP_ROUTE_DEL:
		vnet_route_format(&op->route, txt, sizeof(txt));
		snprintf(buf, len, "route %s", txt);
		break;
	case VNET_OP_NAT:
		snprintf(buf, len, "nftables table ip %s", op->nat->table);
		break;
	case VNET_OP_UPLINK:
		snprintf(buf, len, "uplink %s of %s", op->uplink->u.nic, op->uplink->u.bridge);
		break;
	default:
		snprintf(buf, len, "%s %s", vnet_kind_name(op->link.kind), op->link.name);
	}
	/* a namespace is its own place: not "namespace X in X" */
	if (op->kind != VNET_OP_NS_ADD && op->kind != VNET_OP_NS_DEL && vnet_op_ns(op)[0] &&
	    strlen(buf) + 4 < len)
		snprintf(buf + strlen(buf), len - strlen(buf), " in %s", vnet_op_ns(op));
}

/*
 * A veth pair's creation says EEXIST for either end: name the one that is in the way
 * (something made it after the plan was made), not always the first.
 */
static void name_clash(struct applier *a, const struct vnet_op *op, char *buf, size_t len)
{
	const struct vnet_link *l = &op->link;
	struct vnet_nl *nl;

	if (op->kind != VNET_OP_LINK_ADD || !vnet_kind_has(l->kind, VNET_KIND_F_PAIR))
		return;
	if (vnet_nlset_get(a->nls, l->peer_ns, &nl) < 0 || vnet_link_get_index(nl, l->peer) < 0)
		return;
	if (vnet_nlset_get(a->nls, l->ns, &nl) >= 0 && vnet_link_get_index(nl, l->name) > 0)
		return; /* both there: the first end is as good a name as any */
	snprintf(buf, len, "interface %s in %s (the peer of veth %s)", l->peer,
		 l->peer_ns[0] ? l->peer_ns : "the host namespace", l->name);
}

static const char *op_verb(const struct vnet_op *op)
{
	switch (op->kind) {
	case VNET_OP_NS_ADD:
	case VNET_OP_LINK_ADD:
		return "create";
	case VNET_OP_ADDR_ADD:
	case VNET_OP_ROUTE_ADD:
		return "add";
	case VNET_OP_LINK_SET:
		return "set";
	default:
		return "delete";
	}
}

/* Record the first failure; Return: @r. */
static int fail(struct applier *a, const struct vnet_op *op, int r, const char *extack)
{
	char obj[160];

	if (a->first_err)
		return r;
	a->first_err = r;
	op_object(op, obj, sizeof(obj));
	if (r == -EEXIST)
		name_clash(a, op, obj, sizeof(obj));
	if (extack && extack[0])
		vnet_error_set(a->err, r, obj, op_verb(op), "%s (kernel: %s)", strerror(-r),
			       extack);
	else if (!a->err || !a->err->msg[0] || a->err->err != r)
		vnet_error_set(a->err, r, obj, op_verb(op), "%s", strerror(-r));
	return r;
}

/* Removing what is already gone is success. */
static bool gone_is_fine(const struct vnet_op *op, int r)
{
	switch (op->kind) {
	case VNET_OP_LINK_DEL:
	case VNET_OP_NS_DEL:
		return r == -ENODEV || r == -ENOENT;
	case VNET_OP_ADDR_DEL:
		return r == -EADDRNOTAVAIL || r == -ENODEV;
	case VNET_OP_ROUTE_DEL:
		return r == -ESRCH || r == -ENODEV;
	default:
		return false;
	}
}

/* ---- batches ---- */

static int flush(struct applier *a)
{
	struct vnet_nl_result *res;
	struct vnet_nl *nl;
	int r = 0;

	if (!a->b.n)
		goto out;
	res = calloc(a->b.n, sizeof(*res));
	if (!res) {
		r = -ENOMEM;
		goto out;
	}
	r = vnet_nlset_get(a->nls, a->batch_ns, &nl);
	if (r >= 0)
		r = vnet_nl_send(nl, &a->b, res);
	if (r >= 0)
		vnet_crash_point();
	for (unsigned i = 0; r >= 0 && i < a->b.n; i++) {
		const struct vnet_op *op = &a->ops[a->msg_op[i]];

		if (!res[i].err || gone_is_fine(op, res[i].err))
			a->done[a->msg_op[i]] = true;
		else
			fail(a, op, res[i].err, res[i].extack);
	}
	if (r < 0)
		fail(a, &a->ops[a->msg_op[0]], r, NULL);
	free(res);
out:
	for (size_t i = 0; i < a->nfds; i++)
		close(a->fds[i]);
	a->nfds = 0;
	vnet_batch_reset(&a->b);
	if (r >= 0 && a->first_err && !a->tolerant)
		r = a->first_err;
	return r;
}

/* The next message of the batch belongs to op @idx; Return: 0 or -ENOMEM. */
static int batch_note(struct applier *a, size_t idx)
{
	int r = vnet_grow((void **)&a->msg_op, &a->msg_cap, a->b.n + 1, sizeof(*a->msg_op));

	if (r < 0)
		return r;
	a->msg_op[a->b.n] = idx;
	return 0;
}

/* Make room for a message of op @idx in the batch of @ns; Return: 0 or -errno. */
static int batch_for(struct applier *a, const char *ns, size_t idx)
{
	int r;

	if (a->b.n && strcmp(a->batch_ns, ns)) {
		r = flush(a);
		if (r < 0)
			return r;
	}
	if (a->nfds == sizeof(a->fds) / sizeof(a->fds[0])) {
		r = flush(a);
		if (r < 0)
			return r;
	}
	snprintf(a->batch_ns, sizeof(a->batch_ns), "%s", ns);
	return batch_note(a, idx);
}

/*
 * The tag of a link vnet creates goes in the message right after its creation, in
 * the same batch: the kernel runs a sendmsg's messages in one go (and vnet_nl_send
 * never cuts after a creation), so no crash leaves the link untagged. The kernel
 * ignores IFLA_IFALIAS in the creating message itself.
 */
static int tag_created(struct applier *a, const struct vnet_link *l, size_t idx)
{
	int r = batch_note(a, idx);

	return r < 0 ? r : vnet_link_msg_set(&a->b, l, VNET_SET_ALIAS, 0, l->alias);
}

/* A link its kind makes by other means (tun, tap: ioctls), tagged by its kind's create(). */
static int kind_create(struct applier *a, const struct vnet_op *op, size_t idx)
{
	struct vnet_nl *nl = NULL;
	int r = flush(a);

	if (r < 0)
		return r;
	r = vnet_nlset_get(a->nls, op->link.ns, &nl);
	if (r < 0)
		return fail(a, op, r, NULL);
	r = op->link.kind->create(&op->link, nl, a->err);
	vnet_crash_point();
	if (r < 0)
		return fail(a, op, r, NULL);
	a->done[idx] = true;
	mark_dirty(a, op->link.ns);
	return 0;
}

/* ---- steps ---- */

static int do_link_add(struct applier *a, const struct vnet_op *op, size_t idx)
{
	const struct vnet_link *l = &op->link;
	const char *maker = vnet_link_maker_ns(l);
	const char *other = vnet_kind_has(l->kind, VNET_KIND_F_PAIR) ? l->peer_ns : l->ns;
	int r, fd = -1, parent = 0;

	if (l->kind->create)
		return kind_create(a, op, idx);
	if (l->parent[0]) {
		parent = resolve(a, l->parent_ns, l->parent);
		if (parent < 0)
			return fail(a, op, parent, NULL);
	}
	r = batch_for(a, maker, idx);
	if (r < 0)
		return r;
	mark_dirty(a, maker);
	mark_dirty(a, other);
	if (strcmp(other, maker)) { /* a veth's peer, or a link made on its parent, goes there */
		fd = vnet_netns_open(other);
		if (fd < 0)
			return fail(a, op, fd, NULL);
		a->fds[a->nfds++] = fd;
	}
	r = vnet_link_msg_add(&a->b, l, parent, fd);
	/* made in its own namespace, it is tagged in the same batch; else by a step there */
	return r < 0 || strcmp(maker, l->ns) ? r : tag_created(a, l, idx);
}

/* A vxlan's forwarding and neighbour entries go by its index; those of @op->old go. */
static int set_vteps(struct applier *a, const struct vnet_op *op, size_t idx)
{
	int ifindex = resolve(a, op->link.ns, op->link.name), r;

	if (ifindex < 0)
		return fail(a, op, ifindex, NULL);
	r = batch_for(a, op->link.ns, idx);
	return r < 0 ? r : vnet_vxlan_msg_vteps(&a->b, &op->link, &op->old, ifindex);
}

static int do_link_set(struct applier *a, const struct vnet_op *op, size_t idx)
{
	const struct vnet_link *l = &op->link;
	unsigned basic = op->set & (VNET_SET_UP | VNET_SET_MTU | VNET_SET_MAC | VNET_SET_MASTER |
				    VNET_SET_ALIAS);
	int master = 0, r;

	if ((op->set & VNET_SET_MASTER) && l->master[0]) {
		master = resolve(a, l->ns, l->master);
		if (master < 0)
			return fail(a, op, master, NULL);
	}
	if (basic) {
		r = batch_for(a, l->ns, idx);
		if (r >= 0)
			r = vnet_link_msg_set(&a->b, l, basic, master, l->alias);
		if (r < 0)
			return r;
	}
	if (op->set & VNET_SET_OPTS) {
		r = batch_for(a, l->ns, idx);
		if (r >= 0)
			r = vnet_link_msg_opts(&a->b, l);
		if (r < 0)
			return r;
	}
	if (op->set & VNET_SET_PORT) {
		r = batch_for(a, l->ns, idx);
		if (r >= 0)
			r = vnet_link_msg_port(&a->b, l);
		if (r < 0)
			return r;
	}
	return op->set & VNET_SET_VTEPS ? set_vteps(a, op, idx) : 0;
}

static int do_addr(struct applier *a, const struct vnet_op *op, size_t idx)
{
	uint16_t type = op->kind == VNET_OP_ADDR_ADD ? RTM_NEWADDR : RTM_DELADDR;
	int ifindex = resolve(a, op->addr.ns, op->addr.dev), r;

	if (ifindex < 0) {
		if (gone_is_fine(op, ifindex)) {
			a->done[idx] = true;
			return 0;
		}
		return fail(a, op, ifindex, NULL);
	}
	r = batch_for(a, op->addr.ns, idx);
	return r < 0 ? r : vnet_addr_msg(&a->b, type, &op->addr, ifindex);
}

static int do_route(struct applier *a, const struct vnet_op *op, size_t idx)
{
	uint16_t type = op->kind == VNET_OP_ROUTE_ADD ? RTM_NEWROUTE : RTM_DELROUTE;
	int oif = 0, r;

	if (op->route.dev[0]) {
		oif = resolve(a, op->route.ns, op->route.dev);
		if (oif < 0) {
			if (gone_is_fine(op, oif)) {
				a->done[idx] = true;
				return 0;
			}
			return fail(a, op, oif, NULL);
		}
	}
	r = batch_for(a, op->route.ns, idx);
	return r < 0 ? r : vnet_route_msg(&a->b, type, &op->route, oif);
}

static int do_ns(struct applier *a, const struct vnet_op *op, size_t idx)
{
	int r = flush(a);

	if (r < 0)
		return r;
	if (op->kind == VNET_OP_NS_ADD) {
		char tag[VNET_NAMSIZ + 8];
		struct vnet_nl *nl = NULL;
		bool debris = false;

		snprintf(tag, sizeof(tag), VNET_TAG_PREFIX "%s", a->topo);
		r = vnet_netns_add(op->ns.name, tag, &nl, &debris);
		if (debris)
			vnet_result_note(a->res,
					 "removed /run/netns/%s, the file of a namespace that an "
					 "interrupted run did not finish",
					 op->ns.name);
		if (r >= 0) /* the set can do without it: it opens one when needed */
			(void)vnet_nlset_put(a->nls, op->ns.name, nl);
		if (r == -EEXIST && !a->first_err) {
			/* the plan saw no namespace: a file of that name is not one, and not
			 * a file a crash of vnet's left (that one it would have removed) */
			a->first_err = r;
			return vnet_error_set(a->err, r, "", "",
					      "/run/netns/%s exists and is not a namespace; vnet "
					      "did not make it, and leaves it alone",
					      op->ns.name);
		}
	} else {
		vnet_nlset_forget(a->nls, op->ns.name);
		cache_drop_ns(a, op->ns.name);
		r = vnet_netns_del(op->ns.name);
	}
	vnet_crash_point();
	if (r < 0 && !gone_is_fine(op, r))
		return fail(a, op, r, NULL);
	a->done[idx] = true;
	return 0;
}

long vnet_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* A step that is not a netlink batch's ends: done, or failed for the reason @e says. */
static int step_end(struct applier *a, size_t idx, int r, const struct vnet_error *e)
{
	if (r >= 0) {
		a->done[idx] = true;
		return 0;
	}
	if (!a->first_err && a->err)
		*a->err = *e;
	if (!a->first_err)
		a->first_err = r;
	return r;
}

/* vnet's nftables table: one transaction of its own, in the host part. */
static int do_nat(struct applier *a, const struct vnet_op *op, size_t idx)
{
	struct vnet_error e = { 0 };
	long t0;
	int r = flush(a);

	if (r < 0)
		return r;
	t0 = vnet_now_us();
	r = vnet_nat_apply(op->nat, op->set & VNET_NAT_UNDO, &e);
	if (a->res)
		a->res->nat_us += vnet_now_us() - t0;
	vnet_crash_point();
	return step_end(a, idx, r, &e);
}

/* A NIC taken over (and probed) or given back: batches of its own, then the probe. */
static int do_uplink(struct applier *a, const struct vnet_op *op, size_t idx)
{
	const struct vnet_uplink_change *c = op->uplink;
	struct vnet_error e = { 0 };
	struct vnet_nl *nl;
	int r = flush(a);

	if (r < 0)
		return r;
	r = vnet_nlset_get(a->nls, c->u.ns, &nl);
	if (r >= 0)
		r = vnet_uplink_apply(nl, c, op->set & VNET_UPLINK_GIVE, a->res, &e);
	else
		vnet_error_set(&e, r, c->u.nic, "take over", "namespace %s: %s", c->u.ns,
			       strerror(-r));
	return step_end(a, idx, r, &e);
}

static int do_op(struct applier *a, size_t idx)
{
	const struct vnet_op *op = &a->ops[idx];
	int r;

	r = inject_fault(a, idx);
	if (r < 0)
		return r;
	switch (op->kind) {
	case VNET_OP_NS_ADD:
	case VNET_OP_NS_DEL:
		return do_ns(a, op, idx);
	case VNET_OP_LINK_ADD:
		return do_link_add(a, op, idx);
	case VNET_OP_LINK_DEL:
		r = batch_for(a, op->link.ns, idx);
		mark_dirty(a, op->link.ns);
		return r < 0 ? r : vnet_link_msg_del(&a->b, op->link.name);
	case VNET_OP_LINK_SET:
		return do_link_set(a, op, idx);
	case VNET_OP_ADDR_ADD:
	case VNET_OP_ADDR_DEL:
		return do_addr(a, op, idx);
	case VNET_OP_ROUTE_ADD:
	case VNET_OP_ROUTE_DEL:
		return do_route(a, op, idx);
	case VNET_OP_NAT:
		return do_nat(a, op, idx);
	case VNET_OP_UPLINK:
		return do_uplink(a, op, idx);
	}
	return -EINVAL;
}

/* Run ops[0..n) in order; Return: 0, or the first failure (all ops tried when tolerant). */
static int run(struct applier *a, const struct vnet_op *ops, size_t n, bool *done)
{
	int r = 0;

	a->ops = ops;
	a->done = done;
	a->first_err = 0;
	for (size_t i = 0; i < n; i++) {
		r = do_op(a, i);
		if (r < 0 && !a->tolerant)
			break;
	}
	if (r >= 0 || a->tolerant)
		r = flush(a);
	else
		flush(a); /* what is already in the batch must run, to be undone with the rest */
	if (a->tolerant && a->first_err)
		r = a->first_err;
	return r;
}

/* ---- undo ---- */

/* Undoing a removal: create the link again, then set it (and a veth's peer) as it was. */
static size_t recreate(const struct vnet_op *op, struct vnet_op *inv)
{
	struct vnet_link l = op->link, peer = op->old;
	size_t n = 0;

	/*
	 * As it was: its index (l.ifindex, l.peer_ifindex, asked for at creation), mtu and
	 * mac, which a new veth or tap would get at random. A bridge takes its mac from its
	 * ports unless one was set; setting the one it had would pin it.
	 */
	l.has |= VNET_LINK_HAS_MTU;
	if (vnet_kind_has(l.kind, VNET_KIND_F_L2) && !vnet_kind_has(l.kind, VNET_KIND_F_MASTER))
		l.has |= VNET_LINK_HAS_MAC;
	peer.has |= VNET_LINK_HAS_MTU | VNET_LINK_HAS_MAC;
	inv[n++] = (struct vnet_op){ .kind = VNET_OP_LINK_ADD, .link = l };
	inv[n++] = (struct vnet_op){ .kind = VNET_OP_LINK_SET,
				     .set = vnet_link_settings(&l, strcmp(vnet_link_maker_ns(&l),
									  l.ns)),
				     .link = l };
	if (op->old.name[0])
		inv[n++] = (struct vnet_op){ .kind = VNET_OP_LINK_SET,
					     .set = vnet_link_settings(&peer, true),
					     .link = peer };
	return n;
}

/* The steps that undo @op; Return: how many were written to @inv (at most 3). */
static size_t inverse(const struct vnet_op *op, struct vnet_op *inv)
{
	/* a port that leaves its bridge loses its port options: put them back too */
	unsigned port_back = (op->set & VNET_SET_MASTER) && op->old.master[0] ? VNET_SET_PORT : 0;

	memset(inv, 0, 3 * sizeof(*inv));
	switch (op->kind) {
	case VNET_OP_NS_ADD:
		inv[0] = (struct vnet_op){ .kind = VNET_OP_NS_DEL, .ns = op->ns };
		return 1;
	case VNET_OP_NS_DEL:
		/* made tagged, with lo up; what was in it was removed by earlier steps */
		inv[0] = (struct vnet_op){ .kind = VNET_OP_NS_ADD, .ns = op->ns };
		return 1;
	case VNET_OP_LINK_ADD:
		inv[0] = (struct vnet_op){ .kind = VNET_OP_LINK_DEL, .link = op->link };
		return 1;
	case VNET_OP_LINK_DEL:
		return recreate(op, inv);
	case VNET_OP_LINK_SET:
		inv[0] = (struct vnet_op){ .kind = VNET_OP_LINK_SET,
					   .set = op->set | port_back,
					   .link = op->old,
					   .old = op->link };
		return 1;
	case VNET_OP_ADDR_ADD:
	case VNET_OP_ADDR_DEL:
		inv[0] = (struct vnet_op){ .kind = op->kind == VNET_OP_ADDR_ADD ? VNET_OP_ADDR_DEL :
										  VNET_OP_ADDR_ADD,
					   .addr = op->addr };
		return 1;
	case VNET_OP_ROUTE_ADD:
	case VNET_OP_ROUTE_DEL:
		inv[0] = (struct vnet_op){ .kind = op->kind == VNET_OP_ROUTE_ADD ?
							   VNET_OP_ROUTE_DEL :
							   VNET_OP_ROUTE_ADD,
					   .route = op->route };
		return 1;
	case VNET_OP_NAT:
		inv[0] = (struct vnet_op){ .kind = VNET_OP_NAT,
					   .set = op->set ^ VNET_NAT_UNDO,
					   .nat = op->nat };
		return 1;
	case VNET_OP_UPLINK:
		inv[0] = (struct vnet_op){ .kind = VNET_OP_UPLINK,
					   .set = op->set ^ VNET_UPLINK_GIVE,
					   .uplink = op->uplink };
		return 1;
	}
	return 0;
}

/* Count an undo that failed; the first one is described in words. */
static void undo_failed(struct applier *a, const struct vnet_op *op, const struct vnet_error *why)
{
	char step[160], reason[VNET_MSGSIZ + 64];

	if (a->res && !a->res->undo_failed++) {
		vnet_op_describe(op, step, sizeof(step));
		vnet_error_format(why, reason, sizeof(reason));
		snprintf(a->res->undo_err, sizeof(a->res->undo_err), "%s: %s", step, reason);
	}
}

/* Undo one step alone, going on past failures, which are counted. */
static void undo_one(struct applier *a, const struct vnet_op *op, struct vnet_error *ignored)
{
	struct vnet_op inv[3];
	bool inv_done[3] = { false };
	size_t n = inverse(op, inv);

	if (run(a, inv, n, inv_done) < 0)
		undo_failed(a, op, ignored);
	memset(ignored, 0, sizeof(*ignored));
}

/*
 * Links removed in one run of steps are made again bridges first (their ports need
 * them), then the rest in the order they were removed, which was the order they were
 * made in: so a bridge's ports get their old port numbers (part of their STP port id);
 * links that live on a parent come after the parents.
 */
static void undo_link_dels(struct applier *a, const struct vnet_op *ops, size_t from, size_t to,
			   struct vnet_error *ignored)
{
	for (int rank = 0; rank <= 2; rank++)
		for (size_t i = from; i <= to; i++)
			if (vnet_link_rank(&ops[i].link) == rank)
				undo_one(a, &ops[i], ignored);
}

/* Undo every done step, newest first but for runs of removed links (above). */
static void undo(struct applier *a, const struct vnet_plan *plan, const bool *done)
{
	struct vnet_error ignored = { 0 };
	struct vnet_error *saved = a->err;
	const struct vnet_op *ops = plan->ops.v;

	a->err = &ignored;
	a->tolerant = true;
	a->fault_step = 0;
	for (size_t i = plan->ops.n; i-- > 0;) {
		size_t j = i;

		if (!done[i])
			continue;
		if (ops[i].kind != VNET_OP_LINK_DEL) {
			undo_one(a, &ops[i], &ignored);
			continue;
		}
		while (j > 0 && done[j - 1] && ops[j - 1].kind == VNET_OP_LINK_DEL)
			j--;
		undo_link_dels(a, ops, j, i, &ignored);
		i = j;
	}
	a->err = saved;
}

int vnet_apply(struct vnet_nlset *nls, const struct vnet_plan *plan, unsigned flags,
	       int (*commit)(void *data, struct vnet_error *reterr), void *data,
	       struct vnet_result *res, struct vnet_error *reterr)
{
	struct applier a = { .nls = nls, .topo = plan->topo, .err = reterr, .res = res };
	bool *done = calloc(plan->ops.n ? plan->ops.n : 1, sizeof(*done));
	int r;

	if (!done)
		return -ENOMEM;
	vnet_batch_init(&a.b);
	a.tolerant = flags & VNET_APPLY_TOLERANT;
	a.fault_step = fault_step();
	r = run(&a, plan->ops.v, plan->ops.n, done);
	res->done = 0;
	for (size_t i = 0; i < plan->ops.n; i++)
		res->done += done[i];
	/* a change the store cannot record is undone like one the kernel refused */
	if (r >= 0 && commit)
		r = commit(data, reterr);
	if (r < 0 && (flags & VNET_APPLY_UNDO))
		undo(&a, plan, done);
	vnet_batch_free(&a.b);
	free(a.msg_op);
	free(a.cache.v);
	for (size_t i = 0; i < a.dirty.n; i++)
		free(a.dirty.v[i]);
	free(a.dirty.v);
	free(done);
	return r;
}
