"""Buildpack targets: ``[[targets]]`` of ``buildpack.toml`` and how they match a base image.

Buildpack API 0.12 buildpack.md "buildpack.toml / Targets" and "Deprecations / stacks":
a missing field matches anything; a target with ``distros`` needs one distro matching the image.
Targets are inferred when none are declared: from legacy ``[[stacks]]`` (bionic -> linux/amd64
ubuntu 18.04, ``*`` -> any), else ``os = "linux"`` when ``bin/build`` exists (``windows`` for
``bin/build.bat``/``bin/build.exe``). Matching follows the Go lifecycle: an empty value on
either side matches; a buildpack naming distros needs an image with distro data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIONIC = "io.buildpacks.stacks.bionic"


@dataclass(frozen=True, slots=True)
class Distro:
    """An OS distribution: ``/etc/os-release`` ``ID`` and ``VERSION_ID``."""

    name: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """One buildpack target; empty strings are wildcards."""

    os: str = ""
    arch: str = ""
    arch_variant: str = ""
    distros: tuple[Distro, ...] = ()

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> Target:
        """Read a ``[[targets]]`` table; ``variant`` (spec) wins over ``arch-variant`` (Go)."""
        return cls(
            os=data.get("os", ""), arch=data.get("arch", ""),
            arch_variant=data.get("variant") or data.get("arch-variant", ""),
            distros=tuple(Distro(d.get("name", ""), d.get("version", ""))
                          for d in data.get("distros", ())),
        )

    def describe(self) -> str:
        """A short human form: ``linux/amd64 ubuntu@22.04`` (``*`` for wildcards)."""
        plat = "/".join(x or "*" for x in (self.os, self.arch)) + (
            f"/{self.arch_variant}" if self.arch_variant else "")
        dist = ",".join(f"{d.name or '*'}@{d.version or '*'}" for d in self.distros)
        return f"{plat} {dist}".strip()


@dataclass(frozen=True, slots=True)
class Stack:
    """A deprecated ``[[stacks]]`` entry (Buildpack API < 0.10)."""

    id: str
    mixins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BaseTarget:
    """What is known of the image a build targets (run image target in analyzed.toml)."""

    os: str = ""
    arch: str = ""
    arch_variant: str = ""
    distro: Distro | None = None


def _matches(a: str, b: str) -> bool:
    return not a or not b or a == b


def satisfies(base: BaseTarget, target: Target) -> bool:
    """True if buildpack ``target`` is satisfied by the ``base`` image target."""
    if not (_matches(base.os, target.os) and _matches(base.arch, target.arch)
            and _matches(base.arch_variant, target.arch_variant)):
        return False
    if not target.distros:
        return True
    if base.distro is None:
        return False
    return any(_matches(base.distro.name, d.name) and _matches(base.distro.version, d.version)
               for d in target.distros)


def any_satisfied(base: BaseTarget, targets: Sequence[Target]) -> bool:
    """True if no targets are known (nothing to check) or one of them is satisfied."""
    return not targets or any(satisfies(base, t) for t in targets)


def from_stacks(stacks: Sequence[Stack], stacks_deprecated: bool) -> tuple[Target, ...]:
    """Targets implied by legacy stacks (Go lifecycle: bionic counts when the API is >= 0.10
    or it is the only stack)."""
    out: list[Target] = []
    for s in stacks:
        if s.id == BIONIC and (stacks_deprecated or len(stacks) == 1):
            out.append(Target("linux", "amd64", "", (Distro("ubuntu", "18.04"),)))
        elif s.id == "*":
            out.append(Target())
    return tuple(out)


def from_bin(root: Path) -> tuple[Target, ...]:
    """Targets inferred from the executables in ``<root>/bin``."""
    out: list[Target] = []
    if (root / "bin" / "build").exists():
        out.append(Target(os="linux"))
    if (root / "bin" / "build.bat").exists() or (root / "bin" / "build.exe").exists():
        out.append(Target(os="windows"))
    return tuple(out)
