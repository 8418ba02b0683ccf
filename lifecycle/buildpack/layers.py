"""Layer Content Metadata (``<layers>/<bp>/<layer>.toml``) and layer types.

`buildpack.md` "Layer Types" (launch/build/cache under ``[types]``, ignored layers),
"Layer Content Metadata (TOML)" and "Build" (forbidden layer names ``build``, ``launch``,
``store``); cnb-digest §2.7. As the Go lifecycle does for Buildpack APIs 0.7-0.12, a
``launch``/``build``/``cache`` key at the top level of a layer toml is an error.

``parse`` is pure; ``load``/``dump``/``scan``/``rename_ignored`` are the edge.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.errors import BuildError

log = logging.getLogger(__name__)

FORBIDDEN_LAYER_NAMES: frozenset[str] = frozenset({"build", "launch", "store"})
"""Names a buildpack must not give a layer directory: they collide with its data files."""

RESERVED_TOMLS: frozenset[str] = FORBIDDEN_LAYER_NAMES
"""``launch.toml``, ``build.toml`` and ``store.toml`` are data files, not layer metadata."""

IGNORE_SUFFIX = ".ignore"


@dataclass(frozen=True, slots=True)
class LayerTypes:
    """The three layer types; all false (unset) means an ignored, temporary layer."""

    launch: bool = False
    build: bool = False
    cache: bool = False

    @property
    def ignored(self) -> bool:
        """True when no type is set: the layer is renamed ``<layer>.ignore`` after the build."""
        return not (self.launch or self.build or self.cache)


@dataclass(frozen=True, slots=True)
class LayerMetadataFile:
    """A parsed ``<layer>.toml``: its ``[types]`` and buildpack-specific ``[metadata]``."""

    types: LayerTypes = field(default_factory=LayerTypes)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def exec_env(self) -> tuple[str, ...]:
        """``metadata.exec-env`` (Buildpack API 0.12); empty means every execution environment."""
        value = self.metadata.get("exec-env", ())
        return tuple(value) if isinstance(value, list | tuple) else ()


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of a buildpack: its name, directory path and metadata file contents."""

    name: str
    path: Path
    file: LayerMetadataFile

    @property
    def toml_path(self) -> Path:
        """``<layers>/<bp>/<layer>.toml``."""
        return self.path.with_name(self.name + ".toml")


def parse(data: Mapping[str, Any], source: str | os.PathLike[str]) -> LayerMetadataFile:
    """Validate and convert a layer toml's data; raise BuildError naming the file."""
    top = sorted(k for k in ("launch", "build", "cache") if k in data)
    if top:
        raise BuildError(
            f"{os.fspath(source)}: the launch, build and cache flags must be in the [types] "
            f"table, found at top level: {', '.join(top)}")
    schema.validate(data, "layer", source, error=BuildError)
    types = data.get("types", {})
    return LayerMetadataFile(
        LayerTypes(bool(types.get("launch", False)), bool(types.get("build", False)),
                   bool(types.get("cache", False))),
        dict(data.get("metadata", {})))


def load(path: str | os.PathLike[str]) -> LayerMetadataFile:
    """Read a layer toml; a missing file means no types and no metadata (Go lifecycle)."""
    return parse(tomlfile.load(path, missing_ok=True, error=BuildError), path)


def dump(path: str | os.PathLike[str], lmf: LayerMetadataFile, *, with_types: bool = True) -> None:
    """Write a layer toml atomically. ``with_types=False`` omits ``[types]`` (restorer output)."""
    data: dict[str, Any] = {}
    if with_types:
        t = lmf.types
        data["types"] = {"launch": t.launch, "build": t.build, "cache": t.cache}
    if lmf.metadata:
        data["metadata"] = dict(lmf.metadata)
    tomlfile.dump(path, data)


def layer_names(entries: Mapping[str, bool]) -> tuple[str, ...]:
    """The layer names in a buildpack layers dir, given its entries (name -> is a directory).

    A layer is a ``<name>.toml`` that is not a data file, or a directory without a toml (its
    types are unset, so it is an ignored layer). ``*.ignore`` directories and ``sbom`` files
    are not layers. Sorted, as layers are processed alphabetically.
    """
    names: set[str] = set()
    for entry, is_dir in entries.items():
        if is_dir:
            if not entry.endswith(IGNORE_SUFFIX) and entry not in FORBIDDEN_LAYER_NAMES:
                names.add(entry)
        elif entry.endswith(".toml") and entry[:-5] not in RESERVED_TOMLS and entry[:-5]:
            names.add(entry[:-5])
    return tuple(sorted(names))


def forbidden_dirs(entries: Mapping[str, bool]) -> tuple[str, ...]:
    """The directories among ``entries`` with a forbidden layer name."""
    return tuple(sorted(n for n, is_dir in entries.items()
                        if is_dir and n in FORBIDDEN_LAYER_NAMES))


def _entries(bp_layers_dir: Path) -> dict[str, bool]:
    try:
        return {e.name: e.is_dir() for e in bp_layers_dir.iterdir()}
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise BuildError(f"{bp_layers_dir}: cannot read: {e.strerror}") from e


def scan(bp_layers_dir: str | os.PathLike[str]) -> tuple[Layer, ...]:
    """Read every layer of a buildpack, alphabetically. Raise BuildError on a forbidden name
    or a malformed layer toml."""
    root = Path(bp_layers_dir)
    entries = _entries(root)
    bad = forbidden_dirs(entries)
    if bad:
        raise BuildError(
            f"{root}: layer name(s) {', '.join(repr(b) for b in bad)} are forbidden "
            f"(build, launch and store are reserved)")
    return tuple(Layer(n, root / n, load(root / f"{n}.toml")) for n in layer_names(entries))


def rename_ignored(layers: tuple[Layer, ...]) -> None:
    """Rename each ignored layer's directory to ``<layer>.ignore`` (replacing an old one)."""
    for layer in layers:
        if not layer.file.types.ignored or not layer.path.is_dir():
            continue
        target = layer.path.with_name(layer.name + IGNORE_SUFFIX)
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            layer.path.rename(target)
        except OSError as e:
            raise BuildError(f"{layer.path}: cannot rename ignored layer: {e.strerror}") from e
        log.debug("ignored layer %s renamed to %s", layer.path, target)
