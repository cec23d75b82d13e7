#!/usr/bin/env bash
# podwire-volumed: kill -9 and restart. Meanwhile the mount point and a
# group's bind mount give ENOTCONN; the restarted daemon clears the stale
# mount, serves every share again at its mount point with its data, quota
# usage, snapshots and users intact, and a group that binds it again works.
. "$(dirname "$0")/lib.sh"

start_volumed
M=$RUN_DIR/shares
pw share create alpha --quota 10M >/dev/null
track_share alpha
pw share create beta >/dev/null
track_share beta
head -c 300000 /dev/urandom >"$M/alpha/data.bin"
sha=$(sha256sum <"$M/alpha/data.bin")
mkdir -p "$M/beta/deep/tree"
echo beta >"$M/beta/deep/tree/file"
pw share snapshot alpha before-crash >/dev/null
pw share use alpha web
mkdir "$T/g"

# A group holding a bind mount across the crash.
unshare -m --propagation private sh -c "
	mount --bind '$M/alpha' '$T/g'
	cat '$T/g/data.bin' >/dev/null || exit 1
	touch '$T/group-ready'
	while [ ! -e '$T/crashed' ]; do sleep 0.05; done
	if cat '$T/g/data.bin' >/dev/null 2>'$T/group.err'; then exit 2; fi
	exit 0
" &
group=$!
track_pid $group
for _ in $(seq 200); do [ -e "$T/group-ready" ] && break; sleep 0.05; done
[ -e "$T/group-ready" ] || fail "group did not start"

kill -KILL "$VOLUMED_PID"
wait "$VOLUMED_PID" 2>/dev/null || true
out=$(stat "$M/alpha" 2>&1) && fail "mount point works without volumed"
assert_contains "$out" "not connected" "stale mount point"
touch "$T/crashed"
wait $group || fail "group saw something other than an error after the crash"
assert_contains "$(cat "$T/group.err")" "not connected" "group sees ENOTCONN"

start_volumed
for _ in $(seq 200); do
	pw share show alpha --json 2>/dev/null | grep -q '"mounted": true' && break
	sleep 0.05
done
mountpoint -q "$M/alpha" && mountpoint -q "$M/beta" || fail "shares not mounted again"
[ "$(grep -c "cleared stale mount" "$T/volumed.log")" -ge 2 ] || fail "stale mounts not cleared"
assert_eq "$(sha256sum <"$M/alpha/data.bin")" "$sha" "data after restart"
assert_eq "$(cat "$M/beta/deep/tree/file")" beta "tree after restart"
assert_eq "$(cat "$M/alpha/.snapshots/before-crash/data.bin" | sha256sum)" "$sha" "snapshot after restart"
show=$(pw share show alpha --json)
assert_contains "$show" '"used_bytes": 300000' "usage rescanned"
assert_contains "$show" '"group": "web"' "users kept across restart"
# Exactly one mount per share (stale ones are gone, not stacked).
assert_eq "$(grep -c " $M/alpha " /proc/self/mountinfo)" 1 "mounts at the alpha mount point"

# The group gets the share back by binding it again.
unshare -m --propagation private sh -c "mount --bind '$M/alpha' '$T/g' && sha256sum <'$T/g/data.bin'" >"$T/rebind.out" ||
	fail "rebinding after restart"
assert_eq "$(cat "$T/rebind.out")" "$sha" "data seen by the group after rebinding"
echo "after" >"$M/alpha/after.txt"
stop_volumed
log "ok"
