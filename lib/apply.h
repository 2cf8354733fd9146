/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apply.h - running a plan against the kernel, and helpers shared by plan and apply */
#ifndef VNET_APPLY_H
#define VNET_APPLY_H

#include "kernel.h"

#define VNET_APPLY_UNDO (1U << 0) /* on failure, undo the steps done, newest first */
#define VNET_APPLY_TOLERANT (1U << 1) /* go on past failures (down) */

/*
 * How vnet undoes (here), settles, repairs after a crash and recovers a lost store, and
 * the tagging rule all of them rest on, is told in one place: doc/recovery.md.
 */

/**
 * vnet_apply() - run the steps of a plan
 * @nls: sockets per namespace
 * @plan: the steps, in order
 * @flags: VNET_APPLY_*
 * @commit: called once every step took effect (to record them), or NULL; when it fails,
 *          the steps are undone as for a failed step (with VNET_APPLY_UNDO)
 * @data: for @commit
 * @res: @res->done: how many steps took effect; @res->undo_failed and @res->undo_err:
 *       how many undos failed, and the first of them in words
 * @reterr: the first failure, with the kernel's extended-ack text
 *
 * Consecutive steps in one namespace go to the kernel as one netlink batch.
 * In a build with test hooks (meson -Dtest-hooks=true, as ./dev test's build-asan has),
 * the environment variable VNET_FAULT_STEP=N makes step N fail before it is sent, after
 * everything before it took effect; other builds have no such variable.
 *
 * Return: 0, or the first failure's -errno.
 */
int vnet_apply(struct vnet_nlset *nls, const struct vnet_plan *plan, unsigned flags,
	       int (*commit)(void *data, struct vnet_error *reterr), void *data,
	       struct vnet_result *res, struct vnet_error *reterr);

/* vnet_now_us() - the monotonic clock in microseconds, for the timings of a result. */
long vnet_now_us(void);

/* vnet_op_ns() - the namespace a step acts in. */
const char *vnet_op_ns(const struct vnet_op *op);

/* vnet_link_rank() - when a link is made among others: 0 for a bridge (its ports need
 * it), 2 for a link on a parent (after the parent), 1 for the rest. */
int vnet_link_rank(const struct vnet_link *l);

/* vnet_link_maker_ns() - where @l is made: its parent's namespace for a link on a parent
 * (placed in its own at creation), else its own. */
const char *vnet_link_maker_ns(const struct vnet_link *l);

/* vnet_link_settings() - the VNET_SET_* bits a link needs after creation to be as @l says.
 * @as_peer: the link was made in another namespace (a veth's peer, a link on a parent
 *           there): creation gives it no tag, and a veth's peer no mtu or mac. */
unsigned vnet_link_settings(const struct vnet_link *l, bool as_peer);

/**
 * vnet_crash_point() - a place where a crash would leave work half done
 *
 * Called after every netlink batch, namespace or tun/tap change and state-store
 * commit. In a build with test hooks (meson -Dtest-hooks=true), the environment
 * variable VNET_CRASH_AT=N makes the Nth call kill the process on the spot, as a power
 * cut or kill -9 would, so that tests can walk N over every step of an apply and check
 * what the next run repairs. Other builds (the default, and so an installed vnet) have
 * no such hook: the call is an empty inline function.
 */
#if VNET_TEST_HOOKS
void vnet_crash_point(void);
#else
static inline void vnet_crash_point(void)
{
}
#endif

/* vnet_result_note() - add a line to @res->notes (nothing when @res is NULL). */
void vnet_result_note(struct vnet_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* VNET_APPLY_H */
