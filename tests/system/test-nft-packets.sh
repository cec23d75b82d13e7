#!/usr/bin/env bash
# The packets table inet podwire lets through or not, with bridges and veths
# made by hand in a throwaway "host" netns and the table loaded by
# tests/system/nft-driver (no netd): groups on one bridge talk; groups on two
# bridges do not; an isolate VNet's groups reach only the gateway; traffic
# leaving for an "outside" netns is masqueraded (IPv4 and IPv6); an internal
# VNet gets nothing out or in. Each blocked path is first shown open without
# the table, so the test sees the table's effect and nothing else.
. "$(dirname "$0")/lib.sh"

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
add_group() { # GROUP BRIDGE ADDR4/LEN GW4 [ADDR6/LEN GW6]
	make_group_ns "$1" >/dev/null
	in_ns h ip link add "v$1" type veth peer name eth0 netns "${NS_PREFIX}$1"
	in_ns h ip link set "v$1" master "$2" up
	in_ns "$1" ip link set lo up
	in_ns "$1" ip addr add "$3" dev eth0
	[ -z "${5:-}" ] || in_ns "$1" ip addr add "$5" dev eth0 nodad
	in_ns "$1" ip link set eth0 up
	in_ns "$1" ip route add default via "$4"
	[ -z "${6:-}" ] || in_ns "$1" ip -6 route add default via "$6"
}

add_bridge pw-a 10.1.0.1/24 fd00:1::1/64
add_bridge pw-b 10.2.0.1/24
add_bridge pw-i 10.3.0.1/24
add_bridge pw-n 10.4.0.1/24
add_group a1 pw-a 10.1.0.2/24 10.1.0.1 fd00:1::2/64 fd00:1::1
add_group a2 pw-a 10.1.0.3/24 10.1.0.1 fd00:1::3/64 fd00:1::1
add_group b1 pw-b 10.2.0.2/24 10.2.0.1
add_group i1 pw-i 10.3.0.2/24 10.3.0.1
add_group i2 pw-i 10.3.0.3/24 10.3.0.1
add_group n1 pw-n 10.4.0.2/24 10.4.0.1

# The outside: joined to the host by a veth, with no route to the VNets'
# subnets (a reply reaches a group only if its source was masqueraded) —
# except to the internal VNet's, so that only the table can stop that one.
make_group_ns o >/dev/null
in_ns h ip link add up0 type veth peer name eth0 netns "${NS_PREFIX}o"
in_ns h ip addr add 192.0.2.1/24 dev up0
in_ns h ip addr add fd00:99::1/64 dev up0 nodad
in_ns h ip link set up0 up
in_ns o ip link set lo up
in_ns o ip addr add 192.0.2.2/24 dev eth0
in_ns o ip addr add fd00:99::2/64 dev eth0 nodad
in_ns o ip link set eth0 up
in_ns o ip route add 10.4.0.0/24 via 192.0.2.1

# A UDP echo of the sender's address, so the outside says whom it sees.
cat >"$T/echo.py" <<'EOF'
import socket, sys
if sys.argv[1] == "serve":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 7777))
    while True:
        data, peer = s.recvfrom(100)
        s.sendto(peer[0].encode(), peer)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    for _ in range(25):  # the server may still be starting
        s.sendto(b"?", (sys.argv[2], 7777))
        try:
            print(s.recv(100).decode())
            break
        except socket.timeout:
            pass
EOF
in_ns o python3 "$T/echo.py" serve >>"$T/echo.log" 2>&1 &
track_pid $!

ping6_ok() { in_ns "$1" ping -6 -c 1 -W 2 "$2" >/dev/null || fail "ping from $1 to $2 failed"; }

log "without the table: every path is open, nothing is masqueraded"
ping_ok a1 10.1.0.3
ping_ok a1 10.2.0.2
ping_ok i1 10.3.0.3
ping_ok n1 192.0.2.2
ping_fails a1 192.0.2.2

log "with the table"
drv sync pw-a,10.1.0.0/24,fd00:1::/64 pw-b,10.2.0.0/24 pw-i,10.3.0.0/24,isolate \
	pw-n,10.4.0.0/24,internal

log "same bridge: open"
ping_ok a1 10.1.0.3
ping6_ok a1 fd00:1::3
ping_ok b1 10.2.0.1

log "other bridge: dropped, both ways"
ping_fails a1 10.2.0.2
ping_fails b1 10.1.0.2
ping_fails n1 10.1.0.2

log "isolate: the gateway only"
ping_ok i1 10.3.0.1
ping_fails i1 10.3.0.3
ping_fails i2 10.3.0.2

log "outside: masqueraded to the host's address"
ping_ok a1 192.0.2.2
ping6_ok a1 fd00:99::2
ping_ok b1 192.0.2.2
seen=$(in_ns a1 python3 "$T/echo.py" ask 192.0.2.2)
assert_eq "$seen" "192.0.2.1" "source address the outside sees"

log "internal: its gateway, nothing out, nothing in"
ping_ok n1 10.4.0.1
ping_fails n1 192.0.2.2
ping_fails o 10.4.0.2

log "element changes act on packets: remove isolate VNet, then add it back"
drv remove pw-i,10.3.0.0/24,isolate
ping_ok i1 10.3.0.3
drv add pw-i,10.3.0.0/24,isolate
ping_fails i1 10.3.0.3

log "table removed: back to open"
drv remove-table
ping_ok a1 10.2.0.2
log "ok"
