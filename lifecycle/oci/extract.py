"""Safe extraction of layer tars into a directory, applying whiteouts.

OCI image-spec "layer.md" (applying changesets, whiteouts, opaque whiteouts). Nothing is ever
written outside the target: absolute names, ``..`` components, links whose target escapes, and
writes through symlinks are refused with UnsafeTarEntryError naming the entry; device nodes and
fifos are refused unless ``allow_special``. Absolute symlink targets are kept as-is (they are
resolved against the image root at run time) but are never followed during extraction.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lifecycle.errors import ImageError, UnsafeTarEntryError
from lifecycle.oci.tarball import OPAQUE_WHITEOUT, READ_SIZE, WHITEOUT_PREFIX


def clean_name(name: str) -> str:
    """The normalised relative path of tar entry ``name``; UnsafeTarEntryError if it is
    absolute or has a ``..`` component."""
    if name.startswith("/"):
        raise UnsafeTarEntryError(f"tar entry {name!r}: absolute path refused")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeTarEntryError(f"tar entry {name!r}: '..' component refused")
    return "/".join(parts)


def _symlink_escapes(entry: str, target: str) -> bool:
    """True if relative ``target``, resolved from ``entry``'s directory, leaves the root."""
    if target.startswith("/"):
        return False
    depth = entry.count("/")
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _remove(path: str) -> None:
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


@dataclass(slots=True)
class _Extractor:
    root: str
    allow_special: bool
    same_owner: bool
    safe_dirs: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    dirs: list[tuple[str, tarfile.TarInfo]] = field(default_factory=list)

    def parent(self, rel: str, name: str) -> str:
        """Make sure every ancestor of ``rel`` is a real directory (never a symlink)."""
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub in self.safe_dirs:
                continue
            path = os.path.join(self.root, sub)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path, 0o755)
                st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode):
                raise UnsafeTarEntryError(
                    f"tar entry {name!r}: parent {sub!r} is not a directory (symlink?)")
            self.safe_dirs.add(sub)
        return os.path.join(self.root, rel)

    def forget(self, rel: str) -> None:
        self.safe_dirs = {d for d in self.safe_dirs if d != rel and not d.startswith(rel + "/")}

    def whiteout(self, rel: str, name: str) -> None:
        directory, _, base = rel.rpartition("/")
        dpath = self.parent(rel, name)
        if base == OPAQUE_WHITEOUT:
            dpath = os.path.dirname(dpath)
            for child in os.listdir(dpath):
                crel = f"{directory}/{child}" if directory else child
                if crel not in self.seen:
                    _remove(os.path.join(dpath, child))
                    self.forget(crel)
            return
        hidden = base[len(WHITEOUT_PREFIX):]
        if hidden in ("", ".", ".."):
            raise UnsafeTarEntryError(f"tar entry {name!r}: invalid whiteout name")
        target = os.path.join(os.path.dirname(dpath), hidden)
        if os.path.lexists(target):
            _remove(target)
        self.forget(f"{directory}/{hidden}" if directory else hidden)

    def entry(self, tf: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        rel = clean_name(m.name)
        if not rel:
            return
        if rel.rpartition("/")[2].startswith(WHITEOUT_PREFIX):
            self.whiteout(rel, m.name)
            return
        self.check_kind(m, rel)
        path = self.parent(rel, m.name)
        self.seen.add(rel)
        exists = os.path.lexists(path)
        if exists and not (m.isdir() and os.path.isdir(path) and not os.path.islink(path)):
            _remove(path)
            self.forget(rel)
        self.create(tf, m, rel, path)

    def check_kind(self, m: tarfile.TarInfo, rel: str) -> None:
        if m.issym() and _symlink_escapes(rel, m.linkname):
            raise UnsafeTarEntryError(
                f"tar entry {m.name!r}: symlink target {m.linkname!r} escapes the root")
        if m.islnk():
            clean_name(m.linkname)
        if (m.isdev()) and not self.allow_special:
            raise UnsafeTarEntryError(f"tar entry {m.name!r}: device or fifo refused")
        if not (m.isreg() or m.isdir() or m.issym() or m.islnk() or m.isdev()):
            raise UnsafeTarEntryError(f"tar entry {m.name!r}: unsupported type {m.type!r}")

    def create(self, tf: tarfile.TarFile, m: tarfile.TarInfo, rel: str, path: str) -> None:
        if m.isdir():
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
            self.safe_dirs.add(rel)
            self.dirs.append((path, m))
            return
        if m.isreg():
            self.write_file(tf, m, path)
        elif m.issym():
            os.symlink(m.linkname, path)
        elif m.islnk():
            src = self.parent(clean_name(m.linkname), m.name)
            if not os.path.lexists(src) or (os.path.isdir(src) and not os.path.islink(src)):
                raise UnsafeTarEntryError(
                    f"tar entry {m.name!r}: hard link target {m.linkname!r} missing or a dir")
            os.link(src, path, follow_symlinks=False)
            return
        elif m.isfifo():
            os.mkfifo(path, m.mode & 0o7777)
        else:
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            os.mknod(path, kind | (m.mode & 0o7777), os.makedev(m.devmajor, m.devminor))
        self.finish(path, m)

    def write_file(self, tf: tarfile.TarFile, m: tarfile.TarInfo, path: str) -> None:
        src = tf.extractfile(m)
        if src is None:
            raise ImageError(f"tar entry {m.name!r}: no data")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(READ_SIZE):
                out.write(chunk)

    def finish(self, path: str, m: tarfile.TarInfo) -> None:
        if self.same_owner:
            os.chown(path, m.uid, m.gid, follow_symlinks=False)
        if not m.issym():
            os.chmod(path, m.mode & 0o7777)
        os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)

    def close(self) -> None:
        for path, m in reversed(self.dirs):
            self.finish(path, m)


def extract(stream: BinaryIO, dest: str | os.PathLike[str], *, allow_special: bool = False,
            same_owner: bool = False) -> None:
    """Apply the (uncompressed) layer tar ``stream`` onto directory ``dest``, safely."""
    root = os.path.realpath(dest)
    os.makedirs(root, exist_ok=True)
    ex = _Extractor(root, allow_special, same_owner)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tf:
            for m in tf:
                ex.entry(tf, m)
        ex.close()
        while stream.read(READ_SIZE):  # drain, so verifying readers see EOF
            pass
    except tarfile.TarError as e:
        raise ImageError(f"invalid tar stream while extracting into {dest}: {e}") from e
    except OSError as e:
        raise ImageError(f"extracting into {dest}: {e.filename or ''}: {e.strerror}") from e


def extract_layers(streams: Iterable[BinaryIO], dest: str | os.PathLike[str],
                   **kw: bool) -> Path:
    """Apply each layer stream in order (lowest first) onto ``dest``; returns ``dest``."""
    for s in streams:
        try:
            extract(s, dest, **kw)
        finally:
            s.close()
    return Path(dest)
