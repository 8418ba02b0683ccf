"""End to end: ``pypack build`` with a tiny builder whose buildpack (tests/testdata/inspect)
writes launch SBOM files, then ``pypack inspect`` (tables, ``--json``, ``--bom``) and
``pypack sbom download`` on the image in the local store and, copied, in the real registry;
run-image mirrors from ``pypack config`` show as user-configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from pyrootfs_rig import builder_toml, import_stack, python_rootfs
from registry_fixtures import RegistryServer

from lifecycle import client

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[1] / "testdata" / "inspect"
REPO = Path(__file__).resolve().parents[2]
BUILDER = "test/inspect-builder"
RUN = "test/inspect-run"


def pypack(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lifecycle.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO,
                          env=dict(env or os.environ))


def ok(*args: str, env: Mapping[str, str] | None = None) -> str:
    res = pypack(*args, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


@pytest.fixture(scope="module")
def run_mirror(registry: RegistryServer) -> str:
    return f"{registry.host}/inspect/run:1"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, run_mirror: str) -> str:
    """The app image ``inspect-app`` in the store, built by a builder with the SBOM buildpack."""
    import_stack(python_rootfs(tmp_path_factory.mktemp("pyroot")), ("test/inspect-build", RUN))
    config = builder_toml(tmp_path_factory.mktemp("builder"),
                          DATA / "buildpacks" / "test_sbom" / "0.1.0", "test/sbom",
                          "test/inspect-build", RUN, mirrors=(run_mirror,))
    ok("builder", "create", BUILDER, "--config", str(config))
    ok("build", "inspect-app", "--builder", BUILDER, "--path", str(DATA / "app"))
    return "inspect-app"


@pytest.fixture()
def cfg_env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, PYPACK_CONFIG=str(tmp_path / "config.toml"))


def test_inspect_local_image(app: str, run_mirror: str, cfg_env: dict[str, str]) -> None:
    ok("config", "run-image-mirrors", "add", RUN, "-m", "mirror.example/inspect-run:1",
       env=cfg_env)
    data = json.loads(ok("inspect", app, "--json", env=cfg_env))
    info = data["local_info"]
    assert data["remote_info"] is None and info["source"] == "local store"
    run = client.Context().store.image(RUN)
    assert info["base_image"]["top_layer"] == str(run.layers()[-1].diff_id)
    assert info["base_image"]["reference"]
    assert info["run_images"] == [
        {"name": "mirror.example/inspect-run:1", "user_configured": True},
        {"name": RUN, "preferred": True}, {"name": run_mirror}]  # both on docker.io
    assert info["buildpacks"] == [{"id": "test/sbom", "version": "0.1.0",
                                   "homepage": "https://example.com/test-sbom"}]
    web, worker = info["processes"]
    assert (web["type"], web["default"], web["command"], web["args"]) == (
        "web", True, "python3", ["app.py", "--greeting", "hi"])
    assert (worker["shell"], worker["command"], worker["args"], worker["working-dir"]) == (
        "", "sh", ["-c", "echo worker"], "/tmp")  # Buildpack API 0.12: always direct
    assert info["rebasable"] is True
    assert info["lifecycle"]["sbom_layer"].startswith("sha256:")

    text = ok("inspect", app, env=cfg_env)
    for needle in ("Inspecting image: inspect-app (local store)", "Rebasable: true",
                   "mirror.example/inspect-run:1  (user-configured)", "web (default)",
                   "test/sbom", "SBOM layer:    sha256:", "deps"):
        assert needle in text, needle


def test_sbom_download_and_bom(app: str, tmp_path: Path) -> None:
    ok("sbom", "download", app, "--output-dir", str(tmp_path))
    launch = tmp_path / "layers" / "sbom" / "launch" / "test_sbom"
    deps = json.loads((launch / "deps" / "sbom.cdx.json").read_text())
    assert deps["components"][0]["name"] == "dep"
    assert json.loads((launch / "sbom.cdx.json").read_text())["components"] == []
    bom = json.loads(ok("inspect", app, "--bom"))
    assert {(d["buildpack"], d["layer"]) for d in bom["sbom"]} == {
        ("test/sbom", "deps"), ("test/sbom", None)}


def test_inspect_and_download_from_the_registry(app: str, registry: RegistryServer,
                                                run_mirror: str, tmp_path: Path) -> None:
    remote = f"{registry.host}/inspect/app:1"
    ok("image", "copy", app, remote)
    data = json.loads(ok("inspect", remote, "--json"))
    info = data["remote_info"]
    assert data["local_info"] is None and info["source"] == "registry"
    assert info["run_images"][0] == {"name": run_mirror, "preferred": True}
    out = ok("sbom", "download", remote, "--remote", "-o", str(tmp_path))
    assert "Wrote 2 SBOM file(s)" in out
    assert (tmp_path / "layers/sbom/launch/test_sbom/deps/sbom.cdx.json").is_file()


def test_no_sbom_is_a_clear_error(tmp_path: Path) -> None:
    res = pypack("sbom", "download", f"store:{RUN}", "-o", str(tmp_path))
    assert res.returncode == 1
    assert "not built with buildpacks" in res.stderr and "no SBOM" in res.stderr
