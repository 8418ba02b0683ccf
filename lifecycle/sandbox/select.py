"""Choosing how buildpack programs run: ``--sandbox auto|userns|none``.

design.md §4. ``auto`` and ``userns`` run them in the build image's root file system under
bubblewrap in an unprivileged user namespace, if a probe (``bwrap --unshare-user --ro-bind / /
true``, run once per process) succeeds; otherwise SandboxError says why (bwrap missing,
``kernel.unprivileged_userns_clone=0``, ``user.max_user_namespaces=0``, an AppArmor
restriction, ...) and what to do. ``none`` runs them on the host with a warning. (``auto`` is
where a fallback without bubblewrap would go; today both modes need it.)
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from lifecycle.errors import SandboxError, UsageError
from lifecycle.sandbox import HostRunner, Runner
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.bwrap import BwrapRunner

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


@functools.cache
def probe(bwrap: str | None = None) -> str | None:
    """None if bubblewrap can make an unprivileged user namespace here, else why not
    (cached: run once per process)."""
    exe = bwrap or shutil.which("bwrap")
    if exe is None:
        return "bubblewrap (bwrap) is not installed (fix: apt install bubblewrap)"
    try:
        res = subprocess.run([exe, "--unshare-user", "--ro-bind", "/", "/", "true"],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env={})
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{exe} cannot run: {e}"
    if res.returncode == 0:
        return None
    err = res.stderr.decode("utf-8", "replace").strip() or f"exit status {res.returncode}"
    return f"bwrap cannot create a user namespace: {err}"


def require_userns() -> None:
    """SandboxError (saying why and what to do) unless bubblewrap works here."""
    reason = probe()
    if reason is not None:
        raise SandboxError(explain(reason, diagnose()))


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
        return HostRunner()
    require_userns()
    if rootfs is None:
        raise UsageError(f"--sandbox {mode}: no root file system to run in")
    return BwrapRunner(rootfs, binds, uid=uid, gid=gid, host_ca=host_ca, network=network,
                       environ=environ, tmpfs=tmpfs)
