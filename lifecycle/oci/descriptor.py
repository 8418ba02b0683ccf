"""Content descriptors and the canonical JSON encoding every OCI value in pypack uses.

OCI image-spec "descriptor.md" (mediaType, digest, size, urls, annotations, platform,
artifactType). Canonical JSON: UTF-8, sorted keys, no insignificant whitespace; digests of
manifests and configs are always taken over the exact bytes written or read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.errors import ImageError
from lifecycle.oci.digest import Digest
from lifecycle.oci.platform import Platform


def canonical_json(obj: Any) -> bytes:
    """Encode ``obj`` as canonical JSON bytes (sorted keys, compact, UTF-8)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse ``data`` as a JSON object; ImageError naming ``what`` otherwise."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ImageError(f"{what}: invalid JSON: {e}") from e
    if not isinstance(obj, dict):
        raise ImageError(f"{what}: expected a JSON object, got {type(obj).__name__}")
    return obj


def require(obj: Mapping[str, Any], key: str, kind: type, what: str) -> Any:
    """Return ``obj[key]`` if present and of ``kind``; ImageError naming ``what`` and key."""
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ImageError(f"{what}: field {key!r} missing or not a {kind.__name__}")
    return value


def str_map(obj: Mapping[str, Any], key: str, what: str) -> dict[str, str]:
    """Return the optional string->string map ``obj[key]`` (``{}`` when absent or null)."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ImageError(f"{what}: field {key!r} is not a map of strings")
    return dict(value)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A typed, sized, content-addressed reference to a blob (manifest, config or layer)."""

    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    urls: tuple[str, ...] = ()
    artifact_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this descriptor (empty optional fields omitted)."""
        out: dict[str, Any] = {
            "mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        if self.urls:
            out["urls"] = list(self.urls)
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], what: str = "descriptor") -> Descriptor:
        """Parse a descriptor JSON object; ImageError naming ``what`` when malformed."""
        if not isinstance(obj, Mapping):
            raise ImageError(f"{what}: expected a JSON object")
        size = require(obj, "size", int, what)
        if size < 0:
            raise ImageError(f"{what}: negative size {size}")
        plat = obj.get("platform")
        return cls(
            media_type=require(obj, "mediaType", str, what),
            digest=Digest.parse(require(obj, "digest", str, what)),
            size=size,
            annotations=str_map(obj, "annotations", what),
            platform=Platform.from_dict(plat, what) if plat is not None else None,
            urls=tuple(obj.get("urls") or ()),
            artifact_type=obj.get("artifactType"),
        )

    @classmethod
    def of(cls, data: bytes, media_type: str, **kw: Any) -> Descriptor:
        """The descriptor of the exact bytes ``data``."""
        return cls(media_type=media_type, digest=Digest.of(data), size=len(data), **kw)
