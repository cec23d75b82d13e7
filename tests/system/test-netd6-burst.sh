#!/usr/bin/env bash
# Bursts through the real podwire-netd and CLI: 100 attaches (each with a
# published port) issued at once by separate clients all succeed with
# distinct addresses and one set of kernel objects each; then kill -9 in
# the middle of another burst and a restart: every group netd reports has
# its link, address, anti-spoofing and counter elements and port, and
# nothing else is left (no link, set element or address without a group,
# no duplicate); the groups whose attach was cut off can attach again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

N=100
make_host_ns
start_netd
pw vnet create a --subnet 10.1.0.0/22 >/dev/null
for i in $(seq $N); do make_group_ns "g$i" >/dev/null; done
for i in $(seq 50); do make_group_ns "k$i" >/dev/null; done

# The kernel's view, one line per object, for comparing with netd's.
kernel_links() { in_ns h ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^pwv' | sort; }
nft_elems() { # nft_elems FAMILY SET: the keys, first field, sorted
	in_ns h nft -j list set "$1" podwire "$2" | "$PY" -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []) if "set" in o else []:
        k = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
        print(k if isinstance(k, (str, int)) else json.dumps(k))' | sort
}
nft_map_count() { # nft_map_count MAP
	in_ns h nft -j list map inet podwire "$1" | "$PY" -c '
import json, sys
print(sum(len(o["map"].get("elem", [])) for o in json.load(sys.stdin)["nftables"] if "map" in o))'
}
netd_links() { pw group ls --json | jget '"\n".join(sorted(a["host_interface"] for g in d for a in g["attachments"]))'; }
consistent() { # consistent WHAT: netd's groups and the kernel's objects match one to one
	local links addrs
	links=$(netd_links)
	assert_eq "$(kernel_links)" "$links" "$1: host veths = netd's groups"
	assert_eq "$(nft_elems bridge tx)" "$links" "$1: tx counter elements = netd's groups"
	assert_eq "$(nft_elems bridge macs | wc -l)" "$(echo "$links" | grep -c .)" "$1: MAC elements"
	assert_eq "$(nft_map_count ports4)" "$(pw group ls --json | jget 'sum(len(g["ports"]) for g in d)')" \
		"$1: published ports = netd's"
	addrs=$(pw group ls --json | jget '"\n".join(a["addresses"][0] for g in d for a in g["attachments"])')
	assert_eq "$(echo "$addrs" | sort | uniq -d)" "" "$1: no address handed out twice"
	# Each group's netns has exactly its address.
	while read -r g want; do
		got=$(ip -n "${NS_PREFIX}$g" -o -4 addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
		assert_eq "$got" "$want" "$1: $g's address in its netns"
	done < <(pw group ls --json | jget '"\n".join(g["id"] + " " + g["attachments"][0]["addresses"][0] for g in d)')
}

log "$N attaches at once, from $N clients"
start=$(date +%s%N)
pids=()
for i in $(seq $N); do
	pw group attach "g$i" --netns "/run/netns/${NS_PREFIX}g$i" --vnet a \
		--publish $((20000 + i)):80 --json >"$T/att-g$i.json" 2>"$T/att-g$i.err" &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
log "burst took $(((($(date +%s%N) - start)) / 1000000)) ms"
[ $failed = 0 ] || fail "$failed attaches failed: $(cat "$T"/att-g*.err | sort | uniq -c | head -3)"
addrs=$(cat "$T"/att-g*.json | "$PY" -c '
import json, sys
dec = json.JSONDecoder(); s = sys.stdin.read(); i = 0
while i < len(s):
    while i < len(s) and s[i].isspace(): i += 1
    if i >= len(s): break
    o, i = dec.raw_decode(s, i)
    print(o["attachments"][0]["addresses"][0])')
assert_eq "$(echo "$addrs" | sort -u | wc -l)" "$N" "distinct addresses"
assert_eq "$(pw vnet show a --json | jget 'd["group_count"]')" "$N" "group count"
consistent "after the burst"
in_ns g7 ping -c 1 -W 2 10.1.0.1 >/dev/null || fail "g7 -> gateway"

log "kill -9 during a burst of attaches and detaches, then restart"
pids=()
for i in $(seq 50); do
	pw group attach "k$i" --netns "/run/netns/${NS_PREFIX}k$i" --vnet a \
		--publish $((30000 + i)):80 >/dev/null 2>&1 &
	pids+=($!)
	pw group detach "g$i" >/dev/null 2>&1 &
	pids+=($!)
done
# Let part of the burst through, then kill.
wait_until test "$(ls "$RUN_DIR/netd/groups" | grep -c '^k')" -ge 5
kill9_netd
for p in "${pids[@]}"; do wait "$p" || true; done
start_netd
consistent "after kill -9 and restart"
log "$(pw vnet show a --json | jget 'd["group_count"]') groups survived"

log "the interrupted ones attach again, with distinct addresses"
pids=()
for i in $(seq 50); do
	pw group attach "k$i" --netns "/run/netns/${NS_PREFIX}k$i" --vnet a \
		--publish $((30000 + i)):80 >/dev/null 2>"$T/re-k$i.err" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
for i in $(seq 50); do [ ! -s "$T/re-k$i.err" ] || fail "re-attach k$i: $(cat "$T/re-k$i.err")"; done
consistent "after re-attaching"
log "ok"
