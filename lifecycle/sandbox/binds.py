"""Host directories seen inside a sandbox, and translating host paths to their inside paths.

design.md §4: when pypack drives a build, the app, layers, platform and buildpack directories
are host temp dirs, bound in the sandbox at their spec paths (platform.md "Buildpacks
Directory Layout": ``/workspace``, ``/layers``, ``/platform``, ``/cnb/buildpacks``). The
lifecycle builds ``Command``s with host paths; this module rewrites them (argv, cwd, env values)
to the paths the program sees. Pure: no I/O.
"""

from __future__ import annotations

import itertools
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lifecycle.errors import UsageError

RESERVED = ("/", "/proc", "/dev")
"""Inside paths a bind may not take (the root and the kernel file systems)."""


@dataclass(frozen=True, slots=True)
class Bind:
    """Host path ``host`` visible at ``inside`` in the sandbox (read-only if ``readonly``)."""

    host: str
    inside: str
    readonly: bool = False

    def __post_init__(self) -> None:
        what = f"sandbox bind {self.host} -> {self.inside}"
        if not self.host.startswith("/"):
            raise UsageError(f"{what}: host path must be absolute")
        object.__setattr__(self, "host", posixpath.normpath(self.host))
        object.__setattr__(self, "inside", inside_path(self.inside, what))


def inside_path(path: str, what: str) -> str:
    """``path`` normalised; UsageError naming ``what`` unless it is absolute and not
    :data:`RESERVED` (nor under ``/proc`` or ``/dev``)."""
    if not path.startswith("/"):
        raise UsageError(f"{what}: inside path must be absolute")
    inside = posixpath.normpath(path)
    if inside in RESERVED or any(inside.startswith(r + "/") for r in RESERVED[1:]):
        raise UsageError(f"{what}: {inside} is reserved")
    return inside


def components(path: str) -> tuple[str, ...]:
    """The non-empty components of a normalised absolute path (``/`` gives ``()``)."""
    return tuple(p for p in path.split("/") if p)


def is_under(path: str, prefix: str) -> bool:
    """True if ``path`` is ``prefix`` or below it (whole components only)."""
    return prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/")


def ordered(binds: Iterable[Bind]) -> list[Bind]:
    """``binds`` in mount order: parents before children (by inside path components);
    UsageError if two binds claim the same inside path."""
    out = sorted(binds, key=lambda b: components(b.inside))
    for a, b in itertools.pairwise(out):
        if a.inside == b.inside:
            raise UsageError(f"sandbox binds {a.host} and {b.host} both claim {a.inside}")
    return out


def translate_path(path: str, binds: Sequence[Bind]) -> str:
    """``path`` as seen inside: the longest bound host prefix is replaced by its inside path;
    a path under no bind is returned unchanged."""
    if not path.startswith("/"):
        return path
    best: Bind | None = None
    for b in binds:
        if is_under(path, b.host) and (best is None or len(b.host) > len(best.host)):
            best = b
    if best is None:
        return path
    rest = path[len(best.host):].lstrip("/") if best.host != "/" else path.lstrip("/")
    return posixpath.join(best.inside, rest) if rest else best.inside


def translate_value(value: str, binds: Sequence[Bind]) -> str:
    """An environment value with each colon-separated element translated (PATH-like lists and
    single paths alike; elements that are not bound host paths are kept as they are)."""
    return ":".join(translate_path(part, binds) for part in value.split(":"))


def translate_env(env: Mapping[str, str], binds: Sequence[Bind]) -> dict[str, str]:
    """Every value of ``env`` translated with :func:`translate_value`."""
    return {k: translate_value(v, binds) for k, v in env.items()}


def translate_argv(argv: Sequence[str], binds: Sequence[Bind]) -> tuple[str, ...]:
    """Each argument that is a bound host path, translated (whole arguments only)."""
    return tuple(translate_path(a, binds) for a in argv)
