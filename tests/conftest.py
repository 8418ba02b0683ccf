"""Suite-wide fixtures: phase programs and the CLI configure the ``lifecycle`` logger
(handlers, level, propagate=False); restore it after every test so caplog keeps working."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_lifecycle_logger() -> Iterator[None]:
    logger = logging.getLogger("lifecycle")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
