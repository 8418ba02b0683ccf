"""The labels of a builder image, as values, with the JSON pack writes and reads.

cnb-digest §7.1-7.3; pack ``internal/builder/metadata.go``, ``pkg/dist/*.go``:
``io.buildpacks.builder.metadata`` (description, buildpacks, run images, lifecycle, createdBy),
``io.buildpacks.buildpack.layers`` (id -> version -> api, layerDiffID, ...),
``io.buildpacks.buildpack.order`` and ``.system`` (as builder.toml wrote them), and the lifecycle
image labels ``io.buildpacks.lifecycle.version`` / ``.apis``. Key names are pack's; empty
optional fields are left out as Go's ``omitempty`` does. Reading accepts pack's ``null`` arrays.
Schemas: ``builder-metadata``, ``buildpack-layers``, ``builder-order-label``, ``lifecycle-apis``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifecycle.builder.config import Group, ModuleRef
from lifecycle.buildpack.targets import Distro, Stack, Target
from lifecycle.errors import FileFormatError, LifecycleError
from lifecycle.platform import labels_codec as codec

BUILDER_METADATA = "io.buildpacks.builder.metadata"
BUILDPACK_LAYERS = "io.buildpacks.buildpack.layers"
BUILDPACK_ORDER = "io.buildpacks.buildpack.order"
BUILDPACK_SYSTEM = "io.buildpacks.buildpack.system"
LIFECYCLE_VERSION = "io.buildpacks.lifecycle.version"
LIFECYCLE_APIS = "io.buildpacks.lifecycle.apis"


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """pack's ModuleInfo: a buildpack's ``[buildpack]`` table as the builder lists it."""

    id: str
    version: str = ""
    name: str = ""
    description: str = ""
    homepage: str = ""
    keywords: tuple[str, ...] = ()
    exec_env: tuple[str, ...] = ()
    licenses: tuple[tuple[str, str], ...] = ()
    clear_env: bool = False

    def __str__(self) -> str:
        return f"{self.id}@{self.version}" if self.version else self.id

    def to_json(self) -> dict[str, Any]:
        """The JSON object (empty fields omitted)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "version": self.version,
                               "description": self.description, "homepage": self.homepage,
                               "keywords": list(self.keywords), "exec-env": list(self.exec_env),
                               "licenses": [{"type": t, "uri": u} for t, u in self.licenses],
                               "clear-env": self.clear_env}
        return {k: v for k, v in out.items() if v}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ModuleInfo:
        """Read a schema-valid object."""
        return cls(d["id"], d.get("version", ""), d.get("name", ""), d.get("description", ""),
                   d.get("homepage", ""), codec.strings(d.get("keywords")),
                   codec.strings(d.get("exec-env")),
                   tuple((x.get("type", ""), x.get("uri", "")) for x in d.get("licenses") or ()),
                   bool(d.get("clear-env", False)))


@dataclass(frozen=True, slots=True)
class RunImageMeta:
    """A run image and its mirrors (``{"image", "mirrors"}``)."""

    image: str
    mirrors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON object."""
        return {"image": self.image, "mirrors": list(self.mirrors)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any] | None) -> RunImageMeta:
        """Read an object that may be missing."""
        d = d or {}
        return cls(d.get("image", ""), codec.strings(d.get("mirrors")))


@dataclass(frozen=True, slots=True)
class LifecycleDescriptor:
    """A lifecycle's version and the Buildpack and Platform APIs it supports/deprecates."""

    version: str
    buildpack_supported: tuple[str, ...] = ()
    buildpack_deprecated: tuple[str, ...] = ()
    platform_supported: tuple[str, ...] = ()
    platform_deprecated: tuple[str, ...] = ()

    def apis_json(self) -> dict[str, Any]:
        """The ``io.buildpacks.lifecycle.apis`` object (also ``lifecycle.apis`` in metadata)."""
        return {"buildpack": {"deprecated": list(self.buildpack_deprecated),
                              "supported": list(self.buildpack_supported)},
                "platform": {"deprecated": list(self.platform_deprecated),
                             "supported": list(self.platform_supported)}}

    def to_json(self) -> dict[str, Any]:
        """The ``lifecycle`` object of the builder metadata; the deprecated ``api`` holds the
        earliest of each list, as pack's CompatDescriptor computes it."""
        bp = self.buildpack_deprecated + self.buildpack_supported
        plat = self.platform_deprecated + self.platform_supported
        return {"version": self.version,
                "api": {"buildpack": _earliest(bp), "platform": _earliest(plat)},
                "apis": self.apis_json()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any] | None, version: str = "") -> LifecycleDescriptor:
        """Read a metadata ``lifecycle`` object or (with ``version``) an apis label object;
        an old builder with only ``api`` gives one supported version of each."""
        d = d or {}
        apis = d.get("apis", d) or {}
        bp, plat = apis.get("buildpack") or {}, apis.get("platform") or {}
        old = d.get("api") or {}
        bp_sup = codec.strings(bp.get("supported")) or _one(old.get("buildpack"))
        plat_sup = codec.strings(plat.get("supported")) or _one(old.get("platform"))
        return cls(str(d.get("version") or version), bp_sup, codec.strings(bp.get("deprecated")),
                   plat_sup, codec.strings(plat.get("deprecated")))


def _one(v: Any) -> tuple[str, ...]:
    return (str(v),) if v else ()


def _earliest(versions: Sequence[str]) -> str | None:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(x) if x.isdigit() else 0 for x in v.split("."))
    return min(versions, key=key) if versions else None


@dataclass(frozen=True, slots=True)
class BuilderMetadata:
    """The ``io.buildpacks.builder.metadata`` label."""

    description: str = ""
    buildpacks: tuple[ModuleInfo, ...] = ()
    extensions: tuple[ModuleInfo, ...] = ()
    stack_run_image: RunImageMeta = field(default_factory=lambda: RunImageMeta(""))
    run_images: tuple[RunImageMeta, ...] = ()
    lifecycle: LifecycleDescriptor = field(default_factory=lambda: LifecycleDescriptor(""))
    created_by_name: str = ""
    created_by_version: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object, with pack's key names."""
        return {"description": self.description,
                "buildpacks": [b.to_json() for b in self.buildpacks],
                "extensions": [e.to_json() for e in self.extensions],
                "stack": {"runImage": self.stack_run_image.to_json()},
                "images": [r.to_json() for r in self.run_images],
                "lifecycle": self.lifecycle.to_json(),
                "createdBy": {"name": self.created_by_name,
                              "version": self.created_by_version}}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BuilderMetadata:
        """Read a schema-valid object."""
        created = d.get("createdBy") or {}
        return cls(d.get("description", ""),
                   tuple(ModuleInfo.from_json(b) for b in d.get("buildpacks") or ()),
                   tuple(ModuleInfo.from_json(e) for e in d.get("extensions") or ()),
                   RunImageMeta.from_json((d.get("stack") or {}).get("runImage")),
                   tuple(RunImageMeta.from_json(r) for r in d.get("images") or ()),
                   LifecycleDescriptor.from_json(d.get("lifecycle")),
                   created.get("name", ""), created.get("version", ""))

    def all_run_images(self) -> tuple[RunImageMeta, ...]:
        """``images``, or the legacy stack run image when there are none."""
        if self.run_images:
            return self.run_images
        return (self.stack_run_image,) if self.stack_run_image.image else ()


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """One buildpack's entry in ``io.buildpacks.buildpack.layers``."""

    api: str
    layer_diff_id: str
    stacks: tuple[Stack, ...] = ()
    targets: tuple[Target, ...] = ()
    order: tuple[Group, ...] = ()
    homepage: str = ""
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object (pack's omitempty rules)."""
        out: dict[str, Any] = {"api": self.api, "layerDiffID": self.layer_diff_id}
        if self.stacks:
            out["stacks"] = [stack_json(s) for s in self.stacks]
        if self.targets:
            out["targets"] = [target_json(t) for t in self.targets]
        if self.order:
            out["order"] = order_json(self.order)
        if self.homepage:
            out["homepage"] = self.homepage
        if self.name:
            out["name"] = self.name
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LayerInfo:
        """Read a schema-valid object."""
        return cls(str(d.get("api") or ""), d["layerDiffID"],
                   tuple(Stack(s["id"], codec.strings(s.get("mixins")))
                         for s in d.get("stacks") or ()),
                   tuple(Target.from_toml({k: v for k, v in t.items() if v is not None})
                         for t in d.get("targets") or ()),
                   order_from_json(d.get("order")), d.get("homepage", ""), d.get("name", ""))


Layers = Mapping[str, Mapping[str, LayerInfo]]
"""``io.buildpacks.buildpack.layers``: buildpack id -> version -> LayerInfo."""


def stack_json(s: Stack) -> dict[str, Any]:
    """A stack object (``mixins`` only when there are some)."""
    return {"id": s.id, **({"mixins": list(s.mixins)} if s.mixins else {})}


def target_json(t: Target) -> dict[str, Any]:
    """A target object with pack's ``dist.Target`` keys (empty variant/distros left out)."""
    out: dict[str, Any] = {"os": t.os, "arch": t.arch}
    if t.arch_variant:
        out["variant"] = t.arch_variant
    if t.distros:
        out["distros"] = [_distro_json(d) for d in t.distros]
    return out


def _distro_json(d: Distro) -> dict[str, str]:
    return {k: v for k, v in (("name", d.name), ("version", d.version)) if v}


def ref_json(r: ModuleRef) -> dict[str, Any]:
    """An order/system reference (``version`` and ``optional`` only when set)."""
    out: dict[str, Any] = {"id": r.id}
    if r.version:
        out["version"] = r.version
    if r.optional:
        out["optional"] = True
    return out


def order_json(order: Sequence[Group]) -> list[dict[str, Any]]:
    """An order as pack's JSON: ``[{"group": [ref, ...]}, ...]``."""
    return [{"group": [ref_json(r) for r in g]} for g in order]


def refs_from_json(items: Sequence[Mapping[str, Any]] | None) -> Group:
    """Read a schema-valid list of references (null gives none)."""
    return tuple(ModuleRef(r["id"], r.get("version", ""), bool(r.get("optional", False)))
                 for r in items or ())


def order_from_json(items: Sequence[Mapping[str, Any]] | None) -> tuple[Group, ...]:
    """Read a schema-valid order array (null gives no groups)."""
    return tuple(refs_from_json(g.get("group")) for g in items or ())


def system_json(pre: Group, post: Group) -> dict[str, Any]:
    """The system label object: ``{"pre": {"buildpacks": [...]}, "post": ...}``."""
    out: dict[str, Any] = {}
    for key, refs in (("pre", pre), ("post", post)):
        if refs:
            out[key] = {"buildpacks": [ref_json(r) for r in refs]}
    return out


def layers_json(layers: Layers) -> dict[str, Any]:
    """The layers label object."""
    return {bp: {v: info.to_json() for v, info in versions.items()}
            for bp, versions in layers.items()}


# --- reading -----------------------------------------------------------------------------------
def _parse(text: str, what: str, error: type[LifecycleError]) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise error(f"{what}: invalid JSON: {e}") from e


def read_metadata(text: str, source: str, *,
                  error: type[LifecycleError] = FileFormatError) -> BuilderMetadata:
    """Parse and validate the metadata label; ``source`` names the image for errors."""
    data = codec.loads(text, "builder-metadata", f"{source}: label {BUILDER_METADATA}",
                       error=error)
    return BuilderMetadata.from_json(data)


def read_layers(text: str, source: str, *,
                error: type[LifecycleError] = FileFormatError) -> dict[str, dict[str, LayerInfo]]:
    """Parse and validate the buildpack layers label."""
    data = codec.loads(text, "buildpack-layers", f"{source}: label {BUILDPACK_LAYERS}",
                       error=error)
    return {bp: {v: LayerInfo.from_json(i) for v, i in versions.items()}
            for bp, versions in data.items()}


def read_order(text: str, source: str, *,
               error: type[LifecycleError] = FileFormatError) -> tuple[Group, ...]:
    """Parse and validate the order label (a JSON array, or null)."""
    what = f"{source}: label {BUILDPACK_ORDER}"
    data = codec.checked({"order": _parse(text, what, error)}, "builder-order-label", what,
                         error=error)
    return order_from_json(data["order"])


def read_system(text: str, source: str, *,
                error: type[LifecycleError] = FileFormatError) -> tuple[Group, Group]:
    """Parse and validate the system label: ``(pre, post)``."""
    what = f"{source}: label {BUILDPACK_SYSTEM}"
    data = codec.checked({"system": _parse(text, what, error)}, "builder-order-label", what,
                         error=error)
    system = data["system"] or {}
    return (refs_from_json((system.get("pre") or {}).get("buildpacks")),
            refs_from_json((system.get("post") or {}).get("buildpacks")))


def read_lifecycle_apis(text: str, version: str, source: str, *,
                        error: type[LifecycleError] = FileFormatError) -> LifecycleDescriptor:
    """Parse and validate the ``io.buildpacks.lifecycle.apis`` label."""
    data = codec.loads(text, "lifecycle-apis", f"{source}: label {LIFECYCLE_APIS}", error=error)
    return LifecycleDescriptor.from_json({"apis": data, "version": version})
