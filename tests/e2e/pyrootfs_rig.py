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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

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


IMAGE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "CNB_USER_ID": "1000",
             "CNB_GROUP_ID": "1000"}
"""The config Env of the small stack's images: the CNB user as a stack sets it."""


def import_stack(rootfs: Path, names: Iterable[str], ctx: Any = None) -> None:
    """Import ``rootfs`` as each of ``names`` (``store:NAME``): the small build/run images the
    e2e builders use (CNB user 1000:1000, linux/amd64, distro labels ``host`` ``1``)."""
    from lifecycle import client

    ctx = ctx or client.Context()
    for name in names:
        client.import_image(client.ImportOptions(
            rootfs=str(rootfs), dest=f"store:{name}", platform="linux/amd64", user="1000:1000",
            env=IMAGE_ENV, labels={"io.buildpacks.base.distro.name": "host",
                                   "io.buildpacks.base.distro.version": "1"}), ctx)


def builder_toml(work: Path, buildpack: Path, bp_id: str, build: str, run: str,
                 mirrors: Sequence[str] = ()) -> Path:
    """A builder.toml in ``work`` with a copy of ``buildpack`` (one ``bp_id`` 0.1.0 group)
    on the ``build`` image with the ``run`` image (and its ``mirrors``)."""
    shutil.copytree(buildpack, work / "bp")
    mirror_line = f"mirrors = {list(mirrors)!r}\n".replace("'", '"') if mirrors else ""
    config = work / "builder.toml"
    config.write_text(
        f'[[buildpacks]]\nuri = "bp"\n\n[[order]]\n[[order.group]]\nid = "{bp_id}"\n'
        f'version = "0.1.0"\n\n[build]\nimage = "{build}"\n\n[[run.images]]\n'
        f'image = "{run}"\n{mirror_line}')
    return config
