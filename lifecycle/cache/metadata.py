"""The cache metadata ``io.buildpacks.lifecycle.cache.metadata`` as a value (cnb-digest §4.8).

The Go lifecycle's format (``platform/cache.go``): ``{"sbom": {"sha"}, "buildpacks": [{"key",
"version", "layers": {...}}]}``, the same buildpack entries as the lifecycle metadata label but
listing cache=true layers. A volume cache keeps it as a file of that name, an image cache as a
label.

pypack adds one key of its own, ``"pypack.fingerprints"`` (the Go lifecycle ignores unknown
keys and drops it when it rewrites the cache): ``{"<key>": {"fingerprint": "<opaque>", "sha":
"<diffID>"}}``. The exporter records there, per ``"<buildpack id>:<layer name>"`` (see
:func:`layer_key`) or any key it chooses, a fingerprint of a layer directory and the diffID its
tar had, so an unchanged directory is not tarred again. It travels with the cache metadata, so
it is committed (or not) together with the layers it describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.errors import FileFormatError
from lifecycle.platform import labels_codec as codec
from lifecycle.platform.labels import CACHE_METADATA, BuildpackLayersMetadata
from lifecycle.platform.labels_codec import ErrorType

FINGERPRINTS_KEY = "pypack.fingerprints"
"""pypack's own key in the cache metadata JSON (see the module docstring)."""


def layer_key(bp_id: str, layer: str) -> str:
    """The fingerprint key of a buildpack layer: ``<buildpack id>:<layer name>``."""
    return f"{bp_id}:{layer}"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """An opaque fingerprint of a layer directory and the diffID its tar had."""

    fingerprint: str
    sha: str


@dataclass(frozen=True, slots=True)
class CacheMetadata:
    """What a cache holds: the SBOM cache layer's diffID (``None`` if none), each buildpack's
    cached layers, and pypack's layer fingerprints."""

    sbom: str | None = None
    buildpacks: tuple[BuildpackLayersMetadata, ...] = ()
    fingerprints: Mapping[str, Fingerprint] = field(default_factory=dict)

    def buildpack(self, bp_id: str) -> BuildpackLayersMetadata | None:
        """The entry of buildpack ``bp_id``, if the cache has one."""
        return next((b for b in self.buildpacks if b.key == bp_id), None)

    def fingerprint(self, key: str) -> Fingerprint | None:
        """The fingerprint recorded under ``key`` (see :func:`layer_key`), if any."""
        return self.fingerprints.get(key)

    def diff_ids(self) -> frozenset[str]:
        """Every diffID this metadata refers to (layers and the SBOM layer)."""
        shas = {m.sha for b in self.buildpacks for m in b.layers.values() if m.sha}
        if self.sbom:
            shas.add(self.sbom)
        return frozenset(shas)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (``sbom`` always present, as the Go lifecycle writes it)."""
        out: dict[str, Any] = {"sbom": {"sha": self.sbom or ""},
                               "buildpacks": [b.to_dict() for b in self.buildpacks]}
        if self.fingerprints:
            out[FINGERPRINTS_KEY] = {
                k: {"fingerprint": f.fingerprint, "sha": f.sha}
                for k, f in sorted(self.fingerprints.items())}
        return out

    def to_json(self) -> str:
        """Deterministic JSON text (sorted keys)."""
        return codec.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = CACHE_METADATA,
                  error: ErrorType = FileFormatError) -> CacheMetadata:
        """Validate and build the value; ``error`` names ``source`` and the key."""
        d = codec.checked(d, "cache-metadata", source, error=error)
        return cls(
            sbom=codec.sha_of(d.get("sbom")) or None,
            buildpacks=tuple(BuildpackLayersMetadata.from_dict(b)
                             for b in d.get("buildpacks") or ()),
            fingerprints={k: Fingerprint(v["fingerprint"], v["sha"])
                          for k, v in (d.get(FINGERPRINTS_KEY) or {}).items()},
        )

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = CACHE_METADATA,
                  error: ErrorType = FileFormatError) -> CacheMetadata:
        """Parse the JSON text (a cache file or an image cache label)."""
        return cls.from_dict(codec.loads(text, "cache-metadata", source, error=error),
                             source=source, error=error)
