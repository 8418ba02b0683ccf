"""Helpers for the bundled-buildpack tests: run our detector and builder phases on the host
(``HostRunner``) against copies of ``examples/``, emulate a restore, hash layer trees, and
start a built app through our launcher. A uniquely named module (tests import it by name)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.phases.build import BuildInputs, build
from lifecycle.phases.detect import DetectorInputs, DetectResult, detect
from lifecycle.platform.files import metadata as metadata_file
from lifecycle.sandbox import HostRunner

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
BUILDPACKS = {"pypack/python": "python", "pypack/nodejs": "nodejs",
              "pypack/procfile": "procfile"}
VERSION = "0.1.0"

ORDER = """
[[order]]
  [[order.group]]
  id = "pypack/python"
  version = "0.1.0"
  [[order.group]]
  id = "pypack/procfile"
  version = "0.1.0"
  optional = true

[[order]]
  [[order.group]]
  id = "pypack/nodejs"
  version = "0.1.0"
  [[order.group]]
  id = "pypack/procfile"
  version = "0.1.0"
  optional = true

[[order]]
  [[order.group]]
  id = "pypack/procfile"
  version = "0.1.0"
"""


@dataclass
class Workspace:
    """A build's directories, at fixed paths under ``root`` (paths end up inside layers)."""

    root: Path

    @property
    def app(self) -> Path:
        return self.root / "workspace"

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    @property
    def platform(self) -> Path:
        return self.root / "platform"

    @property
    def buildpacks(self) -> Path:
        return self.root / "buildpacks"

    def prepare(self, example: str, *, fresh_layers: bool = True) -> None:
        """Copy the example app in, link the bundled buildpacks, write order.toml."""
        shutil.rmtree(self.app, ignore_errors=True)
        shutil.copytree(EXAMPLES / example, self.app, symlinks=True)
        if fresh_layers:
            shutil.rmtree(self.layers, ignore_errors=True)
        self.layers.mkdir(parents=True, exist_ok=True)
        (self.platform / "env").mkdir(parents=True, exist_ok=True)
        for bp_id, name in BUILDPACKS.items():
            link = self.buildpacks / bp_id.replace("/", "_") / VERSION
            if not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(REPO / "buildpacks" / name)
        (self.root / "order.toml").write_text(ORDER)

    def detect(self) -> DetectResult:
        return detect(DetectorInputs(
            app_dir=str(self.app), buildpacks_dir=str(self.buildpacks),
            platform_dir=str(self.platform), order_path=str(self.root / "order.toml"),
            environ=environ()), HostRunner())

    def build(self) -> str:
        """Detect and build; write metadata.toml; return the buildpacks' output."""
        found = self.detect()
        chunks: list[bytes] = []
        md = build(found.group, found.plan, BuildInputs(
            app_dir=str(self.app), layers_dir=str(self.layers),
            platform_dir=str(self.platform), buildpacks_dir=str(self.buildpacks),
            environ=environ(), tmp_dir=str(self.root)), HostRunner(), chunks.append)
        metadata_file.dump(metadata_file.path_in(self.layers), md)
        return b"".join(chunks).decode("utf-8", "replace")

    def metadata(self) -> dict[str, Any]:
        return tomllib.loads((self.layers / "config" / "metadata.toml").read_text())

    def layer_toml(self, bp: str, layer: str) -> dict[str, Any]:
        return tomllib.loads((self.layers / bp / f"{layer}.toml").read_text())

    def emulate_restore(self) -> None:
        """What the analyzer + restorer leave for a rebuild with a cache: cache=true layers
        keep contents and metadata (``[types]`` dropped), launch-only layers keep only
        metadata, everything else and the buildpacks' other files go."""
        for bp_dir in [p for p in self.layers.iterdir() if p.is_dir() and "_" in p.name]:
            for entry in list(bp_dir.iterdir()):
                if entry.name == "store.toml":
                    continue
                if entry.suffix != ".toml" or entry.stem in ("launch", "build"):
                    if not (self.layers / bp_dir.name / f"{entry.name}.toml").exists():
                        _remove(entry)
                    continue
                doc = tomllib.loads(entry.read_text())
                types = doc.get("types", {})
                if not types.get("cache") and not types.get("launch"):
                    _remove(entry)
                    _remove(entry.with_suffix(""))
                    continue
                if not types.get("cache"):
                    _remove(entry.with_suffix(""))
                md = doc.get("metadata", {})
                entry.write_text(_metadata_toml(md))
        _remove(self.layers / "config")


def _metadata_toml(md: dict[str, Any]) -> str:
    from lifecycle.sdk import toml as sdk_toml

    return sdk_toml.dumps({"metadata": md} if md else {})


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def environ() -> dict[str, str]:
    """The lifecycle's environment for these builds (the test process's, minus CNB_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNB_")}
    env.setdefault("HOME", "/root")
    return env


def tree_digest(root: Path) -> str:
    """A digest of a tree's paths, file contents, modes and link targets (not mtimes)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p.relative_to(root)}\0{st.st_mode:o}\0".encode())
            if p.is_symlink():
                h.update(os.readlink(p).encode())
            elif p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def launched(ws: Workspace, process: str = "web") -> Iterator[int]:
    """Start the built app through our launcher on a free port; yield the port."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ws.root),
           "LANG": "C.UTF-8", "PORT": str(port), "CNB_PLATFORM_API": "0.15",
           "CNB_LAYERS_DIR": str(ws.layers), "CNB_APP_DIR": str(ws.app),
           "CNB_PROCESS_TYPE": process, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "lifecycle.launch"], env=env,
                            cwd=str(ws.app), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def http_get(port: int, deadline_s: float = 30.0) -> str:
    """GET / on 127.0.0.1:port, retrying while the server starts."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                body: bytes = r.read()
                return body.decode()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)
