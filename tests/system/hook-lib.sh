# Helpers for the runtime-hook system tests (tests/system/test-hook-*.sh,
# test-cni-*.sh) and bench/startup.sh; source after lib.sh. They build a
# busybox root file system from Debian's busybox-static, write OCI bundles
# whose config.json names podwire-hook, and drive runc or crun with a
# private state root inside the test's host netns.

HOOK_BIN=${HOOK_BIN:-$BIN/podwire-hook}
RUNTIME_ROOT=$T/runtime
_containers=()

# Fails when a tool a test needs is missing: scripts/deps.sh installs them
# all, so a missing one is a broken setup, not a reason to pass.
need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || {
			fail "$tool is not installed (scripts/deps.sh installs it)"
		}
	done
}

# make_rootfs DIR: a busybox root file system with the mount points the
# hook binds over (/etc/resolv.conf, /etc/hosts) already present.
make_rootfs() {
	local dir=$1
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
	cp "$(command -v busybox)" "$dir/bin/busybox"
	chroot "$dir" /bin/busybox --install -s
	echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
	echo "root:x:0:" >"$dir/etc/group"
	: >"$dir/etc/resolv.conf"
	: >"$dir/etc/hosts"
}

# make_bundle DIR ROOTFS ANNOTATIONS_JSON [NETNS_PATH]
# ANNOTATIONS_JSON is the body of the annotations object, e.g.
#   '"podwire.vnet":"front","podwire.hostname":"web"'
# NETNS_PATH, when given, makes the container join that network namespace
# (a second container of a group). crun does not pass a hook's stderr on;
# its annotation run.oci.hooks.stderr keeps it in DIR/hook-stderr.log.
make_bundle() {
	local dir=$1 rootfs=$2 annotations=$3 netns=${4:-}
	local net='{"type":"network"}'
	[ -n "$netns" ] && net="{\"type\":\"network\",\"path\":\"$netns\"}"
	local caps='"CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_KILL","CAP_SETUID","CAP_SETGID","CAP_NET_RAW","CAP_NET_BIND_SERVICE"'
	local hook_env="\"PODWIRE_RUN_DIR=$RUN_DIR\""
	[ -n "${ASAN_OPTIONS:-}" ] && hook_env="$hook_env,\"ASAN_OPTIONS=$ASAN_OPTIONS\""
	[ -n "${UBSAN_OPTIONS:-}" ] && hook_env="$hook_env,\"UBSAN_OPTIONS=$UBSAN_OPTIONS\""
	# HOOK_NO_STAGE=1: no STAGE argument, as an oci-hooks(5) file gives.
	local stage_create=', "createRuntime"' stage_stop=', "poststop"'
	[ "${HOOK_NO_STAGE:-0}" = 1 ] && stage_create="" && stage_stop=""
	mkdir -p "$dir"
	cat >"$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sleep", "600"],
    "env": ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"],
    "cwd": "/",
    "capabilities": {"bounding": [$caps], "effective": [$caps], "permitted": [$caps]},
    "noNewPrivileges": true
  },
  "root": {"path": "$rootfs"},
  "hostname": "c",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}
  ],
  "annotations": {$annotations${annotations:+,}"run.oci.hooks.stderr": "$dir/hook-stderr.log"},
  "hooks": {
    "createRuntime": [{"path": "$HOOK_BIN", "args": ["podwire-hook"$stage_create], "env": [$hook_env], "timeout": 30}],
    "poststop": [{"path": "$HOOK_BIN", "args": ["podwire-hook"$stage_stop], "env": [$hook_env], "timeout": 30}]
  },
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, $net]
  }
}
JSON
}

# The runtime under test: RUNTIME=runc (default) or crun. Runs in the test's
# host netns (nsenter, not ip netns exec: see RUNTIMES.md) with a private
# state root. crun refuses hybrid cgroups here, so it runs in a private mount
# namespace without the cgroup2 mount (RUNTIMES.md); nothing outside changes.
rt() {
	local runtime=${RUNTIME:-runc}
	mkdir -p "$RUNTIME_ROOT"
	if [ "$runtime" = crun ]; then
		nsenter --net="/run/netns/$HOST_NS" unshare -m --propagation slave \
			sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"' crun \
			--root "$RUNTIME_ROOT" "$@"
	else
		nsenter --net="/run/netns/$HOST_NS" runc --root "$RUNTIME_ROOT" "$@"
	fi
}

# start_container ID BUNDLE: create + start, detached; fails with the
# runtime's output (which carries the hook's error line) on stderr.
start_container() {
	local id=$1 bundle=$2
	_containers+=("$id")
	if ! rt create --bundle "$bundle" "$id" </dev/null >"$T/create-$id.log" 2>&1; then
		cat "$T/create-$id.log" >&2
		return 1
	fi
	rt start "$id" </dev/null >>"$T/create-$id.log" 2>&1
}

# stop_container ID: kill + delete, which runs poststop.
stop_container() {
	local id=$1
	rt kill "$id" KILL >/dev/null 2>&1 || true
	for _ in $(seq 100); do
		rt state "$id" 2>/dev/null | grep -q '"status": "stopped"' && break
		sleep 0.05
	done
	rt delete -f "$id" >>"$T/delete-$id.log" 2>&1 || true
}

container_pid() { rt state "$1" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }

# cexec ID CMD...: runs CMD inside the container.
cexec() {
	local id=$1
	shift
	rt exec "$id" "$@" </dev/null
}

_hook_cleanup() {
	local id
	for id in "${_containers[@]}"; do
		rt delete -f "$id" >/dev/null 2>&1
	done
}
on_cleanup _hook_cleanup

# Starts podwire-volumed (host mount namespace: its FUSE mounts must be
# visible to the runtime); sets VOLUMED_PID.
start_volumed() {
	mkdir -p "$RUN_DIR" "$STATE_DIR"
	"$BIN/podwire-volumed" --run-dir "$RUN_DIR" --state-dir "$STATE_DIR/volumed" \
		--log-level debug "$@" >>"$T/volumed.log" 2>&1 &
	VOLUMED_PID=$!
	track_pid $VOLUMED_PID
	wait_socket "$RUN_DIR/volumed.sock"
	on_cleanup "for m in \$(grep -o \"$RUN_DIR/shares/[^ ]*\" /proc/mounts); do umount -l \$m; done"
}

# Starts podwire-dnsd inside the host netns; sets DNSD_PID.
start_dnsd() {
	ip netns exec "$HOST_NS" "$BIN/podwire-dnsd" --run-dir "$RUN_DIR" \
		--log-level debug "$@" >>"$T/dnsd.log" 2>&1 &
	DNSD_PID=$!
	track_pid $DNSD_PID
	wait_socket "$RUN_DIR/dnsd.sock"
}

# Host-side links whose name starts with pwv (netd's veth host ends).
host_veths() { ip -n "$HOST_NS" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^pwv' || true; }
