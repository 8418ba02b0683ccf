"""The restorer program's inputs and exit codes (Platform API 0.15 platform.md "restorer"):
flags beat ``CNB_*`` variables beat defaults; bad usage exits 3, a missing platform API 11,
an unsupported buildpack API 12, restore failures 40. No registry needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from restorer_rig import ENV, PINNED_RUN, build1, read_toml, write_inputs

from lifecycle.cli.phase_restorer import NAMES, run
from lifecycle.platform import inputs
from lifecycle.platform.files.analyzed import RunImage


def test_defaults() -> None:
    values, pos = inputs.parse([], NAMES, ENV)
    assert pos == []
    assert values["layers"] == "/layers"
    assert values["analyzed"] == "/layers/analyzed.toml"
    assert values["group"] == "/layers/group.toml"
    assert values["run"] == "/cnb/run.toml"
    assert values["exec_env"] == "production"
    assert values["log_level"] == "info"
    assert values["skip_layers"] is False and values["daemon"] is False
    assert values["cache_dir"] is None and values["cache_image"] is None
    assert values["build_image"] is None and values["uid"] is None
    assert values["insecure_registry"] == ()


def test_env_then_flags() -> None:
    env = {**ENV, "CNB_LAYERS_DIR": "/l", "CNB_CACHE_DIR": "/c", "CNB_CACHE_IMAGE": "r.example/c",
           "CNB_SKIP_LAYERS": "true", "CNB_USER_ID": "1000", "CNB_GROUP_ID": "1001",
           "CNB_INSECURE_REGISTRIES": "a.example,b.example", "CNB_RUN_PATH": "/r.toml",
           "CNB_BUILD_IMAGE": "r.example/build", "CNB_EXEC_ENV": "test",
           "CNB_GROUP_PATH": "/g.toml", "CNB_USE_DAEMON": "false"}
    values, _ = inputs.parse([], NAMES, env)
    assert (values["layers"], values["analyzed"], values["group"]) == (
        "/l", "/l/analyzed.toml", "/g.toml")
    assert (values["cache_dir"], values["cache_image"]) == ("/c", "r.example/c")
    assert values["skip_layers"] is True and values["daemon"] is False
    assert (values["uid"], values["gid"]) == (1000, 1001)
    assert values["insecure_registry"] == ("a.example", "b.example")
    assert (values["run"], values["build_image"], values["exec_env"]) == (
        "/r.toml", "r.example/build", "test")
    values, _ = inputs.parse(["-layers", "/x", "-skip-layers=false", "-cache-dir", "/d",
                              "-insecure-registry", "c.example", "-analyzed", "/a.toml"],
                             NAMES, env)
    assert (values["layers"], values["group"], values["analyzed"]) == ("/x", "/g.toml",
                                                                       "/a.toml")
    assert values["skip_layers"] is False and values["cache_dir"] == "/d"
    assert values["insecure_registry"] == ("c.example",)


@pytest.mark.parametrize("argv", [
    ["extra-arg"],                                  # the restorer takes no arguments
    ["-daemon"],                                    # no Docker daemon in pypack
    ["-bogus"],                                     # unknown flag
    ["-cache-dir"],                                 # missing value
    ["-uid", "root"],                               # not an integer
    ["-cache-image", "Not A Reference!"],           # malformed reference
    ["-log-level", "loud"],
])
def test_usage_errors_exit_3(argv: list[str], tmp_path: Path) -> None:
    write_inputs(tmp_path, build1())
    assert run(["-layers", str(tmp_path), *argv], ENV) == 3
    assert not (tmp_path / "example_node").exists()


def test_exec_env_with_slash_exits_3(tmp_path: Path) -> None:
    write_inputs(tmp_path, build1())
    assert run(["-layers", str(tmp_path)], {**ENV, "CNB_EXEC_ENV": "a/b"}) == 3


def test_platform_api_missing_or_unsupported_exits_11(tmp_path: Path) -> None:
    write_inputs(tmp_path, build1())
    assert run(["-layers", str(tmp_path)], {"DOCKER_CONFIG": "/nonexistent"}) == 11
    assert run(["-layers", str(tmp_path)], {**ENV, "CNB_PLATFORM_API": "0.9"}) == 11


def test_unsupported_buildpack_api_exits_12(tmp_path: Path) -> None:
    write_inputs(tmp_path, build1())
    (tmp_path / "group.toml").write_text('[[group]]\nid = "a/b"\nversion = "1"\napi = "0.2"\n')
    assert run(["-layers", str(tmp_path)], ENV) == 12


def test_missing_group_exits_40(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-layers", str(tmp_path)], ENV) == 40
    assert "group.toml" in capsys.readouterr().err


def test_invalid_analyzed_exits_40(tmp_path: Path) -> None:
    write_inputs(tmp_path, build1())
    (tmp_path / "analyzed.toml").write_text('[run-image]\nbogus = 1\n')
    assert run(["-layers", str(tmp_path)], ENV) == 40


def test_unusable_cache_dir_exits_40(tmp_path: Path) -> None:
    write_inputs(tmp_path, build1())
    (tmp_path / "cache").write_text("a file, not a directory")
    assert run(["-layers", str(tmp_path), "-cache-dir", str(tmp_path / "cache")], ENV) == 40


def test_run_image_extension_refused_exits_3(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_inputs(tmp_path, build1(), run_image=RunImage(
        PINNED_RUN.reference, PINNED_RUN.image, extend=True, target=PINNED_RUN.target))
    assert run(["-layers", str(tmp_path)], ENV) == 3
    assert "extend" in capsys.readouterr().err


def test_build_image_with_extensions_refused_exits_3(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    write_inputs(tmp_path, build1())
    with (tmp_path / "group.toml").open("a") as f:
        f.write('\n[[group-extensions]]\nid = "ext/curl"\nversion = "1"\napi = "0.12"\n')
    assert run(["-layers", str(tmp_path), "-build-image", "registry.invalid/build:1"], ENV) == 3
    assert "build image" in capsys.readouterr().err


def test_extensions_in_group_without_build_image_are_fine(tmp_path: Path) -> None:
    write_inputs(tmp_path, build1())
    with (tmp_path / "group.toml").open("a") as f:
        f.write('\n[[group-extensions]]\nid = "ext/curl"\nversion = "1"\napi = "0.12"\n')
    assert run(["-layers", str(tmp_path)], ENV) == 0


def test_missing_analyzed_warns_and_restores_nothing_from_an_image(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_inputs(tmp_path, build1(store={"n": 1}))
    (tmp_path / "analyzed.toml").unlink()
    assert run(["-layers", str(tmp_path)], ENV) == 0
    assert "Not using analyzed data" in capsys.readouterr().err
    assert not (tmp_path / "analyzed.toml").exists()
    assert not (tmp_path / "example_node" / "store.toml").exists()


def test_pinned_run_image_is_left_alone(tmp_path: Path) -> None:
    """No registry is contacted (registry.invalid) and analyzed.toml is not rewritten."""
    path = write_inputs(tmp_path, build1())
    before = path.read_bytes()
    assert run(["-layers", str(tmp_path)], ENV) == 0
    assert path.read_bytes() == before
    assert read_toml(path)["run-image"]["reference"] == PINNED_RUN.reference
