#!/usr/bin/env bash
# bench/dns-records.sh — how long netd takes to add many admin DNS records:
# N records one call each (dns.record.add over one connection, as a script
# looping over `podwire dns record add` would, minus the exec per record),
# and N other records in one `podwire dns record add VNET --file FILE`.
#
#   bench/dns-records.sh [BUILD_DIR] [N]        (default build, 20000)
#   SINGLE=2000 bench/dns-records.sh build 20000   (fewer one-by-one calls)
#
# Prints the wall time of each way and records per second. The state dir
# is on the same file system as /tmp (each durable write is an fsync, as
# in production). A build without --file (before bulk add) prints n/a for
# it. Everything runs in a throwaway netns and temp dir, removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PODWIRE_BUILD=$(cd "${1:-build}" && pwd)
N=${2:-20000}
SINGLE=${SINGLE:-$N}
. tests/system/lib.sh
. tests/system/netd-lib.sh

make_host_ns
start_netd --log-level warn
pw vnet create bench --subnet 10.77.0.0/16 >/dev/null

# One by one: SINGLE calls over one connection, each waiting for its reply.
start=$(date +%s%N)
"$PY" - "$RUN_DIR/netd.sock" "$SINGLE" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for i in range(int(sys.argv[2])):
    req = {"id": i, "method": "dns.record.add",
           "params": {"vnet": "bench", "name": "s%d" % i, "type": "A",
                      "value": "10.77.%d.%d" % (1 + i // 250, 1 + i % 250)}}
    f.write(json.dumps(req).encode() + b"\n")
    f.flush()
    reply = json.loads(f.readline())
    if "error" in reply:
        sys.exit("call %d failed: %s" % (i, reply["error"]))
EOF
single_ms=$((($(date +%s%N) - start) / 1000000))

python3 - "$T/records.txt" "$N" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("b%d A 10.77.%d.%d\n" % (i, 101 + i // 250, 1 + i % 250))
EOF
bulk="n/a (no --file in this build)"
if pw dns record add --help | grep -q -- --file; then
	start=$(date +%s%N)
	out=$(pw dns record add bench --file "$T/records.txt")
	bulk_ms=$((($(date +%s%N) - start) / 1000000))
	bulk="$bulk_ms ms, $((N * 1000 / (bulk_ms + 1))) records/s ($out)"
fi
echo "one call per record: $SINGLE records in $single_ms ms," \
	"$((SINGLE * 1000 / (single_ms + 1))) records/s"
echo "one --file call:     $N records in $bulk"
