#!/usr/bin/env bash
# podwire-volumed: shares through the CLI — create/ls/show (--json), quota
# (EDQUOT leaves the file as it was, df shows the quota), snapshots
# (browsable, read-only, unchanged when the share changes), restore (whole
# and one path), users and delete, bad input, and escape attempts.
. "$(dirname "$0")/lib.sh"

start_volumed
M=$RUN_DIR/shares

# --- create, ls, show
pw share create docs --quota 1M --files 20 >/dev/null
track_share docs
pw share create docs --quota 1M --files 20 >/dev/null # idempotent
must_fail pw share create docs --quota 2M | grep -q "other settings" || fail "conflicting create"
mountpoint -q "$M/docs" || fail "share not mounted"
pw share ls | grep -q '^docs ' || fail "share ls"
assert_eq "$(pw share show docs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["quota_bytes"])')" 1048576 "quota in show --json"
assert_eq "$(pw share ls --json | python3 -c 'import json,sys; print([s["name"] for s in json.load(sys.stdin)])')" "['docs']" "ls --json"

# --- quota: df shows it; a write past it fails with EDQUOT and changes nothing
size_kb=$(df -k --output=size "$M/docs" | tail -1 | tr -d ' ')
assert_eq "$size_kb" 1024 "df size of a 1M share"
head -c 700000 /dev/urandom >"$M/docs/big"
cp "$M/docs/big" "$T/big.orig"
python3 - "$M/docs/big" <<'PY' || fail "write past quota"
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
try:
    os.write(fd, b"z" * 400000)
    sys.exit("write past the quota succeeded")
except OSError as e:
    if e.errno != errno.EDQUOT:
        sys.exit(f"expected EDQUOT, got {e}")
try:
    os.ftruncate(fd, 2 << 20)
    sys.exit("truncate past the quota succeeded")
except OSError as e:
    if e.errno != errno.EDQUOT:
        sys.exit(f"truncate: expected EDQUOT, got {e}")
os.close(fd)
PY
cmp -s "$M/docs/big" "$T/big.orig" || fail "file changed by a refused write"
for i in $(seq 1 19); do : >"$M/docs/n$i" 2>/dev/null || break; done
must_fail touch "$M/docs/one-too-many" | grep -q "quota exceeded" || fail "file quota"
rm -f "$M"/docs/n*
used=$(pw share show docs --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["used_bytes"], s["used_files"])')
assert_eq "$used" "700000 1" "usage after removals"
pw share quota docs --quota 2M >/dev/null
head -c 400000 /dev/urandom >>"$M/docs/big" || fail "write after raising the quota"
assert_eq "$(stat -c %s "$M/docs/big")" 1100000 "size after append"

# --- snapshots: browsable, read-only, unchanged by later writes
mkdir "$M/docs/dir"
echo "version 1" >"$M/docs/dir/file.txt"
echo "keep" >"$M/docs/keep.txt"
assert_eq "$(pw share snapshot docs s1)" s1 "snapshot name"
pw share snapshot docs s1 >/dev/null # idempotent
echo "version 2" >"$M/docs/dir/file.txt"
rm "$M/docs/keep.txt"
echo "new" >"$M/docs/new.txt"
assert_eq "$(cat "$M/docs/.snapshots/s1/dir/file.txt")" "version 1" "snapshot content"
assert_eq "$(cat "$M/docs/.snapshots/s1/keep.txt")" "keep" "snapshot keeps removed file"
[ ! -e "$M/docs/.snapshots/s1/new.txt" ] || fail "snapshot has a later file"
must_fail sh -c "echo x >'$M/docs/.snapshots/s1/keep.txt'" | grep -q "Read-only" || fail "snapshot writable"
must_fail rm "$M/docs/.snapshots/s1/keep.txt" >/dev/null
must_fail rmdir "$M/docs/.snapshots" >/dev/null
pw share snapshots docs | grep -q '^s1 ' || fail "snapshots list"
pw share snapshots docs --json | grep -q '"name": "s1"' || fail "snapshots --json"

# --- restore one path, then everything
pw share restore docs s1 --path dir/file.txt
assert_eq "$(cat "$M/docs/dir/file.txt")" "version 1" "path restore"
[ -e "$M/docs/new.txt" ] || fail "path restore touched other files"
[ ! -e "$M/docs/keep.txt" ] || fail "path restore brought back another file"
echo "version 3" >"$M/docs/dir/file.txt"
pw share restore docs s1
assert_eq "$(cat "$M/docs/dir/file.txt")" "version 1" "full restore content"
assert_eq "$(cat "$M/docs/keep.txt")" "keep" "full restore brings files back"
[ ! -e "$M/docs/new.txt" ] || fail "full restore left a newer file"
cmp -s <(head -c 700000 "$M/docs/big") "$T/big.orig" || fail "big file after restore"
used=$(pw share show docs --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["used_bytes"], s["used_files"])')
backing=$(pw share show docs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["backing"])')
real_bytes=$(find "$backing" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
real_files=$(find "$backing" -mindepth 1 | wc -l)
assert_eq "$used" "$real_bytes $real_files" "usage matches the backing dir after restore"
pw share snapshot-rm docs s1
[ ! -e "$M/docs/.snapshots/s1" ] || fail "deleted snapshot still visible"
pw share snapshot-rm docs s1 # idempotent

# --- fixed owner and modes (as an SMB mount with uid=,gid=,file_mode=,dir_mode=)
pw share create fixed --uid 1000 --gid 1001 --file-mode 0640 --dir-mode 0750 >/dev/null
track_share fixed
echo x >"$M/fixed/f"
mkdir "$M/fixed/d"
assert_eq "$(stat -c '%u:%g %a' "$M/fixed/f")" "1000:1001 640" "fixed file attrs"
assert_eq "$(stat -c '%u:%g %a' "$M/fixed/d")" "1000:1001 750" "fixed dir attrs"
must_fail chown 0 "$M/fixed/f" | grep -q "not permitted" || fail "chown on a fixed-owner share"

# --- users and delete
pw share use docs web
pw share use docs web # idempotent
pw share show docs | grep -q "web" || fail "user not shown"
must_fail pw share rm docs | grep -q "used by" || fail "delete of a share in use"
pw share release docs web
pw share release docs web
pw share rm docs
! mountpoint -q "$M/docs" 2>/dev/null || fail "deleted share still mounted"
[ -e "$backing/keep.txt" ] || fail "delete without --purge removed data"
pw share rm docs # idempotent
pw share create docs --quota 2M --files 20 >/dev/null
assert_eq "$(cat "$M/docs/keep.txt")" "keep" "data kept across delete/create"
pw share use docs web
pw share rm docs --force --purge
[ ! -e "$backing" ] || fail "--purge left the backing dir"

# --- bad input: one clear line, exit 1 (2 for usage), nothing changed
for bad in "../x" ".hidden" "a/b" ""; do
	must_fail pw share create "$bad" >/dev/null
done
must_fail pw share create x --backing relative/dir | grep -q "absolute" || fail "relative backing"
must_fail pw share create x --backing "$STATE_DIR" | grep -q "overlaps" || fail "backing in state dir"
must_fail pw share create x --file-mode 999 >/dev/null
must_fail pw share create x --quota lots >/dev/null
must_fail pw share snapshot fixed ../../etc >/dev/null
must_fail pw share restore fixed nosuch >/dev/null
[ "$(pw share ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "bad input created a share"

# --- escapes: nothing reaches outside the backing directory
echo secret >"$STATE_DIR/volumed/shares/secret-outside"
pw share snapshot fixed s0 >/dev/null
must_fail pw share restore fixed s0 --path ../secret-outside | grep -q "'..'" || fail "restore .."
must_fail pw share restore fixed s0 --path /etc/passwd >/dev/null
[ ! -e "$M/fixed/../secret-outside" ] || fail ".. from the mount point"
mkdir "$M/fixed/sub"
[ ! -e "$M/fixed/sub/../../secret-outside" ] || fail ".. from a subdirectory"
before=$(stat -c '%Y %s %U' /etc/passwd)
ln -s /etc "$M/fixed/etc-link"
ln -s /etc/passwd "$M/fixed/passwd-link"
touch -h "$M/fixed/passwd-link" # acts on the link, not on /etc/passwd
pw share snapshot fixed s-links >/dev/null
assert_eq "$(readlink "$M/fixed/.snapshots/s-links/etc-link")" /etc "snapshot copies links as links"
must_fail pw share restore fixed s-links --path etc-link/passwd | grep -q "not a directory" ||
	fail "restore through a symlink"
rm "$M/fixed/passwd-link"
pw share restore fixed s-links
[ -L "$M/fixed/passwd-link" ] || fail "restore of a symlink"
assert_eq "$(stat -c '%Y %s %U' /etc/passwd)" "$before" "/etc/passwd untouched"
python3 -c "
import errno, os, sys
try:
    os.rename('$M/fixed/f', '$T/moved-out')
    sys.exit('rename out of the share succeeded')
except OSError as e:
    sys.exit(0 if e.errno == errno.EXDEV else f'rename out: {e}')
" || fail "rename out of the share"
[ -e "$M/fixed/f" ] || fail "file renamed out"

stop_volumed
! mountpoint -q "$M/fixed" || fail "share still mounted after SIGTERM"
log "ok"
