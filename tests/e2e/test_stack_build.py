"""End to end: ``pypack stack build`` of the mini stack (busybox + python3-minimal) with the real
mmdebstrap, as root and as an unprivileged user; the images are checked by skopeo and umoci and
run by podman; builds with the same lock give the same digests (root and non-root alike)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from podman_rig import Podman, podman  # noqa: F401  (fixture)
from stack_user_rig import USER, ensure_user, run_as, user_python_env

from lifecycle.cli.main import cli
from lifecycle.oci.check import check_image
from lifecycle.store import Store, normalize

pytestmark = pytest.mark.e2e

MINI = Path(__file__).resolve().parents[1] / "testdata" / "stack" / "mini"
NAMES = ("pypack/mini-build", "pypack/mini-run")


def _need(*tools: str) -> None:
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} is not installed")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A world-traversable scratch directory (pytest's tmp dirs are private to root) whose path
    podman accepts as an image name (lowercase letters, digits and single dashes)."""
    d = Path(tempfile.gettempdir()) / f"pypack-stack-e2e-{os.getpid()}-{secrets.token_hex(4)}"
    d.mkdir(mode=0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def built(scratch: Path) -> dict[str, object]:
    """The mini stack built once by this (possibly root) process, in its own store."""
    _need("mmdebstrap")
    stack = scratch / "root" / "mini"
    shutil.copytree(MINI, stack)
    env = {"PYPACK_HOME": str(scratch / "root" / "home")}
    res = CliRunner().invoke(cli, ["stack", "build", str(stack)], env=env)
    assert res.exit_code == 0, res.output
    digests = dict(line.split("@") for line in res.output.splitlines() if "@sha256:" in line)
    return {"stack": stack, "env": env, "digests": digests, "output": res.output,
            "store": Store(scratch / "root" / "home")}


def test_build_writes_lock_and_images(built: dict[str, object]) -> None:
    stack = built["stack"]
    assert isinstance(stack, Path)
    lock = (stack / "stack.lock").read_text()
    assert "python3-minimal=" in lock and "busybox=" in lock
    store = built["store"]
    assert isinstance(store, Store)
    for name in NAMES:
        img = store.image(name)
        check_image(img, name)
        cfg = img.config()
        assert cfg.config.user == "1000:1000"
        assert "CNB_USER_ID=1000" in cfg.config.env and "CNB_GROUP_ID=1000" in cfg.config.env
        labels = cfg.config.labels
        assert labels["io.buildpacks.base.distro.name"] == "debian"
        assert labels["io.buildpacks.base.distro.version"] == "12"
        assert labels["io.buildpacks.stack.id"] == "io.pypack.stacks.mini"
        pkgs = json.loads(labels["io.buildpacks.base.metadata"])["packages"]
        assert "python3-minimal" in pkgs
        assert (cfg.os, cfg.architecture) == ("linux", "amd64") or cfg.os == "linux"
    run_labels = store.image("pypack/mini-run").config().config.labels
    assert run_labels["io.buildpacks.rebasable"] == "true"
    # both images share one root filesystem layer
    layers = {store.image(n).layers()[0].digest for n in NAMES}
    assert len(layers) == 1


def test_second_build_is_up_to_date(built: dict[str, object]) -> None:
    res = CliRunner().invoke(cli, ["stack", "build", str(built["stack"])],
                             env=built["env"])  # type: ignore[arg-type]
    assert res.exit_code == 0, res.output
    assert "up to date" in res.output
    again = dict(line.split("@") for line in res.output.splitlines() if "@sha256:" in line)
    assert again == built["digests"]


def test_skopeo_umoci_accept_and_tree_is_clean(built: dict[str, object], scratch: Path) -> None:
    _need("skopeo", "umoci")
    store = built["store"]
    assert isinstance(store, Store)
    layout = store.layout.path
    ref = normalize("pypack/mini-run")
    info = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{layout}:{ref}"],
                                     check=True, capture_output=True, text=True).stdout)
    assert info["Labels"]["io.buildpacks.base.id"] == "io.pypack.stacks.mini"
    out = scratch / "umoci"
    out.mkdir()
    for cmd in (["skopeo", "copy", f"oci:{layout}:{ref}", f"oci:{out}/layout:run"],
                ["umoci", "unpack", "--rootless", "--image", f"{out}/layout:run",
                 str(out / "bundle")]):
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stderr
    root = out / "bundle" / "rootfs"
    assert "cnb:x:1000:1000:" in (root / "etc" / "passwd").read_text()
    assert "cnb:x:1000:" in (root / "etc" / "group").read_text()
    assert (root / "home" / "cnb").is_dir()
    for gone in ("etc/hostname", "etc/resolv.conf", "etc/apt/sources.list",
                 "var/cache/ldconfig/aux-cache", "var/log/dpkg.log"):
        assert not (root / gone).exists(), gone
    assert not list((root / "dev").iterdir())
    assert not list((root / "var" / "cache" / "apt" / "archives").glob("*.deb"))


def test_podman_runs_python_as_cnb(built: dict[str, object], scratch: Path,
                                   podman: Podman) -> None:  # noqa: F811
    store = built["store"]
    assert isinstance(store, Store)
    image = f"oci:{store.layout.path}:{normalize('pypack/mini-run')}"
    res = podman.run(image, "-c", "import os; print(1, os.getuid())", entrypoint="python3")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1", "1000"], res.stdout + res.stderr
    res = podman.run(image, "-u", entrypoint="id")
    assert (res.returncode, res.stdout.strip()) == (0, "1000"), res.stderr


def test_unprivileged_build_gives_the_same_digests(built: dict[str, object],
                                                   scratch: Path) -> None:
    """As a normal user (``runuser``), with the lock the root build wrote: same digests."""
    if os.geteuid() != 0:
        pytest.skip("already unprivileged: the other tests ran without root")
    _need("runuser", "useradd")
    pw = ensure_user(USER)
    base = scratch / "user"
    base.mkdir()
    stack = base / "mini"
    shutil.copytree(built["stack"], stack)  # type: ignore[arg-type]
    env = user_python_env(scratch / "site", base / "home", pw.pw_dir)
    subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", str(base)], check=True)
    res = run_as(USER, env, "stack", "build", str(stack))
    assert res.returncode == 0, res.stdout + res.stderr
    digests = dict(line.split("@") for line in res.stdout.splitlines() if "@sha256:" in line)
    assert digests == built["digests"]
    assert "built in" in res.stderr
