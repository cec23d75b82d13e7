#!/usr/bin/env bash
# podwire-netd's memory follows its groups down: after 500 groups (each
# publishing a port) are attached and all detached again, netd's VmRSS is
# within 10% (+ 256 KiB) of what it was before. Before the fix, freed heap
# stayed with the process (glibc kept it below a chunk still in use, and
# the per-port counts and hash buckets were never freed), so RSS stayed at
# its peak.
#
# Measured on the plain (-O2) build: under AddressSanitizer freed memory
# waits in its quarantine (256 MiB by default) on purpose, and its shadow
# and bookkeeping stay after that, so RSS there says nothing about netd.
# The plain build is PODWIRE_PLAIN_BUILD, else the test build's directory
# without its "-asan" suffix (make check builds build/ and then
# build-asan/), else build/ beside it; without one the test is skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

N=500
# What may stay besides 10%: pages of code and data first touched by the
# attaches (file-backed; about 60 KiB measured), the stack's deepest use
# and glibc's per-size caches of freed chunks. 500 groups take about
# 1.5 MiB, so a kept KiB per group would still exceed it.
SLACK_KIB=256

plain=${PODWIRE_PLAIN_BUILD:-}
if [ -z "$plain" ]; then
	for dir in "${PODWIRE_BUILD%-asan}" "$PODWIRE_BUILD/../build"; do
		if [ -x "$dir/podwire-netd" ] && ! grep -q libasan <<<"$(ldd "$dir/podwire-netd")"; then
			plain=$(cd "$dir" && pwd)
			break
		fi
	done
fi
if [ -z "$plain" ] || [ ! -x "$plain/podwire-netd" ]; then
	log "SKIP: no plain (non-sanitizer) build of podwire-netd found beside $PODWIRE_BUILD" \
		"(set PODWIRE_PLAIN_BUILD)"
	exit 0
fi
if grep -q libasan <<<"$(ldd "$plain/podwire-netd")"; then
	fail "PODWIRE_PLAIN_BUILD=$plain is a sanitizer build"
fi
log "measuring $plain/podwire-netd"

make_host_ns
BIN=$plain start_netd --log-level info
pw vnet create mem --subnet 10.1.0.0/22 >/dev/null
for i in $(seq $N); do echo "netns add ${NS_PREFIX}s$i"; done >"$T/netns.batch"
ip -batch "$T/netns.batch"
# One ip for all of them (lib.sh's cleanup would run two per netns).
delete_group_netns() {
	local k
	for k in $(seq $N); do echo "netns del ${NS_PREFIX}s$k"; done >"$T/netns-del.batch"
	ip -force -batch "$T/netns-del.batch"
}
on_cleanup delete_group_netns

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$NETD_PID/status"; }
# calls METHOD FIRST LAST: attach (with a published port) or detach groups
# sFIRST..sLAST over one connection.
calls() {
	"$PY" - "$RUN_DIR/netd.sock" "$NS_PREFIX" "$@" <<'PYEOF'
import json, socket, sys
path, prefix, method, first, last = sys.argv[1:6]
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rwb")
for i in range(int(first), int(last) + 1):
    params = {"id": "s%d" % i}
    if method == "group.attach":
        params.update(netns="/run/netns/%ss%d" % (prefix, i), vnets=["mem"],
                      ports=["%d:80" % (20000 + i)])
    f.write((json.dumps({"id": i, "method": method, "params": params}) + "\n").encode())
    f.flush()
    rep = json.loads(f.readline())
    if "error" in rep:
        sys.exit("%s s%d: %s" % (method, i, rep["error"]))
PYEOF
}

# One group first, so that "before" includes the code and data any attach
# touches once (libnl's veth module, the port counts...).
calls group.attach 1 1 || fail "warm-up attach"
calls group.detach 1 1 || fail "warm-up detach"
sleep 0.5
before=$(rss_kib)
calls group.attach 1 $N || fail "attach"
peak=$(rss_kib)
calls group.detach 1 $N || fail "detach"
assert_eq "$(pw group ls --json)" "[]" "groups left"
limit=$((before * 110 / 100 + SLACK_KIB))
# netd gives the heap back 200 ms after detaches stop (netd/heap-trim.c).
for _ in $(seq 30); do
	after=$(rss_kib)
	[ "$after" -le "$limit" ] && break
	sleep 0.1
done
log "VmRSS before ${before} KiB, with $N groups ${peak} KiB, after detaching all ${after} KiB (limit ${limit} KiB)"
# The measurement means something only if the groups took memory.
[ $((peak - before)) -ge 512 ] || fail "$N groups took only $((peak - before)) KiB: nothing to measure"
[ "$after" -le "$limit" ] ||
	fail "netd kept memory after detaching all: VmRSS ${after} KiB > ${limit} KiB (before: ${before} KiB)"
log "ok"
