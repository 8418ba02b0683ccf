"""``<layers>/config/metadata.toml``: what the builder produced (`platform.md` "metadata.toml").

Written by the builder, read by the exporter and the launcher. Platform API 0.15 form::

    buildpack-default-process-type = "web"          # omitted when there is none
    [[buildpacks]]  id, version, api, homepage?, optional? (only when true)
    [[extensions]]  id, version, api                # only when the group had extensions
    [[processes]]   type, command = [...], args = [...], direct, working-dir?, buildpack-id,
                    exec-env = ["*"] | [...]
    [[labels]]      key, value                      # Go lifecycle; the exporter sets them
    [[slices]]      paths = [...]

Processes are sorted by type and carry no ``default`` key (the default is the top-level key).
``exec-env`` is written ``["*"]`` when a process is unrestricted and read as ``("*",)`` when
missing (spec MUST; the Go lifecycle omits it). ``command`` is read as a string or an array.
Deprecated ``bom`` entries are not written at Platform API >= 0.9 (they go to
``<layers>/sbom/*/sbom.legacy.json``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.buildpack.launch_toml import Label, Process, Slice
from lifecycle.errors import FileFormatError, LifecycleError

ALL_EXEC_ENVS = "*"


@dataclass(frozen=True, slots=True)
class ModuleRef:
    """A buildpack or image extension that took part in the build."""

    id: str
    version: str
    api: str
    homepage: str | None = None
    optional: bool = False

    def to_toml(self) -> dict[str, Any]:
        """The TOML table (homepage/optional only when set)."""
        out: dict[str, Any] = {"id": self.id, "version": self.version, "api": self.api}
        if self.homepage:
            out["homepage"] = self.homepage
        if self.optional:
            out["optional"] = True
        return out


@dataclass(frozen=True, slots=True)
class BuildMetadata:
    """The contents of metadata.toml."""

    buildpacks: tuple[ModuleRef, ...] = ()
    extensions: tuple[ModuleRef, ...] = ()
    processes: tuple[Process, ...] = ()
    labels: tuple[Label, ...] = ()
    slices: tuple[Slice, ...] = ()
    buildpack_default_process_type: str | None = None

    def find_process(self, ptype: str) -> Process | None:
        """The process of type ``ptype``, if any."""
        return next((p for p in self.processes if p.type == ptype), None)

    def to_toml(self) -> dict[str, Any]:
        """The TOML document (Platform API 0.15 form)."""
        out: dict[str, Any] = {}
        if self.buildpack_default_process_type:
            out["buildpack-default-process-type"] = self.buildpack_default_process_type
        out["buildpacks"] = [b.to_toml() for b in self.buildpacks]
        if self.extensions:
            out["extensions"] = [e.to_toml() for e in self.extensions]
        out["processes"] = [process_to_toml(p) for p in self.processes]
        out["labels"] = [{"key": x.key, "value": x.value} for x in self.labels]
        out["slices"] = [{"paths": list(s.paths)} for s in self.slices]
        return out


def process_to_toml(p: Process) -> dict[str, Any]:
    """One ``[[processes]]`` table."""
    out: dict[str, Any] = {"type": p.type, "command": list(p.command), "args": list(p.args),
                           "direct": p.direct}
    if p.working_dir:
        out["working-dir"] = p.working_dir
    out["buildpack-id"] = p.buildpack_id
    out["exec-env"] = list(p.exec_env) or [ALL_EXEC_ENVS]
    return out


def process_from_toml(d: Mapping[str, Any]) -> Process:
    """Read one ``[[processes]]`` table (``command`` as string or array)."""
    cmd = d["command"]
    return Process(
        type=d["type"], command=(cmd,) if isinstance(cmd, str) else tuple(cmd),
        args=tuple(d.get("args", ())), direct=bool(d.get("direct", True)),
        default=bool(d.get("default", False)), working_dir=d.get("working-dir") or None,
        exec_env=tuple(d.get("exec-env", (ALL_EXEC_ENVS,))),
        buildpack_id=d.get("buildpack-id", ""))


def applies_to(p: Process, exec_env: str) -> bool:
    """True if process ``p`` is eligible in execution environment ``exec_env``."""
    return not p.exec_env or ALL_EXEC_ENVS in p.exec_env or exec_env in p.exec_env


def _module(d: Mapping[str, Any]) -> ModuleRef:
    return ModuleRef(d["id"], d["version"], d["api"], d.get("homepage") or None,
                     bool(d.get("optional", False)))


def from_toml(data: Mapping[str, Any]) -> BuildMetadata:
    """Build the model from a schema-valid document."""
    return BuildMetadata(
        buildpacks=tuple(_module(b) for b in data.get("buildpacks", ())),
        extensions=tuple(_module(e) for e in data.get("extensions", ())),
        processes=tuple(process_from_toml(p) for p in data.get("processes", ())),
        labels=tuple(Label(x["key"], x["value"]) for x in data.get("labels", ())),
        slices=tuple(Slice(tuple(s.get("paths", ()))) for s in data.get("slices", ())),
        buildpack_default_process_type=data.get("buildpack-default-process-type") or None,
    )


def path_in(layers_dir: str | os.PathLike[str]) -> str:
    """``<layers>/config/metadata.toml``."""
    return os.path.join(layers_dir, "config", "metadata.toml")


def load(path: str | os.PathLike[str], *,
         error: type[LifecycleError] = FileFormatError) -> BuildMetadata:
    """Read and validate metadata.toml; ``error`` names the file and key."""
    data = tomlfile.load(path, error=error)
    schema.validate(data, "metadata", path, error=error)
    return from_toml(data)


def dump(path: str | os.PathLike[str], md: BuildMetadata) -> None:
    """Write metadata.toml atomically."""
    tomlfile.dump(path, md.to_toml())
