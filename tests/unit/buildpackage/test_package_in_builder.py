"""builder.toml entries naming buildpackages (``store:``, a bare store name, ``oci:``,
``image =``, a .cnb file): their buildpacks land on the builder with the package's layers
(same blob digests: nothing re-tarred), its layers-label entries merged, and a flattened
package's shared layer added once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from buildpackage_rig import PACKAGE_META, PACKAGE_ONE, context, flattened, package, write_toml

from lifecycle import client
from lifecycle.builder import labels as lb
from lifecycle.builder.create import CreateOptions, create_builder
from lifecycle.builder.inspect import inspect_builder
from lifecycle.buildpackage.inspect import inspect_package
from lifecycle.oci import mutate
from lifecycle.oci.check import check_image
from lifecycle.oci.image import empty_image

BUILD, RUN = "unit/pkg-build:1", "unit/pkg-run:1"


@pytest.fixture
def ctx(tmp_path: Path) -> client.Context:
    c = context(tmp_path)
    img = mutate.with_env(empty_image(), {"CNB_USER_ID": "1000", "CNB_GROUP_ID": "1000"})
    client.write_image(img, f"store:{BUILD}", c)
    client.write_image(empty_image(), f"store:{RUN}", c)
    return c


def _builder_toml(tmp: Path, *entries: str, order: str = "test/meta") -> Path:
    bps = "".join(f"[[buildpacks]]\n{e}\n\n" for e in entries)
    return write_toml(tmp, f"""{bps}
[[order]]
[[order.group]]
id = "{order}"

[build]
image = "{BUILD}"

[[run.images]]
image = "{RUN}"
""", "builder.toml")


@pytest.mark.parametrize("entry", ['uri = "store:unit/meta:1"', 'uri = "unit/meta:1"',
                                   'image = "unit/meta:1"', 'uri = "oci:{tmp}/lay:meta"',
                                   'uri = "meta.cnb"'])
def test_builder_takes_the_packages_layers(tmp_path: Path, ctx: client.Context,
                                           entry: str) -> None:
    package("unit/meta:1", PACKAGE_META, ctx)
    package(str(tmp_path / "meta.cnb"), PACKAGE_META, ctx, format="file")
    client.copy_image("store:unit/meta:1", f"oci:{tmp_path}/lay:meta", ctx)
    cfg = _builder_toml(tmp_path, entry.format(tmp=tmp_path))
    res = create_builder(CreateOptions("unit/builder:1", str(cfg)), ctx)
    img = client.open_image("store:unit/builder:1", ctx)
    check_image(img)
    pkg = client.open_image("store:unit/meta:1", ctx)
    digests = [x.digest for x in img.layers()]
    assert all(x.digest in digests for x in pkg.layers())       # reused, not re-tarred
    labels = img.config().config.labels
    got = lb.read_layers(labels[lb.BUILDPACK_LAYERS], "builder")
    want = lb.read_layers(pkg.config().config.labels[lb.BUILDPACK_LAYERS], "pkg")
    assert got == want
    assert [str(b) for b in res.plan.metadata.buildpacks] == [
        "test/meta@0.1.0", "test/one@1.0.0", "test/two@2.0.0"]
    info = inspect_builder("unit/builder:1", ctx)
    assert [str(g[0]) for g in info.order] == ["test/meta@0.1.0"]
    assert {b.id for b in info.metadata.buildpacks} == {"test/meta", "test/one", "test/two"}
    seen = inspect_package("unit/builder:1", ctx)
    assert seen.kind == "builder"
    assert [b["id"] for b in seen.buildpacks()] == ["test/meta", "test/one", "test/two"]


def test_two_packages_sharing_a_dependency(tmp_path: Path, ctx: client.Context) -> None:
    package("unit/meta:1", PACKAGE_META, ctx)
    package("unit/one:1", PACKAGE_ONE, ctx)
    cfg = _builder_toml(tmp_path, 'uri = "store:unit/meta:1"', 'image = "unit/one:1"')
    res = create_builder(CreateOptions("unit/builder:2", str(cfg)), ctx)
    assert res.plan.warnings == ("buildpack test/one@1.0.0 is listed more than once; the "
                                 "last entry wins",)
    img = client.open_image("store:unit/builder:2", ctx)
    assert len(img.layers()) == 6   # dirs, lifecycle, meta, one, two, config files


def test_flattened_package_layer_is_added_once(tmp_path: Path, ctx: client.Context) -> None:
    client.write_image(flattened(tmp_path), "store:unit/flat:1", ctx)
    cfg = _builder_toml(tmp_path, 'uri = "store:unit/flat:1"', order="test/two")
    create_builder(CreateOptions("unit/builder:flat", str(cfg)), ctx)
    img = client.open_image("store:unit/builder:flat", ctx)
    assert len(img.layers()) == 4   # dirs, lifecycle, the flattened layer, config files
    layers = json.loads(img.config().config.labels[lb.BUILDPACK_LAYERS])
    assert layers["test/one"]["1.0.0"]["layerDiffID"] == \
        layers["test/two"]["2.0.0"]["layerDiffID"] == str(img.layers()[2].diff_id)
