// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * try.c - `vnet up --try`: a change kept only when `vnet confirm` comes before its deadline.
 * The process that made the change holds it open (vnet_up_hold()) and waits here; the
 * store holds the try's state, which one atomic step moves from "pending" to "confirmed"
 * (confirm) or to "rolling back" (the deadline), whichever comes first.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "session.h"

int vnet_try_start(struct vnet_session *s, const char *topo, long long deadline_ms,
		   struct vnet_error *reterr)
{
	return vnet_state_try_start(s->st, topo, deadline_ms, reterr);
}

static long long realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* "17:42:05", the local time of @ms. */
static void clock_text(long long ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "%lld", ms / 1000);
}

/* The boot clock in ms: it does not jump when the wall clock is set (NTP, by hand). */
static long long boottime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int vnet_try_wait(struct vnet_session *s, const char *topo, struct vnet_error *reterr)
{
	struct vnet_try t;
	char when[32];
	long long end = -1;
	int r;

	for (;;) {
		long long left;

		r = vnet_state_try_get(s->st, topo, &t);
		if (r < 0)
			return vnet_error_set(reterr, r, "state store", "read", "the try of %s: %s",
					      topo, strerror(-r));
		if (strcmp(t.state, "pending"))
			return 0; /* confirmed */
		/* the deadline, taken once from the wall clock, is kept on the boot clock */
		if (end < 0)
			end = boottime_ms() + (t.deadline_ms - realtime_ms());
		left = end - boottime_ms();
		if (left <= 0)
			break;
		left = left < 200 ? left : 200;
		struct timespec ts = { 0, (long)left * 1000000L };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	r = vnet_state_try_decide(s->st, topo, "pending", "rolling back");
	if (r < 0)
		return vnet_error_set(reterr, r, "state store", "write", "the try of %s: %s", topo,
				      strerror(-r));
	if (!r)
		return 0; /* a confirm came first, by a hair */
	clock_text(t.deadline_ms, when, sizeof(when));
	return vnet_error_set(reterr, -ETIMEDOUT, topo, "try", "not confirmed by %s", when);
}

void vnet_try_end(struct vnet_session *s, const char *topo, bool rolled_back, bool undo_failed)
{
	const char *to = undo_failed ? "undo failed" : "rolled back";

	if (!rolled_back) {
		(void)vnet_state_try_forget(s->st, topo);
		return;
	}
	/* from "pending" too: a wait the store failed still undid the change */
	if (vnet_state_try_decide(s->st, topo, "rolling back", to) <= 0)
		(void)vnet_state_try_decide(s->st, topo, "pending", to);
}

int vnet_try_confirm(struct vnet_session *s, const char *topo, struct vnet_try *ret,
		     struct vnet_error *reterr)
{
	char when[32];
	int r = vnet_state_try_get(s->st, topo, ret);

	if (r == -ENOENT)
		return vnet_error_set(reterr, r, topo, "confirm",
				      "no vnet up --try of %s is waiting for a confirm", topo);
	if (r < 0)
		return vnet_error_set(reterr, r, "state store", "read", "%s", strerror(-r));
	r = vnet_state_try_decide(s->st, topo, "pending", "confirmed");
	if (r < 0)
		return vnet_error_set(reterr, r, "state store", "write", "%s", strerror(-r));
	if (r == 1)
		return 0; /* the holder reads the store every 200 ms (no signal: its pid may be
			   * another process's by now, were it killed) */
	r = vnet_state_try_get(s->st, topo, ret);
	if (r < 0)
		return vnet_error_set(reterr, r, "state store", "read", "%s", strerror(-r));
	clock_text(ret->at_ms, when, sizeof(when));
	if (!strcmp(ret->state, "confirmed"))
		return 0;
	if (!strcmp(ret->state, "undo failed"))
		return vnet_error_set(reterr, -ETIME, topo, "confirm",
				      "too late: the deadline passed at %s, and undoing the change "
				      "failed in part: vnet diff shows what is left, vnet up or "
				      "vnet down finishes",
				      when);
	return vnet_error_set(reterr, -ETIME, topo, "confirm",
			      "too late: the deadline passed, and the change was %s at %s",
			      strcmp(ret->state, "rolled back") ? "being undone" : "undone", when);
}
