"""Fixtures for registry unit tests: ``fake_registry``, a scripted in-process HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_registry_server import FakeRegistry, serve


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    """A FakeRegistry on 127.0.0.1 (see fake_registry_server.py)."""
    with serve() as fake:
        yield fake
