"""Image references: ``[host[:port]/]repo[:tag][@digest]``, with Docker Hub defaults.

Grammar of distribution's ``reference`` package (docker/distribution ``reference/regexp.go``) and
OCI distribution-spec v1.1 "Pulling manifests" (``<name>`` and ``<reference>``): the first path
component is a registry host when it contains ``.`` or ``:``, is ``localhost``, or has an upper-case
letter; otherwise the registry is ``docker.io`` and a single-component name gets ``library/``.
Repository components are lower case. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lifecycle.errors import ImageError, InvalidReferenceError
from lifecycle.oci.digest import Digest

DOCKER_HUB = "docker.io"
"""The canonical name of Docker Hub in references and keychains."""

DOCKER_HUB_API = "index.docker.io"
"""The host pypack talks to for Docker Hub (it redirects as needed)."""

DEFAULT_TAG = "latest"

_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_COMPONENT_RE = re.compile(rf"^{_COMPONENT}$")
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(
    rf"^(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository in a registry: what registry auth scopes and blob mounts talk about."""

    registry: str
    repository: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}"

    def scope(self, push: bool = False) -> str:
        """The token-auth scope string, ``repository:<name>:pull[,push]``."""
        actions = "pull,push" if push else "pull"
        return f"repository:{self.repository}:{actions}"


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed, normalised image reference. ``str(ref)`` is fully qualified."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse ``text``; raise InvalidReferenceError naming it when it is malformed."""
        return parse(text)

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out

    @property
    def identifier(self) -> str:
        """What goes after ``/manifests/``: the digest when there is one, else the tag."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or DEFAULT_TAG

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str) -> Reference:
        """The same repository at ``tag`` (any digest dropped)."""
        _check_tag(tag, f"{self.name}:{tag}")
        return Reference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: Digest | str) -> Reference:
        """The same repository pinned to ``digest`` (the tag is dropped)."""
        d = digest if isinstance(digest, Digest) else _parse_digest(digest, f"{self.name}@{digest}")
        return Reference(self.registry, self.repository, None, d)

    def context(self) -> Repository:
        """The repository this reference lives in, for auth scopes and mounts."""
        return Repository(self.registry, self.repository)


def api_host(registry: str) -> str:
    """The host:port to send HTTP requests to for ``registry``."""
    return DOCKER_HUB_API if registry == DOCKER_HUB else registry


def parse(text: str) -> Reference:
    """Parse an image reference, applying Docker Hub defaults and ``latest`` when untagged."""
    if not text or text != text.strip():
        raise InvalidReferenceError(f"invalid image reference {text!r}: empty or padded")
    rest, digest = _split_digest(text)
    rest, tag = _split_tag(rest, text)
    registry, repository = _split_registry(rest, text)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, repository, tag, digest)


def _split_digest(text: str) -> tuple[str, Digest | None]:
    if "@" not in text:
        return text, None
    rest, _, d = text.partition("@")
    return rest, _parse_digest(d, text)


def _parse_digest(d: str, text: str) -> Digest:
    try:
        return Digest.parse(d)
    except ImageError:
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: bad digest {d!r} (want sha256:<64 hex>)") from None


def _split_tag(rest: str, text: str) -> tuple[str, str | None]:
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon <= slash:
        return rest, None
    tag = rest[colon + 1:]
    _check_tag(tag, text)
    return rest[:colon], tag


def _check_tag(tag: str, text: str) -> None:
    if not _TAG_RE.match(tag):
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: bad tag {tag!r} "
            "(letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')")


def _split_registry(rest: str, text: str) -> tuple[str, str]:
    first, sep, remainder = rest.partition("/")
    is_host = sep and ("." in first or ":" in first or first == "localhost"
                       or first.lower() != first)
    if is_host:
        if not _DOMAIN_RE.match(first):
            raise InvalidReferenceError(f"invalid image reference {text!r}: bad registry {first!r}")
        registry, repository = first, remainder
    else:
        registry, repository = DOCKER_HUB, rest
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    _check_repository(repository, text)
    return registry, repository


def _check_repository(repository: str, text: str) -> None:
    if not repository:
        raise InvalidReferenceError(f"invalid image reference {text!r}: missing repository")
    if repository.lower() != repository:
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: repository name must be lowercase")
    for component in repository.split("/"):
        if not _COMPONENT_RE.match(component):
            raise InvalidReferenceError(
                f"invalid image reference {text!r}: bad repository component {component!r} "
                "(lowercase letters and digits, separated by '.', '_', '__' or '-')")
    if len(repository) > _MAX_NAME:
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: repository longer than {_MAX_NAME} characters")
