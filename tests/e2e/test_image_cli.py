"""End to end: ``pypack image import/copy/inspect`` against the real registry (three auth
modes), validated by skopeo and umoci, and the imported busybox image run by podman."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from podman_rig import Podman, podman  # noqa: F401  (fixture)
from registry_fixtures import RegistryServer
from rootfs_rig import busybox_rootfs

from lifecycle import client
from lifecycle.cli.main import cli
from lifecycle.oci.check import check_image

pytestmark = pytest.mark.e2e

@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_rootfs(tmp_path_factory.mktemp("rootfs"))


def _env_for(reg: RegistryServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CNB_REGISTRY_AUTH"}
    if reg.creds:
        token = base64.b64encode(reg.creds.encode()).decode()
        env["CNB_REGISTRY_AUTH"] = json.dumps({reg.host: f"Basic {token}"})
    env["DOCKER_CONFIG"] = "/nonexistent"
    return env


def _pypack(*args: str, env: dict[str, str] | None = None) -> str:
    res = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output.strip().splitlines()[-1]


def _import(rootfs: Path, dest: str, env: dict[str, str] | None = None) -> str:
    out = _pypack("image", "import", str(rootfs), "--tag", dest,
                  "--entrypoint", "/bin/busybox", "--cmd", "echo", "--cmd", "hello from pypack",
                  "--env", "PATH=/bin", "--user", "1000:1000", "--label", "org.example=1",
                  "--platform", "linux/amd64", env=env)
    return out.rsplit("@", 1)[1]


def _skopeo(*args: str) -> str:
    return subprocess.run(["skopeo", *args], check=True, capture_output=True, text=True,
                          timeout=120).stdout


def test_import_push_inspect_each_auth_mode(rootfs: Path, any_registry: RegistryServer) -> None:
    reg = any_registry
    ref = f"{reg.host}/cli/import-{reg.mode}:1"
    digest = _import(rootfs, ref, _env_for(reg))
    raw = _skopeo("inspect", *reg.skopeo_args(), "--raw", f"docker://{ref}")
    assert "sha256:" + hashlib.sha256(raw.encode()).hexdigest() == digest
    info = json.loads(_skopeo("inspect", *reg.skopeo_args(), f"docker://{ref}"))
    assert info["Labels"] == {"org.example": "1"}
    assert info["Digest"] == digest
    # pypack reads it back too, with the same credentials
    back = json.loads(CliRunner().invoke(cli, ["image", "inspect", "--json", ref],
                                         env=_env_for(reg)).output)
    assert back["digest"] == digest
    assert back["config"]["Entrypoint"] == ["/bin/busybox"]


def test_reproducible_in_every_sink(rootfs: Path, registry: RegistryServer,
                                    tmp_path: Path) -> None:
    d1 = _import(rootfs, f"oci:{tmp_path}/a:x")
    d2 = _import(rootfs, f"oci:{tmp_path}/b:x")
    d3 = _import(rootfs, f"{registry.host}/cli/repro:1")
    d4 = _import(rootfs, f"{registry.host}/cli/repro:2")
    d5 = _import(rootfs, f"docker-archive:{tmp_path}/a.tar:demo/app:1")
    assert d1 == d2 == d3 == d4 == d5


def test_layout_and_archive_accepted_by_umoci_and_skopeo(rootfs: Path, tmp_path: Path) -> None:
    if not shutil.which("umoci"):
        pytest.skip("umoci not installed")
    _import(rootfs, f"oci:{tmp_path}/lay:app")
    img = client.open_image(f"oci:{tmp_path}/lay:app", client.Context())
    check_image(img)
    subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{tmp_path}/lay:app",
                    str(tmp_path / "bundle")], check=True, capture_output=True, timeout=120)
    assert (tmp_path / "bundle" / "rootfs" / "hello.txt").read_text() == "hi\n"
    _pypack("image", "copy", f"oci:{tmp_path}/lay:app", f"docker-archive:{tmp_path}/x.tar:demo/a:1")
    _skopeo("copy", f"docker-archive:{tmp_path}/x.tar", f"oci:{tmp_path}/fromarch:x")
    assert (tmp_path / "fromarch" / "index.json").exists()


def test_copy_between_repos_mounts_and_skips(rootfs: Path, registry: RegistryServer,
                                             tmp_path: Path) -> None:
    src = f"{registry.host}/cli/copy-src:1"
    digest = _import(rootfs, src)
    ctx = client.Context()
    mark = registry.log_mark()
    res = client.copy_image(src, f"{registry.host}/cli/copy-dst:1", ctx)
    assert str(res.digest) == digest
    assert ctx.registry.stats.blobs_mounted == 1      # the layer: mounted, not re-sent
    assert ctx.registry.stats.blobs_uploaded == 1     # only the small config blob
    assert registry.blob_uploads(mark) == 1
    ctx2 = client.Context()
    client.copy_image(src, f"{registry.host}/cli/copy-dst:2", ctx2)
    assert ctx2.registry.stats.blobs_uploaded == 0    # everything already there
    # registry -> layout -> umoci
    _pypack("image", "copy", src, f"oci:{tmp_path}/pulled:app")
    check_image(client.open_image(f"oci:{tmp_path}/pulled:app", ctx))


def test_podman_runs_imported_image(rootfs: Path, registry: RegistryServer,
                                    podman: Podman, tmp_path: Path) -> None:  # noqa: F811
    ref = f"{registry.host}/cli/run:1"
    _import(rootfs, ref)
    res = podman.run(ref)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "hello from pypack"
    ident = podman.run(ref, "-c", "id -u; echo $PATH; pwd", entrypoint="/bin/sh")
    assert ident.stdout.split() == ["1000", "/bin", "/"], ident.stderr
    _import(rootfs, f"oci:{tmp_path}/lay:app")
    res = podman.run(f"oci:{tmp_path}/lay:app")
    assert res.stdout.strip() == "hello from pypack", res.stderr
    _pypack("image", "copy", f"oci:{tmp_path}/lay:app", f"docker-archive:{tmp_path}/a.tar:demo/a:1")
    res = podman.run(f"docker-archive:{tmp_path}/a.tar")
    assert res.stdout.strip() == "hello from pypack", res.stderr
