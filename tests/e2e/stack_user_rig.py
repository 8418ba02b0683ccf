"""Run pypack as an unprivileged user: create the user, and give it this Python's packages.

The interpreter running the tests may live under /root (pyenv), which other users cannot read.
``user_python_env`` copies the installed files of pypack's dependencies into a world-readable
directory for the system ``python3`` (same minor version) and puts the checkout on PYTHONPATH.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

USER = "pypack-stack"
REPO = Path(__file__).resolve().parents[2]
DEPENDENCIES = ("click", "rich", "requests", "tomli-w", "jsonschema")


def ensure_user(name: str = USER) -> pwd.struct_passwd:
    """The user ``name``, created with ``useradd -m`` (which also adds /etc/subuid ranges)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-m", name], check=True, capture_output=True, timeout=60)
        return pwd.getpwnam(name)


def _closure(names: tuple[str, ...]) -> list[md.Distribution]:
    seen: dict[str, md.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[key] = dist
        todo += [re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0] for r in dist.requires or ()
                 if "extra ==" not in r]
    return list(seen.values())


def user_python_env(site: Path, pypack_home: Path, home: str) -> dict[str, str]:
    """Environment running ``/usr/bin/python3 -m ...`` with pypack importable; skips when the
    system python3 is not this interpreter's minor version (compiled dependencies)."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        pytest.skip("no /usr/bin/python3 for the unprivileged user")
    ver = subprocess.run([system, "-c", "import sys; print(sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    if ver != str(sys.version_info[:2]):
        pytest.skip(f"/usr/bin/python3 is {ver}, the tests run {sys.version_info[:2]}")
    for dist in _closure(DEPENDENCIES):
        for f in dist.files or ():
            src = Path(str(dist.locate_file(f)))
            if str(f).startswith("..") or not src.is_file():
                continue
            dest = site / f
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    subprocess.run(["chmod", "-R", "a+rX", str(site)], check=True)
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": home, "PYPACK_HOME": str(pypack_home), "LANG": "C.UTF-8",
            "PYTHONPATH": f"{site}{os.pathsep}{REPO}"}


def run_as(user: str, env: dict[str, str], *args: str,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``pypack ARGS`` as ``user`` with exactly ``env``."""
    cmd = ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
           "/usr/bin/python3", "-c", "from lifecycle.cli.main import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          cwd="/")
