"""A tiny root filesystem for e2e images: static busybox, ``/bin/sh``, and ``/hello.txt``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

BUSYBOX = Path("/usr/bin/busybox")


def busybox_rootfs(root: Path, hello: str = "hi\n") -> Path:
    """Fill ``root`` with busybox-static as /bin/busybox and /bin/sh, and ``hello`` as
    /hello.txt; skip the test when busybox-static is not installed."""
    if not BUSYBOX.exists():
        pytest.skip("busybox-static not installed")
    (root / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    (root / "hello.txt").write_text(hello)
    return root
