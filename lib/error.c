// SPDX-License-Identifier: LGPL-2.1-or-later
/* error.c - struct vnet_error: filling it, and its one-line form */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnet/vnet.h"

int vnet_error_set(struct vnet_error *e, int err, const char *object, const char *op,
		   const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	snprintf(e->object, sizeof(e->object), "%s", object ? object : "");
	snprintf(e->op, sizeof(e->op), "%s", op ? op : "");
	va_start(ap, fmt);
	/* clang 14's analyzer misses the va_start above (a known false positive) */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->err = err;
	return err;
}

void vnet_error_format(const struct vnet_error *e, char *buf, size_t len)
{
	size_t off = 0;

#define ADD(...)                                                                     \
	do {                                                                         \
		int r = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__); \
		if (r > 0)                                                           \
			off += (size_t)r;                                            \
	} while (0)
	if (len)
		buf[0] = '\0';
	if (e->file[0] && e->line)
		ADD("%s:%u:%u: ", e->file, e->line, e->col);
	else if (e->file[0])
		ADD("%s: ", e->file);
	if (e->object[0])
		ADD("%s: ", e->object);
	if (e->op[0])
		ADD("%s: ", e->op);
	ADD("%s", e->msg);
#undef ADD
}
