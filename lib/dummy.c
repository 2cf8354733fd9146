// SPDX-License-Identifier: LGPL-2.1-or-later
/* dummy.c - the dummy kind: a link with no wire, to hold addresses or stand in for a NIC */
#include "kind.h"

/* No options: it is a name, a MAC and the link settings every kind has. */
const struct vnet_kind vnet_kind_dummy = {
	.name = "dummy",
	.section = "dummies",
	.flags = VNET_KIND_F_L2 | VNET_KIND_F_PORT | VNET_KIND_F_SHOW,
};
