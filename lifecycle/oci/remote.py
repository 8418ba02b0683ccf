"""Registry images as values: read an Image from a registry, and push any Image to one.

OCI distribution-spec v1.1 on top of ``lifecycle.oci.registry.RegistryClient``. Reading
fetches the manifest and config only; layer bytes stream on demand, verified. Pushing sends
layers first (in parallel; a blob the registry has is never re-sent, and one in another
repository of the same registry is mounted), then the config, then the manifest to every tag —
so a tag only ever points at a complete image.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from lifecycle.errors import ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.descriptor import Descriptor
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image, ImageValue
from lifecycle.oci.layer import Layer, as_file, decompress
from lifecycle.oci.manifest import Index
from lifecycle.oci.platform import Platform
from lifecycle.oci.reference import Reference, Repository
from lifecycle.oci.registry import BlobSource, RegistryClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RemoteLayer:
    """A layer whose blob lives in a registry repository; bytes are fetched when opened."""

    client: RegistryClient
    repo: Repository
    digest: Digest
    diff_id: Digest
    size: int
    media_type: str

    def open(self) -> BinaryIO:
        """Stream the compressed blob from the registry (verified against ``digest``)."""
        return as_file(self.client.open_blob(self.repo, self.digest))

    def open_uncompressed(self) -> BinaryIO:
        """Stream the uncompressed tar (verify the diff ID yourself if you need to)."""
        return decompress(self.open(), mt.compression(self.media_type))


def read_image(client: RegistryClient, ref: Reference,
               platform: Platform | None = None) -> ImageValue:
    """The image at ``ref``; an index is resolved to the manifest for ``platform`` (host)."""
    fetched = client.get_manifest(ref)
    data, media_type = fetched.data, fetched.media_type
    if mt.is_index(media_type):
        index = Index.from_json(data, f"{ref} index")
        chosen = index.select(platform or Platform.host())
        data, media_type, _ = client.get_manifest(ref.with_digest(chosen.digest))
    if not mt.is_manifest(media_type):
        raise ImageError(f"{ref}: unsupported manifest media type {media_type!r}")
    from lifecycle.oci.manifest import Manifest

    manifest = Manifest.from_json(data, f"{ref} manifest")
    repo = ref.context()
    raw_config = client.fetch_blob(repo, manifest.config.digest)
    from lifecycle.oci.config import ConfigFile

    config = ConfigFile.from_json(raw_config, f"{ref} config")
    if len(config.diff_ids) != len(manifest.layers):
        raise ImageError(f"{ref}: {len(manifest.layers)} layers but "
                         f"{len(config.diff_ids)} diff IDs in its config")
    layers = tuple(RemoteLayer(client, repo, d.digest, diff, d.size, d.media_type)
                   for d, diff in zip(manifest.layers, config.diff_ids, strict=True))
    return ImageValue.from_raw(data, raw_config, layers, what=str(ref))


def _mount_sources(layer: Layer, dest: Repository) -> tuple[Repository, ...]:
    if isinstance(layer, RemoteLayer) and layer.repo.registry == dest.registry \
            and layer.repo != dest:
        return (layer.repo,)
    return ()


def _short(d: Digest) -> str:
    return f"{d.algorithm}:{d.hex[:12]}"


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _source(layer: Layer) -> BlobSource:
    return BlobSource(layer.digest, layer.size, layer.open)


def push_image(client: RegistryClient, img: Image, refs: Sequence[Reference], *,
               workers: int = 3) -> Digest:
    """Push ``img`` to every reference in ``refs`` (one registry); return the manifest digest.

    Layers go first (in parallel), then the config, then the manifest to each tag.
    """
    if not refs:
        raise ImageError("push: no destination reference")
    repos = {r.context() for r in refs}
    manifest = img.manifest()
    raw_config = img.raw_config()
    for repo in sorted(repos, key=str):
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [pool.submit(client.push_blob, repo, _source(ly),
                                   mount_from=_mount_sources(ly, repo))
                       for ly in img.layers()]
            for ly, f in zip(img.layers(), futures, strict=True):
                log.info("%s: layer %s (%s) %s", repo, _short(ly.digest), _mb(ly.size),
                         f.result())
        client.push_blob(repo, BlobSource.from_bytes(raw_config))
    required = [manifest.config.digest, *(d.digest for d in manifest.layers)]
    digest = Digest.of(img.raw_manifest())
    for ref in refs:
        client.push_manifest(ref, img.raw_manifest(), manifest.media_type, required)
        log.info("pushed %s@%s", ref, digest)
    return digest


def descriptor_of(img: Image) -> Descriptor:
    """The descriptor of ``img``'s manifest (media type, digest, size)."""
    raw = img.raw_manifest()
    return Descriptor.of(raw, img.manifest().media_type)
