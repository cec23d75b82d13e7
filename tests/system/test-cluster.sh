#!/usr/bin/env bash
# Cluster membership of podwire-netd (netd/cluster.c, issue 13, stage 1):
# three "hosts" a, b, c are netns on an underlay switch (vxlan-lib.sh),
# each running one member of a 3-member etcd cluster and one netd with
# --cluster-etcd, private run and state dirs. Checks: bad cluster options
# are refused with one line; a netd without them has no cluster; every
# host registers on a lease and sees the three (status, --json); a second
# netd using a registered host name is refused and changes nothing; a netd
# killed with -9 and restarted within the TTL takes its lease back (no
# duplicate host, same lease); a host whose netd stays dead disappears from
# the others after its lease; with one etcd member down all stay
# registered; with two of three down, local VNet operations still answer
# at once and status reports the failure; once they are back the hosts
# register again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"
. "$(dirname "$0")/vxlan-lib.sh"

command -v etcd >/dev/null || fail "etcd is not installed (scripts/deps.sh installs etcd-server)"
VX_PREFIX=$NS_PREFIX

HOSTS=(a b c)
ALL=http://192.168.77.1:2379,http://192.168.77.2:2379,http://192.168.77.3:2379
CLUSTER=m1=http://192.168.77.1:2380,m2=http://192.168.77.2:2380,m3=http://192.168.77.3:2380
declare -A ETCD_PID NETD

num() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac; }

start_member() { # HOST: its etcd member (data dir survives a stop)
	local h=$1 n ip
	n=$(num "$h")
	ip=$(vx_vtep "$n")
	# ip netns exec itself (not a shell function) so $! is etcd's PID.
	ip netns exec "$VX_PREFIX$h" etcd --name "m$n" --data-dir "$T/m$n.etcd" \
		--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$CLUSTER" --initial-cluster-token "$NS_PREFIX" \
		--initial-cluster-state new --logger zap --log-level warn \
		>>"$T/etcd-m$n.out" 2>&1 &
	ETCD_PID[$h]=$!
	track_pid "${ETCD_PID[$h]}"
}

stop_member() { # HOST: kill -9, as a crash
	kill -KILL "${ETCD_PID[$1]}" 2>/dev/null || true
	wait "${ETCD_PID[$1]}" 2>/dev/null || true
}

start_host_netd() { # HOST [EXTRA ARGS]
	local h=$1 n
	shift
	n=$(num "$h")
	mkdir -p "$T/run-$h" "$T/state-$h"
	ip netns exec "$VX_PREFIX$h" "$BIN/podwire-netd" --run-dir "$T/run-$h" --state-dir "$T/state-$h" \
		--log-level debug --cluster-etcd "$ALL" --host-name "$h" \
		--underlay "$(vx_vtep "$n")" "$@" >>"$T/netd-$h.log" 2>&1 &
	NETD[$h]=$!
	track_pid "${NETD[$h]}"
	wait_socket "$T/run-$h/netd.sock"
}

kill9_host_netd() {
	kill -KILL "${NETD[$1]}"
	wait "${NETD[$1]}" 2>/dev/null || true
	rm -f "$T/run-$1/netd.sock"
}

pwh() { # HOST ARGS...: the CLI against that host's netd
	local h=$1
	shift
	"$BIN/podwire" --run-dir "$T/run-$h" "$@"
}

status() { pwh "$1" cluster status --json; }

# hosts_seen HOST: the sorted names of the hosts HOST's netd sees.
hosts_seen() { status "$1" | jget '" ".join(sorted(h["name"] for h in d["hosts"]))'; }

wait_for() { # wait_for SECONDS CMD...: polls CMD every 0.2 s
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

sees() { [ "$(hosts_seen "$1")" = "$2" ]; }
registered() { [ "$(status "$1" | jget 'd["registered"] and d["etcd"]["healthy"]')" = true ]; }

log "option checks"
out=$(must_fail "$BIN/podwire-netd" --run-dir "$T/x" --cluster-etcd "$ALL")
assert_eq "$out" "podwire-netd: --cluster-etcd needs --host-name NAME and --underlay ADDR" \
	"--cluster-etcd alone"
out=$(must_fail "$BIN/podwire-netd" --run-dir "$T/x" --cluster-etcd "$ALL" --host-name a \
	--underlay 300.1.1.1)
assert_eq "$out" "podwire-netd: --underlay '300.1.1.1': expected an IPv4 or IPv6 address" \
	"bad underlay"
out=$(must_fail "$BIN/podwire-netd" --run-dir "$T/x" --cluster-etcd "$ALL" --host-name -a- \
	--underlay 192.0.2.1)
[[ $out == "podwire-netd: --host-name: "* ]] || fail "bad host name: $out"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "more than one line: $out"
out=$(must_fail "$BIN/podwire-netd" --run-dir "$T/x" --host-name a)
assert_eq "$out" "podwire-netd: --host-name and --underlay need --cluster-etcd" \
	"--host-name alone"
[ ! -e "$T/x" ] || fail "a refused start created its run dir"

vx_underlay 1500 "${HOSTS[@]}"

log "bad endpoint: refused at start with one line"
vx_ns a "$BIN/podwire-netd" --run-dir "$T/x" --state-dir "$T/xs" --cluster-etcd ftp://x \
	--host-name a --underlay 192.168.77.1 >"$T/bad.out" 2>&1 && fail "ftp:// endpoint accepted"
grep -q "etcd endpoint 'ftp://x': expected http://HOST:PORT" "$T/bad.out" ||
	fail "bad endpoint message: $(cat "$T/bad.out")"

log "a netd without --cluster-etcd has no cluster"
ip netns exec "${VX_PREFIX}a" "$BIN/podwire-netd" --run-dir "$T/run-plain" --state-dir "$T/state-plain" \
	>>"$T/netd-plain.log" 2>&1 &
plain=$!
track_pid $plain
wait_socket "$T/run-plain/netd.sock"
out=$(must_fail "$BIN/podwire" --run-dir "$T/run-plain" cluster status)
assert_eq "$out" "podwire: cluster status: not in a cluster (netd runs without --cluster-etcd)" \
	"status without a cluster"
kill -TERM $plain
wait $plain || fail "plain netd exited with an error"
# Its nft tables live in host a's netns; they go with the netns.

log "etcd and netd started at once on each host: all register"
for h in "${HOSTS[@]}"; do start_member "$h"; done
for h in "${HOSTS[@]}"; do start_host_netd "$h"; done
for h in "${HOSTS[@]}"; do
	wait_for 30 sees "$h" "a b c" || fail "host $h sees '$(hosts_seen "$h")', not 'a b c'"
	wait_for 10 registered "$h" || fail "host $h not registered: $(status "$h")"
done
st=$(status a)
assert_eq "$(jget 'd["host"] + " " + d["underlay"]' <<<"$st")" "a 192.168.77.1" "status host"
assert_eq "$(jget 'd["lease_ttl_s"]' <<<"$st")" 15 "lease TTL"
lease_c=$(status c | jget 'd["lease"]')
[ "$lease_c" -ne 0 ] || fail "host c has no lease"
assert_eq "$(jget '[h["lease"] for h in d["hosts"] if h["name"] == "c"][0]' <<<"$st")" \
	"$lease_c" "host a sees c's lease"
assert_eq "$(jget '[h["underlay"] for h in d["hosts"] if h["name"] == "b"][0]' <<<"$st")" \
	192.168.77.2 "host a sees b's underlay"
human=$(pwh b cluster status)
assert_contains "$human" "Host:       b (underlay 192.168.77.2)" "human status: host"
assert_contains "$human" "Registered: yes, lease $(printf %x "$(status b | jget 'd["lease"]')")" \
	"human status: lease"
assert_contains "$human" "etcd:       healthy, watch connected to http://192.168.77." \
	"human status: etcd"
grep -qE '^b +192\.168\.77\.2 +[0-9a-f]+ +yes$' <<<"$human" || fail "hosts table: $human"
out=$(must_fail pwh a cluster status --bogus)
assert_contains "$out" "unexpected argument '--bogus'" "status usage error"

log "a second netd claiming host name a is refused; a keeps its registration"
ip netns exec "${VX_PREFIX}c" "$BIN/podwire-netd" --run-dir "$T/run-dup" --state-dir "$T/state-dup" \
	--cluster-etcd "$ALL" --host-name a --underlay 192.168.77.3 >>"$T/netd-dup.log" 2>&1 &
dup=$!
track_pid $dup
wait_socket "$T/run-dup/netd.sock"
dup_refused() {
	[[ $("$BIN/podwire" --run-dir "$T/run-dup" cluster status --json |
		jget 'str(d["registered"]) + " " + d["etcd"].get("last_error", "")') == \
		"False register: host name a is held by another netd"* ]]
}
wait_for 15 dup_refused || fail "duplicate host name: $("$BIN/podwire" --run-dir "$T/run-dup" cluster status --json)"
kill -TERM $dup
wait $dup || fail "the refused netd exited with an error"
assert_eq "$(status b | jget '[h["underlay"] for h in d["hosts"] if h["name"] == "a"][0]')" \
	192.168.77.1 "a's record after the refused claim"

log "netd on c killed with -9 and restarted within the TTL: same lease, no duplicate"
kill9_host_netd c
start_host_netd c
wait_for 10 registered c || fail "c not registered again: $(status c)"
assert_eq "$(status c | jget 'd["lease"]')" "$lease_c" "c resumed its lease"
grep -q "cluster: registered host=c underlay=192.168.77.3 lease=$lease_c" "$T/netd-c.log" ||
	fail "c's log does not say it resumed lease $lease_c"
for h in a b c; do
	assert_eq "$(hosts_seen "$h")" "a b c" "hosts seen by $h after c's restart"
done

# local_ops: a local VNet created, a group attached, both removed; prints
# the milliseconds the create and the attach took (netd attaches by netns
# path, so the group's netns needs no relation to host a's).
ns=$(make_group_ns g1)
local_ops() {
	local start_ms ms
	start_ms=$(date +%s%N)
	pwh a vnet create loc1 --subnet 10.77.0.0/24 >/dev/null || fail "local vnet create failed"
	pwh a group attach g1 --netns "$ns" --vnet loc1 >/dev/null || fail "local attach failed"
	ms=$((($(date +%s%N) - start_ms) / 1000000))
	pwh a group detach g1 >/dev/null || fail "local detach failed"
	pwh a vnet delete loc1 >/dev/null || fail "local vnet delete failed"
	echo "$ms"
}
base_ms=$(local_ops)

log "one etcd member down: quorum holds, every host stays registered"
stop_member c
sleep 3
for h in "${HOSTS[@]}"; do
	wait_for 15 registered "$h" || fail "host $h lost its registration with 2 of 3 members: $(status "$h")"
	assert_eq "$(hosts_seen "$h")" "a b c" "hosts seen by $h with 2 of 3 members"
done

log "two of three etcd members down: local VNets unaffected, status says so"
stop_member b
# Keep-alives and the watch now hang on the members left; a netd that
# waited for etcd would take seconds (the 5 s request timeout).
down_ms=$(local_ops)
log "local vnet create + attach: ${base_ms} ms with etcd up, ${down_ms} ms with 2 of 3 members down"
((down_ms < 2 * base_ms + 1000)) || fail "local operations slowed down with etcd down"
start_ms=$(date +%s%N)
status a >/dev/null
ms=$((($(date +%s%N) - start_ms) / 1000000))
((ms < 1000)) || fail "cluster status took $ms ms with etcd down"
# Host a's watch is cut (no leader) or its keep-alives fail: within a
# lease TTL status is unhealthy with an error naming etcd.
wait_for 25 eval '[ "$(status a | jget "d[\"etcd\"][\"healthy\"]")" = false ]' ||
	fail "status still healthy without quorum: $(status a)"
assert_contains "$(status a | jget 'd["etcd"]["last_error"]')" "etcd " "last error names etcd"
log "members back: every host registered again, three hosts, no duplicate"
start_member b
start_member c
for h in "${HOSTS[@]}"; do
	wait_for 40 registered "$h" || fail "host $h not registered after the outage: $(status "$h")"
	wait_for 20 sees "$h" "a b c" || fail "host $h sees '$(hosts_seen "$h")' after the outage"
done

log "netd on b killed and not restarted: the others forget b after its lease"
kill9_host_netd b
start_s=$SECONDS
wait_for 30 sees a "a c" || fail "a still sees '$(hosts_seen a)' 30 s after b died"
wait_for 5 sees c "a c" || fail "c still sees '$(hosts_seen c)'"
log "b gone from the view after $((SECONDS - start_s)) s (TTL 15 s)"
((SECONDS - start_s >= 10)) || fail "b gone after $((SECONDS - start_s)) s: before its lease expired"

log "ok"
