"""The default builder, made on demand in the local store and remade only when its inputs change.

Issue 6. ``pypack build --builder default`` uses ``pypack/default-builder``, made from the shipped
``stacks/default/builder.toml`` (the default stack is built first if the store lacks its images).
Making it is reproducible, so it could be remade on every build; it is not, because that costs
tens of milliseconds of a no-op rebuild. Instead a *key* is recorded next to the store's images:
a sha256 over pypack's version, the stat fingerprint (path, size, mtime, mode) of every file of the
``lifecycle`` package and of the shipped buildpacks and stacks (the builder holds the lifecycle
and the buildpacks), and the digests of the stack images. While the key and the builder's digest
in the store are unchanged the stored builder is used; any edit, upgrade or stack rebuild remakes
it (then to the same digest when only mtimes changed).

``plan_key`` is pure; ``ensure`` is the edge.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import lifecycle
from lifecycle.client import Context
from lifecycle.fsutil import atomic_write
from lifecycle.oci.image import ImageValue
from lifecycle.store import normalize

log = logging.getLogger("lifecycle")

IMAGE = "pypack/default-builder"
STACK_IMAGES = ("pypack/default-build", "pypack/default-run")
KEY_FORMAT = "1"
KEY_FILE = "default-builder.json"
"""Under ``<store>/builders/``: ``{"key": ..., "digest": ...}`` of the last builder made."""


def fingerprint(roots: Iterable[Path]) -> list[tuple[str, int, int, int]]:
    """(path, size, mtime_ns, mode) of every file under ``roots`` (symlinks followed,
    ``__pycache__`` skipped), sorted."""
    out: list[tuple[str, int, int, int]] = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except FileNotFoundError:  # a dangling link
                    continue
                out.append((path, st.st_size, st.st_mtime_ns, st.st_mode))
    return sorted(out)


def plan_key(version: str, files: Iterable[tuple[str, int, int, int]],
             stack_digests: Mapping[str, str]) -> str:
    """The key of a default builder made from these inputs (pure)."""
    doc = {"format": KEY_FORMAT, "version": version, "files": list(files),
           "stacks": dict(sorted(stack_digests.items()))}
    return hashlib.sha256(json.dumps(doc, separators=(",", ":")).encode()).hexdigest()


def current_key(ctx: Context) -> str:
    """The key for this installation and store."""
    package = Path(lifecycle.__file__).resolve().parent
    digests = {e.name: str(e.digest) for e in ctx.store.list()}
    stacks = {n: digests.get(normalize(n), "") for n in STACK_IMAGES}
    return plan_key(lifecycle.__version__, fingerprint([package]), stacks)


def _recorded(ctx: Context) -> dict[str, str]:
    try:
        doc = json.loads((ctx.store.root / "builders" / KEY_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def build_default_stack(stack_dir: Path, ctx: Context) -> None:
    """``pypack stack build default``, from its lock; when that fails (a Debian point release
    or security update removes locked versions from the mirror), again with the mirror's
    current versions, so a first ``pypack build`` still works. The shipped lock is left as it
    is; the images then differ from it (``pypack stack build default --update`` records them)."""
    from lifecycle.errors import StackBuildError
    from lifecycle.stack.build import StackBuildOptions
    from lifecycle.stack.build import build as build_stack

    try:
        build_stack(StackBuildOptions(str(stack_dir)), ctx.store)
    except StackBuildError as e:
        log.warning("warning: the default stack did not build from its lock (%s); building it "
                    "from the mirror's current package versions instead",
                    str(e).splitlines()[0])
        build_stack(StackBuildOptions(str(stack_dir), update=True, write_lock=False), ctx.store)


def ensure(ctx: Context) -> ImageValue:
    """The default builder from the store, made (or remade) first when its key changed."""
    from lifecycle.resources import default_builder_config

    config = default_builder_config()
    if not all(ctx.store.has(n) for n in STACK_IMAGES):
        log.info("The default stack is not built yet: building it now (first use only; "
                 "a few minutes)")
        build_default_stack(config.parent, ctx)
    key = current_key(ctx)
    seen = _recorded(ctx)
    if seen.get("key") == key and ctx.store.has(IMAGE):
        img = ctx.store.image(IMAGE)
        if str(img.digest()) == seen.get("digest"):
            return img
    from lifecycle.builder.create import CreateOptions, create_builder

    level = log.level
    log.setLevel(max(level, logging.WARNING) if level <= logging.INFO else level)
    try:
        result = create_builder(CreateOptions(IMAGE, str(config)), ctx)
    finally:
        log.setLevel(level)
    atomic_write(ctx.store.root / "builders" / KEY_FILE,
                 json.dumps({"key": key, "digest": str(result.digest)}).encode())
    return ctx.store.image(IMAGE)
