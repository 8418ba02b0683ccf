"""One image of an in-house stack: a base image plus one layer of packages, files and users.

Issue #7 "In-house stacks". The base's layers are read as headers (:mod:`basetree`), the
added packages resolved by the host's apt against the base's dpkg status and the stack's apt
sources (else the base's own sources, else the host's) and downloaded into the store's cache
(:mod:`apt_host`), then every step writes into an :class:`~lifecycle.stack.overlay.Overlay`
(:mod:`addsteps`), whose tar becomes one deterministic layer. The base's layers are kept
as they are, so images made from the same base share them and an app image can be rebased.
The config is applied later (:func:`lifecycle.stack.assemble.based_config`), once the stack's
cache key is known.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.errors import LifecycleError, StackBuildError
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.digest import Digest
from lifecycle.oci.image import Image
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.pipeline import store_layer
from lifecycle.stack import addsteps, basetree, cacerts, dpkgdb, sources
from lifecycle.stack.additions import CA_DIR, UserSpec
from lifecycle.stack.apt_host import HostApt, Package
from lifecycle.stack.assemble import debian_arch
from lifecycle.stack.definition import Distro, ImageSpec, StackDefinition
from lifecycle.stack.lock import ImageLock, parse_dpkg_status
from lifecycle.stack.overlay import Overlay
from lifecycle.stack.rootfs_tar import open_rootfs, parse_os_release
from lifecycle.store import Store

log = logging.getLogger(__name__)

FORMAT = 1
"""Bump when the additions layer changes in a way the key's other inputs do not show."""
_CAPTURE_FILES = frozenset({
    "etc/passwd", "etc/group", "etc/shadow", "etc/gshadow", dpkgdb.STATUS, "etc/os-release",
    "usr/lib/os-release", cacerts.BUNDLE, cacerts.CONF, "etc/apt/sources.list",
    "etc/dpkg/dpkg.cfg"})
_CAPTURE_DIRS = (cacerts.SHARE_DIR + "/", CA_DIR + "/", "etc/apt/sources.list.d/",
                 "etc/apt/trusted.gpg.d/", "usr/share/keyrings/", "etc/dpkg/dpkg.cfg.d/")


def capture(name: str) -> bool:
    """The files whose content the steps read: accounts, dpkg status and configuration,
    os-release, CA files, apt sources and keys."""
    return name in _CAPTURE_FILES or name.startswith(_CAPTURE_DIRS)


@dataclass(frozen=True, slots=True)
class Base:
    """The base image of one spec: its location, the image and its manifest digest."""

    location: str
    image: Image
    digest: str


@dataclass(frozen=True, slots=True)
class Made:
    """One image's addition: the layer (None if nothing was added), the distro, every
    installed package, the added ones (lock entry), the CNB user to set, a summary."""

    layer: BlobLayer | None
    distro: Distro
    packages: Mapping[str, str]
    lock: ImageLock
    user: tuple[int, int] | None
    summary: str


def distro_of(defn: StackDefinition, tree: basetree.BaseTree, label: str) -> Distro:
    """The definition's distro, checked against the base's os-release, else the latter's."""
    raw = tree.read("etc/os-release")
    osr = parse_os_release(raw.decode("utf-8", "replace")) if raw is not None else {}
    if defn.distro is not None:
        got = (osr.get("ID"), osr.get("VERSION_ID"))
        if osr and got != (defn.distro.name, defn.distro.version):
            raise StackBuildError(f"{defn.path}: distro is {defn.distro.name} "
                                  f"{defn.distro.version} but /etc/os-release of {label} "
                                  f"says {got[0]} {got[1]}")
        return defn.distro
    if not osr.get("ID"):
        raise StackBuildError(f"{defn.path}: {label} has no /etc/os-release; add [distro]")
    codename = osr.get("VERSION_CODENAME", "")
    return Distro(osr["ID"], osr.get("VERSION_ID", ""), codename)


def image_sources(tree: basetree.BaseTree) -> list[sources.AptSource]:
    """The ``deb`` entries of the base image's own apt configuration."""
    out: list[sources.AptSource] = []
    for name in ["etc/apt/sources.list", *sorted(tree.under("etc/apt/sources.list.d"))]:
        data = tree.read(name)
        if data is None:
            continue
        text = data.decode("utf-8", "replace")
        parse = sources.parse_deb822 if name.endswith(".sources") else sources.parse_one_line
        if name.endswith((".sources", ".list")):
            out += parse(text, "/" + name)
    return out


def apt_sources(defn: StackDefinition, mirrors: Sequence[str], tree: basetree.BaseTree,
                distro: Distro) -> list[sources.AptSource]:
    """``--mirror``, else the stack's mirror, else the base's sources if they serve its
    suite, else the host's."""
    if not distro.codename:
        raise StackBuildError(f"{defn.path}: the base's /etc/os-release has no "
                              "VERSION_CODENAME; add [distro] with a codename")
    suites = defn.suites or (distro.codename,)
    if distro.codename not in suites:
        raise StackBuildError(f"{defn.path}: apt.suites: must contain {distro.codename!r}")
    if not mirrors and not defn.mirrors:
        own = sources.select(image_sources(tree), suites, defn.components)
        if any(s.suite == distro.codename for s in own):
            log.info("using the base image's apt sources")
            return own
    return sources.resolve(mirrors, defn.mirrors, suites, defn.components, distro.codename)


def _keyrings(tree: basetree.BaseTree) -> dict[str, bytes]:
    out = {}
    for name in sorted([*tree.under("etc/apt/trusted.gpg.d"), *tree.under("usr/share/keyrings")]):
        data = tree.read(name)
        if data is not None and name.endswith((".gpg", ".asc")):
            out[name.rsplit("/", 1)[-1]] = data
    return out


def _cnb_user(spec: ImageSpec, base_env: Sequence[str]) -> tuple[UserSpec | None, bool]:
    """The CNB user account to ensure, and whether the config must name it."""
    has_ids = any(e.startswith("CNB_USER_ID=") for e in base_env)
    if not spec.user_explicit and has_ids:
        return None, False
    u = spec.user
    return UserSpec(u.name, u.uid, u.gid, u.group), True


@dataclass(frozen=True, slots=True)
class Context:
    """Where a build puts things: work dir, caches, blob store, mirrors, timestamp."""

    work: Path
    cache: Path
    blobs: BlobStore
    mirrors: tuple[str, ...]
    epoch: int
    arch: str | None = None


def make(defn: StackDefinition, spec: ImageSpec, base: Base, entry: ImageLock | None,
         ctx: Context) -> Made:
    """Build ``spec``'s addition on ``base`` (``entry``: a lock entry still valid for it)."""
    label = f"{spec.role} image"
    log.info("%s: reading %s (%s)", label, base.location, base.digest[:19])
    tree = basetree.scan(base.image.layers(), capture)
    distro = distro_of(defn, tree, base.location)
    cfg = base.image.config()
    arch = ctx.arch or debian_arch(cfg.platform)
    ov = Overlay(tree, ctx.work / f"{spec.role}-layer.tar", capture, ctx.epoch)
    try:
        chosen: list[Package] = []
        if spec.packages:
            apt = HostApt(ctx.work / f"apt-{spec.role}", ctx.cache,
                          apt_sources(defn, ctx.mirrors, tree, distro), arch,
                          tree.read(dpkgdb.STATUS) or b"", _keyrings(tree))
            wanted = entry.pins() if entry is not None else spec.packages
            got = apt.install(wanted, label)
            chosen = [p for p, _ in got]
            filters = addsteps.image_filters(ov) + dpkgdb.definition_filters(
                defn.path_exclude, defn.path_include)
            addsteps.add_packages(ov, [d for _, d in got], filters)
        addsteps.add_files(ov, spec.files)
        cnb, set_user = _cnb_user(spec, cfg.config.env)
        addsteps.add_users(ov, ([cnb] if cnb is not None else []) + list(spec.users))
        addsteps.update_trust(ov, set(ov.names()),
                              any(p.name == "ca-certificates" for p in chosen))
    finally:
        ov.close()
    layer = _layer(ov, ctx) if ov.added else None
    status = (ov.read(dpkgdb.STATUS) or b"").decode("utf-8", "replace")
    added = {p.name: p.version for p in chosen}
    lock = ImageLock(None, spec.packages, dict(sorted(added.items())), spec.base, base.digest)
    user = (spec.user.uid, spec.user.gid) if set_user else None
    summary = (f"{len(added)} packages, {len(spec.files)} files, "
               f"{len(spec.users) + (cnb is not None)} users")
    return Made(layer, distro, parse_dpkg_status(status, arch), lock, user, summary)


def _layer(ov: Overlay, ctx: Context) -> BlobLayer:
    with open_rootfs(ov.path) as tree:
        layer = store_layer(tree.stream(ctx.epoch, drop=lambda _n: False), ctx.blobs)
    log.info("layer %s, %.1f MB", layer.digest, layer.size / 1e6)
    return layer


def names_registry(ref: str) -> bool:
    """True if ``ref`` names its registry host (``registry.example:5000/x``), not a bare
    name such as ``pypack/default-build``, which may exist only in the local store."""
    first = ref.removeprefix("docker://").split("/", 1)
    return len(first) == 2 and ("." in first[0] or ":" in first[0] or first[0] == "localhost")


def open_bases(defn: StackDefinition, store: Store, arch: str | None,
               insecure: Sequence[str] = (), refresh: bool = False) -> dict[str, Base]:
    """The base image of every spec that has one, by role. A registry image is pulled into
    the store first (under its reference), so its layers are fetched once; it is used from
    the store afterwards, and pulled again when ``refresh`` (``--update``) and the reference
    names its registry."""
    from lifecycle import client
    from lifecycle.oci.locator import parse_locator

    ctx = client.Context(insecure_registries=tuple(insecure), store_root=str(store.root))
    out: dict[str, Base] = {}
    for spec in defn.images():
        if spec.base is None:
            continue
        loc = parse_locator(spec.base)
        try:
            pull = refresh and names_registry(spec.base)
            if loc.transport == "registry" and (pull or not store.has(loc.ref)):
                log.info("pulling %s into the local store", spec.base)
                store.put(_remote(ctx, loc.ref, arch), loc.ref)
            img = client.open_image(spec.base, ctx)
        except LifecycleError as e:
            raise StackBuildError(f"{defn.path}: {spec.role}.base {spec.base}: {e}") from e
        out[spec.role] = Base(spec.base, img, str(Digest.of(img.raw_manifest())))
    return out


def _remote(ctx: Any, ref: str, arch: str | None) -> Image:
    from lifecycle.oci.reference import Reference
    from lifecycle.oci.remote import read_image
    from lifecycle.stack.assemble import platform_for

    return read_image(ctx.registry, Reference.parse(ref), platform_for(arch) if arch else None)


def key_extra(defn: StackDefinition, bases: Mapping[str, Base]) -> list[str]:
    """What the cache key needs besides the definition for images made from a base: the
    format of these layers, each base's digest and each copied file's content (empty for a
    stack without such images)."""
    out = []
    for spec in defn.images():
        if spec.base is None:
            continue
        h = hashlib.sha256()
        for f in spec.files:
            h.update(f.digest_input())
        out.append(f"{spec.role}:{bases[spec.role].digest}:{h.hexdigest()}")
    return [f"inhouse-format:{FORMAT}", *out] if out else []
