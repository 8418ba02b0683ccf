"""``lifecycle.config`` and ``pypack config``: where the file is, pack's layout, edits through
the CLI (default builder, trusted builders, run-image and registry mirrors), unknown keys kept,
schema errors naming file and key, and registry-mirror translation."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lifecycle.config import (
    PypackConfig,
    RunImageMirrors,
    config_path,
    load_config,
    save_config,
)
from lifecycle.errors import FileFormatError, UsageError


@pytest.fixture()
def cfg_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("PYPACK_CONFIG", str(path))
    return path


def _pypack(*args: str) -> Result:
    from lifecycle.cli.main import cli

    return CliRunner().invoke(cli, ["config", *args])


def _ok(*args: str) -> str:
    res = _pypack(*args)
    assert res.exit_code == 0, res.output
    return res.output


def test_config_path_order() -> None:
    assert config_path({"PYPACK_CONFIG": "/x/c.toml", "XDG_CONFIG_HOME": "/y"}) == Path(
        "/x/c.toml")
    assert config_path({"XDG_CONFIG_HOME": "/y", "HOME": "/h"}) == Path(
        "/y/pypack/config.toml")
    assert config_path({"HOME": "/h"}) == Path("/h/.config/pypack/config.toml")


def test_missing_file_is_empty(cfg_file: Path) -> None:
    cfg = load_config()
    assert cfg == PypackConfig() and cfg.default_builder is None
    assert "No default builder is set" in _ok("default-builder")
    assert not cfg_file.exists()


def test_default_builder_set_show_unset(cfg_file: Path) -> None:
    assert "Builder acme/builder:1 is now the default builder" in _ok(
        "default-builder", "acme/builder:1")
    assert tomllib.loads(cfg_file.read_text()) == {"default-builder-image": "acme/builder:1"}
    assert load_config().default_builder == "acme/builder:1"
    assert "The current default builder is acme/builder:1" in _ok("default-builder")
    assert "Successfully unset default builder acme/builder:1" in _ok("default-builder", "--unset")
    assert load_config().default_builder is None
    assert "No default builder was set" in _ok("default-builder", "-u")


def test_default_builder_rejects_bad_names(cfg_file: Path) -> None:
    res = _pypack("default-builder", "Not A Ref")
    assert res.exit_code == 3 and "default-builder" in res.output
    res = _pypack("default-builder", "x", "--unset")
    assert res.exit_code == 3
    assert not cfg_file.exists()


def test_trusted_builders(cfg_file: Path) -> None:
    assert "Builder acme/b:1 is now trusted" in _ok("trusted-builders", "add", "acme/b:1")
    assert "already trusted" in _ok("trusted-builders", "add", "docker.io/acme/b:1")
    assert "already trusted" in _ok("trusted-builders", "add", "pypack/default-builder")
    listing = _ok("trusted-builders", "list")
    assert listing.splitlines() == ["Trusted Builders:", "  acme/b:1",
                                    "  pypack/default-builder"]
    assert _ok("trusted-builders") == listing
    assert tomllib.loads(cfg_file.read_text()) == {"trusted-builders": [{"name": "acme/b:1"}]}
    assert load_config().is_trusted("docker.io/acme/b:1")
    assert "no longer trusted" in _ok("trusted-builders", "remove", "acme/b:1")
    assert "wasn't trusted" in _ok("trusted-builders", "remove", "acme/b:1")
    res = _pypack("trusted-builders", "remove", "pypack/default-builder")
    assert res.exit_code == 3 and "known trusted builder" in res.output


def test_run_image_mirrors(cfg_file: Path) -> None:
    out = _ok("run-image-mirrors", "add", "acme/run:1", "-m", "b.example/run:1",
              "-m", "a.example/run:1")
    assert "Run Image acme/run:1 configured with mirror b.example/run:1" in out
    _ok("run-image-mirrors", "add", "acme/run:1", "-m", "a.example/run:1")
    _ok("run-image-mirrors", "add", "other/run:2", "-m", "c.example/run:2")
    data = tomllib.loads(cfg_file.read_text())
    assert data["run-images"] == [
        {"image": "acme/run:1", "mirrors": ["a.example/run:1", "b.example/run:1"]},
        {"image": "other/run:2", "mirrors": ["c.example/run:2"]}]
    assert load_config().run_image_mirrors("docker.io/acme/run:1") == (
        "a.example/run:1", "b.example/run:1")
    only = _ok("run-image-mirrors", "list", "acme/run:1")
    assert "acme/run:1:" in only and "other/run:2" not in only
    assert "Removed mirrors a.example/run:1 for acme/run:1" in _ok(
        "run-image-mirrors", "remove", "acme/run:1", "-m", "a.example/run:1")
    assert load_config().run_image_mirrors("acme/run:1") == ("b.example/run:1",)
    assert "Removed all run image mirrors for acme/run:1" in _ok(
        "run-image-mirrors", "remove", "acme/run:1")
    assert load_config().run_images == (RunImageMirrors("other/run:2", ("c.example/run:2",)),)
    assert "No run image mirrors have been set for acme/run:1" in _ok(
        "run-image-mirrors", "remove", "acme/run:1")
    res = _pypack("run-image-mirrors", "add", "acme/run:1")
    assert res.exit_code == 3  # --mirror is required


def test_registry_mirrors(cfg_file: Path) -> None:
    assert "No registry mirrors have been set" in _ok("registry-mirrors")
    assert "Registry index.docker.io configured with mirror 10.0.0.1" in _ok(
        "registry-mirrors", "add", "index.docker.io", "-m", "10.0.0.1")
    _ok("registry-mirrors", "add", "*", "--mirror", "mirror.example.com/all")
    assert tomllib.loads(cfg_file.read_text())["registry-mirrors"] == {
        "*": "mirror.example.com/all", "index.docker.io": "10.0.0.1"}
    assert "index.docker.io: 10.0.0.1" in _ok("registry-mirrors", "list")
    cfg = load_config()
    assert cfg.translate("busybox") == "10.0.0.1/library/busybox:latest"
    assert cfg.translate("quay.io/a/b@sha256:" + "1" * 64) == (
        "mirror.example.com/all/a/b@sha256:" + "1" * 64)
    assert "Removed mirror for *" in _ok("registry-mirrors", "remove", "*")
    assert load_config().translate("quay.io/a/b:1") == "quay.io/a/b:1"
    assert "No registry mirror has been set for *" in _ok("registry-mirrors", "remove", "*")
    assert _pypack("registry-mirrors", "add", "a/b", "-m", "x").exit_code == 3


def test_show_and_path(cfg_file: Path) -> None:
    _ok("default-builder", "acme/builder:1")
    _ok("registry-mirrors", "add", "docker.io", "-m", "m.example")
    text = _ok("show")
    for needle in (f"Config file: {cfg_file}", "Default builder: acme/builder:1",
                   "Trusted Builders:", "pypack/default-builder",
                   "No run image mirrors have been set", "docker.io: m.example"):
        assert needle in text, needle
    assert _ok() == text
    assert json.loads(_ok("show", "--json")) == {"default-builder-image": "acme/builder:1",
                                                 "registry-mirrors": {"docker.io": "m.example"}}
    assert _ok("path").strip() == str(cfg_file)


def test_unknown_and_pack_keys_are_kept(cfg_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg_file.parent.mkdir(parents=True)
    cfg_file.write_text('pull-policy = "always"\nmy-key = 1\n[[registries]]\nname = "r"\n'
                        'type = "github"\nurl = "https://example.com"\n')
    with caplog.at_level("WARNING", logger="lifecycle"):
        load_config()
    assert "unknown key 'my-key'" in caplog.text and "pull-policy" not in caplog.text
    _ok("default-builder", "acme/builder:1")
    data = tomllib.loads(cfg_file.read_text())
    assert data["pull-policy"] == "always" and data["my-key"] == 1
    assert data["registries"] == [{"name": "r", "type": "github", "url": "https://example.com"}]
    assert data["default-builder-image"] == "acme/builder:1"
    assert [p.name for p in cfg_file.parent.iterdir()] == ["config.toml"]  # no temp files


def test_invalid_file_names_file_and_key(cfg_file: Path) -> None:
    cfg_file.parent.mkdir(parents=True)
    cfg_file.write_text('[[trusted-builders]]\nimage = "x"\n')
    with pytest.raises(FileFormatError, match=r"config.toml: trusted-builders\[0\]"):
        load_config()
    res = _pypack("default-builder")
    assert res.exit_code == 1 and str(cfg_file) in res.output
    cfg_file.write_text("not toml = = \n")
    with pytest.raises(FileFormatError, match="invalid TOML"):
        load_config()


def test_pure_edits_leave_the_original() -> None:
    base = PypackConfig()
    edited = base.with_trusted_builder("a/b").with_run_image_mirrors("r", ("m",))
    assert base == PypackConfig() and edited.trusted_builders == ("a/b",)
    assert edited.without_run_image_mirrors("r", ("other",)).run_image_mirrors("r") == ("m",)
    with pytest.raises(UsageError):
        base.without_trusted_builder("docker.io/pypack/default-builder:latest")


def test_save_validates_and_round_trips(tmp_path: Path) -> None:
    cfg = PypackConfig(default_builder="a/b:1", trusted_builders=("a/b:1",),
                       run_images=(RunImageMirrors("r:1", ("m:1",)),),
                       registry_mirrors={"*": "m"}, extra={"experimental": True})
    path = save_config(cfg, tmp_path / "c.toml")
    assert load_config(path) == cfg
    with pytest.raises(UsageError):
        save_config(PypackConfig(default_builder="", run_images=(RunImageMirrors(""),)),
                    tmp_path / "bad.toml")
