// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-svg.c - the topology as a self-contained SVG, laid out by vnet: boxes, text, lines */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "vnet/render.h"
#include "view.h"
#include "kind.h"

/* Sizes in pixels: a box per namespace, devices in a column, ports indented under bridges. */
#define BOX_W 440
#define GAP 40
#define DEV_W 150
#define DEV_H 22
#define DEV_STEP 32
#define ADDR_STEP 13
#define TOP 78

struct svg_layout {
	double *bx, *by, *bh; /* per node: the box */
	double *lx, *ly; /* per link: the device's top-left corner */
	double w, h;
	char *nat; /* the NAT's lines (vnet_view_nat_text()), or NULL */
	size_t nat_lines;
};

/*
 * @s as XML character data. Names come from the kernel, which allows nearly any byte in an
 * interface name; XML 1.0 allows no control character but tab and newline, even escaped,
 * nor bytes that are not UTF-8. Such a byte is drawn as U+FFFD, so the picture still loads.
 */
static void put_xml(const char *s, FILE *out)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = vnet_utf8_seq(p);

		if (!n || (*p < 0x20 && *p != '\t' && *p != '\n')) {
			fputs(VNET_UTF8_REPLACEMENT, out);
			p++;
			continue;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			fwrite(p, 1, n, out);
		}
		p += n;
	}
}

static size_t node_routes(const struct vnet_model *m, const char *ns)
{
	size_t n = 0;

	for (size_t i = 0; i < m->routes.n; i++)
		n += !strcmp(m->routes.v[i].ns, ns);
	return n;
}

/* Devices top to bottom in each box; boxes in a grid, as square as the count allows. */
static void layout(const struct vnet_view *v, struct svg_layout *L, const size_t *nroutes)
{
	size_t cols = 1;
	double rowy = GAP, rowh = 0;

	while (cols * cols < v->nnodes) /* no libm for a square root */
		cols++;
	cols = v->nnodes <= 4 && v->nnodes ? v->nnodes : cols;
	for (size_t k = 0; k < v->nnodes; k++) {
		double y;

		if (k && k % cols == 0) {
			rowy += rowh + GAP;
			rowh = 0;
		}
		L->bx[k] = GAP + (double)(k % cols) * (BOX_W + GAP);
		L->by[k] = rowy;
		y = rowy + TOP;
		for (size_t j = 0; j < v->nlinks[k]; j++) {
			size_t i = v->links[k][j], na = v->addr_n[i];

			L->lx[i] = L->bx[k] + (vnet_view_bridge(v, &v->m->links.v[i]) ? 60 : 30);
			L->ly[i] = y;
			y += DEV_STEP + (na > 1 ? (double)(na - 1) * ADDR_STEP : 0);
		}
		L->bh[k] = y - rowy + 14.0 * (double)nroutes[k] + 8;
		rowh = L->bh[k] > rowh ? L->bh[k] : rowh;
		if (L->bx[k] + BOX_W + GAP > L->w)
			L->w = L->bx[k] + BOX_W + GAP;
	}
	L->h = rowy + rowh + GAP + 40;
}

static void put_box(const struct vnet_view *v, const struct svg_layout *L, size_t k, FILE *out)
{
	const struct vnet_ns *ns = &v->m->ns.v[v->node[k]];
	double x = L->bx[k], y = L->by[k];

	fprintf(out,
		"<rect class=\"ns\" x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%.0f\"/>\n"
		"<text class=\"title\" x=\"%.0f\" y=\"%.0f\">",
		x, y, BOX_W, L->bh[k], x + 10, y + 18);
	put_xml(ns->node, out);
	if (ns->name[0] && strcmp(ns->name, ns->node)) {
		fputs(" (", out);
		put_xml(ns->name, out);
		fputc(')', out);
	}
	fprintf(out,
		"</text>\n<rect class=\"stack\" x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"24\"/>\n"
		"<text class=\"c\" x=\"%.0f\" y=\"%.0f\">Network Protocol Stack%s</text>\n",
		x + 10, y + 28, BOX_W - 20, x + BOX_W / 2.0, y + 44,
		k == 0 && v->m->nat.exists && !strcmp(v->m->nat.ns, ns->name) ? " + NAT" : "");
}

/* The stack's bus: a line down the left, a branch into each device that is not a port. */
static void put_bus(const struct vnet_view *v, const struct svg_layout *L, size_t k, FILE *out)
{
	double x = L->bx[k] + 18, last = -1;

	for (size_t j = 0; j < v->nlinks[k]; j++) {
		size_t i = v->links[k][j];

		if (vnet_view_bridge(v, &v->m->links.v[i]))
			continue;
		last = L->ly[i] + DEV_H / 2.0;
		fprintf(out, "<path class=\"bus\" d=\"M%.0f %.0fH%.0f\"/>\n", x, last, L->lx[i]);
	}
	if (last > 0)
		fprintf(out, "<path class=\"bus\" d=\"M%.0f %.0fV%.0f\"/>\n", x, L->by[k] + 52,
			last);
}

/* A port of an STP bridge: its role and state, after the wire's loop. */
static void put_stp(const struct vnet_view *v, const struct vnet_link *l, double x, double y,
		    FILE *out)
{
	const struct vnet_link *br = vnet_view_bridge(v, l);
	enum vnet_stp_role role;

	if (!br || !vnet_bridge_stp(br) || !l->stp_port.has)
		return;
	role = vnet_stp_port_role(br, l);
	fprintf(out, "<text class=\"stp%s\" x=\"%.0f\" y=\"%.0f\">%s/%s</text>\n",
		l->stp_port.state == VNET_STP_BLOCKING ? " blocked" : "", x + 70, y,
		vnet_stp_role_name(role), vnet_stp_state_name(l->stp_port.state));
}

static void put_dev(const struct vnet_view *v, const struct svg_layout *L, size_t i, FILE *out)
{
	const struct vnet_link *l = &v->m->links.v[i];
	double x = L->lx[i], y = L->ly[i];
	char kind[48];

	fprintf(out, "<rect class=\"dev%s%s\" x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%d\"/>\n",
		l->up ? "" : " down", l->owned ? "" : " foreign", x, y, DEV_W, DEV_H);
	fprintf(out, "<text class=\"c\" x=\"%.0f\" y=\"%.0f\">", x + DEV_W / 2.0, y + 15);
	put_xml(l->name, out);
	/* as the text picture writes it: "tap0 tap", "mv0@eth0 macvlan bridge" */
	vnet_link_label(l, kind, sizeof(kind));
	put_xml(kind, out);
	fprintf(out, "%s</text>\n", l->up ? "" : " DOWN");
	put_stp(v, l, x + DEV_W + 6, y + 15 + (double)v->addr_n[i] * ADDR_STEP, out);
	for (size_t k = 0; k < v->addr_n[i]; k++) {
		const struct vnet_addr *a = &v->m->addrs.v[v->addr[v->addr_first[i] + k]];
		char t[64];

		vnet_addr_format(a->family, a->addr, a->prefixlen, t, sizeof(t));
		fprintf(out, "<text class=\"addr\" x=\"%.0f\" y=\"%.0f\">%s</text>\n",
			x + DEV_W + 6, y + 15 + (double)k * ADDR_STEP, t);
	}
}

/* A veth wire between the facing sides of its ends; a port's line from its bridge. */
static void put_wires(const struct vnet_view *v, const struct svg_layout *L, FILE *out)
{
	const struct vnet_model *m = v->m;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *br = vnet_view_bridge(v, &m->links.v[i]);
		size_t p = (size_t)v->peer[i];

		if (br) {
			size_t b = (size_t)(br - m->links.v);

			fprintf(out, "<path class=\"port\" d=\"M%.0f %.0fV%.0fH%.0f\"/>\n",
				L->lx[b] + 14, L->ly[b] + DEV_H, L->ly[i] + DEV_H / 2.0, L->lx[i]);
		}
		if (v->peer[i] < 0 || p < i || !L->lx[i] || !L->lx[p])
			continue;
		double x1 = L->lx[i] + (L->lx[p] > L->lx[i] + 1 ? DEV_W : 0);
		double x2 = L->lx[p] + (L->lx[i] > L->lx[p] + 1 ? DEV_W : 0);

		double y1 = L->ly[i] + DEV_H / 2.0, y2 = L->ly[p] + DEV_H / 2.0;

		if (L->lx[p] - L->lx[i] < 1 && L->lx[i] - L->lx[p] < 1) {
			/* one above the other in the same box: a loop out to the right, each its own */
			double out_x = L->lx[i] + DEV_W + 20 + (double)(v->wire[i] % 6) * 12;

			fprintf(out,
				"<path class=\"wire\" d=\"M%.0f %.0fC%.0f %.0f %.0f %.0f %.0f %.0f\"/>\n",
				L->lx[i] + DEV_W, y1, out_x, y1, out_x, y2, L->lx[p] + DEV_W, y2);
			continue;
		}
		fprintf(out, "<path class=\"wire\" d=\"M%.0f %.0fL%.0f %.0f\"/>\n", x1, y1, x2, y2);
	}
}

static void put_routes(const struct vnet_view *v, const struct svg_layout *L, size_t k, FILE *out)
{
	const struct vnet_model *m = v->m;
	const struct vnet_ns *ns = &m->ns.v[v->node[k]];
	double y = L->by[k] + L->bh[k] - 10;
	size_t n = 0;

	for (size_t i = m->routes.n; i-- > 0;) {
		char t[160];

		if (strcmp(m->routes.v[i].ns, ns->name))
			continue;
		vnet_route_format(&m->routes.v[i], t, sizeof(t));
		fprintf(out, "<text class=\"addr\" x=\"%.0f\" y=\"%.0f\">", L->bx[k] + 10,
			y - 14.0 * (double)n++);
		put_xml(t, out);
		fputs("</text>\n", out);
	}
}

static const char svg_style[] =
	"<style>\n"
	"text { font-family: DejaVu Sans Mono, monospace; font-size: 12px; fill: #111; }\n"
	".title { font-weight: bold; font-size: 14px; }\n"
	".c { text-anchor: middle; }\n"
	".addr { font-size: 11px; fill: #05a; }\n"
	".stp { font-size: 11px; fill: #070; }\n"
	".blocked { fill: #c00; font-weight: bold; }\n"
	".ns { fill: #f4f6fa; stroke: #445; stroke-width: 1.5; }\n"
	".stack { fill: #dde6f3; stroke: #445; }\n"
	".dev { fill: #fff; stroke: #222; }\n"
	".down { stroke-dasharray: 4 3; fill: #eee; }\n"
	".foreign { stroke: #c00; }\n"
	".bus, .port, .wire { fill: none; stroke: #555; }\n"
	".port { stroke: #070; stroke-width: 2; }\n"
	".wire { stroke: #a40; stroke-width: 2; }\n"
	"</style>\n";

/* The NAT's lines, and room for them at the bottom. */
static void nat_lines(const struct vnet_model *m, struct svg_layout *L)
{
	size_t len = 0;
	FILE *f = open_memstream(&L->nat, &len);

	if (!f)
		return;
	vnet_view_nat_text(m, f);
	vnet_view_uplink_text(m, f);
	vnet_view_vxlan_text(m, f);
	fclose(f);
	for (const char *c = L->nat; c && *c; c++)
		L->nat_lines += *c == '\n';
	L->h += 16.0 * (double)L->nat_lines;
}

static void put_nat(const struct svg_layout *L, FILE *out);

static void put_svg(const struct vnet_view *v, const struct svg_layout *L, FILE *out)
{
	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\">\n<title>vnet topology ",
		L->w, L->h, L->w, L->h);
	put_xml(v->m->name, out);
	fprintf(out, "</title>\n%s<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		svg_style);
	fprintf(out, "<text class=\"title\" x=\"%d\" y=\"%d\">topology ", GAP, GAP / 2 + 6);
	put_xml(v->m->name, out);
	fprintf(out, "%s</text>\n", v->m->sandbox ? " (sandbox)" : "");
	for (size_t k = 0; k < v->nnodes; k++)
		put_box(v, L, k, out);
	for (size_t k = 0; k < v->nnodes; k++)
		put_bus(v, L, k, out);
	put_wires(v, L, out);
	for (size_t k = 0; k < v->nnodes; k++) {
		for (size_t j = 0; j < v->nlinks[k]; j++)
			put_dev(v, L, v->links[k][j], out);
		put_routes(v, L, k, out);
	}
	put_nat(L, out);
	fprintf(out,
		"<text x=\"%d\" y=\"%.0f\" xml:space=\"preserve\">"
		"green: bridge port   orange: veth wire   dashed: down"
		"   red: not made by vnet</text>\n</svg>\n",
		GAP, L->h - 20);
}

/* The NAT's lines under the boxes, as the text picture has them (L->nat, L->nat_lines). */
static void put_nat(const struct svg_layout *L, FILE *out)
{
	const char *p = L->nat;

	for (size_t i = 0; p && *p; i++) {
		size_t n = strcspn(p, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		fprintf(out, "<text class=\"addr\" x=\"%d\" y=\"%.0f\" xml:space=\"preserve\">",
			GAP, L->h - 40 - 16.0 * (double)(L->nat_lines - i));
		put_xml(line, out);
		fputs("</text>\n", out);
		p += n + (p[n] == '\n');
	}
}

int vnet_render_svg(const struct vnet_model *m, FILE *out)
{
	struct vnet_view v;
	struct svg_layout L = { 0 };
	size_t *nroutes = NULL;
	int r = vnet_view_build(m, &v);

	if (r < 0)
		return r;
	r = -ENOMEM;
	L.bx = calloc(v.nnodes + 1, sizeof(double));
	L.by = calloc(v.nnodes + 1, sizeof(double));
	L.bh = calloc(v.nnodes + 1, sizeof(double));
	L.lx = calloc(m->links.n + 1, sizeof(double));
	L.ly = calloc(m->links.n + 1, sizeof(double));
	nroutes = calloc(v.nnodes + 1, sizeof(size_t));
	if (L.bx && L.by && L.bh && L.lx && L.ly && nroutes) {
		for (size_t k = 0; k < v.nnodes; k++)
			nroutes[k] = node_routes(m, m->ns.v[v.node[k]].name);
		layout(&v, &L, nroutes);
		nat_lines(m, &L);
		put_svg(&v, &L, out);
		r = ferror(out) ? -EIO : 0;
	}
	free(L.bx);
	free(L.by);
	free(L.bh);
	free(L.lx);
	free(L.ly);
	free(nroutes);
	free(L.nat);
	vnet_view_clear(&v);
	return r;
}
