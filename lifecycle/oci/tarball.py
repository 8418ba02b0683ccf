"""Deterministic tar writing: the same tree always gives the same bytes.

OCI image-spec "layer.md" (changesets, whiteouts, hard links) over POSIX pax tar. Entries are
sorted byte-wise per directory (parents before children), mtimes fixed to 1980-01-01T00:00:01Z or
``SOURCE_DATE_EPOCH``, owners set by the caller (default 0:0), user/group names empty, PAX records
for long or non-ASCII names, a second path to the same inode becomes a hard link entry. The stream
ends with two zero blocks (no record padding), as Go's archive/tar writes it.
"""

from __future__ import annotations

import logging
import os
import stat
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lifecycle.errors import ImageError

log = logging.getLogger(__name__)

BLOCK = 512
READ_SIZE = 1 << 20
END_OF_ARCHIVE = b"\0" * (2 * BLOCK)
EPOCH_1980 = 315532801
"""1980-01-01T00:00:01Z, the CNB lifecycle's normalised mtime."""
WHITEOUT_PREFIX = ".wh."
OPAQUE_WHITEOUT = ".wh..wh..opq"


def default_mtime() -> int:
    """``SOURCE_DATE_EPOCH`` when set to an integer, else 1980-01-01T00:00:01Z."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isdigit():
        return int(value)
    if value:
        log.warning("ignoring SOURCE_DATE_EPOCH=%r: not a non-negative integer", value)
    return EPOCH_1980


@dataclass(frozen=True, slots=True)
class TarOptions:
    """How entries are normalised: owner, mtime (None: ``default_mtime()``), prefix dir mode."""

    uid: int = 0
    gid: int = 0
    mtime: int | None = None
    parent_mode: int = 0o755

    def resolved_mtime(self) -> int:
        """The mtime written into every header."""
        return default_mtime() if self.mtime is None else self.mtime


DEFAULT_OPTIONS = TarOptions()


def _pad(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def header(name: str, kind: bytes, opts: TarOptions, *, mode: int = 0o644, size: int = 0,
           linkname: str = "", devmajor: int = 0, devminor: int = 0) -> bytes:
    """One normalised tar header (plus a PAX header when the name or link needs one)."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode & 0o7777
    info.size = size
    info.linkname = linkname
    info.uid, info.gid = opts.uid, opts.gid
    info.mtime = opts.resolved_mtime()
    info.devmajor, info.devminor = devmajor, devminor
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def whiteout_header(path: str, opts: TarOptions = DEFAULT_OPTIONS) -> bytes:
    """The header deleting ``path`` (relative, no leading '/') from lower layers."""
    parent, _, base = path.strip("/").rpartition("/")
    name = f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base
    return header(name, tarfile.REGTYPE, opts)


def opaque_whiteout_header(directory: str, opts: TarOptions = DEFAULT_OPTIONS) -> bytes:
    """The header hiding every lower-layer entry of ``directory``."""
    d = directory.strip("/")
    return header(f"{d}/{OPAQUE_WHITEOUT}" if d else OPAQUE_WHITEOUT, tarfile.REGTYPE, opts)


def file_entry(name: str, data: bytes, opts: TarOptions = DEFAULT_OPTIONS,
               mode: int = 0o644) -> bytes:
    """A complete regular-file entry (header, data, padding) for in-memory ``data``."""
    return header(name, tarfile.REGTYPE, opts, mode=mode, size=len(data)) + data + _pad(len(data))


def dir_entry(name: str, opts: TarOptions = DEFAULT_OPTIONS, mode: int = 0o755) -> bytes:
    """A directory entry (``name`` gets its trailing '/')."""
    return header(name.rstrip("/") + "/", tarfile.DIRTYPE, opts, mode=mode)


def _children(path: str, rel: str) -> list[tuple[str, str, os.stat_result]]:
    with os.scandir(path) as it:
        ents = sorted(it, key=lambda e: os.fsencode(e.name))
    return [(rel + e.name, e.path, e.stat(follow_symlinks=False)) for e in ents]


def walk(root: str | os.PathLike[str]) -> Iterator[tuple[str, str, os.stat_result]]:
    """Yield ``(relative path, absolute path, lstat)`` under ``root`` in tar order."""
    stack = [iter(_children(os.fspath(root), ""))]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        yield item
        if stat.S_ISDIR(item[2].st_mode):
            stack.append(iter(_children(item[1], item[0] + "/")))


def _file_data(path: str, size: int) -> Iterator[bytes]:
    remaining = size
    with open(path, "rb", buffering=0) as f:
        while remaining:
            chunk = f.read(min(remaining, READ_SIZE))
            if not chunk:
                raise ImageError(f"{path}: file shrank while being archived")
            remaining -= len(chunk)
            yield chunk
    yield _pad(size)


def _entry(name: str, path: str, st: os.stat_result, opts: TarOptions,
           links: dict[tuple[int, int], str]) -> Iterator[bytes]:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        yield dir_entry(name, opts, mode)
    elif stat.S_ISREG(mode):
        if st.st_nlink > 1:
            first = links.setdefault((st.st_dev, st.st_ino), name)
            if first != name:
                yield header(name, tarfile.LNKTYPE, opts, mode=mode, linkname=first)
                return
        head = header(name, tarfile.REGTYPE, opts, mode=mode, size=st.st_size)
        if st.st_size < READ_SIZE:  # one chunk for small files
            yield head + b"".join(_file_data(path, st.st_size))
        else:
            yield head
            yield from _file_data(path, st.st_size)
    elif stat.S_ISLNK(mode):
        yield header(name, tarfile.SYMTYPE, opts, mode=0o777, linkname=os.readlink(path))
    elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = tarfile.FIFOTYPE if stat.S_ISFIFO(mode) else (
            tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE)
        yield header(name, kind, opts, mode=mode, devmajor=os.major(st.st_rdev),
                     devminor=os.minor(st.st_rdev))
    else:
        log.debug("skipping socket or unknown file type %s", path)


def prefix_dirs(under: str, opts: TarOptions) -> tuple[str, list[bytes]]:
    """For in-image directory ``under``: its tar prefix (``a/b/``) and the entries of its
    strict ancestors (``a/``), which get ``opts.parent_mode``."""
    parts = [p for p in under.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ImageError(f"layer path {under!r} must not contain '.' or '..'")
    heads = [dir_entry("/".join(parts[:i]), opts, opts.parent_mode) for i in range(1, len(parts))]
    return ("/".join(parts) + "/" if parts else ""), heads


def tar_tree(root: str | os.PathLike[str], under: str = "/",
             opts: TarOptions = DEFAULT_OPTIONS,
             select: Callable[[str], bool] | None = None) -> Iterator[bytes]:
    """Stream a complete, deterministic tar of directory ``root`` placed at in-image path
    ``under`` (parents of ``under`` get their own entries), ending with the end-of-archive.
    With ``select``, only entries whose relative path it accepts are written (the caller
    accepts the parent directories of what it wants)."""
    prefix, heads = prefix_dirs(under, opts)
    yield from heads
    links: dict[tuple[int, int], str] = {}
    try:
        if prefix:
            yield dir_entry(prefix, opts, os.lstat(root).st_mode)
        for rel, path, st in walk(root):
            if select is None or select(rel):
                yield from _entry(prefix + rel, path, st, opts, links)
    except OSError as e:
        raise ImageError(f"cannot archive {e.filename or root}: {e.strerror}") from e
    yield END_OF_ARCHIVE


class TarWriter:
    """Writes a deterministic tar of in-memory entries and streams to a binary sink.

    ``add_stream`` needs a seekable sink: it writes the data first, then the header with the
    size it saw (used for docker-archive, whose layer sizes are only known after decompressing).
    """

    def __init__(self, sink: BinaryIO, opts: TarOptions = DEFAULT_OPTIONS) -> None:
        self._sink = sink
        self.opts = opts

    def add_raw(self, chunks: Iterable[bytes]) -> None:
        """Write pre-built entry bytes (from ``file_entry``, ``dir_entry``, ...)."""
        for c in chunks:
            self._sink.write(c)

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """Add a regular file holding ``data``."""
        self._sink.write(file_entry(name, data, self.opts, mode))

    def add_symlink(self, name: str, target: str) -> None:
        """Add a symbolic link ``name`` -> ``target``."""
        self._sink.write(header(name, tarfile.SYMTYPE, self.opts, mode=0o777, linkname=target))

    def add_stream(self, name: str, chunks: Iterable[bytes], mode: int = 0o644) -> int:
        """Add a regular file whose size is unknown up front; returns the size written."""
        if len(name.encode()) > 100 or not name.isascii():
            raise ImageError(f"tar entry {name!r}: streamed entries need a short ASCII name")
        start = self._sink.tell()
        self._sink.write(b"\0" * BLOCK)
        size = 0
        for c in chunks:
            self._sink.write(c)
            size += len(c)
        self._sink.write(_pad(size))
        end = self._sink.tell()
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, mode, self.opts.resolved_mtime()
        info.uid, info.gid = self.opts.uid, self.opts.gid
        self._sink.seek(start)
        if size < 8 << 30:
            self._sink.write(info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict"))
        else:  # base-256 size field
            self._sink.write(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "strict"))
        self._sink.seek(end)
        return size

    def close(self) -> None:
        """Write the end-of-archive blocks (the sink stays open)."""
        self._sink.write(END_OF_ARCHIVE)
