"""Fixtures for the restore tests: a build #1 that made one layer of each types combination."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass

from lifecycle.cache import CacheMetadata
from lifecycle.platform.labels import BuildpackLayersMetadata, LayerMetadata, LifecycleMetadata

BP_ID = "example/node"
BP_DIR = "example_node"
COMBOS: list[tuple[bool, bool, bool]] = [
    (b, c, la) for b in (True, False) for c in (True, False) for la in (True, False)]
"""(build, cache, launch) in the order of the spec table (TTT, TTF, TFT, ... FFF)."""


def layer_name(build: bool, cache: bool, launch: bool) -> str:
    return f"b{int(build)}c{int(cache)}l{int(launch)}"


def make_tar(entries: dict[str, bytes | None], symlinks: dict[str, str] | None = None) -> bytes:
    """A tar: names ending in '/' (or with None data) are dirs, others files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in entries.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tf.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    return buf.getvalue()


def layer_tar(bp_dir: str, name: str, root: str = "/layers") -> bytes:
    r = root.strip("/")
    return make_tar({f"{r}/": None, f"{r}/{bp_dir}/": None, f"{r}/{bp_dir}/{name}/": None,
                     f"{r}/{bp_dir}/{name}/content.txt": name.encode()})


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Build1:
    """What build #1 left: the image label, the cache metadata and the cached tars."""

    image: LifecycleMetadata
    cache: CacheMetadata
    tars: dict[str, bytes]


def build1(store: dict[str, object] | None = None) -> Build1:
    launch_layers: dict[str, LayerMetadata] = {}
    cache_layers: dict[str, LayerMetadata] = {}
    tars: dict[str, bytes] = {}
    for build, cache, launch in COMBOS:
        name = layer_name(build, cache, launch)
        tars[name] = layer_tar(BP_DIR, name)
        md = LayerMetadata(sha(tars[name]), {"row": name}, build, launch, cache)
        if launch:
            launch_layers[name] = md
        if cache:
            cache_layers[name] = md
    image = LifecycleMetadata(buildpacks=(
        BuildpackLayersMetadata(BP_ID, "1.0", launch_layers, store),))
    cache_md = CacheMetadata(buildpacks=(BuildpackLayersMetadata(BP_ID, "1.0", cache_layers),))
    return Build1(image, cache_md, tars)
