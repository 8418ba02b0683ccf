"""``<layers>/config/metadata.toml`` as values, for the launcher (`platform.md` "metadata.toml").

Only the keys the launcher needs are read: ``[[processes]]``, ``[[buildpacks]]`` and
``buildpack-default-process-type``; others (labels, slices, extensions) are ignored here.
``command`` is an array since Buildpack API 0.9; metadata written for older buildpacks may hold a
string, which is read as a one-element command and remembered as legacy.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lifecycle.errors import LaunchError

METADATA_PATH = ("config", "metadata.toml")
"""Where metadata.toml lives, relative to ``<layers>``."""


@dataclass(frozen=True, slots=True)
class Process:
    """One ``[[processes]]`` entry.

    ``direct`` is None when the key is absent; ``exec_env`` is None when absent (all environments).
    ``command_is_string`` records the legacy string form of ``command``.
    """

    type: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()
    direct: bool | None = None
    default: bool = False
    working_dir: str | None = None
    buildpack_id: str | None = None
    exec_env: tuple[str, ...] | None = None
    command_is_string: bool = False

    def eligible(self, exec_env: str) -> bool:
        """True if this process may run in execution environment ``exec_env`` (P0.15)."""
        if not self.exec_env:
            return True
        return "*" in self.exec_env or exec_env in self.exec_env


@dataclass(frozen=True, slots=True)
class Buildpack:
    """One ``[[buildpacks]]`` entry: the group member that built the image."""

    id: str
    api: str
    version: str = ""


@dataclass(frozen=True, slots=True)
class Metadata:
    """The launcher's view of metadata.toml."""

    processes: tuple[Process, ...] = ()
    buildpacks: tuple[Buildpack, ...] = ()
    default_process_type: str | None = None

    def buildpack(self, bp_id: str) -> Buildpack | None:
        """The buildpack with id ``bp_id``, or None."""
        return next((bp for bp in self.buildpacks if bp.id == bp_id), None)

    def has_type(self, process_type: str) -> bool:
        """True if any process (eligible or not) has this type."""
        return any(p.type == process_type for p in self.processes)

    def find(self, process_type: str, exec_env: str) -> Process | None:
        """The first process of this type eligible for ``exec_env``, or None."""
        return next((p for p in self.processes
                     if p.type == process_type and p.eligible(exec_env)), None)


class _Invalid(ValueError):
    """A bad key; ``parse`` turns it into a LaunchError naming the file."""


def _str(table: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise _Invalid(f"{where}: missing required key {key!r}")
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{where}: {key!r} must be a string")
    return value


def _strs(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{where}: {key!r} must be an array of strings")
    return tuple(value)


def _bool(table: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = table.get(key)
    if value is not None and not isinstance(value, bool):
        raise _Invalid(f"{where}: {key!r} must be a boolean")
    return value


def _process(table: Any, index: int) -> Process:
    where = f"processes[{index}]"
    if not isinstance(table, dict):
        raise _Invalid(f"{where} must be a table")
    ptype = _str(table, "type", where, required=True) or ""
    raw = table.get("command")
    command: tuple[str, ...]
    if isinstance(raw, str):
        command, legacy = (raw,), True
    else:
        command, legacy = _strs(table, "command", where) or (), False
    if not command or not command[0]:
        raise _Invalid(f"{where} (type {ptype!r}): 'command' is empty")
    return Process(
        type=ptype, command=command, args=_strs(table, "args", where) or (),
        direct=_bool(table, "direct", where), default=bool(_bool(table, "default", where)),
        working_dir=_str(table, "working-dir", where) or None,
        buildpack_id=_str(table, "buildpack-id", where) or None,
        exec_env=_strs(table, "exec-env", where), command_is_string=legacy)


def _buildpack(table: Any, index: int) -> Buildpack:
    where = f"buildpacks[{index}]"
    if not isinstance(table, dict):
        raise _Invalid(f"{where} must be a table")
    return Buildpack(id=_str(table, "id", where, required=True) or "",
                     api=_str(table, "api", where, required=True) or "",
                     version=_str(table, "version", where) or "")


def _array(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _Invalid(f"{key!r} must be an array of tables")
    return value


def parse(data: Mapping[str, Any], source: str = "metadata.toml") -> Metadata:
    """Build ``Metadata`` from decoded TOML; raise LaunchError naming ``source`` and the key."""
    try:
        return Metadata(
            processes=tuple(_process(t, i) for i, t in enumerate(_array(data, "processes"))),
            buildpacks=tuple(_buildpack(t, i)
                             for i, t in enumerate(_array(data, "buildpacks"))),
            default_process_type=_str(data, "buildpack-default-process-type", "top level")
            or None)
    except _Invalid as exc:
        raise LaunchError(f"{source}: {exc}") from None


def load(path: str) -> Metadata:
    """Read and parse metadata.toml at ``path``; LaunchError if missing or malformed."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise LaunchError(f"metadata file {path} not found: is this an app image?") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LaunchError(f"cannot read metadata file {path}: {exc}") from exc
    return parse(data, path)
