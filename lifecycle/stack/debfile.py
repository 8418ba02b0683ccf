"""Read a ``.deb`` with ``dpkg-deb``: its control archive, and its files as a tar stream.

deb(5): ``dpkg-deb --ctrl-tarfile`` and ``--fsys-tarfile`` print the control and data
archives as plain tars whatever their compression (gzip, xz, zstd), with the owners and modes
the package declares; nothing is extracted to disk and no root is needed.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

from lifecycle.errors import StackBuildError
from lifecycle.stack.rootfs_tar import clean_name


def _dpkg_deb() -> str:
    exe = shutil.which("dpkg-deb")
    if exe is None:
        raise StackBuildError("dpkg-deb is not installed on this host; an in-house stack "
                              "that adds packages needs it (apt-get install dpkg)")
    return exe


def control_files(deb: Path) -> dict[str, bytes]:
    """The regular files of the control archive by name (``control``, ``md5sums``, ...)."""
    try:
        res = subprocess.run([_dpkg_deb(), "--ctrl-tarfile", str(deb)], capture_output=True,
                             check=False, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        raise StackBuildError(f"cannot run dpkg-deb on {deb.name}: {e}") from e
    if res.returncode != 0:
        raise StackBuildError(f"{deb.name}: dpkg-deb --ctrl-tarfile failed: "
                              f"{res.stderr.decode(errors='replace').strip()}")
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(res.stdout), mode="r:") as tf:
        for m in tf.getmembers():
            name = clean_name(m.name)
            f = tf.extractfile(m) if m.isreg() else None
            if name and f is not None:
                out[name] = f.read()
    if "control" not in out:
        raise StackBuildError(f"{deb.name}: no control file")
    return out


@contextlib.contextmanager
def data_tar(deb: Path) -> Iterator[tarfile.TarFile]:
    """The data archive as a streaming tar (members in archive order)."""
    try:
        proc = subprocess.Popen([_dpkg_deb(), "--fsys-tarfile", str(deb)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as e:
        raise StackBuildError(f"cannot run dpkg-deb on {deb.name}: {e.strerror}") from e
    assert proc.stdout is not None and proc.stderr is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
            yield tf
        while proc.stdout.read(1 << 20):
            pass
    except tarfile.TarError as e:
        raise StackBuildError(f"{deb.name}: bad data archive: {e}") from e
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise StackBuildError(f"{deb.name}: dpkg-deb --fsys-tarfile failed: {err}")
