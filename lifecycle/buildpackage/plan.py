"""What a buildpackage will hold, decided without I/O: its buildpacks, platform and labels.

pack ``pkg/buildpack/builder.go`` (``validate``, ``validateBuildpacks``, ``resolvedStacks``,
``finalizeImage``) and cnb-digest §7.1: every order reference of the entrypoint and of each
dependency names a version and a buildpack among the dependencies; every dependency is used;
the buildpacks share at least one stack. One layer per buildpack (a buildpack taken from a
buildpackage keeps its layer), sorted by ``id@version``. Labels: the entrypoint's
``io.buildpacks.buildpackage.metadata`` and ``io.buildpacks.buildpack.layers``; layer diff IDs
are known only after the edge writes the layers, hence :meth:`PackagePlan.labels`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lifecycle.builder import labels as lb
from lifecycle.builder.config import ModuleRef
from lifecycle.builder.sources import LoadedBuildpack
from lifecycle.buildpack import targets as tg
from lifecycle.buildpackage import metadata as md
from lifecycle.buildpackage.config import PackageConfig
from lifecycle.errors import FileFormatError, UsageError
from lifecycle.oci.platform import Platform
from lifecycle.platform import labels_codec as codec


@dataclass(frozen=True, slots=True)
class PackagePlan:
    """Everything the edge writes: ``buildpacks`` sorted by ``id@version``."""

    main: LoadedBuildpack
    buildpacks: tuple[LoadedBuildpack, ...]
    metadata: md.PackageMetadata
    platform: Platform
    warnings: tuple[str, ...] = ()

    def layer_info(self, bp: LoadedBuildpack, diff_id: str) -> lb.LayerInfo:
        """The layers-label entry of ``bp`` (a packaged one keeps its package's entry)."""
        if bp.layer_info is not None:
            return lb.LayerInfo(bp.layer_info.api, diff_id, bp.layer_info.stacks,
                                bp.layer_info.targets, bp.layer_info.order,
                                bp.layer_info.homepage, bp.layer_info.name)
        d = bp.descriptor
        declared = tuple(tg.Target.from_toml(t) for t in bp.raw.get("targets", ()))
        order = tuple(tuple(ModuleRef(e.id, e.version, e.optional) for e in g.group)
                      for g in d.order)
        return lb.LayerInfo(str(d.api), diff_id, d.stacks, declared, order,
                            d.homepage or "", d.name)

    def layers(self, diff_ids: Mapping[str, str]) -> dict[str, dict[str, lb.LayerInfo]]:
        """The layers label value; ``diff_ids`` maps ``id@version`` to diff ID."""
        out: dict[str, dict[str, lb.LayerInfo]] = {}
        for bp in self.buildpacks:
            d = bp.descriptor
            out.setdefault(d.id, {})[d.version] = self.layer_info(bp, diff_ids[bp.full_name])
        return out

    def labels(self, diff_ids: Mapping[str, str]) -> dict[str, str]:
        """The two labels of the buildpackage."""
        return {md.PACKAGE_METADATA: self.metadata.dumps(),
                lb.BUILDPACK_LAYERS: codec.dumps(lb.layers_json(self.layers(diff_ids)))}


def make_plan(cfg: PackageConfig, main: LoadedBuildpack, deps: Sequence[LoadedBuildpack],
              host: Platform, requested: Platform | None = None) -> PackagePlan:
    """Decide the buildpackage; FileFormatError (naming the file) for broken references."""
    if cfg.os != "linux":
        raise UsageError(f"{cfg.path}: platform.os {cfg.os!r}: pypack makes linux "
                         "buildpackages only")
    warnings: list[str] = []
    others = _dedupe(main, deps, warnings)
    _check_references(main, others, cfg)
    stacks = md.resolve_stacks((main.descriptor.stacks, main.descriptor.is_composite),
                               ((b.descriptor.stacks, b.descriptor.is_composite)
                                for b in others))
    if not stacks:
        raise FileFormatError(f"{cfg.path}: no compatible stacks among the provided "
                              "buildpacks")
    targets = cfg.targets if main.descriptor.is_composite else tuple(
        tg.Target.from_toml(t) for t in main.raw.get("targets", ()))
    info = main.info()
    metadata = md.PackageMetadata(
        lb.ModuleInfo(info.id, info.version, info.name, info.description, info.homepage,
                      info.keywords, (), info.licenses, False),
        stacks, targets)
    return PackagePlan(main=main, buildpacks=tuple(sorted((main, *others),
                                                          key=lambda b: b.full_name)),
                       metadata=metadata, platform=choose_platform(cfg.os, targets, host,
                                                                   requested),
                       warnings=tuple(warnings))


def _dedupe(main: LoadedBuildpack, deps: Sequence[LoadedBuildpack],
            warnings: list[str]) -> list[LoadedBuildpack]:
    seen = {main.full_name: main}
    out = []
    for bp in deps:
        first = seen.get(bp.full_name)
        if first is None:
            seen[bp.full_name] = bp
            out.append(bp)
        elif first.layer is None and bp.layer is None and first.descriptor.dir != \
                bp.descriptor.dir:
            warnings.append(f"buildpack {bp.full_name} is given more than once; the first "
                            "one is packaged")
    return out


def _check_references(main: LoadedBuildpack, deps: Sequence[LoadedBuildpack],
                      cfg: PackageConfig) -> None:
    """pack's ``validateBuildpacks``: references need versions and dependencies, and every
    dependency must be referenced."""
    used: dict[str, list[str]] = {bp.full_name: [] for bp in deps}
    for bp in (main, *deps):
        for group in bp.descriptor.order:
            for ref in group.group:
                if not ref.version:
                    raise FileFormatError(f"{cfg.path}: buildpack {bp.full_name} must specify "
                                          f"a version when referencing buildpack {ref.id}")
                name = f"{ref.id}@{ref.version}"
                if name not in used:
                    raise FileFormatError(f"{cfg.path}: buildpack {bp.full_name} references "
                                          f"buildpack {name}, which is not present; add it "
                                          "to [[dependencies]]")
                used[name].append(bp.full_name)
    for name, users in used.items():
        if not users:
            raise FileFormatError(f"{cfg.path}: buildpack {name} is not used by buildpack "
                                  f"{main.full_name}; remove it from [[dependencies]]")


def choose_platform(os_name: str, targets: Sequence[tg.Target], host: Platform,
                    requested: Platform | None) -> Platform:
    """The image platform: ``requested``; else the host's architecture when the targets allow
    it (or there are none); else the first target naming an architecture."""
    if requested is not None:
        return requested
    mine = tg.BaseTarget(os_name, host.architecture, host.variant or "")
    if not targets or tg.any_satisfied(mine, targets):
        return Platform(os_name, host.architecture, host.variant)
    for t in targets:
        if t.arch:
            return Platform(t.os or os_name, t.arch, t.arch_variant or None)
    return Platform(os_name, host.architecture, host.variant)
