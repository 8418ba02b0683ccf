"""OCI image layout directories: several images by ref name, read and write.

OCI image-spec "image-layout.md": an ``oci-layout`` file, ``index.json`` whose descriptors carry
``org.opencontainers.image.ref.name``, and ``blobs/<alg>/<hex>``. Blobs are written temp +
``os.replace``; a layer blob already present is not rewritten; ``index.json`` is replaced only
after every blob of the image is in place, so readers never see a dangling reference. Writers
to one layout are not serialised against each other: one writer at a time.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from lifecycle.errors import ImageError, ImageNotFoundError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.config import ConfigFile
from lifecycle.oci.descriptor import Descriptor
from lifecycle.oci.image import Image, ImageValue, manifest_descriptor
from lifecycle.oci.layer import BlobLayer, Layer, read_chunks
from lifecycle.oci.manifest import Index, Manifest
from lifecycle.oci.platform import Platform

log = logging.getLogger(__name__)

REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_VERSION = b'{"imageLayoutVersion":"1.0.0"}'


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        raise ImageError(f"cannot write {path}: {e.strerror}") from e


class Layout:
    """An OCI image layout at ``path``. ``Layout.init(path)`` creates one."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.blobs = BlobStore(self.path / "blobs")

    @classmethod
    def init(cls, path: str | os.PathLike[str]) -> Layout:
        """Open the layout at ``path``, creating the directory, ``oci-layout`` and an empty
        ``index.json`` if missing."""
        lay = cls(path)
        try:
            (lay.path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ImageError(f"cannot create OCI layout {lay.path}: {e.strerror}") from e
        if not (lay.path / "oci-layout").exists():
            write_atomic(lay.path / "oci-layout", LAYOUT_VERSION)
        if not (lay.path / "index.json").exists():
            write_atomic(lay.path / "index.json", Index().to_json())
        return lay

    def index(self) -> Index:
        """The parsed ``index.json``; ImageError if this is not a layout."""
        try:
            version = json.loads((self.path / "oci-layout").read_bytes())
            raw = (self.path / "index.json").read_bytes()
        except FileNotFoundError as e:
            raise ImageNotFoundError(f"{self.path} is not an OCI image layout: {e}") from e
        except (OSError, ValueError) as e:
            raise ImageError(f"{self.path} is not an OCI image layout: {e}") from e
        if not isinstance(version, dict) or version.get("imageLayoutVersion") != "1.0.0":
            raise ImageError(f"{self.path}/oci-layout: unsupported imageLayoutVersion")
        return Index.from_json(raw, f"{self.path}/index.json")

    def refs(self) -> list[str]:
        """The ref names in ``index.json``, in index order."""
        return [d.annotations[REF_NAME] for d in self.index().manifests
                if REF_NAME in d.annotations]

    def descriptor(self, ref: str | None = None) -> Descriptor:
        """The index.json entry for ``ref`` (or the only entry when ``ref`` is None)."""
        entries = self.index().manifests
        if ref is None:
            if len(entries) != 1:
                raise ImageError(f"{self.path}: {len(entries)} images, name a ref")
            return entries[0]
        for d in entries:
            if d.annotations.get(REF_NAME) == ref:
                return d
        raise ImageNotFoundError(f"{self.path}: no image named {ref!r} (have: {self.refs()})")

    def image(self, ref: str | None = None, *, platform: Platform | None = None) -> ImageValue:
        """The image named ``ref``; an index entry is resolved by ``platform`` (default host)."""
        d = self.descriptor(ref)
        if mt.is_index(d.media_type):
            idx = Index.from_json(self._read(d), f"{self.path} index {d.digest}")
            d = idx.select(platform or Platform.host())
        return self.image_at(d)

    def image_at(self, d: Descriptor) -> ImageValue:
        """The image whose manifest descriptor is ``d``; every blob is read verified."""
        what = f"{self.path}@{d.digest}"
        raw = self._read(d)
        manifest = Manifest.from_json(raw, f"{what} manifest")
        raw_config = self._read(manifest.config)
        diff_ids = ConfigFile.from_json(raw_config, f"{what} config").diff_ids
        layers = [BlobLayer.from_file(self.blobs.path(ld.digest), ld.digest, diff_id,
                                      ld.media_type, ld.size)
                  for ld, diff_id in zip(manifest.layers, diff_ids, strict=False)]
        return ImageValue.from_raw(raw, raw_config, layers, what)

    def _read(self, d: Descriptor) -> bytes:
        data = self.blobs.read(d.digest, limit=max(d.size, 0))
        if len(data) != d.size:
            raise ImageError(f"{self.path} blob {d.digest}: {len(data)} bytes, want {d.size}")
        return data

    def write_layer(self, layer: Layer) -> None:
        """Copy ``layer``'s blob in, unless present with the right size (verified on copy)."""
        if self.blobs.has(layer.digest, layer.size):
            return
        with layer.open() as f:
            _, size = self.blobs.put(read_chunks(f), layer.digest)
        if size != layer.size:
            raise ImageError(f"layer {layer.digest}: wrote {size} bytes, want {layer.size}")

    def write_blobs(self, img: Image) -> Descriptor:
        """Write every blob of ``img`` (layers, config, manifest); returns its descriptor."""
        for layer in img.layers():
            self.write_layer(layer)
        self.blobs.put_bytes(img.raw_config())
        self.blobs.put_bytes(img.raw_manifest())
        return manifest_descriptor(img)

    def write_image(self, img: Image, ref: str) -> Descriptor:
        """Write ``img`` under ``ref``, replacing an entry of that name only after all its
        blobs are in place; returns the index.json entry."""
        d = self.write_blobs(img)
        return self.set_ref(Descriptor(d.media_type, d.digest, d.size,
                                       {REF_NAME: ref}, d.platform))

    def write_index(self, images: list[Image], ref: str) -> Descriptor:
        """Write a multi-platform image: all images, an image index over them, and ``ref``."""
        entries = tuple(self.write_blobs(img) for img in images)
        raw = Index(entries).to_json()
        self.blobs.put_bytes(raw)
        return self.set_ref(Descriptor.of(raw, mt.OCI_INDEX, annotations={REF_NAME: ref}))

    def set_ref(self, entry: Descriptor) -> Descriptor:
        """Put ``entry`` into index.json, replacing any entry with the same ref name."""
        ref = entry.annotations.get(REF_NAME)
        old = self.index() if (self.path / "index.json").exists() else Index()
        entries = [entry if ref is not None and d.annotations.get(REF_NAME) == ref else d
                   for d in old.manifests]
        if entry not in entries:
            entries.append(entry)
        new = Index(tuple(entries), old.media_type, old.annotations)
        write_atomic(self.path / "index.json", new.to_json())
        log.debug("layout %s: %s -> %s", self.path, ref, entry.digest)
        return entry

    def remove_ref(self, ref: str) -> None:
        """Drop ``ref`` from index.json (blobs stay; no garbage collection)."""
        old = self.index()
        kept = tuple(d for d in old.manifests if d.annotations.get(REF_NAME) != ref)
        write_atomic(self.path / "index.json",
                     Index(kept, old.media_type, old.annotations).to_json())
