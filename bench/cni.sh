#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cni.sh - CNI ADD and DEL: vnet-cni beside Debian's reference plugins, in the same run.
#
# The issue's measure: ADD and DEL, p50 and p99, sequential and 40 in parallel, at 1, 100
# and 1000 attachments, with masquerade and one port mapping. Goals: ADD and DEL <= 1.5 ms
# p50, 40 parallel ADDs <= 100 ms wall, and no growth from 1 to 1000 attachments.
#
# Three configurations of one network "bench" (10.77.0.0/16, bridge cni0, isGateway,
# ipMasq, hairpinMode, one published port per container, cniVersion 1.0.0):
#  - vnet-cni with its own IPAM ({"type": "vnet"}) and runtimeConfig.portMappings;
#  - vnet-cni with host-local IPAM (the delegation's cost: one exec of host-local per call);
#  - the reference, as libcni runs the conflist [bridge + host-local, portmap]: ADD is
#    bridge then portmap with bridge's result as prevResult; DEL is portmap then bridge,
#    both with runtimeConfig.portMappings and the cached result as prevResult. The two
#    plugins are timed together as one ADD (one DEL). Their ipMasq and portmap rules are
#    iptables-nft rules in the host namespace.
# For each size N (BENCH_CNI_SIZES, default "1 100 1000"), N-1 background attachments
# exist first; then BENCH_CNI_REPS (30) sequential ADD+DEL pairs of one more container
# (p50 and p99 of each), then BENCH_CNI_PAR (40) ADDs at once (the wall time from the
# first start to the last exit), then their 40 DELs at once.
#
# Timing: a small C driver (compiled here) runs inside the host namespace and times each
# plugin from its posix_spawn to its exit: no shell, nsenter or fork of a shell in the
# figure, and the same harness for every plugin.
#
# Background attachments are made through the plugins themselves, except the reference's
# beyond the first BENCH_CNI_REF_REAL (default 100): through the plugins those take ~0.25 s
# each at 500 and ~0.7 s at 1000 (every iptables-nft call reads the whole ruleset), ~4 min
# for 1000. They are cloned from the first background attachment instead: its iptables
# rules (iptables-save, with another id, chain names, address and port), a veth on cni0
# (hairpin on) with the address and default route in the container, and a host-local
# lease; the state the plugins would have left, made with one iptables-restore.
# BENCH_CNI_REF_REAL=1000 makes them all through the plugins.
#
# Everything runs in namespaces of this run: one "host" namespace per configuration (the
# plugins run there, so the bridge, sysctls, nftables and iptables rules exist only there)
# and one namespace per container (reused by the configurations in turn), removed on exit
# even on failure. IPAM data, VNET_STATE_DIR and the CNI results live in a scratch dir.
# Nothing touches the root namespace's links, addresses, routes or firewall.
#
# Output: a markdown table on stdout (case | vnet-cni | reference | goal); progress,
# problems and a failing plugin's call (environment, stdin, stdout) on stderr. Nothing is
# asserted: the goals are printed, not checked.
# Needs root, iproute2, iptables, cc, and containernetworking-plugins (/usr/lib/cni).
# Env: VNET_CNI_BIN (default build/vnet-cni; missing: the reference only), BENCH_CNI_SIZES,
# BENCH_CNI_REPS, BENCH_CNI_PAR, BENCH_CNI_REF_REAL, BENCH_CNI_ONLY=vnet|reference.
set -u -o pipefail
export LC_ALL=C
export PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
VNET_CNI_BIN=${VNET_CNI_BIN:-$here/../build/vnet-cni}
SIZES=${BENCH_CNI_SIZES:-1 100 1000}
REPS=${BENCH_CNI_REPS:-30}
PAR=${BENCH_CNI_PAR:-40}
REF_REAL=${BENCH_CNI_REF_REAL:-100}
ONLY=${BENCH_CNI_ONLY:-}
REF=/usr/lib/cni
BR_MAX=1023 # ports a Linux bridge takes (BR_MAX_PORTS = 1024, port 0 unused): EXFULL beyond

say() { printf 'cni.sh: %s\n' "$*" >&2; }
die() {
	say "FAILED: $*"
	exit 1
}

case "$REPS$PAR$REF_REAL${SIZES// /}" in '' | *[!0-9]*) die "BENCH_CNI_SIZES, _REPS, _PAR and _REF_REAL are numbers" ;; esac
if [ "$REPS" -lt 1 ] || [ "$PAR" -lt 1 ] || [ "$PAR" -gt 1000 ]; then die "BENCH_CNI_REPS >= 1, BENCH_CNI_PAR 1..1000"; fi
# the sizes, ascending, each once; the backgrounds grow from one to the next
# shellcheck disable=SC2086 # split on blanks
read -r -a sizes <<<"$(printf '%s\n' $SIZES | sort -n -u | tr '\n' ' ')"
for n in "${sizes[@]}"; do
	if [ "$n" -lt 1 ] || [ "$n" -gt "$BR_MAX" ]; then die "a size is 1..$BR_MAX (a Linux bridge takes $BR_MAX ports)"; fi
done
MAXN=${sizes[${#sizes[@]} - 1]}
case $ONLY in '' | vnet | reference) ;; *) die "BENCH_CNI_ONLY is vnet or reference" ;; esac

[ "$(id -u)" = 0 ] || die "needs root"
for c in ip iptables-save iptables-restore cc nsenter; do
	command -v "$c" >/dev/null || die "needs $c"
done
run_ref=0 run_vnet=0
if [ "$ONLY" != vnet ]; then
	for p in bridge host-local portmap; do
		[ -x "$REF/$p" ] || die "no $REF/$p (apt-get install containernetworking-plugins)"
	done
	run_ref=1
fi
if [ "$ONLY" != reference ]; then
	if [ -x "$VNET_CNI_BIN" ]; then
		VNET_CNI_BIN=$(realpath "$VNET_CNI_BIN")
		vnet_cni_desc="$VNET_CNI_BIN, $(date -r "$VNET_CNI_BIN" '+%F %T')"
		run_vnet=1
	else
		say "no vnet-cni at $VNET_CNI_BIN (ninja -C build, or set VNET_CNI_BIN): the reference only"
	fi
fi
[ -x "$REF/host-local" ] || run_vnet_hl=0

# ---- the run's names, scratch dir and cleanup ----

P=vbcn$$ # namespaces: P-h-CONF (hosts), P-b1.. (background containers), P-m1.. (measured)
work=$(mktemp -d /tmp/vnet-bench-cni.XXXXXX) || exit 1
log=$work/log
: >"$log"
drv_pid=

ours() { ip netns list 2>/dev/null | awk -v p="$P-" 'index($1, p) == 1 {print $1}'; }

cleanup() {
	local rc=$? before n
	trap - EXIT INT TERM HUP
	if [ -n "$drv_pid" ] && kill -0 "$drv_pid" 2>/dev/null; then
		kill -TERM -- -"$drv_pid" 2>/dev/null || kill -TERM "$drv_pid" 2>/dev/null
		wait "$drv_pid" 2>/dev/null
	fi
	before=$(slab_ns)
	n=$(ours | wc -l)
	if [ "$n" -gt 0 ]; then
		ours | sed 's/^/netns del /' | ip -force -batch - 2>/dev/null
		ours | while read -r ns; do ip netns del "$ns" 2>/dev/null; done
		# leave the machine quiet for whatever runs next (bounded: 30 s)
		wait_freed "$n" "$before"
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- the driver: runs plugin calls inside a host namespace and times them ----

cat >"$work/cnidrv.c" <<'EOF'
/* cnidrv seq|par MAXPAR JOBFILE RESDIR: run CNI plugin calls, time each exec.
 * JOBFILE lines: CMD ID NETNS IFNAME PORT PLUGIN CONF [PLUGIN CONF]... (the steps of one
 * call, e.g. bridge then portmap). In each CONF "@PORT@" becomes PORT and "@PREV@" the
 * previous step's stdout (ADD) or the call's cached ADD result (other commands, as libcni
 * passes it); the last ADD step's stdout is cached as RESDIR/ID.json. Prints
 * "CMD ID US" per call, US = the sum of its plugins' spawn-to-exit times; par runs up to
 * MAXPAR calls at once (0: all) and then prints "wall US" (first start to last exit).
 * A failed plugin: its environment, stdin and stdout on stderr, exit 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	if (!f)
		return NULL;
	do {
		if (cap - n < 4096)
			buf = realloc(buf, cap = cap * 2 + 8192);
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return buf;
}

static char *subst(const char *text, const char *port, const char *prev)
{
	size_t cap = strlen(text) + 64, n = 0;
	char *out = malloc(cap);
	const char *p = text;
	if (!prev || !*prev)
		prev = "{}";
	while (*p) {
		const char *v = !strncmp(p, "@PORT@", 6) ? port : !strncmp(p, "@PREV@", 6) ? prev : NULL;
		size_t l = v ? strlen(v) : 1;
		if (n + l + 1 > cap)
			out = realloc(out, cap = (n + l + 1) * 2);
		if (v) {
			memcpy(out + n, v, l);
			p += 6;
		} else
			out[n] = *p++;
		n += l;
	}
	out[n] = 0;
	return out;
}

struct job {
	char *cmd, *id, *netns, *ifname, *port;
	int nsteps;
	char *plugin[4], *conf[4];
};

static const char *resdir;

static int run_job(struct job *j, long long *us)
{
	char *prev = NULL, *cached = NULL, path[4096], outp[4096];
	char e_cmd[64], e_id[512], e_ns[1024], e_if[64];
	int i, rc = 0, add = !strcmp(j->cmd, "ADD");
	size_t ne = 0;
	char **env;

	for (char **e = environ; *e; e++)
		ne++;
	env = calloc(ne + 8, sizeof *env);
	snprintf(e_cmd, sizeof e_cmd, "CNI_COMMAND=%s", j->cmd);
	snprintf(e_id, sizeof e_id, "CNI_CONTAINERID=%s", j->id);
	snprintf(e_ns, sizeof e_ns, "CNI_NETNS=%s", j->netns);
	snprintf(e_if, sizeof e_if, "CNI_IFNAME=%s", j->ifname);
	ne = 0;
	env[ne++] = e_cmd, env[ne++] = e_id, env[ne++] = e_ns, env[ne++] = e_if;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "CNI_COMMAND=", 12) && strncmp(*e, "CNI_CONTAINERID=", 16) &&
		    strncmp(*e, "CNI_NETNS=", 10) && strncmp(*e, "CNI_IFNAME=", 11))
			env[ne++] = *e;
	env[ne] = NULL;

	snprintf(path, sizeof path, "%s/%s.json", resdir, j->id);
	if (!add)
		cached = slurp(path);
	*us = 0;
	for (i = 0; i < j->nsteps && !rc; i++) {
		char *tmpl = slurp(j->conf[i]), *conf, *argv[] = {j->plugin[i], NULL};
		int pfd[2], ofd, st, err;
		size_t len;
		pid_t pid;
		posix_spawn_file_actions_t fa;
		long long t0;

		if (!tmpl) {
			fprintf(stderr, "cnidrv: %s: %s\n", j->conf[i], strerror(errno));
			return -1;
		}
		conf = subst(tmpl, j->port, add ? prev : cached);
		len = strlen(conf);
		snprintf(outp, sizeof outp, "%s/%s.%s.%d", resdir, j->id, j->cmd, i);
		/* the config goes through a pipe: written whole before the plugin starts */
		if (len > 60000 || pipe2(pfd, O_CLOEXEC) || write(pfd[1], conf, len) != (ssize_t)len) {
			fprintf(stderr, "cnidrv: cannot pass %zu bytes of config through a pipe\n", len);
			return -1;
		}
		close(pfd[1]);
		/* stdout: a file opened here, outside the timed part */
		if ((ofd = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
			fprintf(stderr, "cnidrv: %s: %s\n", outp, strerror(errno));
			return -1;
		}
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
		posix_spawn_file_actions_adddup2(&fa, ofd, 1);
		t0 = now_us();
		err = posix_spawn(&pid, j->plugin[i], &fa, NULL, argv, env);
		if (!err)
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		*us += now_us() - t0;
		close(pfd[0]);
		close(ofd);
		posix_spawn_file_actions_destroy(&fa);
		if (err) {
			fprintf(stderr, "cnidrv: %s: %s\n", j->plugin[i], strerror(err));
			return -1;
		}
		free(prev);
		prev = slurp(outp);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "FAILED: CNI_COMMAND=%s CNI_CONTAINERID=%s CNI_NETNS=%s CNI_IFNAME=%s %s: %s %d\n"
					"  stdin:  %s\n  stdout: %s\n",
				j->cmd, j->id, j->netns, j->ifname, j->plugin[i],
				WIFEXITED(st) ? "exit" : "killed by signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), conf, prev ? prev : "");
			rc = -1;
		} else if (add && i == j->nsteps - 1 && rename(outp, path)) {
			fprintf(stderr, "cnidrv: rename %s: %s\n", outp, strerror(errno));
			rc = -1;
		}
		free(conf);
		free(tmpl);
	}
	free(prev);
	free(cached);
	free(env);
	return rc;
}

int main(int argc, char **argv)
{
	struct job *jobs = NULL;
	size_t nj = 0, cap = 0, k, running = 0;
	char line[8192];
	int maxpar, fail = 0, st;
	long long t0, us;
	FILE *f;

	if (argc != 5 || (strcmp(argv[1], "seq") && strcmp(argv[1], "par"))) {
		fprintf(stderr, "usage: cnidrv seq|par MAXPAR JOBFILE RESDIR\n");
		return 2;
	}
	setpgid(0, 0); /* a group of its own: the script stops it, and the plugins, at once */
	maxpar = atoi(argv[2]);
	resdir = argv[4];
	if (!(f = fopen(argv[3], "r"))) {
		perror(argv[3]);
		return 2;
	}
	while (fgets(line, sizeof line, f)) {
		char *w[16], *save = NULL;
		int n = 0;
		for (char *t = strtok_r(line, " \t\n", &save); t && n < 16; t = strtok_r(NULL, " \t\n", &save))
			w[n++] = strdup(t);
		if (n == 0)
			continue;
		if (n < 7 || (n - 5) % 2 || n > 13) {
			fprintf(stderr, "cnidrv: a job line of %d words\n", n);
			return 2;
		}
		if (nj == cap)
			jobs = realloc(jobs, (cap = cap * 2 + 64) * sizeof *jobs);
		jobs[nj] = (struct job){w[0], w[1], w[2], w[3], w[4], (n - 5) / 2, {0}, {0}};
		for (int i = 0; i < jobs[nj].nsteps; i++)
			jobs[nj].plugin[i] = w[5 + 2 * i], jobs[nj].conf[i] = w[6 + 2 * i];
		nj++;
	}
	fclose(f);

	if (!strcmp(argv[1], "seq")) {
		for (k = 0; k < nj; k++) {
			if (run_job(&jobs[k], &us))
				return 1;
			printf("%s %s %lld\n", jobs[k].cmd, jobs[k].id, us);
		}
		return 0;
	}
	fflush(stdout);
	t0 = now_us();
	for (k = 0; k < nj || running > 0;) {
		if (k < nj && !fail && (maxpar <= 0 || running < (size_t)maxpar)) {
			pid_t pid = fork();
			if (pid == 0) {
				int r = run_job(&jobs[k], &us);
				if (!r)
					printf("%s %s %lld\n", jobs[k].cmd, jobs[k].id, us);
				fflush(stdout);
				_exit(r ? 1 : 0);
			}
			if (pid < 0) {
				perror("cnidrv: fork");
				fail = 1;
			} else
				running++, k++;
			continue;
		}
		if (running == 0)
			break;
		if (wait(&st) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail = 1; /* start no more; let the running ones finish */
	}
	printf("wall %lld\n", now_us() - t0);
	return fail;
}
EOF
cc -O2 -Wall -o "$work/cnidrv" "$work/cnidrv.c" 2>>"$log" || die "cc of the timing driver: $(tail -n 5 "$log")"
# a copy of the plugin: a rebuild during the run changes nothing (it links no library of the tree)
if [ "$run_vnet" = 1 ]; then
	cp "$VNET_CNI_BIN" "$work/vnet-cni" || die "cp $VNET_CNI_BIN"
	VNET_CNI_BIN=$work/vnet-cni
fi

# drive HOST MODE MAXPAR JOBFILE: the driver in namespace P-h-HOST; its lines in $work/out.
# Run in the background so that an interrupt stops it (and its plugins) at once.
export CNI_PATH=$REF CNI_ARGS=IgnoreUnknown=1
drive() {
	local rc
	nsenter --net="/run/netns/$P-h-$1" "$work/cnidrv" "$2" "$3" "$4" "$work/res-$1" \
		>"$work/out" 2>"$work/drv-err" &
	drv_pid=$!
	wait "$drv_pid"
	rc=$?
	drv_pid=
	cat "$work/drv-err" >>"$log"
	return "$rc"
}

# ---- statistics and printing ----

# pct P US...: the P-th percentile (nearest rank) of whole numbers
pct() {
	local p=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR] = $1} END {i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i]}'
}
fmt() { # microseconds -> "0.84 ms" below 10 ms, "12.3 ms", "1.23 s"; anything else as is
	case $1 in
	'' | *[!0-9]*) printf '%s' "${1:--}" ;;
	*) awk -v u="$1" 'BEGIN { if (u < 10000) printf "%.2f ms", u / 1e3; else if (u < 1000000) printf "%.1f ms", u / 1e3; else printf "%.2f s", u / 1e6 }' ;;
	esac
}

# ---- the configurations ----

# conf_vnet IPAM-JSON: vnet-cni's config (ADD), with runtimeConfig.portMappings
conf_vnet() {
	cat <<-EOF
		{"cniVersion": "1.0.0", "name": "bench", "type": "vnet-cni", "bridge": "cni0",
		 "isGateway": true, "ipMasq": true, "hairpinMode": true,
		 "capabilities": {"portMappings": true},
		 "runtimeConfig": {"portMappings": [{"hostPort": @PORT@, "containerPort": 80, "protocol": "tcp"}]},
		 "ipam": $1}
	EOF
}
# the reference conflist's two plugins (libcni injects cniVersion/name, runtimeConfig, prevResult)
conf_bridge() {
	cat <<-EOF
		{"cniVersion": "1.0.0", "name": "bench", "type": "bridge", "bridge": "cni0",
		 "isGateway": true, "ipMasq": true, "hairpinMode": true,
		 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/16"}]],
		          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$work/ipam-$1"}}
	EOF
}
conf_portmap() {
	cat <<-EOF
		{"cniVersion": "1.0.0", "name": "bench", "type": "portmap",
		 "capabilities": {"portMappings": true}, "snat": true,
		 "runtimeConfig": {"portMappings": [{"hostPort": @PORT@, "containerPort": 80, "protocol": "tcp"}]},
		 "prevResult": @PREV@}
	EOF
}
# with_prev: a config with "prevResult": @PREV@ added (DEL gets the cached result)
with_prev() { sed '$ s/}[[:space:]]*$/, "prevResult": @PREV@}/'; }

# setup_conf CONF: the config files and the part of a job line after the port, ADD and DEL
declare -A ADDSTEPS DELSTEPS TITLE
setup_conf() {
	local c=$1 d=$work/conf-$1
	mkdir -p "$d" "$work/res-$1"
	case $c in
	vnet)
		conf_vnet '{"type": "vnet", "subnet": "10.77.0.0/16", "routes": [{"dst": "0.0.0.0/0"}]}' >"$d/add.json"
		;;
	vnethl)
		conf_vnet "{\"type\": \"host-local\", \"ranges\": [[{\"subnet\": \"10.77.0.0/16\"}]],
		  \"routes\": [{\"dst\": \"0.0.0.0/0\"}], \"dataDir\": \"$work/ipam-$c\"}" >"$d/add.json"
		;;
	ref)
		conf_bridge "$c" >"$d/add-bridge.json"
		conf_portmap >"$d/portmap.json"
		with_prev <"$d/add-bridge.json" >"$d/del-bridge.json"
		ADDSTEPS[$c]="$REF/bridge $d/add-bridge.json $REF/portmap $d/portmap.json"
		DELSTEPS[$c]="$REF/portmap $d/portmap.json $REF/bridge $d/del-bridge.json"
		TITLE[$c]="reference bridge + host-local, portmap"
		return
		;;
	esac
	with_prev <"$d/add.json" >"$d/del.json"
	ADDSTEPS[$c]="$VNET_CNI_BIN $d/add.json"
	DELSTEPS[$c]="$VNET_CNI_BIN $d/del.json"
	TITLE[$c]="vnet-cni, ipam $([ "$c" = vnet ] && echo vnet || echo host-local)"
}

# jobs CONF CMD ID-PREFIX FROM TO NS-PREFIX PORT-BASE: job lines for containers FROM..TO,
# id PREFIXk in namespace P-NSk (k - FROM + 1 when NS-PREFIX is "m"), host port BASE+k
jobs() {
	local c=$1 cmd=$2 idp=$3 from=$4 to=$5 nsp=$6 base=$7 steps
	[ "$cmd" = ADD ] && steps=${ADDSTEPS[$c]} || steps=${DELSTEPS[$c]}
	awk -v cmd="$cmd" -v idp="$idp" -v from="$from" -v to="$to" -v nsp="$P-$nsp" -v m="$([ "$6" = m ] && echo 1 || echo 0)" \
		-v base="$base" -v steps="$steps" 'BEGIN {
		for (k = from; k <= to; k++)
			printf "%s %s%d /run/netns/%s%d eth0 %d %s\n", cmd, idp, k, nsp, m ? k - from + 1 : k, base + k, steps
	}'
}

# ---- the reference's backgrounds beyond BENCH_CNI_REF_REAL: cloned from b1 ----

# clone_ref FROM TO: containers bFROM..bTO get what the reference plugins gave b1.
clone_ref() {
	local from=$1 to=$2 h=$P-h-ref save=$work/ref-save ipd=$work/ipam-ref/bench k
	ip netns exec "$h" iptables-save -t nat >"$save" 2>>"$log" || die "iptables-save in $h"
	[ -f "$ipd/last_reserved_ip.0" ] || die "no host-local lease store in $ipd"
	# b1's address (its lease file), chains and rules -> the clones' restore file, veth
	# commands (host side), container commands, leases and the new last_reserved_ip.0
	ls "$ipd" >"$work/leases"
	awk -v from="$from" -v to="$to" -v ipd="$ipd" -v P="$P" -v w="$work" '
	function ip2n(s,  a) { split(s, a, "."); return ((a[1] * 256 + a[2]) * 256 + a[3]) * 256 + a[4] }
	function n2ip(n) { return sprintf("%d.%d.%d.%d", int(n / 16777216) % 256, int(n / 65536) % 256, int(n / 256) % 256, n % 256) }
	FILENAME ~ /\/leases$/ { lease[$1] = 1; next }
	FILENAME ~ /\/last_reserved_ip\.0$/ { last = ip2n($1); next }
	FILENAME ~ /\/b1-ip$/ { ip1 = $1; next }
	{ line[++nl] = $0 }
	END {
		id1 = "\\\"b1\\\""
		# b1 owns two chains: the targets of its rules in POSTROUTING (masquerade) and in
		# CNI-HOSTPORT-DNAT (portmap)
		for (i = 1; i <= nl; i++)
			if (index(line[i], id1) && line[i] ~ /^-A (POSTROUTING|CNI-HOSTPORT-DNAT) /) {
				nf = split(line[i], f, " ")
				if (f[nf - 1] == "-j") chain[f[nf]] = ++nc
			}
		if (nc != 2 || ip1 == "") { print "clone: b1 has " nc " chains, address \"" ip1 "\"" > "/dev/stderr"; exit 1 }
		# its rules and chain declarations: the template
		for (i = 1; i <= nl; i++) {
			split(line[i], f, " ")
			if ((f[1] ~ /^:/ && (substr(f[1], 2) in chain)) || (f[1] == "-A" && ((f[2] in chain) || index(line[i], id1))))
				tmpl[++nt] = line[i]
		}
		n = last
		for (k = from; k <= to; k++) {
			do n++; while (n2ip(n) in lease)
			ip = n2ip(n)
			for (t = 1; t <= nt; t++) {
				nf = split(tmpl[t], f, " ")
				out = ""
				for (x = 1; x <= nf; x++) {
					v = f[x]
					c = v
					sub(/^:/, "", c)
					if (c in chain) {
						# a name as long as the real one: its prefix, zeros, "cc", chain, k
						pre = (c ~ /^CNI-DN-/) ? "CNI-DN-" : "CNI-"
						hx = sprintf("cc%d%06x", chain[c], k)
						while (length(pre hx) < length(c)) hx = "0" hx
						v = (v ~ /^:/ ? ":" : "") pre hx
					} else if (v == ip1 "/32") v = ip "/32"
					else if (index(v, ip1 ":") == 1) v = ip substr(v, length(ip1) + 1)
					else if (v == "20001") v = 20000 + k
					else if (v == id1 "\"") v = "\\\"b" k "\\\"\""
					out = out (x > 1 ? " " : "") v
				}
				if (out ~ /^:/) decl[++nd] = out; else rule[++nr] = out
			}
			printf "link add vethc%07x type veth peer name eth0 netns %s-b%d\n", k, P, k > (w "/clone-host")
			printf "link set vethc%07x master cni0 up\nlink set vethc%07x type bridge_slave hairpin on\n", k, k > (w "/clone-host")
			printf "%s-b%d %s\n", P, k, ip > (w "/clone-ctr")
			printf "b%d\r\neth0", k > (ipd "/" ip)
			close(ipd "/" ip)
		}
		print "*nat" > (w "/clone-rules")
		for (i = 1; i <= nd; i++) print decl[i] > (w "/clone-rules")
		for (i = 1; i <= nr; i++) print rule[i] > (w "/clone-rules")
		print "COMMIT" > (w "/clone-rules")
		print ip > (w "/clone-last")
	}' "$work/leases" "$ipd/last_reserved_ip.0" "$work/b1-ip" "$save" 2>>"$log" ||
		die "cloning the reference's background attachments (see $log)"
	ip -n "$h" -batch "$work/clone-host" >>"$log" 2>&1 || die "the clones' veths"
	while read -r ns ip; do
		printf 'addr add %s/16 dev eth0\nlink set eth0 up\nroute add default via 10.77.0.1 dev eth0\n' "$ip" |
			ip -n "$ns" -batch - >>"$log" 2>&1 || die "the address of $ns"
	done <"$work/clone-ctr"
	ip netns exec "$h" iptables-restore --noflush "$work/clone-rules" >>"$log" 2>&1 ||
		die "iptables-restore of the clones' rules"
	cp "$work/clone-last" "$ipd/last_reserved_ip.0"
	k=$(grep -c '^-A' "$work/clone-rules")
	say "  cloned b$from..b$to: $k iptables rules, $((to - from + 1)) veths and leases"
}

# ---- one configuration at all sizes ----

declare -A R # R[conf,size,what] = microseconds, or "fail"
port=40000   # the measured containers' host ports (the backgrounds': 20000 + k)

# grow CONF FROM TO: background containers bFROM..bTO attached
grow() {
	local c=$1 from=$2 to=$3 real_to=$3
	[ "$from" -le "$to" ] || return 0
	if [ "$c" = ref ] && [ "$to" -gt "$REF_REAL" ]; then
		real_to=$((REF_REAL > from - 1 ? REF_REAL : from - 1))
		[ "$real_to" -ge 1 ] || real_to=1
	fi
	if [ "$from" -le "$real_to" ]; then
		say "  background attachments b$from..b$real_to through the plugin(s)"
		jobs "$c" ADD b "$from" "$real_to" b 20000 >"$work/jobs"
		drive "$c" par 2 "$work/jobs" || return 1
	fi
	if [ "$c" = ref ] && [ "$real_to" -lt "$to" ]; then
		ip -n "$P-b1" -4 -o addr show dev eth0 | awk '{sub(/\/.*/, "", $4); print $4}' >"$work/b1-ip"
		clone_ref $((real_to + 1)) "$to"
	fi
}

# check CONF BG: after the measures, BG background attachments, no more, no less
check() {
	local c=$1 bg=$2 v
	v=$(ip -n "$P-h-$c" -o link show master cni0 2>/dev/null | grep -c 'veth')
	[ "$v" = "$bg" ] || say "  WARNING: $c: $v veths on cni0, expected $bg"
	if [ "$c" = ref ]; then
		v=$(ip netns exec "$P-h-$c" iptables-save -t nat 2>/dev/null | grep -c -- '-j DNAT')
	else
		v=$(ip netns exec "$P-h-$c" nft -j list map ip vnet-cni tcp_any 2>/dev/null |
			jq '[.nftables[] | .map? | select(.) | .elem // [] | length] | add // 0' 2>/dev/null)
	fi
	[ "$v" = "$bg" ] || say "  WARNING: $c: $v port mappings (DNAT rules or tcp_any elements), expected $bg"
	if [ "$bg" -ge 1 ]; then
		ip netns exec "$P-b1" ping -q -c 1 -W 2 10.77.0.1 >/dev/null 2>&1 ||
			say "  WARNING: $c: container b1 cannot ping its gateway 10.77.0.1"
	fi
}

# bench_conf CONF: host namespace, then per size: backgrounds, REPS pairs, PAR ADDs, PAR DELs
bench_conf() {
	local c=$1 n bg=0 i t0 excess shrunk a=() d=()
	say "${TITLE[$c]}"
	ip netns add "$P-h-$c" || die "ip netns add $P-h-$c"
	ip -n "$P-h-$c" link set lo up
	export VNET_STATE_DIR=$work/state-$c
	mkdir -p "$VNET_STATE_DIR"
	t0=$(now_us)
	for n in "${sizes[@]}"; do
		grow "$c" $((bg + 1)) $((n - 1)) || return 1
		bg=$((n - 1))
		say "  $n attachments: $REPS sequential ADD+DEL pairs"
		: >"$work/jobs"
		for ((i = 1; i <= REPS; i++)); do
			port=$((port + 1))
			jobs "$c" ADD "s$n-" "$i" "$i" m $((port - i)) >>"$work/jobs"
			jobs "$c" DEL "s$n-" "$i" "$i" m $((port - i)) >>"$work/jobs"
		done
		settle
		drive "$c" seq 0 "$work/jobs" || return 1
		mapfile -t a < <(awk '$1 == "ADD" {print $3}' "$work/out")
		mapfile -t d < <(awk '$1 == "DEL" {print $3}' "$work/out")
		R[$c,$n,add50]=$(median "${a[@]}") R[$c,$n,add99]=$(pct 99 "${a[@]}")
		R[$c,$n,del50]=$(median "${d[@]}") R[$c,$n,del99]=$(pct 99 "${d[@]}")

		say "  $n attachments: $PAR ADDs at once, then their DELs"
		# a bridge takes BR_MAX ports: make room for the parallel ADDs (b1, the clones' model,
		# stays; the reference's b2.. are made through the plugins unless REF_REAL < excess + 1)
		excess=$((bg + PAR - BR_MAX)) shrunk=0
		if [ "$excess" -gt 0 ] && { [ "$c" != ref ] || [ $((excess + 1)) -le "$REF_REAL" ]; }; then
			say "  a bridge takes $BR_MAX ports: DEL of b2..b$((excess + 1)) first"
			jobs "$c" DEL b 2 $((excess + 1)) b 20000 >"$work/jobs"
			drive "$c" par 2 "$work/jobs" || return 1
			shrunk=$excess
		fi
		R[$c,$n,pbase]=$((bg - shrunk))
		jobs "$c" ADD "p$n-" 1 "$PAR" m "$port" >"$work/jobs"
		settle
		drive "$c" par 0 "$work/jobs" || return 1
		R[$c,$n,padd]=$(awk '$1 == "wall" {print $2}' "$work/out")
		mapfile -t a < <(awk '$1 == "ADD" {print $3}' "$work/out")
		R[$c,$n,padd50]=$(median "${a[@]}")
		jobs "$c" DEL "p$n-" 1 "$PAR" m "$port" >"$work/jobs"
		port=$((port + PAR))
		settle
		drive "$c" par 0 "$work/jobs" || return 1
		R[$c,$n,pdel]=$(awk '$1 == "wall" {print $2}' "$work/out")
		# back to N-1 for the next size (none after the last)
		if [ "$shrunk" -gt 0 ] && [ "$n" != "$MAXN" ]; then
			jobs "$c" ADD b 2 $((shrunk + 1)) b 20000 >"$work/jobs"
			drive "$c" par 2 "$work/jobs" || return 1
		fi
		check "$c" $((n == MAXN ? bg - shrunk : bg))
		say "  $n: ADD p50 $(fmt "${R[$c,$n,add50]}"), DEL p50 $(fmt "${R[$c,$n,del50]}"), $PAR ADDs $(fmt "${R[$c,$n,padd]}")"
	done
	say "  ${TITLE[$c]}: $(fmt "$(($(now_us) - t0))")"
	return 0
}

# ---- run ----

t_start=$(now_us)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
confs=()
[ "$run_vnet" = 1 ] && confs+=(vnet)
[ "$run_vnet" = 1 ] && [ "${run_vnet_hl:-1}" = 1 ] && confs+=(vnethl)
[ "$run_ref" = 1 ] && confs+=(ref)
[ "${#confs[@]}" -gt 0 ] || die "nothing to run"

# the containers' namespaces, shared by the configurations in turn
say "making $((MAXN - 1 + PAR)) container namespaces"
{
	for ((k = 1; k < MAXN; k++)); do echo "netns add $P-b$k"; done
	for ((k = 1; k <= PAR; k++)); do echo "netns add $P-m$k"; done
} | ip -batch - >>"$log" 2>&1 || die "ip netns add of the containers' namespaces"

# the harness's floor: spawn to exit of /bin/true, the same way
echo '{}' >"$work/empty.json"
mkdir -p "$work/res-floor"
for ((k = 1; k <= REPS; k++)); do echo "ADD floor$k /nonexistent eth0 0 /bin/true $work/empty.json"; done >"$work/jobs"
floor=$("$work/cnidrv" seq 0 "$work/jobs" "$work/res-floor" | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')

failed=()
for c in "${confs[@]}"; do
	setup_conf "$c"
	if ! bench_conf "$c"; then
		failed+=("$c")
		say "${TITLE[$c]}: FAILED; the call:"
		sed 's/^/    /' "$work/drv-err" >&2
	fi
	# the host namespace goes, and with it every veth: the containers' ends too, once the
	# kernel has freed it (asynchronously); wait for that before the next configuration
	before=$(slab_ns)
	ip netns del "$P-h-$c"
	wait_freed 1 "$before"
	for ((i = 0; i < 300; i++)); do
		ip -n "$P-m1" link show eth0 >/dev/null 2>&1 || { [ "$MAXN" -gt 1 ] && ip -n "$P-b$((MAXN - 1))" link show eth0 >/dev/null 2>&1; } || break
		sleep 0.1
	done
done
t_total=$(($(now_us) - t_start))

# ---- the table ----

cell() { # CONF SIZE WHAT
	local v=${R[$1,$2,$3]:-}
	if [ -z "$v" ]; then
		case " ${confs[*]} " in *" $1 "*) v=fail ;; *) v=- ;; esac
	fi
	fmt "$v"
}
ratio() { # CONF WHAT: the figure at the largest size over the one at the smallest
	local lo=${R[$1,${sizes[0]},$2]:-} hi=${R[$1,$MAXN,$2]:-}
	case "$lo$hi" in '' | *[!0-9]*) echo - ;; *) awk -v a="$lo" -v b="$hi" 'BEGIN {printf "%.2fx", (a > 0) ? b / a : 0}' ;; esac
}
row() { printf '| %s | %s | %s | %s |\n' "$@"; }

echo "### CNI ADD/DEL: vnet-cni beside the reference bridge + host-local, portmap (bench/cni.sh)"
echo
row case vnet-cni reference goal
row --- ---: ---: ---
for n in "${sizes[@]}"; do
	g=; [ "$n" != "${sizes[0]}" ] && g=", as at ${sizes[0]}"
	row "$n attachments: ADD p50" "$(cell vnet "$n" add50)" "$(cell ref "$n" add50)" "<= 1.5 ms$g"
	row "$n attachments: ADD p99" "$(cell vnet "$n" add99)" "$(cell ref "$n" add99)" -
	row "$n attachments: DEL p50" "$(cell vnet "$n" del50)" "$(cell ref "$n" del50)" "<= 1.5 ms$g"
	row "$n attachments: DEL p99" "$(cell vnet "$n" del99)" "$(cell ref "$n" del99)" -
	row "$n attachments: $PAR ADDs in parallel, wall" "$(cell vnet "$n" padd)" "$(cell ref "$n" padd)" "<= 100 ms$g"
	row "$n attachments: $PAR ADDs in parallel, p50 of each" "$(cell vnet "$n" padd50)" "$(cell ref "$n" padd50)" -
	row "$n attachments: $PAR DELs in parallel, wall" "$(cell vnet "$n" pdel)" "$(cell ref "$n" pdel)" -
	if [ "${run_vnet_hl:-1}" = 1 ] && [ "$run_vnet" = 1 ]; then
		row "$n attachments: ADD p50, vnet-cni with ipam host-local" "$(cell vnethl "$n" add50)" "$(cell ref "$n" add50)" -
		row "$n attachments: DEL p50, vnet-cni with ipam host-local" "$(cell vnethl "$n" del50)" "$(cell ref "$n" del50)" -
		row "$n attachments: $PAR ADDs in parallel, wall, ipam host-local" "$(cell vnethl "$n" padd)" "$(cell ref "$n" padd)" -
	fi
done
if [ "${#sizes[@]}" -gt 1 ]; then
	for w in "add50 ADD p50" "del50 DEL p50" "padd $PAR parallel ADDs, wall"; do
		row "growth ${sizes[0]} -> $MAXN: ${w#* }" "$(ratio vnet "${w%% *}")" "$(ratio ref "${w%% *}")" "1.0x (no growth)"
	done
fi
echo
echo "Wall time of each plugin exec (spawn to exit) inside the host namespace; the reference's"
echo "ADD is bridge (ipMasq, host-local) then portmap, its DEL portmap then bridge, timed as"
echo "one. Network 10.77.0.0/16 on cni0, ipMasq, one port mapping per container, cniVersion"
echo "1.0.0. N attachments: N-1 exist, the measured one is the N-th ($REPS ADD+DEL pairs;"
echo "the parallel ADDs come on top of the N-1). p99 of $REPS is their largest. The harness's"
echo "floor, spawn to exit of /bin/true, is $(fmt "$floor") here (median)."
[ "$run_ref" = 1 ] && [ "$MAXN" -gt $((REF_REAL + 1)) ] &&
	echo "The reference's background attachments beyond $REF_REAL are clones of its first (same rules, veth, lease)."
for n in "${sizes[@]}"; do
	for c in "${confs[@]}"; do
		b=${R[$c,$n,pbase]:-}
		if [ -n "$b" ] && [ "$b" != $((n - 1)) ]; then
			echo "At $n the parallel ADDs join $b attachments, not $((n - 1)): a Linux bridge takes $BR_MAX ports."
			break 2
		fi
	done
done
if [ "$run_vnet" = 1 ]; then
	echo "vnet-cni: $vnet_cni_desc."
elif [ "$ONLY" != reference ]; then
	echo "vnet-cni: not built ($VNET_CNI_BIN), not measured."
fi
[ "${#failed[@]}" -eq 0 ] || echo "FAILED: ${failed[*]} (the failing call is on stderr)."
echo "Run time: $(fmt "$t_total"); $(nproc) CPUs, kernel $(uname -r); load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)."
[ "${#failed[@]}" -eq 0 ]
