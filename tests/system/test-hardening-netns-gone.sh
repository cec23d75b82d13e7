#!/usr/bin/env bash
# A group whose network namespace dies while netd runs (a runtime that
# never says DEL: `ctr task rm` without --rm) is released within 1 s: it
# leaves `podwire group ls`, its addresses can be attached again, its name
# stops resolving through dnsd, its published port, rate-limit ifb, host
# veths and state file go, and an events subscriber sees one group.detached
# with "reason":"netns-gone" (one, though it was on two VNets). A normal
# detach still says "reason":"detach", once. A host veth deleted by hand
# while the netns lives (or the group end, deleted inside) is recreated
# with the same address, and the group keeps working.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"
. "$(dirname "$0")/dns-lib.sh"

make_host_ns
start_netd
start_dnsd
GW=10.1.0.1

pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
pw vnet create dev --subnet 10.2.0.0/24 >/dev/null
pw events --json --snapshot >"$T/events.out" 2>"$T/events.err" &
track_pid $!
wait_until test -s "$T/events.out" # subscribed: the snapshot came
client=$(make_group_ns client)
pw group attach client --netns "$client" --vnet prod >/dev/null
web=$(make_group_ns web)
pw group attach web --netns "$web" --vnet prod,dev --alias www --publish 18080:80 \
	--rate 10mbit >/dev/null
web_ip=$(pw group show web --json | jget 'd["attachments"][0]["addresses"][0]')
web_dev_ip=$(pw group show web --json | jget 'd["attachments"][1]["addresses"][0]')
web_links=$(pw group show web --json | jget '" ".join(a["host_interface"] for a in d["attachments"])')
wait_answer client $GW web.prod.internal A "$web_ip"
assert_eq "$(q client $GW www.prod.internal)" "$web_ip" "alias before"
ports4() { in_ns h nft -j list map inet podwire ports4 | jget 'len([e for o in d["nftables"] if "map" in o for e in o["map"].get("elem", [])])'; }
assert_eq "$(ports4)" 1 "published port before"
[ -n "$(in_ns h ip -o link show | grep pwb)" ] || fail "no rate-limit ifb before"
wait_until grep -q '"group.attached".*"id":"web"' "$T/events.out"

log "the netns of a group on two VNets dies"
# Nothing else holds it: no process runs in it, netd keeps no fd of it.
start_ms=$(date +%s%3N)
ip netns del "${NS_PREFIX}web"
gone() { [ "$(pw group ls --json | jget '[g["id"] for g in d]')" == '["client"]' ]; }
deadline=$((start_ms + 1000))
while ! gone; do
	[ "$(date +%s%3N)" -le "$deadline" ] || fail "web still listed 1 s after its netns died: $(pw group ls)"
	sleep 0.02
done
log "gone from the list after $(($(date +%s%3N) - start_ms)) ms"
while [ "$(q client $GW web.prod.internal)" != "" ]; do
	[ "$(date +%s%3N)" -le "$deadline" ] || fail "web.prod.internal still resolves 1 s after its netns died"
	sleep 0.02
done
while ! grep -q '"group.detached".*"id":"web"' "$T/events.out"; do
	[ "$(date +%s%3N)" -le "$deadline" ] || fail "no group.detached event for web within 1 s"
	sleep 0.02
done
log "released in $(($(date +%s%3N) - start_ms)) ms"
assert_eq "$(qstatus client $GW web.prod.internal)" NXDOMAIN "web's name"
assert_eq "$(qstatus client $GW www.prod.internal)" NXDOMAIN "web's alias"
detached=$(grep '"group.detached"' "$T/events.out" | jget 'd["data"]["id"] + " " + d["data"]["reason"]')
assert_eq "$detached" "web netns-gone" "one group.detached, reason netns-gone"
assert_eq "$(ports4)" 0 "published port element"
assert_eq "$(in_ns h ip -o link show | grep -c -E 'pwb|'"${web_links// /|}" || true)" 0 \
	"web's host veths and ifb"
[ ! -e "$RUN_DIR/netd/groups/web.json" ] || fail "web's state file still there"
assert_eq "$(pw vnet show prod --json | jget 'd["group_count"]')" 1 "prod's group count"
assert_eq "$(pw vnet show dev --json | jget 'd["group_count"]')" 0 "dev's group count"

log "its addresses and host port can be used again"
again=$(make_group_ns again)
pw group attach again --netns "$again" --vnet prod,dev --ip "prod=$web_ip" --ip "dev=$web_dev_ip" \
	--publish 18080:80 >/dev/null || fail "web's addresses not free again"
ping_ok again 10.1.0.1
ping_ok client "$web_ip"
wait_answer client $GW again.prod.internal A "$web_ip"

log "a normal detach: reason detach, once"
pw group detach again >/dev/null
wait_until grep -q '"group.detached".*"id":"again"' "$T/events.out"
sleep 0.3 # time for a second (wrong) release to show
assert_eq "$(grep '"group.detached".*"id":"again"' "$T/events.out" | jget 'd["data"]["reason"]')" \
	detach "reason of a detach"
if grep -q "releasing group=again" "$T/netd.log"; then fail "detach seen as a dead netns"; fi

log "a host veth deleted by hand while the netns lives comes back"
keep=$(make_group_ns keep)
pw group attach keep --netns "$keep" --vnet prod >/dev/null
keep_ip=$(pw group show keep --json | jget 'd["attachments"][0]["addresses"][0]')
keep_link=$(pw group show keep --json | jget 'd["attachments"][0]["host_interface"]')
wait_answer client $GW keep.prod.internal A "$keep_ip"
in_ns h ip link del "$keep_link"
back() { in_ns keep ip -o -4 addr show eth0 | grep -q "inet $keep_ip/" &&
	in_ns h ip -o link show "$keep_link" | grep -q "master pw-prod"; }
wait_until back
ping_ok keep 10.1.0.1
ping_ok client "$keep_ip"
assert_eq "$(pw group show keep --json | jget 'd["attachments"][0]["addresses"][0]')" "$keep_ip" \
	"keep's address"
assert_eq "$(q client $GW keep.prod.internal)" "$keep_ip" "keep still resolves"
log "the group end deleted inside the netns comes back too"
in_ns keep ip link del eth0
wait_until back
ping_ok keep 10.1.0.1
if grep -q '"group.detached".*"id":"keep"' "$T/events.out"; then fail "keep was released"; fi
grep -q "attachment deleted by someone else, recreated group=keep" "$T/netd.log" ||
	fail "no log line for the recreated attachment"
log "ok"
