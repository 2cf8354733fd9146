// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-show.c - placeholder, being written */
#include "vnet.h"

int cmd_show(struct cli *cli)
{
	return cli_errorf(EXIT_USAGE, "show: not written yet");
}
