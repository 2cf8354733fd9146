// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-check.c - placeholder, being written */
#include "vnet.h"

int cmd_check(struct cli *cli)
{
	return cli_errorf(EXIT_USAGE, "check: not written yet");
}
