#!/usr/bin/env bash
# A daemon out of file descriptors (lib/accept-pause.h): with its limit
# lowered (prlimit on the running process) and clients holding every free
# descriptor, accept(2) fails with EMFILE. The listener is paused instead of
# reported readable again at once: the daemon does not spin (it used to burn
# a whole core), and once clients go away the ones waiting in the backlog
# are served. Checked on netd's control socket and metrics listener and on
# dnsd's TCP listener.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"
for c in prlimit dig; do command -v "$c" >/dev/null || fail "$c missing"; done

make_host_ns
MSOCK=$T/metrics.sock
start_netd --metrics-listen "unix:$MSOCK"
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
start_dnsd
GW=10.1.0.1
wait_until in_ns h dig +time=1 +tries=1 +tcp "@$GW" prod.internal SOA

# cpu_ticks PID: user + system time the process used so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# hold PID CONNECT_SPEC COUNT: lowers PID's descriptor limit to what it has
# open + 2, then keeps COUNT connections (or attempts) open in the
# background until $T/release exists. CONNECT_SPEC: unix:PATH or tcp:IP:PORT.
hold() {
	local pid=$1 spec=$2 count=$3 open
	open=$(ls "/proc/$pid/fd" | wc -l)
	# The soft limit only: raising a lowered hard limit back needs
	# CAP_SYS_RESOURCE, which a container's root may lack.
	SOFT=$(prlimit --pid "$pid" --nofile --output SOFT --noheadings | tr -d ' ')
	prlimit --pid "$pid" --nofile=$((open + 2)):
	rm -f "$T/release" "$T/holding"
	in_ns h "$PY" - "$spec" "$count" "$T" <<'PYEOF' &
import os, socket, sys, time
spec, count, t = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = []
for _ in range(count):
    if spec.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        addr = spec[5:]
    else:
        host, port = spec[4:].rsplit(":", 1)
        s = socket.socket(socket.AF_INET)
        addr = (host, int(port))
    s.setblocking(False)
    try:
        s.connect(addr)
    except (BlockingIOError, InterruptedError):
        pass
    socks.append(s)
open(os.path.join(t, "holding"), "w").close()
while not os.path.exists(os.path.join(t, "release")):
    time.sleep(0.05)
PYEOF
	HOLDER=$!
	track_pid $HOLDER
	wait_until test -e "$T/holding"
}

release() {
	touch "$T/release"
	wait "$HOLDER" 2>/dev/null || true
}

# no_spin PID WHAT: the process used under a fifth of a core over 2 s.
no_spin() {
	local before after
	sleep 0.3
	before=$(cpu_ticks "$1")
	sleep 2
	after=$(cpu_ticks "$1")
	local used=$((after - before))
	log "$2: $used ticks of CPU in 2 s at EMFILE"
	[ "$used" -lt 40 ] || fail "$2 spins at EMFILE: $used ticks of CPU in 2 s"
}

log "netd control socket"
hold "$NETD_PID" "unix:$RUN_DIR/netd.sock" 20
no_spin "$NETD_PID" "netd (rpc)"
grep -q "rpc: accept failed: Too many open files; pausing" "$T/netd.log" ||
	fail "netd did not say why it paused"
[ "$(grep -c 'rpc: accept failed' "$T/netd.log")" -le 2 ] || fail "netd warned more than once per 10 s"
# A client waiting in the backlog is served once descriptors are free.
(sleep 0.5 && touch "$T/release") &
start=$(date +%s%N)
out=$(pw vnet list) || fail "vnet list after EMFILE failed"
assert_contains "$out" "prod" "vnet list after EMFILE"
release
log "served $(( ($(date +%s%N) - start) / 1000000 )) ms after the call started (0.5 s of it at EMFILE)"
prlimit --pid "$NETD_PID" --nofile="$SOFT":

log "netd metrics listener"
hold "$NETD_PID" "unix:$MSOCK" 20
no_spin "$NETD_PID" "netd (metrics)"
release
prlimit --pid "$NETD_PID" --nofile="$SOFT":
wait_until "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1])
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
data = b""
while True:
    c = s.recv(65536)
    if not c: break
    data += c
sys.exit(0 if b"200 OK" in data else 1)' "$MSOCK"

log "dnsd TCP listener"
hold "$DNSD_PID" "tcp:$GW:53" 6
no_spin "$DNSD_PID" "dnsd (tcp)"
release
prlimit --pid "$DNSD_PID" --nofile="$SOFT":
wait_until in_ns h dig +time=1 +tries=1 +tcp "@$GW" prod.internal SOA
grep -q "dns tcp: accept failed: Too many open files; pausing" "$T/dnsd.log" ||
	fail "dnsd did not say why it paused"
log "ok"
