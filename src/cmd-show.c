// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-show.c - vnet show: draw what the kernel has of a topology, as text, JSON, DOT or SVG */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "vnet/render.h"

/* The terminal's width, or 80 when stdout is not a terminal (a pipe, a file). */
static unsigned term_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 80;
}

/* @all: where --json of every topology gathers the array's elements (then at depth 1). */
static int render(const struct cli *cli, const struct vnet_model *m, FILE *all)
{
	if (cli->json && all)
		return vnet_render_json_nested(m, 1, all);
	if (cli->json)
		return vnet_render_json(m, stdout);
	if (cli->dot)
		return vnet_render_dot(m, stdout);
	if (cli->svg)
		return vnet_render_svg(m, stdout);
	return vnet_render_text(m, term_width(), stdout);
}

static int show_one(const struct cli *cli, struct vnet_session *s, const char *name, FILE *all)
{
	struct vnet_model *m = NULL;
	struct vnet_error e = { 0 };
	int r = vnet_observe_topology(s, name, &m, &e);

	if (r == -ENOENT)
		return cli_errorf(EXIT_USAGE,
				  "show: no topology named \"%s\" is up (see vnet list)", name);
	if (r < 0)
		return cli_error(&e);
	r = render(cli, m, all);
	vnet_model_free(m);
	if (r >= 0 && !cli->json && !cli->dot && !cli->svg)
		cli_tunnels_show(cli, name, stdout);
	if (r < 0)
		return cli_errorf(EXIT_FAILED, "show %s: %s", name, strerror(-r));
	return EXIT_OK;
}

/*
 * Every topology that is up; JSON gathers them in one array, SVG takes only one. The array
 * is kept until all are read: a topology that fails prints an error, not half an array.
 */
static int show_all(const struct cli *cli, struct vnet_session *s)
{
	struct vnet_topo_info *v = NULL;
	char *json = NULL;
	size_t n = 0, len = 0;
	FILE *all = NULL;
	int code = EXIT_OK;

	if (vnet_list(s, &v, &n) < 0)
		return cli_errorf(EXIT_FAILED, "cannot read the state store in %s", cli->state_dir);
	if (cli->json && !(all = open_memstream(&json, &len)))
		code = cli_errorf(EXIT_FAILED, "show: %s", strerror(errno));
	else if (cli->svg && n != 1)
		code = cli_errorf(EXIT_USAGE, "show --svg draws one topology: name it (%zu are up)",
				  n);

	for (size_t i = 0; i < n && code == EXIT_OK; i++) {
		if (all)
			fputs(i ? ",\n  " : "\n  ", all);
		else if (i && !cli->dot)
			putchar('\n');
		code = show_one(cli, s, v[i].name, all);
	}
	/* the CNI networks of vnet-cni follow, in text (show cni/NET --json has each) */
	if (code == EXIT_OK && !cli->json && !cli->dot && !cli->svg) {
		int cni = cni_show_all(s, n > 0);

		if (!n && cni == 0)
			printf("no topologies are up\n");
	}
	if (all && fclose(all) != 0 && code == EXIT_OK)
		code = cli_errorf(EXIT_FAILED, "show: %s", strerror(errno));
	else if (all && code == EXIT_OK)
		printf("[%s%s]\n", json, n ? "\n" : "");
	free(json);
	free(v);
	return code;
}

int cmd_show(struct cli *cli)
{
	struct vnet_session *s = NULL;
	int code;

	if (cli->json + cli->dot + cli->svg > 1)
		return cli_errorf(EXIT_USAGE, "show: --json, --dot and --svg exclude each other");
	code = cli_need_root();
	if (!code)
		code = cli_session(cli, false, &s);
	if (code)
		return code;
	if (cli->argc == 1 && !strncmp(cli->argv[0], "cni/", 4))
		code = cni_show(cli, s, cli->argv[0] + 4);
	else if (cli->argc == 1)
		code = show_one(cli, s, cli->argv[0], NULL);
	else
		code = show_all(cli, s);
	vnet_session_close(s);
	return code;
}
