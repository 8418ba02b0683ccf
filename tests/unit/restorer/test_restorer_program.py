"""The restore table through the ``restorer`` program with a volume cache (buildpack.md "Layer
Types", platform.md "restorer"): every row, store.toml, group members only, -skip-layers, SHA
mismatch, no cache, exec-env change. The pure plan and its application are tested in
tests/unit/restore; here the program reads group.toml/analyzed.toml and opens the cache."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from restorer_rig import (
    COMBOS,
    ENV,
    EXPECTED,
    NODE_DIR,
    NPM_DIR,
    Build1,
    build1,
    fill,
    layer_name,
    read_toml,
    write_inputs,
)

from lifecycle.cache import Fingerprint, VolumeCache, layer_key
from lifecycle.cache import restored as restored_file
from lifecycle.cli.phase_restorer import run
from lifecycle.phases.restore_run import image_metadata, run_image_needs_pinning
from lifecycle.platform.files.analyzed import Analyzed, RunImage, TargetMetadata


def _restore(tmp: Path, b: Build1, *args: str, env: dict[str, str] | None = None,
             cache: bool = True) -> Path:
    layers = tmp / "layers"
    write_inputs(layers, b)
    argv = ["-layers", str(layers), *args]
    if cache:
        fill(VolumeCache(tmp / "cache"), b)
        argv += ["-cache-dir", str(tmp / "cache")]
    assert run(argv, {**ENV, **(env or {})}) == 0
    return layers


@pytest.fixture(scope="module")
def restored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One program run over build #1 (all rows); the tests below read its result. The program
    configures the ``lifecycle`` logger before the suite's per-test fixture saves it: undo."""
    logger = logging.getLogger("lifecycle")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield _restore(tmp_path_factory.mktemp("matrix"), build1(store={"count": 7}))
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


@pytest.mark.parametrize("combo", COMBOS, ids=[layer_name(*c) for c in COMBOS])
def test_restore_table_row(restored: Path, combo: tuple[bool, bool, bool]) -> None:
    name = layer_name(*combo)
    bp = restored / NODE_DIR
    want_toml, want_data = EXPECTED[combo]
    assert (bp / f"{name}.toml").exists() == want_toml
    assert (bp / name).exists() == want_data
    if want_toml:  # [metadata] only: the buildpack must set the types again
        assert read_toml(bp / f"{name}.toml") == {"metadata": {"row": name}}
    if want_data:
        assert (bp / name / "content.txt").read_text() == f"{name}\n"
        tool = bp / name / "bin" / "tool"
        assert tool.read_text().startswith("#!/bin/sh")
        assert os.stat(tool).st_mode & stat.S_IXUSR


def test_store_toml_and_second_buildpack(restored: Path) -> None:
    assert read_toml(restored / NODE_DIR / "store.toml") == {"metadata": {"count": 7}}
    npm = restored / NPM_DIR
    assert read_toml(npm / "modules.toml") == {"metadata": {"lock": "abc"}}
    assert (npm / "modules" / "content.txt").read_text() == "left-pad\n"
    assert not (npm / "store.toml").exists()


def test_only_group_buildpacks_are_restored(restored: Path) -> None:
    assert sorted(p.name for p in restored.iterdir()) == [
        "analyzed.toml", NODE_DIR, NPM_DIR, "group.toml"]


def test_skip_layers_writes_only_store_toml(tmp_path: Path) -> None:
    layers = _restore(tmp_path, build1(store={"count": 1}), env={"CNB_SKIP_LAYERS": "true"})
    assert sorted(os.listdir(layers / NODE_DIR)) == ["store.toml"]
    assert os.listdir(layers / NPM_DIR) == []


def test_no_cache_restores_launch_only_metadata(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    layers = _restore(tmp_path, build1(), cache=False)
    assert "No cache given" in capsys.readouterr().out
    assert sorted(os.listdir(layers / NODE_DIR)) == ["b0c0l1.toml"]


def test_empty_cache_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layers = tmp_path / "layers"
    write_inputs(layers, build1())
    assert run(["-layers", str(layers), "-cache-dir", str(tmp_path / "new-cache")], ENV) == 0
    assert sorted(os.listdir(layers / NODE_DIR)) == ["b0c0l1.toml"]


def test_sha_mismatch_removes_stale_layer(tmp_path: Path) -> None:
    b = build1()
    node = b.image.buildpacks[0]
    stale = replace(node.layers["b1c1l1"], sha="sha256:" + "e" * 64)
    b = replace(b, image=replace(b.image, buildpacks=(
        replace(node, layers={**node.layers, "b1c1l1": stale}), *b.image.buildpacks[1:])))
    bp = tmp_path / "layers" / NODE_DIR
    (bp / "b1c1l1").mkdir(parents=True)
    (bp / "b1c1l1" / "old.txt").write_text("stale")
    (bp / "b1c1l1.sha").write_text("old")
    layers = _restore(tmp_path, b)
    for suffix in ("", ".toml", ".sha"):
        assert not (layers / NODE_DIR / f"b1c1l1{suffix}").exists()
    assert (layers / NODE_DIR / "b0c1l1" / "content.txt").exists()


def test_other_exec_env_drops_image_layer_metadata(tmp_path: Path) -> None:
    layers = _restore(tmp_path, build1(store={"k": "v"}, exec_env="test"))
    bp = layers / NODE_DIR
    assert (bp / "store.toml").exists()
    assert not (bp / "b0c0l1.toml").exists()        # launch-only: came from the image only
    assert (bp / "b1c1l1.toml").exists()            # cached layers still come from the cache
    assert (bp / "b1c1l1" / "content.txt").exists()


def test_same_exec_env_keeps_image_layer_metadata(tmp_path: Path) -> None:
    layers = _restore(tmp_path, build1(exec_env="test"), env={"CNB_EXEC_ENV": "test"})
    assert (layers / NODE_DIR / "b0c0l1.toml").exists()


def test_image_metadata_helper() -> None:
    b = build1(exec_env="development")
    a = Analyzed(metadata=b.image.to_toml())
    md = image_metadata(a, "production")
    assert md is not None and all(not bp.layers for bp in md.buildpacks)
    assert image_metadata(a, "development") == b.image
    assert image_metadata(Analyzed(), "production") is None
    assert image_metadata(Analyzed(metadata={"buildpacks": "nope"}), "production") is None


@pytest.mark.parametrize(("ri", "needs"), [
    (RunImage("r.example/run@sha256:" + "a" * 64, "r.example/run", target=TargetMetadata("linux")),
     False),
    (RunImage("r.example/run:1", "r.example/run", target=TargetMetadata("linux")), True),
    (RunImage("r.example/run@sha256:" + "a" * 64, "r.example/run"), True),
    (RunImage("r.example/run@sha256:" + "a" * 64, "r.example/run", target=TargetMetadata()),
     True),
    (RunImage("", "r.example/run"), True),
])
def test_run_image_needs_pinning(ri: RunImage, needs: bool) -> None:
    assert run_image_needs_pinning(ri) is needs


def test_restored_layers_fingerprints_are_recorded(tmp_path: Path) -> None:
    """A cached layer whose export recorded a fingerprint: the restorer records the restored
    directory's, for the exporter's no-re-tar fast path."""
    b = build1()
    sha = b.cache.buildpacks[0].layers["b1c1l1"].sha
    fps = {layer_key("example/node", "b1c1l1"): Fingerprint("0123456789abcdef|old", sha),
           layer_key("example/node", "b0c1l0"): Fingerprint("0123456789abcdef|old",
                                                            "sha256:" + "f" * 64)}
    b = replace(b, cache=replace(b.cache, fingerprints=fps))
    layers = _restore(tmp_path, b)
    got = restored_file.load(layers)
    assert set(got) == {"example/node:b1c1l1"}              # the other sha no longer matches
    assert got["example/node:b1c1l1"].sha == sha
    assert got["example/node:b1c1l1"].fingerprint.startswith("0123456789abcdef|")
