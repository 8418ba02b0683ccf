"""A tiny Docker token-auth server for tests (Docker registry token auth spec, "token.md").

It runs ``http.server`` in a thread, signs ES256 JWTs with a fresh P-256 key whose self-signed
certificate goes in the ``x5c`` header (so distribution needs no libtrust ``kid``), and grants the
asked scopes only to known users with the right password. Anonymous and wrong-password callers get
401. It counts the tokens it issues.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _make_cert(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pypack test token issuer")])
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))


@dataclass
class TokenServer:
    """Issues registry tokens for ``users`` at ``http://127.0.0.1:<port>/token``."""

    users: dict[str, str]
    service: str = "pypack-test-registry"
    issuer: str = "pypack-test-issuer"
    expires_in: int = 300
    issued: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    _key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._cert = _make_cert(self._key)

    @property
    def realm(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def write_cert(self, path: Path) -> Path:
        """Write the signing certificate (PEM) for REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE."""
        path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        return path

    def start(self) -> TokenServer:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def grant(self, auth_header: str | None, service: str,
              scopes: list[str]) -> tuple[int, dict[str, Any]]:
        """Return (status, JSON body) for a token request."""
        user = self._check_user(auth_header)
        with self._lock:
            self.requests.append({"user": user, "service": service, "scopes": scopes})
        if user is None or service != self.service:
            return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}
        token = self.make_token(user, [_access(s) for s in scopes if s.count(":") >= 2])
        with self._lock:
            self.issued += 1
        return 200, {"token": token, "access_token": token, "expires_in": self.expires_in,
                     "issued_at": dt.datetime.now(dt.UTC).isoformat()}

    def _check_user(self, auth_header: str | None) -> str | None:
        if not auth_header or not auth_header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth_header[6:]).decode().partition(":")
        except ValueError:
            return None
        ok = user in self.users and secrets.compare_digest(self.users[user], password)
        return user if ok else None

    def make_token(self, subject: str, access: list[dict[str, Any]]) -> str:
        """A signed JWT for ``subject`` with ``access`` claims."""
        der = self._cert.public_bytes(serialization.Encoding.DER)
        header = {"alg": "ES256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "."
                         + _b64url(json.dumps(claims).encode()))
        der_sig = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der_sig)
        return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def _access(scope: str) -> dict[str, Any]:
    kind, rest = scope.split(":", 1)
    name, _, actions = rest.rpartition(":")
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}


def _handler_for(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/token":
                self.send_error(404)
                return
            query = parse_qs(parts.query)
            scopes = [s for value in query.get("scope", []) for s in value.split()]
            status, body = server.grant(self.headers.get("Authorization"),
                                        (query.get("service") or [""])[0], scopes)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
