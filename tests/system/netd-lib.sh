# Helpers for the netd system tests (tests/system/test-netd-*.sh); source
# after lib.sh. Only functions.

# Debian's python3: a pyenv or similar shim in PATH can cost a second per
# start, and the tests start it often.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# jget EXPR: evaluates a Python expression over the JSON document on stdin
# (bound to d) and prints the result (strings bare, the rest as JSON).
jget() {
	"$PY" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# rpc_raw [N]: sends stdin as-is to netd.sock and prints the reply lines
# until N of them (default 1) came, the connection closed, or 10 s passed.
rpc_raw() {
	"$PY" -c '
import socket, sys, time
want = int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
deadline = time.monotonic() + 10
buf = b""
while buf.count(b"\n") < want and time.monotonic() < deadline:
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    buf += chunk
sys.stdout.write(buf.decode())' "$RUN_DIR/netd.sock" "${1:-1}"
}

# rpc METHOD PARAMS_JSON: one call, prints the reply line.
rpc() {
	printf '{"id":1,"method":"%s","params":%s}\n' "$1" "${2:-{\}}" | rpc_raw
}

# The kernel objects a user would notice in the host netns: podwire links
# (name, master, state) and their addresses, one per line, sorted.
host_links() {
	in_ns h ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^pw' | sort || true
}
host_addrs() {
	in_ns h ip -o addr show scope global | awk '$2 ~ /^pw/ {print $2, $4}' | sort || true
}

# wait_until CMD...: polls CMD (up to ~10 s).
wait_until() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "timed out waiting for: $*"
}

# kill -9 of netd; its socket file stays behind, as after a real crash, and
# is removed here so start_netd waits for the new one.
kill9_netd() {
	kill -KILL "$NETD_PID"
	wait "$NETD_PID" 2>/dev/null || true
	rm -f "$RUN_DIR/netd.sock"
}
