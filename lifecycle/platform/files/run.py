"""``run.toml``: the run images a build may use (Platform API 0.15, platform.md "run.toml").

``[[images]] image, mirrors``; ``mirrors`` only with ``image``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from lifecycle import schema, tomlfile

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class RunImageEntry:
    """One run image and its mirrors (same image ID on other registries)."""

    image: str = ""
    mirrors: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """The image followed by its mirrors."""
        return ((self.image,) if self.image else ()) + self.mirrors


@dataclass(frozen=True, slots=True)
class Run:
    """The whole ``run.toml``."""

    images: tuple[RunImageEntry, ...] = ()

    def find(self, name: str) -> RunImageEntry | None:
        """The first entry whose image or mirrors contain ``name``."""
        return next((e for e in self.images if name in e.names()), None)


def load(path: PathLike, *, missing_ok: bool = False) -> Run:
    """Read and validate ``run.toml``; with ``missing_ok`` a missing file is empty."""
    data = tomlfile.load(path, missing_ok=missing_ok)
    schema.validate(data, "run", path)
    return Run(tuple(RunImageEntry(i.get("image", ""), tuple(i.get("mirrors", ())))
                     for i in data.get("images", ())))


def dump(path: PathLike, run: Run) -> None:
    """Write ``run.toml`` atomically."""
    def entry(e: RunImageEntry) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if e.image:
            out["image"] = e.image
            if e.mirrors:
                out["mirrors"] = list(e.mirrors)
        return out
    tomlfile.dump(path, {"images": [entry(e) for e in run.images]})
