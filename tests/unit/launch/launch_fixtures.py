"""Helpers for the launcher tests (a uniquely named module, imported by conftest and tests)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "launch"
REPO = Path(__file__).resolve().parents[3]


def make_executable(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and (path.parent.name in ("bin", "exec.d")
                               or path.parent.parent.name == "exec.d"):
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@dataclass(frozen=True)
class Tree:
    """A launchable app tree in a temp dir."""

    root: Path

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    @property
    def app(self) -> Path:
        return self.root / "workspace"

    def environ(self, **extra: str) -> dict[str, str]:
        """A launcher environment for this tree (PATH from the test process, /cnb dirs first)."""
        env = {"PATH": "/cnb/process:/cnb/lifecycle:" + os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
               "CNB_PLATFORM_API": "0.15", "CNB_LAYERS_DIR": str(self.layers),
               "CNB_APP_DIR": str(self.app), "CNB_DEPRECATION_MODE": "quiet"}
        env.update(extra)
        return env


@dataclass(frozen=True)
class Result:
    """What a launcher run did."""

    returncode: int
    stdout: str
    stderr: str
    pid: int

    def probe(self) -> dict[str, Any]:
        """The JSON the probe printed (the last stdout line)."""
        out: dict[str, Any] = json.loads(self.stdout.strip().splitlines()[-1])
        return out


Runner = Callable[..., Result]
