# Topology helpers for the VXLAN data-plane test and bench (source it):
# "hosts" are network namespaces on an underlay switch (a bridge in its
# own netns), each host has VNet bridges with a VXLAN port made by
# tests/system/vxlan-driver, groups are netns on a VNet bridge.
# The caller sets VX_PREFIX (netns name prefix, unique per run) and
# VX_DRIVER (path of vxlan-driver) and deletes every "$VX_PREFIX*" netns
# on exit.
#
#   host N (1..)      underlay address 192.168.77.N/24 on its eth0
#   VNet K on a host  bridge pw-vK, gateway 10.50.0.1/24 and MAC
#                     02:aa:00:00:00:0K on every host (a distributed
#                     gateway), VXLAN link vxK

vx_ns() { # vx_ns NAME CMD...
	local ns="$VX_PREFIX$1"
	shift
	ip netns exec "$ns" "$@"
}

vx_underlay() { # vx_underlay MTU HOST...   hosts are numbered in the given order
	local mtu=$1 index=0 host
	shift
	ip netns add "${VX_PREFIX}u"
	ip -n "${VX_PREFIX}u" link add sw type bridge
	ip -n "${VX_PREFIX}u" link set sw mtu "$mtu" up
	for host in "$@"; do
		index=$((index + 1))
		ip netns add "$VX_PREFIX$host"
		ip -n "$VX_PREFIX$host" link set lo up
		ip -n "${VX_PREFIX}u" link add "u$host" mtu "$mtu" type veth peer name eth0 \
			netns "$VX_PREFIX$host" mtu "$mtu"
		ip -n "${VX_PREFIX}u" link set "u$host" master sw up
		ip -n "$VX_PREFIX$host" addr add "192.168.77.$index/24" dev eth0
		ip -n "$VX_PREFIX$host" link set eth0 up
	done
}

vx_vtep() { echo "192.168.77.$1"; } # vx_vtep N

# vx_vnet HOST HOSTNUM K VNI: the VNet's bridge, its VXLAN link (MTU from
# the underlay) and the bridge's MTU as netd will set it.
vx_vnet() {
	local host=$1 num=$2 k=$3 vni=$4 mtu
	vx_ns "$host" ip link add "pw-v$k" address "02:aa:00:00:00:0$k" type bridge
	vx_ns "$host" ip addr add 10.50.0.1/24 dev "pw-v$k"
	vx_ns "$host" ip link set "pw-v$k" up
	vx_ns "$host" "$VX_DRIVER" ensure "vx$k" "pw-v$k" "$vni" "$(vx_vtep "$num")" >/dev/null
	mtu=$(vx_ns "$host" cat "/sys/class/net/vx$k/mtu")
	vx_ns "$host" "$VX_DRIVER" bridge-mtu "pw-v$k" "$mtu"
}

# vx_group HOST K NAME MAC ADDR: a group netns NAME on VNet K of HOST,
# its eth0 with the VNet's (the bridge's) MTU.
vx_group() {
	local host=$1 k=$2 name=$3 mac=$4 addr=$5 mtu
	mtu=$(vx_ns "$host" cat "/sys/class/net/pw-v$k/mtu")
	ip netns add "$VX_PREFIX$name"
	ip -n "$VX_PREFIX$name" link set lo up
	ip -n "$VX_PREFIX$host" link add "g$name" mtu "$mtu" type veth peer name eth0 \
		netns "$VX_PREFIX$name" address "$mac" mtu "$mtu"
	ip -n "$VX_PREFIX$host" link set "g$name" master "pw-v$k" up
	ip -n "$VX_PREFIX$name" addr add "$addr/24" dev eth0
	ip -n "$VX_PREFIX$name" link set eth0 up
	ip -n "$VX_PREFIX$name" route add default via 10.50.0.1
}

# vx_remote HOST K MAC ADDR VTEP: what netd programs for a remote group.
vx_remote() {
	local host=$1 k=$2 mac=$3 addr=$4 vtep=$5
	vx_ns "$host" "$VX_DRIVER" fdb-add "vx$k" "$mac" "$vtep"
	vx_ns "$host" "$VX_DRIVER" neigh-add "pw-v$k" "$addr" "$mac"
}
