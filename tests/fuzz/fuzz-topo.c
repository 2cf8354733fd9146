// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-topo.c - libFuzzer target: a topology file through parsing and every stage after it */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vnet/check.h"
#include "vnet/render.h"
#include "vnet/vnet.h"

/*
 * Nothing here may reach the kernel: the stages driven below are the pure ones (parse,
 * validate, plan up and down against models made in memory, describe, render, check
 * planning). The only system access is /dev/null for the renderers, and the passwd and
 * group databases that tun/tap "owner" and "group" names are looked up in.
 */

/* The plan from nothing to @m. */
static void plan(const struct vnet_model *m)
{
	struct vnet_model *empty = vnet_model_new();
	struct vnet_plan *p = NULL;
	struct vnet_error e;
	char line[512];

	if (!empty)
		return;
	if (!vnet_plan_up(m, empty, &p, &e))
		describe(p);
	else
		vnet_error_format(&e, line, sizeof(line));
	vnet_model_free(empty);
}

/*
 * Beyond the brief's empty observed model: @seen, the same file parsed in the other mode,
 * made to look as the kernel would after "vnet up" (every object there and owned, every
 * link tagged), as what @want is planned against, and as what "vnet down" removes. This
 * reaches the planner's comparisons (link settings, conflicts, removals), which an empty
 * observed model never does.
 */
static void replan(const struct vnet_model *want, struct vnet_model *seen)
{
	struct vnet_plan *p = NULL;
	struct vnet_error e;
	char line[512];

	for (size_t i = 0; i < seen->ns.n; i++)
		seen->ns.v[i].exists = seen->ns.v[i].owned = true;
	for (size_t i = 0; i < seen->links.n; i++) {
		struct vnet_link *l = &seen->links.v[i];

		l->owned = true;
		l->ifindex = (int)i + 2;
		snprintf(l->alias, sizeof(l->alias), VNET_TAG_PREFIX "%s", seen->name);
	}
	for (size_t i = 0; i < seen->addrs.n; i++)
		seen->addrs.v[i].owned = true;
	for (size_t i = 0; i < seen->routes.n; i++)
		seen->routes.v[i].owned = true;
	if (!vnet_plan_up(want, seen, &p, &e))
		describe(p);
	else
		vnet_error_format(&e, line, sizeof(line));
	if (!vnet_plan_down(seen, &p))
		describe(p);
}

/* Every picture of @m: the boxes (and the compact form), JSON, DOT and SVG. */
static void render(const struct vnet_model *m)
{
	vnet_render_text(m, 80, devnull);
	vnet_render_compact(m, devnull);
	vnet_render_json(m, devnull);
	vnet_render_dot(m, devnull);
	vnet_render_svg(m, devnull);
	/* the bytes are thrown away; flush so that a full buffer is no state between inputs */
	fflush(devnull);
}

/* @text as a file, with or without --sandbox, as host h1's part or whole, and every stage
 * after parsing. */
static struct vnet_model *one(const char *text, size_t len, bool sandbox, const char *host)
{
	struct vnet_load_opts o = { .sandbox = sandbox, .host = host };
	struct vnet_probes probes = { 0 };
	struct vnet_model *m = NULL;
	struct vnet_error e;
	char line[1024];

	if (vnet_topo_parse_string(text, len, "fuzz.yaml", &o, &m, &e) < 0) {
		/* the message is part of what a bad file produces: build it too */
		vnet_error_format(&e, line, sizeof(line));
		return NULL;
	}
	plan(m);
	render(m);
	vnet_check_plan(m, &probes);
	vnet_probes_clear(&probes);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/*
	 * A copy of exactly @size bytes in a buffer of its own, with no terminating NUL: the
	 * parser takes a length, and ASan catches any read past it.
	 */
	char *text = malloc(size ? size : 1);
	struct vnet_model *plain, *sandboxed;

	if (!text)
		return 0;
	memcpy(text, data, size);
	plain = one(text, size, false, NULL);
	sandboxed = one(text, size, true, NULL);
	if (plain && sandboxed)
		replan(plain, sandboxed);
	vnet_model_free(plain);
	vnet_model_free(sandboxed);
	/* a file that spans hosts: h1's part, with the vxlans that join it to the others */
	vnet_model_free(one(text, size, false, "h1"));
	free(text);
	return 0;
}
