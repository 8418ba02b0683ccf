"""Detection of the bundled buildpacks (their real bin/detect through our detector phase, on the
host) for the example apps and a few edge cases. No network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bundled_rig import EXAMPLES, Workspace

from lifecycle.errors import DetectFailed


def group_of(ws: Workspace) -> list[str]:
    return [e.id for e in ws.detect().group.group]


@pytest.mark.parametrize(("example", "group"), [
    ("python-web", ["pypack/python"]),
    ("nodejs-web", ["pypack/nodejs"]),
    ("procfile-app", ["pypack/procfile"]),
])
def test_examples(tmp_path: Path, example: str, group: list[str]) -> None:
    ws = Workspace(tmp_path)
    ws.prepare(example)
    assert group_of(ws) == group


def test_python_plan_and_procfile_join_the_group(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.prepare("python-web")
    (ws.app / "Procfile").write_text("web: python app.py\n")
    found = ws.detect()
    assert [e.id for e in found.group.group] == ["pypack/python", "pypack/procfile"]
    assert [r.name for e in found.plan.entries for r in e.requires] == ["site-packages"]


@pytest.mark.parametrize(("files", "group"), [
    ({"pyproject.toml": "[project]\nname = 'x'\nversion = '1'\n"}, ["pypack/python"]),
    ({"pyproject.toml": "[build-system]\nrequires = ['setuptools']\n"}, ["pypack/python"]),
    ({"setup.py": "from setuptools import setup\nsetup()\n"}, ["pypack/python"]),
    ({"pyproject.toml": "[tool.black]\nline-length = 100\n", "Procfile": "web: x\n"},
     ["pypack/procfile"]),
    ({"package.json": "{}", "Procfile": "web: node x.js\n"}, ["pypack/nodejs", "pypack/procfile"]),
])
def test_detection_rules(tmp_path: Path, files: dict[str, str], group: list[str]) -> None:
    ws = Workspace(tmp_path)
    ws.prepare("procfile-app")
    shutil.rmtree(ws.app)
    ws.app.mkdir()
    for name, text in files.items():
        (ws.app / name).write_text(text)
    assert group_of(ws) == group


def test_nothing_to_build_fails_detection(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.prepare("procfile-app")
    (ws.app / "Procfile").write_text("# no processes\n")
    with pytest.raises(DetectFailed):
        ws.detect()


def test_examples_are_tiny() -> None:
    for example in ("python-web", "nodejs-web", "procfile-app"):
        files = [p for p in (EXAMPLES / example).rglob("*") if p.is_file()]
        assert 0 < len(files) <= 5 and sum(p.stat().st_size for p in files) < 4096
