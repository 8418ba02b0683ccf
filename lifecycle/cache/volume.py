"""The volume cache (``-cache-dir``), in the Go lifecycle's on-disk format (cnb-digest §4.8).

``<dir>/committed/`` holds ``io.buildpacks.lifecycle.cache.metadata`` (a JSON file) and one
``sha256:<hex>.tar`` per layer, named by diffID. Writes go to ``<dir>/staging/``; an unchanged
layer is hard-linked (copied if linking fails) from committed into staging. Commit renames
``committed`` to ``committed-backup``, ``staging`` to ``committed``, then deletes the backup.

Crash safety: every rename is atomic, so after a crash the directory holds one of these states,
and opening the cache repairs it:

* ``committed`` + leftover ``staging``: an unfinished write; staging is discarded.
* no ``committed`` + ``committed-backup``: the commit stopped between its two renames; the
  backup (the old cache) is renamed back. The Go lifecycle deletes it instead (losing the cache).
* ``committed`` + ``committed-backup``: the commit finished but the backup was not deleted yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from lifecycle.cache.metadata import CacheMetadata
from lifecycle.cache.protocol import (
    CacheCommittedError,
    CacheError,
    CacheReadError,
    LayerSource,
    LayerStream,
)
from lifecycle.errors import LifecycleError
from lifecycle.fsutil import atomic_write
from lifecycle.oci.digest import Digest, VerifyingReader
from lifecycle.platform.labels import CACHE_METADATA

log = logging.getLogger(__name__)

COMMITTED = "committed"
STAGING = "staging"
BACKUP = "committed-backup"
_CHUNK = 1 << 20


def _rmtree(path: Path) -> None:
    if path.exists() or path.is_symlink():
        shutil.rmtree(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _layer_name(diff_id: str) -> str:
    try:
        digest = Digest.parse(diff_id)
    except LifecycleError as e:
        raise CacheError(f"invalid layer diffID {diff_id!r}") from e
    return f"{digest}.tar"


class VolumeCache:
    """A cache in a directory; see the module docstring for the format and crash safety."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        """Open (creating if needed) the cache in ``directory`` and repair an interrupted
        write or commit. CacheError if the directory cannot be prepared."""
        self._dir = Path(directory)
        self._committed_dir = self._dir / COMMITTED
        self._staging_dir = self._dir / STAGING
        self._backup_dir = self._dir / BACKUP
        self._committed = False
        try:
            self._recover()
        except OSError as e:
            raise CacheError(f"cache {self._dir}: cannot prepare: {e}") from e

    def _recover(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        if self._backup_dir.exists():
            if self._committed_dir.exists():
                log.debug("cache %s: removing leftover backup of a finished commit", self._dir)
                _rmtree(self._backup_dir)
            else:
                log.warning("cache %s: commit was interrupted; restoring the previous cache",
                            self._dir)
                os.replace(self._backup_dir, self._committed_dir)
        if self._staging_dir.exists():
            log.debug("cache %s: discarding uncommitted staging", self._dir)
            _rmtree(self._staging_dir)
        self._committed_dir.mkdir(exist_ok=True)
        self._staging_dir.mkdir()

    # --- reading ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The cache directory."""
        return os.fspath(self._dir)

    def exists(self) -> bool:
        """True if the committed directory exists."""
        return self._committed_dir.is_dir()

    def metadata(self) -> CacheMetadata:
        """The committed metadata; empty (with a warning) if missing, unreadable or invalid."""
        path = self._committed_dir / CACHE_METADATA
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return CacheMetadata()
        except OSError as e:
            log.warning("cache %s: cannot read metadata: %s; using empty metadata", self._dir, e)
            return CacheMetadata()
        try:
            return CacheMetadata.from_json(text, source=os.fspath(path))
        except LifecycleError as e:
            log.warning("cache %s: ignoring invalid metadata: %s", self._dir, e)
            return CacheMetadata()

    def has_layer(self, diff_id: str) -> bool:
        """True if the committed cache holds ``<diffID>.tar``."""
        return (self._committed_dir / _layer_name(diff_id)).is_file()

    def layer_path(self, diff_id: str) -> Path:
        """The committed tar of ``diff_id`` (it may not exist)."""
        return self._committed_dir / _layer_name(diff_id)

    def retrieve(self, diff_id: str) -> LayerStream:
        """Open the committed tar; reading it to EOF verifies the diffID."""
        path = self.layer_path(diff_id)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            raise CacheReadError(f"cache {self._dir}: no layer {diff_id}") from None
        except OSError as e:
            raise CacheReadError(f"cache {self._dir}: cannot read layer {diff_id}: "
                                 f"{e.strerror}") from e
        return VerifyingReader(f, Digest.parse(diff_id), what=f"cached layer {path.name}")

    # --- writing ---------------------------------------------------------------------------
    def _check_writable(self) -> None:
        if self._committed:
            raise CacheCommittedError(f"cache {self._dir}: cannot be modified after commit")

    def add_layer(self, source: LayerSource, diff_id: str | None = None) -> str:
        """Stage a layer tar (a path or a stream), verifying/recording its sha256 diffID."""
        self._check_writable()
        expected = None if diff_id is None else _layer_name(diff_id)
        if expected and (self._staging_dir / expected).exists():
            return str(diff_id)
        fd, tmp = tempfile.mkstemp(prefix=".layer.", suffix=".tmp", dir=self._staging_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                got = "sha256:" + _copy_hashing(source, out)
            if diff_id is not None and got != str(Digest.parse(diff_id)):
                raise CacheError(f"cache {self._dir}: layer content hashes to {got}, "
                                 f"not the diffID {diff_id} it was added as")
            os.replace(tmp, self._staging_dir / _layer_name(got))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return got

    @property
    def scratch_dir(self) -> Path:
        """Where a writer may create a layer tar to hand over with :meth:`adopt_layer` (the
        staging directory: same filesystem, discarded if never committed)."""
        return self._staging_dir

    def adopt_layer(self, path: str | os.PathLike[str], diff_id: str) -> str:
        """Stage the tar at ``path`` (in :attr:`scratch_dir`) by renaming it, trusting the
        caller's ``diff_id`` (the exporter hashed it while writing). Returns the diffID."""
        self._check_writable()
        os.replace(path, self._staging_dir / _layer_name(diff_id))
        return diff_id

    def reuse_layer(self, diff_id: str) -> None:
        """Stage an unchanged committed layer: hard link, or copy if linking fails."""
        self._check_writable()
        name = _layer_name(diff_id)
        src, dst = self._committed_dir / name, self._staging_dir / name
        if not src.is_file():
            raise CacheReadError(f"cache {self._dir}: cannot reuse layer {diff_id}: not cached")
        if dst.exists():
            return
        try:
            os.link(src, dst)
        except OSError as e:
            log.debug("cache %s: hard link failed (%s); copying %s", self._dir, e, name)
            self.add_layer(src, diff_id)

    def set_metadata(self, metadata: CacheMetadata) -> None:
        """Stage the metadata file."""
        self._check_writable()
        atomic_write(self._staging_dir / CACHE_METADATA, metadata.to_json().encode())

    def commit(self) -> None:
        """Publish staging as the committed cache; any later write raises."""
        self._check_writable()
        self._committed = True
        try:
            self._swap()
        except OSError as e:
            raise CacheError(f"cache {self._dir}: commit failed: {e}") from e

    def _swap(self) -> None:
        _fsync_dir(self._staging_dir)
        os.replace(self._committed_dir, self._backup_dir)
        try:
            os.replace(self._staging_dir, self._committed_dir)
        except OSError:
            os.replace(self._backup_dir, self._committed_dir)
            raise
        _fsync_dir(self._dir)
        _rmtree(self._backup_dir)


def _copy_hashing(source: LayerSource, out: BinaryIO) -> str:
    """Copy ``source`` to ``out`` (fsynced) and return the sha256 hex of the bytes."""
    h = hashlib.sha256()
    with contextlib.ExitStack() as stack:
        src: BinaryIO
        if isinstance(source, (str, os.PathLike)):
            src = stack.enter_context(open(source, "rb"))
        else:
            src = source
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
    out.flush()
    os.fsync(out.fileno())
    return h.hexdigest()
