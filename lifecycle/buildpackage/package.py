"""``pypack buildpack package``: the edge that loads the buildpacks of a ``package.toml``, lays
them onto an empty image and writes the buildpackage.

distribution.md "Buildpackage", pack ``pkg/client/package_buildpack.go`` (cnb-digest §7.1,
§9 #15). The image has no base layers, the plan's platform (os/architecture), one layer per
buildpack (``lifecycle.builder.layers``: deterministic, ``/cnb/buildpacks/<escaped id>/<version>/``;
a buildpack from a dependency buildpackage keeps its layer), the two labels of the plan, and a
fixed ``created`` (``SOURCE_DATE_EPOCH`` or 1980), so the same inputs give the same digest.
``--format image`` (default) writes to the local store, to a registry with ``publish``, or to an
``oci:``/``docker-archive:`` location; ``--format file`` writes a ``.cnb`` file.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle import client
from lifecycle.builder import layers as ly
from lifecycle.builder import sources
from lifecycle.builder.create import blob_store_for, destination
from lifecycle.buildpackage import cnbfile
from lifecycle.buildpackage import config as config_file
from lifecycle.buildpackage.plan import PackagePlan, make_plan
from lifecycle.errors import UsageError
from lifecycle.oci import mutate
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.config import History
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image, ImageValue, empty_image
from lifecycle.oci.layer import Layer
from lifecycle.oci.pipeline import store_layer
from lifecycle.oci.platform import Platform
from lifecycle.oci.tarball import default_mtime

log = logging.getLogger(__name__)

FORMATS = ("image", "file")


@dataclass(frozen=True, slots=True)
class PackageOptions:
    """``name``: the destination (a store name unless ``publish`` or a transport prefix; a
    file path with ``format="file"``); ``config``: the package.toml, or ``path``: a buildpack
    directory packaged alone; ``platform``: ``os/arch[/variant]`` of the image."""

    name: str
    config: str | None = None
    path: str | None = None
    publish: bool = False
    format: str = "image"
    platform: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PackageResult:
    """Where the buildpackage went, its manifest digest, and the plan it followed."""

    location: str
    digest: Digest
    plan: PackagePlan


def file_destination(name: str) -> Path:
    """The ``.cnb`` path for ``name``: ``.cnb`` is added when it has no extension."""
    path = Path(name)
    if not path.suffix:
        return path.with_name(path.name + cnbfile.EXTENSION)
    if path.suffix != cnbfile.EXTENSION:
        log.warning("warning: %s is not a valid extension for a packaged buildpack; packaged "
                    "buildpacks should have a %s extension", path.suffix, cnbfile.EXTENSION)
    return path


def _config(opts: PackageOptions) -> config_file.PackageConfig:
    if opts.config and opts.path:
        raise UsageError("--config and --path cannot be used together; name the buildpack "
                         "directory in package.toml")
    if opts.config:
        return config_file.load(opts.config)
    return config_file.for_directory(opts.path or ".")


def _validate(opts: PackageOptions) -> None:
    if opts.format not in FORMATS:
        raise UsageError(f"format {opts.format!r}: want one of {', '.join(FORMATS)}")
    if opts.format == "file" and opts.publish:
        raise UsageError("--publish applies to --format image only")


def plan_package(cfg: config_file.PackageConfig, scratch: Path, ctx: client.Context,
                 platform: str | None = None) -> PackagePlan:
    """Load the buildpacks of ``cfg`` (under ``scratch``, which must outlive the plan) and
    decide the buildpackage."""
    main = sources.load_one(cfg.buildpack, cfg.path, scratch / "buildpack")
    deps: list[sources.LoadedBuildpack] = []
    for i, dep in enumerate(cfg.dependencies):
        sources.merge(deps, sources.load_source(dep, cfg.path, scratch / f"dep{i}", ctx))
    requested = Platform.parse(platform) if platform else None
    return make_plan(cfg, main, deps, Platform.host(), requested)


def package_buildpack(opts: PackageOptions, ctx: client.Context) -> PackageResult:
    """Make the buildpackage ``opts`` describe; returns where it went and its digest."""
    _validate(opts)
    cfg = _config(opts)
    dest = destination(opts.name, opts.publish) if opts.format == "image" else ""
    with tempfile.TemporaryDirectory(prefix="pypack-package-") as tmp:
        scratch = Path(tmp)
        plan = plan_package(cfg, scratch / "sources", ctx, opts.platform)
        for w in plan.warnings:
            log.warning("warning: %s", w)
        if opts.format == "file":
            img = build(plan, BlobStore(scratch / "blobs"), opts.labels)
            path = cnbfile.write(img, file_destination(opts.name))
            location = str(path)
            digest = Digest.of(img.raw_manifest())
        else:
            with blob_store_for(dest, ctx, scratch) as store:
                img = build(plan, store, opts.labels)
                result = client.write_image(img, dest, ctx)
            location, digest = result.location, result.digest
    log.info("packaged %s with %d buildpack(s) into %s", plan.main.full_name,
             len(plan.buildpacks), location)
    return PackageResult(location, digest, plan)


def build(plan: PackagePlan, store: BlobStore,
          labels: Mapping[str, str] | None = None) -> ImageValue:
    """The buildpackage image of ``plan``; new layer blobs go into ``store``."""
    mtime = default_mtime()
    layers: list[Layer] = []
    history: list[History] = []
    diff_ids: dict[str, str] = {}
    for bp in plan.buildpacks:
        d = bp.descriptor
        layer = bp.layer or store_layer(ly.buildpack_tar(d.dir, d.id, d.version, mtime), store)
        diff_ids[bp.full_name] = str(layer.diff_id)
        if any(x.diff_id == layer.diff_id for x in layers):
            continue  # a flattened dependency: several buildpacks in one layer
        layers.append(layer)
        history.append(History(created_by=f"pypack buildpack package: {bp.full_name}"))
    img: Image = empty_image(plan.platform)
    img = mutate.append_layers(img, layers, history=history)
    img = mutate.with_labels(img, {**(labels or {}), **plan.labels(diff_ids)})
    return mutate.with_created(img, mtime)
