"""Order resolution: from ``order.toml`` (+ ``system.toml``) to the flat groups detection tries.

Buildpack API 0.12 buildpack.md "Order Resolution"; Platform API 0.15 platform.md "detector"
(system buildpacks). Pure given a ``lookup`` for descriptors:

- system ``pre`` buildpacks are prepended and ``post`` appended to every order group, each
  skipped if the group already names that id;
- a composite buildpack is replaced by each group of its own order, depth-first, left to right
  (two composites side by side give the Cartesian product, left one varying slowest);
- an ``optional`` entry also yields the group without it, placed right after;
- within one flat group an id already placed is skipped (Go lifecycle);
- empty groups (every entry optional and left out) are dropped: they can never pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.errors import DetectError
from lifecycle.platform.files.group import GroupEntry
from lifecycle.platform.files.order import OrderEntry, OrderGroup
from lifecycle.platform.files.system import System

Lookup = Callable[[str, str], BuildpackDescriptor]
"""``lookup(id, version)`` returns the buildpack's descriptor (raises if missing)."""

FlatGroup = tuple[GroupEntry, ...]


def merge_system(order: Sequence[OrderGroup], system: System) -> tuple[OrderGroup, ...]:
    """Every group with the system ``pre`` buildpacks first and ``post`` buildpacks last."""
    out: list[OrderGroup] = []
    for g in order:
        ids = {e.id for e in g.group}
        pre = tuple(e for e in system.pre if e.id not in ids)
        post = tuple(e for e in system.post if e.id not in ids)
        out.append(OrderGroup(pre + g.group + post))
    return tuple(out)


def expand(order: Sequence[OrderGroup], lookup: Lookup) -> tuple[FlatGroup, ...]:
    """All flat groups of component buildpacks, in the order detection tries them."""
    out: list[FlatGroup] = []
    for g in order:
        out.extend(_dedup(flat) for flat in _expand_group(g.group, lookup, ()) if flat)
    return tuple(out)


def _expand_group(entries: Sequence[OrderEntry], lookup: Lookup,
                  stack: tuple[str, ...]) -> list[FlatGroup]:
    if not entries:
        return [()]
    heads = _expand_entry(entries[0], lookup, stack)
    tails = _expand_group(entries[1:], lookup, stack)
    return [h + t for h in heads for t in tails]


def _expand_entry(ref: OrderEntry, lookup: Lookup, stack: tuple[str, ...]) -> list[FlatGroup]:
    bp = lookup(ref.id, ref.version)
    if bp.is_composite:
        key = str(ref)
        if key in stack:
            raise DetectError(f"composite buildpack {key} includes itself: "
                              + " -> ".join((*stack, key)))
        options = [flat for g in bp.order
                   for flat in _expand_group(g.group, lookup, (*stack, key))]
    else:
        options = [(_element(ref, bp),)]
    if ref.optional:
        options.append(())
    return options


def _element(ref: OrderEntry, bp: BuildpackDescriptor) -> GroupEntry:
    return GroupEntry(id=ref.id, version=ref.version, api=str(bp.api), homepage=bp.homepage,
                      optional=ref.optional, extension=ref.extension, exec_env=ref.exec_env)


def _dedup(group: FlatGroup) -> FlatGroup:
    seen: set[tuple[bool, str]] = set()
    out: list[GroupEntry] = []
    for e in group:
        if (e.extension, e.id) not in seen:
            seen.add((e.extension, e.id))
            out.append(e)
    return tuple(out)
