// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-exec.c - placeholder, being written */
#include "vnet.h"

int cmd_exec(struct cli *cli)
{
	return cli_errorf(EXIT_USAGE, "exec: not written yet");
}
