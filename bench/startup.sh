#!/usr/bin/env bash
# Start latency podwire-hook adds: starts and stops N (default 50) busybox
# groups with crun, each once with the podwire hook (VNet attach, DNS
# files) and once with no network at all (a private netns with only lo, no
# hook), alternating in the same run, and prints p50/p99 of `crun create +
# start` for both and the difference. Target: podwire adds < 10 ms p50.
#   bench/startup.sh [BUILD_DIR] [N] [TRACE_N]
# The "added" figures are p50(podwire) - p50(plain), as the target is
# stated; the "paired" row is the median of the per-group differences of
# each plain/podwire pair started back to back, less sensitive to load from
# other work on the machine. After the measured runs, TRACE_N (default 10)
# more groups start and stop with PODWIRE_HOOK_TRACE=1 in the hook's env,
# for a breakdown of where the hook spends its time (median per step);
# those runs are not part of the figures above.
# Runs as root; everything lives in a throwaway netns and temp dir and is
# removed at the end (the test harness's lib.sh does the cleanup).
set -euo pipefail
cd "$(dirname "$0")/.."
export PODWIRE_BUILD=$(cd "${1:-build}" && pwd)
N=${2:-50}
TRACE_N=${3:-10}
scripts/deps.sh
. tests/system/lib.sh
. tests/system/hook-lib.sh
export RUNTIME=crun
need crun busybox nsenter

# The run dir on tmpfs, as /run is on a real system: the hook's records
# are small files written on every start and stop.
mkdir -p "$RUN_DIR"
mount -t tmpfs tmpfs "$RUN_DIR"
track_mount "$RUN_DIR"
make_host_ns
start_netd --log-level warn
pw vnet create bench --subnet 10.77.0.0/16 >/dev/null
make_rootfs "$T/rootfs"
make_bundle "$T/plain" "$T/rootfs" ''
# The same bundle without hooks: drop the hooks object.
sed -i '/"hooks": {/,/^  },$/d' "$T/plain/config.json"
grep -q podwire-hook "$T/plain/config.json" && fail "baseline bundle still names the hook"

ms_since() { echo $((($(date +%s%N) - $1) / 1000)); } # microseconds
plain_us=()
hook_us=()
stop_plain_us=()
stop_hook_us=()
for i in $(seq "$N"); do
	make_bundle "$T/b$i" "$T/rootfs" "\"podwire.vnet\":\"bench\",\"podwire.hostname\":\"g$i\""
	t0=$(date +%s%N)
	start_container "plain$i" "$T/plain" || fail "plain$i did not start"
	plain_us+=("$(ms_since "$t0")")
	t0=$(date +%s%N)
	start_container "pw$i" "$T/b$i" || fail "pw$i did not start"
	hook_us+=("$(ms_since "$t0")")
done
# Every hooked group really got its address.
[ "$(host_veths | wc -l)" -eq "$N" ] || fail "expected $N veths, got $(host_veths | wc -l)"
for i in $(seq "$N"); do
	t0=$(date +%s%N)
	stop_container "plain$i"
	stop_plain_us+=("$(ms_since "$t0")")
	t0=$(date +%s%N)
	stop_container "pw$i"
	stop_hook_us+=("$(ms_since "$t0")")
done
[ -z "$(host_veths)" ] || fail "veths left after stopping: $(host_veths)"

# The traced runs: the hook prints one line per step on stderr, which crun
# keeps in BUNDLE/hook-stderr.log (make_bundle's run.oci.hooks.stderr).
for i in $(seq "$TRACE_N"); do
	make_bundle "$T/t$i" "$T/rootfs" "\"podwire.vnet\":\"bench\",\"podwire.hostname\":\"t$i\""
	sed -i 's/"PODWIRE_RUN_DIR=/"PODWIRE_HOOK_TRACE=1","PODWIRE_RUN_DIR=/' "$T/t$i/config.json"
	start_container "trace$i" "$T/t$i" || fail "trace$i did not start"
done
for i in $(seq "$TRACE_N"); do
	stop_container "trace$i"
done

pct() { # pct P VALUES... -> the P-th percentile (nearest rank), in ms
	local p=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR]=$1} END {r=int((p*NR+99)/100); if (r<1) r=1; printf "%.1f", v[r]/1000}'
}
row() { # row WHAT PLAIN[@] HOOK[@]
	local what=$1
	local -n a=$2 b=$3
	local p50a p50b p99a p99b
	p50a=$(pct 50 "${a[@]}")
	p50b=$(pct 50 "${b[@]}")
	p99a=$(pct 99 "${a[@]}")
	p99b=$(pct 99 "${b[@]}")
	printf '%-14s %10s %10s %10s %10s %12s %12s\n' "$what" "$p50a" "$p50b" "$p99a" "$p99b" \
		"$(awk -v a="$p50a" -v b="$p50b" 'BEGIN {printf "%+.1f", b-a}')" \
		"$(awk -v a="$p99a" -v b="$p99b" 'BEGIN {printf "%+.1f", b-a}')"
}
echo
echo "crun, $N groups each, ms (p50/p99 of create+start, kill+delete)"
printf '%-14s %10s %10s %10s %10s %12s %12s\n' "" "plain p50" "podwire p50" "plain p99" "podwire p99" "added p50" "added p99"
row start plain_us hook_us
row stop stop_plain_us stop_hook_us
paired() { # paired A[@] B[@] -> median of B[i]-A[i], in ms
	local -n a=$1 b=$2
	local i
	for i in "${!a[@]}"; do echo $((b[i] - a[i])); done | sort -n |
		awk '{v[NR]=$1} END {r=int((50*NR+99)/100); if (r<1) r=1; printf "%+.1f", v[r]/1000}'
}
printf '%-14s %10s %10s   (median of per-group podwire-plain differences, ms)\n' "paired" \
	"start $(paired plain_us hook_us)" "stop $(paired stop_plain_us stop_hook_us)"

# trace_table start|stop: median microseconds and page faults per hook
# step. A run's lines end with "done"; a start run has "config.json read".
trace_table() {
	cat "$T"/t*/hook-stderr.log 2>/dev/null | awk -v stage="$1" '
		/trace: / {
			line = $0
			sub(/.*trace: /, "", line)
			step = line
			sub(/ +[0-9]+ us .*/, "", step)
			total = substr(line, length(step) + 1)
			sub(/^ +/, "", total)
			sub(/ .*/, "", total)
			us = line
			sub(/.*\(\+/, "", us)
			sub(/ us.*/, "", us)
			f = line
			sub(/.*us, \+/, "", f)
			sub(/ faults.*/, "", f)
			f_total += f
			buf[++nb] = step "\t" us "\t" f
			if (step == "config.json read")
				is_start = 1
			if (step == "done") {
				buf[++nb] = "total in main() of the hook\t" total "\t" f_total
				f_total = 0
				if ((stage == "start") == is_start)
					for (i = 1; i <= nb; i++)
						print buf[i]
				nb = 0
				is_start = 0
			}
		}' >"$T/trace-$1.tsv"
	local step
	cut -f1 "$T/trace-$1.tsv" | awk '!seen[$0]++' | while IFS= read -r step; do
		awk -F'\t' -v s="$step" '$1 == s {print $2 "\t" $3}' "$T/trace-$1.tsv" | sort -n |
			awk -F'\t' -v s="$step" '
				{v[NR] = $1; f[NR] = $2}
				END {
					for (i = 2; i <= NR; i++) # the faults, sorted on their own
						for (j = i; j > 1 && f[j - 1] > f[j]; j--) {
							x = f[j]; f[j] = f[j - 1]; f[j - 1] = x
						}
					m = int((NR + 1) / 2)
					printf "  %-28s %7d us %4d faults\n", s, v[m], f[m]
				}'
	done
}
if [ "$TRACE_N" -gt 0 ]; then
	echo
	echo "podwire-hook steps, median of $TRACE_N traced runs (PODWIRE_HOOK_TRACE=1):"
	echo "createRuntime (time in the step since the previous one, page faults in it)"
	trace_table start
	echo "poststop"
	trace_table stop
fi

added=$(awk -v a="$(pct 50 "${plain_us[@]}")" -v b="$(pct 50 "${hook_us[@]}")" 'BEGIN {print b-a}')
echo
if awk -v x="$added" 'BEGIN {exit !(x < 10)}'; then
	echo "podwire adds ${added} ms p50 per group start (target < 10 ms): met"
else
	echo "podwire adds ${added} ms p50 per group start (target < 10 ms): NOT met"
fi
