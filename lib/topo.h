/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* topo.h - internal glue between the topology parser and the validator */
#ifndef VNET_TOPO_H
#define VNET_TOPO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

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

/*
 * An index of array positions by hash: open addressing with linear probing.
 * The caller keeps the keys (the model's arrays, or its own) and says when
 * two are the same; it adds a key only after vnet_index_find() missed it, so
 * the index holds each key once, at its first position in the file. It turns
 * the "is this name already there?" scans of parse and validate into one
 * lookup each (issue 7: 100k nodes took 122 s). The hash has no secret seed:
 * the keys are the user's own file, whose worst case is only the user's wait.
 */
struct vnet_index {
	struct vnet_index_slot {
		uint32_t hash, pos1; /* pos1: the position + 1; 0 is an empty slot */
	} * slot;
	size_t cap, n; /* cap: 0 or a power of two */
};

#define VNET_HASH_INIT 2166136261U /* FNV-1a's offset basis */

/* vnet_hash() - FNV-1a of @len bytes at @p, continuing @h. Return: the hash. */
uint32_t vnet_hash(uint32_t h, const void *p, size_t len);

/* vnet_hash_str() - vnet_hash() of @s and its NUL, so "a","bc" and "ab","c" differ. */
uint32_t vnet_hash_str(uint32_t h, const char *s);

/**
 * vnet_index_find() - the position of a key already in @ix
 * @ix: the index
 * @hash: the key's hash
 * @same: whether the key at a position is the one looked for
 * @ctx: passed to @same
 *
 * Return: the position, or -1 when the key is not there.
 */
long vnet_index_find(const struct vnet_index *ix, uint32_t hash,
		     bool (*same)(const void *ctx, size_t pos), const void *ctx);

/**
 * vnet_index_add() - add position @pos under @hash (a key not there yet)
 * @ix: the index; grows to keep at most half of its slots full
 * @hash: the key's hash
 * @pos: the position, below UINT32_MAX
 *
 * Return: 0, or -ENOMEM.
 */
int vnet_index_add(struct vnet_index *ix, uint32_t hash, size_t pos);

/* vnet_index_free() - free the slots of @ix (not @ix) and empty it. */
void vnet_index_free(struct vnet_index *ix);

/*
 * vnet_topo_control() - where the first control character of @s is (C0, DEL, or a C1
 * code point in UTF-8), or its length when it has none.
 */
size_t vnet_topo_control(const char *s);

/* vnet_model_dup() - a copy of @m (without its private caches), or NULL. */
struct vnet_model *vnet_model_dup(const struct vnet_model *m);

/* The words of the kinds of link, as objects in messages ("bridge", "veth end", ...). */
const char *vnet_topo_kind_word(const struct vnet_kind *kind);

/* ---- hosts.c: one file over several hosts ---- */

/* vnet_hosts_resolve() - check a parsed file's hosts, and give each link its host (from its
 * node, its veth peer, its master or its parent). Return: 0 or -EINVAL. */
int vnet_hosts_resolve(struct vnet_model *m, const char *file, struct vnet_error *reterr);
/* What @host's part of a resolved multi-host model keeps. */
bool vnet_hosts_keeps_ns(const struct vnet_model *m, const struct vnet_ns *n, const char *host);
bool vnet_hosts_keeps_link(const struct vnet_model *m, const struct vnet_link *l, const char *host);
bool vnet_hosts_keeps_on(const struct vnet_model *m, const char *ns, const char *dev,
			 const char *host);
bool vnet_hosts_keeps_node(const struct vnet_model *m, const char *node, const char *host);
/* vnet_hosts_check() - a check of @host's part (1), of another's (0), or -EINVAL. */
int vnet_hosts_check(const struct vnet_model *m, struct vnet_check *ck, const char *host,
		     const char *file, struct vnet_error *reterr);
/* vnet_hosts_here() - the host @want is the part of has its address on this machine (@have,
 * what vnet observes of it); Return: 0 or -EADDRNOTAVAIL. */
int vnet_hosts_here(const struct vnet_model *want, const struct vnet_model *have,
		    struct vnet_error *reterr);
/* vnet_hosts_derive() - add to @host's part what joins it to the others (its vxlans). */
int vnet_hosts_derive(struct vnet_model *m, const char *host);
/* vnet_hosts_vxlan_name() - the vxlan vnet derives for a bridge or network: "vx-NAME". */
void vnet_hosts_vxlan_name(const char *name, char buf[VNET_IFNAMSIZ]);
/* vnet_host_by_addr() - the host of @m whose underlay address is @addr, or NULL. */
const struct vnet_host *vnet_host_by_addr(const struct vnet_model *m, const uint8_t addr[4]);
/* vnet_model_reindex() - the links were moved: forget the lookup index. */
void vnet_model_reindex(struct vnet_model *m);

#endif /* VNET_TOPO_H */
