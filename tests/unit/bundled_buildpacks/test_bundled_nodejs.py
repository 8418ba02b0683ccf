"""pypack/nodejs on the nodejs-web example, through our detector and builder phases on the host:
the node_modules layer, the app's symlink, the web process, reuse on rebuild, byte-identical
layers from two cold builds, and the app answering HTTP when started by our launcher. Needs
the npm registry."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from bundled_rig import Workspace, http_get, launched, tree_digest

pytestmark = pytest.mark.e2e

BP = "pypack_nodejs"


@dataclass
class Flow:
    ws: Workspace
    cold: str
    digest: str
    warm: str
    metadata: dict[str, Any]
    served: str
    second_cold: str


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    ws = Workspace(tmp_path_factory.mktemp("node") / "b")
    ws.prepare("nodejs-web")
    cold = ws.build()
    digest = tree_digest(ws.layers / BP / "node_modules")
    ws.emulate_restore()
    ws.prepare("nodejs-web", fresh_layers=False)
    warm = ws.build()
    metadata = ws.metadata()
    with launched(ws) as port:
        served = http_get(port)
    ws.prepare("nodejs-web")
    ws.build()
    return Flow(ws, cold, digest, warm, metadata, served,
                tree_digest(ws.layers / BP / "node_modules"))


def test_cold_build_runs_npm_ci(flow: Flow) -> None:
    assert "Installing node modules (npm ci) into a new layer: no previous layer" in flow.cold
    assert "npm ci --omit=dev" in flow.cold


def test_layers_env_and_app_link(flow: Flow) -> None:
    ws = flow.ws
    layer = ws.layers / BP / "node_modules"
    assert ws.layer_toml(BP, "node_modules")["types"] == \
        {"launch": True, "build": True, "cache": True}
    assert ws.layer_toml(BP, "npm-cache")["types"]["cache"] is True
    assert (layer / "node_modules" / "ms" / "package.json").is_file()
    assert os.readlink(ws.app / "node_modules") == str(layer / "node_modules")
    assert (layer / "env" / "NODE_PATH.prepend").read_text() == str(layer / "node_modules")
    assert (layer / "env.launch" / "NODE_ENV.default").read_text() == "production"


def test_web_process_from_scripts_start(flow: Flow) -> None:
    md = flow.metadata
    assert md["buildpack-default-process-type"] == "web"
    [web] = md["processes"]
    assert web["command"] == ["bash", "-c", "node server.js"]


def test_rebuild_reuses_node_modules(flow: Flow) -> None:
    assert "Reusing the node_modules layer: package-lock.json unchanged" in flow.warm
    assert "npm ci" not in flow.warm


def test_app_answers(flow: Flow) -> None:
    assert flow.served.startswith("Hello from pypack nodejs-web!")


def test_two_cold_builds_give_byte_identical_layers(flow: Flow) -> None:
    assert flow.second_cold == flow.digest


def test_without_a_lockfile_npm_install_and_reuse_keyed_by_package_json(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    ws = Workspace(tmp_path_factory.mktemp("node-nolock") / "b")
    ws.prepare("nodejs-web")
    (ws.app / "package-lock.json").unlink()
    cold = ws.build()
    assert "npm install" in cold and "npm ci" not in cold, cold
    assert (ws.layers / BP / "node_modules" / "node_modules" / "ms" / "package.json").is_file()
    ws.emulate_restore()
    ws.prepare("nodejs-web", fresh_layers=False)
    (ws.app / "package-lock.json").unlink()
    warm = ws.build()
    assert "Reusing the node_modules layer: package.json unchanged" in warm, warm
