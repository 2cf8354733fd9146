// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-stp.c - vnet stp: the root bridge and the role and state of every port of a bridge */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A bridge found in a topology that is up, with the observed model it lives in. */
struct found {
	struct vnet_model *m;
	const struct vnet_link *br;
	const struct vnet_ns *ns;
};

/* An option of @l by its key (a port's "cost", a bridge's "stp"); 0 when unset. */
static uint32_t opt(const struct vnet_link *l, const char *key)
{
	uint32_t v = 0;

	return vnet_link_opt(l, key, &v) > 0 ? v : 0;
}

static const struct vnet_link *port_no(const struct vnet_model *m, const struct vnet_link *br,
				       uint16_t no)
{
	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *p = &m->links.v[i];

		if (!strcmp(p->ns, br->ns) && !strcmp(p->master, br->name) &&
		    p->stp_port.port_no == no)
			return p;
	}
	return NULL;
}

static json_t *port_json(const struct vnet_link *br, const struct vnet_link *p)
{
	char db[24], pid[8];

	vnet_stp_id_format(p->stp_port.designated_bridge, db, sizeof(db));
	snprintf(pid, sizeof(pid), "%04x", p->stp_port.designated_port);
	return json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:s, s:s, s:i}", "name", p->name,
			 "port_no", p->stp_port.port_no, "role",
			 vnet_stp_role_name(vnet_stp_port_role(br, p)), "state",
			 vnet_stp_state_name(p->stp_port.state), "cost", (int)opt(p, "cost"),
			 "priority", (int)opt(p, "priority"), "designated_bridge", db,
			 "designated_port", pid, "designated_cost",
			 (int)p->stp_port.designated_cost);
}

static void print_json(const struct found *f)
{
	const struct vnet_link *br = f->br, *rp = port_no(f->m, br, br->stp_br.root_port);
	const char *node = f->ns ? f->ns->node : "", *netns = f->ns ? f->ns->name : "";
	char id[24], root[24];
	json_t *ports = json_array();

	vnet_stp_id_format(br->stp_br.bridge_id, id, sizeof(id));
	vnet_stp_id_format(br->stp_br.root_id, root, sizeof(root));
	for (size_t i = 0; i < f->m->links.n; i++) {
		const struct vnet_link *p = &f->m->links.v[i];

		if (!strcmp(p->ns, br->ns) && !strcmp(p->master, br->name))
			json_array_append_new(ports, port_json(br, p));
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:s?, s:i, s:b, s:o}",
			      "topology", f->m->name, "bridge", br->name, "node", node, "netns",
			      netns, "stp", opt(br, "stp") != 0, "bridge_id", id, "root_id", root,
			      "is_root", !br->stp_br.root_port, "root_port", rp ? rp->name : NULL,
			      "root_path_cost", (int)br->stp_br.root_path_cost, "topology_change",
			      br->stp_br.topology_change, "ports", ports);

	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
}

/* Names come from the kernel: escaped (vnet_escape) into @buf, one name at a time. */
#define ESC(s, buf) vnet_escape((s), (buf), sizeof(buf))

static void print_text(const struct found *f)
{
	const struct vnet_link *br = f->br, *rp = port_no(f->m, br, br->stp_br.root_port);
	char id[24], root[24], db[24], a[VNET_ESC_SIZE(VNET_NAMSIZ)], b[sizeof(a)], c[sizeof(a)];

	vnet_stp_id_format(br->stp_br.bridge_id, id, sizeof(id));
	vnet_stp_id_format(br->stp_br.root_id, root, sizeof(root));
	printf("bridge %s (topology %s, node %s): STP %s\n", ESC(br->name, a), ESC(f->m->name, b),
	       f->ns ? ESC(f->ns->node, c) : "?", opt(br, "stp") ? "on" : "off");
	printf("  bridge id %s, root %s%s\n", id, root,
	       br->stp_br.root_port ? "" : " (this bridge is the root)");
	if (rp)
		printf("  root port %s, root path cost %u\n", ESC(rp->name, a),
		       br->stp_br.root_path_cost);
	printf("  %-15s %-11s %-11s %6s  %-18s %s\n", "port", "role", "state", "cost",
	       "designated bridge", "port");
	for (size_t i = 0; i < f->m->links.n; i++) {
		const struct vnet_link *p = &f->m->links.v[i];

		if (strcmp(p->ns, br->ns) || strcmp(p->master, br->name))
			continue;
		vnet_stp_id_format(p->stp_port.designated_bridge, db, sizeof(db));
		printf("  %-15s %-11s %-11s %6u  %-18s %04x\n", ESC(p->name, a),
		       vnet_stp_role_name(vnet_stp_port_role(br, p)),
		       vnet_stp_state_name(p->stp_port.state), opt(p, "cost"), db,
		       p->stp_port.designated_port);
	}
}

/* Does bridge @l of @m match "[NODE/]BRIDGE"? */
static bool matches(const struct vnet_model *m, const struct vnet_link *l, const char *spec)
{
	const char *slash = strchr(spec, '/');
	const struct vnet_ns *ns = vnet_model_find_ns(m, l->ns);

	if (l->kind != vnet_kind_find("bridge"))
		return false;
	if (!slash)
		return !strcmp(l->name, spec);
	return ns && !strcmp(l->name, slash + 1) && strlen(ns->node) == (size_t)(slash - spec) &&
	       !strncmp(ns->node, spec, (size_t)(slash - spec));
}

/* Look for the bridge in one topology; Return: matches found (0, 1, more). */
static int search(struct vnet_session *s, const char *topo, const char *spec, struct found *f)
{
	struct vnet_model *m = NULL;
	struct vnet_error e = { 0 };
	int hits = 0;

	if (vnet_observe_topology(s, topo, &m, &e) < 0)
		return 0;
	for (size_t i = 0; i < m->links.n; i++) {
		if (!m->links.v[i].owned || !matches(m, &m->links.v[i], spec))
			continue;
		if (!hits++ && !f->m) {
			f->br = &m->links.v[i];
			f->ns = vnet_model_find_ns(m, f->br->ns);
		}
	}
	if (hits && !f->m)
		f->m = m;
	else
		vnet_model_free(m);
	return hits;
}

int cmd_stp(struct cli *cli)
{
	struct vnet_session *s = NULL;
	struct vnet_topo_info *v = NULL;
	struct found f = { 0 };
	size_t n = 0;
	int code, hits = 0;

	code = cli_need_root();
	if (!code)
		code = cli_session(cli, false, &s);
	if (code)
		return code;
	if (vnet_list(s, &v, &n) < 0)
		code = cli_errorf(EXIT_FAILED, "cannot read the state store in %s", cli->state_dir);
	for (size_t i = 0; !code && i < n; i++)
		if (!cli->name || !strcmp(cli->name, v[i].name))
			hits += search(s, v[i].name, cli->argv[0], &f);
	if (!code && !hits)
		code = cli_errorf(EXIT_USAGE, "no bridge \"%s\" in %s", cli->argv[0],
				  cli->name ? cli->name : "the topologies that are up");
	else if (!code && hits > 1)
		code = cli_errorf(
			EXIT_USAGE,
			"\"%s\" names %d bridges: say which, as NODE/BRIDGE or with --name",
			cli->argv[0], hits);
	if (!code && f.br) /* found exactly one */
		cli->json ? print_json(&f) : print_text(&f);
	vnet_model_free(f.m);
	free(v);
	vnet_session_close(s);
	return code;
}
