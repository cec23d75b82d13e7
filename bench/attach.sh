#!/usr/bin/env bash
# bench/attach.sh N — attach then detach N groups and compare, in one run:
#   podwire (daemon)  netd timed from an in-process client on its socket
#   podwire (CLI)     `podwire group attach|detach`, exec included
#   podwire + port    the daemon again, each group publishing a host port
#   CNI               Debian's containernetworking-plugins bridge (host-local
#                     IPAM, ipMasq) + firewall, exec'd one by one as a CNI
#                     runtime does (ADD: bridge then firewall; DEL reversed)
#   netavark          podman's network backend (Debian's netavark, iptables
#                     driver), `netavark setup|teardown` per container with
#                     its JSON (static address, a published port), as podman
#                     runs it
#   floor             ip -batch, per group: one batch in the host netns
#                     making its veth pair (on the bridge, up), then one in
#                     its netns for its address, lo and default route (two
#                     execs of ip per group; the last row subtracts them)
# Prints p50/p99 per operation and the growth with the number of groups:
# the last 10% of the operations over the first 10%, as a ratio of means and
# as a ratio of medians (a few slow calls from the VM move the means; the
# medians show the trend). Everything happens inside
# throwaway network namespaces; the run dir is on tmpfs (/dev/shm) as /run is
# on a normal host. Needs root; installs its peers with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100}
BUILD=${BUILD:-build}
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 10 ] && [ "$N" -le 16000 ] || {
	echo "usage: bench/attach.sh N   (10 <= N <= 16000)" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || { echo "bench/attach.sh: needs root" >&2; exit 1; }

need=()
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
[ -x /usr/lib/podman/netavark ] || need+=(netavark)
command -v iptables >/dev/null || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
make -s "$BUILD/podwire-netd" "$BUILD/podwire" >&2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

P="pwb$$"
HOST="${P}h"
TMP=$(mktemp -d /tmp/pwbench.XXXXXX)
RUN=$(mktemp -d /dev/shm/pwbench-run.XXXXXX)
NETD_PID=
cleanup() {
	set +e
	[ -n "$NETD_PID" ] && kill "$NETD_PID" 2>/dev/null && wait "$NETD_PID" 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P"); do
		ip netns del "$ns"
	done
	rm -rf "$TMP" "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$HOST"
ip -n "$HOST" link set lo up
for i in $(seq "$N"); do ip netns add "${P}g$i"; done

ip netns exec "$HOST" "$BUILD/podwire-netd" --run-dir "$RUN" --state-dir "$TMP/state" \
	--log-level warn 2>"$TMP/netd.log" &
NETD_PID=$!
for _ in $(seq 200); do [ -S "$RUN/netd.sock" ] && break; sleep 0.05; done
"$BUILD/podwire" --run-dir "$RUN" vnet create bench --subnet 10.77.0.0/16 >/dev/null
ip -n "$HOST" link add flbr0 type bridge
ip -n "$HOST" addr add 10.79.0.1/16 dev flbr0
ip -n "$HOST" link set flbr0 up

ip netns exec "$HOST" "$PY" - "$N" "$P" "$RUN" "$BUILD/podwire" "$TMP" <<'PY'
import json, os, socket, subprocess, sys, time

N, P, RUN, PODWIRE, TMP = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
now = time.perf_counter
ns = lambda i: "/run/netns/%sg%d" % (P, i)
rows = []

def record(name, times):
    xs = sorted(times)
    p = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
    k = max(1, len(times) // 10)
    ratio = (sum(times[-k:]) / k) / (sum(times[:k]) / k)
    med = lambda ys: sorted(ys)[len(ys) // 2]
    rows.append((name, len(times), p(0.5) * 1e3, p(0.99) * 1e3, ratio,
                 med(times[-k:]) / med(times[:k])))
    return p(0.5)

def timed(fn):
    t = now()
    fn()
    return now() - t

def ping_gateway(i, gw):
    subprocess.run(["ip", "netns", "exec", "%sg%d" % (P, i), "ping", "-c1", "-W2", gw],
                   check=True, stdout=subprocess.DEVNULL)

# podwire, daemon side: one connection, each call timed.
s = socket.socket(socket.AF_UNIX)
s.connect(RUN + "/netd.sock")
f = s.makefile("rw")
def rpc(method, params):
    f.write(json.dumps({"id": 1, "method": method, "params": params}) + "\n")
    f.flush()
    reply = json.loads(f.readline())
    if "result" not in reply:
        sys.exit("%s: %s" % (method, reply))
ids = range(1, N + 1)
t_attach = [timed(lambda: rpc("group.attach", {"id": "g%d" % i, "netns": ns(i), "vnets": ["bench"]})) for i in ids]
ping_gateway(1, "10.77.0.1"); ping_gateway(N, "10.77.0.1")
t_detach = [timed(lambda: rpc("group.detach", {"id": "g%d" % i})) for i in ids]
d_attach = record("podwire attach (daemon)", t_attach)
d_detach = record("podwire detach (daemon)", t_detach)
t_attach = [timed(lambda: rpc("group.attach", {"id": "g%d" % i, "netns": ns(i), "vnets": ["bench"],
                                               "ports": ["%d:80" % (20000 + i)]})) for i in ids]
ping_gateway(N, "10.77.0.1")
t_detach = [timed(lambda: rpc("group.detach", {"id": "g%d" % i})) for i in ids]
record("podwire attach +port (daemon)", t_attach)
record("podwire detach +port (daemon)", t_detach)

# podwire through the CLI.
def cli(*args):
    subprocess.run([PODWIRE, "--run-dir", RUN, "group"] + list(args), check=True,
                   stdout=subprocess.DEVNULL)
t_attach = [timed(lambda: cli("attach", "g%d" % i, "--netns", ns(i), "--vnet", "bench")) for i in ids]
ping_gateway(N, "10.77.0.1")
t_detach = [timed(lambda: cli("detach", "g%d" % i)) for i in ids]
c_attach = record("podwire attach (CLI)", t_attach)
record("podwire detach (CLI)", t_detach)

# CNI bridge + host-local + firewall, exec'd as a runtime does.
bridge_conf = {"type": "bridge", "bridge": "cni-bench", "isGateway": True, "ipMasq": True,
               "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.78.0.0/16"}]],
                        "dataDir": TMP + "/cni-ipam"}}
fw_conf = {"type": "firewall", "backend": "iptables"}
def plugin(conf, command, i, prev=None):
    conf = dict(conf, cniVersion="1.0.0", name="bench")
    if prev is not None:
        conf["prevResult"] = prev
    env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID="bench%d" % i,
               CNI_NETNS=ns(i), CNI_IFNAME="eth0", CNI_PATH="/usr/lib/cni")
    out = subprocess.run(["/usr/lib/cni/" + conf["type"]], input=json.dumps(conf).encode(),
                         env=env, capture_output=True)
    if out.returncode != 0:
        sys.exit("CNI %s %s: %s" % (conf["type"], command, out.stdout.decode() + out.stderr.decode()))
    return json.loads(out.stdout) if out.stdout.strip() else None
results = {}
def cni_add(i):
    r1 = plugin(bridge_conf, "ADD", i)
    results[i] = (r1, plugin(fw_conf, "ADD", i, r1))
def cni_del(i):
    r1, r2 = results.pop(i)
    plugin(fw_conf, "DEL", i, r2)
    plugin(bridge_conf, "DEL", i, r1)
t_attach = [timed(lambda: cni_add(i)) for i in ids]
ping_gateway(N, "10.78.0.1")
t_detach = [timed(lambda: cni_del(i)) for i in ids]
cni_attach = record("CNI bridge+firewall ADD", t_attach)
record("CNI bridge+firewall DEL", t_detach)

# netavark (podman's backend) with a published port per container.
NETAVARK = "/usr/lib/podman/netavark"
def nv_conf(i):
    return json.dumps({
        "container_id": "%064x" % i, "container_name": "c%d" % i,
        "networks": {"bench": {"interface_name": "eth0",
                               "static_ips": ["10.80.%d.%d" % ((i + 1) // 256, (i + 1) % 256)]}},
        "network_info": {"bench": {"name": "bench", "id": "b" * 64, "driver": "bridge",
                                   "network_interface": "nvbench0",
                                   "subnets": [{"subnet": "10.80.0.0/16", "gateway": "10.80.0.1"}],
                                   "ipv6_enabled": False, "internal": False, "dns_enabled": False,
                                   "ipam_options": {"driver": "host-local"}}},
        "port_mappings": [{"host_ip": "", "container_port": 80, "host_port": 30000 + i,
                           "range": 1, "protocol": "tcp"}]}).encode()
def netavark(command, i):
    out = subprocess.run([NETAVARK, "--config", TMP + "/netavark", command, ns(i)],
                         input=nv_conf(i), capture_output=True)
    if out.returncode != 0:
        sys.exit("netavark %s: %s" % (command, out.stdout.decode() + out.stderr.decode()))
nv_attach = None
if os.path.exists(NETAVARK):
    os.makedirs(TMP + "/netavark", exist_ok=True)
    t_attach = [timed(lambda: netavark("setup", i)) for i in ids]
    ping_gateway(N, "10.80.0.1")
    t_detach = [timed(lambda: netavark("teardown", i)) for i in ids]
    nv_attach = record("netavark setup (+port)", t_attach)
    record("netavark teardown (+port)", t_detach)

# Floor: ip -batch.
def ip_batch(text, netns=None):
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    subprocess.run(cmd, input=text.encode(), check=True)
def addr(i):
    return "10.79.%d.%d" % ((i + 1) // 256, (i + 1) % 256)
# Per group, as an attach does: a host batch (its veth pair, on the bridge,
# up) then a batch in its netns; both timed, so the kernel's own costs
# that grow with the bridge's ports show in the floor's growth too.
t_host, t_inside = [], []
for i in ids:
    t_host.append(timed(lambda: ip_batch("link add flv%d type veth peer name eth0 netns %sg%d\n"
                                         "link set flv%d master flbr0 up\n" % (i, P, i, i))))
    t_inside.append(timed(lambda: ip_batch("addr add %s/16 dev eth0\nlink set eth0 up\nlink set lo up\n"
                                           "route add default via 10.79.0.1\n" % addr(i),
                                           "%sg%d" % (P, i))))
ping_gateway(N, "10.79.0.1")
t_noop = [timed(lambda: ip_batch("", "%sg%d" % (P, i))) for i in list(ids)[:20]]
t_del = timed(lambda: ip_batch("".join("link del flv%d\n" % i for i in ids))) / N
f_attach = record("floor attach (ip -batch)", [h + t for h, t in zip(t_host, t_inside)])
noop = sorted(t_noop)[len(t_noop) // 2]
record("  of which host batch", t_host)
record("  of which netns batch", t_inside)
rows.append(("  of which ip exec (no-op)", len(t_noop), noop * 1e3, max(t_noop) * 1e3, float("nan"),
             float("nan")))
rows.append(("floor detach (ip -batch)", N, t_del * 1e3, t_del * 1e3, float("nan"), float("nan")))

print("\nbench/attach.sh N=%d (%s, %d CPUs)" % (N, os.uname().release, os.cpu_count()))
print("%-30s %6s %9s %9s %14s %14s" % ("operation", "n", "p50 ms", "p99 ms", "growth (mean)",
                                       "growth (median)"))
fmt = lambda x: "-" if x != x else "%.2f" % x
for name, n, p50, p99, ratio, mratio in rows:
    print("%-30s %6d %9.2f %9.2f %14s %14s" % (name, n, p50, p99, fmt(ratio), fmt(mratio)))
print("growth: last 10%% over first 10%% of the %d operations (target <= 1.3)" % N)
print()
print("CLI attach p50 / CNI ADD p50:            %.3f  (target <= 0.1)" % (c_attach / cni_attach))
if nv_attach:
    print("CLI attach p50 / netavark setup p50:     %.3f  (target <= 0.1)" % (c_attach / nv_attach))
    print("CLI attach p50 / better peer p50:        %.3f  (target <= 0.1)"
          % (c_attach / min(cni_attach, nv_attach)))
print("daemon attach p50 / floor attach p50:    %.2f  (target <= 3)" % (d_attach / f_attach))
# Two no-op execs of ip can take longer than a whole batch (the VM's exec
# time swings): then there is no kernel-only floor to compare with.
if f_attach > 2 * noop:
    print("daemon attach p50 / floor minus ip execs: %.2f" % (d_attach / (f_attach - 2 * noop)))
else:
    print("daemon attach p50 / floor minus ip execs: n/a (two no-op ip execs, %.2f ms, exceed the floor)"
          % (2 * noop * 1e3))
PY
