"""Shared fixtures for the OCI unit tests: a deterministic sample tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def make_tree(root: Path, mtime: int = 1_600_000_000) -> Path:
    """A tree with every entry kind the tar writer handles."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(root / "bin" / "tool", 0o755)
    (root / "etc").mkdir(mode=0o750)
    (root / "etc" / "conf").write_text("a=1\n")
    os.chmod(root / "etc" / "conf", 0o600)
    os.symlink("../bin/tool", root / "etc" / "tool-link")
    os.symlink("/abs/target", root / "abslink")
    os.link(root / "etc" / "conf", root / "hardlink-to-conf")
    long_dir = root / ("d" * 80)
    long_dir.mkdir()
    (long_dir / ("f" * 90)).write_bytes(b"long name")
    (root / "naïve-ünïcode-文件").write_bytes(b"utf8")
    (root / "big").write_bytes(bytes(range(256)) * 5000)
    (root / "empty-dir").mkdir()
    for p in [root, *root.rglob("*")]:
        os.utime(p, (mtime, mtime), follow_symlinks=False)
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "tree")


@pytest.fixture
def tree_factory() -> object:
    """``make_tree`` itself, for tests that need several trees."""
    return make_tree
