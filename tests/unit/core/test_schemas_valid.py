"""Every JSON Schema we ship is itself valid (checked here once, not at run time)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

SCHEMAS = sorted((Path(__file__).resolve().parents[3] / "spec" / "schemas").glob("*.json"))


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid(path: Path) -> None:
    schema = json.loads(path.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_there_are_schemas() -> None:
    assert len(SCHEMAS) > 20
