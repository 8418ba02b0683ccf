"""Fixture images for tests: small random images with real, valid layers.

OCI image-spec "manifest.md" / "layer.md". Like go-containerregistry's ``pkg/v1/random``:
``random_image(n)`` returns an in-memory image whose layers are deterministic tars of
pseudo-random files (same ``seed``, same image).
"""

from __future__ import annotations

import io
import random

from lifecycle.oci import mutate
from lifecycle.oci.config import ConfigFile, History, RunConfig
from lifecycle.oci.image import ImageValue
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.pipeline import GZIP, Compression, compress
from lifecycle.oci.platform import Platform
from lifecycle.oci.tarball import DEFAULT_OPTIONS, END_OF_ARCHIVE, dir_entry, file_entry


def layer_from_files(files: dict[str, bytes], c: Compression = GZIP) -> BlobLayer:
    """An in-memory layer holding ``files`` (path -> content; parents get directory entries)."""
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    parts = [dir_entry(d, DEFAULT_OPTIONS) for d in dirs]
    parts += [file_entry(p, files[p], DEFAULT_OPTIONS) for p in sorted(files)]
    parts.append(END_OF_ARCHIVE)
    out = io.BytesIO()
    d = compress(parts, out, c)
    return BlobLayer.from_bytes(out.getvalue(), d.diff_id, d.media_type)


def random_layer(rng: random.Random, n_files: int = 3, file_size: int = 1024,
                 c: Compression = GZIP) -> BlobLayer:
    """A layer of ``n_files`` random files of ``file_size`` bytes from ``rng``."""
    files = {f"layer-{rng.randrange(1 << 32):08x}/file-{i}": rng.randbytes(file_size)
             for i in range(n_files)}
    return layer_from_files(files, c)


def random_image(n_layers: int, *, seed: int = 0, n_files: int = 3, file_size: int = 1024,
                 compression: Compression = GZIP,
                 platform: Platform | None = None) -> ImageValue:
    """An image of ``n_layers`` random layers with a small, realistic config."""
    rng = random.Random(seed)
    platform = platform or Platform("linux", "amd64")
    cfg = ConfigFile(architecture=platform.architecture, os=platform.os,
                     variant=platform.variant, created="1980-01-01T00:00:01Z",
                     config=RunConfig(env=("PATH=/usr/bin:/bin",), cmd=("/bin/sh",),
                                      labels={"io.pypack.fixture": str(seed)}))
    base = ImageValue.build(cfg, ())
    layers = [random_layer(rng, n_files, file_size, compression) for _ in range(n_layers)]
    hist = [History(created_by=f"fixture layer {i}") for i in range(n_layers)]
    return mutate.append_layers(base, layers, history=hist)
