/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat.h - vnet's nftables table (masquerade, published ports, isolation) and IPv4 forwarding */
#ifndef VNET_NAT_H
#define VNET_NAT_H

#include "array.h"
#include "vnet/vnet.h"

/*
 * What the kernel has of the table, for the plan: its elements as nft writes them
 * ("tcp_any 8080 : 192.168.9.2 . 80"), sorted, and whether it carries the tag.
 */
struct vnet_nat_seen {
	char **elems;
	size_t n;
	bool tagged;
};

/**
 * struct vnet_nat_change - one change of the table and of forwarding, done as one nftables
 * transaction (all or nothing in the kernel), then the sysctl
 * @ns: the namespace of the host part
 * @table: the table's name
 * @script: the nft commands, or NULL
 * @undo: the commands that undo @script, or NULL
 * @forward: -1 to leave IPv4 forwarding alone, else the value to set
 * @forward_old: the value that undoes it
 * @create: the table is made (recorded as vnet's before the change)
 * @what: the change in words, for the plan
 */
struct vnet_nat_change {
	char ns[VNET_NAMSIZ];
	char table[VNET_NAMSIZ + 8];
	char *script, *undo;
	int forward, forward_old;
	bool create;
	char what[256];
};

#define VNET_SYSCTL_FORWARD "net.ipv4.ip_forward" /* its key in the state store */
#define VNET_NAT_UNDO 1U /* op->set of a VNET_OP_NAT that undoes its change */

/**
 * vnet_nft_names_link() - does a rule of the namespace's nftables ruleset match @ifname
 * (iifname, oifname, iif, oif)?
 * @ns: the namespace
 * @ifname: the link
 * @where: the first such rule's table and chain ("table inet filter, chain input")
 * @len: size of @where
 *
 * Return: 1 when one does, 0 when none, or -errno.
 */
int vnet_nft_names_link(const char *ns, const char *ifname, char *where, size_t len);

void vnet_nat_seen_free(struct vnet_nat_seen *s);
void vnet_nat_change_free(struct vnet_nat_change *c);

/**
 * vnet_nat_read() - the table and IPv4 forwarding of the host part, into @m->nat
 * @ns: the namespace of the host part
 * @table: the table's name
 * @tag: the topology's tag, which the table carries as its comment
 * @m: the observed model: @m->nat (exists, drift, forward; owned is for the caller to
 *     decide with the store), its published ports in @m->ports
 *
 * Return: 0 or -errno.
 */
int vnet_nat_read(const char *ns, const char *table, const char *tag, struct vnet_model *m);

/**
 * vnet_nat_plan() - the step that makes the table and forwarding as @want says
 * @want: the desired model (after its addresses were leased), or NULL to remove them
 * @have: the observed model
 * @tag: the topology's tag
 * @ret: the step, or NULL when nothing differs
 * @reterr: a table of that name that is not vnet's
 *
 * Return: 0, -EEXIST or -ENOMEM.
 */
int vnet_nat_plan(const struct vnet_model *want, const struct vnet_model *have, const char *tag,
		  struct vnet_nat_change **ret, struct vnet_error *reterr);

/* vnet_nat_apply() - run @c (or its undo); Return: 0 or -errno, nft's words in @reterr. */
int vnet_nat_apply(const struct vnet_nat_change *c, bool undo, struct vnet_error *reterr);

/* ---- for the CNI plugin, which shares the table's skeleton and element formats ---- */

/* vnet_nat_network_elems() - the elements of network @n (its bridge is @n->name), as "SET ELEM". */
int vnet_nat_network_elems(const struct vnet_network *n, struct vnet_strv *s);
/* vnet_nat_port_elem() - the element of a published port, as "SET ELEM". */
int vnet_nat_port_elem(const struct vnet_port *p, struct vnet_strv *s);

/**
 * vnet_nat_elements() - delete @del and add @add in table @table of the calling thread's
 *                       namespace, in one nftables transaction
 * @table: the table (made with vnet's skeleton, tagged @tag, when missing)
 * @tag: its comment
 * @add: elements as "SET ELEM" (sorted here); adding one present is no change
 * @del: the same; deleting one absent is no error
 * @ensure: elements added too when the table has to be made (NULL: none): those the caller
 *          knows it added before
 * @reterr: nft's words
 *
 * Return: 0 or -errno.
 */
int vnet_nat_elements(const char *table, const char *tag, struct vnet_strv *add,
		      struct vnet_strv *del, struct vnet_strv *ensure, struct vnet_error *reterr);

/* vnet_nft_defer() - while on, the thread's nft contexts are kept, not freed (freeing
 * waits out the kernel's destruction of what a transaction deleted); off frees them. */
void vnet_nft_defer(bool on);

/**
 * vnet_nat_ports_raw() - add or delete the elements of published ports in table @table of
 *                        the calling thread's namespace, through nf_tables' netlink
 * @add: add (the ports' addresses set), else delete (the keys alone count)
 * @table: the table (ip family), made before
 * @v: @n: the ports (64 at the most), in one transaction
 *
 * Return: 0, -ENOENT when the table or a map is missing (or, deleting, an element), or the
 * kernel's -errno.
 */
int vnet_nat_ports_raw(bool add, const char *table, const struct vnet_port *v, size_t n);

/**
 * vnet_nft_script() - run nft commands in the calling thread's namespace
 * @script: the commands (one transaction)
 * @ret_out: what nft printed (to free), or NULL
 * @err: nft's words when it refused
 * @len: size of @err
 *
 * Return: 0, -EINVAL when nft refused, or -ENOMEM.
 */
int vnet_nft_script(const char *script, char **ret_out, char *err, size_t len);

/* ---- for vnet show: what the table says, in the model's terms ---- */

/* A published port, or a run of them (@count consecutive host and container ports). */
struct vnet_nat_publish {
	struct vnet_port p; /* p.node: the container that has p.addr, or "" */
	unsigned count;
};

/* A subnet and the bridge in the host part that holds it ("" when none does). */
struct vnet_nat_net {
	char subnet[24];
	char bridge[VNET_IFNAMSIZ];
};

/**
 * struct vnet_nat_facts - vnet's table of an observed model, read for drawing
 * @masq: subnets that are masqueraded
 * @internal: bridges of internal networks (subnet: what the bridge's address says)
 * @connected: pairs of networks that may exchange traffic (bridge in @subnet's place)
 * @published: published ports, in order of protocol and host port, runs collapsed
 */
struct vnet_nat_facts {
	VNET_ARRAY(struct vnet_nat_net) masq, internal;
	VNET_ARRAY(struct vnet_connect) connected;
	VNET_ARRAY(struct vnet_nat_publish) published;
};

/* vnet_nat_facts() - what @m's table says; Return: 0 or -ENOMEM (@ret emptied then too). */
int vnet_nat_facts(const struct vnet_model *m, struct vnet_nat_facts *ret);
void vnet_nat_facts_clear(struct vnet_nat_facts *f);

#endif /* VNET_NAT_H */
