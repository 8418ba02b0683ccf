"""Image label names and the ``io.buildpacks.lifecycle.metadata`` label as values.

Platform API 0.15, platform.md "Labels"; cnb-digest §4.3 (label names) and §4.4 (lifecycle
metadata). JSON key names are those the Go lifecycle writes (``platform/files/analyzed.go``,
``buildpack/files.go``), so pack and the Go rebaser read our images and we read theirs.
The same value appears in ``analyzed.toml`` as ``[metadata]`` with the Go lifecycle's TOML key
names (``run-image``, ``top-layer``, and a layer's ``metadata`` instead of ``data``):
:meth:`LifecycleMetadata.to_toml` / :meth:`LifecycleMetadata.from_toml` convert.

Exec-env (cnb-digest §9 #4): the spec puts ``"exec-env"`` inside this label, the Go lifecycle
writes a separate ``io.buildpacks.exec-env`` label; the exporter writes both.
The build and project metadata labels are in :mod:`lifecycle.platform.labels_build`; the cache
metadata is in :mod:`lifecycle.cache.metadata`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.errors import FileFormatError
from lifecycle.platform import labels_codec as codec
from lifecycle.platform.labels_codec import ErrorType

LIFECYCLE_METADATA = "io.buildpacks.lifecycle.metadata"
BUILD_METADATA = "io.buildpacks.build.metadata"
PROJECT_METADATA = "io.buildpacks.project.metadata"
REBASABLE = "io.buildpacks.rebasable"
EXEC_ENV = "io.buildpacks.exec-env"
CACHE_METADATA = "io.buildpacks.lifecycle.cache.metadata"
"""The cache metadata: a label on an image cache, a file of this name in a volume cache."""

BASE_PREFIX = "io.buildpacks.base."
BASE_ID = "io.buildpacks.base.id"
BASE_DISTRO_NAME = "io.buildpacks.base.distro.name"
BASE_DISTRO_VERSION = "io.buildpacks.base.distro.version"
BASE_MAINTAINER = "io.buildpacks.base.maintainer"
BASE_HOMEPAGE = "io.buildpacks.base.homepage"
BASE_RELEASED = "io.buildpacks.base.released"
BASE_DESCRIPTION = "io.buildpacks.base.description"
BASE_METADATA = "io.buildpacks.base.metadata"

STACK_PREFIX = "io.buildpacks.stack."
STACK_ID = "io.buildpacks.stack.id"
"""Deprecated since Platform API 0.12, still inherited from the run image and checked by rebase."""
STACK_MIXINS = "io.buildpacks.stack.mixins"
"""Deprecated since Platform API 0.12: a JSON array of mixin names."""


def is_base_label(name: str) -> bool:
    """True for labels the rebaser replaces with the new run image's (base.* and stack.*)."""
    return name.startswith((BASE_PREFIX, STACK_PREFIX))


@dataclass(frozen=True, slots=True)
class LayerMetadata:
    """A layer as recorded in a label or the cache: its diffID, ``[metadata]`` and types."""

    sha: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    build: bool = False
    launch: bool = False
    cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (Go keys: ``sha``, ``data``, ``build``, ``launch``, ``cache``)."""
        return {"sha": self.sha, "data": codec.table(self.data), "build": self.build,
                "launch": self.launch, "cache": self.cache}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LayerMetadata:
        """Build from a schema-checked JSON object (``data`` may be null)."""
        return cls(sha=str(d.get("sha", "")), data=codec.table(d.get("data")),
                   build=bool(d.get("build", False)), launch=bool(d.get("launch", False)),
                   cache=bool(d.get("cache", False)))


@dataclass(frozen=True, slots=True)
class BuildpackLayersMetadata:
    """One buildpack's entry: ``key`` (its id), version, layers by name, and store.toml data.

    ``store`` is the ``[metadata]`` table of ``store.toml``; ``None`` means the buildpack wrote
    no store.toml (the key is then omitted, as the Go lifecycle does).
    """

    key: str
    version: str = ""
    layers: Mapping[str, LayerMetadata] = field(default_factory=dict)
    store: Mapping[str, Any] | None = None

    @property
    def id(self) -> str:
        """The buildpack id (the label calls it ``key``)."""
        return self.key

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        out: dict[str, Any] = {
            "key": self.key, "version": self.version,
            "layers": {n: m.to_dict() for n, m in sorted(self.layers.items())},
        }
        if self.store is not None:
            out["store"] = {"metadata": codec.table(self.store)}
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BuildpackLayersMetadata:
        """Build from a schema-checked JSON object."""
        store = d.get("store")
        return cls(
            key=str(d["key"]), version=str(d.get("version", "")),
            layers={n: LayerMetadata.from_dict(m) for n, m in (d.get("layers") or {}).items()},
            store=None if store is None else codec.table(store.get("metadata")),
        )


@dataclass(frozen=True, slots=True)
class RunImageMetadata:
    """``runImage``: the run image's top layer diffID, its digest reference or image ID, and the
    name and mirrors it was chosen from (run.toml). ``stack.runImage`` uses only image/mirrors."""

    top_layer: str = ""
    reference: str = ""
    image: str = ""
    mirrors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``runImage`` JSON object (``image``/``mirrors`` omitted when empty, as in Go)."""
        out: dict[str, Any] = {"topLayer": self.top_layer, "reference": self.reference}
        out.update(self.export_dict())
        return out

    def export_dict(self) -> dict[str, Any]:
        """Only ``image`` and ``mirrors``: the shape of the deprecated ``stack.runImage``."""
        out: dict[str, Any] = {}
        if self.image:
            out["image"] = self.image
        if self.mirrors:
            out["mirrors"] = list(self.mirrors)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> RunImageMetadata:
        """Build from a schema-checked JSON object (missing gives the empty value)."""
        d = d or {}
        return cls(top_layer=str(d.get("topLayer", "")), reference=str(d.get("reference", "")),
                   image=str(d.get("image", "")), mirrors=codec.strings(d.get("mirrors")))


@dataclass(frozen=True, slots=True)
class LifecycleMetadata:
    """The ``io.buildpacks.lifecycle.metadata`` label (cnb-digest §4.4).

    Layer references are diffIDs (``sha256:<hex>`` of the uncompressed tar); ``""`` means unset.
    ``app`` has one diffID per app/slice layer. ``sbom`` is ``None`` without an SBOM layer.
    ``stack`` is the deprecated ``stack.runImage`` copy (image and mirrors only).
    """

    app: tuple[str, ...] = ()
    sbom: str | None = None
    config: str = ""
    launcher: str = ""
    process_types: str = ""
    buildpacks: tuple[BuildpackLayersMetadata, ...] = ()
    run_image: RunImageMetadata = RunImageMetadata()
    stack: RunImageMetadata | None = None
    exec_env: str | None = None

    def buildpack(self, bp_id: str) -> BuildpackLayersMetadata | None:
        """The entry of buildpack ``bp_id``, if the image has one."""
        return next((b for b in self.buildpacks if b.key == bp_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object with the Go lifecycle's key names."""
        out: dict[str, Any] = {
            "app": [{"sha": s} for s in self.app],
            "config": {"sha": self.config},
            "launcher": {"sha": self.launcher},
            "process-types": {"sha": self.process_types},
            "buildpacks": [b.to_dict() for b in self.buildpacks],
            "runImage": self.run_image.to_dict(),
        }
        if self.sbom is not None:
            out["sbom"] = {"sha": self.sbom}
        if self.stack is not None:
            out["stack"] = {"runImage": self.stack.export_dict()}
        if self.exec_env is not None:
            out["exec-env"] = self.exec_env
        return out

    def to_json(self) -> str:
        """The label value: deterministic JSON (sorted keys)."""
        return codec.dumps(self.to_dict())

    def to_toml(self) -> dict[str, Any]:
        """The ``analyzed.toml`` ``[metadata]`` table (Go TOML key names; no nulls)."""
        return _json_to_toml(self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = LIFECYCLE_METADATA,
                  error: ErrorType = FileFormatError) -> LifecycleMetadata:
        """Validate a JSON-shaped object and build the value; ``error`` names source and key."""
        d = codec.checked(d, "lifecycle-metadata", source, error=error)
        stack = d.get("stack")
        return cls(
            app=tuple(codec.sha_of(a) for a in d.get("app") or ()),
            sbom=None if d.get("sbom") is None else codec.sha_of(d["sbom"]),
            config=codec.sha_of(d.get("config")),
            launcher=codec.sha_of(d.get("launcher")),
            process_types=codec.sha_of(d.get("process-types")),
            buildpacks=tuple(BuildpackLayersMetadata.from_dict(b)
                             for b in d.get("buildpacks") or ()),
            run_image=RunImageMetadata.from_dict(d.get("runImage")),
            stack=None if stack is None else RunImageMetadata.from_dict(stack.get("runImage")),
            exec_env=d.get("exec-env"),
        )

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = LIFECYCLE_METADATA,
                  error: ErrorType = FileFormatError) -> LifecycleMetadata:
        """Parse the label value; ``source`` should name the image and label."""
        return cls.from_dict(codec.loads(text, "lifecycle-metadata", source, error=error),
                             source=source, error=error)

    @classmethod
    def from_toml(cls, d: Mapping[str, Any], *, source: str = "analyzed.toml [metadata]",
                  error: ErrorType = FileFormatError) -> LifecycleMetadata:
        """Build from the ``analyzed.toml`` ``[metadata]`` table (TOML key names)."""
        return cls.from_dict(_toml_to_json(d), source=source, error=error)


# --- TOML <-> JSON key names (Go: `toml:"run-image"` vs `json:"runImage"`, ...) -----------------
_RUN_IMAGE_KEYS = {"topLayer": "top-layer"}


def _rename(d: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in d.items()}


def _map_layers(bps: Any, names: Mapping[str, str]) -> Any:
    if not isinstance(bps, list):
        return bps
    out = []
    for bp in bps:
        if isinstance(bp, Mapping) and isinstance(bp.get("layers"), Mapping):
            layers = {n: _rename(m, names) if isinstance(m, Mapping) else m
                      for n, m in bp["layers"].items()}
            bp = {**bp, "layers": layers}
        out.append(bp)
    return out


def _json_to_toml(d: Mapping[str, Any]) -> dict[str, Any]:
    out = _rename(d, {"runImage": "run-image"})
    out["run-image"] = _rename(out["run-image"], _RUN_IMAGE_KEYS)
    if "stack" in out:
        out["stack"] = _rename(out["stack"], {"runImage": "run-image"})
    out["buildpacks"] = _map_layers(out["buildpacks"], {"data": "metadata"})
    return out


def _toml_to_json(d: Mapping[str, Any]) -> dict[str, Any]:
    back = {v: k for k, v in _RUN_IMAGE_KEYS.items()}
    out = _rename(d, {"run-image": "runImage"})
    if isinstance(out.get("runImage"), Mapping):
        out["runImage"] = _rename(out["runImage"], back)
    if isinstance(out.get("stack"), Mapping):
        out["stack"] = _rename(out["stack"], {"run-image": "runImage"})
    if "buildpacks" in out:
        out["buildpacks"] = _map_layers(out["buildpacks"], {"metadata": "data"})
    return out
