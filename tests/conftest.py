"""Suite-wide fixtures: phase programs and the CLI configure the ``lifecycle`` logger
(handlers, level, propagate=False); restore it after every test so caplog keeps working.

The whole run uses its own pypack home (local image store), never the user's: ``PYPACK_HOME``
is set to a fresh temp directory unless the caller set it (to reuse a store between runs)."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

# nor the user's pypack config (default builder, mirrors)
os.environ["PYPACK_CONFIG"] = os.path.join(tempfile.gettempdir(), "pypack-test-no-config.toml")

if not os.environ.get("PYPACK_HOME"):
    _HOME = tempfile.mkdtemp(prefix="pypack-test-home-")
    os.environ["PYPACK_HOME"] = _HOME
    atexit.register(shutil.rmtree, _HOME, ignore_errors=True)


_BASELINE = (list(logging.getLogger("lifecycle").handlers), logging.getLogger("lifecycle").level,
             logging.getLogger("lifecycle").propagate)


@pytest.fixture(autouse=True)
def _restore_lifecycle_logger() -> Iterator[None]:
    """Every test starts and ends with the logger as it was at import (module- or
    session-scoped fixtures that run the CLI in-process may have changed it before)."""
    _reset(logging.getLogger("lifecycle"))
    yield
    _reset(logging.getLogger("lifecycle"))


def _reset(logger: logging.Logger) -> None:
    logger.handlers[:] = list(_BASELINE[0])
    logger.setLevel(_BASELINE[1])
    logger.propagate = _BASELINE[2]
