/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8.h - where names from the kernel (any bytes) meet formats that want UTF-8 */
#ifndef VNET_UTF8_H
#define VNET_UTF8_H

#include <stddef.h>

/* U+FFFD, the replacement character, in UTF-8: what stands for a byte that is not text. */
#define VNET_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * vnet_utf8_seq() - the length of the valid UTF-8 sequence at @p, or 0 (an overlong form,
 * a surrogate, beyond U+10FFFF, or cut short). @p is NUL-terminated: never read past.
 */
static inline size_t vnet_utf8_seq(const unsigned char *p)
{
	unsigned c = p[0], cp, min;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

#endif /* VNET_UTF8_H */
