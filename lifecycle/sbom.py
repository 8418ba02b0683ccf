"""``pypack sbom download`` and the SBOM documents ``pypack inspect --bom`` shows.

Platform API 0.15 platform.md "exporter" (the launch SBOM layer, ``<layers>/sbom/launch``, whose
diffID the ``io.buildpacks.lifecycle.metadata`` label records as ``sbom.sha``) and buildpack.md
"Software-Bill-of-Materials" (``<escaped bp id>[/<layer>]/sbom.<ext>`` with ``cdx.json``,
``spdx.json``, ``syft.json``; ``sbom.legacy.json`` for the deprecated ``bom``); cnb-digest §2.10.
Like pack, the layer is found by that diffID and extracted, so the files land in
``<output-dir>/layers/sbom/launch/...``; pypack re-roots the layer's ``.../sbom/launch``
directory there whatever ``<layers>`` was at export time (``/layers`` under ``pypack build``, the
``-layers`` path for the ``exporter`` program). The previous download in that place is replaced.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lifecycle.buildpack.descriptor import escape_id
from lifecycle.buildpack.sbom import MEDIA_TYPES
from lifecycle.client import Context
from lifecycle.errors import ImageError
from lifecycle.oci.extract import clean_name, extract
from lifecycle.oci.image import Image
from lifecycle.oci.layer import Layer
from lifecycle.platform import labels as lb
from lifecycle.platform.labels import LifecycleMetadata
from lifecycle.platform.labels_build import BuildMetadata

log = logging.getLogger(__name__)

LAUNCH_DIR = PurePosixPath("layers/sbom/launch")
"""Where the downloaded SBOM files go, relative to the output directory (as pack)."""

LEGACY_FORMAT = "legacy.json"
"""The format name of ``sbom.legacy.json`` (deprecated ``bom`` entries, Platform API < 0.9)."""


@dataclass(frozen=True, slots=True)
class SbomDocument:
    """One file of the launch SBOM layer. ``path`` is relative to ``sbom/launch``;
    ``buildpack_id`` is None for the top-level legacy file, ``layer`` None for a buildpack's
    ``launch.sbom.<ext>``."""

    path: str
    format: str
    data: bytes
    buildpack_id: str | None = None
    layer: str | None = None

    @property
    def media_type(self) -> str:
        """The IANA media type of the format ("" for unknown formats)."""
        return MEDIA_TYPES.get(self.format, "application/json" if self.format.endswith(
            ".json") else "")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view; ``document`` is the parsed JSON (the text if it is not JSON)."""
        text = self.data.decode("utf-8", errors="replace")
        try:
            document: Any = json.loads(text)
        except ValueError:
            document = text
        return {"path": f"{LAUNCH_DIR}/{self.path}", "buildpack": self.buildpack_id,
                "layer": self.layer, "format": self.format, "media_type": self.media_type,
                "document": document}


@dataclass(frozen=True, slots=True)
class Downloaded:
    """Where the SBOM was written and the files in it (relative to ``output_dir``)."""

    output_dir: Path
    files: tuple[str, ...]

    @property
    def launch_dir(self) -> Path:
        """``<output_dir>/layers/sbom/launch``."""
        return self.output_dir / LAUNCH_DIR


# --- pure parts ---------------------------------------------------------------------------------
def sbom_diff_id(labels: Mapping[str, str] | None, name: str) -> str:
    """The SBOM layer's diffID from the lifecycle metadata label; ImageError when the image
    records none (the message says so and why that may be)."""
    text = (labels or {}).get(lb.LIFECYCLE_METADATA)
    if not text:
        raise ImageError(f"image {name} was not built with buildpacks (it has no "
                         f"{lb.LIFECYCLE_METADATA} label), so it has no SBOM")
    md = LifecycleMetadata.from_json(text, source=f"{name}: label {lb.LIFECYCLE_METADATA}",
                                     error=ImageError)
    if not md.sbom:
        raise ImageError(f"could not find SBOM information on {name}: its buildpacks wrote no "
                         f"launch SBOM files (<layer>.sbom.<ext> or launch.sbom.<ext>)")
    return md.sbom


def sbom_layer(img: Image, name: str) -> Layer:
    """The launch SBOM layer of ``img`` (by the label's ``sbom.sha`` diffID)."""
    diff_id = sbom_diff_id(img.config().config.labels, name)
    for layer in img.layers():
        if str(layer.diff_id) == diff_id:
            return layer
    raise ImageError(f"image {name}: label {lb.LIFECYCLE_METADATA} names SBOM layer {diff_id}, "
                     f"which is not among the image's layers")


def launch_root(names: Iterable[str]) -> str | None:
    """The directory of a layer's entry names that is ``.../sbom/launch`` (shortest first)."""
    roots = set()
    for n in names:
        parts = PurePosixPath(clean_name(n)).parts
        for i in range(1, len(parts)):
            if parts[i - 1:i + 1] == ("sbom", "launch"):
                roots.add("/".join(parts[:i + 1]))
                break
    return min(roots, key=lambda r: (len(r), r)) if roots else None


def classify(rel: str, buildpack_ids: Iterable[str] = ()) -> tuple[str | None, str | None, str]:
    """``(buildpack id, layer, format)`` of a file at ``rel`` under ``sbom/launch``;
    escaped ids are mapped back through ``buildpack_ids`` when one matches."""
    parts = PurePosixPath(rel).parts
    fmt = parts[-1].removeprefix("sbom.") if parts[-1].startswith("sbom.") else parts[-1]
    if len(parts) == 1:
        return None, None, fmt
    by_escaped = {escape_id(b): b for b in buildpack_ids}
    bp = by_escaped.get(parts[0], parts[0])
    layer = "/".join(parts[1:-1]) or None
    return bp, layer, fmt


# --- I/O edge -----------------------------------------------------------------------------------
def _buildpack_ids(img: Image) -> tuple[str, ...]:
    text = (img.config().config.labels or {}).get(lb.BUILD_METADATA)
    if not text:
        return ()
    try:
        return tuple(b.id for b in BuildMetadata.from_json(text, error=ImageError).buildpacks)
    except ImageError as e:  # ids only make the listing nicer
        log.debug("ignoring %s: %s", lb.BUILD_METADATA, e)
        return ()


def read_documents(img: Image, name: str, *, missing_ok: bool = False
                   ) -> tuple[SbomDocument, ...]:
    """Every file of the launch SBOM layer, sorted by path (``pypack inspect --bom``);
    ``missing_ok``: none for a buildpacks image without an SBOM layer."""
    labels = img.config().config.labels or {}
    if missing_ok and labels.get(lb.LIFECYCLE_METADATA):
        md = LifecycleMetadata.from_json(labels[lb.LIFECYCLE_METADATA],
                                         source=f"{name}: label {lb.LIFECYCLE_METADATA}",
                                         error=ImageError)
        if not md.sbom:
            return ()
    layer = sbom_layer(img, name)
    ids = _buildpack_ids(img)
    files: dict[str, bytes] = {}
    try:
        with layer.open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tf:
            for m in tf:
                if m.isfile():
                    f = tf.extractfile(m)
                    files[clean_name(m.name)] = f.read() if f is not None else b""
            while stream.read(1 << 20):  # drain so the diffID is verified
                pass
    except tarfile.TarError as e:
        raise ImageError(f"image {name}: SBOM layer {layer.diff_id}: invalid tar: {e}") from e
    root = launch_root(files)
    out = []
    for path in sorted(files):
        if root is None or not path.startswith(root + "/"):
            continue
        rel = path[len(root) + 1:]
        bp, lay, fmt = classify(rel, ids)
        out.append(SbomDocument(rel, fmt, files[path], bp, lay))
    return tuple(out)


def download(img: Image, name: str, output_dir: str | os.PathLike[str]) -> Downloaded:
    """Extract ``img``'s launch SBOM layer into ``<output_dir>/layers/sbom/launch``."""
    layer = sbom_layer(img, name)
    out = Path(output_dir)
    dest = out / LAUNCH_DIR
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".pypack-sbom-", dir=out) as tmp:
            with layer.open_uncompressed() as stream:
                extract(stream, tmp)
            root = _find_root(Path(tmp))
            if root is None:
                raise ImageError(f"image {name}: SBOM layer {layer.diff_id} has no sbom/launch "
                                 f"directory")
            if dest.exists():
                log.info("replacing %s", dest)
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(root, dest)
    except OSError as e:
        raise ImageError(f"writing the SBOM of {name} to {dest}: {e.strerror or e}") from e
    files = tuple(sorted(str(p.relative_to(out)) for p in dest.rglob("*") if p.is_file()))
    log.debug("wrote the SBOM of %s to %s (%d files)", name, dest, len(files))
    return Downloaded(out, files)


def _find_root(tree: Path) -> Path | None:
    names = [str(p.relative_to(tree)) for p in tree.rglob("launch") if p.is_dir()]
    root = launch_root(n + "/x" for n in names)
    return tree / root if root else None


def download_sbom(name: str, output_dir: str | os.PathLike[str], ctx: Context, *,
                  remote: bool = False) -> Downloaded:
    """Open image ``name`` and download its SBOM (``pypack sbom download``)."""
    from lifecycle.inspect import open_app_image

    opened = open_app_image(name, ctx, remote=remote)
    return download(opened.image, name, output_dir)
