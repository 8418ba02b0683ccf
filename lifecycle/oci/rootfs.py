"""Images from a root filesystem: a directory or a tar file becomes one layer.

OCI image-spec "layer.md" and "config.md". Used by ``pypack image import``: the result is an
ImageValue whose new layer blob already lives in the given BlobStore (use the destination
layout's store to avoid a copy).
"""

from __future__ import annotations

import os
from pathlib import Path

from lifecycle.errors import ImageError
from lifecycle.oci import mutate
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.config import History
from lifecycle.oci.image import Image, ImageValue, empty_image
from lifecycle.oci.layer import BlobLayer, decompress, read_chunks, sniff_compression
from lifecycle.oci.pipeline import GZIP, Compression, layer_from_dir, store_layer
from lifecycle.oci.platform import Platform
from lifecycle.oci.tarball import DEFAULT_OPTIONS, TarOptions


def layer_from_tar(path: str | os.PathLike[str], store: BlobStore,
                   c: Compression = GZIP, family: str = "oci") -> BlobLayer:
    """A layer whose content is the tar file ``path`` (gzip/zstd input is decompressed first;
    entries are taken as they are)."""
    try:
        with open(path, "rb") as f:
            kind = sniff_compression(f.read(4))
            f.seek(0)
            with decompress(f, kind) as raw:
                return store_layer(read_chunks(raw), store, c, family)
    except OSError as e:
        raise ImageError(f"cannot read rootfs tar {path}: {e.strerror}") from e


def from_rootfs(src: str | os.PathLike[str], store: BlobStore, *, base: Image | None = None,
                platform: Platform | None = None, under: str = "/",
                opts: TarOptions = DEFAULT_OPTIONS, compression: Compression = GZIP,
                created_by: str | None = None) -> ImageValue:
    """An image of ``src`` (a directory, tarred deterministically at ``under``, or a tar file)
    as one layer on top of ``base`` (default: an empty image for ``platform`` or the host).
    ``platform``, when given, is also written into the config."""
    p = Path(src)
    if p.is_dir():
        layer = layer_from_dir(p, store, under=under, opts=opts, c=compression)
    elif p.is_file():
        layer = layer_from_tar(p, store, compression)
    else:
        raise ImageError(f"rootfs {src} is neither a directory nor a tar file")
    img: Image = base if base is not None else empty_image(platform)
    if platform is not None and img.config().platform != platform:
        img = mutate.with_platform(img, platform)
    return mutate.append_layers(img, [layer], history=[History(created_by=created_by)])
