"""metadata.toml parsing, layer scanning and plan resolution on the ``basic`` fixture tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from launch_fixtures import Tree

from lifecycle.errors import LaunchError
from lifecycle.launch import layers, metadata
from lifecycle.launch.metadata import Buildpack, Process
from lifecycle.launch.plan import LaunchPlan, Settings, resolve
from lifecycle.launch.shell import BASH


def plan_for(tree: Tree, argv0: str, args: list[str], **env: str) -> LaunchPlan:
    md = metadata.load(str(tree.layers / "config" / "metadata.toml"))
    scanned = layers.scan(str(tree.layers), md.buildpacks)
    return resolve(md, scanned, argv0, args, tree.environ(**env),
                   app_profile=str(tree.app / ".profile"))


# --- metadata.toml ------------------------------------------------------------------------------
def test_fixture_metadata_loads(tree: Tree) -> None:
    md = metadata.load(str(tree.layers / "config" / "metadata.toml"))
    assert md.default_process_type == "web"
    assert md.buildpacks[0] == Buildpack("example/first", "0.12", "1.0.0")
    web = md.processes[0]
    assert web == Process("web", ("probe", "always"), ("default1", "default2"), direct=True,
                          buildpack_id="example/first")
    legacy = next(p for p in md.processes if p.type == "legacy-direct")
    assert legacy.command == ("probe",) and legacy.command_is_string


@pytest.mark.parametrize(("data", "match"), [
    ({"processes": [{"command": ["x"]}]}, "missing required key 'type'"),
    ({"processes": [{"type": "w", "command": []}]}, "'command' is empty"),
    ({"processes": [{"type": "w", "command": [1]}]}, "array of strings"),
    ({"processes": [{"type": "w", "command": ["x"], "direct": "yes"}]}, "boolean"),
    ({"processes": [{"type": "w", "command": ["x"], "exec-env": "prod"}]}, "array of strings"),
    ({"buildpacks": [{"id": "a"}]}, "missing required key 'api'"),
    ({"processes": {"type": "w"}}, "array of tables"),
])
def test_bad_metadata_is_a_launch_error(data: dict[str, object], match: str) -> None:
    with pytest.raises(LaunchError, match=match):
        metadata.parse(data)


def test_missing_or_broken_metadata_file(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="not found"):
        metadata.load(str(tmp_path / "metadata.toml"))
    (tmp_path / "metadata.toml").write_text("[[processes]\n")
    with pytest.raises(LaunchError, match="cannot read"):
        metadata.load(str(tmp_path / "metadata.toml"))


# --- settings -----------------------------------------------------------------------------------
def test_settings_defaults_and_overrides() -> None:
    assert Settings.from_environ({}) == Settings()
    assert Settings().metadata_path == "/layers/config/metadata.toml"
    s = Settings.from_environ({"CNB_LAYERS_DIR": "/l", "CNB_APP_DIR": "/a", "CNB_EXEC_ENV": "",
                               "CNB_LOG_LEVEL": "DEBUG", "CNB_PROCESS_TYPE": "w"})
    assert (s.layers_dir, s.app_dir, s.exec_env, s.debug, s.process_type) == (
        "/l", "/a", "production", True, "w")
    with pytest.raises(LaunchError, match="must not contain"):
        Settings.from_environ({"CNB_EXEC_ENV": "a/b"})


# --- layer scan ---------------------------------------------------------------------------------
def test_scan_follows_metadata_order_and_skips_absent_buildpacks(tree: Tree) -> None:
    md = metadata.load(str(tree.layers / "config" / "metadata.toml"))
    scanned = layers.scan(str(tree.layers), md.buildpacks)
    assert [b.id for b in scanned] == ["example/first", "example/legacy"]
    alpha, beta = scanned[0].layers
    assert alpha.path == str(tree.layers / "example_first" / "alpha")
    assert (alpha.has_bin, alpha.has_lib, beta.has_bin) == (True, True, False)
    assert [f.name for f in alpha.env] == ["FOO.override", "LIST.append", "LIST.delim"]
    assert set(alpha.env_launch_typed) == {"web"}
    assert [Path(p).name for p in alpha.execd] == ["10-set"]
    assert [Path(p).name for p in alpha.execd_typed["web"]] == ["20-web"]


# --- resolution ---------------------------------------------------------------------------------
def test_direct_process_plan(tree: Tree) -> None:
    plan = plan_for(tree, "/cnb/process/web", ["a"])
    assert plan.direct and plan.program == "probe"
    assert plan.argv == ("probe", "always", "a")
    assert plan.cwd == str(tree.app)
    assert [Path(p).name for p in plan.execd] == ["10-set", "20-web"]
    assert plan.env["WEB_ONLY"] == "web" and plan.env["FOO"] == "first-beta"
    assert plan.env["LIST"] == "ab" and plan.env["PRE"] == "legacy"
    assert plan.env["DEF"] == "beta-default"
    assert not any(k in plan.env for k in ("CNB_LAYERS_DIR", "CNB_APP_DIR", "CNB_PLATFORM_API"))
    assert plan.env["PATH"].startswith(str(tree.layers / "example_legacy" / "gamma" / "bin"))
    assert "/cnb/process" not in plan.env["PATH"].split(":")


def test_working_dir_is_relative_to_the_app(tree: Tree) -> None:
    assert plan_for(tree, "worker", []).cwd == str(tree.app / "sub")


def test_other_processes_do_not_get_typed_env_or_execd(tree: Tree) -> None:
    plan = plan_for(tree, "worker", [])
    assert "WEB_ONLY" not in plan.env and "SHELL_ONLY" not in plan.env
    assert [Path(p).name for p in plan.execd] == ["10-set"]
    assert plan_for(tree, "legacy-shell", []).env["SHELL_ONLY"] == "legacy-shell-only"


def test_shell_process_plan_sources_profiles_in_spec_order(tree: Tree) -> None:
    plan = plan_for(tree, "/cnb/lifecycle/launcher", ["echo $HOME"])
    assert not plan.direct and plan.program == BASH
    assert plan.cwd == str(tree.app)
    bash, flag, script, caller, *tokens = plan.argv
    assert (bash, flag, caller, tokens) == ("bash", "-c", "/cnb/lifecycle/launcher",
                                            ["echo $HOME"])
    sourced = [line.split(" ", 1)[1].strip("'") for line in script.splitlines()
               if line.startswith("source ")]
    assert [str(Path(p).relative_to(tree.root)) for p in sourced] == [
        "layers/example_first/alpha/profile.d/10.sh",
        "layers/example_legacy/gamma/profile.d/10.sh",
        "workspace/.profile"]


def test_typed_profiles_come_after_all_generic_ones(tree: Tree) -> None:
    md = metadata.load(str(tree.layers / "config" / "metadata.toml"))
    md = metadata.Metadata(processes=(*md.processes, Process(
        "web-shell", ("x",), direct=False, buildpack_id="example/legacy")),
        buildpacks=md.buildpacks)
    gamma_web = tree.layers / "example_legacy" / "gamma" / "profile.d" / "web-shell"
    alpha_web = tree.layers / "example_first" / "alpha" / "profile.d" / "web-shell"
    for d in (gamma_web, alpha_web):
        d.mkdir()
        (d / "p.sh").write_text("true\n")
    plan = resolve(md, layers.scan(str(tree.layers), md.buildpacks), "web-shell", [],
                   tree.environ())
    sourced = [line for line in plan.argv[2].splitlines() if line.startswith("source ")]
    names = [s.split("/layers/")[1].rstrip("'") for s in sourced]
    assert names == ["example_first/alpha/profile.d/10.sh",
                     "example_legacy/gamma/profile.d/10.sh",
                     "example_first/alpha/profile.d/web-shell/p.sh",
                     "example_legacy/gamma/profile.d/web-shell/p.sh"]


def test_execd_runs_generic_programs_of_all_layers_before_typed_ones(tree: Tree) -> None:
    beta_execd = tree.layers / "example_first" / "beta" / "exec.d"
    beta_execd.mkdir()
    (beta_execd / "05-beta").write_text("#!/bin/sh\n")
    plan = plan_for(tree, "web", [])
    assert [str(Path(p).relative_to(tree.layers)) for p in plan.execd] == [
        "example_first/alpha/exec.d/10-set",
        "example_first/beta/exec.d/05-beta",
        "example_first/alpha/exec.d/web/20-web"]


def test_plan_with_env_is_a_new_value(tree: Tree) -> None:
    plan = plan_for(tree, "web", [])
    updated = plan.with_env({"FOO": "x"})
    assert updated.env["FOO"] == "x" and plan.env["FOO"] == "first-beta"
