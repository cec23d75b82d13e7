# Helpers for the podman system tests (tests/system/test-podman-*.sh);
# source after lib.sh and hook-lib.sh. podman runs with everything private
# to the test, so it touches none of the host's podman state:
#   - storage, run root, libpod tmp dir, volumes, events file: under $T/podman
#     (vfs driver: no overlay mounts), named by flags and by a private
#     CONTAINERS_CONF / CONTAINERS_STORAGE_CONF / CONTAINERS_REGISTRIES_CONF
#     (conmon passes CONTAINERS_CONF on to the "podman container cleanup"
#     it runs when a container exits, which gets no --runtime-flag);
#   - file locks in the tmp dir instead of /dev/shm/libpod_lock;
#   - the CNI network backend with a private config and plugin dir (the
#     netavark default makes /run/containers/networks even with
#     --network none);
#   - the OCI runtime is runc with its state under $T (a wrapper, since the
#     cleanup podman does not get --runtime-flag); Debian's podman defaults
#     to crun, which refuses this machine's hybrid cgroups (RUNTIMES.md);
#   - containers' cgroups under a parent named after the test, removed at
#     cleanup;
#   - podman itself runs in the test's host netns (nsenter --net, as the
#     runc tests do), with the flags RUNTIMES.md lists for this machine.
# The CNI backend's result cache is libcni's fixed /var/lib/cni: its entries
# for the test's network are removed at cleanup (and the directories, when
# the test made them and they are empty).

PODMAN_DIR=$T/podman
PODMAN_CGROUP=${NS_PREFIX}podman
PODMAN_ROOTFS=$T/rootfs
# Extra global flags for every podman call (--hooks-dir, --network-backend).
PODMAN_FLAGS=()
HOOK_ENV=()
_podman_hooks_json=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/runtime-hooks/hooks.d/podwire.json
_podman_netns=()
_podman_cni_net=""
_podman_made_cni_cache=0
# Host paths podman would use without the private configuration: a test
# fails if it made any of them.
_podman_host_paths=(/run/runc /run/libpod /run/containers /var/lib/containers /dev/shm/libpod_lock)
_podman_host_before=()

# podman_setup: private configuration; call after make_host_ns.
podman_setup() {
	need podman conmon runc nsenter jq
	mkdir -p "$PODMAN_DIR"/{root,run,tmp,runc,bin,hooks.d,cni-conf,cni-bin}
	local p
	for p in "${_podman_host_paths[@]}"; do
		[ -e "$p" ] && _podman_host_before+=("$p")
	done
	[ -e /var/lib/cni ] || _podman_made_cni_cache=1
	cat >"$PODMAN_DIR/bin/runc" <<EOF
#!/bin/sh
exec runc --root "$PODMAN_DIR/runc" "\$@"
EOF
	chmod +x "$PODMAN_DIR/bin/runc"
	cat >"$PODMAN_DIR/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PODMAN_DIR/events"
lock_type = "file"
tmp_dir = "$PODMAN_DIR/tmp"
static_dir = "$PODMAN_DIR/root/libpod"
volume_path = "$PODMAN_DIR/root/volumes"
hooks_dir = ["$PODMAN_DIR/hooks.d"]

[network]
network_backend = "cni"
network_config_dir = "$PODMAN_DIR/cni-conf"
cni_plugin_dirs = ["$PODMAN_DIR/cni-bin"]
EOF
	cat >"$PODMAN_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$PODMAN_DIR/root"
runroot = "$PODMAN_DIR/run"
EOF
	echo 'unqualified-search-registries = []' >"$PODMAN_DIR/registries.conf"
	export CONTAINERS_CONF=$PODMAN_DIR/containers.conf
	export CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$PODMAN_DIR/registries.conf
	on_cleanup _podman_cleanup
}

# podman_hooks_file DIR HOOK_ARGS...: DIR/podwire.json, the shipped
# oci-hooks(5) file (runtime-hooks/hooks.d/podwire.json) naming $HOOK_BIN
# with HOOK_ARGS before its own; the hook gets exactly the env
# HOOK_ENV (an array, may be unset) plus the sanitizer options, whose
# reports go to files the cleanup hands to lib.sh's check.
podman_hooks_file() {
	local dir=$1 env=("${HOOK_ENV[@]}")
	shift
	mkdir -p "$dir"
	[ -n "${ASAN_OPTIONS:-}" ] && env+=("ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$T/hook-san.asan")
	[ -n "${UBSAN_OPTIONS:-}" ] && env+=("UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$T/hook-san.ubsan")
	jq --arg path "$(cd "$(dirname "$HOOK_BIN")" && pwd)/$(basename "$HOOK_BIN")" \
		--argjson extra "$(printf '%s\n' "$@" | jq -R . | jq -s 'map(select(. != ""))')" \
		--argjson env "$(printf '%s\n' "${env[@]}" | jq -R . | jq -s 'map(select(. != ""))')" \
		'.hook.path = $path | .hook.args = [.hook.args[0]] + $extra + .hook.args[1:]
		| .hook.env = $env' <"$_podman_hooks_json" >"$dir/podwire.json"
}

# pm ARGS...: podman with the private configuration, in the test's host netns.
pm() {
	nsenter --net="/run/netns/$HOST_NS" podman --root "$PODMAN_DIR/root" \
		--runroot "$PODMAN_DIR/run" --tmpdir "$PODMAN_DIR/tmp" --storage-driver vfs \
		--runtime "$PODMAN_DIR/bin/runc" --cgroup-manager cgroupfs --events-backend file \
		"${PODMAN_FLAGS[@]}" "$@"
}

# pm_run NAME [RUN_OPTIONS...]: a detached busybox container running
# `sleep 600` from $PODMAN_ROOTFS (--rootfs: no image, no registry) with the
# ulimit and capability flags this machine needs (RUNTIMES.md). podman's
# output goes to $T/run-NAME.out (not .log: its "OCI runtime error:" would
# match lib.sh's sanitizer check) and, on failure, to stderr.
pm_run() {
	local name=$1
	shift
	pm run -d --name "$name" --cgroup-parent "/$PODMAN_CGROUP" \
		--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --cap-add NET_RAW \
		"$@" --rootfs "$PODMAN_ROOTFS" sleep 600 </dev/null >"$T/run-$name.out" 2>&1 || {
		local rc=$?
		cat "$T/run-$name.out" >&2
		return $rc
	}
	# A netns podman made (CNI backend) is removed at cleanup if still there.
	local ns
	ns=$(pm inspect --format '{{.NetworkSettings.SandboxKey}}' "$name" 2>/dev/null) || true
	[[ $ns == /run/netns/* ]] && _podman_netns+=("$ns")
	return 0
}

# pexec NAME CMD...: runs CMD inside the container.
pexec() {
	local name=$1
	shift
	pm exec "$name" "$@" </dev/null
}

# pm_rm NAME: podman rm -f with no stop grace (sleep as pid 1 ignores
# SIGTERM); runs the poststop hooks or the CNI DEL.
pm_rm() { pm rm -f -t 0 "$1" >>"$T/rm.out" 2>&1; }

# podman_host_untouched: fails if podman made any of its default host paths.
podman_host_untouched() {
	local p q was
	for p in "${_podman_host_paths[@]}"; do
		[ -e "$p" ] || continue
		was=0
		for q in "${_podman_host_before[@]}"; do [ "$q" = "$p" ] && was=1; done
		[ $was = 1 ] || fail "podman made $p on the host"
	done
}

# podman_cni_network NAME: remembers the network whose libcni cache
# entries cleanup removes.
podman_cni_network() { _podman_cni_net=$1; }

_podman_cleanup() {
	local d pid ns id
	pm rm -a -f -t 0 >/dev/null 2>&1
	# Anything still running in the test's cgroups (conmon, a container's
	# processes): podman started them for this test.
	for d in /sys/fs/cgroup/*/"$PODMAN_CGROUP" /sys/fs/cgroup/"$PODMAN_CGROUP"; do
		[ -d "$d" ] || continue
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for id in $(runc --root "$PODMAN_DIR/runc" list -q 2>/dev/null); do
		runc --root "$PODMAN_DIR/runc" delete -f "$id" 2>/dev/null
	done
	# Mounts podman left under the test's dir (containers' shm, storage).
	for d in $(awk -v t="$T/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$d" 2>/dev/null
	done
	for d in /sys/fs/cgroup/*/"$PODMAN_CGROUP" /sys/fs/cgroup/"$PODMAN_CGROUP"; do
		[ -d "$d" ] || continue
		for _ in $(seq 20); do
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
	done
	for ns in "${_podman_netns[@]}"; do
		[ -e "$ns" ] || continue
		umount -l "$ns" 2>/dev/null
		rm -f "$ns"
	done
	if [ -n "$_podman_cni_net" ]; then
		rm -f /var/lib/cni/results/"$_podman_cni_net"-*
		if [ $_podman_made_cni_cache = 1 ]; then
			rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
		fi
	fi
	# Sanitizer reports of the hook (ASAN/UBSAN log_path) reach lib.sh's check.
	cat "$T"/hook-san.* >"$T/hook-sanitizer.log" 2>/dev/null
	[ -s "$T/hook-sanitizer.log" ] || rm -f "$T/hook-sanitizer.log"
}
