#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# podman.sh - Debian's podman 4.3 (CNI backend) runs real containers on vnet-cni: addresses
# (host-local and vnet's own IPAM, podman's --ip and --mac-address), traffic between
# containers and to the gateway, published ports from a client, masquerade, isolation of two
# networks, a container that exits and starts again, and rm -f leaving no attachment, veth,
# lease or cache file behind.
#
# +--------------------------------------------------------------------+    +-----------------+
# | the "machine" (NAME-m): podman, conmon and vnet-cni run here        |    | client (NAME-c) |
# |                                                                    |    |                 |
# |  up0 198.51.100.1/24 <------------------------------------------------->| eth0 .100.2/24  |
# |  nft table ip vnet-cni: 8080 -> c1:80, 198.51.100.1:8082 -> c3:80  |    | busybox httpd:  |
# |                                                                    |    | answers the     |
# |  NAMEba 10.89.0.1/24  (network NAMEa: cniVersion 0.4.0, host-local, |    | peer's address  |
# |  |                     ipMasq, firewall and tuning chained)        |    |                 |
# |  +-- veth -- c1 eth0 10.89.0.2   (-p 8080:80, httpd)               |    | 10.90.0.0/24    |
# |  +-- veth -- c2 eth0 10.89.0.50  (--ip, --mac-address)             |    | via .100.1      |
# |                                                                    |    +-----------------+
# |  NAMEbv 10.90.0.1/24  (network NAMEv: cniVersion 1.0.0, ipam vnet,  |
# |  |                     no ipMasq, tuning chained)                  |
# |  +-- veth -- c3 eth0 10.90.0.2   (-p 198.51.100.1:8082:80, httpd)  |
# |  +-- veth -- c4 eth0 10.90.0.9   (--ip, --mac-address)             |
# +--------------------------------------------------------------------+
#
# podman runs inside the namespace NAME-m (nsenter --net), with a private containers.conf,
# storage.conf, storage, run root, tmpdir (its locks, events, exit files), cgroup parent and
# CNI config directory: nothing of the machine's own network or configuration is touched. Its
# image is made offline from busybox-static (podman import); its /init exits on SIGTERM.
# podman's CNI cache (/var/lib/cni/results/NAME?-*) cannot be moved: podman removes each
# file on DEL, the cleanup whatever is left.
#
# Proves: podman 4.3 accepts vnet-cni's results (podman inspect shows the addresses, MACs and
# gateways the containers really have), and the firewall and tuning plugins take them as
# prevResult; each bridge holds one veth per container, the peer of that container's eth0;
# c1 and c2 (and c3 and c4) reach each other and their gateway; the two networks cannot
# reach each other; the client reaches c1 through 198.51.100.1:8080 and c3 through
# 198.51.100.1:8082, and the containers see the client's own address; the machine and c2
# (hairpin) reach c1 through 198.51.100.1:8080; c2's connection out is masqueraded to
# 198.51.100.1, c4's is not; the store has one cni_attachment row per container, vnet's IPAM
# one lease per container of NAMEv, the nft maps one element per published port; when c4
# exits on its own, the "podman container cleanup" conmon runs does the DEL (it gets
# VNET_STATE_DIR only from containers.conf [engine] env): its row, lease and veth go, and
# podman start brings it back with the same address and MAC; after rm -f: no row, lease,
# veth, element, /var/lib/cni/results file, container namespace or podman/conmon process;
# every plugin call used the test's store, and none reported a sanitizer error.
#
# VNET_PD_PLUGIN=bridge runs the same rig on the reference plugins (bridge, host-local,
# portmap: iptables inside NAME-m), skipping what only vnet-cni promises (store, nftables,
# isolation): a check of the rig and of the test's expectations.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

S="" M="" C="" NA="" NB="" PD_HAD_CNI=1 PD_HAD_RESULTS=1 PD_HAD_RUNC=1
PD_IDS=() PD_KEYS=()

# pd ARGS...: podman, in the machine namespace, on the scratch storage.
pd() {
	nsenter --net="/run/netns/$M" podman --root "$S/root" --runroot "$S/runroot" \
		--tmpdir "$S/tmp" --storage-driver vfs --runtime runc --cgroup-manager cgroupfs \
		--events-backend file "$@"
}

# pd_procs: the processes whose command line names the scratch storage: podman, conmon and the
# "podman container cleanup" conmon runs (matched in bash: a grep would find itself).
pd_procs() {
	local f cmd
	for f in /proc/[0-9]*/cmdline; do
		cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
		[[ $cmd == *"$S/root"* || $cmd == *"$S/runroot"* ]] || continue
		f=${f#/proc/}
		echo "${f%/cmdline}"
	done
}
no_pd_procs() { [ -z "$(pd_procs)" ]; }

pd_leak() {
	echo "LEAK: $*" >&2
	PD_LEAKED=1
}

# pd_cleanup: remove what podman made (containers, their namespaces and cgroups, conmon, the
# CNI cache), then lib.sh's cleanup (namespaces, scratch, leak guard).
pd_cleanup() {
	local rc=$? p id k d
	set +e
	trap - EXIT
	PD_LEAKED=0
	if [ -n "$S" ] && [ -d "$S/root" ] && has_ns "$M"; then
		for id in $(pd ps -aq --no-trunc 2>/dev/null); do
			PD_IDS+=("$id")
			PD_KEYS+=("$(pd inspect -f '{{.NetworkSettings.SandboxKey}}' "$id" 2>/dev/null)")
		done
		if [ "${#PD_IDS[@]}" -gt 0 ]; then
			[ "$rc" = 0 ] && pd_leak "containers left: ${PD_IDS[*]}"
			timeout 60 nsenter --net="/run/netns/$M" podman --root "$S/root" \
				--runroot "$S/runroot" --tmpdir "$S/tmp" --storage-driver vfs --runtime runc \
				--cgroup-manager cgroupfs --events-backend file rm -f -t 2 "${PD_IDS[@]}" \
				>/dev/null 2>&1
		fi
	fi
	if [ -n "$S" ]; then
		if ! wait_until 15 no_pd_procs; then
			pd_leak "podman/conmon processes left: $(pd_procs | tr '\n' ' ')"
			for p in $(pd_procs); do kill -9 "$p"; done
		fi
		for id in "${PD_IDS[@]}"; do
			runc state "$id" >/dev/null 2>&1 || continue
			pd_leak "runc container $id left"
			runc delete -f "$id"
		done
		for k in "${PD_KEYS[@]}"; do
			{ [ -n "$k" ] && [ -e "$k" ]; } || continue
			pd_leak "container namespace $k left"
			umount "$k"
			rm -f "$k"
		done
		while read -r k; do
			pd_leak "mount $k left"
			umount -l "$k"
		done < <(awk -v s="$S/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r)
	fi
	for d in /sys/fs/cgroup/*/"$PFX.pd"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \;
	done
	if [ -n "$NA" ]; then
		for k in /var/lib/cni/results/"$NA"-* /var/lib/cni/results/"$NB"-*; do
			[ -e "$k" ] || continue
			[ "$rc" = 0 ] && pd_leak "CNI cache file $k left"
			rm -f "$k"
		done
		[ "$PD_HAD_RESULTS" = 1 ] || rmdir /var/lib/cni/results 2>/dev/null
		[ "$PD_HAD_CNI" = 1 ] || rmdir /var/lib/cni 2>/dev/null
		[ "$PD_HAD_RUNC" = 1 ] || rmdir /run/runc 2>/dev/null # runc's state root
	fi
	[ "$PD_LEAKED" = 1 ] && [ "$rc" = 0 ] && rc=1
	(exit "$rc")
	cleanup
}
trap pd_cleanup EXIT
kt_init pd

PLUGIN=${VNET_PD_PLUGIN:-vnet-cni}
case $PLUGIN in
vnet-cni)
	CNI_BIN=${VNET_CNI_BIN:-$KT_ROOT/build/vnet-cni}
	[ -x "$CNI_BIN" ] || skip "no vnet-cni binary at $CNI_BIN (build first, or set VNET_CNI_BIN)"
	;;
bridge) CNI_BIN=/usr/lib/cni/bridge ;;
*) fail "VNET_PD_PLUGIN must be vnet-cni or bridge, not $PLUGIN" ;;
esac
is_vnet() { [ "$PLUGIN" = vnet-cni ]; }
for c in podman runc conmon nc nft sqlite3 busybox; do
	command -v "$c" >/dev/null || skip "needs $c (tools/install-deps test installs it)"
done
BB=$(command -v busybox)
[[ $(LC_ALL=C ldd "$BB" 2>&1 || true) == *"not a dynamic executable"* ]] ||
	skip "needs a static busybox (busybox-static)"
for c in host-local tuning firewall; do
	[ -x "/usr/lib/cni/$c" ] || skip "needs /usr/lib/cni/$c (containernetworking-plugins)"
done
command -v iptables >/dev/null || skip "needs iptables (the firewall plugin, the reference plugins)"

S=$KT_TMP/pd M=$PFX-m C=$PFX-c NA=${PFX}a NB=${PFX}v
BA=${PFX}ba BV=${PFX}bv
[ -d /var/lib/cni ] || PD_HAD_CNI=0
[ -d /var/lib/cni/results ] || PD_HAD_RESULTS=0
[ -d /run/runc ] || PD_HAD_RUNC=0
HAD_SYSTEM_STORE=0
[ ! -e /var/lib/vnet/state.db ] || HAD_SYSTEM_STORE=1
mkdir -p "$S"/{img,net.d,bin,root,runroot,tmp,vartmp,ipam,www}
own_ns "$M"
own_ns "$C"
ip link add up0 netns "$M" type veth peer name eth0 netns "$C"
ip -n "$M" addr add 198.51.100.1/24 dev up0
ip -n "$C" addr add 198.51.100.2/24 dev eth0
ip -n "$M" link set up0 up
ip -n "$C" link set eth0 up
ip -n "$C" route add 10.90.0.0/24 via 198.51.100.1

# ---- podman's configuration, all of it in the scratch directory ----
cat >"$S/containers.conf" <<EOF
[network]
network_backend = "cni"
network_config_dir = "$S/net.d"
cni_plugin_dirs = ["$S/bin", "/usr/lib/cni"]

[engine]
# conmon passes only CONTAINERS_CONF on to the "podman container cleanup" it runs when a
# container exits, and that process runs the CNI DEL: it learns the store from here
env = ["VNET_STATE_DIR=$VNET_STATE_DIR"]
# no /dev/shm/libpod_lock: locks in the tmpdir
lock_type = "file"
image_copy_tmp_dir = "$S/vartmp"
EOF
cat >"$S/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$S/root"
runroot = "$S/runroot"
EOF
# (podman run probes its TMPDIR, default /var/tmp, with a file it makes and unlinks at once)
export CONTAINERS_CONF=$S/containers.conf CONTAINERS_STORAGE_CONF=$S/storage.conf TMPDIR=$S/vartmp

# The plugin, behind a recorder: podman drops a plugin's stderr on success, so each call's
# environment, stdin, stdout, stderr and exit status go to $S/cni.log.
cat >"$S/bin/$PLUGIN" <<EOF
#!/bin/sh
t=\$(mktemp "$S/tmp/cni.XXXXXX")
cat >"\$t.in"
"$CNI_BIN" <"\$t.in" >"\$t.out" 2>"\$t.err"
rc=\$?
{
	echo "=== \$CNI_COMMAND cid=\$CNI_CONTAINERID ifname=\$CNI_IFNAME netns=\$CNI_NETNS rc=\$rc"
	echo "by: \$(tr '\\0' ' ' </proc/\$PPID/cmdline | sed 's/.* --events-backend file //')"
	echo "CNI_ARGS=\$CNI_ARGS"
	echo "VNET_STATE_DIR=\${VNET_STATE_DIR-(unset)}"
	echo "stdin: \$(cat "\$t.in")"
	echo "stdout: \$(cat "\$t.out")"
	sed 's/^/stderr: /' "\$t.err"
} >>"$S/cni.log"
cat "\$t.out"
rm -f "\$t" "\$t.in" "\$t.out" "\$t.err"
exit \$rc
EOF
chmod +x "$S/bin/$PLUGIN"
: >"$S/cni.log"

# pd_fail WHAT: fail, with the plugin's calls.
pd_fail() {
	echo "---- plugin calls ($S/cni.log, last 60 lines):"
	tail -n 60 "$S/cni.log" | cut -c1-2000
	fail "$*"
}

# ---- the networks ----
# NAMEa as podman 4.3 writes a conflist (cniVersion 0.4.0; bridge, portmap, firewall, tuning),
# with vnet-cni serving the port mappings in portmap's stead; NAMEv in cniVersion 1.0.0, with
# vnet's own IPAM. The reference bridge keeps portmap, and has host-local for both.
hostlocal() {
	jq -cn --arg d "$S/ipam" --arg s "$1" --arg g "$2" '{type: "host-local", dataDir: $d,
		routes: [{dst: "0.0.0.0/0"}], ranges: [[{subnet: $s, gateway: $g}]]}'
}
IPAM_A=$(hostlocal 10.89.0.0/24 10.89.0.1)
if is_vnet; then
	IPAM_V='{"type": "vnet", "subnet": "10.90.0.0/24", "routes": [{"dst": "0.0.0.0/0"}]}'
	CAPS='{"portMappings": true, "ips": true}' PORTMAP='[]'
else
	IPAM_V=$(hostlocal 10.90.0.0/24 10.90.0.1)
	CAPS='{"ips": true}' PORTMAP='[{"type": "portmap", "capabilities": {"portMappings": true}}]'
fi
# conflist NAME VERSION BRIDGE IPMASQ IPAM CHAINED: write NAME.conflist; CHAINED, a JSON array,
# follows the first plugin (and portmap, for the reference)
conflist() {
	jq -n --arg name "$1" --arg v "$2" --arg type "$PLUGIN" --arg br "$3" --argjson masq "$4" \
		--argjson ipam "$5" --argjson caps "$CAPS" --argjson pm "$PORTMAP" --argjson more "$6" \
		'{cniVersion: $v, name: $name, plugins: ([{type: $type, bridge: $br, isGateway: true,
		ipMasq: $masq, hairpinMode: true, capabilities: $caps, ipam: $ipam}] + $pm + $more)}' \
		>"$S/net.d/$1.conflist"
}
# (tuning saves what it changes in dataDir, default /run/cni/tuning)
TUNING=$(jq -cn --arg d "$S/tuning" '{type: "tuning", dataDir: $d}')
conflist "$NA" 0.4.0 "$BA" true "$IPAM_A" "[{\"type\": \"firewall\", \"backend\": \"\"}, $TUNING]"
conflist "$NB" 1.0.0 "$BV" false "$IPAM_V" "[$TUNING]"
nets=$(pd network ls --format '{{.Name}}' 2>"$S/network-ls.log" | grep -E "^($NA|$NB)$" | sort |
	tr '\n' ' ' || true)
if [ "$nets" != "$NA $NB " ]; then
	cat "$S/network-ls.log"
	pd_fail "podman's networks: expected '$NA $NB ', got '$nets'"
fi
echo "ok - podman loads the networks $NA and $NB"

# ---- the image: busybox-static, and /init that exits on SIGTERM ----
R=$S/img
mkdir -p "$R"/{bin,etc,proc,sys,dev,tmp,www/cgi-bin}
cp "$BB" "$R/bin/busybox"
for a in sh ping nc ip ifconfig wget httpd sleep timeout hostname cat kill; do
	ln -s busybox "$R/bin/$a"
done
cat >"$R/init" <<'EOF'
#!/bin/sh
# PID 1: run "$@" (if any) in the background, exit 0 on SIGTERM
trap 'exit 0' TERM
[ $# -eq 0 ] || "$@" &
while :; do sleep 1 & wait; done
EOF
cat >"$R/www/cgi-bin/who" <<'EOF'
#!/bin/sh
a=${REMOTE_ADDR#"[::ffff:"}
printf 'Content-Type: text/plain\r\n\r\nvnet-pd %s %s\n' "$(hostname)" "${a%"]"}"
EOF
chmod +x "$R/init" "$R/www/cgi-bin/who"
tar -C "$R" -cf "$S/img.tar" .
IMG=localhost/vnet-pd:1
# (containers/image keeps a blob info cache in /var/lib/containers/cache, whatever --root
# says: the import runs in a mount namespace of its own where /var/lib is an empty tmpfs)
unshare -m sh -c 'mount -t tmpfs vnet-pd /var/lib && exec "$@"' sh \
	podman --root "$S/root" --runroot "$S/runroot" --tmpdir "$S/tmp" --storage-driver vfs \
	import -q --change 'ENTRYPOINT ["/init"]' "$S/img.tar" "$IMG" >/dev/null ||
	fail "podman import failed"

# the client's server: answers "peer ADDRESS" (the address the connection came from)
mkdir -p "$S/www/cgi-bin"
cat >"$S/www/cgi-bin/peer" <<'EOF'
#!/bin/sh
a=${REMOTE_ADDR#"[::ffff:"}
printf 'Content-Type: text/plain\r\n\r\npeer %s\n' "${a%"]"}"
EOF
chmod +x "$S/www/cgi-bin/peer"
ip netns exec "$C" "$BB" httpd -f -p 198.51.100.2:80 -h "$S/www" &
bg_pid $!
wait_until 10 listening "$C" 80 || fail "the client's httpd does not listen"

# ---- the containers ----
# run NAME ARGS...: podman run -d, named NAME and with hostname NAME.
run() {
	local name=$1 rc=0
	shift
	# (no --log-level=debug: the "podman container cleanup" conmon runs when the container
	# exits would get --syslog too, and dies at once where there is no /dev/log)
	pd run -d --name "$name" --hostname "$name" --cgroup-parent "/$PFX.pd" \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@" >/dev/null 2>"$S/run-$name.log" ||
		rc=$?
	if [ "$rc" != 0 ]; then
		cat "$S/run-$name.log"
		pd_fail "podman run $name $* failed ($rc)"
	fi
	echo "ok - podman run $name $*"
}
run c1 --network "$NA" -p 8080:80 "$IMG" httpd -f -p 80 -h /www
run c2 --network "$NA" --ip 10.89.0.50 --mac-address 02:42:0a:59:00:32 "$IMG"
run c3 --network "$NB" -p 198.51.100.1:8082:80 "$IMG" httpd -f -p 80 -h /www
run c4 --network "$NB" --ip 10.90.0.9 --mac-address 02:42:0a:5a:00:09 "$IMG"

declare -A NET=([c1]=$NA [c2]=$NA [c3]=$NB [c4]=$NB)
declare -A BR=([c1]=$BA [c2]=$BA [c3]=$BV [c4]=$BV)
declare -A IP=([c1]=10.89.0.2 [c2]=10.89.0.50 [c3]=10.90.0.2 [c4]=10.90.0.9)
declare -A GW=([c1]=10.89.0.1 [c2]=10.89.0.1 [c3]=10.90.0.1 [c4]=10.90.0.1)
declare -A MAC=([c2]=02:42:0a:59:00:32 [c4]=02:42:0a:5a:00:09)
declare -A ID KEY

# inspect NAME FILTER: jq -r FILTER over podman inspect's object of NAME.
inspect() { pd inspect "$1" | jq -r ".[0] | $2"; }

# check_container NAME: podman's view and the kernel's agree, and are as expected.
check_container() {
	local c=$1 n=${NET[$1]} key j ifx mac
	ID[$c]=$(inspect "$c" .Id)
	key=$(inspect "$c" .NetworkSettings.SandboxKey)
	KEY[$c]=$key
	[ -e "$key" ] || fail "$c: no network namespace at '$key'"
	expect_eq "$c: podman's address and gateway" "$(inspect "$c" ".NetworkSettings.Networks[\"$n\"] |
		\"\(.IPAddress)/\(.IPPrefixLen) \(.Gateway)\"")" "${IP[$c]}/24 ${GW[$c]}"
	j=$(nsenter --net="$key" ip -d -j link show dev eth0 | jq -c '.[0]')
	mac=$(jq -r .address <<<"$j")
	expect_eq "$c: podman's MAC is eth0's" \
		"$(inspect "$c" ".NetworkSettings.Networks[\"$n\"].MacAddress")" "$mac"
	[ -z "${MAC[$c]:-}" ] || expect_eq "$c: eth0's MAC (--mac-address)" "$mac" "${MAC[$c]}"
	expect_eq "$c: eth0 is a veth, up" \
		"$(jq -r '"\(.linkinfo.info_kind) \(.operstate)"' <<<"$j")" "veth UP"
	expect_eq "$c: eth0's addresses" "$(nsenter --net="$key" ip -j addr show dev eth0 |
		jq -r '.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"')" "${IP[$c]}/24"
	expect_eq "$c: default route" "$(nsenter --net="$key" ip -j route show default |
		jq -r '.[] | "\(.gateway) \(.dev)"')" "${GW[$c]} eth0"
	# the host end: the peer of eth0, a port of the network's bridge
	ifx=$(jq -r .link_index <<<"$j")
	j=$(ip -n "$M" -d -j link | jq -c --argjson i "$ifx" '.[] | select(.ifindex == $i)')
	[ -n "$j" ] || fail "$c: eth0's peer (ifindex $ifx) is not in $M"
	expect_eq "$c: the host end's bridge" "$(jq -r .master <<<"$j")" "${BR[$c]}"
	if is_vnet; then
		[[ $(jq -r .ifname <<<"$j") =~ ^veth[0-9a-f]{8}$ ]] ||
			fail "$c: host end named $(jq -r .ifname <<<"$j"), not veth + 8 hex digits"
		expect_eq "$c: the host end's alias" "$(jq -r '.ifalias // ""' <<<"$j")" "vnet-cni:$n"
	fi
}

for c in c1 c2 c3 c4; do check_container "$c"; done
expect_eq "$BA's address (isGateway)" "$(addrs "$M" "$BA")" 10.89.0.1/24
expect_eq "$BV's address (isGateway)" "$(addrs "$M" "$BV")" 10.90.0.1/24
for b in "$BA" "$BV"; do
	expect_eq "ports of $b" "$(ip -n "$M" -j link show master "$b" | jq length)" 2
done
expect_eq "net.ipv4.ip_forward in $M" "$(nsx "$M" sysctl -n net.ipv4.ip_forward)" 1
[ -e "/var/lib/cni/results/$NA-${ID[c1]}-eth0" ] ||
	fail "no CNI cache file /var/lib/cni/results/$NA-${ID[c1]}-eth0"

# rows: the store's cni_attachment rows "net cid ifname", sorted
rows() {
	sqlite3 "$VNET_STATE_DIR/state.db" \
		"SELECT net || ' ' || cid || ' ' || ifname FROM cni_attachment ORDER BY 1"
}
# want_rows NAME...: the rows those containers should have
want_rows() {
	local c
	for c in "$@"; do echo "${NET[$c]} ${ID[$c]} eth0"; done | sort
}
# elems MAP: the elements of the map MAP of table ip vnet-cni in M, as "key : value", sorted
elems() {
	nsx "$M" nft -j list map ip vnet-cni "$1" | jq -r '.nftables[] | .map? // empty | .elem[]? |
		[.[0], .[1]] | map(if type == "object" and has("concat") then .concat | join(" . ")
		else tostring end) | join(" : ")' | sort
}
if is_vnet; then
	expect_eq "cni_attachment rows" "$(rows)" "$(want_rows c1 c2 c3 c4)"
	expect_eq "tcp_any" "$(elems tcp_any)" "8080 : 10.89.0.2 . 80"
	expect_eq "tcp_at" "$(elems tcp_at)" "198.51.100.1 . 8082 : 10.90.0.2 . 80"
	expect_eq "the set masq (only $NA has ipMasq)" "$(nsx "$M" nft -j list set ip vnet-cni masq |
		jq -r '.nftables[] | .set? // empty | .elem[]? | .prefix? // . |
		if type == "object" then "\(.addr)/\(.len)" else tostring end' | sort | tr '\n' ' ')" \
		"10.89.0.0/24 "
fi

# ---- traffic ----
# ping_ok WHAT CONTAINER ADDR / ping_fails: from inside the container (busybox ping)
ping_ok() {
	pd exec "$2" ping -c 1 -W 2 "$3" >/dev/null 2>&1 || pd_fail "$1: $2 cannot ping $3"
	echo "ok - $1"
}
ping_fails() {
	if pd exec "$2" ping -c 1 -W 1 "$3" >/dev/null 2>&1; then fail "$1: $2 pinged $3"; fi
	echo "ok - $1"
}
ping_ok "c1 -> c2" c1 10.89.0.50
ping_ok "c2 -> c1" c2 10.89.0.2
ping_ok "c1 -> its gateway" c1 10.89.0.1
ping_ok "c3 -> c4" c3 10.90.0.9
ping_ok "c4 -> its gateway" c4 10.90.0.1
for c in c1 c2 c3 c4; do
	nsx "$M" ping -c 1 -W 2 "${IP[$c]}" >/dev/null || pd_fail "the machine cannot ping $c"
done
echo "ok - the machine pings every container"
if is_vnet; then
	ping_fails "isolation: c3 ($NB) -> c1 ($NA)" c3 10.89.0.2
	ping_fails "isolation: c1 ($NA) -> c4 ($NB)" c1 10.90.0.9
fi

# GOT: the body of the last fetch. fetch_in NS URL / fetch_from CONTAINER URL.
GOT=""
fetch_in() { GOT=$(nsx "$1" timeout 5 "$BB" wget -q -O - "$2" 2>/dev/null); }
fetch_from() { GOT=$(pd exec "$1" timeout 5 wget -q -O - "$2" 2>/dev/null); }

# published ports, from the client: the container sees the client's own address
wait_until 10 fetch_in "$C" http://198.51.100.1:8080/cgi-bin/who ||
	pd_fail "the client gets no answer from 198.51.100.1:8080"
expect_eq "client -> 198.51.100.1:8080 (-p 8080:80)" "$GOT" "vnet-pd c1 198.51.100.2"
wait_until 10 fetch_in "$C" http://198.51.100.1:8082/cgi-bin/who ||
	pd_fail "the client gets no answer from 198.51.100.1:8082"
expect_eq "client -> 198.51.100.1:8082 (-p 198.51.100.1:8082:80)" "$GOT" "vnet-pd c3 198.51.100.2"
fetch_in "$M" http://198.51.100.1:8080/cgi-bin/who ||
	pd_fail "the machine gets no answer from its own 198.51.100.1:8080"
expect_eq "the machine -> its own 198.51.100.1:8080: answered by" "${GOT% *}" "vnet-pd c1"
fetch_from c2 http://198.51.100.1:8080/cgi-bin/who ||
	pd_fail "hairpin: c2 gets no answer from 198.51.100.1:8080"
expect_eq "hairpin: c2 -> 198.51.100.1:8080: answered by" "${GOT% *}" "vnet-pd c1"

# out: masquerade for NAMEa (ipMasq), none for NAMEv (the client routes 10.90.0.0/24 back)
fetch_from c2 http://198.51.100.2/cgi-bin/peer || pd_fail "c2 cannot reach the client"
expect_eq "c2 -> client: the peer the client saw (masquerade)" "$GOT" "peer 198.51.100.1"
fetch_from c4 http://198.51.100.2/cgi-bin/peer || pd_fail "c4 cannot reach the client"
expect_eq "c4 -> client: the peer the client saw (no ipMasq)" "$GOT" "peer 10.90.0.9"

# ---- c4 exits on its own, then starts again ----
# Its DEL then comes from the "podman container cleanup" that conmon runs, whose environment
# is conmon's (CONTAINERS_CONF only): VNET_STATE_DIR reaches the plugin through containers.conf.
# ports BRIDGE: how many links are ports of it. ports_are BRIDGE N, rows_are N: for wait_until
ports() { ip -n "$M" -j link show master "$1" | jq length; }
ports_are() { [ "$(ports "$1")" = "$2" ]; }
rows_are() { [ "$(rows | wc -l)" = "$1" ]; }
leases() { sqlite3 "$VNET_STATE_DIR/state.db" 'SELECT count(*) FROM lease'; }
if is_vnet; then expect_eq "vnet IPAM leases (c3, c4)" "$(leases)" 2; fi
pd kill --signal TERM c4 >/dev/null || pd_fail "podman kill --signal TERM c4 failed"
wait_until 10 ports_are "$BV" 1 || pd_fail "c4 exited, but $BV has $(ports "$BV") ports"
echo "ok - c4 exited: $BV has one port left"
if is_vnet; then
	wait_until 10 rows_are 3 || pd_fail "c4 exited, but the store has: $(rows)"
	expect_eq "cni_attachment rows after c4 exited" "$(rows)" "$(want_rows c1 c2 c3)"
	expect_eq "vnet IPAM leases after c4 exited (c3)" "$(leases)" 1
fi
# del_by_cleanup CID: the plugin's log has a DEL of CID run by "podman container cleanup"
del_by_cleanup() {
	awk -v h="=== DEL cid=$1 " 'index($0, h) == 1 { getline; if (/^by: .*container cleanup/) f = 1 }
		END { exit !f }' "$S/cni.log"
}
wait_until 10 del_by_cleanup "${ID[c4]}" ||
	pd_fail "c4's DEL was not run by conmon's podman container cleanup"
echo "ok - c4's DEL ran in conmon's podman container cleanup"
expect_eq "c4's state" "$(inspect c4 .State.Status)" exited
wait_until 10 test ! -e "/var/lib/cni/results/$NB-${ID[c4]}-eth0" ||
	fail "c4 exited, but its CNI cache file is left"
pd start c4 >/dev/null || pd_fail "podman start c4 failed"
check_container c4
ping_ok "c3 -> c4 after it started again" c3 10.90.0.9
if is_vnet; then
	expect_eq "cni_attachment rows after start c4" "$(rows)" "$(want_rows c1 c2 c3 c4)"
	expect_eq "vnet IPAM leases after start c4" "$(leases)" 2
fi

# ---- rm -f: nothing is left of the attachments ----
pd rm -f -t 5 c1 c2 c3 c4 >/dev/null || pd_fail "podman rm -f failed"
expect_eq "podman's containers after rm" "$(pd ps -aq | wc -l)" 0
wait_until 10 no_pd_procs || fail "podman/conmon still running after rm: $(pd_procs | tr '\n' ' ')"
echo "ok - no podman or conmon process is left"
expect_eq "veths left in $M (besides up0)" "$(ip -n "$M" -j link show type veth |
	jq -r '[.[] | select(.ifname != "up0") | .ifname] | join(" ")')" ""
for c in c1 c2 c3 c4; do
	[ ! -e "${KEY[$c]}" ] || fail "$c's network namespace ${KEY[$c]} is left"
	[ ! -e "/var/lib/cni/results/${NET[$c]}-${ID[$c]}-eth0" ] || fail "$c's CNI cache file is left"
done
echo "ok - no container namespace, no CNI cache file left"
expect_eq "host-local leases left in $S/ipam/$NA" \
	"$(find "$S/ipam/$NA" -name '10.*' -printf '%f ' 2>/dev/null)" ""
if is_vnet; then
	expect_eq "cni_attachment rows after rm" "$(sqlite3 "$VNET_STATE_DIR/state.db" \
		'SELECT count(*) FROM cni_attachment')" 0
	expect_eq "vnet IPAM leases after rm" "$(leases)" 0
	expect_eq "tcp_any after rm" "$(elems tcp_any)" ""
	expect_eq "tcp_at after rm" "$(elems tcp_at)" ""
fi

# ---- every plugin call: the test's store, no sanitizer report ----
grep -q '^=== ADD' "$S/cni.log" || fail "the plugin was never called"
bad=$(grep '^VNET_STATE_DIR=' "$S/cni.log" | grep -vxF "VNET_STATE_DIR=$VNET_STATE_DIR" |
	sort -u || true)
[ -z "$bad" ] || pd_fail "plugin calls with another store: $bad"
echo "ok - every plugin call ($(grep -c '^===' "$S/cni.log")) had VNET_STATE_DIR=$VNET_STATE_DIR"
if grep -E '^stderr: .*(AddressSanitizer|LeakSanitizer|runtime error:)' "$S/cni.log"; then
	pd_fail "the plugin reported a sanitizer error"
fi
echo "ok - no sanitizer report from the plugin"
if [ "$HAD_SYSTEM_STORE" = 0 ] && [ -e /var/lib/vnet/state.db ]; then
	fail "/var/lib/vnet/state.db appeared: a plugin call used the system store"
fi
note "plugin calls: $(grep -o '^=== [A-Z]*' "$S/cni.log" | cut -c5- | sort | uniq -c |
	awk '{ printf "%s %s ", $2, $1 }')"
