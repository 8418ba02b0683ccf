"""Registry authentication: ping, Basic, and Docker token (Bearer) auth with a per-scope cache.

Docker registry token auth spec ("token.md", "oauth.md") and OCI distribution-spec v1.1
"API version check": ``GET /v2/`` tells whether auth is needed (200) or how (401 and a
``WWW-Authenticate`` challenge). For Bearer, a token is fetched from the realm with ``service`` and
``scope`` (GET with Basic credentials, or an OAuth2 POST with an identity token); the answer holds
``token`` or ``access_token``. Tokens are cached per (registry, scopes) until they expire. A 401
with ``error="insufficient_scope"`` widens the scopes and fetches again.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests

from lifecycle.errors import AuthError, RegistryError
from lifecycle.oci.registry import errors
from lifecycle.oci.registry.challenge import Challenge, parse_challenge
from lifecycle.oci.registry.credentials import AnonymousKeychain, Credential, Keychain
from lifecycle.oci.registry.transport import Transport

log = logging.getLogger(__name__)

ANONYMOUS = Challenge("none")
"""The state of a registry whose ``/v2/`` answered 200 without credentials."""

Scopes = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires: float


class Authenticator:
    """Produces the ``Authorization`` header for a (registry, scopes) and reacts to 401s."""

    def __init__(self, transport: Transport, keychain: Keychain | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._transport = transport
        self._keychain: Keychain = keychain or AnonymousKeychain()
        self._clock = clock
        self._lock = threading.Lock()
        self._challenges: dict[str, Challenge] = {}
        self._creds: dict[str, Credential | None] = {}
        self._tokens: dict[tuple[str, frozenset[str]], _Token] = {}
        self._widened: dict[tuple[str, frozenset[str]], Scopes] = {}
        self.token_fetches = 0
        """How many tokens were fetched from realms (tests check the cache with it)."""

    def __repr__(self) -> str:
        return f"Authenticator(registries={sorted(self._challenges)})"

    def ping(self, registry: str) -> Challenge:
        """``GET /v2/`` without credentials; remember and return the challenge (or ANONYMOUS)."""
        url = f"{self._transport.base_url(registry)}/v2/"
        resp = self._transport.send("GET", url, what=f"ping {registry}")
        with resp:
            if resp.status_code == 200:
                challenge = ANONYMOUS
            elif resp.status_code == 401:
                challenge = parse_challenge(resp.headers.get("WWW-Authenticate", "")) or ANONYMOUS
            else:
                raise errors.from_response(resp, context=f"ping {registry}", registry=registry)
        with self._lock:
            self._challenges[registry] = challenge
        return challenge

    def authorization(self, registry: str, scopes: Scopes) -> str | None:
        """The ``Authorization`` value for requests to ``registry`` needing ``scopes``."""
        challenge = self._challenges.get(registry) or self.ping(registry)
        if challenge.scheme == "none":
            return None
        cred = self._credential(registry)
        if cred is not None and cred.registry_token:
            return f"Bearer {cred.registry_token}"
        if challenge.scheme == "basic":
            return _basic(cred) if cred is not None and cred.has_basic else None
        if challenge.scheme == "bearer":
            scopes = self._widen(registry, scopes)
            return f"Bearer {self._token(registry, challenge, scopes, cred)}"
        raise AuthError(f"registry {registry} asks for unsupported auth scheme "
                        f"{challenge.scheme!r}")

    def unauthorized(self, registry: str, scopes: Scopes, resp: requests.Response,
                     attempt: int) -> Scopes:
        """React to a 401 on try ``attempt``: return the scopes to retry with, or raise."""
        challenge = parse_challenge(resp.headers.get("WWW-Authenticate", ""))
        codes = tuple(i.code for i in errors.parse_errors(resp))
        with self._lock:
            previous = self._challenges.get(registry)
            if challenge is not None:
                self._challenges[registry] = challenge
            self._tokens.pop((registry, frozenset(scopes)), None)
        if challenge is not None and challenge.error == "insufficient_scope":
            wider = tuple(dict.fromkeys(scopes + challenge.scopes))
            if set(wider) != set(scopes):
                log.debug("registry %s wants wider scope %s", registry, challenge.scope)
                with self._lock:
                    self._widened[(registry, frozenset(scopes))] = wider
                return wider
        if attempt == 0 and challenge is not None and (previous != challenge or
                                                        challenge.scheme == "bearer"):
            return scopes
        if challenge is not None and challenge.error == "insufficient_scope":
            raise AuthError(f"access to {registry} denied: the credentials do not grant "
                            f"{challenge.scope or ' '.join(scopes)}: check credentials and "
                            "permissions (docker login / CNB_REGISTRY_AUTH)",
                            status=401, codes=codes)
        raise errors.auth_failed(registry, 401, codes)

    def _widen(self, registry: str, scopes: Scopes) -> Scopes:
        """The scopes a registry asked for last time these were requested (bounded chain)."""
        for _ in range(4):
            wider = self._widened.get((registry, frozenset(scopes)))
            if wider is None:
                break
            scopes = wider
        return scopes

    def _credential(self, registry: str) -> Credential | None:
        if registry not in self._creds:
            cred = self._keychain.resolve(registry)
            with self._lock:
                self._creds[registry] = cred
        return self._creds[registry]

    def _token(self, registry: str, challenge: Challenge, scopes: Scopes,
               cred: Credential | None) -> str:
        key = (registry, frozenset(scopes))
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached.expires > self._clock():
            return cached.value
        token = self._fetch_token(registry, challenge, scopes, cred)
        with self._lock:
            self._tokens[key] = token
            self.token_fetches += 1
        return token.value

    def _fetch_token(self, registry: str, challenge: Challenge, scopes: Scopes,
                     cred: Credential | None) -> _Token:
        realm = challenge.realm
        if not realm:
            raise AuthError(f"registry {registry} sent a Bearer challenge without a realm")
        self._check_realm(registry, realm, cred)
        service = challenge.service or ""
        what = f"token for {registry}"
        if cred is not None and cred.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": cred.identity_token,
                    "service": service, "scope": " ".join(scopes), "client_id": "pypack"}
            resp = self._transport.send("POST", realm, what=what, body=lambda: _form(form),
                                        headers={"Content-Type":
                                                 "application/x-www-form-urlencoded"})
        else:
            params = [("service", service)] + [("scope", s) for s in scopes]
            auth = _basic(cred) if cred is not None and cred.has_basic else None
            resp = self._transport.send("GET", realm, what=what, auth=auth, params=params)
        with resp:
            return self._parse_token(registry, resp)

    def _parse_token(self, registry: str, resp: requests.Response) -> _Token:
        if resp.status_code in (401, 403):
            raise errors.auth_failed(registry, resp.status_code)
        if resp.status_code != 200:
            raise RegistryError(f"token server for {registry} answered HTTP "
                                f"{resp.status_code}", status=resp.status_code)
        try:
            body = resp.json()
            value = str(body.get("token") or body.get("access_token") or "")
            expires_in = float(body.get("expires_in") or 60)
        except (ValueError, AttributeError):
            value, expires_in = "", 0.0
        if not value:
            raise AuthError(f"token server for {registry} returned no token")
        return _Token(value, self._clock() + max(expires_in, 60.0) - 10.0)

    def _check_realm(self, registry: str, realm: str, cred: Credential | None) -> None:
        parts = urlsplit(realm)
        if parts.scheme == "https":
            return
        if parts.scheme != "http":
            raise AuthError(f"registry {registry} sent a token realm that is not an http(s) URL")
        if cred is not None and not self._transport.plain_http_ok(parts.netloc):
            raise AuthError(f"refusing to send credentials for {registry} to a plain-HTTP token "
                            f"realm on {parts.netloc}; name it insecure if you trust it")


def _basic(cred: Credential) -> str:
    raw = f"{cred.username}:{cred.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode("ascii")
