"""What a buildpackage (or a builder) holds, from its labels, and its buildpacks extracted.

cnb-digest §7.1 and pack ``pkg/buildpack/package.go``: ``io.buildpacks.buildpackage.metadata``
names the entrypoint buildpack; ``io.buildpacks.buildpack.layers`` maps each buildpack id and
version to the diff ID of the layer holding ``/cnb/buildpacks/<escaped id>/<version>/`` (several
buildpacks may share one layer in a flattened package). :func:`read` parses both labels;
:func:`extract` unpacks each needed layer once (its diff ID checked) and loads every buildpack's
``buildpack.toml``, keeping the layer so builders and buildpackages reuse it without re-tarring.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import tomlfile
from lifecycle.builder import labels as lb
from lifecycle.buildpack import descriptor
from lifecycle.buildpack.descriptor import BuildpackDescriptor, escape_id
from lifecycle.buildpackage import metadata as md
from lifecycle.errors import ImageError, LifecycleError
from lifecycle.oci.extract import extract as extract_tar
from lifecycle.oci.image import Image
from lifecycle.oci.layer import Layer, verified

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PackageContents:
    """The labels of a buildpackage (``metadata`` set) or builder (``metadata`` None)."""

    layers: Mapping[str, Mapping[str, lb.LayerInfo]]
    metadata: md.PackageMetadata | None = None
    labels: Mapping[str, Any] = field(default_factory=dict)
    """The parsed JSON of each label read, by label name."""

    def names(self) -> list[tuple[str, str]]:
        """Every ``(id, version)``: the entrypoint first, then sorted by ``id@version``."""
        out = sorted(((i, v) for i, vs in self.layers.items() for v in vs),
                     key=lambda iv: f"{iv[0]}@{iv[1]}")
        if self.metadata is not None:
            main = (self.metadata.id, self.metadata.version)
            if main in out:
                out.remove(main)
                out.insert(0, main)
        return out


@dataclass(frozen=True, slots=True)
class PackagedBuildpack:
    """One buildpack unpacked from a buildpackage: its descriptor (``dir`` is where it was
    extracted), the raw ``buildpack.toml``, the layer holding it and its layers-label entry."""

    descriptor: BuildpackDescriptor
    raw: Mapping[str, Any]
    layer: Layer
    info: lb.LayerInfo

    @property
    def full_name(self) -> str:
        """``id@version``."""
        return f"{self.descriptor.id}@{self.descriptor.version}"


def read(img: Image, where: str, *, require_package: bool = True) -> PackageContents:
    """Parse the labels of ``img``; ImageError unless it is a buildpackage (or, without
    ``require_package``, a builder: any image with the layers label)."""
    labels = dict(img.config().config.labels)
    text = labels.get(md.PACKAGE_METADATA)
    if require_package and not text:
        raise ImageError(f"{where} is not a buildpackage: it has no label "
                         f"{md.PACKAGE_METADATA}")
    layers_text = labels.get(lb.BUILDPACK_LAYERS)
    if not layers_text:
        raise ImageError(f"{where} holds no buildpacks: it has no label {lb.BUILDPACK_LAYERS}")
    layers = lb.read_layers(layers_text, where, error=ImageError)
    parsed: dict[str, Any] = {lb.BUILDPACK_LAYERS: json.loads(layers_text)}
    meta = None
    if text:
        meta = md.read(text, where)
        parsed[md.PACKAGE_METADATA] = json.loads(text)
        if meta.version not in layers.get(meta.id, {}):
            raise ImageError(f"{where}: entrypoint buildpack {meta.id}@{meta.version} of label "
                             f"{md.PACKAGE_METADATA} is not in label {lb.BUILDPACK_LAYERS}")
    return PackageContents(layers, meta, parsed)


def _layers_by_diff_id(img: Image) -> dict[str, Layer]:
    return {str(layer.diff_id): layer for layer in img.layers()}


def _unpack(layer: Layer, dest: Path, where: str) -> None:
    try:
        with verified(layer.open_uncompressed(), layer.diff_id,
                      f"{where} layer {layer.diff_id}") as stream:
            extract_tar(stream, dest)
    except LifecycleError as e:
        raise ImageError(f"{where}: layer {layer.diff_id}: {e}") from e


def extract(img: Image, contents: PackageContents, dest: Path, where: str,
            into: Path | None = None) -> list[PackagedBuildpack]:
    """Unpack every buildpack of ``contents`` under ``dest`` (one directory per layer) and
    load it; with ``into``, each buildpack is then moved to ``<into>/<escaped id>/<version>/``
    (one already there is kept). The entrypoint comes first."""
    by_diff = _layers_by_diff_id(img)
    unpacked: dict[str, Path] = {}
    out = []
    for bp_id, version in contents.names():
        info = contents.layers[bp_id][version]
        layer = by_diff.get(info.layer_diff_id)
        if layer is None:
            raise ImageError(f"{where}: buildpack {bp_id}@{version}: layer "
                             f"{info.layer_diff_id} of label {lb.BUILDPACK_LAYERS} is not "
                             "among the image's layers")
        root = unpacked.get(info.layer_diff_id)
        if root is None:
            root = dest / layer.diff_id.hex[:16]
            _unpack(layer, root, where)
            unpacked[info.layer_diff_id] = root
        bp_dir = root / "cnb" / "buildpacks" / escape_id(bp_id) / version
        if into is not None:
            bp_dir = _move(bp_dir, into / escape_id(bp_id) / version, where)
        out.append(_load(bp_dir, bp_id, version, layer, info, where))
    return out


def _move(src: Path, dest: Path, where: str) -> Path:
    if dest.exists():
        log.debug("%s: %s is already there; kept", where, dest)
        return dest
    if not src.is_dir():
        return src  # _load reports it
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
    except OSError:
        shutil.copytree(src, dest, symlinks=True)
    return dest


def _load(bp_dir: Path, bp_id: str, version: str, layer: Layer, info: lb.LayerInfo,
          where: str) -> PackagedBuildpack:
    toml_path = bp_dir / "buildpack.toml"
    if not toml_path.is_file():
        raise ImageError(f"{where}: buildpack {bp_id}@{version}: layer {info.layer_diff_id} "
                         f"has no /cnb/buildpacks/{escape_id(bp_id)}/{version}/buildpack.toml")
    desc = descriptor.load(toml_path)
    if (desc.id, desc.version) != (bp_id, version):
        raise ImageError(f"{where}: /cnb/buildpacks/{escape_id(bp_id)}/{version}/"
                         f"buildpack.toml declares {desc}, not {bp_id}@{version}")
    return PackagedBuildpack(desc, tomlfile.load(toml_path), layer, info)
