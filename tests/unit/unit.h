/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unit.h - what the unit tests share: the seed's container figure, parsing, and bad input */
#ifndef VNET_UNIT_H
#define VNET_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vnet/vnet.h"

/* The seed's docker figure: br0 (host) .9.1, c1 .9.2, c2 .9.3, default routes via br0. */
#define UNIT_DOCKER                                   \
	"nodes:\n"                                    \
	"  c1: {routes: [default via 192.168.9.1]}\n" \
	"  c2: {routes: [default via 192.168.9.1]}\n" \
	"bridges:\n"                                  \
	"  br0: {addresses: 192.168.9.1/24}\n"        \
	"veths:\n"                                    \
	"  - veth-c1: {master: br0}\n"                \
	"    c1/eth0: {addresses: 192.168.9.2/24}\n"  \
	"  - veth-c2: {master: br0}\n"                \
	"    c2/eth0: {addresses: 192.168.9.3/24}\n"

/* unit_parse() - @yaml as file "t.yaml", named @name (NULL: the file's); fails the test
 * with the formatted error when it does not parse. */
static inline struct vnet_model *unit_parse(const char *yaml, const char *name, bool sandbox)
{
	struct vnet_load_opts opts = { .name = name, .sandbox = sandbox };
	struct vnet_model *m = NULL;
	struct vnet_error e = { 0 };
	char buf[1024];

	if (vnet_topo_parse_string(yaml, strlen(yaml), "t.yaml", &opts, &m, &e) < 0) {
		vnet_error_format(&e, buf, sizeof(buf));
		fail_msg("%s", buf);
	}
	return m;
}

/* unit_bad() - @yaml fails with exactly @want, a topology error, and hands back no model. */
static inline void unit_bad(const char *yaml, const char *want)
{
	struct vnet_model *m = (struct vnet_model *)1;
	struct vnet_error e = { 0 };
	char buf[1024];

	assert_int_equal(vnet_topo_parse_string(yaml, strlen(yaml), "t.yaml", NULL, &m, &e),
			 -EINVAL);
	assert_null(m);
	assert_int_equal(e.err, 0);
	vnet_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

#endif /* VNET_UNIT_H */
