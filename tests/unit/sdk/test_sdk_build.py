"""lifecycle.sdk build side: plan entries, layers, launch.toml/build.toml/store.toml as the
lifecycle reads them (``lifecycle.buildpack``), exit codes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sdk_fixtures import Dirs

from lifecycle.api import Version
from lifecycle.buildpack import build_toml, launch_toml
from lifecycle.buildpack import layers as lifecycle_layers
from lifecycle.platform.files import store
from lifecycle.sdk import BUILD_FAILURE, BUILD_SUCCESS, BuildContext, PlanEntry, run_build

PLAN = """
[[entries]]
name = "python"
[entries.metadata]
version = "3.11"

[[entries]]
name = "node"
"""


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dirs:
    d = Dirs(tmp_path)
    monkeypatch.chdir(d.app)
    return d


def test_outputs_are_what_the_lifecycle_expects(dirs: Dirs) -> None:
    def main(ctx: BuildContext) -> None:
        assert ctx.plan == (PlanEntry("python", {"version": "3.11"}), PlanEntry("node"))
        assert ctx.entries("node") == (PlanEntry("node"),)
        assert ctx.target.arch == "arm64" and ctx.layers_dir == dirs.layers
        deps = ctx.layer("deps", launch=True, cache=True)
        assert deps.reuse_if({"key": "abc"}) is False
        (deps.path / "bin").mkdir()
        deps.env.override("DEPS_HOME", str(deps.path))
        tmp = ctx.layer("scratch")
        tmp.reset()
        ctx.process("web", ["python", "app.py"], ["--port", "8080"], default=True)
        ctx.process("worker", ["python", "worker.py"], working_dir="/workspace/w",
                    exec_env=["production"])
        ctx.label("org.example.built-by", "sdk")
        ctx.slice("static/*", "templates/**")
        ctx.unmet("node")
        ctx.store["runs"] = 1
        ctx.sbom("launch", "cdx", {"bomFormat": "CycloneDX"})

    assert run_build(main, dirs.argv("build"), dirs.build_env(PLAN)) == BUILD_SUCCESS
    ltoml = launch_toml.load(dirs.layers / "launch.toml", Version(0, 12), "test/sdk")
    web, worker = ltoml.processes
    assert (web.type, web.command, web.args, web.default) == \
        ("web", ("python", "app.py"), ("--port", "8080"), True)
    assert worker.working_dir == "/workspace/w" and worker.exec_env == ("production",)
    assert [(x.key, x.value) for x in ltoml.labels] == [("org.example.built-by", "sdk")]
    assert [s.paths for s in ltoml.slices] == [("static/*", "templates/**")]
    btoml = build_toml.load(dirs.layers / "build.toml", "test/sdk", "1.2.3")
    assert build_toml.met_names(["python", "node"], btoml.unmet, "build.toml") == ("python",)
    assert store.load(dirs.layers / "store.toml").metadata == {"runs": 1}
    found = {x.name: x.file for x in lifecycle_layers.scan(dirs.layers)}
    assert found["deps"].types == lifecycle_layers.LayerTypes(launch=True, cache=True)
    assert found["deps"].metadata == {"key": "abc"}
    assert found["scratch"].types.ignored
    assert (dirs.layers / "launch.sbom.cdx.json").is_file()


def test_nothing_declared_writes_no_data_files(dirs: Dirs) -> None:
    assert run_build(lambda ctx: None, dirs.argv("build"), dirs.build_env()) == BUILD_SUCCESS
    assert list(dirs.layers.iterdir()) == []


def test_store_is_kept_across_builds(dirs: Dirs) -> None:
    (dirs.layers / "store.toml").write_text("[metadata]\nruns = 1\n")

    def main(ctx: BuildContext) -> None:
        ctx.store["runs"] += 1

    assert run_build(main, dirs.argv("build"), dirs.build_env()) == BUILD_SUCCESS
    assert tomllib.loads((dirs.layers / "store.toml").read_text()) == {"metadata": {"runs": 2}}


def test_failed_build_writes_no_layer_metadata(dirs: Dirs,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def main(ctx: BuildContext) -> None:
        ctx.layer("deps", launch=True).reset({"k": "v"})
        ctx.process("web", ["x"])
        ctx.error("pip install failed")

    assert run_build(main, dirs.argv("build"), dirs.build_env()) == BUILD_FAILURE
    assert "ERROR: pip install failed" in capsys.readouterr().err
    assert not (dirs.layers / "deps.toml").exists()
    assert not (dirs.layers / "launch.toml").exists()


@pytest.mark.parametrize("misuse", [
    lambda ctx: [ctx.process("a", ["x"], default=True), ctx.process("b", ["y"], default=True)],
    lambda ctx: [ctx.process("a", ["x"]), ctx.process("a", ["y"])],
    lambda ctx: ctx.process("bad/type", ["x"]),
    lambda ctx: ctx.process("a", []),
    lambda ctx: ctx.process("a", "python app.py"),
    lambda ctx: ctx.unmet("not-in-plan"),
    lambda ctx: ctx.slice("../outside"),
    lambda ctx: ctx.layer("launch"),
    lambda ctx: [ctx.layer("x", cache=True), ctx.layer("x", launch=True)],
    lambda ctx: ctx.sbom("image", "cdx", "{}"),
])
def test_misuse_fails_the_build(dirs: Dirs, capsys: pytest.CaptureFixture[str],
                                misuse: object) -> None:
    assert run_build(misuse, dirs.argv("build"), dirs.build_env(PLAN)) == BUILD_FAILURE  # type: ignore[arg-type]
    assert "ERROR: " in capsys.readouterr().err


def test_same_layer_twice_is_one_layer(dirs: Dirs) -> None:
    def main(ctx: BuildContext) -> None:
        assert ctx.layer("x", cache=True) is ctx.layer("x", cache=True)

    assert run_build(main, dirs.argv("build"), dirs.build_env()) == BUILD_SUCCESS


def test_restored_layers_are_listed(dirs: Dirs) -> None:
    (dirs.layers / "venv.toml").write_text("[metadata]\nk = 1\n")
    (dirs.layers / "store.toml").write_text("")
    got: list[tuple[str, ...]] = []
    assert run_build(lambda ctx: got.append(ctx.restored_layers()), dirs.argv("build"),
                     dirs.build_env()) == BUILD_SUCCESS
    assert got == [("venv",)]


def test_run_and_capture(dirs: Dirs, capfd: pytest.CaptureFixture[str]) -> None:
    def main(ctx: BuildContext) -> None:
        assert ctx.capture(["sh", "-c", "echo $GREETING"], env={"GREETING": "hi"}) == "hi"
        ctx.run(["sh", "-c", "echo ran in $(pwd)"])
        assert ctx.which("sh") is not None
        ctx.run(["sh", "-c", "exit 3"])

    assert run_build(main, dirs.argv("build"), dirs.build_env()) == BUILD_FAILURE
    out, err = capfd.readouterr()
    assert f"ran in {dirs.app}" in out and "$ sh -c" in out
    assert "sh exited with status 3" in err
