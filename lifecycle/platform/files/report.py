"""``report.toml``: what the exporter (and the rebaser) wrote (Platform API 0.15, platform.md
"report.toml"; cnb-digest §3.12).

``[image] tags`` is always written; ``digest`` and ``manifest-size`` for a registry (or OCI
layout) export, ``image-id`` for a daemon export. ``manifest-size`` is an integer as in the Go
lifecycle; a numeric string (the spec's example quotes it) is read too. The legacy ``[build]``
table (bom, Platform API < 0.9) is ignored on read and never written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.errors import FileFormatError, LifecycleError

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class ImageReport:
    """The ``[image]`` table."""

    tags: tuple[str, ...] = ()
    digest: str | None = None
    image_id: str | None = None
    manifest_size: int | None = None

    def to_toml(self) -> dict[str, Any]:
        """The table; unset values omitted."""
        out: dict[str, Any] = {"tags": list(self.tags)}
        if self.image_id:
            out["image-id"] = self.image_id
        if self.digest:
            out["digest"] = self.digest
        if self.manifest_size is not None:
            out["manifest-size"] = self.manifest_size
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """report.toml."""

    image: ImageReport

    def to_toml(self) -> dict[str, Any]:
        """The TOML document."""
        return {"image": self.image.to_toml()}

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> Report:
        """Build from a validated document."""
        img = data["image"]
        size = img.get("manifest-size")
        return cls(ImageReport(
            tags=tuple(img.get("tags", ())), digest=img.get("digest") or None,
            image_id=img.get("image-id") or None,
            manifest_size=None if size is None else int(size),
        ))


def load(path: PathLike, *, error: type[LifecycleError] = FileFormatError) -> Report:
    """Read and validate report.toml; ``error`` names the file and key."""
    data = tomlfile.load(path, error=error)
    schema.validate(data, "report", path, error=error)
    return Report.from_toml(data)


def dump(path: PathLike, report: Report) -> None:
    """Write report.toml atomically."""
    tomlfile.dump(path, report.to_toml())
