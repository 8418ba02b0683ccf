"""``detector``: the phase program (Platform API 0.15 platform.md "detector").

Flags (single dash) with their ``CNB_*`` variables and defaults come from
``lifecycle.platform.inputs``; ``lifecycle.cli.common.run_phase`` checks the platform API
(exit 11), maps errors to exit codes (3 bad flags, 12 buildpack API, 20/21 detect failed,
22 other detect errors) and logs. The body runs ``lifecycle.phases.detect.detect`` and writes
``group.toml`` and ``plan.toml`` atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lifecycle.api import Version
from lifecycle.cli.common import run_phase
from lifecycle.errors import DetectError, UsageError
from lifecycle.phases.detect import DetectorInputs, detect
from lifecycle.platform.files import group as group_file
from lifecycle.platform.files import plan as plan_file

NAMES = ("log-level", "no-color", "layers", "app", "buildpacks", "extensions", "generated",
         "group", "plan", "order", "system", "analyzed", "run", "platform", "exec-env")
"""The detector's inputs, ``layers`` before the paths that default below it."""


def _body(values: Mapping[str, Any], positionals: list[str], platform_api: Version) -> int:
    if positionals:
        raise UsageError(f"detector: unexpected arguments: {' '.join(positionals)}")
    result = detect(DetectorInputs(
        app_dir=values["app"], buildpacks_dir=values["buildpacks"],
        platform_dir=values["platform"], order_path=values["order"],
        system_path=values["system"], analyzed_path=values["analyzed"],
        exec_env=values["exec_env"], platform_api=platform_api))
    try:
        group_file.dump(values["group"], result.group)
        plan_file.dump(values["plan"], result.plan)
    except OSError as e:
        raise DetectError(f"cannot write {e.filename}: {e.strerror}") from e
    return 0


def run(argv: Sequence[str]) -> int:
    """Run the detector with ``argv`` (flags only); return its exit code."""
    return run_phase("detector", argv, NAMES, _body)
