#!/usr/bin/env bash
# bench/dns.sh — podwire-dnsd against dnsmasq, unbound and aardvark-dns,
# all serving the same names in the same run, measured with dnsperf.
#
#   bench/dns.sh [BUILD_DIR]        (default build; run `make` first)
#   NAMES="1000 10000" DURATION=8 RATE=5000 ROUNDS=3 bench/dns.sh
#
# For each name count it gives every server the same N names
# (gI.bench.internal -> an IPv4 address, with PTRs) and runs one query mix
# against each: 70% hits, 20% in-zone misses (NXDOMAIN), 10% PTR. Figures:
#   qps        dnsperf at full speed (DURATION s, one client thread, 200
#              outstanding), median of ROUNDS
#   cpu/query  the server's CPU time (user+sys, /proc/PID/stat) during the
#              full-speed runs divided by the queries answered
#   qps/core   1e6 / cpu/query: what one core of the server sustains. On a
#              small machine dnsperf (one thread) saturates before a fast
#              server does, so measured qps is capped by the client; this
#              derived figure is the server's own ceiling
#   p50/p99    latency at a fixed RATE qps (dnsperf -v per-query times)
#   rss        the server's VmRSS after the runs
#
# Servers are pinned to CPU 1 and dnsperf to CPU 0 (when there are two or
# more), so they do not compete for one core.
# Everything runs in a throwaway netns (servers on 10.77.0.1-4 on its lo,
# the client on 10.77.0.9); dnsd is fed its names by a stand-in for netd's
# event stream (a snapshot over RUN_DIR/netd.sock, the very protocol dnsd
# reads), since attaching 10,000 real groups would measure veth creation,
# not DNS. aardvark-dns forwards names it does not own (it has no notion of
# an in-zone miss): its misses go to the dnsmasq instance, as under podman.
# Peers are installed with apt-get if missing. Nothing outside the netns
# and a temp dir is touched; all is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
NAMES=${NAMES:-"1000 10000"}
DURATION=${DURATION:-8}
RATE=${RATE:-5000}
ROUNDS=${ROUNDS:-3}
DNSD=$(cd "$BUILD" && pwd)/podwire-dnsd
[ -x "$DNSD" ] || {
	echo "bench: $DNSD not built (run make)" >&2
	exit 1
}

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v unbound >/dev/null || [ -x /usr/sbin/unbound ] || need+=(unbound)
[ -x /usr/lib/podman/aardvark-dns ] || need+=(aardvark-dns)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
AARDVARK=/usr/lib/podman/aardvark-dns

NS="pwbench$$"
T=$(mktemp -d /tmp/pwbench.XXXXXX)
pids=()
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	[ -f "$T/aardvark/aardvark.pid" ] && kill -TERM "$(cat "$T/aardvark/aardvark.pid")" 2>/dev/null
	sleep 0.3
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "/etc/netns/$NS" "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
for a in 10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4 10.77.0.9; do
	ip -n "$NS" addr add "$a/32" dev lo
done
# aardvark-dns forwards its misses to the netns' resolv.conf: dnsmasq.
mkdir -p "/etc/netns/$NS"
echo "nameserver 10.77.0.2" >"/etc/netns/$NS/resolv.conf"
run_ns() { ip netns exec "$NS" "$@"; }
SERVER_CPU=()
CLIENT_CPU=()
if [ "$(nproc)" -ge 2 ]; then
	SERVER_CPU=(taskset -c 1)
	CLIENT_CPU=(taskset -c 0)
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# gen_data N: names, hosts, unbound and aardvark configs, the query mix.
gen_data() {
	python3 - "$1" "$T" <<'EOF'
import json, random, sys
n, t = int(sys.argv[1]), sys.argv[2]
addr = lambda i: "10.77.%d.%d" % (1 + i // 250, 2 + i % 250)
with open(t + "/hosts", "w") as f:
    for i in range(n):
        f.write("%s g%d.bench.internal\n" % (addr(i), i))
with open(t + "/unbound.conf", "w") as f:
    f.write("""server:
    interface: 10.77.0.3
    port: 53
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "%s"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    num-threads: 1
    access-control: 10.0.0.0/8 allow
    do-ip6: no
    so-reuseport: no
    local-zone: "bench.internal." static
    local-zone: "77.10.in-addr.arpa." static
""" % t)
    for i in range(n):
        f.write('    local-data: "g%d.bench.internal. 30 IN A %s"\n' % (i, addr(i)))
        f.write('    local-data-ptr: "%s 30 g%d.bench.internal."\n' % (addr(i), i))
    f.write("remote-control:\n    control-enable: no\n")
with open(t + "/aardvark/bench", "w") as f:
    f.write("10.77.0.4\n")
    f.write("client 10.77.0.9  client\n")
    for i in range(n):
        f.write("c%d %s  g%d\n" % (i, addr(i), i))
snap = {"seq": 1, "zones": [], "records": [],
        "vnets": [{"name": "bench", "subnets": ["10.77.0.0/16"], "gateways": ["10.77.0.1"],
                   "domain": "bench.internal", "dns_servers": ["10.77.0.2"]}],
        "groups": [{"id": "g%d" % i, "hostname": "g%d" % i, "aliases": [],
                    "attachments": [{"vnet": "bench", "addresses": [addr(i)]}]}
                   for i in range(n)]}
with open(t + "/snapshot.json", "w") as f:
    json.dump(snap, f)
rnd = random.Random(1)
with open(t + "/queries", "w") as f:
    for _ in range(100000):
        r = rnd.random()
        i = rnd.randrange(n)
        if r < 0.7:
            f.write("g%d.bench.internal A\n" % i)
        elif r < 0.9:
            f.write("miss%d.bench.internal A\n" % i)
        else:
            a = addr(i).split(".")
            f.write("%s.%s.%s.%s.in-addr.arpa PTR\n" % (a[3], a[2], a[1], a[0]))
EOF
}

# The stand-in for netd's event stream: serves the snapshot to dnsd.
start_feed() {
	python3 - "$T/run/netd.sock" "$T/snapshot.json" <<'EOF' &
import json, os, socket, sys, threading
path, snap = sys.argv[1], open(sys.argv[2]).read()
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(4)
def serve(c):
    f = c.makefile("rw")
    req = json.loads(f.readline())
    f.write('{"id":%d,"result":%s}\n' % (req["id"], snap))
    f.flush()
    while c.recv(100):
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	pids+=($!)
}

wait_answer() { # SERVER NAME EXPECTED
	for _ in $(seq 200); do
		[ "$(run_ns dig +time=1 +tries=1 +short -b 10.77.0.9 "@$1" "$2" 2>/dev/null)" == "$3" ] && return 0
		sleep 0.1
	done
	echo "bench: $1 does not answer $2" >&2
	return 1
}

# measure LABEL PID ADDR: prints one result line.
measure() {
	local label=$1 pid=$2 addr=$3
	local qps_list=() total_q=0 c0 c1
	c0=$(cpu_ticks "$pid")
	for _ in $(seq "$ROUNDS"); do
		out=$(run_ns "${CLIENT_CPU[@]}" dnsperf -s "$addr" -a 10.77.0.9 -d "$T/queries" -l "$DURATION" -q 200 \
			-c 1 -T 1 2>/dev/null)
		qps=$(echo "$out" | awk '/Queries per second/ {print $4}')
		done_q=$(echo "$out" | awk '/Queries completed/ {print $3}')
		lost=$(echo "$out" | awk '/Queries lost/ {print $3}')
		qps_list+=("$qps")
		total_q=$((total_q + done_q))
	done
	c1=$(cpu_ticks "$pid")
	local hz
	hz=$(getconf CLK_TCK)
	local median
	median=$(printf '%s\n' "${qps_list[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	local cpu_us
	cpu_us=$(echo "scale=2; ($c1 - $c0) * 1000000 / $hz / $total_q" | bc)
	# fixed load: per-query latencies
	run_ns "${CLIENT_CPU[@]}" dnsperf -s "$addr" -a 10.77.0.9 -d "$T/queries" -l 4 -Q "$RATE" -c 1 -T 1 -v \
		2>/dev/null >"$T/lat.txt" || true
	local lat
	lat=$(python3 - "$T/lat.txt" <<'EOF'
import sys
v = []
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) >= 5 and p[0] == ">":
        try:
            v.append(float(p[-1]))
        except ValueError:
            pass
v.sort()
if not v:
    print("- -")
else:
    print("%.0f %.0f" % (v[len(v) // 2] * 1e6, v[min(len(v) - 1, int(len(v) * 0.99))] * 1e6))
EOF
)
	local per_core
	per_core=$(echo "scale=0; 1000000 / $cpu_us" | bc 2>/dev/null || echo -)
	printf '%-14s %10.0f %10s %10s %8s %8s %8s %6s\n' "$label" "$median" "$cpu_us" \
		"$per_core" "${lat% *}" "${lat#* }" "$(( $(rss_kib "$pid") / 1024 ))" "$lost"
	echo "$label $median $cpu_us" >>"$T/results"
}

for n in $NAMES; do
	rm -rf "$T/run" "$T/aardvark"
	mkdir -p "$T/run" "$T/aardvark"
	: >"$T/results"
	gen_data "$n"
	pids_before=${#pids[@]}

	ip netns exec "$NS" "${SERVER_CPU[@]}" /usr/sbin/dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
		--listen-address=10.77.0.2 --port=53 --addn-hosts="$T/hosts" \
		--local=/bench.internal/ --local-ttl=30 --cache-size=10000 --log-facility=- \
		>"$T/dnsmasq.log" 2>&1 &
	dnsmasq_pid=$!
	pids+=($dnsmasq_pid)
	ip netns exec "$NS" "${SERVER_CPU[@]}" /usr/sbin/unbound -d -c "$T/unbound.conf" >"$T/unbound.log" 2>&1 &
	unbound_pid=$!
	pids+=($unbound_pid)
	run_ns "${SERVER_CPU[@]}" "$AARDVARK" --config "$T/aardvark" -p 53 -f .bench.internal run >"$T/aardvark.log" 2>&1 || true
	start_feed
	ip netns exec "$NS" "${SERVER_CPU[@]}" "$DNSD" --run-dir "$T/run" --resolv-conf /dev/null --log-level warn \
		>"$T/dnsd.log" 2>&1 &
	dnsd_pid=$!
	pids+=($dnsd_pid)

	wait_answer 10.77.0.1 g7.bench.internal 10.77.1.9
	wait_answer 10.77.0.2 g7.bench.internal 10.77.1.9
	wait_answer 10.77.0.3 g7.bench.internal 10.77.1.9
	wait_answer 10.77.0.4 g7.bench.internal 10.77.1.9
	aardvark_pid=$(cat "$T/aardvark/aardvark.pid")

	echo
	echo "== $n names: ${DURATION}s x $ROUNDS full-speed runs, latency at $RATE qps (us), RSS MiB"
	printf '%-14s %10s %10s %10s %8s %8s %8s %6s\n' server qps cpu_us/q qps/core p50_us \
		p99_us rss_MiB lost
	measure podwire-dnsd "$dnsd_pid" 10.77.0.1
	measure dnsmasq "$dnsmasq_pid" 10.77.0.2
	measure unbound "$unbound_pid" 10.77.0.3
	measure aardvark-dns "$aardvark_pid" 10.77.0.4
	python3 - "$T/results" <<'EOF'
import sys
r = {l.split()[0]: (float(l.split()[1]), float(l.split()[2])) for l in open(sys.argv[1])}
d = r.pop("podwire-dnsd")
best = max(r.items(), key=lambda kv: kv[1][0])
print("podwire-dnsd vs best peer (%s): %.2fx measured qps (client-bound), "
      "%.2fx qps/core, %.2fx cpu/query" %
      (best[0], d[0] / best[1][0], best[1][1] / d[1], d[1] / best[1][1]))
EOF

	kill -TERM "$dnsd_pid" "$dnsmasq_pid" "$unbound_pid" "$aardvark_pid" 2>/dev/null || true
	kill -TERM "${pids[@]:$pids_before}" 2>/dev/null || true
	wait "$dnsd_pid" "$dnsmasq_pid" "$unbound_pid" 2>/dev/null || true
	rm -f "$T/run/netd.sock"
done
