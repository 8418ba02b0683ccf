"""``<layers>/<bp>/build.toml``: unmet Buildpack Plan entries (and the deprecated ``bom``).

`buildpack.md` "build.toml (TOML)" and "Unmet Buildpack Plan Entries": each ``[[unmet]]``
``name`` must match an entry of the buildpack's plan; every other plan entry counts as met and
is withheld from later buildpacks, while unmet ones go to the next provider of that name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.buildpack.launch_toml import BOMEntry, parse_bom
from lifecycle.errors import BuildError


@dataclass(frozen=True, slots=True)
class BuildTOML:
    """A parsed build.toml: the names left unmet, and deprecated bom entries."""

    unmet: tuple[str, ...] = ()
    bom: tuple[BOMEntry, ...] = ()


def parse(data: Mapping[str, Any], source: str, bp_id: str = "",
          bp_version: str = "") -> BuildTOML:
    """Validate and convert build.toml data."""
    schema.validate(data, "build", source, error=BuildError)
    unmet = tuple(u["name"] for u in data.get("unmet", ()))
    return BuildTOML(unmet, parse_bom(data.get("bom", ()), bp_id, bp_version, source))


def load(path: str | os.PathLike[str], bp_id: str = "", bp_version: str = "") -> BuildTOML:
    """Read build.toml; a missing file means everything was met."""
    data = tomlfile.load(path, missing_ok=True, error=BuildError)
    return parse(data, os.fspath(path), bp_id, bp_version)


def met_names(plan_names: Sequence[str], unmet: Sequence[str], source: str) -> tuple[str, ...]:
    """The plan names this buildpack met: all of its plan but the unmet ones.

    Raise BuildError if an unmet name is not in the buildpack's plan (spec MUST, Go lifecycle).
    """
    known = set(plan_names)
    for name in unmet:
        if name not in known:
            raise BuildError(f"{source}: unmet name {name!r} does not match an entry of the "
                             f"buildpack plan ({', '.join(sorted(known)) or 'empty'})")
    skip = set(unmet)
    out: list[str] = []
    for name in plan_names:
        if name not in skip and name not in out:
            out.append(name)
    return tuple(out)
