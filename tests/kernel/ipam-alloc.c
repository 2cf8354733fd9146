// SPDX-License-Identifier: LGPL-2.1-or-later
/* ipam-alloc.c - lease one address from a pool of the state store, for the IPAM race test */
#include <stdio.h>

#include "vnet/vnet.h"

/* ipam-alloc STATE_DIR POOL SUBNET OWNER: prints the address leased to OWNER. */
int main(int argc, char **argv)
{
	struct vnet_session *s = NULL;
	struct vnet_error e = { 0 };
	char addr[64], line[VNET_MSGSIZ + 400];
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: ipam-alloc STATE_DIR POOL SUBNET OWNER\n");
		return 2;
	}
	r = vnet_session_open(argv[1], false, &s, &e);
	if (r >= 0)
		r = vnet_ipam_alloc(s, argv[2], argv[3], argv[4], addr, sizeof(addr), &e);
	vnet_session_close(s);
	if (r < 0) {
		vnet_error_format(&e, line, sizeof(line));
		fprintf(stderr, "ipam-alloc: %s\n", line);
		return 1;
	}
	printf("%s\n", addr);
	return 0;
}
