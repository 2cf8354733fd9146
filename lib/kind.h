/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kind.h - kinds of link, each described once, in a table in its own file; the stages walk them */
#ifndef VNET_KIND_H
#define VNET_KIND_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stdint.h>

#include "vnet/vnet.h"

struct vnet_nl;

/* How an option is written in the file, held in the model (a uint32_t) and sent. */
enum vnet_opt_type {
	VNET_OPT_BOOL, /* true/false; a u8 attribute */
	VNET_OPT_U16, /* a number; a u16 attribute */
	VNET_OPT_U32, /* a number; a u32 attribute */
	VNET_OPT_SECONDS, /* seconds in the file, to 1/100; centiseconds (clock_t) in a u32 */
	VNET_OPT_USER, /* a user name or uid; u32 */
	VNET_OPT_GROUP, /* a group name or gid; u32 */
	VNET_OPT_WORD, /* one of the option's words; the word's value in a u32 */
	VNET_OPT_IPV4, /* an IPv4 address; its four bytes, as sent, in the u32 */
	VNET_OPT_PORT, /* a UDP port; sent in network byte order (a u16 attribute) */
};

#define VNET_OPT_F_ZERO (1U << 0) /* 0 is allowed besides min..max ("never") */
#define VNET_OPT_F_REPLACE (1U << 1) /* the kernel cannot change it: a change makes the link anew */
#define VNET_OPT_F_NONE_IS_MAX (1U << 2) /* the kernel reports "unset" as all ones (tun owner) */
#define VNET_OPT_F_DEFAULT (1U << 3) /* @def is vnet's value when the file leaves it out */
#define VNET_OPT_F_LABEL (1U << 4) /* vnet show draws its value beside the link's name */

/* A word of a VNET_OPT_WORD option and the number the kernel takes for it. */
struct vnet_opt_word {
	const char *word;
	uint32_t value;
};

/**
 * struct vnet_opt - one option of a kind (or of a bridge port)
 * @key: its key in the topology file, and its word in plans, errors and vnet show
 * @type: how it is written and held
 * @min: the smallest value (centiseconds for VNET_OPT_SECONDS)
 * @max: the largest value
 * @def: the value vnet gives it when the file leaves it out (with VNET_OPT_F_DEFAULT)
 * @attr: the netlink attribute inside the kind's IFLA_INFO_DATA (or IFLA_INFO_SLAVE_DATA)
 * @size: its width in bytes: 1, 2 or 4
 * @flags: VNET_OPT_F_*
 * @words: VNET_OPT_WORD: the words, ended by one with a NULL word
 */
struct vnet_opt {
	const char *key;
	enum vnet_opt_type type;
	uint32_t min, max, def;
	uint16_t attr;
	uint8_t size;
	unsigned flags;
	const struct vnet_opt_word *words;
};

/* A kind's table of options; value i of a struct vnet_opts is option i of it. */
struct vnet_optset {
	const struct vnet_opt *v;
	size_t n; /* at most VNET_OPT_MAX */
	uint16_t max; /* the IFLA_*_MAX of the attributes, for reading them back */
};

#define VNET_OPTSET(tbl, amax)                                \
	{                                                     \
		(tbl), sizeof(tbl) / sizeof((tbl)[0]), (amax) \
	}

#define VNET_KIND_F_L2 (1U << 0) /* has a MAC address */
#define VNET_KIND_F_PORT (1U << 1) /* can be a bridge port */
#define VNET_KIND_F_MASTER (1U << 2) /* has ports (a bridge) */
#define VNET_KIND_F_PAIR (1U << 3) /* made in pairs: the file lists items of two ends */
#define VNET_KIND_F_PARENT (1U << 4) /* lives on a parent link ("parent"), in any node */
#define VNET_KIND_F_SHOW (1U << 5) /* vnet show writes the kind beside the name */
#define VNET_KIND_F_TUNNEL (1U << 6) /* vnet tunnel can carry it to a peer ("tunnel") */

/**
 * struct vnet_kind - a kind of link: its words, its options and what a table cannot say
 * @name: IFLA_INFO_KIND, and its word in plans and vnet show ("bridge")
 * @info: the IFLA_INFO_KIND the kernel reports when it is not @name (tap: "tun")
 * @section: the topology file's section of them ("bridges")
 * @word: what an error calls one ("veth end"); NULL for @name
 * @flags: VNET_KIND_F_*
 * @not_port: why it cannot be a bridge port, as an error says it (kinds without F_PORT)
 * @no_mac: why it has no MAC address (kinds without F_L2)
 * @opts: its own options, sent in IFLA_INFO_DATA
 * @port_opts: a master kind's: the options of its ports, sent in IFLA_INFO_SLAVE_DATA
 * @finish: after parsing: defaults that depend on other options (bridge: STP's timers);
 *          NULL: the table's VNET_OPT_F_DEFAULT values
 * @put_data: more attributes of IFLA_INFO_DATA at creation (veth: its peer)
 * @create: links RTM_NEWLINK cannot make (tun, tap); it must tag the link before it can
 *          outlive a crash, with @l->alias through @nl, a socket in @l->ns
 * @read: after the options are read back: what else the kernel says (@tb: the info data's
 *        attributes, or NULL when it sent none); it may change @l->kind (tun -> tap)
 * @read_port: the same for a port of a link of this kind (@tb: the slave data's)
 * @drift: whether option @i of an observed @h differs from the file's only as the
 *         kernel's own doing, which is not to be undone
 * @check: a rule of the kind on a link of a validated model, against the others; false
 *         with the reason in @why when @l breaks it
 */
struct vnet_kind {
	const char *name, *info, *section, *word;
	unsigned flags;
	const char *not_port, *no_mac;
	struct vnet_optset opts, port_opts;
	void (*finish)(struct vnet_link *l);
	void (*put_data)(struct nlmsghdr *nlh, const struct vnet_link *l, int peer_ns_fd);
	int (*create)(const struct vnet_link *l, struct vnet_nl *nl, struct vnet_error *reterr);
	void (*read)(const struct nlattr *const *tb, struct vnet_link *l);
	void (*read_port)(const struct nlattr *const *tb, struct vnet_link *l);
	bool (*drift)(const struct vnet_link *h, size_t i);
	bool (*check)(const struct vnet_model *m, const struct vnet_link *l, char *why, size_t len);
};

/* The kinds that other files of a kind refer to; every kind is registered by meson.build. */
extern const struct vnet_kind vnet_kind_bridge, vnet_kind_tap, vnet_kind_veth, vnet_kind_vxlan;

/* vnet_tuntap_need() - tun or tap @l made with its flag @key ("vnet_hdr", "multi_queue") @on,
 * as its tunnel needs; Return: 0, or -EINVAL when the file sets it the other way. */
int vnet_tuntap_need(struct vnet_link *l, const char *key, bool on);

#define VNET_ETH_MTU 1500 /* a link's MTU when nobody says otherwise */
#define VNET_VXLAN_OVERHEAD 50 /* what VXLAN over IPv4 wraps a frame in */
#define VNET_VXLAN_PORT 4789 /* IANA's; the kernel's own default is Linux's old 8472 */

/* vnet_opts_has() - option @i is set in @o. */
static inline bool vnet_opts_has(const struct vnet_opts *o, size_t i)
{
	return o->has & (1U << i);
}

/* vnet_kind_info() - what the kernel calls kind @k (IFLA_INFO_KIND). */
static inline const char *vnet_kind_info(const struct vnet_kind *k)
{
	return k->info ? k->info : k->name;
}

/* vnet_kinds() - every kind, ended by NULL. */
const struct vnet_kind *const *vnet_kinds(void);
/* vnet_kind_by_info() - the kind the kernel calls @info (the first of those that share it). */
const struct vnet_kind *vnet_kind_by_info(const char *info, size_t len);
/* vnet_kind_has() - @k is not NULL and has every flag of @flags. */
bool vnet_kind_has(const struct vnet_kind *k, unsigned flags);
/* vnet_kind_master() - the kind whose ports take port options (the bridge). */
const struct vnet_kind *vnet_kind_master(void);

/* vnet_opt_find() - the index of option @key in @s, or -1. */
int vnet_opt_find(const struct vnet_optset *s, const char *key);
/* vnet_opt_word() - the value of word @w of @o; Return: 0, or -EINVAL when it has no such word. */
int vnet_opt_word(const struct vnet_opt *o, const char *w, uint32_t *ret);
/* vnet_opt_words() - the words of @o into @ret (NULL-ended, at most @max - 1). */
void vnet_opt_words(const struct vnet_opt *o, const char **ret, size_t max);
/* vnet_opt_format() - value @v of @o as the file writes it ("true", "1.5", "bridge"). */
void vnet_opt_format(const struct vnet_opt *o, uint32_t v, char *buf, size_t len);

/* vnet_opts_defaults() - VNET_OPT_F_DEFAULT options @o leaves out get their default. */
void vnet_opts_defaults(const struct vnet_optset *s, struct vnet_opts *o);
/* vnet_opts_put() - an attribute for each option @o has, by its type's width. */
void vnet_opts_put(struct nlmsghdr *nlh, const struct vnet_optset *s, const struct vnet_opts *o);
/* vnet_opts_read() - the options of @s found among @tb (indexed by attribute, to @s->max). */
void vnet_opts_read(const struct vnet_optset *s, const struct nlattr *const *tb,
		    struct vnet_opts *ret);

/* vnet_opt_differs() - option @i, which @w has, differs from @h's (@h_opts: @h's options of
 * table @s), and not only as the kernel's own doing (the kind's drift()). */
bool vnet_opt_differs(const struct vnet_kind *k, const struct vnet_optset *s, size_t i,
		      const struct vnet_opts *w, const struct vnet_link *h,
		      const struct vnet_opts *h_opts);

/**
 * vnet_opts_differ() - whether an observed link's options differ from those wanted
 * @k: the kind that owns table @s (for its drift())
 * @s: the option table
 * @w: the options wanted; only those it has are compared
 * @h: the link observed
 * @h_opts: @h's options of table @s
 * @replace: compare only the options whose change makes the link anew (true), or only
 *           the others (false)
 *
 * Return: true when one differs.
 */
bool vnet_opts_differ(const struct vnet_kind *k, const struct vnet_optset *s,
		      const struct vnet_opts *w, const struct vnet_link *h,
		      const struct vnet_opts *h_opts, bool replace);

/* vnet_opts_describe() - "stp true, priority 4096": the options @o has, in table order; with
 * @h, only those that differ from it (see vnet_opt_differs()). Return: the length written. */
size_t vnet_opts_describe(const struct vnet_kind *k, const struct vnet_optset *s,
			  const struct vnet_opts *o, const struct vnet_link *h,
			  const struct vnet_opts *h_opts, char *buf, size_t len);

/* vnet_link_label() - what vnet show writes after a link's name: " tap", "@eth0 macvlan bridge". */
void vnet_link_label(const struct vnet_link *l, char *buf, size_t len);

/* A vxlan's VTEPs, from vxlan.c. */

/* vnet_vxlan_set() - vxlan @l's VNI, local address and learning (the rest: defaults). */
void vnet_vxlan_set(struct vnet_link *l, uint32_t vni, const uint8_t local[4], bool learning);
/* vnet_vtep_sort() - @l's VTEPs in the one order that compares. */
void vnet_vtep_sort(struct vnet_link *l);
/* vnet_vteps_differ() - the VTEPs of @w and @h (both sorted) differ. */
bool vnet_vteps_differ(const struct vnet_link *w, const struct vnet_link *h);

/* What STP (stp.c) and its printers need of a bridge, from bridge.c. */

/* vnet_bridge_stp() - @l is a bridge with STP on. */
bool vnet_bridge_stp(const struct vnet_link *l);
/* vnet_bridge_converge_ms() - how long STP of bridge @l may take at most: listening and
 * learning (a forward delay each) and an expired max age; 0 without STP. */
long vnet_bridge_converge_ms(const struct vnet_link *l);

/**
 * vnet_tap_qemu() - the QEMU argument that opens tap @l as it was made
 * @l: a tap (observed: its options are the kernel's)
 * @buf: "-netdev tap,id=tap0,ifname=tap0,script=no,downscript=no,vnet_hdr=on[,queues=2]"
 * @len: size of @buf
 *
 * Return: 0, or -EINVAL when @l is not a tap.
 */
int vnet_tap_qemu(const struct vnet_link *l, char *buf, size_t len);

#endif /* VNET_KIND_H */
