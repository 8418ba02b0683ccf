"""Fixtures for e2e tests: the real ``docker-registry`` in three auth modes.

``registry`` (anonymous), ``registry_basic`` (htpasswd) and ``registry_token`` (Bearer tokens from
tests/e2e/tokenserver.py) are session-scoped ``RegistryServer`` objects (see registry_fixtures.py):
``.host``, ``.url``, ``.username``/``.password``/``.creds``, ``.keychain()``, ``.skopeo_args()``,
``.log_path``, ``.access_log(since)``, ``.blob_uploads(since)``. Use a fresh repository name per
test. ``any_registry`` is parametrised over the three. Tests skip when docker-registry is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from registry_fixtures import RegistryServer, registry_available, run_registry


def _start(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[RegistryServer]:
    if not registry_available():
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    if mode == "basic" and shutil.which("htpasswd") is None:
        pytest.skip("htpasswd is not installed (apt-get install apache2-utils)")
    if mode == "token":
        pytest.importorskip("cryptography")
    with run_registry(tmp_path_factory.mktemp(f"registry-{mode}"), mode) as server:
        yield server


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """An anonymous registry on 127.0.0.1 (plain HTTP)."""
    yield from _start(tmp_path_factory, "anonymous")


@pytest.fixture(scope="session")
def registry_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry with htpasswd Basic auth; ``.username``/``.password`` are valid."""
    yield from _start(tmp_path_factory, "basic")


@pytest.fixture(scope="session")
def registry_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry with Bearer token auth; ``.token_server`` is the TokenServer."""
    yield from _start(tmp_path_factory, "token")


@pytest.fixture(params=["anonymous", "basic", "token"])
def any_registry(request: pytest.FixtureRequest) -> RegistryServer:
    """Each of the three registries in turn."""
    name = {"anonymous": "registry", "basic": "registry_basic", "token": "registry_token"}
    server: RegistryServer = request.getfixturevalue(name[request.param])
    return server


@pytest.fixture(scope="session")
def default_stack() -> str:
    """The default stack's images in this run's local store (``pypack stack build default``:
    a few minutes the first time in a fresh PYPACK_HOME, instant after). Returns PYPACK_HOME."""
    import os
    import subprocess
    import sys

    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap)")
    res = subprocess.run([sys.executable, "-m", "lifecycle.cli.main", "stack", "build",
                          "default"], capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stdout + res.stderr
    return os.environ["PYPACK_HOME"]
