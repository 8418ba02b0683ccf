"""A small run-image root filesystem with Python, made from the host's files (no network).

busybox (``/bin/sh`` and the usual applets), the host's Debian ``python3.11`` with its standard
library (tests and GUI modules left out), ``bash``, the shared libraries they need, and
``/etc/passwd``/``/etc/group`` with root and the CNB user ``cnb`` (1000:1000). Enough for the
pypack launcher (python3 >= 3.11, bash) and a tiny Python app; about 35 MB.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

BUSYBOX = Path("/usr/bin/busybox")
PYTHON = Path("/usr/bin/python3.11")
BASH = Path("/bin/bash")
STDLIB = Path("/usr/lib/python3.11")
_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages",
         "dist-packages", "__pycache__", "config-3.11-x86_64-linux-gnu", "pydoc_data"}


def _libs(binary: Path) -> list[Path]:
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    return [Path(p) for p in re.findall(r"(/\S+\.so[^\s]*)", out)]


def _copy(src: Path, root: Path) -> None:
    dest = root / src.relative_to("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src.resolve(), dest)


def python_rootfs(root: Path) -> Path:
    """Fill ``root`` (see the module docstring); skip the test if the host lacks the parts."""
    for need in (BUSYBOX, PYTHON, BASH, STDLIB):
        if not need.exists():
            pytest.skip(f"{need} not on this host")
    (root / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for applet in ("sh", "cat", "echo", "id", "ls", "env", "wget", "sleep"):
        (root / "bin" / applet).symlink_to("busybox")
    for binary in (PYTHON, BASH):
        _copy(binary, root)
        for lib in _libs(binary):
            _copy(lib, root)
    (root / "usr" / "bin" / "python3").symlink_to("python3.11")
    (root / "usr" / "bin" / "python").symlink_to("python3.11")
    (root / "usr" / "bin" / "env").symlink_to("/bin/busybox")
    shutil.copytree(STDLIB, root / STDLIB.relative_to("/"), symlinks=True,
                    ignore=lambda d, names: [n for n in names if n in _SKIP])
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                "cnb:x:1000:1000:cnb:/home/cnb:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\ncnb:x:1000:\n")
    for d in ("tmp", "home/cnb", "workspace", "layers"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    return root
