"""The ``io.buildpacks.build.metadata`` and ``io.buildpacks.project.metadata`` labels as values.

Platform API 0.15, platform.md "Labels"; cnb-digest §4.3 and §4.5. JSON key names follow the
Go lifecycle (``platform/files/metadata.go``, ``launch/launch.go``, ``project_metadata.go``):
a process's buildpack is ``buildpackID``, its working directory ``working-dir``.
Decisions (cnb-digest §9): ``buildpacks[].api`` is written (spec; the Go lifecycle omits it);
a process ``exec-env`` is omitted when empty, which readers treat as ``["*"]`` (all environments);
the legacy ``bom`` key (Platform API < 0.9) is never written and ignored on read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.errors import FileFormatError
from lifecycle.platform import labels_codec as codec
from lifecycle.platform.labels import BUILD_METADATA, PROJECT_METADATA
from lifecycle.platform.labels_codec import ErrorType


@dataclass(frozen=True, slots=True)
class ProcessMetadata:
    """One process of the image. ``exec_env`` empty means all execution environments."""

    type: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()
    direct: bool = True
    working_dir: str | None = None
    buildpack_id: str = ""
    exec_env: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (Go key names)."""
        out: dict[str, Any] = {"type": self.type, "command": list(self.command),
                               "args": list(self.args), "direct": self.direct,
                               "buildpackID": self.buildpack_id}
        if self.working_dir:
            out["working-dir"] = self.working_dir
        if self.exec_env:
            out["exec-env"] = list(self.exec_env)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProcessMetadata:
        """Build from a schema-checked object; a string ``command`` is a one-element command."""
        command = d.get("command") or ()
        return cls(
            type=str(d["type"]),
            command=(command,) if isinstance(command, str) else tuple(command),
            args=codec.strings(d.get("args")), direct=bool(d.get("direct", True)),
            working_dir=d.get("working-dir") or None, buildpack_id=str(d.get("buildpackID", "")),
            exec_env=codec.strings(d.get("exec-env")),
        )


@dataclass(frozen=True, slots=True)
class BuildpackRef:
    """A buildpack (or extension) that took part in the build."""

    id: str
    version: str = ""
    homepage: str | None = None
    api: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; ``homepage`` and ``api`` omitted when unset."""
        out: dict[str, Any] = {"id": self.id, "version": self.version}
        if self.homepage:
            out["homepage"] = self.homepage
        if self.api:
            out["api"] = self.api
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BuildpackRef:
        """Build from a schema-checked object."""
        return cls(id=str(d["id"]), version=str(d.get("version", "")),
                   homepage=d.get("homepage") or None, api=d.get("api") or None)


@dataclass(frozen=True, slots=True)
class LauncherMetadata:
    """The launcher in the image: its version and the git source it was built from."""

    version: str = ""
    repository: str = ""
    commit: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"version", "source": {"git": {"repository", "commit"}}}`` (always all keys)."""
        return {"version": self.version,
                "source": {"git": {"repository": self.repository, "commit": self.commit}}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> LauncherMetadata:
        """Build from a schema-checked object (missing gives the empty value)."""
        d = d or {}
        git = (d.get("source") or {}).get("git") or {}
        return cls(version=str(d.get("version", "")), repository=str(git.get("repository", "")),
                   commit=str(git.get("commit", "")))


@dataclass(frozen=True, slots=True)
class BuildMetadata:
    """The ``io.buildpacks.build.metadata`` label (cnb-digest §4.5)."""

    processes: tuple[ProcessMetadata, ...] = ()
    buildpacks: tuple[BuildpackRef, ...] = ()
    extensions: tuple[BuildpackRef, ...] = ()
    launcher: LauncherMetadata = LauncherMetadata()
    default_process_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; ``extensions`` and the default type omitted when empty (as Go)."""
        out: dict[str, Any] = {
            "processes": [p.to_dict() for p in self.processes],
            "buildpacks": [b.to_dict() for b in self.buildpacks],
            "launcher": self.launcher.to_dict(),
        }
        if self.extensions:
            out["extensions"] = [e.to_dict() for e in self.extensions]
        if self.default_process_type:
            out["buildpack-default-process-type"] = self.default_process_type
        return out

    def to_json(self) -> str:
        """The label value: deterministic JSON (sorted keys)."""
        return codec.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = BUILD_METADATA,
                  error: ErrorType = FileFormatError) -> BuildMetadata:
        """Parse the label value; ``error`` names ``source`` (image and label) and the key."""
        d = codec.loads(text, "build-metadata", source, error=error)
        return cls(
            processes=tuple(ProcessMetadata.from_dict(p) for p in d.get("processes") or ()),
            buildpacks=tuple(BuildpackRef.from_dict(b) for b in d.get("buildpacks") or ()),
            extensions=tuple(BuildpackRef.from_dict(e) for e in d.get("extensions") or ()),
            launcher=LauncherMetadata.from_dict(d.get("launcher")),
            default_process_type=d.get("buildpack-default-process-type") or None,
        )


@dataclass(frozen=True, slots=True)
class ProjectSource:
    """``[source]`` of project-metadata.toml: every value optional."""

    type: str | None = None
    version: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The object with empty values omitted (Go ``omitempty``)."""
        out: dict[str, Any] = {}
        if self.type:
            out["type"] = self.type
        if self.version:
            out["version"] = codec.table(self.version)
        if self.metadata:
            out["metadata"] = codec.table(self.metadata)
        return out


@dataclass(frozen=True, slots=True)
class ProjectMetadata:
    """project-metadata.toml and the ``io.buildpacks.project.metadata`` label: ``{}`` when empty."""

    source: ProjectSource | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"source": {...}}``, or ``{}`` without a source (as the Go lifecycle writes)."""
        return {} if self.source is None else {"source": self.source.to_dict()}

    def to_json(self) -> str:
        """The label value: deterministic JSON (sorted keys)."""
        return codec.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = PROJECT_METADATA,
                  error: ErrorType = FileFormatError) -> ProjectMetadata:
        """Validate (TOML and JSON share key names) and build the value."""
        d = codec.checked(d, "project-metadata", source, error=error)
        src = d.get("source")
        if src is None:
            return cls()
        return cls(ProjectSource(type=src.get("type") or None,
                                 version=codec.table(src.get("version")),
                                 metadata=codec.table(src.get("metadata"))))

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = PROJECT_METADATA,
                  error: ErrorType = FileFormatError) -> ProjectMetadata:
        """Parse the label value."""
        return cls.from_dict(codec.loads(text, "project-metadata", source, error=error),
                             source=source, error=error)
