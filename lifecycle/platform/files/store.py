"""``<layers>/<bp>/store.toml``: buildpack data kept across builds (`buildpack.md` "store.toml").

The builder leaves it in place; the exporter stores ``[metadata]`` in the app image label and
the restorer writes it back before the next build.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.errors import FileFormatError, LifecycleError


@dataclass(frozen=True, slots=True)
class Store:
    """The free-form ``[metadata]`` table of store.toml."""

    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_toml(self) -> dict[str, Any]:
        """The TOML document."""
        return {"metadata": dict(self.metadata)}


def load(path: str | os.PathLike[str], *,
         error: type[LifecycleError] = FileFormatError) -> Store | None:
    """Read store.toml; None when the file does not exist."""
    if not os.path.exists(path):
        return None
    data = tomlfile.load(path, error=error)
    schema.validate(data, "store", path, error=error)
    return Store(dict(data.get("metadata", {})))


def dump(path: str | os.PathLike[str], store: Store) -> None:
    """Write store.toml atomically."""
    tomlfile.dump(path, store.to_toml())
