"""End to end, the main job: the example apps built with ``--builder default`` (the default
stack made from Debian packages, the bundled buildpacks, buildpacks in the sandbox), answering
HTTP when run by ``pypack run`` and, after ``--publish``, by podman; an unchanged rebuild gives
the same digest without reinstalling dependencies or uploading anything; a code change reuses
the dependency layer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from podman_rig import Podman, podman  # noqa: F401  (fixture)
from registry_fixtures import RegistryServer

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REPO = Path(__file__).resolve().parents[2]


def pypack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lifecycle.cli.main", *args],
                          capture_output=True, text=True, timeout=900, cwd=REPO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@contextmanager
def running(*cmd: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, cwd=REPO)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def digest_of(res: subprocess.CompletedProcess[str]) -> str:
    out = res.stdout + res.stderr
    line = next(ln for ln in out.splitlines() if ln.startswith("Successfully built image"))
    return line.split("(")[1].split(")")[0]


def serve_and_get(image: str) -> str:
    port = free_port()
    with running(sys.executable, "-m", "lifecycle.cli.main", "run", image,
                 "--env", f"PORT={port}"):
        return http_get(port)


@pytest.fixture
def python_app(tmp_path: Path) -> Path:
    app = tmp_path / "python-web"
    shutil.copytree(EXAMPLES / "python-web", app)
    return app


def test_python_web_build_run_rebuild(default_stack: str, python_app: Path) -> None:
    res = pypack("build", "py-web", "--path", str(python_app))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Hello from pypack python-web!" in serve_and_get("py-web")

    again = pypack("build", "py-web", "--path", str(python_app))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Reusing the venv layer" in again.stdout, again.stdout
    assert "pip" not in again.stdout.split("Reusing the venv layer")[1].split("\n")[0]
    assert digest_of(again) == digest_of(res)

    with (python_app / "app.py").open("a") as f:
        f.write("# a code change\n")
    changed = pypack("build", "py-web", "--path", str(python_app))
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "Reusing the venv layer" in changed.stdout
    assert digest_of(changed) != digest_of(res)
    assert "reused   pypack/python:venv" in changed.stderr


@pytest.mark.parametrize("example,text", [("nodejs-web", "Hello from pypack nodejs-web!"),
                                          ("procfile-app", "Hello from pypack procfile-app!")])
def test_other_examples_build_and_run(default_stack: str, example: str, text: str) -> None:
    name = f"ex-{example}"
    res = pypack("build", name, "--path", str(EXAMPLES / example))
    assert res.returncode == 0, res.stdout + res.stderr
    assert text in serve_and_get(name)


@pytest.mark.parametrize("example,text", [
    ("python-web", "Hello from pypack python-web!"),
    ("nodejs-web", "Hello from pypack nodejs-web!"),
    ("procfile-app", "Hello from pypack procfile-app!")])
def test_publish_podman_and_rebuild_uploads_nothing(default_stack: str, tmp_path: Path,
                                                    registry: RegistryServer,
                                                    podman: Podman,  # noqa: F811
                                                    example: str, text: str) -> None:
    app = tmp_path / example
    shutil.copytree(EXAMPLES / example, app)
    image = f"{registry.host}/examples/{example}:latest"
    args = ("build", image, "--path", str(app), "--publish")
    res = pypack(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    port = free_port()
    started = subprocess.run(
        ["podman", "run", "-d", "--rm", "--pull=always", "--tls-verify=false",
         "--network=host", "-e", f"PORT={port}", image],
        env=podman.env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        assert text in http_get(port)
    finally:
        subprocess.run(["podman", "rm", "-f", cid], env=podman.env, capture_output=True,
                       timeout=120, check=False)
    mark = registry.log_mark()
    again = pypack(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert registry.blob_uploads(mark) == 0
    assert digest_of(again) == digest_of(res)


def test_default_builder_is_reused(default_stack: str) -> None:
    """A second use of ``--builder default`` finds the builder and its unpacked rootfs."""
    home = Path(os.environ["PYPACK_HOME"])
    assert any((home / "rootfs").iterdir())
    res = pypack("builder", "inspect", "pypack/default-builder")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "pypack/python" in res.stdout


def test_default_builder_is_remade_only_when_its_inputs_change(
        default_stack: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pypack build`` does not remake the default builder while its key holds; a stale key
    remakes it, to the same digest (reproducible); its rootfs has byte-compiled buildpacks."""
    import json

    from lifecycle.builder import create, default
    from lifecycle.client import Context
    from lifecycle.sandbox.rootfs import unpack

    ctx = Context(store_root=default_stack)
    first = default.ensure(ctx)
    key_file = Path(default_stack) / "builders" / default.KEY_FILE
    recorded = json.loads(key_file.read_text())
    assert recorded["digest"] == str(first.digest())
    made: list[str] = []
    real = create.create_builder

    def counting(opts: create.CreateOptions, c: Context) -> create.CreateResult:
        made.append(opts.name)
        return real(opts, c)

    monkeypatch.setattr(create, "create_builder", counting)
    assert default.ensure(ctx).digest() == first.digest()
    assert made == []
    key_file.write_text(json.dumps({**recorded, "key": "stale"}))
    assert default.ensure(ctx).digest() == first.digest()
    assert made == [default.IMAGE]
    sdk = unpack(first, ctx.store) / "cnb/buildpacks/pypack_python/0.1.0/lib/lifecycle/sdk"
    assert list((sdk / "__pycache__").glob("main.cpython-*.pyc"))
