/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session.h - what a session holds: the state store and one netlink socket per namespace */
#ifndef VNET_SESSION_H
#define VNET_SESSION_H

#include "kernel.h"
#include "state.h"

/*
 * Opened once per command and handed to every pipeline call, so that the store
 * is opened (and locked) once and a namespace's socket is reused across calls.
 */
struct vnet_session {
	struct vnet_state *st;
	struct vnet_nlset nls;
};

/* vnet_session_nls() - the session's sockets, one per namespace. */
struct vnet_nlset *vnet_session_nls(struct vnet_session *s);

#endif /* VNET_SESSION_H */
