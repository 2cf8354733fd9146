// SPDX-License-Identifier: LGPL-2.1-or-later
/* macvlan.c - the macvlan kind: links with MACs of their own on a parent, the way onto a LAN */
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>

#include "kind.h"

/*
 * The modes, as the kernel numbers them: whether macvlans of one parent reach each other
 * inside it (bridge), only through a switch that sends frames back (vepa), never
 * (private), or whether one macvlan takes the parent whole (passthru). vnet's default is
 * bridge, the one in which containers on one parent talk; the kernel's is vepa.
 */
static const struct vnet_opt_word modes[] = {
	{ "private", MACVLAN_MODE_PRIVATE },
	{ "vepa", MACVLAN_MODE_VEPA },
	{ "bridge", MACVLAN_MODE_BRIDGE },
	{ "passthru", MACVLAN_MODE_PASSTHRU },
	{ NULL, 0 },
};

/*
 * A change of mode makes the macvlan anew: the kernel changes it in place except to or
 * from passthru, and one rule for all is simpler to trust.
 */
static const struct vnet_opt macvlan_opts[] = {
	{ "mode", VNET_OPT_WORD, 0, 0, MACVLAN_MODE_BRIDGE, IFLA_MACVLAN_MODE, 4,
	  VNET_OPT_F_DEFAULT | VNET_OPT_F_LABEL | VNET_OPT_F_REPLACE, modes },
};

/*
 * A passthru macvlan takes its parent whole: it is the only macvlan on it, which the
 * kernel enforces with a bare EINVAL. The later of two on one parent is the one blamed.
 */
static bool macvlan_check(const struct vnet_model *m, const struct vnet_link *l, char *why,
			  size_t len)
{
	for (const struct vnet_link *o = m->links.v; o < l; o++) {
		bool passthru = (l->opts.v[0] | o->opts.v[0]) & MACVLAN_MODE_PASSTHRU;

		if (o->kind != l->kind || strcmp(o->parent, l->parent) ||
		    strcmp(o->parent_ns, l->parent_ns) || !passthru)
			continue;
		snprintf(why, len,
			 "macvlan %s (line %u) is on parent %s too; a passthru macvlan takes its "
			 "parent whole",
			 o->name, o->pos.line, l->parent);
		return false;
	}
	return true;
}

const struct vnet_kind vnet_kind_macvlan = {
	.name = "macvlan",
	.section = "macvlans",
	.flags = VNET_KIND_F_L2 | VNET_KIND_F_PORT | VNET_KIND_F_PARENT | VNET_KIND_F_SHOW,
	.opts = VNET_OPTSET(macvlan_opts, IFLA_MACVLAN_MAX),
	.check = macvlan_check,
};
