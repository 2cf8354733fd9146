/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleanup.h - _cleanup_ and TAKE_PTR (after systemd): what a scope owns is freed as it ends */
#ifndef VNET_CLEANUP_H
#define VNET_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * _cleanup_(f) - call f(&var) when var goes out of scope; f must accept what it may hold.
 * The names are systemd's, which STYLE.md asks for, hence the reserved-identifier NOLINTs.
 */
// NOLINTNEXTLINE(bugprone-reserved-identifier)
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void vnet_freep(void *p)
{
	free(*(void **)p);
}

/* vnet_closep() - close *@fd unless it is negative; errno is kept, as an exit path reads it. */
static inline void vnet_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

/*
 * VNET_DEFINE_CLEANUP(type, func) - define funcp(type *), calling func(*p), so that
 * _cleanup_(funcp) frees a variable of @type; func must accept NULL.
 */
/* @type is a type, which takes no parentheses */
// NOLINTBEGIN(bugprone-macro-parentheses)
#define VNET_DEFINE_CLEANUP(type, func)     \
	static inline void func##p(type *p) \
	{                                   \
		func(*p);                   \
	}
// NOLINTEND(bugprone-macro-parentheses)

// NOLINTNEXTLINE(bugprone-reserved-identifier)
#define _cleanup_free_ _cleanup_(vnet_freep)
// NOLINTNEXTLINE(bugprone-reserved-identifier)
#define _cleanup_close_ _cleanup_(vnet_closep)

/* TAKE_PTR(p) - the value of @p, which is set to NULL: ownership leaves the scope. */
#define TAKE_PTR(p)                             \
	({                                      \
		__typeof__(p) vnet_take_ = (p); \
		(p) = NULL;                     \
		vnet_take_;                     \
	})

/* TAKE_FD(fd) - the value of @fd, which is set to -1: ownership leaves the scope. */
#define TAKE_FD(fd)                    \
	({                             \
		int vnet_take_ = (fd); \
		(fd) = -1;             \
		vnet_take_;            \
	})

#endif
