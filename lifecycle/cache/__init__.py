"""Build caches (cnb-digest §4.8): a volume cache and an image cache behind one protocol.

The restorer reads a cache (:meth:`Cache.metadata`, :meth:`Cache.retrieve`); the exporter stages
layers and metadata and commits once (design.md §7.5 "Stage, then commit").
"""

from typing import TYPE_CHECKING

from lifecycle.cache.metadata import (
    FINGERPRINTS_KEY,
    CacheMetadata,
    Fingerprint,
    layer_key,
)
from lifecycle.cache.protocol import (
    Cache,
    CacheCommittedError,
    CacheError,
    CacheReadError,
    LayerSource,
    LayerStream,
)
from lifecycle.cache.volume import VolumeCache

if TYPE_CHECKING:
    from lifecycle.cache.image import ImageCache


def __getattr__(name: str) -> object:
    # ImageCache is imported on first use (PEP 562): it pulls in the registry client and
    # requests (~80 ms), which a build into the local store never needs.
    if name == "ImageCache":
        from lifecycle.cache.image import ImageCache

        globals()[name] = ImageCache
        return ImageCache
    raise AttributeError(f"module 'lifecycle.cache' has no attribute {name!r}")


__all__ = [
    "FINGERPRINTS_KEY",
    "Cache",
    "CacheCommittedError",
    "CacheError",
    "CacheMetadata",
    "CacheReadError",
    "Fingerprint",
    "ImageCache",
    "LayerSource",
    "LayerStream",
    "VolumeCache",
    "layer_key",
]
