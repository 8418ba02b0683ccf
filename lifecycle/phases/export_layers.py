"""How the exporter makes each layer: once, or not at all (issue #4 "fast paths").

cnb-digest §4.6-§4.8. One :class:`LayerMaker` per export:

* a directory layer whose fingerprint (paths, sizes, modes, mtimes, inodes, plus the in-image
  path and owner) equals the one recorded at the last export, or at restore time, keeps its
  recorded diffID and is **not tarred**; if the previous image (or run image) has a layer with
  that diffID it is referenced (no bytes move), and a cached copy is re-staged by hard link;
* any other directory is tarred once: the stream is hashed (diffID), gzipped in parallel and
  hashed again (digest) into a blob store, and, for a cache=true layer, teed into the cache's
  staging area in the same pass;
* a new layer whose diffID the previous image already has is replaced by that image's layer, so
  the destination is asked for nothing it holds;
* small synthetic layers (launcher, process types) are built in memory.

The fingerprints of every layer made or reused are collected for the cache metadata
(``pypack.fingerprints``), so the next export can skip them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lifecycle.cache import Cache, Fingerprint, restored
from lifecycle.errors import ExportError, ImageError
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.digest import Digest
from lifecycle.oci.layer import Layer
from lifecycle.oci.pipeline import GZIP, Compression, store_layer
from lifecycle.oci.tarball import TarOptions, tar_tree

log = logging.getLogger("lifecycle")

Status = Literal["added", "reused", "cached"]


@dataclass(frozen=True, slots=True)
class Made:
    """The outcome for one layer: the image layer (None for cache-only), its diffID, and
    whether it was newly ``added``, ``reused`` (no tar, or an existing blob) or only ``cached``."""

    name: str
    layer: Layer | None
    diff_id: str
    status: Status
    size: int = 0
    tarred: bool = False


@dataclass
class LayerMaker:
    """Makes layers for one export (see the module docstring). Not thread-safe."""

    blobs: BlobStore
    reuse: Mapping[str, Layer] = field(default_factory=dict)
    """Layers that may be referenced instead of uploaded, by diffID (previous + run image)."""
    recorded: Mapping[str, Fingerprint] = field(default_factory=dict)
    """Fingerprints from the last export (cache metadata) and the restorer."""
    cache: Cache | None = None
    compression: Compression = GZIP
    family: str = "oci"
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)
    """Collected: every directory layer's fingerprint and diffID, for the cache metadata."""
    made: list[Made] = field(default_factory=list)

    # --- directory layers ------------------------------------------------------------------
    def from_dir(self, key: str, src: str | os.PathLike[str], under: str, opts: TarOptions, *,
                 image: bool, cache: bool) -> Made:
        """The layer of directory ``src`` at in-image path ``under``; in the image when
        ``image``, staged in the cache when ``cache``."""
        fp = self._fingerprint(src, under, opts)
        quick = self._unchanged(key, fp, image=image, cache=cache)
        if quick is not None:
            return self._record(quick)
        made = self._tar(key, tar_tree(src, under, opts), image=image, cache=cache)
        self.fingerprints[key] = Fingerprint(fp, made.diff_id)
        return self._record(made)

    def from_stream(self, key: str, pieces: Iterable[bytes], *, image: bool = True,
                    cache: bool = False) -> Made:
        """A layer from a tar byte stream (no fingerprint)."""
        return self._record(self._tar(key, pieces, image=image, cache=cache))

    def from_layer(self, key: str, layer: Layer, status: Status = "reused") -> Made:
        """An existing layer (e.g. a previous image's launch layer with no directory)."""
        return self._record(Made(key, layer, str(layer.diff_id), status, layer.size))

    def _record(self, made: Made) -> Made:
        self.made.append(made)
        log.debug("layer %s: %s %s", made.name, made.status, made.diff_id)
        return made

    @staticmethod
    def _fingerprint(src: str | os.PathLike[str], under: str, opts: TarOptions) -> str:
        return restored.layer_fingerprint(
            src, restored.salt(under, opts.uid, opts.gid, opts.resolved_mtime()))

    def _unchanged(self, key: str, fp: str, *, image: bool, cache: bool) -> Made | None:
        rec = self.recorded.get(key)
        if rec is None or rec.fingerprint != fp:
            return None
        layer = self.reuse.get(rec.sha) if image else None
        if image and layer is None:
            return None
        if cache:
            if self.cache is None or not self.cache.has_layer(rec.sha):
                return None
            self.cache.reuse_layer(rec.sha)
        self.fingerprints[key] = rec
        return Made(key, layer, rec.sha, "reused" if image else "cached",
                    layer.size if layer is not None else self._cached_size(rec.sha))

    def _cached_size(self, diff_id: str) -> int:
        """The size of a cache-only layer's tar in a volume cache (0 when unknown)."""
        path = getattr(self.cache, "layer_path", None)
        try:
            return os.stat(path(diff_id)).st_size if path is not None else 0
        except OSError:
            return 0

    # --- tarring ---------------------------------------------------------------------------
    def _tar(self, key: str, pieces: Iterable[bytes], *, image: bool, cache: bool) -> Made:
        add_compressed = getattr(self.cache, "add_compressed", None) if cache else None
        if image and add_compressed is not None:
            # an image cache takes the app image's compressed blob: one gzip for both
            made = self._tar(key, pieces, image=True, cache=False)
            assert made.layer is not None
            add_compressed(made.layer)
            return made
        with self._cache_file(cache) as (sink, path):
            stream = _teeing(pieces, sink) if sink is not None else pieces
            if image:
                layer: Layer = store_layer(stream, self.blobs, self.compression, self.family)
                diff_id, size = str(layer.diff_id), layer.size
            else:
                diff_id, size = _hash_only(stream)
            if sink is not None and path is not None:
                sink.close()
                self._stage(path, diff_id)
        if not image:
            return Made(key, None, diff_id, "cached", size, tarred=True)
        existing = self.reuse.get(diff_id)
        if existing is not None:
            return Made(key, existing, diff_id, "reused", existing.size, tarred=True)
        return Made(key, layer, diff_id, "added", size, tarred=True)

    @contextlib.contextmanager
    def _cache_file(self, cache: bool) -> Iterator[tuple[_Sink | None, str | None]]:
        if not cache or self.cache is None:
            yield None, None
            return
        where = getattr(self.cache, "scratch_dir", None)
        fd, path = tempfile.mkstemp(prefix=".export-", suffix=".tar", dir=where)
        sink = _Sink(os.fdopen(fd, "wb"))
        try:
            yield sink, path
        finally:
            sink.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _stage(self, path: str, diff_id: str) -> None:
        assert self.cache is not None
        adopt = getattr(self.cache, "adopt_layer", None)
        try:
            if adopt is not None:
                adopt(path, diff_id)
            else:
                self.cache.add_layer(path, diff_id)
        except ImageError:
            raise
        except OSError as e:
            raise ExportError(f"cache {self.cache.name}: cannot stage layer {diff_id}: "
                              f"{e.strerror}") from e


class _Sink:
    """A file the tar stream is teed into (closed once)."""

    def __init__(self, f: object) -> None:
        self._f = f
        self.closed = False

    def write(self, data: bytes) -> None:
        self._f.write(data)  # type: ignore[attr-defined]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._f.flush()  # type: ignore[attr-defined]
            os.fsync(self._f.fileno())  # type: ignore[attr-defined]
            self._f.close()  # type: ignore[attr-defined]


def _teeing(pieces: Iterable[bytes], sink: _Sink) -> Iterator[bytes]:
    for p in pieces:
        sink.write(p)
        yield p


def _hash_only(pieces: Iterable[bytes]) -> tuple[str, int]:
    """The diffID and size of a tar that is only cached (never an image layer)."""
    h = hashlib.sha256()
    size = 0
    for p in pieces:
        h.update(p)
        size += len(p)
    return str(Digest("sha256", h.hexdigest())), size


def app_paths(app_dir: str | os.PathLike[str], globs: Iterable[str]) -> list[str]:
    """The files and links under ``app_dir`` (relative, sorted) matching a slice's globs; a
    matching directory brings everything under it. Patterns may not leave the app dir."""
    root = Path(app_dir)
    out: set[str] = set()
    for pattern in globs:
        pat = pattern.lstrip("/")
        if not pat or ".." in Path(pat).parts:
            raise ExportError(f"slice path {pattern!r} must stay inside the app directory")
        for match in root.glob(pat):
            rel = match.relative_to(root).as_posix()
            if match.is_dir() and not match.is_symlink():
                out.update(p.relative_to(root).as_posix() for p in match.rglob("*")
                           if not p.is_dir() or p.is_symlink())
                out.add(rel)
            else:
                out.add(rel)
    return sorted(out)
