"""``project-metadata.toml``: where the app source came from (Platform API 0.15, platform.md
"project-metadata.toml"; cnb-digest §3.12, §4.3).

The exporter reads it (``-project-metadata``, default ``<layers>/project-metadata.toml``) and
writes its JSON form as the ``io.buildpacks.project.metadata`` label. The file is optional: a
missing file gives the empty value, whose label is ``{}``.
"""

from __future__ import annotations

import os

from lifecycle import tomlfile
from lifecycle.errors import FileFormatError, LifecycleError
from lifecycle.platform.labels_build import ProjectMetadata

PathLike = str | os.PathLike[str]


def load(path: PathLike, *, missing_ok: bool = True,
         error: type[LifecycleError] = FileFormatError) -> ProjectMetadata:
    """Read and validate project-metadata.toml; a missing file is empty when ``missing_ok``."""
    data = tomlfile.load(path, missing_ok=missing_ok, error=error)
    return ProjectMetadata.from_dict(data, source=os.fspath(path), error=error)


def dump(path: PathLike, metadata: ProjectMetadata) -> None:
    """Write project-metadata.toml atomically (platforms and tests use this)."""
    tomlfile.dump(path, metadata.to_dict())
