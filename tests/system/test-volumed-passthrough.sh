#!/usr/bin/env bash
# podwire-volumed: kernel FUSE passthrough — files are read and written by
# the kernel on the backing file (volumed sees no data), their growth is
# still counted against the share's usage at fsync and close; on a share
# with a byte quota writers go through volumed (direct I/O) beside
# passthrough readers of the same file, coherently, and a write past the
# quota is refused whole; no backing file stays registered after close.
. "$(dirname "$0")/lib.sh"

start_volumed
M=$RUN_DIR/shares
jq_share() { pw share show "$1" --json | python3 -c "import json,sys; s=json.load(sys.stdin); print($2)"; }

pw share create fast >/dev/null
track_share fast
assert_eq "$(jq_share fast 's["passthrough"]')" True "kernel took passthrough"

# --- data goes around volumed, usage is still counted
head -c 3145728 /dev/urandom >"$T/data"
cp "$T/data" "$M/fast/data"
cmp -s "$T/data" "$M/fast/data" || fail "passthrough read back"
assert_eq "$(jq_share fast 's["used_bytes"]')" 3145728 "usage counted at close"
assert_eq "$(jq_share fast 's["stats"]["bytes_written"]')" 0 "volumed saw no data"
[ "$(jq_share fast 's["stats"]["passthrough_opens"]')" -ge 2 ] || fail "opens not passed through"

# A long-lived writer's growth shows at fsync, before it closes.
python3 - "$M/fast/log" "$RUN_DIR" "$BIN/podwire" <<'PY' || fail "usage at fsync"
import json, os, subprocess, sys
path, run_dir, cli = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.write(fd, b"x" * 100000)
os.fsync(fd)
show = json.loads(subprocess.check_output([cli, "--run-dir", run_dir, "share", "show", "fast", "--json"]))
if show["used_bytes"] != 3145728 + 100000:
    sys.exit(f"used_bytes {show['used_bytes']} after fsync")
os.write(fd, b"y" * 50000)
os.close(fd)
PY
assert_eq "$(jq_share fast 's["used_bytes"]')" $((3145728 + 150000)) "usage after close"

# Shared writable mmap on a passthrough file.
python3 - "$M/fast/data" <<'PY' || fail "mmap through passthrough"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
m[0:5] = b"HELLO"
m.flush(); m.close(); os.close(fd)
with open(sys.argv[1], "rb") as f:
    assert f.read(5) == b"HELLO", "mmap write not read back"
PY

# Open/close cycles leave no registered backing file: once the kernel's
# (asynchronous) releases are in, volumed holds only the O_PATH fd of each
# inode it knows.
backing_fds() { ls -l /proc/"$VOLUMED_PID"/fd | grep -c -E "/shares/fast/(data|log)$"; }
settled() { for _ in $(seq 100); do [ "$(backing_fds)" -le "$1" ] && return 0; sleep 0.05; done; return 1; }
settled 2 || fail "backing files still open after close: $(backing_fds)"
for i in $(seq 50); do cat "$M/fast/data" >/dev/null; done
for i in $(seq 20); do echo "$i" >>"$M/fast/log"; done
settled 2 || fail "backing files left open after 70 open/close cycles: $(backing_fds)"

# --- a byte quota: passthrough readers and direct writers of one file
pw share create metered --quota 1536K >/dev/null
track_share metered
head -c 1000000 /dev/urandom >"$M/metered/f"
python3 - "$M/metered/f" <<'PY' || fail "reader and quota writer on one file"
import errno, os, sys
path = sys.argv[1]
reader = os.open(path, os.O_RDONLY)          # passthrough
before = os.pread(reader, 16, 500000)
writer = os.open(path, os.O_WRONLY)           # through volumed (direct I/O)
os.pwrite(writer, b"N" * 16, 500000)
if os.pread(reader, 16, 500000) != b"N" * 16:
    sys.exit("reader did not see the writer's bytes at once")
# 1000000 + 600000 > 1536 KiB: refused whole (one request: under
# max_write), file unchanged.
try:
    os.pwrite(writer, b"z" * 600000, 1000000)
    sys.exit("write past the quota succeeded")
except OSError as e:
    if e.errno != errno.EDQUOT:
        sys.exit(f"expected EDQUOT, got {e}")
if os.fstat(reader).st_size != 1000000:
    sys.exit("refused write changed the size")
os.close(writer); os.close(reader)
PY
# Appending past the quota from a fresh open (no page of the file cached):
# refused whole, not split at the first page boundary.
python3 - "$M/metered/f" <<'PY' || fail "append past the quota"
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
try:
    n = os.write(fd, b"a" * 600000)
    sys.exit(f"append past the quota wrote {n} bytes")
except OSError as e:
    if e.errno != errno.EDQUOT:
        sys.exit(f"expected EDQUOT, got {e}")
os.close(fd)
PY
assert_eq "$(stat -c %s "$M/metered/f")" 1000000 "size after refused writes"
assert_eq "$(jq_share metered 's["used_bytes"]')" 1000000 "quota usage"
# mmap of a file opened for writing on a quota share (direct I/O).
python3 - "$M/metered/f" <<'PY' || fail "mmap on a quota share"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
m[0:4] = b"MMAP"
m.flush(); m.close(); os.close(fd)
with open(sys.argv[1], "rb") as f:
    assert f.read(4) == b"MMAP", "mmap write not read back"
PY

stop_volumed
! mountpoint -q "$M/fast" || fail "share still mounted after SIGTERM"
log "ok"
