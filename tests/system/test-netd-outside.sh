#!/usr/bin/env bash
# Traffic leaving the VNets: an "outside" netns joined to the host netns by
# a veth pair (198.51.100.0/24, only inside these namespaces) is reached by
# a group and sees the host's address (masquerade; it has no route back to
# the VNet); an internal VNet's groups get nothing out; an isolate VNet's
# groups reach their gateway but not each other. Also: the default MTU is
# the MTU of the host's default-route interface, and a subnet overlapping a
# host route is refused with the route named.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
outside_ns=$(make_group_ns out)
in_ns h ip link add up0 mtu 1420 type veth peer name eth0 netns "${NS_PREFIX}out"
in_ns h ip addr add 198.51.100.1/24 dev up0
in_ns h ip link set up0 up
in_ns h ip route add default via 198.51.100.2 dev up0
in_ns out ip link set lo up
in_ns out ip addr add 198.51.100.2/24 dev eth0
in_ns out ip link set eth0 mtu 1420 up
[ -e "$outside_ns" ] || fail "outside netns"

start_netd

pw vnet create pub --subnet 10.1.0.0/24 >/dev/null
pw vnet create priv --subnet 10.2.0.0/24 --internal >/dev/null
pw vnet create iso --subnet 10.3.0.0/24 --isolate >/dev/null
assert_eq "$(pw vnet show pub --json | jget 'd["mtu"]')" 1420 "default MTU from the default-route interface"
err=$(must_fail pw vnet create clash --subnet 198.51.100.0/25)
assert_contains "$err" "198.51.100.0/24 dev up0" "host route conflict named"
[ -z "$(pw vnet ls --json | jget '[v for v in d if v["name"] == "clash"] or ""')" ] || fail "clash created"

for g in a b; do pw group attach "pub$g" --netns "$(make_group_ns "pub$g")" --vnet pub >/dev/null; done
pw group attach priv1 --netns "$(make_group_ns priv1)" --vnet priv >/dev/null
pw group attach priv2 --netns "$(make_group_ns priv2)" --vnet priv >/dev/null
pw group attach iso1 --netns "$(make_group_ns iso1)" --vnet iso >/dev/null
pw group attach iso2 --netns "$(make_group_ns iso2)" --vnet iso >/dev/null

# The outside has no route to 10.0.0.0/8: a reply can only come back
# because the request left with the host's address.
[ -z "$(in_ns out ip route show 10.1.0.0/24)" ] || fail "outside must not know the VNet"
ping_ok puba 198.51.100.2

# What the outside sees as the peer of a TCP connection from a group.
in_ns out "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 8080))
s.listen(1)
open(sys.argv[1], "w").write("ready")
c, addr = s.accept()
c.sendall(addr[0].encode())
c.close()' "$T/listening" &
track_pid $!
wait_until test -s "$T/listening"
seen=$(in_ns pubb "$PY" -c '
import socket
s = socket.create_connection(("198.51.100.2", 8080), timeout=5)
print(s.recv(100).decode())')
assert_eq "$seen" 198.51.100.1 "outside sees the host address"

# Internal: groups talk to each other and the gateway, nothing leaves.
ping_ok priv1 10.2.0.3
ping_ok priv1 10.2.0.1
ping_fails priv1 198.51.100.2
# Isolate: the gateway only.
ping_ok iso1 10.3.0.1
ping_ok iso2 10.3.0.1
ping_fails iso1 10.3.0.3
ping_fails iso2 10.3.0.2
# And the VNets stay apart.
ping_fails puba 10.2.0.2
ping_fails priv1 10.1.0.2
ping_fails iso1 10.1.0.2
log "ok"
