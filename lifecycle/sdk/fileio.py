"""Small file helpers for buildpacks: atomic writes and text files with a mode.

design.md §7.5 "Stage, then commit", without importing ``lifecycle.fsutil`` (the SDK must run
with the standard library alone inside build images).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _same(target: Path, data: bytes, mode: int) -> bool:
    try:
        st = target.lstat()
        if not target.is_file() or target.is_symlink() or st.st_size != len(data) \
                or (st.st_mode & 0o7777) != mode:
            return False
        return target.read_bytes() == data
    except OSError:
        return False


def atomic_write(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` (parents created) so readers never see a torn file. A file
    that already holds exactly ``data`` with ``mode`` is left alone: rewriting it would change
    its inode and times (and its directory's), and a reused layer must stay byte- and
    stat-identical so the exporter need not tar it again."""
    target = Path(path)
    if _same(target, data, mode):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _temp_beside(target: Path) -> tuple[int, str]:
    """A new file (mode 0600, O_EXCL) next to ``target``: what ``tempfile.mkstemp`` does,
    without importing ``tempfile`` (~3 ms per buildpack start)."""
    while True:
        tmp = str(target.parent / f".{target.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue


def as_bytes(content: str | bytes) -> bytes:
    """UTF-8 bytes of ``content``."""
    return content.encode("utf-8") if isinstance(content, str) else content


def remove(path: str | os.PathLike[str]) -> None:
    """Remove a file, symlink or directory tree; a missing path is fine."""
    p = Path(path)
    if p.is_dir() and not p.is_symlink():
        import shutil

        shutil.rmtree(p)
    elif os.path.lexists(p):
        p.unlink()
