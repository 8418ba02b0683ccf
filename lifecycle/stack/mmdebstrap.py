"""Run mmdebstrap (``--mode=unshare``: no root needed) and turn its output into progress logs.

The thin I/O edge of :mod:`lifecycle.stack.plan`. mmdebstrap's ``I:`` lines are phases,
apt's ``Get:`` lines are package downloads (logged as name, version and size, without the
mirror's URL); warnings and errors are logged as such; everything else goes to debug. A failure
raises StackBuildError quoting the last lines of output.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping

from lifecycle.errors import StackBuildError
from lifecycle.stack.plan import MmdebstrapCall

log = logging.getLogger(__name__)

_GET = re.compile(r"^Get:\d+ \S+ \S+ (?:\S+ )?(?P<pkg>[a-z0-9][a-z0-9.+-]*) (?P<arch>\S+) "
                  r"(?P<ver>\S+) \[(?P<size>[^\]]+)\]")
_PASS = ("HOME", "USER", "LOGNAME", "TMPDIR")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_QUIET_INFO = ("running --", "running special hook", "using /", "chroot architecture",
               "finding correct signed-by", "automatically chosen format")


def classify(line: str) -> tuple[int, str]:
    """The log level and message for one line of mmdebstrap output."""
    m = _GET.match(line)
    if m:
        return logging.INFO, f"download {m['pkg']} {m['ver']} ({m['size']})"
    if line.startswith("I: "):
        msg = line[3:]
        return (logging.DEBUG if msg.startswith(_QUIET_INFO) else logging.INFO), msg
    if line.startswith(("E: ", "W: ")):
        return (logging.ERROR if line[0] == "E" else logging.WARNING), line[3:]
    return logging.DEBUG, line


def clean_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The host environment mmdebstrap may see: proxies, HOME, user names and a system PATH;
    nothing else (host variables reach maintainer scripts and would change the image)."""
    env = {k: v for k, v in environ.items()
           if k in _PASS or k.lower() in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    env["PATH"] = SYSTEM_PATH
    return env


def check_available() -> str:
    """The mmdebstrap executable; StackBuildError saying how to install it if missing."""
    exe = shutil.which("mmdebstrap")
    if exe is None:
        raise StackBuildError("mmdebstrap is not installed (apt-get install mmdebstrap uidmap); "
                              "pypack stack build needs it")
    return exe


def run(call: MmdebstrapCall, label: str) -> None:
    """Run ``call``; progress goes to the log prefixed with ``label``."""
    exe = check_available()
    env = clean_env(os.environ)
    env.update(call.env)
    tail: collections.deque[str] = collections.deque(maxlen=25)
    log.info("%s: mmdebstrap --variant=%s ...", label, _variant(call))
    log.debug("%s: %s", label, " ".join(call.argv))
    try:
        proc = subprocess.Popen([exe, *call.argv[1:]], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", bufsize=1)
    except OSError as e:
        raise StackBuildError(f"cannot run mmdebstrap: {e.strerror}") from e
    assert proc.stdout is not None
    with proc:
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            tail.append(line)
            level, msg = classify(line)
            log.log(level, "%s: %s", label, msg)
    if proc.returncode != 0:
        detail = "\n  ".join(tail)
        raise StackBuildError(
            f"mmdebstrap failed for {label} (exit {proc.returncode}); last output:\n  {detail}\n"
            "If a locked version is gone from the mirror, refresh the lock with --update; "
            "as a non-root user, check /etc/subuid and /etc/subgid have an entry for you.")
    if not call.output.is_file():
        raise StackBuildError(f"mmdebstrap wrote no {call.output}")


def _variant(call: MmdebstrapCall) -> str:
    for a in call.argv:
        if a.startswith("--variant="):
            return a.split("=", 1)[1]
    return "?"
