"""The cache protocol shared by the volume cache and the (later) image cache (cnb-digest §4.8).

A cache is read through :meth:`Cache.metadata` and :meth:`Cache.retrieve` (the last committed
state) and written by staging: :meth:`Cache.add_layer`, :meth:`Cache.reuse_layer`,
:meth:`Cache.set_metadata`, then one :meth:`Cache.commit`. Nothing staged is visible to readers
before the commit, and a cache refuses writes after it (design.md §7.5). Layers are addressed by
diffID (``sha256:<hex>`` of the uncompressed tar).
"""

from __future__ import annotations

import os
from typing import BinaryIO, Protocol

from lifecycle.cache.metadata import CacheMetadata
from lifecycle.errors import LifecycleError


class CacheError(LifecycleError):
    """A cache cannot be opened, read or written. Phases map it to their own exit code or, for
    the exporter's cache write, to a warning (cnb-digest §3.2)."""


class CacheReadError(CacheError):
    """A cached layer is missing, unreadable or does not hash to its diffID; the restorer warns
    and restores nothing for that layer."""


class CacheCommittedError(CacheError):
    """A write was attempted on a cache that was already committed."""


class LayerStream(Protocol):
    """A readable layer tar. Reading to EOF verifies the diffID (DigestMismatchError if not)."""

    def read(self, n: int = -1, /) -> bytes:
        """Read up to ``n`` bytes (all when negative); ``b""`` at EOF."""

    def close(self) -> None:
        """Release the underlying file or connection."""


LayerSource = str | os.PathLike[str] | BinaryIO
"""An uncompressed layer tar: a file path or a binary stream read to EOF."""


class Cache(Protocol):
    """A build cache: the committed state to read, a staging area to write, one commit."""

    @property
    def name(self) -> str:
        """Where the cache lives (a directory, an image reference), for messages."""

    def exists(self) -> bool:
        """True if a committed cache exists (a new, empty cache is still usable)."""

    def metadata(self) -> CacheMetadata:
        """The committed metadata; empty if there is none or it is unreadable (warned)."""

    def has_layer(self, diff_id: str) -> bool:
        """True if the committed cache holds layer ``diff_id``."""

    def retrieve(self, diff_id: str) -> LayerStream:
        """Open committed layer ``diff_id``; CacheReadError if it is missing or unreadable."""

    def add_layer(self, source: LayerSource, diff_id: str | None = None) -> str:
        """Stage a layer tar, stored as given; return its diffID. If ``diff_id`` is given the
        content must hash to it (CacheError otherwise, nothing staged)."""

    def reuse_layer(self, diff_id: str) -> None:
        """Stage committed layer ``diff_id`` unchanged; CacheReadError if it is not there."""

    def set_metadata(self, metadata: CacheMetadata) -> None:
        """Stage the metadata the commit will publish."""

    def commit(self) -> None:
        """Publish the staged layers and metadata atomically; later writes raise."""
