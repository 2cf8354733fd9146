// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd-tunnel.c - vnet tunnel: a tun or tap device joined to a peer over UDP, in the foreground */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "vnet/tunnel.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * "ADDR", "ADDR:PORT", "[V6]:PORT", ":PORT" (@any: no address is any address); the port is
 * @port when not given. Return: 0, or -EINVAL.
 */
static int parse_endpoint(const char *s, bool any, int family, struct sockaddr_storage *ret)
{
	char host[INET6_ADDRSTRLEN + 2] = "";
	const char *colon = strrchr(s, ':'), *port = NULL;
	unsigned long p = VNET_TUNNEL_PORT;
	char *end = NULL;

	/* an IPv6 address alone has colons too: one with a port is written in brackets */
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		port = close[1] ? close + 2 : NULL;
	} else if (colon && strchr(s, ':') == colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = colon + 1;
	} else {
		snprintf(host, sizeof(host), "%s", s);
	}
	if (port) {
		p = strtoul(port, &end, 10);
		if (!*port || *end || p == 0 || p > 65535)
			return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	if (!host[0] && !any)
		return -EINVAL;
	if (strchr(host, ':') || (!host[0] && family == AF_INET6)) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		return !host[0] || inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ret;

	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)p);
	return !host[0] || inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

static int parse_number(const char *s, const char *what, unsigned long max, uint32_t *ret)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = s ? strtoul(s, &end, 10) : 0;
	if (!s || !*s || *end || errno || v > max || (v == 0 && strcmp(what, "--id")))
		return cli_errorf(EXIT_USAGE, "tunnel: %s \"%s\" is not a number in %s..%lu", what,
				  s ? s : "", strcmp(what, "--id") ? "1" : "0", max);
	*ret = (uint32_t)v;
	return 0;
}

static int parse_conf(const struct cli *cli, struct vnet_tunnel_conf *c)
{
	uint32_t queues = 0;
	int code = 0;

	memset(c, 0, sizeof(*c));
	if (strlen(cli->argv[0]) >= sizeof(c->dev))
		return cli_errorf(EXIT_USAGE, "tunnel: \"%s\" is longer than an interface name",
				  cli->argv[0]);
	snprintf(c->dev, sizeof(c->dev), "%s", cli->argv[0]);
	if (!cli->peer)
		return cli_errorf(EXIT_USAGE,
				  "tunnel: say where the other end is: --peer ADDR[:PORT]");
	if (parse_endpoint(cli->peer, false, AF_INET, &c->peer) < 0)
		return cli_errorf(EXIT_USAGE,
				  "tunnel: --peer \"%s\" is not ADDR, ADDR:PORT or [IPV6]:PORT",
				  cli->peer);
	if (parse_endpoint(cli->local ? cli->local : "", true, c->peer.ss_family, &c->local) < 0)
		return cli_errorf(EXIT_USAGE, "tunnel: --local \"%s\" is not [ADDR][:PORT]",
				  cli->local);
	if (c->local.ss_family != c->peer.ss_family)
		return cli_errorf(EXIT_USAGE, "tunnel: --local and --peer are not of one family");
	c->id = 1;
	if (cli->id)
		code = parse_number(cli->id, "--id", UINT32_MAX, &c->id);
	if (!code && cli->mtu)
		code = parse_number(cli->mtu, "--mtu", 65535, &c->mtu);
	if (!code && cli->mtu && c->mtu < 68)
		code = cli_errorf(EXIT_USAGE, "tunnel: --mtu %u is below IPv4's 68", c->mtu);
	if (!code && cli->queues)
		code = parse_number(cli->queues, "--queues", VNET_TUNNEL_QUEUES_MAX, &queues);
	c->queues = queues;
	c->tap = cli->given & OPT_TAP;
	c->offload = !(cli->given & OPT_NO_OFFLOAD);
	return code;
}

static void print_stats(const struct cli *cli, const struct vnet_tunnel_conf *c,
			const struct vnet_tunnel_stats *st)
{
	json_t *o;

	if (!cli->json) {
		printf("%s: sent %llu packets (%llu bytes) in %llu datagrams, received %llu (%llu "
		       "bytes) from %llu; dropped: %llu not sent, %llu not written, %llu from another "
		       "peer, %llu with another id, %llu malformed, %llu of another mode or offload%s%s"
		       "%s\n",
		       c->dev, (unsigned long long)st->tx_packets, (unsigned long long)st->tx_bytes,
		       (unsigned long long)st->tx_datagrams, (unsigned long long)st->rx_packets,
		       (unsigned long long)st->rx_bytes, (unsigned long long)st->rx_datagrams,
		       (unsigned long long)st->tx_errors, (unsigned long long)st->rx_errors,
		       (unsigned long long)st->bad_peer, (unsigned long long)st->bad_id,
		       (unsigned long long)st->malformed, (unsigned long long)st->mismatch,
		       st->note[0] ? "; " : "", st->note,
		       st->offload && !st->gso ? "; large packets go as IP fragments (the underlay "
						 "refused UDP_SEGMENT)" :
						 "");
		fflush(stdout);
		return;
	}
	o = json_pack("{s:s, s:b, s:i, s:i, s:b, s:b, s:b, s:s?, s:{s:I, s:I, s:I, s:I},"
		      " s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}}",
		      "device", c->dev, "tap", c->tap, "mtu", (int)st->mtu, "queues",
		      (int)st->queues, "offload", st->offload, "gso", st->gso, "gro", st->gro,
		      "note", st->note[0] ? st->note : NULL, "sent", "packets",
		      (json_int_t)st->tx_packets, "bytes", (json_int_t)st->tx_bytes, "datagrams",
		      (json_int_t)st->tx_datagrams, "errors", (json_int_t)st->tx_errors, "received",
		      "packets", (json_int_t)st->rx_packets, "bytes", (json_int_t)st->rx_bytes,
		      "datagrams", (json_int_t)st->rx_datagrams, "errors",
		      (json_int_t)st->rx_errors, "dropped", "other_peer", (json_int_t)st->bad_peer,
		      "other_id", (json_int_t)st->bad_id, "malformed", (json_int_t)st->malformed,
		      "mismatch", (json_int_t)st->mismatch);
	json_dumpf(o, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(o);
}

/* SIGUSR1: the counters so far, on stdout; SIGTERM, SIGINT, SIGHUP: stop, print, exit 0. */
static sigset_t handled(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	return set;
}

struct runner {
	const struct vnet_tunnel_conf *c;
	struct vnet_tunnel_stats *st;
	struct vnet_error e;
	int r;
	volatile int done;
};

static void *run(void *arg)
{
	struct runner *x = arg;

	x->r = vnet_tunnel_run(x->c, &stop, x->st, &x->e);
	x->done = 1;
	kill(getpid(), SIGUSR1); /* wake the main thread */
	return NULL;
}

int cmd_tunnel(struct cli *cli)
{
	struct vnet_tunnel_stats st = { 0 };
	struct vnet_tunnel_conf c;
	struct runner x = { .c = &c, .st = &st };
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t usr1 = handled();
	pthread_t th;
	int code = cli_need_root(), sig;

	if (!code)
		code = parse_conf(cli, &c);
	if (code)
		return code;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* the tunnel's threads never take it */
	if (pthread_create(&th, NULL, run, &x))
		return cli_errorf(EXIT_FAILED, "tunnel: cannot start a thread");
	while (!x.done && !sigwait(&usr1, &sig))
		if (!x.done)
			print_stats(cli, &c, &st);
	pthread_join(th, NULL);
	if (x.r < 0)
		return cli_error(&x.e);
	print_stats(cli, &c, &st);
	return EXIT_OK;
}
