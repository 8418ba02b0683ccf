"""pypack/python on a PEP 621 project (no requirements.txt): an editable install whose
``[project.scripts]`` entry becomes the ``web`` process, no egg-info left in the app, and the
app answering HTTP through our launcher. Needs PyPI (setuptools for the build backend)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bundled_rig import Workspace, http_get, launched

pytestmark = pytest.mark.e2e

PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "hellopkg"
version = "0.1.0"
dependencies = ["waitress==3.0.2"]

[project.scripts]
hello-web = "hellopkg.main:run"
"""

MAIN = """import os

from waitress import serve


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello from a pyproject project!\\n"]


def run():
    serve(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
"""


def test_project_mode(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.prepare("python-web")
    shutil.rmtree(ws.app)
    (ws.app / "src" / "hellopkg").mkdir(parents=True)
    (ws.app / "pyproject.toml").write_text(PYPROJECT)
    (ws.app / "src" / "hellopkg" / "__init__.py").write_text("")
    (ws.app / "src" / "hellopkg" / "main.py").write_text(MAIN)
    out = ws.build()
    assert "Installing dependencies (project) into a new venv" in out
    assert "install --no-compile -e ." in out
    [web] = ws.metadata()["processes"]
    assert web["command"] == ["hello-web"]
    assert not list(ws.app.rglob("*.egg-info"))
    with launched(ws) as port:
        assert http_get(port) == "Hello from a pyproject project!\n"
