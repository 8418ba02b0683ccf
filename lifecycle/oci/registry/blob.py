"""Blob payloads for upload and the client's upload statistics.

A blob to push is known by digest and size and opened by a callable, so a retried request (OCI
distribution-spec v1.1 "Pushing blobs": monolithic PUT or chunked PATCH) can send the bytes again.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lifecycle.errors import ImageError
from lifecycle.oci.digest import Digest

Opener = Callable[[], IO[bytes]]
"""Opens the blob's bytes from the start, each time it is called."""


@dataclass(frozen=True, slots=True)
class BlobSource:
    """A blob to upload: its digest, its size and a way to (re)open its bytes."""

    digest: Digest
    size: int
    opener: Opener

    def open(self) -> IO[bytes]:
        """A fresh stream of the blob's bytes."""
        return self.opener()

    @classmethod
    def from_bytes(cls, data: bytes) -> BlobSource:
        """A blob held in memory (configs, manifests' blobs in tests)."""
        return cls(Digest.of(data), len(data), lambda: io.BytesIO(data))

    @classmethod
    def from_path(cls, path: Path, digest: Digest | None = None) -> BlobSource:
        """A blob in a file; the digest is computed when not given."""
        if digest is None:
            with path.open("rb") as f:
                digest = Digest.of_file(f)
        return cls(digest, path.stat().st_size, lambda: path.open("rb"))


@dataclass(frozen=True, slots=True)
class UploadStats:
    """What a client did with blobs: uploaded (and bytes), mounted, skipped as present."""

    blobs_uploaded: int = 0
    bytes_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_skipped: int = 0

    def add(self, *, uploaded: int = 0, nbytes: int = 0, mounted: int = 0,
            skipped: int = 0) -> UploadStats:
        """A new value with the counts added."""
        return UploadStats(self.blobs_uploaded + uploaded, self.bytes_uploaded + nbytes,
                           self.blobs_mounted + mounted, self.blobs_skipped + skipped)


class BodySlice:
    """``length`` bytes of a stream as a request body with a known ``len()``.

    Raises ImageError if the stream ends early, rather than leaving the server waiting. Not an
    ``io`` class on purpose: requests would trust its ``tell()`` over ``len()``.
    """

    def __init__(self, stream: IO[bytes], length: int, what: str) -> None:
        self._stream = stream
        self._left = length
        self._length = length
        self._what = what

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (all that is left when negative)."""
        if self._left <= 0:
            return b""
        n = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(n)
        if not data:
            raise ImageError(f"{self._what}: stream ended {self._left} bytes short of its size")
        self._left -= len(data)
        return data

    def close(self) -> None:
        """Does nothing: the cursor owns the underlying stream."""


class Cursor:
    """Reads a BlobSource in consecutive slices; re-opens it when a slice must be re-sent."""

    def __init__(self, blob: BlobSource, what: str) -> None:
        self._blob = blob
        self._what = what
        self._stream: IO[bytes] | None = None
        self._pos = 0

    def slice(self, offset: int, length: int) -> BodySlice:
        """A body for bytes ``[offset, offset+length)``."""
        if self._stream is None or self._pos != offset:
            self._reopen(offset)
        assert self._stream is not None
        self._pos = offset + length
        return BodySlice(self._stream, length, self._what)

    def _reopen(self, offset: int) -> None:
        self.close()
        stream = self._blob.open()
        self._stream = stream
        if offset == 0:
            return
        if stream.seekable():
            stream.seek(offset)
            return
        left = offset
        while left > 0:
            chunk = stream.read(min(left, 1 << 20))
            if not chunk:
                raise ImageError(f"{self._what}: stream ended before offset {offset}")
            left -= len(chunk)

    def close(self) -> None:
        """Close the open stream, if any."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
