"""The detect phase (Platform API 0.15 platform.md "detector"; buildpack.md "Phase #1: Detection").

Reads order.toml and system.toml, expands composites and optional entries into flat groups,
runs bin/detect lazily (each buildpack at most once) and resolves the first viable group and its
plan. Returns the group and plan; the CLI writes ``group.toml`` and ``plan.toml``. Resolution
lines are buffered: shown at their level on success and all of them on failure (as the Go
lifecycle). Image extensions (``[[order-extensions]]``) are parsed but not run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from lifecycle import api
from lifecycle.api import Version
from lifecycle.buildpack import descriptor as bp_descriptor
from lifecycle.buildpack import order as bp_order
from lifecycle.buildpack import procenv, resolve
from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.buildpack.detect import DetectEnv, DetectRuns
from lifecycle.errors import DetectFailed, DetectFailedWithErrors, UsageError
from lifecycle.platform import target as target_mod
from lifecycle.platform.files import order as order_file
from lifecycle.platform.files import system as system_file
from lifecycle.platform.files.group import Group
from lifecycle.platform.files.plan import Plan
from lifecycle.sandbox import HostRunner, Runner

log = logging.getLogger("lifecycle.detector")


@dataclass(frozen=True, slots=True)
class DetectorInputs:
    """The detector's resolved inputs (flags, ``CNB_*`` env, defaults)."""

    app_dir: str
    buildpacks_dir: str
    platform_dir: str
    order_path: str
    system_path: str | None = None
    analyzed_path: str | None = None
    exec_env: str = "production"
    platform_api: Version = field(default_factory=lambda: api.PLATFORM_APIS[-1])
    environ: Mapping[str, str] | None = None
    """The lifecycle's environment (``os.environ`` when None), before secrets are removed."""


@dataclass(frozen=True, slots=True)
class DetectResult:
    """The selected group, its plan, and how many buildpacks' detect outcomes were computed."""

    group: Group
    plan: Plan
    runs: int = 0


class _Lookup:
    """Descriptors by ``id@version``, each loaded once (exit 12 on an unsupported API)."""

    def __init__(self, buildpacks_dir: str) -> None:
        self.dir = buildpacks_dir
        self.loaded: dict[str, BuildpackDescriptor] = {}

    def __call__(self, bp_id: str, version: str) -> BuildpackDescriptor:
        key = f"{bp_id}@{version}"
        if key not in self.loaded:
            self.loaded[key] = bp_descriptor.find(self.dir, bp_id, version)
        return self.loaded[key]


def _context(inputs: DetectorInputs) -> DetectEnv:
    if "/" in inputs.exec_env:
        raise UsageError(f"CNB_EXEC_ENV {inputs.exec_env!r} must not contain '/'")
    target = target_mod.complete(target_mod.run_image_target(inputs.analyzed_path))
    return DetectEnv(
        app_dir=inputs.app_dir, platform_dir=inputs.platform_dir, exec_env=inputs.exec_env,
        base_env=procenv.lifecycle_base_env(inputs.environ),
        target_env=target_mod.env_for(target), base_target=target.base(),
        platform_api=inputs.platform_api)


def detect(inputs: DetectorInputs, runner: Runner | None = None) -> DetectResult:
    """Select a group and resolve its plan.

    Raises DetectFailed (20), DetectFailedWithErrors (21), BuildpackAPIError (12),
    FileFormatError (a file or key named; exit 22 in the detector) or UsageError (3).
    """
    ctx = _context(inputs)
    order = order_file.load(inputs.order_path)
    if order.order_extensions:
        log.warning("image extensions are not supported; ignoring [[order-extensions]] in %s",
                    inputs.order_path)
    system = system_file.load(inputs.system_path)
    lookup = _Lookup(inputs.buildpacks_dir)
    groups = bp_order.expand(bp_order.merge_system(order.order, system), lookup)
    runs = DetectRuns(lookup.loaded, ctx, runner or HostRunner())
    if groups:  # the first group is always tried: detect its members concurrently
        runs.prefetch([f"{el.id}@{el.version}" for el in groups[0] if not el.extension])
    notes: list[tuple[int, str]] = []
    try:
        group, plan = resolve.resolve(groups, runs, lambda lvl, msg: notes.append((lvl, msg)))
    except (DetectFailed, DetectFailedWithErrors):
        _flush(notes, failed=True)
        raise
    _flush(notes, failed=False)
    return DetectResult(group, plan, runs.runs)


def _flush(notes: list[tuple[int, str]], *, failed: bool) -> None:
    for level, msg in notes:
        log.log(logging.INFO if failed else level, "%s", msg)
