"""Files pypack ships besides code: the bundled buildpacks and the stack definitions.

In a checkout ``lifecycle/data/buildpacks`` and ``lifecycle/data/stacks`` are symlinks to the
repository's ``buildpacks/`` and ``stacks/``; in an installed wheel they are real directories
(package data). Either way :func:`data_dir` finds them.
"""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import LifecycleError

_DATA = Path(__file__).resolve().parent / "data"


def data_dir(name: str) -> Path:
    """``buildpacks`` or ``stacks``: the shipped directory; LifecycleError if missing."""
    path = _DATA / name
    if not path.is_dir():
        raise LifecycleError(f"pypack installation is incomplete: {path} is missing "
                             "(reinstall pypack)")
    return path


def default_builder_config() -> Path:
    """The default builder's builder.toml."""
    return data_dir("stacks") / "default" / "builder.toml"
