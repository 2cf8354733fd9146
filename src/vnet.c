// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet.c - the vnet command: global options, then a table of subcommands */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet.h"

#define DEFAULT_STATE_DIR "/var/lib/vnet"

static const struct command commands[] = {
	{ "up", cmd_up, "up FILE [--dry-run] [--sandbox] [--name NAME] [--json]",
	  "build the topology in FILE, or bring the kernel back in line with it" },
	{ "down", cmd_down, "down FILE|NAME [--name NAME] [--json]",
	  "remove exactly what the topology created" },
	{ "diff", cmd_diff, "diff FILE [--sandbox] [--name NAME] [--json]",
	  "show how the kernel differs from FILE (exit 1 when it does)" },
	{ "show", cmd_show, "show [NAME] [--json|--dot|--svg]",
	  "draw what the kernel has of a topology (all, without NAME)" },
	{ "check", cmd_check, "check FILE [--sandbox] [--name NAME] [--json]",
	  "probe the file's connectivity expectations (exit 1 when one fails)" },
	{ "exec", cmd_exec, "exec [TOPOLOGY/]NODE -- CMD [ARGS...]",
	  "run a command in a node's namespace" },
	{ "stp", cmd_stp, "stp [NODE/]BRIDGE [--name NAME] [--json]",
	  "root bridge, and role and state of every port" },
	{ "list", cmd_list, "list [--json]", "the topologies vnet has built" },
	{ "validate", cmd_validate, "validate FILE [--sandbox] [--name NAME]",
	  "check FILE without touching the kernel (no root needed)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vnet [--state-dir DIR] COMMAND [ARGS]\n\n"
		   "Build, verify and show Linux virtual networks from one topology file.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-50s %s\n", commands[i].usage, commands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  --state-dir DIR  where vnet records what it owns (default $VNET_STATE_DIR,\n"
		   "                   else " DEFAULT_STATE_DIR ")\n"
		   "  --sandbox        build the host part too inside namespace NAME-host\n"
		   "  --name NAME      use NAME instead of the file's topology name\n"
		   "  --dry-run        print the plan, change nothing\n"
		   "  --json           print JSON;  --dot, --svg  (show) Graphviz or SVG\n"
		   "  --no-wait        (up) do not wait for STP to converge\n"
		   "  -v, --verbose    also print the settings of what is created\n"
		   "  -h, --help       this text;  --version  the version\n\n"
		   "See vnet(8) and vnet-topology(5).\n");
}

static const struct option long_opts[] = {
	{ "state-dir", required_argument, NULL, 's' },
	{ "name", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "dry-run", no_argument, NULL, 'd' },
	{ "sandbox", no_argument, NULL, 'S' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "dot", no_argument, NULL, 'D' },
	{ "svg", no_argument, NULL, 'G' },
	{ "no-wait", no_argument, NULL, 'W' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

/* Options may come anywhere on the line; what is left are the command and its operands. */
static int parse_options(int argc, char **argv, struct cli *cli)
{
	int c;

	while ((c = getopt_long(argc, argv, "hv", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cli->state_dir = optarg;
			break;
		case 'n':
			cli->name = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'd':
			cli->dry_run = true;
			break;
		case 'S':
			cli->sandbox = true;
			break;
		case 'v':
			cli->verbose = true;
			break;
		case 'D':
			cli->dot = true;
			break;
		case 'G':
			cli->svg = true;
			break;
		case 'W':
			cli->no_wait = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("vnet 0.1.0\n");
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	cli->argc = argc - optind;
	cli->argv = argv + optind;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };

	if (parse_options(argc, argv, &cli) < 0)
		return EXIT_USAGE;
	if (!cli.state_dir)
		cli.state_dir = getenv("VNET_STATE_DIR");
	if (!cli.state_dir || !cli.state_dir[0])
		cli.state_dir = DEFAULT_STATE_DIR;
	if (cli.argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cli.argv[0], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cli.argv[0], commands[i].name))
			continue;
		cli.argc--;
		cli.argv++;
		return commands[i].run(&cli);
	}
	return cli_errorf(EXIT_USAGE, "unknown command \"%s\" (see vnet --help)", cli.argv[0]);
}
