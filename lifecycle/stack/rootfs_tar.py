"""A root filesystem tar (mmdebstrap's output) re-serialised deterministically; files read from it.

OCI image-spec "layer.md". mmdebstrap writes ``/dev`` first and then the tree, with numeric
owners that matter (root:shadow, setgid tools, the CNB user's home). We keep owners, modes,
link targets, device numbers and ``SCHILY.xattr.*`` records, and normalise everything else:
entries sorted byte-wise per path component (parents first, as :func:`lifecycle.oci.tarball.walk`
orders a directory), names without ``./``, user/group names empty, mtimes clamped to the
build's timestamp, PAX headers, the first of a set of hard links (in sorted order) carries the
data. The contents of ``/dev`` (device nodes a runtime provides) are dropped.
"""

from __future__ import annotations

import logging
import os
import posixpath
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lifecycle.errors import ImageError
from lifecycle.oci.tarball import END_OF_ARCHIVE, READ_SIZE

log = logging.getLogger(__name__)

DROP_UNDER = ("dev/",)
"""Directories whose contents never enter an image (the directory itself stays)."""
_KINDS = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
          tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE, tarfile.CONTTYPE)


def clean_name(name: str) -> str:
    """``./usr/bin/`` -> ``usr/bin``; the root itself becomes ``""``."""
    n = posixpath.normpath("/" + name).lstrip("/")
    return "" if n == "." else n


def sort_key(name: str) -> tuple[bytes, ...]:
    """Byte-wise order per path component: a directory comes right before its contents."""
    return tuple(os.fsencode(p) for p in name.split("/"))


def dropped(name: str) -> bool:
    """True for entries left out of every image (see :data:`DROP_UNDER`)."""
    return any(name.startswith(d) for d in DROP_UNDER)


class RootfsTar:
    """An uncompressed tar on disk, indexed once; entries by cleaned name (last one wins)."""

    def __init__(self, tf: tarfile.TarFile, path: Path) -> None:
        self._tf, self.path = tf, path
        self.entries: dict[str, tarfile.TarInfo] = {}
        for m in tf.getmembers():
            name = clean_name(m.name)
            if name and m.type in _KINDS:
                self.entries[name] = m
            elif name:
                log.debug("%s: skipping %s (tar type %r)", path, name, m.type)

    def _resolve(self, name: str, depth: int = 0) -> str:
        """Follow symlinks of ``name`` inside the tree (for reading a file like os-release)."""
        m = self.entries.get(name)
        if m is None or not m.issym() or depth > 20:
            return name
        base = "" if m.linkname.startswith("/") else posixpath.dirname(name)
        return self._resolve(clean_name(posixpath.join(base, m.linkname)), depth + 1)

    def read_text(self, name: str) -> str | None:
        """The text of regular file ``name`` (symlinks followed), None if absent."""
        m = self.entries.get(self._resolve(name))
        if m is None or not m.isreg():
            return None
        f = self._tf.extractfile(m)
        return None if f is None else f.read().decode("utf-8", "replace")

    def _link_root(self, name: str) -> str:
        seen = 0
        m = self.entries[name]
        while m.islnk() and seen < 64:
            name = clean_name(m.linkname)
            if name not in self.entries:
                raise ImageError(f"{self.path}: hard link to missing {name}")
            m, seen = self.entries[name], seen + 1
        return name

    def stream(self, mtime: int, drop: Callable[[str], bool] = dropped) -> Iterator[bytes]:
        """The normalised tar, as bytes pieces ending with the end-of-archive blocks."""
        holders: dict[str, str] = {}
        for name in sorted((n for n in self.entries if not drop(n)), key=sort_key):
            m = self.entries[name]
            if m.isreg() or m.islnk():
                root = self._link_root(name)
                data = self.entries[root]
                holder = holders.setdefault(root, name)
                if holder != name:
                    yield _header(name, data, tarfile.LNKTYPE, mtime, linkname=holder)
                    continue
                yield _header(name, data, tarfile.REGTYPE, mtime, size=data.size)
                yield from self._data(data)
            elif m.isdir():
                yield _header(name + "/", m, tarfile.DIRTYPE, mtime)
            elif m.issym():
                yield _header(name, m, tarfile.SYMTYPE, mtime, linkname=m.linkname)
            else:
                yield _header(name, m, m.type, mtime)
        yield END_OF_ARCHIVE

    def _data(self, m: tarfile.TarInfo) -> Iterator[bytes]:
        f = self._tf.extractfile(m)
        if f is None:
            raise ImageError(f"{self.path}: cannot read {m.name}")
        remaining = m.size
        while remaining:
            chunk = f.read(min(remaining, READ_SIZE))
            if not chunk:
                raise ImageError(f"{self.path}: {m.name} is truncated")
            remaining -= len(chunk)
            yield chunk
        yield b"\0" * (-m.size % tarfile.BLOCKSIZE)


def _header(name: str, m: tarfile.TarInfo, kind: bytes, mtime: int, *, size: int = 0,
            linkname: str = "") -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = m.mode & 0o7777
    info.uid, info.gid = m.uid, m.gid
    info.uname = info.gname = ""
    info.mtime = min(int(m.mtime), mtime)
    info.size = size
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = m.devmajor, m.devminor
    info.pax_headers = {k: m.pax_headers[k] for k in sorted(m.pax_headers)
                        if k.startswith("SCHILY.xattr.")}
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


@contextmanager
def open_rootfs(path: str | os.PathLike[str]) -> Iterator[RootfsTar]:
    """Open and index the uncompressed tar at ``path``."""
    try:
        with tarfile.open(path, "r:") as tf:
            yield RootfsTar(tf, Path(path))
    except (OSError, tarfile.TarError) as e:
        raise ImageError(f"root filesystem tar {path}: {e}") from e


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` pairs of an os-release file (quotes removed)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        k, eq, v = line.strip().partition("=")
        if eq and k and not k.startswith("#"):
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            out[k] = v
    return out
