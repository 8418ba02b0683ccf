"""Choosing how buildpack programs run: ``--sandbox auto|userns|none``.

design.md §4. ``auto`` and ``userns`` run them in the build image's root file system in an
unprivileged user namespace: with bubblewrap when a probe (``bwrap --unshare-user --ro-bind / /
true``, run once per process) succeeds, else with pypack's own ``nsexec.py`` (no package needed,
just the kernel's user namespaces) when its probe succeeds; otherwise SandboxError says why
(``kernel.unprivileged_userns_clone=0``, ``user.max_user_namespaces=0``, an AppArmor
restriction, ...) and what to do. ``none`` runs them on the host with a warning.
``PYPACK_SANDBOX_IMPL=bwrap|nsexec`` forces one of the two (tests, or a broken bubblewrap).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from lifecycle.errors import SandboxError, UsageError
from lifecycle.sandbox import HostRunner, Runner
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.bwrap import NSEXEC, BwrapRunner, NsRunner

log = logging.getLogger(__name__)

MODES = ("auto", "userns", "none")

_SYSCTLS = (
    ("/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone=0",
     "sysctl -w kernel.unprivileged_userns_clone=1"),
    ("/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces=0",
     "sysctl -w user.max_user_namespaces=15000"),
    ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
     "kernel.apparmor_restrict_unprivileged_userns=1 (AppArmor forbids unprivileged user "
     "namespaces)", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor "
     "profile allowing userns for bwrap"),
)


def diagnose(proc_root: str = "/") -> list[tuple[str, str]]:
    """Kernel settings known to forbid unprivileged user namespaces: (why, fix) pairs."""
    found = []
    for path, bad, why, fix in _SYSCTLS:
        try:
            value = (Path(proc_root) / path.lstrip("/")).read_text().strip()
        except OSError:
            continue
        if value == bad:
            found.append((why, fix))
    return found


def explain(reason: str, causes: Sequence[tuple[str, str]]) -> str:
    """The message of the SandboxError raised when no sandbox is possible."""
    msg = f"cannot run buildpacks in a sandbox: {reason}"
    if causes:
        msg += "; " + "; ".join(f"{why} (fix: {fix})" for why, fix in causes)
    return msg + ("; or run them on the host without isolation with --sandbox none")


def _try(argv: list[str], cannot_run: str, failed: str) -> str | None:
    """None if ``argv`` exits 0, else ``cannot_run: error`` or ``failed (its stderr)``."""
    try:
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                             env={})
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{cannot_run}: {e}"
    if res.returncode == 0:
        return None
    err = res.stderr.decode("utf-8", "replace").strip() or f"exit status {res.returncode}"
    return f"{failed}: {err}"


@functools.cache
def probe(bwrap: str | None = None) -> str | None:
    """None if bubblewrap can make an unprivileged user namespace here, else why not
    (cached: run once per process)."""
    exe = bwrap or shutil.which("bwrap")
    if exe is None:
        return "bubblewrap (bwrap) is not installed (fix: apt install bubblewrap)"
    return _try([exe, "--unshare-user", "--ro-bind", "/", "/", "true"], f"{exe} cannot run",
                "bwrap cannot create a user namespace")


@functools.cache
def probe_nsexec() -> str | None:
    """None if pypack's own sandbox (``nsexec.py``) can make its namespaces here, else why
    not (cached)."""
    return _try([sys.executable, "-I", "-S", NSEXEC, "--probe"],
                "pypack's namespace sandbox cannot run", "no unprivileged user namespace")


def backend(environ: Mapping[str, str] | None = None) -> type[BwrapRunner]:
    """The sandbox implementation to use here: BwrapRunner, else NsRunner; SandboxError
    (saying why and what to do) when neither works."""
    forced = (os.environ if environ is None else environ).get("PYPACK_SANDBOX_IMPL", "")
    if forced not in ("", "bwrap", "nsexec"):
        raise UsageError(f"PYPACK_SANDBOX_IMPL={forced!r}: want bwrap or nsexec")
    reasons = []
    if forced != "nsexec":
        reason = probe()
        if reason is None:
            return BwrapRunner
        reasons.append(reason)
    if forced != "bwrap":
        reason = probe_nsexec()
        if reason is None:
            if reasons:
                log.debug("%s; using pypack's own namespace sandbox", reasons[0])
            return NsRunner
        reasons.append(reason)
    raise SandboxError(explain("; ".join(reasons), diagnose()))


def require_userns() -> None:
    """SandboxError (saying why and what to do) unless a sandbox works here."""
    backend()


def make_runner(mode: str, rootfs: str | Path | None = None, binds: Sequence[Bind] = (), *,
                uid: int = 1000, gid: int = 1000, host_ca: bool = True, network: bool = True,
                environ: Mapping[str, str] | None = None, tmpfs: Sequence[str] = ()) -> Runner:
    """The runner for ``--sandbox MODE`` (see the module docstring). ``rootfs`` and
    ``binds`` are ignored by ``none``, which runs host paths directly; the other options are
    ``BwrapRunner``'s."""
    if mode not in MODES:
        raise UsageError(f"--sandbox {mode!r}: want one of {', '.join(MODES)}")
    if mode == "none":
        log.warning("WARNING: --sandbox none: buildpacks run on this host as this user, "
                    "without isolation, and can read anything this user can")
        return HostRunner(environ, host_ca)
    impl = backend(environ)
    if rootfs is None:
        raise UsageError(f"--sandbox {mode}: no root file system to run in")
    return impl(rootfs, binds, uid=uid, gid=gid, host_ca=host_ca, network=network,
                environ=environ, tmpfs=tmpfs)
