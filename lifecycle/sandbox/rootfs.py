"""Unpack an image's root file system into the local store, once, for sandboxes to run in.

design.md §4; OCI image-spec "layer.md" (applying changesets, whiteouts). Layers are applied in
order with ``lifecycle.oci.extract``'s safe extractor (nothing written outside the target) into
a temp directory next to the result, which is then renamed to
``<store>/rootfs/<manifest digest hex>``: a rootfs that exists is complete, and two pypack
processes unpacking the same image at once both succeed (the loser discards its copy).

Works as any user: owners are not restored (inside a sandbox every file belongs to the sandbox
user), character and block devices are skipped (the sandbox gets its own ``/dev``), and modes
are made safe on the host: no setuid/setgid/sticky bits, no group or other write, and the owner
can always read files and enter and write directories. ``/proc``, ``/dev`` and ``/tmp`` are
created if the image lacks them (bubblewrap mounts over them).

Python buildpacks (``/cnb/buildpacks``) are byte-compiled once here, by the image's own
``python3`` in a sandbox, with ``unchecked-hash`` pycs (valid for this immutable copy): inside a
sandbox the root is read-only, so otherwise every ``bin/detect`` and ``bin/build`` would compile
its modules again (about 10 ms each). Only this private copy changes, never an image; without
bubblewrap or a ``python3`` in the image nothing is compiled.

``prepare`` is what ``pypack run`` uses: a CNB app image's run image layers are unpacked once
into ``<store>/rootfs/base-<sha256 of their diffIDs>``, shared by every build on that run image,
and only its app layers into ``<store>/rootfs/app-<manifest digest hex>``; the sandbox binds the
latter's top-level directories over the former (``layered.py``, which also says when an image is
unpacked whole instead). Same temp-dir-and-rename discipline and extractor for all three.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from lifecycle.errors import ImageError, LifecycleError
from lifecycle.oci.digest import Digest
from lifecycle.oci.extract import _Extractor, clean_name
from lifecycle.oci.image import Image
from lifecycle.oci.layer import Layer
from lifecycle.oci.tarball import READ_SIZE
from lifecycle.sandbox.layered import (
    Fallback,
    Root,
    Split,
    base_conflict,
    entry_problem,
    split,
    top_of,
)
from lifecycle.sandbox.mounts import ensure, resolve_inside
from lifecycle.store import Store

log = logging.getLogger(__name__)

SKELETON = ("/proc", "/dev", "/tmp")
"""Directories every unpacked root file system gets (bubblewrap's mount points)."""

Check = Callable[[tarfile.TarInfo], str | None]
"""Looks at each tar entry before it is applied: a reason to stop, or None."""


def sane_mode(mode: int, is_dir: bool) -> int:
    """``mode`` made safe for a copy on the host (see the module docstring)."""
    m = mode & 0o777 & ~0o022
    return m | 0o700 if is_dir else m | 0o400


def path_for(img: Image | Digest, store: Store) -> Path:
    """Where ``img``'s root file system is (or would be) unpacked."""
    d = img if isinstance(img, Digest) else Digest.of(img.raw_manifest())
    return store.rootfs_dir / d.hex


def unpack(img: Image, store: Store) -> Path:
    """``img``'s root file system in ``store``, unpacked now unless it already is."""
    final = path_for(img, store)
    if final.is_dir():
        return final
    log.info("Unpacking %d layers of %s into %s", len(img.layers()),
             Digest.of(img.raw_manifest()), final)
    done = _unpack_into(final, img.layers(), skeleton=True, byte_compile=True)
    assert isinstance(done, Path)
    return done


def app_path_for(img: Image | Digest, store: Store) -> Path:
    """Where ``img``'s app layers are (or would be) unpacked (``prepare``)."""
    return store.rootfs_dir / f"app-{path_for(img, store).name}"


def base_path_for(sp: Split, store: Store) -> Path:
    """Where the run image layers of ``sp`` are (or would be) unpacked (``prepare``)."""
    return store.rootfs_dir / sp.key


def prepare(img: Image, store: Store) -> Root:
    """``img``'s root file system for ``pypack run``: its run image layers shared, its app
    layers on their own (module docstring), else the whole image unpacked (``unpack``)."""
    full = path_for(img, store)
    if full.is_dir():
        return Root(full)
    shared = _shared(img, store)
    if isinstance(shared, Root):
        return shared
    log.debug("unpacking the whole image: %s", shared.reason)
    return Root(unpack(img, store))


def _shared(img: Image, store: Store) -> Root | Fallback:
    sp = split(img.config())
    if isinstance(sp, Fallback):
        return sp
    upper = unpack_app(img, sp, store)
    if isinstance(upper, Fallback):
        return upper
    base = unpack_base(img, sp, store)
    tops = tuple(sorted(os.listdir(upper)))
    problem = base_conflict(base, upper, tops)
    if problem is not None:
        _remove_dir(upper, store)
        return Fallback(problem)
    return Root(base, upper, tops)


def unpack_base(img: Image, sp: Split, store: Store) -> Path:
    """The first ``len(sp.base)`` layers of ``img`` in ``store``, unpacked now unless they
    already are (with the SKELETON directories; not byte-compiled)."""
    final = base_path_for(sp, store)
    if final.is_dir():
        return final
    layers = img.layers()[:len(sp.base)]
    log.info("Unpacking the %d run image layers of %s into %s", len(layers),
             Digest.of(img.raw_manifest()), final)
    done = _unpack_into(final, layers, skeleton=True)
    assert isinstance(done, Path)
    return done


def unpack_app(img: Image, sp: Split, store: Store) -> Path | Fallback:
    """The layers of ``img`` after ``sp.base`` in ``store``, unpacked now unless they already
    are; a Fallback (nothing kept) if one of their entries prevents sharing."""
    final = app_path_for(img, store)
    if final.is_dir():
        return final
    tops: set[str] = set()

    def check(m: tarfile.TarInfo) -> str | None:
        problem = entry_problem(m, tops)
        if problem is None and (top := top_of(m.name)):
            tops.add(top)
        return problem

    log.debug("unpacking the %d app layers of %s into %s", sp.app,
              Digest.of(img.raw_manifest()), final)
    try:
        return _unpack_into(final, img.layers()[len(sp.base):], check=check)
    except ImageError as e:  # the whole image will tell, if it is broken
        return Fallback(f"app layers: {e}")


def _unpack_into(final: Path, layers: Sequence[Layer], *, skeleton: bool = False,
                 byte_compile: bool = False, check: Check | None = None) -> Path | Fallback:
    """Apply ``layers`` to a temp dir renamed to ``final`` (module docstring), adding the
    SKELETON directories and byte-compiling the buildpacks if asked; a Fallback, with nothing
    left behind, if ``check`` gave a reason."""
    store_dir = final.parent
    store_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".unpack-{final.name[:12]}-", dir=store_dir))
    try:
        for layer in layers:
            with layer.open_uncompressed() as stream:
                problem = extract_layer(stream, tmp, check)
            if problem is not None:
                _rmtree(tmp)
                return Fallback(problem)
        if skeleton:
            for d in SKELETON:
                ensure(tmp, resolve_inside(tmp, d), is_dir=True)
        if byte_compile:
            precompile(tmp)
        os.chmod(tmp, 0o755)
        try:
            os.rename(tmp, final)
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not final.is_dir():
                raise
            log.debug("%s was unpacked concurrently; discarding this copy", final)
            _rmtree(tmp)
    except BaseException:
        _rmtree(tmp)
        raise
    return final


BUILDPACKS = "/cnb/buildpacks"
PYTHON = "/usr/bin/python3"


def precompile(root: Path) -> bool:
    """Byte-compile the ``.py`` files under ``root``'s /cnb/buildpacks with its python3 in a
    sandbox (module docstring); True if that ran and succeeded."""
    from lifecycle.errors import SandboxError
    from lifecycle.sandbox import Command
    from lifecycle.sandbox.binds import Bind
    from lifecycle.sandbox.select import backend

    bps = root / resolve_inside(root, BUILDPACKS).lstrip("/")
    python = root / resolve_inside(root, PYTHON).lstrip("/")
    if not bps.is_dir() or not python.is_file() or not any(bps.rglob("*.py")):
        return False
    try:
        runner = backend({})(root, [Bind(str(bps), BUILDPACKS, readonly=False)],
                           host_ca=False, network=False, environ={}, host_paths=False)
        result = runner(Command((PYTHON, "-I", "-m", "compileall", "-q", "--invalidation-mode",
                                 "unchecked-hash", BUILDPACKS), "/", {}))
    except (SandboxError, OSError) as e:
        log.debug("buildpacks not byte-compiled: %s", e)
        return False
    if result.returncode != 0:
        log.debug("byte-compiling the buildpacks exited %d: %s", result.returncode,
                  result.output.decode(errors="replace").strip())
    return result.returncode == 0


def remove(img: Image | Digest, store: Store) -> bool:
    """Delete ``img``'s unpacked root file system and app layers (``prepare``; a shared base
    stays); False if there was neither."""
    whole = _remove_dir(path_for(img, store), store)
    return _remove_dir(app_path_for(img, store), store) or whole


def wanted_dirs(store: Store) -> set[str]:
    """Names of the rootfs directories the store's named images use: ``<hex>`` and
    ``app-<hex>`` of each, and ``base-<key>`` of each CNB app image."""
    names: set[str] = set()
    for entry in store.list():
        names |= {entry.digest.hex, f"app-{entry.digest.hex}"}
        try:
            sp = split(store.image(entry.name).config())
        except LifecycleError:  # an index or an unreadable image: nothing more to keep
            continue
        if isinstance(sp, Split):
            names.add(sp.key)
    return names


LEFTOVER_AGE = 3600.0
"""Seconds after which a temp unpack/remove directory is taken for a crashed one's leftover."""


def prune(store: Store) -> tuple[int, int]:
    """Delete unpacked root file systems no named image of the store uses (images from
    elsewhere, e.g. a registry builder, are unpacked again when next needed), and leftovers of
    interrupted unpacks; returns (directories, bytes) removed. Not while a ``pypack run`` or
    build of a removed image is running."""
    if not store.rootfs_dir.is_dir():
        return 0, 0
    keep = wanted_dirs(store)
    count = size = 0
    now = time.time()
    for path in sorted(store.rootfs_dir.iterdir()):
        stale = path.name.startswith((".unpack-", ".remove-")) and \
            now - path.stat().st_mtime > LEFTOVER_AGE  # younger: an unpack still running
        if not path.is_dir() or path.is_symlink() or (path.name in keep and not stale) or \
                (path.name.startswith(".") and not stale):
            continue
        nbytes = _tree_size(path)
        if stale:
            _rmtree(path)
        elif not _remove_dir(path, store):
            continue
        count, size = count + 1, size + nbytes
    return count, size


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _remove_dir(final: Path, store: Store) -> bool:
    if not final.is_dir():
        return False
    doomed = Path(tempfile.mkdtemp(prefix=".remove-", dir=store.rootfs_dir))
    try:
        os.rename(final, doomed / "rootfs")
    except FileNotFoundError:  # removed concurrently
        return False
    finally:
        _rmtree(doomed)
    return True


def extract_layer(stream: BinaryIO, dest: str | os.PathLike[str],
                  check: Check | None = None) -> str | None:
    """Apply one uncompressed layer tar onto ``dest`` (safe, rootless; module docstring).
    ``check`` sees each entry first: if it gives a reason, extraction stops there (``dest``
    half done) and the reason is returned; else None."""
    ex = _Extractor(os.path.realpath(dest), allow_special=True, same_owner=False)
    skipped: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tf:
            for m in tf:
                if check is not None and (problem := check(m)) is not None:
                    return problem
                if m.ischr() or m.isblk() or (m.islnk() and clean_name(m.linkname) in skipped):
                    skipped.add(clean_name(m.name))
                    continue
                m.mode = sane_mode(m.mode, m.isdir())
                ex.entry(tf, m)
        ex.close()
        while stream.read(READ_SIZE):  # drain, so verifying readers see EOF
            pass
    except tarfile.TarError as e:
        raise ImageError(f"invalid layer tar while unpacking into {dest}: {e}") from e
    except OSError as e:
        raise ImageError(f"unpacking into {dest}: {e.filename or ''}: {e.strerror}") from e
    if skipped:
        log.debug("skipped %d device nodes (the sandbox has its own /dev)", len(skipped))
    return None


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)  # every directory is u+rwx (sane_mode)
