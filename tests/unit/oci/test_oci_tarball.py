"""The deterministic tar writer: identical trees give identical bytes."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from lifecycle.errors import ImageError
from lifecycle.oci.tarball import (
    EPOCH_1980,
    TarOptions,
    TarWriter,
    opaque_whiteout_header,
    tar_tree,
    whiteout_header,
)


def _tar(root: Path, under: str = "/", opts: TarOptions | None = None) -> bytes:
    return b"".join(tar_tree(root, under, opts or TarOptions()))


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name: m for m in tf}


def test_identical_trees_identical_bytes(tmp_path: Path, tree_factory: Any) -> None:
    make_tree = tree_factory
    a = make_tree(tmp_path / "a", mtime=1_000_000_000)
    b = make_tree(tmp_path / "b", mtime=1_700_000_000)  # other mtimes, other inodes
    assert _tar(a) == _tar(b)
    assert _tar(a, "/layers/bp/l") == _tar(b, "/layers/bp/l")


def test_entries_normalised(tree: Path) -> None:
    ms = _members(_tar(tree, opts=TarOptions(uid=1000, gid=1001)))
    for m in ms.values():
        assert m.mtime == EPOCH_1980 and (m.uid, m.gid) == (1000, 1001)
        assert m.uname == "" and m.gname == ""
    assert ms["bin/tool"].mode == 0o755 and ms["etc/conf"].mode == 0o600
    assert ms["etc"].isdir() and ms["etc"].mode == 0o750
    assert ms["etc/tool-link"].issym() and ms["etc/tool-link"].linkname == "../bin/tool"
    assert ms["abslink"].linkname == "/abs/target"
    assert ms["etc/conf"].isreg()  # first in tar order holds the data
    assert ms["hardlink-to-conf"].islnk() and ms["hardlink-to-conf"].linkname == "etc/conf"
    assert f"{'d' * 80}/{'f' * 90}" in ms
    assert "naïve-ünïcode-文件" in ms
    assert ms["big"].size == 256 * 5000


def test_parents_come_before_children(tree: Path) -> None:
    seen: set[str] = set()
    for name in _members(_tar(tree)):
        parent = name.rpartition("/")[0]
        assert not parent or parent in seen
        seen.add(name)


def test_under_prefix_has_parent_entries(tree: Path) -> None:
    ms = _members(_tar(tree, "/layers/bp/layer"))
    names = list(ms)
    assert names[:3] == ["layers", "layers/bp", "layers/bp/layer"]
    assert all(ms[n].isdir() for n in names[:3])
    assert "layers/bp/layer/bin/tool" in ms


def test_source_date_epoch(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert {m.mtime for m in _members(_tar(tree)).values()} == {1234567890}


def test_bad_prefix(tree: Path) -> None:
    with pytest.raises(ImageError):
        _tar(tree, "/a/../b")


def test_whiteout_headers() -> None:
    data = whiteout_header("a/b") + opaque_whiteout_header("c") + b"\0" * 1024
    assert list(_members(data)) == ["a/.wh.b", "c/.wh..wh..opq"]


def test_tar_writer_stream_patches_size() -> None:
    out = io.BytesIO()
    w = TarWriter(out)
    w.add_bytes("a.json", b"{}")
    assert w.add_stream("b.tar", iter([b"x" * 1000, b"y" * 30])) == 1030
    w.add_symlink("c", "b.tar")
    w.close()
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tf:
        f = tf.extractfile("b.tar")
        assert f is not None and f.read() == b"x" * 1000 + b"y" * 30


def test_unreadable_file_names_path(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    (tmp_path / "secret").write_text("x")
    os.chmod(tmp_path / "secret", 0)
    with pytest.raises(ImageError, match="secret"):
        _tar(tmp_path)
