"""The ``io.buildpacks.buildpackage.metadata`` label and the stacks a buildpackage supports.

distribution.md "Buildpackage" and pack ``pkg/buildpack/buildpackage.go`` (cnb-digest §7.1,
§9 #15): the entrypoint buildpack's ModuleInfo (``id``, ``name``, ``version``, ``homepage``, ...,
empty fields left out) plus ``stacks`` (always written, as pack does). pypack also writes
``targets`` when the entrypoint declares them (pack ignores the key). The stacks are pack's
``resolvedStacks``: each buildpack's stacks (``*`` for one that declares only targets), merged
with ``MergeCompatible`` (ids in both lists, mixins unioned; a wildcard yields the other list).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lifecycle.builder.labels import ModuleInfo, stack_json, target_json
from lifecycle.buildpack.targets import Distro, Stack, Target
from lifecycle.errors import ImageError, LifecycleError

PACKAGE_METADATA = "io.buildpacks.buildpackage.metadata"
WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class PackageMetadata:
    """The entrypoint buildpack of a buildpackage and the stacks/targets it supports."""

    info: ModuleInfo
    stacks: tuple[Stack, ...] = ()
    targets: tuple[Target, ...] = ()

    @property
    def id(self) -> str:
        """The entrypoint buildpack id."""
        return self.info.id

    @property
    def version(self) -> str:
        """The entrypoint buildpack version."""
        return self.info.version

    def to_json(self) -> dict[str, Any]:
        """The label object."""
        out = self.info.to_json()
        out["stacks"] = [stack_json(s) for s in self.stacks]
        if self.targets:
            out["targets"] = [target_json(t) for t in self.targets]
        return out

    def dumps(self) -> str:
        """The label value (sorted keys, compact)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True)


def _check(data: Any, source: str, error: type[LifecycleError]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise error(f"{source}: want a JSON object, got {type(data).__name__}")
    for key in ("id", "version"):
        if not isinstance(data.get(key), str) or not data.get(key):
            raise error(f"{source}: {key}: a non-empty string is required")
    for key in ("stacks", "targets"):
        items = data.get(key)
        if items is not None and (not isinstance(items, list)
                                  or not all(isinstance(x, Mapping) for x in items)):
            raise error(f"{source}: {key}: want an array of objects")
    for i, s in enumerate(data.get("stacks") or ()):
        if not isinstance(s.get("id"), str):
            raise error(f"{source}: stacks[{i}].id: a string is required")
    return data


def read(text: str, source: str, *, error: type[LifecycleError] = ImageError) -> PackageMetadata:
    """Parse the label value; ``error`` names ``source`` and the key."""
    what = f"{source}: label {PACKAGE_METADATA}"
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise error(f"{what}: invalid JSON: {e}") from e
    data = _check(raw, what, error)
    stacks = tuple(Stack(s["id"], tuple(s.get("mixins") or ())) for s in data.get("stacks") or ())
    targets = tuple(Target(t.get("os", ""), t.get("arch", ""), t.get("variant", ""),
                           tuple(Distro(d.get("name", ""), d.get("version", ""))
                                 for d in t.get("distros") or ()))
                    for t in data.get("targets") or ())
    return PackageMetadata(ModuleInfo.from_json(data), stacks, targets)


def _with_wildcard(stacks: Sequence[Stack], composite: bool) -> tuple[Stack, ...]:
    if not stacks and not composite:
        return (Stack(WILDCARD),)
    return tuple(stacks)


def merge_compatible(a: Sequence[Stack], b: Sequence[Stack]) -> tuple[Stack, ...]:
    """pack's ``MergeCompatible``: the stacks both lists support, mixins unioned (sorted)."""
    a_wild = any(s.id == WILDCARD for s in a)
    b_wild = any(s.id == WILDCARD for s in b)
    if a_wild and b_wild:
        return (Stack(WILDCARD),)
    if a_wild:
        return tuple(b)
    if b_wild:
        return tuple(a)
    mine = {s.id: s.mixins for s in a}
    return tuple(Stack(s.id, tuple(sorted(set(mine[s.id]) | set(s.mixins))))
                 for s in b if s.id in mine)


def resolve_stacks(main: tuple[Sequence[Stack], bool],
                   others: Iterable[tuple[Sequence[Stack], bool]]) -> tuple[Stack, ...]:
    """The stacks of a buildpackage: ``main`` and each of ``others`` is ``(stacks,
    composite)``; composites (no stacks of their own) are skipped in the merge."""
    stacks = _with_wildcard(*main)
    for declared, composite in others:
        theirs = _with_wildcard(declared, composite)
        if not stacks:
            stacks = theirs
        elif theirs:
            stacks = merge_compatible(stacks, theirs)
    return stacks
