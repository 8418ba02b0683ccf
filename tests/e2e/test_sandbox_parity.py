"""The two sandbox implementations behave alike where it matters (lifecycle.sandbox.bwrap:
BwrapRunner, NsRunner): arguments pass untouched, a command's background processes do not
hold the run, a private loopback works without the network, a read-only bind stays read-only
and a uid 0 command (which keeps its capabilities inside the user namespace, as bubblewrap
allows) cannot climb out of the root (pivot_root, not chroot)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from pyrootfs_rig import python_rootfs

from lifecycle.sandbox import Command
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.bwrap import BwrapRunner, NsRunner

pytestmark = pytest.mark.e2e

ESCAPE = """
import os
os.makedirs("/tmp/x", exist_ok=True)
try:
    os.chroot("/tmp/x")
    for _ in range(40):
        os.chdir("..")
    os.chroot(".")
except OSError as e:
    print("refused", e.errno)
print("host" if os.path.exists("/work") or os.path.exists("/root/.pyenv") else "inside")
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return python_rootfs(tmp_path_factory.mktemp("parity") / "rootfs")


@pytest.fixture(params=[BwrapRunner, NsRunner], ids=["bwrap", "nsexec"])
def impl(request: pytest.FixtureRequest) -> type[BwrapRunner]:
    cls: type[BwrapRunner] = request.param
    if cls is BwrapRunner and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    return cls


def run(runner: BwrapRunner, *argv: str) -> tuple[int, str]:
    res = runner(Command(argv, "/", {"PATH": "/usr/bin:/bin"}))
    return res.returncode, res.output.decode()


def test_arguments_pass_untouched(root: Path, impl: type[BwrapRunner]) -> None:
    r = impl(root, network=False)
    assert run(r, "/bin/sh", "-c", 'fd=x; echo "${fd} {fd} $1"', "sh", "{fd}") == \
        (0, "x {fd} {fd}\n")


def test_background_processes_do_not_hold_the_run(root: Path, impl: type[BwrapRunner]) -> None:
    t = time.monotonic()
    assert run(impl(root, network=False), "/bin/sh", "-c", "sleep 30 & echo started") == \
        (0, "started\n")
    assert time.monotonic() - t < 20  # a hang would be the full 30 s


def test_private_loopback_without_the_network(root: Path, impl: type[BwrapRunner]) -> None:
    probe = ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
             "c = socket.create_connection(s.getsockname()); print('loopback ok')")
    assert run(impl(root, network=False), "/usr/bin/python3", "-c", probe) == \
        (0, "loopback ok\n")


def test_uid_0_cannot_leave_the_root(root: Path, impl: type[BwrapRunner]) -> None:
    rc, out = run(impl(root, uid=0, gid=0, network=False), "/usr/bin/python3", "-c", ESCAPE)
    assert rc == 0 and out.splitlines()[-1] == "inside", out  # chroot may work: no way out


def test_read_only_binds_and_root(root: Path, impl: type[BwrapRunner], tmp_path: Path) -> None:
    ro, rw = tmp_path / "ro", tmp_path / "rw"
    ro.mkdir()
    rw.mkdir()
    r = impl(root, [Bind(str(ro), "/ro", readonly=True), Bind(str(rw), "/rw")], network=False)
    script = ("for d in / /ro /rw /tmp; do touch $d/f 2>/dev/null && echo $d=rw "
              "|| echo $d=ro; done")
    assert run(r, "/bin/sh", "-c", script) == (0, "/=ro\n/ro=ro\n/rw=rw\n/tmp=rw\n")
