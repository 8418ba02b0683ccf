"""User-provided environment: ``<platform>/env/<NAME>`` files (Platform API 0.15, platform.md
"User-Provided Variables"; buildpack.md "Provided by the Platform").

Each regular file defines one variable: the file name is the key, the contents the value
(unchanged). How the values are applied (prepend for path variables, override otherwise,
nothing when ``clear-env``) is ``lifecycle.buildpack.procenv``'s job.
"""

from __future__ import annotations

import os
from pathlib import Path

from lifecycle.errors import LifecycleError


def read_platform_env(platform_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The variables defined by the files of ``<platform>/env/`` (none if it is missing)."""
    env_dir = Path(platform_dir) / "env"
    out: dict[str, str] = {}
    try:
        entries = sorted(env_dir.iterdir())
    except FileNotFoundError:
        return out
    except OSError as e:
        raise LifecycleError(f"{env_dir}: cannot list: {e.strerror}") from e
    for entry in entries:
        if not entry.is_file():
            continue
        try:
            out[entry.name] = entry.read_bytes().decode("utf-8", "surrogateescape")
        except OSError as e:
            raise LifecycleError(f"{entry}: cannot read: {e.strerror}") from e
    return out
