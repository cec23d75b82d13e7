#!/usr/bin/env bash
# podwire-volumed: the POSIX behaviour suite (volumed-posix.py) passes on a
# native directory and, unchanged, on shares: one with the writeback cache
# (no byte quota) and one with a byte quota (write-through). Includes
# permission denial for a non-root user (nobody), unlink of an open file,
# O_APPEND from two processes, mmap, renames, links, locks.
. "$(dirname "$0")/lib.sh"

# The non-root part runs as nobody, who must be able to reach the dirs.
chmod 755 "$T"
suite=$(dirname "$0")/volumed-posix.py

mkdir "$T/native"
python3 "$suite" "$T/native" >"$T/native.out" 2>&1 || {
	cat "$T/native.out" >&2
	fail "suite fails on a native directory"
}

start_volumed
chmod 755 "$RUN_DIR" "$RUN_DIR/shares"
pw share create plain >/dev/null
track_share plain
pw share create quota --quota 1G --files 100000 >/dev/null
track_share quota
for share in plain quota; do
	mkdir "$RUN_DIR/shares/$share/suite"
	python3 "$suite" "$RUN_DIR/shares/$share/suite" >"$T/$share.out" 2>&1 || {
		cat "$T/$share.out" >&2
		fail "suite fails on share $share"
	}
	log "share $share: $(grep -c '^ok' "$T/$share.out") checks ok"
done
# The quota share counted what the suite left behind exactly.
used=$(pw share show quota --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["used_bytes"], s["used_files"])')
backing=$STATE_DIR/volumed/shares/quota
real=$(find "$backing" -type f -printf '%s %i\n' | sort -u -k2 | awk '{s+=$1} END {print s+0}')
files=$(find "$backing" -mindepth 1 -printf '%i\n' | sort -u | wc -l)
assert_eq "$used" "$real $files" "incremental usage matches the backing dir"
stop_volumed
log "ok"
