"""Run a Command inside an unpacked root file system with bubblewrap, rootless.

design.md §4. ``BwrapRunner`` implements ``Runner``: the root file system is bound read-only at
``/``, with a new ``/proc``, a minimal ``/dev``, a private tmpfs on ``/tmp``, the given binds
(``/workspace``, ``/layers``, ``/platform``, ``/cnb/buildpacks``, ...), and, read-only, the host
CA bundle, ``/etc/resolv.conf`` and ``/etc/hosts`` (the host network is shared). Every other
namespace is new: user (``--uid``/``--gid``, default the CNB user 1000:1000), mount, pid, ipc,
uts, cgroup. Host paths in argv, cwd and env are translated to their inside paths
(``binds.py``); the environment is scrubbed of credentials (``hostenv.py``).

Call-scoped temp dirs: an argument that is a file in a directory the lifecycle made under the
host's temp dir for this call (``/tmp/plan.x1y2/plan.toml``, bin/detect's plan) and under no
bind gets that one directory bound, read-write, at the same path (inside ``/tmp``), so the
program can write it and the lifecycle read it back. Nothing else of the host is visible.

Options, environment and mounts reach bwrap through ``--args`` (a memfd), never its own
environment or command line: buildpack variables (``LD_LIBRARY_PATH``...) cannot affect the
bwrap process on the host, and values do not show in ``ps``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from lifecycle.errors import SandboxError
from lifecycle.sandbox import Command, OutputSink, Result
from lifecycle.sandbox.binds import (
    Bind,
    components,
    inside_path,
    is_under,
    ordered,
    translate_argv,
    translate_env,
    translate_path,
)
from lifecycle.sandbox.hostenv import CA_INSIDE, host_ca_bundle, sandbox_env
from lifecycle.sandbox.mounts import ensure, resolve_inside

__all__ = ["Bind", "BwrapRunner", "Invocation", "Mount", "NsRunner", "bwrap_args",
           "plan_mounts"]

log = logging.getLogger(__name__)

NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts")
"""Host files bound read-only when the host network is shared (as container engines do)."""

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


@dataclass(frozen=True, slots=True)
class Mount:
    """One bwrap mount operation: ``op`` (``--bind``, ``--ro-bind``, ``--proc``, ``--dev``,
    ``--tmpfs``), its inside destination and host source; ``create`` if the destination must
    be made in the root file system first (False when it lies in an earlier mount)."""

    op: str
    dest: str
    src: str | None = None
    is_dir: bool = True
    create: bool = True


@dataclass(frozen=True, slots=True)
class Invocation:
    """What to run: bwrap's options (passed through ``--args``) and the translated argv; the
    mounts, working directory and ids those options say, for ``NsRunner``."""

    options: tuple[str, ...]
    argv: tuple[str, ...]
    env: Mapping[str, str]
    mounts: tuple[Mount, ...] = ()
    cwd: str = "/"
    new_session: bool = True
    info_fd: int | None = None


def plan_mounts(rootfs: str, binds: Sequence[Bind],
                is_dir: Callable[[str], bool] = os.path.isdir,
                tmpfs: Sequence[str] = ()) -> tuple[Mount, ...]:
    """The mounts over the read-only root: kernel file systems, /tmp and the ``tmpfs``
    directories, then ``binds``, parents first; destinations outside earlier mounts are
    resolved in ``rootfs`` (symlinks)."""
    base = [Mount("--proc", "/proc"), Mount("--dev", "/dev"), Mount("--tmpfs", "/tmp"),
            *(Mount("--tmpfs", inside_path(d, "sandbox tmpfs")) for d in tmpfs)]
    wanted = base + [Mount("--ro-bind" if b.readonly else "--bind", b.inside, b.host,
                           is_dir(b.host)) for b in ordered(binds)]
    wanted.sort(key=lambda m: components(m.dest))
    done: list[Mount] = []
    for m in wanted:
        covered = any(is_under(m.dest, d.dest) for d in done)
        dest = m.dest if covered else resolve_inside(rootfs, m.dest)
        done.append(Mount(m.op, dest, m.src, m.is_dir, not covered))
    done.sort(key=lambda m: components(m.dest))
    return tuple(done)


def bwrap_args(rootfs: str, mounts: Sequence[Mount], *, uid: int, gid: int, network: bool,
               cwd: str, env: Mapping[str, str], new_session: bool = True,
               info_fd: int | None = None) -> list[str]:
    """bwrap's options for one run (everything before ``--`` and the command)."""
    args = ["--unshare-all", *(["--share-net"] if network else []), "--unshare-user",
            "--uid", str(uid), "--gid", str(gid), "--ro-bind", rootfs, "/"]
    for m in mounts:
        args += [m.op, m.src, m.dest] if m.src is not None else [m.op, m.dest]
    args += ["--chdir", cwd, "--die-with-parent"]
    if new_session:
        args.append("--new-session")
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    args.append("--clearenv")
    for key, value in sorted(env.items()):
        if not key or "=" in key or "\0" in key + value:
            raise SandboxError(f"environment variable {key!r}: invalid name or value")
        args += ["--setenv", key, value]
    return args


def call_tmp_binds(argv: Sequence[str], binds: Sequence[Bind],
                   tmpdir: str | None = None) -> list[Bind]:
    """Read-write binds for the call-scoped temp dirs ``argv`` names (see module docstring)."""
    tmp = os.path.realpath(tmpdir or tempfile.gettempdir())
    out: dict[str, Bind] = {}
    for arg in argv[1:]:
        if not arg.startswith("/") or any(is_under(arg, b.host) for b in binds):
            continue
        parent = os.path.dirname(os.path.normpath(arg))
        if parent != tmp and is_under(parent, tmp) and os.path.isdir(parent):
            out.setdefault(parent, Bind(parent, parent))
    return list(out.values())


class BwrapRunner:
    """A ``Runner`` that runs each Command in ``rootfs`` under bubblewrap (module docstring).

    ``host_ca``: bind the host CA bundle and point SSL_CERT_FILE, PIP_CERT,
    NODE_EXTRA_CA_CERTS and REQUESTS_CA_BUNDLE at it. ``network``: share the host network
    (else loopback only). ``environ``: the host environment (proxies, SSL_CERT_FILE).
    ``host_paths``: Commands name host paths (translate them, bind call-scoped temp dirs);
    False when they already name inside paths (``pypack run``). ``tmpfs``: inside
    directories that get a private, writable, empty tmpfs (e.g. the build user's HOME, which a
    container engine would leave writable: pip and npm write caches there).
    """

    def __init__(self, rootfs: str | os.PathLike[str], binds: Sequence[Bind] = (), *,
                 uid: int = 1000, gid: int = 1000, host_ca: bool = True, network: bool = True,
                 environ: Mapping[str, str] | None = None, bwrap: str | None = None,
                 host_paths: bool = True, tmpfs: Sequence[str] = ()) -> None:
        self.bwrap = self._launcher(bwrap)
        self.rootfs = os.path.realpath(rootfs)
        if not os.path.isdir(self.rootfs):
            raise SandboxError(f"root file system {rootfs} is not a directory")
        self.binds = tuple(ordered(binds))
        self.uid, self.gid, self.network = uid, gid, network
        self.host_paths = host_paths
        self.tmpfs = tuple(tmpfs)
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.ca_bundle = host_ca_bundle(self.environ) if host_ca else None
        if host_ca and self.ca_bundle is None:
            log.debug("no host CA bundle found; the sandbox keeps the image's own CAs")
        self.host_binds = tuple(self._host_binds())

    def _launcher(self, given: str | None) -> str:
        found = given or shutil.which("bwrap")
        if found is None:
            raise SandboxError("bubblewrap (bwrap) is not installed: install it (apt install "
                               "bubblewrap) or run buildpacks on the host with --sandbox none")
        return found

    def _payload(self, inv: Invocation) -> bytes:
        """What the launcher reads from its spec fd: bwrap's NUL-separated ``--args``."""
        return b"".join(o.encode("utf-8", "surrogateescape") + b"\0" for o in inv.options)

    def _argv(self, inv: Invocation, fd: int) -> list[str]:
        """The host argv that runs ``inv`` with its spec on ``fd``."""
        return [self.bwrap, "--args", str(fd), "--", *inv.argv]

    def _host_binds(self) -> Iterator[Bind]:
        claimed = {b.inside for b in self.binds}
        files = [(self.ca_bundle, CA_INSIDE)] if self.ca_bundle else []
        if self.network:
            files += [(os.path.realpath(f), f) for f in NETWORK_FILES if os.path.isfile(f)]
        for host, inside in files:
            if host is not None and inside not in claimed:
                yield Bind(host, inside, readonly=True)

    def invocation(self, cmd: Command, *, new_session: bool = True,
                   info_fd: int | None = None) -> Invocation:
        """Translate ``cmd``, make its mount points in the root file system, and return the
        bwrap options and inside argv."""
        if not cmd.argv:
            raise SandboxError("empty command")
        binds = [*self.binds, *call_tmp_binds(cmd.argv, self.binds)] if self.host_paths \
            else list(self.binds)
        paths = binds if self.host_paths else []
        env = sandbox_env(translate_env(cmd.env, paths), self.environ,
                          ca_path=CA_INSIDE if self.ca_bundle is not None else None)
        for b in binds:
            if not os.path.exists(b.host):
                raise SandboxError(f"sandbox bind {b.host} -> {b.inside}: {b.host} does not exist")
        mounts = plan_mounts(self.rootfs, [*binds, *self.host_binds], tmpfs=self.tmpfs)
        for m in mounts:
            if m.create:
                ensure(self.rootfs, m.dest, is_dir=m.is_dir)
        cwd = translate_path(cmd.cwd, paths)
        options = bwrap_args(self.rootfs, mounts, uid=self.uid, gid=self.gid,
                             network=self.network, cwd=cwd, env=env,
                             new_session=new_session, info_fd=info_fd)
        return Invocation(tuple(options), translate_argv(cmd.argv, paths), env, mounts, cwd,
                          new_session, info_fd)

    def __call__(self, cmd: Command, on_output: OutputSink | None = None) -> Result:
        """Run ``cmd`` to completion, stdin empty, stdout+stderr captured (and streamed)."""
        inv = self.invocation(cmd)
        chunks: list[bytes] = []
        with _args_fd(self._payload(inv)) as fd, subprocess.Popen(
                self._argv(inv, fd), env={}, cwd="/",
                pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT) as proc:
            assert proc.stdout is not None
            for line in iter(proc.stdout.readline, b""):
                chunks.append(line)
                if on_output is not None:
                    on_output(line)
            rc = proc.wait()
        return Result(_exit_status(rc), b"".join(chunks))

    def run_attached(self, cmd: Command) -> int:
        """Run ``cmd`` with this process's stdin, stdout and stderr and return its exit
        status. SIGINT, SIGTERM, SIGHUP and SIGQUIT received meanwhile (Ctrl-C) are forwarded
        to the sandboxed program's process group."""
        r, w = os.pipe()
        fwd = _Forwarder()
        try:
            inv = self.invocation(cmd, info_fd=w)
            with fwd.installed(), _args_fd(self._payload(inv)) as fd:
                proc = subprocess.Popen(self._argv(inv, fd), env={}, cwd="/",
                                        pass_fds=(fd, w), process_group=0)
                os.close(w)
                w = -1
                fwd.started(proc)
                with os.fdopen(r, "rb") as info:
                    r = -1
                    fwd.sandboxed(_child_pid(info.read()))
                return _exit_status(proc.wait())
        finally:
            for fd_ in (r, w):
                if fd_ >= 0:
                    os.close(fd_)


def _exit_status(rc: int) -> int:
    return rc if rc >= 0 else 128 - rc


def _child_pid(raw: bytes) -> int | None:
    try:
        pid = json.loads(raw or b"{}").get("child-pid")
    except (ValueError, AttributeError):
        return None
    return pid if isinstance(pid, int) and pid > 0 else None


class _Forwarder:
    """Forwards FORWARDED_SIGNALS to the sandbox's process group (bwrap's child, which is
    the session leader with --new-session); to bwrap itself until that pid is known; a signal
    that arrives before bwrap started is delivered once it has."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.pgid: int | None = None
        self.pending: int | None = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        saved: dict[int, Any] = {}
        try:
            for sig in FORWARDED_SIGNALS:
                saved[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: nothing is forwarded
            pass
        try:
            yield
        finally:
            for signum, handler in saved.items():
                signal.signal(signum, handler)

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        if self.pending is not None:
            self._handle(self.pending, None)

    def sandboxed(self, pgid: int | None) -> None:
        self.pgid = pgid

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.pgid is not None:
                os.killpg(self.pgid, signum)
            elif self.proc is not None:
                self.proc.send_signal(signum)
            else:
                self.pending = signum


@contextlib.contextmanager
def _args_fd(payload: bytes) -> Iterator[int]:
    """A memfd holding ``payload`` (bwrap's NUL-separated ``--args``, or NsRunner's JSON
    spec), positioned at 0."""
    fd = os.memfd_create("pypack-sandbox-args", 0)
    try:
        data = memoryview(payload)
        while data:
            data = data[os.write(fd, data):]
        os.lseek(fd, 0, os.SEEK_SET)
        yield fd
    finally:
        os.close(fd)


NSEXEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nsexec.py")
"""pypack's own namespace sandbox program (``lifecycle/sandbox/nsexec.py``)."""


class NsRunner(BwrapRunner):
    """A ``BwrapRunner`` that needs no bubblewrap: the same mounts, ids and environment, made
    by ``nsexec.py`` (stdlib only, run by this Python with ``-I -S``) in unprivileged
    namespaces. For machines where user namespaces work but bubblewrap is not installed."""

    def _launcher(self, given: str | None) -> str:
        return given or sys.executable

    def _payload(self, inv: Invocation) -> bytes:
        spec = {"rootfs": self.rootfs, "uid": self.uid, "gid": self.gid,
                "network": self.network, "cwd": inv.cwd, "env": dict(inv.env),
                "argv": list(inv.argv), "new_session": inv.new_session,
                "info_fd": inv.info_fd,
                "mounts": [{"op": m.op, "dest": m.dest, "src": m.src, "is_dir": m.is_dir}
                           for m in inv.mounts]}
        return json.dumps(spec).encode()  # \u escapes keep surrogate-escaped bytes

    def _argv(self, inv: Invocation, fd: int) -> list[str]:
        return [self.bwrap, "-I", "-S", NSEXEC, str(fd)]
