#!/usr/bin/env bash
# Forwarding: a name no VNet owns is answered by the upstream (a dnsmasq
# started in the test's host netns; the loopback stub in resolv.conf is
# skipped), with the client's case; it is served from the cache when that
# upstream is stopped, negative answers too (RFC 2308, from the SOA);
# a silent upstream times out and the next one answers; identical
# questions in flight go upstream once; SERVFAIL when every upstream fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"

make_host_ns
in_ns h ip addr add 192.0.2.53/32 dev lo
in_ns h ip addr add 192.0.2.54/32 dev lo
in_ns h ip addr add 192.0.2.99/32 dev lo

# The upstream: dnsmasq answering fwd.example on .53, and authoritative for
# neg.example on .54 (so its NXDOMAIN carries an SOA).
ip netns exec "$HOST_NS" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address=192.0.2.53 --listen-address=192.0.2.54 --port=53 \
	--local-ttl=600 --address=/fwd.example/198.51.100.7 \
	--auth-server=ns.neg.example,192.0.2.54 --auth-zone=neg.example --auth-ttl=600 \
	--pid-file= --log-facility=- >>"$T/dnsmasq.log" 2>&1 &
DNSMASQ_PID=$!
track_pid $DNSMASQ_PID
# A silent upstream: takes queries and never answers.
ip netns exec "$HOST_NS" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.99", 53))
time.sleep(600)' &
track_pid $!
for _ in $(seq 50); do
	in_ns h dig +time=1 +tries=1 +short @192.0.2.53 www.fwd.example | grep -q 198.51.100.7 && break
	sleep 0.1
done

printf 'nameserver 127.0.0.53\nnameserver 192.0.2.53\n' >"$T/resolv.conf"
start_netd
start_dnsd --upstream-timeout 1000

pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
pw vnet create neg --subnet 10.3.0.0/24 --dns 192.0.2.54 >/dev/null
pw vnet create fo --subnet 10.4.0.0/24 --dns 192.0.2.99,192.0.2.53 >/dev/null
pw vnet create dead --subnet 10.5.0.0/24 --dns 192.0.2.99 >/dev/null
for g in web:prod n1:neg f1:fo d1:dead; do
	ns=$(make_group_ns "${g%%:*}")
	pw group attach "${g%%:*}" --netns "$ns" --vnet "${g##*:}" >/dev/null
done
wait_answer web 10.1.0.1 web.prod.internal A 10.1.0.2

log "forwarded to the host's upstream, case kept"
assert_eq "$(q web 10.1.0.1 www.fwd.example)" 198.51.100.7 "forwarded answer"
answer=$(in_ns web dig +time=2 +tries=1 +noall +answer @10.1.0.1 WwW.FwD.eXample)
assert_contains "$answer" "WwW.FwD.eXample." "0x20 case preserved"
hits=$(dnsd_stat '["cache"]["hits"]')
assert_eq "$(q web 10.1.0.1 www.fwd.example)" 198.51.100.7 "again"
assert_eq "$(dnsd_stat '["cache"]["hits"]')" $((hits + 1)) "second answer from the cache"

log "negative answers are cached from the SOA"
assert_eq "$(qstatus n1 10.3.0.1 nothing.neg.example)" NXDOMAIN "upstream NXDOMAIN"

log "a silent upstream times out, the next one answers"
timeouts=$(dnsd_stat '["upstream"]["timeouts"]')
assert_eq "$(q f1 10.4.0.1 fail.fwd.example)" 198.51.100.7 "answer after fail-over"
[ "$(dnsd_stat '["upstream"]["timeouts"]')" -gt "$timeouts" ] || fail "no timeout counted"

log "identical questions in flight go upstream once; all get SERVFAIL"
queries=$(dnsd_stat '["upstream"]["queries"]')
for i in 1 2 3 4 5; do
	(qstatus d1 10.5.0.1 same.fwd.example A +time=6 >"$T/dead.$i") &
done
for _ in $(seq 100); do
	[ "$(cat "$T"/dead.* 2>/dev/null | grep -c SERVFAIL)" -eq 5 ] && break
	sleep 0.1
done
assert_eq "$(cat "$T"/dead.* | sort | uniq -c | awk '{print $1, $2}')" "5 SERVFAIL" "all five SERVFAIL"
assert_eq "$(dnsd_stat '["upstream"]["queries"]')" $((queries + 1)) "one upstream question"
[ "$(dnsd_stat '["upstream"]["joined"]')" -ge 4 ] || fail "joined not counted"

log "upstream stopped: cached answers still served"
kill -TERM $DNSMASQ_PID
wait $DNSMASQ_PID 2>/dev/null || true
in_ns h dig +time=1 +tries=1 @192.0.2.53 www.fwd.example >/dev/null 2>&1 &&
	fail "dnsmasq still answers"
assert_eq "$(q web 10.1.0.1 www.fwd.example)" 198.51.100.7 "cached positive answer"
assert_eq "$(qstatus n1 10.3.0.1 nothing.neg.example)" NXDOMAIN "cached negative answer"
assert_eq "$(qstatus web 10.1.0.1 uncached.fwd.example A +time=4)" SERVFAIL "uncached: SERVFAIL"
# Local names do not depend on any upstream.
assert_eq "$(q web 10.1.0.1 web)" 10.1.0.2 "local names"

pw stats dns >"$T/stats.txt"
assert_contains "$(cat "$T/stats.txt")" "Cache:" "stats dns table"
log "ok"
