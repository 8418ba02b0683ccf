"""Image platforms (os / architecture / variant) and matching them against a wanted platform.

OCI image-spec "image-index.md" (platform object) and "config.md" (os, architecture, variant).
"""

from __future__ import annotations

import platform as _host
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lifecycle.errors import ImageError, UsageError

_ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
                 "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


@dataclass(frozen=True, slots=True)
class Platform:
    """An OCI platform; ``str()`` gives ``os/arch[/variant]``."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]``, e.g. ``linux/arm64/v8``; UsageError otherwise."""
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"invalid platform {text!r} (want os/arch[/variant])")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def host(cls) -> Platform:
        """The platform of the running machine (Linux assumed)."""
        machine = _host.machine().lower()
        arch = _ARCH_ALIASES.get(machine, machine)
        return cls("linux", arch, "v8" if arch == "arm64" else None)

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    def matches(self, want: Platform) -> bool:
        """True if this (an image's) platform satisfies ``want``; a missing variant in
        ``want`` matches any variant, and arm64 treats no variant as ``v8``."""
        if (self.os, self.architecture) != (want.os, want.architecture):
            return False
        if want.variant is None:
            return True
        mine = self.variant or ("v8" if self.architecture == "arm64" else None)
        return mine == want.variant

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (spec field names, empty optional fields omitted)."""
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        return out

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], what: str = "platform") -> Platform:
        """Parse a platform JSON object; ImageError naming ``what`` when malformed."""
        if not isinstance(obj, Mapping) or not isinstance(obj.get("os"), str) \
                or not isinstance(obj.get("architecture"), str):
            raise ImageError(f"{what}: platform needs string 'os' and 'architecture'")
        return cls(obj["os"], obj["architecture"], obj.get("variant") or None,
                   obj.get("os.version") or None, tuple(obj.get("os.features") or ()))
