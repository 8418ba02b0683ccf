"""Process selection and argv (lifecycle.launch.process): pure table tests."""

from __future__ import annotations

import pytest

from lifecycle.errors import BuildpackAPIError, LaunchError
from lifecycle.launch.metadata import Buildpack, Metadata, Process
from lifecycle.launch.process import Selection, args_overridable, select

NEW = Buildpack("new/bp", "0.12")
B09 = Buildpack("b09/bp", "0.9")
OLD = Buildpack("old/bp", "0.8")
B07 = Buildpack("b07/bp", "0.7")

MD = Metadata(
    buildpacks=(NEW, B09, OLD, B07),
    default_process_type="web",
    processes=(
        Process("web", ("server", "--always"), ("--port", "8080"), direct=True,
                buildpack_id="new/bp"),
        Process("nine", ("nine",), ("d",), direct=True, buildpack_id="b09/bp"),
        Process("worker", ("work",), ("q",), direct=True, buildpack_id="new/bp",
                working_dir="/srv", exec_env=("production",)),
        Process("tests", ("pytest",), (), direct=True, buildpack_id="new/bp",
                exec_env=("test", "development")),
        Process("any", ("any",), (), direct=True, buildpack_id="new/bp", exec_env=("*",)),
        Process("dual", ("dual-test",), (), buildpack_id="new/bp", exec_env=("test",)),
        Process("dual", ("dual-prod",), (), buildpack_id="new/bp", exec_env=("production",)),
        Process("old-direct", ("run",), ("a",), direct=True, buildpack_id="old/bp"),
        Process("old-shell", ("run $X",), ("a",), direct=False, buildpack_id="old/bp",
                command_is_string=True),
        Process("seven", ("seven",), ("a",), direct=False, buildpack_id="b07/bp"),
        Process("anon-new", ("anon",), ("d",), direct=True),
        Process("anon-old", ("anon old",), ("d",), command_is_string=True),
        Process("anon-old2", ("anon2",), ("d",), direct=False),
    ))

CASES = [
    # argv0 link, user args -> argv, direct, type
    ("/cnb/process/web", [], ("server", "--always", "--port", "8080"), True, "web"),
    ("/cnb/process/web", ["a", "b"], ("server", "--always", "a", "b"), True, "web"),
    ("web", ["--port", "1"], ("server", "--always", "--port", "1"), True, "web"),
    ("/cnb/process/nine", [], ("nine", "d"), True, "nine"),
    ("/cnb/process/nine", ["u"], ("nine", "u"), True, "nine"),
    ("/cnb/process/worker", [], ("work", "q"), True, "worker"),
    ("/cnb/process/any", ["x"], ("any", "x"), True, "any"),
    ("/cnb/process/dual", [], ("dual-prod",), True, "dual"),
    # Buildpack API < 0.9: user args are appended, the direct flag is honoured
    ("/cnb/process/old-direct", [], ("run", "a"), True, "old-direct"),
    ("/cnb/process/old-direct", ["u"], ("run", "a", "u"), True, "old-direct"),
    ("/cnb/process/old-shell", [], ("run $X", "a"), False, "old-shell"),
    ("/cnb/process/old-shell", ["u", "v"], ("run $X", "a", "u", "v"), False, "old-shell"),
    ("/cnb/process/seven", ["u"], ("seven", "a", "u"), False, "seven"),
    # no buildpack-id: the form decides
    ("/cnb/process/anon-new", ["u"], ("anon", "u"), True, "anon-new"),
    ("/cnb/process/anon-old", ["u"], ("anon old", "d", "u"), False, "anon-old"),
    ("/cnb/process/anon-old2", ["u"], ("anon2", "d", "u"), False, "anon-old2"),
    # called as the launcher
    ("/cnb/lifecycle/launcher", ["--", "echo", "hi"], ("echo", "hi"), True, None),
    ("/cnb/lifecycle/launcher", ["echo $HOME"], ("echo $HOME",), False, None),
    ("/cnb/lifecycle/launcher", ["echo", "$HOME"], ("echo", "$HOME"), False, None),
    ("launcher", ["web"], ("web",), False, None),  # spec: $1 is a command, not a type
    ("launcher", [], ("server", "--always", "--port", "8080"), True, "web"),  # the default
]


@pytest.mark.parametrize(("argv0", "args", "argv", "direct", "ptype"), CASES)
def test_select(argv0: str, args: list[str], argv: tuple[str, ...], direct: bool,
                ptype: str | None) -> None:
    sel = select(MD, argv0, args, exec_env="production")
    assert (sel.argv, sel.direct, sel.process_type) == (argv, direct, ptype)


def test_working_dir_comes_from_the_process() -> None:
    assert select(MD, "worker", [], exec_env="production").working_dir == "/srv"
    assert select(MD, "web", [], exec_env="production").working_dir is None
    assert select(MD, "launcher", ["--", "x"], exec_env="production").working_dir is None


@pytest.mark.parametrize(("ptype", "exec_env", "ok"), [
    ("worker", "production", True), ("worker", "test", False),
    ("tests", "test", True), ("tests", "development", True), ("tests", "production", False),
    ("any", "staging", True), ("web", "whatever", True),
])
def test_exec_env_eligibility(ptype: str, exec_env: str, ok: bool) -> None:
    if ok:
        assert select(MD, ptype, [], exec_env=exec_env).process_type == ptype
    else:
        with pytest.raises(LaunchError, match="not eligible"):
            select(MD, ptype, [], exec_env=exec_env)


def test_first_eligible_process_of_a_type_wins() -> None:
    assert select(MD, "dual", [], exec_env="test").argv == ("dual-test",)
    assert select(MD, "dual", [], exec_env="production").argv == ("dual-prod",)


def test_cnb_process_type_is_honoured_with_a_warning_when_called_as_launcher() -> None:
    sel = select(MD, "launcher", [], exec_env="production", env_process_type="worker")
    assert sel.argv == ("work", "q") and sel.process_type == "worker"
    assert "deprecated" in sel.warnings[0]
    # the link name wins over CNB_PROCESS_TYPE; user args win over both
    assert select(MD, "web", [], exec_env="production",
                  env_process_type="worker").process_type == "web"
    assert select(MD, "launcher", ["--", "x"], exec_env="production",
                  env_process_type="worker").process_type is None


@pytest.mark.parametrize(("md", "args", "env_type", "match"), [
    (MD, [], "nope", "'nope' was not found"),
    (MD, [], "tests", "not eligible"),
    (Metadata(processes=MD.processes, buildpacks=MD.buildpacks), [], None, "no process"),
    (Metadata(buildpacks=MD.buildpacks, default_process_type="gone"), [], None, "not found"),
    (MD, ["--"], None, "must follow"),
])
def test_selection_errors(md: Metadata, args: list[str], env_type: str | None,
                          match: str) -> None:
    with pytest.raises(LaunchError, match=match) as info:
        select(md, "launcher", args, exec_env="production", env_process_type=env_type)
    assert info.value.exit_code == 82


def test_process_from_an_unlisted_buildpack_is_an_error() -> None:
    md = Metadata(processes=(Process("web", ("x",), buildpack_id="ghost"),))
    with pytest.raises(LaunchError, match="ghost"):
        select(md, "web", [], exec_env="production")


def test_unsupported_buildpack_api_is_exit_12() -> None:
    md = Metadata(buildpacks=(Buildpack("a", "0.2"),),
                  processes=(Process("web", ("x",), buildpack_id="a"),))
    with pytest.raises(BuildpackAPIError) as info:
        select(md, "web", [], exec_env="production")
    assert info.value.exit_code == 12


@pytest.mark.parametrize(("api", "replace"), [
    ("0.7", False), ("0.8", False), ("0.9", True), ("0.10", True), ("0.11", True),
    ("0.12", True)])
def test_args_replace_from_buildpack_api_0_9(api: str, replace: bool) -> None:
    md = Metadata(buildpacks=(Buildpack("bp", api),),
                  processes=(Process("p", ("cmd",), ("def",), direct=True, buildpack_id="bp"),))
    assert args_overridable(md.processes[0], md) is replace
    expected = ("cmd", "user") if replace else ("cmd", "def", "user")
    assert select(md, "p", ["user"], exec_env="production").argv == expected


def test_selection_is_a_value() -> None:
    sel = select(MD, "web", [], exec_env="production")
    assert sel == Selection(("server", "--always", "--port", "8080"), True, "web")
    with pytest.raises(AttributeError):
        sel.direct = False  # type: ignore[misc]
