// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-up.c - vnet up: build or reconcile a topology, undoing everything on failure */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

/* On a terminal, one line that rewrites itself; elsewhere nothing. */
static void progress(void *data, const char *line)
{
	(void)data;
	fprintf(stderr, "\r\033[K%s", line);
}

/* Wait for STP to converge; Return: an exit code. */
static int wait_stp(struct vnet_session *s, const struct vnet_model *m, const struct cli *cli,
		    long *ret_ms)
{
	struct vnet_error e = { 0 };
	bool tty = isatty(STDERR_FILENO) && !cli->json;
	int r = vnet_stp_wait(s, m, 0, tty ? progress : NULL, NULL, ret_ms, &e);

	if (tty)
		fprintf(stderr, "\r\033[K");
	return r < 0 ? cli_error(&e) : 0;
}

/* After a failure: what the undo did, in words that must be true. */
static void print_undone(const char *topo, const struct vnet_result *res)
{
	char name[VNET_ESC_SIZE(VNET_NAMSIZ)], why[VNET_ESC_SIZE(sizeof(res->undo_err))];

	if (!res->plan || !res->done)
		return;
	vnet_escape(topo, name, sizeof(name));
	if (!res->undo_failed) {
		fprintf(stderr, "vnet: %s: undid the %zu step(s) already done; nothing changed\n",
			name, res->done);
		return;
	}
	fprintf(stderr,
		"vnet: %s: %zu of the %zu step(s) already done could not be undone, first: %s\n"
		"vnet: %s: the kernel is between the old and the new file; vnet diff shows how, "
		"vnet up finishes, vnet down removes it\n",
		name, res->undo_failed, res->done, vnet_escape(res->undo_err, why, sizeof(why)),
		name);
}

int cmd_up(struct cli *cli)
{
	struct vnet_model *m = NULL;
	struct vnet_session *s = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	int code, r;

	code = cli_need_root();
	if (!code)
		code = cli_load(cli, cli->argv[0], &m);
	if (!code)
		code = cli_session(cli, !cli->dry_run, &s);
	if (code)
		goto out;
	r = vnet_up(s, m, cli->dry_run ? VNET_UP_DRY_RUN : 0, &res, &e);
	cli_print_notes(m->name, &res);
	if (r < 0) {
		code = cli_error(&e);
		print_undone(m->name, &res);
		if (cli->json)
			cli_print_failure_json(m->name, &res, "up", &e);
		goto out;
	}
	if (!cli->json)
		cli_print_plan(cli, m->name, &res, cli->dry_run ? "plan" : "up");
	res.stp_ms = -1;
	/* STP takes seconds: other commands need not wait for it */
	vnet_session_unlock(s);
	if (!cli->dry_run && !cli->no_wait)
		code = wait_stp(s, m, cli, &res.stp_ms);
	if (cli->json)
		cli_print_plan(cli, m->name, &res, cli->dry_run ? "plan" : "up");
	if (cli->json || code)
		goto out;
	if (!res.plan->ops.n)
		printf("%s: up to date, nothing to change\n", m->name);
	else if (cli->dry_run)
		printf("%s: %zu step(s) planned; nothing changed (--dry-run)\n", m->name,
		       res.plan->ops.n);
	else
		printf("%s: up: %zu step(s) in %.1f ms\n", m->name, res.done,
		       (res.observe_us + res.apply_us) / 1000.0);
	if (res.stp_ms > 100)
		printf("%s: STP converged in %.1f s\n", m->name, res.stp_ms / 1000.0);
out:
	vnet_result_clear(&res);
	vnet_session_close(s);
	vnet_model_free(m);
	return code;
}
