#!/usr/bin/env bash
# netd end to end through the CLI: two groups on one VNet ping each other
# (IPv4 and IPv6); groups on two VNets cannot, while each reaches its
# gateway; attach twice = once (same address); static IP, MAC, hostname and
# aliases are honoured; list/show in tables and JSON; the event stream
# carries every change; detach removes every link and address and frees the
# address; deleting a VNet with groups needs --force.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd

pw vnet create prod --subnet 10.1.0.0/24 --subnet fd00:1::/64 >/dev/null
pw vnet create dev --subnet 10.2.0.0/24 --mtu 1400 --dns 192.0.2.53 >/dev/null
# The same definition again is a no-op; a different one is refused.
pw vnet create dev --subnet 10.2.0.0/24 --mtu 1400 --dns 192.0.2.53 >/dev/null
err=$(must_fail pw vnet create dev --subnet 10.2.0.0/24 --mtu 1300)
assert_contains "$err" "different settings" "changed VNet refused"

# The event stream, from before the first attach.
pw events --json --snapshot >"$T/events.out" 2>"$T/events.err" &
EVENTS_PID=$!
track_pid $EVENTS_PID
wait_until grep -q '"seq"' "$T/events.out"
snapshot=$(head -1 "$T/events.out")
assert_eq "$(echo "$snapshot" | jget '[v["name"] for v in d["vnets"]]')" '["prod", "dev"]' "snapshot vnets"

web=$(make_group_ns web)
db=$(make_group_ns db)
other=$(make_group_ns other)
multi=$(make_group_ns multi)
pw group attach web --netns "$web" --vnet prod --alias www >/dev/null
pw group attach db --netns "$db" --vnet prod --ip 10.1.0.50 --mac 02:00:00:00:00:50 \
	--hostname database >/dev/null
pw group attach other --netns "$other" --vnet dev >/dev/null

web_ip=$(pw group show web --json | jget 'd["attachments"][0]["addresses"][0]')
assert_eq "$web_ip" 10.1.0.2 "lowest free address"
assert_eq "$(pw group show db --json | jget 'd["attachments"][0]["addresses"]')" \
	'["10.1.0.50", "fd00:1::32"]' "static address and its IPv6 mirror"
assert_eq "$(in_ns db cat /sys/class/net/eth0/address)" 02:00:00:00:00:50 "MAC"
assert_eq "$(in_ns web cat /sys/class/net/eth0/address)" 02:50:0a:01:00:02 "default MAC"
# A given MAC is announced (test-netd-announce); a default one is not.
assert_eq "$(in_ns db cat /proc/sys/net/ipv4/conf/eth0/arp_notify)" 1 "arp_notify, given MAC"
assert_eq "$(in_ns web cat /proc/sys/net/ipv4/conf/eth0/arp_notify)" 0 "arp_notify, default MAC"
assert_eq "$(pw group show db --json | jget 'd["hostname"]')" database "hostname"
assert_eq "$(pw group show web --json | jget 'd["aliases"]')" '["www"]' "aliases"
assert_eq "$(in_ns other cat /sys/class/net/eth0/mtu)" 1400 "VNet MTU inside the group"
assert_eq "$(in_ns h cat /sys/class/net/pw-dev/mtu)" 1400 "VNet MTU on its bridge"
assert_eq "$(in_ns h cat /sys/class/net/pw-dev/bridge/multicast_snooping)" 0 \
	"no multicast snooping on a VNet bridge"
# No IPv6 chatter on an IPv4-only VNet, nor on any bridge port.
assert_eq "$(in_ns other ip -6 -o addr show dev eth0)" "" "no IPv6 on eth0 of an IPv4 VNet"
assert_eq "$(in_ns h ip -6 -o addr show | grep pwv || true)" "" "no IPv6 on host veths"
assert_eq "$(in_ns h ip -6 -o addr show dev pw-dev)" "" "no IPv6 on the bridge of an IPv4 VNet"
# Nor a multicast route per bridge port: netd deletes the one the kernel
# adds once the port's carrier is on (within a second or two).
for _ in $(seq 40); do
	port_mroutes=$(in_ns h ip -6 route show table local | grep -c "dev pwv" || true)
	[ "$port_mroutes" = 0 ] && break
	sleep 0.1
done
assert_eq "$port_mroutes" 0 "IPv6 multicast routes left on host veths"

# Within a VNet: both families.
ping_ok web 10.1.0.50
ping_ok db "$web_ip"
in_ns web ping -6 -c 1 -W 2 fd00:1::32 >/dev/null || fail "IPv6 ping within the VNet"
# Across VNets: no, while each reaches its own gateway.
ping_ok web 10.1.0.1
ping_ok other 10.2.0.1
ping_fails web 10.2.0.2
ping_fails other "$web_ip"
ping_fails other 10.1.0.50

# Attach twice = once.
again=$(pw group attach web --netns "$web" --vnet prod --alias www --json | jget 'd["attachments"][0]["addresses"][0]')
assert_eq "$again" "$web_ip" "second attach, same address"
assert_eq "$(in_ns web ip -o -4 addr show dev eth0 | wc -l)" 1 "one address after a second attach"
err=$(must_fail pw group attach web --netns "$web" --vnet dev)
assert_contains "$err" "already attached" "attach with other VNets refused"
err=$(must_fail pw group attach dup --netns "$multi" --vnet prod --ip 10.1.0.50)
assert_contains "$err" "already in use" "static address in use"

# Two VNets: eth0 and eth1, default route on the first.
pw group attach multi --netns "$multi" --vnet dev,prod >/dev/null
assert_eq "$(in_ns multi ip -o -4 addr show dev eth0 | awk '{print $4}')" 10.2.0.3/24 "eth0 on dev"
assert_eq "$(in_ns multi ip -o -4 addr show dev eth1 | awk '{print $4}')" 10.1.0.3/24 "eth1 on prod"
assert_contains "$(in_ns multi ip route show default)" "via 10.2.0.1 dev eth0" "default route"
ping_ok multi 10.2.0.2
ping_ok multi 10.1.0.50

# Lists: tables for people, JSON for scripts.
table=$(pw group ls)
assert_contains "$table" "ID" "group ls header"
assert_contains "$(echo "$table" | grep '^db ')" "10.1.0.50" "group ls row"
assert_eq "$(pw group ls --json | jget '[g["id"] for g in d]')" '["db", "multi", "other", "web"]' "group ls --json"
assert_eq "$(pw group ls --vnet dev --json | jget '[g["id"] for g in d]')" '["multi", "other"]' "group ls --vnet"
assert_contains "$(pw vnet ls | grep '^prod ')" "10.1.0.0/24" "vnet ls row"
assert_eq "$(pw vnet show prod --json | jget 'd["group_count"]')" 3 "group_count"
assert_eq "$(pw vnet show dev --json | jget 'd["dns_servers"]')" '["192.0.2.53"]' "dns servers"
assert_contains "$(pw vnet show prod)" "pw-prod" "vnet show"

# Delete with groups: refused, nothing changed.
err=$(must_fail pw vnet rm dev)
assert_contains "$err" "group(s) attached" "vnet rm with groups"
ping_ok other 10.2.0.1

# Detach: links, addresses and the address itself are gone.
links_before_db=$(host_links)
pw group detach db
pw group detach db # unknown: success
must_fail pw group show db >/dev/null
[ -z "$(in_ns db ip -o link show eth0 2>/dev/null)" ] || fail "eth0 still in db's netns"
db_host_if=$(echo "$links_before_db" | grep -c pwv)
assert_eq "$(host_links | grep -c pwv)" $((db_host_if - 1)) "host veth of db removed"
# The address is free again (same MAC: see docs/netd.md on neighbour caches).
pw group attach db2 --netns "$db" --vnet prod --ip 10.1.0.50 --mac 02:00:00:00:00:50 >/dev/null
ping_ok web 10.1.0.50

# Force delete: its groups go, the others stay.
pw vnet rm dev --force
must_fail pw group show other >/dev/null
must_fail pw group show multi >/dev/null
[ -z "$(host_links | grep pw-dev)" ] || fail "bridge pw-dev still there"
ping_ok web 10.1.0.50

# Detach everything: nothing of podwire is left on the host but the bridge.
for g in web db2; do pw group detach $g; done
assert_eq "$(host_links)" "pw-prod" "only the bridge left"
assert_eq "$(host_addrs)" "pw-prod 10.1.0.1/24
pw-prod fd00:1::1/64" "only the gateway addresses left"
pw vnet rm prod
assert_eq "$(host_links)" "" "nothing left"

# The event stream saw every change, in order, with names and addresses.
wait_until grep -q '"vnet.deleted".*"prod"' "$T/events.out"
events=$(tail -n +2 "$T/events.out" | jget 'None' 2>/dev/null || true)
seq=$(tail -n +2 "$T/events.out" | "$PY" -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
seqs = [e["seq"] for e in evs]
assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
print(" ".join(e["event"] + ":" + (e["data"].get("id") or e["data"].get("name")) for e in evs))')
assert_eq "$seq" "group.attached:web group.attached:db group.attached:other group.attached:multi group.detached:db group.attached:db2 group.detached:multi group.detached:other vnet.deleted:dev group.detached:web group.detached:db2 vnet.deleted:prod" "events"
first_seq=$(sed -n 2p "$T/events.out" | jget 'd["seq"]')
assert_eq "$first_seq" "$(echo "$snapshot" | jget 'd["seq"]')" "events continue at the snapshot's seq"
assert_contains "$(grep '"group.attached".*"web"' "$T/events.out")" '"aliases":["www"]' "event carries aliases"
kill $EVENTS_PID
log "ok"
