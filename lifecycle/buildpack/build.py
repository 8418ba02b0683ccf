"""Running one buildpack's ``bin/build`` and reading what it left (Buildpack API 0.7-0.12).

`buildpack.md` "Build" (inputs/outputs), "Phase #5: Build", "Unmet Buildpack Plan Entries",
"Layer Types"; cnb-digest §2.6. For each buildpack the lifecycle:

1. creates ``<layers>/<escaped id>`` and writes the Buildpack Plan (``[[entries]] name,
   [entries.metadata]``) to a temporary file;
2. runs ``bin/build <layers>/<id> <platform> <plan>`` (positional arguments: deprecated, still
   passed as the Go lifecycle does) in ``<app>`` with the build environment (``process_env``);
3. refuses forbidden layer names, reads every ``<layer>.toml``, renames ignored layers to
   ``<layer>.ignore``, and adds the ``build = true`` layers to the build environment of later
   buildpacks (``bin``/``lib``/``include``/``pkgconfig``, ``env/``, ``env.build/``);
4. reads ``build.toml`` (met/unmet), ``launch.toml`` and the SBOM files, and checks that
   ``store.toml`` (left in place for the exporter) is valid.

The pure parts (plan documents, plan filtering, environment rules) have no I/O.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import api
from lifecycle.buildpack import build_toml, launch_toml, sbom
from lifecycle.buildpack import env as envrules
from lifecycle.buildpack import layers as layerfiles
from lifecycle.buildpack.descriptor import BuildpackDescriptor, escape_id
from lifecycle.buildpack.launch_toml import BOMEntry, Label, Process, Slice
from lifecycle.buildpack.procenv import buildpack_env
from lifecycle.errors import BuildError, BuildpackBuildFailed
from lifecycle.platform.files import store
from lifecycle.platform.files.plan import Plan, Require
from lifecycle.platform.target import target_env
from lifecycle.sandbox import Command, OutputSink, Runner
from lifecycle.tomlfile import dump as dump_toml

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What every buildpack of one build shares (absolute paths)."""

    app_dir: str
    layers_dir: str
    platform_dir: str
    build_config_dir: str | None = None
    exec_env: str = "production"
    analyzed_path: str | None = None
    tmp_dir: str | None = None


@dataclass(frozen=True, slots=True)
class BuildOutputs:
    """What one buildpack contributed, and the build environment for the next one."""

    processes: tuple[Process, ...] = ()
    labels: tuple[Label, ...] = ()
    slices: tuple[Slice, ...] = ()
    launch_bom: tuple[BOMEntry, ...] = ()
    build_bom: tuple[BOMEntry, ...] = ()
    met: tuple[str, ...] = ()
    sbom_files: tuple[sbom.SbomFile, ...] = ()
    build_env: Mapping[str, str] = field(default_factory=dict)


# --- pure core ---------------------------------------------------------------------------------
def plan_document(entries: Sequence[Require]) -> dict[str, Any]:
    """The Buildpack Plan TOML document given to ``bin/build``."""
    return {"entries": [{"name": r.name, "metadata": dict(r.metadata)} for r in entries]}


def filter_plan(plan: Plan, met: Sequence[str]) -> Plan:
    """Drop the plan entries whose name was met (they never reach later buildpacks)."""
    done = set(met)
    return Plan(tuple(e for e in plan.entries if not any(r.name in done for r in e.requires)))


def process_env(build_env: Mapping[str, str], bp: BuildpackDescriptor, ctx: BuildContext,
                bp_layers_dir: str, plan_path: str, operator: Mapping[str, str],
                target: Mapping[str, str]) -> dict[str, str]:
    """The complete environment of one ``bin/build`` (Go lifecycle order).

    Accumulated build env, then ``<platform>/env/`` unless clear-env, the operator's
    ``<build-config>/env/`` (no suffix = default), then the ``CNB_*`` inputs of the API.
    """
    env = buildpack_env(build_env, bp, ctx.platform_dir, ctx.exec_env, target)
    cnb = {k: v for k, v in env.items() if k.startswith("CNB_") and k not in build_env}
    env = envrules.with_operator_env(env, operator)
    env.update(cnb)
    if api.cnb_dir_env_vars(bp.api):
        env["CNB_LAYERS_DIR"] = bp_layers_dir
        env["CNB_BP_PLAN_PATH"] = plan_path
    env.pop("CNB_REGISTRY_AUTH", None)
    return env


def add_build_layers(build_env: Mapping[str, str],
                     layer_envs: Sequence[envrules.LayerEnv]) -> dict[str, str]:
    """The build environment after one buildpack: its ``build = true`` layers, alphabetically."""
    return envrules.apply_layers(build_env, layer_envs, envrules.BUILD_ROOT_DIRS)


# --- edge --------------------------------------------------------------------------------------
def _run(bp: BuildpackDescriptor, cmd: Command, runner: Runner,
         on_output: OutputSink | None) -> None:
    try:
        result = runner(cmd, on_output)
    except OSError as e:
        raise BuildpackBuildFailed(f"buildpack {bp}: cannot run {cmd.argv[0]}: "
                                   f"{e.strerror or e}") from e
    if on_output is None and result.output:
        log.info("%s", result.output.decode("utf-8", "replace").rstrip("\n"))
    if result.returncode != 0:
        raise BuildpackBuildFailed(
            f"buildpack {bp} failed: bin/build exited with status {result.returncode}")


def run(bp: BuildpackDescriptor, bp_plan: Sequence[Require], build_env: Mapping[str, str],
        ctx: BuildContext, runner: Runner, on_output: OutputSink | None = None) -> BuildOutputs:
    """Run ``bp``'s ``bin/build`` with its plan; return its outputs.

    Raise BuildpackBuildFailed (51) if it fails, BuildError (52) for invalid outputs.
    """
    bp_layers_dir = os.path.join(ctx.layers_dir, escape_id(bp.id))
    try:
        os.makedirs(bp_layers_dir, exist_ok=True)
    except OSError as e:
        raise BuildError(f"{bp_layers_dir}: cannot create: {e.strerror}") from e
    operator = envrules.read_env_dir(os.path.join(ctx.build_config_dir, "env")) \
        if ctx.build_config_dir else {}
    target = target_env(ctx.analyzed_path, bp.api)
    with tempfile.TemporaryDirectory(prefix=escape_id(bp.id) + "-", dir=ctx.tmp_dir) as tmp:
        plan_path = os.path.join(tmp, "plan.toml")
        dump_toml(plan_path, plan_document(bp_plan))
        env = process_env(build_env, bp, ctx, bp_layers_dir, plan_path, operator, target)
        argv = (str(bp.build_path), bp_layers_dir, ctx.platform_dir, plan_path)
        log.debug("running %s for %s", argv[0], bp)
        _run(bp, Command(argv, ctx.app_dir, env), runner, on_output)
        return collect(bp, Path(bp_layers_dir), bp_plan, build_env)


def collect(bp: BuildpackDescriptor, bp_layers_dir: Path, bp_plan: Sequence[Require],
            build_env: Mapping[str, str]) -> BuildOutputs:
    """Process what ``bin/build`` left in its layers directory (steps 3 and 4)."""
    found = layerfiles.scan(bp_layers_dir)
    layerfiles.rename_ignored(found)
    layer_envs = [envrules.read_layer_env(layer.path) for layer in found
                  if layer.file.types.build]
    new_env = add_build_layers(build_env, layer_envs)
    btoml = build_toml.load(bp_layers_dir / "build.toml", bp.id, bp.version)
    met = build_toml.met_names([r.name for r in bp_plan], btoml.unmet,
                               str(bp_layers_dir / "build.toml"))
    files = sbom.find(bp.id, bp_layers_dir, {x.name: x.file.types for x in found})
    sbom.check_declared(files, bp.sbom_formats, str(bp))
    ltoml = launch_toml.load(bp_layers_dir / "launch.toml", bp.api, bp.id, bp.version)
    store.load(bp_layers_dir / "store.toml", error=BuildError)  # kept; checked early
    return BuildOutputs(ltoml.processes, ltoml.labels, ltoml.slices, ltoml.bom, btoml.bom,
                        met, files, new_env)
