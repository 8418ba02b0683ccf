"""One layer a buildpack contributes (`buildpack.md` "Layer Types", "Reusing Layers",
"Layer Content Metadata (TOML)").

``BuildContext.layer(name, launch=..., build=..., cache=...)`` returns a ``Layer``. Its
``metadata`` starts as what the restorer left in ``<layers>/<layer>.toml`` (restored files
never carry ``[types]``); ``reuse_if(metadata)`` keeps the restored layer when that metadata is
the same and the contents are usable, else resets it to an empty directory. The types are the
ones given to ``layer()``; the SDK writes ``<layer>.toml`` when the build function returns.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lifecycle.sdk import sbom, toml
from lifecycle.sdk.env import EnvDir
from lifecycle.sdk.errors import SdkError
from lifecycle.sdk.fileio import as_bytes, atomic_write, remove

FORBIDDEN_NAMES = frozenset({"build", "launch", "store"})
"""Layer names the spec forbids: they collide with the buildpack's data files."""

_PROCESS_TYPE = re.compile(r"^[A-Za-z0-9._-]+$")


def check_process_type(ptype: str) -> None:
    """Raise SdkError unless ``ptype`` is letters, digits, ``.``, ``_`` and ``-``."""
    if not isinstance(ptype, str) or not _PROCESS_TYPE.match(ptype):
        raise SdkError(f"invalid process type {ptype!r} (letters, digits, '.', '_', '-')")


def check_layer_name(name: str) -> None:
    """Raise SdkError for a name that is empty, a path, hidden, reserved or a data file."""
    if (not isinstance(name, str) or not name or "/" in name or name.startswith(".")
            or name in FORBIDDEN_NAMES or name == "sbom" or name.endswith(".ignore")):
        raise SdkError(f"invalid layer name {name!r} (not empty, no '/', not hidden, not "
                       f"{', '.join(sorted(FORBIDDEN_NAMES))}, 'sbom' or '*.ignore')")


def normalize(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` as it reads back from TOML (tuples become lists, ...). SdkError if it
    cannot be written as TOML."""
    if not isinstance(metadata, Mapping):
        raise SdkError(f"layer metadata must be a mapping, got {type(metadata).__name__}")
    out: dict[str, Any] = tomllib.loads(toml.dumps({"m": dict(metadata)})).get("m", {})
    return out


class Layer:
    """A layer directory ``<layers>/<name>/`` and its metadata, owned by one build."""

    def __init__(self, layers_dir: Path, name: str, *, launch: bool = False,
                 build: bool = False, cache: bool = False) -> None:
        check_layer_name(name)
        self.name = name
        self.path = layers_dir / name
        self.toml_path = layers_dir / f"{name}.toml"
        self.launch, self.build, self.cache = launch, build, cache
        data = toml.read(self.toml_path)
        self.restored = self.toml_path.is_file()
        """True when ``<layer>.toml`` existed before this build (restored by the platform)."""
        restored = data.get("metadata", {})
        self.restored_metadata: dict[str, Any] = dict(restored) \
            if isinstance(restored, Mapping) else {}
        self.metadata: dict[str, Any] = dict(self.restored_metadata)
        """The metadata written to ``<layer>.toml`` at the end of the build."""
        self.removed = False
        self.env = EnvDir(self.path / "env")
        """``env/``: build (when ``build``) and launch."""
        self.build_env = EnvDir(self.path / "env.build")
        """``env.build/``: later buildpacks only."""
        self.launch_env = EnvDir(self.path / "env.launch")
        """``env.launch/``: the app only."""

    def __repr__(self) -> str:
        return (f"Layer({self.name!r}, launch={self.launch}, build={self.build}, "
                f"cache={self.cache})")

    @property
    def has_contents(self) -> bool:
        """True when the layer directory exists (restored from the cache, or written now)."""
        return self.path.is_dir()

    def process_env(self, process_type: str) -> EnvDir:
        """``env.launch/<process>/``: the app, when launched as that process type."""
        check_process_type(process_type)
        return EnvDir(self.path / "env.launch" / process_type)

    def reusable(self, metadata: Mapping[str, Any]) -> bool:
        """Whether the restored layer matches ``metadata`` and can be kept (no side effects).

        Cached or build layers need their restored contents; a launch-only layer is reused
        from the previous image with no directory at all.
        """
        if not self.restored or not (self.launch or self.build or self.cache):
            return False
        if normalize(self.restored_metadata) != normalize(metadata):
            return False
        return self.has_contents or not (self.cache or self.build)

    def reuse_if(self, metadata: Mapping[str, Any]) -> bool:
        """Keep the restored layer if ``reusable(metadata)`` (return True), else ``reset``
        it to an empty directory (return False). Either way ``metadata`` is recorded."""
        if self.reusable(metadata):
            self.metadata = normalize(metadata)
            return True
        self.reset(metadata)
        return False

    def reset(self, metadata: Mapping[str, Any] | None = None) -> None:
        """Remove the contents and SBOM files and create an empty directory with ``metadata``."""
        remove(self.path)
        for stale in self.path.parent.glob(f"{self.name}.sbom.*"):
            remove(stale)
        self.path.mkdir(parents=True)
        self.metadata = normalize(metadata or {})
        self.removed = False

    def remove(self) -> None:
        """Delete the layer: directory, ``<layer>.toml`` and SBOM files; nothing is written."""
        remove(self.path)
        remove(self.toml_path)
        for stale in self.path.parent.glob(f"{self.name}.sbom.*"):
            remove(stale)
        self.removed = True

    def _script(self, kind: str, name: str, content: str | bytes, process: str | None) -> Path:
        if not name or "/" in name:
            raise SdkError(f"invalid {kind} file name {name!r}")
        directory = self.path / kind
        if process is not None:
            check_process_type(process)
            directory = directory / process
        path = directory / name
        atomic_write(path, as_bytes(content), mode=0o755)
        return path

    def exec_d(self, name: str, content: str | bytes, process: str | None = None) -> Path:
        """Write an executable to ``exec.d/`` (or ``exec.d/<process>/``). At launch it runs
        before the app and writes ``NAME = "value"`` TOML lines to file descriptor 3."""
        return self._script("exec.d", name, content, process)

    def profile_d(self, name: str, content: str | bytes, process: str | None = None) -> Path:
        """Write a script to ``profile.d/`` (or ``profile.d/<process>/``); bash sources it
        before shell (non-direct) launches only."""
        return self._script("profile.d", name, content, process)

    def sbom(self, fmt: str, data: str | bytes | Mapping[str, Any]) -> Path:
        """Write ``<layers>/<layer>.sbom.<ext>`` (a mapping is written as JSON)."""
        return sbom.write(self.path.parent, self.name, fmt, data)

    def to_toml(self) -> dict[str, Any]:
        """The ``<layer>.toml`` document."""
        doc: dict[str, Any] = {"types": {"launch": self.launch, "build": self.build,
                                         "cache": self.cache}}
        metadata = normalize(self.metadata)
        if metadata:
            doc["metadata"] = metadata
        return doc

    def write_toml(self) -> None:
        """Write ``<layer>.toml`` (unless the layer was removed)."""
        if not self.removed:
            toml.write(self.toml_path, self.to_toml())

