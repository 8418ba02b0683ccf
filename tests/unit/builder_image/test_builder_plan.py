"""The pure builder plan: order resolution and checks, label shapes (pack's key names, valid
against our schemas), /cnb files, default directories, compatibility warnings."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from builder_image_rig import TWO_BUILDPACKS, base, write_config

from lifecycle import schema
from lifecycle.builder import config, labels, sources
from lifecycle.builder.config import ModuleRef
from lifecycle.builder.plan import BuilderPlan, make_plan, pypack_lifecycle
from lifecycle.errors import FileFormatError, ImageError
from lifecycle.platform.files import order as order_file

DIFF_A = "sha256:" + "a" * 64
DIFF_B = "sha256:" + "b" * 64
DIFFS = {"test/alpha@0.0.1": DIFF_A, "test/beta@1.2.3": DIFF_B}


def _plan(tmp: Path, body: str = TWO_BUILDPACKS, **base_kw: object) -> BuilderPlan:
    cfg = config.load(write_config(tmp, body))
    loaded = sources.load_all(cfg, tmp / "scratch")
    return make_plan(cfg, loaded, base(**base_kw))  # type: ignore[arg-type]


def _entry(plan: BuilderPlan, path: str) -> bytes:
    return next(e.data for e in plan.config_entries if e.path == path)


def test_order_resolves_missing_versions(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert plan.order == ((ModuleRef("test/alpha", "0.0.1"),
                           ModuleRef("test/beta", "1.2.3", True)),)
    # order.toml holds the resolved order and is valid for the detector
    (tmp_path / "order.toml").write_bytes(_entry(plan, "cnb/order.toml"))
    loaded = order_file.load(tmp_path / "order.toml")
    assert [[str(e) for e in g.group] for g in loaded.order] == [
        ["test/alpha@0.0.1", "test/beta@1.2.3"]]
    assert loaded.order[0].group[1].optional
    # the order label keeps what the file said, as pack does
    assert json.loads(plan.labels(DIFFS)[labels.BUILDPACK_ORDER]) == [
        {"group": [{"id": "test/alpha", "version": "0.0.1"},
                   {"id": "test/beta", "optional": True}]}]


def test_buildpacks_sorted_and_labels_have_packs_shape(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert [b.full_name for b in plan.buildpacks] == ["test/alpha@0.0.1", "test/beta@1.2.3"]
    out = plan.labels(DIFFS)
    assert set(out) == {labels.BUILDER_METADATA, labels.BUILDPACK_LAYERS,
                        labels.BUILDPACK_ORDER, labels.LIFECYCLE_VERSION, labels.LIFECYCLE_APIS}
    meta = json.loads(out[labels.BUILDER_METADATA])
    assert set(meta) == {"description", "buildpacks", "extensions", "stack", "images",
                         "lifecycle", "createdBy"}
    assert meta["createdBy"] == {"name": "pypack", "version": pypack_lifecycle().version}
    assert meta["images"] == [{"image": "example.com/run:1", "mirrors": []}]
    assert meta["stack"] == {"runImage": {"image": "", "mirrors": []}}
    assert meta["buildpacks"][0] == {
        "id": "test/alpha", "version": "0.0.1", "name": "Alpha",
        "homepage": "https://example.com/alpha", "keywords": ["fixture"],
        "description": "First fixture buildpack for builder tests",
        "licenses": [{"type": "Apache-2.0", "uri": ""}]}
    assert meta["lifecycle"]["api"] == {"buildpack": "0.7", "platform": "0.15"}
    assert "0.12" in meta["lifecycle"]["apis"]["buildpack"]["supported"]
    assert json.loads(out[labels.LIFECYCLE_APIS]) == meta["lifecycle"]["apis"]
    assert out[labels.LIFECYCLE_VERSION] == meta["lifecycle"]["version"]
    layers = json.loads(out[labels.BUILDPACK_LAYERS])
    assert layers == {
        "test/alpha": {"0.0.1": {"api": "0.10", "layerDiffID": DIFF_A, "name": "Alpha",
                                 "homepage": "https://example.com/alpha",
                                 "targets": [{"os": "linux", "arch": ""}]}},
        "test/beta": {"1.2.3": {"api": "0.12", "layerDiffID": DIFF_B, "name": "Beta",
                                "stacks": [{"id": "*"}]}}}
    schema.validate(meta, "builder-metadata", "meta")
    schema.validate(layers, "buildpack-layers", "layers")
    # and they read back
    back = labels.read_metadata(out[labels.BUILDER_METADATA], "img")
    assert back == plan.metadata
    assert labels.read_layers(out[labels.BUILDPACK_LAYERS], "img") == plan.layers(DIFFS)
    assert labels.read_order(out[labels.BUILDPACK_ORDER], "img") == plan.config_order
    assert labels.read_lifecycle_apis(out[labels.LIFECYCLE_APIS], out[labels.LIFECYCLE_VERSION],
                                      "img") == plan.metadata.lifecycle


def test_label_text_is_deterministic(tmp_path: Path) -> None:
    a = _plan(tmp_path / "a").labels(DIFFS)
    b = _plan(tmp_path / "b").labels(DIFFS)
    assert a == b
    assert ": " not in a[labels.BUILDER_METADATA]


def test_run_and_stack_toml(tmp_path: Path) -> None:
    body = TWO_BUILDPACKS.replace('image = "example.com/run:1"',
                                  'image = "example.com/run:1"\n    mirrors = ["m.example/run:1"]')
    plan = _plan(tmp_path, body)
    run = tomllib.loads(_entry(plan, "cnb/run.toml").decode())
    assert run == {"images": [{"image": "example.com/run:1", "mirrors": ["m.example/run:1"]}]}
    schema.validate(run, "run", "run.toml")
    stack = tomllib.loads(_entry(plan, "cnb/stack.toml").decode())
    assert stack == {"run-image": {"image": "example.com/run:1",
                                   "mirrors": ["m.example/run:1"]}}


def test_stack_id_sets_the_legacy_run_image(tmp_path: Path) -> None:
    body = TWO_BUILDPACKS + '\n[stack]\nid = "io.example"\n'
    plan = _plan(tmp_path, body, labels={"io.buildpacks.stack.id": "io.example"})
    assert plan.metadata.stack_run_image == labels.RunImageMeta("example.com/run:1")


def test_stack_id_must_match_the_build_image(tmp_path: Path) -> None:
    body = TWO_BUILDPACKS + '\n[stack]\nid = "io.example"\n'
    with pytest.raises(FileFormatError, match="stack.id 'io.example' is incompatible with "
                                              "stack 'other'"):
        _plan(tmp_path, body, labels={"io.buildpacks.stack.id": "other"})


def test_system_buildpacks(tmp_path: Path) -> None:
    body = TWO_BUILDPACKS + ('\n[system]\n[[system.pre.buildpacks]]\nid = "test/beta"\n'
                             'optional = true\n')
    plan = _plan(tmp_path, body)
    system = tomllib.loads(_entry(plan, "cnb/system.toml").decode())
    assert system == {"system": {"pre": {"buildpacks": [
        {"id": "test/beta", "version": "1.2.3", "optional": True}]}}}
    schema.validate(system, "system", "system.toml")
    out = plan.labels(DIFFS)
    assert json.loads(out[labels.BUILDPACK_SYSTEM]) == {
        "pre": {"buildpacks": [{"id": "test/beta", "optional": True}]}}
    assert labels.read_system(out[labels.BUILDPACK_SYSTEM], "img") == (
        (ModuleRef("test/beta", "", True),), ())


@pytest.mark.parametrize(("order", "needle"), [
    ('id = "test/gamma"', "order[0].group[0]: no version of buildpack 'test/gamma' is on the "
                          "builder"),
    ('id = "test/beta"\nversion = "9"', "order[0].group[0]: buildpack test/beta@9 is not on "
                                        "the builder (versions there: 1.2.3)"),
])
def test_order_must_name_buildpacks_on_the_builder(tmp_path: Path, order: str,
                                                   needle: str) -> None:
    body = TWO_BUILDPACKS.split("[[order]]")[0] + (
        f"[[order]]\n[[order.group]]\n{order}\n"
        '[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n')
    with pytest.raises(FileFormatError) as err:
        _plan(tmp_path, body)
    assert needle in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "builder.toml"))


def test_ambiguous_version_needs_an_explicit_one(tmp_path: Path) -> None:
    existing = {"test/beta": {"0.9.0": {"api": "0.10", "layerDiffID": DIFF_A}}}
    body = TWO_BUILDPACKS.replace('id = "test/beta"\n    optional = true',
                                  'id = "test/beta"')
    with pytest.raises(FileFormatError, match="has versions 0.9.0, 1.2.3 on the builder"):
        _plan(tmp_path, body, labels={labels.BUILDPACK_LAYERS: json.dumps(existing)})


def test_buildpack_without_uri_must_be_on_the_build_image(tmp_path: Path) -> None:
    body = TWO_BUILDPACKS + '\n[[buildpacks]]\nid = "test/old"\nversion = "1"\n'
    with pytest.raises(FileFormatError, match=r"buildpacks\[2\]: buildpack 'test/old@1' has "
                                              "no uri and is not on the build image"):
        _plan(tmp_path, body)
    existing = {"test/old": {"1": {"api": "0.10", "layerDiffID": DIFF_A}}}
    plan = _plan(tmp_path, body, labels={labels.BUILDPACK_LAYERS: json.dumps(existing)})
    assert set(plan.layers(DIFFS)) == {"test/alpha", "test/beta", "test/old"}


def test_composite_references_are_checked(tmp_path: Path) -> None:
    comp = tmp_path / "bp-comp"
    comp.mkdir(parents=True)
    (comp / "buildpack.toml").write_text(
        'api = "0.10"\n[buildpack]\nid = "test/comp"\nversion = "1"\n'
        '[[order]]\n[[order.group]]\nid = "test/alpha"\nversion = "0.0.1"\n'
        '[[order.group]]\nid = "test/missing"\nversion = "2"\n')
    body = TWO_BUILDPACKS + '\n[[buildpacks]]\nuri = "bp-comp"\n'
    with pytest.raises(FileFormatError, match="test/comp@1 .composite. refers to test/missing@2"):
        _plan(tmp_path, body)


def test_missing_cnb_ids_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="env CNB_USER_ID is missing"):
        _plan(tmp_path, env={"CNB_GROUP_ID": "1"})
    with pytest.raises(ImageError, match="env CNB_GROUP_ID is 'x'"):
        _plan(tmp_path, env={"CNB_USER_ID": "1", "CNB_GROUP_ID": "x"})


def test_default_dirs_and_user(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    owned = {e.path: (e.uid, e.gid) for e in plan.dir_entries}
    assert owned["workspace"] == owned["layers"] == (1000, 1001)
    assert owned["cnb"] == owned["platform/env"] == owned["cnb/build-config/env"] == (0, 0)
    assert plan.user == "1000:1001"          # the build image had none
    assert _plan(tmp_path, user="cnb").user is None


def test_compatibility_warnings(tmp_path: Path) -> None:
    beta = tmp_path / "bp-beta"
    write_config(tmp_path, "")
    (beta / "buildpack.toml").write_text(
        'api = "0.12"\n[buildpack]\nid = "test/beta"\nversion = "1.2.3"\n'
        '[[targets]]\nos = "linux"\narch = "arm64"\n')
    body = TWO_BUILDPACKS + ('\n[[targets]]\nos = "linux"\narch = "arm64"\n'
                             '[lifecycle]\nversion = "0.20.0"\n')
    plan = _plan(tmp_path, body)
    text = "\n".join(plan.warnings)
    assert "buildpack test/beta@1.2.3 targets linux/arm64, which the build image " \
           "(linux/amd64) does not satisfy" in text
    assert "targets: the build image (linux/amd64) is none of the configured targets" in text
    assert "cannot download lifecycle '0.20.0' by version" in text
    assert "test/alpha" not in text


def test_stack_warning(tmp_path: Path) -> None:
    write_config(tmp_path, "")
    (tmp_path / "bp-beta" / "buildpack.toml").write_text(
        'api = "0.9"\n[buildpack]\nid = "test/beta"\nversion = "1.2.3"\n'
        '[[stacks]]\nid = "io.other"\n')
    plan = _plan(tmp_path, labels={"io.buildpacks.stack.id": "io.example"})
    assert any("declares stacks io.other, not 'io.example'" in w for w in plan.warnings)


def test_duplicate_buildpacks_warn_and_keep_one(tmp_path: Path) -> None:
    body = TWO_BUILDPACKS + '\n[[buildpacks]]\nuri = "bp-beta"\n'
    plan = _plan(tmp_path, body)
    assert [b.full_name for b in plan.buildpacks] == ["test/alpha@0.0.1", "test/beta@1.2.3"]
    assert any("test/beta@1.2.3 is listed more than once" in w for w in plan.warnings)
    assert len(plan.metadata.buildpacks) == 2
