// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udpflood.c - bench/tunnel.sh's small-packet generator and sink (compiled by the script).
 *
 *   udpflood send ADDR PORT SECONDS [SIZE]   UDP datagrams of SIZE bytes of payload (64) to
 *                                            ADDR:PORT, sendmmsg in batches of 64, as fast
 *                                            as they go, for SECONDS
 *   udpflood sink PORT SECONDS               count the datagrams arriving on PORT (any IPv4
 *                                            address), recvmmsg in batches of 64, until
 *                                            SECONDS have passed or SIGTERM/SIGINT
 *
 * Each prints one line of counts on stdout when done:
 *   send: datagrams=N bytes=N seconds=S errors=N
 *   sink: datagrams=N bytes=N seconds=S drops=N
 * (send: seconds from the first batch to the last; errors: batches the kernel refused, e.g.
 * ENOBUFS or ECONNREFUSED. sink: seconds from the first datagram to the last; drops: the
 * datagrams the sink's own socket dropped for want of buffer, SO_RXQ_OVFL.)
 * Exit 0; 2 on bad usage; 1 when a socket cannot be made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_PAYLOAD 65507

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: udpflood send ADDR PORT SECONDS [SIZE]\n"
			"       udpflood sink PORT SECONDS\n");
	return 2;
}

/* a whole number in 1..@max, or -1 */
static long number(const char *s, long max)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return !*s || *end || errno || v < 1 || v > max ? -1 : v;
}

static int flood(const char *addr, const char *port, double secs, size_t size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST },
			*ai = NULL;
	static char payload[MAX_PAYLOAD];
	struct iovec iov = { payload, size };
	struct mmsghdr mm[BATCH];
	unsigned long long sent = 0, errors = 0;
	double start, end, last;
	int fd, r;

	r = getaddrinfo(addr, port, &hints, &ai);
	if (r) {
		fprintf(stderr, "udpflood: %s port %s: %s\n", addr, port, gai_strerror(r));
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "udpflood: cannot send to %s port %s: %s\n", addr, port,
			strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	memset(payload, 0xa5, size);
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < BATCH; i++) {
		mm[i].msg_hdr.msg_iov = &iov;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	start = last = now();
	end = start + secs;
	while (!stop && last < end) {
		int n = sendmmsg(fd, mm, BATCH, 0);

		if (n > 0) {
			sent += (unsigned)n;
		} else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED ||
			   errno == EINTR) {
			errors++; /* ECONNREFUSED: an ICMP error from an earlier datagram */
		} else {
			fprintf(stderr, "udpflood: sendmmsg: %s\n", strerror(errno));
			break;
		}
		last = now();
	}
	close(fd);
	printf("send: datagrams=%llu bytes=%llu seconds=%.3f errors=%llu\n", sent,
	       sent * (unsigned long long)size, last - start, errors);
	return 0;
}

static int sink(const char *port, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tick = { .tv_usec = 100000 };
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl[BATCH];
	unsigned long long count = 0, bytes = 0;
	uint32_t drops = 0;
	double end = now() + secs, first = 0, last = 0;
	int one = 1, rcvbuf = 8 << 20;
	uint8_t *bufs = malloc((size_t)BATCH * MAX_PAYLOAD);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	a.sin_port = htons((uint16_t)number(port, 65535));
	if (!bufs || fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "udpflood: cannot receive on port %s: %s\n", port, strerror(errno));
		return 1;
	}
	/* room for bursts (as root, past rmem_max), as a real receiver would ask */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick)); /* to see the clock */
	while (!stop && now() < end) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs + (size_t)i * MAX_PAYLOAD, MAX_PAYLOAD };
			mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
							       .msg_iovlen = 1,
							       .msg_control = ctl[i].buf,
							       .msg_controllen = sizeof(ctl[i]) } };
		}
		n = recvmmsg(fd, mm, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "udpflood: recvmmsg: %s\n", strerror(errno));
			break;
		}
		last = now();
		if (!count)
			first = last;
		count += (unsigned)n;
		for (int i = 0; i < n; i++) {
			struct cmsghdr *c;

			bytes += mm[i].msg_len;
			for (c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&mm[i].msg_hdr, c))
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
					memcpy(&drops, CMSG_DATA(c), sizeof(drops));
		}
	}
	close(fd);
	free(bufs);
	printf("sink: datagrams=%llu bytes=%llu seconds=%.3f drops=%u\n", count, bytes,
	       last - first, drops);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop }; /* no SA_RESTART: a wait ends */
	long secs, size = 64;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 5 && argc <= 6 && !strcmp(argv[1], "send")) {
		secs = number(argv[4], 86400);
		if (argc == 6)
			size = number(argv[5], MAX_PAYLOAD);
		if (secs < 0 || size < 0 || number(argv[3], 65535) < 0)
			return usage();
		return flood(argv[2], argv[3], (double)secs, (size_t)size);
	}
	if (argc == 4 && !strcmp(argv[1], "sink")) {
		secs = number(argv[3], 86400);
		if (secs < 0 || number(argv[2], 65535) < 0)
			return usage();
		return sink(argv[2], (double)secs);
	}
	return usage();
}
