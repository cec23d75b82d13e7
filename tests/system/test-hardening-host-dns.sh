#!/usr/bin/env bash
# The host asks dnsd through a gateway (docs/dns.md: "the host through the
# gateway address") and gets answers, over IPv4 and IPv6, UDP and TCP, on
# VNets with outbound NAT. Before the fix netd's masquerade rule also
# matched the host's own query on lo (its source, the gateway address, is
# in masq4/masq6) and rewrote the source to the first global address of the
# host (here the uplink's, as eth0's on a real host), so dnsd answered
# REFUSED. Groups still resolve, and still reach the outside masqueraded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"
. "$(dirname "$0")/dns-lib.sh"

make_host_ns
# The host's uplink (as eth0 of a real host: made before any bridge) to an
# "outside" netns.
ip netns add "${NS_PREFIX}out"
ip link add "${NS_PREFIX}o0" netns "$HOST_NS" type veth peer name eth0 netns "${NS_PREFIX}out"
in_ns h ip addr add 192.0.2.1/24 dev "${NS_PREFIX}o0"
in_ns h ip addr add 2001:db8::1/64 dev "${NS_PREFIX}o0" nodad
in_ns h ip link set "${NS_PREFIX}o0" up
in_ns out ip addr add 192.0.2.2/24 dev eth0
in_ns out ip link set eth0 up
in_ns out ip link set lo up

start_netd
start_dnsd

pw vnet create prod --subnet 10.1.0.0/24 --subnet fd00:1::/64 >/dev/null
pw vnet create dev --subnet 10.2.0.0/24 >/dev/null
pw vnet create lab --subnet 10.3.0.0/24 --internal >/dev/null
web=$(make_group_ns web)
pw group attach web --netns "$web" --vnet prod >/dev/null
web_ip=$(pw group show web --json | jget 'd["attachments"][0]["addresses"][0]')
wait_answer web 10.1.0.1 web.prod.internal A "$web_ip"

# host_q SERVER NAME [DIG OPTIONS...]: asked from the host netns itself.
host_q() {
	local server=$1 name=$2
	shift 2
	in_ns h dig +time=2 +tries=1 "@$server" "$name" A "$@"
}

log "the host asks the gateways of VNets with outbound NAT"
assert_contains "$(host_q 10.1.0.1 web.prod.internal)" "status: NOERROR" \
	"IPv4 UDP status (was REFUSED)"
assert_eq "$(host_q 10.1.0.1 web.prod.internal +short)" "$web_ip" "IPv4 UDP answer"
assert_eq "$(host_q 10.1.0.1 web.prod.internal +short +tcp)" "$web_ip" "IPv4 TCP answer"
assert_eq "$(host_q fd00:1::1 web.prod.internal +short)" "$web_ip" "IPv6 UDP answer"
assert_eq "$(host_q fd00:1::1 web.prod.internal +short +tcp)" "$web_ip" "IPv6 TCP answer"
assert_eq "$(host_q 10.2.0.1 host.dev.internal +short)" 10.2.0.1 "second VNet"

log "and of an internal VNet (never masqueraded)"
assert_eq "$(host_q 10.3.0.1 host.lab.internal +short)" 10.3.0.1 "internal VNet"

log "dnsd saw the gateway address as the source"
assert_eq "$(dnsd_stat '["refused_source"]')" 0 "queries refused for their source"

log "a group's traffic leaving the host is still masqueraded"
in_ns out "$PY" "$ECHO_PEER" serve 9999/udp &
track_pid $!
seen=$(in_ns web "$PY" "$ECHO_PEER" ask udp 192.0.2.2 9999)
assert_eq "$seen" "192.0.2.1 9999" "source seen outside (masqueraded)"
log "ok"
