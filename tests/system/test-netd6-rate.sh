#!/usr/bin/env bash
# Per-group rate limits (netd/bandwidth.c, through tests/system/bw-driver):
# a group limited to 10mbit out and 20mbit in gets within 10% of those, as
# iperf3 measures between two groups on one bridge; another group is not
# slowed; removing the limits removes the qdiscs and the ifb.
. "$(dirname "$0")/lib.sh"

BW=$BIN/tests/bw-driver
[ -x "$BW" ] || fail "$BW is not built (make $BIN/tests/bw-driver)"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (scripts/deps.sh)"

make_host_ns
in_ns h ip link add pw-a type bridge
in_ns h ip addr add 10.1.0.1/24 dev pw-a
in_ns h ip link set pw-a up
add_group() { # GROUP ADDR/LEN
	make_group_ns "$1" >/dev/null
	in_ns h ip link add "pwv$1" type veth peer name eth0 netns "${NS_PREFIX}$1"
	in_ns h ip link set "pwv$1" master pw-a up
	in_ns "$1" ip link set lo up
	in_ns "$1" ip addr add "$2" dev eth0
	in_ns "$1" ip link set eth0 up
}
add_group a1 10.1.0.2/24
add_group a2 10.1.0.3/24
add_group a3 10.1.0.4/24

in_ns a2 iperf3 -s -p 5201 >"$T/iperf-server.log" 2>&1 &
track_pid $!
# kbit/s received (TCP payload), as the receiving end measures it:
# rate CLIENT [-R]
rate() {
	local out
	for _ in $(seq 20); do # the server may still be starting
		if out=$(in_ns "$1" iperf3 -c 10.1.0.3 -p 5201 -t 3 -O 1 -J "${@:2}" 2>/dev/null); then
			echo "$out" | jq '.end.sum_received.bits_per_second / 1e3 | floor'
			return
		fi
		sleep 0.2
	done
	fail "iperf3 from $1 did not run"
}
within() { # MEASURED(kbit/s) TARGET(mbit/s) WHAT: within 10%
	[ "$1" -ge $(($2 * 900)) ] && [ "$1" -le $(($2 * 1100)) ] ||
		fail "$3: $1 kbit/s, want $2 mbit/s +- 10%"
	log "$3: $1 kbit/s (limit $2 mbit/s)"
}

assert_eq "$($BW parse 100mbit)" 100000000 "parse 100mbit"
assert_eq "$($BW parse 1.5gbit)" 1500000000 "parse 1.5gbit"
assert_eq "$($BW parse 10kbps)" 80000 "parse 10kbps"
must_fail "$BW" parse 10furlongs >/dev/null
must_fail "$BW" parse 1bit >/dev/null

log "a limit on a1: 20mbit in, 10mbit out"
in_ns h "$BW" apply pwva1 20mbit 10mbit
in_ns h "$BW" apply pwva1 20mbit 10mbit # again: the same
within "$(rate a1)" 10 "a1 sending (egress limit)"
within "$(rate a1 -R)" 20 "a1 receiving (ingress limit)"
unlimited=$(rate a3)
[ "$unlimited" -gt 100000 ] || fail "a3 (no limit) only got $unlimited kbit/s"
log "a3 unlimited: $unlimited kbit/s"

log "changing the limit"
in_ns h "$BW" apply pwva1 0 30mbit
within "$(rate a1)" 30 "a1 sending after a change"
[ -z "$(in_ns h tc qdisc show dev pwva1 root | grep tbf)" ] || fail "tbf left on pwva1"

log "removing the limits: no qdisc, no ifb"
in_ns h "$BW" remove pwva1
in_ns h "$BW" remove pwva1
[ -z "$(in_ns h ip -o link show | grep pwba1)" ] || fail "ifb pwba1 left behind"
[ -z "$(in_ns h tc qdisc show dev pwva1 | grep -E 'tbf|ingress')" ] || fail "qdisc left on pwva1"
[ "$(rate a1)" -gt 100000 ] || fail "a1 still limited after remove"

log "a veth deleted with its limit: remove still deletes the ifb"
in_ns h "$BW" apply pwva3 0 10mbit
in_ns h ip link del pwva3
in_ns h "$BW" remove pwva3
[ -z "$(in_ns h ip -o link show | grep pwba3)" ] || fail "ifb pwba3 left behind"
log "ok"
