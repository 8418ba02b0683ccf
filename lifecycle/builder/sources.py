"""Where the buildpacks of a ``builder.toml`` come from: a directory, or a ``.tgz``/``.tar``
holding one buildpack (extracted safely into a scratch directory), read into descriptors.

Buildpack API ``buildpack.toml`` (buildpack.md) via ``lifecycle.buildpack.descriptor``, which
checks the declared API (exit 12). As pack's ``validateModule``, an entry's ``id``/``version``
must match the buildpack found. Buildpackage images (``docker://``, ``oci:``, ``store:``, a
``.cnb`` file) and remote URIs (``http(s)://``, ``urn:cnb:registry:``) are refused for now with
a message saying what works.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import tomlfile
from lifecycle.builder.config import BuilderConfig, BuildpackSource
from lifecycle.builder.labels import ModuleInfo
from lifecycle.buildpack import descriptor
from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.errors import FileFormatError, UsageError
from lifecycle.oci.extract import extract
from lifecycle.oci.layer import decompress, sniff_compression

log = logging.getLogger(__name__)

_ARCHIVES = (".tgz", ".tar.gz", ".tar")


@dataclass(frozen=True, slots=True)
class LoadedBuildpack:
    """A buildpack ready to be layered: its descriptor (``dir`` is its root), the raw
    ``buildpack.toml`` document, and the config entry it came from."""

    descriptor: BuildpackDescriptor
    raw: Mapping[str, Any] = field(default_factory=dict)
    source: BuildpackSource | None = None

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


def load_all(cfg: BuilderConfig, scratch: Path) -> list[LoadedBuildpack]:
    """Load every ``[[buildpacks]]`` entry that has a source (``uri``); entries with only
    ``id``/``version`` must already be on the build image and are checked by the plan.
    ``.tgz`` files are extracted under ``scratch``."""
    if cfg.extensions:
        raise UsageError(f"{cfg.path}: extensions: image extensions are not supported by "
                         "pypack yet; remove [[extensions]]")
    out = []
    for i, src in enumerate(cfg.buildpacks):
        if not src.uri and not src.image:
            continue
        out.append(load_one(src, cfg.path, scratch / str(i)))
    return out


def load_one(src: BuildpackSource, config_path: Path, scratch: Path) -> LoadedBuildpack:
    """Load the buildpack of one entry (see :func:`load_all`)."""
    where = f"{config_path}: {src.key}"
    if src.image or (src.path is not None and src.path.name.endswith(".cnb")):
        raise UsageError(f"{where}: {src.describe()!r}: buildpackage images are not supported "
                         "by pypack yet; give a buildpack directory or .tgz as uri")
    if src.path is None:
        raise UsageError(f"{where}: uri {src.uri!r}: only local directories, .tgz files and "
                         "file:// URIs are supported")
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
        raise FileFormatError(f"{where}: {path}: no such file or directory")
    if not path.name.endswith(_ARCHIVES):
        raise FileFormatError(f"{where}: {path}: want a directory or a .tgz/.tar archive")
    _extract(path, scratch, where)
    if (scratch / "buildpack.toml").is_file():
        return scratch
    entries = list(scratch.iterdir())
    if len(entries) == 1 and (entries[0] / "buildpack.toml").is_file():
        return entries[0]  # an archive with one top directory
    return scratch


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
        raise FileFormatError(f"{where}: buildpack from {src.uri!r} has id {desc.id!r}, which "
                              f"does not match id {src.id!r} in the config")
    if src.version and src.version != desc.version:
        raise FileFormatError(f"{where}: buildpack from {src.uri!r} has version "
                              f"{desc.version!r}, which does not match version "
                              f"{src.version!r} in the config")
