#!/usr/bin/env bash
# A group attached with a MAC of its choosing announces it (gratuitous
# ARP) once its bridge port forwards: a neighbour that knew the address
# with another MAC updates its entry at once, without waiting for it to
# expire. Here: an address moves from one group to another with a new MAC.
. "$(dirname "$0")/lib.sh"

make_host_ns
start_netd
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
ns_peer=$(make_group_ns peer)
ns_old=$(make_group_ns old)
ns_new=$(make_group_ns new)
pw group attach peer --netns "$ns_peer" --vnet prod >/dev/null
pw group attach old --netns "$ns_old" --vnet prod --ip 10.1.0.50 \
	--mac 02:00:00:00:00:aa >/dev/null
ping_ok peer 10.1.0.50
neigh() { in_ns peer ip -4 neigh show 10.1.0.50 dev eth0 | awk '{ print $3 }'; }
assert_eq "$(neigh)" 02:00:00:00:00:aa "peer's entry for the first holder"

pw group detach old >/dev/null
pw group attach new --netns "$ns_new" --vnet prod --ip 10.1.0.50 \
	--mac 02:00:00:00:00:bb >/dev/null
# The announcement is sent before attach returns; give the peer's stack a
# moment to process it (no ping: that would re-resolve anyway).
for _ in $(seq 20); do
	[ "$(neigh)" = 02:00:00:00:00:bb ] && break
	sleep 0.05
done
assert_eq "$(neigh)" 02:00:00:00:00:bb "peer's entry after the address moved (announced)"
ping_ok peer 10.1.0.50
log "ok"
