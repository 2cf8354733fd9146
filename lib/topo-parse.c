// SPDX-License-Identifier: LGPL-2.1-or-later
/* topo-parse.c - topology files: libyaml events to a node tree to the desired model */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "array.h"
#include "kind.h"
#include "network.h"
#include "topo.h"
#include "vnet/tunnel.h"

#define MAX_DEPTH 32 /* deeper than any topology; bounds the recursion */
#define MAX_FILE (16U << 20) /* a topology file larger than this is a mistake */
#define MAX_ROUTE_WORDS 16 /* "DEST via GW dev IF metric N" is 7 */
#define NAME_MAX_LEN 32 /* topology and node names */
#define NS_MAX_LEN (VNET_NAMSIZ - 1) /* namespace names */
#define FIRST_SECTIONS \
	4 /* hosts, nodes, networks, containers: read first, the rest refers to them */

/* ---- the node tree: one item of a section at a time, with the marks of every node ---- */

enum ytype { Y_SCALAR, Y_MAP, Y_SEQ };

/*
 * One YAML node. A map keeps its keys and values alternating in @kids, in file
 * order, so that the first error of a file is the first one met reading it.
 * A "shallow" node has its type and position but not its children: what an
 * error about a value of the wrong type needs.
 */
struct ynode {
	enum ytype type;
	struct vnet_pos pos;
	char *str; /* scalar text */
	bool plain; /* plain style: may be null */
	bool quoted; /* single or double quoted: the text starts one column later */
	bool oneline; /* the scalar ends on the line it starts on */
	struct ynode **kids;
	size_t n, cap;
};

/* Strings that outlive the item they come from: the marks point at them until validation. */
struct strblock {
	struct strblock *next;
	size_t len, cap;
	char text[];
};

/* What the first pass keeps of the top level, for the conversion that follows. */
struct top {
	bool doc; /* the file holds a document */
	struct ynode root; /* shallow */
	struct ynode bad_key; /* the first unknown top-level key; str NULL when none */
	struct ynode name; /* the value of "name", shallow; str NULL when absent */
	bool has_name, later_seen;
	/* a section of the second pass comes before one of the first (nodes, networks,
	 * containers), whose errors come first */
	bool before_nodes;
	const char *cur; /* the top-level key whose value is being read */
};

/* Everything the parser carries: input, output, the marks for the validator. */
struct pctx {
	const char *file;
	const char *text;
	size_t len;
	struct vnet_error *err;
	struct vnet_model *m;
	yaml_parser_t yp;
	bool yp_open;
	struct strblock *strs;
	struct vnet_index nodes; /* node name -> namespace position */
	struct vnet_link_mark *lm;
	struct vnet_route_mark *rm;
	struct vnet_ns_mark *nm;
	struct vnet_check_mark *cm;
	size_t lm_cap, rm_cap, nm_cap, cm_cap;
};

static int perr(struct pctx *p, struct vnet_pos pos, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(struct pctx *p, struct vnet_pos pos, const char *object, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnet_topo_verror(p->err, p->file, pos, object, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int enomem(struct pctx *p)
{
	vnet_error_set(p->err, -ENOMEM, NULL, NULL, "out of memory");
	return -ENOMEM;
}

/* A copy of @s that lives as long as the parse; NULL when out of memory. */
static const char *keep(struct pctx *p, const char *s)
{
	size_t n = strlen(s) + 1;
	struct strblock *b = p->strs;
	char *ret;

	if (!b || b->cap - b->len < n) {
		size_t cap = n > 65536 ? n : 65536;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		*b = (struct strblock){ .next = p->strs, .cap = cap };
		p->strs = b;
	}
	ret = memcpy(b->text + b->len, s, n);
	b->len += n;
	return ret;
}

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static struct vnet_pos mark_pos(yaml_mark_t mk)
{
	return (struct vnet_pos){ (unsigned)mk.line + 1, (unsigned)mk.column + 1 };
}

/* libyaml's problem text and mark, as one error. */
static int yaml_problem(struct pctx *p)
{
	const yaml_parser_t *y = &p->yp;
	const char *problem = y->problem ? y->problem : "YAML error";

	if (y->error == YAML_MEMORY_ERROR)
		return enomem(p);
	if (y->error == YAML_READER_ERROR)
		return perr(p, (struct vnet_pos){ 0, 0 }, NULL, "%s at byte %zu", problem,
			    y->problem_offset);
	if (y->context)
		return perr(p, mark_pos(y->problem_mark), NULL, "%s (%s at line %zu)", problem,
			    y->context, y->context_mark.line + 1);
	return perr(p, mark_pos(y->problem_mark), NULL, "%s", problem);
}

static int next_event(struct pctx *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->yp, ev))
		return yaml_problem(p);
	return 0;
}

static bool is_end(const yaml_event_t *ev)
{
	return ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT;
}

/* Type, position and style of the node that event @ev starts; the text of a scalar. */
static int shallow(struct pctx *p, const yaml_event_t *ev, struct ynode *n)
{
	*n = (struct ynode){ .pos = mark_pos(ev->start_mark) };
	if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT) {
		n->type = ev->type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
		return 0;
	}
	n->type = Y_SCALAR;
	n->str = strdup(ev->type == YAML_SCALAR_EVENT ? (const char *)ev->data.scalar.value : "");
	n->plain = ev->type == YAML_SCALAR_EVENT &&
		   ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->quoted = ev->type == YAML_SCALAR_EVENT &&
		    (ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		     ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	n->oneline = ev->end_mark.line == ev->start_mark.line;
	return n->str ? 0 : enomem(p);
}

/* ---- the first pass: all of the YAML checked, nothing of it kept ---- */

/*
 * The keys of one map, to refuse a key given twice (libyaml lets it through).
 * A hash of the keys rather than a comparison of every pair: a map of 100k
 * nodes took minutes. The keys are copied because the pass keeps no tree.
 */
struct keyset {
	struct vnet_index ix;
	char *text; /* the keys, each NUL-terminated */
	size_t len, cap;
	struct key {
		size_t off;
		unsigned line;
	} * k;
	size_t n, kcap;
};

static bool key_same(const void *ctx, size_t pos)
{
	const struct keyset *ks = ctx;

	return !strcmp(ks->text + ks->k[pos].off, ks->text + ks->len);
}

/* Add key @s of line @line; Return: 0, -EEXIST with *ret_line its first line, -ENOMEM. */
static int keyset_add(struct keyset *ks, const char *s, unsigned line, unsigned *ret_line)
{
	size_t n = strlen(s) + 1;
	uint32_t h = vnet_hash_str(VNET_HASH_INIT, s);
	long at;

	if (vnet_grow((void **)&ks->text, &ks->cap, ks->len + n, 1) < 0 ||
	    vnet_grow((void **)&ks->k, &ks->kcap, ks->n + 1, sizeof(*ks->k)) < 0)
		return -ENOMEM;
	memcpy(ks->text + ks->len, s, n); /* at the end, uncounted, for key_same() */
	at = vnet_index_find(&ks->ix, h, key_same, ks);
	if (at >= 0) {
		*ret_line = ks->k[at].line;
		return -EEXIST;
	}
	if (vnet_index_add(&ks->ix, h, ks->n) < 0)
		return -ENOMEM;
	ks->k[ks->n++] = (struct key){ ks->len, line };
	ks->len += n;
	return 0;
}

static void keyset_free(struct keyset *ks)
{
	vnet_index_free(&ks->ix);
	free(ks->text);
	free(ks->k);
}

static void make_top_keys(const char **keys);
#define MAX_TOP_KEYS 40

static int scan_node(struct pctx *p, yaml_event_t *ev, int depth, struct top *top);

/* What the top level needs to know of key @k: unknown, "name", the order of the sections. */
static int top_key(struct pctx *p, const struct ynode *k, struct top *top)
{
	const char *top_keys[MAX_TOP_KEYS];
	size_t i;

	make_top_keys(top_keys);
	for (i = 0; top_keys[i] && strcmp(top_keys[i], k->str); i++)
		;
	top->cur = top_keys[i];
	if (!top_keys[i] && !top->bad_key.str) {
		top->bad_key = *k;
		top->bad_key.str = strdup(k->str);
		if (!top->bad_key.str)
			return enomem(p);
	}
	/* top_keys: "name", then the sections, the first pass's first */
	if (top_keys[i] && i >= 1 && i <= FIRST_SECTIONS && top->later_seen)
		top->before_nodes = true;
	else if (top_keys[i] && i > FIRST_SECTIONS)
		top->later_seen = true;
	return 0;
}

/* A key of a map: a string, not given before in the map. */
static int scan_key(struct pctx *p, yaml_event_t *ev, int depth, struct keyset *ks, struct top *top)
{
	struct ynode k;
	unsigned first = 0;
	int r;

	if (ev->type != YAML_SCALAR_EVENT) {
		/*
		 * A key must be a string: every reader of the tree takes a key's ->str, which
		 * a map or list key ("{}: x", "? [a]: x", "!:{}: x") does not have (found by
		 * fuzzing: a NULL dereference in parse_ifref()).
		 */
		struct vnet_pos at = mark_pos(ev->start_mark);
		bool map = ev->type == YAML_MAPPING_START_EVENT;

		r = scan_node(p, ev, depth + 1, NULL);
		return r < 0 ? r :
			       perr(p, at, NULL, "expected a string for a key, got %s",
				    map ? "a map" : "a list");
	}
	r = shallow(p, ev, &k);
	yaml_event_delete(ev);
	if (!r)
		r = keyset_add(ks, k.str, k.pos.line, &first);
	if (r == -EEXIST)
		r = perr(p, k.pos, NULL, "duplicate key \"%s\" (first at line %u)", k.str, first);
	else if (r == -ENOMEM)
		r = enomem(p);
	if (!r && top)
		r = top_key(p, &k, top);
	free(k.str);
	return r;
}

/* A value in a map or a list; the top level's "name" is noted on the way. */
static int scan_value(struct pctx *p, yaml_event_t *ev, int depth, struct top *top)
{
	if (top && top->cur && !strcmp(top->cur, "name")) {
		int r = shallow(p, ev, &top->name);

		top->has_name = true;
		if (r < 0) {
			yaml_event_delete(ev);
			return r;
		}
	}
	return scan_node(p, ev, depth + 1, NULL);
}

/* The children of a map or list, up to its end event. */
static int scan_children(struct pctx *p, bool map, int depth, struct top *top)
{
	struct keyset ks = { 0 };
	yaml_event_t ev;
	bool key = map;
	int r;

	for (;;) {
		r = next_event(p, &ev);
		if (r < 0 || is_end(&ev))
			break;
		if (key)
			r = scan_key(p, &ev, depth, &ks, top);
		else
			r = scan_value(p, &ev, depth, top);
		if (r < 0)
			break;
		key = map && !key;
	}
	if (r >= 0)
		yaml_event_delete(&ev);
	keyset_free(&ks);
	return r;
}

/* One node from its first event @ev (consumed): aliases and depth refused, keys checked. */
static int scan_node(struct pctx *p, yaml_event_t *ev, int depth, struct top *top)
{
	struct vnet_pos at = mark_pos(ev->start_mark);
	yaml_event_type_t type = ev->type;

	yaml_event_delete(ev);
	if (type == YAML_ALIAS_EVENT)
		return perr(p, at, NULL, "YAML aliases are not supported");
	if (depth > MAX_DEPTH)
		return perr(p, at, NULL, "nesting deeper than %d levels", MAX_DEPTH);
	if (type != YAML_MAPPING_START_EVENT && type != YAML_SEQUENCE_START_EVENT)
		return 0;
	return scan_children(p, type == YAML_MAPPING_START_EVENT, depth, top);
}

/* (Re)start libyaml at the beginning of the text: each pass reads it anew. */
static int open_parser(struct pctx *p)
{
	if (p->yp_open)
		yaml_parser_delete(&p->yp);
	p->yp_open = yaml_parser_initialize(&p->yp);
	if (!p->yp_open)
		return enomem(p);
	yaml_parser_set_input_string(&p->yp, (const unsigned char *)p->text, p->len);
	return 0;
}

/* Expect an event of @type and drop it. */
static int expect_event(struct pctx *p, yaml_event_type_t type)
{
	yaml_event_t ev;
	int r = next_event(p, &ev);

	if (r < 0)
		return r;
	if (ev.type != type) {
		struct vnet_pos at = mark_pos(ev.start_mark);

		yaml_event_delete(&ev);
		return perr(p, at, NULL, "a topology file holds exactly one YAML document");
	}
	yaml_event_delete(&ev);
	return 0;
}

/*
 * The first pass: the whole file through libyaml, every YAML error found in file
 * order, and the top level noted. It keeps no tree: a 16 MB list of names used to
 * become 870 MB of nodes before the first of them was found wrong.
 */
static int scan_file(struct pctx *p, struct top *top)
{
	yaml_event_t ev;
	bool end;
	int r = open_parser(p);

	if (!r)
		r = expect_event(p, YAML_STREAM_START_EVENT);
	if (!r)
		r = next_event(p, &ev);
	if (r)
		return r;
	end = ev.type == YAML_STREAM_END_EVENT;
	yaml_event_delete(&ev); /* DOCUMENT-START or STREAM-END: the only events allowed here */
	if (end)
		return 0;
	top->doc = true;
	r = next_event(p, &ev);
	if (!r)
		r = shallow(p, &ev, &top->root);
	if (!r)
		r = scan_node(p, &ev, 0, top->root.type == Y_MAP ? top : NULL);
	else
		yaml_event_delete(&ev);
	if (!r)
		r = expect_event(p, YAML_DOCUMENT_END_EVENT);
	if (!r)
		r = expect_event(p, YAML_STREAM_END_EVENT);
	return r;
}

/* ---- later passes: one item of a section at a time, as a tree ---- */

static int add_kid(struct pctx *p, struct ynode *n, struct ynode *kid)
{
	if (vnet_grow((void **)&n->kids, &n->cap, n->n + 1, sizeof(*n->kids)) < 0)
		return enomem(p);
	n->kids[n->n++] = kid;
	return 0;
}

static int build_node(struct pctx *p, yaml_event_t *ev, struct ynode **ret);

/* The children of a map or list, up to its end event; the first pass checked them. */
static int build_children(struct pctx *p, struct ynode *n)
{
	yaml_event_t ev;
	struct ynode *kid;
	int r;

	for (;;) {
		r = next_event(p, &ev);
		if (r < 0)
			return r;
		if (is_end(&ev)) {
			yaml_event_delete(&ev);
			return 0;
		}
		r = build_node(p, &ev, &kid);
		if (r < 0)
			return r;
		r = add_kid(p, n, kid);
		if (r < 0) {
			ynode_free(kid);
			return r;
		}
	}
}

/* One node from its first event @ev (consumed), and its children. */
static int build_node(struct pctx *p, yaml_event_t *ev, struct ynode **ret)
{
	struct ynode *n = calloc(1, sizeof(*n));
	int r = n ? shallow(p, ev, n) : enomem(p);

	yaml_event_delete(ev);
	if (!r && n->type != Y_SCALAR)
		r = build_children(p, n);
	if (r < 0) {
		ynode_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

/* Drop the events of the node that @ev starts (consumed). */
static int skip_node(struct pctx *p, yaml_event_t *ev)
{
	int depth = 0, r = 0;

	do {
		if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (is_end(ev))
			depth--;
		yaml_event_delete(ev);
		if (depth > 0)
			r = next_event(p, ev);
	} while (!r && depth > 0);
	return r;
}

/* A whole value that should be small (a name, a boolean): shallow when it is not a scalar. */
static int value_node(struct pctx *p, yaml_event_t *ev, struct ynode *ret)
{
	int r = shallow(p, ev, ret);

	if (r < 0) {
		yaml_event_delete(ev);
		return r;
	}
	return skip_node(p, ev);
}

/* ---- reading nodes ---- */

static bool is_null(const struct ynode *n)
{
	if (!n)
		return true;
	if (n->type != Y_SCALAR || !n->plain)
		return false;
	return !strcmp(n->str, "") || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

/* "a list", "a map", "null" or the quoted scalar: what was found instead. */
static void describe(const struct ynode *n, char *buf, size_t len)
{
	if (is_null(n))
		snprintf(buf, len, "null");
	else if (n->type == Y_MAP)
		snprintf(buf, len, "a map");
	else if (n->type == Y_SEQ)
		snprintf(buf, len, "a list");
	else
		snprintf(buf, len, "\"%.60s\"", n->str);
}

static int wrong_type(struct pctx *p, const struct ynode *n, const char *want, const char *what,
		      const char *object)
{
	char got[72];

	describe(n, got, sizeof(got));
	return perr(p, n->pos, object, "expected %s for \"%s\", got %s", want, what, got);
}

/* A map, or null standing for an empty one (*ret NULL then). */
static int want_map(struct pctx *p, const struct ynode *n, const char *what, const char *object)
{
	if (is_null(n) || n->type == Y_MAP)
		return 0;
	return wrong_type(p, n, "a map", what, object);
}

static int want_list(struct pctx *p, const struct ynode *n, const char *what, const char *object)
{
	if (is_null(n) || n->type == Y_SEQ)
		return 0;
	return wrong_type(p, n, "a list", what, object);
}

/* The value of option @k: a scalar that is not null. */
static int want_scalar(struct pctx *p, const struct ynode *k, const struct ynode *v,
		       const char *object)
{
	if (is_null(v)) /* no node at all, too */
		return perr(p, v ? v->pos : k->pos, object, "\"%s\" needs a value", k->str);
	if (v->type != Y_SCALAR || !v->str) /* every scalar has text; the analyzer wants it said */
		return wrong_type(p, v, "a value", k->str, object);
	return 0;
}

/* Key @k is not one of @valid: say so, with the nearest valid key. */
static int unknown_key(struct pctx *p, const struct ynode *k, const char *const *valid,
		       const char *object)
{
	const char *hint = vnet_topo_suggest(k->str, valid);

	if (hint)
		return perr(p, k->pos, object, "unknown key \"%s\" (did you mean \"%s\"?)", k->str,
			    hint);
	return perr(p, k->pos, object, "unknown key \"%s\"", k->str);
}

/* Every key of @map is a string from @valid. */
static int check_keys(struct pctx *p, const struct ynode *map, const char *const *valid,
		      const char *object)
{
	for (size_t i = 0; map && map->type == Y_MAP && i < map->n; i += 2) {
		const struct ynode *k = map->kids[i];
		size_t j;

		if (k->type != Y_SCALAR)
			return wrong_type(p, k, "a string", "key", object);
		for (j = 0; valid[j] && strcmp(valid[j], k->str); j++)
			;
		if (!valid[j])
			return unknown_key(p, k, valid, object);
	}
	return 0;
}

/* The value of @key in @map, and the key node in *retk; NULL when absent. */
static const struct ynode *lookup(const struct ynode *map, const char *key,
				  const struct ynode **retk)
{
	for (size_t i = 0; map && map->type == Y_MAP && i < map->n; i += 2)
		if (!strcmp(map->kids[i]->str, key)) {
			if (retk)
				*retk = map->kids[i];
			return map->kids[i + 1];
		}
	return NULL;
}

static int parse_bool(struct pctx *p, const struct ynode *k, const struct ynode *v,
		      const char *object, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	int r = want_scalar(p, k, v, object);

	if (r < 0 || !v) /* want_scalar() refuses a missing node; said for the analyzer */
		return r < 0 ? r : -EINVAL;
	for (size_t i = 0; yes[i]; i++) {
		if (!strcasecmp(v->str, yes[i]) || !strcasecmp(v->str, no[i])) {
			*ret = !strcasecmp(v->str, yes[i]);
			return 0;
		}
	}
	return perr(p, v->pos, object, "\"%s\" is not a boolean (true/false, yes/no, on/off)",
		    v->str);
}

/* A decimal integer in @min..@max. */
static int parse_uint(struct pctx *p, const struct ynode *k, const struct ynode *v,
		      const char *object, unsigned long long min, unsigned long long max,
		      unsigned long long *ret)
{
	unsigned long long x = 0;
	int r = want_scalar(p, k, v, object);
	size_t i;

	if (r < 0)
		return r;
	for (i = 0; isdigit((unsigned char)v->str[i]); i++)
		x = x > 1000000000000ULL ? x : x * 10 + (unsigned)(v->str[i] - '0');
	if (!i || v->str[i])
		return perr(p, v->pos, object, "%s \"%s\" is not an integer", k->str, v->str);
	if (x < min || x > max)
		return perr(p, v->pos, object, "%s %s is out of range %llu..%llu", k->str, v->str,
			    min, max);
	*ret = x;
	return 0;
}

/* "2", "2.5", "0.75": seconds with up to two decimals, in centiseconds. */
static bool seconds_to_cs(const char *s, unsigned long long *ret)
{
	unsigned long long x = 0;
	unsigned frac = 0, nfrac = 0;
	size_t i;

	for (i = 0; isdigit((unsigned char)s[i]) && i < 12; i++)
		x = x * 10 + (unsigned)(s[i] - '0');
	if (!i && s[i] != '.')
		return false;
	if (s[i] == '.') {
		for (i++; isdigit((unsigned char)s[i]); i++, nfrac++)
			if (nfrac < 2)
				frac = frac * 10 + (unsigned)(s[i] - '0');
		if (!nfrac)
			return false;
		if (nfrac == 1)
			frac *= 10;
	}
	*ret = x * 100 + frac;
	return !s[i];
}

/* ---- names ---- */

/* Topology and node names: 1-32 of [A-Za-z0-9_.-], starting with a letter or digit. */
static bool good_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int check_name(struct pctx *p, struct vnet_pos at, const char *what, const char *s,
		      const char *object)
{
	if (good_name(s, NAME_MAX_LEN))
		return 0;
	return perr(p, at, object,
		    "%s \"%s\" is not valid: 1-%d letters, digits, \"_\", \".\" or \"-\", "
		    "starting with a letter or digit",
		    what, s, NAME_MAX_LEN);
}

/* IFNAME: what the kernel's dev_valid_name() takes, and not "lo". */
static int check_ifname(struct pctx *p, struct vnet_pos at, const char *s, const char *object)
{
	const char *bad = strpbrk(s, "/: \t\n\r\f\v");

	if (!s[0])
		return perr(p, at, object, "interface name is empty");
	if (strlen(s) >= VNET_IFNAMSIZ)
		return perr(p, at, object, "interface name \"%s\" is longer than %d characters", s,
			    VNET_IFNAMSIZ - 1);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return perr(p, at, object, "interface name \"%s\" is not allowed", s);
	if (bad && (*bad == '/' || *bad == ':'))
		return perr(p, at, object, "interface name \"%s\" contains \"%c\"", s, *bad);
	if (bad)
		return perr(p, at, object, "interface name \"%s\" contains whitespace", s);
	/* the kernel's isspace() is Latin-1's: it refuses 0xa0 (no-break space) too */
	if (strchr(s, '\xa0'))
		return perr(p, at, object,
			    "interface name \"%s\" contains byte 0xa0, which the kernel takes for "
			    "whitespace",
			    s);
	/* the kernel takes them, but names are printed by vnet, ip and every log */
	if (s[vnet_topo_control(s)])
		return perr(p, at, object, "interface name \"%s\" contains a control character", s);
	if (!strcmp(s, "lo"))
		return perr(p, at, object,
			    "interface \"lo\" is not allowed: every namespace has its own");
	return 0;
}

/* A node looked up by name, for node_same(). */
struct node_key {
	const struct vnet_model *m;
	const char *node;
};

static bool node_same(const void *ctx, size_t pos)
{
	const struct node_key *k = ctx;

	return !strcmp(k->m->ns.v[pos].node, k->node);
}

/* Index node @pos by name: every interface names its node, and a scan per interface was
 * quadratic. */
static int index_node(struct pctx *p, size_t pos)
{
	return vnet_index_add(&p->nodes, vnet_hash_str(VNET_HASH_INIT, p->m->ns.v[pos].node), pos);
}

/* The namespace of a node given by name: *ret_ns is its name. */
static int node_ns(struct pctx *p, struct vnet_pos at, const char *node, const char *object,
		   const char **ret_ns)
{
	struct node_key k = { p->m, node };
	long i = vnet_index_find(&p->nodes, vnet_hash_str(VNET_HASH_INIT, node), node_same, &k);

	if (i < 0)
		return perr(p, at, object, "node \"%s\" is not declared under nodes", node);
	*ret_ns = p->m->ns.v[i].name;
	return 0;
}

/* "[NODE/]IFNAME" into a namespace name and an interface name. */
static int parse_ifref(struct pctx *p, const struct ynode *k, const char *object,
		       char ret_ns[VNET_NAMSIZ], char ret_name[VNET_IFNAMSIZ])
{
	const char *slash = strchr(k->str, '/');
	const char *name = slash ? slash + 1 : k->str;
	const char *ns = p->m->ns.v[0].name;
	char node[VNET_NAMSIZ];
	int r;

	if (slash) {
		snprintf(node, sizeof(node), "%.*s", (int)(slash - k->str), k->str);
		r = node_ns(p, k->pos, node, object, &ns);
		if (r < 0)
			return r;
	}
	r = check_ifname(p, k->pos, name, object);
	if (r < 0)
		return r;
	snprintf(ret_ns, VNET_NAMSIZ, "%s", ns);
	snprintf(ret_name, VNET_IFNAMSIZ, "%s", name);
	return 0;
}

/* ---- the model and the marks beside it ---- */

static struct vnet_ns *add_ns(struct pctx *p)
{
	struct vnet_ns *n = vnet_model_add_ns(p->m);

	if (!n || vnet_grow0((void **)&p->nm, &p->nm_cap, p->m->ns.n, sizeof(*p->nm)) < 0)
		return NULL;
	return n;
}

/* A new link: its index, or -ENOMEM. */
static long add_link(struct pctx *p)
{
	if (!vnet_model_add_link(p->m) ||
	    vnet_grow0((void **)&p->lm, &p->lm_cap, p->m->links.n, sizeof(*p->lm)) < 0)
		return enomem(p);
	return (long)p->m->links.n - 1;
}

static struct vnet_route *add_route(struct pctx *p)
{
	struct vnet_route *r = vnet_model_add_route(p->m);

	if (!r || vnet_grow0((void **)&p->rm, &p->rm_cap, p->m->routes.n, sizeof(*p->rm)) < 0)
		return NULL;
	return r;
}

/* ---- addresses ---- */

/* "ADDR/LEN" into family, bytes and prefix length; the text is kept for messages. */
static int parse_prefix(struct pctx *p, const struct ynode *v, const char *object, int *family,
			uint8_t addr[16], unsigned *plen)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(v->str, '/');
	unsigned long len = 0;
	size_t n = slash ? (size_t)(slash - v->str) : 0;
	size_t i;

	for (i = 1; slash && isdigit((unsigned char)slash[i]) && i < 5; i++)
		len = len * 10 + (unsigned long)(slash[i] - '0');
	if (!slash || i == 1 || slash[i] || n >= sizeof(ip))
		return perr(p, v->pos, object, "\"%s\" is not an IP address with a prefix length",
			    v->str);
	memcpy(ip, v->str, n);
	ip[n] = '\0';
	*family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, ip, addr) != 1)
		return perr(p, v->pos, object, "\"%s\" is not an IP address with a prefix length",
			    v->str);
	if (len > (*family == AF_INET ? 32U : 128U))
		return perr(p, v->pos, object, "prefix length %lu is too long for %s", len,
			    *family == AF_INET ? "IPv4" : "IPv6");
	*plen = (unsigned)len;
	return 0;
}

static int add_address(struct pctx *p, size_t li, const struct ynode *v, const char *object)
{
	const struct vnet_link *l; /* looked up after the array may have grown */
	struct vnet_addr *a;
	uint8_t bytes[16] = { 0 };
	unsigned plen = 0;
	int family, r;

	if (v->type != Y_SCALAR || is_null(v))
		return wrong_type(p, v, "an ADDR/PREFIXLEN string", "addresses", object);
	r = parse_prefix(p, v, object, &family, bytes, &plen);
	if (r < 0)
		return r;
	a = vnet_model_add_addr(p->m);
	if (!a)
		return enomem(p);
	l = &p->m->links.v[li];
	snprintf(a->ns, sizeof(a->ns), "%s", l->ns);
	snprintf(a->dev, sizeof(a->dev), "%s", l->name);
	a->family = family;
	memcpy(a->addr, bytes, sizeof(a->addr));
	a->prefixlen = (uint8_t)plen;
	a->pos = v->pos;
	return 0;
}

/* ---- interface options ---- */

/* One option being applied: the link, the key, its value, the object for messages. */
struct optarg {
	size_t li;
	const struct ynode *k, *v;
	const char *obj;
};

static struct vnet_link *arg_link(struct pctx *p, const struct optarg *a)
{
	return &p->m->links.v[a->li];
}

static int opt_addresses(struct pctx *p, const struct optarg *a)
{
	int r = 0;

	if (a->v->type != Y_SEQ)
		return add_address(p, a->li, a->v, a->obj);
	for (size_t i = 0; i < a->v->n && !r; i++)
		r = add_address(p, a->li, a->v->kids[i], a->obj);
	return r;
}

static int opt_mtu(struct pctx *p, const struct optarg *a)
{
	unsigned long long x;
	int r = parse_uint(p, a->k, a->v, a->obj, 68, 65535, &x); /* IPv4's minimum */

	if (r < 0)
		return r;
	arg_link(p, a)->mtu = (uint32_t)x;
	arg_link(p, a)->has |= VNET_LINK_HAS_MTU;
	return 0;
}

/* "xx:xx:xx:xx:xx:xx" in hex digits, and nothing more; Return: true with the bytes. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		char hex[3] = { s[0], s[0] ? s[1] : '\0', '\0' };

		if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]) ||
		    s[2] != (i < 5 ? ':' : '\0'))
			return false;
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	return true;
}

static int opt_mac(struct pctx *p, const struct optarg *a)
{
	struct vnet_link *l = arg_link(p, a);
	uint8_t b[6];
	int r = want_scalar(p, a->k, a->v, a->obj);

	if (r < 0)
		return r;
	if (!parse_mac(a->v->str, b))
		return perr(p, a->v->pos, a->obj, "\"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)",
			    a->v->str);
	if (b[0] & 1)
		return perr(p, a->v->pos, a->obj, "MAC address %s is multicast", a->v->str);
	if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
		return perr(p, a->v->pos, a->obj, "MAC address %s is all zero", a->v->str);
	memcpy(l->mac, b, sizeof(l->mac));
	l->has |= VNET_LINK_HAS_MAC;
	return 0;
}

static int opt_up(struct pctx *p, const struct optarg *a)
{
	return parse_bool(p, a->k, a->v, a->obj, &arg_link(p, a)->up);
}

static int opt_master(struct pctx *p, const struct optarg *a)
{
	int r = want_scalar(p, a->k, a->v, a->obj);

	if (!r)
		r = check_ifname(p, a->v->pos, a->v->str, a->obj);
	if (r < 0)
		return r;
	snprintf(arg_link(p, a)->master, VNET_IFNAMSIZ, "%s", a->v->str);
	p->lm[a->li].master = a->v->pos;
	return 0;
}

static int parse_ipv4(struct pctx *p, struct vnet_pos at, const char *s, const char *obj,
		      uint8_t ret[4]);

#define UPLINK_PROBE_MS 3000 /* the probe's budget when the file gives none */

/* probe: an IPv4 address, or a list of them. */
static int uplink_probe(struct pctx *p, const struct ynode *k, const struct ynode *v,
			const char *obj, struct vnet_uplink *u)
{
	size_t n = v && v->type == Y_SEQ ? v->n : 1;

	if (v && v->type == Y_MAP)
		return wrong_type(p, v, "an IPv4 address or a list of them", k->str, obj);
	if (n > VNET_PROBE_MAX)
		return perr(p, v->pos, obj, "probe lists %zu targets; at most %d", n,
			    VNET_PROBE_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct ynode *t = v && v->type == Y_SEQ ? v->kids[i] : v;
		int r = want_scalar(p, k, t, obj);

		if (r >= 0)
			r = parse_ipv4(p, t->pos, t->str, obj, u->probe[u->n_probe]);
		if (r < 0)
			return r;
		u->n_probe++;
	}
	return 0;
}

static int uplink_timeout(struct pctx *p, const struct ynode *k, const struct ynode *v,
			  const char *obj, struct vnet_uplink *u)
{
	unsigned long long cs;
	int r = want_scalar(p, k, v, obj);

	if (r < 0)
		return r;
	if (!seconds_to_cs(v->str, &cs) || cs < 10 || cs > 6000)
		return perr(p, v->pos, obj, "timeout \"%s\" is not a number of seconds in 0.1..60",
			    v->str);
	u->probe_ms = (uint32_t)cs * 10;
	return 0;
}

/* uplink: {nic: NAME, probe: [ADDR, ...], timeout: SECONDS, force: BOOL} */
static int uplink_map(struct pctx *p, const struct ynode *map, const char *obj,
		      struct vnet_uplink *u)
{
	static const char *const keys[] = { "nic", "probe", "timeout", "force", NULL };
	const struct ynode *k = NULL, *v;
	int r = check_keys(p, map, keys, obj);

	if (r < 0)
		return r;
	v = lookup(map, "nic", &k);
	if (!v)
		return perr(p, map->pos, obj, "uplink needs nic: the NIC the bridge takes over");
	r = want_scalar(p, k, v, obj);
	if (r >= 0)
		r = check_ifname(p, v->pos, v->str, obj);
	if (r < 0)
		return r;
	snprintf(u->nic, sizeof(u->nic), "%s", v->str);
	if (r >= 0 && (v = lookup(map, "probe", &k)) && !is_null(v))
		r = uplink_probe(p, k, v, obj, u);
	if (r >= 0 && (v = lookup(map, "timeout", &k)))
		r = uplink_timeout(p, k, v, obj, u);
	if (r >= 0 && (v = lookup(map, "force", &k)))
		r = parse_bool(p, k, v, obj, &u->force);
	return r;
}

/* A NIC vnet does not make, which the bridge takes over with all it carries. */
static int opt_uplink(struct pctx *p, const struct optarg *a)
{
	bool map = a->v && a->v->type == Y_MAP;
	const struct vnet_link *l;
	struct vnet_uplink *u;
	int r = map ? 0 : want_scalar(p, a->k, a->v, a->obj);

	if (r < 0 || !a->v) /* want_scalar() refuses a missing node; said for the analyzer */
		return r < 0 ? r : -EINVAL;
	if (!map && (r = check_ifname(p, a->v->pos, a->v->str, a->obj)) < 0)
		return r;
	u = vnet_model_add_uplink(p->m);
	if (!u)
		return enomem(p);
	l = arg_link(p, a);
	snprintf(u->ns, sizeof(u->ns), "%s", l->ns);
	snprintf(u->bridge, sizeof(u->bridge), "%s", l->name);
	u->probe_ms = UPLINK_PROBE_MS;
	u->pos = a->k->pos;
	if (map)
		return uplink_map(p, a->v, a->obj, u);
	snprintf(u->nic, sizeof(u->nic), "%s", a->v->str);
	return 0;
}

/* host: the host of a multi-host file the link is on (checked once every host is known) */
static int opt_host(struct pctx *p, const struct optarg *a)
{
	int r = want_scalar(p, a->k, a->v, a->obj);

	if (!r)
		snprintf(arg_link(p, a)->host, sizeof(arg_link(p, a)->host), "%s", a->v->str);
	return r;
}

/* The span of bridge @l, made on first use (by "hosts" or "vni", in either order). */
static struct vnet_span *span_of(struct pctx *p, const struct vnet_link *l, struct vnet_pos at)
{
	struct vnet_span *sp;

	for (size_t i = 0; i < p->m->spans.n; i++)
		if (!strcmp(p->m->spans.v[i].bridge, l->name))
			return &p->m->spans.v[i];
	sp = vnet_model_add_span(p->m);
	if (sp) {
		snprintf(sp->bridge, sizeof(sp->bridge), "%s", l->name);
		sp->pos = at;
	}
	return sp;
}

/* One host of a bridge's "hosts"; Return: its bit. */
static int span_host(struct pctx *p, const struct ynode *v, const char *obj, uint64_t *bits)
{
	const struct vnet_host *h;

	if (v->type != Y_SCALAR || is_null(v))
		return wrong_type(p, v, "a host's name", "hosts", obj);
	h = vnet_model_find_host(p->m, v->str);
	if (!h)
		return perr(p, v->pos, obj, "host \"%s\" is not one of the file's hosts", v->str);
	*bits |= 1ULL << (h - p->m->hosts.v);
	return 0;
}

/* hosts: [H, ...] or "all": the bridge spans these hosts, joined by a vxlan on each. */
static int opt_hosts(struct pctx *p, const struct optarg *a)
{
	struct vnet_span *sp = span_of(p, arg_link(p, a), a->k->pos);
	uint64_t bits = 0;
	int r = 0;

	if (!sp)
		return enomem(p);
	sp->pos = a->k->pos;
	if (a->v->type == Y_SCALAR && !strcmp(a->v->str, "all")) {
		sp->hosts = p->m->hosts.n >= 64 ? ~0ULL : (1ULL << p->m->hosts.n) - 1;
		return 0;
	}
	if (a->v->type != Y_SEQ)
		return wrong_type(p, a->v, "a list of hosts or \"all\"", "hosts", a->obj);
	for (size_t i = 0; !r && i < a->v->n; i++)
		r = span_host(p, a->v->kids[i], a->obj, &bits);
	p->m->spans.v[sp - p->m->spans.v].hosts = bits;
	return r;
}

/* vni: the VXLAN network identifier of a spanning bridge, instead of the derived one */
static int opt_vni(struct pctx *p, const struct optarg *a)
{
	unsigned long long x;
	int r = parse_uint(p, a->k, a->v, a->obj, 1, 16777215, &x);
	struct vnet_span *sp = r < 0 ? NULL : span_of(p, arg_link(p, a), a->k->pos);

	if (r < 0)
		return r;
	if (!sp)
		return enomem(p);
	sp->vni = (uint32_t)x;
	return 0;
}

/* "[node/]name": the link this one lives on; in the link's own node when no node is given. */
static int opt_parent(struct pctx *p, const struct optarg *a)
{
	struct vnet_link *l = arg_link(p, a);
	int r = want_scalar(p, a->k, a->v, a->obj);

	if (!r)
		r = parse_ifref(p, a->v, a->obj, l->parent_ns, l->parent);
	if (r < 0)
		return r;
	if (!strchr(a->v->str, '/'))
		snprintf(l->parent_ns, sizeof(l->parent_ns), "%s", l->ns);
	return 0;
}

/* Bridge times: seconds in the file, centiseconds in the model (the kernel's unit). */
static int value_seconds(struct pctx *p, const struct optarg *a, const struct vnet_opt *o,
			 uint32_t *ret)
{
	unsigned long long cs;
	bool zero = o->flags & VNET_OPT_F_ZERO;

	if (!seconds_to_cs(a->v->str, &cs))
		return perr(p, a->v->pos, a->obj, "%s \"%s\" is not a number of seconds", a->k->str,
			    a->v->str);
	if ((cs < o->min || cs > o->max) && !(zero && cs == 0))
		return perr(p, a->v->pos, a->obj, "%s %s is out of range %s%u..%u seconds",
			    a->k->str, a->v->str, zero ? "0 or " : "", o->min / 100, o->max / 100);
	*ret = (uint32_t)cs;
	return 0;
}

/* A user or group id: a number, or a name looked up in the system's databases. */
static int value_id(struct pctx *p, const struct optarg *a, bool user, uint32_t *ret)
{
	char buf[4096];
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	const char *s = a->v->str;
	unsigned long long x;
	int r;

	if (isdigit((unsigned char)s[0])) {
		r = parse_uint(p, a->k, a->v, a->obj, 0, 4294967294ULL, &x);
		*ret = (uint32_t)x;
		return r;
	}
	if (user && !getpwnam_r(s, &pw, buf, sizeof(buf), &pwr) && pwr) {
		*ret = pwr->pw_uid;
		return 0;
	}
	if (!user && !getgrnam_r(s, &gr, buf, sizeof(buf), &grr) && grr) {
		*ret = grr->gr_gid;
		return 0;
	}
	return perr(p, a->v->pos, a->obj, "%s \"%s\" does not exist", user ? "user" : "group", s);
}

/* One of the option's words, with the nearest offered for a typo. */
static int value_word(struct pctx *p, const struct optarg *a, const struct vnet_opt *o,
		      uint32_t *ret)
{
	const char *words[VNET_OPT_MAX + 1], *near;
	char list[256];
	size_t off = 0;

	if (!vnet_opt_word(o, a->v->str, ret))
		return 0;
	vnet_opt_words(o, words, sizeof(words) / sizeof(words[0]));
	near = vnet_topo_suggest(a->v->str, words);
	list[0] = '\0';
	for (size_t i = 0; words[i] && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
					words[i]);
	if (near)
		return perr(p, a->v->pos, a->obj,
			    "%s \"%s\" is not one of %s; did you mean \"%s\"?", a->k->str,
			    a->v->str, list, near);
	return perr(p, a->v->pos, a->obj, "%s \"%s\" is not one of %s", a->k->str, a->v->str, list);
}

/* The value of option @o of a kind's table, by its type. */
static int opt_value(struct pctx *p, const struct optarg *a, const struct vnet_opt *o,
		     uint32_t *ret)
{
	unsigned long long x = 0;
	bool b = false;
	int r = o->type == VNET_OPT_BOOL ? 0 : want_scalar(p, a->k, a->v, a->obj);

	if (r < 0)
		return r;
	switch (o->type) {
	case VNET_OPT_BOOL:
		r = parse_bool(p, a->k, a->v, a->obj, &b);
		*ret = b;
		return r;
	case VNET_OPT_SECONDS:
		return value_seconds(p, a, o, ret);
	case VNET_OPT_USER:
	case VNET_OPT_GROUP:
		return value_id(p, a, o->type == VNET_OPT_USER, ret);
	case VNET_OPT_WORD:
		return value_word(p, a, o, ret);
	case VNET_OPT_IPV4:
		return parse_ipv4(p, a->v->pos, a->v->str, a->obj, (uint8_t *)ret);
	default:
		r = parse_uint(p, a->k, a->v, a->obj, o->min, o->max, &x);
		*ret = (uint32_t)x;
		return r;
	}
}

/* Set option @i of table @s in @o from the file. */
static int set_opt(struct pctx *p, const struct optarg *a, const struct vnet_optset *s, int i,
		   struct vnet_opts *o)
{
	uint32_t v = 0;
	int r = opt_value(p, a, &s->v[i], &v);

	if (r < 0)
		return r;
	o->v[i] = v;
	o->has |= 1U << i;
	return 0;
}

/* The options every kind of link has; a kind refuses some (refuse()). */
/* peer: ADDR or ADDR:PORT */
static int tunnel_peer(struct pctx *p, const struct ynode *k, const struct ynode *v,
		       const char *obj, struct vnet_tunnel_decl *t)
{
	char addr[INET_ADDRSTRLEN + 8];
	const char *colon;
	unsigned long port = 0;
	char *end;
	int r = want_scalar(p, k, v, obj);

	if (r < 0 || !v) /* want_scalar() refuses a missing node; said for the analyzer */
		return r < 0 ? r : -EINVAL;
	colon = strchr(v->str, ':');
	snprintf(addr, sizeof(addr), "%.*s", colon ? (int)(colon - v->str) : (int)strlen(v->str),
		 v->str);
	if (colon) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (!isdigit((unsigned char)colon[1]) || *end || errno || !port || port > 65535)
			return perr(p, v->pos, obj,
				    "peer \"%s\" is not ADDR or ADDR:PORT (1..65535)", v->str);
	}
	r = parse_ipv4(p, v->pos, addr, obj, t->peer);
	t->peer_port = (uint16_t)port;
	return r;
}

/* The keys of a tunnel but peer. */
static int tunnel_keys(struct pctx *p, const struct ynode *map, const char *obj,
		       struct vnet_tunnel_decl *t)
{
	const struct ynode *k = NULL, *v;
	unsigned long long x;
	int r = 0;

	if ((v = lookup(map, "local", &k))) {
		r = want_scalar(p, k, v, obj);
		if (r >= 0 && v)
			r = parse_ipv4(p, v->pos, v->str, obj, t->local);
	}
	if (r >= 0 && (v = lookup(map, "port", &k)) &&
	    (r = parse_uint(p, k, v, obj, 1, 65535, &x)) >= 0)
		t->port = (uint16_t)x;
	if (r >= 0 && (v = lookup(map, "id", &k)) &&
	    (r = parse_uint(p, k, v, obj, 0, UINT32_MAX, &x)) >= 0)
		t->id = (uint32_t)x;
	if (r >= 0 && (v = lookup(map, "offload", &k)))
		r = parse_bool(p, k, v, obj, &t->offload);
	if (r >= 0 && (v = lookup(map, "queues", &k)) &&
	    (r = parse_uint(p, k, v, obj, 1, VNET_TUNNEL_QUEUES_MAX, &x)) >= 0)
		t->queues = (unsigned)x;
	return r;
}

/* tunnel: {peer: ADDR[:PORT], local: ADDR, port: PORT, id: N, offload: BOOL}: vnet up runs
 * `vnet tunnel` on the tun or tap (vnet-tunnel(7)). */
static int opt_tunnel(struct pctx *p, const struct optarg *a)
{
	static const char *const keys[] = {
		"peer", "local", "port", "id", "offload", "queues", NULL
	};
	const struct vnet_link *l = arg_link(p, a);
	const struct ynode *k = NULL, *v;
	struct vnet_tunnel_decl *t;
	int r;

	if (!a->v || a->v->type != Y_MAP)
		return a->v ? wrong_type(p, a->v, "a map", "tunnel", a->obj) :
			      perr(p, a->k->pos, a->obj, "tunnel needs a map with peer");
	r = check_keys(p, a->v, keys, a->obj);
	if (r < 0)
		return r;
	v = lookup(a->v, "peer", &k);
	if (!v)
		return perr(p, a->v->pos, a->obj,
			    "tunnel needs peer: the other end's IPv4 address[:port]");
	t = vnet_model_add_tunnel(p->m);
	if (!t)
		return enomem(p);
	*t = (struct vnet_tunnel_decl){ .tap = l->kind == &vnet_kind_tap,
					.port = VNET_TUNNEL_PORT,
					.id = 1,
					.offload = true,
					.queues = 1,
					.pos = a->k->pos };
	snprintf(t->ns, sizeof(t->ns), "%s", l->ns);
	snprintf(t->dev, sizeof(t->dev), "%s", l->name);
	r = tunnel_peer(p, k, v, a->obj, t);
	if (r >= 0)
		r = tunnel_keys(p, a->v, a->obj, t);
	if (r >= 0 && !t->peer_port)
		t->peer_port = t->port; /* both ends on one port, unless said */
	return r;
}

static const struct link_opt {
	const char *key;
	int (*fn)(struct pctx *p, const struct optarg *a);
} link_opts[] = {
	{ "addresses", opt_addresses },
	{ "mtu", opt_mtu },
	{ "mac", opt_mac },
	{ "up", opt_up },
	{ "master", opt_master },
	{ "parent", opt_parent },
	{ "uplink", opt_uplink },
	{ "host", opt_host },
	{ "hosts", opt_hosts },
	{ "vni", opt_vni },
	{ "tunnel", opt_tunnel },
};

#define N_LINK_OPTS (sizeof(link_opts) / sizeof(link_opts[0]))
#define MAX_KEYS (N_LINK_OPTS + 2 * (size_t)VNET_OPT_MAX + 1)

/* Does kind @k take common key @key? Only kinds that live on a parent have one. */
static bool takes(const struct vnet_kind *k, const char *key)
{
	if (!strcmp(key, "parent"))
		return k->flags & VNET_KIND_F_PARENT;
	if (!strcmp(key, "master"))
		return k->flags & VNET_KIND_F_PORT;
	if (!strcmp(key, "mac"))
		return k->flags & VNET_KIND_F_L2;
	if (!strcmp(key, "uplink") || !strcmp(key, "hosts") || !strcmp(key, "vni"))
		return k->flags & VNET_KIND_F_MASTER;
	if (!strcmp(key, "tunnel"))
		return k->flags & VNET_KIND_F_TUNNEL;
	return true;
}

/* The keys kind @k takes, as suggestions; those it refuses are not offered. */
static void kind_keys(const struct vnet_kind *k, const char **keys)
{
	const struct vnet_kind *m = vnet_kind_master();
	size_t n = 0;

	for (size_t i = 0; i < N_LINK_OPTS; i++)
		if (takes(k, link_opts[i].key))
			keys[n++] = link_opts[i].key;
	for (size_t i = 0; i < k->opts.n; i++)
		keys[n++] = k->opts.v[i].key;
	for (size_t i = 0; m && (k->flags & VNET_KIND_F_PORT) && i < m->port_opts.n; i++)
		keys[n++] = m->port_opts.v[i].key;
	keys[n] = NULL;
}

/* A key kind @k knows only to refuse, with its reason; Return: -EINVAL, or 0 if not one. */
static int refuse(struct pctx *p, const struct optarg *a, const struct vnet_kind *k)
{
	const struct vnet_kind *m = vnet_kind_master();
	const char *key = a->k->str;
	bool port = !strcmp(key, "master") || (m && vnet_opt_find(&m->port_opts, key) >= 0);

	if (port && !(k->flags & VNET_KIND_F_PORT) && k->not_port)
		return perr(p, a->k->pos, a->obj, "%s", k->not_port);
	if (!strcmp(key, "mac") && !(k->flags & VNET_KIND_F_L2) && k->no_mac)
		return perr(p, a->k->pos, a->obj, "%s", k->no_mac);
	if (!strcmp(key, "uplink") && !(k->flags & VNET_KIND_F_MASTER))
		return perr(p, a->k->pos, a->obj,
			    "only a bridge takes an uplink (a NIC it takes over as a port)");
	if (!strcmp(key, "tunnel") && !takes(k, key))
		return perr(p, a->k->pos, a->obj,
			    "only a tun or a tap takes a tunnel (vnet tunnel carries what it "
			    "reads to the peer)");
	return 0;
}

/*
 * One option of link @li: the kind's own (a bridge's "priority" is the bridge's), one
 * every link has, or one of a bridge port. Return: 1 for a port option, 0, or -errno.
 */
static int apply_option(struct pctx *p, const struct optarg *a, const struct vnet_kind *k)
{
	const struct vnet_kind *m = vnet_kind_master();
	struct vnet_link *l = arg_link(p, a);
	int i = vnet_opt_find(&k->opts, a->k->str), r;
	const char *keys[MAX_KEYS];

	if (i >= 0)
		return set_opt(p, a, &k->opts, i, &l->opts);
	for (size_t j = 0; j < N_LINK_OPTS; j++)
		if (!strcmp(link_opts[j].key, a->k->str) && takes(k, a->k->str))
			return link_opts[j].fn(p, a);
	i = m && (k->flags & VNET_KIND_F_PORT) ? vnet_opt_find(&m->port_opts, a->k->str) : -1;
	if (i >= 0) {
		r = set_opt(p, a, &m->port_opts, i, &l->port);
		return r < 0 ? r : 1;
	}
	r = refuse(p, a, k);
	if (r < 0)
		return r;
	kind_keys(k, keys); /* the suggestions, only for a key that is wrong */
	return unknown_key(p, a->k, keys, a->obj);
}

/* Apply the options of map @val to link @li, in file order, then its kind's defaults. */
static int apply_options(struct pctx *p, size_t li, const struct ynode *val, const char *obj)
{
	const struct vnet_kind *k = p->m->links.v[li].kind;
	const struct ynode *first_port = NULL;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < val->n; i += 2) {
		struct optarg a = { li, val->kids[i], val->kids[i + 1], obj };

		if (a.k->type != Y_SCALAR)
			return wrong_type(p, a.k, "a string", "key", obj);
		r = apply_option(p, &a, k);
		if (r == 1 && !first_port)
			first_port = a.k;
	}
	if (r >= 0 && first_port && !p->m->links.v[li].master[0])
		return perr(p, first_port->pos, obj,
			    "%s needs master: port options apply to bridge ports", first_port->str);
	return r < 0 ? r : 0;
}

/* What the file left out: the kind decides (bridge: STP's timers), else its table's defaults. */
static void kind_defaults(struct vnet_link *l)
{
	if (l->kind->finish)
		l->kind->finish(l);
	else
		vnet_opts_defaults(&l->kind->opts, &l->opts);
}

/* One interface: key "[node/]name", value null or its options. Return: its index. */
static long parse_iface(struct pctx *p, const struct vnet_kind *kind, const struct ynode *k,
			const struct ynode *v)
{
	char obj[96], ns[VNET_NAMSIZ], name[VNET_IFNAMSIZ];
	struct vnet_link *l;
	long li;
	int r;

	snprintf(obj, sizeof(obj), "%s %.60s", vnet_topo_kind_word(kind), k->str);
	r = parse_ifref(p, k, obj, ns, name);
	if (!r)
		r = want_map(p, v, k->str, obj);
	if (r < 0)
		return r;
	li = add_link(p);
	if (li < 0)
		return li;
	l = &p->m->links.v[li];
	snprintf(l->ns, sizeof(l->ns), "%s", ns);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->kind = kind;
	l->up = true;
	l->pos = k->pos;
	p->lm[li].written = keep(p, k->str);
	if (!p->lm[li].written)
		return enomem(p);
	r = is_null(v) ? 0 : apply_options(p, (size_t)li, v, obj);
	if (r < 0)
		return r;
	kind_defaults(&p->m->links.v[li]);
	return li;
}

/* One item of bridges, taps, tuns, ...: an interface. */
static int parse_iface_item(struct pctx *p, const struct vnet_kind *kind, const struct ynode *k,
			    const struct ynode *v)
{
	long li = parse_iface(p, kind, k, v);

	return li < 0 ? (int)li : 0;
}

static void set_peer(struct vnet_link *l, const struct vnet_link *peer)
{
	snprintf(l->peer, sizeof(l->peer), "%s", peer->name);
	snprintf(l->peer_ns, sizeof(l->peer_ns), "%s", peer->ns);
}

/* One item of a section of pairs (veths): a map with exactly two keys, the ends. */
static int parse_pair(struct pctx *p, const struct vnet_kind *kind, const struct ynode *item,
		      const struct ynode *unused)
{
	long a, b;

	(void)unused;
	if (item->type != Y_MAP)
		return wrong_type(p, item, "a map of two ends", kind->section, NULL);
	if (item->n != 4)
		return perr(p, item->pos, kind->name, "a %s needs exactly two ends, found %zu",
			    kind->name, item->n / 2);
	a = parse_iface(p, kind, item->kids[0], item->kids[1]);
	b = a < 0 ? a : parse_iface(p, kind, item->kids[2], item->kids[3]);
	if (b < 0)
		return (int)b;
	set_peer(&p->m->links.v[a], &p->m->links.v[b]);
	set_peer(&p->m->links.v[b], &p->m->links.v[a]);
	return 0;
}

/* ---- routes ---- */

/* A word of a route string and its column in the file. */
struct rword {
	char *s;
	struct vnet_pos pos;
};

/* What parsing one route string needs. */
struct rctx {
	struct vnet_route *r;
	struct vnet_route_mark *mk;
	const char *obj;
	int dst_family; /* AF_UNSPEC for "default": the gateway decides */
};

/* Split @buf (a copy of the string of @n) into words, each with its column. */
static size_t route_words(const struct ynode *n, char *buf, struct rword *w, size_t max)
{
	unsigned base = n->pos.col + (n->quoted ? 1 : 0);
	/* Columns are exact when the text is the token: one line, no escapes. */
	bool exact = n->oneline && !strchr(n->str, '\n') &&
		     (!n->quoted || !strpbrk(n->str, "\\'\""));
	size_t count = 0;

	for (char *s = buf; *s && count < max;) {
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		w[count].s = s;
		w[count].pos = n->pos;
		if (exact)
			w[count].pos.col = base + (unsigned)(s - buf);
		count++;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
	return count;
}

static int route_dest(struct pctx *p, struct rctx *rc, const struct rword *w)
{
	struct ynode tmp = { .type = Y_SCALAR, .pos = w->pos, .str = w->s };
	uint8_t masked[16];
	char net[INET6_ADDRSTRLEN];
	unsigned plen = 0;
	int r;

	if (!strcmp(w->s, "default") || !strcmp(w->s, "default6")) {
		rc->dst_family = w->s[7] ? AF_INET6 : AF_UNSPEC;
		return 0;
	}
	if (!strchr(w->s, '/'))
		return perr(p, w->pos, rc->obj, "\"%s\" is not default, default6 or a PREFIX/LEN",
			    w->s);
	r = parse_prefix(p, &tmp, rc->obj, &rc->dst_family, rc->r->dst, &plen);
	if (r < 0)
		return r;
	rc->r->dst_len = (uint8_t)plen;
	memset(masked, 0, sizeof(masked));
	memcpy(masked, rc->r->dst, plen / 8);
	if (plen % 8)
		masked[plen / 8] = rc->r->dst[plen / 8] & (uint8_t)(0xff << (8 - plen % 8));
	if (memcmp(masked, rc->r->dst, 16)) {
		inet_ntop(rc->dst_family, masked, net, sizeof(net));
		return perr(p, w->pos, rc->obj, "\"%s\" has host bits set (did you mean %s/%u?)",
			    w->s, net, plen);
	}
	return 0;
}

static int route_gw(struct pctx *p, struct rctx *rc, const struct rword *w)
{
	int family = strchr(w->s, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, w->s, rc->r->gw) != 1)
		return perr(p, w->pos, rc->obj, "\"%s\" is not an IP address", w->s);
	if (rc->dst_family != AF_UNSPEC && family != rc->dst_family)
		return perr(p, w->pos, rc->obj, "gateway %s is %s but the destination is %s", w->s,
			    family == AF_INET ? "IPv4" : "IPv6",
			    family == AF_INET ? "IPv6" : "IPv4");
	rc->dst_family = family;
	rc->r->has_gw = true;
	rc->mk->gw = w->pos;
	return 0;
}

static int route_metric(struct pctx *p, struct rctx *rc, const struct rword *w)
{
	struct ynode key = { .type = Y_SCALAR, .str = (char *)"metric" };
	struct ynode val = { .type = Y_SCALAR, .pos = w->pos, .str = w->s };
	unsigned long long x;
	int r = parse_uint(p, &key, &val, rc->obj, 0, 4294967295ULL, &x);

	if (!r)
		rc->r->metric = (uint32_t)x;
	return r;
}

static int route_dev(struct pctx *p, struct rctx *rc, const struct rword *w)
{
	int r = check_ifname(p, w->pos, w->s, rc->obj);

	if (!r) {
		snprintf(rc->r->dev, sizeof(rc->r->dev), "%s", w->s);
		rc->mk->dev = w->pos;
	}
	return r;
}

/* "via GW", "dev IF", "metric N", each once, after the destination. */
static int route_options(struct pctx *p, struct rctx *rc, const struct rword *w, size_t n)
{
	static const char *const kw[] = { "via", "dev", "metric", NULL };
	static const char *const need[] = { "a gateway address", "an interface name", "a number" };
	int (*const fn[])(struct pctx *, struct rctx *,
			  const struct rword *) = { route_gw, route_dev, route_metric };
	bool seen[3] = { false };
	size_t k;
	int r;

	for (size_t i = 1; i < n; i += 2) {
		for (k = 0; kw[k] && strcmp(kw[k], w[i].s); k++)
			;
		if (!kw[k] && vnet_topo_suggest(w[i].s, kw))
			return perr(p, w[i].pos, rc->obj,
				    "unknown word \"%s\" in route (did you mean \"%s\"?)", w[i].s,
				    vnet_topo_suggest(w[i].s, kw));
		if (!kw[k])
			return perr(p, w[i].pos, rc->obj,
				    "unknown word \"%s\" in route (expected via, dev or metric)",
				    w[i].s);
		if (seen[k])
			return perr(p, w[i].pos, rc->obj, "\"%s\" is given twice", kw[k]);
		if (i + 1 >= n)
			return perr(p, w[i].pos, rc->obj, "\"%s\" needs %s", kw[k], need[k]);
		seen[k] = true;
		r = fn[k](p, rc, &w[i + 1]);
		if (r < 0)
			return r;
	}
	if (!seen[0] && !seen[1])
		return perr(p, w[0].pos, rc->obj, "a route needs \"via\" or \"dev\"");
	return 0;
}

/* One route string of namespace @ns. */
static int parse_route(struct pctx *p, const char *ns, const struct ynode *n)
{
	char obj[96], *buf = NULL;
	struct rword w[MAX_ROUTE_WORDS];
	struct rctx rc = { 0 };
	size_t count;
	int r;

	if (n->type != Y_SCALAR || is_null(n))
		return wrong_type(p, n, "a route string", "routes", NULL);
	snprintf(obj, sizeof(obj), "route \"%.80s\"", n->str);
	rc.r = add_route(p);
	rc.mk = rc.r ? &p->rm[p->m->routes.n - 1] : NULL;
	if (rc.mk)
		rc.mk->text = keep(p, n->str);
	buf = strdup(n->str);
	if (!rc.mk || !rc.mk->text || !buf) {
		free(buf);
		return enomem(p);
	}
	rc.obj = obj;
	rc.r->pos = n->pos;
	snprintf(rc.r->ns, sizeof(rc.r->ns), "%s", ns);
	count = route_words(n, buf, w, MAX_ROUTE_WORDS);
	if (!count || count == MAX_ROUTE_WORDS)
		r = perr(p, n->pos, obj, "expected \"DEST [via GATEWAY] [dev IFNAME] [metric N]\"");
	else
		r = route_dest(p, &rc, &w[0]);
	if (!r)
		r = route_options(p, &rc, w, count);
	rc.r->family = rc.dst_family == AF_UNSPEC ? AF_INET : rc.dst_family;
	/* the kernel stores an IPv6 route of metric 0 with metric 1024 (IP6_RT_PRIO_USER):
	 * say so here, or every diff would see that route as different */
	if (rc.r->family == AF_INET6 && !rc.r->metric)
		rc.r->metric = 1024;
	free(buf);
	return r;
}

/* ---- hosts: the machines a multi-host file spans ---- */

static const char *const host_keys[] = { "address", "mtu", NULL };

/* One item of hosts: NAME: {address: IPV4, mtu: N}. */
static int parse_host_item(struct pctx *p, const struct vnet_kind *kind, const struct ynode *k,
			   const struct ynode *v)
{
	const struct ynode *ak = NULL, *av = lookup(v, "address", &ak), *mk = NULL, *mv;
	unsigned long long mtu = VNET_ETH_MTU;
	uint8_t addr[4];
	struct vnet_host *h;
	char obj[96];
	int r;

	(void)kind;
	snprintf(obj, sizeof(obj), "host %.60s", k->str);
	r = check_name(p, k->pos, "host name", k->str, obj);
	if (!r)
		r = want_map(p, v, k->str, obj);
	if (!r)
		r = check_keys(p, v, host_keys, obj);
	if (!r && vnet_model_find_host(p->m, k->str))
		r = perr(p, k->pos, obj, "host \"%s\" is given twice", k->str);
	if (!r && p->m->hosts.n >= VNET_HOST_MAX)
		r = perr(p, k->pos, obj, "a file spans at most %d hosts", VNET_HOST_MAX);
	if (!r && (!av || !ak))
		return perr(p, k->pos, obj, "a host needs \"address\", its underlay IPv4 address");
	if (!r)
		r = want_scalar(p, ak, av, obj) ?: parse_ipv4(p, av->pos, av->str, obj, addr);
	if (!r && (mv = lookup(v, "mtu", &mk)))
		r = parse_uint(p, mk, mv, obj, 68 + VNET_VXLAN_OVERHEAD, 65535, &mtu);
	if (r < 0)
		return r;
	h = vnet_model_add_host(p->m);
	if (!h)
		return enomem(p);
	snprintf(h->name, sizeof(h->name), "%s", k->str);
	memcpy(h->addr, addr, 4);
	h->mtu = (uint32_t)mtu;
	h->pos = k->pos;
	return 0;
}

/* ---- nodes and the topology name ---- */

static const char *const node_keys[] = { "netns", "routes", "host", NULL };

/* A node's netns override, or its namespace by the naming rule. */
static int node_namespace(struct pctx *p, const struct ynode *k, const struct ynode *v,
			  const char *obj, char ret[VNET_NAMSIZ])
{
	const struct ynode *nk = NULL, *nv = lookup(v, "netns", &nk);
	int r;

	if (nv && !strcmp(k->str, "host"))
		return perr(p, nk->pos, obj,
			    "\"netns\" is not allowed on host: it is vnet's own namespace");
	if (nv) {
		r = want_scalar(p, nk, nv, obj);
		if (!r && !good_name(nv->str, NS_MAX_LEN))
			r = perr(p, nv->pos, obj,
				 "namespace name \"%s\" is not valid: 1-%d letters, digits, "
				 "\"_\", \".\" or \"-\", starting with a letter or digit",
				 nv->str, NS_MAX_LEN);
		snprintf(ret, VNET_NAMSIZ, "%s", r ? "" : nv->str);
		return r;
	}
	if (strlen(p->m->name) + 1 + strlen(k->str) > NS_MAX_LEN)
		return perr(p, k->pos, obj,
			    "namespace name \"%s-%s\" would be longer than %d characters",
			    p->m->name, k->str, NS_MAX_LEN);
	vnet_node_ns_name(p->m->name, k->str, p->m->sandbox, ret, VNET_NAMSIZ);
	return 0;
}

/* A node (or a container) of @v, keys checked: its namespace, then its routes. */
static int add_node(struct pctx *p, const struct ynode *k, const struct ynode *v, const char *obj)
{
	char ns[VNET_NAMSIZ];
	const struct ynode *rk = NULL, *routes, *hk = NULL, *hv;
	struct vnet_ns *n;
	int r = node_namespace(p, k, v, obj, ns);

	if (r < 0)
		return r;
	n = strcmp(k->str, "host") ? add_ns(p) : &p->m->ns.v[0];
	if (!n)
		return enomem(p);
	snprintf(n->node, sizeof(n->node), "%s", k->str);
	if (strcmp(k->str, "host"))
		snprintf(n->name, sizeof(n->name), "%s", ns);
	else
		snprintf(ns, sizeof(ns), "%s", n->name);
	n->pos = k->pos;
	if (n != p->m->ns.v && index_node(p, (size_t)(n - p->m->ns.v)) < 0)
		return enomem(p);
	if (lookup(v, "netns", NULL))
		p->nm[n - p->m->ns.v].netns = lookup(v, "netns", NULL)->pos;
	if ((hv = lookup(v, "host", &hk))) {
		r = want_scalar(p, hk, hv, obj);
		if (r < 0)
			return r;
		if (n == p->m->ns.v)
			return perr(p, hk->pos, obj,
				    "the host part is on every host; put its links on one with "
				    "\"host:\"");
		snprintf(n->host, sizeof(n->host), "%s", hv->str);
	}
	routes = lookup(v, "routes", &rk);
	r = routes ? want_list(p, routes, "routes", obj) : 0;
	for (size_t i = 0; !r && routes && !is_null(routes) && i < routes->n; i++)
		r = parse_route(p, ns, routes->kids[i]);
	return r;
}

/* One node: a name, and a map of node_keys. */
static int parse_node(struct pctx *p, const struct ynode *k, const struct ynode *v)
{
	char obj[96];
	int r;

	snprintf(obj, sizeof(obj), "node %.60s", k->str);
	r = check_name(p, k->pos, "node name", k->str, obj);
	if (!r)
		r = want_map(p, v, k->str, obj);
	if (!r)
		r = check_keys(p, v, node_keys, obj);
	return r < 0 ? r : add_node(p, k, v, obj);
}

/* One item of nodes (@kind unused: the items of every section are read alike). */
static int parse_node_item(struct pctx *p, const struct vnet_kind *kind, const struct ynode *k,
			   const struct ynode *v)
{
	(void)kind;
	return parse_node(p, k, v);
}

/* ---- networks and containers: the Docker scenario (expanded in network.c) ---- */

static const char *const network_keys[] = { "subnet",  "gateway", "masquerade", "internal",
					    "connect", "hosts",	  NULL };
static const char *const container_keys[] = {
	"networks", "publish", "routes", "netns", "host", NULL
};

/* An IPv4 address alone; a loopback one is refused when !@loopback. */
static int parse_ipv4(struct pctx *p, struct vnet_pos at, const char *s, const char *obj,
		      uint8_t ret[4])
{
	if (inet_pton(AF_INET, s, ret) != 1)
		return perr(p, at, obj, "\"%s\" is not an IPv4 address", s);
	return 0;
}

static int network_subnet(struct pctx *p, const struct ynode *k, const struct ynode *v,
			  const char *obj, struct vnet_network *n)
{
	uint8_t a[16] = { 0 }, net[4];
	char txt[INET_ADDRSTRLEN];
	unsigned plen = 0;
	int family = AF_UNSPEC, r = want_scalar(p, k, v, obj);

	if (r < 0 || !v) /* want_scalar() refuses a missing node; said for the analyzer */
		return r < 0 ? r : -EINVAL;
	r = parse_prefix(p, v, obj, &family, a, &plen);
	if (r < 0)
		return r;
	if (family != AF_INET || plen < 8 || plen > 30)
		return perr(p, v->pos, obj,
			    "subnet \"%s\" is not an IPv4 subnet of /8 to /30 (vnet's NAT and IPAM "
			    "are IPv4)",
			    v->str);
	vnet_ip4_put(vnet_ip4(a) & vnet_ip4_mask(plen), net);
	if (memcmp(net, a, 4)) {
		inet_ntop(AF_INET, net, txt, sizeof(txt));
		return perr(p, v->pos, obj, "subnet \"%s\" has host bits set (did you mean %s/%u?)",
			    v->str, txt, plen);
	}
	memcpy(n->subnet, a, 4);
	n->prefixlen = (uint8_t)plen;
	return 0;
}

static int network_connect(struct pctx *p, const struct ynode *v, const char *obj, const char *name)
{
	int r = want_list(p, v, "connect", obj);

	for (size_t i = 0; !r && !is_null(v) && i < v->n; i++) {
		const struct ynode *o = v->kids[i];
		struct vnet_connect *c;

		if (o->type != Y_SCALAR || is_null(o))
			return wrong_type(p, o, "a network's name", "connect", obj);
		c = vnet_model_add_connect(p->m);
		if (!c)
			return enomem(p);
		snprintf(c->a, sizeof(c->a), "%s", name);
		snprintf(c->b, sizeof(c->b), "%.15s", o->str);
		c->pos = o->pos;
		if (strlen(o->str) >= VNET_IFNAMSIZ)
			r = perr(p, o->pos, obj, "network \"%s\" is not declared under networks",
				 o->str);
	}
	return r;
}

/* hosts: {HOST: SUBNET, ...}: a routed network's part on each host, checked in hosts.c. */
static int network_hosts(struct pctx *p, const struct ynode *k, const struct ynode *v,
			 const char *obj, const char *name)
{
	int r = v->type == Y_MAP ? 0 : wrong_type(p, v, "a map of hosts to subnets", k->str, obj);

	for (size_t i = 0; !r && i < v->n; i += 2) {
		struct vnet_network part = { 0 };
		struct vnet_host_subnet *hs;

		r = network_subnet(p, v->kids[i], v->kids[i + 1], obj, &part);
		hs = r < 0 ? NULL : vnet_model_add_subnet(p->m);
		if (r < 0)
			break;
		if (!hs)
			return enomem(p);
		snprintf(hs->network, sizeof(hs->network), "%s", name);
		snprintf(hs->host, sizeof(hs->host), "%s", v->kids[i]->str);
		memcpy(hs->subnet, part.subnet, 4);
		hs->prefixlen = part.prefixlen;
		hs->pos = v->kids[i]->pos;
	}
	return r;
}

/* The options of network @n other than its subnet. */
static int network_options(struct pctx *p, const struct ynode *v, const char *obj,
			   struct vnet_network *n)
{
	const struct ynode *k = NULL, *o;
	bool masq_said = false;
	int r = 0;

	if ((o = lookup(v, "gateway", &k)))
		r = want_scalar(p, k, o, obj) ?: parse_ipv4(p, o->pos, o->str, obj, n->gateway);
	if (!r && (o = lookup(v, "internal", &k)))
		r = parse_bool(p, k, o, obj, &n->internal);
	if (!r && (o = lookup(v, "masquerade", &k))) {
		r = parse_bool(p, k, o, obj, &n->masquerade);
		masq_said = true;
	}
	if (!r && n->internal && masq_said && n->masquerade)
		return perr(p, k->pos, obj, "an internal network has no way out to masquerade");
	if (!r && n->internal)
		n->masquerade = false;
	if (!r && (o = lookup(v, "connect", &k)))
		r = network_connect(p, o, obj, n->name);
	if (!r && (o = lookup(v, "hosts", &k)))
		r = network_hosts(p, k, o, obj, n->name);
	return r;
}

/* One item of networks: NAME: {subnet, gateway, masquerade, internal, connect, hosts}. */
static int parse_network_item(struct pctx *p, const struct vnet_kind *kind, const struct ynode *k,
			      const struct ynode *v)
{
	const struct ynode *sk = NULL, *sv = lookup(v, "subnet", &sk);
	struct vnet_network *n;
	char obj[96];
	int r;

	(void)kind;
	snprintf(obj, sizeof(obj), "network %.60s", k->str);
	r = check_ifname(p, k->pos, k->str, obj);
	if (!r)
		r = want_map(p, v, k->str, obj);
	if (!r)
		r = check_keys(p, v, network_keys, obj);
	if (!r && !sv)
		r = perr(p, k->pos, obj, "a network needs \"subnet\" (an IPv4 PREFIX/LEN)");
	if (r < 0)
		return r;
	n = vnet_model_add_network(p->m);
	if (!n)
		return enomem(p);
	snprintf(n->name, sizeof(n->name), "%s", k->str);
	n->pos = k->pos;
	n->masquerade = true;
	r = network_subnet(p, sk, sv, obj, n);
	/* looked up again: the connects may grow other arrays, never this one */
	return r ? r : network_options(p, v, obj, &p->m->networks.v[p->m->networks.n - 1]);
}

/* "N" or "N-M" into a first port and a count; Return: 0 or -EINVAL. */
static int port_range(struct pctx *p, struct vnet_pos at, const char *s, const char *obj,
		      uint16_t *ret_first, uint32_t *ret_n)
{
	unsigned long a, b;
	char *end = NULL;

	if (!isdigit((unsigned char)s[0]))
		return perr(p, at, obj, "\"%s\" is not a port or a range of ports (N or N-M)", s);
	a = strtoul(s, &end, 10);
	if (*end && *end != '-')
		return perr(p, at, obj, "\"%s\" is not a port or a range of ports (N or N-M)", s);
	b = a;
	if (*end == '-') {
		const char *m = end + 1;

		if (!isdigit((unsigned char)*m) || (b = strtoul(m, &end, 10), *end))
			return perr(p, at, obj,
				    "\"%s\" is not a port or a range of ports (N or N-M)", s);
	}
	if (!a || a > 65535 || b > 65535 || b < a)
		return perr(p, at, obj,
			    "\"%s\" is not a port in 1..65535, or a range of them low to high", s);
	*ret_first = (uint16_t)a;
	*ret_n = (uint32_t)(b - a + 1);
	return 0;
}

/* What one publish string says: the protocol, the host address, the two ranges. */
struct publish {
	struct vnet_port p;
	uint32_t n;
};

/* "[HOST_ADDR:]HOST_PORTS:PORTS[/tcp|/udp]" */
static int publish_words(struct pctx *p, const struct ynode *v, const char *obj,
			 struct publish *ret)
{
	char buf[128], *w[4], *proto = NULL;
	size_t n = 0;
	uint32_t cn = 0;
	int r;

	if (strlen(v->str) >= sizeof(buf))
		return perr(p, v->pos, obj, "\"%.60s...\" is too long for a published port",
			    v->str);
	snprintf(buf, sizeof(buf), "%s", v->str);
	proto = strchr(buf, '/');
	if (proto)
		*proto++ = '\0';
	ret->p.proto = !proto || !strcmp(proto, "tcp") ? IPPROTO_TCP :
		       !strcmp(proto, "udp")	       ? IPPROTO_UDP :
							 0;
	if (!ret->p.proto)
		return perr(p, v->pos, obj, "\"%s\": protocol \"%s\" is not tcp or udp", v->str,
			    proto);
	for (char *t = buf, *c; n < 4 && t; t = c ? c + 1 : NULL, n++) {
		c = strchr(t, ':');
		if (c)
			*c = '\0';
		w[n] = t;
	}
	if (n < 2 || n > 3)
		return perr(p, v->pos, obj,
			    "\"%s\" is not [HOST_ADDR:]HOST_PORT:PORT[/tcp|/udp] (ranges N-M)",
			    v->str);
	ret->p.has_host_addr = n == 3;
	r = n == 3 ? parse_ipv4(p, v->pos, w[0], obj, ret->p.host_addr) : 0;
	if (!r && n == 3 && ret->p.host_addr[0] == 127)
		r = perr(p, v->pos, obj,
			 "\"%s\": vnet publishes on the host's addresses, not on loopback (it "
			 "runs no proxy)",
			 v->str);
	if (!r)
		r = port_range(p, v->pos, w[n - 2], obj, &ret->p.host_port, &ret->n);
	if (!r)
		r = port_range(p, v->pos, w[n - 1], obj, &ret->p.port, &cn);
	if (!r && cn != ret->n)
		r = perr(p, v->pos, obj, "\"%s\": the ranges have different lengths", v->str);
	return r;
}

static int parse_publish(struct pctx *p, const char *node, const struct ynode *v, const char *obj)
{
	struct publish pub = { 0 };
	int r;

	if (v->type != Y_SCALAR || is_null(v))
		return wrong_type(p, v, "\"HOST_PORT:PORT[/PROTO]\"", "publish", obj);
	r = publish_words(p, v, obj, &pub);
	snprintf(pub.p.node, sizeof(pub.p.node), "%s", node);
	pub.p.pos = v->pos;
	for (uint32_t i = 0; !r && i < pub.n; i++) {
		struct vnet_port *o = vnet_model_add_port(p->m);

		if (!o)
			return enomem(p);
		*o = pub.p;
		o->host_port = (uint16_t)(pub.p.host_port + i);
		o->port = (uint16_t)(pub.p.port + i);
	}
	return r;
}

/* One network of a container: its name (key or item) and a fixed address (value) or none. */
static int add_member(struct pctx *p, const char *node, const struct ynode *name,
		      const struct ynode *addr, const char *obj)
{
	struct vnet_member *mb;
	unsigned k = 0;
	int r = check_ifname(p, name->pos, name->str, obj);

	if (r < 0)
		return r;
	for (size_t i = p->m->members.n; i-- > 0 && !strcmp(p->m->members.v[i].node, node);) {
		if (!strcmp(p->m->members.v[i].network, name->str))
			return perr(p, name->pos, obj, "network \"%s\" is given twice", name->str);
		k++;
	}
	mb = vnet_model_add_member(p->m);
	if (!mb)
		return enomem(p);
	snprintf(mb->node, sizeof(mb->node), "%s", node);
	snprintf(mb->network, sizeof(mb->network), "%s", name->str);
	snprintf(mb->ifname, sizeof(mb->ifname), "eth%u", k);
	vnet_member_host_if(node, k, mb->host_if);
	mb->pos = name->pos;
	if (is_null(addr))
		return 0;
	if (addr->type != Y_SCALAR)
		return wrong_type(p, addr, "an IPv4 address or null", name->str, obj);
	mb->fixed = mb->has_addr = true;
	return parse_ipv4(p, addr->pos, addr->str, obj, mb->addr);
}

/* networks: [NET, ...] or {NET: ADDRESS|null, ...} */
static int container_networks(struct pctx *p, const char *node, const struct ynode *k,
			      const struct ynode *v, const char *obj)
{
	bool map = v && v->type == Y_MAP;
	int r = 0;

	if (is_null(v) || (v->type != Y_SEQ && !map))
		return is_null(v) ?
			       perr(p, k->pos, obj, "a container needs \"networks\"") :
			       wrong_type(p, v, "a list or a map of networks", "networks", obj);
	for (size_t i = 0; !r && i < v->n; i += map ? 2 : 1) {
		const struct ynode *name = v->kids[i];

		if (name->type != Y_SCALAR || is_null(name))
			return wrong_type(p, name, "a network's name", "networks", obj);
		r = add_member(p, node, name, map ? v->kids[i + 1] : NULL, obj);
	}
	if (!r && !v->n)
		r = perr(p, v->pos, obj, "a container needs at least one network");
	return r;
}

/* One item of containers: NAME: {networks, publish, routes}: a node on networks. */
static int parse_container_item(struct pctx *p, const struct vnet_kind *kind, const struct ynode *k,
				const struct ynode *v)
{
	const struct ynode *nk = NULL, *nets = lookup(v, "networks", &nk), *pub;
	char obj[96];
	int r;

	(void)kind;
	snprintf(obj, sizeof(obj), "container %.60s", k->str);
	r = check_name(p, k->pos, "container name", k->str, obj);
	if (!r)
		r = want_map(p, v, k->str, obj);
	if (!r)
		r = check_keys(p, v, container_keys, obj);
	if (!r && !strcmp(k->str, "host"))
		r = perr(p, k->pos, obj, "\"host\" is the host part, not a container");
	if (!r)
		r = add_node(p, k, v, obj);
	if (!r)
		r = container_networks(p, k->str, nk ? nk : k, nets, obj);
	pub = lookup(v, "publish", &nk);
	if (!r && pub)
		r = want_list(p, pub, "publish", obj);
	for (size_t i = 0; !r && pub && !is_null(pub) && i < pub->n; i++)
		r = parse_publish(p, k->str, pub->kids[i], obj);
	return r;
}

/* The topology name: the override, else "name", else the file name without .yaml/.yml. */
static int parse_name(struct pctx *p, const struct ynode *v, const char *override)
{
	const char *base = p->file ? strrchr(p->file, '/') : NULL;
	struct vnet_pos at = { 0, 0 };
	char name[VNET_NAMSIZ * 2];
	size_t n;

	base = base ? base + 1 : p->file ? p->file : "";
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	else if (n > 4 && !strcmp(base + n - 4, ".yml"))
		n -= 4;
	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), base);
	if (v && (is_null(v) || v->type != Y_SCALAR))
		return wrong_type(p, v, "a string", "name", NULL);
	if (v && !override) {
		snprintf(name, sizeof(name), "%s", v->str);
		at = v->pos;
	}
	if (override)
		snprintf(name, sizeof(name), "%s", override);
	if (!name[0])
		return perr(p, at, NULL, "the topology has no name: give it \"name\"");
	if (check_name(p, at, "topology name", name, NULL) < 0)
		return -EINVAL;
	snprintf(p->m->name, sizeof(p->m->name), "%.63s", name);
	return 0;
}

/* ---- checks: expectations of connectivity, for vnet check ---- */

/* "tcp" before "to": a swapped "tpc" is as far from both, and the first wins */
static const char *const check_item_keys[] = { "from", "tcp", "to", "reach", NULL };

static struct vnet_check *add_check(struct pctx *p)
{
	struct vnet_check *c = vnet_model_add_check(p->m);

	if (!c || vnet_grow0((void **)&p->cm, &p->cm_cap, p->m->checks.n, sizeof(*p->cm)) < 0)
		return NULL;
	return c;
}

/*
 * Whether a target is written as an address rather than a node name: node names hold no
 * ":" or "/", and one made of digits and dots alone would be a confusing name anyway.
 */
static bool looks_like_address(const char *s)
{
	return strpbrk(s, ":/") || (strchr(s, '.') && strspn(s, "0123456789.") == strlen(s));
}

/* "to": an IP address (IPv4 or IPv6, no prefix length), or a node name. */
static int check_target(struct pctx *p, const struct ynode *k, const struct ynode *v,
			const char *obj, struct vnet_check *c)
{
	int r = want_scalar(p, k, v, obj);

	if (r < 0)
		return r;
	p->cm[p->m->checks.n - 1].to = v->pos;
	c->family = strchr(v->str, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c->family, v->str, c->addr) == 1) {
		c->has_addr = true;
		return 0;
	}
	c->family = 0;
	if (looks_like_address(v->str))
		return perr(p, v->pos, obj,
			    "\"%s\" is not an IP address (a check takes one without a prefix "
			    "length)",
			    v->str);
	r = check_name(p, v->pos, "node name", v->str, obj);
	if (!r)
		snprintf(c->to, sizeof(c->to), "%s", v->str);
	return r;
}

/* "check c1 -> c2": the object of a check in messages, from the text of its ends. */
static void check_object(const struct ynode *from, const struct ynode *to, char *buf, size_t len)
{
	bool f = from && from->type == Y_SCALAR && !is_null(from);
	bool t = to && to->type == Y_SCALAR && !is_null(to);

	snprintf(buf, len, "check %.60s -> %.60s", f ? from->str : "?", t ? to->str : "?");
}

/* The options of a check: reach and tcp. */
static int check_options(struct pctx *p, const struct ynode *item, const char *obj,
			 struct vnet_check *c)
{
	const struct ynode *k = NULL, *v = lookup(item, "reach", &k);
	unsigned long long port = 0;
	int r = v ? parse_bool(p, k, v, obj, &c->reach) : 0;

	v = lookup(item, "tcp", &k);
	if (!r && v) {
		r = parse_uint(p, k, v, obj, 1, 65535, &port);
		c->tcp_port = r ? 0 : (uint16_t)port;
	}
	return r;
}

/* One check: {from: NODE, to: NODE|ADDRESS, reach: BOOL, tcp: PORT}. */
static int parse_check(struct pctx *p, const struct ynode *item)
{
	const struct ynode *fk = NULL, *tk = NULL;
	const struct ynode *fv = lookup(item, "from", &fk), *tv = lookup(item, "to", &tk);
	struct vnet_check *c;
	char obj[160];
	int r;

	if (item->type != Y_MAP)
		return wrong_type(p, item, "a map (from, to, reach, tcp)", "checks", NULL);
	check_object(fv, tv, obj, sizeof(obj));
	r = check_keys(p, item, check_item_keys, obj);
	if (r < 0)
		return r;
	if (!fv || !tv)
		return perr(p, item->pos, obj, "a check needs \"%s\"", fv ? "to" : "from");
	c = add_check(p);
	if (!c)
		return enomem(p);
	c->pos = item->pos;
	c->reach = true;
	r = want_scalar(p, fk, fv, obj);
	if (!r)
		r = check_name(p, fv->pos, "node name", fv->str, obj);
	if (r < 0)
		return r;
	snprintf(c->from, sizeof(c->from), "%s", fv->str);
	p->cm[p->m->checks.n - 1].from = fv->pos;
	r = check_target(p, tk, tv, obj, c);
	return r ? r : check_options(p, item, obj, c);
}

/* One item of checks (@kind and @unused: the items of every section are read alike). */
static int parse_check_item(struct pctx *p, const struct vnet_kind *kind, const struct ynode *item,
			    const struct ynode *unused)
{
	(void)kind;
	(void)unused;
	return parse_check(p, item);
}

/* ---- the top level ---- */

typedef int item_fn(struct pctx *p, const struct vnet_kind *kind, const struct ynode *a,
		    const struct ynode *b);

/* The sections: a map or a list, read one item at a time. */
struct section {
	const char *key;
	enum ytype type;
	const struct vnet_kind *kind;
	item_fn *fn;
};

#define MAX_SECTIONS 32

/* The sections read in the first pass (nodes, and what makes nodes or bridges), then one
 * for each kind of link in the registry, then "checks". */
static size_t make_sections(struct section *v)
{
	size_t n = 0;

	v[n++] = (struct section){ "hosts", Y_MAP, NULL, parse_host_item };
	v[n++] = (struct section){ "nodes", Y_MAP, NULL, parse_node_item };
	v[n++] = (struct section){ "networks", Y_MAP, NULL, parse_network_item };
	v[n++] = (struct section){ "containers", Y_MAP, NULL, parse_container_item };
	for (const struct vnet_kind *const *k = vnet_kinds(); *k && n < MAX_SECTIONS - 1; k++) {
		bool pair = (*k)->flags & VNET_KIND_F_PAIR;

		if ((*k)->section)
			v[n++] = (struct section){ (*k)->section, pair ? Y_SEQ : Y_MAP, *k,
						   pair ? parse_pair : parse_iface_item };
	}
	v[n++] = (struct section){ "checks", Y_SEQ, NULL, parse_check_item };
	return n;
}

/* The keys of the top level: "name", the sections, "allow_loops"; NULL-ended. */
static void make_top_keys(const char **keys)
{
	struct section sec[MAX_SECTIONS];
	size_t n = make_sections(sec), k = 0;

	keys[k++] = "name";
	for (size_t i = 0; i < n; i++)
		keys[k++] = sec[i].key;
	keys[k++] = "allow_loops";
	keys[k] = NULL;
}

/* One item of section @sec, from its first event @ev (consumed); the tree of the item only. */
static int section_item(struct pctx *p, const struct section *sec, yaml_event_t *ev)
{
	struct ynode *a = NULL, *b = NULL;
	yaml_event_t vev;
	int r = build_node(p, ev, &a);

	if (!r && sec->type == Y_MAP) {
		r = next_event(p, &vev);
		if (!r)
			r = build_node(p, &vev, &b);
	}
	if (!r)
		r = sec->fn(p, sec->kind, a, b);
	ynode_free(a);
	ynode_free(b);
	return r;
}

/*
 * Section @sec at key @k, item by item: a 100k-node file never becomes one tree, and a
 * wrong first item stops the reading there.
 */
static int read_section(struct pctx *p, const struct section *sec, const struct ynode *k)
{
	bool map = sec->type == Y_MAP;
	yaml_event_t ev;
	struct ynode v = { 0 };
	int r = next_event(p, &ev);

	if (r < 0)
		return r;
	if (ev.type != (map ? YAML_MAPPING_START_EVENT : YAML_SEQUENCE_START_EVENT)) {
		r = value_node(p, &ev, &v); /* null is an empty section; anything else is wrong */
		if (!r)
			r = map ? want_map(p, &v, k->str, NULL) : want_list(p, &v, k->str, NULL);
		free(v.str);
		return r;
	}
	yaml_event_delete(&ev);
	for (;;) {
		r = next_event(p, &ev);
		if (r < 0 || is_end(&ev))
			break;
		r = section_item(p, sec, &ev);
		if (r < 0)
			return r;
	}
	if (!r)
		yaml_event_delete(&ev);
	return r;
}

/* Options of the top level that are one value (a boolean). */
static int read_option(struct pctx *p, const struct ynode *k)
{
	yaml_event_t ev;
	struct ynode v = { 0 };
	int r = next_event(p, &ev);

	if (!r)
		r = value_node(p, &ev, &v);
	if (!r)
		r = parse_bool(p, k, &v, NULL, &p->m->allow_loops);
	free(v.str);
	return r;
}

/* The value of top-level key @k: read in the pass that wants it, else skipped. */
static int top_value(struct pctx *p, const struct ynode *k, bool nodes, bool others)
{
	yaml_event_t ev;
	int r;

	struct section sections[MAX_SECTIONS];
	size_t n = make_sections(sections);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(k->str, sections[i].key) && (i >= FIRST_SECTIONS ? others : nodes))
			return read_section(p, &sections[i], k);
	if (!strcmp(k->str, "allow_loops") && others)
		return read_option(p, k);
	r = next_event(p, &ev); /* "name" (read already), or a section of another pass */
	return r < 0 ? r : skip_node(p, &ev);
}

/* One pass over the top level, a map of known keys (the first pass made sure). */
static int read_top(struct pctx *p, bool nodes, bool others)
{
	yaml_event_t ev;
	struct ynode k;
	int r = open_parser(p);

	if (!r)
		r = expect_event(p, YAML_STREAM_START_EVENT);
	if (!r)
		r = expect_event(p, YAML_DOCUMENT_START_EVENT);
	if (!r)
		r = expect_event(p, YAML_MAPPING_START_EVENT);
	while (!r) {
		r = next_event(p, &ev);
		if (r < 0 || is_end(&ev))
			break;
		r = shallow(p, &ev, &k);
		yaml_event_delete(&ev);
		if (!r)
			r = top_value(p, &k, nodes, others);
		free(k.str);
	}
	if (!r)
		yaml_event_delete(&ev);
	return r;
}

/* ---- one host's part of a multi-host file ---- */

/* Keep the items of array @v (and of its marks @mk, when given) that @keep says; Return:
 * how many are left. */
static size_t compact(void *v, size_t n, size_t size, const bool *keep, void *mk, size_t msize)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		if (k != i) {
			memmove((char *)v + k * size, (char *)v + i * size, size);
			if (mk)
				memmove((char *)mk + k * msize, (char *)mk + i * msize, msize);
		}
		k++;
	}
	return k;
}

#define COMPACT(arr, keep, mk) \
	((arr).n = compact((arr).v, (arr).n, sizeof(*(arr).v), keep, mk, (mk) ? sizeof(*(mk)) : 0))

/* What is on the host part of @host: decided for every kind before any is moved. */
static int select_objects(struct pctx *p, const char *host, bool *keep)
{
	struct vnet_model *m = p->m;
	bool *kl = keep, *ka = kl + m->links.n, *kr = ka + m->addrs.n, *kn = kr + m->routes.n;
	bool *kc = kn + m->ns.n;
	int r = 0;

	for (size_t i = 0; i < m->checks.n && r >= 0; i++)
		kc[i] = (r = vnet_hosts_check(m, &m->checks.v[i], host, p->file, p->err)) > 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->links.n; i++)
		kl[i] = vnet_hosts_keeps_link(m, &m->links.v[i], host);
	for (size_t i = 0; i < m->addrs.n; i++)
		ka[i] = vnet_hosts_keeps_on(m, m->addrs.v[i].ns, m->addrs.v[i].dev, host);
	for (size_t i = 0; i < m->routes.n; i++)
		kr[i] = vnet_hosts_keeps_on(m, m->routes.v[i].ns, m->routes.v[i].dev, host);
	for (size_t i = 0; i < m->ns.n; i++)
		kn[i] = vnet_hosts_keeps_ns(m, &m->ns.v[i], host);
	COMPACT(m->links, kl, p->lm);
	COMPACT(m->addrs, ka, (void *)NULL);
	COMPACT(m->routes, kr, p->rm);
	COMPACT(m->ns, kn, p->nm);
	COMPACT(m->checks, kc, p->cm);
	vnet_model_reindex(m);
	return 0;
}

/* What refers to nodes and networks, once those of other hosts are gone. */
static int select_others(struct pctx *p, const char *host, bool *keep)
{
	struct vnet_model *m = p->m;

	for (size_t i = 0; i < m->members.n; i++)
		keep[i] = vnet_model_find_node(m, m->members.v[i].node) != NULL;
	COMPACT(m->members, keep, (void *)NULL);
	for (size_t i = 0; i < m->ports.n; i++)
		keep[i] = vnet_model_find_node(m, m->ports.v[i].node) != NULL;
	COMPACT(m->ports, keep, (void *)NULL);
	for (size_t i = 0; i < m->uplinks.n; i++)
		keep[i] = vnet_model_find_link(m, m->uplinks.v[i].ns, m->uplinks.v[i].bridge) !=
			  NULL;
	COMPACT(m->uplinks, keep, (void *)NULL);
	for (size_t i = 0; i < m->networks.n; i++)
		keep[i] = false;
	for (size_t i = 0; i < m->subnets.n; i++) {
		struct vnet_network *n = vnet_model_find_network(m, m->subnets.v[i].network);

		if (n && !strcmp(m->subnets.v[i].host, host))
			keep[n - m->networks.v] = true;
	}
	COMPACT(m->networks, keep, (void *)NULL);
	for (size_t i = 0; i < m->connects.n; i++)
		keep[i] = vnet_model_find_network(m, m->connects.v[i].a) &&
			  vnet_model_find_network(m, m->connects.v[i].b);
	COMPACT(m->connects, keep, (void *)NULL);
	return 0;
}

/* --host: the host's part of the file, and the vxlans that join it to the other hosts. */
static int select_host(struct pctx *p, const char *host)
{
	struct vnet_model *m = p->m;
	size_t n = m->links.n + m->addrs.n + m->routes.n + m->ns.n + m->checks.n + m->members.n +
		   m->ports.n + m->uplinks.n + m->networks.n + m->connects.n + 1;
	char names[512] = "";
	bool *keep;
	int r;

	for (size_t i = 0, off = 0; i < m->hosts.n && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? ", " : "",
					m->hosts.v[i].name);
	if (!m->hosts.n)
		return perr(p, (struct vnet_pos){ 0, 0 }, NULL,
			    "--host %s: the file has no \"hosts\"", host);
	if (!vnet_model_find_host(m, host))
		return perr(p, (struct vnet_pos){ 0, 0 }, NULL,
			    "--host %s: not one of the file's hosts (%s)", host, names);
	/* a loop through the overlay is one of the whole file, where a spanning bridge is one */
	r = vnet_stp_find_loop(m, p->err);
	if (r < 0)
		return r;
	keep = calloc(n, sizeof(*keep));
	if (!keep)
		return enomem(p);
	r = select_objects(p, host, keep);
	if (!r)
		r = select_others(p, host, keep);
	free(keep);
	if (!r && vnet_hosts_derive(m, host) < 0)
		r = enomem(p);
	return r;
}

/* A tunnel's device made with the vnet_hdr its offload needs, its MTU, and its port its own
 * in its namespace; the tunnels of another host's part are not this host's. */
static int finish_tunnel(struct pctx *p, struct vnet_tunnel_decl *t, struct vnet_link *l)
{
	const struct vnet_ns *ns = vnet_model_find_ns(p->m, l->ns);
	bool host = !ns || !strcmp(ns->node, "host");
	char obj[8 + VNET_NAMSIZ + VNET_IFNAMSIZ];

	snprintf(obj, sizeof(obj), "%s %s%s%s", vnet_kind_name(l->kind), host ? "" : ns->node,
		 host ? "" : "/", l->name);
	if (vnet_tuntap_need(l, "vnet_hdr", t->offload) < 0)
		return perr(
			p, t->pos, obj,
			"vnet_hdr %s does not go with the tunnel's offload %s: the tunnel reads "
			"large packets with a vnet_hdr (say both, or leave vnet_hdr out)",
			t->offload ? "off" : "on", t->offload ? "on" : "off");
	if (t->queues > 1 && vnet_tuntap_need(l, "multi_queue", true) < 0)
		return perr(p, t->pos, obj,
			    "multi_queue off does not go with the tunnel's %u queues (say "
			    "multi_queue: on, or leave it out)",
			    t->queues);
	t->mtu = l->has & VNET_LINK_HAS_MTU ? l->mtu : 0;
	for (const struct vnet_tunnel_decl *o = p->m->tunnels.v; o < t; o++)
		if (!strcmp(o->ns, t->ns) && o->port == t->port &&
		    (!memcmp(o->local, t->local, 4) || !*(const uint32_t *)(const void *)o->local ||
		     !*(const uint32_t *)(const void *)t->local))
			return perr(p, t->pos, obj,
				    "UDP port %u is the tunnel's of %s (line %u) in the same "
				    "namespace: give one another port",
				    t->port, o->dev, o->pos.line);
	return 0;
}

static int finish_tunnels(struct pctx *p)
{
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; !r && i < p->m->tunnels.n; i++) {
		struct vnet_tunnel_decl *t = &p->m->tunnels.v[i];
		struct vnet_link *l = vnet_model_find_link(p->m, t->ns, t->dev);

		if (!l)
			continue;
		p->m->tunnels.v[n] = *t;
		r = finish_tunnel(p, &p->m->tunnels.v[n++], l);
	}
	p->m->tunnels.n = n;
	return r;
}

/* The top level: name and nodes first (links and checks refer to them), then in file order. */
static int convert(struct pctx *p, const struct top *top, const struct vnet_load_opts *opts)
{
	struct vnet_ns *host;
	int r;

	if (!top->doc || is_null(&top->root))
		return perr(p, (struct vnet_pos){ 0, 0 }, NULL, "the file is empty");
	if (top->root.type != Y_MAP) {
		char got[72];

		describe(&top->root, got, sizeof(got));
		return perr(p, top->root.pos, NULL, "expected a map at the top level, got %s", got);
	}
	if (top->bad_key.str) {
		const char *top_keys[MAX_TOP_KEYS];

		make_top_keys(top_keys);
		return unknown_key(p, &top->bad_key, top_keys, NULL);
	}
	r = parse_name(p, top->has_name ? &top->name : NULL, opts ? opts->name : NULL);
	if (r < 0)
		return r;
	host = add_ns(p);
	if (!host)
		return enomem(p);
	snprintf(host->node, sizeof(host->node), "host");
	vnet_node_ns_name(p->m->name, "host", p->m->sandbox, host->name, sizeof(host->name));
	if (index_node(p, 0) < 0)
		return enomem(p);
	/* one more pass only when a section comes before the nodes it may refer to */
	r = read_top(p, true, !top->before_nodes);
	if (!r && top->before_nodes)
		r = read_top(p, false, true);
	if (!r)
		r = vnet_hosts_resolve(p->m, p->file, p->err);
	if (!r && opts && opts->host)
		r = select_host(p, opts->host);
	if (!r)
		r = finish_tunnels(p);
	if (!r)
		r = vnet_networks_expand(p->m, p->file, p->err);
	/* what the networks made has no marks of its own: its positions are its items' */
	if (!r && (vnet_grow0((void **)&p->lm, &p->lm_cap, p->m->links.n, sizeof(*p->lm)) < 0 ||
		   vnet_grow0((void **)&p->rm, &p->rm_cap, p->m->routes.n, sizeof(*p->rm)) < 0))
		r = enomem(p);
	return r;
}

/* Parse, convert and validate; on success the model is the caller's. */
static int run(struct pctx *p, const struct vnet_load_opts *opts)
{
	struct vnet_topo_marks mk;
	struct top top = { 0 };
	int r = scan_file(p, &top);

	if (!r)
		r = convert(p, &top, opts);
	if (!r) {
		mk = (struct vnet_topo_marks){ p->lm, p->rm, p->nm, p->cm };
		r = vnet_topo_validate_marks(p->m, &mk, p->err);
	}
	free(top.root.str);
	free(top.bad_key.str);
	free(top.name.str);
	if (p->yp_open)
		yaml_parser_delete(&p->yp);
	return r;
}

int vnet_topo_parse_string(const char *text, size_t len, const char *path,
			   const struct vnet_load_opts *opts, struct vnet_model **ret_model,
			   struct vnet_error *reterr)
{
	struct pctx p = { .file = path ? path : "", .text = text, .len = len, .err = reterr };
	int r;

	*ret_model = NULL;
	if (reterr)
		memset(reterr, 0, sizeof(*reterr));
	p.m = vnet_model_new();
	if (!p.m)
		return enomem(&p);
	snprintf(p.m->file, sizeof(p.m->file), "%s", p.file);
	p.m->sandbox = opts && opts->sandbox;
	r = run(&p, opts);
	while (p.strs) {
		struct strblock *next = p.strs->next;

		free(p.strs);
		p.strs = next;
	}
	vnet_index_free(&p.nodes);
	free(p.lm);
	free(p.rm);
	free(p.nm);
	free(p.cm);
	if (r < 0) {
		vnet_model_free(p.m);
		return r;
	}
	*ret_model = p.m;
	return 0;
}

/* The whole of a file, NUL-terminated, in *ret (to free). */
/* Read all of @fd, up to MAX_FILE bytes, NUL-terminated; pipes and /dev/stdin too. */
static int read_all(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		/* one byte stays free for the NUL; a failed vnet_grow() leaves cap as it was */
		if (len + 1 >= cap &&
		    (cap > MAX_FILE || vnet_grow((void **)&buf, &cap, len + 2, 1) < 0)) {
			free(buf);
			return cap > MAX_FILE ? -EFBIG : -ENOMEM;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (st.st_size > MAX_FILE)
		r = -EFBIG;
	else
		r = read_all(fd, ret, ret_len);
	close(fd);
	return r;
}

int vnet_topo_load(const char *path, const struct vnet_load_opts *opts,
		   struct vnet_model **ret_model, struct vnet_error *reterr)
{
	char *text = NULL, ebuf[128];
	size_t len = 0;
	int r;

	*ret_model = NULL;
	r = read_file(path, &text, &len);
	if (r < 0) {
		vnet_error_set(reterr, r, NULL, NULL, "cannot read the file: %s",
			       strerror_r(-r, ebuf, sizeof(ebuf)));
		if (reterr)
			snprintf(reterr->file, sizeof(reterr->file), "%s", path);
		return r;
	}
	r = vnet_topo_parse_string(text, len, path, opts, ret_model, reterr);
	free(text);
	return r;
}
