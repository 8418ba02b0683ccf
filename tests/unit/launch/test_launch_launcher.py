"""The launcher end to end in a subprocess on the ``basic`` fixture: exec, env, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from launch_fixtures import REPO, Runner, Tree

from lifecycle.errors import LaunchError
from lifecycle.launch.launcher import find_program


def test_process_link_runs_with_user_args_replacing_defaults(tree: Tree,
                                                             run_launcher: Runner) -> None:
    res = run_launcher("/cnb/process/web", ["a", "b"], tree.environ())
    assert res.returncode == 0, res.stderr
    probe = res.probe()
    assert probe["argv"] == ["always", "a", "b"]
    assert probe["cwd"] == str(tree.app)
    assert probe["pid"] == res.pid  # exec'd in place: no child left behind


def test_process_link_alone_runs_default_args(tree: Tree, run_launcher: Runner) -> None:
    assert run_launcher("/cnb/process/web", [], tree.environ()).probe()["argv"] == [
        "always", "default1", "default2"]


def test_launch_env_hygiene_and_layer_env(tree: Tree, run_launcher: Runner) -> None:
    env = run_launcher("web", [], tree.environ(CNB_PROCESS_TYPE="web")).probe()["env"]
    for name in ("CNB_LAYERS_DIR", "CNB_APP_DIR", "CNB_PROCESS_TYPE", "CNB_PLATFORM_API",
                 "CNB_DEPRECATION_MODE"):
        assert name not in env
    path = env["PATH"].split(":")
    assert "/cnb/process" not in path and "/cnb/lifecycle" not in path
    assert path[:2] == [str(tree.layers / "example_legacy" / "gamma" / "bin"),
                        str(tree.layers / "example_first" / "alpha" / "bin")]
    assert env["LD_LIBRARY_PATH"] == str(tree.layers / "example_first" / "alpha" / "lib")
    assert (env["LAUNCH_ONLY"], env["WEB_ONLY"], env["LIST"], env["DEF"], env["PRE"]) == (
        "yes", "web", "ab", "beta-default", "legacy")


def test_execd_output_reaches_the_process(tree: Tree, run_launcher: Runner) -> None:
    res = run_launcher("web", [], tree.environ())
    env = res.probe()["env"]
    assert env["FOO"] == "from-execd"  # exec.d overrides env files
    assert env["EXECD_VAR"] == "from-execd:yes"  # exec.d sees env files
    assert env["WEB_EXECD"] == "web:from-execd:yes"  # exec.d/<type> runs after, sees it
    assert "exec.d 10-set ran" in res.stderr


def test_typed_env_and_execd_only_for_their_process(tree: Tree, run_launcher: Runner) -> None:
    env = run_launcher("worker", [], tree.environ()).probe()["env"]
    assert "WEB_ONLY" not in env and "WEB_EXECD" not in env and env["EXECD_VAR"]


def test_working_dir(tree: Tree, run_launcher: Runner) -> None:
    assert run_launcher("worker", [], tree.environ()).probe()["cwd"] == str(tree.app / "sub")


def test_exec_env_eligibility(tree: Tree, run_launcher: Runner) -> None:
    res = run_launcher("dev", [], tree.environ(CNB_EXEC_ENV="development"))
    assert res.probe()["argv"] == ["dev"]
    assert res.probe()["env"]["CNB_EXEC_ENV"] == "development"
    res = run_launcher("dev", [], tree.environ())
    assert res.returncode == 82 and "not eligible" in res.stderr
    assert run_launcher("worker", [], tree.environ(CNB_EXEC_ENV="test")).returncode == 82


def test_exit_code_passes_through(tree: Tree, run_launcher: Runner) -> None:
    assert run_launcher("/cnb/process/exit7", [], tree.environ()).returncode == 7
    res = run_launcher("launcher", ["--", "sh", "-c", "exit 9"], tree.environ())
    assert res.returncode == 9
    assert run_launcher("launcher", ["exit 5"], tree.environ()).returncode == 5


def test_direct_command(tree: Tree, run_launcher: Runner) -> None:
    res = run_launcher("/cnb/lifecycle/launcher", ["--", "probe", "$HOME", "a b"],
                       tree.environ())
    assert res.probe()["argv"] == ["$HOME", "a b"]  # no shell: nothing expanded


def test_shell_command_sources_profiles_then_app_profile(tree: Tree,
                                                         run_launcher: Runner) -> None:
    res = run_launcher("/cnb/lifecycle/launcher",
                       ['echo "$PROFILE_ORDER|$FROM_APP_PROFILE|$0|$PWD"'], tree.environ())
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"alpha,gamma,app,|app|bash|{tree.app}"


def test_shell_tokens_are_each_expanded(tree: Tree, run_launcher: Runner) -> None:
    res = run_launcher("launcher", ["probe", "$FROM_PROFILE", "a b", "$(echo sub)"],
                       tree.environ())
    assert res.probe()["argv"] == ["alpha", "a b", "sub"]
    assert res.probe()["pid"] == res.pid


def test_legacy_processes(tree: Tree, run_launcher: Runner) -> None:
    # Buildpack API 0.8: user args are appended; direct=false runs through bash + profiles
    assert run_launcher("legacy-direct", ["u"], tree.environ()).probe()["argv"] == ["l1", "u"]
    probe = run_launcher("legacy-shell", ["u v"], tree.environ()).probe()
    assert probe["argv"] == ["alpha", "u v"]
    assert probe["env"]["SHELL_ONLY"] == "legacy-shell-only"
    assert probe["env"]["PROFILE_ORDER"] == "alpha,gamma,app,"
    assert run_launcher("legacy-script", [], tree.environ()).probe()["argv"] == [
        "from-script", "app"]


def test_launcher_alone_runs_the_default_or_cnb_process_type(tree: Tree,
                                                            run_launcher: Runner) -> None:
    assert run_launcher("launcher", [], tree.environ()).probe()["argv"][0] == "always"
    res = run_launcher("launcher", [], tree.environ(CNB_PROCESS_TYPE="worker"))
    assert res.probe()["argv"] == ["w"] and "deprecated" in res.stderr


@pytest.mark.parametrize(("argv0", "args", "env", "code", "match"), [
    ("launcher", [], {"CNB_PROCESS_TYPE": "nope"}, 82, "'nope' was not found"),
    ("launcher", ["--", "no-such-command"], {}, 82, "not found on PATH"),
    ("launcher", [], {"CNB_PLATFORM_API": ""}, 11, "CNB_PLATFORM_API is not set"),
    ("launcher", [], {"CNB_PLATFORM_API": "0.14"}, 11, "not supported"),
    ("launcher", [], {"CNB_LAYERS_DIR": "/nonexistent"}, 82, "not found"),
    ("launcher", [], {"CNB_APP_DIR": "/nonexistent"}, 82, "app directory"),
])
def test_errors_exit_with_one_line(tree: Tree, run_launcher: Runner, argv0: str,
                                   args: list[str], env: dict[str, str], code: int,
                                   match: str) -> None:
    res = run_launcher(argv0, args, tree.environ(**env))
    assert res.returncode == code
    lines = [line for line in res.stderr.splitlines() if line != "exec.d 10-set ran"]
    assert len(lines) == 1 and match in lines[0]
    assert lines[0].startswith("ERROR: failed to launch: ")


def test_failing_execd_aborts_with_82_naming_it(tree: Tree, run_launcher: Runner) -> None:
    bad = tree.layers / "example_first" / "beta" / "exec.d"
    bad.mkdir()
    (bad / "boom").write_text("#!/bin/sh\nexit 4\n")
    (bad / "boom").chmod(0o755)
    res = run_launcher("web", [], tree.environ())
    assert res.returncode == 82 and res.stdout == ""
    last = res.stderr.strip().splitlines()[-1]
    assert str(bad / "boom") in last and "exit code 4" in last
    debug = run_launcher("web", [], tree.environ(CNB_LOG_LEVEL="debug"))
    assert debug.returncode == 82 and "Traceback" in debug.stderr


def test_unsupported_buildpack_api_is_12(tree: Tree, run_launcher: Runner) -> None:
    md = tree.layers / "config" / "metadata.toml"
    md.write_text(md.read_text().replace('api = "0.8"', 'api = "0.3"'))
    res = run_launcher("web", [], tree.environ())
    assert res.returncode == 12 and "example/legacy" in res.stderr


def test_phase_dispatcher_runs_the_launcher(tree: Tree) -> None:
    code = "import sys; from lifecycle.cli.phases import main; sys.exit(main(sys.argv[1:]))"
    env = {**tree.environ(), "PYTHONPATH": str(REPO)}
    for argv in (["lifecycle", "launcher"], ["/cnb/lifecycle/launcher"]):
        res = subprocess.run([sys.executable, "-c", code, *argv, "--", "sh", "-c", "exit 3"],
                             env=env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 3, res.stderr


def test_find_program(tmp_path: Path) -> None:
    exe = tmp_path / "tool"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    (tmp_path / "plain").write_text("")
    assert find_program("tool", f"/nonexistent:{tmp_path}") == str(exe)
    assert find_program(str(exe), "") == str(exe)
    with pytest.raises(LaunchError, match="not found on PATH"):
        find_program("plain", str(tmp_path))
    with pytest.raises(LaunchError, match="not an executable"):
        find_program(str(tmp_path / "plain"), "")
    assert os.access(exe, os.X_OK)


def test_python_dash_m_entry(tree: Tree) -> None:
    env = {**tree.environ(), "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-m", "lifecycle.launch", "--", "sh", "-c", "exit 4"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 4, res.stderr
