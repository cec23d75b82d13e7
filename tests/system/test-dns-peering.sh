#!/usr/bin/env bash
# Name scoping follows VNet peering (podwire-dnsd with the real netd):
# groups of peered VNets resolve each other's names (A, and PTR of the
# peer's subnet) at their own gateway; not transitive; unpeering hides
# them again; a VNet deleted while peered leaves no stale names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"

make_host_ns
start_netd
start_dnsd

pw vnet create a --subnet 10.1.0.0/24 >/dev/null
pw vnet create b --subnet 10.2.0.0/24 >/dev/null
pw vnet create c --subnet 10.3.0.0/24 >/dev/null
for g in a1:a b1:b c1:c; do
	pw group attach "${g%:*}" --netns "$(make_group_ns "${g%:*}")" --vnet "${g#*:}" >/dev/null
done

wait_answer b1 10.2.0.1 b1.b.internal A 10.2.0.2
assert_eq "$(qstatus b1 10.2.0.1 a1.a.internal)" NXDOMAIN "a's names hidden from b before peering"

log "peered: each side resolves the other's names"
pw vnet peer a b
wait_answer b1 10.2.0.1 a1.a.internal A 10.1.0.2
wait_answer a1 10.1.0.1 b1.b.internal A 10.2.0.2
assert_eq "$(q b1 10.2.0.1 -x 10.1.0.2 PTR)" "a1.a.internal." "PTR of a peer's address"
assert_eq "$(qstatus c1 10.3.0.1 a1.a.internal)" NXDOMAIN "c (not peered) does not see a"
log "not transitive"
pw vnet peer b c
wait_answer c1 10.3.0.1 b1.b.internal A 10.2.0.2
assert_eq "$(qstatus c1 10.3.0.1 a1.a.internal)" NXDOMAIN "c sees b's names, not a's"
log "a new group of a peer resolves at once"
pw group attach a2 --netns "$(make_group_ns a2)" --vnet a >/dev/null
wait_answer b1 10.2.0.1 a2.a.internal A 10.1.0.3

log "unpeered: hidden again"
pw vnet unpeer a b
for _ in $(seq 50); do
	[ "$(qstatus b1 10.2.0.1 a1.a.internal)" = NXDOMAIN ] && break
	sleep 0.1
done
assert_eq "$(qstatus b1 10.2.0.1 a1.a.internal)" NXDOMAIN "a hidden from b after unpeer"
assert_eq "$(q c1 10.3.0.1 b1.b.internal)" 10.2.0.2 "b and c still peered"

log "a peered VNet deleted: gone from its peer's view"
pw vnet rm c --force
assert_eq "$(pw vnet show b --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"])')" "[]" "b's peers"
wait_answer b1 10.2.0.1 b1.b.internal A 10.2.0.2
assert_eq "$(q b1 10.2.0.1 c1.c.internal)" "" "no answer for a deleted peer's names"
log "ok"
