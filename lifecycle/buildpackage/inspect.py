"""``pypack buildpack inspect``: what a buildpackage (or a builder) holds, from its labels.

pack ``internal/commands/buildpack_inspect.go`` and cnb-digest §7.1: the entrypoint buildpack
and its stacks/targets (``io.buildpacks.buildpackage.metadata``), every buildpack with its
Buildpack API, layer diff ID and homepage (``io.buildpacks.buildpack.layers``), and the
detection order of the entrypoint (a composite's ``order``, nested composites expanded). A
builder image has no package metadata: its buildpacks are listed the same way. The parsed
labels are part of the result, so a JSON reader sees exactly what the image carries.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import client
from lifecycle.builder import labels as lb
from lifecycle.buildpackage import contents, source
from lifecycle.buildpackage import metadata as md
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image

MAX_DEPTH = 8
"""How deep nested composite buildpacks are expanded in the detection order."""


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of the detection order tree: ``depth`` 0 is a group of the entrypoint."""

    depth: int
    group: int
    id: str
    version: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """A buildpackage (``kind == "buildpackage"``) or builder, summarised."""

    location: str
    digest: str
    kind: str
    platform: str
    contents: contents.PackageContents
    order: tuple[OrderLine, ...] = field(default_factory=tuple)

    @property
    def metadata(self) -> md.PackageMetadata | None:
        """The package metadata label (None for a builder)."""
        return self.contents.metadata

    def buildpacks(self) -> list[dict[str, Any]]:
        """Every buildpack, entrypoint first: id, version and its layers-label entry."""
        out = []
        for bp_id, version in self.contents.names():
            info = self.contents.layers[bp_id][version]
            out.append({"id": bp_id, "version": version, **info.to_json()})
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary, with the labels as the image carries them."""
        meta = self.metadata
        return {
            "location": self.location, "digest": self.digest, "kind": self.kind,
            "platform": self.platform,
            "entrypoint": {"id": meta.id, "version": meta.version} if meta else None,
            "metadata": meta.to_json() if meta else None,
            "buildpacks": self.buildpacks(),
            "order": [{"depth": o.depth, "group": o.group, "id": o.id, "version": o.version,
                       "optional": o.optional} for o in self.order],
            "labels": dict(self.contents.labels),
        }


def inspect_package(ref: str, ctx: client.Context) -> PackageInfo:
    """Read the buildpackage or builder ``ref`` (store name, registry reference, ``oci:``,
    ``docker://``, ``.cnb`` file)."""
    with tempfile.TemporaryDirectory(prefix="pypack-inspect-") as tmp:
        img = source.open_package(ref, ctx, Path(tmp))
        return from_image(img, ref)


def from_image(img: Image, location: str) -> PackageInfo:
    """The summary of ``img``; ImageError if it carries no buildpacks."""
    found = contents.read(img, location, require_package=False)
    cfg = img.config()
    kind = "buildpackage" if found.metadata is not None else (
        "builder" if lb.BUILDER_METADATA in cfg.config.labels else "image")
    order: tuple[OrderLine, ...] = ()
    if found.metadata is not None:
        order = tuple(detection_order(found.layers, found.metadata.id,
                                      found.metadata.version))
    return PackageInfo(location=location, digest=str(Digest.of(img.raw_manifest())),
                       kind=kind, platform=str(cfg.platform), contents=found, order=order)


def detection_order(layers: Mapping[str, Mapping[str, lb.LayerInfo]], bp_id: str,
                    version: str, depth: int = 0) -> list[OrderLine]:
    """The order of composite ``bp_id@version`` as lines, nested composites expanded (a
    non-composite entrypoint gives itself)."""
    info = layers.get(bp_id, {}).get(version)
    if info is None or not info.order:
        return [OrderLine(0, 1, bp_id, version)] if depth == 0 else []
    out: list[OrderLine] = []
    for g, group in enumerate(info.order, 1):
        for ref in group:
            out.append(OrderLine(depth, g, ref.id, ref.version, ref.optional))
            if depth + 1 < MAX_DEPTH:
                out += detection_order(layers, ref.id, ref.version, depth + 1)
    return out
