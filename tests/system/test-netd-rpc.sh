#!/usr/bin/env bash
# netd's control socket under bad and concurrent input: malformed JSON, a
# 2 MiB line, unknown methods, wrong params, malformed or overlapping CIDRs,
# missing or wrong netns, over-long names, bad MACs and addresses each get
# a clear error, change nothing (VNets, groups, links, nft table, state
# files), and netd keeps serving on the same connection. Then concurrent
# clients attaching at once never get the same address, and --admin-group
# lets its members in and no one else.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
g1=$(make_group_ns g1)
pw group attach g1 --netns "$g1" --vnet prod >/dev/null

snapshot() {
	pw vnet ls --json
	pw group ls --json
	host_links
	host_addrs
	in_ns h nft list table inet podwire
	(cd "$STATE_DIR" && find . | sort)
	(cd "$RUN_DIR/netd" && find . | sort)
}
before=$(snapshot)

# expect_error CODE TEXT REQUEST_LINE: the reply is an error with that code
# and a message containing TEXT (one Python start per check).
expect_error() {
	"$PY" -c '
import json, socket, sys
code, text, request = sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
s.sendall(request.encode() + b"\n")
line = s.makefile("rb").readline()
if not line:
    sys.exit("no reply to: " + request[:200])
error = json.loads(line).get("error") or {}
if error.get("code") != code or text not in error.get("message", ""):
    sys.exit("%s: expected %s containing %r, got %s" % (request[:150], code, text, line.decode().strip()))
' "$RUN_DIR/netd.sock" "$1" "$2" "$3" || fail "wrong reply"
}
create() { echo "{\"id\":1,\"method\":\"vnet.create\",\"params\":$1}"; }
attach() { echo "{\"id\":1,\"method\":\"group.attach\",\"params\":$1}"; }

expect_error parse_error "malformed JSON" '{"id":1,"method":"vnet.list",'
expect_error parse_error "" 'not json at all'
expect_error unknown_method "nope" '{"id":1,"method":"nope","params":{}}'
expect_error invalid_params "" '{"id":1,"method":"vnet.list","params":{"x":1}}'
expect_error invalid_params "" '{"id":1,"method":"vnet.list","params":[1]}'
expect_error invalid_params "" "$(create '{"name":"a","subnets":["10.2.0.0/24"],"colour":"red"}')"
expect_error invalid_params "" "$(create '{"name":"a","subnets":"10.2.0.0/24"}')"
expect_error invalid_params "" "$(create '{"name":"a","subnets":["10.2.0.0/24"],"mtu":"big"}')"
expect_error invalid_params "invalid subnet" "$(create '{"name":"a","subnets":["10.2.0.0/33"]}')"
expect_error invalid_params "invalid subnet" "$(create '{"name":"a","subnets":["ten.two"]}')"
expect_error invalid_params "host bits set" "$(create '{"name":"a","subnets":["10.2.0.5/24"]}')"
expect_error invalid_params "prefix length" "$(create '{"name":"a","subnets":["10.0.0.0/8"]}')"
expect_error invalid_params "prefix length" "$(create '{"name":"a","subnets":["10.2.0.0/31"]}')"
expect_error invalid_params "IPv4 subnet is required" "$(create '{"name":"a","subnets":["fd00::/64"]}')"
expect_error invalid_params "overlaps subnet 10.1.0.0/24 of vnet 'prod'" "$(create '{"name":"a","subnets":["10.1.0.128/25"]}')"
expect_error invalid_params "overlaps" "$(create '{"name":"a","subnets":["10.1.0.0/16"]}')"
expect_error invalid_params "MTU" "$(create '{"name":"a","subnets":["10.2.0.0/24"],"mtu":100}')"
expect_error invalid_params "MTU" "$(create '{"name":"a","subnets":["10.2.0.0/24","fd00::/64"],"mtu":1000}')"
expect_error invalid_params "gateway" "$(create '{"name":"a","subnets":["10.2.0.0/24"],"gateway":"10.3.0.1"}')"
expect_error invalid_params "gateway" "$(create '{"name":"a","subnets":["10.2.0.0/24"],"gateway":"10.2.0.255"}')"
expect_error invalid_params "dns_servers" "$(create '{"name":"a","subnets":["10.2.0.0/24"],"dns_servers":["x"]}')"
expect_error invalid_params "longer than 12" "$(create '{"name":"abcdefghijklm","subnets":["10.2.0.0/24"]}')"
expect_error invalid_params "" "$(create '{"name":"Bad_Name","subnets":["10.2.0.0/24"]}')"
expect_error invalid_params "" "$(create '{"name":"a","subnets":["10.2.0.0/24"],"domain":"bad..domain"}')"

long_id=$(printf 'x%.0s' $(seq 129))
long_host=$(printf 'h%.0s' $(seq 64))
expect_error not_found "No such file" "$(attach '{"id":"g2","netns":"/run/netns/nope","vnets":["prod"]}')"
expect_error invalid_params "not a network namespace" "$(attach "{\"id\":\"g2\",\"netns\":\"$T/netd.log\",\"vnets\":[\"prod\"]}")"
expect_error invalid_params "own network namespace" "$(attach "{\"id\":\"g2\",\"netns\":\"/run/netns/$HOST_NS\",\"vnets\":[\"prod\"]}")"
expect_error invalid_params "absolute path" "$(attach '{"id":"g2","netns":"relative","vnets":["prod"]}')"
expect_error not_found "vnet 'nope' not found" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[\"nope\"]}")"
expect_error invalid_params "" "$(attach "{\"id\":\"$long_id\",\"netns\":\"$g1\",\"vnets\":[\"prod\"]}")"
expect_error invalid_params "hostname" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[\"prod\"],\"hostname\":\"$long_host\"}")"
expect_error invalid_params "alias" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[\"prod\"],\"aliases\":[\"a b\"]}")"
expect_error invalid_params "given twice" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[\"prod\",\"prod\"]}")"
expect_error invalid_params "1 to 8" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[]}")"
expect_error invalid_params "invalid MAC" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[\"prod\"],\"mac\":\"02:00:00:00:00\"}")"
expect_error invalid_params "multicast" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[\"prod\"],\"mac\":\"01:00:5e:00:00:01\"}")"
expect_error invalid_params "not one of the group's vnets" "$(attach "{\"id\":\"g2\",\"netns\":\"$g1\",\"vnets\":[\"prod\"],\"ips\":{\"dev\":\"10.1.0.9\"}}")"
expect_error invalid_params "not in subnet" "$(attach "{\"id\":\"g2\",\"netns\":\"$(make_group_ns g2)\",\"vnets\":[\"prod\"],\"ips\":{\"prod\":\"10.9.0.9\"}}")"
expect_error invalid_params "gateway" "$(attach "{\"id\":\"g2\",\"netns\":\"/run/netns/${NS_PREFIX}g2\",\"vnets\":[\"prod\"],\"ips\":{\"prod\":\"10.1.0.1\"}}")"
expect_error exists "already in use" "$(attach "{\"id\":\"g2\",\"netns\":\"/run/netns/${NS_PREFIX}g2\",\"vnets\":[\"prod\"],\"ips\":{\"prod\":\"10.1.0.2\"}}")"
# eth0 is taken inside g1's netns by g1 itself.
expect_error exists "already exists" "$(attach "{\"id\":\"g3\",\"netns\":\"$g1\",\"vnets\":[\"prod\"]}")"
expect_error invalid_params "" '{"id":1,"method":"group.detach","params":{"id":""}}'
expect_error not_found "" '{"id":1,"method":"vnet.show","params":{"name":"nope"}}'

# A 2 MiB line: refused, and the same connection still answers after it.
replies=$("$PY" -c '
import sys
sys.stdout.write("{\"id\":1,\"method\":\"vnet.list\",\"params\":{\"pad\":\"" + "x" * (2 << 20) + "\"}}\n")
sys.stdout.write("{\"id\":2,\"method\":\"vnet.list\",\"params\":{}}\n")' | rpc_raw 2)
assert_eq "$(echo "$replies" | head -1 | jget 'd["error"]["code"]')" too_large "2 MiB line"
assert_eq "$(echo "$replies" | sed -n 2p | jget '[v["name"] for v in d["result"]["vnets"]]')" '["prod"]' "served after the big line"

# Nothing changed, and netd is alive and well.
after=$(snapshot)
[ "$before" == "$after" ] || fail "state changed by bad input: $(diff <(echo "$before") <(echo "$after"))"
kill -0 "$NETD_PID" || fail "netd died"
ping_ok g1 10.1.0.1

# Concurrent callers: 4 clients attach 10 groups each at once.
for c in 1 2 3 4; do
	for i in $(seq 10); do make_group_ns "c${c}x$i" >/dev/null; done
done
for c in 1 2 3 4; do
	"$PY" -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
for i in range(1, 11):
    f.write(json.dumps({"id": i, "method": "group.attach", "params": {
        "id": "c%sx%d" % (sys.argv[3], i), "netns": "/run/netns/%sc%sx%d" % (sys.argv[2], sys.argv[3], i),
        "vnets": ["prod"]}}) + "\n")
    f.flush()
    r = json.loads(f.readline())
    assert "result" in r, r' "$RUN_DIR/netd.sock" "$NS_PREFIX" "$c" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent client failed"; done
addresses=$(pw group ls --json | jget '"\n".join(a["addresses"][0] for g in d for a in g["attachments"])')
assert_eq "$(echo "$addresses" | wc -l)" 41 "41 groups"
assert_eq "$(echo "$addresses" | sort -u | wc -l)" 41 "41 distinct addresses"
ping_ok c4x10 10.1.0.2

# --admin-group: its members may change things; others cannot connect.
stop_netd
start_netd --admin-group nogroup
chmod o+x "$T"
as_member() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_other() { setpriv --reuid=65534 --regid=1 --clear-groups "$@"; }
as_member "$BIN/podwire" --run-dir "$RUN_DIR" vnet create other --subnet 10.5.0.0/24 >/dev/null
assert_eq "$(as_member "$BIN/podwire" --run-dir "$RUN_DIR" vnet ls --json | jget '[v["name"] for v in d]')" \
	'["prod", "other"]' "admin group member"
err=$(must_fail as_other "$BIN/podwire" --run-dir "$RUN_DIR" vnet rm other)
assert_contains "$err" "ermission denied" "non-member refused"
log "ok"
