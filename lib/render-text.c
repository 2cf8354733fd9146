// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-text.c - the drawing index shared by the renderers, and the seed-style text picture */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "vnet/render.h"
#include "uplink.h"
#include "view.h"
#include "kind.h"
#include "nat.h"
#include "topo.h"

/* ---- the view: a model indexed for drawing ---- */

static bool is_host(const struct vnet_ns *ns)
{
	return !strcmp(ns->node, "host");
}

/* The host part first, then nodes in natural order (n2 before n10). */
static int node_cmp(const void *a, const void *b, void *data)
{
	const struct vnet_model *m = data;
	const struct vnet_ns *x = &m->ns.v[*(const size_t *)a], *y = &m->ns.v[*(const size_t *)b];

	if (is_host(x) != is_host(y))
		return is_host(x) ? -1 : 1;
	return strverscmp(x->node, y->node);
}

static int ns_name_cmp(const void *a, const void *b, void *data)
{
	const struct vnet_model *m = data;

	return strcmp(m->ns.v[*(const size_t *)a].name, m->ns.v[*(const size_t *)b].name);
}

static int addr_cmp(const void *a, const void *b, void *data)
{
	const struct vnet_model *m = data;
	const struct vnet_addr *x = &m->addrs.v[*(const size_t *)a];
	const struct vnet_addr *y = &m->addrs.v[*(const size_t *)b];
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->dev, y->dev);
	if (!c)
		c = x->family - y->family;
	return c ? c : memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int link_name_cmp(const void *a, const void *b, void *data)
{
	const struct vnet_model *m = data;

	return strverscmp(m->links.v[*(const size_t *)a].name, m->links.v[*(const size_t *)b].name);
}

const struct vnet_link *vnet_view_bridge(const struct vnet_view *v, const struct vnet_link *l)
{
	const struct vnet_link *br;

	if (!l->master[0])
		return NULL;
	br = vnet_model_find_link(v->m, l->ns, l->master);
	return br && vnet_kind_has(br->kind, VNET_KIND_F_MASTER) ? br : NULL;
}

/* Namespace name -> position in v->node, through a sorted copy of the namespace indexes. */
static int index_nodes(struct vnet_view *v, size_t *byname, size_t *pos)
{
	const struct vnet_model *m = v->m;

	for (size_t i = 0; i < m->ns.n; i++)
		v->node[i] = byname[i] = i;
	qsort_r(v->node, m->ns.n, sizeof(size_t), node_cmp, (void *)m);
	qsort_r(byname, m->ns.n, sizeof(size_t), ns_name_cmp, (void *)m);
	v->nnodes = m->ns.n;
	for (size_t k = 0; k < m->ns.n; k++)
		pos[v->node[k]] = k;
	for (size_t i = 0; i < m->links.n; i++) {
		size_t lo = 0, hi = m->ns.n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(m->ns.v[byname[mid]].name, m->links.v[i].ns) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == m->ns.n || strcmp(m->ns.v[byname[lo]].name, m->links.v[i].ns))
			return -EINVAL; /* a link outside every namespace: not an observed model */
		v->link_node[i] = pos[byname[lo]];
	}
	return 0;
}

static void index_addrs(struct vnet_view *v)
{
	const struct vnet_model *m = v->m;

	for (size_t i = 0; i < m->addrs.n; i++)
		v->addr[i] = i;
	qsort_r(v->addr, m->addrs.n, sizeof(size_t), addr_cmp, (void *)m);
	for (size_t i = 0; i < m->addrs.n;) {
		const struct vnet_addr *a = &m->addrs.v[v->addr[i]];
		const struct vnet_link *l = vnet_model_find_link(m, a->ns, a->dev);
		size_t j = i + 1;

		while (j < m->addrs.n && !strcmp(m->addrs.v[v->addr[j]].ns, a->ns) &&
		       !strcmp(m->addrs.v[v->addr[j]].dev, a->dev))
			j++;
		if (l) {
			v->addr_first[l - m->links.v] = i;
			v->addr_n[l - m->links.v] = j - i;
		}
		i = j;
	}
}

/*
 * A node's links: each bridge followed by its ports, then the others; lo left out. Each link
 * is drawn once, even where the model is odd (a bridge named as its own master, two links
 * of one name: the kernel would never say so, but the model is read from it, not trusted).
 */
static int order_links(struct vnet_view *v, size_t k, const size_t *all, size_t n)
{
	const struct vnet_model *m = v->m;
	size_t *out = malloc((n + 1) * sizeof(*out)), c = 0;
	bool *placed = calloc(n + 1, sizeof(*placed));

	if (!out || !placed) {
		free(out);
		free(placed);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vnet_link *br = &m->links.v[all[i]];

		if (!vnet_kind_has(br->kind, VNET_KIND_F_MASTER) || placed[i])
			continue;
		placed[i] = true;
		out[c++] = all[i];
		for (size_t j = 0; j < n; j++)
			if (!placed[j] && !strcmp(m->links.v[all[j]].master, br->name)) {
				placed[j] = true;
				out[c++] = all[j];
			}
	}
	for (size_t i = 0; i < n; i++) {
		const struct vnet_link *l = &m->links.v[all[i]];

		if (!placed[i] && !vnet_kind_has(l->kind, VNET_KIND_F_MASTER) &&
		    !vnet_view_bridge(v, l) && strcmp(l->name, "lo"))
			out[c++] = all[i];
	}
	free(placed);
	v->links[k] = out;
	v->nlinks[k] = c;
	return 0;
}

static int group_links(struct vnet_view *v)
{
	const struct vnet_model *m = v->m;
	size_t *byname = malloc((m->links.n + 1) * sizeof(*byname)), *start;
	int r = 0;

	start = calloc(v->nnodes + 1, sizeof(*start));
	if (!byname || !start) {
		free(byname);
		free(start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->links.n; i++)
		start[v->link_node[i] + 1]++;
	for (size_t k = 0; k < v->nnodes; k++)
		start[k + 1] += start[k];
	for (size_t i = 0; i < m->links.n; i++)
		byname[start[v->link_node[i]]++] = i;
	for (size_t k = v->nnodes; k > 0; k--) /* back to the start of each run */
		start[k] = start[k - 1];
	start[0] = 0;
	for (size_t k = 0; k < v->nnodes && !r; k++) {
		qsort_r(byname + start[k], start[k + 1] - start[k], sizeof(size_t), link_name_cmp,
			(void *)m);
		r = order_links(v, k, byname + start[k], start[k + 1] - start[k]);
	}
	free(byname);
	free(start);
	return r;
}

/* Peers, and a number per veth pair in drawing order (so letters read a, b, c...). */
static void index_wires(struct vnet_view *v)
{
	const struct vnet_model *m = v->m;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i], *p = NULL;

		v->peer[i] = v->wire[i] = -1;
		if (vnet_kind_has(l->kind, VNET_KIND_F_PAIR) && l->peer[0])
			p = vnet_model_find_link(m, l->peer_ns, l->peer);
		if (p)
			v->peer[i] = p - m->links.v;
	}
	/* a wire joins two ends that name each other (so a model with two links of one name
	 * cannot give a wire a third end) */
	for (size_t i = 0; i < m->links.n; i++)
		if (v->peer[i] >= 0 && v->peer[v->peer[i]] != (long)i)
			v->peer[i] = -1;
	v->nwires = 0;
	for (size_t k = 0; k < v->nnodes; k++)
		for (size_t j = 0; j < v->nlinks[k]; j++) {
			size_t i = v->links[k][j];

			if (v->peer[i] >= 0 && v->wire[i] < 0)
				v->wire[i] = v->wire[v->peer[i]] = (long)v->nwires++;
		}
}

int vnet_view_build(const struct vnet_model *m, struct vnet_view *ret_view)
{
	struct vnet_view *v = ret_view;
	size_t nl = m->links.n + 1, nn = m->ns.n + 1;
	size_t *byname = malloc(nn * sizeof(size_t)), *pos = malloc(nn * sizeof(size_t));
	int r = -ENOMEM;

	*v = (struct vnet_view){ .m = m };
	v->node = malloc(nn * sizeof(size_t));
	v->nlinks = calloc(nn, sizeof(size_t));
	v->links = calloc(nn, sizeof(size_t *));
	v->link_node = malloc(nl * sizeof(size_t));
	v->peer = malloc(nl * sizeof(long));
	v->wire = malloc(nl * sizeof(long));
	v->addr = malloc((m->addrs.n + 1) * sizeof(size_t));
	v->addr_first = calloc(nl, sizeof(size_t));
	v->addr_n = calloc(nl, sizeof(size_t));
	if (byname && pos && v->node && v->nlinks && v->links && v->link_node && v->peer &&
	    v->wire && v->addr && v->addr_first && v->addr_n)
		r = index_nodes(v, byname, pos);
	if (!r)
		r = group_links(v);
	if (!r) {
		index_addrs(v);
		index_wires(v);
	}
	free(byname);
	free(pos);
	if (r < 0)
		vnet_view_clear(v);
	return r;
}

void vnet_view_clear(struct vnet_view *v)
{
	for (size_t k = 0; v->links && k < v->nnodes; k++)
		free(v->links[k]);
	free(v->node);
	free(v->nlinks);
	free(v->links);
	free(v->link_node);
	free(v->peer);
	free(v->wire);
	free(v->addr);
	free(v->addr_first);
	free(v->addr_n);
	*v = (struct vnet_view){ 0 };
}

/* ---- the picture: a box per namespace, as lines of text ---- */

/* Room for a name escaped by vnet_escape(): the picture prints names escaped, and counts
 * one byte a column (it uses bytes 0x01, \v and \f as marks of its own). */
#define ESC_SIZE VNET_ESC_SIZE(VNET_NAMSIZ)

/*
 * Lines are built as bytes, one byte a column; the arrow the seed draws between a device
 * and its stack is not ASCII, so it is the byte UP here and becomes UTF-8 on output.
 */
#define UP '\x01'
#define LINE_MAX_COLS 512

struct tbox {
	char **line;
	size_t n, cap;
	unsigned w;
	int err;
};

static void tb_add(struct tbox *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_add(struct tbox *b, const char *fmt, ...)
{
	char buf[LINE_MAX_COLS];
	va_list ap;

	if (b->err)
		return;
	va_start(ap, fmt);
	/* clang 14's analyzer misses the va_start above (a known false positive) */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (vnet_grow((void **)&b->line, &b->cap, b->n + 1, sizeof(*b->line)) < 0) {
		b->err = -ENOMEM;
		return;
	}
	b->line[b->n] = strdup(buf);
	if (!b->line[b->n]) {
		b->err = -ENOMEM;
		return;
	}
	if (strlen(buf) > b->w)
		b->w = (unsigned)strlen(buf);
	b->n++;
}

static void tb_free(struct tbox *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->line[i]);
	free(b->line);
	*b = (struct tbox){ 0 };
}

/* A wire's label: a..z, then a1..z1, a2... */
static void wire_label(long w, char *buf, size_t len)
{
	if (w < 26)
		snprintf(buf, len, "%c", (char)('a' + w));
	else
		snprintf(buf, len, "%c%u", (char)('a' + w % 26), (unsigned)(w / 26 % 100000));
}

/* A device's label: "*", its name of up to 15 bytes escaped to 60 columns, " tap", " DOWN". */
#define LABEL_SIZE 96

/* What a device's box says: "*" when vnet did not make it, its kind for tun/tap, DOWN. */
static void dev_label(const struct vnet_link *l, char *buf, size_t len)
{
	char name[ESC_SIZE], kind[48];

	vnet_link_label(l, kind, sizeof(kind));
	snprintf(buf, len, "%s%s%s%s", l->owned ? "" : "*",
		 vnet_escape(l->name, name, sizeof(name)), kind, l->up ? "" : " DOWN");
}

static const char *stp_short(const struct vnet_view *v, const struct vnet_link *l, char *buf,
			     size_t len)
{
	const struct vnet_link *br = vnet_view_bridge(v, l);

	buf[0] = 0;
	if (br && vnet_bridge_stp(br) && l->stp_port.has)
		snprintf(buf, len, " %s/%s", vnet_stp_role_name(vnet_stp_port_role(br, l)),
			 vnet_stp_state_name(l->stp_port.state));
	return buf;
}

/* After a device's box: its wire's letter, its STP role and state; addresses when asked. */
static void dev_tail(const struct vnet_view *v, size_t i, bool addrs, char *buf, size_t len)
{
	char w[16] = "", s[48];
	size_t n = 0;

	if (v->wire[i] >= 0) {
		wire_label(v->wire[i], w, sizeof(w));
		n = snprintf(buf, len, "==%s", w);
	} else {
		buf[0] = 0;
	}
	n += snprintf(buf + n, n < len ? len - n : 0, "%s",
		      stp_short(v, &v->m->links.v[i], s, sizeof(s)));
	for (size_t k = 0; addrs && k < v->addr_n[i] && n < len; k++) {
		const struct vnet_addr *a = &v->m->addrs.v[v->addr[v->addr_first[i] + k]];
		char t[64];

		vnet_addr_format(a->family, a->addr, a->prefixlen, t, sizeof(t));
		n += snprintf(buf + n, len - n, " %s%s", a->owned ? "" : "*", t);
	}
}

static void box_rule(char *buf, size_t len, unsigned w)
{
	size_t n = w + 4 < len ? w + 4 : len - 1;

	memset(buf, '-', n);
	buf[0] = buf[n - 1] = '+';
	buf[n] = 0;
}

static void dev_addrs(struct tbox *b, const struct vnet_view *v, size_t i)
{
	for (size_t k = 0; k < v->addr_n[i]; k++) {
		const struct vnet_addr *a = &v->m->addrs.v[v->addr[v->addr_first[i] + k]];
		char t[64];

		vnet_addr_format(a->family, a->addr, a->prefixlen, t, sizeof(t));
		tb_add(b, "\v  %s%s", a->owned ? "" : "*", t); /* \v: the stack's bus goes by */
	}
}

/* A device on the stack with no ports: its addresses above, its box, its wire after. */
static void draw_dev(struct tbox *b, const struct vnet_view *v, size_t i)
{
	char label[LABEL_SIZE], rule[LABEL_SIZE + 8], tail[128];

	dev_label(&v->m->links.v[i], label, sizeof(label));
	box_rule(rule, sizeof(rule), (unsigned)strlen(label));
	dev_tail(v, i, false, tail, sizeof(tail));
	dev_addrs(b, v, i);
	tb_add(b, "\v%s", rule);
	tb_add(b, "\f| %s |%s", label, tail); /* \f: where the bus joins the device */
	tb_add(b, "\v%s", rule);
}

static void draw_stp_line(struct tbox *b, const struct vnet_link *br)
{
	char id[32];

	if (!vnet_bridge_stp(br) || !br->stp_br.has)
		return;
	vnet_stp_id_format(br->stp_br.root_id, id, sizeof(id));
	if (!memcmp(br->stp_br.root_id, br->stp_br.bridge_id, 8))
		tb_add(b, "\v  stp: root bridge %s", id);
	else
		tb_add(b, "\v  stp: root %s, cost %u", id, (unsigned)br->stp_br.root_path_cost);
}

/* A bridge and its ports, the seed's "br0 <---> veth0", one port a row. */
static size_t draw_bridge(struct tbox *b, const struct vnet_view *v, const size_t *idx, size_t n)
{
	const struct vnet_link *br = &v->m->links.v[idx[0]];
	char label[LABEL_SIZE], rule[LABEL_SIZE + 8], pl[LABEL_SIZE], prule[LABEL_SIZE + 8];
	char tail[160], pad[LABEL_SIZE + 8];
	size_t np = 0, pw = 0;

	while (1 + np < n && !strcmp(v->m->links.v[idx[1 + np]].master, br->name))
		np++;
	for (size_t j = 1; j <= np; j++) {
		dev_label(&v->m->links.v[idx[j]], pl, sizeof(pl));
		pw = strlen(pl) > pw ? strlen(pl) : pw;
	}
	dev_label(br, label, sizeof(label));
	box_rule(rule, sizeof(rule), (unsigned)strlen(label));
	box_rule(prule, sizeof(prule), (unsigned)pw);
	snprintf(pad, sizeof(pad), "%*s", (int)strlen(rule), "");
	dev_addrs(b, v, idx[0]);
	for (size_t j = 1; j <= (np ? np : 1); j++) {
		bool first = j == 1, last = j >= np;

		if (np) {
			dev_label(&v->m->links.v[idx[j]], pl, sizeof(pl));
			dev_tail(v, idx[j], true, tail, sizeof(tail));
		}
		tb_add(b, "\v%s%s%s", first ? rule : pad, first ? "     " : "  |  ",
		       np ? prule : "");
		if (!np)
			tb_add(b, "\f| %s |", label);
		else
			tb_add(b, "%s%s%s%s| %-*s |%s", first ? "\f| " : "\v", first ? label : pad,
			       first ? " |" : "", first ? (last ? "<--->" : "<-+->") : "  +->",
			       (int)pw, pl, tail);
		tb_add(b, "\v%s%s%s", first ? rule : pad, last ? "     " : "  |  ",
		       np ? prule : "");
	}
	draw_stp_line(b, br);
	return 1 + np;
}

/* The stack's bus down the left side: "+->" where it joins a device, "|" between. */
static void add_gutter(struct tbox *out, const struct tbox *in)
{
	size_t last = 0;

	for (size_t i = 0; i < in->n; i++)
		if (in->line[i][0] == '\f')
			last = i;
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->line[i];

		if (s[0] != '\v' && s[0] != '\f')
			tb_add(out, "%s", s);
		else if (i > last)
			tb_add(out, "    %s", s + 1);
		else
			tb_add(out, " %s%s", s[0] == '\f' ? "+->" : "|  ", s + 1);
	}
	if (in->err)
		out->err = in->err;
}

static void node_title(struct tbox *b, const struct vnet_ns *ns)
{
	char node[ESC_SIZE], name[ESC_SIZE];

	vnet_escape(ns->node, node, sizeof(node));
	vnet_escape(ns->name, name, sizeof(name));
	if (!ns->name[0])
		tb_add(b, "%s (vnet's own namespace)", node);
	else if (strcmp(ns->node, ns->name))
		tb_add(b, "%s (%s)%s", node, name, ns->exists ? "" : " MISSING");
	else
		tb_add(b, "%s%s", name, ns->exists ? "" : " MISSING");
}

/* The seed's stack box, its label shortened to what the devices under it leave room for. */
static void stack_box(struct tbox *b, unsigned w, bool nat)
{
	const char *label = w >= 26 ? "Network Protocol Stack" :
			    w >= 18 ? "Protocol Stack" :
				      "Stack";
	char rule[32];
	int lw = (int)strlen(label);

	box_rule(rule, sizeof(rule), (unsigned)lw);
	tb_add(b, "%s", rule);
	tb_add(b, "| %s |", label);
	/* the seed's figure: the containers' traffic goes through the host's stack, NATed */
	if (nat)
		tb_add(b, "| %-*s |", lw, lw >= 22 ? "+ NAT (see nat: below)" : "+ NAT");
	tb_add(b, "%s", rule);
}

/* A route on one line, or cut before " via" and " dev" when it would widen the box. */
static void route_lines(struct tbox *b, const struct vnet_route *r, unsigned w)
{
	char raw[160], t[4 * sizeof(raw)], *via, *dev;

	snprintf(raw, sizeof(raw), "%s", r->owned ? "" : "*");
	vnet_route_format(r, raw + strlen(raw), sizeof(raw) - strlen(raw));
	vnet_escape(raw, t, sizeof(t));
	if (strlen(t) <= w) {
		tb_add(b, "%s", t);
		return;
	}
	via = strstr(t, " via ");
	dev = strstr(t, " dev ");
	if (dev)
		*dev = 0;
	if (via)
		*via = 0;
	tb_add(b, "%s", t);
	if (via)
		tb_add(b, "  %s", via + 1);
	if (dev)
		tb_add(b, "  %s", dev + 1);
}

/* One namespace: title, stack, its devices under it, its routes at the bottom. */
static int node_box(const struct vnet_view *v, size_t k, struct tbox *ret)
{
	const struct vnet_model *m = v->m;
	const struct vnet_ns *ns = &m->ns.v[v->node[k]];
	struct tbox b = { 0 }, devs = { 0 };
	const size_t *idx = v->links[k];
	size_t n = v->nlinks[k];

	for (size_t j = 0; j < n;) {
		if (vnet_kind_has(m->links.v[idx[j]].kind, VNET_KIND_F_MASTER)) {
			j += draw_bridge(&b, v, idx + j, n - j);
		} else {
			draw_dev(&b, v, idx[j]);
			j++;
		}
	}
	add_gutter(&devs, &b);
	tb_free(&b);
	node_title(&b, ns);
	stack_box(&b, devs.w > b.w ? devs.w : b.w,
		  m->nat.exists && !strcmp(m->nat.ns, ns->name) && k == 0);
	if (n)
		tb_add(&b, " %c", UP);
	for (size_t i = 0; i < devs.n; i++)
		tb_add(&b, "%s", devs.line[i]);
	for (size_t i = 0; i < m->routes.n; i++)
		if (!strcmp(m->routes.v[i].ns, ns->name))
			route_lines(&b, &m->routes.v[i], b.w > 20 ? b.w : 20);
	b.err = b.err ? b.err : devs.err;
	tb_free(&devs);
	*ret = b;
	return ret->err;
}

/* Print with the arrow bytes as UTF-8, the line padded to @w columns. */
static void put_cols(const char *s, unsigned w, FILE *out)
{
	unsigned c = 0;

	for (; *s; s++, c++)
		if (*s == UP)
			fputs("\u2191", out);
		else
			fputc(*s, out);
	for (; c < w; c++)
		fputc(' ', out);
}

/* A row of boxes side by side, as the seed draws its hosts and containers. */
static void print_row(struct tbox *box, size_t n, FILE *out)
{
	size_t h = 0;
	char rule[LINE_MAX_COLS + 8];

	for (size_t j = 0; j < n; j++)
		h = box[j].n > h ? box[j].n : h;
	for (size_t i = 0; i < h + 2; i++) {
		for (size_t j = 0; j < n; j++) {
			if (i == 0 || i == h + 1) {
				box_rule(rule, sizeof(rule), box[j].w);
				fputs(j ? rule + 1 : rule, out);
				continue;
			}
			fputs(j ? " " : "| ", out);
			put_cols(i - 1 < box[j].n ? box[j].line[i - 1] : "", box[j].w, out);
			fputs(" |", out);
		}
		fputc('\n', out);
	}
}

/* The wires in the order of their letters, each from the end drawn first. */
static void print_wires(const struct vnet_view *v, FILE *out)
{
	const struct vnet_model *m = v->m;
	long next = 0;

	for (size_t k = 0; k < v->nnodes; k++)
		for (size_t j = 0; j < v->nlinks[k]; j++) {
			size_t i = v->links[k][j], p = (size_t)v->peer[i];
			char w[16], a[ESC_SIZE], b[ESC_SIZE], c[ESC_SIZE], d[ESC_SIZE];

			if (v->wire[i] != next)
				continue;
			next++;
			wire_label(v->wire[i], w, sizeof(w));
			fprintf(out, "  %-3s %s/%s <-> %s/%s\n", w,
				vnet_escape(m->ns.v[v->node[k]].node, a, sizeof(a)),
				vnet_escape(m->links.v[i].name, b, sizeof(b)),
				vnet_escape(m->ns.v[v->node[v->link_node[p]]].node, c, sizeof(c)),
				vnet_escape(m->links.v[p].name, d, sizeof(d)));
		}
}

/* The NAT: what vnet's nftables table does, one fact a line, published ports last. */
static void print_publish(const struct vnet_nat_publish *pb, FILE *out)
{
	const struct vnet_port *p = &pb->p;
	char h[INET_ADDRSTRLEN + 1] = "", a[INET_ADDRSTRLEN], hp[16], cp[16], node[ESC_SIZE];

	if (p->has_host_addr) {
		char t[INET_ADDRSTRLEN];

		snprintf(h, sizeof(h), "%s:", inet_ntop(AF_INET, p->host_addr, t, sizeof(t)));
	}
	snprintf(hp, sizeof(hp), pb->count > 1 ? "%u-%u" : "%u", p->host_port,
		 p->host_port + pb->count - 1);
	snprintf(cp, sizeof(cp), pb->count > 1 ? "%u-%u" : "%u", p->port, p->port + pb->count - 1);
	inet_ntop(AF_INET, p->addr, a, sizeof(a));
	fprintf(out, "  publish     %s%s/%s -> %s%s%s:%s\n", h, hp,
		p->proto == IPPROTO_UDP ? "udp" : "tcp",
		p->node[0] ? vnet_escape(p->node, node, sizeof(node)) : "", p->node[0] ? " " : "",
		a, cp);
}

void vnet_view_nat_text(const struct vnet_model *m, FILE *out)
{
	struct vnet_nat_facts f;
	const struct vnet_nat *n = &m->nat;
	char ns[ESC_SIZE];

	if (!n->table[0] || (!n->exists && !n->owned) || vnet_nat_facts(m, &f) < 0)
		return;
	fprintf(out, "nat: nftables table ip %s in %s%s%s%s\n", n->table,
		n->ns[0] ? vnet_escape(n->ns, ns, sizeof(ns)) : "the host namespace",
		n->forward ? ", IPv4 forwarding on" : ", IPv4 forwarding OFF",
		n->owned ? "" : " (* not vnet's)",
		n->drift ? " (EDITED behind vnet's back: vnet up restores it)" : "");
	for (size_t i = 0; i < f.masq.n; i++)
		fprintf(out, "  masquerade  %s%s%s, out through the host's address\n",
			f.masq.v[i].subnet, f.masq.v[i].bridge[0] ? " from " : "",
			f.masq.v[i].bridge);
	for (size_t i = 0; i < f.internal.n; i++)
		fprintf(out, "  internal    %s %s: no way out\n", f.internal.v[i].bridge,
			f.internal.v[i].subnet);
	for (size_t i = 0; i < f.connected.n; i++)
		fprintf(out, "  connect     %s <-> %s\n", f.connected.v[i].a, f.connected.v[i].b);
	fprintf(out, "  isolation   %s\n",
		f.connected.n ? "networks reach each other only where connected" :
				"networks do not reach each other");
	for (size_t i = 0; i < f.published.n; i++)
		print_publish(&f.published.v[i], out);
	vnet_nat_facts_clear(&f);
}

void vnet_view_uplink_text(const struct vnet_model *m, FILE *out)
{
	char nic[ESC_SIZE], br[ESC_SIZE], where[ESC_SIZE + 16];

	for (size_t i = 0; i < m->uplinks.n; i++) {
		const struct vnet_uplink *u = &m->uplinks.v[i];
		const struct vnet_ns *ns = vnet_model_find_ns(m, u->ns);
		unsigned addrs = 0, routes = 0;

		if (!i)
			fputs("uplinks:\n", out);
		if (u->saved)
			vnet_uplink_counts(u->saved, &addrs, &routes);
		vnet_escape(u->nic, nic, sizeof(nic));
		vnet_escape(u->bridge, br, sizeof(br));
		vnet_escape(ns && ns->node[0] ? ns->node : "host", where, sizeof(where));
		if (u->taken)
			fprintf(out,
				"  %s/%s <- %s  taken over: its %u address%s and %u route%s are on "
				"%s; vnet down gives them back\n",
				where, br, nic, addrs, addrs == 1 ? "" : "es", routes,
				routes == 1 ? "" : "s", br);
		else
			fprintf(out,
				"  %s/%s <- %s  NOT taken over whole%s: vnet up takes it again\n",
				where, br, nic, u->exists ? "" : " (no such NIC)");
	}
}

/* Each tap, with the QEMU argument that opens it as it was made (the seed's VM figure). */
static void print_taps(const struct vnet_model *m, FILE *out)
{
	bool first = true;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		const struct vnet_ns *ns = vnet_model_find_ns(m, l->ns);
		char arg[160], name[ESC_SIZE], node[ESC_SIZE], nsname[ESC_SIZE];

		if (vnet_tap_qemu(l, arg, sizeof(arg)) < 0)
			continue;
		if (first)
			fputs("qemu:\n", out);
		first = false;
		vnet_escape(l->name, name, sizeof(name));
		vnet_escape(ns ? ns->node : l->ns, node, sizeof(node));
		/* a tap in a namespace is opened from inside it: QEMU must run there */
		if (l->ns[0])
			fprintf(out, "  %s/%s  %s  (QEMU in namespace %s)\n", node, name, arg,
				vnet_escape(l->ns, nsname, sizeof(nsname)));
		else
			fprintf(out, "  %s/%s  %s\n", node, name, arg);
	}
}

/* " h2 192.0.2.2 (via 10.244.2.0), ...": the remote VTEPs of vxlan @l, by host where known. */
static void put_vteps(const struct vnet_model *m, const struct vnet_link *l, FILE *out)
{
	for (size_t k = 0; k < l->n_vtep; k++) {
		const struct vnet_host *h = vnet_host_by_addr(m, l->vtep[k].dst);
		char name[ESC_SIZE], dst[INET_ADDRSTRLEN], via[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, l->vtep[k].dst, dst, sizeof(dst));
		fprintf(out, "%s %s%s%s", k ? "," : "",
			h ? vnet_escape(h->name, name, sizeof(name)) : "", h ? " " : "", dst);
		if (l->vtep[k].has_inner)
			fprintf(out, " (via %s)",
				inet_ntop(AF_INET, l->vtep[k].inner, via, sizeof(via)));
	}
}

/* "vxlans:" a line per vxlan: its VNI, its ends, and the remote VTEPs it sends to. */
void vnet_view_vxlan_text(const struct vnet_model *m, FILE *out)
{
	bool first = true;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		char name[ESC_SIZE], vni[16] = "?", local[INET_ADDRSTRLEN] = "?";
		char remote[INET_ADDRSTRLEN + 1] = "";
		uint32_t x;

		if (l->kind != &vnet_kind_vxlan)
			continue;
		if (first)
			fputs("vxlans:\n", out);
		first = false;
		if (vnet_link_opt(l, "vni", &x) > 0)
			snprintf(vni, sizeof(vni), "%u", x);
		if (vnet_link_opt(l, "local", &x) > 0)
			inet_ntop(AF_INET, &x, local, sizeof(local));
		if (vnet_link_opt(l, "remote", &x) > 0)
			inet_ntop(AF_INET, &x, remote, sizeof(remote));
		fprintf(out, "  %s  vni %s  mtu %u  local %s ->%s%s%s",
			vnet_escape(l->name, name, sizeof(name)), vni, l->mtu, local,
			remote[0] ? " " : "", remote, remote[0] && l->n_vtep ? "," : "");
		put_vteps(m, l, out);
		fputs(l->n_vtep || remote[0] ? "\n" : " (no VTEP)\n", out);
	}
}

static void print_legend(FILE *out)
{
	fputs("legend: <---> bridge port   ==a veth wire (the same letter at both ends)\n"
	      "        \u2191 to the stack   * not made by vnet   DOWN link down\n",
	      out);
}

/* Too many boxes to read, or one wider than the screen: the compact form is better. */
#define TEXT_MAX_NODES 12
#define TEXT_MAX_LINKS 48

static int draw_boxes(const struct vnet_view *v, struct tbox *box, unsigned width, FILE *out)
{
	size_t start = 0, used = 0;

	for (size_t k = 0; k <= v->nnodes; k++) {
		unsigned w = k < v->nnodes ? box[k].w + 3 : 0;

		if (k == v->nnodes || (k > start && used + w > width)) {
			print_row(box + start, k - start, out);
			start = k;
			used = 1;
		}
		used += w;
	}
	return 0;
}

int vnet_render_text(const struct vnet_model *m, unsigned width, FILE *out)
{
	struct vnet_view v;
	struct tbox *box = NULL;
	size_t links = 0;
	bool drawn;
	int r = vnet_view_build(m, &v);

	if (r < 0)
		return r;
	width = width ? width : 80;
	for (size_t k = 0; k < v.nnodes; k++)
		links += v.nlinks[k];
	if (v.nnodes <= TEXT_MAX_NODES && links <= TEXT_MAX_LINKS)
		box = calloc(v.nnodes + 1, sizeof(*box));
	for (size_t k = 0; box && k < v.nnodes && !r; k++) {
		r = node_box(&v, k, &box[k]);
		if (!r && box[k].w + 4 > width)
			r = -ERANGE;
	}
	if (box && !r) {
		char name[ESC_SIZE];

		fprintf(out, "topology %s%s", vnet_escape(m->name, name, sizeof(name)),
			m->sandbox ? " (sandbox)" : "");
		if (m->host[0])
			fprintf(out, " (host %s of %zu)", vnet_escape(m->host, name, sizeof(name)),
				m->hosts.n);
		fputc('\n', out);
		draw_boxes(&v, box, width, out);
		if (v.nwires)
			fputs("wires:\n", out);
		print_wires(&v, out);
		vnet_view_nat_text(m, out);
		vnet_view_uplink_text(m, out);
		print_taps(m, out);
		vnet_view_vxlan_text(m, out);
		print_legend(out);
	}
	drawn = box && !r;
	for (size_t k = 0; box && k < v.nnodes; k++)
		tb_free(&box[k]);
	free(box);
	vnet_view_clear(&v);
	if (!drawn && (!r || r == -ERANGE))
		return vnet_render_compact(m, out);
	return r < 0 ? r : ferror(out) ? -EIO : 0;
}

/* ---- the compact form: one line per thing, for big topologies and for grep ---- */

static void put_addrs(const struct vnet_view *v, size_t i, FILE *out)
{
	for (size_t k = 0; k < v->addr_n[i]; k++) {
		const struct vnet_addr *a = &v->m->addrs.v[v->addr[v->addr_first[i] + k]];
		char t[64];

		vnet_addr_format(a->family, a->addr, a->prefixlen, t, sizeof(t));
		fprintf(out, " %s%s", a->owned ? "" : "*", t);
	}
}

/* "node/link kind [DOWN] [*] addresses [<-> node/peer addresses]" */
static void put_link(const struct vnet_view *v, size_t i, bool with_kind, FILE *out)
{
	const struct vnet_model *m = v->m;
	const struct vnet_link *l = &m->links.v[i];
	char s[48], a[ESC_SIZE], b[ESC_SIZE];

	fprintf(out, "%s/%s", vnet_escape(m->ns.v[v->node[v->link_node[i]]].node, a, sizeof(a)),
		vnet_escape(l->name, b, sizeof(b)));
	if (with_kind)
		fprintf(out, " %s", vnet_kind_name(l->kind));
	fprintf(out, "%s%s", l->up ? "" : " DOWN", l->owned ? "" : " *foreign");
	put_addrs(v, i, out);
	fputs(stp_short(v, l, s, sizeof(s)), out);
	if (v->peer[i] >= 0) {
		size_t p = (size_t)v->peer[i];

		fprintf(out, " <-> %s/%s%s",
			vnet_escape(m->ns.v[v->node[v->link_node[p]]].node, a, sizeof(a)),
			vnet_escape(m->links.v[p].name, b, sizeof(b)),
			m->links.v[p].up ? "" : " DOWN");
		put_addrs(v, p, out);
	}
	fputc('\n', out);
}

/* Is link @i told by a bridge's line: a bridge, a port, or the far end of a port's veth? */
static bool told(const struct vnet_view *v, size_t i)
{
	const struct vnet_link *l = &v->m->links.v[i];

	if (vnet_kind_has(l->kind, VNET_KIND_F_MASTER) || vnet_view_bridge(v, l))
		return true;
	return v->peer[i] >= 0 && vnet_view_bridge(v, &v->m->links.v[v->peer[i]]);
}

static void compact_bridges(const struct vnet_view *v, FILE *out)
{
	const struct vnet_model *m = v->m;

	for (size_t k = 0; k < v->nnodes; k++)
		for (size_t j = 0; j < v->nlinks[k]; j++) {
			size_t i = v->links[k][j], np = 0;
			const struct vnet_link *br = &m->links.v[i];

			if (!vnet_kind_has(br->kind, VNET_KIND_F_MASTER))
				continue;
			while (j + 1 + np < v->nlinks[k] &&
			       !strcmp(m->links.v[v->links[k][j + 1 + np]].master, br->name))
				np++;
			fputs("bridge ", out);
			put_link(v, i, false, out);
			for (size_t p = 1; p <= np; p++) {
				char a[ESC_SIZE], b[ESC_SIZE];

				fprintf(out, "  %s/%s port ",
					vnet_escape(m->ns.v[v->node[k]].node, a, sizeof(a)),
					vnet_escape(br->name, b, sizeof(b)));
				put_link(v, v->links[k][j + p], false, out);
			}
		}
}

/* A node's links that no bridge line told, and its routes; Return: how many lines. */
static size_t compact_node(const struct vnet_view *v, size_t k, FILE *out)
{
	const struct vnet_model *m = v->m;
	const struct vnet_ns *ns = &m->ns.v[v->node[k]];
	char node[ESC_SIZE], name[ESC_SIZE];
	size_t said = 0;

	vnet_escape(ns->node, node, sizeof(node));
	for (size_t j = 0; j < v->nlinks[k]; j++) {
		if (told(v, v->links[k][j]))
			continue;
		fprintf(out, "%s", said++ ? "  " : "node ");
		if (said == 1)
			fprintf(out, "%s (%s)%s\n  ", node,
				ns->name[0] ? vnet_escape(ns->name, name, sizeof(name)) : "-",
				ns->exists ? "" : " MISSING");
		put_link(v, v->links[k][j], true, out);
	}
	for (size_t i = 0; i < m->routes.n; i++) {
		char t[160], te[4 * sizeof(t)];

		if (strcmp(m->routes.v[i].ns, ns->name))
			continue;
		vnet_route_format(&m->routes.v[i], t, sizeof(t));
		fprintf(out, "%s/route %s%s\n", node, m->routes.v[i].owned ? "" : "*",
			vnet_escape(t, te, sizeof(te)));
		said++;
	}
	return said;
}

int vnet_render_compact(const struct vnet_model *m, FILE *out)
{
	struct vnet_view v;
	size_t quiet = 0;
	char name[ESC_SIZE];
	int r = vnet_view_build(m, &v);

	if (r < 0)
		return r;
	fprintf(out, "topology %s%s: %zu nodes, %zu links, %zu addresses, %zu routes\n",
		vnet_escape(m->name, name, sizeof(name)), m->sandbox ? " (sandbox)" : "", m->ns.n,
		m->links.n, m->addrs.n, m->routes.n);
	compact_bridges(&v, out);
	for (size_t k = 0; k < v.nnodes; k++)
		quiet += !compact_node(&v, k, out);
	if (quiet)
		fprintf(out, "(%zu nodes have nothing more than their line above)\n", quiet);
	vnet_view_nat_text(m, out);
	vnet_view_uplink_text(m, out);
	print_taps(m, out);
	fputs("legend: A <-> B veth wire   * not made by vnet   DOWN link down\n", out);
	vnet_view_clear(&v);
	return ferror(out) ? -EIO : 0;
}
