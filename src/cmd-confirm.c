// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-confirm.c - vnet confirm: keep the change of a vnet up --try before its deadline */
#include <stdio.h>

#include "cli.h"

int cmd_confirm(struct cli *cli)
{
	struct vnet_session *s = NULL;
	struct vnet_error e = { 0 };
	struct vnet_try t;
	char name[VNET_NAMSIZ], esc[VNET_ESC_SIZE(VNET_NAMSIZ)];
	int code = cli_need_root();

	if (!code)
		code = cli_topo_name(cli, cli->argv[0], name, sizeof(name));
	/* no lock: the process that holds the try holds it, and waits for this */
	if (!code)
		code = cli_session(cli, false, &s);
	if (code)
		return code;
	if (vnet_try_confirm(s, name, &t, &e) < 0)
		code = cli_error(&e);
	else
		printf("%s: confirmed; the change stays\n", vnet_escape(name, esc, sizeof(esc)));
	vnet_session_close(s);
	return code;
}
