#!/usr/bin/env bash
# podwire-cni under podman's CNI backend (Debian's podman 4.3,
# --network-backend cni --cni-config-dir): a conflist made from
# docs/cni-example.conflist whose only plugin is podwire, found as
# `podwire` in the private cni_plugin_dirs. Two busybox containers from a
# --rootfs on that network get addresses on the VNet, podman writes their
# resolv.conf from the result's dns, and they reach each other by address
# and by name (podman passes the container name as K8S_POD_NAME, which
# becomes the group's DNS name). `podman rm` runs CNI DEL: netd has no group
# and the host netns no link left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook-lib.sh"
. "$(dirname "$0")/podman-lib.sh"
need busybox nsenter jq
CONFLIST=$(dirname "$0")/../../docs/cni-example.conflist
[ -r "$CONFLIST" ] || fail "docs/cni-example.conflist missing"
[ -x "$BIN/podwire-cni" ] || fail "podwire-cni not built"
[ -x "$BIN/podwire-dnsd" ] || fail "podwire-dnsd not built"

make_host_ns
start_netd
start_dnsd
pw vnet create front --subnet 10.88.1.0/24 >/dev/null
make_rootfs "$PODMAN_ROOTFS"
podman_setup

net=${NS_PREFIX}-front
podman_cni_network "$net"
cni_dir=$T/cni
mkdir -p "$cni_dir"
# cniVersion 1.0.0: podman 4.3's libcni (1.1.2) knows results up to 1.0.0 and
# fails a 1.1.0 one ("unsupported CNI result version").
jq --arg name "$net" --arg run "$RUN_DIR" '.name = $name | .plugins[0].runDir = $run | .cniVersion = "1.0.0"' \
	<"$CONFLIST" >"$cni_dir/podwire.conflist"
ln -s "$(cd "$BIN" && pwd)/podwire-cni" "$PODMAN_DIR/cni-bin/podwire"
PODMAN_FLAGS=(--network-backend cni --cni-config-dir "$cni_dir")

log "podman sees the network"
out=$(pm network ls --format '{{.Name}} {{.Driver}}')
assert_contains "$out" "$net podwire" "podman network ls"
assert_eq "$(pm network inspect --format '{{.Driver}}' "$net")" "podwire" "podman network inspect"

log "two containers on the podwire network"
pm_run a --network "$net" || fail "podman run a failed"
pm_run b --network "$net" || fail "podman run b failed"
ip_of() { pexec "$1" ip -4 -o addr show eth0 | awk '{print $4}'; }
a_cidr=$(ip_of a)
b_cidr=$(ip_of b)
case $a_cidr in 10.88.1.*/24) ;; *) fail "a has no address on front: '$a_cidr'" ;; esac
case $b_cidr in 10.88.1.*/24) ;; *) fail "b has no address on front: '$b_cidr'" ;; esac
a_ip=${a_cidr%/*}
b_ip=${b_cidr%/*}
# podman's view is the plugin's result.
assert_eq "$(pm inspect --format "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" a)" "$a_ip" \
	"a's address in podman inspect"
a_id=$(pm inspect --format '{{.Id}}' a)
b_id=$(pm inspect --format '{{.Id}}' b)
groups=$(pw group ls --json)
assert_contains "$groups" "\"$a_id\"" "netd's groups"
assert_contains "$groups" "\"$b_id\"" "netd's groups"
[ "$(host_veths | wc -l)" -eq 2 ] || fail "expected 2 host veths, got: $(host_veths)"
assert_contains "$(pw group show "$a_id" --json)" '"hostname": "a"' "a's host name (K8S_POD_NAME)"
[ -s "/var/lib/cni/results/$net-$a_id-eth0" ] || fail "no libcni cache entry for a"

log "by address"
pexec a ping -c 1 -W 2 "$b_ip" >/dev/null || fail "a cannot ping b ($b_ip)"
pexec b ping -c 1 -W 2 "$a_ip" >/dev/null || fail "b cannot ping a ($a_ip)"

log "resolv.conf from the result's dns; by name through podwire-dnsd"
resolv=$(pexec a cat /etc/resolv.conf)
assert_contains "$resolv" "nameserver 10.88.1.1" "a's resolv.conf"
assert_contains "$resolv" "search front.internal" "a's resolv.conf"
out=$(pexec a nslookup b.front.internal 2>&1) || fail "a cannot resolve b: $out"
assert_contains "$out" "$b_ip" "nslookup b.front.internal from a"
pexec a ping -c 1 -W 2 b >/dev/null || fail "a cannot ping b by name"
pexec b ping -c 1 -W 2 a >/dev/null || fail "b cannot ping a by name"

log "podman rm a: CNI DEL detaches it"
pm_rm a || fail "podman rm a failed: $(cat "$T/rm.out")"
if pw group show "$a_id" >/dev/null 2>&1; then fail "a still attached after podman rm"; fi
[ "$(host_veths | wc -l)" -eq 1 ] || fail "a's veth left behind: $(host_veths)"
[ ! -e "/var/lib/cni/results/$net-$a_id-eth0" ] || fail "libcni cache entry of a left"
[ ! -e "$RUN_DIR/cni/$net/$a_id.json" ] || fail "podwire-cni record of a left"
pexec b ping -c 1 -W 2 10.88.1.1 >/dev/null || fail "b lost its network when a was removed"

log "podman rm b: netd has no group, no link or address left"
pm_rm b || fail "podman rm b failed: $(cat "$T/rm.out")"
out=$(pw group ls --json)
[[ $out != *'"id"'* ]] || fail "netd still has a group: $out"
[ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
assert_eq "$(ip -n "$HOST_NS" -4 -o addr show | awk '$2 != "lo" {print $4}')" "10.88.1.1/24" \
	"addresses in the host netns"
[ -z "$(ls "$RUN_DIR/cni/$net" 2>/dev/null)" ] || fail "podwire-cni records left: $(ls "$RUN_DIR/cni/$net")"
[ -z "$(pm ps -a -q)" ] || fail "podman still lists containers: $(pm ps -a)"
podman_host_untouched
log "ok"
