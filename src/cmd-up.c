// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-up.c - vnet up: build or reconcile a topology, undoing everything on failure */
#include <stdio.h>

#include "vnet.h"

int cmd_up(struct cli *cli)
{
	struct vnet_model *m = NULL;
	struct vnet_session *s = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	int code, r;

	if (cli->argc != 1)
		return cli_errorf(EXIT_USAGE,
				  "usage: vnet up FILE [--dry-run] [--sandbox] [--name NAME]");
	code = cli_need_root();
	if (!code)
		code = cli_load(cli, cli->argv[0], &m);
	if (!code)
		code = cli_session(cli, !cli->dry_run, &s);
	if (code)
		goto out;
	r = vnet_up(s, m, cli->dry_run ? VNET_UP_DRY_RUN : 0, &res, &e);
	if (r < 0) {
		code = cli_error(&e);
		if (res.plan && res.done)
			fprintf(stderr,
				"vnet: %s: undid the %zu step(s) already done; nothing changed\n",
				m->name, res.done);
		goto out;
	}
	cli_print_plan(cli, m->name, &res, cli->dry_run ? "plan" : "up");
	if (cli->json)
		goto out;
	if (!res.plan->ops.n)
		printf("%s: up to date, nothing to change\n", m->name);
	else if (cli->dry_run)
		printf("%s: %zu step(s) planned; nothing changed (--dry-run)\n", m->name,
		       res.plan->ops.n);
	else
		printf("%s: up: %zu step(s) in %.1f ms\n", m->name, res.done,
		       (res.observe_us + res.apply_us) / 1000.0);
out:
	vnet_result_clear(&res);
	vnet_session_close(s);
	vnet_model_free(m);
	return code;
}
