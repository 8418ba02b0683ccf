"""Buildpackage images without external tools: one layer per buildpack at pack's paths, the
labels, the same digest in the store, an OCI layout, a docker-archive and a .cnb file (also one
with pack's '/'-prefixed names), dependencies taken from buildpackages by layer (never
re-tarred), and the labels read back."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from buildpackage_rig import (
    ONE,
    PACKAGE_META,
    PACKAGE_ONE,
    TESTDATA,
    context,
    flattened,
    members,
    package,
    write_toml,
)

from lifecycle import client
from lifecycle.builder import labels as lb
from lifecycle.buildpackage import cnbfile, contents, metadata
from lifecycle.buildpackage.package import file_destination
from lifecycle.errors import ImageError
from lifecycle.oci import mutate
from lifecycle.oci.check import check_image
from lifecycle.oci.image import Image, empty_image
from lifecycle.oci.platform import Platform
from lifecycle.oci.tarball import EPOCH_1980


def _labels(img: Image) -> dict[str, str]:
    return dict(img.config().config.labels)


def test_single_buildpack_package(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    res = package("unit/one:1", PACKAGE_ONE, ctx)
    assert res.location == "store:unit/one:1"
    img = client.open_image("store:unit/one:1", ctx)
    check_image(img)
    assert len(img.layers()) == 1
    m = members(img.layers()[0])
    root = "cnb/buildpacks/test_one/1.0.0"
    assert list(m)[:2] == ["cnb/buildpacks/test_one", root]
    assert m[f"{root}/bin/detect"].mode == 0o755 and m[f"{root}/lib/helper.sh"].mode == 0o644
    assert {(x.uid, x.gid, x.mtime) for x in m.values()} == {(0, 0, EPOCH_1980)}
    cfg = img.config()
    assert (cfg.os, cfg.architecture) == ("linux", Platform.host().architecture)
    assert cfg.created == "1980-01-01T00:00:01Z"
    assert cfg.history[0].created_by == "pypack buildpack package: test/one@1.0.0"
    meta = json.loads(_labels(img)[metadata.PACKAGE_METADATA])
    assert meta == {"id": "test/one", "version": "1.0.0", "name": "One",
                    "description": "First fixture buildpack for buildpackage tests",
                    "homepage": "https://example.com/one", "keywords": ["fixture"],
                    "licenses": [{"type": "Apache-2.0", "uri": ""}],
                    "stacks": [{"id": "*"}], "targets": [{"os": "linux", "arch": ""}]}
    layers = lb.read_layers(_labels(img)[lb.BUILDPACK_LAYERS], "x")
    assert layers["test/one"]["1.0.0"].layer_diff_id == str(img.layers()[0].diff_id)
    assert layers["test/one"]["1.0.0"].api == "0.12"


def test_same_digest_in_every_sink(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    a = package("unit/one:a", PACKAGE_ONE, ctx).digest
    b = package(f"oci:{tmp_path}/lay:one", PACKAGE_ONE, ctx).digest
    c = package(f"docker-archive:{tmp_path}/one.tar:unit/one:1", PACKAGE_ONE, ctx).digest
    d = package(str(tmp_path / "one"), PACKAGE_ONE, ctx, format="file")
    assert d.location == str(tmp_path / "one.cnb")
    assert a == b == c == d.digest
    img = cnbfile.read(tmp_path / "one.cnb", tmp_path / "scratch")
    check_image(img)
    assert img.raw_manifest() == client.open_image("store:unit/one:a", ctx).raw_manifest()
    first = (tmp_path / "one.cnb").read_bytes()
    package(str(tmp_path / "one.cnb"), PACKAGE_ONE, ctx, format="file")
    assert (tmp_path / "one.cnb").read_bytes() == first


def test_cnb_file_layout_and_packs_slash_names(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    package(str(tmp_path / "one.cnb"), PACKAGE_ONE, ctx, format="file")
    with tarfile.open(tmp_path / "one.cnb") as tf:
        names = tf.getnames()
        assert names[:2] == ["blobs", "blobs/sha256"] and names[-2:] == ["index.json",
                                                                          "oci-layout"]
        index = json.load(tf.extractfile("index.json"))  # type: ignore[arg-type]
        assert len(index["manifests"]) == 1
        assert "annotations" not in index["manifests"][0]
        # pack writes entry names with a leading '/'
        slashed = io.BytesIO()
        with tarfile.open(fileobj=slashed, mode="w") as out:
            for m in tf.getmembers():
                data = tf.extractfile(m) if m.isfile() else None
                m.name = "/" + m.name
                out.addfile(m, data)
    (tmp_path / "pack.cnb").write_bytes(slashed.getvalue())
    a = cnbfile.read(tmp_path / "one.cnb", tmp_path / "s1")
    b = cnbfile.read(tmp_path / "pack.cnb", tmp_path / "s2")
    assert a.raw_manifest() == b.raw_manifest()
    (tmp_path / "bad.cnb").write_bytes(b"not a tar")
    with pytest.raises(ImageError, match="not a .cnb file"):
        cnbfile.read(tmp_path / "bad.cnb", tmp_path / "s3")


def test_file_destination_adds_the_extension() -> None:
    assert file_destination("out/bp") == Path("out/bp.cnb")
    assert file_destination("bp.cnb") == Path("bp.cnb")


def test_composite_package_and_contents(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    package("unit/meta:1", PACKAGE_META, ctx)
    img = client.open_image("store:unit/meta:1", ctx)
    check_image(img)
    assert len(img.layers()) == 3
    assert [h.created_by.rsplit(" ", 1)[1] for h in img.config().history] == [
        "test/meta@0.1.0", "test/one@1.0.0", "test/two@2.0.0"]
    found = contents.read(img, "unit/meta:1")
    assert found.metadata is not None and found.metadata.id == "test/meta"
    assert found.names() == [("test/meta", "0.1.0"), ("test/one", "1.0.0"),
                             ("test/two", "2.0.0")]
    bps = contents.extract(img, found, tmp_path / "x", "unit/meta:1")
    assert [b.full_name for b in bps] == ["test/meta@0.1.0", "test/one@1.0.0", "test/two@2.0.0"]
    assert bps[0].descriptor.is_composite
    assert (bps[1].descriptor.dir / "lib" / "helper.sh").read_text() == \
        (ONE / "lib" / "helper.sh").read_text()
    assert [str(b.layer.diff_id) for b in bps] == [str(x.diff_id) for x in img.layers()]


@pytest.mark.parametrize("how", ["store", "bare", "image", "oci", "cnb"])
def test_dependency_from_a_buildpackage_keeps_its_layer(tmp_path: Path, how: str) -> None:
    ctx = context(tmp_path)
    one = package("unit/dep-one:1", PACKAGE_ONE, ctx)
    dep = {"store": 'uri = "store:unit/dep-one:1"', "bare": 'uri = "unit/dep-one:1"',
           "image": 'image = "unit/dep-one:1"', "oci": f'uri = "oci:{tmp_path}/lay:one"',
           "cnb": f'uri = "{tmp_path}/one.cnb"'}[how]
    if how == "oci":
        client.copy_image("store:unit/dep-one:1", f"oci:{tmp_path}/lay:one", ctx)
    if how == "cnb":
        package(str(tmp_path / "one.cnb"), PACKAGE_ONE, ctx, format="file")
    cfg = write_toml(tmp_path, f"""\
        [buildpack]
        uri = "{TESTDATA / 'meta'}"
        [[dependencies]]
        {dep}
        [[dependencies]]
        uri = "{TESTDATA / 'bp-two'}"
        [[targets]]
        os = "linux"
    """)
    res = package("unit/meta-from-pkg:1", cfg, ctx)
    img = client.open_image("store:unit/meta-from-pkg:1", ctx)
    one_layer = client.open_image("store:unit/dep-one:1", ctx).layers()[0]
    assert one_layer.digest in [x.digest for x in img.layers()]
    # the same bytes as packaging everything from directories
    assert res.digest == package("unit/meta-dirs:1", PACKAGE_META, ctx).digest
    assert one.plan.main.full_name == "test/one@1.0.0"


def test_read_refuses_non_packages_and_dangling_layers(tmp_path: Path) -> None:
    plain = empty_image()
    with pytest.raises(ImageError, match="is not a buildpackage"):
        contents.read(plain, "plain")
    labelled = mutate.with_labels(plain, {
        metadata.PACKAGE_METADATA: '{"id":"a","version":"1","stacks":[]}',
        lb.BUILDPACK_LAYERS: json.dumps({"a": {"1": {"api": "0.12",
                                                     "layerDiffID": "sha256:" + "0" * 64}}})})
    found = contents.read(labelled, "img")
    with pytest.raises(ImageError, match="is not among the image's layers"):
        contents.extract(labelled, found, tmp_path, "img")
    wrong = mutate.with_labels(plain, {metadata.PACKAGE_METADATA:
                                       '{"id":"b","version":"1","stacks":[]}',
                                       lb.BUILDPACK_LAYERS: '{}'})
    with pytest.raises(ImageError, match="entrypoint buildpack b@1"):
        contents.read(wrong, "img")


def test_flattened_package_is_extracted_once(tmp_path: Path) -> None:
    img = flattened(tmp_path)
    bps = contents.extract(img, contents.read(img, "flat"), tmp_path / "x", "flat")
    assert [b.full_name for b in bps] == ["test/one@1.0.0", "test/two@2.0.0"]
    assert bps[0].descriptor.dir.parents[3] == bps[1].descriptor.dir.parents[3]
    assert len({id(b.layer) for b in bps}) == 1
