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
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

from lifecycle.errors import ImageError
from lifecycle.oci.digest import Digest
from lifecycle.oci.extract import _Extractor, clean_name
from lifecycle.oci.image import Image
from lifecycle.oci.tarball import READ_SIZE
from lifecycle.sandbox.mounts import ensure, resolve_inside
from lifecycle.store import Store

log = logging.getLogger(__name__)

SKELETON = ("/proc", "/dev", "/tmp")
"""Directories every unpacked root file system gets (bubblewrap's mount points)."""


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
    store.rootfs_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".unpack-{final.name[:12]}-", dir=store.rootfs_dir))
    try:
        log.info("Unpacking %d layers of %s into %s", len(img.layers()),
                 Digest.of(img.raw_manifest()), final)
        for layer in img.layers():
            with layer.open_uncompressed() as stream:
                extract_layer(stream, tmp)
        for d in SKELETON:
            ensure(tmp, resolve_inside(tmp, d), is_dir=True)
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
    from lifecycle.sandbox.bwrap import BwrapRunner

    bps = root / resolve_inside(root, BUILDPACKS).lstrip("/")
    python = root / resolve_inside(root, PYTHON).lstrip("/")
    if not bps.is_dir() or not python.is_file() or not any(bps.rglob("*.py")):
        return False
    try:
        runner = BwrapRunner(root, [Bind(str(bps), BUILDPACKS, readonly=False)],
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
    """Delete ``img``'s unpacked root file system; False if there was none."""
    final = path_for(img, store)
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


def extract_layer(stream: BinaryIO, dest: str | os.PathLike[str]) -> None:
    """Apply one uncompressed layer tar onto ``dest`` (safe, rootless; module docstring)."""
    ex = _Extractor(os.path.realpath(dest), allow_special=True, same_owner=False)
    skipped: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tf:
            for m in tf:
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


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)  # every directory is u+rwx (sane_mode)
