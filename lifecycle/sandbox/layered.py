"""Share one unpacked run image between the app images built on it (``pypack run``).

design.md §4. A CNB app image is its run image's layers followed by the app layers (launcher,
buildpack layers, app, config and process links, SBOM: cnb-digest §3.8) under a few top-level
directories (``/cnb``, ``/layers``, ``/workspace``). The ``io.buildpacks.lifecycle.metadata``
label's ``runImage.topLayer`` is the diffID of the run image's last layer, so the layers up to
it (the *base*) are unpacked once per run image and shared, and only the app layers (the
*upper*) are unpacked per build; the sandbox binds each top-level directory of the upper,
read-only, over the base at its path (``rootfs.prepare``).

That view equals the merged image only if the binds hide nothing of the base and the upper
removes nothing from it, so this module says when sharing is not possible and the whole image
is unpacked instead (:class:`Fallback`): no label or ``topLayer`` (any OCI image), ``topLayer``
not found exactly once, no app layers, an app layer with a whiteout, a top-level entry that is
not a directory (or is ``/proc``, ``/dev``, ``/tmp``), a hard link to a file outside the upper;
and, once both are unpacked, a base with anything at a bound path but a symlink-free tree of
empty directories the upper also has (:func:`base_conflict`).

Pure planning (:func:`split`, :func:`entry_problem`) and the :class:`Root` value; the file
system reads (``Root.resolve``, :func:`base_conflict`) are at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tarfile
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

from lifecycle.oci.config import ConfigFile
from lifecycle.oci.digest import Digest
from lifecycle.oci.extract import clean_name
from lifecycle.oci.tarball import WHITEOUT_PREFIX
from lifecycle.platform.labels import LIFECYCLE_METADATA
from lifecycle.sandbox.binds import Bind
from lifecycle.sandbox.mounts import resolve_inside

RESERVED_TOPS = frozenset({"proc", "dev", "tmp"})
"""Top-level directories the sandbox mounts over itself: an upper may not bring them."""


@dataclass(frozen=True, slots=True)
class Split:
    """Where an app image divides: ``base`` are the run image's diffIDs (its first layers),
    ``app`` how many layers follow them."""

    base: tuple[Digest, ...]
    app: int

    @property
    def key(self) -> str:
        """The base's directory name: ``base-`` and the sha256 of its diffIDs, one a line."""
        joined = "\n".join(str(d) for d in self.base).encode()
        return f"base-{hashlib.sha256(joined).hexdigest()}"


@dataclass(frozen=True, slots=True)
class Fallback:
    """Why an image is unpacked whole instead (for the debug log)."""

    reason: str


def split(config: ConfigFile) -> Split | Fallback:
    """The base/app division of an image with config ``config`` (module docstring)."""
    raw = config.config.labels.get(LIFECYCLE_METADATA)
    if raw is None:
        return Fallback(f"no {LIFECYCLE_METADATA} label")
    try:
        run_image = json.loads(raw).get("runImage") or {}
        top = run_image.get("topLayer") or ""
    except (ValueError, AttributeError):
        return Fallback(f"{LIFECYCLE_METADATA} is not a JSON object with runImage")
    if not isinstance(top, str) or not top:
        return Fallback("no runImage.topLayer")
    ids = [str(d) for d in config.diff_ids]
    if (count := ids.count(top)) != 1:
        return Fallback(f"runImage.topLayer {top} is {count} times in the image's diff_ids")
    n = ids.index(top) + 1
    if n == len(ids):
        return Fallback("no app layers after the run image's")
    return Split(tuple(config.diff_ids[:n]), len(ids) - n)


def top_of(name: str) -> str:
    """The first component of tar entry ``name`` ("" for the root entry)."""
    return clean_name(name).partition("/")[0]


def entry_problem(m: tarfile.TarInfo, tops: Set[str]) -> str | None:
    """Why app layer entry ``m`` prevents sharing, or None; ``tops`` are the top-level names
    of the upper's earlier entries."""
    rel = clean_name(m.name)
    if not rel:
        return None
    top, _, rest = rel.partition("/")
    if any(p.startswith(WHITEOUT_PREFIX) for p in rel.split("/")):
        return f"app layer entry {m.name!r} is a whiteout"
    if top in RESERVED_TOPS:
        return f"app layer entry {m.name!r} is under /{top}"
    if not rest and not m.isdir():
        return f"app layer entry {m.name!r} is a top-level non-directory"
    if m.islnk() and top_of(m.linkname) not in tops:
        return f"app layer entry {m.name!r} is a hard link to {m.linkname!r} in the run image"
    return None


@dataclass(frozen=True, slots=True)
class Root:
    """A root file system on the host: ``base`` alone, or ``base`` with each of ``tops``
    (top-level names) bound read-only from ``upper``."""

    base: Path
    upper: Path | None = None
    tops: tuple[str, ...] = ()

    def host_root(self, top: str) -> Path:
        """The host directory whose ``top`` is seen at ``/top``."""
        return self.upper if self.upper is not None and top in self.tops else self.base

    def where(self, resolved: str) -> Path:
        """The host path of the (already resolved) absolute inside path ``resolved``."""
        rel = resolved.lstrip("/")
        return self.host_root(rel.partition("/")[0]) / rel

    def binds(self) -> tuple[Bind, ...]:
        """The read-only binds of the upper's top-level directories."""
        if self.upper is None:
            return ()
        return tuple(Bind(str(self.upper / t), f"/{t}", readonly=True) for t in self.tops)

    # --- edge (reads the file system) ----------------------------------------------------------
    def resolve(self, inside: str) -> str:
        """``inside`` with symlinks followed as the sandbox sees them (``mounts.resolve_inside``
        over both trees)."""
        return resolve_inside(self.base, inside,
                              None if self.upper is None else self.host_root)

    def host(self, inside: str) -> Path:
        """The host path ``inside`` resolves to."""
        return self.where(self.resolve(inside))


def base_conflict(base: Path, upper: Path, tops: tuple[str, ...]) -> str | None:
    """What of ``base`` the binds of ``tops`` would hide (None: nothing): each ``base/top``
    must be absent or a tree of real directories, every one also a directory in ``upper``."""
    for top in tops:
        try:
            problem = _hidden(base, upper, top)
        except OSError as e:
            problem = f"/{top} in the base: {e.strerror}"
        if problem is not None:
            return problem
    return None


def _hidden(base: Path, upper: Path, rel: str) -> str | None:
    try:
        st = os.lstat(base / rel)
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return f"the base has a non-directory at /{rel}"
    if not os.path.isdir(upper / rel) or os.path.islink(upper / rel):
        return f"the base has /{rel}, which the app layers lack"
    with os.scandir(base / rel) as it:
        children = [e.name for e in it]
    for child in children:
        if (problem := _hidden(base, upper, f"{rel}/{child}")) is not None:
            return problem
    return None


def as_root(rootfs: Root | str | os.PathLike[str]) -> Root:
    """``rootfs`` as a Root (a plain directory is a base alone)."""
    return rootfs if isinstance(rootfs, Root) else Root(Path(rootfs))
