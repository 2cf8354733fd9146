/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * conf.h - vnet-cni's configuration: the reference bridge plugin's keys, the runtime's
 * capabilities and CNI_ARGS, read into an attachment; and IPAM, vnet's own or delegated.
 */
#ifndef VNET_CNI_CONF_H
#define VNET_CNI_CONF_H

#include "attach.h"
#include "proto.h"

/**
 * struct cni_conf - what the configuration asks for
 * @a: the attachment (key, bridge and its options, MAC, published ports); its addresses
 *     and routes come from IPAM
 * @default_gw: isDefaultGateway
 * @ipam: the ipam object (NULL: none, layer 2 only)
 * @ipam_type: its type; "vnet" is vnet's own
 * @subnet: @plen: @gw: vnet's IPAM: the subnet and its gateway
 * @want: @has_want: the IPv4 address asked for (CNI_ARGS IP=, args.cni.ips,
 *                   runtimeConfig.ips)
 * @lease_new: vnet's IPAM made the lease now (an ADD that fails gives back only such)
 * @dns: the configuration's dns object, when it says anything
 */
struct cni_conf {
	struct vnet_attach a;
	bool default_gw;
	json_t *ipam;
	const char *ipam_type;
	uint8_t subnet[4], gw[4];
	unsigned plen;
	uint8_t want[4];
	bool has_want;
	bool lease_new;
	json_t *dns;
};

/**
 * cni_conf_read() - the call's configuration, every key checked
 * @c: the call
 * @ret: filled
 * @e: code 2 for a key vnet-cni does not support, naming it; 7 for a bad value
 *
 * Return: 0 or -1.
 */
int cni_conf_read(const struct cni_call *c, struct cni_conf *ret, struct cni_error *e);

/**
 * cni_ipam_add() - addresses and routes for the attachment, from vnet's IPAM or the
 *                  delegate's ADD; the routes' gateways resolved, the default route added
 *                  for isDefaultGateway
 * @c: the call
 * @conf: the configuration; conf->a.ips and conf->a.routes filled
 * @st: the store (vnet's IPAM)
 * @ret_dns: the delegate's dns object, or NULL
 * @e: the failure
 *
 * Return: 0 or -1.
 */
int cni_ipam_add(const struct cni_call *c, struct cni_conf *conf, struct vnet_state *st,
		 json_t **ret_dns, struct cni_error *e);

/**
 * cni_ipam_del() - give the attachment's addresses back: vnet's lease, or the delegate's DEL
 * @c: the call (its container id and interface are the attachment's)
 * @conf: the configuration
 * @st: the store
 * @e: the failure
 *
 * Return: 0 or -1.
 */
int cni_ipam_del(const struct cni_call *c, const struct cni_conf *conf, struct vnet_state *st,
		 struct cni_error *e);

/**
 * cni_ipam_undo() - after a failed ADD: give back what cni_ipam_add() gave, unless vnet's
 *                   IPAM only found the lease the attachment had already (a second ADD of a
 *                   live attachment must not free its address)
 */
void cni_ipam_undo(const struct cni_call *c, const struct cni_conf *conf, struct vnet_state *st);

/* cni_ipam_check() - CHECK of the addresses: vnet's lease is conf->a.ips' first, or the
 * delegate's CHECK passes; Return: 0 or -1. */
int cni_ipam_check(const struct cni_call *c, const struct cni_conf *conf, struct vnet_state *st,
		   struct cni_error *e);

/* cni_ipam_found() - the delegate (if any) is in CNI_PATH; Return: 0 or -1 (code 50). */
int cni_ipam_found(const struct cni_call *c, const struct cni_conf *conf, struct cni_error *e);

/* cni_prev_result() - the addresses and routes of the call's prevResult, for CHECK. */
int cni_prev_result(const struct cni_call *c, struct cni_conf *conf, struct cni_error *e);

#endif /* VNET_CNI_CONF_H */
