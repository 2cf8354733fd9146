/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* array.h - the one way an array grows: by doubling, overflow-checked, -ENOMEM */
#ifndef VNET_ARRAY_H
#define VNET_ARRAY_H

#include <stddef.h>

/**
 * vnet_grow() - make room for at least @need elements of @size bytes in *@v
 * @v: the array (NULL when none yet); moved by realloc(3) when it grows
 * @cap: its capacity in elements; updated when it grows
 * @need: the number of elements it must hold
 * @size: the size of one element, > 0 (1 for a byte buffer)
 *
 * An empty array starts at 16 elements or 4 KiB, whichever is more; then the
 * capacity doubles until @need fits, so n pushes cost O(n) copying. The new
 * elements are not initialized. On failure *@v and *@cap are unchanged.
 *
 * Return: 0, or -ENOMEM when out of memory or when @need * @size overflows.
 */
int vnet_grow(void **v, size_t *cap, size_t need, size_t size);

/* vnet_grow0() - vnet_grow(), with the new elements zeroed; Return: 0 or -ENOMEM. */
int vnet_grow0(void **v, size_t *cap, size_t need, size_t size);

/**
 * vnet_push() - append one zeroed element to an array of @size-byte elements
 * @v: the array
 * @n: its count; one more on success
 * @cap: its capacity
 * @size: the size of one element
 *
 * Return: the new element, or NULL when out of memory (nothing changed).
 */
void *vnet_push(void **v, size_t *n, size_t *cap, size_t size);

/*
 * The same on anything with the fields v, n and cap, as VNET_ARRAY(type) has:
 * vnet_array_grow(&a, need) returns 0 or -ENOMEM; VNET_ARRAY_PUSH(&a) returns
 * a pointer to the new, zeroed element, or NULL. The cast to void ** is how a
 * typed array reaches one untyped grower (systemd's GREEDY_REALLOC does the same).
 */
#define vnet_array_grow(arr, need) \
	vnet_grow((void **)&(arr)->v, &(arr)->cap, (need), sizeof(*(arr)->v))
#define VNET_ARRAY_PUSH(arr) \
	vnet_push((void **)&(arr)->v, &(arr)->n, &(arr)->cap, sizeof(*(arr)->v))

/* A growable list of strings, each its own allocation. */
struct vnet_strv {
	char **v;
	size_t n, cap;
};

/* vnet_strv_add() - append a printf-made string; Return: 0 or -ENOMEM. */
int vnet_strv_add(struct vnet_strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* vnet_strv_free() - free the strings and the list, and empty it. */
void vnet_strv_free(struct vnet_strv *s);
/* vnet_str_cmp() - strcmp() of two char * elements, for qsort() and bsearch(). */
int vnet_str_cmp(const void *a, const void *b);

#endif
