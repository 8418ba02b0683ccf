"""``project.toml``, the project descriptor: schema 0.2 and the older 0.1 form as one value.

buildpacks/spec ``extensions/project-descriptor.md`` (schema 0.2) and its first version (0.1:
``[project]``, ``[build]``, ``[metadata]``); cnb-digest §7.5. A platform reads it, never the
lifecycle. pack's reading (``pkg/project``) is followed where the spec is silent:

- a file with no ``_.schema-version`` is the 0.1 form; but a file that has a ``[_]`` table or
  ``[io.buildpacks]`` and no schema version is refused (pack would silently ignore its
  include/exclude and buildpacks);
- ``[[io.buildpacks.build.env]]`` wins over the deprecated ``[[io.buildpacks.env.build]]``;
  a later entry with the same name wins;
- ``include`` and ``exclude`` both present (even empty) is an error; a buildpack needs an
  ``id`` or a ``uri``, not both ``uri`` and ``version``; an inline ``script`` needs an ``id``
  and no ``uri`` (a ``version`` names the inline buildpack's version, as in pack).

The document is validated by ``spec/schemas/project-descriptor.schema.json`` first; every
error is a UsageError (exit 3) naming the file and the key. A missing ``project.toml`` in the
app directory is the empty descriptor.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import schema, tomlfile
from lifecycle.errors import UsageError

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
FILENAME = "project.toml"
SCHEMA_VERSIONS = ("0.1", "0.2")
DEFAULT_SHELL = "/bin/sh"


@dataclass(frozen=True, slots=True)
class InlineScript:
    """``[io.buildpacks.group.script]``: the build script of an inline buildpack."""

    api: str
    inline: str
    shell: str = DEFAULT_SHELL


@dataclass(frozen=True, slots=True)
class BuildpackRef:
    """One entry of ``[[io.buildpacks.group]]`` (or pre/post, or 0.1 ``[[build.buildpacks]]``)."""

    id: str = ""
    version: str = ""
    uri: str = ""
    script: InlineScript | None = None

    @property
    def is_inline(self) -> bool:
        """True when the entry defines an inline buildpack (see ``lifecycle.project.inline``)."""
        return self.script is not None

    @property
    def locator(self) -> str:
        """pack's locator string: the ``uri``, else ``id@version``, else ``id``."""
        if self.uri:
            return self.uri
        return f"{self.id}@{self.version}" if self.version else self.id


@dataclass(frozen=True, slots=True)
class License:
    """One ``[[_.licenses]]`` entry; at least one of ``type`` and ``uri`` is set."""

    type: str = ""
    uri: str = ""


@dataclass(frozen=True, slots=True)
class ProjectDescriptor:
    """A parsed project descriptor. The default value is "no project.toml"."""

    path: Path | None = None
    schema_version: str = ""
    id: str = ""
    name: str = ""
    version: str = ""
    authors: tuple[str, ...] = ()
    documentation_url: str = ""
    source_url: str = ""
    licenses: tuple[License, ...] = ()
    builder: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    group: tuple[BuildpackRef, ...] = ()
    pre_group: tuple[BuildpackRef, ...] = ()
    post_group: tuple[BuildpackRef, ...] = ()
    build_env: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path | None:
        """The directory relative ``uri`` values are resolved against (the file's directory)."""
        return None if self.path is None else self.path.parent


def _fail(source: str, key: str, message: str) -> UsageError:
    return UsageError(f"{source}: {key}: {message}")


def _strings(value: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(value or ())


def _buildpack(entry: Mapping[str, Any], source: str, key: str) -> BuildpackRef:
    script = entry.get("script")
    ref = BuildpackRef(
        id=entry.get("id", ""), version=entry.get("version", ""), uri=entry.get("uri", ""),
        script=None if script is None else InlineScript(
            api=script["api"], inline=script["inline"], shell=script.get("shell") or DEFAULT_SHELL),
    )
    if ref.script is not None:
        if not ref.id:
            raise _fail(source, key, "an inline buildpack (script) needs an id")
        if ref.uri:
            raise _fail(source, key, "cannot have both uri and script")
    elif not ref.id and not ref.uri:
        raise _fail(source, key, "a buildpack needs an id or a uri")
    if ref.uri and ref.version:
        raise _fail(source, key, "cannot have both uri and version")
    return ref


def _group(entries: Sequence[Mapping[str, Any]] | None, source: str,
           key: str) -> tuple[BuildpackRef, ...]:
    return tuple(_buildpack(e, source, f"{key}[{i}]") for i, e in enumerate(entries or ()))


def _env(entries: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in entries or ()}


def _licenses(entries: Sequence[Mapping[str, Any]] | None, source: str,
              key: str) -> tuple[License, ...]:
    out = []
    for i, e in enumerate(entries or ()):
        lic = License(type=e.get("type", ""), uri=e.get("uri", ""))
        if not lic.type and not lic.uri:
            raise _fail(source, f"{key}[{i}]", "a license needs a type or a uri")
        out.append(lic)
    return tuple(out)


def _include_exclude(table: Mapping[str, Any], source: str,
                     key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if "include" in table and "exclude" in table:
        raise _fail(source, key, "include and exclude cannot both be set (choose one)")
    return _strings(table.get("include")), _strings(table.get("exclude"))


def _schema_version(data: Mapping[str, Any], source: str) -> str:
    project = data.get("_")
    version = project.get("schema-version") if isinstance(project, Mapping) else None
    io = data.get("io")
    if version is None:
        if project is not None or (isinstance(io, Mapping) and "buildpacks" in io):
            raise _fail(source, "_.schema-version",
                        'is required with [_] or [io.buildpacks] (add schema-version = "0.2")')
        return "0.1"
    if not isinstance(version, str):
        raise _fail(source, "_.schema-version", f'must be a string such as "0.2", not {version!r}')
    if version not in SCHEMA_VERSIONS:
        raise _fail(source, "_.schema-version",
                    f"unsupported version {version!r} (supported: {', '.join(SCHEMA_VERSIONS)})")
    return version


def _v02(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    proj = data.get("_") or {}
    bps = (data.get("io") or {}).get("buildpacks") or {}
    include, exclude = _include_exclude(bps, source, "io.buildpacks")
    env_entries = (bps.get("build") or {}).get("env")
    old_entries = (bps.get("env") or {}).get("build")
    if old_entries is not None:
        if env_entries is None:
            log.warning("%s: [[io.buildpacks.env.build]] is deprecated; "
                        "use [[io.buildpacks.build.env]]", source)
            env_entries = old_entries
        else:
            log.warning("%s: [[io.buildpacks.env.build]] is ignored: "
                        "[[io.buildpacks.build.env]] is set", source)
    return dict(
        id=proj.get("id", ""), name=proj.get("name", ""), version=proj.get("version", ""),
        authors=_strings(proj.get("authors")),
        documentation_url=proj.get("documentation-url", ""),
        source_url=proj.get("source-url", ""),
        licenses=_licenses(proj.get("licenses"), source, "_.licenses"),
        builder=bps.get("builder", ""), include=include, exclude=exclude,
        group=_group(bps.get("group"), source, "io.buildpacks.group"),
        pre_group=_group((bps.get("pre") or {}).get("group"), source, "io.buildpacks.pre.group"),
        post_group=_group((bps.get("post") or {}).get("group"), source,
                          "io.buildpacks.post.group"),
        build_env=_env(env_entries), metadata=dict(proj.get("metadata") or {}),
    )


def _v01(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    proj = data.get("project") or {}
    build = data.get("build") or {}
    if "buildpacks" in (data.get("io") or {}):
        log.warning("%s: [io.buildpacks] is ignored in schema version 0.1 "
                    '(set [_] schema-version = "0.2")', source)
    include, exclude = _include_exclude(build, source, "build")
    return dict(
        id=proj.get("id", ""), name=proj.get("name", ""), version=proj.get("version", ""),
        authors=_strings(proj.get("authors")),
        documentation_url=proj.get("documentation-url", ""),
        source_url=proj.get("source-url", ""),
        licenses=_licenses(proj.get("licenses"), source, "project.licenses"),
        builder=build.get("builder", ""), include=include, exclude=exclude,
        group=_group(build.get("buildpacks"), source, "build.buildpacks"),
        build_env=_env(build.get("env")), metadata=dict(data.get("metadata") or {}),
    )


def parse(data: Mapping[str, Any], source: PathLike = FILENAME,
          path: Path | None = None) -> ProjectDescriptor:
    """Validate a decoded project.toml and build the value (no I/O)."""
    src = os.fspath(source)
    version = _schema_version(data, src)
    schema.validate(data, "project-descriptor", src, error=UsageError)
    fields = _v02(data, src) if version == "0.2" else _v01(data, src)
    return ProjectDescriptor(path=path, schema_version=version, **fields)


def load(path: PathLike, *, missing_ok: bool = False) -> ProjectDescriptor:
    """Read and validate ``path``; a missing file is the empty descriptor when ``missing_ok``."""
    p = Path(path)
    if missing_ok and not p.exists():
        return ProjectDescriptor()
    data = tomlfile.load(p, error=UsageError)
    return parse(data, p, path=p.absolute())


def for_app(app_dir: PathLike, descriptor: PathLike | None = None) -> ProjectDescriptor:
    """pack's lookup: ``descriptor`` if given (it must exist), else ``<app>/project.toml``
    if present, else the empty descriptor."""
    if descriptor is not None:
        if not Path(descriptor).is_file():
            raise UsageError(f"{os.fspath(descriptor)}: project descriptor not found")
        return load(descriptor)
    return load(Path(app_dir) / FILENAME, missing_ok=True)
