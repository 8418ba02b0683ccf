"""Running ``bin/detect`` (Buildpack API 0.7-0.12, buildpack.md "Detection"; Platform API 0.15
platform.md "detector"): the I/O edge of detection.

Each buildpack runs at most once per detector run (``DetectRuns`` caches by ``id@version``),
through a ``Runner``, with cwd ``<app>``, argv ``[bin/detect, <platform>, <plan>]`` (the
deprecated positional arguments the Go lifecycle still passes) and the environment of
``lifecycle.buildpack.procenv`` plus ``CNB_BUILD_PLAN_PATH`` (>= 0.8), a fresh file per buildpack.
Before running, a buildpack whose exec-env list excludes ``CNB_EXEC_ENV`` is skipped (P0.15,
B>=0.12) and one whose targets miss the run image gets a detect error (P>=0.12).
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import api, schema
from lifecycle.api import Version
from lifecycle.buildpack import procenv
from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.buildpack.resolve import BuildPlan, DetectOutput, PlanSections
from lifecycle.buildpack.targets import BaseTarget, any_satisfied
from lifecycle.errors import LifecycleError
from lifecycle.platform.files.plan import Require
from lifecycle.sandbox import Command, Runner


@dataclass(frozen=True, slots=True)
class DetectEnv:
    """What every bin/detect of a run shares."""

    app_dir: str
    platform_dir: str
    exec_env: str
    base_env: Mapping[str, str]
    target_env: Mapping[str, str]
    """``CNB_TARGET_*`` (given to buildpacks of API >= 0.10)."""
    base_target: BaseTarget = field(default_factory=BaseTarget)
    """The run image target that declared targets are checked against."""
    platform_api: Version = field(default_factory=lambda: api.PLATFORM_APIS[-1])


def parse_build_plan(data: Mapping[str, Any], who: str, source: str) -> BuildPlan:
    """A Build Plan from bin/detect's TOML; rejects a ``requires.version`` key (Go lifecycle)."""
    schema.validate(data, "build-plan", source)

    def sections(d: Mapping[str, Any]) -> PlanSections:
        reqs = []
        for r in d.get("requires", ()):
            if "version" in r:
                both = "version" in r.get("metadata", {})
                raise LifecycleError(
                    f'buildpack {who} has a "version" key'
                    + (' and a "metadata.version"' if both else "")
                    + ' which is not supported; "metadata.version" should be used instead')
            reqs.append(Require(r["name"], dict(r.get("metadata", {}))))
        return PlanSections(tuple(p["name"] for p in d.get("provides", ())), tuple(reqs))

    return BuildPlan(sections(data), tuple(sections(o) for o in data.get("or", ())))


def exec_env_skip(bp: BuildpackDescriptor, ctx: DetectEnv) -> str | None:
    """Why ``bp`` is skipped for the execution environment, or None if it applies."""
    if not api.detect_skips_by_exec_env(ctx.platform_api) or not ctx.exec_env:
        return None
    declared = bp.exec_env if api.exec_env_supported(bp.api) else ()
    if not declared or "*" in declared or ctx.exec_env in declared:
        return None
    return f"exec-env {ctx.exec_env!r} not in {', '.join(declared)}"


def target_mismatch(bp: BuildpackDescriptor, ctx: DetectEnv) -> str | None:
    """An error message if ``bp`` declares (or implies) targets the run image misses."""
    if not api.detect_checks_targets(ctx.platform_api) or any_satisfied(ctx.base_target,
                                                                         bp.targets):
        return None
    wanted = "; ".join(t.describe() for t in bp.targets)
    b = ctx.base_target
    have = "/".join(x or "*" for x in (b.os, b.arch)) + (
        f" {b.distro.name}@{b.distro.version}" if b.distro else "")
    return f"unable to satisfy target os/arch constraints; run image: {have}, buildpack: {wanted}"


def run_detect(bp: BuildpackDescriptor, ctx: DetectEnv, runner: Runner) -> DetectOutput:
    """Run ``bp``'s bin/detect once and read its Build Plan; never raises for buildpack faults."""
    if not bp.detect_path.is_file():
        return DetectOutput(-1, error=f"{bp.detect_path}: no such file")
    with tempfile.TemporaryDirectory(prefix="plan.") as tmp:
        plan_path = Path(tmp) / "plan.toml"
        plan_path.write_bytes(b"")
        env = procenv.buildpack_env(ctx.base_env, bp, ctx.platform_dir, ctx.exec_env,
                                    ctx.target_env)
        if api.cnb_dir_env_vars(bp.api):
            env["CNB_BUILD_PLAN_PATH"] = str(plan_path)
        cmd = Command((str(bp.detect_path), ctx.platform_dir, str(plan_path)), ctx.app_dir, env)
        try:
            result = runner(cmd)
        except OSError as e:
            return DetectOutput(-1, error=f"cannot run {bp.detect_path}: {e.strerror or e}")
        output = result.output.decode("utf-8", "replace")
        if result.returncode != 0:
            return DetectOutput(result.returncode, output=output)
        try:
            with plan_path.open("rb") as f:
                plan = parse_build_plan(tomllib.load(f), str(bp), f"{bp} build plan")
        except (tomllib.TOMLDecodeError, LifecycleError, OSError) as e:
            return DetectOutput(-1, output=output, error=f"{bp}: invalid build plan: {e}")
    return DetectOutput(0, plan, output)


class DetectRuns(Mapping[str, DetectOutput]):
    """Detect outputs keyed by ``id@version``, computed on first access and then cached.

    This is what ``lifecycle.buildpack.resolve.resolve`` reads: the resolver stays pure while
    bin/detect runs lazily, only for groups actually tried, at most once each.
    """

    def __init__(self, descriptors: Mapping[str, BuildpackDescriptor], ctx: DetectEnv,
                 runner: Runner) -> None:
        self._descriptors = descriptors
        self._ctx = ctx
        self._runner = runner
        self._done: dict[str, DetectOutput] = {}

    def __getitem__(self, key: str) -> DetectOutput:
        if key not in self._done:
            self._done[key] = self._compute(self._descriptors[key])
        return self._done[key]

    def prefetch(self, keys: Sequence[str]) -> None:
        """Run bin/detect of ``keys`` (not yet done) concurrently, as the Go lifecycle runs a
        group's members: the resolver then reads the results in order."""
        todo = [k for k in dict.fromkeys(keys) if k not in self._done and k in self._descriptors]
        if len(todo) < 2:
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(todo), 4)) as pool:
            results = list(pool.map(lambda k: self._compute(self._descriptors[k]), todo))
        self._done.update(zip(todo, results, strict=True))

    def _compute(self, bp: BuildpackDescriptor) -> DetectOutput:
        skip = exec_env_skip(bp, self._ctx)
        if skip is not None:
            return DetectOutput(100, error=skip, skipped=True)
        mismatch = target_mismatch(bp, self._ctx)
        if mismatch is not None:
            return DetectOutput(-1, error=mismatch)
        return run_detect(bp, self._ctx, self._runner)

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._done))

    def __len__(self) -> int:
        return len(self._done)

    @property
    def runs(self) -> int:
        """How many outputs were computed so far."""
        return len(self._done)
