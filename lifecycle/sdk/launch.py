"""What a buildpack declares for the app image: ``launch.toml`` and ``build.toml``.

`buildpack.md` "launch.toml (TOML)" (processes, labels, slices) and "build.toml (TOML)"
(unmet plan entries). ``Launch`` collects declarations and checks the spec's rules as they are
made (process types unique and well formed, at most one default, label keys unique, slice
paths inside the app); ``documents()`` gives the TOML documents to write (pure).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.layer import check_process_type


class Process(NamedTuple):
    """A process type: ``command`` always runs (direct, no shell); ``args`` are defaults the
    user may replace."""

    type: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()
    default: bool = False
    working_dir: str | None = None
    exec_env: tuple[str, ...] = ()

    def to_toml(self) -> dict[str, Any]:
        """The ``[[processes]]`` entry."""
        doc: dict[str, Any] = {"type": self.type, "command": list(self.command),
                               "args": list(self.args), "default": self.default}
        if self.working_dir is not None:
            doc["working-dir"] = self.working_dir
        if self.exec_env:
            doc["exec-env"] = list(self.exec_env)
        return doc


def shell(line: str) -> tuple[str, ...]:
    """A direct command that runs a shell command line: ``("bash", "-c", line)``.

    bash replaces itself with a single simple command, so the app gets signals (dash, the
    usual ``sh``, keeps running as the parent instead). Run images need bash for this.
    """
    return ("bash", "-c", line)


def _strings(what: str, items: Sequence[str]) -> tuple[str, ...]:
    if isinstance(items, str) or not all(isinstance(x, str) for x in items):
        raise SdkError(f"{what} must be a list of strings, got {items!r}")
    return tuple(items)


def _check_slice_path(path: str) -> None:
    parts = os.path.normpath(path).split(os.sep)
    if not path or (not os.path.isabs(path) and parts[0] == ".."):
        raise SdkError(f"slice path {path!r} must stay inside the app directory")


class Launch:
    """Processes, labels, slices and unmet plan entries of one buildpack."""

    def __init__(self) -> None:
        self.processes: dict[str, Process] = {}
        self.labels: dict[str, str] = {}
        self.slices: list[tuple[str, ...]] = []
        self.unmet: list[str] = []

    def process(self, ptype: str, command: Sequence[str], args: Sequence[str] = (), *,
                default: bool = False, working_dir: str | None = None,
                exec_env: Sequence[str] = ()) -> Process:
        """Declare a process type (unique per buildpack; at most one ``default``)."""
        check_process_type(ptype)
        if ptype in self.processes:
            raise SdkError(f"process type {ptype!r} is already declared by this buildpack")
        cmd = _strings(f"process {ptype!r}: command", command)
        if not cmd or not cmd[0]:
            raise SdkError(f"process {ptype!r}: command must name an executable")
        if default:
            others = [p.type for p in self.processes.values() if p.default]
            if others:
                raise SdkError(f"process {ptype!r}: {others[0]!r} is already the default "
                               f"(one default process per buildpack)")
        proc = Process(ptype, cmd, _strings(f"process {ptype!r}: args", args), default,
                       working_dir, _strings(f"process {ptype!r}: exec_env", exec_env))
        self.processes[ptype] = proc
        return proc

    def label(self, key: str, value: str) -> None:
        """Set an image label (a later call for the same key replaces the value)."""
        if not key or not isinstance(key, str) or not isinstance(value, str):
            raise SdkError(f"label {key!r}: key and value must be strings, key not empty")
        self.labels[key] = value

    def slice(self, *paths: str) -> None:
        """Export the app files matching these globs as their own layer."""
        for p in _strings("slice paths", paths):
            _check_slice_path(p)
        self.slices.append(tuple(paths))

    def documents(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(launch.toml, build.toml)`` documents; empty tables are left out."""
        launch: dict[str, Any] = {}
        if self.labels:
            launch["labels"] = [{"key": k, "value": v} for k, v in self.labels.items()]
        if self.processes:
            launch["processes"] = [p.to_toml() for p in self.processes.values()]
        if self.slices:
            launch["slices"] = [{"paths": list(s)} for s in self.slices]
        build: dict[str, Any] = {}
        if self.unmet:
            build["unmet"] = [{"name": n} for n in self.unmet]
        return launch, build
