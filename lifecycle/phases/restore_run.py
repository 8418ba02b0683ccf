"""The restorer phase as one call: open the cache, restore layers, pin the run image.

Platform API 0.15 platform.md "restorer" (cnb-digest §3.5, §2.7 restore table, §4.8 caches).
:func:`restore` is what the ``restorer`` program and the creator both run; it returns the new
``analyzed.toml`` value and the caller writes it. In order:

1. refuse image extensions (the extender is not implemented): a ``run-image.extend = true`` in
   analyzed.toml, or ``-build-image`` with extensions in the group (UsageError, exit 3);
2. check every group buildpack's API (exit 12);
3. pin the run image: when ``run-image.reference`` is not a digest reference or the target has
   no ``os``, check the run image is readable (falling back to a readable mirror from run.toml,
   as the Go lifecycle does from Platform API 0.14), read it, write its digest reference and
   fill the target if missing. When both are already there (the analyzer wrote them) nothing
   is fetched;
4. with ``-build-image`` (no extensions), record its digest reference in ``[build-image]``;
5. plan and apply layer restoration (:mod:`lifecycle.phases.restore`) against the cache.

Exec-env (platform.md "Layer Restoration", MAY): when the previous image records an exec-env
different from this build's, its layer metadata is not restored (store.toml still is; cached
layers still come back from the cache). ``-uid``/``-gid`` are accepted and unused: pypack runs
unprivileged and never changes ownership. After extracting a cached layer whose export recorded
a fingerprint in the cache metadata, the restorer records the restored directory's fingerprint
(:func:`lifecycle.cache.restored.record_restored`) so the exporter need not tar it again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from lifecycle import api
from lifecycle.cache import (
    Cache,
    CacheError,
    CacheMetadata,
    VolumeCache,
    layer_key,
    restored,
)
from lifecycle.errors import (
    AnalyzeError,
    FileFormatError,
    ImageError,
    RestoreError,
    UsageError,
)
from lifecycle.oci.reference import Reference
from lifecycle.phases.analyze import fetch, readable, target_of
from lifecycle.phases.restore import RestorePlan, apply_restore, plan_restore
from lifecycle.platform.files.analyzed import Analyzed, RunImage
from lifecycle.platform.files.group import Group
from lifecycle.platform.files.run import Run
from lifecycle.platform.labels import LifecycleMetadata

if TYPE_CHECKING:  # the registry modules (and requests) load only when a registry is used
    from lifecycle.oci.registry import RegistryClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RestoreInputs:
    """What the restorer works on. ``analyzed`` is None when there is no usable
    analyzed.toml (then nothing comes from a previous image and no run image is pinned)."""

    layers_dir: str
    group: Group
    analyzed: Analyzed | None = None
    run: Run = field(default_factory=Run)
    skip_layers: bool = False
    exec_env: str = "production"
    build_image: str | None = None


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What the restorer did: the (possibly updated) analyzed value, whether it changed, the
    plan it applied and the ``bp:layer`` ids whose cached contents could not be restored."""

    analyzed: Analyzed | None
    analyzed_changed: bool
    plan: RestorePlan
    failed: tuple[str, ...] = ()


# --- cache -----------------------------------------------------------------------------------
def open_cache(client: RegistryClient, cache_image: str | None,
               cache_dir: str | None) -> Cache | None:
    """The cache to use: the cache image if given (it wins over a cache directory, as in the
    Go lifecycle), else the volume cache, else None. UsageError for a malformed reference,
    RestoreError if the cache directory cannot be prepared."""
    if cache_image:
        if cache_dir:
            log.warning("both -cache-image and -cache-dir given; using the cache image %s",
                        cache_image)
        try:
            ref = Reference.parse(cache_image)
        except UsageError as e:
            raise UsageError(f"-cache-image: {e}") from e
        from lifecycle.cache import ImageCache

        return ImageCache(client, ref)
    if cache_dir:
        try:
            return VolumeCache(cache_dir)
        except CacheError as e:
            raise RestoreError(str(e)) from e
    return None


# --- pure checks -----------------------------------------------------------------------------
def check_extensions(inputs: RestoreInputs) -> None:
    """UsageError when the build asks for image extensions, which pypack does not run."""
    ri = inputs.analyzed.run_image if inputs.analyzed else None
    if ri is not None and ri.extend:
        raise UsageError("restorer: analyzed.toml has run-image.extend = true, but extending "
                         "the run image with image extensions is not supported by pypack")
    if inputs.build_image and inputs.group.group_extensions:
        raise UsageError("restorer: -build-image with image extensions in the group: extending "
                         "the build image is not supported by pypack")


def is_digest_ref(text: str) -> bool:
    """True when ``text`` parses as a reference pinned to a digest."""
    try:
        return Reference.parse(text).digest is not None
    except UsageError:
        return False


def run_image_needs_pinning(ri: RunImage) -> bool:
    """True unless the run image already has a digest reference and a target with an os."""
    return not (is_digest_ref(ri.reference) and ri.target is not None and bool(ri.target.os))


def image_metadata(analyzed: Analyzed | None, exec_env: str) -> LifecycleMetadata | None:
    """The previous image's lifecycle metadata from analyzed.toml ``[metadata]``; None if
    absent or invalid (warned). Layers are dropped when it was built for another exec-env."""
    if analyzed is None or not analyzed.metadata:
        return None
    try:
        md = LifecycleMetadata.from_toml(analyzed.metadata)
    except FileFormatError as e:
        log.warning("ignoring the previous image metadata in analyzed.toml: %s", e)
        return None
    if md.exec_env and md.exec_env != exec_env:
        log.info("previous image was built for exec-env %r, this build is for %r: not "
                 "restoring its layer metadata", md.exec_env, exec_env)
        bps = tuple(replace(b, layers={}) for b in md.buildpacks)
        return replace(md, buildpacks=bps)
    return md


# --- registry edge ---------------------------------------------------------------------------
def _accessible(client: RegistryClient, name: str, run: Run) -> str:
    """``name`` if readable or not from run.toml; else its first readable mirror."""
    entry = run.find(name)
    if entry is None:
        return name
    if readable(client, name):
        return name
    for other in entry.names():
        if other != name and readable(client, other):
            log.warning("run image %s is not readable; using its mirror %s", name, other)
            return other
    raise RestoreError(f"run image {name} is not accessible (tried {', '.join(entry.names())})")


def pin_run_image(client: RegistryClient, analyzed: Analyzed, run: Run) -> Analyzed:
    """``analyzed`` with the run image pinned to a digest reference and its target filled
    (see the module docstring); unchanged when already pinned or when there is none."""
    ri = analyzed.run_image
    if ri is None or not (ri.image or ri.reference):
        log.debug("analyzed.toml names no run image; nothing to pin")
        return analyzed
    if not run_image_needs_pinning(ri):
        return analyzed
    given = ri.image or ri.reference
    name = _accessible(client, given, run)
    source = ri.reference if name == given and is_digest_ref(ri.reference) else name
    try:
        fetched = fetch(client, Reference.parse(source))
    except (ImageError, UsageError) as e:
        raise RestoreError(f"cannot read run image {source}: {e}") from e
    if fetched is None:
        raise RestoreError(f"run image {source} not found")
    target = ri.target
    if target is None or not target.os:
        try:
            target = target_of(fetched.config, name)
        except AnalyzeError as e:
            raise RestoreError(str(e)) from e
    log.debug("run image %s is %s", name, fetched.digest_ref)
    return replace(analyzed, run_image=replace(ri, image=name, reference=fetched.digest_ref,
                                               target=target))


def pin_build_image(client: RegistryClient, analyzed: Analyzed, build_image: str) -> Analyzed:
    """``analyzed`` with ``[build-image] reference`` = the digest reference of ``build_image``."""
    try:
        ref = Reference.parse(build_image)
    except UsageError as e:
        raise UsageError(f"-build-image: {e}") from e
    try:
        head = client.head_manifest(ref)
    except ImageError as e:
        raise RestoreError(f"cannot read build image {ref}: {e}") from e
    if head is None:
        raise RestoreError(f"build image {ref} not found")
    return replace(analyzed, build_image=f"{ref.name}@{head.digest}")


# --- the phase -------------------------------------------------------------------------------
def restore_layers(inputs: RestoreInputs, cache: Cache | None, *,
                   warm: bool = False) -> tuple[RestorePlan, tuple[str, ...]]:
    """Plan and apply layer restoration; return the plan and the layers that failed. With
    ``warm`` (``pypack build``), ``<layers>`` may hold the last build's layer directories and
    unchanged ones are kept instead of extracted (``lifecycle.phases.warm_layers``)."""
    image_md = image_metadata(inputs.analyzed, inputs.exec_env)
    cache_md = None
    if cache is None:
        log.info("No cache given (-cache-dir or -cache-image): restoring metadata only")
    else:
        try:
            if not cache.exists():
                log.info("Layer cache not found")
            cache_md = cache.metadata()
        except CacheError as e:
            raise RestoreError(f"cache {cache.name}: {e}") from e
    plan = plan_restore(inputs.group.group, image_md, cache_md, skip_layers=inputs.skip_layers)
    if warm:
        from lifecycle.phases import warm_layers

        plan = warm_layers.keep_unchanged(plan, inputs.layers_dir, cache_md)
    failed = apply_restore(plan, inputs.layers_dir, cache)
    if cache_md is not None and cache_md.fingerprints:
        _record_fingerprints(plan, inputs.layers_dir, cache_md, failed)
    return plan, failed


def _record_fingerprints(plan: RestorePlan, layers_dir: str, cache_md: CacheMetadata,
                         failed: tuple[str, ...]) -> None:
    """Remember the fingerprints of the extracted layer directories, so the exporter does not
    tar an unchanged restored layer again (:mod:`lifecycle.cache.restored`)."""
    for bp in plan.buildpacks:
        for cl in bp.extract:
            key = layer_key(bp.id, cl.name)
            if key not in failed:
                restored.record_restored(layers_dir, key,
                                         os.path.join(layers_dir, bp.directory, cl.name),
                                         cl.diff_id, cache_md)


def restore(inputs: RestoreInputs, cache: Cache | None,
            client: RegistryClient) -> RestoreResult:
    """Run the restorer (module docstring); the registry is used only for what needs it."""
    check_extensions(inputs)
    for bp in inputs.group.group:
        api.check_buildpack_api(bp.api, str(bp))
    analyzed = inputs.analyzed
    if analyzed is not None:
        analyzed = pin_run_image(client, analyzed, inputs.run)
        if inputs.build_image:
            analyzed = pin_build_image(client, analyzed, inputs.build_image)
    plan, failed = restore_layers(inputs, cache)
    return RestoreResult(analyzed, analyzed != inputs.analyzed, plan, failed)
