#!/usr/bin/env bash
# podwire-hook end to end with a real runtime (runc; RUNTIME=crun for
# crun): busybox containers whose config.json names the hook. Two groups on
# vnet "front" ping and nslookup each other by name; a group on "back" can
# neither resolve nor reach them; the generated resolv.conf is the VNet's;
# kill + delete (poststop) detaches and leaves no link behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook-lib.sh"
need ${RUNTIME:-runc} busybox nsenter

make_host_ns
start_netd
[ -x "$BIN/podwire-dnsd" ] && start_dnsd
pw vnet create front --subnet 10.88.1.0/24 >/dev/null
pw vnet create back --subnet 10.88.2.0/24 >/dev/null

make_rootfs "$T/rootfs"
make_bundle "$T/web" "$T/rootfs" '"podwire.vnet":"front","podwire.hostname":"web"'
make_bundle "$T/api" "$T/rootfs" '"podwire.vnet":"front","podwire.hostname":"api","podwire.aliases":"backend"'
make_bundle "$T/db" "$T/rootfs" '"podwire.vnet":"back","podwire.hostname":"db"'
# db's hook runs with PODWIRE_HOOK_TRACE=1 (checked below with crun, which
# keeps a hook's stderr); the others without.
sed -i 's/"PODWIRE_RUN_DIR=/"PODWIRE_HOOK_TRACE=1","PODWIRE_RUN_DIR=/' "$T/db/config.json"
start_container web "$T/web"
start_container api "$T/api"
start_container db "$T/db"

if [ "${RUNTIME:-runc}" = crun ]; then
	log "PODWIRE_HOOK_TRACE=1 prints the hook's steps; without it, nothing"
	grep -q 'podwire-hook: trace: netd group.attach .* us' "$T/db/hook-stderr.log" ||
		fail "no trace of the attach in db's hook stderr: $(cat "$T/db/hook-stderr.log")"
	grep -q 'podwire-hook: trace: mounts made .* faults)' "$T/db/hook-stderr.log" ||
		fail "no trace of the mounts in db's hook stderr"
	! grep -q trace: "$T/web/hook-stderr.log" 2>/dev/null || fail "web's hook traced without asking"
fi

api_ip=$(cexec api ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
db_ip=$(cexec db ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
case $api_ip in 10.88.1.*) ;; *) fail "api has no address on front: '$api_ip'" ;; esac
case $db_ip in 10.88.2.*) ;; *) fail "db has no address on back: '$db_ip'" ;; esac

log "resolv.conf is the VNet's: its gateway and search domain"
assert_eq "$(cexec web cat /etc/resolv.conf)" "nameserver 10.88.1.1
search front.internal" "web's resolv.conf"
assert_contains "$(cexec api cat /etc/hosts)" "$api_ip api.front.internal api backend.front.internal backend" "api's hosts"
# The image's own file on the host is untouched.
[ ! -s "$T/rootfs/etc/resolv.conf" ] || fail "the rootfs's resolv.conf was written on the host"

log "same VNet: reachable by address"
cexec web ping -c 1 -W 2 "$api_ip" >/dev/null || fail "web cannot ping api ($api_ip)"
log "other VNet: not reachable"
if cexec web ping -c 1 -W 1 "$db_ip" >/dev/null 2>&1; then fail "web reached db on another VNet"; fi

if [ -x "$BIN/podwire-dnsd" ]; then
	log "names: api and its alias resolve from web, not from db"
	out=$(cexec web nslookup api 2>&1) || fail "web cannot resolve api: $out"
	assert_contains "$out" "$api_ip" "nslookup api from web"
	out=$(cexec web nslookup backend.front.internal 2>&1) || fail "web cannot resolve backend: $out"
	assert_contains "$out" "$api_ip" "nslookup backend.front.internal from web"
	cexec web ping -c 1 -W 2 api >/dev/null || fail "web cannot ping api by name"
	if out=$(cexec db nslookup api.front.internal 2>&1); then
		fail "db resolved a name of another VNet: $out"
	fi
else
	log "podwire-dnsd not built: name resolution not checked"
fi

log "kill + delete runs poststop: the group is detached, its link is gone"
[ "$(host_veths | wc -l)" -eq 3 ] || fail "expected 3 host veths, got: $(host_veths)"
stop_container api
pw group show api >/dev/null 2>&1 && fail "group api still attached after delete"
[ "$(host_veths | wc -l)" -eq 2 ] || fail "api's veth left behind: $(host_veths)"
[ ! -e "$RUN_DIR/hook/containers/api.json" ] || fail "hook record of api left behind"
[ ! -e "$RUN_DIR/hook/files/api" ] || fail "generated files of api left behind"
stop_container web
stop_container db
[ -z "$(host_veths)" ] || fail "veths left behind: $(host_veths)"
[ -z "$(ls "$RUN_DIR/hook/groups")" ] || fail "group records left: $(ls "$RUN_DIR/hook/groups")"
log "ok"
