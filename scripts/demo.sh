#!/usr/bin/env bash
# The podwire demo. Inside a throwaway network namespace that plays "the
# host", with private state and run directories, it starts podwire-netd,
# podwire-dnsd and podwire-volumed, defines two VNets and a file share, and
# starts three busybox container groups with crun whose config.json names
# podwire-hook. It shows two groups on one VNet reaching and resolving each
# other by name, a group on the other VNet that can do neither, and a file
# written by one group read by another (read-only there). Everything it
# made is removed at the end, also when a step fails.
#   scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
export PODWIRE_BUILD=$(cd "${1:-build}" && pwd)
# The test harness gives the demo its private dirs, namespaces and cleanup.
. tests/system/lib.sh
. tests/system/hook-lib.sh
export RUNTIME=${RUNTIME:-crun}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {
	printf '$ %s\n' "$*"
	"$@"
}

say "Daemons on private dirs under $T, in a throwaway netns as the host"
make_host_ns
start_netd
start_dnsd
start_volumed
echo "podwire-netd, podwire-dnsd and podwire-volumed are running"

say "Two virtual networks and a file share"
show pw vnet create front --subnet 10.88.1.0/24
show pw vnet create back --subnet 10.88.2.0/24
show pw share create data --quota 64M
show pw vnet ls

say "Three container groups started with $RUNTIME and podwire-hook"
make_rootfs "$T/rootfs"
make_bundle "$T/web" "$T/rootfs" '"podwire.vnet":"front","podwire.hostname":"web","podwire.volumes":"data:/srv/data"'
make_bundle "$T/api" "$T/rootfs" '"podwire.vnet":"front","podwire.hostname":"api","podwire.aliases":"backend","podwire.volumes":"data:/srv/data:ro"'
make_bundle "$T/db" "$T/rootfs" '"podwire.vnet":"back","podwire.hostname":"db"'
for g in web api db; do
	start_container "$g" "$T/$g"
	echo "started $g"
done
show pw group ls

say "web -> api by name, same VNet: resolves and answers"
show cexec web cat /etc/resolv.conf
show cexec web nslookup api
show cexec web ping -c 2 -W 1 backend

say "db, on the other VNet: cannot resolve api, cannot reach it by address"
api_ip=$(cexec api ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
if cexec db nslookup api >/dev/null 2>&1; then
	fail "db resolved api across VNets"
fi
echo "nslookup api: not found (names are scoped per VNet)"
if cexec db ping -c 2 -W 1 "$api_ip" >/dev/null 2>&1; then
	fail "db reached api across VNets"
fi
echo "ping $api_ip: no reply (VNets are isolated)"

say "The share: web writes, api reads (its mount is read-only)"
show cexec web sh -c 'echo "hello from web" > /srv/data/greeting'
show cexec api cat /srv/data/greeting
if cexec api sh -c 'echo x > /srv/data/other' 2>/dev/null; then
	fail "api wrote to its read-only mount"
fi
echo "api: write refused (read-only file system)"
show pw share ls

say "Stopping the groups detaches them and releases the share"
for g in web api db; do stop_container "$g"; done
show pw group ls
show pw vnet rm front
show pw vnet rm back
say "Done; the cleanup stops the daemons and removes the namespaces and $T"
