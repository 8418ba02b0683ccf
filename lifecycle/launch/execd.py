"""Run one ``exec.d`` program (`buildpack.md` "Exec.d", "Exec.d Output (TOML)").

The program runs with the current launch environment, the launcher's working directory
(``<app>``), stdout and stderr inherited, and file descriptor 3 open for writing. What it
writes to fd 3 is TOML of top-level ``NAME = "value"`` pairs, which the launcher then sets.
A program that cannot start, exits non-zero or writes bad TOML is a launch error (82).
Spawned with ``os.posix_spawn`` so no heavy module is imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from lifecycle.errors import LaunchError
from lifecycle.launch.env import parse_execd_output

OUTPUT_FD = 3
"""The descriptor exec.d programs write their variables to (Linux)."""


def _spawn(program: str, env: Mapping[str, str], write_fd: int) -> int:
    actions = [(os.POSIX_SPAWN_DUP2, write_fd, OUTPUT_FD)]
    try:
        return os.posix_spawn(program, [program], dict(env), file_actions=actions)
    except OSError as exc:
        raise LaunchError(f"exec.d program {program} could not be started: "
                          f"{exc.strerror or exc}") from exc
    except ValueError as exc:
        raise LaunchError(f"exec.d program {program} could not be started: {exc}") from exc


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def run(program: str, env: Mapping[str, str]) -> dict[str, str]:
    """Run ``program``; return the variables it wrote to fd 3. LaunchError if it fails."""
    read_fd, write_fd = os.pipe()
    if write_fd == OUTPUT_FD:  # dup2(3, 3) would not clear close-on-exec
        write_fd, old = os.dup(write_fd), write_fd
        os.close(old)
    try:
        pid = _spawn(program, env, write_fd)
    except LaunchError:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    try:
        output = _read_all(read_fd)
    finally:
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        raise LaunchError(f"exec.d program {program} was killed by signal {-code}")
    if code != 0:
        raise LaunchError(f"exec.d program {program} failed with exit code {code}")
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        raise LaunchError(f"exec.d program {program} wrote non-UTF-8 output to fd 3") from None
    return parse_execd_output(text, program)
