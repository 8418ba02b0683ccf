"""A cheap directory fingerprint, to skip re-tarring a layer directory that has not changed.

Supports OCI image-spec "layer.md" export: if a directory's fingerprint equals the one recorded
with a previous layer, that layer's diff ID still holds. Only ``lstat`` and ``readlink`` are
used, file contents are never read: a change that keeps path, size, mode, mtime and inode of
every entry is not noticed (the same trade-off as make, rsync and the Go lifecycle's caching).
"""

from __future__ import annotations

import hashlib
import os
import stat

from lifecycle.errors import ImageError
from lifecycle.oci.tarball import walk


def _line(rel: str, path: str, st: os.stat_result) -> bytes:
    link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
    return (f"{rel}\0{st.st_mode:o}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_dev}:{st.st_ino}"
            f"\0{st.st_nlink}\0{link}\n").encode("utf-8", "surrogateescape")


def fingerprint(root: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` over the sorted (path, mode, size, mtime, inode, link target) of every
    entry under ``root`` (root included). ImageError if ``root`` cannot be walked."""
    h = hashlib.sha256(b"pypack-fingerprint-v1\n")
    try:
        h.update(_line(".", os.fspath(root), os.lstat(root)))
        for rel, path, st in walk(root):
            h.update(_line(rel, path, st))
    except OSError as e:
        raise ImageError(f"cannot fingerprint {e.filename or root}: {e.strerror}") from e
    return f"sha256:{h.hexdigest()}"
