"""``creator``: all five phases in one process (Platform API 0.15 platform.md "creator").

``creator [flags] <image>``: the union of the analyzer's, detector's, restorer's, builder's and
exporter's flags plus ``-previous-image``, ``-run-image``, ``-skip-restore`` and ``-tag``. Images
live in registries (every output a tag in one registry) or, with ``-layout``, in
``<layout-dir>``. Buildpack programs run directly (the platform runs the creator inside the
builder). Exit codes are those of the phase that failed (2x, 3x, 4x, 5x, 6x).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lifecycle.api import Version
from lifecycle.cli.common import run_phase
from lifecycle.cli.phase_exporter import open_cache, scratch_blobs, source_date_epoch
from lifecycle.errors import UsageError
from lifecycle.oci.reference import Reference
from lifecycle.oci.registry import RegistryClient, default_keychain
from lifecycle.phases.create import CreateInputs, create, registry_digest_ref
from lifecycle.phases.export_io import LayoutSink, RegistrySink, Sink, check_one_registry
from lifecycle.platform.files import run as run_file
from lifecycle.platform.files.run import Run
from lifecycle.platform.images import Images, LayoutImages, RegistryImages

NAMES = ("log-level", "no-color", "app", "layers", "platform", "buildpacks", "extensions",
         "build-config", "generated", "group", "plan", "order", "system", "analyzed", "report",
         "project-metadata", "run", "exec-env", "uid", "gid", "cache-dir", "cache-image",
         "launch-cache", "previous-image", "run-image", "tag", "skip-restore", "process-type",
         "launcher", "launcher-sbom", "layout", "layout-dir", "insecure-registry", "parallel",
         "daemon", "extended")


def _stdout(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def _image(positionals: Sequence[str]) -> str:
    if len(positionals) != 1:
        got = "none" if not positionals else " ".join(positionals)
        raise UsageError(f"creator: exactly one <image> argument is required (got {got})")
    return positionals[0]


def _inputs(values: Mapping[str, Any], image: str, platform_api: Version) -> CreateInputs:
    if "/" in values["exec_env"]:
        raise UsageError(f"-exec-env: {values['exec_env']!r} must not contain '/'")
    return CreateInputs(
        app_dir=values["app"], layers_dir=values["layers"], platform_dir=values["platform"],
        buildpacks_dir=values["buildpacks"], order_path=values["order"], image=image,
        platform_api=platform_api,
        run=Run() if values["run_image"] else run_file.load(values["run"], missing_ok=True),
        run_image=values["run_image"] or None, previous_image=values["previous_image"] or None,
        system_path=values["system"], process_type=values["process_type"] or None,
        skip_restore=values["skip_restore"],
        uid=values["uid"] if values["uid"] is not None else os.getuid(),
        gid=values["gid"] if values["gid"] is not None else os.getgid(),
        exec_env=values["exec_env"], created=source_date_epoch(os.environ),
        project_metadata_path=values["project_metadata"], report_path=values["report"],
        environ=dict(os.environ))


def _body(values: Mapping[str, Any], positionals: list[str], platform_api: Version) -> int:
    if values["daemon"]:
        raise UsageError("creator: -daemon (CNB_USE_DAEMON) is not supported by pypack")
    image = _image(positionals)
    refs = tuple(Reference.parse(n) for n in (image, *values["tag"]))
    inputs = _inputs(values, image, platform_api)
    Path(inputs.layers_dir).mkdir(parents=True, exist_ok=True)
    images: Images
    sink: Sink
    client: RegistryClient | None = None
    if values["layout"]:
        if not values["layout_dir"]:
            raise UsageError("-layout needs -layout-dir (CNB_LAYOUT_DIR)")
        images, sink = LayoutImages(values["layout_dir"]), LayoutSink(values["layout_dir"], refs)
    else:
        check_one_registry(refs)
        client = RegistryClient(default_keychain(os.environ),
                                insecure_registries=values["insecure_registry"])
        images, sink = RegistryImages(client), RegistrySink(client, refs)
    cache = open_cache(values, client)
    # in a layout, images are found by name (their tag path), not by a registry digest reference
    digest_ref = (lambda name, _img: name) if values["layout"] else registry_digest_ref
    with scratch_blobs(values) as blobs:
        create(inputs, images, sink, cache, blobs, on_output=_stdout, digest_ref=digest_ref)
    return 0


def run(argv: Sequence[str]) -> int:
    """Run the creator with ``argv``; return its exit code."""
    return run_phase("creator", argv, NAMES, _body)
