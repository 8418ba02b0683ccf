"""Extract a cached layer tar under a layers directory (cnb-digest §2.7 step 5, §4.8).

The exporter writes a cached layer with the absolute path it had at build time, e.g.
``/layers/<bp>/<layer>/...`` (plus the parent directories ``/layers`` and ``/layers/<bp>``).
The restorer may run with another layers directory (pypack runs the lifecycle outside the build
sandbox), so each entry is mapped: the part before ``<bp>/<layer>`` is the tar's layers root
(given, or found from the first entry that contains ``<bp>/<layer>``), the rest lands under the
given directory. Parent directories of the layer are skipped; any other entry is refused with
UnsafeTarEntryError. Extraction uses :mod:`tarfile`'s ``data`` filter (no absolute or escaping
names, no device nodes, no setuid bits, no ownership), except that symlinks may keep absolute
targets (they point into the build or run image and are never followed while extracting: the
filter refuses any write whose real path leaves the layers directory), including relative
targets that pass through such a link.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, cast

from lifecycle.cache.protocol import LayerStream
from lifecycle.errors import ImageError, UnsafeTarEntryError

_CHUNK = 1 << 20


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


def _layer_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """``tarfile.data_filter``, except for symlink targets: an absolute target is kept (it
    points into the build or run image), a relative one must stay inside ``dest`` *lexically*
    (not resolved through links already extracted: a venv's ``python -> python3.11 ->
    /usr/bin/python3.11`` chain restores). Links are never followed while extracting:
    ``data_filter`` resolves every entry's own path and refuses one whose real path leaves
    ``dest``."""
    if member.issym():
        if not member.linkname.startswith("/"):
            where = os.path.normpath(os.path.join(dest, os.path.dirname(member.name),
                                                  member.linkname))
            if os.path.commonpath([where, os.path.abspath(dest)]) != os.path.abspath(dest):
                raise tarfile.LinkOutsideDestinationError(member, where)
        checked = tarfile.data_filter(member.replace(linkname=".", deep=False), dest)
        return checked.replace(linkname=member.linkname, deep=False)
    return tarfile.data_filter(member, dest)


@dataclass(slots=True)
class _Mapper:
    """Maps tar entry names to names relative to the layers directory."""

    rel: tuple[str, ...]
    root: tuple[str, ...] | None = None
    pending_dirs: list[tuple[str, ...]] = field(default_factory=list)

    def _find_root(self, parts: tuple[str, ...]) -> None:
        n = len(self.rel)
        for i in range(len(parts) - n + 1):
            if parts[i:i + n] == self.rel:
                self.root = parts[:i]
                for d in self.pending_dirs:
                    self._check_parent(d)
                return

    def _check_parent(self, parts: tuple[str, ...]) -> None:
        full = (self.root or ()) + self.rel
        if not (len(parts) < len(full) and full[:len(parts)] == parts):
            raise UnsafeTarEntryError(
                f"tar entry {'/'.join(parts)!r} is outside {'/'.join(full)!r}")

    def map(self, member: tarfile.TarInfo) -> str | None:
        """The new name of ``member``, or None to skip it (a parent directory)."""
        parts = _parts(member.name)
        if ".." in parts:
            raise UnsafeTarEntryError(f"tar entry {member.name!r}: '..' component refused")
        if self.root is None:
            self._find_root(parts)
        if self.root is None:
            if not member.isdir():
                raise UnsafeTarEntryError(
                    f"tar entry {member.name!r} is not under {'/'.join(self.rel)!r}")
            self.pending_dirs.append(parts)
            return None
        full = self.root + self.rel
        if parts[:len(full)] == full:
            return "/".join(self.rel + parts[len(full):])
        if not member.isdir():
            raise UnsafeTarEntryError(
                f"tar entry {member.name!r} is outside {'/'.join(full)!r}")
        self._check_parent(parts)
        return None


def extract_layer_tar(stream: LayerStream, layers_dir: str | os.PathLike[str],
                      rel: Sequence[str], *, tar_root: str | None = None) -> None:
    """Extract the layer tar ``stream`` so ``<tar_root>/<rel...>/x`` lands at
    ``<layers_dir>/<rel...>/x``; then read ``stream`` to EOF (which verifies its digest).

    ``rel`` is ``(<escaped bp id>, <layer>)`` for a buildpack layer, ``("sbom", "cache")`` for
    the SBOM layer. Raises UnsafeTarEntryError or ImageError (e.g. DigestMismatchError).
    """
    dest = os.fspath(layers_dir)
    mapper = _Mapper(tuple(rel), None if tar_root is None else _parts(tar_root))
    try:
        with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|") as tf:
            tf.errorlevel = 2
            for member in tf:
                name = mapper.map(member)
                if name is None:
                    continue
                renamed = member.replace(name=name, deep=False)
                if member.islnk():
                    renamed = renamed.replace(linkname=_link_name(mapper, member), deep=False)
                tf.extract(renamed, path=dest, filter=_layer_filter)
    except tarfile.FilterError as e:
        raise UnsafeTarEntryError(f"cached layer: {e}") from e
    except (tarfile.TarError, OSError) as e:
        raise ImageError(f"cached layer: cannot extract: {e}") from e
    while stream.read(_CHUNK):
        pass


def _link_name(mapper: _Mapper, member: tarfile.TarInfo) -> str:
    target = tarfile.TarInfo(member.linkname)
    name = mapper.map(target)
    if name is None:
        raise UnsafeTarEntryError(
            f"tar entry {member.name!r}: hard link target {member.linkname!r} is outside")
    return name
