"""``analyzed.toml``: what the analyzer learned (Platform API 0.15, platform.md "analyzed.toml").

``[image] reference`` (previous image, if found), ``[metadata]`` (the previous image's
``io.buildpacks.lifecycle.metadata`` label as TOML, kept as a mapping here), ``[run-image]
reference, image, extend, [run-image.target] id, os, arch, variant, [distro] name, version``
and ``[build-image] reference``. The target's variant is read from ``variant`` (spec) or
``arch-variant`` (Go lifecycle) and written as ``arch-variant`` (cnb-digest §9 #3).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.buildpack.targets import BaseTarget, Distro

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class TargetMetadata:
    """The run image's target data (``io.buildpacks.base.id``, config os/arch/variant, distro)."""

    os: str = ""
    arch: str = ""
    arch_variant: str = ""
    id: str = ""
    distro: Distro | None = None

    def base(self) -> BaseTarget:
        """The matching view used by buildpack target checks."""
        return BaseTarget(self.os, self.arch, self.arch_variant, self.distro)

    def to_toml(self) -> dict[str, Any]:
        """The TOML table (empty values omitted; variant as ``arch-variant``)."""
        out: dict[str, Any] = {k: v for k, v in (
            ("id", self.id), ("os", self.os), ("arch", self.arch),
            ("arch-variant", self.arch_variant)) if v}
        if self.distro is not None:
            out["distro"] = {"name": self.distro.name, "version": self.distro.version}
        return out

    @classmethod
    def from_toml(cls, d: Mapping[str, Any]) -> TargetMetadata:
        """Read a ``[run-image.target]`` table (``variant`` or ``arch-variant``)."""
        dist = d.get("distro")
        return cls(os=d.get("os", ""), arch=d.get("arch", ""),
                   arch_variant=d.get("arch-variant") or d.get("variant", ""),
                   id=d.get("id", ""),
                   distro=None if dist is None else Distro(dist.get("name", ""),
                                                           dist.get("version", "")))


@dataclass(frozen=True, slots=True)
class RunImage:
    """The run image: digest reference, the name given, whether extensions extend it, target."""

    reference: str = ""
    image: str = ""
    extend: bool = False
    target: TargetMetadata | None = None


@dataclass(frozen=True, slots=True)
class Analyzed:
    """The whole ``analyzed.toml``."""

    previous_image: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    run_image: RunImage | None = None
    build_image: str | None = None

    @property
    def run_image_target(self) -> TargetMetadata:
        """The run image's target, or an empty one when unknown."""
        if self.run_image is None or self.run_image.target is None:
            return TargetMetadata()
        return self.run_image.target

    def to_toml(self) -> dict[str, Any]:
        """The TOML document (absent parts omitted)."""
        out: dict[str, Any] = {}
        if self.previous_image is not None:
            out["image"] = {"reference": self.previous_image}
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        if self.run_image is not None:
            ri: dict[str, Any] = {"reference": self.run_image.reference,
                                  "image": self.run_image.image}
            if self.run_image.extend:
                ri["extend"] = True
            if self.run_image.target is not None:
                ri["target"] = self.run_image.target.to_toml()
            out["run-image"] = ri
        if self.build_image is not None:
            out["build-image"] = {"reference": self.build_image}
        return out


def from_toml(data: Mapping[str, Any]) -> Analyzed:
    """Build an Analyzed from a schema-valid document."""
    ri = data.get("run-image")
    run = None if ri is None else RunImage(
        reference=ri.get("reference", ""), image=ri.get("image", ""),
        extend=bool(ri.get("extend", False)),
        target=None if "target" not in ri else TargetMetadata.from_toml(ri["target"]))
    return Analyzed(
        previous_image=data.get("image", {}).get("reference"),
        metadata=dict(data.get("metadata", {})), run_image=run,
        build_image=data.get("build-image", {}).get("reference"))


def load(path: PathLike, *, missing_ok: bool = False) -> Analyzed:
    """Read and validate ``analyzed.toml``; with ``missing_ok`` a missing file is empty."""
    data = tomlfile.load(path, missing_ok=missing_ok)
    schema.validate(data, "analyzed", path)
    return from_toml(data)


def dump(path: PathLike, analyzed: Analyzed) -> None:
    """Write ``analyzed.toml`` atomically."""
    tomlfile.dump(path, analyzed.to_toml())
