#!/usr/bin/env bash
# Rate limits through the real podwire-netd and CLI (`group attach --rate`,
# `rate` in group.attach): a group limited to 20mbit gets within 10% of it
# each way, as iperf3 measures against another group; an unlimited group is
# not slowed; the limit is back after kill -9 and a restart even if someone
# removed it; detach leaves no ifb; a stray ifb is deleted at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (scripts/deps.sh)"
command -v jq >/dev/null || fail "jq is not installed"

make_host_ns
start_netd
pw vnet create a --subnet 10.1.0.0/24 >/dev/null
pw group attach srv --netns "$(make_group_ns srv)" --vnet a >/dev/null
pw group attach lim --netns "$(make_group_ns lim)" --vnet a --rate 20mbit >/dev/null
pw group attach free --netns "$(make_group_ns free)" --vnet a >/dev/null
assert_eq "$(pw group show lim --json | jget 'd["rate"]')" \
	'{"ingress_bps": 20000000, "egress_bps": 20000000}' "rate in group.show"
pw group show lim | grep -q "receive 20000000 bit/s, send 20000000 bit/s" || fail "rate in show"
lim_if=$(pw group show lim --json | jget 'd["attachments"][0]["host_interface"]')
ifb=pwb${lim_if#pwv}

in_ns srv iperf3 -s -p 5201 >"$T/iperf-server.log" 2>&1 &
track_pid $!
rate() { # CLIENT [-R]: kbit/s received
	local out
	for _ in $(seq 20); do
		if out=$(in_ns "$1" iperf3 -c 10.1.0.2 -p 5201 -t 3 -O 1 -J "${@:2}" 2>/dev/null); then
			echo "$out" | jq '.end.sum_received.bits_per_second / 1e3 | floor'
			return
		fi
		sleep 0.2
	done
	fail "iperf3 from $1 did not run"
}
within() { # MEASURED(kbit/s) TARGET(mbit/s) WHAT
	[ "$1" -ge $(($2 * 900)) ] && [ "$1" -le $(($2 * 1100)) ] ||
		fail "$3: $1 kbit/s, want $2 mbit/s +- 10%"
	log "$3: $1 kbit/s (limit $2 mbit/s)"
}
within "$(rate lim)" 20 "lim sending"
within "$(rate lim -R)" 20 "lim receiving"
unlimited=$(rate free)
[ "$unlimited" -gt 100000 ] || fail "free (no limit) only got $unlimited kbit/s"

log "kill -9, someone removes the limit, restart: the limit is back"
kill9_netd
in_ns h tc qdisc del dev "$lim_if" root
in_ns h ip link add pwb0123456789ab type ifb # a stray ifb of no group
start_netd
within "$(rate lim -R)" 20 "lim receiving after restart"
[ -z "$(in_ns h ip -o link show pwb0123456789ab 2>/dev/null)" ] || fail "stray ifb kept"

log "detach: no qdisc, no ifb"
pw group detach lim
[ -z "$(in_ns h ip -o link show "$ifb" 2>/dev/null)" ] || fail "ifb $ifb left behind"
log "ok"
