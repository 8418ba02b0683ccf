"""The one image invariant checker tests run on every image they write or read back.

OCI image-spec "manifest.md", "config.md", "layer.md": manifest and config digests and sizes
match their bytes; every layer blob hashes to its descriptor digest and size; the config has one
diff ID per layer; each layer's uncompressed sha256 equals its diff ID. Hashing here is done
independently of the Layer implementations' own verification.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from lifecycle.errors import ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.config import ConfigFile
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.oci.layer import Layer, read_chunks
from lifecycle.oci.manifest import Manifest


def _gunzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    d = zlib.decompressobj(31)
    for chunk in chunks:
        while chunk:
            yield d.decompress(chunk)
            if not d.eof:
                break
            chunk, d = d.unused_data, zlib.decompressobj(31)
    yield d.flush()


def _uncompressed(f: BinaryIO, compression: str) -> Iterator[bytes]:
    if compression == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
        return read_chunks(reader)
    return read_chunks(f)


def _hashed(f: BinaryIO, h: hashlib._Hash, size: list[int]) -> Iterator[bytes]:
    for c in read_chunks(f):
        h.update(c)
        size[0] += len(c)
        yield c


def check_layer(layer: Layer, what: str = "layer") -> None:
    """Check ``layer``'s blob digest and size, and its uncompressed sha256 == diff ID."""
    comp, plain, size = hashlib.sha256(), hashlib.sha256(), [0]
    kind = mt.compression(layer.media_type)
    with layer.open() as f:
        chunks = _hashed(f, comp, size)
        for data in (_gunzip(chunks) if kind == "gzip" else chunks):
            if kind != "zstd":
                plain.update(data)
    if kind == "zstd":
        with layer.open() as f:
            for data in _uncompressed(f, kind):
                plain.update(data)
    if Digest("sha256", comp.hexdigest()) != layer.digest or size[0] != layer.size:
        raise ImageError(f"{what}: blob is sha256:{comp.hexdigest()} ({size[0]} bytes), "
                         f"want {layer.digest} ({layer.size} bytes)")
    if Digest("sha256", plain.hexdigest()) != layer.diff_id:
        raise ImageError(f"{what}: uncompressed sha256:{plain.hexdigest()} != "
                         f"diff_id {layer.diff_id}")


def check_image(img: Image, what: str = "image") -> None:
    """Raise ImageError naming the first broken invariant of ``img``."""
    raw_m, raw_c = img.raw_manifest(), img.raw_config()
    m, c = Manifest.from_json(raw_m, what), ConfigFile.from_json(raw_c, what)
    if m != img.manifest() or c.diff_ids != img.config().diff_ids:
        raise ImageError(f"{what}: parsed manifest/config differ from the raw bytes")
    if Digest.of(raw_c) != m.config.digest or len(raw_c) != m.config.size:
        raise ImageError(f"{what}: config bytes do not match descriptor {m.config.digest}")
    layers = img.layers()
    if not len(layers) == len(m.layers) == len(c.diff_ids):
        raise ImageError(f"{what}: {len(layers)} layers, {len(m.layers)} descriptors, "
                         f"{len(c.diff_ids)} diff IDs")
    for i, (ly, d, diff) in enumerate(zip(layers, m.layers, c.diff_ids, strict=True)):
        if (ly.digest, ly.size, ly.diff_id) != (d.digest, d.size, diff):
            raise ImageError(f"{what} layer {i}: layer {ly.digest}/{ly.diff_id} != "
                             f"descriptor {d.digest} / diff_id {diff}")
        if d.media_type not in mt.LAYERS:
            raise ImageError(f"{what} layer {i}: unknown media type {d.media_type}")
        check_layer(ly, f"{what} layer {i}")
