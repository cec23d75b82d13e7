#!/usr/bin/env bash
# podwire-cni driven as a runtime drives a CNI plugin (CNI_* environment,
# network configuration on stdin) through VERSION, ADD, CHECK, DEL, GC and
# STATUS, with the results checked against the CNI spec (1.0/1.1 result:
# interfaces with the sandbox, ips pointing at the container interface,
# routes, dns; error objects with the spec's codes) and against what the
# namespaces really got (addresses, MAC, reachability).
. "$(dirname "$0")/lib.sh"
CNI=$BIN/podwire-cni
[ -x "$CNI" ] || fail "podwire-cni not built"

make_host_ns
start_netd
pw vnet create front --subnet 10.88.1.0/24 >/dev/null

conf() { # conf [VERSION] [EXTRA_MEMBERS]
	echo "{\"cniVersion\":\"${1:-1.1.0}\",\"name\":\"pwnet\",\"type\":\"podwire\",\"vnet\":\"front\",\"runDir\":\"$RUN_DIR\"${2:+,$2}}"
}
# cni COMMAND CONTAINERID NETNS [IFNAME] < conf: prints stdout (compact)
cni() {
	local out rc=0
	out=$(env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
		CNI_IFNAME="${4:-eth0}" CNI_PATH="$BIN" CNI_ARGS="${CNI_ARGS:-}" "$CNI" 2>>"$T/cni-stderr.log") || rc=$?
	printf '%s' "$out"
	return $rc
}
must_fail_code() { # must_fail_code CODE OUTPUT WHAT
	assert_contains "$2" "\"code\":$1," "$3: error code"
	assert_contains "$2" '"msg":"' "$3: error message"
}

log "VERSION lists 1.0.0 and 1.1.0"
out=$(conf 1.0.0 | cni VERSION "" "")
assert_contains "$out" '"supportedVersions":["1.0.0","1.1.0"]' "VERSION"

ns1=$(make_group_ns c1)
ns2=$(make_group_ns c2)
ns3=$(make_group_ns c3)

log "ADD: a spec-conformant result that matches the namespace"
out=$(conf | cni ADD c1 "$ns1") || fail "ADD c1 failed: $out"
mac1=$(in_ns c1 cat /sys/class/net/eth0/address)
assert_contains "$out" '"cniVersion":"1.1.0"' "ADD result version"
assert_contains "$out" "{\"name\":\"eth0\",\"mac\":\"$mac1\",\"sandbox\":\"$ns1\"}" "ADD result container interface"
assert_contains "$out" '"ips":[{"address":"10.88.1.2/24","gateway":"10.88.1.1","interface":2}]' "ADD result ips"
assert_contains "$out" '"routes":[{"dst":"0.0.0.0/0","gw":"10.88.1.1"}]' "ADD result routes"
assert_contains "$out" '"dns":{"nameservers":["10.88.1.1"],"domain":"front.internal","search":["front.internal"]}' "ADD result dns"
assert_contains "$out" '{"name":"pw-front"}' "ADD result bridge interface"
assert_eq "$(in_ns c1 ip -4 -o addr show eth0 | awk '{print $4}')" "10.88.1.2/24" "address in the netns"
prev=$out

log "ADD again is idempotent"
out=$(conf | cni ADD c1 "$ns1") || fail "second ADD c1 failed: $out"
assert_contains "$out" '"address":"10.88.1.2/24"' "second ADD keeps the address"

log "ADD with a static IP and MAC (runtimeConfig), K8S_POD_NAME as host name"
out=$(conf 1.0.0 '"runtimeConfig":{"ips":["10.88.1.50/24"],"mac":"02:00:00:00:aa:01"}' |
	CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=web" cni ADD c2 "$ns2") || fail "ADD c2 failed: $out"
assert_contains "$out" '"cniVersion":"1.0.0"' "result in the asked version"
assert_contains "$out" '"address":"10.88.1.50/24"' "static address"
assert_eq "$(in_ns c2 cat /sys/class/net/eth0/address)" "02:00:00:00:aa:01" "static MAC"
assert_contains "$(pw group show c2 --json)" '"hostname": "web"' "host name from K8S_POD_NAME"
ping_ok c1 10.88.1.50

log "CHECK: passes for a live attachment, code 3 for an unknown container"
conf 1.1.0 "\"prevResult\":$prev" | cni CHECK c1 "$ns1" >/dev/null || fail "CHECK c1 failed"
out=$(conf | cni CHECK nobody "$ns3") && fail "CHECK of an unknown container passed"
must_fail_code 3 "$out" "CHECK unknown"
out=$(conf 1.1.0 '"prevResult":{"cniVersion":"1.1.0","ips":[{"address":"10.88.1.99/24"}]}' | cni CHECK c1 "$ns1") &&
	fail "CHECK with a wrong prevResult passed"

log "errors: version, interface name, unknown VNet, ports, bad JSON"
out=$(conf 0.4.0 | cni ADD c3 "$ns3") && fail "cniVersion 0.4.0 accepted"
must_fail_code 1 "$out" "old version"
out=$(conf | cni ADD c3 "$ns3" eth1) && fail "CNI_IFNAME eth1 accepted"
must_fail_code 4 "$out" "ifname"
out=$(echo "{\"cniVersion\":\"1.1.0\",\"name\":\"pwnet\",\"type\":\"podwire\",\"vnet\":\"nope\",\"runDir\":\"$RUN_DIR\"}" | cni ADD c3 "$ns3") &&
	fail "unknown VNet accepted"
must_fail_code 7 "$out" "unknown VNet"
assert_contains "$out" "vnet 'nope'" "unknown VNet message"
[ ! -e "$RUN_DIR/cni/pwnet/c3.json" ] || fail "a failed ADD left its record"
log "portMappings: published by netd; a host port held by another container is refused"
pm='"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"},{"hostPort":5353,"containerPort":53,"protocol":"UDP","hostIP":""}]}'
conf 1.1.0 "$pm" | cni ADD c3 "$ns3" >/dev/null || fail "ADD with portMappings failed"
assert_eq "$(pw group show c3 --json | python3 -c 'import json,sys; print([(p["host_port"], p["port"], p["proto"]) for p in json.load(sys.stdin)["ports"]])')" \
	"[(8080, 80, 'tcp'), (5353, 53, 'udp')]" "c3's published ports"
grep -q "tcp . 8080 : 10.88.1." <<<"$(in_ns h nft list map inet podwire ports4)" || fail "8080 not in the DNAT map"
ns4=$(make_group_ns c4)
out=$(conf 1.1.0 '"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":81,"protocol":"tcp"}]}' | cni ADD c4 "$ns4") &&
	fail "a port held by c3 accepted"
assert_contains "$out" "group 'c3'" "conflict names the holder"
out=$(conf 1.1.0 '"runtimeConfig":{"portMappings":[{"hostPort":"x","containerPort":81}]}' | cni ADD c4 "$ns4") &&
	fail "a bad portMapping accepted"
must_fail_code 7 "$out" "bad portMapping"
conf | cni DEL c3 "$ns3" >/dev/null || fail "DEL c3 failed"
[ -z "$(in_ns h nft list map inet podwire ports4 | grep 8080)" ] || fail "8080 left in the map after DEL"
out=$(echo '{"cniVersion":' | cni ADD c3 "$ns3") && fail "bad JSON accepted"
must_fail_code 6 "$out" "bad JSON"
out=$(env -i CNI_COMMAND=ADD "$CNI" </dev/null 2>/dev/null) && fail "ADD without configuration accepted"
out=$(echo "$(conf)" | env -i CNI_COMMAND=ADD CNI_IFNAME=eth0 CNI_NETNS="$ns3" "$CNI" 2>/dev/null) &&
	fail "ADD without CNI_CONTAINERID accepted"
must_fail_code 4 "$out" "missing CNI_CONTAINERID"

log "content trust: an ADD to an enforce VNet fails with netd's line (CNI cannot see images)"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/cosign.key" 2>/dev/null
openssl ec -in "$T/cosign.key" -pubout -out "$T/cosign.pub" 2>/dev/null
pw trust keyset add signed --cosign-key "$T/cosign.pub" >/dev/null
pw vnet create sig --subnet 10.88.2.0/24 --trust enforce --trust-keys signed >/dev/null
ns5=$(make_group_ns c5)
out=$(echo "{\"cniVersion\":\"1.1.0\",\"name\":\"pwnet\",\"type\":\"podwire\",\"vnet\":\"sig\",\"runDir\":\"$RUN_DIR\"}" | cni ADD c5 "$ns5") &&
	fail "ADD to an enforce VNet accepted"
must_fail_code 100 "$out" "enforce VNet"
assert_contains "$out" "\"msg\":\"VNet 'sig' admits only signed images (trust enforce): no image identity: the caller passed no verdict" \
	"enforce VNet: netd's line"
if pw group show c5 >/dev/null 2>&1; then fail "c5 attached to the enforce VNet"; fi
[ ! -e "$RUN_DIR/cni/pwnet/c5.json" ] || fail "record left after a refused ADD"

log "DEL: detaches, and again (and for an unknown container) succeeds"
conf | cni DEL c1 "$ns1" >/dev/null || fail "DEL c1 failed"
if pw group show c1 >/dev/null 2>&1; then fail "c1 still attached after DEL"; fi
[ -z "$(in_ns c1 ip -o link show eth0 2>/dev/null)" ] || fail "eth0 left in c1 after DEL"
conf | cni DEL c1 "" >/dev/null || fail "second DEL c1 failed"
conf | cni DEL nobody "" >/dev/null || fail "DEL of an unknown container failed"

log "GC: releases what is not in cni.dev/valid-attachments, keeps the rest"
conf | cni ADD c3 "$ns3" >/dev/null || fail "ADD c3 failed"
conf 1.1.0 '"cni.dev/valid-attachments":[{"containerID":"c3","ifname":"eth0"}]' | cni GC "" "" >/dev/null ||
	fail "GC failed"
if pw group show c2 >/dev/null 2>&1; then fail "GC kept c2, which is not valid"; fi
pw group show c3 >/dev/null || fail "GC released c3, which is valid"
# A group podwire-cni did not attach is never touched by GC.
pw group attach other --netns "$(make_group_ns o)" --vnet front >/dev/null
conf 1.1.0 '"cni.dev/valid-attachments":[]' | cni GC "" "" >/dev/null || fail "GC failed"
pw group show other >/dev/null || fail "GC released a group podwire-cni did not attach"
if pw group show c3 >/dev/null 2>&1; then fail "GC with an empty list kept c3"; fi

log "STATUS: ready while netd serves the VNet, code 50 otherwise"
conf | cni STATUS "" "" >/dev/null || fail "STATUS failed"
out=$(echo "{\"cniVersion\":\"1.1.0\",\"name\":\"pwnet\",\"type\":\"podwire\",\"vnet\":\"nope\",\"runDir\":\"$RUN_DIR\"}" | cni STATUS "" "") &&
	fail "STATUS ok for an unknown VNet"
must_fail_code 50 "$out" "STATUS unknown VNet"
stop_netd
out=$(conf | cni STATUS "" "") && fail "STATUS ok without netd"
must_fail_code 50 "$out" "STATUS without netd"
out=$(conf | cni ADD c3 "$ns3") && fail "ADD ok without netd"
must_fail_code 11 "$out" "ADD without netd"
log "ok"
