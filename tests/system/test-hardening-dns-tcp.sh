#!/usr/bin/env bash
# DNS over TCP cannot be denied by one group (issue 12, item 3): a group on
# VNet A holds 300 slow-loris connections to A's gateway (a byte every half
# second, never a whole query, reconnecting whatever is closed) while a
# client on VNet B and a second client on VNet A still get TCP answers in
# normal time; a connection that sends one byte per second is closed by the
# whole-query deadline although it never goes quiet; the evictions and
# deadline closes show in dnsd's stats.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd
start_dnsd
pw vnet create a --subnet 10.1.0.0/24 >/dev/null
pw vnet create b --subnet 10.2.0.0/24 >/dev/null
att=$(make_group_ns att)
a2=$(make_group_ns a2)
b1=$(make_group_ns b1)
pw group attach att --netns "$att" --vnet a >/dev/null
pw group attach a2 --netns "$a2" --vnet a >/dev/null
pw group attach b1 --netns "$b1" --vnet b >/dev/null
wait_answer a2 10.1.0.1 a2.a.internal A 10.1.0.3
wait_answer b1 10.2.0.1 b1.b.internal A 10.2.0.2

# loris.py SERVER COUNT SECONDS: keeps COUNT connections open for SECONDS,
# each sending one byte every 0.5 s of a query that announces 255 bytes;
# a connection the server closes is replaced. Prints how many it opened.
cat >"$T/loris.py" <<'EOF'
import selectors, socket, sys, time

server, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + seconds
conns = {}  # socket -> bytes sent
opened = closed = 0

def open_one():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((server, 53))
    except BlockingIOError:
        pass
    return s

while time.monotonic() < end:
    while len(conns) < count:
        conns[open_one()] = 0
        opened += 1
    for s in list(conns):
        try:
            data = s.recv(4096)
            if data == b"":
                raise ConnectionResetError
        except BlockingIOError:
            pass
        except OSError:
            pass  # not connected yet, or reset: tried again below
        sent = conns[s]
        byte = b"\x00" if sent == 0 else (b"\xff" if sent == 1 else b"\x00")
        try:
            s.send(byte)
            conns[s] = sent + 1
        except BlockingIOError:
            pass
        except OSError as e:
            if e.errno in (107,):  # ENOTCONN: still connecting
                continue
            del conns[s]
            s.close()
            closed += 1
    time.sleep(0.5)
print("opened", opened, "closed by the server", closed)
EOF

# trickle.py SERVER: one connection sending one byte per second (for up to
# 12 s); prints after how many seconds the server closed it.
cat >"$T/trickle.py" <<'EOF'
import socket, sys, time

s = socket.create_connection((sys.argv[1], 53), timeout=5)
start = time.monotonic()
s.settimeout(1.0)
query = b"\x00\x40" + b"\x00" * 64
for i in range(12):
    try:
        s.send(query[i:i + 1])
        if s.recv(10) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
print("%.1f" % (time.monotonic() - start))
EOF

log "300 slow-loris connections from group att on VNet a"
in_ns att python3 "$T/loris.py" 10.1.0.1 300 18 >"$T/loris.out" 2>&1 &
loris=$!
track_pid $loris
sleep 3

log "a connection trickling one byte per second, from a2"
in_ns a2 python3 "$T/trickle.py" 10.1.0.1 >"$T/trickle.out" 2>&1 &
trickle=$!
track_pid $trickle

# tcp_answer GROUP GW NAME EXPECTED: a TCP answer within 2 s (dig's own
# timeout), measured.
tcp_answer() {
	local start=$(date +%s%N)
	local got
	got=$(in_ns "$1" dig +tcp +time=2 +tries=1 +short "@$2" "$3" A 2>&1) || true
	local ms=$((($(date +%s%N) - start) / 1000000))
	[ "$got" == "$4" ] || fail "TCP query for $3 from $1 during the attack: '$got' after $ms ms"
	echo $ms
}
times=()
for i in 1 2 3 4 5; do
	times+=("b:$(tcp_answer b1 10.2.0.1 b1.b.internal 10.2.0.2)")
	times+=("a:$(tcp_answer a2 10.1.0.1 a2.a.internal 10.1.0.3)")
	sleep 1
done
log "TCP answers during the attack (ms): ${times[*]}"
kill -0 $loris 2>/dev/null || fail "the slow-loris client ended early: $(cat "$T/loris.out")"

wait $trickle || true
closed_after=$(cat "$T/trickle.out")
log "trickling connection closed after ${closed_after} s"
python3 -c "import sys; sys.exit(0 if float('$closed_after') <= 5.5 else 1)" ||
	fail "a connection sending a byte per second stayed open ${closed_after} s (deadline 3 s)"

wait $loris || true
log "slow-loris: $(cat "$T/loris.out")"
evicted=$(dnsd_stat '["tcp_connections"]["evicted_client"]')
deadline=$(dnsd_stat '["tcp_connections"]["query_deadline"]')
log "stats: evicted_client=$evicted query_deadline=$deadline"
[ "$evicted" -gt 0 ] || fail "no eviction counted"
[ "$deadline" -gt 0 ] || fail "no query deadline counted"
# Everything the attacker held is gone once it is.
stat_is() { [ "$(dnsd_stat "$1")" == "$2" ]; }
wait_until stat_is '["tcp_connections"]["open"]' 0
assert_contains "$(pw stats dns)" "TCP conns:" "stats dns shows TCP connections"
log "ok"
