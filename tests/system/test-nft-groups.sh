#!/usr/bin/env bash
# The per-group part of the podwire tables, at packet level (no netd; setup in
# nft-groups-lib.sh): a spoofed source address or MAC dropped and counted;
# counters that move by the bytes sent; isolation drops counted; IPv6 ping and
# isolation; peering and unpeering.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nft-groups-lib.sh"

log "isolation drops are counted per bridge"
before=$(counter dropped pw-b 3)
ping_fails b1 10.1.0.2
after=$(counter dropped pw-b 3)
[ "$after" -gt "$before" ] || fail "dropped pw-b did not move ($before -> $after)"

log "counters move by the bytes sent"
tx0=$(counter tx pwva2 4)
rx0=$(counter rx pwva1 4)
for _ in 1 2 3 4 5; do
	assert_eq "$(ask a2 udp 10.1.0.2 53 1000)" "10.1.0.3 53" "a2 -> a1 udp"
done
tx1=$(counter tx pwva2 4)
rx1=$(counter rx pwva1 4)
# 5 datagrams of 1000 bytes of payload + 28 of headers each (+ ARP, replies
# are small): at least 5140 and not much more.
for d in "tx pwva2 $((tx1 - tx0))" "rx pwva1 $((rx1 - rx0))"; do
	set -- $d
	[ "$3" -ge 5140 ] && [ "$3" -le 7000 ] || fail "counter $1 $2 moved by $3 bytes, want 5140..7000"
done

log "spoofing: a foreign source address is dropped and counted"
spoofed0=$(counter spoofed pwva1 3)
ping_ok a1 10.1.0.3
in_ns a1 ip addr add 10.1.0.99/24 dev eth0
if in_ns a1 ping -c 1 -W 1 -I 10.1.0.99 10.1.0.3 >/dev/null 2>&1; then
	fail "ping from a spoofed address got through"
fi
assert_eq "$(ask a2 tcp 10.1.0.99 80)" "" "a2 -> the spoofed address"
spoofed1=$(counter spoofed pwva1 3)
[ "$spoofed1" -gt "$spoofed0" ] || fail "spoofed counter did not move ($spoofed0 -> $spoofed1)"
in_ns a1 ip addr del 10.1.0.99/24 dev eth0
ping_ok a1 10.1.0.3
log "spoofing: a foreign MAC is dropped"
in_ns a1 ip link set eth0 address 02:00:00:00:01:99
ping_fails a1 10.1.0.3
in_ns a1 ip link set eth0 address 02:00:00:00:01:01
in_ns a1 ip neigh flush all
in_ns a2 ip neigh flush all
ping_ok a1 10.1.0.3

log "IPv6: same VNet open, other VNet closed, group removal lifts protection"
ping6_ok() { in_ns "$1" ping -6 -c 1 -W 2 "$2" >/dev/null || fail "ping from $1 to $2 failed"; }
ping6_fails() {
	if in_ns "$1" ping -6 -c 1 -W 1 "$2" >/dev/null 2>&1; then
		fail "ping from $1 to $2 succeeded but should not"
	fi
}
ping6_ok a1 fd00:1::3
ping6_fails a1 fd00:2::2
in_ns a1 ip addr add fd00:1::99/64 dev eth0 nodad
if in_ns a1 ping -6 -c 1 -W 1 -I fd00:1::99 fd00:1::3 >/dev/null 2>&1; then
	fail "IPv6 ping from a spoofed address got through"
fi
in_ns a1 ip addr del fd00:1::99/64 dev eth0

log "peering: open both ways; unpeer closes it again"
ping_fails a1 10.2.0.2
drv peer pw-a pw-b
ping_ok a1 10.2.0.2
ping_ok b1 10.1.0.3
ping6_ok b1 fd00:1::2
drv unpeer pw-a pw-b
ping_fails a1 10.2.0.2
ping_fails b1 10.1.0.3

log "ok"
