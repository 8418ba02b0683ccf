"""The streaming layer pipeline and the directory fingerprint."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from pathlib import Path

import pytest
import zstandard

from lifecycle.oci import mediatypes as mt
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.check import check_layer
from lifecycle.oci.fingerprint import fingerprint
from lifecycle.oci.pipeline import Compression, compress, layer_from_dir
from lifecycle.oci.tarball import tar_tree


def _tree_tar(tree: Path) -> bytes:
    return b"".join(tar_tree(tree))


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_gzip_decompresses_to_the_tar(tree: Path, workers: int) -> None:
    (tree / "rand").write_bytes(os.urandom(9 << 20))  # several 4 MiB chunks
    tar = _tree_tar(tree)
    out = io.BytesIO()
    d = compress(iter([tar]), out, Compression("gzip", workers=workers, chunk_size=1 << 20))
    blob = out.getvalue()
    assert gzip.decompress(blob) == tar
    assert d.diff_id.hex == hashlib.sha256(tar).hexdigest()
    assert d.digest.hex == hashlib.sha256(blob).hexdigest()
    assert (d.size, d.uncompressed_size, d.media_type) == (len(blob), len(tar), mt.OCI_LAYER_GZIP)


def test_gzip_output_independent_of_workers_and_piece_sizes(tree: Path) -> None:
    tar = _tree_tar(tree) * 40
    outs = []
    for workers, piece in ((1, 7), (2, 4096), (4, len(tar))):
        out = io.BytesIO()
        pieces = [tar[i:i + piece] for i in range(0, len(tar), piece)]
        compress(pieces, out, Compression("gzip", workers=workers, chunk_size=100_000))
        outs.append(out.getvalue())
    assert outs[0] == outs[1] == outs[2]


def test_empty_stream_is_valid_gzip() -> None:
    out = io.BytesIO()
    d = compress([], out)
    assert gzip.decompress(out.getvalue()) == b"" and d.uncompressed_size == 0


def test_zstd_and_uncompressed(tree: Path) -> None:
    tar = _tree_tar(tree)
    out = io.BytesIO()
    d = compress([tar], out, Compression("zstd"))
    assert d.media_type == mt.OCI_LAYER_ZSTD
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(out.getvalue()))
    assert reader.read() == tar
    out = io.BytesIO()
    d = compress([tar], out, Compression("none"))
    assert out.getvalue() == tar and d.digest == d.diff_id


@pytest.mark.parametrize("kind", ["gzip", "zstd", "none"])
def test_layer_from_dir_into_store(tree: Path, tmp_path: Path, kind: str) -> None:
    store = BlobStore(tmp_path / "blobs")
    layer = layer_from_dir(tree, store, under="/layers/bp/l", c=Compression(kind))
    assert store.has(layer.digest, layer.size)
    check_layer(layer)
    again = layer_from_dir(tree, store, under="/layers/bp/l", c=Compression(kind))
    assert (again.digest, again.diff_id) == (layer.digest, layer.diff_id)
    assert [p.name for p in (tmp_path / "blobs" / "sha256").iterdir()] == [layer.digest.hex]
    with layer.open_uncompressed() as f:
        assert f.read() == b"".join(tar_tree(tree, "/layers/bp/l"))


def test_fingerprint(tree: Path) -> None:
    first = fingerprint(tree)
    assert fingerprint(tree) == first and first.startswith("sha256:")
    os.utime(tree / "etc" / "conf", (1, 1))
    second = fingerprint(tree)
    assert second != first
    (tree / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")  # same size, new mtime
    assert fingerprint(tree) != second
    third = fingerprint(tree)
    os.chmod(tree / "bin" / "tool", 0o700)
    assert fingerprint(tree) != third
    fourth = fingerprint(tree)
    (tree / "new").mkdir()
    assert fingerprint(tree) != fourth
