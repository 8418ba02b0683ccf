"""docker-archive tarballs (the ``docker save`` / ``docker load`` format): write and read.

Docker image spec v1.2 "Combined Image JSON + Filesystem Changeset Format": ``manifest.json``
(``[{"Config", "RepoTags", "Layers"}]``), ``<config hex>.json`` (the exact config bytes),
``<diff ID hex>.tar`` (UNCOMPRESSED layers) and the legacy ``repositories`` file (mapping each
tag to the config hex; no legacy ``<id>/`` directories are written). The archive itself is a
deterministic tar written to a temp file and renamed into place.
"""

from __future__ import annotations

import json
import os
import posixpath
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from lifecycle.errors import ImageError, ImageNotFoundError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.config import ConfigFile
from lifecycle.oci.descriptor import Descriptor, canonical_json
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image, ImageValue
from lifecycle.oci.layer import BlobLayer, Layer, as_file, read_chunks, sniff_compression
from lifecycle.oci.manifest import Manifest
from lifecycle.oci.tarball import DEFAULT_OPTIONS, TarWriter


def _split_tag(tag: str) -> tuple[str, str]:
    repo, sep, t = tag.rpartition(":")
    return (repo, t) if sep and "/" not in t else (tag, "latest")


def _write_entries(w: TarWriter, images: Sequence[tuple[Image, Sequence[str]]]) -> None:
    manifest: list[dict[str, Any]] = []
    repos: dict[str, dict[str, str]] = {}
    written: set[str] = set()
    for img, tags in images:
        cfg = Digest.of(img.raw_config())
        if f"{cfg.hex}.json" not in written:
            w.add_bytes(f"{cfg.hex}.json", img.raw_config())
            written.add(f"{cfg.hex}.json")
        names = []
        for layer in img.layers():
            name = f"{layer.diff_id.hex}.tar"
            if name not in written:
                with layer.open_uncompressed() as f:
                    w.add_stream(name, read_chunks(f))
                written.add(name)
            names.append(name)
        manifest.append({"Config": f"{cfg.hex}.json", "RepoTags": list(tags), "Layers": names})
        for tag in tags:
            repo, t = _split_tag(tag)
            repos.setdefault(repo, {})[t] = cfg.hex
    w.add_bytes("manifest.json", canonical_json(manifest))
    w.add_bytes("repositories", canonical_json(repos))


def write_docker_archive(path: str | os.PathLike[str],
                         images: Sequence[tuple[Image, Sequence[str]]]) -> None:
    """Write ``images`` (each with its RepoTags, e.g. ``docker.io/demo/app:1``) as a
    docker-archive at ``path`` (temp file + rename)."""
    dest = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                w = TarWriter(f, DEFAULT_OPTIONS)
                _write_entries(w, images)
                w.close()
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as e:
        raise ImageError(f"cannot write docker-archive {dest}: {e.strerror}") from e


class _Section:
    """Reads ``size`` bytes of an open file from its current position."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f, self._left = f, size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(n) if n else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._f.close()


class DockerArchive:
    """A docker-archive file opened for reading: its manifest entries and images."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._members: dict[str, tarfile.TarInfo] = {}
        try:
            with tarfile.open(self.path, "r:") as tf:
                for m in tf:
                    self._members[posixpath.normpath(m.name)] = m
        except FileNotFoundError as e:
            raise ImageNotFoundError(f"cannot read docker-archive {self.path}: {e}") from e
        except (OSError, tarfile.TarError) as e:
            raise ImageError(f"cannot read docker-archive {self.path}: {e}") from e
        entries = _load_json(self.read_member("manifest.json"), f"{self.path}:manifest.json")
        if not isinstance(entries, list) or not all(isinstance(x, dict) for x in entries):
            raise ImageError(f"{self.path}:manifest.json is not a list of objects")
        self.entries: list[dict[str, Any]] = entries

    def _member(self, name: str) -> tarfile.TarInfo:
        m = self._members.get(posixpath.normpath(name))
        for _ in range(8):
            if m is None or not (m.issym() or m.islnk()):
                break
            base = posixpath.dirname(m.name) if m.issym() else ""
            m = self._members.get(posixpath.normpath(posixpath.join(base, m.linkname)))
        if m is None or not m.isreg():
            raise ImageError(f"docker-archive {self.path}: no file {name!r}")
        return m

    def open_member(self, name: str) -> BinaryIO:
        """A stream of archive member ``name`` (symlinks followed)."""
        m = self._member(name)
        f = open(self.path, "rb")  # noqa: SIM115  (closed by the returned stream)
        f.seek(m.offset_data)
        return as_file(_Section(f, m.size))

    def read_member(self, name: str) -> bytes:
        """The bytes of archive member ``name``."""
        with self.open_member(name) as f:
            return f.read()

    def tags(self) -> list[str]:
        """Every RepoTag in the archive."""
        return [t for e in self.entries for t in e.get("RepoTags") or []]

    def image(self, tag: str | None = None) -> ImageValue:
        """The image tagged ``tag`` (or the only one). Its manifest is synthesised (OCI);
        the config bytes are kept exactly; uncompressed layers get digest == diff ID."""
        entry = self._entry(tag)
        raw_config = self.read_member(str(entry.get("Config")))
        name = str(entry.get("Config"))
        if len(base := posixpath.basename(name).removesuffix(".json")) == 64:
            Digest("sha256", base).verify(raw_config, f"{self.path}:{name}")
        diff_ids = _diff_ids(raw_config, f"{self.path}:{name}")
        paths = [str(p) for p in entry.get("Layers") or []]
        if len(paths) != len(diff_ids):
            raise ImageError(f"{self.path}: {len(paths)} layers but {len(diff_ids)} diff IDs")
        layers = [self._layer(p, d) for p, d in zip(paths, diff_ids, strict=True)]
        manifest = Manifest(Descriptor.of(raw_config, mt.OCI_CONFIG),
                            tuple(Descriptor(ly.media_type, ly.digest, ly.size) for ly in layers))
        return ImageValue.from_raw(manifest.to_json(), raw_config, layers, str(self.path))

    def _entry(self, tag: str | None) -> dict[str, Any]:
        if tag is None:
            if len(self.entries) != 1:
                raise ImageError(f"{self.path}: {len(self.entries)} images, name a tag")
            return self.entries[0]
        want = {tag, f"docker.io/{tag}", f"docker.io/library/{tag}"}
        for e in self.entries:
            if want & set(e.get("RepoTags") or []):
                return e
        raise ImageError(f"{self.path}: no image tagged {tag!r} (have: {self.tags()})")

    def _layer(self, name: str, diff_id: Digest) -> Layer:
        m = self._member(name)
        with self.open_member(name) as f:
            kind = sniff_compression(f.read(4))
        what = f"{self.path}:{name}"
        if kind == "none":
            return BlobLayer(diff_id, diff_id, m.size, mt.OCI_LAYER,
                             lambda: self.open_member(name), what)
        with self.open_member(name) as f:
            digest = Digest.of_file(f)
        media = mt.OCI_LAYER_GZIP if kind == "gzip" else mt.OCI_LAYER_ZSTD
        return BlobLayer(digest, diff_id, m.size, media, lambda: self.open_member(name), what)


def _load_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as e:
        raise ImageError(f"{what}: invalid JSON: {e}") from e


def _diff_ids(raw_config: bytes, what: str) -> tuple[Digest, ...]:
    return ConfigFile.from_json(raw_config, what).diff_ids


def read_docker_archive(path: str | os.PathLike[str], tag: str | None = None) -> ImageValue:
    """The image tagged ``tag`` (or the only image) of the docker-archive at ``path``."""
    return DockerArchive(path).image(tag)

