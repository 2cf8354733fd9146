// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-check.c - vnet check: probe a topology's expectations; a matrix, a list or JSON */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "vnet/check.h"

#define MATRIX_MAX 12 /* nodes; a larger matrix does not fit a terminal */

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* "tcp 80" or "icmp": what a probe sends. */
static void probe_kind(const struct vnet_probe *p, char *buf, size_t len)
{
	if (p->tcp_port)
		snprintf(buf, len, "tcp %u", p->tcp_port);
	else
		snprintf(buf, len, "%s", p->family == AF_INET ? "icmp" : "icmp6");
}

/* "c1 -> c2 (192.168.9.3) icmp": a probe in words. */
static void probe_text(const struct vnet_probe *p, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN], kind[16];

	inet_ntop(p->family, p->addr, ip, sizeof(ip));
	probe_kind(p, kind, sizeof(kind));
	if (p->to[0])
		snprintf(buf, len, "%s -> %s (%s) %s", p->from, p->to, ip, kind);
	else
		snprintf(buf, len, "%s -> %s %s", p->from, ip, kind);
}

/* One line for a probe: "ok   c1 -> c2 (192.168.9.3) icmp: 0.05 ms". */
static void print_probe(const struct vnet_model *m, const struct vnet_probe *p)
{
	char what[256], where[300] = "";

	probe_text(p, what, sizeof(what));
	if (p->check >= 0)
		snprintf(where, sizeof(where), "  [%s:%u]", m->file,
			 m->checks.v[p->check].pos.line);
	if (p->held && p->reached)
		printf("  ok    %s: %.2f ms%s\n", what, (double)p->rtt_us / 1e3, where);
	else if (p->held)
		printf("  ok    %s: not reached, as expected (%s)%s\n", what, p->error, where);
	else if (p->reached)
		printf("  FAIL  %s: reached in %.2f ms, but must not be%s\n", what,
		       (double)p->rtt_us / 1e3, where);
	else
		printf("  FAIL  %s: %s%s\n", what, p->error, where);
}

/* The nodes of the matrix, in the file's order; 0 when the probes do not fit one. */
static size_t matrix_nodes(const struct vnet_model *m, const struct vnet_probes *p,
			   const char **nodes)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].to[0])
			return 0; /* an address of no node has no column */
	for (size_t k = 0; k < m->ns.n; k++) {
		const char *node = m->ns.v[k].node;
		bool used = false;

		for (size_t i = 0; i < p->n && !used; i++)
			used = !strcmp(p->v[i].from, node) || !strcmp(p->v[i].to, node);
		if (used && n == MATRIX_MAX)
			return 0;
		if (used)
			nodes[n++] = node;
	}
	return n;
}

/* A cell: "ok" (reached), "no" (not reached, as expected), "FAIL", "-" (not probed). */
static const char *cell(const struct vnet_probes *p, const char *from, const char *to)
{
	bool any = false, fail = false, reached = false;

	for (size_t i = 0; i < p->n; i++) {
		const struct vnet_probe *q = &p->v[i];

		if (strcmp(q->from, from) || strcmp(q->to, to))
			continue;
		any = true;
		fail |= !q->held;
		reached |= q->reached;
	}
	return !any ? "-" : fail ? "FAIL" : reached ? "ok" : "no";
}

static void print_matrix(const struct vnet_probes *p, const char **nodes, size_t n)
{
	int w = 4;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(nodes[i]) > w)
			w = (int)strlen(nodes[i]);
	printf("%-*s", w + 6, "from \\ to");
	for (size_t j = 0; j < n; j++)
		printf(" %-*s", w, nodes[j]);
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		printf("%-*s", w + 6, nodes[i]);
		for (size_t j = 0; j < n; j++)
			printf(" %-*s", w, cell(p, nodes[i], nodes[j]));
		putchar('\n');
	}
	printf("(ok: reached; no: not reached, as expected; FAIL: an expectation failed; "
	       "-: not probed)\n");
}

static void print_text(const struct cli *cli, const struct vnet_model *m,
		       const struct vnet_probes *p, double ms)
{
	const char *nodes[MATRIX_MAX];
	size_t n = matrix_nodes(m, p, nodes), held = vnet_probes_held(p);

	if (n)
		print_matrix(p, nodes, n);
	for (size_t i = 0; i < p->n; i++)
		if (cli->verbose || !p->v[i].held)
			print_probe(m, &p->v[i]);
	printf("%s: %zu of %zu probes held (%s, %.0f ms)\n", m->name, held, p->n,
	       m->checks.n ? "the file's checks" : "every pair of nodes sharing a subnet", ms);
}

static json_t *probe_json(const struct vnet_model *m, const struct vnet_probe *p)
{
	char ip[INET6_ADDRSTRLEN];
	json_t *o;

	inet_ntop(p->family, p->addr, ip, sizeof(ip));
	o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "from", p->from, "to", p->to,
		      "address", ip, "kind", p->tcp_port ? "tcp" : "icmp", "expect_reach",
		      p->expect, "reached", p->reached, "held", p->held);
	if (p->tcp_port)
		json_object_set_new(o, "port", json_integer(p->tcp_port));
	json_object_set_new(o, "rtt_ms",
			    p->reached ? json_real((double)p->rtt_us / 1e3) : json_null());
	json_object_set_new(o, "error", p->reached ? json_null() : json_string(p->error));
	json_object_set_new(o, "line",
			    p->check >= 0 ? json_integer(m->checks.v[p->check].pos.line) :
					    json_null());
	return o;
}

/* Each tap of the file, opened as QEMU would open it (vnet_tap_check()); Return: how many
 * could not be; @ret_json gets them, or the text says the failures (all with --verbose). */
static size_t check_taps(const struct cli *cli, const struct vnet_model *m, json_t *ret_json)
{
	size_t bad = 0;

	for (size_t i = 0; i < m->links.n; i++) {
		const struct vnet_link *l = &m->links.v[i];
		struct vnet_error e = { 0 };
		char why[VNET_MSGSIZ + 200];
		int r;

		r = vnet_tap_check(l, &e);
		if (r == 1) /* not a tap */
			continue;
		bad += r < 0;
		vnet_error_format(&e, why, sizeof(why));
		if (ret_json)
			json_array_append_new(ret_json,
					      json_pack("{s:s, s:s, s:b, s:s?}", "tap", l->name,
							"netns", l->ns, "ok", r == 0, "error",
							r < 0 ? why : NULL));
		else if (r < 0)
			printf("FAIL %s\n", why);
		else if (cli->verbose)
			printf("ok   tap %s: QEMU can open it as the file makes it\n", l->name);
	}
	return bad;
}

static void print_json(const struct vnet_model *m, const struct vnet_probes *p, double ms,
		       json_t *taps, size_t bad_taps)
{
	json_t *a = json_array(), *o;
	size_t held = vnet_probes_held(p);

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(a, probe_json(m, &p->v[i]));
	o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:f, s:o, s:o}", "topology", m->name, "source",
		      m->checks.n ? "checks" : "default", "ok", held == p->n && !bad_taps, "held",
		      (json_int_t)held, "total", (json_int_t)p->n, "elapsed_ms", ms, "probes", a,
		      "taps", taps);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	json_decref(o);
}

/* A TCP probe holds a socket of its own: make room for them all, as far as allowed. */
static void raise_fd_limit(const struct vnet_probes *p)
{
	struct rlimit rl;
	rlim_t need = 64;

	for (size_t i = 0; i < p->n; i++)
		need += p->v[i].tcp_port ? 1 : 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* A probe that could not enter its namespace: the topology is most likely not up. */
static void hint_not_up(const struct vnet_model *m, const struct vnet_probes *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strncmp(p->v[i].error, "namespace ", 10)) {
			cli_errorf(0,
				   "%s: cannot enter namespace %s: is the topology up? "
				   "(vnet up %s%s)",
				   m->name, p->v[i].ns, m->file, m->sandbox ? " --sandbox" : "");
			return;
		}
}

int cmd_check(struct cli *cli)
{
	struct vnet_model *m = NULL;
	struct vnet_probes p = { 0 };
	struct vnet_error e = { 0 };
	struct timespec t0;
	size_t bad_taps;
	int code;

	code = cli_need_root();
	if (!code)
		code = cli_load(cli, cli->argv[0], &m);
	if (!code)
		code = cli_host_part(m);
	if (code)
		goto out;
	if (vnet_check_plan(m, &p) < 0) {
		code = cli_errorf(EXIT_FAILED, "out of memory");
		goto out;
	}
	raise_fd_limit(&p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (vnet_check_run(&p, NULL, &e) < 0) {
		code = cli_error(&e);
		goto out;
	}
	if (cli->json) {
		json_t *taps = json_array();

		bad_taps = check_taps(cli, m, taps);
		print_json(m, &p, ms_since(&t0), taps, bad_taps);
	} else {
		print_text(cli, m, &p, ms_since(&t0));
		bad_taps = check_taps(cli, m, NULL);
	}
	hint_not_up(m, &p);
	/* 1: an expectation failed, or QEMU could not open a tap */
	code = vnet_probes_held(&p) == p.n && !bad_taps ? EXIT_OK : EXIT_DRIFT;
out:
	vnet_probes_clear(&p);
	vnet_model_free(m);
	return code;
}
