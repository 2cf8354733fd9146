#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qemu-guest.sh - a real QEMU guest on a tap of examples/vm.yaml, whose br0 took the machine's
# NIC over: the guest sits on the "physical" LAN and pings its router.
#
# +--------------------------------------------------------+------------------+----------------+
# |           machine (NAME-m, made by hand)               |  QEMU guest      |  router        |
# |  +--------------------------------------------------+  |  (-accel tcg)    |  (NAME-r, by   |
# |  |              Network Protocol Stack              |  |  eth0 .3.102     |   hand)        |
# |  +--------------------------------------------------+  |  virtio-net,     |                |
# |                  ↑                                     |  MAC 52:54:00:   |  +----------+  |
# |             +--------+  (.3.101, the default route     |      12:34:56    |  | lan .3.1 |  |
# |             |   br0  |   and eth0's MAC, moved here    |       ↑          |  +----------+  |
# |             +--------+   from eth0 by vnet up)         |       |          |       ↑        |
# |               ↑    ↑    +-------+                      |       |          |       |        |
# |               |    +--->| tap0  |<-----------------------------+          |       |        |
# |               ↓         +-------+ (vnet_hdr)           |                  |       |        |
# |           +------+                                     |                  |       |        |
# |           | eth0 |<-------------------------------------------------------------+        |
# |           +------+  the machine's "physical NIC": a veth to the router        |            |
# +--------------------------------------------------------+------------------+----------------+
#
# Proves: `vnet up examples/vm.yaml`, run as the machine (in NAME-m), takes eth0 over into br0
# and keeps the machine on its LAN; the -netdev argument `vnet show` prints for a tap is one a
# real QEMU opens: a Linux guest booted on tap0, its virtio-net eth0 at 192.168.3.102 with the
# MAC given on QEMU's command line, pings the router through br0 and eth0; the router learns
# that address at that MAC, and the guest's console says its ping was answered. `vnet down`
# gives eth0 back: the machine's addresses, routes and links are as before.
#
# The guest: Debian's kernel (linux-image-amd64) and an initramfs built here, at test time,
# from busybox-static and that kernel's virtio modules. TCG, not KVM: KVM may be absent or
# nested (this machine's /dev/kvm fails); TCG boots and pings in about 11 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init qemu
[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun/tap driver missing)"
for c in qemu-system-x86_64 cpio gzip timeout; do
	command -v "$c" >/dev/null || skip "needs $c (tools/install-deps test)"
done
BUSYBOX=/bin/busybox
# (ldd exits 1 on a static binary: hence the || true)
if ! [ -x "$BUSYBOX" ] || ! grep -q "not a dynamic" <<<"$(ldd "$BUSYBOX" 2>&1 || true)"; then
	skip "needs a static busybox at $BUSYBOX (busybox-static)"
fi
# the newest Debian kernel that has its modules installed
KVER=""
for k in /boot/vmlinuz-*; do
	[ -e "$k" ] && [ -d "/lib/modules/${k#/boot/vmlinuz-}/kernel" ] && KVER=${k#/boot/vmlinuz-}
done
[ -n "$KVER" ] || skip "no /boot/vmlinuz-* with its /lib/modules (linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || skip "cannot read $KERNEL"

MAC=52:54:00:12:34:56
MARKER="vnet-guest: ping 192.168.3.1 ok"

# ---- the initramfs: busybox, the virtio modules in dependency order, an /init that pings ----
# (busybox insmod takes only an uncompressed .ko, and resolves no dependency: order them here)
build_initramfs() {
	local root=$KT_TMP/initramfs m f
	mkdir -p "$root"/{bin,dev,proc,sys,mod}
	cp "$BUSYBOX" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	for m in failover net_failover virtio_ring virtio virtio_pci_modern_dev \
		virtio_pci_legacy_dev virtio_pci virtio_net; do
		f=$(find "/lib/modules/$KVER/kernel" -name "$m.ko*" | head -n 1)
		if [ -z "$f" ]; then
			# built into the kernel rather than a module: nothing to load
			grep -q "/$m.ko" "/lib/modules/$KVER/modules.builtin" 2>/dev/null && continue
			skip "kernel $KVER has no module $m"
		fi
		case $f in
		*.ko) cp "$f" "$root/mod/$m.ko" ;;
		*.ko.xz) xz -dc "$f" >"$root/mod/$m.ko" || skip "cannot decompress $f (xz-utils)" ;;
		*.ko.zst) zstd -qdc "$f" >"$root/mod/$m.ko" || skip "cannot decompress $f (zstd)" ;;
		*.ko.gz) gzip -dc "$f" >"$root/mod/$m.ko" ;;
		*) skip "module $f: unknown compression" ;;
		esac
		echo "$m" >>"$root/mod/order"
	done
	cat >"$root/init" <<EOF
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in \$(cat /mod/order); do insmod /mod/\$m.ko || echo "vnet-guest: insmod \$m failed"; done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
ip link set lo up
ip link set eth0 up
ip addr add 192.168.3.102/24 dev eth0
echo "vnet-guest: eth0 \$(cat /sys/class/net/eth0/address)"
if ping -c 3 -W 5 192.168.3.1; then echo "$MARKER"; else echo "vnet-guest: ping failed"; fi
echo "vnet-guest: done"
poweroff -f
EOF
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$KT_TMP/initramfs.gz"
}
build_initramfs

T=$PFX M=$PFX-m R=$PFX-r
# the "physical" world, by hand: the machine's eth0 on the LAN 192.168.3.0/24, its router .1
own_ns "$M"
own_ns "$R"
ip -n "$M" link add eth0 type veth peer name lan netns "$R"
ip -n "$R" addr add 192.168.3.1/24 dev lan
ip -n "$R" link set lan up
ip -n "$M" addr add 192.168.3.101/24 dev eth0
ip -n "$M" link set eth0 up
ip -n "$M" route add default via 192.168.3.1
wait_until 20 settled "$M" "$R" || fail "DAD did not finish"
before=$(dump_ns "$M")
track "$T" "$M"
in_outer "$M" "$VNET" up examples/vm.yaml --name "$T" || fail "vnet up examples/vm.yaml failed"
expect_eq "eth0's master" "$(lget "$M" eth0 '.master')" br0
expect_eq "br0's MAC (eth0's)" "$(lget "$M" br0 '.address')" "$(lget "$M" eth0 '.address')"
expect_eq "the default route" "$(ip -n "$M" -j route show default | jq -r '.[0].dev')" br0
nsx "$R" ping -c 1 -W 2 192.168.3.101 >/dev/null || fail "the router does not reach the machine"

# ---- QEMU opens tap0 with exactly the argument vnet show prints for it ----
netdev=$(in_outer "$M" "$VNET" show "$T" --json |
	jq -r '.nodes[].links[] | select(.name == "tap0") | .qemu')
expect_eq "show: tap0's QEMU argument" "$netdev" \
	"-netdev tap,id=tap0,ifname=tap0,script=no,downscript=no,vnet_hdr=on"
# br0 forwards only once its ports leave listening/learning; the guest's ping must not race it
wait_until 20 settled "$M" || fail "br0's ports did not reach forwarding"

log=$KT_TMP/console.log
# shellcheck disable=SC2086 # $netdev is two words: -netdev and its value
ip netns exec "$M" timeout -k 5 120 qemu-system-x86_64 -accel tcg -m 256 -nographic \
	-no-reboot -kernel "$KERNEL" -initrd "$KT_TMP/initramfs.gz" \
	-append "console=ttyS0 quiet panic=-1" -serial "file:$log" -monitor none \
	$netdev -device "virtio-net-pci,netdev=tap0,mac=$MAC" </dev/null >"$KT_TMP/qemu.out" 2>&1 &
qpid=$!
bg_pid $qpid
# The console log, without SeaBIOS's terminal escapes and carriage returns (the guest's first
# line shares a line with the BIOS's last: match the markers anywhere in a line).
console() { sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' -e 's/\r//g' "$log"; }
# (the console first, then grep: grep -q quits at its match, and under pipefail the writer it
# cut off, killed by SIGPIPE, would fail the pipe)
guest_done() { grep -q "vnet-guest: done" <<<"$(console)"; }
# done, or QEMU gone (it could not open the tap, say): no use waiting for the timeout then
guest_over() { guest_done || ! kill -0 "$qpid"; }
wait_until 115 guest_over || true
if ! guest_done; then
	console || true
	cat "$KT_TMP/qemu.out" || true
	fail "the guest did not finish (QEMU exited, or 115 s passed)"
fi
console
CONSOLE=$(console)
grep -q "vnet-guest: eth0 $MAC" <<<"$CONSOLE" || fail "the guest's eth0 does not have the MAC $MAC"
grep -qF "$MARKER" <<<"$CONSOLE" || fail "the guest's ping of the router (192.168.3.1) failed"
echo "ok - the guest's console: $MARKER"

# ---- the router saw the guest: 192.168.3.102 at the MAC QEMU was given ----
expect_eq "router's neighbour 192.168.3.102" \
	"$(ip -n "$R" -j neigh show 192.168.3.102 dev lan | jq -r '.[0].lladdr // "none"')" "$MAC"
# the guest powered itself off: QEMU exits 0 (-no-reboot), not killed by its timeout (124)
wait "$qpid" || fail "QEMU exited with status $? after the guest powered off"

# ---- vnet down gives eth0 back: the machine as it was before ----
in_outer "$M" "$VNET" down "$T" >/dev/null || fail "vnet down failed"
wait_until 20 settled "$M" || fail "DAD did not finish after down"
[ "$(dump_ns "$M")" = "$before" ] || {
	diff <(echo "$before") <(dump_ns "$M") || true
	fail "the machine's links, addresses or routes differ from before vnet up"
}
echo "ok - down: the machine's links, addresses and routes as before"
