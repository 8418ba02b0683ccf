"""A content-addressed blob directory (``<root>/<algorithm>/<hex>``) with atomic writes.

OCI image-spec "image-layout.md" (``blobs/`` directory). Blobs are written to a temp file in
the same directory and ``os.replace``d once their digest is known and checked.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from lifecycle.errors import DigestMismatchError, ImageError
from lifecycle.oci.digest import Digest
from lifecycle.oci.layer import verified


class PendingBlob:
    """A temp file being written; ``commit(digest)`` moves it to its content address."""

    def __init__(self, store: BlobStore, file: BinaryIO, tmp: str) -> None:
        self._store, self._tmp = store, tmp
        self.file = file

    def write(self, data: bytes) -> int:
        """Append ``data``."""
        return self.file.write(data)

    def commit(self, digest: Digest) -> Path:
        """Flush, fsync-free close and rename into place as ``digest``; returns its path."""
        self.file.close()
        dest = self._store.path(digest)
        os.replace(self._tmp, dest)
        return dest

    def discard(self) -> None:
        """Remove the temp file (after a failure)."""
        self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)


class BlobStore:
    """Blobs named by digest under ``root`` (for an OCI layout: ``<layout>/blobs``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, digest: Digest) -> Path:
        """Where blob ``digest`` lives."""
        return self.root / digest.algorithm / digest.hex

    def has(self, digest: Digest, size: int | None = None) -> bool:
        """True if blob ``digest`` exists (and has ``size`` bytes when given)."""
        try:
            st = self.path(digest).stat()
        except OSError:
            return False
        return size is None or st.st_size == size

    def open(self, digest: Digest) -> BinaryIO:
        """A stream of blob ``digest``, verified at EOF; ImageError if missing."""
        path = self.path(digest)
        try:
            return verified(open(path, "rb"), digest, f"blob {path}")
        except OSError as e:
            raise ImageError(f"blob {digest} missing from {self.root}: {e.strerror}") from e

    def read(self, digest: Digest, limit: int = 64 << 20) -> bytes:
        """The verified bytes of a small blob (manifest, config, index)."""
        with self.open(digest) as f:
            data = f.read(limit + 1)
            if len(data) > limit:
                raise ImageError(f"blob {digest} in {self.root} is larger than {limit} bytes")
            f.read()
        return data

    @contextlib.contextmanager
    def pending(self, algorithm: str = "sha256") -> Iterator[PendingBlob]:
        """A temp file in the blob directory; discarded unless committed."""
        d = self.root / algorithm
        try:
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
        except OSError as e:
            raise ImageError(f"cannot write blobs under {d}: {e.strerror}") from e
        blob = PendingBlob(self, os.fdopen(fd, "wb"), tmp)
        try:
            yield blob
        finally:
            blob.discard()

    def put(self, chunks: Iterable[bytes], expected: Digest | None = None) -> tuple[Digest, int]:
        """Store the bytes of ``chunks``; DigestMismatchError if they are not ``expected``."""
        h = (expected or Digest("sha256", "0" * 64)).hasher()
        size = 0
        try:
            with self.pending(h.name) as blob:
                for c in chunks:
                    h.update(c)
                    blob.write(c)
                    size += len(c)
                got = Digest(h.name, h.hexdigest())
                if expected is not None and got != expected:
                    raise DigestMismatchError(f"blob {expected}: content hashes to {got}")
                blob.commit(got)
        except OSError as e:
            raise ImageError(f"cannot write blob into {self.root}: {e.strerror}") from e
        return got, size

    def put_bytes(self, data: bytes) -> Digest:
        """Store ``data`` (skipped when already present); returns its digest."""
        d = Digest.of(data)
        if not self.has(d, len(data)):
            self.put([data], d)
        return d
