"""Where a buildpackage comes from: a registry reference (``docker://REF`` or a bare reference),
an OCI layout (``oci:DIR[:TAG]``), pypack's local store (``store:NAME``, or a bare name the store
holds), a docker-archive, or a ``.cnb`` file (distribution.md "Buildpackage": registry, daemon or
``.cnb``; pypack's store plays the daemon's part).

:func:`classify` tells a buildpackage reference from a buildpack directory or archive without
I/O beyond ``stat`` and a store lookup; :func:`open_package` opens the image. A ``.cnb`` file is
copied into a scratch OCI layout the caller keeps alive while it uses the image.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from lifecycle import client
from lifecycle.buildpackage import cnbfile
from lifecycle.errors import ImageError, LifecycleError
from lifecycle.oci.image import Image
from lifecycle.oci.platform import Platform

IMAGE_PREFIXES = ("docker://", "oci:", "oci-layout:", "store:", "docker-archive:")
"""References with these prefixes always name a buildpackage image."""

Kind = Literal["directory", "archive", "cnb", "image", "unknown"]

_ARCHIVES = (".tgz", ".tar.gz", ".tar")


def classify(ref: str, base: Path | None = None,
             ctx: client.Context | None = None) -> Kind:
    """What ``ref`` names: a buildpack ``directory``, a buildpack ``archive`` (.tgz/.tar), a
    ``cnb`` file, a buildpackage ``image``, or ``unknown``. Relative paths are looked up under
    ``base`` (default: the working directory); a bare reference counts as an image when it
    names a registry host, a tag or a digest, or (given ``ctx``) the local store holds it."""
    if ref.startswith(IMAGE_PREFIXES):
        return "image"
    path = local_path(ref, base)
    if path is not None and path.name.endswith(cnbfile.EXTENSION) and not path.is_dir():
        return "cnb"
    if path is not None and path.exists():
        if path.is_dir():
            return "directory"
        if path.name.endswith(cnbfile.EXTENSION):
            return "cnb"
        if path.name.endswith(_ARCHIVES):
            return "archive"
        return "cnb"  # any other file: a .cnb under another name, checked when read
    if ctx is not None and _in_store(ref, ctx):
        return "image"
    return "image" if looks_like_image(ref) else "unknown"


def local_path(ref: str, base: Path | None = None) -> Path | None:
    """The file a reference names (``file://`` URIs and paths), or None for URIs."""
    if ref.startswith("file://"):
        return Path(ref[len("file://"):])
    if "://" in ref or ref.startswith("urn:"):
        return None
    return Path(ref) if os.path.isabs(ref) else (base or Path.cwd()) / ref


def looks_like_image(ref: str) -> bool:
    """True for a reference that can only be an image: a registry host (``a.b/...``,
    ``host:port/...``, ``localhost/...``), a tag or a digest."""
    if "@sha256:" in ref:
        return True
    first, slash, rest = ref.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return True
    return ":" in (rest if slash else first)


def _in_store(ref: str, ctx: client.Context) -> bool:
    try:
        return ctx.store.has(ref)
    except LifecycleError:
        return False


def open_package(ref: str, ctx: client.Context, scratch: Path,
                 platform: Platform | None = None, base: Path | None = None) -> Image:
    """The buildpackage image ``ref`` names (see the module docstring); ``scratch`` holds a
    ``.cnb`` file's blobs. ImageError names the reference."""
    kind = classify(ref, base)
    try:
        if kind == "cnb":
            path = local_path(ref, base)
            assert path is not None
            return cnbfile.read(path, scratch, platform)
        if kind in ("directory", "archive"):
            raise ImageError(f"{ref}: a buildpack {kind}, not a buildpackage")
        location = ref[len("docker://"):] if ref.startswith("docker://") else ref
        return client.open_image(location, ctx, platform or Platform.host())
    except ImageError as e:
        if ref in str(e):
            raise
        raise ImageError(f"buildpackage {ref}: {e}") from e
