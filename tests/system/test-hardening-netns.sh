#!/usr/bin/env bash
# group.attach (and CNI ADD through CNI_NETNS) with a netns path that is no
# network namespace: a FIFO (opening one blocks until a writer comes), a
# regular file, a directory, a socket, /dev/null, a mount-namespace file,
# a symlink to a FIFO, a missing path. Each gets one clear error line
# within a second, changes nothing, and netd keeps answering.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"
CNI=$BIN/podwire-cni

make_host_ns
start_netd
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
g1=$(make_group_ns g1)
pw group attach g1 --netns "$g1" --vnet prod >/dev/null

mkdir "$T/bad"
mkfifo "$T/bad/fifo"
ln -s "$T/bad/fifo" "$T/bad/fifo-link"
echo "not a namespace" >"$T/bad/file"
mkdir "$T/bad/dir"
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/bad/socket"

snapshot() {
	pw group ls --json
	host_links
	in_ns h nft list table inet podwire
	(cd "$RUN_DIR/netd" && find . | sort)
}
before=$(snapshot)

# attach_fails NETNS CODE TEXT: group.attach gets an error with that code
# and a message containing TEXT, within a second.
attach_fails() {
	"$PY" - "$RUN_DIR/netd.sock" "$@" <<'EOF' || fail "attach with netns $1"
import json, socket, sys, time
path, netns, code, text = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(1)
start = time.monotonic()
req = {"id": 1, "method": "group.attach", "params": {"id": "bad", "netns": netns, "vnets": ["prod"]}}
s.sendall(json.dumps(req).encode() + b"\n")
try:
    line = s.makefile("rb").readline()
except socket.timeout:
    sys.exit("netns %s: no reply within 1 s" % netns)
error = json.loads(line).get("error") or {}
if error.get("code") != code or text not in error.get("message", "") or "\n" in error["message"]:
    sys.exit("netns %s: expected %s containing %r, got %s" % (netns, code, text, line.decode().strip()))
print("%s -> %s (%.0f ms)" % (netns, error["message"], (time.monotonic() - start) * 1000))
EOF
}

attach_fails "$T/bad/fifo" invalid_params "is not a network namespace (it is a FIFO)"
attach_fails "$T/bad/fifo-link" invalid_params "is not a network namespace (it is a FIFO)"
attach_fails "$T/bad/file" invalid_params "is not a network namespace (it is a regular file)"
attach_fails "$T/bad/dir" invalid_params "is not a network namespace (it is a directory)"
attach_fails "$T/bad/socket" invalid_params "is not a network namespace (it is a socket)"
attach_fails /dev/null invalid_params "is not a network namespace (it is a character device)"
attach_fails /proc/self/ns/mnt invalid_params "is not a network namespace (it is a mount namespace)"
attach_fails /proc/self/ns/uts invalid_params "is not a network namespace (it is a UTS namespace)"
attach_fails "$T/bad/missing" not_found "No such file or directory"

log "CNI ADD with CNI_NETNS naming a FIFO"
conf="{\"cniVersion\":\"1.1.0\",\"name\":\"pwnet\",\"type\":\"podwire\",\"vnet\":\"prod\",\"runDir\":\"$RUN_DIR\"}"
start=$(date +%s%N)
rc=0
out=$(echo "$conf" | timeout 10 env -i PATH="$PATH" CNI_COMMAND=ADD CNI_CONTAINERID=c1 \
	CNI_NETNS="$T/bad/fifo" CNI_IFNAME=eth0 CNI_PATH="$BIN" "$CNI" 2>"$T/cni.err") || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "CNI ADD with a FIFO netns: exit $rc after $ms ms: $out"
[ "$ms" -lt 2000 ] || fail "CNI ADD with a FIFO netns took $ms ms"
assert_contains "$out" "is not a network namespace (it is a FIFO)" "CNI error message"

# Nothing changed; netd still answers and the group still works.
after=$(snapshot)
[ "$before" == "$after" ] || fail "state changed: $(diff <(echo "$before") <(echo "$after"))"
kill -0 "$NETD_PID" || fail "netd died"
assert_eq "$(pw vnet ls --json | jget '[v["name"] for v in d]')" '["prod"]' "netd answers"
ping_ok g1 10.1.0.1
log "ok"
