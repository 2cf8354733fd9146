// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-cni.c - libFuzzer target: a CNI configuration, as vnet-cni reads it for each verb */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/conf.h"

/*
 * The configuration on stdin and CNI_ARGS are the runtime's input: read as ADD, DEL,
 * CHECK and GC, with the first line of the input as CNI_ARGS. Nothing here reaches the
 * kernel or the store: cni_read_call() and cni_conf_read() only parse; CHECK's prevResult is
 * read as a result too. The error object is printed as the plugin would.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const verbs[] = { "ADD", "DEL", "CHECK", "GC" };
	const uint8_t *nl = memchr(data, '\n', size);
	size_t alen = nl ? (size_t)(nl - data) : 0;
	char *args = strndup((const char *)data, alen);
	FILE *sink = fopen("/dev/null", "we");

	if (!args || !sink)
		abort();
	setenv("CNI_CONTAINERID", "c0ffee", 1);
	setenv("CNI_NETNS", "/run/netns/fuzz", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_PATH", "/nonexistent", 1);
	setenv("CNI_ARGS", args, 1);
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		const uint8_t *conf = nl ? nl + 1 : data;
		size_t clen = size - (size_t)(conf - data);
		FILE *in = fmemopen(clen ? (void *)conf : (void *)"", clen ? clen : 1, "r");
		struct cni_conf *cf = calloc(1, sizeof(*cf));
		struct cni_error e = { 0 };
		struct cni_call c;

		if (!in || !cf)
			abort();
		setenv("CNI_COMMAND", verbs[v], 1);
		if (cni_read_call(&c, in, &e) == 0 && cni_conf_read(&c, cf, &e) == 0 &&
		    c.cmd == CNI_CHECK)
			cni_prev_result(&c, cf, &e);
		if (e.code)
			cni_print_error(sink, c.version, &e);
		cni_call_clear(&c);
		free(cf);
		fclose(in);
	}
	fclose(sink);
	free(args);
	return 0;
}
