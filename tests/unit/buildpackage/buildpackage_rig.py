"""Helpers for the buildpackage tests: the fixture buildpacks (``tests/testdata/buildpackage``:
``bp-one``, ``bp-two`` and the composite ``meta`` over both), package.toml files written on the
fly, a per-test image store, and the members of a layer. A uniquely named module."""

from __future__ import annotations

import json
import shutil
import tarfile
import textwrap
from pathlib import Path

from lifecycle import client
from lifecycle.builder import labels as lb
from lifecycle.builder import layers as ly
from lifecycle.buildpackage import metadata
from lifecycle.buildpackage.package import PackageOptions, PackageResult, package_buildpack
from lifecycle.oci import mutate
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.image import Image, empty_image
from lifecycle.oci.layer import Layer
from lifecycle.oci.pipeline import store_layer

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "buildpackage"
ONE = TESTDATA / "bp-one"
TWO = TESTDATA / "bp-two"
META = TESTDATA / "meta"
PACKAGE_ONE = TESTDATA / "package-one.toml"
PACKAGE_META = TESTDATA / "package-meta.toml"


def context(tmp: Path) -> client.Context:
    """A context whose local store lives under ``tmp``."""
    return client.Context(store_root=str(tmp / "home"))


def copy_fixtures(tmp: Path) -> Path:
    """The fixture buildpacks copied into ``tmp`` (as bp-one, bp-two, meta); returns tmp."""
    for src in (ONE, TWO, META):
        if not (tmp / src.name).exists():
            shutil.copytree(src, tmp / src.name, symlinks=True)
    return tmp


def write_toml(tmp: Path, body: str, name: str = "package.toml") -> Path:
    """``tmp/<name>`` holding ``body`` (dedented)."""
    path = tmp / name
    path.write_text(textwrap.dedent(body))
    return path


def package(dest: str, config: Path, ctx: client.Context, **kw: object) -> PackageResult:
    """``pypack buildpack package DEST --config CONFIG``."""
    return package_buildpack(PackageOptions(name=dest, config=str(config), **kw),  # type: ignore[arg-type]
                             ctx)


def members(layer: Layer) -> dict[str, tarfile.TarInfo]:
    """The tar members of ``layer`` by name."""
    with layer.open_uncompressed() as f, tarfile.open(fileobj=f, mode="r|") as tf:
        return {m.name: m for m in tf}


def flattened(tmp: Path) -> Image:
    """A buildpackage whose one layer holds test/one and test/two (pack's --flatten)."""
    entries = [*ly.buildpack_entries(ONE, "test/one", "1.0.0"),
               *ly.buildpack_entries(TESTDATA / "bp-two", "test/two", "2.0.0")]
    entries = [e for e in entries if e.path != "cnb/buildpacks"]
    layer = store_layer(ly.tar_entries(sorted(set(entries), key=ly.sort_key)),
                        BlobStore(tmp / "blobs"))
    diff = str(layer.diff_id)
    img = mutate.append_layers(empty_image(), [layer])
    return mutate.with_labels(img, {
        metadata.PACKAGE_METADATA: '{"id":"test/one","version":"1.0.0","stacks":[{"id":"*"}]}',
        lb.BUILDPACK_LAYERS: json.dumps({"test/one": {"1.0.0": {"api": "0.12",
                                                                "layerDiffID": diff}},
                                         "test/two": {"2.0.0": {"api": "0.10",
                                                                "layerDiffID": diff}}})})
