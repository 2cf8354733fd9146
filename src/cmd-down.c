// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-down.c - vnet down: remove exactly what a topology created, by file or by name */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/*
 * Is @arg a FILE rather than a topology NAME? By its spelling alone, never by what the
 * current directory holds: `vnet down docker` next to a file named docker must take down
 * docker, not the topology that file happens to declare.
 */
static bool is_file(const char *arg)
{
	size_t n = strlen(arg);

	return strchr(arg, '/') || (n > 5 && !strcmp(arg + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(arg + n - 4, ".yml"));
}

/* A FILE operand stands for the topology its file declares; anything else is a name. */
static int topo_name(struct cli *cli, const char *arg, char *buf, size_t len)
{
	struct vnet_model *m = NULL;
	int code;

	if (!is_file(arg)) {
		snprintf(buf, len, "%s", arg);
		return 0;
	}
	code = cli_load(cli, arg, &m);
	if (!code)
		snprintf(buf, len, "%s", m->name);
	vnet_model_free(m);
	return code;
}

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
	int code, r;

	code = cli_need_root();
	if (!code)
		code = topo_name(cli, cli->argv[0], name, sizeof(name));
	if (!code) /* a dry run changes nothing: it need not wait for, nor hold, the lock */
		code = cli_session(cli, !cli->dry_run, &s);
	if (code)
		goto out;
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
	cli_print_plan(cli, name, &res, cli->dry_run ? "plan" : "down");
	if (!cli->json)
		print_summary(cli, name, &res);
out:
	vnet_result_clear(&res);
	vnet_session_close(s);
	return code;
}
