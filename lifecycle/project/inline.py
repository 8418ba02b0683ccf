"""Inline buildpacks: ``[io.buildpacks.group.script]`` of project.toml written as a buildpack.

Project descriptor "io.buildpacks.group": the ``inline`` value is the build script of a
buildpack defined in the app's repository; ``api`` is its Buildpack API and ``shell`` (default
``/bin/sh``) runs it. As pack does (``pkg/client/build.go`` ``createInlineBuildpack``), the
buildpack is ``buildpack.toml`` (the entry's ``id``, its ``version`` or ``0.0.0``, the
``api``), ``bin/detect`` that passes, and ``bin/build`` = ``#!<shell>`` + the script. No
stacks or targets are declared: the lifecycle infers ``os = "linux"`` from ``bin/build``. The
script runs with the app directory as its working directory, like any ``bin/build``.
"""

from __future__ import annotations

import os
from pathlib import Path

from lifecycle import api, tomlfile
from lifecycle.buildpack.descriptor import escape_id
from lifecycle.errors import UsageError
from lifecycle.fsutil import atomic_write
from lifecycle.project.descriptor import BuildpackRef, InlineScript

DEFAULT_VERSION = "0.0.0"


def _script(ref: BuildpackRef) -> InlineScript:
    if ref.script is None:
        raise UsageError(f"buildpack {ref.locator!r} has no inline script")
    return ref.script


def buildpack_toml(ref: BuildpackRef) -> dict[str, object]:
    """The ``buildpack.toml`` document of an inline buildpack (pure)."""
    return {"api": _script(ref).api,
            "buildpack": {"id": ref.id, "version": ref.version or DEFAULT_VERSION}}


def scripts(ref: BuildpackRef) -> dict[str, str]:
    """``bin/detect`` and ``bin/build`` of an inline buildpack (pure)."""
    script = _script(ref)
    shell = script.shell
    body = script.inline if script.inline.endswith("\n") else script.inline + "\n"
    return {"detect": f"#!{shell}\n\nexit 0\n", "build": f"#!{shell}\n\n{body}"}


def materialize_inline(ref: BuildpackRef, dest_dir: str | os.PathLike[str]) -> Path:
    """Write the inline buildpack of ``ref`` into ``dest_dir`` (created; must be new or empty)
    and return it; :func:`install_inline` lays it out under ``<buildpacks>/<id>/<version>``.
    An API this lifecycle cannot run is refused here (BuildpackAPIError, exit 12)."""
    dest = Path(dest_dir)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest}: an inline buildpack needs a new or empty directory")
    doc = buildpack_toml(ref)
    api.check_buildpack_api(_script(ref).api, f"{ref.id} (inline, project.toml)")
    tomlfile.dump(dest / "buildpack.toml", doc)
    for name, text in scripts(ref).items():
        atomic_write(dest / "bin" / name, text.encode(), mode=0o755)
    return dest


def install_inline(ref: BuildpackRef, buildpacks_dir: str | os.PathLike[str]) -> Path:
    """Write the inline buildpack at ``<buildpacks_dir>/<escaped id>/<version>`` (the spec's
    buildpacks directory layout) and return that directory."""
    version = ref.version or DEFAULT_VERSION
    return materialize_inline(ref, Path(buildpacks_dir) / escape_id(ref.id) / version)
