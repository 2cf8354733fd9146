// SPDX-License-Identifier: LGPL-2.1-or-later
/* stp.c - spanning tree: port roles as the kernel decides them, loop checks, convergence */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"

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
};

static long bridge_index(const struct bgraph *g, const char *ns, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->br[i]->ns, ns) && !strcmp(g->br[i]->name, name))
			return (long)i;
	return -1;
}

static int graph_build(struct bgraph *g, const struct vnet_model *m)
{
	*g = (struct bgraph){ .m = m };
	g->br = calloc(m->links.n + 1, sizeof(*g->br));
	g->e = calloc(m->links.n + 1, sizeof(*g->e));
	if (!g->br || !g->e)
		return -ENOMEM;
	for (size_t i = 0; i < m->links.n; i++)
		if (m->links.v[i].kind == VNET_KIND_BRIDGE)
			g->br[g->n++] = &m->links.v[i];
	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		const struct vnet_link *peer;
		long a, b;

		if (l->kind != VNET_KIND_VETH || !l->master[0])
			continue;
		peer = vnet_model_find_link(m, l->peer_ns, l->peer);
		/* each pair once: from its first end in the file */
		if (!peer || peer < l || !peer->master[0])
			continue;
		a = bridge_index(g, l->ns, l->master);
		b = bridge_index(g, peer->ns, peer->master);
		if (a >= 0 && b >= 0)
			g->e[g->ne++] = (struct edge){ (size_t)a, (size_t)b, l };
	}
	return 0;
}

static void graph_free(struct bgraph *g)
{
	free(g->br);
	free(g->e);
}

/* A path from @from to @to that does not use edge @skip, by breadth-first search. On
 * success @prev holds each bridge's predecessor. Return: true when there is one. */
static bool path_without(const struct bgraph *g, size_t skip, size_t from, size_t to, long *prev)
{
	size_t *queue = calloc(g->n + 1, sizeof(*queue)), head = 0, tail = 0;
	bool found = false;

	if (!queue)
		return false;
	for (size_t i = 0; i < g->n; i++)
		prev[i] = -1;
	prev[from] = (long)from;
	queue[tail++] = from;
	while (head < tail && !found) {
		size_t u = queue[head++];

		for (size_t k = 0; k < g->ne; k++) {
			size_t v;

			if (k == skip || (g->e[k].a != u && g->e[k].b != u))
				continue;
			v = g->e[k].a == u ? g->e[k].b : g->e[k].a;
			if (prev[v] >= 0)
				continue;
			prev[v] = (long)u;
			queue[tail++] = v;
			found = v == to;
		}
	}
	free(queue);
	return found || from == to;
}

/* "sw1 -> sw2 -> sw3 -> sw1" for the loop closed by edge @k; Return: any bridge without STP. */
static bool describe_loop(const struct bgraph *g, size_t k, const long *prev, char *buf, size_t len)
{
	size_t a = g->e[k].a, v = g->e[k].b, off = 0;
	bool storm = false;

	off += (size_t)snprintf(buf + off, len - off, "%s", g->br[a]->name);
	storm |= !g->br[a]->br.stp;
	/* walk back from b to a along the search tree: a ... b, printed from b */
	while (v != a && off < len) {
		storm |= !g->br[v]->br.stp;
		off += (size_t)snprintf(buf + off, len - off, " -> %s", g->br[v]->name);
		v = (size_t)prev[v];
	}
	if (off < len)
		snprintf(buf + off, len - off, " -> %s", g->br[a]->name);
	return storm;
}

int vnet_stp_find_loop(const struct vnet_model *m, struct vnet_error *reterr)
{
	struct bgraph g;
	long *prev;
	int r = graph_build(&g, m);

	prev = calloc(g.n + 1, sizeof(*prev));
	if (r < 0 || !prev) {
		graph_free(&g);
		free(prev);
		return -ENOMEM;
	}
	for (size_t k = 0; !m->allow_loops && k < g.ne && !r; k++) {
		char loop[256], obj[VNET_IFNAMSIZ + 8];

		if (!path_without(&g, k, g.e[k].a, g.e[k].b, prev) ||
		    !describe_loop(&g, k, prev, loop, sizeof(loop)))
			continue;
		snprintf(obj, sizeof(obj), "bridge %s", g.br[g.e[k].a]->name);
		r = vnet_error_set(reterr, -EINVAL, obj, "",
				   "loop of bridges without STP: %s (a broadcast storm); turn stp "
				   "on for them, or set allow_loops: true",
				   loop);
		if (reterr) {
			snprintf(reterr->file, sizeof(reterr->file), "%s", m->file);
			reterr->line = g.e[k].end->pos.line;
			reterr->col = g.e[k].end->pos.col;
			reterr->err = 0; /* a topology error, like the validator's */
		}
	}
	graph_free(&g);
	free(prev);
	return r;
}

/* ---- waiting for convergence ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Ports of STP bridges of @want that have carrier and are still listening or learning. */
static size_t unsettled(const struct vnet_model *want, const struct vnet_model *have, size_t *total,
			char *first, size_t len)
{
	size_t n = 0;

	*total = 0;
	for (size_t i = 0; i < have->links.n; i++) {
		const struct vnet_link *p = &have->links.v[i];
		const struct vnet_link *w =
			p->master[0] ? vnet_model_find_link(want, p->ns, p->master) : NULL;

		if (!w || w->kind != VNET_KIND_BRIDGE || !w->br.stp || !p->up || !p->lower_up)
			continue;
		(*total)++;
		if (p->stp_port.state != VNET_STP_LISTENING &&
		    p->stp_port.state != VNET_STP_LEARNING)
			continue;
		if (!n++)
			snprintf(first, len, "%s %s of %s", p->name,
				 vnet_stp_state_name(p->stp_port.state), w->name);
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

		if (l->kind != VNET_KIND_BRIDGE || !l->br.stp)
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

		if (l->kind != VNET_KIND_BRIDGE || !l->br.stp)
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
	for (;;) {
		struct vnet_model *have = NULL;
		char first[96] = "", line[160];
		size_t total, left;

		if (!nns)
			break;
		r = vnet_observe(vnet_session_nls(s), m->name, ns, nns, &have);
		if (r < 0)
			break;
		left = unsettled(m, have, &total, first, sizeof(first));
		vnet_model_free(have);
		if (!left) {
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
		snprintf(line, sizeof(line), "STP: %zu of %zu ports listening or learning (%.1f s)",
			 left, total, (now_ms() - t0) / 1000.0);
		if (progress)
			progress(data, line);
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000000L }, NULL);
	}
	free(ns);
	*ret_ms = now_ms() - t0;
	return r;
}
