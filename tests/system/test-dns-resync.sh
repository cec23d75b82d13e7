#!/usr/bin/env bash
# dnsd's resync with netd (issue 12, item 10): while netd restarts with
# 10,000 records and dnsd re-reads the whole state in slices, a client
# asking every 2 ms gets every answer, and right; after the resync the
# state netd came back with is what dnsd answers: records removed while
# netd was down are gone, a changed one has its new value, a new one is
# there. (How long an answer waits during a resync is measured by
# bench/dns-resync.sh, not here.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd
start_dnsd
pw vnet create prod --subnet 10.1.0.0/16 >/dev/null
web=$(make_group_ns web)
pw group attach web --netns "$web" --vnet prod >/dev/null
GW=10.1.0.1
python3 - "$T/records.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        f.write("r%d A 10.1.%d.%d\n" % (i, 100 + i // 250, 1 + i % 250))
EOF
pw dns record add prod --file "$T/records.txt" >/dev/null
wait_answer web $GW r9999.prod.internal A 10.1.139.250

# ask.py SERVER: asks for r20..r9999 (expected addresses known) round
# robin, one query every 2 ms, until the file "stop" appears; prints
# "asked N wrong W unanswered U" and the first wrong answers.
cat >"$T/ask.py" <<'EOF'
import os, socket, struct, sys, time
server, stop = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((server, 53))
s.settimeout(1.0)
asked = wrong = unanswered = 0
notes = []
i = 0
while not os.path.exists(stop):
    n = 20 + i % 9980
    i += 1
    q = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
    for label in ("r%d" % n, "prod", "internal"):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    want = bytes([10, 1, 100 + n // 250, 1 + n % 250])
    asked += 1
    s.send(q)
    try:
        while True:
            r = s.recv(512)
            if r[:2] == q[:2]:
                break
    except socket.timeout:
        unanswered += 1
        notes.append("r%d: no answer" % n)
        continue
    if r[3] & 0xf != 0 or r[-4:] != want:
        wrong += 1
        notes.append("r%d: rcode %d data %s" % (n, r[3] & 0xf, r[-4:].hex()))
    time.sleep(0.002)
print("asked %d wrong %d unanswered %d %s" % (asked, wrong, unanswered, "; ".join(notes[:5])))
EOF
in_ns web python3 "$T/ask.py" $GW "$T/stop" >"$T/ask.out" 2>&1 &
asker=$!
track_pid $asker
sleep 1

log "netd restarts with changed state while a client keeps asking"
reconnects=$(dnsd_stat '["state"]["netd_reconnects"]')
stop_netd
# What an admin would see after restoring another copy of the state: r5..r9
# gone, r10 elsewhere, new1 added (the records are in one bulk file).
python3 - "$STATE_DIR/netd/dns/records" <<'EOF'
import glob, json, os, sys
[path] = [p for p in glob.glob(sys.argv[1] + "/*.json") if json.load(open(p)).get("records")]
doc = json.load(open(path))
recs = [r for r in doc["records"] if r["name"] not in ("r5", "r6", "r7", "r8", "r9")]
for r in recs:
    if r["name"] == "r10":
        r["value"] = "10.1.200.10"
recs.append({"vnet": "prod", "name": "new1", "type": "A", "value": "10.1.200.1", "ttl": 300})
doc["records"] = recs
json.dump(doc, open(path + ".tmp", "w"))
os.rename(path + ".tmp", path)
EOF
start_netd
wait_answer web $GW new1.prod.internal A 10.1.200.1
[ "$(dnsd_stat '["state"]["netd_reconnects"]')" -gt "$reconnects" ] || fail "dnsd did not reconnect"
sleep 0.5
touch "$T/stop"
wait $asker || true
out=$(cat "$T/ask.out")
log "client during the restart and resync: $out"
assert_contains "$out" "wrong 0 unanswered 0" "every query answered, and right"
asked=$(echo "$out" | awk '{print $2}')
[ "$asked" -gt 100 ] || fail "the client asked only $asked times"

log "after the resync: netd's state as it came back"
assert_eq "$(q web $GW r10.prod.internal)" 10.1.200.10 "changed record"
for n in 5 6 7 8 9; do
	assert_eq "$(qstatus web $GW r$n.prod.internal)" NXDOMAIN "removed record r$n"
done
assert_eq "$(q web $GW r4.prod.internal)" 10.1.100.5 "kept record"
assert_eq "$(dnsd_stat '["state"]["records"]')" 9996 "dnsd's record count"
assert_contains "$(grep "snapshot applied" "$T/dnsd.log" | tail -1)" "records=9996 changed=2 applied_early=0" \
	"the resync kept the two changes aside for the swap"
log "ok"
