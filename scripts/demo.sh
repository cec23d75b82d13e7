#!/usr/bin/env bash
# The podwire demo: starts the daemons on a private state and run directory
# inside a throwaway network namespace that plays "the host", makes two
# VNets, attaches three groups, and shows them talking, resolving each
# other by name and sharing files — then removes everything it made.
#   scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "${1:-build}" && pwd)

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }

DEMO=$(mktemp -d /tmp/podwire-demo.XXXXXX)
RUN=$DEMO/run
STATE=$DEMO/state
NS=pwdemo$$
HOST=${NS}host
pids=()
mounts=()

cleanup() {
	set +e
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null; done
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$NS"); do ip netns del "$ns"; done
	rm -rf "$DEMO"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
pw() { "$BIN/podwire" --run-dir "$RUN" "$@"; }
wait_socket() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "demo: $1 did not appear" >&2; exit 1; }
in_group() { local g=$1; shift; ip netns exec "$NS-$g" "$@"; }

say "A throwaway network namespace plays the host; the daemons keep their state in $DEMO"
ip netns add "$HOST"
ip -n "$HOST" link set lo up
mkdir -p "$RUN" "$STATE"
ip netns exec "$HOST" "$BIN/podwire-netd" --run-dir "$RUN" --state-dir "$STATE/netd" 2>"$DEMO/netd.log" &
pids+=($!)
wait_socket "$RUN/netd.sock"
if [ -x "$BIN/podwire-dnsd" ]; then
	ip netns exec "$HOST" "$BIN/podwire-dnsd" --run-dir "$RUN" 2>"$DEMO/dnsd.log" &
	pids+=($!)
	wait_socket "$RUN/dnsd.sock"
fi
if [ -x "$BIN/podwire-volumed" ]; then
	"$BIN/podwire-volumed" --run-dir "$RUN" --state-dir "$STATE/volumed" 2>"$DEMO/volumed.log" &
	pids+=($!)
	wait_socket "$RUN/volumed.sock"
fi

say "Two virtual networks"
show pw vnet create front --subnet 10.88.1.0/24
show pw vnet create back --subnet 10.88.2.0/24
show pw vnet ls

say "Three container groups (network namespaces): web and api on front, db on back"
for g in web api db; do ip netns add "$NS-$g"; done
show pw group attach web --netns "/run/netns/$NS-web" --vnet front --hostname web
show pw group attach api --netns "/run/netns/$NS-api" --vnet front --hostname api --alias backend
show pw group attach db --netns "/run/netns/$NS-db" --vnet back --hostname db
show pw group ls

api_ip=$(pw group show api --json | sed -n 's/.*"addresses": *\[ *"\([0-9.]*\)".*/\1/p' | head -1)
[ -n "$api_ip" ] || api_ip=$(in_group api ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
db_ip=$(in_group db ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)

say "web -> api ($api_ip), same VNet: reachable"
show in_group web ping -c 2 -W 1 "$api_ip"

say "web -> db ($db_ip), another VNet: isolated"
if in_group web ping -c 2 -W 1 "$db_ip"; then
	echo "demo: isolation FAILED" >&2
	exit 1
fi
echo "(no reply: VNets are isolated)"

if [ -x "$BIN/podwire-dnsd" ]; then
	say "Names: web resolves api through the VNet's DNS on its gateway"
	show in_group web dig +short @10.88.1.1 api.front.internal
	show in_group web dig +short @10.88.1.1 backend.front.internal
	say "db, on the other VNet, does not see front's names"
	show in_group db dig +noall +comments @10.88.2.1 api.front.internal | grep -o 'status: [A-Z]*'
fi

if [ -x "$BIN/podwire-volumed" ]; then
	say "A file share mounted into web (read-write) and api (read-only)"
	show pw share create data --quota 64M
	share=$RUN/shares/data
	# Each group gets its own mount namespace with a bind mount of the share,
	# as the runtime hook does for real containers.
	mkdir -p "$DEMO/web-data" "$DEMO/api-data"
	ip netns exec "$NS-web" unshare -m --propagation private sh -c \
		"mount --bind '$share' '$DEMO/web-data' && echo 'hello from web' > '$DEMO/web-data/greeting' && echo 'web wrote greeting'"
	ip netns exec "$NS-api" unshare -m --propagation private sh -c \
		"mount --bind '$share' '$DEMO/api-data' && mount -o remount,bind,ro '$DEMO/api-data' && printf 'api reads: ' && cat '$DEMO/api-data/greeting' && if echo x > '$DEMO/api-data/other' 2>/dev/null; then echo 'api could write?!'; exit 1; else echo 'api cannot write: its mount is read-only'; fi"
	show pw share ls
fi

say "Detach everything"
for g in web api db; do show pw group detach "$g"; done
show pw vnet rm front
show pw vnet rm back
say "Done: the cleanup removes the namespaces, the daemons and $DEMO"
