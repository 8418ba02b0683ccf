"""One-pass layer pipeline: tar stream -> sha256 (diff ID) -> compress -> sha256 (digest) -> sink.

OCI image-spec "layer.md" and "descriptor.md#digests". gzip is compressed in parallel as fixed
4 MiB chunks, each its own gzip member (multi-member gzip, RFC 1952 §2.2, as pigz does): zlib
releases the GIL, so the chunks use every core; the output depends only on the input bytes, the
level and the chunk size, never on thread timing. At most ``2 * workers`` chunks are in flight.
zstd (``zstandard``, level 3, its own threads) and uncompressed output are options.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import hashlib
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from lifecycle.errors import ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.digest import Digest
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.tarball import DEFAULT_OPTIONS, TarOptions, tar_tree

CHUNK_SIZE = 4 << 20
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0, OS unknown

_MEDIA_TYPES = {
    ("oci", "gzip"): mt.OCI_LAYER_GZIP, ("oci", "zstd"): mt.OCI_LAYER_ZSTD,
    ("oci", "none"): mt.OCI_LAYER, ("docker", "gzip"): mt.DOCKER_LAYER_GZIP,
}


class Writable(Protocol):
    """Anything with ``write(bytes)``."""

    def write(self, data: bytes, /) -> Any:
        """Write ``data``."""


@dataclass(frozen=True, slots=True)
class Compression:
    """How a layer is compressed: ``kind`` gzip|zstd|none, ``level`` (None: gzip 1, zstd 3),
    ``workers`` (None: os.cpu_count())."""

    kind: str = "gzip"
    level: int | None = None
    workers: int | None = None
    chunk_size: int = CHUNK_SIZE

    def __post_init__(self) -> None:
        if self.kind not in ("gzip", "zstd", "none"):
            raise ImageError(f"unknown layer compression {self.kind!r} (gzip, zstd or none)")

    def media_type(self, family: str = "oci") -> str:
        """The layer media type for this compression (``family`` oci or docker)."""
        try:
            return _MEDIA_TYPES[(family, self.kind)]
        except KeyError:
            raise ImageError(f"no {family} media type for {self.kind} layers") from None

    def thread_count(self) -> int:
        """Worker threads to use."""
        return max(1, self.workers or os.cpu_count() or 1)


GZIP = Compression("gzip")
ZSTD = Compression("zstd")
UNCOMPRESSED = Compression("none")


@dataclass(frozen=True, slots=True)
class LayerDigests:
    """What one pass over a layer yields: digest/size of the blob, diff ID/size of the tar."""

    digest: Digest
    size: int
    diff_id: Digest
    uncompressed_size: int
    media_type: str


class _Hashing:
    """A sink wrapper counting and hashing what passes through."""

    def __init__(self, out: Writable) -> None:
        self.out, self.hash, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)


def gzip_member(data: bytes, level: int) -> bytes:
    """``data`` as one complete gzip member (deterministic header: no name, mtime 0)."""
    # compressobj releases the GIL while deflating (one-shot zlib.compress does not)
    z = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    body = z.compress(data) + z.flush()
    return _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _exact_chunks(pieces: Iterable[bytes], size: int, tar_hash: Any) -> Iterable[bytes]:
    """Re-cut ``pieces`` into chunks of exactly ``size`` bytes (the last may be shorter),
    hashing them on the way; one copy per byte (the join)."""
    pending: list[bytes | memoryview] = []
    have = 0
    for p in pieces:
        tar_hash.update(p)
        view = memoryview(p)
        while have + len(view) >= size:
            cut = size - have
            pending.append(view[:cut])
            yield b"".join(pending)
            pending, have, view = [], 0, view[cut:]
        if view:
            pending.append(view)
            have += len(view)
    if pending:
        yield b"".join(pending)


def _gzip_parallel(pieces: Iterable[bytes], out: _Hashing, c: Compression, tar_hash: Any) -> int:
    level = 1 if c.level is None else c.level
    workers = c.thread_count()
    pending: collections.deque[cf.Future[bytes]] = collections.deque()
    total = 0
    with cf.ThreadPoolExecutor(workers, thread_name_prefix="gzip") as pool:
        for chunk in _exact_chunks(pieces, c.chunk_size, tar_hash):
            total += len(chunk)
            pending.append(pool.submit(gzip_member, chunk, level))
            while len(pending) >= 2 * workers:
                out.write(pending.popleft().result())
        if total == 0:
            pending.append(pool.submit(gzip_member, b"", level))
        while pending:
            out.write(pending.popleft().result())
    return total


def _zstd(pieces: Iterable[bytes], out: _Hashing, c: Compression, tar_hash: Any) -> int:
    try:
        import zstandard
    except ImportError as e:
        raise ImageError("zstd layers need the 'zstandard' package (pypack[zstd])") from e
    level = 3 if c.level is None else c.level
    cctx = zstandard.ZstdCompressor(level=level, threads=c.thread_count())
    total = 0
    with cctx.stream_writer(cast(BinaryIO, out), closefd=False) as w:
        for p in pieces:
            tar_hash.update(p)
            total += len(p)
            w.write(p)
    return total


def compress(pieces: Iterable[bytes], out: Writable, c: Compression = GZIP,
             family: str = "oci") -> LayerDigests:
    """Run the tar byte stream ``pieces`` through hash -> compress -> hash into ``out``."""
    sink, tar_hash = _Hashing(out), hashlib.sha256()
    if c.kind == "gzip":
        total = _gzip_parallel(pieces, sink, c, tar_hash)
    elif c.kind == "zstd":
        total = _zstd(pieces, sink, c, tar_hash)
    else:
        total = 0
        for p in pieces:
            tar_hash.update(p)
            sink.write(p)
            total += len(p)
    return LayerDigests(Digest("sha256", sink.hash.hexdigest()), sink.size,
                        Digest("sha256", tar_hash.hexdigest()), total, c.media_type(family))


def store_layer(pieces: Iterable[bytes], store: BlobStore, c: Compression = GZIP,
                family: str = "oci") -> BlobLayer:
    """Compress the tar stream ``pieces`` into ``store`` (temp file, then rename)."""
    try:
        with store.pending() as blob:
            d = compress(pieces, blob.file, c, family)
            path = blob.commit(d.digest)
    except OSError as e:
        raise ImageError(f"writing layer into {store.root}: {e.strerror}") from e
    return BlobLayer.from_file(path, d.digest, d.diff_id, d.media_type, d.size)


def layer_from_dir(root: str | os.PathLike[str], store: BlobStore, *, under: str = "/",
                   opts: TarOptions = DEFAULT_OPTIONS, c: Compression = GZIP,
                   family: str = "oci") -> BlobLayer:
    """Tar directory ``root`` at in-image path ``under`` into a layer blob in ``store``."""
    if not Path(root).is_dir():
        raise ImageError(f"layer source {root} is not a directory")
    return store_layer(tar_tree(root, under, opts), store, c, family)
