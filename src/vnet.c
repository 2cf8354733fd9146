// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet.c - the vnet command: global options, then a table of subcommands */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_STATE_DIR "/var/lib/vnet"
#define CMD_INDENT "                                                     " /* 2 + 50 + 1 */

/*
 * Each command says which options and how many operands it takes; main() refuses the rest
 * before the command runs, so that an option never goes silently unheeded (down --dot).
 */
static const struct command commands[] = {
	{ "up", cmd_up,
	  "up FILE [--host NAME] [--dry-run] [--sandbox] [--name NAME] [--no-wait] [--try SECONDS] "
	  "[--json]",
	  "build the topology in FILE, or bring the kernel back in line with it",
	  OPT_DRY_RUN | OPT_SANDBOX | OPT_NAME | OPT_NO_WAIT | OPT_TRY | OPT_JSON | OPT_HOST, 1,
	  1 },
	{ "confirm", cmd_confirm, "confirm FILE|NAME",
	  "keep the change of a vnet up --try before its deadline undoes it", 0, 1, 1 },
	{ "down", cmd_down, "down FILE|NAME [--dry-run] [--json]",
	  "remove exactly what the topology created (on this host)",
	  OPT_DRY_RUN | OPT_JSON | OPT_HOST, 1, 1 },
	{ "diff", cmd_diff, "diff FILE [--host NAME] [--sandbox] [--name NAME] [--json]",
	  "show how the kernel differs from FILE (exit 1 when it does)",
	  OPT_SANDBOX | OPT_NAME | OPT_JSON | OPT_HOST, 1, 1 },
	{ "show", cmd_show, "show [NAME] [--json|--dot|--svg]",
	  "draw what the kernel has of a topology (all, without NAME), or cni/NET",
	  OPT_JSON | OPT_DOT | OPT_SVG, 0, 1 },
	{ "check", cmd_check, "check FILE [--host NAME] [--sandbox] [--name NAME] [--json]",
	  "probe the file's connectivity expectations (exit 1 when one fails)",
	  OPT_SANDBOX | OPT_NAME | OPT_JSON | OPT_HOST, 1, 1 },
	{ "exec", cmd_exec, "exec [TOPOLOGY/]NODE -- CMD [ARGS...]",
	  "run a command in a node's namespace", 0, 2, -1 },
	{ "stp", cmd_stp, "stp [NODE/]BRIDGE [--name NAME] [--json]",
	  "root bridge, and role and state of every port", OPT_NAME | OPT_JSON, 1, 1 },
	{ "recover", cmd_recover, "recover NAME [--json]",
	  "rebuild a lost record of topology NAME from the kernel's tags", OPT_JSON, 1, 1 },
	{ "list", cmd_list, "list [--json]",
	  "the topologies vnet has built, and vnet-cni's networks", OPT_JSON, 0, 0 },
	{ "validate", cmd_validate, "validate FILE [--host NAME] [--sandbox] [--name NAME]",
	  "check FILE without touching the kernel (no root needed)",
	  OPT_SANDBOX | OPT_NAME | OPT_HOST, 1, 1 },
	{ "tunnel", cmd_tunnel,
	  "tunnel DEV --peer ADDR[:PORT] [--local [ADDR][:PORT]] [--id N] [--tap] [--mtu N] "
	  "[--no-offload] [--queues N] [--json]",
	  "carry DEV's packets to a peer over UDP, and the peer's to DEV, until SIGTERM",
	  OPT_PEER | OPT_LOCAL | OPT_ID | OPT_MTU | OPT_TAP | OPT_NO_OFFLOAD | OPT_QUEUES |
		  OPT_JSON,
	  1, 1 },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The options of some commands, in the order help lists them. */
static const struct {
	const char *name; /* long form */
	unsigned bit;
	const char *help; /* "--name NAME  text", as help prints it */
} options[] = {
	{ "dry-run", OPT_DRY_RUN, "--dry-run        print the plan, change nothing" },
	{ "sandbox", OPT_SANDBOX,
	  "--sandbox        build the host part too inside namespace "
	  "NAME-host" },
	{ "name", OPT_NAME, "--name NAME      the topology's name (instead of the file's)" },
	{ "host", OPT_HOST, "--host NAME      of a file that spans hosts: the part of host NAME" },
	{ "no-wait", OPT_NO_WAIT, "--no-wait        do not wait for STP to converge" },
	{ "try", OPT_TRY,
	  "--try SECONDS    undo the change unless vnet confirm comes within SECONDS, even "
	  "if vnet is killed" },
	{ "peer", OPT_PEER, "--peer ADDR[:PORT]  (tunnel) the other end (port 4790 by default)" },
	{ "local", OPT_LOCAL, "--local [ADDR][:PORT]  (tunnel) where to receive (any, 4790)" },
	{ "id", OPT_ID, "--id N           (tunnel) the tunnel's id, the same at both ends (1)" },
	{ "mtu", OPT_MTU,
	  "--mtu N          (tunnel) the device's MTU (the path's, less the overhead)" },
	{ "tap", OPT_TAP,
	  "--tap            (tunnel) DEV is a tap: Ethernet frames, not IP packets" },
	{ "no-offload", OPT_NO_OFFLOAD,
	  "--no-offload     (tunnel) one packet of the device's MTU per datagram" },
	{ "queues", OPT_QUEUES,
	  "--queues N       (tunnel) the device's queues, a thread each (1 for 2 CPUs, 1-8)" },
	{ "json", OPT_JSON, "--json           print JSON" },
	{ "dot", OPT_DOT, "--dot            print Graphviz input" },
	{ "svg", OPT_SVG, "--svg            print an SVG picture" },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: vnet [--state-dir DIR] COMMAND [ARGS]\n\n"
		   "Build, verify and show Linux virtual networks from one topology file.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) /* a long line has its text on the next */
		fprintf(f, "  %-50s %s%s\n", commands[i].usage,
			strlen(commands[i].usage) > 50 ? "\n" CMD_INDENT : "", commands[i].help);
	fprintf(f, "\nOptions (each command takes those its line shows; vnet COMMAND --help):\n"
		   "  --state-dir DIR  where vnet records what it owns (default $VNET_STATE_DIR,\n"
		   "                   else " DEFAULT_STATE_DIR ")\n");
	for (size_t i = 0; i < NOPTIONS; i++)
		fprintf(f, "  %s\n", options[i].help);
	fprintf(f, "  -v, --verbose    say more\n"
		   "  -h, --help       this text;  --version  the version\n\n"
		   "See vnet(8) and vnet-topology(5).\n");
}

/* vnet COMMAND --help: its line, and only the options it takes. */
static void command_usage(const struct command *cmd)
{
	printf("Usage: vnet [--state-dir DIR] %s\n\n%s\n\nOptions:\n", cmd->usage, cmd->help);
	for (size_t i = 0; i < NOPTIONS; i++)
		if (cmd->opts & options[i].bit)
			printf("  %s\n", options[i].help);
	printf("  --state-dir DIR  where vnet records what it owns\n"
	       "  -v, --verbose    say more\n"
	       "  -h, --help       this text\n\n"
	       "See vnet(8).\n");
}

/* getopt's codes: the short letters, and past 256 an index into options[]. */
enum { OPT_STATE_DIR = 's', OPT_VERSION = 'V', OPT_INDEX = 256 };

static void long_options(struct option *lo)
{
	size_t n = 0;

	for (size_t i = 0; i < NOPTIONS; i++)
		lo[n++] = (struct option){ options[i].name,
					   options[i].bit & (OPT_NAME | OPT_TRY | OPT_HOST |
							     OPT_PEER | OPT_LOCAL | OPT_ID |
							     OPT_MTU | OPT_QUEUES) ?
						   required_argument :
						   no_argument,
					   NULL, OPT_INDEX + (int)i };
	lo[n++] = (struct option){ "state-dir", required_argument, NULL, OPT_STATE_DIR };
	lo[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	lo[n] = (struct option){ 0 };
}

/* getopt said no: an unknown option, or one without its value. */
static int bad_option(int c, char **argv)
{
	const char *opt = argv[optind - 1];

	if (c == ':')
		return cli_errorf(EXIT_USAGE, "%s needs a value (see vnet --help)", opt);
	if (optopt && optopt < OPT_INDEX && optopt != OPT_STATE_DIR)
		return cli_errorf(EXIT_USAGE, "unknown option -%c (see vnet --help)", optopt);
	return cli_errorf(EXIT_USAGE, "unknown option \"%s\" (see vnet --help)", opt);
}

/* Options may come anywhere on the line; what is left are the command and its operands. */
static int parse_options(int argc, char **argv, struct cli *cli)
{
	struct option lo[NOPTIONS + 5];
	int c;

	long_options(lo);
	opterr = 0; /* bad_option() says it, in vnet's words */
	while ((c = getopt_long(argc, argv, ":hv", lo, NULL)) != -1) {
		if (c >= OPT_INDEX) {
			cli->given |= options[c - OPT_INDEX].bit;
			if (options[c - OPT_INDEX].bit == OPT_NAME)
				cli->name = optarg;
			if (options[c - OPT_INDEX].bit == OPT_TRY)
				cli->try_secs = optarg;
			if (options[c - OPT_INDEX].bit == OPT_HOST)
				cli->host = optarg;
			if (options[c - OPT_INDEX].bit == OPT_PEER)
				cli->peer = optarg;
			if (options[c - OPT_INDEX].bit == OPT_LOCAL)
				cli->local = optarg;
			if (options[c - OPT_INDEX].bit == OPT_ID)
				cli->id = optarg;
			if (options[c - OPT_INDEX].bit == OPT_MTU)
				cli->mtu = optarg;
			if (options[c - OPT_INDEX].bit == OPT_QUEUES)
				cli->queues = optarg;
		} else if (c == OPT_STATE_DIR) {
			cli->state_dir = optarg;
		} else if (c == 'v') {
			cli->verbose = true;
		} else if (c == 'h') {
			cli->help = true;
		} else if (c == OPT_VERSION) {
			printf("vnet 0.1.0\n");
			exit(EXIT_OK);
		} else {
			return bad_option(c, argv);
		}
	}
	cli->json = cli->given & OPT_JSON;
	cli->dry_run = cli->given & OPT_DRY_RUN;
	cli->sandbox = cli->given & OPT_SANDBOX;
	cli->dot = cli->given & OPT_DOT;
	cli->svg = cli->given & OPT_SVG;
	cli->no_wait = cli->given & OPT_NO_WAIT;
	cli->argc = argc - optind;
	cli->argv = argv + optind;
	return 0;
}

/* Does the line fit @cmd: only its options, as many operands as it takes? */
static int check_line(const struct command *cmd, const struct cli *cli)
{
	unsigned extra = cli->given & ~cmd->opts;

	for (size_t i = 0; extra && i < NOPTIONS; i++)
		if (extra & options[i].bit)
			return cli_errorf(EXIT_USAGE, "%s: --%s does not apply (usage: vnet %s)",
					  cmd->name, options[i].name, cmd->usage);
	if (cli->argc < cmd->min_args)
		return cli_errorf(EXIT_USAGE, "%s: missing operand (usage: vnet %s)", cmd->name,
				  cmd->usage);
	if (cmd->max_args >= 0 && cli->argc > cmd->max_args)
		return cli_errorf(EXIT_USAGE, "%s: unexpected operand \"%s\" (usage: vnet %s)",
				  cmd->name, cli->argv[cmd->max_args], cmd->usage);
	return 0;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct command *cmd;
	int code;

	code = parse_options(argc, argv, &cli);
	if (code)
		return code;
	if (!cli.state_dir)
		cli.state_dir = getenv("VNET_STATE_DIR");
	if (!cli.state_dir || !cli.state_dir[0])
		cli.state_dir = DEFAULT_STATE_DIR;
	if (cli.argc < 1 || !strcmp(cli.argv[0], "help")) {
		cmd = cli.argc > 1 ? find_command(cli.argv[1]) : NULL;
		if (cmd)
			command_usage(cmd);
		else
			usage(cli.argc < 1 && !cli.help ? stderr : stdout);
		return cli.argc < 1 && !cli.help ? EXIT_USAGE : EXIT_OK;
	}
	cmd = find_command(cli.argv[0]);
	if (!cmd)
		return cli_errorf(EXIT_USAGE, "unknown command \"%s\" (see vnet --help)",
				  cli.argv[0]);
	if (cli.help) {
		command_usage(cmd);
		return EXIT_OK;
	}
	cli.argc--;
	cli.argv++;
	code = check_line(cmd, &cli);
	return code ? code : cmd->run(&cli);
}
