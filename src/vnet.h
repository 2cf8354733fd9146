/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnet.h - what the vnet command's files share: options, output, exit codes */
#ifndef VNET_CLI_H
#define VNET_CLI_H

#include <stdbool.h>

#include "vnet/vnet.h"

/* Exit codes, as vnet(8) documents them. */
enum {
	EXIT_OK = 0,
	EXIT_DRIFT = 1, /* diff: the kernel differs from the file */
	EXIT_USAGE = 2, /* bad command line or bad topology file */
	EXIT_FAILED = 3, /* the kernel or the state store refused; what was done is undone */
	EXIT_NOPERM = 4, /* not root */
	EXIT_CONFLICT = 5 /* something vnet does not own is in the way */
};

/* Options every command takes. */
struct cli {
	const char *state_dir;
	const char *name; /* --name */
	bool json, dry_run, sandbox, verbose;
	bool dot, svg, no_wait;
	int argc;
	char **argv; /* what is left after the options: the command's operands */
};

/* A subcommand: wg-style table entry. */
struct command {
	const char *name;
	int (*run)(struct cli *cli);
	const char *usage;
	const char *help;
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

/* output.c */
int cli_error(const struct vnet_error *e);
int cli_errorf(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_need_root(void);
int cli_load(const struct cli *cli, const char *path, struct vnet_model **ret);
int cli_session(const struct cli *cli, bool lock, struct vnet_session **ret);
int cli_exit_code(int err);
void cli_print_plan(const struct cli *cli, const char *topo, const struct vnet_result *res,
		    const char *verb);

#endif /* VNET_CLI_H */
