"""WWW-Authenticate parsing: Basic, Bearer, quoted commas and escapes, several challenges."""

from __future__ import annotations

from lifecycle.oci.registry.challenge import Challenge, parse_challenge, parse_challenges


def test_bearer_with_scope_containing_commas() -> None:
    ch = parse_challenge('Bearer realm="https://auth.example/token",service="registry.example",'
                         'scope="repository:a/b:pull,push"')
    assert ch is not None and ch.scheme == "bearer"
    assert ch.realm == "https://auth.example/token"
    assert ch.service == "registry.example"
    assert ch.scope == "repository:a/b:pull,push"
    assert ch.error is None


def test_insufficient_scope_and_several_scopes() -> None:
    ch = parse_challenge('Bearer realm="http://127.0.0.1:1/token", service="s", '
                         'scope="repository:a:pull repository:b:pull,push", '
                         'error="insufficient_scope"')
    assert ch is not None
    assert ch.error == "insufficient_scope"
    assert ch.scopes == ("repository:a:pull", "repository:b:pull,push")


def test_basic_and_case_insensitivity() -> None:
    ch = parse_challenge('BASIC Realm="my realm"')
    assert ch == Challenge("basic", (("realm", "my realm"),))
    assert ch.get("REALM") == "my realm"


def test_unquoted_values_and_escapes() -> None:
    ch = parse_challenge(r'Bearer realm=https://a/t,service=svc,x="q\"uote\\d"')
    assert ch is not None
    assert (ch.realm, ch.service, ch.get("x")) == ("https://a/t", "svc", 'q"uote\\d')


def test_several_challenges_prefer_bearer() -> None:
    header = 'Basic realm="r1", Bearer realm="https://t",service="s"'
    chs = parse_challenges(header)
    assert [c.scheme for c in chs] == ["basic", "bearer"]
    chosen = parse_challenge(header)
    assert chosen is not None and chosen.realm == "https://t"


def test_empty_and_garbage() -> None:
    assert parse_challenge("") is None
    assert parse_challenges("   ") == []
    ch = parse_challenge("Negotiate abc==")
    assert ch is not None and ch.scheme == "negotiate" and ch.params == ()
    only = parse_challenge("Bearer")
    assert only == Challenge("bearer")
