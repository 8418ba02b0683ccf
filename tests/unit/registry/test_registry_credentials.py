"""Keychains: Docker config.json (auths, credHelpers, credsStore), CNB_REGISTRY_AUTH, secrecy."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from lifecycle.errors import AuthError, UsageError
from lifecycle.oci.registry.credentials import (
    AnonymousKeychain,
    Credential,
    DockerConfigKeychain,
    EnvKeychain,
    MultiKeychain,
    StaticKeychain,
    default_keychain,
    parse_cnb_registry_auth,
)

SECRET = "hunter2-very-secret"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_config(tmp_path: Path, config: dict[str, object]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def fake_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``docker-credential-fake`` on PATH: answers for reg.example.com and Docker Hub."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "helper.log"
    script = bindir / "docker-credential-fake"
    script.write_text(f"""#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
echo "$server" >> {log}
case "$server" in
  reg.example.com) echo '{{"ServerURL":"reg.example.com","Username":"bob","Secret":"{SECRET}"}}';;
  https://index.docker.io/v1/) echo '{{"Username":"<token>","Secret":"idtok"}}';;
  broken.example.com) echo 'boom' >&2; exit 3;;
  *) echo 'credentials not found in native keychain'; exit 1;;
esac
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_auths_base64_and_username_password(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"auths": {
        "https://index.docker.io/v1/": {"auth": b64(f"hub:{SECRET}")},
        "http://127.0.0.1:5000": {"username": "u", "password": "p"},
        "id.example.com": {"identitytoken": "refresh-me"},
        "empty.example.com": {},
    }})
    chain = DockerConfigKeychain(path)
    assert chain.resolve("docker.io") == Credential("hub", SECRET)
    assert chain.resolve("127.0.0.1:5000") == Credential("u", "p")
    assert chain.resolve("id.example.com") == Credential(identity_token="refresh-me")
    assert chain.resolve("empty.example.com") is None
    assert chain.resolve("other.example.com") is None


def test_docker_config_env_and_missing_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, {"auths": {"r.io": {"auth": b64("a:b")}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert DockerConfigKeychain().resolve("r.io") == Credential("a", "b")
    assert DockerConfigKeychain(tmp_path / "nope.json").resolve("r.io") is None


def test_cred_helpers_and_store(tmp_path: Path, fake_helper: Path) -> None:
    path = write_config(tmp_path, {
        "credHelpers": {"reg.example.com": "fake", "broken.example.com": "fake",
                        "unknown.example.com": "fake"},
        "credsStore": "fake",
        "auths": {"fallback.example.com": {"auth": b64("f:g")},
                  "unknown.example.com": {"auth": b64("not:used")}},
    })
    chain = DockerConfigKeychain(path)
    assert chain.resolve("reg.example.com") == Credential("bob", SECRET)
    assert chain.resolve("docker.io") == Credential(identity_token="idtok")
    assert chain.resolve("unknown.example.com") is None
    assert chain.resolve("fallback.example.com") == Credential("f", "g")
    with pytest.raises(AuthError) as info:
        chain.resolve("broken.example.com")
    assert "docker-credential-fake" in str(info.value) and "exited with 3" in str(info.value)
    asked = fake_helper.read_text().split()
    assert asked[:2] == ["reg.example.com", "https://index.docker.io/v1/"]


def test_missing_helper_program(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"credsStore": "does-not-exist-xyz"})
    with pytest.raises(AuthError, match="docker-credential-does-not-exist-xyz"):
        DockerConfigKeychain(path).resolve("r.io")


def test_bad_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(UsageError, match=str(path)):
        DockerConfigKeychain(path).resolve("r.io")
    path.write_text(json.dumps({"auths": {"r.io": {"auth": "%%%"}}}))
    with pytest.raises(UsageError, match="base64"):
        DockerConfigKeychain(path).resolve("r.io")


def test_cnb_registry_auth() -> None:
    value = json.dumps({"reg.example.com": f"Basic {b64('u:' + SECRET)}",
                        "index.docker.io": "Bearer tok123",
                        "127.0.0.1:5000": "basic " + b64("a:b:c")})
    entries = parse_cnb_registry_auth(value)
    assert entries["reg.example.com"] == Credential("u", SECRET)
    assert entries["docker.io"] == Credential(registry_token="tok123")
    assert entries["127.0.0.1:5000"] == Credential("a", "b:c")
    chain = EnvKeychain(value)
    assert chain.resolve("docker.io") == Credential(registry_token="tok123")
    assert chain.resolve("nowhere.io") is None
    assert SECRET not in repr(chain)


@pytest.mark.parametrize("value", ["not json", "[]", '{"r": 1}', '{"r": "Digest x"}',
                                   '{"r": "Basic !!!"}', '{"r": "Basic ' + b64("nocolon") + '"}'])
def test_cnb_registry_auth_errors(value: str) -> None:
    with pytest.raises(UsageError, match="CNB_REGISTRY_AUTH"):
        parse_cnb_registry_auth(value)


def test_default_keychain_order(tmp_path: Path) -> None:
    write_config(tmp_path, {"auths": {"r.io": {"auth": b64("docker:cfg")},
                                      "s.io": {"auth": b64("docker:s")}}})
    env = {"DOCKER_CONFIG": str(tmp_path),
           "CNB_REGISTRY_AUTH": json.dumps({"r.io": f"Basic {b64('cnb:env')}"})}
    chain = default_keychain(env, extra=[StaticKeychain({"t.io": Credential("x", "y")})])
    assert chain.resolve("r.io") == Credential("cnb", "env")
    assert chain.resolve("s.io") == Credential("docker", "s")
    assert chain.resolve("t.io") == Credential("x", "y")
    assert chain.resolve("u.io") is None
    assert MultiKeychain((AnonymousKeychain(),)).resolve("r.io") is None


def test_credential_repr_hides_secrets() -> None:
    cred = Credential("bob", SECRET, identity_token="idtok-secret", registry_token="rt-secret")
    for text in (repr(cred), str(cred), repr(StaticKeychain({"r": cred}))):
        for secret in (SECRET, "idtok-secret", "rt-secret"):
            assert secret not in text
    assert "bob" in repr(cred)
    assert cred.has_basic and not Credential("bob").has_basic
