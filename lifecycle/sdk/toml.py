"""A tiny TOML writer (TOML 1.0) for the shapes the Buildpack API files use, and a TOML reader.

`buildpack.md` "Data Format": launch.toml, build.toml, store.toml, the Build Plan and Layer
Content Metadata are tables of strings, booleans, integers, floats, arrays, sub-tables and
arrays of tables. The standard library reads TOML (``tomllib``) but cannot write it, and the SDK
runs in build images with nothing but Python, so this module writes it:

- keys are bare when they may be (``A-Za-z0-9_-``), else quoted basic strings;
- strings are basic strings with every control character escaped;
- a list whose items are all tables becomes an array of tables (``[[a.b]]``), any other list
  an inline array (tables inside it become inline tables);
- a table's plain values come first, then its sub-tables, then its arrays of tables, so the
  output reads back (``tomllib``) as the same value. ``None`` and other types are refused.

Standard library only (``lifecycle.sdk`` imports nothing else from ``lifecycle``).
"""

from __future__ import annotations

import datetime
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.fileio import atomic_write

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def quote(text: str) -> str:
    """``text`` as a TOML basic string."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def key(name: str) -> str:
    """A TOML key: bare when possible."""
    if not isinstance(name, str):
        raise SdkError(f"TOML keys must be strings, got {name!r}")
    return name if _BARE_KEY.match(name) else quote(name)


def _is_table_array(value: Any) -> bool:
    return (isinstance(value, list | tuple) and len(value) > 0
            and all(isinstance(v, Mapping) for v in value))


def value(v: Any) -> str:
    """An inline TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, datetime.datetime | datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise SdkError(f"cannot write {type(v).__name__} value {v!r} as TOML")


def _table(path: Sequence[str], table: Mapping[str, Any], lines: list[str]) -> None:
    plain = [(k, v) for k, v in table.items()
             if not isinstance(v, Mapping) and not _is_table_array(v)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    arrays = [(k, v) for k, v in table.items() if _is_table_array(v)]
    for k, v in plain:
        lines.append(f"{key(k)} = {value(v)}")
    for k, v in tables:
        sub = [*path, k]
        if lines:
            lines.append("")
        lines.append("[" + ".".join(key(p) for p in sub) + "]")
        _table(sub, v, lines)
    for k, items in arrays:
        sub = [*path, k]
        for item in items:
            if lines:
                lines.append("")
            lines.append("[[" + ".".join(key(p) for p in sub) + "]]")
            _table(sub, item, lines)


def dumps(data: Mapping[str, Any]) -> str:
    """``data`` as a TOML document (ends with a newline unless empty)."""
    if not isinstance(data, Mapping):
        raise SdkError(f"a TOML document is a table, got {type(data).__name__}")
    lines: list[str] = []
    _table([], data, lines)
    return "\n".join(lines) + "\n" if lines else ""


def write(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as TOML to ``path`` atomically."""
    atomic_write(path, dumps(data).encode("utf-8"))


def read(path: str | Path, *, missing_ok: bool = True) -> dict[str, Any]:
    """Parse a TOML file; a missing file is ``{}`` when ``missing_ok``. SdkError names the file."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise SdkError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise SdkError(f"{path}: invalid TOML: {e}") from e
    except OSError as e:
        raise SdkError(f"{path}: cannot read: {e.strerror}") from e
