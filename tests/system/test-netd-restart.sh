#!/usr/bin/env bash
# netd restarts: after kill -9 the state is intact and attaching continues
# without handing out an address twice; while netd is down, a deleted netns
# has its address released, a deleted bridge and a flushed nft table come
# back (and the group on it works again), strange pw-*/pwv* links go, and an
# attach interrupted before its state said "attached" is rolled back. Then
# kill -9 at random moments during a stream of attaches and detaches leaves
# nothing half-done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd

pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
pw vnet create dev --subnet 10.2.0.0/24 >/dev/null
g1=$(make_group_ns g1)
g2=$(make_group_ns g2)
pw group attach g1 --netns "$g1" --vnet prod >/dev/null
pw group attach g2 --netns "$g2" --vnet prod >/dev/null
pw group attach g1dev --netns "$(make_group_ns g1dev)" --vnet dev >/dev/null
ping_ok g1 10.1.0.3

kill9_netd

# While netd is down: g2's netns goes, someone deletes a bridge and the nft
# table, strangers appear, and an attach was cut short after its state file
# (state "attaching", address 10.1.0.9) and one veth pair were made.
ip netns del "${NS_PREFIX}g2"
in_ns h ip link del pw-prod
in_ns h nft delete table inet podwire
in_ns h ip link add pw-ghost type bridge
in_ns h ip link add pwv0123456789ab type veth peer name pwv0123456789ac
half=$(make_group_ns half)
in_ns h ip link add pwv00000000beef type veth peer name eth0 netns "${NS_PREFIX}half"
cat >"$RUN_DIR/netd/groups/half.json" <<JSON
{"version":1,"state":"attaching","id":"half","netns":"$half","netns_dev":0,"netns_ino":0,
 "hostname":"half","aliases":[],"attachments":[{"vnet":"prod","interface":"eth0",
 "host_interface":"pwv00000000beef","mac":"02:50:0a:01:00:09","addresses":["10.1.0.9"]}]}
JSON

start_netd
assert_eq "$(pw group ls --json | jget '[g["id"] for g in d]')" '["g1", "g1dev"]' "groups after restart"
assert_eq "$(pw group show g1 --json | jget 'd["attachments"][0]["addresses"][0]')" 10.1.0.2 "g1 kept its address"
ping_ok g1 10.1.0.1
ping_fails g1 10.2.0.2
in_ns h nft list table inet podwire >/dev/null || fail "nft table not restored"
assert_eq "$(host_links | tr '\n' ' ')" \
	"pw-dev pw-prod $(pw group ls --json | jget '" ".join(sorted(a["host_interface"] for g in d for a in g["attachments"]))') " \
	"links after restart: strangers and the half-made pair gone"
[ -z "$(in_ns half ip -o link show eth0 2>/dev/null)" ] || fail "half-made eth0 still there"
[ ! -e "$RUN_DIR/netd/groups/half.json" ] || fail "half-made state still there"

# Attaching continues: g2's address is free again, 10.1.0.9 too, no
# address is handed out twice.
g3=$(make_group_ns g3)
assert_eq "$(pw group attach g3 --netns "$g3" --vnet prod --json | jget 'd["attachments"][0]["addresses"][0]')" \
	10.1.0.3 "g2's address released"
pw group attach g4 --netns "$half" --vnet prod --ip 10.1.0.9 >/dev/null
ping_ok g3 10.1.0.2
ping_ok g3 10.1.0.9

# kill -9 at random moments of a stream of attaches and detaches.
for i in $(seq 12); do make_group_ns "s$i" >/dev/null; done
# The churn is one client calling as fast as netd answers, so netd is busy
# nearly all the time and a kill lands inside an operation. It runs in its
# own session so it dies as one process group before netd comes back.
churn() {
	setsid "$PY" -c '
import json, socket, sys
sock, prefix = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rw")
n = 0
def call(method, params):
    global n
    n += 1
    f.write(json.dumps({"id": n, "method": method, "params": params}) + "\n")
    f.flush()
    f.readline()
    sys.stdout.write(".")
    sys.stdout.flush()
while True:
    for i in range(1, 13):
        call("group.attach", {"id": "s%d" % i, "netns": "/run/netns/%ss%d" % (prefix, i),
                              "vnets": ["prod", "dev"]})
    for i in range(1, 13, 2):
        call("group.detach", {"id": "s%d" % i})
' "$RUN_DIR/netd.sock" "$NS_PREFIX" >"$T/churn.out" 2>/dev/null &
	churn_pid=$!
}
churn_answered() { [ "$(stat -c %s "$T/churn.out")" -ge "$1" ]; }
for round in 1 2 3 4; do
	: >"$T/churn.out"
	churn
	# Kill after a random number (4..24) of answered calls: mid-stream.
	calls=$((RANDOM % 21 + 4))
	wait_until churn_answered "$calls"
	kill9_netd
	kill -KILL -- -"$churn_pid" 2>/dev/null || true
	wait "$churn_pid" 2>/dev/null || true
	start_netd
	pw group ls --json >"$T/groups.json"
	# Every known attachment is whole: host end present, group end with
	# its address; addresses unique; no unknown pwv link; every netns
	# without a group has no eth0.
	"$PY" - "$T/groups.json" "${NS_PREFIX}" <<'PY' || fail "inconsistent after kill -9 (round $round)"
import json, subprocess, sys
groups = json.load(open(sys.argv[1]))
prefix = sys.argv[2]
def sh(*a):
    return subprocess.run(a, capture_output=True, text=True).stdout
host = sh("ip", "-n", prefix + "h", "-o", "link", "show")
host_links = {l.split(": ")[1].split("@")[0] for l in host.splitlines()}
inside = {}
def addrs(ns):
    if ns not in inside:
        inside[ns] = sh("ip", "-n", ns, "-o", "-4", "addr", "show")
    return inside[ns]
addresses, expected = [], set()
for g in groups:
    ns = g["netns"].rsplit("/", 1)[1]
    for a in g["attachments"]:
        expected.add(a["host_interface"])
        assert a["host_interface"] in host_links, (g["id"], a)
        want = "%s    inet %s/" % (a["interface"], a["addresses"][0])
        assert want in addrs(ns), (g["id"], a, addrs(ns))
        addresses.append(a["addresses"][0])
assert len(addresses) == len(set(addresses)), addresses
stray = {l for l in host_links if l.startswith("pwv")} - expected
assert not stray, stray
known = {g["netns"].rsplit("/", 1)[1] for g in groups}
for i in range(1, 13):
    ns = prefix + "s%d" % i
    if ns not in known:
        assert "eth" not in sh("ip", "-n", ns, "-o", "link"), ns
PY
done
# After all that, groups still talk.
pw group attach s99 --netns "$(make_group_ns s99)" --vnet prod >/dev/null
ping_ok s99 10.1.0.2
log "ok"
