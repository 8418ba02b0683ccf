"""Shared JSON helpers for the image labels and the cache metadata (cnb-digest §4.3-4.5, §4.8).

Labels are written deterministically (sorted keys, no insignificant whitespace) so the same
build gives the same image config digest. Reading parses JSON, requires an object, and validates
it against ``spec/schemas/<name>.schema.json``; errors name the source (image and label, or file)
and the offending key.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from lifecycle import schema
from lifecycle.errors import FileFormatError, LifecycleError

ErrorType = type[LifecycleError]


def dumps(value: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, compact separators, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def loads(text: str | bytes, name: str, source: str, *,
          error: ErrorType = FileFormatError) -> dict[str, Any]:
    """Parse ``text`` as a JSON object valid against schema ``name``; ``error`` names ``source``."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise error(f"{source}: invalid JSON: {e}") from e
    return checked(data, name, source, error=error)


def checked(data: Any, name: str, source: str, *,
            error: ErrorType = FileFormatError) -> dict[str, Any]:
    """Return ``data`` if it is an object valid against schema ``name``, else raise ``error``."""
    if not isinstance(data, dict):
        raise error(f"{source}: want a JSON object, got {type(data).__name__}")
    schema.validate(data, name, source, error=error)
    return data


def table(value: Any) -> dict[str, Any]:
    """A deep, plain copy of an arbitrary table (``None`` gives ``{}``)."""
    if value is None:
        return {}
    return copy.deepcopy(dict(value))


def strings(value: Sequence[str] | None) -> tuple[str, ...]:
    """A tuple of strings from a JSON/TOML array that may be missing or null."""
    return tuple(value or ())


def sha_of(value: Mapping[str, Any] | None) -> str:
    """The ``sha`` of a ``{"sha": ...}`` object that may be missing or null."""
    return str((value or {}).get("sha", ""))
