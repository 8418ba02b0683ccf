"""``order.toml``: the groups of buildpacks the detector tries (Platform API 0.15, platform.md
"order.toml"); the same ``[[order]] [[order.group]]`` shape is a composite buildpack's order in
``buildpack.toml`` (buildpack.md "Order").

``id`` and ``version`` are required; ``optional`` defaults to false. ``[[order-extensions]]``
(image extensions) is parsed only. ``exec-env`` on a group element is read (buildpack.toml only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lifecycle import schema, tomlfile

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class OrderEntry:
    """A reference to a buildpack (or extension) in an order group; ``str()`` is ``id@version``."""

    id: str
    version: str
    optional: bool = False
    exec_env: tuple[str, ...] = ()
    extension: bool = False

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"

    @classmethod
    def from_toml(cls, data: Mapping[str, Any], *, extension: bool = False) -> OrderEntry:
        """Read one ``[[order.group]]`` table (schema-valid)."""
        return cls(data["id"], data["version"], bool(data.get("optional", False)),
                   tuple(data.get("exec-env", ())), extension)


@dataclass(frozen=True, slots=True)
class OrderGroup:
    """One group of an order: references tried together, in order."""

    group: tuple[OrderEntry, ...]


@dataclass(frozen=True, slots=True)
class Order:
    """The whole order file: buildpack groups and (parsed only) extension groups."""

    order: tuple[OrderGroup, ...]
    order_extensions: tuple[OrderGroup, ...] = ()


def groups_from_toml(items: Sequence[Mapping[str, Any]], *,
                     extension: bool = False) -> tuple[OrderGroup, ...]:
    """Turn a schema-valid ``[[order]]`` array into OrderGroups."""
    return tuple(OrderGroup(tuple(OrderEntry.from_toml(e, extension=extension)
                                  for e in g.get("group", ())))
                 for g in items)


def load(path: PathLike) -> Order:
    """Read and validate ``order.toml``; FileFormatError names the file and key."""
    data = tomlfile.load(path)
    schema.validate(data, "order", path)
    return Order(groups_from_toml(data.get("order", ())),
                 groups_from_toml(data.get("order-extensions", ()), extension=True))


def dump(path: PathLike, order: Order) -> None:
    """Write ``order.toml`` atomically (used by platforms and tests)."""
    def groups(gs: Sequence[OrderGroup]) -> list[dict[str, Any]]:
        return [{"group": [_entry(e) for e in g.group]} for g in gs]
    doc: dict[str, Any] = {"order": groups(order.order)}
    if order.order_extensions:
        doc["order-extensions"] = groups(order.order_extensions)
    tomlfile.dump(path, doc)


def _entry(e: OrderEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"id": e.id, "version": e.version}
    if e.optional:
        out["optional"] = True
    if e.exec_env:
        out["exec-env"] = list(e.exec_env)
    return out
