"""``plan.toml``: the resolved build plan (Platform API 0.15, platform.md "plan.toml").

Each entry lists the buildpacks (or extensions) that provide one dependency name and every
requirement of that name. ``entries`` may be empty; an entry has at least one provider and one
require, and all its requires share one name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.errors import FileFormatError

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class Provider:
    """A buildpack (or image extension, ``extension=True``) that provides a dependency."""

    id: str
    version: str
    extension: bool = False

    def to_toml(self) -> dict[str, Any]:
        """The TOML table (``extension`` only when true)."""
        out: dict[str, Any] = {"id": self.id, "version": self.version}
        if self.extension:
            out["extension"] = True
        return out


@dataclass(frozen=True, slots=True)
class Require:
    """One requirement of a dependency ``name`` with the requirer's free-form ``metadata``."""

    name: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_toml(self) -> dict[str, Any]:
        """The TOML table (``metadata`` only when non-empty)."""
        out: dict[str, Any] = {"name": self.name}
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """The providers and the requires of one dependency name."""

    providers: tuple[Provider, ...]
    requires: tuple[Require, ...]

    @property
    def name(self) -> str:
        """The dependency name all requires share."""
        return self.requires[0].name if self.requires else ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The resolved build plan, in the order names were first required."""

    entries: tuple[PlanEntry, ...] = ()

    def find(self, bp_id: str, *, extension: bool = False) -> tuple[Require, ...]:
        """Every require of the entries that list ``bp_id`` as a provider (a buildpack's plan)."""
        out: list[Require] = []
        for entry in self.entries:
            if any(p.id == bp_id and p.extension == extension for p in entry.providers):
                out.extend(entry.requires)
        return tuple(out)

    def to_toml(self) -> dict[str, Any]:
        """The TOML document."""
        return {"entries": [
            {"providers": [p.to_toml() for p in e.providers],
             "requires": [r.to_toml() for r in e.requires]}
            for e in self.entries]}


def from_toml(data: Mapping[str, Any], source: PathLike = "plan.toml") -> Plan:
    """Build a Plan from a schema-valid document; entries mixing names are rejected."""
    entries: list[PlanEntry] = []
    for i, e in enumerate(data.get("entries", ())):
        reqs = tuple(Require(r["name"], dict(r.get("metadata", {}))) for r in e["requires"])
        if len({r.name for r in reqs}) > 1:
            raise FileFormatError(
                f"{os.fspath(source)}: entries[{i}].requires: all requires of an entry must "
                f"share one name (got {', '.join(sorted({r.name for r in reqs}))})")
        provs = tuple(Provider(p["id"], p["version"], bool(p.get("extension", False)))
                      for p in e["providers"])
        entries.append(PlanEntry(provs, reqs))
    return Plan(tuple(entries))


def load(path: PathLike) -> Plan:
    """Read and validate ``plan.toml``; FileFormatError names the file and key."""
    data = tomlfile.load(path)
    schema.validate(data, "plan", path)
    return from_toml(data, path)


def dump(path: PathLike, plan: Plan) -> None:
    """Write ``plan.toml`` atomically."""
    tomlfile.dump(path, plan.to_toml())
