"""``<layers>/<bp>/launch.toml``: processes, labels, slices (and the deprecated ``bom``).

`buildpack.md` "launch.toml (TOML)" and "Deprecations" (``bom``), per Buildpack API:

- before 0.9 ``command`` is a string and ``direct`` (default false) picks shell or direct;
  from 0.9 ``command`` is an array, processes are always direct and ``direct`` is an error;
- ``working-dir`` from 0.8 (ignored with a warning before);
- ``exec-env`` from 0.12 (ignored with a warning before);
- at most one ``default = true`` per buildpack; types unique per buildpack and made of letters,
  digits, ``.``, ``_`` and ``-``; label keys unique per buildpack.

Across buildpacks (``merge_processes``, `platform.md` "builder"): a later definition of a type
wins, the last ``default = true`` is the buildpack-provided default, and a non-default
redefinition of the default type leaves no default. `web` counts as default only for Buildpack
API < 0.6 (none of the supported APIs; see ``legacy_web_default``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lifecycle import api, schema, tomlfile
from lifecycle.api import Version
from lifecycle.errors import BuildError

log = logging.getLogger(__name__)

_TYPE_RE = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True, slots=True)
class Process:
    """A process as recorded in metadata.toml: ``command`` always a list of strings."""

    type: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()
    direct: bool = True
    default: bool = False
    working_dir: str | None = None
    exec_env: tuple[str, ...] = ()
    buildpack_id: str = ""


@dataclass(frozen=True, slots=True)
class Label:
    """An image label a buildpack asks for."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Slice:
    """App sub-path globs exported as one layer."""

    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BOMEntry:
    """A deprecated ``[[bom]]`` entry, tagged with the buildpack that wrote it."""

    name: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    buildpack_id: str = ""
    buildpack_version: str = ""

    def to_json(self) -> dict[str, Any]:
        """The legacy BOM JSON form (Go lifecycle key names)."""
        return {"name": self.name, "metadata": dict(self.metadata),
                "buildpack": {"id": self.buildpack_id, "version": self.buildpack_version}}


@dataclass(frozen=True, slots=True)
class LaunchTOML:
    """A parsed launch.toml."""

    processes: tuple[Process, ...] = ()
    labels: tuple[Label, ...] = ()
    slices: tuple[Slice, ...] = ()
    bom: tuple[BOMEntry, ...] = ()


def legacy_web_default(bp_api: Version) -> bool:
    """`platform.md` "builder": a ``web`` process of Buildpack API < 0.6 counts as default."""
    return not bp_api.at_least("0.6")


# --- pure parsing ------------------------------------------------------------------------------
def parse_bom(items: Sequence[Mapping[str, Any]], bp_id: str, bp_version: str,
              source: str) -> tuple[BOMEntry, ...]:
    """Parse deprecated ``[[bom]]`` entries; a top-level ``version`` is an error (Go lifecycle)."""
    out: list[BOMEntry] = []
    for i, b in enumerate(items):
        if "version" in b:
            raise BuildError(f"{source}: bom[{i}] ({b['name']!r}) has a top-level version; "
                             f"put it in metadata.version")
        out.append(BOMEntry(b["name"], dict(b.get("metadata", {})), bp_id, bp_version))
    if out:
        log.warning("%s: the bom table is deprecated; write <layer>.sbom.<ext>, "
                    "launch.sbom.<ext> or build.sbom.<ext> files instead", source)
    return tuple(out)


def _command(raw: Mapping[str, Any], bp_api: Version, where: str) -> tuple[tuple[str, ...], bool]:
    cmd = raw["command"]
    if api.command_is_array(bp_api):
        if "direct" in raw:
            raise BuildError(f"{where}: 'direct' is not allowed for Buildpack API {bp_api} "
                             f"(processes are always direct)")
        if not isinstance(cmd, list):
            raise BuildError(f"{where}: command must be an array for Buildpack API {bp_api}")
        return tuple(cmd), True
    if not isinstance(cmd, str):
        raise BuildError(f"{where}: command must be a string for Buildpack API {bp_api}")
    return (cmd,), bool(raw.get("direct", False))


def parse_process(raw: Mapping[str, Any], bp_api: Version, bp_id: str, where: str) -> Process:
    """Convert one ``[[processes]]`` table per the buildpack's API."""
    ptype = raw["type"]
    if not _TYPE_RE.match(ptype):
        raise BuildError(f"{where}: process type {ptype!r} may contain only letters, digits, "
                         f"'.', '_' and '-'")
    command, direct = _command(raw, bp_api, where)
    wd = raw.get("working-dir") or None
    if wd and not api.process_working_dir(bp_api):
        log.warning("%s: working-dir is not supported by Buildpack API %s; ignored", where, bp_api)
        wd = None
    exec_env = tuple(raw.get("exec-env", ()))
    if exec_env and not api.exec_env_supported(bp_api):
        log.warning("%s: exec-env is not supported by Buildpack API %s; ignored", where, bp_api)
        exec_env = ()
    default = bool(raw.get("default", False))
    if ptype == "web" and legacy_web_default(bp_api):
        default = True
    return Process(ptype, command, tuple(raw.get("args", ())), direct, default, wd, exec_env,
                   bp_id)


def _unique(values: Sequence[str], what: str, source: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise BuildError(f"{source}: {what} {v!r} is defined more than once")
        seen.add(v)


def parse(data: Mapping[str, Any], bp_api: Version, bp_id: str, source: str,
          bp_version: str = "") -> LaunchTOML:
    """Validate and convert launch.toml data for a buildpack of API ``bp_api``."""
    schema.validate(data, "launch", source, error=BuildError)
    procs = tuple(parse_process(p, bp_api, bp_id, f"{source}: processes[{i}]")
                  for i, p in enumerate(data.get("processes", ())))
    _unique([p.type for p in procs], "process type", source)
    defaults = [p.type for p in procs if p.default]
    if len(defaults) > 1:
        raise BuildError(f"{source}: multiple default process types aren't allowed "
                         f"({', '.join(defaults)})")
    labels = tuple(Label(x["key"], x["value"]) for x in data.get("labels", ()))
    _unique([x.key for x in labels], "label key", source)
    slices = tuple(Slice(tuple(s.get("paths", ()))) for s in data.get("slices", ()))
    bom = parse_bom(data.get("bom", ()), bp_id, bp_version, source)
    return LaunchTOML(procs, labels, slices, bom)


def load(path: str | os.PathLike[str], bp_api: Version, bp_id: str,
         bp_version: str = "") -> LaunchTOML:
    """Read launch.toml; a missing file is an empty LaunchTOML."""
    data = tomlfile.load(path, missing_ok=True, error=BuildError)
    return parse(data, bp_api, bp_id, os.fspath(path), bp_version)


# --- aggregation across buildpacks -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProcessSet:
    """Processes aggregated over the buildpacks so far, and the buildpack-provided default."""

    by_type: Mapping[str, Process] = field(default_factory=dict)
    default_type: str | None = None

    def listed(self) -> tuple[Process, ...]:
        """Processes sorted by type with ``default`` cleared (the metadata.toml form)."""
        return tuple(replace(self.by_type[t], default=False) for t in sorted(self.by_type))


def merge_processes(current: ProcessSet,
                    added: Sequence[Process]) -> tuple[ProcessSet, tuple[str, ...]]:
    """Add one buildpack's processes; return the new set and any warnings.

    A later definition of a type replaces the earlier one; the last ``default`` wins; a
    non-default redefinition of the default type leaves the image without a default.
    """
    by_type = dict(current.by_type)
    default = current.default_type
    warnings: list[str] = []
    for p in added:
        if p.default:
            default = p.type
        elif p.type == default:
            default = None
            warnings.append(f"redefining the default process type {p.type!r} with a process "
                            f"not marked as default; the image has no default process")
        by_type[p.type] = p
    return ProcessSet(by_type, default), tuple(warnings)
