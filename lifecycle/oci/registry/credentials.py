"""Registry credentials and keychains: CNB_REGISTRY_AUTH, Docker config.json, credential helpers.

Sources, in the order ``default_keychain`` tries them:

* ``CNB_REGISTRY_AUTH`` (CNB Platform API 0.15, "Registry Authentication"): a JSON object mapping a
  registry to an ``Authorization`` value, ``"Basic <base64 user:pass>"`` or ``"Bearer <token>"``;
* Docker's ``config.json`` (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``):
  ``credHelpers`` and ``credsStore`` run ``docker-credential-<name> get`` with the server URL on
  stdin (docker-credential-helpers protocol); ``auths`` entries hold ``auth`` (base64
  ``user:pass``), ``username``/``password`` or ``identitytoken``.

No secret is ever logged or put in ``repr``/exception text.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lifecycle.errors import AuthError, UsageError
from lifecycle.oci.reference import DOCKER_HUB

log = logging.getLogger(__name__)

HUB_CONFIG_KEY = "https://index.docker.io/v1/"
"""The key Docker stores Docker Hub credentials under (also the helper's server URL)."""

_HUB_KEYS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True, slots=True)
class Credential:
    """What to present to a registry. Secrets are excluded from ``repr`` and equality output."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    """An OAuth2 refresh token (``identitytoken``) exchanged at the token realm."""
    registry_token: str = field(default="", repr=False)
    """A bearer token sent as is (``CNB_REGISTRY_AUTH`` ``Bearer <token>``)."""

    @property
    def has_basic(self) -> bool:
        """True when a username and password are known."""
        return bool(self.username and self.password)

    def __repr__(self) -> str:
        kinds = [k for k, v in (("password", self.password), ("identity_token",
                 self.identity_token), ("registry_token", self.registry_token)) if v]
        return f"Credential(username={self.username!r}, secrets={kinds})"


class Keychain(Protocol):
    """Finds the credential for a registry (``host[:port]``, ``docker.io`` for Docker Hub)."""

    def resolve(self, registry: str) -> Credential | None:
        """The credential to use for ``registry``, or None for anonymous access."""
        ...


class AnonymousKeychain:
    """Never has credentials."""

    def resolve(self, registry: str) -> Credential | None:
        """Always None."""
        return None


@dataclass(frozen=True, slots=True)
class StaticKeychain:
    """Credentials given in code, keyed by registry (tests and callers that inject secrets)."""

    entries: Mapping[str, Credential]

    def resolve(self, registry: str) -> Credential | None:
        """The entry for ``registry`` (Docker Hub aliases match ``docker.io``)."""
        return self.entries.get(registry) or self.entries.get(_normalise_key(registry))


@dataclass(frozen=True, slots=True)
class MultiKeychain:
    """Tries each keychain in order; the first credential wins."""

    keychains: tuple[Keychain, ...]

    def resolve(self, registry: str) -> Credential | None:
        """The first credential any keychain resolves, or None."""
        for keychain in self.keychains:
            cred = keychain.resolve(registry)
            if cred is not None:
                return cred
        return None


@dataclass(frozen=True, slots=True)
class EnvKeychain:
    """``CNB_REGISTRY_AUTH``: ``{"registry": "Basic <b64>" | "Bearer <token>"}``."""

    value: str = field(repr=False)

    def resolve(self, registry: str) -> Credential | None:
        """Parse the variable and return the entry for ``registry``."""
        entries = parse_cnb_registry_auth(self.value)
        return entries.get(registry) or entries.get(_normalise_key(registry))


def parse_cnb_registry_auth(value: str) -> dict[str, Credential]:
    """Parse a ``CNB_REGISTRY_AUTH`` value; raise UsageError (never quoting secrets)."""
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        raise UsageError("CNB_REGISTRY_AUTH is not valid JSON (want "
                         '{"registry": "Basic <base64>" or "Bearer <token>"})') from None
    if not isinstance(data, dict):
        raise UsageError("CNB_REGISTRY_AUTH must be a JSON object keyed by registry")
    out: dict[str, Credential] = {}
    for registry, header in data.items():
        if not isinstance(header, str):
            raise UsageError(f"CNB_REGISTRY_AUTH[{registry!r}] must be a string")
        out[_normalise_key(registry)] = _credential_from_header(registry, header)
    return out


def _credential_from_header(registry: str, header: str) -> Credential:
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return Credential(registry_token=value)
    if scheme.lower() == "basic" and value:
        return _decode_basic(value, f"CNB_REGISTRY_AUTH[{registry!r}]")
    raise UsageError(f"CNB_REGISTRY_AUTH[{registry!r}] must be 'Basic <base64>' or "
                     "'Bearer <token>'")


def _decode_basic(b64: str, where: str) -> Credential:
    try:
        text = base64.b64decode(b64, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise UsageError(f"{where}: auth value is not base64 of 'user:password'") from None
    user, sep, password = text.partition(":")
    if not sep:
        raise UsageError(f"{where}: auth value is not base64 of 'user:password'")
    return Credential(username=user, password=password)


Runner = Callable[[list[str], str], "subprocess.CompletedProcess[str]"]


def _run_helper(argv: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True,
                          check=False, timeout=60)


@dataclass(frozen=True, slots=True)
class DockerConfigKeychain:
    """Docker's ``config.json``: ``credHelpers``, ``credsStore`` and ``auths``."""

    path: Path | None = None
    """The config file; default ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``."""
    runner: Runner = _run_helper

    def resolve(self, registry: str) -> Credential | None:
        """Look ``registry`` up the way ``docker login`` stored it."""
        config = self._load()
        if not config:
            return None
        helper, explicit = _helper_for(config, registry)
        if helper:
            cred = self._from_helper(helper, registry)
            if cred is not None or explicit:
                return cred
        return _from_auths(config.get("auths") or {}, registry, self._file())

    def _file(self) -> Path:
        if self.path is not None:
            return self.path
        base = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
        return Path(base) / "config.json"

    def _load(self) -> dict[str, Any]:
        path = self._file()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise UsageError(f"cannot read Docker config {path}: {type(e).__name__}") from None
        if not isinstance(data, dict):
            raise UsageError(f"Docker config {path} is not a JSON object")
        return data

    def _from_helper(self, helper: str, registry: str) -> Credential | None:
        program = f"docker-credential-{helper}"
        server = HUB_CONFIG_KEY if _normalise_key(registry) == DOCKER_HUB else registry
        log.debug("asking %s for credentials for %s", program, registry)
        try:
            proc = self.runner([program, "get"], server)
        except (OSError, subprocess.SubprocessError) as e:
            raise AuthError(f"credential helper {program} for {registry} failed to run: "
                            f"{type(e).__name__}") from None
        if proc.returncode != 0:
            if "credentials not found" in (proc.stdout + proc.stderr).lower():
                return None
            raise AuthError(f"credential helper {program} for {registry} exited with "
                            f"{proc.returncode}")
        return _parse_helper_output(proc.stdout, program, registry)


def _helper_for(config: Mapping[str, Any], registry: str) -> tuple[str | None, bool]:
    """The helper for ``registry`` and whether ``credHelpers`` named it (vs. ``credsStore``)."""
    helpers = config.get("credHelpers") or {}
    key = _normalise_key(registry)
    for name, helper in helpers.items():
        if _normalise_key(name) == key and isinstance(helper, str):
            return helper, True
    store = config.get("credsStore")
    return (store if isinstance(store, str) and store else None), False


def _parse_helper_output(stdout: str, program: str, registry: str) -> Credential | None:
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        raise AuthError(f"credential helper {program} for {registry} printed invalid JSON")\
            from None
    if not isinstance(data, dict):
        raise AuthError(f"credential helper {program} for {registry} printed invalid JSON")
    user, secret = str(data.get("Username") or ""), str(data.get("Secret") or "")
    if not secret:
        return None
    if user == "<token>":
        return Credential(identity_token=secret)
    return Credential(username=user, password=secret)


def _from_auths(auths: Mapping[str, Any], registry: str, path: Path) -> Credential | None:
    key = _normalise_key(registry)
    for name, entry in auths.items():
        if _normalise_key(name) == key and isinstance(entry, Mapping):
            return _auth_entry(entry, f"{path} auths[{name!r}]")
    return None


def _auth_entry(entry: Mapping[str, Any], where: str) -> Credential | None:
    identity = str(entry.get("identitytoken") or "")
    user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
    if entry.get("auth"):
        decoded = _decode_basic(str(entry["auth"]), where)
        user, password = decoded.username, decoded.password
    if not (identity or (user and password)):
        return None
    return Credential(username=user, password=password, identity_token=identity)


def _normalise_key(name: str) -> str:
    """``https://index.docker.io/v1/`` → ``docker.io``; ``http://h:5000/x`` → ``h:5000``."""
    host = name.strip()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix):]
    host = host.split("/", 1)[0]
    return DOCKER_HUB if host in _HUB_KEYS else host


def default_keychain(env: Mapping[str, str] | None = None,
                     extra: Iterable[Keychain] = ()) -> Keychain:
    """``extra`` keychains, then ``CNB_REGISTRY_AUTH``, then Docker's config.json."""
    env = os.environ if env is None else env
    chains: list[Keychain] = list(extra)
    if env.get("CNB_REGISTRY_AUTH"):
        chains.append(EnvKeychain(env["CNB_REGISTRY_AUTH"]))
    docker_config = env.get("DOCKER_CONFIG")
    path = Path(docker_config) / "config.json" if docker_config else None
    chains.append(DockerConfigKeychain(path))
    return MultiKeychain(tuple(chains))
