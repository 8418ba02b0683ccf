"""A small registry client on ``requests``: blobs, manifests, tags, with auth and retries.

OCI distribution-spec v1.1: ``/v2/`` ping; blob HEAD/GET; uploads by ``POST`` then monolithic
``PUT ?digest=`` or chunked ``PATCH`` (``Content-Range``) then ``PUT``; cross-repository mount
(``POST ?mount=&from=``: 201 mounted, 202 an upload session to use instead); manifest
PUT/GET/HEAD/DELETE with explicit ``Accept`` and ``Content-Type``; ``tags/list`` with ``Link``
pagination. ``Location`` may be absolute or relative and may already carry a query.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import IO, BinaryIO, Literal, NamedTuple, cast
from urllib.parse import urljoin

import requests

from lifecycle import progress
from lifecycle.errors import AuthError, RegistryError
from lifecycle.oci import mediatypes
from lifecycle.oci.digest import Digest, VerifyingReader
from lifecycle.oci.reference import Reference, Repository
from lifecycle.oci.registry import errors, upload
from lifecycle.oci.registry.auth import Authenticator, Scopes
from lifecycle.oci.registry.blob import BlobSource, Cursor, UploadStats
from lifecycle.oci.registry.credentials import Keychain
from lifecycle.oci.registry.retry import RetryPolicy
from lifecycle.oci.registry.transport import Body, Transport
from lifecycle.oci.registry.upload import BodyFactory

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 64 << 20
"""Blobs larger than this are sent in PATCH chunks of this size."""

MAX_MANIFEST_SIZE = 4 << 20
"""Manifests larger than this are refused (distribution-spec recommends accepting 4 MiB)."""

PushResult = Literal["skipped", "mounted", "uploaded"]
"""What ``push_blob`` did: found the blob present, mounted it, or sent its bytes."""



class FetchedManifest(NamedTuple):
    """A manifest as the registry returned it: exact bytes, media type and digest."""

    data: bytes
    media_type: str
    digest: Digest


class ManifestHead(NamedTuple):
    """What a manifest HEAD tells: media type, digest and size."""

    media_type: str
    digest: Digest
    size: int


class RegistryClient:
    """Talks to OCI registries. Thread-safe for concurrent blob pushes.

    ``keychain`` supplies credentials (None: anonymous); ``insecure_registries`` may be spoken to
    over plain HTTP (loopback always may); ``chunk_size`` splits large uploads into PATCHes.
    """

    def __init__(self, keychain: Keychain | None = None, *,
                 insecure_registries: Iterable[str] = (),
                 session: requests.Session | None = None,
                 retry: RetryPolicy | None = None,
                 chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self.transport = Transport(session or requests.Session(), retry or RetryPolicy(),
                                   frozenset(insecure_registries))
        self.auth = Authenticator(self.transport, keychain)
        self.chunk_size = chunk_size
        self._lock = threading.Lock()
        self._stats = UploadStats()
        self._present: set[tuple[Repository, Digest]] = set()

    def __repr__(self) -> str:
        return f"RegistryClient(chunk_size={self.chunk_size}, stats={self._stats})"

    # --- bookkeeping ---------------------------------------------------------------------------
    @property
    def stats(self) -> UploadStats:
        """Blob counts since creation or the last ``reset_stats``."""
        return self._stats

    def reset_stats(self) -> None:
        """Zero the upload statistics."""
        with self._lock:
            self._stats = UploadStats()

    def _count(self, repo: Repository, digest: Digest, **counts: int) -> None:
        with self._lock:
            self._stats = self._stats.add(**counts)
            self._present.add((repo, digest))

    # --- plumbing ------------------------------------------------------------------------------
    def url(self, repo: Repository, suffix: str) -> str:
        """``<base>/v2/<repository>/<suffix>``."""
        return f"{self.transport.base_url(repo.registry)}/v2/{repo.repository}/{suffix}"

    def request(self, method: str, repo: Repository | str, url: str, *, scopes: Scopes,
                what: str, headers: dict[str, str] | None = None,
                body: Body | None = None, body_factory: BodyFactory | None = None,
                params: dict[str, str] | None = None, stream: bool = False) -> requests.Response:
        """Send with auth for ``scopes``: re-authorise on 401 (widening scopes if asked)."""
        registry = repo if isinstance(repo, str) else repo.registry
        factory = body_factory or ((lambda: body) if body is not None else None)
        for attempt in range(3):
            auth = self.auth.authorization(registry, scopes)
            resp = self.transport.send(method, url, what=what, auth=auth, headers=headers,
                                       body=factory, params=params, stream=stream)
            if resp.status_code != 401:
                return resp
            _ = resp.content
            resp.close()
            scopes = self.auth.unauthorized(registry, scopes, resp, attempt)
        raise errors.auth_failed(registry)

    def ping(self, registry: str) -> None:
        """Check that ``registry`` speaks distribution v2 and that credentials (if any) work."""
        challenge = self.auth.ping(registry)
        if challenge.scheme == "none":
            return
        url = f"{self.transport.base_url(registry)}/v2/"
        with self.request("GET", registry, url, scopes=(), what=f"ping {registry}") as resp:
            if resp.status_code != 200:
                raise errors.from_response(resp, context=f"ping {registry}", registry=registry)

    # --- blobs ---------------------------------------------------------------------------------
    def blob_exists(self, repo: Repository, digest: Digest, *, push: bool = False) -> int | None:
        """HEAD a blob: its size if present, None if not."""
        url = self.url(repo, f"blobs/{digest}")
        with self.request("HEAD", repo, url, scopes=(repo.scope(push),),
                          what=f"HEAD blob {digest} in {repo}") as resp:
            if resp.status_code == 404:
                return None
            if resp.status_code != 200:
                raise errors.from_response(resp, context=f"check {repo}",
                                           registry=repo.registry, subject=f"blob {digest}")
            size = int(resp.headers.get("Content-Length") or -1)
        with self._lock:
            self._present.add((repo, digest))
        return size

    def open_blob(self, repo: Repository, digest: Digest) -> VerifyingReader:
        """Stream a blob; reading it to the end raises DigestMismatchError on bad content."""
        url = self.url(repo, f"blobs/{digest}")
        resp = self.request("GET", repo, url, scopes=(repo.scope(),), stream=True,
                            what=f"GET blob {digest} from {repo}")
        if resp.status_code != 200:
            with resp:
                raise errors.from_response(resp, context=f"pull from {repo}",
                                           registry=repo.registry, subject=f"blob {digest}")
        size = int(resp.headers.get("Content-Length") or 0)
        task = progress.track(f"Downloading {digest.hex[:12]}", size)
        return VerifyingReader(cast(BinaryIO, progress.CountingReader(resp.raw, task)), digest,
                               what=f"blob from {repo}")

    def fetch_blob(self, repo: Repository, digest: Digest) -> bytes:
        """A whole blob in memory, digest verified (configs and small blobs)."""
        reader = self.open_blob(repo, digest)
        try:
            chunks = []
            while chunk := reader.read(1 << 20):
                chunks.append(chunk)
            reader.read(1)
            return b"".join(chunks)
        finally:
            reader.close()

    def push_blob(self, repo: Repository, blob: BlobSource, *,
                  mount_from: Sequence[Repository] = ()) -> PushResult:
        """Make ``blob`` present in ``repo``; return ``skipped``, ``mounted`` or ``uploaded``."""
        if (repo, blob.digest) in self._present or \
                self.blob_exists(repo, blob.digest, push=True) is not None:
            log.debug("blob %s already in %s", blob.digest, repo)
            self._count(repo, blob.digest, skipped=1)
            return "skipped"
        return self.upload_blob(repo, blob, mount_from=mount_from)

    def upload_blob(self, repo: Repository, blob: BlobSource, *,
                    mount_from: Sequence[Repository] = ()) -> PushResult:
        """Mount ``blob`` from another repository of the same registry, else upload it.

        A mount the registry refuses for lack of access to a source falls back to an upload.
        """
        location = None
        for source in mount_from:
            if source.registry != repo.registry or source == repo:
                continue
            try:
                mounted, location = self.mount_blob(repo, blob.digest, source)
            except AuthError as e:
                log.debug("mount from %s refused (%s); uploading instead", source, e.status)
                continue
            if mounted:
                return "mounted"
        if location is None:
            location = upload.start_upload(self, repo)
        task = progress.track(f"Uploading {blob.digest.hex[:12]}", blob.size)
        counted = BlobSource(blob.digest, blob.size,
                             lambda: cast(IO[bytes], progress.CountingReader(
                                 blob.open(), task, finish_on_close=False)))
        try:
            if blob.size > self.chunk_size:
                location = upload.patch_chunks(self, repo, location, counted, self.chunk_size)
                upload.finish(self, repo, location, blob.digest, None)
            else:
                cursor = Cursor(counted, f"upload of {blob.digest}")
                try:
                    upload.finish(self, repo, location, blob.digest,
                                  upload.slicer(cursor, 0, blob.size))
                finally:
                    cursor.close()
        finally:
            task.finish()
        self._count(repo, blob.digest, uploaded=1, nbytes=blob.size)
        log.info("uploaded blob %s (%d bytes) to %s", blob.digest, blob.size, repo)
        return "uploaded"

    def mount_blob(self, repo: Repository, digest: Digest,
                   source: Repository) -> tuple[bool, str | None]:
        """Try a cross-repository mount: (True, None) if mounted, else (False, session URL)."""
        url = self.url(repo, "blobs/uploads/")
        params = {"mount": str(digest), "from": source.repository}
        scopes = (repo.scope(push=True), source.scope())
        with self.request("POST", repo, url, scopes=scopes, params=params, body=b"",
                          what=f"mount {digest} into {repo}") as resp:
            if resp.status_code == 201:
                self._count(repo, digest, mounted=1)
                log.info("mounted blob %s from %s into %s", digest, source, repo)
                return True, None
            if resp.status_code == 202:
                return False, upload.location_of(resp, repo)
            raise errors.from_response(resp, context=f"push to {repo}", registry=repo.registry,
                                       subject=f"mount of blob {digest} from {source}")

    # --- manifests and tags ------------------------------------------------------------------
    def put_manifest(self, ref: Reference, data: bytes, media_type: str) -> Digest:
        """PUT a manifest at ``ref``'s tag or digest; return its digest (sha256 of ``data``)."""
        digest = Digest.of(data)
        repo = ref.context()
        url = self.url(repo, f"manifests/{ref.identifier}")
        with self.request("PUT", repo, url, scopes=(repo.scope(push=True),), body=data,
                          headers={"Content-Type": media_type},
                          what=f"PUT manifest {ref}") as resp:
            if resp.status_code not in (200, 201, 202):
                raise errors.from_response(resp, context=f"push to {repo}",
                                           registry=repo.registry, subject=f"manifest {ref}")
            _check_header_digest(resp, digest, ref)
        log.info("pushed manifest %s (%s)", ref, digest)
        return digest

    def push_manifest(self, ref: Reference, manifest_bytes: bytes, media_type: str,
                      required_blobs: Iterable[Digest],
                      required_manifests: Iterable[Digest] = ()) -> Digest:
        """PUT a manifest only once every blob it needs (config, layers) is confirmed present.

        Blobs uploaded, mounted or seen in this session are trusted; others are HEADed. For an
        index, pass its child manifests as ``required_manifests`` (checked with a manifest HEAD).
        """
        repo = ref.context()
        for digest in required_blobs:
            if (repo, digest) not in self._present and \
                    self.blob_exists(repo, digest, push=True) is None:
                raise _missing(repo, ref, f"blob {digest}", "BLOB_UNKNOWN")
        for digest in required_manifests:
            if self.head_manifest(ref.with_digest(digest)) is None:
                raise _missing(repo, ref, f"manifest {digest}", "MANIFEST_UNKNOWN")
        return self.put_manifest(ref, manifest_bytes, media_type)

    def get_manifest(self, ref: Reference) -> FetchedManifest:
        """GET a manifest (any OCI/Docker type); verified against ``ref.digest`` when pinned."""
        repo = ref.context()
        url = self.url(repo, f"manifests/{ref.identifier}")
        with self.request("GET", repo, url, scopes=(repo.scope(),),
                          headers={"Accept": mediatypes.ACCEPT_ALL},
                          what=f"GET manifest {ref}") as resp:
            if resp.status_code != 200:
                raise errors.from_response(resp, context=f"pull from {repo}",
                                           registry=repo.registry, subject=f"manifest {ref}")
            data = resp.content
            media_type = _media_type(resp, data)
        if len(data) > MAX_MANIFEST_SIZE:
            raise RegistryError(f"pull from {repo}: manifest {ref} is larger than 4 MiB")
        if ref.digest is not None:
            ref.digest.verify(data, what=f"manifest {ref}")
            return FetchedManifest(data, media_type, ref.digest)
        digest = Digest.of(data)
        _check_header_digest(resp, digest, ref)
        return FetchedManifest(data, media_type, digest)

    def head_manifest(self, ref: Reference) -> ManifestHead | None:
        """HEAD a manifest: media type, digest, size; None when it does not exist."""
        repo = ref.context()
        url = self.url(repo, f"manifests/{ref.identifier}")
        with self.request("HEAD", repo, url, scopes=(repo.scope(),),
                          headers={"Accept": mediatypes.ACCEPT_ALL},
                          what=f"HEAD manifest {ref}") as resp:
            if resp.status_code == 404:
                return None
            if resp.status_code != 200:
                raise errors.from_response(resp, context=f"check {repo}",
                                           registry=repo.registry, subject=f"manifest {ref}")
            header = resp.headers.get("Docker-Content-Digest")
            if header is None and ref.digest is None:
                raise RegistryError(f"check {repo}: registry sent no digest for {ref}")
            digest = Digest.parse(header) if header else ref.digest
            assert digest is not None
            media_type = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
            return ManifestHead(media_type, digest, int(resp.headers.get("Content-Length") or 0))

    def delete_manifest(self, ref: Reference) -> None:
        """DELETE a manifest by digest (distribution 2.8 refuses deletes by tag)."""
        if ref.digest is None:
            raise RegistryError(f"delete {ref}: a manifest can only be deleted by digest")
        repo = ref.context()
        url = self.url(repo, f"manifests/{ref.digest}")
        with self.request("DELETE", repo, url, scopes=(f"repository:{repo.repository}:delete",
                                                       repo.scope(push=True)),
                          what=f"DELETE manifest {ref}") as resp:
            if resp.status_code not in (200, 202):
                raise errors.from_response(resp, context=f"delete from {repo}",
                                           registry=repo.registry, subject=f"manifest {ref}")

    def list_tags(self, repo: Repository) -> list[str]:
        """All tags of ``repo``, following ``Link: <...>; rel="next"`` pages."""
        url: str | None = self.url(repo, "tags/list")
        tags: list[str] = []
        while url:
            with self.request("GET", repo, url, scopes=(repo.scope(),),
                              what=f"list tags of {repo}") as resp:
                if resp.status_code != 200:
                    raise errors.from_response(resp, context=f"list tags of {repo}",
                                               registry=repo.registry)
                tags.extend(resp.json().get("tags") or [])
                nxt = resp.links.get("next", {}).get("url")
                url = urljoin(resp.url, nxt) if nxt else None
        return tags


def _missing(repo: Repository, ref: Reference, what: str, code: str) -> RegistryError:
    return RegistryError(f"push to {repo}: refusing to write manifest {ref}: {what} is not in "
                         "the repository (push it first)", codes=(code,))


def _media_type(resp: requests.Response, data: bytes) -> str:
    header = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    if header and header not in ("application/json", "text/plain"):
        return header
    try:
        value = json.loads(data).get("mediaType")
    except (ValueError, AttributeError):
        value = None
    return str(value) if value else header


def _check_header_digest(resp: requests.Response, digest: Digest, ref: Reference) -> None:
    header = resp.headers.get("Docker-Content-Digest")
    if header and header.startswith(f"{digest.algorithm}:") and header != str(digest):
        raise RegistryError(f"{ref}: registry says the manifest digest is {header}, "
                            f"but its bytes hash to {digest}")

