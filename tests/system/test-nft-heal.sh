#!/usr/bin/env bash
# Self-healing (netd/nft-monitor.c): with tests/system/nft-driver watching as
# netd does, `nft flush ruleset`, deleting one of the podwire tables, or
# flushing one of its sets is noticed through nftables netlink events and the
# tables are restored within a second — isolation and masquerade work again.
# Changes made through our own socket do not trigger a restore.
. "$(dirname "$0")/lib.sh"

DRIVER=$BIN/tests/nft-driver
[ -x "$DRIVER" ] || fail "$DRIVER is not built (make $BIN/tests/nft-driver)"

make_host_ns
in_ns h sysctl -qw net.ipv4.ip_forward=1

add_group() { # GROUP BRIDGE ADDR4/LEN GW4
	make_group_ns "$1" >/dev/null
	in_ns h ip link add "pwv$1" type veth peer name eth0 netns "${NS_PREFIX}$1"
	in_ns h ip link set "pwv$1" master "$2" up
	in_ns "$1" ip link set lo up
	in_ns "$1" ip addr add "$3" dev eth0
	in_ns "$1" ip link set eth0 up
	in_ns "$1" ip route add default via "$4"
}
for b in a b; do
	in_ns h ip link add "pw-$b" type bridge
	in_ns h ip link set "pw-$b" up
done
in_ns h ip addr add 10.1.0.1/24 dev pw-a
in_ns h ip addr add 10.2.0.1/24 dev pw-b
add_group a1 pw-a 10.1.0.2/24 10.1.0.1
add_group b1 pw-b 10.2.0.2/24 10.2.0.1
make_group_ns o >/dev/null
in_ns h ip link add up0 type veth peer name eth0 netns "${NS_PREFIX}o"
in_ns h ip addr add 192.0.2.1/24 dev up0
in_ns h ip link set up0 up
in_ns o ip addr add 192.0.2.2/24 dev eth0
in_ns o ip link set eth0 up

in_ns h "$DRIVER" watch 55 pw-a,10.1.0.0/24 pw-b,10.2.0.0/24 >"$T/watch.out" 2>"$T/watch.log" &
track_pid $!
for _ in $(seq 100); do
	grep -q watching "$T/watch.out" && break
	sleep 0.1
done
grep -q watching "$T/watch.out" || fail "the watcher did not start: $(cat "$T/watch.log")"

restores() { grep -c restored "$T/watch.out" || true; }
# wait_restored N: the Nth restore within a second, and the tables back.
wait_restored() {
	local start=$(date +%s%N)
	while [ "$(restores)" -lt "$1" ] || [ "$(in_ns h "$DRIVER" exists)" != 1 ]; do
		[ $(($(date +%s%N) - start)) -lt 1000000000 ] || fail "tables not restored within 1 s"
		sleep 0.02
	done
	log "restored after $((($(date +%s%N) - start) / 1000000)) ms"
}
log "the tables isolate and masquerade"
ping_fails a1 10.2.0.2
ping_ok a1 192.0.2.2

log "nft flush ruleset: restored within a second"
in_ns h nft flush ruleset
wait_restored 1
ping_fails a1 10.2.0.2
ping_ok a1 192.0.2.2

log "deleting the bridge table: restored"
in_ns h nft delete table bridge podwire
wait_restored 2

log "flushing a set: restored"
in_ns h nft flush set inet podwire bridges
wait_restored 3
ping_fails a1 10.2.0.2

log "deleting a rule: restored"
handle=$(in_ns h nft -a list chain inet podwire postrouting | awk '/masq4/ { print $NF; exit }')
in_ns h nft delete rule inet podwire postrouting handle "$handle"
wait_restored 4
ping_ok a1 192.0.2.2

log "someone else's table changing is not our business"
in_ns h nft add table inet other
in_ns h nft delete table inet other
sleep 0.3
assert_eq "$(restores)" 4 "restores after another table changed"
log "ok"
