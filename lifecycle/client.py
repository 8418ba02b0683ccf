"""The pack-like facade people and the CLI call: image import, copy and inspect.

Each operation takes an ``*Options`` dataclass and returns a value; the CLI only turns flags
into options and prints results. Image locations are parsed by ``lifecycle.oci.locator``:
a registry reference, ``oci:DIR[:TAG]`` or ``docker-archive:FILE[:TAG]``.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import UsageError
from lifecycle.oci import mutate
from lifecycle.oci.archive import read_docker_archive, write_docker_archive
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.oci.layout import Layout
from lifecycle.oci.locator import Locator, parse_locator
from lifecycle.oci.platform import Platform
from lifecycle.oci.reference import Reference
from lifecycle.oci.rootfs import from_rootfs
from lifecycle.store import Store, home

if TYPE_CHECKING:  # the registry modules (and requests) load only when a registry is used
    from lifecycle.oci.registry import RegistryClient

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What every image operation shares: registry settings and a lazily made client."""

    insecure_registries: tuple[str, ...] = ()
    environ: Mapping[str, str] | None = None
    store_root: str | None = None

    @cached_property
    def store(self) -> Store:
        """The local image store (``$PYPACK_HOME``, or under the XDG data directory)."""
        return Store(self.store_root) if self.store_root else Store(home(self.environ))

    @cached_property
    def registry(self) -> RegistryClient:
        """The registry client (credentials from CNB_REGISTRY_AUTH or docker config.json)."""
        from lifecycle.oci.registry import RegistryClient, default_keychain

        return RegistryClient(default_keychain(self.environ),
                              insecure_registries=self.insecure_registries)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Where an image was written and its manifest digest."""

    location: str
    digest: Digest


def open_image(location: str, ctx: Context, platform: Platform | None = None) -> Image:
    """The image at ``location`` (registry reference, ``oci:``, ``docker-archive:`` or
    ``store:``); a bare reference the local store holds is read from the store, as Docker
    prefers its local images."""
    loc = parse_locator(location)
    if loc.transport == "store" or (loc.transport == "registry" and ctx.store.has(loc.ref)):
        return ctx.store.image(loc.ref, platform)
    if loc.transport == "oci":
        return Layout(loc.ref).image(loc.tag, platform=platform)
    if loc.transport == "docker-archive":
        return read_docker_archive(loc.ref, loc.tag)
    from lifecycle.errors import RegistryError
    from lifecycle.oci.remote import read_image

    ref = Reference.parse(loc.ref)
    try:
        return read_image(ctx.registry, ref, platform)
    except RegistryError as e:  # say where else it was looked for (a typo'd local name)
        raise type(e)(f"image {location!r} is not in the local store "
                      f"({ctx.store.layout.path}), and from its registry: {e}",
                      status=e.status, codes=e.codes) from e


def write_image(img: Image, location: str, ctx: Context,
                extra_tags: Sequence[str] = ()) -> WriteResult:
    """Write ``img`` to ``location`` (and ``extra_tags`` of the same kind); blobs the
    destination already has are not written again."""
    loc = parse_locator(location)
    digest = Digest.of(img.raw_manifest())
    if loc.transport == "store":
        ctx.store.put(img, loc.ref, tuple(full_tag(loc.ref, t) for t in extra_tags))
    elif loc.transport == "oci":
        lay = Layout.init(loc.ref)
        for tag in (loc.tag or "latest", *extra_tags):
            lay.write_image(img, tag)
    elif loc.transport == "docker-archive":
        tags = [t for t in (loc.tag, *extra_tags) if t]
        write_docker_archive(loc.ref, [(img, tags)])
    else:
        from lifecycle.oci.remote import push_image

        ref = Reference.parse(loc.ref)
        refs = [ref, *(ref.with_tag(t) for t in extra_tags)]
        push_image(ctx.registry, img, refs)
    log.info("wrote %s@%s", loc, digest)
    return WriteResult(str(loc), digest)


def full_tag(name: str, tag: str) -> str:
    """``tag`` as a full name: a bare tag applies to ``name``'s repository; InvalidReference-
    Error (a UsageError) when it is no valid reference."""
    if "/" in tag or ":" in tag:
        return str(Reference.parse(tag))
    return str(Reference.parse(name).with_tag(tag))


@contextlib.contextmanager
def _blob_store_for(loc: Locator, ctx: Context) -> Iterator[BlobStore]:
    """New layer blobs go straight into a destination layout, else into a temp store."""
    if loc.transport == "oci":
        yield Layout.init(loc.ref).blobs
        return
    if loc.transport == "store":
        yield ctx.store.layout.blobs
        return
    with tempfile.TemporaryDirectory(prefix="pypack-blobs-") as tmp:
        yield BlobStore(Path(tmp) / "blobs")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """``pypack image import``: a root filesystem (dir or tar) as one layer, on ``base``."""

    rootfs: str
    dest: str
    base: str | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    user: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None


def import_image(opts: ImportOptions, ctx: Context) -> WriteResult:
    """Make an image of ``opts.rootfs`` and write it to ``opts.dest``."""
    if not Path(opts.rootfs).exists():
        raise UsageError(f"rootfs {opts.rootfs}: no such file or directory")
    platform = Platform.parse(opts.platform) if opts.platform else None
    base = open_image(opts.base, ctx, platform) if opts.base else None
    dest = parse_locator(opts.dest)
    with _blob_store_for(dest, ctx) as store:
        img: Image = from_rootfs(opts.rootfs, store, base=base, platform=platform,
                                 created_by=f"pypack image import {Path(opts.rootfs).name}")
        img = _configure(img, opts)
        return write_image(img, opts.dest, ctx)


def _configure(img: Image, opts: ImportOptions) -> Image:
    if opts.env:
        img = mutate.with_env(img, opts.env)
    if opts.entrypoint is not None:
        img = mutate.with_entrypoint(img, opts.entrypoint)
    if opts.cmd is not None:
        img = mutate.with_cmd(img, opts.cmd)
    if opts.workdir is not None:
        img = mutate.with_workdir(img, opts.workdir)
    if opts.user is not None:
        img = mutate.with_user(img, opts.user)
    if opts.labels:
        img = mutate.with_labels(img, opts.labels)
    return img


def copy_image(src: str, dest: str, ctx: Context, platform: str | None = None) -> WriteResult:
    """Copy the image at ``src`` to ``dest`` (any source to any sink)."""
    img = open_image(src, ctx, Platform.parse(platform) if platform else None)
    return write_image(img, dest, ctx)


def inspect_image(location: str, ctx: Context, platform: str | None = None) -> dict[str, Any]:
    """A JSON-able summary: digest, platform, config, labels, layers with sizes."""
    img = open_image(location, ctx, Platform.parse(platform) if platform else None)
    cfg = img.config()
    run = cfg.config
    manifest = img.manifest()
    layers = [{"digest": str(ly.digest), "diffID": str(ly.diff_id), "size": ly.size,
               "mediaType": ly.media_type} for ly in img.layers()]
    return {
        "location": location,
        "digest": str(Digest.of(img.raw_manifest())),
        "mediaType": manifest.media_type,
        "platform": str(cfg.platform),
        "created": cfg.created,
        "config": run.to_dict(),
        "labels": dict(run.labels or {}),
        "layers": layers,
        "size": sum(ly.size for ly in img.layers()) + manifest.config.size,
    }

