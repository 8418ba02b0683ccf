"""``buildpack.toml``: the buildpack descriptor (Buildpack API 0.7-0.12, buildpack.md
"buildpack.toml"; Platform API 0.15 "Buildpacks Directory Layout").

A buildpack lives at ``<buildpacks>/<escaped id>/<version>/`` (``/`` in the id becomes ``_``).
Loading validates against ``spec/schemas/buildpack.schema.json`` and checks the declared API
(exit 12 naming the buildpack and its API). ``exec-env`` is read in the spec form
(``[[buildpack.exec-env]] name``) and the Go lifecycle/pack form (a string array); targets are
declared, or inferred from stacks and ``bin/`` (see ``lifecycle.buildpack.targets``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import api, schema, tomlfile
from lifecycle.api import Version
from lifecycle.buildpack import targets as tg
from lifecycle.errors import FileFormatError
from lifecycle.platform.files.order import OrderGroup, groups_from_toml

PathLike = str | os.PathLike[str]


def escape_id(bp_id: str) -> str:
    """The on-disk form of a buildpack id: ``/`` becomes ``_``."""
    return bp_id.replace("/", "_")


@dataclass(frozen=True, slots=True)
class BuildpackDescriptor:
    """A parsed ``buildpack.toml``; ``dir`` is the buildpack root (absolute)."""

    api: Version
    id: str
    version: str
    dir: Path
    name: str = ""
    homepage: str | None = None
    clear_env: bool = False
    description: str = ""
    keywords: tuple[str, ...] = ()
    exec_env: tuple[str, ...] = ()
    sbom_formats: tuple[str, ...] = ()
    targets: tuple[tg.Target, ...] = ()
    stacks: tuple[tg.Stack, ...] = ()
    order: tuple[OrderGroup, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def is_composite(self) -> bool:
        """True for a composite buildpack (it has an ``[[order]]`` and no executables)."""
        return bool(self.order)

    @property
    def detect_path(self) -> Path:
        """``<dir>/bin/detect``."""
        return self.dir / "bin" / "detect"

    @property
    def build_path(self) -> Path:
        """``<dir>/bin/build``."""
        return self.dir / "bin" / "build"


def _exec_env(items: list[Any]) -> tuple[str, ...]:
    return tuple(i if isinstance(i, str) else i["name"] for i in items)


def from_toml(data: Mapping[str, Any], root: Path, source: PathLike) -> BuildpackDescriptor:
    """Build a descriptor from a schema-valid document; checks the API (BuildpackAPIError)."""
    bp = data["buildpack"]
    who = f"{bp['id']}@{bp['version']}"
    version = api.check_buildpack_api(data["api"], who)
    order = groups_from_toml(data.get("order", ()))
    stacks = tuple(tg.Stack(s["id"], tuple(s.get("mixins", ()))) for s in data.get("stacks", ()))
    if order and stacks:
        raise FileFormatError(f"{os.fspath(source)}: stacks: a composite buildpack (with "
                              "[[order]]) must not declare [[stacks]]")
    targets = tuple(tg.Target.from_toml(t) for t in data.get("targets", ()))
    if not targets:
        targets = tg.from_stacks(stacks, api.stacks_deprecated(version))
    if not targets and not order:
        targets = tg.from_bin(root)
    return BuildpackDescriptor(
        api=version, id=bp["id"], version=bp["version"], dir=root,
        name=bp.get("name", ""), homepage=bp.get("homepage") or None,
        clear_env=bool(bp.get("clear-env", False)), description=bp.get("description", ""),
        keywords=tuple(bp.get("keywords", ())), exec_env=_exec_env(bp.get("exec-env", [])),
        sbom_formats=tuple(bp.get("sbom-formats", ())), targets=targets, stacks=stacks,
        order=order, metadata=dict(data.get("metadata", {})),
    )


def load(toml_path: PathLike) -> BuildpackDescriptor:
    """Read and validate a ``buildpack.toml``; the buildpack root is its directory.

    Raises FileFormatError (file/key named) or BuildpackAPIError (exit 12) for an unsupported api.
    """
    path = Path(toml_path).absolute()
    data = tomlfile.load(path)
    schema.validate(data, "buildpack", path)
    return from_toml(data, path.parent, path)


def find(buildpacks_dir: PathLike, bp_id: str, version: str) -> BuildpackDescriptor:
    """Load ``<buildpacks>/<escaped id>/<version>/buildpack.toml``."""
    path = Path(buildpacks_dir) / escape_id(bp_id) / version / "buildpack.toml"
    if not path.is_file():
        raise FileFormatError(f"buildpack {bp_id}@{version} not found: {path} does not exist")
    return load(path)
