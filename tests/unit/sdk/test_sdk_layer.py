"""lifecycle.sdk.layer: restored metadata, reuse vs reset, exec.d/profile.d/SBOM files, and
``<layer>.toml`` as the lifecycle reads it (``lifecycle.buildpack.layers``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from lifecycle.buildpack import layers as lifecycle_layers
from lifecycle.sdk import Layer, SdkError


def restore(root: Path, name: str, metadata: str, contents: bool) -> None:
    """What a restorer leaves: ``<layer>.toml`` without ``[types]``, maybe the directory."""
    (root / f"{name}.toml").write_text(metadata)
    if contents:
        (root / name).mkdir()
        (root / name / "old-file").write_text("old")
        (root / f"{name}.sbom.cdx.json").write_text("{}")


def test_new_layer_is_reset_to_an_empty_directory(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "deps", launch=True, cache=True)
    assert not layer.restored and layer.metadata == {} and not layer.has_contents
    assert layer.reuse_if({"key": "1"}) is False
    assert layer.path.is_dir() and not any(layer.path.iterdir())
    assert layer.metadata == {"key": "1"}


def test_same_metadata_and_restored_contents_are_reused(tmp_path: Path) -> None:
    restore(tmp_path, "deps", '[metadata]\nkey = "1"\nlist = ["a", "b"]\n', contents=True)
    layer = Layer(tmp_path, "deps", launch=True, cache=True)
    assert layer.restored and layer.restored_metadata == {"key": "1", "list": ["a", "b"]}
    assert layer.reuse_if({"key": "1", "list": ("a", "b")}) is True
    assert (layer.path / "old-file").read_text() == "old"
    assert (tmp_path / "deps.sbom.cdx.json").exists()


def test_changed_metadata_resets_contents_and_sboms(tmp_path: Path) -> None:
    restore(tmp_path, "deps", '[metadata]\nkey = "1"\n', contents=True)
    layer = Layer(tmp_path, "deps", launch=True, cache=True)
    assert layer.reuse_if({"key": "2"}) is False
    assert layer.path.is_dir() and not (layer.path / "old-file").exists()
    assert not (tmp_path / "deps.sbom.cdx.json").exists()
    layer.write_toml()
    assert lifecycle_layers.load(tmp_path / "deps.toml").metadata == {"key": "2"}


def test_cached_layer_without_restored_contents_is_rebuilt(tmp_path: Path) -> None:
    restore(tmp_path, "deps", '[metadata]\nkey = "1"\n', contents=False)
    assert Layer(tmp_path, "deps", launch=True, cache=True).reuse_if({"key": "1"}) is False


def test_launch_only_layer_is_reused_from_the_previous_image(tmp_path: Path) -> None:
    restore(tmp_path, "runtime", '[metadata]\nversion = "1"\n', contents=False)
    layer = Layer(tmp_path, "runtime", launch=True)
    assert layer.reuse_if({"version": "1"}) is True
    assert not layer.has_contents  # the exporter takes the layer from the previous image
    layer.write_toml()
    parsed = lifecycle_layers.load(tmp_path / "runtime.toml")
    assert parsed.types.launch and not parsed.types.cache and parsed.metadata == {"version": "1"}


def test_layer_without_types_is_never_reused(tmp_path: Path) -> None:
    restore(tmp_path, "tmp", '[metadata]\nk = "1"\n', contents=True)
    assert Layer(tmp_path, "tmp").reuse_if({"k": "1"}) is False


def test_restored_types_are_ignored_and_rewritten(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("[types]\nlaunch = true\nbuild = true\n")
    layer = Layer(tmp_path, "x", cache=True)
    layer.reset()
    layer.write_toml()
    parsed = lifecycle_layers.load(tmp_path / "x.toml")
    assert (parsed.types.launch, parsed.types.build, parsed.types.cache) == (False, False, True)
    assert "metadata" not in (tmp_path / "x.toml").read_text()


def test_scripts_and_sbom(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "tools", launch=True)
    layer.reset()
    p = layer.exec_d("set-port", "#!/bin/sh\necho 'PORT = \"1\"' >&3\n")
    q = layer.exec_d("only-web", b"#!/bin/sh\n", process="web")
    r = layer.profile_d("greet.sh", "export GREETING=hi\n", process="worker")
    assert p == tmp_path / "tools" / "exec.d" / "set-port"
    assert q == tmp_path / "tools" / "exec.d" / "web" / "only-web"
    assert r == tmp_path / "tools" / "profile.d" / "worker" / "greet.sh"
    assert all(stat.S_IMODE(x.stat().st_mode) == 0o755 for x in (p, q, r))
    assert layer.sbom("cdx", {"bomFormat": "CycloneDX"}).name == "tools.sbom.cdx.json"
    assert layer.sbom("application/spdx+json", "{}").name == "tools.sbom.spdx.json"
    assert layer.sbom("syft.json", b"{}").name == "tools.sbom.syft.json"
    with pytest.raises(SdkError, match="unknown SBOM format"):
        layer.sbom("xml", "")
    with pytest.raises(SdkError):
        layer.exec_d("a/b", "")


def test_remove_deletes_everything(tmp_path: Path) -> None:
    restore(tmp_path, "old", '[metadata]\nk = "1"\n', contents=True)
    layer = Layer(tmp_path, "old", cache=True)
    layer.remove()
    layer.write_toml()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "build", "launch", "store", "a/b", ".hidden", "x.ignore"])
def test_invalid_layer_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(SdkError, match="invalid layer name"):
        Layer(tmp_path, name)


def test_metadata_must_be_toml(tmp_path: Path) -> None:
    with pytest.raises(SdkError):
        Layer(tmp_path, "x", cache=True).reuse_if({"bad": None})
