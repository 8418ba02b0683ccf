"""``system.toml``: system buildpacks added before (pre) and after (post) every order group
(Platform API 0.15, platform.md "system.toml" and "detector").

``id`` and ``version`` are required; ``optional`` defaults to false and is honoured (the Go
lifecycle does not parse it; cnb-digest §9 #13). A missing file means no system buildpacks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.platform.files.order import OrderEntry

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class System:
    """System buildpacks: ``pre`` go first in every group, ``post`` last."""

    pre: tuple[OrderEntry, ...] = ()
    post: tuple[OrderEntry, ...] = ()


def _refs(data: dict[str, Any], part: str) -> tuple[OrderEntry, ...]:
    return tuple(OrderEntry.from_toml(e)
                 for e in data.get("system", {}).get(part, {}).get("buildpacks", ()))


def load(path: PathLike | None) -> System:
    """Read and validate ``system.toml``; a missing (or unset) file gives an empty System."""
    if path is None:
        return System()
    data = tomlfile.load(path, missing_ok=True)
    schema.validate(data, "system", path)
    return System(_refs(data, "pre"), _refs(data, "post"))


def dump(path: PathLike, system: System) -> None:
    """Write ``system.toml`` atomically (used by platforms and tests)."""
    def part(refs: tuple[OrderEntry, ...]) -> dict[str, Any]:
        return {"buildpacks": [{"id": r.id, "version": r.version, "optional": r.optional}
                               for r in refs]}
    tomlfile.dump(path, {"system": {"pre": part(system.pre), "post": part(system.post)}})
