"""The self-contained launcher file (lifecycle.launch.bundle) and the launcher's import budget."""

from __future__ import annotations

import ast
import io
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from launch_fixtures import REPO, Tree

from lifecycle.launch import bundle

LIFECYCLE = REPO / "lifecycle"
LAUNCHER_MODULES = sorted((LIFECYCLE / "launch").glob("*.py"))
RUNTIME_FILES = [LIFECYCLE / "errors.py", LIFECYCLE / "api.py",
                 LIFECYCLE / "cli" / "phase_launcher.py", *LAUNCHER_MODULES]
ALLOWED_LIFECYCLE = {"lifecycle", "lifecycle.errors", "lifecycle.api"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "lifecycle":
                names.update(f"lifecycle.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", RUNTIME_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_launcher_code_imports_only_the_standard_library(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        if top == "lifecycle":
            assert name in ALLOWED_LIFECYCLE or name.startswith("lifecycle.launch"), name
        else:
            assert top in sys.stdlib_module_names, f"{path.name} imports {name}"


def test_launcher_start_up_imports_nothing_heavy() -> None:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "import lifecycle.launch.launcher, lifecycle.cli.phase_launcher; "
            "print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(REPO)],
                         capture_output=True, text=True, check=True, timeout=60).stdout.split()
    heavy = {"subprocess", "logging", "shutil", "pathlib", "tempfile", "asyncio", "json",
             "threading", "click", "rich", "requests", "jsonschema", "tomli_w", "zipfile",
             "lifecycle.oci", "lifecycle.platform", "lifecycle.phases", "lifecycle.launch.bundle"}
    assert heavy.isdisjoint(out), heavy.intersection(out)


def test_launcher_bytes_are_a_deterministic_zipapp() -> None:
    data = bundle.launcher_bytes()
    assert data == bundle.launcher_bytes()
    assert data.startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
    assert names == sorted(names)
    expected = {"__main__.py", "lifecycle/__init__.py", "lifecycle/errors.py",
                "lifecycle/api.py"} | {f"lifecycle/launch/{p.name}" for p in LAUNCHER_MODULES
                                       if p.name != "bundle.py"}
    assert set(names) == expected


def test_write_launcher_and_install(tmp_path: Path) -> None:
    path = bundle.write_launcher(str(tmp_path / "out"))
    assert path == str(tmp_path / "out" / "launcher")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    assert Path(path).read_bytes() == bundle.launcher_bytes()
    launcher = bundle.install(str(tmp_path / "root"), ["worker", "web", "web"])
    assert launcher == str(tmp_path / "root" / "cnb" / "lifecycle" / "launcher")
    links = sorted(os.listdir(tmp_path / "root" / "cnb" / "process"))
    assert links == ["web", "worker"]
    assert os.readlink(tmp_path / "root" / "cnb" / "process" / "web") == bundle.LAUNCHER_PATH


@pytest.fixture
def installed(tree: Tree, tmp_path: Path) -> Path:
    """The launcher written to a temp ``cnb/lifecycle`` with ``cnb/process/<type>`` links."""
    launcher = Path(bundle.write_launcher(str(tmp_path / "cnb" / "lifecycle")))
    proc = tmp_path / "cnb" / "process"
    proc.mkdir()
    for ptype in ("web", "exit7", "legacy-shell"):
        (proc / ptype).symlink_to(launcher)
    return tmp_path / "cnb"


def _clean_env(tree: Tree) -> dict[str, str]:
    env = tree.environ()
    env.pop("PYTHONPATH", None)
    return env


@pytest.mark.parametrize("flags", [["-I"], ["-I", "-S"]])
def test_bundle_runs_isolated_from_a_temp_dir(tree: Tree, installed: Path,
                                              flags: list[str]) -> None:
    env = _clean_env(tree)
    run = [sys.executable, *flags, str(installed / "process" / "web"), "x"]
    res = subprocess.run(run, env=env, cwd=installed, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert '"argv": ["always", "x"]' in res.stdout
    exit7 = [sys.executable, *flags, str(installed / "process" / "exit7")]
    assert subprocess.run(exit7, env=env, cwd=installed, timeout=60).returncode == 7


def test_bundle_runs_by_its_shebang(tree: Tree, installed: Path) -> None:
    env = _clean_env(tree)
    res = subprocess.run([str(installed / "process" / "legacy-shell"), "u"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert '"argv": ["alpha", "u"]' in res.stdout
    res = subprocess.run([str(installed / "lifecycle" / "launcher"), "--", "sh", "-c",
                          "exit 6"], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 6
    res = subprocess.run([str(installed / "lifecycle" / "launcher")],
                         env={**env, "CNB_PLATFORM_API": "0.1"}, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 11 and res.stderr.startswith("ERROR: failed to launch:")


def test_bundle_uses_its_own_modules(installed: Path) -> None:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import lifecycle.launch.launcher as m; "
            "import lifecycle.api as a; print(m.__file__); print(a.__file__)")
    launcher = str(installed / "lifecycle" / "launcher")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code, launcher],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert all(line.startswith(launcher + "/") for line in out.splitlines())
