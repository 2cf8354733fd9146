// SPDX-License-Identifier: LGPL-2.1-or-later
/* array.c - the one growth rule for every array and byte buffer in the library */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

#define FIRST_ELEMS 16
#define FIRST_BYTES 4096

static int grow(void **v, size_t *cap, size_t need, size_t size, bool zero)
{
	size_t max, ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	if (!size)
		return -EINVAL;
	max = SIZE_MAX / size;
	if (need > max)
		return -ENOMEM;
	ncap = *cap ? *cap : FIRST_BYTES / size > FIRST_ELEMS ? FIRST_BYTES / size : FIRST_ELEMS;
	while (ncap < need)
		ncap = ncap <= max / 2 ? ncap * 2 : max;
	if (ncap > max)
		ncap = max;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	if (zero)
		memset((char *)nv + *cap * size, 0, (ncap - *cap) * size);
	*v = nv;
	*cap = ncap;
	return 0;
}

int vnet_grow(void **v, size_t *cap, size_t need, size_t size)
{
	return grow(v, cap, need, size, false);
}

int vnet_grow0(void **v, size_t *cap, size_t need, size_t size)
{
	return grow(v, cap, need, size, true);
}

void *vnet_push(void **v, size_t *n, size_t *cap, size_t size)
{
	void *e;

	if (*n == SIZE_MAX || grow(v, cap, *n + 1, size, false) < 0)
		return NULL;
	e = (char *)*v + *n * size;
	memset(e, 0, size);
	(*n)++;
	return e;
}

int vnet_strv_add(struct vnet_strv *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (vnet_array_grow(s, s->n + 1) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): clang 14 misses the va_start
	r = vasprintf(&s->v[s->n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	s->n++;
	return 0;
}

void vnet_strv_free(struct vnet_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int vnet_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}
