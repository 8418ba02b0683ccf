"""Layers: the Layer protocol and a concrete blob-backed layer that re-opens its bytes.

OCI image-spec "layer.md" (compressed digest vs uncompressed diff ID) and "descriptor.md".
Every stream a layer opens is verified against its digest (compressed) or diff ID
(uncompressed) when read to the end.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast, runtime_checkable

from lifecycle.errors import ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.descriptor import Descriptor
from lifecycle.oci.digest import Digest, VerifyingReader


@runtime_checkable
class Layer(Protocol):
    """One layer of an image: content addresses, size, media type, and its bytes again."""

    @property
    def digest(self) -> Digest:
        """sha256 of the compressed blob."""

    @property
    def diff_id(self) -> Digest:
        """sha256 of the uncompressed tar."""

    @property
    def size(self) -> int:
        """Size of the compressed blob in bytes."""

    @property
    def media_type(self) -> str:
        """The layer media type (OCI or Docker; gzip, zstd or uncompressed)."""

    def open(self) -> BinaryIO:
        """A fresh stream of the compressed blob."""

    def open_uncompressed(self) -> BinaryIO:
        """A fresh stream of the uncompressed tar."""


class _Reader(io.RawIOBase):
    """Adapts any object with ``read`` to a file object; closes ``closers`` on close."""

    def __init__(self, inner: Any, *closers: Any) -> None:
        self._inner = inner
        self._closers = (inner, *closers)

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        return cast(bytes, self._inner.read(-1 if n is None else n))

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            for c in self._closers:
                c.close()
        super().close()


def as_file(inner: Any, *closers: Any) -> BinaryIO:
    """Wrap a ``read``-able object (e.g. a VerifyingReader) as a BinaryIO."""
    return cast(BinaryIO, _Reader(inner, *closers))


def verified(stream: BinaryIO, digest: Digest, what: str) -> BinaryIO:
    """``stream`` checked against ``digest`` at EOF (DigestMismatchError naming ``what``)."""
    return as_file(VerifyingReader(stream, digest, what))


def decompress(stream: BinaryIO, compression: str) -> BinaryIO:
    """An uncompressed view of ``stream`` (``gzip`` incl. multi-member, ``zstd``, ``none``)."""
    if compression == "gzip":
        return as_file(gzip.GzipFile(fileobj=stream, mode="rb"), stream)
    if compression == "zstd":
        try:
            import zstandard
        except ImportError as e:
            raise ImageError("zstd layers need the 'zstandard' package (pypack[zstd])") from e
        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        return as_file(reader, stream)
    return stream


def sniff_compression(head: bytes) -> str:
    """``gzip``, ``zstd`` or ``none`` from a blob's first bytes."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    return "none"


def read_chunks(f: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    """Yield ``f``'s bytes in ``size`` chunks until EOF."""
    while chunk := f.read(size):
        yield chunk


def descriptor(layer: Layer) -> Descriptor:
    """The manifest descriptor of ``layer``."""
    return Descriptor(layer.media_type, layer.digest, layer.size)


@dataclass(frozen=True, slots=True)
class BlobLayer:
    """A layer whose compressed bytes come from ``opener`` (a file, a blob store, memory)."""

    digest: Digest
    diff_id: Digest
    size: int
    media_type: str
    opener: Callable[[], BinaryIO]
    what: str = "layer"

    def open(self) -> BinaryIO:
        """The compressed blob, verified against ``digest``."""
        return verified(self.opener(), self.digest, f"{self.what} blob")

    def open_uncompressed(self) -> BinaryIO:
        """The uncompressed tar, verified against ``diff_id``."""
        raw = decompress(self.open(), mt.compression(self.media_type))
        return verified(raw, self.diff_id, f"{self.what} diff_id of")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], digest: Digest, diff_id: Digest,
                  media_type: str, size: int | None = None) -> BlobLayer:
        """A layer stored in file ``path``."""
        p = Path(path)
        try:
            n = p.stat().st_size if size is None else size
        except OSError as e:
            raise ImageError(f"layer blob {p}: {e.strerror}") from e
        return cls(digest, diff_id, n, media_type, lambda: _open(p), str(p))

    @classmethod
    def from_bytes(cls, data: bytes, diff_id: Digest, media_type: str) -> BlobLayer:
        """An in-memory layer (tests, small generated layers)."""
        return cls(Digest.of(data), diff_id, len(data), media_type,
                   lambda: io.BytesIO(data), "in-memory layer")


def _open(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as e:
        raise ImageError(f"layer blob {path}: {e.strerror}") from e
