"""README's first command, for real: ``bash examples/quickstart.sh`` on a copy of this checkout
installs pypack into a fresh virtualenv (a non-editable install: package data must ship),
builds examples/python-web with the default builder, runs it with ``pypack run`` and gets its
page; run again, it reinstalls the checkout and rebuilds with everything reused."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _copy_checkout(dest: Path) -> None:
    """The files git tracks, as they are in the working tree (links kept)."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src, dst = REPO / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        elif src.exists():
            shutil.copy2(src, dst)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_quickstart_script(default_stack: str, tmp_path: Path) -> None:
    checkout = tmp_path / "pypack"
    _copy_checkout(checkout)
    env = {**os.environ, "PORT": str(_free_port())}
    env.pop("VIRTUAL_ENV", None)
    for _run in ("first", "again"):
        res = subprocess.run(["bash", "examples/quickstart.sh"], cwd=checkout, env=env,
                             capture_output=True, text=True, timeout=900)
        out = res.stdout + res.stderr
        assert res.returncode == 0, out
        assert "-> 200: Hello from pypack python-web!" in out, out
    assert "updating pypack" in out and "Reusing the venv layer" in out, out
