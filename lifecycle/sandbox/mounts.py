"""Mount points in an unpacked root filesystem: resolve a path as the sandbox would, make it.

design.md §4. The root filesystem is bound read-only at ``/``, so every mount destination
(``/proc``, ``/dev``, ``/tmp``, ``/workspace``, the CA bundle, ...) must already exist in it:
bubblewrap cannot create it there. A destination is first resolved inside the root file system
(symlinks followed as ``chroot`` would, never out of the root: an image whose
``/etc/ssl/certs/ca-certificates.crt`` is a link gets the bundle bound at the link's target),
then the missing parts are created on the host copy: empty directories, or an empty file for a
file bind. Nothing is ever created outside the root file system.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from lifecycle.errors import SandboxError

_MAX_LINKS = 40


def resolve_inside(rootfs: str | os.PathLike[str], inside: str,
                   host_root: Callable[[str], str | os.PathLike[str]] | None = None) -> str:
    """The absolute inside path ``inside`` resolves to in ``rootfs``, following symlinks (an
    absolute target is relative to ``rootfs``; ``..`` stops at the root). Components that do
    not exist are kept (normalised). ``host_root(top)``, when given, says which host tree
    holds paths under the top-level directory ``top`` (a root made of several trees)."""
    root = os.fspath(rootfs)
    todo = [p for p in inside.split("/") if p]
    done: list[str] = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        base = root if host_root is None else os.fspath(host_root(done[0] if done else part))
        host = os.path.join(base, *done, part)
        try:
            st = os.lstat(host)
        except (FileNotFoundError, NotADirectoryError):
            done.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise SandboxError(f"{inside} in {root}: too many levels of symbolic links")
            target = os.readlink(host)
            if target.startswith("/"):
                done = []
            todo = [p for p in target.split("/") if p] + todo
            continue
        done.append(part)
    return "/" + "/".join(done)


def ensure(rootfs: str | os.PathLike[str], inside: str, *, is_dir: bool) -> None:
    """Make the resolved inside path ``inside`` exist in ``rootfs`` (directories, and an empty
    file at the end unless ``is_dir``); SandboxError if something else is in the way or the
    root file system cannot be written."""
    root = Path(rootfs)
    parts = [p for p in inside.split("/") if p]
    path = root
    for i, part in enumerate(parts):
        path = path / part
        last = i == len(parts) - 1
        want_dir = is_dir or not last
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            _create(path, want_dir, root, inside)
            continue
        except OSError as e:
            raise SandboxError(f"mount point {inside} in {root}: {e.strerror}") from e
        if stat.S_ISDIR(st.st_mode) != want_dir or stat.S_ISLNK(st.st_mode):
            kind = "directory" if want_dir else "file"
            raise SandboxError(f"mount point {inside} in {root}: {path} is in the way "
                               f"(expected a {kind})")


def _create(path: Path, is_dir: bool, root: Path, inside: str) -> None:
    try:
        if is_dir:
            path.mkdir(mode=0o755)
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
    except FileExistsError:  # made by a concurrent sandbox
        return
    except OSError as e:
        hint = (" (the unpacked root file system is not writable by this user: remove it "
                "and let pypack unpack it again)") if e.errno in (errno.EACCES, errno.EPERM,
                                                                  errno.EROFS) else ""
        raise SandboxError(f"cannot make mount point {inside} in {root}: "
                           f"{e.strerror}{hint}") from e

