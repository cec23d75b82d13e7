#!/usr/bin/env bash
# A two-container group: the second container joins the first's network
# namespace (linux.namespaces network path). They share one address and talk
# over localhost; the group's attachment is reference-counted, so it stays
# while either runs and is detached only after both stop.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook-lib.sh"
need ${RUNTIME:-runc} busybox nsenter

make_host_ns
start_netd
pw vnet create front --subnet 10.88.1.0/24 >/dev/null

make_rootfs "$T/rootfs"
make_bundle "$T/main" "$T/rootfs" '"podwire.group":"pod","podwire.vnet":"front","podwire.hostname":"pod"'
start_container pod-main "$T/main"
pid=$(container_pid pod-main)
[ -n "$pid" ] || fail "no pid for pod-main"
# The sidecar's hook gets no STAGE argument (as from hooks.d/podwire.json):
# the hook takes the stage from the state's status.
HOOK_NO_STAGE=1 make_bundle "$T/side" "$T/rootfs" '"podwire.group":"pod","podwire.vnet":"front"' "/proc/$pid/ns/net"
start_container pod-side "$T/side"

ip_main=$(cexec pod-main ip -4 -o addr show eth0 | awk '{print $4}')
ip_side=$(cexec pod-side ip -4 -o addr show eth0 | awk '{print $4}')
case $ip_main in 10.88.1.*) ;; *) fail "pod-main has no address on front: '$ip_main'" ;; esac
assert_eq "$ip_side" "$ip_main" "the sidecar's address (one netns)"
[ "$(host_veths | wc -l)" -eq 1 ] || fail "one group, expected one veth, got: $(host_veths)"
# Both containers got the group's resolv.conf.
assert_contains "$(cexec pod-side cat /etc/resolv.conf)" "search front.internal" "sidecar resolv.conf"

log "localhost between the two containers"
rt exec -d pod-main sh -c 'echo hello-over-lo | nc -l -p 9000' </dev/null
got=""
for _ in $(seq 50); do
	got=$(cexec pod-side sh -c 'nc 127.0.0.1 9000 </dev/null' 2>/dev/null) && [ -n "$got" ] && break
	sleep 0.1
done
assert_eq "$got" "hello-over-lo" "bytes over localhost"

log "first container stops: the group stays attached for the second"
stop_container pod-main
pw group show pod >/dev/null || fail "group detached while pod-side still runs"
[ "$(host_veths | wc -l)" -eq 1 ] || fail "veth gone while pod-side still runs"
cexec pod-side ping -c 1 -W 2 10.88.1.1 >/dev/null || fail "pod-side lost its network"

log "last container stops: detached, nothing left"
stop_container pod-side
if pw group show pod >/dev/null 2>&1; then fail "group still attached after both stopped"; fi
[ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
[ -z "$(ls "$RUN_DIR/hook/groups")" ] || fail "group records left: $(ls "$RUN_DIR/hook/groups")"
[ -z "$(ls "$RUN_DIR/hook/containers")" ] || fail "container records left"
log "ok"
