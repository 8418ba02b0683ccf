"""End to end: analyzer → detector → restorer → builder → exporter as separate programs against
the real registry, with a fixture buildpack and a small Python run image; the image runs in
podman; an unchanged rebuild gives the same digest and uploads nothing; an app change moves only
the app and config layers; ``-layout`` writes a layout umoci unpacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from podman_rig import Podman, podman  # noqa: F401  (fixture)
from pyrootfs_rig import python_rootfs
from registry_fixtures import RegistryServer

from lifecycle import client
from lifecycle.oci.layout import Layout
from lifecycle.platform import labels

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[1] / "testdata" / "exporter"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Rig:
    reg: RegistryServer
    root: Path
    run_image: str

    @property
    def app(self) -> Path:
        return self.root / "workspace"

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
        env.update(DOCKER_CONFIG="/nonexistent", CNB_PLATFORM_API="0.15", **extra)
        return env

    def phase(self, name: str, *args: str, env: Mapping[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "lifecycle.cli.phases", name, *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=dict(env or self.env()),
                              timeout=300, cwd=REPO)

    def build(self, image: str, app_src: Path = DATA / "app", *extra: str,
              restore: bool = True) -> tuple[subprocess.CompletedProcess[str], str]:
        """One full build with fresh <layers> and <app> at fixed paths; returns the
        exporter's result and the builder's output."""
        for d in (self.layers, self.app):
            shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(app_src, self.app)
        self.layers.mkdir()
        common = ("-layers", str(self.layers))
        steps = [
            ("analyzer", (*common, "-run-image", self.run_image, image)),
            ("detector", (*common, "-app", str(self.app), "-buildpacks",
                          str(DATA / "buildpacks"), "-order", str(DATA / "order.toml"))),
            ("restorer", (*common, "-cache-dir", str(self.cache))) if restore else None,
            ("builder", (*common, "-app", str(self.app), "-buildpacks",
                         str(DATA / "buildpacks"))),
        ]
        out = ""
        for step in steps:
            if step is None:
                continue
            res = self.phase(step[0], *step[1])
            assert res.returncode == 0, f"{step[0]}: {res.stdout}\n{res.stderr}"
            out += res.stdout
        res = self.phase("exporter", *common, "-app", str(self.app), "-cache-dir",
                         str(self.cache), *extra, image)
        return res, out

    def report(self) -> dict[str, Any]:
        return tomllib.loads((self.layers / "report.toml").read_text())


@pytest.fixture(scope="module")
def rig(registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Rig:
    rootfs = python_rootfs(tmp_path_factory.mktemp("pyroot"))
    run_image = f"{registry.host}/pypack-test/run:py"
    opts = client.ImportOptions(
        rootfs=str(rootfs), dest=run_image, platform="linux/amd64", user="1000:1000",
        env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
        labels={labels.BASE_DISTRO_NAME: "host", labels.BASE_DISTRO_VERSION: "1"})
    client.import_image(opts, client.Context())
    return Rig(registry, tmp_path_factory.mktemp("build"), run_image)


def _skopeo_config(rig: Rig, image: str) -> dict[str, Any]:
    out = subprocess.run(["skopeo", "inspect", "--config", *rig.reg.skopeo_args(),
                          f"docker://{image}"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _layers(rig: Rig, image: str) -> list[str]:
    out = subprocess.run(["skopeo", "inspect", *rig.reg.skopeo_args(), f"docker://{image}"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["Layers"]  # type: ignore[no-any-return]


def test_build_export_run_rebuild(rig: Rig, podman: Podman) -> None:  # noqa: F811
    image = f"{rig.reg.host}/pypack-test/app:latest"
    res, out = rig.build(image)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "deps: building" in out
    digest = rig.report()["image"]["digest"]

    cfg = _skopeo_config(rig, image)["config"]
    assert cfg["Entrypoint"] == ["/cnb/process/web"]
    assert cfg["WorkingDir"] == str(rig.app)
    assert f"CNB_LAYERS_DIR={rig.layers}" in cfg["Env"]
    assert any(e.startswith("PATH=/cnb/process:/cnb/lifecycle:/usr/local/bin") for e in cfg["Env"])
    md = json.loads(cfg["Labels"][labels.LIFECYCLE_METADATA])
    assert set(md["buildpacks"][0]["layers"]) == {"greeting", "deps"}
    assert md["runImage"]["reference"].startswith(f"{rig.reg.host}/pypack-test/run@sha256:")
    assert cfg["Labels"]["org.example.hello"] == "yes"

    ran = podman.run(image, "a1")
    assert ran.returncode == 0, ran.stderr
    assert "app says: hello from a layer; args=['a1']" in ran.stdout
    assert "dependency payload" in ran.stdout
    tool = podman.run(image, entrypoint="/cnb/process/tool")
    assert "tool says hi" in tool.stdout, tool.stderr

    # unchanged rebuild: same digest, nothing uploaded, the cached layer came back
    mark = rig.reg.log_mark()
    res2, out2 = rig.build(image)
    assert res2.returncode == 0, res2.stdout + res2.stderr
    assert "deps: reusing cached layer" in out2
    assert rig.report()["image"]["digest"] == digest
    assert rig.reg.blob_uploads(mark) == 0
    assert "added" not in res2.stdout.split("*** Image")[0], res2.stdout

    # change the app only: only the app layer (and the config) differ
    before = _layers(rig, image)
    changed = rig.root / "app2"
    shutil.copytree(DATA / "app", changed)
    (changed / "extra.txt").write_text("new file\n")
    mark = rig.reg.log_mark()
    res3, _ = rig.build(image, changed)
    assert res3.returncode == 0, res3.stdout + res3.stderr
    after = _layers(rig, image)
    diff = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(diff) == 1, (before, after)
    assert rig.reg.blob_uploads(mark) == 2  # the app layer and the config


def test_unknown_process_type_fails_62(rig: Rig) -> None:
    res, _ = rig.build(f"{rig.reg.host}/pypack-test/bad:latest", DATA / "app",
                       "-process-type", "nope")
    assert res.returncode == 62
    assert "nope" in res.stderr and "Traceback" not in res.stderr


def test_layout_export_unpacks(rig: Rig, tmp_path: Path) -> None:
    layout_dir = tmp_path / "layout"
    image = f"{rig.reg.host}/pypack-test/lay:v1"
    # the run image, where -layout looks for analyzed.toml's digest reference
    run_digest = client.inspect_image(rig.run_image, client.Context())["digest"]
    algorithm, hex_ = run_digest.split(":")
    run_path = layout_dir / rig.reg.host / "pypack-test" / "run" / algorithm / hex_
    Layout.init(run_path).write_image(client.open_image(rig.run_image, client.Context()),
                                      "latest")
    res, _ = rig.build(image, DATA / "app", "-layout", "-layout-dir", str(layout_dir))
    assert res.returncode == 0, res.stdout + res.stderr
    path = layout_dir / rig.reg.host / "pypack-test" / "lay" / "v1"
    assert (path / "index.json").is_file()
    bundle = tmp_path / "bundle"
    (tmp_path / "lay").symlink_to(path)  # umoci cannot take a path with ':' (the port)
    subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{tmp_path}/lay:v1", str(bundle)],
                   check=True, capture_output=True)
    rootfs = bundle / "rootfs"
    assert (rootfs / "cnb" / "lifecycle" / "launcher").is_file()
    assert os.readlink(rootfs / "cnb" / "process" / "web") == "/cnb/lifecycle/launcher"
    layers = rootfs / str(rig.layers).lstrip("/")
    assert (layers / "test_hello" / "deps" / "lib" / "dep.txt").is_file()
    # the analyzer in layout mode finds the previous image and the run image in the layout dir
    run_ref = f"{rig.reg.host}/pypack-test/run@{run_digest}"
    res = rig.phase("analyzer", "-layers", str(rig.layers), "-layout", "-layout-dir",
                    str(layout_dir), "-run-image", run_ref, image)
    assert res.returncode == 0, res.stdout + res.stderr
    analyzed = tomllib.loads((rig.layers / "analyzed.toml").read_text())
    assert analyzed["image"]["reference"] == image
    assert analyzed["run-image"]["reference"] == run_ref
    assert analyzed["metadata"]["buildpacks"][0]["key"] == "test/hello"
    assert not (layers / "test_hello" / "scratch").exists()
    assert (layers / "config" / "metadata.toml").is_file()


def test_creator_builds_and_rebuilds_without_uploads(rig: Rig, podman: Podman) -> None:  # noqa: F811
    image = f"{rig.reg.host}/pypack-test/created:latest"
    for d in (rig.layers, rig.app):
        shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(DATA / "app", rig.app)
    cache = rig.root / "creator-cache"
    args = ("-layers", str(rig.layers), "-app", str(rig.app), "-buildpacks",
            str(DATA / "buildpacks"), "-order", str(DATA / "order.toml"), "-run-image",
            rig.run_image, "-cache-dir", str(cache),
            "-tag", f"{rig.reg.host}/pypack-test/created:v2", image)
    res = rig.phase("creator", *args)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "===> EXPORTING" in res.stdout
    digest = rig.report()["image"]["digest"]
    ran = podman.run(f"{rig.reg.host}/pypack-test/created:v2")
    assert "app says: hello from a layer" in ran.stdout, ran.stderr

    shutil.rmtree(rig.layers)
    mark = rig.reg.log_mark()
    res2 = rig.phase("creator", *args)
    assert res2.returncode == 0, res2.stdout + res2.stderr
    assert "deps: reusing cached layer" in res2.stdout
    assert rig.report()["image"]["digest"] == digest
    assert rig.reg.blob_uploads(mark) == 0


def test_rebase_onto_new_run_image(rig: Rig, podman: Podman,  # noqa: F811
                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    """The rebaser (no -run-image: the name comes from the image's metadata) swaps the run
    image layers: app layers unchanged, no layer bytes uploaded, the result still runs."""
    run_name = f"{rig.reg.host}/pypack-test/rebase-run:latest"
    rootfs = python_rootfs(tmp_path_factory.mktemp("pyroot-v1"))
    base = {"rootfs": str(rootfs), "platform": "linux/amd64", "user": "1000:1000",
            "env": {"PATH": "/usr/local/bin:/usr/bin:/bin"}}
    client.import_image(client.ImportOptions(dest=run_name, **base), client.Context())
    image = f"{rig.reg.host}/pypack-test/rebased:latest"
    shutil.rmtree(rig.layers, ignore_errors=True)
    shutil.rmtree(rig.app, ignore_errors=True)
    shutil.copytree(DATA / "app", rig.app)
    res = rig.phase("creator", "-layers", str(rig.layers), "-app", str(rig.app), "-buildpacks",
                    str(DATA / "buildpacks"), "-order", str(DATA / "order.toml"),
                    "-run-image", run_name, image)
    assert res.returncode == 0, res.stdout + res.stderr
    before = _layers(rig, image)

    (rootfs / "etc" / "os-release").write_text("ID=host\nVERSION_ID=2\n")  # the new base
    client.import_image(client.ImportOptions(dest=run_name, **base), client.Context())
    new_base = _layers(rig, run_name)
    mark = rig.reg.log_mark()
    res = rig.phase("rebaser", "-report", str(rig.root / "rebase-report.toml"), image)
    assert res.returncode == 0, res.stdout + res.stderr
    after = _layers(rig, image)
    assert after[: len(new_base)] == new_base
    assert after[len(new_base):] == before[len(before) - len(after) + len(new_base):]
    uploads = [e for e in rig.reg.access_log(mark)
               if e.method == "PUT" and "/blobs/uploads/" in e.path]
    assert len(uploads) == 1  # the config; layers are already there or mounted
    ran = podman.run(image)
    assert "app says: hello from a layer" in ran.stdout, ran.stderr
