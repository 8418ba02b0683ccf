"""``.cnb`` files: a buildpackage as an uncompressed tar of an OCI image layout.

distribution.md "Buildpackage" (a ``.cnb`` file MUST be an uncompressed tar archive containing
an OCI image) and pack ``pkg/buildpack/builder.go`` ``SaveAsFile``: ``oci-layout``,
``index.json`` (one manifest, no ref name) and ``blobs/sha256/*``, entries in lexical order,
owned by root, fixed mtimes (``SOURCE_DATE_EPOCH`` or 1980): the same image gives the same
bytes. Written to a temp file beside the target and renamed. Reading accepts pack's files (whose
entry names start with ``/``) and takes only the layout's own files, each blob checked against
its name, into a scratch layout.
"""

from __future__ import annotations

import contextlib
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

from lifecycle.errors import ImageError
from lifecycle.oci.descriptor import Descriptor
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image, ImageValue, manifest_descriptor
from lifecycle.oci.layer import Layer, read_chunks
from lifecycle.oci.layout import LAYOUT_VERSION, Layout
from lifecycle.oci.manifest import Index
from lifecycle.oci.platform import Platform
from lifecycle.oci.tarball import BLOCK, END_OF_ARCHIVE, TarOptions, dir_entry, file_entry, header

EXTENSION = ".cnb"
_BLOB = re.compile(r"^blobs/(sha256)/([0-9a-f]{64})$")


def _layer_entry(path: str, layer: Layer, opts: TarOptions) -> Iterator[bytes]:
    yield header(path, tarfile.REGTYPE, opts, size=layer.size)
    written = 0
    with layer.open() as f:
        for chunk in read_chunks(f):
            written += len(chunk)
            yield chunk
    if written != layer.size:
        raise ImageError(f"layer {layer.digest}: read {written} bytes, want {layer.size}")
    yield b"\0" * (-layer.size % BLOCK)


def _blob_entries(img: Image, opts: TarOptions) -> Iterator[bytes]:
    """The tar entries of every blob of ``img``, sorted by name, each once."""
    layers = {layer.digest.hex: layer for layer in img.layers()}
    small = {Digest.of(raw).hex: raw for raw in (img.raw_config(), img.raw_manifest())}
    for name in sorted({*layers, *small}):
        path = f"blobs/sha256/{name}"
        if name in small:
            yield file_entry(path, small[name], opts)
        else:
            yield from _layer_entry(path, layers[name], opts)


def tar_chunks(img: Image, mtime: int | None = None) -> Iterator[bytes]:
    """The complete ``.cnb`` tar of ``img``."""
    opts = TarOptions(mtime=mtime)
    desc = manifest_descriptor(img)
    index = Index((Descriptor(desc.media_type, desc.digest, desc.size,
                              platform=desc.platform),))
    yield dir_entry("blobs", opts)
    yield dir_entry("blobs/sha256", opts)
    yield from _blob_entries(img, opts)
    yield file_entry("index.json", index.to_json(), opts)
    yield file_entry("oci-layout", LAYOUT_VERSION, opts)
    yield END_OF_ARCHIVE


def write(img: Image, path: str | os.PathLike[str], mtime: int | None = None) -> Path:
    """Write ``img`` as the ``.cnb`` file ``path`` (atomically); returns the path."""
    dest = Path(path).absolute()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as e:
        raise ImageError(f"cannot write {dest}: {e.strerror}") from e
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in tar_chunks(img, mtime):
                f.write(chunk)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except OSError as e:
        raise ImageError(f"cannot write {dest}: {e.strerror}") from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dest


def _name(member: tarfile.TarInfo) -> str:
    return "/".join(p for p in member.name.split("/") if p not in ("", "."))


def _copy_members(stream: BinaryIO, lay: Layout) -> None:
    with tarfile.open(fileobj=stream, mode="r|*") as tf:
        for m in tf:
            if not m.isreg():
                continue
            name, extracted = _name(m), tf.extractfile(m)
            if extracted is None:
                continue
            f = cast(BinaryIO, extracted)
            blob = _BLOB.match(name)
            if blob:
                lay.blobs.put(read_chunks(f), Digest(blob.group(1), blob.group(2)))
            elif name in ("index.json", "oci-layout"):
                (lay.path / name).write_bytes(f.read(1 << 24))


def _select(lay: Layout, where: str, platform: Platform | None) -> ImageValue:
    entries = lay.index().manifests
    if not entries:
        raise ImageError(f"{where}: the OCI layout inside holds no image")
    if len(entries) > 1:
        raise ImageError(f"{where}: the OCI layout inside holds {len(entries)} images; pypack "
                         "reads .cnb files with one")
    return lay.image(None, platform=platform)


def read(path: str | os.PathLike[str], scratch: str | os.PathLike[str],
         platform: Platform | None = None) -> ImageValue:
    """The buildpackage image in ``.cnb`` file ``path``; its blobs are copied into the OCI
    layout ``scratch`` (which must outlive the image). ImageError if it is not a ``.cnb``."""
    where = os.fspath(path)
    lay = Layout(scratch)
    try:
        (lay.path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        with open(path, "rb") as stream:
            _copy_members(stream, lay)
    except tarfile.TarError as e:
        raise ImageError(f"{where}: not a .cnb file (a tar of an OCI layout): {e}") from e
    except OSError as e:
        raise ImageError(f"{where}: {e.strerror or e}") from e
    if not (lay.path / "index.json").is_file():
        raise ImageError(f"{where}: not a .cnb file: no index.json (a .cnb is a tar of an "
                         "OCI image layout)")
    return _select(lay, where, platform)
