"""lifecycle.sdk.env: env files a layer writes, checked against the lifecycle's own reading
of them (``lifecycle.buildpack.env``: the suffix rules of buildpack.md "Environment")."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.buildpack import env as rules
from lifecycle.sdk import EnvDir, SdkError
from lifecycle.sdk.layer import Layer


def apply(directory: EnvDir, start: dict[str, str]) -> dict[str, str]:
    """What the lifecycle makes of the directory (no suffix = override)."""
    ops = rules.parse_env_dir(rules.read_env_dir(directory.path), "override")
    return rules.apply_ops(start, ops)


def test_file_names_and_contents_are_verbatim(tmp_path: Path) -> None:
    d = EnvDir(tmp_path / "env")
    d.override("A", "value with spaces\n")
    d.default("B", "b")
    d.append("C", "c", delim=",")
    d.prepend("D", "d")
    assert d.files() == {"A.override": "value with spaces\n", "B.default": "b",
                         "C.append": "c", "C.delim": ",", "D.prepend": "d"}


def test_suffix_rules_as_the_lifecycle_applies_them(tmp_path: Path) -> None:
    d = EnvDir(tmp_path / "env")
    d.override("OVR", "new")
    d.default("DEF_SET", "ignored")
    d.default("DEF_EMPTY", "used")
    d.default("DEF_UNSET", "used")
    d.append("APP", "tail", delim=":")
    d.prepend("PRE", "head", delim=";")
    d.append("NODELIM", "x")
    d.prepend_path("PATH", "/layer/bin")
    d.append_path("LIBS", "/layer/lib")
    start = {"OVR": "old", "DEF_SET": "kept", "DEF_EMPTY": "", "APP": "a", "PRE": "p",
             "NODELIM": "y", "PATH": "/usr/bin", "LIBS": "/lib"}
    out = apply(d, start)
    assert out == {"OVR": "new", "DEF_SET": "kept", "DEF_EMPTY": "used", "DEF_UNSET": "used",
                   "APP": "a:tail", "PRE": "head;p", "NODELIM": "yx",
                   "PATH": "/layer/bin:/usr/bin", "LIBS": "/lib:/layer/lib"}


def test_append_and_prepend_to_unset_variables(tmp_path: Path) -> None:
    d = EnvDir(tmp_path / "env")
    d.append("A", "x", delim=":")
    d.prepend("B", "y", delim=":")
    assert apply(d, {}) == {"A": "x", "B": "y"}


def test_one_delimiter_per_variable_and_directory(tmp_path: Path) -> None:
    d = EnvDir(tmp_path / "env")
    d.append("A", "x", delim=":")
    d.prepend("A", "y", delim=":")
    with pytest.raises(SdkError, match="delimiter"):
        d.append("A", "z", delim=",")


@pytest.mark.parametrize("name", ["", "A.B", "A/B", "A=B"])
def test_invalid_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(SdkError, match="invalid environment variable name"):
        EnvDir(tmp_path).override(name, "x")


def test_layer_env_directories(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "tools", launch=True, build=True)
    layer.env.override("BOTH", "1")
    layer.build_env.override("BUILD_ONLY", "1")
    layer.launch_env.override("LAUNCH_ONLY", "1")
    layer.process_env("web").override("WEB_ONLY", "1")
    base = tmp_path / "tools"
    assert (base / "env" / "BOTH.override").read_text() == "1"
    assert (base / "env.build" / "BUILD_ONLY.override").is_file()
    assert (base / "env.launch" / "LAUNCH_ONLY.override").is_file()
    assert (base / "env.launch" / "web" / "WEB_ONLY.override").is_file()
    build_view = rules.read_layer_env(base)
    assert rules.apply_layer({}, build_view, rules.BUILD_ROOT_DIRS) == \
        {"BOTH": "1", "BUILD_ONLY": "1"}
    with pytest.raises(SdkError, match="process type"):
        layer.process_env("bad/type")
