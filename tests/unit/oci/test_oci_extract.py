"""Safe extraction: every escape is refused with the entry named; whiteouts apply."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lifecycle.errors import UnsafeTarEntryError
from lifecycle.oci.extract import extract
from lifecycle.oci.tarball import tar_tree


def _tar(*entries: tuple[str, bytes, str]) -> io.BytesIO:
    """Entries (name, type, linkname/data); data for regular files."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, extra in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            data = b""
            if kind == tarfile.REGTYPE:
                data = extra.encode()
                info.size = len(data)
            elif kind == tarfile.DIRTYPE:
                info.mode = 0o755
            else:
                info.linkname = extra
            tf.addfile(info, io.BytesIO(data))
    out.seek(0)
    return out


REG, DIR, SYM, LNK = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE

ESCAPES: dict[str, Callable[[], io.BytesIO]] = {
    "absolute": lambda: _tar(("/etc/evil", REG, "x")),
    "dotdot": lambda: _tar(("a/../../evil", REG, "x")),
    "symlink-escape": lambda: _tar(("link", SYM, "../../outside")),
    "write-through-symlink": lambda: _tar(("link", SYM, "/"), ("link/evil", REG, "x")),
    "write-through-nested-symlink": lambda: _tar(
        ("d", DIR, ""), ("d/up", SYM, ".."), ("d/up/evil", REG, "x")),
    "hardlink-escape": lambda: _tar(("hl", LNK, "../../etc/passwd")),
    "hardlink-absolute": lambda: _tar(("hl", LNK, "/etc/passwd")),
    "hardlink-through-symlink": lambda: _tar(("s", SYM, "/etc"), ("hl", LNK, "s/passwd")),
    "device": lambda: _tar(("dev", tarfile.CHRTYPE, "")),
    "fifo": lambda: _tar(("fifo", tarfile.FIFOTYPE, "")),
    "bad-whiteout": lambda: _tar(("a/.wh...", REG, "")),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_escape_refused(case: str, tmp_path: Path) -> None:
    dest = tmp_path / "root" / "inner"
    with pytest.raises(UnsafeTarEntryError, match="tar entry"):
        extract(ESCAPES[case](), dest)
    outside = {p.name for p in (tmp_path / "root").iterdir()}
    assert outside == {"inner"}
    assert not (tmp_path / "evil").exists()


def test_round_trip_tree(tree: Path, tmp_path: Path) -> None:
    data = b"".join(tar_tree(tree))
    dest = tmp_path / "out"
    extract(io.BytesIO(data), dest)
    assert (dest / "bin" / "tool").read_bytes() == (tree / "bin" / "tool").read_bytes()
    assert os.readlink(dest / "etc" / "tool-link") == "../bin/tool"
    assert os.readlink(dest / "abslink") == "/abs/target"
    assert os.stat(dest / "hardlink-to-conf").st_ino == os.stat(dest / "etc" / "conf").st_ino
    assert (os.stat(dest / "etc").st_mode & 0o777) == 0o750
    assert (os.stat(dest / "bin" / "tool").st_mode & 0o777) == 0o755
    assert b"".join(tar_tree(dest)) == data


def test_whiteouts_applied(tmp_path: Path) -> None:
    dest = tmp_path / "root"
    extract(_tar(("a", DIR, ""), ("a/keep", REG, "1"), ("a/gone", REG, "2"),
                 ("b", DIR, ""), ("b/old", REG, "3")), dest)
    extract(_tar(("a/.wh.gone", REG, ""), ("b/new", REG, "4"), ("b/.wh..wh..opq", REG, "")),
            dest)
    assert sorted(p.name for p in (dest / "a").iterdir()) == ["keep"]
    assert sorted(p.name for p in (dest / "b").iterdir()) == ["new"]


def test_file_replaces_symlink_without_following(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("keep")
    dest = tmp_path / "root"
    dest.mkdir()
    os.symlink(target, dest / "f")
    extract(_tar(("f", REG, "new")), dest)
    assert target.read_text() == "keep" and (dest / "f").read_text() == "new"


def test_device_allowed_when_asked(tmp_path: Path) -> None:
    extract(_tar(("fifo", tarfile.FIFOTYPE, "")), tmp_path / "r", allow_special=True)
    assert (tmp_path / "r" / "fifo").is_fifo()
