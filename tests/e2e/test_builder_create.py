"""End to end: ``pypack builder create`` on a busybox build image made with ``pypack image
import``, from a builder.toml with the two fixture buildpacks (one vendoring a directory through
a symlink); the builder checked with umoci and skopeo, its labels parsed, built twice to the same
digest in the store, an OCI layout and a registry, and shown by ``pypack builder inspect``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_fixtures import RegistryServer
from rootfs_rig import busybox_rootfs

from lifecycle import client
from lifecycle.builder import labels
from lifecycle.cli.main import cli
from lifecycle.oci.check import check_image

pytestmark = pytest.mark.e2e

TESTDATA = Path(__file__).resolve().parents[1] / "testdata" / "builder" / "create"
STACK = "io.pypack.e2e"


def _pypack(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _run(*args: str) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True,
                          timeout=120).stdout


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A busybox build image and run image in the local store."""
    rootfs = busybox_rootfs(tmp_path_factory.mktemp("rootfs"))
    common = ["--env", "PATH=/bin", "--label", f"io.buildpacks.stack.id={STACK}"]
    _pypack("image", "import", str(rootfs), "--tag", "store:e2e/build:1", "--user", "1000:1000",
            "--env", "CNB_USER_ID=1000", "--env", "CNB_GROUP_ID=1000", *common)
    _pypack("image", "import", str(rootfs), "--tag", "store:e2e/run:1", "--user", "1001:1001",
            *common)
    return "e2e/build:1", "e2e/run:1"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, images: tuple[str, str]) -> Path:
    """builder.toml in a temp dir; bp-alpha is a copy whose lib/ vendors a dir by symlink."""
    root = tmp_path_factory.mktemp("cfg")
    shutil.copytree(TESTDATA / "bp-alpha", root / "bp-alpha")
    (root / "vendor" / "pkg").mkdir(parents=True)
    (root / "vendor" / "pkg" / "mod.py").write_text("VALUE = 42\n")
    (root / "bp-alpha" / "lib" / "vendored").symlink_to("../../vendor")
    build, run = images
    (root / "builder.toml").write_text(f"""\
description = "e2e builder"

[[buildpacks]]
uri = "bp-alpha"

[[buildpacks]]
uri = "{TESTDATA / 'bp-beta'}"

[[order]]
[[order.group]]
id = "test/alpha"
version = "0.0.1"
[[order.group]]
id = "test/beta"
version = "1.2.3"
optional = true

[[order]]
[[order.group]]
id = "test/beta"

[stack]
id = "{STACK}"

[build]
image = "{build}"

[[run.images]]
image = "{run}"
mirrors = ["registry.example/e2e/run:1"]
""")
    return root / "builder.toml"


def _create(name: str, config: Path, *extra: str) -> str:
    out = _pypack("builder", "create", name, "--config", str(config), *extra)
    return out.strip().splitlines()[-1].rsplit("@", 1)[1]


def test_builder_layout_labels_and_tools(config: Path, tmp_path: Path) -> None:
    digest = _create("e2e/builder:1", config)
    lay = f"oci:{tmp_path}/lay:b"
    _pypack("image", "copy", "e2e/builder:1", lay)
    img = client.open_image(lay, client.Context())
    check_image(img)

    # skopeo accepts it and sees pack's labels, which parse
    info = json.loads(_run("skopeo", "inspect", f"oci:{tmp_path}/lay:b"))
    assert info["Digest"] == digest
    lab = info["Labels"]
    meta = labels.read_metadata(lab[labels.BUILDER_METADATA], "builder")
    assert [str(b) for b in meta.buildpacks] == ["test/alpha@0.0.1", "test/beta@1.2.3"]
    assert meta.stack_run_image.image == "e2e/run:1"
    assert meta.run_images[0].mirrors == ("registry.example/e2e/run:1",)
    layers = labels.read_layers(lab[labels.BUILDPACK_LAYERS], "builder")
    order = labels.read_order(lab[labels.BUILDPACK_ORDER], "builder")
    assert [[str(r) for r in g] for g in order] == [["test/alpha@0.0.1", "test/beta@1.2.3"],
                                                    ["test/beta"]]
    assert lab["io.buildpacks.stack.id"] == STACK
    assert lab[labels.LIFECYCLE_VERSION] == meta.lifecycle.version
    diff_ids = {str(ly.diff_id) for ly in img.layers()}
    assert {layers[b][v].layer_diff_id for b in layers for v in layers[b]} <= diff_ids

    # umoci unpacks the spec layout
    bundle = tmp_path / "bundle"
    _run("umoci", "unpack", "--rootless", "--image", f"{tmp_path}/lay:b", str(bundle))
    fs = bundle / "rootfs"
    alpha = fs / "cnb/buildpacks/test_alpha/0.0.1"
    assert (alpha / "buildpack.toml").read_text() == \
        (TESTDATA / "bp-alpha" / "buildpack.toml").read_text()
    assert (fs / "cnb/buildpacks/test_beta/1.2.3/buildpack.toml").is_file()
    vendored = alpha / "lib" / "vendored"
    assert not vendored.is_symlink() and (vendored / "pkg" / "mod.py").read_text() == \
        "VALUE = 42\n"
    assert os.access(alpha / "bin" / "build", os.X_OK)
    resolved = tomllib.loads((fs / "cnb/order.toml").read_text())
    assert resolved["order"][1]["group"] == [{"id": "test/beta", "version": "1.2.3"}]
    run = tomllib.loads((fs / "cnb/run.toml").read_text())
    assert run["images"][0]["image"] == "e2e/run:1"
    assert (fs / "cnb/stack.toml").is_file()
    launcher = fs / "cnb/lifecycle/launcher"
    assert launcher.is_file() and os.access(launcher, os.X_OK)
    assert launcher.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    for phase in ("detector", "builder", "exporter", "analyzer", "restorer", "creator"):
        assert (fs / "cnb/lifecycle" / phase).is_file()
    assert os.readlink(fs / "lifecycle") == "/cnb/lifecycle"
    assert (fs / "workspace").is_dir() and (fs / "layers").is_dir()
    assert (fs / "bin/busybox").is_file()                  # the build image is underneath
    cfg = json.loads((bundle / "config.json").read_text())
    assert cfg["process"]["cwd"] == "/layers"


def test_reproducible_in_store_layout_and_registry(config: Path, tmp_path: Path,
                                                   registry: RegistryServer) -> None:
    a = _create("e2e/builder:twice-a", config)
    b = _create("e2e/builder:twice-b", config)
    c = _create(f"oci:{tmp_path}/lay:b", config)
    ref = f"{registry.host}/e2e/builder:1"
    d = _create(ref, config, "--publish")
    assert a == b == c == d
    info = json.loads(_run("skopeo", "inspect", *registry.skopeo_args(), f"docker://{ref}"))
    assert info["Digest"] == d
    assert labels.BUILDPACK_LAYERS in info["Labels"]


def test_inspect_prints_the_builder(config: Path) -> None:
    digest = _create("e2e/builder:inspect", config)
    out = _pypack("builder", "inspect", "e2e/builder:inspect")
    for text in (digest, "e2e builder", "test/alpha", "test/beta", "e2e/run:1",
                 "registry.example/e2e/run:1", f"Stack:       {STACK}", "Detection order"):
        assert text in out, text
    data = json.loads(_pypack("builder", "inspect", "--json", "e2e/builder:inspect"))
    assert data["digest"] == digest
    assert data["order"][1]["group"] == [{"id": "test/beta", "version": "1.2.3"}]
