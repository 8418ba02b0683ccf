"""Launch environment rules (lifecycle.launch.env): hygiene, suffixes, precedence. Pure."""

from __future__ import annotations

import pytest

from lifecycle.errors import LaunchError
from lifecycle.launch.env import (
    apply_env_dir,
    apply_layers,
    clean,
    launch_env,
    parse_execd_output,
)
from lifecycle.launch.layers import BuildpackLayers, EnvFile, Layer


def files(**named: str) -> tuple[EnvFile, ...]:
    """Env files from keyword names, ``__`` standing for ``.`` (``FOO__append``)."""
    return tuple(sorted((EnvFile(k.replace("__", "."), v) for k, v in named.items()),
                        key=lambda f: f.name))


# --- hygiene ------------------------------------------------------------------------------------
def test_clean_removes_lifecycle_variables_and_keeps_others() -> None:
    environ = {"CNB_LAYERS_DIR": "/layers", "CNB_APP_DIR": "/workspace",
               "CNB_PROCESS_TYPE": "web", "CNB_PLATFORM_API": "0.15",
               "CNB_DEPRECATION_MODE": "quiet", "CNB_EXEC_ENV": "test", "HOME": "/home/cnb",
               "BPL_FOO": "1"}
    assert clean(environ) == {"CNB_EXEC_ENV": "test", "HOME": "/home/cnb", "BPL_FOO": "1"}


@pytest.mark.parametrize(("path", "expected"), [
    ("/cnb/process:/cnb/lifecycle:/usr/bin:/bin", "/usr/bin:/bin"),
    ("/cnb/process/:/usr/bin", "/usr/bin"),
    ("/usr/bin:/cnb/process", "/usr/bin"),
    ("/cnb/process", ""),
    ("/cnb/processes:/usr/bin", "/cnb/processes:/usr/bin"),
    ("/usr/bin", "/usr/bin"),
])
def test_clean_strips_cnb_dirs_from_path(path: str, expected: str) -> None:
    assert clean({"PATH": path})["PATH"] == expected


def test_clean_leaves_a_missing_path_missing() -> None:
    assert "PATH" not in clean({"HOME": "/"})


# --- one directory: every suffix ----------------------------------------------------------------
@pytest.mark.parametrize(("before", "dir_files", "expected"), [
    ({}, files(V="x"), "x"),                                   # no suffix: override
    ({"V": "old"}, files(V="x"), "x"),
    ({"V": "old"}, files(V__override="x"), "x"),
    ({}, files(V__default="x"), "x"),
    ({"V": ""}, files(V__default="x"), "x"),                  # empty counts as unset
    ({"V": "old"}, files(V__default="x"), "old"),
    ({}, files(V__append="x"), "x"),
    ({"V": "old"}, files(V__append="x"), "oldx"),             # no delim file: no separator
    ({"V": "old"}, files(V__append="x", V__delim=":"), "old:x"),
    ({}, files(V__append="x", V__delim=":"), "x"),            # nothing to delimit
    ({"V": "old"}, files(V__prepend="x"), "xold"),
    ({"V": "old"}, files(V__prepend="x", V__delim=" ; "), "x ; old"),
    ({"V": "old"}, files(V__delim=":"), "old"),               # a lone delim does nothing
    ({"V": "old"}, files(V__unknown="x"), "old"),             # unknown suffix: ignored
    ({"V": "old"}, files(V__a__append="x"), "old"),           # suffix is all after the 1st dot
    ({"V": "a"}, files(V__append="b", V__prepend="c", V__delim="|"), "c|a|b"),
])
def test_env_dir_suffix_rules(before: dict[str, str], dir_files: tuple[EnvFile, ...],
                              expected: str) -> None:
    env = dict(before)
    apply_env_dir(env, dir_files)
    assert env["V"] == expected


def test_file_contents_are_verbatim() -> None:
    env: dict[str, str] = {}
    apply_env_dir(env, files(V=" $HOME\n", W__default="a b\n"))
    assert env == {"V": " $HOME\n", "W": "a b\n"}


def test_delim_applies_only_within_its_directory() -> None:
    env = {"V": "base"}
    apply_env_dir(env, files(V__append="a", V__delim=","))
    apply_env_dir(env, files(V__append="b"))
    assert env["V"] == "base,ab"


# --- precedence across buildpacks, layers and env / env.launch / env.launch/<type> --------------
def layer(name: str, env: tuple[EnvFile, ...] = (), launch: tuple[EnvFile, ...] = (),
          **typed: tuple[EnvFile, ...]) -> Layer:
    return Layer(path=f"/layers/{name}", env=env, env_launch=launch,
                 env_launch_typed=dict(typed))


def bp(bp_id: str, *layers: Layer) -> BuildpackLayers:
    return BuildpackLayers(bp_id, layers)


def run_layers(bps: tuple[BuildpackLayers, ...], ptype: str | None = "web",
               **before: str) -> dict[str, str]:
    env = dict(before)
    apply_layers(env, bps, ptype)
    return env


def test_override_later_buildpack_and_layer_and_typed_dir_win() -> None:
    one = bp("one", layer("a", files(V="1a"), web=files(W="1a-web")), layer("b", files(V="1b")))
    two = bp("two", layer("a", files(V="2a"), files(W="2a-launch")))
    assert run_layers((one,))["V"] == "1b"
    assert run_layers((one, two))["V"] == "2a"
    same = bp("s", layer("a", files(V="env"), files(V="launch"), web=files(V="typed")))
    assert run_layers((same,))["V"] == "typed"
    assert run_layers((same,), ptype="worker")["V"] == "launch"
    assert run_layers((same,), ptype=None)["V"] == "launch"


def test_default_earliest_wins() -> None:
    one = bp("one", layer("a", files(V__default="1a")), layer("b", files(V__default="1b")))
    two = bp("two", layer("a", files(V__default="2a")))
    assert run_layers((one, two))["V"] == "1a"
    same = bp("s", layer("a", files(V__default="env"), files(V__default="launch"),
                         web=files(V__default="typed")))
    assert run_layers((same,))["V"] == "env"
    assert run_layers((same,), V="user")["V"] == "user"


def test_append_order_buildpacks_then_layers_then_dirs() -> None:
    one = bp("one", layer("a", files(V__append="1a", V__delim=":"),
                          files(V__append="1a-launch", V__delim=":"),
                          web=files(V__append="1a-web", V__delim=":")),
             layer("b", files(V__append="1b", V__delim=":")))
    two = bp("two", layer("a", files(V__append="2a", V__delim=":")))
    assert run_layers((one, two))["V"] == "1a:1a-launch:1a-web:1b:2a"


def test_prepend_order_is_the_mirror_image() -> None:
    one = bp("one", layer("a", files(V__prepend="1a", V__delim=":"),
                          files(V__prepend="1a-launch", V__delim=":"),
                          web=files(V__prepend="1a-web", V__delim=":")),
             layer("b", files(V__prepend="1b", V__delim=":")))
    two = bp("two", layer("a", files(V__prepend="2a", V__delim=":")))
    assert run_layers((one, two), V="base")["V"] == "2a:1b:1a-web:1a-launch:1a:base"


def test_env_launch_typed_applies_only_to_its_process() -> None:
    one = bp("one", layer("a", web=files(ONLY_WEB="y"), worker=files(ONLY_WORKER="y")))
    assert "ONLY_WEB" in run_layers((one,), ptype="web")
    assert "ONLY_WORKER" not in run_layers((one,), ptype="web")
    assert "ONLY_WORKER" in run_layers((one,), ptype="worker")
    assert run_layers((one,), ptype=None) == {}


def test_layer_bin_and_lib_dirs_are_prepended() -> None:
    one = bp("one", Layer("/l/one/a", has_bin=True, has_lib=True),
             Layer("/l/one/b", has_bin=True), Layer("/l/one/c"))
    two = bp("two", Layer("/l/two/a", has_bin=True, has_lib=True))
    env = run_layers((one, two), PATH="/usr/bin")
    # later buildpacks first; within a buildpack the layers are taken ascending by name and
    # each prepended, so the later layer comes first (digest §2.8; the Go lifecycle; the builder)
    assert env["PATH"] == "/l/two/a/bin:/l/one/b/bin:/l/one/a/bin:/usr/bin"
    assert env["LD_LIBRARY_PATH"] == "/l/two/a/lib:/l/one/a/lib"


def test_layer_env_files_apply_after_that_buildpacks_bin_dirs() -> None:
    one = bp("one", Layer("/l/one/a", has_bin=True, env=files(PATH__prepend="/pre:")))
    two = bp("two", Layer("/l/two/a", has_bin=True))
    assert run_layers((one, two), PATH="/usr/bin")["PATH"] == (
        "/l/two/a/bin:/pre:/l/one/a/bin:/usr/bin")


def test_launch_env_cleans_before_applying() -> None:
    one = bp("one", Layer("/l/a", has_bin=True, env=files(CNB_APP_DIR="kept-if-set-by-bp")))
    env = launch_env({"PATH": "/cnb/process:/bin", "CNB_APP_DIR": "/workspace"}, (one,), None)
    assert env == {"PATH": "/l/a/bin:/bin", "CNB_APP_DIR": "kept-if-set-by-bp"}


# --- exec.d output ------------------------------------------------------------------------------
def test_execd_output_is_parsed() -> None:
    assert parse_execd_output('A = "1"\nB_2 = "x y"\n', "p") == {"A": "1", "B_2": "x y"}
    assert parse_execd_output("", "p") == {}


@pytest.mark.parametrize(("text", "match"), [
    ("A = 1", "must be a string"),
    ("[t]\nA = 'x'", "must be a string"),
    ('"A B" = "x"', "not a valid variable name"),
    ("A = ", "invalid TOML"),
])
def test_bad_execd_output_is_a_launch_error(text: str, match: str) -> None:
    with pytest.raises(LaunchError, match=match):
        parse_execd_output(text, "/layers/bp/l/exec.d/p")
