// SPDX-License-Identifier: LGPL-2.1-or-later
/* output.c - the command's shared chores: errors, privileges, loading, printing plans */
#include <errno.h>
#include <jansson.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

/*
 * The exit code of a refusal by the kernel or the state store (vnet(8), EXIT STATUS). Only
 * errors from there come here: a topology file's errors are 2 whatever their errno, and
 * an EINVAL from the kernel is its refusal (3), not a bad command line.
 */
int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EEXIST:
		return EXIT_CONFLICT;
	case -EPERM:
	case -EACCES:
		return EXIT_NOPERM;
	case -EHOSTUNREACH:
		return EXIT_PROBE;
	default:
		return EXIT_FAILED;
	}
}

/* "vnet: " and @msg escaped, on stderr. */
static void put_error(const char *msg)
{
	char esc[VNET_ESC_SIZE(VNET_MSGSIZ + 512)];

	fprintf(stderr, "vnet: %s\n", vnet_escape(msg, esc, sizeof(esc)));
}

/* An error from the library: a topology file's (err 0) is 2, the kernel's as it says. */
int cli_error(const struct vnet_error *e)
{
	return cli_error_as(e, e->err ? cli_exit_code(e->err) : EXIT_USAGE);
}

/* The same with the exit code the caller knows: a name that is not up is a usage error. */
int cli_error_as(const struct vnet_error *e, int code)
{
	char line[VNET_MSGSIZ + 512];

	vnet_error_format(e, line, sizeof(line));
	put_error(line);
	return code;
}

int cli_errorf(int code, const char *fmt, ...)
{
	char msg[VNET_MSGSIZ + 512];
	va_list ap;

	va_start(ap, fmt);
	/* clang 14's analyzer misses the va_start above (a known false positive) */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_error(msg);
	return code;
}

/* Changing namespaces needs CAP_SYS_ADMIN (setns, mount) as well as CAP_NET_ADMIN. */
int cli_need_root(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	const unsigned need[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0; /* let the kernel say no later */
	for (size_t i = 0; i < 2; i++)
		if (!(data[need[i] / 32].effective & (1U << (need[i] % 32))))
			return cli_errorf(
				EXIT_NOPERM,
				"needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to reach the "
				"kernel's network; run it with sudo");
	return 0;
}

int cli_load(const struct cli *cli, const char *path, struct vnet_model **ret)
{
	struct vnet_load_opts opts = { .name = cli->name,
				       .sandbox = cli->sandbox,
				       .host = cli->host };
	struct vnet_error e = { 0 };
	int r = vnet_topo_load(path, &opts, ret, &e);

	if (r < 0) {
		if (!e.msg[0])
			return cli_errorf(EXIT_USAGE, "%s: %s", path, strerror(-r));
		cli_error(&e);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_host_part(const struct vnet_model *m)
{
	char names[512] = "";
	size_t off = 0;

	if (!m->hosts.n || m->host[0])
		return 0;
	for (size_t i = 0; i < m->hosts.n && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? ", " : "",
					m->hosts.v[i].name);
	return cli_errorf(EXIT_USAGE, "%s spans hosts (%s): say which one's part with --host NAME",
			  m->file, names);
}

/*
 * Open the store; to change the kernel, take its lock, and when another command holds
 * it (an up waiting for STP, a long build), say whom we wait for rather than hang mute.
 */
int cli_session(const struct cli *cli, bool lock, struct vnet_session **ret)
{
	char esc[VNET_ESC_SIZE(VNET_MSGSIZ)];
	struct vnet_error e = { 0 };
	int r = vnet_session_open(cli->state_dir, false, ret, &e);

	if (r >= 0 && lock && (r = vnet_session_lock(*ret, false, &e)) == -EBUSY) {
		fprintf(stderr, "vnet: waiting for the state store (%s): %s\n", cli->state_dir,
			vnet_escape(e.msg, esc, sizeof(esc)));
		r = vnet_session_lock(*ret, true, &e);
	}
	if (r < 0) {
		vnet_session_close(*ret);
		*ret = NULL;
		return cli_error(&e);
	}
	return 0;
}

void cli_print_notes(const char *topo, const struct vnet_result *res)
{
	char name[VNET_ESC_SIZE(VNET_NAMSIZ)], line[VNET_ESC_SIZE(512)], one[512];
	const char *p = res->notes;

	vnet_escape(topo, name, sizeof(name));
	while (p && *p) {
		size_t n = strcspn(p, "\n");

		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		fprintf(stderr, "vnet: %s: %s\n", name, vnet_escape(one, line, sizeof(line)));
		p += n + (p[n] == '\n');
	}
}

static char sign(const struct vnet_op *op)
{
	switch (op->kind) {
	case VNET_OP_NS_ADD:
	case VNET_OP_LINK_ADD:
	case VNET_OP_ADDR_ADD:
	case VNET_OP_ROUTE_ADD:
		return '+';
	case VNET_OP_LINK_SET:
	case VNET_OP_NAT:
	case VNET_OP_UPLINK:
		return '~';
	default:
		return '-';
	}
}

/* The steps done beside the plan (the tunnels'), lines "  C STEP", as the plan's are. */
static void more_json(json_t *steps, const char *more)
{
	for (const char *p = more; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char s[2] = { n > 4 ? p[2] : 0, 0 };

		if (n > 4)
			json_array_append_new(steps, json_pack("{s:s, s:s%}", "change", s, "step",
							       p + 4, n - 4));
		p += n + (nl != NULL);
	}
}

static void print_plan_json(const char *topo, const struct vnet_result *res, const char *verb,
			    const char *more, const struct vnet_error *err)
{
	json_t *steps = json_array();
	char line[256];

	for (size_t i = 0; res->plan && i < res->plan->ops.n; i++) {
		const struct vnet_op *op = &res->plan->ops.v[i];
		char s[2] = { sign(op), 0 };

		vnet_op_describe(op, line, sizeof(line));
		json_array_append_new(steps, json_pack("{s:s, s:s}", "change", s, "step", line));
	}
	more_json(steps, more);
	json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:b, s:f, s:f}", "topology", topo, "action",
			      verb, "steps", steps, "done", (json_int_t)res->done, "recovered",
			      res->recovered, "observe_ms", res->observe_us / 1000.0, "apply_ms",
			      res->apply_us / 1000.0);

	if (res->stp_ms >= 0 && !strcmp(verb, "up"))
		json_object_set_new(o, "stp_converge_ms", json_integer(res->stp_ms));
	if (res->ipam_us)
		json_object_set_new(o, "ipam_ms", json_real(res->ipam_us / 1000.0));
	if (res->nat_us)
		json_object_set_new(o, "nat_ms", json_real(res->nat_us / 1000.0));
	if (res->probe_us)
		json_object_set_new(o, "uplink_probe_ms", json_real(res->probe_us / 1000.0));
	if (res->restore_us)
		json_object_set_new(o, "uplink_restore_ms", json_real(res->restore_us / 1000.0));
	if (err) {
		char msg[VNET_MSGSIZ + 512];

		vnet_error_format(err, msg, sizeof(msg));
		json_object_set_new(o, "error", json_string(msg));
	}

	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
}

/* Is step @i only the settings of something the same plan creates? Shown with --verbose. */
static bool part_of_creation(const struct vnet_plan *plan, size_t i)
{
	const struct vnet_link *l = &plan->ops.v[i].link;

	if (plan->ops.v[i].kind != VNET_OP_LINK_SET)
		return false;
	for (size_t j = 0; j < i; j++) {
		const struct vnet_op *op = &plan->ops.v[j];

		if (op->kind == VNET_OP_NS_ADD && !strcmp(l->name, "lo") &&
		    !strcmp(op->ns.name, l->ns))
			return true;
		if (op->kind == VNET_OP_LINK_ADD &&
		    ((!strcmp(op->link.name, l->name) && !strcmp(op->link.ns, l->ns)) ||
		     (!strcmp(op->link.peer, l->name) && !strcmp(op->link.peer_ns, l->ns))))
			return true;
	}
	return false;
}

/* The plan, one step a line with +, - or ~; or the JSON form. */
void cli_print_plan(const struct cli *cli, const char *topo, const struct vnet_result *res,
		    const char *verb, const char *more)
{
	size_t n = res->plan ? res->plan->ops.n : 0;
	char line[256], esc[VNET_ESC_SIZE(256)];

	if (cli->json) {
		print_plan_json(topo, res, verb, more, NULL);
		return;
	}
	if (res->recovered)
		printf("%s: repairing an apply that was interrupted\n",
		       vnet_escape(topo, esc, sizeof(esc)));
	for (size_t i = 0; i < n; i++) {
		if (!cli->verbose && part_of_creation(res->plan, i))
			continue;
		vnet_op_describe(&res->plan->ops.v[i], line, sizeof(line));
		printf("  %c %s\n", sign(&res->plan->ops.v[i]),
		       vnet_escape(line, esc, sizeof(esc)));
	}
	fputs(more ? more : "", stdout);
}

void cli_print_failure_json(const char *topo, const struct vnet_result *res, const char *verb,
			    const struct vnet_error *e)
{
	print_plan_json(topo, res, verb, NULL, e);
}

/*
 * Is @arg a FILE rather than a topology NAME? By its spelling alone, never by what the
 * current directory holds: `vnet down docker` next to a file named docker must take down
 * docker, not the topology that file happens to declare.
 */
static bool is_file(const char *arg)
{
	size_t n = strlen(arg);

	return strchr(arg, '/') || (n > 5 && !strcmp(arg + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(arg + n - 4, ".yml"));
}

/* A FILE operand stands for the topology its file declares; anything else is a name. */
int cli_topo_name(const struct cli *cli, const char *arg, char *buf, size_t len)
{
	struct vnet_model *m = NULL;
	int code;

	if (!is_file(arg)) {
		snprintf(buf, len, "%s", arg);
		return 0;
	}
	code = cli_load(cli, arg, &m);
	if (!code)
		snprintf(buf, len, "%s", m->name);
	vnet_model_free(m);
	return code;
}
