// SPDX-License-Identifier: LGPL-2.1-or-later
/* kind.c - the registry of kinds, and what every stage does with a kind's table of options */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kind.h"
#include "kinds.h" /* VNET_KINDS: X(veth) X(bridge) ..., from meson.build's list */

#define X(name) extern const struct vnet_kind vnet_kind_##name;
VNET_KINDS
#undef X

/* The registry: order matters only where kinds share a kernel name (tun before tap). */
#define X(name) &vnet_kind_##name,
static const struct vnet_kind *const kinds[] = { VNET_KINDS NULL };
#undef X

const struct vnet_kind *const *vnet_kinds(void)
{
	return kinds;
}

const struct vnet_kind *vnet_kind_find(const char *name)
{
	for (size_t i = 0; kinds[i]; i++)
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	return NULL;
}

const struct vnet_kind *vnet_kind_by_info(const char *info, size_t len)
{
	for (size_t i = 0; kinds[i]; i++) {
		const char *k = vnet_kind_info(kinds[i]);

		if (strlen(k) == len && !memcmp(k, info, len))
			return kinds[i];
	}
	return NULL;
}

const char *vnet_kind_name(const struct vnet_kind *kind)
{
	return kind ? kind->name : "link";
}

bool vnet_kind_has(const struct vnet_kind *k, unsigned flags)
{
	return k && (k->flags & flags) == flags;
}

const struct vnet_kind *vnet_kind_master(void)
{
	for (size_t i = 0; kinds[i]; i++)
		if (kinds[i]->flags & VNET_KIND_F_MASTER)
			return kinds[i];
	return NULL;
}

int vnet_opt_find(const struct vnet_optset *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].key, key))
			return (int)i;
	return -1;
}

int vnet_opt_word(const struct vnet_opt *o, const char *w, uint32_t *ret)
{
	for (const struct vnet_opt_word *x = o->words; x && x->word; x++)
		if (!strcmp(x->word, w)) {
			*ret = x->value;
			return 0;
		}
	return -EINVAL;
}

void vnet_opt_words(const struct vnet_opt *o, const char **ret, size_t max)
{
	size_t n = 0;

	for (const struct vnet_opt_word *x = o->words; x && x->word && n + 1 < max; x++)
		ret[n++] = x->word;
	ret[n] = NULL;
}

void vnet_opt_format(const struct vnet_opt *o, uint32_t v, char *buf, size_t len)
{
	switch (o->type) {
	case VNET_OPT_BOOL:
		snprintf(buf, len, "%s", v ? "true" : "false");
		return;
	case VNET_OPT_SECONDS:
		if (v % 100)
			snprintf(buf, len, "%u.%02u", v / 100, v % 100);
		else
			snprintf(buf, len, "%u", v / 100);
		return;
	case VNET_OPT_IPV4:
		inet_ntop(AF_INET, &v, buf, (socklen_t)len);
		return;
	case VNET_OPT_WORD:
		for (const struct vnet_opt_word *x = o->words; x && x->word; x++)
			if (x->value == v) {
				snprintf(buf, len, "%s", x->word);
				return;
			}
		break;
	default:
		break;
	}
	snprintf(buf, len, "%u", v);
}

void vnet_opts_defaults(const struct vnet_optset *s, struct vnet_opts *o)
{
	for (size_t i = 0; i < s->n; i++)
		if ((s->v[i].flags & VNET_OPT_F_DEFAULT) && !vnet_opts_has(o, i)) {
			o->v[i] = s->v[i].def;
			o->has |= 1U << i;
		}
}

void vnet_opts_put(struct nlmsghdr *nlh, const struct vnet_optset *s, const struct vnet_opts *o)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct vnet_opt *x = &s->v[i];

		if (!vnet_opts_has(o, i) || !x->attr)
			continue;
		if (x->size == 1)
			mnl_attr_put_u8(nlh, x->attr, (uint8_t)o->v[i]);
		else if (x->type == VNET_OPT_PORT)
			mnl_attr_put_u16(nlh, x->attr, htons((uint16_t)o->v[i]));
		else if (x->size == 2)
			mnl_attr_put_u16(nlh, x->attr, (uint16_t)o->v[i]);
		else
			mnl_attr_put_u32(nlh, x->attr, o->v[i]);
	}
}

/* One attribute of @o's width; Return: false when it is missing or short. */
static bool read_one(const struct vnet_opt *o, const struct nlattr *a, uint32_t *ret)
{
	if (!a || mnl_attr_get_payload_len(a) < o->size)
		return false;
	*ret = o->size == 1 ? mnl_attr_get_u8(a) :
	       o->size == 2 ? mnl_attr_get_u16(a) :
			      mnl_attr_get_u32(a);
	if (o->type == VNET_OPT_BOOL)
		*ret = *ret != 0;
	if (o->type == VNET_OPT_PORT)
		*ret = ntohs((uint16_t)*ret);
	return !((o->flags & VNET_OPT_F_NONE_IS_MAX) && *ret == UINT32_MAX);
}

void vnet_opts_read(const struct vnet_optset *s, const struct nlattr *const *tb,
		    struct vnet_opts *ret)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].attr && s->v[i].attr <= s->max &&
		    read_one(&s->v[i], tb[s->v[i].attr], &ret->v[i]))
			ret->has |= 1U << i;
}

bool vnet_opt_differs(const struct vnet_kind *k, const struct vnet_optset *s, size_t i,
		      const struct vnet_opts *w, const struct vnet_link *h,
		      const struct vnet_opts *h_opts)
{
	if (!vnet_opts_has(w, i))
		return false;
	/* a tun's owner left unset is reported as unset: that differs from a set one */
	if (vnet_opts_has(h_opts, i) && h_opts->v[i] == w->v[i])
		return false;
	return !(k->drift && s == &k->opts && k->drift(h, i));
}

bool vnet_opts_differ(const struct vnet_kind *k, const struct vnet_optset *s,
		      const struct vnet_opts *w, const struct vnet_link *h,
		      const struct vnet_opts *h_opts, bool replace)
{
	for (size_t i = 0; i < s->n; i++)
		if (!(s->v[i].flags & VNET_OPT_F_REPLACE) == !replace &&
		    vnet_opt_differs(k, s, i, w, h, h_opts))
			return true;
	return false;
}

size_t vnet_opts_describe(const struct vnet_kind *k, const struct vnet_optset *s,
			  const struct vnet_opts *o, const struct vnet_link *h,
			  const struct vnet_opts *h_opts, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n && off < len; i++) {
		char v[32];

		if (!vnet_opts_has(o, i) || (h && !vnet_opt_differs(k, s, i, o, h, h_opts)))
			continue;
		vnet_opt_format(&s->v[i], o->v[i], v, sizeof(v));
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s", off ? ", " : "",
					s->v[i].key, v);
	}
	return off < len ? off : len - 1;
}

int vnet_link_opt(const struct vnet_link *l, const char *key, uint32_t *ret)
{
	const struct vnet_kind *master = vnet_kind_master();
	int i = l->kind ? vnet_opt_find(&l->kind->opts, key) : -1;

	if (i >= 0) {
		*ret = l->opts.v[i];
		return vnet_opts_has(&l->opts, (size_t)i);
	}
	i = master ? vnet_opt_find(&master->port_opts, key) : -1;
	if (i < 0)
		return -ENOENT;
	*ret = l->port.v[i];
	return vnet_opts_has(&l->port, (size_t)i);
}

void vnet_link_label(const struct vnet_link *l, char *buf, size_t len)
{
	const struct vnet_kind *k = l->kind;
	char parent[VNET_ESC_SIZE(VNET_IFNAMSIZ)];
	size_t off = 0;

	buf[0] = '\0';
	if (!k || !(k->flags & VNET_KIND_F_SHOW))
		return;
	/* as iproute2 writes a link on its parent: "mv0@eth0" */
	if (l->parent[0])
		off = (size_t)snprintf(buf, len, "@%s",
				       vnet_escape(l->parent, parent, sizeof(parent)));
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, " %s", k->name);
	for (size_t i = 0; i < k->opts.n && off < len; i++) {
		char v[32];

		if (!(k->opts.v[i].flags & VNET_OPT_F_LABEL) || !vnet_opts_has(&l->opts, i))
			continue;
		vnet_opt_format(&k->opts.v[i], l->opts.v[i], v, sizeof(v));
		off += (size_t)snprintf(buf + off, len - off, " %s", v);
	}
}
