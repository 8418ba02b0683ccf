"""Resolve ``pypack build --buildpack REF`` into buildpack directories the lifecycle can run.

pack ``pkg/buildpack/locator_type.go`` and ``downloader.go`` (cnb-digest §7.1): a reference is,
in this order, ``urn:cnb:builder:ID[@VERSION]`` (or ``from=builder:ID``), a buildpackage image
(``docker://``, ``oci:``, ``store:``, ``docker-archive:``), a local directory, ``.tgz``/``.tar``
or ``.cnb`` file (relative to ``base``, else to the working directory), an id on the builder,
a name in the local store, or a reference that can only be an image (registry host, tag or
digest). Buildpack-registry ids (``urn:cnb:registry:``) and remote URLs are refused.

Every buildpack found is placed at ``<root>/<escaped id>/<version>/`` (Platform API
"Buildpacks Directory Layout"), so the lifecycle's ``-buildpacks`` can point at ``root``: a
directory is copied with symlinks followed and ``__pycache__`` left out (the contents of the
layer a builder would get), an archive is extracted, a buildpackage's layers are unpacked.
A buildpack already at its place is kept, so several references can share one ``root``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lifecycle import client
from lifecycle.builder import layers as ly
from lifecycle.builder import sources
from lifecycle.builder.config import BuildpackSource
from lifecycle.buildpack import descriptor
from lifecycle.buildpack.descriptor import BuildpackDescriptor, escape_id
from lifecycle.buildpackage import contents, source
from lifecycle.errors import UsageError
from lifecycle.oci.layer import Layer

log = logging.getLogger(__name__)

Kind = Literal["builder", "directory", "archive", "package"]

_BUILDER_PREFIXES = ("urn:cnb:builder:", "from=builder:")


@dataclass(frozen=True, slots=True)
class FetchedBuildpack:
    """A buildpack placed at ``dir`` (``<root>/<escaped id>/<version>``); ``layer`` is the
    buildpackage layer it came from (None for a directory or archive)."""

    descriptor: BuildpackDescriptor
    dir: Path
    layer: Layer | None = None

    @property
    def id(self) -> str:
        """The buildpack id."""
        return self.descriptor.id

    @property
    def version(self) -> str:
        """The buildpack version."""
        return self.descriptor.version


@dataclass(frozen=True, slots=True)
class ResolvedBuildpack:
    """What a reference resolved to: the buildpack to put into the order (``id``,
    ``version``; version may be empty for a builder buildpack with several versions), and,
    unless it is on the builder already, every buildpack it brings, the entrypoint first."""

    ref: str
    kind: Kind
    id: str
    version: str
    buildpacks: tuple[FetchedBuildpack, ...] = field(default_factory=tuple)

    def dirs(self) -> list[Path]:
        """The directories of the buildpacks it brings."""
        return [b.dir for b in self.buildpacks]


def parse_id(ref: str) -> tuple[str, str]:
    """``ID[@VERSION]`` (after any builder prefix) as ``(id, version)``."""
    for prefix in _BUILDER_PREFIXES:
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
    bp_id, _, version = ref.partition("@")
    return bp_id, version


def _on_builder(ref: str, builder: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    bp_id, version = parse_id(ref)
    versions = [v for i, v in builder if i == bp_id and (not version or v == version)]
    if not versions:
        return None
    return bp_id, version or (versions[0] if len(versions) == 1 else "")


def resolve_buildpack(ref: str, ctx: client.Context, workdir: str | os.PathLike[str], *,
                      builder: Sequence[tuple[str, str]] = (),
                      base: Path | None = None) -> ResolvedBuildpack:
    """Resolve ``ref`` (see the module docstring); ``builder`` lists the ``(id, version)``
    pairs on the builder; buildpacks are placed under ``workdir``. UsageError for a
    reference that names nothing pypack can use."""
    root = Path(workdir).absolute()
    root.mkdir(parents=True, exist_ok=True)
    if ref.startswith(_BUILDER_PREFIXES):
        found = _on_builder(ref, builder)
        if found is None:
            raise UsageError(f"buildpack {ref!r} is not on the builder")
        return ResolvedBuildpack(ref, "builder", *found)
    if ref.startswith("urn:cnb:registry:") or ref.startswith(("http://", "https://")):
        raise UsageError(f"buildpack {ref!r}: buildpack registries and remote URLs are not "
                         "supported by pypack; give a directory, a .tgz/.cnb file or a "
                         "buildpackage image (docker://, oci:, store:)")
    base = _base_for(ref, base)
    kind = source.classify(ref, base)
    if kind in ("directory", "archive"):
        return _from_files(ref, kind, root, base)
    if kind == "unknown" or (kind == "image" and not ref.startswith(source.IMAGE_PREFIXES)):
        found = _on_builder(ref, builder)
        if found is not None:
            return ResolvedBuildpack(ref, "builder", *found)
        if kind == "unknown" and source.classify(ref, base, ctx) == "unknown":
            raise UsageError(f"buildpack {ref!r}: not a directory or file, not on the builder, "
                             "and not an image in the local store or a registry")
    if kind == "image" and _is_path(ref):
        where = f"{base} and the working directory" if base else "the working directory"
        raise UsageError(f"buildpack {ref!r}: no such directory or file (relative paths are "
                         f"looked up in {where})")
    return _from_package(ref, ctx, root, base)


def _is_path(ref: str) -> bool:
    """True for a reference written as a path (``./x``, ``../x``, ``/x``, ``~/x``)."""
    return ref.startswith(("./", "../", "/", "~")) or ref in (".", "..")


def _base_for(ref: str, base: Path | None) -> Path | None:
    """``base``, unless a relative path is missing there but present in the working directory
    (pack resolves ``--buildpack`` paths against the working directory, project.toml ``uri``s
    against project.toml's directory; pypack tries both, ``base`` first)."""
    if base is None or os.path.isabs(ref) or source.local_path(ref, base) is None:
        return base
    if not os.path.lexists(base / ref) and os.path.lexists(Path.cwd() / ref):
        log.debug("buildpack %s: not in %s; using %s", ref, base, Path.cwd() / ref)
        return Path.cwd()
    return base


def _from_files(ref: str, kind: Kind, root: Path, base: Path | None) -> ResolvedBuildpack:
    path = source.local_path(ref, base)
    assert path is not None
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=root) as tmp:
        src = BuildpackSource(key=ref, uri=ref, path=path)
        loaded = sources.load_one(src, Path("--buildpack"), Path(tmp))
        d = loaded.descriptor
        dest = root / escape_id(d.id) / d.version
        if dest.exists():
            log.debug("buildpack %s is already at %s; kept", d, dest)
        else:
            _copy(d.dir, dest, d.id, d.version)
    placed = FetchedBuildpack(descriptor.load(dest / "buildpack.toml"), dest)
    return ResolvedBuildpack(ref, kind, d.id, d.version, (placed,))


def _copy(src: Path, dest: Path, bp_id: str, version: str) -> None:
    """Copy a buildpack as its layer holds it (symlinks followed, ``__pycache__`` out)."""
    staging = dest.parent / f".{dest.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    prefix = ly.buildpack_dir(bp_id, version) + "/"
    for e in ly.buildpack_entries(src, bp_id, version):
        if not e.path.startswith(prefix):
            continue
        target = staging / e.path[len(prefix):]
        if e.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif e.source is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(e.source, target)
            os.chmod(target, e.mode)
    staging.mkdir(parents=True, exist_ok=True)
    os.chmod(staging, 0o755)
    os.replace(staging, dest)


def _from_package(ref: str, ctx: client.Context, root: Path,
                  base: Path | None) -> ResolvedBuildpack:
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=root) as tmp:
        scratch = Path(tmp)
        img = source.open_package(ref, ctx, scratch / "cnb", base=base)
        found = contents.read(img, ref)
        bps = contents.extract(img, found, scratch / "layers", ref, into=root)
    keep = source.classify(ref, base) != "cnb"  # a .cnb's blobs go with the scratch dir
    placed = tuple(FetchedBuildpack(b.descriptor, b.descriptor.dir, b.layer if keep else None)
                   for b in bps)
    main = placed[0]
    log.info("buildpackage %s: %s", ref, ", ".join(f"{b.id}@{b.version}" for b in placed))
    return ResolvedBuildpack(ref, "package", main.id, main.version, placed)
