"""Build caches (cnb-digest §4.8): a volume cache and an image cache behind one protocol.

The restorer reads a cache (:meth:`Cache.metadata`, :meth:`Cache.retrieve`); the exporter stages
layers and metadata and commits once (design.md §7.5 "Stage, then commit").
"""

from lifecycle.cache.image import ImageCache
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
