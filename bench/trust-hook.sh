#!/usr/bin/env bash
# What the hook's trust check costs a start, from the hook's own trace
# (PODWIRE_HOOK_TRACE=1): N (default 20) busybox groups started with crun
# for each of, interleaved,
#   off     a VNet without a trust policy: the policy query only
#   audit   a VNet under audit with a cosign keyset (a hand-made rootfs, so
#           the verdict is "no identity"): keyset query, one podwire-trust
#           run, trust.report
#   base    (when BASE_HOOK names an older podwire-hook) that hook on the
#           "off" VNet, for the cost before content trust
# and prints, per case, the median of the hook's whole createRuntime and
# of its trust steps (policy query, helper run, report), in microseconds.
#   bench/trust-hook.sh [BUILD_DIR] [N]
# Runs as root; everything lives in a throwaway netns and temp dir (the
# test harness's lib.sh cleans up).
set -euo pipefail
cd "$(dirname "$0")/.."
export PODWIRE_BUILD=$(cd "${1:-build}" && pwd)
N=${2:-20}
. tests/system/lib.sh
. tests/system/hook-lib.sh
export RUNTIME=crun
need crun busybox nsenter openssl

# The run dir on tmpfs, as /run is on a real system.
mkdir -p "$RUN_DIR"
mount -t tmpfs tmpfs "$RUN_DIR"
track_mount "$RUN_DIR"
make_host_ns
start_netd --log-level warn
openssl ecparam -name prime256v1 -genkey -noout -out "$T/cosign.key" 2>/dev/null
openssl ec -in "$T/cosign.key" -pubout -out "$T/cosign.pub" 2>/dev/null
pw trust keyset add bench --cosign-key "$T/cosign.pub" >/dev/null
pw vnet create off --subnet 10.77.0.0/16 >/dev/null
pw vnet create audit --subnet 10.78.0.0/16 --trust audit --trust-keys bench >/dev/null
make_rootfs "$T/rootfs"

cases=(off audit)
[ -n "${BASE_HOOK:-}" ] && cases+=(base)
# trace_bundle DIR VNET HOOK: a bundle whose createRuntime hook traces.
trace_bundle() {
	HOOK_BIN=$3 make_bundle "$1" "$T/rootfs" "\"podwire.vnet\":\"$2\""
	jq '.hooks.createRuntime[0].env += ["PODWIRE_HOOK_TRACE=1"]' "$1/config.json" >"$1/c"
	mv "$1/c" "$1/config.json"
}
# step FILE STEP: the step's own time (+D us) in a trace.
step() { sed -n "s/^podwire-hook: trace: $2 .*(+\([0-9]*\) us.*/\1/p" "$1" | head -1; }
total() { sed -n 's/^podwire-hook: trace: done *\([0-9]*\) us.*/\1/p' "$1" | head -1; }
for i in $(seq "$N"); do
	for c in "${cases[@]}"; do
		case $c in
		off) trace_bundle "$T/$c$i" off "$HOOK_BIN" ;;
		audit) trace_bundle "$T/$c$i" audit "$HOOK_BIN" ;;
		base) trace_bundle "$T/$c$i" off "$BASE_HOOK" ;;
		esac
		start_container "$c$i" "$T/$c$i" || fail "$c$i did not start"
		log="$T/$c$i/hook-stderr.log"
		echo "$(total "$log") $(step "$log" "trust policies read") $(step "$log" "podwire-trust done") $(step "$log" "trust.report")" >>"$T/$c.txt"
		stop_container "$c$i"
	done
done

median() { sort -n | awk 'NF {a[++n] = $1} END {print n ? a[int((n + 1) / 2)] : "-"}'; }
printf '%-6s %10s %10s %10s %10s\n' case hook-us policy-us helper-us report-us
for c in "${cases[@]}"; do
	printf '%-6s %10s %10s %10s %10s\n' "$c" \
		"$(awk '{print $1}' "$T/$c.txt" | median)" "$(awk '{print $2}' "$T/$c.txt" | median)" \
		"$(awk '{print $3}' "$T/$c.txt" | median)" "$(awk '{print $4}' "$T/$c.txt" | median)"
done
