"""The image cache (``-cache-image``): a build cache kept as a registry image (cnb-digest §4.8).

Platform API 0.15 platform.md "restorer"/"exporter" (``<cache-image>``) and the Go lifecycle's
image cache format: an image with no base, one layer per cached tar (addressed by its diffID,
as the volume cache names its files), and the label ``io.buildpacks.lifecycle.cache.metadata``
holding the cache metadata JSON (:class:`~lifecycle.cache.metadata.CacheMetadata`).

Reading (the committed state) is the image the reference names when the cache is first used;
a missing image is an empty cache, a corrupt one is ignored with a warning. A layer streams
from the registry, decompressed, and is verified against its diffID at EOF.

Writing stages layers, then :meth:`ImageCache.commit` pushes one image with
``lifecycle.oci.remote.push_image``: layers first (a blob the registry has is never sent
again), then the config, then the manifest. Until that last request the old cache image is
untouched, so a failed commit leaves it as it was. A new layer is compressed once, through
``lifecycle.oci.pipeline``, into a temporary blob store; a layer the committed image already
holds (same diffID) is referenced from it instead (no download, no upload). Layers are ordered
by diffID and the created time is fixed (``SOURCE_DATE_EPOCH`` or 1980-01-01T00:00:01Z), so the
same cache content gives the same image digest. Unlike the Go lifecycle at Platform API < 0.13,
the old cache image is never deleted.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import requests
import urllib3.exceptions

from lifecycle.cache.metadata import CacheMetadata
from lifecycle.cache.protocol import (
    CacheCommittedError,
    CacheError,
    CacheReadError,
    LayerSource,
    LayerStream,
)
from lifecycle.errors import (
    AuthError,
    ImageError,
    LifecycleError,
    RegistryError,
    RegistryNotFoundError,
)
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.config import ConfigFile, RunConfig
from lifecycle.oci.digest import Digest, VerifyingReader
from lifecycle.oci.image import Image, ImageValue
from lifecycle.oci.layer import Layer, read_chunks
from lifecycle.oci.mutate import rfc3339
from lifecycle.oci.pipeline import GZIP, Compression, store_layer
from lifecycle.oci.platform import Platform
from lifecycle.oci.reference import Reference
from lifecycle.oci.registry import RegistryClient
from lifecycle.oci.remote import RemoteLayer, push_image, read_image
from lifecycle.oci.tarball import default_mtime
from lifecycle.platform.labels import CACHE_METADATA

log = logging.getLogger(__name__)

_NOT_FOUND_CODES = frozenset({"MANIFEST_UNKNOWN", "NAME_UNKNOWN"})
_STREAM_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile, requests.RequestException,
                  urllib3.exceptions.HTTPError)


def _diff_id(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except LifecycleError as e:
        raise CacheError(f"invalid layer diffID {text!r}") from e


class _CachedLayerStream:
    """A cached layer's uncompressed tar; transport errors become CacheReadError, a wrong
    diffID at EOF DigestMismatchError."""

    def __init__(self, raw: BinaryIO, diff_id: Digest, what: str) -> None:
        self._raw = raw
        self._reader = VerifyingReader(raw, diff_id, what=what)
        self._what = what

    def read(self, n: int = -1, /) -> bytes:
        try:
            return self._reader.read(n)
        except _STREAM_ERRORS as e:
            raise CacheReadError(f"{self._what}: read failed: {e}") from e

    def close(self) -> None:
        with contextlib.suppress(*_STREAM_ERRORS):
            self._raw.close()


class ImageCache:
    """A cache kept as the image ``ref`` in a registry; see the module docstring.

    ``compression`` is how new layers are compressed; ``workdir`` is where new layer blobs are
    staged (default: the system temp directory). Thread-safe: the exporter may stage layers
    from several threads.
    """

    def __init__(self, client: RegistryClient, ref: Reference, *,
                 compression: Compression = GZIP,
                 workdir: str | os.PathLike[str] | None = None) -> None:
        self._client = client
        self._ref = ref
        self._compression = compression
        self._workdir = workdir
        self._lock = threading.RLock()
        self._loaded = False
        self._image: Image | None = None
        self._by_diff_id: dict[Digest, Layer] = {}
        self._staged: dict[Digest, Layer] = {}
        self._metadata: CacheMetadata | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._committed = False
        self._digest: Digest | None = None

    # --- the committed image ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """The cache image reference."""
        return str(self._ref)

    @property
    def reference(self) -> Reference:
        """The cache image reference."""
        return self._ref

    @property
    def digest(self) -> Digest | None:
        """The manifest digest the last commit pushed (None before a commit)."""
        return self._digest

    def _committed_image(self) -> Image | None:
        with self._lock:
            if not self._loaded:
                self._set_committed(self._read())
            return self._image

    def _set_committed(self, img: Image | None) -> None:
        self._image = img
        self._by_diff_id = {} if img is None else {ly.diff_id: ly for ly in img.layers()}
        self._loaded = True

    def _read(self) -> Image | None:
        try:
            img = read_image(self._client, self._ref)
        except RegistryError as e:
            if not isinstance(e, AuthError) and (
                    isinstance(e, RegistryNotFoundError) or _NOT_FOUND_CODES & set(e.codes)):
                log.info("Layer cache not found: no cache image %s", self._ref)
                return None
            log.warning("cannot read cache image %s: %s; using an empty cache", self._ref, e)
            return None
        except ImageError as e:
            log.warning("ignoring cache image %s because it is corrupt: %s", self._ref, e)
            return None
        except _STREAM_ERRORS as e:
            log.warning("cannot read cache image %s: %s; using an empty cache", self._ref, e)
            return None
        log.debug("cache image %s is %s", self._ref, img.manifest().config.digest)
        return img

    def exists(self) -> bool:
        """True if the cache image exists (and is readable)."""
        return self._committed_image() is not None

    def metadata(self) -> CacheMetadata:
        """The cache image's metadata label; empty (warned) if missing or invalid."""
        img = self._committed_image()
        if img is None:
            return CacheMetadata()
        raw = img.config().config.labels.get(CACHE_METADATA)
        if raw is None:
            log.warning("cache image %s has no %s label; using empty metadata", self._ref,
                        CACHE_METADATA)
            return CacheMetadata()
        try:
            return CacheMetadata.from_json(raw, source=f"{self._ref} {CACHE_METADATA}")
        except LifecycleError as e:
            log.warning("cache image %s: ignoring invalid metadata: %s", self._ref, e)
            return CacheMetadata()

    def _committed_layer(self, diff_id: Digest) -> Layer | None:
        self._committed_image()
        return self._by_diff_id.get(diff_id)

    def has_layer(self, diff_id: str) -> bool:
        """True if the cache image has a layer with this diffID."""
        return self._committed_layer(_diff_id(diff_id)) is not None

    def retrieve(self, diff_id: str) -> LayerStream:
        """Stream committed layer ``diff_id`` uncompressed; verified at EOF."""
        d = _diff_id(diff_id)
        layer = self._committed_layer(d)
        if layer is None:
            raise CacheReadError(f"cache image {self._ref}: no layer {diff_id}")
        what = f"cached layer {d} of {self._ref}"
        try:
            raw = layer.open_uncompressed()
        except (ImageError, *_STREAM_ERRORS) as e:
            raise CacheReadError(f"{what}: cannot open: {e}") from e
        return _CachedLayerStream(raw, d, what)

    # --- staging -----------------------------------------------------------------------------
    def _check_writable(self) -> None:
        if self._committed:
            raise CacheCommittedError(f"cache image {self._ref}: cannot be modified after commit")

    def _store(self) -> BlobStore:
        with self._lock:
            if self._tmp is None:
                if self._workdir is not None:
                    Path(self._workdir).mkdir(parents=True, exist_ok=True)
                self._tmp = tempfile.TemporaryDirectory(prefix="pypack-cache-image-",
                                                        dir=self._workdir)
            return BlobStore(self._tmp.name)

    def _stage(self, layer: Layer) -> None:
        with self._lock:
            self._check_writable()
            self._staged.setdefault(layer.diff_id, layer)

    def add_layer(self, source: LayerSource, diff_id: str | None = None) -> str:
        """Stage an uncompressed layer tar (a path or a stream); return its diffID.

        When ``diff_id`` is given and the cache image already has it, the committed layer is
        referenced and ``source`` is not read. Otherwise the tar is compressed once into the
        temporary blob store; CacheError if it does not hash to ``diff_id``.
        """
        self._check_writable()
        want = None if diff_id is None else _diff_id(diff_id)
        if want is not None:
            with self._lock:
                known = self._staged.get(want) or self._committed_layer(want)
            if known is not None:
                self._stage(known)
                return str(want)
        layer = self._compress(source)
        if want is not None and layer.diff_id != want:
            if layer.diff_id not in self._staged:
                with contextlib.suppress(OSError):
                    self._store().path(layer.digest).unlink()
            raise CacheError(f"cache image {self._ref}: layer content hashes to "
                             f"{layer.diff_id}, not the diffID {want} it was added as")
        known = self._committed_layer(layer.diff_id)
        if known is not None:  # the cache image has it: reference it, drop the new blob
            with contextlib.suppress(OSError):
                self._store().path(layer.digest).unlink()
        self._stage(known or layer)
        return str(layer.diff_id)

    def add_compressed(self, layer: Layer) -> str:
        """Stage a layer already compressed elsewhere (e.g. a cache=true launch layer the
        exporter compressed for the app image), so it is not compressed a second time; return
        its diffID. Its blob must stay readable until :meth:`commit` returns."""
        self._check_writable()
        self._stage(self._committed_layer(layer.diff_id) or layer)
        return str(layer.diff_id)

    def _compress(self, source: LayerSource) -> Layer:
        store = self._store()
        try:
            with _open_source(source) as src:
                return store_layer(read_chunks(src), store, self._compression)
        except OSError as e:
            raise CacheError(f"cache image {self._ref}: cannot read layer {source!r}: "
                             f"{e.strerror or e}") from e
        except ImageError as e:
            raise CacheError(f"cache image {self._ref}: cannot stage layer: {e}") from e

    def reuse_layer(self, diff_id: str) -> None:
        """Stage committed layer ``diff_id`` by reference (nothing is downloaded or sent)."""
        self._check_writable()
        layer = self._committed_layer(_diff_id(diff_id))
        if layer is None:
            raise CacheReadError(f"cache image {self._ref}: cannot reuse layer {diff_id}: "
                                 "not cached")
        self._stage(layer)

    def set_metadata(self, metadata: CacheMetadata) -> None:
        """Stage the metadata label."""
        with self._lock:
            self._check_writable()
            self._metadata = metadata

    # --- commit ------------------------------------------------------------------------------
    def staged_image(self) -> ImageValue:
        """The image a commit would push: empty base, staged layers by diffID, the label."""
        with self._lock:
            layers = [self._staged[d] for d in sorted(self._staged)]
            md = self._metadata or CacheMetadata()
        host = Platform.host()
        cfg = ConfigFile(architecture=host.architecture, os=host.os, variant=host.variant,
                         created=rfc3339(default_mtime()),
                         config=RunConfig(labels={CACHE_METADATA: md.to_json()}))
        return ImageValue.build(cfg, layers)

    def commit(self) -> None:
        """Push the staged image to the cache reference; later writes raise. On failure the
        old cache image is left as it was (CacheError)."""
        with self._lock:
            self._check_writable()
            self._committed = True
        if self._ref.digest is not None:
            raise CacheError(f"cache image {self._ref}: cannot write a cache image named by "
                             "digest; use a tag")
        img = self.staged_image()
        try:
            self._digest = push_image(self._client, img, [self._ref])
        except (ImageError, *_STREAM_ERRORS) as e:
            raise CacheError(f"cache image {self._ref}: commit failed: {e}") from e
        finally:
            self._after_push(img)
        log.info("cache image %s committed (%d layers) as %s", self._ref,
                 len(img.layers()), self._digest)

    def _after_push(self, img: ImageValue) -> None:
        """Point the committed state at the pushed image's blobs in the registry, then drop
        the temporary blob store."""
        if self._digest is not None:
            repo = self._ref.context()
            remote = tuple(RemoteLayer(self._client, repo, ly.digest, ly.diff_id, ly.size,
                                       ly.media_type) for ly in img.layers())
            with self._lock:
                self._set_committed(ImageValue(img.raw_manifest(), img.raw_config(),
                                               img.manifest(), img.config(), remote))
        self.close()

    def close(self) -> None:
        """Remove the temporary blob store (also done after a commit)."""
        with self._lock:
            tmp, self._tmp = self._tmp, None
        if tmp is not None:
            tmp.cleanup()


@contextlib.contextmanager
def _open_source(source: LayerSource) -> Iterator[BinaryIO]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield f
    else:
        yield source
