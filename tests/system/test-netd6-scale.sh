#!/usr/bin/env bash
# 1,000 groups on one VNet through the real podwire-netd (a bridge holds at
# most 1023 ports: docs/netd.md "Limits"): all attach, each with a
# published port, with distinct addresses; the first and the last reach
# each other and their published ports; netd's and the kernel's objects
# match one to one; a restart keeps all 1,000; detaching them all leaves
# nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

N=1000
make_host_ns
start_netd
pw vnet create big --subnet 10.1.0.0/22 >/dev/null
for i in $(seq $N); do echo "netns add ${NS_PREFIX}s$i"; done >"$T/netns.batch"
ip -batch "$T/netns.batch"

# One client, N calls on one connection: prints per-100 wall times (ms).
attach_all() {
	"$PY" - "$RUN_DIR/netd.sock" "$N" "$NS_PREFIX" <<'PYEOF'
import json, socket, sys, time
path, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rwb")
times = []
for i in range(1, n + 1):
    t = time.monotonic()
    req = {"id": i, "method": "group.attach", "params": {"id": "s%d" % i,
           "netns": "/run/netns/%ss%d" % (prefix, i), "vnets": ["big"],
           "ports": ["%d:80" % (20000 + i)]}}
    f.write((json.dumps(req) + "\n").encode()); f.flush()
    rep = json.loads(f.readline())
    if "error" in rep:
        sys.exit("attach s%d: %s" % (i, rep["error"]))
    times.append(time.monotonic() - t)
for k in range(0, n, 100):
    print("%d-%d: %.1f ms/attach" % (k + 1, k + 100, 1000 * sum(times[k:k + 100]) / 100))
PYEOF
}
log "attaching $N groups"
attach_all >"$T/times" || fail "attach failed"
log "$(head -1 "$T/times"); $(tail -1 "$T/times")"
assert_eq "$(pw vnet show big --json | jget 'd["group_count"]')" "$N" "group count"
pw group ls --json >"$T/groups.json"
assert_eq "$(jget 'len(set(g["attachments"][0]["addresses"][0] for g in d))' <"$T/groups.json")" "$N" \
	"distinct addresses"
assert_eq "$(in_ns h ip -o link show master pw-big | wc -l)" "$N" "bridge ports"
assert_eq "$(in_ns h nft -j list map inet podwire ports4 | jget 'sum(len(o["map"].get("elem", [])) for o in d["nftables"] if "map" in o)')" \
	"$N" "DNAT map elements"

last_ip=$(pw group show "s$N" --json | jget 'd["attachments"][0]["addresses"][0]')
ping_ok s1 "$last_ip"
ping_ok "s$N" 10.1.0.2
in_ns "s$N" "$PY" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(1)
open("'"$T"'/ready", "w").close()
c, _ = s.accept(); c.sendall(b"hello from the last"); c.close()' &
track_pid $!
wait_until test -e "$T/ready"
got=$(in_ns s1 "$PY" -c 'import socket; print(socket.create_connection(("10.1.0.1", '$((20000 + N))'), timeout=5).recv(100).decode())')
assert_eq "$got" "hello from the last" "s1 -> the last group's published port"

log "restart with $N groups"
stop_netd
start_netd
assert_eq "$(pw vnet show big --json | jget 'd["group_count"]')" "$N" "groups after restart"
ping_ok s1 "$last_ip"

log "detach all"
"$PY" - "$RUN_DIR/netd.sock" "$N" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
for i in range(1, int(sys.argv[2]) + 1):
    f.write((json.dumps({"id": i, "method": "group.detach", "params": {"id": "s%d" % i}}) + "\n").encode()); f.flush()
    rep = json.loads(f.readline())
    if "error" in rep:
        sys.exit("detach s%d: %s" % (i, rep["error"]))
PYEOF
assert_eq "$(in_ns h ip -o link show master pw-big | wc -l)" 0 "no bridge port left"
assert_eq "$(in_ns h nft -j list set bridge podwire tx | jget 'sum(len(o["set"].get("elem", [])) for o in d["nftables"] if "set" in o)')" \
	0 "no counter element left"
for i in $(seq $N); do echo "netns del ${NS_PREFIX}s$i"; done >"$T/netns-del.batch"
ip -batch "$T/netns-del.batch"
log "ok"
