#!/usr/bin/env bash
# The VXLAN data plane of cluster VNets (netd/vxlan.c, issue 13), through
# tests/system/vxlan-driver: hosts A and B are netns on an underlay switch
# (MTU 1400), each with VNets 1 (VNI 101) and 2 (VNI 102) whose groups use
# the same addresses; a third host C plays an unknown VTEP. Checks:
# the link's parameters and port flags; idempotent create, replace on a
# change, clear errors on bad input; ping across hosts with only static
# FDB and neighbour entries (no learned entry ever appears); removing the
# FDB entry stops it; MTU = underlay - 50, max-size DF ping passes without
# outer fragmentation, one byte more does not; VNIs isolated; VXLAN from a
# VTEP not in the nft filter's set is dropped; the listings return what
# was added.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vxlan-lib.sh"

VX_PREFIX=$NS_PREFIX
VX_DRIVER=$BIN/tests/vxlan-driver
drv() { # drv HOST ARGS...
	local host=$1
	shift
	vx_ns "$host" "$VX_DRIVER" "$@"
}
[ -x "$VX_DRIVER" ] || fail "no $VX_DRIVER (make BUILD=... unit-tests)"
command -v nft >/dev/null || fail "nft missing (scripts/deps.sh)"

MAC_A1=02:00:00:00:01:01 MAC_B1=02:00:00:00:01:02
MAC_A2=02:00:00:00:02:01 MAC_B2=02:00:00:00:02:02
VTEP_A=$(vx_vtep 1) VTEP_B=$(vx_vtep 2) VTEP_C=$(vx_vtep 3)

vx_underlay 1400 a b c

# --- pure MTU math and the underlay lookup
[ "$(drv a mtu 1400 4)" = 1350 ] || fail "IPv4 underlay 1400 should give 1350"
[ "$(drv a mtu 1500 6)" = 1430 ] || fail "IPv6 underlay 1500 should give 1430"
drv a mtu 100 4 2>/dev/null && fail "an underlay MTU of 100 was accepted"
[ "$(drv a underlay-mtu "$VTEP_A")" = 1400 ] || fail "underlay MTU of $VTEP_A is not 1400"

# --- create, parameters, port flags
vx_ns a ip link add pw-v1 address 02:aa:00:00:00:01 type bridge
vx_ns a ip addr add 10.50.0.1/24 dev pw-v1
vx_ns a ip link set pw-v1 up
[ "$(drv a ensure vx1 pw-v1 101 "$VTEP_A")" = created ] || fail "first ensure did not create"
details=$(vx_ns a ip -d link show vx1)
for want in "mtu 1350" "master pw-v1" "vxlan id 101 " "local $VTEP_A " "dstport 4789" "nolearning" \
	"ttl 64" "udpcsum" ",UP"; do
	grep -q -- "$want" <<<"$details" || fail "vx1 lacks '$want': $details"
done
grep -E "^ +vxlan " <<<"$details" | grep -q -E " (group|remote) " && fail "vx1 has a multicast group or default remote: $details"
port=$(vx_ns a bridge -d link show dev vx1)
for want in "learning off" "flood off" "mcast_flood off" "bcast_flood off" "neigh_suppress on"; do
	grep -q -- "$want" <<<"$port" || fail "port vx1 lacks '$want': $port"
done
log "vx1 port flags: learning/flood/mcast_flood/bcast_flood off, neigh_suppress on"

# --- idempotence: ensure again changes nothing; a change replaces the link
snapshot() { # the link, its port flags and its FDB, with the ifindex (not the STP timers)
	vx_ns a ip -d link show vx1 | sed -E 's/[a-z_]+_timer +[0-9.]+//g'
	vx_ns a bridge -d link show dev vx1
	vx_ns a bridge fdb show dev vx1
}
before=$(snapshot)
[ "$(drv a ensure vx1 pw-v1 101 "$VTEP_A")" = kept ] || fail "second ensure did not keep the link"
[ "$(snapshot)" = "$before" ] || fail "second ensure changed vx1: $before // $(snapshot)"
# What can change in place is fixed in place: MTU, port flags, up.
vx_ns a ip link set vx1 mtu 1300 down
vx_ns a ip link set dev vx1 type bridge_slave learning on flood on neigh_suppress off
[ "$(drv a ensure vx1 pw-v1 101 "$VTEP_A")" = kept ] || fail "ensure did not keep a drifted vx1"
[ "$(snapshot)" = "$before" ] || fail "ensure did not repair vx1: $(snapshot)"
[ "$(drv a ensure vx1 pw-v1 101 "$VTEP_A" 0 32)" = created ] || fail "a TTL change did not replace"
grep -q "ttl 32" <<<"$(vx_ns a ip -d link show vx1)" || fail "replaced vx1 has no ttl 32"
[ "$(drv a ensure vx1 pw-v1 199 "$VTEP_A")" = created ] || fail "a VNI change did not replace"
grep -q "vxlan id 199 " <<<"$(vx_ns a ip -d link show vx1)" || fail "replaced vx1 has not VNI 199"
[ "$(drv a ensure vx1 pw-v1 101 "$VTEP_A")" = created ] || fail "back to VNI 101 did not replace"
[ "$(drv a ensure vx1 pw-v1 101 "$VTEP_A")" = kept ] || fail "ensure after replace did not keep"
[ "$(drv a ensure vxd pw-v1 103 "$VTEP_A")" = created ] || fail "vxd not created"
drv a remove vxd
drv a remove vxd || fail "removing a missing link failed"

# --- bad input: one line, exit 1, nothing changed
before=$(snapshot)
expect_error() { # expect_error PATTERN DRIVER-ARGS...
	local pattern=$1 out rc=0
	shift
	out=$(drv a "$@" 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "'$*' exited $rc, not 1: $out"
	[ "$(wc -l <<<"$out")" = 1 ] || fail "'$*' printed more than one line: $out"
	grep -q -- "$pattern" <<<"$out" || fail "'$*': '$out' does not say '$pattern'"
}
expect_error "VNI 0 is out of range" ensure vx1 pw-v1 0 "$VTEP_A"
expect_error "VNI 16777216 is out of range" ensure vx1 pw-v1 16777216 "$VTEP_A"
expect_error "bridge pw-nope" ensure vx1 pw-nope 101 "$VTEP_A"
expect_error "underlay interface with address 192.168.99.9" ensure vx9 pw-v1 105 192.168.99.9
expect_error "not a unicast MAC" fdb-add vx1 00:00:00:00:00:00 "$VTEP_B"
expect_error "not a unicast MAC" fdb-add vx1 01:00:5e:00:00:01 "$VTEP_B"
expect_error "not a VXLAN link" fdb-add pw-v1 "$MAC_B1" "$VTEP_B"
expect_error "not a bridge" neigh-add vx1 10.50.0.12 "$MAC_B1"
expect_error "MTU 10 is below" bridge-mtu pw-v1 10
vx_ns a ip link add vxb type bridge
expect_error "vxb exists and is not a VXLAN link" ensure vxb pw-v1 103 "$VTEP_A"
grep -q "bridge" <<<"$(vx_ns a ip -d link show vxb)" || fail "ensure touched the bridge vxb"
vx_ns a ip link del vxb
expect_error "another VXLAN link has VNI 101" ensure vx7 pw-v1 101 "$VTEP_A"
[ "$(snapshot)" = "$before" ] || fail "a refused call changed vx1"
for l in vx7 vx9; do
	vx_ns a ip link show "$l" >/dev/null 2>&1 && fail "a refused ensure left $l behind"
done

# --- the two hosts, two VNets each, groups with the same addresses per VNet
# vx1 stays: ensure must keep it and put it back on the new bridge.
vx_ns a ip link del pw-v1
for k in 1 2; do
	vx_vnet a 1 "$k" "10$k"
	vx_vnet b 2 "$k" "10$k"
done
grep -q "master pw-v1" <<<"$(vx_ns a ip link show vx1)" || fail "vx1 did not rejoin pw-v1"
[ "$(vx_ns a cat /sys/class/net/pw-v1/mtu)" = 1350 ] || fail "bridge MTU is not underlay - 50"
vx_group a 1 a1 "$MAC_A1" 10.50.0.11
vx_group b 1 b1 "$MAC_B1" 10.50.0.12
vx_group a 2 a2 "$MAC_A2" 10.50.0.11
vx_group b 2 b2 "$MAC_B2" 10.50.0.12
vx_remote a 1 "$MAC_B1" 10.50.0.12 "$VTEP_B"
vx_remote b 1 "$MAC_A1" 10.50.0.11 "$VTEP_A"
vx_remote a 2 "$MAC_B2" 10.50.0.12 "$VTEP_B"
vx_remote b 2 "$MAC_A2" 10.50.0.11 "$VTEP_A"
# Adding again is success and changes nothing.
before=$(snapshot)
vx_remote a 1 "$MAC_B1" 10.50.0.12 "$VTEP_B"
[ "$(snapshot)" = "$before" ] || fail "adding the FDB entry again changed it"

# A counter of ICMP echo requests reaching each group's IP layer.
for g in a1 b1 a2 b2; do
	vx_ns "$g" nft -f - <<EOF
table inet t {
	chain c {
		type filter hook prerouting priority -300; policy accept;
		icmp type echo-request counter
	}
}
EOF
done
echo_requests() { # echo_requests GROUP
	vx_ns "$1" nft -j list chain inet t c | jq '[.nftables[].rule? // empty | .expr[] | .counter? // empty | .packets] | add'
}

vx_ns a1 ping -c 3 -i 0.2 -W 2 10.50.0.12 >/dev/null || fail "a1 cannot ping b1 across VXLAN"
vx_ns b2 ping -c 3 -i 0.2 -W 2 10.50.0.11 >/dev/null || fail "b2 cannot ping a2 across VXLAN"
[ "$(echo_requests b1)" -ge 3 ] || fail "b1 did not count a1's pings"
[ "$(echo_requests b2)" = 0 ] || fail "VNet 2's b2 saw VNet 1's pings"
[ "$(echo_requests a1)" = 0 ] || fail "VNet 1's a1 saw VNet 2's pings"
log "ping across hosts works in both VNIs, each stays in its own"

# --- what the listings return (reconcile after a restart diffs these)
fdb_a1=$(drv a fdb-list vx1)
own_mac=$(vx_ns a cat /sys/class/net/vx1/address)
expected=$(printf 'master %s - permanent\nmaster %s - static\nself %s %s permanent\n' \
	"$own_mac" "$MAC_B1" "$MAC_B1" "$VTEP_B" | sort)
[ "$(sort <<<"$fdb_a1")" = "$expected" ] || fail "fdb-list vx1 on A: '$fdb_a1', want '$expected'"
# (The kernel's own multicast NOARP entries are listed too, as "other".)
[ "$(grep permanent <<<"$(drv a neigh-list pw-v1)")" = "10.50.0.12 $MAC_B1 permanent" ] ||
	fail "neigh-list pw-v1 on A: '$(drv a neigh-list pw-v1)'"
# After traffic both ways: nothing learned, on either side, by either the
# link or the bridge (iproute2 as a second opinion).
no_learned() { # no_learned HOST
	local k
	for k in 1 2; do
		grep -q learned <<<"$(drv "$1" fdb-list "vx$k")" && fail "$1 vx$k learned: $(drv "$1" fdb-list "vx$k")"
		[ "$(vx_ns "$1" bridge fdb show dev "vx$k" | grep -c -v -E 'permanent|static')" = 0 ] ||
			fail "$1 vx$k has dynamic FDB entries: $(vx_ns "$1" bridge fdb show dev "vx$k")"
	done
	return 0
}
no_learned a
no_learned b

# --- without the FDB entry it stops (no flooding, no learning)
drv a fdb-del vx1 "$MAC_B1"
drv a fdb-del vx1 "$MAC_B1" || fail "removing a missing FDB entry failed"
grep -q "$MAC_B1" <<<"$(drv a fdb-list vx1)" && fail "fdb-del left $MAC_B1"
vx_ns a1 ping -c 3 -i 0.2 -W 1 10.50.0.12 >/dev/null 2>&1 && fail "a1 still reaches b1 with no FDB entry"
vx_ns a1 ping -c 2 -i 0.2 -W 1 -b 10.50.0.255 >/dev/null 2>&1 || true # broadcasts stay home too
no_learned a
no_learned b
[ "$(grep -c . <<<"$(drv a fdb-list vx1)")" = 1 ] || fail "vx1 on A has entries: $(drv a fdb-list vx1)"
drv a fdb-add vx1 "$MAC_B1" "$VTEP_B"
vx_ns a1 ping -c 2 -i 0.2 -W 2 10.50.0.12 >/dev/null || fail "re-adding the FDB entry did not restore the ping"
# Removing the neighbour: suppression has nothing to answer from, and the
# ARP request is not flooded across, so a fresh lookup fails.
drv a neigh-del pw-v1 10.50.0.12
drv a neigh-del pw-v1 10.50.0.12 || fail "removing a missing neighbour failed"
grep -q permanent <<<"$(drv a neigh-list pw-v1)" && fail "neigh-del left: $(drv a neigh-list pw-v1)"
vx_ns a1 ip neigh flush dev eth0
vx_ns a1 ping -c 2 -i 0.2 -W 1 10.50.0.12 >/dev/null 2>&1 && fail "a1 resolved b1 with no neighbour entry"
drv a neigh-add pw-v1 10.50.0.12 "$MAC_B1"
vx_ns a1 ip neigh flush dev eth0
vx_ns a1 ping -c 2 -i 0.2 -W 2 10.50.0.12 >/dev/null || fail "neighbour entry back, ping still fails"
log "no FDB entry: no traffic; no neighbour entry: no ARP answer; nothing learned"

# --- a VNet 2 MAC programmed into VNet 1 by mistake still does not cross VNIs
drv a fdb-add vx1 "$MAC_B2" "$VTEP_B"
drv a neigh-add pw-v1 10.50.0.99 "$MAC_B2"
b2_before=$(echo_requests b2)
vx_ns a1 ping -c 3 -i 0.2 -W 1 10.50.0.99 >/dev/null 2>&1 && fail "a1 got an answer from 10.50.0.99"
[ "$(echo_requests b2)" = "$b2_before" ] || fail "a VNI 101 frame reached b2 on VNI 102"
drv a fdb-del vx1 "$MAC_B2"
drv a neigh-del pw-v1 10.50.0.99

# --- MTU: 1350 inside, a full-size DF packet is not fragmented outside
frag_creates() { # Ip FragCreates of host A, found by its header
	vx_ns a awk '/^Ip: [A-Z]/ { for (i = 2; i <= NF; i++) if ($i == "FragCreates") col = i }
		/^Ip: [0-9]/ { print $col }' /proc/net/snmp
}
frags=$(frag_creates)
vx_ns a1 ping -c 2 -i 0.2 -W 2 -M do -s 1322 10.50.0.12 >/dev/null || fail "DF ping of 1350 bytes failed"
[ "$(frag_creates)" = "$frags" ] || fail "host A fragmented the outer packets of 1350-byte pings"
# One byte more must not pass: give the group a bigger eth0 so that the
# frame reaches the bridge, which must not forward it into VXLAN.
vx_ns a1 ip link set eth0 mtu 1400
vx_ns a ip link set ga1 mtu 1400
vx_ns a1 ping -c 2 -i 0.2 -W 1 -M do -s 1323 10.50.0.12 >/dev/null 2>&1 && fail "a 1351-byte packet crossed"
[ "$(frag_creates)" = "$frags" ] || fail "host A fragmented outer packets"
vx_ns a1 ping -c 2 -i 0.2 -W 2 -M do -s 1322 10.50.0.12 >/dev/null || fail "1350 bytes fail with eth0 at 1400"
vx_ns a ip link set ga1 mtu 1350
vx_ns a1 ip link set eth0 mtu 1350
log "MTU: 1350 passes unfragmented on a 1400 underlay, 1351 does not pass"

# --- VXLAN from an unknown VTEP
# C: a bridge with an address in VNet 1's subnet, a VXLAN link with VNI 101
# and entries pointing at a1 on A.
vx_ns c ip link add pw-v1 type bridge
vx_ns c ip addr add 10.50.0.66/24 dev pw-v1
vx_ns c ip link set pw-v1 up
drv c ensure vx1 pw-v1 101 "$VTEP_C" >/dev/null
vx_remote c 1 "$MAC_A1" 10.50.0.11 "$VTEP_A"
a1_before=$(echo_requests a1)
vx_ns c ping -c 3 -i 0.2 -W 1 10.50.0.11 >/dev/null 2>&1 || true
[ "$(echo_requests a1)" -ge $((a1_before + 3)) ] ||
	fail "without the filter C's VXLAN did not reach a1 (the test would prove nothing)"
script=$(drv a filter eth0 "$VTEP_B")
vx_ns a nft -f - <<<"$script" || fail "nft refused the filter: $script"
a1_before=$(echo_requests a1)
vx_ns c ping -c 3 -i 0.2 -W 1 10.50.0.11 >/dev/null 2>&1 || true
[ "$(echo_requests a1)" = "$a1_before" ] || fail "C's VXLAN reached a1 through the filter"
dropped=$(vx_ns a nft -j list chain netdev podwire underlay | jq '[.nftables[].rule? // empty | .expr[] | .counter? // empty | .packets] | add')
[ "$dropped" -ge 3 ] || fail "the filter's drop counter is $dropped, not >= 3"
vx_ns b1 ping -c 2 -i 0.2 -W 2 10.50.0.11 >/dev/null || fail "the filter dropped the known VTEP B"
# Loading it again with C known replaces the set atomically: C gets through.
vx_ns a nft -f - <<<"$(drv a filter eth0 "$VTEP_B" "$VTEP_C")"
[ "$(vx_ns a nft list tables | grep -c 'netdev podwire')" = 1 ] || fail "two podwire netdev tables"
a1_before=$(echo_requests a1)
vx_ns c ping -c 3 -i 0.2 -W 1 10.50.0.11 >/dev/null 2>&1 || true
[ "$(echo_requests a1)" -ge $((a1_before + 3)) ] || fail "C listed as a VTEP is still dropped"
# IPv6 VTEPs and bad names.
vx_ns a nft -c -f - <<<"$(drv a filter eth0 "$VTEP_B" fd00:77::2)" || fail "nft refused an IPv6 VTEP set"
drv a filter 'eth0"; drop' 2>/dev/null && fail "a quoted device name was accepted"
log "unknown VTEP dropped on the underlay; known ones pass"

# --- IPv6 underlay: VNet 3 (VNI 103, the same group addresses once more)
# between VTEPs fd00:77::1 and ::2, MTU 1400 - 70
MAC_A3=02:00:00:00:03:01 MAC_B3=02:00:00:00:03:02
for h in a b; do
	n=1
	[ "$h" = b ] && n=2
	vx_ns "$h" ip addr add "fd00:77::$n/64" dev eth0 nodad
	vx_ns "$h" ip link add pw-v3 address 02:aa:00:00:00:03 type bridge
	vx_ns "$h" ip addr add 10.50.0.1/24 dev pw-v3
	vx_ns "$h" ip link set pw-v3 up
	[ "$(drv "$h" ensure vx3 pw-v3 103 "fd00:77::$n")" = created ] || fail "$h: vx3 not created"
	[ "$(drv "$h" ensure vx3 pw-v3 103 "fd00:77::$n")" = kept ] || fail "$h: vx3 not kept"
	drv "$h" bridge-mtu pw-v3 "$(drv "$h" mtu "$(drv "$h" underlay-mtu "fd00:77::$n")" 6)"
done
details=$(vx_ns a ip -d link show vx3)
for want in "mtu 1330" "vxlan id 103 " "local fd00:77::1 " "nolearning" "noudp6zerocsumtx" \
	"noudp6zerocsumrx"; do
	grep -q -- "$want" <<<"$details" || fail "vx3 lacks '$want': $details"
done
[ "$(vx_ns a cat /sys/class/net/pw-v3/mtu)" = 1330 ] || fail "pw-v3 MTU is not 1400 - 70"
vx_group a 3 a3 "$MAC_A3" 10.50.0.11
vx_group b 3 b3 "$MAC_B3" 10.50.0.12
vx_remote a 3 "$MAC_B3" 10.50.0.12 fd00:77::2
vx_remote b 3 "$MAC_A3" 10.50.0.11 fd00:77::1
grep -q "self $MAC_B3 fd00:77::2 permanent" <<<"$(drv a fdb-list vx3)" || fail "fdb-list vx3: $(drv a fdb-list vx3)"
# A's filter knows no IPv6 VTEP yet: B's answers are dropped on A.
vx_ns a3 ping -c 2 -i 0.2 -W 1 10.50.0.12 >/dev/null 2>&1 && fail "IPv6 VXLAN from B passed A's filter"
vx_ns a nft -f - <<<"$(drv a filter eth0 "$VTEP_B" "$VTEP_C" fd00:77::2)"
vx_ns a3 ping -c 2 -i 0.2 -W 2 -M do -s 1302 10.50.0.12 >/dev/null || fail "a3 cannot ping b3 (1330 bytes, DF) over IPv6"
# b1 and b2 (same address, other VNIs) have no part in it.
for g in b1 b2; do
	before=$(echo_requests "$g")
	vx_ns a3 ping -c 2 -i 0.2 -W 2 10.50.0.12 >/dev/null
	[ "$(echo_requests "$g")" = "$before" ] || fail "VNI 103 pings reached $g"
done
log "IPv6 underlay: MTU 1330, ping across, filtered by the vteps6 set"

# --- removal
drv a remove vx2
vx_ns a ip link show vx2 >/dev/null 2>&1 && fail "vx2 still exists"
drv a remove vx2 || fail "removing vx2 twice failed"
drv a fdb-del vx2 "$MAC_B2" || fail "fdb-del on a removed link failed"
log "ok"
