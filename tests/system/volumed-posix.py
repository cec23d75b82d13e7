#!/usr/bin/env python3
"""POSIX behaviour suite for podwire shares (tests/system/test-volumed-posix.sh).

Usage: volumed-posix.py DIR
Runs every check in a fresh subdirectory of DIR and exits non-zero at the
first failure. It is run both on a native directory and on a share: the
same program must see the same behaviour on both.
"""
import ctypes
import errno
import fcntl
import mmap
import os
import stat
import sys
import threading
import time

NOBODY = 65534
libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2


def renameat2(old, new, flags):
    r = libc.renameat2(-100, old.encode(), -100, new.encode(), ctypes.c_uint(flags))
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def expect_errno(err, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        check(e.errno == err, f"{fn.__name__}{args}: expected {errno.errorcode[err]}, "
                              f"got {errno.errorcode.get(e.errno, e.errno)}")
        return
    raise Fail(f"{fn.__name__}{args}: expected {errno.errorcode[err]}, succeeded")


def write(path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode=0o644):
    fd = os.open(path, flags, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def as_nobody(fn):
    """Runs fn in a child with uid/gid nobody; returns its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            fn()
            os._exit(0)
        except Fail as e:
            print(f"FAIL (as nobody): {e}", file=sys.stderr)
            os._exit(1)
        except BaseException as e:  # noqa
            print(f"FAIL (as nobody): {e!r}", file=sys.stderr)
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def t_files(d):
    p = f"{d}/f"
    write(p, b"hello world")
    check(read(p) == b"hello world", "read back")
    st = os.stat(p)
    check(stat.S_ISREG(st.st_mode) and st.st_size == 11, "stat size")
    check(st.st_uid == os.getuid() and st.st_gid == os.getgid(), "owner is the creator")
    os.chmod(p, 0o600)
    check(stat.S_IMODE(os.stat(p).st_mode) == 0o600, "chmod")
    os.chown(p, 1234, 5678)
    st = os.stat(p)
    check((st.st_uid, st.st_gid) == (1234, 5678), "chown")
    os.truncate(p, 5)
    check(read(p) == b"hello", "truncate shrink")
    os.truncate(p, 8)
    check(read(p) == b"hello\0\0\0", "truncate extend")
    os.utime(p, ns=(1_000_000_000, 2_000_000_000))
    st = os.stat(p)
    check(st.st_mtime_ns == 2_000_000_000 and st.st_atime_ns == 1_000_000_000, "utimens")
    fd = os.open(p, os.O_RDWR)
    os.pwrite(fd, b"XY", 1)
    os.fsync(fd)
    os.fdatasync(fd)
    check(os.pread(fd, 8, 0) == b"hXYlo\0\0\0", "pwrite/pread")
    os.ftruncate(fd, 2)
    os.close(fd)
    check(read(p) == b"hX", "ftruncate")
    expect_errno(errno.EEXIST, os.open, p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    expect_errno(errno.ENOENT, os.stat, f"{d}/missing")
    write(p, b"new")  # O_TRUNC of an existing file
    check(read(p) == b"new", "O_TRUNC")


def t_dirs(d):
    os.mkdir(f"{d}/sub", 0o750)
    st = os.stat(f"{d}/sub")
    check(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750, "mkdir mode")
    write(f"{d}/sub/x", b"x")
    expect_errno(errno.ENOTEMPTY, os.rmdir, f"{d}/sub")
    expect_errno(errno.EEXIST, os.mkdir, f"{d}/sub")
    os.unlink(f"{d}/sub/x")
    os.rmdir(f"{d}/sub")
    check(not os.path.exists(f"{d}/sub"), "rmdir")
    os.mkdir(f"{d}/many")
    names = {f"file-{i:04d}" for i in range(600)}
    for n in names:
        write(f"{d}/many/{n}", n.encode())
    check(set(os.listdir(f"{d}/many")) == names, "readdir lists every entry")
    with os.scandir(f"{d}/many") as it:
        for e in it:
            check(e.is_file() and e.stat().st_size == len(e.name), "readdirplus attrs")
    for n in names:
        os.unlink(f"{d}/many/{n}")
    check(os.listdir(f"{d}/many") == [], "empty after unlinks")
    fd = os.open(f"{d}/many", os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)


def t_unlink_open(d):
    p = f"{d}/open"
    write(p, b"still here")
    fd = os.open(p, os.O_RDWR)
    os.unlink(p)
    check(not os.path.exists(p), "unlinked name gone")
    check(os.pread(fd, 10, 0) == b"still here", "read after unlink")
    os.pwrite(fd, b"STILL", 0)
    check(os.pread(fd, 10, 0) == b"STILL here", "write after unlink")
    check(os.fstat(fd).st_nlink == 0, "nlink 0 after unlink")
    os.close(fd)


def t_rename(d):
    write(f"{d}/a", b"A")
    write(f"{d}/b", b"B")
    os.rename(f"{d}/a", f"{d}/b")
    check(read(f"{d}/b") == b"A" and not os.path.exists(f"{d}/a"), "rename over existing")
    write(f"{d}/c", b"C")
    try:
        renameat2(f"{d}/c", f"{d}/b", RENAME_NOREPLACE)
        raise Fail("RENAME_NOREPLACE replaced")
    except OSError as e:
        check(e.errno == errno.EEXIST, "RENAME_NOREPLACE gives EEXIST")
    renameat2(f"{d}/c", f"{d}/b", RENAME_EXCHANGE)
    check(read(f"{d}/b") == b"C" and read(f"{d}/c") == b"A", "RENAME_EXCHANGE swaps")
    os.mkdir(f"{d}/rd")
    os.rename(f"{d}/c", f"{d}/rd/c2")
    check(read(f"{d}/rd/c2") == b"A", "rename into subdir")


def t_links(d):
    p = f"{d}/orig"
    write(p, b"linked")
    os.link(p, f"{d}/hard")
    check(os.stat(p).st_nlink == 2 and os.stat(f"{d}/hard").st_nlink == 2, "nlink 2")
    check(os.stat(p).st_ino == os.stat(f"{d}/hard").st_ino, "same inode")
    write(f"{d}/hard", b"changed", os.O_WRONLY | os.O_TRUNC)
    check(read(p) == b"changed", "write via one link seen via the other")
    os.unlink(p)
    check(os.stat(f"{d}/hard").st_nlink == 1, "nlink 1 after unlink")
    os.symlink("hard", f"{d}/sym")
    check(os.readlink(f"{d}/sym") == "hard", "readlink")
    check(stat.S_ISLNK(os.lstat(f"{d}/sym").st_mode), "lstat symlink")
    check(read(f"{d}/sym") == b"changed", "follow symlink")
    os.symlink("/nonexistent/target", f"{d}/dangling")
    check(os.readlink(f"{d}/dangling") == "/nonexistent/target", "dangling readlink")


def t_fifo(d):
    p = f"{d}/fifo"
    os.mkfifo(p, 0o600)
    check(stat.S_ISFIFO(os.stat(p).st_mode), "mkfifo type")
    got = []
    t = threading.Thread(target=lambda: got.append(read(p)))
    t.start()
    write(p, b"through the pipe", os.O_WRONLY)
    t.join(10)
    check(got == [b"through the pipe"], "fifo data")


def t_statfs_xattr(d):
    s = os.statvfs(d)
    check(s.f_blocks > 0 and s.f_bsize > 0, "statfs")
    p = f"{d}/x"
    write(p, b"x")
    os.setxattr(p, "user.color", b"blue")
    check(os.getxattr(p, "user.color") == b"blue", "getxattr")
    check("user.color" in os.listxattr(p), "listxattr")
    os.removexattr(p, "user.color")
    expect_errno(errno.ENODATA, os.getxattr, p, "user.color")


def t_fallocate_copy_seek(d):
    p = f"{d}/alloc"
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    os.posix_fallocate(fd, 0, 1 << 20)
    check(os.fstat(fd).st_size == 1 << 20, "fallocate extends")
    os.close(fd)
    src = f"{d}/src"
    data = os.urandom(300_000)
    write(src, data)
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(f"{d}/dst", os.O_WRONLY | os.O_CREAT, 0o644)
    left = len(data)
    while left:
        n = os.copy_file_range(fi, fo, left)
        check(n > 0, "copy_file_range progress")
        left -= n
    os.close(fi)
    os.close(fo)
    check(read(f"{d}/dst") == data, "copy_file_range content")
    sp = f"{d}/sparse"
    fd = os.open(sp, os.O_RDWR | os.O_CREAT, 0o644)
    os.pwrite(fd, b"a" * 4096, 0)
    os.pwrite(fd, b"b" * 4096, 8 << 20)
    os.fsync(fd)
    hole = os.lseek(fd, 0, os.SEEK_HOLE)
    check(4096 <= hole < 8 << 20, f"SEEK_HOLE finds the hole ({hole})")
    data_off = os.lseek(fd, hole, os.SEEK_DATA)
    check(hole < data_off <= 8 << 20, f"SEEK_DATA finds the data ({data_off})")
    os.close(fd)


def t_append(d):
    p = f"{d}/log"
    write(p, b"")
    lines, procs = 400, 2
    pids = []
    for k in range(procs):
        pid = os.fork()
        if pid == 0:
            fd = os.open(p, os.O_WRONLY | os.O_APPEND)
            for i in range(lines):
                os.write(fd, (f"{k}:{i:05d}:" + "x" * 90 + "\n").encode())
            os.close(fd)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        check(os.waitstatus_to_exitcode(status) == 0, "appender exit")
    got = read(p).decode().splitlines()
    check(len(got) == lines * procs, f"O_APPEND kept every line ({len(got)})")
    for k in range(procs):
        mine = [l for l in got if l.startswith(f"{k}:")]
        check(mine == [f"{k}:{i:05d}:" + "x" * 90 for i in range(lines)], "lines intact")


def t_mmap(d):
    p = f"{d}/mapped"
    write(p, b"\0" * 8192)
    fd = os.open(p, os.O_RDWR)
    m = mmap.mmap(fd, 8192)
    m[100:105] = b"MMAPD"
    m[5000:5003] = b"end"
    m.flush()
    m.close()
    os.close(fd)
    data = read(p)
    check(data[100:105] == b"MMAPD" and data[5000:5003] == b"end", "mmap write then read")


def t_locks(d):
    p = f"{d}/lockfile"
    write(p, b"lock")
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    pid = os.fork()
    if pid == 0:
        fd2 = os.open(p, os.O_RDWR)
        code = 0
        try:
            fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
            code = 1
        except OSError as e:
            code = 0 if e.errno in (errno.EAGAIN, errno.EACCES) else 2
        try:
            fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
            code = code or 3
        except OSError as e:
            code = code or (0 if e.errno == errno.EWOULDBLOCK else 4)
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    check(os.waitstatus_to_exitcode(status) == 0, "fcntl/flock locks conflict")
    os.close(fd)


def t_permissions(d):
    os.chmod(d, 0o755)
    write(f"{d}/rootfile", b"root's", mode=0o644)
    os.mkdir(f"{d}/open", 0o777)
    os.chmod(f"{d}/open", 0o777)

    def as_user():
        expect_errno(errno.EACCES, os.open, f"{d}/newfile", os.O_WRONLY | os.O_CREAT, 0o644)
        expect_errno(errno.EACCES, os.open, f"{d}/rootfile", os.O_WRONLY)
        expect_errno(errno.EACCES, os.mkdir, f"{d}/newdir")
        expect_errno(errno.EPERM, os.chmod, f"{d}/rootfile", 0o666)
        expect_errno(errno.EPERM, os.chown, f"{d}/rootfile", NOBODY, NOBODY)
        check(read(f"{d}/rootfile") == b"root's", "nobody can read a 0644 file")
        write(f"{d}/open/mine", b"mine")
        os.mkdir(f"{d}/open/mydir")
        for n in ("mine", "mydir"):
            st = os.stat(f"{d}/open/{n}")
            check((st.st_uid, st.st_gid) == (NOBODY, NOBODY), f"{n} owned by its creator")
        os.chmod(f"{d}/open/mine", 0o600)

    check(as_nobody(as_user) == 0, "permission checks for a non-root user")
    expect_errno(errno.EACCES, lambda: as_nobody_read(f"{d}/open/mine"))


def as_nobody_read(path):
    # Root can read the 0600 file of nobody; another non-root uid cannot.
    pid = os.fork()
    if pid == 0:
        os.setgroups([])
        os.setresgid(4242, 4242, 4242)
        os.setresuid(4242, 4242, 4242)
        try:
            read(path)
            os._exit(0)
        except PermissionError:
            os._exit(13)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 13:
        raise OSError(errno.EACCES, "permission denied")


def t_suid_cleared(d):
    # A write or truncate by a user without CAP_FSETID clears set-user-ID
    # (and set-group-ID of a group-executable file); root's keeps them.
    os.chmod(d, 0o755)
    for name, mode in (("suid", 0o4777), ("sgid", 0o2777)):
        write(f"{d}/{name}", b"x")
        os.chmod(f"{d}/{name}", mode)
    write(f"{d}/rootw", b"x")
    os.chmod(f"{d}/rootw", 0o4755)
    with open(f"{d}/rootw", "ab") as f:
        f.write(b"root")
    check(os.stat(f"{d}/rootw").st_mode & 0o7777 == 0o4755, "root's write keeps set-user-ID")

    def as_user():
        with open(f"{d}/suid", "ab") as f:
            f.write(b"y")
        os.truncate(f"{d}/sgid", 0)

    check(as_nobody(as_user) == 0, "nobody writes and truncates")
    check(os.stat(f"{d}/suid").st_mode & 0o7777 == 0o777, "write clears set-user-ID")
    check(os.stat(f"{d}/sgid").st_mode & 0o7777 == 0o777, "truncate clears set-group-ID")


TESTS = [t_files, t_dirs, t_unlink_open, t_rename, t_links, t_fifo, t_statfs_xattr,
         t_fallocate_copy_seek, t_append, t_mmap, t_locks, t_permissions, t_suid_cleared]


def main():
    base = sys.argv[1]
    for t in TESTS:
        d = os.path.join(base, t.__name__)
        os.mkdir(d)
        start = time.monotonic()
        try:
            t(d)
        except Fail as e:
            print(f"FAIL {t.__name__}: {e}", file=sys.stderr)
            sys.exit(1)
        except OSError as e:
            print(f"FAIL {t.__name__}: unexpected {e!r}", file=sys.stderr)
            sys.exit(1)
        print(f"ok {t.__name__} ({time.monotonic() - start:.2f}s)")


if __name__ == "__main__":
    main()
