"""End to end: the image cache (``-cache-image``) and the ``restorer`` program against the real
registry (cnb-digest §4.8, platform.md "restorer"): add layers, commit, reopen, retrieve
verifies its diffID, reuse sends nothing, a failed commit leaves the previous cache image, and
the restorer restores from a cache image and pins the run image in analyzed.toml."""

from __future__ import annotations

import base64
import io
import json
import os
import tomllib
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from registry_fixtures import RegistryServer

from lifecycle.cache import CacheError, CacheMetadata, CacheReadError, ImageCache
from lifecycle.cli.phase_restorer import run
from lifecycle.errors import DigestMismatchError, ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.check import check_image
from lifecycle.oci.digest import Digest
from lifecycle.oci.fixtures import random_image
from lifecycle.oci.image import ImageValue
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.pipeline import compress
from lifecycle.oci.reference import Reference
from lifecycle.oci.registry import RegistryClient
from lifecycle.oci.remote import push_image, read_image
from lifecycle.oci.tarball import tar_tree
from lifecycle.platform import labels
from lifecycle.platform.files import analyzed as analyzed_file
from lifecycle.platform.files.analyzed import Analyzed, RunImage
from lifecycle.platform.labels import BuildpackLayersMetadata, LayerMetadata

pytestmark = pytest.mark.e2e

TESTDATA = Path(__file__).resolve().parents[1] / "testdata" / "restorer" / "matrix"


def _tar(bp_dir: str, name: str) -> bytes:
    return b"".join(tar_tree(TESTDATA / "layers" / bp_dir / name, f"/layers/{bp_dir}/{name}"))


def _sha(data: bytes) -> str:
    return str(Digest.of(data))


def _client(reg: RegistryServer) -> RegistryClient:
    return RegistryClient(reg.keychain())


def _ref(reg: RegistryServer, repo: str) -> Reference:
    return Reference.parse(f"{reg.host}/cache/{repo}:build-cache")


def _metadata(tars: dict[str, bytes]) -> CacheMetadata:
    layers = {n: LayerMetadata(_sha(t), {"n": n}, build=True, cache=True) for n, t in tars.items()}
    return CacheMetadata(buildpacks=(BuildpackLayersMetadata("example/node", "1.0", layers),))


TARS = {n: _tar("example_node", n) for n in ("b1c1l1", "b0c1l0")}


def _commit_first(reg: RegistryServer, ref: Reference, tmp: Path) -> ImageCache:
    cache = ImageCache(_client(reg), ref)
    assert not cache.exists() and cache.metadata() == CacheMetadata()
    (tmp / "a.tar").write_bytes(TARS["b1c1l1"])
    assert cache.add_layer(tmp / "a.tar") == _sha(TARS["b1c1l1"])                 # a path
    assert cache.add_layer(io.BytesIO(TARS["b0c1l0"]), _sha(TARS["b0c1l0"])) == \
        _sha(TARS["b0c1l0"])                                                      # a stream
    cache.set_metadata(_metadata(TARS))
    cache.commit()
    return cache


def test_add_commit_reopen_retrieve(registry: RegistryServer, tmp_path: Path) -> None:
    ref = _ref(registry, "roundtrip")
    first = _commit_first(registry, ref, tmp_path)
    assert first.has_layer(_sha(TARS["b1c1l1"]))           # committed state is the new image
    with pytest.raises(CacheError):
        first.add_layer(io.BytesIO(b""))                    # no writes after commit
    img = read_image(_client(registry), ref)
    check_image(img)
    assert img.config().config.labels[labels.CACHE_METADATA] == _metadata(TARS).to_json()
    assert {str(d) for d in img.config().diff_ids} == {_sha(t) for t in TARS.values()}
    assert all(ly.media_type == mt.OCI_LAYER_GZIP for ly in img.layers())

    again = ImageCache(_client(registry), ref)
    assert again.exists() and again.metadata() == _metadata(TARS)
    for data in TARS.values():
        stream = again.retrieve(_sha(data))
        try:
            got = stream.read()
            assert stream.read() == b""                     # EOF: verified
        finally:
            stream.close()
        assert got == data
    with pytest.raises(CacheReadError):
        again.retrieve("sha256:" + "0" * 64)


def test_same_content_same_digest_and_reuse_uploads_nothing(registry: RegistryServer,
                                                            tmp_path: Path) -> None:
    ref = _ref(registry, "reuse")
    first = _commit_first(registry, ref, tmp_path)
    mark = registry.log_mark()
    client = _client(registry)
    cache = ImageCache(client, ref)
    cache.reuse_layer(_sha(TARS["b1c1l1"]))
    # a committed diffID given: the source is never read
    known = _sha(TARS["b0c1l0"])
    assert cache.add_layer(cast(BinaryIO, _Unreadable()), known) == known
    cache.set_metadata(_metadata(TARS))
    cache.commit()
    assert cache.digest == first.digest
    assert client.stats.blobs_uploaded == 0 and client.stats.bytes_uploaded == 0
    assert registry.blob_uploads(mark) == 0
    gets = [e for e in registry.access_log(mark) if e.method == "GET" and "/blobs/" in e.path]
    assert len(gets) == 1                                   # the config only: no layer read


def test_recompressed_known_layer_is_not_uploaded(registry: RegistryServer,
                                                  tmp_path: Path) -> None:
    ref = _ref(registry, "known")
    _commit_first(registry, ref, tmp_path)
    new = _tar("example_node", "b0c0l1")
    mark = registry.log_mark()
    cache = ImageCache(_client(registry), ref)
    for data in (*TARS.values(), new):                     # no diffID given: all tarred again
        cache.add_layer(io.BytesIO(data))
    both = {**TARS, "b0c0l1": new}
    cache.set_metadata(_metadata(both))
    cache.commit()
    assert registry.blob_uploads(mark) == 2                 # the new layer and the config
    again = ImageCache(_client(registry), ref)
    assert again.metadata() == _metadata(both)
    assert all(again.has_layer(_sha(t)) for t in both.values())


def test_failed_commit_leaves_previous_cache_image(registry: RegistryServer,
                                                  tmp_path: Path) -> None:
    ref = _ref(registry, "failed")
    first = _commit_first(registry, ref, tmp_path)
    cache = ImageCache(_client(registry), ref)
    cache.reuse_layer(_sha(TARS["b1c1l1"]))
    cache.add_compressed(_broken_layer())
    cache.set_metadata(CacheMetadata())
    with pytest.raises(CacheError, match="commit failed"):
        cache.commit()
    with pytest.raises(CacheError):
        cache.set_metadata(CacheMetadata())                 # refused after the commit call
    head = _client(registry).head_manifest(ref)
    assert head is not None and head.digest == first.digest
    assert ImageCache(_client(registry), ref).metadata() == _metadata(TARS)


def test_wrong_diff_id_is_detected_at_eof(registry: RegistryServer) -> None:
    """A cache image whose config lists a wrong diffID for a layer: reading it fails."""
    out = io.BytesIO()
    d = compress([TARS["b1c1l1"]], out)
    wrong = Digest.parse(_sha(b"something else"))
    bad = BlobLayer.from_bytes(out.getvalue(), wrong, d.media_type)
    base = random_image(0)
    img = ImageValue.build(base.config(), [bad])
    ref = _ref(registry, "corrupt")
    push_image(_client(registry), img, [ref])
    stream = ImageCache(_client(registry), ref).retrieve(str(wrong))
    try:
        with pytest.raises(DigestMismatchError):
            while stream.read(1 << 16):
                pass
    finally:
        stream.close()


def test_not_a_cache_image_is_an_empty_cache(registry: RegistryServer,
                                             caplog: pytest.LogCaptureFixture) -> None:
    ref = _ref(registry, "labelless")
    push_image(_client(registry), random_image(1, seed=3), [ref])
    cache = ImageCache(_client(registry), ref)
    assert cache.exists() and cache.metadata() == CacheMetadata()
    assert "no io.buildpacks.lifecycle.cache.metadata label" in caplog.text


def test_metadata_only_cache_has_no_layers(registry: RegistryServer) -> None:
    ref = _ref(registry, "empty")
    cache = ImageCache(_client(registry), ref)
    with pytest.raises(CacheError, match="hashes to"):      # not the diffID claimed: not staged
        cache.add_layer(io.BytesIO(TARS["b1c1l1"]), _sha(b"something else"))
    cache.set_metadata(CacheMetadata(sbom=None))
    cache.commit()
    again = ImageCache(_client(registry), ref)
    assert again.exists() and again.metadata() == CacheMetadata()
    assert read_image(_client(registry), ref).layers() == ()


# --- the restorer program ---------------------------------------------------------------------
def _env(reg: RegistryServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    env.update({"CNB_PLATFORM_API": "0.15", "DOCKER_CONFIG": "/nonexistent"})
    if reg.creds:
        token = base64.b64encode(reg.creds.encode()).decode()
        env["CNB_REGISTRY_AUTH"] = json.dumps({reg.host: f"Basic {token}"})
    return env


def test_restorer_restores_from_cache_image_and_pins_run_image(
        registry_basic: RegistryServer, tmp_path: Path) -> None:
    reg = registry_basic
    ref = _ref(reg, "program")
    _commit_first(reg, ref, tmp_path)
    run_tag = Reference.parse(f"{reg.host}/cache/run:1")
    run_digest = push_image(_client(reg), random_image(1, seed=5), [run_tag])
    build_tag = Reference.parse(f"{reg.host}/cache/build:1")
    build_digest = push_image(_client(reg), random_image(1, seed=6), [build_tag])
    layers = tmp_path / "layers"
    layers.mkdir()
    (layers / "group.toml").write_text((TESTDATA / "group.toml").read_text())
    analyzed_file.dump(layers / "analyzed.toml",
                       Analyzed(run_image=RunImage(reference=str(run_tag), image=str(run_tag))))
    code = run(["-layers", str(layers), "-cache-image", str(ref), "-build-image",
                str(build_tag), "-cache-dir", str(tmp_path / "ignored")], _env(reg))
    assert code == 0
    bp = layers / "example_node"
    for name in TARS:
        assert tomllib.loads((bp / f"{name}.toml").read_text()) == {"metadata": {"n": name}}
        assert (bp / name / "content.txt").read_text() == f"{name}\n"
    out = tomllib.loads((layers / "analyzed.toml").read_text())
    assert out["run-image"] == {"reference": f"{reg.host}/cache/run@{run_digest}",
                                "image": str(run_tag), "target": {"os": "linux",
                                                                  "arch": "amd64"}}
    assert out["build-image"] == {"reference": f"{reg.host}/cache/build@{build_digest}"}


def test_restorer_falls_back_to_a_readable_mirror(registry: RegistryServer,
                                                  tmp_path: Path) -> None:
    mirror = Reference.parse(f"{registry.host}/cache/run-mirror:1")
    digest = push_image(_client(registry), random_image(1, seed=7), [mirror])
    gone = f"{registry.host}/cache/run-gone:1"
    layers = tmp_path / "layers"
    layers.mkdir()
    (layers / "group.toml").write_text((TESTDATA / "group.toml").read_text())
    (tmp_path / "run.toml").write_text(f'[[images]]\nimage = "{gone}"\nmirrors = ["{mirror}"]\n')
    analyzed_file.dump(layers / "analyzed.toml",
                       Analyzed(run_image=RunImage(reference=gone, image=gone)))
    assert run(["-layers", str(layers), "-run", str(tmp_path / "run.toml")],
               _env(registry)) == 0
    out = tomllib.loads((layers / "analyzed.toml").read_text())["run-image"]
    assert (out["image"], out["reference"]) == (str(mirror),
                                                f"{registry.host}/cache/run-mirror@{digest}")
    (tmp_path / "run.toml").write_text(f'[[images]]\nimage = "{gone}"\n')
    analyzed_file.dump(layers / "analyzed.toml",
                       Analyzed(run_image=RunImage(reference=gone, image=gone)))
    assert run(["-layers", str(layers), "-run", str(tmp_path / "run.toml")],
               _env(registry)) == 40


# --- helpers ----------------------------------------------------------------------------------
class _Unreadable(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        raise AssertionError("the source of a layer the cache has must not be read")


def _broken_layer() -> BlobLayer:
    def opener() -> BinaryIO:
        raise ImageError("the disk went away")
    data = b"never sent"
    return BlobLayer(Digest.of(data), Digest.of(b"x"), len(data), mt.OCI_LAYER_GZIP, opener)

