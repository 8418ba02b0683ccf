"""``pypack stack build``: make a stack's build and run images into the local image store.

Issue #5 "Stacks". Steps: load the definition and its lock; if the store already holds both
images labelled with this input's cache key, stop (a warm build is instant); else resolve the
mirror, run mmdebstrap once per distinct root filesystem (downloads cached under
``<store>/cache/apt``), read each tree's dpkg status into the new lock, stream each tree through
the deterministic tar writer into one gzip layer, configure and store the images, and write the
lock when it changed. Timestamps come from ``SOURCE_DATE_EPOCH``, else the definition, else
1980-01-01T00:00:01Z.

Issue #7 "In-house stacks": an image with ``base`` is made by :mod:`lifecycle.stack.inhouse`
instead (the base's layers plus one layer of additions); the base's digest and the copied
files' contents join the cache key, so a new base makes the stack out of date.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.errors import LifecycleError, StackBuildError
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.pipeline import store_layer
from lifecycle.oci.tarball import default_mtime
from lifecycle.stack import assemble, inhouse, mmdebstrap, plan, sources
from lifecycle.stack import definition as stackdef
from lifecycle.stack import lock as stacklock
from lifecycle.stack.definition import ImageSpec, StackDefinition
from lifecycle.stack.rootfs_tar import RootfsTar, open_rootfs, parse_os_release
from lifecycle.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StackBuildOptions:
    """``source``: a stack name, directory or stack.toml; ``mirrors``: --mirror values;
    ``update``: ignore the lock and refresh it; ``rebuild``: build even when up to date;
    ``write_lock``: False leaves the lock file as it is (e.g. the shipped default stack's)."""

    source: str
    mirrors: tuple[str, ...] = ()
    update: bool = False
    rebuild: bool = False
    insecure_registries: tuple[str, ...] = ()
    write_lock: bool = True


@dataclass(frozen=True, slots=True)
class BuiltImage:
    """One stored image."""

    role: str
    name: str
    digest: str


@dataclass(frozen=True, slots=True)
class StackBuildResult:
    """What a stack build did: ``up_to_date`` when nothing had to be built."""

    stack: str
    key: str
    images: tuple[BuiltImage, ...]
    lock_path: Path
    lock_written: bool = False
    up_to_date: bool = False
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


def host_arch() -> str:
    """The host's Debian architecture (``dpkg --print-architecture``, else from the machine)."""
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        machine = platform.machine()
        return _MACHINES.get(machine, machine)


_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "i686": "i386",
             "ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64"}


def epoch_for(defn: StackDefinition) -> int:
    """SOURCE_DATE_EPOCH if set, else the definition's, else 1980-01-01T00:00:01Z."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        return default_mtime()
    return defn.source_date_epoch if defn.source_date_epoch is not None else default_mtime()


def hook_dirs_digest(defn: StackDefinition) -> str:
    """A digest of the files in every hook directory (their content changes the images)."""
    h = hashlib.sha256()
    for spec in defn.images():
        for d in spec.hook_dirs:
            for p in sorted(d.iterdir()):
                if p.is_file():
                    h.update(f"{spec.role}/{p.name}:{os.access(p, os.X_OK)}\0".encode())
                    h.update(p.read_bytes())
    return h.hexdigest()


def _stored_key(store: Store, name: str) -> tuple[str | None, str | None]:
    if not store.has(name):
        return None, None
    img = store.image(name)
    return img.config().config.labels.get(assemble.KEY_LABEL), str(img.digest())


def lock_entries(defn: StackDefinition, lock: stacklock.Lock | None,
                 bases: dict[str, inhouse.Base]) -> dict[str, stacklock.ImageLock]:
    """The entries of ``lock`` still valid for the definition (and for each image's base)."""
    out = {}
    for spec in defn.images():
        base = bases.get(spec.role)
        entry = None if lock is None else lock.get(spec, base.digest if base else None)
        if entry is not None:
            out[spec.role] = entry
    return out


def up_to_date(store: Store, defn: StackDefinition, key: str) -> tuple[BuiltImage, ...] | None:
    """The stored images if every one carries ``key``, else None."""
    out = []
    for spec in defn.images():
        found, digest = _stored_key(store, spec.name)
        if found != key or digest is None:
            return None
        out.append(BuiltImage(spec.role, spec.name, digest))
    return tuple(out)


def build(opts: StackBuildOptions, store: Store | None = None) -> StackBuildResult:
    """Build (or find up to date) the stack ``opts.source``; see the module docstring."""
    start = time.monotonic()
    st = store or Store()
    defn = stackdef.load(stackdef.locate(opts.source))
    arch = defn.arch or host_arch()
    epoch = epoch_for(defn)
    hooks = hook_dirs_digest(defn)
    bases = inhouse.open_bases(defn, st, defn.arch, opts.insecure_registries, opts.update)
    extra = inhouse.key_extra(defn, bases)
    old = None if opts.update else stacklock.load(defn.lock_path)
    valid = lock_entries(defn, old, bases)
    if old is not None and not opts.rebuild and len(valid) == len(defn.images()):
        key = plan.stack_key(defn, old, arch=arch, epoch=epoch, hooks_digest=hooks,
                             extra=extra)
        found = up_to_date(st, defn, key)
        if found is not None:
            log.info("stack %s is up to date (%s)", defn.name, key[:19])
            return StackBuildResult(defn.name, key, found, defn.lock_path, up_to_date=True,
                                    seconds=time.monotonic() - start)
    srcs: list[sources.AptSource] = []
    if any(s.base is None for s in defn.images()):
        srcs = sources.resolve(opts.mirrors, defn.mirrors, defn.suites, defn.components,
                               defn.debian_distro().codename)
    cache = tidy_cache(st.cache_dir / "apt")
    inputs = plan.BuildInputs(arch, epoch, tuple(srcs), cache, old)
    work = Path(tempfile.mkdtemp(prefix="stack-", dir=_work_root(st)))
    try:
        ictx = inhouse.Context(work, st.cache_dir, st.layout.blobs, opts.mirrors, epoch,
                               defn.arch)
        key, built, new_lock = _build_in(defn, inputs, st, work, hooks,
                                         _Based(bases, valid, extra, ictx))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        tidy_cache(cache)
    written = _write_lock(defn, old, new_lock) if opts.write_lock else False
    return StackBuildResult(defn.name, key, built, defn.lock_path, lock_written=written,
                            seconds=time.monotonic() - start)


def tidy_cache(cache: Path) -> Path:
    """Create the download cache, keeping only ``.deb`` files in it (``sync-out`` also copies
    apt's ``lock`` and ``partial/``, which must not travel into the next tree)."""
    cache.mkdir(parents=True, exist_ok=True)
    for p in cache.iterdir():
        if p.suffix == ".deb" and p.is_file():
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return cache


def _work_root(st: Store) -> Path:
    root = st.cache_dir / "stack-work"
    root.mkdir(parents=True, exist_ok=True)
    return root


@dataclass(frozen=True, slots=True)
class _Based:
    """What the images made from a base need: the bases, valid lock entries, key extras."""

    bases: dict[str, inhouse.Base]
    entries: dict[str, stacklock.ImageLock]
    extra: list[str]
    ctx: inhouse.Context


def _build_in(defn: StackDefinition, inputs: plan.BuildInputs, st: Store, work: Path,
              hooks: str, based: _Based) -> tuple[str, tuple[BuiltImage, ...], stacklock.Lock]:
    made = {s.role: inhouse.make(defn, s, based.bases[s.role], based.entries.get(s.role),
                                 based.ctx) for s in defn.images() if s.base is not None}
    tars: dict[str, Path] = {}
    recipe_of: dict[str, str] = {}
    for rkey, specs in plan.group_recipes(defn, inputs):
        out = work / f"{rkey}.tar"
        label = "+".join(s.role for s in specs) + " image"
        mmdebstrap.run(plan.mmdebstrap_call(defn, specs[0], inputs, out), label)
        tars[rkey] = out
        recipe_of.update({s.role: rkey for s in specs})
    packages: dict[str, dict[str, str]] = {}
    for rkey, path in tars.items():
        with open_rootfs(path) as tree:
            _check_distro(defn, tree)
            status = tree.read_text("var/lib/dpkg/status") or ""
            pkgs = stacklock.parse_dpkg_status(status, inputs.arch)
        for role, r in recipe_of.items():
            if r == rkey:
                packages[role] = pkgs
    new_lock = stacklock.Lock({s.role: made[s.role].lock if s.base is not None else
                               stacklock.ImageLock(s.variant, s.packages, packages[s.role])
                               for s in defn.images()})
    _check_pins(defn, inputs.lock, new_lock, based.entries)
    key = plan.stack_key(defn, new_lock, arch=inputs.arch, epoch=inputs.epoch,
                         hooks_digest=hooks, extra=based.extra)
    layers: dict[str, BlobLayer] = {}
    built = []
    for spec in defn.images():
        if spec.base is not None:
            built.append(_store_based(defn, spec, based.bases[spec.role], made[spec.role],
                                      st, key, inputs.epoch))
            continue
        rkey = recipe_of[spec.role]
        if rkey not in layers:
            layers[rkey] = _layer(tars[rkey], st, inputs.epoch, spec)
        cfg = assemble.image_config(defn, spec, packages[spec.role], key=key,
                                    epoch=inputs.epoch)
        img = assemble.assemble(layers[rkey], assemble.platform_for(inputs.arch), cfg)
        digest = st.put(img, spec.name)
        log.info("stored %s (%s)", spec.name, digest)
        built.append(BuiltImage(spec.role, spec.name, str(digest)))
    return key, tuple(built), new_lock


def _store_based(defn: StackDefinition, spec: ImageSpec, base: inhouse.Base,
                 made: inhouse.Made, st: Store, key: str, epoch: int) -> BuiltImage:
    cfg = base.image.config().config
    inp = assemble.BasedInputs(base.location, base.digest, made.distro, made.packages,
                               made.user, made.summary)
    conf = assemble.based_config(defn, spec, cfg.labels, cfg.user, inp, key=key, epoch=epoch)
    digest = st.put(assemble.assemble_on(base.image, made.layer, conf), spec.name)
    log.info("stored %s (%s)", spec.name, digest)
    return BuiltImage(spec.role, spec.name, str(digest))


def _layer(tar: Path, st: Store, epoch: int, spec: ImageSpec) -> BlobLayer:
    log.info("%s image: writing layer", spec.role)
    counted = _Counted(spec.role)
    with open_rootfs(tar) as tree:
        layer = store_layer(counted.wrap(tree.stream(epoch)), st.layout.blobs)
    log.info("%s image: layer %s, %.1f MB (%.1f MB uncompressed)", spec.role, layer.digest,
             layer.size / 1e6, counted.total / 1e6)
    return layer


class _Counted:
    """Counts the bytes of a tar stream, logging every ``every`` bytes."""

    def __init__(self, role: str, every: int = 128 << 20) -> None:
        self.role, self.every, self.total = role, every, 0

    def wrap(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        mark = self.every
        for p in pieces:
            self.total += len(p)
            if self.total >= mark:
                log.info("%s image: %d MB tarred", self.role, self.total >> 20)
                mark += self.every
            yield p


def _check_distro(defn: StackDefinition, tree: RootfsTar) -> None:
    text = tree.read_text("etc/os-release")
    if text is None:
        log.warning("%s: no /etc/os-release in the image; distro labels come from %s",
                    defn.name, defn.path)
        return
    osr = parse_os_release(text)
    got = (osr.get("ID", ""), osr.get("VERSION_ID", ""))
    distro = defn.debian_distro()
    if got != (distro.name, distro.version):
        raise StackBuildError(f"{defn.path}: distro is {distro.name} "
                              f"{distro.version} but /etc/os-release of the built tree "
                              f"says {got[0]} {got[1]}")


def _check_pins(defn: StackDefinition, old: stacklock.Lock | None,
                new: stacklock.Lock, based: dict[str, stacklock.ImageLock]) -> None:
    """With a matching lock entry the tree must have exactly the locked packages."""
    for spec in defn.images():
        entry = old.get(spec) if old is not None and spec.base is None else \
            based.get(spec.role)
        if entry is None or entry.packages == new.images[spec.role].packages:
            continue
        want, got = set(entry.pins()), set(new.images[spec.role].pins())
        diff = sorted(want - got)[:5] + sorted("+" + p for p in got - want)[:5]
        raise StackBuildError(f"{spec.role} image: installed packages differ from "
                              f"{defn.lock_path} ({', '.join(diff)}); run with --update")


def _write_lock(defn: StackDefinition, old: stacklock.Lock | None,
                new: stacklock.Lock) -> bool:
    if old is not None and old.to_dict() == new.to_dict():
        return False
    try:
        stacklock.dump(defn.lock_path, new)
    except (OSError, LifecycleError) as e:
        log.warning("cannot write %s: %s", defn.lock_path, e)
        return False
    log.info("wrote %s", defn.lock_path)
    return True
