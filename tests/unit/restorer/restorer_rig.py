"""Fixtures for the restorer program tests: build #1's state made from the layer directories in
tests/testdata/restorer/<scenario>/ (image label, cache metadata and cached tars), and the
files the restorer reads (group.toml, analyzed.toml) in a temp layers directory."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import tomlfile
from lifecycle.cache import Cache, CacheMetadata
from lifecycle.oci.digest import Digest
from lifecycle.oci.tarball import tar_tree
from lifecycle.platform.files import analyzed as analyzed_file
from lifecycle.platform.files.analyzed import Analyzed, RunImage, TargetMetadata
from lifecycle.platform.labels import BuildpackLayersMetadata, LayerMetadata, LifecycleMetadata

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "restorer"
NODE, NODE_DIR = "example/node", "example_node"
NPM, NPM_DIR = "example/npm", "example_npm"
COMBOS: list[tuple[bool, bool, bool]] = [
    (b, c, la) for b in (True, False) for c in (True, False) for la in (True, False)]
"""(build, cache, launch) in the order of the spec table."""

EXPECTED = {  # the spec table: (metadata restored, contents restored)
    (True, True, True): (True, True), (True, True, False): (True, True),
    (True, False, True): (False, False), (True, False, False): (False, False),
    (False, True, True): (True, True), (False, True, False): (True, True),
    (False, False, True): (True, False), (False, False, False): (False, False)}

PINNED_RUN = RunImage(
    reference="registry.invalid/run@sha256:" + "a" * 64, image="registry.invalid/run:1",
    target=TargetMetadata(os="linux", arch="amd64"))
"""A run image already pinned with a target: the restorer must not contact its registry."""

ENV = {"CNB_PLATFORM_API": "0.15", "DOCKER_CONFIG": "/nonexistent"}


def layer_name(build: bool, cache: bool, launch: bool) -> str:
    return f"b{int(build)}c{int(cache)}l{int(launch)}"


def layer_tar(scenario: str, bp_dir: str, name: str) -> bytes:
    """The tar the exporter would cache: the directory at ``/layers/<bp>/<name>``."""
    src = TESTDATA / scenario / "layers" / bp_dir / name
    return b"".join(tar_tree(src, f"/layers/{bp_dir}/{name}"))


def diff_id(data: bytes) -> str:
    return str(Digest.of(data))


@dataclass(frozen=True)
class Build1:
    """What build #1 left: the image label, the cache metadata and the cached tars."""

    image: LifecycleMetadata
    cache: CacheMetadata
    tars: dict[str, bytes] = field(default_factory=dict)


def build1(scenario: str = "matrix", store: dict[str, Any] | None = None,
           exec_env: str | None = None) -> Build1:
    """Build #1 of ``example/node`` (one layer per table row) and ``example/npm`` (one cached
    layer), plus ``example/other`` (not in the group) in the image label."""
    launch: dict[str, LayerMetadata] = {}
    cached: dict[str, LayerMetadata] = {}
    tars: dict[str, bytes] = {}
    for build, cache, launch_ in COMBOS:
        name = layer_name(build, cache, launch_)
        tars[name] = layer_tar(scenario, NODE_DIR, name)
        md = LayerMetadata(diff_id(tars[name]), {"row": name}, build=build, launch=launch_,
                           cache=cache)
        if launch_:
            launch[name] = md
        if cache:
            cached[name] = md
    tars["modules"] = layer_tar(scenario, NPM_DIR, "modules")
    npm = LayerMetadata(diff_id(tars["modules"]), {"lock": "abc"}, build=True, cache=True)
    other = BuildpackLayersMetadata("example/other", "9", {"x": LayerMetadata(
        "sha256:" + "9" * 64, {}, launch=True)}, {"other": True})
    image = LifecycleMetadata(
        buildpacks=(BuildpackLayersMetadata(NODE, "1.0", launch, store), other),
        exec_env=exec_env)
    cache_md = CacheMetadata(buildpacks=(
        BuildpackLayersMetadata(NODE, "1.0", cached),
        BuildpackLayersMetadata(NPM, "2.1", {"modules": npm})))
    return Build1(image, cache_md, tars)


def fill(cache: Cache, b: Build1) -> None:
    """Stage the cached tars and metadata of build #1 into ``cache`` and commit."""
    cached = {m.sha for bp in b.cache.buildpacks for m in bp.layers.values()}
    for data in b.tars.values():
        if diff_id(data) in cached:
            cache.add_layer(io.BytesIO(data))
    cache.set_metadata(b.cache)
    cache.commit()


def write_inputs(layers: Path, b: Build1 | None, run_image: RunImage | None = PINNED_RUN,
                 scenario: str = "matrix") -> Path:
    """group.toml and analyzed.toml in ``layers``; returns the analyzed.toml path."""
    layers.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TESTDATA / scenario / "group.toml", layers / "group.toml")
    path = layers / "analyzed.toml"
    analyzed_file.dump(path, Analyzed(
        previous_image="registry.invalid/app@sha256:" + "b" * 64,
        metadata=b.image.to_toml() if b else {}, run_image=run_image))
    return path


def read_toml(path: Path) -> dict[str, Any]:
    return tomlfile.load(path)
