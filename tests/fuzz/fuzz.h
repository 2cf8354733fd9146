/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz.h - what the libFuzzer targets share: a sink for the renderers, plans described */
#ifndef VNET_FUZZ_H
#define VNET_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vnet/vnet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Opened once and kept: reachable at exit, so the leak check does not count it. */
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
	return 0;
}

/* A line for every step of @p, then @p freed. */
static inline void describe(struct vnet_plan *p)
{
	char line[512];

	for (size_t i = 0; i < p->ops.n; i++)
		vnet_op_describe(&p->ops.v[i], line, sizeof(line));
	vnet_plan_free(p);
}

#endif /* VNET_FUZZ_H */
