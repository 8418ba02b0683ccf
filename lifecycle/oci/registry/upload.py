"""The blob upload protocol: POST a session, PATCH chunks, PUT with ``digest``.

OCI distribution-spec v1.1 "Pushing blobs": a session starts with ``POST /v2/<name>/blobs/uploads/``
(202 and a ``Location``); a small blob goes in one ``PUT <location>&digest=<d>``; a large one in
``PATCH`` requests with ``Content-Range: <start>-<end>`` and ``Content-Type:
application/octet-stream``, each answering 202 and a new ``Location``, then an empty ``PUT``.
``Location`` may be absolute or relative and may already hold a query (distribution puts
``_state`` there), so the digest is appended with ``&``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote, urljoin

import requests

from lifecycle.errors import RegistryError
from lifecycle.oci.digest import Digest
from lifecycle.oci.reference import Repository
from lifecycle.oci.registry import errors
from lifecycle.oci.registry.auth import Scopes
from lifecycle.oci.registry.blob import BlobSource, Cursor
from lifecycle.oci.registry.transport import Body

_OCTET = {"Content-Type": "application/octet-stream"}

BodyFactory = Callable[[], Body]
"""Builds a request body afresh for each try."""


class Requester(Protocol):
    """What the upload steps need from the client: URLs and authenticated requests."""

    def url(self, repo: Repository, suffix: str) -> str:
        """``<base>/v2/<repository>/<suffix>``."""
        ...

    def request(self, method: str, repo: Repository | str, url: str, *, scopes: Scopes,
                what: str, headers: dict[str, str] | None = None,
                body: Body | None = None, body_factory: BodyFactory | None = None,
                params: dict[str, str] | None = None,
                stream: bool = False) -> requests.Response:
        """Send with auth for ``scopes``."""
        ...


def slicer(cursor: Cursor, offset: int, length: int) -> BodyFactory:
    """A body factory for bytes ``[offset, offset+length)`` of the cursor's blob."""
    return lambda: cursor.slice(offset, length)


def start_upload(http: Requester, repo: Repository) -> str:
    """POST an upload session; return its absolute Location."""
    url = http.url(repo, "blobs/uploads/")
    with http.request("POST", repo, url, scopes=(repo.scope(push=True),), body=b"",
                      what=f"start upload to {repo}") as resp:
        if resp.status_code != 202:
            raise errors.from_response(resp, context=f"push to {repo}",
                                       registry=repo.registry, subject="upload")
        return location_of(resp, repo)


def patch_chunks(http: Requester, repo: Repository, location: str, blob: BlobSource,
                 chunk_size: int) -> str:
    """PATCH ``blob`` in ``chunk_size`` pieces; return the Location to finish at."""
    cursor = Cursor(blob, f"upload of {blob.digest}")
    try:
        for offset in range(0, blob.size, chunk_size):
            length = min(chunk_size, blob.size - offset)
            headers = {**_OCTET, "Content-Range": f"{offset}-{offset + length - 1}"}
            resp = http.request(
                "PATCH", repo, location, scopes=(repo.scope(push=True),), headers=headers,
                body_factory=slicer(cursor, offset, length),
                what=f"upload chunk {offset} of {blob.digest} to {repo}")
            with resp:
                if resp.status_code != 202:
                    raise errors.from_response(resp, context=f"push to {repo}",
                                               registry=repo.registry,
                                               subject=f"blob {blob.digest}")
                location = location_of(resp, repo)
    finally:
        cursor.close()
    return location


def finish(http: Requester, repo: Repository, location: str, digest: Digest,
           factory: BodyFactory | None) -> None:
    """PUT ``<location>&digest=`` with the remaining bytes (``factory``) or none."""
    sep = "&" if "?" in location else "?"
    url = f"{location}{sep}digest={quote(str(digest), safe='')}"
    with http.request("PUT", repo, url, scopes=(repo.scope(push=True),), headers=_OCTET,
                      body=b"" if factory is None else None, body_factory=factory,
                      what=f"upload of {digest} to {repo}") as resp:
        if resp.status_code not in (201, 204):
            raise errors.from_response(resp, context=f"push to {repo}",
                                       registry=repo.registry, subject=f"blob {digest}")


def location_of(resp: requests.Response, repo: Repository) -> str:
    """The absolute upload URL from ``Location`` (relative ones are resolved)."""
    location = resp.headers.get("Location")
    if not location:
        raise RegistryError(f"push to {repo}: registry sent no upload Location",
                            status=resp.status_code)
    return urljoin(resp.url, location)

