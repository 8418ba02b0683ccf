"""``pypack inspect``: the pure description of an app image (run images and their order,
processes as pack shows them, rebasable) and the click command over the local store and an
OCI layout (human tables, pack's JSON envelope, ``--bom``, user-configured mirrors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_image_rig import BP_ID, DEPS_CDX, RUN_IMAGE, RUN_MIRRORS, app_image
from click.testing import CliRunner, Result

from lifecycle import client
from lifecycle.errors import ImageError
from lifecycle.inspect import default_process_type, describe, output, rebasable
from lifecycle.oci import mutate
from lifecycle.oci.digest import Digest
from lifecycle.oci.fixtures import random_image
from lifecycle.platform import labels as lb


def _pypack(*args: str) -> Result:
    from lifecycle.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _ok(*args: str) -> str:
    res = _pypack(*args)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("PYPACK_CONFIG", str(path))
    return path


@pytest.fixture(scope="module")
def stored() -> str:
    img, _ = app_image()
    client.Context().store.put(img, "unit-inspect/app:1")
    return "unit-inspect/app:1"


def test_describe_orders_run_images_and_processes() -> None:
    img, run = app_image()
    info = describe(img, "127.0.0.1:5000/acme/app:1", source="registry",
                    app_registry="127.0.0.1:5000",
                    local_mirrors={"registry.example.com/acme/run:1": ("local.example/run:1",)})
    assert [(r.name, r.user_configured, r.preferred) for r in info.run_images] == [
        ("local.example/run:1", True, False),
        (RUN_MIRRORS[0], False, True),
        (RUN_IMAGE, False, False),
        (RUN_MIRRORS[1], False, False)]
    web, worker = info.processes
    assert (web.type, web.default, web.command, web.args, web.shell, web.working_dir) == (
        "web", True, "python3", ("app.py", "--port", "8080"), "", "/workspace")
    assert (worker.type, worker.default, worker.shell, worker.working_dir) == (
        "worker", False, "bash", "/srv")
    assert info.rebasable and info.stack_id == "io.pypack.test"
    assert info.metadata.run_image.top_layer == str(run.layers()[-1].diff_id)
    assert info.platform_api == "0.15"
    assert info.base_labels == {"io.buildpacks.base.distro.name": "debian",
                                "io.buildpacks.base.distro.version": "12"}


def test_describe_without_a_registry_prefers_nothing() -> None:
    img, _ = app_image()
    info = describe(img, "oci:x", source="OCI layout")
    assert [r.name for r in info.run_images] == [RUN_IMAGE, *RUN_MIRRORS]
    assert not any(r.preferred for r in info.run_images)


def test_to_dict_has_packs_keys_and_ours() -> None:
    img, run = app_image()
    d = describe(img, "x").to_dict()
    assert d["base_image"] == {"top_layer": str(run.layers()[-1].diff_id),
                               "reference": str(Digest.of(run.raw_manifest()))}
    assert d["buildpacks"] == [{"id": BP_ID, "version": "0.1.0",
                                "homepage": "https://example.com/sbom"}]
    assert d["processes"][0] == {"type": "web", "shell": "", "command": "python3",
                                 "default": True, "args": ["app.py", "--port", "8080"],
                                 "working-dir": "/workspace", "buildpack_id": BP_ID}
    assert d["project_source"]["version"] == {"commit": "0123abcd"}
    life = d["lifecycle"]
    assert life["launcher"]["version"] == "0.1.0" and life["exec_env"] == "production"
    assert life["sbom_layer"].startswith("sha256:")
    assert life["buildpack_layers"][0]["layers"]["deps"]["cache"] is True


@pytest.mark.parametrize(("value", "want"), [(None, True), ("true", True), ("false", False)])
def test_rebasable_label(value: str | None, want: bool) -> None:
    labels = {} if value is None else {lb.REBASABLE: value}
    assert rebasable(labels, "x") is want


def test_rebasable_label_must_be_a_boolean() -> None:
    with pytest.raises(ImageError, match="io.buildpacks.rebasable"):
        rebasable({lb.REBASABLE: "yes"}, "x")


def test_default_process_from_entrypoint() -> None:
    assert default_process_type(["/cnb/process/web"]) == "web"
    assert default_process_type(["/cnb/lifecycle/launcher"]) is None
    assert default_process_type(None) is None


def test_not_a_buildpacks_image() -> None:
    with pytest.raises(ImageError, match="not built with buildpacks"):
        describe(random_image(1), "plain")


def test_bad_label_names_image_and_label() -> None:
    img = mutate.with_labels(random_image(1), {lb.LIFECYCLE_METADATA: "{not json"})
    with pytest.raises(ImageError, match=r"plain: label io.buildpacks.lifecycle.metadata"):
        describe(img, "plain")


def test_output_envelope() -> None:
    img, _ = app_image()
    local = output(describe(img, "a", source="local store"))
    assert local["image_name"] == "a" and local["remote_info"] is None
    assert local["local_info"]["rebasable"] is True
    remote = output(describe(img, "a", source="registry"))
    assert remote["local_info"] is None and remote["remote_info"]["stack"] == "io.pypack.test"


def test_cli_json_from_the_store(stored: str) -> None:
    data = json.loads(_ok("inspect", stored, "--json"))
    info = data["local_info"]
    assert data["image_name"] == stored and data["remote_info"] is None
    assert info["source"] == "local store"
    assert [r["name"] for r in info["run_images"]] == [RUN_IMAGE, *RUN_MIRRORS]
    assert [p["type"] for p in info["processes"]] == ["web", "worker"]


def test_cli_human_readable(stored: str) -> None:
    out = _ok("inspect", stored)
    for needle in (f"Inspecting image: {stored} (local store)", "Base Image:", "Top Layer: sha256:",
                   "Run Images:", RUN_IMAGE, "Rebasable: true", "Buildpacks:", BP_ID,
                   "https://example.com/sbom", "Processes:", "web (default)", "app.py --port 8080",
                   "worker", "bash", "/srv", "Project Source:", "Type: git", "commit: 0123abcd",
                   "Lifecycle:", "SBOM layer:    sha256:", "Buildpack layers:", "launch,cache",
                   "Stack:        io.pypack.test", "distro.name: debian"):
        assert needle in out, needle


def test_cli_shows_user_configured_mirrors(stored: str, _no_user_config: Path) -> None:
    _ok("config", "run-image-mirrors", "add", RUN_IMAGE, "-m", "local.example/run:1")
    out = _ok("inspect", stored)
    assert "local.example/run:1  (user-configured)" in out
    data = json.loads(_ok("inspect", stored, "--json"))
    assert data["local_info"]["run_images"][0] == {"name": "local.example/run:1",
                                                   "user_configured": True}


def test_cli_bom_prints_the_sbom_documents(stored: str) -> None:
    data = json.loads(_ok("inspect", stored, "--bom"))
    docs = {d["path"]: d for d in data["sbom"]}
    deps = docs["layers/sbom/launch/test_sbom/deps/sbom.cdx.json"]
    assert deps["buildpack"] == BP_ID and deps["layer"] == "deps"
    assert deps["format"] == "cdx.json" and deps["media_type"] == "application/vnd.cyclonedx+json"
    assert deps["document"] == json.loads(DEPS_CDX)
    assert docs["layers/sbom/launch/test_sbom/sbom.cdx.json"]["layer"] is None


def test_cli_reads_an_oci_layout(tmp_path: Path) -> None:
    img, _ = app_image()
    client.write_image(img, f"oci:{tmp_path / 'lay'}:app", client.Context())
    data = json.loads(_ok("inspect", f"oci:{tmp_path / 'lay'}:app", "--json"))
    assert data["local_info"]["source"] == "OCI layout"
    assert data["local_info"]["digest"] == str(Digest.of(img.raw_manifest()))


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    client.write_image(random_image(1), f"oci:{tmp_path / 'plain'}:x", client.Context())
    res = CliRunner().invoke(_cli(), ["inspect", f"oci:{tmp_path / 'plain'}:x"])
    assert res.exit_code == 1
    assert "not built with buildpacks" in res.output
    res = CliRunner().invoke(_cli(), ["inspect", f"oci:{tmp_path / 'plain'}:x", "--remote"])
    assert res.exit_code == 1 and "--remote needs a registry reference" in res.output


def _cli():  # type: ignore[no-untyped-def]
    from lifecycle.cli.main import cli

    return cli
