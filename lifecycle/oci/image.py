"""Images as immutable values: the Image protocol and ImageValue, its in-memory form.

OCI image-spec "manifest.md" and "config.md": an image is a manifest (exact bytes), a config
(exact bytes, addressed by the manifest) and ordered layers whose diff IDs the config lists.
Sources (OCI layout, docker-archive, registry) return Images; sinks accept any Image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from lifecycle.errors import ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.config import ConfigFile
from lifecycle.oci.descriptor import Descriptor
from lifecycle.oci.digest import Digest
from lifecycle.oci.layer import Layer
from lifecycle.oci.manifest import Manifest
from lifecycle.oci.platform import Platform

_TO_DOCKER = {mt.OCI_LAYER_GZIP: mt.DOCKER_LAYER_GZIP}
_TO_OCI = {mt.DOCKER_LAYER_GZIP: mt.OCI_LAYER_GZIP}


@runtime_checkable
class Image(Protocol):
    """A single-platform image. ``raw_*`` return the exact bytes their digests cover."""

    def manifest(self) -> Manifest:
        """The parsed manifest."""

    def raw_manifest(self) -> bytes:
        """The manifest bytes (the image digest is their sha256)."""

    def config(self) -> ConfigFile:
        """The parsed configuration."""

    def raw_config(self) -> bytes:
        """The configuration bytes the manifest's config descriptor addresses."""

    def layers(self) -> tuple[Layer, ...]:
        """The layers, lowest first, matching manifest layers and config diff IDs."""


def digest(img: Image) -> Digest:
    """The image (manifest) digest."""
    return Digest.of(img.raw_manifest())


def manifest_descriptor(img: Image, annotations: Mapping[str, str] | None = None) -> Descriptor:
    """The index/layout descriptor of ``img``'s manifest, with its platform."""
    raw = img.raw_manifest()
    cfg = img.config()
    plat = cfg.platform if cfg.os and cfg.architecture else None
    return Descriptor.of(raw, img.manifest().media_type, annotations=dict(annotations or {}),
                         platform=plat)


def layer_media_type(layer_type: str, manifest_type: str) -> str:
    """``layer_type`` renamed to the family (OCI or Docker) of ``manifest_type``."""
    table = _TO_DOCKER if manifest_type == mt.DOCKER_MANIFEST else _TO_OCI
    return table.get(layer_type, layer_type)


@dataclass(frozen=True, slots=True)
class ImageValue:
    """An immutable image: exact manifest and config bytes, parsed values, and layers."""

    manifest_bytes: bytes
    config_bytes: bytes
    manifest_value: Manifest
    config_value: ConfigFile
    layer_values: tuple[Layer, ...]

    def manifest(self) -> Manifest:
        """The parsed manifest."""
        return self.manifest_value

    def raw_manifest(self) -> bytes:
        """The exact manifest bytes."""
        return self.manifest_bytes

    def config(self) -> ConfigFile:
        """The parsed configuration."""
        return self.config_value

    def raw_config(self) -> bytes:
        """The exact configuration bytes."""
        return self.config_bytes

    def layers(self) -> tuple[Layer, ...]:
        """The layers, lowest first."""
        return self.layer_values

    def digest(self) -> Digest:
        """The manifest digest."""
        return Digest.of(self.manifest_bytes)

    @classmethod
    def build(cls, config: ConfigFile, layers: Sequence[Layer], *,
              manifest_media_type: str = mt.OCI_MANIFEST,
              annotations: Mapping[str, str] | None = None) -> ImageValue:
        """A new image from a config and layers; the config's diff IDs are set from the
        layers and the manifest is written in canonical JSON."""
        config = replace(config, diff_ids=tuple(layer.diff_id for layer in layers))
        raw_config = config.to_json()
        cfg_type = mt.DOCKER_CONFIG if manifest_media_type == mt.DOCKER_MANIFEST else mt.OCI_CONFIG
        manifest = Manifest(
            config=Descriptor.of(raw_config, cfg_type),
            layers=tuple(Descriptor(layer_media_type(ly.media_type, manifest_media_type),
                                    ly.digest, ly.size) for ly in layers),
            media_type=manifest_media_type, annotations=dict(annotations or {}))
        return cls(manifest.to_json(), raw_config, manifest, config, tuple(layers))

    @classmethod
    def from_raw(cls, raw_manifest: bytes, raw_config: bytes, layers: Sequence[Layer],
                 what: str = "image") -> ImageValue:
        """An image from exact bytes read from a source; checks that manifest, config and
        layers agree (config digest and size, layer digests, diff ID count)."""
        manifest = Manifest.from_json(raw_manifest, f"{what} manifest")
        manifest.config.digest.verify(raw_config, f"{what} config")
        if manifest.config.size != len(raw_config):
            raise ImageError(f"{what} config {manifest.config.digest}: size "
                             f"{len(raw_config)} != descriptor size {manifest.config.size}")
        config = ConfigFile.from_json(raw_config, f"{what} config")
        _check_layers(manifest, config, layers, what)
        return cls(raw_manifest, raw_config, manifest, config, tuple(layers))


def _check_layers(manifest: Manifest, config: ConfigFile, layers: Sequence[Layer],
                  what: str) -> None:
    if not len(manifest.layers) == len(config.diff_ids) == len(layers):
        raise ImageError(f"{what}: {len(manifest.layers)} manifest layers, "
                         f"{len(config.diff_ids)} diff IDs, {len(layers)} layer objects")
    for i, (d, ly) in enumerate(zip(manifest.layers, layers, strict=True)):
        if d.digest != ly.digest or d.size != ly.size:
            raise ImageError(f"{what} layer {i}: descriptor {d.digest} ({d.size} bytes) does "
                             f"not match layer {ly.digest} ({ly.size} bytes)")


def empty_image(platform: Platform | None = None,
                manifest_media_type: str = mt.OCI_MANIFEST) -> ImageValue:
    """An image with no layers and an empty run config (the base of ``FROM scratch``)."""
    p = platform or Platform.host()
    cfg = ConfigFile(architecture=p.architecture, os=p.os, variant=p.variant,
                     os_version=p.os_version)
    return ImageValue.build(cfg, (), manifest_media_type=manifest_media_type)
