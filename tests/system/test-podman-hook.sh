#!/usr/bin/env bash
# podwire-hook under podman (Debian's 4.3) through an oci-hooks(5) file in
# --hooks-dir, made from runtime-hooks/hooks.d/podwire.json (its args: no
# STAGE, so the hook takes the stage from the state). Busybox containers from
# a --rootfs with --network none and podwire.* annotations: two groups on one
# VNet ping and nslookup each other by name; a share is mounted read-write in
# one and read-only in the other (a write is read back, the read-only side
# gets EROFS); an unknown VNet makes `podman run` fail with our error line
# and leaves nothing behind; `podman rm -f` runs poststop (podman runs it
# itself) and leaves no link, address, mount or share reference behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook-lib.sh"
. "$(dirname "$0")/podman-lib.sh"
need busybox nsenter jq
HOOKS_JSON=$(dirname "$0")/../../runtime-hooks/hooks.d/podwire.json
[ -r "$HOOKS_JSON" ] || fail "runtime-hooks/hooks.d/podwire.json missing"
[ -x "$HOOK_BIN" ] || fail "podwire-hook not built"
[ -x "$BIN/podwire-dnsd" ] || fail "podwire-dnsd not built"

make_host_ns
start_netd
start_dnsd
start_volumed
pw vnet create front --subnet 10.88.1.0/24 >/dev/null
pw share create data >/dev/null
make_rootfs "$PODMAN_ROOTFS"
podman_setup

# The shipped hooks.d file with our binary and run dir.
podman_hooks_file "$T/hooks.d" --run-dir "$RUN_DIR"
PODMAN_FLAGS=(--hooks-dir "$T/hooks.d")

ip_of() { pexec "$1" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1; }
group_of() { pm inspect --format '{{.Id}}' "$1"; }

# Nothing of the test's groups is left in netd, in the host netns, in
# volumed or in the hook's records; the gateway stays the only address.
nothing_left() { # nothing_left WHAT
	[ -z "$(host_veths)" ] || fail "$1: veth left behind: $(host_veths)"
	local out
	out=$(pw group ls --json)
	[[ $out != *'"id"'* ]] || fail "$1: netd still has a group: $out"
	out=$(ip -n "$HOST_NS" -4 -o addr show | awk '$2 != "lo" {print $4}')
	assert_eq "$out" "10.88.1.1/24" "$1: addresses in the host netns"
	out=$(pw share show data --json)
	[[ $out != *'"group"'* ]] || fail "$1: share still used: $out"
	[ -z "$(ls "$RUN_DIR/hook/containers" 2>/dev/null)" ] || fail "$1: hook container records left"
	[ -z "$(ls "$RUN_DIR/hook/groups" 2>/dev/null)" ] || fail "$1: hook group records left"
	[ -z "$(ls "$RUN_DIR/hook/files" 2>/dev/null)" ] || fail "$1: hook files left"
	if grep -q " $PODMAN_ROOTFS/" /proc/mounts; then fail "$1: a mount under the rootfs leaked to the host"; fi
}

log "two groups on front, share data rw in web and ro in api"
pm_run web --network none --annotation podwire.vnet=front --annotation podwire.hostname=web \
	--annotation podwire.volumes=data:/srv/data || fail "podman run web failed"
pm_run api --network none --annotation podwire.vnet=front --annotation podwire.hostname=api \
	--annotation podwire.volumes=data:/mnt/data:ro || fail "podman run api failed"
web_ip=$(ip_of web)
api_ip=$(ip_of api)
case $web_ip in 10.88.1.*) ;; *) fail "web has no address on front: '$web_ip'" ;; esac
case $api_ip in 10.88.1.*) ;; *) fail "api has no address on front: '$api_ip'" ;; esac
[ "$(host_veths | wc -l)" -eq 2 ] || fail "expected 2 host veths, got: $(host_veths)"
# The group is the container id (no podwire.group): netd knows both.
groups=$(pw group ls --json)
assert_contains "$groups" "\"$(group_of web)\"" "netd's groups"
assert_contains "$groups" "\"$(group_of api)\"" "netd's groups"

log "resolv.conf is the VNet's (over podman's own)"
assert_eq "$(pexec web cat /etc/resolv.conf)" "nameserver 10.88.1.1
search front.internal" "web's resolv.conf"

log "ping and nslookup by name"
pexec web ping -c 1 -W 2 "$api_ip" >/dev/null || fail "web cannot ping api ($api_ip)"
out=$(pexec web nslookup api 2>&1) || fail "web cannot resolve api: $out"
assert_contains "$out" "$api_ip" "nslookup api from web"
out=$(pexec api nslookup web.front.internal 2>&1) || fail "api cannot resolve web: $out"
assert_contains "$out" "$web_ip" "nslookup web.front.internal from api"
pexec web ping -c 1 -W 2 api >/dev/null || fail "web cannot ping api by name"
pexec api ping -c 1 -W 2 web >/dev/null || fail "api cannot ping web by name"

log "share: written in web, read back in api; api's side is read-only"
pexec web sh -c 'echo podman-shared-7 > /srv/data/hello.txt'
assert_eq "$(pexec api cat /mnt/data/hello.txt)" "podman-shared-7" "file read across groups"
assert_eq "$(cat "$RUN_DIR/shares/data/hello.txt")" "podman-shared-7" "file in the share on the host"
out=$(pexec api sh -c 'echo x > /mnt/data/nope.txt' 2>&1) && fail "write to a read-only volume succeeded"
assert_contains "$out" "Read-only file system" "error of a write to the ro volume"
[ ! -e "$RUN_DIR/shares/data/nope.txt" ] || fail "the refused write created a file"
users=$(pw share show data --json)
assert_contains "$users" "$(group_of web)" "share users"
assert_contains "$users" "$(group_of api)" "share users"

log "an unknown VNet: podman run fails with the hook's line, nothing is left"
if pm_run bad --network none --annotation podwire.vnet=nope 2>"$T/bad.err"; then
	fail "podman started a container on an unknown VNet"
fi
assert_contains "$(cat "$T/bad.err")" "podwire-hook: createRuntime" "podman's error for an unknown VNet"
assert_contains "$(cat "$T/bad.err")" "vnet 'nope' not found" "podman's error for an unknown VNet"
pm rm -f -t 0 bad >/dev/null 2>&1 || true
[ "$(host_veths | wc -l)" -eq 2 ] || fail "the failed start left a veth: $(host_veths)"

log "podman rm -f api: poststop detaches it and releases its share use"
api_id=$(group_of api)
pm_rm api || fail "podman rm api failed: $(cat "$T/rm.out")"
if pw group show "$api_id" >/dev/null 2>&1; then fail "group of api still attached after rm"; fi
[ "$(host_veths | wc -l)" -eq 1 ] || fail "api's veth left behind: $(host_veths)"
users=$(pw share show data --json)
[[ $users != *"$api_id"* ]] || fail "share still used by api: $users"
[ ! -e "$RUN_DIR/hook/containers/$api_id.json" ] || fail "hook record of api left behind"
pexec web ping -c 1 -W 2 10.88.1.1 >/dev/null || fail "web lost its network when api was removed"

log "podman rm -f web: nothing left"
pm_rm web || fail "podman rm web failed: $(cat "$T/rm.out")"
nothing_left "after rm"
[ -z "$(pm ps -a -q)" ] || fail "podman still lists containers: $(pm ps -a)"
podman_host_untouched
log "ok"
