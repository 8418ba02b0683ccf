"""buildpack.toml, targets, target env and buildpack process env."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.api import Version
from lifecycle.buildpack import descriptor, procenv, targets
from lifecycle.buildpack.targets import BaseTarget, Distro, Target
from lifecycle.errors import BuildpackAPIError, FileFormatError
from lifecycle.platform import env as platform_env
from lifecycle.platform import target

FIXTURES = Path(__file__).parents[2] / "testdata" / "detector" / "buildpacks"


def bp_toml(tmp_path: Path, api: str, extra: str = "", bp: str = "") -> Path:
    d = tmp_path / "bp"
    d.mkdir(exist_ok=True)
    p = d / "buildpack.toml"
    p.write_text(f'api = "{api}"\n[buildpack]\nid = "x/y"\nversion = "1.0.0"\n{bp}\n{extra}')
    return p


def test_escape_and_find() -> None:
    assert descriptor.escape_id("a/b/c") == "a_b_c"
    d = descriptor.find(FIXTURES, "test/a", "0.0.1")
    assert d.id == "test/a" and d.api == Version(0, 12) and d.homepage == "https://example.com/a"
    assert d.dir == (FIXTURES / "test_a" / "0.0.1").absolute()
    assert d.targets == (Target(os="linux"),)  # inferred from bin/build
    with pytest.raises(FileFormatError, match="not found"):
        descriptor.find(FIXTURES, "nope", "1")


def test_composite() -> None:
    d = descriptor.find(FIXTURES, "composite", "1.0.0")
    assert d.is_composite and [e.id for e in d.order[0].group] == ["node", "npm"]


@pytest.mark.parametrize("api", ["0.1", "0.6", "0.13", "1.0", "x"])
def test_unsupported_api_is_exit_12(tmp_path: Path, api: str) -> None:
    with pytest.raises(BuildpackAPIError, match="x/y@1.0.0") as err:
        descriptor.load(bp_toml(tmp_path, api))
    assert err.value.exit_code == 12


def test_exec_env_both_forms(tmp_path: Path) -> None:
    d = descriptor.load(bp_toml(tmp_path, "0.12", bp='exec-env = ["test", "development"]'))
    assert d.exec_env == ("test", "development")
    d = descriptor.load(bp_toml(tmp_path, "0.12",
                                '[[buildpack.exec-env]]\nname = "test"\n'))
    assert d.exec_env == ("test",)


def test_targets_variant_keys_and_stacks(tmp_path: Path) -> None:
    d = descriptor.load(bp_toml(tmp_path, "0.10", '[[targets]]\nos="linux"\narch="arm"\n'
                                'arch-variant="v7"\n[[targets.distros]]\nname="ubuntu"\n'))
    assert d.targets == (Target("linux", "arm", "v7", (Distro("ubuntu", ""),)),)
    d = descriptor.load(bp_toml(tmp_path, "0.9", '[[stacks]]\nid="io.buildpacks.stacks.bionic"\n'))
    assert d.targets == (Target("linux", "amd64", "", (Distro("ubuntu", "18.04"),)),)
    d = descriptor.load(bp_toml(tmp_path, "0.8", '[[stacks]]\nid="*"\n'))
    assert d.targets == (Target(),)


def test_composite_with_stacks_rejected(tmp_path: Path) -> None:
    p = bp_toml(tmp_path, "0.9", '[[stacks]]\nid="*"\n[[order]]\n[[order.group]]\nid="a"\n'
                'version="1"\n')
    with pytest.raises(FileFormatError, match="stacks"):
        descriptor.load(p)


def test_schema_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match=r"buildpack.toml: buildpack.*clear-env"):
        descriptor.load(bp_toml(tmp_path, "0.12", bp='clear-env = "yes"'))
    with pytest.raises(FileFormatError, match="unknown"):
        descriptor.load(bp_toml(tmp_path, "0.12", "unknown = 1"))


@pytest.mark.parametrize(("base", "t", "ok"), [
    (BaseTarget("linux", "amd64"), Target("linux", "amd64"), True),
    (BaseTarget("linux", "amd64"), Target("linux", "arm64"), False),
    (BaseTarget("linux", "amd64"), Target(), True),
    (BaseTarget("", ""), Target("windows"), True),
    (BaseTarget("linux", "arm", "v7"), Target("linux", "arm", "v6"), False),
    (BaseTarget("linux", "amd64"), Target("linux", distros=(Distro("ubuntu"),)), False),
    (BaseTarget("linux", "amd64", distro=Distro("ubuntu", "22.04")),
     Target("linux", distros=(Distro("alpine"), Distro("ubuntu", "22.04"))), True),
])
def test_target_matching(base: BaseTarget, t: Target, ok: bool) -> None:
    assert targets.satisfies(base, t) is ok


def test_target_env(tmp_path: Path) -> None:
    assert target.target_env(None, Version(0, 9)) == {}
    env = target.target_env(str(tmp_path / "missing.toml"), Version(0, 10))
    assert env == {"CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": target.host_arch()}
    a = tmp_path / "analyzed.toml"
    a.write_text('[run-image]\nreference="r"\n[run-image.target]\nos="linux"\narch="arm64"\n'
                 'arch-variant="v8"\n[run-image.target.distro]\nname="ubuntu"\nversion="24.04"\n')
    assert target.target_env(str(a), Version(0, 12)) == {
        "CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "arm64", "CNB_TARGET_ARCH_VARIANT": "v8",
        "CNB_TARGET_DISTRO_NAME": "ubuntu", "CNB_TARGET_DISTRO_VERSION": "24.04"}
    osr = tmp_path / "os-release"
    osr.write_text('ID=debian\nVERSION_ID="12"\n')
    env = target.target_env(None, Version(0, 12), os_release=str(osr))
    assert env["CNB_TARGET_DISTRO_NAME"] == "debian" and env["CNB_TARGET_DISTRO_VERSION"] == "12"
    assert target.host_arch() in ("amd64", "arm64") or target.host_arch()


def test_read_platform_env(tmp_path: Path) -> None:
    assert platform_env.read_platform_env(tmp_path) == {}
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "FOO").write_text("bar\n")
    (tmp_path / "env" / "PATH").write_text("/user/bin")
    assert platform_env.read_platform_env(tmp_path) == {"FOO": "bar\n", "PATH": "/user/bin"}


@pytest.mark.parametrize("api", ["0.7", "0.8", "0.10", "0.12"])
def test_buildpack_env_gates(tmp_path: Path, api: str) -> None:
    d = descriptor.load(bp_toml(tmp_path, api))
    (tmp_path / "env").mkdir(exist_ok=True)
    (tmp_path / "env" / "FOO").write_text("user")
    (tmp_path / "env" / "PATH").write_text("/user/bin")
    base = {"PATH": "/bin", "FOO": "base", "CNB_REGISTRY_AUTH": "{}"}
    env = procenv.buildpack_env(base, d, str(tmp_path), "test", {"CNB_TARGET_OS": "linux"})
    v = Version.parse(api)
    assert env["CNB_BUILDPACK_DIR"] == str(d.dir)
    assert ("CNB_PLATFORM_DIR" in env) is (v >= Version(0, 8))
    assert ("CNB_TARGET_OS" in env) is (v >= Version(0, 10))
    assert env.get("CNB_EXEC_ENV") == ("test" if v >= Version(0, 12) else None)
    assert env["FOO"] == "user" and env["PATH"] == "/user/bin" + os.pathsep + "/bin"
    assert "CNB_REGISTRY_AUTH" not in env


def test_buildpack_env_clear_env(tmp_path: Path) -> None:
    d = descriptor.load(bp_toml(tmp_path, "0.12", bp="clear-env = true"))
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "FOO").write_text("user")
    env = procenv.buildpack_env({"FOO": "base"}, d, str(tmp_path), "production", {})
    assert env["FOO"] == "base"


def test_lifecycle_base_env_is_the_allowlist() -> None:
    env = procenv.lifecycle_base_env({"CNB_REGISTRY_AUTH": "x", "CNB_LAYERS_DIR": "/l",
                                      "CNB_STACK_ID": "s", "HOME": "/h", "DOCKER_CONFIG": "/d",
                                      "GITHUB_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "k",
                                      "LANG": "C.UTF-8", "PATH": "/bin", "CPATH": "/i",
                                      "https_proxy": "http://p", "HOSTNAME": "h"})
    assert env == {"CNB_STACK_ID": "s", "HOME": "/h", "PATH": "/bin", "CPATH": "/i",
                   "https_proxy": "http://p", "HOSTNAME": "h"}
