/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli.h - what the vnet command's files share: options, output, exit codes */
#ifndef VNET_CLI_H
#define VNET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "vnet/vnet.h"

/* Exit codes, as vnet(8) documents them. */
enum {
	EXIT_OK = 0,
	EXIT_DRIFT = 1, /* diff: the kernel differs from the file */
	EXIT_USAGE = 2, /* bad command line or bad topology file */
	EXIT_FAILED = 3, /* the kernel or the state store refused; what was done is undone */
	EXIT_NOPERM = 4, /* not root */
	EXIT_CONFLICT = 5, /* something vnet does not own is in the way */
	EXIT_PROBE = 6, /* an uplink's probe failed: its NIC was given back, the rest undone */
};

/* The options a command may take; vnet.c's table says which, and refuses the others. */
enum {
	OPT_NAME = 1U << 0, /* --name NAME */
	OPT_JSON = 1U << 1,
	OPT_DRY_RUN = 1U << 2,
	OPT_SANDBOX = 1U << 3,
	OPT_DOT = 1U << 4,
	OPT_SVG = 1U << 5,
	OPT_NO_WAIT = 1U << 6,
	OPT_TRY = 1U << 7, /* --try SECONDS */
	OPT_HOST = 1U << 8, /* --host NAME */
	OPT_PEER = 1U << 9, /* --peer ADDR[:PORT] */
	OPT_LOCAL = 1U << 10, /* --local [ADDR][:PORT] */
	OPT_ID = 1U << 11, /* --id N */
	OPT_MTU = 1U << 12, /* --mtu N */
	OPT_TAP = 1U << 13,
	OPT_NO_OFFLOAD = 1U << 14,
	OPT_QUEUES = 1U << 15, /* --queues N */
};

/* The command line, parsed; --state-dir, -v, -h and --version apply to every command. */
struct cli {
	const char *state_dir;
	const char *name; /* --name */
	const char *try_secs; /* --try */
	const char *host; /* --host */
	const char *peer, *local, *id, *mtu, *queues; /* vnet tunnel's */
	unsigned given; /* OPT_* seen on the line */
	bool json, dry_run, sandbox, verbose;
	bool dot, svg, no_wait, help;
	int argc;
	char **argv; /* what is left after the options: the command's operands */
};

/* A subcommand: wg-style table entry, with what it accepts, checked before it runs. */
struct command {
	const char *name;
	int (*run)(struct cli *cli);
	const char *usage;
	const char *help;
	unsigned opts; /* OPT_* it takes */
	int min_args, max_args; /* operands; max -1: no limit */
};

int cmd_up(struct cli *cli);
int cmd_down(struct cli *cli);
int cmd_diff(struct cli *cli);
int cmd_list(struct cli *cli);
int cmd_validate(struct cli *cli);
int cmd_show(struct cli *cli);
int cmd_check(struct cli *cli);
int cmd_exec(struct cli *cli);
int cmd_stp(struct cli *cli);
int cmd_recover(struct cli *cli);
int cmd_confirm(struct cli *cli);
int cmd_tunnel(struct cli *cli);

/* cni-view.c: the CNI networks of vnet-cni */
struct json_t;
int cni_list_text(struct vnet_session *s);
int cni_list_json(struct vnet_session *s, struct json_t *array);
int cni_show(const struct cli *cli, struct vnet_session *s, const char *net);
/* cni_show_all() - every CNI network as text, a blank line between them (and before the
 * first, @after something); Return: 1 when there was one, 0 when none, -1 unreadable. */
int cni_show_all(struct vnet_session *s, bool after);

/* output.c */
int cli_error(const struct vnet_error *e);
int cli_error_as(const struct vnet_error *e, int code);
int cli_errorf(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_need_root(void);
/* cli_host_part() - a file that spans hosts needs --host to be built: EXIT_USAGE without. */
int cli_host_part(const struct vnet_model *m);
int cli_load(const struct cli *cli, const char *path, struct vnet_model **ret);
int cli_session(const struct cli *cli, bool lock, struct vnet_session **ret);
/* cli_print_notes() - what the library said the user must know, one "vnet: TOPO: " line each. */
void cli_print_notes(const char *topo, const struct vnet_result *res);
int cli_exit_code(int err);
/* cli_topo_name() - the topology a FILE|NAME operand stands for; Return: an exit code. */
int cli_topo_name(const struct cli *cli, const char *arg, char *buf, size_t len);
/* cli_print_failure_json() - what a failed command planned and did, and its error, as JSON. */
void cli_print_failure_json(const char *topo, const struct vnet_result *res, const char *verb,
			    const struct vnet_error *e);
/* cli_print_plan() - the plan's steps, then @more: the lines of steps done beside it (the
 * tunnels', "  C STEP"; NULL for none), as text or as JSON. */
void cli_print_plan(const struct cli *cli, const char *topo, const struct vnet_result *res,
		    const char *verb, const char *more);

/* cmd-exec.c: the file of namespace @ns ("": vnet's own); Return: false if it is no name. */
bool cli_ns_path(const char *ns, char *buf, size_t len);
/* cmd-exec.c: enter namespace @ns ("": stay); Return: an exit code, the error said. */
int cli_enter_ns(const char *ns);

/*
 * tunnels.c: the processes of the tunnels a file declares (vnet-tunnel(7)); each writes
 * what it does (or, with --dry-run, would do) to @out, a line each.
 * cli_tunnels_up() - run those of @m that do not run as it says; stop those it has no more
 * cli_tunnels_down() - stop the tunnels of @topo
 * cli_tunnels_drift() - say what cli_tunnels_up() would do; Return: how many
 * cli_tunnels_show() - the tunnels of @topo, whether they run
 */
int cli_tunnels_up(const struct cli *cli, const struct vnet_model *m, FILE *out,
		   struct vnet_error *reterr);
void cli_tunnels_down(const struct cli *cli, const char *topo, FILE *out);
int cli_tunnels_drift(const struct cli *cli, const struct vnet_model *m, FILE *out);
/* cli_tunnels_show() - the tunnels of @topo vnet up runs, for vnet show: none, no lines. */
void cli_tunnels_show(const struct cli *cli, const char *topo, FILE *out);

#endif /* VNET_CLI_H */
