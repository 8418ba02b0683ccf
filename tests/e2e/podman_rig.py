"""Run images with the real podman, configured for these machines (test-rig.md §3).

podman needs runc (crun fails on hybrid cgroups), cgroupfs, file events, vfs storage and small
ulimits (root lacks CAP_SYS_RESOURCE). ``podman`` is a fixture giving a ``Podman`` object whose
``run(image, *args)`` returns the CompletedProcess. Tests import the fixture from this module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


@dataclass(frozen=True)
class Podman:
    """A podman with private storage; ``insecure`` registries are reached over plain HTTP."""

    env: dict[str, str]
    root: Path

    def run(self, image: str, *args: str, entrypoint: str | None = None,
            extra: Sequence[str] = (), timeout: float = 180) -> subprocess.CompletedProcess[str]:
        cmd = ["podman", "run", "--rm", "--pull=always", "--tls-verify=false", *extra]
        if entrypoint is not None:
            cmd += ["--entrypoint", entrypoint]
        cmd += [image, *args]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False)


def make_podman(root: Path, insecure: Sequence[str] = ()) -> Podman:
    """Write the three podman config files under ``root`` and return a Podman using them."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "containers.conf").write_text(CONTAINERS_CONF)
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\nrunroot = "{root}/runroot"\ngraphroot = "{root}/graph"\n')
    regs = "".join(f'[[registry]]\nlocation = "{h}"\ninsecure = true\n' for h in insecure)
    (root / "registries.conf").write_text(regs or "unqualified-search-registries = []\n")
    env = dict(os.environ,
               CONTAINERS_CONF=str(root / "containers.conf"),
               CONTAINERS_STORAGE_CONF=str(root / "storage.conf"),
               CONTAINERS_REGISTRIES_CONF=str(root / "registries.conf"))
    return Podman(env, root)


@pytest.fixture
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    """A configured podman; skips when podman or runc is not installed."""
    if not (shutil.which("podman") and shutil.which("runc")):
        pytest.skip("podman/runc not installed")
    root = tmp_path_factory.mktemp("podman")
    yield make_podman(root, insecure=("127.0.0.1",))
    subprocess.run(["podman", "system", "reset", "--force"], env=make_podman(root).env,
                   capture_output=True, check=False, timeout=120)
