"""Warm layers: unchanged cached layer dirs are kept, everything else goes."""

from __future__ import annotations

from pathlib import Path

from lifecycle.cache import CacheMetadata, Fingerprint, layer_key, restored
from lifecycle.phases import warm_layers
from lifecycle.phases.restore import BuildpackRestore, CachedLayer, RestorePlan

SALT = restored.salt("/layers/bp/venv", 1000, 1000, 315532801)


def _tree(root: Path) -> None:
    (root / "bp" / "venv").mkdir(parents=True)
    (root / "bp" / "venv" / "f").write_text("x")
    (root / "bp" / "launchonly").mkdir()
    (root / "bp" / "venv.toml").write_text("")
    (root / "other" / "old").mkdir(parents=True)
    (root / "config").mkdir()
    (root / "group.toml").write_text("")


def _plan() -> RestorePlan:
    return RestorePlan((BuildpackRestore("bp", "bp", extract=(CachedLayer("venv", "sha256:1"),)),))


def test_prune_keeps_only_layer_dirs(tmp_path: Path) -> None:
    _tree(tmp_path)
    warm_layers.prune(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "bp", "bp/launchonly", "bp/venv", "bp/venv/f", "other", "other/old"]


def test_unchanged_dir_is_kept_and_not_extracted(tmp_path: Path) -> None:
    _tree(tmp_path)
    warm_layers.prune(tmp_path)
    fp = restored.layer_fingerprint(tmp_path / "bp" / "venv", SALT)
    md = CacheMetadata(fingerprints={layer_key("bp", "venv"): Fingerprint(fp, "sha256:1")})
    plan = warm_layers.keep_unchanged(_plan(), tmp_path, md)
    assert plan.buildpacks[0].extract == ()
    assert (tmp_path / "bp" / "venv" / "f").read_text() == "x"
    assert not (tmp_path / "bp" / "launchonly").exists()
    assert not (tmp_path / "other").exists()


def test_changed_dir_is_deleted_and_extracted(tmp_path: Path) -> None:
    _tree(tmp_path)
    fp = restored.layer_fingerprint(tmp_path / "bp" / "venv", SALT)
    (tmp_path / "bp" / "venv" / "f").write_text("changed")
    md = CacheMetadata(fingerprints={layer_key("bp", "venv"): Fingerprint(fp, "sha256:1")})
    plan = warm_layers.keep_unchanged(_plan(), tmp_path, md)
    assert plan.buildpacks[0].extract == (CachedLayer("venv", "sha256:1"),)
    assert not (tmp_path / "bp" / "venv").exists()


def test_other_sha_is_extracted(tmp_path: Path) -> None:
    _tree(tmp_path)
    fp = restored.layer_fingerprint(tmp_path / "bp" / "venv", SALT)
    md = CacheMetadata(fingerprints={layer_key("bp", "venv"): Fingerprint(fp, "sha256:2")})
    plan = warm_layers.keep_unchanged(_plan(), tmp_path, md)
    assert len(plan.buildpacks[0].extract) == 1
