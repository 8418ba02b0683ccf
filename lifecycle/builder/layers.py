"""Deterministic tar streams for the layers of a builder image.

Distribution (cnb-digest §7.1, §7.3) and pack ``internal/builder/builder.go``: each buildpack is
one layer at ``/cnb/buildpacks/<escaped id>/<version>/``, owned by root with pack's normalised
modes (directories and anything executable 0755, other files 0644); symlinks inside a buildpack
directory are followed and their targets copied (bundled buildpacks vendor libraries through
symlinks), so the layer is self-contained; ``__pycache__`` directories are left out (they hold
host-specific bytecode and would make the layer differ between machines). Other layers are
built from in-memory :class:`Entry` lists. Names are sorted, mtimes fixed
(``lifecycle.oci.tarball``: 1980-01-01 or ``SOURCE_DATE_EPOCH``), no user or group names: the
same input gives the same bytes.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lifecycle.buildpack.descriptor import escape_id
from lifecycle.errors import ImageError
from lifecycle.oci import tarball

_READ = 1 << 20
_SKIPPED = frozenset({"__pycache__"})


@dataclass(frozen=True, slots=True)
class Entry:
    """One tar entry: ``kind`` is ``dir``, ``file`` or ``symlink``; ``path`` has no leading
    ``/``. A file's bytes are ``data``, or streamed from ``source`` (``size`` bytes)."""

    path: str
    kind: str
    mode: int = 0o755
    data: bytes = b""
    source: Path | None = None
    size: int = 0
    link: str = ""
    uid: int = 0
    gid: int = 0


def directory(path: str, uid: int = 0, gid: int = 0) -> Entry:
    """A 0755 directory entry."""
    return Entry(path.strip("/"), "dir", uid=uid, gid=gid)


def file(path: str, data: bytes, mode: int = 0o644) -> Entry:
    """A root-owned file entry holding ``data``."""
    return Entry(path.strip("/"), "file", mode, data=data)


def symlink(path: str, target: str) -> Entry:
    """A root-owned symbolic link."""
    return Entry(path.strip("/"), "symlink", 0o777, link=target)


def sort_key(e: Entry) -> list[bytes]:
    """Parents before children, siblings by byte order of their names."""
    return [os.fsencode(p) for p in e.path.split("/")]


def _stream(path: Path, size: int) -> Iterator[bytes]:
    remaining = size
    try:
        with open(path, "rb") as f:
            while remaining:
                chunk = f.read(min(remaining, _READ))
                if not chunk:
                    raise ImageError(f"{path}: file shrank while being archived")
                remaining -= len(chunk)
                yield chunk
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror}") from e
    yield b"\0" * (-size % tarball.BLOCK)


def tar_entries(entries: Iterable[Entry], mtime: int | None = None) -> Iterator[bytes]:
    """The complete tar of ``entries`` in the order given, ending with the end-of-archive."""
    for e in entries:
        opts = tarball.TarOptions(uid=e.uid, gid=e.gid, mtime=mtime)
        if e.kind == "dir":
            yield tarball.dir_entry(e.path, opts, e.mode)
        elif e.kind == "symlink":
            yield tarball.header(e.path, tarfile.SYMTYPE, opts, mode=0o777, linkname=e.link)
        elif e.source is not None:
            yield tarball.header(e.path, tarfile.REGTYPE, opts, mode=e.mode, size=e.size)
            yield from _stream(e.source, e.size)
        else:
            yield tarball.file_entry(e.path, e.data, opts, e.mode)
    yield tarball.END_OF_ARCHIVE


def buildpack_dir(bp_id: str, version: str) -> str:
    """``cnb/buildpacks/<escaped id>/<version>`` (in-image, no leading ``/``)."""
    return f"cnb/buildpacks/{escape_id(bp_id)}/{version}"


def buildpack_entries(root: Path, bp_id: str, version: str) -> Iterator[Entry]:
    """The entries of one buildpack layer: its id and version directories, then the tree of
    ``root`` with symlinks followed (ImageError for a dangling link or a directory loop)."""
    base = buildpack_dir(bp_id, version)
    yield directory(base.rsplit("/", 1)[0])
    yield directory(base)
    yield from _walk(root, base, (os.path.realpath(root),))


def _walk(path: Path, prefix: str, ancestors: tuple[str, ...]) -> Iterator[Entry]:
    try:
        names = sorted(os.listdir(path), key=os.fsencode)
    except OSError as e:
        raise ImageError(f"cannot read buildpack directory {path}: {e.strerror}") from e
    for name in names:
        if name in _SKIPPED:
            continue
        child = path / name
        try:
            st = os.stat(child)
        except OSError as e:
            raise ImageError(f"buildpack file {child}: {e.strerror} (a dangling symlink?)") from e
        rel = f"{prefix}/{name}"
        if stat.S_ISDIR(st.st_mode):
            real = os.path.realpath(child)
            if real in ancestors:
                raise ImageError(f"buildpack directory {child}: symlink loop to {real}")
            yield directory(rel)
            yield from _walk(child, rel, (*ancestors, real))
        elif stat.S_ISREG(st.st_mode):
            mode = 0o755 if st.st_mode & 0o111 else 0o644
            yield Entry(rel, "file", mode, source=child, size=st.st_size)
        # sockets, fifos and devices have no place in a buildpack: skipped


def buildpack_tar(root: Path, bp_id: str, version: str,
                  mtime: int | None = None) -> Iterator[bytes]:
    """The deterministic tar of one buildpack layer (see :func:`buildpack_entries`)."""
    return tar_entries(buildpack_entries(root, bp_id, version), mtime)


def lifecycle_entries(installed: Path) -> list[Entry]:
    """``/cnb/lifecycle/`` holding the files of ``installed`` (the output of
    ``lifecycle install``), plus pack's compatibility link ``/lifecycle -> /cnb/lifecycle``."""
    out = [directory("cnb/lifecycle")]
    for name in sorted(os.listdir(installed), key=os.fsencode):
        p = installed / name
        if p.is_file():
            mode = 0o755 if os.stat(p).st_mode & 0o111 else 0o644
            out.append(file(f"cnb/lifecycle/{name}", p.read_bytes(), mode))
    out.append(symlink("lifecycle", "/cnb/lifecycle"))
    return sorted(out, key=sort_key)


def default_dirs(uid: int, gid: int) -> list[Entry]:
    """pack's default directories: ``/workspace`` and ``/layers`` owned by the CNB user;
    ``/cnb``, ``/cnb/buildpacks``, ``/cnb/extensions``, ``/platform/env`` and
    ``/cnb/build-config/env`` owned by root."""
    owned = [directory(p, uid, gid) for p in ("workspace", "layers")]
    root = [directory(p) for p in ("cnb", "cnb/buildpacks", "cnb/extensions", "platform",
                                   "platform/env", "cnb/build-config", "cnb/build-config/env")]
    return sorted(owned + root, key=sort_key)
