"""The client against a scripted server: retries, Location handling, chunk re-send, scope
widening, digest verification, pagination, TLS/scheme rules and secrecy."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_registry_server import FakeRegistry, Reply, Request

from lifecycle.errors import AuthError, DigestMismatchError, RegistryError
from lifecycle.oci import mediatypes
from lifecycle.oci.digest import Digest
from lifecycle.oci.reference import Reference, Repository
from lifecycle.oci.registry import (
    BlobSource,
    Credential,
    RegistryClient,
    RetryPolicy,
    StaticKeychain,
)
from lifecycle.oci.registry.transport import Transport, is_loopback


def make_client(sleeps: list[float], **kwargs: object) -> RegistryClient:
    return RegistryClient(retry=RetryPolicy(base=0.25, sleep=sleeps.append),
                          **kwargs)  # type: ignore[arg-type]


def test_503_then_retry_after_then_200(fake_registry: FakeRegistry) -> None:
    answers: list[Reply] = [(503, {}, b""), (503, {"Retry-After": "3"}, b""),
                            (200, {"Content-Length": "0"}, b"")]

    def handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return 200, {}, b"{}"
        return answers.pop(0) if len(answers) > 1 else (200, {}, b"abc")

    fake_registry.handler = handler
    sleeps: list[float] = []
    client = make_client(sleeps)
    repo = Repository(fake_registry.host, "app")
    assert client.blob_exists(repo, Digest.of(b"abc")) == 3
    assert sleeps == [0.25, 3.0]


def test_gives_up_with_typed_error(fake_registry: FakeRegistry) -> None:
    body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "down"}]}).encode()
    fake_registry.handler = lambda r: (200, {}, b"{}") if r.path == "/v2/" else (503, {}, body)
    sleeps: list[float] = []
    repo = Repository(fake_registry.host, "app")
    with pytest.raises(RegistryError) as info:
        make_client(sleeps).fetch_blob(repo, Digest.of(b""))
    assert info.value.status == 503 and info.value.codes == ("UNAVAILABLE",)
    assert str(info.value) == f"pull from {repo}: blob {Digest.of(b'')}: down (UNAVAILABLE)"
    assert len(sleeps) == 4
    with pytest.raises(RegistryError, match=r"check .*/app: blob sha256:\w+: HTTP 503$"):
        make_client(sleeps).blob_exists(repo, Digest.of(b""))


def test_chunked_upload_relative_location_and_chunk_resend(fake_registry: FakeRegistry) -> None:
    data = bytes(range(256)) * 10  # 2560 bytes -> chunks of 1000, 1000, 560
    received = bytearray()
    failed_once: list[bool] = []

    def handler(req: Request) -> Reply:
        path = urlsplit(req.path)
        if req.path == "/v2/":
            return 200, {}, b"{}"
        if req.method == "HEAD":
            return 404, {}, b""
        if req.method == "POST":
            return 202, {"Location": "/v2/app/blobs/uploads/u1?_state=s0"}, b""
        if req.method == "PATCH":
            assert req.headers["Content-Type"] == "application/octet-stream"
            start, end = map(int, req.headers["Content-Range"].split("-"))
            if start == 1000 and not failed_once:
                failed_once.append(True)
                return 500, {}, b""
            assert start == len(received) and end == start + len(req.body) - 1
            received.extend(req.body)
            return 202, {"Location": f"/v2/app/blobs/uploads/u1?_state=s{end}",
                         "Range": f"0-{end}"}, b""
        if req.method == "PUT":
            query = parse_qs(path.query)
            assert query["_state"] == ["s2559"] and query["digest"] == [str(Digest.of(data))]
            assert req.body == b""
            return 201, {}, b""
        return 400, {}, b""

    fake_registry.handler = handler
    sleeps: list[float] = []
    client = make_client(sleeps, chunk_size=1000)
    repo = Repository(fake_registry.host, "app")
    assert client.push_blob(repo, BlobSource.from_bytes(data)) == "uploaded"
    assert bytes(received) == data and sleeps == [0.25]
    assert client.stats.blobs_uploaded == 1 and client.stats.bytes_uploaded == len(data)


def test_monolithic_upload_absolute_location_and_body_resend(fake_registry: FakeRegistry) -> None:
    data = b"monolithic"
    puts: list[bytes] = []

    def handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return 200, {}, b"{}"
        if req.method == "POST":
            return 202, {"Location": f"http://{fake_registry.host}/up/1?_state=x"}, b""
        if req.method == "PUT":
            assert req.path.startswith("/up/1?_state=x&digest=sha256")
            puts.append(req.body)
            return (502, {}, b"") if len(puts) == 1 else (201, {}, b"")
        return 400, {}, b""

    fake_registry.handler = handler
    client = make_client([])
    client.upload_blob(Repository(fake_registry.host, "app"), BlobSource.from_bytes(data))
    assert puts == [data, data]


def token_handler(fake: FakeRegistry, tokens: list[list[str]]) -> None:
    """A Bearer registry whose token for scopes S is 'tok:' + ' '.join(sorted(S))."""

    def handler(req: Request) -> Reply:
        path = urlsplit(req.path)
        realm = f'Bearer realm="http://{fake.host}/token",service="svc"'
        if path.path == "/token":
            scopes = sorted(parse_qs(path.query).get("scope", []))
            assert req.headers.get("Authorization", "").startswith("Basic ")
            tokens.append(scopes)
            return 200, {}, json.dumps({"access_token": "tok:" + " ".join(scopes)}).encode()
        auth = req.headers.get("Authorization", "")
        if path.path == "/v2/":
            return (200, {}, b"{}") if auth else (401, {"WWW-Authenticate": realm}, b"")
        need = ["repository:app:pull", "repository:extra:pull"]
        if auth != "Bearer tok:" + " ".join(sorted(need)):
            header = f'{realm},scope="{" ".join(need)}",error="insufficient_scope"'
            return 401, {"WWW-Authenticate": header}, b""
        return 200, {"Content-Length": "7"}, b""

    fake.handler = handler


def test_insufficient_scope_widens_and_caches(fake_registry: FakeRegistry) -> None:
    tokens: list[list[str]] = []
    token_handler(fake_registry, tokens)
    keychain = StaticKeychain({fake_registry.host: Credential("u", "pw-secret")})
    client = RegistryClient(keychain)
    repo = Repository(fake_registry.host, "app")
    assert client.blob_exists(repo, Digest.of(b"x")) == 7
    assert tokens == [["repository:app:pull"],
                      ["repository:app:pull", "repository:extra:pull"]]
    assert client.blob_exists(repo, Digest.of(b"x")) == 7  # same scopes: widened again, cached
    assert len(tokens) == 2


def test_realm_over_plain_http_refused_for_remote_hosts() -> None:
    from lifecycle.oci.registry.auth import Authenticator
    from lifecycle.oci.registry.challenge import Challenge

    cred = Credential("u", "pw-Zq9")
    auth = Authenticator(Transport(), StaticKeychain({"reg.example.com": cred}))
    challenge = Challenge("bearer", (("realm", "http://auth.example.com/token"),))
    with pytest.raises(AuthError, match="plain-HTTP token realm") as info:
        auth._fetch_token("reg.example.com", challenge, (), cred)
    assert "pw-Zq9" not in str(info.value)


def test_manifest_digest_verified_when_pinned(fake_registry: FakeRegistry) -> None:
    body = b'{"schemaVersion":2}'
    fake_registry.handler = lambda r: (200, {}, b"{}") if r.path == "/v2/" else \
        (200, {"Content-Type": mediatypes.OCI_MANIFEST}, body)
    client = make_client([])
    ref = Reference(fake_registry.host, "app", "v1")
    data, media_type, digest = client.get_manifest(ref)
    assert (data, media_type, digest) == (body, mediatypes.OCI_MANIFEST, Digest.of(body))
    assert fake_registry.requests[-1].headers["Accept"] == mediatypes.ACCEPT_ALL
    with pytest.raises(DigestMismatchError):
        client.get_manifest(ref.with_digest(Digest.of(b"something else")))


def test_blob_stream_verification(fake_registry: FakeRegistry) -> None:
    fake_registry.handler = lambda r: (200, {}, b"{}") if r.path == "/v2/" else \
        (200, {}, b"tampered")
    client = make_client([])
    with pytest.raises(DigestMismatchError):
        client.fetch_blob(Repository(fake_registry.host, "app"), Digest.of(b"original"))


def test_tags_pagination(fake_registry: FakeRegistry) -> None:
    def handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return 200, {}, b"{}"
        if "last=b" in req.path:
            return 200, {}, json.dumps({"name": "app", "tags": ["c"]}).encode()
        return 200, {"Link": '</v2/app/tags/list?n=2&last=b>; rel="next"'}, \
            json.dumps({"name": "app", "tags": ["a", "b"]}).encode()

    fake_registry.handler = handler
    assert make_client([]).list_tags(Repository(fake_registry.host, "app")) == ["a", "b", "c"]


def test_bearer_from_cnb_registry_auth_is_sent_as_is(fake_registry: FakeRegistry,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    def handler(req: Request) -> Reply:
        if req.headers.get("Authorization") != "Bearer given-token":
            return 401, {"WWW-Authenticate": 'Basic realm="x"'}, b""
        return 200, {}, b"{}"

    fake_registry.handler = handler
    caplog.set_level(logging.DEBUG)
    chain = StaticKeychain({fake_registry.host: Credential(registry_token="given-token")})
    RegistryClient(chain).ping(fake_registry.host)
    assert "given-token" not in caplog.text
    bad = StaticKeychain({fake_registry.host: Credential(registry_token="wrong-token")})
    with pytest.raises(AuthError) as info:
        RegistryClient(bad).ping(fake_registry.host)
    assert "wrong-token" not in str(info.value) and "docker login" in str(info.value)


@pytest.mark.parametrize(("host", "loop"), [
    ("localhost", True), ("localhost:5000", True), ("127.0.0.1", True), ("127.1.2.3:80", True),
    ("[::1]:5000", True), ("::1", True), ("10.0.0.1:5000", False), ("reg.example.com", False),
    ("docker.io", False), ("[2001:db8::1]:443", False),
])
def test_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


def test_scheme_rules() -> None:
    transport = Transport(insecure_registries=frozenset({"reg.internal:5000", "plain.lan"}))
    assert transport.base_url("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert transport.base_url("reg.internal:5000") == "http://reg.internal:5000"
    assert transport.base_url("plain.lan:8080") == "http://plain.lan:8080"
    assert transport.base_url("reg.example.com") == "https://reg.example.com"
    assert transport.base_url("docker.io") == "https://index.docker.io"
    assert transport.session.verify is True


def test_identity_token_is_exchanged_with_oauth2_post(fake_registry: FakeRegistry) -> None:
    def handler(req: Request) -> Reply:
        realm = f'Bearer realm="http://{fake_registry.host}/oauth",service="svc"'
        if req.path == "/oauth":
            assert req.method == "POST" and "Authorization" not in req.headers
            form = parse_qs(req.body.decode())
            assert form["grant_type"] == ["refresh_token"]
            assert form["refresh_token"] == ["id-tok-secret"]
            assert form["service"] == ["svc"] and form["scope"] == ["repository:app:pull"]
            return 200, {}, json.dumps({"token": "exchanged"}).encode()
        if req.headers.get("Authorization") == "Bearer exchanged":
            return 200, {}, json.dumps({"tags": ["t"]}).encode()
        return 401, {"WWW-Authenticate": realm}, b""

    fake_registry.handler = handler
    chain = StaticKeychain({fake_registry.host: Credential(identity_token="id-tok-secret")})
    assert RegistryClient(chain).list_tags(Repository(fake_registry.host, "app")) == ["t"]


def test_mount_refused_for_access_falls_back_to_upload(fake_registry: FakeRegistry) -> None:
    denied = json.dumps({"errors": [{"code": "DENIED", "message": "no pull on src"}]}).encode()

    def handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return 200, {}, b"{}"
        if req.method == "HEAD":
            return 404, {}, b""
        if req.method == "POST":
            if "mount=" in req.path:
                return 403, {}, denied
            return 202, {"Location": "/v2/app/blobs/uploads/x"}, b""
        if req.method == "PUT":
            assert req.path.startswith("/v2/app/blobs/uploads/x?digest=")
            return 201, {}, b""
        return 400, {}, b""

    fake_registry.handler = handler
    client = make_client([])
    repo, src = Repository(fake_registry.host, "app"), Repository(fake_registry.host, "src")
    assert client.push_blob(repo, BlobSource.from_bytes(b"b"), mount_from=[src]) == "uploaded"
    assert [r.method for r in fake_registry.requests] == ["GET", "HEAD", "POST", "POST", "PUT"]
