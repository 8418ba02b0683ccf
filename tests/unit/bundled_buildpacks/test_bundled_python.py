"""pypack/python on the python-web example, through our detector and builder phases on the host:
layers, processes, reuse of the venv on rebuilds (code change, Procfile added), reinstall when
the requirements change, byte-identical layers from two cold builds, and the app answering HTTP
when started by our launcher from the layers, without writing any bytecode. Needs PyPI."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

import pytest
from bundled_rig import Workspace, http_get, launched, tree_digest

pytestmark = pytest.mark.e2e

BP = "pypack_python"


@dataclass
class Flow:
    ws: Workspace
    cold: str
    venv_digest: str
    pycache_digest: str
    cfg_inode: int
    warm: str
    warm_metadata: dict[str, Any]
    served_after_change: str
    digest_after_serving: str
    with_procfile: str
    procfile_metadata: dict[str, Any]
    changed_deps: str
    second_cold_venv: str
    second_cold_pycache: str


def venv_digest(ws: Workspace) -> str:
    return tree_digest(ws.layers / BP / "venv")


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    ws = Workspace(tmp_path_factory.mktemp("py") / "b")
    ws.prepare("python-web")
    cold = ws.build()
    digest, pycache = venv_digest(ws), tree_digest(ws.app / "__pycache__")
    cfg_inode = (ws.layers / BP / "venv" / "pyvenv.cfg").stat().st_ino
    shutil.copy(ws.app / "app.py", ws.root / "app.py.orig")

    ws.emulate_restore()
    ws.prepare("python-web", fresh_layers=False)
    app = ws.app / "app.py"
    app.write_text(app.read_text().replace("Hello from", "Changed code, hello from"))
    warm = ws.build()
    warm_metadata = ws.metadata()
    assert (ws.layers / BP / "venv" / "pyvenv.cfg").stat().st_ino == cfg_inode
    with launched(ws) as port:
        served = http_get(port)
    after_serving = venv_digest(ws) + tree_digest(ws.app / "__pycache__")

    ws.emulate_restore()
    ws.prepare("python-web", fresh_layers=False)
    (ws.app / "Procfile").write_text("web: python app.py\nhello: echo hello $0\n")
    with_procfile = ws.build()
    procfile_md = ws.metadata()

    ws.emulate_restore()
    ws.prepare("python-web", fresh_layers=False)
    req = ws.app / "requirements.txt"
    req.write_text(req.read_text() + "# pinned\n")
    changed = ws.build()

    ws.prepare("python-web")  # fresh layers, same paths
    ws.build()
    return Flow(ws, cold, digest, pycache, cfg_inode, warm, warm_metadata, served,
                after_serving, with_procfile, procfile_md, changed, venv_digest(ws),
                tree_digest(ws.app / "__pycache__"))


def test_cold_build_installs_into_a_venv_layer(flow: Flow) -> None:
    assert "Installing dependencies (requirements) into a new venv: no previous layer" \
        in flow.cold
    assert "Successfully installed waitress" in flow.cold


def test_layers_and_types(flow: Flow) -> None:
    ws = flow.ws
    venv = ws.layer_toml(BP, "venv")
    assert venv["types"] == {"launch": True, "build": True, "cache": True}
    assert len(venv["metadata"]["dependency-key"]) == 64
    assert ws.layer_toml(BP, "pip-cache")["types"] == \
        {"launch": False, "build": False, "cache": True}
    env = ws.layers / BP / "venv" / "env"
    assert (env / "VIRTUAL_ENV.override").read_text() == str(ws.layers / BP / "venv")
    assert (ws.layers / BP / "venv" / "bin" / "python").exists()
    assert not list((ws.layers / BP / "venv").rglob("pip/__init__.py"))  # no pip of its own


def test_processes_in_metadata(flow: Flow) -> None:
    md = flow.warm_metadata
    assert md["buildpack-default-process-type"] == "web"
    [web] = md["processes"]
    assert (web["type"], web["command"], web["buildpack-id"]) == \
        ("web", ["python", "app.py"], "pypack/python")


def test_rebuild_after_a_code_change_reuses_the_venv(flow: Flow) -> None:
    assert "Reusing the venv layer: dependencies unchanged" in flow.warm
    assert "pip" not in flow.warm.replace("__pypackages__", "")
    assert flow.served_after_change == "Changed code, hello from pypack python-web!\n"


def test_bytecode_is_hash_based_and_nothing_recompiles_at_start(flow: Flow) -> None:
    ws = flow.ws
    pycs = list((ws.layers / BP / "venv" / "lib").rglob("*.pyc"))
    assert pycs and all(p.read_bytes()[4:8] == b"\x01\x00\x00\x00" for p in pycs)  # unchecked
    app_pycs = list((ws.app / "__pycache__").glob("*.pyc"))
    assert app_pycs and all(p.read_bytes()[4:8] == b"\x03\x00\x00\x00" for p in app_pycs)
    assert flow.digest_after_serving.startswith(flow.venv_digest)


def test_procfile_processes_with_the_procfile_buildpack(flow: Flow) -> None:
    assert "Reusing the venv layer" in flow.with_procfile
    md = flow.procfile_metadata
    assert [b["id"] for b in md["buildpacks"]] == ["pypack/python", "pypack/procfile"]
    procs = {p["type"]: p for p in md["processes"]}
    assert procs["web"]["command"] == ["bash", "-c", "python app.py"]
    assert procs["hello"]["command"] == ["bash", "-c", "echo hello $0"]
    assert md["buildpack-default-process-type"] == "web"


def test_changed_requirements_reinstall(flow: Flow) -> None:
    assert "into a new venv: inputs changed" in flow.changed_deps
    assert "Reusing" not in flow.changed_deps


def test_two_cold_builds_give_byte_identical_layers(flow: Flow) -> None:
    assert flow.second_cold_venv == flow.venv_digest
    assert flow.second_cold_pycache == flow.pycache_digest
