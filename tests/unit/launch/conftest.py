"""Fixtures for the launcher tests: a copy of ``tests/testdata/launch/basic`` and a runner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from launch_fixtures import REPO, TESTDATA, Result, Runner, Tree, make_executable


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """A fresh copy of the ``basic`` fixture tree with executable bits set."""
    root = tmp_path / "image"
    shutil.copytree(TESTDATA / "basic", root, symlinks=True)
    make_executable(root)
    return Tree(root)


@pytest.fixture
def run_launcher() -> Runner:
    """Run the launcher in a subprocess as ``argv0 args...`` (argv0 picks the process type)."""

    def run(argv0: str, args: Sequence[str], env: dict[str, str],
            cwd: str | None = None) -> Result:
        code = ("import sys; from lifecycle.launch.launcher import main; "
                "sys.exit(main(sys.argv[1:]))")
        full_env = {**env, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-c", code, argv0, *args], env=full_env,
                                cwd=cwd or "/", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        out, err = proc.communicate(timeout=60)
        return Result(proc.returncode, out, err, proc.pid)

    return run
