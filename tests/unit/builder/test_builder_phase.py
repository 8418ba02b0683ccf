"""The builder program end to end: ``python3 -m lifecycle.cli.phases builder`` against shell
buildpacks in tests/testdata/builder (Platform API 0.15, Buildpack APIs 0.7-0.12)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BUILDPACKS = Path(__file__).resolve().parents[2] / "testdata" / "builder" / "buildpacks"

BPS = {"bp/a": "0.12", "bp/b": "0.9", "bp/old": "0.7", "bp/fail": "0.12",
       "bp/forbidden": "0.12", "bp/clear": "0.10"}

PLAN = """
[[entries]]
  [[entries.providers]]
  id = "bp/a"
  version = "0.0.1"
  [[entries.providers]]
  id = "bp/b"
  version = "0.0.1"
  [[entries.requires]]
  name = "dep-x"
  [entries.requires.metadata]
  version = "1.0"

[[entries]]
  [[entries.providers]]
  id = "bp/a"
  version = "0.0.1"
  [[entries.providers]]
  id = "bp/b"
  version = "0.0.1"
  [[entries.requires]]
  name = "dep-y"

[[entries]]
  [[entries.providers]]
  id = "bp/old"
  version = "0.0.1"
  [[entries.requires]]
  name = "dep-z"
"""


@dataclass
class Run:
    rc: int
    output: str
    app: Path
    layers: Path

    def env(self, bp: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in (self.app / "out" / f"{bp}.env").read_text().splitlines():
            k, sep, v = line.partition("=")
            if sep:
                out[k] = v
        return out

    def plan(self, bp: str) -> dict[str, Any]:
        return tomllib.loads((self.app / "out" / f"{bp}.plan.toml").read_text())

    def ran(self, bp: str) -> bool:
        return (self.app / "out" / f"{bp}.env").exists()

    def metadata(self) -> dict[str, Any]:
        return tomllib.loads((self.layers / "config" / "metadata.toml").read_text())


def builder(tmp_path: Path, group: list[str], *extra: str) -> Run:
    app, layers, platform = tmp_path / "app", tmp_path / "layers", tmp_path / "platform"
    for d in (app, layers, platform / "env"):
        d.mkdir(parents=True)
    (platform / "env" / "USER_VAR").write_text("from-user")
    (platform / "env" / "PATH").write_text("/user/bin")
    (layers / "group.toml").write_text("".join(
        f'[[group]]\nid = "{bp}"\nversion = "0.0.1"\napi = "{BPS[bp]}"\n\n' for bp in group))
    (layers / "plan.toml").write_text(PLAN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    env.update({"CNB_PLATFORM_API": "0.15", "CNB_REGISTRY_AUTH": '{"r.io": "Basic c2VjcmV0"}',
                "HOME": str(tmp_path)})
    argv = [sys.executable, "-m", "lifecycle.cli.phases", "builder", "-app", str(app),
            "-layers", str(layers), "-platform", str(platform),
            "-buildpacks", str(BUILDPACKS), "-build-config", str(tmp_path / "build-config"),
            *extra]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr, app, layers)


@pytest.fixture(scope="module")
def ok(tmp_path_factory: pytest.TempPathFactory) -> Run:
    run = builder(tmp_path_factory.mktemp("ok"), ["bp/a", "bp/b", "bp/old"])
    assert run.rc == 0, run.output
    return run


def test_buildpack_env(ok: Run) -> None:
    env = ok.env("bp_a")
    layers = ok.layers
    assert env["CNB_LAYERS_DIR"] == str(layers / "bp_a")
    assert env["CNB_BUILDPACK_DIR"] == str(BUILDPACKS / "bp_a" / "0.0.1")
    assert env["CNB_PLATFORM_DIR"] == str(layers.parent / "platform")
    assert env["CNB_EXEC_ENV"] == "production"
    assert env["CNB_TARGET_OS"] == "linux" and env["CNB_TARGET_ARCH"]
    assert Path(env["CNB_BP_PLAN_PATH"]).name == "plan.toml"
    assert env["USER_VAR"] == "from-user"
    assert env["PATH"].startswith("/user/bin:")
    assert env["HOME"] == str(layers.parent)
    for bp in ("bp_a", "bp_b", "bp_old"):
        assert not any(k == "CNB_REGISTRY_AUTH" or "c2VjcmV0" in v
                       for k, v in ok.env(bp).items())
    argv = (ok.app / "out" / "bp_a.argv").read_text().splitlines()
    assert argv[0] == str(BUILDPACKS / "bp_a" / "0.0.1" / "bin" / "build")
    assert argv[1:3] == [str(layers / "bp_a"), str(layers.parent / "platform")]


def test_env_gated_by_buildpack_api(ok: Run) -> None:
    b, old = ok.env("bp_b"), ok.env("bp_old")
    assert "CNB_EXEC_ENV" not in b and "CNB_TARGET_OS" not in b      # 0.9
    assert "CNB_LAYERS_DIR" not in old and "CNB_BP_PLAN_PATH" not in old  # 0.7
    assert "CNB_PLATFORM_DIR" not in old and old["CNB_BUILDPACK_DIR"]


def test_bp_plans_and_unmet_forwarding(ok: Run) -> None:
    assert ok.plan("bp_a") == {"entries": [{"name": "dep-x", "metadata": {"version": "1.0"}},
                                           {"name": "dep-y", "metadata": {}}]}
    # bp/a left dep-x unmet: it reaches bp/b; dep-y was met and does not
    assert ok.plan("bp_b") == {"entries": [{"name": "dep-x", "metadata": {"version": "1.0"}}]}
    assert ok.plan("bp_old") == {"entries": [{"name": "dep-z", "metadata": {}}]}


def test_build_layers_reach_later_buildpacks(ok: Run) -> None:
    b = ok.env("bp_b")
    tools_bin = str(ok.layers / "bp_a" / "tools" / "bin")
    assert b["PATH"].split(":")[:2] == ["/user/bin", tools_bin]
    assert str(ok.layers / "bp_a" / "hidden") not in b["PATH"]
    which = (ok.app / "out" / "bp_b.which").read_text().splitlines()
    assert which == [f"{tools_bin}/tool-a", "none"]
    assert b["A_VAR"] == "from-a"              # env.build of a build layer
    assert b["SHARED"] == "env-a"              # env/ of a build layer
    assert "LAUNCH_ONLY" not in b              # env.launch never at build time
    assert "HIDDEN_VAR" not in b               # build=false layer not exposed
    assert "A_VAR" not in ok.env("bp_a")       # not for the buildpack itself


def test_ignored_layers_renamed(ok: Run) -> None:
    bp_a = ok.layers / "bp_a"
    assert (bp_a / "scratch.ignore" / "file").is_file()
    assert not (bp_a / "scratch").exists()
    assert (bp_a / "tools").is_dir() and (bp_a / "hidden").is_dir()


def test_metadata_toml(ok: Run) -> None:
    md = ok.metadata()
    assert md["buildpacks"] == [{"id": "bp/a", "version": "0.0.1", "api": "0.12"},
                                {"id": "bp/b", "version": "0.0.1", "api": "0.9"},
                                {"id": "bp/old", "version": "0.0.1", "api": "0.7"}]
    procs = {p["type"]: p for p in md["processes"]}
    assert [p["type"] for p in md["processes"]] == ["legacy", "task", "web", "worker"]
    assert procs["web"] == {"type": "web", "command": ["echo", "b-web"], "args": [],
                            "direct": True, "buildpack-id": "bp/b", "exec-env": ["*"]}
    assert procs["task"]["buildpack-id"] == "bp/a"
    assert procs["legacy"] == {"type": "legacy", "command": ["echo old"], "args": ["arg1"],
                               "direct": False, "buildpack-id": "bp/old", "exec-env": ["*"]}
    assert md["buildpack-default-process-type"] == "worker"
    assert md["labels"] == [{"key": "org.example.a", "value": "from-b"}]
    assert md["slices"] == [{"paths": ["static/*"]}]


def test_sbom_files_copied(ok: Run) -> None:
    sbom = ok.layers / "sbom"
    assert (sbom / "launch" / "bp_a" / "sbom.cdx.json").is_file()
    assert (sbom / "build" / "bp_a" / "tools" / "sbom.cdx.json").is_file()
    assert (sbom / "launch" / "sbom.legacy.json").is_file()   # bp/old's deprecated bom


def test_buildpack_failure_exits_51(tmp_path: Path) -> None:
    run = builder(tmp_path, ["bp/fail", "bp/a"])
    assert run.rc == 51, run.output
    assert "boom from bp/fail" in run.output
    assert "Traceback" not in run.output
    assert run.ran("bp_fail") and not run.ran("bp_a")
    assert not (run.layers / "config" / "metadata.toml").exists()


def test_forbidden_layer_name_exits_52(tmp_path: Path) -> None:
    run = builder(tmp_path, ["bp/forbidden", "bp/a"])
    assert run.rc == 52, run.output
    assert "forbidden" in run.output and "Traceback" not in run.output
    assert not run.ran("bp_a")


def test_clear_env_hides_user_env(tmp_path: Path) -> None:
    run = builder(tmp_path, ["bp/clear"])
    assert run.rc == 0, run.output
    env = run.env("bp_clear")
    assert "USER_VAR" not in env and not env["PATH"].startswith("/user/bin")
    assert env["CNB_TARGET_OS"] == "linux" and "CNB_EXEC_ENV" not in env   # 0.10


def test_exec_env_flag(tmp_path: Path) -> None:
    run = builder(tmp_path, ["bp/a"], "-exec-env", "test")
    assert run.rc == 0, run.output
    assert run.env("bp_a")["CNB_EXEC_ENV"] == "test"


def test_unknown_flag_and_bad_group(tmp_path: Path) -> None:
    assert builder(tmp_path / "1", ["bp/a"], "-nope").rc == 3
    run = builder(tmp_path / "2", ["bp/a"], "-group", str(tmp_path / "missing.toml"))
    assert run.rc == 52 and "missing.toml" in run.output
