// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-list.c - vnet list and vnet validate: what is built, and is a file sound */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"

static void list_json(struct vnet_session *s, const struct vnet_topo_info *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:b, s:I, s:i, s:b, s:s?}", "name", v[i].name,
				     "file", v[i].file, "sandbox", v[i].sandbox, "updated",
				     (json_int_t)v[i].updated, "objects", (int)v[i].objects,
				     "interrupted", v[i].interrupted, "host",
				     v[i].host[0] ? v[i].host : NULL));
	cni_list_json(s, a);
	json_dumpf(a, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(a);
}

int cmd_list(struct cli *cli)
{
	struct vnet_session *s = NULL;
	struct vnet_topo_info *v = NULL;
	size_t n = 0;
	int code = cli_need_root(), cni;

	if (!code)
		code = cli_session(cli, false, &s);
	if (code)
		return code;
	if (vnet_list(s, &v, &n) < 0) {
		vnet_session_close(s);
		return cli_errorf(EXIT_FAILED, "cannot read the state store in %s", cli->state_dir);
	}
	if (cli->json)
		list_json(s, v, n);
	for (size_t i = 0; !cli->json && i < n; i++) {
		char when[32], name[VNET_ESC_SIZE(VNET_NAMSIZ)], file[VNET_ESC_SIZE(256)];
		char host[VNET_ESC_SIZE(VNET_NAMSIZ)];
		time_t t = (time_t)v[i].updated;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&t));
		printf("%-20s %4u objects  %s%s%s%s%s  %s\n",
		       vnet_escape(v[i].name, name, sizeof(name)), v[i].objects, when,
		       v[i].sandbox ? "  sandbox" : "", v[i].host[0] ? "  host " : "",
		       vnet_escape(v[i].host, host, sizeof(host)),
		       v[i].interrupted ? "  INTERRUPTED" : "",
		       vnet_escape(v[i].file, file, sizeof(file)));
	}
	cni = cli->json ? 0 : cni_list_text(s);
	if (cni < 0)
		fprintf(stderr, "vnet: cannot read the CNI attachments in %s\n", cli->state_dir);
	else if (!cli->json && !n && !cni)
		printf("no topologies are up\n");
	free(v);
	vnet_session_close(s);
	return EXIT_OK;
}

static size_t unleased(const struct vnet_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->members.n; i++)
		n += !m->members.v[i].fixed;
	return n;
}

int cmd_validate(struct cli *cli)
{
	struct vnet_model *m = NULL;
	int code;

	code = cli_load(cli, cli->argv[0], &m);
	if (!code)
		printf("%s: valid: %zu node(s), %zu link(s), %zu address(es), %zu route(s)",
		       m->name, m->ns.n - 1, m->links.n, m->addrs.n, m->routes.n);
	/* the addresses IPAM leases at up are not among the ones counted */
	if (!code && m->networks.n)
		printf("; %zu network(s), %zu container attachment(s) (%zu addressed by IPAM at up), "
		       "%zu published port(s)",
		       m->networks.n, m->members.n, unleased(m), m->ports.n);
	if (!code)
		putchar('\n');
	vnet_model_free(m);
	return code;
}
