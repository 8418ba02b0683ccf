"""The volume cache (cnb-digest §4.8): Go on-disk format, stage then commit, hard-link reuse,
crash recovery, refusing writes after commit, diffID verification."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from lifecycle.cache import (
    Cache,
    CacheCommittedError,
    CacheError,
    CacheMetadata,
    CacheReadError,
    Fingerprint,
    VolumeCache,
)
from lifecycle.errors import DigestMismatchError
from lifecycle.platform.labels import BuildpackLayersMetadata, LayerMetadata

MD_FILE = "io.buildpacks.lifecycle.cache.metadata"


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def diff_id(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_all(cache: Cache, did: str) -> bytes:
    stream = cache.retrieve(did)
    try:
        out = b""
        while chunk := stream.read(7):
            out += chunk
        return out
    finally:
        stream.close()


def metadata_for(*shas: str) -> CacheMetadata:
    layers = {f"l{i}": LayerMetadata(s, {"i": i}, cache=True) for i, s in enumerate(shas)}
    return CacheMetadata(buildpacks=(BuildpackLayersMetadata("bp", "1", layers),),
                         fingerprints={"bp:l0": Fingerprint("fp", shas[0])} if shas else {})


@pytest.fixture
def tar_a() -> bytes:
    return layer_tar({"layers/bp/l0/a.txt": b"A" * 3000})


@pytest.fixture
def tar_b() -> bytes:
    return layer_tar({"layers/bp/l1/b.txt": b"B"})


def committed_cache(root: Path, *tars: bytes) -> VolumeCache:
    c = VolumeCache(root)
    for t in tars:
        c.add_layer(io.BytesIO(t))
    c.set_metadata(metadata_for(*(diff_id(t) for t in tars)))
    c.commit()
    return c


def test_new_cache_is_empty(tmp_path: Path) -> None:
    c = VolumeCache(tmp_path / "cache")
    assert c.exists() and c.name == str(tmp_path / "cache")
    assert c.metadata() == CacheMetadata()
    assert sorted(os.listdir(tmp_path / "cache")) == ["committed", "staging"]


def test_stage_then_commit_go_layout(tmp_path: Path, tar_a: bytes, tar_b: bytes) -> None:
    c = VolumeCache(tmp_path)
    src = tmp_path / "b.tar"
    src.write_bytes(tar_b)
    assert c.add_layer(io.BytesIO(tar_a)) == diff_id(tar_a)
    assert c.add_layer(src, diff_id(tar_b)) == diff_id(tar_b)
    md = metadata_for(diff_id(tar_a), diff_id(tar_b))
    c.set_metadata(md)
    assert not c.has_layer(diff_id(tar_a))          # nothing visible before commit
    assert c.metadata() == CacheMetadata()
    c.commit()
    committed = tmp_path / "committed"
    assert sorted(os.listdir(committed)) == sorted(
        [MD_FILE, diff_id(tar_a) + ".tar", diff_id(tar_b) + ".tar"])
    assert not (tmp_path / "committed-backup").exists()
    assert json.loads((committed / MD_FILE).read_text())["buildpacks"][0]["key"] == "bp"
    reopened = VolumeCache(tmp_path)
    assert reopened.metadata() == md
    assert read_all(reopened, diff_id(tar_a)) == tar_a
    assert reopened.has_layer(diff_id(tar_b))


def test_add_layer_verifies_diff_id(tmp_path: Path, tar_a: bytes, tar_b: bytes) -> None:
    c = VolumeCache(tmp_path)
    with pytest.raises(CacheError, match="hashes to"):
        c.add_layer(io.BytesIO(tar_a), diff_id(tar_b))
    assert os.listdir(tmp_path / "staging") == []
    with pytest.raises(CacheError, match="invalid layer diffID"):
        c.add_layer(io.BytesIO(tar_a), "sha256:nothex")


def test_unchanged_layer_is_hard_linked(tmp_path: Path, tar_a: bytes, tar_b: bytes) -> None:
    committed_cache(tmp_path, tar_a, tar_b)
    old_inode = os.stat(tmp_path / "committed" / (diff_id(tar_a) + ".tar")).st_ino
    c = VolumeCache(tmp_path)
    c.reuse_layer(diff_id(tar_a))
    c.reuse_layer(diff_id(tar_a))                     # idempotent
    c.set_metadata(metadata_for(diff_id(tar_a)))
    c.commit()
    files = sorted(os.listdir(tmp_path / "committed"))
    assert files == sorted([MD_FILE, diff_id(tar_a) + ".tar"])   # b was not kept
    assert os.stat(tmp_path / "committed" / (diff_id(tar_a) + ".tar")).st_ino == old_inode


def test_reuse_copies_when_link_fails(tmp_path: Path, tar_a: bytes,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    committed_cache(tmp_path, tar_a)
    c = VolumeCache(tmp_path)

    def no_link(*_: Any) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    c.reuse_layer(diff_id(tar_a))
    c.commit()
    assert read_all(VolumeCache(tmp_path), diff_id(tar_a)) == tar_a


def test_reuse_of_missing_layer(tmp_path: Path, tar_a: bytes) -> None:
    with pytest.raises(CacheReadError, match="not cached"):
        VolumeCache(tmp_path).reuse_layer(diff_id(tar_a))


def test_refuses_writes_after_commit(tmp_path: Path, tar_a: bytes) -> None:
    c = committed_cache(tmp_path, tar_a)
    with pytest.raises(CacheCommittedError):
        c.add_layer(io.BytesIO(tar_a))
    with pytest.raises(CacheCommittedError):
        c.reuse_layer(diff_id(tar_a))
    with pytest.raises(CacheCommittedError):
        c.set_metadata(CacheMetadata())
    with pytest.raises(CacheCommittedError):
        c.commit()
    assert read_all(c, diff_id(tar_a)) == tar_a       # reading still works


def test_retrieve_verifies_content(tmp_path: Path, tar_a: bytes) -> None:
    c = committed_cache(tmp_path, tar_a)
    path = tmp_path / "committed" / (diff_id(tar_a) + ".tar")
    path.write_bytes(tar_a[:-1] + b"x")
    with pytest.raises(DigestMismatchError):
        read_all(c, diff_id(tar_a))
    with pytest.raises(CacheReadError, match="no layer"):
        c.retrieve("sha256:" + "0" * 64)


def test_invalid_metadata_reads_as_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                         tar_a: bytes) -> None:
    committed_cache(tmp_path, tar_a)
    (tmp_path / "committed" / MD_FILE).write_text('{"buildpacks": [{"version": 1}]}')
    with caplog.at_level(logging.WARNING):
        assert VolumeCache(tmp_path).metadata() == CacheMetadata()
    assert "ignoring invalid metadata" in caplog.text


# --- crash recovery -----------------------------------------------------------------------------
def test_leftover_staging_is_discarded(tmp_path: Path, tar_a: bytes, tar_b: bytes) -> None:
    committed_cache(tmp_path, tar_a)
    (tmp_path / "staging").mkdir()                  # a later exporter crashed while staging
    (tmp_path / "staging" / (diff_id(tar_b) + ".tar")).write_bytes(tar_b)
    (tmp_path / "staging" / MD_FILE).write_text("{}")
    c = VolumeCache(tmp_path)
    assert os.listdir(tmp_path / "staging") == []
    assert c.metadata() == metadata_for(diff_id(tar_a))


def test_crash_between_renames_restores_old_cache(tmp_path: Path, tar_a: bytes,
                                                  tar_b: bytes) -> None:
    committed_cache(tmp_path, tar_a)
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / (diff_id(tar_b) + ".tar")).write_bytes(tar_b)
    os.rename(tmp_path / "committed", tmp_path / "committed-backup")   # commit step 1 done
    c = VolumeCache(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["committed", "staging"]
    assert c.metadata() == metadata_for(diff_id(tar_a))
    assert read_all(c, diff_id(tar_a)) == tar_a


def test_crash_before_backup_deleted_keeps_new_cache(tmp_path: Path, tar_a: bytes,
                                                     tar_b: bytes) -> None:
    committed_cache(tmp_path, tar_a)
    os.rename(tmp_path / "committed", tmp_path / "committed-backup")
    (tmp_path / "committed").mkdir()                                   # step 2 done
    (tmp_path / "committed" / (diff_id(tar_b) + ".tar")).write_bytes(tar_b)
    (tmp_path / "committed" / MD_FILE).write_text(metadata_for(diff_id(tar_b)).to_json())
    c = VolumeCache(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["committed", "staging"]
    assert c.metadata() == metadata_for(diff_id(tar_b))


def test_failed_second_rename_rolls_back(tmp_path: Path, tar_a: bytes, tar_b: bytes,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    committed_cache(tmp_path, tar_a)
    c = VolumeCache(tmp_path)
    c.add_layer(io.BytesIO(tar_b))
    real_replace = os.replace

    def flaky(src: Any, dst: Any) -> None:
        if Path(src).name == "staging":
            raise OSError(5, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(CacheError, match="commit failed"):
        c.commit()
    monkeypatch.undo()
    assert VolumeCache(tmp_path).metadata() == metadata_for(diff_id(tar_a))
    with pytest.raises(CacheCommittedError):
        c.set_metadata(CacheMetadata())
