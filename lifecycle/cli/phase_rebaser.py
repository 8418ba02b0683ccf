"""``rebaser``: the phase program (Platform API 0.15 platform.md "rebaser"; cnb-digest §3.10, §5).

``rebaser [flags] <image> [<image>...]``. Flags and their ``CNB_*`` variables come from
``lifecycle.platform.inputs``; ``lifecycle.cli.common.run_phase`` checks the platform API
(exit 11), maps errors to exit codes (3 bad usage, 72 rebase failed) and logs. The body runs
``lifecycle.phases.rebase.rebase`` and writes ``report.toml`` atomically. ``-uid``/``-gid`` are
accepted and unused (nothing is written as that user); ``-daemon`` is not supported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from lifecycle.api import Version
from lifecycle.cli.common import run_phase
from lifecycle.errors import RebaseError, UsageError
from lifecycle.phases.rebase import RebaserInputs, rebase
from lifecycle.platform.files import report as report_file

log = logging.getLogger(__name__)

NAMES = ("log-level", "layers", "report", "run-image", "image", "previous-image", "force",
         "insecure-registry", "uid", "gid", "daemon")
"""The rebaser's inputs, ``layers`` before ``report`` (which defaults below it)."""


def _run_image(values: Mapping[str, Any]) -> str | None:
    run_image: str | None = values["run_image"]
    legacy: str | None = values["image"]
    if legacy:
        log.warning("-image is deprecated; use -run-image")
        if run_image and run_image != legacy:
            raise UsageError(f"-image {legacy} and -run-image {run_image} disagree")
        return run_image or legacy
    return run_image


def inputs_of(values: Mapping[str, Any], positionals: list[str],
              platform_api: Version) -> RebaserInputs:
    """Turn parsed flags and arguments into RebaserInputs; UsageError (exit 3) when invalid."""
    if values["daemon"]:
        raise UsageError("rebaser: -daemon is not supported by pypack (images are rebased "
                         "in a registry)")
    if not positionals:
        raise UsageError("rebaser: at least one <image> argument is required")
    return RebaserInputs(
        images=tuple(positionals), platform_api=platform_api, run_image=_run_image(values),
        previous_image=values["previous_image"], force=bool(values["force"]),
        insecure_registries=tuple(values["insecure_registry"]))


def _body(values: Mapping[str, Any], positionals: list[str], platform_api: Version,
          environ: Mapping[str, str] | None = None) -> int:
    result = rebase(replace(inputs_of(values, positionals, platform_api), environ=environ))
    report = report_file.Report(report_file.ImageReport(
        tags=result.tags, digest=str(result.digest), manifest_size=result.manifest_size))
    try:
        report_file.dump(values["report"], report)
    except OSError as e:
        raise RebaseError(f"cannot write report {values['report']}: {e.strerror}") from e
    log.info("*** Digest: %s", result.digest)
    return 0


def run(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run the rebaser with ``argv`` (flags and images) and ``environ`` (default: the process
    environment); return its exit code."""
    return run_phase("rebaser", argv, NAMES, partial(_body, environ=environ), environ)
