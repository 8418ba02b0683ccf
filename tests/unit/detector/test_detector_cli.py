"""``lifecycle detector`` end to end with fixture buildpacks (tests/testdata/detector)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parents[2] / "testdata" / "detector"
BUILDPACKS = DATA / "buildpacks"


@dataclass
class Run:
    code: int
    out: str
    layers: Path
    app: Path

    def group(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = tomllib.loads((self.layers / "group.toml").read_text())[
            "group"]
        return data

    def plan(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = tomllib.loads((self.layers / "plan.toml").read_text()).get(
            "entries", [])
        return data


def order_toml(*groups: list[str]) -> str:
    """``["a@1", "?b@2"]`` -> an order group; ``?`` marks optional."""
    out = []
    for g in groups:
        out.append("[[order]]")
        for ref in g:
            opt = ref.startswith("?")
            bp_id, version = ref.lstrip("?").split("@")
            out += ["[[order.group]]", f'id = "{bp_id}"', f'version = "{version}"']
            if opt:
                out.append("optional = true")
    return "\n".join(out) + "\n"


def detector(tmp_path: Path, *groups: list[str], args: tuple[str, ...] = (),
             env: dict[str, str] | None = None, api: str | None = "0.15",
             order: str | None = None) -> Run:
    app, layers, platform = tmp_path / "app", tmp_path / "layers", tmp_path / "platform"
    for d in (app, layers, platform):
        d.mkdir(exist_ok=True)
    (tmp_path / "order.toml").write_text(order if order is not None else order_toml(*groups))
    full = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    if api is not None:
        full["CNB_PLATFORM_API"] = api
    full.update(env or {})
    argv = [sys.executable, "-m", "lifecycle.cli.phases", "detector", "-app", str(app),
            "-layers", str(layers), "-platform", str(platform), "-buildpacks", str(BUILDPACKS),
            "-order", str(tmp_path / "order.toml"), "-system", str(tmp_path / "system.toml"),
            "-analyzed", str(tmp_path / "analyzed.toml"), *args]
    p = subprocess.run(argv, env=full, capture_output=True, text=True, timeout=60)
    return Run(p.returncode, p.stdout + p.stderr, layers, app)


def test_pass_with_composite_optional_and_mixed_apis(tmp_path: Path) -> None:
    order = (DATA / "orders" / "simple.toml").read_text()
    r = detector(tmp_path, order=order)
    assert r.code == 0, r.out
    assert r.group() == [{"id": "node", "version": "1.0.0", "api": "0.7"},
                         {"id": "npm", "version": "1.0.0", "api": "0.12"}]
    assert r.plan() == [
        {"providers": [{"id": "node", "version": "1.0.0"}],
         "requires": [{"name": "node", "metadata": {"version": "20"}}]},
        {"providers": [{"id": "npm", "version": "1.0.0"}], "requires": [{"name": "npm"}]}]
    assert "2 of 3 buildpacks participating" in r.out
    assert "======== Results ========" not in r.out  # debug only on success


def test_debug_shows_results_and_detect_output(tmp_path: Path) -> None:
    r = detector(tmp_path, ["node@1.0.0", "npm@1.0.0"], args=("-log-level", "debug"))
    assert r.code == 0, r.out
    for line in ("======== Results ========", "pass: node@1.0.0", "pass: npm@1.0.0",
                 "Resolving plan... (try #1)", "node detect: platform="):
        assert line in r.out


@pytest.mark.parametrize("api", [None, "0.1", "0.14", "junk"])
def test_platform_api_exit_11(tmp_path: Path, api: str | None) -> None:
    assert detector(tmp_path, ["test/a@0.0.1"], api=api).code == 11


def test_buildpack_api_exit_12(tmp_path: Path) -> None:
    r = detector(tmp_path, ["test/a@0.0.1"], ["old@1.0.0"])
    assert r.code == 12
    assert "old@1.0.0" in r.out and "0.1" in r.out


def test_all_fail_exit_20_shows_results(tmp_path: Path) -> None:
    r = detector(tmp_path, ["fail@1.0.0"])
    assert r.code == 20
    assert "fail: fail@1.0.0" in r.out and "No buildpack groups passed detection" in r.out
    assert not (r.layers / "group.toml").exists()


def test_error_exit_21_shows_output(tmp_path: Path) -> None:
    r = detector(tmp_path, ["error@1.0.0", "test/a@0.0.1"])
    assert r.code == 21
    assert "error buildpack output: boom" in r.out and "err:  error@1.0.0 (7)" in r.out


@pytest.mark.parametrize("args", [("-unknown", "x"), ("positional",), ("-log-level", "loud")])
def test_bad_arguments_exit_3(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert detector(tmp_path, ["test/a@0.0.1"], args=args).code == 3


def test_or_alternative(tmp_path: Path) -> None:
    r = detector(tmp_path, ["or-bp@1.0.0"])
    assert r.code == 0, r.out
    assert r.plan() == [{"providers": [{"id": "or-bp", "version": "1.0.0"}],
                         "requires": [{"name": "x"}]}]


def test_each_buildpack_detects_once(tmp_path: Path) -> None:
    r = detector(tmp_path, ["counter@1.0.0", "test/a@0.0.1"], ["?counter@1.0.0", "test/a@0.0.1"])
    assert r.code == 0, r.out
    assert [g["id"] for g in r.group()] == ["test/a"]
    assert (r.app / "counter.runs").read_text().splitlines() == ["run"]


def test_target_mismatch(tmp_path: Path) -> None:
    r = detector(tmp_path, ["plan9@1.0.0"])
    assert r.code == 21 and "unable to satisfy target" in r.out
    assert "must not run" not in r.out
    r = detector(tmp_path, ["?plan9@1.0.0", "test/a@0.0.1"])
    assert r.code == 0 and [g["id"] for g in r.group()] == ["test/a"]


def test_exec_env_skips_buildpacks(tmp_path: Path) -> None:
    r = detector(tmp_path, ["testonly@1.0.0", "test/a@0.0.1"])
    assert r.code == 0 and [g["id"] for g in r.group()] == ["test/a"]
    r = detector(tmp_path, ["testonly@1.0.0", "test/a@0.0.1"], env={"CNB_EXEC_ENV": "test"})
    assert r.code == 0 and [g["id"] for g in r.group()] == ["testonly", "test/a"]
    assert detector(tmp_path, ["test/a@0.0.1"], args=("-exec-env", "a/b")).code == 3


def test_top_level_requires_version_rejected(tmp_path: Path) -> None:
    r = detector(tmp_path, ["toplevel-version@1.0.0"])
    assert r.code == 21 and "metadata.version" in r.out


def test_system_buildpacks(tmp_path: Path) -> None:
    (tmp_path / "system.toml").write_text(
        '[[system.pre.buildpacks]]\nid = "test/a"\nversion = "0.0.1"\n'
        '[[system.post.buildpacks]]\nid = "fail"\nversion = "1.0.0"\noptional = true\n')
    r = detector(tmp_path, ["node@1.0.0", "npm@1.0.0"])
    assert r.code == 0, r.out
    assert [g["id"] for g in r.group()] == ["test/a", "node", "npm"]
    assert r.group()[0]["homepage"] == "https://example.com/a"


def test_detect_environment(tmp_path: Path) -> None:
    (tmp_path / "platform" / "env").mkdir(parents=True)
    (tmp_path / "platform" / "env" / "FOO").write_text("bar")
    (tmp_path / "analyzed.toml").write_text(
        '[run-image]\nreference = "r"\nimage = "i"\n[run-image.target]\nos = "linux"\n'
        'arch = "amd64"\n[run-image.target.distro]\nname = "ubuntu"\nversion = "24.04"\n')
    r = detector(tmp_path, ["envdump@1.0.0", "envdump-old@1.0.0", "envdump-clear@1.0.0"],
                 env={"CNB_REGISTRY_AUTH": '{"reg": "Basic c2VjcmV0"}', "CI_TOKEN": "t0ken",
                      "https_proxy": "http://proxy:3128"})
    assert r.code == 0, r.out

    def env_of(name: str) -> dict[str, str]:
        text = (r.app / f"{name}.env").read_text()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    new, old, clear = env_of("envdump"), env_of("envdump-old"), env_of("envdump-clear")
    platform = str(tmp_path / "platform")
    assert new["CNB_BUILDPACK_DIR"] == str(BUILDPACKS / "envdump" / "1.0.0")
    assert new["CNB_PLATFORM_DIR"] == platform
    assert new["CNB_BUILD_PLAN_PATH"].endswith("plan.toml")
    assert (new["CNB_TARGET_OS"], new["CNB_TARGET_ARCH"]) == ("linux", "amd64")
    assert (new["CNB_TARGET_DISTRO_NAME"], new["CNB_TARGET_DISTRO_VERSION"]) == ("ubuntu",
                                                                                   "24.04")
    assert new["CNB_EXEC_ENV"] == "production" and new["FOO"] == "bar"
    # only the allowlist of the lifecycle's own environment passes (cnb-digest §2.11)
    assert "CI_TOKEN" not in new and new["https_proxy"] == "http://proxy:3128"
    assert "CNB_PLATFORM_DIR" not in old and "CNB_BUILD_PLAN_PATH" not in old
    assert "CNB_TARGET_OS" not in old and "CNB_EXEC_ENV" not in old and old["FOO"] == "bar"
    assert "FOO" not in clear and clear["CNB_PLATFORM_DIR"] == platform
    for e in (new, old, clear):
        assert "CNB_REGISTRY_AUTH" not in e and "CNB_PLATFORM_API" not in e
    assert "c2VjcmV0" not in "".join(p.read_text() for p in r.app.glob("*.env"))
    assert (r.app / "envdump.cwd").read_text().strip() == str(r.app)
    argv = (r.app / "envdump-old.argv").read_text().splitlines()
    assert argv[0] == str(BUILDPACKS / "envdump-old" / "1.0.0" / "bin" / "detect")
    assert argv[1] == platform and argv[2].endswith("plan.toml")


def test_default_output_paths_and_env_inputs(tmp_path: Path) -> None:
    r = detector(tmp_path, ["test/a@0.0.1"], args=("-group", str(tmp_path / "g.toml")),
                 env={"CNB_PLAN_PATH": str(tmp_path / "p.toml")})
    assert r.code == 0, r.out
    assert (tmp_path / "g.toml").exists() and (tmp_path / "p.toml").exists()
    assert not (r.layers / "group.toml").exists()


def test_missing_buildpack_is_detect_error(tmp_path: Path) -> None:
    r = detector(tmp_path, ["nope@1.0.0"])
    assert r.code == 22 and "nope@1.0.0" in r.out


@pytest.mark.skipif(shutil.which("lifecycle") is None, reason="console script not installed")
def test_console_script(tmp_path: Path) -> None:
    for d in ("app", "layers", "platform"):
        (tmp_path / d).mkdir()
    (tmp_path / "order.toml").write_text(order_toml(["test/a@0.0.1"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    env["CNB_PLATFORM_API"] = "0.15"
    p = subprocess.run(["lifecycle", "detector", "-app", str(tmp_path / "app"),
                        "-layers", str(tmp_path / "layers"), "-buildpacks", str(BUILDPACKS),
                        "-order", str(tmp_path / "order.toml"),
                        "-platform", str(tmp_path / "platform")],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "layers" / "group.toml").exists()
