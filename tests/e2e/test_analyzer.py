"""End to end: the ``analyzer`` phase program against the real registry (anonymous and basic
auth), run as ``python3 -m lifecycle.cli.phases analyzer ...``."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from registry_fixtures import RegistryServer
from rootfs_rig import busybox_rootfs

from lifecycle import client
from lifecycle.platform import labels

pytestmark = pytest.mark.e2e

TOP = "sha256:" + "c" * 64


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_rootfs(tmp_path_factory.mktemp("rootfs"))


def _env(reg: RegistryServer | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    env["DOCKER_CONFIG"] = "/nonexistent"
    env["CNB_PLATFORM_API"] = "0.15"
    if reg is not None and reg.creds:
        token = base64.b64encode(reg.creds.encode()).decode()
        env["CNB_REGISTRY_AUTH"] = json.dumps({reg.host: f"Basic {token}"})
    env.update(extra)
    return env


def _push(rootfs: Path, dest: str, lab: Mapping[str, str], env: Mapping[str, str]) -> str:
    opts = client.ImportOptions(rootfs=str(rootfs), dest=dest, labels=dict(lab),
                                platform="linux/amd64")
    return str(client.import_image(opts, client.Context(environ=env)).digest)


RUN_LABELS = {labels.BASE_DISTRO_NAME: "busybox", labels.BASE_DISTRO_VERSION: "1.36"}


def _analyzer(tmp: Path, *args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lifecycle.cli.phases", "analyzer", "-layers", str(tmp),
           "-run", str(tmp / "run.toml"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=dict(env), timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


def _analyzed(tmp: Path) -> dict[str, Any]:
    return tomllib.loads((tmp / "analyzed.toml").read_text())


def _repo(ref: str) -> str:
    return ref.rsplit(":", 1)[0]


def test_previous_missing(rootfs: Path, registry: RegistryServer, tmp_path: Path) -> None:
    run = f"{registry.host}/analyzer/run:1"
    run_digest = _push(rootfs, run, RUN_LABELS, _env())
    res = _analyzer(tmp_path, "-run-image", run, f"{registry.host}/analyzer/missing:1",
                    env=_env())
    assert res.returncode == 0, res.stderr
    out = _analyzed(tmp_path)
    assert "image" not in out and "metadata" not in out
    assert out["run-image"] == {
        "reference": f"{_repo(run)}@{run_digest}", "image": run,
        "target": {"os": "linux", "arch": "amd64",
                   "distro": {"name": "busybox", "version": "1.36"}}}


def test_previous_with_metadata(rootfs: Path, registry: RegistryServer, tmp_path: Path) -> None:
    run = f"{registry.host}/analyzer/run:2"
    _push(rootfs, run, RUN_LABELS, _env())
    md = labels.LifecycleMetadata(run_image=labels.RunImageMetadata(
        top_layer=TOP, reference=f"{_repo(run)}@{TOP}", image=run)).to_json()
    app = f"{registry.host}/analyzer/app:1"
    app_digest = _push(rootfs, app, {labels.LIFECYCLE_METADATA: md}, _env())
    res = _analyzer(tmp_path, "-run-image", run, app, env=_env())
    assert res.returncode == 0, res.stderr
    out = _analyzed(tmp_path)
    assert out["image"] == {"reference": f"{_repo(app)}@{app_digest}"}
    assert out["metadata"]["run-image"]["top-layer"] == TOP
    assert out["metadata"]["run-image"]["image"] == run
    assert "runImage" not in out["metadata"]


def test_labelless_previous_is_ignored_with_warning(rootfs: Path, registry: RegistryServer,
                                                    tmp_path: Path) -> None:
    run = f"{registry.host}/analyzer/run:3"
    _push(rootfs, run, RUN_LABELS, _env())
    app = f"{registry.host}/analyzer/plain:1"
    _push(rootfs, app, {}, _env())
    res = _analyzer(tmp_path, "-previous-image", app, "-run-image", run,
                    f"{registry.host}/analyzer/new:1", env=_env())
    assert res.returncode == 0, res.stderr
    assert "no io.buildpacks.lifecycle.metadata label" in res.stderr
    assert "metadata" not in _analyzed(tmp_path)


def test_run_image_mirror_on_output_registry(rootfs: Path, registry: RegistryServer,
                                             registry_basic: RegistryServer,
                                             tmp_path: Path) -> None:
    mirror = f"{registry.host}/analyzer/run-mirror:1"
    digest = _push(rootfs, mirror, RUN_LABELS, _env())
    elsewhere = f"{registry_basic.host}/analyzer/run:1"   # listed first, other registry
    (tmp_path / "run.toml").write_text(
        f'[[images]]\nimage = "{elsewhere}"\nmirrors = ["{mirror}"]\n')
    res = _analyzer(tmp_path, f"{registry.host}/analyzer/app-m:1", env=_env())
    assert res.returncode == 0, res.stderr
    ri = _analyzed(tmp_path)["run-image"]
    assert ri["image"] == mirror
    assert ri["reference"] == f"{_repo(mirror)}@{digest}"


def test_basic_auth_registry(rootfs: Path, registry_basic: RegistryServer,
                             tmp_path: Path) -> None:
    env = _env(registry_basic)
    run = f"{registry_basic.host}/analyzer/run:1"
    digest = _push(rootfs, run, RUN_LABELS, env)
    (tmp_path / "run.toml").write_text(f'[[images]]\nimage = "{run}"\n')
    image = f"{registry_basic.host}/analyzer/app:1"
    res = _analyzer(tmp_path, image, env=env)
    assert res.returncode == 0, res.stderr
    assert _analyzed(tmp_path)["run-image"]["reference"] == f"{_repo(run)}@{digest}"
    denied = _analyzer(tmp_path, image, env=_env())
    assert 30 <= denied.returncode <= 39, denied.stderr


def test_missing_run_image(registry: RegistryServer, tmp_path: Path) -> None:
    run = f"{registry.host}/analyzer/no-such-run:1"
    (tmp_path / "run.toml").write_text(f'[[images]]\nimage = "{run}"\n')
    res = _analyzer(tmp_path, f"{registry.host}/analyzer/app-x:1", env=_env())
    assert 30 <= res.returncode <= 39
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR")]
    assert len(errors) == 1 and run in errors[0], res.stderr
    res2 = _analyzer(tmp_path, "-run-image", run, f"{registry.host}/analyzer/app-x:1",
                     env=_env())
    assert 30 <= res2.returncode <= 39 and run in res2.stderr
    assert not (tmp_path / "analyzed.toml").exists()


def test_no_run_image_at_all(registry: RegistryServer, tmp_path: Path) -> None:
    res = _analyzer(tmp_path, f"{registry.host}/analyzer/app-y:1", env=_env())
    assert 30 <= res.returncode <= 39
    assert "no run image" in res.stderr


@pytest.mark.parametrize("args", [
    ("BAD//ref",),
    ("-run-image", "x/UP", "127.0.0.1:1/app:1"),
    ("-tag", "127.0.0.2:1/app:2", "127.0.0.1:1/app:1"),
    (),
    ("127.0.0.1:1/a:1", "127.0.0.1:1/b:1"),
    ("-daemon", "127.0.0.1:1/a:1"),
])
def test_bad_arguments_exit_3(tmp_path: Path, args: tuple[str, ...]) -> None:
    res = _analyzer(tmp_path, *args, env=_env())
    assert res.returncode == 3, res.stderr


def test_platform_api_unset(tmp_path: Path) -> None:
    env = _env()
    del env["CNB_PLATFORM_API"]
    assert _analyzer(tmp_path, "127.0.0.1:1/a:1", env=env).returncode == 11
