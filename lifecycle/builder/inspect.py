"""``pypack builder inspect``: what a builder image holds, read from its labels.

pack ``internal/builder/inspect.go`` and cnb-digest §7.3: buildpacks and run images from
``io.buildpacks.builder.metadata``, the layers from ``io.buildpacks.buildpack.layers``, the
order (versions filled in from the layers when the label leaves them out and one version is
there) and system buildpacks, the lifecycle version and APIs, stack and target, and who made it.
Works on builders made by pack as well as by pypack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle import client
from lifecycle.builder import labels as lb
from lifecycle.builder.config import Group, ModuleRef
from lifecycle.errors import ImageError
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.platform import labels as platform_labels


@dataclass(frozen=True, slots=True)
class BuilderInfo:
    """A builder image, summarised."""

    location: str
    digest: str
    metadata: lb.BuilderMetadata
    layers: Mapping[str, Mapping[str, lb.LayerInfo]] = field(default_factory=dict)
    order: tuple[Group, ...] = ()
    system: tuple[Group, Group] = ((), ())
    stack_id: str = ""
    platform: str = ""
    distro: str = ""
    user: str = ""
    working_dir: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (pack's key names where pack has them)."""
        m = self.metadata
        return {
            "location": self.location, "digest": self.digest, "description": m.description,
            "createdBy": {"name": m.created_by_name, "version": m.created_by_version},
            "stack": {"id": self.stack_id},
            "target": {"platform": self.platform, "distro": self.distro},
            "user": self.user, "workingDir": self.working_dir,
            "runImages": [r.to_json() for r in m.all_run_images()],
            "lifecycle": m.lifecycle.to_json(),
            "buildpacks": [self._buildpack(b) for b in m.buildpacks],
            "order": lb.order_json(self.order),
            "system": lb.system_json(*self.system),
        }

    def _buildpack(self, b: lb.ModuleInfo) -> dict[str, Any]:
        out = b.to_json()
        info = self.layers.get(b.id, {}).get(b.version)
        if info is not None:
            out["api"] = info.api
            out["layerDiffID"] = info.layer_diff_id
        return out


def inspect_builder(location: str, ctx: client.Context) -> BuilderInfo:
    """Read the builder at ``location`` (store name, registry reference, ``oci:``, ...)."""
    return from_image(client.open_image(location, ctx), location)


def from_image(img: Image, location: str) -> BuilderInfo:
    """The summary of builder image ``img``; ImageError if it is not a builder."""
    cfg = img.config()
    labels = dict(cfg.config.labels)
    text = labels.get(lb.BUILDER_METADATA)
    if not text:
        raise ImageError(f"{location} is not a builder: it has no label {lb.BUILDER_METADATA}")
    metadata = lb.read_metadata(text, location, error=ImageError)
    layers = (lb.read_layers(labels[lb.BUILDPACK_LAYERS], location, error=ImageError)
              if labels.get(lb.BUILDPACK_LAYERS) else {})
    order = (lb.read_order(labels[lb.BUILDPACK_ORDER], location, error=ImageError)
             if labels.get(lb.BUILDPACK_ORDER) else ())
    system = (lb.read_system(labels[lb.BUILDPACK_SYSTEM], location, error=ImageError)
              if labels.get(lb.BUILDPACK_SYSTEM) else ((), ()))
    distro = " ".join(x for x in (labels.get(platform_labels.BASE_DISTRO_NAME, ""),
                                  labels.get(platform_labels.BASE_DISTRO_VERSION, "")) if x)
    return BuilderInfo(
        location=location, digest=str(Digest.of(img.raw_manifest())), metadata=metadata,
        layers=layers, order=tuple(_fill(g, layers) for g in order),
        system=(_fill(system[0], layers), _fill(system[1], layers)),
        stack_id=labels.get(platform_labels.STACK_ID, ""), platform=str(cfg.platform),
        distro=distro, user=cfg.config.user or "", working_dir=cfg.config.working_dir or "")


def _fill(group: Group, layers: Mapping[str, Mapping[str, lb.LayerInfo]]) -> Group:
    """References with their version filled in when the layers hold exactly one."""
    out = []
    for r in group:
        versions = list(layers.get(r.id, {}))
        version = r.version or (versions[0] if len(versions) == 1 else "")
        out.append(ModuleRef(r.id, version, r.optional))
    return tuple(out)
