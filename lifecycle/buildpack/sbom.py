"""SBOM files written by buildpacks: classify, check media types, copy under ``<layers>/sbom``.

`buildpack.md` "Software-Bill-of-Materials" (``<layer>.sbom.<ext>``, ``launch.sbom.<ext>``,
``build.sbom.<ext>`` with ``cdx.json``/``spdx.json``/``syft.json``); cnb-digest §2.10. Each file's
media type must be declared in the buildpack's ``sbom-formats``. After the build the files are
copied to ``<layers>/sbom/{launch,build,cache}/<escaped bp id>[/<layer>]/sbom.<ext>``: launch
layers and ``launch.sbom`` under ``launch``, other layers and ``build.sbom`` under ``build``,
cache layers also under ``cache``. Deprecated ``bom`` entries go to
``sbom/{launch,build}/sbom.legacy.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lifecycle.buildpack.descriptor import escape_id
from lifecycle.buildpack.launch_toml import BOMEntry
from lifecycle.buildpack.layers import LayerTypes
from lifecycle.errors import BuildError
from lifecycle.fsutil import atomic_write

Kind = Literal["launch", "build", "cache"]

MEDIA_TYPES: Mapping[str, str] = {
    "cdx.json": "application/vnd.cyclonedx+json",
    "spdx.json": "application/spdx+json",
    "syft.json": "application/vnd.syft+json",
}
"""SBOM file extension -> media type."""


@dataclass(frozen=True, slots=True)
class SbomFile:
    """One SBOM file to pass through: where it is and where it belongs."""

    buildpack_id: str
    layer: str | None
    kind: Kind
    path: Path
    ext: str

    @property
    def media_type(self) -> str:
        """The IANA media type of the file."""
        return MEDIA_TYPES[self.ext]


def split_name(filename: str) -> tuple[str, str] | None:
    """``<owner>.sbom.<ext>`` -> (owner, ext) for any ``*.sbom.*.json`` file, else None."""
    owner, sep, rest = filename.partition(".sbom.")
    if not sep or not owner or not rest.endswith(".json") or rest == ".json":
        return None
    return owner, rest


def classify(buildpack_id: str, bp_layers_dir: Path, filenames: Iterable[str],
             layer_types: Mapping[str, LayerTypes]) -> tuple[SbomFile, ...]:
    """Decide where each SBOM file goes; raise BuildError for an unsupported extension.

    SBOMs of layers that have no metadata are skipped (Go lifecycle).
    """
    out: list[SbomFile] = []
    for name in sorted(filenames):
        parts = split_name(name)
        if parts is None:
            continue
        owner, ext = parts
        if ext not in MEDIA_TYPES:
            raise BuildError(f"{bp_layers_dir / name}: unsupported SBOM format "
                             f"(want .sbom.cdx.json, .sbom.spdx.json or .sbom.syft.json)")
        path = bp_layers_dir / name
        if owner in ("launch", "build"):
            out.append(SbomFile(buildpack_id, None, owner, path, ext))  # type: ignore[arg-type]
            continue
        types = layer_types.get(owner)
        if types is None:
            continue
        out.append(SbomFile(buildpack_id, owner, "launch" if types.launch else "build", path, ext))
        if types.cache:
            out.append(SbomFile(buildpack_id, owner, "cache", path, ext))
    return tuple(out)


def check_declared(files: Sequence[SbomFile], declared: Sequence[str], who: str) -> None:
    """Raise BuildError if a file's media type is not among the buildpack's ``sbom-formats``."""
    wanted = {d.split(";", 1)[0].strip().lower() for d in declared}
    for f in files:
        if f.media_type not in wanted:
            raise BuildError(
                f"{f.path}: SBOM media type {f.media_type!r} is not declared in sbom-formats "
                f"of buildpack {who}")


def find(buildpack_id: str, bp_layers_dir: str | os.PathLike[str],
         layer_types: Mapping[str, LayerTypes]) -> tuple[SbomFile, ...]:
    """Classify the SBOM files present in a buildpack's layers directory."""
    root = Path(bp_layers_dir)
    try:
        names = [e.name for e in root.iterdir() if e.is_file()]
    except FileNotFoundError:
        names = []
    return classify(buildpack_id, root, names, layer_types)


def destination(layers_dir: Path, f: SbomFile) -> Path:
    """``<layers>/sbom/<kind>/<escaped bp id>[/<layer>]/sbom.<ext>``."""
    base = layers_dir / "sbom" / f.kind / escape_id(f.buildpack_id)
    if f.layer is not None:
        base = base / f.layer
    return base / f"sbom.{f.ext}"


def copy_files(layers_dir: str | os.PathLike[str], files: Iterable[SbomFile]) -> None:
    """Copy SBOM files to their places under ``<layers>/sbom``."""
    root = Path(layers_dir)
    for f in files:
        dest = destination(root, f)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f.path, dest)
        except OSError as e:
            raise BuildError(f"{f.path}: cannot copy SBOM to {dest}: {e.strerror}") from e


def write_legacy(layers_dir: str | os.PathLike[str], launch_bom: Sequence[BOMEntry],
                 build_bom: Sequence[BOMEntry]) -> None:
    """Write deprecated bom entries as ``sbom/{launch,build}/sbom.legacy.json`` (when any)."""
    root = Path(layers_dir) / "sbom"
    for kind, bom in (("launch", launch_bom), ("build", build_bom)):
        if bom:
            data = json.dumps([b.to_json() for b in bom], sort_keys=True).encode()
            atomic_write(root / kind / "sbom.legacy.json", data)
