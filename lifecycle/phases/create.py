"""The creator: analyze → detect → restore → build → export in one process.

Platform API 0.15 platform.md "creator" (cnb-digest §3.9, §9 #9 for the order). Every phase
still writes its spec file (analyzed.toml, group.toml, plan.toml, metadata.toml, report.toml),
so a platform can inspect a build the same way as a phase-by-phase one. Images are opened
through an ``Images`` (registry, layout or pypack's local store) and written to a ``Sink``;
buildpack programs run through a ``Runner`` (host, or a sandbox for ``pypack build``).
Each phase's wall time is logged and returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from lifecycle.api import Version
from lifecycle.cache import Cache
from lifecycle.errors import AnalyzeError, LifecycleError
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.image import Image
from lifecycle.oci.image import digest as image_digest
from lifecycle.oci.reference import Reference
from lifecycle.phases.analyze import FetchedImage, build_analyzed, choose_run_image
from lifecycle.phases.build import BuildInputs, build
from lifecycle.phases.detect import DetectorInputs, detect
from lifecycle.phases.export import ExportInputs
from lifecycle.phases.export_io import Finished, Sink, run_export
from lifecycle.phases.restore_run import RestoreInputs, restore_layers
from lifecycle.platform.files import analyzed as analyzed_file
from lifecycle.platform.files import group as group_file
from lifecycle.platform.files import metadata as metadata_file
from lifecycle.platform.files import plan as plan_file
from lifecycle.platform.files import project_metadata as project_file
from lifecycle.platform.files.analyzed import Analyzed
from lifecycle.platform.files.run import Run
from lifecycle.platform.images import Images
from lifecycle.sandbox import OutputSink, Runner

log = logging.getLogger("lifecycle")

DigestRef = Callable[[str, Image], str]
"""How an image found under a name is recorded in analyzed.toml (registry: ``repo@digest``)."""


def registry_digest_ref(name: str, img: Image) -> str:
    """``<registry>/<repo>@<digest>``: the spec's run-image/previous-image reference."""
    return f"{Reference.parse(name).name}@{image_digest(img)}"


@dataclass(frozen=True, slots=True)
class CreateInputs:
    """The union of the phases' inputs (paths on disk; ``*_path`` are in-image paths)."""

    app_dir: str
    layers_dir: str
    platform_dir: str
    buildpacks_dir: str
    order_path: str
    image: str
    platform_api: Version
    run: Run = field(default_factory=Run)
    run_image: str | None = None
    previous_image: str | None = None
    system_path: str | None = None
    process_type: str | None = None
    skip_restore: bool = False
    uid: int = 1000
    gid: int = 1000
    exec_env: str = "production"
    created: int | None = None
    project_metadata_path: str | None = None
    report_path: str | None = None
    layers_path: str | None = None
    app_path: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    warm_layers: bool = False
    """``<layers>`` holds the last build's layer directories (pypack build; see
    ``lifecycle.phases.warm_layers``)."""


@dataclass
class Timings:
    """Seconds per phase, in order."""

    phases: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as phase ``name`` and log its start and duration."""
        log.info("===> %s", name.upper())
        start = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = time.monotonic() - start
            log.debug("%s took %.2fs", name, self.phases[name])


def analyze_images(inputs: CreateInputs, images: Images, digest_ref: DigestRef) -> Analyzed:
    """The analyzer over any image source: previous image (missing is fine) and run image."""
    prev_name = inputs.previous_image or inputs.image
    previous = images.find(prev_name)
    if previous is None:
        log.info("Previous image %s not found", prev_name)
    run_name = inputs.run_image or _choose_run(inputs, images)
    try:
        run_img = images.open(run_name)
    except LifecycleError as e:
        raise AnalyzeError(f"cannot read run image {run_name}: {e}") from e
    prev = None if previous is None else FetchedImage(digest_ref(prev_name, previous),
                                                       previous.config())
    return build_analyzed(prev, run_name, FetchedImage(digest_ref(run_name, run_img),
                                                       run_img.config()))


def _choose_run(inputs: CreateInputs, images: Images) -> str:
    names = [n for e in inputs.run.images for n in e.names()]
    if not names:
        raise AnalyzeError("no run image: none given and run.toml lists none")
    try:
        registry = Reference.parse(inputs.image).registry
    except LifecycleError:
        registry = ""
    chosen = choose_run_image(inputs.run, registry, lambda n: images.find(n) is not None)
    if chosen is None:
        raise AnalyzeError(f"run image {names[0]} not found (tried {', '.join(names)})")
    return chosen


def create(inputs: CreateInputs, images: Images, sink: Sink, cache: Cache | None,
           blobs: BlobStore, *, runner: Runner | None = None, on_output: OutputSink | None = None,
           digest_ref: DigestRef = registry_digest_ref,
           timings: Timings | None = None) -> Finished:
    """Run the five phases; return what the exporter wrote."""
    t = timings if timings is not None else Timings()
    layers = inputs.layers_dir
    analyzed_path = f"{layers}/analyzed.toml"
    with t.phase("analyzing"):
        analyzed = analyze_images(inputs, images, digest_ref)
        analyzed_file.dump(analyzed_path, analyzed)
    with t.phase("detecting"):
        result = detect(DetectorInputs(
            app_dir=inputs.app_dir, buildpacks_dir=inputs.buildpacks_dir,
            platform_dir=inputs.platform_dir, order_path=inputs.order_path,
            system_path=inputs.system_path, analyzed_path=analyzed_path,
            exec_env=inputs.exec_env, platform_api=inputs.platform_api,
            environ=inputs.environ), runner)
        group_file.dump(f"{layers}/group.toml", result.group)
        plan_file.dump(f"{layers}/plan.toml", result.plan)
    with t.phase("restoring"):
        restore_layers(RestoreInputs(layers_dir=layers, group=result.group, analyzed=analyzed,
                                     run=inputs.run, skip_layers=inputs.skip_restore,
                                     exec_env=inputs.exec_env), cache, warm=inputs.warm_layers)
    with t.phase("building"):
        md = build(result.group, result.plan, BuildInputs(
            app_dir=inputs.app_dir, layers_dir=layers, platform_dir=inputs.platform_dir,
            buildpacks_dir=inputs.buildpacks_dir, analyzed_path=analyzed_path,
            exec_env=inputs.exec_env, environ=dict(inputs.environ)), runner, on_output)
        metadata_file.dump(metadata_file.path_in(layers), md)
    with t.phase("exporting"):
        project = project_file.load(inputs.project_metadata_path or
                                    f"{layers}/project-metadata.toml")
        export_inputs = ExportInputs(
            layers_dir=layers, app_dir=inputs.app_dir, group=result.group, analyzed=analyzed,
            build_md=md, platform_api=inputs.platform_api, run=inputs.run, project=project,
            process_type=inputs.process_type, uid=inputs.uid, gid=inputs.gid,
            exec_env=inputs.exec_env, created=inputs.created, layers_path=inputs.layers_path,
            app_path=inputs.app_path)
        return run_export(export_inputs, images, sink, cache, blobs,
                          inputs.report_path or f"{layers}/report.toml")
