"""``package.toml``: pack's buildpackage configuration (pack ``buildpackage/config_reader.go``;
cnb-digest §7.1), the input of ``pypack buildpack package --config``.

Validated by ``spec/schemas/package-config.schema.json`` (unknown keys are errors, as in pack),
then checked the way pack's ``Read`` does: ``[buildpack] uri`` is required, a dependency has a
``uri`` or an ``image`` (not both), ``[platform] os`` defaults to ``linux``. Every source becomes
a :class:`lifecycle.builder.config.BuildpackSource` (relative paths resolved against the file's
directory), the same value ``builder.toml`` entries give, so both share one loader.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.builder.config import BuildpackSource, resolve_uri
from lifecycle.buildpack.targets import Target
from lifecycle.errors import FileFormatError, UsageError

PathLike = str | os.PathLike[str]

DEFAULT_OS = "linux"


@dataclass(frozen=True, slots=True)
class PackageConfig:
    """A validated ``package.toml`` (or the default one pack uses for ``--path``)."""

    path: Path
    buildpack: BuildpackSource
    dependencies: tuple[BuildpackSource, ...] = ()
    os: str = DEFAULT_OS
    targets: tuple[Target, ...] = ()


def load(path: PathLike) -> PackageConfig:
    """Read and validate ``package.toml``; FileFormatError names the file and key."""
    p = Path(path).absolute()
    data = tomlfile.load(p)
    schema.validate(data, "package-config", p)
    return from_toml(data, p)


def for_directory(directory: PathLike) -> PackageConfig:
    """pack's default configuration for ``--path DIR``: that buildpack, no dependencies."""
    d = Path(directory).absolute()
    return PackageConfig(path=d / "package.toml",
                         buildpack=_source("buildpack", str(d), None, d))


def from_toml(data: Mapping[str, Any], path: Path) -> PackageConfig:
    """A PackageConfig from a schema-valid document read from ``path``."""
    if data.get("extension"):
        raise UsageError(f"{path}: extension: image extensions are not supported by pypack "
                         "yet; package a [buildpack]")
    uri = data.get("buildpack", {}).get("uri", "")
    if not uri:
        raise FileFormatError(f"{path}: buildpack.uri: missing (the entrypoint buildpack's "
                              "directory or .tgz)")
    main = _source("buildpack", uri, None, path.parent)
    if main.image or main.path is None:
        raise FileFormatError(f"{path}: buildpack.uri {uri!r}: want a buildpack directory, "
                              ".tgz or file:// URI (a buildpackage belongs in [[dependencies]])")
    deps = tuple(_source(f"dependencies[{i}]", d.get("uri", ""), d.get("image"), path.parent)
                 for i, d in enumerate(data.get("dependencies", ())))
    for dep in deps:
        if dep.path is None and not dep.image:
            raise FileFormatError(f"{path}: {dep.key}: uri {dep.uri!r}: want a directory, a "
                                  ".tgz, a .cnb file or an image (docker://, oci:, store:)")
    return PackageConfig(path=path, buildpack=main, dependencies=deps,
                         os=data.get("platform", {}).get("os") or DEFAULT_OS,
                         targets=tuple(Target.from_toml(t) for t in data.get("targets", ())))


def _source(key: str, uri: str, image: str | None, base: Path) -> BuildpackSource:
    if image:
        return BuildpackSource(key=key, image=image)
    local, img = resolve_uri(uri, base)
    return BuildpackSource(key=key, uri=uri, path=local, image=img)
