"""Unpacking image root file systems into the store: rootless, safe modes, cached, atomic."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from lifecycle.errors import UnsafeTarEntryError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci import mutate
from lifecycle.oci.digest import Digest
from lifecycle.oci.fixtures import random_image
from lifecycle.oci.image import ImageValue, empty_image
from lifecycle.oci.layer import BlobLayer
from lifecycle.sandbox.rootfs import extract_layer, path_for, remove, sane_mode, unpack
from lifecycle.store import Store


def _tar(entries: list[tuple[str, str, int, bytes | str]]) -> bytes:
    """(name, kind, mode, data-or-linkname) -> tar bytes; kind in file/dir/sym/link/chr/fifo."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, mode, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = mode
            ti.uid = ti.gid = 0
            if kind == "file":
                assert isinstance(data, bytes)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
                       "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("sym", "link"):
                assert isinstance(data, str)
                ti.linkname = data
            if kind == "chr":
                ti.devmajor, ti.devminor = 1, 3
            tf.addfile(ti)
    return out.getvalue()


def _layer(raw: bytes) -> BlobLayer:
    return BlobLayer.from_bytes(gzip.compress(raw, mtime=0), Digest.of(raw), mt.OCI_LAYER_GZIP)


def _image(*tars: bytes) -> ImageValue:
    return mutate.append_layers(empty_image(), [_layer(t) for t in tars])


@pytest.mark.parametrize(("mode", "is_dir", "want"), [
    (0o4755, False, 0o755), (0o2755, False, 0o755), (0o1777, True, 0o755),
    (0o666, False, 0o644), (0o000, False, 0o400), (0o555, True, 0o755), (0o000, True, 0o700),
    (0o600, False, 0o600),
])
def test_sane_mode(mode: int, is_dir: bool, want: int) -> None:
    assert sane_mode(mode, is_dir) == want


def test_extract_layer_skips_devices_and_sanitises_modes(tmp_path: Path) -> None:
    raw = _tar([("dev", "dir", 0o755, b""), ("dev/null", "chr", 0o666, b""),
                ("dev/null-link", "link", 0o666, "dev/null"),
                ("usr/bin/su", "file", 0o4755, b"#!/bin/sh\n"),
                ("etc/shadow", "file", 0o000, b"root:*:\n"),
                ("tmp", "dir", 0o1777, b""), ("run/fifo", "fifo", 0o644, b""),
                ("bin", "sym", 0o777, "usr/bin")])
    extract_layer(io.BytesIO(raw), tmp_path)
    assert not os.path.lexists(tmp_path / "dev/null")
    assert not os.path.lexists(tmp_path / "dev/null-link")
    assert stat.S_IMODE((tmp_path / "usr/bin/su").stat().st_mode) == 0o755
    assert (tmp_path / "etc/shadow").read_bytes() == b"root:*:\n"
    assert stat.S_IMODE((tmp_path / "tmp").stat().st_mode) == 0o755
    assert stat.S_ISFIFO((tmp_path / "run/fifo").lstat().st_mode)
    assert os.readlink(tmp_path / "bin") == "usr/bin"


def test_extract_layer_stays_safe(tmp_path: Path) -> None:
    raw = _tar([("../evil", "file", 0o644, b"x")])
    with pytest.raises(UnsafeTarEntryError):
        extract_layer(io.BytesIO(raw), tmp_path / "root")


def test_unpack_applies_layers_and_whiteouts_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    low = _tar([("a", "dir", 0o755, b""), ("a/keep", "file", 0o644, b"1"),
                ("a/gone", "file", 0o644, b"2"), ("o", "dir", 0o755, b""),
                ("o/old", "file", 0o644, b"3")])
    high = _tar([("a/.wh.gone", "file", 0o644, b""), ("o", "dir", 0o755, b""),
                 ("o/.wh..wh..opq", "file", 0o644, b""), ("o/new", "file", 0o644, b"4")])
    img = _image(low, high)
    root = unpack(img, store)
    assert root == store.rootfs_dir / Digest.of(img.raw_manifest()).hex
    assert (root / "a/keep").read_bytes() == b"1"
    assert not (root / "a/gone").exists()
    assert sorted(os.listdir(root / "o")) == ["new"]
    assert all((root / d).is_dir() for d in ("proc", "dev", "tmp"))
    assert [p.name for p in store.rootfs_dir.iterdir()] == [root.name]  # no temp dirs left
    (root / "marker").write_text("cached")
    assert unpack(img, store) == root and (root / "marker").exists()


def test_concurrent_unpacks_agree(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    img = random_image(3, seed=7, n_files=20)
    results: list[Path] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(unpack(img, store))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1
    assert [p.name for p in store.rootfs_dir.iterdir()] == [results[0].name]


def test_failed_unpack_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    img = _image(_tar([("ok", "file", 0o644, b"x")]), _tar([("../evil", "file", 0o644, b"x")]))
    with pytest.raises(UnsafeTarEntryError):
        unpack(img, store)
    assert list(store.rootfs_dir.iterdir()) == []


def test_remove(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    img = _image(_tar([("d", "dir", 0o555, b""), ("d/f", "file", 0o444, b"x")]))
    root = unpack(img, store)
    assert remove(img, store) is True
    assert not root.exists() and list(store.rootfs_dir.iterdir()) == []
    assert remove(Digest.of(img.raw_manifest()), store) is False
    assert path_for(img, store) == root
