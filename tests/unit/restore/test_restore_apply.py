"""Applying a restore plan on disk with a real volume cache (cnb-digest §2.7, §8 #17-18):
store.toml, metadata-only <layer>.toml, extracted contents, SHA-mismatch removal, safe
extraction, SBOM copy."""

from __future__ import annotations

import io
import os
import tarfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from restore_fixtures import (
    BP_DIR,
    BP_ID,
    COMBOS,
    build1,
    layer_name,
    layer_tar,
    make_tar,
    sha,
)

from lifecycle.cache import CacheMetadata, VolumeCache
from lifecycle.errors import RestoreError
from lifecycle.phases.restore import apply_restore, plan_restore
from lifecycle.platform.labels import BuildpackLayersMetadata, LayerMetadata

EXPECTED = {  # the spec table (image + cache): (metadata restored, contents restored)
    (True, True, True): (True, True), (True, True, False): (True, True),
    (True, False, True): (False, False), (True, False, False): (False, False),
    (False, True, True): (True, True), (False, True, False): (True, True),
    (False, False, True): (True, False), (False, False, False): (False, False)}


@dataclass(frozen=True)
class Entry:
    id: str


def fill_cache(root: Path, tars: dict[str, bytes], md: CacheMetadata) -> VolumeCache:
    c = VolumeCache(root)
    for data in tars.values():
        c.add_layer(io.BytesIO(data))
    c.set_metadata(md)
    c.commit()
    return VolumeCache(root)


def read_toml(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text())


def test_restore_matrix_on_disk(tmp_path: Path) -> None:
    b = build1(store={"count": 7})
    cache = fill_cache(tmp_path / "cache", b.tars, b.cache)
    layers = tmp_path / "layers"
    plan = plan_restore([Entry(BP_ID)], b.image, cache.metadata(), skip_layers=False)
    assert apply_restore(plan, layers, cache) == ()
    bp_dir = layers / BP_DIR
    assert read_toml(bp_dir / "store.toml") == {"metadata": {"count": 7}}
    for combo in COMBOS:
        name = layer_name(*combo)
        want_toml, want_data = EXPECTED[combo]
        assert (bp_dir / f"{name}.toml").exists() == want_toml, name
        assert (bp_dir / name).exists() == want_data, name
        if want_toml:      # [metadata] only, never [types]
            assert read_toml(bp_dir / f"{name}.toml") == {"metadata": {"row": name}}
        if want_data:
            assert (bp_dir / name / "content.txt").read_text() == name
    assert sorted(os.listdir(layers)) == [BP_DIR]


def test_sha_mismatch_deletes_dir_toml_and_sha(tmp_path: Path) -> None:
    b = build1()
    bp_md = b.image.buildpacks[0]
    wrong = {**bp_md.layers, "b0c1l1": replace(bp_md.layers["b0c1l1"], sha="sha256:" + "e" * 64)}
    image = replace(b.image, buildpacks=(replace(bp_md, layers=wrong),))
    cache = fill_cache(tmp_path / "cache", b.tars, b.cache)
    bp_dir = tmp_path / "layers" / BP_DIR
    (bp_dir / "b0c1l1").mkdir(parents=True)         # leftovers from somewhere else
    (bp_dir / "b0c1l1" / "stale").write_text("x")
    (bp_dir / "b0c1l1.toml").write_text("[metadata]\n")
    (bp_dir / "b0c1l1.sha").write_text("sha256:" + "e" * 64)
    plan = plan_restore([Entry(BP_ID)], image, cache.metadata(), skip_layers=False)
    apply_restore(plan, tmp_path / "layers", cache)
    assert not any(p.name.startswith("b0c1l1") for p in bp_dir.iterdir())
    assert (bp_dir / "b1c1l1" / "content.txt").exists()


def test_skip_layers_writes_only_store(tmp_path: Path) -> None:
    b = build1(store={"k": "v"})
    cache = fill_cache(tmp_path / "cache", b.tars, b.cache)
    plan = plan_restore([Entry(BP_ID)], b.image, cache.metadata(), skip_layers=True)
    apply_restore(plan, tmp_path / "layers", cache)
    assert os.listdir(tmp_path / "layers" / BP_DIR) == ["store.toml"]


def test_corrupt_cached_tar_is_skipped_and_removed(tmp_path: Path) -> None:
    b = build1()
    cache = fill_cache(tmp_path / "cache", b.tars, b.cache)
    victim = tmp_path / "cache" / "committed" / (sha(b.tars["b1c1l0"]) + ".tar")
    victim.write_bytes(victim.read_bytes()[:-1] + b"\1")
    (tmp_path / "cache" / "committed" / (sha(b.tars["b0c1l0"]) + ".tar")).unlink()
    plan = plan_restore([Entry(BP_ID)], b.image, cache.metadata(), skip_layers=False)
    failed = apply_restore(plan, tmp_path / "layers", cache)
    assert failed == (f"{BP_ID}:b0c1l0", f"{BP_ID}:b1c1l0")
    bp_dir = tmp_path / "layers" / BP_DIR
    for name in ("b0c1l0", "b1c1l0"):           # both or neither
        assert not (bp_dir / name).exists() and not (bp_dir / f"{name}.toml").exists()
    assert (bp_dir / "b1c1l1" / "content.txt").exists()


def _single_layer_cache(tmp_path: Path, tar: bytes) -> tuple[VolumeCache, CacheMetadata]:
    md = CacheMetadata(buildpacks=(BuildpackLayersMetadata(
        BP_ID, "1", {"lay": LayerMetadata(sha(tar), {"a": 1}, cache=True)}),))
    return fill_cache(tmp_path / "cache", {"lay": tar}, md), md


def test_tar_root_is_mapped_and_absolute_symlinks_kept(tmp_path: Path) -> None:
    tar = make_tar({"/build/layers/": None, f"/build/layers/{BP_DIR}/lay/": None,
                    f"/build/layers/{BP_DIR}/lay/bin/": None,
                    f"/build/layers/{BP_DIR}/lay/bin/tool": b"#!/bin/sh\n"},
                   symlinks={f"/build/layers/{BP_DIR}/lay/bin/python": "/usr/bin/python3",
                             f"/build/layers/{BP_DIR}/lay/rel": "bin/tool"})
    cache, md = _single_layer_cache(tmp_path, tar)
    plan = plan_restore([Entry(BP_ID)], None, md, skip_layers=False)
    assert apply_restore(plan, tmp_path / "layers", cache) == ()
    lay = tmp_path / "layers" / BP_DIR / "lay"
    assert (lay / "bin" / "tool").read_bytes() == b"#!/bin/sh\n"
    assert os.readlink(lay / "bin" / "python") == "/usr/bin/python3"
    assert (lay / "rel").read_bytes() == b"#!/bin/sh\n"
    assert not (tmp_path / "layers" / "build").exists()


@pytest.mark.parametrize("bad", [
    {f"layers/{BP_DIR}/lay/ok": b"1", f"layers/{BP_DIR}/other/x": b"2"},
    {f"layers/{BP_DIR}/lay/../../../escape": b"1"},
    {"etc/passwd": b"x"},
])
def test_entries_outside_the_layer_are_refused(tmp_path: Path, bad: dict[str, bytes]) -> None:
    cache, md = _single_layer_cache(tmp_path, make_tar(dict(bad)))
    plan = plan_restore([Entry(BP_ID)], None, md, skip_layers=False)
    assert apply_restore(plan, tmp_path / "layers", cache) == (f"{BP_ID}:lay",)
    assert os.listdir(tmp_path / "layers" / BP_DIR) == []
    assert not (tmp_path / "escape").exists() and not (tmp_path / "etc").exists()


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    tar = make_tar({f"layers/{BP_DIR}/lay/": None}, symlinks={
        f"layers/{BP_DIR}/lay/up": "../../../../outside"})
    cache, md = _single_layer_cache(tmp_path, tar)
    plan = plan_restore([Entry(BP_ID)], None, md, skip_layers=False)
    assert apply_restore(plan, tmp_path / "layers", cache) == (f"{BP_ID}:lay",)


def test_explicit_tar_root(tmp_path: Path) -> None:
    tar = layer_tar(BP_DIR, "lay", root="/x/lay")   # a root that itself ends in the layer name
    cache, md = _single_layer_cache(tmp_path, tar)
    plan = plan_restore([Entry(BP_ID)], None, md, skip_layers=False)
    assert apply_restore(plan, tmp_path / "layers", cache, tar_root="/x/lay") == ()
    assert (tmp_path / "layers" / BP_DIR / "lay" / "content.txt").read_text() == "lay"


def test_sbom_restore(tmp_path: Path) -> None:
    b = build1()
    sbom_tar = make_tar({
        "layers/sbom/cache/": None,
        f"layers/sbom/cache/{BP_DIR}/b1c1l0/sbom.cdx.json": b'{"c": 1}',
        "layers/sbom/cache/other_bp/x/sbom.cdx.json": b"{}"})
    md = replace(b.cache, sbom=sha(sbom_tar))
    cache = fill_cache(tmp_path / "cache", {**b.tars, "sbom": sbom_tar}, md)
    layers = tmp_path / "layers"
    launch = layers / "sbom" / "launch" / BP_DIR / "b0c0l1"
    launch.mkdir(parents=True)                        # what the analyzer extracted
    (launch / "sbom.spdx.json").write_text("{}")
    plan = plan_restore([Entry(BP_ID)], b.image, cache.metadata(), skip_layers=False)
    assert plan.cache_sbom == sha(sbom_tar)
    apply_restore(plan, layers, cache)
    assert (layers / BP_DIR / "b1c1l0.sbom.cdx.json").read_text() == '{"c": 1}'
    assert (layers / BP_DIR / "b0c0l1.sbom.spdx.json").exists()
    assert not (layers / "sbom").exists() and not (layers / "other_bp").exists()


def test_no_cache_given(tmp_path: Path) -> None:
    b = build1()
    plan = plan_restore([Entry(BP_ID)], b.image, None, skip_layers=False)
    apply_restore(plan, tmp_path / "layers", None)
    assert sorted(os.listdir(tmp_path / "layers" / BP_DIR)) == ["b0c0l1.toml"]
    with pytest.raises(RestoreError, match="no cache"):
        apply_restore(plan_restore([Entry(BP_ID)], b.image, b.cache, skip_layers=False),
                      tmp_path / "layers", None)


def _hardlink_tar(target: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(f"layers/{BP_DIR}/lay/a")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"hi"))
        link = tarfile.TarInfo(f"layers/{BP_DIR}/lay/b")
        link.type, link.linkname = tarfile.LNKTYPE, target
        tf.addfile(link)
    return buf.getvalue()


def test_hard_links_are_mapped(tmp_path: Path) -> None:
    cache, md = _single_layer_cache(tmp_path, _hardlink_tar(f"layers/{BP_DIR}/lay/a"))
    plan = plan_restore([Entry(BP_ID)], None, md, skip_layers=False)
    assert apply_restore(plan, tmp_path / "layers", cache) == ()
    lay = tmp_path / "layers" / BP_DIR / "lay"
    assert (lay / "b").read_bytes() == b"hi"
    assert os.stat(lay / "a").st_ino == os.stat(lay / "b").st_ino


def test_hard_link_outside_is_refused(tmp_path: Path) -> None:
    cache, md = _single_layer_cache(tmp_path, _hardlink_tar("etc/shadow"))
    plan = plan_restore([Entry(BP_ID)], None, md, skip_layers=False)
    assert apply_restore(plan, tmp_path / "layers", cache) == (f"{BP_ID}:lay",)
