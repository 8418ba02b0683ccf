"""``group.toml``: the buildpack group the detector selected (Platform API 0.15, platform.md
"group.toml").

``[[group]]`` and ``[[group-extensions]]`` elements carry ``id``, ``version``, ``api`` (required)
and ``homepage``. The Go lifecycle's ``optional`` and ``extension`` keys, and ``exec-env``, are
read and written when set, for interoperability.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lifecycle import schema, tomlfile

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One buildpack (or image extension) of a group; ``str()`` gives ``id@version``."""

    id: str
    version: str
    api: str
    homepage: str | None = None
    optional: bool = False
    extension: bool = False
    exec_env: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def key(self) -> str:
        """``id@version``: how a detect run and its outputs are identified."""
        return f"{self.id}@{self.version}"

    def to_toml(self) -> dict[str, Any]:
        """The TOML table of this element (defaults omitted)."""
        out: dict[str, Any] = {"id": self.id, "version": self.version, "api": self.api}
        if self.homepage:
            out["homepage"] = self.homepage
        if self.optional:
            out["optional"] = True
        if self.extension:
            out["extension"] = True
        if self.exec_env:
            out["exec-env"] = list(self.exec_env)
        return out

    @classmethod
    def from_toml(cls, data: Mapping[str, Any], *, extension: bool = False) -> GroupEntry:
        """Build an element from a validated TOML table."""
        return cls(
            id=data["id"], version=data["version"], api=data["api"],
            homepage=data.get("homepage") or None,
            optional=bool(data.get("optional", False)),
            extension=bool(data.get("extension", extension)),
            exec_env=tuple(data.get("exec-env", ())),
        )


@dataclass(frozen=True, slots=True)
class Group:
    """The selected group: buildpacks in build order, and image extensions (if any)."""

    group: tuple[GroupEntry, ...]
    group_extensions: tuple[GroupEntry, ...] = ()

    def to_toml(self) -> dict[str, Any]:
        """The TOML document (``group-extensions`` omitted when empty)."""
        out: dict[str, Any] = {"group": [e.to_toml() for e in self.group]}
        if self.group_extensions:  # the table says what they are: no ``extension`` key
            out["group-extensions"] = [{k: v for k, v in e.to_toml().items() if k != "extension"}
                                       for e in self.group_extensions]
        return out

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> Group:
        """Build a Group from a validated document."""
        return cls(
            group=tuple(GroupEntry.from_toml(e) for e in data.get("group", ())),
            group_extensions=tuple(GroupEntry.from_toml(e, extension=True)
                                   for e in data.get("group-extensions", ())),
        )


def load(path: PathLike) -> Group:
    """Read and validate ``group.toml``; FileFormatError names the file and key."""
    data = tomlfile.load(path)
    schema.validate(data, "group", path)
    return Group.from_toml(data)


def dump(path: PathLike, group: Group) -> None:
    """Write ``group.toml`` atomically."""
    tomlfile.dump(path, group.to_toml())
