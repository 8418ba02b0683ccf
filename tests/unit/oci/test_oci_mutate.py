"""mutate functions, images from a rootfs, and reproducibility of imports."""

from __future__ import annotations

import datetime as dt
import io
import tarfile
from pathlib import Path
from typing import Any

from lifecycle.oci import mutate
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.check import check_image
from lifecycle.oci.fixtures import random_image
from lifecycle.oci.image import empty_image
from lifecycle.oci.platform import Platform
from lifecycle.oci.rootfs import from_rootfs
from lifecycle.oci.tarball import tar_tree


def test_mutations_return_new_images() -> None:
    base = random_image(1)
    img = mutate.with_labels(base, {"a": "1"})
    img = mutate.with_env(img, {"PATH": "/cnb/bin", "X": "y"})
    img = mutate.with_entrypoint(img, ["/cnb/launcher"])
    img = mutate.with_cmd(img, [])
    img = mutate.with_workdir(img, "/workspace")
    img = mutate.with_user(img, "1000:1000")
    img = mutate.with_created(img, dt.datetime(1980, 1, 1, 0, 0, 1, tzinfo=dt.UTC))
    img = mutate.with_platform(img, Platform("linux", "arm64", "v8"))
    c = img.config()
    assert c.config.labels == {"io.pypack.fixture": "0", "a": "1"}
    assert c.config.env == ("PATH=/cnb/bin", "X=y")
    assert (c.config.entrypoint, c.config.cmd) == (("/cnb/launcher",), ())
    assert (c.config.working_dir, c.config.user) == ("/workspace", "1000:1000")
    assert c.created == "1980-01-01T00:00:01Z" and str(c.platform) == "linux/arm64/v8"
    assert base.config().config.labels == {"io.pypack.fixture": "0"}
    assert img.layers() == base.layers()
    check_image(img)


def test_append_and_rebase() -> None:
    old, new = random_image(2, seed=1), random_image(3, seed=2)
    app_layers = random_image(2, seed=3).layers()
    app = mutate.append_layers(old, app_layers)
    assert len(app.config().diff_ids) == 4 and len(app.config().history) == 4
    re = mutate.rebase(app, old, new)
    assert re.layers() == new.layers() + app_layers
    assert len(re.config().history) == 5
    check_image(re)


def test_from_rootfs_dir_and_tar(tree: Path, tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    img = from_rootfs(tree, store, platform=Platform("linux", "amd64"))
    check_image(img)
    tar = tmp_path / "rootfs.tar"
    tar.write_bytes(b"".join(tar_tree(tree)))
    img2 = from_rootfs(tar, store, platform=Platform("linux", "amd64"))
    assert img2.config().diff_ids == img.config().diff_ids
    assert img2.digest() == img.digest()
    on_top = from_rootfs(tree, store, base=img, under="/app")
    assert len(on_top.layers()) == 2
    check_image(on_top)
    with on_top.layers()[1].open_uncompressed() as f:
        data = f.read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        names = tf.getnames()
    assert names[0] == "app" and "app/bin/tool" in names


def test_reproducible_import(tmp_path: Path, tree_factory: Any) -> None:
    a = tree_factory(tmp_path / "a", mtime=1)
    b = tree_factory(tmp_path / "b", mtime=2)
    p = Platform("linux", "amd64")
    ia = from_rootfs(a, BlobStore(tmp_path / "s1"), platform=p)
    ib = from_rootfs(b, BlobStore(tmp_path / "s2"), platform=p)
    assert ia.digest() == ib.digest()


def test_empty_image() -> None:
    img = empty_image(Platform("linux", "amd64"))
    check_image(img)
    assert img.layers() == () and img.config().diff_ids == ()
