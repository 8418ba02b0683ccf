"""Writing a layer's environment files (`buildpack.md` "Provided by the Buildpacks").

A layer's ``env/`` applies at build (for ``build = true`` layers) and at launch, ``env.build/``
at build only, ``env.launch/`` at launch only and ``env.launch/<process>/`` when that process
is launched. The file name is the variable name; its suffix picks the rule:
``.override`` (also no suffix), ``.default`` (only when unset or empty), ``.append`` /
``.prepend`` (joined with the contents of ``<NAME>.delim`` in the same directory, none if
absent). Contents are used verbatim: no shell evaluation, no trimming, so no newline is added.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.fileio import atomic_write

_NAME = re.compile(r"^[^./=\x00]+$")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise SdkError(f"invalid environment variable name {name!r} "
                       f"(no '.', '/', '=' and not empty)")


class EnvDir:
    """One env-file directory of a layer (created on first write)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"EnvDir({str(self.path)!r})"

    def _write(self, name: str, suffix: str, value: str) -> None:
        _check_name(name)
        if not isinstance(value, str):
            raise SdkError(f"env {name}: value must be a string, got {type(value).__name__}")
        atomic_write(self.path / f"{name}.{suffix}", value.encode("utf-8"))

    def override(self, name: str, value: str) -> None:
        """``NAME.override``: the variable is ``value``."""
        self._write(name, "override", value)

    def default(self, name: str, value: str) -> None:
        """``NAME.default``: the variable is ``value`` unless already set (non-empty)."""
        self._write(name, "default", value)

    def _join(self, name: str, suffix: str, value: str, delim: str | None) -> None:
        if delim is not None:
            existing = self.read(f"{name}.delim")
            if existing is not None and existing != delim:
                raise SdkError(f"{self.path}: {name} already uses delimiter {existing!r}, "
                               f"not {delim!r} (one delimiter per variable and directory)")
            self._write(name, "delim", delim)
        self._write(name, suffix, value)

    def append(self, name: str, value: str, delim: str | None = None) -> None:
        """``NAME.append`` (+ ``NAME.delim``): ``existing + delim + value``."""
        self._join(name, "append", value, delim)

    def prepend(self, name: str, value: str, delim: str | None = None) -> None:
        """``NAME.prepend`` (+ ``NAME.delim``): ``value + delim + existing``."""
        self._join(name, "prepend", value, delim)

    def prepend_path(self, name: str, path: str | os.PathLike[str]) -> None:
        """Prepend a directory to a path list (``:``-separated), e.g. ``PATH``."""
        self.prepend(name, os.fspath(path), os.pathsep)

    def append_path(self, name: str, path: str | os.PathLike[str]) -> None:
        """Append a directory to a path list (``:``-separated)."""
        self.append(name, os.fspath(path), os.pathsep)

    def read(self, filename: str) -> str | None:
        """The contents of ``<dir>/<filename>``, or None."""
        try:
            return (self.path / filename).read_text("utf-8")
        except FileNotFoundError:
            return None

    def files(self) -> dict[str, str]:
        """Every env file of this directory (file name -> contents), sorted by name."""
        if not self.path.is_dir():
            return {}
        return {p.name: p.read_text("utf-8") for p in sorted(self.path.iterdir()) if p.is_file()}
