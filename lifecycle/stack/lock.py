"""The stack lock file ``stack.lock``: exact package versions per image, from dpkg's status.

Validated by ``spec/schemas/stack-lock.schema.json``. Per image: the variant and package list
the definition asked for when the entry was made (``include``) and every installed package as
``NAME=VERSION`` (``packages``), read from ``/var/lib/dpkg/status`` of the built root filesystem.
An entry whose ``variant``/``include`` still match the definition pins the next build to exactly
those versions (``--include=NAME=VERSION,...``).

An image made from a base image (in-house stack) records the ``base`` location, the
``base-digest`` the packages were resolved against and, in ``packages``, only the packages it
added; the entry pins them while the base and its digest are unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.errors import FileFormatError
from lifecycle.stack.definition import ImageSpec

HEADER = (b"# Written by `pypack stack build`: the exact packages of each image.\n"
          b"# Refresh with `pypack stack build NAME --update`. Do not edit by hand.\n")


@dataclass(frozen=True, slots=True)
class ImageLock:
    """The locked package set of one image."""

    variant: str | None
    include: tuple[str, ...]
    packages: Mapping[str, str]
    base: str | None = None
    base_digest: str | None = None

    def matches(self, spec: ImageSpec, base_digest: str | None = None) -> bool:
        """True if this entry was made from ``spec``'s variant (or base and, if given,
        ``base_digest``) and package list."""
        if self.include != spec.packages or self.base != spec.base:
            return False
        if spec.base is not None:
            return base_digest is None or base_digest == self.base_digest
        return self.variant == spec.variant

    def pins(self) -> tuple[str, ...]:
        """``NAME=VERSION`` for every package, sorted."""
        return tuple(f"{n}={v}" for n, v in sorted(self.packages.items()))

    def to_dict(self) -> dict[str, Any]:
        """The TOML table."""
        out: dict[str, Any] = {} if self.variant is None else {"variant": self.variant}
        if self.base is not None:
            out["base"] = self.base
            if self.base_digest is not None:
                out["base-digest"] = self.base_digest
        return {**out, "include": list(self.include), "packages": list(self.pins())}


@dataclass(frozen=True, slots=True)
class Lock:
    """All images' entries by role (build, run)."""

    images: Mapping[str, ImageLock]

    def get(self, spec: ImageSpec, base_digest: str | None = None) -> ImageLock | None:
        """The entry for ``spec`` if it still matches the definition (and ``base_digest``,
        for an image made from a base), else None."""
        entry = self.images.get(spec.role)
        return entry if entry is not None and entry.matches(spec, base_digest) else None

    def to_dict(self) -> dict[str, Any]:
        """The TOML document."""
        return {"version": 1,
                "images": {r: self.images[r].to_dict() for r in sorted(self.images)}}


def parse(data: Mapping[str, Any], source: str | os.PathLike[str]) -> Lock:
    """A lock from a TOML document (schema-checked here)."""
    schema.validate(data, "stack-lock", source)
    images = {}
    for role, entry in data["images"].items():
        pkgs: dict[str, str] = {}
        for item in entry["packages"]:
            name, _, version = item.partition("=")
            if name in pkgs:
                raise FileFormatError(f"{os.fspath(source)}: images.{role}.packages: "
                                      f"{name} listed twice")
            pkgs[name] = version
        images[role] = ImageLock(entry.get("variant"), tuple(entry["include"]), pkgs,
                                 entry.get("base"), entry.get("base-digest"))
    return Lock(images)


def load(path: str | os.PathLike[str]) -> Lock | None:
    """The lock at ``path``, or None if there is none."""
    data = tomlfile.load(path, missing_ok=True)
    return parse(data, path) if data else None


def dump(path: str | os.PathLike[str], lock: Lock) -> None:
    """Write ``lock`` to ``path`` atomically, with a header comment."""
    import tomli_w

    from lifecycle.fsutil import atomic_write

    atomic_write(Path(path), HEADER + b"\n" + tomli_w.dumps(lock.to_dict()).encode())


def parse_dpkg_status(text: str, native_arch: str | None = None) -> dict[str, str]:
    """Installed packages (``Status: ... installed``) from a dpkg status file: name -> version.

    A package of a foreign architecture is named ``name:arch``."""
    out: dict[str, str] = {}
    for para in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in para.splitlines():
            if line and not line[0].isspace() and ":" in line:
                k, _, v = line.partition(":")
                fields[k.strip().lower()] = v.strip()
        if not fields.get("package") or not fields.get("status", "").endswith(" installed"):
            continue
        name, arch = fields["package"], fields.get("architecture", "all")
        if native_arch and arch not in ("all", native_arch):
            name = f"{name}:{arch}"
        out[name] = fields.get("version", "")
    return dict(sorted(out.items()))
