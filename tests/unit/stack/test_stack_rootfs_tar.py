"""The deterministic re-serialisation of mmdebstrap's root filesystem tar."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from stack_fixtures import add, mmdebstrap_like_tar

from lifecycle.stack import rootfs_tar


def _normalised(path: Path, mtime: int = 315532801) -> bytes:
    with rootfs_tar.open_rootfs(path) as tree:
        return b"".join(tree.stream(mtime))


def test_sorted_clean_names_dev_dropped_owners_kept(tmp_path: Path) -> None:
    data = _normalised(mmdebstrap_like_tar(tmp_path / "in.tar"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        members = tf.getmembers()
        names = [m.name for m in members]
        assert names == ["dev", "etc", "etc/os-release", "etc/shadow", "home", "home/cnb",
                         "usr", "usr/bin", "usr/bin/aa", "usr/bin/zz", "usr/lib",
                         "usr/lib/os-release", "usr/share-x"]
        by = {m.name: m for m in members}
        assert (by["etc/shadow"].gid, by["etc/shadow"].mode) == (42, 0o640)
        assert (by["home/cnb"].uid, by["home/cnb"].gid) == (1000, 1000)
        assert all(m.uname == "" and m.gname == "" for m in members)
        assert by["usr/share-x"].mtime == 100  # older than the timestamp: kept
        assert {m.mtime for n, m in by.items() if n != "usr/share-x"} == {315532801}
        # the first name in sorted order carries the data; the other links to it
        assert by["usr/bin/aa"].isreg() and by["usr/bin/aa"].mode == 0o4755
        assert tf.extractfile("usr/bin/aa").read() == b"#!/bin/sh\n"  # type: ignore[union-attr]
        assert by["usr/bin/zz"].islnk() and by["usr/bin/zz"].linkname == "usr/bin/aa"
        assert by["usr/bin/aa"].pax_headers.get("SCHILY.xattr.user.test") == "v"
        assert by["etc/os-release"].linkname == "../usr/lib/os-release"


def test_same_content_in_another_order_gives_the_same_bytes(tmp_path: Path) -> None:
    first = _normalised(mmdebstrap_like_tar(tmp_path / "a.tar"))
    with tarfile.open(tmp_path / "a.tar") as src, \
            tarfile.open(tmp_path / "b.tar", "w", format=tarfile.PAX_FORMAT) as dst:
        for m in reversed(src.getmembers()):
            m.uname = "other"
            dst.addfile(m, src.extractfile(m) if m.isreg() else None)
    assert _normalised(tmp_path / "b.tar") == first
    assert data_ends_with_end_of_archive(first)


def data_ends_with_end_of_archive(data: bytes) -> bool:
    return data.endswith(b"\0" * 1024) and len(data) % 512 == 0


def test_read_text_follows_symlinks(tmp_path: Path) -> None:
    with rootfs_tar.open_rootfs(mmdebstrap_like_tar(tmp_path / "in.tar")) as tree:
        text = tree.read_text("etc/os-release")
        assert text is not None
        assert rootfs_tar.parse_os_release(text) == {"ID": "debian", "VERSION_ID": "12"}
        assert tree.read_text("etc/missing") is None
        assert tree.read_text("usr") is None


def test_hard_link_to_a_dropped_target_becomes_a_file(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "h.tar", "w", format=tarfile.PAX_FORMAT) as tf:
        add(tf, "./dev/", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./dev/x", data=b"data")
        add(tf, "./y", tarfile.LNKTYPE, linkname="./dev/x")
    with tarfile.open(fileobj=io.BytesIO(_normalised(tmp_path / "h.tar"))) as tf:
        y = tf.getmember("y")
        assert y.isreg()
        assert tf.extractfile(y).read() == b"data"  # type: ignore[union-attr]


def test_sort_key_orders_directories_before_siblings() -> None:
    names = ["a-c", "a/b", "a", "b", "a.d"]
    assert sorted(names, key=rootfs_tar.sort_key) == ["a", "a/b", "a-c", "a.d", "b"]
    assert rootfs_tar.clean_name("./usr/bin/") == "usr/bin"
    assert rootfs_tar.clean_name("./") == ""
    assert rootfs_tar.clean_name("../../etc") == "etc"
