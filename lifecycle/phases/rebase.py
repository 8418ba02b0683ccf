"""The rebaser: put an app image's upper layers on a new run image (Platform API 0.15
platform.md "rebaser"; cnb-digest §3.10, §5, §8 item 21).

Pure core: :func:`plan_rebase` decides, from the app's and the new run image's configurations,
whether the rebase is allowed and what the new configuration is (labels, platform, created);
:func:`apply_plan` swaps the layers. Neither does I/O. The edge, :func:`rebase`, reads both
images from the registry (manifests and configs only), builds the new image and pushes it to
every tag: app layers are already in the app repository and the new base layers are mounted
from the run image's repository, so no layer bytes move — only the new config is uploaded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from lifecycle.api import Version
from lifecycle.errors import ImageError, LifecycleError, RebaseError, UsageError
from lifecycle.oci import mutate
from lifecycle.oci.config import ConfigFile, History
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image, ImageValue
from lifecycle.oci.platform import Platform
from lifecycle.oci.reference import Reference
from lifecycle.oci.tarball import default_mtime
from lifecycle.platform.labels import (
    BASE_DISTRO_NAME,
    BASE_DISTRO_VERSION,
    LIFECYCLE_METADATA,
    REBASABLE,
    STACK_ID,
    STACK_MIXINS,
    LifecycleMetadata,
    RunImageMetadata,
    is_base_label,
)

if TYPE_CHECKING:  # the registry modules (and requests) load only when a registry is used
    from lifecycle.oci.registry import RegistryClient

log = logging.getLogger(__name__)

DEFAULT_CREATED = "1980-01-01T00:00:01Z"
"""The ``created`` time of a rebased image unless ``SOURCE_DATE_EPOCH`` is set."""

TARGETS_SINCE = Version(0, 12)
"""App images built at Platform API >= 0.12 are checked by target and rebasable label;
older ones by stack id and mixins."""


def checks_targets(app_platform_api: Version) -> bool:
    """True when an app built at ``app_platform_api`` is checked by target, not by stack."""
    return app_platform_api >= TARGETS_SINCE


def checks_run_image_name(platform_api: Version) -> bool:
    """True when a rebaser at ``platform_api`` requires the new run image to be a known one."""
    return platform_api >= TARGETS_SINCE


@dataclass(frozen=True, slots=True)
class NewBase:
    """The new run image as the planner sees it: its configuration (labels, platform,
    diff IDs), the name it was given by and its digest reference."""

    config: ConfigFile
    name: str
    reference: str


@dataclass(frozen=True, slots=True)
class RebasePlan:
    """What a rebase does: keep the app layers from index ``keep_from`` on, put them on the new
    base's layers, and use ``config`` (diff IDs are set from the layers when applied)."""

    keep_from: int
    config: ConfigFile
    warnings: tuple[str, ...] = ()


# --- pure core -------------------------------------------------------------------------------


def app_metadata(app: ConfigFile) -> LifecycleMetadata:
    """The app's ``io.buildpacks.lifecycle.metadata`` label; RebaseError when missing/invalid."""
    raw = app.config.labels.get(LIFECYCLE_METADATA)
    if not raw:
        raise RebaseError(f"no {LIFECYCLE_METADATA} label: not a buildpacks app image")
    return LifecycleMetadata.from_json(raw, source=f"label {LIFECYCLE_METADATA}",
                                       error=RebaseError)


def app_platform_api(app: ConfigFile, default: Version) -> Version:
    """The Platform API the app was built at (its ``CNB_PLATFORM_API`` env), else ``default``."""
    for item in app.config.env:
        key, _, value = item.partition("=")
        if key == "CNB_PLATFORM_API":
            try:
                return Version.parse(value)
            except ValueError:
                break
    return default


def resolve_run_image(md: LifecycleMetadata, app_registry: str) -> str:
    """The run image named by the label (``runImage`` or legacy ``stack.runImage``), preferring
    a name on ``app_registry`` among image and mirrors; RebaseError when there is none."""
    ri = md.run_image if md.run_image.image else (md.stack or RunImageMetadata())
    if not ri.image:
        raise RebaseError("no -run-image given and the app's label names no run image")
    for name in (ri.image, *ri.mirrors):
        if _registry_of(name) == app_registry:
            return name
    return ri.image


def _registry_of(name: str) -> str | None:
    try:
        return Reference.parse(name).registry
    except LifecycleError:
        return None


def _repo_name(name: str) -> str:
    try:
        return Reference.parse(name).name
    except LifecycleError:
        return name


def _known_names(md: LifecycleMetadata) -> set[str]:
    names = [md.run_image.image, *md.run_image.mirrors]
    if md.stack is not None:
        names += [md.stack.image, *md.stack.mirrors]
    return {_repo_name(n) for n in names if n}


def _top_index(md: LifecycleMetadata, diff_ids: Sequence[Digest]) -> int:
    top = md.run_image.top_layer
    if not top:
        raise RebaseError("the app's label has no runImage.topLayer")
    for i, d in enumerate(diff_ids):
        if str(d) == top:
            return i
    raise RebaseError(f"runImage.topLayer {top} is not one of the app's layers")


def _target_mismatch(app: ConfigFile, new: ConfigFile) -> str | None:
    if app.os != new.os or app.architecture != new.architecture:
        return (f"target mismatch: app is {app.os}/{app.architecture}, new run image is "
                f"{new.os}/{new.architecture}")
    if app.variant and new.variant and app.variant != new.variant:
        return f"target mismatch: variant {app.variant} != {new.variant}"
    for label in (BASE_DISTRO_NAME, BASE_DISTRO_VERSION):
        want = new.config.labels.get(label)
        if want and app.config.labels.get(label) != want:
            return (f"target mismatch: {label} is {app.config.labels.get(label)!r} on the app, "
                    f"{want!r} on the new run image")
    return None


def _mixins(labels: Mapping[str, str]) -> set[str]:
    try:
        items = json.loads(labels.get(STACK_MIXINS) or "[]")
    except ValueError:
        items = []
    return {str(m).removeprefix("run:").removeprefix("build:") for m in items
            if isinstance(m, str)}


def _stack_mismatch(app: ConfigFile, new: ConfigFile) -> str | None:
    a, n = app.config.labels.get(STACK_ID), new.config.labels.get(STACK_ID)
    if not a or not n or a != n:
        return f"stack mismatch: app stack {a!r}, new run image stack {n!r}"
    missing = _mixins(app.config.labels) - _mixins(new.config.labels)
    if missing:
        return f"new run image lacks mixins: {', '.join(sorted(missing))}"
    return None


def _refusal(msg: str, force: bool, warnings: list[str]) -> None:
    if not force:
        raise RebaseError(msg)
    warnings.append(f"{msg} (forced)")


def _check(app: ConfigFile, md: LifecycleMetadata, base: NewBase, force: bool,
           platform_api: Version) -> list[str]:
    warnings: list[str] = []
    if checks_targets(app_platform_api(app, platform_api)):
        if app.config.labels.get(REBASABLE) == "false":
            _refusal(f"app is labelled {REBASABLE}=false", force, warnings)
        mismatch = _target_mismatch(app, base.config)
    else:
        mismatch = _stack_mismatch(app, base.config)
    if mismatch:
        _refusal(mismatch, force, warnings)
    if checks_run_image_name(platform_api) and _repo_name(base.name) not in _known_names(md):
        _refusal(f"new run image {base.name} is not the app's run image or one of its "
                 "mirrors (use -force to rebase anyway)", force, warnings)
    return warnings


def _new_metadata(md: LifecycleMetadata, base: NewBase, top: str) -> LifecycleMetadata:
    ri = replace(md.run_image, top_layer=top, reference=base.reference)
    stack = md.stack
    if _repo_name(base.name) not in _known_names(md):  # only reached with -force
        ri = replace(ri, image=base.name, mirrors=())
        stack = None if stack is None else RunImageMetadata(image=base.name)
    return replace(md, run_image=ri, stack=stack)


def new_labels(app_labels: Mapping[str, str], base_labels: Mapping[str, str],
               md: LifecycleMetadata) -> dict[str, str]:
    """The app's labels without base/stack labels, plus the new base's, plus ``md``."""
    out = {k: v for k, v in app_labels.items() if not is_base_label(k)}
    out.update({k: v for k, v in base_labels.items() if is_base_label(k)})
    out[LIFECYCLE_METADATA] = md.to_json()
    return out


def plan_rebase(app: ConfigFile, base: NewBase, *, force: bool, platform_api: Version,
                created: str = DEFAULT_CREATED) -> RebasePlan:
    """Decide the rebase of an app (configuration ``app``, diff IDs included) onto ``base``.

    RebaseError for: no lifecycle metadata label, topLayer not among the app's diff IDs, an
    empty new base; and, unless ``force`` (then a warning): ``io.buildpacks.rebasable=false``,
    an os/arch/variant/distro (or, for legacy apps, stack) mismatch, a run image name that is
    neither ``runImage.image`` nor a mirror.
    """
    md = app_metadata(app)
    keep_from = _top_index(md, app.diff_ids) + 1
    if not base.config.diff_ids:
        raise RebaseError(f"new run image {base.name} has no layers")
    warnings = _check(app, md, base, force, platform_api)
    new_md = _new_metadata(md, base, str(base.config.diff_ids[-1]))
    labels = new_labels(app.config.labels, base.config.config.labels, new_md)
    cfg = replace(app, config=replace(app.config, labels=labels), created=created,
                  history=_history(app, base.config, keep_from))
    if force:
        cfg = cfg.with_platform(base.config.platform)
    return RebasePlan(keep_from, cfg, tuple(warnings))


def _history(app: ConfigFile, base: ConfigFile, keep_from: int) -> tuple[History, ...]:
    """The new base's history, then the app's entries above its old base (empty when the
    app's history does not line up with its layers)."""
    if not app.history:
        return ()
    seen = 0
    for i, h in enumerate(app.history):
        if seen == keep_from:
            upper = app.history[i:]
            break
        seen += 0 if h.empty_layer else 1
    else:
        upper = ()
    if seen != keep_from:
        return ()
    base_hist = base.history or tuple(History() for _ in base.diff_ids)
    return base_hist + upper


def apply_plan(app: Image, new_base: Image, plan: RebasePlan) -> ImageValue:
    """The rebased image: all of ``new_base``'s layers, then ``app``'s from ``keep_from``."""
    layers = new_base.layers() + app.layers()[plan.keep_from:]
    m = app.manifest()
    return ImageValue.build(plan.config, layers, manifest_media_type=m.media_type,
                            annotations=m.annotations)


# --- edge ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RebaserInputs:
    """The rebaser's resolved inputs."""

    images: tuple[str, ...]
    platform_api: Version
    run_image: str | None = None
    previous_image: str | None = None
    force: bool = False
    insecure_registries: tuple[str, ...] = ()
    environ: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RebaseResult:
    """What was pushed: the tags (as given), the manifest digest and size."""

    tags: tuple[str, ...]
    digest: Digest
    manifest_size: int
    warnings: tuple[str, ...] = ()


def _parse_all(images: Sequence[str]) -> list[Reference]:
    if not images:
        raise UsageError("rebaser: at least one <image> is required")
    refs = [Reference.parse(i) for i in images]
    if len({r.registry for r in refs}) > 1:
        raise UsageError("rebaser: all images must be on the same registry: "
                         + ", ".join(images))
    return refs


def _read(client: RegistryClient, name: str, ref: Reference, what: str,
          platform: Platform | None = None) -> ImageValue:
    from lifecycle.oci import remote

    try:
        return remote.read_image(client, ref, platform)
    except ImageError as e:
        raise RebaseError(f"cannot read {what} {name}: {e}") from e


def created_time() -> str:
    """``SOURCE_DATE_EPOCH`` or 1980-01-01T00:00:01Z, as RFC 3339."""
    return mutate.rfc3339(default_mtime())


def rebase(inputs: RebaserInputs, client: RegistryClient | None = None) -> RebaseResult:
    """Rebase the app image (``previous_image`` or the first image) and push it to every
    image name. RebaseError (exit 72) naming the image on refusal or registry failure."""
    from lifecycle.oci import remote
    from lifecycle.oci.registry import RegistryClient, default_keychain

    refs = _parse_all(inputs.images)
    app_name = inputs.previous_image or inputs.images[0]
    client = client or RegistryClient(default_keychain(inputs.environ),
                                      insecure_registries=inputs.insecure_registries)
    app_ref = Reference.parse(app_name)
    app = _read(client, app_name, app_ref, "app image")
    try:
        run_name = inputs.run_image or resolve_run_image(app_metadata(app.config()),
                                                         app_ref.registry)
        run_ref = Reference.parse(run_name)
        new_base = _read(client, run_name, run_ref, "run image", app.config().platform)
        base = NewBase(new_base.config(), run_name,
                       str(run_ref.with_digest(new_base.digest())))
        plan = plan_rebase(app.config(), base, force=inputs.force,
                           platform_api=inputs.platform_api, created=created_time())
    except RebaseError as e:
        raise RebaseError(f"rebase {app_name}: {e}") from e
    for w in plan.warnings:
        log.warning("rebase %s: %s", app_name, w)
    img = apply_plan(app, new_base, plan)
    log.info("Rebasing %s on run image %s", app_name, base.reference)
    try:
        digest = remote.push_image(client, img, refs)
    except ImageError as e:
        raise RebaseError(f"rebase {app_name}: push failed: {e}") from e
    return RebaseResult(tuple(inputs.images), digest, len(img.raw_manifest()), plan.warnings)
