// SPDX-License-Identifier: LGPL-2.1-or-later
/* stp.c - spanning tree: port roles as the kernel decides them, loop checks, convergence */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "kind.h"
#include "session.h"

const char *vnet_stp_state_name(uint8_t state)
{
	static const char *const names[] = { "disabled", "listening", "learning", "forwarding",
					     "blocking" };

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

const char *vnet_stp_role_name(enum vnet_stp_role role)
{
	static const char *const names[] = { "disabled", "root", "designated", "alternate",
					     "backup" };

	return (unsigned)role < sizeof(names) / sizeof(names[0]) ? names[role] : "unknown";
}

void vnet_stp_id_format(const uint8_t id[8], char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x.%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2], id[3], id[4],
		 id[5], id[6], id[7]);
}

/*
 * The kernel's bridge (net/bridge/br_stp.c) keeps no role per port; it decides
 * from the port's designated bridge and port, and the bridge's root port:
 * br_is_designated_port() and br->root_port. A blocked port is an alternate when
 * its segment is served by another bridge, a backup when by another port of its own.
 */
enum vnet_stp_role vnet_stp_port_role(const struct vnet_link *br, const struct vnet_link *port)
{
	const struct vnet_stp_port *p = &port->stp_port;
	bool own_segment = !memcmp(p->designated_bridge, br->stp_br.bridge_id, 8);

	if (!p->has || p->state == VNET_STP_DISABLED)
		return VNET_ROLE_DISABLED;
	if (br->stp_br.root_port && p->port_no == br->stp_br.root_port)
		return VNET_ROLE_ROOT;
	if (own_segment && p->designated_port == p->port_id)
		return VNET_ROLE_DESIGNATED;
	return own_segment ? VNET_ROLE_BACKUP : VNET_ROLE_ALTERNATE;
}

/* ---- loops of bridges without STP ---- */

/*
 * A bridge with STP off forwards the BPDUs of the others (br_handle_frame() in
 * net/bridge/br_input.c), but it forwards its own floods around any loop it is on without
 * end. So a loop is refused when it passes through one bridge without STP. A bridge lies
 * on a loop exactly when it is in a block (a biconnected component) with a loop in it: two
 * wires or more, or one wire with both ends on it. The blocks come from one depth-first
 * search; only the loop named in the error needs a breadth-first search.
 */

#define NO_EDGE ((size_t)-1)

/* The bridges of a model, and the wires between them (veth pairs with a bridge on each end). */
struct bgraph {
	const struct vnet_model *m;
	const struct vnet_link **br; /* bridges */
	size_t n;
	struct edge {
		size_t a, b;
		const struct vnet_link *end; /* for the error's position */
	} * e;
	size_t ne;
	size_t *adj_off, *adj; /* the wires of bridge i: adj[adj_off[i] .. adj_off[i + 1]) */
	size_t *blk; /* the block of each wire */
};

static void graph_free(struct bgraph *g)
{
	free(g->br);
	free(g->e);
	free(g->adj_off);
	free(g->adj);
	free(g->blk);
}

/* The index in @g of bridge @name in @ns, through @bidx (by position in the model); or -1. */
static long bridge_index(const struct bgraph *g, const long *bidx, const char *ns, const char *name)
{
	const struct vnet_link *l = vnet_model_find_link(g->m, ns, name);

	return l && vnet_kind_has(l->kind, VNET_KIND_F_MASTER) ? bidx[l - g->m->links.v] : -1;
}

static void graph_add_wires(struct bgraph *g, const long *bidx)
{
	const struct vnet_model *m = g->m;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		const struct vnet_link *peer;
		long a, b;

		if (!vnet_kind_has(l->kind, VNET_KIND_F_PAIR) || !l->master[0])
			continue;
		peer = vnet_model_find_link(m, l->peer_ns, l->peer);
		/* each pair once: from its first end in the file */
		if (!peer || peer < l || !peer->master[0])
			continue;
		a = bridge_index(g, bidx, l->ns, l->master);
		b = bridge_index(g, bidx, peer->ns, peer->master);
		if (a >= 0 && b >= 0)
			g->e[g->ne++] = (struct edge){ (size_t)a, (size_t)b, l };
	}
}

/* Each bridge's wires, in file order (so the loop named is the one a plain scan would find). */
static void graph_index_wires(struct bgraph *g)
{
	for (size_t k = 0; k < g->ne; k++) {
		g->adj_off[g->e[k].a + 1]++;
		g->adj_off[g->e[k].b + 1]++;
	}
	for (size_t i = 0; i < g->n; i++)
		g->adj_off[i + 1] += g->adj_off[i];
	/* adj_off[i + 1], the end of bridge i's range, is its cursor: filled backwards from the
	 * last wire, the range ends in file order, and the cursor at the start of bridge i */
	for (size_t k = g->ne; k-- > 0;) {
		g->adj[--g->adj_off[g->e[k].a + 1]] = k;
		g->adj[--g->adj_off[g->e[k].b + 1]] = k;
	}
	for (size_t i = 0; i < g->n; i++)
		g->adj_off[i] = g->adj_off[i + 1];
	g->adj_off[g->n] = 2 * g->ne;
}

static int graph_build(struct bgraph *g, const struct vnet_model *m)
{
	long *bidx = calloc(m->links.n + 1, sizeof(*bidx));

	*g = (struct bgraph){ .m = m };
	g->br = calloc(m->links.n + 1, sizeof(*g->br));
	g->e = calloc(m->links.n + 1, sizeof(*g->e));
	if (!bidx || !g->br || !g->e) {
		free(bidx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->links.n; i++)
		if (vnet_kind_has(m->links.v[i].kind, VNET_KIND_F_MASTER)) {
			bidx[i] = (long)g->n;
			g->br[g->n++] = &m->links.v[i];
		}
	graph_add_wires(g, bidx);
	free(bidx);
	g->adj_off = calloc(g->n + 1, sizeof(*g->adj_off));
	g->adj = calloc(2 * g->ne + 1, sizeof(*g->adj));
	g->blk = calloc(g->ne + 1, sizeof(*g->blk));
	if (!g->adj_off || !g->adj || !g->blk)
		return -ENOMEM;
	graph_index_wires(g);
	return 0;
}

/* Hopcroft and Tarjan's blocks, without recursion: a grid of bridges is deep. */
struct dfs {
	size_t *disc, *low; /* discovery time (0: not yet), lowest time reachable */
	size_t *wires, nwires; /* wires of the blocks not yet closed */
	struct frame {
		size_t v, in, next; /* bridge, tree wire into it, next of its wires to follow */
	} * st;
	size_t nblk, time;
};

static size_t other_end(const struct bgraph *g, size_t k, size_t u)
{
	return g->e[k].a == u ? g->e[k].b : g->e[k].a;
}

/* The subtree entered by tree wire @in is done and no wire climbs out of it: a block. */
static void block_close(struct bgraph *g, struct dfs *d, size_t in)
{
	size_t k;

	do {
		k = d->wires[--d->nwires];
		g->blk[k] = d->nblk;
	} while (k != in);
	d->nblk++;
}

/* Follow the next wire of the bridge on top of the stack; Return: false when it had none. */
static bool dfs_step(struct bgraph *g, struct dfs *d, size_t *top)
{
	struct frame *f = &d->st[*top - 1];
	size_t u = f->v, k, w;

	if (f->next == g->adj_off[u + 1])
		return false;
	k = g->adj[f->next++];
	w = other_end(g, k, u);
	if (k == f->in || w == u) /* the way we came; a wire to itself is a block of its own */
		return true;
	if (!d->disc[w]) {
		d->wires[d->nwires++] = k;
		d->disc[w] = d->low[w] = ++d->time;
		d->st[(*top)++] = (struct frame){ w, k, g->adj_off[w] };
	} else if (d->disc[w] < d->disc[u]) { /* back to an ancestor (or a second parallel wire) */
		d->wires[d->nwires++] = k;
		if (d->disc[w] < d->low[u])
			d->low[u] = d->disc[w];
	}
	return true;
}

static void dfs_from(struct bgraph *g, struct dfs *d, size_t root)
{
	size_t top = 0;

	d->disc[root] = d->low[root] = ++d->time;
	d->st[top++] = (struct frame){ root, NO_EDGE, g->adj_off[root] };
	while (top) {
		const struct frame *f;
		size_t p;

		if (dfs_step(g, d, &top))
			continue;
		f = &d->st[--top];
		if (!top)
			break;
		p = d->st[top - 1].v;
		if (d->low[f->v] < d->low[p])
			d->low[p] = d->low[f->v];
		if (d->low[f->v] >= d->disc[p])
			block_close(g, d, f->in);
	}
}

/* Fill g->blk; Return: the number of blocks, or -ENOMEM. */
static long graph_blocks(struct bgraph *g)
{
	struct dfs d = { 0 };
	long r = -ENOMEM;

	d.disc = calloc(g->n + 1, sizeof(*d.disc));
	d.low = calloc(g->n + 1, sizeof(*d.low));
	d.wires = calloc(g->ne + 1, sizeof(*d.wires));
	d.st = calloc(g->n + 1, sizeof(*d.st));
	if (d.disc && d.low && d.wires && d.st) {
		for (size_t k = 0; k < g->ne; k++)
			if (g->e[k].a == g->e[k].b)
				g->blk[k] = d.nblk++;
		for (size_t i = 0; i < g->n; i++)
			if (!d.disc[i])
				dfs_from(g, &d, i);
		r = (long)d.nblk;
	}
	free(d.disc);
	free(d.low);
	free(d.wires);
	free(d.st);
	return r;
}

/* The shortest paths from @from that do not use wire @skip, by breadth-first search over
 * @queue (room for every bridge): @prev holds each bridge's predecessor, -1 if out of reach. */
static void path_without(const struct bgraph *g, size_t skip, size_t from, long *prev,
			 size_t *queue)
{
	size_t head = 0, tail = 0;

	for (size_t i = 0; i < g->n; i++)
		prev[i] = -1;
	prev[from] = (long)from;
	queue[tail++] = from;
	while (head < tail) {
		size_t u = queue[head++];

		for (size_t j = g->adj_off[u]; j < g->adj_off[u + 1]; j++) {
			size_t v = other_end(g, g->adj[j], u);

			if (g->adj[j] == skip || prev[v] >= 0)
				continue;
			prev[v] = (long)u;
			queue[tail++] = v;
		}
	}
}

/* "sw1 -> sw2 -> sw3 -> sw1" for the loop closed by wire @k; Return: any bridge without STP. */
static bool describe_loop(const struct bgraph *g, size_t k, const long *prev, char *buf, size_t len)
{
	size_t a = g->e[k].a, v = g->e[k].b, off = 0;
	bool storm = false;

	off += (size_t)snprintf(buf + off, len - off, "%s", g->br[a]->name);
	storm |= !vnet_bridge_stp(g->br[a]);
	/* walk back from b to a along the search tree: a ... b, printed from b */
	while (v != a && prev[v] >= 0 && off < len) {
		storm |= !vnet_bridge_stp(g->br[v]);
		off += (size_t)snprintf(buf + off, len - off, " -> %s", g->br[v]->name);
		v = (size_t)prev[v];
	}
	if (off < len)
		snprintf(buf + off, len - off, " -> %s", g->br[a]->name);
	return storm;
}

static bool plain_end(const struct bgraph *g, size_t k)
{
	return !vnet_bridge_stp(g->br[g->e[k].a]) || !vnet_bridge_stp(g->br[g->e[k].b]);
}

/*
 * The first wire in the file on a loop that a bridge without STP is on, in @ret_first,
 * and the first such wire with the bridge at one end, in @ret_plain (NO_EDGE both when
 * there is none): the wires of blocks with a loop (two wires or more, or one wire with
 * both ends on one bridge) and a bridge without STP. Return: 0, or -ENOMEM.
 */
static int storm_wires(const struct bgraph *g, size_t nblk, size_t *ret_first, size_t *ret_plain)
{
	size_t *wires = calloc(nblk + 1, sizeof(*wires));
	bool *plain = calloc(nblk + 1, sizeof(*plain));

	*ret_first = *ret_plain = NO_EDGE;
	if (!wires || !plain) {
		free(wires);
		free(plain);
		return -ENOMEM;
	}
	for (size_t k = 0; k < g->ne; k++) {
		wires[g->blk[k]]++;
		plain[g->blk[k]] |= plain_end(g, k);
	}
	for (size_t k = 0; k < g->ne && *ret_plain == NO_EDGE; k++) {
		size_t b = g->blk[k];

		if (!plain[b] || (wires[b] < 2 && g->e[k].a != g->e[k].b))
			continue;
		if (*ret_first == NO_EDGE)
			*ret_first = k;
		if (plain_end(g, k))
			*ret_plain = k;
	}
	free(wires);
	free(plain);
	return 0;
}

/*
 * The loop to name, in @loop; Return: its wire. The shortest loop through the first wire of
 * the block, when a bridge without STP is on it: for the seed's triangle with one such
 * bridge, the whole triangle from the file's first wire. Else the shortest loop through the
 * first wire of such a bridge, which passes through it. (Trying every wire in turn, as a
 * plain scan would, costs one search per wire: 40 s for a 50 x 50 grid.)
 */
static size_t storm_loop(const struct bgraph *g, size_t first, size_t plain, char *loop, size_t len,
			 long *prev, size_t *queue)
{
	path_without(g, first, g->e[first].a, prev, queue);
	if (describe_loop(g, first, prev, loop, len))
		return first;
	path_without(g, plain, g->e[plain].a, prev, queue);
	describe_loop(g, plain, prev, loop, len);
	return plain;
}

static int loop_error(const struct bgraph *g, size_t k, const char *loop, struct vnet_error *reterr)
{
	char obj[VNET_IFNAMSIZ + 8];
	int r;

	snprintf(obj, sizeof(obj), "bridge %s", g->br[g->e[k].a]->name);
	r = vnet_error_set(reterr, -EINVAL, obj, "",
			   "loop of bridges without STP: %s (a broadcast storm); turn stp "
			   "on for them, or set allow_loops: true",
			   loop);
	if (reterr) {
		snprintf(reterr->file, sizeof(reterr->file), "%s", g->m->file);
		reterr->line = g->e[k].end->pos.line;
		reterr->col = g->e[k].end->pos.col;
		reterr->err = 0; /* a topology error, like the validator's */
	}
	return r;
}

int vnet_stp_find_loop(const struct vnet_model *m, struct vnet_error *reterr)
{
	struct bgraph g;
	long *prev = NULL, nblk;
	size_t *queue = NULL, first = NO_EDGE, plain = NO_EDGE;
	char loop[256];
	int r;

	if (m->allow_loops)
		return 0;
	r = graph_build(&g, m);
	nblk = r < 0 ? r : graph_blocks(&g);
	r = nblk < 0 ? (int)nblk : storm_wires(&g, (size_t)nblk, &first, &plain);
	if (r < 0 || first == NO_EDGE)
		goto out;
	prev = calloc(g.n + 1, sizeof(*prev));
	queue = calloc(g.n + 1, sizeof(*queue));
	if (!prev || !queue) {
		r = -ENOMEM;
		goto out;
	}
	r = loop_error(&g, storm_loop(&g, first, plain, loop, sizeof(loop), prev, queue), loop,
		       reterr);
out:
	graph_free(&g);
	free(prev);
	free(queue);
	return r;
}

/* ---- waiting for convergence ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * How long a port that should have carrier may go without it, or stay disabled with it,
 * before it counts as settled all the same. A veth gets carrier in the same request that
 * sets it up (veth_open() turns it on at both ends), and the bridge enables a port when the
 * link watcher reports the change (NETDEV_CHANGE, br_port_carrier_check()): at once for a
 * running veth (an urgent event), within a second for the rest (linkwatch_schedule_work()
 * holds them back to one run a second). So the bound is only reached when something else
 * keeps the link down, and the wait then goes on as if the port were not there.
 */
#define STP_CARRIER_MS 2000L

/* The desired model says @p is up and so is its veth peer: it should get carrier. */
static bool carrier_expected(const struct vnet_model *want, const struct vnet_link *p)
{
	const struct vnet_link *w = vnet_model_find_link(want, p->ns, p->name);
	const struct vnet_link *peer;

	if (!w || !w->up || !vnet_kind_has(w->kind, VNET_KIND_F_PAIR))
		return false;
	peer = vnet_model_find_link(want, w->peer_ns, w->peer);
	return peer && peer->up;
}

/*
 * Why port @p, of a bridge with STP on, is not settled yet (NULL: it is), @ms into the wait.
 * With carrier: listening or learning, or disabled on a bridge that is up, which is a port
 * the bridge has not enabled yet (it will listen and learn next: returning now would skip
 * the flush, and leave traffic to a path STP is about to change). Without carrier the
 * bridge disables the port whatever its state shows now (a new veth comes up listening:
 * its operstate is still unknown, and the link watcher reports the missing carrier up to a
 * second later); it is waited for only when carrier is coming.
 */
static const char *port_unsettled(const struct vnet_model *want, const struct vnet_model *have,
				  const struct vnet_link *p, long ms)
{
	const struct vnet_link *br = vnet_model_find_link(have, p->ns, p->master);
	uint8_t state = p->stp_port.state;

	if (!p->up)
		return NULL;
	if (!p->lower_up)
		return ms < STP_CARRIER_MS && carrier_expected(want, p) ? "no carrier yet" : NULL;
	if (state == VNET_STP_LISTENING || state == VNET_STP_LEARNING)
		return vnet_stp_state_name(state);
	if (state == VNET_STP_DISABLED && br && br->up && ms < STP_CARRIER_MS)
		return "disabled, its carrier not yet seen by the bridge";
	return NULL;
}

/* Ports of STP bridges of @want not settled yet, @ms into the wait; @total: the ports
 * that count (up, with carrier or about to get it); @first: the first unsettled one. */
static size_t unsettled(const struct vnet_model *want, const struct vnet_model *have, long ms,
			size_t *total, char *first, size_t len)
{
	size_t n = 0;

	*total = 0;
	for (size_t i = 0; i < have->links.n; i++) {
		const struct vnet_link *p = &have->links.v[i];
		const struct vnet_link *w =
			p->master[0] ? vnet_model_find_link(want, p->ns, p->master) : NULL;
		const char *why;

		if (!w || !vnet_bridge_stp(w))
			continue;
		why = port_unsettled(want, have, p, ms);
		if (!why && (!p->up || !p->lower_up))
			continue;
		(*total)++;
		if (why && !n++)
			snprintf(first, len, "%s of %s: %s", p->name, w->name, why);
	}
	return n;
}

/* The namespaces that hold STP bridges; Return: how many (0: nothing to wait for). */
static size_t stp_namespaces(const struct vnet_model *m, const char **v)
{
	size_t n = 0;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		bool seen = false;

		if (!vnet_bridge_stp(l))
			continue;
		for (size_t j = 0; j < n && !seen; j++)
			seen = !strcmp(v[j], l->ns);
		if (!seen)
			v[n++] = l->ns;
	}
	return n;
}

/*
 * After STP moved ports, forget what the bridges learned: the kernel would keep
 * sending to a MAC address through a port that is now blocked until the entry ages.
 */
static int flush_learned(struct vnet_session *s, const struct vnet_model *m)
{
	struct vnet_batch b;
	int r = 0;

	vnet_batch_init(&b);
	for (size_t i = 0; i < m->links.n && r >= 0; i++) {
		const struct vnet_link *l = &m->links.v[i];
		struct vnet_nl_result res = { 0 };
		struct vnet_nl *nl;

		if (!vnet_bridge_stp(l))
			continue;
		vnet_batch_reset(&b);
		r = vnet_bridge_msg_flush(&b, l->name);
		if (r >= 0)
			r = vnet_nlset_get(vnet_session_nls(s), l->ns, &nl);
		if (r >= 0)
			r = vnet_nl_send(nl, &b, &res);
		if (r >= 0)
			r = res.err;
	}
	vnet_batch_free(&b);
	return r;
}

/* Long enough for the slowest STP bridge of @m, and 10 s more. */
static long stp_timeout_ms(const struct vnet_model *m)
{
	long worst = 0;

	for (size_t i = 0; i < m->links.n; i++) {
		long t = vnet_bridge_converge_ms(&m->links.v[i]);

		worst = t > worst ? t : worst;
	}
	return worst + 10000;
}

int vnet_stp_wait(struct vnet_session *s, const struct vnet_model *m, long timeout_ms,
		  void (*progress)(void *data, const char *line), void *data, long *ret_ms,
		  struct vnet_error *reterr)
{
	const char **ns = calloc(m->links.n + 1, sizeof(*ns));
	long t0 = now_ms();
	size_t nns, polls = 0;
	int r = 0;

	if (!ns)
		return -ENOMEM;
	nns = stp_namespaces(m, ns);
	if (timeout_ms <= 0)
		timeout_ms = stp_timeout_ms(m);
	for (;;) {
		struct vnet_model *have = NULL;
		char first[128] = "", line[200];
		size_t total, left;

		if (!nns)
			break;
		r = vnet_observe(vnet_session_nls(s), m->name, ns, nns, &have);
		if (r < 0)
			break;
		left = unsettled(m, have, now_ms() - t0, &total, first, sizeof(first));
		vnet_model_free(have);
		if (!left) {
			/* only when a port moved: the tree may have changed under what they learned */
			if (polls)
				r = flush_learned(s, m);
			break;
		}
		polls++;
		if (now_ms() - t0 > timeout_ms) {
			r = vnet_error_set(reterr, -ETIMEDOUT, "stp", "converge",
					   "%zu of %zu ports still in transition after %.1f s (%s)",
					   left, total, (now_ms() - t0) / 1000.0, first);
			break;
		}
		snprintf(line, sizeof(line), "STP: %zu of %zu ports in transition (%.1f s)", left,
			 total, (now_ms() - t0) / 1000.0);
		if (progress)
			progress(data, line);
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000000L }, NULL);
	}
	free(ns);
	*ret_ms = now_ms() - t0;
	return r;
}
