"""Where the buildpacks of a ``builder.toml`` (or ``package.toml``) come from: a directory, a
``.tgz``/``.tar`` holding one buildpack (extracted safely into a scratch directory), or a
buildpackage (``docker://``, ``oci:``, ``store:``, a bare name the local store holds, ``image =``,
or a ``.cnb`` file), whose buildpacks are extracted and keep their layers.

Buildpack API ``buildpack.toml`` (buildpack.md) via ``lifecycle.buildpack.descriptor``, which
checks the declared API (exit 12). As pack's ``validateModule``, an entry's ``id``/``version``
must match the buildpack found (a buildpackage's entrypoint buildpack). Remote URIs
(``http(s)://``, ``urn:cnb:registry:``) are refused with a message saying what works.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import client, tomlfile
from lifecycle.builder.config import BuilderConfig, BuildpackSource
from lifecycle.builder.labels import LayerInfo, ModuleInfo
from lifecycle.buildpack import descriptor
from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.buildpackage import contents, source
from lifecycle.errors import FileFormatError, LifecycleError, UsageError
from lifecycle.oci.extract import extract
from lifecycle.oci.layer import Layer, decompress, sniff_compression
from lifecycle.store import Store

log = logging.getLogger(__name__)

_ARCHIVES = (".tgz", ".tar.gz", ".tar")


@dataclass(frozen=True, slots=True)
class LoadedBuildpack:
    """A buildpack ready to be layered: its descriptor (``dir`` is its root), the raw
    ``buildpack.toml`` document, and the config entry it came from. A buildpack taken from a
    buildpackage also has its ``layer`` (reused as is, never re-tarred) and the package's
    ``io.buildpacks.buildpack.layers`` entry ``layer_info``."""

    descriptor: BuildpackDescriptor
    raw: Mapping[str, Any] = field(default_factory=dict)
    source: BuildpackSource | None = None
    layer: Layer | None = None
    layer_info: LayerInfo | None = None

    @property
    def full_name(self) -> str:
        """``id@version``."""
        return f"{self.descriptor.id}@{self.descriptor.version}"

    def info(self) -> ModuleInfo:
        """pack's ModuleInfo for the builder metadata label (the ``[buildpack]`` table)."""
        bp = self.raw.get("buildpack", {})
        return ModuleInfo(
            id=self.descriptor.id, version=self.descriptor.version,
            name=bp.get("name", ""), description=bp.get("description", ""),
            homepage=bp.get("homepage", ""), keywords=tuple(bp.get("keywords", ())),
            exec_env=self.descriptor.exec_env,
            licenses=tuple((x.get("type", ""), x.get("uri", "")) for x in bp.get("licenses", ())),
            clear_env=self.descriptor.clear_env)


def load_all(cfg: BuilderConfig, scratch: Path,
             ctx: client.Context | None = None) -> list[LoadedBuildpack]:
    """Load every ``[[buildpacks]]`` entry that has a source (``uri`` or ``image``); entries
    with only ``id``/``version`` must already be on the build image and are checked by the
    plan. Archives and buildpackages are unpacked under ``scratch``, which must outlive the
    result (buildpackage layers may be read from it)."""
    if cfg.extensions:
        raise UsageError(f"{cfg.path}: extensions: image extensions are not supported by "
                         "pypack yet; remove [[extensions]]")
    out: list[LoadedBuildpack] = []
    for i, src in enumerate(cfg.buildpacks):
        if not src.uri and not src.image:
            continue
        merge(out, load_source(src, cfg.path, scratch / str(i), ctx))
    return out


def merge(into: list[LoadedBuildpack], new: list[LoadedBuildpack]) -> None:
    """Append ``new`` to ``into``, dropping a buildpackage's dependencies already loaded (two
    packages often carry the same one); other repeats stay, for the plan to warn about."""
    have = {bp.full_name for bp in into}
    into.extend(bp for i, bp in enumerate(new)
                if i == 0 or bp.layer is None or bp.full_name not in have)


def load_source(src: BuildpackSource, config_path: Path, scratch: Path,
                ctx: client.Context | None = None) -> list[LoadedBuildpack]:
    """The buildpacks of one entry: one for a directory or archive; for a buildpackage, its
    entrypoint buildpack first, then its other buildpacks."""
    ref = package_ref(src, ctx)
    if ref is None:
        return [load_one(src, config_path, scratch)]
    return load_package(ref, src, config_path, scratch, ctx or client.Context())


def package_ref(src: BuildpackSource, ctx: client.Context | None) -> str | None:
    """The buildpackage reference of an entry, or None for a directory or archive: an
    ``image``, an image ``uri``, a ``.cnb`` file, or a bare name that is no file but is in
    the local store."""
    if src.image:
        return src.image
    if src.path is None:
        return None
    if src.path.name.endswith(".cnb"):
        return str(src.path)
    if not src.path.exists() and src.uri and not src.uri.startswith("file://"):
        store = (ctx or client.Context()).store
        if _store_has(store, src.uri):
            return f"store:{src.uri}"
    return None


def _store_has(store: Store, name: str) -> bool:
    try:
        return store.has(name)
    except LifecycleError:
        return False


def load_package(ref: str, src: BuildpackSource, config_path: Path, scratch: Path,
                 ctx: client.Context) -> list[LoadedBuildpack]:
    """The buildpacks of buildpackage ``ref`` (entrypoint first), unpacked under ``scratch``."""
    where = f"{config_path}: {src.key}"
    try:
        img = source.open_package(ref, ctx, scratch / "cnb", base=config_path.parent)
        found = contents.read(img, ref)
        bps = contents.extract(img, found, scratch / "layers", ref)
    except LifecycleError as e:
        raise type(e)(f"{where}: {e}") from e
    _check_expected(src, bps[0].descriptor, where)
    log.debug("buildpackage %s: %s", ref, ", ".join(b.full_name for b in bps))
    return [LoadedBuildpack(b.descriptor, b.raw, src, b.layer, b.info) for b in bps]


def load_one(src: BuildpackSource, config_path: Path, scratch: Path) -> LoadedBuildpack:
    """Load the buildpack of one directory or archive entry (see :func:`load_source`)."""
    where = f"{config_path}: {src.key}"
    if src.image or src.path is None:
        if src.image:
            raise UsageError(f"{where}: {src.describe()!r} is a buildpackage; load it with "
                             "load_source")
        raise UsageError(f"{where}: uri {src.uri!r}: only local directories, .tgz files, "
                         ".cnb files, file:// URIs and buildpackage images (docker://, oci:, "
                         "store:) are supported")
    root = _root(src.path, where, scratch)
    toml_path = root / "buildpack.toml"
    if not toml_path.is_file():
        raise FileFormatError(f"{where}: {src.path}: no buildpack.toml found")
    desc = descriptor.load(toml_path)
    raw = tomlfile.load(toml_path)
    _check_expected(src, desc, where)
    log.debug("buildpack %s from %s", desc, src.path)
    return LoadedBuildpack(desc, raw, src)


def _root(path: Path, where: str, scratch: Path) -> Path:
    if path.is_dir():
        return path
    if not path.exists():
        hint = ""
        if _looks_like_image(path.name):
            hint = " (a buildpackage image needs docker://, oci: or store: in front)"
        raise FileFormatError(f"{where}: {path}: no such file or directory{hint}")
    if not path.name.endswith(_ARCHIVES):
        raise FileFormatError(f"{where}: {path}: want a directory or a .tgz/.tar archive "
                              "(or a .cnb buildpackage)")
    _extract(path, scratch, where)
    if (scratch / "buildpack.toml").is_file():
        return scratch
    entries = list(scratch.iterdir())
    if len(entries) == 1 and (entries[0] / "buildpack.toml").is_file():
        return entries[0]  # an archive with one top directory
    return scratch


def _looks_like_image(name: str) -> bool:
    return ":" in name and source.looks_like_image(name)


def _extract(path: Path, dest: Path, where: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "rb") as f:
            kind = sniff_compression(f.read(4))
            f.seek(0)
            with decompress(f, kind) as stream:
                extract(stream, dest)
    except OSError as e:
        raise FileFormatError(f"{where}: {path}: {e.strerror or e}") from e
    os.chmod(dest, 0o755)


def _check_expected(src: BuildpackSource, desc: BuildpackDescriptor, where: str) -> None:
    if src.id and src.id != desc.id:
        raise FileFormatError(f"{where}: buildpack from {src.describe()!r} has id {desc.id!r}, "
                              f"which does not match id {src.id!r} in the config")
    if src.version and src.version != desc.version:
        raise FileFormatError(f"{where}: buildpack from {src.describe()!r} has version "
                              f"{desc.version!r}, which does not match version "
                              f"{src.version!r} in the config")
