# Setup shared by tests/system/test-nft-groups.sh and test-nft-ports.sh:
# a "host" netns with VNet bridges pw-a, pw-b, pw-i (isolate) made by hand,
# groups a1, a2 (pw-a), b1 (pw-b), i1 (pw-i) with fixed MACs, an "outside"
# netns, TCP/UDP echo servers in the groups, and the podwire tables loaded by
# tests/system/nft-driver with every group's elements. Source it after lib.sh.

DRIVER=$BIN/tests/nft-driver
[ -x "$DRIVER" ] || fail "$DRIVER is not built (make $BIN/tests/nft-driver)"
drv() { in_ns h "$DRIVER" "$@"; }

make_host_ns
in_ns h sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

add_bridge() { # NAME GW4/LEN [GW6/LEN]
	in_ns h ip link add "$1" type bridge
	in_ns h ip addr add "$2" dev "$1"
	[ -z "${3:-}" ] || in_ns h ip addr add "$3" dev "$1" nodad
	in_ns h ip link set "$1" up
}
add_group() { # GROUP BRIDGE MAC ADDR4/LEN GW4 [ADDR6/LEN GW6]
	make_group_ns "$1" >/dev/null
	in_ns h ip link add "pwv$1" type veth peer name eth0 netns "${NS_PREFIX}$1"
	in_ns h ip link set "pwv$1" master "$2" up
	# A group reaching its own published port is DNAT'd and bridged back
	# out of the port it came in by (what Docker does too).
	in_ns h ip link set "pwv$1" type bridge_slave hairpin on
	in_ns "$1" ip link set lo up
	in_ns "$1" ip link set eth0 address "$3"
	in_ns "$1" ip addr add "$4" dev eth0
	[ -z "${6:-}" ] || in_ns "$1" ip addr add "$6" dev eth0 nodad
	in_ns "$1" ip link set eth0 up
	in_ns "$1" ip route add default via "$5"
	[ -z "${7:-}" ] || in_ns "$1" ip -6 route add default via "$7"
}

add_bridge pw-a 10.1.0.1/24 fd00:1::1/64
add_bridge pw-b 10.2.0.1/24 fd00:2::1/64
add_bridge pw-i 10.3.0.1/24
add_group a1 pw-a 02:00:00:00:01:01 10.1.0.2/24 10.1.0.1 fd00:1::2/64 fd00:1::1
add_group a2 pw-a 02:00:00:00:01:02 10.1.0.3/24 10.1.0.1 fd00:1::3/64 fd00:1::1
add_group b1 pw-b 02:00:00:00:02:01 10.2.0.2/24 10.2.0.1 fd00:2::2/64 fd00:2::1
add_group i1 pw-i 02:00:00:00:03:01 10.3.0.2/24 10.3.0.1

# The outside, joined to the host by a veth; it has no route to the VNets.
make_group_ns o >/dev/null
in_ns h ip link add up0 type veth peer name eth0 netns "${NS_PREFIX}o"
in_ns h ip addr add 192.0.2.1/24 dev up0
in_ns h ip link set up0 up
in_ns o ip link set lo up
in_ns o ip addr add 192.0.2.2/24 dev eth0
in_ns o ip link set eth0 up

serve() { # GROUP PORT/PROTO...
	local g=$1
	shift
	in_ns "$g" python3 "$ECHO_PEER" serve "$@" >>"$T/echo-$g.log" 2>&1 &
	track_pid $!
}
ask() { in_ns "$1" python3 "$ECHO_PEER" ask "${@:2}"; }
counter() { # KIND NAME FIELD(3=packets, 4=bytes)
	drv counters | awk -v k="$1" -v n="$2" -v f="$3" '$1 == k && $2 == n { print $f }'
}

serve a1 80/tcp 53/udp 9000/tcp 9001/tcp 9002/tcp
serve a2 80/tcp
serve b1 80/tcp

VNETS=(pw-a,10.1.0.0/24,fd00:1::/64 pw-b,10.2.0.0/24,fd00:2::/64 pw-i,10.3.0.0/24,isolate)
A1=pwva1,02:00:00:00:01:01,10.1.0.2,fd00:1::2,port=8080:80/tcp,port=5353:53/udp,port=8000-8002:9000/tcp
A2=pwva2,02:00:00:00:01:02,10.1.0.3,fd00:1::3,port=192.0.2.1@8081:80/tcp
B1=pwvb1,02:00:00:00:02:01,10.2.0.2,fd00:2::2
I1=pwvi1,02:00:00:00:03:01,10.3.0.2
drv sync "${VNETS[@]}" -- "$A1" "$A2" "$B1" "$I1"

