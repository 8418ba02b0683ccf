"""What a builder image will hold, decided without I/O: buildpacks to layer, the resolved
order and system buildpacks, the ``/cnb`` files, the default directories, and the labels.

pack ``internal/builder/builder.go`` (``Save``, ``processOrder``, ``validateBuildpacks``) and
``pkg/client/create_builder.go``; cnb-digest §7.3. Checks: every order and system reference
names a buildpack on the builder (a missing version resolves when only one version is there),
composite buildpacks' references too, ``[stack] id`` matches the build image's stack; buildpack
targets and stacks the build image does not satisfy, and ``[[targets]]`` it is not, give
warnings. Layer diff IDs are known only after the edge writes the layers, so the layers and
metadata labels come from :meth:`BuilderPlan.labels`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import tomli_w

import lifecycle
from lifecycle import api
from lifecycle.builder import labels as lb
from lifecycle.builder import layers as ly
from lifecycle.builder.config import BuilderConfig, Group, ModuleRef
from lifecycle.builder.sources import LoadedBuildpack
from lifecycle.buildpack import targets as tg
from lifecycle.errors import FileFormatError, ImageError
from lifecycle.platform import labels as platform_labels
from lifecycle.platform import labels_codec as codec

CREATOR_NAME = "pypack"
WORKING_DIR = "/layers"
"""pack sets the builder's working directory to ``/layers``."""


@dataclass(frozen=True, slots=True)
class BaseImage:
    """What the plan needs of the build image: name, labels, env, user and platform."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None
    os: str = "linux"
    arch: str = ""
    variant: str = ""

    def ids(self) -> tuple[int, int]:
        """``CNB_USER_ID`` and ``CNB_GROUP_ID`` (ImageError if missing or not integers)."""
        out = []
        for var in ("CNB_USER_ID", "CNB_GROUP_ID"):
            value = self.env.get(var, "")
            if not value.isdigit():
                raise ImageError(f"build image {self.name}: env {var} is "
                                 f"{'missing' if not value else repr(value)}; a build image "
                                 "must set CNB_USER_ID and CNB_GROUP_ID to its build user")
            out.append(int(value))
        return out[0], out[1]

    def target(self) -> tg.BaseTarget:
        """Its target, with the distro from the ``io.buildpacks.base.distro.*`` labels."""
        name = self.labels.get(platform_labels.BASE_DISTRO_NAME, "")
        version = self.labels.get(platform_labels.BASE_DISTRO_VERSION, "")
        distro = tg.Distro(name, version) if name or version else None
        return tg.BaseTarget(self.os, self.arch, self.variant, distro)

    def existing_layers(self) -> dict[str, dict[str, lb.LayerInfo]]:
        """The buildpacks already on the image (when it is itself a builder)."""
        text = self.labels.get(lb.BUILDPACK_LAYERS)
        return lb.read_layers(text, f"build image {self.name}") if text else {}

    def existing_metadata(self) -> lb.BuilderMetadata | None:
        """The builder metadata label of the image, if it is a builder."""
        text = self.labels.get(lb.BUILDER_METADATA)
        return lb.read_metadata(text, f"build image {self.name}") if text else None


def pypack_lifecycle() -> lb.LifecycleDescriptor:
    """The lifecycle pypack installs: its version and the API tables of ``lifecycle.api``."""
    def s(vs: Sequence[api.Version]) -> tuple[str, ...]:
        return tuple(str(v) for v in vs)
    return lb.LifecycleDescriptor(lifecycle.__version__, s(api.BUILDPACK_APIS),
                                  s(api.DEPRECATED_BUILDPACK_APIS), s(api.PLATFORM_APIS),
                                  s(api.DEPRECATED_PLATFORM_APIS))


@dataclass(frozen=True, slots=True)
class BuilderPlan:
    """Everything the edge writes. ``buildpacks`` are sorted by ``id@version`` (pack's
    order for buildpack layers)."""

    buildpacks: tuple[LoadedBuildpack, ...]
    existing: Mapping[str, Mapping[str, lb.LayerInfo]]
    metadata: lb.BuilderMetadata
    order: tuple[Group, ...]
    config_order: tuple[Group, ...]
    system: tuple[Group, Group]
    config_system: tuple[Group, Group]
    dir_entries: tuple[ly.Entry, ...]
    config_entries: tuple[ly.Entry, ...]
    user: str | None
    warnings: tuple[str, ...] = ()

    def layer_info(self, bp: LoadedBuildpack, diff_id: str) -> lb.LayerInfo:
        """The layers-label entry of ``bp`` (declared stacks/targets only, as pack); a
        buildpack from a buildpackage keeps the entry of the package's label."""
        if bp.layer_info is not None:
            return replace(bp.layer_info, layer_diff_id=diff_id)
        d, raw = bp.descriptor, bp.raw
        declared = tuple(tg.Target.from_toml(t) for t in raw.get("targets", ()))
        return lb.LayerInfo(str(d.api), diff_id, d.stacks, declared,
                            tuple(tuple(ModuleRef(e.id, e.version, e.optional) for e in g.group)
                                  for g in d.order),
                            d.homepage or "", d.name)

    def layers(self, diff_ids: Mapping[str, str]) -> dict[str, dict[str, lb.LayerInfo]]:
        """The merged layers label value; ``diff_ids`` maps ``id@version`` to diff ID."""
        out = {k: dict(v) for k, v in self.existing.items()}
        for bp in self.buildpacks:
            d = bp.descriptor
            out.setdefault(d.id, {})[d.version] = self.layer_info(bp, diff_ids[bp.full_name])
        return out

    def labels(self, diff_ids: Mapping[str, str]) -> dict[str, str]:
        """Every label the builder gets (the build image's others stay)."""
        out = {
            lb.BUILDER_METADATA: codec.dumps(self.metadata.to_json()),
            lb.BUILDPACK_LAYERS: codec.dumps(lb.layers_json(self.layers(diff_ids))),
            lb.BUILDPACK_ORDER: _dumps_list(lb.order_json(self.config_order)),
            lb.LIFECYCLE_VERSION: self.metadata.lifecycle.version,
            lb.LIFECYCLE_APIS: codec.dumps(self.metadata.lifecycle.apis_json()),
        }
        if any(self.config_system):
            out[lb.BUILDPACK_SYSTEM] = codec.dumps(lb.system_json(*self.config_system))
        return out


def _dumps_list(value: list[dict[str, Any]]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def make_plan(cfg: BuilderConfig, loaded: Sequence[LoadedBuildpack], base: BaseImage,
              life: lb.LifecycleDescriptor | None = None) -> BuilderPlan:
    """Decide the builder; FileFormatError (naming file and key) for broken references."""
    life = life or pypack_lifecycle()
    warnings = list(cfg.warnings)
    if cfg.lifecycle_version and not cfg.lifecycle_uri:
        warnings.append(f"{cfg.path}: lifecycle: pypack cannot download lifecycle "
                        f"{cfg.lifecycle_version!r} by version (give [lifecycle] uri, a release "
                        f"tarball); it installs its own (version {life.version})")
    _check_stack(cfg, base)
    new = _dedupe(loaded, warnings)
    existing = base.existing_layers()
    present = _present(new, existing, cfg)
    order = tuple(_resolve(g, present, cfg, f"order[{i}].group")
                  for i, g in enumerate(cfg.order))
    system = (_resolve(cfg.system_pre, present, cfg, "system.pre.buildpacks"),
              _resolve(cfg.system_post, present, cfg, "system.post.buildpacks"))
    _check_composites(new, present, cfg)
    warnings += _compat_warnings(new, base, cfg)
    uid, gid = base.ids()
    metadata = _metadata(cfg, new, base, life)
    return BuilderPlan(
        buildpacks=tuple(sorted(new, key=lambda b: b.full_name)), existing=existing,
        metadata=metadata, order=order, config_order=cfg.order, system=system,
        config_system=(cfg.system_pre, cfg.system_post),
        dir_entries=tuple(ly.default_dirs(uid, gid)),
        config_entries=tuple(_config_entries(cfg, order, system, metadata)),
        user=None if base.user else f"{uid}:{gid}", warnings=tuple(warnings))


def _check_stack(cfg: BuilderConfig, base: BaseImage) -> None:
    have = base.labels.get(platform_labels.STACK_ID, "")
    if cfg.stack_id and cfg.stack_id != have:
        raise FileFormatError(f"{cfg.path}: stack.id {cfg.stack_id!r} is incompatible with "
                              f"stack {have!r} of build image {base.name}")


def _dedupe(loaded: Sequence[LoadedBuildpack], warnings: list[str]) -> list[LoadedBuildpack]:
    seen: dict[str, LoadedBuildpack] = {}
    for bp in loaded:
        if bp.full_name in seen:
            warnings.append(f"buildpack {bp.full_name} is listed more than once; the last "
                            "entry wins")
        seen[bp.full_name] = bp
    return list(seen.values())


def _present(new: Sequence[LoadedBuildpack], existing: Mapping[str, Mapping[str, object]],
             cfg: BuilderConfig) -> dict[str, list[str]]:
    """id -> versions on the builder; ``[[buildpacks]]`` entries without a source must be
    among the build image's buildpacks."""
    present: dict[str, list[str]] = {k: sorted(v) for k, v in existing.items()}
    for bp in new:
        versions = present.setdefault(bp.descriptor.id, [])
        if bp.descriptor.version not in versions:
            versions.append(bp.descriptor.version)
    for src in cfg.buildpacks:
        if src.uri or src.image:
            continue
        versions = present.get(src.id, [])
        if not versions or (src.version and src.version not in versions):
            raise FileFormatError(f"{cfg.path}: {src.key}: buildpack {src.describe()!r} has "
                                  "no uri and is not on the build image; add a uri")
    return present


def _resolve(group: Group, present: Mapping[str, list[str]], cfg: BuilderConfig,
             key: str) -> Group:
    out = []
    for j, ref in enumerate(group):
        where = f"{cfg.path}: {key}[{j}]"
        versions = present.get(ref.id, [])
        if not versions:
            raise FileFormatError(f"{where}: no version of buildpack {ref.id!r} is on the "
                                  "builder; add it to [[buildpacks]]")
        version = ref.version
        if not version:
            if len(versions) > 1:
                raise FileFormatError(f"{where}: buildpack {ref.id!r} has versions "
                                      f"{', '.join(sorted(versions))} on the builder; give "
                                      "an explicit version")
            version = versions[0]
        elif version not in versions:
            raise FileFormatError(f"{where}: buildpack {ref.id}@{version} is not on the "
                                  f"builder (versions there: {', '.join(sorted(versions))})")
        out.append(ModuleRef(ref.id, version, ref.optional))
    return tuple(out)


def _check_composites(new: Sequence[LoadedBuildpack], present: Mapping[str, list[str]],
                      cfg: BuilderConfig) -> None:
    for bp in new:
        for group in bp.descriptor.order:
            for e in group.group:
                if e.version not in present.get(e.id, []):
                    raise FileFormatError(
                        f"{cfg.path}: buildpack {bp.full_name} (composite) refers to "
                        f"{e.id}@{e.version}, which is not on the builder")


def _compat_warnings(new: Sequence[LoadedBuildpack], base: BaseImage,
                     cfg: BuilderConfig) -> list[str]:
    out: list[str] = []
    target = base.target()
    stack_id = base.labels.get(platform_labels.STACK_ID, "")
    for bp in new:
        d = bp.descriptor
        if d.api in api.DEPRECATED_BUILDPACK_APIS:
            out.append(f"buildpack {bp.full_name} uses deprecated Buildpack API {d.api}")
        if d.is_composite:
            continue
        if d.stacks and stack_id and not any(s.id in (stack_id, "*") for s in d.stacks):
            out.append(f"buildpack {bp.full_name} declares stacks "
                       f"{', '.join(s.id for s in d.stacks)}, not {stack_id!r} of the build "
                       "image")
        if not tg.any_satisfied(target, d.targets):
            out.append(f"buildpack {bp.full_name} targets "
                       f"{'; '.join(t.describe() for t in d.targets)}, which the build image "
                       f"({_describe(target)}) does not satisfy")
    if cfg.targets and not tg.any_satisfied(target, cfg.targets):
        out.append(f"{cfg.path}: targets: the build image ({_describe(target)}) is none of "
                   "the configured targets; pypack makes a builder for the build image's "
                   "platform only")
    return out


def _describe(t: tg.BaseTarget) -> str:
    plat = "/".join(x for x in (t.os, t.arch, t.arch_variant) if x)
    return f"{plat} {t.distro.name}@{t.distro.version}" if t.distro else plat


def _metadata(cfg: BuilderConfig, new: Sequence[LoadedBuildpack], base: BaseImage,
              life: lb.LifecycleDescriptor) -> lb.BuilderMetadata:
    old = base.existing_metadata()
    infos = [*(old.buildpacks if old else ()), *(bp.info() for bp in new)]
    seen: dict[str, lb.ModuleInfo] = {}
    for info in infos:
        seen[str(info)] = info
    runs = tuple(lb.RunImageMeta(r.image, r.mirrors) for r in cfg.run_images)
    stack_run = runs[0] if cfg.stack_id else (old.stack_run_image if old
                                              else lb.RunImageMeta(""))
    return lb.BuilderMetadata(
        description=cfg.description, buildpacks=tuple(seen.values()),
        extensions=old.extensions if old else (), stack_run_image=stack_run, run_images=runs,
        lifecycle=life, created_by_name=CREATOR_NAME, created_by_version=lifecycle.__version__)


def _toml(doc: Mapping[str, object]) -> bytes:
    return tomli_w.dumps(doc).encode()


def _ref_toml(r: ModuleRef) -> dict[str, object]:
    return {"id": r.id, "version": r.version, **({"optional": True} if r.optional else {})}


def _run_toml(r: lb.RunImageMeta) -> dict[str, object]:
    return {"image": r.image, **({"mirrors": list(r.mirrors)} if r.mirrors else {})}


def _config_entries(cfg: BuilderConfig, order: Sequence[Group], system: tuple[Group, Group],
                    meta: lb.BuilderMetadata) -> list[ly.Entry]:
    """``/cnb/order.toml``, ``/cnb/run.toml``, ``/cnb/stack.toml`` (legacy, still written by
    pack), ``/cnb/system.toml`` and ``/cnb/build-config/env/*``."""
    order_doc = {"order": [{"group": [_ref_toml(r) for r in g]} for g in order]}
    out = [ly.file("cnb/order.toml", _toml(order_doc)),
           ly.file("cnb/run.toml", _toml({"images": [_run_toml(r) for r in meta.run_images]})),
           ly.file("cnb/stack.toml", _toml({"run-image": _run_toml(
               meta.stack_run_image if meta.stack_run_image.image else meta.run_images[0])}))]
    if any(system):
        sys_doc = {k: {"buildpacks": [_ref_toml(r) for r in refs]}
                   for k, refs in zip(("pre", "post"), system, strict=True) if refs}
        out.append(ly.file("cnb/system.toml", _toml({"system": sys_doc})))
    for name, value in sorted(cfg.build_config_env().items()):
        out.append(ly.file(f"cnb/build-config/env/{name}", value.encode()))
    return sorted(out, key=ly.sort_key)
