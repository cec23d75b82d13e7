#!/usr/bin/env bash
# Runs the unit tests and the system tests against one build directory and
# ends with the line "N passed, N failed".
#   tests/run.sh [BUILD_DIR] [PATTERN...]
# PATTERN (a substring of a test's name) limits which tests run.
set -uo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
shift || true
patterns=("$@")
export PODWIRE_BUILD=$(cd "$build" && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failures=()

selected() {
	[ ${#patterns[@]} -eq 0 ] && return 0
	local p
	for p in "${patterns[@]}"; do
		[[ $1 == *"$p"* ]] && return 0
	done
	return 1
}

run_one() { # NAME COMMAND...
	local name=$1
	shift
	local log
	log=$(mktemp /tmp/podwire-test-log.XXXXXX)
	local start=$(date +%s%N)
	if timeout --kill-after=10 600 "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		local ms=$((($(date +%s%N) - start) / 1000000))
		printf 'PASS %-40s %4d.%01ds\n' "$name" $((ms / 1000)) $((ms % 1000 / 100))
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %-40s\n' "$name"
		sed 's/^/    | /' "$log" | tail -n 80
	fi
	rm -f "$log"
}

for t in "$PODWIRE_BUILD"/tests/test-*; do
	[ -x "$t" ] || continue
	name=unit/$(basename "$t")
	selected "$name" || continue
	run_one "$name" "$t"
done

for t in tests/system/test-*.sh; do
	[ -e "$t" ] || continue
	name=system/$(basename "$t" .sh)
	selected "$name" || continue
	run_one "$name" bash "$t"
done

echo
if [ $failed -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
