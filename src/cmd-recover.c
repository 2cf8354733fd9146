// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-recover.c - vnet recover: a lost state store's record, rebuilt from the kernel's tags */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"

int cmd_recover(struct cli *cli)
{
	char name[VNET_ESC_SIZE(VNET_NAMSIZ)];
	struct vnet_session *s = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	const char *topo = cli->argv[0];
	int code = cli_need_root(), r;

	if (!code)
		code = cli_session(cli, true, &s);
	if (code)
		goto out;
	r = vnet_recover(s, topo, &res, &e);
	if (r < 0) {
		/* nothing carries the tag: a name the user got wrong, as for down */
		code = r == -ENOENT ? cli_error_as(&e, EXIT_USAGE) : cli_error(&e);
		goto out;
	}
	cli_print_notes(topo, &res);
	if (cli->json) {
		json_t *o =
			json_pack("{s:s, s:I}", "name", topo, "recovered", (json_int_t)res.done);

		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else {
		vnet_escape(topo, name, sizeof(name));
		printf("%s: recovered %zu object(s) that carry the tag vnet:%s; vnet down %s "
		       "removes them\n",
		       name, res.done, name, name);
	}
out:
	vnet_result_clear(&res);
	vnet_session_close(s);
	return code;
}
