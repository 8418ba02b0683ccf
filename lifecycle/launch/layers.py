"""Read the launch layers into a value (`buildpack.md` "Layer Types" / "Launch Layers").

The only module that walks ``<layers>``. For each buildpack in metadata.toml order
(``<layers>/<id with / as _>``, skipped when absent) and each of its layer directories in
lexical order, it records whether ``bin/`` and ``lib/`` exist, the env files of ``env/``,
``env.launch/`` and every ``env.launch/<type>/``, and the ``exec.d`` and ``profile.d`` programs
(generic and per type). The rest of the launcher works on this value without touching disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lifecycle.errors import LaunchError
from lifecycle.launch.metadata import Buildpack


@dataclass(frozen=True, slots=True)
class EnvFile:
    """One env file: its name (``NAME[.suffix]``) and its contents, verbatim."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Layer:
    """One launch layer directory, as the launcher needs it. Paths are absolute.

    The ``*_typed`` maps hold the per-process-type sub-directories (``env.launch/<type>/``,
    ``exec.d/<type>/``, ``profile.d/<type>/``) keyed by type; a missing directory is empty.
    """

    path: str
    has_bin: bool = False
    has_lib: bool = False
    env: tuple[EnvFile, ...] = ()
    env_launch: tuple[EnvFile, ...] = ()
    env_launch_typed: Mapping[str, tuple[EnvFile, ...]] = field(default_factory=dict)
    execd: tuple[str, ...] = ()
    execd_typed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()
    profiles_typed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def env_dirs(self, process_type: str | None) -> tuple[tuple[EnvFile, ...], ...]:
        """Env files to apply, by directory: ``env/``, ``env.launch/``, ``env.launch/<type>/``."""
        typed = self.env_launch_typed.get(process_type, ()) if process_type else ()
        return (self.env, self.env_launch, typed)


@dataclass(frozen=True, slots=True)
class BuildpackLayers:
    """The launch layers of one buildpack, sorted by directory name."""

    id: str
    layers: tuple[Layer, ...]


def escape_id(bp_id: str) -> str:
    """A buildpack id as a directory name (``/`` becomes ``_``)."""
    return bp_id.replace("/", "_")


def _sorted_entries(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise LaunchError(f"cannot list {path}: {exc.strerror}") from exc
    return sorted(entries, key=lambda e: os.fsencode(e.name))


def _files(path: str) -> tuple[str, ...]:
    """Non-directory entries of ``path`` (programs for exec.d and profile.d), lexical order."""
    return tuple(e.path for e in _sorted_entries(path) if not e.is_dir(follow_symlinks=False))


def _env_files(path: str) -> tuple[EnvFile, ...]:
    out: list[EnvFile] = []
    for entry in _sorted_entries(path):
        try:
            if entry.is_dir():
                continue
            with open(entry.path, "rb") as f:
                out.append(EnvFile(entry.name, os.fsdecode(f.read())))
        except OSError as exc:
            raise LaunchError(f"cannot read env file {entry.path}: {exc.strerror}") from exc
    return tuple(out)


def _subdirs(path: str) -> list[os.DirEntry[str]]:
    return [e for e in _sorted_entries(path) if e.is_dir(follow_symlinks=False)]


def scan_layer(path: str) -> Layer:
    """Read one layer directory, with the sub-directories of every process type."""
    env_launch = os.path.join(path, "env.launch")
    execd = os.path.join(path, "exec.d")
    profiled = os.path.join(path, "profile.d")
    return Layer(
        path=path,
        has_bin=os.path.isdir(os.path.join(path, "bin")),
        has_lib=os.path.isdir(os.path.join(path, "lib")),
        env=_env_files(os.path.join(path, "env")),
        env_launch=_env_files(env_launch),
        env_launch_typed={e.name: _env_files(e.path) for e in _subdirs(env_launch)},
        execd=_files(execd),
        execd_typed={e.name: _files(e.path) for e in _subdirs(execd)},
        profiles=_files(profiled),
        profiles_typed={e.name: _files(e.path) for e in _subdirs(profiled)})


def scan(layers_dir: str, buildpacks: Iterable[Buildpack]) -> tuple[BuildpackLayers, ...]:
    """Read every buildpack's launch layers under ``layers_dir``, in metadata.toml order."""
    root = os.path.abspath(layers_dir)
    out: list[BuildpackLayers] = []
    for bp in buildpacks:
        bp_dir = os.path.join(root, escape_id(bp.id))
        if not os.path.isdir(bp_dir):
            continue
        dirs = [e.path for e in _sorted_entries(bp_dir) if e.is_dir(follow_symlinks=False)]
        out.append(BuildpackLayers(bp.id, tuple(scan_layer(d) for d in dirs)))
    return tuple(out)
