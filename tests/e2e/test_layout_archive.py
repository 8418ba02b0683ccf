"""Our OCI layouts and docker-archives, checked by real tools: umoci and skopeo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lifecycle.oci.archive import write_docker_archive
from lifecycle.oci.check import check_image
from lifecycle.oci.fixtures import random_image
from lifecycle.oci.layout import Layout
from lifecycle.oci.pipeline import Compression
from lifecycle.oci.platform import Platform
from lifecycle.oci.rootfs import from_rootfs

pytestmark = pytest.mark.e2e
AMD64 = Platform("linux", "amd64")


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")


def _run(*argv: str) -> str:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"{argv}: {p.stderr}"
    return p.stdout


def _tree(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "hello").write_text("#!/bin/sh\necho hello\n")
    os.chmod(root / "bin" / "hello", 0o755)
    os.symlink("hello", root / "bin" / "hi")
    os.link(root / "bin" / "hello", root / "bin" / "hello2")
    (root / ("n" * 120)).write_text("long")
    (root / "ünï").write_text("utf8")
    (root / "data").write_bytes(os.urandom(5 << 20))
    return root


def _umoci_unpack(layout: Path, tag: str, bundle: Path) -> None:
    _run("umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(bundle))


@pytest.mark.parametrize("kind", ["gzip", "zstd", "none"])
def test_layout_accepted_by_umoci_and_skopeo(tmp_path: Path, kind: str) -> None:
    _need("umoci")
    _need("skopeo")
    lay = Layout.init(tmp_path / "lay")
    base = random_image(2, seed=5)
    img = from_rootfs(_tree(tmp_path / "src"), lay.blobs, base=base, under="/layers/bp/l",
                      compression=Compression(kind))
    lay.write_image(img, "app")
    lay.write_image(base, "base")
    for ref in ("app", "base"):
        check_image(lay.image(ref))
    if kind != "zstd":  # umoci 0.4.7 does not know zstd layers
        _umoci_unpack(tmp_path / "lay", "app", tmp_path / "bundle")
        rootfs = tmp_path / "bundle" / "rootfs"
        assert (rootfs / "layers" / "bp" / "l" / "bin" / "hello").read_text().startswith("#!")
        assert os.readlink(rootfs / "layers" / "bp" / "l" / "bin" / "hi") == "hello"
        assert (rootfs / "layers" / "bp" / "l" / ("n" * 120)).read_text() == "long"
    out = json.loads(_run("skopeo", "inspect", f"oci:{tmp_path / 'lay'}:app"))
    assert out["Digest"] == str(img.digest())
    assert len(out["Layers"]) == 3


def test_docker_archive_read_by_skopeo(tmp_path: Path) -> None:
    _need("skopeo")
    _need("umoci")
    img = from_rootfs(_tree(tmp_path / "src"), Layout.init(tmp_path / "store").blobs,
                      base=random_image(1), platform=AMD64)
    arch = tmp_path / "img.tar"
    write_docker_archive(arch, [(img, ["docker.io/demo/app:1"])])
    _run("skopeo", "copy", f"docker-archive:{arch}", f"oci:{tmp_path / 'out'}:x")
    back = Layout(tmp_path / "out").image("x")
    check_image(back)
    assert [ly.diff_id for ly in back.layers()] == [ly.diff_id for ly in img.layers()]
    _umoci_unpack(tmp_path / "out", "x", tmp_path / "bundle")


def test_import_is_reproducible(tmp_path: Path) -> None:
    _need("umoci")
    digests, configs = set(), set()
    for i in range(2):
        src = _tree(tmp_path / f"src{i}")
        (src / "data").write_bytes(b"\0" * 1000)  # same bytes in both trees
        lay = Layout.init(tmp_path / f"lay{i}")
        img = from_rootfs(src, lay.blobs, platform=AMD64)
        lay.write_image(img, "x")
        write_docker_archive(tmp_path / f"a{i}.tar", [(img, ["x:1"])])
        digests.add(str(img.digest()))
        configs.add(str(img.manifest().config.digest))
        _umoci_unpack(tmp_path / f"lay{i}", "x", tmp_path / f"b{i}")
    assert len(digests) == 1 and len(configs) == 1
    assert (tmp_path / "a0.tar").read_bytes() == (tmp_path / "a1.tar").read_bytes()
