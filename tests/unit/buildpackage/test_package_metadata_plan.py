"""The buildpackage metadata label, pack's stack merge (its documented examples), and the pure
plan: pack's reference checks, the platform choice, the labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from buildpackage_rig import PACKAGE_META, copy_fixtures, write_toml

from lifecycle.builder import labels as lb
from lifecycle.builder.sources import LoadedBuildpack, load_one
from lifecycle.buildpack.targets import Stack, Target
from lifecycle.buildpackage import config, metadata
from lifecycle.buildpackage.plan import choose_platform, make_plan
from lifecycle.errors import FileFormatError, ImageError, UsageError
from lifecycle.oci.platform import Platform

HOST = Platform("linux", "amd64")


def S(i: str, *mixins: str) -> Stack:
    return Stack(i, tuple(mixins))


@pytest.mark.parametrize(("a", "b", "want"), [
    ([S("s1", "build:A", "B", "run:C")], [S("s1", "build:A", "run:C")],
     [S("s1", "B", "build:A", "run:C")]),
    ([S("s1", "build:A"), S("s2", "A")], [S("s1", "run:C"), S("s2", "A")],
     [S("s1", "build:A", "run:C"), S("s2", "A")]),
    ([S("s1", "build:A"), S("s2", "A")], [S("s2", "A", "run:B")], [S("s2", "A", "run:B")]),
    ([S("s1", "build:A")], [S("s2", "A", "run:B")], []),
    ([S("*"), S("s1", "build:C")], [S("s1", "build:A"), S("s2")], [S("s1", "build:A"), S("s2")]),
    ([S("s1", "build:A")], [S("*"), S("s1", "build:C")], [S("s1", "build:A")]),
    ([S("*"), S("s1")], [S("*")], [S("*")]),
])
def test_merge_compatible_follows_pack(a: list[Stack], b: list[Stack],
                                       want: list[Stack]) -> None:
    assert list(metadata.merge_compatible(a, b)) == want


def test_resolve_stacks_wildcards_targets_only_and_skips_composites() -> None:
    assert metadata.resolve_stacks(((), False), [((), False)]) == (S("*"),)
    assert metadata.resolve_stacks(((), True), [((), True), ((S("x"),), False)]) == (S("x"),)
    assert metadata.resolve_stacks(((S("x"),), False), [((S("y"),), False)]) == ()


def test_metadata_label_round_trip() -> None:
    meta = metadata.PackageMetadata(
        lb.ModuleInfo("a/b", "1.0.0", name="AB", homepage="https://h"), (S("*"),),
        (Target("linux", "arm64", "v8"),))
    data = json.loads(meta.dumps())
    assert data == {"id": "a/b", "version": "1.0.0", "name": "AB", "homepage": "https://h",
                    "stacks": [{"id": "*"}],
                    "targets": [{"os": "linux", "arch": "arm64", "variant": "v8"}]}
    assert metadata.read(meta.dumps(), "img") == meta


@pytest.mark.parametrize(("text", "needle"), [
    ("{", "invalid JSON"), ("[]", "want a JSON object"), ('{"id": "x"}', "version"),
    ('{"id": "x", "version": "1", "stacks": {}}', "stacks"),
])
def test_metadata_label_errors(text: str, needle: str) -> None:
    with pytest.raises(ImageError, match=needle) as err:
        metadata.read(text, "img")
    assert "img: label io.buildpacks.buildpackage.metadata" in str(err.value)


def _load(cfg: config.PackageConfig, tmp: Path) -> tuple[LoadedBuildpack, list[LoadedBuildpack]]:
    main = load_one(cfg.buildpack, cfg.path, tmp / "m")
    return main, [load_one(d, cfg.path, tmp / str(i)) for i, d in enumerate(cfg.dependencies)]


def test_plan_of_the_composite(tmp_path: Path) -> None:
    cfg = config.load(PACKAGE_META)
    main, deps = _load(cfg, tmp_path)
    plan = make_plan(cfg, main, [*deps, deps[0]], HOST)
    assert [b.full_name for b in plan.buildpacks] == ["test/meta@0.1.0", "test/one@1.0.0",
                                                      "test/two@2.0.0"]
    assert plan.metadata.stacks == (S("*"),)
    assert plan.metadata.targets == (Target("linux"),)
    assert plan.platform == HOST
    ids = {"test/meta@0.1.0": "sha256:" + "a" * 64, "test/one@1.0.0": "sha256:" + "b" * 64,
           "test/two@2.0.0": "sha256:" + "c" * 64}
    got = plan.labels(ids)
    meta = json.loads(got[metadata.PACKAGE_METADATA])
    assert meta == {"id": "test/meta", "version": "0.1.0", "name": "Meta",
                    "homepage": "https://example.com/meta", "stacks": [{"id": "*"}],
                    "targets": [{"os": "linux", "arch": ""}]}
    layers = lb.read_layers(got[lb.BUILDPACK_LAYERS], "x")
    assert layers["test/meta"]["0.1.0"].order[0][1] == lb.ModuleRef("test/two", "2.0.0", True)
    assert layers["test/one"]["1.0.0"].layer_diff_id == ids["test/one@1.0.0"]
    assert layers["test/two"]["2.0.0"].stacks == (S("*"),)
    assert layers["test/one"]["1.0.0"].homepage == "https://example.com/one"


@pytest.mark.parametrize(("deps", "meta_order", "needle"), [
    ('[[dependencies]]\nuri = "bp-one"\n', None, "references buildpack test/two@2.0.0, which "
                                                "is not present"),
    ('[[dependencies]]\nuri = "bp-one"\n[[dependencies]]\nuri = "bp-two"\n',
     '[[order]]\n[[order.group]]\nid = "test/one"\nversion = "1.0.0"\n',
     "buildpack test/two@2.0.0 is not used by buildpack test/meta@0.1.0"),
    ('[[dependencies]]\nuri = "bp-one"\n',
     '[[order]]\n[[order.group]]\nid = "test/one"\nversion = "9"\n',
     "references buildpack test/one@9, which is not present"),
])
def test_plan_refuses_what_pack_refuses(tmp_path: Path, deps: str, meta_order: str | None,
                                        needle: str) -> None:
    copy_fixtures(tmp_path)
    if meta_order is not None:
        toml = (tmp_path / "meta" / "buildpack.toml").read_text()
        head = toml.split("[[order]]")[0]
        (tmp_path / "meta" / "buildpack.toml").write_text(head + meta_order)
    cfg = config.load(write_toml(tmp_path, f'[buildpack]\nuri = "meta"\n{deps}'))
    main, loaded = _load(cfg, tmp_path)
    with pytest.raises(FileFormatError, match=needle):
        make_plan(cfg, main, loaded, HOST)


def test_plan_refuses_incompatible_stacks_and_windows(tmp_path: Path) -> None:
    copy_fixtures(tmp_path)
    (tmp_path / "bp-two" / "buildpack.toml").write_text(
        'api = "0.9"\n[buildpack]\nid = "test/two"\nversion = "2.0.0"\n'
        '[[stacks]]\nid = "io.example.a"\n')
    (tmp_path / "bp-one" / "buildpack.toml").write_text(
        'api = "0.9"\n[buildpack]\nid = "test/one"\nversion = "1.0.0"\n'
        '[[stacks]]\nid = "io.example.b"\n')
    cfg = config.load(write_toml(tmp_path, '[buildpack]\nuri = "meta"\n[[dependencies]]\n'
                                           'uri = "bp-one"\n[[dependencies]]\nuri = "bp-two"\n'))
    main, loaded = _load(cfg, tmp_path)
    with pytest.raises(FileFormatError, match="no compatible stacks"):
        make_plan(cfg, main, loaded, HOST)
    win = config.load(write_toml(tmp_path, '[buildpack]\nuri = "bp-one"\n[platform]\n'
                                           'os = "windows"\n', "win.toml"))
    with pytest.raises(UsageError, match="linux buildpackages only"):
        make_plan(win, load_one(win.buildpack, win.path, tmp_path / "w"), [], HOST)


@pytest.mark.parametrize(("targets", "requested", "want"), [
    ((), None, "linux/amd64"),
    ((Target("linux", "amd64"), Target("linux", "arm64")), None, "linux/amd64"),
    ((Target("linux", "arm64", "v8"),), None, "linux/arm64/v8"),
    ((Target("linux"),), None, "linux/amd64"),
    ((Target("linux", "arm64"),), Platform("linux", "riscv64"), "linux/riscv64"),
])
def test_platform_choice(targets: tuple[Target, ...], requested: Platform | None,
                         want: str) -> None:
    assert str(choose_platform("linux", targets, HOST, requested)) == want
