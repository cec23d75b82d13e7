#!/usr/bin/env bash
# podwire-hook failures and annotations: an unknown VNet, an unknown share,
# a typo'd annotation, malformed published ports and a host port another
# group holds make the container fail to start
# with our one-line error and leave no link, address, mount or reference
# behind (a failed start undoes what it did: here the group was already
# attached when the share turned out not to exist). podwire.dns.* produce
# exactly the asked resolv.conf. poststop is idempotent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook-lib.sh"
need ${RUNTIME:-runc} busybox nsenter

make_host_ns
start_netd
have_volumed=0
if [ -x "$BIN/podwire-volumed" ]; then
	start_volumed
	have_volumed=1
fi
pw vnet create front --subnet 10.88.1.0/24 >/dev/null
make_rootfs "$T/rootfs"

nothing_left() { # nothing_left WHAT
	[ -z "$(host_veths)" ] || fail "$1: veth left behind: $(host_veths)"
	local groups
	groups=$(pw group ls --json)
	[[ $groups != *'"id"'* ]] || fail "$1: netd still has a group: $groups"
	[ -z "$(ls "$RUN_DIR/hook/containers" 2>/dev/null)" ] || fail "$1: hook records left"
	[ -z "$(ls "$RUN_DIR/hook/groups" 2>/dev/null)" ] || fail "$1: hook group records left"
	if grep -q " $T/rootfs/" /proc/mounts; then fail "$1: a mount under the rootfs leaked to the host"; fi
}

fails_with() { # fails_with ID ANNOTATIONS EXPECTED_TEXT
	local id=$1 annotations=$2 expected=$3
	make_bundle "$T/$id" "$T/rootfs" "$annotations"
	if start_container "$id" "$T/$id" 2>"$T/$id.err"; then
		fail "$id: container started, expected the hook to refuse it"
	fi
	assert_contains "$(cat "$T/$id.err" "$T/$id/hook-stderr.log" 2>/dev/null)" "podwire-hook: createRuntime $id: $expected" "$id's error"
	rt delete -f "$id" >/dev/null 2>&1 || true
	nothing_left "$id"
}

log "unknown VNet"
fails_with bad-vnet '"podwire.vnet":"nope"' "attach group 'bad-vnet'"
log "typo in an annotation"
fails_with bad-key '"podwire.vnets":"front"' "unknown annotation podwire.vnets"
log "malformed published ports"
fails_with bad-ports '"podwire.vnet":"front","podwire.ports":"8080"' "annotation podwire.ports"
log "a published port another group holds: refused, naming it"
pw group attach holder --netns "$(make_group_ns holder)" --vnet front --publish 8080:80 >/dev/null
make_bundle "$T/taken-port" "$T/rootfs" '"podwire.vnet":"front","podwire.ports":"8080:80/tcp"'
if start_container taken-port "$T/taken-port" 2>"$T/taken-port.err"; then
	fail "taken-port: container started with a port held by another group"
fi
assert_contains "$(cat "$T/taken-port.err" "$T/taken-port/hook-stderr.log" 2>/dev/null)" \
	"already published by group 'holder'" "taken-port's error"
rt delete -f taken-port >/dev/null 2>&1 || true
pw group detach holder
nothing_left taken-port
log "malformed volume"
fails_with bad-vol '"podwire.vnet":"front","podwire.volumes":"data:relative"' "annotation podwire.volumes"
if [ $have_volumed = 1 ]; then
	log "unknown share: the attach already made is undone"
	fails_with bad-share '"podwire.vnet":"front","podwire.volumes":"nope:/data"' "share 'nope'"
	log "a mount that fails (a directory over a file): share use and attach undone"
	pw share create data >/dev/null
	fails_with bad-mount '"podwire.vnet":"front","podwire.volumes":"data:/etc/passwd"' "mount "
	users=$(pw share show data --json)
	[[ $users != *'"bad-mount"'* ]] || fail "share still used by the failed container: $users"
fi

log "after the failures a group still starts and gets the first address"
make_bundle "$T/ok" "$T/rootfs" '"podwire.vnet":"front","podwire.dns.nameservers":"192.0.2.53, 192.0.2.54","podwire.dns.searches":"corp.example,svc.example","podwire.dns.options":"ndots:3 timeout:1"'
start_container ok "$T/ok"
assert_eq "$(cexec ok ip -4 -o addr show eth0 | awk '{print $4}')" "10.88.1.2/24" "first address after failures"
log "podwire.dns.* annotations give exactly the asked resolv.conf"
assert_eq "$(cexec ok cat /etc/resolv.conf)" "nameserver 192.0.2.53
nameserver 192.0.2.54
search corp.example svc.example
options ndots:3 timeout:1" "resolv.conf from annotations"

log "poststop twice, and for an unknown container, succeeds"
stop_container ok
nothing_left ok
state='{"ociVersion":"1.0.2","id":"ok","status":"stopped","bundle":"'$T/ok'"}'
echo "$state" | "$HOOK_BIN" --run-dir "$RUN_DIR" poststop || fail "second poststop failed"
echo '{"ociVersion":"1.0.2","id":"never","status":"stopped"}' | "$HOOK_BIN" --run-dir "$RUN_DIR" poststop ||
	fail "poststop of an unknown container failed"
out=$(echo 'not json' | "$HOOK_BIN" --run-dir "$RUN_DIR" poststop 2>&1) && fail "garbage state accepted"
assert_contains "$out" "podwire-hook: poststop: state on stdin is not JSON" "garbage state error"
out=$("$HOOK_BIN" startContainer </dev/null 2>&1) && fail "unsupported stage accepted"
assert_contains "$out" "stage 'startContainer' is not one podwire-hook runs at" "stage error"
log "ok"
