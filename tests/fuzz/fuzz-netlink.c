// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-netlink.c - libFuzzer target: the kernel's dump answers through observe and after it */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kernel.h"
#include "uplink.h"
#include "vnet/render.h"
#include "vnet/vnet.h"

/*
 * The kernel is outside input too: a newer kernel adds attributes, an older one leaves some
 * out, and interface names and aliases are anybody's bytes. An input is a run of netlink
 * messages as links, addresses and routes dumps answer (the corpus holds real answers,
 * captured by tests/fuzz/capture-netlink); it goes through the parsing `vnet show`,
 * `vnet stp`, `vnet diff` and `vnet down` rely on, then through what each does with the
 * model. Nothing here reaches the kernel.
 */

/* What `vnet stp` prints: every port's role as its bridge sees it. */
static void roles(const struct vnet_model *m)
{
	char id[32];

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *p = &m->links.v[i], *br;

		if (!p->master[0])
			continue;
		br = vnet_model_find_link(m, p->ns, p->master);
		if (!br)
			continue;
		vnet_stp_id_format(br->stp_br.root_id, id, sizeof(id));
		(void)vnet_stp_role_name(vnet_stp_port_role(br, p));
		(void)vnet_stp_state_name(p->stp_port.state);
	}
}

/* `show --json` must stay valid JSON whatever bytes the kernel's names hold. */
static void json_valid(const struct vnet_model *m)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	json_t *o;

	if (!f)
		abort();
	if (vnet_render_json(m, f) < 0) {
		fclose(f);
		free(s);
		return;
	}
	fclose(f);
	o = json_loadb(s, len, 0, NULL);
	if (!o)
		abort();
	json_decref(o);
	free(s);
}

/*
 * The same bytes as the state store's record of a NIC an uplink took over: a corrupt or
 * crafted store must be refused or survive being drawn, planned and made into the
 * batches that take the NIC over and give it back.
 */
static void uplink_record(struct vnet_model *m, void *buf, size_t size)
{
	struct vnet_uplink_saved in = { .ifindex = 2, .mtu = 1500, .msgs = buf, .len = size };
	struct vnet_uplink_change c = { 0 };
	struct vnet_uplink *u;
	struct vnet_batch b;
	struct vnet_plan *p = NULL;
	void *blob = NULL;
	size_t len = 0;

	if (vnet_uplink_saved_encode(&in, &blob, &len) < 0)
		return;
	u = vnet_model_add_uplink(m);
	if (!u || vnet_uplink_saved_decode(blob, len, &u->saved) < 0) {
		m->uplinks.n -= u != NULL;
		free(blob);
		return;
	}
	free(blob);
	snprintf(u->bridge, sizeof(u->bridge), "br-wan");
	snprintf(u->nic, sizeof(u->nic), "eth0");
	u->owned = u->exists = u->taken = true;
	c.u = *u;
	c.saved = *u->saved;
	vnet_batch_init(&b);
	for (int give = 0; give <= 1; give++) {
		vnet_uplink_messages(&b, &c, 2, give ? 0 : 3, give);
		vnet_batch_reset(&b);
	}
	vnet_batch_free(&b);
	vnet_render_text(m, 80, devnull);
	json_valid(m);
	if (!vnet_plan_down(m, &p))
		describe(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly @size bytes, so that ASan sees any read past the end */
	void *buf = malloc(size ? size : 1);
	struct vnet_model *m = NULL, *empty;
	struct vnet_plan *p = NULL;
	struct vnet_error e;
	char line[512];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (vnet_observe_replay("t", buf, size, &m) < 0) {
		free(buf);
		return 0;
	}
	/* as the state store says of a namespace vnet made; the corpus's tags name topologies
	 * of the capture, so any vnet tag counts here */
	m->ns.v[0].owned = true;
	for (size_t i = 0; i < m->links.n; i++)
		if (!strncmp(m->links.v[i].alias, VNET_TAG_PREFIX, strlen(VNET_TAG_PREFIX)))
			m->links.v[i].owned = true;
	vnet_render_text(m, 80, devnull);
	vnet_render_compact(m, devnull);
	json_valid(m);
	vnet_render_dot(m, devnull);
	vnet_render_svg(m, devnull);
	fflush(devnull);
	roles(m);
	if (!vnet_plan_down(m, &p)) /* vnet down */
		describe(p);
	empty = vnet_model_new(); /* vnet up of a file that dropped everything */
	if (empty) {
		snprintf(empty->name, sizeof(empty->name), "t");
		if (!vnet_plan_up(empty, m, &p, &e))
			describe(p);
		else
			vnet_error_format(&e, line, sizeof(line));
		vnet_model_free(empty);
	}
	uplink_record(m, buf, size);
	vnet_model_free(m);
	free(buf);
	return 0;
}
