// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-down.c - vnet down: remove exactly what a topology created, by file or by name */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vnet.h"

/* A FILE operand names the topology its file declares; anything else is a name. */
static int topo_name(struct cli *cli, const char *arg, char *buf, size_t len)
{
	struct vnet_model *m = NULL;
	struct stat st;
	int code;

	if (cli->name || stat(arg, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(buf, len, "%s", cli->name ? cli->name : arg);
		return 0;
	}
	code = cli_load(cli, arg, &m);
	if (!code)
		snprintf(buf, len, "%s", m->name);
	vnet_model_free(m);
	return code;
}

int cmd_down(struct cli *cli)
{
	struct vnet_session *s = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	char name[VNET_NAMSIZ];
	int code;

	if (cli->argc != 1)
		return cli_errorf(EXIT_USAGE, "usage: vnet down FILE|NAME");
	code = cli_need_root();
	if (!code)
		code = topo_name(cli, cli->argv[0], name, sizeof(name));
	if (!code)
		code = cli_session(cli, true, &s);
	if (code)
		goto out;
	if (vnet_down(s, name, &res, &e) < 0) {
		code = cli_error(&e);
		goto out;
	}
	cli_print_plan(cli, name, &res, "down");
	if (!cli->json)
		printf("%s: down: %zu step(s) in %.1f ms\n", name, res.done,
		       (res.observe_us + res.apply_us) / 1000.0);
out:
	vnet_result_clear(&res);
	vnet_session_close(s);
	return code;
}
