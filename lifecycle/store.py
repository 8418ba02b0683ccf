"""pypack's local image store: one content-addressed OCI image layout shared by every image.

Where ``pypack build`` puts images without ``--publish``, where ``pypack stack build`` and
``pypack builder create`` put base images and builders, and where the sandbox keeps unpacked
root filesystems. The directory is ``$PYPACK_HOME`` if set, else ``$XDG_DATA_HOME/pypack``,
else ``~/.local/share/pypack``:

    <home>/images/          an OCI image layout; ref names are normalised references
                            (``docker.io/library/myapp:latest``), blobs shared by all images
    <home>/rootfs/<digest>/ unpacked root filesystems, by image manifest digest (sandbox)
    <home>/cache/           download caches (stack packages, ...)

Writers take an exclusive ``flock`` on ``<home>/images/.lock`` around index.json updates, so
two pypack processes can write the store at once. Image names: ``store:NAME`` explicitly, or a
bare reference when the store has that name (see :func:`lifecycle.client.open_image`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import ImageNotFoundError, LifecycleError
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image, ImageValue
from lifecycle.oci.layout import REF_NAME, Layout
from lifecycle.oci.platform import Platform
from lifecycle.oci.reference import Reference


def home(environ: Mapping[str, str] | None = None) -> Path:
    """pypack's data directory (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get("PYPACK_HOME"):
        return Path(env["PYPACK_HOME"])
    data = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/share")
    return Path(data) / "pypack"


def normalize(name: str) -> str:
    """The store's ref name for ``name``: the full reference (registry/repo:tag or @digest)."""
    return str(Reference.parse(name))


def short(ref: str) -> str:
    """A familiar form of a normalised ref for listings (``myapp:latest`` for Docker Hub
    library images)."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


@dataclass(frozen=True, slots=True)
class Entry:
    """One named image in the store."""

    name: str
    digest: Digest
    size: int


class Store:
    """The local image store at ``root`` (default :func:`home`)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else home()
        self.layout = Layout.init(self.root / "images")

    @property
    def rootfs_dir(self) -> Path:
        """Where unpacked root filesystems live, one directory per manifest digest."""
        return self.root / "rootfs"

    @property
    def cache_dir(self) -> Path:
        """Download caches."""
        return self.root / "cache"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.layout.path / ".lock", "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def has(self, name: str) -> bool:
        """True if the store holds an image called ``name``."""
        try:
            ref = normalize(name)
        except LifecycleError:
            return False
        return ref in self.layout.refs()

    def image(self, name: str, platform: Platform | None = None) -> ImageValue:
        """The image called ``name``; ImageError naming it if absent."""
        ref = normalize(name)
        if ref not in self.layout.refs():
            raise ImageNotFoundError(f"image {name!r} is not in the local store "
                                     f"{self.layout.path}")
        return self.layout.image(ref, platform=platform)

    def put(self, img: Image, name: str, extra_tags: tuple[str, ...] = ()) -> Digest:
        """Store ``img`` as ``name`` (and ``extra_tags``, full names); returns its digest."""
        self.layout.write_blobs(img)
        with self._locked():
            for n in (name, *extra_tags):
                self.layout.write_image(img, normalize(n))
        return Digest.of(img.raw_manifest())

    def remove(self, name: str) -> None:
        """Forget ``name`` (blobs stay until :meth:`prune`); ImageError if absent."""
        ref = normalize(name)
        with self._locked():
            if ref not in self.layout.refs():
                raise ImageNotFoundError(f"image {name!r} is not in the local store")
            self.layout.remove_ref(ref)

    def list(self) -> list[Entry]:
        """Every named image, sorted by name."""
        out = [Entry(d.annotations[REF_NAME], d.digest, d.size)
               for d in self.layout.index().manifests if REF_NAME in d.annotations]
        return sorted(out, key=lambda e: e.name)

    def prune(self) -> int:
        """Delete blobs no named image uses; returns how many were removed."""
        with self._locked():
            live: set[str] = set()
            for d in self.layout.index().manifests:
                live.add(str(d.digest))
                img = self.layout.image_at(d) if not _is_index(d.media_type) else None
                if img is None:
                    continue
                live.add(str(Digest.of(img.raw_config())))
                live.update(str(layer.digest) for layer in img.layers())
            removed = 0
            for path in (self.layout.path / "blobs" / "sha256").iterdir():
                if f"sha256:{path.name}" not in live and not path.name.startswith("."):
                    path.unlink()
                    removed += 1
            return removed


def _is_index(media_type: str) -> bool:
    from lifecycle.oci import mediatypes as mt

    return mt.is_index(media_type)
