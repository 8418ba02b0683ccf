"""The registry client against the real distribution 2.8 registry, in all three auth modes.

Images are built by hand here (a config blob and one gzip layer) so these tests do not depend on
the image modules. skopeo is the independent reader.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
import os
import shutil
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from registry_fixtures import RegistryServer

from lifecycle.errors import AuthError, RegistryError, RegistryNotFoundError
from lifecycle.oci import mediatypes
from lifecycle.oci.digest import Digest
from lifecycle.oci.reference import Reference, Repository
from lifecycle.oci.registry import (
    BlobSource,
    Credential,
    RegistryClient,
    StaticKeychain,
    default_keychain,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class TinyImage:
    config: BlobSource
    layer: BlobSource
    manifest: bytes


def tiny_image(content: bytes = b"hello\n") -> TinyImage:
    """A valid one-layer OCI image: gzip layer of one file, config with its diff ID."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(content), 315532801, 0o644
        tar.addfile(info, io.BytesIO(content))
    raw = tar_buf.getvalue()
    layer = BlobSource.from_bytes(gzip.compress(raw, mtime=0))
    config = BlobSource.from_bytes(json.dumps({
        "architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [str(Digest.of(raw))]},
    }, sort_keys=True).encode())
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": str(config.digest),
                   "size": config.size},
        "layers": [{"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": str(layer.digest),
                    "size": layer.size}],
    }, indent=2).encode()
    return TinyImage(config, layer, manifest)


def client_for(server: RegistryServer, **kwargs: object) -> RegistryClient:
    return RegistryClient(server.keychain(), **kwargs)  # type: ignore[arg-type]


def repo_in(server: RegistryServer, prefix: str = "app") -> Repository:
    return Repository(server.host, f"{prefix}-{uuid.uuid4().hex[:8]}")


def skopeo(server: RegistryServer, *args: str) -> str:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    env = {**os.environ, "HOME": os.environ.get("HOME", "/tmp")}
    proc = subprocess.run(["skopeo", "inspect", *server.skopeo_args(), *args],
                          capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def test_ping(any_registry: RegistryServer) -> None:
    client_for(any_registry).ping(any_registry.host)


def test_monolithic_push_head_get_and_skip(any_registry: RegistryServer) -> None:
    client = client_for(any_registry)
    repo = repo_in(any_registry)
    blob = BlobSource.from_bytes(os.urandom(5000))
    mark = any_registry.log_mark()
    assert client.blob_exists(repo, blob.digest) is None
    assert client.push_blob(repo, blob) == "uploaded"
    assert client.blob_exists(repo, blob.digest) == blob.size
    assert client.fetch_blob(repo, blob.digest) == blob.open().read()
    assert client.push_blob(repo, blob) == "skipped"
    fresh = client_for(any_registry)
    assert fresh.push_blob(repo, blob) == "skipped"
    assert fresh.stats.blobs_uploaded == 0 and fresh.stats.blobs_skipped == 1
    stats = client.stats
    assert (stats.blobs_uploaded, stats.bytes_uploaded, stats.blobs_skipped) == (1, 5000, 1)
    assert any_registry.blob_uploads(mark) == 1
    assert not [e for e in any_registry.access_log(mark) if e.method == "PATCH"]
    empty = BlobSource.from_bytes(b"")
    assert client.push_blob(repo, empty) == "uploaded"
    assert client.blob_exists(repo, empty.digest) == 0
    assert client.fetch_blob(repo, empty.digest) == b""


def test_chunked_upload(any_registry: RegistryServer) -> None:
    client = client_for(any_registry, chunk_size=1000)
    repo = repo_in(any_registry)
    data = os.urandom(3500)
    blob = BlobSource.from_bytes(data)
    mark = any_registry.log_mark()
    assert client.push_blob(repo, blob) == "uploaded"
    patches = [e for e in any_registry.access_log(mark) if e.method == "PATCH"]
    assert len(patches) == 4 and all(e.status == 202 for e in patches)
    reader = client.open_blob(repo, blob.digest)
    try:
        assert reader.read() + reader.read() == data
    finally:
        reader.close()


def test_mount_and_fallback(any_registry: RegistryServer) -> None:
    client = client_for(any_registry)
    a, b = repo_in(any_registry, "a"), repo_in(any_registry, "b")
    blob = BlobSource.from_bytes(os.urandom(2000))
    assert client.push_blob(a, blob) == "uploaded"
    mark = any_registry.log_mark()
    assert client.push_blob(b, blob, mount_from=[a]) == "mounted"
    assert client.blob_exists(b, blob.digest) == blob.size
    posts = [e for e in any_registry.access_log(mark) if e.method == "POST"]
    assert [e.status for e in posts] == [201] and "mount=" in posts[0].path
    unknown = BlobSource.from_bytes(os.urandom(100))
    mark = any_registry.log_mark()
    assert client.push_blob(b, unknown, mount_from=[a]) == "uploaded"
    log = any_registry.access_log(mark)
    assert [e.status for e in log if e.method == "POST"] == [202]
    assert any_registry.blob_uploads(mark) == 1
    assert client.fetch_blob(b, unknown.digest) == unknown.open().read()
    assert (client.stats.blobs_mounted, client.stats.blobs_uploaded) == (1, 2)


def test_manifest_roundtrip_with_skopeo(any_registry: RegistryServer) -> None:
    client = client_for(any_registry)
    repo = repo_in(any_registry)
    img = tiny_image()
    for blob in (img.layer, img.config):
        client.push_blob(repo, blob)
    ref = Reference(repo.registry, repo.repository, "v1")
    digest = client.push_manifest(ref, img.manifest, mediatypes.OCI_MANIFEST,
                                  [img.config.digest, img.layer.digest])
    assert digest == Digest.of(img.manifest)
    data, media_type, got = client.get_manifest(ref)
    assert (data, media_type, got) == (img.manifest, mediatypes.OCI_MANIFEST, digest)
    assert client.get_manifest(ref.with_digest(digest)).data == img.manifest
    head = client.head_manifest(ref)
    assert head is not None and (head.digest, head.size) == (digest, len(img.manifest))
    assert client.list_tags(repo) == ["v1"]
    assert skopeo(any_registry, "--raw", f"docker://{ref}").encode() == img.manifest
    info = json.loads(skopeo(any_registry, f"docker://{ref}"))
    assert info["Digest"] == str(digest)
    assert info["Layers"] == [str(img.layer.digest)]
    index = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": [
        {"mediaType": mediatypes.OCI_MANIFEST, "digest": str(digest), "size": len(img.manifest),
         "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    index_ref = ref.with_tag("multi")
    missing = Digest.of(b"no such manifest")
    with pytest.raises(RegistryError, match=f"manifest {missing} is not in the repository"):
        client.push_manifest(index_ref, index, mediatypes.OCI_INDEX, [], [digest, missing])
    index_digest = client.push_manifest(index_ref, index, mediatypes.OCI_INDEX, [], [digest])
    assert client.get_manifest(index_ref) == (index, mediatypes.OCI_INDEX, index_digest)
    assert sorted(client.list_tags(repo)) == ["multi", "v1"]
    client.delete_manifest(ref.with_digest(index_digest))
    client.delete_manifest(ref.with_digest(digest))
    assert client.head_manifest(ref.with_digest(digest)) is None


def test_push_manifest_refuses_missing_blob(any_registry: RegistryServer) -> None:
    client = client_for(any_registry)
    repo = repo_in(any_registry)
    img = tiny_image(b"never pushed\n")
    client.push_blob(repo, img.config)
    ref = Reference(repo.registry, repo.repository, "broken")
    mark = any_registry.log_mark()
    fresh = client_for(any_registry)
    with pytest.raises(RegistryError, match=str(img.layer.digest)) as info:
        fresh.push_manifest(ref, img.manifest, mediatypes.OCI_MANIFEST,
                            [img.config.digest, img.layer.digest])
    assert "refusing to write manifest" in str(info.value)
    assert not [e for e in any_registry.access_log(mark) if "/manifests/" in e.path
                and e.method == "PUT"]


def test_registry_refusal_is_typed(registry: RegistryServer) -> None:
    client = client_for(registry)
    repo = repo_in(registry)
    img = tiny_image(b"x\n")
    ref = Reference(repo.registry, repo.repository, "t")
    with pytest.raises(RegistryError) as info:
        client.put_manifest(ref, img.manifest, mediatypes.OCI_MANIFEST)
    err = info.value
    assert err.status == 400 and "MANIFEST_BLOB_UNKNOWN" in err.codes
    assert str(err).startswith(f"push to {repo}: blob sha256:")
    with pytest.raises(RegistryNotFoundError) as missing:
        client.get_manifest(ref.with_tag("nope"))
    assert missing.value.status == 404 and "MANIFEST_UNKNOWN" in missing.value.codes
    bad = BlobSource(Digest.of(b"other"), 3, lambda: io.BytesIO(b"abc"))
    with pytest.raises(RegistryError) as invalid:
        client.upload_blob(repo, bad)
    assert "DIGEST_INVALID" in invalid.value.codes


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_wrong_password_is_auth_error_without_secret(
        mode: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{mode}")
    secret = "Wr0ng-Sekrit-9f3a"
    keychain = StaticKeychain({server.host: Credential(username=server.username or "",
                                                       password=secret)})
    client = RegistryClient(keychain)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        client.blob_exists(repo_in(server), Digest.of(b"x"))
    text = f"{info.value} {info.value!r} {client!r} {keychain!r}"
    assert f"authentication to {server.host} failed" in str(info.value)
    assert info.value.status == 401
    encoded = base64.b64encode(f"{server.username}:{secret}".encode()).decode()
    for needle in (secret, encoded):
        assert needle not in text
        assert needle not in caplog.text


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_anonymous_client_is_refused(mode: str, request: pytest.FixtureRequest) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{mode}")
    with pytest.raises(AuthError, match="check credentials"):
        RegistryClient().push_blob(repo_in(server), BlobSource.from_bytes(b"x"))


def test_secrets_absent_from_debug_logs(registry_token: RegistryServer,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for(registry_token)
    repo = repo_in(registry_token)
    client.push_blob(repo, BlobSource.from_bytes(b"logged?"))
    assert registry_token.password and registry_token.password not in caplog.text
    assert "Bearer " not in caplog.text and "Authorization" not in caplog.text


def test_token_cached_per_scope(registry_token: RegistryServer) -> None:
    client = client_for(registry_token)
    repo = repo_in(registry_token)
    for i in range(3):
        client.push_blob(repo, BlobSource.from_bytes(f"blob {i}".encode()))
    assert client.auth.token_fetches == 1
    client.blob_exists(repo, Digest.of(b"blob 0"))
    assert client.auth.token_fetches == 2
    other = repo_in(registry_token, "b")
    client.push_blob(other, BlobSource.from_bytes(b"blob 0"), mount_from=[repo])
    assert client.stats.blobs_mounted == 1
    granted = registry_token.token_server.requests[-1]["scopes"]  # type: ignore[attr-defined]
    assert set(granted) == {other.scope(push=True), repo.scope()}


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_default_keychain_with_cnb_registry_auth(mode: str, request: pytest.FixtureRequest,
                                                 tmp_path: Path) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{mode}")
    basic = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    env = {"CNB_REGISTRY_AUTH": json.dumps({server.host: f"Basic {basic}"}),
           "DOCKER_CONFIG": str(tmp_path)}
    client = RegistryClient(default_keychain(env))
    repo = repo_in(server)
    assert client.push_blob(repo, BlobSource.from_bytes(b"via env")) == "uploaded"


def test_docker_config_json_credentials(registry_basic: RegistryServer, tmp_path: Path) -> None:
    basic = base64.b64encode(registry_basic.creds.encode()).decode()  # type: ignore[union-attr]
    (tmp_path / "config.json").write_text(json.dumps(
        {"auths": {f"http://{registry_basic.host}": {"auth": basic}}}))
    client = RegistryClient(default_keychain({"DOCKER_CONFIG": str(tmp_path)}))
    client.ping(registry_basic.host)
