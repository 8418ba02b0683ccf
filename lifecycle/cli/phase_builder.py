"""The ``builder`` program (Platform API 0.15, `platform.md` "builder").

Usage: ``builder [-analyzed <analyzed>] [-app <app>] [-buildpacks <buildpacks>]
[-build-config <build-config>] [-group <group>] [-layers <layers>] [-log-level <level>]
[-plan <plan>] [-platform <platform>]`` with ``CNB_EXEC_ENV``/``-exec-env`` and ``-no-color``.
Reads group.toml and plan.toml, runs the build phase with buildpack output on stdout, and writes
``<layers>/config/metadata.toml``. Exit 51 when a buildpack fails, 52 for other build errors.
The builder never needs registry credentials and never passes them on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from lifecycle.api import Version
from lifecycle.cli.common import run_phase
from lifecycle.errors import UsageError
from lifecycle.phases.build import BuildInputs, build
from lifecycle.platform.files import group as group_file
from lifecycle.platform.files import metadata as metadata_file
from lifecycle.platform.files import plan as plan_file

NAMES = ("log-level", "no-color", "app", "layers", "platform", "buildpacks", "build-config",
         "group", "plan", "analyzed", "exec-env")


def _stdout(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def _body(values: Mapping[str, Any], positionals: list[str], _api: Version) -> int:
    if positionals:
        raise UsageError(f"builder takes no arguments, got: {' '.join(positionals)}")
    if "/" in values["exec_env"]:
        raise UsageError(f"-exec-env: {values['exec_env']!r} must not contain '/'")
    group = group_file.load(values["group"])
    plan = plan_file.load(values["plan"])
    inputs = BuildInputs(
        app_dir=values["app"], layers_dir=values["layers"], platform_dir=values["platform"],
        buildpacks_dir=values["buildpacks"], build_config_dir=values["build_config"],
        analyzed_path=values["analyzed"], exec_env=values["exec_env"], environ=dict(os.environ))
    md = build(group, plan, inputs, on_output=_stdout)
    metadata_file.dump(metadata_file.path_in(values["layers"]), md)
    return 0


def run(argv: Sequence[str]) -> int:
    """Run the builder with ``argv`` (flags only); return the exit code."""
    return run_phase("builder", argv, NAMES, _body)
