"""Reference parsing: Docker Hub defaults, ports, tags, digests, and refusals naming the input."""

from __future__ import annotations

import pytest

from lifecycle.errors import InvalidReferenceError
from lifecycle.oci.digest import Digest
from lifecycle.oci.reference import Reference, Repository, api_host, parse

D = "sha256:" + "ab" * 32

GOOD = [
    ("busybox", "docker.io", "library/busybox", "latest", None),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
    ("library/busybox", "docker.io", "library/busybox", "latest", None),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None),
    ("index.docker.io/busybox:x", "docker.io", "library/busybox", "x", None),
    ("registry-1.docker.io/foo/bar", "docker.io", "foo/bar", "latest", None),
    ("paketo/builder:base", "docker.io", "paketo/builder", "base", None),
    ("ghcr.io/org/app:v1.2.3", "ghcr.io", "org/app", "v1.2.3", None),
    ("localhost/app", "localhost", "app", "latest", None),
    ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None),
    ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", "latest", None),
    ("[::1]:5000/app", "[::1]:5000", "app", "latest", None),
    (f"busybox@{D}", "docker.io", "library/busybox", None, D),
    (f"reg.example.com/app:tag@{D}", "reg.example.com", "app", "tag", D),
    ("reg.example.com:443/a_b/c__d/e-f--g/h.i", "reg.example.com:443", "a_b/c__d/e-f--g/h.i",
     "latest", None),
    ("Registry.Example.com/app", "Registry.Example.com", "app", "latest", None),
    ("a" * 10 + ":" + "T" * 128, "docker.io", "library/" + "a" * 10, "T" * 128, None),
    ("app:_x", "docker.io", "library/app", "_x", None),
]

BAD = [
    ("", "empty"),
    (" busybox", "padded"),
    ("Busybox", "lowercase"),
    ("docker.io/Library/busybox", "lowercase"),
    ("reg.io/app:", "bad tag"),
    ("reg.io/app:-x", "bad tag"),
    ("reg.io/app:" + "t" * 129, "bad tag"),
    ("reg.io/app@sha256:abc", "bad digest"),
    ("reg.io/app@md5:" + "a" * 32, "bad digest"),
    ("reg.io/", "missing repository"),
    ("reg.io//app", "bad repository component"),
    ("reg.io/app-/x", "bad repository component"),
    ("reg.io/_app", "bad repository component"),
    ("reg.io/a..b", "bad repository component"),
    ("re_g.io/app", "bad registry"),
    ("reg.io:port/app", "bad registry"),
    ("reg.io/" + "a" * 256, "longer than 255"),
]


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), GOOD)
def test_parse_good(text: str, registry: str, repository: str, tag: str | None,
                    digest: str | None) -> None:
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    assert (str(ref.digest) if ref.digest else None) == digest
    assert Reference.parse(str(ref)) == ref


@pytest.mark.parametrize(("text", "why"), BAD)
def test_parse_bad_names_the_reference(text: str, why: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse(text)
    assert repr(text) in str(info.value)
    assert why in str(info.value)
    assert info.value.exit_code == 3


def test_str_and_helpers() -> None:
    ref = parse("busybox")
    assert str(ref) == "docker.io/library/busybox:latest"
    assert ref.identifier == "latest"
    pinned = ref.with_digest(D)
    assert str(pinned) == f"docker.io/library/busybox@{D}"
    assert pinned.identifier == D and pinned.tag is None
    assert pinned.with_tag("1") == Reference("docker.io", "library/busybox", "1")
    assert ref.with_digest(Digest.parse(D)) == pinned
    assert ref.context() == Repository("docker.io", "library/busybox")
    assert ref.context().scope(push=True) == "repository:library/busybox:pull,push"
    assert str(ref.context()) == "docker.io/library/busybox"
    with pytest.raises(InvalidReferenceError):
        ref.with_tag("bad tag")
    with pytest.raises(InvalidReferenceError):
        ref.with_digest("sha256:nope")


def test_api_host() -> None:
    assert api_host("docker.io") == "index.docker.io"
    assert api_host("127.0.0.1:5000") == "127.0.0.1:5000"


def test_reference_is_frozen_and_hashable() -> None:
    ref = parse("a/b:c")
    with pytest.raises(AttributeError):
        ref.tag = "d"  # type: ignore[misc]
    assert {ref, parse("docker.io/a/b:c")} == {ref}
