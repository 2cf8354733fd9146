// SPDX-License-Identifier: LGPL-2.1-or-later
/* cni-view.c - the CNI networks of vnet-cni in vnet list and vnet show: text and JSON */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Attachments @v[i..) of the same network as @v[i]: how many. */
static size_t run_of(const struct vnet_cni_attachment *v, size_t n, size_t i)
{
	size_t k = i;

	while (k < n && !strcmp(v[k].net, v[i].net))
		k++;
	return k - i;
}

/* A network's @k attachments @v: whether one is incomplete or missing; the last change. */
static bool network_state(const struct vnet_cni_attachment *v, size_t k, long long *ret_at)
{
	bool bad = false;

	*ret_at = 0;
	for (size_t j = 0; j < k; j++) {
		bad |= !v[j].ready || !v[j].present;
		*ret_at = v[j].at > *ret_at ? v[j].at : *ret_at;
	}
	return bad;
}

/* One line per network; Return: 1 when there was one, 0 when none, -1 when unreadable. */
int cni_list_text(struct vnet_session *s)
{
	struct vnet_cni_attachment *v = NULL;
	size_t n = 0;

	if (vnet_cni_list(s, NULL, &v, &n) < 0)
		return -1;
	for (size_t i = 0, k; i < n; i += k) {
		char name[VNET_ESC_SIZE(132)], raw[136], when[32];
		long long at;
		bool bad;

		k = run_of(v, n, i);
		bad = network_state(v + i, k, &at);
		snprintf(raw, sizeof(raw), "cni/%s", v[i].net);
		vnet_escape(raw, name, sizeof(name));
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&(time_t){ (time_t)at }));
		printf("%-20s %4zu containers  %s  bridge %s (vnet-cni)%s\n", name, k, when,
		       v[i].bridge, bad ? "  INCOMPLETE" : "");
	}
	free(v);
	return n > 0;
}

static json_t *attachment_json(const struct vnet_cni_attachment *c)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:I}",
			 "container", c->cid, "ifname", c->ifname, "netns", c->netns, "host",
			 c->host, "mac", c->mac, "addresses", c->addrs, "ports", c->ports, "ipam",
			 c->ipam, "bridge", c->bridge, "ready", c->ready, "present", c->present,
			 "created", (json_int_t)c->at);
}

/* One element per network for vnet list --json: the topologies' keys, and "cni". */
int cni_list_json(struct vnet_session *s, json_t *array)
{
	struct vnet_cni_attachment *v = NULL;
	size_t n = 0;

	if (vnet_cni_list(s, NULL, &v, &n) < 0)
		return -1;
	for (size_t i = 0, k; i < n; i += k) {
		char name[140];
		long long at;
		bool bad;

		k = run_of(v, n, i);
		bad = network_state(v + i, k, &at);
		snprintf(name, sizeof(name), "cni/%s", v[i].net);
		json_array_append_new(
			array, json_pack("{s:s, s:s, s:b, s:I, s:i, s:b, s:{s:s, s:i}}", "name",
					 name, "file", "", "sandbox", 0, "updated", (json_int_t)at,
					 "objects", (int)k, "interrupted", bad, "cni", "bridge",
					 v[i].bridge, "containers", (int)k));
	}
	free(v);
	return 0;
}

static void show_text(const struct vnet_cni_attachment *v, size_t n, const char *net)
{
	printf("cni network %s: bridge %s, %zu container%s (vnet-cni; nftables table ip vnet-cni)\n",
	       net, n ? v[0].bridge : "?", n, n == 1 ? "" : "s");
	printf(" %s\n", n ? v[0].bridge : "?");
	for (size_t i = 0; i < n; i++) {
		const struct vnet_cni_attachment *c = &v[i];

		printf(" %s── %-15s ─── %s %s  container %.12s%s", i + 1 < n ? "├" : "└", c->host,
		       c->ifname, c->addrs[0] ? c->addrs : "(no address)", c->cid,
		       strlen(c->cid) > 12 ? "…" : "");
		if (c->ports[0])
			printf("  ports %s", c->ports);
		if (!c->ready)
			printf("  [INCOMPLETE: being made, or cut short; DEL or GC removes it]");
		else if (!c->present)
			printf("  [MISSING: the host end is not on the bridge]");
		printf("\n %s     netns %s, mac %s, ipam %s\n", i + 1 < n ? "│" : " ",
		       c->netns[0] ? c->netns : "?", c->mac[0] ? c->mac : "?",
		       c->ipam[0] ? c->ipam : "none");
	}
}

int cni_show_all(struct vnet_session *s, bool after)
{
	struct vnet_cni_attachment *v = NULL;
	size_t n = 0;

	if (vnet_cni_list(s, NULL, &v, &n) < 0)
		return -1;
	for (size_t i = 0, k; i < n; i += k) {
		k = run_of(v, n, i);
		if (i || after)
			putchar('\n');
		show_text(v + i, k, v[i].net);
	}
	free(v);
	return n > 0;
}

int cni_show(const struct cli *cli, struct vnet_session *s, const char *net)
{
	struct vnet_cni_attachment *v = NULL;
	size_t n = 0;

	if (vnet_cni_list(s, net, &v, &n) < 0)
		return cli_errorf(EXIT_FAILED, "cannot read the state store in %s", cli->state_dir);
	if (!n) {
		free(v);
		return cli_errorf(
			EXIT_USAGE,
			"show: no CNI network named \"%s\" has containers (see vnet list)", net);
	}
	if (cli->json) {
		json_t *a = json_array(), *o;

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, attachment_json(&v[i]));
		o = json_pack("{s:s, s:s, s:o}", "cni", net, "bridge", v[0].bridge, "attachments",
			      a);
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else if (cli->dot || cli->svg) {
		free(v);
		return cli_errorf(EXIT_USAGE, "show: a CNI network is drawn as text or --json");
	} else {
		show_text(v, n, net);
	}
	free(v);
	return EXIT_OK;
}
