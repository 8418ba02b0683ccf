"""``analyzer``: the phase program (Platform API 0.15 platform.md "analyzer", cnb-digest §3.3).

``analyzer [flags] <image>``. Flags and their ``CNB_*`` variables come from
``lifecycle.platform.inputs``; ``lifecycle.cli.common.run_phase`` checks the platform API (exit
11), maps errors to exit codes (3 bad arguments or references, 30 analyze errors) and logs.
The body checks the references, loads ``run.toml`` when no ``-run-image`` is given, runs
``lifecycle.phases.analyze.analyze`` against the registries and writes ``analyzed.toml``
atomically. With ``-layout`` the images come from ``<layout-dir>``. Reading images from a Docker
daemon is not supported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from lifecycle.api import Version
from lifecycle.cli.common import run_phase
from lifecycle.errors import AnalyzeError, UsageError
from lifecycle.oci.registry import RegistryClient, default_keychain
from lifecycle.phases.analyze import AnalyzeRequest, analyze, make_request
from lifecycle.platform.files import analyzed as analyzed_file
from lifecycle.platform.files import run as run_file
from lifecycle.platform.files.analyzed import Analyzed
from lifecycle.platform.files.run import Run

NAMES = ("log-level", "no-color", "layers", "analyzed", "cache-image", "daemon", "gid", "uid",
         "insecure-registry", "launch-cache", "layout", "layout-dir", "previous-image", "run",
         "run-image", "skip-layers", "tag")
"""The analyzer's inputs, ``layers`` before the paths that default below it."""

log = logging.getLogger("lifecycle")


def _check_mode(values: Mapping[str, Any]) -> None:
    if values["daemon"]:
        raise UsageError("analyzer: -daemon (CNB_USE_DAEMON) is not supported by pypack; "
                         "analyze images in a registry")
    if values["launch_cache"]:
        log.warning("-launch-cache is only used with -daemon; ignoring it")
    if values["layout"] and not values["layout_dir"]:
        raise UsageError("analyzer: -layout needs -layout-dir (CNB_LAYOUT_DIR)")


def _image(positionals: Sequence[str]) -> str:
    if len(positionals) != 1:
        got = "none" if not positionals else " ".join(positionals)
        raise UsageError(f"analyzer: exactly one <image> argument is required (got {got})")
    return positionals[0]


def _run_toml(values: Mapping[str, Any]) -> Run:
    if values["run_image"]:
        return Run()
    return run_file.load(values["run"], missing_ok=True)


def _request(values: Mapping[str, Any], positionals: Sequence[str]) -> AnalyzeRequest:
    image = _image(positionals)
    return make_request(
        image, tags=values["tag"], previous_image=values["previous_image"] or None,
        run_image=values["run_image"] or None, cache_image=values["cache_image"] or None,
        run=_run_toml(values), run_path=values["run"])


def _analyze_layout(values: Mapping[str, Any], positionals: Sequence[str],
                    platform_api: Version) -> Analyzed:
    """``-layout``: previous and run image from ``<layout-dir>`` (platform.md "Map an image
    reference to a path in the layout directory"); references are recorded as given."""
    from lifecycle.phases.create import CreateInputs, analyze_images
    from lifecycle.platform.images import LayoutImages

    inputs = CreateInputs(app_dir="", layers_dir=values["layers"], platform_dir="",
                          buildpacks_dir="", order_path="", image=_image(positionals),
                          platform_api=platform_api, run=_run_toml(values),
                          run_image=values["run_image"] or None,
                          previous_image=values["previous_image"] or None)
    return analyze_images(inputs, LayoutImages(values["layout_dir"]), lambda name, _img: name)


def _body(values: Mapping[str, Any], positionals: list[str], platform_api: Version) -> int:
    _check_mode(values)
    if values["layout"]:
        result = _analyze_layout(values, positionals, platform_api)
    else:
        req = _request(values, positionals)
        client = RegistryClient(default_keychain(os.environ),
                                insecure_registries=values["insecure_registry"])
        result = analyze(client, req)
    path = values["analyzed"]
    try:
        analyzed_file.dump(path, result)
    except OSError as e:
        raise AnalyzeError(f"cannot write {path}: {e.strerror or e}") from e
    return 0


def run(argv: Sequence[str]) -> int:
    """Run the analyzer with ``argv`` (flags and ``<image>``); return its exit code."""
    return run_phase("analyzer", argv, NAMES, _body)
