// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-up.c - vnet up: build or reconcile a topology, undoing everything on failure */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* ---- --try: a detached process holds the change until confirmed, or undoes it ---- */

struct trial {
	struct cli *cli;
	struct vnet_session *s;
	const char *topo;
	const struct vnet_model *m;
	long secs;
	int report_fd; /* the waiting command's pipe; -1 once it has its exit code */
};

/* Give the waiting command its exit code, and let go of its terminal. */
static void report(struct trial *t, int code)
{
	unsigned char c = (unsigned char)code;
	int null;

	if (t->report_fd < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	if (write(t->report_fd, &c, 1) != 1)
		(void)0; /* the command was killed: nobody waits for the answer */
	close(t->report_fd);
	t->report_fd = -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
}

/* The file's tunnels run (cli_tunnels_up()); *@ret: what was done, a line a step, the
 * caller's to free. */
static int tunnels_up(const struct cli *cli, const struct vnet_model *m, char **ret,
		      struct vnet_error *reterr)
{
	size_t len = 0;
	FILE *f = open_memstream(ret, &len);
	int r;

	if (!f)
		return vnet_error_set(reterr, -ENOMEM, NULL, NULL, "out of memory");
	r = cli_tunnels_up(cli, m, f, reterr);
	fclose(f);
	if (r < 0) {
		free(*ret);
		*ret = NULL;
	}
	return r;
}

/* The change is made, probed and recorded: say so, then wait for confirm or the deadline. */
static int hold(void *data, const struct vnet_result *res, struct vnet_error *reterr)
{
	struct trial *t = data;
	struct timespec now;
	char when[16], name[VNET_ESC_SIZE(VNET_NAMSIZ)], *more = NULL;
	long long deadline;
	time_t d;
	int r;

	r = tunnels_up(t->cli, t->m, &more, reterr);
	if (r < 0)
		return r;
	clock_gettime(CLOCK_REALTIME, &now);
	deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + t->secs * 1000LL;
	r = vnet_try_start(t->s, t->topo, deadline, reterr);
	if (r < 0) {
		free(more);
		return r;
	}
	d = (time_t)(deadline / 1000);
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&d));
	cli_print_plan(t->cli, t->topo, res, "up", more);
	free(more);
	vnet_escape(t->topo, name, sizeof(name));
	if (!t->cli->json)
		printf("%s: up: %zu step(s); kept only if `vnet confirm %s` comes by %s (%ld s),"
		       " else undone (pid %d holds the deadline)\n",
		       name, res->done, name, when, t->secs, (int)getpid());
	report(t, EXIT_OK);
	return vnet_try_wait(t->s, t->topo, reterr);
}

/* The detached side: make the change and hold it; Return: the exit code. */
static int trial_run(struct cli *cli, struct vnet_model *m, struct trial *t)
{
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	int code = cli_session(cli, true, &t->s), r;

	if (code)
		return code;
	r = vnet_up_hold(t->s, m, 0, hold, t, &res, &e);
	cli_print_notes(m->name, &res);
	if (r < 0 && t->report_fd >= 0) { /* refused or failed before the hold: as up would */
		code = cli_error(&e);
		print_undone(m->name, &res);
		if (cli->json)
			cli_print_failure_json(m->name, &res, "up", &e);
	} else if (t->report_fd >= 0) {
		cli_print_plan(cli, m->name, &res, "up", NULL);
		if (!cli->json)
			printf("%s: up to date, nothing to change: nothing to try\n", m->name);
	} else {
		vnet_try_end(t->s, m->name, r<0, res.undo_failed> 0); /* undone, or kept */
		code = r < 0 ? cli_exit_code(r) : EXIT_OK;
	}
	report(t, code);
	vnet_result_clear(&res);
	vnet_session_close(t->s);
	return code;
}

/*
 * vnet up --try SECONDS: a process of its own session (so that neither a killed vnet nor
 * a closed terminal takes it along) makes the change and holds the deadline; this one
 * waits only for its word on how the change went, and exits with it.
 */
static int up_try(struct cli *cli, struct vnet_model *m)
{
	struct trial t = { .cli = cli, .topo = m->name, .m = m, .report_fd = -1 };
	char *end;
	unsigned char c;
	int fds[2];
	pid_t pid;
	ssize_t n;

	errno = 0;
	t.secs = strtol(cli->try_secs, &end, 10);
	if (errno || *end || end == cli->try_secs || t.secs < 1 || t.secs > 86400)
		return cli_errorf(EXIT_USAGE, "--try \"%s\" is not a number of seconds in 1..86400",
				  cli->try_secs);
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return cli_errorf(EXIT_FAILED, "--try: %s", strerror(errno));
	if (!pid) {
		close(fds[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		t.report_fd = fds[1];
		_exit(trial_run(cli, m, &t));
	}
	close(fds[1]);
	do
		n = read(fds[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == 1)
		return c;
	return cli_errorf(EXIT_FAILED,
			  "the process that was to hold the --try (pid %d) ended without a word; "
			  "vnet list and vnet show say what is up",
			  (int)pid);
}

/* The tunnels the file declares, run once the change is made: inside it (its failure undoes
 * the change) when there is a change, after it when there is none. */
struct tunnels {
	const struct cli *cli;
	const struct vnet_model *m;
	char *done; /* what was done, printed with the plan */
	bool ran;
};

static int run_tunnels(void *data, const struct vnet_result *res, struct vnet_error *reterr)
{
	struct tunnels *t = data;

	(void)res; /* what the change did: the tunnels follow the file, not the plan */
	t->ran = true;
	return tunnels_up(t->cli, t->m, &t->done, reterr);
}

static int up(struct cli *cli, struct vnet_session *s, struct vnet_model *m, struct tunnels *t,
	      struct vnet_result *res, struct vnet_error *e)
{
	int r = vnet_up_hold(s, m, cli->dry_run ? VNET_UP_DRY_RUN : 0, run_tunnels, t, res, e);

	return r >= 0 && !t->ran ? run_tunnels(t, res, e) : r;
}

/* The last line: what up did; @tunnels: it ran or stopped tunnels. */
static void print_summary(const struct cli *cli, const char *topo, const struct vnet_result *res,
			  bool tunnels)
{
	size_t n = res->plan ? res->plan->ops.n : 0;

	if (!n && tunnels)
		printf("%s: up to date but for its tunnels\n", topo);
	else if (!n)
		printf("%s: up to date, nothing to change\n", topo);
	else if (cli->dry_run)
		printf("%s: %zu step(s) planned; nothing changed (--dry-run)\n", topo, n);
	else
		printf("%s: up: %zu step(s) in %.1f ms\n", topo, res->done,
		       (res->observe_us + res->apply_us) / 1000.0);
	if (res->stp_ms > 100)
		printf("%s: STP converged in %.1f s\n", topo, res->stp_ms / 1000.0);
}

int cmd_up(struct cli *cli)
{
	struct vnet_model *m = NULL;
	struct vnet_session *s = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	struct tunnels t = { .cli = cli };
	int code, r;

	code = cli_need_root();
	if (!code)
		code = cli_load(cli, cli->argv[0], &m);
	t.m = m;
	if (!code)
		code = cli_host_part(m);
	if (!code && cli->try_secs && cli->dry_run)
		code = cli_errorf(EXIT_USAGE, "up: --try and --dry-run do not go together");
	if (!code && cli->try_secs) {
		code = up_try(cli, m);
		goto out;
	}
	if (!code)
		code = cli_session(cli, !cli->dry_run, &s);
	if (code)
		goto out;
	r = up(cli, s, m, &t, &res, &e);
	cli_print_notes(m->name, &res);
	if (r < 0) {
		code = cli_error(&e);
		print_undone(m->name, &res);
		if (cli->json)
			cli_print_failure_json(m->name, &res, "up", &e);
		goto out;
	}
	if (!cli->json)
		cli_print_plan(cli, m->name, &res, cli->dry_run ? "plan" : "up", t.done);
	res.stp_ms = -1;
	/* STP takes seconds: other commands need not wait for it */
	vnet_session_unlock(s);
	if (!cli->dry_run && !cli->no_wait)
		code = wait_stp(s, m, cli, &res.stp_ms);
	if (cli->json)
		cli_print_plan(cli, m->name, &res, cli->dry_run ? "plan" : "up", t.done);
	if (!cli->json && !code)
		print_summary(cli, m->name, &res, t.done && t.done[0]);
out:
	free(t.done);
	vnet_result_clear(&res);
	vnet_session_close(s);
	vnet_model_free(m);
	return code;
}
