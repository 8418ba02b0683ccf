"""The merged file tree of an image's layers, as tar headers: what a base image holds.

OCI image-spec "layer.md" (applying changesets; whiteouts ``.wh.NAME`` and opaque
``.wh..wh..opq`` hide what lower layers hold; a non-directory replacing a directory hides its
contents). Nothing is extracted: the headers keep the owners and modes the layers declare (an
unpacked copy on the host would lose them), and the contents of a few small files a caller
asks for (``capture``: passwd, dpkg status, CA files, apt sources) are kept in memory.
:func:`resolve` follows symlinks inside such a tree, as a program running in it would.
"""

from __future__ import annotations

import logging
import posixpath
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from lifecycle.errors import ImageError
from lifecycle.oci.layer import Layer
from lifecycle.oci.tarball import OPAQUE_WHITEOUT, READ_SIZE, WHITEOUT_PREFIX
from lifecycle.stack.rootfs_tar import clean_name

log = logging.getLogger(__name__)

MAX_LINKS = 40
"""Symlinks followed while resolving one path (as the kernel's ELOOP limit)."""

Lookup = Callable[[str], "tarfile.TarInfo | None"]


def resolve(lookup: Lookup, name: str, *, follow_last: bool = True) -> str:
    """``name`` with the symlinks among its components followed (and the last one too if
    ``follow_last``); ImageError on a loop. Absolute targets restart at the root; ``..``
    stops at the root."""
    out: list[str] = []
    todo = [p for p in name.split("/") if p not in ("", ".")]
    links = 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            if out:
                out.pop()
            continue
        cand = "/".join([*out, part])
        m = lookup(cand)
        if m is not None and m.issym() and (todo or follow_last):
            links += 1
            if links > MAX_LINKS:
                raise ImageError(f"too many levels of symbolic links resolving /{name}")
            if m.linkname.startswith("/"):
                out = []
            todo = [p for p in m.linkname.split("/") if p not in ("", ".")] + todo
            continue
        out.append(part)
    return "/".join(out)


@dataclass(slots=True)
class BaseTree:
    """Tar headers by cleaned path (no ``./``, the root is absent) and captured contents."""

    entries: dict[str, tarfile.TarInfo] = field(default_factory=dict)
    data: dict[str, bytes] = field(default_factory=dict)

    def lookup(self, name: str) -> tarfile.TarInfo | None:
        """The header at exactly ``name`` (no symlinks followed)."""
        return self.entries.get(name)

    def read(self, name: str) -> bytes | None:
        """The captured content of the regular file ``name`` (symlinks followed)."""
        real = resolve(self.lookup, name)
        return self.data.get(real)

    def under(self, directory: str) -> Iterator[str]:
        """Every path below ``directory`` (not following symlinks), unsorted."""
        prefix = directory.rstrip("/") + "/"
        return (n for n in self.entries if n.startswith(prefix))

    def _drop_subtree(self, name: str, keep_self: bool = False) -> None:
        for n in list(self.under(name)):
            del self.entries[n]
            self.data.pop(n, None)
        if not keep_self:
            self.entries.pop(name, None)
            self.data.pop(name, None)

    def apply(self, stream: BinaryIO, capture: Callable[[str], bool]) -> None:
        """Apply one uncompressed layer tar on top of this tree."""
        mine: dict[str, tarfile.TarInfo] = {}
        mine_data: dict[str, bytes] = {}
        hide: list[tuple[str, bool]] = []
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tf:
                for m in tf:
                    _take(tf, m, mine, mine_data, hide, capture)
            while stream.read(READ_SIZE):  # drain, so verifying readers see EOF
                pass
        except tarfile.TarError as e:
            raise ImageError(f"invalid layer tar: {e}") from e
        for name, opaque in hide:
            self._drop_subtree(name, keep_self=opaque)
        for name, m in mine.items():
            old = self.entries.get(name)
            if old is not None and old.isdir() and not m.isdir():
                self._drop_subtree(name, keep_self=True)
            self.entries[name] = m
            self.data.pop(name, None)
        self.data.update(mine_data)


def _take(tf: tarfile.TarFile, m: tarfile.TarInfo, mine: dict[str, tarfile.TarInfo],
          data: dict[str, bytes], hide: list[tuple[str, bool]],
          capture: Callable[[str], bool]) -> None:
    name = clean_name(m.name)
    if not name:
        return
    base = posixpath.basename(name)
    parent = posixpath.dirname(name)
    if base == OPAQUE_WHITEOUT:
        hide.append((parent, True))
        return
    if base.startswith(WHITEOUT_PREFIX):
        hide.append((posixpath.join(parent, base[len(WHITEOUT_PREFIX):]), False))
        return
    mine[name] = m
    if m.isreg() and capture(name):
        f = tf.extractfile(m)
        if f is not None:
            data[name] = f.read()
    elif m.islnk():
        target = clean_name(m.linkname)
        if target in data:
            data[name] = data[target]


def scan(layers: Iterable[Layer], capture: Callable[[str], bool]) -> BaseTree:
    """The merged tree of ``layers`` (bottom first), capturing the files ``capture`` accepts."""
    tree = BaseTree()
    count = 0
    for layer in layers:
        with layer.open_uncompressed() as stream:
            tree.apply(stream, capture)
        count += 1
    log.debug("base tree: %d layers, %d entries, %d files captured", count, len(tree.entries),
              len(tree.data))
    return tree
