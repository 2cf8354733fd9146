// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-diff.c - vnet diff: what up would change; exit 0 when nothing, 1 on drift */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cmd_diff(struct cli *cli)
{
	struct vnet_model *m = NULL;
	struct vnet_session *s = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	char *more = NULL;
	size_t n, len = 0;
	FILE *f;
	int code;

	code = cli_need_root();
	if (!code)
		code = cli_load(cli, cli->argv[0], &m);
	if (!code)
		code = cli_host_part(m);
	if (!code)
		code = cli_session(cli, false, &s);
	if (code)
		goto out;
	if (vnet_up(s, m, VNET_UP_DRY_RUN, &res, &e) < 0) {
		code = cli_error(&e);
		goto out;
	}
	f = open_memstream(&more, &len);
	n = res.plan->ops.n + (f ? (size_t)cli_tunnels_drift(cli, m, f) : 0);
	if (f)
		fclose(f);
	cli_print_plan(cli, m->name, &res, "diff", more);
	code = n ? EXIT_DRIFT : EXIT_OK;
	if (!cli->json)
		printf(code ? "%s: %zu difference(s) between the file and the kernel\n" :
			      "%s: the kernel matches the file\n",
		       m->name, n);
out:
	free(more);
	vnet_result_clear(&res);
	vnet_session_close(s);
	vnet_model_free(m);
	return code;
}
