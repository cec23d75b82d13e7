#!/usr/bin/env bash
# bench/netd-memory.sh N — podwire-netd's memory (VmRSS, and what glibc's
# allocator holds: mallinfo2 through gdb if present) before N groups are
# attached, with all N attached, and after all are detached again. Each
# group publishes a host port, as in tests/system/test-netd6-scale.sh.
# N <= 1000: one VNet (a bridge holds at most 1023 ports). With EVENTS=1 a
# `podwire events` subscriber follows the stream meanwhile (as dnsd does).
# Everything happens inside throwaway network namespaces; the run dir is
# on tmpfs.
#   BUILD=build bench/netd-memory.sh 1000
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000}
BUILD=${BUILD:-build}
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le 1000 ] || {
	echo "usage: bench/netd-memory.sh N   (1 <= N <= 1000)" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || { echo "bench/netd-memory.sh: needs root" >&2; exit 1; }
make -s "$BUILD/podwire-netd" "$BUILD/podwire" >&2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

P="pwm$$"
HOST="${P}h"
TMP=$(mktemp -d /tmp/pwmem.XXXXXX)
RUN=$(mktemp -d /dev/shm/pwmem-run.XXXXXX)
NETD_PID=
EVENTS_PID=
cleanup() {
	set +e
	[ -n "$EVENTS_PID" ] && kill "$EVENTS_PID" 2>/dev/null && wait "$EVENTS_PID" 2>/dev/null
	[ -n "$NETD_PID" ] && kill "$NETD_PID" 2>/dev/null && wait "$NETD_PID" 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P"); do
		echo "netns del $ns"
	done >"$TMP/del.batch"
	ip -force -batch "$TMP/del.batch" 2>/dev/null
	rm -rf "$TMP" "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$HOST"
ip -n "$HOST" link set lo up
for i in $(seq "$N"); do echo "netns add ${P}g$i"; done >"$TMP/add.batch"
ip -batch "$TMP/add.batch"

ip netns exec "$HOST" "$BUILD/podwire-netd" --run-dir "$RUN" --state-dir "$TMP/state" \
	--log-level warn 2>"$TMP/netd.log" &
NETD_PID=$!
for _ in $(seq 200); do [ -S "$RUN/netd.sock" ] && break; sleep 0.05; done
"$BUILD/podwire" --run-dir "$RUN" vnet create mem --subnet 10.1.0.0/22 >/dev/null
if [ "${EVENTS:-0}" = 1 ]; then
	"$BUILD/podwire" --run-dir "$RUN" events --json >/dev/null &
	EVENTS_PID=$!
fi

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$NETD_PID/status"; }
rss_parts() { awk '/^Rss(Anon|File):/ {printf "%s %d ", $1, $2}' "/proc/$NETD_PID/status"; }
heap() { # what glibc holds and what of it is in use, in KiB
	command -v gdb >/dev/null || { echo "n/a"; return; }
	gdb -q -batch -p "$NETD_PID" \
		-ex 'set $m = (struct mallinfo2) mallinfo2()' \
		-ex 'printf "arena=%lu KiB in-use=%lu KiB free=%lu KiB\n", ($m.arena + $m.hblkhd) / 1024, ($m.uordblks + $m.hblkhd) / 1024, $m.fordblks / 1024' \
		2>/dev/null | grep "^arena=" || echo n/a
}
report() { printf '%-14s VmRSS %6d KiB (%s)  heap: %s\n' "$1" "$(rss_kib)" "$(rss_parts)" "$(heap)"; }

report "before"
"$PY" - "$RUN/netd.sock" "$N" "$P" <<'PYEOF'
import json, socket, sys
path, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rwb")
def call(i, method, params):
    f.write((json.dumps({"id": i, "method": method, "params": params}) + "\n").encode())
    f.flush()
    rep = json.loads(f.readline())
    if "error" in rep:
        sys.exit("%s %d: %s" % (method, i, rep["error"]))
for i in range(1, n + 1):
    call(i, "group.attach", {"id": "g%d" % i, "netns": "/run/netns/%sg%d" % (prefix, i),
                             "vnets": ["mem"], "ports": ["%d:80" % (20000 + i)]})
PYEOF
report "$N attached"
"$PY" - "$RUN/netd.sock" "$N" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
for i in range(1, int(sys.argv[2]) + 1):
    f.write((json.dumps({"id": i, "method": "group.detach", "params": {"id": "g%d" % i}}) + "\n").encode())
    f.flush()
    rep = json.loads(f.readline())
    if "error" in rep:
        sys.exit("detach g%d: %s" % (i, rep["error"]))
PYEOF
# netd gives freed heap back 200 ms after detaches (netd/heap-trim.c).
sleep 1
report "all detached"
