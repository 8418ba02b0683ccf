"""The rebaser's pure core: refusals, the label/config transformation and the layer swap
(cnb-digest §5, §8 item 21). No registry, no I/O."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lifecycle.api import Version
from lifecycle.errors import RebaseError
from lifecycle.oci import mutate
from lifecycle.oci.config import ConfigFile, History, RunConfig
from lifecycle.oci.digest import Digest
from lifecycle.oci.fixtures import layer_from_files, random_image
from lifecycle.oci.image import ImageValue
from lifecycle.oci.platform import Platform
from lifecycle.phases.rebase import (
    NewBase,
    apply_plan,
    plan_rebase,
    resolve_run_image,
)
from lifecycle.platform.labels import (
    LIFECYCLE_METADATA,
    REBASABLE,
    LifecycleMetadata,
    RunImageMetadata,
)

P15 = Version(0, 15)
RUN = "registry.example/run"
NEW_REF = "registry.example/run@sha256:" + "b" * 64


def _d(c: str) -> Digest:
    return Digest.parse("sha256:" + c * 64)


OLD_BASE = (_d("1"), _d("2"))
APP_LAYERS = (_d("a"), _d("c"))
NEW_BASE = (_d("7"), _d("8"), _d("9"))


def _md(**run: object) -> LifecycleMetadata:
    ri = RunImageMetadata(top_layer=str(OLD_BASE[-1]), reference=RUN + "@sha256:" + "0" * 64,
                          image=RUN + ":v1", mirrors=("mirror.example/run",))
    return LifecycleMetadata(app=(str(APP_LAYERS[0]),), run_image=replace(ri, **run),
                             stack=RunImageMetadata(image=RUN + ":v1"))


def _app(md: LifecycleMetadata | None = None, labels: dict[str, str] | None = None,
         **cfg: object) -> ConfigFile:
    lab = {"io.buildpacks.base.id": "old", "io.buildpacks.stack.id": "old.stack",
           "io.buildpacks.base.distro.name": "ubuntu", "org.example": "keep",
           LIFECYCLE_METADATA: (md or _md()).to_json(), **(labels or {})}
    base = ConfigFile(architecture="amd64", os="linux", created="2024-01-01T00:00:00Z",
                      config=RunConfig(labels=lab, env=("CNB_PLATFORM_API=0.15",),
                                       entrypoint=("/cnb/process/web",)),
                      diff_ids=OLD_BASE + APP_LAYERS)
    return replace(base, **cfg)  # type: ignore[arg-type]


def _base(name: str = RUN + ":v2", labels: dict[str, str] | None = None,
          **cfg: object) -> NewBase:
    lab = {"io.buildpacks.base.id": "new", "io.buildpacks.base.distro.name": "ubuntu",
           "io.buildpacks.base.released": "today", "unrelated": "x", **(labels or {})}
    c = ConfigFile(architecture="amd64", os="linux", config=RunConfig(labels=lab),
                   diff_ids=NEW_BASE)
    return NewBase(replace(c, **cfg), name, NEW_REF)  # type: ignore[arg-type]


def _labels(cfg: ConfigFile) -> dict[str, str]:
    return dict(cfg.config.labels)


# --- transformation -----------------------------------------------------------------------------

def test_plan_keeps_upper_layers_and_rewrites_labels() -> None:
    plan = plan_rebase(_app(), _base(), force=False, platform_api=P15)
    assert plan.keep_from == len(OLD_BASE)
    assert plan.warnings == ()
    labels = _labels(plan.config)
    md = LifecycleMetadata.from_json(labels.pop(LIFECYCLE_METADATA))
    assert md.run_image.top_layer == str(NEW_BASE[-1])
    assert md.run_image.reference == NEW_REF
    assert md.run_image.image == RUN + ":v1"          # not forced: name kept
    assert md.run_image.mirrors == ("mirror.example/run",)
    assert md.app == (str(APP_LAYERS[0]),)
    # base.* and stack.* replaced by the new base's; the rest of the app's kept; base's others not
    assert labels == {"io.buildpacks.base.id": "new", "io.buildpacks.base.distro.name": "ubuntu",
                      "io.buildpacks.base.released": "today", "org.example": "keep"}
    assert plan.config.created == "1980-01-01T00:00:01Z"
    assert plan.config.config.entrypoint == ("/cnb/process/web",)
    assert plan.config.config.env == ("CNB_PLATFORM_API=0.15",)


def test_plan_created_is_the_given_constant() -> None:
    plan = plan_rebase(_app(), _base(), force=False, platform_api=P15,
                       created="2001-02-03T04:05:06Z")
    assert plan.config.created == "2001-02-03T04:05:06Z"


@pytest.mark.parametrize("name", [RUN + ":v2", RUN, "mirror.example/run:other",
                                  RUN + "@sha256:" + "e" * 64])
def test_run_image_names_accepted(name: str) -> None:
    plan_rebase(_app(), _base(name), force=False, platform_api=P15)


def test_legacy_stack_run_image_name_accepted() -> None:
    md = replace(_md(image="", mirrors=()), stack=RunImageMetadata(image="legacy.example/run"))
    plan_rebase(_app(md), _base("legacy.example/run:new"), force=False, platform_api=P15)


def test_force_with_unknown_run_image_renames_and_clears_mirrors() -> None:
    plan = plan_rebase(_app(), _base("other.example/run:9"), force=True, platform_api=P15)
    md = LifecycleMetadata.from_json(_labels(plan.config)[LIFECYCLE_METADATA])
    assert md.run_image.image == "other.example/run:9"
    assert md.run_image.mirrors == ()
    assert md.stack == RunImageMetadata(image="other.example/run:9")
    assert any("not the app's run image" in w for w in plan.warnings)


def test_force_takes_platform_from_new_base() -> None:
    plan = plan_rebase(_app(), _base(architecture="arm64", variant="v8"), force=True,
                       platform_api=P15)
    assert plan.config.platform == Platform("linux", "arm64", "v8")
    assert any("target mismatch" in w for w in plan.warnings)


def test_rebasable_false_forced_warns() -> None:
    plan = plan_rebase(_app(labels={REBASABLE: "false"}), _base(), force=True, platform_api=P15)
    assert any(REBASABLE in w for w in plan.warnings)


@pytest.mark.parametrize("value", ["true", None])
def test_rebasable_true_or_missing_is_fine(value: str | None) -> None:
    labels = {} if value is None else {REBASABLE: value}
    assert plan_rebase(_app(labels=labels), _base(), force=False, platform_api=P15).warnings == ()


# --- refusals -----------------------------------------------------------------------------------

REFUSALS = [
    ("rebasable false", _app(labels={REBASABLE: "false"}), _base(), "rebasable=false"),
    ("unknown run image", _app(), _base("other.example/run:1"), "not the app's run image"),
    ("os mismatch", _app(), _base(os="windows"), "target mismatch"),
    ("arch mismatch", _app(), _base(architecture="arm64"), "target mismatch"),
    ("variant mismatch", _app(variant="v7"), _base(variant="v8"), "variant"),
    ("distro mismatch", _app(), _base(labels={"io.buildpacks.base.distro.name": "alpine"}),
     "distro.name"),
    ("distro version missing on app", _app(),
     _base(labels={"io.buildpacks.base.distro.version": "22.04"}), "distro.version"),
]

HARD_REFUSALS = [
    ("top layer not found", _app(_md(top_layer=str(_d("f")))), _base(), "not one of"),
    ("no top layer", _app(_md(top_layer="")), _base(), "no runImage.topLayer"),
    ("no metadata label", replace(_app(), config=RunConfig(labels={})), _base(),
     LIFECYCLE_METADATA),
    ("bad metadata label", _app(labels={LIFECYCLE_METADATA: "{not json"}), _base(),
     LIFECYCLE_METADATA),
    ("empty new base", _app(), _base(diff_ids=()), "no layers"),
]


@pytest.mark.parametrize(("case", "app", "base", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_unless_forced(case: str, app: ConfigFile, base: NewBase, message: str) -> None:
    with pytest.raises(RebaseError, match=message.replace(".", r"\.")) as info:
        plan_rebase(app, base, force=False, platform_api=P15)
    assert info.value.exit_code == 72
    assert "\n" not in str(info.value)
    plan = plan_rebase(app, base, force=True, platform_api=P15)
    assert plan.warnings


@pytest.mark.parametrize(("case", "app", "base", "message"), HARD_REFUSALS,
                         ids=[r[0] for r in HARD_REFUSALS])
def test_refusals_even_forced(case: str, app: ConfigFile, base: NewBase, message: str) -> None:
    for force in (False, True):
        with pytest.raises(RebaseError, match=message.replace(".", r"\.")):
            plan_rebase(app, base, force=force, platform_api=P15)


def test_variant_matches_when_one_side_is_empty() -> None:
    plan_rebase(_app(variant="v8"), _base(), force=False, platform_api=P15)


# --- legacy (app built at Platform API < 0.12): stack id and mixins ---------------------------

def _legacy(labels: dict[str, str]) -> ConfigFile:
    app = _app(labels=labels)
    return replace(app, config=replace(app.config, env=("CNB_PLATFORM_API=0.11",)))


@pytest.mark.parametrize(("app_labels", "base_labels", "ok"), [
    ({"io.buildpacks.stack.id": "s"}, {"io.buildpacks.stack.id": "s"}, True),
    ({"io.buildpacks.stack.id": "s"}, {"io.buildpacks.stack.id": "t"}, False),
    ({"io.buildpacks.stack.id": "s"}, {}, False),
    ({"io.buildpacks.stack.id": "s", "io.buildpacks.stack.mixins": '["run:a", "b"]'},
     {"io.buildpacks.stack.id": "s", "io.buildpacks.stack.mixins": '["a", "b", "c"]'}, True),
    ({"io.buildpacks.stack.id": "s", "io.buildpacks.stack.mixins": '["a", "d"]'},
     {"io.buildpacks.stack.id": "s", "io.buildpacks.stack.mixins": '["a"]'}, False),
    # legacy apps are not checked by the rebasable label
    ({"io.buildpacks.stack.id": "s", REBASABLE: "false"}, {"io.buildpacks.stack.id": "s"}, True),
])
def test_legacy_stack_checks(app_labels: dict[str, str], base_labels: dict[str, str],
                             ok: bool) -> None:
    app, base = _legacy(app_labels), _base(labels=base_labels)
    if ok:
        plan_rebase(app, base, force=False, platform_api=P15)
    else:
        with pytest.raises(RebaseError, match="stack|mixins"):
            plan_rebase(app, base, force=False, platform_api=P15)


# --- run image resolution -----------------------------------------------------------------------

@pytest.mark.parametrize(("registry", "want"), [
    ("registry.example", RUN + ":v1"),
    ("mirror.example", "mirror.example/run"),
    ("elsewhere.example", RUN + ":v1"),
])
def test_resolve_run_image_prefers_app_registry(registry: str, want: str) -> None:
    assert resolve_run_image(_md(), registry) == want


def test_resolve_run_image_legacy_and_missing() -> None:
    legacy = LifecycleMetadata(stack=RunImageMetadata(image="old.example/run"))
    assert resolve_run_image(legacy, "x") == "old.example/run"
    with pytest.raises(RebaseError, match="no run image"):
        resolve_run_image(LifecycleMetadata(), "x")


# --- the layer swap on real (in-memory) images ------------------------------------------------

def _app_image(old_base: ImageValue) -> ImageValue:
    layer = layer_from_files({"workspace/app.txt": b"app"})
    img = mutate.append_layers(old_base, [layer], history=[History(created_by="app")])
    md = LifecycleMetadata(app=(str(layer.diff_id),), run_image=RunImageMetadata(
        top_layer=str(old_base.layers()[-1].diff_id), reference="r", image=RUN))
    return mutate.with_labels(img, {LIFECYCLE_METADATA: md.to_json(), "org.example": "1"})


def test_apply_swaps_base_layers_and_keeps_app_layer() -> None:
    old, new = random_image(2, seed=1), random_image(3, seed=2)
    app = _app_image(old)
    plan = plan_rebase(app.config(), NewBase(new.config(), RUN + ":2", NEW_REF),
                       force=False, platform_api=P15)
    out = apply_plan(app, new, plan)
    assert [ly.digest for ly in out.layers()] == \
        [ly.digest for ly in new.layers()] + [app.layers()[-1].digest]
    assert out.config().diff_ids == (*new.config().diff_ids, app.layers()[-1].diff_id)
    assert [d.digest for d in out.manifest().layers] == [ly.digest for ly in out.layers()]
    assert [h.created_by for h in out.config().history] == \
        [h.created_by for h in new.config().history] + ["app"]
    md = LifecycleMetadata.from_json(out.config().config.labels[LIFECYCLE_METADATA])
    assert md.run_image.top_layer == str(new.layers()[-1].diff_id)
    assert out.config().config.labels["org.example"] == "1"
    # the result is a consistent image value (manifest/config/layers agree)
    ImageValue.from_raw(out.raw_manifest(), out.raw_config(), out.layers())
    json.loads(out.raw_config())


def test_apply_is_deterministic() -> None:
    old, new = random_image(1, seed=3), random_image(1, seed=4)
    app = _app_image(old)
    base = NewBase(new.config(), RUN, NEW_REF)
    digests = {apply_plan(app, new, plan_rebase(app.config(), base, force=False,
                                                platform_api=P15)).digest() for _ in range(2)}
    assert len(digests) == 1
