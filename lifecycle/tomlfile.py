"""Read and write the spec's TOML files: ``tomllib`` to read, ``tomli-w`` to write, atomically.

Errors name the file (and for schema failures, the key): FileFormatError, or the class the
caller passes so a phase keeps its own exit code.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lifecycle.errors import FileFormatError, LifecycleError
from lifecycle.fsutil import atomic_write


def load(path: str | os.PathLike[str], *, missing_ok: bool = False,
         error: type[LifecycleError] = FileFormatError) -> dict[str, Any]:
    """Parse a TOML file. A missing file gives ``{}`` when ``missing_ok``, else ``error``."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise error(f"{p}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{p}: invalid TOML: {e}") from e
    except OSError as e:
        raise error(f"{p}: cannot read: {e.strerror}") from e


def dump(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write ``data`` as TOML to ``path`` atomically (temp file + rename)."""
    import tomli_w  # not needed by readers (the launcher reads only)

    atomic_write(path, tomli_w.dumps(_clean(data)).encode())


def _clean(value: Any) -> Any:
    """Drop ``None`` values (TOML has no null) and turn tuples into lists, recursively."""
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value if v is not None]
    return value
