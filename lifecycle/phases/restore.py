"""The restorer's layer restoration: a pure plan, then a thin step that applies it.

Buildpack API 0.12 "Layer Types" (what comes back on a rebuild) and Platform API 0.15
"restorer" / "Layer Restoration"; cnb-digest §2.7 (restore table, RI restore algorithm), §3.5
and §8 items 17-18. Per group buildpack:

1. ``store.toml`` from the previous image's ``buildpacks[].store`` (even with skip-layers);
2. with skip-layers, nothing else;
3. ``<layer>.toml`` (``[metadata]`` only, never ``[types]``) for each previous-image layer that
   is launch=true, not build=true with cache=false, and, if cache=true, cache=true in the cache;
4. ``<layer>.toml`` for each cache=true layer of the cache metadata not handled by step 3
   (a launch=true layer the image has is left to step 3; Platform API >= 0.14 behaviour);
5. each cache=true cache layer is extracted when the sha recorded with its restored metadata
   equals the cache's, else removed (``<layer>/``, ``<layer>.toml``, ``<layer>.sha``), so a
   cached layer's metadata and contents come back both or neither;
6. the cache's SBOM layer is extracted to ``<layers>/sbom/cache`` and the layer SBOMs in
   ``<layers>/sbom/{cache,launch}/<bp>/<layer>/sbom.*`` are copied to ``<bp>/<layer>.sbom.*``.

Deviation from the Go lifecycle: where a cached tar cannot be read or fails its diffID, the Go
lifecycle warns and keeps the restored ``<layer>.toml``; pypack warns and removes it too, to
keep "both or neither". Cached tars hold absolute paths (``/layers/<bp>/<layer>/...``); they are
mapped under the given layers directory, refusing anything outside ``<layers>/<bp>/<layer>/``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lifecycle import tomlfile
from lifecycle.buildpack.descriptor import escape_id
from lifecycle.cache import Cache, CacheError, CacheMetadata
from lifecycle.cache.layer_tar import extract_layer_tar
from lifecycle.errors import ImageError, RestoreError
from lifecycle.platform.labels import LayerMetadata, LifecycleMetadata

log = logging.getLogger(__name__)

SBOM_DIR = "sbom"


class GroupBuildpack(Protocol):
    """What the plan needs of a group element (e.g. ``files.group.GroupEntry``)."""

    @property
    def id(self) -> str:
        """The buildpack id."""


@dataclass(frozen=True, slots=True)
class LayerToml:
    """A ``<layer>.toml`` to write: its ``[metadata]`` and where it came from (``image`` or
    ``cache``), with the diffID recorded there."""

    name: str
    metadata: Mapping[str, Any]
    sha: str
    source: str


@dataclass(frozen=True, slots=True)
class CachedLayer:
    """A cached layer tar to extract into ``<layers>/<bp>/<name>/``."""

    name: str
    diff_id: str


@dataclass(frozen=True, slots=True)
class BuildpackRestore:
    """Everything restored for one buildpack.

    ``store`` is store.toml's ``[metadata]`` (``None``: write no store.toml). ``remove`` lists
    cache=true layers that must not exist afterwards: their recorded sha differs from the
    cache's, or nothing restored their metadata.
    """

    id: str
    directory: str
    store: Mapping[str, Any] | None = None
    layer_tomls: tuple[LayerToml, ...] = ()
    extract: tuple[CachedLayer, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RestorePlan:
    """The restore of a whole group; ``cache_sbom`` is the cache's SBOM layer diffID."""

    buildpacks: tuple[BuildpackRestore, ...]
    skip_layers: bool = False
    cache_sbom: str | None = None


# --- pure core ------------------------------------------------------------------------------
def _from_image(image: Mapping[str, LayerMetadata],
                cached: Mapping[str, LayerMetadata]) -> dict[str, LayerToml]:
    out: dict[str, LayerToml] = {}
    for name, layer in sorted(image.items()):
        if not layer.launch or (layer.build and not layer.cache):
            continue
        if layer.cache and not (name in cached and cached[name].cache):
            continue
        out[name] = LayerToml(name, layer.data, layer.sha, "image")
    return out


def _from_cache(image: Mapping[str, LayerMetadata],
                cached: Mapping[str, LayerMetadata]) -> dict[str, LayerToml]:
    out: dict[str, LayerToml] = {}
    for name, layer in sorted(cached.items()):
        if not layer.cache or (layer.launch and name in image):
            continue
        out[name] = LayerToml(name, layer.data, layer.sha, "cache")
    return out


def _plan_buildpack(bp_id: str, image_md: LifecycleMetadata | None,
                    cache_md: CacheMetadata | None, skip_layers: bool) -> BuildpackRestore:
    image_bp = image_md.buildpack(bp_id) if image_md else None
    cache_bp = cache_md.buildpack(bp_id) if cache_md else None
    store = image_bp.store if image_bp else None
    if skip_layers:
        return BuildpackRestore(bp_id, escape_id(bp_id), store)
    image = image_bp.layers if image_bp else {}
    cached = cache_bp.layers if cache_bp else {}
    tomls = {**_from_image(image, cached), **_from_cache(image, cached)}
    extract: list[CachedLayer] = []
    remove: list[str] = []
    for name, layer in sorted(cached.items()):
        if not layer.cache:
            continue
        planned = tomls.get(name)
        if planned is not None and layer.sha and planned.sha == layer.sha:
            extract.append(CachedLayer(name, layer.sha))
        else:
            tomls.pop(name, None)
            remove.append(name)
    return BuildpackRestore(bp_id, escape_id(bp_id), store,
                            tuple(tomls[n] for n in sorted(tomls)), tuple(extract), tuple(remove))


def plan_restore(group_buildpacks: Sequence[GroupBuildpack],
                 image_metadata: LifecycleMetadata | None,
                 cache_metadata: CacheMetadata | None, *, skip_layers: bool) -> RestorePlan:
    """Decide, without I/O, what the restorer writes, extracts and removes for ``group``.

    ``image_metadata`` is the previous image's lifecycle metadata (analyzed.toml ``[metadata]``),
    ``cache_metadata`` the cache's; either may be ``None`` (no previous image, no cache).
    """
    bps = tuple(_plan_buildpack(bp.id, image_metadata, cache_metadata, skip_layers)
                for bp in group_buildpacks)
    sbom = None if skip_layers or cache_metadata is None else cache_metadata.sbom
    return RestorePlan(bps, skip_layers, sbom)


# --- thin edge ------------------------------------------------------------------------------
def remove_layer(bp_dir: Path, name: str) -> None:
    """Delete ``<layer>/``, ``<layer>.toml`` and ``<layer>.sha`` (whichever exist)."""
    path = bp_dir / name
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    for p in (path, bp_dir / f"{name}.toml", bp_dir / f"{name}.sha"):
        if p.is_symlink() or p.is_file():
            p.unlink()


def _write_metadata(bp: BuildpackRestore, bp_dir: Path) -> None:
    if bp.store is not None:
        log.debug("restoring store.toml for %s", bp.id)
        tomlfile.dump(bp_dir / "store.toml", {"metadata": dict(bp.store)})
    for lt in bp.layer_tomls:
        log.info('Restoring metadata for "%s:%s" from %s', bp.id, lt.name,
                 "app image" if lt.source == "image" else "cache")
        tomlfile.dump(bp_dir / f"{lt.name}.toml", {"metadata": dict(lt.metadata)})
    for name in bp.remove:
        if any((bp_dir / f"{name}{s}").exists() for s in ("", ".toml", ".sha")):
            log.info('Removing "%s:%s", wrong sha', bp.id, name)
        remove_layer(bp_dir, name)


def _restore_data(bp: BuildpackRestore, bp_dir: Path, layers_dir: Path, cache: Cache,
                  tar_root: str | None) -> list[str]:
    failed: list[str] = []
    for cl in bp.extract:
        ident = f"{bp.id}:{cl.name}"
        log.info('Restoring data for "%s" from cache', ident)
        try:
            _extract(cache, cl.diff_id, layers_dir, (bp.directory, cl.name), tar_root)
        except (CacheError, ImageError) as e:
            log.warning('Skipping restore for layer "%s": %s', ident, e)
            remove_layer(bp_dir, cl.name)
            failed.append(ident)
    return failed


def _extract(cache: Cache, diff_id: str, layers_dir: Path, rel: tuple[str, str],
             tar_root: str | None) -> None:
    stream = cache.retrieve(diff_id)
    try:
        extract_layer_tar(stream, layers_dir, rel, tar_root=tar_root)
    finally:
        stream.close()


def apply_restore(plan: RestorePlan, layers_dir: str | os.PathLike[str],
                  cache: Cache | None, *, tar_root: str | None = None) -> tuple[str, ...]:
    """Carry out ``plan`` under ``layers_dir``; return ``bp:layer`` ids whose cached contents
    could not be restored (warned, and removed). ``tar_root`` is the layers directory the cached
    tars were written from (default: found from the tar's paths). RestoreError on I/O failure.
    """
    root = Path(layers_dir)
    if cache is None and (plan.cache_sbom or any(bp.extract for bp in plan.buildpacks)):
        raise RestoreError("restore plan extracts cached layers but no cache was given")
    failed: list[str] = []
    try:
        for bp in plan.buildpacks:
            bp_dir = root / bp.directory
            bp_dir.mkdir(parents=True, exist_ok=True)
            _write_metadata(bp, bp_dir)
            if cache is not None:
                failed += _restore_data(bp, bp_dir, root, cache, tar_root)
        if not plan.skip_layers:
            _restore_sboms(plan, root, cache, tar_root)
    except OSError as e:
        raise RestoreError(f"restoring layers in {root}: {e}") from e
    return tuple(failed)


def _restore_sboms(plan: RestorePlan, root: Path, cache: Cache | None,
                   tar_root: str | None) -> None:
    if plan.cache_sbom and cache is not None:
        log.info("Restoring data for SBOM from cache")
        try:
            _extract(cache, plan.cache_sbom, root, (SBOM_DIR, "cache"), tar_root)
        except (CacheError, ImageError) as e:
            log.warning("Skipping restore of the cached SBOM layer: %s", e)
    restore_layer_sboms(root, [bp.directory for bp in plan.buildpacks])


def restore_layer_sboms(layers_dir: Path, bp_dirs: Sequence[str]) -> None:
    """Copy ``<layers>/sbom/{cache,launch}/<bp>/<layer>/sbom.*`` to ``<bp>/<layer>.sbom.*`` for
    the group's buildpacks whose directory exists, then delete ``<layers>/sbom``."""
    sbom_root = layers_dir / SBOM_DIR
    for kind in ("cache", "launch"):
        for bp_dir in bp_dirs:
            src_bp, dst_bp = sbom_root / kind / bp_dir, layers_dir / bp_dir
            if not src_bp.is_dir() or not dst_bp.is_dir():
                continue
            for f in sorted(src_bp.glob("*/sbom.*.json")):
                if f.is_file() and not f.is_symlink():
                    shutil.copyfile(f, dst_bp / f"{f.parent.name}.{f.name}")
    if sbom_root.is_dir():
        shutil.rmtree(sbom_root)
