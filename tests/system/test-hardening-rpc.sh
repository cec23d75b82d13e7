#!/usr/bin/env bash
# Pipelined requests on the control sockets (docs/rpc.md, "Pipelining"):
# 5,000 requests sent in one write and read only afterwards are all
# answered, in order, by netd, volumed and dnsd; a mutating call pipelined
# behind many others is done and its reply arrives; a client that writes
# and never reads does not stop the daemon from serving others nor make it
# buffer without bound.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
start_volumed
start_dnsd

# pipeline SOCKET COUNT REQUEST_JSON [EXTRA_AT EXTRA_JSON]: writes COUNT
# requests (ids 1..COUNT; request EXTRA_AT replaced by EXTRA_JSON) in one
# write, only then reads, and checks every reply is there, in order, with a
# result. Prints the reply to EXTRA_AT (if any). Gives up after 5 s
# without a new reply.
pipeline() {
	"$PY" - "$@" <<'EOF'
import json, socket, sys
path, count, request = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
extra_at = int(sys.argv[4]) if len(sys.argv) > 4 else 0
extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
lines = []
for i in range(1, count + 1):
    r = dict(extra if i == extra_at else request)
    r["id"] = i
    lines.append(json.dumps(r))
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(30)
s.sendall(("\n".join(lines) + "\n").encode())
s.settimeout(5)
f = s.makefile("rb")
for i in range(1, count + 1):
    try:
        line = f.readline()
    except socket.timeout:
        line = b""
    if not line:
        sys.exit("%s: got %d of %d replies, then nothing for 5 s" % (path, i - 1, count))
    reply = json.loads(line)
    if reply.get("id") != i:
        sys.exit("%s: reply %d has id %r" % (path, i, reply.get("id")))
    if "result" not in reply:
        sys.exit("%s: reply %d is not a result: %s" % (path, i, line.decode().strip()))
    if i == extra_at:
        print(json.dumps(reply["result"]))
EOF
}

log "5,000 pipelined requests to each daemon"
pipeline "$RUN_DIR/netd.sock" 5000 '{"method":"vnet.list"}' || fail "netd pipelining"
pipeline "$RUN_DIR/volumed.sock" 5000 '{"method":"share.list"}' || fail "volumed pipelining"
pipeline "$RUN_DIR/dnsd.sock" 5000 '{"method":"stats.get"}' || fail "dnsd pipelining"

log "a mutating call behind 200 others"
track_share late
created=$(pipeline "$RUN_DIR/volumed.sock" 300 '{"method":"share.list"}' \
	200 '{"method":"share.create","params":{"name":"late"}}') || fail "share.create pipelined"
assert_eq "$(echo "$created" | jget 'd["name"]')" late "share.create reply"
assert_eq "$(pw share ls --json | jget '[s["name"] for s in d]')" '["late"]' "share made"
created=$(pipeline "$RUN_DIR/netd.sock" 300 '{"method":"vnet.list"}' \
	150 '{"method":"vnet.create","params":{"name":"late","subnets":["10.2.0.0/24"]}}') ||
	fail "vnet.create pipelined"
assert_eq "$(echo "$created" | jget 'd["name"]')" late "vnet.create reply"
assert_eq "$(pw vnet ls --json | jget 'sorted(v["name"] for v in d)')" '["late", "prod"]' "vnet made"

log "a client that writes and never reads"
"$PY" - "$RUN_DIR/netd.sock" >"$T/flood.out" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
chunk = b'{"id":1,"method":"vnet.list"}\n' * 4096
sent = 0
deadline = time.monotonic() + 4
try:
    while time.monotonic() < deadline:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
except OSError as e:
    print("dropped by netd after %d bytes: %s" % (sent, e), flush=True)
    sys.exit(1)
print(sent, flush=True)
time.sleep(30)  # keep the connection open, never read
EOF
flood_pid=$!
track_pid $flood_pid
sleep 1
# Meanwhile another client is served at once.
start=$(date +%s%N)
assert_eq "$(pw vnet ls --json | jget 'len(d)')" 2 "vnet ls during the flood"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 1000 ] || fail "vnet ls took ${ms} ms while another client floods"
wait_until test -s "$T/flood.out"
sent=$(cat "$T/flood.out")
log "the flooding client could write $sent bytes"
# netd stops reading once the unsent replies pass RPC_OUTPUT_PAUSE (4 MiB,
# some thousands of replies): the client can write those requests plus
# what the socket buffers hold, far below what it pushes in 4 s into a
# daemon that reads on.
[[ $sent =~ ^[0-9]+$ ]] || fail "flooding client: $sent"
[ "$sent" -lt $((8 << 20)) ] || fail "netd read $sent bytes of requests it could not answer"
kill "$flood_pid"
kill -0 "$NETD_PID" || fail "netd died"
assert_eq "$(pw vnet ls --json | jget 'len(d)')" 2 "netd still serves"
log "ok"
