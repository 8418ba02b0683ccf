"""How buildpack programs (bin/detect, bin/build) run: the Runner protocol and its executors.

design.md §4. The lifecycle builds a ``Command`` (argv, cwd, env, extra fds); a ``Runner``
executes it: ``HostRunner`` runs it as a plain subprocess (a platform that already runs inside the
builder, or ``--sandbox none``); ``bwrap.BwrapRunner`` runs it rootless in an image's unpacked
root file system (``rootfs.unpack``) under bubblewrap, host paths translated to their spec paths;
``select.make_runner`` picks one for ``--sandbox auto|userns|none``; ``run`` is ``pypack run``.
Phases take a runner, so tests and platforms choose how programs run.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Command:
    """One program to run: argv[0] is an absolute path; ``env`` is the complete environment."""

    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Result:
    """Exit status and the combined stdout+stderr of a finished program."""

    returncode: int
    output: bytes


OutputSink = Callable[[bytes], None]


class Runner(Protocol):
    """Runs a Command to completion. ``on_output`` (if given) receives output as it arrives."""

    def __call__(self, cmd: Command, on_output: OutputSink | None = None) -> Result: ...


class HostRunner:
    """Runs commands directly on the host with ``subprocess`` (no isolation).

    With ``environ`` (``pypack build --sandbox none``) the environment gets what a sandbox
    gives (``sandbox.hostenv``): credentials removed, the host's proxies, and with ``host_ca``
    the CA variables pointing at the host's bundle, so pip and npm work as in the sandbox."""

    def __init__(self, environ: Mapping[str, str] | None = None, host_ca: bool = False) -> None:
        self.environ = environ
        self.host_ca = host_ca

    def env_for(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment ``env`` runs with (see the class docstring)."""
        if self.environ is None:
            return dict(env)
        from lifecycle.sandbox.hostenv import host_ca_bundle, sandbox_env

        bundle = host_ca_bundle(self.environ) if self.host_ca else None
        return sandbox_env(env, self.environ, ca_path=bundle)

    def __call__(self, cmd: Command, on_output: OutputSink | None = None) -> Result:
        chunks: list[bytes] = []
        with subprocess.Popen(cmd.argv, cwd=cmd.cwd, env=self.env_for(cmd.env),
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
            assert proc.stdout is not None
            for line in iter(proc.stdout.readline, b""):
                chunks.append(line)
                if on_output is not None:
                    on_output(line)
            rc = proc.wait()
        return Result(rc, b"".join(chunks))
