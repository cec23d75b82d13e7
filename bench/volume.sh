#!/usr/bin/env bash
# Benchmark of podwire shares against the native backing directory, bindfs
# and libfuse's passthrough_ll example (with its writeback cache), all
# measured in the same run on the same disk:
#   fio sequential read and write (1 MiB blocks), random read and write
#   (4 KiB), and a metadata run (create, stat, unlink 10,000 small files).
# Prints medians of REPS runs as absolute figures and as ratios to native.
# Reads are cold (page caches dropped before each read job).
#
#   bench/volume.sh [BUILD_DIR]     (root; installs fio and bindfs with apt-get)
# Env: SIZE (fio file size, default 1G), REPS (default 3), FILES (10000).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
SIZE=${SIZE:-1G}
REPS=${REPS:-3}
FILES=${FILES:-10000}
RUNTIME=${RUNTIME:-5}

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
need=()
for p in fio bindfs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -x "$BUILD/podwire-volumed" ] || { echo "bench: build $BUILD/podwire-volumed first" >&2; exit 1; }

# On the disk (not tmpfs): the same file system backs every target.
T=$(mktemp -d /var/tmp/pwbench.XXXXXX)
. bench/volume-lib.sh

# --- the peers
mkdir -p "$T/native" "$T/bindfs-src" "$T/bindfs" "$T/pll-src" "$T/pll"
bindfs "$T/bindfs-src" "$T/bindfs"
mounts+=("$T/bindfs")
start_passthrough_ll "$T/pll-src" "$T/pll"

# --- podwire: a share without a byte quota (kernel passthrough) and one with
# a byte quota (writers through volumed, so write(2) itself reports EDQUOT).
"$BUILD/podwire-volumed" --run-dir "$T/run" --state-dir "$T/state" --log-level warn \
	>"$T/volumed.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -S "$T/run/volumed.sock" ] && break; sleep 0.05; done
"$BUILD/podwire" --run-dir "$T/run" share create bench >/dev/null
"$BUILD/podwire" --run-dir "$T/run" share create benchq --quota 100G >/dev/null

targets=(native bindfs passthrough_ll podwire podwire-quota)
declare -A dir=([native]=$T/native [bindfs]=$T/bindfs [passthrough_ll]=$T/pll
	[podwire]=$T/run/shares/bench [podwire-quota]=$T/run/shares/benchq)

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# fio_job TARGET RW BS -> MiB/s (read or write bandwidth)
fio_job() {
	local target=$1 rw=$2 bs=$3 out
	local file=${dir[$target]}/fio.dat
	case $rw in read | randread) drop_caches ;; esac
	out=$(fio --name=job --filename="$file" --rw="$rw" --bs="$bs" --size="$SIZE" \
		--ioengine=psync --direct=0 --numjobs=1 --runtime="$RUNTIME" --time_based=0 \
		--end_fsync=$([ "${rw#rand}" = write ] && echo 1 || echo 0) \
		--output-format=json 2>/dev/null)
	python3 -c '
import json, sys
j = json.loads(sys.stdin.read())["jobs"][0]
side = "read" if j["read"]["io_bytes"] else "write"
print("%.1f" % (j[side]["bw_bytes"] / 1048576))' <<<"$out"
}

# Metadata: a small C program, so the figures are the file system's and not
# an interpreter's. Prints create/s stat/s stat-again/s unlink/s: the first
# stat after a write needs fresh attributes from a FUSE server (the kernel
# drops mtime/size/blocks after writes); the second pass is the attribute
# cache.
cat >"$T/meta.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
	int n = atoi(argv[2]); char p[4096]; char data[100] = {0}; struct stat st; double t0, t1, t2, t2b, t3;
	if (chdir(argv[1])) return 1;
	t0 = now();
	for (int i = 0; i < n; i++) { snprintf(p, sizeof p, "f%06d", i);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644); if (fd < 0 || write(fd, data, sizeof data) != sizeof data) return 2; close(fd); }
	t1 = now();
	for (int i = 0; i < n; i++) { snprintf(p, sizeof p, "f%06d", i); if (stat(p, &st)) return 3; }
	t2 = now();
	for (int i = 0; i < n; i++) { snprintf(p, sizeof p, "f%06d", i); if (stat(p, &st)) return 3; }
	t2b = now();
	for (int i = 0; i < n; i++) { snprintf(p, sizeof p, "f%06d", i); if (unlink(p)) return 4; }
	t3 = now();
	printf("%.0f %.0f %.0f %.0f\n", n / (t1 - t0), n / (t2 - t1), n / (t2b - t2), n / (t3 - t2b));
	return 0;
}
C
cc -O2 -o "$T/meta" "$T/meta.c"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A result
for target in "${targets[@]}"; do
	echo "bench: $target ..." >&2
	for job in "write 1M" "read 1M" "randwrite 4k" "randread 4k"; do
		set -- $job
		vals=()
		for _ in $(seq "$REPS"); do vals+=("$(fio_job "$target" "$1" "$2")"); done
		result[$target,$1]=$(printf '%s\n' "${vals[@]}" | median)
	done
	rm -f "${dir[$target]}/fio.dat"
	c=() s=() s2=() u=()
	for _ in $(seq "$REPS"); do
		mkdir "${dir[$target]}/meta"
		read -r a b b2 d < <("$T/meta" "${dir[$target]}/meta" "$FILES")
		c+=("$a") s+=("$b") s2+=("$b2") u+=("$d")
		rmdir "${dir[$target]}/meta"
	done
	result[$target,create]=$(printf '%s\n' "${c[@]}" | median)
	result[$target,stat]=$(printf '%s\n' "${s[@]}" | median)
	result[$target,stat2]=$(printf '%s\n' "${s2[@]}" | median)
	result[$target,unlink]=$(printf '%s\n' "${u[@]}" | median)
done

printf '\nMedians of %s runs; fio file %s, psync, 1 job; reads cold; metadata %s files.\n' \
	"$REPS" "$SIZE" "$FILES"
printf '%-24s' "test"
for target in "${targets[@]}"; do printf '%18s' "$target"; done
printf '\n'
for row in "write:seq write 1M (MiB/s)" "read:seq read 1M (MiB/s)" \
	"randwrite:rand write 4k (MiB/s)" "randread:rand read 4k (MiB/s)" \
	"create:create (files/s)" "stat:stat after write (/s)" "stat2:stat again (/s)" \
	"unlink:unlink (files/s)"; do
	key=${row%%:*}
	printf '%-24s' "${row#*:}"
	base=${result[native,$key]}
	for target in "${targets[@]}"; do
		v=${result[$target,$key]}
		printf '%18s' "$(awk -v v="$v" -v b="$base" 'BEGIN {printf "%s (%.0f%%)", v, (b > 0 ? 100 * v / b : 0)}')"
	done
	printf '\n'
done
pl=${result[passthrough_ll,create]} pw=${result[podwire,create]}
printf '\npodwire/passthrough_ll: create %.1fx, unlink %.1fx\n' \
	"$(awk -v a="$pw" -v b="$pl" 'BEGIN {print a / b}')" \
	"$(awk -v a="${result[podwire,unlink]}" -v b="${result[passthrough_ll,unlink]}" 'BEGIN {print a / b}')"
