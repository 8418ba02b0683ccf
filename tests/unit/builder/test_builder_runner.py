"""The build phase in-process with a fake Runner (no programs run): the thin edge is swappable."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lifecycle.buildpack import build as bpbuild
from lifecycle.buildpack import descriptor
from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.errors import BuildError, BuildpackBuildFailed
from lifecycle.phases.build import BuildInputs, build
from lifecycle.platform.files.group import Group, GroupEntry
from lifecycle.platform.files.plan import Plan
from lifecycle.sandbox import Command, OutputSink, Result

BUILDPACKS = Path(__file__).resolve().parents[2] / "testdata" / "builder" / "buildpacks"

Action = Callable[[Command], int]


class FakeRunner:
    """Records commands; runs a Python action per buildpack instead of bin/build."""

    def __init__(self, actions: dict[str, Action]) -> None:
        self.actions = actions
        self.commands: list[Command] = []

    def __call__(self, cmd: Command, on_output: OutputSink | None = None) -> Result:
        self.commands.append(cmd)
        bp_dir = Path(cmd.argv[1]).name
        return Result(self.actions[bp_dir](cmd), b"")


def _inputs(tmp_path: Path, environ: dict[str, str] | None = None) -> BuildInputs:
    for d in ("app", "layers", "platform"):
        (tmp_path / d).mkdir(exist_ok=True)
    return BuildInputs(app_dir=str(tmp_path / "app"), layers_dir=str(tmp_path / "layers"),
                       platform_dir=str(tmp_path / "platform"), buildpacks_dir=str(BUILDPACKS),
                       environ=environ or {"PATH": "/usr/bin"})


def _group(*ids: tuple[str, str]) -> Group:
    return Group(tuple(GroupEntry(i, "0.0.1", api) for i, api in ids))


def _write(rel: str, text: str) -> Action:
    def act(cmd: Command) -> int:
        p = Path(cmd.argv[1]) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return 0
    return act


def test_two_defaults_in_one_launch_toml_is_52(tmp_path: Path) -> None:
    launch = ('[[processes]]\ntype = "a"\ncommand = ["x"]\ndefault = true\n'
              '[[processes]]\ntype = "b"\ncommand = ["y"]\ndefault = true\n')
    runner = FakeRunner({"bp_a": _write("launch.toml", launch)})
    with pytest.raises(BuildError, match="multiple default") as err:
        build(_group(("bp/a", "0.12")), Plan(), _inputs(tmp_path), runner)
    assert err.value.exit_code == 52


def test_top_level_layer_types_are_52(tmp_path: Path) -> None:
    runner = FakeRunner({"bp_a": _write("l.toml", "launch = true\n")})
    with pytest.raises(BuildError, match=r"\[types\]"):
        build(_group(("bp/a", "0.12")), Plan(), _inputs(tmp_path), runner)


def test_undeclared_sbom_is_52(tmp_path: Path) -> None:
    runner = FakeRunner({"bp_b": _write("launch.sbom.spdx.json", "{}")})
    with pytest.raises(BuildError, match="not declared"):
        build(_group(("bp/b", "0.9")), Plan(), _inputs(tmp_path), runner)


def test_failure_stops_the_group(tmp_path: Path) -> None:
    runner = FakeRunner({"bp_a": lambda c: 7, "bp_b": lambda c: 0})
    with pytest.raises(BuildpackBuildFailed, match="status 7") as err:
        build(_group(("bp/a", "0.12"), ("bp/b", "0.9")), Plan(), _inputs(tmp_path), runner)
    assert err.value.exit_code == 51
    assert len(runner.commands) == 1


def test_unstartable_program_is_51(tmp_path: Path) -> None:
    def boom(cmd: Command, on_output: OutputSink | None = None) -> Result:
        raise PermissionError(13, "Permission denied")
    with pytest.raises(BuildpackBuildFailed):
        build(_group(("bp/a", "0.12")), Plan(), _inputs(tmp_path), boom)


def test_command_shape_and_secrets(tmp_path: Path) -> None:
    runner = FakeRunner({"bp_a": lambda c: 0})
    environ = {"PATH": "/usr/bin", "CNB_REGISTRY_AUTH": "{}", "CNB_APP_DIR": "/x", "HOME": "/h"}
    md = build(_group(("bp/a", "0.12")), Plan(), _inputs(tmp_path, environ), runner)
    cmd = runner.commands[0]
    assert cmd.cwd == str(tmp_path / "app")
    assert cmd.env["HOME"] == "/h" and "CNB_REGISTRY_AUTH" not in cmd.env
    assert "CNB_APP_DIR" not in cmd.env
    assert Path(cmd.env["CNB_LAYERS_DIR"]).is_dir()
    assert not os.path.exists(cmd.env["CNB_BP_PLAN_PATH"])   # temporary, removed afterwards
    assert md.buildpacks[0].id == "bp/a" and md.processes == ()


def test_operator_env_applies_after_buildpack_env(tmp_path: Path) -> None:
    cfg = tmp_path / "build-config" / "env"
    cfg.mkdir(parents=True)
    (cfg / "OP_DEFAULT").write_text("op")
    (cfg / "HOME.override").write_text("/op-home")
    (cfg / "CNB_LAYERS_DIR.override").write_text("/nope")
    runner = FakeRunner({"bp_a": lambda c: 0})
    ctx = bpbuild.BuildContext(str(tmp_path), str(tmp_path / "layers"), str(tmp_path),
                               build_config_dir=str(tmp_path / "build-config"))
    bpbuild.run(_bp(), (), {"PATH": "/usr/bin", "HOME": "/h"}, ctx, runner)
    env = runner.commands[0].env
    assert env["OP_DEFAULT"] == "op" and env["HOME"] == "/op-home"
    assert env["CNB_LAYERS_DIR"] == str(tmp_path / "layers" / "bp_a")


def _bp() -> BuildpackDescriptor:
    return descriptor.find(BUILDPACKS, "bp/a", "0.0.1")


def test_invalid_store_toml_is_52(tmp_path: Path) -> None:
    runner = FakeRunner({"bp_a": _write("store.toml", "metadata = 1\n")})
    with pytest.raises(BuildError, match="store.toml"):
        build(_group(("bp/a", "0.12")), Plan(), _inputs(tmp_path), runner)
