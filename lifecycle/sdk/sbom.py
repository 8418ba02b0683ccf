"""SBOM file names (`buildpack.md` "Software-Bill-of-Materials").

A buildpack writes ``<layers>/<layer>.sbom.<ext>``, ``launch.sbom.<ext>`` or
``build.sbom.<ext>``; ``<ext>`` names the media type. Formats may be given by short name
(``cdx``, ``spdx``, ``syft``), extension (``cdx.json``) or media type.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.fileio import as_bytes, atomic_write

MEDIA_TYPES: Mapping[str, str] = {
    "application/vnd.cyclonedx+json": "cdx.json",
    "application/spdx+json": "spdx.json",
    "application/vnd.syft+json": "syft.json",
}
"""Supported SBOM media types -> file extension."""


def extension(fmt: str) -> str:
    """The file extension for ``fmt`` (short name, extension or media type)."""
    if fmt in MEDIA_TYPES:
        return MEDIA_TYPES[fmt]
    exts = set(MEDIA_TYPES.values())
    if fmt in exts:
        return fmt
    if f"{fmt}.json" in exts:
        return f"{fmt}.json"
    raise SdkError(f"unknown SBOM format {fmt!r} (use one of: cdx, spdx, syft, or a media "
                   f"type: {', '.join(MEDIA_TYPES)})")


def write(directory: Path, stem: str, fmt: str, data: str | bytes | Mapping[str, Any]) -> Path:
    """Write ``<directory>/<stem>.sbom.<ext>``; a mapping is written as JSON. Return the path."""
    path = directory / f"{stem}.sbom.{extension(fmt)}"
    import json

    raw = json.dumps(data, sort_keys=True, indent=2).encode() if isinstance(data, Mapping) \
        else as_bytes(data)
    atomic_write(path, raw)
    return path
