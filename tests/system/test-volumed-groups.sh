#!/usr/bin/env bash
# podwire-volumed: two "groups" — processes in their own mount namespaces
# with bind mounts of one share, one read-write, one read-only — see one
# coherent file system: a write by one is read by the other at once, fcntl
# and flock locks conflict across them, the read-only one gets EROFS.
. "$(dirname "$0")/lib.sh"

start_volumed
pw share create team >/dev/null
track_share team
pw share use team ga
pw share use team gb --read-only
SHARE=$RUN_DIR/shares/team
mkdir "$T/ga" "$T/gb"

# in_group rw|ro DEST CMD...: runs CMD in a new mount namespace where DEST
# is a bind mount of the share (read-only for ro), invisible to the host.
in_group() {
	local mode=$1 dest=$2
	shift 2
	local remount=true
	[ "$mode" = ro ] && remount="mount -o remount,bind,ro '$dest'"
	unshare -m --propagation private sh -c \
		"mount --bind '$SHARE' '$dest' && $remount && exec \"\$@\"" sh "$@"
}

! mountpoint -q "$T/ga" || fail "group mount leaked to the host"

# A write by one group is read by the other at once.
in_group rw "$T/ga" sh -c "echo 'from group a' >'$T/ga/note'"
assert_eq "$(in_group ro "$T/gb" cat "$T/gb/note")" "from group a" "read in group b"
for i in 1 2 3; do
	in_group rw "$T/ga" sh -c "echo round$i >'$T/ga/note'"
	assert_eq "$(in_group ro "$T/gb" cat "$T/gb/note")" "round$i" "fresh data in group b"
done

# The read-only group gets EROFS.
out=$(in_group ro "$T/gb" sh -c "echo x >'$T/gb/note'" 2>&1) && fail "write in the read-only group"
assert_contains "$out" "Read-only file system" "read-only group"
out=$(in_group ro "$T/gb" mkdir "$T/gb/newdir" 2>&1) && fail "mkdir in the read-only group"
assert_contains "$out" "Read-only file system" "read-only group mkdir"

# Locks: group a holds an fcntl write lock and an exclusive flock ...
in_group rw "$T/ga" python3 -c "
import fcntl, os, sys, time
fd = os.open('$T/ga/lockfile', os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX)
fcntl.flock(fd, fcntl.LOCK_EX)
open('$T/locked', 'w').close()
while not os.path.exists('$T/release'):
    time.sleep(0.02)
" &
holder=$!
track_pid $holder
for _ in $(seq 200); do [ -e "$T/locked" ] && break; sleep 0.05; done
[ -e "$T/locked" ] || fail "lock holder did not start"
# ... so group b (read-only: shared locks) is refused both ...
in_group ro "$T/gb" python3 -c "
import errno, fcntl, os, sys
fd = os.open('$T/gb/lockfile', os.O_RDONLY)
for name, fn in (('fcntl', lambda: fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)),
                 ('flock', lambda: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB))):
    try:
        fn()
        sys.exit(name + ' lock granted while group a holds it')
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            sys.exit(name + ': ' + str(e))
" || fail "locks do not conflict across groups"
touch "$T/release"
wait $holder || fail "lock holder failed"
# ... and gets them once group a let go.
in_group ro "$T/gb" python3 -c "
import fcntl, os
fd = os.open('$T/gb/lockfile', os.O_RDONLY)
fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
" || fail "lock not granted after release"

# df in a group shows the share (quota as size once set).
pw share quota team --quota 64M >/dev/null
size=$(in_group ro "$T/gb" df -k --output=size "$T/gb" | tail -1 | tr -d ' ')
assert_eq "$size" 65536 "df in a group after setting a quota"

show=$(pw share show team)
assert_contains "$show" "gb (read-only)" "users in share show"
stop_volumed
log "ok"
