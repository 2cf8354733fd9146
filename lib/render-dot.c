// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-dot.c - the topology as a Graphviz graph: a cluster per namespace, veth wires as edges */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vnet/render.h"
#include "view.h"
#include "kind.h"

/* A DOT string's body: quotes and backslashes escaped, newlines as \n. */
static void put_esc(const char *s, FILE *out)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void put_node(const struct vnet_view *v, size_t i, FILE *out)
{
	const struct vnet_link *l = &v->m->links.v[i];

	fprintf(out, "    \"l%zu\" [label=\"", i);
	put_esc(l->name, out);
	fprintf(out, "\\n%s", vnet_kind_name(l->kind));
	for (size_t k = 0; k < v->addr_n[i]; k++) {
		const struct vnet_addr *a = &v->m->addrs.v[v->addr[v->addr_first[i] + k]];
		char t[64];

		vnet_addr_format(a->family, a->addr, a->prefixlen, t, sizeof(t));
		fprintf(out, "\\n%s", t);
	}
	fprintf(out, "\"%s%s%s];\n",
		vnet_kind_has(l->kind, VNET_KIND_F_MASTER) ? ", shape=box3d" : "",
		l->up ? "" : ", style=dashed", l->owned ? "" : ", color=red");
}

static void put_cluster(const struct vnet_view *v, size_t k, FILE *out)
{
	const struct vnet_ns *ns = &v->m->ns.v[v->node[k]];

	fprintf(out, "  subgraph \"cluster_%zu\" {\n    label=\"", k);
	put_esc(ns->node, out);
	if (ns->name[0] && strcmp(ns->name, ns->node)) {
		fputs(" (", out);
		put_esc(ns->name, out);
		fputc(')', out);
	}
	fputs("\";\n", out);
	for (size_t j = 0; j < v->nlinks[k]; j++)
		put_node(v, v->links[k][j], out);
	fputs("  }\n", out);
}

int vnet_render_dot(const struct vnet_model *m, FILE *out)
{
	struct vnet_view v;
	int r = vnet_view_build(m, &v);

	if (r < 0)
		return r;
	fputs("graph \"", out);
	put_esc(m->name, out);
	fputs("\" {\n  graph [rankdir=LR, fontname=\"monospace\"];\n"
	      "  node [shape=box, fontname=\"monospace\"];\n",
	      out);
	for (size_t k = 0; k < v.nnodes; k++)
		put_cluster(&v, k, out);
	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *br = vnet_view_bridge(&v, &m->links.v[i]);

		if (br)
			fprintf(out, "  \"l%zu\" -- \"l%zu\" [style=bold, label=\"port\"];\n",
				(size_t)(br - m->links.v), i);
		if (v.peer[i] > (long)i)
			fprintf(out, "  \"l%zu\" -- \"l%ld\" [label=\"veth\"];\n", i, v.peer[i]);
	}
	fputs("}\n", out);
	vnet_view_clear(&v);
	return ferror(out) ? -EIO : 0;
}
