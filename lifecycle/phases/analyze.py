"""The analyzer phase: previous image metadata and run image choice, as an ``Analyzed`` value.

Platform API 0.15 platform.md "analyzer" (cnb-digest §3.3, §3.12 analyzed.toml, §3.14 run image
resolution). A pure core (checking references, choosing the run image from ``run.toml`` given a
readability predicate, reading a run image's target, building the ``Analyzed`` value from fetched
data) and a thin registry edge (:func:`analyze`) that fetches images and checks access.

Access checks: read access to the previous, cache and run images is a manifest HEAD (a missing
previous or cache image is fine); write access to ``<image>``, the tags and the cache image is a
registry ping with the configured credentials (it proves the credentials are accepted, not that
push is allowed). Restoring the SBOM layer of the previous image (``-skip-layers``) is not done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle.buildpack.targets import Distro
from lifecycle.errors import (
    AnalyzeError,
    AuthError,
    FileFormatError,
    ImageError,
    RegistryError,
    RegistryNotFoundError,
    UsageError,
)
from lifecycle.oci.config import ConfigFile
from lifecycle.oci.reference import Reference
from lifecycle.platform import labels
from lifecycle.platform.files.analyzed import Analyzed, RunImage, TargetMetadata
from lifecycle.platform.files.run import Run

if TYPE_CHECKING:  # the registry modules (and requests) load only when a registry is used
    from lifecycle.oci.registry import RegistryClient

log = logging.getLogger(__name__)

_NOT_FOUND_CODES = frozenset({"MANIFEST_UNKNOWN", "NAME_UNKNOWN"})
_BIONIC = "io.buildpacks.stacks.bionic"


# --- pure core ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AnalyzeRequest:
    """What the analyzer was asked: the output image, tags, previous/run/cache images, run.toml.

    ``run_image`` is kept as given (it is written as ``[run-image] image``), already checked."""

    image: Reference
    tags: tuple[Reference, ...] = ()
    previous_image: Reference | None = None
    run_image: str | None = None
    cache_image: Reference | None = None
    run: Run = field(default_factory=Run)
    run_path: str = "/cnb/run.toml"

    @property
    def previous(self) -> Reference:
        """The image to analyse: ``-previous-image``, else ``<image>``."""
        return self.previous_image or self.image


def parse_ref(text: str, what: str) -> Reference:
    """Parse a reference given as ``what``; UsageError (exit 3) naming it when malformed."""
    try:
        return Reference.parse(text)
    except UsageError as e:
        raise UsageError(f"{what}: {e}") from e


def make_request(image: str, *, tags: Sequence[str] = (), previous_image: str | None = None,
                 run_image: str | None = None, cache_image: str | None = None,
                 run: Run | None = None, run_path: str = "/cnb/run.toml") -> AnalyzeRequest:
    """Check every reference (exit 3 when one is malformed) and that tags share the registry of
    ``<image>``; run.toml names must parse too."""
    img = parse_ref(image, "<image>")
    tag_refs = tuple(parse_ref(t, "-tag") for t in tags)
    for t in tag_refs:
        if t.registry != img.registry:
            raise UsageError(f"-tag {t}: must be on the registry of {img} ({img.registry})")
    run = run or Run()
    if run_image is not None:
        parse_ref(run_image, "-run-image")
    for entry in run.images:
        for name in entry.names():
            parse_ref(name, f"{run_path} run image")
    return AnalyzeRequest(
        image=img, tags=tag_refs,
        previous_image=None if previous_image is None else parse_ref(previous_image,
                                                                     "-previous-image"),
        run_image=run_image,
        cache_image=None if cache_image is None else parse_ref(cache_image, "-cache-image"),
        run=run, run_path=run_path)


def run_image_candidates(run: Run) -> tuple[str, ...]:
    """Every run image name of ``run.toml`` in order (image, then its mirrors), no repeats."""
    return tuple(dict.fromkeys(n for e in run.images for n in e.names()))


def choose_run_image(run: Run, output_registry: str,
                     readable: Callable[[str], bool]) -> str | None:
    """cnb-digest §3.14: the first readable name on ``output_registry``, else the first readable
    name anywhere; None when none is readable. ``readable`` is called lazily, at most once per
    name."""
    names = run_image_candidates(run)
    seen: dict[str, bool] = {}

    def ok(name: str) -> bool:
        if name not in seen:
            seen[name] = readable(name)
        return seen[name]

    same = [n for n in names if Reference.parse(n).registry == output_registry]
    others = [n for n in names if n not in same]
    return next((n for n in same if ok(n)), None) or next((n for n in others if ok(n)), None)


def target_of(config: ConfigFile, what: str) -> TargetMetadata:
    """The run image's target: config os/arch/variant, ``io.buildpacks.base.*`` id and distro
    (the legacy bionic stack id implies ubuntu 18.04). AnalyzeError when the config has no os."""
    if not config.os:
        raise AnalyzeError(f"run image {what}: its config has no os")
    lab = config.config.labels
    name, version = lab.get(labels.BASE_DISTRO_NAME, ""), lab.get(labels.BASE_DISTRO_VERSION, "")
    distro = Distro(name, version) if name or version else None
    if distro is None and lab.get(labels.STACK_ID) == _BIONIC:
        distro = Distro("ubuntu", "18.04")
    return TargetMetadata(os=config.os, arch=config.architecture,
                          arch_variant=config.variant or "", id=lab.get(labels.BASE_ID, ""),
                          distro=distro)


def previous_metadata(label_values: Mapping[str, str], what: str) -> dict[str, Any]:
    """The previous image's lifecycle metadata label as the analyzed.toml ``[metadata]`` table;
    empty (with a warning) when the label is missing or corrupt."""
    raw = label_values.get(labels.LIFECYCLE_METADATA)
    if raw is None:
        log.warning("previous image %s has no %s label; ignoring it", what,
                    labels.LIFECYCLE_METADATA)
        return {}
    try:
        md = labels.LifecycleMetadata.from_json(raw, source=f"{what} {labels.LIFECYCLE_METADATA}")
    except FileFormatError as e:
        log.warning("ignoring the metadata of previous image %s: %s", what, e)
        return {}
    return md.to_toml()


@dataclass(frozen=True, slots=True)
class FetchedImage:
    """An image as the analyzer saw it: its digest reference and configuration."""

    digest_ref: str
    config: ConfigFile


def build_analyzed(previous: FetchedImage | None, run_name: str,
                   run_image: FetchedImage) -> Analyzed:
    """The ``analyzed.toml`` value from what was fetched (``previous`` None: not found)."""
    metadata: dict[str, Any] = {}
    if previous is not None:
        metadata = previous_metadata(previous.config.config.labels, previous.digest_ref)
    return Analyzed(
        previous_image=None if previous is None else previous.digest_ref,
        metadata=metadata,
        run_image=RunImage(reference=run_image.digest_ref, image=run_name,
                           target=target_of(run_image.config, run_name)))


# --- registry edge ------------------------------------------------------------------------------
def _not_found(e: RegistryError) -> bool:
    return isinstance(e, RegistryNotFoundError) or bool(_NOT_FOUND_CODES & set(e.codes))


def fetch(client: RegistryClient, ref: Reference) -> FetchedImage | None:
    """The image at ``ref`` (digest reference and config), None when it does not exist."""
    from lifecycle.oci.remote import read_image

    try:
        img = read_image(client, ref)
    except RegistryError as e:
        if _not_found(e) and not isinstance(e, AuthError):
            return None
        raise
    digest = img.digest()
    return FetchedImage(f"{ref.name}@{digest}", img.config())


def readable(client: RegistryClient, name: str) -> bool:
    """True when the manifest of ``name`` exists and may be read with our credentials."""
    try:
        return client.head_manifest(Reference.parse(name)) is not None
    except RegistryError as e:
        log.debug("run image %s is not readable: %s", name, e)
        return False


def _fetch_previous(client: RegistryClient, ref: Reference) -> FetchedImage | None:
    try:
        found = fetch(client, ref)
    except AuthError as e:
        raise AnalyzeError(f"no read access to previous image {ref}: {e}") from e
    except RegistryError as e:
        raise AnalyzeError(f"cannot read previous image {ref}: {e}") from e
    except ImageError as e:  # corrupt manifest or config: ignored, as the Go lifecycle does
        log.warning("ignoring previous image %s: %s", ref, e)
        return None
    if found is None:
        log.info("previous image %s not found", ref)
    return found


def _resolve_run_name(client: RegistryClient, req: AnalyzeRequest) -> str:
    if req.run_image is not None:
        return req.run_image
    names = run_image_candidates(req.run)
    if not names:
        raise AnalyzeError(f"no run image: -run-image not given and {req.run_path} lists none")
    chosen = choose_run_image(req.run, req.image.registry, lambda n: readable(client, n))
    if chosen is None:
        raise AnalyzeError(f"run image {names[0]} not found or not readable "
                           f"(tried {', '.join(names)} from {req.run_path})")
    return chosen


def _fetch_run(client: RegistryClient, name: str) -> FetchedImage:
    try:
        found = fetch(client, Reference.parse(name))
    except ImageError as e:
        raise AnalyzeError(f"cannot read run image {name}: {e}") from e
    if found is None:
        raise AnalyzeError(f"run image {name} not found")
    return found


def check_access(client: RegistryClient, req: AnalyzeRequest) -> None:
    """Write access to ``<image>``, tags and cache image (registry ping with our credentials);
    read access to the cache image (HEAD; missing is fine)."""
    registries = {r.registry for r in (req.image, *req.tags)}
    if req.cache_image is not None:
        registries.add(req.cache_image.registry)
    for reg in sorted(registries):
        try:
            client.ping(reg)
        except RegistryError as e:
            raise AnalyzeError(f"no access to registry {reg}: {e}") from e
    if req.cache_image is not None:
        try:
            client.head_manifest(req.cache_image)
        except RegistryError as e:
            raise AnalyzeError(f"no read access to cache image {req.cache_image}: {e}") from e


def analyze(client: RegistryClient, req: AnalyzeRequest) -> Analyzed:
    """Run the analyzer against registries and return the ``analyzed.toml`` value."""
    check_access(client, req)
    previous = _fetch_previous(client, req.previous)
    run_name = _resolve_run_name(client, req)
    run_image = _fetch_run(client, run_name)
    log.debug("run image %s is %s", run_name, run_image.digest_ref)
    return build_analyzed(previous, run_name, run_image)
