"""``pypack builder create``: the edge that reads the build image, layers the plan onto it and
writes the builder (local store by default, a registry with ``publish``, or ``oci:`` /
``docker-archive:``).

Layers, lowest first, above the build image's (pack's order, cnb-digest §7.3): the default
directories; ``/cnb/lifecycle/`` (pypack's ``lifecycle install`` output: the phase programs,
``#!/usr/bin/env python3`` scripts that import pypack, so pypack must be installed in the build
image to run them there, and the launcher, which needs only python3);
one layer per buildpack, sorted by ``id@version`` (a buildpack from a buildpackage brings its
layer as is, by diff ID); then ``/cnb/order.toml``, ``run.toml``,
``stack.toml``, ``system.toml`` and ``/cnb/build-config/env/``. The config gets the labels of
the plan, ``WorkingDir /layers`` and a fixed ``created`` (``SOURCE_DATE_EPOCH`` or 1980), so
the same inputs give the same digest in every sink.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lifecycle import client
from lifecycle.builder import config as config_file
from lifecycle.builder import layers as ly
from lifecycle.builder import sources
from lifecycle.builder.plan import WORKING_DIR, BaseImage, BuilderPlan, make_plan
from lifecycle.errors import ImageError, LifecycleError, UsageError
from lifecycle.oci import mutate
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.config import History
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.oci.layer import Layer
from lifecycle.oci.layout import Layout
from lifecycle.oci.locator import parse_locator
from lifecycle.oci.pipeline import store_layer
from lifecycle.oci.tarball import default_mtime

log = logging.getLogger(__name__)

PULL_POLICIES = ("always", "if-not-present", "never")
_LIFECYCLE_PYTHON = "/usr/bin/env python3"
_TRANSPORT_PREFIXES = ("oci:", "oci-layout:", "docker-archive:", "store:", "docker://")


@dataclass(frozen=True, slots=True)
class CreateOptions:
    """``name``: where the builder goes (a store name unless ``publish`` or a transport
    prefix); ``config``: the builder.toml; ``pull_policy`` for the build image."""

    name: str
    config: str
    publish: bool = False
    pull_policy: str = "if-not-present"


@dataclass(frozen=True, slots=True)
class CreateResult:
    """Where the builder was written, its digest, and the plan it followed."""

    location: str
    digest: Digest
    plan: BuilderPlan


def destination(name: str, publish: bool) -> str:
    """The image location for ``name``: as given with a transport prefix, a registry
    reference with ``publish``, else ``store:NAME``."""
    if name.startswith(_TRANSPORT_PREFIXES) or publish:
        return name
    return f"store:{name}"


def create_builder(opts: CreateOptions, ctx: client.Context) -> CreateResult:
    """Make the builder ``opts`` describe; returns where it went and its digest."""
    if opts.pull_policy not in PULL_POLICIES:
        raise UsageError(f"pull policy {opts.pull_policy!r}: want one of "
                         + ", ".join(PULL_POLICIES))
    cfg = config_file.load(opts.config)
    base_img = open_base(cfg.build_image, opts.pull_policy, ctx)
    base = base_info(base_img, cfg.build_image)
    dest = destination(opts.name, opts.publish)
    with tempfile.TemporaryDirectory(prefix="pypack-builder-") as tmp:
        scratch = Path(tmp)
        life, life_entries = None, None
        if cfg.lifecycle_uri:
            from lifecycle.builder import golifecycle

            life, life_entries = golifecycle.read(golifecycle.locate(
                cfg.lifecycle_uri, Path(cfg.path).parent, scratch))
        plan = make_plan(cfg, sources.load_all(cfg, scratch / "sources", ctx), base, life)
        for w in plan.warnings:
            log.warning("warning: %s", w)
        _check_run_images(cfg, base, ctx, remote=opts.publish or opts.pull_policy == "always")
        with blob_store_for(dest, ctx, scratch) as store:
            img = build(base_img, plan, store, scratch, life_entries)
            result = client.write_image(img, dest, ctx)
    log.info("created builder %s with %d buildpacks", result.location,
             len(plan.metadata.buildpacks))
    return CreateResult(result.location, result.digest, plan)


def open_base(ref: str, policy: str, ctx: client.Context) -> Image:
    """The build image, honouring the pull policy for registry references (``never``: the
    local store only; ``always``: the registry even when the store has it)."""
    loc = parse_locator(ref)
    if loc.transport != "registry":
        return client.open_image(ref, ctx)
    in_store = ctx.store.has(loc.ref)
    if policy == "never" and not in_store:
        raise ImageError(f"build image {ref!r} is not in the local store and the pull policy "
                         "is 'never' (make it with `pypack stack build`, or pull it)")
    if policy == "always":
        from lifecycle.oci.reference import Reference
        from lifecycle.oci.remote import read_image

        return read_image(ctx.registry, Reference.parse(loc.ref))
    try:
        return client.open_image(ref, ctx)
    except LifecycleError as e:
        raise ImageError(f"build image {ref!r}: not in the local store, and reading it from "
                         f"its registry failed: {e}") from e


def base_info(img: Image, name: str) -> BaseImage:
    """The plan's view of the build image ``img``."""
    cfg = img.config()
    env: dict[str, str] = {}
    for item in cfg.config.env:
        key, _, value = item.partition("=")
        env[key] = value
    return BaseImage(name=name, labels=dict(cfg.config.labels), env=env,
                     user=cfg.config.user or None, os=cfg.os, arch=cfg.architecture,
                     variant=cfg.variant or "")


def build(base_img: Image, plan: BuilderPlan, store: BlobStore, scratch: Path,
          lifecycle_layer: Sequence[ly.Entry] | None = None) -> Image:
    """The builder image: ``base_img`` plus the plan's layers, labels and config; the
    lifecycle layer is pypack's own unless ``lifecycle_layer`` (a release's,
    ``golifecycle``) is given."""
    mtime = default_mtime()
    layers: list[Layer] = []
    history: list[History] = []

    def add(layer: Layer, what: str) -> None:
        layers.append(layer)
        history.append(History(created_by=f"pypack builder create: {what}"))

    add(store_layer(ly.tar_entries(plan.dir_entries, mtime), store), "default directories")
    life = lifecycle_layer if lifecycle_layer is not None else _lifecycle_entries(scratch)
    add(store_layer(ly.tar_entries(life, mtime), store),
        f"lifecycle {plan.metadata.lifecycle.version}")
    diff_ids: dict[str, str] = {}
    added: set[str] = set()
    for bp in plan.buildpacks:
        d = bp.descriptor
        layer = bp.layer or store_layer(ly.buildpack_tar(d.dir, d.id, d.version, mtime), store)
        diff_ids[bp.full_name] = str(layer.diff_id)
        if _already_there(plan, bp.descriptor.id, d.version, str(layer.diff_id)) \
                or str(layer.diff_id) in added:  # a flattened buildpackage's shared layer
            continue
        added.add(str(layer.diff_id))
        add(layer, f"buildpack {bp.full_name}")
    add(store_layer(ly.tar_entries(plan.config_entries, mtime), store),
        "order.toml, run.toml, stack.toml")
    img: Image = mutate.append_layers(base_img, layers, history=history)
    img = mutate.with_labels(img, plan.labels(diff_ids))
    img = mutate.with_workdir(img, WORKING_DIR)
    if plan.user:
        img = mutate.with_user(img, plan.user)
    return mutate.with_created(img, mtime)


def _already_there(plan: BuilderPlan, bp_id: str, version: str, diff_id: str) -> bool:
    old = plan.existing.get(bp_id, {}).get(version)
    if old is None:
        return False
    if old.layer_diff_id == diff_id:
        log.debug("buildpack %s@%s is already on the build image with the same contents",
                  bp_id, version)
        return True
    raise UsageError(f"buildpack {bp_id}@{version} is already on the build image with other "
                     "contents; pypack cannot replace it (give it a new version)")


def _lifecycle_entries(scratch: Path) -> list[ly.Entry]:
    from lifecycle.cli.lifecycle_install import install

    dest = scratch / "lifecycle"
    install(dest, python=_LIFECYCLE_PYTHON)
    return ly.lifecycle_entries(dest)


def _check_run_images(cfg: config_file.BuilderConfig, base: BaseImage, ctx: client.Context,
                      remote: bool) -> None:
    """pack's run image check: a run image with another stack id than ``[stack] id`` is an
    error; another os/arch than the build image a warning; an unreachable one a warning.
    Registry images the store lacks are looked up only when ``remote``."""
    from lifecycle.platform.labels import STACK_ID

    for run in cfg.run_images:
        loc = parse_locator(run.image)
        local = loc.transport != "registry" or ctx.store.has(loc.ref)
        if not local and not remote:
            log.info("run image %s is not in the local store; not checked", run.image)
            continue
        try:
            cfg_run = client.open_image(run.image, ctx).config()
        except LifecycleError as e:
            log.warning("warning: run image %s is not accessible: %s", run.image, e)
            continue
        stack = cfg_run.config.labels.get(STACK_ID, "")
        if cfg.stack_id and stack != cfg.stack_id:
            raise UsageError(f"{cfg.path}: stack.id {cfg.stack_id!r} is incompatible with "
                             f"stack {stack!r} of run image {run.image}")
        if (cfg_run.os, cfg_run.architecture) != (base.os, base.arch):
            log.warning("warning: run image %s is %s/%s but the build image is %s/%s",
                        run.image, cfg_run.os, cfg_run.architecture, base.os, base.arch)


@contextlib.contextmanager
def blob_store_for(dest: str, ctx: client.Context, scratch: Path) -> Iterator[BlobStore]:
    """New layer blobs go straight into the destination layout or store, else to scratch."""
    loc = parse_locator(dest)
    if loc.transport == "oci":
        yield Layout.init(loc.ref).blobs
    elif loc.transport == "store":
        yield ctx.store.layout.blobs
    else:
        path = scratch / "blobs"
        os.makedirs(path, exist_ok=True)
        yield BlobStore(path)
