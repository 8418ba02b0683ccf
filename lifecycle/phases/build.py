"""The build phase: run every buildpack of the group, aggregate what they declare.

`platform.md` "builder" (Platform API 0.15) and `buildpack.md` "Phase #5: Build"; cnb-digest §3.7.
Buildpacks run in group order; each gets the plan entries it provided minus those met by earlier
buildpacks, and the build environment of earlier buildpacks' ``build = true`` layers. The first
failing ``bin/build`` stops the phase (exit 51); invalid outputs are lifecycle errors (52).
The phase returns the ``BuildMetadata`` the caller writes to ``<layers>/config/metadata.toml``;
SBOM files are copied under ``<layers>/sbom`` (removed first, as the Go lifecycle does).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from lifecycle import api
from lifecycle.buildpack import build as bpbuild
from lifecycle.buildpack import descriptor, sbom
from lifecycle.buildpack.launch_toml import BOMEntry, Label, ProcessSet, Slice, merge_processes
from lifecycle.buildpack.procenv import lifecycle_base_env
from lifecycle.errors import BuildError
from lifecycle.platform.files.group import Group, GroupEntry
from lifecycle.platform.files.metadata import BuildMetadata, ModuleRef
from lifecycle.platform.files.plan import Plan
from lifecycle.sandbox import HostRunner, OutputSink, Runner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildInputs:
    """The builder's resolved inputs (flags/env/defaults) and the lifecycle's environment."""

    app_dir: str
    layers_dir: str
    platform_dir: str
    buildpacks_dir: str
    build_config_dir: str | None = None
    analyzed_path: str | None = None
    exec_env: str = "production"
    environ: Mapping[str, str] = field(default_factory=dict)
    tmp_dir: str | None = None

    def context(self) -> bpbuild.BuildContext:
        """The part every buildpack run shares."""
        return bpbuild.BuildContext(
            app_dir=os.path.abspath(self.app_dir), layers_dir=os.path.abspath(self.layers_dir),
            platform_dir=os.path.abspath(self.platform_dir),
            build_config_dir=self.build_config_dir, exec_env=self.exec_env,
            analyzed_path=self.analyzed_path, tmp_dir=self.tmp_dir)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """What the buildpacks that ran so far declared, folded in group order."""

    processes: ProcessSet = field(default_factory=ProcessSet)
    labels: tuple[Label, ...] = ()
    slices: tuple[Slice, ...] = ()
    launch_bom: tuple[BOMEntry, ...] = ()
    build_bom: tuple[BOMEntry, ...] = ()
    sbom_files: tuple[sbom.SbomFile, ...] = ()


def fold(agg: Aggregate, out: bpbuild.BuildOutputs) -> Aggregate:
    """Add one buildpack's outputs (pure): later process definitions and labels win."""
    procs, warnings = merge_processes(agg.processes, out.processes)
    for w in warnings:
        log.warning("%s", w)
    keys = {x.key for x in out.labels}
    return Aggregate(
        processes=procs,
        labels=tuple(x for x in agg.labels if x.key not in keys) + out.labels,
        slices=agg.slices + out.slices,
        launch_bom=agg.launch_bom + out.launch_bom,
        build_bom=agg.build_bom + out.build_bom,
        sbom_files=agg.sbom_files + out.sbom_files)


def metadata_for(group: Group, agg: Aggregate) -> BuildMetadata:
    """The metadata.toml contents for a finished build (pure)."""
    def ref(e: GroupEntry) -> ModuleRef:
        return ModuleRef(e.id, e.version, e.api, e.homepage)

    return BuildMetadata(
        buildpacks=tuple(ref(e) for e in group.group),
        extensions=tuple(ref(e) for e in group.group_extensions),
        processes=agg.processes.listed(), labels=agg.labels, slices=agg.slices,
        buildpack_default_process_type=agg.processes.default_type)


def check_apis(group: Group) -> None:
    """Raise BuildpackAPIError (12) for a group member with an unsupported Buildpack API."""
    for e in group.group:
        api.check_buildpack_api(e.api, str(e))


def _clean_sbom_dir(layers_dir: str) -> None:
    try:
        shutil.rmtree(os.path.join(layers_dir, "sbom"))
    except FileNotFoundError:
        pass
    except OSError as e:
        raise BuildError(f"{layers_dir}/sbom: cannot remove: {e.strerror}") from e


def build(group: Group, plan: Plan, inputs: BuildInputs, runner: Runner | None = None,
          on_output: OutputSink | None = None) -> BuildMetadata:
    """Run ``bin/build`` of every group member in order; return the build metadata.

    Raises BuildpackBuildFailed (51) when a buildpack fails (later ones do not run),
    BuildError (52) for invalid buildpack outputs, BuildpackAPIError (12) for bad APIs.
    """
    check_apis(group)
    run = runner if runner is not None else HostRunner()
    ctx = inputs.context()
    _clean_sbom_dir(ctx.layers_dir)
    env: Mapping[str, str] = lifecycle_base_env(inputs.environ)
    remaining, agg = plan, Aggregate()
    for entry in group.group:
        bp = descriptor.find(inputs.buildpacks_dir, entry.id, entry.version)
        log.info("Running build for buildpack %s", bp)
        out = bpbuild.run(bp, remaining.find(bp.id), env, ctx, run, on_output)
        env, remaining, agg = out.build_env, bpbuild.filter_plan(remaining, out.met), fold(agg, out)
    sbom.copy_files(ctx.layers_dir, agg.sbom_files)
    sbom.write_legacy(ctx.layers_dir, agg.launch_bom, agg.build_bom)
    return metadata_for(group, agg)
