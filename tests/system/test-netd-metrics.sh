#!/usr/bin/env bash
# netd's Prometheus listener (--metrics-listen): a bad or non-loopback
# address is refused with one line and exit 2; GET /metrics on a Unix
# socket, 127.0.0.1 and [::1] answers the text `podwire stats --prometheus`
# prints (same lines, counters aside) with the per-group counters moved by
# the pings sent; 404 / 405 / 400 / 431 for other paths, methods, garbage
# and oversized requests; HEAD and HTTP/1.0 work; clients that connect and
# send nothing (more than the connection limit) neither stop netd's RPCs
# nor the other listeners and are closed after the read timeout; the socket
# file goes away on exit and a stale one is replaced after kill -9.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

PORT=9100
MSOCK=$T/metrics.sock
# From netd/metrics-listener.h.
CONNECTIONS_MAX=16
READ_TIMEOUT_S=5

# Raw HTTP over a Unix socket or TCP (run inside the netns for TCP).
cat >"$T/http.py" <<'EOF'
import selectors, socket, sys, time

def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(addr[5:])
    elif addr.startswith("["):
        host, port = addr[1:].split("]:")
        s = socket.socket(socket.AF_INET6)
        s.connect((host, int(port)))
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    return s

if sys.argv[1] == "raw":
    # raw ADDR: sends stdin, prints all that comes back until the server
    # closes (fails after 10 s).
    s = connect(sys.argv[2])
    s.settimeout(10)
    s.sendall(sys.stdin.buffer.read())
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    sys.stdout.buffer.write(buf)
elif sys.argv[1] == "idle":
    # idle ADDR N READY_FILE [PARTIAL]: opens N connections that send
    # nothing (or only PARTIAL, an incomplete request), writes READY_FILE,
    # then prints for each the seconds until the server closed it (99:
    # not within 20 s, -1: it sent something).
    n = int(sys.argv[3])
    conns = [connect(sys.argv[2]) for _ in range(n)]
    if len(sys.argv) > 5:
        for s in conns:
            s.sendall(sys.argv[5].encode())
    start = time.monotonic()
    with open(sys.argv[4], "w") as f:
        f.write("ready\n")
    sel = selectors.DefaultSelector()
    for i, s in enumerate(conns):
        sel.register(s, selectors.EVENT_READ, i)
    closed = [99.0] * n
    left = n
    while left and time.monotonic() < start + 20:
        for key, _ in sel.select(timeout=0.5):
            try:
                data = key.fileobj.recv(1)
            except OSError:
                data = b""
            closed[key.data] = time.monotonic() - start if data == b"" else -1.0
            sel.unregister(key.fileobj)
            left -= 1
    print(" ".join("%.1f" % c for c in closed))
EOF
http() { "$PY" "$T/http.py" "$@"; }

# Numbers at line ends replaced: the shape of an exposition.
shape() { sed -E 's/ [0-9]+(\.[0-9]+)?$/ N/'; }

log "bad --metrics-listen: exit 2, one line"
for addr in 0.0.0.0:9100 192.0.2.1:9100 '[::]:9100' garbage 127.0.0.1:0 127.0.0.1:http \
	unix:relative/path localhost:9100; do
	rc=0
	"$BIN/podwire-netd" --run-dir "$T/bad-run" --state-dir "$T/bad-state" \
		--metrics-listen "$addr" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
	assert_eq "$rc" 2 "exit code for --metrics-listen $addr"
	assert_eq "$(wc -l <"$T/bad.err")" 1 "one line for $addr: $(cat "$T/bad.err")"
	[[ $(cat "$T/bad.err") == "podwire-netd: --metrics-listen $addr: "* ]] ||
		fail "message for $addr: $(cat "$T/bad.err")"
done
grep -q "not a loopback address" <("$BIN/podwire-netd" --metrics-listen 0.0.0.0:9100 2>&1) ||
	fail "0.0.0.0 refused as not loopback"
[ ! -e "$T/bad-run" ] || fail "a refused option must not start anything"

make_host_ns
start_netd --metrics-listen "unix:$MSOCK" --metrics-listen "127.0.0.1:$PORT" \
	--metrics-listen "[::1]:$PORT"
wait_until grep -q "serving socket=" "$T/netd.log"
[ -S "$MSOCK" ] || fail "no metrics socket"
assert_eq "$(stat -c %a "$MSOCK")" 660 "metrics socket mode"

pw vnet create a --subnet 10.1.0.0/24 >/dev/null
pw group attach a1 --netns "$(make_group_ns a1)" --vnet a >/dev/null
pw group attach a2 --netns "$(make_group_ns a2)" --vnet a >/dev/null

# fetch_unix PATH / fetch_tcp URL: body to $T/body, headers to $T/headers,
# prints the status.
fetch_unix() {
	curl -sS --max-time 10 --unix-socket "$MSOCK" -D "$T/headers" -o "$T/body" \
		-w '%{http_code}' "http://localhost$1"
}
fetch_tcp() {
	in_ns h curl -sS --max-time 10 -D "$T/headers" -o "$T/body" -w '%{http_code}' "$1"
}

log "GET /metrics: counters moved by the pings"
fetch_unix /metrics >/dev/null
tx0=$(sed -n 's/^podwire_group_transmit_bytes_total{group="a1"} //p' "$T/body")
rx0=$(sed -n 's/^podwire_group_receive_bytes_total{group="a2"} //p' "$T/body")
[ -n "$tx0" ] && [ -n "$rx0" ] || fail "no a1/a2 counters in: $(cat "$T/body")"
in_ns a1 ping -c 5 -i 0.2 -s 1000 -W 2 10.1.0.3 >/dev/null || fail "a1 -> a2"

assert_eq "$(fetch_unix /metrics)" 200 "status over the Unix socket"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/headers" ||
	fail "content type: $(cat "$T/headers")"
grep -qi '^Connection: close' "$T/headers" || fail "Connection: close"
tx1=$(sed -n 's/^podwire_group_transmit_bytes_total{group="a1"} //p' "$T/body")
rx1=$(sed -n 's/^podwire_group_receive_bytes_total{group="a2"} //p' "$T/body")
[ $((tx1 - tx0)) -ge 5000 ] || fail "a1 transmit bytes moved by $((tx1 - tx0)), expected >= 5000"
[ $((rx1 - rx0)) -ge 5000 ] || fail "a2 receive bytes moved by $((rx1 - rx0)), expected >= 5000"
grep -q '^podwire_group_transmit_packets_total{group="a1"} [1-9]' "$T/body" ||
	fail "a1 transmit packets"
grep -q '^podwire_vnet_transmit_bytes_total{vnet="a"} [1-9]' "$T/body" || fail "VNet total"
grep -q '^podwire_operation_duration_seconds_count{operation="attach"} 2$' "$T/body" ||
	fail "attach count"

log "the same text as podwire stats --prometheus"
pw stats --prometheus >"$T/cli"
assert_eq "$(shape <"$T/body")" "$(shape <"$T/cli")" "exposition shape vs the CLI"
# Counters only grow: every value of the later CLI text is >= the scrape's.
paste -d' ' <(awk '!/^#/ {print $NF}' "$T/body") <(awk '!/^#/ {print $NF}' "$T/cli") |
	awk '$2 < $1 {exit 1}' || fail "CLI values below the scrape's"

log "the same over 127.0.0.1 and [::1]"
assert_eq "$(fetch_tcp "http://127.0.0.1:$PORT/metrics")" 200 "status over 127.0.0.1"
assert_eq "$(shape <"$T/body")" "$(shape <"$T/cli")" "shape over 127.0.0.1"
assert_eq "$(fetch_tcp "http://[::1]:$PORT/metrics")" 200 "status over [::1]"
assert_eq "$(shape <"$T/body")" "$(shape <"$T/cli")" "shape over [::1]"

log "other paths, methods, garbage"
assert_eq "$(fetch_unix /other)" 404 "other path"
assert_eq "$(fetch_unix /)" 404 "root"
assert_eq "$(fetch_unix '/metrics?x=1')" 200 "query string ignored"
assert_eq "$(curl -sS --unix-socket "$MSOCK" -X POST -d x -D "$T/headers" -o /dev/null \
	-w '%{http_code}' http://localhost/metrics)" 405 "POST"
grep -qi '^Allow: GET, HEAD' "$T/headers" || fail "405 without Allow"
assert_eq "$(curl -sS --unix-socket "$MSOCK" -I -o "$T/head" -w '%{http_code}' \
	http://localhost/metrics)" 200 "HEAD"
grep -qi '^Content-Length: [1-9]' "$T/head" || fail "HEAD Content-Length"
assert_eq "$(curl -sS --unix-socket "$MSOCK" -I -o /dev/null -w '%{http_code}' \
	http://localhost/other)" 404 "HEAD of another path"
reply=$(printf 'GET /metrics HTTP/1.0\r\n\r\n' | http raw "unix:$MSOCK")
assert_contains "$reply" $'HTTP/1.1 200 OK\r\n' "HTTP/1.0 request"
assert_contains "$reply" 'podwire_nftables_restores_total 0' "HTTP/1.0 body"
reply=$(printf 'garbage\r\n\r\n' | http raw "unix:$MSOCK")
assert_contains "$reply" "HTTP/1.1 400 " "garbage"
reply=$(printf 'GET /metrics HTTP/2.0\r\n\r\n' | http raw "unix:$MSOCK")
assert_contains "$reply" "HTTP/1.1 400 " "unsupported version"
reply=$(printf 'GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n' | http raw "unix:$MSOCK")
assert_contains "$reply" "HTTP/1.1 400 " "bad header"
# Garbage without a blank line is answered at once, not after a timeout.
reply=$(printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n' | http raw "unix:$MSOCK")
assert_contains "$reply" "HTTP/1.1 400 " "TLS hello"
reply=$({ printf 'GET /metrics HTTP/1.1\r\n'; head -c 9000 /dev/zero | tr '\0' a; } |
	http raw "unix:$MSOCK")
assert_contains "$reply" "HTTP/1.1 431 " "oversized request"

log "idle clients beyond the connection limit: RPCs and other listeners unaffected"
n=$((CONNECTIONS_MAX + 4))
http idle "unix:$MSOCK" "$n" "$T/ready-unix" >"$T/idle-unix" &
IDLE_UNIX=$!
track_pid $IDLE_UNIX
in_ns h "$PY" "$T/http.py" idle "127.0.0.1:$PORT" 2 "$T/ready-tcp" \
	$'GET /metrics HTTP/1.1\r\nHost: x\r\n' >"$T/idle-tcp" &
IDLE_TCP=$!
track_pid $IDLE_TCP
wait_until test -e "$T/ready-unix"
wait_until test -e "$T/ready-tcp"
pw vnet ls >/dev/null || fail "vnet ls while clients hang"
pw group show a1 --json >/dev/null || fail "group show while clients hang"
pw stats --prometheus >/dev/null || fail "stats while clients hang"
assert_eq "$(fetch_tcp "http://[::1]:$PORT/metrics")" 200 "another listener while clients hang"
wait "$IDLE_UNIX" || fail "idle client (unix)"
wait "$IDLE_TCP" || fail "idle client (tcp)"
log "closed after (s): unix $(cat "$T/idle-unix"); tcp $(cat "$T/idle-tcp")"
refused=0
timed_out=0
for s in $(cat "$T/idle-unix") $(cat "$T/idle-tcp"); do
	if awk -v s="$s" 'BEGIN {exit !(s >= 0 && s < 2)}'; then
		refused=$((refused + 1))
	elif awk -v s="$s" -v t="$READ_TIMEOUT_S" 'BEGIN {exit !(s >= t - 1 && s < t + 4)}'; then
		timed_out=$((timed_out + 1))
	else
		fail "an idle client closed after $s s"
	fi
done
assert_eq "$refused" 4 "clients beyond the limit closed at once"
assert_eq "$timed_out" $((CONNECTIONS_MAX + 2)) "idle clients closed after the read timeout"
assert_eq "$(fetch_unix /metrics)" 200 "the Unix listener serves again"

log "restart: the socket goes on exit; a stale one is replaced after kill -9"
stop_netd
[ ! -e "$MSOCK" ] || fail "metrics socket left after SIGTERM"
args=(--metrics-listen "unix:$MSOCK" --metrics-listen "127.0.0.1:$PORT")
start_netd "${args[@]}"
wait_until test -S "$MSOCK"
kill9_netd
[ -S "$MSOCK" ] || fail "kill -9 should leave the socket file"
start_netd "${args[@]}"
wait_until fetch_unix /metrics
grep -q '^podwire_group_receive_bytes_total{group="a2"} ' "$T/body" ||
	fail "a2 after restart: $(cat "$T/body")"
assert_eq "$(fetch_tcp "http://127.0.0.1:$PORT/metrics")" 200 "TCP after restart"
log "ok"
