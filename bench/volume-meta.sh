#!/usr/bin/env bash
# Metadata cost per file operation on a podwire share against libfuse's
# passthrough_ll example (writeback cache) and the native directory, all
# backed by one tmpfs, in the same run.
#
# bench/volume.sh runs its metadata on the disk, where this VM's ext4 (no
# journal) makes a create skip every inode deleted in the last minutes:
# after the earlier runs' unlinks, the backing file system's own create
# costs up to 180 us and hides what the FUSE layer adds. On tmpfs the
# backing costs a few microseconds, so the figures here are the FUSE
# layer's: per phase of "create a 100-byte file" (open with O_CREAT,
# write, close) and of unlink, in microseconds, and files/s.
#
#   bench/volume-meta.sh [BUILD_DIR]      (root)
# Env: FILES (default 5000), REPS (default 3; medians are printed).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
FILES=${FILES:-5000}
REPS=${REPS:-3}

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
[ -x "$BUILD/podwire-volumed" ] || { echo "bench: build $BUILD/podwire-volumed first" >&2; exit 1; }

T=$(mktemp -d /dev/shm/pwbench-meta.XXXXXX)
. bench/volume-lib.sh

mkdir -p "$T/native" "$T/pll-src" "$T/pll" "$T/share-backing"
start_passthrough_ll "$T/pll-src" "$T/pll"

"$BUILD/podwire-volumed" --run-dir "$T/run" --state-dir "$T/state" --log-level warn \
	>"$T/volumed.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -S "$T/run/volumed.sock" ] && break; sleep 0.05; done
"$BUILD/podwire" --run-dir "$T/run" share create bench --backing "$T/share-backing" >/dev/null

# Per phase, so that what each system call costs shows (a FUSE round trip
# is tens of microseconds here, a tmpfs operation a few).
cat >"$T/meta.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
	int n = atoi(argv[2]); char p[64], data[100] = {0}; double o = 0, w = 0, c = 0, u = 0, a, b, t0, t1, t2;
	if (chdir(argv[1])) return 1;
	t0 = now();
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "f%06d", i);
		a = now(); int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644); b = now(); o += b - a;
		if (fd < 0) return 2;
		a = now(); if (write(fd, data, sizeof data) != sizeof data) return 3; b = now(); w += b - a;
		a = now(); close(fd); b = now(); c += b - a;
	}
	t1 = now();
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "f%06d", i);
		a = now(); if (unlink(p)) return 4; b = now(); u += b - a;
	}
	t2 = now();
	printf("%.1f %.1f %.1f %.1f %.0f %.0f\n", o / n * 1e6, w / n * 1e6, c / n * 1e6, u / n * 1e6,
	       n / (t1 - t0), n / (t2 - t1));
	return 0;
}
C
cc -O2 -o "$T/meta" "$T/meta.c"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

targets=(native passthrough_ll podwire)
declare -A dir=([native]=$T/native [passthrough_ll]=$T/pll [podwire]=$T/run/shares/bench)
declare -A result
for target in "${targets[@]}"; do
	: >"$T/$target.out"
done
# Interleaved, so that a slow moment of the VM does not land on one target.
for _ in $(seq "$REPS"); do
	for target in "${targets[@]}"; do
		mkdir "${dir[$target]}/meta"
		"$T/meta" "${dir[$target]}/meta" "$FILES" >>"$T/$target.out"
		rmdir "${dir[$target]}/meta"
	done
done
for target in "${targets[@]}"; do
	for col in 1 2 3 4 5 6; do
		result[$target,$col]=$(awk -v c="$col" '{print $c}' "$T/$target.out" | median)
	done
done

printf 'Metadata on tmpfs, %s files, medians of %s runs\n' "$FILES" "$REPS"
printf '%-22s' ""
for target in "${targets[@]}"; do printf '%16s' "$target"; done
printf '\n'
for row in "1:open O_CREAT (us)" "2:write 100 B (us)" "3:close (us)" "4:unlink (us)" \
	"5:create (files/s)" "6:unlink (files/s)"; do
	printf '%-22s' "${row#*:}"
	for target in "${targets[@]}"; do printf '%16s' "${result[$target,${row%%:*}]}"; done
	printf '\n'
done
awk -v a="${result[podwire,5]}" -v b="${result[passthrough_ll,5]}" \
	-v c="${result[podwire,6]}" -v d="${result[passthrough_ll,6]}" \
	'BEGIN { printf "\npodwire/passthrough_ll: create %.2fx, unlink %.2fx (target 3x)\n", a / b, c / d }'
