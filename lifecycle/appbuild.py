"""``pypack build``: the platform side of a build, with no Docker daemon and no root.

design.md §3-§4, issue #6. The steps:

1. the builder: ``default`` is made from ``stacks/default/builder.toml`` (building the default
   stack first if the local store lacks its images); any other name is read from the store,
   ``oci:``/``docker-archive:`` or a registry. Its root filesystem is unpacked once into the
   store (by digest) for the sandbox.
2. a per-image work directory in the store holds ``app/`` (a copy of ``--path`` with
   ``.gitignore`` or project.toml include/exclude honoured), ``layers/``, ``platform/env/``
   (``--env``, ``--env-file``, project.toml build env) and the volume cache ``cache/``.
3. the creator (``lifecycle.phases.create``) runs every phase in this process; buildpack
   programs run in the builder's filesystem in a user namespace (``lifecycle.sandbox``) with
   ``app``, ``layers``, ``platform`` and the buildpacks bound at ``/workspace``, ``/layers``,
   ``/platform`` and ``/cnb/buildpacks``. Registry credentials stay in this process.
4. the image goes to the local store (default), ``--output`` (``oci:``/``docker-archive:``) or,
   with ``--publish``, the registry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle import api
from lifecycle.builder import default as default_builder
from lifecycle.cache import Cache, VolumeCache
from lifecycle.client import Context
from lifecycle.errors import LifecycleError, UsageError
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.oci.locator import parse_locator
from lifecycle.oci.reference import Reference
from lifecycle.phases import warm_layers
from lifecycle.phases.create import (
    CreateInputs,
    DigestRef,
    Timings,
    create,
    registry_digest_ref,
)
from lifecycle.phases.export_io import Finished, LocationSink, RegistrySink, Sink
from lifecycle.platform.files import order as order_file
from lifecycle.platform.files import project_metadata as project_file
from lifecycle.platform.files import run as run_file
from lifecycle.platform.files.run import Run, RunImageEntry
from lifecycle.platform.images import ClientImages
from lifecycle.project.descriptor import BuildpackRef, ProjectDescriptor, for_app
from lifecycle.project.prepare import prepare_app, project_metadata
from lifecycle.sandbox import OutputSink
from lifecycle.store import short

log = logging.getLogger("lifecycle")

DEFAULT_BUILDER = "default"
DEFAULT_BUILDER_IMAGE = default_builder.IMAGE
IN_IMAGE_APP = "/workspace"
IN_IMAGE_LAYERS = "/layers"
IN_IMAGE_PLATFORM = "/platform"
IN_IMAGE_BUILDPACKS = "/cnb/buildpacks"
BUILD_HOME = "/home/cnb"
"""HOME during the build: an empty tmpfs in the sandbox (tools like npm write there)."""


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """``pypack build`` flags (pack's names and meanings)."""

    image: str
    builder: str | None = None
    path: str = "."
    env: tuple[str, ...] = ()
    env_files: tuple[str, ...] = ()
    buildpacks: tuple[str, ...] = ()
    run_image: str | None = None
    publish: bool = False
    cache_image: str | None = None
    cache_dir: str | None = None
    """A volume cache directory instead of the image's own (``--cache format=bind|volume``)."""
    clear_cache: bool = False
    descriptor: str | None = None
    tags: tuple[str, ...] = ()
    default_process: str | None = None
    previous_image: str | None = None
    creation_time: str | None = None
    sandbox: str = "auto"
    output: str | None = None
    host_ca: bool = True
    network: bool = True


@dataclass(frozen=True, slots=True)
class BuildResult:
    """Where the image went, its digest, and the phase timings."""

    location: str
    digest: Digest
    timings: Mapping[str, float] = field(default_factory=dict)


# --- pure helpers ---------------------------------------------------------------------------
def parse_env_items(items: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``K=V`` items; a bare ``K`` takes the value from ``environ`` (as pack and docker do)."""
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not key:
            raise UsageError(f"--env {item!r}: missing variable name")
        if not eq:
            if key not in environ:
                continue
            value = environ[key]
        out[key] = value
    return out


def read_env_file(path: str, environ: Mapping[str, str]) -> dict[str, str]:
    """An ``--env-file``: one ``K=V`` (or bare ``K``) per line; ``#`` comments."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as e:
        raise UsageError(f"--env-file {path}: {e.strerror}") from e
    items = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    return parse_env_items(items, environ)


def creation_epoch(value: str | None) -> int | None:
    """``--creation-time``: ``now`` or seconds since the epoch; None keeps the fixed date."""
    if value is None:
        return None
    if value == "now":
        import time

        return int(time.time())
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--creation-time {value!r}: want 'now' or seconds since the epoch"
                         ) from None


def work_key(image: str) -> str:
    """The work directory name for ``image`` (stable per image name)."""
    return hashlib.sha256(image.encode()).hexdigest()[:16]


def image_env(img: Image) -> dict[str, str]:
    """The builder's config Env as a mapping."""
    out: dict[str, str] = {}
    for item in img.config().config.env or ():
        k, _, v = item.partition("=")
        out[k] = v
    return out


# --- the builder ----------------------------------------------------------------------------
def resolve_builder(name: str, ctx: Context) -> tuple[str, Image]:
    """The builder image for ``--builder NAME`` (``default`` is made on demand)."""
    from lifecycle.client import open_image

    if name == DEFAULT_BUILDER:
        return DEFAULT_BUILDER_IMAGE, ensure_default_builder(ctx)
    try:
        return name, open_image(name, ctx)
    except LifecycleError as e:
        raise UsageError(f"--builder {name}: {e}") from e


def ensure_default_builder(ctx: Context) -> Image:
    """The default builder, made in the store first if missing or stale
    (``lifecycle.builder.default``)."""
    return default_builder.ensure(ctx)


# --- the work directory ---------------------------------------------------------------------
@contextlib.contextmanager
def locked_workdir(ctx: Context, image: str) -> Iterator[Path]:
    """The image's work directory, locked against a concurrent build of the same image."""
    root = ctx.store.root / "builds" / work_key(image)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another pypack build of {image} is running") from None
        yield root


def fresh(path: Path) -> Path:
    """``path`` as a new empty directory."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write_platform_env(platform: Path, env: Mapping[str, str]) -> None:
    """``<platform>/env/<NAME>`` files (the spec's user-provided build variables)."""
    env_dir = fresh(platform / "env")
    for k, v in sorted(env.items()):
        if "/" in k or k in (".", ".."):
            raise UsageError(f"--env {k}: invalid variable name")
        (env_dir / k).write_text(v)


def buildpack_refs(opts: BuildOptions, desc: ProjectDescriptor) -> tuple[str | BuildpackRef, ...]:
    """What replaces the builder's order: ``--buildpack`` values, else project.toml's
    ``[[io.buildpacks.group]]`` (inline buildpacks included), else nothing."""
    if opts.buildpacks:
        return opts.buildpacks
    return desc.group


# --- buildpacks and order -------------------------------------------------------------------
def order_for(opts: BuildOptions, desc: ProjectDescriptor, rootfs: Path, work: Path,
              ctx: Context) -> tuple[str, str]:
    """(buildpacks dir, order.toml) on the host: the builder's, or with ``--buildpack`` a
    one-group order over the builder's buildpacks plus the given ones (directories, archives,
    buildpackages, ids on the builder; ``lifecycle.buildpack.fetch``)."""
    builder_bps = rootfs / IN_IMAGE_BUILDPACKS.lstrip("/")
    builder_order = rootfs / "cnb" / "order.toml"
    refs = buildpack_refs(opts, desc)
    if not refs:
        return str(builder_bps), str(builder_order)
    from lifecycle.buildpack.descriptor import load as load_bp
    from lifecycle.buildpack.fetch import resolve_buildpack
    from lifecycle.platform.files.order import Order, OrderEntry, OrderGroup
    from lifecycle.project.inline import install_inline

    merged = fresh(work / "buildpacks")
    if builder_bps.is_dir():
        shutil.copytree(builder_bps, merged, symlinks=True, dirs_exist_ok=True)
    on_builder = [(d.id, d.version) for d in map(load_bp, merged.glob("*/*/buildpack.toml"))]
    group = []
    # pack: --buildpack paths are relative to the working directory, project.toml uris to
    # the project.toml's directory
    base = Path.cwd() if opts.buildpacks else (desc.base_dir or Path(opts.path))
    for ref in refs:
        if isinstance(ref, BuildpackRef) and ref.is_inline:
            install_inline(ref, merged)
            group.append(OrderEntry(ref.id, ref.version or "0.0.0"))
            continue
        locator = ref.locator if isinstance(ref, BuildpackRef) else ref
        found = resolve_buildpack(locator, ctx, merged, builder=on_builder,
                                  base=base.absolute())
        group.append(OrderEntry(found.id, found.version))
    order_path = work / "order.toml"
    order_file.dump(order_path, Order((OrderGroup(tuple(group)),)))
    return str(merged), str(order_path)


def run_toml_for(opts: BuildOptions, rootfs: Path) -> Run:
    """The builder's run.toml, or ``--run-image``."""
    if opts.run_image:
        return Run(images=(RunImageEntry(image=opts.run_image),))
    return run_file.load(rootfs / "cnb" / "run.toml", missing_ok=True)


# --- the build ------------------------------------------------------------------------------
def _sink(opts: BuildOptions, ctx: Context) -> tuple[Sink, str]:
    if opts.publish:
        refs = (Reference.parse(opts.image),
                *(Reference.parse(t) for t in opts.tags))
        return RegistrySink(ctx.registry, refs), opts.image
    if opts.output:
        output = opts.output
        if output.startswith("docker-archive:") and parse_locator(output).tag is None:
            # name it IMAGE, so `podman load` / `docker load` give a named image
            output = f"{output}:{short(str(Reference.parse(opts.image)))}"
        return LocationSink(output, opts.tags, ctx), output
    return LocationSink(f"store:{opts.image}", opts.tags, ctx), f"store:{opts.image}"


def _previous(opts: BuildOptions) -> str:
    """Where the last build of this image is: the registry (``--publish``), an ``--output``
    OCI layout (a docker-archive is rewritten whole, so it is not read back), else the store."""
    if opts.publish:
        return opts.image
    if opts.output and opts.output.startswith("oci:"):
        return opts.output
    return f"store:{opts.image}"


def _cache(opts: BuildOptions, ctx: Context, work: Path) -> Cache:
    """The build cache: ``--cache-image``, a ``--cache`` directory, or the work dir's volume.
    ``--clear-cache`` empties a volume; an image cache is then not read (``skip_restore``) and
    replaced at export."""
    if opts.cache_image:
        from lifecycle.cache import ImageCache

        if opts.clear_cache:
            log.info("Not reading the cache image %s (--clear-cache)", opts.cache_image)
        return ImageCache(ctx.registry, Reference.parse(opts.cache_image))
    where = Path(opts.cache_dir) if opts.cache_dir else work / "cache"
    if opts.clear_cache and where.exists():
        log.info("Clearing the cache %s", where)
        shutil.rmtree(where)
    return VolumeCache(where)


def _digest_ref(ctx: Context) -> DigestRef:
    def ref(name: str, img: Image) -> str:
        if name.startswith(("store:", "oci:", "docker-archive:")) or ctx.store.has(name):
            return name
        return registry_digest_ref(name, img)
    return ref


def build(opts: BuildOptions, ctx: Context, on_output: OutputSink | None = None) -> BuildResult:
    """Run a whole build (module docstring)."""
    from lifecycle.sandbox import rootfs as sandbox_rootfs
    from lifecycle.sandbox.binds import Bind
    from lifecycle.sandbox.select import make_runner

    if not os.path.isdir(opts.path):
        raise UsageError(f"--path {opts.path}: not a directory")
    if opts.publish and opts.output:
        raise UsageError("--publish and --output cannot be used together")
    timings = Timings()
    desc = for_app(opts.path, opts.descriptor)
    with timings.phase("preparing"):
        builder_name, builder = resolve_builder(
            opts.builder or desc.builder or _configured_builder() or DEFAULT_BUILDER, ctx)
        log.info("Builder %s@%s", builder_name, Digest.of(builder.raw_manifest()))
        rootfs = sandbox_rootfs.unpack(builder, ctx.store)
        benv = image_env(builder)
        uid = int(benv.get("CNB_USER_ID", "1000"))
        gid = int(benv.get("CNB_GROUP_ID", "1000"))
    with locked_workdir(ctx, opts.image) as work:
        with timings.phase("preparing app"):
            app = work / "app"
            if app.exists():
                shutil.rmtree(app)
            prepared = prepare_app(opts.path, app, desc)
            log.info("App: %d files from %s (%s)", prepared.files, opts.path, prepared.mode)
            layers = work / "layers"
            if opts.clear_cache:  # nothing of the last build either (pack: -skip-restore)
                fresh(layers)
            else:
                warm_layers.prune(layers)  # the last build's layer dirs stay for the restorer
            project_file.dump(layers / "project-metadata.toml",
                              project_metadata(opts.path, desc))
            platform = work / "platform"
            user_env = dict(desc.build_env)
            for f in opts.env_files:
                user_env.update(read_env_file(f, os.environ))
            user_env.update(parse_env_items(opts.env, os.environ))
            write_platform_env(platform, user_env)
            buildpacks_dir, order_path = order_for(opts, desc, rootfs, work, ctx)
            run = run_toml_for(opts, rootfs)
        sandboxed = opts.sandbox != "none"
        binds = [Bind(str(app), IN_IMAGE_APP), Bind(str(layers), IN_IMAGE_LAYERS),
                 Bind(str(platform), IN_IMAGE_PLATFORM, readonly=True),
                 Bind(buildpacks_dir, IN_IMAGE_BUILDPACKS, readonly=True)]
        runner = make_runner(opts.sandbox, rootfs, binds, uid=uid, gid=gid,
                             host_ca=opts.host_ca, network=opts.network, environ=os.environ,
                             tmpfs=(BUILD_HOME,))
        lenv = _lifecycle_env(benv)
        if not sandboxed:  # the build image's HOME does not exist on the host
            lenv["HOME"] = str(fresh(work / "home"))
        sink, location = _sink(opts, ctx)
        previous = opts.previous_image or _previous(opts)
        inputs = CreateInputs(
            app_dir=str(app), layers_dir=str(layers), platform_dir=str(platform),
            buildpacks_dir=buildpacks_dir, order_path=order_path, image=opts.image,
            platform_api=api.PLATFORM_APIS[-1], run=run, run_image=opts.run_image,
            previous_image=previous, process_type=opts.default_process, uid=uid, gid=gid,
            created=creation_epoch(opts.creation_time),
            layers_path=IN_IMAGE_LAYERS if sandboxed else None,
            app_path=IN_IMAGE_APP if sandboxed else None,
            environ=lenv, warm_layers=True, skip_restore=opts.clear_cache)
        cache = _cache(opts, ctx, work)
        with _blobs(location, ctx) as blobs:
            done: Finished = create(inputs, ClientImages(ctx), sink, cache, blobs, runner=runner,
                                    on_output=on_output, digest_ref=_digest_ref(ctx),
                                    timings=timings)
    return BuildResult(location, done.digest, dict(timings.phases))


def _configured_builder() -> str | None:
    """``default-builder-image`` of the user's pypack config (``pypack config``)."""
    from lifecycle.config import load_config

    return load_config().default_builder


def _lifecycle_env(builder_env: Mapping[str, str]) -> dict[str, str]:
    """The environment the lifecycle would have inside the builder: its config Env and a HOME
    (buildpacks get only its allowlisted part, ``procenv.BASE_ALLOWLIST``; proxies and the CA
    variables are added by the sandbox)."""
    env = {"HOME": BUILD_HOME}
    env.update(builder_env)
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return env


@contextlib.contextmanager
def _blobs(location: str, ctx: Context) -> Iterator[BlobStore]:
    if location.startswith("store:"):
        yield ctx.store.layout.blobs
        return
    with tempfile.TemporaryDirectory(prefix="pypack-build-") as tmp:
        yield BlobStore(Path(tmp) / "blobs")
