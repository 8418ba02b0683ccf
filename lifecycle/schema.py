"""Validate the spec's TOML/JSON files against the JSON Schemas in ``spec/schemas/``.

Each schema is ``spec/schemas/<name>.schema.json`` (shipped in the package as
``lifecycle/schemas``). An invalid document raises the caller's error class with the file and the
offending key path in the message, e.g. ``group.toml: group[0].id: 'id' is a required property``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from importlib import resources
from typing import Any

from lifecycle.errors import FileFormatError, LifecycleError


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    ref = resources.files("lifecycle") / "schemas" / f"{name}.schema.json"
    data: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return data


@functools.cache
def _validator(name: str) -> Any:
    """The validator of schema ``name``. The schemas are ours and static, so they are checked
    against their meta-schema by the test suite (``tests/unit/core/test_schemas_valid.py``),
    not here: ``check_schema`` costs ~17 ms per schema, in every process."""
    import jsonschema

    schema = _schema(name)
    return jsonschema.validators.validator_for(schema)(schema)


def validate(data: Mapping[str, Any], name: str, source: str | os.PathLike[str], *,
             error: type[LifecycleError] = FileFormatError) -> None:
    """Raise ``error`` naming ``source`` and the key path if ``data`` fails schema ``name``."""
    validator = _validator(name)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = _path(first.absolute_path)
        raise error(f"{os.fspath(source)}: {where + ': ' if where else ''}{first.message}")


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out
