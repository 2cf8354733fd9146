// SPDX-License-Identifier: LGPL-2.1-or-later
/* nat.c - vnet's nftables table: masquerade, published ports, isolation; IPv4 forwarding */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "array.h"
#include "cleanup.h"
#include "nat.h"
#include "network.h"

/*
 * One table per topology, in the host part. Its chains are fixed; what a topology says
 * lives in the elements of its sets and maps, keyed by address and port, so that the
 * 1000th container costs one element, as the first did:
 *   bridges   the networks' bridges              masq      subnets that are masqueraded
 *   nets      every network's subnet             internal  bridges of internal networks
 *   allowed   (in . out) bridge pairs that may forward: each to itself, and "connect"
 *   tcp_any, udp_any: host port -> container address . port
 *   tcp_at,  udp_at:  host address . host port -> container address . port
 * The skeleton is written as `nft -t list table` prints it, so that a listing equal to it
 * proves the chains and rules are vnet's, unedited. Published ports are matched on the
 * host's own addresses (fib daddr type local), in prerouting and, for the host itself, in
 * output. A connection that was forwarded into a bridge by a published port is masqueraded
 * when it comes from a network (hairpin: the container must answer through the host).
 */
static const char skeleton_fmt[] =
	"table ip %1$s {\n"
	"\tcomment \"%2$s\"\n"
	"\tset bridges {\n\t\ttype ifname\n\t}\n\n"
	"\tset masq {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n\n"
	"\tset nets {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n\n"
	"\tset internal {\n\t\ttype ifname\n\t}\n\n"
	"\tset allowed {\n\t\ttype ifname . ifname\n\t}\n\n"
	"\tmap tcp_any {\n\t\ttype inet_service : ipv4_addr . inet_service\n\t}\n\n"
	"\tmap tcp_at {\n\t\ttype ipv4_addr . inet_service : ipv4_addr . inet_service\n\t}\n\n"
	"\tmap udp_any {\n\t\ttype inet_service : ipv4_addr . inet_service\n\t}\n\n"
	"\tmap udp_at {\n\t\ttype ipv4_addr . inet_service : ipv4_addr . inet_service\n\t}\n\n"
	"\tchain prerouting {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tfib daddr type local jump publish\n"
	"\t}\n\n"
	"\tchain output {\n"
	"\t\ttype nat hook output priority -100; policy accept;\n"
	"\t\tfib daddr type local jump publish\n"
	"\t}\n\n"
	"\tchain publish {\n"
	"\t\tdnat ip to ip daddr . tcp dport map @tcp_at\n"
	"\t\tdnat ip to tcp dport map @tcp_any\n"
	"\t\tdnat ip to ip daddr . udp dport map @udp_at\n"
	"\t\tdnat ip to udp dport map @udp_any\n"
	"\t}\n\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\tct status dnat ip saddr @nets oifname @bridges masquerade\n"
	"\t\tip saddr @masq oifname != @bridges masquerade\n"
	"\t}\n\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname . oifname @allowed accept\n"
	"\t\tiifname @internal drop\n"
	"\t\toifname @internal drop\n"
	"\t\tiifname @bridges oifname @bridges drop\n"
	"\t}\n"
	"}\n";

/* A growing text; Return: 0 or -ENOMEM. */
struct text {
	char *s;
	size_t len, cap;
};

static int text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): clang 14 misses the va_start
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || vnet_grow((void **)&t->s, &t->cap, t->len + (size_t)n + 1, 1) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): as above
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
	return 0;
}

void vnet_nat_seen_free(struct vnet_nat_seen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->elems[i]);
	free(s->elems);
	free(s);
}

void vnet_nat_change_free(struct vnet_nat_change *c)
{
	if (!c)
		return;
	free(c->script);
	free(c->undo);
	free(c);
}

/* ---- the elements a model asks for ---- */

static const char *ip4(const uint8_t a[4], char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

int vnet_nat_network_elems(const struct vnet_network *n, struct vnet_strv *s)
{
	char a[INET_ADDRSTRLEN];
	int r = vnet_strv_add(s, "bridges \"%s\"", n->name);

	if (!r)
		r = vnet_strv_add(s, "nets %s/%u", ip4(n->subnet, a), n->prefixlen);
	if (!r && n->masquerade)
		r = vnet_strv_add(s, "masq %s/%u", a, n->prefixlen);
	if (!r && n->internal)
		r = vnet_strv_add(s, "internal \"%s\"", n->name);
	if (!r)
		r = vnet_strv_add(s, "allowed \"%s\" . \"%s\"", n->name, n->name);
	/* a routed network's overlay: counted among the bridges (what goes out there keeps its
	 * address), joined to the network both ways */
	if (!r && n->overlay[0])
		r = vnet_strv_add(s, "bridges \"%s\"", n->overlay);
	if (!r && n->overlay[0])
		r = vnet_strv_add(s, "allowed \"%s\" . \"%s\"", n->name, n->overlay);
	if (!r && n->overlay[0])
		r = vnet_strv_add(s, "allowed \"%s\" . \"%s\"", n->overlay, n->name);
	return r;
}

static int network_elems(const struct vnet_model *m, struct vnet_strv *s)
{
	int r = 0;

	for (size_t i = 0; !r && i < m->networks.n; i++)
		r = vnet_nat_network_elems(&m->networks.v[i], s);
	for (size_t i = 0; !r && i < m->connects.n; i++) {
		const struct vnet_connect *c = &m->connects.v[i];

		r = vnet_strv_add(s, "allowed \"%s\" . \"%s\"", c->a, c->b);
		if (!r)
			r = vnet_strv_add(s, "allowed \"%s\" . \"%s\"", c->b, c->a);
	}
	return r;
}

int vnet_nat_port_elem(const struct vnet_port *p, struct vnet_strv *s)
{
	const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
	char h[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];

	ip4(p->addr, a);
	if (p->has_host_addr)
		return vnet_strv_add(s, "%s_at %s . %u : %s . %u", proto, ip4(p->host_addr, h),
				     p->host_port, a, p->port);
	return vnet_strv_add(s, "%s_any %u : %s . %u", proto, p->host_port, a, p->port);
}

/* Sorted, each once (a connect given from both sides is one pair of elements). */
static int want_elems(const struct vnet_model *m, struct vnet_strv *s)
{
	static const uint8_t none[4];
	int r = network_elems(m, s);
	size_t u = 0;

	for (size_t i = 0; !r && i < m->ports.n; i++)
		if (memcmp(m->ports.v[i].addr, none, 4)) /* known once leased */
			r = vnet_nat_port_elem(&m->ports.v[i], s);
	if (r < 0)
		return r;
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), vnet_str_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (u && !strcmp(s->v[u - 1], s->v[i]))
			free(s->v[i]);
		else
			s->v[u++] = s->v[i];
	}
	s->n = u;
	return 0;
}

/* ---- running nft and the sysctl in a namespace ---- */

/* nft's own words for a failure, on one line. */
static void nft_words(struct nft_ctx *nft, char *buf, size_t len)
{
	const char *e = nft_ctx_get_error_buffer(nft);

	snprintf(buf, len, "%s", e && *e ? e : "nft refused the change");
	for (char *c = buf; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	for (size_t n = strlen(buf); n && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
}

struct nft_job {
	const char *cmd;
	unsigned flags; /* NFT_CTX_OUTPUT_* */
	char *out; /* the output, for the caller to free */
	char err[VNET_MSGSIZ - 64];
};

/*
 * Contexts whose freeing waits (vnet_nft_defer()): closing nftables' socket after a
 * transaction that deleted something waits for the kernel's deferred destruction of it,
 * an RCU grace period (10 ms here); a caller with other slow work frees them after it.
 */
static __thread struct nft_ctx *deferred[8];
static __thread struct mnl_socket *deferred_nl[8];
static __thread bool defer;

void vnet_nft_defer(bool on)
{
	defer = on;
	for (size_t i = 0; !on && i < sizeof(deferred) / sizeof(deferred[0]); i++) {
		if (deferred[i])
			nft_ctx_free(deferred[i]);
		if (deferred_nl[i])
			mnl_socket_close(deferred_nl[i]);
		deferred[i] = NULL;
		deferred_nl[i] = NULL;
	}
}

/* Close @nl, or keep it for vnet_nft_defer(false) (the same wait as a context's). */
static void socket_free(struct mnl_socket *nl)
{
	for (size_t i = 0; nl && defer && i < sizeof(deferred_nl) / sizeof(deferred_nl[0]); i++)
		if (!deferred_nl[i]) {
			deferred_nl[i] = nl;
			return;
		}
	if (nl)
		mnl_socket_close(nl);
}

static void ctx_free(struct nft_ctx *nft)
{
	for (size_t i = 0; defer && i < sizeof(deferred) / sizeof(deferred[0]); i++)
		if (!deferred[i]) {
			deferred[i] = nft;
			return;
		}
	nft_ctx_free(nft);
}

/* Run @jobs in the namespace the thread is in now; Return: 0 or -EINVAL at the first
 * that nft refused (its words in its @err). */
static int nft_run(struct nft_job *jobs, size_t n)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int r = 0;

	if (!nft)
		return -ENOMEM;
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	for (size_t i = 0; i < n && !r; i++) {
		nft_ctx_output_set_flags(nft, jobs[i].flags);
		if (nft_run_cmd_from_buffer(nft, jobs[i].cmd) < 0) {
			nft_words(nft, jobs[i].err, sizeof(jobs[i].err));
			r = -EINVAL;
		} else {
			jobs[i].out = strdup(nft_ctx_get_output_buffer(nft));
			r = jobs[i].out ? 0 : -ENOMEM;
		}
	}
	ctx_free(nft);
	return r;
}

/* IPv4 forwarding of the namespace the thread is in: read (@set < 0) or set. Return: its
 * value, or -errno. /proc/sys/net shows the namespace of whoever opens it. */
static int forwarding(int set)
{
	char c = set > 0 ? '1' : '0';
	int fd = open("/proc/sys/net/ipv4/ip_forward", (set < 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = set < 0 ? read(fd, &c, 1) : write(fd, &c, 1);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : n == 0 ? -EIO : c == '1';
}

/* ---- rules that name a link (for an uplink: they do not follow the NIC onto its bridge) ---- */

struct naming {
	const char *ifname;
	char *where;
	size_t len;
	bool found;
};

/* In nft's listing, the first rule that matches @n->ifname by name or index, and its place:
 * "table inet filter, chain input". */
static int find_naming(void *arg)
{
	struct naming *n = arg;
	struct nft_job job = { .cmd = "list ruleset" };
	char table[128] = "", chain[128] = "", pat[4][48];
	const char *keys[] = { "iifname", "oifname", "iif", "oif" };
	char *line, *save = NULL;
	int r = nft_run(&job, 1);

	if (r < 0)
		return r;
	for (size_t i = 0; i < 4; i++)
		snprintf(pat[i], sizeof(pat[i]), "%s \"%s\"", keys[i], n->ifname);
	for (line = strtok_r(job.out, "\n", &save); line && !n->found;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (!strncmp(line, "table ", 6))
			snprintf(table, sizeof(table), "%.*s", (int)strcspn(line, "{") - 1, line);
		else if (!strncmp(line, "chain ", 6))
			snprintf(chain, sizeof(chain), "%.*s", (int)strcspn(line, "{") - 1, line);
		for (size_t i = 0; i < 4 && !n->found; i++)
			n->found = strstr(line, pat[i]) != NULL;
	}
	if (n->found)
		snprintf(n->where, n->len, "%s, %s", table, chain);
	free(job.out);
	return 0;
}

int vnet_nft_names_link(const char *ns, const char *ifname, char *where, size_t len)
{
	struct naming n = { ifname, where, len, false };
	int r = vnet_netns_run(ns, find_naming, &n);

	return r < 0 ? r : n.found;
}

/* ---- reading ---- */

/* One value of an element as nft writes it; ifname values are quoted. */
static int value_text(json_t *v, bool names, struct text *t)
{
	json_t *x;

	if (json_is_integer(v))
		return text_add(t, "%lld", (long long)json_integer_value(v));
	if (json_is_string(v))
		return text_add(t, names ? "\"%s\"" : "%s", json_string_value(v));
	if ((x = json_object_get(v, "prefix")))
		return text_add(t, "%s/%lld", json_string_value(json_object_get(x, "addr")) ?: "?",
				(long long)json_integer_value(json_object_get(x, "len")));
	if ((x = json_object_get(v, "concat")) && json_is_array(x)) {
		for (size_t i = 0; i < json_array_size(x); i++) {
			int r = (i ? text_add(t, " . ") : 0) ?:
					value_text(json_array_get(x, i), names, t);

			if (r < 0)
				return r;
		}
		return 0;
	}
	if ((x = json_object_get(v, "elem")))
		return value_text(json_object_get(x, "val"), names, t);
	return text_add(t, "?");
}

/* The elements of one set or map of the listing, as "NAME ELEM". */
static int set_elems(json_t *set, struct vnet_strv *s)
{
	const char *name = json_string_value(json_object_get(set, "name")) ?: "?";
	bool names = !strcmp(name, "bridges") || !strcmp(name, "internal") ||
		     !strcmp(name, "allowed");
	json_t *elems = json_object_get(set, "elem");
	int r = 0;

	for (size_t i = 0; !r && i < json_array_size(elems); i++) {
		json_t *e = json_array_get(elems, i);
		struct text t = { 0 };

		r = text_add(&t, "%s ", name);
		if (!r && json_is_array(e))
			r = value_text(json_array_get(e, 0), names, &t) ?:
				    text_add(&t, " : ")			?:
				    value_text(json_array_get(e, 1), false, &t);
		else if (!r)
			r = value_text(e, names, &t);
		if (!r)
			r = vnet_strv_add(s, "%s", t.s);
		free(t.s);
	}
	return r;
}

static int listing_elems(const char *json, struct vnet_strv *s)
{
	json_t *root = json_loads(json, 0, NULL), *v;
	json_t *list = json_object_get(root, "nftables");
	int r = root ? 0 : -EIO;

	for (size_t i = 0; !r && i < json_array_size(list); i++) {
		v = json_array_get(list, i);
		if (json_object_get(v, "set"))
			r = set_elems(json_object_get(v, "set"), s);
		else if (json_object_get(v, "map"))
			r = set_elems(json_object_get(v, "map"), s);
	}
	json_decref(root);
	if (!r && s->n)
		qsort(s->v, s->n, sizeof(*s->v), vnet_str_cmp);
	return r;
}

struct reader {
	const char *table, *tag;
	bool exists, drift, tagged;
	int forward;
	struct vnet_strv elems;
};

static int read_here(void *arg)
{
	struct reader *rd = arg;
	char list[VNET_NAMSIZ + 32], *skel = NULL, tagline[VNET_NAMSIZ + 32];
	struct nft_job jobs[2] = { { .cmd = list, .flags = NFT_CTX_OUTPUT_TERSE },
				   { .cmd = list, .flags = NFT_CTX_OUTPUT_JSON } };
	int r;

	rd->forward = forwarding(-1);
	if (rd->forward < 0)
		return rd->forward;
	snprintf(list, sizeof(list), "list table ip %s", rd->table);
	r = nft_run(jobs, 2);
	if (r == -EINVAL && !jobs[0].out) /* no such table (nft says "No such file ...") */
		return 0;
	rd->exists = true;
	snprintf(tagline, sizeof(tagline), "\n\tcomment \"%s\"\n", rd->tag);
	rd->tagged = jobs[0].out && strstr(jobs[0].out, tagline);
	if (asprintf(&skel, skeleton_fmt, rd->table, rd->tag) < 0)
		skel = NULL;
	rd->drift = !skel || !jobs[0].out || strcmp(skel, jobs[0].out);
	if (r >= 0)
		r = listing_elems(jobs[1].out, &rd->elems);
	free(skel);
	free(jobs[0].out);
	free(jobs[1].out);
	return r == -EINVAL ? 0 : r;
}

/* A port of an element's text. */
static bool port_word(const char *w, uint16_t *ret)
{
	char *end = NULL;
	unsigned long x = strtoul(w, &end, 10);

	if (!isdigit((unsigned char)w[0]) || *end || !x || x > 65535)
		return false;
	*ret = (uint16_t)x;
	return true;
}

/* "tcp_any 8080 : 192.168.9.2 . 80", "udp_at 10.0.0.1 . 53 : 192.168.9.2 . 53" back into a
 * published port. */
static bool parse_port(const char *e, struct vnet_port *p)
{
	char buf[128], *w[8], *save = NULL;
	size_t n = 0, k = 1;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", e);
	for (char *t = strtok_r(buf, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (n < 6 || strlen(w[0]) < 7 || (strncmp(w[0], "tcp_", 4) && strncmp(w[0], "udp_", 4)))
		return false;
	p->proto = w[0][0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
	p->has_host_addr = !strcmp(w[0] + 4, "at");
	if (p->has_host_addr &&
	    (n != 8 || inet_pton(AF_INET, w[k], p->host_addr) != 1 || strcmp(w[k + 1], ".")))
		return false;
	k += p->has_host_addr ? 2 : 0;
	return n == k + 5 && port_word(w[k], &p->host_port) && !strcmp(w[k + 1], ":") &&
	       inet_pton(AF_INET, w[k + 2], p->addr) == 1 && !strcmp(w[k + 3], ".") &&
	       port_word(w[k + 4], &p->port);
}

static int seen_ports(struct vnet_model *m, const struct vnet_nat_seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct vnet_port p, *o;

		if (!strstr(s->elems[i], "_any ") && !strstr(s->elems[i], "_at "))
			continue;
		if (!parse_port(s->elems[i], &p))
			continue;
		o = vnet_model_add_port(m);
		if (!o)
			return -ENOMEM;
		*o = p;
	}
	return 0;
}

int vnet_nat_read(const char *ns, const char *table, const char *tag, struct vnet_model *m)
{
	struct reader rd = { .table = table, .tag = tag };
	struct vnet_nat_seen *s = calloc(1, sizeof(*s));
	int r = s ? vnet_netns_run(ns, read_here, &rd) : -ENOMEM;

	if (r < 0) {
		vnet_strv_free(&rd.elems);
		free(s);
		return r == -ENOENT ? 0 : r; /* no namespace: nothing there */
	}
	snprintf(m->nat.ns, sizeof(m->nat.ns), "%s", ns);
	snprintf(m->nat.table, sizeof(m->nat.table), "%s", table);
	m->nat.exists = rd.exists;
	m->nat.drift = rd.drift;
	m->nat.forward = rd.forward > 0;
	s->elems = rd.elems.v;
	s->n = rd.elems.n;
	s->tagged = rd.tagged;
	vnet_nat_seen_free(m->nat.seen);
	m->nat.seen = s;
	return seen_ports(m, s);
}

/* ---- the plan ---- */

/* "add element ip T SET { E1, E2 }" per set, for the elements of @v[from..to) with @verb. */
static int elems_script(struct text *t, const char *verb, const char *table, char **v, size_t n)
{
	int r = 0;

	for (size_t i = 0; !r && i < n; i++) {
		size_t sl = strcspn(v[i], " ");
		bool first = !i || strncmp(v[i - 1], v[i], sl + 1);
		bool last = i + 1 == n || strncmp(v[i + 1], v[i], sl + 1);

		if (first)
			r = text_add(t, "%s element ip %s %.*s { ", verb, table, (int)sl, v[i]);
		if (!r)
			r = text_add(t, "%s%s", v[i] + sl + 1, last ? " }\n" : ", ");
	}
	return r;
}

/* The table made anew (after removing the one there, when @replace) with @elems. */
static int create_script(struct text *t, const char *table, const char *tag, bool replace,
			 char **elems, size_t n)
{
	int r = replace ? text_add(t, "delete table ip %s\n", table) : 0;

	/* "create" fails if a table of that name appeared meanwhile: never merge into it */
	if (!r)
		r = text_add(t, "create table ip %s { comment \"%s\"; }\n", table, tag);
	if (!r)
		r = text_add(t, skeleton_fmt, table, tag);
	return r ? r : elems_script(t, "add", table, elems, n);
}

/* Elements of @a not in @b (both sorted). */
static int minus(const struct vnet_strv *a, char **b, size_t nb, struct vnet_strv *ret)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		while (j < nb && strcmp(b[j], a->v[i]) < 0)
			j++;
		if ((j >= nb || strcmp(b[j], a->v[i])) && vnet_strv_add(ret, "%s", a->v[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int count_ports(char **v, size_t n)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += !strncmp(v[i], "tcp_", 4) || !strncmp(v[i], "udp_", 4);
	return c;
}

static const char *where(const char *ns, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", ns[0] ? "in " : "in the host namespace", ns);
	return buf;
}

/* The elements as they are: an update of a table that is vnet's and unedited. */
static int update(struct vnet_nat_change *c, const struct vnet_strv *want,
		  const struct vnet_nat_seen *seen)
{
	struct vnet_strv add = { 0 }, del = { 0 }, have = { seen->elems, seen->n, seen->n };
	struct text s = { 0 }, u = { 0 };
	int r = minus(want, seen->elems, seen->n, &add) ?: minus(&have, want->v, want->n, &del);

	if (!r)
		r = elems_script(&s, "delete", c->table, del.v, del.n) ?:
			    elems_script(&s, "add", c->table, add.v, add.n);
	if (!r)
		r = elems_script(&u, "delete", c->table, add.v, add.n) ?:
			    elems_script(&u, "add", c->table, del.v, del.n);
	if (!r && (add.n || del.n))
		snprintf(c->what + strlen(c->what), sizeof(c->what) - strlen(c->what),
			 ": +%zu -%zu element(s), of which published ports +%d -%d", add.n, del.n,
			 count_ports(add.v, add.n), count_ports(del.v, del.n));
	c->script = s.s;
	c->undo = u.s;
	vnet_strv_free(&add);
	vnet_strv_free(&del);
	return r;
}

/* The step for a topology that has networks; *@busy: it changes something. */
static int plan_want(struct vnet_nat_change *c, const struct vnet_model *want,
		     const struct vnet_model *have, const char *tag, bool *busy)
{
	const struct vnet_nat_seen *seen = have->nat.seen;
	struct vnet_strv w = { 0 };
	struct text s = { 0 }, u = { 0 };
	char in[VNET_NAMSIZ + 32];
	int r = want_elems(want, &w);

	where(c->ns, in, sizeof(in));
	if (r >= 0 && (!have->nat.exists || have->nat.drift || !seen)) {
		c->create = !have->nat.exists;
		snprintf(c->what, sizeof(c->what),
			 "%s nftables table ip %s %s: %zu network(s), %d "
			 "published port(s)",
			 c->create ? "create" : "restore", c->table, in, want->networks.n,
			 count_ports(w.v, w.n));
		r = create_script(&s, c->table, tag, !c->create, w.v, w.n);
		if (!r)
			r = c->create ?
				    text_add(&u, "delete table ip %s\n", c->table) :
				    create_script(&u, c->table, tag, true,
						  seen ? seen->elems : NULL, seen ? seen->n : 0);
		c->script = s.s;
		c->undo = u.s;
		*busy = true;
	} else if (r >= 0) {
		snprintf(c->what, sizeof(c->what), "update nftables table ip %s %s", c->table, in);
		r = update(c, &w, seen);
		*busy = c->script != NULL;
	}
	vnet_strv_free(&w);
	return r;
}

static int not_ours(const struct vnet_model *have, struct vnet_error *reterr)
{
	char in[VNET_NAMSIZ + 32];

	where(have->nat.ns, in, sizeof(in));
	if (have->nat.seen && have->nat.seen->tagged)
		return vnet_error_set(reterr, -EEXIST, "nftables table", "create",
				      "table ip %s %s carries the topology's tag, but the state "
				      "store has no record of it (was the store lost? vnet recover "
				      "takes back what carries the tag)",
				      have->nat.table, in);
	return vnet_error_set(reterr, -EEXIST, "nftables table", "create",
			      "table ip %s %s is in the way: it does not carry vnet's tag, so "
			      "vnet did not make it, and leaves it alone",
			      have->nat.table, in);
}

/* Forwarding: on when wanted; off again when vnet turned it on and it is no longer. */
static bool plan_forward(struct vnet_nat_change *c, const struct vnet_model *want,
			 const struct vnet_model *have)
{
	bool need = want && want->nat.forward;

	c->forward = c->forward_old = -1;
	if (need && !have->nat.forward)
		c->forward = 1;
	else if (!need && have->nat.forward && have->nat.forward_owned)
		c->forward = 0;
	if (c->forward >= 0)
		c->forward_old = !c->forward;
	if (c->forward >= 0)
		snprintf(c->what + strlen(c->what), sizeof(c->what) - strlen(c->what),
			 "%sIPv4 forwarding %s", c->what[0] ? "; " : "turn ",
			 c->forward ? "on" : "off");
	return c->forward >= 0;
}

int vnet_nat_plan(const struct vnet_model *want, const struct vnet_model *have, const char *tag,
		  struct vnet_nat_change **ret, struct vnet_error *reterr)
{
	const struct vnet_model *named = want && want->nat.table[0] ? want : have;
	struct vnet_nat_change *c;
	bool busy = false;
	char in[VNET_NAMSIZ + 32];
	int r = 0;

	*ret = NULL;
	if (!named->nat.table[0])
		return 0;
	if (have->nat.exists && !have->nat.owned && want && want->nat.table[0])
		return not_ours(have, reterr);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->ns, sizeof(c->ns), "%s", named->nat.ns);
	snprintf(c->table, sizeof(c->table), "%s", named->nat.table);
	if (want && want->nat.table[0]) {
		r = plan_want(c, want, have, tag, &busy);
	} else if (have->nat.exists && have->nat.owned) {
		snprintf(c->what, sizeof(c->what), "delete nftables table ip %s %s", c->table,
			 where(c->ns, in, sizeof(in)));
		if (asprintf(&c->script, "delete table ip %s\n", c->table) < 0)
			r = -ENOMEM;
		busy = true;
	}
	busy |= plan_forward(c, want, have);
	if (r < 0 || !busy) {
		vnet_nat_change_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/* ---- applying ---- */

struct runner {
	const char *script;
	int forward;
	char err[VNET_MSGSIZ - 64];
};

static int apply_here(void *arg)
{
	struct runner *rn = arg;
	struct nft_job job = { .cmd = rn->script };
	int r = rn->script ? nft_run(&job, 1) : 0;

	free(job.out);
	if (r < 0) {
		snprintf(rn->err, sizeof(rn->err), "%s", job.err);
		return r;
	}
	vnet_crash_point();
	r = rn->forward >= 0 ? forwarding(rn->forward) : 0;
	if (r < 0)
		snprintf(rn->err, sizeof(rn->err), "net.ipv4.ip_forward: %s", strerror(-r));
	return r < 0 ? r : 0;
}

int vnet_nat_apply(const struct vnet_nat_change *c, bool undo, struct vnet_error *reterr)
{
	struct runner rn = { .script = undo ? c->undo : c->script,
			     .forward = undo ? c->forward_old : c->forward };
	int r;

	/* undoing: forwarding first, as the change did it last */
	if (undo && rn.forward >= 0) {
		struct runner fw = { .forward = rn.forward };

		r = vnet_netns_run(c->ns, apply_here, &fw);
		if (r < 0)
			return vnet_error_set(reterr, r, "nftables table", "undo", "%s", fw.err);
		rn.forward = -1;
	}
	r = vnet_netns_run(c->ns, apply_here, &rn);
	if (r < 0)
		return vnet_error_set(reterr, r, c->table, undo ? "undo" : "change", "%s",
				      rn.err[0] ? rn.err : strerror(-r));
	return 0;
}

/* ---- elements of a table shared by many callers (the CNI plugin's) ---- */

struct elems_run {
	const char *table, *tag;
	char **add, **del;
	size_t n_add, n_del;
	struct vnet_strv *ensure;
	char err[VNET_MSGSIZ - 64];
};

/* One nft transaction of @t; Return: 0 or -EINVAL with nft's words in @er->err. */
static int run_text(struct elems_run *er, struct text *t)
{
	struct nft_job job = { .cmd = t->s };
	int r = t->s ? nft_run(&job, 1) : 0;

	free(job.out);
	if (r < 0)
		snprintf(er->err, sizeof(er->err), "%s", job.err);
	free(t->s);
	memset(t, 0, sizeof(*t));
	return r;
}

/*
 * The deletions and additions in one transaction; when it fails, the table may be missing
 * (made, with the additions) or an element to delete may be gone already (each deletion
 * then alone, its failure ignored, and the additions after them).
 */
static int elems_here(void *arg)
{
	struct elems_run *er = arg;
	struct vnet_strv all = { 0 };
	struct text t = { 0 };
	int r = elems_script(&t, "delete", er->table, er->del, er->n_del) ?:
			elems_script(&t, "add", er->table, er->add, er->n_add);

	if (r < 0 || (r = run_text(er, &t)) == 0)
		return r;
	for (size_t i = 0; i < er->n_del; i++) {
		if (elems_script(&t, "delete", er->table, er->del + i, 1) < 0)
			return -ENOMEM;
		run_text(er, &t);
	}
	if (elems_script(&t, "add", er->table, er->add, er->n_add) < 0)
		return -ENOMEM;
	r = run_text(er, &t);
	if (r < 0 && er->n_add) {
		/* no table yet: made with its skeleton ("create" fails if one appeared meanwhile,
		 * made by another process: then the additions are tried once more, alone) */
		for (size_t i = 0; r != -ENOMEM && er->ensure && i < er->ensure->n; i++)
			r = vnet_strv_add(&all, "%s", er->ensure->v[i]) < 0 ? -ENOMEM : r;
		for (size_t i = 0; r != -ENOMEM && i < er->n_add; i++)
			r = vnet_strv_add(&all, "%s", er->add[i]) < 0 ? -ENOMEM : r;
		if (r != -ENOMEM) {
			qsort(all.v, all.n, sizeof(*all.v), vnet_str_cmp);
			r = create_script(&t, er->table, er->tag, false, all.v, all.n) ?:
				    run_text(er, &t);
		}
		if (r == -EINVAL)
			r = elems_script(&t, "add", er->table, er->add, er->n_add) ?:
										     run_text(er, &t);
		if (r == 0)
			er->err[0] = '\0';
		vnet_strv_free(&all);
	}
	return r;
}

int vnet_nat_elements(const char *table, const char *tag, struct vnet_strv *add,
		      struct vnet_strv *del, struct vnet_strv *ensure, struct vnet_error *reterr)
{
	struct elems_run er = { .table = table, .tag = tag, .ensure = ensure };
	int r;

	if (add->n)
		qsort(add->v, add->n, sizeof(*add->v), vnet_str_cmp);
	if (del->n)
		qsort(del->v, del->n, sizeof(*del->v), vnet_str_cmp);
	er.add = add->v, er.n_add = add->n, er.del = del->v, er.n_del = del->n;
	r = elems_here(&er);
	if (r < 0)
		return vnet_error_set(reterr, r, table, "change", "%s",
				      er.err[0] ? er.err : strerror(-r));
	return 0;
}

int vnet_nft_script(const char *script, char **ret_out, char *err, size_t len)
{
	struct nft_job job = { .cmd = script };
	int r = nft_run(&job, 1);

	if (r < 0)
		snprintf(err, len, "%s", job.err);
	if (ret_out && r >= 0)
		*ret_out = job.out;
	else
		free(job.out);
	return r;
}

/* ---- published ports through nf_tables' own netlink: no libnftables on the busy path ---- */

/*
 * libnftables makes a context and reads the table's cache before it adds one element:
 * 1.1 ms of an ADD's 6. A published port's element is simple enough to say directly: one
 * NFT_MSG_NEWSETELEM (or DELSETELEM) in a batch, its key and data laid out as nft lays
 * out "inet_service" and "ipv4_addr . inet_service" (each part in 4-byte registers).
 */

/* @p's key and data: *_any is keyed by the port, *_at by address . port. */
static void port_key(const struct vnet_port *p, uint8_t key[8], size_t *klen, uint8_t data[8])
{
	uint16_t hp = htons(p->host_port), cp = htons(p->port);

	memset(key, 0, 8);
	memset(data, 0, 8);
	if (p->has_host_addr) {
		memcpy(key, p->host_addr, 4);
		memcpy(key + 4, &hp, 2);
		*klen = 8;
	} else {
		memcpy(key, &hp, 2);
		*klen = 2;
	}
	memcpy(data, p->addr, 4);
	memcpy(data + 4, &cp, 2);
}

static struct nlmsghdr *nft_msg(char *buf, uint16_t type, uint16_t flags, uint32_t seq,
				uint16_t res_id)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END ?
				    AF_UNSPEC :
				    NFPROTO_IPV4;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

/* One element of @p in @m's batch. */
static void port_elem_msg(struct mnl_nlmsg_batch *m, bool add, const char *table,
			  const struct vnet_port *p, uint32_t seq)
{
	char set[16];
	uint8_t key[8], data[8];
	size_t klen;
	struct nlmsghdr *nlh =
		nft_msg(mnl_nlmsg_batch_current(m),
			NFNL_SUBSYS_NFTABLES << 8 | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
			(add ? NLM_F_CREATE : 0) | NLM_F_ACK, seq, 0);
	struct nlattr *list, *elem, *nest;

	snprintf(set, sizeof(set), "%s_%s", p->proto == IPPROTO_UDP ? "udp" : "tcp",
		 p->has_host_addr ? "at" : "any");
	port_key(p, key, &klen, data);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, klen, key);
	mnl_attr_nest_end(nlh, nest);
	if (add) {
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, 8, data);
		mnl_attr_nest_end(nlh, nest);
	}
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	mnl_nlmsg_batch_next(m);
}

int vnet_nat_ports_raw(bool add, const char *table, const struct vnet_port *v, size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(4)));
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct mnl_nlmsg_batch *m = mnl_nlmsg_batch_start(buf, sizeof(buf));
	struct timeval timeout = { .tv_sec = 5 }; /* an ack that never comes is an error */
	uint32_t seq = 1, portid;
	ssize_t len;
	int r = 0;

	if (!nl || !m || n > 64 || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) <
		    0) {
		r = -errno ?: -ENOMEM;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nft_msg(mnl_nlmsg_batch_current(m), NFNL_MSG_BATCH_BEGIN, 0, seq++, NFNL_SUBSYS_NFTABLES);
	mnl_nlmsg_batch_next(m);
	for (size_t i = 0; i < n; i++)
		port_elem_msg(m, add, table, &v[i], seq++);
	nft_msg(mnl_nlmsg_batch_current(m), NFNL_MSG_BATCH_END, 0, seq++, NFNL_SUBSYS_NFTABLES);
	mnl_nlmsg_batch_next(m);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(m), mnl_nlmsg_batch_size(m)) < 0) {
		r = -errno;
		goto out;
	}
	/* one ack per element, in order; the first error ends the reading */
	for (size_t acked = 0; r == 0 && acked < n; acked++) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		r = len < 0 ?
			    -errno :
			    mnl_cb_run(buf, vnet_nl_whole(buf, (size_t)len), 0, portid, NULL, NULL);
		r = r < 0 ? -errno : 0;
	}
out:
	if (m)
		mnl_nlmsg_batch_stop(m);
	socket_free(nl);
	return r;
}

/* ---- for vnet show ---- */

void vnet_nat_facts_clear(struct vnet_nat_facts *f)
{
	free(f->masq.v);
	free(f->internal.v);
	free(f->connected.v);
	free(f->published.v);
	memset(f, 0, sizeof(*f));
}

/* The link of the host part with an address in @subnet/@plen. */
static const char *bridge_of(const struct vnet_model *m, uint32_t net, unsigned plen)
{
	for (size_t i = 0; i < m->addrs.n; i++) {
		const struct vnet_addr *a = &m->addrs.v[i];

		if (a->family == AF_INET && !strcmp(a->ns, m->nat.ns) && a->prefixlen == plen &&
		    (vnet_ip4(a->addr) & vnet_ip4_mask(plen)) == net)
			return a->dev;
	}
	return "";
}

/* The subnet of a bridge of the host part, from its address. */
static void subnet_of(const struct vnet_model *m, const char *dev, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	uint8_t net[4];

	snprintf(buf, len, "%s", "");
	for (size_t i = 0; i < m->addrs.n; i++) {
		const struct vnet_addr *ad = &m->addrs.v[i];

		if (ad->family != AF_INET || strcmp(ad->ns, m->nat.ns) || strcmp(ad->dev, dev))
			continue;
		vnet_ip4_put(vnet_ip4(ad->addr) & vnet_ip4_mask(ad->prefixlen), net);
		snprintf(buf, len, "%s/%u", ip4(net, a), ad->prefixlen);
		return;
	}
}

/* "masq 10.0.0.0/24", "internal \"br1\"", "allowed \"a\" . \"b\"" into the facts. */
static int fact_of(const struct vnet_model *m, const char *e, struct vnet_nat_facts *f)
{
	char a[VNET_IFNAMSIZ], b[VNET_IFNAMSIZ];
	unsigned plen;
	uint8_t net[4];
	struct vnet_nat_net *n;
	struct vnet_connect *c;

	if (!strncmp(e, "masq ", 5) && vnet_ip4_prefix(e + 5, net, &plen) == 0) {
		if (!(n = VNET_ARRAY_PUSH(&f->masq)))
			return -ENOMEM;
		snprintf(n->subnet, sizeof(n->subnet), "%s", e + 5);
		snprintf(n->bridge, sizeof(n->bridge), "%s", bridge_of(m, vnet_ip4(net), plen));
	} else if (sscanf(e, "internal \"%15[^\"]\"", a) == 1) {
		if (!(n = VNET_ARRAY_PUSH(&f->internal)))
			return -ENOMEM;
		snprintf(n->bridge, sizeof(n->bridge), "%s", a);
		subnet_of(m, a, n->subnet, sizeof(n->subnet));
	} else if (sscanf(e, "allowed \"%15[^\"]\" . \"%15[^\"]\"", a, b) == 2 &&
		   strcmp(a, b) < 0) {
		if (!(c = VNET_ARRAY_PUSH(&f->connected)))
			return -ENOMEM;
		snprintf(c->a, sizeof(c->a), "%s", a);
		snprintf(c->b, sizeof(c->b), "%s", b);
	}
	return 0;
}

static const char *node_at(const struct vnet_model *m, const uint8_t a[4])
{
	for (size_t i = 0; i < m->addrs.n; i++)
		if (m->addrs.v[i].family == AF_INET && !memcmp(m->addrs.v[i].addr, a, 4)) {
			const struct vnet_ns *ns = vnet_model_find_ns(m, m->addrs.v[i].ns);

			return ns ? ns->node : "";
		}
	return "";
}

static bool next_in_run(const struct vnet_nat_publish *run, const struct vnet_port *p)
{
	const struct vnet_port *q = &run->p;

	return q->proto == p->proto && q->has_host_addr == p->has_host_addr &&
	       !memcmp(q->host_addr, p->host_addr, 4) && !memcmp(q->addr, p->addr, 4) &&
	       q->host_port + run->count == p->host_port && q->port + run->count == p->port;
}

static int port_order(const void *a, const void *b)
{
	const struct vnet_port *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->has_host_addr != y->has_host_addr)
		return x->has_host_addr - y->has_host_addr;
	return x->host_port != y->host_port ? x->host_port - y->host_port :
					      memcmp(x->host_addr, y->host_addr, 4);
}

static int published(const struct vnet_model *m, struct vnet_nat_facts *f)
{
	struct vnet_port *v = malloc((m->ports.n + 1) * sizeof(*v));
	struct vnet_nat_publish *run = NULL;

	if (!v)
		return -ENOMEM;
	memcpy(v, m->ports.v, m->ports.n * sizeof(*v));
	qsort(v, m->ports.n, sizeof(*v), port_order);
	for (size_t i = 0; i < m->ports.n; i++) {
		if (run && next_in_run(run, &v[i])) {
			run->count++;
			continue;
		}
		run = VNET_ARRAY_PUSH(&f->published);
		if (!run)
			break;
		run->p = v[i];
		run->count = 1;
		snprintf(run->p.node, sizeof(run->p.node), "%s", node_at(m, v[i].addr));
	}
	free(v);
	return run || !m->ports.n ? 0 : -ENOMEM;
}

int vnet_nat_facts(const struct vnet_model *m, struct vnet_nat_facts *ret)
{
	const struct vnet_nat_seen *s = m->nat.seen;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; s && i < s->n && r >= 0; i++)
		r = fact_of(m, s->elems[i], ret);
	if (r >= 0)
		r = published(m, ret);
	if (r < 0)
		vnet_nat_facts_clear(ret);
	return r;
}
