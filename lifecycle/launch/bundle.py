"""The self-contained launcher file the exporter puts in app images (`platform.md` "exporter"
outputs: ``/cnb/lifecycle/launcher`` and ``/cnb/process/<type>`` links to it).

The file is a Python zip application: the line ``#!/usr/bin/env python3`` followed by a zip
holding ``__main__.py``, a minimal ``lifecycle/__init__.py``, ``lifecycle/errors.py``,
``lifecycle/api.py`` and ``lifecycle/launch/*.py`` (this module excluded). It needs nothing
but a ``python3`` (3.11+) in the run image. Entries are sorted, uncompressed and dated
1980-01-01, so the same sources always give the same bytes (and the same layer diff ID).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable

import lifecycle

LAUNCHER_PATH = "/cnb/lifecycle/launcher"
"""Where the exporter installs the launcher in an app image."""

PROCESS_DIR = "/cnb/process"
"""Where the exporter puts one ``<type>`` symlink to ``LAUNCHER_PATH`` per process type."""

SHEBANG = b"#!/usr/bin/env python3\n"

_MAIN = '''\
"""pypack launcher (zip application): see lifecycle.launch."""
import sys

if sys.version_info < (3, 11):
    sys.stderr.write("ERROR: failed to launch: the launcher needs python3 >= 3.11\\n")
    sys.exit(82)

from lifecycle.launch.launcher import main

sys.exit(main(sys.argv))
'''

_INIT = '''\
"""pypack lifecycle, launcher subset (self-contained; see lifecycle.launch.bundle)."""

__version__ = {version!r}
'''

_EXCLUDED = {"bundle.py"}
_DATE = (1980, 1, 1, 0, 0, 0)


def _package_dir() -> str:
    return os.path.dirname(os.path.abspath(lifecycle.__file__))


def sources() -> dict[str, bytes]:
    """Archive name -> contents of every file the launcher needs."""
    root = _package_dir()
    files = {"__main__.py": _MAIN.encode(),
             "lifecycle/__init__.py": _INIT.format(version=lifecycle.__version__).encode()}
    for name in ("errors.py", "api.py"):
        with open(os.path.join(root, name), "rb") as f:
            files[f"lifecycle/{name}"] = f.read()
    launch_dir = os.path.join(root, "launch")
    for name in sorted(os.listdir(launch_dir)):
        if name.endswith(".py") and name not in _EXCLUDED:
            with open(os.path.join(launch_dir, name), "rb") as f:
                files[f"lifecycle/launch/{name}"] = f.read()
    return files


def _zip(files: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # unix, whatever the host
            zf.writestr(info, data)
    return buf.getvalue()


def launcher_bytes() -> bytes:
    """The launcher file's bytes (shebang + zip): what ``/cnb/lifecycle/launcher`` holds."""
    return SHEBANG + _zip(sources().items())


def write_launcher(dest_dir: str, name: str = "launcher") -> str:
    """Write the launcher as ``dest_dir/name`` (mode 0755, atomically); return its path."""
    os.makedirs(dest_dir, exist_ok=True)
    path = os.path.join(dest_dir, name)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(launcher_bytes())
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


def install(root: str, process_types: Iterable[str]) -> str:
    """Lay out ``<root>/cnb/lifecycle/launcher`` and ``<root>/cnb/process/<type>`` symlinks.

    The links point at the absolute ``LAUNCHER_PATH``, as they must inside the image. Returns the
    launcher's path. For building the exporter's launcher and process-types layers on disk.
    """
    launcher = write_launcher(os.path.join(root, LAUNCHER_PATH.lstrip("/").rsplit("/", 1)[0]))
    proc_dir = os.path.join(root, PROCESS_DIR.lstrip("/"))
    os.makedirs(proc_dir, exist_ok=True)
    for ptype in sorted(set(process_types)):
        link = os.path.join(proc_dir, ptype)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(LAUNCHER_PATH, link)
    return launcher
