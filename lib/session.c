// SPDX-License-Identifier: LGPL-2.1-or-later
/* session.c - open and close a session: the state store, its lock, the netlink sockets */
#include <errno.h>
#include <stdlib.h>

#include "session.h"

int vnet_session_open(const char *state_dir, bool lock, struct vnet_session **ret_s,
		      struct vnet_error *reterr)
{
	struct vnet_session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = vnet_state_open(state_dir, &s->st, reterr);
	if (r >= 0 && lock)
		r = vnet_state_lock(s->st, true, reterr);
	if (r < 0) {
		vnet_session_close(s);
		return r;
	}
	*ret_s = s;
	return 0;
}

int vnet_session_lock(struct vnet_session *s, bool wait, struct vnet_error *reterr)
{
	return vnet_state_lock(s->st, wait, reterr);
}

void vnet_session_unlock(struct vnet_session *s)
{
	vnet_state_unlock(s->st);
}

void vnet_session_close(struct vnet_session *s)
{
	if (!s)
		return;
	vnet_nlset_free(&s->nls);
	vnet_state_close(s->st);
	free(s);
}

struct vnet_nlset *vnet_session_nls(struct vnet_session *s)
{
	return &s->nls;
}
