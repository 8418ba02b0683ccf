"""docker-archive write/read round trips."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from lifecycle.errors import ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.archive import DockerArchive, read_docker_archive, write_docker_archive
from lifecycle.oci.check import check_image
from lifecycle.oci.fixtures import random_image


def test_round_trip(tmp_path: Path) -> None:
    img = random_image(3, seed=7)
    path = tmp_path / "img.tar"
    write_docker_archive(path, [(img, ["docker.io/demo/app:1"])])
    with tarfile.open(path) as tf:
        names = tf.getnames()
        manifest = json.loads(tf.extractfile("manifest.json").read())  # type: ignore[union-attr]
    cfg_hex = img.manifest().config.digest.hex
    assert manifest == [{"Config": f"{cfg_hex}.json", "RepoTags": ["docker.io/demo/app:1"],
                         "Layers": [f"{ly.diff_id.hex}.tar" for ly in img.layers()]}]
    assert "repositories" in names
    back = read_docker_archive(path, "demo/app:1")
    check_image(back)
    assert back.raw_config() == img.raw_config()
    assert [ly.diff_id for ly in back.layers()] == [ly.diff_id for ly in img.layers()]
    assert all(ly.media_type == mt.OCI_LAYER for ly in back.layers())


def test_deterministic_and_several_images(tmp_path: Path) -> None:
    a, b = random_image(2, seed=1), random_image(1, seed=2)
    write_docker_archive(tmp_path / "1.tar", [(a, ["a:1", "a:2"]), (b, ["b:1"])])
    write_docker_archive(tmp_path / "2.tar", [(a, ["a:1", "a:2"]), (b, ["b:1"])])
    assert (tmp_path / "1.tar").read_bytes() == (tmp_path / "2.tar").read_bytes()
    arch = DockerArchive(tmp_path / "1.tar")
    assert arch.tags() == ["a:1", "a:2", "b:1"]
    assert arch.image("b:1").raw_config() == b.raw_config()
    with pytest.raises(ImageError, match="name a tag"):
        arch.image()
    with pytest.raises(ImageError, match="no image tagged"):
        arch.image("c:1")


def test_archive_round_trips_into_layout(tmp_path: Path) -> None:
    from lifecycle.oci.layout import Layout

    img = random_image(2, seed=3)
    write_docker_archive(tmp_path / "x.tar", [(img, ["x:1"])])
    back = read_docker_archive(tmp_path / "x.tar")
    lay = Layout.init(tmp_path / "lay")
    lay.write_image(back, "x")
    check_image(lay.image("x"))
