"""End to end: the ``rebaser`` program against the real registry (cnb-digest §5, §8 item 21).

A busybox run image v1, an app image = v1 + one app layer + lifecycle metadata, a run image v2;
``rebaser -run-image v2 app`` must move no layer bytes (only the config is uploaded), keep the
app layer, take v2's base layers and labels, and give an image skopeo and podman accept.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from podman_rig import Podman, podman  # noqa: F401  (fixture)
from registry_fixtures import RegistryServer
from rootfs_rig import busybox_rootfs

from lifecycle import client
from lifecycle.oci import mutate, remote
from lifecycle.oci.check import check_image
from lifecycle.oci.fixtures import layer_from_files
from lifecycle.oci.reference import Reference
from lifecycle.oci.registry import RegistryClient
from lifecycle.platform.labels import (
    LIFECYCLE_METADATA,
    REBASABLE,
    LifecycleMetadata,
    RunImageMetadata,
)

pytestmark = pytest.mark.e2e

BUSYBOX = Path("/usr/bin/busybox")
BASE_ID = "io.buildpacks.base.id"
ENV = {"DOCKER_CONFIG": "/nonexistent"}


def _rootfs(root: Path, text: str) -> Path:
    return busybox_rootfs(root, text)


def _run_image(root: Path, dest: str, version: str) -> None:
    labels = {BASE_ID: "test.base", REBASABLE: "true",
              "io.buildpacks.base.released": version}
    if version == "v1":
        labels["io.buildpacks.stack.mixins"] = "[]"
    client.import_image(client.ImportOptions(
        rootfs=str(_rootfs(root, f"base {version}\n")), dest=dest,
        entrypoint=("/bin/busybox",), cmd=("sh", "-c", "cat /hello.txt /workspace/app.txt"),
        env={"PATH": "/bin"}, labels=labels, platform="linux/amd64"),
        client.Context(environ=ENV))


def _app_image(reg: RegistryClient, run: str, app: str, rebasable: str = "true") -> str:
    base = remote.read_image(reg, Reference.parse(run))
    layer = layer_from_files({"workspace/app.txt": b"app layer\n"})
    img = mutate.append_layers(base, [layer])
    md = LifecycleMetadata(app=(str(layer.diff_id),), run_image=RunImageMetadata(
        top_layer=str(base.layers()[-1].diff_id), reference=f"{run.split(':')[0]}@x",
        image=run.rsplit(":", 1)[0]))
    img = mutate.with_labels(img, {LIFECYCLE_METADATA: md.to_json(), REBASABLE: rebasable,
                                   "org.example.app": "1"})
    return str(remote.push_image(reg, img, [Reference.parse(app)]))


def _rebaser(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, "CNB_PLATFORM_API": "0.15"}
    env.pop("CNB_REGISTRY_AUTH", None)
    return subprocess.run([sys.executable, "-m", "lifecycle.cli.phases", "rebaser", *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def _skopeo(reg: RegistryServer, *args: str) -> str:
    return subprocess.run(["skopeo", *args[:-1], *reg.skopeo_args(), args[-1]], check=True,
                          capture_output=True, text=True, timeout=120).stdout


def _podman_run(podman: Podman, image: str) -> subprocess.CompletedProcess[str]:  # noqa: F811
    """``podman.run``, retried when podman itself loses the exit code (a known podman race:
    "getting exit code of container ... no such exit code"), not when the container fails."""
    for _ in range(3):
        out = podman.run(image)
        if out.returncode == 0 or "no such exit code" not in out.stderr:
            break
    return out


@pytest.fixture(scope="module")
def images(registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, str]:
    if not BUSYBOX.exists():
        pytest.skip("busybox-static not installed")
    h = registry.host
    names = {"v1": f"{h}/rebase/run:v1", "v2": f"{h}/rebase/run:v2",
             "app": f"{h}/rebase/app:1", "frozen": f"{h}/rebase/frozen:1"}
    _run_image(tmp_path_factory.mktemp("v1"), names["v1"], "v1")
    _run_image(tmp_path_factory.mktemp("v2"), names["v2"], "v2")
    reg = RegistryClient()
    _app_image(reg, names["v1"], names["app"])
    names["frozen_digest"] = _app_image(reg, names["v1"], names["frozen"], rebasable="false")
    return names


def test_rebase_moves_no_layer_bytes(images: dict[str, str], registry: RegistryServer,
                                     tmp_path: Path, podman: Podman) -> None:  # noqa: F811
    reg = RegistryClient()
    before = remote.read_image(reg, Reference.parse(images["app"]))
    v2 = remote.read_image(reg, Reference.parse(images["v2"]))
    report = tmp_path / "report.toml"
    mark = registry.log_mark()
    second = images["app"].replace(":1", ":rebased")
    res = _rebaser("-run-image", images["v2"], "-report", str(report), images["app"], second)
    assert res.returncode == 0, res.stderr
    assert registry.blob_uploads(mark) <= 1  # the config only; layers skipped or mounted
    blob_gets = [e for e in registry.access_log(mark)
                 if e.method == "GET" and "/blobs/sha256:" in e.path]
    assert len(blob_gets) <= 2  # the two configs; no layer bytes read
    assert str(remote.read_image(reg, Reference.parse(second)).digest()) == \
        tomllib.loads(report.read_text())["image"]["digest"]

    after = remote.read_image(reg, Reference.parse(images["app"]))
    check_image(after)
    assert [ly.digest for ly in after.layers()] == \
        [ly.digest for ly in v2.layers()] + [before.layers()[-1].digest]
    labels = after.config().config.labels
    assert labels["io.buildpacks.base.released"] == "v2"
    assert "io.buildpacks.stack.mixins" not in labels
    assert labels["org.example.app"] == "1"
    md = LifecycleMetadata.from_json(labels[LIFECYCLE_METADATA])
    assert md.run_image.top_layer == str(v2.layers()[-1].diff_id)
    assert md.run_image.reference == f"{registry.host}/rebase/run@{v2.digest()}"
    assert after.config().created == "1980-01-01T00:00:01Z"

    doc = tomllib.loads(report.read_text())["image"]
    raw = _skopeo(registry, "inspect", "--raw", f"docker://{images['app']}")
    assert doc["digest"] == "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    assert doc["manifest-size"] == len(raw.encode())
    assert doc["tags"] == [images["app"], second]
    info = json.loads(_skopeo(registry, "inspect", f"docker://{images['app']}"))
    assert info["Digest"] == doc["digest"]

    out = _podman_run(podman, images["app"])
    assert out.returncode == 0, out.stderr
    assert out.stdout == "base v2\napp layer\n"


def test_rebasable_false_refused_and_tag_unchanged(images: dict[str, str],
                                                   tmp_path: Path) -> None:
    res = _rebaser("-run-image", images["v2"], "-report", str(tmp_path / "r.toml"),
                   images["frozen"])
    assert res.returncode == 72, res.stderr
    assert images["frozen"] in res.stderr and "rebasable" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.toml").exists()
    now = remote.read_image(RegistryClient(), Reference.parse(images["frozen"]))
    assert str(now.digest()) == images["frozen_digest"]
