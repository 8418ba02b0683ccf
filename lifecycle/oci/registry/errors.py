"""Turn registry error responses into one typed exception a person can act on.

OCI distribution-spec v1.1 "Error Codes": a failed request may carry
``{"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "...", "detail": ...}]}``.
The exception keeps the HTTP status and the codes; its text names registry, repository and
subject, never a credential.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from lifecycle.errors import AuthError, RegistryError, RegistryNotFoundError

_PHRASES = {
    "BLOB_UNKNOWN": "blob unknown to registry",
    "BLOB_UPLOAD_INVALID": "blob upload invalid",
    "BLOB_UPLOAD_UNKNOWN": "blob upload unknown (the upload session expired?)",
    "DIGEST_INVALID": "uploaded content does not match its digest",
    "MANIFEST_INVALID": "manifest invalid",
    "MANIFEST_UNKNOWN": "manifest unknown",
    "NAME_INVALID": "invalid repository name",
    "NAME_UNKNOWN": "repository unknown",
    "SIZE_INVALID": "content length does not match the size given",
    "UNSUPPORTED": "operation unsupported by this registry",
    "TOOMANYREQUESTS": "too many requests (rate limited)",
}


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One entry of a distribution error body."""

    code: str
    message: str
    detail: Any


def parse_errors(resp: requests.Response) -> tuple[ErrorInfo, ...]:
    """The ``errors`` entries of a response body; empty when the body is not that JSON."""
    try:
        body = json.loads(resp.content or b"{}")
    except (ValueError, UnicodeDecodeError):
        return ()
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ()
    return tuple(ErrorInfo(str(e.get("code") or "UNKNOWN"), str(e.get("message") or ""),
                           e.get("detail")) for e in errors if isinstance(e, dict))


def auth_failed(registry: str, status: int | None = 401,
                codes: tuple[str, ...] = ()) -> AuthError:
    """The error for rejected credentials."""
    return AuthError(f"authentication to {registry} failed: check credentials "
                     "(docker login / CNB_REGISTRY_AUTH)", status=status, codes=codes)


def from_response(resp: requests.Response, *, context: str, registry: str,
                  subject: str = "") -> RegistryError:
    """Build the exception for a failed response.

    ``context`` reads like ``push to 127.0.0.1:5000/app``; ``subject`` like ``blob sha256:...``.
    """
    infos = parse_errors(resp)
    codes = tuple(i.code for i in infos)
    status = resp.status_code
    if status == 401:
        return auth_failed(registry, status, codes)
    detail = _describe(infos, subject, status)
    suffix = f" ({', '.join(codes)})" if codes else ""
    if status == 403:
        return AuthError(f"{context}: access denied: {detail}{suffix}; check that the "
                         "credentials may access this repository", status=status, codes=codes)
    cls = RegistryNotFoundError if status == 404 else RegistryError
    return cls(f"{context}: {detail}{suffix}", status=status, codes=codes)


def _describe(infos: tuple[ErrorInfo, ...], subject: str, status: int) -> str:
    if not infos:
        base = {404: "not found", 405: "method not allowed"}.get(status, "")
        base = f"{base} (HTTP {status})" if base else f"HTTP {status}"
        return f"{subject}: {base}" if subject else base
    first = infos[0]
    if first.code == "MANIFEST_BLOB_UNKNOWN":
        return f"blob {_detail_digest(first.detail) or '(unnamed)'} unknown"
    if first.code == "MANIFEST_UNKNOWN" and subject:
        return f"{subject} not found"
    phrase = _PHRASES.get(first.code, first.message or first.code.lower())
    return f"{subject}: {phrase}" if subject else phrase


def _detail_digest(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        return str(detail.get("digest") or detail.get("Digest") or "")
    return ""
