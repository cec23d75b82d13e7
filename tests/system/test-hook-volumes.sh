#!/usr/bin/env bash
# Shares through podwire-hook: one share mounted read-write in one group and
# read-only in another. A write in the first is read back in the second;
# the read-only side gets EROFS from the kernel; stopping both releases the
# share (volumed lists no user) and leaves no mount behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook-lib.sh"
need ${RUNTIME:-runc} busybox nsenter

make_host_ns
start_netd
start_volumed
pw vnet create front --subnet 10.88.1.0/24 >/dev/null
pw share create data >/dev/null

make_rootfs "$T/rootfs"
make_bundle "$T/writer" "$T/rootfs" '"podwire.vnet":"front","podwire.volumes":"data:/srv/data"'
# A volume-only group (no VNet) mounting it read-only elsewhere.
make_bundle "$T/reader" "$T/rootfs" '"podwire.volumes":"data:/mnt/shared/data:ro"'
start_container writer "$T/writer"
start_container reader "$T/reader"

log "a write in one group is read back in the other"
cexec writer sh -c 'echo shared-bytes-42 > /srv/data/hello.txt'
assert_eq "$(cexec reader cat /mnt/shared/data/hello.txt)" "shared-bytes-42" "file read across groups"

log "the read-only side gets EROFS"
out=$(cexec reader sh -c 'echo x > /mnt/shared/data/nope.txt' 2>&1) && fail "write to a read-only volume succeeded"
assert_contains "$out" "Read-only file system" "error of a write to the ro volume"
[ ! -e "$RUN_DIR/shares/data/nope.txt" ] || fail "the refused write created a file"
# Mounted only inside the containers: the rootfs directory on the host is empty.
[ -z "$(ls -A "$T/rootfs/srv/data")" ] || fail "share content visible in the host's rootfs dir"

log "volumed sees both groups as users"
users=$(pw share show data --json)
assert_contains "$users" "writer" "share users"
assert_contains "$users" "reader" "share users"

log "stopping releases the share"
stop_container writer
stop_container reader
users=$(pw share show data --json)
[[ $users != *'"writer"'* && $users != *'"reader"'* ]] || fail "share still has users: $users"
[ -z "$(ls "$RUN_DIR/hook/containers")" ] || fail "container records left"
[ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
log "ok"
