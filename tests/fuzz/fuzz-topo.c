// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-topo.c - libFuzzer target: a topology file through parsing and every stage after it */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/check.h"
#include "vnet/render.h"
#include "vnet/vnet.h"

/*
 * Nothing here may reach the kernel: the stages driven below are the pure ones (parse,
 * validate, plan against an empty observed model, describe, render, check planning). The
 * only system access is /dev/null for the renderers, and the passwd and group databases
 * that tun/tap "owner" and "group" names are looked up in.
 */

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Opened once and kept: reachable at exit, so the leak check does not count it. */
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
	return 0;
}

/* The plan from nothing to @m, and a line for every step of it. */
static void plan(const struct vnet_model *m)
{
	struct vnet_model *empty = vnet_model_new();
	struct vnet_plan *p = NULL;
	struct vnet_error e;
	char line[512];

	if (!empty)
		return;
	if (!vnet_plan_up(m, empty, &p, &e)) {
		for (size_t i = 0; i < p->ops.n; i++)
			vnet_op_describe(&p->ops.v[i], line, sizeof(line));
		vnet_plan_free(p);
	} else {
		vnet_error_format(&e, line, sizeof(line));
	}
	vnet_model_free(empty);
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

static void one(const char *text, size_t len, bool sandbox)
{
	struct vnet_load_opts o = { .sandbox = sandbox };
	struct vnet_probes probes = { 0 };
	struct vnet_model *m = NULL;
	struct vnet_error e;
	char line[1024];

	if (vnet_topo_parse_string(text, len, "fuzz.yaml", &o, &m, &e) < 0) {
		/* the message is part of what a bad file produces: build it too */
		vnet_error_format(&e, line, sizeof(line));
		return;
	}
	plan(m);
	render(m);
	vnet_check_plan(m, &probes);
	vnet_probes_clear(&probes);
	vnet_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/*
	 * A copy of exactly @size bytes in a buffer of its own, with no terminating NUL: the
	 * parser takes a length, and ASan catches any read past it.
	 */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	one(text, size, false);
	one(text, size, true);
	free(text);
	return 0;
}
