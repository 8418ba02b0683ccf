"""Unit tests for the shared core: API versions, phase inputs, the phase runner, locators,
atomic writes and TOML I/O."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from lifecycle import tomlfile
from lifecycle.api import Version, check_buildpack_api, check_platform_api
from lifecycle.cli.common import run_phase
from lifecycle.errors import (
    BuildpackAPIError,
    FileFormatError,
    LifecycleError,
    PlatformAPIError,
    UsageError,
)
from lifecycle.fsutil import atomic_write
from lifecycle.oci.locator import parse_locator
from lifecycle.platform.inputs import parse


@pytest.mark.parametrize(("text", "major", "minor"), [
    ("0.12", 0, 12), ("1", 1, 0), ("2.3", 2, 3), ("0.7", 0, 7)])
def test_version_parse(text: str, major: int, minor: int) -> None:
    assert Version.parse(text) == Version(major, minor)


@pytest.mark.parametrize("text", ["", "a", "0.1.2", "01.2", "-1"])
def test_version_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        Version.parse(text)


def test_version_compat_rules() -> None:
    assert Version(0, 12).compatible(Version(0, 12))
    assert not Version(0, 12).compatible(Version(0, 11))
    assert Version(1, 3).compatible(Version(1, 1))
    assert not Version(1, 1).compatible(Version(1, 3))


@pytest.mark.parametrize("value", [None, "", "0.1", "0.14", "x"])
def test_platform_api_refused(value: str | None) -> None:
    with pytest.raises(PlatformAPIError) as e:
        check_platform_api(value)
    assert e.value.exit_code == 11


def test_buildpack_api_range() -> None:
    for minor in range(7, 13):
        assert check_buildpack_api(f"0.{minor}", "bp") == Version(0, minor)
    for bad in ("0.6", "0.13", "0.1"):
        with pytest.raises(BuildpackAPIError, match="bp"):
            check_buildpack_api(bad, "bp")


def test_inputs_flag_env_default_precedence() -> None:
    env = {"CNB_LAYERS_DIR": "/env-layers", "CNB_GROUP_PATH": "/g.toml"}
    v, pos = parse(["-app=/a", "-group", "/flag.toml", "img"], ["app", "layers", "group", "plan"],
                   env)
    assert v["app"] == "/a"
    assert v["layers"] == "/env-layers"
    assert v["group"] == "/flag.toml"
    assert v["plan"] == "/env-layers/plan.toml"
    assert pos == ["img"]


def test_inputs_bool_and_list() -> None:
    v, _ = parse(["-daemon", "-tag", "a", "-tag=b"], ["daemon", "tag", "insecure-registry"],
                 {"CNB_INSECURE_REGISTRIES": "r1,r2"})
    assert v["daemon"] is True
    assert v["tag"] == ("a", "b")
    assert v["insecure_registry"] == ("r1", "r2")


@pytest.mark.parametrize("argv", [["-nope"], ["-app"], ["-uid", "x"]])
def test_inputs_errors(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse(argv, ["app", "uid"], {})


def _body(exc: Exception | None) -> Any:
    def body(values: Any, positionals: list[str], api: Version) -> int:
        if exc is not None:
            raise exc
        return 0
    return body


@pytest.mark.parametrize(("env", "exc", "code"), [
    ({}, None, 11),
    ({"CNB_PLATFORM_API": "0.3"}, None, 11),
    ({"CNB_PLATFORM_API": "0.15"}, None, 0),
    ({"CNB_PLATFORM_API": "0.15"}, UsageError("bad"), 3),
    ({"CNB_PLATFORM_API": "0.15"}, LifecycleError("generic"), 62),
    ({"CNB_PLATFORM_API": "0.15"}, FileFormatError("x.toml: bad"), 62),
    ({"CNB_PLATFORM_API": "0.15"}, RuntimeError("bug"), 62),
])
def test_run_phase_exit_codes(env: dict[str, str], exc: Exception | None, code: int,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run_phase("exporter", [], ["layers"], _body(exc), env) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code:
        assert err.count("\n") == 1


def test_run_phase_unknown_flag_is_3() -> None:
    assert run_phase("detector", ["-bogus"], ["layers"], _body(None),
                     {"CNB_PLATFORM_API": "0.15"}) == 3


@pytest.mark.parametrize(("text", "transport", "ref", "tag"), [
    ("oci:/tmp/lay", "oci", "/tmp/lay", "latest"),
    ("oci:/tmp/lay:v1", "oci", "/tmp/lay", "v1"),
    ("docker-archive:/x.tar", "docker-archive", "/x.tar", None),
    ("docker-archive:/x.tar:app:1", "docker-archive", "/x.tar", "app:1"),
    ("docker://127.0.0.1:5000/a:b", "registry", "127.0.0.1:5000/a:b", None),
    ("ghcr.io/x/y", "registry", "ghcr.io/x/y", None),
])
def test_locator(text: str, transport: str, ref: str, tag: str | None) -> None:
    loc = parse_locator(text)
    assert (loc.transport, loc.ref, loc.tag) == (transport, ref, tag)


def test_locator_errors() -> None:
    for bad in ("", "oci:", "docker-archive::t"):
        with pytest.raises(UsageError):
            parse_locator(bad)


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "d" / "f.toml"
    atomic_write(p, b"one")
    atomic_write(p, b"two", mode=0o600)
    assert p.read_bytes() == b"two"
    assert os.stat(p).st_mode & 0o777 == 0o600
    assert [x.name for x in p.parent.iterdir()] == ["f.toml"]


def test_tomlfile_round_trip_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "a.toml"
    tomlfile.dump(p, {"a": 1, "b": None, "c": ("x",), "t": {"k": None, "v": True}})
    assert tomlfile.load(p) == {"a": 1, "c": ["x"], "t": {"v": True}}
    assert tomlfile.load(tmp_path / "missing.toml", missing_ok=True) == {}
    with pytest.raises(FileFormatError, match="missing.toml"):
        tomlfile.load(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("a = ")
    with pytest.raises(FileFormatError, match="bad.toml: invalid TOML"):
        tomlfile.load(tmp_path / "bad.toml")
