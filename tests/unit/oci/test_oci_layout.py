"""OCI layout write/read round trips, ref replacement, blob reuse and verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.errors import DigestMismatchError, ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci import mutate
from lifecycle.oci.check import check_image
from lifecycle.oci.fixtures import random_image
from lifecycle.oci.layout import REF_NAME, Layout
from lifecycle.oci.platform import Platform


def test_round_trip_several_refs(tmp_path: Path) -> None:
    lay = Layout.init(tmp_path / "lay")
    imgs = {f"r{i}": random_image(i + 1, seed=i) for i in range(3)}
    for ref, img in imgs.items():
        check_image(img)
        lay.write_image(img, ref)
    assert lay.refs() == ["r0", "r1", "r2"]
    assert json.loads((tmp_path / "lay" / "oci-layout").read_text()) == {
        "imageLayoutVersion": "1.0.0"}
    for ref, img in imgs.items():
        back = Layout(tmp_path / "lay").image(ref)
        check_image(back, ref)
        assert back.raw_manifest() == img.raw_manifest()
        assert back.raw_config() == img.raw_config()
        assert back.digest() == img.digest()


def test_replacing_a_ref_keeps_others(tmp_path: Path) -> None:
    lay = Layout.init(tmp_path / "lay")
    a, b = random_image(1, seed=1), random_image(2, seed=2)
    lay.write_image(a, "app")
    lay.write_image(b, "other")
    newer = mutate.with_labels(a, {"v": "2"})
    lay.write_image(newer, "app")
    assert lay.refs() == ["app", "other"]
    assert lay.image("app").digest() == newer.digest()
    assert lay.image("other").digest() == b.digest()


def test_existing_layer_blob_not_rewritten(tmp_path: Path) -> None:
    lay = Layout.init(tmp_path / "lay")
    img = random_image(2)
    lay.write_image(img, "a")
    path = lay.blobs.path(img.layers()[0].digest)
    before = path.stat().st_mtime_ns
    lay.write_image(mutate.with_user(img, "1000"), "b")
    assert path.stat().st_mtime_ns == before
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp")]


def test_corrupt_blob_detected(tmp_path: Path) -> None:
    lay = Layout.init(tmp_path / "lay")
    img = random_image(1)
    lay.write_image(img, "a")
    blob = lay.blobs.path(img.layers()[0].digest)
    data = bytearray(blob.read_bytes())
    data[-10] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises((DigestMismatchError, ImageError)):
        check_image(lay.image("a"))
    cfg = lay.blobs.path(img.manifest().config.digest)
    cfg.write_bytes(cfg.read_bytes().replace(b"amd64", b"arm64"))
    with pytest.raises(DigestMismatchError):
        lay.image("a")


def test_missing_ref_and_not_a_layout(tmp_path: Path) -> None:
    lay = Layout.init(tmp_path / "lay")
    with pytest.raises(ImageError, match="no image named 'x'"):
        lay.image("x")
    with pytest.raises(ImageError, match="not an OCI image layout"):
        Layout(tmp_path).index()


def test_multi_arch_index(tmp_path: Path) -> None:
    lay = Layout.init(tmp_path / "lay")
    amd = random_image(1, seed=1, platform=Platform("linux", "amd64"))
    arm = random_image(1, seed=2, platform=Platform("linux", "arm64", "v8"))
    d = lay.write_index([amd, arm], "multi")
    assert d.media_type == mt.OCI_INDEX and d.annotations[REF_NAME] == "multi"
    assert lay.image("multi", platform=Platform.parse("linux/arm64")).digest() == arm.digest()
    assert lay.image("multi", platform=Platform.parse("linux/amd64")).digest() == amd.digest()
