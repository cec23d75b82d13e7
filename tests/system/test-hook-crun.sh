#!/usr/bin/env bash
# The podwire-hook end-to-end tests again with crun instead of runc (crun
# calls no poststop after a failed createRuntime, so the failure test checks
# that the hook undoes its own work). Each runs as its own test process.
set -euo pipefail
dir=$(dirname "$0")
command -v crun >/dev/null || { echo "[test-hook-crun] FAIL: crun is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
for t in network volumes failure; do
	echo "[test-hook-crun] test-hook-$t with crun"
	RUNTIME=crun bash "$dir/test-hook-$t.sh"
done
