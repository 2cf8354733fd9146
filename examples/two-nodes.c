// SPDX-License-Identifier: LGPL-2.1-or-later
/* two-nodes.c - example: two nodes joined by a veth pair, built through libvnet's public API */
/*
 * Build it against an installed libvnet:
 *
 *	cc two-nodes.c $(pkg-config --cflags --libs vnet) -o two-nodes
 *
 * and, as root:
 *
 *	./two-nodes /tmp/state demo        # namespaces demo-a and demo-b, 10.0.0.1 <-> 10.0.0.2
 *	ip netns exec demo-a ping -c 1 10.0.0.2
 *	./two-nodes /tmp/state demo down   # removes exactly what up made
 *
 * The state directory is vnet's store: what the topology owns is recorded there, so
 * `vnet --state-dir /tmp/state show demo` (or list, or down) sees the same network.
 */
#include <stdio.h>
#include <string.h>
#include <vnet/vnet.h>

/* The topology, as a file would say it (vnet-topology(5)). */
static const char topology[] = "nodes:\n"
			       "  a:\n"
			       "  b:\n"
			       "veths:\n"
			       "  - a/eth0: {addresses: 10.0.0.1/24}\n"
			       "    b/eth0: {addresses: 10.0.0.2/24}\n";

/* Print a library error as one line; Return: the exit status, 1. */
static int report(const char *what, const struct vnet_error *e)
{
	char line[1024];

	vnet_error_format(e, line, sizeof(line));
	fprintf(stderr, "two-nodes: %s: %s\n", what, line);
	return 1;
}

/* Print the steps of a command that succeeded (so all of them took effect), one a line. */
static void print_steps(const struct vnet_result *res)
{
	char line[512];

	for (size_t i = 0; res->plan && i < res->plan->ops.n; i++) {
		vnet_op_describe(&res->plan->ops.v[i], line, sizeof(line));
		printf("  %s\n", line);
	}
}

/* Parse the topology under @name and bring it up. */
static int up(struct vnet_session *s, const char *name)
{
	/* sandbox: even the host part would live in a namespace of its own, "NAME-host" */
	struct vnet_load_opts opts = { .name = name, .sandbox = true };
	struct vnet_model *m = NULL;
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	int code = 0;

	/* parse and validate: the "path" only names the text in error messages */
	if (vnet_topo_parse_string(topology, strlen(topology), "two-nodes", &opts, &m, &e) < 0)
		return report("topology", &e);
	if (vnet_up(s, m, 0, &res, &e) < 0) {
		code = report("up", &e); /* what was done before the failure has been undone */
	} else {
		printf("%s: up in %zu step(s):\n", name, res.done);
		print_steps(&res);
		printf("try: ip netns exec %s-a ping -c 1 10.0.0.2\n", name);
	}
	vnet_result_clear(&res);
	vnet_model_free(m);
	return code;
}

/* Remove what the topology @name made, and nothing else. */
static int down(struct vnet_session *s, const char *name)
{
	struct vnet_result res = { 0 };
	struct vnet_error e = { 0 };
	int code = 0;

	if (vnet_down(s, name, 0, &res, &e) < 0) {
		code = report("down", &e);
	} else {
		printf("%s: down in %zu step(s):\n", name, res.done);
		print_steps(&res);
	}
	vnet_result_clear(&res);
	return code;
}

int main(int argc, char **argv)
{
	struct vnet_session *s = NULL;
	struct vnet_error e = { 0 };
	int code;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "down"))) {
		fprintf(stderr, "usage: two-nodes STATE-DIR NAME [down]\n");
		return 2;
	}
	/* lock: this program changes the kernel, so it waits for any other vnet that does */
	if (vnet_session_open(argv[1], true, &s, &e) < 0)
		return report(argv[1], &e);
	code = argc == 4 ? down(s, argv[2]) : up(s, argv[2]);
	vnet_session_close(s);
	return code;
}
