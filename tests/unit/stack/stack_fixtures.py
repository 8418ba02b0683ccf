"""Helpers for the stack unit tests: writing stack definitions and root filesystem tars."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

MINI = """\
id = "io.example.stacks.test"
maintainer = "tests"

[distro]
name = "debian"
version = "12"
codename = "bookworm"

[build]
image = "example/test-build"
variant = "apt"
packages = ["python3", "gcc"]

[run]
image = "example/test-run"
variant = "essential"
packages = ["python3"]
"""


def write_stack(root: Path, text: str = MINI, name: str = "teststack") -> Path:
    """Write ``text`` as ``<root>/<name>/stack.toml``; returns the file."""
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "stack.toml").write_text(text)
    return d / "stack.toml"


def add(tf: tarfile.TarFile, name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", *,
        mode: int = 0o644, uid: int = 0, gid: int = 0, mtime: int = 1_700_000_000,
        linkname: str = "", pax: dict[str, str] | None = None) -> None:
    """Append one entry to ``tf``."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, gid, mtime
    info.uname, info.gname, info.linkname = "someone", "somegroup", linkname
    if kind == tarfile.CHRTYPE:
        info.devmajor, info.devminor = 1, 3
    if pax:
        info.pax_headers = pax
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def mmdebstrap_like_tar(path: Path) -> Path:
    """A tar shaped like mmdebstrap's: ``./dev`` first, ``./``-prefixed names, unsorted,
    owners that matter, a hard link before its target in sorted order, an xattr."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        add(tf, "./dev/", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./dev/null", tarfile.CHRTYPE, mode=0o666)
        add(tf, "./", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./usr/", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./usr/lib/", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./usr/lib/os-release", data=b'ID=debian\nVERSION_ID="12"\n')
        add(tf, "./etc/", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./etc/shadow", data=b"root:*:::::::\n", mode=0o640, gid=42)
        add(tf, "./etc/os-release", tarfile.SYMTYPE, linkname="../usr/lib/os-release",
            mode=0o777)
        add(tf, "./usr/bin/", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./usr/bin/zz", data=b"#!/bin/sh\n", mode=0o4755,
            pax={"SCHILY.xattr.user.test": "v"})
        add(tf, "./usr/bin/aa", tarfile.LNKTYPE, linkname="./usr/bin/zz", mode=0o4755)
        add(tf, "./home/", tarfile.DIRTYPE, mode=0o755)
        add(tf, "./home/cnb/", tarfile.DIRTYPE, mode=0o755, uid=1000, gid=1000)
        add(tf, "./usr/share-x", data=b"after usr in byte order", mtime=100)
    return path
