"""The exporter's image assembly: run image + launch layers + app + launcher + config.

Platform API 0.15 platform.md "exporter"; cnb-digest §3.8 and §4 (layer order, image config,
labels, reproducibility, layer reuse, cache). :func:`export` turns the build's files (``<layers>``,
``<app>``) into an image value and the cache metadata; the caller writes them to a sink and
commits the cache (``lifecycle.phases.export_io``). Layers are made by
``lifecycle.phases.export_layers.LayerMaker``: unchanged directories are not tarred again.

``layers_path``/``app_path`` are the in-image paths of ``<layers>`` and ``<app>``: the same as
on disk for the ``exporter`` program, the spec paths (``/layers``, ``/workspace``) when
``pypack build`` runs the lifecycle outside the build image.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lifecycle.api import Version
from lifecycle.buildpack import layers as bp_layers
from lifecycle.buildpack.descriptor import escape_id
from lifecycle.cache import CacheMetadata, Fingerprint, layer_key
from lifecycle.errors import ExportError, LifecycleError
from lifecycle.launch.bundle import LAUNCHER_PATH, PROCESS_DIR, launcher_bytes
from lifecycle.oci import mutate
from lifecycle.oci.config import History
from lifecycle.oci.image import Image, ImageValue
from lifecycle.oci.layer import Layer
from lifecycle.oci.tarball import TarOptions, TarWriter, default_mtime, dir_entry, tar_tree
from lifecycle.phases.export_layers import LayerMaker, Made, app_paths
from lifecycle.platform.files import metadata as metadata_file
from lifecycle.platform.files import store as store_file
from lifecycle.platform.files.analyzed import Analyzed
from lifecycle.platform.files.group import Group, GroupEntry
from lifecycle.platform.files.metadata import BuildMetadata
from lifecycle.platform.files.run import Run
from lifecycle.platform.labels import (
    BUILD_METADATA,
    EXEC_ENV,
    LIFECYCLE_METADATA,
    PROJECT_METADATA,
    BuildpackLayersMetadata,
    LayerMetadata,
    LifecycleMetadata,
    RunImageMetadata,
)
from lifecycle.platform.labels_build import (
    BuildMetadata as BuildLabel,
)
from lifecycle.platform.labels_build import (
    BuildpackRef,
    LauncherMetadata,
    ProcessMetadata,
    ProjectMetadata,
)

log = logging.getLogger("lifecycle")

APP_KEY = "pypack:app"
CONFIG_KEY = "pypack:config"
SBOM_KEY = "pypack:sbom"
SBOM_CACHE_KEY = "pypack:sbom-cache"


@dataclass(frozen=True, slots=True)
class ExportInputs:
    """Everything the exporter reads besides images (paths are on disk)."""

    layers_dir: str
    app_dir: str
    group: Group
    analyzed: Analyzed
    build_md: BuildMetadata
    platform_api: Version
    run: Run = field(default_factory=Run)
    project: ProjectMetadata = field(default_factory=ProjectMetadata)
    process_type: str | None = None
    uid: int = 1000
    gid: int = 1000
    exec_env: str = "production"
    created: int | None = None
    layers_path: str | None = None
    app_path: str | None = None

    @property
    def image_layers_path(self) -> str:
        """``<layers>`` in the image."""
        return self.layers_path or os.path.abspath(self.layers_dir)

    @property
    def image_app_path(self) -> str:
        """``<app>`` in the image."""
        return self.app_path or os.path.abspath(self.app_dir)


@dataclass(frozen=True, slots=True)
class Exported:
    """The app image, the lifecycle metadata label, the cache metadata and every layer made."""

    image: ImageValue
    metadata: LifecycleMetadata
    cache_metadata: CacheMetadata
    layers: tuple[Made, ...]


# --- pure parts -------------------------------------------------------------------------------
def entrypoint(build_md: BuildMetadata, process_type: str | None) -> str:
    """The image entrypoint (cnb-digest §4.2); ExportError (62) for an unknown process type."""
    if process_type:
        if build_md.find_process(process_type) is None:
            known = ", ".join(sorted(p.type for p in build_md.processes)) or "none"
            raise ExportError(f"-process-type {process_type!r}: no such process "
                              f"(processes: {known})")
        return f"{PROCESS_DIR}/{process_type}"
    if build_md.buildpack_default_process_type:
        return f"{PROCESS_DIR}/{build_md.buildpack_default_process_type}"
    return LAUNCHER_PATH


def image_env(run_env: Sequence[str], inputs: ExportInputs) -> dict[str, str]:
    """The env entries the exporter sets (RI form, cnb-digest §9 #8)."""
    path = next((e.split("=", 1)[1] for e in run_env if e.startswith("PATH=")), "")
    return {
        "CNB_LAYERS_DIR": inputs.image_layers_path,
        "CNB_APP_DIR": inputs.image_app_path,
        "CNB_PLATFORM_API": str(inputs.platform_api),
        "CNB_DEPRECATION_MODE": "quiet",
        "PATH": ":".join(p for p in (PROCESS_DIR, "/cnb/lifecycle", path) if p),
    }


def run_image_metadata(inputs: ExportInputs, run_image: Image) -> RunImageMetadata:
    """``runImage``: top layer, reference, and the run.toml entry's name and mirrors."""
    ri = inputs.analyzed.run_image
    if ri is None:
        raise ExportError("analyzed.toml has no [run-image]: run the analyzer first")
    layers = run_image.layers()
    top = str(layers[-1].diff_id) if layers else ""
    image = ri.image
    mirrors: tuple[str, ...] = ()
    for entry in inputs.run.images:
        if ri.image in (entry.image, *entry.mirrors) or not image:
            image, mirrors = entry.image, entry.mirrors
            break
    return RunImageMetadata(top_layer=top, reference=ri.reference, image=image or ri.reference,
                            mirrors=tuple(mirrors))


def build_label(build_md: BuildMetadata) -> BuildLabel:
    """``io.buildpacks.build.metadata`` from metadata.toml."""
    from lifecycle import __version__

    procs = tuple(ProcessMetadata(
        type=p.type, command=tuple(p.command), args=tuple(p.args), direct=p.direct,
        working_dir=p.working_dir, buildpack_id=p.buildpack_id, exec_env=tuple(p.exec_env))
        for p in sorted(build_md.processes, key=lambda p: p.type))
    bps = tuple(BuildpackRef(b.id, b.version, b.homepage, b.api) for b in build_md.buildpacks)
    return BuildLabel(processes=procs, buildpacks=bps,
                      launcher=LauncherMetadata(version=__version__,
                                                repository="pypack"),
                      default_process_type=build_md.buildpack_default_process_type)


def history(created: str, text: str) -> History:
    """A history entry for an appended layer."""
    return History(created=created, created_by=text)


def launcher_layer_tar(opts: TarOptions) -> bytes:
    """``/cnb/lifecycle/launcher`` (0755, root) with its parent dirs."""
    import io

    root = TarOptions(uid=0, gid=0, mtime=opts.mtime)
    buf = io.BytesIO()
    w = TarWriter(buf, root)
    w.add_raw([dir_entry("cnb", root), dir_entry("cnb/lifecycle", root)])
    w.add_bytes(LAUNCHER_PATH.lstrip("/"), launcher_bytes(), mode=0o755)
    w.close()
    return buf.getvalue()


def process_layer_tar(types: Sequence[str], opts: TarOptions) -> bytes:
    """``/cnb/process/<type>`` -> launcher symlinks (root owned)."""
    import io

    root = TarOptions(uid=0, gid=0, mtime=opts.mtime)
    buf = io.BytesIO()
    w = TarWriter(buf, root)
    w.add_raw([dir_entry("cnb", root), dir_entry(PROCESS_DIR.lstrip("/"), root)])
    for t in sorted(types):
        w.add_symlink(f"{PROCESS_DIR.lstrip('/')}/{t}", LAUNCHER_PATH)
    w.close()
    return buf.getvalue()


# --- assembly ---------------------------------------------------------------------------------
@dataclass
class _Assembly:
    inputs: ExportInputs
    maker: LayerMaker
    previous: LifecycleMetadata
    created: str
    opts: TarOptions
    layers: list[Layer] = field(default_factory=list)
    hist: list[History] = field(default_factory=list)
    cache_bps: list[BuildpackLayersMetadata] = field(default_factory=list)

    def add(self, made: Made, text: str) -> str:
        if made.layer is not None:
            self.layers.append(made.layer)
            self.hist.append(history(self.created, text))
        return made.diff_id


def _buildpack(a: _Assembly, bp: GroupEntry) -> BuildpackLayersMetadata:
    inputs = a.inputs
    bp_dir = Path(inputs.layers_dir) / escape_id(bp.id)
    in_image = f"{inputs.image_layers_path}/{escape_id(bp.id)}"
    launch: dict[str, LayerMetadata] = {}
    cached: dict[str, LayerMetadata] = {}
    prev = a.previous.buildpack(bp.id)
    for layer in bp_layers.scan(bp_dir):
        t = layer.file.types
        if not (t.launch or t.cache):
            continue
        key = layer_key(bp.id, layer.name)
        text = f"Layer: '{layer.name}', Created by buildpack: {bp.id}@{bp.version}"
        if layer.path.is_dir():
            made = a.maker.from_dir(key, layer.path, f"{in_image}/{layer.name}", a.opts,
                                    image=t.launch, cache=t.cache)
            sha = a.add(made, text)
        elif t.launch:
            sha = _reuse_launch(a, bp.id, layer.name, prev, text)
        else:
            log.warning("layer %s of %s has cache=true but no contents; not cached",
                        layer.name, bp.id)
            continue
        md = LayerMetadata(sha=sha, data=dict(layer.file.metadata), build=t.build,
                           launch=t.launch, cache=t.cache)
        if t.launch:
            launch[layer.name] = md
        if t.cache:
            cached[layer.name] = md
    store = store_file.load(bp_dir / "store.toml")
    store_md = dict(store.metadata) if store is not None else None
    a.cache_bps.append(BuildpackLayersMetadata(bp.id, bp.version, cached, None))
    return BuildpackLayersMetadata(bp.id, bp.version, launch, store_md)


def _reuse_launch(a: _Assembly, bp_id: str, name: str, prev: BuildpackLayersMetadata | None,
                  text: str) -> str:
    old = prev.layers.get(name) if prev is not None else None
    layer = a.maker.reuse.get(old.sha) if old is not None and old.sha else None
    if layer is None or old is None:
        raise ExportError(f"cannot reuse layer {name!r} of {bp_id}: the previous image has "
                          f"no such layer (a launch layer with no directory must exist in the "
                          f"previous image)")
    made = a.maker.from_layer(layer_key(bp_id, name), layer)
    return a.add(made, text)


def _app_layers(a: _Assembly) -> tuple[str, ...]:
    inputs = a.inputs
    app_dir, under = inputs.app_dir, inputs.image_app_path
    shas: list[str] = []
    taken: set[str] = set()
    for i, sl in enumerate(inputs.build_md.slices):
        wanted = set(app_paths(app_dir, sl.paths)) - taken
        taken |= wanted
        keep = wanted | _ancestors(wanted)
        made = a.maker.from_stream(f"{APP_KEY}:slice-{i}",
                                   tar_tree(app_dir, under, a.opts, select=keep.__contains__))
        shas.append(a.add(made, f"Application Slice: {i + 1}"))
    if taken:
        rest = a.maker.from_stream(APP_KEY, tar_tree(app_dir, under, a.opts,
                                                     select=lambda r: r not in taken))
    else:
        rest = a.maker.from_dir(APP_KEY, app_dir, under, a.opts, image=True, cache=False)
    shas.append(a.add(rest, "Application Layer"))
    return tuple(shas)


def _ancestors(paths: set[str]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        for parent in PurePosixPath(p).parents:
            if str(parent) != ".":
                out.add(str(parent))
    return out


def _small(a: _Assembly, key: str, data: bytes, text: str) -> str:
    from lifecycle.oci.digest import Digest

    diff_id = str(Digest.of(data))
    existing = a.maker.reuse.get(diff_id)
    made = (a.maker.from_layer(key, existing) if existing is not None
            else a.maker.from_stream(key, [data]))
    return a.add(made, text)


def export(inputs: ExportInputs, run_image: Image, previous: Image | None,
           maker: LayerMaker) -> Exported:
    """Assemble the app image (cnb-digest §4). ``maker.reuse`` should already hold the
    previous image's and run image's layers by diffID."""
    created_epoch = inputs.created if inputs.created is not None else default_mtime()
    created = mutate.rfc3339(created_epoch)
    opts = TarOptions(uid=inputs.uid, gid=inputs.gid, mtime=created_epoch)
    prev_md = _previous_metadata(inputs.analyzed)
    a = _Assembly(inputs, maker, prev_md, created, opts)
    bps = tuple(_buildpack(a, bp) for bp in inputs.group.group)
    sbom = _sbom_launch(a)
    _sbom_cache(a)
    app = _app_layers(a)
    launcher = _small(a, "pypack:launcher", launcher_layer_tar(opts), "Buildpacks Launcher")
    config_dir = Path(metadata_file.path_in(inputs.layers_dir)).parent
    config = a.add(maker.from_dir(CONFIG_KEY, config_dir,
                                  f"{inputs.image_layers_path}/config", opts,
                                  image=True, cache=False),
                   "Buildpacks Application Launcher Config")
    types = [p.type for p in inputs.build_md.processes]
    ptypes = _small(a, "pypack:process-types", process_layer_tar(types, opts),
                    "Buildpacks Process Types") if types else ""
    run_md = run_image_metadata(inputs, run_image)
    md = LifecycleMetadata(
        app=app, sbom=sbom, config=config, launcher=launcher, process_types=ptypes,
        buildpacks=bps, run_image=run_md,
        stack=RunImageMetadata(image=run_md.image, mirrors=run_md.mirrors),
        exec_env=inputs.exec_env)
    img = _configure(mutate.append_layers(run_image, a.layers, history=a.hist), inputs, md,
                     created_epoch)
    sbom_cache = maker.fingerprints.get(SBOM_CACHE_KEY)
    cache_md = CacheMetadata(sbom=sbom_cache.sha if sbom_cache else None,
                             buildpacks=tuple(a.cache_bps),
                             fingerprints=dict(maker.fingerprints))
    return Exported(img, md, cache_md, tuple(maker.made))


def _previous_metadata(analyzed: Analyzed) -> LifecycleMetadata:
    if not analyzed.metadata:
        return LifecycleMetadata()
    try:
        return LifecycleMetadata.from_toml(analyzed.metadata)
    except LifecycleError as e:  # a bad label only loses reuse, as in Go
        log.warning("ignoring the previous image's metadata in analyzed.toml: %s", e)
        return LifecycleMetadata()


def _sbom_launch(a: _Assembly) -> str | None:
    src = Path(a.inputs.layers_dir) / "sbom" / "launch"
    if not src.is_dir():
        return None
    made = a.maker.from_dir(SBOM_KEY, src, f"{a.inputs.image_layers_path}/sbom/launch",
                            a.opts, image=True, cache=False)
    return a.add(made, "Software Bill-of-Materials")


def _sbom_cache(a: _Assembly) -> None:
    src = Path(a.inputs.layers_dir) / "sbom" / "cache"
    if src.is_dir() and a.maker.cache is not None:
        a.maker.from_dir(SBOM_CACHE_KEY, src, f"{a.inputs.image_layers_path}/sbom/cache",
                         a.opts, image=False, cache=True)


def _configure(img: Image, inputs: ExportInputs, md: LifecycleMetadata,
               created: int) -> ImageValue:
    run = img.config().config
    labels: dict[str, str] = {
        LIFECYCLE_METADATA: md.to_json(),
        BUILD_METADATA: build_label(inputs.build_md).to_json(),
        PROJECT_METADATA: inputs.project.to_json(),
        EXEC_ENV: inputs.exec_env,
    }
    for label in inputs.build_md.labels:
        labels[label.key] = label.value
    out = mutate.with_labels(img, labels)
    out = mutate.with_env(out, image_env(run.env or (), inputs))
    out = mutate.with_entrypoint(out, [entrypoint(inputs.build_md, inputs.process_type)])
    out = mutate.with_cmd(out, [])
    out = mutate.with_workdir(out, inputs.image_app_path)
    return mutate.with_created(out, created)


def reuse_map(*images: Image | None) -> dict[str, Layer]:
    """Layers by diffID of the given images (earlier images win)."""
    out: dict[str, Layer] = {}
    for img in images:
        if img is None:
            continue
        for layer in img.layers():
            out.setdefault(str(layer.diff_id), layer)
    return out


def recorded_fingerprints(cache_md: CacheMetadata,
                          restored: Mapping[str, Fingerprint]) -> dict[str, Fingerprint]:
    """What the maker may trust: the last export's fingerprints, then the restorer's."""
    return {**cache_md.fingerprints, **restored}


def summary(made: Sequence[Made]) -> dict[str, Any]:
    """Counts and bytes per status, for logs and benchmarks."""
    out: dict[str, Any] = {"added": 0, "reused": 0, "cached": 0, "tarred": 0, "bytes_added": 0}
    for m in made:
        out[m.status] += 1
        out["tarred"] += int(m.tarred)
        if m.status == "added":
            out["bytes_added"] += m.size
    return out
