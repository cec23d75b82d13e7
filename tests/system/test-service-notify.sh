#!/usr/bin/env bash
# The daemons as systemd Type=notify services (dist/systemd/): each sends
# READY=1 to $NOTIFY_SOCKET only once its control socket accepts
# connections; SIGHUP (systemctl reload) makes dnsd re-read the host's
# upstreams from resolv.conf between RELOADING=1 and READY=1, and leaves
# netd and volumed running; SIGTERM ends each with STOPPING=1. The notify
# socket is a small listener standing in for systemd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"

# notify_listen NAME SOCKET_TO_CHECK: a datagram socket at $T/NAME.notify;
# each message becomes one line of $T/NAME.msgs, with " socket=yes" when
# SOCKET_TO_CHECK existed as it arrived.
notify_listen() {
	python3 - "$T/$1.notify" "$2" "$T/$1.msgs" <<'PY' &
import os, socket, sys
path, check, out = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
while True:
    msg = s.recv(4096).decode().strip().replace("\n", " ")
    sock = " socket=yes" if os.path.exists(check) else " socket=no"
    with open(out, "a") as f:
        f.write(msg + sock + "\n")
PY
	track_pid $!
	for _ in $(seq 100); do
		[ -S "$T/$1.notify" ] && return 0
		sleep 0.05
	done
	fail "notify listener $1 did not start"
}

# wait_msg NAME PATTERN [COUNT]: until COUNT (default 1) lines of NAME's
# messages match PATTERN (up to ~10 s).
wait_msg() {
	local count=${3:-1}
	for _ in $(seq 200); do
		[ "$(grep -c -E "$2" "$T/$1.msgs" 2>/dev/null)" -ge "$count" ] && return 0
		sleep 0.05
	done
	fail "$1: no '$2' (x$count) from the daemon; got: $(cat "$T/$1.msgs" 2>/dev/null)"
}

make_host_ns
in_ns h ip addr add 192.0.2.53/32 dev lo
in_ns h ip addr add 192.0.2.54/32 dev lo
# Two upstreams that answer the same name differently.
for u in 53:198.51.100.1 54:198.51.100.2; do
	ip netns exec "$HOST_NS" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
		--listen-address=192.0.2.${u%%:*} --port=53 --address=/up.example/${u##*:} \
		--pid-file= --log-facility=- >>"$T/dnsmasq.log" 2>&1 &
	track_pid $!
done
for a in 53 54; do
	for _ in $(seq 50); do
		in_ns h dig +time=1 +tries=1 +short @192.0.2.$a x.up.example | grep -q 198 && break
		sleep 0.1
	done
done
printf 'nameserver 192.0.2.53\n' >"$T/resolv.conf"

log "READY=1 once the control socket is there"
notify_listen netd "$RUN_DIR/netd.sock"
NOTIFY_SOCKET=$T/netd.notify
export NOTIFY_SOCKET
start_netd
wait_msg netd '^READY=1 STATUS=serving .* socket=yes$'
notify_listen dnsd "$RUN_DIR/dnsd.sock"
NOTIFY_SOCKET=$T/dnsd.notify start_dnsd
wait_msg dnsd '^READY=1 STATUS=serving socket=yes$'
notify_listen volumed "$RUN_DIR/volumed.sock"
NOTIFY_SOCKET=$T/volumed.notify start_volumed
wait_msg volumed '^READY=1 STATUS=serving socket=yes$'
export -n NOTIFY_SOCKET
unset NOTIFY_SOCKET

pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
ns=$(make_group_ns web)
pw group attach web --netns "$ns" --vnet prod >/dev/null
wait_answer web 10.1.0.1 web.prod.internal A 10.1.0.2
assert_eq "$(q web 10.1.0.1 one.up.example)" 198.51.100.1 "forwarded to the first upstream"

log "SIGHUP: dnsd re-reads resolv.conf"
printf 'nameserver 192.0.2.54\n' >"$T/resolv.conf"
kill -HUP "$DNSD_PID"
wait_msg dnsd '^RELOADING=1'
wait_msg dnsd '^READY=1' 2
assert_eq "$(grep -E '^(RELOADING|READY)' "$T/dnsd.msgs" | cut -d' ' -f1 | tr '\n' ' ')" \
	"READY=1 RELOADING=1 READY=1 " "reload messages in order"
assert_eq "$(q web 10.1.0.1 two.up.example)" 198.51.100.2 "forwarded to the new upstream"
grep -q "host upstreams from $T/resolv.conf count=1" "$T/dnsd.log" || fail "reload not logged"

log "SIGHUP: an unreadable resolv.conf keeps the upstreams dnsd has"
mv "$T/resolv.conf" "$T/resolv.conf.away"
kill -HUP "$DNSD_PID"
wait_msg dnsd '^READY=1' 3
assert_eq "$(q web 10.1.0.1 three.up.example)" 198.51.100.2 "upstream kept"
grep -q "keeping the host upstreams read before" "$T/dnsd.log" || fail "no warning"
mv "$T/resolv.conf.away" "$T/resolv.conf"

log "SIGHUP: netd and volumed keep serving"
kill -HUP "$NETD_PID" "$VOLUMED_PID"
sleep 0.3
kill -0 "$NETD_PID" 2>/dev/null || fail "netd died of SIGHUP"
kill -0 "$VOLUMED_PID" 2>/dev/null || fail "volumed died of SIGHUP"
pw group show web --json >/dev/null || fail "netd does not answer after SIGHUP"
pw share ls >/dev/null || fail "volumed does not answer after SIGHUP"

log "SIGTERM: STOPPING=1, then a clean exit"
for d in dnsd volumed netd; do
	pid_var=${d^^}_PID
	kill -TERM "${!pid_var}"
	wait "${!pid_var}" || fail "$d exited with $?"
	wait_msg $d '^STOPPING=1'
done
