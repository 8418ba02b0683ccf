"""Buildpack modules byte-compiled once per unpacked root file system (sandbox/rootfs.py), by
the image's own python3 in the sandbox: hash-based pycs that the sandboxed programs then use."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyrootfs_rig import python_rootfs

from lifecycle.sandbox import Command
from lifecycle.sandbox.bwrap import BwrapRunner
from lifecycle.sandbox.rootfs import precompile

pytestmark = pytest.mark.e2e

LIB = "cnb/buildpacks/acme_hello/1.0/lib"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    root = python_rootfs(tmp_path / "rootfs")
    lib = root / LIB
    (lib / "acme").mkdir(parents=True)
    (lib / "acme" / "__init__.py").write_text("")
    (lib / "acme" / "hello.py").write_text("GREETING = 'hi'\n")
    return root


def test_modules_get_unchecked_hash_pycs_the_sandbox_uses(root: Path) -> None:
    assert precompile(root)
    pycs = sorted((root / LIB / "acme" / "__pycache__").glob("hello.cpython-*.pyc"))
    assert len(pycs) == 1
    flags = int.from_bytes(pycs[0].read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, source not checked
    # unchecked: an edited source is not looked at, so the old value proves the pyc was used
    (root / LIB / "acme" / "hello.py").write_text("GREETING = 'yo'\n")
    probe = ("import sys; sys.dont_write_bytecode = True; sys.path.insert(0, '/" + LIB + "'); "
             "import acme.hello as h; print(h.GREETING)")
    res = BwrapRunner(root, network=False)(Command(("/usr/bin/python3", "-c", probe), "/"))
    assert (res.returncode, res.output) == (0, b"hi\n")


def test_a_broken_module_does_not_stop_the_others(root: Path) -> None:
    (root / LIB / "acme" / "broken.py").write_text("def (:\n")
    assert not precompile(root)
    assert list((root / LIB / "acme" / "__pycache__").glob("hello.*.pyc"))


def test_nothing_to_do_without_buildpacks_or_python(root: Path) -> None:
    (root / "usr" / "bin" / "python3").unlink()
    assert not precompile(root)
    assert not (root / LIB / "acme" / "__pycache__").exists()
    shutil.rmtree(root / "cnb")
    assert not precompile(root)
