"""The builder create edge and inspect, without external tools: a build image in the local
store (a temp PYPACK_HOME), the builder written to the store and to an OCI layout, its layers
read back, the same digest twice, the CLI's create and inspect."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from builder_image_rig import TWO_BUILDPACKS, build_image, write_config
from click.testing import CliRunner

from lifecycle import client
from lifecycle.builder import labels
from lifecycle.builder.create import CreateOptions, create_builder, destination
from lifecycle.builder.inspect import from_image, inspect_builder
from lifecycle.cli.main import cli
from lifecycle.errors import ImageError, UsageError
from lifecycle.oci.check import check_image
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image

BUILD = "example.com/unit/build:1"


@pytest.fixture
def ctx(tmp_path: Path) -> client.Context:
    c = client.Context(store_root=str(tmp_path / "home"))
    client.write_image(build_image(labels={"io.buildpacks.stack.id": "io.example"}),
                       f"store:{BUILD}", c)
    return c


def _config(tmp: Path) -> Path:
    return write_config(tmp, TWO_BUILDPACKS.replace("example.com/build:1", BUILD))


def _files(img: Image, index: int) -> dict[str, tarfile.TarInfo]:
    with img.layers()[index].open_uncompressed() as f, tarfile.open(fileobj=f, mode="r|") as tf:
        return {m.name: m for m in tf}


def test_create_writes_the_layout_pack_does(tmp_path: Path, ctx: client.Context) -> None:
    res = create_builder(CreateOptions("oci:" + str(tmp_path / "lay") + ":b",
                                       str(_config(tmp_path))), ctx)
    img = client.open_image(f"oci:{tmp_path}/lay:b", ctx)
    check_image(img)
    assert res.digest == Digest.of(img.raw_manifest())
    assert len(img.layers()) == 5          # dirs, lifecycle, alpha, beta, config files
    dirs, life, alpha, beta, files = (_files(img, i) for i in range(5))
    assert {"workspace", "layers", "cnb", "cnb/buildpacks", "platform/env"} <= set(dirs)
    assert dirs["layers"].uid == 1000
    assert {"cnb/lifecycle/launcher", "cnb/lifecycle/detector", "lifecycle"} <= set(life)
    assert "cnb/buildpacks/test_alpha/0.0.1/buildpack.toml" in alpha
    assert "cnb/buildpacks/test_beta/1.2.3/bin/build" in beta
    assert set(files) == {"cnb/order.toml", "cnb/run.toml", "cnb/stack.toml"}
    cfg = img.config()
    assert cfg.config.working_dir == "/layers"
    assert cfg.config.user == "1000:1001"
    assert cfg.created == "1980-01-01T00:00:01Z"
    assert cfg.config.labels["io.buildpacks.stack.id"] == "io.example"
    layer_label = json.loads(cfg.config.labels[labels.BUILDPACK_LAYERS])
    assert layer_label["test/alpha"]["0.0.1"]["layerDiffID"] == str(img.layers()[2].diff_id)
    assert layer_label["test/beta"]["1.2.3"]["layerDiffID"] == str(img.layers()[3].diff_id)
    assert [h.created_by for h in cfg.history][-3:] == [
        "pypack builder create: buildpack test/alpha@0.0.1",
        "pypack builder create: buildpack test/beta@1.2.3",
        "pypack builder create: order.toml, run.toml, stack.toml"]


def test_same_inputs_same_digest_in_store_and_layout(tmp_path: Path,
                                                     ctx: client.Context) -> None:
    path = _config(tmp_path)
    a = create_builder(CreateOptions("unit/builder:a", str(path)), ctx)
    b = create_builder(CreateOptions("oci:" + str(tmp_path / "lay"), str(path)), ctx)
    c = create_builder(CreateOptions("unit/builder:c", str(path)), ctx)
    assert a.digest == b.digest == c.digest
    assert a.location == "store:unit/builder:a"
    assert ctx.store.has("unit/builder:a")


def test_inspect_reads_back_what_create_wrote(tmp_path: Path, ctx: client.Context) -> None:
    res = create_builder(CreateOptions("unit/builder:i", str(_config(tmp_path))), ctx)
    info = inspect_builder("unit/builder:i", ctx)
    assert info.digest == str(res.digest)
    d = info.to_dict()
    assert [b["id"] for b in d["buildpacks"]] == ["test/alpha", "test/beta"]
    assert d["buildpacks"][1]["api"] == "0.12"
    assert d["order"] == [{"group": [{"id": "test/alpha", "version": "0.0.1"},
                                     {"id": "test/beta", "version": "1.2.3",
                                      "optional": True}]}]
    assert d["runImages"] == [{"image": "example.com/run:1", "mirrors": []}]
    assert d["stack"] == {"id": "io.example"}
    assert d["lifecycle"]["apis"]["platform"]["supported"] == ["0.15"]
    assert d["createdBy"]["name"] == "pypack"


def test_inspect_refuses_a_plain_image(ctx: client.Context) -> None:
    with pytest.raises(ImageError, match="is not a builder: it has no label "
                                         "io.buildpacks.builder.metadata"):
        from_image(build_image(), "plain")


def test_builder_on_a_builder_reuses_identical_buildpacks(tmp_path: Path,
                                                          ctx: client.Context) -> None:
    create_builder(CreateOptions("unit/builder:base", str(_config(tmp_path))), ctx)
    path = write_config(tmp_path / "second", TWO_BUILDPACKS.replace(
        "example.com/build:1", "unit/builder:base"))
    create_builder(CreateOptions("unit/builder:second", str(path)), ctx)
    img = ctx.store.image("unit/builder:second")
    names = [h.created_by for h in img.config().history]
    assert names.count("pypack builder create: buildpack test/alpha@0.0.1") == 1
    # a different buildpack with the same id@version is refused
    (tmp_path / "second" / "bp-beta" / "bin" / "extra").write_text("x")
    with pytest.raises(UsageError, match="test/beta@1.2.3 is already on the build image with "
                                         "other contents"):
        create_builder(CreateOptions("unit/builder:third", str(path)), ctx)


def test_pull_policy_never_needs_the_store(tmp_path: Path, ctx: client.Context) -> None:
    path = write_config(tmp_path, TWO_BUILDPACKS.replace("example.com/build:1",
                                                         "example.invalid/none:1"))
    with pytest.raises(ImageError, match="not in the local store and the pull policy is "
                                         "'never'"):
        create_builder(CreateOptions("x", str(path), pull_policy="never"), ctx)
    with pytest.raises(UsageError, match="pull policy 'sometimes'"):
        create_builder(CreateOptions("x", str(path), pull_policy="sometimes"), ctx)


def test_destination() -> None:
    assert destination("my/builder", False) == "store:my/builder"
    assert destination("reg.example/b:1", True) == "reg.example/b:1"
    assert destination("oci:/x:y", False) == "oci:/x:y"
    assert destination("docker-archive:/b.tar:b:1", False) == "docker-archive:/b.tar:b:1"


def test_cli_create_and_inspect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                ctx: client.Context) -> None:
    monkeypatch.setenv("PYPACK_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    res = runner.invoke(cli, ["builder", "create", "unit/cli:1", "--config",
                              str(_config(tmp_path))])
    assert res.exit_code == 0, res.output
    assert res.output.strip().splitlines()[-1].startswith("store:unit/cli:1@sha256:")
    res = runner.invoke(cli, ["builder", "inspect", "unit/cli:1", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["buildpacks"][0]["id"] == "test/alpha"
    res = runner.invoke(cli, ["builder", "inspect", "unit/cli:1"])
    assert res.exit_code == 0, res.output
    for text in ("test/alpha", "test/beta", "1.2.3", "Detection order", "example.com/run:1",
                 "Lifecycle:", "0.15"):
        assert text in res.output
    res = runner.invoke(cli, ["builder", "create", "x", "--config", str(tmp_path / "nope")])
    assert res.exit_code == 3


def test_run_image_in_the_store_is_checked(tmp_path: Path, ctx: client.Context,
                                           caplog: pytest.LogCaptureFixture) -> None:
    client.write_image(build_image(labels={"io.buildpacks.stack.id": "io.other"},
                                   platform="linux/arm64"), "store:example.com/run:1", ctx)
    body = TWO_BUILDPACKS.replace("example.com/build:1", BUILD)
    path = write_config(tmp_path, body + '\n[stack]\nid = "io.example"\n')
    with pytest.raises(UsageError, match="stack.id 'io.example' is incompatible with stack "
                                         "'io.other' of run image example.com/run:1"):
        create_builder(CreateOptions("x", str(path)), ctx)
    path = write_config(tmp_path, body)
    with caplog.at_level("WARNING", logger="lifecycle"):
        create_builder(CreateOptions("x", str(path)), ctx)
    assert "run image example.com/run:1 is linux/arm64 but the build image is " \
           "linux/amd64" in caplog.text
