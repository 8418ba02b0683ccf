"""The Build Plan a buildpack writes at detection and the Buildpack Plan it reads at build.

`buildpack.md` "Build Plan (TOML)" (``[[provides]]``, ``[[requires]]`` with metadata, and
``[[or]]`` alternatives) and "Buildpack Plan (TOML)" (``[[entries]]``). Pure values and
document builders; the contexts do the file I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.layer import normalize


class PlanEntry(NamedTuple):
    """One Buildpack Plan entry given to ``bin/build``: a dependency name and its metadata."""

    name: str
    metadata: Mapping[str, Any] = MappingProxyType({})


def parse_entries(doc: Mapping[str, Any], source: str) -> tuple[PlanEntry, ...]:
    """The ``[[entries]]`` of a Buildpack Plan document."""
    entries = doc.get("entries", [])
    if not isinstance(entries, list):
        raise SdkError(f"{source}: 'entries' must be an array of tables")
    out = []
    for e in entries:
        if not isinstance(e, Mapping) or not isinstance(e.get("name"), str):
            raise SdkError(f"{source}: every entry needs a string 'name'")
        md = e.get("metadata", {})
        out.append(PlanEntry(e["name"], dict(md) if isinstance(md, Mapping) else {}))
    return tuple(out)


class Alternative:
    """One set of provides and requires (the top level, or one ``[[or]]`` table)."""

    def __init__(self) -> None:
        self.provides: list[str] = []
        self.requires: list[tuple[str, dict[str, Any]]] = []

    def provide(self, name: str) -> Alternative:
        """This buildpack can provide dependency ``name``."""
        if not name or not isinstance(name, str):
            raise SdkError(f"invalid plan dependency name {name!r}")
        if name not in self.provides:
            self.provides.append(name)
        return self

    def require(self, name: str, metadata: Mapping[str, Any] | None = None) -> Alternative:
        """Dependency ``name`` must be provided by this or an earlier buildpack."""
        if not name or not isinstance(name, str):
            raise SdkError(f"invalid plan dependency name {name!r}")
        self.requires.append((name, normalize(metadata or {})))
        return self

    @property
    def empty(self) -> bool:
        """True when nothing was provided or required."""
        return not self.provides and not self.requires

    def to_toml(self) -> dict[str, Any]:
        """``{"provides": [...], "requires": [...]}`` with empty lists left out."""
        doc: dict[str, Any] = {}
        if self.provides:
            doc["provides"] = [{"name": n} for n in self.provides]
        if self.requires:
            doc["requires"] = [{"name": n, "metadata": md} if md else {"name": n}
                               for n, md in self.requires]
        return doc


class BuildPlan(Alternative):
    """The Build Plan of ``bin/detect``: top-level provides/requires plus ``[[or]]``."""

    def __init__(self) -> None:
        super().__init__()
        self.alternatives: list[Alternative] = []

    def or_(self) -> Alternative:
        """Start an ``[[or]]`` alternative (tried when the ones before it do not resolve)."""
        alt = Alternative()
        self.alternatives.append(alt)
        return alt

    def to_toml(self) -> dict[str, Any]:
        """The Build Plan document."""
        doc = super().to_toml()
        if self.alternatives:
            doc["or"] = [a.to_toml() for a in self.alternatives]
        return doc
