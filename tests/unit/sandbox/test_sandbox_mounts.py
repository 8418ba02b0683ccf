"""Resolving and making mount points inside an unpacked root file system."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.errors import SandboxError
from lifecycle.sandbox.mounts import ensure, resolve_inside


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "etc" / "ssl").mkdir(parents=True)
    (root / "etc" / "ssl" / "cert.pem").write_text("ca")
    (root / "lib").symlink_to("usr/lib")
    (root / "etc" / "ssl" / "certs").symlink_to("/etc/ssl/real-certs")
    (root / "escape").symlink_to("../../../../../../../../host")
    (root / "abs-escape").symlink_to("/../../etc")
    (root / "loop").symlink_to("loop")
    return root


@pytest.mark.parametrize(("inside", "want"), [
    ("/usr/lib/x", "/usr/lib/x"),
    ("/lib/x", "/usr/lib/x"),
    ("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/real-certs/ca-certificates.crt"),
    ("/escape/y", "/host/y"),
    ("/abs-escape/passwd", "/etc/passwd"),
    ("/a/../usr/./lib", "/usr/lib"),
    ("/", "/"),
])
def test_resolve_inside_never_leaves_the_root(rootfs: Path, inside: str, want: str) -> None:
    assert resolve_inside(rootfs, inside) == want


def test_resolve_inside_symlink_loop(rootfs: Path) -> None:
    with pytest.raises(SandboxError, match="too many levels"):
        resolve_inside(rootfs, "/loop/x")


def test_ensure_makes_dirs_and_empty_files(rootfs: Path) -> None:
    ensure(rootfs, "/workspace", is_dir=True)
    ensure(rootfs, "/etc/ssl/real-certs/ca-certificates.crt", is_dir=False)
    ensure(rootfs, "/etc/ssl/real-certs/ca-certificates.crt", is_dir=False)  # idempotent
    assert (rootfs / "workspace").is_dir()
    f = rootfs / "etc/ssl/real-certs/ca-certificates.crt"
    assert f.is_file() and f.stat().st_size == 0


def test_ensure_refuses_what_is_in_the_way(rootfs: Path) -> None:
    with pytest.raises(SandboxError, match="is in the way"):
        ensure(rootfs, "/etc/ssl/cert.pem", is_dir=True)
    with pytest.raises(SandboxError, match="is in the way"):
        ensure(rootfs, "/etc/ssl", is_dir=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write read-only directories")
def test_ensure_unwritable_rootfs_says_what_to_do(rootfs: Path) -> None:
    os.chmod(rootfs, 0o555)
    try:
        with pytest.raises(SandboxError, match="not writable by this user"):
            ensure(rootfs, "/workspace", is_dir=True)
    finally:
        os.chmod(rootfs, 0o755)
