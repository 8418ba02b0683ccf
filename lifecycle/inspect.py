"""``pypack inspect``: what an app image built with buildpacks is made of, read from its labels.

Platform API 0.15 platform.md "Labels" (cnb-digest §4.3-4.5): ``io.buildpacks.lifecycle.metadata``
(run image, layers, SBOM), ``io.buildpacks.build.metadata`` (buildpacks, processes, launcher),
``io.buildpacks.project.metadata`` and ``io.buildpacks.rebasable``. The shape follows pack's
``inspect``: base image (run image reference and top layer), run images (user-configured
mirrors first, then the image and mirrors the label names, those on the app image's registry
first), rebasable, buildpacks, processes (the default one is the ``/cnb/process/<type>``
entrypoint; a process without a working directory runs in the image's), plus the project source
and the lifecycle metadata. :func:`describe` is pure (an image value in, an :class:`ImageInfo`
out); :func:`open_app_image` is the I/O edge.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifecycle.client import Context, open_image
from lifecycle.errors import ImageError, LifecycleError
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.oci.locator import parse_locator
from lifecycle.oci.reference import Reference
from lifecycle.platform import labels as lb
from lifecycle.platform.labels import LifecycleMetadata
from lifecycle.platform.labels_build import (
    BuildMetadata,
    BuildpackRef,
    ProcessMetadata,
    ProjectMetadata,
)

log = logging.getLogger(__name__)

PROCESS_PREFIX = "/cnb/process/"
"""The entrypoint prefix of an image whose default process is set (cnb-digest §4.2)."""

SOURCES = {"store": "local store", "registry": "registry", "oci": "OCI layout",
           "docker-archive": "docker archive"}
"""Where an image was read from, as shown to people (by locator transport)."""


@dataclass(frozen=True, slots=True)
class RunImageName:
    """One run image name: from the user's config (``user_configured``) or from the label;
    ``preferred`` marks the one a rebase picks (the first on the app image's registry)."""

    name: str
    user_configured: bool = False
    preferred: bool = False

    def to_dict(self) -> dict[str, Any]:
        """pack's ``{"name", "user_configured"}`` (omitted when false) plus ``preferred``."""
        out: dict[str, Any] = {"name": self.name}
        if self.user_configured:
            out["user_configured"] = True
        if self.preferred:
            out["preferred"] = True
        return out


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """A process as pack shows it: ``command`` is the first word, ``args`` the rest of the
    command followed by the overridable args; ``shell`` is ``bash`` for non-direct processes."""

    type: str
    command: str
    args: tuple[str, ...] = ()
    shell: str = ""
    working_dir: str = ""
    default: bool = False
    buildpack_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """pack's JSON keys (``working-dir``), plus ``buildpack_id``."""
        return {"type": self.type, "shell": self.shell, "command": self.command,
                "default": self.default, "args": list(self.args),
                "working-dir": self.working_dir, "buildpack_id": self.buildpack_id}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Everything ``pypack inspect`` shows about one app image."""

    name: str
    source: str
    digest: str
    platform: str
    metadata: LifecycleMetadata
    build: BuildMetadata
    project: ProjectMetadata
    run_images: tuple[RunImageName, ...] = ()
    processes: tuple[ProcessInfo, ...] = ()
    rebasable: bool = True
    stack_id: str = ""
    platform_api: str = ""
    base_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def buildpacks(self) -> tuple[BuildpackRef, ...]:
        """The buildpacks that took part in the build."""
        return self.build.buildpacks

    @property
    def extensions(self) -> tuple[BuildpackRef, ...]:
        """The image extensions that took part in the build."""
        return self.build.extensions

    def to_dict(self) -> dict[str, Any]:
        """pack's ``InfoDisplay`` keys, then pypack's: source, digest, project, lifecycle."""
        md = self.metadata
        return {
            "stack": self.stack_id,
            "base_image": {"top_layer": md.run_image.top_layer,
                           "reference": md.run_image.reference},
            "run_images": [r.to_dict() for r in self.run_images],
            "buildpacks": [_module(b) for b in self.buildpacks],
            "extensions": [_module(e) for e in self.extensions],
            "processes": [p.to_dict() for p in self.processes],
            "rebasable": self.rebasable,
            "source": self.source,
            "digest": self.digest,
            "platform": self.platform,
            "platform_api": self.platform_api,
            "base_labels": dict(self.base_labels),
            "project_source": self.project.to_dict().get("source"),
            "lifecycle": lifecycle_summary(self),
        }


def _module(b: BuildpackRef) -> dict[str, Any]:
    out: dict[str, Any] = {"id": b.id, "version": b.version}
    if b.homepage:
        out["homepage"] = b.homepage
    return out


def lifecycle_summary(info: ImageInfo) -> dict[str, Any]:
    """The lifecycle metadata as shown: launcher, exec-env, layer diffIDs by role, and each
    buildpack's layers with their types."""
    md, launcher = info.metadata, info.build.launcher
    return {
        "launcher": {"version": launcher.version, "repository": launcher.repository,
                     "commit": launcher.commit, "sha": md.launcher},
        "exec_env": md.exec_env,
        "app_layers": list(md.app),
        "config_layer": md.config,
        "process_types_layer": md.process_types,
        "sbom_layer": md.sbom,
        "buildpack_layers": [
            {"id": b.key, "version": b.version,
             "layers": {name: {"sha": m.sha, "launch": m.launch, "build": m.build,
                               "cache": m.cache} for name, m in sorted(b.layers.items())}}
            for b in md.buildpacks],
    }


# --- pure core ----------------------------------------------------------------------------------
def read_labels(img: Image, name: str) -> tuple[LifecycleMetadata, BuildMetadata,
                                                ProjectMetadata]:
    """The three buildpacks labels of ``img``; ImageError when it was not built by buildpacks
    or a label is malformed (the message names the image and the label)."""
    labels = img.config().config.labels or {}
    text = labels.get(lb.LIFECYCLE_METADATA)
    if not text:
        raise ImageError(f"image {name} was not built with buildpacks (it has no "
                         f"{lb.LIFECYCLE_METADATA} label)")
    md = LifecycleMetadata.from_json(text, source=f"{name}: label {lb.LIFECYCLE_METADATA}",
                                     error=ImageError)
    build = BuildMetadata()
    if labels.get(lb.BUILD_METADATA):
        build = BuildMetadata.from_json(labels[lb.BUILD_METADATA],
                                        source=f"{name}: label {lb.BUILD_METADATA}",
                                        error=ImageError)
    project = ProjectMetadata()
    if labels.get(lb.PROJECT_METADATA):
        project = ProjectMetadata.from_json(labels[lb.PROJECT_METADATA],
                                            source=f"{name}: label {lb.PROJECT_METADATA}",
                                            error=ImageError)
    return md, build, project


def rebasable(labels: Mapping[str, str], name: str) -> bool:
    """``io.buildpacks.rebasable`` (a JSON boolean); an image without it is rebasable."""
    text = labels.get(lb.REBASABLE)
    if text is None:
        return True
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, bool):
        raise ImageError(f"{name}: label {lb.REBASABLE}: want true or false, got {text!r}")
    return value


def default_process_type(entrypoint: Sequence[str] | None) -> str | None:
    """The process type an entrypoint ``/cnb/process/<type>`` starts, else None."""
    if entrypoint and entrypoint[0].startswith(PROCESS_PREFIX):
        return entrypoint[0][len(PROCESS_PREFIX):] or None
    return None


def process_info(p: ProcessMetadata, default: bool, image_workdir: str) -> ProcessInfo:
    """How pack displays process ``p``."""
    command = p.command[0] if p.command else ""
    return ProcessInfo(type=p.type, command=command, args=(*p.command[1:], *p.args),
                       shell="" if p.direct else "bash",
                       working_dir=p.working_dir or image_workdir, default=default,
                       buildpack_id=p.buildpack_id)


def processes(build: BuildMetadata, entrypoint: Sequence[str] | None,
              workdir: str) -> tuple[ProcessInfo, ...]:
    """Every process, the default one first (as pack lists them)."""
    default = default_process_type(entrypoint)
    first = [process_info(p, True, workdir) for p in build.processes if p.type == default]
    rest = [process_info(p, False, workdir) for p in build.processes if p.type != default]
    return (*first, *rest)


def registry_of(name: str) -> str | None:
    """The registry host of reference ``name``; None if it is not a reference."""
    try:
        return Reference.parse(name).registry
    except LifecycleError:
        return None


def run_images(md: LifecycleMetadata, app_registry: str | None,
               local_mirrors: Mapping[str, Sequence[str]]) -> tuple[RunImageName, ...]:
    """User-configured mirrors of the run image first, then the label's image and mirrors with
    those on ``app_registry`` first; the first name on ``app_registry`` is ``preferred``."""
    ri = md.run_image if md.run_image.image else (md.stack or md.run_image)
    names = [n for n in (ri.image, *ri.mirrors) if n]
    ordered = ([n for n in names if app_registry and registry_of(n) == app_registry]
               + [n for n in names if not (app_registry and registry_of(n) == app_registry)])
    preferred = ordered[0] if ordered and registry_of(ordered[0]) == app_registry else None
    out = [RunImageName(m, user_configured=True) for m in _configured(ri.image, local_mirrors)]
    out += [RunImageName(n, preferred=n == preferred) for n in ordered]
    return tuple(out)


def _configured(image: str, local_mirrors: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    if not image:
        return ()
    if image in local_mirrors:
        return tuple(local_mirrors[image])
    try:
        want = str(Reference.parse(image))
    except LifecycleError:
        return ()
    for key, mirrors in local_mirrors.items():
        try:
            if str(Reference.parse(key)) == want:
                return tuple(mirrors)
        except LifecycleError:
            continue
    return ()


def describe(img: Image, name: str, *, source: str = "", app_registry: str | None = None,
             local_mirrors: Mapping[str, Sequence[str]] | None = None) -> ImageInfo:
    """Read ``img``'s labels and config into an :class:`ImageInfo` (no I/O beyond the image
    value); ``local_mirrors`` are the run-image mirrors of the user's config."""
    md, build, project = read_labels(img, name)
    cfg = img.config()
    run = cfg.config
    labels = run.labels or {}
    env = dict(e.partition("=")[::2] for e in run.env)
    return ImageInfo(
        name=name, source=source, digest=str(Digest.of(img.raw_manifest())),
        platform=str(cfg.platform), metadata=md, build=build, project=project,
        run_images=run_images(md, app_registry, local_mirrors or {}),
        processes=processes(build, run.entrypoint, run.working_dir or ""),
        rebasable=rebasable(labels, name), stack_id=labels.get(lb.STACK_ID, ""),
        platform_api=env.get("CNB_PLATFORM_API", ""),
        base_labels={k: v for k, v in sorted(labels.items())
                     if k.startswith(lb.BASE_PREFIX) and k != lb.BASE_METADATA},
    )


# --- I/O edge -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Opened:
    """An image and where it came from (``store``, ``registry``, ``oci``, ``docker-archive``)."""

    image: Image
    transport: str
    registry: str | None

    @property
    def source(self) -> str:
        """The source as people read it."""
        return SOURCES.get(self.transport, self.transport)


def open_app_image(name: str, ctx: Context, *, remote: bool = False) -> Opened:
    """Open ``name`` as :func:`lifecycle.client.open_image` does (a bare reference the local
    store holds is read from the store); ``remote`` reads a bare reference from its registry."""
    loc = parse_locator(name)
    transport = str(loc.transport)
    if transport == "registry":
        if not remote and ctx.store.has(loc.ref):
            transport = "store"
    elif remote:
        raise ImageError(f"--remote needs a registry reference, not {name}")
    if transport == "registry":  # open_image would prefer the store
        from lifecycle.oci.remote import read_image

        img: Image = read_image(ctx.registry, Reference.parse(loc.ref))
    else:
        img = open_image(name if transport != "store" else f"store:{loc.ref}", ctx)
    registry = registry_of(loc.ref) if transport in ("registry", "store") else None
    return Opened(img, transport, registry)


def inspect_image(name: str, ctx: Context, *, remote: bool = False,
                  local_mirrors: Mapping[str, Sequence[str]] | None = None) -> ImageInfo:
    """Open ``name`` and describe it (``pypack inspect``)."""
    opened = open_app_image(name, ctx, remote=remote)
    log.debug("inspecting %s from the %s", name, opened.source)
    return describe(opened.image, name, source=opened.source, app_registry=opened.registry,
                    local_mirrors=local_mirrors)


def output(info: ImageInfo) -> dict[str, Any]:
    """pack's ``--output json`` envelope: ``image_name`` and ``local_info``/``remote_info``
    (the one the image was read from; the other is null). The local store is "local"."""
    remote = info.source == SOURCES["registry"]
    body = info.to_dict()
    return {"image_name": info.name, "remote_info": body if remote else None,
            "local_info": None if remote else body}
