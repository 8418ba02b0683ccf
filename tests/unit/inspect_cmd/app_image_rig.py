"""Small app images shaped like the exporter's: a random run image, buildpack, SBOM, app,
launcher and config layers, and the three buildpacks labels as ``lifecycle.phases.export``
writes them (``io.buildpacks.lifecycle.metadata``, ``build.metadata``, ``project.metadata``)."""

from __future__ import annotations

from collections.abc import Mapping

from lifecycle.oci import mutate
from lifecycle.oci.digest import Digest
from lifecycle.oci.fixtures import layer_from_files, random_image
from lifecycle.oci.image import ImageValue
from lifecycle.platform import labels as lb
from lifecycle.platform.labels import (
    BuildpackLayersMetadata,
    LayerMetadata,
    LifecycleMetadata,
    RunImageMetadata,
)
from lifecycle.platform.labels_build import (
    BuildMetadata,
    BuildpackRef,
    LauncherMetadata,
    ProcessMetadata,
    ProjectMetadata,
    ProjectSource,
)

RUN_IMAGE = "registry.example.com/acme/run:1"
RUN_MIRRORS = ("127.0.0.1:5000/acme/run:1", "mirror.example.org/acme/run:1")
BP_ID = "test/sbom"
DEPS_CDX = b'{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [{"name": "dep"}]}'
LAUNCH_CDX = b'{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": []}'
SBOM_FILES = {
    "layers/sbom/launch/test_sbom/deps/sbom.cdx.json": DEPS_CDX,
    "layers/sbom/launch/test_sbom/sbom.cdx.json": LAUNCH_CDX,
}


def run_image(seed: int = 7) -> ImageValue:
    """A run image with base labels and a stack id."""
    img = random_image(2, seed=seed)
    return mutate.with_labels(img, {"io.buildpacks.base.distro.name": "debian",
                                    "io.buildpacks.base.distro.version": "12",
                                    lb.STACK_ID: "io.pypack.test"})


def app_image(*, sbom: Mapping[str, bytes] | None = SBOM_FILES,
              extra_labels: Mapping[str, str] | None = None,
              sbom_sha: str | None = None) -> tuple[ImageValue, ImageValue]:
    """``(app, run)``: an app image on :func:`run_image`; ``sbom=None`` leaves out the SBOM
    layer; ``sbom_sha`` overrides the label's SBOM diffID."""
    run = run_image()
    deps = layer_from_files({"layers/test_sbom/deps/lib/dep.txt": b"dependency\n"})
    layers = [deps]
    sbom_layer = layer_from_files(dict(sbom)) if sbom is not None else None
    if sbom_layer is not None:
        layers.append(sbom_layer)
    app = layer_from_files({"workspace/app.py": b"print('hi')\n"})
    launcher = layer_from_files({"cnb/lifecycle/launcher": b"#!/usr/bin/env python3\n"})
    config = layer_from_files({"layers/config/metadata.toml": b"[[processes]]\n"})
    layers += [app, launcher, config]
    md = LifecycleMetadata(
        app=(str(app.diff_id),),
        sbom=sbom_sha or (str(sbom_layer.diff_id) if sbom_layer is not None else None),
        config=str(config.diff_id), launcher=str(launcher.diff_id),
        buildpacks=(BuildpackLayersMetadata(BP_ID, "0.1.0", {
            "deps": LayerMetadata(sha=str(deps.diff_id), data={"key": "v1"}, launch=True,
                                  cache=True)}),),
        run_image=RunImageMetadata(top_layer=str(run.layers()[-1].diff_id),
                                   reference=str(Digest.of(run.raw_manifest())),
                                   image=RUN_IMAGE, mirrors=RUN_MIRRORS),
        stack=RunImageMetadata(image=RUN_IMAGE, mirrors=RUN_MIRRORS), exec_env="production")
    build = BuildMetadata(
        processes=(
            ProcessMetadata("web", ("python3", "app.py"), args=("--port", "8080"),
                            buildpack_id=BP_ID),
            ProcessMetadata("worker", ("echo work",), direct=False, working_dir="/srv",
                            buildpack_id=BP_ID),
        ),
        buildpacks=(BuildpackRef(BP_ID, "0.1.0", homepage="https://example.com/sbom",
                                 api="0.12"),),
        launcher=LauncherMetadata("0.1.0", "https://github.com/example/pypack", "abc123"))
    project = ProjectMetadata(ProjectSource(
        type="git", version={"commit": "0123abcd"},
        metadata={"repository": "https://example.com/app.git", "refs": ["main"]}))
    img = mutate.append_layers(run, layers)
    img = mutate.with_labels(img, {lb.LIFECYCLE_METADATA: md.to_json(),
                                   lb.BUILD_METADATA: build.to_json(),
                                   lb.PROJECT_METADATA: project.to_json(),
                                   **(extra_labels or {})})
    img = mutate.with_env(img, {"CNB_PLATFORM_API": "0.15"})
    img = mutate.with_entrypoint(img, ["/cnb/process/web"])
    img = mutate.with_cmd(img, [])
    return mutate.with_workdir(img, "/workspace"), run
