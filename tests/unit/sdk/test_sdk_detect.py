"""lifecycle.sdk detect side: inputs, the Build Plan file, exit codes 0/100/1."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from sdk_fixtures import Dirs

from lifecycle.buildpack.detect import parse_build_plan
from lifecycle.sdk import DETECT_ERROR, DETECT_FAIL, DETECT_PASS, DetectContext, run_detect


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dirs:
    d = Dirs(tmp_path)
    monkeypatch.chdir(d.app)
    return d


def test_pass_writes_a_plan_the_lifecycle_accepts(dirs: Dirs) -> None:
    (dirs.platform / "env" / "USER_VAR").write_text("from-user\n")
    seen: dict[str, Any] = {}

    def main(ctx: DetectContext) -> None:
        seen.update(app=ctx.app_dir, platform=ctx.platform_dir, bp=ctx.buildpack,
                    target=ctx.target, exec_env=ctx.exec_env, penv=ctx.platform_env,
                    flag=ctx.flag("BP_FLAG"), unset=ctx.flag("BP_UNSET", default=True))
        ctx.provide("python")
        ctx.require("python", {"version": "3.11", "tags": ("a", "b")})
        ctx.or_().provide("other").require("other")

    assert run_detect(main, dirs.argv("detect"), dirs.detect_env()) == DETECT_PASS
    doc = tomllib.loads(dirs.build_plan.read_text())
    assert doc == {"provides": [{"name": "python"}],
                   "requires": [{"name": "python",
                                 "metadata": {"version": "3.11", "tags": ["a", "b"]}}],
                   "or": [{"provides": [{"name": "other"}], "requires": [{"name": "other"}]}]}
    plan = parse_build_plan(doc, "test/sdk", str(dirs.build_plan))
    assert plan.top.provides == ("python",) and len(plan.alternates) == 1
    assert plan.top.requires[0].metadata == {"version": "3.11", "tags": ["a", "b"]}
    assert seen["app"] == dirs.app and seen["platform"] == dirs.platform
    bp = seen["bp"]
    assert (bp.id, bp.version, bp.api) == ("test/sdk", "1.2.3", "0.12")
    assert bp.metadata == {"answer": 42} and seen["target"].distro_version == "12"
    assert seen["exec_env"] == "test" and seen["penv"] == {"USER_VAR": "from-user\n"}
    assert seen["flag"] is True and seen["unset"] is True


def test_returning_without_a_plan_passes_and_writes_nothing(dirs: Dirs) -> None:
    assert run_detect(lambda ctx: None, dirs.argv("detect"), dirs.detect_env()) == DETECT_PASS
    assert not dirs.build_plan.exists()


def test_pass_early(dirs: Dirs, capsys: pytest.CaptureFixture[str]) -> None:
    def main(ctx: DetectContext) -> None:
        ctx.provide("x")
        ctx.pass_("found it")
        raise AssertionError("not reached")

    assert run_detect(main, dirs.argv("detect"), dirs.detect_env()) == DETECT_PASS
    assert "x" in dirs.build_plan.read_text() and "found it" in capsys.readouterr().out


def test_fail_exits_100_without_a_plan(dirs: Dirs, capsys: pytest.CaptureFixture[str]) -> None:
    def main(ctx: DetectContext) -> None:
        ctx.provide("x")
        ctx.fail("no requirements.txt")

    assert run_detect(main, dirs.argv("detect"), dirs.detect_env()) == DETECT_FAIL
    assert not dirs.build_plan.exists()
    assert "no requirements.txt" in capsys.readouterr().out


def test_errors_exit_1_with_a_message(dirs: Dirs, capsys: pytest.CaptureFixture[str]) -> None:
    def bad(ctx: DetectContext) -> None:
        ctx.error("broken Pipfile")

    def crash(ctx: DetectContext) -> None:
        raise RuntimeError("boom")

    assert run_detect(bad, dirs.argv("detect"), dirs.detect_env()) == DETECT_ERROR
    assert "ERROR: broken Pipfile" in capsys.readouterr().err
    assert run_detect(crash, dirs.argv("detect"), dirs.detect_env()) == DETECT_ERROR
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_bad_flag_value_is_an_error(dirs: Dirs) -> None:
    env = dirs.detect_env() | {"BP_FLAG": "maybe"}
    assert run_detect(lambda ctx: ctx.flag("BP_FLAG") and None, dirs.argv("detect"),
                      env) == DETECT_ERROR


def test_positional_arguments_of_old_apis(dirs: Dirs) -> None:
    env = {"CNB_BUILDPACK_DIR": str(dirs.buildpack)}
    argv = [*dirs.argv("detect"), str(dirs.platform), str(dirs.build_plan)]
    assert run_detect(lambda ctx: ctx.provide("x") and None, argv, env) == DETECT_PASS
    assert dirs.build_plan.is_file()


def test_missing_inputs_are_an_error(dirs: Dirs, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_detect(lambda ctx: None, dirs.argv("detect"),
                      {"CNB_BUILDPACK_DIR": str(dirs.buildpack)}) == DETECT_ERROR
    assert "CNB_PLATFORM_DIR is not set" in capsys.readouterr().err


def test_buildpack_dir_defaults_to_the_program_location(dirs: Dirs) -> None:
    env = dirs.detect_env()
    del env["CNB_BUILDPACK_DIR"]
    got: list[str] = []
    assert run_detect(lambda ctx: got.append(ctx.buildpack.id), dirs.argv("detect"),
                      env) == DETECT_PASS
    assert got == ["test/sdk"]
