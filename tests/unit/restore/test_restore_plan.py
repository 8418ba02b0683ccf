"""The pure restore plan against the Buildpack API 0.12 restore table (cnb-digest §2.7, §8 #17),
for each types combination x previous-image metadata present/absent x cache present/absent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from restore_fixtures import BP_DIR, BP_ID, COMBOS, build1, layer_name

from lifecycle.cache import CacheMetadata
from lifecycle.phases.restore import CachedLayer, plan_restore
from lifecycle.platform.labels import BuildpackLayersMetadata, LayerMetadata, LifecycleMetadata

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "restore"


@dataclass(frozen=True)
class Entry:
    id: str
    version: str = "1.0"
    api: str = "0.12"


T, F = True, False
# (build, cache, launch): (metadata restored, contents restored), per which metadata exists.
TABLE = {
    # the spec table: previous image and cache both present
    "image+cache": {
        (T, T, T): (T, T), (T, T, F): (T, T), (T, F, T): (F, F), (T, F, F): (F, F),
        (F, T, T): (T, T), (F, T, F): (T, T), (F, F, T): (T, F), (F, F, F): (F, F)},
    # no cache: only launch-only layers come back (metadata), cache=true layers never do
    "image-only": {
        (T, T, T): (F, F), (T, T, F): (F, F), (T, F, T): (F, F), (T, F, F): (F, F),
        (F, T, T): (F, F), (F, T, F): (F, F), (F, F, T): (T, F), (F, F, F): (F, F)},
    # no previous image: every cache=true layer comes back from the cache (Platform >= 0.14)
    "cache-only": {
        (T, T, T): (T, T), (T, T, F): (T, T), (T, F, T): (F, F), (T, F, F): (F, F),
        (F, T, T): (T, T), (F, T, F): (T, T), (F, F, T): (F, F), (F, F, F): (F, F)},
    "neither": {combo: (F, F) for combo in COMBOS},
}


def _inputs(which: str) -> tuple[LifecycleMetadata | None, CacheMetadata | None]:
    b = build1()
    image = b.image if which in ("image+cache", "image-only") else None
    cache = b.cache if which in ("image+cache", "cache-only") else None
    return image, cache


@pytest.mark.parametrize("which", list(TABLE))
@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: layer_name(*c))
def test_restore_table(which: str, combo: tuple[bool, bool, bool]) -> None:
    image, cache = _inputs(which)
    plan = plan_restore([Entry(BP_ID)], image, cache, skip_layers=False)
    (bp,) = plan.buildpacks
    name = layer_name(*combo)
    want_toml, want_data = TABLE[which][combo]
    tomls = {t.name: t for t in bp.layer_tomls}
    assert (name in tomls) == want_toml
    assert (name in {e.name for e in bp.extract}) == want_data
    if want_toml:
        assert tomls[name].metadata == {"row": name}
    if want_data:       # metadata and contents: both or neither
        assert name in tomls
    assert bp.directory == BP_DIR


def test_metadata_source_prefers_image_for_launch_layers() -> None:
    image, cache = _inputs("image+cache")
    (bp,) = plan_restore([Entry(BP_ID)], image, cache, skip_layers=False).buildpacks
    sources = {t.name: t.source for t in bp.layer_tomls}
    assert sources == {"b1c1l1": "image", "b0c1l1": "image", "b0c0l1": "image",
                       "b1c1l0": "cache", "b0c1l0": "cache"}


def test_sha_mismatch_removes_layer() -> None:
    image, cache = _inputs("image+cache")
    assert image is not None
    bp_md = image.buildpacks[0]
    other = "sha256:" + "f" * 64
    changed = {**bp_md.layers, "b0c1l1": replace(bp_md.layers["b0c1l1"], sha=other)}
    image = replace(image, buildpacks=(replace(bp_md, layers=changed),))
    (bp,) = plan_restore([Entry(BP_ID)], image, cache, skip_layers=False).buildpacks
    assert "b0c1l1" not in {t.name for t in bp.layer_tomls}
    assert "b0c1l1" not in {e.name for e in bp.extract}
    assert bp.remove == ("b0c1l1",)
    assert {e.name for e in bp.extract} == {"b1c1l1", "b1c1l0", "b0c1l0"}


def test_cache_flag_must_hold_in_cache_metadata() -> None:
    image, cache = _inputs("image+cache")
    assert cache is not None
    cbp = cache.buildpacks[0]
    layers = {n: replace(m, cache=False) if n == "b0c1l1" else m for n, m in cbp.layers.items()}
    cache = replace(cache, buildpacks=(replace(cbp, layers=layers),))
    (bp,) = plan_restore([Entry(BP_ID)], image, cache, skip_layers=False).buildpacks
    assert "b0c1l1" not in {t.name for t in bp.layer_tomls}
    assert "b0c1l1" not in bp.remove       # not cache=true in the cache: nothing to clean


def test_skip_layers_still_writes_store() -> None:
    b = build1(store={"counter": 2})
    plan = plan_restore([Entry(BP_ID)], b.image, b.cache, skip_layers=True)
    (bp,) = plan.buildpacks
    assert bp.store == {"counter": 2}
    assert bp.layer_tomls == () and bp.extract == () and bp.remove == ()
    assert plan.skip_layers and plan.cache_sbom is None


def test_store_from_image_metadata_only_for_group_members() -> None:
    image = LifecycleMetadata(buildpacks=(
        BuildpackLayersMetadata("a", "1", store={"x": 1}),
        BuildpackLayersMetadata("b", "1"),
        BuildpackLayersMetadata("gone", "1", store={"y": 2})))
    plan = plan_restore([Entry("a"), Entry("b"), Entry("c/d")], image, None, skip_layers=False)
    assert [(bp.id, bp.directory, bp.store) for bp in plan.buildpacks] == [
        ("a", "a", {"x": 1}), ("b", "b", None), ("c/d", "c_d", None)]


def test_cache_sbom_planned() -> None:
    cache = CacheMetadata(sbom="sha256:" + "1" * 64)
    assert plan_restore([], None, cache, skip_layers=False).cache_sbom == "sha256:" + "1" * 64
    assert plan_restore([], None, None, skip_layers=False).cache_sbom is None


def test_go_written_metadata() -> None:
    image = LifecycleMetadata.from_json((TESTDATA / "go-lifecycle-metadata.json").read_text())
    cache = CacheMetadata.from_json((TESTDATA / "go-cache-metadata.json").read_text())
    plan = plan_restore([Entry("example/node"), Entry("example/procfile")], image, cache,
                        skip_layers=False)
    node, procfile = plan.buildpacks
    assert node.store == {"runs": 3}
    assert [(t.name, t.source) for t in node.layer_tomls] == [
        ("modules", "image"), ("node", "image"), ("npm-cache", "cache")]
    assert node.extract == (CachedLayer("node", "sha256:" + "3" * 64),
                            CachedLayer("npm-cache", "sha256:" + "a" * 64))
    assert procfile.layer_tomls == () and procfile.store is None


def test_empty_data_and_unknown_flags() -> None:
    cache = CacheMetadata(buildpacks=(BuildpackLayersMetadata(
        BP_ID, "1", {"x": LayerMetadata("", {}, cache=True)}),))
    (bp,) = plan_restore([Entry(BP_ID)], None, cache, skip_layers=False).buildpacks
    assert bp.extract == () and bp.remove == ("x",)    # no sha recorded: cannot trust it
