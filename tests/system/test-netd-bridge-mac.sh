#!/usr/bin/env bash
# The gateway's MAC address stays put: attaching groups must not change the
# bridge's address (a Linux bridge without its own address takes its lowest
# port MAC), or every other group's ARP entry for the gateway goes stale and
# DNS queries to it time out. It is also the same after a netd restart.
. "$(dirname "$0")/lib.sh"

make_host_ns
start_netd
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
mac() { ip -n "$HOST_NS" -o link show pw-prod | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
before=$(mac)
[ -n "$before" ] || fail "no MAC on pw-prod"
for g in a b c d; do
	ns=$(make_group_ns "$g")
	pw group attach "$g" --netns "$ns" --vnet prod >/dev/null
	assert_eq "$(mac)" "$before" "bridge MAC after attaching $g"
done
ping_ok a 10.1.0.1
stop_netd
start_netd
assert_eq "$(mac)" "$before" "bridge MAC after a netd restart"
ping_ok d 10.1.0.1
log "ok"
