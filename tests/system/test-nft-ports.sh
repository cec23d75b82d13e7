#!/usr/bin/env bash
# Published ports in the podwire tables, at packet level (no netd; setup in
# nft-groups-lib.sh): reached from an outside netns, from the host itself, from
# a group of the same VNet (hairpin, including the serving group itself), of
# another VNet and of an isolate VNet; port ranges, UDP, a port on one host
# address only; removing a group removes its ports only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nft-groups-lib.sh"

log "published port from the outside: DNAT to the group, the client seen as itself"
assert_eq "$(ask o tcp 192.0.2.1 8080)" "192.0.2.2 80" "outside -> host:8080"
assert_eq "$(ask o udp 192.0.2.1 5353)" "192.0.2.2 53" "outside -> host:5353/udp"
log "a port range maps one to one"
assert_eq "$(ask o tcp 192.0.2.1 8000)" "192.0.2.2 9000" "range, first port"
assert_eq "$(ask o tcp 192.0.2.1 8002)" "192.0.2.2 9002" "range, last port"
log "a port published on one host address only"
assert_eq "$(ask o tcp 192.0.2.1 8081)" "192.0.2.2 80" "host-address port on that address"
assert_eq "$(ask a1 tcp 10.1.0.1 8081)" "" "host-address port on another address"
log "from the host itself"
assert_eq "$(ask h tcp 192.0.2.1 8080)" "192.0.2.1 80" "host -> its outside address"
assert_eq "$(ask h tcp 10.2.0.1 8080)" "10.1.0.1 80" "host -> another VNet's gateway (hairpin-masqueraded)"
log "hairpin: a group of the same VNet, and the serving group itself"
assert_eq "$(ask a2 tcp 192.0.2.1 8080)" "10.1.0.1 80" "a2 -> host:8080 (masqueraded to the gateway)"
assert_eq "$(ask a1 tcp 10.1.0.1 8080)" "10.1.0.1 80" "a1 -> its own published port"
log "from another VNet and from an isolate VNet"
assert_eq "$(ask b1 tcp 10.2.0.1 8080)" "10.1.0.1 80" "b1 -> its gateway:8080"
assert_eq "$(ask i1 tcp 10.3.0.1 8080)" "10.1.0.1 80" "isolate i1 -> its gateway:8080"
log "...while direct traffic between VNets stays blocked"
assert_eq "$(ask b1 tcp 10.1.0.2 80)" "" "b1 -> a1 directly"
assert_eq "$(ask a1 tcp 10.1.0.3 80)" "10.1.0.2 80" "a1 -> a2 directly, same VNet"

log "group remove: its port is gone, the others stay"
drv group-remove "$A1"
assert_eq "$(ask o tcp 192.0.2.1 8080)" "" "outside -> removed port"
assert_eq "$(ask o tcp 192.0.2.1 8081)" "192.0.2.2 80" "outside -> a2's port"
log "ok"
