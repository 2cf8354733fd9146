/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* topo.h - internal glue between the topology parser and the validator */
#ifndef VNET_TOPO_H
#define VNET_TOPO_H

#include <stdarg.h>

#include "vnet/vnet.h"

/*
 * Where the parser saw the tokens that cross-object rules may blame. The
 * model keeps one position per object (its key); a master or a gateway that
 * is wrong is better shown at its own token. Each array runs parallel to the
 * model array of the same name; any of them may be NULL, and a zero position
 * falls back to the object's own.
 */
struct vnet_link_mark {
	struct vnet_pos master; /* the value of "master" */
	const char *written; /* the name as the file wrote it ("c1/eth0") */
};

struct vnet_route_mark {
	struct vnet_pos gw, dev; /* the words after "via" and "dev" */
	const char *text; /* the route string as written */
};

struct vnet_ns_mark {
	struct vnet_pos netns; /* the value of "netns" */
};

struct vnet_check_mark {
	struct vnet_pos from, to; /* the values of "from" and "to" */
};

struct vnet_topo_marks {
	const struct vnet_link_mark *links;
	const struct vnet_route_mark *routes;
	const struct vnet_ns_mark *ns;
	const struct vnet_check_mark *checks;
};

/**
 * vnet_topo_validate_marks() - vnet_topo_validate() with the parser's token positions
 * @m: the model
 * @mk: positions of tokens inside objects, or NULL
 * @reterr: the first error, or NULL
 *
 * Return: 0, or -EINVAL with @reterr filled.
 */
int vnet_topo_validate_marks(const struct vnet_model *m, const struct vnet_topo_marks *mk,
			     struct vnet_error *reterr);

/**
 * vnet_topo_suggest() - the valid word nearest to a mistyped one
 * @word: what the file says
 * @valid: the words allowed there, NULL-terminated
 *
 * Return: the nearest word by edit distance when it is close enough to be a
 * likely typo, else NULL.
 */
const char *vnet_topo_suggest(const char *word, const char *const *valid);

/**
 * vnet_topo_error() - fill @e with a topology error at a position of @file
 * @e: the error, or NULL
 * @file: the file name as given
 * @pos: line and column (0 when unknown)
 * @object: the object concerned, or NULL
 * @fmt: printf-style message
 *
 * Return: -EINVAL, for use in return statements.
 */
int vnet_topo_error(struct vnet_error *e, const char *file, struct vnet_pos pos, const char *object,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* vnet_topo_verror() - vnet_topo_error() with a va_list. Return: -EINVAL. */
int vnet_topo_verror(struct vnet_error *e, const char *file, struct vnet_pos pos,
		     const char *object, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* The words of the kinds of link, as objects in messages ("bridge", "veth end", ...). */
const char *vnet_topo_kind_word(enum vnet_link_kind kind);

#endif /* VNET_TOPO_H */
