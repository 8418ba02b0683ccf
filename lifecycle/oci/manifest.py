"""Image manifests and image indexes (multi-arch), and picking a manifest by platform.

OCI image-spec "manifest.md" and "image-index.md"; Docker image manifest v2 schema 2 and
manifest list (same JSON shape, other media types).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.errors import ImageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.descriptor import (
    Descriptor,
    canonical_json,
    load_json_object,
    require,
    str_map,
)
from lifecycle.oci.platform import Platform


def _descriptors(obj: Mapping[str, Any], key: str, what: str) -> tuple[Descriptor, ...]:
    items = obj.get(key)
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ImageError(f"{what}: field {key!r} is not a list")
    return tuple(Descriptor.from_dict(d, f"{what} {key}[{i}]") for i, d in enumerate(items))


def _media_type(obj: Mapping[str, Any], allowed: frozenset[str], default: str, what: str) -> str:
    value = obj.get("mediaType", default)
    if value not in allowed:
        raise ImageError(f"{what}: unexpected mediaType {value!r}")
    return str(value)


@dataclass(frozen=True, slots=True)
class Manifest:
    """An image manifest: one config descriptor and the ordered layer descriptors."""

    config: Descriptor
    layers: tuple[Descriptor, ...] = ()
    media_type: str = mt.OCI_MANIFEST
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str | None = None

    def to_json(self) -> bytes:
        """Canonical JSON bytes of this manifest."""
        out: dict[str, Any] = {
            "schemaVersion": 2, "mediaType": self.media_type,
            "config": self.config.to_dict(), "layers": [d.to_dict() for d in self.layers]}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.subject is not None:
            out["subject"] = self.subject.to_dict()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return canonical_json(out)

    @classmethod
    def from_json(cls, data: bytes, what: str = "manifest") -> Manifest:
        """Parse manifest bytes (OCI or Docker schema 2); ImageError naming ``what``."""
        obj = load_json_object(data, what)
        if require(obj, "schemaVersion", int, what) != 2:
            raise ImageError(f"{what}: schemaVersion {obj['schemaVersion']} is not 2")
        subject = obj.get("subject")
        return cls(
            config=Descriptor.from_dict(require(obj, "config", dict, what), f"{what} config"),
            layers=_descriptors(obj, "layers", what),
            media_type=_media_type(obj, mt.MANIFESTS, mt.OCI_MANIFEST, what),
            annotations=str_map(obj, "annotations", what),
            subject=Descriptor.from_dict(subject, f"{what} subject") if subject else None,
            artifact_type=obj.get("artifactType"),
        )


@dataclass(frozen=True, slots=True)
class Index:
    """An image index (or Docker manifest list): descriptors of per-platform manifests."""

    manifests: tuple[Descriptor, ...] = ()
    media_type: str = mt.OCI_INDEX
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Canonical JSON bytes of this index."""
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type,
                               "manifests": [d.to_dict() for d in self.manifests]}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return canonical_json(out)

    @classmethod
    def from_json(cls, data: bytes, what: str = "index") -> Index:
        """Parse index bytes (OCI index or Docker manifest list); ImageError naming ``what``."""
        obj = load_json_object(data, what)
        if require(obj, "schemaVersion", int, what) != 2:
            raise ImageError(f"{what}: schemaVersion {obj['schemaVersion']} is not 2")
        return cls(
            manifests=_descriptors(obj, "manifests", what),
            media_type=_media_type(obj, mt.INDEXES, mt.OCI_INDEX, what),
            annotations=str_map(obj, "annotations", what),
        )

    def select(self, want: Platform) -> Descriptor:
        """The first image manifest whose platform matches ``want``; ImageError if none."""
        for d in self.manifests:
            if mt.is_manifest(d.media_type) and d.platform and d.platform.matches(want):
                return d
        have = ", ".join(str(d.platform) for d in self.manifests if d.platform) or "none"
        raise ImageError(f"index has no manifest for platform {want} (has: {have})")
