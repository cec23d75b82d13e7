# Shared helpers for system tests; source it first thing:
#   . "$(dirname "$0")/lib.sh"
# Every test gets a private temp dir ($T), a unique prefix for the network
# namespaces it makes ($NS_PREFIX) and a cleanup trap that kills the
# processes it started (by PID), deletes its netns and mounts, and fails the
# test if a sanitizer reported anything in a daemon log.
# With pipefail, `cmd | grep -q X` fails when cmd writes in pieces (nft
# flushes every token, ldd every line): grep exits at the first match and
# cmd dies of SIGPIPE on its next write. Grep captured output instead:
# `grep -q X <<<"$(cmd)"`.
set -euo pipefail

PODWIRE_BUILD=${PODWIRE_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
BIN=$PODWIRE_BUILD
# The TCP/UDP echo peer of the port and NAT tests.
ECHO_PEER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/echo-peer.py
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/pwt.XXXXXX")
# Short: interface and netns names are limited, and tests run in parallel.
NS_PREFIX="pwt$$"
HOST_NS="${NS_PREFIX}h"
RUN_DIR=$T/run
STATE_DIR=$T/state
export PODWIRE_RUN_DIR=$RUN_DIR

_pids=()
_mounts=()
_cleanups=()

log() { echo "[$TEST_NAME] $*" >&2; }
fail() {
	echo "[$TEST_NAME] FAIL: $*" >&2
	exit 1
}

# Registers a command to run at cleanup (in reverse order).
on_cleanup() { _cleanups+=("$*"); }
track_pid() { _pids+=("$1"); }
track_mount() { _mounts+=("$1"); }

_cleanup() {
	local rc=$?
	set +e
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1
	done
	for pid in "${_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_pids[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ((i = ${#_mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${_mounts[$i]}" 2>/dev/null
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${NS_PREFIX}"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# Sanitizer reports in any daemon log fail the test.
	if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/*.log 2>/dev/null; then
		for f in $(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/*.log); do
			echo "[$TEST_NAME] sanitizer report in $f:" >&2
			head -60 "$f" >&2
		done
		[ $rc -eq 0 ] && rc=1
	fi
	if [ $rc -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -e "$f" ] || continue
			echo "--- $(basename "$f") (last 30 lines)" >&2
			tail -n 30 "$f" >&2
		done
	fi
	rm -rf "$T"
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# Makes a throwaway netns acting as "the host" (loopback up).
make_host_ns() {
	ip netns add "$HOST_NS"
	ip -n "$HOST_NS" link set lo up
}

# Makes an empty netns for a group: make_group_ns NAME -> /run/netns/$NS_PREFIX-NAME
make_group_ns() {
	local ns="${NS_PREFIX}$1"
	ip netns add "$ns"
	echo "/run/netns/$ns"
}

in_ns() { # in_ns NAME CMD... (NAME as given to make_group_ns, or "h" for the host)
	local ns="${NS_PREFIX}$1"
	shift
	ip netns exec "$ns" "$@"
}

# Waits until a Unix socket accepts connections (up to ~10 s).
wait_socket() {
	local path=$1
	for _ in $(seq 200); do
		[ -S "$path" ] && return 0
		sleep 0.05
	done
	fail "socket $path did not appear"
}

# Starts podwire-netd inside the host netns with private dirs; sets NETD_PID.
start_netd() {
	mkdir -p "$RUN_DIR" "$STATE_DIR"
	ip netns exec "$HOST_NS" "$BIN/podwire-netd" --run-dir "$RUN_DIR" \
		--state-dir "$STATE_DIR/netd" --log-level debug "$@" >>"$T/netd.log" 2>&1 &
	NETD_PID=$!
	track_pid $NETD_PID
	wait_socket "$RUN_DIR/netd.sock"
}

stop_netd() {
	kill -TERM "$NETD_PID" 2>/dev/null || true
	wait "$NETD_PID" 2>/dev/null || true
	rm -f "$RUN_DIR/netd.sock"
}

# The admin CLI against the private run dir.
pw() { "$BIN/podwire" --run-dir "$RUN_DIR" "$@"; }

# Runs a command that must fail; prints its stderr.
must_fail() {
	if "$@" 2>"$T/must_fail.err"; then
		fail "expected failure: $*"
	fi
	cat "$T/must_fail.err"
}

assert_eq() { # assert_eq ACTUAL EXPECTED WHAT
	[ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"
}
assert_contains() { # assert_contains HAYSTACK NEEDLE WHAT
	[[ $1 == *"$2"* ]] || fail "$3: '$2' not in: $1"
}

# ping_ok GROUP ADDR / ping_fails GROUP ADDR
ping_ok() { in_ns "$1" ping -c 1 -W 2 "$2" >/dev/null || fail "ping from $1 to $2 failed"; }
ping_fails() {
	if in_ns "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1; then
		fail "ping from $1 to $2 succeeded but should not"
	fi
}

# Starts podwire-volumed with private dirs (no netns: its FUSE mounts must be
# visible to the test); sets VOLUMED_PID. Call track_share NAME for each
# share so a mount left by a killed daemon is removed at cleanup.
start_volumed() {
	mkdir -p "$RUN_DIR" "$STATE_DIR"
	"$BIN/podwire-volumed" --run-dir "$RUN_DIR" --state-dir "$STATE_DIR/volumed" \
		--log-level debug "$@" >>"$T/volumed.log" 2>&1 &
	VOLUMED_PID=$!
	track_pid $VOLUMED_PID
	wait_socket "$RUN_DIR/volumed.sock"
}

track_share() { track_mount "$RUN_DIR/shares/$1"; }

stop_volumed() {
	kill -TERM "$VOLUMED_PID" 2>/dev/null || true
	wait "$VOLUMED_PID" 2>/dev/null || true
}

# Starts podwire-dnsd inside the host netns (where the bridges and gateway
# addresses are) with the private run dir; sets DNSD_PID. Its upstreams
# come from $T/resolv.conf (empty unless the test writes it) unless the
# arguments give another --resolv-conf.
start_dnsd() {
	mkdir -p "$RUN_DIR"
	touch "$T/resolv.conf"
	ip netns exec "$HOST_NS" "$BIN/podwire-dnsd" --run-dir "$RUN_DIR" \
		--resolv-conf "$T/resolv.conf" --log-level debug "$@" >>"$T/dnsd.log" 2>&1 &
	DNSD_PID=$!
	track_pid $DNSD_PID
	wait_socket "$RUN_DIR/dnsd.sock"
}

stop_dnsd() {
	kill -TERM "$DNSD_PID" 2>/dev/null || true
	wait "$DNSD_PID" 2>/dev/null || true
}
