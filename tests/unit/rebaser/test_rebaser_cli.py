"""The rebaser program's argument handling: usage errors exit 3, a missing platform API 11,
an unreadable app image 72 (no registry needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.api import Version
from lifecycle.cli.phase_rebaser import NAMES, inputs_of, run
from lifecycle.errors import UsageError
from lifecycle.platform import inputs

ENV = {"CNB_PLATFORM_API": "0.15", "DOCKER_CONFIG": "/nonexistent"}


def _inputs(*argv: str) -> tuple[dict[str, object], list[str]]:
    return inputs.parse(argv, NAMES, ENV)


@pytest.mark.parametrize("argv", [
    [],                                                          # no image
    ["-daemon", "r.example/app"],                                # daemon unsupported
    ["-image", "r.example/a", "-run-image", "r.example/b", "r.example/app"],
    ["-bogus", "r.example/app"],                                 # unknown flag
    ["-run-image"],                                              # missing value
    ["r.example/app", "other.example/app"],                      # two registries
    ["Not A Reference!"],                                        # bad reference
])
def test_usage_errors_exit_3(argv: list[str], tmp_path: Path) -> None:
    assert run(["-report", str(tmp_path / "r.toml"), *argv], ENV) == 3
    assert not (tmp_path / "r.toml").exists()


def test_platform_api_missing_exits_11() -> None:
    assert run(["r.example/app"], {}) == 11


def test_inputs() -> None:
    values, pos = _inputs("-force", "-run-image", "r.example/run:2", "-uid", "1000",
                          "-insecure-registry", "r.example", "-previous-image", "r.example/a:1",
                          "r.example/a:2", "r.example/a:latest")
    got = inputs_of(values, pos, Version(0, 15))
    assert got.images == ("r.example/a:2", "r.example/a:latest")
    assert got.run_image == "r.example/run:2"
    assert got.previous_image == "r.example/a:1"
    assert got.force is True
    assert got.insecure_registries == ("r.example",)


def test_deprecated_image_flag_and_env() -> None:
    values, pos = _inputs("-image", "r.example/run:3", "r.example/a")
    assert inputs_of(values, pos, Version(0, 15)).run_image == "r.example/run:3"
    values, pos = inputs.parse(["r.example/a"], NAMES,
                               {**ENV, "CNB_RUN_IMAGE": "r.example/run:4",
                                "CNB_FORCE_REBASE": "true"})
    got = inputs_of(values, pos, Version(0, 15))
    assert (got.run_image, got.force) == ("r.example/run:4", True)
    assert values["report"] == "/layers/report.toml"


def test_daemon_usage_error_message() -> None:
    values, pos = _inputs("-daemon", "r.example/a")
    with pytest.raises(UsageError, match="daemon"):
        inputs_of(values, pos, Version(0, 15))
