"""``exporter``: the phase program (Platform API 0.15 platform.md "exporter", cnb-digest §3.8).

``exporter [flags] <image> [<image>...]``: reads group.toml, analyzed.toml, ``<layers>/config/
metadata.toml``, run.toml and project-metadata.toml, assembles the app image
(``lifecycle.phases.export``) and writes it to the registry (every ``<image>`` a tag in one
registry) or, with ``-layout``, to ``<layout-dir>``; commits the volume or image cache beside it
and writes report.toml. Failures exit 62 (an unknown ``-process-type`` too); ``-daemon`` is not
supported; ``-launcher`` is accepted but pypack always installs its own launcher.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from lifecycle.api import Version
from lifecycle.cache import Cache, VolumeCache
from lifecycle.cli.common import run_phase
from lifecycle.errors import ExportError, UsageError
from lifecycle.oci.blobs import BlobStore
from lifecycle.oci.reference import Reference
from lifecycle.oci.registry import RegistryClient, default_keychain
from lifecycle.phases.export import ExportInputs
from lifecycle.phases.export_io import (
    LayoutSink,
    RegistrySink,
    Sink,
    check_one_registry,
    run_export,
)
from lifecycle.platform.files import analyzed as analyzed_file
from lifecycle.platform.files import group as group_file
from lifecycle.platform.files import metadata as metadata_file
from lifecycle.platform.files import project_metadata as project_file
from lifecycle.platform.files import run as run_file
from lifecycle.platform.images import Images, LayoutImages, RegistryImages

NAMES = ("log-level", "no-color", "layers", "app", "analyzed", "cache-dir", "cache-image",
         "daemon", "extended", "gid", "uid", "group", "insecure-registry", "launch-cache",
         "launcher", "launcher-sbom", "layout", "layout-dir", "parallel", "process-type",
         "project-metadata", "report", "run", "run-image", "exec-env")

log = logging.getLogger("lifecycle")


def source_date_epoch(environ: Mapping[str, str]) -> int | None:
    """``SOURCE_DATE_EPOCH`` as an int; an invalid value is ignored with a warning."""
    raw = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
        if value < 0:
            raise ValueError
        return value
    except ValueError:
        log.warning("ignoring invalid SOURCE_DATE_EPOCH %r", raw)
        return None


def load_inputs(values: Mapping[str, Any], platform_api: Version,
                environ: Mapping[str, str]) -> ExportInputs:
    """Read the exporter's files into :class:`ExportInputs`."""
    layers = values["layers"]
    if values.get("extended") and Path(values["extended"], "run").exists():
        raise UsageError("exporter: run images extended by image extensions are not supported")
    return ExportInputs(
        layers_dir=layers, app_dir=values["app"],
        group=group_file.load(values["group"]),
        analyzed=analyzed_file.load(values["analyzed"]),
        build_md=metadata_file.load(metadata_file.path_in(layers)),
        platform_api=platform_api,
        run=run_file.load(values["run"], missing_ok=True),
        project=project_file.load(values["project_metadata"]),
        process_type=values["process_type"] or None,
        uid=values["uid"] if values["uid"] is not None else os.getuid(),
        gid=values["gid"] if values["gid"] is not None else os.getgid(),
        exec_env=values.get("exec_env") or "production",
        created=source_date_epoch(environ),
    )


def _refs(positionals: Sequence[str]) -> tuple[Reference, ...]:
    if not positionals:
        raise UsageError("exporter: at least one <image> argument is required")
    refs = tuple(Reference.parse(p) for p in positionals)
    return refs


def open_cache(values: Mapping[str, Any], client: RegistryClient | None) -> Cache | None:
    """The volume cache (``-cache-dir``) or image cache (``-cache-image``), if any."""
    if values["cache_image"]:
        if client is None:
            raise UsageError("-cache-image cannot be used with -layout")
        from lifecycle.cache import ImageCache

        return ImageCache(client, Reference.parse(values["cache_image"]))
    if values["cache_dir"]:
        return VolumeCache(values["cache_dir"])
    return None


@contextlib.contextmanager
def scratch_blobs(values: Mapping[str, Any]) -> Iterator[BlobStore]:
    with tempfile.TemporaryDirectory(prefix="pypack-export-") as tmp:
        yield BlobStore(Path(tmp) / "blobs")


def _body(values: Mapping[str, Any], positionals: list[str], platform_api: Version) -> int:
    if values["daemon"]:
        raise UsageError("exporter: -daemon (CNB_USE_DAEMON) is not supported by pypack; "
                         "export to a registry or use -layout")
    if values["run_image"]:
        raise UsageError("exporter: -run-image is not accepted; the run image comes from "
                         "analyzed.toml")
    refs = _refs(positionals)
    inputs = load_inputs(values, platform_api, os.environ)
    images: Images
    sink: Sink
    client: RegistryClient | None = None
    if values["layout"]:
        if not values["layout_dir"]:
            raise UsageError("-layout needs -layout-dir (CNB_LAYOUT_DIR)")
        images = LayoutImages(values["layout_dir"])
        sink = LayoutSink(values["layout_dir"], refs)
    else:
        check_one_registry(refs)
        client = RegistryClient(default_keychain(os.environ),
                                insecure_registries=values["insecure_registry"])
        images = RegistryImages(client)
        sink = RegistrySink(client, refs)
    cache = open_cache(values, client)
    with scratch_blobs(values) as blobs:
        run_export(inputs, images, sink, cache, blobs, values["report"])
    return 0


def run(argv: Sequence[str]) -> int:
    """Run the exporter with ``argv``; return its exit code."""
    return run_phase("exporter", argv, NAMES, _body)


__all__ = ["ExportError", "load_inputs", "open_cache", "run", "source_date_epoch"]
