"""The layer an in-house stack puts on a base image, written as a tar while viewing the result.

Issue #7; OCI image-spec "layer.md". An :class:`Overlay` reads through to the base image's
tree (:mod:`lifecycle.stack.basetree`) and records what is added on top, so each step sees the
files of the steps before it. Every added path is placed as a program writing into the merged
tree would place it: symlinked parent directories are followed (a package's ``/bin/x`` lands in
``/usr/bin/x`` when ``/bin`` links there), a directory that already exists keeps its owner and
mode (as dpkg leaves it), and missing parents are created (root, 0755). Entries go to an
uncompressed tar; :func:`lifecycle.stack.rootfs_tar.open_rootfs` later re-serialises it
deterministically (sorted, clamped mtimes, last entry for a path wins).
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
import tarfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from lifecycle.stack import dpkgdb
from lifecycle.stack.basetree import BaseTree, resolve
from lifecycle.stack.debfile import data_tar
from lifecycle.stack.rootfs_tar import clean_name

log = logging.getLogger(__name__)


class Overlay:
    """Additions on top of ``base``, written to the tar at ``path`` (see module docstring).

    ``capture(path)``: keep the content of added files it accepts, for :meth:`read`;
    ``mtime``: the time of the entries made here (packages keep theirs)."""

    def __init__(self, base: BaseTree, path: Path, capture: Callable[[str], bool],
                 mtime: int) -> None:
        self.base, self.path, self.capture, self.mtime = base, path, capture, mtime
        self.added: dict[str, tarfile.TarInfo] = {}
        self.data: dict[str, bytes] = {}
        self._tf = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def close(self) -> None:
        """Finish the tar."""
        self._tf.close()

    # -- the merged view ------------------------------------------------------------------

    def lookup(self, name: str) -> tarfile.TarInfo | None:
        """The entry at exactly ``name``: added, else the base's."""
        m = self.added.get(name)
        return m if m is not None else self.base.lookup(name)

    def resolve(self, name: str, follow_last: bool = True) -> str:
        """``name`` with symlinks followed in the merged tree."""
        return resolve(self.lookup, name, follow_last=follow_last)

    def read(self, name: str) -> bytes | None:
        """The content of captured file ``name`` (symlinks followed), None if unknown."""
        real = self.resolve(name)
        if real in self.added:
            return self.data.get(real)
        return self.base.data.get(real)

    def is_dir(self, name: str) -> bool:
        """True if ``name`` (symlinks followed) is a directory."""
        m = self.lookup(self.resolve(name)) if name else None
        return name == "" or (m is not None and m.isdir())

    def under(self, directory: str) -> list[str]:
        """Every path below ``directory`` in the merged tree, sorted."""
        prefix = directory.rstrip("/") + "/"
        names = set(self.base.under(directory)) | {n for n in self.added
                                                   if n.startswith(prefix)}
        return sorted(names)

    def place(self, name: str) -> str:
        """Where an entry named ``name`` lands: its parent resolved, its last part kept."""
        parent, base = posixpath.split(clean_name(name))
        where = self.resolve(parent) if parent else ""
        return posixpath.join(where, base) if where else base

    # -- writing --------------------------------------------------------------------------

    def _write(self, info: tarfile.TarInfo, data: IO[bytes] | None = None) -> None:
        self._tf.addfile(info, data)
        self.added[info.name.rstrip("/")] = info

    def ensure_parents(self, name: str) -> None:
        """Create the missing parent directories of placed path ``name`` (root, 0755)."""
        parent = posixpath.dirname(name)
        if not parent or self.is_dir(parent):
            return
        self.ensure_parents(parent)
        self.add_dir(parent, 0o755)

    def add_dir(self, name: str, mode: int, uid: int = 0, gid: int = 0) -> None:
        """A directory at placed path ``name``, unless one is already there."""
        if self.is_dir(name):
            return
        self.ensure_parents(name)
        self._write(_info(name, tarfile.DIRTYPE, mode, uid, gid, self.mtime))

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644, uid: int = 0,
                  gid: int = 0) -> None:
        """A regular file at ``name`` (parents followed) with ``data``."""
        where = self.place(name)
        self.ensure_parents(where)
        info = _info(where, tarfile.REGTYPE, mode, uid, gid, self.mtime)
        info.size = len(data)
        self._write(info, io.BytesIO(data))
        self.data[where] = data

    def add_symlink(self, name: str, target: str) -> None:
        """A symlink at ``name`` (parents followed) pointing at ``target``."""
        where = self.place(name)
        self.ensure_parents(where)
        info = _info(where, tarfile.SYMTYPE, 0o777, 0, 0, self.mtime)
        info.linkname = target
        self._write(info)
        self.data.pop(where, None)

    def add_deb(self, deb: Path, filters: Sequence[dpkgdb.Filter] = (),
                conffiles: Sequence[str] = (),
                ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """Unpack ``deb``'s files as dpkg would (filters applied); returns the package's
        paths for its ``.list`` and its conffiles with their md5."""
        placed: dict[str, str] = {}
        paths: list[str] = []
        held: list[tuple[str, tarfile.TarInfo]] = []
        md5s: dict[str, str] = {}
        wanted = set(conffiles)
        with data_tar(deb) as tf:
            for m in tf:
                name = clean_name(m.name)
                listed = "/" + name if name else "/."
                if not name:
                    paths.append(listed)
                    continue
                if dpkgdb.excluded(listed, filters):
                    if m.isdir():
                        held.append((listed, m))
                    continue
                paths.append(listed)
                self._deb_member(tf, m, name, placed, md5s if listed in wanted else None)
        kept = {p for p in paths}
        for listed, m in held:  # excluded directories stay if they hold kept paths
            if any(p.startswith(listed + "/") for p in kept):
                self._deb_member(None, m, listed[1:], placed, None)
                paths.append(listed)
        return tuple(paths), tuple((p, md5s.get(p, "")) for p in conffiles if p in kept)

    def _deb_member(self, tf: tarfile.TarFile | None, m: tarfile.TarInfo, name: str,
                    placed: dict[str, str], md5s: dict[str, str] | None) -> None:
        where = self.place(name)
        placed[name] = where
        if m.isdir():
            if not self.is_dir(where):
                self.ensure_parents(where)
                self._write(_copy(m, where, tarfile.DIRTYPE))
            return
        self.ensure_parents(where)
        if m.islnk():
            target = clean_name(m.linkname)
            info = _copy(m, where, tarfile.LNKTYPE)
            info.linkname = placed.get(target, self.place(target))
            self._write(info)
            return
        if m.issym():
            info = _copy(m, where, tarfile.SYMTYPE)
            info.linkname = m.linkname
            self._write(info)
            self.data.pop(where, None)
            return
        if not m.isreg() or tf is None:
            log.debug("%s: skipping %s (tar type %r)", self.path, name, m.type)
            return
        f = tf.extractfile(m)
        assert f is not None
        keep = self.capture(where)
        if keep or md5s is not None:
            raw = f.read()
            if md5s is not None:
                md5s["/" + name] = hashlib.md5(raw, usedforsecurity=False).hexdigest()
            f = io.BytesIO(raw)
            if keep:
                self.data[where] = raw
        else:
            self.data.pop(where, None)
        info = _copy(m, where, tarfile.REGTYPE)
        info.size = m.size
        self._write(info, f)

    def names(self) -> Iterator[str]:
        """The added paths."""
        return iter(self.added)


def _info(name: str, kind: bytes, mode: int, uid: int, gid: int,
          mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name + "/" if kind == tarfile.DIRTYPE else name)
    info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, gid, mtime
    return info


def _copy(m: tarfile.TarInfo, name: str, kind: bytes) -> tarfile.TarInfo:
    info = _info(name, kind, m.mode & 0o7777, m.uid, m.gid, int(m.mtime))
    info.pax_headers = {k: v for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")}
    return info
