#!/usr/bin/env bash
# bench/dns-resync.sh — how long podwire-dnsd stops answering while it
# re-reads netd's whole state (the snapshot after a reconnect).
#
#   bench/dns-resync.sh [BUILD_DIR] [NAMES]     (default build, 10000)
#   RESYNCS=8 bench/dns-resync.sh build 10000
#
# A client sends one query every millisecond (UDP, a random name of the
# NAMES known) and times every answer, while dnsd's netd connection is
# dropped and re-established RESYNCS times (each time dnsd re-reads a
# snapshot of NAMES groups; every other snapshot moves 1% of the groups to
# new addresses, so the resync has real changes to apply), and then while
# NAMES record.added events arrive at once. It prints the answer latency
# (p50, p99, max) and the longest stretch without any answer for each of:
# a quiet period first (the baseline), the resyncs, the event burst; and
# the queries never answered (timeout 2 s).
#
# dnsd is fed by a stand-in for netd's event stream (the very protocol
# dnsd reads, as in bench/dns.sh), which closes the connection once a
# second: attaching 10,000 real groups would measure veth creation, not
# DNS, and a real netd restart takes longer than the resync itself.
# Everything runs in a throwaway netns (dnsd on 10.77.0.1 on its lo, the
# client on 10.77.0.9); all is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
NAMES=${2:-10000}
RESYNCS=${RESYNCS:-6}
DNSD=$(cd "$BUILD" && pwd)/podwire-dnsd
[ -x "$DNSD" ] || {
	echo "no $DNSD: run make first" >&2
	exit 1
}
command -v python3 >/dev/null || {
	echo "python3 is needed" >&2
	exit 1
}

NS=pwresync$$
T=$(mktemp -d /tmp/pwbench.XXXXXX)
pids=()
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
for a in 10.77.0.1 10.77.0.9; do
	ip -n "$NS" addr add "$a/32" dev lo
done
run_ns() { ip netns exec "$NS" "$@"; }
mkdir -p "$T/run"
: >"$T/resolv.conf"

# Two snapshots: B moves every 100th group to another address.
python3 - "$NAMES" "$T" <<'EOF'
import json, sys
n, t = int(sys.argv[1]), sys.argv[2]
addr = lambda i, moved: "10.77.%d.%d" % (1 + i // 250 + (100 if moved else 0), 2 + i % 250)
for name, moved in (("a", lambda i: False), ("b", lambda i: i % 100 == 0)):
    snap = {"seq": 1, "zones": [], "records": [],
            "vnets": [{"name": "bench", "subnets": ["10.77.0.0/16"], "gateways": ["10.77.0.1"],
                       "domain": "bench.internal"}],
            "groups": [{"id": "g%d" % i, "hostname": "g%d" % i, "aliases": [],
                        "attachments": [{"vnet": "bench", "addresses": [addr(i, moved(i))]}]}
                       for i in range(n)]}
    with open("%s/snapshot-%s.json" % (t, name), "w") as f:
        json.dump(snap, f)
EOF

# The stand-in for netd: serves snapshot a, then b, a, ...; after the first
# connection (the start) it closes each connection after a second, until
# RESYNCS reconnects have been served.
python3 - "$T/run/netd.sock" "$T" "$RESYNCS" "$NAMES" <<'EOF' &
import socket, sys, time
path, t, resyncs = sys.argv[1], sys.argv[2], int(sys.argv[3])
snaps = [open(t + "/snapshot-a.json").read(), open(t + "/snapshot-b.json").read()]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(4)
served = 0
while True:
    c, _ = s.accept()
    f = c.makefile("rw")
    req = f.readline()
    f.write('{"id":1,"result":%s}\n' % snaps[served % 2])
    f.flush()
    if served == 0:
        open(t + "/go", "w").close()
        while not __import__("os").path.exists(t + "/client-started"):
            time.sleep(0.05)
        time.sleep(2)  # the quiet baseline
    else:
        time.sleep(1)
    served += 1
    if served > resyncs:
        # then a burst: as many record.added events at once as names
        open(t + "/burst", "w").close()
        n = int(sys.argv[4])
        c.sendall("".join('{"event":"record.added","seq":%d,"data":{"vnet":"bench",'
                          '"name":"x%d","type":"A","value":"10.77.200.1","ttl":300}}\n'
                          % (1 + i, i) for i in range(n)).encode())
        time.sleep(1.5)
        open(t + "/done", "w").close()
        while c.recv(100):
            pass
    f.close()
    c.shutdown(socket.SHUT_RDWR)
    c.close()
EOF
pids+=($!)

run_ns "$DNSD" --run-dir "$T/run" --resolv-conf "$T/resolv.conf" --log-level "${DNSD_LOG:-warn}" \
	>"$T/dnsd.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
	[ -e "$T/go" ] && break
	sleep 0.05
done
for _ in $(seq 200); do
	[ "$(run_ns dig +time=1 +tries=1 +short -b 10.77.0.9 @10.77.0.1 g7.bench.internal 2>/dev/null)" == 10.77.1.9 ] && break
	sleep 0.05
done

# The client: a query per ms until the stand-in is done, then 0.5 s more.
run_ns python3 - "$T" "$NAMES" <<'EOF'
import os, random, select, socket, struct, sys, time
t, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.9", 0))
s.connect(("10.77.0.1", 53))
s.setblocking(False)
rnd = random.Random(1)
sent = {}
lat = []
answers = []
qid = 0
def query(i, name):
    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)
open(t + "/client-started", "w").close()
start = time.monotonic()
baseline_end = None
next_send = start
stop_at = None
burst_at = None
while True:
    now = time.monotonic()
    if burst_at is None and os.path.exists(t + "/burst"):
        burst_at = now
    if stop_at is None and os.path.exists(t + "/done"):
        stop_at = now + 0.5
    if stop_at is not None and now >= stop_at:
        break
    if now >= next_send:
        qid = (qid + 1) & 0xffff
        sent[qid] = now
        s.send(query(qid, "g%d.bench.internal" % rnd.randrange(n)))
        next_send += 0.001
        if next_send < now - 0.01:
            next_send = now
    r, _, _ = select.select([s], [], [], max(0, min(next_send - time.monotonic(), 0.001)))
    while r:
        try:
            data = s.recv(4096)
        except BlockingIOError:
            break
        i = struct.unpack(">H", data[:2])[0]
        if i in sent:
            now2 = time.monotonic()
            lat.append((now2 - sent.pop(i)) * 1000)
            answers.append(now2)
lost = sum(1 for v in sent.values() if time.monotonic() - v > 2)
def report(what, items):
    if not items:
        return
    l = sorted(x[1] for x in items)
    ts = sorted(x[0] for x in items)
    gap = max((b - a) * 1000 for a, b in zip(ts, ts[1:])) if len(ts) > 1 else 0
    pct = lambda p: l[min(len(l) - 1, int(len(l) * p))]
    print("%-16s answers %6d  latency ms p50 %5.2f  p99 %6.2f  max %6.1f  longest gap %6.1f ms"
          % (what, len(l), pct(0.5), pct(0.99), l[-1], gap))
quiet = [(a, l) for a, l in zip(answers, lat) if a - start < 1.5]
busy = [(a, l) for a, l in zip(answers, lat) if a - start >= 1.5 and a < burst_at]
burst = [(a, l) for a, l in zip(answers, lat) if a >= burst_at]
print("queries %d, answered %d, never answered %d" % (qid, len(lat), lost))
report("quiet (no resync)", quiet)
report("during resyncs", busy)
report("event burst", burst)
EOF
[ -n "${KEEP_LOG:-}" ] && cp "$T/dnsd.log" "$KEEP_LOG"
echo "names $NAMES; resyncs $(grep -c "event stream lost" "$T/dnsd.log" || true) (asked for $RESYNCS)"
