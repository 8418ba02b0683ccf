"""launch.toml / build.toml / layer toml parsing, process merging, plans, SBOMs, metadata.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from lifecycle.api import Version
from lifecycle.buildpack import build as bpbuild
from lifecycle.buildpack import build_toml, launch_toml, layers, sbom
from lifecycle.buildpack.launch_toml import Label, Process, ProcessSet, Slice, merge_processes
from lifecycle.errors import BuildError
from lifecycle.platform.files import metadata
from lifecycle.platform.files.plan import Plan, PlanEntry, Provider, Require

V = Version.parse


def proc(t: str, default: bool = False, bp: str = "bp") -> Process:
    return Process(t, ("run", t), default=default, buildpack_id=bp)


# --- process merging ---------------------------------------------------------------------------
@pytest.mark.parametrize(("steps", "want_types", "want_default", "want_owner"), [
    # later definition of a type wins
    ([[proc("web", bp="a")], [proc("web", bp="b")]], ["web"], None, {"web": "b"}),
    # last default wins
    ([[proc("web", True, "a")], [proc("worker", True, "b")]], ["web", "worker"], "worker",
     {"web": "a", "worker": "b"}),
    # a non-default redefinition of the default type leaves no default
    ([[proc("web", True, "a")], [proc("web", False, "b")]], ["web"], None, {"web": "b"}),
    # ... unless a later process is default again
    ([[proc("web", True, "a")], [proc("web", False, "b"), proc("w", True, "b")]],
     ["w", "web"], "w", {"web": "b"}),
    # redefining a non-default type keeps the default
    ([[proc("web", True, "a"), proc("task", bp="a")], [proc("task", bp="b")]],
     ["task", "web"], "web", {"task": "b"}),
])
def test_merge_processes(steps: list[list[Process]], want_types: list[str],
                         want_default: str | None, want_owner: dict[str, str]) -> None:
    state = ProcessSet()
    for step in steps:
        state, _ = merge_processes(state, step)
    listed = state.listed()
    assert [p.type for p in listed] == want_types
    assert not any(p.default for p in listed)
    assert state.default_type == want_default
    for t, owner in want_owner.items():
        assert state.by_type[t].buildpack_id == owner


def test_merge_warns_on_default_redefinition() -> None:
    state, _ = merge_processes(ProcessSet(), [proc("web", True)])
    _, warnings = merge_processes(state, [proc("web")])
    assert warnings and "web" in warnings[0]


# --- launch.toml -------------------------------------------------------------------------------
def lt(data: dict[str, Any], api: str = "0.12") -> launch_toml.LaunchTOML:
    return launch_toml.parse(data, V(api), "bp/x", "launch.toml", "1.0")


@pytest.mark.parametrize(("api", "raw", "want_cmd", "want_direct"), [
    ("0.12", {"command": ["a", "b"]}, ("a", "b"), True),
    ("0.9", {"command": ["a"]}, ("a",), True),
    ("0.8", {"command": "a b"}, ("a b",), False),
    ("0.8", {"command": "a", "direct": True}, ("a",), True),
    ("0.7", {"command": "a", "direct": False}, ("a",), False),
])
def test_command_forms(api: str, raw: dict[str, Any], want_cmd: tuple[str, ...],
                       want_direct: bool) -> None:
    p = lt({"processes": [{"type": "web", **raw}]}, api).processes[0]
    assert (p.command, p.direct, p.buildpack_id) == (want_cmd, want_direct, "bp/x")


@pytest.mark.parametrize(("api", "raw"), [
    ("0.9", {"command": "a"}),                      # string command from 0.9
    ("0.12", {"command": ["a"], "direct": True}),   # direct is gone from 0.9
    ("0.8", {"command": ["a"]}),                    # array before 0.9
])
def test_command_form_errors(api: str, raw: dict[str, Any]) -> None:
    with pytest.raises(BuildError):
        lt({"processes": [{"type": "web", **raw}]}, api)


@pytest.mark.parametrize(("api", "want_wd", "want_env"), [
    ("0.7", None, ()),
    ("0.8", "/w", ()),
    ("0.11", "/w", ()),
    ("0.12", "/w", ("test",)),
])
def test_working_dir_and_exec_env_gates(api: str, want_wd: str | None,
                                        want_env: tuple[str, ...]) -> None:
    cmd: Any = ["a"] if V(api).at_least("0.9") else "a"
    p = lt({"processes": [{"type": "web", "command": cmd, "working-dir": "/w",
                           "exec-env": ["test"]}]}, api).processes[0]
    assert (p.working_dir, p.exec_env) == (want_wd, want_env)


def test_two_defaults_in_one_file_is_an_error() -> None:
    with pytest.raises(BuildError, match="multiple default"):
        lt({"processes": [{"type": "a", "command": ["x"], "default": True},
                          {"type": "b", "command": ["y"], "default": True}]})


@pytest.mark.parametrize("data", [
    {"processes": [{"type": "a", "command": ["x"]}, {"type": "a", "command": ["y"]}]},
    {"processes": [{"type": "bad/type", "command": ["x"]}]},
    {"labels": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]},
    {"processes": [{"type": "a"}]},
    {"bom": [{"name": "dep", "version": "1"}]},
])
def test_invalid_launch_toml(data: dict[str, Any]) -> None:
    with pytest.raises(BuildError):
        lt(data)


@pytest.mark.parametrize(("api", "is_default"), [("0.7", False), ("0.12", False), ("0.5", True)])
def test_web_implicit_default_only_below_0_6(api: str, is_default: bool) -> None:
    # platform.md "builder": web of Buildpack API < 0.6 counts as default (no supported API)
    cmd: Any = ["x"] if V(api).at_least("0.9") else "x"
    p = launch_toml.parse_process({"type": "web", "command": cmd}, V(api), "bp", "w")
    assert p.default is is_default


def test_labels_slices_bom() -> None:
    got = lt({"labels": [{"key": "k", "value": "v"}], "slices": [{"paths": ["a/*"]}],
              "bom": [{"name": "dep", "metadata": {"version": "1"}}]}, "0.7")
    assert got.labels == (Label("k", "v"),)
    assert got.slices == (Slice(("a/*",)),)
    assert got.bom[0].to_json() == {"name": "dep", "metadata": {"version": "1"},
                                    "buildpack": {"id": "bp/x", "version": "1.0"}}


def test_missing_launch_toml_is_empty(tmp_path: Path) -> None:
    assert launch_toml.load(tmp_path / "launch.toml", V("0.12"), "bp") == launch_toml.LaunchTOML()


# --- build.toml, plans -------------------------------------------------------------------------
def test_met_names_and_unmet_validation() -> None:
    assert build_toml.met_names(["x", "y", "x"], ["x"], "b") == ("y",)
    assert build_toml.met_names(["x"], [], "b") == ("x",)
    with pytest.raises(BuildError, match="unmet"):
        build_toml.met_names(["x"], ["z"], "b")


def test_build_toml_parse() -> None:
    assert build_toml.parse({"unmet": [{"name": "x"}]}, "b").unmet == ("x",)
    with pytest.raises(BuildError):
        build_toml.parse({"unmet": [{}]}, "b")


def _plan() -> Plan:
    a, b = Provider("a", "1"), Provider("b", "1")
    return Plan((PlanEntry((a, b), (Require("x", {"v": 1}), Require("x", {"v": 2}))),
                 PlanEntry((a, b), (Require("y"),)),
                 PlanEntry((b,), (Require("z"),))))


def test_bp_plans_and_forwarding() -> None:
    plan = _plan()
    assert [r.name for r in plan.find("a")] == ["x", "x", "y"]
    # a leaves x unmet: x reaches b, y does not
    met = build_toml.met_names([r.name for r in plan.find("a")], ["x"], "b")
    later = bpbuild.filter_plan(plan, met)
    assert [r.name for r in later.find("b")] == ["x", "x", "z"]
    assert bpbuild.plan_document(later.find("b"))["entries"][0] == {"name": "x",
                                                                   "metadata": {"v": 1}}


# --- layer toml --------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "want"), [
    ({}, layers.LayerTypes()),
    ({"types": {"build": True}}, layers.LayerTypes(build=True)),
    ({"types": {"launch": True, "cache": True}, "metadata": {"a": 1}},
     layers.LayerTypes(launch=True, cache=True)),
])
def test_layer_types(data: dict[str, Any], want: layers.LayerTypes) -> None:
    assert layers.parse(data, "l.toml").types == want


@pytest.mark.parametrize("data", [{"launch": True}, {"build": False, "types": {}},
                                  {"types": {"build": "yes"}}])
def test_layer_toml_errors(data: dict[str, Any]) -> None:
    with pytest.raises(BuildError):
        layers.parse(data, "l.toml")


def test_layer_names_and_forbidden() -> None:
    entries = {"a.toml": False, "a": True, "b": True, "c.toml": False, "launch.toml": False,
               "build.toml": False, "store.toml": False, "x.ignore": True, "a.sbom.cdx.json": False}
    assert layers.layer_names(entries) == ("a", "b", "c")
    assert layers.forbidden_dirs({"store": True, "launch.toml": False, "build": True}) == (
        "build", "store")


def test_scan_and_rename_ignored(tmp_path: Path) -> None:
    for name, toml in (("keep", "[types]\ncache = true\n"), ("tmp", "[metadata]\nx = 1\n")):
        (tmp_path / name).mkdir()
        (tmp_path / f"{name}.toml").write_text(toml)
    (tmp_path / "tmp.ignore").mkdir()  # left over from an earlier build
    found = layers.scan(tmp_path)
    layers.rename_ignored(found)
    assert (tmp_path / "keep").is_dir() and (tmp_path / "tmp.ignore").is_dir()
    assert not (tmp_path / "tmp").exists()
    (tmp_path / "store").mkdir()
    with pytest.raises(BuildError, match="forbidden"):
        layers.scan(tmp_path)


# --- SBOM --------------------------------------------------------------------------------------
def test_sbom_classification(tmp_path: Path) -> None:
    types = {"l": layers.LayerTypes(launch=True, cache=True), "b": layers.LayerTypes(build=True)}
    names = ["launch.sbom.cdx.json", "build.sbom.spdx.json", "l.sbom.syft.json",
             "b.sbom.cdx.json", "gone.sbom.cdx.json", "readme.txt"]
    got = sbom.classify("bp/x", tmp_path, names, types)
    where = {(f.layer, f.kind, f.ext) for f in got}
    assert where == {(None, "launch", "cdx.json"), (None, "build", "spdx.json"),
                     ("l", "launch", "syft.json"), ("l", "cache", "syft.json"),
                     ("b", "build", "cdx.json")}
    dest = {str(sbom.destination(Path("/L"), f)) for f in got}
    assert "/L/sbom/launch/bp_x/l/sbom.syft.json" in dest
    assert "/L/sbom/launch/bp_x/sbom.cdx.json" in dest
    with pytest.raises(BuildError, match="unsupported"):
        sbom.classify("bp", tmp_path, ["launch.sbom.foo.json"], {})


def test_sbom_media_types_must_be_declared(tmp_path: Path) -> None:
    files = sbom.classify("bp", tmp_path, ["launch.sbom.cdx.json"], {})
    sbom.check_declared(files, ["application/vnd.cyclonedx+json; version=1.4"], "bp")
    with pytest.raises(BuildError, match="not declared"):
        sbom.check_declared(files, ["application/spdx+json"], "bp")


# --- metadata.toml -----------------------------------------------------------------------------
def test_metadata_round_trip(tmp_path: Path) -> None:
    md = metadata.BuildMetadata(
        buildpacks=(metadata.ModuleRef("bp/a", "1", "0.12", "https://x"),),
        processes=(Process("web", ("a", "b"), ("c",), True, False, "/w", (), "bp/a"),
                   Process("t", ("x",), exec_env=("test",), buildpack_id="bp/a")),
        labels=(Label("k", "v"),), slices=(Slice(("s/*",)),),
        buildpack_default_process_type="web")
    path = tmp_path / "config" / "metadata.toml"
    metadata.dump(path, md)
    raw = tomllib.loads(path.read_text())
    assert raw["buildpack-default-process-type"] == "web"
    assert raw["processes"][0] == {"type": "web", "command": ["a", "b"], "args": ["c"],
                                   "direct": True, "working-dir": "/w", "buildpack-id": "bp/a",
                                   "exec-env": ["*"]}
    assert raw["processes"][1]["exec-env"] == ["test"]
    back = metadata.load(path)
    assert back.buildpacks == md.buildpacks and back.labels == md.labels
    web = back.find_process("web")
    assert web is not None and web.exec_env == ("*",)
    assert metadata.applies_to(web, "production")
    t = back.find_process("t")
    assert t is not None and not metadata.applies_to(t, "production")
