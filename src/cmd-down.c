// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-down.c - vnet down: remove exactly what a topology created, by file or by name */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_summary(const struct cli *cli, const char *name, const struct vnet_result *res)
{
	char esc[VNET_ESC_SIZE(VNET_NAMSIZ)];
	size_t planned = res->plan ? res->plan->ops.n : 0;

	vnet_escape(name, esc, sizeof(esc));
	if (cli->dry_run)
		printf("%s: %zu step(s) planned; nothing changed (--dry-run)\n", esc, planned);
	else
		printf("%s: down: %zu step(s) in %.1f ms\n", esc, res->done,
		       (res->observe_us + res->apply_us) / 1000.0);
}

int cmd_down(struct cli *cli)
{
	struct vnet_session *s = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	char name[VNET_NAMSIZ], esc[VNET_ESC_SIZE(VNET_NAMSIZ)];
	FILE *stopped;
	char *buf = NULL;
	size_t len = 0;
	int code, r;

	code = cli_need_root();
	if (!code)
		code = cli_topo_name(cli, cli->argv[0], name, sizeof(name));
	if (!code) /* a dry run changes nothing: it need not wait for, nor hold, the lock */
		code = cli_session(cli, !cli->dry_run, &s);
	if (code)
		goto out;
	/* the tunnels first: a namespace with a process in it would outlive its name */
	stopped = open_memstream(&buf, &len);
	if (stopped) {
		cli_tunnels_down(cli, name, stopped);
		fclose(stopped);
	}
	r = vnet_down(s, name, cli->dry_run ? VNET_DOWN_DRY_RUN : 0, &res, &e);
	cli_print_notes(name, &res);
	if (r < 0) {
		/* -ENOENT before any plan: no such topology, a name the user got wrong */
		code = r == -ENOENT && !res.plan ? cli_error_as(&e, EXIT_USAGE) : cli_error(&e);
		if (res.plan && res.done) /* down goes on past failures: say what took effect */
			fprintf(stderr,
				"vnet: %s: %zu of the %zu step(s) took effect; vnet down %s again "
				"finishes the job\n",
				vnet_escape(name, esc, sizeof(esc)), res.done, res.plan->ops.n,
				esc);
		goto out;
	}
	if (!cli->json) /* stopped first, as they were */
		fputs(buf ? buf : "", stdout);
	cli_print_plan(cli, name, &res, cli->dry_run ? "plan" : "down", cli->json ? buf : NULL);
	if (!cli->json)
		print_summary(cli, name, &res);
out:
	free(buf);
	vnet_result_clear(&res);
	vnet_session_close(s);
	return code;
}
