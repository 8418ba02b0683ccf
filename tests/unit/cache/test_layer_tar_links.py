"""A cached venv's link chain (relative link -> absolute link) restores."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from lifecycle.cache.layer_tar import extract_layer_tar


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname = tarfile.SYMTYPE, target
    return ti


def test_relative_link_through_absolute_link(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for d in ("layers", "layers/bp", "layers/bp/venv", "layers/bp/venv/bin"):
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            tf.addfile(ti)
        tf.addfile(_symlink("layers/bp/venv/bin/python3.11", "/usr/bin/python3.11"))
        tf.addfile(_symlink("layers/bp/venv/bin/python", "python3.11"))
    buf.seek(0)
    extract_layer_tar(buf, tmp_path, ("bp", "venv"))  # type: ignore[arg-type]
    assert os.readlink(tmp_path / "bp/venv/bin/python") == "python3.11"
    assert os.readlink(tmp_path / "bp/venv/bin/python3.11") == "/usr/bin/python3.11"
