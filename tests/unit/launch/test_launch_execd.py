"""exec.d programs run for real (lifecycle.launch.execd): fd 3 output, failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from launch_fixtures import REPO

from lifecycle.errors import LaunchError
from lifecycle.launch import execd


def program(tmp_path: Path, body: str, name: str = "prog") -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_fd3_output_becomes_variables(tmp_path: Path) -> None:
    prog = program(tmp_path, 'printf \'FOO = "bar"\\nSEEN = "%s"\\n\' "$IN" >&3\n'
                             'echo to-stdout; echo to-stderr >&2\n')
    assert execd.run(prog, {"IN": "input", "PATH": "/usr/bin:/bin"}) == {
        "FOO": "bar", "SEEN": "input"}


def test_no_output_is_no_variables(tmp_path: Path) -> None:
    assert execd.run(program(tmp_path, "exit 0\n"), {}) == {}


def test_large_output_does_not_deadlock(tmp_path: Path) -> None:
    prog = program(tmp_path, 'i=0; while [ $i -lt 5000 ]; do '
                             'echo "V$i = \\"0123456789012345678901234567890\\"" >&3; '
                             'i=$((i+1)); done\n')
    out = execd.run(prog, {"PATH": "/usr/bin:/bin"})
    assert len(out) == 5000 and out["V4999"] == "0123456789012345678901234567890"


@pytest.mark.parametrize(("body", "match"), [
    ("exit 3\n", "failed with exit code 3"),
    ("kill -9 $$\n", "killed by signal 9"),
    ("echo 'A = 1' >&3\n", "must be a string"),
    ("echo 'not toml' >&3\n", "invalid TOML"),
])
def test_failures_are_launch_errors_naming_the_program(tmp_path: Path, body: str,
                                                       match: str) -> None:
    prog = program(tmp_path, body)
    with pytest.raises(LaunchError, match=match) as info:
        execd.run(prog, {"PATH": "/usr/bin:/bin"})
    assert prog in str(info.value) and info.value.exit_code == 82


def test_unstartable_program_is_a_launch_error(tmp_path: Path) -> None:
    path = tmp_path / "not-executable"
    path.write_text("#!/bin/sh\n")
    with pytest.raises(LaunchError, match="could not be started"):
        execd.run(str(path), {})
    with pytest.raises(LaunchError, match="could not be started"):
        execd.run(str(tmp_path / "missing"), {})


def test_no_descriptor_leaks(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    prog = program(tmp_path, "exit 0\n")
    for _ in range(5):
        execd.run(prog, {})
    with pytest.raises(LaunchError):
        execd.run(str(tmp_path / "missing"), {})
    assert len(os.listdir("/proc/self/fd")) == before


def test_fd3_works_when_stdin_is_closed(tmp_path: Path) -> None:
    """With fd 0 closed the pipe's write end could itself be fd 3."""
    prog = program(tmp_path, 'echo \'X = "y"\' >&3\n')
    code = ("import os, sys; os.close(0); from lifecycle.launch import execd; "
            f"print(execd.run({prog!r}, {{}}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO)}, check=True, timeout=60)
    assert out.stdout.strip() == "{'X': 'y'}"
