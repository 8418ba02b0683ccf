"""pypack's own namespace sandbox, for machines without bubblewrap (design.md §4, issue 6:
"needs no extra system package where the kernel allows unprivileged user namespaces").

Run as a program, ``python3 -I -S nsexec.py FD``, with a JSON spec on file descriptor FD (what
``bwrap.NsRunner`` writes): the root file system, the mounts over it (the same plan bubblewrap
gets: ``--ro-bind``, ``--bind``, ``--proc``, ``--dev``, ``--tmpfs``), uid and gid, network,
working directory, environment and argv. Standard library only (``ctypes`` for ``unshare`` and
``mount``), so it starts fast and needs nothing installed.

What it does, as bubblewrap does:

1. ``unshare`` a user, mount, pid, ipc and uts namespace (and a network namespace when the
   network is not shared); map only this user's uid and gid, to the requested ones (default
   the CNB user 1000:1000); ``setgroups`` denied.
2. fork: the child is pid 1 of the new pid namespace. It makes every mount private, brings up
   ``lo`` when the network is not shared, binds the root file system onto itself, mounts
   ``/proc``, a minimal ``/dev`` (a tmpfs with the host's null, zero, full, random, urandom and
   tty bound in), tmpfs dirs and the binds (parents first; a read-only bind is read-only in
   every mount it brings along, keeping the flags the kernel locks), then ``pivot_root``s into
   the root, detaches the old one (nothing of the host stays reachable, even for a uid 0
   command) and makes the root read-only.
3. pid 1 forks the command: new session, ``no_new_privs``, the working directory, the
   environment, ``execvp``. ``execve`` drops every capability unless the command's uid is 0
   (which keeps them inside the user namespace only, as with bubblewrap).
   pid 1 reaps orphans, forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT to the command (one that came
   early is sent once it runs), and exits with its status (128+N for a signal) as soon as it
   exits, which ends whatever it left running; so does this process, which forwards the same
   signals to pid 1. Every process dies with its parent.

Exit status 125 with a one-line ``nsexec:`` message when the sandbox itself cannot be made.
``--probe`` only checks that the namespaces can be made (exit 0).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000

ST_RDONLY, ST_NOSUID, ST_NODEV, ST_NOEXEC = 0x1, 0x2, 0x4, 0x8
ST_NOATIME, ST_NODIRATIME, ST_RELATIME = 0x400, 0x800, 0x1000
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 0x400, 0x800, 0x200000

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
SETUP_FAILED = 125

_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(Exception):
    """The sandbox could not be made."""


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(src: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else os.fsencode(s)
    rc = _libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(rc, f"mount {src or fstype} on {target}")


def umount2(target: str, flags: int) -> None:
    _check(_libc.umount2(os.fsencode(target), ctypes.c_int(flags)), f"umount {target}")

_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203,
                   "s390x": 217, "armv7l": 218, "i686": 217}
MNT_DETACH = 2


def pivot_into(root: str) -> None:
    """Make ``root`` the root of this mount namespace and detach the old one (nothing of the
    host stays reachable, unlike ``chroot``): ``pivot_root(".", ".")`` then unmount the old
    root stacked on top of it."""
    number = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise SetupError(f"pivot_root: unknown architecture {os.uname().machine}")
    os.chdir(root)
    _check(_libc.syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
    umount2(".", MNT_DETACH)
    os.chdir("/")


def loopback_up() -> None:
    """Bring ``lo`` up in a new network namespace (as bubblewrap does)."""
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        got = fcntl.ioctl(s, siocgifflags, struct.pack("16sH22x", b"lo", 0))
        flags = struct.unpack("16sH22x", got)[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl")


def locked_flags(path: str) -> int:
    """The flags of the mount holding ``path`` that a remount in a user namespace must keep."""
    f = os.statvfs(path).f_flag
    out = 0
    for st, ms in ((ST_NOSUID, MS_NOSUID), (ST_NODEV, MS_NODEV), (ST_NOEXEC, MS_NOEXEC),
                   (ST_NOATIME, MS_NOATIME), (ST_NODIRATIME, MS_NODIRATIME),
                   (ST_RELATIME, MS_RELATIME), (ST_RDONLY, MS_RDONLY)):
        if f & st:
            out |= ms
    return out


def write(path: str, text: str) -> None:
    """One ``write(2)`` to an existing file (``/proc/self/uid_map`` takes no O_CREAT)."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def map_ids(uid: int, gid: int, host_uid: int, host_gid: int) -> None:
    write("/proc/self/setgroups", "deny")
    write("/proc/self/uid_map", f"{uid} {host_uid} 1\n")
    write("/proc/self/gid_map", f"{gid} {host_gid} 1\n")


def ensure_point(path: str, is_dir: bool) -> None:
    """Make the mount point ``path`` if missing (a directory, or an empty file)."""
    if os.path.lexists(path):
        return
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a"):
            pass


def submounts(target: str) -> list[str]:
    """``target`` and every mount point under it (``/proc/self/mountinfo``), parents first."""
    out = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            point = line.split()[4].decode("unicode_escape").encode("latin-1")
            path = os.fsdecode(point)
            if path == target or path.startswith(target.rstrip("/") + "/"):
                out.append(path)
    return sorted(set(out), key=lambda p: p.count("/"))


def bind(src: str, target: str, readonly: bool) -> None:
    mount(src, target, None, MS_BIND | MS_REC)
    if readonly:  # every mount the recursive bind brought along, not only the top one
        for point in submounts(target):
            mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(point))


def make_dev(target: str) -> None:
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755")
    for name in DEVICES:
        host = f"/dev/{name}"
        if os.path.exists(host):
            ensure_point(f"{target}/{name}", is_dir=False)
            mount(host, f"{target}/{name}", None, MS_BIND)
    for name, dest in (("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2"), ("fd", "/proc/self/fd"),
                       ("core", "/proc/kcore")):
        os.symlink(dest, f"{target}/{name}")
    os.mkdir(f"{target}/shm")
    mount("tmpfs", f"{target}/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    os.mkdir(f"{target}/pts")
    try:
        mount("devpts", f"{target}/pts", "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=620")
        os.symlink("pts/ptmx", f"{target}/ptmx")
    except SetupError:
        pass  # no pseudo-terminals inside; nothing a buildpack needs


def build_root(spec: dict[str, object]) -> str:
    """Mount everything over the root file system (in the new mount namespace); returns it."""
    root = str(spec["rootfs"])
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount(root, root, None, MS_BIND | MS_REC)
    mounts = spec["mounts"]
    assert isinstance(mounts, list)
    for m in mounts:
        op, dest, src, is_dir = m["op"], m["dest"], m.get("src"), m.get("is_dir", True)
        target = root + dest
        ensure_point(target, is_dir or op in ("--proc", "--dev", "--tmpfs"))
        if op == "--proc":
            mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        elif op == "--dev":
            make_dev(target)
        elif op == "--tmpfs":
            mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
        elif op in ("--bind", "--ro-bind"):
            bind(str(src), target, op == "--ro-bind")
        else:
            raise SetupError(f"unknown mount operation {op}")
    return root


class Forward:
    """Forwards FORWARDED signals to a process (group) once it is known; one that arrives
    before is kept and sent when it is (an early Ctrl-C still stops the command)."""

    def __init__(self, group: bool) -> None:
        self.group = group
        self.pid: int | None = None
        self.pending: int | None = None
        for sig in FORWARDED:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.pid is None:
            self.pending = signum
            return
        try:
            if self.group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def started(self, pid: int) -> None:
        self.pid = pid
        if self.pending is not None:
            self._handle(self.pending, None)


def _status(wstatus: int) -> int:
    if os.WIFSIGNALED(wstatus):
        return 128 + os.WTERMSIG(wstatus)
    return os.WEXITSTATUS(wstatus)


def init(spec: dict[str, object], ready_w: int) -> int:
    """pid 1: make the root, start the command, reap until it exits, return its status."""
    forward = Forward(group=bool(spec.get("new_session", True)))
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if not spec.get("network", True):
        loopback_up()
    root = build_root(spec)
    pivot_into(root)
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags("/"))
    argv = [str(a) for a in spec["argv"]]  # type: ignore[attr-defined]
    env = {str(k): str(v) for k, v in spec["env"].items()}  # type: ignore[attr-defined]
    cwd = str(spec["cwd"])
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            for sig in FORWARDED:
                signal.signal(sig, signal.SIG_DFL)
            if spec.get("new_session", True):
                os.setsid()
            prctl(PR_SET_NO_NEW_PRIVS, 1)
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        except (OSError, SetupError) as e:
            os.write(w, f"{argv[0]}: {e}".encode())
            os._exit(SETUP_FAILED)
    forward.started(pid)
    os.close(w)
    os.write(ready_w, b"1")
    os.close(ready_w)
    failed = os.read(r, 4096)
    os.close(r)
    if failed:
        sys.stderr.write(f"nsexec: cannot run {failed.decode(errors='replace')}\n")
    while True:  # reap orphans until the command exits; pid 1 exiting ends the rest
        try:
            got, wstatus = os.wait()
        except ChildProcessError:
            return SETUP_FAILED
        if got == pid:
            return _status(wstatus)


def run(spec: dict[str, object]) -> int:
    """The outer process: namespaces, ids, pid 1, wait."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    host_uid, host_gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if not spec.get("network", True):
        flags |= CLONE_NEWNET
    unshare(flags)
    map_ids(int(spec.get("uid", 1000)), int(spec.get("gid", 1000)),  # type: ignore[call-overload]
            host_uid, host_gid)
    forward = Forward(group=False)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        if isinstance(spec.get("info_fd"), int):  # only this process reports; never leak it
            os.close(int(spec["info_fd"]))  # type: ignore[call-overload]
        try:
            os._exit(init(spec, ready_w))
        except SetupError as e:
            sys.stderr.write(f"nsexec: {e}\n")
            sys.stderr.flush()
            os._exit(SETUP_FAILED)
        except BaseException as e:  # never fall back into the caller's code
            sys.stderr.write(f"nsexec: {type(e).__name__}: {e}\n")
            sys.stderr.flush()
            os._exit(SETUP_FAILED)
    forward.started(pid)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    info_fd = spec.get("info_fd")
    if isinstance(info_fd, int):  # no child-pid: signals come to this process, which forwards
        os.write(info_fd, b"{}")
        os.close(info_fd)
    while True:
        try:
            _, wstatus = os.waitpid(pid, 0)
            return _status(wstatus)
        except InterruptedError:
            continue


def probe() -> int:
    """Exit 0 if the namespaces can be made here."""
    host_uid, host_gid = os.getuid(), os.getgid()  # before unshare: then they read 65534
    try:
        unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)
        map_ids(1000, 1000, host_uid, host_gid)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except (SetupError, OSError) as e:
        sys.stderr.write(f"nsexec: {e}\n")
        return 1
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--probe"]:
        return probe()
    if len(argv) != 2 or not argv[1].isdigit():
        sys.stderr.write("usage: nsexec.py FD (a JSON spec on FD) | --probe\n")
        return 2
    with os.fdopen(int(argv[1]), "rb") as f:
        spec = json.loads(f.read())
    try:
        return run(spec)
    except (SetupError, OSError) as e:
        sys.stderr.write(f"nsexec: {e}\n")
        return SETUP_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
