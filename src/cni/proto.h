/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proto.h - the CNI protocol as vnet-cni speaks it: the call (environment and stdin), the
 * versions, error objects and results in the format of the version the runtime asked for.
 * No kernel here: doc/cni-reference.md is the specification this follows.
 */
#ifndef VNET_CNI_PROTO_H
#define VNET_CNI_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* The spec's error codes (SPEC.md "Error"), as vnet-cni uses them. */
enum {
	CNI_ERR_VERSION = 1, /* incompatible CNI version */
	CNI_ERR_FIELD = 2, /* unsupported field in the network configuration */
	CNI_ERR_UNKNOWN = 3, /* container unknown or does not exist */
	CNI_ERR_ENV = 4, /* invalid or missing environment variables */
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6, /* failed to decode content */
	CNI_ERR_CONFIG = 7, /* invalid network configuration */
	CNI_ERR_AGAIN = 11, /* try again later */
	CNI_ERR_UNAVAILABLE = 50, /* STATUS: cannot serve ADD */
	CNI_ERR_INTERNAL = 100, /* vnet-cni's own: the kernel or the store refused */
};

enum cni_cmd { CNI_ADD, CNI_DEL, CNI_CHECK, CNI_STATUS, CNI_GC, CNI_VERSION };

/* An error, for the error object on stdout. */
struct cni_error {
	unsigned code;
	char msg[512];
	char details[512];
};

/* cni_fail() - fill @e; Return: -1, for `return cni_fail(...)`. */
int cni_fail(struct cni_error *e, unsigned code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * struct cni_call - one invocation: what the runtime gave
 * @cmd: CNI_COMMAND
 * @container: CNI_CONTAINERID ("" when not given)
 * @netns: CNI_NETNS ("" when not given: allowed for DEL)
 * @ifname: CNI_IFNAME
 * @args: CNI_ARGS
 * @path: CNI_PATH
 * @conf: the configuration read from stdin (NULL for VERSION without one)
 * @version: its cniVersion ("0.1.0" when it has none)
 */
struct cni_call {
	enum cni_cmd cmd;
	const char *container, *netns, *ifname, *args, *path;
	json_t *conf;
	char version[16];
};

/**
 * cni_read_call() - the call from the environment and @in
 * @c: filled
 * @in: the configuration (stdin)
 * @e: code 4 for the environment (naming what is missing or wrong), 5 for a failed read,
 *     6 for JSON that does not parse, 1 for a version vnet-cni does not speak, and 1 for a
 *     verb the version does not have (CHECK before 0.4.0, STATUS and GC before 1.1.0)
 *
 * Return: 0 or -1.
 */
int cni_read_call(struct cni_call *c, FILE *in, struct cni_error *e);
void cni_call_clear(struct cni_call *c);

/* cni_version_cmp() - <0, 0, >0 as @a is older than, the same as, newer than @b ("1.0.0"). */
int cni_version_cmp(const char *a, const char *b);
/* cni_version_supported() - one vnet-cni speaks. */
bool cni_version_supported(const char *v);

/* cni_print_version() - VERSION's answer for a runtime that speaks @version. */
void cni_print_version(FILE *out, const char *version);
/* cni_print_error() - the error object, in the call's version, on @out (stdout). */
void cni_print_error(FILE *out, const char *version, const struct cni_error *e);

/* A result, as vnet-cni builds it; printed in the version the call asked for. */
#define CNI_MAX 8
struct cni_result {
	struct cni_iface {
		char name[16];
		char mac[18];
		char sandbox[256]; /* "" on the host */
		unsigned mtu; /* 0: not said */
	} ifaces[CNI_MAX];
	unsigned n_ifaces;
	struct cni_ip {
		int family; /* AF_INET, AF_INET6 */
		char address[64]; /* ADDR/LEN */
		char gateway[48]; /* "" for none */
		int iface; /* index into ifaces, -1 for none */
	} ips[CNI_MAX];
	unsigned n_ips;
	struct cni_route {
		char dst[64];
		char gw[48]; /* "" for none */
	} routes[CNI_MAX];
	unsigned n_routes;
};

/* cni_result_json() - @r in the format of @version (0.3.0 to 1.1.0); NULL when out of memory. */
json_t *cni_result_json(const struct cni_result *r, const char *version);

/**
 * cni_check_keys() - every key of @obj is one of @known, a reserved key of the spec
 *                    (cniVersion, name, type, capabilities, runtimeConfig, prevResult, args)
 *                    or one under cni.dev/
 * @obj: a configuration object
 * @known: the keys its plugin understands, ended by NULL
 * @where: "" for the top level, "ipam" for the ipam object, ...
 * @e: code 2, naming the key and its value
 *
 * Return: 0 or -1.
 */
int cni_check_keys(json_t *obj, const char *const *known, const char *where, struct cni_error *e);

#endif /* VNET_CNI_PROTO_H */
